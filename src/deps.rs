//! Make depfiles, in the style of `gcc -MD -MP`: every output is a target,
//! every file and listed directory the build read is a prerequisite, and
//! each prerequisite also gets an empty rule so that deleting it makes the
//! figure stale instead of breaking make ("No rule to make target").

use std::path::{Path, PathBuf};

use crate::Deps;
use crate::paths::tidy;

/// A path make cannot read back: a newline ends a rule, whatever escaping.
#[derive(Debug, thiserror::Error)]
#[error("`{}` has a line break in its name, which a make depfile cannot hold", .0.display())]
pub struct UnrepresentablePath(pub PathBuf);

/// The depfile's text.
pub fn render(targets: &[PathBuf], deps: &Deps) -> Result<String, UnrepresentablePath> {
    let targets = targets
        .iter()
        .map(|p| escape(&tidy(p), Side::Target))
        .collect::<Result<Vec<_>, _>>()?;
    let mut prerequisites: Vec<PathBuf> = deps
        .files
        .iter()
        .chain(&deps.dirs)
        .map(|p| tidy(p))
        .collect();
    // The same file may be reached by two globs, or as `a/../b` and `b`.
    let mut seen = std::collections::HashSet::new();
    prerequisites.retain(|p| seen.insert(p.clone()));

    let mut out = targets.join(" ");
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

/// Escapes a path for a make rule: `$` doubles; spaces, `#` and `:` get a
/// backslash, which GNU make removes again. A `%` is escaped in a target,
/// where it would make a pattern rule, and left alone in a prerequisite,
/// where make would keep the backslash. `\\` and wildcard characters stay
/// as they are, for the same reason.
fn escape(path: &Path, side: Side) -> Result<String, UnrepresentablePath> {
    let text = path.to_string_lossy();
    if text.contains(['\n', '\r']) {
        return Err(UnrepresentablePath(path.to_path_buf()));
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '$' => out.push_str("$$"),
            '%' if side == Side::Target => out.push_str("\\%"),
            ' ' | '\t' | '#' | ':' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
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
        assert_eq!(e("runs/t[1]*.json"), "runs/t[1]*.json");
        let target = escape(Path::new("a%b:c.pdf"), Side::Target).unwrap();
        assert_eq!(target, r"a\%b\:c.pdf");
        assert!(escape(Path::new("a\nb"), Side::Target).is_err());
    }

    #[test]
    fn every_prerequisite_gets_a_phony_rule() {
        let deps = Deps {
            files: vec!["s.yaml".into(), "t/a.json".into(), "t/a.json".into()],
            dirs: vec!["t".into()],
        };
        let text = render(&["f.pdf".into(), "f.png".into()], &deps).unwrap();
        assert_eq!(
            text,
            "f.pdf f.png: \\\n  s.yaml \\\n  t/a.json \\\n  t\n\ns.yaml:\n\nt/a.json:\n\nt:\n"
        );
    }
}
