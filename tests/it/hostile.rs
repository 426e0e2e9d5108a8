//! Issue #18, second round: numbers beyond what `f64` holds, and bounded
//! work in custom templates, font files and traces, each with the hostile
//! inputs that broke it.

use crate::errors::{Fixture, SPEC, cell, good, trace_json};
use memheat::CellState;

// ----------------------------------------------------------------- numbers

/// A trace named for a config `tp`, any digits.
fn trace_for(f: &Fixture, tp: &str, json: &str) {
    f.write(
        &format!("traces/memory_trace_rank0_wd8_tp{tp}_pp1_dp1_exp1_expNumNone_l2_mbs1_nmbs1_gbs8_ts1.json"),
        json,
    );
}

/// r18: axis values above 2^53 went through `f64`: `9007199254740993`
/// merged with `9007199254740992` (one cell, "2 traces") and printed as it,
/// and `10000000000000000001` sorted with `9999999999999999999` by name.
#[test]
fn r18_integers_beyond_f64_stay_exact() {
    let f = Fixture::new();
    let big = [
        "10000000000000000001",
        "9007199254740993",
        "9999999999999999999",
        "9007199254740992",
    ];
    for tp in big {
        trace_for(&f, tp, &trace_json("40960.0", "61440.0"));
    }
    f.write(
        "spec.yaml",
        format!("{SPEC}cells:\n  text: [\"{{{{ tp }}}}\"]\n"),
    );
    let built = f.build().unwrap();
    assert_eq!(
        built.table.y.labels,
        [
            "9007199254740992",
            "9007199254740993",
            "9999999999999999999",
            "10000000000000000001"
        ]
    );
    for tp in big {
        assert_eq!(
            cell(&built, tp, "1").lines,
            [tp],
            "the cell text prints it as written"
        );
    }
    // Listed in the spec, unquoted: YAML keeps 64-bit integers exactly.
    f.write(
        "spec.yaml",
        format!("{SPEC}axes:\n  y: {{values: [9007199254740993, 9999999999999999999]}}\n"),
    );
    let built = f.build().unwrap();
    assert_eq!(
        built.table.y.labels,
        ["9007199254740993", "9999999999999999999"]
    );
    assert_eq!(
        cell(&built, "9007199254740993", "1").state,
        CellState::Measured
    );
}

/// r18: beyond 64 bits YAML has only the nearest `f64` (or nothing), so a
/// listed value is refused at its line, with the fix.
#[test]
fn r18_integers_yaml_cannot_hold_are_refused_by_name() {
    let f = Fixture::new();
    good(&f);
    f.write(
        "spec.yaml",
        format!(
            "{SPEC}axes:\n  y: {{values: [1, 10000000000000000000000000000000000000000001]}}\n"
        ),
    );
    let (code, _, stderr) = f.run(&["spec.yaml", "--diagnostic-format", "short"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "spec.yaml:6:15: error: axes.y.values: the number 1e43 is too large for YAML to keep exactly (it reads integers beyond 64 bits as the nearest floating-point number); quote it, as in '123456789012345678901234', to keep its digits\n"
    );
    f.write(
        "spec.yaml",
        format!("{SPEC}axes:\n  y: {{values: [18446744073709551617]}}\n"),
    );
    let (code, _, stderr) = f.run(&["spec.yaml", "--diagnostic-format", "json"]);
    assert_eq!(code, 1);
    let error: serde_json::Value = serde_json::from_str(&stderr).unwrap();
    assert_eq!(
        (&error["line"], &error["column"], &error["message"]),
        (
            &6.into(),
            &16.into(),
            &"axes.y.values[0]: invalid type: integer `18446744073709551617` as u128, expected any YAML value".into()
        )
    );
    assert_eq!(
        error["hints"][0],
        "numbers in a spec are at most 64 bits; quote a larger one (`'123456789012345678901234'`) to keep its digits as text"
    );
    // Quoted, it is a config like any other.
    trace_for(
        &f,
        "18446744073709551617",
        &trace_json("40960.0", "61440.0"),
    );
    f.write(
        "spec.yaml",
        format!("{SPEC}axes:\n  y: {{values: ['18446744073709551617']}}\n"),
    );
    let built = f.build().unwrap();
    assert_eq!(
        cell(&built, "18446744073709551617", "1").state,
        CellState::Measured
    );
}

/// r18: a finite value that overflows when converted (`1e308` MB in bytes)
/// failed the whole build with "this is a memheat bug" (`inf` has no Typst
/// literal). It is that cell's problem, like any implausible value.
#[test]
fn r18_a_value_that_overflows_its_unit_is_a_cell_warning() {
    let f = Fixture::new();
    good(&f);
    f.trace(2, 1, 1, &trace_json("1e308", "61440.0"));
    f.trace(1, 2, 1, &trace_json("40960.0", "1.7e308"));
    f.write(
        "spec.yaml",
        format!(
            "{SPEC}units: {{input: MB, display: B}}\ncolor: {{range: [0, 1e11]}}\nthresholds: []\n"
        ),
    );
    let built = f.build().unwrap();
    let over = cell(&built, "2", "1");
    assert_eq!(
        (over.state, over.reason.as_deref()),
        (CellState::Invalid, Some("too large for the display unit"))
    );
    let theory = cell(&built, "1", "2");
    assert_eq!((theory.state, theory.theory), (CellState::Measured, None));
    let warnings: Vec<String> = built.warnings.iter().map(ToString::to_string).collect();
    let name = |tp, pp| format!("traces/{}", Fixture::trace_name(tp, pp, 1));
    for (tp, pp, expected) in [
        (
            2,
            1,
            "actual value 1e308 MB is too large for the display unit (B); the cell shows no data",
        ),
        (
            1,
            2,
            "theoretical value 1.7e308 MB is too large for the display unit (B); theory shows n/a and marks no threshold",
        ),
    ] {
        assert!(
            warnings
                .iter()
                .any(|w| w.ends_with(&format!("{}: {expected}", name(tp, pp)))),
            "{warnings:?}"
        );
    }
    assert!(f.path("out/fig.pdf").exists());
}

// ------------------------------------------------------- custom templates

/// Runs `memheat build ARGS` in `f` with `env`, and kills it if it has not
/// ended after two minutes, so a regression fails instead of hanging.
fn build_bounded(f: &Fixture, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut child = crate::util::memheat()
        .arg("build")
        .args(args)
        .envs(env.iter().copied())
        .current_dir(f.path(""))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("memheat build {args:?} still ran after two minutes");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn with_template(f: &Fixture, name: &str) {
    f.write("spec.yaml", format!("{SPEC}template: {name}\n"));
}

/// r18: a custom template was read however it was: a FIFO blocked the build
/// forever, and a file of any size was read whole.
#[test]
fn r18_a_template_must_be_a_small_regular_file() {
    let f = Fixture::new();
    good(&f);
    let made = std::process::Command::new("mkfifo")
        .arg(f.path("fifo.typ.j2"))
        .status();
    if !made.is_ok_and(|s| s.success()) {
        println!("skipped the FIFO: no mkfifo");
    } else {
        with_template(&f, "fifo.typ.j2");
        let (code, _, stderr) =
            build_bounded(&f, &["spec.yaml", "--diagnostic-format", "short"], &[]);
        assert_eq!(
            (code, stderr.as_str()),
            (
                1,
                "fifo.typ.j2: error: cannot read the template: it is not a regular file\n"
            )
        );
    }
    std::fs::create_dir(f.path("dir.typ.j2")).unwrap();
    with_template(&f, "dir.typ.j2");
    let (code, _, stderr) = build_bounded(&f, &["spec.yaml", "--diagnostic-format", "short"], &[]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            1,
            "dir.typ.j2: error: cannot read the template: it is not a regular file\n"
        )
    );
    // The built-in template, and a Typst comment to make it just too large.
    let mut huge =
        std::fs::read_to_string(crate::util::repo().join("templates/heatmap.typ.j2")).unwrap();
    huge.push('\n');
    huge.push_str(&"/".repeat((1 << 20) + 1 - huge.len()));
    f.write("huge.typ.j2", &huge);
    with_template(&f, "huge.typ.j2");
    let (code, _, stderr) = build_bounded(&f, &["spec.yaml", "--diagnostic-format", "short"], &[]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            1,
            "huge.typ.j2: error: cannot read the template: it has 1048577 bytes, and a template may have at most 1048576\n"
        )
    );
    // One byte less is a template like any other.
    huge.pop();
    f.write("huge.typ.j2", &huge);
    let (code, _, stderr) = build_bounded(&f, &["spec.yaml"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!f.path("out").read_dir().unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".memheat-")
    }));
}

/// r18: a template's Typst code ran without bound: loops for hours, and
/// `range` asking for 128 GB. Past the budget (set low here) the build
/// ends with an error naming the spec and the template, and nothing is
/// written.
#[test]
fn r18_a_template_that_would_run_for_hours_or_take_gigabytes_is_stopped() {
    let f = Fixture::new();
    good(&f);
    f.write(
        "hours.typ.j2",
        "#for i in range(100000) { for j in range(100000) { } }\n",
    );
    with_template(&f, "hours.typ.j2");
    let (code, stdout, stderr) =
        build_bounded(&f, &["spec.yaml"], &[("MEMHEAT_TYPST_SECONDS", "2")]);
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (
            1,
            "",
            "error: spec.yaml: Typst ran for more than 2 s while filling, compiling or exporting the template `hours.typ.j2`\n  = hint: a template that loops for this long is almost always a bug; if it is not, raise the limit with MEMHEAT_TYPST_SECONDS=N\n"
        )
    );
    f.write("gigabytes.typ.j2", "#let a = range(1, 4000000000)\n");
    with_template(&f, "gigabytes.typ.j2");
    let (code, _, stderr) = build_bounded(
        &f,
        &["spec.yaml", "--diagnostic-format", "json"],
        &[("MEMHEAT_TYPST_MEMORY_MIB", "300")],
    );
    assert_eq!(code, 1);
    let error: serde_json::Value = serde_json::from_str(&stderr).unwrap();
    assert_eq!(
        error["message"],
        "spec.yaml: Typst took more than 300 MiB of memory while filling, compiling or exporting the template `gigabytes.typ.j2`"
    );
    assert!(!f.path("out").exists(), "nothing is written");
    // Asked for at once, 10 TB is refused by the system before the watchdog
    // could see it: the same error, not Rust's abort.
    f.write("terabytes.typ.j2", "#let s = \"x\" * 10000000000000\n");
    with_template(&f, "terabytes.typ.j2");
    let (code, _, stderr) = build_bounded(&f, &["spec.yaml"], &[]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            1,
            "error: spec.yaml: Typst asked for 10000000000016 bytes of memory at once while filling, compiling or exporting the template `terabytes.typ.j2`\n  = hint: the system refused it; a template that needs this much memory at once is almost always a bug (a string or array repeated a huge number of times)\n"
        )
    );
    assert!(!f.path("out").exists(), "nothing is written");
}

// ------------------------------------------------------------------- fonts

fn be16(data: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([data[at], data[at + 1]]))
}

fn be32(data: &[u8], at: usize) -> usize {
    u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize
}

fn put16(data: &mut [u8], at: usize, value: u16) {
    data[at..at + 2].copy_from_slice(&value.to_be_bytes());
}

/// The offsets of the `cmap` subtables of `format` in a single-face font.
fn cmap_subtables(font: &[u8], format: usize) -> Vec<usize> {
    let tables = be16(font, 4);
    let cmap = (0..tables)
        .map(|i| 12 + 16 * i)
        .find(|&record| &font[record..record + 4] == b"cmap")
        .map(|record| be32(font, record + 8))
        .unwrap();
    let mut found: Vec<usize> = (0..be16(font, cmap + 2))
        .map(|i| cmap + be32(font, cmap + 4 + 8 * i + 4))
        .filter(|&at| be16(font, at) == format)
        .collect();
    found.dedup();
    found
}

/// Corrupt copies of a real font (the first TrueType face of Typst's
/// assets), made the same way every run.
fn corrupt_fonts() -> Vec<(&'static str, Vec<u8>)> {
    let real = typst_assets::fonts()
        .find(|data| data.starts_with(&[0, 1, 0, 0]))
        .unwrap()
        .to_vec();
    // One format-12 group from code point 0 to 0xFFFFFFFF: 16 GB of code
    // points in Typst's list.
    let mut whole = real.clone();
    for at in cmap_subtables(&real, 12) {
        whole[at + 16..at + 24].copy_from_slice(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    }
    // Every format-4 segment the whole 16-bit range, hundreds of times.
    let mut repeated = real.clone();
    for at in cmap_subtables(&real, 4) {
        let segments = be16(&real, at + 6) / 2;
        for i in 0..segments - 1 {
            put16(&mut repeated, at + 14 + 2 * i, 0xfffe);
            put16(&mut repeated, at + 16 + 2 * segments + 2 * i, 0);
        }
    }
    // A collection of 2^32 - 1 faces, in 76 bytes.
    let mut collection = b"ttcf\x00\x01\x00\x00\xff\xff\xff\xff".to_vec();
    collection.extend([0; 64]);
    vec![
        ("whole-code-space.ttf", whole),
        ("repeated-segments.ttf", repeated),
        ("many-faces.ttc", collection),
    ]
}

/// r18: a font file's cmap group spanning the whole code space made Typst
/// list 4 billion code points (16 GB) before the figure was compiled, and a
/// collection header could claim 4 billion faces. Such files are skipped
/// with a warning; the figure builds with the other fonts.
#[test]
fn r18_a_corrupt_font_is_skipped_before_typst_counts_it() {
    let f = Fixture::new();
    good(&f);
    let corrupt = corrupt_fonts();
    for (name, data) in &corrupt {
        f.write(&format!("fonts/{name}"), data);
    }
    f.write("spec.yaml", format!("{SPEC}fonts: {{paths: [fonts]}}\n"));
    let built = f.build().unwrap();
    let mut warnings: Vec<String> = built.warnings.iter().map(ToString::to_string).collect();
    warnings.sort();
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    let fonts = f.path("fonts");
    assert_eq!(
        warnings[0],
        format!(
            "{}: it says it is a collection of 4294967295 faces (at most 256, and its size has room for 16); a corrupt font, skipped",
            fonts.join("many-faces.ttc").display()
        )
    );
    for (warning, name, at_least) in [
        (&warnings[1], "repeated-segments.ttf", 100 * 0xffff_u64),
        (&warnings[2], "whole-code-space.ttf", 1 << 32),
    ] {
        let head = format!("{}: its `cmap` table maps ", fonts.join(name).display());
        let count: u64 = warning
            .strip_prefix(&head)
            .and_then(|rest| {
                rest.strip_suffix(" code points (Unicode has 1114112); a corrupt font, skipped")
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{warning}"));
        assert!(count >= at_least, "{warning}");
    }
    assert!(f.path("out/fig.pdf").exists());
}

// ------------------------------------------------------------------ traces

/// r18: the `samples` array is skipped unread, NULs and all, so a sparse
/// trace (a few KB on disk, 256 GiB apparent) was read to its end: 577 MB/s
/// of zeros on the 2-core VM, 8 minutes. JSON has no NUL byte anywhere, so
/// a hole ends the read at its first NUL.
#[test]
fn r18_a_sparse_trace_is_turned_down_at_its_first_nul() {
    use std::io::{Seek, SeekFrom, Write};
    let f = Fixture::new();
    good(&f);
    let path = f.path(&format!("traces/{}", Fixture::trace_name(2, 1, 1)));
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(br#"{"0": {"samples": ["#).unwrap();
    let hole = 256u64 << 30;
    if file.set_len(hole).is_err() {
        println!("skipped: this file system has no sparse files of 256 GiB");
        return;
    }
    file.seek(SeekFrom::Start(hole)).unwrap();
    file.write_all(br#"], "peak_allocated_MB": 5000, "theoretical_memory_MB": 6000}}"#)
        .unwrap();
    drop(file);
    let built = f.build().unwrap();
    let sparse = cell(&built, "2", "1");
    assert_eq!(sparse.state, CellState::Invalid);
    let warnings: Vec<String> = built.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [format!(
            "{}: malformed JSON: line 1 column 20 (byte 19): a NUL byte, which JSON never holds (a file preallocated, or cut short by a crash?); the cell shows no data",
            path.display()
        )]
    );
}

/// r18: 7.5 million `"k1":0,` members in a 64 MiB trace cost 3 GB of memory
/// and 18 s on one core. A rank holds at most 1,024 scalar members and a
/// file 262,144 ranks and members.
#[test]
fn r18_millions_of_small_members_are_refused_not_kept() {
    let f = Fixture::new();
    good(&f);
    let members = |n: usize| -> String { (0..n).map(|i| format!("\"k{i}\":0,")).collect() };
    let rank = |n: usize| format!("{{{}\"peak_allocated_MB\": 5000}}", members(n));
    f.trace(2, 1, 1, &format!("{{\"0\": {}}}", rank(1023)));
    f.trace(1, 2, 1, &format!("{{\"0\": {}}}", rank(1024)));
    let ranks: Vec<String> = (0..257)
        .map(|r| format!("\"{r}\": {}", rank(1019)))
        .collect();
    f.trace(2, 2, 1, &format!("{{{}}}", ranks.join(",")));
    let built = f.build().unwrap();
    assert_eq!(
        cell(&built, "2", "1").state,
        CellState::Measured,
        "1,024 members"
    );
    assert_eq!(cell(&built, "1", "2").state, CellState::Invalid);
    assert_eq!(cell(&built, "2", "2").state, CellState::Invalid);
    let warnings: Vec<String> = built.warnings.iter().map(ToString::to_string).collect();
    let name = |tp, pp| f.path(&format!("traces/{}", Fixture::trace_name(tp, pp, 1)));
    for (tp, pp, what) in [
        (
            1,
            2,
            "line 1 column 9138 (byte 9137): more than 1024 scalar members in rank `0`",
        ),
        (
            2,
            2,
            "line 1 column 2340133 (byte 2340132): more than 262144 ranks and scalar members in the file",
        ),
    ] {
        let expected = format!(
            "{}: malformed JSON: {what}, where a memory trace has a few dozen scalar members per rank; the cell shows no data",
            name(tp, pp).display()
        );
        assert!(warnings.contains(&expected), "{expected}\n{warnings:?}");
    }
}
