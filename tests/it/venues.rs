//! #9, venues and typefaces: a figure set for a venue's column or text
//! width at the venue's type size, read back from the PDF; the legible
//! minimum; fonts from directories.

use std::path::{Path, PathBuf};

use memheat::CellState;
use memheat::Engine;
use memheat::{BuildOptions, Built, Set};

use crate::util::{example_spec, pdf_named_fonts, pdf_page_size, pdf_text_sizes, repo, run_in};

/// Widths from the class files, in TeX points (1/72.27 in) where they give
/// them, converted here independently of memheat's table.
fn class_width(venue: &str, which: &str) -> f64 {
    let tex = 72.0 / 72.27;
    match (venue, which) {
        // usenix2019_v3.sty: 7 in text, 0.33 in between the columns.
        ("usenix", "column") => (7.0 - 0.33) / 2.0 * 72.0,
        ("usenix", "text") => 7.0 * 72.0,
        // acmart sigconf: 8.5 in paper, 54 pt margins, 2 pc between the columns.
        ("acm", "column") => (8.5 * 72.27 - 2.0 * 54.0 - 24.0) / 2.0 * tex,
        ("acm", "text") => (8.5 * 72.27 - 2.0 * 54.0) * tex,
        // IEEEtran: \textwidth 43pc, \columnsep 1pc.
        ("ieee", "column") => (43.0 - 1.0) / 2.0 * 12.0 * tex,
        ("ieee", "text") => 43.0 * 12.0 * tex,
        _ => unreachable!(),
    }
}

fn build(spec: &Path, sets: &[&str]) -> Built {
    memheat::build(spec, &options(sets), &Engine::default()).unwrap()
}

fn options(sets: &[&str]) -> BuildOptions {
    BuildOptions {
        sets: sets.iter().map(|s| s.parse::<Set>().unwrap()).collect(),
        ..BuildOptions::default()
    }
}

fn min_text(pdf: &Path) -> f64 {
    let sizes = pdf_text_sizes(pdf);
    assert!(sizes.len() > 20, "too few text runs: {sizes:?}");
    sizes.into_iter().fold(f64::INFINITY, f64::min)
}

#[test]
fn venue_widths_are_the_class_files_and_text_stays_at_least_6pt() {
    let dir = tempfile::tempdir().unwrap();
    for venue in ["usenix", "acm", "ieee"] {
        for which in ["column", "text"] {
            let out = dir.path().join(format!("{venue}-{which}"));
            let spec = example_spec(
                dir.path(),
                &format!(
                    "title: Peak memory\nstyle: {{venue: {venue}, width: {which}}}\noutput: {{path: '{}', formats: [pdf]}}\n",
                    out.display()
                ),
            );
            let built = build(&spec, &[]);
            assert!(
                built.warnings.is_empty(),
                "{venue} {which}: {:?}",
                built.warnings
            );
            let pdf = out.with_extension("pdf");
            let (width, _) = pdf_page_size(&pdf);
            let expected = class_width(venue, which);
            assert!(
                (width - expected).abs() < 0.01,
                "{venue} {which}: {width} pt, the class file says {expected}"
            );
            let smallest = min_text(&pdf);
            assert!(smallest >= 6.0, "{venue} {which}: text at {smallest:.2}pt");
        }
    }
}

/// The measurement: the 8 × 4 example at USENIX's one-column
/// width. Before, its cell text was set at 7 pt in a 488.64 pt figure and
/// scaled to 3.4 pt; now the page is the column and no text is below 6 pt.
#[test]
fn the_example_at_a_usenix_column_has_no_text_below_6pt() {
    let dir = tempfile::tempdir().unwrap();
    let out = format!("output.path={}", dir.path().join("fig").display());
    let spec = repo().join("specs/485B.yaml");
    let built = build(&spec, &["style.venue=usenix", "style.width=column", &out]);
    let pdf = dir.path().join("fig.pdf");
    assert!((pdf_page_size(&pdf).0 - 3.335 * 72.0).abs() < 0.01);
    assert!(built.warnings.is_empty(), "{:?}", built.warnings);
    let smallest = min_text(&pdf);
    assert!(smallest >= 6.0, "text at {smallest:.2}pt");
    // Eight columns of `Actual: 57.3GB` do not fit at 8 pt: the compact
    // form, with the legend naming the lines.
    assert_eq!(
        built.table.key.as_deref(),
        Some("Cells: actual over theory (GB)")
    );
    let measured = built
        .table
        .rows
        .iter()
        .flatten()
        .find(|c| c.state == CellState::Measured)
        .unwrap();
    assert_eq!(
        measured.lines,
        [
            format!("{:.1}", measured.actual.unwrap()),
            format!("{:.1}", measured.theory.unwrap())
        ]
    );
    let text = crate::util::pdf_text(&pdf);
    assert!(text.contains("Cells: actual over theory (GB)"), "{text}");

    // The reader measures what the engine laid out: the full form, allowed
    // to shrink, comes out at the scale the template reports.
    let built = build(
        &spec,
        &[
            "style.venue=usenix",
            "style.width=column",
            "style.min-font-size=2pt",
            "cells.form=full",
            &out,
        ],
    );
    let shrunk = built.geometry.text_scale * 8.0;
    let smallest = min_text(&pdf);
    assert!(shrunk < 6.0, "{shrunk}");
    assert!((smallest - shrunk).abs() < 0.01, "{smallest} vs {shrunk}");
}

#[test]
fn a_venue_sets_the_typeface_and_explicit_keys_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let fonts = |extra: &str| {
        let spec = example_spec(
            dir.path(),
            &format!("title: Peak\n{extra}output: {{path: out, formats: [pdf]}}\n"),
        );
        let built = build(&spec, &[]);
        let names: Vec<String> = pdf_named_fonts(&dir.path().join("out.pdf"))
            .into_iter()
            .filter(|(_, subtype, _)| subtype != "Type0")
            .map(|(name, _, _)| name)
            .collect();
        (built, names)
    };
    for (venue, face) in [
        ("usenix", "TeXGyreTermes"),
        ("ieee", "TeXGyreTermes"),
        ("acm", "LibertinusSerif"),
    ] {
        // The caption is the title: none is drawn, so no bold face.
        let (_, names) = fonts(&format!("style: {{venue: {venue}}}\n"));
        let mut names = names;
        names.dedup();
        assert_eq!(names, [format!("{face}-Regular")], "{venue}");
        let (_, names) = fonts(&format!("style: {{venue: {venue}, show-title: true}}\n"));
        let mut expected = vec![format!("{face}-Bold"), format!("{face}-Regular")];
        expected.sort();
        let mut names = names;
        names.sort();
        names.dedup();
        assert_eq!(names, expected, "{venue}");
    }
    let (built, names) = fonts(
        "style: {venue: usenix, width: column, font: Libertinus Serif, font-size: 9pt, cell-font-size: 6pt}\n",
    );
    assert!(
        names.iter().all(|n| n.starts_with("LibertinusSerif-")),
        "{names:?}"
    );
    let layout = &built.table.layout;
    assert_eq!((layout.font_size, layout.cell_font_size), (9.0, 6.0));
    assert_eq!(layout.width, Some(3.335 * 72.0));
    let (built, _) = fonts("style: {venue: ieee, width: 300pt}\n");
    assert_eq!(built.geometry.page_width, 300.0);
    assert!((pdf_page_size(&dir.path().join("out.pdf")).0 - 300.0).abs() < 0.01);
}

/// r19: a venue figure's text follows the venue: no title (the caption
/// is one) unless `style.show-title` asks, and then at the caption's size;
/// labels at 8 pt and ticks and legend at 7 pt, the classes' footnote and
/// script sizes; a number and its unit apart by a narrow no-break space.
/// Read back from the PDF. Outside a venue, the sizes and the look of
/// numbers are as they were.
#[test]
fn r19_a_venue_figure_sets_its_text_as_the_venue_does() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("out.pdf");
    let sizes = |extra: &str| {
        let spec = example_spec(
            dir.path(),
            &format!(
                "title: Sweep 485B\ncells: {{form: full}}\n{extra}output: {{path: out, formats: [pdf]}}\n"
            ),
        );
        let built = build(&spec, &[]);
        let mut sizes: Vec<f64> = pdf_text_sizes(&pdf)
            .into_iter()
            .map(|s| (s * 100.0).round() / 100.0)
            .collect();
        sizes.sort_by(f64::total_cmp);
        sizes.dedup();
        (built, sizes, crate::util::pdf_text(&pdf))
    };
    for (venue, caption) in [("usenix", 10.0), ("acm", 9.0), ("ieee", 8.0)] {
        let (built, drawn, text) = sizes(&format!("style: {{venue: {venue}}}\n"));
        assert_eq!(built.table.title, None, "{venue}");
        assert!(!text.contains("Sweep 485B"), "{venue}: {text}");
        // Ticks and legend at 7 pt, labels, titles and cells at 8 pt.
        assert_eq!(drawn, [7.0, 8.0], "{venue}");
        let cell = &built.table.rows[0][7];
        assert_eq!(cell.lines[0], "Actual: 46.7\u{202f}GB", "{venue}");
        let (built, drawn, text) = sizes(&format!("style: {{venue: {venue}, show-title: true}}\n"));
        assert!(text.contains("Sweep 485B"), "{venue}: {text}");
        assert_eq!(built.table.layout.title_font_size, caption, "{venue}");
        assert_eq!(*drawn.last().unwrap(), caption.max(8.0), "{venue}");
    }
    // Explicit keys win; a written font-size carries the others along.
    let (built, drawn, _) = sizes(
        "style: {venue: acm, tick-font-size: 6pt, show-title: true, title-font-size: 8pt}\nunits: {separator: none}\n",
    );
    assert_eq!(drawn, [6.0, 8.0]);
    assert_eq!(built.table.rows[0][7].lines[0], "Actual: 46.7GB");
    let layout = |extra: &str| {
        let l = sizes(extra).0.table.layout;
        (l.font_size, l.title_font_size, l.tick_font_size)
    };
    assert_eq!(
        layout("style: {venue: ieee, font-size: 9pt}\n"),
        (9.0, 11.0, 0.9 * 9.0)
    );
    // Not a venue figure: the title is drawn, the sizes follow font-size.
    let (built, drawn, text) = sizes("units: {separator: space}\n");
    assert!(text.contains("Sweep 485B"), "{text}");
    assert_eq!(drawn, [0.9 * 7.0, 7.0, 9.0]);
    assert_eq!(built.table.rows[0][7].lines[0], "Actual: 46.7\u{a0}GB");
    let (built, _, _) = sizes("");
    assert_eq!(built.table.rows[0][7].lines[0], "Actual: 46.7GB");
    let (built, _, text) = sizes("style: {show-title: false}\n");
    assert_eq!(built.table.title, None);
    assert!(!text.contains("Sweep 485B"), "{text}");
}

/// r19: the example's colorbar title says GB; shown in MiB, its ticks
/// would contradict it, which is an error at the title, not a figure.
#[test]
fn r19_a_colorbar_title_in_another_unit_than_the_numbers_is_an_error() {
    let spec = repo().join("specs/485B.yaml");
    let (code, out, err) = run_in(
        &repo(),
        &[
            "check",
            "--diagnostic-format",
            "short",
            spec.to_str().unwrap(),
            "--set",
            "units.display=MiB",
        ],
    );
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert_eq!(
        err.replace(&format!("{}:", spec.display()), "specs/485B.yaml:"),
        "specs/485B.yaml:13:10: error: colorbar title `Actual peak memory (GB)` names GB, but its ticks are in MiB (`units.display`)\n"
    );
}

/// Errors of the minimum and of venue widths, as the user sees them.
#[test]
fn sizes_below_the_minimum_and_a_venue_width_without_a_venue_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let fail = |extra: &str| {
        let spec = example_spec(dir.path(), extra);
        let (code, out, err) = run_in(
            dir.path(),
            &[
                "build",
                "--diagnostic-format",
                "short",
                spec.to_str().unwrap(),
            ],
        );
        assert_eq!((code, out.as_str()), (1, ""), "{err}");
        err.replace(&format!("{}:", spec.display()), "fig.yaml:")
    };
    assert_eq!(
        fail("style: {venue: usenix, width: 150pt}\n"),
        "fig.yaml:4:31: error: cell text would be shrunk to 3.2pt to fit, below `style.min-font-size` (5pt)\n"
    );
    // Allowed, with a warning, once the minimum is 3pt.
    let spec = example_spec(
        dir.path(),
        "style: {venue: usenix, width: 150pt, min-font-size: 3pt}\noutput: {path: out}\n",
    );
    let built = build(&spec, &[]);
    assert!((built.geometry.text_scale * 8.0 - 3.2).abs() < 0.05);
    assert_eq!(built.warnings.len(), 1, "{:?}", built.warnings);
    assert_eq!(
        fail("style:\n  font-size: 5pt\n"),
        "fig.yaml:5:14: error: tick labels and the legend (0.9 × font-size) would be 4.5pt, below `style.min-font-size` (5pt)\n"
    );
    // A venue's own sizes: 7 pt ticks.
    assert_eq!(
        fail("style:\n  venue: acm\n  min-font-size: 7.5pt\n"),
        "fig.yaml:6:18: error: tick labels and the legend would be 7.0pt, below `style.min-font-size` (7.5pt)\n"
    );
    assert_eq!(
        fail("style:\n  venue: acm\n  tick-font-size: 4pt\n"),
        "fig.yaml:6:19: error: tick labels and the legend would be 4.0pt, below `style.min-font-size` (5pt)\n"
    );
    assert_eq!(
        fail("style: {width: column}\n"),
        "fig.yaml:4:16: error: `width: column` is the column width of a venue, and `style.venue` is not set\n"
    );
    assert_eq!(
        fail("style: {venue: usenx}\n"),
        "fig.yaml:4:16: error: style.venue: unknown variant `usenx`, expected one of `usenix`, `acm`, `ieee`\n"
    );
    assert_eq!(
        fail("cells: {text: ['{{ actual }}'], form: compact}\n"),
        "fig.yaml:4:39: error: `form: compact` picks a built-in cell text, and `cells.text` gives one\n"
    );
}

/// A small public-domain font that memheat does not embed: Tuffy, from the
/// sources of fontdb (a dependency of typst-svg), copied at run time.
fn tuffy() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let registry = home.join("registry/src");
    std::fs::read_dir(&registry)
        .unwrap()
        .flatten()
        .flat_map(|index| {
            std::fs::read_dir(index.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter(|krate| krate.file_name().to_string_lossy().starts_with("fontdb-"))
        .map(|krate| krate.path().join("tests/fonts/Tuffy.ttf"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no fontdb-*/tests/fonts/Tuffy.ttf under {}",
                registry.display()
            )
        })
}

#[test]
fn a_family_only_in_a_font_directory_becomes_usable_and_a_dependency() {
    let dir = tempfile::tempdir().unwrap();
    let fonts = dir.path().join("fonts/sans");
    std::fs::create_dir_all(&fonts).unwrap();
    std::fs::copy(tuffy(), fonts.join("Tuffy.ttf")).unwrap();
    std::fs::write(fonts.join("notes.ttf"), "not a font").unwrap();

    let spec = example_spec(
        dir.path(),
        "title: Peak\nstyle: {font: Tuffy}\noutput: {path: out, formats: [pdf]}\n",
    );
    let failed = memheat::build(&spec, &BuildOptions::default(), &Engine::default()).unwrap_err();
    assert_eq!(
        failed.to_string(),
        format!("{}:5:15: unknown font family `Tuffy`", spec.display())
    );

    let spec = example_spec(
        dir.path(),
        "title: Peak\nstyle: {font: Tuffy}\nfonts: {paths: [fonts]}\noutput: {path: out, formats: [pdf]}\n",
    );
    let built = build(&spec, &[]);
    let names: Vec<String> = pdf_named_fonts(&dir.path().join("out.pdf"))
        .into_iter()
        .map(|(name, _, _)| name)
        .collect();
    assert!(names.iter().any(|n| n.starts_with("Tuffy")), "{names:?}");
    assert!(built.deps.files.contains(&fonts.join("Tuffy.ttf")));
    assert!(!built.deps.files.contains(&fonts.join("notes.ttf")));
    assert!(built.deps.dirs.contains(&dir.path().join("fonts")));
    assert!(built.deps.dirs.contains(&fonts));
    let skipped: Vec<String> = built.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        skipped,
        [format!(
            "{}: it is not a font Typst can read; skipped",
            fonts.join("notes.ttf").display()
        )]
    );

    // --font-path, relative to the working directory, does the same; the
    // depfile names the font, so make rebuilds when it changes.
    let spec = example_spec(
        dir.path(),
        "title: Peak\nstyle: {font: Tuffy}\noutput: {path: out, formats: [pdf]}\n",
    );
    let (code, _, err) = run_in(
        dir.path(),
        &[
            "build",
            "-q",
            "--font-path",
            "fonts/sans",
            "--deps",
            "out.d",
            spec.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let depfile = std::fs::read_to_string(dir.path().join("out.d")).unwrap();
    assert!(depfile.contains("fonts/sans/Tuffy.ttf \\\n"), "{depfile}");
    assert!(depfile.contains("\nfonts/sans/Tuffy.ttf:\n"), "{depfile}");

    let (code, _, err) = run_in(
        dir.path(),
        &[
            "check",
            "--font-path",
            "no/such/dir",
            spec.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("invalid value 'no/such/dir' for '--font-path <DIR>': no such directory"),
        "{err}"
    );
}

#[test]
fn a_directory_of_an_embedded_face_is_accepted_and_a_missing_one_is_an_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("fonts")).unwrap();
    std::fs::copy(
        repo().join("assets/fonts/texgyretermes-regular.otf"),
        dir.path().join("fonts/texgyretermes-regular.otf"),
    )
    .unwrap();
    let spec = example_spec(
        dir.path(),
        "style: {venue: usenix}\nfonts:\n  paths: [fonts]\noutput: {path: out, formats: [pdf]}\n",
    );
    let built = build(&spec, &[]);
    assert!(built.warnings.is_empty(), "{:?}", built.warnings);
    assert!(
        pdf_named_fonts(&dir.path().join("out.pdf"))
            .iter()
            .any(|(name, _, _)| name == "TeXGyreTermes-Regular")
    );

    let spec = example_spec(dir.path(), "fonts:\n  paths:\n    - fonts\n    - missing\n");
    let (code, _, err) = run_in(dir.path(), &["check", spec.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: font directory `missing`: no such directory
  ┌─ fig.yaml:7:5
  │
7 │     - missing
  │     ^^^^^^^^^
  │
  = hint: a font directory is relative to the spec's directory

"
    );
}
