//! What a file holds, told the way a build would read it, for `memheat
//! init`: it decides which files make the sweep and writes the spec, so it
//! must see each file through the build's own detection and parsers, never
//! through a second, subtly different reading.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::read::{LOG_ACTUAL, Parsed, parse};
use super::tabular::Value;
use super::training_log::Theory;
use crate::spec::InputFormat;

/// Distinct texts kept per table column: enough to tell a status column.
const MAX_WORDS: usize = 32;

/// A file's content as far as init needs it.
#[derive(Debug)]
pub(crate) enum Peek {
    /// A trace JSON (init reads its ranks itself).
    Trace,
    Log(LogPeek),
    Table(TablePeek),
    /// One run per file whose config is in the path: an nvidia-smi log or
    /// a PyTorch snapshot.
    OneRun,
    /// In no format a build reads, or unreadable.
    Nothing,
}

/// A training log's run, as the build reads it.
#[derive(Debug, Default)]
pub(crate) struct LogPeek {
    /// `megatron`, `deepspeed`, …
    pub(crate) formats: Vec<&'static str>,
    /// Config from the arguments dump and the world-size line, aliases
    /// (`tp`, `pp`, …) included.
    pub(crate) config: BTreeMap<String, String>,
    /// The peak the figure draws by default, in bytes.
    pub(crate) peak_bytes: Option<f64>,
    pub(crate) theory: bool,
    pub(crate) oom: bool,
}

impl LogPeek {
    /// It records a run: memory readings or an OOM.
    pub(crate) fn is_run(&self) -> bool {
        self.peak_bytes.is_some() || self.oom
    }
}

/// A table's columns and what they hold.
#[derive(Debug, Default)]
pub(crate) struct TablePeek {
    /// In file order.
    pub(crate) columns: Vec<String>,
    pub(crate) rows: usize,
    /// Each column's numbers, in row order.
    pub(crate) numbers: BTreeMap<String, Vec<f64>>,
    /// Each column's distinct texts, at most [`MAX_WORDS`].
    pub(crate) words: BTreeMap<String, BTreeSet<String>>,
}

/// Reads the file at `path` as `inputs.format: auto` would.
pub(crate) fn peek(path: &Path) -> Peek {
    match parse(path, InputFormat::Auto) {
        Parsed::Trace(_) => Peek::Trace,
        Parsed::Log(log) => Peek::Log(LogPeek {
            formats: log.formats.clone(),
            config: log
                .config
                .iter()
                .map(|(k, (v, _))| (k.clone(), v.clone()))
                .collect(),
            peak_bytes: log.metrics.get(LOG_ACTUAL).map(|r| r.bytes),
            theory: matches!(log.theory, Theory::Known { .. }),
            oom: log.oom.is_some(),
        }),
        Parsed::Table(Ok(table)) => {
            let mut peek = TablePeek {
                columns: table.columns.iter().map(|c| c.to_string()).collect(),
                rows: table.rows.len(),
                ..TablePeek::default()
            };
            for row in &table.rows {
                for (column, value) in &row.fields {
                    match value {
                        Value::Number(n) => {
                            peek.numbers.entry(column.to_string()).or_default().push(*n)
                        }
                        Value::Text(text) => {
                            let words = peek.words.entry(column.to_string()).or_default();
                            if words.len() < MAX_WORDS {
                                words.insert(text.clone());
                            }
                        }
                        Value::Empty => {}
                    }
                }
            }
            Peek::Table(peek)
        }
        Parsed::Gpu(Ok(_)) | Parsed::Snapshot(Ok(_)) => Peek::OneRun,
        Parsed::Table(Err(_))
        | Parsed::Gpu(Err(_))
        | Parsed::Snapshot(Err(_))
        | Parsed::Unreadable(_)
        | Parsed::Nothing(_) => Peek::Nothing,
    }
}
