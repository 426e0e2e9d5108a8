//! The figure in plain sentences: its alternative text, for `memheat data
//! --format alt`, `\memheatalt`, the PDF's tags and the SVG's `<desc>`.
//! Made from the spec and the table alone, so every output of one figure
//! says the same, and deterministic, so the outputs stay byte-identical.

use super::{Place, Summary, places};
use crate::spec::{Comparison, Mark, Spec};
use crate::table::{self, Axis, CellState, Metric, Table};

/// Title (if any), what is plotted, then for each grid its axes, outcomes
/// and extremes, then what the marks mean.
pub(crate) fn describe(spec: &Spec, table: &Table) -> String {
    let all = places(table);
    let grids = table.grids();
    let mut sentences = vec![];
    if let Some(title) = &table.title {
        sentences.push(title.trim_end_matches('.').to_string());
    }
    let what = lowercase_first(&table::color_title(spec));
    if table.panels.is_empty() {
        let grid = grids[0];
        sentences.push(format!(
            "Heatmap of {what} with {} in rows and {} in columns",
            axis(grid.y),
            axis(grid.x)
        ));
        sentences.extend(outcomes(spec, &all, "Of the"));
    } else {
        sentences.push(format!(
            "Heatmaps of {what} in {} panels, with {} in rows and {} in columns",
            grids.len(),
            grids[0].y.title,
            grids[0].x.title
        ));
        for (n, grid) in grids.iter().enumerate() {
            let mine: Vec<Place> = all
                .iter()
                .filter(|p| p.panel == Some(n + 1))
                .copied()
                .collect();
            sentences.push(format!(
                "Panel {}{}: {} by {}",
                n + 1,
                grid.title.map(|t| format!(", {t}")).unwrap_or_default(),
                range(grid.y),
                range(grid.x),
            ));
            sentences.extend(outcomes(spec, &mine, "Of its"));
        }
    }
    sentences.extend(marks(spec, &all));
    let mut text = sentences
        .iter()
        .map(|s| s.replace(|c: char| c.is_control(), " "))
        .collect::<Vec<_>>()
        .join(". ");
    text.push('.');
    text
}

/// `Tensor Parallelism (TP) from 1 to 8`.
fn axis(axis: &Axis) -> String {
    format!("{} {}", axis.title, values(axis))
}

/// `tp from 1 to 8`.
fn range(axis: &Axis) -> String {
    format!("{} {}", axis.field, values(axis))
}

fn values(axis: &Axis) -> String {
    match axis.labels.as_slice() {
        [] => "with no values".into(),
        [one] => format!("at {one}"),
        [first, .., last] => format!("from {first} to {last}"),
    }
}

/// How many configs had each outcome, and the smallest and largest actual.
fn outcomes(spec: &Spec, places: &[Place], of: &str) -> Vec<String> {
    let summary = Summary::of(places);
    let n = |state| summary.count(state);
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = vec![plural(
        n(CellState::Measured),
        "was measured",
        "were measured",
    )];
    for (state, one, many) in [
        (CellState::Failed, "failed", "failed"),
        (
            CellState::Invalid,
            "has no usable value",
            "have no usable value",
        ),
        (CellState::Missing, "is missing", "are missing"),
    ] {
        if n(state) > 0 {
            parts.push(plural(n(state), one, many));
        }
    }
    let mut sentences = vec![format!(
        "{of} {}, {}",
        plural(summary.cells, "config", "configs"),
        list(&parts)
    )];
    let unit = &spec.units.label;
    let amount = |p: &Place| {
        format!(
            "{} {unit} at {}",
            table::fixed(p.cell.actual.unwrap_or_default(), spec.cells.decimals),
            p.config()
        )
    };
    match (summary.min, summary.max) {
        (Some(min), Some(max)) if min.key() == max.key() => {
            sentences.push(format!("The measured peak is {}", amount(&max)));
        }
        (Some(min), Some(max)) => sentences.push(format!(
            "The measured peak ranges from {} to {}",
            amount(&min),
            amount(&max)
        )),
        _ => {}
    }
    sentences
}

/// `3 configs whose estimate exceeds 80 GB are hatched`, for each
/// threshold that marks any cell.
fn marks(spec: &Spec, places: &[Place]) -> Vec<String> {
    let mut sentences = vec![];
    for t in &spec.thresholds {
        let Some(comparison) = t.comparison() else {
            continue;
        };
        let (_, value) = comparison.symbol();
        let rule = table::rule(t);
        let n = places
            .iter()
            .filter(|p| {
                p.cell
                    .marks
                    .iter()
                    .any(|m| m.kind == t.mark && m.rule == rule)
            })
            .count();
        if n == 0 {
            continue;
        }
        let metric = Metric::new(&t.metric);
        let what = match metric {
            Metric::Actual => "measured peak".to_string(),
            Metric::Theory => "estimate".into(),
            Metric::Ratio => "ratio of estimate to measured peak".into(),
            Metric::Field(name) => format!("`{name}`"),
        };
        let verb = match comparison {
            Comparison::Above(_) => "exceeds",
            Comparison::AtLeast(_) => "is at least",
            Comparison::Below(_) => "is below",
            Comparison::AtMost(_) => "is at most",
        };
        let unit = metric.unit(&spec.units.label);
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        let mark = match t.mark {
            Mark::Hatch => "hatched",
            Mark::Outline => "outlined",
        };
        let (configs, are) = if n == 1 {
            ("config", "is")
        } else {
            ("configs", "are")
        };
        sentences.push(format!(
            "{n} {configs} whose {what} {verb} {}{unit} {are} {mark}",
            table::compact(value)
        ));
    }
    sentences
}

/// `a`, `a and b`, `a, b and c`.
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `Actual peak memory` → `actual peak memory`, but `GPU memory` stays.
fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => {
            first.to_lowercase().chain(s.chars().skip(1)).collect()
        }
        _ => s.to_string(),
    }
}
