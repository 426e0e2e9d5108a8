//! memheat compiles a YAML figure spec into a heatmap of GPU memory across
//! a sweep of parallelism configs, as PDF, PNG, SVG or Typst source.
//!
//! The pipeline, one module per stage: [`spec`] (parse and check the YAML)
//! → [`data`] (traces and logs, via [`trace`]) → [`table`] (the figure's
//! model) → [`template`] (Typst source) → [`compile`] (Typst, in-process)
//! → [`export`] (bytes of each format, atomic writes). [`diag`] renders
//! errors once, at the edge.
//!
//! The stages are callable on their own, because the subcommands stop at
//! different places: `check` after [`compile`], `data` after [`load`],
//! `build` after [`write`]. Each stage returns what it read even when it
//! fails, so a depfile or a watcher still knows what to look at.

// Public: what the binary, the integration tests and the bench use.
pub mod cli;
pub mod compile;
pub mod export;
pub mod table;

mod colormap;
mod deps;
mod diag;
mod init;
mod input;
mod numbers;
pub mod output;
mod paths;
mod progress;
mod spec;
mod template;
mod warning;
mod watch;

pub use input::TraceCache;
pub use progress::{Progress, ProgressSink};
pub use spec::{Set, Spec};
pub use template::Template;
pub use warning::Warning;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use compile::{CompileError, Compiled, Engine, Geometry};
use export::ExportError;
use progress::Report;
use rayon::prelude::*;
use spec::{Format, Key, KeyError, Sources, SpecError, SpecSource};
use table::{CellState, Table};
use template::TemplateError;

/// Everything that stops a build. Data problems are not here: they are
/// [`Warning`]s, unless `strict` makes them fatal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot read spec `{}`: {error}", path.display())]
    ReadSpec {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Spec(#[from] Box<SpecError>),
    #[error("{}: no usable data: {detail}", spec.display())]
    NoData { spec: PathBuf, detail: String },
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Watch(#[from] watch::WatchError),
    #[error(transparent)]
    Init(#[from] init::InitError),
    #[error("--font-path {}: {message}", paths::shown(path))]
    FontPath { path: PathBuf, message: String },
    #[error(transparent)]
    Deps(#[from] deps::UnrepresentablePath),
    #[error("{} warning(s), and strict mode is on", .0.len())]
    Strict(Vec<Warning>),
    #[error(transparent)]
    Budget(#[from] compile::Overrun),
    /// The figure compiled but cannot be printed as it is: too large, or
    /// text too small to read.
    #[error("{}: {message}", paths::shown(spec))]
    Figure {
        spec: PathBuf,
        message: String,
        hint: String,
    },
}

/// Typst's page limit in PDF 1.x readers (Acrobat's), 200 in.
pub const MAX_PAGE_PT: f64 = 14_400.0;
/// Largest PNG, in pixels.
pub const MAX_PNG_PIXELS: f64 = 200e6;

impl From<SpecError> for Error {
    fn from(e: SpecError) -> Self {
        Error::Spec(Box::new(e))
    }
}

/// A stage that failed, with what it had found by then: the warnings to
/// print before the error, and the files a depfile or watcher needs.
#[derive(Debug)]
pub struct Failed {
    pub error: Error,
    pub warnings: Vec<Warning>,
    pub deps: Deps,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

/// What a figure depends on: every file read, and every directory a glob
/// listed (adding or removing a matching file changes its mtime).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Deps {
    /// The spec and the bases it extends first, then the template, traces
    /// and logs, sorted.
    pub files: Vec<PathBuf>,
    pub dirs: Vec<PathBuf>,
}

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
    /// A depfile will be written: a path it cannot name fails the build
    /// before anything is written.
    pub depfile: bool,
}

/// The figure before Typst: the spec, the cells and what they came from.
#[derive(Debug)]
pub struct Model {
    pub spec_path: PathBuf,
    pub spec: Spec,
    pub table: Table,
    pub template: Template,
    /// Sorted and deduplicated.
    pub warnings: Vec<Warning>,
    pub deps: Deps,
    /// The files `build` writes, in the order of `output.formats`.
    pub targets: Vec<(Format, PathBuf)>,
    pub dpi: u32,
    pub strict: bool,
    pub timings: Timings,
    /// The engine with the fonts of `fonts.paths` and `--font-path`, when
    /// there are any.
    pub fonts: Option<std::sync::Arc<Engine>>,
    /// Where each key was written, for errors found by compiling.
    sources: Sources,
}

/// The compiled figure and the warnings compiling it gave.
pub struct Figure {
    pub compiled: Compiled,
    pub warnings: Vec<Warning>,
}

/// One rendered output, not yet written.
#[derive(Debug)]
pub struct Output {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// What a successful build did.
#[derive(Debug)]
pub struct Built {
    pub written: Vec<PathBuf>,
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
    fn time<T>(&mut self, stage: &'static str, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        self.stages.push((stage, start.elapsed()));
        out
    }
}

/// Without a record of outcomes, a run that died of OOM (and so left no
/// trace) is simply absent from the figure.
const NO_OUTCOMES: &str = "no input says how runs ended (no `inputs.logs`, no training log, no status column), so configs that ran out of memory cannot be shown; add `inputs.logs`, or read the runs' training logs";

/// Reads the spec, its template and its data, and builds the table.
pub fn load(
    spec_path: &Path,
    options: &BuildOptions,
    engine: &Engine,
) -> Result<Model, Box<Failed>> {
    let mut timings = Timings::default();
    let mut deps = Deps {
        files: vec![spec_path.to_path_buf()],
        dirs: vec![],
    };
    let fail = |error: Error, warnings: Vec<Warning>, deps: &Deps| {
        Box::new(Failed {
            error,
            warnings,
            deps: deps.clone(),
        })
    };
    let source = timings
        .time("read", || read_spec(spec_path))
        .map_err(|e| fail(e, vec![], &deps))?;
    let mut bases = vec![];
    let parsed = timings.time("spec", || {
        spec::parse(source, &options.sets, &mut |path| {
            bases.push(path.to_path_buf());
            read_text(path)
        })
    });
    deps.files.append(&mut bases);
    let (spec, sources) = parsed.map_err(|e| fail(e.into(), vec![], &deps))?;
    let template = match &spec.template {
        Some(path) => {
            let path = sources.dir_of(&[Key::Field("template")]).dir.join(path);
            deps.files.push(path.clone());
            Template::read(&path).map_err(|e| fail(e.into(), vec![], &deps))?
        }
        None => Template::builtin(),
    };
    let targets = targets(&spec, &sources, options).map_err(|e| fail(e, vec![], &deps))?;
    let mut warnings = vec![];
    let fonts = timings
        .time("fonts", || {
            add_fonts(&spec, &sources, options, engine, &mut deps, &mut warnings)
        })
        .map_err(|e| fail(e, warnings.clone(), &deps))?
        .map(std::sync::Arc::new);
    let engine = fonts.as_deref().unwrap_or(engine);
    check_font(&spec, &sources, engine).map_err(|e| fail(e, warnings.clone(), &deps))?;
    let report = Report::new(options.progress.as_ref(), spec_path);
    let parts = spec.parts();
    let mut sweeps = Vec::with_capacity(parts.len());
    for part in &parts {
        let mut sweep = input::Sweep::default();
        let loaded = timings.time("load", || {
            input::load(
                part,
                &spec.units,
                &sources,
                options.traces.as_deref(),
                report,
                &mut sweep,
            )
        });
        deps.files.extend(sweep.inputs.iter().cloned());
        deps.dirs.extend(sweep.dirs.iter().cloned());
        warnings.extend(sweep.warnings.iter().map(|w| w.clone().about(part)));
        if let Err(e) = loaded {
            let e = KeyError {
                message: part.named(&e.message),
                ..e
            };
            return Err(fail(sources.error(e).into(), sorted(warnings), &deps));
        }
        if !sweep.records_outcomes && !sweep.runs.is_empty() {
            warnings.push(Warning::new(spec_path, part.named(NO_OUTCOMES)));
        }
        sweeps.push(sweep);
    }
    let (table, table_warnings) = timings
        .time("table", || table::build(&spec, &sweeps))
        .map_err(|e| fail(sources.error(e).into(), sorted(warnings.clone()), &deps))?;
    warnings.extend(table_warnings);
    warnings.extend(missing_glyphs(&table, engine, spec_path));
    warnings.extend(
        table::grayscale_clashes(&spec, &table)
            .into_iter()
            .map(|message| Warning::new(spec_path, message)),
    );
    let warnings = sorted(warnings);
    if let Err(e) = check_has_data(&table, &parts, &sweeps, spec_path) {
        return Err(fail(e, warnings, &deps));
    }
    Ok(Model {
        spec_path: spec_path.to_path_buf(),
        dpi: options.dpi.unwrap_or(spec.output.dpi),
        strict: spec.strict || options.strict,
        spec,
        table,
        template,
        warnings,
        deps,
        targets,
        timings,
        fonts,
        sources,
    })
}

/// Fills the template and compiles it with Typst. When the built-in cell
/// text is left to fit and its full form has to shrink, the compact form
/// is compiled too, and the figure with the larger text is kept.
pub fn compile(model: &mut Model, engine: &Engine) -> Result<Figure, Error> {
    let fonts = model.fonts.clone();
    let engine = fonts.as_deref().unwrap_or(engine);
    let mut timings = std::mem::take(&mut model.timings);
    let spec_name = model.spec_path.display().to_string();
    let template = &model.template;
    let _watched = model.watched();
    let compile = |table: &Table| -> Result<Compiled, Error> {
        let source = template::render(template, table, &spec_name, None)?;
        let auto_size = (table.layout.width.is_none(), table.layout.height.is_none());
        Ok(engine.compile(source, auto_size)?)
    };
    let mut compiled = timings.time("compile", || compile(&model.table));
    if let Ok(full) = &compiled
        && full.geometry.text_scale < 1.0
        && let Some(compact) = model.table.compact()
    {
        match timings.time("compact", || compile(&compact)) {
            Ok(smaller) if smaller.geometry.text_scale > full.geometry.text_scale => {
                model.table = compact;
                compiled = Ok(smaller);
            }
            Ok(_) => {}
            Err(e) => compiled = Err(e),
        }
    }
    model.timings = timings;
    let compiled = compiled?;
    check_size(&compiled, model)?;
    let warnings = figure_warnings(&compiled, &model.table, &model.spec_path);
    Ok(Figure { compiled, warnings })
}

/// Every target's bytes, before anything is written, so a failure leaves
/// the previous outputs as they were. Formats render on both cores.
pub fn render(model: &mut Model, figure: &Figure) -> Result<Vec<Output>, Error> {
    let _watched = model.watched();
    let document = &figure.compiled.document;
    let rendered: Vec<_> = model
        .targets
        .par_iter()
        .map(|(format, path)| {
            let start = Instant::now();
            let bytes = match format {
                Format::Pdf => export::pdf(document, &model.spec.output),
                Format::Png => png(document, model),
                Format::Svg => export::svg(document),
                Format::Typ => typ_source(model, &figure.compiled),
            };
            (format.extension(), path, bytes, start.elapsed())
        })
        .collect();
    let mut outputs = Vec::with_capacity(rendered.len());
    for (stage, path, bytes, elapsed) in rendered {
        model.timings.stages.push((stage, elapsed));
        outputs.push(Output {
            path: path.clone(),
            bytes: bytes?,
        });
    }
    Ok(outputs)
}

/// The PNG, unless it would be too large to hold in memory sensibly.
fn png(document: &typst_layout::PagedDocument, model: &Model) -> Result<Vec<u8>, ExportError> {
    let page = document.pages().first().ok_or(ExportError::NoPage)?;
    let scale = f64::from(model.dpi) / 72.0;
    let pixels = (page.frame.width().to_pt() * scale).round()
        * (page.frame.height().to_pt() * scale).round();
    if pixels > MAX_PNG_PIXELS {
        return Err(ExportError::TooManyPixels {
            megapixels: pixels / 1e6,
            dpi: model.dpi,
        });
    }
    export::png(document, model.dpi)
}

/// The Typst source again, with the page grown by the same snap as the
/// compiled page, so that it compiles on its own to the same figure.
fn typ_source(model: &Model, compiled: &Compiled) -> Result<Vec<u8>, ExportError> {
    let snap = compiled.snap;
    template::render(
        &model.template,
        &model.table,
        &model.spec_path.display().to_string(),
        Some(snap),
    )
    .map(String::into_bytes)
    .map_err(|e| ExportError::Typ(e.to_string()))
}

/// Writes every output atomically, after making sure that none of them
/// would replace a file the build read.
pub fn write(model: &mut Model, outputs: &[Output]) -> Result<(), Error> {
    let mut timings = std::mem::take(&mut model.timings);
    let result = timings.time("write", || {
        for output in outputs {
            if let Some(input) = paths::clobbers(&output.path, &model.deps.files) {
                return Err(ExportError::WouldOverwrite {
                    output: output.path.clone(),
                    input,
                });
            }
        }
        let files: Vec<(&Path, &[u8])> = outputs
            .iter()
            .map(|o| (o.path.as_path(), o.bytes.as_slice()))
            .collect();
        output::write_all(&files)
    });
    model.timings = timings;
    Ok(result?)
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
    let mut model = load(spec_path, options, engine)?;
    report.stage("compiling", 0);
    let figure = match compile_checked(&mut model, engine) {
        Ok(figure) => figure,
        Err(error) => return Err(model.failed(error)),
    };
    report.stage("rendering", 0);
    let outputs = render(&mut model, &figure).map_err(|e| model.failed(e))?;
    if options.depfile {
        let targets: Vec<PathBuf> = outputs.iter().map(|o| o.path.clone()).collect();
        if let Err(e) = deps::render(&targets, &model.deps) {
            return Err(model.failed(e.into()));
        }
    }
    report.stage("writing", 0);
    write(&mut model, &outputs).map_err(|e| model.failed(e))?;
    model.timings.total = start.elapsed();
    Ok(Built {
        written: outputs.into_iter().map(|o| o.path).collect(),
        warnings: model.warnings,
        deps: model.deps,
        table: model.table,
        geometry: figure.compiled.geometry,
        timings: model.timings,
    })
}

/// [`compile`], then strict mode: the figure's warnings join the model's,
/// and with `strict` any warning is an error.
pub fn compile_checked(model: &mut Model, engine: &Engine) -> Result<Figure, Error> {
    let mut figure = compile(model, engine)?;
    model.warnings.append(&mut figure.warnings);
    model.warnings = sorted(std::mem::take(&mut model.warnings));
    if model.strict && !model.warnings.is_empty() {
        return Err(Error::Strict(std::mem::take(&mut model.warnings)));
    }
    Ok(figure)
}

impl Model {
    /// This model's build failed with `error`: what it had read goes along.
    pub fn failed(&mut self, error: Error) -> Box<Failed> {
        Box::new(Failed {
            error,
            warnings: std::mem::take(&mut self.warnings),
            deps: self.deps.clone(),
        })
    }

    /// Typst's work on this figure is bounded while the guard lives (see
    /// [`compile::budget`]).
    fn watched(&self) -> compile::budget::Watched {
        compile::budget::watch(compile::budget::Job {
            spec: self.spec_path.clone(),
            template: self.template.path.clone(),
        })
    }
}

fn sorted(mut warnings: Vec<Warning>) -> Vec<Warning> {
    warnings.sort();
    warnings.dedup();
    warnings
}

/// The output files: `-o` or `output.path` (relative to the file that
/// sets it), else the spec's path without its extension; one per format.
fn targets(
    spec: &Spec,
    sources: &Sources,
    options: &BuildOptions,
) -> Result<Vec<(Format, PathBuf)>, Error> {
    let keys = [Key::Field("output"), Key::Field("path")];
    let (base, located) = match (&options.output, &spec.output.path) {
        (Some(p), _) => (p.clone(), false),
        (None, Some(p)) => (sources.dir_of(&keys).dir.join(p), true),
        (None, None) => (sources.spec().path.with_extension(""), false),
    };
    let base = paths::output_base(&base).map_err(|(message, hint)| {
        if located {
            sources
                .error(KeyError::new(&keys, message, Some(hint)))
                .into()
        } else {
            Error::Export(ExportError::BadOutput { message, hint })
        }
    })?;
    Ok(spec
        .output
        .formats
        .iter()
        .map(|f| (*f, paths::with_extension(&base, f.extension())))
        .collect())
}

/// An unknown family would only be a Typst warning and a fallback font.
fn check_font(spec: &Spec, sources: &Sources, engine: &Engine) -> Result<(), Error> {
    let font = spec.style.font();
    if engine.has_family(font) {
        return Ok(());
    }
    Err(sources
        .error(KeyError::new(
            &[Key::Field("style"), Key::Field("font")],
            format!("unknown font family `{font}`"),
            Some(format!(
                "{}memheat uses its embedded fonts and those in `fonts.paths` and --font-path, never the machine's; use one of: {}",
                metric_twin(font)
                    .map(|twin| format!("`{twin}` has the same metrics; "))
                    .unwrap_or_default(),
                engine.families().join(", ")
            )),
        ))
        .into())
}

/// A page larger than PDF readers open, or cell text shrunk below
/// `style.min-font-size`: an error at the key that fixed the size, saying
/// what would fit.
fn check_size(compiled: &Compiled, model: &Model) -> Result<(), Error> {
    let (table, spec) = (&model.table, &model.spec);
    let g = &compiled.geometry;
    if g.page_width > MAX_PAGE_PT || g.page_height > MAX_PAGE_PT {
        return Err(Error::Figure {
            spec: model.spec_path.clone(),
            message: format!(
                "the figure would be {:.0} × {:.0} pt, larger than the {MAX_PAGE_PT:.0} pt (200 in) PDF readers open",
                g.page_width, g.page_height
            ),
            hint: "shorten the titles and `cells.text`, or show fewer axis values".into(),
        });
    }
    let min = table.layout.min_font_size;
    let size = (g.text_scale * table.layout.cell_font_size).max(0.0);
    if size >= min - 1e-9 {
        return Ok(());
    }
    let message = format!(
        "cell text would be shrunk to {size:.1}pt to fit, below `style.min-font-size` ({min}pt)"
    );
    // Cells grow about in proportion with their text.
    let grow = min / size.max(0.01) - 1.0;
    let (keys, hint) = if g.fit_width <= g.fit_height {
        let columns = rows_of_panels(table)
            .iter()
            .map(|row| row.iter().map(|g| g.x.labels.len()).sum::<usize>())
            .max();
        let needed = g.page_width + columns.unwrap_or(0) as f64 * g.cell_width * grow;
        let mut ways = vec!["widen `style.width`".to_string()];
        if spec.cells.text.is_some() {
            ways.push("shorten `cells.text`".into());
        } else if table.key.is_none() {
            ways.push("use the compact form (`cells.form: compact`)".into());
        }
        let last = "show fewer columns (`axes.x.values`)";
        (
            vec![Key::Field("style"), Key::Field("width")],
            format!(
                "the figure needs about {needed:.0}pt of width at this size (it has {:.0}pt); {} or {last}",
                g.page_width,
                ways.join(", ")
            ),
        )
    } else {
        let rows: usize = rows_of_panels(table)
            .iter()
            .map(|row| row.iter().map(|g| g.y.labels.len()).max().unwrap_or(0))
            .sum();
        let needed = g.page_height + rows as f64 * g.cell_height * grow;
        let key = if spec.style.height.is_some() {
            "height"
        } else {
            "aspect"
        };
        (
            vec![Key::Field("style"), Key::Field(key)],
            format!(
                "the figure needs about {needed:.0}pt of height at this size (it has {:.0}pt); raise `style.{key}`, or remove it to let the height follow the text",
                g.page_height
            ),
        )
    };
    Err(model
        .sources
        .error(KeyError::new(&keys, message, Some(hint)))
        .into())
}

/// The grids as the built-in template lays them out: `style.panel-columns`
/// to a row, all in one row by default.
fn rows_of_panels(table: &Table) -> Vec<Vec<table::Grid<'_>>> {
    let per_row = table.layout.panel_columns.unwrap_or(usize::MAX).max(1);
    table.grids().chunks(per_row).map(<[_]>::to_vec).collect()
}

/// Fonts from `fonts.paths` (relative to the file that lists them) and
/// `--font-path`, on a copy of `engine`; `None` when there are none. Each
/// font file and directory becomes a dependency of the figure.
fn add_fonts(
    spec: &Spec,
    sources: &Sources,
    options: &BuildOptions,
    engine: &Engine,
    deps: &mut Deps,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Engine>, Error> {
    let key = [Key::Field("fonts"), Key::Field("paths")];
    let base = sources.dir_of(&key);
    let mut fonts = vec![];
    let mut search = |dir: &Path| {
        let found = compile::search_fonts(dir)?;
        deps.files.extend(found.files);
        deps.dirs.extend(found.dirs);
        warnings.extend(
            found
                .skipped
                .into_iter()
                .map(|(path, why)| Warning::new(&path, why)),
        );
        fonts.extend(found.fonts);
        Ok::<_, String>(())
    };
    for (i, dir) in spec.fonts.paths.iter().enumerate() {
        let path = base.dir.join(dir);
        search(&path).map_err(|why| {
            sources.error(KeyError::new(
                &[key[0], key[1], Key::Index(i)],
                format!("font directory `{}`: {why}", paths::shown(&path)),
                Some(format!(
                    "a font directory is relative to {}",
                    base.described
                )),
            ))
        })?;
    }
    for dir in &options.font_paths {
        search(dir).map_err(|message| Error::FontPath {
            path: dir.clone(),
            message,
        })?;
    }
    let listed = !spec.fonts.paths.is_empty() || !options.font_paths.is_empty();
    Ok(listed.then(|| engine.with_fonts(fonts)))
}

/// The embedded family that stands in for a commercial one a paper names.
fn metric_twin(family: &str) -> Option<&'static str> {
    let family = family.to_lowercase();
    if family.contains("times") || family.contains("nimbus roman") {
        Some("TeX Gyre Termes")
    } else if ["helvetica", "arial", "nimbus sans"]
        .iter()
        .any(|f| family.contains(f))
    {
        Some("TeX Gyre Heros")
    } else {
        None
    }
}

/// Typst's warnings, and text that had to shrink to fit a fixed size.
fn figure_warnings(compiled: &Compiled, table: &Table, spec_path: &Path) -> Vec<Warning> {
    let mut warnings: Vec<Warning> = compiled
        .warnings
        .iter()
        .map(|d| Warning::new(spec_path, format!("typst: {}", d.message)))
        .collect();
    let scale = compiled.geometry.text_scale;
    if scale < 0.999 {
        warnings.push(Warning::new(
            spec_path,
            format!(
                "cell text was shrunk to {:.0}% ({:.1}pt) to fit the figure's size; widen it or shorten `cells.text`",
                scale * 100.0,
                scale * table.layout.cell_font_size
            ),
        ));
    }
    warnings
}

fn read_spec(path: &Path) -> Result<SpecSource, Error> {
    Ok(SpecSource {
        path: path.to_path_buf(),
        text: read_text(path).map_err(|error| Error::ReadSpec {
            path: path.to_path_buf(),
            error,
        })?,
    })
}

/// A spec file's text, for the spec and for each base it extends.
fn read_text(path: &Path) -> std::io::Result<String> {
    // A FIFO would block the read forever; a huge file is not a spec.
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    if metadata.len() > spec::MAX_SPEC_BYTES {
        return Err(std::io::Error::other(format!(
            "it has {} bytes, and a spec may have at most {}",
            metadata.len(),
            spec::MAX_SPEC_BYTES
        )));
    }
    let mut text = std::fs::read_to_string(path)?;
    // Windows editors save a byte-order mark, which YAML would misread.
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// A figure, or a panel, without a single measured cell is a broken input,
/// not a figure.
fn check_has_data(
    table: &Table,
    parts: &[spec::Part],
    sweeps: &[input::Sweep],
    spec_path: &Path,
) -> Result<(), Error> {
    for ((grid, part), sweep) in table.grids().iter().zip(parts).zip(sweeps) {
        let count = |state: CellState| grid.cells().filter(|c| c.state == state).count();
        if count(CellState::Measured) > 0 {
            continue;
        }
        // Say what actually happened, not a guess.
        let detail = if sweep.runs.is_empty() {
            format!(
                "the glob matched {} file(s), and none of them gave a run (a name `inputs.filename` does not match, or nothing memheat reads)",
                sweep.matched_traces
            )
        } else {
            let mut found = Vec::new();
            for (state, what) in [
                (CellState::Failed, "failed"),
                (CellState::Invalid, "have no usable trace"),
                (CellState::Missing, "are missing"),
            ] {
                let n = count(state);
                if n > 0 {
                    found.push(format!("{n} {what}"));
                }
            }
            if found.is_empty() {
                "no config is on both axes' `values`".to_string()
            } else {
                format!("of {} configs, {}", grid.cells().count(), found.join(", "))
            }
        };
        return Err(Error::NoData {
            spec: spec_path.to_path_buf(),
            detail: part.named(&format!("{detail}; the warnings above say why")),
        });
    }
    Ok(())
}

/// Typst draws a character no font has as an empty box, silently.
fn missing_glyphs(table: &Table, engine: &Engine, spec_path: &Path) -> Vec<Warning> {
    let mut texts: Vec<&str> = vec![&table.x.title, &table.y.title];
    texts.extend(table.title.as_deref());
    texts.extend(table.subtitle.as_deref());
    for grid in table.grids() {
        texts.extend(grid.title);
        texts.extend([grid.x.title.as_str(), grid.y.title.as_str()]);
        texts.extend(
            grid.x
                .labels
                .iter()
                .chain(&grid.y.labels)
                .map(String::as_str),
        );
    }
    texts.extend(
        table
            .cells()
            .flat_map(|c| c.lines.iter().map(String::as_str)),
    );
    texts.extend(table.legend.iter().map(|l| l.label.as_str()));
    texts.extend(table.colorbar.iter().map(|c| c.title.as_str()));
    texts
        .into_iter()
        .filter_map(|t| {
            let chars = engine.undrawable(t);
            let named: Vec<String> = chars
                .iter()
                .map(|c| {
                    if c.is_alphanumeric() || c.is_ascii_punctuation() {
                        format!("`{c}`")
                    } else {
                        format!("U+{:04X}", u32::from(*c))
                    }
                })
                .collect();
            let (list, verb) = match named.as_slice() {
                [] => return None,
                [one] => (one.clone(), "is"),
                many => (many.join(", "), "are"),
            };
            Some(Warning::new(
                spec_path,
                format!(
                    "{list} in \"{}\" {verb} in none of the embedded fonts or invisible, and would print as boxes; remove or replace them",
                    t.chars()
                        .map(|c| if chars.contains(&c) && !c.is_alphanumeric() {
                            c.escape_unicode().to_string()
                        } else {
                            c.to_string()
                        })
                        .collect::<String>()
                ),
            ))
        })
        .collect()
}
