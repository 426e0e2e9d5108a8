//! The config in a trace's file name: which `<key><number>` tokens vary
//! between the files of a sweep, and the `inputs.filename` regex and glob
//! that read them.
//!
//! Names are compared by their shape, the text between digit runs: files
//! of one sweep share it (`run-tp#-pp#.json`), and a stray `config.json`
//! or `summary_tp4.json` does not. Within a shape the n-th digit run means
//! the same thing in every name, so "does it vary" is a per-slot question.

use std::collections::BTreeSet;

use super::location::escape;

/// Splits a name into its shape (the text around digit runs, one more
/// than there are runs) and its digit runs.
pub(super) fn split(name: &str) -> (Vec<&str>, Vec<&str>) {
    let mut texts = Vec::new();
    let mut digits = Vec::new();
    let mut start = 0;
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let end = i + bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            texts.push(&name[start..i]);
            digits.push(&name[i..end]);
            start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    texts.push(&name[start..]);
    (texts, digits)
}

/// One digit-run position of a shape.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Slot {
    /// The letters right before the number (`tp` in `_tp4`, `TP` in
    /// `TP=4`), lowercased: the capture's name. `None` for a bare number.
    pub key: Option<String>,
    /// The number in each name, in the order of the names.
    pub values: Vec<String>,
    /// Distinct values, compared as numbers (`08` is `8`).
    pub distinct: usize,
}

impl Slot {
    pub(super) fn varies(&self) -> bool {
        self.distinct > 1
    }
}

/// The slots of names that share one shape.
pub(super) fn slots(names: &[&str]) -> Vec<Slot> {
    let split: Vec<(Vec<&str>, Vec<&str>)> = names.iter().map(|n| split(n)).collect();
    let Some((texts, _)) = split.first() else {
        return vec![];
    };
    (0..texts.len() - 1)
        .map(|i| {
            let values: Vec<String> = split.iter().map(|(_, d)| d[i].to_string()).collect();
            let distinct = values
                .iter()
                .map(|v| crate::spec::canonical(v))
                .collect::<BTreeSet<_>>()
                .len();
            Slot {
                key: key_before(texts[i]),
                values,
                distinct,
            }
        })
        .collect()
}

/// `_tp` → `tp`, `TP=` → `tp`, `tp_` → `tp` (as in `tp_4/pp_16/`, which
/// a build's path tokens read so too), `_` → none.
fn key_before(text: &str) -> Option<String> {
    let text = text.strip_suffix(['=', '_', '-']).unwrap_or(text);
    let letters = text
        .bytes()
        .rev()
        .take_while(u8::is_ascii_alphabetic)
        .count();
    (letters > 0).then(|| text[text.len() - letters..].to_ascii_lowercase())
}

/// What the filename regex does with a slot.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Use {
    /// A named capture: a run field.
    Capture(String),
    /// Any number, not captured (a varying number without a usable key).
    Any,
    /// The number itself, escaped.
    Literal,
}

/// How each slot is read: varying keyed numbers and the axes become
/// captures (each name once; a repeated key is matched, not captured),
/// other varying numbers match any number, the rest stays literal.
pub(super) fn uses(slots: &[Slot], axes: [usize; 2]) -> Vec<Use> {
    let mut taken = BTreeSet::new();
    slots
        .iter()
        .enumerate()
        .map(|(i, slot)| {
            let wanted = slot.varies() || axes.contains(&i);
            match &slot.key {
                Some(key) if wanted && taken.insert(key.clone()) => Use::Capture(key.clone()),
                _ if slot.varies() => Use::Any,
                _ => Use::Literal,
            }
        })
        .collect()
}

/// The `inputs.filename` regex for names of `shape` (any one of them).
pub(super) fn regex(name: &str, uses: &[Use]) -> String {
    let (texts, digits) = split(name);
    let mut out = String::new();
    for (i, text) in texts.iter().enumerate() {
        out.push_str(&regex::escape(text));
        match uses.get(i) {
            Some(Use::Capture(key)) => out.push_str(&format!(r"(?P<{key}>\d+)")),
            Some(Use::Any) => out.push_str(r"\d+"),
            Some(Use::Literal) => out.push_str(&regex::escape(digits[i])),
            None => {}
        }
    }
    out
}

/// File-name globs for the shape of `name`, loosest first: the words
/// before the first number and the extension (`memory_trace_*.json`),
/// then everything before the first and after the last number.
pub(super) fn globs(name: &str) -> Vec<String> {
    let (texts, _) = split(name);
    if texts.len() == 1 {
        // No number: every file has this name (the config is in its
        // directories).
        return vec![escape(name)];
    }
    let (first, last) = (texts[0], texts[texts.len() - 1]);
    // Cut at a separator, so `run-tp4` gives `run-*`, not `run-tp*`.
    let head = first
        .rfind(|c: char| !c.is_ascii_alphanumeric())
        .map_or("", |at| &first[..=at]);
    let tail = last
        .find(|c: char| !c.is_ascii_alphanumeric())
        .map_or("", |at| &last[at..]);
    let glob = |a: &str, b: &str| format!("{}*{}", escape(a), escape(b));
    let mut all = vec![glob(head, tail)];
    let exact = glob(first, last);
    if exact != all[0] {
        all.push(exact);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern_of(names: &[&str], axes: [usize; 2]) -> String {
        let slots = slots(names);
        regex(names[0], &uses(&slots, axes))
    }

    #[test]
    fn names_split_around_digit_runs() {
        assert_eq!(
            split("run-tp4-pp16.json"),
            (vec!["run-tp", "-pp", ".json"], vec!["4", "16"])
        );
        assert_eq!(split("12ab"), (vec!["", "ab"], vec!["12"]));
        assert_eq!(split("plain.json"), (vec!["plain.json"], vec![]));
    }

    #[test]
    fn varying_keyed_tokens_are_captured_and_constant_ones_stay_literal() {
        let names = [
            "memory_trace_rank0_tp1_pp8_mbs1_ts30.json",
            "memory_trace_rank0_tp2_pp8_mbs1_ts31.json",
            "memory_trace_rank0_tp2_pp16_mbs1_ts32.json",
        ];
        let slots = slots(&names);
        let keys: Vec<_> = slots.iter().map(|s| s.key.as_deref().unwrap()).collect();
        assert_eq!(keys, ["rank", "tp", "pp", "mbs", "ts"]);
        let distinct: Vec<_> = slots.iter().map(|s| s.distinct).collect();
        assert_eq!(distinct, [1, 2, 2, 1, 3]);
        let pattern = pattern_of(&names, [2, 1]);
        assert_eq!(
            pattern,
            r"memory_trace_rank0_tp(?P<tp>\d+)_pp(?P<pp>\d+)_mbs1_ts(?P<ts>\d+)\.json"
        );
        let re = regex::Regex::new(&format!("^{pattern}$")).unwrap();
        for name in names {
            assert!(re.is_match(name), "{name}");
        }
    }

    #[test]
    fn literal_parts_are_escaped() {
        let names = ["a+b.c(tp1)[x]_pp2.json", "a+b.c(tp2)[x]_pp4.json"];
        let pattern = pattern_of(&names, [1, 0]);
        assert_eq!(
            pattern,
            r"a\+b\.c\(tp(?P<tp>\d+)\)\[x\]_pp(?P<pp>\d+)\.json"
        );
        let re = regex::Regex::new(&format!("^{pattern}$")).unwrap();
        assert!(re.is_match(names[1]));
        assert!(!re.is_match("aab.c(tp2)[x]_pp4.json"), "`+` is literal");
        assert!(!re.is_match("a+bxc(tp2)[x]_pp4.json"), "`.` is literal");
    }

    #[test]
    fn keys_before_equals_signs_are_lowercased() {
        let names = ["TP=4,PP=8.json", "TP=8,PP=8.json"];
        let slots = slots(&names);
        assert_eq!(slots[0].key.as_deref(), Some("tp"));
        assert!(!slots[1].varies());
        // A constant axis is still captured; the x axis here is `pp`.
        assert_eq!(
            pattern_of(&names, [1, 0]),
            r"TP=(?P<tp>\d+),PP=(?P<pp>\d+)\.json"
        );
    }

    #[test]
    fn bare_and_repeated_numbers_match_without_capturing() {
        let names = ["t_tp1_tp1_7.json", "t_tp2_tp2_9.json"];
        let slots = slots(&names);
        assert_eq!(slots[2].key, None);
        assert_eq!(
            uses(&slots, [0, 0]),
            [Use::Capture("tp".into()), Use::Any, Use::Any]
        );
        assert_eq!(
            pattern_of(&names, [0, 0]),
            r"t_tp(?P<tp>\d+)_tp\d+_\d+\.json"
        );
    }

    #[test]
    fn numbers_equal_as_numbers_do_not_vary() {
        let slots = slots(&["x_tp08.json", "x_tp8.json"]);
        assert!(!slots[0].varies());
    }

    #[test]
    fn globs_keep_the_words_before_the_first_number() {
        assert_eq!(
            globs("memory_trace_rank0_tp1_ts3.json"),
            ["memory_trace_*.json", "memory_trace_rank*.json"]
        );
        assert_eq!(globs("run-tp4-pp16.json"), ["run-*.json", "run-tp*.json"]);
        assert_eq!(globs("tp4_pp16.json"), ["*.json", "tp*.json"]);
        assert_eq!(globs("memory.json"), ["memory.json"]);
        assert_eq!(
            globs("{a,b}_tp1.json"),
            ["[{]a,b}_*.json", "[{]a,b}_tp*.json"]
        );
        assert_eq!(
            globs("[a]_tp4.json"),
            ["[[]a[]]_*.json", "[[]a[]]_tp*.json"]
        );
    }
}
