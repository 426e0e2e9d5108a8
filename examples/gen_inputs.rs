//! Writes the 485B example sweep in the other layouts memheat reads.
//!
//! ```text
//! cargo run --release --example gen_inputs -- OUT_DIR [SWEEP_DIR]
//! ```
//!
//! SWEEP_DIR defaults to `examples/485B`; OUT_DIR gets `megatron/`,
//! `nested/` and `table/` (see `examples/support/inputs.rs`). The committed
//! `examples/485B-megatron/` is `megatron/` of this run.

// A binary: its modules' `pub` items are for each other.
#![allow(unreachable_pub)]

#[path = "support/inputs.rs"]
mod inputs;
#[path = "support/megatron_logs.rs"]
mod megatron_logs;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, sweep) = match args.as_slice() {
        [out] => (PathBuf::from(out), PathBuf::from("examples/485B")),
        [out, sweep] => (PathBuf::from(out), PathBuf::from(sweep)),
        _ => {
            eprintln!("usage: gen_inputs OUT_DIR [SWEEP_DIR]");
            return ExitCode::from(2);
        }
    };
    let written = inputs::read_example(&sweep).and_then(|configs| {
        inputs::write_megatron(&configs, &out.join("megatron"))?;
        inputs::write_nested(&configs, &sweep.join("traces"), &out.join("nested"))?;
        inputs::write_table(&configs, &out.join("table"))?;
        Ok(configs.len())
    });
    match written {
        Ok(n) => {
            println!("wrote {n} configs in 3 layouts under {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_inputs: {e}");
            ExitCode::FAILURE
        }
    }
}
