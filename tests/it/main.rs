//! One integration-test binary, so typst links once.

mod build;
mod cli;
mod errors;
mod fuzz;
mod util;
mod watch;
mod workflow;
