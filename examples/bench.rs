//! Benchmark of `memheat build`: the time of each stage in-process, a floor
//! for reading the traces (`cat`, `std::fs::read`), and the wall time and
//! peak RSS of the real binary.
//!
//! ```text
//! cargo build --release      # the end-to-end part runs target/release/memheat
//! cargo run --release --example bench -- [--files N] [--samples S] [--runs R] [--keep DIR]
//!                                         [--logs N MB] [--only-logs]
//! ```
//!
//! The training-log part writes N Megatron-LM logs of about MB decimal
//! megabytes each (default 100 × 50) and times `memheat data` on them
//! against `cat` of the same files; `--only-logs` runs only that part.
//!
//! Two inputs: the shipped example (`specs/485B.yaml`) and a large synthetic
//! sweep of N traces of S samples each (default 100 × 74000, about 6.5 MB a
//! trace), generated deterministically into a temporary directory, or into
//! DIR with `--keep`, which is then left in place. Each timing is the median
//! of R runs (default 5) after one warm-up build, so the page cache is warm:
//! this measures memheat, not the disk.

// A binary: its modules' `pub` items are for each other.
#![allow(unreachable_pub)]

#[path = "support/megatron_logs.rs"]
mod megatron_logs;
#[path = "support/synth.rs"]
mod synth;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

use memheat::Engine;
use memheat::{BuildOptions, Built};

const USAGE: &str =
    "usage: bench [--files N] [--samples S] [--runs R] [--keep DIR] [--logs N MB] [--only-logs]";

/// Hidden mode, `bench --measure-child PROGRAM ARGS...`; see [`measure_child`].
const MEASURE_CHILD: &str = "--measure-child";

/// Decimal megabytes, as `gen_sweep` reports them.
const MB: f64 = 1e6;

struct Args {
    files: usize,
    samples: usize,
    runs: usize,
    keep: Option<PathBuf>,
    /// Training logs to write, and decimal megabytes each.
    logs: (usize, usize),
    only_logs: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        files: 100,
        samples: 74_000,
        runs: 5,
        keep: None,
        logs: (100, 50),
        only_logs: false,
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--files" => parsed.files = parse_count(&flag, &value()?)?,
            "--samples" => parsed.samples = parse_count(&flag, &value()?)?,
            "--runs" => parsed.runs = parse_count(&flag, &value()?)?,
            "--keep" => parsed.keep = Some(PathBuf::from(value()?)),
            "--logs" => {
                let count = parse_count(&flag, &value()?)?;
                parsed.logs = (count, parse_count(&flag, &value()?)?);
            }
            "--only-logs" => parsed.only_logs = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unexpected argument {other}")),
        }
    }
    // The generator's own limits; checked here so they are errors, not panics.
    if !(1..=900).contains(&parsed.files) || parsed.samples < 2 {
        return Err("--files must be in 1..=900 and --samples at least 2".to_owned());
    }
    Ok(parsed)
}

fn parse_count(flag: &str, value: &str) -> Result<usize, String> {
    match value.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{flag} needs a positive integer, not `{value}`")),
    }
}

/// One way of building a figure.
#[derive(Clone)]
struct Scenario {
    name: &'static str,
    spec: PathBuf,
    /// Output base (`BASE.pdf`, `BASE.png`); always in the benchmark's
    /// directory, so the repository's `figures/` are never touched.
    output: PathBuf,
    dpi: Option<u32>,
}

impl Scenario {
    fn options(&self) -> BuildOptions {
        BuildOptions {
            output: Some(self.output.clone()),
            dpi: self.dpi,
            strict: false,
            ..BuildOptions::default()
        }
    }

    /// The same build as [`Scenario::options`], for the command line.
    fn cli_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "build".into(),
            self.spec.clone().into(),
            "-o".into(),
            self.output.clone().into(),
        ];
        if let Some(dpi) = self.dpi {
            args.extend(["--dpi".into(), dpi.to_string().into()]);
        }
        args
    }

    fn output_file(&self, ext: &str) -> PathBuf {
        let mut name = self.output.clone().into_os_string();
        name.push(format!(".{ext}"));
        name.into()
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    if args.next_if_eq(MEASURE_CHILD).is_some() {
        return measure_child(args);
    }
    let result = parse_args(args)
        .map_err(|msg| format!("{msg}\n{USAGE}"))
        .and_then(|args| run(&args));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("bench: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    // Holds the temporary directory until the end (dropping it deletes it).
    let (_temp, dir) = work_dir(args.keep.as_deref())?;
    let memheat_bin = memheat_binary()?;
    if args.only_logs {
        return print_log_read(&memheat_bin, &dir, args.logs, args.runs);
    }

    let written = generate(&dir, args.files, args.samples)?;
    let large_spec = write_large_spec(&dir, &written)?;
    let example = Scenario {
        name: "example",
        spec: Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/485B.yaml"),
        output: dir.join("example"),
        dpi: None,
    };
    let example_600 = Scenario {
        name: "example --dpi 600",
        output: dir.join("example-600"),
        dpi: Some(600),
        ..example.clone()
    };
    let large = Scenario {
        name: "large",
        spec: large_spec,
        output: dir.join("large"),
        dpi: None,
    };

    let start = Instant::now();
    let engine = Engine::default();
    println!(
        "\nengine set-up (fonts, Typst library): {:.1} ms, once per process, not in the stages",
        ms(start.elapsed())
    );

    println!(
        "\n## In-process `memheat::build`, median of {} runs after 1 warm-up build (page cache warm)",
        args.runs
    );
    let in_process = [&example, &large]
        .map(|s| bench_in_process(s, &engine, args.runs))
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    print_stage_table(&in_process);

    println!(
        "\n## Reading the large sweep's traces, median of {} runs",
        args.runs
    );
    print_read_floor(&in_process[1], args.runs)?;

    println!(
        "\n## End to end: `memheat build SPEC -o BASE [--dpi N]`, median of {} runs",
        args.runs
    );
    let grid = |n: usize| -> Result<Scenario, String> {
        Ok(Scenario {
            name: if n == 32 {
                "grid 32 x 32"
            } else {
                "grid 64 x 64"
            },
            spec: write_grid(&dir, n)?,
            output: dir.join(format!("grid{n}")),
            dpi: None,
        })
    };
    let (grid32, grid64) = (grid(32)?, grid(64)?);
    // Smallest first, so a failure shows up before the long runs.
    let end_to_end = [&example, &example_600, &large, &grid32, &grid64];
    print_end_to_end(&memheat_bin, &end_to_end, args.runs)?;

    println!(
        "\n## {MANY_SPECS} specs of the example: one `memheat build` of all against one invocation each, median of {} runs",
        args.runs
    );
    print_many_specs(&memheat_bin, &dir, args.runs)?;

    println!(
        "\n## `memheat watch` of the example: from a trace's change to the rebuilt PNG, median of {} changes",
        args.runs.max(5)
    );
    print_watch_latency(&memheat_bin, &dir, args.runs.max(5))?;

    print_log_read(&memheat_bin, &dir, args.logs, args.runs)?;

    println!("\n## Sizes");
    print_sizes(&in_process, &end_to_end)?;
    if args.keep.is_some() {
        println!("\nkept {}", dir.display());
    }
    Ok(())
}

fn work_dir(keep: Option<&Path>) -> Result<(Option<tempfile::TempDir>, PathBuf), String> {
    let Some(dir) = keep else {
        let temp = tempfile::Builder::new()
            .prefix("memheat-bench-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let path = temp.path().to_path_buf();
        return Ok((Some(temp), path));
    };
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // Leftover traces of a different sweep would match the spec's glob.
    let empty = fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .next()
        .is_none();
    if !empty {
        return Err(format!("--keep {} must be empty or new", dir.display()));
    }
    Ok((None, dir.to_path_buf()))
}

/// `target/release/memheat`. Cargo builds only the library for
/// `cargo run --example`, so the binary can be older than the code this
/// benchmark links; say so rather than time stale code silently.
fn memheat_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate myself: {e}"))?;
    // target/release/examples/bench → target/release/memheat
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|release| release.join("memheat"))
        .ok_or("cannot derive target/release from the benchmark's path")?;
    let Ok(built) = fs::metadata(&bin).and_then(|m| m.modified()) else {
        return Err(format!(
            "{} not found; run `cargo build --release` first",
            bin.display()
        ));
    };
    // The binary's inputs that change while working: code and template.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let edited = ["src", "templates"]
        .iter()
        .filter_map(|d| newest_modification(&repo.join(d)))
        .max();
    if edited.is_some_and(|edited| edited > built) {
        println!(
            "note: src/ or templates/ changed after {} was built; run `cargo build --release` to time the current code",
            bin.display()
        );
    }
    Ok(bin)
}

/// Newest modification time of the files under `dir`, recursively.
fn newest_modification(dir: &Path) -> Option<SystemTime> {
    fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let meta = entry.metadata().ok()?;
            if meta.is_dir() {
                newest_modification(&entry.path())
            } else {
                meta.modified().ok()
            }
        })
        .max()
}

fn generate(dir: &Path, files: usize, samples: usize) -> Result<synth::Written, String> {
    let start = Instant::now();
    let written = synth::write_sweep(dir, &synth::SweepParams::large(files, samples))
        .map_err(|e| format!("generating the sweep in {}: {e}", dir.display()))?;
    println!(
        "generated {} traces × {samples} samples ({:.1} MB) in {} in {:.1} s",
        written.traces.len(),
        written.bytes as f64 / MB,
        dir.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(written)
}

/// The large sweep's spec. Its colour range is fitted to the generated
/// peaks: a 13B model on up to 512-way TP/PP peaks near 27 GiB, so the
/// example's [0, 80] would leave most cells nearly white. The top is rounded
/// up to 20 GiB so that the default 5 colourbar ticks fall on multiples of 5.
fn write_large_spec(dir: &Path, written: &synth::Written) -> Result<PathBuf, String> {
    let top_gib = written
        .configs
        .iter()
        .map(|c| c.peak_mib / 1024.0)
        .fold(0.0, f64::max);
    let range_top = ((top_gib / 20.0).ceil() * 20.0).max(20.0);
    let spec = format!(
        r#"# Generated by examples/bench.rs; paths resolve against this directory.
title: "Benchmark sweep: {n} traces"
inputs:
  traces: traces/*.json
  logs:
    success: logs/successful_configs.log
    failure: logs/failed_configs.log
color:
  range: [0, {range_top}]
output:
  path: large
"#,
        n = written.traces.len()
    );
    let path = dir.join("large.yaml");
    fs::write(&path, spec).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}

/// An n x n sweep of tiny traces, every other one above the threshold (so
/// half the cells are hatched), at 300 DPI: the cost of many cells.
fn write_grid(dir: &Path, n: usize) -> Result<PathBuf, String> {
    let grid = dir.join(format!("grid{n}"));
    let traces = grid.join("traces");
    fs::create_dir_all(&traces).map_err(|e| format!("{}: {e}", traces.display()))?;
    // Every run succeeded; saying so keeps the build free of the warning
    // that OOM configs cannot be shown.
    let mut status = String::new();
    for tp in 1..=n {
        for pp in 1..=n {
            status.push_str(&format!("tp={tp} pp={pp} status=success\n"));
            let actual = 1024.0 * (10.0 + ((tp * 7 + pp * 13) % 60) as f64);
            let theory = actual * if (tp + pp) % 2 == 0 { 1.5 } else { 0.8 };
            let path = traces.join(format!(
                "memory_trace_rank0_wd8_tp{tp}_pp{pp}_dp1_exp1_expNumNone_l2_mbs1_nmbs1_gbs8_ts1.json"
            ));
            let json = format!(
                r#"{{"0": {{"peak_allocated_MB": {actual}, "theoretical_memory_MB": {theory}}}}}"#
            );
            fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let log = grid.join("status.log");
    fs::write(&log, status).map_err(|e| format!("{}: {e}", log.display()))?;
    let spec = grid.join("spec.yaml");
    fs::write(
        &spec,
        "title: \"Grid\"\ninputs:\n  traces: traces/*.json\n  logs:\n    status: status.log\ncolor:\n  range: [0, 80]\nthresholds:\n  - {metric: theory, above: 60, label: \"Theory > 60 GB\"}\noutput:\n  dpi: 300\n",
    )
    .map_err(|e| format!("{}: {e}", spec.display()))?;
    Ok(spec)
}

/// Median stage times of one scenario, and the trace files it read.
struct InProcess {
    name: &'static str,
    /// Pipeline order, as `Timings` records it.
    stages: Vec<(&'static str, Duration)>,
    /// Median of the per-run sums (not the sum of the medians).
    total: Duration,
    traces: Vec<PathBuf>,
    trace_bytes: u64,
}

impl InProcess {
    fn stage(&self, name: &str) -> Option<Duration> {
        self.stages
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, d)| *d)
    }
}

fn bench_in_process(s: &Scenario, engine: &Engine, runs: usize) -> Result<InProcess, String> {
    // The warm-up fills the page cache and is where we check the build is clean.
    let warm = build_once(s, engine)?;
    if warm.warnings.is_empty() {
        println!("{}: warm-up build done, no warnings", s.name);
    } else {
        println!(
            "{}: warm-up build gave {} warning(s):",
            s.name,
            warm.warnings.len()
        );
        for w in &warm.warnings {
            println!("  warning: {w}");
        }
    }
    let names: Vec<&'static str> = warm.timings.stages.iter().map(|(n, _)| *n).collect();
    let mut per_stage: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); names.len()];
    let mut totals = Vec::with_capacity(runs);
    for _ in 0..runs {
        let built = build_once(s, engine)?;
        let stages = &built.timings.stages;
        if !stages.iter().map(|(n, _)| *n).eq(names.iter().copied()) {
            return Err(format!("{}: the stages changed between runs", s.name));
        }
        for (samples, (_, d)) in per_stage.iter_mut().zip(stages) {
            samples.push(*d);
        }
        // Wall time: pdf and png overlap, so the stages sum to more.
        totals.push(built.timings.total);
    }

    // `deps.files` is the spec, the traces and the logs; the traces are the JSON.
    let traces: Vec<PathBuf> = warm
        .deps
        .files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    Ok(InProcess {
        name: s.name,
        stages: names
            .into_iter()
            .zip(per_stage.into_iter().map(median))
            .collect(),
        total: median(totals),
        trace_bytes: total_size(&traces)?,
        traces,
    })
}

fn build_once(s: &Scenario, engine: &Engine) -> Result<Built, String> {
    // Typst memoises across compilations in one process (comemo). A
    // `memheat build` process compiles a spec once, so every measured build
    // starts with an empty cache, as the CLI does; otherwise runs after the
    // first would time a cache hit.
    typst::comemo::evict(0);
    memheat::build(&s.spec, &s.options(), engine).map_err(|e| format!("{}: {e}", s.name))
}

fn print_stage_table(results: &[InProcess]) {
    print!("{:<14}", "stage (ms)");
    for r in results {
        print!("{:>12}", r.name);
    }
    println!();
    let row = |label: &str, value: &dyn Fn(&InProcess) -> Option<f64>| {
        print!("{label:<14}");
        for r in results {
            match value(r) {
                Some(v) => print!("{v:>12.2}"),
                None => print!("{:>12}", "-"),
            }
        }
        println!();
    };
    for (name, _) in &results[0].stages {
        row(name, &|r| r.stage(name).map(ms));
    }
    row("total (wall)", &|r| Some(ms(r.total)));
    row("load MB/s", &|r| {
        r.stage("load").map(|d| mb_per_s(r.trace_bytes, d))
    });
    row("trace MB", &|r| Some(r.trace_bytes as f64 / MB));
}

/// What reading the bytes costs without parsing them: `cat` to /dev/null
/// (a separate process, one thread) and `std::fs::read` in this process.
fn print_read_floor(large: &InProcess, runs: usize) -> Result<(), String> {
    let files = &large.traces;
    let cat = median_of_runs(runs, || {
        let start = Instant::now();
        let status = Command::new("cat")
            .args(files)
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run cat: {e}"))?;
        if !status.success() {
            return Err(format!("cat failed: {status}"));
        }
        Ok(start.elapsed())
    })?;
    let read = median_of_runs(runs, || {
        let start = Instant::now();
        let mut bytes = 0;
        for f in files {
            bytes += fs::read(f)
                .map_err(|e| format!("reading {}: {e}", f.display()))?
                .len() as u64;
        }
        if bytes != large.trace_bytes {
            return Err("the traces changed size while benchmarking".to_owned());
        }
        Ok(start.elapsed())
    })?;
    let load = large.stage("load").ok_or("no load stage")?;

    let line = |what: &str, d: Duration| {
        println!(
            "{what:<34}{:>10.2} ms {:>8.0} MB/s",
            ms(d),
            mb_per_s(large.trace_bytes, d)
        );
    };
    line(&format!("cat {} files > /dev/null", files.len()), cat);
    line("std::fs::read, 1 thread", read);
    line("memheat load stage", load);
    println!("{:<34}{:>10.2}", "ratio load / cat", ratio(load, cat));
    println!("{:<34}{:>10.2}", "ratio load / fs::read", ratio(load, read));
    Ok(())
}

fn print_end_to_end(bin: &Path, scenarios: &[&Scenario], runs: usize) -> Result<(), String> {
    // Noise on a shared machine only adds time: the fastest run shows what
    // the build costs when nothing else runs, the median what to expect.
    println!(
        "{:<20}{:>12}{:>12}{:>16}",
        "scenario", "wall ms", "fastest ms", "peak RSS MiB"
    );
    for s in scenarios {
        let args = s.cli_args();
        let mut walls = Vec::with_capacity(runs);
        let mut peak_kib = 0;
        for _ in 0..runs {
            let child = run_measured(bin, &args)?;
            walls.push(child.wall);
            peak_kib = peak_kib.max(child.maxrss_kib);
        }
        let fastest = walls.iter().min().copied().unwrap_or_default();
        println!(
            "{:<20}{:>12.1}{:>12.1}{:>16.1}",
            s.name,
            ms(median(walls)),
            ms(fastest),
            peak_kib as f64 / 1024.0
        );
    }
    Ok(())
}

const MANY_SPECS: usize = 20;

/// A paper's `make` with many figures: `memheat build s0.yaml … s19.yaml`
/// (parallel, one engine) against 20 processes one after another.
fn print_many_specs(bin: &Path, dir: &Path, runs: usize) -> Result<(), String> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/485B");
    let many = dir.join("many");
    fs::create_dir_all(&many).map_err(|e| format!("{}: {e}", many.display()))?;
    let mut specs: Vec<OsString> = Vec::with_capacity(MANY_SPECS);
    for i in 0..MANY_SPECS {
        let spec = many.join(format!("s{i}.yaml"));
        let text = format!(
            "title: \"Figure {i}\"\ninputs:\n  traces: '{0}/traces/*.json'\n  logs: {{failure: '{0}/logs/failed_configs.log'}}\noutput: {{path: s{i}, dpi: 300}}\n",
            examples.display()
        );
        fs::write(&spec, text).map_err(|e| format!("{}: {e}", spec.display()))?;
        specs.push(spec.into());
    }
    let together = median_of_runs(runs, || {
        let mut args: Vec<OsString> = vec!["build".into(), "-q".into()];
        args.extend(specs.iter().cloned());
        Ok(run_measured(bin, &args)?.wall)
    })?;
    let one_by_one = median_of_runs(runs, || {
        specs.iter().try_fold(Duration::ZERO, |sum, spec| {
            let args: Vec<OsString> = vec!["build".into(), "-q".into(), spec.clone()];
            Ok(sum + run_measured(bin, &args)?.wall)
        })
    })?;
    println!("{:<34}{:>10}", "", "wall ms");
    println!(
        "{:<34}{:>10.1}",
        format!("1 invocation, {MANY_SPECS} specs"),
        ms(together)
    );
    println!(
        "{:<34}{:>10.1}",
        format!("{MANY_SPECS} invocations, 1 spec each"),
        ms(one_by_one)
    );
    println!("{:<34}{:>10.2}", "ratio", ratio(one_by_one, together));
    Ok(())
}

/// Runs `memheat watch` on a copy of the example, rewrites one trace at a
/// time, and times each change to the status line that follows it, which
/// is printed once the PNG is written.
fn print_watch_latency(bin: &Path, dir: &Path, changes: usize) -> Result<(), String> {
    use std::io::BufRead as _;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let copy = dir.join("watch");
    let traces = copy.join("traces");
    let logs = copy.join("logs");
    for (from, to) in [
        ("examples/485B/traces", &traces),
        ("examples/485B/logs", &logs),
    ] {
        fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
        for entry in fs::read_dir(root.join(from)).map_err(|e| format!("{from}: {e}"))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            fs::copy(&path, to.join(path.file_name().unwrap_or_default()))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let spec = copy.join("spec.yaml");
    fs::write(
        &spec,
        "inputs:\n  traces: traces/*.json\n  logs: {success: logs/successful_configs.log, failure: logs/failed_configs.log}\noutput: {path: fig, dpi: 300}\n",
    )
    .map_err(|e| format!("{}: {e}", spec.display()))?;
    let mut child = Command::new(bin)
        .args(["watch", "spec.yaml"])
        .current_dir(&copy)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let mut lines = std::io::BufReader::new(child.stderr.take().ok_or("no stderr")?).lines();
    let mut next_line = || -> Result<String, String> {
        match lines.next() {
            Some(Ok(line)) => Ok(line),
            _ => Err("memheat watch stopped".to_owned()),
        }
    };
    let first = next_line()?;
    let trace = fs::read_dir(&traces)
        .map_err(|e| e.to_string())?
        .filter_map(|e| Some(e.ok()?.path()))
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .ok_or("no trace")?;
    let original = fs::read_to_string(&trace).map_err(|e| e.to_string())?;
    let key = "\"peak_allocated_MB\": ";
    let value = original.find(key).ok_or("no peak in the trace")? + key.len();
    let value_end = value
        + original[value..]
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or("no end to the peak")?;
    let mut latencies = Vec::with_capacity(changes);
    let mut rebuilds = Vec::with_capacity(changes);
    for i in 0..changes {
        // A different peak each time (1 GB, 2 GB, ...: plausible, and shown
        // differently), so every rebuild draws a new PNG.
        let changed = format!(
            "{}{}{}",
            &original[..value],
            (i + 1) * 1000,
            &original[value_end..]
        );
        let start = Instant::now();
        fs::write(&trace, changed).map_err(|e| e.to_string())?;
        let status = next_line()?;
        latencies.push(start.elapsed());
        let build_ms = status
            .rsplit_once(" in ")
            .and_then(|(_, t)| t.strip_suffix(" ms"))
            .and_then(|t| t.parse::<f64>().ok())
            .ok_or_else(|| format!("unexpected status line: {status}"))?;
        rebuilds.push(Duration::from_secs_f64(build_ms / 1e3));
    }
    let _ = child.kill();
    let _ = child.wait();
    println!("first build: {first}");
    println!(
        "{:<34}{:>10.1}",
        "change to rebuilt PNG, ms",
        ms(median(latencies))
    );
    println!(
        "{:<34}{:>10.1}",
        "of which the rebuild, ms",
        ms(median(rebuilds))
    );
    Ok(())
}

struct ChildRun {
    wall: Duration,
    maxrss_kib: u64,
}

/// Runs `bin args` through a fresh `bench --measure-child`, whose
/// RUSAGE_CHILDREN then covers exactly that one process.
fn run_measured(bin: &Path, args: &[OsString]) -> Result<ChildRun, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot locate myself: {e}"))?;
    let out = Command::new(me)
        .arg(MEASURE_CHILD)
        .arg(bin)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {MEASURE_CHILD}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("{} {args:?} failed: {}", bin.display(), out.status));
    }
    let field = |key: &str| -> Result<u64, String> {
        stdout
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .ok_or(format!("no {key} in `{}`", stdout.trim()))
    };
    Ok(ChildRun {
        wall: Duration::from_nanos(field("wall_ns")?),
        maxrss_kib: field("maxrss_kib")?,
    })
}

/// `bench --measure-child PROGRAM ARGS...`: runs PROGRAM once and prints
/// `wall_ns=… maxrss_kib=…`. RUSAGE_CHILDREN is the largest of all children
/// a process has waited for, so only a process that runs a single child
/// gives that child's own peak, rather than the peak so far.
fn measure_child(mut args: impl Iterator<Item = String>) -> ExitCode {
    let Some(program) = args.next() else {
        eprintln!("bench: {MEASURE_CHILD} needs a program");
        return ExitCode::from(2);
    };
    let start = Instant::now();
    // memheat prints "wrote …" on stdout; ours carries the result.
    let status = Command::new(&program)
        .args(args)
        .stdout(Stdio::null())
        .status();
    let wall = start.elapsed();
    match status {
        Ok(status) if status.success() => {
            println!(
                "wall_ns={} maxrss_kib={}",
                wall.as_nanos(),
                children_maxrss_kib()
            );
            ExitCode::SUCCESS
        }
        Ok(status) => {
            eprintln!("bench: {program} failed: {status}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("bench: cannot run {program}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Peak resident set of the largest waited-for child, in KiB (Linux units).
#[allow(unsafe_code)] // getrusage has no std wrapper
fn children_maxrss_kib() -> u64 {
    // SAFETY: `rusage` is plain integers, so all-zero is a valid value, and
    // getrusage only writes into the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0, "getrusage(RUSAGE_CHILDREN) failed");
    u64::try_from(usage.ru_maxrss).unwrap_or(0)
}

fn print_sizes(in_process: &[InProcess], end_to_end: &[&Scenario]) -> Result<(), String> {
    for r in in_process {
        println!(
            "{:<20} traces: {} files, {} bytes ({:.1} MB)",
            r.name,
            r.traces.len(),
            r.trace_bytes,
            r.trace_bytes as f64 / MB
        );
    }
    for s in end_to_end {
        let (pdf, png) = (s.output_file("pdf"), s.output_file("png"));
        let (width, height) = png_pixels(&png)?;
        println!(
            "{:<20} PDF {:>9} bytes   PNG {:>9} bytes, {width} × {height} px",
            s.name,
            total_size(std::slice::from_ref(&pdf))?,
            total_size(std::slice::from_ref(&png))?,
        );
    }
    Ok(())
}

/// Width and height from the PNG's IHDR chunk, which the format requires
/// to come first: 8-byte signature, 4-byte length, "IHDR", then the sizes.
fn png_pixels(path: &Path) -> Result<(u32, u32), String> {
    let bytes = fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let be_u32 = |at: usize| {
        let word = bytes.get(at..at + 4)?;
        Some(u32::from_be_bytes(word.try_into().ok()?))
    };
    match (bytes.get(12..16), be_u32(16), be_u32(20)) {
        (Some(b"IHDR"), Some(w), Some(h)) => Ok((w, h)),
        _ => Err(format!("{} is not a PNG", path.display())),
    }
}

fn total_size(files: &[PathBuf]) -> Result<u64, String> {
    files
        .iter()
        .map(|f| {
            fs::metadata(f)
                .map(|m| m.len())
                .map_err(|e| format!("{}: {e}", f.display()))
        })
        .sum()
}

fn median_of_runs(
    runs: usize,
    mut once: impl FnMut() -> Result<Duration, String>,
) -> Result<Duration, String> {
    let times = (0..runs).map(|_| once()).collect::<Result<Vec<_>, _>>()?;
    Ok(median(times))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    let mid = times.len() / 2;
    if times.len() % 2 == 1 {
        times[mid]
    } else {
        (times[mid - 1] + times[mid]) / 2
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mb_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / MB / d.as_secs_f64()
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// Writes `count` Megatron-LM logs of about `mb` decimal megabytes (a
/// training loop's iteration lines, a memory report every 100 iterations),
/// then times `memheat data` on them against `cat` of the same files.
fn print_log_read(
    bin: &Path,
    dir: &Path,
    (count, mb): (usize, usize),
    runs: usize,
) -> Result<(), String> {
    use std::fmt::Write as _;
    let logs = dir.join("logs");
    fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let mut paths = Vec::with_capacity(count);
    for i in 0..count {
        let run = megatron_logs::Run {
            tp: 1 << (i % 4),
            pp: 1 + (i / 4) as u32,
            dp: 8,
            layers: 96,
            peak_mib: 40_000.0 + i as f64,
            theory_mib: Some(50_000.0),
            oom: false,
        };
        let no_oom = megatron_logs::OomStyle {
            era: megatron_logs::OomEra::Torch25,
            rank: None,
        };
        let mut text =
            megatron_logs::write_log(&run, megatron_logs::Variant::MegatronCore016, no_oom);
        let mut iteration = 0u64;
        while text.len() < mb * 1_000_000 {
            iteration += 1;
            let _ = writeln!(
                text,
                " [2026-12-06 12:00:00] iteration {iteration:>8}/  500000 | consumed samples: {:>12} | elapsed time per iteration (ms): 1234.5 | learning rate: 1.000000E-04 | global batch size:  1024 | lm loss: 2.345678E+00 | loss scale: 1.0 | grad norm: 0.123 | number of skipped iterations:   0 | number of nan iterations:   0 |",
                iteration * 1024
            );
            if iteration.is_multiple_of(100) {
                let _ = writeln!(
                    text,
                    "[Rank 0] (after {iteration} iterations) memory (MB) | allocated: 30000.00 | max allocated: 35000.00 | reserved: 38000.00 | max reserved: 38000.00"
                );
            }
        }
        let path = logs.join(format!("slurm-{i}.out"));
        fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        paths.push(path);
    }
    let spec = dir.join("logs.yaml");
    fs::write(&spec, "inputs: {traces: 'logs/*.out'}\n")
        .map_err(|e| format!("{}: {e}", spec.display()))?;
    let bytes = total_size(&paths)?;
    let quiet = |mut command: Command| -> Result<(), String> {
        let status = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        status
            .success()
            .then_some(())
            .ok_or(format!("{command:?} failed"))
    };
    // One warm-up read of each, so the page cache is warm for both.
    let cat = || {
        let mut command = Command::new("cat");
        command.args(&paths);
        let start = Instant::now();
        quiet(command).map(|()| start.elapsed())
    };
    let data = || {
        let mut command = Command::new(bin);
        command.current_dir(dir).args(["data", "logs.yaml"]);
        let start = Instant::now();
        quiet(command).map(|()| start.elapsed())
    };
    cat()?;
    data()?;
    let cat = median_of_runs(runs, cat)?;
    let data = median_of_runs(runs, data)?;
    println!(
        "\n## Reading {count} Megatron-LM logs of {mb} MB ({:.0} MB in all), median of {runs} runs",
        bytes as f64 / MB
    );
    println!("{:<34}{:>10}{:>10}", "", "wall ms", "MB/s");
    println!(
        "{:<34}{:>10.1}{:>10.0}",
        "cat",
        ms(cat),
        mb_per_s(bytes, cat)
    );
    println!(
        "{:<34}{:>10.1}{:>10.0}",
        "memheat data",
        ms(data),
        mb_per_s(bytes, data)
    );
    println!("{:<34}{:>10.2}", "memheat / cat", ratio(data, cat));
    Ok(())
}
