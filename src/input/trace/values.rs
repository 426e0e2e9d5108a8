//! The values of one rank of a parsed trace: the spec's `actual` and
//! `theory` fields, every other numeric field, and what is wrong with them.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Rank, RankValue, Scalar};
use crate::input::{RunValues, Unusable};
use crate::spec::Inputs;
use crate::warning::Warning;

/// Why a trace file gives no ranks: the warning to print, and the short
/// reason a cell keeps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unreadable {
    pub(crate) warning: String,
    pub(crate) reason: String,
}

/// The tracer's own names for the actual and theoretical peaks.
pub(crate) const TRACE_ACTUAL: &str = "peak_allocated_MB";
pub(crate) const TRACE_THEORY: &str = "theoretical_memory_MB";

pub(crate) type Ranks = Result<Vec<Rank>, Unreadable>;

pub(crate) fn read_ranks(path: &Path) -> Ranks {
    let file = std::fs::File::open(path);
    file.map_err(super::ReadError::Io)
        .and_then(|mut file| super::read(&mut file))
        .map_err(unreadable)
}

pub(crate) fn unreadable(e: super::ReadError) -> Unreadable {
    match e {
        super::ReadError::Io(e) => {
            let why = format!("cannot be read ({e})");
            Unreadable {
                warning: why.clone(),
                reason: why,
            }
        }
        super::ReadError::Scan(e) => Unreadable {
            warning: format!("malformed JSON: {e}"),
            reason: "malformed JSON".into(),
        },
    }
}

/// Extracts the rank's values from a trace's ranks.
pub(crate) fn read_values(
    ranks: &[Rank],
    path: &Path,
    inputs: &Inputs,
    warnings: &mut Vec<Warning>,
) -> Result<RunValues, Unusable> {
    let mut warn = |message: String| warnings.push(Warning::new(path, message));
    let wanted = &inputs.rank;
    // Like Python's json module, a repeated key means its last value; say so,
    // since a tracer that writes a key twice is usually broken.
    if ranks.iter().filter(|r| &r.key == wanted).count() > 1 {
        warn(format!(
            "rank `{wanted}` appears more than once; the last one is used"
        ));
    }
    let rank = match ranks.iter().rev().find(|r| &r.key == wanted) {
        Some(rank) => rank,
        None => match ranks {
            [] => {
                warn("the trace is empty (`{}`); the cell shows no data".into());
                return Err(Unusable("empty trace".into()));
            }
            [only] => {
                warn(format!(
                    "no rank `{wanted}`; using its only rank `{}`",
                    only.key
                ));
                only
            }
            _ => {
                let keys: Vec<_> = ranks.iter().map(|r| format!("`{}`", r.key)).collect();
                warn(format!(
                    "no rank `{wanted}` (it has {}); set `inputs.rank`; the cell shows no data",
                    keys.join(", ")
                ));
                return Err(Unusable("rank missing".into()));
            }
        },
    };
    let fields = match &rank.value {
        RankValue::Object(fields) => fields,
        RankValue::NotAnObject(what) => {
            warn(format!(
                "rank `{}` is {what}, not an object; the cell shows no data",
                rank.key
            ));
            return Err(Unusable("rank is not an object".into()));
        }
    };
    let mut latest: BTreeMap<&str, &Scalar> = BTreeMap::new();
    let mut repeated = std::collections::BTreeSet::new();
    for (k, v) in fields {
        if latest.insert(k, v).is_some() {
            repeated.insert(k.as_str());
        }
    }
    for key in repeated {
        warn(format!(
            "field `{key}` appears more than once in rank `{}`; the last value is used",
            rank.key
        ));
    }
    let numbers = numbers(fields);
    // `then` says what the figure does without the value.
    let mut field = |name: &str, role: &str, then: &str| -> Option<f64> {
        let problem = match latest.get(name) {
            Some(Scalar::Number(n)) => return Some(*n),
            Some(Scalar::NonFinite(token)) => format!("is `{token}`"),
            Some(other) => format!("is {}, not a number", describe(other)),
            None => "is missing".to_string(),
        };
        warn(format!("{role} field `{name}` {problem}; {then}"));
        None
    };
    let actual_name = inputs.actual.as_deref().unwrap_or(TRACE_ACTUAL);
    let Some(actual) = field(actual_name, "actual", "the cell shows no data") else {
        return Err(Unusable("no actual value".into()));
    };
    let theory = field(
        inputs.theory.as_deref().unwrap_or(TRACE_THEORY),
        "theoretical",
        "theory shows n/a and marks no threshold",
    );
    Ok(RunValues {
        numbers,
        actual,
        theory,
    })
}

/// A rank's finite numeric fields. A repeated key means its last value, as
/// in Python's `json` module, even when that value is not a number.
pub(crate) fn numbers(fields: &[(String, Scalar)]) -> BTreeMap<String, f64> {
    let latest: BTreeMap<&str, &Scalar> = fields.iter().map(|(k, v)| (k.as_str(), v)).collect();
    latest
        .into_iter()
        .filter_map(|(k, v)| match v {
            Scalar::Number(n) => Some((k.to_owned(), *n)),
            _ => None,
        })
        .collect()
}

fn describe(s: &Scalar) -> String {
    match s {
        Scalar::Number(n) => format!("the number {n}"),
        Scalar::NonFinite(t) => format!("`{t}`"),
        Scalar::Str(s) => format!("the string {s:?}"),
        Scalar::Bool(b) => format!("`{b}`"),
        Scalar::Null => "`null`".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::trace;
    use crate::spec;

    fn inputs() -> Inputs {
        spec::parse_one("t.yaml", "inputs:\n  traces: '*.json'\n")
            .unwrap()
            .inputs
            .unwrap()
    }

    fn values(json: &str) -> (Result<RunValues, Unusable>, Vec<String>) {
        let mut w = Vec::new();
        let ranks = trace::read(&mut std::io::Cursor::new(json)).unwrap();
        let r = read_values(&ranks, Path::new("f.json"), &inputs(), &mut w);
        (r, w.into_iter().map(|w| w.to_string()).collect())
    }

    #[test]
    fn reads_the_rank_fields() {
        let (r, w) = values(
            r#"{"0": {"samples": [{"a": 1}], "peak_allocated_MB": 58716.72, "theoretical_memory_MB": 140204.06, "static_memory_MB": 3}}"#,
        );
        let r = r.unwrap();
        assert_eq!((r.actual, r.theory), (58716.72, Some(140204.06)));
        assert_eq!(r.numbers["static_memory_MB"], 3.0);
        assert!(w.is_empty());
    }

    #[test]
    fn non_finite_theory_is_unknown_and_named() {
        let (r, w) = values(r#"{"0": {"peak_allocated_MB": 1, "theoretical_memory_MB": NaN}}"#);
        assert_eq!(r.unwrap().theory, None);
        assert_eq!(
            w,
            [
                "f.json: theoretical field `theoretical_memory_MB` is `NaN`; theory shows n/a and marks no threshold"
            ]
        );
        let (r, w) = values(r#"{"0": {"peak_allocated_MB": -Infinity}}"#);
        assert_eq!(r, Err(Unusable("no actual value".into())));
        assert_eq!(
            w,
            ["f.json: actual field `peak_allocated_MB` is `-Infinity`; the cell shows no data"]
        );
    }

    #[test]
    fn single_other_rank_is_used_and_said() {
        let (r, w) = values(r#"{"3": {"peak_allocated_MB": 5}}"#);
        assert_eq!(r.unwrap().actual, 5.0);
        assert_eq!(w[0], "f.json: no rank `0`; using its only rank `3`");
        let (r, w) = values(r#"{}"#);
        assert!(r.is_err());
        assert_eq!(
            w,
            ["f.json: the trace is empty (`{}`); the cell shows no data"]
        );
    }

    #[test]
    fn missing_theory_keeps_actual() {
        let (r, w) = values(r#"{"0": {"peak_allocated_MB": 5}}"#);
        assert_eq!(r.unwrap().theory, None);
        assert_eq!(
            w,
            [
                "f.json: theoretical field `theoretical_memory_MB` is missing; theory shows n/a and marks no threshold"
            ]
        );
    }

    #[test]
    fn repeated_keys_warn_and_the_last_wins() {
        let (r, w) = values(
            r#"{"0": {"peak_allocated_MB": 1, "peak_allocated_MB": 2}, "0": {"peak_allocated_MB": 5, "peak_allocated_MB": 6}}"#,
        );
        assert_eq!(r.unwrap().actual, 6.0);
        assert_eq!(
            w,
            [
                "f.json: rank `0` appears more than once; the last one is used",
                "f.json: field `peak_allocated_MB` appears more than once in rank `0`; the last value is used",
                "f.json: theoretical field `theoretical_memory_MB` is missing; theory shows n/a and marks no threshold",
            ]
        );
    }

    proptest::proptest! {

        #[test]
        fn trace_reader_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let mut w = Vec::new();
            if let Ok(ranks) = trace::read(&mut std::io::Cursor::new(&bytes)) {
                let _ = read_values(&ranks, Path::new("f.json"), &inputs(), &mut w);
            }
        }
    }
}
