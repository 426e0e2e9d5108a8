//! CSV tables: a results CSV, a W&B runs-table export, a `;`- or tab-separated spreadsheet export.
//!
//! - the first non-blank record is the header, and its names are trimmed;
//! - the delimiter is whichever of `,` `;` and tab occurs most often outside quotes in the header
//!   line, ties going to `,` then tab: European spreadsheets write `;`, "text" exports write tabs,
//!   and a column name is more likely to hold a stray `;` than a stray comma;
//! - quoting is RFC 4180's: `"` opens a quoted field only at its start, `""` inside one is a quote,
//!   and quoted fields may hold delimiters and line breaks; records end in LF, CRLF or CR;
//! - a UTF-8 byte-order mark is dropped; a UTF-16 file (Excel's "Unicode text") is refused;
//! - two columns of the same name are refused: which one the figure reads would be a guess. A W&B
//!   export repeats a name that a config key and a summary metric share. Unnamed columns (pandas'
//!   index) are allowed and match no name;
//! - a row whose field count is not the header's, or that holds a NUL byte or text that is not
//!   UTF-8, is skipped and reported, so that one bad run does not hide the sweep; a row of blank
//!   fields is ignored (spreadsheets pad tables with them).
//!
//! The `csv` crate parses; [`RowLimiter`], between it and the file, bounds what it buffers.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read};
use std::sync::Arc;

use super::{Fields, Limits, Row, SkipReason, Table, TableError, Value, encoding_mark};

/// Bytes read at a time while looking for the header line.
const HEAD_CHUNK: usize = 8 << 10;

/// Reads a CSV table; see the module docs.
pub(crate) fn read_csv(mut reader: impl Read, limits: &Limits) -> Result<Table, TableError> {
    let mut head = read_head(&mut reader, limits.max_row_bytes)
        .map_err(|source| TableError::Io { line: 1, source })?;
    head.drain(..encoding_mark(&head)?);
    let delimiter = detect_delimiter(&head);
    let limiter = RowLimiter::new(
        io::Cursor::new(head).chain(reader),
        delimiter,
        limits.max_row_bytes,
    );
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(limiter);
    let mut record = csv::ByteRecord::new();
    let Some(header_line) = next_record(&mut csv, &mut record)? else {
        return Err(TableError::Empty);
    };
    let mut table = Table {
        columns: header(&record, header_line, limits)?,
        ..Table::default()
    };
    while let Some(line) = next_record(&mut csv, &mut record)? {
        match cells(&table.columns, &record, line, limits)? {
            Ok(fields) => {
                table.check_room(line, limits)?;
                table.rows.push(Row { line, fields });
            }
            Err(reason) => table.skip(line, reason),
        }
    }
    match csv.get_ref().open_quote() {
        Some(line) => Err(TableError::UnclosedQuote { line }),
        None => Ok(table),
    }
}

/// The start of the file, through its first non-blank line or `cap` bytes: enough to see an
/// encoding mark and the header's delimiter.
fn read_head(reader: &mut impl Read, cap: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut chunk = vec![0u8; HEAD_CHUNK];
    let mut content = false;
    while head.len() < cap {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let read = chunk.get(..n).unwrap_or_default();
        head.extend_from_slice(read);
        for &byte in read {
            match byte {
                b'\n' if content => return Ok(head),
                b' ' | b'\t' | b'\r' | b'\n' => {}
                _ => content = true,
            }
        }
    }
    Ok(head)
}

/// See the module docs.
fn detect_delimiter(head: &[u8]) -> u8 {
    let line = head
        .split(|&b| b == b'\n')
        .find(|line| !line.trim_ascii().is_empty())
        .unwrap_or_default();
    let (mut commas, mut tabs, mut semicolons) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    for &byte in line {
        match byte {
            b'"' => quoted = !quoted,
            _ if quoted => {}
            b',' => commas += 1,
            b'\t' => tabs += 1,
            b';' => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas && semicolons > tabs {
        b';'
    } else if tabs > commas {
        b'\t'
    } else {
        b','
    }
}

/// The next record with a non-blank field, and the line it starts on.
fn next_record<R: Read>(
    csv: &mut csv::Reader<RowLimiter<R>>,
    record: &mut csv::ByteRecord,
) -> Result<Option<usize>, TableError> {
    loop {
        match csv.read_byte_record(record) {
            Ok(false) => return Ok(None),
            Ok(true) if record.iter().all(|field| field.trim_ascii().is_empty()) => {
                csv.get_mut().starts.pop_front();
            }
            // csv's own record positions are those of the previous record's end.
            Ok(true) => {
                let limiter = csv.get_mut();
                return Ok(Some(limiter.starts.pop_front().unwrap_or(limiter.line)));
            }
            Err(e) => {
                let limiter = csv.get_ref();
                if let Some(line) = limiter.overflow {
                    return Err(TableError::RowTooLong {
                        line,
                        limit: limiter.max_bytes,
                    });
                }
                let source = match e.into_kind() {
                    csv::ErrorKind::Io(source) => source,
                    // With flexible records read as bytes, csv reports nothing else.
                    other => io::Error::other(format!("{other:?}")),
                };
                return Err(TableError::Io {
                    line: limiter.line,
                    source,
                });
            }
        }
    }
}

fn header(
    record: &csv::ByteRecord,
    line: usize,
    limits: &Limits,
) -> Result<Vec<Arc<str>>, TableError> {
    if record.len() > limits.max_columns {
        return Err(TableError::TooManyColumns {
            line,
            limit: limits.max_columns,
        });
    }
    if record
        .iter()
        .any(|field| memchr::memchr(0, field).is_some())
    {
        return Err(TableError::Binary { line });
    }
    let mut columns = Vec::with_capacity(record.len());
    let mut positions: HashMap<&str, usize> = HashMap::with_capacity(record.len());
    for (index, field) in record.iter().enumerate() {
        let name = std::str::from_utf8(field)
            .map_err(|_| TableError::HeaderNotUtf8 { line })?
            .trim();
        if !name.is_empty()
            && let Some(first) = positions.insert(name, index + 1)
        {
            return Err(TableError::DuplicateColumn {
                line,
                name: name.to_owned(),
                first,
                second: index + 1,
            });
        }
        columns.push(Arc::from(name));
    }
    Ok(columns)
}

/// A record's cells, or why the row is skipped.
fn cells(
    columns: &[Arc<str>],
    record: &csv::ByteRecord,
    line: usize,
    limits: &Limits,
) -> Result<Result<Fields, SkipReason>, TableError> {
    if record.len() != columns.len() {
        return Ok(Err(SkipReason::Ragged {
            fields: record.len(),
            header: columns.len(),
        }));
    }
    let mut fields = Vec::with_capacity(columns.len());
    for (index, (name, field)) in columns.iter().zip(record).enumerate() {
        if field.len() > limits.max_field_bytes {
            let column = if name.is_empty() {
                format!("column {}", index + 1)
            } else {
                format!("column `{name}`")
            };
            return Err(TableError::FieldTooLong {
                line,
                column,
                limit: limits.max_field_bytes,
            });
        }
        if memchr::memchr(0, field).is_some() {
            return Ok(Err(SkipReason::NulByte));
        }
        let Ok(text) = std::str::from_utf8(field) else {
            return Ok(Err(SkipReason::NotUtf8));
        };
        fields.push((Arc::clone(name), Value::from_cell(text)));
    }
    Ok(Ok(fields))
}

/// Passes bytes through to the CSV reader and refuses a record longer than `max_bytes` before
/// the reader has buffered it. It follows csv-core's quoting rules (the module docs' RFC 4180
/// ones), so it knows where records start and end, and at the end whether a quote was left open.
struct RowLimiter<R> {
    inner: R,
    delimiter: u8,
    max_bytes: usize,
    state: Quoting,
    /// Line of the next byte.
    line: usize,
    /// Whether the last byte was part of a record (not of the line breaks between them).
    in_record: bool,
    /// Start lines of the records passed to the CSV reader that it has not returned yet: as
    /// many as its buffer holds, plus the one being read.
    starts: VecDeque<usize>,
    record_bytes: usize,
    quote_line: usize,
    /// The line of the record that passed `max_bytes`.
    overflow: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    FieldStart,
    Unquoted,
    Quoted,
    /// A `"` inside a quoted field: `""` is a quote, anything else ends the quoting.
    QuoteInQuoted,
}

impl<R> RowLimiter<R> {
    fn new(inner: R, delimiter: u8, max_bytes: usize) -> RowLimiter<R> {
        RowLimiter {
            inner,
            delimiter,
            max_bytes,
            state: Quoting::FieldStart,
            line: 1,
            in_record: false,
            starts: VecDeque::new(),
            record_bytes: 0,
            quote_line: 1,
            overflow: None,
        }
    }

    /// `false` once the record is too long.
    fn step(&mut self, byte: u8) -> bool {
        let (state, record_ends) = match (self.state, byte) {
            (Quoting::Quoted, b'"') => (Quoting::QuoteInQuoted, false),
            (Quoting::Quoted, _) | (Quoting::QuoteInQuoted, b'"') => (Quoting::Quoted, false),
            (Quoting::FieldStart, b'"') => {
                self.quote_line = self.line;
                (Quoting::Quoted, false)
            }
            (_, b'\n' | b'\r') => (Quoting::FieldStart, true),
            (_, b) if b == self.delimiter => (Quoting::FieldStart, false),
            _ => (Quoting::Unquoted, false),
        };
        self.state = state;
        if record_ends {
            self.in_record = false;
            self.record_bytes = 0;
        } else {
            if !self.in_record {
                self.in_record = true;
                self.starts.push_back(self.line);
            }
            self.record_bytes += 1;
            if self.record_bytes > self.max_bytes {
                self.overflow = Some(self.starts.back().copied().unwrap_or(self.line));
                return false;
            }
        }
        if byte == b'\n' {
            self.line += 1;
        }
        true
    }

    /// At the end of the input: the line of a quote never closed.
    fn open_quote(&self) -> Option<usize> {
        (self.state == Quoting::Quoted).then_some(self.quote_line)
    }
}

impl<R: Read> Read for RowLimiter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.overflow.is_some() {
            return Err(io::Error::other("row too long"));
        }
        let n = self.inner.read(buf)?;
        for &byte in buf.get(..n).unwrap_or_default() {
            if !self.step(byte) {
                return Err(io::Error::other("row too long"));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{MAX_ROW_BYTES, MAX_SKIPPED};
    use super::*;

    fn csv(text: &str) -> Result<Table, TableError> {
        read_csv(text.as_bytes(), &Limits::default())
    }

    #[test]
    fn a_results_csv() {
        let table = csv(" tp , pp,peak_gib,status\n2,4,57.25,ok\n8,1,,OOM\n").unwrap();
        assert_eq!(names(&table), ["tp", "pp", "peak_gib", "status"]);
        assert_eq!(
            rows(&table),
            [
                (
                    2,
                    vec![
                        ("tp", n(2.0)),
                        ("pp", n(4.0)),
                        ("peak_gib", n(57.25)),
                        ("status", t("ok")),
                    ]
                ),
                (
                    3,
                    vec![
                        ("tp", n(8.0)),
                        ("pp", n(1.0)),
                        ("peak_gib", Value::Empty),
                        ("status", t("OOM")),
                    ]
                ),
            ]
        );
        assert_eq!(table.rows[1].get("status"), Some(&t("OOM")));
        assert_eq!(table.rows[1].get("missing"), None);
        assert!(table.skipped.is_empty());
        assert_eq!(table.skipped_unlisted, 0);
    }

    #[test]
    fn a_bom_and_crlf_are_read_through() {
        let table = csv("\u{feff}tp,pp\r\n1,2\r\n\r\n3,4\r\n").unwrap();
        assert_eq!(names(&table), ["tp", "pp"]);
        assert_eq!(
            rows(&table),
            [
                (2, vec![("tp", n(1.0)), ("pp", n(2.0))]),
                (4, vec![("tp", n(3.0)), ("pp", n(4.0))]),
            ]
        );
    }

    #[test]
    fn the_delimiter_is_the_commonest_of_the_header_line() {
        let cases = [
            ("a;b;c\n1;2,5;3\n", b';'),
            ("a\tb\tc\n1\t2\t3\n", b'\t'),
            ("\n\n  \na;b;c\n1;2;3\n", b';'),
            ("\"x,y,z\";b;c\n1;2;3\n", b';'),
            ("a;b,c\n", b','),
            ("a\tb,c\n", b','),
            ("a\tb;c\n", b'\t'),
            ("single\n", b','),
            ("", b','),
        ];
        for (text, expected) in cases {
            assert_eq!(detect_delimiter(text.as_bytes()), expected, "{text:?}");
        }
        let table = csv("tp;pp;peak\n1;2;3,5\n").unwrap();
        assert_eq!(
            rows(&table),
            [(2, vec![("tp", n(1.0)), ("pp", n(2.0)), ("peak", t("3,5"))])]
        );
        let table = csv("tp\tnote\n1\ta, b; c\n").unwrap();
        assert_eq!(
            rows(&table),
            [(2, vec![("tp", n(1.0)), ("note", t("a, b; c"))])]
        );
    }

    #[test]
    fn quoted_fields_hold_delimiters_quotes_and_line_breaks() {
        let text =
            "name,notes,tp\n\"a,b\",\"line one\r\nline \"\"two\"\", still\",\"8\"\nc,5\" disk,2\n";
        let table = csv(text).unwrap();
        assert_eq!(
            rows(&table),
            [
                (
                    2,
                    vec![
                        ("name", t("a,b")),
                        ("notes", t("line one\r\nline \"two\", still")),
                        ("tp", n(8.0)),
                    ]
                ),
                (
                    4,
                    vec![("name", t("c")), ("notes", t("5\" disk")), ("tp", n(2.0))]
                ),
            ]
        );
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_does_not_hide_row_ends() {
        // Were the quote taken as opening a field, the rows after it would add up past the limit.
        let mut text = String::from("a,b\n5\" disk,1\n");
        for i in 0..100 {
            text.push_str(&format!("x{i},{i}\n"));
        }
        let limits = Limits {
            max_row_bytes: 32,
            ..Limits::default()
        };
        let table = read_csv(text.as_bytes(), &limits).unwrap();
        assert_eq!(table.rows.len(), 101);
    }

    #[test]
    fn duplicate_column_names_are_refused() {
        let e = csv("Name,lr,State,lr\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1: columns 2 and 4 are both named `lr`: rename one of them (a W&B runs export \
             repeats a name that a config key and a summary metric share: hide one of the two in \
             the runs table before exporting)"
        );
        let e = csv("\n\n tp ,pp,tp\n").unwrap_err();
        assert!(matches!(
            e,
            TableError::DuplicateColumn {
                line: 3,
                first: 1,
                second: 3,
                ..
            }
        ));
    }

    #[test]
    fn unnamed_columns_are_allowed() {
        let table = csv(",tp,\n0,2,\n1,4,\n").unwrap();
        assert_eq!(names(&table), ["", "tp", ""]);
        assert_eq!(table.rows[1].get("tp"), Some(&n(4.0)));
        assert_eq!(table.rows[1].fields[0].1, n(1.0));
    }

    #[test]
    fn ragged_rows_are_skipped_and_reported() {
        let table = csv("a,b,c\n1,2,3\n1,2\n4\n1,2,3,4\n5,6,7\n").unwrap();
        assert_eq!(
            table.rows.iter().map(|row| row.line).collect::<Vec<_>>(),
            [2, 6]
        );
        assert_eq!(
            skipped(&table),
            [
                "line 3 has 2 fields, the header has 3",
                "line 4 has 1 field, the header has 3",
                "line 5 has 4 fields, the header has 3",
            ]
        );
    }

    #[test]
    fn rows_know_their_lines_across_breaks_of_every_kind() {
        let table = csv("a,b\n\"x\ny\",1\n\n\r\n  \n2,3\r4,5\r\n\"\",\"\"\n6,7").unwrap();
        let lines: Vec<usize> = table.rows.iter().map(|row| row.line).collect();
        // `2,3\r4,5` is one line of two rows: a lone CR ends a record but not a line.
        assert_eq!(lines, [2, 7, 7, 9]);
        assert_eq!(table.rows[0].get("a"), Some(&t("x\ny")));
    }

    #[test]
    fn blank_rows_are_ignored() {
        let table = csv("a,b\n\n,\n  ,\t\n1,2\n   \n").unwrap();
        assert_eq!(rows(&table), [(5, vec![("a", n(1.0)), ("b", n(2.0))])]);
        assert!(table.skipped.is_empty());
    }

    #[test]
    fn skipped_rows_past_the_limit_are_counted() {
        let text = format!("a,b\n{}", "1\n".repeat(MAX_SKIPPED + 5));
        let table = csv(&text).unwrap();
        assert_eq!(table.skipped.len(), MAX_SKIPPED);
        assert_eq!(table.skipped_unlisted, 5);
        assert_eq!(
            table.skipped.last().unwrap().to_string(),
            "line 1001 has 1 field, the header has 2"
        );
    }

    #[test]
    fn empty_and_header_only_files() {
        for text in ["", "\n\n", " \r\n\t\n", ",,\n"] {
            let e = csv(text).unwrap_err();
            assert_eq!(
                e.to_string(),
                "the file is empty: a table starts with a header row naming its columns",
                "{text:?}"
            );
        }
        let table = csv("tp,pp\n").unwrap();
        assert_eq!(names(&table), ["tp", "pp"]);
        assert!(table.rows.is_empty());
        let table = csv("tp,pp").unwrap();
        assert_eq!(names(&table), ["tp", "pp"]);
    }

    #[test]
    fn binary_files_are_refused() {
        let e = read_csv(&b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..], &Limits::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1: the header is not UTF-8 text: save the file as UTF-8"
        );
        let e = read_csv(&b"tp,p\0p\n1,2\n"[..], &Limits::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1 has a NUL byte, so the file is not a text table: export it as CSV"
        );
        let e = read_csv(&b"\xFF\xFEt\0p\0\n\0"[..], &Limits::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the file is UTF-16 text: save it as UTF-8 (Excel calls it \"CSV UTF-8\")"
        );
    }

    #[test]
    fn rows_with_nul_bytes_or_bad_utf8_are_skipped() {
        let table = read_csv(&b"a,b\n1,\0\n2,\xE9t\xE9\n3,4\n"[..], &Limits::default()).unwrap();
        assert_eq!(rows(&table), [(4, vec![("a", n(3.0)), ("b", n(4.0))])]);
        assert_eq!(
            skipped(&table),
            ["line 2 has a NUL byte", "line 3 is not UTF-8 text"]
        );
    }

    #[test]
    fn a_hundred_thousand_columns_are_refused() {
        let header: Vec<String> = (0..100_000).map(|i| format!("c{i}")).collect();
        let text = format!("{}\n1\n", header.join(","));
        let e = csv(&text).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1 has more than 1024 columns: keep only the columns the figure needs"
        );
    }

    #[test]
    fn an_endless_row_is_refused_after_the_row_limit() {
        let mut endless = Endless {
            head: b"tp,pp\n1,2\n".to_vec(),
            filler: b"x,",
            len: 1 << 40,
            at: 0,
        };
        let e = read_csv(&mut endless, &Limits::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3 starts a row longer than 1 MiB, which no run's row is: check that the file is \
             a table, and for a quote that is never closed"
        );
        assert!(endless.at < 2 * MAX_ROW_BYTES as u64, "read {}", endless.at);
    }

    #[test]
    fn an_endless_header_is_refused_after_the_row_limit() {
        let mut endless = Endless {
            head: Vec::new(),
            filler: b"\x01\x02,",
            len: 1 << 40,
            at: 0,
        };
        let e = read_csv(&mut endless, &Limits::default()).unwrap_err();
        assert!(matches!(e, TableError::RowTooLong { line: 1, .. }), "{e}");
        assert!(endless.at < 2 * MAX_ROW_BYTES as u64, "read {}", endless.at);
    }

    #[test]
    fn a_quote_never_closed_is_refused() {
        let e = csv("tp,notes\n1,ok\n2,\"open\n3,x\n4,y\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3: a quoted field starts here and is never closed: add the closing `\"`"
        );
        let text = format!("tp,notes\n1,\"{}", "a\n".repeat(MAX_ROW_BYTES));
        let e = csv(&text).unwrap_err();
        assert!(matches!(e, TableError::RowTooLong { line: 2, .. }), "{e}");
        // An opening quote mid-field is a character, not an open quote.
        let table = csv("tp,notes\n1,5\"\n").unwrap();
        assert_eq!(table.rows[0].get("notes"), Some(&t("5\"")));
    }

    #[test]
    fn limits_are_errors_naming_the_line() {
        let limits = Limits {
            max_rows: 2,
            max_field_bytes: 8,
            ..Limits::default()
        };
        let e = read_csv(&b"a,b\n1,2\n\n3,4\n5,6\n"[..], &limits).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 5: more than 2 rows: split the table into smaller files"
        );
        let e = read_csv(&b"a,notes\n1,123456789\n"[..], &limits).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2: the value in column `notes` is longer than 8 bytes: shorten it or drop the \
             column"
        );
        let e = read_csv(&b"a,\n1,123456789\n"[..], &limits).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2: the value in column 2 is longer than 8 bytes: shorten it or drop the column"
        );
        let e = read_csv(
            &b"a,\n1,123456789\n"[..],
            &Limits {
                max_field_bytes: 2048,
                ..limits
            },
        )
        .map(|table| table.rows.len());
        assert_eq!(e.unwrap(), 1);
    }
}
