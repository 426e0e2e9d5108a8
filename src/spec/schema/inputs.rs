//! `inputs`: which files to read, how, and what their outcomes are.

use serde::Deserialize;

use super::defaults::*;
use crate::spec::values::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Inputs {
    /// Globs for input files of any format, relative to the spec's directory.
    #[serde(deserialize_with = "not_null")]
    pub traces: OneOrMany,
    /// How to read the files; by default each file's content says.
    #[serde(default)]
    #[serde(deserialize_with = "not_null")]
    pub format: InputFormat,
    /// Must match the whole path below the glob's fixed directories, or a
    /// trailing part of it from a `/`; named captures become run fields.
    /// Absent: the tracer's file names, else `key<number>` / `key=value`
    /// tokens of the path (see `input::path_fields`).
    #[serde(default, deserialize_with = "present")]
    pub filename: Option<Pattern>,
    #[serde(default = "default_rank")]
    #[serde(deserialize_with = "not_null")]
    pub rank: String,
    /// The field, metric or column of the actual value; absent: the
    /// format's own (`peak_allocated_MB` in traces, `max_allocated` in
    /// training logs).
    #[serde(default, deserialize_with = "present")]
    pub actual: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub theory: Option<String>,
    /// Field that orders re-runs of one config: the largest number wins.
    #[serde(default = "default_newest_by")]
    #[serde(deserialize_with = "not_null")]
    pub newest_by: String,
    /// The column or field of a table that holds each run's outcome;
    /// absent: a column named `status`, `state`, `outcome` or `result`.
    #[serde(default, deserialize_with = "present")]
    pub status: Option<String>,
    /// Which status words mean success and which failure, for status logs
    /// and status columns; absent: the common words (`OK`, `OOM`, ...).
    #[serde(default)]
    #[serde(deserialize_with = "not_null")]
    pub outcomes: Outcomes,
    #[serde(default)]
    pub logs: Option<Logs>,
}

/// How an input file is read; `auto` tells by content, file by file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputFormat {
    #[default]
    Auto,
    TraceJson,
    TrainingLog,
    Csv,
    Jsonl,
    NvidiaSmi,
    TorchSnapshot,
}

impl InputFormat {
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::TraceJson => "trace-json",
            InputFormat::TrainingLog => "training-log",
            InputFormat::Csv => "csv",
            InputFormat::Jsonl => "jsonl",
            InputFormat::NvidiaSmi => "nvidia-smi",
            InputFormat::TorchSnapshot => "torch-snapshot",
        }
    }
}

/// Status words, compared without case and surrounding space.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Outcomes {
    #[serde(default = "default_success_words")]
    #[serde(deserialize_with = "not_null")]
    pub success: Vec<String>,
    #[serde(default = "default_failure_words")]
    #[serde(deserialize_with = "not_null")]
    pub failure: Vec<String>,
}

impl Default for Outcomes {
    fn default() -> Self {
        Outcomes {
            success: default_success_words(),
            failure: default_failure_words(),
        }
    }
}

fn default_success_words() -> Vec<String> {
    [
        "ok",
        "success",
        "succeeded",
        "successful",
        "completed",
        "complete",
        "finished",
        "done",
        "pass",
        "passed",
    ]
    .map(String::from)
    .to_vec()
}

fn default_failure_words() -> Vec<String> {
    [
        "oom",
        "failed",
        "fail",
        "failure",
        "cancelled",
        "canceled",
        "crashed",
        "killed",
        "error",
        "timeout",
        "out_of_memory",
        "out of memory",
    ]
    .map(String::from)
    .to_vec()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Logs {
    #[serde(default)]
    #[serde(deserialize_with = "not_null")]
    pub success: OneOrMany,
    #[serde(default)]
    #[serde(deserialize_with = "not_null")]
    pub failure: OneOrMany,
    /// Logs with both outcomes, one config line each.
    #[serde(default)]
    #[serde(deserialize_with = "not_null")]
    pub status: OneOrMany,
    /// A config line; named captures must include the axis fields (and
    /// `status`, for `status` logs). Absent: `Config N: TP=…, PP=…` lines
    /// for `success`/`failure` logs, `key=value` tokens for `status` logs.
    #[serde(default, deserialize_with = "present")]
    pub line: Option<Pattern>,
}

#[derive(Debug, Deserialize)]
#[serde(from = "UnitsRaw")]
pub struct Units {
    /// Unit of the numbers in the trace files ("MB" in tracer field names is MiB).
    pub input: Unit,
    /// Unit that values, ranges and thresholds in this spec are written in.
    pub display: Unit,
    /// What the figure prints after a value: as written, else
    /// [`Unit::label`] of `display`.
    pub label: String,
    /// Whether `label` was written (and so must agree with `display`).
    pub label_written: bool,
    /// Between a number and its label; absent: thin in a venue figure,
    /// none otherwise (see [`Spec::unit_suffix`]).
    pub separator: Option<Separator>,
}

/// `units` as written: the label's default depends on `display`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct UnitsRaw {
    #[serde(default = "default_input_unit")]
    #[serde(deserialize_with = "not_null")]
    input: Unit,
    #[serde(default = "default_display_unit")]
    #[serde(deserialize_with = "not_null")]
    display: Unit,
    #[serde(default)]
    #[serde(deserialize_with = "present")]
    label: Option<String>,
    #[serde(default)]
    #[serde(deserialize_with = "present")]
    separator: Option<Separator>,
}

impl From<UnitsRaw> for Units {
    fn from(raw: UnitsRaw) -> Self {
        Units {
            input: raw.input,
            display: raw.display,
            label_written: raw.label.is_some(),
            label: raw.label.unwrap_or_else(|| raw.display.label().into()),
            separator: raw.separator,
        }
    }
}

impl Default for Units {
    fn default() -> Self {
        Units {
            input: default_input_unit(),
            display: default_display_unit(),
            label: default_display_unit().label().into(),
            label_written: false,
            separator: None,
        }
    }
}

impl Units {
    /// Factor from input numbers to display numbers.
    pub fn scale(&self) -> f64 {
        self.input.bytes() / self.display.bytes()
    }
}
