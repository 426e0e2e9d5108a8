//! Synthetic GPU-memory traces for an LLM-training parallelism sweep.
//!
//! The output mimics a real per-rank memory tracer: one JSON file per config
//! that ran, plus `successful_configs.log` / `failed_configs.log`. The memory
//! model is described in `examples/485B/README.md`.
//!
//! Determinism: all randomness comes from a seeded SplitMix64 and the maths
//! uses only IEEE-exact operations (no `sin`/`exp`/`powf`, whose libm results
//! can differ between platforms), so the bytes written never change.

// Included via `#[path]` by several example binaries that each use a different
// subset of this API (e.g. a benchmark only needs `large` + `write_sweep`).
#![allow(dead_code)]

use std::fs;
use std::io;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

const BYTES_PER_MIB: f64 = 1024.0 * 1024.0;
/// A100 80 GB dense bf16 peak; only sets the pace of the synthetic clock.
const GPU_PEAK_FLOPS: f64 = 312e12;
const BASE_MFU: f64 = 0.42;
/// NCCL, p2p and cuBLAS workspaces that every rank allocates (before jitter).
const MISC_MIB: f64 = 1024.0;
/// Short-lived temporaries that make real traces slightly noisy.
const NOISE_MIB: f64 = 24.0;
/// The tracer samples about this often per training iteration.
const SAMPLES_PER_ITER: usize = 250;
/// Share of samples spent on start-up, before the first iteration.
const INIT_FRACTION: f64 = 0.06;
/// Tail of each iteration spent in the (DP-sharded) optimizer step.
const OPT_FRACTION: f64 = 0.04;

/// Everything that defines a sweep. Configs enumerate `tp` (outer) × `pp`
/// (inner); `limit` keeps only the first configs of that order.
#[derive(Debug, Clone)]
pub struct SweepParams {
    pub world_size: u64,
    pub tp: Vec<u32>,
    pub pp: Vec<u32>,
    pub layers: u32,
    pub hidden: u32,
    pub vocab: u32,
    pub seq_len: u32,
    pub global_batch: u64,
    pub micro_batch: u32,
    /// Samples per trace, drawn uniformly per config.
    pub samples: RangeInclusive<usize>,
    /// A config whose peak allocation exceeds this OOMs (FAILED, no trace).
    pub capacity_mib: f64,
    pub seed: u64,
    pub limit: Option<usize>,
}

/// What `write_sweep` produced.
#[derive(Debug, Clone)]
pub struct Written {
    pub traces: Vec<PathBuf>,
    pub succeeded: usize,
    pub failed: usize,
    /// Bytes of all files written (traces and logs).
    pub bytes: u64,
    pub configs: Vec<Outcome>,
}

/// One config of the sweep, in sweep order.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub index: usize,
    pub tp: u32,
    pub pp: u32,
    pub dp: u64,
    pub succeeded: bool,
    /// Peak allocated MiB (for failed configs: what it would have needed).
    pub peak_mib: f64,
    pub theory_mib: f64,
    pub samples: usize,
}

impl SweepParams {
    /// 485B GPT-style model (h=20480, 96 layers) on 8192 × 80 GB GPUs.
    pub fn example_485b() -> Self {
        Self {
            world_size: 8192,
            tp: vec![1, 2, 4, 8],
            pp: vec![1, 2, 4, 8, 16, 32, 64, 128],
            layers: 96,
            hidden: 20480,
            vocab: 51200,
            seq_len: 8192,
            global_batch: 24576,
            micro_batch: 1,
            samples: 1000..=2500,
            capacity_mib: 80.0 * 1024.0,
            seed: 0x485B_5EED,
            limit: None,
        }
    }

    /// GPT-3-sized 175B model (h=12288, 96 layers, sequence 2048) on 1024 ×
    /// 80 GB GPUs: the second, smaller sweep a side-by-side figure compares.
    pub fn example_175b() -> Self {
        Self {
            world_size: 1024,
            tp: vec![1, 2, 4, 8],
            pp: vec![1, 2, 4, 8, 16, 32],
            layers: 96,
            hidden: 12288,
            vocab: 51200,
            seq_len: 2048,
            global_batch: 4096,
            micro_batch: 1,
            samples: 300..=800,
            capacity_mib: 80.0 * 1024.0,
            seed: 0x175B_5EED,
            limit: None,
        }
    }

    /// Benchmark sweep: exactly `files` configs, all fitting in memory (a 13B
    /// model fits even unsharded), each trace exactly `samples` long.
    pub fn large(files: usize, samples: usize) -> Self {
        assert!(
            (1..=900).contains(&files),
            "large sweeps support 1..=900 files (world size must fit in u64)"
        );
        assert!(samples >= 2, "a trace needs at least two samples");
        // Smallest near-square grid of powers of two holding `files` configs.
        let n_pp = (1..).find(|k| k * k >= files).unwrap_or(1);
        let n_tp = files.div_ceil(n_pp);
        let powers = |n: usize| (0..n as u32).map(|i| 1u32 << i).collect::<Vec<_>>();
        // DP >= 8 everywhere; gbs = world keeps nmbs = TP·PP integral.
        let world = 8u64 << ((n_tp - 1) + (n_pp - 1));
        Self {
            world_size: world,
            tp: powers(n_tp),
            pp: powers(n_pp),
            layers: 40,
            hidden: 5120,
            vocab: 32000,
            seq_len: 4096,
            global_batch: world,
            micro_batch: 1,
            samples: samples..=samples,
            capacity_mib: 80.0 * 1024.0,
            seed: 0x1A46_E5EE,
            limit: Some(files),
        }
    }

    fn layer_params(&self) -> f64 {
        12.0 * f64::from(self.hidden) * f64::from(self.hidden) * f64::from(self.layers)
    }

    fn embedding_params(&self) -> f64 {
        f64::from(self.vocab) * f64::from(self.hidden)
    }

    /// Total parameters (untied input and output embeddings), in billions.
    pub fn params_billion(&self) -> f64 {
        (self.layer_params() + 2.0 * self.embedding_params()) / 1e9
    }

    fn configs(&self) -> io::Result<Vec<Config>> {
        let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
        let mut configs = Vec::new();
        for &tp in &self.tp {
            for &pp in &self.pp {
                let model_parallel = u64::from(tp) * u64::from(pp);
                if model_parallel == 0 || !self.world_size.is_multiple_of(model_parallel) {
                    return Err(invalid(format!(
                        "TP={tp} x PP={pp} does not divide world size {}",
                        self.world_size
                    )));
                }
                let dp = self.world_size / model_parallel;
                let per_step = dp * u64::from(self.micro_batch);
                if per_step == 0 || !self.global_batch.is_multiple_of(per_step) {
                    return Err(invalid(format!(
                        "global batch {} is not a multiple of DP={dp} x MBS={}",
                        self.global_batch, self.micro_batch
                    )));
                }
                configs.push(Config {
                    index: configs.len() + 1,
                    tp,
                    pp,
                    dp,
                    nmbs: self.global_batch / per_step,
                });
            }
        }
        configs.truncate(self.limit.unwrap_or(usize::MAX));
        Ok(configs)
    }
}

/// Writes `dir/traces/*.json` (one per successful config) and
/// `dir/logs/{successful,failed}_configs.log`.
pub fn write_sweep(dir: &Path, p: &SweepParams) -> io::Result<Written> {
    let configs = p.configs()?;
    let traces_dir = dir.join("traces");
    let logs_dir = dir.join("logs");
    fs::create_dir_all(&traces_dir)?;
    fs::create_dir_all(&logs_dir)?;

    let header = format!(
        "# {:.0}B sweep, {} GPUs, generated by examples/gen_sweep.rs\n",
        p.params_billion(),
        p.world_size
    );
    let (mut ok_log, mut failed_log) = (header.clone(), header);
    let mut written = Written {
        traces: Vec::new(),
        succeeded: 0,
        failed: 0,
        bytes: 0,
        configs: Vec::with_capacity(configs.len()),
    };
    let mut json = Vec::new();
    let mut clock_s = 0.0; // wall time since the sweep started

    for cfg in &configs {
        let run = simulate(p, cfg);
        let succeeded = run.peak_mib() <= p.capacity_mib;
        let log = if succeeded {
            &mut ok_log
        } else {
            &mut failed_log
        };
        log.push_str(&log_line(p, cfg, succeeded));

        if succeeded {
            clock_s += run.startup_s + run.duration_s();
            let path = traces_dir.join(trace_name(p, cfg, clock_s.round() as u64));
            json.clear();
            write_json(&mut json, &run, cfg.index % 3 == 0);
            fs::write(&path, &json)?;
            written.bytes += json.len() as u64;
            written.traces.push(path);
            written.succeeded += 1;
        } else {
            // Dies with an OOM early in the first iteration.
            clock_s += run.startup_s + 0.4 * run.iter_time_s;
            written.failed += 1;
        }
        written.configs.push(Outcome {
            index: cfg.index,
            tp: cfg.tp,
            pp: cfg.pp,
            dp: cfg.dp,
            succeeded,
            peak_mib: run.peak_mib(),
            theory_mib: cents_to_mib(run.theory_cents),
            samples: run.samples.len(),
        });
    }

    for (name, text) in [
        ("successful_configs.log", ok_log),
        ("failed_configs.log", failed_log),
    ] {
        fs::write(logs_dir.join(name), &text)?;
        written.bytes += text.len() as u64;
    }
    Ok(written)
}

// ---------------------------------------------------------------------------
// Memory model

#[derive(Debug, Clone, Copy)]
struct Config {
    index: usize,
    tp: u32,
    pp: u32,
    dp: u64,
    nmbs: u64,
}

/// Per-GPU memory of pipeline stage 0, in MiB. Stage 0 is the most loaded
/// rank: it holds the input embedding and, under 1F1B, the most in-flight
/// microbatches (PP of them).
#[derive(Debug, Clone, Copy)]
struct Memory {
    /// bf16 weights (2 B/param) + bf16 gradients reduce-scattered over DP (2/DP).
    weights_grads: f64,
    /// fp32 master weights + Adam m, v, sharded over DP (12/DP B/param);
    /// allocated lazily by the first optimizer step.
    optimizer: f64,
    /// Checkpointed layer inputs (2·s·b·h bytes per layer, sequence-parallel
    /// over TP) of one microbatch on this stage. Full recompute.
    chunk: f64,
    /// Microbatches stage 0 holds at once: min(PP, nmbs).
    in_flight: f64,
    /// One layer's activations while it is recomputed (34·s·b·h/TP bytes).
    working_set: f64,
    /// Layers recomputed one after another in a backward (at least one, even
    /// when a sweep has more stages than layers).
    recomputed_layers: f64,
    /// fp32 copy of the gradient shard during clipping/step.
    step_temp: f64,
    misc: f64,
    /// The closed-form estimate a planning tool would report (see README).
    theory: f64,
}

fn memory(p: &SweepParams, c: &Config, jitter: &Jitter) -> Memory {
    let (tp, pp, dp) = (f64::from(c.tp), f64::from(c.pp), c.dp as f64);
    let embeddings = if c.pp == 1 { 2.0 } else { 1.0 };
    let stage_params = (p.layer_params() / pp + embeddings * p.embedding_params()) / tp;
    let mib = |bytes: f64| bytes / BYTES_PER_MIB;
    let sbh = f64::from(p.seq_len) * f64::from(p.micro_batch) * f64::from(p.hidden);
    let layers_per_stage = f64::from(p.layers) / pp;

    let ckpt_total = mib(f64::from(p.layers) * 2.0 * sbh / tp);
    let working_set = mib(34.0 * sbh / tp);
    // The estimator assumes unsharded bf16 gradients (4 + 16/DP B/param) and
    // books the recompute working set for a whole stage instead of one layer.
    let theory = mib(stage_params * (4.0 + 16.0 / dp))
        + ckpt_total
        + layers_per_stage * working_set
        + MISC_MIB;

    Memory {
        weights_grads: mib(stage_params * (2.0 + 2.0 / dp)),
        optimizer: mib(stage_params * 12.0 / dp),
        chunk: jitter.activation_scale * mib(layers_per_stage * 2.0 * sbh / tp),
        in_flight: u64::from(c.pp).min(c.nmbs) as f64,
        working_set: jitter.activation_scale * working_set,
        recomputed_layers: layers_per_stage.ceil().max(1.0),
        step_temp: mib(stage_params * 4.0 / dp),
        misc: jitter.misc_scale * MISC_MIB,
        theory,
    }
}

/// Seconds per training iteration from a FLOP count (8·P·tokens: forward,
/// backward and full recompute) at an MFU eroded by the pipeline bubble and
/// TP communication. It only paces the synthetic clock.
fn iteration_time_s(p: &SweepParams, c: &Config) -> f64 {
    let tokens = p.global_batch as f64 * f64::from(p.seq_len);
    let flops_per_gpu = 8.0 * p.params_billion() * 1e9 * tokens / p.world_size as f64;
    let (pp, nmbs) = (f64::from(c.pp), c.nmbs as f64);
    let bubble = (pp - 1.0) / (nmbs + pp - 1.0);
    let tp_efficiency = (1.0 - 0.03 * f64::from(c.tp.ilog2())).max(0.5);
    flops_per_gpu / (GPU_PEAK_FLOPS * BASE_MFU * (1.0 - bubble) * tp_efficiency)
}

/// Per-config deterministic variation, so the sweep is not suspiciously smooth.
#[derive(Debug, Clone, Copy)]
struct Jitter {
    misc_scale: f64,
    activation_scale: f64,
    /// Caching-allocator fragmentation reached after a few iterations.
    fragmentation: f64,
    startup_s: f64,
}

impl Jitter {
    fn draw(rng: &mut SplitMix64) -> Self {
        Self {
            misc_scale: 0.75 + 0.5 * rng.unit(),
            activation_scale: 0.98 + 0.04 * rng.unit(),
            fragmentation: 0.02 + 0.06 * rng.unit(),
            startup_s: 300.0 + 600.0 * rng.unit(),
        }
    }
}

// ---------------------------------------------------------------------------
// Trace synthesis

/// One tracer sample, in fixed point: ms and centi-MiB, so that the printed
/// values and the peak are exact.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sample {
    t_ms: u64,
    reserved_cents: u64,
    allocated_cents: u64,
}

/// A simulated run of one config.
#[derive(Debug, Clone)]
struct Run {
    samples: Vec<Sample>,
    theory_cents: u64,
    static_cents: u64,
    startup_s: f64,
    iter_time_s: f64,
}

impl Run {
    fn peak_cents(&self) -> u64 {
        self.samples
            .iter()
            .map(|s| s.allocated_cents)
            .max()
            .unwrap_or(0)
    }

    fn peak_mib(&self) -> f64 {
        cents_to_mib(self.peak_cents())
    }

    /// Tracing time plus a little teardown.
    fn duration_s(&self) -> f64 {
        self.samples.last().map_or(0.0, |s| s.t_ms as f64 / 1000.0) + 30.0
    }
}

/// Runs one config. Each config draws from its own stream, so its data does
/// not depend on which other configs are in the sweep.
fn simulate(p: &SweepParams, c: &Config) -> Run {
    let mut rng = SplitMix64::new(p.seed ^ (c.index as u64).wrapping_mul(0xA076_1D64_78BD_642F));
    let jitter = Jitter::draw(&mut rng);
    let mem = memory(p, c, &jitter);
    let n = rng.in_range(&p.samples);
    let iter_time_s = iteration_time_s(p, c);
    Run {
        samples: trace(&mem, c, n, iter_time_s, &jitter, &mut rng),
        theory_cents: mib_to_cents(mem.theory),
        static_cents: mib_to_cents(mem.weights_grads + mem.optimizer),
        startup_s: jitter.startup_s,
        iter_time_s,
    }
}

/// Samples a run: a start-up ramp while weights are materialised, then
/// iterations of the 1F1B schedule (activations pile up during forwards and
/// drain during backwards) each ending in an optimizer step.
fn trace(
    mem: &Memory,
    c: &Config,
    n: usize,
    iter_time_s: f64,
    jitter: &Jitter,
    rng: &mut SplitMix64,
) -> Vec<Sample> {
    let iterations = (n / SAMPLES_PER_ITER).max(3);
    let init_samples = ((n as f64 * INIT_FRACTION) as usize).max(1);
    let dt = iter_time_s * iterations as f64 / n.saturating_sub(init_samples).max(1) as f64;
    let t0 = 0.1;
    let first_iter_s = t0 + init_samples as f64 * dt;
    let mut allocator = CachingAllocator::new(mem, jitter.fragmentation);

    let mut samples = Vec::with_capacity(n);
    let mut last_ms = 0;
    for i in 0..n {
        // The sampling thread wakes up a little early or late.
        let wobble = if i == 0 { 0.0 } else { rng.unit() - 0.5 };
        let t = t0 + (i as f64 + 0.2 * wobble) * dt;
        let t_ms = ((t * 1000.0).round() as u64).max(last_ms + 1);
        last_ms = t_ms;

        let (iteration, mib) = if i < init_samples {
            (0, startup_mib(mem, i as f64 / init_samples as f64))
        } else {
            let u = ((t - first_iter_s) / iter_time_s).max(0.0);
            let k = u.floor();
            (k as u64, iteration_mib(mem, c, k == 0.0, u - k))
        };
        let allocated_cents = mib_to_cents(mib + NOISE_MIB * rng.unit());
        samples.push(Sample {
            t_ms,
            reserved_cents: allocator.reserve(allocated_cents, iteration),
            allocated_cents,
        });
    }
    samples
}

/// Start-up: nothing for a while (imports, NCCL init), then weights and
/// gradient buffers appear in layer-sized steps.
fn startup_mib(mem: &Memory, progress: f64) -> f64 {
    const STEPS: f64 = 16.0;
    let ramp = ((progress - 0.2) / 0.8).max(0.0);
    mem.weights_grads * (ramp * STEPS).floor() / STEPS
}

/// Allocated MiB at `phase` ∈ [0, 1) of an iteration.
fn iteration_mib(mem: &Memory, c: &Config, first: bool, phase: f64) -> f64 {
    let step_start = 1.0 - OPT_FRACTION;
    let in_step = phase >= step_start;
    // Adam state only exists once the first step has run.
    let optimizer = if first && !in_step {
        0.0
    } else {
        mem.optimizer
    };
    let transient = if in_step {
        mem.step_temp * hump((phase - step_start) / OPT_FRACTION)
    } else {
        activation_mib(mem, c, phase / step_start)
    };
    mem.weights_grads + optimizer + mem.misc + transient
}

/// Activations held by stage 0 at `x` ∈ [0, 1) of the 1F1B schedule, in
/// time units where a forward takes 1 and a backward (with recompute) 2:
/// W forwards, an idle wait for the first backward to come back up the
/// pipeline, steady backward/forward pairs, then W backwards that each wait
/// one unit for the stage below.
fn activation_mib(mem: &Memory, c: &Config, x: f64) -> f64 {
    let w = mem.in_flight;
    let idle = 2.0 * (f64::from(c.pp) - 1.0);
    let steady = c.nmbs as f64 - w;
    let u = x * (w + idle + 3.0 * steady + 3.0 * w);
    let backward = |held: f64, y: f64| backward_mib(mem, held, y);

    if u < w {
        return u * mem.chunk;
    }
    if u < w + idle {
        return w * mem.chunk;
    }
    let v = u - w - idle;
    if v < 3.0 * steady {
        let r = (v - 3.0 * (v / 3.0).floor()).clamp(0.0, 3.0);
        return if r < 2.0 {
            backward(w, r / 2.0)
        } else {
            (w - 1.0 + (r - 2.0)) * mem.chunk
        };
    }
    let v = v - 3.0 * steady;
    let done = (v / 3.0).floor().min(w - 1.0);
    let r = (v - 3.0 * done).clamp(0.0, 3.0);
    if r < 1.0 {
        (w - done) * mem.chunk
    } else {
        backward(w - done, (r - 1.0) / 2.0)
    }
}

/// During the backward of the oldest of `held` microbatches (progress `y`),
/// each layer is recomputed (working set rises) then back-propagated (its
/// checkpoint and the working set are freed).
fn backward_mib(mem: &Memory, held: f64, y: f64) -> f64 {
    let z = y * mem.recomputed_layers;
    (held - y) * mem.chunk + mem.working_set * hump(z - z.floor())
}

/// Smooth bump on [0, 1]: 0 at the ends, 1 in the middle.
fn hump(x: f64) -> f64 {
    4.0 * x * (1.0 - x)
}

/// PyTorch's caching allocator in brief: reserved memory grows in segments
/// whenever allocations (plus fragmentation) outgrow it and is never given back.
struct CachingAllocator {
    reserved_cents: u64,
    segment_cents: u64,
    fragmentation: f64,
}

impl CachingAllocator {
    fn new(mem: &Memory, fragmentation: f64) -> Self {
        let expected_peak = mem.weights_grads
            + mem.optimizer
            + mem.misc
            + mem.in_flight * mem.chunk
            + mem.working_set;
        // ~48 visible steps up to the peak, each a multiple of 2 MiB.
        let segment_mib = ((expected_peak / 48.0 / 2.0).round() * 2.0).max(2.0);
        Self {
            reserved_cents: 0,
            segment_cents: mib_to_cents(segment_mib),
            fragmentation,
        }
    }

    /// Reserved memory after an allocation of `allocated_cents` in iteration
    /// `iteration`; fragmentation builds up over the first iterations.
    fn reserve(&mut self, allocated_cents: u64, iteration: u64) -> u64 {
        let settled = 1.0 - 1.0 / (1u64 << (iteration + 1).min(60)) as f64;
        let frag = self.fragmentation * settled;
        let wanted = (allocated_cents as f64 * (1.0 + frag)).ceil() as u64;
        if wanted > self.reserved_cents {
            self.reserved_cents = wanted.div_ceil(self.segment_cents) * self.segment_cents;
        }
        self.reserved_cents
    }
}

// ---------------------------------------------------------------------------
// Output formatting

fn trace_name(p: &SweepParams, c: &Config, ts: u64) -> String {
    format!(
        "memory_trace_rank0_wd{}_tp{}_pp{}_dp{}_exp1_expNumNone_l{}_mbs{}_nmbs{}_gbs{}_ts{ts}.json",
        p.world_size, c.tp, c.pp, c.dp, p.layers, p.micro_batch, c.nmbs, p.global_batch
    )
}

fn log_line(p: &SweepParams, c: &Config, succeeded: bool) -> String {
    format!(
        "Config {}: TP={}, PP={}, DP={}, NUM_MICBATCH={}, GLOBAL_BATCH_SIZE={} - {}\n",
        c.index,
        c.tp,
        c.pp,
        c.dp,
        c.nmbs,
        p.global_batch,
        if succeeded { "SUCCESS" } else { "FAILED" }
    )
}

/// Serialises a run exactly like Python's `json.dump` of the tracer's dict.
fn write_json(out: &mut Vec<u8>, run: &Run, with_static: bool) {
    out.reserve(run.samples.len() * 96 + 160);
    out.extend_from_slice(br#"{"0": {"samples": ["#);
    for (i, s) in run.samples.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(br#"{"timestamp_s": "#);
        push_fixed(out, s.t_ms, 3);
        out.extend_from_slice(br#", "reserved_memory_MB": "#);
        push_fixed(out, s.reserved_cents, 2);
        out.extend_from_slice(br#", "allocated_memory_MB": "#);
        push_fixed(out, s.allocated_cents, 2);
        out.push(b'}');
    }
    out.extend_from_slice(br#"], "peak_allocated_MB": "#);
    push_fixed(out, run.peak_cents(), 2);
    out.extend_from_slice(br#", "theoretical_memory_MB": "#);
    push_fixed(out, run.theory_cents, 2);
    if with_static {
        out.extend_from_slice(br#", "static_memory_MB": "#);
        push_fixed(out, run.static_cents, 2);
    }
    out.extend_from_slice(b"}}");
}

/// Writes `scaled / 10^decimals` the way Python's `repr(float)` does for
/// such values: shortest form, but always with at least one decimal.
fn push_fixed(out: &mut Vec<u8>, scaled: u64, decimals: u32) {
    let pow = 10u64.pow(decimals);
    push_u64(out, scaled / pow);
    out.push(b'.');
    let (mut frac, mut digits) = (scaled % pow, decimals);
    while digits > 1 && frac % 10 == 0 {
        frac /= 10;
        digits -= 1;
    }
    let mut buf = [b'0'; 20];
    for slot in buf[..digits as usize].iter_mut().rev() {
        *slot = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.extend_from_slice(&buf[..digits as usize]);
}

fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[start..]);
}

fn mib_to_cents(mib: f64) -> u64 {
    (mib * 100.0).round() as u64
}

fn cents_to_mib(cents: u64) -> f64 {
    cents as f64 / 100.0
}

// ---------------------------------------------------------------------------
// PRNG

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast, and good enough here.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn in_range(&mut self, range: &RangeInclusive<usize>) -> usize {
        let span = (range.end() - range.start()) as u64 + 1;
        range.start() + (self.next_u64() % span) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPACITY_MIB: f64 = 81920.0;

    fn simulate_all(p: &SweepParams) -> Vec<(Config, Run)> {
        let configs = p.configs().expect("valid sweep");
        configs.into_iter().map(|c| (c, simulate(p, &c))).collect()
    }

    #[test]
    fn floats_print_like_python() {
        let fmt = |scaled, decimals| {
            let mut out = Vec::new();
            push_fixed(&mut out, scaled, decimals);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(fmt(10000, 2), "100.0");
        assert_eq!(fmt(5871672, 2), "58716.72");
        assert_eq!(fmt(5871670, 2), "58716.7");
        assert_eq!(fmt(5, 2), "0.05");
        assert_eq!(fmt(100, 3), "0.1");
        assert_eq!(fmt(4423828, 3), "4423.828");
        assert_eq!(fmt(0, 3), "0.0");
    }

    #[test]
    fn generation_is_deterministic() {
        let p = SweepParams::example_485b();
        let c = p.configs().unwrap()[12];
        assert_eq!(simulate(&p, &c).samples, simulate(&p, &c).samples);
    }

    #[test]
    fn json_peak_is_max_sample_and_reserved_covers_allocated() {
        let p = SweepParams::large(4, 300);
        for (c, run) in simulate_all(&p) {
            assert!(
                run.samples
                    .iter()
                    .all(|s| s.reserved_cents >= s.allocated_cents)
            );
            let mut json = Vec::new();
            write_json(&mut json, &run, c.index % 3 == 0);
            let text = String::from_utf8(json).unwrap();
            assert!(text.starts_with(r#"{"0": {"samples": [{"timestamp_s": 0.1, "#));
            let mut peak = Vec::new();
            push_fixed(&mut peak, run.peak_cents(), 2);
            let peak = String::from_utf8(peak).unwrap();
            assert!(text.contains(&format!(r#""peak_allocated_MB": {peak}, "#)));
        }
    }

    /// The properties the 485B example figure relies on.
    #[test]
    fn example_sweep_has_the_intended_shape() {
        let p = SweepParams::example_485b();
        let runs = simulate_all(&p);
        let ok: Vec<_> = runs
            .iter()
            .filter(|(_, r)| r.peak_mib() <= CAPACITY_MIB)
            .collect();
        assert!((18..=22).contains(&ok.len()), "{} successes", ok.len());

        for (_, run) in &ok {
            let (peak, theory) = (run.peak_mib(), cents_to_mib(run.theory_cents));
            assert!((1000..=2500).contains(&run.samples.len()));
            assert!((1.1..=2.5).contains(&(theory / peak)));
            assert!((peak - CAPACITY_MIB).abs() > 512.0);
            assert!((theory - CAPACITY_MIB).abs() > 512.0);
        }
        let hatched = ok
            .iter()
            .filter(|(_, r)| cents_to_mib(r.theory_cents) > CAPACITY_MIB)
            .count();
        assert!(hatched >= 5 && ok.len() - hatched >= 8);

        // Memory falls along both parallelism axes.
        let peak = |tp, pp| {
            let (_, r) = runs.iter().find(|(c, _)| (c.tp, c.pp) == (tp, pp)).unwrap();
            r.peak_mib()
        };
        for (&a, &b) in p.pp.iter().zip(&p.pp[1..]) {
            for &tp in &p.tp {
                assert!(peak(tp, a) > peak(tp, b));
            }
        }
        for (&a, &b) in p.tp.iter().zip(&p.tp[1..]) {
            for &pp in &p.pp {
                assert!(peak(a, pp) > peak(b, pp));
            }
        }
    }

    #[test]
    fn large_sweep_has_exactly_the_requested_successful_configs() {
        let p = SweepParams::large(10, 20);
        let runs = simulate_all(&p);
        assert_eq!(runs.len(), 10);
        assert!(runs.iter().all(|(_, r)| r.samples.len() == 20));
        assert!(runs.iter().all(|(_, r)| r.peak_mib() <= p.capacity_mib));
    }
}
