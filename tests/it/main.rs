//! One integration-test binary, so typst links once.

// A binary: its modules' `pub` items are for each other.
#![allow(unreachable_pub)]

mod build;
mod cli;
mod colour;
mod errors;
mod extends;
mod fuzz;
mod golden;
mod harden;
mod hostile;
mod init;
mod inputs;
mod layout;
mod numbers;
mod panels;
mod paper;
mod snapshot;
mod util;
mod venues;
mod watch;
mod workflow;
