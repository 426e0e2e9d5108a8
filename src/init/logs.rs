//! Status logs: which text files list configs, whether each lists
//! successes, failures or both, and the `inputs.logs.line` pattern that
//! reads the axis values from their lines.

use std::path::PathBuf;

use regex::Regex;

use crate::input::Status;

/// How much of a log is looked at: enough lines to judge, however long
/// the log (the build reads it all).
pub(super) const HEAD_BYTES: u64 = 1 << 20;

/// A text file and its first [`HEAD_BYTES`].
pub(super) struct Text {
    pub path: PathBuf,
    pub head: String,
}

/// What the logs say, for the spec.
#[derive(Debug, PartialEq)]
pub(super) struct Logs {
    /// (file, config lines in its head), per status.
    pub success: Vec<(PathBuf, usize)>,
    pub failure: Vec<(PathBuf, usize)>,
    /// Logs of both outcomes, read by their `key=value` tokens.
    pub status: Vec<(PathBuf, usize)>,
    /// `None` when memheat's default reads the lines (or there are only
    /// status logs, which are read without one).
    pub line: Option<String>,
    /// Why this line pattern, for the spec's comment.
    pub why: String,
}

/// Finds the status logs among `texts`. Returns them (if any) and, for the
/// spec's comments, each text file that was not used and why.
pub(super) fn infer(texts: &[Text], x: &str, y: &str) -> (Option<Logs>, Vec<(PathBuf, String)>) {
    let Some((line, why)) = pattern(texts, x, y) else {
        let skipped = texts
            .iter()
            .map(|t| {
                let why = format!("no line names both `{x}` and `{y}` with a number");
                (t.path.clone(), why)
            })
            .collect();
        return (None, skipped);
    };
    let re = Regex::new(&line).expect("log patterns are built from escaped keys");
    let mut logs = Logs {
        success: vec![],
        failure: vec![],
        status: vec![],
        line: Some(line),
        why,
    };
    let mut skipped = Vec::new();
    for text in texts {
        let lines: Vec<&str> = config_lines(&text.head, &re).collect();
        if lines.is_empty() {
            skipped.push((text.path.clone(), "no line matches `line`".to_string()));
            continue;
        }
        let name = text.path.file_name().unwrap_or_default().to_string_lossy();
        let from_lines = || {
            let mut each = lines.iter().map(|l| status(l));
            let first = each.next().flatten()?;
            each.all(|s| s == Some(first)).then_some(first)
        };
        let entry = (text.path.clone(), lines.len());
        match status(&name).or_else(from_lines) {
            Some(Status::Success) => logs.success.push(entry),
            Some(Status::Failure) => logs.failure.push(entry),
            None if crate::input::status_lines(&text.head, (x, y)) > 0 => logs.status.push(entry),
            None => skipped.push((
                text.path.clone(),
                "neither its name nor its lines say success or failure, and its lines name no outcome as `status=OK` or a word such as OK or OOM"
                    .to_string(),
            )),
        }
    }
    let one_outcome = !logs.success.is_empty() || !logs.failure.is_empty();
    let default = crate::spec::default_log_line().0.as_str().to_string();
    if !logs.status.is_empty() && logs.line.as_ref() != Some(&default) {
        if one_outcome {
            // The pattern the other logs need would be the status logs'
            // too, and it has no `status` capture.
            for (path, _) in logs.status.drain(..) {
                skipped.push((path, "lists both outcomes, but its lines are not read by the pattern the other logs need; list it under `logs.status` with a `line` that captures `status`".into()));
            }
        } else {
            logs.why = "Lines are read by their `key=value` tokens, the outcome from `status=` or an outcome word".into();
        }
    }
    if logs.line.as_ref() == Some(&default) || (!one_outcome && !logs.status.is_empty()) {
        logs.line = None;
    }
    if !one_outcome && logs.status.is_empty() {
        return (None, skipped);
    }
    (Some(logs), skipped)
}

/// Lines that count in a build: not blank, not `#` comments, matching.
fn config_lines<'a>(text: &'a str, re: &'a Regex) -> impl Iterator<Item = &'a str> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && re.is_match(l))
}

/// memheat's default pattern when the axes are its defaults and it reads
/// the lines; else one built from the axis keys, in the order the lines
/// name them. `None` when no line names both.
fn pattern(texts: &[Text], x: &str, y: &str) -> Option<(String, String)> {
    let count = |line: &str| {
        let re = Regex::new(line).expect("log patterns are built from escaped keys");
        texts
            .iter()
            .map(|t| config_lines(&t.head, &re).count())
            .sum::<usize>()
    };
    let default = crate::spec::default_log_line().0.as_str().to_string();
    if (x, y) == ("pp", "tp") && count(&default) > 0 {
        return Some((
            default,
            "memheat's default pattern reads these lines".into(),
        ));
    }
    let built = |a: &str, b: &str| {
        let key = |k: &str| format!(r"\b{}\s*[=:]?\s*(?P<{k}>\d+)", regex::escape(k));
        format!("(?i){}.*?{}", key(a), key(b))
    };
    let (xy, yx) = (built(x, y), built(y, x));
    let (n_xy, n_yx) = (count(&xy), count(&yx));
    let (line, n) = if n_xy >= n_yx { (xy, n_xy) } else { (yx, n_yx) };
    let why = format!(
        "Built from the `{x}` and `{y}` numbers in the lines (any case, `{x}4`, `{x}=4` or `{x}: 4`)"
    );
    (n > 0).then_some((line, why))
}

/// The outcome a file name or line names: words starting with `succe`,
/// `ok`, `pass`, … or `fail`, `oom`, `error`, …; `None` for neither or both.
pub(super) fn status(text: &str) -> Option<Status> {
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    let any = |starts: &[&str], exact: &[&str]| {
        words
            .iter()
            .any(|w| starts.iter().any(|s| w.starts_with(s)) || exact.contains(w))
    };
    let success = any(&["succe", "pass", "complet", "finish"], &["ok", "done"]);
    let failure = any(&["fail", "oom", "error", "crash", "kill"], &[]);
    match (success, failure) {
        (true, false) => Some(Status::Success),
        (false, true) => Some(Status::Failure),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(path: &str, head: &str) -> Text {
        Text {
            path: path.into(),
            head: head.into(),
        }
    }

    #[test]
    fn the_default_pattern_reads_the_example_logs() {
        let texts = [
            text(
                "successful_configs.log",
                "# header\nConfig 6: TP=1, PP=32, DP=256 - SUCCESS\n",
            ),
            text("failed_configs.log", "Config 1: TP=1, PP=1 - FAILED\n"),
            text("notes.txt", "nothing here\n"),
        ];
        let (logs, skipped) = infer(&texts, "pp", "tp");
        let logs = logs.unwrap();
        assert_eq!(logs.line, None, "the default needs no `line`");
        assert_eq!(logs.success, [("successful_configs.log".into(), 1)]);
        assert_eq!(logs.failure, [("failed_configs.log".into(), 1)]);
        assert_eq!(
            skipped,
            [(
                PathBuf::from("notes.txt"),
                "no line matches `line`".to_string()
            )]
        );
    }

    #[test]
    fn other_lines_get_a_pattern_from_the_axis_keys() {
        let texts = [text(
            "sweep.log",
            "2024-05-01 run-TP4-pp16 oom\n2024-05-01 run-tp2-pp8 OOM\n",
        )];
        let (logs, _) = infer(&texts, "pp", "tp");
        let logs = logs.unwrap();
        let line = logs.line.unwrap();
        assert_eq!(
            line,
            r"(?i)\btp\s*[=:]?\s*(?P<tp>\d+).*?\bpp\s*[=:]?\s*(?P<pp>\d+)"
        );
        assert_eq!(logs.failure, [("sweep.log".into(), 2)]);
        let re = Regex::new(&line).unwrap();
        let caps = re.captures("run-TP4-pp16 oom").unwrap();
        assert_eq!((&caps["tp"], &caps["pp"]), ("4", "16"));
    }

    #[test]
    fn a_log_of_both_outcomes_is_a_status_log_read_by_tokens() {
        let texts = [text(
            "sweep_status.log",
            "# both outcomes\ntp=4 pp=16 status=OOM\ntp=2 pp=8 status=OK\n",
        )];
        let (logs, skipped) = infer(&texts, "pp", "tp");
        let logs = logs.unwrap();
        assert_eq!(logs.status, [("sweep_status.log".into(), 2)]);
        assert_eq!(logs.line, None, "status logs are read by tokens");
        assert!(skipped.is_empty());
    }

    #[test]
    fn a_log_of_both_outcomes_without_tokens_is_not_used() {
        let texts = [text("sweep.log", "run-tp1-pp8 ok\nrun-tp2-pp8 failed\n")];
        let (logs, skipped) = infer(&texts, "pp", "tp");
        assert_eq!(logs, None);
        assert!(skipped[0].1.starts_with("neither its name"), "{skipped:?}");
    }

    #[test]
    fn statuses_are_whole_words() {
        assert_eq!(status("successful_configs.log"), Some(Status::Success));
        assert_eq!(status("OOM-runs.txt"), Some(Status::Failure));
        assert_eq!(status("tokens.log"), None);
        assert_eq!(status("ok_and_failed.log"), None);
    }
}
