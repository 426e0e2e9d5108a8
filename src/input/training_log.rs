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
//! `CUDA error: out of memory`.
//!
//! Why it is built this way: logs run to tens of megabytes and memheat reads a
//! hundred of them per build, so the scanner is a line-at-a-time state machine
//! that holds no line after it returns, and a line is looked at only if one of
//! a few keywords is in it (one SIMD pass). The regexes are the `regex` crate's
//! (linear in the line) and match anywhere in a line, since launchers prefix
//! lines (`12: `, `[rank3]: `) and ranks' output gets glued mid-line; every
//! match on a line counts. ANSI colour codes are stripped first, into one
//! buffer reused for the whole file.
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
#[derive(Debug, Clone, PartialEq)]
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
    pub(crate) runs: usize,
    /// Line where the last run starts (1 if the file holds one run).
    pub(crate) run_line: usize,
}

impl Default for TrainingLog {
    fn default() -> Self {
        TrainingLog {
            formats: Vec::new(),
            metrics: BTreeMap::new(),
            theory: Theory::Absent,
            config: BTreeMap::new(),
            oom: None,
            lines: 0,
            skipped: 0,
            config_dropped: 0,
            runs: 1,
            run_line: 1,
        }
    }
}

/// Streaming state; one per file.
#[derive(Debug, Default)]
pub(crate) struct Scanner {
    log: TrainingLog,
    /// Between the arguments dump's two marker lines.
    in_dump: bool,
    /// Argument lines of the current dump, to close a dump that never ends.
    dump_lines: usize,
    saw_dump: bool,
    saw_world_size: bool,
    /// A line without its colour codes, reused so that no line allocates.
    scratch: Vec<u8>,
}

impl Scanner {
    pub(crate) fn new() -> Scanner {
        Scanner::default()
    }

    /// One line without its ending; `number` is 1-based.
    pub(crate) fn line(&mut self, number: usize, line: &[u8]) {
        self.log.lines = self.log.lines.max(number);
        let mut line = line.get(..MAX_LINE_BYTES).unwrap_or(line);
        while let [rest @ .., b'\r' | b'\n'] = line {
            line = rest;
        }
        if !self.in_dump && !PATTERNS.keywords.is_match(line) {
            return;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        self.scan(number, without_ansi(line, &mut scratch));
        self.scratch = scratch;
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
        if p.world_size_line.find(text).is_some() {
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
        self.dump_lines = 0;
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
        self.dump_lines += 1;
        if self.dump_lines >= MAX_CONFIG_ENTRIES {
            self.in_dump = false;
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
        let log = &self.log;
        let under_way =
            !log.metrics.is_empty() || log.theory != Theory::Absent || log.oom.is_some();
        if seen_same || (under_way && (self.saw_dump || self.saw_world_size)) {
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
        let p = &*PATTERNS;
        if p.megatron_line.find(text).is_some() {
            for c in p.megatron.captures_iter(text) {
                self.note_format("megatron");
                self.record(ALLOCATED, c.name("a"), MIB, number);
                self.record(MAX_ALLOCATED, c.name("ma"), MIB, number);
                self.record(RESERVED, c.name("r"), MIB, number);
                self.record(MAX_RESERVED, c.name("mr"), MIB, number);
                self.record(DEVICE_USED, c.name("du"), MIB, number);
            }
        }
        if p.bridge_line.find(text).is_some() {
            for c in p.bridge.captures_iter(text) {
                self.note_format("megatron-bridge");
                let metric = match (c.name("max").is_some(), c.name("what")) {
                    (false, Some(m)) if m.as_bytes() == b"allocated" => ALLOCATED,
                    (true, Some(m)) if m.as_bytes() == b"allocated" => MAX_ALLOCATED,
                    (false, _) => RESERVED,
                    (true, _) => MAX_RESERVED,
                };
                self.record(metric, c.name("v"), GB, number);
            }
        }
        if p.deepspeed_line.find(text).is_some() {
            for c in p.deepspeed.captures_iter(text) {
                self.note_format("deepspeed");
                self.record(ALLOCATED, c.name("a"), GIB, number);
                self.record(MAX_ALLOCATED, c.name("ma"), GIB, number);
                self.record(RESERVED, c.name("r"), GIB, number);
                self.record(MAX_RESERVED, c.name("mr"), GIB, number);
            }
        }
        if p.throughput_line.find(text).is_some() {
            for c in p.throughput.captures_iter(text) {
                self.note_format("deepspeed");
                self.record(ALLOCATED, c.name("a"), GIB, number);
                self.record(MAX_ALLOCATED, c.name("ma"), GIB, number);
            }
        }
        if p.torchtitan_line.find(text).is_some() {
            for c in p.torchtitan.captures_iter(text) {
                self.note_format("torchtitan");
                self.record(MAX_RESERVED, c.name("mr"), GIB, number);
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
        let oom = if let Some(c) = p.oom_allocator.captures(text) {
            let (capacity_bytes, kind) = if c.name("cap").is_some() {
                (size(&c, "cap", "cap_unit"), "allocator")
            } else if c.name("old_cap").is_some() {
                (size(&c, "old_cap", "old_cap_unit"), "allocator-legacy")
            } else {
                (None, "allocator-truncated")
            };
            Oom {
                line: number,
                requested_bytes: size(&c, "req", "req_unit"),
                capacity_bytes,
                kind,
                exception: exception(&c),
            }
        } else if let Some(c) = p.oom_cuda_error.captures(text) {
            Oom {
                line: number,
                requested_bytes: None,
                capacity_bytes: None,
                kind: "cuda-error",
                exception: exception(&c),
            }
        } else {
            return;
        };
        self.in_dump = false;
        self.log.oom = Some(oom);
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

/// A number as Python prints an int or a float, and the spellings of the
/// values refused, so that a refused reading is counted rather than unseen.
fn num(name: &str) -> String {
    format!(
        r"(?P<{name}>[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|(?i:inf|nan)))"
    )
}

struct Patterns {
    /// Any of these in a line makes it worth a closer look: one SIMD pass.
    keywords: Regex,
    megatron_line: Finder<'static>,
    megatron: Regex,
    bridge_line: Finder<'static>,
    bridge: Regex,
    deepspeed_line: Finder<'static>,
    deepspeed: Regex,
    throughput_line: Finder<'static>,
    throughput: Regex,
    torchtitan_line: Finder<'static>,
    torchtitan: Regex,
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
    let re =
        |source: &str| Regex::new(&format!("(?-u){source}")).expect("built-in patterns are valid");
    let sep = r"\s*\|\s*";
    let size_unit = |name: &str| format!(r" ?(?P<{name}>bytes|KiB|MiB|GiB)");
    let classes = r"torch\.OutOfMemoryError|torch\.cuda\.OutOfMemoryError|RuntimeError|OutOfMemoryError|torch\.AcceleratorError";
    Patterns {
        // Each family's line keyword below contains one of these.
        keywords: re(r"emory|-gigabytes:|Max_MA|MemAllocated=|arguments -|using world size"),
        megatron_line: Finder::new(b"memory (MB)"),
        megatron: re(&format!(
            r"memory \(MB\){sep}allocated:\s*{}{sep}max allocated:\s*{}{sep}(?:reserved|cached):\s*{}{sep}max (?:reserved|cached):\s*{}(?:{sep}total device memory used:\s*{})?",
            num("a"),
            num("ma"),
            num("r"),
            num("mr"),
            num("du")
        )),
        bridge_line: Finder::new(b"-gigabytes:"),
        bridge: re(&format!(
            r"mem-(?P<max>max-)?(?P<what>allocated|reserved)-gigabytes:\s*{}",
            num("v")
        )),
        deepspeed_line: Finder::new(b"Max_MA"),
        deepspeed: re(&format!(
            r"\bMA\s+{}\s*GB[\s|]*Max_MA\s+{}\s*GB[\s|]*CA\s+{}\s*GB[\s|]*Max_CA\s+{}\s*GB",
            num("a"),
            num("ma"),
            num("r"),
            num("mr")
        )),
        throughput_line: Finder::new(b"MemAllocated="),
        throughput: re(&format!(
            r"\bMemAllocated={}\s*GB,\s*MaxMemAllocated={}\s*GB",
            num("a"),
            num("ma")
        )),
        torchtitan_line: Finder::new(b"GiB("),
        torchtitan: re(&format!(
            r"\bmemory:\s*{}\s*GiB\(\s*{}\s*%\)",
            num("mr"),
            num("pct")
        )),
        theory_line: Finder::new(b"Theoretical memory footprints"),
        theory_unsupported: Finder::new(b"Theoretical memory footprints not yet supported"),
        theory: re(&format!(
            r"Theoretical memory footprints: weight and optimizer={} MB(?:, activation={} MB, total={} MB)?",
            num("w"),
            num("a"),
            num("t")
        )),
        args_marker: Finder::new(b"arguments -"),
        args_begin: re(r"-{4,} arguments -{4,}"),
        args_end: re(r"-{4,} end of arguments -{4,}"),
        argument: re(r"  ([A-Za-z_][A-Za-z0-9_]*) (\.*)(?: (.*))?$"),
        world_size_line: Finder::new(b"using world size"),
        // A label preceded by `-` is another one's tail (`encoder-tensor-…`);
        // `sizes:` (hierarchical context-parallel) is a list, not a size.
        world_size: re(
            r"(?:^|[^-])(world|data-parallel|context-parallel|tensor-model-parallel|pipeline-model-parallel|model-parallel)[ -]size: ([^,\s]+)",
        ),
        oom_words: Finder::new(b"out of memory"),
        oom_allocator: re(&format!(
            r"(?:(?P<exc>{classes}): )?CUDA out of memory\. Tried to allocate {}{}(?:\. GPU (?:[0-9]+ has a total capaci?ty of {}{})?| \(GPU (?:[0-9]+; {}{} total capacity)?)?",
            num("req"),
            size_unit("req_unit"),
            num("cap"),
            size_unit("cap_unit"),
            num("old_cap"),
            size_unit("old_cap_unit")
        )),
        oom_cuda_error: re(&format!(
            r"(?:(?P<exc>{classes}): )?(?:CUDA error: out of memory|cuda runtime error \(2\) : out of memory)"
        )),
    }
});
