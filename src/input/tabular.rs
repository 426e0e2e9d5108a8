//! Tables with one row per run: a results CSV, a W&B runs-table CSV export, or JSONL.
//!
//! Both readers give the same [`Table`]: the column names, and for each row the line it starts on
//! and its cells as [`Value`]s. They only read and classify; which column is an axis, a memory
//! value or a status is the caller's business, so that one set of rules serves every format.
//!
//! The formats' own rules are in [`delimited`] (CSV: results tables, W&B exports, `;` and tab
//! separated ones) and [`jsonl`].
//!
//! Cells ([`Value::from_cell`]): trimmed; empty, `null` (any case) and JSON null are
//! [`Value::Empty`]; a decimal literal that is a finite `f64` (and, if an integer, exactly one:
//! not `9007199254740993`) is a number; all else is text, including `1,234`, `15 GiB`, `inf` and
//! `nan`, so that the caller can say what it found. A JSON string is classified like a CSV cell
//! (Python loggers write `"tp": "8"`); JSON booleans, and integers an `f64` would change, are text.
//!
//! Limits ([`Limits`]): past them the reader stops with an error naming the line, never a panic or
//! an unbounded allocation. A row is read whole only once it is known to fit [`MAX_ROW_BYTES`], so
//! binary garbage or a quote never closed costs at most that much memory.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;

mod delimited;
mod jsonl;

pub(crate) use delimited::read_csv;
pub(crate) use jsonl::read_jsonl;

/// Most rows: a sweep has tens to thousands of runs.
pub(crate) const MAX_ROWS: usize = 1_000_000;
/// Most columns: a W&B export of a wide config has a few hundred.
pub(crate) const MAX_COLUMNS: usize = 1024;
/// Longest cell (a W&B `Notes` field is the longest seen in practice).
pub(crate) const MAX_FIELD_BYTES: usize = 64 << 10;
/// Longest row (CSV record or JSONL line); bounds what is held before a row is judged.
pub(crate) const MAX_ROW_BYTES: usize = 1 << 20;
/// Skipped rows listed in [`Table::skipped`]; more are only counted.
pub(crate) const MAX_SKIPPED: usize = 1000;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const UTF16_BOMS: [&[u8]; 2] = [b"\xFF\xFE", b"\xFE\xFF"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) max_rows: usize,
    pub(crate) max_columns: usize,
    pub(crate) max_field_bytes: usize,
    pub(crate) max_row_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_rows: MAX_ROWS,
            max_columns: MAX_COLUMNS,
            max_field_bytes: MAX_FIELD_BYTES,
            max_row_bytes: MAX_ROW_BYTES,
        }
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// Always finite.
    Number(f64),
    /// Trimmed, never empty.
    Text(String),
    Empty,
}

impl Value {
    /// Classifies the text of a cell; see the module docs.
    pub(crate) fn from_cell(text: &str) -> Value {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("null") {
            return Value::Empty;
        }
        match parse_number(text) {
            // An integer an f64 would change (above 2^53) is kept as written:
            // as a config it stays exact, as a metric it is not a number.
            Some(number)
                if number.abs() >= crate::spec::F64_EXACT_INTEGERS
                    && crate::spec::exact_f64(text).is_none() =>
            {
                Value::Text(text.to_owned())
            }
            Some(number) => Value::Number(number),
            None => Value::Text(text.to_owned()),
        }
    }
}

/// A decimal literal (`-1`, `2.5`, `.5`, `5.`, `1e9`, `+3`) that is a finite `f64`. Rust's own
/// parser also takes `inf`, `NaN` and `infinity`, which a table means as text.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    is_decimal(text.as_bytes())
        .then(|| text.parse::<f64>().ok())
        .flatten()
        .filter(|number| number.is_finite())
}

fn is_decimal(text: &[u8]) -> bool {
    let digits = |from: usize| {
        text.get(from..).map_or(0, |rest| {
            rest.iter().take_while(|b| b.is_ascii_digit()).count()
        })
    };
    let mut at = usize::from(matches!(text.first(), Some(b'+' | b'-')));
    let whole = digits(at);
    at += whole;
    let mut fraction = 0;
    if text.get(at) == Some(&b'.') {
        fraction = digits(at + 1);
        at += 1 + fraction;
    }
    if whole + fraction == 0 {
        return false;
    }
    if matches!(text.get(at), Some(b'e' | b'E')) {
        at += 1 + usize::from(matches!(text.get(at + 1), Some(b'+' | b'-')));
        let exponent = digits(at);
        if exponent == 0 {
            return false;
        }
        at += exponent;
    }
    at == text.len()
}

/// A row's cells, each with its column's name.
pub(crate) type Fields = Vec<(Arc<str>, Value)>;

/// One run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// 1-based line where the row starts.
    pub(crate) line: usize,
    /// In column order. A CSV row has every column; a JSONL row only the keys its line has. The
    /// names are shared with [`Table::columns`], so a wide table stores each name once.
    pub(crate) fields: Fields,
}

impl Row {
    /// The cell of `column`; `None` when the row has no such column (a JSONL line without the
    /// key). Names are unique, so there is at most one.
    pub(crate) fn get(&self, column: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(name, _)| &**name == column)
            .map(|(_, value)| value)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Table {
    /// In file order: the header's names, trimmed (an unnamed CSV column's is empty), or every
    /// JSONL key in the order first seen.
    pub(crate) columns: Vec<Arc<str>>,
    pub(crate) rows: Vec<Row>,
    /// The first [`MAX_SKIPPED`] rows skipped, in file order.
    pub(crate) skipped: Vec<Skipped>,
    /// Rows skipped after those.
    pub(crate) skipped_unlisted: usize,
}

impl Table {
    fn skip(&mut self, line: usize, reason: SkipReason) {
        if self.skipped.len() < MAX_SKIPPED {
            self.skipped.push(Skipped { line, reason });
        } else {
            self.skipped_unlisted += 1;
        }
    }

    fn check_room(&self, line: usize, limits: &Limits) -> Result<(), TableError> {
        if self.rows.len() >= limits.max_rows {
            return Err(TableError::TooManyRows {
                line,
                limit: limits.max_rows,
            });
        }
        Ok(())
    }
}

/// A row left out of the table, for a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    pub(crate) line: usize,
    pub(crate) reason: SkipReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SkipReason {
    Ragged {
        fields: usize,
        header: usize,
    },
    NotUtf8,
    NulByte,
    /// `found` is "an array", "a string", ...
    NotAnObject {
        found: &'static str,
    },
    /// serde_json's message, with its position as a column of the line.
    InvalidJson {
        message: String,
    },
}

impl fmt::Display for Skipped {
    /// "line 4 has 3 fields, the header has 5".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.line;
        match &self.reason {
            SkipReason::Ragged { fields, header } => write!(
                f,
                "line {line} has {}, the header has {header}",
                count(*fields, "field")
            ),
            SkipReason::NotUtf8 => write!(f, "line {line} is not UTF-8 text"),
            SkipReason::NulByte => write!(f, "line {line} has a NUL byte"),
            SkipReason::NotAnObject { found } => {
                write!(f, "line {line} is {found}, not a JSON object")
            }
            SkipReason::InvalidJson { message } => {
                write!(f, "line {line} is not valid JSON: {message}")
            }
        }
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A byte count as people write it: `64 KiB`, `1 MiB`, `100 bytes`.
struct Size(usize);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            n if n >= 1 << 20 && n % (1 << 20) == 0 => write!(f, "{} MiB", n >> 20),
            n if n >= 1 << 10 && n % (1 << 10) == 0 => write!(f, "{} KiB", n >> 10),
            n => write!(f, "{n} bytes"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum TableError {
    #[error("line {line}: reading failed: {source}")]
    Io { line: usize, source: io::Error },
    #[error("the file is empty: a table starts with a header row naming its columns")]
    Empty,
    #[error("the file is UTF-16 text: save it as UTF-8 (Excel calls it \"CSV UTF-8\")")]
    Utf16,
    #[error("line {line} has a NUL byte, so the file is not a text table: export it as CSV")]
    Binary { line: usize },
    #[error("line {line}: the header is not UTF-8 text: save the file as UTF-8")]
    HeaderNotUtf8 { line: usize },
    #[error(
        "line {line}: columns {first} and {second} are both named `{name}`: rename one of them \
         (a W&B runs export repeats a name that a config key and a summary metric share: hide one \
         of the two in the runs table before exporting)"
    )]
    DuplicateColumn {
        line: usize,
        name: String,
        first: usize,
        second: usize,
    },
    #[error("line {line} has more than {limit} columns: keep only the columns the figure needs")]
    TooManyColumns { line: usize, limit: usize },
    #[error("line {line}: more than {limit} rows: split the table into smaller files")]
    TooManyRows { line: usize, limit: usize },
    #[error(
        "line {line}: the value in {column} is longer than {}: shorten it or drop the column",
        Size(*limit)
    )]
    FieldTooLong {
        line: usize,
        /// "column `notes`", or "column 3" when it has no name.
        column: String,
        limit: usize,
    },
    #[error(
        "line {line} starts a row longer than {}, which no run's row is: check that the file is a \
         table, and for a quote that is never closed",
        Size(*limit)
    )]
    RowTooLong { line: usize, limit: usize },
    #[error("line {line}: a quoted field starts here and is never closed: add the closing `\"`")]
    UnclosedQuote { line: usize },
}

impl From<LineError> for TableError {
    fn from(e: LineError) -> TableError {
        match e {
            LineError::Io { line, source } => TableError::Io { line, source },
            LineError::TooLong { line, limit } => TableError::RowTooLong { line, limit },
        }
    }
}

/// How many bytes of an encoding mark to drop from the start of a file.
fn encoding_mark(start: &[u8]) -> Result<usize, TableError> {
    if UTF16_BOMS.iter().any(|bom| start.starts_with(bom)) {
        return Err(TableError::Utf16);
    }
    Ok(if start.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    })
}

/// One line of a stream.
pub(crate) struct Line<'a> {
    /// 1-based.
    pub(crate) number: usize,
    /// Without the `\n` (a `\r` before it stays).
    pub(crate) bytes: &'a [u8],
    /// Whether a `\n` ended it: only the last line of a file cut mid-write has none.
    pub(crate) terminated: bool,
}

#[derive(Debug)]
pub(crate) enum LineError {
    Io { line: usize, source: io::Error },
    TooLong { line: usize, limit: usize },
}

/// The lines of a stream through one reused buffer, each refused once longer than `max_bytes`,
/// so memory does not grow with the stream.
pub(crate) struct Lines<R> {
    reader: BufReader<R>,
    buf: Vec<u8>,
    number: usize,
    max_bytes: usize,
}

impl<R: Read> Lines<R> {
    pub(crate) fn new(reader: R, max_bytes: usize) -> Lines<R> {
        Lines {
            reader: BufReader::new(reader),
            buf: Vec::new(),
            number: 0,
            max_bytes,
        }
    }

    pub(crate) fn next_line(&mut self) -> Result<Option<Line<'_>>, LineError> {
        self.buf.clear();
        let number = self.number + 1;
        let terminated = loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(LineError::Io {
                        line: number,
                        source,
                    });
                }
            };
            if available.is_empty() {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                break false;
            }
            let newline = memchr::memchr(b'\n', available);
            let take = newline.unwrap_or(available.len());
            if self.buf.len() + take > self.max_bytes {
                return Err(LineError::TooLong {
                    line: number,
                    limit: self.max_bytes,
                });
            }
            self.buf
                .extend_from_slice(available.get(..take).unwrap_or_default());
            self.reader.consume(take + usize::from(newline.is_some()));
            if newline.is_some() {
                break true;
            }
        };
        self.number = number;
        Ok(Some(Line {
            number,
            bytes: &self.buf,
            terminated,
        }))
    }
}

#[cfg(test)]
pub(super) mod test_support {
    use super::*;

    pub(super) fn names(table: &Table) -> Vec<&str> {
        table.columns.iter().map(|name| &**name).collect()
    }

    /// Each row as (line, [(column, value)]).
    pub(super) fn rows(table: &Table) -> Vec<(usize, Vec<(&str, Value)>)> {
        table
            .rows
            .iter()
            .map(|row| {
                let fields = row
                    .fields
                    .iter()
                    .map(|(name, value)| (&**name, value.clone()))
                    .collect();
                (row.line, fields)
            })
            .collect()
    }

    pub(super) fn skipped(table: &Table) -> Vec<String> {
        table.skipped.iter().map(ToString::to_string).collect()
    }

    pub(super) fn n(number: f64) -> Value {
        Value::Number(number)
    }

    pub(super) fn t(text: &str) -> Value {
        Value::Text(text.to_owned())
    }

    /// `head`, then `filler` repeated until `len` bytes, generated as it is read; counts what
    /// was read.
    pub(super) struct Endless {
        pub(super) head: Vec<u8>,
        pub(super) filler: &'static [u8],
        pub(super) len: u64,
        pub(super) at: u64,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let mut n = 0;
            while n < buf.len() && self.at < self.len {
                let at = usize::try_from(self.at).unwrap();
                buf[n] = match self.head.get(at) {
                    Some(&byte) => byte,
                    None => self.filler[(at - self.head.len()) % self.filler.len()],
                };
                n += 1;
                self.at += 1;
            }
            Ok(n)
        }
    }

    pub(super) struct Failing;

    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn cells_are_classified_strictly() {
        let cases = [
            ("", Value::Empty),
            ("  \t", Value::Empty),
            ("null", Value::Empty),
            ("NULL", Value::Empty),
            (" Null ", Value::Empty),
            ("42", n(42.0)),
            (" 42 ", n(42.0)),
            ("-2.5", n(-2.5)),
            ("+3", n(3.0)),
            (".5", n(0.5)),
            ("5.", n(5.0)),
            ("1e9", n(1e9)),
            ("1E-3", n(1e-3)),
            ("007", n(7.0)),
            ("1,234", t("1,234")),
            ("1 234", t("1 234")),
            ("15 GiB", t("15 GiB")),
            ("inf", t("inf")),
            ("-Infinity", t("-Infinity")),
            ("NaN", t("NaN")),
            ("nan", t("nan")),
            ("1e400", t("1e400")),
            ("0x10", t("0x10")),
            ("1_000", t("1_000")),
            ("1e", t("1e")),
            ("e5", t("e5")),
            (".", t(".")),
            ("-", t("-")),
            ("+", t("+")),
            ("1.2.3", t("1.2.3")),
            ("None", t("None")),
            ("finished", t("finished")),
        ];
        for (cell, expected) in cases {
            assert_eq!(Value::from_cell(cell), expected, "{cell:?}");
        }
    }

    #[test]
    fn read_errors_name_the_line() {
        let e = read_csv(Failing, &Limits::default()).unwrap_err();
        assert_eq!(e.to_string(), "line 1: reading failed: disk on fire");
        let e = read_jsonl(Failing, &Limits::default()).unwrap_err();
        assert_eq!(e.to_string(), "line 1: reading failed: disk on fire");
        let e = read_csv(
            io::Cursor::new(b"a,b\n1,2\n").chain(Failing),
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "line 3: reading failed: disk on fire");
    }

    #[test]
    fn sizes_are_said_in_the_largest_whole_unit() {
        let shown = [1 << 20, 64 << 10, 1000, 1536, 3 << 20].map(|bytes| Size(bytes).to_string());
        assert_eq!(
            shown,
            ["1 MiB", "64 KiB", "1000 bytes", "1536 bytes", "3 MiB"]
        );
    }

    #[test]
    fn lines_report_a_missing_final_newline() {
        let mut lines = Lines::new(&b"a\r\n\nlast"[..], 16);
        let mut seen = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            seen.push((line.number, line.bytes.to_vec(), line.terminated));
        }
        assert_eq!(
            seen,
            [
                (1, b"a\r".to_vec(), true),
                (2, b"".to_vec(), true),
                (3, b"last".to_vec(), false),
            ]
        );
        let mut lines = Lines::new(&b"12345\n123456\n"[..], 5);
        assert!(lines.next_line().unwrap().is_some());
        assert!(matches!(
            lines.next_line(),
            Err(LineError::TooLong { line: 2, limit: 5 })
        ));
    }
}
