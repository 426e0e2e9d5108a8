//! Golden images: every spec in `specs/` (the gallery) rendered at a low DPI
//! must match its reference in `tests/golden/`, so that no layout change is
//! accidental. After a deliberate change, rewrite the references with
//!
//!     MEMHEAT_BLESS=1 cargo test --release golden
//!
//! and look at them before committing. On a mismatch the test writes the
//! image it got and a diff (changed pixels in red over a faded copy) to
//! `target/golden/`.

use std::path::{Path, PathBuf};

use memheat::BuildOptions;
use memheat::Engine;

use crate::util::{Png, bless, repo, yaml_files};

/// Low enough that the references stay small, high enough that a moved
/// label or a changed colour shows.
const DPI: u32 = 72;
/// A channel may differ this much before the pixel counts as changed:
/// anti-aliasing may round differently with another CPU's vector units.
const CHANNEL_TOLERANCE: u8 = 24;
/// Share of changed pixels tolerated before the image counts as changed.
const CHANGED_SHARE: f64 = 0.001;

fn gallery() -> Vec<PathBuf> {
    yaml_files(&repo().join("specs"))
}

fn name(spec: &Path) -> String {
    spec.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn golden_images_of_the_gallery() {
    let out = tempfile::tempdir().unwrap();
    let engine = Engine::default();
    let bless = bless();
    let mut failures = vec![];
    for spec in gallery() {
        let name = name(&spec);
        let options = BuildOptions {
            output: Some(out.path().join(&name)),
            dpi: Some(DPI),
            ..BuildOptions::default()
        };
        if let Err(failed) = memheat::build(&spec, &options, &engine) {
            panic!("{}: {failed}", spec.display());
        }
        let got_path = out.path().join(format!("{name}.png"));
        let reference = repo().join(format!("tests/golden/{name}.png"));
        if bless {
            std::fs::create_dir_all(reference.parent().unwrap()).unwrap();
            std::fs::copy(&got_path, &reference).unwrap();
            continue;
        }
        assert!(
            reference.exists(),
            "{name}: no reference; write it with MEMHEAT_BLESS=1 cargo test --release golden"
        );
        let (got, want) = (Png::read(&got_path), Png::read(&reference));
        if let Some(why) = difference(&got, &want) {
            let dir = repo().join("target/golden");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(&got_path, dir.join(format!("{name}.png"))).unwrap();
            if (got.width, got.height) == (want.width, want.height) {
                write_diff(&got, &want, &dir.join(format!("{name}.diff.png")));
            }
            failures.push(format!("{name}: {why} (see {})", dir.display()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Why `got` is not `want`, if it is not.
fn difference(got: &Png, want: &Png) -> Option<String> {
    if (got.width, got.height) != (want.width, want.height) {
        return Some(format!(
            "{} x {} px, the reference is {} x {} px",
            got.width, got.height, want.width, want.height
        ));
    }
    let changed = changed_pixels(got, want).count();
    let total = (got.width * got.height) as usize;
    (changed as f64 > CHANGED_SHARE * total as f64)
        .then(|| format!("{changed} of {total} pixels changed"))
}

fn changed_pixels<'a>(got: &'a Png, want: &'a Png) -> impl Iterator<Item = (u32, u32)> + 'a {
    (0..got.height).flat_map(move |y| {
        (0..got.width).filter_map(move |x| {
            let (a, b) = (got.pixel(x, y), want.pixel(x, y));
            let same = a
                .iter()
                .zip(b)
                .all(|(p, q)| p.abs_diff(q) <= CHANNEL_TOLERANCE);
            (!same).then_some((x, y))
        })
    })
}

fn write_diff(got: &Png, want: &Png, path: &Path) {
    let mut rgb: Vec<u8> = (0..got.height)
        .flat_map(|y| (0..got.width).map(move |x| (x, y)))
        .flat_map(|(x, y)| got.pixel(x, y).map(|c| 191 + c / 4))
        .collect();
    for (x, y) in changed_pixels(got, want) {
        let i = ((y * got.width + x) * 3) as usize;
        rgb[i..i + 3].copy_from_slice(&[220, 0, 0]);
    }
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, got.width, got.height);
    encoder.set_color(png::ColorType::Rgb);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&rgb)
        .unwrap();
}

/// The tolerance must not hide a real change: one cell's text in another
/// colour is far more than the tolerated share.
#[test]
fn a_changed_cell_is_a_difference() {
    let reference = repo().join("tests/golden/485B.png");
    let want = Png::read(&reference);
    let mut changed = Png::read(&reference);
    // A 20 x 10 px patch, about a cell's text line at 72 DPI.
    for y in 30..40 {
        for x in 100..120 {
            changed.set_pixel(x, y, [0, 0, 255]);
        }
    }
    assert_eq!(
        difference(&changed, &want).as_deref(),
        Some(format!("200 of {} pixels changed", want.width * want.height).as_str())
    );
    assert_eq!(difference(&want, &want), None);
}

#[test]
fn the_gallery_page_shows_every_spec_as_it_is() {
    let page = std::fs::read_to_string(repo().join("docs/gallery.md")).unwrap();
    for spec in gallery() {
        let name = name(&spec);
        let text = std::fs::read_to_string(&spec).unwrap();
        assert!(
            page.contains(&format!("](../figures/{name}.png)")),
            "docs/gallery.md does not show figures/{name}.png"
        );
        assert!(
            page.contains(&format!("```yaml\n# specs/{name}.yaml\n{text}```")),
            "docs/gallery.md does not quote specs/{name}.yaml as it is now"
        );
    }
}
