//! The first stage: the spec (and the bases it extends), its template and
//! fonts, then every input, into the figure's [`Model`].

use std::path::{Path, PathBuf};

use super::{BuildOptions, Model, Timings, sorted};
use crate::compile::{self, Engine};
use crate::export::ExportError;
use crate::progress::Report;
use crate::spec::{self, Format, Key, KeyError, Part, Sources, Spec, SpecSource};
use crate::table::{self, CellState, Table};
use crate::{Deps, Error, Failed, Template, Warning, input, output, paths};

/// Without a record of outcomes, a run that died of OOM (and so left no
/// trace) is simply absent from the figure.
const NO_OUTCOMES: &str = "no input says how runs ended (no `inputs.logs`, no training log, no status column), so configs that ran out of memory cannot be shown; add `inputs.logs`, or read the runs' training logs";

/// Reads the spec, its template and its data, and builds the table.
pub fn load(
    spec_path: &Path,
    options: &BuildOptions,
    engine: &Engine,
) -> Result<Model, Box<Failed>> {
    let started = output::file_clock_now();
    let mut timings = Timings::default();
    let mut deps = Deps {
        files: vec![spec_path.to_path_buf()],
        dirs: vec![],
    };
    let fail = |error, warnings, deps: &Deps| Failed::new(error, warnings, deps.clone());
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
        .map_err(|e| fail(e, warnings.clone(), &deps))?;
    let engine = fonts.unwrap_or_else(|| engine.clone());
    check_font(&spec, &sources, &engine).map_err(|e| fail(e, warnings.clone(), &deps))?;
    let parts = spec.parts();
    let loaded = timings.time("load", || {
        load_sweeps(
            spec_path,
            &spec,
            &parts,
            &sources,
            options,
            &mut deps,
            &mut warnings,
        )
    });
    let sweeps =
        loaded.map_err(|e| fail(sources.error(e).into(), sorted(warnings.clone()), &deps))?;
    let (table, table_warnings) = timings
        .time("table", || table::build(&spec, &sweeps))
        .map_err(|e| fail(sources.error(e).into(), sorted(warnings.clone()), &deps))?;
    warnings.extend(table_warnings);
    warnings.extend(missing_glyphs(&table, &engine, spec_path));
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
        started,
        engine,
        sources,
    })
}

/// Each part's inputs, read; what they warn about goes to `warnings` and
/// what they read to `deps`, whether or not a part fails.
fn load_sweeps(
    spec_path: &Path,
    spec: &Spec,
    parts: &[Part],
    sources: &Sources,
    options: &BuildOptions,
    deps: &mut Deps,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<input::Sweep>, KeyError> {
    let report = Report::new(options.progress.as_ref(), spec_path);
    let mut sweeps = Vec::with_capacity(parts.len());
    for part in parts {
        let mut sweep = input::Sweep::default();
        let loaded = input::load(
            part,
            &spec.units,
            sources,
            options.traces.as_deref(),
            report,
            &mut sweep,
        );
        deps.files.extend(sweep.inputs.iter().cloned());
        deps.dirs.extend(sweep.dirs.iter().cloned());
        warnings.extend(sweep.warnings.iter().map(|w| w.clone().about(part)));
        if let Err(e) = loaded {
            return Err(KeyError {
                message: part.named(&e.message),
                ..e
            });
        }
        if !sweep.records_outcomes && !sweep.runs.is_empty() {
            warnings.push(Warning::new(spec_path, part.named(NO_OUTCOMES)));
        }
        sweeps.push(sweep);
    }
    Ok(sweeps)
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
    let extensions = Format::ALL.map(Format::extension);
    let base =
        paths::output_base(&base, &extensions).map_err(|paths::BadBase { message, hint }| {
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
