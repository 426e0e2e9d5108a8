//! The rules for one sweep's `inputs` and `axes`: the spec's own, or a
//! panel's.

use super::MAX_AXIS_VALUES;
use crate::spec::{InputFormat, Key, KeyError, Part, Pattern, X_DEFAULTS, Y_DEFAULTS, canonical};

/// Patterns the user wrote must capture what the figure needs: the axis
/// fields (unless the files hold their config: training logs, tables), a
/// `newest-by` they named, and the outcome of a `status` log's line.
fn check_patterns(part: &Part, axes: [&str; 2]) -> Vec<KeyError> {
    use Key::Field as F;
    let inputs = part.inputs;
    let mut errors = Vec::new();
    let need = |errors: &mut Vec<KeyError>,
                keys: Vec<Key<'static>>,
                pattern: &Pattern,
                field: &str,
                hint: &str| {
        if !pattern.has_capture(field) {
            errors.push(KeyError::new(
                &keys,
                format!("pattern has no capture named `{field}`, which {hint}"),
                Some(format!("add a named group such as `(?P<{field}>\\d+)`")),
            ));
        }
    };
    let config_inside = matches!(
        inputs.format,
        InputFormat::TrainingLog | InputFormat::Csv | InputFormat::Jsonl
    );
    if let Some(filename) = &inputs.filename
        && !config_inside
    {
        for field in axes {
            need(
                &mut errors,
                vec![F("inputs"), F("filename")],
                filename,
                field,
                "an axis needs",
            );
        }
        // The default `ts` may well be missing from a custom pattern; a
        // name the user chose must be there, or re-runs would be told
        // apart by file name without a word.
        let newest_by = &inputs.newest_by;
        if newest_by != "ts" && !filename.has_capture(newest_by) {
            let names: Vec<&str> = filename.0.capture_names().flatten().collect();
            errors.push(KeyError::new(
                &[F("inputs"), F("newest-by")],
                format!("`{newest_by}` is not a named capture of `inputs.filename`"),
                Some(match crate::spec::closest(newest_by, &names) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!("the captures are: {}", names.join(", ")),
                }),
            ));
        }
    }
    if let Some(logs) = &inputs.logs
        && let Some(line) = &logs.line
    {
        let keys = || vec![F("inputs"), F("logs"), F("line")];
        for field in axes {
            need(&mut errors, keys(), line, field, "an axis needs");
        }
        if !logs.status.0.is_empty() {
            need(
                &mut errors,
                keys(),
                line,
                "status",
                "a `status` log needs to tell success from failure",
            );
        }
    }
    errors
}

/// The rules for one sweep's `inputs` and `axes`, with key paths relative
/// to the part ([`Part::error`] puts them under its panel).
pub(super) fn check_part(part: &Part) -> Vec<KeyError> {
    let mut errors = Vec::new();
    use Key::Field as F;
    let mut globs = vec![(
        "traces",
        vec![F("inputs"), F("traces")],
        &part.inputs.traces,
    )];
    if let Some(logs) = &part.inputs.logs {
        globs.push((
            "success",
            vec![F("inputs"), F("logs"), F("success")],
            &logs.success,
        ));
        globs.push((
            "failure",
            vec![F("inputs"), F("logs"), F("failure")],
            &logs.failure,
        ));
        globs.push((
            "status",
            vec![F("inputs"), F("logs"), F("status")],
            &logs.status,
        ));
    }
    for (name, keys, list) in globs {
        for (i, glob) in list.0.iter().enumerate() {
            if let Err((message, hint)) = crate::spec::glob_syntax::check(glob, name) {
                let mut keys = keys.clone();
                if list.0.len() > 1 {
                    keys.push(Key::Index(i));
                }
                errors.push(KeyError::new(&keys, message, Some(hint)));
            }
        }
    }
    let x = part.axes.x.field(&X_DEFAULTS);
    let y = part.axes.y.field(&Y_DEFAULTS);
    if x == y {
        errors.push(KeyError::new(
            &[F("axes"), F("y"), F("field")],
            format!("both axes use the field `{x}`"),
            Some("give x and y different fields, e.g. x: pp, y: tp".into()),
        ));
    }
    errors.extend(check_patterns(part, [x, y]));
    if part.inputs.traces.0.is_empty() {
        errors.push(KeyError::new(
            &[F("inputs"), F("traces")],
            "no trace globs given",
            Some("list at least one glob, e.g. `traces: ../runs/*.json`".into()),
        ));
    }
    if let Some(logs) = &part.inputs.logs
        && [&logs.success, &logs.failure, &logs.status]
            .iter()
            .all(|globs| globs.0.is_empty())
    {
        errors.push(KeyError::new(
            &[F("inputs"), F("logs")],
            "`logs` lists no success, failure or status log",
            Some("add `success:`, `failure:` or `status:` globs, or remove `logs`".into()),
        ));
    }
    for (axis, spec) in [("x", &part.axes.x), ("y", &part.axes.y)] {
        let Some(values) = &spec.values else { continue };
        if values.len() > MAX_AXIS_VALUES {
            errors.push(KeyError::new(
                &[F("axes"), F(axis), F("values")],
                format!("{} axis values is too many", values.len()),
                Some(format!("list at most {MAX_AXIS_VALUES}")),
            ));
            continue;
        }
        for (i, v) in values.iter().enumerate() {
            if values[..i]
                .iter()
                .any(|w| canonical(&w.0) == canonical(&v.0))
            {
                errors.push(KeyError::new(
                    &[F("axes"), F(axis), F("values"), Key::Index(i)],
                    format!("axis value `{}` is listed twice", v.0),
                    Some("list each value once; `8` and `08` are the same value".into()),
                ));
            }
        }
    }
    errors
}
