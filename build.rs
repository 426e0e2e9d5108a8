//! Links the `memheat` binary as a position-dependent executable on Linux.
//!
//! As a PIE, the binary carries about 180,000 relative relocations (typst's
//! tables of pointers, 4 MB of `.rela.dyn`) that the dynamic loader applies
//! at every start: 2 to 3 ms and 800 page faults of a `memheat build` of the
//! example that takes about 50 ms (perf, Nov 2026). Without PIE the linker
//! resolves them once.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux") {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
