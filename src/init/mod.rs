//! `memheat init DIR`: a commented starter spec for a sweep directory, so
//! a new user goes from traces to a figure in one command.
//!
//! Everything is inferred from the files, never from a list of known
//! tracers: the trace files are the largest group of JSON files whose
//! names share a shape and whose contents are objects of ranks with
//! numbers ([`names`]); the fields are chosen by what their names say
//! ([`fields`]); the logs by which lines name the axis values ([`logs`]).
//! Each guess is written into the spec as a comment with its reason and
//! its alternatives, because a wrong guess is cheap to fix when it is
//! visible. Only a tie between equally good field names is a question,
//! and only when someone is at a terminal to answer it.

mod fields;
mod logs;
mod names;
mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use crate::input::walk::WalkError;
use crate::paths::shown;
use crate::spec::{Unit, canonical};
use crate::warning::Warning;

/// Traces read to learn the JSON fields: a few, spread over the sweep,
/// so init costs a fraction of a build.
const SAMPLES: usize = 8;
/// More trace directories than this get one `**` glob, not one each.
const MAX_GLOBS: usize = 4;
/// Extensions of the files looked at as status logs.
const LOG_EXTENSIONS: [&str; 3] = ["log", "txt", "out"];

/// A choice between equally likely answers; the first option is the one
/// taken when nobody can be asked.
#[derive(Debug)]
pub struct Question {
    pub topic: String,
    pub options: Vec<String>,
}

/// A spec written by [`init`], and what was odd about the inputs.
#[derive(Debug)]
pub struct Initialized {
    pub spec: PathBuf,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    #[error("cannot use `{}` as a sweep directory: {why}", shown(dir))]
    Dir { dir: PathBuf, why: String },
    #[error("no usable traces in `{}`: {found}", shown(dir))]
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
}

impl InitError {
    pub fn hint(&self) -> String {
        match self {
            InitError::Dir { .. } => {
                "give the directory that holds the sweep's trace files, e.g. `memheat init runs/485B`".into()
            }
            InitError::NoTraces { .. } => {
                "memheat init looks for JSON traces anywhere under the directory, each an object of ranks with numeric fields, e.g. {\"0\": {\"peak_allocated_MB\": 58716.7}}; point it at the sweep's directory".into()
            }
            InitError::NoConfigs { .. } => {
                "memheat reads each config from its trace's file name; name the files with `<key><number>` tokens, e.g. `run-tp4-pp16.json`".into()
            }
            InitError::Exists { .. } => "pass --force to replace it, or -o to write elsewhere".into(),
            InitError::WouldOverwrite { .. } => {
                "write the spec elsewhere with -o, e.g. `-o specs/sweep.yaml`".into()
            }
        }
    }
}

/// Writes a starter spec for the sweep in `dir` to `spec` (default:
/// `<dir's name>.yaml` in the working directory); `ask` settles ties
/// between field names, by returning the index of an option. A failure
/// carries the warnings found before it (files that could not be read).
pub fn init(
    dir: &Path,
    spec: Option<&Path>,
    force: bool,
    ask: &mut dyn FnMut(&Question) -> usize,
) -> Result<Initialized, Box<crate::Failed>> {
    let mut warnings = Vec::new();
    let result = write_spec(dir, spec, force, ask, &mut warnings);
    warnings.sort();
    warnings.dedup();
    match result {
        Ok(spec) => Ok(Initialized { spec, warnings }),
        Err(error) => Err(Box::new(crate::Failed {
            error,
            warnings,
            deps: crate::Deps::default(),
        })),
    }
}

fn write_spec(
    dir: &Path,
    spec: Option<&Path>,
    force: bool,
    ask: &mut dyn FnMut(&Question) -> usize,
    warnings: &mut Vec<Warning>,
) -> Result<PathBuf, crate::Error> {
    let dir_abs = sweep_dir(dir)?;
    let spec = spec.map_or_else(|| default_spec(&dir_abs), Path::to_path_buf);
    if !force && std::fs::symlink_metadata(&spec).is_ok() {
        return Err(InitError::Exists { spec }.into());
    }
    let json = list(dir, "json", warnings)?;
    let mut texts = Vec::new();
    for ext in LOG_EXTENSIONS {
        texts.extend(list(dir, ext, warnings)?);
    }
    let mut inputs: Vec<PathBuf> = json.iter().chain(&texts).cloned().collect();
    inputs.sort();
    if let Some(input) = crate::paths::clobbers(&spec, &inputs) {
        return Err(InitError::WouldOverwrite { spec, input }.into());
    }
    let traces = find_traces(dir, &json, warnings)?;
    let config = read_config(dir, &traces)?;
    let choices = choose_fields(&traces.numbers, ask);
    let texts = read_texts(texts, warnings);
    let [x, y] = config.axes.map(|i| config.key(i).to_string());
    let (logs, skipped) = logs::infer(&texts, &x, &y);
    let location = Location::new(dir, &dir_abs, &spec)?;
    let draft = render::Draft {
        command: format!("memheat init {}", shown(dir)),
        spec: shown(&spec),
        traces: trace_globs(dir, &traces.files, &json, &location),
        ignored: json
            .iter()
            .filter(|p| !traces.files.contains(p))
            .map(|p| location.path(dir, p))
            .collect(),
        config,
        rank: choices.rank,
        actual: choices.actual,
        theory: choices.theory,
        sampled: traces.numbers.len(),
        peak: choices.peak,
        logs: logs.map(|l| render::LogFiles {
            success: location.files(dir, &l.success),
            failure: location.files(dir, &l.failure),
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
    crate::output::write_all(&[(&spec, text.as_bytes())], None)?;
    Ok(spec)
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

/// Every `*.ext` file under `dir`, through the build's own bounded walk.
fn list(dir: &Path, ext: &str, warnings: &mut Vec<Warning>) -> Result<Vec<PathBuf>, InitError> {
    let root = dir.to_string_lossy();
    let root = root.trim_end_matches('/');
    let root = if root.is_empty() { "/" } else { root };
    let pattern = format!("{}/**/*.{ext}", glob::Pattern::escape(root));
    let listing = crate::input::walk::expand(&pattern).map_err(|e| InitError::Dir {
        dir: dir.to_path_buf(),
        why: match e {
            WalkError::TooMany { what, limit } => format!("it holds more than {limit} {what}"),
            WalkError::Pattern { message, .. } => message,
        },
    })?;
    warnings.extend(listing.warnings);
    Ok(listing.files)
}

/// The trace files, and the numbers of the few that were read.
struct Traces {
    /// Sorted; they share one name shape.
    files: Vec<PathBuf>,
    names: Vec<String>,
    numbers: Vec<fields::Numbers>,
}

/// The largest group of same-shaped JSON names whose files hold ranks
/// with numbers. Unreadable or malformed files are warned about.
fn find_traces(
    dir: &Path,
    json: &[PathBuf],
    warnings: &mut Vec<Warning>,
) -> Result<Traces, InitError> {
    let mut shapes: BTreeMap<Vec<String>, Vec<(PathBuf, String)>> = BTreeMap::new();
    for path in json {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.chars().any(char::is_control) {
            warnings.push(Warning::new(
                path,
                "has a control character in its name, which a spec cannot hold; skipped",
            ));
            continue;
        }
        let shape = names::split(name).0.into_iter().map(String::from).collect();
        shapes
            .entry(shape)
            .or_default()
            .push((path.clone(), name.to_string()));
    }
    let mut groups: Vec<Vec<(PathBuf, String)>> = shapes.into_values().collect();
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].0.cmp(&b[0].0)));
    for group in groups {
        let step = group.len().div_ceil(SAMPLES);
        let numbers: Vec<fields::Numbers> = group
            .iter()
            .step_by(step)
            .filter_map(|(path, _)| read_numbers(path, warnings))
            .collect();
        if !numbers.is_empty() {
            let (files, names) = group.into_iter().unzip();
            return Ok(Traces {
                files,
                names,
                numbers,
            });
        }
    }
    let found = if json.is_empty() {
        "found no `.json` file in it or below it".to_string()
    } else {
        format!(
            "none of the {} JSON file(s) read is an object of ranks with numeric fields",
            json.len()
        )
    };
    Err(InitError::NoTraces {
        dir: dir.to_path_buf(),
        found,
    })
}

/// A trace's numbers, read as `memheat build` reads them.
fn read_numbers(path: &Path, warnings: &mut Vec<Warning>) -> Option<fields::Numbers> {
    let ranks = crate::input::trace::values::read_ranks(path)
        .map_err(|u| warnings.push(Warning::new(path, format!("{}; skipped", u.warning))))
        .ok()?;
    fields::numbers(&ranks)
}

/// The configs the names encode: the slots, the axes and the regex.
struct Config {
    slots: Vec<names::Slot>,
    uses: Vec<names::Use>,
    /// Slot indices of x and y.
    axes: [usize; 2],
    filename: String,
    /// An example name.
    example: String,
}

impl Config {
    fn key(&self, slot: usize) -> &str {
        self.slots[slot].key.as_deref().unwrap_or_default()
    }

    /// Captured fields that differ between traces of one cell, and how
    /// many cells have more than one trace.
    fn crowded(&self) -> (usize, Vec<String>) {
        let [x, y] = self.axes;
        let mut cells: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for i in 0..self.slots[x].values.len() {
            let at = |s: usize| canonical(&self.slots[s].values[i]);
            cells.entry((at(x), at(y))).or_default().push(i);
        }
        let crowded: Vec<&Vec<usize>> = cells.values().filter(|c| c.len() > 1).collect();
        let spread = self
            .uses
            .iter()
            .enumerate()
            .filter_map(|(s, u)| match u {
                names::Use::Capture(key) if !self.axes.contains(&s) => {
                    let differs = crowded.iter().any(|cell| {
                        let values: BTreeSet<String> = cell
                            .iter()
                            .map(|&i| canonical(&self.slots[s].values[i]))
                            .collect();
                        values.len() > 1
                    });
                    differs.then(|| key.clone())
                }
                _ => None,
            })
            .collect();
        (crowded.len(), spread)
    }
}

fn read_config(dir: &Path, traces: &Traces) -> Result<Config, InitError> {
    let names: Vec<&str> = traces.names.iter().map(String::as_str).collect();
    let slots = names::slots(&names);
    let axes = choose_axes(&slots).ok_or_else(|| {
        let varying: BTreeSet<String> = slots
            .iter()
            .filter(|s| s.varies())
            .filter_map(|s| s.key.as_ref().map(|k| format!("`{k}`")))
            .collect();
        // Two varying keys always make axes, so this names at most one.
        let tokens = match varying.into_iter().next() {
            None => "no `<key><number>` token that varies between them".to_string(),
            Some(key) => format!(
                "only one varying `<key><number>` token ({key}) and no other for the second axis"
            ),
        };
        InitError::NoConfigs {
            dir: dir.to_path_buf(),
            found: format!(
                "the {} trace file(s) named like `{}` have {tokens}",
                names.len(),
                names[0],
            ),
        }
    })?;
    let uses = names::uses(&slots, axes);
    Ok(Config {
        filename: names::regex(names[0], &uses),
        example: names[0].to_string(),
        slots,
        uses,
        axes,
    })
}

/// x and y: `pp` and `tp` when the names have both (as memheat's
/// defaults, PP across and TP down); else the two varying keys with the
/// most values (more values across); a single varying key gets a constant
/// one as its other axis (one row or column). `None` without a varying key.
fn choose_axes(slots: &[names::Slot]) -> Option<[usize; 2]> {
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, slot) in slots.iter().enumerate() {
        if let Some(key) = &slot.key {
            first.entry(key).or_insert(i);
        }
    }
    let keyed: Vec<usize> = first.values().copied().collect();
    if !keyed.iter().any(|&i| slots[i].varies()) {
        return None;
    }
    if let (Some(&pp), Some(&tp)) = (first.get("pp"), first.get("tp")) {
        return Some([pp, tp]);
    }
    let is_default = |i: usize| matches!(slots[i].key.as_deref(), Some("pp" | "tp"));
    let mut ranked = keyed.clone();
    ranked.sort_by_key(|&i| {
        (
            !slots[i].varies(),
            !is_default(i),
            std::cmp::Reverse(slots[i].distinct),
            i,
        )
    });
    let (a, b) = (ranked[0], *ranked.get(1)?);
    // A lone `tp` stays down and a lone `pp` across, as in every figure.
    Some(match (slots[a].key.as_deref(), slots[b].key.as_deref()) {
        (Some("tp"), _) | (_, Some("pp")) => [b, a],
        _ => [a, b],
    })
}

/// The fields chosen, with their alternatives, and the unit.
struct Choices {
    rank: render::Choice,
    actual: render::Choice,
    theory: Option<render::Choice>,
    peak: render::Peak,
}

fn choose_fields(traces: &[fields::Numbers], ask: &mut dyn FnMut(&Question) -> usize) -> Choices {
    let (rank, other_ranks) = fields::rank(traces);
    let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut with_rank = 0;
    for numbers in traces.iter().filter_map(|t| t.get(&rank)) {
        with_rank += 1;
        for (field, value) in numbers {
            values.entry(field.clone()).or_default().push(*value);
        }
    }
    let mut pick = |topic: &str, (options, tied): (Vec<String>, bool)| {
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
    };
    let actual = pick(
        "Which JSON field is the measured peak memory (the cell's value and colour)?",
        fields::candidates(&values, with_rank, fields::Role::Actual, None),
    );
    let theory_options = fields::candidates(
        &values,
        with_rank,
        fields::Role::Theory,
        Some(&actual.chosen),
    );
    let theory = (!theory_options.0.is_empty()).then(|| {
        pick(
            "Which JSON field is the theoretical (estimated) memory?",
            theory_options,
        )
    });
    let peaks = &values[&actual.chosen];
    let (unit, why) = fields::unit(&actual.chosen, fields::typical(peaks));
    let largest = peaks.iter().copied().fold(f64::MIN, f64::max);
    Choices {
        rank: render::Choice {
            chosen: rank,
            others: other_ranks,
            tied: false,
        },
        actual,
        theory,
        peak: render::Peak {
            unit,
            why,
            largest_gib: largest * unit.bytes() / Unit::GiB.bytes(),
        },
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

/// Where the sweep is as seen from the spec's directory, which is what
/// the spec's paths are relative to.
struct Location {
    /// From the spec's directory to the sweep's; empty when they are one.
    to_sweep: PathBuf,
}

impl Location {
    fn new(dir: &Path, dir_abs: &Path, spec: &Path) -> Result<Location, InitError> {
        let spec_dir = match spec.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let from = absolute(spec_dir).map_err(|e| InitError::Dir {
            dir: dir.to_path_buf(),
            why: format!("cannot resolve the spec's directory ({e})"),
        })?;
        Ok(Location {
            to_sweep: relative(&from, dir_abs),
        })
    }

    /// `path` (under `dir`) as the spec names it: relative, with `/`.
    fn path(&self, dir: &Path, path: &Path) -> String {
        let inside = path.strip_prefix(dir).unwrap_or(path);
        let joined = self.to_sweep.join(inside);
        let parts: Vec<String> = joined
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parts.join("/")
    }

    /// A glob that matches exactly `path`.
    fn literal(&self, dir: &Path, path: &Path) -> String {
        glob::Pattern::escape(&self.path(dir, path))
    }

    fn files(&self, dir: &Path, files: &[(PathBuf, usize)]) -> Vec<(String, usize)> {
        files
            .iter()
            .map(|(p, n)| (self.literal(dir, p), *n))
            .collect()
    }
}

/// An absolute path without symlinks, for a directory that may not exist
/// yet (the spec's; writing creates it).
fn absolute(path: &Path) -> std::io::Result<PathBuf> {
    if let Ok(c) = std::fs::canonicalize(path) {
        return Ok(c);
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut base = absolute(parent)?;
    match path.components().next_back() {
        Some(Component::ParentDir) => {
            base.pop();
        }
        Some(Component::Normal(name)) => base.push(name),
        _ => {}
    }
    Ok(base)
}

/// The path from directory `from` to `to`, both absolute and canonical.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let (from, to): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c);
    }
    out
}

/// `inputs.traces`: per directory of traces, the loosest name glob that
/// matches only traces there; one `**` glob when there are many
/// directories.
fn trace_globs(
    dir: &Path,
    traces: &[PathBuf],
    json: &[PathBuf],
    location: &Location,
) -> render::Globs {
    let parent = |p: &PathBuf| p.parent().unwrap_or(Path::new("")).to_path_buf();
    let dirs: BTreeSet<PathBuf> = traces.iter().map(parent).collect();
    let example = traces[0].file_name().unwrap_or_default().to_string_lossy();
    let options = names::globs(&example);
    let name = |p: &PathBuf| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    // Each glob's directory, what goes after it, and the JSON files it sees.
    let scopes: Vec<(PathBuf, &str, Vec<&PathBuf>)> = if dirs.len() > MAX_GLOBS {
        let mut common = dirs.first().cloned().unwrap_or_default();
        for d in &dirs {
            common = common
                .components()
                .zip(d.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect();
        }
        if common.as_os_str().is_empty() {
            common = dir.to_path_buf();
        }
        let seen = json.iter().filter(|p| p.starts_with(&common)).collect();
        vec![(common, "**/", seen)]
    } else {
        dirs.iter()
            .map(|d| {
                let seen = json.iter().filter(|p| &parent(p) == d).collect();
                (d.clone(), "", seen)
            })
            .collect()
    };
    let mut globs = render::Globs::default();
    for (scope, deeper, seen) in scopes {
        let strays = |glob: &String| {
            let pattern = glob::Pattern::new(glob).expect("globs are built escaped");
            seen.iter()
                .filter(|p| !traces.contains(p) && pattern.matches(&name(p)))
                .count()
        };
        let best = options
            .iter()
            .find(|g| strays(g) == 0)
            .unwrap_or(&options[options.len() - 1]);
        globs.strays += strays(best);
        let prefix = location.literal(dir, &scope);
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        globs.globs.push(format!("{prefix}{deeper}{best}"));
    }
    globs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots_of(names: &[&str]) -> Vec<names::Slot> {
        names::slots(names)
    }

    #[test]
    fn axes_are_pp_and_tp_when_the_names_have_them() {
        let slots = slots_of(&["r_tp1_mbs1_pp2.json", "r_tp2_mbs2_pp2.json"]);
        assert_eq!(
            choose_axes(&slots),
            Some([2, 0]),
            "pp across even if constant"
        );
    }

    #[test]
    fn otherwise_the_keys_with_most_values() {
        let slots = slots_of(&["r_mbs1_gbs8.json", "r_mbs2_gbs16.json", "r_mbs2_gbs32.json"]);
        assert_eq!(choose_axes(&slots), Some([1, 0]), "gbs has 3 values");
        // One varying key: a constant one makes the other axis.
        let slots = slots_of(&["rank0_tp1.json", "rank0_tp2.json"]);
        assert_eq!(choose_axes(&slots), Some([0, 1]), "a lone tp stays down");
        let slots = slots_of(&["x_1.json", "x_2.json"]);
        assert_eq!(choose_axes(&slots), None, "a bare number names nothing");
    }

    #[test]
    fn relative_paths_climb_then_descend() {
        assert_eq!(
            relative(Path::new("/a/b"), Path::new("/a/c/d")),
            PathBuf::from("../c/d")
        );
        assert_eq!(relative(Path::new("/a"), Path::new("/a")), PathBuf::new());
    }
}
