//! Long outputs kept as files under `tests/snapshots/`, read as they are
//! printed (no Rust escapes, no doubled braces). After a deliberate change,
//! rewrite them with
//!
//!     MEMHEAT_BLESS=1 cargo test --release snapshot
//!
//! and read `git diff tests/snapshots` before committing.
//!
//! `spec-errors/NAME.yaml` is a spec that must fail: it is built as
//! `NAME.yaml` beside one good trace, and its stderr must be
//! `NAME.stderr`. A new case is two files and no Rust.

use std::path::Path;

use crate::errors::spec_error_in;
use crate::util::{bless, repo, yaml_files};

/// `None` when `got` is the snapshot at `path` (or was just written as it),
/// else why not.
fn compare(path: &Path, got: &str) -> Option<String> {
    if bless() {
        std::fs::write(path, got).unwrap();
        return None;
    }
    let Ok(want) = std::fs::read_to_string(path) else {
        return Some(format!(
            "{}: no snapshot; write it with MEMHEAT_BLESS=1 cargo test --release snapshot",
            path.display()
        ));
    };
    if got == want {
        return None;
    }
    let line = got
        .lines()
        .zip(want.lines())
        .position(|(g, w)| g != w)
        .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
    Some(format!(
        "{}: differs from line {}; got:\n{got}\nwanted:\n{want}",
        path.display(),
        line + 1
    ))
}

/// Panics unless `got` is the snapshot `tests/snapshots/NAME`.
pub fn assert_snapshot(name: &str, got: &str) {
    if let Some(why) = compare(&repo().join("tests/snapshots").join(name), got) {
        panic!("{why}");
    }
}

#[test]
fn snapshot_spec_errors() {
    let specs = yaml_files(&repo().join("tests/snapshots/spec-errors"));
    assert!(specs.len() >= 10, "{specs:?}");
    let failures: Vec<String> = specs
        .iter()
        .filter_map(|spec| {
            let name = spec.file_name().unwrap().to_str().unwrap();
            let stderr = spec_error_in(name, &std::fs::read_to_string(spec).unwrap());
            compare(&spec.with_extension("stderr"), &stderr)
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
