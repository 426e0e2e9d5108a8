//! `memheat init DIR`: a commented starter spec for a sweep directory, so
//! a new user goes from a cluster's output to a figure in one command.
//!
//! Every file is seen the way a build sees it (`input::peek`: format by
//! content, the build's own parsers), and the sweep is whichever input
//! the directory has, in this order: trace JSON files ([`traces`]: the
//! largest group of JSON files whose names share a shape and whose
//! contents are objects of ranks with numbers, the config in their names
//! or their directories' names), training logs that state their config
//! and memory ([`sources`]), or a results table ([`sources`]). The fields
//! are chosen by what their names say ([`fields`]); status logs by which
//! lines name the axis values and an outcome ([`logs`]). Each guess is
//! written into the spec as a comment with its reason and its
//! alternatives, because a wrong guess is cheap to fix when it is visible.
//! Only a tie between equally good field names is a question, and only
//! when someone is at a terminal to answer it. Before the spec is
//! written, it is loaded as a build would load it, and what that finds
//! (a config that fell out, no outcome source) is a warning.

mod fields;
mod location;
mod logs;
mod names;
mod render;
mod sources;
mod traces;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::export::ExportError;
use crate::input::walk::WalkError;
use crate::paths::shown;
use crate::spec::Unit;
use crate::warning::Warning;
use location::Location;

/// Extensions of the files looked at as status logs.
const LOG_EXTENSIONS: [&str; 4] = ["log", "txt", "out", "err"];

/// A choice between equally likely answers; the first option is the one
/// taken when nobody can be asked.
#[derive(Debug)]
pub(crate) struct Question {
    pub topic: String,
    pub options: Vec<String>,
}

/// What [`init`] made, and what was odd about the inputs.
#[derive(Debug)]
pub(crate) struct Initialized {
    /// Where the spec was written; `None` when it went to standard output.
    pub spec: Option<PathBuf>,
    /// The spec's text.
    pub text: String,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    #[error("cannot use `{}` as a sweep directory: {why}", shown(dir))]
    Dir { dir: PathBuf, why: String },
    #[error("no usable inputs in `{}`: {found}", shown(dir))]
    NoTraces { dir: PathBuf, found: String },
    #[error("cannot tell the configs apart in `{}`: {found}", shown(dir))]
    NoConfigs { dir: PathBuf, found: String },
    #[error("`{}` already exists", shown(spec))]
    Exists { spec: PathBuf },
    #[error(
        "the spec `{}` would overwrite `{}`, a file of the sweep",
        shown(spec),
        shown(input)
    )]
    WouldOverwrite { spec: PathBuf, input: PathBuf },
    /// Writing the spec failed.
    #[error(transparent)]
    Write(#[from] ExportError),
}

impl InitError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            InitError::Dir { .. } => {
                "give the directory that holds the sweep's files, e.g. `memheat init runs/485B`".into()
            }
            InitError::NoTraces { .. } => {
                "memheat init looks anywhere under the directory for JSON traces (each an object of ranks with numeric fields, e.g. {\"0\": {\"peak_allocated_MB\": 58716.7}}), training logs that print memory (Megatron-LM, DeepSpeed, torchtitan), or a CSV/JSONL table of results; point it at the sweep's directory".into()
            }
            InitError::NoConfigs { .. } => {
                "memheat reads each config from its trace's path; name the files or their directories with `<key><number>` tokens, e.g. `run-tp4-pp16.json` or `tp4_pp16/trace.json`".into()
            }
            InitError::Exists { .. } => {
                "pass --force to replace it, -o to write elsewhere, or `-o -` to print it".into()
            }
            InitError::WouldOverwrite { .. } => {
                "write the spec elsewhere with -o, e.g. `-o specs/sweep.yaml`".into()
            }
            InitError::Write(e) => return e.hint(),
        })
    }
}

/// Init failed with `error`, after finding `warnings` (files that could
/// not be read).
#[derive(Debug)]
pub(crate) struct InitFailed {
    pub(crate) error: InitError,
    pub(crate) warnings: Vec<Warning>,
}

/// Writes a starter spec for the sweep in `dir` to `spec` (default:
/// `<dir's name>.yaml` in the working directory; `-` prints it); `ask`
/// settles ties between field names, by returning the index of an option.
/// A failure carries the warnings found before it (files that could not
/// be read).
pub(crate) fn init(
    dir: &Path,
    spec: Option<&Path>,
    force: bool,
    ask: &mut dyn FnMut(&Question) -> usize,
) -> Result<Initialized, Box<InitFailed>> {
    let mut warnings = Vec::new();
    let result = write_spec(dir, spec, force, ask, &mut warnings);
    warnings.sort();
    warnings.dedup();
    match result {
        Ok((spec, text)) => Ok(Initialized {
            spec,
            text,
            warnings,
        }),
        Err(error) => Err(Box::new(InitFailed { error, warnings })),
    }
}

fn write_spec(
    dir: &Path,
    spec: Option<&Path>,
    force: bool,
    ask: &mut dyn FnMut(&Question) -> usize,
    warnings: &mut Vec<Warning>,
) -> Result<(Option<PathBuf>, String), InitError> {
    let dir_abs = sweep_dir(dir)?;
    let to_stdout = spec == Some(Path::new("-"));
    let spec = spec.map_or_else(|| default_spec(&dir_abs), Path::to_path_buf);
    if !to_stdout && !force && std::fs::symlink_metadata(&spec).is_ok() {
        return Err(InitError::Exists { spec });
    }
    let files = list(dir, warnings)?;
    if !to_stdout && let Some(input) = crate::paths::clobbers(&spec, &files) {
        return Err(InitError::WouldOverwrite { spec, input });
    }
    // Paths in a printed spec are relative to the working directory.
    let location = Location::new(dir, &dir_abs, if to_stdout { Path::new("") } else { &spec })?;
    let found = sources::find(dir, &files, &location, ask, warnings)?;
    let texts: Vec<PathBuf> = files
        .iter()
        .filter(|p| has_extension(p, &LOG_EXTENSIONS) && !found.reads(p))
        .cloned()
        .collect();
    let texts = read_texts(texts, warnings);
    let [x, y] = found.axes.each_ref().map(|a| a.key.clone());
    let (logs, skipped) = logs::infer(&texts, &x, &y);
    let draft = render::Draft {
        command: format!("memheat init {}", shown(dir)),
        spec: if to_stdout {
            "SPEC".into()
        } else {
            shown(&spec)
        },
        found,
        logs: logs.map(|l| render::LogFiles {
            success: location.files(dir, &l.success),
            failure: location.files(dir, &l.failure),
            status: location.files(dir, &l.status),
            line: l.line,
            why: l.why,
        }),
        unused_texts: skipped
            .iter()
            .map(|(p, why)| (location.path(dir, p), why.clone()))
            .collect(),
    };
    if let Some(crowd) = draft.crowding() {
        warnings.push(Warning::new(&spec, crowd));
    }
    let text = render::spec(&draft);
    if to_stdout {
        return Ok((None, text));
    }
    crate::output::write_all(&[(&spec, text.as_bytes())], None)?;
    Ok((Some(spec), text))
}

/// `dir`, made absolute, once it is known to be a directory.
fn sweep_dir(dir: &Path) -> Result<PathBuf, InitError> {
    let fail = |why: String| InitError::Dir {
        dir: dir.to_path_buf(),
        why,
    };
    let metadata = std::fs::metadata(dir).map_err(|e| fail(e.to_string().to_lowercase()))?;
    if !metadata.is_dir() {
        return Err(fail("it is not a directory".into()));
    }
    if dir.to_str().is_none() {
        return Err(fail("its path is not valid UTF-8, which globs need".into()));
    }
    std::fs::canonicalize(dir).map_err(|e| fail(e.to_string().to_lowercase()))
}

/// `<dir's name>.yaml` in the working directory (`memheat.yaml` for `/`).
fn default_spec(dir_abs: &Path) -> PathBuf {
    let name = dir_abs
        .file_name()
        .map_or("memheat".into(), |n| n.to_string_lossy().into_owned());
    PathBuf::from(format!("{name}.yaml"))
}

/// Every file under `dir`, sorted, through the build's own bounded walk.
fn list(dir: &Path, warnings: &mut Vec<Warning>) -> Result<Vec<PathBuf>, InitError> {
    let root = dir.to_string_lossy();
    let root = root.trim_end_matches('/');
    let root = if root.is_empty() { "/" } else { root };
    let pattern = format!("{}/**/*", glob::Pattern::escape(root));
    let listing = crate::input::walk::expand(&pattern).map_err(|e| InitError::Dir {
        dir: dir.to_path_buf(),
        why: match e {
            WalkError::TooMany { what, limit } => format!("it holds more than {limit} {what}"),
            WalkError::Pattern { message, .. } => message,
        },
    })?;
    // Everything under `dir` is listed, so its directories match too.
    warnings.extend(listing.warnings.into_iter().filter(|w| !w.path.is_dir()));
    let mut files = listing.files;
    files.sort();
    Ok(files)
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// The measured peak and the estimate among named numeric `values` (each
/// field's values over `count` runs), asking when names tie.
fn choose_metrics(
    values: &BTreeMap<String, Vec<f64>>,
    count: usize,
    what: &str,
    ask: &mut dyn FnMut(&Question) -> usize,
) -> (render::Choice, Option<render::Choice>) {
    let actual = choose(
        ask,
        &format!("Which {what} is the measured peak memory (the cell's value and colour)?"),
        fields::candidates(values, count, fields::Role::Actual, None),
    );
    let theory_options =
        fields::candidates(values, count, fields::Role::Theory, Some(&actual.chosen));
    let theory = (!theory_options.0.is_empty()).then(|| {
        choose(
            ask,
            &format!("Which {what} is the theoretical (estimated) memory?"),
            theory_options,
        )
    });
    (actual, theory)
}

/// The first of `options`, or, when the best are tied, the one `ask`
/// picks.
fn choose(
    ask: &mut dyn FnMut(&Question) -> usize,
    topic: &str,
    (options, tied): (Vec<String>, bool),
) -> render::Choice {
    let chosen = if tied {
        ask(&Question {
            topic: topic.into(),
            options: options.clone(),
        })
        .min(options.len() - 1)
    } else {
        0
    };
    render::Choice {
        chosen: options[chosen].clone(),
        others: options
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != chosen)
            .map(|(_, o)| o.clone())
            .collect(),
        tied,
    }
}

/// The unit of the peak field `field`, and the largest peak in GiB.
fn peak(field: &str, values: &[f64]) -> render::Peak {
    let (unit, why) = fields::unit(field, fields::typical(values));
    let largest = values.iter().copied().fold(f64::MIN, f64::max);
    render::Peak {
        unit: Some((unit, why)),
        largest_gib: largest * unit.bytes() / Unit::GiB.bytes(),
    }
}

/// The head of each candidate log; an unreadable one is warned about.
fn read_texts(paths: Vec<PathBuf>, warnings: &mut Vec<Warning>) -> Vec<logs::Text> {
    use std::io::Read as _;
    paths
        .into_iter()
        .filter_map(|path| {
            let mut head = Vec::new();
            let read = std::fs::File::open(&path)
                .and_then(|f| f.take(logs::HEAD_BYTES).read_to_end(&mut head));
            match read {
                Ok(_) => Some(logs::Text {
                    head: String::from_utf8_lossy(&head).into_owned(),
                    path,
                }),
                Err(e) => {
                    warnings.push(Warning::new(
                        &path,
                        format!("cannot be read ({e}); skipped"),
                    ));
                    None
                }
            }
        })
        .collect()
}
