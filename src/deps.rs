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
    let escape_all = |paths: &mut dyn Iterator<Item = &PathBuf>| -> Result<Vec<String>, _> {
        paths.map(|p| escape(&tidy(p))).collect()
    };
    let targets = escape_all(&mut targets.iter())?;
    let mut prerequisites = escape_all(&mut deps.files.iter().chain(&deps.dirs))?;
    // The same file may be reached by two globs, or as `a/../b` and `b`.
    let mut seen = std::collections::HashSet::new();
    prerequisites.retain(|p| seen.insert(p.clone()));

    let mut out = targets.join(" ");
    out.push(':');
    for p in &prerequisites {
        out.push_str(" \\\n  ");
        out.push_str(p);
    }
    out.push('\n');
    for p in &prerequisites {
        out.push('\n');
        out.push_str(p);
        out.push_str(":\n");
    }
    Ok(out)
}

/// Escapes a path for a make rule: `$` doubles, and spaces, `#`, `:`, `%`,
/// `\` and make's wildcard characters get a backslash.
fn escape(path: &Path) -> Result<String, UnrepresentablePath> {
    let text = path.to_string_lossy();
    if text.contains(['\n', '\r']) {
        return Err(UnrepresentablePath(path.to_path_buf()));
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '$' => out.push_str("$$"),
            ' ' | '\t' | '#' | ':' | '%' | '\\' | '*' | '?' | '[' | ']' => {
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
        let e = |s: &str| escape(Path::new(s)).unwrap();
        assert_eq!(e("runs/a b.json"), r"runs/a\ b.json");
        assert_eq!(e("runs/$x#1:2%.json"), r"runs/$$x\#1\:2\%.json");
        assert_eq!(e("runs/t[1]*.json"), r"runs/t\[1\]\*.json");
        assert!(escape(Path::new("a\nb")).is_err());
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
