//! Renders errors and warnings, once, at the edge, in one of three forms:
//! `human` (a snippet with the offending text underlined where the place
//! is known, otherwise `error: …` with `hint: …` lines), `short` (one
//! `file:line:col: severity: message` line each) or `json` (one object per
//! line, for editors and CI annotations).

use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};
use serde::Serialize;

use crate::paths::shown;
use crate::spec::{Place, line_col};
use crate::warning::Warning;
use crate::{Error, Failed};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagnosticFormat {
    Human,
    Short,
    Json,
}

/// One problem, in a form every output style can print.
#[derive(Debug, Serialize)]
struct Record {
    severity: &'static str,
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
    hints: Vec<String>,
    /// The human form, with a snippet; not part of the JSON.
    #[serde(skip)]
    human: String,
}

/// The warnings collected before a failure, then the error.
pub(crate) fn failure(failed: &Failed, format: DiagnosticFormat) -> String {
    let mut out = warnings(&failed.warnings, format);
    for record in error_records(&failed.error) {
        out.push_str(&print(&record, format));
    }
    out
}

pub(crate) fn warnings(warnings: &[Warning], format: DiagnosticFormat) -> String {
    if format != DiagnosticFormat::Human {
        // Tools and editors get every warning, each on its own line.
        return warnings
            .iter()
            .map(|w| print(&warning_record(w), format))
            .collect();
    }
    // A sweep of a thousand misnamed files would bury the one line that
    // matters: a person sees a few of each message and a count.
    let mut seen: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut out = String::new();
    for w in warnings {
        let count = seen.entry(w.message.as_str()).or_default();
        *count += 1;
        if *count <= SHOWN_ALIKE {
            out.push_str(&warning_record(w).human);
        }
    }
    for (message, count) in seen {
        if count > SHOWN_ALIKE {
            out.push_str(&format!(
                "warning: … and {} more file(s) like those above: {message} \
                 (`--diagnostic-format short` lists them all)\n",
                count - SHOWN_ALIKE
            ));
        }
    }
    out
}

/// Warnings with the same message printed in full, per message.
const SHOWN_ALIKE: usize = 3;

fn print(record: &Record, format: DiagnosticFormat) -> String {
    match format {
        DiagnosticFormat::Human => record.human.clone(),
        DiagnosticFormat::Short => {
            let mut out = String::new();
            if let Some(file) = &record.file {
                out.push_str(file);
                for n in [record.line, record.column].into_iter().flatten() {
                    out.push_str(&format!(":{n}"));
                }
                out.push_str(": ");
            }
            out.push_str(&format!("{}: {}\n", record.severity, record.message));
            out
        }
        DiagnosticFormat::Json => {
            serde_json::to_string(record).expect("a record is plain data") + "\n"
        }
    }
}

fn warning_record(w: &Warning) -> Record {
    Record {
        severity: "warning",
        file: Some(shown(&w.path)),
        line: w.line,
        column: None,
        message: w.message.clone(),
        hints: vec![],
        human: format!("warning: {w}\n"),
    }
}

fn plain(message: String, hints: Vec<String>, file: Option<String>) -> Record {
    let mut human = format!("error: {message}\n");
    for hint in &hints {
        human.push_str(&format!("  = hint: {hint}\n"));
    }
    Record {
        severity: "error",
        file,
        line: None,
        column: None,
        message,
        hints,
        human,
    }
}

fn error_records(e: &Error) -> Vec<Record> {
    match e {
        Error::Spec(e) => std::iter::once(e.as_ref())
            .chain(&e.also)
            .map(|e| {
                let hints = e.hint.iter().cloned().collect();
                match &e.place {
                    Place::File { path, text, span } => {
                        located(&shown(path), text, span.clone(), &e.message, hints)
                    }
                    Place::Flag(_) => plain(format!("{}: {}", e.place, e.message), hints, None),
                }
            })
            .collect(),
        Error::Template(t) => {
            let (name, hint) = match &t.path {
                Some(p) => (
                    shown(p),
                    "fix the template, or remove `template:` to use the built-in one (`memheat template` prints it)",
                ),
                None => (
                    "heatmap.typ.j2 (built in)".into(),
                    "the built-in template failed; this is a memheat bug, please report it with your spec",
                ),
            };
            let span = line_span(&t.text, t.line);
            vec![located(&name, &t.text, span, &t.message, vec![hint.into()])]
        }
        Error::Compile(c) => c
            .diagnostics
            .iter()
            .map(|d| {
                let mut hints = d.hints.clone();
                hints.push(
                    "the Typst source is generated from the template; add `typ` to `output.formats` to see it"
                        .into(),
                );
                located(
                    "generated figure source (typst)",
                    &c.source,
                    d.span.clone(),
                    &format!("typst: {}", d.message),
                    hints,
                )
            })
            .collect(),
        Error::Strict(warnings) => {
            let mut records: Vec<Record> = warnings.iter().map(warning_record).collect();
            records.push(plain(
                e.to_string(),
                vec!["fix the inputs, or build without --strict (and `strict: true`) to get a figure anyway".into()],
                None,
            ));
            records
        }
        other => vec![plain(
            other.to_string(),
            other.hints(),
            other.spec().map(shown),
        )],
    }
}

/// The byte range of 1-based `line` in `text`, if it has one.
fn line_span(text: &str, line: usize) -> Option<Range<usize>> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let rest = text.get(start..)?;
    (!rest.is_empty()).then(|| start..start + rest.find('\n').unwrap_or(rest.len()))
}

/// An error at a place in a text: a codespan snippet for humans.
fn located(
    name: &str,
    text: &str,
    span: Option<Range<usize>>,
    message: &str,
    hints: Vec<String>,
) -> Record {
    let Some(span) = span.filter(|s| s.end <= text.len()) else {
        let mut record = plain(format!("{name}: {message}"), hints, Some(name.into()));
        record.message = message.to_string();
        return record;
    };
    let (line, column) = line_col(text, span.start);
    let file = SimpleFile::new(name, text);
    let diagnostic = Diagnostic::error()
        .with_message(message)
        .with_labels(vec![Label::primary((), span)])
        .with_notes(hints.iter().map(|h| format!("hint: {h}")).collect());
    let human = term::emit_into_string(&Config::default(), &file, &diagnostic)
        .unwrap_or_else(|_| format!("error: {name}:{line}:{column}: {message}\n"));
    Record {
        severity: "error",
        file: Some(name.into()),
        line: Some(line),
        column: Some(column),
        message: message.to_string(),
        hints,
        human,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_spans() {
        assert_eq!(line_span("ab\ncd\n", 2), Some(3..5));
        assert_eq!(line_span("ab\ncd", 2), Some(3..5));
        assert_eq!(line_span("ab\n", 3), None);
        assert_eq!(line_span("ab", 0), None);
    }
}
