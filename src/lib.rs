//! memheat compiles a YAML figure spec into a heatmap of GPU memory across
//! a sweep of parallelism configs, as PDF, PNG, SVG, Typst source or LaTeX
//! numbers.
//!
//! The pipeline, one module per stage: `spec` (parse and check the YAML)
//! → `input` (traces, training logs, tables, snapshots and status logs,
//! each format behind one reader) → `table` (the figure's model: grid,
//! cell text, marks, legend) → `template` (Typst source) → `compile`
//! (Typst, in-process) → `export` (bytes of each format) → `output`
//! (atomic writes). `diag` renders errors once, at the edge; `cli` is the
//! terminal.
//!
//! `pipeline` runs the stages as functions, callable on their own because
//! the subcommands stop at different places: `check` after [`compile()`],
//! `data` after [`load()`], `build` after [`write()`], each through
//! [`build()`] or its parts.

mod cli;
mod colormap;
mod compile;
mod deps;
mod diag;
mod error;
mod export;
mod init;
mod input;
mod numbers;
mod output;
mod paths;
mod pipeline;
mod progress;
mod spec;
mod table;
mod template;
mod warning;
mod watch;

// What the binary, the integration tests and the bench use.
pub use cli::{Cli, run};
pub use compile::budget::refused as allocation_refused;
pub use compile::{Engine, Geometry};
pub use deps::Deps;
pub use error::{Error, Failed};
pub use export::{MAX_PNG_PIXELS, png as png_of};
pub use input::TraceCache;
pub use pipeline::{
    BuildOptions, Built, Figure, MAX_PAGE_PT, Model, Output, Rendered, Timings, Written, build,
    compile, compile_checked, load, render, write, write_depfile,
};
pub use progress::{Progress, ProgressSink};
pub use spec::{Set, Spec};
pub use table::{Cell, CellState, Table};
pub use template::Template;
pub use warning::Warning;
