//! Loads a sweep: trace files found by the spec's globs, and the status logs.
//!
//! Policy for bad data: anything wrong with a file the user did not write by
//! hand is a [`Warning`] naming the file and the reason, and the file's cell
//! shows what is known. Only a problem in the spec itself (a glob that
//! matches nothing, a missing log) is an error.

mod cache;
mod lines;
mod status;
pub(crate) mod trace;
pub(crate) mod walk;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

pub use cache::TraceCache;
use status::load_logs;
pub use status::{LogEntry, Status};
use trace::values::{read_ranks, read_values};

use crate::progress::Report;
use crate::spec::{BaseDir, Inputs, Key, KeyError, Part, Sources, X_DEFAULTS, Y_DEFAULTS};
use crate::warning::Warning;
use walk::WalkError;

/// One trace file whose name matched the filename pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub path: PathBuf,
    /// The filename pattern's named captures.
    pub captures: BTreeMap<String, String>,
    /// What the file holds, or why nothing usable could be read from it.
    pub content: Result<RunValues, Unusable>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunValues {
    /// Finite numeric scalar fields of the rank, in input units.
    pub numbers: BTreeMap<String, f64>,
    /// The `actual` field, in input units.
    pub actual: f64,
    /// The `theory` field; `None` when missing or not finite.
    pub theory: Option<f64>,
}

/// Why a trace gives no value; the warning says more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable(pub String);

#[derive(Debug, Default)]
pub struct Sweep {
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
}

/// Resolves the globs of one part of the spec (its `inputs`, or a
/// panel's), each against the directory of the file that wrote it, and
/// reads every match, trace files in parallel. An error's keys are the
/// part's; on an error, `sweep` holds what was read before it.
pub fn load(
    part: &Part,
    sources: &Sources,
    cache: Option<&TraceCache>,
    report: Report<'_>,
    sweep: &mut Sweep,
) -> Result<(), KeyError> {
    let result = load_into(part, sources, cache, report, sweep);
    sweep.inputs.sort();
    sweep.inputs.dedup();
    sweep.dirs.sort();
    sweep.dirs.dedup();
    result
}

fn load_into(
    part: &Part,
    sources: &Sources,
    cache: Option<&TraceCache>,
    report: Report<'_>,
    sweep: &mut Sweep,
) -> Result<(), KeyError> {
    let trace_paths = expand_globs(
        &part.inputs.traces.0,
        sources,
        &part.keys(&[Key::Field("inputs"), Key::Field("traces")]),
        sweep,
    )?;
    report.stage("reading traces", trace_paths.len() as u64);
    let results: Vec<(Option<Run>, Vec<Warning>)> = trace_paths
        .par_iter()
        .map(|path| {
            let run = read_run(path, part.inputs, cache);
            report.step();
            run
        })
        .collect();
    for (run, warnings) in results {
        sweep.runs.extend(run);
        sweep.warnings.extend(warnings);
    }
    sweep.matched_traces = trace_paths.len();
    sweep.inputs.extend(trace_paths);
    if let Some(logs) = &part.inputs.logs {
        let axes = (
            part.axes.x.field(&X_DEFAULTS),
            part.axes.y.field(&Y_DEFAULTS),
        );
        load_logs(logs, part, sources, axes, sweep)?;
    }
    Ok(())
}

/// Each glob must match at least one file: an empty match is almost always
/// a wrong path, and a figure silently missing data is worse than an error.
fn expand_globs(
    globs: &[String],
    sources: &Sources,
    keys: &[Key<'static>],
    sweep: &mut Sweep,
) -> Result<Vec<PathBuf>, KeyError> {
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
        files.extend(listing.files);
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
    files.sort();
    files.dedup();
    Ok(files)
}

/// Reads one trace file. `None` when its name does not match the pattern.
fn read_run(
    path: &Path,
    inputs: &Inputs,
    cache: Option<&TraceCache>,
) -> (Option<Run>, Vec<Warning>) {
    let mut warnings = Vec::new();
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        warnings.push(Warning::new(path, "file name is not valid UTF-8; skipped"));
        return (None, warnings);
    };
    let pattern = &inputs.filename.0;
    let captures = match pattern.captures(name) {
        Some(c) if c.get(0).is_some_and(|m| m.range() == (0..name.len())) => c,
        _ => {
            warnings.push(Warning::new(
                path,
                "file name does not match `inputs.filename`; skipped",
            ));
            return (None, warnings);
        }
    };
    let captures: BTreeMap<String, String> = pattern
        .capture_names()
        .flatten()
        .filter_map(|n| Some((n.to_string(), captures.name(n)?.as_str().to_string())))
        .collect();
    let ranks = match cache {
        Some(cache) => cache.ranks(path),
        None => Arc::new(read_ranks(path)),
    };
    let content = match &*ranks {
        Ok(ranks) => read_values(ranks, path, inputs, &mut warnings),
        Err(unreadable) => {
            warnings.push(Warning::new(
                path,
                format!("{}; the cell shows no data", unreadable.warning),
            ));
            Err(Unusable(unreadable.reason.clone()))
        }
    };
    let run = Run {
        path: path.to_path_buf(),
        captures,
        content,
    };
    (Some(run), warnings)
}
