//! A bound on the time and memory Typst spends on one figure.
//!
//! A custom template is a program: `#for i in range(100000) { for j in
//! range(100000) {} }` runs for hours and `#range(4000000000)` asks for
//! 128 GB. Typst 0.15 cannot be stopped from outside. Its evaluator has no
//! fuel (only `while` stops, after 10,000 rounds; `for` over a range and
//! recursion do not), and it calls back into the world only for files,
//! fonts and `today`, never inside a loop, so the world cannot cut it
//! short; a panic there would unwind through comemo's caches. So the bound
//! is kept from outside: while a figure's template is filled, compiled or
//! exported, a watchdog thread looks at the time it has taken and at the
//! process's resident memory every `TICK`, and past either limit ends
//! the process through the handler the binary installs
//! ([`on_overrun`]: an error naming the spec and the template, exit 1).
//! Other specs of the same command are cut short with it; an error
//! cannot be returned while the runaway thread holds its core.

use std::path::PathBuf;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How often the watchdog looks.
const TICK: Duration = Duration::from_millis(20);

/// Seconds one step (filling and compiling, or exporting) may take: the
/// largest grid memheat accepts (64 × 64) compiles in 2.3 s on a 2-core VM,
/// so this leaves a slow machine 25 times that.
pub(crate) const TYPST_SECONDS: u64 = 60;
/// Resident memory of the process while Typst works: the 64 × 64 grid
/// peaks at 581 MiB.
pub(crate) const TYPST_MEMORY_MIB: u64 = 4096;

/// What a figure was doing when it went over its budget.
#[derive(Debug, Clone)]
pub struct Job {
    pub spec: PathBuf,
    /// The template's path; `None` for the built-in one.
    pub template: Option<PathBuf>,
}

/// A figure took more than the budget; the process ends with it.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{}: Typst {} while filling, compiling or exporting the template {}",
    crate::paths::shown(&job.spec),
    match exceeded {
        Exceeded::Time { seconds } => format!("ran for more than {seconds} s"),
        Exceeded::Memory { mib } => format!("took more than {mib} MiB of memory"),
        Exceeded::Allocation { bytes } => format!("asked for {bytes} bytes of memory at once"),
    },
    job.template.as_deref().map_or("heatmap.typ.j2 (built in)".into(), |t| format!("`{}`", crate::paths::shown(t)))
)]
pub struct Overrun {
    pub job: Job,
    pub exceeded: Exceeded,
}

impl Overrun {
    /// What to do about it.
    pub(crate) fn hint(&self) -> String {
        match self.exceeded {
            Exceeded::Time { .. } => "a template that loops for this long is almost always a bug; if it is not, raise the limit with MEMHEAT_TYPST_SECONDS=N",
            Exceeded::Allocation { .. } => "the system refused it; a template that needs this much memory at once is almost always a bug (a string or array repeated a huge number of times)",
            Exceeded::Memory { .. } => "a template that needs this much memory is almost always a bug (`range` with a huge bound); if it is not, raise the limit with MEMHEAT_TYPST_MEMORY_MIB=N",
        }
        .into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    Time {
        seconds: u64,
    },
    Memory {
        mib: u64,
    },
    /// One allocation the system refused (`"x" * 10000000000000`).
    Allocation {
        bytes: usize,
    },
}

struct Limits {
    time: Duration,
    memory_bytes: u64,
}

/// The limits, from `MEMHEAT_TYPST_SECONDS` and `MEMHEAT_TYPST_MEMORY_MIB`
/// when set (a template that really needs more, or a test that needs less).
fn limits() -> &'static Limits {
    static LIMITS: OnceLock<Limits> = OnceLock::new();
    LIMITS.get_or_init(|| {
        let read = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|&v| v > 0)
                .unwrap_or(default)
        };
        Limits {
            time: Duration::from_secs(read("MEMHEAT_TYPST_SECONDS", TYPST_SECONDS)),
            memory_bytes: read("MEMHEAT_TYPST_MEMORY_MIB", TYPST_MEMORY_MIB)
                .saturating_mul(1 << 20),
        }
    })
}

type Handler = Box<dyn Fn(&Overrun) + Send + Sync>;

static HANDLER: OnceLock<Handler> = OnceLock::new();

/// Sets what happens past the budget: report the error and end the
/// process. Without a handler, it is printed to stderr as `error: …`. The
/// process exits with 1 when the handler returns. Call once, from the binary.
pub(crate) fn on_overrun(handler: impl Fn(&Overrun) + Send + Sync + 'static) {
    let _ = HANDLER.set(Box::new(handler));
}

/// Figures being worked on, with when each began.
static JOBS: Mutex<Vec<(u64, Instant, Job)>> = Mutex::new(Vec::new());
static CHANGED: Condvar = Condvar::new();

/// Watches `job` until the guard is dropped.
pub(crate) fn watch(job: Job) -> Watched {
    static WATCHDOG: OnceLock<()> = OnceLock::new();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    WATCHDOG.get_or_init(|| {
        // Without a thread to spare, figures are built unwatched.
        let _ = std::thread::Builder::new()
            .name("memheat-typst-budget".into())
            .spawn(watchdog);
    });
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut jobs = JOBS.lock().unwrap_or_else(|e| e.into_inner());
    jobs.push((id, Instant::now(), job));
    CHANGED.notify_all();
    Watched(id)
}

/// While this lives, its figure is watched.
pub(crate) struct Watched(u64);

impl Drop for Watched {
    fn drop(&mut self) {
        let mut jobs = JOBS.lock().unwrap_or_else(|e| e.into_inner());
        jobs.retain(|(id, _, _)| *id != self.0);
    }
}

fn watchdog() {
    let limits = limits();
    let mut jobs = JOBS.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if jobs.is_empty() {
            jobs = CHANGED.wait(jobs).unwrap_or_else(|e| e.into_inner());
            continue;
        }
        drop(jobs);
        std::thread::sleep(TICK);
        jobs = JOBS.lock().unwrap_or_else(|e| e.into_inner());
        let late = jobs
            .iter()
            .find(|(_, started, _)| started.elapsed() > limits.time);
        let overrun = match late {
            Some((_, _, job)) => Some(Overrun {
                job: job.clone(),
                exceeded: Exceeded::Time {
                    seconds: limits.time.as_secs(),
                },
            }),
            // The oldest figure in flight is named: with several, the
            // process's memory cannot be told apart by thread.
            None => resident_bytes()
                .filter(|&bytes| bytes > limits.memory_bytes)
                .and_then(|_| jobs.first())
                .map(|(_, _, job)| Overrun {
                    job: job.clone(),
                    exceeded: Exceeded::Memory {
                        mib: limits.memory_bytes >> 20,
                    },
                }),
        };
        if let Some(overrun) = overrun {
            drop(jobs);
            report(&overrun);
        }
    }
}

fn report(overrun: &Overrun) -> ! {
    match HANDLER.get() {
        Some(handler) => handler(overrun),
        None => eprintln!("error: {overrun}"),
    }
    std::process::exit(1);
}

/// The system refused an allocation of `bytes`: if a figure is in flight,
/// its template asked for it (Typst allocates a repeated string or array
/// at once), and this ends the process with that figure's error. Otherwise
/// it returns, and Rust aborts as it would have. For the binary's
/// allocator, which cannot unwind.
pub fn refused(bytes: usize) {
    // Not `lock`: the allocation may have failed under this very lock.
    let job = match JOBS.try_lock() {
        Ok(jobs) => jobs.first().map(|(_, _, job)| job.clone()),
        Err(_) => None,
    };
    if let Some(job) = job {
        report(&Overrun {
            job,
            exceeded: Exceeded::Allocation { bytes },
        });
    }
}

/// The process's resident memory, where the system says (Linux).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib << 10)
}
