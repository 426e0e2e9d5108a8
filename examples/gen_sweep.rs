//! Writes a synthetic GPU-memory sweep (traces + logs) for memheat.
//!
//! ```text
//! cargo run --release --example gen_sweep -- OUT_DIR [--175b | --large FILES SAMPLES] [--table]
//! ```
//!
//! By default it writes the 485B example sweep (`examples/485B`); `--175b`
//! writes the smaller 175B sweep (`examples/175B`).
//! `--large` writes a benchmark sweep of FILES traces of SAMPLES samples each.
//! `--table` also prints one row per config (TP, PP, status, GiB).

// A binary: its modules' `pub` items are for each other.
#![allow(unreachable_pub)]

#[path = "support/synth.rs"]
mod synth;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: gen_sweep OUT_DIR [--175b | --large FILES SAMPLES] [--table]";

struct Args {
    out_dir: PathBuf,
    large: Option<(usize, usize)>,
    small: bool,
    table: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut out_dir = None;
    let mut large = None;
    let mut table = false;
    let mut small = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--large" => {
                let mut count = |what: &str| {
                    args.next()
                        .and_then(|v| v.parse::<usize>().ok())
                        .ok_or(format!("--large needs a positive integer {what}"))
                };
                large = Some((count("FILES")?, count("SAMPLES")?));
            }
            "--table" => table = true,
            "--175b" => small = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            dir if out_dir.is_none() => out_dir = Some(PathBuf::from(dir)),
            extra => return Err(format!("unexpected argument {extra}")),
        }
    }
    let out_dir = out_dir.ok_or("missing OUT_DIR")?;
    if let Some((files, samples)) = large
        && !((1..=900).contains(&files) && samples >= 2)
    {
        return Err("--large needs 1..=900 FILES and at least 2 SAMPLES".to_owned());
    }
    if small && large.is_some() {
        return Err("--175b and --large are two different sweeps; pick one".to_owned());
    }
    Ok(Args {
        out_dir,
        large,
        small,
        table,
    })
}

fn print_table(written: &synth::Written) {
    println!(
        "{:>3} {:>4} {:>7} {:>11} {:>11}",
        "TP", "PP", "status", "actual GiB", "theory GiB"
    );
    for c in &written.configs {
        let status = if c.succeeded { "SUCCESS" } else { "FAILED" };
        println!(
            "{:>3} {:>4} {status:>7} {:>11.2} {:>11.2}",
            c.tp,
            c.pp,
            c.peak_mib / 1024.0,
            c.theory_mib / 1024.0
        );
    }
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("gen_sweep: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let params = match args.large {
        Some((files, samples)) => synth::SweepParams::large(files, samples),
        None if args.small => synth::SweepParams::example_175b(),
        None => synth::SweepParams::example_485b(),
    };

    let start = Instant::now();
    let written = match synth::write_sweep(&args.out_dir, &params) {
        Ok(written) => written,
        Err(err) => {
            eprintln!("gen_sweep: writing {}: {err}", args.out_dir.display());
            return ExitCode::FAILURE;
        }
    };
    if args.table {
        print_table(&written);
    }
    println!(
        "wrote {} traces ({} succeeded, {} failed, {:.2} MB) to {} in {:.2?}",
        written.traces.len(),
        written.succeeded,
        written.failed,
        written.bytes as f64 / 1e6,
        args.out_dir.display(),
        start.elapsed()
    );
    ExitCode::SUCCESS
}
