//! Capture: what serde-pickle yields, kept only along the schema, so a snapshot's frames and
//! unknown keys cost no memory.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::MAX_KEPT_TEXT;

/// Which parts of a value to keep.
#[derive(Clone, Copy)]
pub(super) enum Schema {
    Scalar,
    List(&'static Schema),
    Dict(&'static [(&'static str, Schema)]),
}

use Schema::Scalar as S;
pub(super) const ENTRY: Schema = Schema::Dict(&[("action", S), ("size", S), ("device_free", S)]);
pub(super) const BLOCK: Schema = Schema::Dict(&[("requested_size", S), ("state", S)]);
pub(super) const SEGMENT: Schema = Schema::Dict(&[
    ("device", S),
    ("total_size", S),
    ("allocated_size", S),
    ("blocks", Schema::List(&BLOCK)),
]);
pub(super) const DOC: Schema = Schema::Dict(&[
    ("segments", Schema::List(&SEGMENT)),
    ("device_traces", Schema::List(&Schema::List(&ENTRY))),
]);

/// A kept value. Dict fields are indices into their schema's fields.
#[derive(Debug)]
pub(super) enum Raw {
    Int(i64),
    Float(f64),
    Str(Box<str>),
    Other(&'static str),
    /// Kept items, and the count of all items: more once the budget ran out.
    List(Vec<Raw>, usize),
    Dict(Vec<(usize, Raw)>),
}

/// Captures a value along a schema, keeping list items while the budget lasts.
pub(super) struct Capture<'b>(pub(super) Schema, pub(super) &'b Cell<u64>);

impl<'de> DeserializeSeed<'de> for Capture<'_> {
    type Value = Raw;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Raw, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Capture<'_> {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any pickle value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Raw, E> {
        Ok(Raw::Other("a bool"))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or(Raw::Other("an integer above 2^63"), Raw::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(match v.len() {
            ..=MAX_KEPT_TEXT => Raw::Str(v.into()),
            _ => Raw::Other("a long string"),
        })
    }

    fn visit_bytes<E>(self, _: &[u8]) -> Result<Raw, E> {
        Ok(Raw::Other("bytes"))
    }

    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Other("None"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let (Schema::List(schema), budget) = (self.0, self.1) else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(Raw::Other("a list"));
        };
        let (mut items, mut len) = (Vec::new(), 0);
        loop {
            let left = budget.get();
            budget.set(left.saturating_sub(1));
            let item = match left {
                0 => seq.next_element::<IgnoredAny>()?.map(|_| None),
                _ => seq.next_element_seed(Capture(*schema, budget))?.map(Some),
            };
            match item {
                Some(item) => (items.extend(item), len += 1),
                None => return Ok(Raw::List(items, len)),
            };
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let (Schema::Dict(fields), budget) = (self.0, self.1) else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Raw::Other("a dict"));
        };
        let mut kept = Vec::new();
        while let Some(key) = map.next_key_seed(Capture(S, budget))? {
            let field = match key {
                Raw::Str(key) => fields.iter().position(|(name, _)| **name == *key),
                _ => None,
            };
            match field.and_then(|i| Some((i, fields.get(i)?.1))) {
                Some((i, schema)) => kept.push((i, map.next_value_seed(Capture(schema, budget))?)),
                None => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        Ok(Raw::Dict(kept))
    }
}
