//! `--set KEY.PATH=VALUE` flags, and YAML merge keys (`<<`), which neither
//! a flag nor a spec may use.

use std::str::FromStr;

use serde_yaml::Value;

use super::error::message_of;
use super::locate::Key;
use super::{MAX_ALIASES, aliases};

/// serde_yaml does not apply YAML 1.1 merge keys; `<<` would be an unknown
/// key (or, in a mapping of free keys, silently data).
pub(super) const MERGE_KEY: &str = "YAML merge keys (`<<`) are not supported";
pub(super) const MERGE_KEY_HINT: &str = "to share keys between specs, put them in a base and write `extends: base.yaml` (mappings merge key by key); within one spec, write the keys out";

/// The key path of the first `<<` key, if any.
pub(super) fn merge_key<'a>(value: &'a Value, keys: &mut Vec<Key<'a>>) -> Option<Vec<Key<'a>>> {
    match value {
        Value::Mapping(map) => {
            for (k, v) in map {
                let Some(name) = k.as_str() else { continue };
                keys.push(Key::Field(name));
                if name == "<<" {
                    return Some(keys.clone());
                }
                if let Some(found) = merge_key(v, keys) {
                    return Some(found);
                }
                keys.pop();
            }
            None
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                keys.push(Key::Index(i));
                if let Some(found) = merge_key(v, keys) {
                    return Some(found);
                }
                keys.pop();
            }
            None
        }
        Value::Tagged(tagged) => merge_key(&tagged.value, keys),
        _ => None,
    }
}

/// A `--set KEY.PATH=VALUE` flag: one more layer over the spec and its
/// bases. The value is YAML, as it would be in the spec.
#[derive(Debug, Clone)]
pub struct Set {
    pub(super) flag: String,
    pub(super) value: Value,
}

impl FromStr for Set {
    type Err = String;

    fn from_str(flag: &str) -> Result<Set, String> {
        let Some((path, text)) = flag.split_once('=') else {
            return Err("expected KEY.PATH=VALUE, e.g. `output.dpi=600`".into());
        };
        let keys: Vec<&str> = path.split('.').collect();
        if keys.iter().any(|k| k.trim().is_empty()) {
            return Err(format!(
                "`{path}` is not a key path: write keys joined by dots, e.g. `style.gap`"
            ));
        }
        if keys[0] == "extends" {
            return Err("`extends` can only be written in a spec file".into());
        }
        if text.trim_start().starts_with('#') {
            return Err(format!(
                "`#` starts a YAML comment, so the value is empty; quote it: '{path}=\"{}\"'",
                text.trim()
            ));
        }
        if aliases(text).nth(MAX_ALIASES).is_some() {
            return Err(format!("more than {MAX_ALIASES} YAML aliases (`*name`)"));
        }
        let value = serde_yaml::from_str::<Value>(text)
            .map_err(|e| format!("the value is not valid YAML: {}", message_of(&e)))?;
        if merge_key(&value, &mut vec![]).is_some() {
            return Err(format!("{MERGE_KEY}: write the keys out"));
        }
        let value = keys.iter().rev().fold(value, |value, key| {
            Value::Mapping([(Value::from(*key), value)].into_iter().collect())
        });
        Ok(Set {
            flag: flag.into(),
            value,
        })
    }
}
