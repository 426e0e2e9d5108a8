//! #19: the figure's numbers for the paper's text (`memheat data --format
//! tex|tex-table|typst|alt`), and the same alternative text in the PDF's
//! tags and the SVG's `<desc>`. LaTeX is compiled when pdflatex is present.

use std::path::Path;
use std::process::Command;

use crate::snapshot::assert_snapshot;
use crate::util::run_in;

/// A capture value with every character LaTeX, Typst or XML treats
/// specially, and a line break.
const HOSTILE: &str = "#$%&_{}~^\\<x>|\ny";

/// A sweep of two configs, one measured over the threshold with a hostile
/// `note` capture, one failed; in a results table, so the note is a column.
fn fixture(dir: &Path, name: &str, peak_mib: f64) {
    let rows = [
        serde_json::json!({"tp": 1, "pp": 2, "peak_MB": peak_mib, "est": 90000, "status": "success", "note": HOSTILE}),
        serde_json::json!({"tp": 1, "pp": 4, "status": "failed"}),
    ];
    let lines: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(dir.join(format!("{name}.jsonl")), lines).unwrap();
    std::fs::write(
        dir.join(format!("{name}.yaml")),
        format!(
            "title: 'Small & 50% #1'\ninputs: {{traces: {name}.jsonl, actual: peak_MB, theory: est}}\n\
             thresholds: [{{metric: theory, above: 80}}]\n"
        ),
    )
    .unwrap();
}

fn data(dir: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = run_in(dir, &[&["data"], args].concat());
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
    stdout
}

const ALT: &str = "Small & 50% #1. Heatmap of peak memory (GB) with Tensor Parallelism (TP) at 1 in rows and Pipeline Parallelism (PP) from 2 to 4 in columns. Of the 2 configs, 1 was measured and 1 failed. The measured peak is 60.0 GB at tp=1, pp=2. 1 config whose estimate exceeds 80 GB is hatched.";

#[test]
fn tex_output_of_a_small_sweep_matches_its_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), "small", 61440.0);
    let tex = data(dir.path(), &["small.yaml", "--format", "tex"]);
    assert_snapshot("numbers/small.tex", &tex);
    assert_eq!(
        data(dir.path(), &["small.yaml", "--format", "alt"]),
        format!("{ALT}\n")
    );
}

#[test]
fn names_keys_and_fields_with_tex_specials_reach_the_same_control_sequence() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), "small", 61440.0);
    let tex = data(
        dir.path(),
        &["small.yaml", "--format", "tex", "--name", "a b%#{\\"],
    );
    assert!(
        tex.contains(
            r"\memheatkey{a\memheatstr\ b\memheatstr\%\memheatstr\#\memheatstr\{\memheatstr\\}{tp=1,pp=2}%"
        ),
        "{tex}"
    );
    let (code, _, stderr) = run_in(dir.path(), &["data", "small.yaml", "--name", "a@b"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("a name may not contain `@`"), "{stderr}");
}

/// `pdflatex` on `doc` in `dir`: (succeeded, the log, the PDF's text when
/// pdftotext is present), or `None` without pdflatex.
fn pdflatex(dir: &Path, doc: &str) -> Option<(bool, String, Option<String>)> {
    std::fs::write(dir.join("doc.tex"), doc).unwrap();
    let run = Command::new("pdflatex")
        .args(["-interaction=nonstopmode", "-halt-on-error", "doc.tex"])
        .current_dir(dir)
        .output();
    let Ok(out) = run else {
        eprintln!("skipped: pdflatex is not installed");
        return None;
    };
    let log = std::fs::read_to_string(dir.join("doc.log")).unwrap_or_default();
    let text = Command::new("pdftotext")
        .args(["-layout", "doc.pdf", "-"])
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    Some((out.status.success(), log, text))
}

fn has_latex_package(name: &str) -> bool {
    Command::new("kpsewhich")
        .arg(format!("{name}.sty"))
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn two_numbers_files_in_one_document_fill_a_tabular_and_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fixture(d, "small", 61440.0);
    fixture(d, "other", 30720.0);
    data(d, &["small.yaml", "-o", "small.tex"]);
    data(
        d,
        &[
            "other.yaml",
            "-o",
            "numbers-other.tex",
            "--format",
            "tex",
            "--name",
            "o_2",
        ],
    );
    data(
        d,
        &["small.yaml", "-o", "grid.tex", "--format", "tex-table"],
    );
    let siunitx = has_latex_package("siunitx");
    let doc = format!(
        r"\documentclass{{article}}
\usepackage{{booktabs}}
{}
\input{{small.tex}}
\begingroup\input{{numbers-other.tex}}\endgroup
\begin{{document}}
\begin{{tabular}}{{lll}}
A & \memheat{{small}}{{tp=1,pp=2}}{{actual}} & \memheat{{o_2}}{{tp=1,pp=2}}{{actual}}\\
B & \memheat{{small}}{{tp=1,pp=2}}{{percent}} & \memheat{{small}}{{tp=1,pp=2}}{{peak_MB}}\\
\end{{tabular}}

Max \memheat{{small}}{{figure}}{{max}} at TP=\memheat{{small}}{{figure}}{{max-tp}}, {}.
\edef\x{{\memheat{{small}}{{tp=1,pp=2}}{{ratio}}}}\typeout{{EDEF:\x:}}

NOTE:\memheat{{small}}{{tp=1,pp=2}}{{note}}

\memheatalt{{o_2}}

\input{{grid.tex}}
\end{{document}}
",
        if siunitx { r"\usepackage{siunitx}" } else { "" },
        if siunitx {
            r"\num{\memheat{small}{figure}{failed}}"
        } else {
            "1"
        },
    );
    let Some((ok, log, text)) = pdflatex(d, &doc) else {
        return;
    };
    assert!(ok, "{log}");
    assert!(log.contains("EDEF:1.46:"), "{log}");
    let Some(text) = text else {
        eprintln!("skipped the text checks: pdftotext is not installed");
        return;
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let text = words.join(" ");
    for expected in [
        "A 60.0 30.0",
        "B 68 61440",
        "Max 60.0 at TP=1, 1.",
        // OT1 has no glyph for `_`, and ~ and ^ are accents there.
        "NOTE:#$%&",
        r"{}",
        r"\<x>| y",
        "Small & 50% #1. Heatmap of peak memory (GB)",
        "The measured peak is 30.0 GB at tp=1, pp=2.",
        "Actual: 60.0GB",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
}

#[test]
fn an_unknown_field_key_or_figure_is_a_latex_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fixture(d, "small", 61440.0);
    let tex = data(d, &["small.yaml", "--format", "tex"]);
    // Without pdflatex, the definitions that make the error must be there.
    assert!(
        tex.contains(r"\memheatfail{no field `#3' (#1, #2)}"),
        "{tex}"
    );
    assert!(
        tex.contains(r"\memheatshow{\MemheatError ! memheat: #1.}"),
        "{tex}"
    );
    std::fs::write(d.join("small.tex"), tex).unwrap();
    for (lookup, message) in [
        (
            r"\memheat{small}{tp=1,pp=2}{bogus}",
            "memheat: no field `bogus' (small, tp=1,pp=2).",
        ),
        (
            r"\memheat{small}{tp=9,pp=2}{actual}",
            "memheat: no key `tp=9,pp=2' (small).",
        ),
        (
            r"\memheat{nosuch}{tp=1,pp=2}{actual}",
            "memheat: no figure `nosuch'",
        ),
        // Inside an \edef, as \num{} expands it.
        (
            r"\edef\x{\memheat{small}{figure}{nope}}",
            "memheat: no field `nope' (small, figure).",
        ),
    ] {
        let doc = format!(
            "\\documentclass{{article}}\n\\input{{small.tex}}\n\\begin{{document}}\nX {lookup} Y\n\\end{{document}}\n"
        );
        let Some((ok, log, _)) = pdflatex(d, &doc) else {
            return;
        };
        assert!(!ok, "{lookup} compiled");
        assert!(log.contains("! Undefined control sequence."), "{log}");
        assert!(log.contains(message), "{message:?} not in {log}");
    }
}

#[test]
fn tex_table_typst_and_csv_escape_hostile_values() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fixture(d, "small", 61440.0);
    let table = data(d, &["small.yaml", "--format", "tex-table"]);
    assert!(table.contains(
        "1 & \\begin{tabular}[c]{@{}c@{}}Actual: 60.0GB\\\\Theory: 87.9GB\\end{tabular}\\textsuperscript{a} & —\\\\\n"
    ), "{table}");
    assert!(
        table.contains("\\textsuperscript{a}Theory \\textgreater{} 80GB}\\\\\n"),
        "{table}"
    );

    // The Typst module compiles, and gives back each value exactly.
    let module = data(d, &["small.yaml", "--format", "typst"]);
    let check = |extra: &str| {
        memheat::Engine::default()
            .compile(format!("{module}{extra}"), (true, true))
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let expected = HOSTILE.replace('\\', "\\\\").replace('\n', "\\n");
    check(&format!(
        "#assert.eq(memheat.at(\"tp=1,pp=2\").note, \"{expected}\")\n\
         #assert.eq(memheat.at(\"tp=1,pp=2\").actual, \"60.0\")\n\
         #assert.eq(memheat.figure.failed, \"1\")\n\
         #assert.eq(memheat.figure.alt, {:?})\n",
        ALT
    ))
    .unwrap();
    let unknown = check("#memheat.at(\"tp=1,pp=2\").bogus\n").unwrap_err();
    assert!(unknown.contains("bogus"), "{unknown}");

    // CSV: the old columns first, then ratio, percent, captures, numbers.
    let csv = data(d, &["small.yaml"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "pp,tp,state,actual,theory,actual_text,theory_text,text,marks,trace,log,reason,ratio,percent,est,note,peak_MB,peak_mb,status"
    );
    assert!(
        csv.contains(
            ",1.46484375,68.26666666666667,90000,\"#$%&_{}~^\\<x>|\ny\",61440,61440,success\n"
        ),
        "{csv}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&data(d, &["small.yaml", "--format", "json"])).unwrap();
    let cell = &json["cells"][0];
    assert_eq!(cell["captures"]["note"], HOSTILE);
    assert_eq!(cell["numbers"]["peak_MB"], 61440.0);
    assert_eq!(cell["ratio"], 1.46484375);
}

#[test]
fn the_pdf_and_svg_carry_the_alt_text_and_tex_is_an_output_format() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fixture(d, "small", 61440.0);
    let (code, stdout, stderr) = run_in(
        d,
        &[
            "build",
            "small.yaml",
            "--set",
            "output.formats=[pdf, svg, tex]",
            "--deps",
            "small.d",
        ],
    );
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(
        stdout,
        "wrote small.pdf\nwrote small.svg\nwrote small.tex\n"
    );
    assert!(
        std::fs::read_to_string(d.join("small.d"))
            .unwrap()
            .starts_with("small.d: \\\n"),
        "the depfile is the stamp"
    );

    let pdf = lopdf::Document::load(d.join("small.pdf")).unwrap();
    let alts: Vec<String> = pdf
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok()?.get(b"Alt").ok())
        .map(|alt| lopdf::decode_text_string(alt).unwrap())
        .collect();
    assert_eq!(alts, [ALT]);

    let svg = std::fs::read_to_string(d.join("small.svg")).unwrap();
    let xml = |s: &str| s.replace('&', "&amp;");
    assert!(
        svg.contains(&format!(
            "<title>{}</title><desc>{}</desc>",
            xml("Small & 50% #1"),
            xml(ALT)
        )),
        "{}",
        &svg[..600]
    );

    let tex = std::fs::read_to_string(d.join("small.tex")).unwrap();
    assert_eq!(tex, data(d, &["small.yaml", "--format", "tex"]));
}

#[test]
fn data_writes_a_depfile_for_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fixture(d, "small", 61440.0);
    data(
        d,
        &["small.yaml", "-o", "out/small.tex", "--deps", "out/small.d"],
    );
    assert_eq!(
        std::fs::read_to_string(d.join("out/small.d")).unwrap(),
        "out/small.d: \\\n  small.yaml \\\n  small.jsonl\n\nsmall.yaml:\n\nsmall.jsonl:\n"
    );
    // Dated when the inputs began to be read, so LaTeX's make sees the
    // numbers' stamp as newer than the inputs it read.
    let date = |p: &str| std::fs::metadata(d.join(p)).unwrap().modified().unwrap();
    assert!(date("out/small.d") >= date("small.jsonl"));
    // A failed run keeps the rules and dates the stamp 1970.
    std::fs::write(d.join("small.yaml"), "inputs: {traces: gone.jsonl}\n").unwrap();
    let (code, _, _) = run_in(
        d,
        &[
            "data",
            "small.yaml",
            "-o",
            "out/small.tex",
            "--deps",
            "out/small.d",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(date("out/small.d"), std::time::UNIX_EPOCH);
    assert!(
        std::fs::read_to_string(d.join("out/small.tex"))
            .unwrap()
            .contains("\\memheatfigure{small}%")
    );
    for (args, message) in [
        (
            &["small.yaml", "--deps", "x.d"][..],
            "--deps names what the -o file depends on",
        ),
        (
            &["small.yaml", "-o", "x.tex", "--deps", "x.tex"][..],
            "--deps and -o name the same file",
        ),
        (
            &["small.yaml", "-o", "x.tex", "--deps", "small.yaml"][..],
            "would overwrite `small.yaml`",
        ),
    ] {
        let (code, _, stderr) = run_in(d, &[&["data"], args].concat());
        assert_ne!(code, 0, "{args:?}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}
