//! Output paths: where a build writes, how paths are shown, and the guard
//! that keeps an output from replacing one of the build's own inputs.

use std::path::{Component, Path, PathBuf};

/// `fig.v2` + `pdf` is `fig.v2.pdf`, not `fig.pdf`.
pub(crate) fn with_extension(base: &Path, ext: &str) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

/// An output base that names no file to write.
#[derive(Debug)]
pub(crate) struct BadBase {
    pub(crate) message: String,
    pub(crate) hint: String,
}

/// Checks an output base and drops an output extension the user gave
/// (`-o out/fig.pdf` means `out/fig`, not `out/fig.pdf.pdf`); `extensions`
/// are the output formats' (`pdf`, `png`, …).
pub(crate) fn output_base(base: &Path, extensions: &[&str]) -> Result<PathBuf, BadBase> {
    let shown = base.display();
    let text = base.as_os_str().to_string_lossy();
    // The last component as written: `Path::file_name` of `out/.` is `out`,
    // which made `-o out/.` write `out/..pdf`.
    let last = text.rsplit(std::path::is_separator).next().unwrap_or("");
    let name = base.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.is_empty() || last.is_empty() || last == "." || last == ".." {
        return Err(BadBase {
            message: format!("output base `{shown}` has no file name"),
            hint:
                "give a path without extension, e.g. `figures/485B` for figures/485B.pdf and .png"
                    .into(),
        });
    }
    if name.ends_with('.') {
        return Err(BadBase {
            message: format!("output base `{shown}` ends in `.`"),
            hint: format!(
                "the extension is added after a dot of its own: write `{}`",
                base.with_file_name(name.trim_end_matches('.')).display()
            ),
        });
    }
    // `fig.PDF` is a PDF too: any case of a known extension is dropped.
    let stripped = extensions.iter().find_map(|extension| {
        let cut = name.len().checked_sub(extension.len() + 1)?;
        let (stem, ext) = (name.get(..cut)?, name.get(cut..)?);
        ext.eq_ignore_ascii_case(&format!(".{extension}"))
            .then_some(stem)
    });
    Ok(match stripped {
        Some("") => {
            return Err(BadBase {
                message: format!("output base `{shown}` is only an extension"),
                hint: "give a file name, e.g. `figures/485B`".into(),
            });
        }
        Some(stem) => base.with_file_name(stem),
        None => base.to_path_buf(),
    })
}

/// The first of `inputs` that writing `output` would replace, comparing
/// canonical paths so that `a/../b` and symlinks are seen through.
pub(crate) fn clobbers(output: &Path, inputs: &[PathBuf]) -> Option<PathBuf> {
    let target = canonical_target(output)?;
    inputs
        .iter()
        .find(|input| std::fs::canonicalize(input).is_ok_and(|c| c == target))
        .cloned()
}

/// Where a write to `path` would land: a symlink is followed (the rename
/// would replace the link itself, but the user meant its target too, so
/// both count), and a path that does not exist yet resolves its directory.
fn canonical_target(path: &Path) -> Option<PathBuf> {
    if let Ok(c) = std::fs::canonicalize(path) {
        return Some(c);
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(parent).ok()?.join(path.file_name()?))
}

/// A path as the user should read it: `specs/../figures/x.pdf` becomes
/// `figures/x.pdf`, and an absolute path inside the working directory
/// becomes relative to it. A `..` after a symlinked directory stays, since
/// removing it would name a different place.
pub(crate) fn tidy(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_dir =
                    matches!(out.components().next_back(), Some(Component::Normal(_)))
                        && std::fs::symlink_metadata(&out).is_ok_and(|m| m.is_dir());
                if last_is_dir {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.is_absolute()
        && let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = out.strip_prefix(&cwd)
        && !rel.as_os_str().is_empty()
    {
        return rel.to_path_buf();
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// A path for the terminal: tidied, with control characters escaped so a
/// file name cannot move the cursor or ring the bell (`\u{1b}`).
pub(crate) fn shown(path: &Path) -> String {
    let text = tidy(path).display().to_string();
    if !text.chars().any(char::is_control) {
        return text;
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXTENSIONS: [&str; 5] = ["pdf", "png", "svg", "typ", "tex"];

    #[test]
    fn output_base_drops_an_output_extension_and_refuses_no_name() {
        let ok = |s: &str| output_base(Path::new(s), &EXTENSIONS).unwrap();
        assert_eq!(ok("out/fig.pdf"), Path::new("out/fig"));
        assert_eq!(ok("out/fig.typ"), Path::new("out/fig"));
        assert_eq!(ok("out/fig.v2"), Path::new("out/fig.v2"));
        // r18: any case of a known extension; `out/.` is no file name.
        assert_eq!(ok("out/fig.PDF"), Path::new("out/fig"));
        assert_eq!(ok("out/fig.Svg"), Path::new("out/fig"));
        assert_eq!(ok("out/fig.pdf.PNG"), Path::new("out/fig.pdf"));
        assert_eq!(ok("out/PDF"), Path::new("out/PDF"));
        assert_eq!(ok("out/ü.pdf"), Path::new("out/ü"));
        assert_eq!(ok("out/üpdf"), Path::new("out/üpdf"));
        // A backslash is a file name's character on Unix, not a separator.
        #[cfg(unix)]
        assert_eq!(ok("out/a\\"), Path::new("out/a\\"));
        for bad in [
            "out/",
            "/",
            "",
            ".",
            "out/..",
            "out/.pdf",
            "out/.PNG",
            "out/.",
            "./.",
            "out/fig.",
            "out/fig..",
            "out/fig.pdf.",
        ] {
            let message = output_base(Path::new(bad), &EXTENSIONS)
                .unwrap_err()
                .message;
            assert!(message.starts_with("output base"), "{bad}: {message}");
        }
    }

    #[test]
    fn tidy_removes_parent_dirs_only_after_real_directories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("specs")).unwrap();
        std::fs::create_dir_all(root.join("deep/a")).unwrap();
        let join = |s: &str| root.join(s);
        assert_eq!(tidy(&join("specs/../figures/x.pdf")), join("figures/x.pdf"));
        assert_eq!(tidy(&join("./specs/./x.yaml")), join("specs/x.yaml"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("deep/a"), root.join("link")).unwrap();
            // link/.. is `deep`, not `root`: keep it.
            assert_eq!(tidy(&join("link/../x")), join("link/../x"));
        }
        assert_eq!(tidy(Path::new("../x")), Path::new("../x"));
        assert_eq!(tidy(Path::new("missing/../x")), Path::new("missing/../x"));
    }

    #[test]
    fn shown_escapes_control_characters() {
        assert_eq!(
            shown(Path::new("runs/a\x1b[2Jb\x07.json")),
            "runs/a\\u{1b}[2Jb\\u{7}.json"
        );
        assert_eq!(shown(Path::new("runs/ok.json")), "runs/ok.json");
    }

    #[test]
    fn clobbers_sees_through_dot_dot_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/t.json"), "{}").unwrap();
        let inputs = vec![root.join("a/t.json")];
        assert_eq!(
            clobbers(&root.join("a/../a/t.json"), &inputs),
            Some(root.join("a/t.json"))
        );
        assert_eq!(clobbers(&root.join("a/new.png"), &inputs), None);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("a"), root.join("b")).unwrap();
            assert!(clobbers(&root.join("b/t.json"), &inputs).is_some());
        }
    }
}
