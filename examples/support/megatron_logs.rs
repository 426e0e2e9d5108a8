//! Deterministic stdout logs of training runs, for memheat's fixtures: given
//! a run and a framework variant, the text the framework would have printed,
//! memory reports, theory line, config and (optionally) an out-of-memory
//! traceback included, plus helpers that make the text hostile the way real
//! launchers do.
//!
//! The numbers are written so that the scanner reads back exactly what
//! [`expected_peak`] says: for the Megatron variants the largest
//! `max allocated` is `peak_mib` itself (written as Python's `repr`, or with 2
//! decimals from core_v0.16 on, in which case `peak_mib` is rounded to 2
//! decimals first); the other formats round as their frameworks do.
//! Everything is a pure function of its arguments: no clock, no randomness.

// Included via `#[path]` by the fixture writer and by the scanner's tests,
// which each use part of it.
#![allow(dead_code)]

use std::fmt::Write as _;

/// One cell of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub tp: u32,
    pub pp: u32,
    pub dp: u32,
    pub layers: u32,
    /// The largest `max allocated` over all ranks, in MiB (torchtitan prints
    /// only the reserved peak, so there it is that).
    pub peak_mib: f64,
    /// Megatron's theoretical total, in MiB; written with 2 decimals.
    pub theory_mib: Option<f64>,
    pub oom: bool,
}

/// Which framework, and which era of it, printed the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// 2020: no `[Rank N]`, unrounded floats, no theory line, 32-wide dump.
    MegatronOld,
    /// core_v0.15: `[Rank N]`, unrounded floats, theory line, 48-wide dump.
    MegatronCore015,
    /// core_v0.16: 2 decimals and `total device memory used`.
    MegatronCore016,
    /// Megatron-Bridge: `memory (GB)`, decimal GB to 5 significant digits.
    Bridge,
    /// DeepSpeed before PR #7688: `see_memory_usage` through the logger.
    DeepSpeedLogger,
    /// DeepSpeed after PR #7688: plain `print`.
    DeepSpeedPrint,
    /// torchtitan with colour codes.
    Torchtitan,
}

/// Which PyTorch wrote the out-of-memory error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OomEra {
    /// `torch.OutOfMemoryError`, `GPU N has a total capacity of` (2.5+).
    Torch25,
    /// `torch.cuda.OutOfMemoryError`, `(GPU N; … total capacity; …)` (1.13–2.0).
    Torch113,
    /// `torch.cuda.OutOfMemoryError`, `has a total capacty of` (2.1).
    Torch113Typo,
    /// `RuntimeError`, `(GPU N; … total capacity; …)` (before 1.13).
    Pre113,
    /// `RuntimeError: CUDA error: out of memory` (outside the allocator).
    CudaError,
    /// The 2.5+ message cut right after `GPU`.
    Truncated,
}

/// How to write the out-of-memory failure, when the run has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OomStyle {
    pub era: OomEra,
    /// Prefix every traceback line with `[rank{r}]: `, as torch's
    /// distributed excepthook does since PR #118190.
    pub rank: Option<u32>,
}

/// Every variant, in the order above.
pub const VARIANTS: [Variant; 7] = [
    Variant::MegatronOld,
    Variant::MegatronCore015,
    Variant::MegatronCore016,
    Variant::Bridge,
    Variant::DeepSpeedLogger,
    Variant::DeepSpeedPrint,
    Variant::Torchtitan,
];
/// Every era, in the order above.
pub const ERAS: [OomEra; 6] = [
    OomEra::Torch25,
    OomEra::Torch113,
    OomEra::Torch113Typo,
    OomEra::Pre113,
    OomEra::CudaError,
    OomEra::Truncated,
];
/// For a run that does not run out of memory (the style is then unused).
pub const NO_OOM: OomStyle = OomStyle {
    era: OomEra::Torch25,
    rank: None,
};

/// The requested size every written OOM reports: `2.50 GiB`.
pub const OOM_REQUESTED_BYTES: f64 = 2.5 * GIB;
/// The device capacity every written OOM reports: `79.21 GiB` (an H100).
pub const OOM_CAPACITY_TEXT: &str = "79.21 GiB";

pub const MIB: f64 = 1024.0 * 1024.0;
pub const GIB: f64 = 1024.0 * MIB;
/// Iterations after which memory is reported, the last one ending training.
const REPORTS: [u32; 2] = [10, TRAIN_ITERS];
const TRAIN_ITERS: u32 = 20;

/// The metric whose largest value the scanner should find, and that value in
/// bytes, for a log [`write_log`] wrote.
pub fn expected_peak(run: &Run, variant: Variant) -> (&'static str, f64) {
    let bytes = run.peak_mib * MIB;
    match variant {
        Variant::MegatronOld | Variant::MegatronCore015 => ("max_allocated", bytes),
        Variant::MegatronCore016 => ("max_allocated", parse(&two_decimals(run.peak_mib)) * MIB),
        Variant::Bridge => ("max_allocated", parse(&bridge_gb(bytes)) * 1e9),
        Variant::DeepSpeedLogger | Variant::DeepSpeedPrint => {
            ("max_allocated", parse(&python_round2(bytes / GIB)) * GIB)
        }
        Variant::Torchtitan => ("max_reserved", parse(&format!("{:.2}", bytes / GIB)) * GIB),
    }
}

/// The whole log, ending in a newline.
pub fn write_log(run: &Run, variant: Variant, oom: OomStyle) -> String {
    let mut out = String::new();
    match variant {
        Variant::MegatronOld | Variant::MegatronCore015 | Variant::MegatronCore016 => {
            megatron_config(&mut out, run, variant);
            megatron_training(&mut out, run, variant);
        }
        Variant::Bridge => bridge(&mut out, run),
        Variant::DeepSpeedLogger | Variant::DeepSpeedPrint => deepspeed(&mut out, run, variant),
        Variant::Torchtitan => torchtitan(&mut out, run),
    }
    if run.oom {
        traceback(&mut out, oom);
    }
    out
}

/// Every line prefixed as `srun --label` does (`12: `). Glue before labelling:
/// a label glued after a number would change the number.
pub fn srun_label(text: &str, task: u32) -> String {
    text.lines()
        .map(|line| format!("{task}: {line}\n"))
        .collect()
}

/// Each pair of adjacent memory-report lines glued into one line, as two
/// ranks writing at once leave them.
pub fn glue_ranks(text: &str) -> String {
    let is_report = |line: &str| line.contains("memory (MB)") || line.contains("memory (GB)");
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        out.push_str(line);
        if is_report(line) && lines.peek().is_some_and(|next| is_report(next)) {
            out.push_str(lines.next().unwrap_or_default());
        }
        out.push('\n');
    }
    out
}

/// CRLF line endings.
pub fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

/// 16 micro-batches of 1 per data-parallel rank.
fn global_batch(run: &Run) -> u32 {
    run.dp.saturating_mul(16)
}

fn world_size(run: &Run) -> u32 {
    run.tp.saturating_mul(run.pp).saturating_mul(run.dp)
}

fn megatron_config(out: &mut String, run: &Run, variant: Variant) {
    let ws = world_size(run);
    let (tp, pp, dp) = (run.tp, run.pp, run.dp);
    let (width, begin, end) = if variant == Variant::MegatronOld {
        let _ = writeln!(
            out,
            "using world size: {ws}, data-parallel-size: {dp}, tensor-model-parallel size: {tp}, pipeline-model-parallel size: {pp} "
        );
        (
            32_usize,
            "-------------------- arguments --------------------",
            "---------------- end of arguments ----------------",
        )
    } else {
        let _ = writeln!(
            out,
            "using world size: {ws}, data-parallel size: {dp}, context-parallel size: 1, hierarchical context-parallel sizes: None, tensor-model-parallel size: {tp}, pipeline-model-parallel size: {pp}"
        );
        (
            48,
            "------------------------ arguments ------------------------",
            "-------------------- end of arguments ---------------------",
        )
    };
    out.push_str(begin);
    out.push('\n');
    for (name, value) in megatron_args(run, variant) {
        let dots = ".".repeat(width.saturating_sub(name.len()));
        let _ = writeln!(out, "  {name} {dots} {value}");
    }
    out.push_str(end);
    out.push('\n');
}

/// The arguments dump, sorted as Megatron sorts it (case-insensitively).
fn megatron_args(run: &Run, variant: Variant) -> Vec<(&'static str, String)> {
    let core = variant != Variant::MegatronOld;
    let mut args: Vec<(&'static str, String)> = vec![
        ("accumulate_allreduce_grads_in_fp32", "True".into()),
        ("bf16", "True".into()),
        ("data_parallel_size", run.dp.to_string()),
        ("data_path", "['/data/pile/pile_text_document']".into()),
        ("empty_unused_memory_level", "0".into()),
        ("global_batch_size", global_batch(run).to_string()),
        ("hidden_size", "4096".into()),
        ("micro_batch_size", "1".into()),
        ("num_attention_heads", "32".into()),
        ("num_layers", run.layers.to_string()),
        ("pipeline_model_parallel_size", run.pp.to_string()),
        ("seq_length", "4096".into()),
        ("tensor_model_parallel_size", run.tp.to_string()),
        ("world_size", world_size(run).to_string()),
    ];
    if core {
        args.extend([
            ("context_parallel_size", "1".into()),
            ("decoder_first_pipeline_num_layers", "None".into()),
            ("expert_model_parallel_size", "1".into()),
            ("recompute_granularity", "selective".into()),
            ("sequence_parallel", "True".into()),
            ("virtual_pipeline_model_parallel_size", "None".into()),
        ]);
    }
    args.sort_by_key(|(name, _)| name.to_lowercase());
    args
}

fn megatron_training(out: &mut String, run: &Run, variant: Variant) {
    out.push_str("> building GPT2BPETokenizer tokenizer ...\n");
    out.push_str(" > padded vocab (size: 50257) with 175 dummy tokens (new size: 50432)\n");
    out.push_str("[after dataloaders are built] datetime: 2025-03-31 05:52:40 \n");
    out.push_str("training ...\n");
    if variant != Variant::MegatronOld {
        theory(out, run);
    }
    // 2020 Megatron printed from rank 0 only (`print_rank_0`).
    let old = variant == Variant::MegatronOld;
    let ranks = if old {
        1
    } else {
        run.tp.saturating_mul(run.pp)
    };
    let peak_rank = if old { 0 } else { run.tp.max(1) - 1 };
    for (report, iteration) in REPORTS.into_iter().enumerate() {
        let _ = writeln!(
            out,
            " [2025-03-31 05:5{report}:07] iteration {iteration:8}/{:8} | consumed samples: {:12} | elapsed time per iteration (ms): 1552.8 | learning rate: 8.000000E-06 | global batch size: {:5} | lm loss: 6.258318E+00 | loss scale: 1.0 | grad norm: 1.520 | number of skipped iterations:   0 | number of nan iterations:   0 |",
            TRAIN_ITERS,
            iteration.saturating_mul(global_batch(run)),
            global_batch(run)
        );
        for rank in 0..ranks {
            let is_peak = rank == peak_rank && report + 1 == REPORTS.len();
            megatron_report(out, run, variant, rank, report, is_peak);
        }
    }
}

fn theory(out: &mut String, run: &Run) {
    out.push_str("Number of parameters in transformer layers in billions:  6.48\n");
    out.push_str("Number of parameters in most loaded shard in billions: 1.7502\n");
    if let Some(total) = run.theory_mib {
        let weights = parse(&two_decimals(total * 0.625));
        let activation = parse(&two_decimals(total)) - weights;
        let _ = writeln!(
            out,
            "Theoretical memory footprints: weight and optimizer={weights:.2} MB, activation={activation:.2} MB, total={total:.2} MB\n"
        );
    }
}

/// One rank's report. The peak is on the last rank of the first stage (the
/// first stage holds the embedding) at the last report, so that it is neither
/// the first line nor the last.
fn megatron_report(
    out: &mut String,
    run: &Run,
    variant: Variant,
    rank: u32,
    report: usize,
    is_peak: bool,
) {
    let (stage, tp_index) = (rank / run.tp.max(1), rank % run.tp.max(1));
    let steps_back = REPORTS.len().saturating_sub(report + 1) as f64;
    let share =
        0.99 / (1.0 + 0.05 * f64::from(stage) + 0.01 * f64::from(tp_index) + 0.02 * steps_back);
    let max_allocated = if is_peak {
        run.peak_mib
    } else {
        whole_blocks(run.peak_mib * share)
    };
    let allocated = whole_blocks(max_allocated * 0.62);
    // The allocator reserves whole 2 MiB segments.
    let reserved = (max_allocated * 1.04 / 2.0).ceil() * 2.0;
    let number = |mib: f64| match variant {
        Variant::MegatronCore016 => two_decimals(mib),
        _ => python_repr(mib),
    };
    if variant != Variant::MegatronOld {
        let _ = write!(out, "[Rank {rank}] ");
    }
    let _ = write!(
        out,
        "(after {} iterations) memory (MB) | allocated: {} | max allocated: {} | reserved: {} | max reserved: {}",
        REPORTS.get(report).copied().unwrap_or_default(),
        number(allocated),
        number(max_allocated),
        number(reserved),
        number(reserved)
    );
    if variant == Variant::MegatronCore016 {
        let _ = write!(
            out,
            " | total device memory used: {}",
            number(reserved + 612.5)
        );
    }
    out.push('\n');
}

fn bridge(out: &mut String, run: &Run) {
    out.push_str("Megatron-Bridge: setting up model and optimizer\n");
    theory(out, run);
    let peak = run.peak_mib * MIB;
    for rank in 0..run.tp.saturating_mul(run.pp) {
        let share = if rank == 0 {
            1.0
        } else {
            0.97 / (1.0 + 0.03 * f64::from(rank))
        };
        let max_allocated = peak * share;
        let _ = writeln!(
            out,
            "[Rank {rank}] (after 2 iterations) memory (GB) | mem-allocated-gigabytes: {} | mem-active-gigabytes: {} | mem-inactive-gigabytes: 20.563 | mem-reserved-gigabytes: {} | mem-max-allocated-gigabytes: {} | mem-max-active-gigabytes: {} | mem-max-inactive-gigabytes: 32.473 | mem-max-reserved-gigabytes: {} | mem-alloc-retires: 0 | mem-allocated-count: 507",
            bridge_gb(max_allocated * 0.4),
            bridge_gb(max_allocated * 0.4),
            bridge_gb(max_allocated * 1.1),
            bridge_gb(max_allocated),
            bridge_gb(max_allocated * 1.05),
            bridge_gb(max_allocated * 1.1),
        );
    }
    out.push_str("Step Time : 2.34s GPU utilization: 45.2MODEL_TFLOP/s/GPU\n");
}

fn deepspeed(out: &mut String, run: &Run, variant: Variant) {
    // `see_memory_usage` logs the message, the GPU figures and the CPU figures
    // from these lines of deepspeed/runtime/utils.py.
    let line = |out: &mut String, source_line: u32, text: &str| {
        if variant == Variant::DeepSpeedLogger {
            let _ = write!(
                out,
                "[2024-05-01 12:00:00,{source_line:03}] [INFO] [utils.py:{source_line}:see_memory_usage] "
            );
        }
        out.push_str(text);
        out.push('\n');
    };
    out.push_str("[2024-05-01 11:59:58,001] [INFO] [config.py:1001:print]   memory_breakdown ............. False\n");
    let peak_gib = run.peak_mib * MIB / GIB;
    for (stage, share) in [
        ("After initializing ZeRO optimizer", 0.55),
        ("After forward", 1.0),
        ("After backward", 0.9),
    ] {
        line(out, 781, stage);
        let max_allocated = peak_gib * share;
        let text = format!(
            "MA {} GB         Max_MA {} GB         CA {} GB         Max_CA {} GB ",
            python_round2(max_allocated * 0.8),
            python_round2(max_allocated),
            python_round2(max_allocated * 1.05),
            (max_allocated * 1.1).round()
        );
        line(out, 782, &text);
        line(
            out,
            789,
            "CPU Virtual Memory:  used = 27.1 GB, percent = 5.4%",
        );
    }
    let _ = writeln!(
        out,
        "[2024-05-01 12:00:05,000] [INFO] [timer.py:260:stop] epoch=0/micro_step=10/global_step=10, RunningAvgSamplesPerSec=31.2, CurrSamplesPerSec=31.9, MemAllocated={}GB, MaxMemAllocated={}GB",
        python_round2(peak_gib * 0.5),
        python_round2(peak_gib * 0.95)
    );
}

fn torchtitan(out: &mut String, run: &Run) {
    const RED: &str = "\x1b[31m";
    const GREEN: &str = "\x1b[32m";
    const ORANGE: &str = "\x1b[38;2;180;60;0m";
    const TURQUOISE: &str = "\x1b[38;2;54;234;195m";
    const BLUE: &str = "\x1b[34m";
    const CYAN: &str = "\x1b[36m";
    const MAGENTA: &str = "\x1b[35m";
    const RESET: &str = "\x1b[39m";
    let capacity_gib = 79.19;
    let _ = writeln!(
        out,
        "[titan] 2025-05-01 10:00:00,000 - root - INFO - CUDA capacity: NVIDIA H100 80GB HBM3 with {capacity_gib:.2}GiB memory"
    );
    let peak_gib = run.peak_mib * MIB / GIB;
    for (step, share) in [(1, 0.9), (10, 1.0), (20, 0.98)] {
        let reserved = peak_gib * share;
        let _ = writeln!(
            out,
            "[titan] 2025-05-01 10:00:{step:02},000 - root - INFO - {RED}step: {step:2}  {GREEN}loss: {:7.4}  {ORANGE}grad_norm: {:7.4}  {TURQUOISE}memory: {reserved:5.2}GiB({:.2}%)  {BLUE}tps: 1,234  {CYAN}tflops: 56.78  {MAGENTA}mfu: 5.74%{RESET}",
            12.0 - f64::from(step) * 0.1,
            1.5,
            100.0 * reserved / capacity_gib
        );
    }
}

fn traceback(out: &mut String, style: OomStyle) {
    let message = match style.era {
        OomEra::Torch25 => format!("torch.OutOfMemoryError: {}", current_message("capacity")),
        OomEra::Torch113Typo => format!("torch.cuda.OutOfMemoryError: {}", current_message("capacty")),
        OomEra::Torch113 => format!("torch.cuda.OutOfMemoryError: {}", legacy_message()),
        OomEra::Pre113 => format!("RuntimeError: {}", legacy_message()),
        OomEra::CudaError => "RuntimeError: CUDA error: out of memory\nCUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1.".into(),
        OomEra::Truncated => "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.50 GiB. GPU ".into(),
    };
    let text = format!(
        "Traceback (most recent call last):\n  File \"/workspace/Megatron-LM/pretrain_gpt.py\", line 268, in <module>\n    pretrain(\n  File \"/workspace/Megatron-LM/megatron/training/training.py\", line 386, in pretrain\n    iteration, num_floating_point_operations_so_far = train(\n{message}"
    );
    for line in text.lines() {
        if let Some(rank) = style.rank {
            let _ = write!(out, "[rank{rank}]: ");
        }
        out.push_str(line);
        out.push('\n');
    }
}

fn current_message(capacity_word: &str) -> String {
    format!(
        "CUDA out of memory. Tried to allocate 2.50 GiB. GPU 3 has a total {capacity_word} of {OOM_CAPACITY_TEXT} of which 1.15 GiB is free. Including non-PyTorch memory, this process has 78.05 GiB memory in use. Of the allocated memory 75.12 GiB is allocated by PyTorch, and 1.30 GiB is reserved by PyTorch but unallocated. If reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)"
    )
}

fn legacy_message() -> String {
    format!(
        "CUDA out of memory. Tried to allocate 2.50 GiB (GPU 3; {OOM_CAPACITY_TEXT} total capacity; 75.12 GiB already allocated; 1.15 GiB free; 76.42 GiB reserved in total by PyTorch) If reserved memory is >> allocated memory try setting max_split_size_mb to avoid fragmentation.  See documentation for Memory Management and PYTORCH_CUDA_ALLOC_CONF"
    )
}

/// MiB rounded down to whole 512-byte allocator blocks, as real readings are.
fn whole_blocks(mib: f64) -> f64 {
    (mib * MIB / 512.0).floor() * 512.0 / MIB
}

/// Python's `repr` of a float (Rust prints `8266` where Python prints `8266.0`).
fn python_repr(x: f64) -> String {
    let text = x.to_string();
    if text.contains(['.', 'e', 'i', 'N']) {
        text
    } else {
        text + ".0"
    }
}

/// Python's `round(x, 2)`, printed.
fn python_round2(x: f64) -> String {
    python_repr((x * 100.0).round() / 100.0)
}

fn two_decimals(x: f64) -> String {
    format!("{x:.2}")
}

/// Bridge's value: decimal GB rounded to 5 significant digits, as Python prints it.
fn bridge_gb(bytes: f64) -> String {
    let gb = bytes / 1e9;
    if gb == 0.0 {
        return "0.0".into();
    }
    let digits = 4 - gb.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits);
    python_repr((gb * scale).round() / scale)
}

fn parse(text: &str) -> f64 {
    text.parse().unwrap_or(f64::NAN)
}
