//! Issue #18, "the figure must not lie", "every write checked", "paths make
//! can read": each class with the hostile inputs that broke it.

use crate::errors::{Fixture, cell, good, spec_error};

// ------------------------------------------------------ partial state styles

/// r18: `failed: {label: OOM}` dropped the state's fill and dash, so every
/// OOM config was drawn as blank space.
#[test]
fn r18_one_key_of_a_state_keeps_its_other_defaults() {
    let f = Fixture::new();
    good(&f);
    f.write("logs/failed.log", "Config 1: TP=2, PP=1 - FAILED\n");
    f.write(
        "spec.yaml",
        format!(
            "{}cells:\n  failed: {{label: OOM}}\n  invalid: {{text: unusable}}\n",
            crate::errors::SPEC
        ),
    );
    let built = f.build().unwrap();
    let failed = cell(&built, "2", "1");
    assert_eq!(failed.state, memheat::table::CellState::Failed);
    assert_eq!(failed.fill.map(|c| c.0), Some([0xCC, 0xCC, 0xCC]));
    assert_eq!(failed.lines, ["—"]);
    let labels: Vec<&str> = built
        .table
        .legend
        .iter()
        .map(|l| l.label.as_str())
        .collect();
    assert!(labels.contains(&"OOM"), "{labels:?}");
    assert!(!labels.contains(&"Failed (OOM)"), "{labels:?}");
}

// ------------------------------------------------------------------- units

/// r18: `display: MiB` kept the label "GB": every number 1024 times too
/// large under its label.
#[test]
fn r18_the_unit_label_follows_the_display_unit() {
    let f = Fixture::new();
    good(&f);
    f.write(
        "spec.yaml",
        format!("{}units: {{display: MiB}}\n", crate::errors::SPEC),
    );
    let built = f.build().unwrap();
    assert_eq!(
        cell(&built, "1", "1").lines,
        ["Actual: 40960.0MiB", "Theory: 61440.0MiB"]
    );
    let labels: Vec<&str> = built
        .table
        .legend
        .iter()
        .map(|l| l.label.as_str())
        .collect();
    assert!(labels.contains(&"Theory > 80MiB"), "{labels:?}");
}

#[test]
fn r18_a_label_of_another_magnitude_is_an_error() {
    let spec = |units: &str| format!("inputs:\n  traces: traces/*.json\nunits: {units}\n");
    assert_eq!(
        spec_error(&spec("{display: MiB, label: GB}")),
        "error: label `GB` names GB, but the numbers are in MiB (`units.display`)
  ┌─ spec.yaml:3:30
  │
3 │ units: {display: MiB, label: GB}
  │                              ^^
  │
  = hint: remove `label` to print `MiB`, or set `display: GB` to show the numbers in GB

"
    );
    // The default display is GiB: a label in MB contradicts it too.
    assert!(
        spec_error(&spec("{label: 'peak MB/GPU'}"))
            .starts_with("error: label `peak MB/GPU` names MB, but the numbers are in GiB")
    );
    // GB for GiB is the original figure's convention; a label naming no
    // unit is the user's business.
    for fine in [
        "{label: GiB}",
        "{display: GB, label: GiB}",
        "{display: TiB, label: tb}",
        "{label: '%'}",
    ] {
        let f = Fixture::new();
        good(&f);
        f.write(
            "spec.yaml",
            format!("{}units: {fine}\n", crate::errors::SPEC),
        );
        f.build().unwrap_or_else(|e| panic!("{fine}: {}", e.error));
    }
}
