//! The command line itself: help, usage errors, quiet success.

use crate::util::{memheat, repo};

#[test]
fn help_explains_every_option() {
    let out = memheat().args(["build", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for option in [
        "--output <BASE>",
        "--dpi <N>",
        "--strict",
        "--timings",
        "--deps <FILE>",
        "--quiet",
        "--diagnostic-format <DIAGNOSTIC_FORMAT>",
        "<SPEC>...",
    ] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
    let out = memheat().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("Exit codes: 0 success"), "{help}");
}

#[test]
fn output_override_with_several_specs_is_a_usage_error() {
    let out = memheat()
        .args(["build", "a.yaml", "b.yaml", "-o", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("--output names one figure"), "{stderr}");
}

#[test]
fn success_prints_only_the_files_written() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("fig");
    let out = memheat()
        .args(["build", "specs/485B.yaml", "--dpi", "72", "-o"])
        .arg(&base)
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("wrote {0}.pdf\nwrote {0}.png\n", base.display())
    );
}

#[test]
fn fonts_lists_the_embedded_families() {
    let out = memheat().arg("fonts").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l == "Libertinus Serif"), "{text}");
    assert!(text.lines().any(|l| l == "New Computer Modern"), "{text}");
}

#[test]
fn completions_name_the_subcommands_and_flags() {
    for shell in ["bash", "zsh", "fish"] {
        let out = memheat().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for word in ["check", "data", "deps", "diagnostic-format"] {
            assert!(script.contains(word), "{shell}: {word} missing");
        }
    }
    let out = memheat().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Runs the binary with stderr on a new pseudo-terminal, and returns all
/// the terminal received.
#[cfg(target_os = "linux")]
fn stderr_on_a_terminal(dir: &std::path::Path, args: &[&str]) -> String {
    use std::io::Read as _;
    use std::os::fd::{FromRawFd as _, OwnedFd};
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    #[allow(unsafe_code)] // openpty(3) has no std wrapper
    // SAFETY: valid out-pointers; on success both fds are new and ours.
    let (master, slave) = unsafe {
        let opened = libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        );
        assert_eq!(opened, 0, "openpty failed");
        (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave))
    };
    let mut child = memheat()
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(slave)
        .spawn()
        .unwrap();
    let mut terminal = std::fs::File::from(master);
    let mut seen = Vec::new();
    // Ends with EIO once the child, the terminal's last writer, is gone.
    let _ = terminal.read_to_end(&mut seen);
    assert!(child.wait().unwrap().success());
    String::from_utf8_lossy(&seen).into_owned()
}

#[cfg(target_os = "linux")]
#[test]
fn the_progress_bar_is_drawn_on_a_terminal_and_never_into_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let spec = repo().join("specs/485B.yaml");
    let spec = spec.to_str().unwrap();
    let on_terminal = stderr_on_a_terminal(
        dir.path(),
        &["build", spec, "-o", "fig", "--progress", "always"],
    );
    for stage in ["reading inputs", "compiling", "rendering"] {
        assert!(
            on_terminal.contains(&format!("485B.yaml: {stage}")),
            "{stage} missing from {on_terminal:?}"
        );
    }
    // The bar is cleared at the end: the last thing drawn erases the line.
    assert!(on_terminal.ends_with("\r\u{1b}[2K"), "{on_terminal:?}");
    let never = stderr_on_a_terminal(
        dir.path(),
        &["build", spec, "-o", "fig", "--progress", "never"],
    );
    assert_eq!(never, "");
    for mode in ["always", "auto"] {
        let out = memheat()
            .args(["build", spec, "-o", "fig", "--progress", mode])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{mode}");
    }
}
