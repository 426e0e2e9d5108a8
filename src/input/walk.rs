//! Glob expansion that cannot loop or run away.
//!
//! The glob crate follows every directory symlink, so `ln -s . traces/self`
//! made `traces/**/*.json` walk forever (and read each trace ~40 times
//! before that), and `/**/*.json` walked the whole filesystem. Here a walk
//! starts where the pattern's wildcards start, goes no deeper than the
//! pattern can match, follows symlinks but stops at a loop back to an
//! ancestor, counts a file reached by two paths once, and gives up with an
//! error after [`MAX_ENTRIES`] directory entries or [`MAX_FILES`] matches.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use glob::{MatchOptions, Pattern};

use crate::warning::Warning;

/// Directory entries one glob may list.
pub(crate) const MAX_ENTRIES: usize = 200_000;
/// Files one glob may match: more than any figure can show.
pub(crate) const MAX_FILES: usize = 20_000;

/// What a glob found.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Regular files (and broken links, whose read then fails), sorted.
    pub files: Vec<PathBuf>,
    /// Every directory listed: adding a file to one changes the result. Also the glob's
    /// directory when it does not exist: making it changes the result too.
    pub dirs: Vec<PathBuf>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, PartialEq)]
pub(crate) enum WalkError {
    /// An invalid pattern, and the 0-based position of the problem.
    Pattern {
        message: String,
        position: usize,
    },
    TooMany {
        what: &'static str,
        limit: usize,
    },
}

/// An entry the walk could not list: a broken link (which counts, so its
/// failed read is reported and its cell shows no data), nothing, or a
/// warning (a symlink loop, an unreadable directory).
fn unlisted(e: &walkdir::Error) -> Result<Option<PathBuf>, Warning> {
    let Some(path) = e.path().map(Path::to_path_buf) else {
        return Ok(None);
    };
    if let Some(ancestor) = e.loop_ancestor() {
        return Err(Warning::new(
            &path,
            format!(
                "is a symlink back to `{}`, which is being listed; not followed",
                crate::paths::shown(ancestor)
            ),
        ));
    }
    let broken_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink())
        && std::fs::metadata(&path).is_err();
    if broken_link {
        Ok(Some(path))
    } else {
        Err(Warning::new(
            &path,
            format!("cannot be listed ({e}); skipped"),
        ))
    }
}

/// Expands `pattern` (already joined to its base directory).
pub(crate) fn expand(pattern: &str) -> Result<Listing, WalkError> {
    expand_within(pattern, MAX_ENTRIES, MAX_FILES)
}

fn expand_within(
    pattern: &str,
    max_entries: usize,
    max_files: usize,
) -> Result<Listing, WalkError> {
    let compiled = Pattern::new(pattern).map_err(|e| WalkError::Pattern {
        message: e.msg.to_string(),
        position: e.pos,
    })?;
    let mut listing = Listing::default();
    let Some(root) = literal_dir(pattern) else {
        // No wildcard: the path itself, if anything is there.
        let path = PathBuf::from(pattern);
        if std::fs::symlink_metadata(&path).is_ok() {
            classify(path, &mut listing);
        }
        return Ok(listing);
    };
    let depth = if pattern.contains("**") {
        usize::MAX
    } else {
        Path::new(pattern).components().count() - root.components().count()
    };
    let start = if root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &root
    };
    if !start.is_dir() {
        // Nothing to list; the caller says the glob matched nothing. Making the directory
        // changes that, so `watch` waits for it (through its nearest ancestor).
        listing.dirs.push(start.to_path_buf());
        return Ok(listing);
    }
    listing.dirs.push(start.to_path_buf());
    let options = MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let walker = walkdir::WalkDir::new(start)
        .follow_links(true)
        .min_depth(1)
        .max_depth(depth)
        .sort_by_file_name();
    for (scanned, entry) in walker.into_iter().enumerate() {
        if scanned >= max_entries {
            return Err(WalkError::TooMany {
                what: "directory entries",
                limit: max_entries,
            });
        }
        let (path, is_dir) = match entry {
            Ok(entry) => (entry.path().to_path_buf(), entry.file_type().is_dir()),
            Err(e) => match unlisted(&e) {
                Ok(Some(broken_link)) => (broken_link, false),
                Ok(None) => continue,
                Err(warning) => {
                    listing.warnings.push(warning);
                    continue;
                }
            },
        };
        // `./x.json` would not match `*.json`.
        let path = match path.strip_prefix("./") {
            Ok(rest) if root.as_os_str().is_empty() => rest.to_path_buf(),
            _ => path,
        };
        if is_dir {
            listing.dirs.push(path.clone());
        }
        let Some(text) = path.to_str() else {
            listing.warnings.push(Warning::new(
                &path,
                "file name is not valid UTF-8, so no glob can match it; skipped",
            ));
            continue;
        };
        if compiled.matches_with(text, options) {
            classify(path, &mut listing);
            if listing.files.len() > max_files {
                return Err(WalkError::TooMany {
                    what: "matching files",
                    limit: max_files,
                });
            }
        }
    }
    once_each(&mut listing);
    Ok(listing)
}

/// Sorts out what a glob matched: files count; directories and pipes are
/// warned about (reading a FIFO would block the build forever); a broken
/// link counts, so its failed read is reported and its cell shows no data.
fn classify(path: PathBuf, listing: &mut Listing) {
    match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => listing.warnings.push(Warning::new(
            &path,
            "matches the glob but is a directory; skipped",
        )),
        Ok(m) if !m.is_file() => listing.warnings.push(Warning::new(
            &path,
            "is not a regular file (a pipe, socket or device); skipped",
        )),
        _ => listing.files.push(path),
    }
}

/// A file reached through two paths (a symlinked directory, say) is read
/// once, under the first path in sorted order.
fn once_each(listing: &mut Listing) {
    listing.files.sort();
    listing.files.dedup();
    let mut first: HashMap<PathBuf, PathBuf> = HashMap::new();
    let mut warnings = Vec::new();
    listing.files.retain(|path| {
        let Ok(canonical) = std::fs::canonicalize(path) else {
            return true;
        };
        match first.get(&canonical) {
            Some(kept) => {
                warnings.push(Warning::new(
                    path,
                    format!(
                        "is the same file as `{}`; counted once",
                        crate::paths::shown(kept)
                    ),
                ));
                false
            }
            None => {
                first.insert(canonical, path.clone());
                true
            }
        }
    });
    listing.warnings.extend(warnings);
    listing.dirs.sort();
    listing.dirs.dedup();
}

/// The directory a glob's wildcards start in: `runs/*/t_*.json` → `runs`;
/// `None` for a glob without wildcards.
pub(crate) fn literal_dir(glob: &str) -> Option<PathBuf> {
    let literal: PathBuf = Path::new(glob)
        .components()
        .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
        .collect();
    (literal.as_os_str().len() != glob.len()).then_some(literal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in ["t/a.json", "t/sub/b.json", "t/sub/deeper/c.json", "t/x.txt"] {
            let path = dir.path().join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "{}").unwrap();
        }
        dir
    }

    fn names(listing: &Listing, root: &Path) -> Vec<String> {
        listing
            .files
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn star_stays_in_its_directory_and_double_star_descends() {
        let dir = tree();
        let root = dir.path();
        let at = |p: &str| format!("{}/{p}", root.display());
        assert_eq!(names(&expand(&at("t/*.json")).unwrap(), root), ["t/a.json"]);
        assert_eq!(
            names(&expand(&at("t/**/*.json")).unwrap(), root),
            ["t/a.json", "t/sub/b.json", "t/sub/deeper/c.json"]
        );
        assert_eq!(
            names(&expand(&at("t/*/b.json")).unwrap(), root),
            ["t/sub/b.json"]
        );
        assert_eq!(names(&expand(&at("t/x.txt")).unwrap(), root), ["t/x.txt"]);
        assert!(expand(&at("t/none")).unwrap().files.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_stop_and_files_count_once() {
        let dir = tree();
        let root = dir.path();
        std::os::unix::fs::symlink(root.join("t"), root.join("t/sub/self")).unwrap();
        std::os::unix::fs::symlink(root.join("t/sub"), root.join("t/alias")).unwrap();
        let listing = expand(&format!("{}/t/**/*.json", root.display())).unwrap();
        assert_eq!(
            names(&listing, root),
            ["t/a.json", "t/alias/b.json", "t/alias/deeper/c.json"]
        );
        let warnings: Vec<String> = listing.warnings.iter().map(|w| w.message.clone()).collect();
        assert_eq!(
            warnings.len(),
            4,
            "two loops, two files seen twice: {warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("is a symlink back to"))
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("is the same file as"))
        );
    }

    #[test]
    fn a_walk_stops_at_its_limits() {
        let dir = tree();
        let all = format!("{}/**/*", dir.path().display());
        assert!(expand_within(&all, 100, 100).is_ok());
        assert_eq!(
            expand_within(&all, 3, 100).unwrap_err(),
            WalkError::TooMany {
                what: "directory entries",
                limit: 3
            }
        );
        assert_eq!(
            expand_within(&all, 100, 2).unwrap_err(),
            WalkError::TooMany {
                what: "matching files",
                limit: 2
            }
        );
    }

    #[test]
    fn invalid_patterns_say_where() {
        assert_eq!(
            expand("t/[a.json").unwrap_err(),
            WalkError::Pattern {
                message: "invalid range pattern".into(),
                position: 2
            }
        );
    }
}
