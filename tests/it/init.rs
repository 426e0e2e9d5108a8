//! `memheat init`: from a sweep directory to a spec that builds the same
//! cells as a hand-written one, and clear errors when it cannot.

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;

use crate::util::{example_runs, memheat, pdf_text, repo, run_in};

/// Copies the example sweep to `to`, naming each trace with `rename(tp,
/// pp, original name)` and each log line with `line(original line)`.
fn copy_example_as_is(to: &Path) {
    copy_example(
        to,
        |_, _, name| name.to_string(),
        str::to_string,
        ["successful_configs.log", "failed_configs.log"],
    );
}

fn copy_example(
    to: &Path,
    rename: impl Fn(&str, &str, &str) -> String,
    line: impl Fn(&str) -> String,
    logs: [&str; 2],
) {
    let from = repo().join("examples/485B");
    std::fs::create_dir_all(to.join("traces")).unwrap();
    std::fs::create_dir_all(to.join("logs")).unwrap();
    for entry in std::fs::read_dir(from.join("traces")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        let field = |key: &str| {
            let start = name.find(&format!("_{key}")).unwrap() + key.len() + 1;
            name[start..].split('_').next().unwrap().to_string()
        };
        let renamed = rename(&field("tp"), &field("pp"), name);
        std::fs::copy(&path, to.join("traces").join(renamed)).unwrap();
    }
    for (original, copy) in ["successful_configs.log", "failed_configs.log"]
        .iter()
        .zip(logs)
    {
        let text = std::fs::read_to_string(from.join("logs").join(original)).unwrap();
        let text: String = text.lines().map(|l| line(l) + "\n").collect();
        std::fs::write(to.join("logs").join(copy), text).unwrap();
    }
}

/// `memheat data` rows up to `marks`: the columns that follow name files
/// (trace, log, reason, which may hold quoted commas) or hold the captures,
/// which differ between two specs of one sweep.
fn cells(dir: &Path, spec: &str) -> Vec<String> {
    let (code, stdout, stderr) = run_in(dir, &["data", spec]);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
    stdout
        .lines()
        .map(|l| l.split(',').take(9).collect::<Vec<_>>().join(","))
        .collect()
}

fn reference_cells() -> Vec<String> {
    cells(&repo(), "specs/485B.yaml")
}

#[test]
fn init_on_the_example_builds_the_cells_of_the_shipped_spec() {
    let dir = tempfile::tempdir().unwrap();
    copy_example_as_is(&dir.path().join("485B"));
    let (code, stdout, stderr) = run_in(dir.path(), &["init", "485B"]);
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (0, "wrote 485B.yaml\nnext: memheat build 485B.yaml\n", "")
    );
    let spec = std::fs::read_to_string(dir.path().join("485B.yaml")).unwrap();
    for line in [
        "  traces: '485B/traces/memory_trace_*.json'",
        r"  filename: 'memory_trace_rank0_wd8192_tp(?P<tp>\d+)_pp(?P<pp>\d+)_dp(?P<dp>\d+)_exp1_expNumNone_l96_mbs1_nmbs(?P<nmbs>\d+)_gbs24576_ts(?P<ts>\d+)\.json'",
        "  actual: 'peak_allocated_MB'",
        "  theory: 'theoretical_memory_MB'",
        "    success: '485B/logs/successful_configs.log'",
        "    failure: '485B/logs/failed_configs.log'",
        "  input: MiB",
    ] {
        assert!(spec.lines().any(|l| l == line), "{line} not in:\n{spec}");
    }
    assert_eq!(cells(dir.path(), "485B.yaml"), reference_cells());

    let (code, stdout, stderr) = run_in(
        dir.path(),
        &["build", "--strict", "--dpi", "30", "485B.yaml"],
    );
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (0, "wrote 485B.pdf\nwrote 485B.png\n", "")
    );
    let text: String = pdf_text(&dir.path().join("485B.pdf"))
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for run in example_runs() {
        let actual = format!("Actual:{:.1}GB", run.actual_gb);
        assert!(text.contains(&actual), "{actual} missing from the PDF");
    }
}

#[test]
fn init_reads_renamed_traces_and_logs() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("runs");
    copy_example(
        &sweep,
        |tp, pp, _| format!("run-tp{tp}-pp{pp}.json"),
        // `Config 6: TP=1, PP=32, …` → `launched run-tp1-pp32`
        |line| match line.strip_prefix("Config ") {
            Some(rest) => {
                let num = |key: &str| {
                    let at = rest.find(key).unwrap() + key.len();
                    rest[at..].split(',').next().unwrap().to_string()
                };
                format!("launched run-tp{}-pp{}", num("TP="), num("PP="))
            }
            None => line.to_string(),
        },
        ["ok.log", "oom.log"],
    );
    std::fs::write(sweep.join("config.json"), r#"{"lr": 0.1}"#).unwrap();
    std::fs::write(sweep.join("notes.txt"), "nothing to see\n").unwrap();
    let (code, stdout, stderr) = run_in(dir.path(), &["init", "runs", "-o", "specs/renamed.yaml"]);
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (
            0,
            "wrote specs/renamed.yaml\nnext: memheat build specs/renamed.yaml\n",
            ""
        )
    );
    let spec = std::fs::read_to_string(dir.path().join("specs/renamed.yaml")).unwrap();
    for line in [
        "  traces: '../runs/traces/run-*.json'",
        r"  filename: 'run\-tp(?P<tp>\d+)\-pp(?P<pp>\d+)\.json'",
        "    success: '../runs/logs/ok.log'",
        "    failure: '../runs/logs/oom.log'",
        r"    line: '(?i)\btp\s*[=:]?\s*(?P<tp>\d+).*?\bpp\s*[=:]?\s*(?P<pp>\d+)'",
        "  # Not traces (another name shape, or no ranks with numbers): `../runs/config.json`.",
        "    # Not used as logs: `../runs/notes.txt` (no line matches `line`).",
    ] {
        assert!(spec.lines().any(|l| l == line), "{line} not in:\n{spec}");
    }
    assert_eq!(cells(dir.path(), "specs/renamed.yaml"), reference_cells());
}

#[test]
fn a_directory_with_nothing_usable_is_an_error_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let at = |p: &str| dir.path().join(p);
    std::fs::create_dir_all(at("empty")).unwrap();
    std::fs::create_dir_all(at("junk/deeper")).unwrap();
    std::fs::write(at("junk/a.json"), "[1, 2]").unwrap();
    std::fs::write(at("junk/deeper/b.json"), r#"{"0": {"name": "x"}}"#).unwrap();
    std::fs::create_dir_all(at("same")).unwrap();
    for name in ["trace_tp4_a.json", "trace_tp4_b.json"] {
        std::fs::write(at("same").join(name), r#"{"0": {"peak_allocated_MB": 1}}"#).unwrap();
    }
    std::fs::write(at("file.json"), "{}").unwrap();
    let traces_hint = "  = hint: memheat init looks anywhere under the directory for JSON traces (each an object of ranks with numeric fields, e.g. {\"0\": {\"peak_allocated_MB\": 58716.7}}), training logs that print memory (Megatron-LM, DeepSpeed, torchtitan), or a CSV/JSONL table of results; point it at the sweep's directory\n";
    let dir_hint = "  = hint: give the directory that holds the sweep's files, e.g. `memheat init runs/485B`\n";
    let cases = [
        (
            "empty",
            format!(
                "error: no usable inputs in `empty`: found no `.json` file in it or below it\n{traces_hint}"
            ),
        ),
        (
            "junk",
            format!(
                "warning: junk/a.json: malformed JSON: line 1 column 1 (byte 0): expected the document to be a JSON object, found an array; skipped\nerror: no usable inputs in `junk`: none of the 2 JSON file(s) read is an object of ranks with numeric fields\n{traces_hint}"
            ),
        ),
        (
            "same",
            "error: cannot tell the configs apart in `same`: the 1 trace file(s) named like `trace_tp4_a.json` have no `<key><number>` token that varies between them, nor in their directories' names\n  = hint: memheat reads each config from its trace's path; name the files or their directories with `<key><number>` tokens, e.g. `run-tp4-pp16.json` or `tp4_pp16/trace.json`\n".to_string(),
        ),
        (
            "missing",
            format!(
                "error: cannot use `missing` as a sweep directory: no such file or directory (os error 2)\n{dir_hint}"
            ),
        ),
        (
            "file.json",
            format!(
                "error: cannot use `file.json` as a sweep directory: it is not a directory\n{dir_hint}"
            ),
        ),
    ];
    for (sweep, expected) in cases {
        let (code, stdout, stderr) = run_in(dir.path(), &["init", sweep, "-o", "out.yaml"]);
        assert_eq!(
            (code, stdout.as_str(), stderr.as_str()),
            (1, "", expected.as_str()),
            "{sweep}"
        );
        assert!(!at("out.yaml").exists(), "{sweep}: nothing is written");
    }
}

#[test]
fn a_spec_is_never_written_over_an_existing_file_without_force_or_over_the_sweep() {
    let dir = tempfile::tempdir().unwrap();
    copy_example_as_is(&dir.path().join("485B"));
    std::fs::write(dir.path().join("485B.yaml"), "mine\n").unwrap();
    let (code, stdout, stderr) = run_in(dir.path(), &["init", "485B"]);
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (
            1,
            "",
            "error: `485B.yaml` already exists\n  = hint: pass --force to replace it, -o to write elsewhere, or `-o -` to print it\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("485B.yaml")).unwrap(),
        "mine\n"
    );

    let log = "485B/logs/failed_configs.log";
    let before = std::fs::read(dir.path().join(log)).unwrap();
    let (code, _, stderr) = run_in(dir.path(), &["init", "485B", "-o", log, "--force"]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            1,
            "error: the spec `485B/logs/failed_configs.log` would overwrite `485B/logs/failed_configs.log`, a file of the sweep\n  = hint: write the spec elsewhere with -o, e.g. `-o specs/sweep.yaml`\n"
        )
    );
    assert_eq!(std::fs::read(dir.path().join(log)).unwrap(), before);

    let (code, stdout, _) = run_in(dir.path(), &["init", "485B", "--force"]);
    assert_eq!((code, stdout.lines().next()), (0, Some("wrote 485B.yaml")));
    assert!(
        std::fs::read_to_string(dir.path().join("485B.yaml"))
            .unwrap()
            .starts_with("# Starter spec written by `memheat init 485B`.")
    );
}

/// Four traces whose peak could be either of two equally named fields.
fn ambiguous_sweep(dir: &Path) {
    std::fs::create_dir_all(dir.join("amb")).unwrap();
    for (tp, pp) in [(1, 2), (1, 4), (2, 2), (2, 4)] {
        std::fs::write(
            dir.join(format!("amb/t_tp{tp}_pp{pp}.json")),
            format!(
                r#"{{"0": {{"gpu0_max_alloc_MB": {}, "gpu1_max_alloc_MB": 5, "expected_MB": 9000}}}}"#,
                tp * 1024 + pp
            ),
        )
        .unwrap();
    }
}

#[test]
fn without_a_terminal_a_tie_takes_the_first_name_and_nothing_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    ambiguous_sweep(dir.path());
    // An answer waits on the pipe; a prompt would read it and pick `gpu1`.
    let mut child = memheat()
        .args(["init", "amb"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"2\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    // Init loads the spec it wrote as a build would, and says what that
    // build will say: a sweep without logs cannot show its OOM configs.
    let no_outcomes = format!("warning: amb.yaml: {}\n", crate::errors::NO_OUTCOMES);
    assert_eq!(String::from_utf8(out.stderr).unwrap(), no_outcomes);
    let spec = std::fs::read_to_string(dir.path().join("amb.yaml")).unwrap();
    assert!(spec.contains("\n  actual: 'gpu0_max_alloc_MB'\n"), "{spec}");
    assert!(spec.contains("  theory: 'expected_MB'\n"), "{spec}");
    assert!(
        spec.contains("Other candidates:\n  # `gpu1_max_alloc_MB`.\n")
            || spec.contains("Other candidates: `gpu1_max_alloc_MB`."),
        "the alternative is named:\n{spec}"
    );
    let (code, stdout, stderr) = run_in(dir.path(), &["data", "amb.yaml"]);
    assert_eq!((code, stderr.as_str()), (0, no_outcomes.as_str()));
    assert!(
        stdout.contains("\n4,2,measured,2.00390625,8.7890625,2.0GB,8.8GB,"),
        "{stdout}"
    );
}

#[test]
fn a_third_varying_field_is_a_warning_in_the_spec_and_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("mbs")).unwrap();
    for mbs in [1, 2] {
        for tp in [1, 2] {
            std::fs::write(
                dir.path().join(format!("mbs/r_tp{tp}_pp8_mbs{mbs}.json")),
                r#"{"0": {"peak_allocated_MB": 1024, "theoretical_memory_MB": 2048}}"#,
            )
            .unwrap();
        }
    }
    let (code, stdout, stderr) = run_in(dir.path(), &["init", "mbs"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "wrote mbs.yaml\nnext: memheat build mbs.yaml\n");
    let warning = "2 pp × tp config(s) have several traces that differ in `mbs`; the figure shows one trace per config (the newest) and warns; put `mbs` on an axis, or write one value of it into `inputs.filename` (e.g. `mbs1`) to plot that value";
    let trace = |tp| {
        format!(
            "warning: mbs/r_tp{tp}_pp8_mbs2.json: config tp={tp}, pp=8 has 2 traces; using this one (no trace has a numeric `ts`; last by name), ignoring mbs/r_tp{tp}_pp8_mbs1.json\n"
        )
    };
    assert_eq!(
        stderr,
        format!(
            "{}{}warning: mbs.yaml: {warning}\nwarning: mbs.yaml: {}\n",
            trace(1),
            trace(2),
            crate::errors::NO_OUTCOMES
        )
    );
    let spec = std::fs::read_to_string(dir.path().join("mbs.yaml")).unwrap();
    let comment: String = spec
        .lines()
        .filter_map(|l| l.strip_prefix("  # "))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(comment.contains(&format!("WARNING: {warning}.")), "{spec}");
    let (code, _, stderr) = run_in(dir.path(), &["build", "--dpi", "30", "mbs.yaml"]);
    assert_eq!(code, 0, "{stderr}");
}

/// The example sweep in the layouts real clusters leave (#17), under `d`.
fn layouts(d: &Path) {
    use crate::inputs::layouts;
    let example = repo().join("examples/485B");
    let configs = layouts::read_example(&example).unwrap();
    layouts::write_megatron(&configs, &d.join("megatron")).unwrap();
    layouts::write_nested(&configs, &example.join("traces"), &d.join("nested")).unwrap();
    layouts::write_table(&configs, &d.join("table")).unwrap();
}

fn spec_has(spec: &str, lines: &[&str]) {
    for line in lines {
        assert!(spec.lines().any(|l| l == *line), "{line} not in:\n{spec}");
    }
}

#[test]
fn init_reads_megatron_logs_config_directories_with_a_status_log_and_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    layouts(d);
    let expected = reference_cells();
    for (layout, lines) in [
        (
            "megatron",
            &[
                "  traces: 'megatron/slurm-*.out'",
                "  # Training logs state their units (Megatron's MB are MiB), so `input` is not needed.",
            ][..],
        ),
        (
            "nested",
            &[
                "  traces: 'nested/runs/**/mem_*.json'",
                r"  filename: 'run\-TP(?P<tp>\d+)\-PP(?P<pp>\d+)/mem_rank0\.json'",
                "    status: 'nested/sweep_status.log'",
            ][..],
        ),
        (
            "table",
            &[
                "  traces: 'table/results.csv'",
                "  actual: 'peak_allocated_MB'",
                "  theory: 'theoretical_memory_MB'",
                "  # Outcomes come from the `status` column, which memheat reads by its name.",
            ][..],
        ),
    ] {
        let (code, stdout, stderr) = run_in(d, &["init", layout]);
        assert_eq!(
            (code, stdout.as_str(), stderr.as_str()),
            (
                0,
                format!("wrote {layout}.yaml\nnext: memheat build {layout}.yaml\n").as_str(),
                ""
            ),
            "{layout}"
        );
        let spec = std::fs::read_to_string(d.join(format!("{layout}.yaml"))).unwrap();
        spec_has(&spec, lines);
        assert_eq!(cells(d, &format!("{layout}.yaml")), expected, "{layout}");
    }
    // The comments say what was read.
    let spec = std::fs::read_to_string(d.join("megatron.yaml")).unwrap();
    assert!(
        spec.contains(
            "# 32 training log(s) of runs (megatron), named like `megatron/slurm-4100000.out`."
        ),
        "{spec}"
    );
    assert!(
        spec.contains("11 run(s) died of a CUDA out-of-memory error"),
        "{spec}"
    );
}

#[test]
fn init_reads_configs_from_hydra_and_nested_key_directories() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    layouts(d);
    for (layout, path, filename) in [
        (
            "hydra",
            "tp={tp},pp={pp}",
            r"tp=(?P<tp>\d+),pp=(?P<pp>\d+)/memory\.json",
        ),
        (
            "keys",
            "tp_{tp}/pp_{pp}",
            r"tp_(?P<tp>\d+)/pp_(?P<pp>\d+)/memory\.json",
        ),
    ] {
        for entry in std::fs::read_dir(d.join("nested/runs")).unwrap() {
            let run = entry.unwrap().path();
            let name = run.file_name().unwrap().to_str().unwrap().to_string();
            let (tp, pp) = name["run-TP".len()..].split_once("-PP").unwrap();
            let to = d
                .join(layout)
                .join(path.replace("{tp}", tp).replace("{pp}", pp));
            std::fs::create_dir_all(&to).unwrap();
            std::fs::copy(run.join("mem_rank0.json"), to.join("memory.json")).unwrap();
        }
        std::fs::copy(
            d.join("nested/sweep_status.log"),
            d.join(layout).join("status.txt"),
        )
        .unwrap();
        let (code, _, stderr) = run_in(d, &["init", layout]);
        assert_eq!((code, stderr.as_str()), (0, ""), "{layout}");
        let spec = std::fs::read_to_string(d.join(format!("{layout}.yaml"))).unwrap();
        spec_has(
            &spec,
            &[
                &format!("  traces: '{layout}/**/memory.json'"),
                &format!("  filename: '{filename}'"),
                &format!("    status: '{layout}/status.txt'"),
            ],
        );
        assert_eq!(
            cells(d, &format!("{layout}.yaml")),
            reference_cells(),
            "{layout}"
        );
    }
}

#[test]
fn init_prints_the_spec_with_dash_o_dash_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    layouts(d);
    let (code, stdout, stderr) = run_in(d, &["init", "table", "-o", "-"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert!(!d.join("table.yaml").exists() && !d.join("-").exists());
    assert!(
        stdout.starts_with(
            "# Starter spec written by `memheat init table`. Build it with `memheat build SPEC`.\n"
        ),
        "{stdout}"
    );
    // Paths are relative to the working directory, so the text builds
    // once saved there.
    std::fs::write(d.join("saved.yaml"), &stdout).unwrap();
    assert_eq!(cells(d, "saved.yaml"), reference_cells());
}

#[test]
fn file_names_cannot_inject_yaml_and_braces_are_escaped_in_globs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sweep = d.join("{a,b}");
    copy_example_as_is(&sweep);
    // A line break in a name would end the comment that names it.
    let hostile = "notes\ntitle: injected\n.txt";
    std::fs::write(sweep.join(hostile), "nothing here\n").unwrap();
    let (code, stdout, stderr) = run_in(d, &["init", "{a,b}", "-o", "s.yaml"]);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
    let spec = std::fs::read_to_string(d.join("s.yaml")).unwrap();
    assert!(!spec.contains("\ntitle: injected"), "{spec}");
    assert!(spec.contains(r"notes\ntitle: injected\n.txt"), "{spec}");
    spec_has(&spec, &["  traces: '[{]a,b}/traces/memory_trace_*.json'"]);
    assert_eq!(cells(d, "s.yaml"), reference_cells());
}
