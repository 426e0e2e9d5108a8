//! Paths as the spec writes them: relative to the spec's directory, and
//! globs that match exactly the files meant.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use super::{InitError, names, render};

/// More input directories than this get one `**` glob, not one each.
const MAX_GLOBS: usize = 4;

/// Where the sweep is as seen from the spec's directory, which is what
/// the spec's paths are relative to.
pub(super) struct Location {
    /// From the spec's directory to the sweep's; empty when they are one.
    to_sweep: PathBuf,
}

/// `path` (under `dir`) relative to `dir`, with `/`: what a glob whose
/// fixed part is `dir` sees of it.
pub(super) fn below(dir: &Path, path: &Path) -> String {
    let inside = path.strip_prefix(dir).unwrap_or(path);
    let parts: Vec<String> = inside
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// `text` as a glob that matches only itself. Braces are escaped too:
/// memheat refuses `{a,b}` in a glob (the glob crate would look for the
/// literal name), so a directory named so must be written `[{]a,b}`.
pub(super) fn escape(text: &str) -> String {
    glob::Pattern::escape(text).replace('{', "[{]")
}

impl Location {
    pub(super) fn new(dir: &Path, dir_abs: &Path, spec: &Path) -> Result<Location, InitError> {
        let spec_dir = match spec.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let from = absolute(spec_dir).map_err(|e| InitError::Dir {
            dir: dir.to_path_buf(),
            why: format!("cannot resolve the spec's directory ({e})"),
        })?;
        Ok(Location {
            to_sweep: relative(&from, dir_abs),
        })
    }

    /// `path` (under `dir`) as the spec names it: relative, with `/`.
    pub(super) fn path(&self, dir: &Path, path: &Path) -> String {
        let inside = path.strip_prefix(dir).unwrap_or(path);
        let joined = self.to_sweep.join(inside);
        let parts: Vec<String> = joined
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parts.join("/")
    }

    /// A glob that matches exactly `path`.
    pub(super) fn literal(&self, dir: &Path, path: &Path) -> String {
        escape(&self.path(dir, path))
    }

    pub(super) fn files(&self, dir: &Path, files: &[(PathBuf, usize)]) -> Vec<(String, usize)> {
        files
            .iter()
            .map(|(p, n)| (self.literal(dir, p), *n))
            .collect()
    }
}

/// An absolute path without symlinks, for a directory that may not exist
/// yet (the spec's; writing creates it).
fn absolute(path: &Path) -> std::io::Result<PathBuf> {
    if let Ok(c) = std::fs::canonicalize(path) {
        return Ok(c);
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut base = absolute(parent)?;
    match path.components().next_back() {
        Some(Component::ParentDir) => {
            base.pop();
        }
        Some(Component::Normal(name)) => base.push(name),
        _ => {}
    }
    Ok(base)
}

/// The path from directory `from` to `to`, both absolute and canonical.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let (from, to): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c);
    }
    out
}

/// `inputs.traces` for `files` (of one name shape) among `others` of
/// their kind: per directory, the loosest name glob that matches only
/// `files` there; one `**` glob when there are many directories, or when
/// the directories' names are part of the config (`deep`).
pub(super) fn globs(
    dir: &Path,
    files: &[PathBuf],
    others: &[PathBuf],
    location: &Location,
    deep: bool,
) -> render::Globs {
    let (traces, json) = (files, others);
    let parent = |p: &PathBuf| p.parent().unwrap_or(Path::new("")).to_path_buf();
    let dirs: BTreeSet<PathBuf> = traces.iter().map(parent).collect();
    let example = traces[0].file_name().unwrap_or_default().to_string_lossy();
    let options = names::globs(&example);
    let name = |p: &PathBuf| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    // Each glob's directory, what goes after it, and the JSON files it sees.
    let scopes: Vec<(PathBuf, &str, Vec<&PathBuf>)> = if deep || dirs.len() > MAX_GLOBS {
        let mut common = dirs.first().cloned().unwrap_or_default();
        for d in &dirs {
            common = common
                .components()
                .zip(d.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect();
        }
        if common.as_os_str().is_empty() {
            common = dir.to_path_buf();
        }
        let seen = json.iter().filter(|p| p.starts_with(&common)).collect();
        vec![(common, "**/", seen)]
    } else {
        dirs.iter()
            .map(|d| {
                let seen = json.iter().filter(|p| &parent(p) == d).collect();
                (d.clone(), "", seen)
            })
            .collect()
    };
    let mut globs = render::Globs::default();
    for (scope, deeper, seen) in scopes {
        let strays = |glob: &String| {
            let pattern = glob::Pattern::new(glob).expect("globs are built escaped");
            seen.iter()
                .filter(|p| !traces.contains(p) && pattern.matches(&name(p)))
                .count()
        };
        let best = options
            .iter()
            .find(|g| strays(g) == 0)
            .unwrap_or(&options[options.len() - 1]);
        globs.strays += strays(best);
        let prefix = location.literal(dir, &scope);
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        globs.globs.push(format!("{prefix}{deeper}{best}"));
    }
    globs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_then_descend() {
        assert_eq!(
            relative(Path::new("/a/b"), Path::new("/a/c/d")),
            PathBuf::from("../c/d")
        );
        assert_eq!(relative(Path::new("/a"), Path::new("/a")), PathBuf::new());
    }
}
