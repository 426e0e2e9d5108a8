//! The figure's numbers for a Typst paper: a module whose dictionary
//! `memheat` maps each key to its fields, as `\memheat` does in LaTeX:
//! `memheat.at("tp=2,pp=64").actual`, `memheat.figure.alt`. Typst itself
//! fails on an unknown key or field, naming it.

use super::{Entries, FigureData};
use crate::template::string_literal;

pub(super) fn module(data: FigureData<'_>, name: &str, entries: &Entries) -> String {
    let one_line = |s: &str| s.replace(['\n', '\r'], " ");
    let mut out = format!(
        "// The numbers of figure {}, from {} (memheat data --format typst).\n\
         // #import this file: memheat.at(\"tp=2,pp=64\").actual, memheat.figure.alt;\n\
         // values are strings, as the figure prints them (docs/paper.md).\n\
         #let memheat = (\n",
        one_line(name),
        one_line(&crate::paths::shown(data.spec_path)),
    );
    for (key, fields) in entries {
        out.push_str("  ");
        out.push_str(&string_literal(key));
        out.push_str(": (");
        for (i, (field, value)) in fields.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&string_literal(field));
            out.push_str(": ");
            out.push_str(&string_literal(value));
        }
        out.push_str("),\n");
    }
    out.push_str(")\n");
    out
}
