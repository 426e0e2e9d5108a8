//! Reads nvidia-smi CSV logs, as `nvidia-smi --query-gpu=timestamp,index,memory.used
//! --format=csv[,nounits] -l 1` writes them, for the peak `memory.used` of a run.
//!
//! What it reads: a header naming the query fields (`timestamp, index, memory.used [MiB]`, any
//! order, any other fields), then one row per GPU per sample. Values are `15033 MiB`, or `15033`
//! with `nounits`, whose unit is then the header's (`[MiB]`; a header without one means MiB, the
//! only unit nvidia-smi gives memory in). A value in brackets (`[N/A]`, `[Not Supported]`) is
//! counted and skipped. A header line later in the file (nvidia-smi restarted with `-f` appending)
//! starts a new section with its own column order. GPUs are told apart by `index`, else `uuid`,
//! else `pci.bus_id`; the peak is over every row of every GPU.
//!
//! What it refuses, naming the line: a log without a header (`noheader`), since which column is
//! memory would be a guess; a header without `memory.used`; a row with the wrong field count or a
//! value that is not a number. The exception is a last line without a final newline, which a logger
//! killed mid-write leaves: it is ignored and reported in [`GpuLog::cut_last_line`].
//!
//! Why streaming: an `-l` log of a long run reaches gigabytes, so the reader holds one line (at
//! most [`MAX_LINE_BYTES`]) and at most [`MAX_GPUS`] GPU names, whatever the file's size.
//!
//! `memory.used` counts the CUDA context, NCCL buffers and other processes, so it is at least what
//! PyTorch reserved; the caller says which it is showing.

use std::collections::HashSet;
use std::io::{self, Read};

use super::tabular::{LineError, Lines};

/// Longest line; nvidia-smi's are under 1 KiB even with every query field.
pub(crate) const MAX_LINE_BYTES: usize = 64 << 10;
/// Most distinct GPUs counted; a node has up to 16, a log merged over nodes more.
pub(crate) const MAX_GPUS: usize = 1024;
/// Characters of a refused line quoted in an error.
const QUOTED_CHARS: usize = 60;
/// The columns that name a GPU, in order of preference.
const GPU_ID_FIELDS: [&str; 3] = ["index", "uuid", "pci.bus_id"];

/// What a log says of a run's memory.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GpuLog {
    /// Largest `memory.used`, in bytes (MiB = 1024²).
    pub(crate) peak_bytes: f64,
    /// 1-based line of the first row with the peak.
    pub(crate) line: usize,
    /// Distinct values of the GPU column (at most [`MAX_GPUS`]), or 1 when there is none.
    pub(crate) gpus: usize,
    /// Rows with a `memory.used` value.
    pub(crate) samples: usize,
    /// Rows whose `memory.used` was in brackets (`[N/A]`, `[Not Supported]`).
    pub(crate) na: usize,
    /// The last line, ignored: it does not parse and no newline ends it (see the module docs).
    pub(crate) cut_last_line: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum NvidiaSmiError {
    #[error("line {line}: reading failed: {source}")]
    Io { line: usize, source: io::Error },
    #[error("the file is empty: an nvidia-smi log starts with its header line")]
    Empty,
    #[error(
        "line {line} is longer than {} KiB, which no nvidia-smi line is: check that this is an \
         nvidia-smi log",
        MAX_LINE_BYTES >> 10
    )]
    LineTooLong { line: usize },
    #[error(
        "line {line} is not an nvidia-smi header (`{found}`): log with `--format=csv` without \
         `noheader`, so that the columns are named"
    )]
    NoHeader { line: usize, found: String },
    #[error(
        "line {line}: the header has no `memory.used` column (it has {columns}): add \
         `memory.used` to `--query-gpu`"
    )]
    NoMemoryColumn { line: usize, columns: String },
    #[error("line {line}: `memory.used` is in `[{unit}]`, which is not B, KiB, MiB or GiB")]
    UnknownUnit { line: usize, unit: String },
    #[error(
        "line {line} has {found} fields, the header on line {header_line} has {expected}: \
         remove the line, or restart the log with a new header"
    )]
    FieldCount {
        line: usize,
        found: usize,
        expected: usize,
        header_line: usize,
    },
    #[error(
        "line {line}: memory.used `{value}` is not an amount of memory: fix or remove the line"
    )]
    BadValue { line: usize, value: String },
    #[error("line {line} is not UTF-8 text: remove the line")]
    NotText { line: usize },
    #[error("the log has a header but no samples: log for longer than one `-l` interval")]
    NoSamples,
    #[error(
        "all {na} memory.used values are unavailable (`[N/A]` or `[Not Supported]`): nvidia-smi \
         cannot read this GPU's memory use, so the log holds no value"
    )]
    AllUnavailable { na: usize },
}

impl From<LineError> for NvidiaSmiError {
    fn from(e: LineError) -> NvidiaSmiError {
        match e {
            LineError::Io { line, source } => NvidiaSmiError::Io { line, source },
            LineError::TooLong { line, .. } => NvidiaSmiError::LineTooLong { line },
        }
    }
}

/// Whether `first_line` is an nvidia-smi CSV header with `memory.used [MiB]`, for telling a log
/// from other tables by its content.
pub(crate) fn is_nvidia_smi_header(first_line: &str) -> bool {
    let line = first_line.strip_prefix('\u{feff}').unwrap_or(first_line);
    query_fields(line).is_some_and(|fields| {
        fields
            .iter()
            .any(|field| field.name == "memory.used" && field.unit == Some("MiB"))
    })
}

/// A header column: `memory.used [MiB]` is name `memory.used`, unit `MiB`.
struct QueryField<'a> {
    name: &'a str,
    unit: Option<&'a str>,
}

/// The columns of `line` when every one is a query field's name, as a header has and a data row
/// (`0, 15033 MiB`, `NVIDIA A100`, `2025/07/25 12:42:08.972`) does not.
fn query_fields(line: &str) -> Option<Vec<QueryField<'_>>> {
    line.trim()
        .split(',')
        .map(|column| {
            let column = column.trim();
            let (name, unit) = match column.split_once(" [") {
                Some((name, rest)) => (name, Some(rest.strip_suffix(']')?)),
                None => (column, None),
            };
            let name_ok = name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._".contains(&b));
            let unit_ok = unit.is_none_or(|unit| !unit.is_empty() && !unit.contains(['[', ']']));
            (name_ok && unit_ok).then_some(QueryField { name, unit })
        })
        .collect()
}

/// Where the values are, from the section's header.
struct Header {
    line: usize,
    columns: usize,
    memory: usize,
    /// Bytes per unit of a value without a unit of its own.
    unit_bytes: f64,
    gpu: Option<usize>,
}

fn parse_header(text: &str, line: usize) -> Result<Header, NvidiaSmiError> {
    let fields = query_fields(text).ok_or_else(|| NvidiaSmiError::NoHeader {
        line,
        found: quoted(text),
    })?;
    let position = |wanted: &str| fields.iter().position(|field| field.name == wanted);
    let memory = position("memory.used").ok_or_else(|| NvidiaSmiError::NoMemoryColumn {
        line,
        columns: quoted(text.trim()),
    })?;
    let unit = fields
        .get(memory)
        .and_then(|field| field.unit)
        .unwrap_or("MiB");
    let unit_bytes = unit_bytes(unit).ok_or_else(|| NvidiaSmiError::UnknownUnit {
        line,
        unit: unit.to_owned(),
    })?;
    Ok(Header {
        line,
        columns: fields.len(),
        memory,
        unit_bytes,
        gpu: GPU_ID_FIELDS.iter().find_map(|id| position(id)),
    })
}

fn unit_bytes(unit: &str) -> Option<f64> {
    match unit {
        "B" => Some(1.0),
        "KiB" => Some(1024.0),
        "MiB" => Some(1024.0 * 1024.0),
        "GiB" => Some(1024.0 * 1024.0 * 1024.0),
        _ => None,
    }
}

/// `text` for an error message: its first characters, control characters escaped.
fn quoted(text: &str) -> String {
    let mut shown: String = text
        .chars()
        .take(QUOTED_CHARS)
        .flat_map(char::escape_default)
        .collect();
    if text.chars().nth(QUOTED_CHARS).is_some() {
        shown.push('…');
    }
    shown
}

/// Reads a log; see the module docs.
pub(crate) fn read(reader: impl Read) -> Result<GpuLog, NvidiaSmiError> {
    let mut lines = Lines::new(reader, MAX_LINE_BYTES);
    let mut header: Option<Header> = None;
    let mut tally = Tally::default();
    while let Some(line) = lines.next_line()? {
        let bytes = match line.number {
            1 => line
                .bytes
                .strip_prefix(b"\xEF\xBB\xBF")
                .unwrap_or(line.bytes),
            _ => line.bytes,
        };
        let number = line.number;
        let parsed = match (std::str::from_utf8(bytes).map(str::trim), &header) {
            (Ok(""), _) => continue,
            (Ok(text), Some(section)) if query_fields(text).is_none() => row(text, section, number),
            (Ok(text), _) => parse_header(text, number).map(Parsed::Header),
            (Err(_), None) => Err(NvidiaSmiError::NoHeader {
                line: number,
                found: quoted(String::from_utf8_lossy(bytes).trim()),
            }),
            (Err(_), Some(_)) => Err(NvidiaSmiError::NotText { line: number }),
        };
        match parsed {
            Ok(Parsed::Header(section)) => header = Some(section),
            Ok(Parsed::Row(value, gpu)) => tally.add(value, gpu, number),
            Err(_) if !line.terminated && header.is_some() => tally.cut_last_line = Some(number),
            Err(e) => return Err(e),
        }
    }
    if header.is_none() {
        return Err(NvidiaSmiError::Empty);
    }
    tally.finish()
}

/// A line of the log: a header (the first, or a restart's) or a data row.
enum Parsed<'a> {
    Header(Header),
    /// `memory.used` in bytes (`None` when unavailable), and the GPU.
    Row(Option<f64>, Option<&'a str>),
}

/// What the rows read so far add up to.
#[derive(Default)]
struct Tally {
    /// The value and the line of its first row.
    peak: Option<(f64, usize)>,
    gpus: HashSet<String>,
    samples: usize,
    na: usize,
    cut_last_line: Option<usize>,
}

impl Tally {
    fn add(&mut self, value: Option<f64>, gpu: Option<&str>, line: usize) {
        if let Some(gpu) = gpu
            && self.gpus.len() < MAX_GPUS
            && !self.gpus.contains(gpu)
        {
            self.gpus.insert(gpu.to_owned());
        }
        let Some(value) = value else {
            self.na += 1;
            return;
        };
        self.samples += 1;
        if self.peak.is_none_or(|(peak, _)| value > peak) {
            self.peak = Some((value, line));
        }
    }

    fn finish(self) -> Result<GpuLog, NvidiaSmiError> {
        let Some((peak_bytes, line)) = self.peak else {
            return Err(match self.na {
                0 => NvidiaSmiError::NoSamples,
                na => NvidiaSmiError::AllUnavailable { na },
            });
        };
        Ok(GpuLog {
            peak_bytes,
            line,
            gpus: self.gpus.len().max(1),
            samples: self.samples,
            na: self.na,
            cut_last_line: self.cut_last_line,
        })
    }
}

/// A data row, read as `header` says.
fn row<'a>(text: &'a str, header: &Header, line: usize) -> Result<Parsed<'a>, NvidiaSmiError> {
    let found = text.split(',').count();
    if found != header.columns {
        return Err(NvidiaSmiError::FieldCount {
            line,
            found,
            expected: header.columns,
            header_line: header.line,
        });
    }
    let field = |index: usize| text.split(',').nth(index).map(str::trim);
    let value = field(header.memory).unwrap_or_default();
    let bytes = memory_bytes(value, header.unit_bytes).ok_or_else(|| NvidiaSmiError::BadValue {
        line,
        value: quoted(value),
    })?;
    Ok(Parsed::Row(bytes, header.gpu.and_then(field)))
}

/// `15033 MiB` or `15033` in bytes; `Some(None)` for a bracketed "not available".
fn memory_bytes(value: &str, default_unit_bytes: f64) -> Option<Option<f64>> {
    if value.starts_with('[') && value.ends_with(']') {
        return Some(None);
    }
    let (number, unit_bytes) = match value.split_once(' ') {
        Some((number, unit)) => (number, unit_bytes(unit.trim())?),
        None => (value, default_unit_bytes),
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let bytes = number.parse::<f64>().ok()? * unit_bytes;
    bytes.is_finite().then_some(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = 1024.0 * 1024.0;

    fn log(text: &str) -> Result<GpuLog, NvidiaSmiError> {
        read(text.as_bytes())
    }

    fn error(text: &str) -> String {
        log(text).unwrap_err().to_string()
    }

    /// A log of `rows` rows over `gpus` GPUs, generated as it is read.
    struct Generated {
        rows: usize,
        gpus: usize,
        row: usize,
        pending: Vec<u8>,
        at: usize,
    }

    impl Generated {
        fn new(rows: usize, gpus: usize) -> Generated {
            Generated {
                rows,
                gpus,
                row: 0,
                pending: b"timestamp, index, memory.used [MiB]\n".to_vec(),
                at: 0,
            }
        }
    }

    impl Read for Generated {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at == self.pending.len() {
                if self.row == self.rows {
                    return Ok(0);
                }
                let used = if self.row == self.rows / 2 {
                    80_000
                } else {
                    self.row % 70_000
                };
                self.pending = format!(
                    "2026/01/01 00:00:00.000, {}, {used} MiB\n",
                    self.row % self.gpus
                )
                .into_bytes();
                self.at = 0;
                self.row += 1;
            }
            let n = buf.len().min(self.pending.len() - self.at);
            buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn a_logged_run() {
        let text = "timestamp, utilization.gpu [%], memory.used [MiB]\n\
                    2025/07/25 12:42:08.972, 0 %, 15033 MiB\n\
                    2025/07/25 12:42:09.972, 97 %, 15100 MiB\n\
                    2025/07/25 12:42:10.972, 98 %, 15100 MiB\n\
                    2025/07/25 12:42:11.972, 3 %, 1 MiB\n";
        assert_eq!(
            log(text).unwrap(),
            GpuLog {
                peak_bytes: 15_100.0 * MIB,
                line: 3,
                gpus: 1,
                samples: 4,
                na: 0,
                cut_last_line: None,
            }
        );
    }

    #[test]
    fn the_peak_is_over_every_gpu_in_any_column_order() {
        let text = "memory.used [MiB], index, timestamp\n\
                    100 MiB, 0, t\n\
                    200 MiB, 1, t\n\
                    150 MiB, 0, t\n\
                    900 MiB, 1, t\n\
                    [N/A], 2, t\n";
        let log = log(text).unwrap();
        assert_eq!(
            (log.peak_bytes, log.line, log.gpus, log.samples, log.na),
            (900.0 * MIB, 5, 3, 4, 1)
        );
    }

    #[test]
    fn gpus_are_told_apart_by_index_then_uuid_then_bus_id() {
        let text = "uuid, memory.used [MiB]\nGPU-a, 1 MiB\nGPU-b, 1 MiB\nGPU-a, 1 MiB\n";
        assert_eq!(log(text).unwrap().gpus, 2);
        let text = "pci.bus_id, uuid, index, memory.used [MiB]\n\
                    00000000:07:00.0, GPU-a, 0, 1 MiB\n\
                    00000000:0F:00.0, GPU-a, 0, 1 MiB\n";
        assert_eq!(log(text).unwrap().gpus, 1);
        let text =
            "pci.bus_id, memory.used [MiB]\n00000000:07:00.0, 1 MiB\n00000000:0F:00.0, 1 MiB\n";
        assert_eq!(log(text).unwrap().gpus, 2);
    }

    #[test]
    fn nounits_values_take_the_header_unit() {
        let text = "\u{feff}timestamp, index, memory.used [MiB]\r\nt, 0, 15033\r\nt, 1, 2.5\r\n";
        let log = log(text).unwrap();
        assert_eq!((log.peak_bytes, log.line, log.gpus), (15_033.0 * MIB, 2, 2));
        let log = super::read(&b"memory.used [GiB]\n2\n1024 MiB\n"[..]).unwrap();
        assert_eq!((log.peak_bytes, log.line), (2.0 * 1024.0 * MIB, 2));
        let log = super::read(&b"memory.used\n7\n"[..]).unwrap();
        assert_eq!(log.peak_bytes, 7.0 * MIB);
    }

    #[test]
    fn unavailable_values_are_counted() {
        let text = "index, memory.used [MiB]\n0, [N/A]\n1, [Not Supported]\n0, 5 MiB\n";
        let log = log(text).unwrap();
        assert_eq!((log.samples, log.na, log.line), (1, 2, 4));
        assert_eq!(
            error("index, memory.used [MiB]\n0, [N/A]\n1, [Not Supported]\n"),
            "all 2 memory.used values are unavailable (`[N/A]` or `[Not Supported]`): \
             nvidia-smi cannot read this GPU's memory use, so the log holds no value"
        );
    }

    #[test]
    fn a_repeated_header_starts_a_new_section() {
        let text = "timestamp, index, memory.used [MiB]\n\
                    t, 0, 10 MiB\n\
                    timestamp, index, memory.used [MiB]\n\
                    t, 0, 30 MiB\n\
                    memory.used [MiB], utilization.gpu [%], index\n\
                    20 MiB, 5 %, 1\n";
        let log = log(text).unwrap();
        assert_eq!(
            (log.peak_bytes, log.line, log.samples, log.gpus),
            (30.0 * MIB, 4, 3, 2)
        );
        let e = error("memory.used [MiB]\n1 MiB\ntimestamp, index\nt, 0\n");
        assert_eq!(
            e,
            "line 3: the header has no `memory.used` column (it has timestamp, index): add \
             `memory.used` to `--query-gpu`"
        );
    }

    #[test]
    fn logs_without_a_header_are_refused() {
        assert_eq!(
            error("2025/07/25 12:42:08.972, 0 %, 15033 MiB\n"),
            "line 1 is not an nvidia-smi header (`2025/07/25 12:42:08.972, 0 %, 15033 MiB`): log \
             with `--format=csv` without `noheader`, so that the columns are named"
        );
        assert_eq!(
            error("\n\n0, 15033\n"),
            "line 3 is not an nvidia-smi header (`0, 15033`): log with `--format=csv` without \
             `noheader`, so that the columns are named"
        );
        assert_eq!(
            error("timestamp, utilization.gpu [%]\nt, 5 %\n"),
            "line 1: the header has no `memory.used` column (it has timestamp, utilization.gpu \
             [%]): add `memory.used` to `--query-gpu`"
        );
        assert_eq!(
            error("memory.used [MB]\n5\n"),
            "line 1: `memory.used` is in `[MB]`, which is not B, KiB, MiB or GiB"
        );
    }

    #[test]
    fn empty_and_header_only_logs() {
        let empty = "the file is empty: an nvidia-smi log starts with its header line";
        assert_eq!(error(""), empty);
        assert_eq!(error("\n \r\n\n"), empty);
        assert_eq!(
            error("timestamp, memory.used [MiB]\n"),
            "the log has a header but no samples: log for longer than one `-l` interval"
        );
    }

    #[test]
    fn binary_garbage_is_refused_with_the_line_shown() {
        let e = super::read(&b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1 is not an nvidia-smi header (`\\u{fffd}PNG`): log with `--format=csv` \
             without `noheader`, so that the columns are named"
        );
        let e = super::read(&b"memory.used [MiB]\0, x\n"[..]).unwrap_err();
        assert!(matches!(e, NvidiaSmiError::NoHeader { line: 1, .. }), "{e}");
        let long = format!("{}\n", "a,".repeat(100));
        let e = error(&long);
        assert_eq!(
            e,
            format!(
                "line 1 is not an nvidia-smi header (`{}…`): log with `--format=csv` without \
                 `noheader`, so that the columns are named",
                "a,".repeat(30)
            )
        );
        let e = super::read(&b"memory.used [MiB]\n5 MiB\n\xFF\xFE\n6 MiB\n"[..]).unwrap_err();
        assert_eq!(e.to_string(), "line 3 is not UTF-8 text: remove the line");
    }

    #[test]
    fn an_endless_line_is_refused() {
        let endless = io::repeat(b'x').take(1 << 40);
        let e = super::read(endless).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1 is longer than 64 KiB, which no nvidia-smi line is: check that this is an \
             nvidia-smi log"
        );
    }

    #[test]
    fn bad_rows_are_errors_except_a_cut_last_line() {
        let header = "timestamp, index, memory.used [MiB]\n";
        assert_eq!(
            error(&format!("{header}t, 0, 5 MiB\nt, 0\nt, 1, 6 MiB\n")),
            "line 3 has 2 fields, the header on line 1 has 3: remove the line, or restart the log \
             with a new header"
        );
        assert_eq!(
            error(&format!("{header}t, 0, 5 MiB\nt, 0, lots\n")),
            "line 3: memory.used `lots` is not an amount of memory: fix or remove the line"
        );
        assert_eq!(
            error(&format!("{header}t, 0, 5 MiB\nt, 0, -5 MiB\n")),
            "line 3: memory.used `-5 MiB` is not an amount of memory: fix or remove the line"
        );
        assert_eq!(
            error(&format!("{header}t, 0, 5 MiB\nt, 0, 5 MB\n")),
            "line 3: memory.used `5 MB` is not an amount of memory: fix or remove the line"
        );
        let read = log(&format!(
            "{header}t, 0, 5 MiB\nt, 0, 7 MiB\n2026/01/01 00:0"
        ))
        .unwrap();
        assert_eq!(
            (read.peak_bytes, read.samples, read.cut_last_line),
            (7.0 * MIB, 2, Some(4))
        );
        let read = log(&format!("{header}t, 0, 5 MiB\nt, 0, 9 M")).unwrap();
        assert_eq!((read.peak_bytes, read.cut_last_line), (5.0 * MIB, Some(3)));
        let read = log(&format!("{header}t, 0, 5 MiB\ntimestamp, ind")).unwrap();
        assert_eq!((read.samples, read.cut_last_line), (1, Some(3)));
        // A cut last line that still parses is a sample like any other.
        let read = log(&format!("{header}t, 0, 5 MiB\nt, 0, 9")).unwrap();
        assert_eq!((read.peak_bytes, read.cut_last_line), (9.0 * MIB, None));
    }

    #[test]
    fn a_large_log_streams_and_counts_gpus_up_to_the_cap() {
        let rows = 300_000;
        let log = super::read(Generated::new(rows, 2000)).unwrap();
        assert_eq!(log.peak_bytes, 80_000.0 * MIB);
        assert_eq!(log.line, 2 + rows / 2);
        assert_eq!(log.samples, rows);
        assert_eq!(log.gpus, MAX_GPUS);
    }

    #[test]
    fn headers_are_told_from_other_first_lines() {
        let headers = [
            "timestamp, memory.used [MiB]",
            "timestamp, utilization.gpu [%], memory.used [MiB]",
            "\u{feff}index,uuid,name,memory.total [MiB],memory.used [MiB],power.draw [W]\r\n",
            "memory.used [MiB]",
        ];
        for line in headers {
            assert!(is_nvidia_smi_header(line), "{line:?}");
        }
        let others = [
            "",
            "tp,pp,peak_gib,status",
            "timestamp, memory.used",
            "timestamp, memory.used [GiB]",
            "memory.used [MiB], Name",
            "\"Name\",\"State\",\"memory.used [MiB]\"",
            "2025/07/25 12:42:08.972, 0 %, 15033 MiB",
            "0, 15033",
            "memory.used [MiB] , [N/A]",
            "memory.used [[MiB]]",
            "memory.used []",
        ];
        for line in others {
            assert!(!is_nvidia_smi_header(line), "{line:?}");
        }
    }
}
