//! `extends` and `--set`: a spec as layers of YAML, merged key by key.
//!
//! Each file is parsed on its own, so a syntax error is reported in the
//! file that has it. The merged tree remembers which layer wrote each
//! value: an error found much later (an unknown font, a glob that matches
//! nothing) points at the line of the base file or the flag that set it,
//! and a relative path resolves against the directory of its own file.
//!
//! serde_yaml keeps no spans, so a value is found again in its file by key
//! path ([`super::locate`]); merging keeps key paths as they were written
//! (mappings merge, everything else is replaced whole), which is what
//! makes that work.

use std::io;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use super::error::{Place, SpecError, SpecSource, message_of, yaml_error, yaml_error_typed};
use super::locate::{
    Key, find_quoted, locate, locate_key, parse_key_path, suggest_key, token_span,
};
use super::set_flag::{MERGE_KEY, MERGE_KEY_HINT, Set, merge_key};
use super::{KeyError, MAX_ALIASES, aliases};
use crate::paths::shown;

/// Most spec files one spec may read through `extends`, itself included. A
/// longer chain is a mistake, and `extends: [a, a, ...]` must not multiply.
pub(super) const MAX_SPEC_FILES: usize = 16;

/// Which layer wrote a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Index into [`Sources::files`].
    File(usize),
    /// Index into [`Sources::flags`].
    Flag(usize),
}

#[derive(Debug, Clone)]
struct Node {
    origin: Origin,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// A scalar or a sequence: a layer above replaces it whole.
    Leaf(Value),
    /// A mapping: a layer above merges into it key by key.
    Map(Vec<(Value, Node)>),
}

impl Node {
    fn new(value: Value, origin: Origin) -> Node {
        let kind = match value {
            Value::Mapping(map) => Kind::Map(
                map.into_iter()
                    .map(|(k, v)| (k, Node::new(v, origin)))
                    .collect(),
            ),
            other => Kind::Leaf(other),
        };
        Node { origin, kind }
    }

    /// `over` on top of `self`.
    fn merge(self, over: Node) -> Node {
        match (self.kind, over.kind) {
            (Kind::Map(mut map), Kind::Map(top)) => {
                for (key, node) in top {
                    match map.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, slot)) => {
                            let below =
                                std::mem::replace(slot, Node::new(Value::Null, node.origin));
                            *slot = below.merge(node);
                        }
                        None => map.push((key, node)),
                    }
                }
                // A mapping both wrote is pointed at in a file rather than
                // a flag: an error about a key nobody wrote inside it (a
                // default) belongs to the file's block.
                let origin = match (self.origin, over.origin) {
                    (file @ Origin::File(_), Origin::Flag(_)) => file,
                    (_, top) => top,
                };
                Node {
                    origin,
                    kind: Kind::Map(map),
                }
            }
            (_, kind) => Node {
                origin: over.origin,
                kind,
            },
        }
    }

    fn to_value(&self) -> Value {
        match &self.kind {
            Kind::Leaf(v) => v.clone(),
            Kind::Map(map) => Value::Mapping(
                map.iter()
                    .map(|(k, node)| (k.clone(), node.to_value()))
                    .collect(),
            ),
        }
    }

    /// The deepest node along `keys`: the one that wrote the value there,
    /// or for a key no layer wrote (a default), its nearest parent.
    fn find(&self, keys: &[Key]) -> &Node {
        let mut node = self;
        for key in keys {
            let (Key::Field(name), Kind::Map(map)) = (key, &node.kind) else {
                break;
            };
            match map.iter().find(|(k, _)| k.as_str() == Some(name)) {
                Some((_, child)) => node = child,
                None => break,
            }
        }
        node
    }
}

/// Where each value of a spec came from: the spec, the bases it extends
/// (in the order they were read) and the `--set` flags.
#[derive(Debug)]
pub(crate) struct Sources {
    files: Vec<SpecSource>,
    flags: Vec<String>,
    tree: Node,
    /// Whether anything lies under or over the spec's own text: an
    /// `extends` (even an empty one) or a flag.
    layered: bool,
}

/// The directory a path-valued key resolves against, and how to name it
/// in a message.
pub(crate) struct BaseDir<'a> {
    pub dir: &'a Path,
    pub described: String,
}

impl Sources {
    /// Reads `spec`, the bases it extends (through `read`), and lays the
    /// `flags` over them.
    pub(super) fn read(
        spec: SpecSource,
        flags: &[Set],
        read: &mut dyn FnMut(&Path) -> io::Result<String>,
    ) -> Result<Sources, Box<SpecError>> {
        let mut chain = Chain {
            files: vec![],
            read,
            aliases: 0,
            stack: vec![],
            layered: !flags.is_empty(),
        };
        let mut tree = chain.layer(spec)?;
        for (i, set) in flags.iter().enumerate() {
            tree = tree.merge(Node::new(set.value.clone(), Origin::Flag(i)));
        }
        Ok(Sources {
            layered: chain.layered,
            files: chain.files,
            flags: flags.iter().map(|s| s.flag.clone()).collect(),
            tree,
        })
    }

    /// Whether any layer wrote the top-level `key`.
    pub(super) fn writes(&self, key: &str) -> bool {
        match &self.tree.kind {
            Kind::Map(map) => map.iter().any(|(k, _)| k.as_str() == Some(key)),
            Kind::Leaf(_) => false,
        }
    }

    /// The spec given on the command line.
    pub(crate) fn spec(&self) -> &SpecSource {
        &self.files[0]
    }

    /// The merged spec, typed. A spec that is one file is read from its own
    /// text: serde_yaml reads a plain `1.50` as text where the key takes
    /// text, which a merged tree (where it is already the number 1.5)
    /// could not do.
    pub(super) fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<T, Box<SpecError>> {
        let value = self.tree.to_value();
        let panels = value.get("panels").is_some();
        if !self.layered && !panels {
            let spec = self.spec();
            return serde_yaml::from_str(&spec.text)
                .map_err(|e| Box::new(one_per_section::<T>(spec, e)));
        }
        let text = serde_yaml::to_string(&expand_panels(value))
            .expect("a tree parsed from YAML serialises");
        serde_yaml::from_str(&text).map_err(|e| Box::new(self.merged_error(&e)))
    }

    /// An error in the merged text, which nobody wrote: placed by the key
    /// path in its message, in the layer that wrote that key.
    fn merged_error(&self, e: &serde_yaml::Error) -> SpecError {
        let message = message_of(e);
        let hint = suggest_key(&message);
        let (mut keys, rest) = message
            .split_once(": ")
            .and_then(|(path, rest)| Some((parse_key_path(path)?, rest)))
            .unwrap_or((vec![], message.as_str()));
        let unknown = rest
            .strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next());
        let quoted = rest.split('`').nth(1).filter(|q| !q.is_empty());
        let value = self.tree.to_value();
        if let Some(name) = unknown {
            keys.push(Key::Field(name));
        } else if let Some(quoted) = quoted {
            let below = keys.iter().try_fold(&value, |v, key| match key {
                Key::Field(name) => v.get(name),
                Key::Index(i) => v.get(i),
            });
            let mut found = keys.clone();
            if below.is_some_and(|v| find_quoted(v, &mut found, quoted, &|_| false)) {
                keys = found;
            }
        }
        let keys = self.written(&keys).to_vec();
        let file = match self.tree.find(&keys).origin {
            Origin::File(i) => &self.files[i],
            // The flag names the key path; the message need not repeat it.
            Origin::Flag(i) => return self.flag_error(i, rest.into(), hint),
        };
        let span = if unknown.is_some() {
            locate_key(&file.text, &keys)
        } else {
            locate(&file.text, &keys).map(|span| match quoted {
                Some(q) => match file.text[span.clone()].find(q) {
                    Some(at) => span.start + at..span.start + at + q.len(),
                    None => span,
                },
                None => span,
            })
        };
        file.error_at(span, message.clone(), hint)
    }

    /// Locates a problem found after parsing in the layer that wrote it.
    pub(crate) fn error(&self, mut e: KeyError) -> SpecError {
        e.keys = self.written(&e.keys).to_vec();
        match self.tree.find(&e.keys).origin {
            Origin::File(i) => self.files[i].error(e),
            Origin::Flag(i) => self.flag_error(i, e.message, e.hint),
        }
    }

    /// `keys`, or for a key of `panels[i]` that the panel does not write,
    /// the top-level key it inherits: where the value was written.
    fn written<'k, 'a>(&self, keys: &'k [Key<'a>]) -> &'k [Key<'a>] {
        let [Key::Field("panels"), Key::Index(_), rest @ ..] = keys else {
            return keys;
        };
        let writes = |keys: &[Key]| match self.tree.find(keys).origin {
            Origin::File(i) => locate(&self.files[i].text, keys).is_some(),
            Origin::Flag(_) => true,
        };
        if rest.is_empty() || writes(keys) || !writes(rest) {
            keys
        } else {
            rest
        }
    }

    fn flag_error(&self, i: usize, message: String, hint: Option<String>) -> SpecError {
        SpecError {
            place: Place::Flag(self.flags[i].clone()),
            message,
            hint,
            also: vec![],
        }
    }

    /// Relative paths resolve against the directory of the file that
    /// wrote them, and a `--set` path against the working directory.
    pub(crate) fn dir_of(&self, keys: &[Key]) -> BaseDir<'_> {
        match self.tree.find(self.written(keys)).origin {
            Origin::File(0) => BaseDir {
                dir: self.files[0].dir(),
                described: "the spec's directory".into(),
            },
            Origin::File(i) => BaseDir {
                dir: self.files[i].dir(),
                described: format!("the directory of `{}`", shown(&self.files[i].path)),
            },
            Origin::Flag(_) => BaseDir {
                dir: Path::new(""),
                described: "the working directory, as for every --set path".into(),
            },
        }
    }
}

/// Each panel's `inputs` and `axes` are the top level's with the panel's
/// merged over them, key by key as a spec over its base; the top-level
/// `inputs` then lives on in the panels only.
fn expand_panels(mut value: Value) -> Value {
    let Value::Mapping(top) = &mut value else {
        return value;
    };
    let Some(Value::Sequence(panels)) = top.get("panels") else {
        return value;
    };
    let mut panels = panels.clone();
    let inputs = top.remove("inputs");
    for panel in &mut panels {
        let Value::Mapping(panel) = panel else {
            continue;
        };
        for (key, shared) in [("inputs", &inputs), ("axes", &top.get("axes").cloned())] {
            let Some(shared) = shared else { continue };
            let origin = Origin::File(0);
            let merged = match panel.remove(key) {
                Some(own) => Node::new(shared.clone(), origin).merge(Node::new(own, origin)),
                None => Node::new(shared.clone(), origin),
            };
            panel.insert(key.into(), merged.to_value());
        }
    }
    top.insert("panels".into(), Value::Sequence(panels));
    value
}

/// The files read so far, and the `extends` being followed.
struct Chain<'r> {
    files: Vec<SpecSource>,
    read: &'r mut dyn FnMut(&Path) -> io::Result<String>,
    /// Aliases in all files so far: the limit is for the spec as a whole.
    aliases: usize,
    /// Canonical path and shown path of each file being extended.
    stack: Vec<(PathBuf, String)>,
    layered: bool,
}

impl Chain<'_> {
    /// One file, merged over the bases it extends.
    fn layer(&mut self, source: SpecSource) -> Result<Node, Box<SpecError>> {
        for at in aliases(&source.text) {
            self.aliases += 1;
            if self.aliases > MAX_ALIASES {
                return Err(Box::new(source.error_at(
                    Some(at..at + 1),
                    format!("more than {MAX_ALIASES} YAML aliases (`*name`)"),
                    Some(if self.files.is_empty() {
                        "write the values out instead of aliasing them".into()
                    } else {
                        "write the values out instead of aliasing them; the limit is for the spec and its bases together".into()
                    }),
                )));
            }
        }
        let mut value: Value =
            serde_yaml::from_str(&source.text).map_err(|e| Box::new(yaml_error(&source, &e)))?;
        if let Some(keys) = merge_key(&value, &mut vec![]) {
            return Err(Box::new(source.error_at(
                locate_key(&source.text, &keys),
                MERGE_KEY.into(),
                Some(MERGE_KEY_HINT.into()),
            )));
        }
        let bases = match &mut value {
            Value::Mapping(map) => map.remove("extends"),
            // An empty base is harmless; a list or a scalar would be
            // replaced whole by the spec above and silently do nothing.
            Value::Null => None,
            _ if !self.files.is_empty() => {
                let span = Some(token_span(&source.text, 0));
                return Err(Box::new(source.error_at(
                    span,
                    "a base spec must be a mapping of spec keys".into(),
                    Some("write it like a spec: `key: value` lines".into()),
                )));
            }
            _ => None,
        };
        self.layered |= bases.is_some();
        let identity = identity(&source.path);
        self.stack.push((identity, shown(&source.path)));
        let index = self.files.len();
        self.files.push(source);
        let merged = self.bases(index, bases);
        self.stack.pop();
        let own = Node::new(value, Origin::File(index));
        Ok(match merged? {
            Some(bases) => bases.merge(own),
            None => own,
        })
    }

    /// The bases the file at `index` extends, merged in order.
    fn bases(
        &mut self,
        index: usize,
        bases: Option<Value>,
    ) -> Result<Option<Node>, Box<SpecError>> {
        let error = |source: &SpecSource, keys: &[Key<'static>], message: String, hint: &str| {
            Box::new(source.error(KeyError::new(keys, message, Some(hint.into()))))
        };
        let source = &self.files[index];
        let bases: Vec<(Key<'static>, String)> = match bases {
            None | Some(Value::Null) => vec![],
            Some(Value::String(one)) => vec![(Key::Field("extends"), one)],
            Some(Value::Sequence(many)) if many.iter().all(Value::is_string) => many
                .into_iter()
                .enumerate()
                .filter_map(|(i, v)| Some((Key::Index(i), v.as_str()?.to_string())))
                .collect(),
            Some(_) => {
                return Err(error(
                    source,
                    &[Key::Field("extends")],
                    "`extends` takes a spec file, or a list of them".into(),
                    "e.g. `extends: style/paper.yaml`, relative to this file",
                ));
            }
        };
        let mut merged: Option<Node> = None;
        for (key, name) in bases {
            let source = &self.files[index];
            let keys: Vec<Key<'static>> = match key {
                Key::Index(_) => vec![Key::Field("extends"), key],
                Key::Field(_) => vec![key],
            };
            let path = source.dir().join(&name);
            if self.files.len() >= MAX_SPEC_FILES {
                return Err(error(
                    source,
                    &keys,
                    format!("more than {MAX_SPEC_FILES} spec files through `extends`"),
                    "a chain this long is a mistake; merge some of the bases",
                ));
            }
            let id = identity(&path);
            if let Some(at) = self.stack.iter().position(|(p, _)| *p == id) {
                let mut chain: Vec<&str> =
                    self.stack[at..].iter().map(|(_, s)| s.as_str()).collect();
                let shown_path = shown(&path);
                chain.push(&shown_path);
                return Err(error(
                    source,
                    &keys,
                    format!("`extends` goes round in a cycle: {}", chain.join(" -> ")),
                    "a spec cannot extend itself, directly or through its bases",
                ));
            }
            let text = (self.read)(&path).map_err(|e| {
                error(
                    source,
                    &keys,
                    format!("cannot read `{}`: {e}", shown(&path)),
                    "`extends` is relative to the file it is written in",
                )
            })?;
            let base = self.layer(SpecSource { path, text })?;
            merged = Some(match merged {
                Some(below) => below.merge(base),
                None => base,
            });
        }
        Ok(merged)
    }
}

/// A file's identity for cycles: `a/../b.yaml` and a symlink are the file
/// they name. A file that cannot be read has no canonical path, and fails
/// to be read next anyway.
fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| crate::paths::tidy(path))
}

/// Most type errors reported for one spec; the spec has far fewer top-level sections.
const MAX_SECTION_ERRORS: usize = 20;

/// serde stops at the first error it meets. To report more in one run, the top-level section
/// that holds it is blanked (with spaces, so every later position stays where it was) and the
/// text is read again, once per section: one error per section, each at its place.
fn one_per_section<T: serde::de::DeserializeOwned>(
    spec: &SpecSource,
    first: serde_yaml::Error,
) -> SpecError {
    let mut error = yaml_error_typed::<T>(spec, &first);
    let mut text = spec.text.clone();
    let mut blanked = vec![];
    let mut last = first;
    // A missing or duplicate key is reported at its mapping, not in one section; blanking
    // would only hide the mapping's other keys.
    let sectioned = |e: &serde_yaml::Error| {
        let message = message_of(e);
        !message.contains("missing field") && !message.contains("duplicate field")
    };
    // Each round reads the whole text again: a bound keeps a spec of many bad sections cheap.
    while sectioned(&last) && blanked.len() < MAX_SECTION_ERRORS {
        let Some(section) = last
            .location()
            .and_then(|at| top_level_section(&text, at.index()))
        else {
            break;
        };
        if blanked.contains(&section.start) {
            break;
        }
        blanked.push(section.start);
        let blank: String = text[section.clone()]
            .chars()
            .map(|c| if c == '\n' { c } else { ' ' })
            .collect();
        text.replace_range(section, &blank);
        match serde_yaml::from_str::<T>(&text) {
            Ok(_) => break,
            Err(next) if sectioned(&next) => {
                error.also.push(yaml_error_typed::<T>(spec, &next));
                last = next;
            }
            Err(_) => break,
        }
    }
    error
}

/// The byte range of the top-level key's block that holds byte `at`: from its key's line to
/// the next line that starts at column 0 (comments and blank lines aside).
fn top_level_section(text: &str, at: usize) -> Option<std::ops::Range<usize>> {
    let starts_block = |line: &str| {
        line.starts_with(|c: char| !c.is_whitespace() && c != '#' && c != '-')
            && !line.starts_with("---")
            && !line.starts_with("...")
    };
    let mut start = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if starts_block(line) {
            if offset > at {
                return Some(start?..offset);
            }
            start = Some(offset);
        }
        offset += line.len();
    }
    Some(start?..text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Reads the spec `files[0]` with the others as its bases, in memory.
    fn read(files: &[(&str, &str)], flags: &[&str]) -> Result<Sources, Box<SpecError>> {
        let texts: HashMap<PathBuf, String> = files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_string()))
            .collect();
        let flags: Vec<Set> = flags.iter().map(|f| f.parse().unwrap()).collect();
        let spec = SpecSource {
            path: files[0].0.into(),
            text: files[0].1.into(),
        };
        Sources::read(spec, &flags, &mut |path| {
            texts
                .get(&crate::paths::tidy(path))
                .cloned()
                .ok_or_else(|| io::ErrorKind::NotFound.into())
        })
    }

    fn merged(files: &[(&str, &str)], flags: &[&str]) -> String {
        serde_yaml::to_string(&read(files, flags).unwrap().tree.to_value()).unwrap()
    }

    fn error(files: &[(&str, &str)]) -> String {
        read(files, &[]).unwrap_err().to_string()
    }

    #[test]
    fn mappings_merge_and_everything_else_is_replaced() {
        let base =
            "title: base\nstyle: {gap: 2pt, font: A}\noutput:\n  formats: [pdf, png]\n  dpi: 100\n";
        let child = "extends: base.yaml\nstyle: {gap: 3pt}\noutput: {formats: [svg]}\n";
        assert_eq!(
            merged(&[("s/child.yaml", child), ("s/base.yaml", base)], &[]),
            "title: base\nstyle:\n  gap: 3pt\n  font: A\noutput:\n  formats:\n  - svg\n  dpi: 100\n"
        );
    }

    #[test]
    fn null_replaces_like_any_value() {
        let base = "title: base\ninputs: {logs: {success: ok.log}}\n";
        let child = "extends: base.yaml\ntitle: ~\ninputs: {logs: null}\n";
        assert_eq!(
            merged(&[("child.yaml", child), ("base.yaml", base)], &[]),
            "title: null\ninputs:\n  logs: null\n"
        );
    }

    #[test]
    fn chains_and_lists_merge_in_order_then_flags() {
        let files = [
            ("a.yaml", "extends: [b.yaml, c.yaml]\nx: a\n"),
            ("b.yaml", "extends: d/e.yaml\ny: b\nz: b\n"),
            ("c.yaml", "z: c\n"),
            ("d/e.yaml", "w: e\ny: e\n"),
        ];
        assert_eq!(
            merged(&files, &["x=flag", "v.u=[1, 2]", "v={t: 3}"]),
            "w: e\ny: b\nz: c\nx: flag\nv:\n  u:\n  - 1\n  - 2\n  t: 3\n"
        );
    }

    #[test]
    fn values_remember_their_file_and_paths_their_directory() {
        let files = [
            (
                "specs/fig.yaml",
                "extends: style/paper.yaml\ninputs: {traces: runs/*.json}\n",
            ),
            (
                "specs/style/paper.yaml",
                "template: paper.typ.j2\ninputs: {logs: {success: ok.log}}\n",
            ),
        ];
        let sources = read(&files, &["output.path=out/fig"]).unwrap();
        let dir = |keys: &[Key]| sources.dir_of(keys).dir.to_path_buf();
        assert_eq!(dir(&[Key::Field("template")]), Path::new("specs/style"));
        assert_eq!(
            dir(&[
                Key::Field("inputs"),
                Key::Field("logs"),
                Key::Field("success")
            ]),
            Path::new("specs/style")
        );
        assert_eq!(
            dir(&[Key::Field("inputs"), Key::Field("traces")]),
            Path::new("specs")
        );
        assert_eq!(
            dir(&[Key::Field("output"), Key::Field("path")]),
            Path::new("")
        );
        // A key nobody wrote belongs to the spec itself.
        assert_eq!(dir(&[Key::Field("strict")]), Path::new("specs"));
        assert_eq!(
            sources.dir_of(&[Key::Field("template")]).described,
            "the directory of `specs/style/paper.yaml`"
        );
        let e = sources.error(KeyError::new(
            &[
                Key::Field("inputs"),
                Key::Field("logs"),
                Key::Field("success"),
            ],
            "bad",
            None,
        ));
        assert_eq!(e.to_string(), "specs/style/paper.yaml:2:26: bad");
        let e = sources.error(KeyError::new(
            &[Key::Field("output"), Key::Field("path")],
            "bad",
            None,
        ));
        assert_eq!(e.to_string(), "--set output.path=out/fig: bad");
    }

    #[test]
    fn a_bad_value_is_pointed_at_where_it_was_written() {
        let spec = |files: &[(&str, &str)], flags: &[&str]| {
            read(files, flags)
                .unwrap()
                .deserialize::<super::super::Spec>()
                .unwrap_err()
                .to_string()
        };
        let files = [
            ("fig.yaml", "extends: base.yaml\nstyle: {gap: 3pt}\n"),
            (
                "base.yaml",
                "inputs: {traces: x}\nstyle:\n  gap-color: '#12'\n",
            ),
        ];
        assert_eq!(
            spec(&files, &[]),
            "base.yaml:3:15: style: invalid colour `#12`: write it as `#rrggbb` or `#rgb` with hex digits"
        );
        // serde_yaml names only the mapping of a null; the flag wrote it.
        let files = [
            ("fig.yaml", "extends: base.yaml\n"),
            ("base.yaml", "inputs: {traces: x}\nstyle:\n  gap: 2pt\n"),
        ];
        assert_eq!(
            spec(&files, &["style.gap-color="]),
            "--set style.gap-color=: null (`~`) is not a value for this key: write one, or remove the key to get its default"
        );
    }

    #[test]
    fn cycles_are_errors_naming_the_chain() {
        let files = [
            ("a.yaml", "extends: b.yaml\n"),
            ("b.yaml", "extends: ./a.yaml\n"),
        ];
        assert_eq!(
            error(&files),
            "b.yaml:1:10: `extends` goes round in a cycle: a.yaml -> b.yaml -> a.yaml"
        );
        assert_eq!(
            error(&[("a.yaml", "x: 1\nextends: [a.yaml]\n")]),
            "a.yaml:2:11: `extends` goes round in a cycle: a.yaml -> a.yaml"
        );
        // The same base twice is not a cycle.
        let diamond = [
            ("a.yaml", "extends: [b.yaml, c.yaml]\n"),
            ("b.yaml", "extends: d.yaml\n"),
            ("c.yaml", "extends: d.yaml\n"),
            ("d.yaml", "x: 1\n"),
        ];
        assert_eq!(merged(&diamond, &[]), "x: 1\n");
    }

    #[test]
    fn the_chain_is_capped() {
        let texts: Vec<(String, String)> = (0..=MAX_SPEC_FILES)
            .map(|i| (format!("{i}.yaml"), format!("extends: {}.yaml\n", i + 1)))
            .collect();
        let files: Vec<(&str, &str)> = texts
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            error(&files),
            "15.yaml:1:10: more than 16 spec files through `extends`"
        );
        // Nor can a list multiply the files read.
        let wide = [
            ("a.yaml", "extends: [b.yaml, b.yaml, b.yaml, b.yaml]\n"),
            ("b.yaml", "extends: [c.yaml, c.yaml, c.yaml, c.yaml]\n"),
            ("c.yaml", "x: 1\n"),
        ];
        assert_eq!(
            error(&wide),
            "a.yaml:1:35: more than 16 spec files through `extends`"
        );
    }

    #[test]
    fn a_missing_base_is_pointed_at_in_the_child() {
        assert_eq!(
            error(&[("s/a.yaml", "title: x\nextends: style/b.yaml\n")]),
            "s/a.yaml:2:10: cannot read `s/style/b.yaml`: entity not found"
        );
    }

    #[test]
    fn aliases_count_across_the_chain() {
        let base = format!("a: &a [x]\nb: [{}]\n", ["*a"; 10].join(", "));
        let child = format!(
            "extends: base.yaml\nc: &c [y]\nd: [{}]\n",
            ["*c"; 10].join(", ")
        );
        let e = read(&[("child.yaml", &child), ("base.yaml", &base)], &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "base.yaml:2:29: more than 16 YAML aliases (`*name`)"
        );
    }

    #[test]
    fn flags_are_checked_before_anything_is_read() {
        let err = |flag: &str| flag.parse::<Set>().unwrap_err();
        assert_eq!(
            err("title"),
            "expected KEY.PATH=VALUE, e.g. `output.dpi=600`"
        );
        assert!(err("=1").contains("is not a key path"));
        assert!(err("style..gap=1pt").contains("is not a key path"));
        assert!(err("style.=1pt").contains("is not a key path"));
        assert_eq!(
            err("extends=x.yaml"),
            "`extends` can only be written in a spec file"
        );
        assert!(err("color.range=[0, 1").starts_with("the value is not valid YAML: "));
        assert_eq!(
            err("style.gap-color=#abc"),
            "`#` starts a YAML comment, so the value is empty; quote it: 'style.gap-color=\"#abc\"'"
        );
        // Typed like the YAML: an empty value is null, quotes make text.
        let value = |flag: &str| flag.parse::<Set>().unwrap().value;
        assert_eq!(
            value("title="),
            serde_yaml::from_str::<Value>("title: null").unwrap()
        );
        assert_eq!(
            value("title=\"A: b\""),
            serde_yaml::from_str::<Value>("title: 'A: b'").unwrap()
        );
        assert_eq!(
            value("output.dpi=600"),
            serde_yaml::from_str::<Value>("output: {dpi: 600}").unwrap()
        );
    }
}
