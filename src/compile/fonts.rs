//! The engine's fonts: the faces embedded in the binary, and those read
//! from font directories.
//!
//! Typst needs a book of every face (family, style, which characters it
//! covers) before it compiles anything, and computing it parses every face:
//! most of a build's start-up, for two or three faces used. So the book of
//! the embedded faces is computed ahead of time (`assets/fonts/book.json`,
//! rewritten by `MEMHEAT_BLESS=1 cargo test --release embedded_book`) and a
//! face is parsed when a figure first uses it. A book that does not match
//! the embedded files (their sizes) is ignored and computed again.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use typst::foundations::Bytes;
use typst::text::{Font, FontInfo};

/// Fonts memheat adds to Typst's (see assets/fonts/README.md): a
/// Times-compatible serif for the venues that set text in Times, and a
/// Helvetica-compatible sans serif.
const EXTRA_FONTS: [&[u8]; 8] = [
    include_bytes!("../../assets/fonts/texgyretermes-regular.otf"),
    include_bytes!("../../assets/fonts/texgyretermes-bold.otf"),
    include_bytes!("../../assets/fonts/texgyretermes-italic.otf"),
    include_bytes!("../../assets/fonts/texgyretermes-bolditalic.otf"),
    include_bytes!("../../assets/fonts/texgyreheros-regular.otf"),
    include_bytes!("../../assets/fonts/texgyreheros-bold.otf"),
    include_bytes!("../../assets/fonts/texgyreheros-italic.otf"),
    include_bytes!("../../assets/fonts/texgyreheros-bolditalic.otf"),
];

/// The book of the embedded faces, as [`book`] computes it.
const EMBEDDED_BOOK: &str = include_str!("../../assets/fonts/book.json");

/// A face, parsed on first use, and its entry in the book.
#[derive(Clone)]
pub(super) struct Face {
    pub info: FontInfo,
    data: Bytes,
    index: u32,
    font: OnceLock<Option<Font>>,
}

impl Face {
    /// A face already parsed.
    pub(super) fn loaded(font: Font) -> Face {
        Face {
            info: font.info().clone(),
            data: font.data().clone(),
            index: font.index(),
            font: OnceLock::from(Some(font)),
        }
    }

    pub(super) fn font(&self) -> Option<Font> {
        self.font
            .get_or_init(|| Font::new(self.data.clone(), self.index))
            .clone()
    }
}

/// One face of the embedded font files.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Entry {
    /// Which of [`embedded_files`], and its size, which says whether the
    /// entry is still about that file.
    file: usize,
    bytes: usize,
    index: u32,
    info: FontInfo,
}

fn embedded_files() -> Vec<&'static [u8]> {
    typst_assets::fonts().chain(EXTRA_FONTS).collect()
}

/// The embedded faces, in a fixed order.
pub(super) fn embedded() -> Vec<Face> {
    let files = embedded_files();
    let entries = serde_json::from_str::<Vec<Entry>>(EMBEDDED_BOOK)
        .ok()
        .filter(|entries| describes(entries, &files))
        .unwrap_or_else(|| book(&files));
    entries
        .into_iter()
        .map(|entry| Face {
            info: entry.info,
            data: Bytes::new(files[entry.file]),
            index: entry.index,
            font: OnceLock::new(),
        })
        .collect()
}

/// The book of `files`, parsing every face (on all cores).
fn book(files: &[&'static [u8]]) -> Vec<Entry> {
    files
        .par_iter()
        .enumerate()
        .flat_map_iter(|(file, data)| {
            Font::iter(Bytes::new(*data)).map(move |font| Entry {
                file,
                bytes: data.len(),
                index: font.index(),
                info: font.info().clone(),
            })
        })
        .collect()
}

/// Whether `entries` are about `files`: each file, with its size, has an
/// entry for its first face.
fn describes(entries: &[Entry], files: &[&[u8]]) -> bool {
    let about = |e: &Entry| files.get(e.file).is_some_and(|data| data.len() == e.bytes);
    entries.iter().all(about)
        && (0..files.len()).all(|file| entries.iter().any(|e| e.file == file && e.index == 0))
}

/// Most directory entries looked at under one font directory: a font
/// directory is a few hundred files, `/` is a mistake.
pub(crate) const MAX_FONT_ENTRIES: usize = 20_000;
/// Most bytes of font files read from one font directory. Typst keeps
/// every face in memory; a full CJK collection is about 100 MiB.
pub(crate) const MAX_FONT_BYTES: u64 = 512 << 20;

/// What a font directory gave: faces, and what the build now depends on.
#[derive(Default)]
pub(crate) struct FoundFonts {
    pub fonts: Vec<Font>,
    /// Every font file read, sorted.
    pub files: Vec<PathBuf>,
    /// The directory and its subdirectories: a font added there changes one.
    pub dirs: Vec<PathBuf>,
    /// Files that looked like fonts but were not (path, why).
    pub skipped: Vec<(PathBuf, String)>,
}

/// Reads the font files under `dir` and its subdirectories, as typst-cli's
/// `--font-path` does: names ending in .ttf, .otf, .ttc or .otc (any case),
/// links followed, in name order so that two runs add faces in one order.
pub(crate) fn search_fonts(dir: &Path) -> Result<FoundFonts, String> {
    if !dir.is_dir() {
        return Err(if dir.exists() {
            "it is not a directory".into()
        } else {
            "no such directory".into()
        });
    }
    let mut found = FoundFonts::default();
    let mut candidates = Vec::new();
    let mut bytes = 0u64;
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name();
    for (seen, entry) in walk.into_iter().enumerate() {
        if seen >= MAX_FONT_ENTRIES {
            return Err(format!(
                "it has more than {MAX_FONT_ENTRIES} entries; name the directory that holds the fonts"
            ));
        }
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(dir).to_path_buf();
                found.skipped.push((path, format!("cannot read it: {e}")));
                continue;
            }
        };
        let path = entry.path();
        if entry.file_type().is_dir() {
            found.dirs.push(path.to_path_buf());
            continue;
        }
        let is_font = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["ttf", "otf", "ttc", "otc"].contains(&e.to_lowercase().as_str()));
        if is_font && entry.file_type().is_file() {
            bytes += entry.metadata().map_or(0, |m| m.len());
            if bytes > MAX_FONT_BYTES {
                return Err(format!(
                    "its font files are more than {} MiB together",
                    MAX_FONT_BYTES >> 20
                ));
            }
            candidates.push(path.to_path_buf());
        }
    }
    let read: Vec<(PathBuf, Result<Vec<Font>, String>)> = candidates
        .into_par_iter()
        .map(|path| {
            let faces = std::fs::read(&path)
                .map_err(|e| format!("cannot read it: {e}"))
                .and_then(|data| {
                    super::font_file::check(&data)?;
                    Ok(Font::iter(Bytes::new(data)).collect::<Vec<_>>())
                });
            (path, faces)
        })
        .collect();
    for (path, faces) in read {
        match faces {
            Ok(faces) if faces.is_empty() => found
                .skipped
                .push((path, "it is not a font Typst can read; skipped".into())),
            Ok(mut faces) => {
                found.fonts.append(&mut faces);
                found.files.push(path);
            }
            Err(why) => found.skipped.push((path, why)),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One entry a line, so that a change of fonts reads as a diff.
    fn to_json(entries: &[Entry]) -> String {
        let lines: Vec<String> = entries
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect();
        format!("[\n{}\n]\n", lines.join(",\n"))
    }

    #[test]
    fn the_embedded_book_is_current() {
        let computed = book(&embedded_files());
        if std::env::var_os("MEMHEAT_BLESS").is_some_and(|v| v == "1") {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/fonts/book.json");
            std::fs::write(path, to_json(&computed)).unwrap();
            return;
        }
        let stored: Vec<Entry> = serde_json::from_str(EMBEDDED_BOOK).unwrap();
        assert!(
            stored == computed,
            "assets/fonts/book.json is not the book of the embedded fonts; \
             rewrite it with MEMHEAT_BLESS=1 cargo test --release embedded_book"
        );
        assert!(describes(&stored, &embedded_files()));
    }

    #[test]
    fn a_book_of_other_files_is_not_used() {
        let files = embedded_files();
        let mut entries = book(&files);
        assert!(describes(&entries, &files));
        entries[3].bytes += 1;
        assert!(!describes(&entries, &files), "a file of another size");
        let mut entries = book(&files);
        entries.retain(|e| e.file != 5);
        assert!(!describes(&entries, &files), "a file without entries");
        assert!(!describes(&book(&files), &files[1..]), "a file too many");
    }

    #[test]
    fn faces_parse_on_first_use_into_what_the_book_says() {
        let faces = embedded();
        assert!(faces.len() >= 20, "{} faces", faces.len());
        assert!(faces.iter().all(|f| f.font.get().is_none()));
        for face in &faces {
            let font = face.font().unwrap();
            assert_eq!(font.info(), &face.info);
        }
    }
}
