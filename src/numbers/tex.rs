//! The figure's numbers for LaTeX: a file of macros that `\input` makes
//! available as `\memheat{NAME}{KEY}{FIELD}`, and a booktabs tabular.
//!
//! Digits cannot be part of a control word, so the values live in control
//! sequences named with `\csname memheat@NAME@KEY@FIELD\endcsname`, and the
//! lookup is a test with `\ifcsname`: expandable, so `\memheat` works in a
//! tabular, in `\num{}` and in moving arguments. A name, key or field that
//! is not there stops LaTeX with an error that names it (the expandable
//! error of LaTeX3's `\msg_expandable_error:nn`: an undefined control
//! sequence whose context line shows the message), never empty text.

use super::{Entries, FigureData};
use crate::table::{Cell, Grid};

/// The macros every file defines, globally (an `\input` inside a group
/// still defines them) and identically, so that several files coexist.
/// Only letters in the names of control words, so the file reads the
/// same whatever the catcode of `@`.
const PREAMBLE: &str = r"\long\gdef\memheatfirst#1#2{#1}%
\long\gdef\memheatsecond#1#2{#2}%
\gdef\memheat#1#2#3{\ifcsname memheat@#1@#2@#3\endcsname
\expandafter\memheatfirst\else\expandafter\memheatsecond\fi
{\csname memheat@#1@#2@#3\endcsname}{\memheatmissing{#1}{#2}{#3}}}%
\gdef\memheatalt#1{\memheat{#1}{figure}{alt}}%
\gdef\memheatmissing#1#2#3{\ifcsname memheat@#1\endcsname
\ifcsname memheat@#1@#2\endcsname
\memheatfail{no field `#3' (#1, #2)}%
\else\memheatfail{no key `#2' (#1)}\fi
\else\memheatfail{no figure `#1' (\string\input\space its file)}\fi}%
\gdef\memheatfail#1{\expandafter\expandafter\expandafter\memheatdrop
\memheatshow{\MemheatError ! memheat: #1.}\memheatstop}%
\long\gdef\memheatshow#1{#1}%
\long\gdef\memheatdrop#1\memheatstop{}%
\gdef\memheatgobble#1{}%
\gdef\memheatstr{\expandafter\memheatgobble\string}%
\gdef\memheatfigure#1{\expandafter\gdef\csname memheat@#1\endcsname{}}%
\gdef\memheatkey#1#2{\expandafter\gdef\csname memheat@#1@#2\endcsname{}}%
\gdef\memheatset#1#2#3{\expandafter\gdef\csname memheat@#1@#2@#3\endcsname}%
";

/// The `tex` format: the macros, then every value of the figure.
pub(super) fn macros(data: FigureData<'_>, name: &str, entries: &Entries) -> String {
    let mut out = format!(
        "% The numbers of figure `{}', from {} (memheat data --format tex).\n\
         % \\input this file (several such files may be), then write\n\
         % \\memheat{{NAME}}{{KEY}}{{FIELD}}, e.g. \\memheat{{485B}}{{tp=2,pp=64}}{{actual}},\n\
         % and \\memheatalt{{NAME}}; docs/paper.md lists the keys and fields.\n",
        comment(name),
        comment(&crate::paths::shown(data.spec_path)),
    );
    out.push_str(PREAMBLE);
    let name_part = csname(name);
    out.push_str(&format!("\\memheatfigure{{{name_part}}}%\n"));
    for (key, fields) in entries {
        let key = csname(key);
        out.push_str(&format!("\\memheatkey{{{name_part}}}{{{key}}}%\n"));
        for (field, value) in fields {
            out.push_str(&format!(
                "\\memheatset{{{name_part}}}{{{key}}}{{{}}}{{{}}}%\n",
                csname(field),
                text(value)
            ));
        }
    }
    out
}

/// The `tex-table` format: each grid as a booktabs tabular, its cells as
/// the figure writes them; a marked cell gets a letter, explained below.
pub(super) fn table(data: FigureData<'_>) -> String {
    let table = &data.table;
    // A letter for each mark the figure shows, in order of first sight.
    let mut marks: Vec<(&crate::table::CellMark, String)> = vec![];
    for cell in table.cells() {
        for mark in &cell.marks {
            if !marks.iter().any(|(m, _)| same_mark(m, mark)) {
                let label = table
                    .legend
                    .iter()
                    .find(|e| e.mark.as_ref().is_some_and(|m| same_mark(m, mark)))
                    .map_or_else(
                        || format!("{}: {}", mark.kind.name(), mark.rule),
                        |e| e.label.clone(),
                    );
                marks.push((mark, label));
            }
        }
    }
    let letter = |i: usize| letters(i);
    let mut out = format!(
        "% The grid of figure {}, as a booktabs tabular (memheat data --format tex-table).\n\
         % Needs \\usepackage{{booktabs}}.\n",
        comment(&crate::paths::shown(data.spec_path)),
    );
    let grids = table.grids();
    for (n, grid) in grids.iter().enumerate() {
        if n > 0 {
            out.push_str("\\quad\n");
        }
        let columns = grid.x.labels.len() + 1;
        out.push_str(&format!(
            "\\begin{{tabular}}{{l{}}}\n\\toprule\n",
            "c".repeat(columns - 1)
        ));
        if let Some(title) = grid.title {
            out.push_str(&format!(
                "\\multicolumn{{{columns}}}{{c}}{{{}}}\\\\\n",
                text(title)
            ));
        }
        out.push_str(&header(grid));
        for (cells, y) in grid.rows.iter().zip(&grid.y.labels) {
            out.push_str(&text(y));
            for cell in cells {
                out.push_str(" & ");
                out.push_str(&cell_text(cell));
                for (i, (mark, _)) in marks.iter().enumerate() {
                    if cell.marks.iter().any(|m| same_mark(m, mark)) {
                        out.push_str(&format!("\\textsuperscript{{{}}}", letter(i)));
                    }
                }
            }
            out.push_str("\\\\\n");
        }
        out.push_str("\\bottomrule\n");
        if n + 1 == grids.len() {
            for (i, (_, label)) in marks.iter().enumerate() {
                out.push_str(&format!(
                    "\\multicolumn{{{columns}}}{{@{{}}l}}{{\\footnotesize\\textsuperscript{{{}}}{}}}\\\\\n",
                    letter(i),
                    text(label)
                ));
            }
        }
        out.push_str("\\end{tabular}\n");
    }
    out
}

fn same_mark(a: &crate::table::CellMark, b: &crate::table::CellMark) -> bool {
    a.kind == b.kind && a.rule == b.rule
}

/// a, b, …, z, aa, ab, …
fn letters(i: usize) -> String {
    let c = |n: usize| char::from(b'a' + (n % 26) as u8);
    if i < 26 {
        c(i).to_string()
    } else {
        format!("{}{}", letters(i / 26 - 1), c(i))
    }
}

/// The x axis's title over its values, and the y axis's title beside them.
fn header(grid: &Grid) -> String {
    let columns = grid.x.labels.len() + 1;
    let mut out = format!(
        "& \\multicolumn{{{}}}{{c}}{{{}}}\\\\\n\\cmidrule(l){{2-{columns}}}\n{}",
        columns - 1,
        text(&grid.x.title),
        text(&grid.y.title)
    );
    for x in &grid.x.labels {
        out.push_str(" & ");
        out.push_str(&text(x));
    }
    out.push_str("\\\\\n\\midrule\n");
    out
}

/// A cell's lines, stacked in a tabular of their own when there are several.
fn cell_text(cell: &Cell) -> String {
    match cell.lines.as_slice() {
        [] => String::new(),
        [one] => text(one),
        lines => format!(
            "\\begin{{tabular}}[c]{{@{{}}c@{{}}}}{}\\end{{tabular}}",
            lines
                .iter()
                .map(|l| text(l))
                .collect::<Vec<_>>()
                .join("\\\\")
        ),
    }
}

/// Text that LaTeX typesets as written: each special character as the
/// command that prints it, and a line break (or any control character)
/// as a space, since a value is one line.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\textbackslash{}"),
            '{' | '}' | '#' | '$' | '%' | '&' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str(r"\textasciitilde{}"),
            '^' => out.push_str(r"\textasciicircum{}"),
            // OT1 fonts have other glyphs in these slots.
            '<' => out.push_str(r"\textless{}"),
            '>' => out.push_str(r"\textgreater{}"),
            '|' => out.push_str(r"\textbar{}"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Part of a control sequence's name: the characters TeX would read as
/// something else there (`$`, `&` and `_` are read as themselves) are made by `\memheatstr` from a control symbol,
/// as a character of category other; control characters in `^^` form.
/// What a user types in `\memheat{...}` reaches the same name.
fn csname(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '{' | '}' | '#' | '%' | '~' | '^' | ' ' => {
                out.push_str(r"\memheatstr\");
                out.push(c);
            }
            c if u32::from(c) < 0x20 => {
                out.push_str(r"\memheatstr\^^");
                out.push(char::from(c as u8 + 0x40));
            }
            '\u{7f}' => out.push_str(r"\memheatstr\^^?"),
            // Other control characters (C1) TeX reads as two UTF-8 bytes.
            c => out.push(c),
        }
    }
    out
}

/// Text for a `%` comment line: one line.
fn comment(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(
            text("#$%&_{}~^\\<>|\nx"),
            r"\#\$\%\&\_\{\}\textasciitilde{}\textasciicircum{}\textbackslash{}\textless{}\textgreater{}\textbar{} x"
        );
        assert_eq!(
            csname("a b#\\\n\u{7f}é"),
            "a\\memheatstr\\ b\\memheatstr\\#\\memheatstr\\\\\\memheatstr\\^^J\\memheatstr\\^^?é"
        );
        assert_eq!(letters(0), "a");
        assert_eq!(letters(25), "z");
        assert_eq!(letters(26), "aa");
        assert_eq!(letters(27), "ab");
    }
}
