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

mod cells;
mod grid;
mod marks;
mod metrics;
mod text;

use cells::*;
use grid::*;
use marks::*;
use metrics::*;
use text::*;

pub(crate) use marks::grayscale_clashes;
pub(crate) use marks::{color_title, rule};
pub(crate) use metrics::Metric;
pub(crate) use text::{compact, fixed};

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

/// The figure: one grid per part of the spec (see [`Spec::parts`]), on one
/// colour scale, with one colorbar and one legend. `sweeps` are the parts'
/// data, in order.
pub(crate) fn build(spec: &Spec, sweeps: &[Sweep]) -> Result<(Table, Vec<Warning>), KeyError> {
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
