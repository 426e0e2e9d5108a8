//! The starter spec's text: every inferred key with a comment that says
//! why, and the defaults a user is likely to change next, commented out.
//! Strings are single-quoted YAML, in which only `'` needs escaping, so a
//! regex or a path is written exactly as it is.

use crate::spec::{Unit, X_DEFAULTS, Y_DEFAULTS};

use super::names::Use;
use super::sources::{Found, LogSource, Source, TableSource, TraceSource};

/// Everything [`spec`] writes.
pub(super) struct Draft {
    pub command: String,
    /// This spec's path, as the user gave it.
    pub spec: String,
    pub found: Found,
    pub logs: Option<LogFiles>,
    /// Text files that are not status logs, and why.
    pub unused_texts: Vec<(String, String)>,
}

#[derive(Default)]
pub(super) struct Globs {
    pub globs: Vec<String>,
    /// Other files of the kind the globs match (a build warns about them).
    pub strays: usize,
}

pub(super) struct Choice {
    pub chosen: String,
    pub others: Vec<String>,
    /// The names were equally good: a question was asked, when it could be.
    pub tied: bool,
}

pub(super) struct Peak {
    /// The input unit and why; `None` when the format states its units.
    pub unit: Option<(Unit, String)>,
    /// The largest actual value among the inputs read.
    pub largest_gib: f64,
}

pub(super) struct LogFiles {
    /// (glob, config lines in its head).
    pub success: Vec<(String, usize)>,
    pub failure: Vec<(String, usize)>,
    pub status: Vec<(String, usize)>,
    pub line: Option<String>,
    pub why: String,
}

impl Draft {
    fn key(&self, axis: usize) -> &str {
        &self.found.axes[axis].key
    }

    /// Why several traces of one cell are a problem, when they are: they
    /// differ in a field no axis shows, so the figure hides some of them.
    pub(super) fn crowding(&self) -> Option<String> {
        let Source::Traces(traces) = &self.found.source else {
            return None;
        };
        let (cells, spread) = traces.config.crowded();
        let hidden: Vec<String> = spread
            .iter()
            .filter(|k| *k != "ts")
            .map(|k| format!("`{k}`"))
            .collect();
        if hidden.is_empty() {
            return None;
        }
        let first = hidden[0].trim_matches('`');
        Some(format!(
            "{cells} {} × {} config(s) have several traces that differ in {}; the figure shows one trace per config (the newest) and warns; put {} on an axis, or write one value of it into `inputs.filename` (e.g. `{first}1`) to plot that value",
            self.key(0),
            self.key(1),
            hidden.join(", "),
            hidden[0],
        ))
    }
}

/// Single-quoted YAML.
/// Single-quoted YAML, in which only `'` needs escaping; a text with a
/// control character (a file name may hold a line break) is double-quoted
/// with escapes, because a single-quoted scalar folds line breaks.
fn quoted(text: &str) -> String {
    if text.chars().any(char::is_control) {
        // JSON's string escapes are valid in YAML's double-quoted style.
        return serde_json::to_string(text).unwrap_or_default();
    }
    format!("'{}'", text.replace('\'', "''"))
}

/// `text` on one comment line: control characters (a line break in a file
/// name would end the comment and inject YAML) written as escapes.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// A YAML document with comments wrapped to a readable width.
struct Yaml(String);

impl Yaml {
    fn comment(&mut self, indent: usize, text: &str) {
        let pad = " ".repeat(indent);
        let mut line = String::new();
        for word in one_line(text).split(' ') {
            if !line.is_empty() && pad.len() + 2 + line.len() + 1 + word.len() > 100 {
                self.0.push_str(&format!("{pad}# {line}\n"));
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        self.0.push_str(&format!("{pad}# {line}\n"));
    }

    /// A line of YAML a user may uncomment, kept as it is.
    fn commented(&mut self, text: &str) {
        self.line(&format!("# {text}"));
    }

    fn line(&mut self, text: &str) {
        self.0.push_str(text);
        self.0.push('\n');
    }

    /// `key: value`, or a list when there are several values.
    fn values(&mut self, indent: usize, key: &str, values: &[String]) {
        let pad = " ".repeat(indent);
        match values {
            [one] => self.line(&format!("{pad}{key}: {}", quoted(one))),
            many => {
                self.line(&format!("{pad}{key}:"));
                for v in many {
                    self.line(&format!("{pad}  - {}", quoted(v)));
                }
            }
        }
    }
}

/// `a, b and c`, or `none`.
fn list(items: &[String]) -> String {
    match items {
        [] => "none".into(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn code(items: &[String]) -> Vec<String> {
    items.iter().map(|i| format!("`{i}`")).collect()
}

/// Why a field was chosen, and what else it could have been.
fn choice_comment(role: &str, choice: &Choice, default: &str) -> String {
    let why = if choice.chosen == default {
        "memheat's default name".to_string()
    } else if choice.tied {
        "one of equally likely names: chosen at the prompt, or the first without a terminal"
            .to_string()
    } else {
        "the likeliest name".to_string()
    };
    let mut text = format!("{role}: `{}`, {why}.", choice.chosen);
    if !choice.others.is_empty() {
        text.push_str(&format!(
            " Other candidates: {}.",
            list(&code(&choice.others))
        ));
    }
    text
}

pub(super) fn spec(d: &Draft) -> String {
    let mut y = Yaml(String::new());
    y.comment(
        0,
        &format!(
            "Starter spec written by `{}`. Build it with `memheat build {}`.",
            d.command, d.spec
        ),
    );
    y.comment(
        0,
        "Each inferred value says why, and what else it could have been; paths are relative to this file's directory. Every key is described in memheat's README, section \"Spec reference\".",
    );
    y.line("");
    inputs(&mut y, d);
    units_and_axes(&mut y, d);
    looks(&mut y, d);
    y.0
}

fn inputs(y: &mut Yaml, d: &Draft) {
    y.line("inputs:");
    match &d.found.source {
        Source::Traces(t) => traces(y, d, t),
        Source::Logs(l) => training_logs(y, l),
        Source::Table(t) => table(y, t),
    }
    logs(y, d);
    y.line("");
}

fn traces(y: &mut Yaml, d: &Draft, t: &TraceSource) {
    let c = &t.config;
    let place = if c.depth > 1 {
        "paths end like"
    } else {
        "are named like"
    };
    y.comment(
        2,
        &format!(
            "{} trace file(s); their {place} `{}`.",
            c.slots[0].values.len(),
            c.example
        ),
    );
    files_comment(
        y,
        "Not traces (another name shape, or no ranks with numbers)",
        &t.ignored,
    );
    strays(y, &t.globs, "JSON");
    y.values(2, "traces", &t.globs.globs);
    let mut captured = Vec::new();
    let mut literal = Vec::new();
    for (slot, used) in c.slots.iter().zip(&c.uses) {
        let key = slot.key.as_deref().unwrap_or("");
        match used {
            Use::Capture(name) => captured.push(format!("`{name}` ({} values)", slot.distinct)),
            Use::Literal if !key.is_empty() => literal.push(format!("`{key}{}`", slot.values[0])),
            _ => {}
        }
    }
    let whose = if c.depth > 1 {
        "the paths (directory names included: the pattern matches the end of each path below the glob's fixed directories)"
    } else {
        "the names"
    };
    let mut tokens = format!(
        "Numbers that vary between {whose} are captured as fields: {}.",
        list(&captured)
    );
    if !literal.is_empty() {
        tokens.push_str(&format!(" Constant ones stay literal: {}.", list(&literal)));
    }
    y.comment(2, &tokens);
    if let Some(crowding) = d.crowding() {
        y.comment(2, &format!("WARNING: {crowding}."));
    }
    y.line(&format!("  filename: {}", quoted(&c.filename)));
    let mut rank = format!(
        "Each trace is an object of ranks; rank `{}` is read",
        t.rank.chosen
    );
    if !t.rank.others.is_empty() {
        rank.push_str(&format!(" (also seen: {})", list(&code(&t.rank.others))));
    }
    y.comment(
        2,
        &format!("{rank}. Fields come from {} trace(s).", t.sampled),
    );
    y.line(&format!("  rank: {}", quoted(&t.rank.chosen)));
    metrics(y, &t.actual, t.theory.as_ref(), "field");
    if c.uses.contains(&Use::Capture("ts".into())) {
        y.comment(
            2,
            "Re-runs of a config: the trace with the largest `ts` is shown (the default).",
        );
        y.line("  newest-by: ts");
    }
}

/// `actual` and `theory`, each with why.
fn metrics(y: &mut Yaml, actual: &Choice, theory: Option<&Choice>, what: &str) {
    y.comment(
        2,
        &choice_comment(
            "The measured peak (each cell's value and colour)",
            actual,
            "peak_allocated_MB",
        ),
    );
    y.line(&format!("  actual: {}", quoted(&actual.chosen)));
    match theory {
        Some(theory) => {
            y.comment(
                2,
                &choice_comment("The estimate", theory, "theoretical_memory_MB"),
            );
            y.line(&format!("  theory: {}", quoted(&theory.chosen)));
        }
        None => y.comment(
            2,
            &format!("No {what} names an estimate (theoretical, expected, estimated, predicted, est), so `theory` is left at its default name and no estimate is shown until it names one of yours."),
        ),
    }
}

/// `what: a, b and c.`, unless there are no `files`.
fn files_comment(y: &mut Yaml, what: &str, files: &[String]) {
    if !files.is_empty() {
        y.comment(2, &format!("{what}: {}.", list(&code(files))));
    }
}

fn strays(y: &mut Yaml, globs: &Globs, kind: &str) {
    if globs.strays > 0 {
        y.comment(
            2,
            &format!(
                "The glob also matches {} other {kind} file(s); `memheat build` skips them with a warning.",
                globs.strays
            ),
        );
    }
}

fn training_logs(y: &mut Yaml, l: &LogSource) {
    let formats: Vec<String> = l.formats.iter().map(|f| f.to_string()).collect();
    y.comment(
        2,
        &format!(
            "{} training log(s) of runs ({}), named like `{}`. Each is one run: the peak is the largest `max allocated` over its ranks and iterations, in the units the log prints.",
            l.runs,
            list(&formats),
            l.example
        ),
    );
    y.comment(
        2,
        &format!(
            "The config comes from each log's arguments dump or world-size line ({} of {} state `tp` or `pp`), over the fields of its path. {} run(s) died of a CUDA out-of-memory error and are drawn as failed; {} log(s) print Megatron's theoretical memory.",
            l.stated, l.runs, l.failed, l.with_theory
        ),
    );
    files_comment(y, "Logs of runs named otherwise, not read", &l.left_out);
    strays(y, &l.globs, "text");
    y.values(2, "traces", &l.globs.globs);
}

fn table(y: &mut Yaml, t: &TableSource) {
    y.comment(
        2,
        &format!(
            "A results table of {} row(s), a run per row; its columns: {}.",
            t.rows,
            list(&code(&t.columns))
        ),
    );
    files_comment(y, "Other tables, not read", &t.others);
    y.line(&format!("  traces: {}", quoted(&t.path)));
    metrics(y, &t.actual, t.theory.as_ref(), "column");
    match &t.status {
        Some((column, false)) => y.comment(
            2,
            &format!("Outcomes come from the `{column}` column, which memheat reads by its name."),
        ),
        Some((column, true)) => {
            y.comment(
                2,
                "Outcomes come from this column: most of its words name one.",
            );
            y.line(&format!("  status: {}", quoted(column)));
        }
        None => {}
    }
    if let Some(outcomes) = &t.outcomes {
        y.comment(
            2,
            "The status column has outcome words memheat does not know by default; they are added to its lists.",
        );
        y.line("  outcomes:");
        y.values(4, "success", &outcomes.success);
        y.values(4, "failure", &outcomes.failure);
    }
}

fn logs(y: &mut Yaml, d: &Draft) {
    let unused: Vec<String> = d
        .unused_texts
        .iter()
        .map(|(path, why)| format!("`{path}` ({why})"))
        .collect();
    let Some(logs) = &d.logs else {
        let own = match &d.found.source {
            Source::Traces(_) => None,
            Source::Logs(_) => Some("The training logs record their own OOM errors"),
            Source::Table(t) => t
                .status
                .as_ref()
                .map(|_| "The table's status column records the outcomes"),
        };
        let mut text = match own {
            Some(own) => format!("{own}; no other status log was found."),
            None => "No status logs found, so no cell shows failed (OOM) and the build warns that OOM configs cannot be shown; add `logs:` with `success:` and `failure:` globs, or `status:` for one log of both, if the sweep has them.".to_string(),
        };
        if !unused.is_empty() {
            text.push_str(&format!(" Text files looked at: {}.", list(&unused)));
        }
        y.comment(2, &text);
        return;
    };
    y.line("  logs:");
    let counts: Vec<String> = logs
        .success
        .iter()
        .chain(&logs.failure)
        .chain(&logs.status)
        .map(|(path, n)| format!("`{path}` {n}"))
        .collect();
    y.comment(
        4,
        &format!(
            "Config lines per log (in its first MiB): {}. Success and failure are told by the file name, else by the lines; a log whose lines name both outcomes is a status log.",
            list(&counts)
        ),
    );
    for (key, files) in [
        ("success", &logs.success),
        ("failure", &logs.failure),
        ("status", &logs.status),
    ] {
        if !files.is_empty() {
            let globs: Vec<String> = files.iter().map(|(p, _)| p.clone()).collect();
            y.values(4, key, &globs);
        }
    }
    match &logs.line {
        Some(line) => {
            y.comment(4, &format!("{}.", logs.why));
            y.line(&format!("    line: {}", quoted(line)));
        }
        None if logs.status.is_empty() => y.comment(
            4,
            "memheat's default `line` pattern (`Config N: TP=…, PP=…`) reads these lines.",
        ),
        None => y.comment(4, &format!("{}.", logs.why)),
    }
    if !unused.is_empty() {
        y.comment(4, &format!("Not used as logs: {}.", list(&unused)));
    }
}

fn units_and_axes(y: &mut Yaml, d: &Draft) {
    y.line("units:");
    match &d.found.peak.unit {
        Some((unit, why)) => {
            y.comment(2, &format!("{why}."));
            y.line(&format!("  input: {}", unit.name()));
        }
        None => y.comment(
            2,
            "Training logs state their units (Megatron's MB are MiB), so `input` is not needed.",
        ),
    }
    y.line("  display: GiB");
    y.line("  label: GB");
    y.line("");
    y.line("axes:");
    let (x, y_key) = (d.key(0), d.key(1));
    let values = |axis: usize| d.found.axes[axis].distinct;
    let why = if (x, y_key) == ("pp", "tp") {
        "The configs have `pp` and `tp`: PP across, TP down, as memheat's defaults.".to_string()
    } else {
        format!(
            "The configs have no `pp` and `tp` pair; the varying fields with the most values are used, `{x}` ({} values) across and `{y_key}` ({}) down.",
            values(0),
            values(1)
        )
    };
    y.comment(2, &why);
    for (axis, key, defaults) in [("x", x, &X_DEFAULTS), ("y", y_key, &Y_DEFAULTS)] {
        let title = if key == defaults.field {
            defaults.title.to_string()
        } else {
            key.to_uppercase()
        };
        y.line(&format!(
            "  {axis}: {{field: {}, title: {}}}",
            quoted(key),
            quoted(&title)
        ));
    }
    y.line("");
}

fn looks(y: &mut Yaml, d: &Draft) {
    let largest = d.found.peak.largest_gib;
    let top = if largest <= 80.0 {
        80.0
    } else {
        (largest / 10.0).ceil() * 10.0
    };
    y.line("color:");
    y.comment(
        2,
        &format!(
            "In GB (display units). The largest peak among the inputs read is {largest:.1} GB."
        ),
    );
    y.line(&format!("  range: [0, {top}]"));
    y.line("");
    if d.found.has_theory {
        y.comment(
            0,
            "The default mark: cells whose theory is above 80 GB are hatched.",
        );
        y.commented("thresholds:");
        y.commented("  - {metric: theory, above: 80, label: 'Theory > 80 GB'}");
    } else {
        y.comment(0, "Without a theory value, only the actual value is shown.");
        y.line("thresholds: []");
        y.line("cells:");
        y.line("  text: ['Actual: {{ actual|amount }}']");
    }
    y.line("");
    y.commented("title: 'Peak memory per GPU'");
    y.commented("output:");
    y.commented("  path: ../figures/NAME   # default: this file's path without `.yaml`");
    y.commented("  formats: [pdf, png]");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_lists() {
        assert_eq!(quoted(r"it's \d+"), r"'it''s \d+'");
        assert_eq!(quoted("a\nb: c"), r#""a\nb: c""#);
        assert_eq!(one_line("x\ny\t"), r"x\ny\t");
        assert_eq!(list(&[]), "none");
        assert_eq!(list(&["a".into(), "b".into(), "c".into()]), "a, b and c");
    }

    #[test]
    fn comments_wrap_at_a_hundred_columns() {
        let mut y = Yaml(String::new());
        y.comment(2, &"word ".repeat(40));
        assert!(y.0.lines().count() > 1);
        assert!(y.0.lines().all(|l| l.len() <= 100 && l.starts_with("  # ")));
    }
}
