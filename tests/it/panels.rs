//! `panels:`: several sweeps in one figure, on one colour scale, with one
//! colorbar and one legend. The gallery's comparison of the shipped 175B
//! and 485B sweeps is checked against the single-sweep specs of each.

use std::path::{Path, PathBuf};

use memheat::CellState;
use memheat::Engine;
use memheat::{BuildOptions, Built};

use crate::util::{Png, close, pdf_text, repo, run_in};

const COMPARE: &str = "specs/compare-175B-485B.yaml";
const TITLES: [&str; 2] = ["175B on 1,024 GPUs", "485B on 8,192 GPUs"];

fn build(spec: &Path, out: &Path, dpi: u32) -> Built {
    let options = BuildOptions {
        output: Some(out.to_path_buf()),
        dpi: Some(dpi),
        ..BuildOptions::default()
    };
    memheat::build(spec, &options, &Engine::default()).unwrap_or_else(|f| panic!("{f}"))
}

/// `memheat data` of a spec in the repository, as CSV records (no field
/// of these specs holds a line break).
fn data(spec: &str) -> Vec<Vec<String>> {
    let (code, stdout, stderr) = run_in(&repo(), &["data", spec]);
    assert_eq!(code, 0, "{stderr}");
    stdout.lines().map(fields).collect()
}

/// One RFC 4180 record: commas inside quotes, doubled quotes.
fn fields(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted) = (vec![], String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// Text without whitespace, which PDF text extraction does not keep as drawn.
fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A spec in `dir` whose panels read the shipped sweeps, `panels` of them.
fn panels_spec(dir: &Path, panels: &[(&str, &str)], extra: &str) -> PathBuf {
    let examples = repo().join("examples");
    let mut text = format!("{extra}panels:\n");
    for (title, sweep) in panels {
        text += &format!(
            "  - title: {title}\n    inputs:\n      traces: '{0}/{sweep}/traces/*.json'\n      logs: {{failure: '{0}/{sweep}/logs/failed_configs.log'}}\n",
            examples.display()
        );
    }
    let spec = dir.join("fig.yaml");
    std::fs::write(&spec, text).unwrap();
    spec
}

/// Each panel draws what the spec of its sweep alone draws, and the PDF
/// has both titles, the cell text of both sweeps and one colorbar.
#[test]
fn a_two_panel_figure_shows_both_sweeps_as_their_own_specs_do() {
    let dir = tempfile::tempdir().unwrap();
    let built = build(&repo().join(COMPARE), &dir.path().join("fig"), 72);
    let titles: Vec<&str> = built
        .table
        .panels
        .iter()
        .map(|p| p.title.as_str())
        .collect();
    assert_eq!(titles, TITLES);

    let both = data(COMPARE);
    let header = &both[0];
    assert_eq!(header[..3], ["panel", "pp", "tp"]);
    for (title, single) in TITLES.iter().zip(["specs/175B.yaml", "specs/485B.yaml"]) {
        let alone = data(single);
        let shown: Vec<&[String]> = both[1..]
            .iter()
            .filter(|r| r[0] == *title)
            .map(|r| &r[1..])
            .collect();
        let want: Vec<&[String]> = alone.iter().map(Vec::as_slice).collect();
        assert_eq!(header[1..], *want[0]);
        assert_eq!(shown, want[1..], "{title}");
    }

    let text = squeezed(&pdf_text(&dir.path().join("fig.pdf")));
    for title in TITLES {
        assert!(
            text.contains(&squeezed(title)),
            "{title} missing from {text}"
        );
    }
    let measured: Vec<_> = built
        .table
        .panels
        .iter()
        .flat_map(|p| p.rows.iter().flatten())
        .filter(|c| c.state == CellState::Measured)
        .collect();
    assert!(measured.len() > 30, "{}", measured.len());
    for cell in measured {
        for line in &cell.lines {
            assert!(text.contains(&squeezed(line)), "{line} missing");
        }
    }
    // One colorbar: its title and its top tick once each.
    assert_eq!(text.matches("Actualpeakmemory(GB)").count(), 1, "{text}");
    assert_eq!(text.matches("Theory>80GB(GPUcapacity)").count(), 1);
    assert!(built.geometry.colorbar.is_some());
}

/// The same value gets the same fill in both panels, and that fill is the
/// colorbar's colour at the value: one colour scale.
#[test]
fn a_two_panel_figures_panels_share_one_colour_scale() {
    let dir = tempfile::tempdir().unwrap();
    let dpi = 150.0;
    let built = build(&repo().join(COMPARE), &dir.path().join("fig"), dpi as u32);
    let png = Png::read(&dir.path().join("fig.png"));
    let g = &built.geometry;
    let bar = g.colorbar.unwrap();
    let gap = built.table.layout.gap;
    // The fill as drawn: the commonest colour of a strip in the cell's left
    // padding, where no text is.
    let drawn = |x: f64, y: f64| {
        let strip = png.histogram(
            dpi,
            x + gap / 2.0 + 0.2,
            y + gap / 2.0 + 0.5,
            1.2,
            g.cell_height - gap - 1.0,
        );
        *strip.iter().max_by_key(|(_, n)| **n).unwrap().0
    };
    let [lo, hi] = [0.0, 80.0];
    let on_bar = |v: f64| {
        let at = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
        *png.histogram(
            dpi,
            bar.x + bar.width / 2.0 - 0.5,
            bar.y + bar.height * (1.0 - at) - 0.5,
            1.0,
            1.0,
        )
        .iter()
        .max_by_key(|(_, n)| **n)
        .unwrap()
        .0
    };
    let mut fills: [Vec<(f64, [u8; 3])>; 2] = [vec![], vec![]];
    for b in &g.cells {
        let cell = &built.table.panels[b.panel].rows[b.row][b.col];
        if cell.state != CellState::Measured || !cell.marks.is_empty() {
            continue;
        }
        let fill = drawn(b.x, b.y);
        let actual = cell.actual.unwrap();
        assert!(
            close(fill, on_bar(actual), 12),
            "panel {} {actual}GB: {fill:?} is not the colorbar's {:?}",
            b.panel,
            on_bar(actual)
        );
        fills[b.panel].push((actual, fill));
    }
    // Pairs of cells, one in each panel, less than 1 GB apart.
    let mut pairs = 0;
    for (a, fill_a) in &fills[0] {
        for (b, fill_b) in &fills[1] {
            if (a - b).abs() < 1.0 {
                pairs += 1;
                assert!(
                    close(*fill_a, *fill_b, 8),
                    "{a} {fill_a:?} vs {b} {fill_b:?}"
                );
            }
        }
    }
    assert!(pairs >= 3, "{pairs} pairs of similar values");
    // Dark and light fills both occur: the colours do span the scale.
    let luma = |c: [u8; 3]| c.iter().map(|&v| u32::from(v)).sum::<u32>();
    let all: Vec<u32> = fills.iter().flatten().map(|(_, c)| luma(*c)).collect();
    assert!(all.iter().max().unwrap() - all.iter().min().unwrap() > 200);
}

/// Cells have one size in every panel, the panels' rows line up, and a
/// second panel widens the figure by its own columns.
#[test]
fn panels_share_the_cell_size_and_the_second_one_widens_the_figure() {
    let dir = tempfile::tempdir().unwrap();
    let one = panels_spec(dir.path(), &[("A", "175B")], "");
    let one = build(&one, &dir.path().join("one"), 72);
    let two = panels_spec(dir.path(), &[("A", "175B"), ("B", "485B")], "");
    let two = build(&two, &dir.path().join("two"), 72);
    let g = &two.geometry;
    assert_eq!(
        (g.cell_width, g.cell_height),
        (one.geometry.cell_width, one.geometry.cell_height)
    );
    for panel in [0, 1] {
        let cells: Vec<_> = g.cells.iter().filter(|c| c.panel == panel).collect();
        let columns = two.table.panels[panel].x.labels.len();
        for pair in cells.windows(2).filter(|p| p[0].row == p[1].row) {
            assert!((pair[1].x - pair[0].x - g.cell_width).abs() < 1e-6);
        }
        for c in &cells {
            let first_row = g
                .cells
                .iter()
                .find(|o| o.panel == 0 && o.row == c.row)
                .unwrap();
            assert!((c.y - first_row.y).abs() < 1e-6, "rows of the panels align");
        }
        assert_eq!(cells.len(), columns * two.table.panels[panel].rows.len());
    }
    let (w1, w2) = (
        Png::read(&dir.path().join("one.png")).width,
        Png::read(&dir.path().join("two.png")).width,
    );
    let columns = two.table.panels[1].x.labels.len() as f64;
    // At 72 DPI a pixel is a point.
    let grown = f64::from(w2 - w1);
    assert!(
        grown > columns * g.cell_width,
        "{w1} px -> {w2} px, for {columns} columns of {} pt",
        g.cell_width
    );
}

/// A fixed width is shared out among all the panels' columns, at the
/// same legibility rules as one grid: compact cells, never below the
/// minimum font size.
#[test]
fn a_fixed_width_fits_every_panel_with_legible_text() {
    let dir = tempfile::tempdir().unwrap();
    let spec = panels_spec(
        dir.path(),
        &[("A", "175B"), ("B", "485B")],
        "style: {venue: usenix, width: text}\n",
    );
    let built = build(&spec, &dir.path().join("fig"), 72);
    let g = &built.geometry;
    let layout = &built.table.layout;
    assert!(
        (g.page_width - layout.width.unwrap()).abs() < 0.5,
        "{}",
        g.page_width
    );
    assert!(g.text_scale * layout.cell_font_size >= layout.min_font_size - 1e-9);
    let columns: usize = built.table.panels.iter().map(|p| p.x.labels.len()).sum();
    let right = g.cells.iter().map(|c| c.x).fold(0.0, f64::max) + g.cell_width;
    assert!(
        right < g.page_width,
        "cells end at {right}pt of {}",
        g.page_width
    );
    assert!(g.cell_width * columns as f64 > 0.6 * g.page_width);
    // The full text does not fit 14 columns at this width; the key then
    // says what the compact cell's lines are.
    assert!(built.table.key.is_some());
}

#[test]
fn a_panel_glob_without_a_match_names_the_panel_and_points_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let spec = panels_spec(dir.path(), &[("A", "175B")], "");
    let text = std::fs::read_to_string(&spec).unwrap()
        + "  - title: B\n    inputs:\n      traces: runs/*.json\n";
    std::fs::write(&spec, text).unwrap();
    let (code, stdout, stderr) = run_in(dir.path(), &["build", "fig.yaml"]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        "error: panels[1] (B): glob `runs/*.json` matches no file
  ┌─ fig.yaml:8:15
  │
8 │       traces: runs/*.json
  │               ^^^^^^^^^^^
  │
  = hint: it was resolved against `.` (the spec's directory)

"
    );
}

#[test]
fn too_many_panels_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let nine = vec![("P", "175B"); 9];
    panels_spec(dir.path(), &nine, "");
    let (code, _, stderr) = run_in(
        dir.path(),
        &["check", "--diagnostic-format", "short", "fig.yaml"],
    );
    assert_eq!(code, 1);
    assert_eq!(stderr, "fig.yaml:1:1: error: 9 panels is too many\n");
}

/// Keys a panel does not write come from the top level; a warning about a
/// panel's data names the panel.
#[test]
fn panels_inherit_top_level_inputs_and_their_warnings_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let spec = panels_spec(
        dir.path(),
        &[("A", "175B"), ("B", "485B")],
        "inputs: {theory: nosuch}\n",
    );
    let text = std::fs::read_to_string(&spec).unwrap().replacen(
        "      logs:",
        "      theory: theoretical_memory_MB\n      logs:",
        1,
    );
    std::fs::write(&spec, text).unwrap();
    let (code, _, stderr) = run_in(
        dir.path(),
        &["check", "--diagnostic-format", "short", "fig.yaml"],
    );
    assert_eq!(code, 0, "{stderr}");
    let warnings: Vec<&str> = stderr.lines().collect();
    assert!(!warnings.is_empty());
    for w in warnings {
        assert!(w.contains("485B/traces/"), "{w}");
        assert!(
            w.ends_with(": warning: panels[1] (B): theoretical field `nosuch` is missing; theory shows n/a and marks no threshold"),
            "{w}"
        );
    }
}

/// `memheat data` says which panel a cell is in: a first CSV column, a
/// JSON field and each panel's axes; a spec of one sweep has neither.
#[test]
fn data_of_a_panel_figure_has_a_panel_column() {
    let csv = data(COMPARE);
    assert_eq!(
        csv[0].join(","),
        // The columns of old first, then ratio, percent, the captures and
        // the numeric fields of the runs.
        "panel,pp,tp,state,actual,theory,actual_text,theory_text,text,marks,trace,log,reason,\
         ratio,percent,dp,gbs,layers,mbs,nmbs,rank,seq,ts,wd,peak_allocated_MB,static_memory_MB,theoretical_memory_MB"
    );
    assert_eq!(csv[1][0], TITLES[0]);
    assert_eq!(csv.last().unwrap()[0], TITLES[1]);
    let (code, stdout, stderr) = run_in(&repo(), &["data", "--format", "json", COMPARE]);
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let panels: Vec<&str> = json["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(panels, TITLES);
    assert_eq!(
        json["panels"][1]["x"]["values"].as_array().unwrap().len(),
        8
    );
    let cells = json["cells"].as_array().unwrap();
    assert_eq!(cells[0]["panel"], TITLES[0]);
    assert_eq!(cells.last().unwrap()["panel"], TITLES[1]);
    let (_, single, _) = run_in(&repo(), &["data", "--format", "json", "specs/175B.yaml"]);
    assert!(!single.contains("\"panel"), "{single}");
}

#[test]
fn the_depfile_lists_every_panels_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let deps = dir.path().join("fig.d");
    let out = dir.path().join("fig");
    let (code, _, stderr) = run_in(
        &repo(),
        &[
            "build",
            "-q",
            "-o",
            out.to_str().unwrap(),
            "--deps",
            deps.to_str().unwrap(),
            COMPARE,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(deps).unwrap();
    for sweep in ["175B", "485B"] {
        for input in [
            "traces",
            "logs/failed_configs.log",
            "logs/successful_configs.log",
        ] {
            assert!(
                text.contains(&format!("examples/{sweep}/{input}")),
                "{sweep} {input}: {text}"
            );
        }
    }
}

/// `style.panel-columns` wraps the panels into rows: the third of three
/// panels at two a row sits under the first, in the same cell columns, and
/// the one colorbar reaches from the top row of cells to the bottom one.
#[test]
fn panel_columns_wrap_the_panels_into_rows_under_one_colorbar() {
    let dir = tempfile::tempdir().unwrap();
    let three = [("A", "175B"), ("B", "485B"), ("C", "175B")];
    let spec = panels_spec(dir.path(), &three, "style: {panel-columns: 2}\n");
    let wrapped = build(&spec, &dir.path().join("wrapped"), 72);
    let spec = panels_spec(dir.path(), &three, "");
    let row = build(&spec, &dir.path().join("row"), 72);
    let g = &wrapped.geometry;
    let at = |panel: usize, r: usize, c: usize| {
        *g.cells
            .iter()
            .find(|b| (b.panel, b.row, b.col) == (panel, r, c))
            .unwrap()
    };
    let rows = wrapped.table.panels[0].rows.len();
    let (first, last_of_first) = (at(0, 0, 0), at(0, rows - 1, 0));
    let third = at(2, 0, 0);
    assert!(
        (third.x - first.x).abs() < 1e-6,
        "{third:?} under {first:?}"
    );
    assert!(third.y > last_of_first.y + g.cell_height, "{third:?}");
    let bottom = at(2, rows - 1, 0).y + g.cell_height;
    let bar = g.colorbar.unwrap();
    assert!((bar.y - first.y).abs() < 0.5, "{bar:?} from {first:?}");
    assert!(
        (bar.y + bar.height - bottom).abs() < 0.5,
        "{bar:?} to {bottom}"
    );
    assert!(g.page_width < row.geometry.page_width);
    assert!(g.page_height > row.geometry.page_height);
    assert_eq!(
        (g.cell_width, g.cell_height),
        (row.geometry.cell_width, row.geometry.cell_height)
    );
}

/// A panel without a measured cell is an error naming it, even when the
/// other panels have data.
#[test]
fn a_panel_without_data_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let spec = panels_spec(dir.path(), &[("A", "175B"), ("B", "485B")], "");
    let text = std::fs::read_to_string(&spec).unwrap() + "    axes: {x: {values: [3]}}\n";
    std::fs::write(&spec, text).unwrap();
    let (code, _, stderr) = run_in(
        dir.path(),
        &["check", "--diagnostic-format", "short", "fig.yaml"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        stderr.lines().last().unwrap(),
        "fig.yaml: error: fig.yaml: no usable data: panels[1] (B): of 4 configs, 4 are missing; the warnings above say why"
    );
}
