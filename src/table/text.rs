//! Cell text: the `cells.text` templates rendered per cell, and how numbers
//! print in them.

use super::*;

/// A value as cell text prints it (`|fixed`, `|amount`): `decimals`
/// digits after the point, so `memheat data` quotes what the figure shows.
pub(crate) fn fixed(v: f64, decimals: u8) -> String {
    let d = usize::from(decimals);
    format!("{v:.d$}")
}

/// Compact number for labels: `80`, `80.5`.
pub(crate) fn compact(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Template instructions one cell line may take.
pub(super) const CELL_TEXT_FUEL: u64 = 20_000;

/// The compiled cell line templates: `cells.text`, or a built-in form.
pub(super) struct CellText<'s> {
    env: Environment<'s>,
    lines: usize,
}

impl<'s> CellText<'s> {
    pub(super) fn new(spec: &'s Spec, lines: Vec<String>) -> Result<Self, KeyError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // A cell's line is a few filters; a loop that runs longer is a
        // mistake (or an attack) and would otherwise never end.
        env.set_fuel(Some(CELL_TEXT_FUEL));
        let decimals = spec.cells.decimals;
        let fixed = move |v: &Value, digits: Option<u8>| -> Option<String> {
            match f64::try_from(v.clone()) {
                Ok(n) if n.is_finite() => Some(fixed(n, digits.unwrap_or(decimals))),
                _ => None,
            }
        };
        env.add_filter("fixed", move |v: Value, digits: Option<u8>| {
            fixed(&v, digits).unwrap_or_else(|| "n/a".into())
        });
        // A value with its unit; an unknown one is `n/a` without a unit.
        let unit = spec.unit_suffix();
        env.add_filter("amount", move |v: Value, digits: Option<u8>| {
            fixed(&v, digits).map_or_else(|| "n/a".into(), |s| format!("{s}{unit}"))
        });
        let count = lines.len();
        for (i, line) in lines.into_iter().enumerate() {
            env.add_template_owned(format!("cells.text[{i}]"), line)
                .map_err(|e| text_error(i, &e, None))?;
        }
        Ok(CellText { env, lines: count })
    }

    pub(super) fn render(
        &self,
        run: &Run,
        actual: f64,
        theory: Option<f64>,
        unit: &str,
    ) -> Result<Vec<String>, KeyError> {
        let mut ctx: BTreeMap<String, Value> = BTreeMap::new();
        for (k, v) in &run.captures {
            // `tp` is the number 2 in templates, so `{{ tp * pp }}` works.
            // A number an f64 would change (above 2^53) stays text, so it
            // prints as written.
            let value = match (v.parse::<i64>(), exact_f64(v)) {
                (Ok(i), _) => Value::from(i),
                (_, Some(f)) => Value::from(f),
                _ => Value::from(v.as_str()),
            };
            ctx.insert(k.clone(), value);
        }
        if let Ok(values) = &run.content {
            for (k, v) in &values.numbers {
                ctx.insert(k.clone(), Value::from(*v));
            }
        }
        ctx.insert("actual".into(), Value::from(actual));
        ctx.insert("theory".into(), theory.map_or(Value::from(()), Value::from));
        ctx.insert("unit".into(), Value::from(unit));
        (0..self.lines)
            .map(|i| {
                let template = self
                    .env
                    .get_template(&format!("cells.text[{i}]"))
                    .expect("added in new()");
                let line = template
                    .render(&ctx)
                    .map_err(|e| text_error(i, &e, Some(ctx.keys().cloned().collect())))?;
                let chars = line.chars().count();
                if chars > MAX_TEXT {
                    return Err(KeyError::new(
                        &[Key::Field("cells"), Key::Field("text"), Key::Index(i)],
                        format!(
                            "cell text renders to {chars} characters for {}",
                            run.path.display()
                        ),
                        Some(format!(
                            "a cell line may have at most {MAX_TEXT} characters"
                        )),
                    ));
                }
                Ok(line)
            })
            .collect()
    }
}

pub(super) fn text_error(i: usize, e: &minijinja::Error, fields: Option<Vec<String>>) -> KeyError {
    let what = e
        .detail()
        .map_or_else(|| e.kind().to_string(), str::to_string);
    let hint = if e.kind() == minijinja::ErrorKind::OutOfFuel {
        Some(format!(
            "a cell line may take at most {CELL_TEXT_FUEL} template steps; loops belong in a custom `template:`"
        ))
    } else {
        fields.map(|f| format!("the fields of a cell are: {}", f.join(", ")))
    };
    KeyError::new(
        &[Key::Field("cells"), Key::Field("text"), Key::Index(i)],
        format!("cell text template: {what}"),
        hint.or_else(|| Some("write values as `{{ name }}`, e.g. `{{ actual|fixed(1) }}`".into())),
    )
}
