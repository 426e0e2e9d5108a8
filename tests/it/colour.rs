//! #9, colour and marks, read from the PNG and PDF written: what the fill
//! shows, marks that stay visible on any fill, states that stay apart in
//! grayscale.

use std::collections::BTreeMap;

use memheat::Built;
use memheat::CellState;

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

/// The built-in template with every hatch drawn solid green, so that each
/// pixel the mark covers can be counted.
fn green_template() -> String {
    let template = String::from_utf8(memheat().arg("template").output().unwrap().stdout).unwrap();
    let green = template.replace("fill: hatch(m)", "fill: rgb(\"#00ff00\")");
    assert_ne!(template, green);
    green
}

/// What a hatch leaves visible in a marked cell's fill area, measured in a
/// PNG at 150 DPI with the hatch drawn as it is (`real`) and drawn solid
/// green (`green`): the share of the area marked, the share of the marked
/// pixels that stand out from the fill by more than 100 of 255 in luma (the
/// stripes, black with white edges), and the room round the text: from its ink to
/// the cell's edge, and to the nearest marked pixel, in points, and the
/// width of the mark's band on each side of the text (left, right, top,
/// bottom), in pixels.
#[derive(Debug)]
struct Marked {
    area: f64,
    contrast: f64,
    to_edge: f64,
    to_mark: f64,
    bands: [u32; 4],
}

fn measure_mark(real: &Png, green: &Png, cell: (f64, f64, f64, f64), fill: [u8; 3]) -> Marked {
    let px = |pt: f64| (pt * DPI / 72.0).round() as u32;
    let (x, y, w, h) = cell;
    let (x0, y0, x1, y1) = (px(x), px(y), px(x + w), px(y + h));
    let is_green = |p: [u8; 3]| close(p, [0, 255, 0], 40);
    // Text is black or white; antialiased fill and green are neither.
    let is_ink = |p: [u8; 3]| close(p, [0; 3], 90) || close(p, [255; 3], 90);
    let (mut total, mut marked, mut contrast) = (0, 0, 0);
    let mut ink = (u32::MAX, u32::MAX, 0, 0);
    for yy in y0..y1 {
        for xx in x0..x1 {
            total += 1;
            let p = green.pixel(xx, yy);
            if is_green(p) {
                marked += 1;
                contrast += usize::from((luma(real.pixel(xx, yy)) - luma(fill)).abs() > 100.0);
            } else if is_ink(p) {
                ink = (ink.0.min(xx), ink.1.min(yy), ink.2.max(xx), ink.3.max(yy));
            }
        }
    }
    assert!(ink.0 < ink.2, "no text in the cell at {cell:?}");
    let mut to_mark = f64::INFINITY;
    for yy in y0..y1 {
        for xx in x0..x1 {
            if is_green(green.pixel(xx, yy)) {
                let dx = (ink.0 as f64 - xx as f64)
                    .max(xx as f64 - ink.2 as f64)
                    .max(0.0);
                let dy = (ink.1 as f64 - yy as f64)
                    .max(yy as f64 - ink.3 as f64)
                    .max(0.0);
                to_mark = to_mark.min(dx.hypot(dy));
            }
        }
    }
    let run = |from: (u32, u32), step: (i64, i64)| {
        let (mut xx, mut yy, mut n) = (from.0 as i64, from.1 as i64, 0);
        while (x0 as i64..x1 as i64).contains(&xx) && (y0 as i64..y1 as i64).contains(&yy) {
            n += u32::from(is_green(green.pixel(xx as u32, yy as u32)));
            xx += step.0;
            yy += step.1;
        }
        n
    };
    let (mid_x, mid_y) = ((ink.0 + ink.2) / 2, (ink.1 + ink.3) / 2);
    let pt = |pixels: u32| pixels as f64 * 72.0 / DPI;
    Marked {
        area: marked as f64 / total as f64,
        contrast: contrast as f64 / marked.max(1) as f64,
        to_edge: pt((ink.0 - x0)
            .min(x1 - 1 - ink.2)
            .min(ink.1 - y0)
            .min(y1 - 1 - ink.3)),
        to_mark: to_mark * 72.0 / DPI,
        bands: [
            run((ink.0, mid_y), (-1, 0)),
            run((ink.2, mid_y), (1, 0)),
            run((mid_x, ink.1), (0, -1)),
            run((mid_x, ink.3), (0, 1)),
        ],
    }
}

/// What the mark leaves visible, and how it reads, in every marked cell of
/// a spec built at 150 DPI; `sets` adds `--set` flags.
fn marked_cells(spec: &std::path::Path, sets: &[&str]) -> Vec<(String, [u8; 3], Marked)> {
    let dir = tempfile::tempdir().unwrap();
    let green_path = dir.path().join("green.typ.j2");
    std::fs::write(&green_path, green_template()).unwrap();
    let build = |name: &str, template: Option<&std::path::Path>| {
        let mut flags: Vec<memheat::Set> = sets.iter().map(|s| s.parse().unwrap()).collect();
        if let Some(t) = template {
            flags.push(format!("template={}", t.display()).parse().unwrap());
        }
        let options = memheat::BuildOptions {
            output: Some(dir.path().join(name)),
            dpi: Some(DPI as u32),
            sets: flags,
            ..memheat::BuildOptions::default()
        };
        let built = memheat::build(spec, &options, &memheat::Engine::default()).unwrap();
        (built, Png::read(&dir.path().join(format!("{name}.png"))))
    };
    let (built, real) = build("real", None);
    let (_, green) = build("green", Some(&green_path));
    let t = &built.table;
    let mut found = Vec::new();
    for (r, row) in t.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if cell.marks.is_empty() {
                continue;
            }
            let (tp, pp) = (&t.y.labels[r], &t.x.labels[c]);
            let fill = cell.fill.unwrap().0;
            let m = measure_mark(&real, &green, inner(&built, tp, pp), fill);
            found.push((format!("TP={tp} PP={pp}"), fill, m));
        }
    }
    found
}

/// The six marked cells of the example: a quarter or more of each marked,
/// stripes that stand out from the fill, the text 2pt from the edge and
/// clear of the stripes, with a band of the mark on every side.
fn assert_reads(figure: &str, cells: &[(String, [u8; 3], Marked)]) {
    assert_eq!(cells.len(), 6, "{figure}");
    for (at, fill, m) in cells {
        eprintln!("{figure} {at}: fill {fill:?}: {m:?}");
        assert!(m.area >= 0.25, "{figure} {at}: {m:?}");
        assert!(m.contrast >= 0.15, "{figure} {at}: {m:?}");
        assert!(m.to_edge >= 2.0, "{figure} {at}: {m:?}");
        assert!(m.to_mark >= 0.5, "{figure} {at}: {m:?}");
        assert!(m.bands.iter().all(|&b| b >= 3), "{figure} {at}: {m:?}");
    }
}

/// r19: one mark, one look: the stripes are black with white edges on
/// every fill (the legend's swatch is drawn by the same rule, see
/// `table::tests`), so they stand out from dark red and from viridis
/// yellow alike; the text sits on a clear patch with the hatch round it.
/// Measured at 150 DPI in the auto-sized example (full text), on both maps:
/// 25–33% of a marked cell is marked, and 18–37% of the marked pixels
/// differ from the fill by more than 100 in luma; the ink is 2.9pt from
/// the cell's edge and at least 0.96pt from the nearest stripe, with bands
/// of 3–9 px round it. Before #19, stripes were white on dark fills and
/// black on light ones, under one swatch.
#[test]
fn r19_hatching_reads_on_dark_and_light_fills_with_the_text_clear() {
    let spec = crate::util::repo().join("specs/485B.yaml");
    for map in ["memheat-reds", "viridis"] {
        let cells = marked_cells(&spec, &[&format!("color.map={map}")]);
        assert_reads(map, &cells);
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

/// r19: at a venue's column width the cells are narrow and their text
/// compact. Before, the hatch showed as slivers between the digits at 150
/// DPI and the digits came within 1pt of the cell's edge; now the text sits
/// on one clear patch, at least 2pt from the edge, and the mark shows on
/// every side of it. Measured at 150 DPI (USENIX, ACM): 30–49% of each
/// marked cell marked, 18–36% of the marked pixels apart from the fill by
/// more than 100 in luma, the ink 2.4pt or more from the edge and 1.4pt or
/// more from a stripe, bands of 3–9 px beside the text and 3–4 px above
/// and below it.
#[test]
fn r19_hatching_shows_round_the_text_in_the_narrow_cells_of_a_column_figure() {
    for venue in ["usenix", "acm"] {
        let spec = crate::util::repo().join(format!("specs/485B-{venue}-column.yaml"));
        let cells = marked_cells(&spec, &[]);
        assert_reads(venue, &cells);
    }
}
