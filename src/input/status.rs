//! Status logs: which configs succeeded and which failed, one config line
//! each, read in a stream and reduced to the latest entry per config.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::lines::{MAX_LOG_LINE, for_each_line};
use super::{Sweep, expand_globs};
use crate::spec::{Key, KeyError, Logs, Part, Sources, canonical};
use crate::warning::Warning;

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

/// Distinct configs the logs may name; a sweep has dozens.
pub const MAX_LOGGED_CONFIGS: usize = 100_000;
/// Longest log line looked at; longer ones are skipped and counted.

/// Reads the logs line by line and keeps, for each config and status, only
/// the latest entry: all the table looks at, so a million-line log costs
/// memory per config, not per line.
pub(super) fn load_logs(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;

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
