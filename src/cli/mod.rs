//! The command line: argument types (clap) and one small function per
//! subcommand, each a composition of the library's stages.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod build;
mod commands;

use clap::{Parser, Subcommand};

use crate::compile::Engine;
use crate::diag::{self, DiagnosticFormat};
use crate::numbers::DataFormat;
use crate::spec::DPI_RANGE;
use crate::{BuildOptions, Failed, Set, paths};

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
    /// Build, then rebuild whenever an input changes, until Ctrl-C.
    ///
    /// Takes build's options. Watches each spec, its template, traces and
    /// logs, and the directories its globs list (a new or deleted trace
    /// counts). Prints one line per rebuild on stderr; a failed build prints
    /// its errors and watching goes on.
    Watch(BuildArgs),
    /// Print the figure's numbers: one row per cell (CSV, JSON), LaTeX
    /// macros or a booktabs table, a Typst module, or the alternative text.
    Data(DataArgs),
    /// Write a commented starter spec for a sweep directory.
    ///
    /// Finds the trace files (JSON) and status logs under DIR, infers how
    /// their names encode the config, which JSON fields hold the peak and
    /// the estimate, and the log line pattern, and writes a spec that
    /// `memheat build` builds as it is. Asks only when two field names are
    /// equally likely, and only when standard input is a terminal.
    Init(InitArgs),
    /// Print the built-in Typst template, a starting point for `template:`.
    Template(TemplateArgs),
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

#[derive(Debug, Clone, clap::Args)]
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
    /// Write a make depfile whose target is FILE itself, a stamp: it
    /// depends on the spec, template, traces, logs and the directories the
    /// globs listed (see docs/paper.md for the Makefile rule).
    #[arg(long, value_name = "FILE")]
    pub deps: Option<PathBuf>,
    /// Print no `wrote` (or `unchanged`) lines.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the time of each stage to stderr.
    #[arg(long)]
    pub timings: bool,
    /// A progress bar on stderr: `auto` when a build runs longer than half
    /// a second, `always` from the start; only ever on a terminal.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
    #[command(flatten)]
    pub overrides: Overrides,
}

/// Spec values given on the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct Overrides {
    /// Set a spec key, over the spec and its bases, e.g. `--set output.dpi=600`
    /// or `--set 'color.range=[0, 100]'`. The value is YAML, as in the spec;
    /// a relative path is relative to the working directory. Repeatable.
    #[arg(long = "set", value_name = "KEY.PATH=VALUE", value_parser = set)]
    pub sets: Vec<Set>,
    /// Also use the fonts in DIR and its subdirectories (.ttf, .otf, .ttc,
    /// .otc), as `fonts.paths` in the spec does; relative to the working
    /// directory. Repeatable.
    #[arg(long = "font-path", value_name = "DIR", value_parser = font_dir)]
    pub font_paths: Vec<PathBuf>,
}

fn font_dir(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    if path.is_dir() {
        Ok(path)
    } else if path.exists() {
        Err("not a directory".into())
    } else {
        Err("no such directory".into())
    }
}

impl Overrides {
    fn options(&self, strict: bool) -> BuildOptions {
        BuildOptions {
            strict,
            sets: self.sets.clone(),
            font_paths: self.font_paths.clone(),
            ..BuildOptions::default()
        }
    }
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
pub struct TemplateArgs {
    /// Write to FILE (atomically) instead of standard output; `-` is
    /// standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct DataArgs {
    #[arg(value_name = "SPEC")]
    pub spec: PathBuf,
    /// Output format; by default taken from the extension of -o (.csv,
    /// .json, .tex, .typ), else csv.
    #[arg(long, value_enum)]
    pub format: Option<DataFormat>,
    /// Write to FILE (atomically) instead of standard output; `-` is
    /// standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The figure's name in the tex and typst formats (`\memheat{NAME}...`)
    /// [default: the spec's file name without its extension].
    #[arg(long, value_name = "NAME", value_parser = figure_name)]
    pub name: Option<String>,
    /// Write a make depfile: FILE (the -o file) depends on the spec,
    /// template, traces, logs and the directories the globs listed.
    #[arg(long, value_name = "FILE")]
    pub deps: Option<PathBuf>,
    /// Any warning is an error.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub overrides: Overrides,
}

/// `-o -`: standard output, for the commands that write one stream.
fn file_or_stdout(output: &Option<PathBuf>) -> Option<&Path> {
    output.as_deref().filter(|p| p.as_os_str() != "-")
}

fn figure_name(s: &str) -> Result<String, String> {
    if s.is_empty() {
        Err("the name is empty".into())
    } else if s.contains('@') {
        // `@` separates the parts of a value's name in the tex format.
        Err("a name may not contain `@`".into())
    } else {
        Ok(s.to_string())
    }
}

fn set(s: &str) -> Result<Set, String> {
    s.parse()
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The sweep's directory; traces and logs may be anywhere below it.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Where to write the spec [default: DIR's name + .yaml, in the
    /// working directory]; `-` prints it. Paths in it are relative to its
    /// directory (to the working directory when printed).
    #[arg(short, long, value_name = "SPEC")]
    pub output: Option<PathBuf>,
    /// Replace SPEC if it exists (never a file of the sweep).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    Auto,
    Always,
    Never,
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
    crate::compile::on_overrun(move |overrun| {
        let failed = crate::Failed {
            error: crate::Error::Budget(overrun.clone()),
            warnings: vec![],
            deps: crate::Deps::default(),
        };
        let _ = std::io::stderr().write_all(diag::failure(&failed, format).as_bytes());
        crate::output::exit_removing_temps(1);
    });
    let ok = match cli.command {
        Command::Build(args) => build::build(&args, format),
        Command::Watch(args) => build::watch(&args, format),
        Command::Check(args) => commands::check(&args, format),
        Command::Data(args) => commands::data(&args, format),
        Command::Init(args) => commands::init(&args, format),
        Command::Template(args) => match file_or_stdout(&args.output) {
            Some(path) => write_file(path, crate::template::HEATMAP.as_bytes(), &[], format),
            None => print(crate::template::HEATMAP, format),
        },
        Command::Fonts { variants } => {
            let engine = Engine::default();
            let lines = if variants {
                engine.variants()
            } else {
                engine.families()
            };
            print(&(lines.join("\n") + "\n"), format)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "memheat", &mut script);
            print(&String::from_utf8_lossy(&script), format)
        }
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Writes `text` to standard output; `false` (after saying why) if that
/// failed.
fn print(text: &str, format: DiagnosticFormat) -> bool {
    let mut out = std::io::stdout().lock();
    let written = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    stdout_written(written, format)
}

/// A closed pipe (`memheat template | head`) is not a failure: the reader
/// has what it wanted. Any other error (a full disk under `> numbers.csv`,
/// `> /dev/full`) is, or the file would silently be short.
fn stdout_written(result: std::io::Result<()>, format: DiagnosticFormat) -> bool {
    match result {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => true,
        Err(e) => report(crate::export::ExportError::Stdout(e), format),
    }
}

fn usage_error(message: &str) -> ! {
    use clap::CommandFactory;
    Cli::command()
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}

/// Writes a side file (depfile, data) atomically, never over an input.
fn write_file(path: &Path, bytes: &[u8], inputs: &[PathBuf], format: DiagnosticFormat) -> bool {
    let result = match paths::clobbers(path, inputs) {
        Some(input) => Err(crate::export::ExportError::WouldOverwrite {
            output: path.to_path_buf(),
            input,
        }),
        None => crate::output::write_all(&[(path, bytes)], None).map(drop),
    };
    match result {
        Ok(()) => true,
        Err(e) => report(e, format),
    }
}

/// Prints an error that belongs to no spec's build; always `false`.
fn report(error: impl Into<crate::Error>, format: DiagnosticFormat) -> bool {
    let failed = Failed::new(error.into(), vec![], crate::Deps::default());
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
