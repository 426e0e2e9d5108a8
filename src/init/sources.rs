//! Which input makes the sweep: trace JSON files first (the richest), then
//! training logs that state their config and memory, then a results
//! table. The first the directory has is the one the spec reads; the
//! others are named in its comments.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::location::{self, Location};
use super::render::{Choice, Globs, Peak};
use super::traces::{self, Config};
use super::{InitError, Question, has_extension, names};
use crate::input::peek::{LogPeek, Peek, TablePeek, peek};
use crate::spec::{Outcomes, Unit, canonical};
use crate::warning::Warning;

/// Extensions of the files read to find logs and tables. Others (model
/// checkpoints, scripts, images) are never opened.
const PEEKED: [&str; 11] = [
    "log", "txt", "out", "err", "csv", "tsv", "jsonl", "ndjson", "pickle", "pkl", "",
];

/// The sweep's input, and what the spec's other sections need of it.
pub(super) struct Found {
    pub source: Source,
    /// x, then y.
    pub axes: [Axis; 2],
    pub peak: Peak,
    pub has_theory: bool,
    /// The files the spec reads as runs.
    files: BTreeSet<PathBuf>,
}

impl Found {
    pub(super) fn reads(&self, path: &Path) -> bool {
        self.files.contains(path)
    }
}

pub(super) struct Axis {
    pub key: String,
    pub distinct: usize,
}

pub(super) enum Source {
    Traces(TraceSource),
    Logs(LogSource),
    Table(TableSource),
}

pub(super) struct TraceSource {
    pub globs: Globs,
    /// JSON files under the directory that are not traces.
    pub ignored: Vec<String>,
    pub config: Config,
    pub rank: Choice,
    pub actual: Choice,
    pub theory: Option<Choice>,
    /// How many traces were read for the fields.
    pub sampled: usize,
}

pub(super) struct LogSource {
    pub globs: Globs,
    pub example: String,
    pub runs: usize,
    pub formats: Vec<&'static str>,
    /// Runs whose config the log states (arguments dump, world-size line).
    pub stated: usize,
    pub failed: usize,
    pub with_theory: usize,
    /// Logs with runs that the glob leaves out (another name shape).
    pub left_out: Vec<String>,
}

pub(super) struct TableSource {
    pub path: String,
    pub rows: usize,
    pub columns: Vec<String>,
    pub actual: Choice,
    pub theory: Option<Choice>,
    /// The status column, and whether the spec must name it.
    pub status: Option<(String, bool)>,
    /// Outcome words of the status column that memheat's defaults miss.
    pub outcomes: Option<Outcomes>,
    /// Other tables, not read.
    pub others: Vec<String>,
}

/// The sweep under `dir`, from `files` (all files under it, sorted).
pub(super) fn find(
    dir: &Path,
    files: &[PathBuf],
    location: &Location,
    ask: &mut dyn FnMut(&Question) -> usize,
    warnings: &mut Vec<Warning>,
) -> Result<Found, InitError> {
    let json: Vec<PathBuf> = files
        .iter()
        .filter(|p| has_extension(p, &["json"]))
        .cloned()
        .collect();
    let trace_error = match traces::find_traces(dir, &json, warnings) {
        Ok(found) => match traces::read_config(dir, &found) {
            Ok(config) => return Ok(from_traces(dir, found, config, &json, location, ask)),
            Err(e) => e,
        },
        Err(e) => e,
    };
    let peeked: Vec<(PathBuf, Peek)> = files
        .iter()
        .filter(|p| !has_extension(p, &["json"]) && peeked(p))
        .map(|p| (p.clone(), peek(p)))
        .collect();
    if let Some(found) = from_logs(dir, &peeked, location) {
        return Ok(found);
    }
    if let Some(found) = from_table(dir, &peeked, location, ask) {
        return Ok(found);
    }
    Err(match trace_error {
        InitError::NoTraces { dir, found } if !peeked.is_empty() => InitError::NoTraces {
            found: format!(
                "{found}, and none of its {} other file(s) is a training log that reports memory or a table with a numeric column per config field",
                peeked.len()
            ),
            dir,
        },
        e => e,
    })
}

fn peeked(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    PEEKED.iter().any(|x| ext.eq_ignore_ascii_case(x))
}

fn from_traces(
    dir: &Path,
    found: traces::Traces,
    config: Config,
    json: &[PathBuf],
    location: &Location,
    ask: &mut dyn FnMut(&Question) -> usize,
) -> Found {
    let choices = traces::choose_fields(&found.numbers, ask);
    let axes = config.axes.map(|slot| Axis {
        key: config.key(slot).to_string(),
        distinct: config.slots[slot].distinct,
    });
    let globs = location::globs(dir, &found.files, json, location, config.depth > 1);
    let files: BTreeSet<PathBuf> = found.files.iter().cloned().collect();
    Found {
        has_theory: choices.theory.is_some(),
        peak: choices.peak,
        axes,
        source: Source::Traces(TraceSource {
            globs,
            ignored: json
                .iter()
                .filter(|p| !files.contains(*p))
                .map(|p| location.path(dir, p))
                .collect(),
            sampled: found.numbers.len(),
            config,
            rank: choices.rank,
            actual: choices.actual,
            theory: choices.theory,
        }),
        files,
    }
}

/// Training logs of runs, when their configs (stated, or in their paths)
/// tell at least two of them apart on some field.
fn from_logs(dir: &Path, peeked: &[(PathBuf, Peek)], location: &Location) -> Option<Found> {
    let runs: Vec<(&PathBuf, BTreeMap<String, String>, &LogPeek)> = peeked
        .iter()
        .filter_map(|(path, p)| match p {
            Peek::Log(log) if log.is_run() => {
                let below = location::below(dir, path);
                let mut config = crate::input::path_tokens(&below);
                config.extend(log.config.clone());
                Some((path, config, log))
            }
            _ => None,
        })
        .collect();
    // The largest group of one name shape: a sweep's logs are named alike.
    let mut shapes: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
    for (i, (path, ..)) in runs.iter().enumerate() {
        let name = path.file_name()?.to_string_lossy();
        let shape = names::split(&name)
            .0
            .iter()
            .map(|s| s.to_string())
            .collect();
        shapes.entry(shape).or_default().push(i);
    }
    let group = shapes.into_values().max_by_key(Vec::len)?;
    let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for &i in &group {
        for (key, value) in &runs[i].1 {
            if value.parse::<f64>().is_ok() {
                values
                    .entry(key.clone())
                    .or_default()
                    .insert(canonical(value));
            }
        }
    }
    let axes = choose_axes(&values)?;
    let files: Vec<PathBuf> = group.iter().map(|&i| runs[i].0.clone()).collect();
    let others: Vec<PathBuf> = peeked
        .iter()
        .map(|(p, _)| p.clone())
        .filter(|p| !files.contains(p))
        .collect();
    // Configs stated only in directory names need the whole path below
    // the glob's fixed part.
    let deep = group.iter().any(|&i| {
        let stated = &runs[i].2.config;
        axes.iter().any(|a| !stated.contains_key(&a.key))
    });
    let logs: Vec<&LogPeek> = group.iter().map(|&i| runs[i].2).collect();
    let mut formats: Vec<&'static str> = Vec::new();
    for format in logs.iter().flat_map(|l| &l.formats) {
        if !formats.contains(format) {
            formats.push(format);
        }
    }
    let largest = logs.iter().filter_map(|l| l.peak_bytes).fold(0.0, f64::max);
    let with_theory = logs.iter().filter(|l| l.theory).count();
    Some(Found {
        has_theory: with_theory > 0,
        peak: Peak {
            unit: None,
            largest_gib: largest / Unit::GiB.bytes(),
        },
        axes,
        source: Source::Logs(LogSource {
            globs: location::globs(dir, &files, &others, location, deep),
            example: location.path(dir, &files[0]),
            runs: files.len(),
            formats,
            stated: logs
                .iter()
                .filter(|l| ["tp", "pp"].iter().any(|k| l.config.contains_key(*k)))
                .count(),
            failed: logs.iter().filter(|l| l.oom).count(),
            with_theory,
            left_out: runs
                .iter()
                .filter(|(p, ..)| !files.contains(p))
                .map(|(p, ..)| location.path(dir, p))
                .collect(),
        }),
        files: files.into_iter().collect(),
    })
}

/// x and y among config fields (each with its distinct values): `pp`
/// and `tp` when the runs have both; else the two fields with the most
/// distinct values (more across).
fn choose_axes(values: &BTreeMap<String, BTreeSet<String>>) -> Option<[Axis; 2]> {
    let axis = |key: &str| Axis {
        key: key.to_string(),
        distinct: values[key].len(),
    };
    if values.contains_key("pp") && values.contains_key("tp") {
        return Some([axis("pp"), axis("tp")]);
    }
    let mut varying: Vec<(&String, usize)> = values
        .iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(k, v)| (k, v.len()))
        .collect();
    varying.sort_by_key(|(k, n)| (std::cmp::Reverse(*n), *k));
    match varying.as_slice() {
        [(a, _), (b, _), ..] => Some([axis(a), axis(b)]),
        _ => None,
    }
}

/// The results table with the most rows, when it has numeric config
/// columns and a memory column.
fn from_table(
    dir: &Path,
    peeked: &[(PathBuf, Peek)],
    location: &Location,
    ask: &mut dyn FnMut(&Question) -> usize,
) -> Option<Found> {
    let tables: Vec<(&PathBuf, &TablePeek)> = peeked
        .iter()
        .filter_map(|(path, p)| match p {
            Peek::Table(table) if table.rows > 0 => Some((path, table)),
            _ => None,
        })
        .collect();
    let &(path, table) = tables
        .iter()
        .max_by_key(|(p, t)| (t.rows, std::cmp::Reverse(*p)))?;
    // Integer columns with few values are config fields; the rest metrics.
    let is_config = |column: &str| {
        let numbers = &table.numbers[column];
        let distinct: BTreeSet<String> = numbers.iter().map(|n| n.to_string()).collect();
        numbers.iter().all(|n| n.fract() == 0.0) && distinct.len() <= 64.max(table.rows / 2)
    };
    let lowered = |c: &String| c.to_ascii_lowercase();
    let mut by_column: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (column, numbers) in &table.numbers {
        if is_config(column) {
            by_column
                .entry(lowered(column))
                .or_default()
                .extend(numbers.iter().map(|n| n.to_string()));
        }
    }
    let axes = choose_axes(&by_column)?;
    let metrics: BTreeMap<String, Vec<f64>> = table
        .numbers
        .iter()
        .filter(|(c, _)| !axes.iter().any(|a| a.key == lowered(c)))
        .map(|(c, n)| (c.clone(), n.clone()))
        .collect();
    if metrics.is_empty() {
        return None;
    }
    let (actual, theory) = super::choose_metrics(&metrics, table.rows, "column", ask);
    let peak = super::peak(&actual.chosen, &metrics[&actual.chosen]);
    let status = status_column(table);
    let outcomes = status
        .as_ref()
        .and_then(|(column, _)| outcomes(&table.words[column]));
    Some(Found {
        has_theory: theory.is_some(),
        peak,
        axes,
        source: Source::Table(TableSource {
            path: location.literal(dir, path),
            rows: table.rows,
            columns: table.columns.clone(),
            actual,
            theory,
            status,
            outcomes,
            others: tables
                .iter()
                .filter(|(p, _)| *p != path)
                .map(|(p, _)| location.path(dir, p))
                .collect(),
        }),
        files: BTreeSet::from([path.clone()]),
    })
}

/// The column whose words are outcomes: one the build reads by its name
/// (`status`, `state`, …), else the text column most of whose words name
/// an outcome. The flag says the spec must name it.
fn status_column(table: &TablePeek) -> Option<(String, bool)> {
    if let Some(column) = table.columns.iter().find(|c| {
        crate::input::STATUS_FIELDS
            .iter()
            .any(|n| c.eq_ignore_ascii_case(n))
    }) {
        return Some((column.clone(), false));
    }
    table
        .words
        .iter()
        .filter(|(_, words)| {
            let named = words
                .iter()
                .filter(|w| super::logs::status(w).is_some())
                .count();
            named * 2 > words.len()
        })
        .map(|(c, _)| (c.clone(), true))
        .next()
}

/// memheat's outcome words plus those of `words` it does not know but
/// that say an outcome (`FINISHED`, `OOM-KILLED`); `None` when it knows
/// them all.
fn outcomes(words: &BTreeSet<String>) -> Option<Outcomes> {
    let mut outcomes = Outcomes::default();
    let mut added = false;
    for word in words {
        if outcomes.of(word).is_some() {
            continue;
        }
        match super::logs::status(word) {
            Some(crate::input::Status::Success) => outcomes.success.push(word.clone()),
            Some(crate::input::Status::Failure) => outcomes.failure.push(word.clone()),
            None => continue,
        }
        added = true;
    }
    added.then_some(outcomes)
}
