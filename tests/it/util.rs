//! Shared helpers: the binary, the example data read independently of
//! memheat, and readers for the PDF and PNG it writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn memheat() -> Command {
    Command::new(env!("CARGO_BIN_EXE_memheat"))
}

/// Runs the binary in `dir`: (exit code, stdout, stderr).
pub fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = memheat().args(args).current_dir(dir).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Copies the tree at `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A spec in a temp dir that reads the example sweep, plus `extra` keys.
pub fn example_spec(dir: &Path, extra: &str) -> PathBuf {
    let examples = repo().join("examples/485B");
    let spec = dir.join("fig.yaml");
    std::fs::write(
        &spec,
        format!(
            "inputs:\n  traces: '{}/traces/*.json'\n  logs: {{failure: '{}/logs/failed_configs.log'}}\n{extra}",
            examples.display(),
            examples.display()
        ),
    )
    .unwrap();
    spec
}

/// One successful run of the example sweep, read with serde_json.
#[derive(Debug, Clone)]
pub struct ExampleRun {
    pub tp: u32,
    pub pp: u32,
    pub actual_gb: f64,
    pub theory_gb: f64,
}

pub fn example_runs() -> Vec<ExampleRun> {
    let dir = repo().join("examples/485B/traces");
    let mut runs = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let field = |key: &str| -> u32 {
            let start = name.find(&format!("_{key}")).unwrap() + key.len() + 1;
            name[start..].split('_').next().unwrap().parse().unwrap()
        };
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let rank = &json["0"];
        runs.push(ExampleRun {
            tp: field("tp"),
            pp: field("pp"),
            actual_gb: rank["peak_allocated_MB"].as_f64().unwrap() / 1024.0,
            theory_gb: rank["theoretical_memory_MB"].as_f64().unwrap() / 1024.0,
        });
    }
    runs.sort_by_key(|r| (r.tp, r.pp));
    runs
}

/// (tp, pp) of every config the example's failure log lists.
pub fn example_failures() -> Vec<(u32, u32)> {
    let text =
        std::fs::read_to_string(repo().join("examples/485B/logs/failed_configs.log")).unwrap();
    text.lines()
        .filter(|l| l.starts_with("Config"))
        .map(|l| {
            let num = |key: &str| -> u32 {
                let start = l.find(key).unwrap() + key.len();
                l[start..]
                    .split(',')
                    .next()
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap()
            };
            (num("TP="), num("PP="))
        })
        .collect()
}

/// The text of every page, with the whitespace lopdf inserts removed.
pub fn pdf_text(path: &Path) -> String {
    let doc = lopdf::Document::load(path).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).unwrap()
}

/// Font dictionaries of a PDF: (Subtype, has an embedded font file).
pub fn pdf_fonts(path: &Path) -> Vec<(String, bool)> {
    pdf_named_fonts(path)
        .into_iter()
        .map(|(_, subtype, embedded)| (subtype, embedded))
        .collect()
}

/// Font dictionaries of a PDF: (BaseFont without the subset tag, Subtype,
/// has an embedded font file).
pub fn pdf_named_fonts(path: &Path) -> Vec<(String, String, bool)> {
    let doc = lopdf::Document::load(path).unwrap();
    let mut fonts = Vec::new();
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        if dict.get(b"Type").and_then(|t| t.as_name()).ok() != Some(b"Font".as_slice()) {
            continue;
        }
        let subtype =
            String::from_utf8_lossy(dict.get(b"Subtype").unwrap().as_name().unwrap()).to_string();
        let embedded = dict
            .get(b"FontDescriptor")
            .and_then(|d| d.as_reference())
            .and_then(|r| doc.get_dictionary(r))
            .map(|d| d.has(b"FontFile2") || d.has(b"FontFile3") || d.has(b"FontFile"))
            .unwrap_or(false);
        let name = dict
            .get(b"BaseFont")
            .and_then(|n| n.as_name())
            .map(|n| String::from_utf8_lossy(n).to_string())
            .unwrap_or_default();
        // A subset is named `ABCDEF+Family-Style`.
        let name = name
            .split_once('+')
            .map_or(name.clone(), |(_, rest)| rest.to_string());
        fonts.push((name, subtype, embedded));
    }
    fonts
}

pub struct Png {
    pub width: u32,
    pub height: u32,
    /// Pixels per metre from the pHYs chunk.
    pub pixels_per_metre: Option<u32>,
    rgba: Vec<u8>,
}

impl Png {
    pub fn read(path: &Path) -> Png {
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut data = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut data).unwrap();
        // memheat writes RGB for an opaque page, RGBA otherwise.
        let rgba = match info.color_type {
            png::ColorType::Rgba => data,
            png::ColorType::Rgb => data
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            other => panic!("{}: a {other:?} PNG", path.display()),
        };
        let pixels_per_metre = reader.info().pixel_dims.map(|d| {
            assert_eq!(d.unit, png::Unit::Meter);
            assert_eq!(d.xppu, d.yppu);
            d.xppu
        });
        Png {
            width: info.width,
            height: info.height,
            pixels_per_metre,
            rgba,
        }
    }

    pub fn same_pixels(&self, other: &Png) -> bool {
        (self.width, self.height) == (other.width, other.height) && self.rgba == other.rgba
    }

    pub fn set_pixel(&mut self, x: u32, y: u32, rgb: [u8; 3]) {
        let i = ((y * self.width + x) * 4) as usize;
        self.rgba[i..i + 3].copy_from_slice(&rgb);
    }

    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * self.width + x) * 4) as usize;
        [self.rgba[i], self.rgba[i + 1], self.rgba[i + 2]]
    }

    /// Counts of each colour in a rectangle of points, at `dpi`.
    pub fn histogram(&self, dpi: f64, x: f64, y: f64, w: f64, h: f64) -> BTreeMap<[u8; 3], usize> {
        let px = |pt: f64| (pt * dpi / 72.0).round() as u32;
        let mut counts = BTreeMap::new();
        for yy in px(y)..px(y + h) {
            for xx in px(x)..px(x + w) {
                *counts.entry(self.pixel(xx, yy)).or_default() += 1;
            }
        }
        counts
    }
}

pub fn close(a: [u8; 3], b: [u8; 3], tolerance: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tolerance)
}

/// A PDF transformation matrix `[a b c d e f]`.
type Matrix = [f64; 6];

/// `m` then `n`: the matrix of drawing in `m`'s space inside `n`'s.
fn concat(m: Matrix, n: Matrix) -> Matrix {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// The size every run of text on the first page is drawn at, in points:
/// the `Tf` size scaled by the text matrix and the CTM (`cm`, `q`/`Q`, and
/// form XObjects with their `/Matrix`), as a reader draws it. Rotated text
/// counts at its size (the scale is the square root of the determinant).
pub fn pdf_text_sizes(path: &Path) -> Vec<f64> {
    let doc = lopdf::Document::load(path).unwrap();
    let (_, &page) = doc.get_pages().iter().next().expect("a page");
    let (inline, ids) = doc.get_page_resources(page).unwrap();
    let resources = inline.or_else(|| ids.first().map(|id| doc.get_dictionary(*id).unwrap()));
    let mut sizes = Vec::new();
    show_text(
        &doc,
        &doc.get_page_content(page),
        resources,
        IDENTITY,
        &mut sizes,
    );
    sizes
}

fn show_text(
    doc: &lopdf::Document,
    content: &[u8],
    resources: Option<&lopdf::Dictionary>,
    ctm: Matrix,
    sizes: &mut Vec<f64>,
) {
    let number = |o: &lopdf::Object| f64::from(o.as_float().unwrap());
    let matrix = |ops: &[lopdf::Object]| -> Matrix { std::array::from_fn(|i| number(&ops[i])) };
    let (mut ctm, mut saved, mut tm, mut size) = (ctm, vec![], IDENTITY, 0.0);
    for op in lopdf::content::Content::decode(content).unwrap().operations {
        match op.operator.as_str() {
            "q" => saved.push(ctm),
            "Q" => ctm = saved.pop().expect("balanced q/Q"),
            "cm" => ctm = concat(matrix(&op.operands), ctm),
            "BT" => tm = IDENTITY,
            "Tm" => tm = matrix(&op.operands),
            // Td, TD and T* move the line: no change of scale.
            "Tf" => size = number(&op.operands[1]),
            "Tj" | "TJ" | "'" | "\"" => {
                let m = concat(tm, ctm);
                sizes.push(size * (m[0] * m[3] - m[1] * m[2]).abs().sqrt());
            }
            "Do" => {
                let name = op.operands[0].as_name().unwrap();
                let Some(xobject) = resources
                    .and_then(|r| r.get(b"XObject").ok())
                    .and_then(|o| dictionary(doc, o))
                    .and_then(|x| x.get(name).ok())
                    .and_then(|o| doc.dereference(o).ok())
                    .and_then(|(_, o)| o.as_stream().ok())
                else {
                    panic!("XObject {} not found", String::from_utf8_lossy(name))
                };
                if xobject.dict.get(b"Subtype").and_then(|s| s.as_name()).ok() != Some(b"Form") {
                    continue;
                }
                let form = xobject
                    .dict
                    .get(b"Matrix")
                    .ok()
                    .and_then(|m| m.as_array().ok())
                    .map_or(IDENTITY, |m| matrix(m));
                let inner = xobject
                    .dict
                    .get(b"Resources")
                    .ok()
                    .and_then(|o| dictionary(doc, o));
                let bytes = xobject
                    .decompressed_content()
                    .unwrap_or_else(|_| xobject.content.clone());
                show_text(doc, &bytes, inner.or(resources), concat(form, ctm), sizes);
            }
            _ => {}
        }
    }
}

fn dictionary<'a>(doc: &'a lopdf::Document, o: &'a lopdf::Object) -> Option<&'a lopdf::Dictionary> {
    doc.dereference(o).ok()?.1.as_dict().ok()
}

/// Width and height of the first page's MediaBox, in points.
pub fn pdf_page_size(path: &Path) -> (f64, f64) {
    let doc = lopdf::Document::load(path).unwrap();
    let (_, &page) = doc.get_pages().iter().next().expect("a page");
    let media = doc.get_dictionary(page).unwrap().get(b"MediaBox").unwrap();
    let b: Vec<f64> = media
        .as_array()
        .unwrap()
        .iter()
        .map(|o| f64::from(o.as_float().unwrap()))
        .collect();
    (b[2] - b[0], b[3] - b[1])
}

/// The `.yaml` files in `dir`, sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    specs.sort();
    specs
}

/// Whether to rewrite the reference files (golden images, snapshots)
/// instead of comparing with them: `MEMHEAT_BLESS=1`.
pub fn bless() -> bool {
    std::env::var_os("MEMHEAT_BLESS").is_some_and(|v| v == "1")
}
