//! Trace JSON files: which JSON files are the sweep's traces, the config
//! their names (or their directories' names) encode, and the fields the
//! figure reads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{InitError, Question, fields, names, render};
use crate::spec::canonical;
use crate::warning::Warning;

/// Traces read to learn the JSON fields: a few, spread over the sweep,
/// so init costs a fraction of a build.
const SAMPLES: usize = 8;

/// The trace files, and the numbers of the few that were read.
pub(super) struct Traces {
    /// Sorted; they share one name shape.
    pub files: Vec<PathBuf>,
    pub names: Vec<String>,
    pub numbers: Vec<fields::Numbers>,
}

/// The largest group of same-shaped JSON names whose files hold ranks
/// with numbers. Unreadable or malformed files are warned about.
pub(super) fn find_traces(
    dir: &Path,
    json: &[PathBuf],
    warnings: &mut Vec<Warning>,
) -> Result<Traces, InitError> {
    let mut shapes: BTreeMap<Vec<String>, Vec<(PathBuf, String)>> = BTreeMap::new();
    for path in json {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.chars().any(char::is_control) {
            warnings.push(Warning::new(
                path,
                "has a control character in its name, which a spec cannot hold; skipped",
            ));
            continue;
        }
        let shape = names::split(name).0.into_iter().map(String::from).collect();
        shapes
            .entry(shape)
            .or_default()
            .push((path.clone(), name.to_string()));
    }
    let mut groups: Vec<Vec<(PathBuf, String)>> = shapes.into_values().collect();
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].0.cmp(&b[0].0)));
    for group in groups {
        let step = group.len().div_ceil(SAMPLES);
        let numbers: Vec<fields::Numbers> = group
            .iter()
            .step_by(step)
            .filter_map(|(path, _)| read_numbers(path, warnings))
            .collect();
        if !numbers.is_empty() {
            let (files, names) = group.into_iter().unzip();
            return Ok(Traces {
                files,
                names,
                numbers,
            });
        }
    }
    let found = if json.is_empty() {
        "found no `.json` file in it or below it".to_string()
    } else {
        format!(
            "none of the {} JSON file(s) read is an object of ranks with numeric fields",
            json.len()
        )
    };
    Err(InitError::NoTraces {
        dir: dir.to_path_buf(),
        found,
    })
}

/// A trace's numbers, read as `memheat build` reads them.
fn read_numbers(path: &Path, warnings: &mut Vec<Warning>) -> Option<fields::Numbers> {
    let ranks = crate::input::trace::values::read_ranks(path)
        .map_err(|u| warnings.push(Warning::new(path, format!("{}; skipped", u.warning))))
        .ok()?;
    fields::numbers(&ranks)
}

/// The configs the names encode: the slots, the axes and the regex.
pub(super) struct Config {
    pub slots: Vec<names::Slot>,
    pub uses: Vec<names::Use>,
    /// Slot indices of x and y.
    pub axes: [usize; 2],
    pub filename: String,
    /// An example name.
    pub example: String,
    /// Path parts the names span: 1 for file names, more when the config
    /// is in directory names.
    pub depth: usize,
}

impl Config {
    pub(super) fn key(&self, slot: usize) -> &str {
        self.slots[slot].key.as_deref().unwrap_or_default()
    }

    /// Captured fields that differ between traces of one cell, and how
    /// many cells have more than one trace.
    pub(super) fn crowded(&self) -> (usize, Vec<String>) {
        let [x, y] = self.axes;
        let mut cells: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for i in 0..self.slots[x].values.len() {
            let at = |s: usize| canonical(&self.slots[s].values[i]);
            cells.entry((at(x), at(y))).or_default().push(i);
        }
        let crowded: Vec<&Vec<usize>> = cells.values().filter(|c| c.len() > 1).collect();
        let spread = self
            .uses
            .iter()
            .enumerate()
            .filter_map(|(s, u)| match u {
                names::Use::Capture(key) if !self.axes.contains(&s) => {
                    let differs = crowded.iter().any(|cell| {
                        let values: BTreeSet<String> = cell
                            .iter()
                            .map(|&i| canonical(&self.slots[s].values[i]))
                            .collect();
                        values.len() > 1
                    });
                    differs.then(|| key.clone())
                }
                _ => None,
            })
            .collect();
        (crowded.len(), spread)
    }
}

/// The configs of the traces: from their file names, or, when those do
/// not tell the configs apart, from the names with as many directories
/// above them as it takes (`run-TP4-PP16/mem_rank0.json`).
pub(super) fn read_config(dir: &Path, traces: &Traces) -> Result<Config, InitError> {
    let below: Vec<Vec<String>> = traces
        .files
        .iter()
        .map(|p| {
            p.strip_prefix(dir)
                .unwrap_or(p)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .collect();
    let deepest = below.iter().map(Vec::len).min().unwrap_or(1);
    let mut first_failure = None;
    for depth in 1..=deepest.max(1) {
        let names: Vec<String> = below
            .iter()
            .map(|parts| parts[parts.len() - depth..].join("/"))
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let shape = |n: &str| names::split(n).0.len();
        if names.iter().any(|n| shape(n) != shape(names[0])) {
            break;
        }
        let slots = names::slots(&names);
        match choose_axes(&slots) {
            Some(axes) => {
                let uses = names::uses(&slots, axes);
                return Ok(Config {
                    filename: names::regex(names[0], &uses),
                    example: names[0].to_string(),
                    slots,
                    uses,
                    axes,
                    depth,
                });
            }
            None if first_failure.is_none() => {
                first_failure = Some(no_configs(dir, &names, &slots));
            }
            None => {}
        }
    }
    Err(first_failure.unwrap_or_else(|| {
        let names: Vec<&str> = traces.names.iter().map(String::as_str).collect();
        no_configs(dir, &names, &names::slots(&names))
    }))
}

fn no_configs(dir: &Path, names: &[&str], slots: &[names::Slot]) -> InitError {
    let varying: BTreeSet<String> = slots
        .iter()
        .filter(|s| s.varies())
        .filter_map(|s| s.key.as_ref().map(|k| format!("`{k}`")))
        .collect();
    // Two varying keys always make axes, so this names at most one.
    let tokens = match varying.into_iter().next() {
        None => {
            "no `<key><number>` token that varies between them, nor in their directories' names"
                .to_string()
        }
        Some(key) => format!(
            "only one varying `<key><number>` token ({key}) and no other for the second axis"
        ),
    };
    InitError::NoConfigs {
        dir: dir.to_path_buf(),
        found: format!(
            "the {} trace file(s) named like `{}` have {tokens}",
            names.len(),
            names[0],
        ),
    }
}

/// x and y: `pp` and `tp` when the names have both (as memheat's
/// defaults, PP across and TP down); else the two varying keys with the
/// most values (more values across); a single varying key gets a constant
/// one as its other axis (one row or column). `None` without a varying key.
fn choose_axes(slots: &[names::Slot]) -> Option<[usize; 2]> {
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, slot) in slots.iter().enumerate() {
        if let Some(key) = &slot.key {
            first.entry(key).or_insert(i);
        }
    }
    let keyed: Vec<usize> = first.values().copied().collect();
    if !keyed.iter().any(|&i| slots[i].varies()) {
        return None;
    }
    if let (Some(&pp), Some(&tp)) = (first.get("pp"), first.get("tp")) {
        return Some([pp, tp]);
    }
    let is_default = |i: usize| matches!(slots[i].key.as_deref(), Some("pp" | "tp"));
    let mut ranked = keyed.clone();
    ranked.sort_by_key(|&i| {
        (
            !slots[i].varies(),
            !is_default(i),
            std::cmp::Reverse(slots[i].distinct),
            i,
        )
    });
    let (a, b) = (ranked[0], *ranked.get(1)?);
    // A lone `tp` stays down and a lone `pp` across, as in every figure.
    Some(match (slots[a].key.as_deref(), slots[b].key.as_deref()) {
        (Some("tp"), _) | (_, Some("pp")) => [b, a],
        _ => [a, b],
    })
}

/// The fields chosen, with their alternatives, and the unit.
pub(super) struct Choices {
    pub rank: render::Choice,
    pub actual: render::Choice,
    pub theory: Option<render::Choice>,
    pub peak: render::Peak,
}

pub(super) fn choose_fields(
    traces: &[fields::Numbers],
    ask: &mut dyn FnMut(&Question) -> usize,
) -> Choices {
    let (rank, other_ranks) = fields::rank(traces);
    let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut with_rank = 0;
    for numbers in traces.iter().filter_map(|t| t.get(&rank)) {
        with_rank += 1;
        for (field, value) in numbers {
            values.entry(field.clone()).or_default().push(*value);
        }
    }
    let (actual, theory) = super::choose_metrics(&values, with_rank, "JSON field", ask);
    let peak = super::peak(&actual.chosen, &values[&actual.chosen]);
    Choices {
        rank: render::Choice {
            chosen: rank,
            others: other_ranks,
            tied: false,
        },
        actual,
        theory,
        peak,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots_of(names: &[&str]) -> Vec<names::Slot> {
        names::slots(names)
    }

    #[test]
    fn axes_are_pp_and_tp_when_the_names_have_them() {
        let slots = slots_of(&["r_tp1_mbs1_pp2.json", "r_tp2_mbs2_pp2.json"]);
        assert_eq!(
            choose_axes(&slots),
            Some([2, 0]),
            "pp across even if constant"
        );
    }

    #[test]
    fn otherwise_the_keys_with_most_values() {
        let slots = slots_of(&["r_mbs1_gbs8.json", "r_mbs2_gbs16.json", "r_mbs2_gbs32.json"]);
        assert_eq!(choose_axes(&slots), Some([1, 0]), "gbs has 3 values");
        // One varying key: a constant one makes the other axis.
        let slots = slots_of(&["rank0_tp1.json", "rank0_tp2.json"]);
        assert_eq!(choose_axes(&slots), Some([0, 1]), "a lone tp stays down");
        let slots = slots_of(&["x_1.json", "x_2.json"]);
        assert_eq!(choose_axes(&slots), None, "a bare number names nothing");
    }

    #[test]
    fn configs_in_directory_names_are_read_below_the_sweep() {
        let dir = Path::new("/s");
        let files: Vec<PathBuf> = [
            "runs/run-TP4-PP16/mem_rank0.json",
            "runs/run-TP2-PP8/mem_rank0.json",
        ]
        .iter()
        .map(|p| dir.join(p))
        .collect();
        let traces = Traces {
            names: vec!["mem_rank0.json".into(); 2],
            files,
            numbers: vec![],
        };
        let config = read_config(dir, &traces).unwrap();
        assert_eq!(config.depth, 2);
        assert_eq!(
            config.filename,
            r"run\-TP(?P<tp>\d+)\-PP(?P<pp>\d+)/mem_rank0\.json"
        );
        assert_eq!(
            [config.key(config.axes[0]), config.key(config.axes[1])],
            ["pp", "tp"]
        );
    }
}
