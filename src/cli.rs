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
    /// Build, then rebuild whenever an input changes, until Ctrl-C.
    ///
    /// Takes build's options. Watches each spec, its template, traces and
    /// logs, and the directories its globs list (a new or deleted trace
    /// counts). Prints one line per rebuild on stderr; a failed build prints
    /// its errors and watching goes on.
    Watch(BuildArgs),
    /// Print the figure's numbers, one row per cell, as CSV or JSON.
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
    /// Output format; by default taken from the extension of -o, else csv.
    #[arg(long, value_enum)]
    pub format: Option<DataFormat>,
    /// Write to FILE (atomically) instead of standard output; `-` is
    /// standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
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

fn set(s: &str) -> Result<Set, String> {
    s.parse()
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The sweep's directory; traces and logs may be anywhere below it.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Where to write the spec [default: DIR's name + .yaml, in the
    /// working directory]. Paths in it are relative to its directory.
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
        Command::Build(args) => build(&args, format),
        Command::Watch(args) => watch(&args, format),
        Command::Check(args) => check(&args, format),
        Command::Data(args) => data(&args, format),
        Command::Init(args) => init(&args, format),
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
        Err(e) => report(crate::export::ExportError::Stdout(e).into(), format),
    }
}

fn usage_error(message: &str) -> ! {
    use clap::CommandFactory;
    Cli::command()
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}

fn build(args: &BuildArgs, format: DiagnosticFormat) -> bool {
    let options = build_options(args);
    let start = std::time::Instant::now();
    let engine = Engine::default();
    if args.timings {
        eprintln!(
            "timing: {:<9} {:>8.2} ms (fonts, once per process)",
            "engine",
            ms(start.elapsed())
        );
    }
    let results = build_all(args, &options, &engine);
    report_builds(args, &results, format)
}

fn build_options(args: &BuildArgs) -> BuildOptions {
    if args.specs.len() > 1 && args.output.is_some() {
        usage_error(
            "--output names one figure; build the specs one at a time, or set `output.path` in each",
        );
    }
    if args.output.as_ref().is_some_and(|o| o.as_os_str() == "-") {
        usage_error(
            "`-o -`: a build writes one file per format, which standard output cannot hold apart; give a base path such as `figures/485B`",
        );
    }
    if args.deps.as_ref().is_some_and(|d| d.as_os_str() == "-") {
        usage_error(
            "`--deps -`: the depfile would be mixed with the `wrote` lines on standard output; give a file such as `figures/485B.d`",
        );
    }
    BuildOptions {
        output: args.output.clone(),
        dpi: args.dpi,
        // Specs of one paper often read the same sweep.
        traces: Some(Default::default()),
        depfile: args.deps.is_some(),
        ..args.overrides.options(args.strict)
    }
}

/// Builds every spec on all cores; results come in argument order.
fn build_all(
    args: &BuildArgs,
    options: &BuildOptions,
    engine: &Engine,
) -> Vec<Result<Built, Box<Failed>>> {
    let bars = Bars::start(args.progress);
    let options = BuildOptions {
        progress: bars.as_ref().map(|b| crate::ProgressSink(b.clone())),
        ..options.clone()
    };
    let results = args
        .specs
        .par_iter()
        .map(|spec| crate::build(spec, &options, engine))
        .collect();
    if let Some(bars) = bars {
        bars.stop();
    }
    results
}

/// One progress bar per spec being built, on stderr, which must be a
/// terminal: make and CI logs never get one.
struct Bars {
    multi: indicatif::MultiProgress,
    bars: std::sync::Mutex<std::collections::HashMap<PathBuf, indicatif::ProgressBar>>,
    /// Dropped when the builds end, which cancels a pending `auto` reveal.
    running: std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>>,
}

/// `auto` shows the bars only when the builds run longer than this.
const PROGRESS_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

impl Bars {
    fn start(mode: ProgressMode) -> Option<std::sync::Arc<Bars>> {
        use indicatif::ProgressDrawTarget;
        use std::io::IsTerminal as _;
        if mode == ProgressMode::Never || !std::io::stderr().is_terminal() {
            return None;
        }
        let (running, stopped) = std::sync::mpsc::channel();
        let target = match mode {
            ProgressMode::Always => ProgressDrawTarget::stderr(),
            _ => ProgressDrawTarget::hidden(),
        };
        let bars = std::sync::Arc::new(Bars {
            multi: indicatif::MultiProgress::with_draw_target(target),
            bars: Default::default(),
            running: std::sync::Mutex::new(Some(running)),
        });
        if mode == ProgressMode::Auto {
            let multi = bars.multi.clone();
            std::thread::spawn(move || {
                if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(PROGRESS_DELAY)
                {
                    multi.set_draw_target(ProgressDrawTarget::stderr());
                }
            });
        }
        Some(bars)
    }

    fn bar(&self, spec: &Path) -> indicatif::ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        bars.entry(spec.to_path_buf())
            .or_insert_with(|| self.multi.add(indicatif::ProgressBar::no_length()))
            .clone()
    }

    fn stop(&self) {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let _ = self.multi.clear();
    }
}

impl crate::Progress for Bars {
    fn stage(&self, spec: &Path, stage: &'static str, steps: u64) {
        let bar = self.bar(spec);
        let style = if steps > 0 {
            "{spinner} {prefix}: {msg} {wide_bar} {pos}/{len}"
        } else {
            "{spinner} {prefix}: {msg}"
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(style) {
            bar.set_style(style);
        }
        bar.set_prefix(paths::shown(spec));
        bar.set_message(stage);
        bar.set_length(steps);
        bar.set_position(0);
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
    }

    fn step(&self, spec: &Path) {
        self.bar(spec).inc(1);
    }

    fn done(&self, spec: &Path) {
        self.bar(spec).finish_and_clear();
    }
}

/// Prints what the builds did (warnings, errors, `wrote` lines unless
/// quiet, timings) and writes the depfile. `true` if all went well.
fn report_builds(
    args: &BuildArgs,
    results: &[Result<Built, Box<Failed>>],
    format: DiagnosticFormat,
) -> bool {
    let mut all_ok = true;
    let mut rules = String::new();
    for result in results {
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
                    let written = built
                        .written
                        .iter()
                        .try_for_each(|path| writeln!(out, "wrote {}", paths::shown(path)))
                        .and_then(|()| out.flush());
                    drop(out);
                    // stderr's lock is reentrant: the report may take it.
                    all_ok &= stdout_written(written, format);
                }
                if args.deps.is_some() {
                    match crate::deps::render(&built.written, &built.deps) {
                        Ok(rule) => rules.push_str(&rule),
                        Err(e) => all_ok &= report(e.into(), format),
                    }
                }
            }
            Err(failed) => {
                all_ok = false;
                let _ = err.write_all(diag::failure(failed, format).as_bytes());
            }
        }
    }
    let unnameable = results
        .iter()
        .any(|r| matches!(r, Err(failed) if matches!(failed.error, crate::Error::Deps(_))));
    if let Some(path) = args.deps.as_ref().filter(|_| !unnameable) {
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

/// Builds, then waits for a change to any input and builds again, forever:
/// only an error of the watcher itself, or a signal, ends it.
fn watch(args: &BuildArgs, format: DiagnosticFormat) -> bool {
    let options = build_options(args);
    let engine = Engine::default();
    let mut watcher = match crate::watch::Watcher::new() {
        Ok(watcher) => watcher,
        Err(e) => return report(e.into(), format),
    };
    // The status line names the outputs; the rounds print no `wrote` lines.
    let round_args = BuildArgs {
        quiet: true,
        ..args.clone()
    };
    let mut outputs: Vec<PathBuf> = args.deps.iter().cloned().collect();
    let mut changed = None;
    loop {
        let start = std::time::Instant::now();
        let results = build_all(args, &options, &engine);
        let ok = report_builds(&round_args, &results, format);
        let elapsed = start.elapsed();
        outputs.extend(results.iter().flatten().flat_map(|b| b.written.clone()));
        outputs.sort();
        outputs.dedup();
        let deps: Vec<&crate::Deps> = results
            .iter()
            .map(|r| match r {
                Ok(built) => &built.deps,
                Err(failed) => &failed.deps,
            })
            .collect();
        if let Some(traces) = &options.traces {
            let read: Vec<PathBuf> = deps.iter().flat_map(|d| d.files.clone()).collect();
            traces.retain(&read);
        }
        // Typst memoizes across compiles; keep what the last few rounds used.
        typst::comemo::evict(10);
        let watching = match watcher.follow(deps, &outputs) {
            Ok(counts) => counts,
            Err(e) => return report(e.into(), format),
        };
        if !ok || !args.quiet {
            eprintln!(
                "{}",
                watch_status(changed.as_deref(), &results, elapsed, watching)
            );
        }
        changed = match watcher.changed() {
            Ok(paths) => Some(paths),
            Err(e) => return report(e.into(), format),
        };
    }
}

/// One line per round: what changed, what was built or that it failed, and
/// after the first build, what is watched.
fn watch_status(
    changed: Option<&[PathBuf]>,
    results: &[Result<Built, Box<Failed>>],
    elapsed: std::time::Duration,
    (files, dirs): (usize, usize),
) -> String {
    let mut line = match changed {
        Some([first, rest @ ..]) => {
            let more = match rest.len() {
                0 => String::new(),
                n => format!(" (and {n} more)"),
            };
            format!("{}{more} changed: ", paths::shown(first))
        }
        _ => String::new(),
    };
    let failed = results.iter().filter(|r| r.is_err()).count();
    if failed == 0 {
        let written: Vec<String> = results
            .iter()
            .flatten()
            .flat_map(|b| b.written.iter().map(|p| paths::shown(p)))
            .collect();
        line += &format!("built {} in {:.0} ms", written.join(", "), ms(elapsed));
    } else {
        line += &format!(
            "{failed} of {} spec(s) failed; fix and save to rebuild",
            results.len()
        );
    }
    if changed.is_none() {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        line += &format!(
            "; watching {} and {} (Ctrl-C to stop)",
            plural(files, "file", "files"),
            plural(dirs, "directory", "directories")
        );
    }
    line
}

fn check(args: &CheckArgs, format: DiagnosticFormat) -> bool {
    let options = args.overrides.options(args.strict);
    let engine = Engine::default();
    let results: Vec<Result<Vec<crate::warning::Warning>, Box<Failed>>> = args
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
    let options = args.overrides.options(args.strict);
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
    match file_or_stdout(&args.output) {
        Some(path) => write_file(path, text.as_bytes(), &model.deps.files, format),
        None => print(&text, format),
    }
}

fn init(args: &InitArgs, format: DiagnosticFormat) -> bool {
    use std::io::IsTerminal as _;
    let interactive = std::io::stdin().is_terminal();
    let mut ask = |question: &crate::init::Question| {
        if interactive {
            ask_on_terminal(question)
        } else {
            0
        }
    };
    match crate::init::init(&args.dir, args.output.as_deref(), args.force, &mut ask) {
        Ok(done) => {
            let _ = std::io::stderr().write_all(diag::warnings(&done.warnings, format).as_bytes());
            let spec = paths::shown(&done.spec);
            print(
                &format!("wrote {spec}\nnext: memheat build {}\n", shell_word(&spec)),
                format,
            )
        }
        Err(failed) => {
            let _ = std::io::stderr().write_all(diag::failure(&failed, format).as_bytes());
            false
        }
    }
}

/// Asks on stderr, reads a number from stdin; Enter, end of input or
/// three wrong answers take the first option.
fn ask_on_terminal(question: &crate::init::Question) -> usize {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", question.topic);
    for (i, option) in question.options.iter().enumerate() {
        let _ = writeln!(err, "  {}) {option}", i + 1);
    }
    for _ in 0..3 {
        let _ = write!(err, "choose 1-{} [1]: ", question.options.len());
        let _ = err.flush();
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).unwrap_or(0) == 0 {
            break;
        }
        match answer.trim().parse::<usize>() {
            _ if answer.trim().is_empty() => break,
            Ok(n) if (1..=question.options.len()).contains(&n) => return n - 1,
            _ => {}
        }
    }
    0
}

/// A path as a shell word, quoted only when it needs to be.
fn shell_word(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
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
