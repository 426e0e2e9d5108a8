//! Colour maps, computed here rather than in Typst so that cell colours,
//! text contrast and the colorbar all come from one set of stops.

use serde::Deserialize;

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

/// The original figure's white → deep-red ramp.
const MEMHEAT_REDS: [&str; 8] = [
    "#FFFFFF", "#FEE5D9", "#FCBBA1", "#FC9272", "#FB6A4A", "#EF3B2C", "#CB181D", "#99000D",
];

/// Names accepted by `color.map`, in the order the help lists them.
pub(crate) const NAMES: &[&str] = &[
    "memheat-reds",
    "reds",
    "blues",
    "greens",
    "greys",
    "oranges",
    "purples",
    "ylorrd",
    "ylgnbu",
    "viridis",
    "cividis",
    "magma",
    "inferno",
    "plasma",
    "rdbu",
    "puor",
    "rdylbu",
    "brbg",
    "piyg",
];

/// Continuous maps are sampled at this many evenly spaced stops; linear
/// interpolation between them is within one 8-bit step of the source.
const SAMPLES: usize = 33;

/// Evenly spaced colour stops, low to high, interpolated linearly in sRGB
/// (as matplotlib's `LinearSegmentedColormap` and the Typst colorbar do).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColorMap {
    stops: Vec<Color>,
}

pub(crate) fn named(name: &str) -> Option<ColorMap> {
    let gradient = match name {
        "memheat-reds" => {
            let stops = MEMHEAT_REDS
                .iter()
                .map(|h| Color::parse(h).expect("built-in colours are valid"))
                .collect();
            return Some(ColorMap { stops });
        }
        "reds" => colorous::REDS,
        "blues" => colorous::BLUES,
        "greens" => colorous::GREENS,
        "greys" => colorous::GREYS,
        "oranges" => colorous::ORANGES,
        "purples" => colorous::PURPLES,
        "ylorrd" => colorous::YELLOW_ORANGE_RED,
        "ylgnbu" => colorous::YELLOW_GREEN_BLUE,
        "viridis" => colorous::VIRIDIS,
        "cividis" => colorous::CIVIDIS,
        "magma" => colorous::MAGMA,
        "inferno" => colorous::INFERNO,
        "plasma" => colorous::PLASMA,
        // Diverging: a light midpoint between two hues, for a metric with a
        // natural centre (theory / actual = 1).
        "rdbu" => colorous::RED_BLUE,
        "puor" => colorous::PURPLE_ORANGE,
        "rdylbu" => colorous::RED_YELLOW_BLUE,
        "brbg" => colorous::BROWN_GREEN,
        "piyg" => colorous::PINK_GREEN,
        _ => return None,
    };
    let stops = (0..SAMPLES)
        .map(|i| {
            let c = gradient.eval_continuous(i as f64 / (SAMPLES - 1) as f64);
            Color([c.r, c.g, c.b])
        })
        .collect();
    Some(ColorMap { stops })
}

impl ColorMap {
    /// At least two stops; the spec check guarantees it.
    pub(crate) fn from_stops(stops: Vec<Color>) -> ColorMap {
        ColorMap { stops }
    }

    pub(crate) fn reversed(mut self) -> ColorMap {
        self.stops.reverse();
        self
    }

    pub(crate) fn stops(&self) -> &[Color] {
        &self.stops
    }

    /// The colour at `t` in [0, 1]; outside clips to the ends.
    pub(crate) fn sample(&self, t: f64) -> Color {
        let last = self.stops.len() - 1;
        let pos = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) } * last as f64;
        let i = (pos.floor() as usize).min(last.saturating_sub(1));
        let f = pos - i as f64;
        let (a, b) = (self.stops[i].0, self.stops[(i + 1).min(last)].0);
        let mix = |k: usize| (a[k] as f64 + (b[k] as f64 - a[k] as f64) * f).round() as u8;
        Color([mix(0), mix(1), mix(2)])
    }
}

/// Where values sit on a colour map: linear from `lo` to `hi`, or, with a
/// centre, linear on each side of it so that the centre gets the map's
/// midpoint however far the ends are from it (matplotlib's TwoSlopeNorm).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scale {
    pub lo: f64,
    pub hi: f64,
    /// Strictly inside (lo, hi); the spec check guarantees it.
    pub center: Option<f64>,
}

impl Scale {
    /// Position in [0, 1] of `v` (outside the range: beyond, for clipping).
    pub(crate) fn position(&self, v: f64) -> f64 {
        let Scale { lo, hi, center } = *self;
        match center {
            Some(c) if v < c => 0.5 * (v - lo) / (c - lo),
            Some(c) => 0.5 + 0.5 * (v - c) / (hi - c),
            None => (v - lo) / (hi - lo),
        }
    }

    /// The value at position `t`: the inverse of [`Scale::position`].
    pub(crate) fn value_at(&self, t: f64) -> f64 {
        let Scale { lo, hi, center } = *self;
        match center {
            Some(c) if t < 0.5 => lo + (c - lo) * t / 0.5,
            Some(c) => c + (hi - c) * (t - 0.5) / 0.5,
            None => lo + (hi - lo) * t,
        }
    }
}

/// Grey level of a colour on a grayscale print or conversion, 0 to 255:
/// Rec. 601 luma, as PIL's `convert("L")` and most printer drivers compute it.
pub(crate) fn luma(c: Color) -> f64 {
    let [r, g, b] = c.0.map(f64::from);
    0.299 * r + 0.587 * g + 0.114 * b
}

/// WCAG relative luminance of an sRGB colour.
pub(crate) fn luminance(c: Color) -> f64 {
    let lin = |v: u8| {
        let s = v as f64 / 255.0;
        if s <= 0.04045 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.0[0]) + 0.7152 * lin(c.0[1]) + 0.0722 * lin(c.0[2])
}

/// Black or white, whichever contrasts more with `fill` (as seaborn does).
pub(crate) fn text_color(fill: Color) -> Color {
    let l = luminance(fill);
    let with_black = (l + 0.05) / 0.05;
    let with_white = 1.05 / (l + 0.05);
    if with_white > with_black {
        Color::WHITE
    } else {
        Color::BLACK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_resolves() {
        for name in NAMES {
            assert!(named(name).is_some(), "{name}");
        }
        assert!(named("jet").is_none());
    }

    #[test]
    fn sampling_interpolates_and_clips() {
        let map = ColorMap::from_stops(vec![Color([0, 0, 0]), Color([200, 100, 50])]);
        assert_eq!(map.sample(0.5), Color([100, 50, 25]));
        assert_eq!(map.sample(-1.0), Color([0, 0, 0]));
        assert_eq!(map.sample(7.0), Color([200, 100, 50]));
        let reds = named("memheat-reds").unwrap();
        assert_eq!(reds.sample(0.0), Color::WHITE);
        assert_eq!(reds.sample(1.0), Color([0x99, 0, 0x0D]));
        // 3/7 of the way lands exactly on the fourth stop.
        assert_eq!(reds.sample(3.0 / 7.0), Color([0xFC, 0x92, 0x72]));
        assert_eq!(reds.clone().reversed().sample(0.0), Color([0x99, 0, 0x0D]));
    }

    #[test]
    fn a_centre_gets_the_midpoint_on_an_asymmetric_range() {
        let scale = Scale {
            lo: 0.5,
            hi: 3.0,
            center: Some(1.0),
        };
        assert_eq!(scale.position(1.0), 0.5);
        assert_eq!(scale.position(0.5), 0.0);
        assert_eq!(scale.position(0.75), 0.25);
        assert_eq!(scale.position(2.0), 0.75);
        assert_eq!(scale.position(3.0), 1.0);
        for t in [0.0, 0.2, 0.5, 0.9, 1.0] {
            assert!((scale.position(scale.value_at(t)) - t).abs() < 1e-12);
        }
        let plain = Scale {
            center: None,
            ..scale
        };
        assert_eq!(plain.position(1.75), 0.5);
        let rdbu = named("rdbu").unwrap();
        // colorous's midpoint of RdBu: the light neutral between the hues.
        assert_eq!(rdbu.sample(scale.position(1.0)), Color([241, 239, 237]));
    }

    #[test]
    fn luma_weighs_green_most() {
        assert!((luma(Color([0xE8, 0xE8, 0xE8])) - 232.0).abs() < 1e-9);
        assert!(luma(Color([0, 255, 0])) > luma(Color([255, 0, 0])));
        assert!(luma(Color([255, 0, 0])) > luma(Color([0, 0, 255])));
    }

    #[test]
    fn text_switches_to_white_on_dark_fills() {
        assert_eq!(text_color(Color::WHITE), Color::BLACK);
        assert_eq!(text_color(Color([0x99, 0, 0x0D])), Color::WHITE);
        assert_eq!(text_color(Color([0xE8, 0xE8, 0xE8])), Color::BLACK);
        assert_eq!(text_color(Color([0x44, 0x01, 0x54])), Color::WHITE);
    }
}
