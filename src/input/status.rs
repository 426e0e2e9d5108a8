//! Status logs: which configs succeeded and which failed, one config line
//! each, read in a stream and reduced to the latest entry per config.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::lines::{MAX_LOG_LINE, for_each_line};
use super::{Sweep, expand_globs};
use crate::spec::{Inputs, Key, KeyError, Logs, Outcomes, Part, Sources, canonical};
use crate::warning::Warning;

/// Run status as the sweep's logs record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Success,
    Failure,
}

/// A config line of a status log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogEntry {
    pub path: PathBuf,
    pub line: usize,
    pub status: Status,
    pub captures: BTreeMap<String, String>,
}

impl LogEntry {
    /// The `seq` capture (the default pattern takes the `Config N` number).
    pub(crate) fn seq(&self) -> Option<f64> {
        self.captures.get("seq")?.trim().parse().ok()
    }

    /// Which of two entries is later: by `seq` where the pattern captures
    /// one, else by where it was read.
    pub(crate) fn order(&self, other: &LogEntry) -> std::cmp::Ordering {
        self.seq()
            .partial_cmp(&other.seq())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(self.path.cmp(&other.path))
            .then(self.line.cmp(&other.line))
    }
}

// Beside `Status`, so the spec's words need not know the outcomes' type.
impl Outcomes {
    /// The outcome a status word names, if any.
    pub fn of(&self, word: &str) -> Option<crate::input::Status> {
        let word = word.trim();
        let is = |words: &[String]| words.iter().any(|w| w.trim().eq_ignore_ascii_case(word));
        if is(&self.failure) {
            Some(Status::Failure)
        } else if is(&self.success) {
            Some(Status::Success)
        } else {
            None
        }
    }
}

/// Distinct configs the logs may name; a sweep has dozens.
pub(super) const MAX_LOGGED_CONFIGS: usize = 100_000;

/// Config fields of a line that `inputs.logs.line` does not give:
/// `key=value` and `key: number`.
static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([A-Za-z][\w.]*)\s*=\s*([^\s,;|]+)|([A-Za-z][\w.]*):\s*(\d+)\b")
        .expect("the token pattern is valid")
});
/// The `Config N` of the sweep script's logs, the order of re-runs.
static SEQ: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bconfig\s+(\d+)\b").expect("the seq pattern is valid"));
/// Fields whose value is the outcome: in a line read by tokens, and the
/// table columns read unless `inputs.status` names one.
pub(crate) const STATUS_FIELDS: [&str; 4] = ["status", "state", "outcome", "result"];

/// How a log's lines become entries: which config, which outcome.
pub(crate) struct LineReader<'a> {
    /// `inputs.logs.line`; `None` reads `key=value` tokens.
    pub(crate) pattern: Option<&'a Regex>,
    /// The outcome every line records (a success or failure log), or
    /// `None` to read it from the line (a status log).
    pub(crate) status: Option<Status>,
    pub(crate) outcomes: &'a Outcomes,
    /// The axis fields: a line with both that gives no entry is suspect.
    pub(crate) axes: (&'a str, &'a str),
}

/// Lines of one log that gave no entry although they name both axis
/// fields: a pattern that almost matches drops configs silently.
#[derive(Debug, Default)]
pub(crate) struct Read {
    pub(crate) too_long: usize,
    pub(crate) unmatched: usize,
    pub(crate) first_unmatched: Option<(usize, String)>,
}

/// Reads the logs line by line and keeps, for each config and status, only
/// the latest entry: all the table looks at, so a million-line log costs
/// memory per config, not per line.
pub(super) fn load_logs(
    logs: &Logs,
    part: &Part,
    inputs: &Inputs,
    sources: &Sources,
    axes: (&str, &str),
    sweep: &mut Sweep,
) -> Result<(), KeyError> {
    let mut latest: HashMap<(Status, String, String), LogEntry> = HashMap::new();
    let default_line = crate::spec::default_log_line();
    let kinds = [
        (&logs.success, Some(Status::Success), "success"),
        (&logs.failure, Some(Status::Failure), "failure"),
        (&logs.status, None, "status"),
    ];
    for (globs, status, key) in kinds {
        if globs.0.is_empty() {
            continue;
        }
        let pattern = match (&logs.line, status) {
            (Some(line), _) => Some(&line.0),
            (None, Some(_)) => Some(&default_line.0),
            (None, None) => None,
        };
        let reader = LineReader {
            pattern,
            status,
            outcomes: &inputs.outcomes,
            axes,
        };
        let keys = part.keys(&[Key::Field("inputs"), Key::Field("logs"), Key::Field(key)]);
        for found in expand_globs(&globs.0, sources, &keys, sweep)? {
            let path = found.path;
            let mut overflow = false;
            let read = std::fs::File::open(&path).and_then(|file| {
                parse_log(file, &path, &reader, |entry| {
                    let (Some(x), Some(y)) =
                        (entry.captures.get(axes.0), entry.captures.get(axes.1))
                    else {
                        return;
                    };
                    let config = (entry.status, canonical(x), canonical(y));
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
                Ok(read) => sweep.warnings.extend(read.warnings(&path, &reader)),
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
    sweep.lists_successes = entries.iter().any(|e| e.status == Status::Success);
    sweep.log.extend(entries);
    Ok(())
}

impl Read {
    fn warnings(self, path: &Path, reader: &LineReader) -> Vec<Warning> {
        let mut warnings = Vec::new();
        if self.too_long > 0 {
            warnings.push(Warning::new(
                path,
                format!(
                    "{} line(s) longer than {MAX_LOG_LINE} bytes were skipped",
                    self.too_long
                ),
            ));
        }
        if let Some((line, text)) = self.first_unmatched {
            let what = match (reader.pattern, reader.status) {
                (Some(_), _) => "do not match `inputs.logs.line`",
                (None, _) => "name no outcome (`status=…`, or a word such as OK or OOM)",
            };
            let shown: String = text.trim().chars().take(120).collect();
            warnings.push(Warning {
                path: path.to_path_buf(),
                line: Some(line),
                message: format!(
                    "{} line(s) name `{}` and `{}` but {what}, so they count for no config; the first is this one: {shown:?}",
                    self.unmatched, reader.axes.0, reader.axes.1
                ),
            });
        }
        warnings
    }
}

/// Config lines of one log, streamed: each goes to `entry` as it is read.
/// Blank lines and `#` comments are not configs; a byte-order mark and
/// indentation are not part of a line; LF, CRLF and bare CR endings are
/// accepted.
pub(crate) fn parse_log(
    reader: impl std::io::Read,
    path: &Path,
    lines: &LineReader,
    mut entry: impl FnMut(LogEntry),
) -> std::io::Result<Read> {
    let mut number = 0;
    let mut read = Read::default();
    for_each_line(reader, |line, _| {
        number += 1;
        let Some(line) = line else {
            read.too_long += 1;
            return;
        };
        let text = String::from_utf8_lossy(line);
        let text = text.trim_start_matches('\u{feff}').trim_start();
        if text.is_empty() || text.starts_with('#') {
            return;
        }
        match lines.entry(text) {
            Some((status, captures)) => entry(LogEntry {
                path: path.to_path_buf(),
                line: number,
                status,
                captures,
            }),
            None => {
                let tokens = tokens(text);
                if tokens.contains_key(lines.axes.0) && tokens.contains_key(lines.axes.1) {
                    read.unmatched += 1;
                    read.first_unmatched
                        .get_or_insert_with(|| (number, text.to_string()));
                }
            }
        }
    })?;
    Ok(read)
}

/// How many lines of `text` a status log read without `inputs.logs.line`
/// takes as configs with both `axes` fields and an outcome: whether a
/// spec can list the file under `inputs.logs.status` as it is.
pub(crate) fn status_lines(text: &str, axes: (&str, &str)) -> usize {
    let outcomes = Outcomes::default();
    let reader = LineReader {
        pattern: None,
        status: None,
        outcomes: &outcomes,
        axes,
    };
    let mut count = 0;
    // Reading from memory cannot fail.
    let _ = parse_log(text.as_bytes(), Path::new(""), &reader, |entry| {
        if entry.captures.contains_key(axes.0) && entry.captures.contains_key(axes.1) {
            count += 1;
        }
    });
    count
}

impl LineReader<'_> {
    /// The outcome and config of one line, if it records one.
    fn entry(&self, text: &str) -> Option<(Status, BTreeMap<String, String>)> {
        let captures = match self.pattern {
            Some(pattern) => {
                let caps = pattern.captures(text)?;
                pattern
                    .capture_names()
                    .flatten()
                    .filter_map(|n| Some((n.to_string(), caps.name(n)?.as_str().to_string())))
                    .collect()
            }
            None => {
                let mut captures = tokens(text);
                if let Some(seq) = SEQ.captures(text).and_then(|c| c.get(1)) {
                    captures.insert("seq".into(), seq.as_str().into());
                }
                captures
            }
        };
        let status = match self.status {
            Some(status) => status,
            None => self.outcome(text, &captures)?,
        };
        Some((status, captures))
    }

    /// A status field's value, else the one outcome word of the line.
    fn outcome(&self, text: &str, captures: &BTreeMap<String, String>) -> Option<Status> {
        if let Some(value) = STATUS_FIELDS.iter().find_map(|f| captures.get(*f)) {
            return self.outcomes.of(value);
        }
        if self.pattern.is_some() {
            return None;
        }
        let mut said = text
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .filter_map(|word| self.outcomes.of(word));
        let first = said.next()?;
        said.all(|s| s == first).then_some(first)
    }
}

/// `key=value` and `key: number` fields of a line, keys in lower case.
fn tokens(text: &str) -> BTreeMap<String, String> {
    TOKEN
        .captures_iter(text)
        .filter_map(|c| {
            let (key, value) = match (c.get(1), c.get(2), c.get(3), c.get(4)) {
                (Some(k), Some(v), _, _) | (_, _, Some(k), Some(v)) => (k, v),
                _ => return None,
            };
            Some((
                key.as_str().to_ascii_lowercase(),
                value.as_str().to_string(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;

    fn read_with(
        text: &str,
        pattern: Option<&Regex>,
        status: Option<Status>,
    ) -> (Vec<LogEntry>, Vec<String>) {
        let outcomes = Outcomes::default();
        let reader = LineReader {
            pattern,
            status,
            outcomes: &outcomes,
            axes: ("pp", "tp"),
        };
        let mut entries = Vec::new();
        let read = parse_log(text.as_bytes(), Path::new("l.log"), &reader, |e| {
            entries.push(e)
        })
        .unwrap();
        let warnings = read.warnings(Path::new("l.log"), &reader);
        (entries, warnings.iter().map(ToString::to_string).collect())
    }

    fn entries_of(text: &str, pattern: &Regex) -> Vec<LogEntry> {
        read_with(text, Some(pattern), Some(Status::Success)).0
    }

    fn outcomes(entries: &[LogEntry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| {
                let fields: Vec<String> =
                    e.captures.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{}:{:?} {}", e.line, e.status, fields.join(" "))
            })
            .collect()
    }

    #[test]
    fn a_mixed_status_log_gives_each_line_its_own_outcome() {
        let text = "tp=4 pp=16 status=OOM\nTP=2 PP=16 STATUS=ok\nConfig 7: TP=8, PP=1 - FAILED\n\
                    Config 8: TP=8, PP=2 - SUCCESS\ntp: 1, pp: 4 finished\ntp=1 pp=8 status=running\n";
        let (entries, warnings) = read_with(text, None, None);
        assert_eq!(
            outcomes(&entries),
            [
                "1:Failure pp=16 status=OOM tp=4",
                "2:Success pp=16 status=ok tp=2",
                "3:Failure pp=1 seq=7 tp=8",
                "4:Success pp=2 seq=8 tp=8",
                "5:Success pp=4 tp=1",
            ]
        );
        assert_eq!(
            warnings,
            [
                "l.log:6: 1 line(s) name `pp` and `tp` but name no outcome (`status=…`, or a word such as OK or OOM), so they count for no config; the first is this one: \"tp=1 pp=8 status=running\""
            ]
        );
    }

    #[test]
    fn a_status_capture_is_mapped_through_the_outcomes() {
        let pattern = Regex::new(r"tp=(?P<tp>\d+) pp=(?P<pp>\d+) -> (?P<status>\w+)").unwrap();
        let (entries, _) = read_with(
            "tp=1 pp=2 -> COMPLETED\ntp=1 pp=4 -> CANCELLED\n",
            Some(&pattern),
            None,
        );
        assert_eq!(
            outcomes(&entries),
            [
                "1:Success pp=2 status=COMPLETED tp=1",
                "2:Failure pp=4 status=CANCELLED tp=1"
            ]
        );
    }

    #[test]
    fn near_misses_of_the_pattern_are_counted_and_harmless_variants_read() {
        let pattern = crate::spec::default_log_line();
        let text = "\u{feff}Config 1: TP=1, PP=1 - OK\n  Config 2: TP = 2, PP = 1 - OK\nConfig 3 TP=4 PP=1 - OK\nrun TP=8 PP=1\n";
        let (entries, warnings) = read_with(text, Some(&pattern.0), Some(Status::Success));
        assert_eq!(
            outcomes(&entries),
            ["1:Success pp=1 seq=1 tp=1", "2:Success pp=1 seq=2 tp=2"]
        );
        assert_eq!(
            warnings,
            [
                "l.log:3: 2 line(s) name `pp` and `tp` but do not match `inputs.logs.line`, so they count for no config; the first is this one: \"Config 3 TP=4 PP=1 - OK\""
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
            .line
            .unwrap_or_else(crate::spec::default_log_line);
        let text = "# Config 1: TP=8, PP=8 - SUCCESS\r\n\r\nConfig 2: TP=2, PP=4, DP=1 - SUCCESS\r\ngarbage TP=3, PP=3\n";
        let entries = entries_of(text, &pattern.0);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].line, 3);
        assert_eq!(entries[0].captures["tp"], "2");
        assert_eq!(entries[0].captures["pp"], "4");
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
    }
}
