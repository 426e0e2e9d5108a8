//! Random spec values, hostile ones included, through parse → load → table
//! → compile → export at a small size: never a panic, never output on an
//! error, and the work stays bounded (checked on what was built, not on a
//! clock: page size and cell count within the documented limits).

use proptest::prelude::*;

use memheat::compile::Engine;
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
        "units.label" => vec!["GiB", "''"],
        "units.input" => vec!["MiB", "GB", "B"],
        "axes.x.field" => vec!["pp", "tp"],
        "axes.x.values" => vec!["4", "8", "'x'"],
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
            yaml.push_str("  traces: traces/*.json\n");
        }
        let mut seen = std::collections::BTreeSet::new();
        for (rest, value) in items {
            // A nested key written twice would only test serde's duplicate check.
            if !seen.insert(rest.clone()) {
                continue;
            }
            match rest.split_once('.') {
                Some((mid, leaf)) => yaml.push_str(&format!("  {mid}: {{{leaf}: {value}}}\n")),
                None => yaml.push_str(&format!("  {rest}: {value}\n")),
            }
        }
    }
    if !yaml.contains("inputs:") {
        yaml.push_str("inputs:\n  traces: traces/*.json\n");
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
    fn random_specs_never_panic_and_fail_without_output(entries in prop::collection::vec(entry(), 1..6)) {
        let f = Fixture::new();
        f.trace(1, 1, 1, &trace_json("40960.0", "61440.0"));
        f.trace(2, 4, 1, &trace_json("90000.0", "99999.0"));
        let text = spec(&entries);
        f.write("spec.yaml", &text);
        let options = BuildOptions {
            output: Some(f.path("out/fig")),
            dpi: Some(20),
            strict: false,
            ..BuildOptions::default()
        };
        match memheat::build(&f.path("spec.yaml"), &options, &Engine::default()) {
            Ok(built) => {
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
