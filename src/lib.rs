//! memheat compiles a YAML figure spec into a heatmap of GPU memory across
//! a sweep of parallelism configs, as PDF and PNG.
//!
//! The pipeline, one module per stage: [`spec`] (parse and check the YAML)
//! → [`data`] (traces and logs, via [`trace`]) → [`table`] (the figure's
//! model) → [`template`] (Typst source) → [`compile`] (Typst, in-process)
//! → [`export`] (PDF/PNG bytes, atomic writes). [`build`] runs them in
//! order; [`diag`] renders errors once, at the edge.

pub mod cli;
pub mod colormap;
pub mod compile;
pub mod data;
pub mod diag;
pub mod export;
pub mod spec;
pub mod table;
pub mod template;
pub mod trace;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use compile::{CompileError, Compiled, Engine, Geometry};
use data::Warning;
use export::ExportError;
use rayon::prelude::*;
use spec::{Format, Key, KeyError, Spec, SpecError, SpecSource};
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
    Spec(#[from] SpecError),
    #[error("{}: no usable data: {detail}", spec.display())]
    NoData { spec: PathBuf, detail: String },
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("{} warning(s), and strict mode is on", .0.len())]
    Strict(Vec<Warning>),
}

/// Command-line overrides of the spec.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub output: Option<PathBuf>,
    pub dpi: Option<u32>,
    pub strict: bool,
}

/// What a successful build did.
#[derive(Debug)]
pub struct Built {
    pub written: Vec<PathBuf>,
    /// Sorted and deduplicated; printed once each.
    pub warnings: Vec<Warning>,
    /// Every file the figure depends on, the spec first.
    pub inputs: Vec<PathBuf>,
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

pub fn build(spec_path: &Path, options: &BuildOptions, engine: &Engine) -> Result<Built, Error> {
    let start = Instant::now();
    let mut timings = Timings::default();
    let source = timings.time("read", || read_spec(spec_path))?;
    let spec = timings.time("spec", || spec::parse(&source))?;
    check_font(&spec, &source, engine)?;
    let sweep = timings
        .time("load", || data::load(&spec, source.dir()))
        .map_err(|e| source.error(e))?;
    let (table, table_warnings) = timings
        .time("table", || table::build(&spec, &sweep))
        .map_err(|e| source.error(e))?;
    check_has_data(&table, spec_path, sweep.runs.len())?;

    let typst_source = timings.time("template", || {
        template::render(&table, &spec_path.display().to_string())
    })?;
    let auto_size = (table.layout.width.is_none(), table.layout.height.is_none());
    let compiled = timings.time("compile", || engine.compile(typst_source, auto_size))?;

    let mut warnings = sweep.warnings;
    warnings.extend(table_warnings);
    warnings.extend(missing_glyphs(&table, engine, spec_path));
    warnings.extend(figure_warnings(&compiled, &table, spec_path));
    warnings.sort();
    warnings.dedup();
    if (spec.strict || options.strict) && !warnings.is_empty() {
        return Err(Error::Strict(warnings));
    }

    let base = options
        .output
        .clone()
        .unwrap_or_else(|| match &spec.output.path {
            Some(p) => source.dir().join(p),
            None => spec_path.with_extension(""),
        });
    let dpi = options.dpi.unwrap_or(spec.output.dpi);
    let files = render_outputs(&compiled, &spec.output.formats, &base, dpi, &mut timings)?;
    timings.time("write", || export::write_all_atomic(&files))?;

    timings.total = start.elapsed();
    let mut inputs = vec![spec_path.to_path_buf()];
    inputs.extend(sweep.inputs);
    Ok(Built {
        written: files.into_iter().map(|(p, _)| p).collect(),
        warnings,
        inputs,
        table,
        geometry: compiled.geometry,
        timings,
    })
}

/// An unknown family would only be a Typst warning and a fallback font.
fn check_font(spec: &Spec, source: &SpecSource, engine: &Engine) -> Result<(), Error> {
    if engine.has_family(&spec.style.font) {
        return Ok(());
    }
    Err(source
        .error(KeyError::new(
            &[Key::Field("style"), Key::Field("font")],
            format!("unknown font family `{}`", spec.style.font),
            Some(format!(
                "memheat embeds its fonts so figures never depend on the machine; use one of: {}",
                engine.families().join(", ")
            )),
        ))
        .into())
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

/// Every output's bytes, before anything is written, so a failure leaves
/// the previous outputs as they were. PDF and PNG render on both cores.
fn render_outputs(
    compiled: &Compiled,
    formats: &[Format],
    base: &Path,
    dpi: u32,
    timings: &mut Timings,
) -> Result<Vec<(PathBuf, Vec<u8>)>, Error> {
    let rendered: Vec<_> = formats
        .par_iter()
        .map(|format| {
            let start = Instant::now();
            let bytes = match format {
                Format::Pdf => export::pdf(&compiled.document),
                Format::Png => export::png(&compiled.document, dpi),
            };
            (*format, bytes, start.elapsed())
        })
        .collect();
    let mut files = Vec::new();
    for (format, bytes, elapsed) in rendered {
        timings.stages.push((format.extension(), elapsed));
        files.push((with_extension(base, format.extension()), bytes?));
    }
    Ok(files)
}

fn read_spec(path: &Path) -> Result<SpecSource, Error> {
    let text = std::fs::read_to_string(path).map_err(|error| Error::ReadSpec {
        path: path.to_path_buf(),
        error,
    })?;
    Ok(SpecSource {
        path: path.to_path_buf(),
        text,
    })
}

/// `fig.v2` + `pdf` is `fig.v2.pdf`, not `fig.pdf`.
fn with_extension(base: &Path, ext: &str) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

/// A figure without a single measured cell is a broken input, not a figure.
fn check_has_data(table: &Table, spec_path: &Path, traces: usize) -> Result<(), Error> {
    let measured = table
        .rows
        .iter()
        .flatten()
        .filter(|c| c.state == CellState::Measured)
        .count();
    if measured == 0 {
        return Err(Error::NoData {
            spec: spec_path.to_path_buf(),
            detail: format!(
                "none of the {traces} trace file(s) gave a value; see the warnings above"
            ),
        });
    }
    Ok(())
}

/// Typst draws a character no font has as an empty box, silently.
fn missing_glyphs(table: &Table, engine: &Engine, spec_path: &Path) -> Vec<Warning> {
    let mut texts: Vec<&str> = vec![&table.x.title, &table.y.title];
    texts.extend(table.title.as_deref());
    texts.extend(table.subtitle.as_deref());
    texts.extend(
        table
            .x
            .labels
            .iter()
            .chain(&table.y.labels)
            .map(String::as_str),
    );
    texts.extend(
        table
            .rows
            .iter()
            .flatten()
            .flat_map(|c| c.lines.iter().map(String::as_str)),
    );
    texts.extend(table.legend.iter().map(|l| l.label.as_str()));
    texts.extend(table.colorbar.iter().map(|c| c.title.as_str()));
    texts
        .into_iter()
        .filter_map(|t| {
            let c = engine.missing_glyph(t)?;
            Some(Warning::new(
                spec_path,
                format!(
                    "`{c}` in \"{t}\" is in none of the embedded fonts and would print as a box"
                ),
            ))
        })
        .collect()
}
