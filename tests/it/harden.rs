//! Issue #18, "the figure must not lie", "every write checked", "paths make
//! can read": each class with the hostile inputs that broke it.

use crate::errors::{Fixture, cell, good, spec_error};

// ------------------------------------------------------ partial state styles

/// r18: `failed: {label: OOM}` dropped the state's fill and dash, so every
/// OOM config was drawn as blank space.
#[test]
fn r18_one_key_of_a_state_keeps_its_other_defaults() {
    let f = Fixture::new();
    good(&f);
    f.write("logs/failed.log", "Config 1: TP=2, PP=1 - FAILED\n");
    f.write(
        "spec.yaml",
        format!(
            "{}cells:\n  failed: {{label: OOM}}\n  invalid: {{text: unusable}}\n",
            crate::errors::SPEC
        ),
    );
    let built = f.build().unwrap();
    let failed = cell(&built, "2", "1");
    assert_eq!(failed.state, memheat::CellState::Failed);
    assert_eq!(failed.fill.map(|c| c.0), Some([0xCC, 0xCC, 0xCC]));
    assert_eq!(failed.lines, ["—"]);
    let labels: Vec<&str> = built
        .table
        .legend
        .iter()
        .map(|l| l.label.as_str())
        .collect();
    assert!(labels.contains(&"OOM"), "{labels:?}");
    assert!(!labels.contains(&"Failed (OOM)"), "{labels:?}");
}

// ------------------------------------------------------------------- units

/// r18: `display: MiB` kept the label "GB": every number 1024 times too
/// large under its label. And the defaults written in GiB (colour range 0
/// to 80, threshold above 80) were read as MiB: every cell clipped to the
/// darkest colour and hatched. Another display unit changes the numbers and
/// their label, never the colours or the marks.
#[test]
fn r18_the_unit_label_follows_the_display_unit() {
    let f = Fixture::new();
    good(&f);
    f.trace(2, 2, 1, &crate::errors::trace_json("70000.0", "92160.0"));
    let build = |units: &str| {
        f.write(
            "spec.yaml",
            format!("{}units: {units}\n", crate::errors::SPEC),
        );
        f.build().unwrap()
    };
    let gib = build("{display: GiB}");
    let mib = build("{display: MiB}");
    assert_eq!(
        cell(&mib, "1", "1").lines,
        ["Actual: 40960.0MiB", "Theory: 61440.0MiB"]
    );
    for (tp, pp) in [("1", "1"), ("2", "2")] {
        let (a, b) = (cell(&gib, tp, pp), cell(&mib, tp, pp));
        assert_eq!(a.fill, b.fill, "{tp},{pp}");
        assert_eq!(a.marks.len(), b.marks.len(), "{tp},{pp}");
    }
    assert!(cell(&mib, "1", "1").marks.is_empty());
    assert_eq!(cell(&mib, "2", "2").marks.len(), 1);
    let labels = |b: &memheat::Built| -> Vec<String> {
        b.table.legend.iter().map(|l| l.label.clone()).collect()
    };
    assert!(
        labels(&gib).contains(&"Theory > 80GB".to_string()),
        "{:?}",
        labels(&gib)
    );
    assert!(
        labels(&mib).contains(&"Theory > 81920MiB".to_string()),
        "{:?}",
        labels(&mib)
    );
    // TiB: 80 GiB is 0.078 TiB; the cell text keeps its decimals.
    let tib = build("{display: TiB}");
    assert_eq!(cell(&tib, "2", "2").fill, cell(&gib, "2", "2").fill);
    assert!(
        labels(&tib).contains(&"Theory > 0.078TiB".to_string()),
        "{:?}",
        labels(&tib)
    );
    // Thresholds and a range written in the spec are the user's, in display units.
    let own =
        build("{display: MiB}\nthresholds: [{metric: theory, above: 80}]\ncolor: {range: [0, 80]}");
    assert_eq!(cell(&own, "1", "1").marks.len(), 1);
}

#[test]
fn r18_a_label_of_another_magnitude_is_an_error() {
    let spec = |units: &str| format!("inputs:\n  traces: traces/*.json\nunits: {units}\n");
    assert_eq!(
        spec_error(&spec("{display: MiB, label: GB}")),
        "error: label `GB` names GB, but the numbers are in MiB (`units.display`)
  ┌─ spec.yaml:3:30
  │
3 │ units: {display: MiB, label: GB}
  │                              ^^
  │
  = hint: remove `label` to print `MiB`, or set `display: GB` to show the numbers in GB

"
    );
    // The default display is GiB: a label in MB contradicts it too.
    assert!(
        spec_error(&spec("{label: 'peak MB/GPU'}"))
            .starts_with("error: label `peak MB/GPU` names MB, but the numbers are in GiB")
    );
    // GB for GiB is the original figure's convention; a label naming no
    // unit is the user's business.
    for fine in [
        "{label: GiB}",
        "{display: GB, label: GiB}",
        "{display: TiB, label: tb}",
        "{label: '%'}",
    ] {
        let f = Fixture::new();
        good(&f);
        f.write(
            "spec.yaml",
            format!("{}units: {fine}\n", crate::errors::SPEC),
        );
        f.build().unwrap_or_else(|e| panic!("{fine}: {}", e.error));
    }
}

// ------------------------------------------------------ every write checked

/// Runs memheat in the fixture with stdout sent to `stdout`: (code, stderr).
fn run_to(f: &Fixture, args: &[&str], stdout: std::process::Stdio) -> (i32, String) {
    let out = crate::util::memheat()
        .args(args)
        .current_dir(f.path(""))
        .stdout(stdout)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn dev_full() -> std::process::Stdio {
    std::fs::File::options()
        .write(true)
        .open("/dev/full")
        .unwrap()
        .into()
}

/// r18: `data spec > /dev/full` (a full disk under `> numbers.csv`) exited 0
/// with an empty file.
#[test]
fn r18_a_failed_write_to_standard_output_is_an_error() {
    let f = Fixture::new();
    good(&f);
    let full = "error: cannot write to standard output: No space left on device (os error 28)\n";
    for args in [
        &["data", "spec.yaml"][..],
        &["data", "spec.yaml", "-o", "-"],
        &["template"],
        &["template", "-o", "-"],
        &["completions", "bash"],
        &["fonts"],
        &["build", "spec.yaml"],
    ] {
        assert_eq!(run_to(&f, args, dev_full()), (1, full.into()), "{args:?}");
    }
    // Quiet has nothing to write, so nothing fails.
    assert_eq!(
        run_to(&f, &["build", "-q", "spec.yaml"], dev_full()),
        (0, String::new())
    );
}

/// A closed pipe is not a failure: `memheat template | head -1`.
#[test]
fn r18_a_closed_pipe_stays_quiet() {
    let f = Fixture::new();
    good(&f);
    for args in [
        &["template"][..],
        &["data", "spec.yaml"],
        &["completions", "zsh"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        assert_eq!(
            run_to(&f, args, writer.into()),
            (0, String::new()),
            "{args:?}"
        );
    }
}

/// `-o -` is standard output where there is one stream, and an error where
/// there are several.
#[test]
fn r18_dash_is_standard_output_for_one_stream_only() {
    let f = Fixture::new();
    good(&f);
    let run = |args: &[&str]| crate::util::run_in(&f.path(""), args);
    let (code, stdout, stderr) = run(&["data", "spec.yaml", "-o", "-"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert!(stdout.starts_with("pp,tp,state,"), "{stdout}");
    let (code, stdout, _) = run(&["template", "-o", "-"]);
    assert_eq!(code, 0);
    assert_eq!(stdout, run(&["template"]).1);
    let (code, stdout, stderr) = run(&["template", "-o", "t.typ.j2"]);
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (0, "", ""));
    assert_eq!(
        std::fs::read_to_string(f.path("t.typ.j2")).unwrap(),
        run(&["template"]).1
    );
    assert!(!f.path("-").exists());
    let (code, _, stderr) = run(&["build", "spec.yaml", "-o", "-"]);
    assert_eq!(code, 2);
    assert!(stderr.starts_with("error: `-o -`: a build writes one file per format, which standard output cannot hold apart; give a base path such as `figures/485B`\n"), "{stderr}");
    let (code, _, stderr) = run(&["build", "spec.yaml", "--deps", "-"]);
    assert_eq!(code, 2);
    assert!(stderr.starts_with("error: `--deps -`: the depfile would be mixed with the `wrote` lines on standard output; give a file such as `figures/485B.d`\n"), "{stderr}");
    assert!(!f.path("-").exists() && !f.path("out").exists());
}

#[cfg(unix)]
fn kind(path: &std::path::Path) -> String {
    use std::os::unix::fs::FileTypeExt;
    let t = std::fs::symlink_metadata(path).unwrap().file_type();
    match () {
        _ if t.is_symlink() => "symlink",
        _ if t.is_char_device() => "char device",
        _ if t.is_fifo() => "fifo",
        _ if t.is_file() => "file",
        _ => "other",
    }
    .into()
}

/// r18: as root, `--deps /dev/null` renamed a regular file over /dev/null.
/// Devices and descriptors are written into; nothing special is replaced.
#[cfg(unix)]
#[test]
fn r18_devices_are_written_into_never_replaced() {
    let f = Fixture::new();
    good(&f);
    let null = std::path::Path::new("/dev/null");
    assert_eq!(kind(null), "char device");
    let (code, _, stderr) = f.run(&["spec.yaml", "-q", "--deps", "/dev/null"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    let (code, _, stderr) =
        crate::util::run_in(&f.path(""), &["data", "spec.yaml", "-o", "/dev/null"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(kind(null), "char device");
    // Written into, and a device that fails says so.
    let (code, _, stderr) = f.run(&["spec.yaml", "-q", "--deps", "/dev/full"]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            1,
            "error: cannot write `/dev/full`: No space left on device (os error 28)\n"
        )
    );
    assert_eq!(kind(std::path::Path::new("/dev/full")), "char device");
    // A descriptor: /dev/stdout, into a file opened for appending.
    std::fs::write(f.path("log"), "kept\n").unwrap();
    let log = std::fs::File::options()
        .append(true)
        .open(f.path("log"))
        .unwrap();
    let (code, stderr) = run_to(&f, &["data", "spec.yaml", "-o", "/dev/stdout"], log.into());
    assert_eq!((code, stderr.as_str()), (0, ""));
    let text = std::fs::read_to_string(f.path("log")).unwrap();
    assert!(text.starts_with("kept\npp,tp,state,"), "{text}");
}

/// A FIFO is written into when a process reads it, and is an error (not a
/// build that hangs) when none does.
#[cfg(unix)]
#[test]
fn r18_a_fifo_is_written_into_when_read() {
    let f = Fixture::new();
    good(&f);
    let fifo = f.path("numbers.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (code, _, stderr) =
        crate::util::run_in(&f.path(""), &["data", "spec.yaml", "-o", "numbers.csv"]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            1,
            "error: cannot write `numbers.csv`: it is a FIFO that no process is reading\n"
        )
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    // The reader must have opened the FIFO before memheat looks.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (code, _, stderr) =
        crate::util::run_in(&f.path(""), &["data", "spec.yaml", "-o", "numbers.csv"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert!(reader.join().unwrap().starts_with("pp,tp,state,"));
    assert_eq!(kind(&fifo), "fifo");
}

/// An output that is a symlink replaces the file it names, atomically; the
/// link stays a link, also when its file does not exist yet.
#[cfg(unix)]
#[test]
fn r18_a_symlinked_output_replaces_its_target_not_the_link() {
    let f = Fixture::new();
    good(&f);
    std::fs::create_dir_all(f.path("real")).unwrap();
    std::fs::create_dir_all(f.path("out")).unwrap();
    std::fs::write(f.path("real/fig.pdf"), "old").unwrap();
    std::os::unix::fs::symlink("../real/fig.pdf", f.path("out/fig.pdf")).unwrap();
    // Dangling: the PNG does not exist yet.
    std::os::unix::fs::symlink("../real/fig.png", f.path("out/fig.png")).unwrap();
    std::os::unix::fs::symlink("real/fig.d", f.path("fig.d")).unwrap();
    let (code, stdout, stderr) = f.run(&["spec.yaml", "--deps", "fig.d"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(stdout, "wrote out/fig.pdf\nwrote out/fig.png\n");
    for (link, real) in [
        ("out/fig.pdf", "real/fig.pdf"),
        ("out/fig.png", "real/fig.png"),
        ("fig.d", "real/fig.d"),
    ] {
        assert_eq!(kind(&f.path(link)), "symlink", "{link}");
        assert_eq!(kind(&f.path(real)), "file", "{real}");
    }
    assert!(
        std::fs::read(f.path("real/fig.pdf"))
            .unwrap()
            .starts_with(b"%PDF")
    );
    assert!(
        std::fs::read(f.path("real/fig.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );
    assert!(
        std::fs::read_to_string(f.path("real/fig.d"))
            .unwrap()
            .starts_with("fig.d:")
    );
    // A link into what the build reads is still refused.
    std::os::unix::fs::symlink("spec.yaml", f.path("spec.csv")).unwrap();
    let (code, _, stderr) =
        crate::util::run_in(&f.path(""), &["data", "spec.yaml", "-o", "spec.csv"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with(
            "error: output `spec.csv` would overwrite `spec.yaml`, which this build reads"
        ),
        "{stderr}"
    );
}

/// r18: `-o fig.PDF` wrote fig.PDF.pdf, and `-o out/.` wrote `out/..pdf`.
#[test]
fn r18_output_bases_of_any_case_or_with_a_dot() {
    let f = Fixture::new();
    good(&f);
    let (code, stdout, stderr) = f.run(&["spec.yaml", "-o", "out/x.PDF"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(stdout, "wrote out/x.pdf\nwrote out/x.png\n");
    for (base, message) in [
        ("out/.", "error: output base `out/.` has no file name\n"),
        ("out/x.", "error: output base `out/x.` ends in `.`\n"),
        (
            "out/.Png",
            "error: output base `out/.Png` is only an extension\n",
        ),
    ] {
        let (code, _, stderr) = f.run(&["spec.yaml", "-o", base]);
        assert_eq!(code, 1, "{base}");
        assert!(stderr.starts_with(message), "{base}: {stderr}");
    }
    let names: Vec<String> = std::fs::read_dir(f.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

// ---------------------------------------------------------------- depfiles

/// Whether GNU make can be run; tests that need it say when they skip.
pub(crate) fn have_make(test: &str) -> bool {
    let found = std::process::Command::new("make")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"GNU Make"));
    if !found {
        eprintln!("{test}: skipped, GNU make is not installed");
    }
    found
}

pub(crate) fn set_mtime(path: &std::path::Path, seconds_ago: u64) {
    let when = std::time::SystemTime::now() - std::time::Duration::from_secs(seconds_ago);
    std::fs::File::open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

/// Runs `make -r GOAL` in `dir`: (exit code, stdout, stderr). A goal with
/// `=` would be a variable on the command line; the first rule's target,
/// which the depfile's is, is the default goal (but never one with `%`).
fn make(dir: &std::path::Path, goal: &str) -> (i32, String, String) {
    let goal = if goal.contains('=') { None } else { Some(goal) };
    let out = std::process::Command::new("make")
        .args(["-r", "-R", "--"])
        .args(goal)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A sweep whose one trace lies in the directory `name`, built into an
/// output base and a depfile that have `name` in them too: (fixture, code,
/// stdout, stderr).
fn build_with_deps(name: &str) -> (Fixture, i32, String, String) {
    let f = Fixture::new();
    let dir = format!("traces/{name}");
    f.write(
        &format!("{dir}/{}", Fixture::trace_name(1, 1, 1)),
        crate::errors::trace_json("40960.0", "61440.0"),
    );
    // Something a wildcard in the name would also match.
    std::fs::create_dir_all(f.path("traces/axb")).unwrap();
    f.write(
        "spec.yaml",
        "inputs:\n  traces: 'traces/*/*.json'\n  logs: {failure: logs/failed.log}\noutput: {dpi: 20, formats: [svg]}\n",
    );
    let base = format!("out/{name}-fig");
    let depfile = format!("{base}.d");
    let (code, stdout, stderr) = f.run(&["spec.yaml", "-q", "--deps", &depfile, "-o", &base]);
    (f, code, stdout, stderr)
}

/// r18: a depfile naming `tp=4,pp=8/` made make read a variable assignment
/// and lose the rule; `;`, `|`, `(…)`, wildcards and `~` were misread too.
/// Each name is checked with real make: up to date after the build,
/// rebuilt when the trace changes, and rebuilt (not "No rule to make
/// target") when the trace is deleted.
#[test]
fn r18_depfiles_name_every_path_as_make_reads_it() {
    if !have_make("r18_depfiles_name_every_path_as_make_reads_it") {
        return;
    }
    let names = [
        "tp=4,pp=8",
        "=lead",
        "a b",
        "a#b",
        "a:b",
        "a%b",
        "a$b",
        "a$(x)b",
        "a|b",
        "a(b",
        "a)b",
        "x(1)y",
        "a*b",
        "a?b",
        "a[1]b",
        "a[x",
        "~home",
        "x~",
        r"a\b",
        r"a\ b",
        r"a\#b",
        r"a\=b",
        r"a\%b",
        r"a\|b",
        "a'b",
        "a\"b",
        "a,b",
        "a{b,c}",
        "ü",
        "-x",
        "a  b",
        "all: x",
        ".PHONY",
    ];
    for name in names {
        let (f, code, _, stderr) = build_with_deps(name);
        assert_eq!((code, stderr.as_str()), (0, ""), "{name:?}");
        let goal = format!("out/{name}-fig.d");
        let depfile = std::fs::read_to_string(f.path(&goal)).unwrap();
        let target = depfile.split(": \\\n").next().unwrap();
        // A copy: make would remake an included depfile before the goal.
        f.write("rules.mk", &depfile);
        f.write(
            "Makefile",
            format!("include rules.mk\n{target}:\n\t@echo rebuilt\n"),
        );
        let trace = f.path(&format!("traces/{name}/{}", Fixture::trace_name(1, 1, 1)));
        let output = f.path(&goal);
        let settle = || {
            for input in ["spec.yaml", "logs/failed.log", "traces", "traces/axb"] {
                set_mtime(&f.path(input), 1000);
            }
            set_mtime(&f.path(&format!("traces/{name}")), 1000);
            if trace.exists() {
                set_mtime(&trace, 1000);
            }
            set_mtime(&output, 500);
        };
        settle();
        let context = format!("{name:?} with\n{depfile}");
        let (code, stdout, stderr) = make(&f.path(""), &goal);
        assert_eq!((code, stderr.as_str()), (0, ""), "up to date: {context}");
        assert!(stdout.ends_with("is up to date.\n"), "{stdout}{context}");
        set_mtime(&output, 2000);
        assert_eq!(
            make(&f.path(""), &goal),
            (0, "rebuilt\n".into(), String::new()),
            "changed trace: {context}"
        );
        settle();
        std::fs::remove_file(&trace).unwrap();
        settle();
        assert_eq!(
            make(&f.path(""), &goal),
            (0, "rebuilt\n".into(), String::new()),
            "deleted trace: {context}"
        );
    }
}

/// What no spelling makes make read back is an error before anything is
/// written.
#[test]
fn r18_a_path_make_cannot_read_is_an_error_before_writing() {
    for (name, path, reason) in [
        // The depfile's name is checked first, then the spec, the traces,
        // the directories.
        (
            "a;b",
            "out/a;b-fig.d",
            "make reads `;` as the start of a recipe, whatever quotes it",
        ),
        (
            "a\tb",
            "out/a\\u{9}b-fig.d",
            "make reads a tab in a name as a space, whatever quotes it",
        ),
        (
            "lib(m)",
            "traces/lib(m)",
            "make reads `name(member)` as a member of an archive",
        ),
        // make looks at the whole path: `traces/(b)` is member `b` of an
        // archive `traces/`.
        (
            "(b)",
            "traces/(b)",
            "make reads `name(member)` as a member of an archive",
        ),
        (
            r"a\*b",
            r"out/a\*b-fig.d",
            "make cannot read a backslash before a wildcard (`*`, `?`, `[`)",
        ),
        (
            "a\\",
            "traces/a\\",
            "make cannot read a name that ends in a backslash",
        ),
    ] {
        let (f, code, stdout, stderr) = build_with_deps(name);
        assert_eq!((code, stdout.as_str()), (1, ""), "{name:?}");
        assert_eq!(
            stderr,
            format!(
                "error: `{path}` cannot be named in a make depfile: {reason}\n  = hint: rename it (or the directory it is in), or build without --deps\n"
            ),
            "{name:?}"
        );
        assert!(!f.path("out").exists(), "{name:?}: nothing is written");
        assert!(!f.path("fig.d").exists(), "{name:?}");
    }
}

// ------------------------------------------------------ messages point right

/// r18: a bad regex in a double-quoted string (`"\\d"`, as many write it)
/// was not found in the text, and the error pointed at the mapping's first
/// key; a neighbour containing the quoted text drew the label instead.
#[test]
fn r18_a_regex_error_in_a_double_quoted_string_points_at_its_key() {
    assert_eq!(
        spec_error(
            "inputs:\n  traces: \"traces/*.json\"\n  rank: \"0\"\n  filename: \"tp(?P<tp>\\\\d+\"\n"
        ),
        "error: inputs: invalid regular expression `tp(?P<tp>\\d+`: unclosed group
  ┌─ spec.yaml:4:13
  │
4 │   filename: \"tp(?P<tp>\\\\d+\"
  │             ^^^^^^^^^^^^^^^

"
    );
    assert_eq!(
        spec_error(
            "inputs:\n  traces: traces/*.json\n  logs:\n    success: logs/ok.log\n    line: \"x(\\\\d\"\n"
        ),
        "error: inputs.logs: invalid regular expression `x(\\d`: unclosed group
  ┌─ spec.yaml:5:11
  │
5 │     line: \"x(\\\\d\"
  │           ^^^^^^^

"
    );
    // The neighbour `traces` contains `(`; the bad value is `filename`'s.
    assert_eq!(
        spec_error("inputs: {traces: \"traces/(*.json\", filename: \"(\"}\n"),
        "error: inputs: invalid regular expression `(`: unclosed group
  ┌─ spec.yaml:1:47
  │
1 │ inputs: {traces: \"traces/(*.json\", filename: \"(\"}
  │                                               ^

"
    );
    // A bad colour in a double-quoted string, in a state's patch.
    assert!(
        spec_error(
            "inputs: {traces: traces/*.json}\ncells:\n  failed: {text: \"#x\", fill: \"#x\"}\n"
        )
        .contains("  ┌─ spec.yaml:3:31\n"),
    );
}

/// r18: YAML merge keys were "unknown field `<<`" (or silently data), and
/// braces and `[^…]` in globs matched nothing or the wrong files.
#[test]
fn r18_unsupported_syntax_is_named() {
    assert_eq!(
        spec_error("inputs: {traces: traces/*.json}\nstyle:\n  <<: {gap: 2pt}\n  font-size: 8pt\n"),
        "error: YAML merge keys (`<<`) are not supported
  ┌─ spec.yaml:3:3
  │
3 │   <<: {gap: 2pt}
  │   ^^
  │
  = hint: to share keys between specs, put them in a base and write `extends: base.yaml` (mappings merge key by key); within one spec, write the keys out

"
    );
    // With an anchor, as it is mostly written, and in a list.
    assert!(
        spec_error("base: &b {gap: 2pt}\ninputs: {traces: traces/*.json}\nthresholds:\n  - {<<: *b, metric: theory, above: 1}\n")
            .starts_with("error: YAML merge keys (`<<`) are not supported\n  ┌─ spec.yaml:4:6\n"),
    );
    assert_eq!(
        spec_error("inputs:\n  traces: [traces/a.json, 'traces/{b,c}/*.json']\n"),
        "error: glob `traces/{b,c}/*.json` uses braces, which memheat's globs do not expand
  ┌─ spec.yaml:2:27
  │
2 │   traces: [traces/a.json, 'traces/{b,c}/*.json']
  │                           ^^^^^^^^^^^^^^^^^^^^^
  │
  = hint: list one glob per alternative: `traces: [traces/b/*.json, traces/c/*.json]`; for a name with braces in it, write `[{]` for `{`: `traces/[{]b,c}/*.json`

"
    );
    assert!(
        spec_error("inputs:\n  traces: traces/*.json\n  logs: {failure: 'logs/[^o]*.log'}\n")
            .starts_with("error: glob `logs/[^o]*.log` uses `[^…]`, which memheat's globs read as `^` or any of the other characters\n  ┌─ spec.yaml:3:19\n"),
    );
    // A status log's glob is checked too.
    assert!(
        spec_error("inputs:\n  traces: traces/*.json\n  logs: {status: 'logs/{a,b}.log'}\n")
            .starts_with("error: glob `logs/{a,b}.log` uses braces"),
    );
    // A panel's glob names the panel.
    let e = spec_error("panels:\n  - title: A\n    inputs: {traces: 'traces/{x,y}.json'}\n");
    assert!(
        e.starts_with("error: panels[0] (A): glob `traces/{x,y}.json` uses braces"),
        "{e}"
    );
    // On the command line too.
    let f = Fixture::new();
    good(&f);
    let (code, _, stderr) = f.run(&["spec.yaml", "--set", "inputs.traces=traces/{a,b}.json"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with(
            "error: --set inputs.traces=traces/{a,b}.json: glob `traces/{a,b}.json` uses braces"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = f.run(&["spec.yaml", "--set", "style={<<: {gap: 2pt}}"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("YAML merge keys (`<<`) are not supported: write the keys out"),
        "{stderr}"
    );
}

/// A directory named `~` in the working directory: make reads a leading
/// `~/` as $HOME, so the depfile must spell it so that make does not.
#[test]
fn r18_a_directory_named_tilde_is_not_home_to_make() {
    if !have_make("r18_a_directory_named_tilde_is_not_home_to_make") {
        return;
    }
    let f = Fixture::new();
    let trace = format!("~/{}", Fixture::trace_name(1, 1, 1));
    f.write(&trace, crate::errors::trace_json("40960.0", "61440.0"));
    f.write(
        "spec.yaml",
        "inputs:\n  traces: '~/*.json'\n  logs: {failure: logs/failed.log}\noutput: {dpi: 20, formats: [svg]}\n",
    );
    let (code, _, stderr) = f.run(&["spec.yaml", "-q", "--deps", "fig.d", "-o", "out/fig"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    let depfile = std::fs::read_to_string(f.path("fig.d")).unwrap();
    assert!(depfile.contains("\n  [~]/memory_trace_"), "{depfile}");
    f.write("rules.mk", &depfile);
    f.write("Makefile", "include rules.mk\nfig.d:\n\t@echo rebuilt\n");
    for input in ["spec.yaml", "~", "logs", "logs/failed.log"] {
        set_mtime(&f.path(input), 1000);
    }
    set_mtime(&f.path(&trace), 1000);
    set_mtime(&f.path("fig.d"), 500);
    assert_eq!(make(&f.path(""), "fig.d").0, 0);
    assert_eq!(
        make(&f.path(""), "fig.d").1,
        "make: 'fig.d' is up to date.\n"
    );
    set_mtime(&f.path("fig.d"), 2000);
    assert_eq!(
        make(&f.path(""), "fig.d"),
        (0, "rebuilt\n".into(), String::new())
    );
    std::fs::remove_file(f.path(&trace)).unwrap();
    set_mtime(&f.path("~"), 1000);
    set_mtime(&f.path("fig.d"), 500);
    assert_eq!(
        make(&f.path(""), "fig.d"),
        (0, "rebuilt\n".into(), String::new()),
        "{depfile}"
    );
}
