//! Which rank and which JSON fields of a trace the figure reads, guessed
//! from their names, and the unit of their numbers.
//!
//! Field names are ranked, not matched: memheat's own defaults first, then
//! names that say what the field is. Only a tie at the top is a real
//! question; anything below it is listed in the spec as an alternative.

use std::collections::BTreeMap;

use crate::input::trace::{Rank, RankValue};
use crate::spec::Unit;

/// The numeric fields of the rank a trace's figure would read, per rank.
pub(super) type Numbers = BTreeMap<String, BTreeMap<String, f64>>;

/// Every rank object's finite numeric fields; `None` when there is none.
pub(super) fn numbers(ranks: &[Rank]) -> Option<Numbers> {
    let mut all = Numbers::new();
    for rank in ranks {
        let RankValue::Object(fields) = &rank.value else {
            continue;
        };
        let numbers = crate::input::trace::values::numbers(fields);
        if !numbers.is_empty() {
            // The last of a repeated rank wins, as in `memheat build`.
            all.insert(rank.key.clone(), numbers);
        }
    }
    (!all.is_empty()).then_some(all)
}

/// The rank to read: memheat's default `0` when the traces have it, else
/// the one most traces have (the lowest number on a tie). Also returns the
/// other ranks seen.
pub(super) fn rank(traces: &[Numbers]) -> (String, Vec<String>) {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for trace in traces {
        for key in trace.keys() {
            *count.entry(key).or_default() += 1;
        }
    }
    let mut keys: Vec<&str> = count.keys().copied().collect();
    keys.sort_by_key(|k| {
        (
            *k != "0",
            std::cmp::Reverse(count[k]),
            k.parse::<u64>().unwrap_or(u64::MAX),
            k.to_string(),
        )
    });
    let chosen = keys[0].to_string();
    let others = keys[1..].iter().map(|k| k.to_string()).collect();
    (chosen, others)
}

/// What a field is for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Role {
    /// The measured peak: the cell's value and colour.
    Actual,
    /// The estimate shown beside it.
    Theory,
}

/// How much a field's name says it plays `role`; 0 for not at all.
fn score(name: &str, role: Role) -> u32 {
    let lower = name.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    // `est` only as a word of its own (`est_MB`, `mem-est`): inside a
    // word it is `latest` or `test`.
    let abbreviated = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| word == "est");
    let theoretical =
        abbreviated || has(&["theor", "expect", "estimat", "predict", "model", "plan"]);
    match role {
        Role::Actual if name == "peak_allocated_MB" => 100,
        Role::Actual if theoretical || !has(&["peak", "max"]) => 0,
        Role::Actual if has(&["alloc"]) => 30,
        Role::Actual if has(&["reserv"]) => 20,
        Role::Actual => 10,
        Role::Theory if name == "theoretical_memory_MB" => 100,
        Role::Theory if has(&["theor"]) => 30,
        Role::Theory if theoretical => 20,
        Role::Theory => 0,
    }
}

/// The candidates for a role, best first, and whether the best is only
/// tied with others (a question worth asking). Fields that every trace
/// read has come before ones only some have. When no name says "peak",
/// every field is a candidate for the actual value, largest first (a peak
/// is the largest number a trace holds), and that is a question too.
pub(super) fn candidates(
    fields: &BTreeMap<String, Vec<f64>>,
    traces: usize,
    role: Role,
    exclude: Option<&str>,
) -> (Vec<String>, bool) {
    let others = || {
        fields
            .iter()
            .filter(move |(name, _)| Some(name.as_str()) != exclude)
    };
    let mut ranked: Vec<(u32, bool, f64, &String)> = others()
        .map(|(name, values)| (score(name, role), values.len() == traces, 0.0, name))
        .filter(|(score, ..)| *score > 0)
        .collect();
    if ranked.is_empty() && role == Role::Actual {
        ranked = others()
            .map(|(name, values)| (1, values.len() == traces, typical(values), name))
            .collect();
    }
    ranked.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then(b.2.total_cmp(&a.2))
            .then(a.3.cmp(b.3))
    });
    let tied = match ranked.as_slice() {
        [first, second, ..] => (first.0, first.1) == (second.0, second.1),
        _ => false,
    };
    (ranked.into_iter().map(|(.., n)| n.clone()).collect(), tied)
}

/// The median, a value that one odd trace does not move.
pub(super) fn typical(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

/// The unit of a field's numbers: from a suffix such as `_MB` (a tracer's
/// "MB" is MiB, as memheat's default says), else from the size of a
/// typical peak, which is between a few and a few hundred GiB.
pub(super) fn unit(field: &str, typical: f64) -> (Unit, String) {
    let lower = field.to_ascii_lowercase();
    let suffixes = [
        ("gib", Unit::GiB),
        ("mib", Unit::MiB),
        ("kib", Unit::KiB),
        ("gb", Unit::GiB),
        ("mb", Unit::MiB),
        ("kb", Unit::KiB),
        ("bytes", Unit::B),
    ];
    for (suffix, unit) in suffixes {
        if lower.ends_with(suffix) {
            let said = &field[field.len() - suffix.len()..];
            let why = if said.eq_ignore_ascii_case(unit.name()) {
                format!("`{field}` ends in `{said}`")
            } else {
                format!(
                    "`{field}` ends in `{said}`, which tracers write for {}",
                    unit.name()
                )
            };
            return (unit, why);
        }
    }
    let unit = match typical {
        v if v < 2e3 => Unit::GiB,
        v if v < 2e6 => Unit::MiB,
        v if v < 2e9 => Unit::KiB,
        _ => Unit::B,
    };
    let why = format!(
        "`{field}` names no unit; taken as {}, which makes its typical value {typical} a peak of {:.1} GiB",
        unit.name(),
        typical * unit.bytes() / Unit::GiB.bytes(),
    );
    (unit, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(names: &[(&str, usize)]) -> BTreeMap<String, Vec<f64>> {
        names
            .iter()
            .map(|(n, c)| (n.to_string(), vec![1.0; *c]))
            .collect()
    }

    #[test]
    fn memheat_defaults_win_without_a_question() {
        let f = fields(&[
            ("peak_allocated_MB", 3),
            ("peak_reserved_MB", 3),
            ("theoretical_memory_MB", 3),
            ("static_memory_MB", 1),
        ]);
        assert_eq!(
            candidates(&f, 3, Role::Actual, None),
            (
                vec!["peak_allocated_MB".into(), "peak_reserved_MB".into()],
                false
            )
        );
        assert_eq!(
            candidates(&f, 3, Role::Theory, Some("peak_allocated_MB")),
            (vec!["theoretical_memory_MB".into()], false)
        );
    }

    #[test]
    fn equally_good_names_are_a_question() {
        let f = fields(&[
            ("gpu0_max_alloc", 2),
            ("gpu1_max_alloc", 2),
            ("max_reserved", 2),
        ]);
        let (names, tied) = candidates(&f, 2, Role::Actual, None);
        assert_eq!(names, ["gpu0_max_alloc", "gpu1_max_alloc", "max_reserved"]);
        assert!(tied);
        // A field that only some traces have ranks lower, so no tie.
        let f = fields(&[("gpu0_max_alloc", 2), ("gpu1_max_alloc", 1)]);
        assert!(!candidates(&f, 2, Role::Actual, None).1);
    }

    #[test]
    fn estimates_are_not_peaks() {
        let f = fields(&[("max_expected_mem", 1), ("peak_mem", 1)]);
        assert_eq!(candidates(&f, 1, Role::Actual, None).0, ["peak_mem"]);
        assert_eq!(
            candidates(&f, 1, Role::Theory, None).0,
            ["max_expected_mem"]
        );
    }

    #[test]
    fn est_as_a_word_is_an_estimate_and_inside_a_word_is_not() {
        let f = fields(&[("peak_mem_MB", 1), ("est_MB", 1), ("latest_peak", 1)]);
        assert_eq!(candidates(&f, 1, Role::Theory, None).0, ["est_MB"]);
        let actual = candidates(&f, 1, Role::Actual, None).0;
        assert!(actual.contains(&"latest_peak".to_string()), "{actual:?}");
        assert!(!actual.contains(&"est_MB".to_string()), "{actual:?}");
    }

    #[test]
    fn without_a_peak_name_the_largest_field_is_proposed() {
        let mut f = fields(&[("a", 2), ("b", 2)]);
        f.get_mut("b").unwrap()[0] = 9.0;
        f.get_mut("b").unwrap()[1] = 9.0;
        assert_eq!(
            candidates(&f, 2, Role::Actual, None),
            (vec!["b".into(), "a".into()], true)
        );
        assert_eq!(
            candidates(&f, 2, Role::Theory, None).0,
            Vec::<String>::new()
        );
    }

    #[test]
    fn units_come_from_suffixes_or_magnitudes() {
        assert_eq!(unit("peak_allocated_MB", 5.0).0, Unit::MiB);
        assert_eq!(unit("peak_GiB", 5e9).0, Unit::GiB);
        assert_eq!(unit("peak_bytes", 5.0).0, Unit::B);
        assert_eq!(unit("peak", 57.3).0, Unit::GiB);
        assert_eq!(unit("peak", 58_716.0).0, Unit::MiB);
        assert_eq!(unit("peak", 6.1e10).0, Unit::B);
        assert_eq!(
            unit("peak", 58_716.0).1,
            "`peak` names no unit; taken as MiB, which makes its typical value 58716 a peak of 57.3 GiB"
        );
    }

    #[test]
    fn rank_zero_first_then_the_most_common() {
        let trace = |keys: &[&str]| -> Numbers {
            keys.iter()
                .map(|k| (k.to_string(), BTreeMap::from([("x".to_string(), 1.0)])))
                .collect()
        };
        assert_eq!(rank(&[trace(&["3", "0"])]), ("0".into(), vec!["3".into()]));
        assert_eq!(
            rank(&[trace(&["10", "2"]), trace(&["10"])]),
            ("10".into(), vec!["2".into()])
        );
        assert_eq!(rank(&[trace(&["10", "2"])]).0, "2");
    }
}
