//! The figure's numbers as CSV or JSON, one row per cell, so that the
//! numbers a paper's text quotes come from the same place as the figure.

use serde::Serialize;

use crate::Model;
use crate::table::{Cell, CellState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DataFormat {
    Csv,
    Json,
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
pub fn render(model: &Model, format: DataFormat) -> String {
    let table = &model.table;
    let decimals = usize::from(model.spec.cells.decimals);
    let unit = model.spec.unit_suffix();
    let amount = |v: Option<f64>| v.map(|v| format!("{v:.decimals$}{unit}"));
    let mut rows = Vec::new();
    for grid in table.grids() {
        for (cells, y) in grid.rows.iter().zip(&grid.y.labels) {
            for (cell, x) in cells.iter().zip(&grid.x.labels) {
                rows.push(Row {
                    panel: grid.title,
                    ..row(cell, x, y, &amount)
                });
            }
        }
    }
    match format {
        DataFormat::Csv => csv(model, &rows),
        DataFormat::Json => {
            let units = &model.spec.units;
            let document = Document {
                spec: crate::paths::tidy(&model.spec_path).display().to_string(),
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
            let mut text =
                serde_json::to_string_pretty(&document).expect("the table holds no NaN or maps");
            text.push('\n');
            text
        }
    }
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
        marks: cell
            .marks
            .iter()
            .map(|m| format!("{}: {}", m.kind.name(), m.rule))
            .collect(),
        trace: cell
            .source
            .as_ref()
            .map(|p| crate::paths::tidy(p).display().to_string()),
        log: cell
            .log
            .as_ref()
            .map(|(path, line)| format!("{}:{line}", crate::paths::tidy(path).display())),
        reason: cell.reason.as_deref(),
    }
}

fn csv(model: &Model, rows: &[Row]) -> String {
    let table = &model.table;
    let mut out = String::new();
    // A figure with panels says which panel each row is in, first.
    let panels = !table.panels.is_empty();
    let panel = |name: &str| panels.then(|| name.to_string());
    let header = [
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
    ];
    push_record(
        &mut out,
        panel("panel")
            .into_iter()
            .chain(header.iter().map(|s| s.to_string())),
    );
    let number = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
    for r in rows {
        push_record(
            &mut out,
            panel(r.panel.unwrap_or_default()).into_iter().chain([
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
            ]),
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
