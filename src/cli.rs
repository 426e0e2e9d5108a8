//! The command line: argument types (clap) and one small function per
//! subcommand, each a composition of the library's stages.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rayon::prelude::*;

use crate::compile::Engine;
use crate::diag::{self, DiagnosticFormat};
use crate::numbers::DataFormat;
use crate::spec::DPI_RANGE;
use crate::{BuildOptions, Built, Failed, Set, paths};

/// Compile YAML figure specs into publication heatmaps of GPU memory.
///
/// Exit codes: 0 success (warnings allowed unless --strict), 1 a spec
/// failed, 2 command-line misuse.
#[derive(Debug, Parser)]
#[command(name = "memheat", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// How to print warnings and errors: with a snippet of the input
    /// (human), one line each (short), or one JSON object per line (json).
    #[arg(long, global = true, value_enum, default_value_t = DiagnosticFormat::Human)]
    pub diagnostic_format: DiagnosticFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the outputs of each spec (PDF and PNG by default).
    ///
    /// Several specs build in parallel; a failing spec does not stop the
    /// others. Prints one `wrote` line per file; warnings and errors go to
    /// stderr.
    Build(BuildArgs),
    /// Check specs: parse, load the data, build the table and compile the
    /// figure, without writing anything.
    ///
    /// Exit 0 when every spec is fine, 1 on any error (or any warning with
    /// --strict). Meant for pre-commit hooks and CI.
    Check(CheckArgs),
    /// Print the figure's numbers, one row per cell, as CSV or JSON.
    Data(DataArgs),
    /// Print the built-in Typst template, a starting point for `template:`.
    Template,
    /// List the font families embedded in memheat (usable as `style.font`).
    Fonts {
        /// Also list each family's styles.
        #[arg(long)]
        variants: bool,
    },
    /// Print a shell completion script, e.g. `memheat completions bash >
    /// ~/.local/share/bash-completion/completions/memheat`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Figure specs (YAML). Relative paths inside a spec resolve against the
    /// directory of the file they are written in (the spec, or a base it extends).
    #[arg(required = true, value_name = "SPEC")]
    pub specs: Vec<PathBuf>,
    /// Output base path (writes BASE.pdf, BASE.png, ...); one spec only.
    #[arg(short, long, value_name = "BASE")]
    pub output: Option<PathBuf>,
    /// PNG resolution in dots per inch, overriding each spec's `output.dpi`.
    #[arg(long, value_name = "N", value_parser = dpi)]
    pub dpi: Option<u32>,
    /// Fail (exit 1, nothing written) when there is any warning.
    #[arg(long)]
    pub strict: bool,
    /// Write a make depfile: every output depends on the spec, template,
    /// traces, logs and the directories the globs listed.
    #[arg(long, value_name = "FILE")]
    pub deps: Option<PathBuf>,
    /// Print no `wrote` lines.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the time of each stage to stderr.
    #[arg(long)]
    pub timings: bool,
    #[command(flatten)]
    pub overrides: Overrides,
}

/// Spec values given on the command line.
#[derive(Debug, clap::Args)]
pub struct Overrides {
    /// Set a spec key, over the spec and its bases, e.g. `--set output.dpi=600`
    /// or `--set 'color.range=[0, 100]'`. The value is YAML, as in the spec;
    /// a relative path is relative to the working directory. Repeatable.
    #[arg(long = "set", value_name = "KEY.PATH=VALUE", value_parser = set)]
    pub sets: Vec<Set>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[arg(required = true, value_name = "SPEC")]
    pub specs: Vec<PathBuf>,
    /// Any warning is an error.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub overrides: Overrides,
}

#[derive(Debug, clap::Args)]
pub struct DataArgs {
    #[arg(value_name = "SPEC")]
    pub spec: PathBuf,
    /// Output format; by default taken from the extension of -o, else csv.
    #[arg(long, value_enum)]
    pub format: Option<DataFormat>,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Any warning is an error.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub overrides: Overrides,
}

fn set(s: &str) -> Result<Set, String> {
    s.parse()
}

fn dpi(s: &str) -> Result<u32, String> {
    let n: u32 = s.parse().map_err(|e| format!("{e}"))?;
    if DPI_RANGE.contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "{n} is not in {}..={}",
            DPI_RANGE.start(),
            DPI_RANGE.end()
        ))
    }
}

pub fn run(cli: Cli) -> ExitCode {
    crate::output::remove_temps_on_signal();
    let format = cli.diagnostic_format;
    let ok = match cli.command {
        Command::Build(args) => build(&args, format),
        Command::Check(args) => check(&args, format),
        Command::Data(args) => data(&args, format),
        Command::Template => print(crate::template::HEATMAP),
        Command::Fonts { variants } => {
            let engine = Engine::default();
            let lines = if variants {
                engine.variants()
            } else {
                engine.families()
            };
            print(&(lines.join("\n") + "\n"))
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "memheat", &mut script);
            print(&String::from_utf8_lossy(&script))
        }
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print(text: &str) -> bool {
    // A closed pipe (`memheat template | head`) is not a failure.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    true
}

fn usage_error(message: &str) -> ! {
    use clap::CommandFactory;
    Cli::command()
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}

fn build(args: &BuildArgs, format: DiagnosticFormat) -> bool {
    if args.specs.len() > 1 && args.output.is_some() {
        usage_error(
            "--output names one figure; build the specs one at a time, or set `output.path` in each",
        );
    }
    let options = BuildOptions {
        output: args.output.clone(),
        dpi: args.dpi,
        strict: args.strict,
        sets: args.overrides.sets.clone(),
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
    // Specs build on all cores; results print in argument order.
    let results: Vec<Result<Built, Box<Failed>>> = args
        .specs
        .par_iter()
        .map(|spec| crate::build(spec, &options, &engine))
        .collect();
    let mut all_ok = true;
    let mut rules = String::new();
    for result in &results {
        let mut err = std::io::stderr().lock();
        match result {
            Ok(built) => {
                let _ = err.write_all(diag::warnings(&built.warnings, format).as_bytes());
                if args.timings {
                    for (stage, d) in &built.timings.stages {
                        let _ = writeln!(err, "timing: {stage:<9} {:>8.2} ms", ms(*d));
                    }
                    let _ = writeln!(
                        err,
                        "timing: {:<9} {:>8.2} ms (wall)",
                        "total",
                        ms(built.timings.total)
                    );
                }
                if !args.quiet {
                    let mut out = std::io::stdout().lock();
                    for path in &built.written {
                        let _ = writeln!(out, "wrote {}", paths::shown(path));
                    }
                }
                if args.deps.is_some() {
                    match crate::deps::render(&built.written, &built.deps) {
                        Ok(rule) => rules.push_str(&rule),
                        Err(e) => {
                            all_ok = false;
                            let _ = writeln!(err, "error: {e}");
                        }
                    }
                }
            }
            Err(failed) => {
                all_ok = false;
                let _ = err.write_all(diag::failure(failed, format).as_bytes());
            }
        }
    }
    if let Some(path) = &args.deps {
        // The depfile must not replace anything any of the builds read.
        let read: Vec<PathBuf> = results
            .iter()
            .flat_map(|r| match r {
                Ok(built) => &built.deps.files,
                Err(failed) => &failed.deps.files,
            })
            .cloned()
            .collect();
        let written: Vec<PathBuf> = results
            .iter()
            .flatten()
            .flat_map(|built| built.written.iter().cloned())
            .collect();
        all_ok &= match paths::clobbers(path, &written) {
            // `--deps out/fig.pdf` would replace the figure just built.
            Some(output) => report(
                crate::export::ExportError::BadOutput {
                    message: format!(
                        "the depfile `{}` would overwrite `{}`, which this build wrote",
                        paths::shown(path),
                        paths::shown(&output)
                    ),
                    hint: "name the depfile after the figure, e.g. `figures/485B.d`".into(),
                }
                .into(),
                format,
            ),
            None => write_file(path, rules.as_bytes(), &read, format),
        };
    }
    all_ok
}

fn check(args: &CheckArgs, format: DiagnosticFormat) -> bool {
    let options = BuildOptions {
        strict: args.strict,
        sets: args.overrides.sets.clone(),
        ..BuildOptions::default()
    };
    let engine = Engine::default();
    let results: Vec<Result<Vec<crate::data::Warning>, Box<Failed>>> = args
        .specs
        .par_iter()
        .map(|spec| {
            let mut model = crate::load(spec, &options, &engine)?;
            match crate::compile_checked(&mut model, &engine) {
                Ok(_) => Ok(model.warnings),
                Err(error) => Err(model.failed(error)),
            }
        })
        .collect();
    let mut all_ok = true;
    let mut err = std::io::stderr().lock();
    for result in &results {
        let text = match result {
            Ok(warnings) => diag::warnings(warnings, format),
            Err(failed) => {
                all_ok = false;
                diag::failure(failed, format)
            }
        };
        let _ = err.write_all(text.as_bytes());
    }
    all_ok
}

fn data(args: &DataArgs, format: DiagnosticFormat) -> bool {
    let options = BuildOptions {
        strict: args.strict,
        sets: args.overrides.sets.clone(),
        ..BuildOptions::default()
    };
    let engine = Engine::default();
    let mut err = std::io::stderr().lock();
    let mut model = match crate::load(&args.spec, &options, &engine) {
        Ok(model) => model,
        Err(failed) => {
            let _ = err.write_all(diag::failure(&failed, format).as_bytes());
            return false;
        }
    };
    if model.strict && !model.warnings.is_empty() {
        let warnings = std::mem::take(&mut model.warnings);
        let failed = model.failed(crate::Error::Strict(warnings));
        let _ = err.write_all(diag::failure(&failed, format).as_bytes());
        return false;
    }
    let _ = err.write_all(diag::warnings(&model.warnings, format).as_bytes());
    let from_extension = args
        .output
        .as_ref()
        .and_then(|p| p.extension())
        .filter(|e| *e == "json")
        .map(|_| DataFormat::Json);
    let text = crate::numbers::render(
        &model,
        args.format.or(from_extension).unwrap_or(DataFormat::Csv),
    );
    match &args.output {
        Some(path) => write_file(path, text.as_bytes(), &model.deps.files, format),
        None => print(&text),
    }
}

/// Writes a side file (depfile, data) atomically, never over an input.
fn write_file(path: &Path, bytes: &[u8], inputs: &[PathBuf], format: DiagnosticFormat) -> bool {
    let result = match paths::clobbers(path, inputs) {
        Some(input) => Err(crate::export::ExportError::WouldOverwrite {
            output: path.to_path_buf(),
            input,
        }),
        None => crate::output::write_all(&[(path, bytes)]),
    };
    match result {
        Ok(()) => true,
        Err(e) => report(e.into(), format),
    }
}

/// Prints an error that belongs to no spec's build; always `false`.
fn report(error: crate::Error, format: DiagnosticFormat) -> bool {
    let failed = Failed {
        error,
        warnings: vec![],
        deps: crate::Deps::default(),
    };
    let _ = std::io::stderr().write_all(diag::failure(&failed, format).as_bytes());
    false
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
