//! Sizes: lengths in points, and the venue presets and widths they come
//! from.

use super::*;

/// A length in Typst points (1/72 in).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "LengthRaw")]
pub struct Length(pub f64);

#[derive(Deserialize)]
#[serde(untagged, expecting = "expected a length with a unit, e.g. `3.3in`")]
enum LengthRaw {
    Number(f64),
    Text(String),
}

impl TryFrom<LengthRaw> for Length {
    type Error = String;
    fn try_from(raw: LengthRaw) -> Result<Self, String> {
        match raw {
            LengthRaw::Number(n) if !n.is_finite() => Err(format!(
                "length `{n}` is not a number: write one with a unit, e.g. `3.3in`"
            )),
            LengthRaw::Number(n) => {
                // 1e308 would print with 308 digits.
                let n = if n.abs() < 1e15 {
                    n.to_string()
                } else {
                    format!("{n:e}")
                };
                Err(format!(
                    "length `{n}` has no unit: write e.g. `{n}pt`, `{n}in`, `{n}mm` or `{n}cm`"
                ))
            }
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
pub(crate) const WIDTH_PRESETS: &[(&str, f64)] = &[
    // usenix2019_v3.sty: a 7 in text block, columns 0.33 in apart.
    ("usenix-column", 3.335 * 72.0),
    ("usenix-text", 7.0 * 72.0),
    // acmart.dtx, sigconf: 8.5 in paper, 54 pt margins, columnsep 2pc.
    ("acm-column", 241.14749 * 72.0 / 72.27),
    ("acm-text", 506.295 * 72.0 / 72.27),
    // IEEEtran.cls, conference: \textwidth 43pc, \columnsep 1pc.
    ("ieee-column", 252.0 * 72.0 / 72.27),
    ("ieee-text", 516.0 * 72.0 / 72.27),
];

/// A venue whose papers a figure is set for: its body typeface, the size
/// of its figure text, and its column and text widths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Venue {
    Usenix,
    Acm,
    Ieee,
}

impl Venue {
    pub fn name(self) -> &'static str {
        match self {
            Venue::Usenix => "usenix",
            Venue::Acm => "acm",
            Venue::Ieee => "ieee",
        }
    }

    /// The body typeface, or the embedded face with its metrics.
    pub fn font(self) -> &'static str {
        match self {
            // usenix2019_v3.sty and IEEEtran.cls set Times (mathptmx / ptm).
            Venue::Usenix | Venue::Ieee => "TeX Gyre Termes",
            // acmart.dtx: "Uses libertine font set"; Libertinus is its fork.
            Venue::Acm => "Libertinus Serif",
        }
    }

    /// Figure text at the size of the paper's small print, so the figure
    /// reads like its caption rather than smaller than its footnotes.
    pub fn font_size(self) -> f64 {
        match self {
            // The USENIX template (usenix2019_v3.tex) is a 10pt article:
            // \footnotesize is 8 pt (size10.clo).
            Venue::Usenix => 8.0,
            // acmart.dtx: sigconf defaults \ACM@fontsize to 9pt, and its
            // captions are set at that size; 8 pt is one step below.
            Venue::Acm => 8.0,
            // IEEEtran.cls, 10pt conference: captions in \footnotesize, 8 pt.
            Venue::Ieee => 8.0,
        }
    }

    /// The title, when a venue figure shows one: the caption's size, so
    /// it is never larger than the caption under the figure.
    pub fn caption_size(self) -> f64 {
        match self {
            // usenix2019_v3.sty leaves captions to article: \normalsize, 10 pt.
            Venue::Usenix => 10.0,
            // acmart.dtx, sigconf: captions bold at the body size, 9 pt.
            Venue::Acm => 9.0,
            // IEEEtran.cls: captions in \footnotesize, 8 pt.
            Venue::Ieee => 8.0,
        }
    }

    /// Tick labels and the legend: one step below the figure text, the
    /// classes' \scriptsize (7 pt in a 10 pt article and IEEEtran; for
    /// ACM one step below its 8 pt).
    pub fn tick_size(self) -> f64 {
        7.0
    }

    /// `width: column` or `width: text`, from [`WIDTH_PRESETS`].
    pub fn width(self, which: Width) -> Option<f64> {
        let suffix = match which {
            Width::Length(l) => return Some(l.0),
            Width::Column => "column",
            Width::Text => "text",
        };
        let name = format!("{}-{suffix}", self.name());
        WIDTH_PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, pt)| *pt)
    }
}

/// What separates a number from its unit: `57.3GB`, `57.3 GB` (a narrow
/// no-break space, U+202F, as SI and typesetters write it) or `57.3 GB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Separator {
    None,
    Thin,
    Space,
}

impl Separator {
    pub fn text(self) -> &'static str {
        match self {
            Separator::None => "",
            // No-break, so a number never ends a line without its unit.
            Separator::Thin => "\u{202f}",
            Separator::Space => "\u{a0}",
        }
    }
}

/// A figure width: a length (a preset is one), or the column or text
/// width of `style.venue`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "LengthRaw")]
pub enum Width {
    Length(Length),
    Column,
    Text,
}

impl TryFrom<LengthRaw> for Width {
    type Error = String;
    fn try_from(raw: LengthRaw) -> Result<Self, String> {
        if let LengthRaw::Text(s) = &raw {
            match s.trim() {
                "column" => return Ok(Width::Column),
                "text" => return Ok(Width::Text),
                name => {
                    if let Some((_, pt)) = WIDTH_PRESETS.iter().find(|(n, _)| *n == name) {
                        return Ok(Width::Length(Length(*pt)));
                    }
                }
            }
        }
        Length::try_from(raw).map(Width::Length).map_err(|e| {
            let names: Vec<_> = WIDTH_PRESETS.iter().map(|(n, _)| *n).collect();
            format!(
                "{e}, `column` or `text` (of `style.venue`), or a preset: {}",
                names.join(", ")
            )
        })
    }
}
