//! The command line: argument types (clap) and the loop over specs.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::compile::Engine;
use crate::{BuildOptions, diag};

/// Compile YAML figure specs into publication heatmaps of GPU memory.
///
/// Exit codes: 0 success (warnings allowed unless --strict), 1 build
/// failure, 2 command-line misuse.
#[derive(Debug, Parser)]
#[command(name = "memheat", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the PDF and PNG of each spec.
    ///
    /// Prints one line per file written; warnings and errors go to stderr.
    Build(BuildArgs),
    /// List the font families embedded in memheat (usable as `style.font`).
    Fonts,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Figure specs (YAML). Relative paths inside a spec resolve against its directory.
    #[arg(required = true, value_name = "SPEC")]
    pub specs: Vec<PathBuf>,
    /// Output base path, without extension (writes BASE.pdf, BASE.png); one spec only.
    #[arg(short, long, value_name = "BASE")]
    pub output: Option<PathBuf>,
    /// PNG resolution in dots per inch, overriding the spec's `output.dpi`; one spec only.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(10..=2400))]
    pub dpi: Option<u32>,
    /// Fail (exit 1, nothing written) when there is any warning.
    #[arg(long)]
    pub strict: bool,
    /// Print the time of each stage to stderr.
    #[arg(long)]
    pub timings: bool,
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Build(args) => build(&args),
        Command::Fonts => {
            for family in Engine::default().families() {
                println!("{family}");
            }
            ExitCode::SUCCESS
        }
    }
}

fn build(args: &BuildArgs) -> ExitCode {
    if args.specs.len() > 1 && (args.output.is_some() || args.dpi.is_some()) {
        Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "--output and --dpi apply to a single spec; build the specs one at a time",
            )
            .exit();
    }
    let options = BuildOptions {
        output: args.output.clone(),
        dpi: args.dpi,
        strict: args.strict,
    };
    let start = std::time::Instant::now();
    let engine = Engine::default();
    if args.timings {
        eprintln!(
            "timing: {:<9} {:>8.2} ms (fonts, once per process)",
            "engine",
            ms(start.elapsed())
        );
    }
    let mut failed = false;
    for spec in &args.specs {
        match crate::build(spec, &options, &engine) {
            Ok(built) => {
                let mut err = std::io::stderr().lock();
                for w in &built.warnings {
                    let _ = err.write_all(diag::warning(w).as_bytes());
                }
                if args.timings {
                    let total: std::time::Duration =
                        built.timings.stages.iter().map(|(_, d)| *d).sum();
                    for (stage, d) in &built.timings.stages {
                        let _ =
                            writeln!(err, "timing: {stage:<9} {:>8.2} ms", d.as_secs_f64() * 1e3);
                    }
                    let _ = writeln!(
                        err,
                        "timing: {:<9} {:>8.2} ms",
                        "total",
                        total.as_secs_f64() * 1e3
                    );
                }
                let mut out = std::io::stdout().lock();
                for path in &built.written {
                    let _ = writeln!(out, "wrote {}", path.display());
                }
            }
            Err(e) => {
                failed = true;
                let _ = std::io::stderr().write_all(diag::error(&e).as_bytes());
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
