//! Renders errors and warnings for the terminal, in one style: a snippet
//! with the offending text underlined where the place is known, otherwise
//! `error: …` with `hint: …` lines.

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};

use crate::Error;
use crate::compile::CompileError;
use crate::data::Warning;
use crate::spec::SpecError;

pub fn error(e: &Error) -> String {
    match e {
        Error::Spec(e) => spec_error(e),
        Error::Compile(e) => compile_error(e),
        Error::Strict(warnings) => {
            let mut out: String = warnings.iter().map(warning).collect();
            out.push_str(&format!(
                "error: {e}\n  = hint: fix the inputs, or build without --strict (and `strict: true`) to get a figure anyway\n"
            ));
            out
        }
        Error::Template(_) => format!(
            "error: {e}\n  = hint: the built-in template failed; this is a memheat bug, please report it with your spec\n"
        ),
        other => format!("error: {other}\n"),
    }
}

pub fn warning(w: &Warning) -> String {
    format!("warning: {w}\n")
}

fn spec_error(e: &SpecError) -> String {
    let name = e.path.display().to_string();
    let Some(span) = e.span.clone() else {
        let mut out = format!("error: {e}\n");
        if let Some(hint) = &e.hint {
            out.push_str(&format!("  = hint: {hint}\n"));
        }
        return out;
    };
    let file = SimpleFile::new(name, e.source_text.as_str());
    let mut d = Diagnostic::error()
        .with_message(&e.message)
        .with_labels(vec![Label::primary((), span)]);
    if let Some(hint) = &e.hint {
        d = d.with_notes(vec![format!("hint: {hint}")]);
    }
    snippet(&file, &d)
}

fn compile_error(e: &CompileError) -> String {
    let file = SimpleFile::new(
        "generated figure source (typst)".to_string(),
        e.source.as_str(),
    );
    e.diagnostics
        .iter()
        .map(|d| {
            let mut diag = Diagnostic::error().with_message(format!("typst: {}", d.message));
            if let Some(span) = d.span.clone() {
                diag = diag.with_labels(vec![Label::primary((), span)]);
            }
            diag = diag.with_notes(d.hints.iter().map(|h| format!("hint: {h}")).collect());
            snippet(&file, &diag)
        })
        .collect()
}

fn snippet(file: &SimpleFile<String, &str>, d: &Diagnostic<()>) -> String {
    let config = Config::default();
    term::emit_into_string(&config, file, d).unwrap_or_else(|_| format!("error: {}\n", d.message))
}
