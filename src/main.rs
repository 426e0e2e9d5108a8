use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    memheat::cli::run(memheat::cli::Cli::parse())
}
