//! Random spec values, hostile ones included, through parse → load → table
//! → compile → export at a small size: never a panic, never output on an
//! error, and the work stays bounded (checked on what was built, not on a
//! clock: page size and cell count within the documented limits). Partial
//! state styles keep the rest of their defaults, odd output names (which
//! the depfile must name) and odd numbers in the traces never make a cell
//! lie; configs beyond what `f64` holds keep their digits, and custom
//! templates (missing, a directory, too large, in an odd path) fail cleanly.

use proptest::prelude::*;

use memheat::Engine;
use memheat::{BuildOptions, MAX_PAGE_PT};

use crate::errors::{Fixture, trace_json};

/// A YAML value for a scalar key: plausible, absurd, or of the wrong kind.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("~".to_string()),
        Just("''".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just(".nan".to_string()),
        Just("-.inf".to_string()),
        Just("1e308".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("-0.0".to_string()),
        Just("5e-324".to_string()),
        Just("1.7976931348623157e308".to_string()),
        Just("0x10".to_string()),
        Just("+.5".to_string()),
        (1u32..2000).prop_map(|n| n.to_string()),
        (1u32..500).prop_map(|n| format!("{n}pt")),
        (1u32..40).prop_map(|n| format!("{n}in")),
        "[a-z#*?{}\\[\\]0-9 _-]{0,12}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
        Just("usenix-column".to_string()),
        Just("viridis".to_string()),
        Just("'#ff0000'".to_string()),
        (0usize..700).prop_map(|n| format!("'{}'", "x".repeat(n))),
    ]
}

/// Values that make sense for a key, so that most specs get as far as
/// Typst; [`scalar`] adds the hostile ones.
fn plausible(key: &str) -> Vec<&'static str> {
    match key {
        "title" | "subtitle" => vec!["'Peak memory'", "'A #_*$@<x> [b]'", "'内存 ✓'"],
        "units.label" => vec!["GiB", "''", "MB", "'%'"],
        // TB in, B out: 1e308 overflows on the way.
        "units.input" => vec!["MiB", "GB", "B", "TB"],
        "units.display" => vec!["GiB", "MiB", "GB", "TiB", "B"],
        "cells.failed.label" => vec!["OOM", "~", "''"],
        "cells.failed.fill" => vec!["'#000000'", "~"],
        "cells.failed.text" => vec!["x", "''"],
        "cells.invalid.label" => vec!["bad", "~"],
        "cells.invalid.fill" => vec!["'#ffff00'"],
        "cells.missing.text" => vec!["'?'"],
        "cells.missing.label" => vec!["none"],
        "cells.missing.fill" => vec!["'#00ff00'", "~"],
        "cells.invalid.text" => vec!["'n/a'", "''"],
        "axes.x.field" => vec!["pp", "tp"],
        "axes.x.values" => vec![
            "4",
            "8",
            "'x'",
            "9007199254740993",
            "'123456789012345678901234567890'",
            "18446744073709551617",
            "1e43",
        ],
        "axes.y.reverse" => vec!["true", "false"],
        "color.map" => vec!["viridis", "reds", "cividis", "['#000000', '#ffffff']"],
        "color.range" => vec!["100", "1000", "0.5"],
        "color.ticks" => vec!["2", "7", "20"],
        "thresholds" => vec!["80", "0", "1e6"],
        "cells.text" => vec!["'{{ tp * pp }}'", "'{{ theory|fixed(3) }}'", "''"],
        "cells.decimals" => vec!["0", "3", "6"],
        "style.font-size" | "style.cell-font-size" => vec!["5pt", "7pt", "12pt"],
        "style.width" => vec![
            "200pt",
            "500pt",
            "usenix-column",
            "acm-text",
            "column",
            "text",
        ],
        "style.venue" => vec!["usenix", "acm", "ieee"],
        "style.min-font-size" => vec!["4pt", "5pt", "6pt"],
        "cells.form" => vec!["full", "compact"],
        "fonts.paths" => vec!["traces", "missing"],
        "style.height" => vec!["100pt", "300pt"],
        "style.aspect" => vec!["0.3", "1"],
        "style.gap" => vec!["0.5pt", "4pt"],
        "output.formats" => vec!["png", "svg", "typ"],
        "output.pdf-version" => vec!["1.5", "1.7", "2.0"],
        "inputs.rank" => vec!["'0'", "'7'"],
        "inputs.theory" => vec!["theoretical_memory_MB", "peak_allocated_MB"],
        "template" => vec![
            "small.typ.j2",
            "missing.typ.j2",
            "traces",
            "huge.typ.j2",
            "'a b/t.typ.j2'",
        ],
        _ => vec!["1"],
    }
}

/// A key path and a value; several make a spec.
fn entry() -> impl Strategy<Value = (&'static str, String)> {
    let keys = prop::sample::select(vec![
        "title",
        "subtitle",
        "units.label",
        "units.input",
        "units.display",
        "cells.failed.label",
        "cells.failed.fill",
        "cells.failed.text",
        "cells.invalid.label",
        "cells.invalid.fill",
        "cells.missing.text",
        "cells.missing.label",
        "cells.missing.fill",
        "cells.invalid.text",
        "axes.x.field",
        "axes.x.values",
        "axes.y.reverse",
        "color.map",
        "color.range",
        "color.ticks",
        "thresholds",
        "cells.text",
        "cells.decimals",
        "style.font-size",
        "style.cell-font-size",
        "style.width",
        "style.venue",
        "style.min-font-size",
        "cells.form",
        "fonts.paths",
        "style.height",
        "style.aspect",
        "style.gap",
        "output.formats",
        "output.pdf-version",
        "inputs.rank",
        "inputs.theory",
        "template",
    ]);
    keys.prop_flat_map(|key| {
        let value = prop_oneof![
            3 => prop::sample::select(plausible(key)).prop_map(str::to_string),
            1 => scalar(),
        ];
        (Just(key), value)
    })
}

/// Shapes for the keys that take lists or mappings, built from scalars.
fn value_for(key: &str, scalar: &str) -> String {
    match key {
        "axes.x.values" => format!("[1, {scalar}, 2]"),
        "color.range" => format!("[0, {scalar}]"),
        "thresholds" => format!("[{{metric: theory, above: {scalar}}}]"),
        "cells.text" => format!("['{{{{ actual|amount }}}}', {scalar}]"),
        "output.formats" => format!("[pdf, {scalar}]"),
        "fonts.paths" => format!("[{scalar}]"),
        _ => scalar.to_string(),
    }
}

/// A config value for a trace's name: digits `f64` cannot hold, or spell
/// another way.
fn odd_config() -> impl Strategy<Value = String> {
    prop_oneof![
        (3u64..100).prop_map(|n| n.to_string()),
        prop::sample::select(vec![
            "08",
            "9007199254740992",
            "9007199254740993",
            "10000000000000000001",
            "123456789012345678901234567890",
        ])
        .prop_map(str::to_string),
    ]
}

/// Output bases with names a shell, make or a filesystem treat specially.
fn odd_base() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "fig",
        "fig.PDF",
        "fig.Svg",
        "a b",
        "tp=4,pp=8",
        "x;y",
        "(b)",
        "lib(m)",
        "a\\",
        "ü",
        "fig.",
        ".",
        "..",
        "a*b",
        "~home",
        "a#b",
        "a:b",
        "a%b",
        "a$b",
        "a|b",
        "-",
        "a\tb",
        "a\nb",
    ])
    .prop_map(|name| name.replace("\\t", "\t").replace("\\n", "\n"))
}

/// A number as a tracer (or a broken one) might write it.
fn odd_number() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..200_000).prop_map(|n| format!("{n}.0")),
        prop::sample::select(vec![
            "0",
            "-0.0",
            "-1",
            "5e-324",
            "1e308",
            "1.7976931348623157e308",
            "1e309",
            "NaN",
            "Infinity",
            "-Infinity",
            "123456789012345678901234567890",
            "0.1e1",
            "1E2",
            "1e-400",
            "-1e308",
            "9007199254740993",
        ])
        .prop_map(str::to_string),
    ]
}

fn spec(entries: &[(&str, String)]) -> String {
    let mut tree: std::collections::BTreeMap<&str, Vec<(String, String)>> = Default::default();
    let mut top = String::new();
    for (key, value) in entries {
        let value = value_for(key, value);
        match key.split_once('.') {
            Some((head, rest)) => tree
                .entry(head)
                .or_default()
                .push((rest.to_string(), value)),
            None => top.push_str(&format!("{key}: {value}\n")),
        }
    }
    let mut yaml = top;
    for (head, items) in tree {
        yaml.push_str(&format!("{head}:\n"));
        if head == "inputs" {
            yaml.push_str("  traces: traces/*.json\n  logs: {failure: logs/failed.log}\n");
        }
        let mut seen = std::collections::BTreeSet::new();
        // `cells.failed.label` and `cells.failed.fill` share one mapping.
        let mut nested: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (rest, value) in items {
            // A nested key written twice would only test serde's duplicate check.
            if !seen.insert(rest.clone()) {
                continue;
            }
            match rest.split_once('.') {
                Some((mid, leaf)) => nested
                    .entry(mid.to_string())
                    .or_default()
                    .push(format!("{leaf}: {value}")),
                None => yaml.push_str(&format!("  {rest}: {value}\n")),
            }
        }
        for (mid, leaves) in nested {
            yaml.push_str(&format!("  {mid}: {{{}}}\n", leaves.join(", ")));
        }
    }
    if !yaml.contains("inputs:") {
        yaml.push_str("inputs:\n  traces: traces/*.json\n  logs: {failure: logs/failed.log}\n");
    }
    yaml
}

proptest! {
    // MEMHEAT_FUZZ_CASES=5000 for a longer search.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("MEMHEAT_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_specs_never_panic_and_fail_without_output(
        entries in prop::collection::vec(entry(), 1..6),
        base in odd_base(),
        numbers in prop::collection::vec(odd_number(), 4),
        config in odd_config(),
    ) {
        let f = Fixture::new();
        f.write(
            &format!("traces/memory_trace_rank0_wd8_tp{config}_pp1_dp1_exp1_expNumNone_l2_mbs1_nmbs1_gbs8_ts1.json"),
            trace_json("40960.0", "61440.0"),
        );
        f.write("small.typ.j2", "#set page(width: 100pt, height: 40pt)\n{{ table.title|typ }}\n");
        f.write("huge.typ.j2", "/".repeat((1 << 20) + 1));
        f.write("a b/t.typ.j2", "#set page(width: 100pt, height: 40pt)\nx\n");
        f.trace(1, 1, 1, &trace_json(&numbers[0], &numbers[1]));
        f.trace(2, 4, 1, &trace_json(&numbers[2], &numbers[3]));
        f.trace(2, 2, 1, &trace_json("40960.0", "61440.0"));
        // TP=2, PP=1 is failed: its style is checked below.
        f.write("logs/failed.log", "Config 1: TP=2, PP=1 - FAILED\n");
        let text = spec(&entries);
        f.write("spec.yaml", &text);
        let options = BuildOptions {
            output: Some(f.path(&format!("out/{base}"))),
            dpi: Some(20),
            strict: false,
            depfile: Some("fig.d".into()),
            ..BuildOptions::default()
        };
        let text = format!("{text}-o out/{base:?}, traces {numbers:?}, tp {config}");
        match memheat::build(&f.path("spec.yaml"), &options, &Engine::default()) {
            Ok(built) => {
                // Keys of a state not written keep their defaults.
                let written = |key: &str| entries.iter().any(|(k, _)| *k == key);
                let failed = crate::errors::cell(&built, "2", "1");
                prop_assert_eq!(failed.state, memheat::CellState::Failed, "{}", text);
                if !written("cells.failed.fill") {
                    prop_assert_eq!(failed.fill.map(|c| c.0), Some([0xCC; 3]), "{}", text);
                }
                if !written("cells.failed.text") {
                    prop_assert_eq!(&failed.lines, &["—".to_string()], "{}", text);
                }
                // A measured cell shows a finite number, never a made-up one.
                for cell in built.table.rows.iter().flatten() {
                    if cell.state == memheat::CellState::Measured {
                        prop_assert!(cell.actual.is_some_and(f64::is_finite), "{text}");
                    }
                }
                // Configs keep their digits: none merges with another or
                // prints as another number.
                if !written("axes.x.values") && !written("axes.x.field") {
                    let mut tps = built.table.y.labels.clone();
                    tps.sort();
                    let mut expected = vec![
                        "1".to_string(),
                        "2".to_string(),
                        config.trim_start_matches('0').to_string(),
                    ];
                    expected.sort();
                    prop_assert_eq!(tps, expected, "{}", text);
                }
                prop_assert!(built.geometry.page_width <= MAX_PAGE_PT, "{text}");
                prop_assert!(built.geometry.page_height <= MAX_PAGE_PT, "{text}");
                // The documented cell limit (MAX_CELLS).
                prop_assert!(built.table.rows.len() * built.table.x.labels.len() <= 4096);
                prop_assert!(!built.written.is_empty());
                // No cell text below the minimum (other sizes are checked in the spec).
                let layout = &built.table.layout;
                prop_assert!(
                    built.geometry.text_scale * layout.cell_font_size >= layout.min_font_size - 1e-6,
                    "{text}"
                );
            }
            Err(failed) => {
                prop_assert!(!f.path("out").exists(), "{text}\nfailed with {failed} but wrote output");
                prop_assert!(!failed.to_string().is_empty());
            }
        }
    }
}
