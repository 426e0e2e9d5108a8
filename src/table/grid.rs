//! The grid: which configs make the rows and columns, and which run each
//! cell shows when a config has several.

use super::*;

/// Numbers in numeric order, then any other values in text order, so one
/// odd value does not put `10` before `9`.
pub(super) fn sort_axis(values: &mut [String], reverse: bool) {
    let number = |v: &String| v.parse::<f64>().is_ok_and(f64::is_finite);
    values.sort_by(|a, b| match (number(a), number(b)) {
        (true, true) => compare_numbers(a, b).unwrap_or_else(|| a.cmp(b)),
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (false, false) => a.cmp(b),
    });
    if reverse {
        values.reverse();
    }
}

pub(super) type CellKey = (String, String);

/// One sweep's grid; its errors' keys are relative to `part`.
pub(super) fn grid(
    part: &Part,
    rules: &Rules,
    sweep: &Sweep,
    warnings: &mut Vec<Warning>,
) -> Result<(Axis, Axis, Vec<Vec<Cell>>), KeyError> {
    let axes = part.axes;
    let x_field = axes.x.field(&X_DEFAULTS).to_string();
    let y_field = axes.y.field(&Y_DEFAULTS).to_string();
    let key_of = |captures: &BTreeMap<String, String>| -> Option<CellKey> {
        Some((
            canonical(captures.get(&x_field)?),
            canonical(captures.get(&y_field)?),
        ))
    };
    let describe = |(x, y): &CellKey| format!("{y_field}={y}, {x_field}={x}");

    let mut runs: BTreeMap<CellKey, Vec<&Run>> = BTreeMap::new();
    for run in &sweep.runs {
        match key_of(&run.captures) {
            Some(key) => runs.entry(key).or_default().push(run),
            None => warnings.push(Warning {
                path: run.path.clone(),
                line: run.line,
                message: match run.line {
                    Some(_) => format!("the row has no `{x_field}` or `{y_field}` value; skipped"),
                    None => format!("file name has no `{x_field}` or `{y_field}` value; skipped"),
                },
            }),
        }
    }
    let mut logged: BTreeMap<CellKey, Vec<&LogEntry>> = BTreeMap::new();
    for entry in &sweep.log {
        if let Some(key) = key_of(&entry.captures) {
            logged.entry(key).or_default().push(entry);
        }
    }

    let x_labels = axis_labels(&axes.x, runs.keys().chain(logged.keys()).map(|k| &k.0));
    let y_labels = axis_labels(&axes.y, runs.keys().chain(logged.keys()).map(|k| &k.1));
    check_grid(axes, &x_labels, &y_labels)?;
    let seen = Seen {
        runs: &runs,
        logged: &logged,
    };
    for (labels, field, pick, listed) in [
        (&x_labels, &x_field, 0usize, axes.x.values.is_some()),
        (&y_labels, &y_field, 1usize, axes.y.values.is_some()),
    ] {
        // Only an order memheat chose needs saying; listed values keep theirs.
        if !listed {
            warnings.extend(text_among_numbers(labels, field, pick, &seen));
        }
    }
    for key in runs.keys().chain(logged.keys()).collect::<BTreeSet<_>>() {
        if !x_labels.contains(&key.0) || !y_labels.contains(&key.1) {
            warnings.push(Warning::new(
                &seen.first_path(|k| k == key),
                format!(
                    "config {} is not among the axes' `values`; not shown",
                    describe(key)
                ),
            ));
        }
    }

    let mut rows = Vec::with_capacity(y_labels.len());
    for y in &y_labels {
        let mut row = Vec::with_capacity(x_labels.len());
        for x in &x_labels {
            let key = (x.clone(), y.clone());
            let here = describe(&key);
            let entries = logged.get(&key).map(Vec::as_slice).unwrap_or(&[]);
            let run = runs
                .get(&key)
                .map(|candidates| newest(candidates, &part.inputs.newest_by, &here, warnings));
            if let Some(run) = run
                && entries.is_empty()
                && sweep.lists_successes
            {
                warnings.push(Warning::new(
                    &run.path,
                    format!(
                        "config {here} has a trace, but no log or status column says how it ended; shown as measured"
                    ),
                ));
            }
            row.push(rules.cell(&here, entries, run, warnings)?);
        }
        rows.push(row);
    }
    let x = Axis {
        field: x_field.clone(),
        title: axes.x.title(&X_DEFAULTS).to_string(),
        labels: x_labels,
    };
    let y = Axis {
        field: y_field.clone(),
        title: axes.y.title(&Y_DEFAULTS).to_string(),
        labels: y_labels,
    };
    Ok((x, y, rows))
}

/// The configs a sweep's runs and log entries name, for warnings that
/// point at the file that named one.
pub(super) struct Seen<'a, 's> {
    pub(super) runs: &'a BTreeMap<CellKey, Vec<&'s Run>>,
    pub(super) logged: &'a BTreeMap<CellKey, Vec<&'s LogEntry>>,
}

impl Seen<'_, '_> {
    /// The first file naming a config that `wanted` picks.
    pub(super) fn first_path(&self, wanted: impl Fn(&CellKey) -> bool) -> PathBuf {
        self.runs
            .iter()
            .find(|(k, _)| wanted(k))
            .map(|(_, r)| r[0].path.clone())
            .or_else(|| {
                self.logged
                    .iter()
                    .find(|(k, _)| wanted(k))
                    .map(|(_, l)| l[0].path.clone())
            })
            .unwrap_or_default()
    }
}

/// A text value on an axis of numbers, which sorts after them: said once,
/// at the file that named it. `pick` is the axis (0 for x, 1 for y).
pub(super) fn text_among_numbers(
    labels: &[String],
    field: &str,
    pick: usize,
    seen: &Seen,
) -> Option<Warning> {
    let is_number = |v: &String| v.parse::<f64>().is_ok_and(f64::is_finite);
    let odd = labels.iter().find(|v| !is_number(v))?;
    if !labels.iter().any(is_number) {
        return None;
    }
    let path = seen.first_path(|k| if pick == 0 { &k.0 == odd } else { &k.1 == odd });
    Some(Warning::new(
        &path,
        format!(
            "`{field}` is `{odd}` here, not a number; the axis puts numbers first, in numeric order, then text"
        ),
    ))
}

pub(super) fn axis_labels<'a>(
    axis: &crate::spec::Axis,
    seen: impl Iterator<Item = &'a String>,
) -> Vec<String> {
    match &axis.values {
        Some(values) => {
            let mut labels: Vec<String> = values.iter().map(|v| canonical(&v.0)).collect();
            if axis.reverse {
                labels.reverse();
            }
            labels
        }
        None => {
            let mut labels: Vec<String> =
                seen.cloned().collect::<BTreeSet<_>>().into_iter().collect();
            sort_axis(&mut labels, axis.reverse);
            labels
        }
    }
}

/// Picks the newest of a config's traces and says which when there are several.
pub(super) fn newest<'a>(
    candidates: &[&'a Run],
    field: &str,
    here: &str,
    warnings: &mut Vec<Warning>,
) -> &'a Run {
    let order = |r: &Run| r.captures.get(field).and_then(|v| v.parse::<f64>().ok());
    let best = candidates
        .iter()
        .copied()
        .max_by(|a, b| {
            let (oa, ob) = (order(a), order(b));
            // None sorts below every number; ties go to the later path.
            oa.partial_cmp(&ob)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.path.cmp(&b.path))
        })
        .expect("a config has at least one trace");
    if candidates.len() > 1 {
        let rows = candidates
            .iter()
            .all(|r| r.path == best.path && r.line.is_some());
        let others: Vec<String> = candidates
            .iter()
            .filter(|r| !std::ptr::eq(**r, best))
            .map(|r| match (rows, r.line) {
                (true, Some(line)) => format!("line {line}"),
                _ => r.path.display().to_string(),
            })
            .collect();
        let (what, one, order) = if rows {
            ("rows", "row", "the last")
        } else {
            ("traces", "trace", "last by name")
        };
        let why = match best.captures.get(field) {
            Some(v) => format!("largest `{field}` = {v}"),
            None => format!("no {one} has a numeric `{field}`; {order}"),
        };
        warnings.push(Warning {
            path: best.path.clone(),
            line: best.line.filter(|_| rows),
            message: format!(
                "config {here} has {} {what}; using this one ({why}), ignoring {}",
                candidates.len(),
                others.join(", ")
            ),
        });
    }
    best
}

/// A figure of thousands of rows would take Typst minutes and gigabytes;
/// such a grid is almost always a wrong field or pattern.
pub(super) fn check_grid(axes: &Axes, x: &[String], y: &[String]) -> Result<(), KeyError> {
    for (axis, labels, field) in [
        ("x", x, axes.x.field(&X_DEFAULTS)),
        ("y", y, axes.y.field(&Y_DEFAULTS)),
    ] {
        if labels.len() > MAX_AXIS_VALUES {
            return Err(KeyError::new(
                &[Key::Field("axes"), Key::Field(axis)],
                format!(
                    "the {axis} axis (`{field}`) would have {} values, more than {MAX_AXIS_VALUES}",
                    labels.len()
                ),
                Some(format!(
                    "list the ones to show in `axes.{axis}.values`, or check the field and `inputs.filename`"
                )),
            ));
        }
    }
    if x.len() * y.len() > MAX_CELLS {
        return Err(KeyError::new(
            &[Key::Field("axes")],
            format!(
                "the figure would have {} × {} cells, more than {MAX_CELLS}",
                y.len(),
                x.len()
            ),
            Some("list the values to show in `axes.x.values` and `axes.y.values`".into()),
        ));
    }
    Ok(())
}
