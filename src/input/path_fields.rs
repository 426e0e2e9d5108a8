//! A run's config fields from where its file lies.
//!
//! Sweeps put the config in the file name (`memory_trace_…_tp4_pp16_….json`),
//! in directory names (`run-TP4-PP16/mem_rank0.json`, `tp_4/pp_16/mem.json`,
//! Hydra's `tp=4,pp=16/`), or nowhere (`slurm-123.out`, whose config is in
//! its content). The path looked at is the one *below the glob's fixed
//! directories*: for `runs/*/mem.json`, `run-TP4-PP16/mem.json`. So moving
//! the sweep, or naming it by its own config, changes nothing.
//!
//! - An `inputs.filename` pattern must match that whole path, or a trailing
//!   part of it that starts after a `/`; the longest such part is tried
//!   first. Its named captures are the fields.
//! - Without one, a name the memory tracer writes is read with its own
//!   pattern, and any other path by its tokens ([`tokens`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use crate::spec::{Pattern, tracer_filename};

static TRACER: LazyLock<Pattern> = LazyLock::new(tracer_filename);

/// The fields of the file at `below` (its path below the glob's fixed
/// directories, `/`-separated); `None` when `pattern` matches no part of it.
pub(crate) fn fields(pattern: Option<&Pattern>, below: &str) -> Option<BTreeMap<String, String>> {
    if let Some(pattern) = pattern {
        return suffixes(below).find_map(|part| whole_match(pattern, part));
    }
    let name = below.rsplit('/').next().unwrap_or(below);
    whole_match(&TRACER, name).or_else(|| Some(tokens(below)))
}

/// `a/b/c`, then `b/c`, then `c`.
fn suffixes(path: &str) -> impl Iterator<Item = &str> {
    std::iter::once(path).chain(path.match_indices('/').map(move |(i, _)| &path[i + 1..]))
}

fn whole_match(pattern: &Pattern, text: &str) -> Option<BTreeMap<String, String>> {
    let caps = pattern.0.captures(text)?;
    if caps.get(0).is_none_or(|m| m.range() != (0..text.len())) {
        return None;
    }
    Some(
        pattern
            .0
            .capture_names()
            .flatten()
            .filter_map(|n| Some((n.to_string(), caps.name(n)?.as_str().to_string())))
            .collect(),
    )
}

/// Config tokens of a path, keys in lower case, so `TP4` and `tp4` are the
/// same field. Each `/`-separated part (the last without its extension) is
/// split at `,` into pieces; a piece `key=value` is one field; any other
/// piece is split at `-`, `_`, `+` and spaces into words, and a word
/// `letters digits` (`TP4`, `rank0`) or a word of letters followed by a word
/// of digits (`tp_4`, `PP-16`) is one field. A key seen again deeper in the
/// path takes the deeper value: the file's own name is the most specific.
pub(crate) fn tokens(below: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let mut parts: Vec<&str> = below.split('/').collect();
    if let Some(last) = parts.pop() {
        parts.push(
            Path::new(last)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or(last),
        );
    }
    for piece in parts.iter().flat_map(|p| p.split(',')) {
        if let Some((key, value)) = piece.split_once('=') {
            let key = key.trim();
            if is_key(key) && !value.trim().is_empty() {
                fields.insert(key.to_ascii_lowercase(), value.trim().to_string());
            }
            continue;
        }
        let words: Vec<&str> = piece
            .split(['-', '_', '+', ' '])
            .filter(|w| !w.is_empty())
            .collect();
        let mut i = 0;
        while i < words.len() {
            let word = words[i];
            let split = word
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(word.len());
            let (letters, digits) = word.split_at(split);
            if is_key(letters) && is_number(digits) {
                fields.insert(letters.to_ascii_lowercase(), digits.to_string());
            } else if is_key(word)
                && word.chars().all(|c| c.is_ascii_alphabetic())
                && let Some(next) = words.get(i + 1).filter(|n| is_number(n))
            {
                fields.insert(word.to_ascii_lowercase(), (*next).to_string());
                i += 1;
            }
            i += 1;
        }
    }
    fields
}

fn is_key(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(fields: &BTreeMap<String, String>) -> Vec<String> {
        fields.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    #[test]
    fn configs_in_directory_names_of_every_common_shape() {
        for (path, expected) in [
            (
                "run-TP4-PP16/mem_rank0.json",
                vec!["pp=16", "rank=0", "tp=4"],
            ),
            ("tp_4/pp_16/memory.json", vec!["pp=16", "tp=4"]),
            ("tp=4,pp=16/memory.json", vec!["pp=16", "tp=4"]),
            (
                "TP-8/PP-2/slurm-4411.out",
                vec!["pp=2", "slurm=4411", "tp=8"],
            ),
            ("exp+tp2+pp8.log", vec!["pp=8", "tp=2"]),
            ("lr=3e-4,tp=2/out.log", vec!["lr=3e-4", "tp=2"]),
        ] {
            assert_eq!(pairs(&tokens(path)), expected, "{path}");
        }
    }

    #[test]
    fn the_deeper_value_of_a_key_wins() {
        assert_eq!(pairs(&tokens("tp4/run_tp8.json")), ["tp=8"]);
    }

    #[test]
    fn words_that_are_not_config_are_not_fields() {
        assert!(tokens("final/output-v2.1/log.txt").is_empty());
        assert!(tokens("mixed/a1b2/c.txt").is_empty());
        assert!(tokens("=4,tp=/x").is_empty());
    }

    #[test]
    fn a_pattern_matches_the_longest_trailing_part_first() {
        let pattern =
            Pattern::try_from(r"run-TP(?P<tp>\d+)-PP(?P<pp>\d+)/mem_rank0\.json".to_string())
                .unwrap();
        let f = fields(Some(&pattern), "sweep/run-TP4-PP16/mem_rank0.json").unwrap();
        assert_eq!(pairs(&f), ["pp=16", "tp=4"]);
        assert!(fields(Some(&pattern), "sweep/run-TP4-PP16/mem_rank1.json").is_none());
        // A name-only pattern still reads a file in a subdirectory.
        let name = Pattern::try_from(r"tp(?P<tp>\d+)\.json".to_string()).unwrap();
        assert_eq!(
            pairs(&fields(Some(&name), "a/b/tp2.json").unwrap()),
            ["tp=2"]
        );
    }

    #[test]
    fn tracer_names_keep_their_own_fields() {
        let f = fields(
            None,
            "memory_trace_rank0_wd8192_tp2_pp64_dp64_exp1_expNumNone_l96_mbs1_nmbs384_gbs24576_ts60530.json",
        )
        .unwrap();
        assert_eq!(
            (&f["layers"][..], &f["ts"][..], &f["tp"][..]),
            ("96", "60530", "2")
        );
        assert!(!f.contains_key("l"));
    }
}
