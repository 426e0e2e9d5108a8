//! Glob syntax that a shell user expects and the `glob` crate reads
//! otherwise: braces (`runs/{a,b}/*.json` looks for a directory named
//! `{a,b}`) and `[^…]` (the crate's negation is `[!…]`; it reads `^` as one
//! more member, so `[^0-9]` matches digits and `^`). Either would match
//! nothing, or the wrong files, without a word. Every glob key is checked
//! here when the spec is checked, and the error says what to write; the
//! walk itself (`input/walk.rs`) is left as it is.

/// Most globs a hint spells out for one brace pattern.
const MAX_SHOWN: usize = 8;

/// A problem with one glob: (message, hint). `key` names the key in the
/// hint (`traces`, `success`, `failure`).
pub(super) fn check(glob: &str, key: &str) -> Result<(), (String, String)> {
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '[' => {
                if chars.get(i + 1) == Some(&'^') {
                    let fixed = negations(glob);
                    return Err((
                        format!(
                            "glob `{glob}` uses `[^…]`, which memheat's globs read as `^` or any of the other characters"
                        ),
                        format!(
                            "negate a set with `!`, as in the shell's globs: `{fixed}`; for `^` as one of the characters, write it after the first: `{}`",
                            caret_later(glob)
                        ),
                    ));
                }
                i = bracket_end(&chars, i).unwrap_or(chars.len());
            }
            '{' => {
                if let Some(end) = brace_end(&chars, i)
                    && is_alternation(&chars[i + 1..end])
                {
                    let all = expand(glob);
                    let shown: Vec<String> = all.iter().take(MAX_SHOWN).cloned().collect();
                    let more = if all.len() > MAX_SHOWN { ", …" } else { "" };
                    return Err((
                        format!("glob `{glob}` uses braces, which memheat's globs do not expand"),
                        format!(
                            "list one glob per alternative: `{key}: [{}{more}]`; for a name with braces in it, write `[{{]` for `{{`: `{}`",
                            shown.join(", "),
                            literal_braces(glob)
                        ),
                    ));
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// The index just past the bracket expression opening at `start`, as the
/// glob crate reads it: a `]` right after `[` or `[!` is a member.
fn bracket_end(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if chars.get(i) == Some(&'!') {
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        i += 1;
    }
    while i < chars.len() {
        if chars[i] == ']' {
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// The index of the `}` closing the brace at `start`, skipping nested
/// braces and bracket expressions.
fn brace_end(chars: &[char], start: usize) -> Option<usize> {
    let mut depth = 0;
    let mut i = start;
    while i < chars.len() {
        match chars[i] {
            '[' => {
                i = bracket_end(chars, i)?;
                continue;
            }
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Whether a brace's contents are a shell alternation: a comma at its own
/// level (`a,b`), or a sequence (`1..4`).
fn is_alternation(inner: &[char]) -> bool {
    !split_top(inner).is_empty() || sequence(&inner.iter().collect::<String>()).is_some()
}

/// The parts of `inner` between commas at its own level; empty if none.
fn split_top(inner: &[char]) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0;
    for &c in inner {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        parts.last_mut().expect("starts with one part").push(c);
    }
    if parts.len() > 1 { parts } else { vec![] }
}

/// `1..4` or `a..c`, as the shell expands them; of a long sequence only
/// the first few, which is all a hint shows.
fn sequence(inner: &str) -> Option<Vec<String>> {
    let (from, to) = inner.split_once("..")?;
    if let (Ok(a), Ok(b)) = (from.parse::<i64>(), to.parse::<i64>()) {
        let step: i128 = if a <= b { 1 } else { -1 };
        let count = a.abs_diff(b).min(MAX_SHOWN as u64) as i128;
        return Some(
            (0..=count)
                .map(|i| (i128::from(a) + step * i).to_string())
                .collect(),
        );
    }
    let (a, b) = (single(from)?, single(to)?);
    let all: Vec<String> = if a <= b {
        (a..=b).map(String::from).collect()
    } else {
        (b..=a).rev().map(String::from).collect()
    };
    Some(all)
}

fn single(text: &str) -> Option<char> {
    let mut chars = text.chars();
    let c = chars.next().filter(char::is_ascii_alphabetic)?;
    chars.next().is_none().then_some(c)
}

/// The globs a shell would make of `glob`'s braces, left to right.
fn expand(glob: &str) -> Vec<String> {
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '[' => {
                i = bracket_end(&chars, i).unwrap_or(chars.len());
                continue;
            }
            '{' => {
                if let Some(end) = brace_end(&chars, i) {
                    let inner = &chars[i + 1..end];
                    let mut parts = split_top(inner);
                    if parts.is_empty() {
                        parts = sequence(&inner.iter().collect::<String>()).unwrap_or_default();
                    }
                    if !parts.is_empty() {
                        let head: String = chars[..i].iter().collect();
                        let tail: String = chars[end + 1..].iter().collect();
                        return parts
                            .iter()
                            .flat_map(|p| expand(&format!("{head}{p}{tail}")))
                            .take(MAX_SHOWN + 1)
                            .collect();
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    vec![glob.to_string()]
}

/// `glob` rebuilt piece by piece: each bracket set (to its `]`, or the end)
/// through `set`, each other character through `other`.
fn rewrite(glob: &str, set: impl Fn(&str) -> String, other: impl Fn(char) -> String) -> String {
    let chars: Vec<char> = glob.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '[' {
            let end = bracket_end(&chars, i).unwrap_or(chars.len());
            out.push_str(&set(&chars[i..end].iter().collect::<String>()));
            i = end;
        } else {
            out.push_str(&other(chars[i]));
            i += 1;
        }
    }
    out
}

/// `glob` with each `{` outside a set written `[{]`, which the glob crate
/// matches as the character itself.
fn literal_braces(glob: &str) -> String {
    rewrite(glob, str::to_string, |c| match c {
        '{' => "[{]".to_string(),
        c => c.to_string(),
    })
}

/// `glob` with each set that opens with `^` written with the `^` moved to
/// the end (`[^0-9]` as `[0-9^]`), a set of those characters and `^`.
fn caret_later(glob: &str) -> String {
    rewrite(
        glob,
        |set| match set.strip_prefix("[^").and_then(|r| r.strip_suffix(']')) {
            Some(members) if !members.is_empty() => format!("[{members}^]"),
            _ => set.to_string(),
        },
        |c| c.to_string(),
    )
}

/// `glob` with each `[^` that opens a set written `[!`.
fn negations(glob: &str) -> String {
    rewrite(
        glob,
        |set| match set.strip_prefix("[^") {
            Some(rest) => format!("[!{rest}"),
            None => set.to_string(),
        },
        |c| c.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(glob: &str) -> (String, String) {
        check(glob, "traces").unwrap_err()
    }

    #[test]
    fn braces_are_errors_that_spell_out_the_list() {
        assert_eq!(
            error("runs/{a,b}/*.json"),
            (
                "glob `runs/{a,b}/*.json` uses braces, which memheat's globs do not expand".into(),
                "list one glob per alternative: `traces: [runs/a/*.json, runs/b/*.json]`; for a name with braces in it, write `[{]` for `{`: `runs/[{]a,b}/*.json`".into()
            )
        );
        assert!(error("r/{x,y{1,2}}/t.json").1.starts_with(
            "list one glob per alternative: `traces: [r/x/t.json, r/y1/t.json, r/y2/t.json]`;"
        ));
        assert!(error("tp{1..100}/*.json").1.starts_with(
            "list one glob per alternative: `traces: [tp1/*.json, tp2/*.json, tp3/*.json, tp4/*.json, tp5/*.json, tp6/*.json, tp7/*.json, tp8/*.json, …]`;"
        ));
        assert!(
            error("x{-9223372036854775808..9223372036854775807}")
                .1
                .starts_with("list one glob per alternative: `traces: [x-9223372036854775808, ")
        );
        assert!(error("tp{3..1}/*.json").1.starts_with(
            "list one glob per alternative: `traces: [tp3/*.json, tp2/*.json, tp1/*.json]`;"
        ));
        assert!(error("tp{1..3}/*.json").1.starts_with(
            "list one glob per alternative: `traces: [tp1/*.json, tp2/*.json, tp3/*.json]`;"
        ));
        assert!(
            error("{a,b}/{c,d,e}/{f,g}.json")
                .1
                .starts_with("list one glob per alternative: `traces: [a/c/f.json, a/c/g.json, a/d/f.json, a/d/g.json, a/e/f.json, a/e/g.json, b/c/f.json, b/c/g.json, …]`;")
        );
    }

    #[test]
    fn negation_with_a_caret_is_an_error_that_says_bang() {
        assert_eq!(
            error("runs/[^0-9]*.json"),
            (
                "glob `runs/[^0-9]*.json` uses `[^…]`, which memheat's globs read as `^` or any of the other characters".into(),
                "negate a set with `!`, as in the shell's globs: `runs/[!0-9]*.json`; for `^` as one of the characters, write it after the first: `runs/[0-9^]*.json`".into()
            )
        );
        assert_eq!(
            error("a/[^x]/[]^]/[^]]").1,
            "negate a set with `!`, as in the shell's globs: `a/[!x]/[]^]/[!]]`; for `^` as one of the characters, write it after the first: `a/[x^]/[]^]/[^]]`"
        );
    }

    #[test]
    fn what_the_shell_would_not_expand_either_is_fine() {
        for fine in [
            "runs/*.json",
            "runs/{x}/*.json",
            "runs/{}/*.json",
            "runs/[{]a,b}.json",
            "runs/[!^]*.json",
            "runs/[]^]*.json",
            "runs/a^b/*.json",
            "runs/{a/*.json",
            "tp=4,pp=8/*.json",
            "x/{1..}/y",
        ] {
            assert_eq!(check(fine, "traces"), Ok(()), "{fine}");
        }
    }
}
