//! Bad input: spec errors point at the YAML, data problems are warnings and
//! the figure shows the truth, outputs are never half-written.

use std::path::{Path, PathBuf};

use memheat::CellState;
use memheat::Engine;
use memheat::{BuildOptions, Built, Failed};

use crate::util::pdf_text;

/// A sweep directory built by a test: `traces/`, `logs/`, `spec.yaml`.
pub struct Fixture {
    dir: tempfile::TempDir,
}

pub const SPEC: &str = "inputs:
  traces: traces/*.json
  logs: {success: logs/ok.log, failure: logs/failed.log}
output: {path: out/fig, dpi: 40}
";

/// What a build says when no input records how runs ended (#17).
pub const NO_OUTCOMES: &str = "no input says how runs ended (no `inputs.logs`, no training log, no status column), so configs that ran out of memory cannot be shown; add `inputs.logs`, or read the runs' training logs";

/// A trace whose samples come first, as a real tracer writes them.
pub fn trace_json(actual_mib: &str, theory_mib: &str) -> String {
    format!(
        r#"{{"0": {{"samples": [{{"timestamp_s": 0.1, "reserved_memory_MB": 100.0, "allocated_memory_MB": 80.0}}], "peak_allocated_MB": {actual_mib}, "theoretical_memory_MB": {theory_mib}}}}}"#
    )
}

impl Fixture {
    pub fn new() -> Fixture {
        let f = Fixture {
            dir: tempfile::tempdir().unwrap(),
        };
        f.write("logs/ok.log", "");
        f.write("logs/failed.log", "");
        f.write("spec.yaml", SPEC);
        f
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        self
    }

    pub fn trace_name(tp: u32, pp: u32, ts: u32) -> String {
        format!(
            "memory_trace_rank0_wd8_tp{tp}_pp{pp}_dp1_exp1_expNumNone_l2_mbs1_nmbs1_gbs8_ts{ts}.json"
        )
    }

    pub fn trace(&self, tp: u32, pp: u32, ts: u32, json: &str) -> &Self {
        self.write(&format!("traces/{}", Self::trace_name(tp, pp, ts)), json)
    }

    /// Builds in-process: the model, the warnings as printed.
    pub fn build(&self) -> Result<Built, Box<Failed>> {
        memheat::build(
            &self.path("spec.yaml"),
            &BuildOptions::default(),
            &Engine::default(),
        )
    }

    /// Runs `memheat build ARGS` in the fixture's directory: (exit code,
    /// stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut all = vec!["build"];
        all.extend_from_slice(args);
        crate::util::run_in(self.dir.path(), &all)
    }
}

fn warnings(built: &Built) -> Vec<String> {
    built.warnings.iter().map(ToString::to_string).collect()
}

/// The cell at TP (row label) and PP (column label).
pub fn cell(built: &Built, tp: &str, pp: &str) -> memheat::Cell {
    let row = built.table.y.labels.iter().position(|l| l == tp).unwrap();
    let col = built.table.x.labels.iter().position(|l| l == pp).unwrap();
    built.table.rows[row][col].clone()
}

pub fn good(f: &Fixture) {
    f.trace(1, 1, 1, &trace_json("40960.0", "61440.0"));
}

// ---------------------------------------------------------------- spec errors

/// [`spec_error`] for messages whose tail (a long hint) is checked apart.
fn spec_error_starting(spec: &str, head: &str) -> String {
    let stderr = spec_error(spec);
    assert!(
        stderr.starts_with(head),
        "expected to start with:\n{head}\ngot:\n{stderr}"
    );
    stderr
}

/// Writes `spec` into a fixture with one good trace, runs it, expects exit 1.
pub fn spec_error(spec: &str) -> String {
    spec_error_in("spec.yaml", spec)
}

/// [`spec_error`], with the spec in the file `name`.
pub fn spec_error_in(name: &str, spec: &str) -> String {
    let f = Fixture::new();
    good(&f);
    f.write(name, spec);
    let (code, stdout, stderr) = f.run(&[name]);
    assert_eq!((code, stdout.as_str()), (1, ""), "{stderr}");
    assert!(!f.path("out").exists(), "nothing is written on error");
    stderr
}

#[test]
fn out_of_range_dpi_and_size() {
    spec_error_starting(
        "inputs:\n  traces: traces/*.json\noutput:\n  dpi: 5\n",
        "error: DPI 5 is out of range\n  ┌─ spec.yaml:4:8\n",
    );
    spec_error_starting(
        "inputs:\n  traces: traces/*.json\nstyle:\n  width: 0.1in\n",
        "error: width 7.2pt is out of range\n  ┌─ spec.yaml:4:10\n",
    );
    spec_error_starting(
        "inputs:\n  traces: traces/*.json\nstyle:\n  width: 3\n",
        "error: style: length `3` has no unit: write e.g. `3pt`",
    );
    let f = Fixture::new();
    let (code, _, stderr) = f.run(&["spec.yaml", "--dpi", "5"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: invalid value '5' for '--dpi <N>': 5 is not in 10..=2400"),
        "{stderr}"
    );
}

#[test]
fn unreadable_spec() {
    let f = Fixture::new();
    let (code, _, stderr) = f.run(&["nope.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "error: cannot read spec `nope.yaml`: No such file or directory (os error 2)\n"
    );
}

// -------------------------------------------------------------- data problems

#[test]
fn truncated_json_gives_position_and_a_no_data_cell() {
    let f = Fixture::new();
    good(&f);
    let json = trace_json("1024.0", "2048.0");
    f.trace(1, 2, 1, &json[..40]);
    let built = f.build().unwrap();
    assert_eq!(
        warnings(&built),
        [format!(
            "{}: malformed JSON: line 1 column 41 (byte 40): unexpected end of file inside `0.samples`; the cell shows no data",
            f.path("traces")
                .join(Fixture::trace_name(1, 2, 1))
                .display()
        )]
    );
    let c = cell(&built, "1", "2");
    assert_eq!(
        (c.state, c.fill, c.lines.clone()),
        (CellState::Invalid, None, vec!["no data".to_string()])
    );
    let text = pdf_text(&f.path("out/fig.pdf"));
    assert!(
        text.contains("no data") && text.contains("No usable trace"),
        "{text}"
    );
}

#[test]
fn python_non_finite_tokens_are_named() {
    let f = Fixture::new();
    good(&f);
    f.trace(2, 1, 1, &trace_json("1024.0", "NaN"));
    f.trace(2, 2, 1, &trace_json("Infinity", "2048.0"));
    f.trace(2, 4, 1, &trace_json("1024.0", "-Infinity"));
    let built = f.build().unwrap();
    let name = |pp| Fixture::trace_name(2, pp, 1);
    assert_eq!(
        warnings(&built),
        [
            format!(
                "{}: theoretical field `theoretical_memory_MB` is `NaN`; theory shows n/a and marks no threshold",
                f.path("traces").join(name(1)).display()
            ),
            format!(
                "{}: actual field `peak_allocated_MB` is `Infinity`; the cell shows no data",
                f.path("traces").join(name(2)).display()
            ),
            format!(
                "{}: theoretical field `theoretical_memory_MB` is `-Infinity`; theory shows n/a and marks no threshold",
                f.path("traces").join(name(4)).display()
            ),
        ]
    );
    let nan = cell(&built, "2", "1");
    assert_eq!(nan.lines, ["Actual: 1.0GB", "Theory: n/a"]);
    assert!(nan.marks.is_empty());
    assert_eq!(cell(&built, "2", "2").state, CellState::Invalid);
    let text = pdf_text(&f.path("out/fig.pdf"));
    assert!(text.contains("Theory: n/a"), "{text}");
}

#[test]
fn empty_payload_other_rank_and_missing_theory() {
    let f = Fixture::new();
    good(&f);
    f.trace(1, 2, 1, "{}");
    f.trace(
        1,
        4,
        1,
        r#"{"7": {"peak_allocated_MB": 2048.0, "theoretical_memory_MB": 4096.0}}"#,
    );
    f.trace(
        1,
        8,
        1,
        r#"{"0": {"samples": [], "peak_allocated_MB": 3072.0}}"#,
    );
    f.trace(
        1,
        16,
        1,
        r#"{"1": {"peak_allocated_MB": 1.0}, "2": {"peak_allocated_MB": 1.0}}"#,
    );
    let built = f.build().unwrap();
    let p = |pp| {
        f.path("traces")
            .join(Fixture::trace_name(1, pp, 1))
            .display()
            .to_string()
    };
    assert_eq!(
        warnings(&built),
        [
            format!(
                "{}: no rank `0` (it has `1`, `2`); set `inputs.rank`; the cell shows no data",
                p(16)
            ),
            format!(
                "{}: the trace is empty (`{{}}`); the cell shows no data",
                p(2)
            ),
            format!("{}: no rank `0`; using its only rank `7`", p(4)),
            format!(
                "{}: theoretical field `theoretical_memory_MB` is missing; theory shows n/a and marks no threshold",
                p(8)
            ),
        ]
    );
    assert_eq!(cell(&built, "1", "2").state, CellState::Invalid);
    assert_eq!(
        cell(&built, "1", "4").lines,
        ["Actual: 2.0GB", "Theory: 4.0GB"]
    );
    assert_eq!(
        cell(&built, "1", "8").lines,
        ["Actual: 3.0GB", "Theory: n/a"]
    );
    assert_eq!(cell(&built, "1", "16").state, CellState::Invalid);
}

#[test]
fn implausible_values_are_shown_clipped_and_warned() {
    let f = Fixture::new();
    f.trace(1, 1, 1, &trace_json("0.0", "10.0"));
    f.trace(1, 2, 1, &trace_json("-5.0", "10.0"));
    f.trace(1, 4, 1, &trace_json("83886080.0", "10.0"));
    let built = f.build().unwrap();
    let p = |pp| {
        f.path("traces")
            .join(Fixture::trace_name(1, pp, 1))
            .display()
            .to_string()
    };
    assert_eq!(
        warnings(&built),
        [
            format!("{}: actual value 0GB is not positive", p(1)),
            format!("{}: actual value -0.005GB is not positive", p(2)),
            format!(
                "{}: actual value 81920GB is implausibly large; check `units.input`",
                p(4)
            ),
        ]
    );
    let absurd = cell(&built, "1", "4");
    assert_eq!(absurd.lines[0], "Actual: 81920.0GB");
    assert_eq!(absurd.fill.unwrap().hex(), "#99000d");
}

#[test]
fn reruns_pick_the_newest_timestamp_as_a_number() {
    let f = Fixture::new();
    f.trace(1, 1, 900, &trace_json("1024.0", "1024.0"));
    f.trace(1, 1, 1000, &trace_json("2048.0", "2048.0"));
    let built = f.build().unwrap();
    let p = |ts| {
        f.path("traces")
            .join(Fixture::trace_name(1, 1, ts))
            .display()
            .to_string()
    };
    assert_eq!(
        warnings(&built),
        [format!(
            "{}: config tp=1, pp=1 has 2 traces; using this one (largest `ts` = 1000), ignoring {}",
            p(1000),
            p(900)
        )]
    );
    assert_eq!(cell(&built, "1", "1").actual, Some(2.0));
}

#[test]
fn failure_log_wins_over_success_log_and_partial_traces() {
    let f = Fixture::new();
    good(&f);
    f.trace(2, 2, 1, &trace_json("90000.0", "99999.0"));
    f.write(
        "logs/ok.log",
        "Config 1: TP=1, PP=1 - SUCCESS\nConfig 2: TP=2, PP=4 - SUCCESS\n",
    );
    f.write(
        "logs/failed.log",
        "Config 2: TP=2, PP=4 - FAILED\nConfig 3: TP=2, PP=2 - FAILED\n",
    );
    let built = f.build().unwrap();
    assert_eq!(
        warnings(&built),
        [
            format!(
                "{}:1: config tp=2, pp=4 is also listed as succeeded at {}:2; shown as failed",
                f.path("logs/failed.log").display(),
                f.path("logs/ok.log").display()
            ),
            format!(
                "{}: trace of a run that {}:2 lists as failed (written before the OOM?); shown as failed",
                f.path("traces")
                    .join(Fixture::trace_name(2, 2, 1))
                    .display(),
                f.path("logs/failed.log").display()
            ),
        ]
    );
    assert_eq!(cell(&built, "2", "4").state, CellState::Failed);
    assert_eq!(cell(&built, "2", "2").state, CellState::Failed);
    assert_eq!(cell(&built, "1", "1").state, CellState::Measured);
}

/// r8: a config that failed and was re-run successfully is measured,
/// ordered by the `Config N` number the default log pattern captures.
#[test]
fn r8_a_later_successful_rerun_is_shown_as_measured() {
    let f = Fixture::new();
    good(&f);
    f.trace(2, 4, 7, &trace_json("51200.0", "61440.0"));
    f.write("logs/failed.log", "Config 3: TP=2, PP=4 - FAILED\n");
    f.write(
        "logs/ok.log",
        "Config 1: TP=1, PP=1 - SUCCESS\nConfig 9: TP=2, PP=4 - SUCCESS\n",
    );
    let built = f.build().unwrap();
    assert_eq!(
        warnings(&built),
        [format!(
            "{}:2: config tp=2, pp=4 failed at {}:1 and succeeded here (`seq` 9 is after 3); shown as succeeded",
            f.path("logs/ok.log").display(),
            f.path("logs/failed.log").display()
        )]
    );
    let rerun = cell(&built, "2", "4");
    assert_eq!(rerun.state, CellState::Measured);
    assert_eq!(rerun.actual, Some(50.0));
    // The order turned around: the failure is the later entry.
    f.write("logs/failed.log", "Config 12: TP=2, PP=4 - FAILED\n");
    let built = f.build().unwrap();
    assert_eq!(cell(&built, "2", "4").state, CellState::Failed);
}

/// r8: a threshold on a field no trace has marked nothing, silently.
#[test]
fn r8_unknown_threshold_metric_lists_the_fields() {
    let stderr = spec_error(
        "inputs:\n  traces: traces/*.json\nthresholds:\n  - metric: peak_allocated_mb\n    above: 1\n",
    );
    assert_eq!(
        stderr,
        format!("warning: spec.yaml: {NO_OUTCOMES}
error: unknown metric `peak_allocated_mb`: no trace has that field
  ┌─ spec.yaml:4:13
  │
4 │   - metric: peak_allocated_mb
  │             ^^^^^^^^^^^^^^^^^
  │
  = hint: did you mean `peak_allocated_MB`? use one of: actual, peak_allocated_MB, ratio, theoretical_memory_MB, theory

")
    );
}

/// #9: `color.metric` is checked against the fields found, as thresholds are.
#[test]
fn unknown_colour_metric_suggests_the_closest_field() {
    assert_eq!(
        spec_error("inputs:\n  traces: traces/*.json\ncolor:\n  metric: ratoi\n"),
        format!("warning: spec.yaml: {NO_OUTCOMES}
error: unknown metric `ratoi`: no trace has that field
  ┌─ spec.yaml:4:11
  │
4 │   metric: ratoi
  │           ^^^^^
  │
  = hint: did you mean `ratio`? use one of: actual, peak_allocated_MB, ratio, theoretical_memory_MB, theory

")
    );
}

/// r8: non-finite numbers, duplicate axis values and oversized specs are
/// spec errors at their line.
#[test]
fn r8_spec_values_with_no_sensible_meaning_are_errors() {
    let head = |spec: &str, expected: &str| {
        spec_error_starting(spec, expected);
    };
    head(
        "inputs:\n  traces: traces/*.json\nthresholds:\n  - metric: theory\n    above: -.inf\n",
        "error: threshold `> -inf` is not a finite number\n  ┌─ spec.yaml:5:12\n",
    );
    head(
        "inputs:\n  traces: traces/*.json\naxes:\n  x:\n    values:\n      - 2\n      - 02\n",
        "error: axis value `02` is listed twice\n  ┌─ spec.yaml:7:7\n",
    );
    head(
        "inputs:\n  traces: traces/*.json\ncolor:\n  range: [-1e308, 1e308]\n",
        "error: colour range [-1e308, 1e308] is empty or not finite\n",
    );
    head(
        "inputs:\n  traces: traces/*.json\nstyle:\n  gap: 100in\n",
        "error: gap 7200.0pt is out of range\n  ┌─ spec.yaml:4:8\n",
    );
    head(
        &format!(
            "inputs:\n  traces: traces/*.json\ntitle: '{}'\n",
            "x".repeat(501)
        ),
        "error: text of 501 characters is too long\n",
    );
}

/// r8: work a spec asks for is bounded: template loops run out of fuel,
/// PNGs have a pixel cap.
#[test]
fn r8_endless_templates_and_huge_pngs_are_errors() {
    spec_error_starting(
        "inputs:\n  traces: traces/*.json\n  logs: {failure: logs/failed.log}\ncells:\n  text:\n    - '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}'\n",
        "error: cell text template: engine ran out of fuel\n  ┌─ spec.yaml:6:5\n",
    );
    let stderr = spec_error(
        "inputs:\n  traces: traces/*.json\n  logs: {failure: logs/failed.log}\nstyle: {width: 1440pt, aspect: 0.5}\noutput: {path: out/fig, formats: [png], dpi: 2400}\n",
    );
    assert_eq!(
        stderr,
        "error: the PNG would have 1152 megapixels at 2400 DPI, more than 200 allowed\n  = hint: lower `output.dpi` or --dpi; 300 is print quality\n"
    );
}

/// r8: a file name with terminal control characters is printed escaped.
#[test]
fn r8_control_characters_in_file_names_are_escaped() {
    let f = Fixture::new();
    good(&f);
    f.write("traces/evil\x1b[2J\x07.json", "{}");
    let (code, _, stderr) = f.run(&["spec.yaml"]);
    assert_eq!(code, 0);
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\x07'),
        "{stderr:?}"
    );
    assert!(
        stderr.contains("warning: traces/evil\\u{1b}[2J\\u{7}.json: file name does not match"),
        "{stderr}"
    );
}

/// r8: `ln -s . traces/self` made `traces/**/*.json` walk (and grow)
/// without end; now the loop is named and each trace read once.
#[cfg(unix)]
#[test]
fn r8_a_symlink_loop_under_a_double_star_glob_ends() {
    let f = Fixture::new();
    good(&f);
    std::os::unix::fs::symlink(f.path("traces"), f.path("traces/self")).unwrap();
    f.write(
        "spec.yaml",
        "inputs: {traces: 'traces/**/*.json'}\noutput: {path: out/fig, formats: [pdf]}\n",
    );
    let (code, _, stderr) = f.run(&["spec.yaml"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "warning: spec.yaml: {NO_OUTCOMES}\nwarning: traces/self: is a symlink back to `traces`, which is being listed; not followed\n"
        )
    );
}

/// r8: YAML null became the text "~" (`67.0~`, a field named "null"), and
/// a wrong shape named serde's internal enums (`OneOrManyRaw`).
#[test]
fn r8_null_and_wrong_shapes_say_what_the_key_takes() {
    let null =
        "null (`~`) is not a value for this key: write one, or remove the key to get its default";
    spec_error_starting(
        "inputs:\n  traces: traces/*.json\nunits:\n  label: ~\n",
        &format!("error: units: {null}\n  ┌─ spec.yaml:4:10\n"),
    );
    spec_error_starting(
        "inputs:\n  traces: traces/*.json\n  theory: ~\n",
        &format!("error: inputs: {null}\n  ┌─ spec.yaml:3:11\n"),
    );
    spec_error_starting(
        "inputs:\n  traces: traces/*.json\ncells:\n  text:\n    - ~\n",
        "error: cells: item 1 is null (`~`); write a text, or `\"\"` for none\n",
    );
    spec_error_starting(
        "inputs:\n  traces: {a: 1}\n",
        "error: inputs: expected a glob, or a list of globs\n",
    );
    spec_error_starting(
        "inputs:\n  traces: traces/*.json\ncolor:\n  map: {a: 1}\n",
        "error: color: expected a colour map name, or a list of colours\n",
    );
}

/// r8: errors in flow style (`{dpi: 0}`) lost their line and snippet;
/// values get "did you mean" as keys do; `.nan` is not hinted as `NaNpt`.
#[test]
fn r8_flow_style_errors_point_at_the_value() {
    assert_eq!(
        spec_error("inputs: {traces: traces/*.json}\noutput: {path: out/fig, dpi: 0}\n"),
        "error: DPI 0 is out of range
  ┌─ spec.yaml:2:30
  │
2 │ output: {path: out/fig, dpi: 0}
  │                              ^
  │
  = hint: use 10 to 2400 (300 for print, 600 for line art)

"
    );
    spec_error_starting(
        "inputs: {traces: traces/*.json}\ncolor: {map: redz}\n",
        "error: unknown colour map `redz`\n  ┌─ spec.yaml:2:14\n",
    );
    assert!(
        spec_error("inputs: {traces: traces/*.json}\ncolor: {map: redz}\n")
            .contains("= hint: did you mean `reds`?"),
    );
    spec_error_starting(
        "inputs: {traces: traces/*.json}\noutput: {formats: [pdf, png, pdf]}\n",
        "error: `pdf` is listed twice\n  ┌─ spec.yaml:2:30\n",
    );
    spec_error_starting(
        "inputs: {traces: traces/*.json}\nstyle: {width: .nan}\n",
        "error: style: length `NaN` is not a number: write one with a unit, e.g. `3.3in`",
    );
}

/// r8: a spec with three mistakes took three runs to fix.
#[test]
fn r8_every_check_error_is_reported_in_one_run() {
    let stderr = spec_error(
        "inputs:\n  traces: traces/*.json\ncolor:\n  ticks: 50\n  map: redz\noutput:\n  dpi: 0\n",
    );
    let heads: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(
        heads,
        [
            "error: 50 colorbar ticks is out of range",
            "error: unknown colour map `redz`",
            "error: DPI 0 is out of range",
        ]
    );
}

/// A sweep of many misnamed files printed a thousand identical warnings
/// and buried the one line that mattered; a person now sees three and a
/// count, a tool still gets all of them.
#[test]
fn many_alike_warnings_are_counted_not_repeated() {
    let f = Fixture::new();
    good(&f);
    for i in 0..8 {
        f.write(&format!("traces/run{i}.json"), "{}");
    }
    let (code, _, stderr) = f.run(&["spec.yaml", "-o", "out/fig"]);
    assert_eq!(code, 0, "{stderr}");
    let skipped = "file name does not match `inputs.filename`; skipped";
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            format!("warning: traces/run0.json: {skipped}"),
            format!("warning: traces/run1.json: {skipped}"),
            format!("warning: traces/run2.json: {skipped}"),
            format!(
                "warning: … and 5 more file(s) like those above: {skipped} \
                 (`--diagnostic-format short` lists them all)"
            ),
        ]
    );
    let (_, _, short) = f.run(&["spec.yaml", "-o", "out/fig", "--diagnostic-format", "short"]);
    assert_eq!(short.lines().filter(|l| l.ends_with(skipped)).count(), 8);
}

/// r8: serde stops at the first type error; each top-level section still
/// gets its own, at its own line, in one run.
#[test]
fn r8_type_errors_in_several_sections_are_reported_in_one_run() {
    let stderr = spec_error(
        "title: [1]\ninputs:\n  traces: traces/*.json\nstyle:\n  gap: [1]\n# a comment\n\noutput:\n  dpi: many\n  formats: pdf\n",
    );
    let heads: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: ") || l.contains("─ spec.yaml:"))
        .collect();
    assert_eq!(
        heads,
        [
            "error: title: invalid type: sequence, expected a string",
            "  ┌─ spec.yaml:1:8",
            "error: style: expected a length with a unit, e.g. `3.3in`",
            "  ┌─ spec.yaml:5:3",
            "error: output.dpi: invalid type: string \"many\", expected u32",
            "  ┌─ spec.yaml:9:8",
        ]
    );
}

/// r8: a 6 GB sparse file of zeros was read whole (14 s, 6.2 GB) before
/// being rejected at byte 0; now the first bytes decide.
#[cfg(unix)]
#[test]
fn r8_a_huge_file_that_is_not_json_is_rejected_without_reading_it() {
    let f = Fixture::new();
    good(&f);
    let name = format!("traces/{}", Fixture::trace_name(2, 2, 1));
    let file = std::fs::File::create(f.path(&name)).unwrap();
    file.set_len(6 << 30).unwrap(); // sparse: no disk used
    let built = f.build().unwrap();
    assert_eq!(
        warnings(&built),
        [format!(
            "{}: malformed JSON: line 1 column 1 (byte 0): a NUL byte, which JSON never holds \
             (a file preallocated, or cut short by a crash?); the cell shows no data",
            f.path(&name).display()
        )]
    );
    assert_eq!(cell(&built, "2", "2").state, CellState::Invalid);
}

/// r8: a 2 GB trace was read whole (2.07 GB RSS); now it streams through a
/// fixed buffer, so samples beyond the 64 MiB of kept keys and scalars
/// read, and an error after them names the line in the file. (This test
/// made its samples of NUL holes until r18 refused NULs; the streams of a
/// terabyte are in the trace reader's unit tests.)
#[cfg(unix)]
#[test]
fn r8_a_trace_larger_than_memory_would_allow_is_streamed() {
    use std::io::Write;
    let f = Fixture::new();
    good(&f);
    let write = |name: &str, samples: usize, tail: &str| {
        let mut file = std::io::BufWriter::new(std::fs::File::create(f.path(name)).unwrap());
        file.write_all(b"{\"0\": {\"peak_allocated_MB\": 20480.0, \"samples\": [\n")
            .unwrap();
        // Spaces inside the array, which memheat skips unread.
        file.write_all(&vec![b' '; samples]).unwrap();
        file.write_all(tail.as_bytes()).unwrap();
    };
    write(
        &format!("traces/{}", Fixture::trace_name(2, 2, 1)),
        (1 << 26) + (1 << 20),
        "\n], \"theoretical_memory_MB\": 30720.0}}\n",
    );
    let broken = format!("traces/{}", Fixture::trace_name(2, 1, 1));
    write(
        &broken,
        1 << 26,
        "\n],\n\"theoretical_memory_MB\": 30720.0,}}\n",
    );
    let built = f.build().unwrap();
    let big = cell(&built, "2", "2");
    assert_eq!(big.state, CellState::Measured);
    assert_eq!(
        (big.actual, big.theory),
        (Some(20.0), Some(30.0)),
        "20480 and 30720 MB in GB"
    );
    assert_eq!(
        warnings(&built),
        [format!(
            "{}: malformed JSON: line 4 column 34 (byte 67108951): expected a string key, \
             found `}}`; the cell shows no data",
            f.path(&broken).display()
        )]
    );
}

/// r8: nothing bounded the grid: a log with thousands of configs made a
/// figure Typst would lay out for minutes.
#[test]
fn r8_an_axis_of_more_than_100_values_is_an_error() {
    let f = Fixture::new();
    good(&f);
    let lines: String = (1..=150)
        .map(|tp| format!("Config {tp}: TP={tp}, PP=1 - FAILED\n"))
        .collect();
    f.write("logs/failed.log", lines);
    let e = f.build().unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: the y axis (`tp`) would have 150 values, more than 100",
            f.path("spec.yaml").display()
        )
    );
}

/// r8: a duplicate key was pointed at where it first appears.
#[test]
fn r8_a_duplicate_key_points_at_the_duplicate() {
    spec_error_starting(
        "inputs:\n  traces: traces/*.json\noutput:\n  dpi: 100\n  path: x\n  dpi: 200\n",
        "error: output: duplicate field `dpi`\n  ┌─ spec.yaml:6:3\n",
    );
    spec_error_starting(
        "title: a\ninputs:\n  traces: traces/*.json\ncolor: {title: c}\ntitle: b\n",
        "error: duplicate field `title`\n  ┌─ spec.yaml:5:1\n",
    );
}

/// r8: one non-numeric axis value put `10` before `9`, silently; and a
/// `newest-by` that names no capture decided nothing.
#[test]
fn r8_mixed_axis_values_warn_and_newest_by_must_be_a_capture() {
    let f = Fixture::new();
    good(&f);
    f.write(
        "traces/memory_trace_rank0_wd8_tp1_ppx_dp1_exp1_expNumNone_l2_mbs1_nmbs1_gbs8_ts1.json",
        trace_json("1024.0", "2048.0"),
    );
    f.write(
        "spec.yaml",
        "inputs:\n  traces: traces/*.json\n  logs: {failure: logs/failed.log}\n  filename: '.*_tp(?P<tp>\\d+)_pp(?P<pp>\\w+?)_dp.*'\n",
    );
    let built = f.build().unwrap();
    assert_eq!(built.table.x.labels, ["1", "x"]);
    assert_eq!(
        warnings(&built),
        [format!(
            "{}: `pp` is `x` here, not a number; the axis puts numbers first, in numeric order, then text",
            f.path("traces/memory_trace_rank0_wd8_tp1_ppx_dp1_exp1_expNumNone_l2_mbs1_nmbs1_gbs8_ts1.json").display()
        )]
    );
    spec_error_starting(
        "inputs:\n  traces: traces/*.json\n  newest-by: tss\n",
        "error: `tss` is a field of no run: not in any path, nor in any file\n  ┌─ spec.yaml:3:14\n",
    );
}

/// r8: a spec saved with a byte-order mark parses.
#[test]
fn r8_a_byte_order_mark_is_accepted() {
    let f = Fixture::new();
    good(&f);
    f.write("spec.yaml", format!("\u{feff}{SPEC}"));
    let (code, _, stderr) = f.run(&["spec.yaml"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn log_comments_blank_lines_crlf_and_noise_add_nothing() {
    let f = Fixture::new();
    good(&f);
    f.write(
        "logs/failed.log",
        "# Config 9: TP=16, PP=16 - FAILED\r\n\r\n   # TP=32, PP=32\r\nrandom noise TP=64\r\nConfig 4: TP=1, PP=2, DP=4 - FAILED\r\n",
    );
    let built = f.build().unwrap();
    assert!(built.warnings.is_empty(), "{:?}", built.warnings);
    assert_eq!(built.table.y.labels, ["1"]);
    assert_eq!(built.table.x.labels, ["1", "2"]);
    assert_eq!(cell(&built, "1", "2").state, CellState::Failed);
}

#[test]
fn odd_files_in_the_glob_are_skipped_with_a_reason() {
    let f = Fixture::new();
    good(&f);
    f.write("traces/notes.json", "{}");
    std::fs::create_dir_all(f.path(&format!("traces/{}", Fixture::trace_name(4, 4, 1)))).unwrap();
    std::os::unix::fs::symlink(
        f.path("nowhere.json"),
        f.path(&format!("traces/{}", Fixture::trace_name(8, 8, 1))),
    )
    .unwrap();
    let raw = {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(b"memory_trace_\xff.json").to_owned()
    };
    std::fs::write(f.path("traces").join(&raw), "{}").unwrap();
    let fifo = f.path(&format!("traces/{}", Fixture::trace_name(2, 2, 1)));
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    #[allow(unsafe_code)] // mkfifo has no std wrapper
    let made = unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) };
    assert_eq!(made, 0);
    let built = f.build().unwrap();
    let t = |name: &str| f.path("traces").join(name).display().to_string();
    assert_eq!(
        warnings(&built),
        [
            format!(
                "{}: is not a regular file (a pipe, socket or device); skipped",
                t(&Fixture::trace_name(2, 2, 1))
            ),
            format!(
                "{}: matches the glob but is a directory; skipped",
                t(&Fixture::trace_name(4, 4, 1))
            ),
            format!(
                "{}: cannot be read (No such file or directory (os error 2)); the cell shows no data",
                t(&Fixture::trace_name(8, 8, 1))
            ),
            format!(
                "{}: file name is not valid UTF-8, so no glob can match it; skipped",
                f.path("traces").join(&raw).display()
            ),
            format!(
                "{}: file name does not match `inputs.filename`; skipped",
                t("notes.json")
            ),
        ]
    );
    // A broken link is a config with no usable trace; the others add nothing.
    assert_eq!(built.table.y.labels, ["1", "8"]);
    assert_eq!(cell(&built, "8", "8").state, CellState::Invalid);
}

#[test]
fn strict_fails_with_the_full_list_and_writes_nothing() {
    let f = Fixture::new();
    good(&f);
    f.trace(1, 2, 1, "{}");
    f.trace(1, 4, 1, &trace_json("1024.0", "NaN"));
    let (code, stdout, stderr) = f.run(&["spec.yaml", "--strict"]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    let p = |pp| {
        Path::new("traces")
            .join(Fixture::trace_name(1, pp, 1))
            .display()
            .to_string()
    };
    assert_eq!(
        stderr,
        format!(
            "warning: {}: the trace is empty (`{{}}`); the cell shows no data
warning: {}: theoretical field `theoretical_memory_MB` is `NaN`; theory shows n/a and marks no threshold
error: 2 warning(s), and strict mode is on
  = hint: fix the inputs, or build without --strict (and `strict: true`) to get a figure anyway
",
            p(2),
            p(4)
        )
    );
    assert!(!f.path("out").exists());
    f.write("spec.yaml", format!("{SPEC}strict: true\n"));
    assert_eq!(f.run(&["spec.yaml"]).0, 1);
    assert!(!f.path("out").exists());
}

#[test]
fn warnings_print_once_sorted_and_identically_on_rerun() {
    let f = Fixture::new();
    good(&f);
    f.trace(2, 1, 1, "{}");
    f.trace(1, 2, 1, "[");
    let first = f.run(&["spec.yaml"]);
    let second = f.run(&["spec.yaml"]);
    assert_eq!(first.0, 0);
    assert_eq!((first.0, &first.2), (second.0, &second.2));
    assert_eq!(first.1, "wrote out/fig.pdf\nwrote out/fig.png\n");
    assert_eq!(
        second.1, "unchanged out/fig.pdf\nunchanged out/fig.png\n",
        "the same figure again is not rewritten"
    );
    let lines: Vec<&str> = first.2.lines().collect();
    let mut sorted = lines.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(lines, sorted);
    assert_eq!(lines.len(), 2);
}

/// r8: the message said "none of the 0 trace file(s) gave a value; see
/// the warnings above" with no warnings printed; now the warnings come
/// first and the message says what happened.
#[test]
fn no_usable_data_at_all_is_an_error() {
    let f = Fixture::new();
    f.trace(1, 1, 1, "{}");
    f.write("logs/failed.log", "Config 1: TP=2, PP=2 - FAILED\n");
    let (code, _, stderr) = f.run(&["spec.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        format!(
            "warning: traces/{}: the trace is empty (`{{}}`); the cell shows no data\n\
             error: spec.yaml: no usable data: of 4 configs, 1 failed, 1 have no usable trace, 2 are missing; the warnings above say why\n",
            Fixture::trace_name(1, 1, 1)
        )
    );
    f.write("traces/other.json", "{}");
    std::fs::remove_file(f.path(&format!("traces/{}", Fixture::trace_name(1, 1, 1)))).unwrap();
    let (code, _, stderr) = f.run(&["spec.yaml"]);
    assert_eq!(code, 1);
    assert!(
        stderr.ends_with("error: spec.yaml: no usable data: the glob matched 1 file(s), and none of them gave a run (a name `inputs.filename` does not match, or nothing memheat reads); the warnings above say why\n"),
        "{stderr}"
    );
}

// -------------------------------------------------------------------- outputs

#[test]
fn a_failing_build_leaves_the_previous_outputs_untouched() {
    let f = Fixture::new();
    good(&f);
    assert_eq!(f.run(&["spec.yaml"]).0, 0);
    let before = (
        std::fs::read(f.path("out/fig.pdf")).unwrap(),
        std::fs::read(f.path("out/fig.png")).unwrap(),
    );
    f.write("spec.yaml", format!("{SPEC}color: {{map: jet}}\n"));
    assert_eq!(f.run(&["spec.yaml"]).0, 1);
    let after = (
        std::fs::read(f.path("out/fig.pdf")).unwrap(),
        std::fs::read(f.path("out/fig.png")).unwrap(),
    );
    assert!(before == after);
    let names: Vec<_> = std::fs::read_dir(f.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary files left: {names:?}");
}

#[test]
fn output_directories_are_created_and_a_directory_target_is_an_error() {
    let f = Fixture::new();
    good(&f);
    let (code, stdout, _) = f.run(&["spec.yaml", "-o", "a/b/c/fig"]);
    assert_eq!(code, 0);
    assert_eq!(stdout, "wrote a/b/c/fig.pdf\nwrote a/b/c/fig.png\n");
    std::fs::create_dir_all(f.path("taken.pdf")).unwrap();
    let (code, stdout, stderr) = f.run(&["spec.yaml", "-o", "taken"]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        "error: cannot write `taken.pdf`: it is a directory\n"
    );
    assert!(
        !f.path("taken.png").exists(),
        "nothing written when one output fails"
    );
}

// ------------------------------------------------------------------- sandbox

#[test]
fn typst_cannot_read_files() {
    let e = Engine::default()
        .compile("#read(\"/etc/hostname\")".into(), (true, true))
        .err()
        .expect("reading a file must fail");
    assert_eq!(
        e.diagnostics[0].message,
        "failed to load file (access denied)"
    );
}

// ---------------------------------------------------------------- corruption

#[test]
fn example_with_one_trace_corrupted_at_random_never_panics() {
    let f = Fixture::new();
    let traces = crate::util::repo().join("examples/485B/traces");
    let mut names: Vec<_> = std::fs::read_dir(&traces)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    std::fs::create_dir_all(f.path("traces")).unwrap();
    for name in &names {
        std::fs::copy(traces.join(name), f.path("traces").join(name)).unwrap();
    }
    f.write(
        "spec.yaml",
        "inputs:\n  traces: traces/*.json\noutput: {path: out/fig, dpi: 20}\n",
    );
    // xorshift64: deterministic, so a failure reproduces.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    for round in 0..40 {
        let name = &names[next(names.len())];
        let path = f.path("traces").join(name);
        let original = std::fs::read(traces.join(name)).unwrap();
        let mut bytes = original.clone();
        let at = next(bytes.len());
        match round % 4 {
            0 => bytes.truncate(at),
            1 => bytes[at] = next(256) as u8,
            2 => bytes
                .splice(at..at, (0..next(8) + 1).map(|_| next(256) as u8))
                .for_each(drop),
            _ => bytes
                .drain(at..(at + next(64)).min(original.len()))
                .for_each(drop),
        }
        std::fs::write(&path, &bytes).unwrap();
        let built = f
            .build()
            .unwrap_or_else(|e| panic!("round {round}, {name:?} at {at}: {e}"));
        let source = built
            .table
            .rows
            .iter()
            .flatten()
            .find(|c| c.source.as_deref() == Some(path.as_path()));
        let cell =
            source.unwrap_or_else(|| panic!("round {round}: the corrupted trace has no cell"));
        if cell.state == CellState::Invalid {
            assert!(
                built.warnings.iter().any(|w| w.path == path),
                "round {round}: no warning for {name:?}"
            );
        } else {
            assert_eq!(cell.state, CellState::Measured);
        }
        std::fs::write(&path, &original).unwrap();
    }
}

#[test]
fn characters_no_embedded_font_has_are_reported() {
    let f = Fixture::new();
    good(&f);
    f.write(
        "spec.yaml",
        format!("{SPEC}title: 'GPU 内存 ✓ 8\u{200b}0'\n"),
    );
    let built = f.build().unwrap();
    assert_eq!(
        warnings(&built),
        [format!(
            "{}: `内`, `存`, U+200B in \"GPU 内存 ✓ 8\\u{{200b}}0\" are in none of the embedded fonts or invisible, and would print as boxes; remove or replace them",
            f.path("spec.yaml").display()
        )]
    );
}
