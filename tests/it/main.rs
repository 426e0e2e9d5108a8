//! One integration-test binary, so typst links once.

mod build;
mod cli;
mod errors;
mod extends;
mod fuzz;
mod golden;
mod init;
mod util;
mod watch;
mod workflow;
