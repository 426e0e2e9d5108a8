//! Fills the Typst template with the figure's model.
//!
//! minijinja knows nothing about Typst, so values go through one filter,
//! `typ`, that writes them as Typst literals (strings quoted and escaped,
//! `none`, `true`). User text thus never becomes markup or code.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use minijinja::value::{Serde, Value, ValueKind};
use minijinja::{Environment, Error as JinjaError, ErrorKind, UndefinedBehavior};

use crate::table::Table;

/// The built-in template, compiled into the binary.
pub(crate) const HEATMAP: &str = include_str!("../templates/heatmap.typ.j2");

/// Largest custom template, as for a spec file.
pub(crate) const MAX_TEMPLATE_BYTES: u64 = crate::spec::MAX_SPEC_BYTES;

/// Template instructions one figure may take.
const TEMPLATE_FUEL: u64 = 10_000_000;

/// A minijinja template that turns a table into Typst source.
#[derive(Debug, Clone)]
pub struct Template {
    /// Where it came from; `None` for the built-in one.
    pub path: Option<PathBuf>,
    pub text: String,
}

impl Template {
    pub fn builtin() -> Template {
        Template {
            path: None,
            text: HEATMAP.to_string(),
        }
    }

    /// Reads a template with the spec's guards: a FIFO would block the
    /// read forever, and a template larger than `MAX_TEMPLATE_BYTES` is
    /// not one (the built-in one is about 20 KB).
    pub fn read(path: &Path) -> Result<Template, TemplateError> {
        let error = |message: String| TemplateError {
            path: Some(path.to_path_buf()),
            text: String::new(),
            line: 0,
            message: format!("cannot read the template: {message}"),
        };
        let metadata = std::fs::metadata(path).map_err(|e| error(e.to_string()))?;
        if !metadata.is_file() {
            return Err(error("it is not a regular file".into()));
        }
        if metadata.len() > MAX_TEMPLATE_BYTES {
            return Err(error(format!(
                "it has {} bytes, and a template may have at most {MAX_TEMPLATE_BYTES}",
                metadata.len()
            )));
        }
        // A file that grows after the check is still read no further.
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|file| file.take(MAX_TEMPLATE_BYTES).read_to_string(&mut text))
            .map_err(|e| error(e.to_string()))?;
        Ok(Template {
            path: Some(path.to_path_buf()),
            text,
        })
    }

    fn name(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "heatmap.typ.j2".into(), |p| p.display().to_string())
    }
}

/// A template that does not parse or fails while rendering; `line` is
/// 1-based, 0 when unknown.
#[derive(Debug, thiserror::Error)]
#[error(
    "template {}:{line}: {message}",
    path.as_deref().map_or("heatmap.typ.j2 (built in)".into(), crate::paths::shown)
)]
pub struct TemplateError {
    pub path: Option<PathBuf>,
    pub text: String,
    pub line: usize,
    pub message: String,
}

/// Renders the Typst source of a figure. `spec_path` only goes into a
/// comment; `alt` is the figure's alternative text. `snap` is extra page
/// width and height in pt, for a source that must reproduce a snapped page
/// on its own.
pub(crate) fn render(
    template: &Template,
    table: &Table,
    spec_path: &str,
    alt: &str,
    snap: Option<(f64, f64)>,
) -> Result<String, TemplateError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // The built-in template takes a few thousand instructions for any grid
    // memheat accepts; a custom one that loops without end stops here.
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.add_filter("typ", typ);
    env.add_filter("pt", pt);
    let name = template.name();
    let wrap = |e: JinjaError| TemplateError {
        path: template.path.clone(),
        text: template.text.clone(),
        line: e.line().unwrap_or(0),
        message: e
            .detail()
            .map_or_else(|| e.kind().to_string(), str::to_string),
    };
    env.add_template(&name, &template.text).map_err(wrap)?;
    let compiled = env.get_template(&name).map_err(wrap)?;
    let (x, y) = snap.unwrap_or_default();
    compiled
        .render(minijinja::context! {
            table => Value::from(Serde(table)),
            snap => minijinja::context! { x => x, y => y },
            spec_path => spec_path.replace(['\n', '\r'], " "),
            alt => alt,
        })
        .map_err(wrap)
}

/// A length in points, or `auto`.
fn pt(v: Value) -> Result<String, JinjaError> {
    if v.is_none() || v.is_undefined() {
        return Ok("auto".into());
    }
    let n = f64::try_from(v)?;
    Ok(format!("{}pt", number(n)?))
}

/// Any value as a Typst literal.
fn typ(v: Value) -> Result<String, JinjaError> {
    let mut out = String::new();
    write_typ(&v, &mut out)?;
    Ok(out)
}

fn write_typ(v: &Value, out: &mut String) -> Result<(), JinjaError> {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("none"),
        ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::Number => match v.as_i64() {
            Some(i) => write!(out, "{i}").expect("writing to a String"),
            None => out.push_str(&number(f64::try_from(v.clone())?)?),
        },
        ValueKind::String => write_string(v.as_str().unwrap_or_default(), out),
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('(');
            let items: Vec<Value> = v.try_iter()?.collect();
            for item in &items {
                write_typ(item, out)?;
                out.push_str(", ");
            }
            // `(x,)` is a one-element array; `()` the empty one.
            if items.len() > 1 {
                out.truncate(out.len() - 2);
            } else if items.len() == 1 {
                out.pop();
            }
            out.push(')');
        }
        ValueKind::Map => {
            let keys: Vec<Value> = v.try_iter()?.collect();
            if keys.is_empty() {
                out.push_str("(:)");
                return Ok(());
            }
            out.push('(');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(&key.to_string(), out);
                out.push_str(": ");
                write_typ(&v.get_item(key)?, out)?;
            }
            out.push(')');
        }
        other => {
            return Err(JinjaError::new(
                ErrorKind::InvalidOperation,
                format!("cannot write a {other} value as Typst"),
            ));
        }
    }
    Ok(())
}

/// Typst has no literal for NaN or infinity; the table never holds one.
fn number(n: f64) -> Result<String, JinjaError> {
    if !n.is_finite() {
        return Err(JinjaError::new(
            ErrorKind::InvalidOperation,
            format!("{n} has no Typst literal"),
        ));
    }
    let s = format!("{n}");
    Ok(if s.contains('.') { s } else { format!("{s}.0") })
}

/// A Typst string literal, for the numbers module.
pub(crate) fn string_literal(s: &str) -> String {
    let mut out = String::new();
    write_string(s, &mut out);
    out
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                write!(out, "\\u{{{:x}}}", c as u32).expect("writing to a String")
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_typst_literals() {
        let v = Value::from(Serde(serde_json::json!({
            "s": "a \"b\" \\ #_*$@<x>\n",
            "n": 1.5,
            "i": 3,
            "none": null,
            "t": true,
            "one": [1],
            "empty": [],
            "map": {},
        })));
        assert_eq!(
            typ(v).unwrap(),
            r#"("empty": (), "i": 3, "map": (:), "n": 1.5, "none": none, "one": (1,), "s": "a \"b\" \\ #_*$@<x>\n", "t": true)"#
        );
        assert_eq!(pt(Value::from(12)).unwrap(), "12.0pt");
        assert_eq!(pt(Value::from(())).unwrap(), "auto");
        assert!(typ(Value::from(f64::NAN)).is_err());
    }
}
