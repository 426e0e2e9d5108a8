//! #9, colour and marks, read from the PNG and PDF written: what the fill
//! shows, marks that stay visible on any fill, states that stay apart in
//! grayscale.

use std::collections::BTreeMap;

use memheat::Built;
use memheat::table::CellState;

use crate::errors::{Fixture, trace_json};
use crate::util::{Png, close, memheat, pdf_text};

/// Grey levels closer than this (Rec. 601 luma of 255) read as one; the
/// limit memheat's grayscale warning uses (`table::GRAY_APART`).
const APART: f64 = 32.0;

fn luma(c: [u8; 3]) -> f64 {
    0.299 * c[0] as f64 + 0.587 * c[1] as f64 + 0.114 * c[2] as f64
}

fn mib(gb: f64) -> String {
    format!("{:.1}", gb * 1024.0)
}

/// A fixture whose spec reads `traces/*.json` with `extra` keys, at 150 DPI.
fn fixture(traces: &[(u32, u32, f64, f64)], extra: &str) -> Fixture {
    let f = Fixture::new();
    for &(tp, pp, actual, theory) in traces {
        f.trace(tp, pp, 1, &trace_json(&mib(actual), &mib(theory)));
    }
    f.write(
        "spec.yaml",
        format!("inputs:\n  traces: traces/*.json\n  logs: {{success: logs/ok.log, failure: logs/failed.log}}\noutput: {{path: out/fig, dpi: {DPI}, formats: [pdf, png]}}\n{extra}"),
    );
    f
}

const DPI: f64 = 150.0;

/// The fill area of the cell at TP, PP (inside the gap), in points.
fn inner(built: &Built, tp: &str, pp: &str) -> (f64, f64, f64, f64) {
    let t = &built.table;
    let row = t.y.labels.iter().position(|l| l == tp).unwrap();
    let col = t.x.labels.iter().position(|l| l == pp).unwrap();
    let g = &built.geometry;
    let b = g
        .cells
        .iter()
        .find(|c| (c.row, c.col) == (row, col))
        .unwrap();
    let half = t.layout.gap / 2.0;
    (
        b.x + half,
        b.y + half,
        g.cell_width - 2.0 * half,
        g.cell_height - 2.0 * half,
    )
}

fn mode(counts: &BTreeMap<[u8; 3], usize>) -> [u8; 3] {
    *counts.iter().max_by_key(|(_, n)| **n).unwrap().0
}

/// The fill of a cell as drawn: the commonest colour of its left padding.
fn fill(png: &Png, built: &Built, tp: &str, pp: &str) -> [u8; 3] {
    let (x, y, _, h) = inner(built, tp, pp);
    mode(&png.histogram(DPI, x + 0.6, y + 1.0, 1.4, h - 2.0))
}

/// The colorbar's colour at `t` (0 at the bottom), from its centre line.
fn bar(png: &Png, built: &Built, t: f64) -> [u8; 3] {
    let b = built.geometry.colorbar.expect("a colorbar");
    let y = (b.y + b.height * (1.0 - t)).clamp(b.y + 0.6, b.y + b.height - 0.6);
    mode(&png.histogram(DPI, b.x + b.width / 2.0 - 1.0, y - 0.3, 2.0, 0.6))
}

#[test]
fn a_ratio_colorbar_has_its_title_and_ticks_and_the_centre_gets_the_midpoint() {
    // Ratios 0.5, 1 and 3: an asymmetric range around the centre. More
    // rows make the bar tall enough to sample finely.
    let f = fixture(
        &[
            (1, 1, 40.0, 20.0),
            (1, 2, 40.0, 40.0),
            (1, 4, 10.0, 30.0),
            (2, 1, 10.0, 10.0),
            (4, 1, 10.0, 10.0),
            (8, 1, 10.0, 10.0),
        ],
        "color: {metric: ratio, map: rdbu, range: [0.5, 3], center: 1}\n",
    );
    let built = f.build().unwrap();
    let text: String = pdf_text(&f.path("out/fig.pdf"))
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for expected in ["Theory/actual", "0.50", "0.75", "1.00", "2.00", "3.00"] {
        assert!(text.contains(expected), "{expected} missing from {text}");
    }
    assert!(!text.contains("Peakmemory"), "{text}");
    let png = Png::read(&f.path("out/fig.png"));
    let centre = fill(&png, &built, "1", "2");
    // The centre is the map's light neutral midpoint, on the cell and on
    // the bar's middle; linear over [0.5, 3] it would sit at a fifth.
    assert!(centre.iter().all(|&v| v > 225), "{centre:?}");
    assert!(close(bar(&png, &built, 0.5), centre, 3));
    assert!(!close(bar(&png, &built, 0.2), centre, 12));
    // The ends: 0.5 at the bottom, 3 at the top (sampled inside the bar's
    // stroke, so a little way along the map).
    for (t, pp) in [(0.0, "1"), (1.0, "4")] {
        let (end, cell) = (bar(&png, &built, t), fill(&png, &built, "1", pp));
        assert!(close(end, cell, 12), "{end:?} vs {cell:?}");
    }
}

/// What a hatch leaves visible in a marked cell, as fractions of the cell's
/// fill area: the pixels a solid "hatch" covers (the area around the text
/// patches), and the pixels of the real hatch's stripe colour.
fn hatch_fractions(map: &str) -> ([u8; 3], [u8; 3], f64, f64) {
    let traces = [(1, 1, 79.5, 100.0), (1, 2, 1.0, 1.0)];
    let built = |extra: &str| {
        let f = fixture(&traces, &format!("color: {{map: {map}}}\n{extra}"));
        let built = f.build().unwrap();
        (Png::read(&f.path("out/fig.png")), built)
    };
    let (plain, _) = built("thresholds: []\n");
    let (hatched, model) = built("");
    let template = String::from_utf8(memheat().arg("template").output().unwrap().stdout).unwrap();
    let solid_template = template.replace("fill: hatch(rgb(m.color))", "fill: rgb(m.color)");
    assert_ne!(template, solid_template);
    let solid = {
        let f = fixture(
            &traces,
            &format!("color: {{map: {map}}}\ntemplate: solid.typ.j2\n"),
        );
        f.write("solid.typ.j2", solid_template);
        f.build().unwrap();
        Png::read(&f.path("out/fig.png"))
    };
    let cell = &model.table.rows[0][0];
    let stripe = cell.marks[0].color.0;
    let (x, y, w, h) = inner(&model, "1", "1");
    let px = |pt: f64| (pt * DPI / 72.0).round() as u32;
    let (mut total, mut covered, mut stripes) = (0, 0, 0);
    for yy in px(y)..px(y + h) {
        for xx in px(x)..px(x + w) {
            total += 1;
            let base = plain.pixel(xx, yy);
            covered += usize::from(solid.pixel(xx, yy) != base);
            let p = hatched.pixel(xx, yy);
            stripes += usize::from(p != base && close(p, stripe, 60));
        }
    }
    (
        cell.fill.unwrap().0,
        stripe,
        covered as f64 / total as f64,
        stripes as f64 / total as f64,
    )
}

/// A quarter of a marked cell stays visibly marked around its text, and the
/// stripes contrast with the fill: white on dark red, black on viridis
/// yellow. Measured at 150 DPI: 34% of the cell around the text, 5.3% of
/// its pixels stripes (0.8pt lines every 3.5pt); before #9, one patch round
/// both lines left 21% and 3.4% (the example's TP=1, PP=32 cell).
#[test]
fn hatching_shows_around_the_text_on_dark_and_light_fills() {
    for (map, expected) in [("memheat-reds", [255; 3]), ("viridis", [0; 3])] {
        let (fill, stripe, area, stripes) = hatch_fractions(map);
        eprintln!(
            "{map}: fill {fill:?}, stripes {stripe:?}, area {area:.3}, stripe pixels {stripes:.3}"
        );
        assert_eq!(stripe, expected, "{map}");
        assert!((luma(fill) - luma(stripe)).abs() > 100.0, "{map}: {fill:?}");
        assert!(area >= 0.25, "{map}: hatched area {area:.3}");
        assert!(stripes >= 0.045, "{map}: stripe pixels {stripes:.3}");
    }
}

/// Failed, invalid, missing and the lowest measured cell differ in grey
/// level or in border on the PNG.
#[test]
fn states_stay_apart_in_grayscale() {
    let f = fixture(&[(1, 1, 1.0, 2.0), (1, 2, 70.0, 75.0)], "");
    f.trace(2, 2, 1, "{\"0\": {\"peak_allocated_MB\": 1");
    f.write("logs/failed.log", "Config 1: TP=2, PP=1\n");
    f.write("logs/ok.log", "Config 2: TP=4, PP=1\n");
    let built = f.build().unwrap();
    let png = Png::read(&f.path("out/fig.png"));
    let state = |tp, pp| {
        let row = built.table.y.labels.iter().position(|l| l == tp).unwrap();
        let col = built.table.x.labels.iter().position(|l| l == pp).unwrap();
        built.table.rows[row][col].state
    };
    assert_eq!(
        [
            state("2", "1"),
            state("2", "2"),
            state("4", "1"),
            state("4", "2")
        ],
        [
            CellState::Failed,
            CellState::Invalid,
            CellState::Invalid,
            CellState::Missing
        ]
    );
    let lowest = luma(fill(&png, &built, "1", "1"));
    let low_end = luma(bar(&png, &built, 0.0));
    let failed = luma(fill(&png, &built, "2", "1"));
    eprintln!(
        "luma: failed {failed:.0}, lowest measured {lowest:.0}, colour scale low end {low_end:.0}"
    );
    assert!((failed - lowest).abs() >= APART, "{failed} vs {lowest}");
    assert!((failed - low_end).abs() >= APART, "{failed} vs {low_end}");
    // Invalid and missing cells are as white as the low end; their borders
    // tell them apart: the longest run of grey along the top edge.
    let edge_run = |tp, pp| {
        let (x, y, w, _) = inner(&built, tp, pp);
        let px = |pt: f64| (pt * DPI / 72.0).round() as u32;
        let (mut run, mut longest, mut grey) = (0, 0, 0);
        for xx in px(x + 2.0)..px(x + w - 2.0) {
            let dark = luma(png.pixel(xx, px(y))) < 200.0;
            grey += usize::from(dark);
            run = if dark { run + 1 } else { 0 };
            longest = longest.max(run);
        }
        (grey, longest)
    };
    let (measured, invalid, missing) = (edge_run("1", "1"), edge_run("2", "2"), edge_run("4", "2"));
    eprintln!(
        "edge (grey pixels, longest run): measured {measured:?}, invalid {invalid:?}, missing {missing:?}"
    );
    assert_eq!(measured, (0, 0));
    assert!(invalid.0 > 0 && missing.0 > 0);
    assert!(invalid.1 > missing.1, "dashes are longer than dots");
    assert_eq!(edge_run("4", "1"), invalid);
}

#[test]
fn swatches_alike_in_grayscale_are_warned_about_by_name() {
    let f = fixture(
        &[(1, 1, 10.0, 20.0)],
        "cells:\n  failed: {text: '—', fill: '#E8E8E8', label: Failed (OOM)}\n",
    );
    f.write("logs/failed.log", "Config 1: TP=2, PP=1\n");
    let (code, _, stderr) = f.run(&["spec.yaml", "--diagnostic-format", "short", "-q"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr,
        "spec.yaml: warning: `Failed (OOM)` and the colour scale's low end (0GB) look alike in grayscale (luma 232 and 255, less than 32 apart); make one fill lighter or darker\n"
    );
}

/// At a venue's column width the cells are narrow and their text compact;
/// what stays marked around the text is still a quarter of every marked
/// cell (measured 30–41% for the USENIX column, 35–45% for ACM, at 150 DPI). The
/// hatch is drawn solid green here, so that every marked pixel counts.
#[test]
fn hatching_shows_in_the_narrow_cells_of_a_column_figure() {
    let dir = tempfile::tempdir().unwrap();
    let template = String::from_utf8(memheat().arg("template").output().unwrap().stdout).unwrap();
    let green = template.replace("fill: hatch(rgb(m.color))", "fill: rgb(\"#00ff00\")");
    assert_ne!(template, green);
    let green_path = dir.path().join("green.typ.j2");
    std::fs::write(&green_path, green).unwrap();
    for venue in ["usenix", "acm"] {
        let spec = crate::util::repo().join(format!("specs/485B-{venue}-column.yaml"));
        let options = memheat::BuildOptions {
            output: Some(dir.path().join(venue)),
            dpi: Some(DPI as u32),
            sets: vec![
                format!("template={}", green_path.display())
                    .parse()
                    .unwrap(),
            ],
            ..memheat::BuildOptions::default()
        };
        let built = memheat::build(&spec, &options, &memheat::compile::Engine::default()).unwrap();
        let png = Png::read(&dir.path().join(format!("{venue}.png")));
        let px = |pt: f64| (pt * DPI / 72.0).round() as u32;
        let mut marked_cells = 0;
        for (r, row) in built.table.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if cell.marks.is_empty() {
                    continue;
                }
                marked_cells += 1;
                let (x, y, w, h) =
                    inner(&built, &built.table.y.labels[r], &built.table.x.labels[c]);
                let (mut total, mut green) = (0, 0);
                for yy in px(y)..px(y + h) {
                    for xx in px(x)..px(x + w) {
                        total += 1;
                        green += usize::from(close(png.pixel(xx, yy), [0, 255, 0], 40));
                    }
                }
                let share = green as f64 / total as f64;
                assert!(share >= 0.25, "{venue}: cell {r},{c}: {share:.3} marked");
            }
        }
        assert_eq!(marked_cells, 6, "{venue}");
    }
}
