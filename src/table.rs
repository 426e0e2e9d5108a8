//! The figure's model: which cell holds what, in which colour, with which
//! text and marks. Pure: the spec and the loaded sweep in, a [`Table`] and
//! warnings out, so every rule about cells is unit-testable without files.
//!
//! Rules (documented in the README's spec reference):
//! - a re-run's later outcome wins: by the log's `seq` capture, else a
//!   success with a usable trace beats a failure; both cases warn;
//! - a config only a failure log lists is *failed*, even with a (partial)
//!   trace, which is warned about;
//! - otherwise a trace makes it *measured*, or *invalid* when the trace has
//!   no usable actual value;
//! - a config only a success log lists, without a trace, is *invalid*;
//! - a config nobody mentions is *missing*;
//! - re-runs of a config: the trace with the largest `inputs.newest-by`
//!   value (compared as a number) wins, traces without one lose.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use minijinja::value::Value;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::colormap::{self, ColorMap, Scale};
use crate::input::{LogEntry, Run, RunValues, Status, Sweep};
use crate::spec::{
    Axes, CellForm, Color, ColorMapSpec, Comparison, Key, KeyError, MAX_AXIS_VALUES, MAX_CELLS,
    MAX_TEXT, Mark, Part, RATIO, Spec, StateStyle, Threshold, X_DEFAULTS, Y_DEFAULTS, canonical,
    compare_numbers, exact_f64,
};
use crate::warning::Warning;

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub title: Option<String>,
    pub subtitle: Option<String>,
    pub x: Axis,
    pub y: Axis,
    /// Rows top to bottom, each left to right.
    pub rows: Vec<Vec<Cell>>,
    /// A figure with `panels`: one grid each, side by side. `x`, `y` then
    /// hold only the shared fields and titles, with no labels and no rows.
    pub panels: Vec<Panel>,
    pub colorbar: Option<Colorbar>,
    pub legend: Vec<LegendEntry>,
    /// What the lines of a cell are, when the cells do not say (the
    /// compact form): shown with the legend.
    pub key: Option<String>,
    pub layout: Layout,
    /// The key of the compact form, while the full form is shown and the
    /// compact one is the fallback (see [`Table::compact`]).
    #[serde(skip)]
    compact_key: Option<String>,
}

/// One sweep's grid in a figure with `panels`.
#[derive(Debug, Clone, Serialize)]
pub struct Panel {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub rows: Vec<Vec<Cell>>,
}

/// A grid of cells, whether the figure's only one or a panel's.
#[derive(Debug, Clone, Copy)]
pub struct Grid<'t> {
    pub title: Option<&'t str>,
    pub x: &'t Axis,
    pub y: &'t Axis,
    pub rows: &'t [Vec<Cell>],
}

impl Grid<'_> {
    pub fn cells(&self) -> impl Iterator<Item = &Cell> {
        self.rows.iter().flatten()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Axis {
    pub field: String,
    pub title: String,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellState {
    Measured,
    Failed,
    Invalid,
    Missing,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub state: CellState,
    /// The log line that decided the state, if one did.
    pub log: Option<(PathBuf, usize)>,
    /// Why an invalid cell has no value.
    pub reason: Option<String>,
    pub fill: Option<Color>,
    /// Drawn around the cell, so that unfilled states tell apart.
    pub border: Option<Border>,
    pub text_color: Color,
    pub lines: Vec<String>,
    /// The compact form of `lines`, while the full form is shown.
    #[serde(skip)]
    pub compact_lines: Option<Vec<String>>,
    pub marks: Vec<CellMark>,
    /// Display units.
    pub actual: Option<f64>,
    pub theory: Option<f64>,
    /// The trace shown, if any.
    pub source: Option<PathBuf>,
    /// The config fields of the run or log line behind the cell, and the
    /// run's numeric fields (input units), for `memheat data`; not drawn.
    #[serde(skip)]
    pub captures: BTreeMap<String, String>,
    #[serde(skip)]
    pub numbers: BTreeMap<String, f64>,
}

/// The outline of a cell without a measurement: invalid cells are dashed,
/// missing ones dotted, so neither reads as a white (low) measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Border {
    Dashed,
    Dotted,
}

/// One look for a threshold's mark on every fill, and in the legend: the
/// spec's colour (black by default) with an edge of whichever of white and
/// black contrasts more with it, so that it reads on dark fills and light.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellMark {
    pub kind: Mark,
    pub color: Color,
    pub edge: Color,
    /// The threshold that applied, e.g. `theory > 80`.
    pub rule: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Colorbar {
    pub title: String,
    pub stops: Vec<Color>,
    pub ticks: Vec<Tick>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    /// Position along the bar, 0 at the bottom.
    pub at: f64,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LegendEntry {
    pub label: String,
    pub fill: Option<Color>,
    pub mark: Option<CellMark>,
    pub border: Option<Border>,
}

/// Sizes in points; `None` where Typst sizes to content.
#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    pub width: Option<f64>,
    pub height: Option<f64>,
    pub font: String,
    pub font_size: f64,
    pub title_font_size: f64,
    pub cell_font_size: f64,
    pub tick_font_size: f64,
    /// Cell text may shrink to fit a fixed size down to this, no further.
    pub min_font_size: f64,
    pub gap: f64,
    pub gap_color: Color,
    /// Panels per row; `None` for all in one row.
    pub panel_columns: Option<usize>,
}

impl Serialize for Color {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl Serialize for Mark {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl CellState {
    pub fn name(self) -> &'static str {
        match self {
            CellState::Measured => "measured",
            CellState::Failed => "failed",
            CellState::Invalid => "invalid",
            CellState::Missing => "missing",
        }
    }
}

impl Table {
    /// Every grid: the panels, or the figure's one grid.
    pub fn grids(&self) -> Vec<Grid<'_>> {
        if self.panels.is_empty() {
            return vec![Grid {
                title: None,
                x: &self.x,
                y: &self.y,
                rows: &self.rows,
            }];
        }
        self.panels
            .iter()
            .map(|p| Grid {
                title: Some(&p.title),
                x: &p.x,
                y: &p.y,
                rows: &p.rows,
            })
            .collect()
    }

    /// Every cell of every grid.
    pub fn cells(&self) -> impl Iterator<Item = &Cell> {
        self.rows
            .iter()
            .chain(self.panels.iter().flat_map(|p| &p.rows))
            .flatten()
    }

    /// The same figure in the compact form, when the form is memheat's to
    /// choose: the full form did not fit at the cell font size.
    pub fn compact(&self) -> Option<Table> {
        let key = self.compact_key.clone()?;
        let mut table = self.clone();
        let panels = table.panels.iter_mut().flat_map(|p| &mut p.rows);
        for cell in table.rows.iter_mut().chain(panels).flatten() {
            if let Some(lines) = cell.compact_lines.take() {
                cell.lines = lines;
            }
        }
        table.key = Some(key);
        table.compact_key = None;
        Some(table)
    }
}

/// Numbers in numeric order, then any other values in text order, so one
/// odd value does not put `10` before `9`.
fn sort_axis(values: &mut [String], reverse: bool) {
    let number = |v: &String| v.parse::<f64>().is_ok_and(f64::is_finite);
    values.sort_by(|a, b| match (number(a), number(b)) {
        (true, true) => compare_numbers(a, b).unwrap_or_else(|| a.cmp(b)),
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (false, false) => a.cmp(b),
    });
    if reverse {
        values.reverse();
    }
}

/// A value as cell text prints it (`|fixed`, `|amount`): `decimals`
/// digits after the point, so `memheat data` quotes what the figure shows.
pub(crate) fn fixed(v: f64, decimals: u8) -> String {
    let d = usize::from(decimals);
    format!("{v:.d$}")
}

/// Compact number for labels: `80`, `80.5`.
pub(crate) fn compact(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

type CellKey = (String, String);

/// The figure: one grid per part of the spec (see [`Spec::parts`]), on one
/// colour scale, with one colorbar and one legend. `sweeps` are the parts'
/// data, in order.
pub fn build(spec: &Spec, sweeps: &[Sweep]) -> Result<(Table, Vec<Warning>), KeyError> {
    let mut warnings = Vec::new();
    check_metrics(spec, sweeps)?;
    let rules = Rules::new(spec)?;
    let parts = spec.parts();
    let mut grids = Vec::with_capacity(parts.len());
    for (part, sweep) in parts.iter().zip(sweeps) {
        let mut found = Vec::new();
        let grid = grid(part, &rules, sweep, &mut found).map_err(|e| part.error(e))?;
        warnings.extend(found.into_iter().map(|w| w.about(part)));
        grids.push(grid);
    }
    let cells: usize = grids
        .iter()
        .map(|(x, y, _)| x.labels.len() * y.labels.len())
        .sum();
    if grids.len() > 1 && cells > MAX_CELLS {
        return Err(KeyError::new(
            &[Key::Field("panels")],
            format!("the panels would have {cells} cells in all, more than {MAX_CELLS}"),
            Some("list the values to show in each panel's `axes`, or draw fewer panels".into()),
        ));
    }
    let all: Vec<&Cell> = grids
        .iter()
        .flat_map(|(_, _, rows)| rows.iter().flatten())
        .collect();
    let legend = if spec.style.legend {
        legend(spec, &all, &rules.map)
    } else {
        vec![]
    };
    let colorbar = spec.style.colorbar.then(|| Colorbar {
        title: color_title(spec),
        stops: rules.map.stops().to_vec(),
        ticks: ticks(&rules.scale, spec.color.ticks),
    });
    let (width, height) = spec.figure_size();
    let style = &spec.style;
    let compact_key = rules.compact.is_some().then(|| rules.compact_key());
    let key = (spec.cells.form == Some(CellForm::Compact)).then(|| rules.compact_key());
    let shared = |axis: &crate::spec::Axis, defaults| Axis {
        field: axis.field(defaults).to_string(),
        title: axis.title(defaults).to_string(),
        labels: vec![],
    };
    let (x, y, rows, panels) = if spec.panels.is_empty() {
        let (x, y, rows) = grids.pop().expect("a spec without panels has one part");
        (x, y, rows, vec![])
    } else {
        let panels = parts
            .iter()
            .zip(grids)
            .map(|(part, (x, y, rows))| Panel {
                title: part.title.unwrap_or_default().to_string(),
                x,
                y,
                rows,
            })
            .collect();
        let x = shared(&spec.axes.x, &X_DEFAULTS);
        let y = shared(&spec.axes.y, &Y_DEFAULTS);
        (x, y, vec![], panels)
    };
    let heading = |text: &Option<String>| text.clone().filter(|_| style.shows_title());
    let table = Table {
        title: heading(&spec.title),
        subtitle: heading(&spec.subtitle),
        x,
        y,
        rows,
        panels,
        colorbar,
        legend,
        key: key.filter(|_| style.legend),
        compact_key,
        layout: Layout {
            width,
            height,
            font: style.font().to_string(),
            font_size: style.font_size(),
            title_font_size: style.title_font_size(),
            cell_font_size: style.cell_font_size(),
            tick_font_size: style.tick_font_size(),
            min_font_size: style.min_font_size.0,
            gap: style.gap.0,
            gap_color: style.gap_color,
            panel_columns: style.panel_columns,
        },
    };
    warnings.sort();
    warnings.dedup();
    Ok((table, warnings))
}

/// One sweep's grid; its errors' keys are relative to `part`.
fn grid(
    part: &Part,
    rules: &Rules,
    sweep: &Sweep,
    warnings: &mut Vec<Warning>,
) -> Result<(Axis, Axis, Vec<Vec<Cell>>), KeyError> {
    let axes = part.axes;
    let x_field = axes.x.field(&X_DEFAULTS).to_string();
    let y_field = axes.y.field(&Y_DEFAULTS).to_string();
    let key_of = |captures: &BTreeMap<String, String>| -> Option<CellKey> {
        Some((
            canonical(captures.get(&x_field)?),
            canonical(captures.get(&y_field)?),
        ))
    };
    let describe = |(x, y): &CellKey| format!("{y_field}={y}, {x_field}={x}");

    let mut runs: BTreeMap<CellKey, Vec<&Run>> = BTreeMap::new();
    for run in &sweep.runs {
        match key_of(&run.captures) {
            Some(key) => runs.entry(key).or_default().push(run),
            None => warnings.push(Warning {
                path: run.path.clone(),
                line: run.line,
                message: match run.line {
                    Some(_) => format!("the row has no `{x_field}` or `{y_field}` value; skipped"),
                    None => format!("file name has no `{x_field}` or `{y_field}` value; skipped"),
                },
            }),
        }
    }
    let mut logged: BTreeMap<CellKey, Vec<&LogEntry>> = BTreeMap::new();
    for entry in &sweep.log {
        if let Some(key) = key_of(&entry.captures) {
            logged.entry(key).or_default().push(entry);
        }
    }

    let x_labels = axis_labels(&axes.x, runs.keys().chain(logged.keys()).map(|k| &k.0));
    let y_labels = axis_labels(&axes.y, runs.keys().chain(logged.keys()).map(|k| &k.1));
    check_grid(axes, &x_labels, &y_labels)?;
    // Only an order memheat chose needs saying; listed values keep theirs.
    for (labels, field, pick, listed) in [
        (&x_labels, &x_field, 0usize, axes.x.values.is_some()),
        (&y_labels, &y_field, 1usize, axes.y.values.is_some()),
    ] {
        if listed {
            continue;
        }
        let is_number = |v: &String| v.parse::<f64>().is_ok_and(f64::is_finite);
        let Some(odd) = labels.iter().find(|v| !is_number(v)) else {
            continue;
        };
        if !labels.iter().any(is_number) {
            continue;
        }
        let key_has = |k: &CellKey| if pick == 0 { &k.0 == odd } else { &k.1 == odd };
        let path = runs
            .iter()
            .find(|(k, _)| key_has(k))
            .map(|(_, r)| r[0].path.clone())
            .or_else(|| {
                logged
                    .iter()
                    .find(|(k, _)| key_has(k))
                    .map(|(_, l)| l[0].path.clone())
            })
            .unwrap_or_default();
        warnings.push(Warning::new(
            &path,
            format!(
                "`{field}` is `{odd}` here, not a number; the axis puts numbers first, in numeric order, then text"
            ),
        ));
    }
    for key in runs.keys().chain(logged.keys()).collect::<BTreeSet<_>>() {
        if !x_labels.contains(&key.0) || !y_labels.contains(&key.1) {
            let path = runs
                .get(key)
                .map(|r| r[0].path.clone())
                .or_else(|| logged.get(key).map(|l| l[0].path.clone()))
                .unwrap_or_default();
            warnings.push(Warning::new(
                &path,
                format!(
                    "config {} is not among the axes' `values`; not shown",
                    describe(key)
                ),
            ));
        }
    }

    let mut rows = Vec::with_capacity(y_labels.len());
    for y in &y_labels {
        let mut row = Vec::with_capacity(x_labels.len());
        for x in &x_labels {
            let key = (x.clone(), y.clone());
            let here = describe(&key);
            let entries = logged.get(&key).map(Vec::as_slice).unwrap_or(&[]);
            let run = runs
                .get(&key)
                .map(|candidates| newest(candidates, &part.inputs.newest_by, &here, warnings));
            if let Some(run) = run
                && entries.is_empty()
                && sweep.lists_successes
            {
                warnings.push(Warning::new(
                    &run.path,
                    format!(
                        "config {here} has a trace, but no log or status column says how it ended; shown as measured"
                    ),
                ));
            }
            row.push(rules.cell(&here, entries, run, warnings)?);
        }
        rows.push(row);
    }
    let x = Axis {
        field: x_field.clone(),
        title: axes.x.title(&X_DEFAULTS).to_string(),
        labels: x_labels,
    };
    let y = Axis {
        field: y_field.clone(),
        title: axes.y.title(&Y_DEFAULTS).to_string(),
        labels: y_labels,
    };
    Ok((x, y, rows))
}

fn axis_labels<'a>(
    axis: &crate::spec::Axis,
    seen: impl Iterator<Item = &'a String>,
) -> Vec<String> {
    match &axis.values {
        Some(values) => {
            let mut labels: Vec<String> = values.iter().map(|v| canonical(&v.0)).collect();
            if axis.reverse {
                labels.reverse();
            }
            labels
        }
        None => {
            let mut labels: Vec<String> =
                seen.cloned().collect::<BTreeSet<_>>().into_iter().collect();
            sort_axis(&mut labels, axis.reverse);
            labels
        }
    }
}

/// Picks the newest of a config's traces and says which when there are several.
fn newest<'a>(
    candidates: &[&'a Run],
    field: &str,
    here: &str,
    warnings: &mut Vec<Warning>,
) -> &'a Run {
    let order = |r: &Run| r.captures.get(field).and_then(|v| v.parse::<f64>().ok());
    let best = candidates
        .iter()
        .copied()
        .max_by(|a, b| {
            let (oa, ob) = (order(a), order(b));
            // None sorts below every number; ties go to the later path.
            oa.partial_cmp(&ob)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.path.cmp(&b.path))
        })
        .expect("a config has at least one trace");
    if candidates.len() > 1 {
        let rows = candidates
            .iter()
            .all(|r| r.path == best.path && r.line.is_some());
        let others: Vec<String> = candidates
            .iter()
            .filter(|r| !std::ptr::eq(**r, best))
            .map(|r| match (rows, r.line) {
                (true, Some(line)) => format!("line {line}"),
                _ => r.path.display().to_string(),
            })
            .collect();
        let (what, one, order) = if rows {
            ("rows", "row", "the last")
        } else {
            ("traces", "trace", "last by name")
        };
        let why = match best.captures.get(field) {
            Some(v) => format!("largest `{field}` = {v}"),
            None => format!("no {one} has a numeric `{field}`; {order}"),
        };
        warnings.push(Warning {
            path: best.path.clone(),
            line: best.line.filter(|_| rows),
            message: format!(
                "config {here} has {} {what}; using this one ({why}), ignoring {}",
                candidates.len(),
                others.join(", ")
            ),
        });
    }
    best
}

const OVERFLOWS: &str = "too large for the display unit";

/// `value` (in input units) in display units, or `None` with a warning
/// when it is finite but the conversion overflows (`1e308` MB in bytes):
/// a broken tracer's number, not a reason to fail the figure.
fn in_display_units(
    run: &Run,
    name: &str,
    value: f64,
    spec: &Spec,
    warnings: &mut Vec<Warning>,
) -> Option<f64> {
    let shown = value * spec.units.scale();
    if shown.is_finite() {
        return Some(shown);
    }
    let then = if name == "actual" {
        "the cell shows no data"
    } else {
        "theory shows n/a and marks no threshold"
    };
    warnings.push(Warning::new(
        &run.path,
        format!(
            "{name} value {value:e} {} is {OVERFLOWS} ({}); {then}",
            spec.units.input.name(),
            spec.units.display.name()
        ),
    ));
    None
}

/// Warns about values that point to a unit bug or a broken tracer; the cell
/// still shows them, with the colour clipped.
fn check_plausible(
    run: &Run,
    actual: f64,
    theory: Option<f64>,
    spec: &Spec,
    warnings: &mut Vec<Warning>,
) {
    let unit = &spec.units.label;
    let top = spec.color.memory_top();
    for (name, value) in [("actual", Some(actual)), ("theoretical", theory)] {
        let Some(v) = value else { continue };
        let problem = if v <= 0.0 {
            Some("is not positive")
        } else if v > 10.0 * top.abs().max(1.0) {
            Some("is implausibly large; check `units.input`")
        } else {
            None
        };
        if let Some(problem) = problem {
            warnings.push(Warning::new(
                &run.path,
                format!("{name} value {}{unit} {problem}", compact(v)),
            ));
        }
    }
}

/// A figure of thousands of rows would take Typst minutes and gigabytes;
/// such a grid is almost always a wrong field or pattern.
fn check_grid(axes: &Axes, x: &[String], y: &[String]) -> Result<(), KeyError> {
    for (axis, labels, field) in [
        ("x", x, axes.x.field(&X_DEFAULTS)),
        ("y", y, axes.y.field(&Y_DEFAULTS)),
    ] {
        if labels.len() > MAX_AXIS_VALUES {
            return Err(KeyError::new(
                &[Key::Field("axes"), Key::Field(axis)],
                format!(
                    "the {axis} axis (`{field}`) would have {} values, more than {MAX_AXIS_VALUES}",
                    labels.len()
                ),
                Some(format!(
                    "list the ones to show in `axes.{axis}.values`, or check the field and `inputs.filename`"
                )),
            ));
        }
    }
    if x.len() * y.len() > MAX_CELLS {
        return Err(KeyError::new(
            &[Key::Field("axes")],
            format!(
                "the figure would have {} × {} cells, more than {MAX_CELLS}",
                y.len(),
                x.len()
            ),
            Some("list the values to show in `axes.x.values` and `axes.y.values`".into()),
        ));
    }
    Ok(())
}

/// A threshold or colour on a field no trace has would silently mark or
/// colour nothing.
fn check_metrics(spec: &Spec, sweeps: &[Sweep]) -> Result<(), KeyError> {
    let mut known: BTreeSet<&str> = ["actual", "theory", RATIO].into();
    for run in sweeps.iter().flat_map(|s| &s.runs) {
        if let Ok(values) = &run.content {
            known.extend(values.numbers.keys().map(String::as_str));
        }
    }
    let colour = (
        vec![Key::Field("color"), Key::Field("metric")],
        &spec.color.metric,
    );
    let thresholds = spec.thresholds.iter().enumerate().map(|(i, t)| {
        (
            vec![
                Key::Field("thresholds"),
                Key::Index(i),
                Key::Field("metric"),
            ],
            &t.metric,
        )
    });
    for (keys, metric) in std::iter::once(colour).chain(thresholds) {
        if known.contains(metric.as_str()) {
            continue;
        }
        let list: Vec<&str> = known.iter().copied().collect();
        let closest = crate::spec::closest(metric, &list)
            .map(|k| format!("did you mean `{k}`? "))
            .unwrap_or_default();
        return Err(KeyError::new(
            &keys,
            format!("unknown metric `{metric}`: no trace has that field"),
            Some(format!("{closest}use one of: {}", list.join(", "))),
        ));
    }
    Ok(())
}

/// What a metric name reads from a run. `actual`, `theory` and `ratio`
/// come first, so a trace field of one of these names is not reachable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Metric<'s> {
    Actual,
    Theory,
    /// theory / actual: how far the estimate is off, without a unit.
    Ratio,
    /// A numeric trace field, converted to display units.
    Field(&'s str),
}

impl<'s> Metric<'s> {
    pub(crate) fn new(name: &'s str) -> Metric<'s> {
        match name {
            "actual" => Metric::Actual,
            "theory" => Metric::Theory,
            RATIO => Metric::Ratio,
            field => Metric::Field(field),
        }
    }

    /// None where the run has no (finite) value.
    fn value(
        self,
        actual: f64,
        theory: Option<f64>,
        values: &RunValues,
        scale: f64,
    ) -> Option<f64> {
        match self {
            Metric::Actual => Some(actual),
            Metric::Theory => theory,
            Metric::Ratio => theory.map(|t| t / actual).filter(|r| r.is_finite()),
            Metric::Field(name) => values
                .numbers
                .get(name)
                .map(|v| v * scale)
                .filter(|v| v.is_finite()),
        }
    }

    /// What follows a value: the unit (`label` is [`Spec::unit_suffix`] or
    /// the bare label), or nothing for the ratio.
    pub(crate) fn unit(self, label: &str) -> &str {
        if self == Metric::Ratio { "" } else { label }
    }

    /// The colorbar's default title.
    pub(crate) fn title(self, label: &str) -> String {
        match self {
            Metric::Actual => format!("Peak memory ({label})"),
            Metric::Theory => format!("Theoretical memory ({label})"),
            Metric::Ratio => "Theory / actual".into(),
            Metric::Field(name) => format!("{name} ({label})"),
        }
    }
}

/// What the colour shows: `color.title`, else the metric's own words.
pub(crate) fn color_title(spec: &Spec) -> String {
    spec.color
        .title
        .clone()
        .unwrap_or_else(|| Metric::new(&spec.color.metric).title(&spec.units.label))
}

/// What decides a cell: the state rules, the colour map and the cell texts.
struct Rules<'s> {
    spec: &'s Spec,
    texts: CellText<'s>,
    /// The compact form, kept in reserve while the form is left to fit.
    compact: Option<CellText<'s>>,
    map: ColorMap,
    scale: Scale,
}

impl<'s> Rules<'s> {
    fn new(spec: &'s Spec) -> Result<Self, KeyError> {
        let cells = &spec.cells;
        let (lines, compact) = match (&cells.text, cells.form) {
            (Some(lines), _) => (lines.clone(), false),
            (None, Some(form)) => (form.lines(), false),
            // Without a legend nothing would say what the numbers are.
            (None, None) => (CellForm::Full.lines(), spec.style.legend),
        };
        Ok(Rules {
            spec,
            texts: CellText::new(spec, lines)?,
            compact: compact
                .then(|| CellText::new(spec, CellForm::Compact.lines()))
                .transpose()?,
            map: color_map(spec),
            scale: scale(spec),
        })
    }

    /// The legend's words for the lines of a compact cell.
    fn compact_key(&self) -> String {
        format!("Cells: actual over theory ({})", self.spec.units.label)
    }

    /// The cell of one config, from its log entries and its newest trace.
    fn cell(
        &self,
        here: &str,
        entries: &[&LogEntry],
        run: Option<&Run>,
        warnings: &mut Vec<Warning>,
    ) -> Result<Cell, KeyError> {
        let latest = |status| latest(entries, status);
        let (mut failure, success) = (latest(Status::Failure), latest(Status::Success));
        if let (Some(f), Some(s)) = (failure, success)
            && let Some(why) = rerun_succeeded(f, s, run)
        {
            warnings.push(Warning {
                path: s.path.clone(),
                line: Some(s.line),
                message: format!(
                    "config {here} failed at {}:{} and succeeded here ({why}); shown as succeeded",
                    f.path.display(),
                    f.line
                ),
            });
            failure = None;
        }
        Ok(match (failure, run) {
            (Some(f), run) => self.failed(f, success, run, here, warnings),
            (None, Some(run)) => match &run.content {
                Ok(values) => self.measured(run, values, success, warnings)?,
                Err(why) => Cell {
                    source: Some(run.path.clone()),
                    captures: run.captures.clone(),
                    reason: Some(why.0.clone()),
                    log: success.map(at),
                    ..plain_cell(CellState::Invalid, &self.spec.cells.invalid)
                },
            },
            (None, None) => match success {
                Some(s) => {
                    warnings.push(Warning {
                        path: s.path.clone(),
                        line: Some(s.line),
                        message: format!("config {here} is listed as succeeded but has no trace"),
                    });
                    Cell {
                        log: Some(at(s)),
                        captures: s.captures.clone(),
                        reason: Some("listed as succeeded but has no trace".into()),
                        ..plain_cell(CellState::Invalid, &self.spec.cells.invalid)
                    }
                }
                None => plain_cell(CellState::Missing, &self.spec.cells.missing),
            },
        })
    }

    /// A failure wins over a success it cannot be ordered after and over a
    /// (partial) trace.
    fn failed(
        &self,
        failure: &LogEntry,
        success: Option<&LogEntry>,
        run: Option<&Run>,
        here: &str,
        warnings: &mut Vec<Warning>,
    ) -> Cell {
        if let Some(s) = success {
            warnings.push(Warning {
                path: failure.path.clone(),
                line: Some(failure.line),
                message: format!(
                    "config {here} is also listed as succeeded at {}:{}; shown as failed",
                    s.path.display(),
                    s.line
                ),
            });
        }
        // A training log or table that records its own OOM says nothing new.
        if let Some(run) = run.filter(|r| r.path != failure.path) {
            warnings.push(Warning::new(
                &run.path,
                format!(
                    "trace of a run that {}:{} lists as failed (written before the OOM?); shown as failed",
                    failure.path.display(),
                    failure.line
                ),
            ));
        }
        Cell {
            log: Some(at(failure)),
            captures: run.map_or(&failure.captures, |r| &r.captures).clone(),
            ..plain_cell(CellState::Failed, &self.spec.cells.failed)
        }
    }

    fn measured(
        &self,
        run: &Run,
        values: &RunValues,
        success: Option<&LogEntry>,
        warnings: &mut Vec<Warning>,
    ) -> Result<Cell, KeyError> {
        let spec = self.spec;
        let scale = spec.units.scale();
        let Some(actual) = in_display_units(run, "actual", values.actual, spec, warnings) else {
            return Ok(Cell {
                source: Some(run.path.clone()),
                reason: Some(OVERFLOWS.into()),
                log: success.map(at),
                ..plain_cell(CellState::Invalid, &self.spec.cells.invalid)
            });
        };
        let theory = values
            .theory
            .and_then(|t| in_display_units(run, "theoretical", t, spec, warnings));
        check_plausible(run, actual, theory, spec, warnings);
        let metric = |name| Metric::new(name).value(actual, theory, values, scale);
        // Without a value to colour by (theory n/a), the cell stays white.
        let fill = metric(&spec.color.metric).map(|v| self.map.sample(self.scale.position(v)));
        let marks = spec
            .thresholds
            .iter()
            .filter(
                |t| matches!((metric(&t.metric), t.comparison()), (Some(v), Some(c)) if c.holds(v)),
            )
            .map(threshold_mark)
            .collect();
        Ok(Cell {
            state: CellState::Measured,
            log: success.map(at),
            reason: None,
            fill,
            border: None,
            text_color: fill.map_or(Color::BLACK, colormap::text_color),
            lines: self.texts.render(run, actual, theory, &spec.units.label)?,
            compact_lines: self
                .compact
                .as_ref()
                .map(|c| c.render(run, actual, theory, &spec.units.label))
                .transpose()?,
            marks,
            actual: Some(actual),
            theory,
            source: Some(run.path.clone()),
            captures: run.captures.clone(),
            numbers: values.numbers.clone(),
        })
    }
}

/// A config's last entry of one status (see [`LogEntry::order`]).
fn latest<'a>(entries: &[&'a LogEntry], status: Status) -> Option<&'a LogEntry> {
    entries
        .iter()
        .copied()
        .filter(|e| e.status == status)
        .max_by(|a, b| a.order(b))
}

/// Sweeps re-run failed configs: the later outcome wins. With no order
/// (no `seq`, or equal ones), a success with a usable trace beats the
/// failure. Says why, when the success wins.
fn rerun_succeeded(failure: &LogEntry, success: &LogEntry, run: Option<&Run>) -> Option<String> {
    match (failure.seq(), success.seq()) {
        (Some(f), Some(s)) if f != s => (s > f).then(|| format!("`seq` {s} is after {f}")),
        _ => run
            .is_some_and(|r| r.content.is_ok())
            .then(|| "the logs give no order, and this success has a trace".into()),
    }
}

fn at(entry: &LogEntry) -> (PathBuf, usize) {
    (entry.path.clone(), entry.line)
}

/// The mark a threshold puts on a cell, whatever its fill.
fn threshold_mark(t: &Threshold) -> CellMark {
    let color = t.color.unwrap_or(Color::BLACK);
    CellMark {
        kind: t.mark,
        color,
        edge: colormap::text_color(color),
        rule: rule(t),
    }
}

/// A threshold in a few characters: `theory > 80`.
pub(crate) fn rule(t: &Threshold) -> String {
    let (symbol, value) = t.comparison().map_or(("?", 0.0), Comparison::symbol);
    format!("{} {symbol} {}", t.metric, compact(value))
}

fn plain_cell(state: CellState, style: &StateStyle) -> Cell {
    let lines = if style.text.is_empty() {
        vec![]
    } else {
        vec![style.text.clone()]
    };
    Cell {
        state,
        log: None,
        reason: None,
        fill: style.fill,
        border: border(state),
        text_color: style.fill.map_or(Color::BLACK, colormap::text_color),
        lines,
        compact_lines: None,
        marks: vec![],
        actual: None,
        theory: None,
        source: None,
        captures: BTreeMap::new(),
        numbers: BTreeMap::new(),
    }
}

fn color_map(spec: &Spec) -> ColorMap {
    let map = match &spec.color.map {
        ColorMapSpec::Name(name) => colormap::named(name).expect("checked when parsing the spec"),
        ColorMapSpec::Stops(stops) => ColorMap::from_stops(stops.clone()),
    };
    if spec.color.reverse {
        map.reversed()
    } else {
        map
    }
}

fn border(state: CellState) -> Option<Border> {
    match state {
        CellState::Invalid => Some(Border::Dashed),
        CellState::Missing => Some(Border::Dotted),
        CellState::Measured | CellState::Failed => None,
    }
}

fn scale(spec: &Spec) -> Scale {
    let [lo, hi] = spec.color.range();
    Scale {
        lo,
        hi,
        center: spec.color.center,
    }
}

/// Evenly spaced along the bar; with a centre, an odd count puts a tick on it.
fn ticks(scale: &Scale, count: u32) -> Vec<Tick> {
    let n = count.max(2) as usize - 1;
    let values: Vec<f64> = (0..=n)
        .map(|i| scale.value_at(i as f64 / n as f64))
        .collect();
    // Fewest decimals that still tell every tick apart exactly.
    let decimals = (0..=4)
        .find(|&d| {
            values
                .iter()
                .all(|v| (format!("{v:.d$}").parse::<f64>().unwrap_or(f64::NAN) - v).abs() < 1e-9)
        })
        .unwrap_or(4);
    values
        .iter()
        .enumerate()
        .map(|(i, v)| Tick {
            at: i as f64 / n as f64,
            label: format!("{v:.decimals$}"),
        })
        .collect()
}

/// An entry for each labelled state and each mark the figure shows.
fn legend(spec: &Spec, cells: &[&Cell], map: &ColorMap) -> Vec<LegendEntry> {
    let present = |state: CellState| cells.iter().any(|c| c.state == state);
    let mut entries = Vec::new();
    let states = [
        (CellState::Failed, &spec.cells.failed),
        (CellState::Invalid, &spec.cells.invalid),
        (CellState::Missing, &spec.cells.missing),
    ];
    for (state, style) in states {
        if let (true, Some(label)) = (present(state), &style.label) {
            entries.push(LegendEntry {
                label: label.clone(),
                fill: style.fill,
                mark: None,
                border: border(state),
            });
        }
    }
    // A mid-scale swatch shows the mark as it looks on data.
    let swatch = map.sample(0.6);
    for t in &spec.thresholds {
        let mark = threshold_mark(t);
        let shown = |m: &CellMark| m.kind == mark.kind && m.rule == mark.rule;
        if !cells.iter().any(|c| c.marks.iter().any(shown)) {
            continue;
        }
        let label = t.label.clone().unwrap_or_else(|| {
            let (symbol, value) = t.comparison().map_or(("?", 0.0), Comparison::symbol);
            let mut metric = t.metric.clone();
            if let Some(first) = metric.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            let suffix = spec.unit_suffix();
            let unit = Metric::new(&t.metric).unit(&suffix);
            format!("{metric} {symbol} {}{unit}", compact(value))
        });
        entries.push(LegendEntry {
            label,
            fill: Some(swatch),
            mark: Some(mark),
            border: None,
        });
    }
    entries
}

/// Grey levels closer than this (of 255) read as one on a grayscale print
/// next to each other; the complaint that led to it was about 232 and 242.
pub const GRAY_APART: f64 = 32.0;

/// Pairs of swatches a grayscale print would not tell apart: the figure's
/// state and mark swatches (shown in the legend or not) and the low end of
/// the colour scale. A border or a mark tells swatches apart whatever their
/// grey; swatches alike in those are compared by the luma of their fill and
/// of their mark's colour. One message per pair, naming both.
pub fn grayscale_clashes(spec: &Spec, table: &Table) -> Vec<String> {
    let map = color_map(spec);
    let cells: Vec<&Cell> = table.cells().collect();
    let mut swatches: Vec<(String, LegendEntry)> = legend(spec, &cells, &map)
        .into_iter()
        .filter(|e| !e.label.is_empty())
        .map(|e| (format!("`{}`", e.label), e))
        .collect();
    let metric = Metric::new(&spec.color.metric);
    let low = format!(
        "the colour scale's low end ({}{})",
        compact(spec.color.range()[0]),
        metric.unit(&spec.units.label)
    );
    swatches.push((
        low,
        LegendEntry {
            label: String::new(),
            fill: Some(map.sample(0.0)),
            mark: None,
            border: None,
        },
    ));
    let fill_luma = |e: &LegendEntry| colormap::luma(e.fill.unwrap_or(Color::WHITE));
    let mut clashes = Vec::new();
    for (i, (a_name, a)) in swatches.iter().enumerate() {
        for (b_name, b) in &swatches[i + 1..] {
            let kind = |e: &LegendEntry| e.mark.as_ref().map(|m| m.kind);
            let mark_luma = |e: &LegendEntry| e.mark.as_ref().map(|m| colormap::luma(m.color));
            let near = |x: Option<f64>, y: Option<f64>| match (x, y) {
                (Some(x), Some(y)) => (x - y).abs() < GRAY_APART,
                _ => true,
            };
            let (la, lb) = (fill_luma(a), fill_luma(b));
            if a.border == b.border
                && kind(a) == kind(b)
                && near(Some(la), Some(lb))
                && near(mark_luma(a), mark_luma(b))
            {
                clashes.push(format!(
                    "{a_name} and {b_name} look alike in grayscale (luma {la:.0} and {lb:.0}, less than {GRAY_APART:.0} apart); make one fill lighter or darker"
                ));
            }
        }
    }
    clashes
}

/// Template instructions one cell line may take.
const CELL_TEXT_FUEL: u64 = 20_000;

/// The compiled cell line templates: `cells.text`, or a built-in form.
struct CellText<'s> {
    env: Environment<'s>,
    lines: usize,
}

impl<'s> CellText<'s> {
    fn new(spec: &'s Spec, lines: Vec<String>) -> Result<Self, KeyError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // A cell's line is a few filters; a loop that runs longer is a
        // mistake (or an attack) and would otherwise never end.
        env.set_fuel(Some(CELL_TEXT_FUEL));
        let decimals = spec.cells.decimals;
        let fixed = move |v: &Value, digits: Option<u8>| -> Option<String> {
            match f64::try_from(v.clone()) {
                Ok(n) if n.is_finite() => Some(fixed(n, digits.unwrap_or(decimals))),
                _ => None,
            }
        };
        env.add_filter("fixed", move |v: Value, digits: Option<u8>| {
            fixed(&v, digits).unwrap_or_else(|| "n/a".into())
        });
        // A value with its unit; an unknown one is `n/a` without a unit.
        let unit = spec.unit_suffix();
        env.add_filter("amount", move |v: Value, digits: Option<u8>| {
            fixed(&v, digits).map_or_else(|| "n/a".into(), |s| format!("{s}{unit}"))
        });
        let count = lines.len();
        for (i, line) in lines.into_iter().enumerate() {
            env.add_template_owned(format!("cells.text[{i}]"), line)
                .map_err(|e| text_error(i, &e, None))?;
        }
        Ok(CellText { env, lines: count })
    }

    fn render(
        &self,
        run: &Run,
        actual: f64,
        theory: Option<f64>,
        unit: &str,
    ) -> Result<Vec<String>, KeyError> {
        let mut ctx: BTreeMap<String, Value> = BTreeMap::new();
        for (k, v) in &run.captures {
            // `tp` is the number 2 in templates, so `{{ tp * pp }}` works.
            // A number an f64 would change (above 2^53) stays text, so it
            // prints as written.
            let value = match (v.parse::<i64>(), exact_f64(v)) {
                (Ok(i), _) => Value::from(i),
                (_, Some(f)) => Value::from(f),
                _ => Value::from(v.as_str()),
            };
            ctx.insert(k.clone(), value);
        }
        if let Ok(values) = &run.content {
            for (k, v) in &values.numbers {
                ctx.insert(k.clone(), Value::from(*v));
            }
        }
        ctx.insert("actual".into(), Value::from(actual));
        ctx.insert("theory".into(), theory.map_or(Value::from(()), Value::from));
        ctx.insert("unit".into(), Value::from(unit));
        (0..self.lines)
            .map(|i| {
                let template = self
                    .env
                    .get_template(&format!("cells.text[{i}]"))
                    .expect("added in new()");
                let line = template
                    .render(&ctx)
                    .map_err(|e| text_error(i, &e, Some(ctx.keys().cloned().collect())))?;
                let chars = line.chars().count();
                if chars > MAX_TEXT {
                    return Err(KeyError::new(
                        &[Key::Field("cells"), Key::Field("text"), Key::Index(i)],
                        format!(
                            "cell text renders to {chars} characters for {}",
                            run.path.display()
                        ),
                        Some(format!(
                            "a cell line may have at most {MAX_TEXT} characters"
                        )),
                    ));
                }
                Ok(line)
            })
            .collect()
    }
}

fn text_error(i: usize, e: &minijinja::Error, fields: Option<Vec<String>>) -> KeyError {
    let what = e
        .detail()
        .map_or_else(|| e.kind().to_string(), str::to_string);
    let hint = if e.kind() == minijinja::ErrorKind::OutOfFuel {
        Some(format!(
            "a cell line may take at most {CELL_TEXT_FUEL} template steps; loops belong in a custom `template:`"
        ))
    } else {
        fields.map(|f| format!("the fields of a cell are: {}", f.join(", ")))
    };
    KeyError::new(
        &[Key::Field("cells"), Key::Field("text"), Key::Index(i)],
        format!("cell text template: {what}"),
        hint.or_else(|| Some("write values as `{{ name }}`, e.g. `{{ actual|fixed(1) }}`".into())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{RunValues, Unusable};
    use crate::spec;

    fn spec(extra: &str) -> Spec {
        spec::parse_one(
            "t.yaml",
            &format!("inputs:\n  traces: '*.json'\n  logs: {{success: s, failure: f}}\n{extra}"),
        )
        .unwrap()
    }

    fn run(tp: &str, pp: &str, ts: &str, actual: f64, theory: Option<f64>) -> Run {
        Run {
            line: None,
            path: format!("tp{tp}_pp{pp}_ts{ts}.json").into(),
            captures: [("tp", tp), ("pp", pp), ("ts", ts)]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            content: Ok(RunValues {
                numbers: BTreeMap::from([("peak_allocated_MB".to_string(), actual)]),
                actual,
                theory,
            }),
        }
    }

    fn log(tp: &str, pp: &str, status: Status, line: usize) -> LogEntry {
        LogEntry {
            path: if status == Status::Success {
                "s.log"
            } else {
                "f.log"
            }
            .into(),
            line,
            status,
            captures: [("tp", tp), ("pp", pp)]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn table(sweep: &Sweep, extra: &str) -> (Table, Vec<String>) {
        let (t, w) = build(&spec(extra), std::slice::from_ref(sweep)).unwrap();
        (t, w.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn axes_sort_numerically_and_cells_get_text_colour_and_hatch() {
        let sweep = Sweep {
            runs: vec![
                run("1", "12", "1", 70.0 * 1024.0, Some(100.0 * 1024.0)),
                run("1", "8", "2", 10.0 * 1024.0, Some(12.0 * 1024.0)),
                run("2", "32", "3", 57.34 * 1024.0, Some(80.0 * 1024.0)),
            ],
            ..Sweep::default()
        };
        let (t, w) = table(&sweep, "");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(t.x.labels, ["8", "12", "32"]);
        assert_eq!(t.y.labels, ["1", "2"]);
        let hot = &t.rows[0][1];
        assert_eq!(hot.lines, ["Actual: 70.0GB", "Theory: 100.0GB"]);
        assert_eq!(hot.text_color, Color::WHITE);
        assert_eq!(hot.marks.len(), 1);
        let cool = &t.rows[0][0];
        assert_eq!(cool.text_color, Color::BLACK);
        assert!(cool.marks.is_empty());
        // 80 is not above 80: the comparison is strict.
        assert!(t.rows[1][2].marks.is_empty());
        assert_eq!(t.rows[1][2].lines[0], "Actual: 57.3GB");
        assert_eq!(t.rows[1][0].state, CellState::Missing);
        let ticks: Vec<_> = t
            .colorbar
            .unwrap()
            .ticks
            .iter()
            .map(|t| t.label.clone())
            .collect();
        assert_eq!(ticks, ["0", "20", "40", "60", "80"]);
        // The grid has a config no input names: the legend says what the blank is.
        let labels: Vec<_> = t.legend.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["No record", "Theory > 80GB"]);
    }

    fn seq_log(tp: &str, status: Status, line: usize, seq: Option<&str>) -> LogEntry {
        let mut entry = log(tp, "1", status, line);
        if let Some(seq) = seq {
            entry.captures.insert("seq".into(), seq.into());
        }
        entry
    }

    /// The re-run rule, in its four cases: ordered by `seq` either way,
    /// unordered with a trace, and a failure only.
    #[test]
    fn the_later_outcome_of_a_rerun_wins() {
        let trace = |tp| run(tp, "1", "5", 50.0 * 1024.0, None);
        let sweep = Sweep {
            runs: vec![trace("1"), trace("2"), trace("3"), trace("4")],
            log: vec![
                // 1: failed, then succeeded in a later run.
                seq_log("1", Status::Failure, 1, Some("3")),
                seq_log("1", Status::Success, 1, Some("9")),
                // 2: succeeded, then failed in a later run.
                seq_log("2", Status::Success, 2, Some("4")),
                seq_log("2", Status::Failure, 2, Some("10")),
                // 3: no order known, and the success has a trace.
                seq_log("3", Status::Failure, 3, None),
                seq_log("3", Status::Success, 3, None),
                // 4: only a failure, with a (partial) trace.
                seq_log("4", Status::Failure, 4, None),
            ],
            ..Sweep::default()
        };
        let (t, w) = table(&sweep, "");
        let states: Vec<CellState> = t.rows.iter().map(|r| r[0].state).collect();
        assert_eq!(
            states,
            [
                CellState::Measured,
                CellState::Failed,
                CellState::Measured,
                CellState::Failed
            ]
        );
        assert_eq!(t.rows[0][0].log, Some(("s.log".into(), 1)));
        assert_eq!(
            w,
            [
                "f.log:2: config tp=2, pp=1 is also listed as succeeded at s.log:2; shown as failed",
                "s.log:1: config tp=1, pp=1 failed at f.log:1 and succeeded here (`seq` 9 is after 3); shown as succeeded",
                "s.log:3: config tp=3, pp=1 failed at f.log:3 and succeeded here (the logs give no order, and this success has a trace); shown as succeeded",
                "tp2_pp1_ts5.json: trace of a run that f.log:2 lists as failed (written before the OOM?); shown as failed",
                "tp4_pp1_ts5.json: trace of a run that f.log:4 lists as failed (written before the OOM?); shown as failed",
            ]
        );
    }

    #[test]
    fn axis_values_sort_numbers_first_then_text() {
        let mut values: Vec<String> = ["10", "x", "9", "auto", "1.5"].map(String::from).into();
        sort_axis(&mut values, false);
        assert_eq!(values, ["1.5", "9", "10", "auto", "x"]);
        sort_axis(&mut values, true);
        assert_eq!(values, ["x", "auto", "10", "9", "1.5"]);
    }

    #[test]
    fn newest_rerun_wins_by_number_not_string() {
        let sweep = Sweep {
            runs: vec![
                run("1", "1", "900", 1024.0, None),
                run("1", "1", "1000", 2048.0, None),
            ],
            ..Sweep::default()
        };
        let (t, w) = table(&sweep, "");
        assert_eq!(t.rows[0][0].actual, Some(2.0));
        assert_eq!(
            w,
            [
                "tp1_pp1_ts1000.json: config tp=1, pp=1 has 2 traces; using this one (largest `ts` = 1000), ignoring tp1_pp1_ts900.json"
            ]
        );
    }

    #[test]
    fn invalid_and_success_without_trace_are_not_zero() {
        let mut bad = run("1", "2", "1", 0.0, None);
        bad.content = Err(Unusable("malformed JSON".into()));
        let sweep = Sweep {
            runs: vec![bad],
            log: vec![
                log("2", "2", Status::Success, 3),
                log("2", "1", Status::Failure, 4),
            ],
            ..Sweep::default()
        };
        let (t, w) = table(&sweep, "");
        assert_eq!(t.rows[0][1].state, CellState::Invalid);
        assert_eq!(t.rows[0][1].fill, None);
        assert_eq!(t.rows[0][1].lines, ["no data"]);
        assert_eq!(t.rows[1][1].state, CellState::Invalid);
        assert_eq!(t.rows[1][0].state, CellState::Failed);
        assert_eq!(
            w,
            ["s.log:3: config tp=2, pp=2 is listed as succeeded but has no trace"]
        );
        let labels: Vec<_> = t.legend.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["Failed (OOM)", "No usable trace", "No record"]);
    }

    #[test]
    fn unknown_theory_shows_na_and_no_hatch() {
        let sweep = Sweep {
            runs: vec![run("1", "1", "1", 50.0 * 1024.0, None)],
            ..Sweep::default()
        };
        let (t, _) = table(&sweep, "");
        assert_eq!(t.rows[0][0].lines, ["Actual: 50.0GB", "Theory: n/a"]);
        assert!(t.rows[0][0].marks.is_empty());
    }

    #[test]
    fn implausible_values_warn_and_clip() {
        let sweep = Sweep {
            runs: vec![
                run("1", "1", "1", 5000.0 * 1024.0, None),
                run("1", "2", "1", 0.0, None),
            ],
            ..Sweep::default()
        };
        let (t, w) = table(&sweep, "");
        assert_eq!(t.rows[0][0].fill, Some(Color([0x99, 0, 0x0D])));
        assert_eq!(t.rows[0][1].fill, Some(Color::WHITE));
        assert_eq!(
            w,
            [
                "tp1_pp1_ts1.json: actual value 5000GB is implausibly large; check `units.input`",
                "tp1_pp2_ts1.json: actual value 0GB is not positive",
            ]
        );
    }

    #[test]
    fn explicit_axis_values_and_custom_text() {
        let sweep = Sweep {
            runs: vec![
                run("1", "1", "1", 1024.0, None),
                run("1", "3", "1", 1024.0, None),
            ],
            ..Sweep::default()
        };
        let (t, w) = table(
            &sweep,
            "axes: {x: {values: [4, 1]}}\ncells: {text: ['{{ tp }}x{{ pp }}: {{ actual|fixed(2) }} {{ unit }}']}\n",
        );
        assert_eq!(t.x.labels, ["4", "1"]);
        assert_eq!(t.rows[0][1].lines, ["1x1: 1.00 GB"]);
        assert_eq!(
            w,
            ["tp1_pp3_ts1.json: config tp=1, pp=3 is not among the axes' `values`; not shown"]
        );
    }

    /// The compact form is a fallback only while the form is memheat's to
    /// choose and a legend can name the lines.
    #[test]
    fn the_compact_form_is_kept_in_reserve_when_the_form_is_left_open() {
        let sweep = Sweep {
            runs: vec![run("1", "1", "1", 50.0 * 1024.0, Some(60.25 * 1024.0))],
            ..Sweep::default()
        };
        let (t, _) = table(&sweep, "");
        assert_eq!(t.rows[0][0].lines, ["Actual: 50.0GB", "Theory: 60.2GB"]);
        assert_eq!(t.key, None);
        let compact = t.compact().unwrap();
        assert_eq!(compact.rows[0][0].lines, ["50.0", "60.2"]);
        assert_eq!(
            compact.key.as_deref(),
            Some("Cells: actual over theory (GB)")
        );
        assert!(compact.compact().is_none());
        for fixed in [
            "cells: {form: full}\n",
            "cells: {text: ['{{ actual }}']}\n",
            "style: {legend: false}\n",
        ] {
            assert!(table(&sweep, fixed).0.compact().is_none(), "{fixed}");
        }
        let (t, _) = table(&sweep, "cells: {form: compact}\n");
        assert_eq!(t.rows[0][0].lines, ["50.0", "60.2"]);
        assert_eq!(t.key.as_deref(), Some("Cells: actual over theory (GB)"));
    }

    #[test]
    fn ratio_colours_around_its_centre_and_the_colorbar_follows() {
        let sweep = Sweep {
            runs: vec![
                run("1", "1", "1", 40.0 * 1024.0, Some(20.0 * 1024.0)),
                run("1", "2", "1", 40.0 * 1024.0, Some(40.0 * 1024.0)),
                run("1", "4", "1", 10.0 * 1024.0, Some(30.0 * 1024.0)),
                run("1", "8", "1", 10.0 * 1024.0, None),
            ],
            ..Sweep::default()
        };
        let (t, w) = table(
            &sweep,
            "color: {metric: ratio, map: rdbu, range: [0.5, 3], center: 1}
thresholds: [{metric: ratio, at-least: 3}]
",
        );
        assert!(w.is_empty(), "{w:?}");
        let map = colormap::named("rdbu").unwrap();
        let fills: Vec<_> = t.rows[0].iter().map(|c| c.fill).collect();
        assert_eq!(
            fills,
            [
                Some(map.sample(0.0)),
                Some(map.sample(0.5)),
                Some(map.sample(1.0)),
                None
            ]
        );
        assert_eq!(t.rows[0][2].marks.len(), 1);
        assert_eq!(t.rows[0][3].text_color, Color::BLACK);
        let colorbar = t.colorbar.unwrap();
        assert_eq!(colorbar.title, "Theory / actual");
        let ticks: Vec<_> = colorbar
            .ticks
            .iter()
            .map(|t| (t.at, t.label.as_str()))
            .collect();
        assert_eq!(
            ticks,
            [
                (0.0, "0.50"),
                (0.25, "0.75"),
                (0.5, "1.00"),
                (0.75, "2.00"),
                (1.0, "3.00")
            ]
        );
        assert_eq!(t.legend[0].label, "Ratio ≥ 3");
    }

    #[test]
    fn an_unknown_colour_metric_names_the_closest_field() {
        let sweep = Sweep {
            runs: vec![run("1", "1", "1", 1024.0, None)],
            ..Sweep::default()
        };
        let e = build(
            &spec(
                "color: {metric: peak_allocated_mb}
",
            ),
            std::slice::from_ref(&sweep),
        )
        .unwrap_err();
        assert_eq!(e.keys, [Key::Field("color"), Key::Field("metric")]);
        assert_eq!(
            e.message,
            "unknown metric `peak_allocated_mb`: no trace has that field"
        );
        assert_eq!(
            e.hint.as_deref(),
            Some(
                "did you mean `peak_allocated_MB`? use one of: actual, peak_allocated_MB, ratio, theory"
            )
        );
    }

    /// One mark, one look: the same colours on a dark fill and a light one
    /// (black with a white edge, or the spec's colour with a contrasting
    /// edge), and in the legend.
    #[test]
    fn a_mark_looks_the_same_on_every_fill_and_in_the_legend() {
        let sweep = Sweep {
            runs: vec![
                run("1", "1", "1", 79.0 * 1024.0, Some(90.0 * 1024.0)),
                run("1", "2", "1", 2.0 * 1024.0, Some(90.0 * 1024.0)),
            ],
            ..Sweep::default()
        };
        let looks = |extra: &str| {
            let (t, _) = table(&sweep, extra);
            let mut looks: Vec<_> = t.rows[0]
                .iter()
                .map(|c| (c.marks[0].color, c.marks[0].edge))
                .collect();
            let legend = t.legend.iter().find_map(|e| e.mark.clone()).unwrap();
            looks.push((legend.color, legend.edge));
            looks
        };
        assert_eq!(looks(""), [(Color::BLACK, Color::WHITE); 3]);
        assert_eq!(
            looks("thresholds: [{metric: theory, above: 80, mark: outline, color: '#ff0'}]\n"),
            [(Color([255, 255, 0]), Color::BLACK); 3]
        );
    }

    #[test]
    fn states_without_a_value_have_their_own_border() {
        let sweep = Sweep {
            runs: vec![run("1", "1", "1", 1024.0, None)],
            log: vec![log("2", "2", Status::Success, 1)],
            ..Sweep::default()
        };
        let (t, _) = table(&sweep, "");
        assert_eq!(t.rows[0][0].border, None);
        assert_eq!(t.rows[0][1].state, CellState::Missing);
        assert_eq!(t.rows[0][1].border, Some(Border::Dotted));
        assert_eq!(t.rows[1][1].border, Some(Border::Dashed));
        assert_eq!(t.legend[0].border, Some(Border::Dashed));
    }

    #[test]
    fn swatches_that_collapse_in_grayscale_are_named() {
        let sweep = Sweep {
            runs: vec![run("1", "1", "1", 1024.0, None)],
            log: vec![log("2", "1", Status::Failure, 1)],
            ..Sweep::default()
        };
        let clashes = |extra: &str| {
            let spec = spec(extra);
            let (t, _) = build(&spec, std::slice::from_ref(&sweep)).unwrap();
            grayscale_clashes(&spec, &t)
        };
        assert!(clashes("").is_empty());
        assert_eq!(
            clashes("cells: {failed: {fill: '#E8E8E8', label: Failed (OOM)}}\n"),
            [
                "`Failed (OOM)` and the colour scale's low end (0GB) look alike in grayscale (luma 232 and 255, less than 32 apart); make one fill lighter or darker"
            ]
        );
        // A reversed map starts dark, far from the light grey.
        assert!(
            clashes("cells: {failed: {fill: '#E8E8E8', label: F}}\ncolor: {reverse: true}\n")
                .is_empty()
        );
        // A state without a label has no swatch to confuse.
        assert!(clashes("cells: {failed: {fill: '#E8E8E8', label: ~}}\n").is_empty());
    }

    #[test]
    fn cell_text_typo_names_the_fields() {
        let sweep = Sweep {
            runs: vec![run("1", "1", "1", 1024.0, None)],
            ..Sweep::default()
        };
        let e = build(
            &spec("cells: {text: ['{{ thoery }}']}\n"),
            std::slice::from_ref(&sweep),
        )
        .unwrap_err();
        assert_eq!(
            e.keys,
            [Key::Field("cells"), Key::Field("text"), Key::Index(0)]
        );
        assert!(
            e.message.starts_with("cell text template: "),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("theory"));
    }
}
