//! Writes `docs/gallery.md`: each spec in `specs/` with its figure.
//!
//! ```text
//! cargo run --release -- build specs/*.yaml      # the figures in figures/
//! cargo run --release --example gallery          # the page
//! ```
//!
//! A spec's leading comment lines are its caption; the test
//! `golden::the_gallery_page_shows_every_spec_as_it_is` fails when the page
//! no longer quotes a spec as it is.

// A binary: its modules' `pub` items are for each other.
#![allow(unreachable_pub)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    match write(root) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gallery: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write(root: &Path) -> Result<(), String> {
    let dir = root.join("specs");
    let mut specs: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    specs.sort();
    let mut page = String::from(
        "# Gallery\n\nEvery spec in `specs/`, built from the synthetic sweeps in `examples/` with\n\
         `memheat build specs/*.yaml`. This page is written by `cargo run --release --example gallery`;\n\
         the golden-image test (`tests/it/golden.rs`) renders each spec at 72 DPI and compares it with\n\
         `tests/golden/`.\n",
    );
    for spec in specs {
        let name = spec.file_stem().unwrap_or_default().to_string_lossy();
        let text =
            std::fs::read_to_string(&spec).map_err(|e| format!("{}: {e}", spec.display()))?;
        let caption: Vec<&str> = text
            .lines()
            .map_while(|l| l.strip_prefix('#'))
            .map(str::trim)
            .collect();
        let _ = write!(
            page,
            "\n## {name}\n\n{}\n\n![{name}](../figures/{name}.png)\n\n```yaml\n# specs/{name}.yaml\n{text}```\n",
            caption.join(" ")
        );
    }
    let out = root.join("docs/gallery.md");
    std::fs::create_dir_all(root.join("docs")).map_err(|e| e.to_string())?;
    std::fs::write(&out, page).map_err(|e| format!("{}: {e}", out.display()))
}
