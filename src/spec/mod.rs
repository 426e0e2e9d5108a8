//! The figure spec: the YAML file a paper keeps next to its sources.
//!
//! Parsing happens in two steps. serde checks syntax, types and unknown keys;
//! serde_yaml knows where those errors are. Values with their own grammar
//! (colours, lengths, regexes) are newtypes parsed in `TryFrom<String>`, so a
//! bad one is also reported at its line. What needs more than one key (a
//! pattern must capture the axis fields) is checked in `check`, and
//! [`locate`] finds the key in the source text for the message, since
//! serde_yaml keeps no spans after deserialising.
//!
//! - `schema`: the document's structure and every default;
//! - `values`: the scalar types with a grammar of their own;
//! - `check`: rules across keys, and `units` those on text that names a unit;
//! - `layers`: `extends` and `--set`, merged with each value's origin;
//! - `glob_syntax`: shell glob syntax the walk would read otherwise;
//! - `error` and `locate`: pointing an error at the YAML.

mod check;
mod decimal;
mod error;
mod glob_syntax;
mod layers;
mod locate;
mod schema;
mod set_flag;
mod units;
mod values;

pub(crate) use crate::colormap::Color;
pub(crate) use check::{MAX_AXIS_VALUES, MAX_CELLS, MAX_TEXT};

/// Byte offsets of the YAML aliases in `text`: a `*` that starts a token,
/// outside quotes and comments.
fn aliases(text: &str) -> impl Iterator<Item = usize> + '_ {
    let mut quote = None;
    let mut comment = false;
    let mut previous = '\n';
    text.char_indices().filter_map(move |(i, c)| {
        let before = std::mem::replace(&mut previous, c);
        if comment {
            comment = c != '\n';
            return None;
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') if before.is_whitespace() || "[{,:-".contains(before) => {
                quote = Some(c)
            }
            (None, '#') if before.is_whitespace() => comment = true,
            (None, '*') if before.is_whitespace() || "[{,".contains(before) => return Some(i),
            _ => {}
        }
        None
    })
}
pub(crate) use decimal::{F64_EXACT_INTEGERS, canonical, compare_numbers, exact_f64};
pub(crate) use error::{KeyError, Place, SpecError, SpecSource};
pub(crate) use layers::{BaseDir, Sources};
pub(crate) use locate::{Key, closest, line_col};
pub use schema::*;
pub use set_flag::Set;
pub(crate) use values::*;

/// Most YAML aliases (`*name`) a spec may use. serde_yaml expands each
/// alias in full, so nested ones multiply: a 10 KB spec of aliases of
/// aliases grew to gigabytes. 16 bounds that to a few hundred times the
/// file (which is at most [`MAX_SPEC_BYTES`]).
pub(crate) const MAX_ALIASES: usize = 16;
/// Largest spec file.
pub(crate) const MAX_SPEC_BYTES: u64 = 1 << 20;

/// Parses and checks a spec: its own text, the bases it `extends` (each
/// read through `read`, which applies the limits of a spec file), and the
/// `--set` flags over them.
pub(crate) fn parse(
    spec: SpecSource,
    flags: &[Set],
    read: &mut dyn FnMut(&std::path::Path) -> std::io::Result<String>,
) -> Result<(Spec, Sources), Box<SpecError>> {
    let sources = Sources::read(spec, flags, read)?;
    let mut spec: Spec = sources.deserialize()?;
    spec.follow_display_unit(sources.writes("thresholds"));
    spec.check().map_err(|errors| {
        let mut located = errors.into_iter().map(|e| sources.error(e));
        let mut first = located.next().expect("check fails with at least one error");
        first.also = located.collect();
        Box::new(first)
    })?;
    Ok((spec, sources))
}

/// A spec that is one file, for the other modules' unit tests.
#[cfg(test)]
pub(crate) fn parse_one(path: &str, text: &str) -> Result<Spec, Box<SpecError>> {
    let source = SpecSource {
        path: path.into(),
        text: text.into(),
    };
    parse(source, &[], &mut |_| {
        Err(std::io::ErrorKind::NotFound.into())
    })
    .map(|(spec, _)| spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(src: &str) -> Spec {
        parse_one("t.yaml", src).unwrap()
    }

    fn parse_err(src: &str) -> SpecError {
        *parse_one("t.yaml", src).unwrap_err()
    }

    #[test]
    fn aliases_are_counted_outside_quotes_and_comments() {
        let text = "a: &x [1]\nb: [*x, *x]\nc: '*not' # *nor\nd: runs/*.json\ne: \"it's *\"\n";
        let found: Vec<usize> = aliases(text).collect();
        assert_eq!(found, [14, 18]);
        let bomb = format!("a: &a [x]\nb: [{}]\n", vec!["*a"; 17].join(", "));
        let e = parse_err(&bomb);
        assert_eq!(e.message, "more than 16 YAML aliases (`*name`)");
    }

    #[test]
    fn defaults_reproduce_the_original_figure() {
        let spec = parse_ok("inputs:\n  traces: runs/*.json\n");
        let inputs = spec.inputs.as_ref().unwrap();
        assert_eq!(inputs.traces.0, vec!["runs/*.json"]);
        assert_eq!(inputs.rank, "0");
        assert_eq!(spec.axes.x.field(&X_DEFAULTS), "pp");
        assert_eq!(spec.axes.y.title(&Y_DEFAULTS), "Tensor Parallelism (TP)");
        assert_eq!(spec.units.scale(), 1.0 / 1024.0);
        assert_eq!(spec.color.range(), [0.0, 80.0]);
        assert_eq!(
            spec.thresholds[0].comparison(),
            Some(Comparison::Above(80.0))
        );
        assert_eq!(spec.cells.failed.fill, Some(Color([0xCC, 0xCC, 0xCC])));
        assert_eq!(spec.output.dpi, 300);
        assert_eq!(spec.output.formats, vec![Format::Pdf, Format::Png]);
        assert_eq!(spec.style.font(), "Libertinus Serif");
    }

    #[test]
    fn default_patterns_read_the_tracer_names() {
        let caps = tracer_filename()
            .0
            .captures("memory_trace_rank0_wd8192_tp2_pp64_dp64_exp1_expNumNone_l96_mbs1_nmbs384_gbs24576_ts60530.json")
            .unwrap();
        assert_eq!(&caps["tp"], "2");
        assert_eq!(&caps["pp"], "64");
        assert_eq!(&caps["ts"], "60530");
        let line = default_log_line();
        let caps = line
            .0
            .captures("Config 12: TP=2, PP=64, DP=64, NUM_MICBATCH=384, GLOBAL_BATCH_SIZE=24576 - SUCCESS")
            .unwrap();
        assert_eq!((&caps["tp"], &caps["pp"]), ("2", "64"));
    }

    #[test]
    fn lengths_colours_and_presets_parse() {
        let spec = parse_ok(
            "inputs: {traces: x}\nstyle:\n  width: usenix-column\n  aspect: 0.5\n  font-size: 7pt\n  gap-color: '#abc'\n",
        );
        assert_eq!(spec.figure_size(), (Some(240.12), Some(120.06)));
        assert_eq!(spec.style.font_size(), 7.0);
        assert_eq!(spec.style.gap_color, Color([0xaa, 0xbb, 0xcc]));
        assert_eq!(Length::parse("25.4mm"), Ok(Length(72.0)));
        assert!(Length::parse("3 furlongs").is_err());
    }

    #[test]
    fn a_venue_sets_font_size_and_widths_and_explicit_keys_win() {
        let spec = parse_ok("inputs: {traces: x}\nstyle: {venue: ieee, width: text}\n");
        assert_eq!(spec.style.font(), "TeX Gyre Termes");
        assert_eq!(spec.style.font_size(), 8.0);
        assert_eq!(spec.figure_size().0, Some(516.0 * 72.0 / 72.27));
        let spec = parse_ok(
            "inputs: {traces: x}\nstyle: {venue: acm, width: column, font: TeX Gyre Heros, font-size: 9pt}\n",
        );
        assert_eq!(spec.style.font(), "TeX Gyre Heros");
        assert_eq!(spec.style.font_size(), 9.0);
        assert_eq!(spec.style.title_font_size(), 11.0);
        assert_eq!(spec.figure_size().0, Some(241.14749 * 72.0 / 72.27));
        let e = parse_err("inputs: {traces: x}\nstyle: {width: colum}\n");
        assert!(
            e.message.contains("`column` or `text` (of `style.venue`)"),
            "{}",
            e.message
        );
    }

    #[test]
    fn unknown_key_points_at_it_and_suggests() {
        let e = parse_err("inputs:\n  traces: x\n  ranks: '0'\n");
        assert_eq!(
            e.to_string(),
            "t.yaml:3:3: inputs: unknown field `ranks`, expected one of `traces`, `format`, `filename`, `rank`, `actual`, `theory`, `newest-by`, `status`, `outcomes`, `logs`"
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean `rank`?"));
    }

    #[test]
    fn bad_colour_is_reported_at_its_line() {
        let e = parse_err("inputs: {traces: x}\nstyle:\n  gap-color: '#12345'\n");
        assert_eq!(e.place.position(), Some((3, 15)));
        assert!(
            e.message.contains("invalid colour `#12345`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn bad_regex_says_what_is_wrong() {
        let e = parse_err("inputs:\n  traces: x\n  filename: 'tp(?P<tp>\\d+'\n");
        assert_eq!(e.place.position(), Some((3, 14)));
        assert!(e.message.contains("unclosed group"), "{}", e.message);
    }

    #[test]
    fn pattern_without_axis_capture_is_located() {
        let e = parse_err("inputs:\n  traces: x\n  filename: 'tp(?P<tp>\\d+)'\n");
        assert_eq!(
            e.to_string(),
            "t.yaml:3:13: pattern has no capture named `pp`, which an axis needs"
        );
    }

    #[test]
    fn semantic_errors_are_located_by_key_path() {
        let e = parse_err("inputs:\n  traces: x\ncolor:\n  map: jet\n");
        assert_eq!(e.to_string(), "t.yaml:4:8: unknown colour map `jet`");
        let e = parse_err(
            "inputs:\n  traces: x\nthresholds:\n  - {metric: theory, above: 80}\n  - metric: actual\n    above: 3\n    below: 4\n",
        );
        assert_eq!(e.place.position(), Some((5, 3)));
        let e = parse_err("inputs:\n  traces: x\noutput:\n  dpi: 5\n");
        assert_eq!(e.to_string(), "t.yaml:4:8: DPI 5 is out of range");
    }

    /// A panel's `inputs` and `axes` merge over the top level's key by key,
    /// as a spec over its base; null drops an inherited key.
    #[test]
    fn panels_merge_their_inputs_and_axes_over_the_top_level() {
        let spec = parse_ok(
            "inputs:\n  rank: '3'\n  logs: {failure: f.log}\naxes:\n  x: {title: Stages}\npanels:\n  - title: A\n    inputs: {traces: a/*.json}\n  - title: B\n    inputs:\n      traces: b/*.json\n      rank: '1'\n      logs: ~\n    axes:\n      x: {values: [2, 1]}\n",
        );
        assert!(spec.inputs.is_none());
        let parts = spec.parts();
        let summary: Vec<_> = parts
            .iter()
            .map(|p| {
                (
                    p.title.unwrap(),
                    p.inputs.traces.0.join(","),
                    p.inputs.rank.as_str(),
                    p.inputs.logs.is_some(),
                    p.axes.x.title(&X_DEFAULTS),
                    p.axes.x.values.as_ref().map(Vec::len),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("A", "a/*.json".into(), "3", true, "Stages", None),
                ("B", "b/*.json".into(), "1", false, "Stages", Some(2)),
            ]
        );
        assert_eq!(
            parts[1].keys(&[Key::Field("inputs")]),
            [Key::Field("panels"), Key::Index(1), Key::Field("inputs")]
        );
        // A spec of one sweep is one part, with its keys as written.
        let spec = parse_ok("inputs: {traces: x}\n");
        let parts = spec.parts();
        assert_eq!((parts.len(), parts[0].name()), (1, None));
        assert_eq!(
            parts[0].keys(&[Key::Field("inputs")]),
            [Key::Field("inputs")]
        );
    }

    /// An error in a key a panel writes points into the panel; in a key it
    /// inherits, at the top-level key.
    #[test]
    fn panel_errors_point_where_the_key_was_written() {
        let e = parse_err(
            "inputs:\n  filename: 'tp(?P<tp>\\d+)_pp(?P<pp>\\d+)'\npanels:\n  - title: A\n    inputs: {traces: a}\n  - title: B\n    inputs:\n      traces: b\n      newest-by: seq\n",
        );
        assert_eq!(
            e.to_string(),
            "t.yaml:9:18: panels[1] (B): `seq` is not a named capture of `inputs.filename`"
        );
        let e = parse_err(
            "inputs:\n  filename: 'tp(?P<tp>\\d+)'\npanels:\n  - title: A\n    inputs: {traces: a}\n",
        );
        assert_eq!(
            e.to_string(),
            "t.yaml:2:13: panels[0] (A): pattern has no capture named `pp`, which an axis needs"
        );
        let e = parse_err("panels:\n  - title: A\n");
        assert_eq!(e.message, "panels[0]: missing field `inputs`");
        let e = parse_err("title: x\n");
        assert_eq!(e.message, "the spec has neither `inputs` nor `panels`");
        let e = parse_err("panels: []\n");
        assert_eq!(e.message, "the spec has neither `inputs` nor `panels`");
    }

    #[test]
    fn too_many_panels_is_an_error_at_the_list() {
        let panels: String = (0..9)
            .map(|i| format!("  - {{title: p{i}, inputs: {{traces: x}}}}\n"))
            .collect();
        let e = parse_err(&format!("panels:\n{panels}"));
        assert_eq!(e.to_string(), "t.yaml:1:1: 9 panels is too many");
        assert_eq!(e.hint.as_deref(), Some("a figure has at most 8 panels"));
        let e = parse_err("inputs: {traces: x}\nstyle: {panel-columns: 0}\n");
        assert_eq!(
            e.to_string(),
            "t.yaml:2:24: 0 panel columns is out of range"
        );
    }

    #[test]
    fn yaml_syntax_error_is_located() {
        let e = parse_err("inputs:\n  traces: [x\n");
        assert!(e.place.position().is_some());
        assert!(!e.message.contains(" at line "), "{}", e.message);
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        /// YAML-shaped text built from the schema's own keys, so that the
        /// checks behind the syntax are reached, not just the parser.
        fn spec_like() -> impl Strategy<Value = String> {
            let key = prop::sample::select(vec![
                "extends",
                "inputs",
                "panels",
                "title",
                "traces",
                "filename",
                "rank",
                "logs",
                "line",
                "axes",
                "x",
                "y",
                "field",
                "values",
                "color",
                "map",
                "range",
                "ticks",
                "thresholds",
                "metric",
                "above",
                "cells",
                "text",
                "style",
                "font",
                "width",
                "aspect",
                "output",
                "dpi",
                "- ",
            ]);
            let value = prop::sample::select(vec![
                "",
                "x",
                "'*.json'",
                "[1, 2]",
                "{a: 1}",
                "'(?P<tp>'",
                "-1",
                "1e999",
                "usenix-column",
                "'#12'",
                "3in",
                "é€",
                "\"\\u0000\"",
                "[",
                "{",
                "~",
                "&a",
                "*a",
                "|",
                ">",
            ]);
            prop::collection::vec((0..6usize, key, value), 0..24).prop_map(|lines| {
                lines
                    .into_iter()
                    .map(|(indent, k, v)| format!("{}{k}: {v}\n", " ".repeat(indent)))
                    .collect()
            })
        }

        proptest! {
            #[test]
            fn parse_never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
                let _ = parse_one("t.yaml", &text);
            }

            #[test]
            fn parse_never_panics_on_spec_like_text(text in spec_like()) {
                if let Err(e) = parse_one("t.yaml", &text) {
                    // Every error renders, with a position inside the text.
                    let _ = e.to_string();
                    if let Place::File { span: Some(span), .. } = e.place {
                        prop_assert!(span.end <= text.len());
                    }
                }
            }

        }
    }
}

/// r18: keys not written keep their defaults, at any depth. Writing one key
/// of a state (`cells.failed: {label: OOM}`) used to drop the state's fill
/// and text, so every OOM config was drawn as blank space.
#[cfg(test)]
mod partial {
    use super::*;
    use serde_yaml::{Mapping, Value};

    /// Every key of every mapping in the spec: its default written out (when
    /// it has one that can be written, independently of other keys) and
    /// another value. Lists (`thresholds`, `panels`) are replaced whole, so
    /// their items are not walked.
    const KEYS: &[(&str, Option<&str>, &str)] = &[
        ("title", None, "T"),
        ("subtitle", None, "S"),
        ("template", None, "t.typ.j2"),
        ("strict", Some("false"), "true"),
        // Written, even as `[]`, it takes over `inputs`.
        ("panels", None, "[{title: A, inputs: {traces: y}}]"),
        (
            "thresholds",
            Some("[{metric: theory, above: 80, mark: hatch}]"),
            "[{metric: actual, below: 3}]",
        ),
        ("inputs.traces", None, "y"),
        ("inputs.format", Some("auto"), "csv"),
        // Absent, each file's format picks its pattern or path tokens.
        ("inputs.filename", None, "'(?P<tp>\\d+)_(?P<pp>\\d+)'"),
        ("inputs.rank", Some("'0'"), "'1'"),
        // Absent, each format's own value.
        ("inputs.actual", None, "a"),
        ("inputs.theory", None, "t"),
        ("inputs.newest-by", Some("ts"), "n"),
        ("inputs.status", None, "state"),
        ("inputs.outcomes.success", Some(SUCCESS_WORDS), "[yes]"),
        ("inputs.outcomes.failure", Some(FAILURE_WORDS), "[no]"),
        ("inputs.logs.success", Some("[]"), "ok.log"),
        ("inputs.logs.failure", Some("[]"), "bad.log"),
        ("inputs.logs.status", Some("[]"), "all.log"),
        // Absent, the `Config N` pattern, or tokens for status logs.
        ("inputs.logs.line", None, "'(?P<tp>\\d+) (?P<pp>\\d+)'"),
        ("units.input", Some("MiB"), "MB"),
        ("units.display", Some("GiB"), "MiB"),
        // Follows `display`.
        ("units.label", None, "GiB"),
        // Absent, thin in a venue figure and none otherwise.
        ("units.separator", None, "space"),
        ("axes.x.field", None, "dp"),
        ("axes.x.title", None, "X"),
        ("axes.x.values", None, "[1, 2]"),
        ("axes.x.reverse", Some("false"), "true"),
        ("axes.y.field", None, "dp"),
        ("axes.y.title", None, "Y"),
        ("axes.y.values", None, "[1, 2]"),
        ("axes.y.reverse", Some("false"), "true"),
        ("color.metric", Some("actual"), "theory"),
        ("color.map", Some("memheat-reds"), "viridis"),
        ("color.range", None, "[0, 100]"),
        ("color.center", None, "40"),
        ("color.reverse", Some("false"), "true"),
        ("color.title", None, "C"),
        ("color.ticks", Some("5"), "6"),
        ("cells.text", None, "['{{ actual }}']"),
        ("cells.form", None, "compact"),
        ("cells.decimals", Some("1"), "2"),
        ("cells.failed.text", Some("—"), "x"),
        ("cells.failed.fill", Some("'#CCCCCC'"), "'#000000'"),
        ("cells.failed.label", Some("Failed (OOM)"), "OOM"),
        ("cells.invalid.text", Some("no data"), "x"),
        ("cells.invalid.fill", Some("~"), "'#000000'"),
        ("cells.invalid.label", Some("No usable trace"), "bad"),
        ("cells.missing.text", Some("''"), "x"),
        ("cells.missing.fill", Some("~"), "'#000000'"),
        ("cells.missing.label", Some("No record"), "none"),
        ("style.venue", None, "acm"),
        ("style.font", None, "TeX Gyre Heros"),
        ("style.font-size", None, "9pt"),
        ("style.title-font-size", None, "9pt"),
        ("style.cell-font-size", None, "6pt"),
        ("style.tick-font-size", None, "6pt"),
        // Absent, no title in a venue figure.
        ("style.show-title", None, "false"),
        ("style.min-font-size", Some("5pt"), "4pt"),
        ("style.width", None, "3in"),
        ("style.height", None, "2in"),
        ("style.aspect", None, "0.5"),
        ("style.gap", Some("1pt"), "2pt"),
        ("style.gap-color", Some("'#ffffff'"), "'#000000'"),
        ("style.legend", Some("true"), "false"),
        ("style.colorbar", Some("true"), "false"),
        ("style.panel-columns", None, "2"),
        ("output.path", None, "out/f"),
        ("output.formats", Some("[pdf, png]"), "[svg]"),
        ("output.dpi", Some("300"), "600"),
        ("output.pdf-version", Some("'1.5'"), "'1.7'"),
        ("output.pdf-a", None, "a-2b"),
        ("fonts.paths", Some("[]"), "[f]"),
    ];
    /// Mappings that are themselves optional: their keys' defaults are
    /// written only where the mapping is.
    const OPTIONAL: &[&str] = &["inputs.logs"];
    const SUCCESS_WORDS: &str =
        "[ok, success, succeeded, successful, completed, complete, finished, done, pass, passed]";
    const FAILURE_WORDS: &str = "[oom, failed, fail, failure, cancelled, canceled, crashed, killed, error, timeout, out_of_memory, out of memory]";

    fn insert(tree: &mut Mapping, path: &str, value: Value) {
        let (first, rest) = match path.split_once('.') {
            Some((first, rest)) => (first, Some(rest)),
            None => (path, None),
        };
        match rest {
            None => {
                tree.insert(first.into(), value);
            }
            Some(rest) => {
                let child = tree
                    .entry(first.into())
                    .or_insert_with(|| Value::Mapping(Mapping::new()));
                let Value::Mapping(child) = child else {
                    panic!("{first} is not a mapping")
                };
                insert(child, rest, value);
            }
        }
    }

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    /// The spec typed, without the rules across keys (a lone `aspect` is
    /// an error there, and beside the point here).
    fn typed(tree: &Mapping) -> String {
        let text = serde_yaml::to_string(tree).unwrap();
        let source = SpecSource {
            path: "t.yaml".into(),
            text: text.clone(),
        };
        let sources = Sources::read(source, &[], &mut |_| {
            Err(std::io::ErrorKind::NotFound.into())
        })
        .unwrap();
        let spec: Spec = sources
            .deserialize()
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        format!("{spec:#?}")
    }

    fn base() -> Mapping {
        let mut tree = Mapping::new();
        insert(&mut tree, "inputs.traces", yaml("x"));
        tree
    }

    /// Every default written out, except below an optional mapping that
    /// `key` is not in.
    fn defaults_for(key: &str) -> Mapping {
        let mut tree = base();
        for (path, default, _) in KEYS {
            let hidden = OPTIONAL
                .iter()
                .any(|o| path.starts_with(&format!("{o}.")) && !key.starts_with(&format!("{o}.")));
            if let (Some(default), false) = (default, hidden) {
                insert(&mut tree, path, yaml(default));
            }
        }
        tree
    }

    #[test]
    fn r18_every_key_alone_keeps_its_siblings_defaults() {
        assert_eq!(
            typed(&base()),
            typed(&defaults_for("")),
            "the defaults above are the defaults"
        );
        for (path, _, other) in KEYS {
            let mut alone = base();
            insert(&mut alone, path, yaml(other));
            let mut all = defaults_for(path);
            insert(&mut all, path, yaml(other));
            assert_eq!(
                typed(&alone),
                typed(&all),
                "writing only `{path}` changed another key's default"
            );
        }
    }

    /// The list above is every key: each mapping's unknown-key error names
    /// exactly the keys listed under it.
    #[test]
    fn r18_the_walk_covers_every_key() {
        let mut mappings: Vec<String> = vec![String::new()];
        for (path, _, _) in KEYS {
            let mut parent = String::new();
            for part in path.split('.').collect::<Vec<_>>().split_last().unwrap().1 {
                parent = if parent.is_empty() {
                    part.to_string()
                } else {
                    format!("{parent}.{part}")
                };
                if !mappings.contains(&parent) {
                    mappings.push(parent.clone());
                }
            }
        }
        for mapping in mappings {
            let prefix = if mapping.is_empty() {
                String::new()
            } else {
                format!("{mapping}.")
            };
            let mut listed: Vec<&str> = KEYS
                .iter()
                .filter_map(|(p, _, _)| p.strip_prefix(&prefix))
                .map(|rest| rest.split('.').next().unwrap())
                .collect();
            listed.sort();
            listed.dedup();
            let mut tree = base();
            insert(&mut tree, &format!("{prefix}not-a-key"), yaml("1"));
            let text = serde_yaml::to_string(&tree).unwrap();
            let e = parse_one("t.yaml", &text).unwrap_err().message;
            let expected = e.split_once("expected").expect(&e).1;
            let mut known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            known.sort();
            assert_eq!(known, listed, "keys of `{mapping}`");
        }
    }

    #[test]
    fn r18_a_state_takes_null_as_none_and_keeps_the_rest() {
        let spec = parse_one(
            "t.yaml",
            "inputs: {traces: x}\ncells:\n  failed: {fill: ~}\n  invalid: {label: Unusable}\n",
        )
        .unwrap();
        assert_eq!(spec.cells.failed.fill, None);
        assert_eq!(spec.cells.failed.text, "—");
        assert_eq!(spec.cells.failed.label.as_deref(), Some("Failed (OOM)"));
        assert_eq!(spec.cells.invalid.text, "no data");
        assert_eq!(spec.cells.invalid.label.as_deref(), Some("Unusable"));
        let e = parse_one(
            "t.yaml",
            "inputs: {traces: x}\ncells:\n  failed: {text: ~}\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.yaml:3:18: cells.failed: null (`~`) is not a value for this key: write one, or remove the key to get its default"
        );
        // The whole state null, or not a mapping: said in the spec's words,
        // not the name of an internal type.
        let e = parse_one("t.yaml", "inputs: {traces: x}\ncells: {failed: ~}\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.yaml:2:17: cells: null (`~`) is not a value for this key: write one, or remove the key to get its default"
        );
        let e = parse_one("t.yaml", "inputs: {traces: x}\ncells: {missing: x}\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.yaml:2:18: cells.missing: invalid type: string \"x\", expected a mapping of `text`, `fill` and `label`"
        );
    }
}
