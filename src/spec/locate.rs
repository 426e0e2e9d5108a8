//! Where things are in the spec's YAML source: serde_yaml keeps no spans
//! after deserialising, so errors found later are located by key path here.

use std::ops::Range;

/// One step of a key path, for [`locate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key<'a> {
    Field(&'a str),
    Index(usize),
}

/// 1-based line and column (in chars) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `thresholds[0].above` as keys; `None` unless it looks like a key path.
pub(super) fn parse_key_path(path: &str) -> Option<Vec<Key<'_>>> {
    if path.is_empty()
        || !path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.[]".contains(c))
    {
        return None;
    }
    let mut keys = Vec::new();
    for part in path.split('.') {
        let (name, rest) = part.split_once('[').unwrap_or((part, ""));
        if !name.is_empty() {
            keys.push(Key::Field(name));
        }
        for index in rest.split('[') {
            if let Some(n) = index.strip_suffix(']') {
                keys.push(Key::Index(n.parse().ok()?));
            }
        }
    }
    Some(keys)
}

/// For "unknown field `titel`, expected one of `title`, ...": did you mean.
/// For an integer beyond 64 bits, which serde_yaml cannot hold: quote it.
pub(super) fn suggest_key(message: &str) -> Option<String> {
    if message.contains("` as u128,") || message.contains("` as i128,") {
        return Some(
            "numbers in a spec are at most 64 bits; quote a larger one (`'123456789012345678901234'`) to keep its digits as text".into(),
        );
    }
    let rest = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|head| message.split(head).nth(1))?;
    let (unknown, expected) = rest.split_once('`')?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    Some(match closest(unknown, &candidates) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("valid values here: {}", candidates.join(", ")),
    })
}

/// The candidate a typo most likely meant, if any is close enough.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let (distance, best) = candidates
        .iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&word.to_lowercase(), &c.to_lowercase()),
                *c,
            )
        })
        .min()?;
    (distance <= 1.max(word.chars().count() / 3)).then_some(best)
}

/// The key path, below `keys`, of the scalar an error of our own value
/// parsers quotes: serde_yaml places such an error (a bad colour, regex, a
/// null where a value is needed) at the enclosing mapping, and the message
/// quotes the value (null as `~`). A scalar that is the quoted text wins
/// over one that only contains it, so `{traces: "a(", filename: "("}`
/// points at `filename`; the comparison is with the parsed value, so a
/// double-quoted `"\\d"` is found as the `\d` the message quotes.
///
/// Several direct children with that text (`{text: "#x", fill: "#x"}`) are
/// told apart by `culprit(name)`: whether the error goes when that child
/// is removed.
pub(super) fn find_quoted<'a>(
    value: &'a serde_yaml::Value,
    keys: &mut Vec<Key<'a>>,
    quoted: &str,
    culprit: &dyn Fn(&str) -> bool,
) -> bool {
    let text = |v: &serde_yaml::Value| match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Null => Some("~".into()),
        scalar => serde_yaml::to_string(scalar)
            .ok()
            .map(|t| t.trim_end().to_string()),
    };
    let is = |v: &serde_yaml::Value| text(v).is_some_and(|t| t == quoted);
    // serde reports the value of the mapping it was reading: a direct
    // child first, then one deeper (an item of a list of colours).
    if let serde_yaml::Value::Mapping(map) = value {
        let direct: Vec<&str> = map
            .iter()
            .filter(|(_, v)| !v.is_mapping() && !v.is_sequence() && is(v))
            .filter_map(|(k, _)| k.as_str())
            .collect();
        let chosen = match direct.as_slice() {
            [] => None,
            [one] => Some(*one),
            many => many
                .iter()
                .copied()
                .find(|name| culprit(name))
                .or(Some(many[0])),
        };
        if let Some(name) = chosen {
            keys.push(Key::Field(name));
            return true;
        }
    }
    find_scalar(value, keys, &is)
        || find_scalar(value, keys, &|v| {
            text(v).is_some_and(|t| t.contains(quoted))
        })
}

fn find_scalar<'a>(
    value: &'a serde_yaml::Value,
    keys: &mut Vec<Key<'a>>,
    is: &dyn Fn(&serde_yaml::Value) -> bool,
) -> bool {
    use serde_yaml::Value;
    let children: Vec<(Key<'a>, &'a Value)> = match value {
        Value::Mapping(map) => map
            .iter()
            .filter_map(|(k, v)| Some((Key::Field(k.as_str()?), v)))
            .collect(),
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Key::Index(i), v))
            .collect(),
        Value::Tagged(tagged) => return find_scalar(&tagged.value, keys, is),
        scalar => return is(scalar),
    };
    for (key, child) in children {
        keys.push(key);
        if find_scalar(child, keys, is) {
            return true;
        }
        keys.pop();
    }
    false
}

/// Widens a serde_yaml position to the token there, for a readable label.
/// At the end of the file (an unclosed bracket, say) it points at the last
/// character instead of an empty line.
pub(super) fn token_span(text: &str, index: usize) -> Range<usize> {
    let mut start = floor_char_boundary(text, index.min(text.len()));
    if text[start..].trim().is_empty() {
        start = floor_char_boundary(text, text.trim_end().len().saturating_sub(1));
    }
    let end = text[start..]
        .find(['\n', ',', '}', ']'])
        .map_or(text.len(), |i| start + i);
    let end = start + text[start..end].trim_end().len();
    start..end.max((start + 1).min(text.len()))
}

/// Finds the value of a key path in block-style YAML source, for errors
/// found after deserialising. Falls back to the deepest key found.
pub(super) fn locate(text: &str, keys: &[Key]) -> Option<Range<usize>> {
    find(text, keys).map(|(value, _)| value)
}

/// The name of the last key of `keys`, for an unknown key: the user wrote
/// the name, and its value may be a whole block.
pub(super) fn locate_key(text: &str, keys: &[Key]) -> Option<Range<usize>> {
    find(text, keys).and_then(|(_, key)| key)
}

/// The deepest value found along `keys`, and the span of its key's name
/// when that key is the last of `keys`.
fn find(text: &str, keys: &[Key]) -> Option<(Range<usize>, Option<Range<usize>>)> {
    let mut found: Option<Range<usize>> = None;
    let mut key_span = None;
    // Search window: the byte range and the indentation of its content.
    let mut window = 0..text.len();
    let mut min_indent = 0usize;
    for key in keys {
        let mut hit = None;
        key_span = None;
        let mut offset = window.start;
        for line in text[window.clone()].split_inclusive('\n') {
            let line_start = offset;
            offset += line.len();
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if trimmed.trim().is_empty() || trimmed.starts_with('#') {
                continue;
            }
            match key {
                Key::Field(name) => {
                    let body = trimmed.trim_start_matches("- ");
                    let body_indent = indent + (trimmed.len() - body.len());
                    if body_indent >= min_indent
                        && let Some(rest) = body.strip_prefix(name)
                        && rest.trim_start().starts_with(':')
                    {
                        let key_start = line_start + body_indent;
                        let colon = key_start + name.len() + (rest.len() - rest.trim_start().len());
                        let value = text[colon + 1..line_start + line.len()].trim();
                        let value_start = if value.is_empty() {
                            key_start
                        } else {
                            colon + 1 + text[colon + 1..].find(value).unwrap_or(0)
                        };
                        let span_end = if value.is_empty() {
                            colon + 1
                        } else {
                            value_start + value.len()
                        };
                        hit = Some((
                            value_start..span_end,
                            line_start + line.len(),
                            body_indent + 1,
                        ));
                        key_span = Some(key_start..key_start + name.len());
                        break;
                    }
                }
                Key::Index(n) => {
                    // Count `- ` items at the first list indentation seen.
                    if trimmed.starts_with("- ") || trimmed.trim_end() == "-" {
                        let items = text[window.start..line_start + line.len()]
                            .lines()
                            .filter(|l| {
                                let t = l.trim_start();
                                l.len() - t.len() == indent && t.starts_with('-')
                            })
                            .count();
                        if items == n + 1 {
                            let start = line_start + indent;
                            hit = Some((
                                start..line_start + line.trim_end().len(),
                                line_start + line.len(),
                                indent + 1,
                            ));
                            break;
                        }
                    }
                }
            }
        }
        if hit.is_none() {
            // Flow style: `output: {dpi: 0}` or `formats: [pdf, pdf]`.
            let span = match key {
                Key::Field(name) => flow_field(text, window.clone(), name).map(|(key, value)| {
                    key_span = Some(key);
                    value
                }),
                Key::Index(n) => flow_item(text, window.clone(), *n),
            };
            if let Some(span) = span {
                found = Some(span.clone());
                window = span;
                min_indent = 0;
                continue;
            }
        }
        let (span, after_line, indent) = hit?;
        found = Some(span.clone());
        // A nested key is on the following, more indented lines, or later on
        // the same line for flow style; keep searching from the key's line.
        // Indentation counts from the start of the line the key is on.
        let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
        window = line_start..block_end(text, after_line, indent);
        min_indent = indent;
    }
    found.map(|value| (value, key_span))
}

/// The key and value of `name:` in a flow mapping (`{a: 1, name: value}`)
/// within `window`.
fn flow_field(
    text: &str,
    window: Range<usize>,
    name: &str,
) -> Option<(Range<usize>, Range<usize>)> {
    let region = &text[window.clone()];
    region.match_indices(name).find_map(|(i, _)| {
        let opens = region[..i].trim_end().ends_with(['{', ',']);
        let rest = &region[i + name.len()..];
        let after_colon = rest.trim_start().strip_prefix(':')?;
        if !opens || !after_colon.starts_with([' ', '\t', '\n']) && !after_colon.is_empty() {
            return None;
        }
        let value_at = region.len() - after_colon.trim_start().len();
        let end = value_at + flow_value_len(&region[value_at..]);
        let at = window.start + i;
        Some((
            at..at + name.len(),
            window.start + value_at..window.start + end,
        ))
    })
}

/// Item `n` of a flow sequence (`[a, b, c]`) that `window` holds.
fn flow_item(text: &str, window: Range<usize>, n: usize) -> Option<Range<usize>> {
    let region = &text[window.clone()];
    let open = region.find('[')?;
    let mut at = open + 1;
    for i in 0.. {
        let item = &region[at..];
        let start = at + (item.len() - item.trim_start().len());
        let len = flow_value_len(&region[start..]);
        if i == n {
            return (len > 0).then(|| window.start + start..window.start + start + len);
        }
        at = start + len;
        if !region[at..].starts_with(',') {
            return None;
        }
        at += 1;
    }
    None
}

/// Length of a flow value: up to the `,`, `}` or `]` that ends it, past
/// nested brackets and quotes, without trailing spaces.
fn flow_value_len(text: &str) -> usize {
    let mut depth = 0usize;
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') if depth > 0 => depth -= 1,
            (None, ',' | ']' | '}' | '\n') if depth == 0 => return text[..i].trim_end().len(),
            _ => {}
        }
    }
    text.trim_end().len()
}

/// End of the block that starts after `from`: the first non-blank line
/// indented less than `indent`.
fn block_end(text: &str, from: usize, indent: usize) -> usize {
    let mut offset = from;
    for line in text[from..].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if !trimmed.trim().is_empty()
            && !trimmed.starts_with('#')
            && line.len() - trimmed.len() < indent
        {
            return offset;
        }
        offset += line.len();
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn locate_handles_nesting_and_lists() {
        let src = "a:\n  b: 1\nc:\n  # b: no\n  b: 2\n  d:\n    - e: 3\n    - e: 4\n";
        let at = |keys: &[Key]| locate(src, keys).map(|r| &src[r]);
        assert_eq!(at(&[Key::Field("c"), Key::Field("b")]), Some("2"));
        assert_eq!(
            at(&[
                Key::Field("c"),
                Key::Field("d"),
                Key::Index(1),
                Key::Field("e")
            ]),
            Some("4")
        );
        assert_eq!(at(&[Key::Field("zz")]), None);
    }

    #[test]
    fn locate_reads_flow_style() {
        let src = "output: {path: out/fig, dpi: 0, formats: [pdf, 'p,df']}\nstyle:\n  gap: {x: [1, {y: 2}]}\n";
        let at = |keys: &[Key]| locate(src, keys).map(|r| &src[r]);
        assert_eq!(at(&[Key::Field("output"), Key::Field("dpi")]), Some("0"));
        assert_eq!(
            at(&[Key::Field("output"), Key::Field("formats"), Key::Index(1)]),
            Some("'p,df'")
        );
        assert_eq!(
            at(&[
                Key::Field("style"),
                Key::Field("gap"),
                Key::Field("x"),
                Key::Index(1),
                Key::Field("y")
            ]),
            Some("2")
        );
    }

    proptest! {
            #[test]
            fn locate_never_panics(text in "[a-z:\\- \\n#é]{0,200}", a in "[a-z]{1,3}", i in 0..4usize) {
                let _ = locate(&text, &[Key::Field(&a), Key::Index(i), Key::Field(&a)]);
            }
    }
}
