//! Scalar values with a grammar of their own, parsed where serde reads
//! them so that a bad one is reported at its line.

use regex::Regex;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::colormap::Color;

mod size;

pub(crate) use size::*;

const NULL: &str =
    "null (`~`) is not a value for this key: write one, or remove the key to get its default";

/// For keys that need a value: serde_yaml would read a plain `~` as the
/// string "~" (cells printed `67.0~`, a field called "null" was read).
/// Keys that are optional take null as "none" instead.
pub(super) fn not_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Option::<T>::deserialize(d)?.ok_or_else(|| D::Error::custom(NULL))
}

/// An optional key whose default is decided later (a venue's font, say):
/// absent is `None`, but null is an error as for [`not_null`].
pub(super) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    not_null(d).map(Some)
}

/// A list of strings none of which is null; absent is `None`.
pub(super) fn strings_not_null<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<String>>, D::Error> {
    Vec::<Option<String>>::deserialize(d)?
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            s.ok_or_else(|| {
                D::Error::custom(format!(
                    "item {} is null (`~`); write a text, or `\"\"` for none",
                    i + 1
                ))
            })
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// A YAML value that may be one string or a list of them.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(from = "OneOrManyRaw")]
pub struct OneOrMany(pub Vec<String>);

#[derive(Deserialize)]
#[serde(untagged, expecting = "expected a glob, or a list of globs")]
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
    pub fn name(self) -> &'static str {
        match self {
            Unit::B => "B",
            Unit::KB => "KB",
            Unit::MB => "MB",
            Unit::GB => "GB",
            Unit::TB => "TB",
            Unit::KiB => "KiB",
            Unit::MiB => "MiB",
            Unit::GiB => "GiB",
            Unit::TiB => "TiB",
        }
    }

    /// What the figure prints after a value in this unit by default: the
    /// unit's name, but `GB` for GiB, as the original figure (and the
    /// tracers, whose "MB" is MiB) writes it.
    pub fn label(self) -> &'static str {
        match self {
            Unit::GiB => "GB",
            other => other.name(),
        }
    }

    /// 0 for bytes, 1 for kilo and kibi, … 4 for tera and tebi: a label of
    /// another magnitude than the numbers' unit is off by a factor of 1000
    /// or more.
    pub fn magnitude(self) -> u8 {
        match self {
            Unit::B => 0,
            Unit::KB | Unit::KiB => 1,
            Unit::MB | Unit::MiB => 2,
            Unit::GB | Unit::GiB => 3,
            Unit::TB | Unit::TiB => 4,
        }
    }

    pub const ALL: [Unit; 9] = [
        Unit::B,
        Unit::KB,
        Unit::MB,
        Unit::GB,
        Unit::TB,
        Unit::KiB,
        Unit::MiB,
        Unit::GiB,
        Unit::TiB,
    ];

    /// The units a text names, in order: a word that is a unit's name
    /// (`GB`, `gib`, `MB/GPU`), or a unit spelled out (`gigabytes`,
    /// `Gbyte`, `bytes`), in any case. A plural `GBs` is not read: `mbs`
    /// and `gbs` are batch sizes.
    pub fn named_in(text: &str) -> Vec<Unit> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter_map(|word| {
                let word = word.to_ascii_lowercase();
                let singular = word.strip_suffix('s').unwrap_or(&word);
                Unit::ALL.into_iter().find(|u| {
                    let (name, spelled) = u.spellings();
                    word == name || spelled.contains(&singular)
                })
            })
            .collect()
    }

    /// The unit's name and the words that spell it out, in lower case.
    fn spellings(self) -> (&'static str, [&'static str; 2]) {
        match self {
            Unit::B => ("b", ["byte", "byte"]),
            Unit::KB => ("kb", ["kilobyte", "kbyte"]),
            Unit::MB => ("mb", ["megabyte", "mbyte"]),
            Unit::GB => ("gb", ["gigabyte", "gbyte"]),
            Unit::TB => ("tb", ["terabyte", "tbyte"]),
            Unit::KiB => ("kib", ["kibibyte", "kibyte"]),
            Unit::MiB => ("mib", ["mebibyte", "mibyte"]),
            Unit::GiB => ("gib", ["gibibyte", "gibyte"]),
            Unit::TiB => ("tib", ["tebibyte", "tibyte"]),
        }
    }

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

/// An axis value written in YAML as a number or a string.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "ScalarRaw")]
pub struct ScalarText(pub String);

#[derive(Deserialize)]
#[serde(untagged, expecting = "expected a number or a text")]
enum ScalarRaw {
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(String),
}

impl TryFrom<ScalarRaw> for ScalarText {
    type Error = String;

    /// YAML reads an integer beyond 64 bits as the nearest `f64`, whose
    /// digits are another number: refused, since the written digits are
    /// gone by now.
    fn try_from(raw: ScalarRaw) -> Result<Self, String> {
        Ok(ScalarText(match raw {
            ScalarRaw::Int(i) => i.to_string(),
            ScalarRaw::UInt(u) => u.to_string(),
            ScalarRaw::Float(f) if f.fract() == 0.0 && f.abs() >= super::F64_EXACT_INTEGERS => {
                return Err(format!(
                    "the number {f:e} is too large for YAML to keep exactly (it reads integers beyond 64 bits as the nearest floating-point number); quote it, as in '123456789012345678901234', to keep its digits"
                ));
            }
            ScalarRaw::Float(f) => f.to_string(),
            ScalarRaw::Text(s) => s,
        }))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "expected a colour map name, or a list of colours"
)]
pub enum ColorMapSpec {
    Name(String),
    Stops(Vec<Color>),
}

impl Default for ColorMapSpec {
    fn default() -> Self {
        ColorMapSpec::Name("memheat-reds".into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mark {
    #[default]
    Hatch,
    Outline,
}

impl Mark {
    pub fn name(self) -> &'static str {
        match self {
            Mark::Hatch => "hatch",
            Mark::Outline => "outline",
        }
    }
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

    /// The spec key that wrote it.
    pub fn key(self) -> &'static str {
        match self {
            Comparison::Above(_) => "above",
            Comparison::AtLeast(_) => "at-least",
            Comparison::Below(_) => "below",
            Comparison::AtMost(_) => "at-most",
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

/// The built-in cell text: `Actual: 57.3GB` / `Theory: 136.9GB`, or the
/// numbers alone, with a legend entry naming the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellForm {
    Full,
    Compact,
}

impl CellForm {
    pub fn name(self) -> &'static str {
        match self {
            CellForm::Full => "full",
            CellForm::Compact => "compact",
        }
    }

    pub fn lines(self) -> Vec<String> {
        let lines: &[&str] = match self {
            CellForm::Full => &["Actual: {{ actual|amount }}", "Theory: {{ theory|amount }}"],
            CellForm::Compact => &["{{ actual|fixed }}", "{{ theory|fixed }}"],
        };
        lines.iter().map(|l| l.to_string()).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Pdf,
    Png,
    Svg,
    /// The generated Typst source, compiling on its own to the same figure.
    Typ,
    /// The figure's numbers as LaTeX macros (`memheat data --format tex`).
    Tex,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Pdf,
        Format::Png,
        Format::Svg,
        Format::Typ,
        Format::Tex,
    ];

    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Png => "png",
            Format::Svg => "svg",
            Format::Typ => "typ",
            Format::Tex => "tex",
        }
    }
}

/// The PDF version written. 1.5 by default, the newest that pdflatex
/// includes without a warning. Written as a number or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "ScalarText")]
pub enum PdfVersion {
    V1_4,
    V1_5,
    V1_6,
    V1_7,
    V2_0,
}

impl TryFrom<ScalarText> for PdfVersion {
    type Error = String;

    fn try_from(v: ScalarText) -> Result<Self, String> {
        Ok(match v.0.as_str() {
            "1.4" => PdfVersion::V1_4,
            "1.5" => PdfVersion::V1_5,
            "1.6" => PdfVersion::V1_6,
            "1.7" => PdfVersion::V1_7,
            "2" | "2.0" => PdfVersion::V2_0,
            other => {
                return Err(format!(
                    "unknown PDF version `{other}`; use 1.4, 1.5, 1.6, 1.7 or 2.0"
                ));
            }
        })
    }
}

/// A PDF/A archival standard, for venues or libraries that ask for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum PdfArchival {
    #[serde(rename = "a-1b")]
    A1b,
    #[serde(rename = "a-2b")]
    A2b,
    #[serde(rename = "a-2u")]
    A2u,
    #[serde(rename = "a-3b")]
    A3b,
    #[serde(rename = "a-3u")]
    A3u,
}

pub(crate) const DPI_RANGE: std::ops::RangeInclusive<u32> = 10..=2400;
