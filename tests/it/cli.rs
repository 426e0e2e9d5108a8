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
