//! The figure's numbers, so that the numbers a paper's text quotes come
//! from the same place as the figure: one row per cell as CSV or JSON
//! (here), LaTeX macros and a booktabs table (`tex`), a Typst dictionary
//! (`typst`), and the figure described in sentences (`alt`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::spec::{Mark, Spec};
use crate::table::{self, Cell, CellState, Grid, Table};
use std::path::Path;

mod alt;
mod tex;
mod typst;

pub(crate) use alt::describe;

/// What the numbers are of: the spec (its units and decimals), where it
/// is, and the table whose cells are printed. `memheat data` prints the
/// table as loaded; a build's `tex` output, the table it compiled (which
/// may be the compact form), so the text quotes what the figure shows.
#[derive(Clone, Copy)]
pub(crate) struct FigureData<'a> {
    pub(crate) spec_path: &'a Path,
    pub(crate) spec: &'a Spec,
    pub(crate) table: &'a Table,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DataFormat {
    Csv,
    Json,
    /// LaTeX macros: `\memheat{NAME}{KEY}{FIELD}` and `\memheatalt{NAME}`.
    Tex,
    /// A booktabs tabular of the grid.
    TexTable,
    /// A Typst module defining the dictionary `memheat`.
    Typst,
    /// The figure described in plain sentences (its alternative text).
    Alt,
}

impl DataFormat {
    /// The format a file name implies, if any.
    pub fn from_extension(path: &std::path::Path) -> Option<DataFormat> {
        match path.extension()?.to_str()? {
            "json" => Some(DataFormat::Json),
            "csv" => Some(DataFormat::Csv),
            "tex" => Some(DataFormat::Tex),
            "typ" => Some(DataFormat::Typst),
            _ => None,
        }
    }
}

/// Digits after the point of `ratio` and `percent` in the printed forms;
/// the figure prints neither in a cell.
const RATIO_DECIMALS: u8 = 2;
const PERCENT_DECIMALS: u8 = 0;

/// The figure's name in `\memheat` and the Typst module when `--name` does
/// not give one: the spec's file name without its extension.
pub(crate) fn default_name(spec_path: &std::path::Path) -> String {
    spec_path
        .file_stem()
        .map_or_else(|| "figure".into(), |s| s.to_string_lossy().into_owned())
}

/// theory / actual, as `color.metric: ratio` colours it.
fn ratio(cell: &Cell) -> Option<f64> {
    Some(cell.theory? / cell.actual?).filter(|r| r.is_finite())
}

/// The measured peak as a percentage of the estimate.
fn percent(cell: &Cell) -> Option<f64> {
    Some(cell.actual? / cell.theory? * 100.0).filter(|p| p.is_finite())
}

/// A cell and where it is in the figure.
#[derive(Clone, Copy)]
pub(crate) struct Place<'t> {
    /// 1-based, in a figure with panels.
    pub panel: Option<usize>,
    pub grid: Grid<'t>,
    pub x: &'t str,
    pub y: &'t str,
    pub cell: &'t Cell,
}

impl Place<'_> {
    /// The lookup key: `tp=2,pp=64`, `panel=1,tp=2,pp=64` with panels.
    pub(crate) fn key(&self) -> String {
        let panel = self
            .panel
            .map(|n| format!("panel={n},"))
            .unwrap_or_default();
        format!(
            "{panel}{}={},{}={}",
            self.grid.y.field, self.y, self.grid.x.field, self.x
        )
    }

    /// The config in prose, within its grid: `tp=2, pp=64`.
    pub(crate) fn config(&self) -> String {
        format!(
            "{}={}, {}={}",
            self.grid.y.field, self.y, self.grid.x.field, self.x
        )
    }
}

/// Every cell of every grid: rows top to bottom, cells left to right.
pub(crate) fn places(table: &Table) -> Vec<Place<'_>> {
    let grids = table.grids();
    let numbered = grids.len() > 1 || !table.panels.is_empty();
    let mut places = Vec::new();
    for (n, grid) in grids.into_iter().enumerate() {
        for (cells, y) in grid.rows.iter().zip(&grid.y.labels) {
            for (cell, x) in cells.iter().zip(&grid.x.labels) {
                places.push(Place {
                    panel: numbered.then_some(n + 1),
                    grid,
                    x,
                    y,
                    cell,
                });
            }
        }
    }
    places
}

/// What a set of cells adds up to.
pub(crate) struct Summary<'t> {
    pub cells: usize,
    /// Cells of each state, in the order of [`CellState`].
    pub count: Vec<(&'static str, usize)>,
    /// Cells with a mark of each kind, and with any.
    pub hatched: usize,
    pub outlined: usize,
    pub marked: usize,
    /// The largest and smallest actual; the first in drawing order wins a tie.
    pub max: Option<Place<'t>>,
    pub min: Option<Place<'t>>,
}

impl<'t> Summary<'t> {
    /// How many cells are in `state`.
    pub(crate) fn count(&self, state: CellState) -> usize {
        self.count
            .iter()
            .find(|(name, _)| *name == state.name())
            .map_or(0, |(_, n)| *n)
    }

    pub(crate) fn of(places: &[Place<'t>]) -> Summary<'t> {
        let has = |p: &Place, kind| p.cell.marks.iter().any(|m| m.kind == kind);
        let count = [
            CellState::Measured,
            CellState::Failed,
            CellState::Invalid,
            CellState::Missing,
        ]
        .map(|state| {
            let n = places.iter().filter(|p| p.cell.state == state).count();
            (state.name(), n)
        })
        .to_vec();
        let measured = || places.iter().filter(|p| p.cell.actual.is_some());
        let actual = |p: &&Place| p.cell.actual.unwrap_or_default();
        Summary {
            cells: places.len(),
            count,
            hatched: places.iter().filter(|p| has(p, Mark::Hatch)).count(),
            outlined: places.iter().filter(|p| has(p, Mark::Outline)).count(),
            marked: places.iter().filter(|p| !p.cell.marks.is_empty()).count(),
            max: measured()
                .rev()
                .max_by(|a, b| actual(a).total_cmp(&actual(b)))
                .copied(),
            min: measured()
                .min_by(|a, b| actual(a).total_cmp(&actual(b)))
                .copied(),
        }
    }

    /// The whole-figure (or whole-panel) values, as printed.
    fn printed(&self, spec: &Spec) -> Vec<(String, String)> {
        let mut fields = vec![("cells".to_string(), self.cells.to_string())];
        fields.extend(
            self.count
                .iter()
                .map(|(state, n)| (state.to_string(), n.to_string())),
        );
        for (name, n) in [
            ("hatched", self.hatched),
            ("outlined", self.outlined),
            ("marked", self.marked),
        ] {
            fields.push((name.into(), n.to_string()));
        }
        for (name, place) in [("max", self.max), ("min", self.min)] {
            let Some(p) = place else { continue };
            let value = p.cell.actual.unwrap_or_default();
            fields.push((name.into(), table::fixed(value, spec.cells.decimals)));
            fields.push((format!("{name}-key"), p.key()));
            if let Some(n) = p.panel {
                fields.push((format!("{name}-panel"), n.to_string()));
            }
            fields.push((format!("{name}-{}", p.grid.y.field), p.y.to_string()));
            fields.push((format!("{name}-{}", p.grid.x.field), p.x.to_string()));
        }
        fields.push(("unit".into(), spec.units.label.clone()));
        // An axis field named like a summary field (`key`) gives way.
        let mut seen = std::collections::BTreeSet::new();
        fields.retain(|(k, _)| seen.insert(k.clone()));
        fields
    }
}

/// One cell's fields as the figure prints them: what `\memheat` and the
/// Typst module give. The built-in fields come first and win over a
/// capture or numeric field of the same name, as they do in `cells.text`.
fn printed(spec: &Spec, cell: &Cell) -> Vec<(String, String)> {
    let decimals = spec.cells.decimals;
    let mut fields: Vec<(String, String)> = vec![
        ("state".into(), cell.state.name().into()),
        ("unit".into(), spec.units.label.clone()),
    ];
    let values = [
        ("actual", cell.actual.map(|v| table::fixed(v, decimals))),
        ("theory", cell.theory.map(|v| table::fixed(v, decimals))),
        (
            "ratio",
            ratio(cell).map(|v| table::fixed(v, RATIO_DECIMALS)),
        ),
        (
            "percent",
            percent(cell).map(|v| table::fixed(v, PERCENT_DECIMALS)),
        ),
    ];
    fields.extend(
        values
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_string(), v?))),
    );
    fields.push(("text".into(), cell.lines.join(" / ")));
    fields.push(("marks".into(), marks(cell).join("; ")));
    let taken: Vec<String> = fields
        .iter()
        .map(|(k, _)| k.clone())
        .chain(BUILT_IN.iter().map(|k| k.to_string()))
        .collect();
    let mut extra: BTreeMap<&str, String> = BTreeMap::new();
    for (k, v) in &cell.captures {
        extra.insert(k, v.clone());
    }
    // A numeric field replaces a capture of its name, as in `cells.text`.
    for (k, v) in &cell.numbers {
        extra.insert(k, v.to_string());
    }
    fields.extend(
        extra
            .into_iter()
            .filter(|(k, _)| !taken.iter().any(|t| t == k))
            .map(|(k, v)| (k.to_string(), v)),
    );
    fields
}

/// Every key of the figure with its fields, as printed: `figure` (the
/// whole figure), `panel=N` (each panel's), then each cell's.
type Entries = Vec<(String, Vec<(String, String)>)>;

fn entries(data: FigureData<'_>, name: &str) -> Entries {
    let (spec, table) = (&data.spec, &data.table);
    let all = places(table);
    let mut figure = vec![("name".to_string(), name.to_string())];
    figure.extend(Summary::of(&all).printed(spec));
    if let Some(title) = &table.title {
        figure.push(("title".into(), title.clone()));
    }
    figure.push(("alt".into(), describe(spec, table)));
    let mut entries = vec![("figure".to_string(), figure)];
    for panel in 1..=table.panels.len() {
        let mine: Vec<Place> = all
            .iter()
            .filter(|p| p.panel == Some(panel))
            .copied()
            .collect();
        entries.push((format!("panel={panel}"), Summary::of(&mine).printed(spec)));
    }
    entries.extend(all.iter().map(|p| (p.key(), printed(spec, p.cell))));
    entries
}

/// Field names a cell always has, whether or not it has a value for them.
const BUILT_IN: [&str; 8] = [
    "state", "unit", "actual", "theory", "ratio", "percent", "text", "marks",
];

/// The figure's numbers in `format`; `name` names the figure in the `tex`
/// and `typst` formats.
pub(crate) fn render(data: FigureData<'_>, format: DataFormat, name: &str) -> String {
    match format {
        DataFormat::Csv => csv(data, &rows(data)),
        DataFormat::Json => json(data, rows(data)),
        DataFormat::Tex => tex::macros(data, name, &entries(data, name)),
        DataFormat::TexTable => tex::table(data),
        DataFormat::Typst => typst::module(data, name, &entries(data, name)),
        DataFormat::Alt => describe(data.spec, data.table) + "\n",
    }
}

/// One cell, in display units.
#[derive(Debug, Serialize)]
struct Row<'a> {
    /// The panel's title, in a figure with panels.
    #[serde(skip_serializing_if = "Option::is_none")]
    panel: Option<&'a str>,
    x: &'a str,
    y: &'a str,
    state: CellState,
    /// Full precision.
    actual: Option<f64>,
    theory: Option<f64>,
    /// As the default cell text prints them (`57.3GB`).
    actual_text: Option<String>,
    theory_text: Option<String>,
    /// The cell's text lines exactly as drawn.
    lines: &'a [String],
    /// e.g. `hatch: theory > 80`.
    marks: Vec<String>,
    trace: Option<String>,
    log: Option<String>,
    reason: Option<&'a str>,
    /// Full precision, as `actual` and `theory`.
    ratio: Option<f64>,
    percent: Option<f64>,
    /// The run's config fields and numeric fields (input units).
    captures: &'a BTreeMap<String, String>,
    numbers: &'a BTreeMap<String, f64>,
}

#[derive(Debug, Serialize)]
struct Document<'a> {
    spec: String,
    units: Units<'a>,
    x: Axis<'a>,
    y: Axis<'a>,
    /// Each panel's axes; the top-level `x` and `y` then have no values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    panels: Vec<PanelAxes<'a>>,
    cells: Vec<Row<'a>>,
}

#[derive(Debug, Serialize)]
struct PanelAxes<'a> {
    title: &'a str,
    x: Axis<'a>,
    y: Axis<'a>,
}

#[derive(Debug, Serialize)]
struct Units<'a> {
    input: &'static str,
    display: &'static str,
    label: &'a str,
}

#[derive(Debug, Serialize)]
struct Axis<'a> {
    field: &'a str,
    title: &'a str,
    /// In drawing order: x left to right, y top to bottom.
    values: &'a [String],
}

/// Rows top to bottom, cells left to right.
fn rows(data: FigureData<'_>) -> Vec<Row<'_>> {
    let decimals = data.spec.cells.decimals;
    let unit = data.spec.unit_suffix();
    let amount = |v: Option<f64>| v.map(|v| format!("{}{unit}", table::fixed(v, decimals)));
    let mut rows = Vec::new();
    for grid in data.table.grids() {
        for (cells, y) in grid.rows.iter().zip(&grid.y.labels) {
            for (cell, x) in cells.iter().zip(&grid.x.labels) {
                rows.push(Row {
                    panel: grid.title,
                    ..row(cell, x, y, &amount)
                });
            }
        }
    }
    rows
}

fn json(data: FigureData<'_>, rows: Vec<Row>) -> String {
    let (table, units) = (&data.table, &data.spec.units);
    let document = Document {
        spec: crate::paths::tidy(data.spec_path).display().to_string(),
        units: Units {
            input: units.input.name(),
            display: units.display.name(),
            label: &units.label,
        },
        x: axis(&table.x),
        y: axis(&table.y),
        panels: table
            .panels
            .iter()
            .map(|p| PanelAxes {
                title: &p.title,
                x: axis(&p.x),
                y: axis(&p.y),
            })
            .collect(),
        cells: rows,
    };
    let mut text = serde_json::to_string_pretty(&document).expect("the table holds no NaN or maps");
    text.push('\n');
    text
}

fn axis(axis: &crate::table::Axis) -> Axis<'_> {
    Axis {
        field: &axis.field,
        title: &axis.title,
        values: &axis.labels,
    }
}

fn row<'a>(
    cell: &'a Cell,
    x: &'a str,
    y: &'a str,
    amount: &dyn Fn(Option<f64>) -> Option<String>,
) -> Row<'a> {
    Row {
        panel: None,
        x,
        y,
        state: cell.state,
        actual: cell.actual,
        theory: cell.theory,
        actual_text: amount(cell.actual),
        theory_text: amount(cell.theory),
        lines: &cell.lines,
        marks: marks(cell),
        trace: cell
            .source
            .as_ref()
            .map(|p| crate::paths::tidy(p).display().to_string()),
        log: cell
            .log
            .as_ref()
            .map(|(path, line)| format!("{}:{line}", crate::paths::tidy(path).display())),
        reason: cell.reason.as_deref(),
        ratio: ratio(cell),
        percent: percent(cell),
        captures: &cell.captures,
        numbers: &cell.numbers,
    }
}

/// e.g. `hatch: theory > 80`.
fn marks(cell: &Cell) -> Vec<String> {
    cell.marks
        .iter()
        .map(|m| format!("{}: {}", m.kind.name(), m.rule))
        .collect()
}

fn csv(data: FigureData<'_>, rows: &[Row]) -> String {
    let table = &data.table;
    let mut out = String::new();
    // A figure with panels says which panel each row is in, first.
    let panels = !table.panels.is_empty();
    let panel = |name: &str| panels.then(|| name.to_string());
    let mut header: Vec<String> = [
        table.x.field.as_str(),
        table.y.field.as_str(),
        "state",
        "actual",
        "theory",
        "actual_text",
        "theory_text",
        "text",
        "marks",
        "trace",
        "log",
        "reason",
        "ratio",
        "percent",
    ]
    .map(String::from)
    .to_vec();
    // Then a column per capture, then per numeric field, each in name
    // order; a name already a column keeps that column.
    let fixed = header.len();
    let captures: std::collections::BTreeSet<&String> =
        rows.iter().flat_map(|r| r.captures.keys()).collect();
    let numbers: std::collections::BTreeSet<&String> =
        rows.iter().flat_map(|r| r.numbers.keys()).collect();
    for name in captures {
        if !header.contains(name) {
            header.push(name.clone());
        }
    }
    for name in numbers {
        if !header.contains(name) {
            header.push(name.clone());
        }
    }
    push_record(&mut out, panel("panel").into_iter().chain(header.clone()));
    let number = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
    for r in rows {
        // A numeric field wins over a capture of its name, as in `cells.text`.
        let extra = header[fixed..]
            .iter()
            .map(|name| match r.numbers.get(name) {
                Some(v) => v.to_string(),
                None => r.captures.get(name).cloned().unwrap_or_default(),
            });
        push_record(
            &mut out,
            panel(r.panel.unwrap_or_default())
                .into_iter()
                .chain([
                    r.x.to_string(),
                    r.y.to_string(),
                    r.state.name().to_string(),
                    number(r.actual),
                    number(r.theory),
                    r.actual_text.clone().unwrap_or_default(),
                    r.theory_text.clone().unwrap_or_default(),
                    r.lines.join(" / "),
                    r.marks.join("; "),
                    r.trace.clone().unwrap_or_default(),
                    r.log.clone().unwrap_or_default(),
                    r.reason.unwrap_or_default().to_string(),
                    number(r.ratio),
                    number(r.percent),
                ])
                .chain(extra),
        );
    }
    out
}

/// RFC 4180: a field with a comma, quote or line break is quoted, with
/// quotes doubled.
fn push_record(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&field);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        let mut out = String::new();
        push_record(
            &mut out,
            [
                "a".to_string(),
                "b,c".into(),
                "say \"hi\"".into(),
                "".into(),
            ],
        );
        assert_eq!(out, "a,\"b,c\",\"say \"\"hi\"\"\",\n");
    }
}
