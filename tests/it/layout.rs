//! The code's shape, as #16 set it, so that it stays: no source file over
//! 500 code lines (blank lines, comments and the test module not counted),
//! and no cycle among the top-level modules of `src/`, so each can be read
//! knowing only those below it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::util::repo;

const MAX_CODE_LINES: usize = 500;

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The lines before the test module, without blank lines and comments.
fn code_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim_start().starts_with("mod "))
        .unwrap_or(lines.len());
    lines[..end]
        .iter()
        .copied()
        .filter(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with("//")
        })
        .collect()
}

#[test]
fn layout_no_file_has_more_than_500_code_lines() {
    let src = repo().join("src");
    let long: Vec<String> = sources(&src)
        .iter()
        .filter_map(|path| {
            let n = code_lines(&std::fs::read_to_string(path).unwrap()).len();
            (n > MAX_CODE_LINES).then(|| format!("{}: {n}", path.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these by what they do (docs/architecture.md): {long:?}"
    );
}

#[test]
fn code_lines_skip_comments_blank_lines_and_the_test_module() {
    let text =
        "//! doc\nuse x;\n\n    // why\nfn f() {}\n#[cfg(test)]\nmod tests {\n    fn g() {}\n}\n";
    assert_eq!(code_lines(text), ["use x;", "fn f() {}"]);
}

/// Each top-level module and the top-level modules its code names.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let modules: BTreeSet<String> = Regex::new(r"(?m)^mod (\w+);")
        .unwrap()
        .captures_iter(&lib)
        .map(|c| c[1].to_string())
        .collect();
    // `pub use module::path::{Item, Other as Alias};`: which module a
    // name used as `crate::Name` comes from.
    let mut reexported = BTreeMap::new();
    let reexport =
        Regex::new(r"(?s)pub use (\w+)(?:::\w+)*::(?:\{([^}]*)\}|(\w+(?: as \w+)?));").unwrap();
    for c in reexport.captures_iter(&lib) {
        let items = c.get(2).or(c.get(3)).unwrap().as_str();
        for item in items.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let name = item.rsplit(' ').next().unwrap();
            reexported.insert(name.to_string(), c[1].to_string());
        }
    }
    let path = Regex::new(r"crate::(\w+)(::)?").unwrap();
    let group = Regex::new(r"(?s)use crate::\{([^;]*)\};").unwrap();
    let target = |name: &str, followed_by_path: bool| -> Option<String> {
        if followed_by_path && modules.contains(name) {
            return Some(name.to_string());
        }
        reexported
            .get(name)
            .cloned()
            .or_else(|| modules.contains(name).then(|| name.to_string()))
    };
    let mut graph = BTreeMap::new();
    for module in &modules {
        let mut uses = BTreeSet::new();
        let dir = src.join(module);
        let files = if dir.is_dir() {
            sources(&dir)
        } else {
            vec![src.join(format!("{module}.rs"))]
        };
        for file in files {
            let code = code_lines(&std::fs::read_to_string(&file).unwrap()).join("\n");
            for c in path.captures_iter(&code) {
                uses.extend(target(&c[1], c.get(2).is_some()));
            }
            for c in group.captures_iter(&code) {
                for item in c[1].split(',').map(str::trim).filter(|i| !i.is_empty()) {
                    let head = item.split("::").next().unwrap().trim();
                    uses.extend(target(head, item.contains("::")));
                }
            }
        }
        uses.remove(module);
        graph.insert(module.clone(), uses);
    }
    graph
}

/// A path of modules that returns to its start, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        at: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == at) {
            let mut found = path[start..].to_vec();
            found.push(at.to_string());
            return Some(found);
        }
        if done.contains(at) {
            return None;
        }
        path.push(at.to_string());
        for next in graph.get(at).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(at.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut vec![], &mut done))
}

#[test]
fn layout_the_top_level_modules_have_no_cycle() {
    let graph = module_graph(&repo().join("src"));
    assert!(graph.len() >= 15, "{graph:?}");
    // The reader sees through re-exports: `crate::Model` is `pipeline`.
    assert!(graph["cli"].contains("pipeline"), "{:?}", graph["cli"]);
    assert!(
        graph["pipeline"].contains("table"),
        "{:?}",
        graph["pipeline"]
    );
    if let Some(found) = cycle(&graph) {
        panic!(
            "module cycle {}: move the shared item down, or pass it in",
            found.join(" -> ")
        );
    }
}

#[test]
fn a_cycle_is_found() {
    let graph: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(m, n)| (m.to_string(), BTreeSet::from([n.to_string()])))
        .collect();
    assert_eq!(cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
}
