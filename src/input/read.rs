//! One input file, of any format, to the runs it records.
//!
//! Reading is split in two so that a watch can keep the costly half: the
//! file is parsed without the spec ([`parse`], cached by path), then the
//! spec's fields, units and outcomes pick the runs out of it ([`runs`]).
//! A file that is one run (a trace, a training log, a snapshot) gives one
//! [`Run`]; a table gives one per row. Where the file itself records how the
//! run ended (an out-of-memory error in a log, a status column), that is a
//! [`LogEntry`] too, so the table's rules treat it like a status log's line.

use std::collections::BTreeMap;
use std::io::{Read as _, Seek as _};
use std::path::Path;

use super::detect::{HEAD, detect};
use super::lines::for_each_line;
use super::nvidia_smi::{self, GpuLog};
use super::snapshot::{self, Snapshot};
use super::tabular::{self as table, Limits, Table, Value};
use super::trace::values::{Ranks, read_values, unreadable};
use super::training_log::{Scanner, Theory, TrainingLog};
use super::{LogEntry, Run, RunValues, STATUS_FIELDS, Status, Unusable, path_fields};
use crate::spec::{InputFormat, Inputs, Units};
use crate::warning::Warning;

/// A file as parsed, before the spec picks values out of it.
#[derive(Debug)]
pub(crate) enum Parsed {
    Trace(Ranks),
    Log(TrainingLog),
    Table(Result<Table, String>),
    Gpu(Result<GpuLog, String>),
    Snapshot(Result<Snapshot, String>),
    /// The file cannot be read: its config still gets a cell, with no data.
    Unreadable(String),
    /// The file is in no format memheat reads: why.
    Nothing(String),
}

/// Largest PyTorch snapshot read: the pickle is parsed whole, at about 17
/// bytes of memory per byte of file (24 without stack frames, measured on
/// 30–57 MB snapshots), so 64 MiB costs at most about 1.5 GiB.
pub(crate) const MAX_SNAPSHOT_BYTES: u64 = 64 << 20;

/// Parses the file at `path` in `format` (`Auto`: by its content).
pub(crate) fn parse(path: &Path, format: InputFormat) -> Parsed {
    match parse_file(path, format) {
        Ok(parsed) => parsed,
        Err(e) => Parsed::Unreadable(format!("cannot be read ({e})")),
    }
}

fn parse_file(path: &Path, format: InputFormat) -> std::io::Result<Parsed> {
    let mut file = std::fs::File::open(path)?;
    let format = match format {
        InputFormat::Auto => {
            let mut head = Vec::with_capacity(HEAD);
            (&mut file).take(HEAD as u64).read_to_end(&mut head)?;
            file.rewind()?;
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            match detect(&name, &head) {
                Ok(format) => format,
                Err(why) => {
                    return Ok(Parsed::Nothing(format!(
                        "{why}; it matches no input format"
                    )));
                }
            }
        }
        format => format,
    };
    Ok(match format {
        InputFormat::TraceJson | InputFormat::Auto => {
            Parsed::Trace(super::trace::read(&mut file).map_err(unreadable))
        }
        InputFormat::TrainingLog => {
            let mut scanner = Scanner::new();
            let mut number = 0;
            // A log still being written ends in a line cut short, whose
            // last number may be a prefix of the one to come.
            for_each_line(file, |line, ended| {
                number += 1;
                if let (Some(line), true) = (line, ended) {
                    scanner.line(number, line);
                }
            })?;
            Parsed::Log(scanner.finish())
        }
        InputFormat::Csv => {
            Parsed::Table(table::read_csv(file, &Limits::default()).map_err(|e| e.to_string()))
        }
        InputFormat::Jsonl => {
            Parsed::Table(table::read_jsonl(file, &Limits::default()).map_err(|e| e.to_string()))
        }
        InputFormat::NvidiaSmi => Parsed::Gpu(nvidia_smi::read(file).map_err(|e| e.to_string())),
        InputFormat::TorchSnapshot => Parsed::Snapshot(
            snapshot::read(file, MAX_SNAPSHOT_BYTES).map_err(|e| format!("snapshot: {e}")),
        ),
    })
}

/// What one file gives the sweep.
#[derive(Debug, Default)]
pub(crate) struct FileRuns {
    pub(crate) runs: Vec<Run>,
    pub(crate) entries: Vec<LogEntry>,
    pub(crate) warnings: Vec<Warning>,
    /// The file records outcomes, so a run it does not call failed ran.
    pub(crate) records_outcomes: bool,
}

/// The runs in `parsed`, the file at `path` whose path below its glob's
/// fixed directories is `below`.
pub(crate) fn runs(
    parsed: &Parsed,
    path: &Path,
    below: &str,
    inputs: &Inputs,
    units: &Units,
    axes: (&str, &str),
) -> FileRuns {
    let mut out = FileRuns::default();
    let warn = |out: &mut FileRuns, message: String| out.warnings.push(Warning::new(path, message));
    if let Parsed::Nothing(why) = parsed {
        warn(&mut out, format!("{why}; skipped"));
        return out;
    }
    // Only logs and tables state their config; a file of any other
    // format needs it from its path.
    let config_inside = matches!(parsed, Parsed::Log(_) | Parsed::Table(_));
    let captures = path_fields::fields(inputs.filename.as_ref(), below).filter(|f| {
        inputs.filename.is_some()
            || config_inside
            || f.contains_key(axes.0) && f.contains_key(axes.1)
    });
    let Some(captures) = captures else {
        warn(
            &mut out,
            "file name does not match `inputs.filename`; skipped".into(),
        );
        return out;
    };
    match parsed {
        Parsed::Nothing(_) => {}
        Parsed::Unreadable(why) => {
            warn(&mut out, format!("{why}; the cell shows no data"));
            out.runs
                .push(run(path, captures, Err(Unusable(why.clone()))));
        }
        Parsed::Trace(Ok(ranks)) => {
            let content = read_values(ranks, path, inputs, &mut out.warnings);
            out.runs.push(run(path, captures, content));
        }
        Parsed::Trace(Err(unreadable)) => {
            warn(
                &mut out,
                format!("{}; the cell shows no data", unreadable.warning),
            );
            out.runs.push(run(
                path,
                captures,
                Err(Unusable(unreadable.reason.clone())),
            ));
        }
        Parsed::Log(log) => log_runs(log, path, captures, inputs, units, &mut out),
        Parsed::Table(Ok(table)) => table_runs(table, path, &captures, inputs, &mut out),
        Parsed::Table(Err(why)) | Parsed::Gpu(Err(why)) | Parsed::Snapshot(Err(why)) => {
            warn(&mut out, format!("{why}; skipped"))
        }
        Parsed::Snapshot(Ok(snapshot)) => {
            snapshot_run(snapshot, path, captures, inputs, units, &mut out)
        }
        Parsed::Gpu(Ok(gpu)) => gpu_run(gpu, path, captures, inputs, units, &mut out),
    }
    out
}

fn run(
    path: &Path,
    captures: BTreeMap<String, String>,
    content: Result<RunValues, Unusable>,
) -> Run {
    Run {
        path: path.to_path_buf(),
        line: None,
        captures,
        content,
    }
}

/// The memory metric a training log's run is drawn by, unless
/// `inputs.actual` names another.
pub(crate) const LOG_ACTUAL: &str = "max_allocated";
/// The theory value's name among a training log's numbers.
pub(crate) const LOG_THEORY: &str = "theory";

/// A training log is one run: its config from the arguments the framework
/// printed (over the path's fields), its peak readings, its theory line and
/// whether it ran out of memory.
fn log_runs(
    log: &TrainingLog,
    path: &Path,
    mut captures: BTreeMap<String, String>,
    inputs: &Inputs,
    units: &Units,
    out: &mut FileRuns,
) {
    if log.formats.is_empty() && log.oom.is_none() && log.config.is_empty() {
        out.warnings.push(Warning::new(
            path,
            "matches no input format: it is text, but holds no memory report (Megatron-LM, \
             Megatron-Bridge, DeepSpeed, torchtitan), no CUDA out-of-memory error and no \
             Megatron arguments; skipped",
        ));
        return;
    }
    for (key, (value, line)) in &log.config {
        if let Some(old) = captures.insert(key.clone(), value.clone())
            && &old != value
        {
            out.warnings.push(Warning {
                path: path.to_path_buf(),
                line: Some(*line),
                message: format!(
                    "the log says `{key}` = {value}, its path says {old}; the log's value is used"
                ),
            });
        }
    }
    let in_input_units = |bytes: f64| bytes / units.input.bytes();
    let mut numbers: BTreeMap<String, f64> = log
        .metrics
        .iter()
        .map(|(name, reading)| (name.to_string(), in_input_units(reading.bytes)))
        .collect();
    if let Theory::Known { total, .. } = log.theory {
        numbers.insert(LOG_THEORY.into(), in_input_units(total));
    }
    let names = (LOG_ACTUAL, Some(LOG_THEORY));
    let content = match (&log.oom, chosen(&numbers, names, inputs)) {
        (Some(_), (None, _)) => Err(Unusable("no memory report before the OOM".into())),
        _ => values(numbers, names, inputs, path, out),
    };
    // A run that reported memory and did not run out of it got as far as
    // its report: the line of its largest reading says so.
    let last_report = log.metrics.values().map(|r| r.line).max();
    let outcome = match (&log.oom, last_report) {
        (Some(oom), _) => Some((Status::Failure, oom.line)),
        (None, Some(line)) if content.is_ok() => Some((Status::Success, line)),
        (None, _) => None,
    };
    if let Some((status, line)) = outcome {
        out.entries.push(LogEntry {
            path: path.to_path_buf(),
            line,
            status,
            captures: captures.clone(),
        });
    }
    out.records_outcomes = true;
    out.runs.push(run(path, captures, content));
}

/// A table is a run per row: every cell a field of the run (a number as a
/// number, so `tp` = `4.0` and `4` are one config), `inputs.actual` and
/// `inputs.theory` its values, the status column its outcome.
fn table_runs(
    table: &Table,
    path: &Path,
    path_fields: &BTreeMap<String, String>,
    inputs: &Inputs,
    out: &mut FileRuns,
) {
    let at = |out: &mut FileRuns, line: usize, message: String| {
        out.warnings.push(Warning {
            path: path.to_path_buf(),
            line: Some(line),
            message,
        });
    };
    for skipped in &table.skipped {
        at(out, skipped.line, format!("{skipped}; row skipped"));
    }
    if table.skipped_unlisted > 0 {
        out.warnings.push(Warning::new(
            path,
            format!("{} more row(s) skipped", table.skipped_unlisted),
        ));
    }
    let column = |name: &str| {
        table
            .columns
            .iter()
            .find(|c| c.eq_ignore_ascii_case(name))
            .map(|c| c.to_string())
    };
    let columns = || {
        let names: Vec<&str> = table.columns.iter().map(|c| &**c).collect();
        names.join(", ")
    };
    let Some(actual) = inputs.actual.as_deref().and_then(column) else {
        out.warnings.push(Warning::new(
            path,
            match &inputs.actual {
                Some(name) => format!("has no column `{name}` (it has {}); skipped", columns()),
                None => format!(
                    "is a table: set `inputs.actual` to the column of the actual value (it has {}); skipped",
                    columns()
                ),
            },
        ));
        return;
    };
    let theory = inputs.theory.as_deref().and_then(column);
    let status = match &inputs.status {
        Some(name) => column(name),
        None => STATUS_FIELDS.iter().find_map(|c| column(c)),
    };
    out.records_outcomes = status.is_some();
    for row in &table.rows {
        let (captures, numbers) = row_fields(row, path_fields);
        let content = match row.get(&actual) {
            Some(Value::Number(n)) => Ok(RunValues {
                actual: *n,
                theory: theory.as_deref().and_then(|t| match row.get(t) {
                    Some(Value::Number(n)) => Some(*n),
                    _ => None,
                }),
                numbers,
            }),
            Some(Value::Text(t)) => {
                at(
                    out,
                    row.line,
                    format!("`{actual}` is {t:?}, not a number; the cell shows no data"),
                );
                Err(Unusable(format!("`{actual}` is not a number")))
            }
            _ => Err(Unusable(format!("no `{actual}` value"))),
        };
        if let Some(column) = &status {
            match row_outcome(row, column, inputs) {
                Ok(status) => out.entries.push(LogEntry {
                    path: path.to_path_buf(),
                    line: row.line,
                    status,
                    captures: captures.clone(),
                }),
                Err(why) => at(out, row.line, why),
            }
        }
        out.runs.push(Run {
            line: Some(row.line),
            ..run(path, captures, content)
        });
    }
}

/// A row's config fields (each column's text, under its name and its
/// lower-case name, over the path's fields) and its numeric fields.
fn row_fields(
    row: &table::Row,
    path_fields: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, BTreeMap<String, f64>) {
    let mut captures = path_fields.clone();
    let mut numbers = BTreeMap::new();
    for (name, value) in &row.fields {
        let text = match value {
            Value::Number(n) => {
                numbers.insert(name.to_string(), *n);
                n.to_string()
            }
            Value::Text(t) => t.clone(),
            Value::Empty => continue,
        };
        let lower = name.to_ascii_lowercase();
        if lower != **name {
            captures.entry(lower).or_insert_with(|| text.clone());
        }
        captures.insert(name.to_string(), text);
    }
    (captures, numbers)
}

/// The outcome a row's status `column` names, or why it names none.
fn row_outcome(row: &table::Row, column: &str, inputs: &Inputs) -> Result<Status, String> {
    match row.get(column) {
        Some(Value::Text(word)) => inputs.outcomes.of(word).ok_or_else(|| {
            format!(
                "`{column}` is {word:?}, which `inputs.outcomes` names neither a success nor a failure; the row's outcome is unknown"
            )
        }),
        _ => Err(format!("no `{column}` value; the row's outcome is unknown")),
    }
}

/// The peak `memory.used` of an nvidia-smi log, the run's only value.
pub(crate) const GPU_ACTUAL: &str = "memory_used";

/// An nvidia-smi log is one run: its peak over every GPU and sample.
fn gpu_run(
    gpu: &GpuLog,
    path: &Path,
    captures: BTreeMap<String, String>,
    inputs: &Inputs,
    units: &Units,
    out: &mut FileRuns,
) {
    if gpu.gpus > 1 {
        out.warnings.push(Warning::new(
            path,
            format!(
                "samples {} GPUs; the cell shows the largest `memory.used` of any of them",
                gpu.gpus
            ),
        ));
    }
    if let Some(line) = gpu.cut_last_line {
        out.warnings.push(Warning {
            path: path.to_path_buf(),
            line: Some(line),
            message: "the last line is cut short (still being written?); ignored".into(),
        });
    }
    let peak = gpu.peak_bytes / units.input.bytes();
    let numbers = BTreeMap::from([(GPU_ACTUAL.to_string(), peak)]);
    let content = values(numbers, (GPU_ACTUAL, None), inputs, path, out);
    out.runs.push(run(path, captures, content));
}

/// A snapshot's replayed peak of allocated memory, the run's value unless
/// `inputs.actual` names another of its numbers.
pub(crate) const SNAPSHOT_ACTUAL: &str = "peak_allocated";

/// A PyTorch memory snapshot is one run: the peaks replayed from its trace
/// window, and its totals at dump time; an `oom` entry makes it failed.
fn snapshot_run(
    snapshot: &Snapshot,
    path: &Path,
    captures: BTreeMap<String, String>,
    inputs: &Inputs,
    units: &Units,
    out: &mut FileRuns,
) {
    let in_input_units = |bytes: f64| bytes / units.input.bytes();
    let mut numbers = BTreeMap::from([
        (
            "allocated_at_dump".to_string(),
            in_input_units(snapshot.allocated_at_dump),
        ),
        (
            "reserved_at_dump".to_string(),
            in_input_units(snapshot.reserved_at_dump),
        ),
    ]);
    for (name, peak) in [
        (SNAPSHOT_ACTUAL, snapshot.peak_allocated),
        ("peak_reserved", snapshot.peak_reserved),
    ] {
        if let Some(peak) = peak {
            numbers.insert(name.to_string(), in_input_units(peak));
        }
    }
    let actual = if inputs.actual.is_none() && snapshot.peak_allocated.is_none() {
        out.warnings.push(Warning::new(
            path,
            "the snapshot records no allocations (no `device_traces` entries), so the cell shows the memory allocated when it was dumped, not the peak",
        ));
        "allocated_at_dump"
    } else {
        SNAPSHOT_ACTUAL
    };
    let content = values(numbers, (actual, None), inputs, path, out);
    if snapshot.oom.is_some() {
        out.records_outcomes = true;
        out.entries.push(LogEntry {
            path: path.to_path_buf(),
            line: 1,
            status: Status::Failure,
            captures: captures.clone(),
        });
    }
    out.runs.push(run(path, captures, content));
}

/// The names of a one-run file's actual and theory values: `inputs.actual`
/// and `inputs.theory` over the format's own `names`; and the actual value,
/// if the file has it.
fn chosen<'a>(
    numbers: &BTreeMap<String, f64>,
    names: (&'a str, Option<&'a str>),
    inputs: &'a Inputs,
) -> (Option<f64>, (&'a str, Option<&'a str>)) {
    let actual = inputs.actual.as_deref().unwrap_or(names.0);
    let theory = inputs.theory.as_deref().or(names.1);
    (numbers.get(actual).copied(), (actual, theory))
}

/// A one-run file's values from its `numbers` (in input units); without
/// the actual value, a warning that lists the numbers the file has.
fn values(
    numbers: BTreeMap<String, f64>,
    names: (&str, Option<&str>),
    inputs: &Inputs,
    path: &Path,
    out: &mut FileRuns,
) -> Result<RunValues, Unusable> {
    let (actual, (actual_name, theory_name)) = chosen(&numbers, names, inputs);
    let Some(actual) = actual else {
        let found: Vec<&str> = numbers.keys().map(String::as_str).collect();
        out.warnings.push(Warning::new(
            path,
            if found.is_empty() {
                "reports no memory; the cell shows no data".to_string()
            } else {
                format!(
                    "reports no `{actual_name}` (it has {}); set `inputs.actual`; the cell shows no data",
                    found.join(", ")
                )
            },
        ));
        return Err(Unusable(format!("no `{actual_name}` value")));
    };
    Ok(RunValues {
        actual,
        theory: theory_name.and_then(|t| numbers.get(t).copied()),
        numbers,
    })
}
