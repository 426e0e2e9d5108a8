//! The second stage: the template filled and compiled with Typst, and the
//! checks only a laid-out figure allows (page size, text size).

use std::path::Path;

use super::{Figure, Model, Timings};
use crate::compile::{Compiled, Geometry};
use crate::spec::{Key, KeyError};
use crate::table::{self, Table};
use crate::{Error, Warning, numbers, template};

/// Typst's page limit in PDF 1.x readers (Acrobat's), 200 in.
pub const MAX_PAGE_PT: f64 = 14_400.0;

/// Fills the template and compiles it with Typst. When the built-in cell
/// text is left to fit and its full form has to shrink, the compact form
/// is compiled too, and the figure with the larger text is kept.
pub fn compile(model: &Model) -> Result<Figure, Error> {
    let mut timings = Timings::default();
    let spec_name = model.spec_path.display().to_string();
    let _watched = model.watched();
    let alt = numbers::describe(&model.spec, &model.table);
    let compile = |table: &Table| -> Result<Compiled, Error> {
        let source = template::render(&model.template, table, &spec_name, &alt, None)?;
        let auto_size = (table.layout.width.is_none(), table.layout.height.is_none());
        Ok(model.engine.compile(source, auto_size)?)
    };
    let full = timings.time("compile", || compile(&model.table))?;
    let mut compact_won = None;
    if full.geometry.text_scale < 1.0
        && let Some(compact) = model.table.compact()
    {
        let smaller = timings.time("compact", || compile(&compact))?;
        if smaller.geometry.text_scale > full.geometry.text_scale {
            compact_won = Some((smaller, compact));
        }
    }
    let (compiled, table) = compact_won.unwrap_or_else(|| (full, model.table.clone()));
    check_size(&compiled, &table, model)?;
    let warnings = figure_warnings(&compiled, &table, &model.spec_path);
    // The page's snap is known only now that Typst has laid it out, so the
    // source that reproduces the page on its own is a second filling.
    let source = template::render(
        &model.template,
        &table,
        &spec_name,
        &alt,
        Some(compiled.snap),
    )?;
    Ok(Figure {
        compiled,
        table,
        warnings,
        alt,
        source,
        timings,
    })
}

/// A page larger than PDF readers open, or cell text shrunk below
/// `style.min-font-size`: an error at the key that fixed the size, saying
/// what would fit.
fn check_size(compiled: &Compiled, table: &Table, model: &Model) -> Result<(), Error> {
    let spec = &model.spec;
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
    let full = full_size(g, table);
    let (keys, hint) = if full.width_bound {
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
                "the figure needs about {:.0}pt of width for cell text at full size ({}pt; it has {:.0}pt); {} or {last}",
                full.needed,
                table.layout.cell_font_size,
                g.page_width,
                ways.join(", ")
            ),
        )
    } else {
        let key = if spec.style.height.is_some() {
            "height"
        } else {
            "aspect"
        };
        (
            vec![Key::Field("style"), Key::Field(key)],
            format!(
                "the figure needs about {:.0}pt of height for cell text at full size ({}pt; it has {:.0}pt); raise `style.{key}`, or remove it to let the height follow the text",
                full.needed, table.layout.cell_font_size, g.page_height
            ),
        )
    };
    Err(model
        .sources
        .error(KeyError::new(&keys, message, Some(hint)))
        .into())
}

/// Where shrunk cell text would be at full size: the page width (or
/// height, whichever holds the text back), rounded up to a whole point.
struct FullSize {
    width_bound: bool,
    needed: f64,
}

/// Only the cells grow: the labels, the colorbar and the gaps beside them
/// keep their size, so the page grows by the cells' growth.
fn full_size(g: &Geometry, table: &Table) -> FullSize {
    let width_bound = g.fit_width <= g.fit_height;
    // A custom template may not say; the cells then grow with the text.
    let grown = |full: f64, now: f64| {
        if full > 0.0 {
            full
        } else {
            now / g.text_scale.max(0.01)
        }
    };
    let rows = rows_of_panels(table);
    let needed = if width_bound {
        let columns = rows
            .iter()
            .map(|row| row.iter().map(|g| g.x.labels.len()).sum::<usize>())
            .max()
            .unwrap_or(0);
        g.page_width + columns as f64 * (grown(g.full_cell_width, g.cell_width) - g.cell_width)
    } else {
        let rows: usize = rows
            .iter()
            .map(|row| row.iter().map(|g| g.y.labels.len()).max().unwrap_or(0))
            .sum();
        g.page_height + rows as f64 * (grown(g.full_cell_height, g.cell_height) - g.cell_height)
    };
    FullSize {
        width_bound,
        needed: (needed - 1e-6).ceil(),
    }
}

/// The grids as the built-in template lays them out: `style.panel-columns`
/// to a row, all in one row by default.
fn rows_of_panels(table: &Table) -> Vec<Vec<table::Grid<'_>>> {
    let per_row = table.layout.panel_columns.unwrap_or(usize::MAX).max(1);
    table.grids().chunks(per_row).map(<[_]>::to_vec).collect()
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
        let full = full_size(&compiled.geometry, table);
        warnings.push(Warning::new(
            spec_path,
            format!(
                "cell text was shrunk to {:.0}% ({:.1}pt) to fit the figure's size; it would be at full size about {:.0}pt {}, or with a shorter `cells.text`",
                scale * 100.0,
                scale * table.layout.cell_font_size,
                full.needed,
                if full.width_bound { "wide" } else { "high" }
            ),
        ));
    }
    warnings
}
