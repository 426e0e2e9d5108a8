//! Shared style (`extends`) and quick overrides (`--set`), issue #9: a
//! paper's figures extend one base spec in another directory.

use memheat::BuildOptions;
use memheat::Engine;

use crate::errors::{Fixture, good, trace_json};
use crate::util::{Png, pdf_text};

/// A paper's layout: the base style in `specs/style/` reads the sweep and
/// sets the look; the figure in `specs/` extends it.
const BASE: &str = "title: Base title
subtitle: Base subtitle
inputs:
  traces: ../../traces/*.json
  logs: {success: ../../logs/ok.log, failure: ../../logs/failed.log}
units: {display: MiB, label: MiB}
template: paper.typ.j2
output:
  dpi: 100
  formats: [pdf, png]
";

const FIGURE: &str = "extends: style/paper.yaml
title: Figure title
output:
  path: ../out/fig
";

fn paper() -> Fixture {
    let f = Fixture::new();
    good(&f);
    f.trace(2, 1, 1, &trace_json("20480.0", "30720.0"));
    f.write("specs/style/paper.yaml", BASE);
    f.write("specs/fig.yaml", FIGURE);
    // The built-in template, with a mark to show that this one was used.
    let (_, builtin, _) = run(&f, &["template"]);
    let template = builtin.replace(
        "#set par(",
        "#place(top + left, text(size: 4pt)[paper template])\n#set par(",
    );
    assert_ne!(template, builtin);
    f.write("specs/style/paper.typ.j2", template);
    f
}

/// Runs any memheat command in the fixture's directory.
fn run(f: &Fixture, args: &[&str]) -> (i32, String, String) {
    crate::util::run_in(&f.path(""), args)
}

/// DPI from a PNG's pHYs chunk.
fn dpi(png: &Png) -> u32 {
    (f64::from(png.pixels_per_metre.unwrap()) * 0.0254).round() as u32
}

#[test]
fn a_figure_inherits_from_a_base_in_another_directory() {
    let f = paper();
    let (code, stdout, stderr) = run(&f, &["build", "specs/fig.yaml", "--deps", "out/fig.d"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "wrote out/fig.pdf\nwrote out/fig.png\n");
    // The child's title wins; the base's subtitle, template and DPI stay.
    let text = pdf_text(&f.path("out/fig.pdf"));
    assert!(text.contains("Figure title"), "{text}");
    assert!(text.contains("Base subtitle"), "{text}");
    assert!(!text.contains("Base title"), "{text}");
    assert!(text.contains("paper template"), "{text}");
    assert_eq!(dpi(&Png::read(&f.path("out/fig.png"))), 100);
    // Globs in the base resolve against the base's directory.
    let (code, csv, stderr) = run(&f, &["data", "specs/fig.yaml"]);
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let cells: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[0], r[1], r[5])).collect();
    assert_eq!(
        cells,
        [("1", "1", "40960.0MiB"), ("1", "2", "20480.0MiB")],
        "{csv}"
    );
    // The base and its template are prerequisites, so make rebuilds the
    // figure when the shared style changes.
    let depfile = std::fs::read_to_string(f.path("out/fig.d")).unwrap();
    assert!(
        depfile.starts_with(
            "out/fig.d: \\\n  specs/fig.yaml \\\n  specs/style/paper.yaml \\\n  specs/style/paper.typ.j2 \\\n"
        ),
        "{depfile}"
    );
    assert!(depfile.contains("\nspecs/style/paper.yaml:\n"), "{depfile}");
}

#[test]
fn set_overrides_the_spec_and_its_base() {
    let f = paper();
    let (code, _, stderr) = run(
        &f,
        &[
            "build",
            "specs/fig.yaml",
            "--set",
            "title=\"Set: title\"",
            "--set",
            "output.dpi=200",
            "--set",
            "output.formats=[png, pdf]",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let text = pdf_text(&f.path("out/fig.pdf"));
    assert!(text.contains("Set: title"), "{text}");
    assert!(text.contains("Base subtitle"), "{text}");
    assert_eq!(dpi(&Png::read(&f.path("out/fig.png"))), 200);
    // A --set path is relative to the working directory.
    let (code, stdout, stderr) = run(
        &f,
        &[
            "build",
            "specs/fig.yaml",
            "--set",
            "output.path=elsewhere/fig",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "wrote elsewhere/fig.pdf\nwrote elsewhere/fig.png\n");
}

#[test]
fn an_error_in_a_base_points_at_the_base() {
    let f = paper();
    f.write(
        "specs/style/paper.yaml",
        BASE.replace("output:\n", "style:\n  gap: 30pt\noutput:\n"),
    );
    let (code, _, stderr) = run(&f, &["check", "specs/fig.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "error: gap 30.0pt is out of range
  ┌─ specs/style/paper.yaml:9:8
  │
9 │   gap: 30pt
  │        ^^^^
  │
  = hint: use at most 20pt

"
    );
    // Unknown keys too, with the closest one, and in flow style.
    f.write(
        "specs/style/paper.yaml",
        BASE.replace("output:\n", "style: {gapp: 2pt}\noutput:\n"),
    );
    let (code, _, stderr) = run(
        &f,
        &["check", "--diagnostic-format", "short", "specs/fig.yaml"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "specs/style/paper.yaml:8:9: error: style: unknown field `gapp`, expected one of `venue`, `font`, `font-size`, `title-font-size`, `cell-font-size`, `tick-font-size`, `show-title`, `min-font-size`, `width`, `height`, `aspect`, `gap`, `gap-color`, `legend`, `colorbar`, `panel-columns`\n"
    );
}

#[test]
fn a_glob_in_a_base_says_which_directory_it_was_resolved_against() {
    let f = paper();
    f.write(
        "specs/style/paper.yaml",
        BASE.replace("../../traces/", "../traces/"),
    );
    let (code, _, stderr) = run(&f, &["check", "specs/fig.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "error: glob `../traces/*.json` matches no file
  ┌─ specs/style/paper.yaml:4:11
  │
4 │   traces: ../traces/*.json
  │           ^^^^^^^^^^^^^^^^
  │
  = hint: it was resolved against `specs/style` (the directory of `specs/style/paper.yaml`)

"
    );
}

#[test]
fn a_missing_base_and_a_cycle_point_at_the_extends() {
    let f = paper();
    f.write(
        "specs/fig.yaml",
        FIGURE.replace("style/paper", "style/papr"),
    );
    let (code, _, stderr) = run(&f, &["build", "specs/fig.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "error: cannot read `specs/style/papr.yaml`: No such file or directory (os error 2)
  ┌─ specs/fig.yaml:1:10
  │
1 │ extends: style/papr.yaml
  │          ^^^^^^^^^^^^^^^
  │
  = hint: `extends` is relative to the file it is written in

"
    );
    f.write("specs/fig.yaml", FIGURE);
    f.write(
        "specs/style/paper.yaml",
        format!("extends: [colours.yaml]\n{BASE}"),
    );
    f.write("specs/style/colours.yaml", "extends: ../fig.yaml\n");
    let (code, _, stderr) = run(&f, &["build", "specs/fig.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "error: `extends` goes round in a cycle: specs/fig.yaml -> specs/style/paper.yaml -> specs/style/colours.yaml -> specs/fig.yaml
  ┌─ specs/style/colours.yaml:1:10
  │
1 │ extends: ../fig.yaml
  │          ^^^^^^^^^^^
  │
  = hint: a spec cannot extend itself, directly or through its bases

"
    );
    assert!(!f.path("out").exists());
}

#[test]
fn a_bad_set_points_at_the_flag() {
    let f = paper();
    let check = |args: &[&str]| {
        let mut all = vec!["check", "specs/fig.yaml"];
        all.extend_from_slice(args);
        run(&f, &all)
    };
    assert_eq!(
        check(&["--set", "outptu.dpi=600"]),
        (
            1,
            String::new(),
            "error: --set outptu.dpi=600: unknown field `outptu`, expected one of `title`, `subtitle`, `inputs`, `panels`, `units`, `axes`, `color`, `thresholds`, `cells`, `style`, `output`, `fonts`, `template`, `strict`
  = hint: did you mean `output`?
".into()
        )
    );
    assert_eq!(
        check(&["--set", "output.dpi=high"]).2,
        "error: --set output.dpi=high: invalid type: string \"high\", expected u32\n"
    );
    assert_eq!(
        check(&["--set", "output.dpi=5"]).2,
        "error: --set output.dpi=5: DPI 5 is out of range\n  = hint: use 10 to 2400 (300 for print, 600 for line art)\n"
    );
    assert_eq!(
        check(&["--set", "style.font=Comic Sans"]).2.lines().next(),
        Some("error: --set style.font=Comic Sans: unknown font family `Comic Sans`")
    );
    // The same flag on `data`.
    let (code, _, stderr) = run(&f, &["data", "specs/fig.yaml", "--set", "color.map=redz"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "error: --set color.map=redz: unknown colour map `redz`\n  = hint: did you mean `reds`?\n"
    );
    // A flag that is no KEY.PATH=VALUE is command-line misuse.
    for bad in [
        "title",
        "=1",
        "style..gap=1pt",
        "color.range=[0, 1",
        "extends=x.yaml",
    ] {
        let (code, _, stderr) = check(&["--set", bad]);
        assert_eq!(code, 2, "{bad}: {stderr}");
        assert!(
            stderr.starts_with(&format!(
                "error: invalid value '{bad}' for '--set <KEY.PATH=VALUE>': "
            )),
            "{stderr}"
        );
    }
}

#[test]
fn a_failed_build_still_names_its_bases() {
    // A watcher rebuilds when any file the failed build read changes.
    let f = paper();
    f.write("specs/style/paper.yaml", BASE.replace("dpi: 100", "dpi: 5"));
    let failed = memheat::build(
        &f.path("specs/fig.yaml"),
        &BuildOptions::default(),
        &Engine::default(),
    )
    .unwrap_err();
    assert_eq!(
        failed.to_string(),
        format!(
            "{}:9:8: DPI 5 is out of range",
            f.path("specs/style/paper.yaml").display()
        )
    );
    assert_eq!(
        failed.deps.files,
        [f.path("specs/fig.yaml"), f.path("specs/style/paper.yaml")]
    );
}
