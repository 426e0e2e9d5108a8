//! What the figure marks and explains: threshold marks, the colour scale
//! and its ticks, outlines, the legend, and the grayscale check.

use super::*;

/// What the colour shows: `color.title`, else the metric's own words.
pub(crate) fn color_title(spec: &Spec) -> String {
    spec.color
        .title
        .clone()
        .unwrap_or_else(|| Metric::new(&spec.color.metric).title(&spec.units.label))
}

/// The mark a threshold puts on a cell, whatever its fill.
pub(super) fn threshold_mark(t: &Threshold) -> CellMark {
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

pub(super) fn color_map(spec: &Spec) -> ColorMap {
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

pub(super) fn border(state: CellState) -> Option<Border> {
    match state {
        CellState::Invalid => Some(Border::Dashed),
        CellState::Missing => Some(Border::Dotted),
        CellState::Measured | CellState::Failed => None,
    }
}

pub(super) fn scale(spec: &Spec) -> Scale {
    let [lo, hi] = spec.color.range();
    Scale {
        lo,
        hi,
        center: spec.color.center,
    }
}

/// Evenly spaced along the bar; with a centre, an odd count puts a tick on it.
pub(super) fn ticks(scale: &Scale, count: u32) -> Vec<Tick> {
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
pub(super) fn legend(spec: &Spec, cells: &[&Cell], map: &ColorMap) -> Vec<LegendEntry> {
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
pub(crate) const GRAY_APART: f64 = 32.0;

/// Pairs of swatches a grayscale print would not tell apart: the figure's
/// state and mark swatches (shown in the legend or not) and the low end of
/// the colour scale. A border or a mark tells swatches apart whatever their
/// grey; swatches alike in those are compared by the luma of their fill and
/// of their mark's colour. One message per pair, naming both.
pub(crate) fn grayscale_clashes(spec: &Spec, table: &Table) -> Vec<String> {
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
