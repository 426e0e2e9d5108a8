//! Make depfiles, in the style of `gcc -MD -MP`: every file and listed
//! directory the build read is a prerequisite, and each also gets an empty
//! rule so that deleting it makes the figure stale instead of breaking make
//! ("No rule to make target").
//!
//! The target is the depfile itself, a stamp, not the outputs: an output
//! whose bytes did not change keeps its old mtime (so LaTeX does not run
//! again), and a rule whose target were that output would run memheat on
//! every `make`. The stamp is rewritten (or re-dated) by every build:
//! - dated just before the first input was opened ([`crate::Model::started`]),
//!   so an input changed while it was being read is newer than the stamp
//!   and the next `make` builds again;
//! - after a failed build, dated 1970 (with the failed spec's rules), so a
//!   failure is never "up to date", even when the build ran outside make.

use std::path::{Path, PathBuf};

use crate::export::ExportError;
use crate::paths::tidy;

/// A path GNU make cannot read back as the same file name.
#[derive(Debug, thiserror::Error)]
#[error("`{}` cannot be named in a make depfile: {reason}", crate::paths::shown(.path))]
pub struct UnrepresentablePath {
    pub path: PathBuf,
    pub reason: &'static str,
}

impl UnrepresentablePath {
    /// What to do about it.
    pub(crate) fn hint(&self) -> String {
        "rename it (or the directory it is in), or build without --deps".into()
    }
}

/// Why a depfile was not written.
#[derive(Debug, thiserror::Error)]
pub enum DepfileError {
    #[error(transparent)]
    Path(#[from] UnrepresentablePath),
    /// It would replace an input or an output, or writing it failed.
    #[error(transparent)]
    Write(#[from] ExportError),
}

/// What a figure depends on: every file read, and every directory a glob
/// listed (adding or removing a matching file changes its mtime).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Deps {
    /// The spec and the bases it extends first, then the template, traces
    /// and logs, sorted.
    pub files: Vec<PathBuf>,
    pub dirs: Vec<PathBuf>,
}

/// Whether `path` may be the depfile of `written`, which depend on
/// `deps`: it must replace neither an output nor an input.
pub(crate) fn check_stamp(
    path: &Path,
    deps: &Deps,
    written: &[PathBuf],
) -> Result<(), DepfileError> {
    if let Some(output) = crate::paths::clobbers(path, written) {
        return Err(ExportError::BadOutput {
            message: format!(
                "the depfile `{}` would overwrite `{}`, which this build wrote",
                crate::paths::shown(path),
                crate::paths::shown(&output)
            ),
            hint: "name the depfile after the figure, e.g. `figures/485B.d`".into(),
        }
        .into());
    }
    if let Some(input) = crate::paths::clobbers(path, &deps.files) {
        return Err(ExportError::WouldOverwrite {
            output: path.to_path_buf(),
            input,
        }
        .into());
    }
    Ok(())
}

/// Writes the depfile `path` for outputs `written` that depend on `deps`:
/// dated `started` (when the inputs began to be read), or, for a failed
/// run (`None`), 1970.
pub(crate) fn write_stamp(
    path: &Path,
    deps: &Deps,
    written: &[PathBuf],
    started: Option<std::time::SystemTime>,
) -> Result<(), DepfileError> {
    check_stamp(path, deps, written)?;
    let date = started.unwrap_or(std::time::UNIX_EPOCH);
    let text = match render(path, deps) {
        Ok(text) => text,
        Err(_) if started.is_none() => return Ok(crate::output::redate(path, date)?),
        Err(e) => return Err(e.into()),
    };
    let unchanged = crate::output::write_all(&[(path, text.as_bytes())], Some(date))?;
    if !unchanged.is_empty() {
        crate::output::redate(path, date)?;
    }
    Ok(())
}

/// The depfile's text: `target` depends on everything in `deps`.
pub(crate) fn render(target: &Path, deps: &Deps) -> Result<String, UnrepresentablePath> {
    let target = escape(&tidy(target), Side::Target)?;
    let mut prerequisites: Vec<PathBuf> = deps
        .files
        .iter()
        .chain(&deps.dirs)
        .map(|p| tidy(p))
        .collect();
    // The same file may be reached by two globs, or as `a/../b` and `b`.
    let mut seen = std::collections::HashSet::new();
    prerequisites.retain(|p| seen.insert(p.clone()));

    let mut out = target;
    out.push(':');
    for p in &prerequisites {
        out.push_str(" \\\n  ");
        out.push_str(&escape(p, Side::Prerequisite)?);
    }
    out.push('\n');
    for p in &prerequisites {
        out.push('\n');
        out.push_str(&escape(p, Side::Target)?);
        out.push_str(":\n");
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Target,
    Prerequisite,
}

/// Writes a path so that GNU make (4.x) reads back exactly that name, as a
/// target and as a prerequisite, or says why no spelling can. Each rule was
/// found by running make on a depfile (see `tests/it/harden.rs`):
///
/// - `$` doubles; a space, `#` and `:` get a backslash, and so do `%` in a
///   target (else a pattern rule) and `|` in a prerequisite (else the
///   order-only bar). A run of backslashes just before one of those is
///   doubled, as make halves it. Anywhere else a backslash is literal.
/// - `=` made the line a variable assignment (Hydra's `tp=4,pp=8/`), and
///   `\=` does not help: it becomes `$(if ,,=)`, which make expands only
///   after deciding the line is a rule.
/// - `*`, `?`, `[` and a leading `~` are globbed (and `~/` is $HOME), and
///   a backslash quoting them stays in the name when nothing matches, as
///   after the file is deleted. A bracket (`[*]`) matches the name itself
///   while the file exists, and is kept as written when it does not, in
///   the prerequisite and in its empty rule alike.
/// - No spelling survives for a line break, a tab (read as a space), `;`
///   (starts a recipe, whatever quotes it), a final backslash, a name
///   ending in `(member)` (an archive member), a backslash before a
///   wildcard, or a name that is not UTF-8.
fn escape(path: &Path, side: Side) -> Result<String, UnrepresentablePath> {
    let fail = |reason| {
        Err(UnrepresentablePath {
            path: path.to_path_buf(),
            reason,
        })
    };
    let Some(text) = path.to_str() else {
        return fail("its name is not UTF-8, and make would read another name");
    };
    if text.contains(['\n', '\r']) {
        return fail("a line break ends a make rule, whatever quotes it");
    }
    if text.contains('\t') {
        return fail("make reads a tab in a name as a space, whatever quotes it");
    }
    if text.contains(';') {
        return fail("make reads `;` as the start of a recipe, whatever quotes it");
    }
    if text.ends_with('\\') {
        return fail("make cannot read a name that ends in a backslash");
    }
    // make's own test (`ar_name`): a `(` after the first character, and a
    // `)` at the end.
    if text.ends_with(')') && text.find('(').is_some_and(|i| i > 0) {
        return fail("make reads `name(member)` as a member of an archive");
    }
    if ["\\*", "\\?", "\\["].iter().any(|s| text.contains(s)) {
        return fail("make cannot read a backslash before a wildcard (`*`, `?`, `[`)");
    }
    let quoted = |c: char| match c {
        ' ' | '#' | ':' => true,
        '%' => side == Side::Target,
        '|' => side == Side::Prerequisite,
        _ => false,
    };
    let mut out = String::with_capacity(text.len() + 8);
    let mut backslashes = 0;
    for (i, c) in text.char_indices() {
        if c == '\\' {
            backslashes += 1;
            continue;
        }
        let run = std::mem::take(&mut backslashes);
        let doubled = if quoted(c) { 2 * run } else { run };
        out.extend(std::iter::repeat_n('\\', doubled));
        match c {
            '$' => out.push_str("$$"),
            '=' => out.push_str("$(if ,,=)"),
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            '~' if i == 0 => out.push_str("[~]"),
            c if quoted(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.extend(std::iter::repeat_n('\\', backslashes));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_make_would_misread() {
        let e = |s: &str| escape(Path::new(s), Side::Prerequisite).unwrap();
        assert_eq!(e("runs/a b.json"), r"runs/a\ b.json");
        assert_eq!(e("runs/$x#1:2%.json"), r"runs/$$x\#1\:2%.json");
        assert_eq!(e("runs/t[1]*.json"), "runs/t[[]1][*].json");
        assert_eq!(e("tp=4,pp=8/a|b"), r"tp$(if ,,=)4,pp$(if ,,=)8/a\|b");
        assert_eq!(e(r"a\ b\c\\#"), r"a\\\ b\c\\\\\#");
        assert_eq!(e("~/x~"), "[~]/x~");
        let target = escape(Path::new("a%b:c|d.pdf"), Side::Target).unwrap();
        assert_eq!(target, r"a\%b\:c|d.pdf");
        for bad in ["a\nb", "a\tb", "a;b", r"a\", "lib(m)", r"a\*", "a\rb"] {
            assert!(escape(Path::new(bad), Side::Target).is_err(), "{bad:?}");
        }
        assert!(escape(Path::new("a(b)/c"), Side::Target).is_ok());
        assert!(escape(Path::new("(b)"), Side::Target).is_ok());
    }

    #[test]
    fn every_prerequisite_gets_a_phony_rule() {
        let deps = Deps {
            files: vec!["s.yaml".into(), "t/a.json".into(), "t/a.json".into()],
            dirs: vec!["t".into()],
        };
        let text = render(Path::new("f.d"), &deps).unwrap();
        assert_eq!(
            text,
            "f.d: \\\n  s.yaml \\\n  t/a.json \\\n  t\n\ns.yaml:\n\nt/a.json:\n\nt:\n"
        );
    }
}
