//! The starter spec's text: every inferred key with a comment that says
//! why, and the defaults a user is likely to change next, commented out.
//! Strings are single-quoted YAML, in which only `'` needs escaping, so a
//! regex or a path is written exactly as it is.

use crate::spec::{Unit, X_DEFAULTS, Y_DEFAULTS};

use super::Config;
use super::names::Use;

/// Everything [`spec`] writes.
pub(super) struct Draft {
    pub command: String,
    /// This spec's path, as the user gave it.
    pub spec: String,
    pub traces: Globs,
    /// JSON files under the directory that are not traces.
    pub ignored: Vec<String>,
    pub config: Config,
    pub rank: Choice,
    pub actual: Choice,
    pub theory: Option<Choice>,
    /// How many traces were read for the fields.
    pub sampled: usize,
    pub peak: Peak,
    pub logs: Option<LogFiles>,
    /// Text files that are not status logs, and why.
    pub unused_texts: Vec<(String, String)>,
}

#[derive(Default)]
pub(super) struct Globs {
    pub globs: Vec<String>,
    /// Other JSON files the globs match (a build warns about them).
    pub strays: usize,
}

pub(super) struct Choice {
    pub chosen: String,
    pub others: Vec<String>,
    /// The names were equally good: a question was asked, when it could be.
    pub tied: bool,
}

pub(super) struct Peak {
    pub unit: Unit,
    pub why: String,
    /// The largest actual value among the traces read.
    pub largest_gib: f64,
}

pub(super) struct LogFiles {
    /// (glob, config lines in its head).
    pub success: Vec<(String, usize)>,
    pub failure: Vec<(String, usize)>,
    pub line: String,
    pub why: String,
}

impl Draft {
    fn key(&self, axis: usize) -> &str {
        self.config.key(self.config.axes[axis])
    }

    /// Why several traces of one cell are a problem, when they are: they
    /// differ in a field no axis shows, so the figure hides some of them.
    pub fn crowding(&self) -> Option<String> {
        let (cells, spread) = self.config.crowded();
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
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A YAML document with comments wrapped to a readable width.
struct Yaml(String);

impl Yaml {
    fn comment(&mut self, indent: usize, text: &str) {
        let pad = " ".repeat(indent);
        let mut line = String::new();
        for word in text.split(' ') {
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
    let c = &d.config;
    y.line("inputs:");
    y.comment(
        2,
        &format!(
            "{} trace file(s) named like `{}`.",
            c.slots[0].values.len(),
            c.example
        ),
    );
    if !d.ignored.is_empty() {
        y.comment(
            2,
            &format!(
                "Not traces (another name shape, or no ranks with numbers): {}.",
                list(&code(&d.ignored))
            ),
        );
    }
    if d.traces.strays > 0 {
        y.comment(
            2,
            &format!(
                "The glob also matches {} other JSON file(s); `memheat build` skips them with a warning.",
                d.traces.strays
            ),
        );
    }
    y.values(2, "traces", &d.traces.globs);
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
    let mut tokens = format!(
        "Numbers that vary between the names are captured as fields: {}.",
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
        d.rank.chosen
    );
    if !d.rank.others.is_empty() {
        rank.push_str(&format!(" (also seen: {})", list(&code(&d.rank.others))));
    }
    y.comment(
        2,
        &format!("{rank}. Fields come from {} trace(s).", d.sampled),
    );
    y.line(&format!("  rank: {}", quoted(&d.rank.chosen)));
    y.comment(
        2,
        &choice_comment(
            "The measured peak (each cell's value and colour)",
            &d.actual,
            "peak_allocated_MB",
        ),
    );
    y.line(&format!("  actual: {}", quoted(&d.actual.chosen)));
    match &d.theory {
        Some(theory) => {
            y.comment(
                2,
                &choice_comment("The estimate", theory, "theoretical_memory_MB"),
            );
            y.line(&format!("  theory: {}", quoted(&theory.chosen)));
        }
        None => y.comment(
            2,
            "No field names an estimate (theoretical, expected, estimated, predicted), so `theory` is left at its default name and each trace is warned about until it names one of yours.",
        ),
    }
    if c.uses.contains(&Use::Capture("ts".into())) {
        y.comment(
            2,
            "Re-runs of a config: the trace with the largest `ts` is shown (the default).",
        );
        y.line("  newest-by: ts");
    }
    logs(y, d);
    y.line("");
}

fn logs(y: &mut Yaml, d: &Draft) {
    let unused: Vec<String> = d
        .unused_texts
        .iter()
        .map(|(path, why)| format!("`{path}` ({why})"))
        .collect();
    let Some(logs) = &d.logs else {
        let mut text =
            "No status logs found, so no cell shows failed (OOM); add `logs:` with `success:` and `failure:` globs if the sweep has them.".to_string();
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
        .map(|(path, n)| format!("`{path}` {n}"))
        .collect();
    y.comment(
        4,
        &format!(
            "Config lines per log (in its first MiB): {}. Success and failure are told by the file name, else by the lines.",
            list(&counts)
        ),
    );
    for (key, files) in [("success", &logs.success), ("failure", &logs.failure)] {
        if !files.is_empty() {
            let globs: Vec<String> = files.iter().map(|(p, _)| p.clone()).collect();
            y.values(4, key, &globs);
        }
    }
    y.comment(4, &format!("{}.", logs.why));
    y.line(&format!("    line: {}", quoted(&logs.line)));
    if !unused.is_empty() {
        y.comment(4, &format!("Not used as logs: {}.", list(&unused)));
    }
}

fn units_and_axes(y: &mut Yaml, d: &Draft) {
    y.line("units:");
    y.comment(2, &format!("{}.", d.peak.why));
    y.line(&format!("  input: {}", d.peak.unit.name()));
    y.line("  display: GiB");
    y.line("  label: GB");
    y.line("");
    y.line("axes:");
    let c = &d.config;
    let (x, y_key) = (d.key(0), d.key(1));
    let values = |axis: usize| c.slots[c.axes[axis]].distinct;
    let why = if (x, y_key) == ("pp", "tp") {
        "The names carry `pp` and `tp`: PP across, TP down, as memheat's defaults.".to_string()
    } else {
        format!(
            "The names carry no `pp` and `tp` pair; the varying fields with the most values are used, `{x}` ({} values) across and `{y_key}` ({}) down.",
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
    let top = if d.peak.largest_gib <= 80.0 {
        80.0
    } else {
        (d.peak.largest_gib / 10.0).ceil() * 10.0
    };
    y.line("color:");
    y.comment(
        2,
        &format!(
            "In GB (display units). The largest peak among the traces read is {:.1} GB.",
            d.peak.largest_gib
        ),
    );
    y.line(&format!("  range: [0, {top}]"));
    y.line("");
    if d.theory.is_some() {
        y.comment(
            0,
            "The default mark: cells whose theory is above 80 GB are hatched.",
        );
        y.commented("thresholds:");
        y.commented("  - {metric: theory, above: 80, label: 'Theory > 80 GB'}");
    } else {
        y.comment(0, "Without a theory field, only the actual value is shown.");
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
