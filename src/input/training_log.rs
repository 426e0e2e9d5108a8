//! Reads a training run's stdout log (Megatron-LM, Megatron-Bridge,
//! DeepSpeed, torchtitan, any PyTorch program) and keeps what a heatmap cell
//! needs from it: the peak of each memory metric, Megatron's theoretical
//! memory estimate, the run's config and the first CUDA out-of-memory failure.
//!
//! What it reads, as the frameworks print it (units from their sources):
//! - Megatron-LM `report_memory`: `memory (MB) | allocated: … | max allocated:
//!   … | reserved: … | max reserved: …` (MB = MiB), unrounded floats up to
//!   core_v0.15 and 2 decimals with an optional `| total device memory used: …`
//!   from core_v0.16; `cached`/`max cached` in 2019–20 forks.
//! - Megatron-Bridge `report_memory`: `mem-[max-]{allocated,reserved}-gigabytes:
//!   …` pairs, in decimal GB (its source divides `memory_stats()` by 1.0e9).
//! - DeepSpeed `see_memory_usage` (`MA … GB Max_MA … GB CA … GB Max_CA … GB`)
//!   and `ThroughputTimer` (`MemAllocated=…GB, MaxMemAllocated=…GB`), in GiB.
//! - torchtitan `memory: 39.12GiB(41.18%)`: the reserved peak since the last
//!   log line, so `max_reserved`.
//! - Megatron's `Theoretical memory footprints: …` line (MB = MiB).
//! - Megatron's arguments dump and `using world size: …` line, for the config.
//! - The PyTorch caching allocator's `CUDA out of memory. Tried to allocate …`
//!   in every wording since 2018, and `CUDA error: out of memory`.
//!
//! What it refuses: numbers that are not finite or are negative (`inf`, `nan`,
//! `1e400`, torchtitan's `-1` for a missing statistic) never become readings;
//! they are counted in [`TrainingLog::skipped`] so the caller can warn. A line
//! that only mentions the words (`PYTORCH_CUDA_ALLOC_CONF`, "no out of memory
//! errors", `--empty-unused-memory-level`) is not an out-of-memory failure: that
//! takes the allocator's own `CUDA out of memory. Tried to allocate` or CUDA's
//! `CUDA error: out of memory`. A line is looked at only up to
//! [`MAX_LINE_BYTES`], and only if it passes [`Scanner::worth_a_look`], so a
//! Bridge report split across two lines loses the part after the split.
//!
//! Why it is built this way: logs run to tens of megabytes and memheat reads a
//! hundred of them per build, so the scanner is a line-at-a-time state machine
//! that holds no line after it returns, and most lines get only a cheap test
//! (see [`Scanner::worth_a_look`]): two SIMD substring searches, about 3 ms
//! each per 50 MB on a 2-core build machine, where one regex over all the
//! keywords took 10. Only lines that pass meet a regex. The regexes are the `regex` crate's (linear in the
//! line) and match anywhere in a line, since launchers prefix lines (`12: `,
//! `[rank3]: `) and ranks' output gets glued mid-line; every match on a line
//! counts. ANSI colour codes are stripped first, into one buffer reused for
//! the whole file.
//!
//! A log to which a restarted job appended holds several runs. Everything
//! except `formats`, `lines` and `runs` describes the last one, as a user who
//! reran a job expects: see [`TrainingLog::runs`] for how a new run is told.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use memchr::memmem::Finder;
use regex::bytes::{Captures, Match, Regex};

/// Longest part of a line looked at: memheat's line reader skips longer lines,
/// and the cap keeps a line's scan time bounded even if a caller does not.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;

/// Most config entries kept from one run (Megatron prints about 500); later
/// ones are counted in [`TrainingLog::config_dropped`]. The short aliases
/// come on top.
pub(crate) const MAX_CONFIG_ENTRIES: usize = 4096;

/// Longest config value kept, in bytes; a longer one (a data-path list) is cut
/// at a character boundary and ends in `…`, and counted as dropped.
pub(crate) const MAX_CONFIG_VALUE_BYTES: usize = 256;

/// Longest config name kept, in bytes; Megatron's longest is under 64.
pub(crate) const MAX_CONFIG_NAME_BYTES: usize = 128;

/// Metric names, as a spec names them.
pub(crate) const ALLOCATED: &str = "allocated";
pub(crate) const MAX_ALLOCATED: &str = "max_allocated";
pub(crate) const RESERVED: &str = "reserved";
pub(crate) const MAX_RESERVED: &str = "max_reserved";
pub(crate) const DEVICE_USED: &str = "device_used";

/// Short config names a spec can use, and the raw names they stand for, the
/// first one present winning (Megatron v1 called tensor parallelism
/// `model_parallel_size`).
const ALIASES: [(&str, &[&str]); 9] = [
    ("tp", &["tensor_model_parallel_size", "model_parallel_size"]),
    ("pp", &["pipeline_model_parallel_size"]),
    ("dp", &["data_parallel_size"]),
    ("cp", &["context_parallel_size"]),
    ("ep", &["expert_model_parallel_size"]),
    ("vpp", &["virtual_pipeline_model_parallel_size"]),
    ("mbs", &["micro_batch_size"]),
    ("gbs", &["global_batch_size"]),
    ("layers", &["num_layers"]),
];

const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * MIB;
const GB: f64 = 1e9;

/// One reading: the largest seen, and where.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Reading {
    pub(crate) bytes: f64,
    /// 1-based.
    pub(crate) line: usize,
}

/// Megatron's theoretical memory for the most-loaded shard, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) enum Theory {
    /// As printed; Megatron's total is weight and optimizer plus activation.
    Known {
        total: f64,
        weight_and_optimizer: f64,
        activation: f64,
        line: usize,
    },
    /// Megatron before a6c6250f (Aug 2025) computed activations only with
    /// sequence parallelism and selective recompute, and otherwise printed
    /// `weight and optimizer=… MB` alone: a lower bound, not a total.
    WeightsOnly {
        weight_and_optimizer: f64,
        line: usize,
    },
    /// Hybrid Mamba-Transformer models: Megatron says it cannot estimate.
    Unsupported { line: usize },
    #[default]
    Absent,
}

/// A CUDA out-of-memory failure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Oom {
    pub(crate) line: usize,
    pub(crate) requested_bytes: Option<f64>,
    /// The device's total memory, as the allocator printed it.
    pub(crate) capacity_bytes: Option<f64>,
    /// The message family: `allocator` (torch 2.1+ wording, typo `capacty`
    /// included), `allocator-legacy` (`(GPU 4; 79.17 GiB total capacity; …`),
    /// `allocator-truncated` (cut before the capacity) or `cuda-error`.
    pub(crate) kind: &'static str,
    /// The exception class printed before the message, when on the same line:
    /// `torch.OutOfMemoryError` (2.5+), `torch.cuda.OutOfMemoryError` (1.13+),
    /// `RuntimeError` (older), `OutOfMemoryError`, `torch.AcceleratorError`.
    pub(crate) exception: Option<&'static str>,
}

/// What a log says; see the module doc for which run it describes.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct TrainingLog {
    /// Formats recognised, in the order first seen: `megatron`,
    /// `megatron-bridge`, `deepspeed`, `torchtitan`. The theory line alone
    /// names none (Megatron and Bridge print the same one).
    pub(crate) formats: Vec<&'static str>,
    /// The largest value of each metric over every reading (all ranks, all
    /// iterations), in bytes, and the line of its first occurrence.
    pub(crate) metrics: BTreeMap<&'static str, Reading>,
    pub(crate) theory: Theory,
    /// Raw names from the arguments dump and the world-size line, plus the
    /// aliases (`tp`, `pp`, …); value as printed; line. A name seen twice
    /// keeps its first value.
    pub(crate) config: BTreeMap<String, (String, usize)>,
    /// The first out-of-memory failure.
    pub(crate) oom: Option<Oom>,
    /// Lines seen (the highest line number given).
    pub(crate) lines: usize,
    /// Readings refused: not finite, negative, or too large once in bytes.
    pub(crate) skipped: usize,
    /// Config entries dropped or cut by the limits above.
    pub(crate) config_dropped: usize,
    /// Runs in the file. A new one starts at a run header (an arguments dump
    /// or a world-size line) when the current run already had a header of
    /// that kind, or had a header and then readings, a theory line or an OOM.
    /// The world-size line is read only before a run's dump and readings (see
    /// [`Scanner::worth_a_look`]), so a restart usually starts at its dump.
    pub(crate) runs: usize,
    /// Line where the last run starts (1 if the file holds one run).
    pub(crate) run_line: usize,
}

/// Streaming state; one per file.
#[derive(Debug)]
pub(crate) struct Scanner {
    log: TrainingLog,
    /// Between the arguments dump's two marker lines. A dump without its end
    /// marker ends at the next run header or when training shows (a reading,
    /// the theory line, an OOM); until then [`MAX_CONFIG_ENTRIES`] bounds it.
    in_dump: bool,
    saw_dump: bool,
    saw_world_size: bool,
    /// A line without its colour codes, reused so that no line allocates.
    scratch: Vec<u8>,
}

impl Scanner {
    pub(crate) fn new() -> Scanner {
        Scanner {
            log: TrainingLog {
                runs: 1,
                run_line: 1,
                ..TrainingLog::default()
            },
            in_dump: false,
            saw_dump: false,
            saw_world_size: false,
            scratch: Vec::new(),
        }
    }

    /// One line without its ending; `number` is 1-based.
    pub(crate) fn line(&mut self, number: usize, line: &[u8]) {
        self.log.lines = self.log.lines.max(number);
        let mut line = line.get(..MAX_LINE_BYTES).unwrap_or(line);
        while let [rest @ .., b'\r' | b'\n'] = line {
            line = rest;
        }
        if !self.worth_a_look(line) {
            return;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        self.scan(number, without_ansi(line, &mut scratch));
        self.scratch = scratch;
    }

    /// Whether a line can hold anything this module reads. Every family's line
    /// has `memory` in it (Megatron, Bridge, theory, out of memory, torchtitan,
    /// DeepSpeed's logger prefix) or `Max` (DeepSpeed), except the run
    /// headers: the dump's marker lines end in dashes, and the world-size line
    /// is looked for only at the start of a run (before its dump and its first
    /// reading), where every Megatron prints it; a restart's world-size line
    /// therefore goes unread, and its dump, which holds the same sizes, starts
    /// the new run.
    fn worth_a_look(&self, line: &[u8]) -> bool {
        let p = &*PATTERNS;
        self.in_dump
            || p.memory_word.find(line).is_some()
            || p.max_word.find(line).is_some()
            || line.trim_ascii_end().ends_with(b"----")
            || (self.wants_world_size() && p.world_size_line.find(line).is_some())
    }

    fn wants_world_size(&self) -> bool {
        !self.saw_dump && !self.under_way()
    }

    /// Whether training output (not just headers) has appeared in this run.
    fn under_way(&self) -> bool {
        let log = &self.log;
        !log.metrics.is_empty() || log.theory != Theory::Absent || log.oom.is_some()
    }

    pub(crate) fn finish(self) -> TrainingLog {
        let mut log = self.log;
        for (alias, sources) in ALIASES {
            let found = sources.iter().find_map(|name| log.config.get(*name));
            if let Some(value) = found.cloned() {
                log.config.entry(alias.to_owned()).or_insert(value);
            }
        }
        log
    }

    fn scan(&mut self, number: usize, text: &[u8]) {
        let p = &*PATTERNS;
        if p.args_marker.find(text).is_some() && self.args_marker(number, text) {
            return;
        }
        if self.in_dump && self.argument(number, text) {
            return;
        }
        if self.wants_world_size() && p.world_size_line.find(text).is_some() {
            self.world_size(number, text);
        }
        self.readings(number, text);
        if p.theory_line.find(text).is_some() {
            self.theory(number, text);
        }
        if self.log.oom.is_none() && p.oom_words.find(text).is_some() {
            self.oom(number, text);
        }
    }

    /// Whether `text` was a dump marker.
    fn args_marker(&mut self, number: usize, text: &[u8]) -> bool {
        if PATTERNS.args_end.is_match(text) {
            self.in_dump = false;
            return true;
        }
        if !PATTERNS.args_begin.is_match(text) {
            return false;
        }
        self.header(Header::Dump, number);
        self.note_format("megatron");
        self.in_dump = true;
        true
    }

    /// Whether `text` was one `  name ..... value` line of the dump.
    fn argument(&mut self, number: usize, text: &[u8]) -> bool {
        let Some(c) = PATTERNS.argument.captures(text) else {
            return false;
        };
        let (Some(name), Some(dots)) = (c.get(1), c.get(2)) else {
            return false;
        };
        // Megatron pads names to 48 (32 before 2021) with dots, so a line
        // without dots and with a short name is some other output interleaved.
        if dots.is_empty() && name.len() < 32 {
            return false;
        }
        let value = c.get(3).map_or(&b""[..], |m| m.as_bytes()).trim_ascii_end();
        self.set_config(name.as_bytes(), value, number);
        true
    }

    fn world_size(&mut self, number: usize, text: &[u8]) {
        let p = &*PATTERNS;
        let mut sizes = p.world_size.captures_iter(text).peekable();
        if sizes.peek().is_none() {
            return;
        }
        self.header(Header::WorldSize, number);
        self.note_format("megatron");
        for c in sizes {
            let (Some(label), Some(value)) = (c.get(1), c.get(2)) else {
                continue;
            };
            let name = match label.as_bytes() {
                b"world" => "world_size",
                b"data-parallel" => "data_parallel_size",
                b"context-parallel" => "context_parallel_size",
                b"tensor-model-parallel" => "tensor_model_parallel_size",
                b"pipeline-model-parallel" => "pipeline_model_parallel_size",
                _ => "model_parallel_size",
            };
            self.set_config(name.as_bytes(), value.as_bytes(), number);
        }
    }

    /// A run header; it may start a new run (see [`TrainingLog::runs`]).
    fn header(&mut self, header: Header, number: usize) {
        let seen_same = match header {
            Header::Dump => self.saw_dump,
            Header::WorldSize => self.saw_world_size,
        };
        if seen_same || (self.under_way() && (self.saw_dump || self.saw_world_size)) {
            let previous = std::mem::take(&mut self.log);
            self.log = TrainingLog {
                formats: previous.formats,
                lines: previous.lines,
                runs: previous.runs + 1,
                run_line: number,
                ..TrainingLog::default()
            };
            self.saw_dump = false;
            self.saw_world_size = false;
            self.in_dump = false;
        }
        match header {
            Header::Dump => self.saw_dump = true,
            Header::WorldSize => self.saw_world_size = true,
        }
    }

    fn set_config(&mut self, name: &[u8], value: &[u8], number: usize) {
        let config = &mut self.log.config;
        if name.len() > MAX_CONFIG_NAME_BYTES || config.len() >= MAX_CONFIG_ENTRIES {
            self.log.config_dropped += 1;
            return;
        }
        let name = String::from_utf8_lossy(name);
        if config.contains_key(&*name) {
            return;
        }
        let cut = value.len() > MAX_CONFIG_VALUE_BYTES;
        let mut value = String::from_utf8_lossy(value).into_owned();
        if cut {
            value.truncate(value.floor_char_boundary(MAX_CONFIG_VALUE_BYTES));
            value.push('…');
            self.log.config_dropped += 1;
        }
        config.insert(name.into_owned(), (value, number));
    }

    fn readings(&mut self, number: usize, text: &[u8]) {
        for family in &PATTERNS.families {
            if family.keyword.find(text).is_none() {
                continue;
            }
            for c in family.regex.captures_iter(text) {
                self.note_format(family.format);
                for (group, metric) in FIELDS {
                    self.record(metric, c.name(group), family.unit, number);
                }
            }
        }
    }

    /// Keeps `digits × unit` if it is the largest `metric` yet. A metric a
    /// format does not print (`digits` is `None`) is not a reading.
    fn record(&mut self, metric: &'static str, digits: Option<Match>, unit: f64, number: usize) {
        let Some(digits) = digits else { return };
        // Training has started: a dump without its end marker is over.
        self.in_dump = false;
        let Some(bytes) = to_bytes(digits.as_bytes(), unit) else {
            self.log.skipped += 1;
            return;
        };
        let reading = Reading {
            bytes,
            line: number,
        };
        let best = self.log.metrics.entry(metric).or_insert(reading);
        if bytes > best.bytes {
            *best = reading;
        }
    }

    fn theory(&mut self, number: usize, text: &[u8]) {
        // Printed once per run (Bridge repeats it): the first stands.
        if self.log.theory != Theory::Absent {
            return;
        }
        self.in_dump = false;
        if PATTERNS.theory_unsupported.find(text).is_some() {
            self.log.theory = Theory::Unsupported { line: number };
            return;
        }
        let Some(c) = PATTERNS.theory.captures(text) else {
            return;
        };
        let mib = |name: &str| c.name(name).map(|m| to_bytes(m.as_bytes(), MIB));
        self.log.theory = match (mib("w"), mib("a"), mib("t")) {
            (Some(Some(w)), Some(Some(a)), Some(Some(t))) => Theory::Known {
                total: t,
                weight_and_optimizer: w,
                activation: a,
                line: number,
            },
            (Some(Some(w)), None, None) => Theory::WeightsOnly {
                weight_and_optimizer: w,
                line: number,
            },
            _ => {
                self.log.skipped += 1;
                Theory::Absent
            }
        };
    }

    fn oom(&mut self, number: usize, text: &[u8]) {
        let p = &*PATTERNS;
        let (c, requested_bytes, capacity_bytes, kind) =
            if let Some(c) = p.oom_allocator.captures(text) {
                let requested = size(&c, "req", "req_unit");
                let (capacity, kind) = if c.name("cap").is_some() {
                    (size(&c, "cap", "cap_unit"), "allocator")
                } else if c.name("old_cap").is_some() {
                    (size(&c, "old_cap", "old_cap_unit"), "allocator-legacy")
                } else {
                    (None, "allocator-truncated")
                };
                (c, requested, capacity, kind)
            } else if let Some(c) = p.oom_cuda_error.captures(text) {
                (c, None, None, "cuda-error")
            } else {
                return;
            };
        let exception = exception(&c);
        self.in_dump = false;
        self.log.oom = Some(Oom {
            line: number,
            requested_bytes,
            capacity_bytes,
            kind,
            exception,
        });
    }

    fn note_format(&mut self, format: &'static str) {
        if !self.log.formats.contains(&format) {
            self.log.formats.push(format);
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Header {
    Dump,
    WorldSize,
}

/// `digits × unit` when that is a finite, non-negative number of bytes.
fn to_bytes(digits: &[u8], unit: f64) -> Option<f64> {
    let value: f64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    let bytes = value * unit;
    (bytes.is_finite() && !bytes.is_sign_negative()).then_some(bytes)
}

/// A size the allocator formatted (`format_size`: bytes, KiB, MiB or GiB).
fn size(c: &Captures, number: &str, unit: &str) -> Option<f64> {
    let unit = match c.name(unit)?.as_bytes() {
        b"bytes" => 1.0,
        b"KiB" => 1024.0,
        b"MiB" => MIB,
        _ => GIB,
    };
    to_bytes(c.name(number)?.as_bytes(), unit)
}

fn exception(c: &Captures) -> Option<&'static str> {
    const CLASSES: [&str; 5] = [
        "torch.OutOfMemoryError",
        "torch.cuda.OutOfMemoryError",
        "RuntimeError",
        "OutOfMemoryError",
        "torch.AcceleratorError",
    ];
    let printed = c.name("exc")?.as_bytes();
    CLASSES
        .into_iter()
        .find(|class| class.as_bytes() == printed)
}

/// `line` without ANSI CSI sequences (`ESC [ params final`), copied into
/// `scratch` only when it has an ESC.
fn without_ansi<'a>(line: &'a [u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
    if memchr::memchr(0x1b, line).is_none() {
        return line;
    }
    scratch.clear();
    let mut rest = line;
    while let Some((before, escape)) =
        memchr::memchr(0x1b, rest).and_then(|at| rest.split_at_checked(at))
    {
        scratch.extend_from_slice(before);
        rest = after_escape(escape);
    }
    scratch.extend_from_slice(rest);
    scratch
}

/// What follows the escape sequence at the start of `s` (which is an ESC).
fn after_escape(s: &[u8]) -> &[u8] {
    let after_esc = s.get(1..).unwrap_or_default();
    let Some((b'[', params)) = after_esc.split_first() else {
        return after_esc;
    };
    // Parameter and intermediate bytes are 0x20–0x3F, the final byte 0x40–0x7E.
    let end = params.iter().position(|b| !(0x20..=0x3f).contains(b));
    match end {
        Some(at) if params.get(at).is_some_and(|b| (0x40..=0x7e).contains(b)) => {
            params.get(at + 1..).unwrap_or_default()
        }
        Some(at) => params.get(at..).unwrap_or_default(),
        None => &[],
    }
}

/// `source` with each `#name#` replaced by a number captured as `name`: as
/// Python prints an int or a float, or the spellings of the values refused, so
/// that a refused reading is counted rather than unseen.
fn pattern(source: &str) -> Regex {
    let number = r"[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|(?i:inf|nan))";
    let mut expanded = String::from("(?-u)");
    for (i, part) in source.split('#').enumerate() {
        if i % 2 == 0 {
            expanded.push_str(part);
        } else {
            expanded.push_str(&format!("(?P<{part}>{number})"));
        }
    }
    Regex::new(&expanded).expect("built-in patterns are valid")
}

/// The capture names of the readings' regexes, and the metrics they fill.
const FIELDS: [(&str, &str); 5] = [
    ("a", ALLOCATED),
    ("ma", MAX_ALLOCATED),
    ("r", RESERVED),
    ("mr", MAX_RESERVED),
    ("du", DEVICE_USED),
];

/// One way of printing memory readings.
struct Family {
    format: &'static str,
    /// In every line of the family: the regex runs only where it is.
    keyword: Finder<'static>,
    /// Captures named as in [`FIELDS`].
    regex: Regex,
    /// Bytes per printed unit.
    unit: f64,
}

struct Patterns {
    memory_word: Finder<'static>,
    max_word: Finder<'static>,
    families: [Family; 5],
    theory_line: Finder<'static>,
    theory_unsupported: Finder<'static>,
    theory: Regex,
    args_marker: Finder<'static>,
    args_begin: Regex,
    args_end: Regex,
    argument: Regex,
    world_size_line: Finder<'static>,
    world_size: Regex,
    oom_words: Finder<'static>,
    oom_allocator: Regex,
    oom_cuda_error: Regex,
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| {
    let family = |format: &'static str, keyword: &'static [u8], source: &str, unit: f64| Family {
        format,
        keyword: Finder::new(keyword),
        regex: pattern(source),
        unit,
    };
    Patterns {
        memory_word: Finder::new(b"memory"),
        max_word: Finder::new(b"Max"),
        families: [
            family(
                "megatron",
                b"memory (MB)",
                r"memory \(MB\)\s*\|\s*allocated:\s*#a#\s*\|\s*max allocated:\s*#ma#\s*\|\s*(?:reserved|cached):\s*#r#\s*\|\s*max (?:reserved|cached):\s*#mr#(?:\s*\|\s*total device memory used:\s*#du#)?",
                MIB,
            ),
            family(
                "megatron-bridge",
                b"-gigabytes:",
                r"mem-allocated-gigabytes:\s*#a#|mem-max-allocated-gigabytes:\s*#ma#|mem-reserved-gigabytes:\s*#r#|mem-max-reserved-gigabytes:\s*#mr#",
                GB,
            ),
            family(
                "deepspeed",
                b"Max_MA",
                r"\bMA\s+#a#\s*GB[\s|]*Max_MA\s+#ma#\s*GB[\s|]*CA\s+#r#\s*GB[\s|]*Max_CA\s+#mr#\s*GB",
                GIB,
            ),
            family(
                "deepspeed",
                b"MemAllocated=",
                r"\bMemAllocated=#a#\s*GB,\s*MaxMemAllocated=#ma#\s*GB",
                GIB,
            ),
            family(
                "torchtitan",
                b"GiB(",
                r"\bmemory:\s*#mr#\s*GiB\(\s*#pct#\s*%\)",
                GIB,
            ),
        ],
        theory_line: Finder::new(b"Theoretical memory footprints"),
        theory_unsupported: Finder::new(b"Theoretical memory footprints not yet supported"),
        theory: pattern(
            r"Theoretical memory footprints: weight and optimizer=#w# MB(?:, activation=#a# MB, total=#t# MB)?",
        ),
        args_marker: Finder::new(b"arguments -"),
        args_begin: pattern(r"-{4,} arguments -{4,}"),
        args_end: pattern(r"-{4,} end of arguments -{4,}"),
        argument: pattern(r"  ([A-Za-z_][A-Za-z0-9_]*) (\.*)(?: (.*))?$"),
        world_size_line: Finder::new(b"using world size"),
        // A label preceded by `-` is another one's tail (`encoder-tensor-…`);
        // `sizes:` (hierarchical context-parallel) is a list, not a size.
        world_size: pattern(
            r"(?:^|[^-])(world|data-parallel|context-parallel|tensor-model-parallel|pipeline-model-parallel|model-parallel)[ -]size: ([^,\s]+)",
        ),
        oom_words: Finder::new(b"out of memory"),
        oom_allocator: pattern(
            r"(?:(?P<exc>torch\.OutOfMemoryError|torch\.cuda\.OutOfMemoryError|RuntimeError|OutOfMemoryError): )?CUDA out of memory\. Tried to allocate #req# ?(?P<req_unit>bytes|KiB|MiB|GiB)(?:\. GPU (?:[0-9]+ has a total capaci?ty of #cap# ?(?P<cap_unit>bytes|KiB|MiB|GiB))?| \(GPU (?:[0-9]+; #old_cap# ?(?P<old_cap_unit>bytes|KiB|MiB|GiB) total capacity)?)?",
        ),
        oom_cuda_error: pattern(
            r"(?:(?P<exc>RuntimeError|torch\.AcceleratorError|torch\.cuda\.OutOfMemoryError|torch\.OutOfMemoryError): )?(?:CUDA error: out of memory|cuda runtime error \(2\) : out of memory)",
        ),
    }
});

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn scan(text: &[u8]) -> TrainingLog {
        let mut scanner = Scanner::new();
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            scanner.line(i + 1, line);
        }
        scanner.finish()
    }

    fn metric(log: &TrainingLog, name: &str) -> Option<(f64, usize)> {
        log.metrics.get(name).map(|r| (r.bytes, r.line))
    }

    fn config<'a>(log: &'a TrainingLog, name: &str) -> Option<(&'a str, usize)> {
        log.config
            .get(name)
            .map(|(value, line)| (value.as_str(), *line))
    }

    #[test]
    fn megatron_unrounded_with_rank_prefix() {
        let log = scan(b"noise\n[Rank 5] (after 10 iterations) memory (MB) | allocated: 10250.5693359375 | max allocated: 96745.81 | reserved: 96883.0 | max reserved: 96884.0");
        assert_eq!(log.formats, ["megatron"]);
        assert_eq!(metric(&log, ALLOCATED), Some((10250.5693359375 * MIB, 2)));
        assert_eq!(metric(&log, MAX_ALLOCATED), Some((96745.81 * MIB, 2)));
        assert_eq!(metric(&log, RESERVED), Some((96883.0 * MIB, 2)));
        assert_eq!(metric(&log, MAX_RESERVED), Some((96884.0 * MIB, 2)));
        assert_eq!(metric(&log, DEVICE_USED), None);
        assert_eq!((log.lines, log.skipped, log.runs), (2, 0, 1));
    }

    #[test]
    fn megatron_two_decimals_with_device_memory() {
        let log = scan(b"[Rank 0] (after 2 iterations) memory (MB) | allocated: 65639.96 | max allocated: 96745.81 | reserved: 96883.21 | max reserved: 96883.21 | total device memory used: 97495.71");
        assert_eq!(metric(&log, DEVICE_USED), Some((97495.71 * MIB, 1)));
        assert_eq!(metric(&log, MAX_ALLOCATED), Some((96745.81 * MIB, 1)));
    }

    #[test]
    fn megatron_2020_without_rank_and_with_cached() {
        let log = scan(b"(after 100 iterations) memory (MB) | allocated: 5433.40478515625 | max allocated: 10069.91796875 | cached: 10528.0 | max cached: 10530.0");
        assert_eq!(metric(&log, MAX_ALLOCATED), Some((10069.91796875 * MIB, 1)));
        assert_eq!(metric(&log, RESERVED), Some((10528.0 * MIB, 1)));
        assert_eq!(metric(&log, MAX_RESERVED), Some((10530.0 * MIB, 1)));
    }

    #[test]
    fn the_largest_reading_over_ranks_and_iterations_wins_with_its_first_line() {
        let report = |max: &str| {
            format!(
                "[Rank 1] (after 10 iterations) memory (MB) | allocated: 1.0 | max allocated: {max} | reserved: 2.0 | max reserved: 2.0\n"
            )
        };
        let text = [
            report("100.5"),
            report("300.25"),
            report("200.0"),
            report("300.25"),
        ]
        .concat();
        let log = scan(text.as_bytes());
        assert_eq!(metric(&log, MAX_ALLOCATED), Some((300.25 * MIB, 2)));
        assert_eq!(log.lines, 5);
    }

    #[test]
    fn two_ranks_glued_on_one_line_both_count() {
        let log = scan(b"12: [Rank 0] (after 10 iterations) memory (MB) | allocated: 1.5 | max allocated: 20.0 | reserved: 30.0 | max reserved: 30.0[Rank 1] (after 10 iterations) memory (MB) | allocated: 2.5 | max allocated: 25.0 | reserved: 28.0 | max reserved: 29.0");
        assert_eq!(metric(&log, ALLOCATED), Some((2.5 * MIB, 1)));
        assert_eq!(metric(&log, MAX_ALLOCATED), Some((25.0 * MIB, 1)));
        assert_eq!(metric(&log, RESERVED), Some((30.0 * MIB, 1)));
    }

    #[test]
    fn bridge_decimal_gigabytes_with_launcher_prefix_and_glued_ranks() {
        let log = scan(b"p4_v2_perf/0 [Rank 1] (after 2 iterations) memory (GB) | mem-allocated-gigabytes: 63.66 | mem-active-gigabytes: 63.66 | mem-inactive-gigabytes: 20.563 | mem-reserved-gigabytes: 182.2 | mem-max-allocated-gigabytes: 153.4 | mem-max-active-gigabytes: 169.96 | mem-max-inactive-gigabytes: 32.473 | mem-max-reserved-gigabytes: 182.2 | mem-alloc-retires: 0 | mem-allocated-count: 507p4_v2_perf/0 [Rank 2] (after 2 iterations) memory (GB) | mem-allocated-gigabytes: 61.881 | mem-max-allocated-gigabytes: 153.47 | mem-max-reserved-gigabytes: 182.24 | mem-reserved-gigabytes: 1.2e-05");
        assert_eq!(log.formats, ["megatron-bridge"]);
        assert_eq!(metric(&log, ALLOCATED), Some((63.66e9, 1)));
        assert_eq!(metric(&log, MAX_ALLOCATED), Some((153.47 * GB, 1)));
        assert_eq!(metric(&log, RESERVED), Some((182.2 * GB, 1)));
        assert_eq!(metric(&log, MAX_RESERVED), Some((182.24 * GB, 1)));
        assert_eq!(log.skipped, 0);
    }

    #[test]
    fn deepspeed_see_memory_usage_with_and_without_logger_prefix() {
        let log = scan(b"[2024-05-01 12:00:00,001] [INFO] [utils.py:782:see_memory_usage] MA 1.08 GB         Max_MA 1.17 GB         CA 1.17 GB         Max_CA 1 GB \nMA 2.0 GB         Max_MA 3.25 GB         CA 2.5 GB         Max_CA 4 GB \nCPU Virtual Memory:  used = 27.1 GB, percent = 5.4%");
        assert_eq!(log.formats, ["deepspeed"]);
        assert_eq!(metric(&log, ALLOCATED), Some((2.0 * GIB, 2)));
        assert_eq!(metric(&log, MAX_ALLOCATED), Some((3.25 * GIB, 2)));
        assert_eq!(metric(&log, RESERVED), Some((2.5 * GIB, 2)));
        assert_eq!(metric(&log, MAX_RESERVED), Some((4.0 * GIB, 2)));
    }

    #[test]
    fn deepspeed_throughput_timer() {
        let log = scan(b"[2024-05-01 12:00:05,000] [INFO] [timer.py:260:stop] epoch=0/micro_step=10/global_step=10, RunningAvgSamplesPerSec=31.2, CurrSamplesPerSec=31.9, MemAllocated=12.3GB, MaxMemAllocated=14.5GB");
        assert_eq!(log.formats, ["deepspeed"]);
        assert_eq!(metric(&log, ALLOCATED), Some((12.3 * GIB, 1)));
        assert_eq!(metric(&log, MAX_ALLOCATED), Some((14.5 * GIB, 1)));
    }

    #[test]
    fn torchtitan_with_and_without_colour() {
        let coloured = b"[titan] 2025-05-01 10:00:10,000 - root - INFO - \x1b[31mstep: 10  \x1b[32mloss:  7.1234  \x1b[38;2;180;60;0mgrad_norm:  1.5000  \x1b[38;2;54;234;195mmemory: 39.12GiB(41.18%)  \x1b[34mtps: 1,234  \x1b[36mtflops: 56.78  \x1b[35mmfu: 5.74%\x1b[39m";
        let log = scan(coloured);
        assert_eq!(log.formats, ["torchtitan"]);
        assert_eq!(metric(&log, MAX_RESERVED), Some((39.12 * GIB, 1)));
        let plain = scan(b"step: 20  loss:  7.0000  grad_norm:  1.5000  memory:  9.50GiB(10.00%)  tps: 1,234\nCUDA capacity: NVIDIA H100 80GB HBM3 with 79.19GiB memory");
        assert_eq!(metric(&plain, MAX_RESERVED), Some((9.5 * GIB, 1)));
        assert_eq!(plain.metrics.len(), 1);
    }

    #[test]
    fn colour_codes_anywhere_are_ignored() {
        let log = scan(b"\x1b[1m[Rank 0]\x1b[0m (after 10 iterations) memory (MB) |\x1b[33m allocated: 1\x1b[0m.5 | max allocated: 2.0 | reserved: 3.0 | max reserved: 3.0\x1b");
        assert_eq!(metric(&log, ALLOCATED), Some((1.5 * MIB, 1)));
    }

    #[test]
    fn theory_with_activation_is_known() {
        let log = scan(b"x\nTheoretical memory footprints: weight and optimizer=7211.88 MB, activation=1234.50 MB, total=8446.38 MB\nTheoretical memory footprints: weight and optimizer=1.00 MB, activation=1.00 MB, total=2.00 MB");
        let known = Theory::Known {
            total: 8446.38 * MIB,
            weight_and_optimizer: 7211.88 * MIB,
            activation: 1234.5 * MIB,
            line: 2,
        };
        assert_eq!(log.theory, known);
        assert!(log.formats.is_empty());
    }

    #[test]
    fn theory_with_weights_only_has_no_total() {
        let log =
            scan(b"[lrdn0137:0]:Theoretical memory footprints: weight and optimizer=9884.48 MB");
        let weights = Theory::WeightsOnly {
            weight_and_optimizer: 9884.48 * MIB,
            line: 1,
        };
        assert_eq!(log.theory, weights);
    }

    #[test]
    fn theory_unsupported_absent_and_unreadable() {
        let hybrid = scan(
            b"Theoretical memory footprints not yet supported for hybrid Mamba-Transformer models.",
        );
        assert_eq!(hybrid.theory, Theory::Unsupported { line: 1 });
        assert_eq!(scan(b"no theory here").theory, Theory::Absent);
        let bad = scan(b"Theoretical memory footprints: weight and optimizer=nan MB, activation=1.00 MB, total=nan MB");
        assert_eq!((bad.theory, bad.skipped), (Theory::Absent, 1));
    }

    const DUMP_2024: &[u8] = b"using world size: 64, data-parallel size: 2, context-parallel size: 1, hierarchical context-parallel sizes: None, tensor-model-parallel size: 4, pipeline-model-parallel size: 8
  tensor_model_parallel_size ...... 99
------------------------ arguments ------------------------
  data_path ....................................... ['/data/a', '/data/b']
  micro_batch_size ................................ 1
WARNING  this line is not an argument
  num_layers ...................................... 32
  pipeline_model_parallel_size .................... 8
  tensor_model_parallel_size ...................... 2
  virtual_pipeline_model_parallel_size ............ None
  sequence_parallel ............................... True
  empty_string .................................... \r
-------------------- end of arguments ---------------------
  after_the_dump .................................. 7";

    #[test]
    fn config_from_dump_and_world_size_line_first_seen_wins() {
        let log = scan(DUMP_2024);
        assert_eq!(log.formats, ["megatron"]);
        assert_eq!(config(&log, "world_size"), Some(("64", 1)));
        assert_eq!(config(&log, "data_parallel_size"), Some(("2", 1)));
        assert_eq!(config(&log, "context_parallel_size"), Some(("1", 1)));
        // The world-size line came first and says 4; the dump's 2 is ignored.
        assert_eq!(config(&log, "tensor_model_parallel_size"), Some(("4", 1)));
        assert_eq!(config(&log, "tp"), Some(("4", 1)));
        assert_eq!(config(&log, "pp"), Some(("8", 1)));
        assert_eq!(config(&log, "dp"), Some(("2", 1)));
        assert_eq!(config(&log, "cp"), Some(("1", 1)));
        assert_eq!(config(&log, "mbs"), Some(("1", 5)));
        assert_eq!(config(&log, "layers"), Some(("32", 7)));
        assert_eq!(config(&log, "vpp"), Some(("None", 10)));
        assert_eq!(
            config(&log, "data_path"),
            Some(("['/data/a', '/data/b']", 4))
        );
        assert_eq!(config(&log, "sequence_parallel"), Some(("True", 11)));
        assert_eq!(config(&log, "empty_string"), Some(("", 12)));
        assert_eq!(config(&log, "WARNING"), None);
        assert_eq!(config(&log, "after_the_dump"), None);
        assert_eq!((config(&log, "ep"), config(&log, "gbs")), (None, None));
        // 11 raw names and 7 aliases.
        assert_eq!(log.config.len(), 18);
    }

    #[test]
    fn config_from_a_2020_dump_whose_long_names_have_no_dots() {
        let log = scan(b"using world size: 16, data-parallel-size: 2, tensor-model-parallel size: 4, pipeline-model-parallel size: 2 \n12: -------------------- arguments --------------------\n12:   accumulate_allreduce_grads_in_fp32  True\n12:   num_layers ...................... 24\n12:   short  x\n12: ---------------- end of arguments ----------------");
        assert_eq!(
            config(&log, "accumulate_allreduce_grads_in_fp32"),
            Some(("True", 3))
        );
        assert_eq!(config(&log, "layers"), Some(("24", 4)));
        assert_eq!(config(&log, "dp"), Some(("2", 1)));
        assert_eq!(config(&log, "tp"), Some(("4", 1)));
        assert_eq!(config(&log, "pp"), Some(("2", 1)));
        assert_eq!(config(&log, "short"), None);
    }

    #[test]
    fn world_size_line_variants() {
        let v1 = scan(b"using world size: 8 and model-parallel size: 2 ");
        assert_eq!(
            (config(&v1, "world_size"), config(&v1, "tp")),
            (Some(("8", 1)), Some(("2", 1)))
        );
        let glued = scan(b"using world size: 32, data-parallel size: 1, context-parallel size: 2, hierarchical context-parallel sizes: Nonetensor-model-parallel size: 4, encoder-tensor-model-parallel size: 0, pipeline-model-parallel size: 4, encoder-pipeline-model-parallel size: 0");
        assert_eq!(config(&glued, "tp"), Some(("4", 1)));
        assert_eq!(config(&glued, "pp"), Some(("4", 1)));
        assert_eq!(config(&glued, "cp"), Some(("2", 1)));
        assert_eq!(glued.config.len(), 5 + 4);
        let old = scan(b"using world size: 64, data-parallel size: 8, context-parallel size: 1 tensor-model-parallel size: 4, pipeline-model-parallel size: 2 ");
        assert_eq!(
            (config(&old, "tp"), config(&old, "pp")),
            (Some(("4", 1)), Some(("2", 1)))
        );
        let other = scan(b"torch.distributed: world size: 8, rank 0");
        assert!(other.config.is_empty() && other.formats.is_empty());
    }

    #[test]
    fn a_restart_in_the_same_file_replaces_the_run() {
        let first = b"using world size: 8, data-parallel size: 1, tensor-model-parallel size: 8, pipeline-model-parallel size: 1\n------------------------ arguments ------------------------\n  num_layers ...................................... 32\n-------------------- end of arguments ---------------------\nTheoretical memory footprints: weight and optimizer=10.00 MB, activation=1.00 MB, total=11.00 MB\n[Rank 0] (after 10 iterations) memory (MB) | allocated: 1.0 | max allocated: 900.0 | reserved: 2.0 | max reserved: 2.0\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.21 GiB of which 0 bytes is free.\n";
        let second = b"using world size: 8, data-parallel size: 2, tensor-model-parallel size: 4, pipeline-model-parallel size: 1\n------------------------ arguments ------------------------\n  num_layers ...................................... 16\n  tensor_model_parallel_size ...................... 4\n-------------------- end of arguments ---------------------\n[Rank 0] (after 10 iterations) memory (MB) | allocated: 1.0 | max allocated: 500.0 | reserved: 2.0 | max reserved: 2.0";
        let log = scan(&[&first[..], &second[..]].concat());
        // The second run starts at its dump: its world-size line (8) is not
        // looked for once the first run is under way.
        assert_eq!((log.runs, log.run_line), (2, 9));
        assert_eq!(config(&log, "tp"), Some(("4", 11)));
        assert_eq!(config(&log, "layers"), Some(("16", 10)));
        assert_eq!(
            (config(&log, "dp"), config(&log, "world_size")),
            (None, None)
        );
        assert_eq!(metric(&log, MAX_ALLOCATED), Some((500.0 * MIB, 13)));
        assert_eq!((log.theory, log.oom.is_none()), (Theory::Absent, true));
        assert_eq!((log.lines, log.formats.as_slice()), (13, &["megatron"][..]));
    }

    #[test]
    fn a_second_world_size_line_before_any_dump_or_reading_restarts() {
        let line = "using world size: 8, data-parallel size: 1, tensor-model-parallel size: 8, pipeline-model-parallel size: 1\n";
        let log =
            scan(format!("{line}{}", line.replace("size: 8, data", "size: 16, data")).as_bytes());
        assert_eq!((log.runs, log.run_line), (2, 2));
        assert_eq!(config(&log, "world_size"), Some(("16", 2)));
    }

    #[test]
    fn a_dump_alone_restarts_and_a_dump_after_the_world_size_line_does_not() {
        let dump = "------------------------ arguments ------------------------\n  num_layers ...................................... 32\n-------------------- end of arguments ---------------------\n";
        let log = scan(format!("using world size: 8, data-parallel size: 1, tensor-model-parallel size: 8, pipeline-model-parallel size: 1\n{dump}{dump}").as_bytes());
        assert_eq!((log.runs, log.run_line), (2, 5));
        assert_eq!(config(&log, "layers"), Some(("32", 6)));
        assert_eq!(config(&log, "tp"), None);
    }

    #[test]
    fn a_dump_without_end_marker_closes_when_training_starts() {
        let log = scan(b"------------------------ arguments ------------------------\n  num_layers ...................................... 32\n[Rank 0] (after 10 iterations) memory (MB) | allocated: 1.0 | max allocated: 2.0 | reserved: 3.0 | max reserved: 3.0\n  late_line ....................................... 1");
        assert_eq!(config(&log, "layers"), Some(("32", 2)));
        assert_eq!(config(&log, "late_line"), None);
    }

    fn oom(line: &[u8]) -> Option<Oom> {
        scan(line).oom
    }

    #[test]
    fn oom_torch_2_5_behind_rank_prefix() {
        let found = oom(b"[rank3]: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 29.07 GiB. GPU 3 has a total capacity of 39.43 GiB of which 25.15 GiB is free. Including non-PyTorch memory, this process has 14.27 GiB memory in use. If reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.");
        let expected = Oom {
            line: 1,
            requested_bytes: Some(29.07 * GIB),
            capacity_bytes: Some(39.43 * GIB),
            kind: "allocator",
            exception: Some("torch.OutOfMemoryError"),
        };
        assert_eq!(found, Some(expected));
    }

    #[test]
    fn oom_torch_1_13_with_typo_and_small_units() {
        let found = oom(b"0: torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB. GPU 0 has a total capacty of 512 bytes of which 4.81 KiB is free.");
        let expected = Oom {
            line: 1,
            requested_bytes: Some(20.0 * MIB),
            capacity_bytes: Some(512.0),
            kind: "allocator",
            exception: Some("torch.cuda.OutOfMemoryError"),
        };
        assert_eq!(found, Some(expected));
    }

    #[test]
    fn oom_before_1_13_legacy_wording() {
        let found = oom(b"RuntimeError: CUDA out of memory. Tried to allocate 93.75 GiB (GPU 4; 79.17 GiB total capacity; 1.52 GiB already allocated; 74.14 GiB free; 1.54 GiB reserved in total by PyTorch)");
        let expected = Oom {
            line: 1,
            requested_bytes: Some(93.75 * GIB),
            capacity_bytes: Some(79.17 * GIB),
            kind: "allocator-legacy",
            exception: Some("RuntimeError"),
        };
        assert_eq!(found, Some(expected));
    }

    #[test]
    fn oom_truncated_after_gpu_and_without_class() {
        let found = oom(b"CUDA out of memory. Tried to allocate 29.07 GiB. GPU ");
        let expected = Oom {
            line: 1,
            requested_bytes: Some(29.07 * GIB),
            capacity_bytes: None,
            kind: "allocator-truncated",
            exception: None,
        };
        assert_eq!(found, Some(expected));
    }

    #[test]
    fn oom_cuda_error_forms() {
        let found = oom(b"[rank0]: RuntimeError: CUDA error: out of memory");
        assert_eq!(
            found.map(|o| (o.kind, o.exception, o.requested_bytes)),
            Some(("cuda-error", Some("RuntimeError"), None))
        );
        let thc = oom(b"RuntimeError: cuda runtime error (2) : out of memory at /pytorch/aten/src/THC/generic/THCStorage.cu:58");
        assert_eq!(thc.map(|o| o.kind), Some("cuda-error"));
    }

    #[test]
    fn the_first_oom_is_kept() {
        let log = scan(b"ok\nRuntimeError: CUDA error: out of memory\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.00 GiB. GPU 0 has a total capacity of 2.00 GiB of which 0 bytes is free.");
        assert_eq!(log.oom.map(|o| (o.line, o.kind)), Some((2, "cuda-error")));
    }

    #[test]
    fn words_about_memory_are_not_an_oom() {
        let lines: [&[u8]; 7] = [
            b"If reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for Memory Management",
            b"step 100: no out of memory errors so far",
            b"  empty_unused_memory_level ....................... 0",
            b"usage: pretrain_gpt.py [--empty-unused-memory-level {0,1,2}] # call torch.cuda.empty_cache() to avoid out of memory",
            b"    except torch.cuda.OutOfMemoryError:",
            b"[titan] WARNING - 1 CUDA OOM errors thrown.",
            b"CUDA out of memory. Retrying with a smaller batch",
        ];
        for line in lines {
            assert_eq!(oom(line), None, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn numbers_that_are_not_sizes_are_skipped_and_counted() {
        let log = scan(b"[Rank 0] (after 10 iterations) memory (MB) | allocated: inf | max allocated: nan | reserved: 1e400 | max reserved: -1.0\nstep: 1  memory: -0.00GiB(-0.00%)\nMA 1e308 GB Max_MA 2.0 GB CA 1.0 GB Max_CA 2 GB");
        assert_eq!(log.skipped, 6);
        assert_eq!(log.metrics.len(), 3);
        assert_eq!(metric(&log, MAX_ALLOCATED), Some((2.0 * GIB, 3)));
        assert_eq!(log.formats, ["megatron", "torchtitan", "deepspeed"]);
    }

    #[test]
    fn crlf_leftovers_and_invalid_utf8_are_harmless() {
        let log = scan(b"------------------------ arguments ------------------------\r\n  data_path ....................................... /data/\xff\xfe\r\n  num_layers ...................................... 8\r\r\n-------------------- end of arguments ---------------------\r\n\xff[Rank 0] (after 10 iterations) memory (MB) | allocated: 1.0 | max allocated: 2.0 | reserved: 3.0 | max reserved: 4.0\r");
        assert_eq!(
            config(&log, "data_path"),
            Some(("/data/\u{fffd}\u{fffd}", 2))
        );
        assert_eq!(config(&log, "layers"), Some(("8", 3)));
        assert_eq!(metric(&log, MAX_RESERVED), Some((4.0 * MIB, 5)));
    }

    #[test]
    fn config_limits() {
        let mut text =
            String::from("------------------------ arguments ------------------------\n");
        // `é` straddles the limit, so the cut falls before it.
        let long = format!(
            "{}é{}",
            "x".repeat(MAX_CONFIG_VALUE_BYTES - 1),
            "x".repeat(10)
        );
        text.push_str(&format!("  a_long_value ........ {long}\n"));
        text.push_str(&format!(
            "  {} .. 1\n",
            "n".repeat(MAX_CONFIG_NAME_BYTES + 1)
        ));
        for i in 0..MAX_CONFIG_ENTRIES + 5 {
            text.push_str(&format!("  arg_{i} ...... {i}\n"));
        }
        let log = scan(text.as_bytes());
        let value = log
            .config
            .get("a_long_value")
            .map(|(v, _)| v.clone())
            .unwrap_or_default();
        assert_eq!(value.len(), MAX_CONFIG_VALUE_BYTES - 1 + '…'.len_utf8());
        assert_eq!(
            value,
            format!("{}…", "x".repeat(MAX_CONFIG_VALUE_BYTES - 1))
        );
        assert_eq!(log.config.len(), MAX_CONFIG_ENTRIES);
        // The cut value, the long name, and the arguments past the limit.
        assert_eq!(log.config_dropped, 1 + 1 + 6);
    }

    #[test]
    fn a_line_is_looked_at_up_to_the_cap() {
        let report = b"[Rank 0] (after 10 iterations) memory (MB) | allocated: 1.0 | max allocated: 2.0 | reserved: 3.0 | max reserved: 4.0";
        let mut line = vec![b'a'; MAX_LINE_BYTES - report.len()];
        line.extend_from_slice(report);
        assert_eq!(metric(&scan(&line), MAX_RESERVED), Some((4.0 * MIB, 1)));
        // Ten bytes more, and the cap cuts the report inside `max reserved`.
        line.splice(0..0, [b' '; 10]);
        assert!(scan(&line).metrics.is_empty());
    }

    #[test]
    fn a_line_full_of_near_matches_scans_quickly() {
        let unit = b"memory (MB) | allocated: 1 | max allocated: 2 | reserved: x  mem-max-allocated-gigabytes: 1e5 Max_MA 1 GB GiB( out of memory  ";
        let line: Vec<u8> = unit.iter().copied().cycle().take(MAX_LINE_BYTES).collect();
        let start = std::time::Instant::now();
        let mut scanner = Scanner::new();
        for number in 1..=20 {
            scanner.line(number, &line);
        }
        let log = scanner.finish();
        assert_eq!(metric(&log, MAX_ALLOCATED).map(|(b, _)| b), Some(1e5 * GB));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_lines(lines in proptest::collection::vec(
            proptest::collection::vec(proptest::prop_oneof![
                proptest::collection::vec(proptest::num::u8::ANY, 0..12),
                proptest::sample::select(vec![
                    &b"memory (MB) | allocated: "[..], b" | max allocated: ", b" | reserved: ", b" | max reserved: ",
                    b"1e400", b"12.5", b"-3", b"nan", b".", b"\x1b[", b"\x1b", b"\r", b"mem-max-reserved-gigabytes: ",
                    b"MA 1 GB Max_MA 2 GB CA 3 GB Max_CA ", b"memory: 1GiB(2%)", b"Theoretical memory footprints: weight and optimizer=",
                    b" MB, activation=", b"------------------------ arguments ------------------------",
                    b"-------------------- end of arguments ---------------------", b"  name ..... ", b"using world size: ",
                    b"tensor-model-parallel size: ", b"CUDA out of memory. Tried to allocate ", b" GiB. GPU ", b"CUDA error: out of memory",
                ]).prop_map(|s| s.to_vec()),
            ], 0..8).prop_map(|parts| parts.concat()),
            0..12,
        )) {
            let mut scanner = Scanner::new();
            for (i, line) in lines.iter().enumerate() {
                scanner.line(i + 1, line);
            }
            let log = scanner.finish();
            proptest::prop_assert!(log.metrics.values().all(|r| r.bytes.is_finite() && r.bytes >= 0.0));
            proptest::prop_assert!(log.lines <= lines.len());
        }
    }
}

/// The fixture writer the example sweeps are made with, tested against
/// the scanner here.
#[cfg(test)]
#[allow(
    unreachable_pub,
    reason = "the fixtures are shared with the examples, whose API they are"
)]
#[path = "../../examples/support/megatron_logs.rs"]
mod megatron_fixtures;

#[cfg(test)]
mod round_trip {
    use std::collections::BTreeMap;

    use super::megatron_fixtures::*;
    use super::{Scanner, Theory, TrainingLog};

    fn runs() -> [Run; 2] {
        [
            // 70123.455078125 MiB is a whole number of 512-byte blocks, as real peaks are.
            Run {
                tp: 4,
                pp: 8,
                dp: 2,
                layers: 32,
                peak_mib: 70123.455078125,
                theory_mib: Some(65432.1),
                oom: false,
            },
            Run {
                tp: 1,
                pp: 1,
                dp: 8,
                layers: 24,
                peak_mib: 8000.0,
                theory_mib: None,
                oom: false,
            },
        ]
    }

    fn scan(text: &str) -> TrainingLog {
        let mut scanner = Scanner::new();
        for (i, line) in text.split('\n').enumerate() {
            scanner.line(i + 1, line.as_bytes());
        }
        scanner.finish()
    }

    /// What a log says, without line numbers (which hostile rewrites change).
    type Summary = (
        Vec<&'static str>,
        BTreeMap<&'static str, f64>,
        BTreeMap<String, String>,
        Option<[f64; 3]>,
        Option<(&'static str, Option<&'static str>, Option<f64>, Option<f64>)>,
    );

    fn summary(log: &TrainingLog) -> Summary {
        let theory = match log.theory {
            Theory::Known {
                total,
                weight_and_optimizer,
                activation,
                ..
            } => Some([total, weight_and_optimizer, activation]),
            Theory::WeightsOnly {
                weight_and_optimizer,
                ..
            } => Some([f64::NAN, weight_and_optimizer, f64::NAN]),
            Theory::Unsupported { .. } | Theory::Absent => None,
        };
        (
            log.formats.clone(),
            log.metrics.iter().map(|(k, r)| (*k, r.bytes)).collect(),
            log.config
                .iter()
                .map(|(k, (v, _))| (k.clone(), v.clone()))
                .collect(),
            theory,
            log.oom
                .as_ref()
                .map(|o| (o.kind, o.exception, o.requested_bytes, o.capacity_bytes)),
        )
    }

    fn expected_format(variant: Variant) -> &'static str {
        match variant {
            Variant::MegatronOld | Variant::MegatronCore015 | Variant::MegatronCore016 => {
                "megatron"
            }
            Variant::Bridge => "megatron-bridge",
            Variant::DeepSpeedLogger | Variant::DeepSpeedPrint => "deepspeed",
            Variant::Torchtitan => "torchtitan",
        }
    }

    #[test]
    fn every_variant_round_trips() {
        for run in runs() {
            for variant in VARIANTS {
                let log = scan(&write_log(&run, variant, NO_OOM));
                let context = format!("{variant:?} {run:?}");
                assert_eq!(log.formats, [expected_format(variant)], "{context}");
                let (metric, bytes) = expected_peak(&run, variant);
                assert_eq!(
                    log.metrics.get(metric).map(|r| r.bytes),
                    Some(bytes),
                    "{context}"
                );
                assert_eq!(
                    (log.oom.clone(), log.skipped, log.runs),
                    (None, 0, 1),
                    "{context}"
                );
                let megatron = expected_format(variant) == "megatron";
                let value = |name: &str| log.config.get(name).map(|(v, _)| v.clone());
                let config = [
                    value("tp"),
                    value("pp"),
                    value("dp"),
                    value("layers"),
                    value("world_size"),
                ];
                let written = [run.tp, run.pp, run.dp, run.layers, run.tp * run.pp * run.dp]
                    .map(|n| Some(n.to_string()));
                assert_eq!(
                    config,
                    if megatron {
                        written
                    } else {
                        Default::default()
                    },
                    "{context}"
                );
                let prints_theory = matches!(
                    variant,
                    Variant::MegatronCore015 | Variant::MegatronCore016 | Variant::Bridge
                );
                let theory = match log.theory {
                    Theory::Known { total, .. } => Some(total),
                    _ => None,
                };
                let expected = run
                    .theory_mib
                    .filter(|_| prints_theory)
                    .map(|mib| mib * MIB);
                assert_eq!(theory, expected, "{context}");
            }
        }
    }

    #[test]
    fn megatron_peaks_are_written_exactly() {
        let run = &runs()[0];
        for variant in [Variant::MegatronOld, Variant::MegatronCore015] {
            assert_eq!(
                expected_peak(run, variant),
                ("max_allocated", 70123.455078125 * MIB)
            );
        }
        // 2 decimals: the peak is rounded first.
        assert_eq!(
            expected_peak(run, Variant::MegatronCore016),
            ("max_allocated", 70123.46 * MIB)
        );
        let rounded = Run {
            peak_mib: 96745.81,
            ..run.clone()
        };
        assert_eq!(
            expected_peak(&rounded, Variant::MegatronCore016),
            ("max_allocated", 96745.81 * MIB)
        );
        assert_eq!(
            scan(&write_log(&rounded, Variant::MegatronCore016, NO_OOM))
                .metrics
                .get("max_allocated")
                .map(|r| r.bytes),
            Some(96745.81 * MIB)
        );
    }

    #[test]
    fn the_peak_is_neither_the_first_nor_the_last_report() {
        let run = &runs()[0];
        let text = write_log(run, Variant::MegatronCore015, NO_OOM);
        let log = scan(&text);
        let line = log.metrics.get("max_allocated").map_or(0, |r| r.line);
        let reports: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains("memory (MB)"))
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(reports.len(), 2 * 32);
        assert!(reports.first() < Some(&line) && Some(&line) < reports.last());
    }

    #[test]
    fn every_oom_era_is_found_with_and_without_rank_prefix() {
        let capacity = 79.21 * GIB;
        let expected = |era| match era {
            OomEra::Torch25 => (
                "allocator",
                Some("torch.OutOfMemoryError"),
                Some(OOM_REQUESTED_BYTES),
                Some(capacity),
            ),
            OomEra::Torch113 => (
                "allocator-legacy",
                Some("torch.cuda.OutOfMemoryError"),
                Some(OOM_REQUESTED_BYTES),
                Some(capacity),
            ),
            OomEra::Torch113Typo => (
                "allocator",
                Some("torch.cuda.OutOfMemoryError"),
                Some(OOM_REQUESTED_BYTES),
                Some(capacity),
            ),
            OomEra::Pre113 => (
                "allocator-legacy",
                Some("RuntimeError"),
                Some(OOM_REQUESTED_BYTES),
                Some(capacity),
            ),
            OomEra::CudaError => ("cuda-error", Some("RuntimeError"), None, None),
            OomEra::Truncated => (
                "allocator-truncated",
                Some("torch.OutOfMemoryError"),
                Some(OOM_REQUESTED_BYTES),
                None,
            ),
        };
        let run = Run {
            oom: true,
            ..runs()[0].clone()
        };
        for variant in VARIANTS {
            for era in ERAS {
                for rank in [None, Some(3)] {
                    let text = write_log(&run, variant, OomStyle { era, rank });
                    let log = scan(&text);
                    let found = log
                        .oom
                        .as_ref()
                        .map(|o| (o.kind, o.exception, o.requested_bytes, o.capacity_bytes));
                    assert_eq!(found, Some(expected(era)), "{variant:?} {era:?} {rank:?}");
                    let traceback_line = text
                        .lines()
                        .position(|l| l.contains("Error: CUDA"))
                        .map(|i| i + 1);
                    assert_eq!(log.oom.map(|o| o.line), traceback_line);
                    let (metric, bytes) = expected_peak(&run, variant);
                    assert_eq!(log.metrics.get(metric).map(|r| r.bytes), Some(bytes));
                }
            }
        }
    }

    #[test]
    fn hostile_rewrites_change_nothing_but_line_numbers() {
        let run = Run {
            oom: true,
            ..runs()[0].clone()
        };
        for variant in VARIANTS {
            let text = write_log(
                &run,
                variant,
                OomStyle {
                    era: OomEra::Torch25,
                    rank: Some(5),
                },
            );
            let clean = summary(&scan(&text));
            for hostile in [
                srun_label(&text, 12),
                glue_ranks(&text),
                crlf(&text),
                crlf(&srun_label(&glue_ranks(&text), 3)),
            ] {
                assert_eq!(summary(&scan(&hostile)), clean, "{variant:?}");
            }
        }
    }

    #[test]
    fn hostile_helpers_do_what_they_say() {
        assert_eq!(srun_label("a\nb\n", 12), "12: a\n12: b\n");
        assert_eq!(crlf("a\nb\n"), "a\r\nb\r\n");
        let glued = glue_ranks(
            "x\n[Rank 0] memory (MB) | a\n[Rank 1] memory (MB) | b\n[Rank 2] memory (MB) | c\ny\n",
        );
        assert_eq!(
            glued,
            "x\n[Rank 0] memory (MB) | a[Rank 1] memory (MB) | b\n[Rank 2] memory (MB) | c\ny\n"
        );
        let text = write_log(&runs()[0], Variant::MegatronCore016, NO_OOM);
        assert_eq!(glue_ranks(&text).lines().count() + 32, text.lines().count());
    }

    #[test]
    fn logs_are_deterministic_and_look_like_the_real_ones() {
        let run = &runs()[0];
        assert_eq!(
            write_log(run, Variant::Bridge, NO_OOM),
            write_log(run, Variant::Bridge, NO_OOM)
        );
        let core = write_log(run, Variant::MegatronCore015, NO_OOM);
        assert!(core.contains("\n  tensor_model_parallel_size ...................... 4\n"));
        assert!(core.contains("Theoretical memory footprints: weight and optimizer=40895.06 MB, activation=24537.04 MB, total=65432.10 MB\n\n"));
        let old = write_log(run, Variant::MegatronOld, NO_OOM);
        assert!(old.contains("\n  accumulate_allreduce_grads_in_fp32  True\n"));
        assert!(old.contains("\n(after 20 iterations) memory (MB) | allocated: 43476.5419921875 | max allocated: 70123.455078125 | reserved: 72930.0 | max reserved: 72930.0\n"));
        let print = write_log(run, Variant::DeepSpeedPrint, NO_OOM);
        assert!(print.contains(
            "\nMA 54.78 GB         Max_MA 68.48 GB         CA 71.9 GB         Max_CA 75 GB \n"
        ));
        assert!(
            write_log(run, Variant::DeepSpeedLogger, NO_OOM)
                .contains("] [INFO] [utils.py:782:see_memory_usage] MA 54.78 GB ")
        );
        assert!(
            write_log(run, Variant::Torchtitan, NO_OOM)
                .contains("\x1b[38;2;54;234;195mmemory: 68.48GiB(86.48%)  \x1b[34m")
        );
        assert!(
            write_log(run, Variant::Bridge, NO_OOM)
                .contains("| mem-max-allocated-gigabytes: 73.53 |")
        );
    }
}
