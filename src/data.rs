//! Loads a sweep: trace files found by the spec's globs, and the status logs.
//!
//! Policy for bad data: anything wrong with a file the user did not write by
//! hand is a [`Warning`] naming the file and the reason, and the file's cell
//! shows what is known. Only a problem in the spec itself (a glob that
//! matches nothing, a missing log) is an error.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::spec::{BaseDir, Key, KeyError, Logs, Sources, Spec, X_DEFAULTS, Y_DEFAULTS, canonical};
use crate::trace::{self, RankValue, Scalar};
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

/// Resolves the spec's globs, each against the directory of the file that
/// wrote it, and reads every match, trace files in parallel. On an error,
/// `sweep` holds what was read before it.
pub fn load(spec: &Spec, sources: &Sources, sweep: &mut Sweep) -> Result<(), KeyError> {
    let result = load_into(spec, sources, sweep);
    sweep.inputs.sort();
    sweep.inputs.dedup();
    sweep.dirs.sort();
    sweep.dirs.dedup();
    result
}

fn load_into(spec: &Spec, sources: &Sources, sweep: &mut Sweep) -> Result<(), KeyError> {
    let trace_paths = expand_globs(
        &spec.inputs.traces.0,
        sources,
        &[Key::Field("inputs"), Key::Field("traces")],
        sweep,
    )?;
    let results: Vec<(Option<Run>, Vec<Warning>)> = trace_paths
        .par_iter()
        .map(|path| read_run(path, spec))
        .collect();
    for (run, warnings) in results {
        sweep.runs.extend(run);
        sweep.warnings.extend(warnings);
    }
    sweep.matched_traces = trace_paths.len();
    sweep.inputs.extend(trace_paths);
    if let Some(logs) = &spec.inputs.logs {
        let axes = (
            spec.axes.x.field(&X_DEFAULTS),
            spec.axes.y.field(&Y_DEFAULTS),
        );
        load_logs(logs, sources, axes, sweep)?;
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
fn read_run(path: &Path, spec: &Spec) -> (Option<Run>, Vec<Warning>) {
    let mut warnings = Vec::new();
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        warnings.push(Warning::new(path, "file name is not valid UTF-8; skipped"));
        return (None, warnings);
    };
    let pattern = &spec.inputs.filename.0;
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
    let content = match read_trace(path) {
        Ok(bytes) => read_values(&bytes, path, spec, &mut warnings),
        Err(why) => {
            warnings.push(Warning::new(path, format!("{why}; the cell shows no data")));
            Err(Unusable(why))
        }
    };
    let run = Run {
        path: path.to_path_buf(),
        captures,
        content,
    };
    (Some(run), warnings)
}

/// Largest trace file read. Files are read whole, one per core at a time,
/// so this bounds memory; real traces are a few MB.
pub const MAX_TRACE_BYTES: u64 = 1 << 30;

/// A trace's bytes, unless it is too large or clearly not JSON: the first
/// 4 KiB are looked at before the rest is read, so a 6 GB file of zeros
/// is turned down at once.
fn read_trace(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot be read ({e})"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > MAX_TRACE_BYTES {
        return Err(format!(
            "is {:.1} GiB, more than the {} GiB memheat reads",
            size as f64 / (1u64 << 30) as f64,
            MAX_TRACE_BYTES >> 30
        ));
    }
    let mut head = [0u8; 4096];
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cannot be read ({e})")),
        }
    }
    let first = head[..filled].iter().find(|b| !b.is_ascii_whitespace());
    if let Some(&byte) = first
        && byte != b'{'
    {
        let at = head.iter().position(|b| b == &byte).unwrap_or(0);
        return Err(format!(
            "is not a JSON object (byte {} is 0x{byte:02x}, not `{{`)",
            at + 1
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).max(filled));
    bytes.extend_from_slice(&head[..filled]);
    file.take(MAX_TRACE_BYTES + 1 - filled as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read ({e})"))?;
    if bytes.len() as u64 > MAX_TRACE_BYTES {
        return Err(format!(
            "grew past {} GiB while being read",
            MAX_TRACE_BYTES >> 30
        ));
    }
    Ok(bytes)
}

/// Extracts the rank's values from a trace document.
fn read_values(
    bytes: &[u8],
    path: &Path,
    spec: &Spec,
    warnings: &mut Vec<Warning>,
) -> Result<RunValues, Unusable> {
    let mut warn = |message: String| warnings.push(Warning::new(path, message));
    let ranks = trace::scan(bytes).map_err(|e| {
        warn(format!("malformed JSON: {e}; the cell shows no data"));
        Unusable("malformed JSON".into())
    })?;
    let wanted = &spec.inputs.rank;
    // Like Python's json module, a repeated key means its last value; say so,
    // since a tracer that writes a key twice is usually broken.
    if ranks.iter().filter(|r| &r.key == wanted).count() > 1 {
        warn(format!(
            "rank `{wanted}` appears more than once; the last one is used"
        ));
    }
    let rank = match ranks.iter().rev().find(|r| &r.key == wanted) {
        Some(rank) => rank,
        None => match ranks.as_slice() {
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
    let numbers: BTreeMap<String, f64> = latest
        .iter()
        .filter_map(|(k, v)| match v {
            Scalar::Number(n) => Some((k.to_string(), *n)),
            _ => None,
        })
        .collect();
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
    let Some(actual) = field(&spec.inputs.actual, "actual", "the cell shows no data") else {
        return Err(Unusable("no actual value".into()));
    };
    let theory = field(
        &spec.inputs.theory,
        "theoretical",
        "theory shows n/a and marks no threshold",
    );
    Ok(RunValues {
        numbers,
        actual,
        theory,
    })
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
        let keys = [Key::Field("inputs"), Key::Field("logs"), Key::Field(key)];
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

    fn spec(extra: &str) -> Spec {
        spec::parse_one("t.yaml", &format!("inputs:\n  traces: '*.json'\n{extra}")).unwrap()
    }

    fn values(json: &str) -> (Result<RunValues, Unusable>, Vec<String>) {
        let mut w = Vec::new();
        let r = read_values(json.as_bytes(), Path::new("f.json"), &spec(""), &mut w);
        (r, w.into_iter().map(|w| w.to_string()).collect())
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
            let _ = read_values(&bytes, Path::new("f.json"), &spec(""), &mut w);
        }
    }
}
