//! Loads a sweep: trace files found by the spec's globs, and the status logs.
//!
//! Policy for bad data: anything wrong with a file the user did not write by
//! hand is a [`Warning`] naming the file and the reason, and the file's cell
//! shows what is known. Only a problem in the spec itself (a glob that
//! matches nothing, a missing log) is an error.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::progress::Report;
use crate::spec::{
    BaseDir, Inputs, Key, KeyError, Logs, Part, Sources, X_DEFAULTS, Y_DEFAULTS, canonical,
};
use crate::trace::{self, Rank, RankValue, Scalar};
use crate::walk::WalkError;

/// A problem with one input file; the build goes on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    pub path: PathBuf,
    /// 1-based line, where the problem has one.
    pub line: Option<usize>,
    pub message: String,
}

impl Warning {
    pub fn new(path: &Path, message: impl Into<String>) -> Warning {
        Warning {
            path: path.to_path_buf(),
            line: None,
            message: message.into(),
        }
    }
}

impl Warning {
    /// This warning, naming the panel it is about.
    pub(crate) fn about(mut self, part: &Part) -> Warning {
        self.message = part.named(&self.message);
        self
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", crate::paths::shown(&self.path))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)
    }
}

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

/// Run status as the sweep's logs record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Success,
    Failure,
}

/// A config line of a status log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub path: PathBuf,
    pub line: usize,
    pub status: Status,
    pub captures: BTreeMap<String, String>,
}

impl LogEntry {
    /// The `seq` capture (the default pattern takes the `Config N` number).
    pub fn seq(&self) -> Option<f64> {
        self.captures.get("seq")?.trim().parse().ok()
    }

    /// Which of two entries is later: by `seq` where the pattern captures
    /// one, else by where it was read.
    pub fn order(&self, other: &LogEntry) -> std::cmp::Ordering {
        self.seq()
            .partial_cmp(&other.seq())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(self.path.cmp(&other.path))
            .then(self.line.cmp(&other.line))
    }
}

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
        let listing = crate::walk::expand(&full).map_err(|e| match e {
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

/// Why a trace file gives no ranks: the warning to print, and the short
/// reason a cell keeps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unreadable {
    pub(crate) warning: String,
    reason: String,
}

type Ranks = Result<Vec<Rank>, Unreadable>;

pub(crate) fn read_ranks(path: &Path) -> Ranks {
    let file = std::fs::File::open(path);
    file.map_err(trace::ReadError::Io)
        .and_then(|mut file| trace::read(&mut file))
        .map_err(unreadable)
}

fn unreadable(e: trace::ReadError) -> Unreadable {
    match e {
        trace::ReadError::Io(e) => {
            let why = format!("cannot be read ({e})");
            Unreadable {
                warning: why.clone(),
                reason: why,
            }
        }
        trace::ReadError::Scan(e) => Unreadable {
            warning: format!("malformed JSON: {e}"),
            reason: "malformed JSON".into(),
        },
    }
}

/// Traces read by earlier builds in this process (`watch`, several specs
/// over the same data). A file is read again when its size, modification
/// time or (on Unix) inode or change time differ from when it was read.
#[derive(Debug, Default)]
pub struct TraceCache(Mutex<HashMap<PathBuf, (Stamp, Arc<Ranks>)>>);

/// What tells a file changed without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64, i64, i64),
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let m = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt as _;
        Some(Stamp {
            len: m.len(),
            modified: m.modified().ok(),
            #[cfg(unix)]
            inode: (m.dev(), m.ino(), m.ctime(), m.ctime_nsec()),
        })
    }
}

impl TraceCache {
    fn ranks(&self, path: &Path) -> Arc<Ranks> {
        // Stat before reading: a change during the read leaves an older
        // stamp, so the next build reads the file again.
        let Some(stamp) = Stamp::of(path) else {
            return Arc::new(read_ranks(path));
        };
        let cached = self.lock().get(path).cloned();
        if let Some((seen, ranks)) = cached
            && seen == stamp
        {
            return ranks;
        }
        let ranks = Arc::new(read_ranks(path));
        self.lock()
            .insert(path.to_path_buf(), (stamp, Arc::clone(&ranks)));
        ranks
    }

    /// Forgets every file but `keep`, so a long watch does not accumulate
    /// traces that are gone.
    pub fn retain(&self, keep: &[PathBuf]) {
        let keep: std::collections::HashSet<&PathBuf> = keep.iter().collect();
        self.lock().retain(|path, _| keep.contains(path));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, (Stamp, Arc<Ranks>)>> {
        // A panic while holding the lock cannot leave a half-inserted entry.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Extracts the rank's values from a trace's ranks.
fn read_values(
    ranks: &[Rank],
    path: &Path,
    inputs: &Inputs,
    warnings: &mut Vec<Warning>,
) -> Result<RunValues, Unusable> {
    let mut warn = |message: String| warnings.push(Warning::new(path, message));
    let wanted = &inputs.rank;
    // Like Python's json module, a repeated key means its last value; say so,
    // since a tracer that writes a key twice is usually broken.
    if ranks.iter().filter(|r| &r.key == wanted).count() > 1 {
        warn(format!(
            "rank `{wanted}` appears more than once; the last one is used"
        ));
    }
    let rank = match ranks.iter().rev().find(|r| &r.key == wanted) {
        Some(rank) => rank,
        None => match ranks {
            [] => {
                warn("the trace is empty (`{}`); the cell shows no data".into());
                return Err(Unusable("empty trace".into()));
            }
            [only] => {
                warn(format!(
                    "no rank `{wanted}`; using its only rank `{}`",
                    only.key
                ));
                only
            }
            _ => {
                let keys: Vec<_> = ranks.iter().map(|r| format!("`{}`", r.key)).collect();
                warn(format!(
                    "no rank `{wanted}` (it has {}); set `inputs.rank`; the cell shows no data",
                    keys.join(", ")
                ));
                return Err(Unusable("rank missing".into()));
            }
        },
    };
    let fields = match &rank.value {
        RankValue::Object(fields) => fields,
        RankValue::NotAnObject(what) => {
            warn(format!(
                "rank `{}` is {what}, not an object; the cell shows no data",
                rank.key
            ));
            return Err(Unusable("rank is not an object".into()));
        }
    };
    let mut latest: BTreeMap<&str, &Scalar> = BTreeMap::new();
    let mut repeated = std::collections::BTreeSet::new();
    for (k, v) in fields {
        if latest.insert(k, v).is_some() {
            repeated.insert(k.as_str());
        }
    }
    for key in repeated {
        warn(format!(
            "field `{key}` appears more than once in rank `{}`; the last value is used",
            rank.key
        ));
    }
    let numbers = numbers(fields);
    // `then` says what the figure does without the value.
    let mut field = |name: &str, role: &str, then: &str| -> Option<f64> {
        let problem = match latest.get(name) {
            Some(Scalar::Number(n)) => return Some(*n),
            Some(Scalar::NonFinite(token)) => format!("is `{token}`"),
            Some(other) => format!("is {}, not a number", describe(other)),
            None => "is missing".to_string(),
        };
        warn(format!("{role} field `{name}` {problem}; {then}"));
        None
    };
    let Some(actual) = field(&inputs.actual, "actual", "the cell shows no data") else {
        return Err(Unusable("no actual value".into()));
    };
    let theory = field(
        &inputs.theory,
        "theoretical",
        "theory shows n/a and marks no threshold",
    );
    Ok(RunValues {
        numbers,
        actual,
        theory,
    })
}

/// A rank's finite numeric fields. A repeated key means its last value, as
/// in Python's `json` module, even when that value is not a number.
pub(crate) fn numbers(fields: &[(String, Scalar)]) -> BTreeMap<String, f64> {
    let latest: BTreeMap<&str, &Scalar> = fields.iter().map(|(k, v)| (k.as_str(), v)).collect();
    latest
        .into_iter()
        .filter_map(|(k, v)| match v {
            Scalar::Number(n) => Some((k.to_owned(), *n)),
            _ => None,
        })
        .collect()
}

fn describe(s: &Scalar) -> String {
    match s {
        Scalar::Number(n) => format!("the number {n}"),
        Scalar::NonFinite(t) => format!("`{t}`"),
        Scalar::Str(s) => format!("the string {s:?}"),
        Scalar::Bool(b) => format!("`{b}`"),
        Scalar::Null => "`null`".into(),
    }
}

/// Distinct configs the logs may name; a sweep has dozens.
pub const MAX_LOGGED_CONFIGS: usize = 100_000;
/// Longest log line looked at; longer ones are skipped and counted.
pub const MAX_LOG_LINE: usize = 64 * 1024;

/// Reads the logs line by line and keeps, for each config and status, only
/// the latest entry: all the table looks at, so a million-line log costs
/// memory per config, not per line.
fn load_logs(
    logs: &Logs,
    part: &Part,
    sources: &Sources,
    axes: (&str, &str),
    sweep: &mut Sweep,
) -> Result<(), KeyError> {
    let mut latest: HashMap<(Status, String, String), LogEntry> = HashMap::new();
    let kinds = [
        (&logs.success, Status::Success, "success"),
        (&logs.failure, Status::Failure, "failure"),
    ];
    for (globs, status, key) in kinds {
        if globs.0.is_empty() {
            continue;
        }
        let keys = part.keys(&[Key::Field("inputs"), Key::Field("logs"), Key::Field(key)]);
        for path in expand_globs(&globs.0, sources, &keys, sweep)? {
            let mut overflow = false;
            let read = std::fs::File::open(&path).and_then(|file| {
                parse_log(file, &path, status, &logs.line.0, |entry| {
                    let (Some(x), Some(y)) =
                        (entry.captures.get(axes.0), entry.captures.get(axes.1))
                    else {
                        return;
                    };
                    let config = (status, canonical(x), canonical(y));
                    if !latest.contains_key(&config) && latest.len() >= MAX_LOGGED_CONFIGS {
                        overflow = true;
                        return;
                    }
                    match latest.get(&config) {
                        Some(kept) if kept.order(&entry).is_ge() => {}
                        _ => {
                            latest.insert(config, entry);
                        }
                    }
                })
            });
            match read {
                Ok(skipped) if skipped > 0 => sweep.warnings.push(Warning::new(
                    &path,
                    format!("{skipped} line(s) longer than {MAX_LOG_LINE} bytes were skipped"),
                )),
                Ok(_) => {}
                Err(e) => sweep
                    .warnings
                    .push(Warning::new(&path, format!("cannot be read ({e})"))),
            }
            sweep.inputs.push(path);
            if overflow {
                return Err(KeyError::new(
                    &keys,
                    format!("the logs name more than {MAX_LOGGED_CONFIGS} configs"),
                    Some("check `inputs.logs.line`: it should match one line per config".into()),
                ));
            }
        }
    }
    let mut entries: Vec<LogEntry> = latest.into_values().collect();
    entries.sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
    sweep.log = entries;
    Ok(())
}

/// Config lines of one log, streamed: each goes to `entry` as it is read.
/// Blank lines, `#` comments and lines that do not match are not configs;
/// LF, CRLF and bare CR endings are accepted. Returns how many lines were
/// too long to look at.
pub fn parse_log(
    reader: impl std::io::Read,
    path: &Path,
    status: Status,
    line_pattern: &regex::Regex,
    mut entry: impl FnMut(LogEntry),
) -> std::io::Result<usize> {
    let mut number = 0;
    let mut too_long = 0;
    for_each_line(reader, |line| {
        number += 1;
        let Some(line) = line else {
            too_long += 1;
            return;
        };
        let line = String::from_utf8_lossy(line);
        if line.trim_start().starts_with('#') {
            return;
        }
        let Some(caps) = line_pattern.captures(&line) else {
            return;
        };
        let captures = line_pattern
            .capture_names()
            .flatten()
            .filter_map(|n| Some((n.to_string(), caps.name(n)?.as_str().to_string())))
            .collect();
        entry(LogEntry {
            path: path.to_path_buf(),
            line: number,
            status,
            captures,
        });
    })?;
    Ok(too_long)
}

/// Calls `each` with every line (without its ending), or `None` for a line
/// longer than [`MAX_LOG_LINE`], reading 64 KiB at a time.
fn for_each_line(
    reader: impl std::io::Read,
    mut each: impl FnMut(Option<&[u8]>),
) -> std::io::Result<()> {
    use std::io::BufRead as _;
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, reader);
    let mut line = Vec::new();
    let mut overlong = false;
    // A CR at the end of one chunk and an LF at the start of the next are
    // one line ending.
    let mut after_cr = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        let mut start = usize::from(after_cr && chunk[0] == b'\n');
        after_cr = false;
        while let Some(at) = memchr::memchr2(b'\r', b'\n', &chunk[start..]) {
            let end = start + at;
            if !overlong {
                line.extend_from_slice(&chunk[start..end]);
            }
            let too_long = overlong || line.len() > MAX_LOG_LINE;
            each((!too_long).then_some(line.as_slice()));
            line.clear();
            overlong = false;
            start = end + 1;
            if chunk[end] == b'\r' {
                match chunk.get(start) {
                    Some(b'\n') => start += 1,
                    Some(_) => {}
                    None => after_cr = true,
                }
            }
        }
        if !overlong {
            line.extend_from_slice(&chunk[start..]);
            if line.len() > MAX_LOG_LINE {
                overlong = true;
                line.clear();
            }
        }
        let len = chunk.len();
        reader.consume(len);
    }
    if overlong || !line.is_empty() {
        each((!overlong).then_some(line.as_slice()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;

    fn inputs() -> Inputs {
        spec::parse_one("t.yaml", "inputs:\n  traces: '*.json'\n")
            .unwrap()
            .inputs
            .unwrap()
    }

    fn values(json: &str) -> (Result<RunValues, Unusable>, Vec<String>) {
        let mut w = Vec::new();
        let ranks = trace::read(&mut std::io::Cursor::new(json)).unwrap();
        let r = read_values(&ranks, Path::new("f.json"), &inputs(), &mut w);
        (r, w.into_iter().map(|w| w.to_string()).collect())
    }

    #[test]
    fn the_cache_reads_a_trace_again_only_when_it_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        let peak = |cache: &TraceCache| match &*cache.ranks(&path) {
            Ok(ranks) => format!("{:?}", ranks[0].value),
            Err(u) => u.warning.clone(),
        };
        std::fs::write(&path, r#"{"0": {"peak_allocated_MB": 1}}"#).unwrap();
        let cache = TraceCache::default();
        let first = cache.ranks(&path);
        assert!(
            Arc::ptr_eq(&first, &cache.ranks(&path)),
            "unchanged: not read again"
        );
        // Same length, new content: the inode and change time tell.
        std::fs::write(dir.path().join("new"), r#"{"0": {"peak_allocated_MB": 2}}"#).unwrap();
        std::fs::rename(dir.path().join("new"), &path).unwrap();
        assert_eq!(
            peak(&cache),
            r#"Object([("peak_allocated_MB", Number(2.0))])"#
        );
        std::fs::write(&path, "{").unwrap();
        assert_eq!(
            peak(&cache),
            "malformed JSON: line 1 column 2 (byte 1): unexpected end of file inside the top-level object"
        );
        cache.retain(&[]);
        assert!(cache.lock().is_empty());
    }

    fn entries_of(text: &str, pattern: &regex::Regex) -> Vec<LogEntry> {
        let mut entries = Vec::new();
        parse_log(
            text.as_bytes(),
            Path::new("l.log"),
            Status::Success,
            pattern,
            |e| entries.push(e),
        )
        .unwrap();
        entries
    }

    /// Reads a few bytes at a time, so line endings fall across reads.
    struct Trickle<'a>(&'a [u8], usize);

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn line_endings_split_across_reads_and_overlong_lines() {
        let long = "x".repeat(MAX_LOG_LINE + 1);
        let text = format!("a\r\nb\rc\n\n{long}\nd\r\n\re");
        for step in [1, 2, 3, 7, 1 << 20] {
            let mut lines = Vec::new();
            for_each_line(Trickle(text.as_bytes(), step), |l| {
                lines.push(l.map(|l| String::from_utf8_lossy(l).into_owned()))
            })
            .unwrap();
            let expected = ["a", "b", "c", "", "", "d", "", "e"].map(|l| Some(l.to_string()));
            let mut expected = expected.to_vec();
            expected[4] = None;
            assert_eq!(lines, expected, "step {step}");
        }
    }

    #[test]
    fn reads_the_rank_fields() {
        let (r, w) = values(
            r#"{"0": {"samples": [{"a": 1}], "peak_allocated_MB": 58716.72, "theoretical_memory_MB": 140204.06, "static_memory_MB": 3}}"#,
        );
        let r = r.unwrap();
        assert_eq!((r.actual, r.theory), (58716.72, Some(140204.06)));
        assert_eq!(r.numbers["static_memory_MB"], 3.0);
        assert!(w.is_empty());
    }

    #[test]
    fn non_finite_theory_is_unknown_and_named() {
        let (r, w) = values(r#"{"0": {"peak_allocated_MB": 1, "theoretical_memory_MB": NaN}}"#);
        assert_eq!(r.unwrap().theory, None);
        assert_eq!(
            w,
            [
                "f.json: theoretical field `theoretical_memory_MB` is `NaN`; theory shows n/a and marks no threshold"
            ]
        );
        let (r, w) = values(r#"{"0": {"peak_allocated_MB": -Infinity}}"#);
        assert_eq!(r, Err(Unusable("no actual value".into())));
        assert_eq!(
            w,
            ["f.json: actual field `peak_allocated_MB` is `-Infinity`; the cell shows no data"]
        );
    }

    #[test]
    fn single_other_rank_is_used_and_said() {
        let (r, w) = values(r#"{"3": {"peak_allocated_MB": 5}}"#);
        assert_eq!(r.unwrap().actual, 5.0);
        assert_eq!(w[0], "f.json: no rank `0`; using its only rank `3`");
        let (r, w) = values(r#"{}"#);
        assert!(r.is_err());
        assert_eq!(
            w,
            ["f.json: the trace is empty (`{}`); the cell shows no data"]
        );
    }

    #[test]
    fn missing_theory_keeps_actual() {
        let (r, w) = values(r#"{"0": {"peak_allocated_MB": 5}}"#);
        assert_eq!(r.unwrap().theory, None);
        assert_eq!(
            w,
            [
                "f.json: theoretical field `theoretical_memory_MB` is missing; theory shows n/a and marks no threshold"
            ]
        );
    }

    #[test]
    fn log_lines_skip_comments_blank_and_crlf() {
        let pattern = spec::parse_one("t.yaml", "inputs: {traces: x, logs: {success: s}}\n")
            .unwrap()
            .inputs
            .unwrap()
            .logs
            .unwrap()
            .line;
        let text = "# Config 1: TP=8, PP=8 - SUCCESS\r\n\r\nConfig 2: TP=2, PP=4, DP=1 - SUCCESS\r\ngarbage TP=3, PP=3\n";
        let entries = entries_of(text, &pattern.0);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].line, 3);
        assert_eq!(entries[0].captures["tp"], "2");
        assert_eq!(entries[0].captures["pp"], "4");
    }

    #[test]
    fn repeated_keys_warn_and_the_last_wins() {
        let (r, w) = values(
            r#"{"0": {"peak_allocated_MB": 1, "peak_allocated_MB": 2}, "0": {"peak_allocated_MB": 5, "peak_allocated_MB": 6}}"#,
        );
        assert_eq!(r.unwrap().actual, 6.0);
        assert_eq!(
            w,
            [
                "f.json: rank `0` appears more than once; the last one is used",
                "f.json: field `peak_allocated_MB` appears more than once in rank `0`; the last value is used",
                "f.json: theoretical field `theoretical_memory_MB` is missing; theory shows n/a and marks no threshold",
            ]
        );
    }

    #[test]
    fn bare_cr_line_endings_count_every_entry() {
        let pattern = crate::spec::Pattern::try_from(
            r"^Config\s+(?P<seq>\d+):\s*TP=(?P<tp>\d+),\s*PP=(?P<pp>\d+)".to_string(),
        )
        .unwrap();
        let text = "Config 1: TP=1, PP=1\rConfig 2: TP=2, PP=1\r\rConfig 3: TP=4, PP=1\r\nConfig 4: TP=8, PP=1";
        let entries = entries_of(text, &pattern.0);
        let lines: Vec<usize> = entries.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 2, 4, 5]);
    }

    proptest::proptest! {
        #[test]
        fn log_reader_never_panics(text in "\\PC{0,400}") {
            let pattern = crate::spec::Pattern::try_from(r"^Config\s+\d+:\s*TP=(?P<tp>\d+),\s*PP=(?P<pp>\d+)".to_string()).unwrap();
            for entry in entries_of(&text, &pattern.0) {
                proptest::prop_assert!(entry.line >= 1 && entry.captures.contains_key("tp"));
            }
        }

        #[test]
        fn trace_reader_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let mut w = Vec::new();
            if let Ok(ranks) = trace::read(&mut std::io::Cursor::new(&bytes)) {
                let _ = read_values(&ranks, Path::new("f.json"), &inputs(), &mut w);
            }
        }
    }
}
