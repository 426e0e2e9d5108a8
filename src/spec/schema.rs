//! The spec's structure: every key, and the default that reproduces the
//! original figure when it is absent.

use std::path::PathBuf;

use serde::Deserialize;

use super::values::*;
use super::{Key, KeyError};
use crate::colormap::Color;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Spec {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub subtitle: Option<String>,
    /// The sweep; with `panels`, what every panel's `inputs` is merged over
    /// (and then `None`: the panels hold the merged result).
    #[serde(default)]
    pub inputs: Option<Inputs>,
    /// Several sweeps side by side, sharing everything but their inputs,
    /// titles and axis values.
    #[serde(default)]
    pub panels: Vec<Panel>,
    #[serde(default)]
    pub units: Units,
    #[serde(default)]
    pub axes: Axes,
    #[serde(default)]
    pub color: ColorSpec,
    #[serde(default = "default_thresholds")]
    pub thresholds: Vec<Threshold>,
    #[serde(default)]
    pub cells: Cells,
    #[serde(default)]
    pub style: Style,
    #[serde(default)]
    pub output: Output,
    #[serde(default)]
    pub fonts: Fonts,
    /// A custom minijinja template for the Typst source, relative to the
    /// spec's directory; the built-in one by default (`memheat template`).
    #[serde(default)]
    pub template: Option<PathBuf>,
    /// Turn every data warning into a failing build.
    #[serde(default)]
    pub strict: bool,
}

/// One sweep of a figure with `panels`. Its `inputs` and `axes` are the
/// top level's with the panel's own keys merged over them, as `extends`
/// merges (see `layers::expand_panels`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Panel {
    #[serde(deserialize_with = "not_null")]
    pub title: String,
    pub inputs: Inputs,
    #[serde(default)]
    pub axes: Axes,
}

/// A sweep to draw, as the stages after parsing see it: the spec's own
/// `inputs` and `axes`, or one panel's.
#[derive(Debug, Clone, Copy)]
pub struct Part<'s> {
    /// The panel's index; `None` for a spec without panels.
    pub panel: Option<usize>,
    pub title: Option<&'s str>,
    pub inputs: &'s Inputs,
    pub axes: &'s Axes,
}

impl<'s> Part<'s> {
    /// `keys` of this part: under `panels[i]` for a panel. Where the panel
    /// does not write the key, [`super::Sources`] finds the top-level one.
    pub fn keys(&self, keys: &[Key<'static>]) -> Vec<Key<'static>> {
        let mut at = match self.panel {
            Some(i) => vec![Key::Field("panels"), Key::Index(i)],
            None => vec![],
        };
        at.extend_from_slice(keys);
        at
    }

    /// How messages name the panel: `panels[1] (175B)`.
    pub fn name(&self) -> Option<String> {
        let i = self.panel?;
        Some(format!("panels[{i}] ({})", self.title.unwrap_or_default()))
    }

    /// `message`, naming the panel it is about.
    pub fn named(&self, message: &str) -> String {
        match self.name() {
            Some(name) => format!("{name}: {message}"),
            None => message.to_string(),
        }
    }

    /// An error about this part's keys, naming the panel.
    pub fn error(&self, e: KeyError) -> KeyError {
        KeyError {
            keys: self.keys(&e.keys),
            message: self.named(&e.message),
            hint: e.hint,
        }
    }
}

impl Spec {
    /// The sweeps to draw: one per panel, or the spec's own. `check`
    /// guarantees `inputs` where there are no panels.
    pub fn parts(&self) -> Vec<Part<'_>> {
        if self.panels.is_empty() {
            return self
                .inputs
                .iter()
                .map(|inputs| Part {
                    panel: None,
                    title: None,
                    inputs,
                    axes: &self.axes,
                })
                .collect();
        }
        self.panels
            .iter()
            .enumerate()
            .map(|(i, p)| Part {
                panel: Some(i),
                title: Some(&p.title),
                inputs: &p.inputs,
                axes: &p.axes,
            })
            .collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Inputs {
    /// Globs for input files of any format, relative to the spec's directory.
    #[serde(deserialize_with = "not_null")]
    pub traces: OneOrMany,
    /// How to read the files; by default each file's content says.
    #[serde(default)]
    #[serde(deserialize_with = "not_null")]
    pub format: InputFormat,
    /// Must match the whole path below the glob's fixed directories, or a
    /// trailing part of it from a `/`; named captures become run fields.
    /// Absent: the tracer's file names, else `key<number>` / `key=value`
    /// tokens of the path (see `input::path_fields`).
    #[serde(default, deserialize_with = "present")]
    pub filename: Option<Pattern>,
    #[serde(default = "default_rank")]
    #[serde(deserialize_with = "not_null")]
    pub rank: String,
    /// The field, metric or column of the actual value; absent: the
    /// format's own (`peak_allocated_MB` in traces, `max_allocated` in
    /// training logs).
    #[serde(default, deserialize_with = "present")]
    pub actual: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub theory: Option<String>,
    /// Field that orders re-runs of one config: the largest number wins.
    #[serde(default = "default_newest_by")]
    #[serde(deserialize_with = "not_null")]
    pub newest_by: String,
    /// The column or field of a table that holds each run's outcome;
    /// absent: a column named `status`, `state`, `outcome` or `result`.
    #[serde(default, deserialize_with = "present")]
    pub status: Option<String>,
    /// Which status words mean success and which failure, for status logs
    /// and status columns; absent: the common words (`OK`, `OOM`, ...).
    #[serde(default)]
    #[serde(deserialize_with = "not_null")]
    pub outcomes: Outcomes,
    #[serde(default)]
    pub logs: Option<Logs>,
}

/// How an input file is read; `auto` tells by content, file by file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputFormat {
    #[default]
    Auto,
    TraceJson,
    TrainingLog,
    Csv,
    Jsonl,
    NvidiaSmi,
    TorchSnapshot,
}

impl InputFormat {
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::TraceJson => "trace-json",
            InputFormat::TrainingLog => "training-log",
            InputFormat::Csv => "csv",
            InputFormat::Jsonl => "jsonl",
            InputFormat::NvidiaSmi => "nvidia-smi",
            InputFormat::TorchSnapshot => "torch-snapshot",
        }
    }
}

/// Status words, compared without case and surrounding space.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Outcomes {
    #[serde(default = "default_success_words")]
    #[serde(deserialize_with = "not_null")]
    pub success: Vec<String>,
    #[serde(default = "default_failure_words")]
    #[serde(deserialize_with = "not_null")]
    pub failure: Vec<String>,
}

impl Default for Outcomes {
    fn default() -> Self {
        Outcomes {
            success: default_success_words(),
            failure: default_failure_words(),
        }
    }
}

fn default_success_words() -> Vec<String> {
    [
        "ok",
        "success",
        "succeeded",
        "successful",
        "completed",
        "complete",
        "finished",
        "done",
        "pass",
        "passed",
    ]
    .map(String::from)
    .to_vec()
}

fn default_failure_words() -> Vec<String> {
    [
        "oom",
        "failed",
        "fail",
        "failure",
        "cancelled",
        "canceled",
        "crashed",
        "killed",
        "error",
        "timeout",
        "out_of_memory",
        "out of memory",
    ]
    .map(String::from)
    .to_vec()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Logs {
    #[serde(default)]
    #[serde(deserialize_with = "not_null")]
    pub success: OneOrMany,
    #[serde(default)]
    #[serde(deserialize_with = "not_null")]
    pub failure: OneOrMany,
    /// Logs with both outcomes, one config line each.
    #[serde(default)]
    #[serde(deserialize_with = "not_null")]
    pub status: OneOrMany,
    /// A config line; named captures must include the axis fields (and
    /// `status`, for `status` logs). Absent: `Config N: TP=…, PP=…` lines
    /// for `success`/`failure` logs, `key=value` tokens for `status` logs.
    #[serde(default, deserialize_with = "present")]
    pub line: Option<Pattern>,
}

#[derive(Debug, Deserialize)]
#[serde(from = "UnitsRaw")]
pub struct Units {
    /// Unit of the numbers in the trace files ("MB" in tracer field names is MiB).
    pub input: Unit,
    /// Unit that values, ranges and thresholds in this spec are written in.
    pub display: Unit,
    /// What the figure prints after a value: as written, else
    /// [`Unit::label`] of `display`.
    pub label: String,
    /// Whether `label` was written (and so must agree with `display`).
    pub label_written: bool,
    /// Between a number and its label; absent: thin in a venue figure,
    /// none otherwise (see [`Spec::unit_suffix`]).
    pub separator: Option<Separator>,
}

/// `units` as written: the label's default depends on `display`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct UnitsRaw {
    #[serde(default = "default_input_unit")]
    #[serde(deserialize_with = "not_null")]
    input: Unit,
    #[serde(default = "default_display_unit")]
    #[serde(deserialize_with = "not_null")]
    display: Unit,
    #[serde(default)]
    #[serde(deserialize_with = "present")]
    label: Option<String>,
    #[serde(default)]
    #[serde(deserialize_with = "present")]
    separator: Option<Separator>,
}

impl From<UnitsRaw> for Units {
    fn from(raw: UnitsRaw) -> Self {
        Units {
            input: raw.input,
            display: raw.display,
            label_written: raw.label.is_some(),
            label: raw.label.unwrap_or_else(|| raw.display.label().into()),
            separator: raw.separator,
        }
    }
}

impl Default for Units {
    fn default() -> Self {
        Units {
            input: default_input_unit(),
            display: default_display_unit(),
            label: default_display_unit().label().into(),
            label_written: false,
            separator: None,
        }
    }
}

impl Units {
    /// Factor from input numbers to display numbers.
    pub fn scale(&self) -> f64 {
        self.input.bytes() / self.display.bytes()
    }
}

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

pub const X_DEFAULTS: AxisDefaults = AxisDefaults {
    field: "pp",
    title: "Pipeline Parallelism (PP)",
};
pub const Y_DEFAULTS: AxisDefaults = AxisDefaults {
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
pub const RATIO: &str = "ratio";

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
    pub(super) fn follow_display_unit(&mut self, thresholds: bool) {
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
pub const TICK_SCALE: f64 = 0.9;
const DEFAULT_FONT: &str = "Libertinus Serif";
const DEFAULT_FONT_SIZE: f64 = 7.0;

/// Fonts beside the embedded ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Fonts {
    /// Directories searched (with their subdirectories) for font files,
    /// relative to the file that lists them.
    #[serde(default)]
    #[serde(deserialize_with = "not_null")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Output {
    /// Base path without extension, relative to the spec's directory;
    /// defaults to the spec's own path without `.yaml`.
    pub path: Option<PathBuf>,
    #[serde(default = "default_formats")]
    pub formats: Vec<Format>,
    #[serde(default = "default_dpi")]
    pub dpi: u32,
    #[serde(default = "default_pdf_version")]
    pub pdf_version: PdfVersion,
    /// Also conform to a PDF/A standard; it fixes its own PDF version.
    #[serde(default)]
    pub pdf_a: Option<PdfArchival>,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            path: None,
            formats: default_formats(),
            dpi: default_dpi(),
            pdf_version: default_pdf_version(),
            pdf_a: None,
        }
    }
}

fn default_thresholds() -> Vec<Threshold> {
    vec![Threshold {
        metric: "theory".into(),
        above: Some(80.0),
        at_least: None,
        below: None,
        at_most: None,
        mark: Mark::Hatch,
        color: None,
        label: None,
    }]
}
/// The memory tracer's file names, read when `inputs.filename` is absent.
pub(crate) fn tracer_filename() -> Pattern {
    Pattern::try_from(
        r"memory_trace_rank(?P<rank>\d+)_wd(?P<wd>\d+)_tp(?P<tp>\d+)_pp(?P<pp>\d+)_dp(?P<dp>\d+)_.*?_l(?P<layers>\d+)_mbs(?P<mbs>\d+)_nmbs(?P<nmbs>\d+)_gbs(?P<gbs>\d+)_ts(?P<ts>\d+)\.json"
            .to_string(),
    )
    .expect("the default filename pattern is valid")
}
/// The sweep script's `Config N: TP=…, PP=…` lines, read when
/// `inputs.logs.line` is absent for success and failure logs. Spaces
/// around `=` are a harmless variant, not another format.
pub(crate) fn default_log_line() -> Pattern {
    Pattern::try_from(
        r"^Config\s+(?P<seq>\d+):\s*TP\s*=\s*(?P<tp>\d+),\s*PP\s*=\s*(?P<pp>\d+)".to_string(),
    )
    .expect("the default log pattern is valid")
}
fn default_rank() -> String {
    "0".into()
}
fn default_newest_by() -> String {
    "ts".into()
}
fn default_input_unit() -> Unit {
    Unit::MiB
}
fn default_display_unit() -> Unit {
    Unit::GiB
}
/// In GiB.
const MEMORY_RANGE: [f64; 2] = [0.0, 80.0];
fn default_metric() -> String {
    "actual".into()
}
fn default_ticks() -> u32 {
    5
}
fn default_decimals() -> u8 {
    1
}
fn default_failed() -> StateStyle {
    StateStyle {
        text: "—".into(),
        // Luma 204: apart from the white low end of the sequential maps, and
        // from the lowest measured cells, on a grayscale print.
        fill: Some(Color([0xCC, 0xCC, 0xCC])),
        label: Some("Failed (OOM)".into()),
    }
}
fn default_invalid() -> StateStyle {
    StateStyle {
        text: "no data".into(),
        fill: None,
        label: Some("No usable trace".into()),
    }
}
fn default_missing() -> StateStyle {
    StateStyle {
        text: String::new(),
        fill: None,
        // A blank cell the legend does not explain reads as a drawing bug.
        label: Some("No record".into()),
    }
}
fn default_min_font_size() -> Length {
    Length(5.0)
}
fn default_gap() -> Length {
    Length(1.0)
}
fn default_gap_color() -> Color {
    Color::WHITE
}
fn default_true() -> bool {
    true
}
fn default_formats() -> Vec<Format> {
    vec![Format::Pdf, Format::Png]
}
fn default_dpi() -> u32 {
    300
}
fn default_pdf_version() -> PdfVersion {
    PdfVersion::V1_5
}
