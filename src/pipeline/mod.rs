//! The build's stages as functions: [`load()`] (spec, template, fonts,
//! inputs → [`Model`]), [`compile`] (Typst → [`Figure`]), [`render`]
//! (bytes of each format → [`Output`]s) and [`write()`]; [`build`] runs them
//! all. Each stage returns what it read even when it fails, so a depfile
//! or a watcher still knows what to look at.

mod figure;
mod load;
mod outputs;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use figure::{MAX_PAGE_PT, compile};
pub use load::load;
pub use outputs::{render, write};

use crate::compile::{Compiled, Engine, Geometry};
use crate::numbers::FigureData;
use crate::progress::{ProgressSink, Report};
use crate::spec::{Format, Set, Sources, Spec};
use crate::table::Table;
use crate::{Deps, Error, Failed, Template, TraceCache, Warning, deps};

/// Command-line overrides of the spec.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub output: Option<PathBuf>,
    pub dpi: Option<u32>,
    pub strict: bool,
    /// Told what the build is doing (`memheat build`'s progress bar).
    pub progress: Option<ProgressSink>,
    /// Keeps parsed traces for the next build in this process.
    pub traces: Option<std::sync::Arc<TraceCache>>,
    /// `--set` flags, in order: each a layer over the spec.
    pub sets: Vec<Set>,
    /// `--font-path` directories, searched as `fonts.paths` is.
    pub font_paths: Vec<PathBuf>,
    /// The depfile that will be written: a path it cannot name fails the
    /// build before anything is written.
    pub depfile: Option<PathBuf>,
}

/// The figure before Typst: the spec, the cells and what they came from.
#[derive(Debug)]
pub struct Model {
    pub spec_path: PathBuf,
    pub spec: Spec,
    pub table: Table,
    pub template: Template,
    /// Loading's warnings, sorted and deduplicated.
    pub warnings: Vec<Warning>,
    pub deps: Deps,
    /// The files `build` writes, in the order of `output.formats`.
    pub targets: Vec<(Format, PathBuf)>,
    pub dpi: u32,
    pub strict: bool,
    /// Loading's stages.
    pub timings: Timings,
    /// Just before the first input was opened, by the file system's clock:
    /// the date of what the build writes, so that an input changed while
    /// it was read is newer than the outputs (see `output::file_clock_now`).
    pub started: std::time::SystemTime,
    /// The engine this figure compiles with: the one `load` was given, or
    /// a copy with the fonts of `fonts.paths` and `--font-path`.
    pub engine: Engine,
    /// Where each key was written, for errors found by compiling.
    sources: Sources,
}

impl Model {
    /// This model's build failed with `error`: what it had read goes along.
    pub fn failed(self, error: Error) -> Box<Failed> {
        Failed::new(error, self.warnings, self.deps)
    }

    /// Loading's warnings and `figure`'s, sorted and deduplicated.
    pub fn warnings_with(&self, figure: &Figure) -> Vec<Warning> {
        sorted([&self.warnings[..], &figure.warnings[..]].concat())
    }

    /// The numbers of `table`, which is this model's or its compact form.
    pub(crate) fn data<'a>(&'a self, table: &'a Table) -> FigureData<'a> {
        FigureData {
            spec_path: &self.spec_path,
            spec: &self.spec,
            table,
        }
    }

    /// Typst's work on this figure is bounded while the guard lives (see
    /// [`crate::compile::budget`]).
    fn watched(&self) -> crate::compile::budget::Watched {
        crate::compile::budget::watch(crate::compile::budget::Job {
            spec: self.spec_path.clone(),
            template: self.template.path.clone(),
        })
    }
}

/// The compiled figure and what compiling it gave.
pub struct Figure {
    pub compiled: Compiled,
    /// The table compiled: the model's, or its compact form when that
    /// let the cell text be larger.
    pub table: Table,
    /// Typst's warnings and text shrunk to fit; not the model's.
    pub warnings: Vec<Warning>,
    /// Its alternative text, in the PDF's tags and the SVG's `<desc>`.
    pub alt: String,
    /// The Typst source that compiles on its own to this page: the `typ`
    /// format.
    pub source: String,
    pub timings: Timings,
}

/// One rendered output, not yet written.
#[derive(Debug)]
pub struct Output {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// Every target's bytes, in the order of `output.formats`.
#[derive(Debug)]
pub struct Rendered {
    pub outputs: Vec<Output>,
    pub timings: Timings,
}

/// What writing did.
#[derive(Debug)]
pub struct Written {
    /// The outputs that already held these bytes and were left alone.
    pub unchanged: Vec<PathBuf>,
    pub timings: Timings,
}

/// What a successful build did.
#[derive(Debug)]
pub struct Built {
    /// Every output, in the order of `output.formats`.
    pub written: Vec<PathBuf>,
    /// The outputs that already held these bytes and were left alone.
    pub unchanged: Vec<PathBuf>,
    /// See [`Model::started`].
    pub started: std::time::SystemTime,
    /// Sorted and deduplicated; printed once each.
    pub warnings: Vec<Warning>,
    pub deps: Deps,
    pub table: Table,
    pub geometry: Geometry,
    pub timings: Timings,
}

/// Wall time of each stage of one build; `pdf` and `png` run at the same
/// time, so `total` (the build's wall time) is less than their sum.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    pub stages: Vec<(&'static str, Duration)>,
    pub total: Duration,
}

impl Timings {
    /// These stages, then `later`'s.
    fn then(mut self, later: &Timings) -> Timings {
        self.stages.extend_from_slice(&later.stages);
        self
    }

    fn time<T>(&mut self, stage: &'static str, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        self.stages.push((stage, start.elapsed()));
        out
    }
}

/// The whole pipeline: load, compile, render, write.
pub fn build(
    spec_path: &Path,
    options: &BuildOptions,
    engine: &Engine,
) -> Result<Built, Box<Failed>> {
    let report = Report::new(options.progress.as_ref(), spec_path);
    let built = build_reported(spec_path, options, engine, report);
    report.done();
    built
}

fn build_reported(
    spec_path: &Path,
    options: &BuildOptions,
    engine: &Engine,
    report: Report<'_>,
) -> Result<Built, Box<Failed>> {
    let start = Instant::now();
    let model = load(spec_path, options, engine)?;
    report.stage("compiling", 0);
    let figure = match compile_checked(&model) {
        Ok(figure) => figure,
        Err(error) => return Err(model.failed(error)),
    };
    let warnings = model.warnings_with(&figure);
    let fail = |error: Error| Failed::new(error, warnings.clone(), model.deps.clone());
    report.stage("rendering", 0);
    let rendered = render(&model, &figure).map_err(fail)?;
    if let Some(depfile) = &options.depfile {
        deps::render(depfile, &model.deps).map_err(|e| fail(e.into()))?;
    }
    report.stage("writing", 0);
    let written = write(&model, &rendered.outputs).map_err(fail)?;
    let mut timings = model
        .timings
        .then(&figure.timings)
        .then(&rendered.timings)
        .then(&written.timings);
    timings.total = start.elapsed();
    Ok(Built {
        written: rendered.outputs.into_iter().map(|o| o.path).collect(),
        unchanged: written.unchanged,
        started: model.started,
        warnings,
        deps: model.deps,
        table: figure.table,
        geometry: figure.compiled.geometry,
        timings,
    })
}

/// Writes the depfile `path` of one run over `results` (one rule for all
/// of them), dated as the `deps` module says. A build that failed has
/// already reported its error; one that cannot be named leaves the old
/// depfile's text, dated 1970.
pub fn write_depfile(path: &Path, results: &[Result<Built, Box<Failed>>]) -> Result<(), Error> {
    let mut merged = Deps::default();
    let mut written: Vec<PathBuf> = vec![];
    let mut started = vec![];
    for result in results {
        let deps = match result {
            Ok(built) => {
                written.extend(built.written.iter().cloned());
                started.push(built.started);
                &built.deps
            }
            Err(failed) => &failed.deps,
        };
        merged.files.extend(deps.files.iter().cloned());
        merged.dirs.extend(deps.dirs.iter().cloned());
    }
    let started = match started.iter().min() {
        Some(first) if started.len() == results.len() => Some(*first),
        _ => None,
    };
    Ok(deps::write_stamp(path, &merged, &written, started)?)
}

/// [`compile`], then strict mode: with `strict`, any warning of the model
/// or the figure is an error.
pub fn compile_checked(model: &Model) -> Result<Figure, Error> {
    let figure = compile(model)?;
    if model.strict {
        let warnings = model.warnings_with(&figure);
        if !warnings.is_empty() {
            return Err(Error::Strict(warnings));
        }
    }
    Ok(figure)
}

fn sorted(mut warnings: Vec<Warning>) -> Vec<Warning> {
    warnings.sort();
    warnings.dedup();
    warnings
}
