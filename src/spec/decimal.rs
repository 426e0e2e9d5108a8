//! Numbers on an axis, exactly as written: `f64` holds every integer only
//! up to 2^53, and an axis value is a name (`tp=9007199254740993` is not
//! `tp=9007199254740992`), so what `f64` would change is kept as digits.

/// A cell's key on an axis: numbers are normalised so that `08` and `8`
/// are one column, and sort as numbers. An integer `f64` does not hold
/// (`9007199254740993`, above 2^53) keeps its exact digits, so that it
/// neither merges with its neighbour nor prints as another number.
pub(crate) fn canonical(value: &str) -> String {
    let text = value.trim();
    // The common case, a small integer, without the general path's allocations.
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = text.parse().expect("at most 15 digits");
        return n.to_string();
    }
    match (exact_f64(text), Decimal::parse(text)) {
        (Some(v), _) => shortest(v),
        (None, Some(written)) if text.parse::<f64>().is_ok_and(f64::is_finite) => {
            written.to_string()
        }
        _ => value.to_string(),
    }
}

/// `text` as an `f64`, if it is a finite number and, when it is an
/// integer, the one the `f64` holds (`8`, `1e20`, `0.1`, but not
/// `9007199254740993`, which would print as `9007199254740992`). A fraction
/// is its nearest `f64`, as in any JSON or YAML reader: C's `%.17g` writes
/// `0.10000000000000001` for 0.1.
pub(crate) fn exact_f64(text: &str) -> Option<f64> {
    let text = text.trim();
    let v = text.parse::<f64>().ok().filter(|v| v.is_finite())?;
    if v.abs() < F64_EXACT_INTEGERS {
        return Some(v);
    }
    let written = Decimal::parse(text)?;
    (!written.is_integer() || Decimal::parse(&shortest(v)).as_ref() == Some(&written)).then_some(v)
}

/// Below this, every integer is an `f64` (2^53).
pub(crate) const F64_EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// The order of two axis values that are numbers (see [`canonical`]):
/// by value, exactly, also where `f64` cannot tell them apart. `None`
/// unless both are.
pub(crate) fn compare_numbers(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    let number = |v: &str| {
        v.parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .zip(Decimal::parse(v.trim()))
    };
    let ((x, exact_x), (y, exact_y)) = (number(a)?, number(b)?);
    Some(x.total_cmp(&y).then_with(|| exact_x.cmp(&exact_y)))
}

/// Rust prints an integral `f64` without a fraction (`8`, not `8.0`); `-0`
/// is 0.
fn shortest(v: f64) -> String {
    if v == 0.0 { "0".into() } else { v.to_string() }
}

/// A decimal literal (`-012.50e3`) as the exact number it names:
/// `0.DIGITS × 10^exponent`, the digits without leading or trailing zeros
/// (none for zero, which has no sign).
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    /// Most digits of exponent read: `1e-400` is exactly written, and its
    /// plain form is 400 digits; a longer exponent is not a number anyone
    /// puts on an axis, and is kept as text.
    const MAX_EXPONENT: i64 = 1_000;

    fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], rest[at + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
            return None;
        }
        let mut exponent = exponent.checked_add(i64::try_from(whole.len()).ok()?)?;
        let mut digits: Vec<u8> = whole.bytes().chain(fraction.bytes()).collect();
        let leading = digits.iter().take_while(|&&d| d == b'0').count();
        digits.drain(..leading);
        exponent -= i64::try_from(leading).ok()?;
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        if digits.is_empty() {
            return Some(Decimal {
                negative: false,
                digits,
                exponent: 0,
            });
        }
        (exponent.abs() <= Self::MAX_EXPONENT).then_some(Decimal {
            negative,
            digits,
            exponent,
        })
    }
}

impl Decimal {
    fn is_integer(&self) -> bool {
        self.exponent >= self.digits.len() as i64
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let magnitude = |d: &Decimal| (!d.digits.is_empty(), d.exponent);
        let by_magnitude = magnitude(self)
            .cmp(&magnitude(other))
            .then_with(|| self.digits.cmp(&other.digits));
        match (self.negative, other.negative) {
            (false, false) => by_magnitude,
            (true, true) => by_magnitude.reverse(),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The plain form, without an exponent: `9007199254740993`, `0.00012`.
impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = std::str::from_utf8(&self.digits).expect("ASCII digits");
        if digits.is_empty() {
            return f.write_str("0");
        }
        if self.negative {
            f.write_str("-")?;
        }
        let count = digits.len() as i64;
        match self.exponent {
            e if e >= count => write!(f, "{digits}{}", "0".repeat((e - count) as usize)),
            e if e > 0 => write!(f, "{}.{}", &digits[..e as usize], &digits[e as usize..]),
            e => write!(f, "0.{}{digits}", "0".repeat((-e) as usize)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_merges_spellings_of_one_number_only() {
        for (written, key) in [
            ("08", "8"),
            ("+8", "8"),
            ("-0", "0"),
            ("8.0", "8"),
            ("1e3", "1000"),
            ("0.50", "0.5"),
            ("1e20", "100000000000000000000"),
            ("9007199254740992", "9007199254740992"),
            ("9007199254740993", "9007199254740993"),
            ("009007199254740993.000", "9007199254740993"),
            ("-9007199254740993", "-9007199254740993"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
            ("1.00000000000000000001e20", "100000000000000000001"),
            ("0.10000000000000001", "0.1"),
            ("a8", "a8"),
            ("inf", "inf"),
            ("1e999", "1e999"),
        ] {
            assert_eq!(canonical(written), key, "{written}");
        }
    }

    #[test]
    fn numbers_f64_cannot_tell_apart_sort_exactly() {
        let mut values = [
            "10000000000000000001",
            "9999999999999999999",
            "-9007199254740993",
            "9007199254740993",
            "-9007199254740992",
            "9007199254740992",
            "0",
            "1e19",
        ];
        values.sort_by(|a, b| compare_numbers(a, b).unwrap());
        assert_eq!(
            values,
            [
                "-9007199254740993",
                "-9007199254740992",
                "0",
                "9007199254740992",
                "9007199254740993",
                "9999999999999999999",
                "1e19",
                "10000000000000000001",
            ]
        );
        assert_eq!(compare_numbers("x", "1"), None);
    }

    #[test]
    fn exact_f64_refuses_only_integers_it_would_change() {
        assert_eq!(exact_f64("9007199254740992"), Some(9007199254740992.0));
        assert_eq!(exact_f64("9007199254740993"), None);
        assert_eq!(exact_f64("1e20"), Some(1e20));
        assert_eq!(exact_f64("0.10000000000000001"), Some(0.1));
        assert_eq!(exact_f64("1e400"), None);
        assert_eq!(exact_f64("NaN"), None);
    }
}
