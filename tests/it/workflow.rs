//! The paper-repo workflow: depfiles under real make, `check`, `data`,
//! SVG and Typst outputs, PDF versions, custom templates, many specs.

use std::path::Path;
use std::process::Command;

use memheat::Engine;

use crate::errors::{Fixture, good, trace_json};
use crate::util::{Png, memheat, pdf_text, repo, run_in};

// ------------------------------------------------------------------ depfiles

#[test]
fn depfile_is_its_own_target_and_lists_inputs_and_listed_dirs_with_phony_rules() {
    let f = Fixture::new();
    good(&f);
    f.trace(2, 1, 1, &trace_json("40960.0", "61440.0"));
    let (code, _, stderr) = f.run(&["spec.yaml", "--deps", "out/fig.d", "-q"]);
    assert_eq!(code, 0, "{stderr}");
    let t1 = Fixture::trace_name(1, 1, 1);
    let t2 = Fixture::trace_name(2, 1, 1);
    let prerequisites = [
        "spec.yaml".to_string(),
        "logs/failed.log".into(),
        "logs/ok.log".into(),
        format!("traces/{t1}"),
        format!("traces/{t2}"),
        "traces".into(),
    ];
    let mut expected = String::from("out/fig.d:");
    for p in &prerequisites {
        expected.push_str(&format!(" \\\n  {p}"));
    }
    expected.push('\n');
    for p in &prerequisites {
        expected.push_str(&format!("\n{p}:\n"));
    }
    assert_eq!(
        std::fs::read_to_string(f.path("out/fig.d")).unwrap(),
        expected
    );
}

/// A temp paper repo with a Makefile that includes memheat's depfiles.
struct Paper {
    dir: tempfile::TempDir,
}

impl Paper {
    /// Traces in `runs`: two configs, named by `trace_name`.
    fn new(runs: &str, trace_name: impl Fn(u32) -> String) -> Paper {
        let p = Paper {
            dir: tempfile::tempdir().unwrap(),
        };
        for tp in [1, 2] {
            p.write(
                &format!("{runs}/{}", trace_name(tp)),
                &trace_json("40960.0", "61440.0"),
            );
        }
        for name in ["a", "b"] {
            p.write(
                &format!("specs/{name}.yaml"),
                &format!(
                    "inputs: {{traces: '../{runs}/*.json', filename: '.*_tp(?P<tp>\\d+)_pp(?P<pp>\\d+)_.*'}}\noutput: {{path: ../figs/{name}, formats: [pdf], dpi: 30}}\n"
                ),
            );
        }
        // The depfile is the stamp (docs/paper.md, examples/paper).
        let makefile = format!(
            "MEMHEAT := {}\n\
             all: figs/a.d figs/b.d\n\
             figs/%.d: specs/%.yaml\n\
             \t$(MEMHEAT) build -q --deps $@ $<\n\
             \techo built $* >> log\n\
             include figs/a.d figs/b.d\n",
            env!("CARGO_BIN_EXE_memheat")
        );
        p.write("Makefile", &makefile);
        p
    }

    fn write(&self, rel: &str, content: &str) {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    /// Runs make; returns which figures it rebuilt, sorted.
    fn make(&self) -> Vec<String> {
        let _ = std::fs::remove_file(self.dir.path().join("log"));
        let out = Command::new("make")
            .arg("-s")
            .current_dir(self.dir.path())
            .output()
            .expect("GNU make is needed for this test");
        assert!(
            out.status.success(),
            "make failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let log = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
        let mut built: Vec<String> = log.lines().map(|l| l.replace("built ", "")).collect();
        built.sort();
        built
    }

    /// Moves a file's mtime forward, as an edit a moment later would.
    fn touch(&self, rel: &str) {
        let file = std::fs::File::open(self.dir.path().join(rel)).unwrap();
        file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(1))
            .unwrap();
    }
}

#[test]
fn make_rebuilds_exactly_when_a_trace_changes_appears_or_disappears() {
    let p = Paper::new("runs", |tp| Fixture::trace_name(tp, 1, 1));
    assert_eq!(p.make(), ["a", "b"]);
    assert_eq!(p.make(), Vec::<String>::new(), "nothing changed");
    // Outputs written now must be newer than anything touched a second
    // ahead, so sleep past it before each build.
    let settle = || std::thread::sleep(std::time::Duration::from_millis(1100));

    p.touch(&format!("runs/{}", Fixture::trace_name(1, 1, 1)));
    settle();
    assert_eq!(p.make(), ["a", "b"], "a touched trace rebuilds both specs");
    assert_eq!(p.make(), Vec::<String>::new());

    p.write(
        &format!("runs/{}", Fixture::trace_name(4, 1, 1)),
        &trace_json("40960.0", "61440.0"),
    );
    p.touch("runs");
    settle();
    assert_eq!(p.make(), ["a", "b"], "a new trace rebuilds both specs");
    assert_eq!(p.make(), Vec::<String>::new());

    std::fs::remove_file(
        p.dir
            .path()
            .join(format!("runs/{}", Fixture::trace_name(4, 1, 1))),
    )
    .unwrap();
    p.touch("runs");
    settle();
    assert_eq!(
        p.make(),
        ["a", "b"],
        "a removed trace rebuilds without a make error"
    );
    let text = pdf_text(&p.dir.path().join("figs/a.pdf"));
    let labels: Vec<&str> = text.lines().map(str::trim).collect();
    assert!(
        labels.contains(&"2") && !labels.contains(&"4"),
        "the TP=4 row is gone: {text}"
    );

    p.touch("specs/a.yaml");
    settle();
    assert_eq!(p.make(), ["a"], "a spec edit rebuilds only its figure");
}

/// Names make reads specially: space, `#`, `:`, `%`, `$`, `[`.
#[test]
fn make_depfiles_survive_hostile_file_names() {
    let runs = "runs #1: a%b";
    let name = |tp: u32| format!("t $x[1]_tp{tp}_pp1_.json");
    let p = Paper::new(runs, name);
    assert_eq!(p.make(), ["a", "b"]);
    assert_eq!(
        p.make(),
        Vec::<String>::new(),
        "every escaped name was found"
    );
    std::fs::remove_file(p.dir.path().join(runs).join(name(2))).unwrap();
    p.touch(runs);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(
        p.make(),
        ["a", "b"],
        "rebuilt, and no `No rule to make target`"
    );
    assert_eq!(p.make(), Vec::<String>::new());
}

// --------------------------------------------------------------------- check

#[test]
fn check_writes_nothing_and_exits_by_errors_and_strictness() {
    let f = Fixture::new();
    good(&f);
    f.trace(2, 1, 1, "{\"0\": {\"peak_allocated_MB\": 100}}");
    let (code, stdout, stderr) = run_in(f.path("").as_path(), &["check", "spec.yaml"]);
    assert_eq!((code, stdout.as_str()), (0, ""));
    assert!(
        stderr.starts_with("warning: traces/"),
        "the warnings are printed: {stderr}"
    );
    assert!(!f.path("out").exists(), "check writes nothing");
    let (code, _, stderr) = run_in(f.path("").as_path(), &["check", "--strict", "spec.yaml"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("warning(s), and strict mode is on"),
        "{stderr}"
    );

    f.write("bad.yaml", "inputs: {traces: nothing/*.json}\n");
    let (code, _, stderr) = run_in(f.path("").as_path(), &["check", "spec.yaml", "bad.yaml"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("glob `nothing/*.json` matches no file"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------- data

/// One CSV row per cell, whose printed text is what the PDF shows.
#[test]
fn data_csv_agrees_cell_for_cell_with_the_example_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("fig");
    let out = memheat()
        .args(["build", "specs/485B.yaml", "--dpi", "30", "-q", "-o"])
        .arg(&base)
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(out.status.success());
    let pdf: String = pdf_text(&base.with_extension("pdf"))
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let (code, csv, stderr) = run_in(&repo(), &["data", "specs/485B.yaml"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "pp,tp,state,actual,theory,actual_text,theory_text,text,marks,trace,log,reason,\
         ratio,percent,dp,gbs,layers,mbs,nmbs,rank,seq,ts,wd,peak_allocated_MB,static_memory_MB,theoretical_memory_MB"
    );
    let runs = crate::util::example_runs();
    let failures = crate::util::example_failures();
    let (mut measured, mut failed) = (0, 0);
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 26, "{line}");
        let (pp, tp): (u32, u32) = (fields[0].parse().unwrap(), fields[1].parse().unwrap());
        match fields[2] {
            "measured" => {
                measured += 1;
                let run = runs.iter().find(|r| (r.tp, r.pp) == (tp, pp)).unwrap();
                let actual: f64 = fields[3].parse().unwrap();
                assert!((actual - run.actual_gb).abs() < 1e-9, "{line}");
                assert_eq!(fields[5], format!("{:.1}GB", run.actual_gb));
                assert_eq!(fields[6], format!("{:.1}GB", run.theory_gb));
                for shown in fields[7].split(" / ") {
                    let shown: String = shown.chars().filter(|c| !c.is_whitespace()).collect();
                    assert!(pdf.contains(&shown), "{shown} is not in the PDF");
                }
                let hatched = run.theory_gb > 80.0;
                assert_eq!(fields[8] == "hatch: theory > 80", hatched, "{line}");
                assert!(fields[9].starts_with("examples/485B/traces/"), "{line}");
                let ratio: f64 = fields[12].parse().unwrap();
                assert!(
                    (ratio - run.theory_gb / run.actual_gb).abs() < 1e-9,
                    "{line}"
                );
                let percent: f64 = fields[13].parse().unwrap();
                let expected = 100.0 * run.actual_gb / run.theory_gb;
                assert!((percent - expected).abs() < 1e-9, "{line}");
            }
            "failed" => {
                failed += 1;
                assert!(failures.contains(&(tp, pp)), "{line}");
                assert_eq!(fields[7], "—");
                assert!(
                    fields[10].starts_with("examples/485B/logs/failed_configs.log:"),
                    "{line}"
                );
            }
            other => assert_eq!(other, "missing", "{line}"),
        }
    }
    assert_eq!((measured, failed), (runs.len(), failures.len()));
}

#[test]
fn data_json_carries_units_axes_and_cells() {
    let (code, json, _) = run_in(&repo(), &["data", "--format", "json", "specs/485B.yaml"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["units"]["input"], "MiB");
    assert_eq!(v["units"]["display"], "GiB");
    assert_eq!(v["x"]["field"], "pp");
    assert_eq!(v["y"]["values"][0], "1");
    let cells = v["cells"].as_array().unwrap();
    assert_eq!(
        cells.len(),
        v["x"]["values"].as_array().unwrap().len() * v["y"]["values"].as_array().unwrap().len()
    );
    let invalid = Fixture::new();
    good(&invalid);
    invalid.trace(2, 1, 1, "{\"0\": {\"peak_allocated_MB\": [1]");
    let (code, json, _) = run_in(
        invalid.path("").as_path(),
        &["data", "spec.yaml", "--format", "json"],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let bad = v["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["state"] == "invalid")
        .unwrap();
    assert_eq!(bad["reason"], "malformed JSON");
    assert_eq!(bad["actual"], serde_json::Value::Null);
}

// ------------------------------------------------------------- other formats

#[test]
fn svg_and_typ_outputs_reproduce_the_figure_and_pdf_version_is_1_5() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fig.yaml");
    let examples = repo().join("examples/485B");
    std::fs::write(
        &spec,
        format!(
            "inputs:\n  traces: '{0}/traces/*.json'\n  logs: {{failure: '{0}/logs/failed_configs.log'}}\noutput: {{formats: [pdf, png, svg, typ], dpi: 60}}\n",
            examples.display()
        ),
    )
    .unwrap();
    let (code, stdout, stderr) = run_in(dir.path(), &["build", "fig.yaml"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "wrote fig.pdf\nwrote fig.png\nwrote fig.svg\nwrote fig.typ\n"
    );

    let pdf = std::fs::read(dir.path().join("fig.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-1.5\n"), "{:?}", &pdf[..9]);

    // The Typst source compiles on its own to the same pixels.
    let png = Png::read(&dir.path().join("fig.png"));
    let typ = std::fs::read_to_string(dir.path().join("fig.typ")).unwrap();
    let engine = Engine::default();
    let compiled = engine.compile(typ, (false, false)).unwrap();
    let again = memheat::png_of(&compiled.document, 60).unwrap();
    std::fs::write(dir.path().join("again.png"), again).unwrap();
    let again = Png::read(&dir.path().join("again.png"));
    assert_eq!((again.width, again.height), (png.width, png.height));
    assert!(
        again.same_pixels(&png),
        "the typ output draws a different figure"
    );

    // The SVG parses (Typst's own SVG reader draws it at the page's size)
    // and holds the figure: every cell's fill, a hatch tiling per marked
    // cell, the colorbar as a vector gradient.
    let svg = std::fs::read_to_string(dir.path().join("fig.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
    let escaped = svg.replace('\\', "\\\\").replace('"', "\\\"");
    let source = format!(
        "#set page(width: auto, height: auto, margin: 0pt)\n#image(bytes(\"{escaped}\"), format: \"svg\")\n"
    );
    let drawn = engine.compile(source, (false, false)).unwrap();
    let (a, b) = (
        drawn.document.pages()[0].frame.size(),
        compiled.document.pages()[0].frame.size(),
    );
    // SVG sizes are 32-bit floats.
    assert!(
        (a - b).x.to_pt().abs() < 1e-3 && (a - b).y.to_pt().abs() < 1e-3,
        "{a:?} vs {b:?}"
    );
    let model = memheat::load(&spec, &memheat::BuildOptions::default(), &engine).unwrap();
    let cells: Vec<_> = model.table.rows.iter().flatten().collect();
    for cell in &cells {
        if let Some(fill) = cell.fill {
            let attribute = format!("fill=\"{}\"", fill.hex());
            assert!(svg.contains(&attribute), "{attribute} missing");
        }
    }
    let hatched = cells.iter().filter(|c| !c.marks.is_empty()).count();
    assert!(hatched > 0);
    let tiling = svg.split("fill=\"url(#t").count() - 1;
    assert_eq!(
        tiling,
        hatched + 1,
        "one hatch per marked cell, plus the legend swatch"
    );
    assert!(
        svg.contains("<linearGradient"),
        "the colorbar is a vector gradient"
    );
}

#[test]
fn pdf_version_and_pdf_a_are_chosen_in_the_spec() {
    let f = Fixture::new();
    good(&f);
    for (output, header) in [
        ("pdf-version: 1.7", "%PDF-1.7"),
        ("pdf-version: '2.0'", "%PDF-2.0"),
        ("pdf-a: a-2b", "%PDF-1.7"),
    ] {
        f.write(
            "spec.yaml",
            format!("inputs: {{traces: traces/*.json, logs: {{failure: logs/failed.log}}}}\noutput: {{path: out/fig, formats: [pdf], {output}}}\n"),
        );
        let out = memheat()
            .args(["build", "spec.yaml"])
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .current_dir(f.path(""))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{output}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pdf = std::fs::read(f.path("out/fig.pdf")).unwrap();
        assert!(pdf.starts_with(header.as_bytes()), "{output}");
    }
    // PDF/A must carry a date; memheat takes it only from SOURCE_DATE_EPOCH.
    let (code, _, stderr) = f.run(&["spec.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "error: PDF export failed: PDF/A needs a creation date, and memheat writes one only from SOURCE_DATE_EPOCH\n  = hint: set it, e.g. to the last commit's time: SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)\n"
    );
}

// ---------------------------------------------------------- custom templates

#[test]
fn a_custom_template_is_used_and_its_errors_point_into_it() {
    let f = Fixture::new();
    good(&f);
    f.write(
        "fig.typ.j2",
        "#set page(width: auto, height: auto, margin: 2pt)\n\
         #set text(font: \"Libertinus Serif\")\n\
         Custom {{ table.rows|length }} x {{ table.x.labels|length }}: #{{ table.rows[0][0].lines[0]|typ }}\n",
    );
    f.write(
        "spec.yaml",
        "inputs: {traces: traces/*.json, logs: {failure: logs/failed.log}}\ntemplate: fig.typ.j2\noutput: {path: out/fig, formats: [pdf]}\n",
    );
    let (code, _, stderr) = f.run(&["spec.yaml", "--deps", "out/fig.d"]);
    assert_eq!(code, 0, "{stderr}");
    let text = pdf_text(&f.path("out/fig.pdf"));
    assert!(text.contains("Custom 1 x 1: Actual: 40.0GB"), "{text}");
    let depfile = std::fs::read_to_string(f.path("out/fig.d")).unwrap();
    assert!(
        depfile.contains("\n  fig.typ.j2 \\\n"),
        "the template is a prerequisite: {depfile}"
    );

    // Typst errors in what the template produced point into the generated source.
    f.write(
        "fig.typ.j2",
        "#set page(width: auto, height: auto)\n#nosuch({{ table.rows|length }})\n",
    );
    let (code, _, stderr) = f.run(&["spec.yaml"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with(
            "error: typst: unknown variable: nosuch\n  ┌─ generated figure source (typst):2:2\n  │\n2 │ #nosuch(1)\n"
        ),
        "{stderr}"
    );

    f.write("fig.typ.j2", "line one\n{{ table.nosuch.field }}\n");
    let (code, _, stderr) = f.run(&["spec.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "error: undefined value
  ┌─ fig.typ.j2:2:1
  │
2 │ {{ table.nosuch.field }}
  │ ^^^^^^^^^^^^^^^^^^^^^^^^
  │
  = hint: fix the template, or remove `template:` to use the built-in one (`memheat template` prints it)

"
    );
}

#[test]
fn template_command_prints_the_builtin_template() {
    let (code, text, _) = run_in(&repo(), &["template"]);
    assert_eq!(code, 0);
    assert_eq!(
        text,
        std::fs::read_to_string(repo().join("templates/heatmap.typ.j2")).unwrap()
    );
}

// ------------------------------------------------------------- many specs

#[test]
fn many_specs_build_in_parallel_and_one_failure_stops_no_other() {
    let f = Fixture::new();
    good(&f);
    let mut args = vec![];
    for i in 0..6 {
        let name = format!("s{i}.yaml");
        let traces = if i == 3 {
            "missing/*.json"
        } else {
            "traces/*.json"
        };
        f.write(
            &name,
            format!("inputs: {{traces: '{traces}'}}\noutput: {{path: out/s{i}, formats: [png], dpi: 20}}\n"),
        );
        args.push(name);
    }
    // --dpi applies to every spec (each asks for 20).
    let mut argv = vec!["build", "--dpi", "10"];
    argv.extend(args.iter().map(String::as_str));
    let (code, stdout, stderr) = run_in(f.path("").as_path(), &argv);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        "wrote out/s0.png\nwrote out/s1.png\nwrote out/s2.png\nwrote out/s4.png\nwrote out/s5.png\n",
        "argument order"
    );
    assert!(
        stderr.contains("glob `missing/*.json` matches no file"),
        "{stderr}"
    );
    let small = Png::read(&f.path("out/s0.png"));
    let (code, _, _) = run_in(f.path("").as_path(), &["build", "-q", "s1.yaml"]);
    assert_eq!(code, 0);
    let reference = Png::read(&f.path("out/s1.png"));
    assert_eq!(
        small.width * 2,
        reference.width,
        "10 DPI is half of the spec's 20"
    );
    let (code, stdout, _) = run_in(f.path("").as_path(), &["build", "-q", "s0.yaml"]);
    assert_eq!((code, stdout.as_str()), (0, ""), "-q prints no wrote lines");
}

#[test]
fn diagnostic_formats_short_and_json_give_one_line_per_problem() {
    let f = Fixture::new();
    good(&f);
    f.trace(2, 1, 1, "{}");
    f.write(
        "spec.yaml",
        "inputs: {traces: traces/*.json}\noutput:\n  dpi: 0\n",
    );
    let (_, _, short) = run_in(
        f.path("").as_path(),
        &["--diagnostic-format", "short", "check", "spec.yaml"],
    );
    assert_eq!(short, "spec.yaml:3:8: error: DPI 0 is out of range\n");
    f.write(
        "spec.yaml",
        "inputs: {traces: traces/*.json, logs: {failure: logs/failed.log}}\n",
    );
    let (code, _, json) = run_in(
        f.path("").as_path(),
        &["check", "--diagnostic-format", "json", "spec.yaml"],
    );
    assert_eq!(code, 0);
    let record: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(record["severity"], "warning");
    assert_eq!(
        record["file"],
        format!("traces/{}", Fixture::trace_name(2, 1, 1))
    );
    assert!(
        record["message"]
            .as_str()
            .unwrap()
            .contains("the trace is empty")
    );
}

// ------------------------------------------------------------ output safety

#[test]
fn outputs_never_replace_an_input() {
    let f = Fixture::new();
    good(&f);
    f.write("logs/failed.pdf", "Config 9: TP=9, PP=9 - FAILED\n");
    f.write(
        "spec.yaml",
        "inputs: {traces: traces/*.json, logs: {failure: logs/failed.pdf}}\n",
    );
    // Written as `a/../b`, so only a canonical comparison sees it.
    let (code, stdout, stderr) = f.run(&["spec.yaml", "-o", "traces/../logs/failed"]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        "error: output `logs/failed.pdf` would overwrite `logs/failed.pdf`, which this build reads
  = hint: choose another `output.path` or -o; memheat never replaces a file it reads
"
    );
    assert_eq!(
        std::fs::read_to_string(f.path("logs/failed.pdf")).unwrap(),
        "Config 9: TP=9, PP=9 - FAILED\n"
    );
    assert!(
        !f.path("logs/failed.png").exists(),
        "nothing is written when one output is refused"
    );

    // A depfile onto the spec.
    f.write(
        "spec.yaml",
        "inputs: {traces: traces/*.json, logs: {failure: logs/failed.log}}\noutput: {path: out/fig}\n",
    );
    let (code, _, stderr) = f.run(&["spec.yaml", "--deps", "spec.yaml"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: output `spec.yaml` would overwrite `spec.yaml`"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(f.path("spec.yaml")).unwrap(),
        "inputs: {traces: traces/*.json, logs: {failure: logs/failed.log}}\noutput: {path: out/fig}\n"
    );

    // A depfile onto the figure just built.
    let (code, _, stderr) = f.run(&["spec.yaml", "--deps", "out/fig.pdf"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "error: the depfile `out/fig.pdf` would overwrite `out/fig.pdf`, which this build wrote\n  = hint: name the depfile after the figure, e.g. `figures/485B.d`\n"
    );
    assert!(
        pdf_text(&f.path("out/fig.pdf")).contains("Actual"),
        "the PDF is intact"
    );

    // A spec named like its own output.
    let spec = "inputs: {traces: traces/*.json, logs: {failure: logs/failed.log}}\n";
    f.write("fig.png", spec);
    let (code, _, stderr) = f.run(&["fig.png"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: output `fig.png` would overwrite `fig.png`"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(f.path("fig.png")).unwrap(), spec);
}

#[test]
fn output_base_with_an_extension_or_without_a_name() {
    let f = Fixture::new();
    good(&f);
    let (code, stdout, stderr) = f.run(&["spec.yaml", "-o", "out/x.pdf"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "wrote out/x.pdf\nwrote out/x.png\n");
    let (code, _, stderr) = f.run(&["spec.yaml", "-o", "out/"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: output base `out/` has no file name\n"),
        "{stderr}"
    );
    f.write(
        "spec.yaml",
        "inputs: {traces: traces/*.json}\noutput:\n  formats:\n    - pdf\n    - pdf\n",
    );
    let (code, _, stderr) = f.run(&["spec.yaml"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: `pdf` is listed twice\n  ┌─ spec.yaml:5:5\n"),
        "{stderr}"
    );
}

// --------------------------------------------------------- write safety

/// A temp paper dir with two specs of the example that differ in title,
/// both writing to `out/fig`.
fn two_specs_one_base(dpi: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let examples = repo().join("examples/485B");
    for name in ["a", "b"] {
        std::fs::write(
            dir.path().join(format!("{name}.yaml")),
            format!(
                "title: Spec {name}\ninputs:\n  traces: '{0}/traces/*.json'\n  logs: {{failure: '{0}/logs/failed_configs.log'}}\noutput: {{path: out/fig, dpi: {dpi}}}\n",
                examples.display()
            ),
        )
        .unwrap();
    }
    dir
}

fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".memheat-"))
                .collect()
        })
        .unwrap_or_default()
}

/// r8: two builds into one base gave a PDF of one spec and a PNG of the
/// other; the directory lock makes them take turns.
#[test]
fn r8_concurrent_builds_into_one_base_never_mix() {
    let dir = two_specs_one_base(60);
    let out = dir.path().join("out");
    let mut reference = Vec::new();
    for name in ["a", "b"] {
        let (code, _, stderr) = run_in(dir.path(), &["build", "-q", &format!("{name}.yaml")]);
        assert_eq!(code, 0, "{stderr}");
        reference.push((
            std::fs::read(out.join("fig.pdf")).unwrap(),
            std::fs::read(out.join("fig.png")).unwrap(),
        ));
    }
    assert_ne!(reference[0].0, reference[1].0);
    for _ in 0..4 {
        let children: Vec<_> = ["a", "b"]
            .map(|name| {
                memheat()
                    .args(["build", "-q", &format!("{name}.yaml")])
                    .current_dir(dir.path())
                    .spawn()
                    .unwrap()
            })
            .into();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
        let pair = (
            std::fs::read(out.join("fig.pdf")).unwrap(),
            std::fs::read(out.join("fig.png")).unwrap(),
        );
        assert!(
            reference.contains(&pair),
            "the PDF and PNG come from different specs"
        );
        assert_eq!(temp_files(&out), Vec::<String>::new());
    }
}

/// r8: SIGINT/SIGTERM during a build left `.memheat-*` files of up to MBs.
/// The child is stopped (SIGSTOP) again and again until it is caught with
/// a temporary file on disk; then SIGTERM must remove it. Catching it at
/// least once is part of the test, so it cannot pass without trying.
#[cfg(unix)]
#[test]
fn r8_a_signal_while_writing_leaves_no_temporary_files() {
    use std::os::unix::process::ExitStatusExt;
    let dir = two_specs_one_base(1200);
    let out = dir.path().join("out");
    let signal = |pid: u32, sig: libc::c_int| {
        #[allow(unsafe_code)] // kill(2) has no std wrapper for these signals
        // SAFETY: signals our own child, which has not been reaped yet.
        let sent = unsafe { libc::kill(pid as libc::pid_t, sig) };
        assert_eq!(sent, 0);
    };
    let mut caught = 0;
    for _ in 0..5 {
        let mut child = memheat()
            .args(["build", "-q", "a.yaml"])
            .current_dir(dir.path())
            .spawn()
            .unwrap();
        let pid = child.id();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            signal(pid, libc::SIGSTOP);
            let writing = !temp_files(&out).is_empty();
            if writing {
                caught += 1;
                signal(pid, libc::SIGTERM);
            }
            signal(pid, libc::SIGCONT);
            if writing {
                break child.wait().unwrap();
            }
            std::thread::sleep(std::time::Duration::from_micros(300));
        };
        assert!(
            status.success() || status.code() == Some(130) || status.signal().is_some(),
            "{status:?}"
        );
        assert_eq!(temp_files(&out), Vec::<String>::new());
        if out.join("fig.png").exists() {
            assert!(
                Png::read(&out.join("fig.png")).width > 0,
                "a PNG that exists is whole"
            );
        }
    }
    assert!(
        caught > 0,
        "no build was caught while writing; the test proved nothing"
    );
}
