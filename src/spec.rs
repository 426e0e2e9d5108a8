//! The figure spec: the YAML file a paper keeps next to its sources.
//!
//! Parsing happens in two steps. serde checks syntax, types and unknown keys;
//! serde_yaml knows where those errors are. Values with their own grammar
//! (colours, lengths, regexes) are newtypes parsed in `TryFrom<String>`, so a
//! bad one is also reported at its line. What needs more than one key (a
//! pattern must capture the axis fields, a font must exist) is checked in
//! [`Spec::check`], and [`locate`] finds the key in the source text for the
//! message, since serde_yaml keeps no spans after deserialising.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;

mod locate;

pub use locate::{Key, line_col, locate};
use locate::{parse_key_path, suggest_key, token_span};

/// A spec error, with what is needed to point at the offending text.
#[derive(Debug)]
pub struct SpecError {
    pub path: PathBuf,
    pub source_text: String,
    /// Byte range in `source_text`, when the place is known.
    pub span: Option<Range<usize>>,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(span) = &self.span {
            let (line, col) = line_col(&self.source_text, span.start);
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for SpecError {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Spec {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub subtitle: Option<String>,
    pub inputs: Inputs,
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
    /// Turn every data warning into a failing build.
    #[serde(default)]
    pub strict: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Inputs {
    /// Globs for trace files, relative to the spec's directory.
    pub traces: OneOrMany,
    /// Must match the whole file name; named captures become run fields.
    #[serde(default = "default_filename")]
    pub filename: Pattern,
    #[serde(default = "default_rank")]
    pub rank: String,
    #[serde(default = "default_actual")]
    pub actual: String,
    #[serde(default = "default_theory")]
    pub theory: String,
    /// Field that orders re-runs of one config: the largest number wins.
    #[serde(default = "default_newest_by")]
    pub newest_by: String,
    #[serde(default)]
    pub logs: Option<Logs>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Logs {
    #[serde(default)]
    pub success: OneOrMany,
    #[serde(default)]
    pub failure: OneOrMany,
    /// A config line; named captures must include the axis fields.
    #[serde(default = "default_log_line")]
    pub line: Pattern,
}

/// A YAML value that may be one string or a list of them.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(from = "OneOrManyRaw")]
pub struct OneOrMany(pub Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrManyRaw {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrManyRaw> for OneOrMany {
    fn from(raw: OneOrManyRaw) -> Self {
        match raw {
            OneOrManyRaw::One(s) => OneOrMany(vec![s]),
            OneOrManyRaw::Many(v) => OneOrMany(v),
        }
    }
}

/// A compiled regular expression that keeps its source for messages.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Pattern(pub Regex);

impl TryFrom<String> for Pattern {
    type Error = String;
    fn try_from(src: String) -> Result<Self, String> {
        Regex::new(&src)
            .map(Pattern)
            .map_err(|e| format!("invalid regular expression `{src}`: {}", regex_reason(&e)))
    }
}

/// The last line of regex's multi-line message says what is wrong.
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or(text.trim())
        .to_string()
}

impl Pattern {
    pub fn has_capture(&self, name: &str) -> bool {
        self.0.capture_names().flatten().any(|n| n == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub enum Unit {
    B,
    KB,
    MB,
    GB,
    TB,
    KiB,
    MiB,
    GiB,
    TiB,
}

impl Unit {
    pub fn bytes(self) -> f64 {
        match self {
            Unit::B => 1.0,
            Unit::KB => 1e3,
            Unit::MB => 1e6,
            Unit::GB => 1e9,
            Unit::TB => 1e12,
            Unit::KiB => 1024.0,
            Unit::MiB => 1024.0 * 1024.0,
            Unit::GiB => 1024.0 * 1024.0 * 1024.0,
            Unit::TiB => 1024.0f64.powi(4),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Units {
    /// Unit of the numbers in the trace files ("MB" in tracer field names is MiB).
    #[serde(default = "default_input_unit")]
    pub input: Unit,
    /// Unit that values, ranges and thresholds in this spec are written in.
    #[serde(default = "default_display_unit")]
    pub display: Unit,
    /// What the figure prints after a value.
    #[serde(default = "default_unit_label")]
    pub label: String,
}

impl Default for Units {
    fn default() -> Self {
        Units {
            input: default_input_unit(),
            display: default_display_unit(),
            label: default_unit_label(),
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

/// An axis value written in YAML as a number or a string.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "ScalarRaw")]
pub struct ScalarText(pub String);

#[derive(Deserialize)]
#[serde(untagged)]
enum ScalarRaw {
    Int(i64),
    Float(f64),
    Text(String),
}

impl From<ScalarRaw> for ScalarText {
    fn from(raw: ScalarRaw) -> Self {
        ScalarText(match raw {
            ScalarRaw::Int(i) => i.to_string(),
            ScalarRaw::Float(f) => f.to_string(),
            ScalarRaw::Text(s) => s,
        })
    }
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
    /// A map name or a list of colour stops, low to high.
    #[serde(default)]
    pub map: ColorMapSpec,
    /// Value range in display units; values outside clip to the end colours.
    #[serde(default = "default_range")]
    pub range: [f64; 2],
    #[serde(default)]
    pub reverse: bool,
    pub title: Option<String>,
    #[serde(default = "default_ticks")]
    pub ticks: u32,
}

impl Default for ColorSpec {
    fn default() -> Self {
        ColorSpec {
            map: ColorMapSpec::default(),
            range: default_range(),
            reverse: false,
            title: None,
            ticks: default_ticks(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ColorMapSpec {
    Name(String),
    Stops(Vec<Color>),
}

impl Default for ColorMapSpec {
    fn default() -> Self {
        ColorMapSpec::Name("memheat-reds".into())
    }
}

/// An sRGB colour, written `#rgb`, `#rrggbb` or as a CSS-like name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Color(pub [u8; 3]);

const NAMED_COLORS: &[(&str, [u8; 3])] = &[
    ("white", [255, 255, 255]),
    ("black", [0, 0, 0]),
    ("gray", [128, 128, 128]),
    ("grey", [128, 128, 128]),
    ("silver", [192, 192, 192]),
    ("red", [255, 0, 0]),
    ("green", [0, 128, 0]),
    ("blue", [0, 0, 255]),
    ("navy", [0, 0, 128]),
    ("orange", [255, 165, 0]),
];

impl TryFrom<String> for Color {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Color::parse(&s)
    }
}

impl Color {
    pub const WHITE: Color = Color([255, 255, 255]);
    pub const BLACK: Color = Color([0, 0, 0]);

    pub fn parse(s: &str) -> Result<Color, String> {
        let t = s.trim();
        if let Some(hex) = t.strip_prefix('#') {
            let digits: Option<Vec<u8>> = hex
                .chars()
                .map(|c| c.to_digit(16).map(|d| d as u8))
                .collect();
            return match digits.as_deref() {
                Some([r, g, b]) => Ok(Color([r * 17, g * 17, b * 17])),
                Some([r1, r0, g1, g0, b1, b0]) => {
                    Ok(Color([r1 * 16 + r0, g1 * 16 + g0, b1 * 16 + b0]))
                }
                _ => Err(format!(
                    "invalid colour `{s}`: write it as `#rrggbb` or `#rgb` with hex digits"
                )),
            };
        }
        NAMED_COLORS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(t))
            .map(|(_, rgb)| Color(*rgb))
            .ok_or_else(|| {
                format!(
                    "invalid colour `{s}`: use `#rrggbb`, `#rgb` or one of {}",
                    NAMED_COLORS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }

    pub fn hex(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// A rule that marks cells, e.g. hatch where theory is above the capacity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Threshold {
    /// `theory`, `actual`, or another numeric trace field (display units).
    pub metric: String,
    /// Exactly one comparison: above (>), at-least (>=), below (<), at-most (<=).
    pub above: Option<f64>,
    pub at_least: Option<f64>,
    pub below: Option<f64>,
    pub at_most: Option<f64>,
    #[serde(default)]
    pub mark: Mark,
    #[serde(default = "default_hatch_color")]
    pub color: Color,
    /// Legend text; defaults to the rule, e.g. `Theory > 80 GB`.
    pub label: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mark {
    #[default]
    Hatch,
    Outline,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Comparison {
    Above(f64),
    AtLeast(f64),
    Below(f64),
    AtMost(f64),
}

impl Comparison {
    pub fn holds(self, v: f64) -> bool {
        match self {
            Comparison::Above(t) => v > t,
            Comparison::AtLeast(t) => v >= t,
            Comparison::Below(t) => v < t,
            Comparison::AtMost(t) => v <= t,
        }
    }

    pub fn symbol(self) -> (&'static str, f64) {
        match self {
            Comparison::Above(t) => (">", t),
            Comparison::AtLeast(t) => ("≥", t),
            Comparison::Below(t) => ("<", t),
            Comparison::AtMost(t) => ("≤", t),
        }
    }
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
    /// Lines of a measured cell, each a minijinja template over the run's fields.
    #[serde(default = "default_cell_text")]
    pub text: Vec<String>,
    /// Digits after the point for `{{ x|fixed }}` without an argument.
    #[serde(default = "default_decimals")]
    pub decimals: u8,
    #[serde(default = "default_failed")]
    pub failed: StateStyle,
    #[serde(default = "default_invalid")]
    pub invalid: StateStyle,
    #[serde(default = "default_missing")]
    pub missing: StateStyle,
}

impl Default for Cells {
    fn default() -> Self {
        Cells {
            text: default_cell_text(),
            decimals: default_decimals(),
            failed: default_failed(),
            invalid: default_invalid(),
            missing: default_missing(),
        }
    }
}

/// How a cell without a measurement looks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StateStyle {
    #[serde(default)]
    pub text: String,
    /// `none` leaves the cell unfilled.
    pub fill: Option<Color>,
    /// Legend entry; none for no entry.
    pub label: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Style {
    #[serde(default = "default_font")]
    pub font: String,
    #[serde(default = "default_font_size")]
    pub font_size: Length,
    pub title_font_size: Option<Length>,
    pub cell_font_size: Option<Length>,
    /// Figure width: a length or a venue preset; auto-sized when absent.
    pub width: Option<Width>,
    pub height: Option<Length>,
    /// Height as a fraction of the width (needs `width`).
    pub aspect: Option<f64>,
    #[serde(default = "default_gap")]
    pub gap: Length,
    #[serde(default = "default_gap_color")]
    pub gap_color: Color,
    #[serde(default = "default_true")]
    pub legend: bool,
    #[serde(default = "default_true")]
    pub colorbar: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            font: default_font(),
            font_size: default_font_size(),
            title_font_size: None,
            cell_font_size: None,
            width: None,
            height: None,
            aspect: None,
            gap: default_gap(),
            gap_color: default_gap_color(),
            legend: true,
            colorbar: true,
        }
    }
}

/// A length in Typst points (1/72 in).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "LengthRaw")]
pub struct Length(pub f64);

#[derive(Deserialize)]
#[serde(untagged)]
enum LengthRaw {
    Number(f64),
    Text(String),
}

impl TryFrom<LengthRaw> for Length {
    type Error = String;
    fn try_from(raw: LengthRaw) -> Result<Self, String> {
        match raw {
            LengthRaw::Number(n) => Err(format!(
                "length `{n}` has no unit: write e.g. `{n}pt`, `{n}in`, `{n}mm` or `{n}cm`"
            )),
            LengthRaw::Text(s) => Length::parse(&s),
        }
    }
}

impl Length {
    pub fn parse(s: &str) -> Result<Length, String> {
        let t = s.trim();
        let units = [
            ("pt", 1.0),
            ("in", 72.0),
            ("mm", 72.0 / 25.4),
            ("cm", 72.0 / 2.54),
        ];
        for (suffix, pt) in units {
            if let Some(num) = t.strip_suffix(suffix) {
                return match num.trim().parse::<f64>() {
                    Ok(v) if v.is_finite() && v > 0.0 => Ok(Length(v * pt)),
                    _ => Err(format!(
                        "invalid length `{s}`: expected a positive number before `{suffix}`"
                    )),
                };
            }
        }
        Err(format!(
            "invalid length `{s}`: use pt, in, mm or cm, e.g. `3.3in`"
        ))
    }
}

/// Column and text widths of systems venues, in Typst points (1/72 in).
/// TeX points (1/72.27 in) from the class files are converted.
pub const WIDTH_PRESETS: &[(&str, f64)] = &[
    ("usenix-column", 3.335 * 72.0),
    ("usenix-text", 7.0 * 72.0),
    ("acm-column", 241.14749 * 72.0 / 72.27),
    ("acm-text", 506.295 * 72.0 / 72.27),
    ("ieee-column", 252.0 * 72.0 / 72.27),
    ("ieee-text", 516.0 * 72.0 / 72.27),
];

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "LengthRaw")]
pub struct Width(pub Length);

impl TryFrom<LengthRaw> for Width {
    type Error = String;
    fn try_from(raw: LengthRaw) -> Result<Self, String> {
        if let LengthRaw::Text(s) = &raw
            && let Some((_, pt)) = WIDTH_PRESETS.iter().find(|(n, _)| *n == s.trim())
        {
            return Ok(Width(Length(*pt)));
        }
        Length::try_from(raw).map(Width).map_err(|e| {
            let names: Vec<_> = WIDTH_PRESETS.iter().map(|(n, _)| *n).collect();
            format!("{e}, or a preset: {}", names.join(", "))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Pdf,
    Png,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Png => "png",
        }
    }
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
}

impl Default for Output {
    fn default() -> Self {
        Output {
            path: None,
            formats: default_formats(),
            dpi: default_dpi(),
        }
    }
}

pub const DPI_RANGE: std::ops::RangeInclusive<u32> = 10..=2400;

fn default_thresholds() -> Vec<Threshold> {
    vec![Threshold {
        metric: "theory".into(),
        above: Some(80.0),
        at_least: None,
        below: None,
        at_most: None,
        mark: Mark::Hatch,
        color: default_hatch_color(),
        label: None,
    }]
}
fn default_filename() -> Pattern {
    Pattern::try_from(
        r"memory_trace_rank(?P<rank>\d+)_wd(?P<wd>\d+)_tp(?P<tp>\d+)_pp(?P<pp>\d+)_dp(?P<dp>\d+)_.*?_l(?P<layers>\d+)_mbs(?P<mbs>\d+)_nmbs(?P<nmbs>\d+)_gbs(?P<gbs>\d+)_ts(?P<ts>\d+)\.json"
            .to_string(),
    )
    .expect("the default filename pattern is valid")
}
fn default_log_line() -> Pattern {
    Pattern::try_from(r"^Config\s+\d+:\s*TP=(?P<tp>\d+),\s*PP=(?P<pp>\d+)".to_string())
        .expect("the default log pattern is valid")
}
fn default_rank() -> String {
    "0".into()
}
fn default_actual() -> String {
    "peak_allocated_MB".into()
}
fn default_theory() -> String {
    "theoretical_memory_MB".into()
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
fn default_unit_label() -> String {
    "GB".into()
}
fn default_range() -> [f64; 2] {
    [0.0, 80.0]
}
fn default_ticks() -> u32 {
    5
}
fn default_hatch_color() -> Color {
    Color::WHITE
}
fn default_cell_text() -> Vec<String> {
    vec![
        "Actual: {{ actual|amount }}".into(),
        "Theory: {{ theory|amount }}".into(),
    ]
}
fn default_decimals() -> u8 {
    1
}
fn default_failed() -> StateStyle {
    StateStyle {
        text: "—".into(),
        fill: Some(Color([0xE8, 0xE8, 0xE8])),
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
        label: None,
    }
}
fn default_font() -> String {
    "Libertinus Serif".into()
}
fn default_font_size() -> Length {
    Length(7.0)
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

/// A problem with the spec found after parsing, by any stage: the key path
/// it is about, what is wrong and what to do. [`SpecSource::error`] turns it
/// into a located [`SpecError`].
#[derive(Debug, Clone, PartialEq)]
pub struct KeyError {
    pub keys: Vec<Key<'static>>,
    pub message: String,
    pub hint: Option<String>,
}

impl KeyError {
    pub fn new(
        keys: &[Key<'static>],
        message: impl Into<String>,
        hint: impl Into<Option<String>>,
    ) -> Self {
        KeyError {
            keys: keys.to_vec(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// The spec file as read, kept for locating errors.
#[derive(Debug, Clone)]
pub struct SpecSource {
    pub path: PathBuf,
    pub text: String,
}

impl SpecSource {
    pub fn error(&self, e: KeyError) -> SpecError {
        SpecError {
            path: self.path.clone(),
            source_text: self.text.clone(),
            span: locate(&self.text, &e.keys),
            message: e.message,
            hint: e.hint,
        }
    }

    /// The directory relative paths in the spec resolve against; empty for
    /// the working directory, so that messages say `out/fig.pdf`, not `./out/fig.pdf`.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }
}

/// Parses and checks a spec; nothing else is read here.
pub fn parse(source: &SpecSource) -> Result<Spec, SpecError> {
    let spec: Spec = serde_yaml::from_str(&source.text).map_err(|e| yaml_error(source, &e))?;
    spec.check().map_err(|e| source.error(e))?;
    Ok(spec)
}

/// serde_yaml's position for a value rejected by our own parsers (a bad
/// colour, length or regex) is the start of the enclosing mapping, and its
/// message names only that mapping (`style: invalid colour `#12345``). Those
/// messages quote the bad value, so look for it after the mapping's key.
fn yaml_error(source: &SpecSource, e: &serde_yaml::Error) -> SpecError {
    let full = e.to_string();
    let message = Regex::new(r" at line \d+ column \d+")
        .expect("valid regex")
        .replace_all(&full, "")
        .into_owned();
    let hint = suggest_key(&message);
    let by_value = || {
        let (path, rest) = message.split_once(": ")?;
        let quoted = rest.split('`').nth(1).filter(|q| !q.is_empty())?;
        let parent = locate(&source.text, &parse_key_path(path)?)?;
        let at = parent.start + source.text[parent.start..].find(quoted)?;
        Some(at..at + quoted.len())
    };
    let span = by_value().or_else(|| e.location().map(|l| token_span(&source.text, l.index())));
    SpecError {
        path: source.path.clone(),
        source_text: source.text.clone(),
        span,
        message,
        hint,
    }
}

impl Spec {
    /// Checks that need more than one value at a time.
    fn check(&self) -> Result<(), KeyError> {
        use Key::Field as F;
        let x = self.axes.x.field(&X_DEFAULTS);
        let y = self.axes.y.field(&Y_DEFAULTS);
        if x == y {
            return Err(KeyError::new(
                &[F("axes"), F("y"), F("field")],
                format!("both axes use the field `{x}`"),
                Some("give x and y different fields, e.g. x: pp, y: tp".into()),
            ));
        }
        let mut patterns = vec![(vec![F("inputs"), F("filename")], &self.inputs.filename)];
        if let Some(logs) = &self.inputs.logs {
            patterns.push((vec![F("inputs"), F("logs"), F("line")], &logs.line));
        }
        for (keys, pattern) in patterns {
            for field in [x, y] {
                if !pattern.has_capture(field) {
                    return Err(KeyError::new(
                        &keys,
                        format!("pattern has no capture named `{field}`, which an axis needs"),
                        Some(format!("add a named group such as `(?P<{field}>\\d+)`")),
                    ));
                }
            }
        }
        if self.inputs.traces.0.is_empty() {
            return Err(KeyError::new(
                &[F("inputs"), F("traces")],
                "no trace globs given",
                Some("list at least one glob, e.g. `traces: ../runs/*.json`".into()),
            ));
        }
        if let Some(logs) = &self.inputs.logs
            && logs.success.0.is_empty()
            && logs.failure.0.is_empty()
        {
            return Err(KeyError::new(
                &[F("inputs"), F("logs")],
                "`logs` lists neither a success nor a failure log",
                Some("add `success:` and/or `failure:` globs, or remove `logs`".into()),
            ));
        }
        let [lo, hi] = self.color.range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(KeyError::new(
                &[F("color"), F("range")],
                format!("colour range [{lo}, {hi}] is empty"),
                Some("write it as [low, high] with low < high".into()),
            ));
        }
        if !(2..=20).contains(&self.color.ticks) {
            return Err(KeyError::new(
                &[F("color"), F("ticks")],
                format!("{} colorbar ticks is out of range", self.color.ticks),
                Some("use 2 to 20 ticks".into()),
            ));
        }
        if let ColorMapSpec::Stops(stops) = &self.color.map
            && stops.len() < 2
        {
            return Err(KeyError::new(
                &[F("color"), F("map")],
                "a colour map needs at least two stops",
                None,
            ));
        }
        if let ColorMapSpec::Name(name) = &self.color.map
            && crate::colormap::named(name).is_none()
        {
            return Err(KeyError::new(
                &[F("color"), F("map")],
                format!("unknown colour map `{name}`"),
                Some(format!(
                    "use one of {}, or a list of colours",
                    crate::colormap::NAMES.join(", ")
                )),
            ));
        }
        for (i, t) in self.thresholds.iter().enumerate() {
            if t.comparison().is_none() {
                return Err(KeyError::new(
                    &[F("thresholds"), Key::Index(i)],
                    "a threshold needs exactly one of `above`, `at-least`, `below`, `at-most`",
                    Some("e.g. `above: 80` marks cells whose value is > 80".into()),
                ));
            }
        }
        if self.cells.decimals > 6 {
            return Err(KeyError::new(
                &[F("cells"), F("decimals")],
                format!("{} decimals is too many", self.cells.decimals),
                Some("use 0 to 6".into()),
            ));
        }
        if !DPI_RANGE.contains(&self.output.dpi) {
            return Err(KeyError::new(
                &[F("output"), F("dpi")],
                format!("DPI {} is out of range", self.output.dpi),
                Some(format!(
                    "use {} to {} (300 for print, 600 for line art)",
                    DPI_RANGE.start(),
                    DPI_RANGE.end()
                )),
            ));
        }
        if self.output.formats.is_empty() {
            return Err(KeyError::new(
                &[F("output"), F("formats")],
                "no output formats",
                Some("use [pdf, png], [pdf] or [png]".into()),
            ));
        }
        if let Some(aspect) = self.style.aspect {
            if self.style.width.is_none() || self.style.height.is_some() {
                return Err(KeyError::new(
                    &[F("style"), F("aspect")],
                    "`aspect` needs `width` and no `height`",
                    Some("set `width`, then `aspect: 0.4` makes the height 0.4 × width".into()),
                ));
            }
            if !(aspect.is_finite() && (0.05..=5.0).contains(&aspect)) {
                return Err(KeyError::new(
                    &[F("style"), F("aspect")],
                    format!("aspect {aspect} is out of range"),
                    Some("use a height:width ratio between 0.05 and 5".into()),
                ));
            }
        }
        let sizes = [
            ("width", self.style.width.map(|w| w.0)),
            ("height", self.style.height),
            ("font-size", Some(self.style.font_size)),
            ("title-font-size", self.style.title_font_size),
            ("cell-font-size", self.style.cell_font_size),
        ];
        for (key, value) in sizes {
            let limit = if key.ends_with("font-size") {
                2.0..=72.0
            } else {
                36.0..=1440.0
            };
            if let Some(Length(pt)) = value
                && !limit.contains(&pt)
            {
                return Err(KeyError::new(
                    &[F("style"), F(key)],
                    format!("{key} {pt:.1}pt is out of range"),
                    Some(format!("use {}pt to {}pt", limit.start(), limit.end())),
                ));
            }
        }
        Ok(())
    }

    /// Width and height of the figure in points, where fixed.
    pub fn figure_size(&self) -> (Option<f64>, Option<f64>) {
        let width = self.style.width.map(|w| w.0.0);
        let height = match (self.style.height, self.style.aspect, width) {
            (Some(h), _, _) => Some(h.0),
            (None, Some(a), Some(w)) => Some(w * a),
            _ => None,
        };
        (width, height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(src: &str) -> SpecSource {
        SpecSource {
            path: "t.yaml".into(),
            text: src.into(),
        }
    }

    fn parse_ok(src: &str) -> Spec {
        parse(&source(src)).unwrap()
    }

    fn parse_err(src: &str) -> SpecError {
        parse(&source(src)).unwrap_err()
    }

    #[test]
    fn defaults_reproduce_the_original_figure() {
        let spec = parse_ok("inputs:\n  traces: runs/*.json\n");
        assert_eq!(spec.inputs.traces.0, vec!["runs/*.json"]);
        assert_eq!(spec.inputs.rank, "0");
        assert_eq!(spec.axes.x.field(&X_DEFAULTS), "pp");
        assert_eq!(spec.axes.y.title(&Y_DEFAULTS), "Tensor Parallelism (TP)");
        assert_eq!(spec.units.scale(), 1.0 / 1024.0);
        assert_eq!(spec.color.range, [0.0, 80.0]);
        assert_eq!(
            spec.thresholds[0].comparison(),
            Some(Comparison::Above(80.0))
        );
        assert_eq!(spec.cells.failed.fill, Some(Color([0xE8, 0xE8, 0xE8])));
        assert_eq!(spec.output.dpi, 300);
        assert_eq!(spec.output.formats, vec![Format::Pdf, Format::Png]);
        assert_eq!(spec.style.font, "Libertinus Serif");
    }

    #[test]
    fn default_patterns_read_the_tracer_names() {
        let spec = parse_ok("inputs:\n  traces: x\n");
        let caps = spec
            .inputs
            .filename
            .0
            .captures("memory_trace_rank0_wd8192_tp2_pp64_dp64_exp1_expNumNone_l96_mbs1_nmbs384_gbs24576_ts60530.json")
            .unwrap();
        assert_eq!(&caps["tp"], "2");
        assert_eq!(&caps["pp"], "64");
        assert_eq!(&caps["ts"], "60530");
        let line = default_log_line();
        let caps = line
            .0
            .captures("Config 12: TP=2, PP=64, DP=64, NUM_MICBATCH=384, GLOBAL_BATCH_SIZE=24576 - SUCCESS")
            .unwrap();
        assert_eq!((&caps["tp"], &caps["pp"]), ("2", "64"));
    }

    #[test]
    fn lengths_colours_and_presets_parse() {
        let spec = parse_ok(
            "inputs: {traces: x}\nstyle:\n  width: usenix-column\n  aspect: 0.5\n  font-size: 7pt\n  gap-color: '#abc'\n",
        );
        assert_eq!(spec.figure_size(), (Some(240.12), Some(120.06)));
        assert_eq!(spec.style.font_size, Length(7.0));
        assert_eq!(spec.style.gap_color, Color([0xaa, 0xbb, 0xcc]));
        assert_eq!(Length::parse("25.4mm"), Ok(Length(72.0)));
        assert!(Length::parse("3 furlongs").is_err());
    }

    #[test]
    fn unknown_key_points_at_it_and_suggests() {
        let e = parse_err("inputs:\n  traces: x\n  ranks: '0'\n");
        assert_eq!(
            e.to_string(),
            "t.yaml:3:3: inputs: unknown field `ranks`, expected one of `traces`, `filename`, `rank`, `actual`, `theory`, `newest-by`, `logs`"
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean `rank`?"));
    }

    #[test]
    fn bad_colour_is_reported_at_its_line() {
        let e = parse_err("inputs: {traces: x}\nstyle:\n  gap-color: '#12345'\n");
        assert_eq!(
            e.span.clone().map(|s| line_col(&e.source_text, s.start)),
            Some((3, 15))
        );
        assert!(
            e.message.contains("invalid colour `#12345`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn bad_regex_says_what_is_wrong() {
        let e = parse_err("inputs:\n  traces: x\n  filename: 'tp(?P<tp>\\d+'\n");
        assert_eq!(
            line_col(&e.source_text, e.span.clone().unwrap().start),
            (3, 14)
        );
        assert!(e.message.contains("unclosed group"), "{}", e.message);
    }

    #[test]
    fn pattern_without_axis_capture_is_located() {
        let e = parse_err("inputs:\n  traces: x\n  filename: 'tp(?P<tp>\\d+)'\n");
        assert_eq!(
            e.to_string(),
            "t.yaml:3:13: pattern has no capture named `pp`, which an axis needs"
        );
    }

    #[test]
    fn semantic_errors_are_located_by_key_path() {
        let e = parse_err("inputs:\n  traces: x\ncolor:\n  map: jet\n");
        assert_eq!(e.to_string(), "t.yaml:4:8: unknown colour map `jet`");
        let e = parse_err(
            "inputs:\n  traces: x\nthresholds:\n  - {metric: theory, above: 80}\n  - metric: actual\n    above: 3\n    below: 4\n",
        );
        assert_eq!(line_col(&e.source_text, e.span.unwrap().start), (5, 3));
        let e = parse_err("inputs:\n  traces: x\noutput:\n  dpi: 5\n");
        assert_eq!(e.to_string(), "t.yaml:4:8: DPI 5 is out of range");
    }

    #[test]
    fn yaml_syntax_error_is_located() {
        let e = parse_err("inputs:\n  traces: [x\n");
        assert!(e.span.is_some());
        assert!(!e.message.contains(" at line "), "{}", e.message);
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        /// YAML-shaped text built from the schema's own keys, so that the
        /// checks behind the syntax are reached, not just the parser.
        fn spec_like() -> impl Strategy<Value = String> {
            let key = prop::sample::select(vec![
                "inputs",
                "traces",
                "filename",
                "rank",
                "logs",
                "line",
                "axes",
                "x",
                "y",
                "field",
                "values",
                "color",
                "map",
                "range",
                "ticks",
                "thresholds",
                "metric",
                "above",
                "cells",
                "text",
                "style",
                "font",
                "width",
                "aspect",
                "output",
                "dpi",
                "- ",
            ]);
            let value = prop::sample::select(vec![
                "",
                "x",
                "'*.json'",
                "[1, 2]",
                "{a: 1}",
                "'(?P<tp>'",
                "-1",
                "1e999",
                "usenix-column",
                "'#12'",
                "3in",
                "é€",
                "\"\\u0000\"",
                "[",
                "{",
                "~",
                "&a",
                "*a",
                "|",
                ">",
            ]);
            prop::collection::vec((0..6usize, key, value), 0..24).prop_map(|lines| {
                lines
                    .into_iter()
                    .map(|(indent, k, v)| format!("{}{k}: {v}\n", " ".repeat(indent)))
                    .collect()
            })
        }

        proptest! {
            #[test]
            fn parse_never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
                let _ = parse(&source(&text));
            }

            #[test]
            fn parse_never_panics_on_spec_like_text(text in spec_like()) {
                if let Err(e) = parse(&source(&text)) {
                    // Every error renders, with a position inside the text.
                    let _ = e.to_string();
                    if let Some(span) = e.span {
                        prop_assert!(span.end <= text.len());
                    }
                }
            }

        }
    }
}
