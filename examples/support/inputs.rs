//! The 485B example sweep (`examples/485B`) laid out as other clusters
//! leave their sweeps, with the same numbers, so each layout must give the
//! figure's cells exactly:
//!
//! - `megatron/`: one Megatron-LM stdout per config (`slurm-<job>.out`), its
//!   config only in the arguments dump, core_v0.15 and v0.16 formats
//!   alternating, OOM tracebacks of every PyTorch era, some with glued rank
//!   reports, `srun --label` prefixes or CRLF endings;
//! - `nested/`: the traces as `runs/run-TP<tp>-PP<pp>/mem_rank0.json` and one
//!   status log with both outcomes (`tp=4 pp=16 status=OOM`);
//! - `table/results.csv`: one row per config, OOM rows without numbers.
//!
//! Included via `#[path]` by `examples/gen_inputs.rs` and the tests.

#![allow(dead_code)]

use std::fs;
use std::io;
use std::path::Path;

use super::megatron_logs::{self as logs, ERAS, OomStyle, Run, Variant};

/// One config of the example sweep, as its traces and logs record it.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub tp: u32,
    pub pp: u32,
    pub dp: u32,
    /// `peak_allocated_MB` and `theoretical_memory_MB` of its trace; `None`
    /// for a config that failed (it has no trace).
    pub measured: Option<(f64, f64)>,
    /// The trace's file name, for a config that has one.
    pub trace: Option<String>,
}

/// Every config of the sweep in `dir` (`traces/` and `logs/`), by TP then PP.
pub fn read_example(dir: &Path) -> io::Result<Vec<Config>> {
    let mut configs = Vec::new();
    for entry in fs::read_dir(dir.join("traces"))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let field = |key: &str| -> u32 {
            name.split('_')
                .find_map(|t| t.strip_prefix(key)?.parse().ok())
                .unwrap_or_default()
        };
        let text = fs::read_to_string(dir.join("traces").join(&name))?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(io::Error::other)?;
        let number = |key: &str| json["0"][key].as_f64().unwrap_or(f64::NAN);
        configs.push(Config {
            tp: field("tp"),
            pp: field("pp"),
            dp: field("dp"),
            measured: Some((number("peak_allocated_MB"), number("theoretical_memory_MB"))),
            trace: Some(name),
        });
    }
    let failed = fs::read_to_string(dir.join("logs/failed_configs.log"))?;
    for line in failed.lines().filter(|l| l.starts_with("Config")) {
        let value = |key: &str| -> u32 {
            line.split([',', ' '])
                .find_map(|t| t.strip_prefix(key)?.parse().ok())
                .unwrap_or_default()
        };
        configs.push(Config {
            tp: value("TP="),
            pp: value("PP="),
            dp: value("DP="),
            measured: None,
            trace: None,
        });
    }
    configs.sort_by_key(|c| (c.tp, c.pp));
    Ok(configs)
}

/// One Megatron log per config in `out/`.
pub fn write_megatron(configs: &[Config], out: &Path) -> io::Result<()> {
    fs::create_dir_all(out)?;
    let mut failures = 0;
    for (i, c) in configs.iter().enumerate() {
        let (peak_mib, theory_mib) = c.measured.unwrap_or((81_920.0, 0.0));
        let run = Run {
            tp: c.tp,
            pp: c.pp,
            dp: c.dp,
            layers: 96,
            peak_mib,
            theory_mib: c.measured.map(|_| theory_mib),
            oom: c.measured.is_none(),
        };
        let variant = if i % 2 == 0 {
            Variant::MegatronCore015
        } else {
            Variant::MegatronCore016
        };
        let oom = OomStyle {
            era: ERAS[failures % ERAS.len()],
            rank: (failures % 2 == 1).then_some(c.tp * c.pp - 1),
        };
        failures += usize::from(run.oom);
        let mut text = logs::write_log(&run, variant, oom);
        if i % 3 == 0 {
            text = logs::glue_ranks(&text);
        }
        if i % 4 == 1 {
            text = logs::srun_label(&text, i as u32);
        }
        if i % 5 == 2 {
            text = logs::crlf(&text);
        }
        fs::write(out.join(format!("slurm-{}.out", 4_100_000 + i)), text)?;
    }
    Ok(())
}

/// The traces in per-config directories, and one status log, in `out/`.
pub fn write_nested(configs: &[Config], traces: &Path, out: &Path) -> io::Result<()> {
    let mut status = String::from("# sweep status, both outcomes\n");
    for c in configs {
        let outcome = if c.measured.is_some() { "OK" } else { "OOM" };
        status.push_str(&format!("tp={} pp={} status={outcome}\n", c.tp, c.pp));
        if let Some(name) = &c.trace {
            let dir = out.join(format!("runs/run-TP{}-PP{}", c.tp, c.pp));
            fs::create_dir_all(&dir)?;
            fs::copy(traces.join(name), dir.join("mem_rank0.json"))?;
        }
    }
    fs::write(out.join("sweep_status.log"), status)
}

/// A results table, one row per config, in `out/results.csv`.
pub fn write_table(configs: &[Config], out: &Path) -> io::Result<()> {
    fs::create_dir_all(out)?;
    let mut csv = String::from("TP,PP,DP,status,peak_allocated_MB,theoretical_memory_MB\n");
    for c in configs {
        let (status, numbers) = match c.measured {
            Some((actual, theory)) => ("COMPLETED", format!("{actual},{theory}")),
            None => ("OOM", ",".to_string()),
        };
        csv.push_str(&format!("{},{},{},{status},{numbers}\n", c.tp, c.pp, c.dp));
    }
    fs::write(out.join("results.csv"), csv)
}
