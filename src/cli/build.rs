//! `build` and `watch`: many specs built at once, with progress bars on a
//! terminal, each spec's outcome reported in order.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{BuildArgs, ProgressMode, ms, report, stdout_written, usage_error};
use crate::compile::Engine;
use crate::diag::{self, DiagnosticFormat};
use crate::{BuildOptions, Built, Failed, paths};

pub(super) fn build(args: &BuildArgs, format: DiagnosticFormat) -> bool {
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
        depfile: args.deps.clone(),
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
                        .try_for_each(|path| {
                            let verb = if built.unchanged.contains(path) {
                                "unchanged"
                            } else {
                                "wrote"
                            };
                            writeln!(out, "{verb} {}", paths::shown(path))
                        })
                        .and_then(|()| out.flush());
                    drop(out);
                    // stderr's lock is reentrant: the report may take it.
                    all_ok &= stdout_written(written, format);
                }
            }
            Err(failed) => {
                all_ok = false;
                let _ = err.write_all(diag::failure(failed, format).as_bytes());
            }
        }
    }
    if let Some(path) = &args.deps
        && let Err(e) = crate::write_depfile(path, results)
    {
        all_ok &= report(e, format);
    }
    all_ok
}

/// Builds, then waits for a change to any input and builds again, forever:
/// only an error of the watcher itself, or a signal, ends it.
pub(super) fn watch(args: &BuildArgs, format: DiagnosticFormat) -> bool {
    let options = build_options(args);
    let engine = Engine::default();
    let mut watcher = match crate::watch::Watcher::new() {
        Ok(watcher) => watcher,
        Err(e) => return report(e, format),
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
            Err(e) => return report(e, format),
        };
        if !ok || !args.quiet {
            eprintln!(
                "{}",
                watch_status(changed.as_deref(), &results, elapsed, watching)
            );
        }
        changed = match watcher.changed() {
            Ok(paths) => Some(paths),
            Err(e) => return report(e, format),
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
