//! memheat compiles a YAML figure spec into a heatmap of GPU memory across
//! a sweep of parallelism configs, as PDF, PNG, SVG, Typst source or LaTeX
//! numbers.
//!
//! The pipeline, one module per stage:
//! `spec` (parse and check the YAML) → `input` (traces, training logs,
//! tables, snapshots and status logs, each format behind one reader) →
//! [`table`] (the figure's model: grid, cell text, marks, legend) →
//! `template` (Typst source) → [`compile`](mod@compile) (Typst, in-process) →
//! [`export`] (bytes of each format) → `output` (atomic writes). `diag`
//! renders errors once, at the edge; `cli` is the terminal.
//!
//! [`pipeline`] runs the stages as functions, callable on their own
//! because the subcommands stop at different places: `check` after
//! [`compile()`], `data` after [`load`], `build` after [`write()`].

// Public: what the binary, the integration tests and the bench use.
pub mod cli;
pub mod compile;
pub mod export;
pub mod pipeline;
pub mod table;

mod colormap;
mod deps;
mod diag;
mod error;
mod init;
mod input;
mod numbers;
mod output;
mod paths;
mod progress;
mod spec;
mod template;
mod warning;
mod watch;

pub use deps::{Deps, write as write_depfile};
pub use error::{Error, Failed};
pub use input::TraceCache;
pub use pipeline::{
    BuildOptions, Built, Figure, MAX_PAGE_PT, MAX_PNG_PIXELS, Model, Output, Timings, build,
    compile, compile_checked, load, render, write,
};
pub use progress::{Progress, ProgressSink};
pub use spec::{Set, Spec};
pub use template::Template;
pub use warning::Warning;
