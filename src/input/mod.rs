//! Loads a sweep: trace files found by the spec's globs, and the status logs.
//!
//! Policy for bad data: anything wrong with a file the user did not write by
//! hand is a [`Warning`] naming the file and the reason, and the file's cell
//! shows what is known. Only a problem in the spec itself (a glob that
//! matches nothing, a missing log) is an error.

mod cache;
mod detect;
mod lines;
mod nvidia_smi;
mod path_fields;
pub(crate) mod peek;
mod read;
mod snapshot;
mod status;
mod tabular;
pub(crate) mod trace;
mod training_log;
pub(crate) mod walk;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

pub use cache::TraceCache;
pub(crate) use path_fields::tokens as path_tokens;
use read::{FileRuns, parse, runs};
use status::load_logs;
pub(crate) use status::{LogEntry, Status};
pub(crate) use status::{STATUS_FIELDS, status_lines};

use crate::progress::Report;
use crate::spec::{BaseDir, Key, KeyError, Part, Sources, Units, X_DEFAULTS, Y_DEFAULTS};
use crate::warning::Warning;
use walk::WalkError;

/// One run of the sweep: a trace, a training log, a table's row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Run {
    pub path: PathBuf,
    /// The line of a table's row; `None` for a file that is one run.
    pub line: Option<usize>,
    /// Its config: the fields of its path, and those the file states.
    pub captures: BTreeMap<String, String>,
    /// What the file holds, or why nothing usable could be read from it.
    pub content: Result<RunValues, Unusable>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunValues {
    /// Finite numeric scalar fields of the rank, in input units.
    pub numbers: BTreeMap<String, f64>,
    /// The `actual` field, in input units.
    pub actual: f64,
    /// The `theory` field; `None` when missing or not finite.
    pub theory: Option<f64>,
}

/// Why a trace gives no value; the warning says more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unusable(pub String);

#[derive(Debug, Default)]
pub(crate) struct Sweep {
    pub runs: Vec<Run>,
    pub log: Vec<LogEntry>,
    pub warnings: Vec<Warning>,
    /// Every file read, sorted: the build's dependencies.
    pub inputs: Vec<PathBuf>,
    /// How many files the trace globs matched (named as the pattern wants
    /// or not).
    pub matched_traces: usize,
    /// Every directory a glob listed, sorted: a file added to or removed
    /// from one changes its mtime, which is how make notices a new trace.
    pub dirs: Vec<PathBuf>,
    /// Some input says how runs ended (a status log, a training log, a
    /// status column): without one, a run that died of OOM left no trace
    /// and no cell says so.
    pub records_outcomes: bool,
    /// The status logs list runs that succeeded, so a trace they do not
    /// list is unaccounted for. (A failure log alone lists the exceptions:
    /// every other trace ran.)
    pub lists_successes: bool,
}

/// A file a glob matched, and its path below the glob's fixed directories.
struct Found {
    path: PathBuf,
    below: String,
}

/// Resolves the globs of one part of the spec (its `inputs`, or a
/// panel's), each against the directory of the file that wrote it, and
/// reads every match, trace files in parallel. An error's keys are the
/// part's; on an error, `sweep` holds what was read before it.
pub(crate) fn load(
    part: &Part,
    units: &Units,
    sources: &Sources,
    cache: Option<&TraceCache>,
    report: Report<'_>,
    sweep: &mut Sweep,
) -> Result<(), KeyError> {
    let result = load_into(part, units, sources, cache, report, sweep);
    sweep.inputs.sort();
    sweep.inputs.dedup();
    sweep.dirs.sort();
    sweep.dirs.dedup();
    result
}

fn load_into(
    part: &Part,
    units: &Units,
    sources: &Sources,
    cache: Option<&TraceCache>,
    report: Report<'_>,
    sweep: &mut Sweep,
) -> Result<(), KeyError> {
    let inputs = part.inputs;
    let axes = (
        part.axes.x.field(&X_DEFAULTS),
        part.axes.y.field(&Y_DEFAULTS),
    );
    let found = expand_globs(
        &inputs.traces.0,
        sources,
        &part.keys(&[Key::Field("inputs"), Key::Field("traces")]),
        sweep,
    )?;
    report.stage("reading inputs", found.len() as u64);
    let results: Vec<FileRuns> = found
        .par_iter()
        .map(|file| {
            let parsed = match cache {
                Some(cache) => cache.parsed(&file.path, inputs.format),
                None => Arc::new(parse(&file.path, inputs.format)),
            };
            let runs = runs(&parsed, &file.path, &file.below, inputs, units, axes);
            report.step();
            runs
        })
        .collect();
    for file in results {
        sweep.runs.extend(file.runs);
        sweep.log.extend(file.entries);
        sweep.warnings.extend(file.warnings);
        sweep.records_outcomes |= file.records_outcomes;
    }
    sweep.matched_traces = found.len();
    sweep.inputs.extend(found.into_iter().map(|f| f.path));
    check_newest_by(part, &sweep.runs)?;
    if let Some(logs) = &inputs.logs {
        load_logs(logs, part, inputs, sources, axes, sweep)?;
        sweep.records_outcomes = true;
    }
    Ok(())
}

/// A `newest-by` field the user named must be a field of some run, or
/// re-runs would be told apart by file name without a word. (With an
/// `inputs.filename`, the spec check already asked it of the pattern.)
fn check_newest_by(part: &Part, runs: &[Run]) -> Result<(), KeyError> {
    let field = &part.inputs.newest_by;
    if field == "ts" || runs.is_empty() || runs.iter().any(|r| r.captures.contains_key(field)) {
        return Ok(());
    }
    let names: std::collections::BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.captures.keys().map(String::as_str))
        .collect();
    let names: Vec<&str> = names.into_iter().collect();
    Err(KeyError::new(
        &part.keys(&[Key::Field("inputs"), Key::Field("newest-by")]),
        format!("`{field}` is a field of no run: not in any path, nor in any file"),
        Some(match crate::spec::closest(field, &names) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("the fields are: {}", names.join(", ")),
        }),
    ))
}

/// Each glob must match at least one file: an empty match is almost always
/// a wrong path, and a figure silently missing data is worse than an error.
fn expand_globs(
    globs: &[String],
    sources: &Sources,
    keys: &[Key<'static>],
    sweep: &mut Sweep,
) -> Result<Vec<Found>, KeyError> {
    let BaseDir {
        dir: base,
        described,
    } = sources.dir_of(keys);
    let warnings = &mut sweep.warnings;
    let mut files = Vec::new();
    for (i, pattern) in globs.iter().enumerate() {
        let mut at = keys.to_vec();
        if globs.len() > 1 {
            at.push(Key::Index(i));
        }
        let full = if Path::new(pattern).is_absolute() || base.as_os_str().is_empty() {
            pattern.clone()
        } else {
            // The base may hold glob metacharacters ("[draft]/"); they are literal.
            format!(
                "{}/{pattern}",
                glob::Pattern::escape(&base.to_string_lossy())
            )
        };
        let listing = walk::expand(&full).map_err(|e| match e {
            WalkError::Pattern { message, position } => KeyError::new(
                &at,
                format!("invalid glob `{pattern}`: {message}"),
                Some(format!("at character {} of the pattern", position + 1)),
            ),
            WalkError::TooMany { what, limit } => KeyError::new(
                &at,
                format!("glob `{pattern}` reaches more than {limit} {what}"),
                Some("narrow it to the sweep's own directory".into()),
            ),
        })?;
        let matched = listing.files.len();
        let root = walk::literal_dir(&full);
        files.extend(listing.files.into_iter().map(|path| {
            let below = match &root {
                Some(root) => path.strip_prefix(root).unwrap_or(&path),
                None => Path::new(path.file_name().unwrap_or(path.as_os_str())),
            };
            let below = below
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "/");
            Found { path, below }
        }));
        warnings.extend(listing.warnings);
        sweep.dirs.extend(listing.dirs);
        if matched == 0 {
            return Err(KeyError::new(
                &at,
                format!("glob `{pattern}` matches no file"),
                Some(format!(
                    "it was resolved against `{}` ({described})",
                    if base.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        base
                    }
                    .display()
                )),
            ));
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    Ok(files)
}
