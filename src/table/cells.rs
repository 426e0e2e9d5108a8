//! The rules that decide each cell's state from runs and log entries.

use super::*;

/// What decides a cell: the state rules, the colour map and the cell texts.
pub(super) struct Rules<'s> {
    spec: &'s Spec,
    texts: CellText<'s>,
    /// The compact form, kept in reserve while the form is left to fit.
    pub(super) compact: Option<CellText<'s>>,
    pub(super) map: ColorMap,
    pub(super) scale: Scale,
}

impl<'s> Rules<'s> {
    pub(super) fn new(spec: &'s Spec) -> Result<Self, KeyError> {
        let cells = &spec.cells;
        let (lines, compact) = match (&cells.text, cells.form) {
            (Some(lines), _) => (lines.clone(), false),
            (None, Some(form)) => (form.lines(), false),
            // Without a legend nothing would say what the numbers are.
            (None, None) => (CellForm::Full.lines(), spec.style.legend),
        };
        Ok(Rules {
            spec,
            texts: CellText::new(spec, lines)?,
            compact: compact
                .then(|| CellText::new(spec, CellForm::Compact.lines()))
                .transpose()?,
            map: color_map(spec),
            scale: scale(spec),
        })
    }

    /// The legend's words for the lines of a compact cell.
    pub(super) fn compact_key(&self) -> String {
        format!("Cells: actual over theory ({})", self.spec.units.label)
    }

    /// The cell of one config, from its log entries and its newest trace.
    pub(super) fn cell(
        &self,
        here: &str,
        entries: &[&LogEntry],
        run: Option<&Run>,
        warnings: &mut Vec<Warning>,
    ) -> Result<Cell, KeyError> {
        let latest = |status| latest(entries, status);
        let (mut failure, success) = (latest(Status::Failure), latest(Status::Success));
        if let (Some(f), Some(s)) = (failure, success)
            && let Some(why) = rerun_succeeded(f, s, run)
        {
            warnings.push(Warning {
                path: s.path.clone(),
                line: Some(s.line),
                message: format!(
                    "config {here} failed at {}:{} and succeeded here ({why}); shown as succeeded",
                    f.path.display(),
                    f.line
                ),
            });
            failure = None;
        }
        Ok(match (failure, run) {
            (Some(f), run) => self.failed(f, success, run, here, warnings),
            (None, Some(run)) => match &run.content {
                Ok(values) => self.measured(run, values, success, warnings)?,
                Err(why) => Cell {
                    source: Some(run.path.clone()),
                    captures: run.captures.clone(),
                    reason: Some(why.0.clone()),
                    log: success.map(at),
                    ..plain_cell(CellState::Invalid, &self.spec.cells.invalid)
                },
            },
            (None, None) => match success {
                Some(s) => {
                    warnings.push(Warning {
                        path: s.path.clone(),
                        line: Some(s.line),
                        message: format!("config {here} is listed as succeeded but has no trace"),
                    });
                    Cell {
                        log: Some(at(s)),
                        captures: s.captures.clone(),
                        reason: Some("listed as succeeded but has no trace".into()),
                        ..plain_cell(CellState::Invalid, &self.spec.cells.invalid)
                    }
                }
                None => plain_cell(CellState::Missing, &self.spec.cells.missing),
            },
        })
    }

    /// A failure wins over a success it cannot be ordered after and over a
    /// (partial) trace.
    pub(super) fn failed(
        &self,
        failure: &LogEntry,
        success: Option<&LogEntry>,
        run: Option<&Run>,
        here: &str,
        warnings: &mut Vec<Warning>,
    ) -> Cell {
        if let Some(s) = success {
            warnings.push(Warning {
                path: failure.path.clone(),
                line: Some(failure.line),
                message: format!(
                    "config {here} is also listed as succeeded at {}:{}; shown as failed",
                    s.path.display(),
                    s.line
                ),
            });
        }
        // A training log or table that records its own OOM says nothing new.
        if let Some(run) = run.filter(|r| r.path != failure.path) {
            warnings.push(Warning::new(
                &run.path,
                format!(
                    "trace of a run that {}:{} lists as failed (written before the OOM?); shown as failed",
                    failure.path.display(),
                    failure.line
                ),
            ));
        }
        Cell {
            log: Some(at(failure)),
            captures: run.map_or(&failure.captures, |r| &r.captures).clone(),
            ..plain_cell(CellState::Failed, &self.spec.cells.failed)
        }
    }

    pub(super) fn measured(
        &self,
        run: &Run,
        values: &RunValues,
        success: Option<&LogEntry>,
        warnings: &mut Vec<Warning>,
    ) -> Result<Cell, KeyError> {
        let spec = self.spec;
        let scale = spec.units.scale();
        let Some(actual) = in_display_units(run, "actual", values.actual, spec, warnings) else {
            return Ok(Cell {
                source: Some(run.path.clone()),
                reason: Some(OVERFLOWS.into()),
                log: success.map(at),
                ..plain_cell(CellState::Invalid, &self.spec.cells.invalid)
            });
        };
        let theory = values
            .theory
            .and_then(|t| in_display_units(run, "theoretical", t, spec, warnings));
        check_plausible(run, actual, theory, spec, warnings);
        let metric = |name| Metric::new(name).value(actual, theory, values, scale);
        // Without a value to colour by (theory n/a), the cell stays white.
        let fill = metric(&spec.color.metric).map(|v| self.map.sample(self.scale.position(v)));
        let marks = spec
            .thresholds
            .iter()
            .filter(
                |t| matches!((metric(&t.metric), t.comparison()), (Some(v), Some(c)) if c.holds(v)),
            )
            .map(threshold_mark)
            .collect();
        Ok(Cell {
            state: CellState::Measured,
            log: success.map(at),
            reason: None,
            fill,
            border: None,
            text_color: fill.map_or(Color::BLACK, colormap::text_color),
            lines: self.texts.render(run, actual, theory, &spec.units.label)?,
            compact_lines: self
                .compact
                .as_ref()
                .map(|c| c.render(run, actual, theory, &spec.units.label))
                .transpose()?,
            marks,
            actual: Some(actual),
            theory,
            source: Some(run.path.clone()),
            captures: run.captures.clone(),
            numbers: values.numbers.clone(),
        })
    }
}

/// A config's last entry of one status (see [`LogEntry::order`]).
pub(super) fn latest<'a>(entries: &[&'a LogEntry], status: Status) -> Option<&'a LogEntry> {
    entries
        .iter()
        .copied()
        .filter(|e| e.status == status)
        .max_by(|a, b| a.order(b))
}

/// Sweeps re-run failed configs: the later outcome wins. With no order
/// (no `seq`, or equal ones), a success with a usable trace beats the
/// failure. Says why, when the success wins.
pub(super) fn rerun_succeeded(
    failure: &LogEntry,
    success: &LogEntry,
    run: Option<&Run>,
) -> Option<String> {
    match (failure.seq(), success.seq()) {
        (Some(f), Some(s)) if f != s => (s > f).then(|| format!("`seq` {s} is after {f}")),
        _ => run
            .is_some_and(|r| r.content.is_ok())
            .then(|| "the logs give no order, and this success has a trace".into()),
    }
}

pub(super) fn at(entry: &LogEntry) -> (PathBuf, usize) {
    (entry.path.clone(), entry.line)
}

pub(super) fn plain_cell(state: CellState, style: &StateStyle) -> Cell {
    let lines = if style.text.is_empty() {
        vec![]
    } else {
        vec![style.text.clone()]
    };
    Cell {
        state,
        log: None,
        reason: None,
        fill: style.fill,
        border: border(state),
        text_color: style.fill.map_or(Color::BLACK, colormap::text_color),
        lines,
        compact_lines: None,
        marks: vec![],
        actual: None,
        theory: None,
        source: None,
        captures: BTreeMap::new(),
        numbers: BTreeMap::new(),
    }
}
