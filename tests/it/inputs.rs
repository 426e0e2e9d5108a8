//! #17: every layout and format a sweep comes in gives the figure the same
//! cells as the trace sweep it was made from.

use std::path::Path;

use crate::errors::NO_OUTCOMES;
use crate::util::{repo, run_in};

#[path = "../../examples/support/inputs.rs"]
pub(crate) mod layouts;
#[path = "../../examples/support/megatron_logs.rs"]
mod megatron_logs;

use megatron_logs::Run;

/// `memheat data` of `spec` in `dir`: the cells' columns up to `marks`
/// (the source columns differ by design), and stderr.
fn cells(dir: &Path, spec: &str) -> (Vec<String>, String) {
    let (code, stdout, stderr) = run_in(dir, &["data", spec]);
    assert_eq!(code, 0, "{stderr}");
    let rows = stdout
        .lines()
        .map(|l| l.split(',').take(9).collect::<Vec<_>>().join(","))
        .collect();
    (rows, stderr)
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn megatron_logs_nested_directories_and_a_table_give_the_trace_sweeps_cells() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let example = repo().join("examples/485B");
    let configs = layouts::read_example(&example).unwrap();
    assert_eq!(configs.len(), 32);
    layouts::write_megatron(&configs, &d.join("megatron")).unwrap();
    layouts::write_nested(&configs, &example.join("traces"), &d.join("nested")).unwrap();
    layouts::write_table(&configs, &d.join("table")).unwrap();
    write(
        d,
        "traces.yaml",
        &format!(
            "inputs:\n  traces: '{0}/traces/*.json'\n  logs: {{success: '{0}/logs/successful_configs.log', failure: '{0}/logs/failed_configs.log'}}\n",
            example.display()
        ),
    );
    // The config is only in each log's arguments dump.
    write(d, "megatron.yaml", "inputs: {traces: 'megatron/*.out'}\n");
    // The config is only in the directory names; both outcomes in one log.
    write(
        d,
        "nested.yaml",
        "inputs:\n  traces: nested/runs/*/mem_rank0.json\n  logs: {status: nested/sweep_status.log}\n",
    );
    write(
        d,
        "table.yaml",
        "inputs: {traces: table/results.csv, actual: peak_allocated_MB, theory: theoretical_memory_MB}\n",
    );
    let (expected, stderr) = cells(d, "traces.yaml");
    assert_eq!(stderr, "");
    assert_eq!(expected.len(), 33);
    assert_eq!(
        expected.iter().filter(|r| r.contains(",failed,")).count(),
        11
    );
    for spec in ["megatron.yaml", "nested.yaml", "table.yaml"] {
        let (rows, stderr) = cells(d, spec);
        assert_eq!(stderr, "", "{spec}");
        assert_eq!(rows, expected, "{spec}");
    }
}

#[test]
fn without_any_outcome_the_build_warns_and_strict_fails() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let example = repo().join("examples/485B");
    let configs = layouts::read_example(&example).unwrap();
    layouts::write_nested(&configs, &example.join("traces"), d).unwrap();
    write(d, "s.yaml", "inputs: {traces: 'runs/*/mem_rank0.json'}\n");
    let (rows, stderr) = cells(d, "s.yaml");
    assert_eq!(stderr, format!("warning: s.yaml: {NO_OUTCOMES}\n"));
    // The OOM configs are not drawn: nothing recorded them.
    assert!(!rows.iter().any(|r| r.contains(",failed,")));
    let (code, _, stderr) = run_in(d, &["data", "s.yaml", "--strict"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        format!(
            "warning: s.yaml: {NO_OUTCOMES}\nerror: 1 warning(s), and strict mode is on\n  = hint: fix the inputs, or build without --strict (and `strict: true`) to get a figure anyway\n"
        )
    );
}

#[test]
fn every_framework_and_era_is_read_with_its_units() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let variants = megatron_logs::VARIANTS;
    let mut expected = Vec::new();
    for (i, variant) in variants.into_iter().enumerate() {
        let run = Run {
            tp: 2,
            pp: 1 << i,
            dp: 8,
            layers: 32,
            peak_mib: 61_440.0 + 1024.0 * i as f64,
            theory_mib: Some(70_000.0),
            oom: false,
        };
        let (metric, bytes) = megatron_logs::expected_peak(&run, variant);
        expected.push((metric, bytes / 1024f64.powi(3)));
        // Configs from the path: only Megatron prints its arguments.
        std::fs::create_dir_all(d.join(format!("tp={},pp={}", run.tp, run.pp))).unwrap();
        write(
            d,
            &format!("tp={},pp={}/{metric}.log", run.tp, run.pp),
            &megatron_logs::write_log(&run, variant, megatron_logs::NO_OOM),
        );
    }
    // torchtitan reports only the reserved peak; the others are read as allocated.
    write(
        d,
        "s.yaml",
        "inputs:\n  traces: '*/max_allocated.log'\n  logs: {failure: none.log}\n",
    );
    write(
        d,
        "t.yaml",
        "inputs:\n  traces: '*/max_reserved.log'\n  actual: max_reserved\n  logs: {failure: none.log}\n",
    );
    write(d, "none.log", "");
    let mut seen = Vec::new();
    for spec in ["s.yaml", "t.yaml"] {
        let (code, stdout, stderr) = run_in(d, &["data", spec]);
        assert_eq!((code, stderr.as_str()), (0, ""), "{spec}");
        for row in stdout.lines().skip(1) {
            let fields: Vec<&str> = row.split(',').collect();
            assert_eq!(fields[2], "measured", "{row}");
            seen.push((
                fields[0].parse::<u32>().unwrap(),
                fields[3].parse::<f64>().unwrap(),
            ));
        }
    }
    seen.sort_by_key(|(pp, _)| *pp);
    assert_eq!(seen.len(), variants.len());
    for (i, ((_, got), (metric, want))) in seen.iter().zip(&expected).enumerate() {
        assert!(
            (got - want).abs() < 1e-9 * want,
            "{:?} ({metric}): {got} GiB, expected {want}",
            variants[i]
        );
    }
}

#[test]
fn hostile_logs_a_cut_line_a_binary_log_and_a_two_gigabyte_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let report = |iter: u32, max: &str| {
        format!(
            "[Rank 0] (after {iter} iterations) memory (MB) | allocated: 100.0 | max allocated: {max} | reserved: 200.0 | max reserved: 200.0\n"
        )
    };
    let args = |tp: u32, pp: u32| {
        format!(
            "------------------------ arguments ------------------------\n  pipeline_model_parallel_size .................... {pp}\n  tensor_model_parallel_size ...................... {tp}\n-------------------- end of arguments ---------------------\n"
        )
    };
    // Still being written: the last report is cut inside its number.
    let cut = format!(
        "{}{}{}",
        args(1, 1),
        report(10, "51200.0"),
        report(20, "61440.0")
    );
    write(d, "cut.log", &cut[..cut.len() - 4]);
    // A binary file named like a log.
    std::fs::write(
        d.join("core.log"),
        b"\x7fELF\x02\x01\x01\x00\x00\x00garbage",
    )
    .unwrap();
    // 2 GiB: a real log, then a hole that reads as NUL bytes.
    let big = std::fs::File::create(d.join("big.log")).unwrap();
    use std::io::Write as _;
    (&big)
        .write_all(format!("{}{}", args(2, 1), report(10, "30720.0")).as_bytes())
        .unwrap();
    big.set_len(2 << 30).unwrap();
    write(
        d,
        "s.yaml",
        "inputs:\n  traces: '*.log'\n  logs: {failure: none.txt}\n",
    );
    write(d, "none.txt", "");
    let (code, stdout, stderr) = run_in(d, &["data", "s.yaml"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr,
        "warning: core.log: is binary (not text, JSON or a pickle); it matches no input format; skipped\n"
    );
    let rows: Vec<String> = stdout
        .lines()
        .map(|l| l.split(',').take(4).collect::<Vec<_>>().join(","))
        .collect();
    assert_eq!(
        rows,
        ["pp,tp,state,actual", "1,1,measured,50", "1,2,measured,30"]
    );
}

#[test]
fn a_table_row_without_an_axis_value_or_repeated_is_named_by_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "r.csv",
        "TP,PP,status,peak_allocated_MB\n1,2,OK,1000\n,4,OK,2000\n1,2,OK,1500\n",
    );
    write(
        d,
        "s.yaml",
        "inputs: {traces: r.csv, actual: peak_allocated_MB}\n",
    );
    let (code, stdout, stderr) = run_in(d, &["data", "s.yaml", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr,
        "warning: r.csv:3: the row has no `pp` or `tp` value; skipped\nwarning: r.csv:4: config tp=1, pp=2 has 2 rows; using this one (no row has a numeric `ts`; the last), ignoring line 2\n"
    );
    // The later row is the one drawn.
    assert!(stdout.contains("\"actual\": 1.46484375"), "{stdout}");
}
