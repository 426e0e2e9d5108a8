//! What a metric reads from a run, in display units, and the checks on
//! metrics and values.

use super::*;

pub(super) const OVERFLOWS: &str = "too large for the display unit";

/// `value` (in input units) in display units, or `None` with a warning
/// when it is finite but the conversion overflows (`1e308` MB in bytes):
/// a broken tracer's number, not a reason to fail the figure.
pub(super) fn in_display_units(
    run: &Run,
    name: &str,
    value: f64,
    spec: &Spec,
    warnings: &mut Vec<Warning>,
) -> Option<f64> {
    let shown = value * spec.units.scale();
    if shown.is_finite() {
        return Some(shown);
    }
    let then = if name == "actual" {
        "the cell shows no data"
    } else {
        "theory shows n/a and marks no threshold"
    };
    warnings.push(Warning::new(
        &run.path,
        format!(
            "{name} value {value:e} {} is {OVERFLOWS} ({}); {then}",
            spec.units.input.name(),
            spec.units.display.name()
        ),
    ));
    None
}

/// Warns about values that point to a unit bug or a broken tracer; the cell
/// still shows them, with the colour clipped.
pub(super) fn check_plausible(
    run: &Run,
    actual: f64,
    theory: Option<f64>,
    spec: &Spec,
    warnings: &mut Vec<Warning>,
) {
    let unit = &spec.units.label;
    let top = spec.color.memory_top();
    for (name, value) in [("actual", Some(actual)), ("theoretical", theory)] {
        let Some(v) = value else { continue };
        let problem = if v <= 0.0 {
            Some("is not positive")
        } else if v > 10.0 * top.abs().max(1.0) {
            Some("is implausibly large; check `units.input`")
        } else {
            None
        };
        if let Some(problem) = problem {
            warnings.push(Warning::new(
                &run.path,
                format!("{name} value {}{unit} {problem}", compact(v)),
            ));
        }
    }
}

/// A threshold or colour on a field no trace has would silently mark or
/// colour nothing.
pub(super) fn check_metrics(spec: &Spec, sweeps: &[Sweep]) -> Result<(), KeyError> {
    let mut known: BTreeSet<&str> = ["actual", "theory", RATIO].into();
    for run in sweeps.iter().flat_map(|s| &s.runs) {
        if let Ok(values) = &run.content {
            known.extend(values.numbers.keys().map(String::as_str));
        }
    }
    let colour = (
        vec![Key::Field("color"), Key::Field("metric")],
        &spec.color.metric,
    );
    let thresholds = spec.thresholds.iter().enumerate().map(|(i, t)| {
        (
            vec![
                Key::Field("thresholds"),
                Key::Index(i),
                Key::Field("metric"),
            ],
            &t.metric,
        )
    });
    for (keys, metric) in std::iter::once(colour).chain(thresholds) {
        if known.contains(metric.as_str()) {
            continue;
        }
        let list: Vec<&str> = known.iter().copied().collect();
        let closest = crate::spec::closest(metric, &list)
            .map(|k| format!("did you mean `{k}`? "))
            .unwrap_or_default();
        return Err(KeyError::new(
            &keys,
            format!("unknown metric `{metric}`: no trace has that field"),
            Some(format!("{closest}use one of: {}", list.join(", "))),
        ));
    }
    Ok(())
}

/// What a metric name reads from a run. `actual`, `theory` and `ratio`
/// come first, so a trace field of one of these names is not reachable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Metric<'s> {
    Actual,
    Theory,
    /// theory / actual: how far the estimate is off, without a unit.
    Ratio,
    /// A numeric trace field, converted to display units.
    Field(&'s str),
}

impl<'s> Metric<'s> {
    pub(crate) fn new(name: &'s str) -> Metric<'s> {
        match name {
            "actual" => Metric::Actual,
            "theory" => Metric::Theory,
            RATIO => Metric::Ratio,
            field => Metric::Field(field),
        }
    }

    /// None where the run has no (finite) value.
    pub(super) fn value(
        self,
        actual: f64,
        theory: Option<f64>,
        values: &RunValues,
        scale: f64,
    ) -> Option<f64> {
        match self {
            Metric::Actual => Some(actual),
            Metric::Theory => theory,
            Metric::Ratio => theory.map(|t| t / actual).filter(|r| r.is_finite()),
            Metric::Field(name) => values
                .numbers
                .get(name)
                .map(|v| v * scale)
                .filter(|v| v.is_finite()),
        }
    }

    /// What follows a value: the unit (`label` is [`Spec::unit_suffix`] or
    /// the bare label), or nothing for the ratio.
    pub(crate) fn unit(self, label: &str) -> &str {
        if self == Metric::Ratio { "" } else { label }
    }

    /// The colorbar's default title.
    pub(crate) fn title(self, label: &str) -> String {
        match self {
            Metric::Actual => format!("Peak memory ({label})"),
            Metric::Theory => format!("Theoretical memory ({label})"),
            Metric::Ratio => "Theory / actual".into(),
            Metric::Field(name) => format!("{name} ({label})"),
        }
    }
}
