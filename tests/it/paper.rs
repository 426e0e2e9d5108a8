//! examples/paper driven by real GNU make: LaTeX runs exactly when a
//! figure's bytes change, memheat exactly when something it read did, and
//! a failed build is never "up to date". LaTeX is a recorder that counts
//! its runs, and copies the figure or (when installed) hands over to
//! pdflatex. mtimes are set explicitly, never waited for.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use memheat::Engine;

use crate::errors::{Fixture, good, trace_json};
use crate::harden::have_make;
use crate::util::{copy_dir, pdf_text, repo, run_in};

/// The trace whose value the test changes: TP=2, PP=16.
const TRACE: &str = "485B/traces/memory_trace_rank0_wd8192_tp2_pp16_dp256_exp1_expNumNone_l96_mbs1_nmbs96_gbs24576_ts46932.json";

/// Stands in for LaTeX: one line per run in latex.log, then $REAL_LATEX if
/// set, else the figure copied to paper.pdf (failing as LaTeX would when it
/// is missing).
const RECORDER: &str = r#"#!/bin/sh
echo "$*" >> latex.log
if [ -n "$REAL_LATEX" ]; then exec "$REAL_LATEX" "$@"; fi
for tex; do :; done
test -s figures/memory.pdf || { echo "! LaTeX Error: File 'figures/memory.pdf' not found." >&2; exit 1; }
cp figures/memory.pdf "${tex%.tex}.pdf"
"#;

/// A copy of examples/paper beside a copy of the data it reads
/// (examples/485B), so that its relative paths hold.
struct Paper {
    dir: tempfile::TempDir,
    /// The LaTeX the recorder hands over to, if any.
    latex: Option<&'static str>,
}

/// What one `make` did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    memheat: usize,
    latex: usize,
}

impl Paper {
    fn new(latex: Option<&'static str>) -> Paper {
        let paper = Paper {
            dir: tempfile::tempdir().unwrap(),
            latex,
        };
        copy_dir(&repo().join("examples/paper"), &paper.path("paper"));
        for data in ["traces", "logs"] {
            copy_dir(
                &repo().join("examples/485B").join(data),
                &paper.path(&format!("485B/{data}")),
            );
        }
        std::fs::write(paper.path("latex-recorder"), RECORDER).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::Permissions::from_mode(0o755);
            std::fs::set_permissions(paper.path("latex-recorder"), mode).unwrap();
        }
        // Everything the copy wrote is long settled.
        for entry in walkdir::WalkDir::new(paper.dir.path()) {
            let entry = entry.unwrap();
            set_age(entry.path(), 1000);
        }
        paper
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn make(&self) -> Run {
        let _ = std::fs::remove_file(self.path("paper/latex.log"));
        let memheat = env!("CARGO_BIN_EXE_memheat");
        let out = Command::new("make")
            .arg(format!("MEMHEAT={memheat}"))
            .arg(format!("LATEX={}", self.path("latex-recorder").display()))
            .env("REAL_LATEX", self.latex.unwrap_or(""))
            .current_dir(self.path("paper"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let latex = std::fs::read_to_string(self.path("paper/latex.log")).unwrap_or_default();
        Run {
            code: out.status.code().unwrap(),
            memheat: stdout
                .lines()
                .filter(|l| l.starts_with(&format!("{memheat} build")))
                .count(),
            latex: latex.lines().count(),
            stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Dates what the last make wrote well in the past, so that an input
    /// then dated `input_age` seconds ago is newer, without waiting.
    fn settle_outputs(&self) {
        for name in [
            "figures/memory.d",
            "figures/memory.pdf",
            "figures/memory.png",
            "figures/memory.tex",
        ] {
            set_age(&self.path(&format!("paper/{name}")), 500);
        }
        set_age(&self.path("paper/paper.pdf"), 500);
    }

    fn modified(&self, rel: &str) -> SystemTime {
        std::fs::metadata(self.path(rel))
            .unwrap()
            .modified()
            .unwrap()
    }

    fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap()
    }

    /// Writes `rel` as an edit made 100 s ago (after the settled outputs).
    fn edit(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).unwrap();
        set_age(&self.path(rel), 100);
    }
}

fn set_age(path: &Path, seconds: u64) {
    let when = SystemTime::now() - Duration::from_secs(seconds);
    let file = std::fs::File::open(path).unwrap();
    file.set_modified(when).unwrap();
}

fn nothing_to_do(run: &Run) {
    assert_eq!(
        (run.code, run.stdout.as_str(), run.memheat, run.latex),
        (0, "make: Nothing to be done for 'all'.\n", 0, 0),
        "{run:?}"
    );
}

/// Runs make twice: memheat runs and fails both times, the same way, and
/// LaTeX never runs. Returns the first run.
fn fails_twice(p: &Paper) -> Run {
    let first = p.make();
    assert_eq!(
        (first.code, first.memheat, first.latex),
        (2, 1, 0),
        "{first:?}"
    );
    let second = p.make();
    assert_eq!(
        (second.code, second.memheat, second.latex, &second.stderr),
        (2, 1, 0, &first.stderr),
        "a failure is never up to date"
    );
    first
}

/// The TP=2, PP=16 cell's actual value as the figure prints it, from
/// `memheat data`.
fn shown_value(paper: &Paper) -> String {
    let (code, csv, stderr) = run_in(&paper.path("paper"), &["data", "specs/memory.yaml"]);
    assert_eq!(code, 0, "{stderr}");
    let row = csv
        .lines()
        .find(|l| l.starts_with("16,2,"))
        .unwrap_or_else(|| panic!("no TP=2, PP=16 row in\n{csv}"));
    let actual: f64 = row.split(',').nth(3).unwrap().parse().unwrap();
    format!("{actual:.1}")
}

#[test]
fn the_example_paper_runs_latex_only_when_a_figure_changes() {
    if !have_make("the_example_paper_runs_latex_only_when_a_figure_changes") {
        return;
    }
    drive_the_example(None);
    if Command::new("pdflatex").arg("--version").output().is_ok() {
        drive_the_example(Some("pdflatex"));
    } else {
        eprintln!(
            "the_example_paper_runs_latex_only_when_a_figure_changes: pdflatex is not installed, so only the recorder's copy of the figure is checked"
        );
    }
}

fn drive_the_example(latex: Option<&'static str>) {
    let p = Paper::new(latex);
    let run = p.make();
    assert_eq!((run.code, run.memheat, run.latex), (0, 1, 1), "{run:?}");
    assert!(p.read("paper/paper.pdf").starts_with(b"%PDF"));
    let depfile = String::from_utf8(p.read("paper/figures/memory.d")).unwrap();
    assert!(
        depfile.starts_with("figures/memory.d: \\\n  specs/memory.yaml \\\n  ../485B/logs/"),
        "{depfile}"
    );
    nothing_to_do(&p.make());

    // A touched trace: memheat reads it again, the figure is the same.
    p.settle_outputs();
    let pdf_date = p.modified("paper/figures/memory.pdf");
    let pdf = p.read("paper/figures/memory.pdf");
    set_age(&p.path(TRACE), 100);
    let run = p.make();
    assert_eq!((run.code, run.memheat, run.latex), (0, 1, 0), "{run:?}");
    assert_eq!(p.modified("paper/figures/memory.pdf"), pdf_date);
    assert!(p.modified("paper/figures/memory.d") > p.modified(TRACE));
    nothing_to_do(&p.make());

    // Only the DPI: a new PNG, the same PDF.
    p.settle_outputs();
    let pdf_date = p.modified("paper/figures/memory.pdf");
    let png = p.read("paper/figures/memory.png");
    let spec = String::from_utf8(p.read("paper/specs/memory.yaml")).unwrap();
    let spec = spec.replace("dpi: 150", "dpi: 100");
    p.edit("paper/specs/memory.yaml", &spec);
    let run = p.make();
    assert_eq!((run.code, run.memheat, run.latex), (0, 1, 0), "{run:?}");
    assert_eq!(p.modified("paper/figures/memory.pdf"), pdf_date);
    assert!(p.read("paper/figures/memory.png").len() < png.len());
    nothing_to_do(&p.make());

    // A changed value: a new figure, LaTeX once.
    p.settle_outputs();
    let figure_text = |p: &Paper| -> String {
        pdf_text(&p.path("paper/figures/memory.pdf"))
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    };
    let before = figure_text(&p);
    let trace = String::from_utf8(p.read(TRACE)).unwrap();
    assert!(trace.contains("\"peak_allocated_MB\": 49237.68"));
    p.edit(
        TRACE,
        &trace.replace(
            "\"peak_allocated_MB\": 49237.68",
            "\"peak_allocated_MB\": 30000.0",
        ),
    );
    let run = p.make();
    assert_eq!((run.code, run.memheat, run.latex), (0, 1, 1), "{run:?}");
    assert_ne!(p.read("paper/figures/memory.pdf"), pdf);
    let value = shown_value(&p);
    let after = figure_text(&p);
    assert!(
        !before.contains(&value) && after.contains(&value),
        "{value} is not new in the figure: {after}"
    );
    // The same number in the paper's text, through \memheat.
    let numbers = String::from_utf8(p.read("paper/figures/memory.tex")).unwrap();
    assert!(numbers.contains(&format!("{{{value}}}")), "{numbers}");
    if latex.is_some() {
        let text = pdf_text(&p.path("paper/paper.pdf"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(text.contains(&format!("peaked at {value} GB")), "{text}");
    }
    nothing_to_do(&p.make());

    // A broken spec fails every time, and leaves the figure as it was.
    p.settle_outputs();
    let pdf = p.read("paper/figures/memory.pdf");
    p.edit(
        "paper/specs/memory.yaml",
        &spec.replace("dpi: 100", "dpi: 100\n  colour: red"),
    );
    let first = fails_twice(&p);
    assert!(
        first
            .stderr
            .starts_with("error: output: unknown field `colour`")
            && first.stderr.contains("specs/memory.yaml:26:3"),
        "{}",
        first.stderr
    );
    // make names the depfile's rule (and so stops before LaTeX).
    let last = first.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("make: *** [Makefile:") && last.ends_with(": figures/memory.d] Error 1"),
        "{}",
        first.stderr
    );
    assert_eq!(p.modified("paper/figures/memory.d"), UNIX_EPOCH);
    assert_eq!(p.read("paper/figures/memory.pdf"), pdf);

    // Fixed again: the figure is the one LaTeX already has.
    p.edit("paper/specs/memory.yaml", &spec);
    let run = p.make();
    assert_eq!((run.code, run.memheat, run.latex), (0, 1, 0), "{run:?}");
    nothing_to_do(&p.make());

    // A log the spec names is gone: that fails every time too (the
    // depfile used to lose the log's rule, and the second make said
    // "Nothing to be done").
    let log = p.path("485B/logs/failed_configs.log");
    let away = p.path("failed_configs.log");
    std::fs::rename(&log, &away).unwrap();
    let first = fails_twice(&p);
    assert!(
        first.stderr.contains("failed_configs.log"),
        "{}",
        first.stderr
    );
    std::fs::rename(&away, &log).unwrap();
    let run = p.make();
    assert_eq!((run.code, run.memheat, run.latex), (0, 1, 0), "{run:?}");
    nothing_to_do(&p.make());

    // A deleted figure is built again, though its depfile is up to date.
    std::fs::remove_file(p.path("paper/figures/memory.pdf")).unwrap();
    let run = p.make();
    assert_eq!((run.code, run.memheat, run.latex), (0, 1, 1), "{run:?}");
    assert_eq!(p.read("paper/figures/memory.pdf"), pdf);
}

// ------------------------------------------------- the depfile as a stamp

/// Rewrites a trace when the build starts compiling, i.e. after it has
/// read its inputs: an edit that lands while memheat is busy.
struct EditWhileBuilding {
    trace: PathBuf,
}

impl memheat::Progress for EditWhileBuilding {
    fn stage(&self, _: &Path, stage: &'static str, _: u64) {
        if stage == "compiling" {
            std::fs::write(&self.trace, trace_json("20480.0", "61440.0")).unwrap();
        }
    }
    fn step(&self, _: &Path) {}
    fn done(&self, _: &Path) {}
}

/// Outputs used to be dated "now" after the build, so a trace saved while
/// memheat was reading it looked older than the figure, and make never
/// rebuilt it.
#[test]
fn an_input_changed_during_the_build_leaves_the_depfile_out_of_date() {
    let f = Fixture::new();
    good(&f);
    for rel in [
        "spec.yaml",
        "logs/ok.log",
        "logs/failed.log",
        "traces",
        "logs",
    ] {
        set_age(&f.path(rel), 1000);
    }
    let trace = f.path(&format!("traces/{}", Fixture::trace_name(1, 1, 1)));
    set_age(&trace, 1000);
    let options = memheat::BuildOptions {
        depfile: Some(f.path("fig.d")),
        progress: Some(memheat::ProgressSink(std::sync::Arc::new(
            EditWhileBuilding {
                trace: trace.clone(),
            },
        ))),
        ..Default::default()
    };
    let built = memheat::build(&f.path("spec.yaml"), &options, &Engine::default());
    memheat::write_depfile(&f.path("fig.d"), &[built]).unwrap();
    let modified = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    assert!(modified(&f.path("fig.d")) < modified(&trace));
    // The figure is dated alike: a rule whose target it is rebuilds too.
    assert_eq!(modified(&f.path("out/fig.pdf")), modified(&f.path("fig.d")));
    if have_make("an_input_changed_during_the_build_leaves_the_depfile_out_of_date") {
        // The test runs elsewhere, so the depfile names absolute paths.
        let depfile = std::fs::read_to_string(f.path("fig.d")).unwrap();
        let target = depfile.split(':').next().unwrap();
        assert_eq!(target, f.path("fig.d").to_str().unwrap());
        f.write("rules.mk", &depfile);
        f.write(
            "Makefile",
            format!("include rules.mk\n{target}:\n\t@echo rebuilt\n"),
        );
        let out = Command::new("make")
            .arg(target)
            .current_dir(f.path(""))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "rebuilt\n",
            "make must call fig.d out of date"
        );
    }
}

/// The depfile of a run where one spec of two failed keeps both specs'
/// rules, and is dated so that no make calls it up to date, even when the
/// build ran by hand, outside make.
#[test]
fn a_failed_build_dates_the_depfile_1970_and_keeps_its_rules() {
    let f = Fixture::new();
    good(&f);
    let (code, _, stderr) = f.run(&["spec.yaml", "-q", "--deps", "all.d"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    let built = std::fs::metadata(f.path("all.d"))
        .unwrap()
        .modified()
        .unwrap();
    assert!(built > UNIX_EPOCH + Duration::from_secs(1_000_000_000));
    f.write("bad.yaml", "inputs: {traces: traces/*.json}\nbogus: 1\n");
    let (code, stdout, _) = f.run(&["spec.yaml", "bad.yaml", "--deps", "all.d"]);
    assert_eq!(
        (code, stdout.as_str()),
        (1, "unchanged out/fig.pdf\nunchanged out/fig.png\n")
    );
    let depfile = std::fs::read_to_string(f.path("all.d")).unwrap();
    assert!(
        depfile.starts_with("all.d: \\\n  spec.yaml \\\n  logs/failed.log \\\n"),
        "{depfile}"
    );
    assert!(depfile.contains("\n\nbad.yaml:\n"), "{depfile}");
    let modified = |p: &str| std::fs::metadata(f.path(p)).unwrap().modified().unwrap();
    assert_eq!(modified("all.d"), UNIX_EPOCH);
    // Fixed: dated again, as the build that read its inputs.
    let (code, _, _) = f.run(&["spec.yaml", "-q", "--deps", "all.d"]);
    assert_eq!(code, 0);
    assert!(modified("all.d") > built);
    assert!(
        modified("out/fig.pdf") < modified("all.d"),
        "the figure kept its date"
    );
}
