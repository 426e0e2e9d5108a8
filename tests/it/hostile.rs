//! Issue #18, second round: numbers beyond what `f64` holds, and bounded
//! work in custom templates, font files and traces, each with the hostile
//! inputs that broke it.

use crate::errors::{Fixture, SPEC, cell, good, trace_json};
use memheat::table::CellState;

// ----------------------------------------------------------------- numbers

/// A trace named for a config `tp`, any digits.
fn trace_for(f: &Fixture, tp: &str, json: &str) {
    f.write(
        &format!("traces/memory_trace_rank0_wd8_tp{tp}_pp1_dp1_exp1_expNumNone_l2_mbs1_nmbs1_gbs8_ts1.json"),
        json,
    );
}

/// r18: axis values above 2^53 went through `f64`: `9007199254740993`
/// merged with `9007199254740992` (one cell, "2 traces") and printed as it,
/// and `10000000000000000001` sorted with `9999999999999999999` by name.
#[test]
fn r18_integers_beyond_f64_stay_exact() {
    let f = Fixture::new();
    let big = [
        "10000000000000000001",
        "9007199254740993",
        "9999999999999999999",
        "9007199254740992",
    ];
    for tp in big {
        trace_for(&f, tp, &trace_json("40960.0", "61440.0"));
    }
    f.write(
        "spec.yaml",
        format!("{SPEC}cells:\n  text: [\"{{{{ tp }}}}\"]\n"),
    );
    let built = f.build().unwrap();
    assert_eq!(
        built.table.y.labels,
        [
            "9007199254740992",
            "9007199254740993",
            "9999999999999999999",
            "10000000000000000001"
        ]
    );
    for tp in big {
        assert_eq!(
            cell(&built, tp, "1").lines,
            [tp],
            "the cell text prints it as written"
        );
    }
    // Listed in the spec, unquoted: YAML keeps 64-bit integers exactly.
    f.write(
        "spec.yaml",
        format!("{SPEC}axes:\n  y: {{values: [9007199254740993, 9999999999999999999]}}\n"),
    );
    let built = f.build().unwrap();
    assert_eq!(
        built.table.y.labels,
        ["9007199254740993", "9999999999999999999"]
    );
    assert_eq!(
        cell(&built, "9007199254740993", "1").state,
        CellState::Measured
    );
}

/// r18: beyond 64 bits YAML has only the nearest `f64` (or nothing), so a
/// listed value is refused at its line, with the fix.
#[test]
fn r18_integers_yaml_cannot_hold_are_refused_by_name() {
    let f = Fixture::new();
    good(&f);
    f.write(
        "spec.yaml",
        format!(
            "{SPEC}axes:\n  y: {{values: [1, 10000000000000000000000000000000000000000001]}}\n"
        ),
    );
    let (code, _, stderr) = f.run(&["spec.yaml", "--diagnostic-format", "short"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "spec.yaml:6:15: error: axes.y.values: the number 1e43 is too large for YAML to keep exactly (it reads integers beyond 64 bits as the nearest floating-point number); quote it, as in '123456789012345678901234', to keep its digits\n"
    );
    f.write(
        "spec.yaml",
        format!("{SPEC}axes:\n  y: {{values: [18446744073709551617]}}\n"),
    );
    let (code, _, stderr) = f.run(&["spec.yaml", "--diagnostic-format", "json"]);
    assert_eq!(code, 1);
    let error: serde_json::Value = serde_json::from_str(&stderr).unwrap();
    assert_eq!(
        (&error["line"], &error["column"], &error["message"]),
        (
            &6.into(),
            &16.into(),
            &"axes.y.values[0]: invalid type: integer `18446744073709551617` as u128, expected any YAML value".into()
        )
    );
    assert_eq!(
        error["hints"][0],
        "numbers in a spec are at most 64 bits; quote a larger one (`'123456789012345678901234'`) to keep its digits as text"
    );
    // Quoted, it is a config like any other.
    trace_for(
        &f,
        "18446744073709551617",
        &trace_json("40960.0", "61440.0"),
    );
    f.write(
        "spec.yaml",
        format!("{SPEC}axes:\n  y: {{values: ['18446744073709551617']}}\n"),
    );
    let built = f.build().unwrap();
    assert_eq!(
        cell(&built, "18446744073709551617", "1").state,
        CellState::Measured
    );
}

/// r18: a finite value that overflows when converted (`1e308` MB in bytes)
/// failed the whole build with "this is a memheat bug" (`inf` has no Typst
/// literal). It is that cell's problem, like any implausible value.
#[test]
fn r18_a_value_that_overflows_its_unit_is_a_cell_warning() {
    let f = Fixture::new();
    good(&f);
    f.trace(2, 1, 1, &trace_json("1e308", "61440.0"));
    f.trace(1, 2, 1, &trace_json("40960.0", "1.7e308"));
    f.write(
        "spec.yaml",
        format!(
            "{SPEC}units: {{input: MB, display: B}}\ncolor: {{range: [0, 1e11]}}\nthresholds: []\n"
        ),
    );
    let built = f.build().unwrap();
    let over = cell(&built, "2", "1");
    assert_eq!(
        (over.state, over.reason.as_deref()),
        (CellState::Invalid, Some("too large for the display unit"))
    );
    let theory = cell(&built, "1", "2");
    assert_eq!((theory.state, theory.theory), (CellState::Measured, None));
    let warnings: Vec<String> = built.warnings.iter().map(ToString::to_string).collect();
    let name = |tp, pp| format!("traces/{}", Fixture::trace_name(tp, pp, 1));
    for (tp, pp, expected) in [
        (
            2,
            1,
            "actual value 1e308 MB is too large for the display unit (B); the cell shows no data",
        ),
        (
            1,
            2,
            "theoretical value 1.7e308 MB is too large for the display unit (B); theory shows n/a and marks no threshold",
        ),
    ] {
        assert!(
            warnings
                .iter()
                .any(|w| w.ends_with(&format!("{}: {expected}", name(tp, pp)))),
            "{warnings:?}"
        );
    }
    assert!(f.path("out/fig.pdf").exists());
}
