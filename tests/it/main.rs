//! One integration-test binary, so typst links once.

mod build;
mod cli;
mod errors;
mod util;
mod workflow;
