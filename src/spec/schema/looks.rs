//! How the figure looks: axes, colour, marks, cell text and style.

use serde::Deserialize;

use super::Spec;
use super::defaults::*;
use crate::colormap::Color;
use crate::spec::values::*;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Axes {
    #[serde(default)]
    pub x: Axis,
    #[serde(default)]
    pub y: Axis,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Axis {
    /// The run field on this axis (defaults: x = pp, y = tp).
    pub field: Option<String>,
    pub title: Option<String>,
    /// Explicit values, in display order; otherwise every value seen.
    pub values: Option<Vec<ScalarText>>,
    /// Largest value first.
    #[serde(default)]
    pub reverse: bool,
}

pub struct AxisDefaults {
    pub field: &'static str,
    pub title: &'static str,
}

pub(crate) const X_DEFAULTS: AxisDefaults = AxisDefaults {
    field: "pp",
    title: "Pipeline Parallelism (PP)",
};
pub(crate) const Y_DEFAULTS: AxisDefaults = AxisDefaults {
    field: "tp",
    title: "Tensor Parallelism (TP)",
};

impl Axis {
    pub fn field<'a>(&'a self, defaults: &AxisDefaults) -> &'a str {
        self.field.as_deref().unwrap_or(defaults.field)
    }

    pub fn title<'a>(&'a self, defaults: &AxisDefaults) -> &'a str {
        self.title.as_deref().unwrap_or(defaults.title)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ColorSpec {
    /// What the fill shows: `actual`, `theory`, `ratio` (theory / actual)
    /// or another numeric trace field (display units, as in thresholds).
    #[serde(default = "default_metric")]
    #[serde(deserialize_with = "not_null")]
    pub metric: String,
    /// A map name or a list of colour stops, low to high.
    #[serde(default)]
    #[serde(deserialize_with = "not_null")]
    pub map: ColorMapSpec,
    /// Value range in the metric's units; values outside clip to the end
    /// colours. Default: see [`ColorSpec::range`].
    pub range: Option<[f64; 2]>,
    /// The value that gets the map's midpoint, for diverging maps.
    pub center: Option<f64>,
    #[serde(default)]
    pub reverse: bool,
    pub title: Option<String>,
    #[serde(default = "default_ticks")]
    pub ticks: u32,
    /// The memory range when none is written: 0 to 80 GiB, in display
    /// units (set by [`Spec::follow_display_unit`]).
    #[serde(skip, default = "memory_range")]
    pub memory_range: [f64; 2],
}

impl Default for ColorSpec {
    fn default() -> Self {
        ColorSpec {
            metric: default_metric(),
            map: ColorMapSpec::default(),
            range: None,
            center: None,
            reverse: false,
            title: None,
            ticks: default_ticks(),
            memory_range: memory_range(),
        }
    }
}

fn memory_range() -> [f64; 2] {
    MEMORY_RANGE
}

/// The metric that is a ratio, not an amount of memory.
pub(crate) const RATIO: &str = "ratio";

impl ColorSpec {
    /// The range written, else 0 to 2 for the ratio (1, "as predicted",
    /// in the middle) and 0 to 80 GiB (an 80 GB GPU) for memory.
    pub fn range(&self) -> [f64; 2] {
        self.range.unwrap_or(if self.metric == RATIO {
            [0.0, 2.0]
        } else {
            self.memory_range
        })
    }

    /// The top of the range in memory units, which decides when a value is
    /// implausibly large; for the ratio, the memory default's.
    pub fn memory_top(&self) -> f64 {
        if self.metric == RATIO {
            self.memory_range[1]
        } else {
            self.range()[1]
        }
    }
}

impl Spec {
    /// The defaults written in GiB (the colour range's 80, the default
    /// threshold's 80) in the display unit, so that `display: MiB` does not
    /// clip every cell at 80 MiB and hatch it as above 80. `thresholds` is
    /// whether the spec wrote its own.
    pub(in crate::spec) fn follow_display_unit(&mut self, thresholds: bool) {
        let per_gib = Unit::GiB.bytes() / self.units.display.bytes();
        self.color.memory_range = MEMORY_RANGE.map(|v| v * per_gib);
        if !thresholds {
            for t in &mut self.thresholds {
                t.above = t.above.map(|v| v * per_gib);
            }
        }
    }

    /// What the figure prints after a number in display units: the
    /// separator and `units.label`, or nothing for an empty label. The one
    /// place that joins a number to its unit (cells, legend, `data`).
    pub fn unit_suffix(&self) -> String {
        let units = &self.units;
        if units.label.is_empty() {
            return String::new();
        }
        let separator = units.separator.unwrap_or(if self.style.venue.is_some() {
            Separator::Thin
        } else {
            Separator::None
        });
        format!("{}{}", separator.text(), units.label)
    }
}

/// A rule that marks cells, e.g. hatch where theory is above the capacity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Threshold {
    /// `theory`, `actual`, or another numeric trace field (display units).
    #[serde(deserialize_with = "not_null")]
    pub metric: String,
    /// Exactly one comparison: above (>), at-least (>=), below (<), at-most (<=).
    pub above: Option<f64>,
    pub at_least: Option<f64>,
    pub below: Option<f64>,
    pub at_most: Option<f64>,
    #[serde(default)]
    pub mark: Mark,
    /// None: white on dark fills, black on light ones, whichever
    /// contrasts more with the cell (as the text does).
    pub color: Option<Color>,
    /// Legend text; defaults to the rule, e.g. `Theory > 80 GB`.
    pub label: Option<String>,
}

impl Threshold {
    /// The one comparison; [`Spec::check`] guarantees there is exactly one.
    pub fn comparison(&self) -> Option<Comparison> {
        let all = [
            self.above.map(Comparison::Above),
            self.at_least.map(Comparison::AtLeast),
            self.below.map(Comparison::Below),
            self.at_most.map(Comparison::AtMost),
        ];
        let mut set = all.into_iter().flatten();
        match (set.next(), set.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Cells {
    /// Lines of a measured cell, each a minijinja template over the run's
    /// fields; the built-in `form` when absent.
    #[serde(default)]
    #[serde(deserialize_with = "strings_not_null")]
    pub text: Option<Vec<String>>,
    /// Which built-in text; absent, the full form where it fits at the
    /// cell font size, else the compact one.
    #[serde(default)]
    #[serde(deserialize_with = "present")]
    pub form: Option<CellForm>,
    /// Digits after the point for `{{ x|fixed }}` without an argument.
    #[serde(default = "default_decimals")]
    pub decimals: u8,
    #[serde(default = "default_failed", deserialize_with = "failed_over_default")]
    pub failed: StateStyle,
    #[serde(default = "default_invalid", deserialize_with = "invalid_over_default")]
    pub invalid: StateStyle,
    #[serde(default = "default_missing", deserialize_with = "missing_over_default")]
    pub missing: StateStyle,
}

impl Default for Cells {
    fn default() -> Self {
        Cells {
            text: None,
            form: None,
            decimals: default_decimals(),
            failed: default_failed(),
            invalid: default_invalid(),
            missing: default_missing(),
        }
    }
}

/// How a cell without a measurement looks.
#[derive(Debug, Clone)]
pub struct StateStyle {
    pub text: String,
    /// `none` leaves the cell unfilled.
    pub fill: Option<Color>,
    /// Legend entry; none for no entry.
    pub label: Option<String>,
}

/// A state's keys as written: each one absent keeps the state's own
/// default. Deserialising a whole [`StateStyle`] would give every key not
/// written the type's default instead, so `failed: {label: OOM}` drew the
/// failed cells unfilled and without their dash.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a mapping of `text`, `fill` and `label`"
)]
struct StatePatch {
    #[serde(default, deserialize_with = "present")]
    text: Option<String>,
    /// Absent: `None`; null: `Some(None)`, no fill.
    #[serde(default, deserialize_with = "written")]
    fill: Option<Option<Color>>,
    #[serde(default, deserialize_with = "written")]
    label: Option<Option<String>>,
}

impl StatePatch {
    fn over(self, default: StateStyle) -> StateStyle {
        StateStyle {
            text: self.text.unwrap_or(default.text),
            fill: self.fill.unwrap_or(default.fill),
            label: self.label.unwrap_or(default.label),
        }
    }
}

/// An optional key that was written, as null or as a value.
fn written<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn failed_over_default<'de, D: serde::Deserializer<'de>>(d: D) -> Result<StateStyle, D::Error> {
    Ok(not_null::<D, StatePatch>(d)?.over(default_failed()))
}
fn invalid_over_default<'de, D: serde::Deserializer<'de>>(d: D) -> Result<StateStyle, D::Error> {
    Ok(not_null::<D, StatePatch>(d)?.over(default_invalid()))
}
fn missing_over_default<'de, D: serde::Deserializer<'de>>(d: D) -> Result<StateStyle, D::Error> {
    Ok(not_null::<D, StatePatch>(d)?.over(default_missing()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Style {
    /// Sets the font, font size and what `width: column`/`text` mean;
    /// explicit keys override it.
    #[serde(default)]
    #[serde(deserialize_with = "present")]
    pub venue: Option<Venue>,
    #[serde(default)]
    #[serde(deserialize_with = "present")]
    pub font: Option<String>,
    #[serde(default)]
    #[serde(deserialize_with = "present")]
    pub font_size: Option<Length>,
    pub title_font_size: Option<Length>,
    pub cell_font_size: Option<Length>,
    /// Axis values, colorbar ticks and the legend.
    pub tick_font_size: Option<Length>,
    /// Draw `title` and `subtitle` above the figure; absent: not in a
    /// venue figure, whose caption is its title, and yes otherwise.
    #[serde(default)]
    #[serde(deserialize_with = "present")]
    pub show_title: Option<bool>,
    /// No text of the figure is smaller; cell text shrinks to fit a fixed
    /// size down to this, and below it the build fails.
    #[serde(default = "default_min_font_size")]
    #[serde(deserialize_with = "not_null")]
    pub min_font_size: Length,
    /// Figure width: a length, a preset, or the venue's column or text
    /// width; auto-sized when absent.
    pub width: Option<Width>,
    pub height: Option<Length>,
    /// Height as a fraction of the width (needs `width`).
    pub aspect: Option<f64>,
    #[serde(default = "default_gap")]
    #[serde(deserialize_with = "not_null")]
    pub gap: Length,
    #[serde(default = "default_gap_color")]
    #[serde(deserialize_with = "not_null")]
    pub gap_color: Color,
    #[serde(default = "default_true")]
    pub legend: bool,
    #[serde(default = "default_true")]
    pub colorbar: bool,
    /// Panels per row, left to right then top to bottom; all in one row
    /// when absent.
    pub panel_columns: Option<usize>,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            venue: None,
            font: None,
            font_size: None,
            min_font_size: default_min_font_size(),
            title_font_size: None,
            cell_font_size: None,
            tick_font_size: None,
            show_title: None,
            width: None,
            height: None,
            aspect: None,
            gap: default_gap(),
            gap_color: default_gap_color(),
            legend: true,
            colorbar: true,
            panel_columns: None,
        }
    }
}

impl Style {
    /// `font`, else the venue's typeface, else Libertinus Serif.
    pub fn font(&self) -> &str {
        self.font
            .as_deref()
            .or(self.venue.map(Venue::font))
            .unwrap_or(DEFAULT_FONT)
    }

    /// Labels, titles of axes and colorbar: `font-size`, else the venue's.
    pub fn font_size(&self) -> f64 {
        self.font_size
            .map(|l| l.0)
            .or(self.venue.map(Venue::font_size))
            .unwrap_or(DEFAULT_FONT_SIZE)
    }

    /// `title-font-size`; else 2 pt above a written `font-size`; else the
    /// venue's caption size; else 2 pt above the default font size.
    pub fn title_font_size(&self) -> f64 {
        self.own_or_venue(self.title_font_size, Venue::caption_size, |size| size + 2.0)
    }

    pub fn cell_font_size(&self) -> f64 {
        self.cell_font_size.map_or(self.font_size(), |l| l.0)
    }

    /// Axis values, colorbar ticks and the legend, a little smaller than
    /// the labels so the titles stand out: `tick-font-size`; else 0.9 × a
    /// written `font-size`; else the venue's; else 0.9 × the default.
    pub fn tick_font_size(&self) -> f64 {
        self.own_or_venue(self.tick_font_size, Venue::tick_size, |size| {
            TICK_SCALE * size
        })
    }

    /// A size the spec wrote; else one that follows a written `font-size`;
    /// else the venue's; else one that follows the default font size.
    fn own_or_venue(
        &self,
        own: Option<Length>,
        venue: fn(Venue) -> f64,
        follow: fn(f64) -> f64,
    ) -> f64 {
        match (own, self.font_size, self.venue) {
            (Some(Length(pt)), _, _) => pt,
            (None, None, Some(v)) => venue(v),
            (None, _, _) => follow(self.font_size()),
        }
    }

    /// Whether the title and subtitle are drawn (see [`Style::show_title`]).
    pub fn shows_title(&self) -> bool {
        self.show_title.unwrap_or(self.venue.is_none())
    }
}

/// Tick labels and legend relative to `font-size`.
pub(crate) const TICK_SCALE: f64 = 0.9;
const DEFAULT_FONT: &str = "Libertinus Serif";
const DEFAULT_FONT_SIZE: f64 = 7.0;
