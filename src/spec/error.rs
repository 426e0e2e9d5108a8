//! Spec errors and how they find their place in the YAML.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use std::sync::LazyLock;

use regex::Regex;

use super::locate::{Key, find_quoted, line_col, locate, parse_key_path, suggest_key, token_span};

/// A spec error, with what is needed to point at the offending text.
#[derive(Debug)]
pub struct SpecError {
    pub place: Place,
    pub message: String,
    pub hint: Option<String>,
    /// Further problems found in the same check, reported in one run.
    pub also: Vec<SpecError>,
}

/// Where the offending value was written.
#[derive(Debug)]
pub enum Place {
    /// The spec or one of its bases.
    File {
        path: PathBuf,
        text: String,
        /// Byte range in `text`, when the place is known.
        span: Option<Range<usize>>,
    },
    /// A `--set` flag, as it was given.
    Flag(String),
}

impl Place {
    /// 1-based line and column, in a file where the place is known.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            Place::File {
                text,
                span: Some(span),
                ..
            } => Some(line_col(text, span.start)),
            _ => None,
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::File { path, .. } => {
                write!(f, "{}", crate::paths::shown(path))?;
                if let Some((line, col)) = self.position() {
                    write!(f, ":{line}:{col}")?;
                }
                Ok(())
            }
            Place::Flag(flag) => write!(f, "--set {flag}"),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)?;
        if !self.also.is_empty() {
            write!(f, " (and {} more)", self.also.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecError {}

/// A problem with the spec found after parsing, by any stage: the key path
/// it is about, what is wrong and what to do. [`SpecSource::error`] turns it
/// into a located [`SpecError`].
#[derive(Debug, Clone, PartialEq)]
pub struct KeyError {
    pub keys: Vec<Key<'static>>,
    pub message: String,
    pub hint: Option<String>,
}

impl KeyError {
    pub fn new(
        keys: &[Key<'static>],
        message: impl Into<String>,
        hint: impl Into<Option<String>>,
    ) -> Self {
        KeyError {
            keys: keys.to_vec(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// The spec file as read, kept for locating errors.
#[derive(Debug, Clone)]
pub(crate) struct SpecSource {
    pub path: PathBuf,
    pub text: String,
}

impl SpecSource {
    pub(crate) fn error(&self, e: KeyError) -> SpecError {
        self.error_at(locate(&self.text, &e.keys), e.message, e.hint)
    }

    pub(super) fn error_at(
        &self,
        span: Option<Range<usize>>,
        message: String,
        hint: Option<String>,
    ) -> SpecError {
        SpecError {
            place: Place::File {
                path: self.path.clone(),
                text: self.text.clone(),
                span,
            },
            message,
            hint,
            also: vec![],
        }
    }

    /// The directory relative paths in the spec resolve against; empty for
    /// the working directory, so that messages say `out/fig.pdf`, not `./out/fig.pdf`.
    pub(crate) fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }
}

/// serde_yaml's position for a value rejected by our own parsers (a bad
/// colour, length or regex) is the start of the enclosing mapping, and its
/// message names only that mapping (`style: invalid colour `#12345``). Those
/// messages quote the bad value, so look for it after the mapping's key.
pub(super) fn yaml_error(source: &SpecSource, e: &serde_yaml::Error) -> SpecError {
    yaml_error_with(source, e, &|_| None)
}

/// [`yaml_error`] for an error deserialising a `T`, which can tell which of
/// two keys with the same text holds the bad value: the one without which
/// `T` no longer fails so.
pub(super) fn yaml_error_typed<T: serde::de::DeserializeOwned>(
    source: &SpecSource,
    e: &serde_yaml::Error,
) -> SpecError {
    yaml_error_with(source, e, &|tree| {
        serde_yaml::from_value::<T>(tree)
            .err()
            .map(|e| message_of(&e))
    })
}

/// `recheck` deserialises a changed tree and gives its error's message.
fn yaml_error_with(
    source: &SpecSource,
    e: &serde_yaml::Error,
    recheck: &dyn Fn(serde_yaml::Value) -> Option<String>,
) -> SpecError {
    let message = message_of(e);
    let hint = suggest_key(&message);
    let by_value = || {
        let (path, rest) = message.split_once(": ")?;
        let quoted = rest.split('`').nth(1).filter(|q| !q.is_empty())?;
        let keys = parse_key_path(path)?;
        // The scalar under the mapping whose parsed value is the quoted
        // one: searching the text for it found a neighbour that contains
        // it, or (escaped in a double-quoted string) nothing at all.
        let tree: serde_yaml::Value = serde_yaml::from_str(&source.text).ok()?;
        let below = keys.iter().try_fold(&tree, |v, key| match key {
            Key::Field(name) => v.get(name),
            Key::Index(i) => v.get(i),
        })?;
        let without = |name: &str| {
            let mut changed = tree.clone();
            let parent = keys.iter().try_fold(&mut changed, |v, key| match key {
                Key::Field(name) => v.get_mut(name),
                Key::Index(i) => v.get_mut(i),
            });
            if let Some(serde_yaml::Value::Mapping(map)) = parent {
                map.remove(name);
            }
            // from_value names no key path: compare what follows it.
            let unplaced = |m: &str| match m.split_once(": ") {
                Some((path, rest)) if parse_key_path(path).is_some() => rest.to_string(),
                _ => m.to_string(),
            };
            recheck(changed).is_none_or(|m| unplaced(&m) != unplaced(&message))
        };
        let mut found = keys.clone();
        let span = if find_quoted(below, &mut found, quoted, &without) {
            locate(&source.text, &found)?
        } else {
            let parent = locate(&source.text, &keys)?;
            let at = parent.start + source.text[parent.start..].find(quoted)?;
            return Some(at..at + quoted.len());
        };
        Some(match source.text[span.clone()].find(quoted) {
            Some(at) => span.start + at..span.start + at + quoted.len(),
            None => span,
        })
    };
    // serde_yaml points at the mapping; the user wants the second key.
    let duplicate = || {
        let key = message
            .split("duplicate field `")
            .nth(1)?
            .split('`')
            .next()?;
        let from = e.location()?.index();
        let text = source.text.get(from..)?;
        let mut keys = text.match_indices(key).filter(|(i, _)| {
            let before = text[..*i].trim_end_matches([' ', '\t']);
            let after = text[i + key.len()..].trim_start_matches([' ', '\t']);
            (before.is_empty() || before.ends_with(['\n', '{', ','])) && after.starts_with(':')
        });
        let (first, _) = keys.next()?;
        let column = |i: usize| line_col(&source.text, from + i).1;
        let (second, _) = keys.find(|(i, _)| column(*i) == column(first))?;
        Some(from + second..from + second + key.len())
    };
    let span = duplicate()
        .or_else(by_value)
        .or_else(|| e.location().map(|l| token_span(&source.text, l.index())));
    source.error_at(span, message, hint)
}

/// serde_yaml's message without its position, which is given apart. A
/// mapping read on its own says "duplicate entry with key "x"" where the
/// spec's structure says "duplicate field `x`"; the latter is what the
/// message means.
pub(super) fn message_of(e: &serde_yaml::Error) -> String {
    static POSITION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r" at line \d+ column \d+").expect("valid regex"));
    static DUPLICATE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"duplicate entry with key "([^"`]*)""#).expect("valid regex")
    });
    let full = e.to_string();
    let message = POSITION.replace_all(&full, "");
    DUPLICATE
        .replace_all(&message, "duplicate field `$1`")
        .into_owned()
}
