//! JSONL tables: one JSON object per line, one run each; blank lines are ignored.
//!
//! - nested objects are flattened with `.` as W&B names them (`config.tp`), down to
//!   [`MAX_FLATTEN_DEPTH`] keys; deeper objects and arrays become the text of their JSON;
//! - the columns are the keys in first-seen order, and a row has only its own line's keys; a key
//!   repeated within a line keeps its last value, as JSON parsers do;
//! - a line that is not a JSON object (a stray print, a line cut short) is skipped and reported
//!   with serde_json's message, so that one bad line does not hide the sweep;
//! - an empty file is an empty table: there is no header to miss.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{Fields, Limits, Lines, Row, SkipReason, Table, TableError, Value, encoding_mark};

/// Most keys in a flattened JSON name: `config.model.parallel.tp` is four.
pub(crate) const MAX_FLATTEN_DEPTH: usize = 4;

/// Reads a JSONL table; see the module docs.
pub(crate) fn read_jsonl(reader: impl Read, limits: &Limits) -> Result<Table, TableError> {
    let mut lines = Lines::new(reader, limits.max_row_bytes);
    let mut table = Table::default();
    let mut positions: HashMap<Arc<str>, usize> = HashMap::new();
    while let Some(line) = lines.next_line()? {
        let mut bytes = line.bytes;
        if line.number == 1 {
            bytes = bytes.get(encoding_mark(bytes)?..).unwrap_or_default();
        }
        let bytes = bytes.trim_ascii();
        if bytes.is_empty() {
            continue;
        }
        let members = match parse_object(bytes) {
            Ok(members) => members,
            Err(reason) => {
                table.skip(line.number, reason);
                continue;
            }
        };
        table.check_room(line.number, limits)?;
        let mut flat = Vec::with_capacity(members.len());
        flatten(members, None, 1, &mut flat);
        let fields = json_fields(
            flat,
            line.number,
            &mut table.columns,
            &mut positions,
            limits,
        )?;
        table.rows.push(Row {
            line: line.number,
            fields,
        });
    }
    Ok(table)
}

fn parse_object(bytes: &[u8]) -> Result<Vec<(String, Json)>, SkipReason> {
    let mut parser = serde_json::Deserializer::from_slice(bytes);
    let json = Json::deserialize(&mut parser)
        .and_then(|json| parser.end().map(|()| json))
        .map_err(|e| SkipReason::InvalidJson {
            message: json_message(&e),
        })?;
    match json {
        Json::Object(members) => Ok(members),
        other => Err(SkipReason::NotAnObject {
            found: other.kind(),
        }),
    }
}

/// serde_json's message with its "at line 1 column N" (always line 1: the parser sees one line)
/// said as a column of the file's line.
fn json_message(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    match message.strip_suffix(&position) {
        Some(bare) => format!("{bare} (column {})", e.column()),
        None => message,
    }
}

/// Appends `members` as (dotted name, leaf) pairs.
fn flatten(
    members: Vec<(String, Json)>,
    prefix: Option<&str>,
    depth: usize,
    out: &mut Vec<(String, Json)>,
) {
    for (key, value) in members {
        let name = match prefix {
            Some(prefix) => format!("{prefix}.{key}"),
            None => key,
        };
        match value {
            Json::Object(inner) if depth < MAX_FLATTEN_DEPTH && !inner.is_empty() => {
                flatten(inner, Some(&name), depth + 1, out);
            }
            leaf => out.push((name, leaf)),
        }
    }
}

/// A line's cells in column order, adding new names to `columns`.
fn json_fields(
    flat: Vec<(String, Json)>,
    line: usize,
    columns: &mut Vec<Arc<str>>,
    positions: &mut HashMap<Arc<str>, usize>,
    limits: &Limits,
) -> Result<Fields, TableError> {
    let mut cells = Vec::with_capacity(flat.len());
    for (name, json) in flat {
        let value = json.into_value();
        if let Value::Text(text) = &value
            && text.len() > limits.max_field_bytes
        {
            return Err(TableError::FieldTooLong {
                line,
                column: format!("column `{name}`"),
                limit: limits.max_field_bytes,
            });
        }
        let position = match positions.get(name.as_str()) {
            Some(&position) => position,
            None if columns.len() >= limits.max_columns => {
                return Err(TableError::TooManyColumns {
                    line,
                    limit: limits.max_columns,
                });
            }
            None => {
                let name: Arc<str> = Arc::from(name);
                positions.insert(Arc::clone(&name), columns.len());
                columns.push(name);
                columns.len() - 1
            }
        };
        cells.push((position, value));
    }
    // Stable, so that of a repeated name the last value comes last, and wins.
    cells.sort_by_key(|&(position, _)| position);
    let mut fields: Fields = Vec::with_capacity(cells.len());
    let mut previous = None;
    for (position, value) in cells {
        match (fields.last_mut(), columns.get(position)) {
            (Some(last), _) if previous == Some(position) => last.1 = value,
            (_, Some(name)) => fields.push((Arc::clone(name), value)),
            (_, None) => {}
        }
        previous = Some(position);
    }
    Ok(fields)
}

/// A JSON value that keeps its members in file order (serde_json's map sorts them unless a
/// feature memheat does not enable is on).
enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    fn into_value(self) -> Value {
        match self {
            Json::Null => Value::Empty,
            Json::Bool(b) => Value::Text(b.to_string()),
            // serde_json refuses numbers out of f64's range, so this is finite.
            // An integer an f64 would change is kept as written, as in a CSV.
            Json::Number(n) => match n.as_i64().map(i128::from).or(n.as_u64().map(i128::from)) {
                Some(i) if (i as f64) as i128 != i => Value::Text(i.to_string()),
                _ => n.as_f64().map_or(Value::Empty, Value::Number),
            },
            Json::String(s) => Value::from_cell(&s),
            container => {
                let mut text = String::new();
                container.write(&mut text);
                Value::Text(text)
            }
        }
    }

    /// Compact JSON text, members in file order.
    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(&n.to_string()),
            Json::String(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
            Json::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (index, (key, value)) in members.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::from(key.as_str()).to_string());
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(n)
            .map(Json::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json, E> {
        Ok(Json::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Json, E> {
        Ok(Json::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry()? {
            members.push(member);
        }
        Ok(Json::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::super::MAX_ROW_BYTES;
    use super::super::test_support::*;
    use super::*;

    fn jsonl(text: &str) -> Result<Table, TableError> {
        read_jsonl(text.as_bytes(), &Limits::default())
    }

    #[test]
    fn jsonl_objects_are_flattened_in_first_seen_order() {
        let text = concat!(
            "{\"name\": \"a\", \"config\": {\"tp\": 2, \"pp\": \"4\"}, \"ok\": true}\n",
            "\n",
            "{\"config\": {\"pp\": 1, \"zero\": {\"x\": null}}, \"name\": \"b\", \"new\": 1.5}\r\n",
        );
        let table = jsonl(text).unwrap();
        assert_eq!(
            names(&table),
            [
                "name",
                "config.tp",
                "config.pp",
                "ok",
                "config.zero.x",
                "new"
            ]
        );
        assert_eq!(
            rows(&table),
            [
                (
                    1,
                    vec![
                        ("name", t("a")),
                        ("config.tp", n(2.0)),
                        ("config.pp", n(4.0)),
                        ("ok", t("true")),
                    ]
                ),
                (
                    3,
                    vec![
                        ("name", t("b")),
                        ("config.pp", n(1.0)),
                        ("config.zero.x", Value::Empty),
                        ("new", n(1.5)),
                    ]
                ),
            ]
        );
    }

    #[test]
    fn jsonl_deep_objects_and_arrays_are_text() {
        let text = r#"{"a": {"b": {"c": {"d": {"e": 1, "a": [2]}}}}, "list": [1, "x", {"z": 1, "y": null}], "empty": {}, "s": " nan ", "big": 18446744073709551615}"#;
        let table = jsonl(text).unwrap();
        assert_eq!(
            rows(&table),
            [(
                1,
                vec![
                    ("a.b.c.d", t(r#"{"e":1,"a":[2]}"#)),
                    ("list", t(r#"[1,"x",{"z":1,"y":null}]"#)),
                    ("empty", t("{}")),
                    ("s", t("nan")),
                    // An f64 would print it as 18446744073709552000.
                    ("big", t("18446744073709551615")),
                ]
            )]
        );
    }

    #[test]
    fn jsonl_repeated_names_keep_the_last_value() {
        let table = jsonl(r#"{"a": 1, "b": 2, "a": 3, "c": {"d": 4}, "c.d": 5}"#).unwrap();
        assert_eq!(names(&table), ["a", "b", "c.d"]);
        assert_eq!(
            rows(&table),
            [(1, vec![("a", n(3.0)), ("b", n(2.0)), ("c.d", n(5.0))])]
        );
    }

    #[test]
    fn jsonl_lines_that_are_not_objects_are_skipped_with_the_reason() {
        let text = "\u{feff}{\"a\": 1}\n[1, 2]\n\"x\"\n42\nnull\ntrue\n{\"a\": }\n{\"a\": 1} x\n{\"a\": 1e400}\n{\"a\": \"\0\"}\n\x01\n{\"a\": 2}\n";
        let table = jsonl(text).unwrap();
        assert_eq!(
            rows(&table),
            [(1, vec![("a", n(1.0))]), (12, vec![("a", n(2.0))])]
        );
        assert_eq!(
            skipped(&table),
            [
                "line 2 is an array, not a JSON object",
                "line 3 is a string, not a JSON object",
                "line 4 is a number, not a JSON object",
                "line 5 is null, not a JSON object",
                "line 6 is a boolean, not a JSON object",
                "line 7 is not valid JSON: expected value (column 7)",
                "line 8 is not valid JSON: trailing characters (column 10)",
                "line 9 is not valid JSON: number out of range (column 11)",
                "line 10 is not valid JSON: control character (\\u0000-\\u001F) found while \
                 parsing a string (column 8)",
                "line 11 is not valid JSON: expected value (column 1)",
            ]
        );
    }

    #[test]
    fn jsonl_hostile_input() {
        assert_eq!(jsonl("").unwrap(), Table::default());
        assert_eq!(jsonl("\n \n\r\n").unwrap(), Table::default());
        let e = read_jsonl(&b"\xFE\xFF\0{"[..], &Limits::default()).unwrap_err();
        assert!(matches!(e, TableError::Utf16));
        let table = read_jsonl(
            &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xFF"[..],
            &Limits::default(),
        )
        .unwrap();
        assert!(table.rows.is_empty());
        assert_eq!(table.skipped.len(), 3);
        assert_eq!(
            table.skipped[0].to_string(),
            "line 1 is not valid JSON: expected value (column 1)"
        );
        let unclosed = jsonl("{\"a\": \"never closed\n{\"a\": 1}\n").unwrap();
        assert_eq!(
            skipped(&unclosed),
            ["line 1 is not valid JSON: EOF while parsing a string (column 19)"]
        );
        assert_eq!(rows(&unclosed), [(2, vec![("a", n(1.0))])]);
    }

    #[test]
    fn jsonl_wide_lines_are_refused() {
        let keys: Vec<String> = (0..100_000).map(|i| format!("\"k{i}\": {i}")).collect();
        let text = format!("{{{}}}\n", keys.join(", "));
        let e = jsonl(&text).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1 starts a row longer than 1 MiB, which no run's row is: check that the file is \
             a table, and for a quote that is never closed"
        );
        let keys: Vec<String> = (0..2000).map(|i| format!("\"k{i}\": {i}")).collect();
        let e = jsonl(&format!("{{\"a\": 1}}\n{{{}}}\n", keys.join(", "))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2 has more than 1024 columns: keep only the columns the figure needs"
        );
        let mut endless = Endless {
            head: Vec::new(),
            filler: b"\0",
            len: 1 << 40,
            at: 0,
        };
        let e = read_jsonl(&mut endless, &Limits::default()).unwrap_err();
        assert!(matches!(e, TableError::RowTooLong { line: 1, .. }), "{e}");
        assert!(endless.at < 2 * MAX_ROW_BYTES as u64, "read {}", endless.at);
    }

    #[test]
    fn jsonl_limits_are_errors_naming_the_line() {
        let limits = Limits {
            max_rows: 1,
            max_field_bytes: 4,
            max_columns: 2,
            ..Limits::default()
        };
        let e = read_jsonl(&b"{\"a\": 1}\n\n{\"a\": 2}\n"[..], &limits).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3: more than 1 rows: split the table into smaller files"
        );
        let e = read_jsonl(&b"{\"a\": {\"b\": \"abcde\"}}\n"[..], &limits).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1: the value in column `a.b` is longer than 4 bytes: shorten it or drop the \
             column"
        );
        let e = read_jsonl(&b"{\"a\": [1, 2, 3]}\n"[..], &limits).unwrap_err();
        assert!(matches!(e, TableError::FieldTooLong { line: 1, .. }));
        let e = read_jsonl(&b"{\"a\": 1, \"b\": 2, \"c\": 3}\n"[..], &limits).unwrap_err();
        assert!(matches!(
            e,
            TableError::TooManyColumns { line: 1, limit: 2 }
        ));
    }
}
