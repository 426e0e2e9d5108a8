//! Compiles the generated Typst source in-process.
//!
//! The world is sealed: it serves the one generated source and the fonts
//! embedded in the binary, nothing from disk or network, so a figure looks
//! the same on every machine and a template cannot read files. Fonts from
//! directories a spec or `--font-path` names are read before compiling
//! ([`search_fonts`]) and added to a copy of the engine, so they are the
//! build's inputs like its traces, and Typst still reads nothing.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use typst::diag::{FileError, FileResult, Severity, SourceDiagnostic, Warned};
use typst::foundations::{Bytes, Datetime, Dict, Duration, Label, Selector, Value};
use typst::introspection::{Introspector, MetadataElem};
use typst::layout::{Abs, Size};
use typst::model::Document as _;
use typst::syntax::Source;
use typst::text::{Font, FontBook};
use typst::utils::{LazyHash, PicoStr};
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

pub(crate) use budget::{Overrun, on_overrun};
use fonts::Face;
pub(crate) use fonts::search_fonts;

pub(crate) mod budget;
mod font_file;
mod fonts;

/// Fonts and the standard library, built once per process. A clone is a
/// handle on the same fonts and library, so a figure can keep the engine
/// it compiles with.
#[derive(Clone)]
pub struct Engine {
    /// Typst's standard library takes most of a millisecond to build, and
    /// only a compile needs it: it is built on another core while the spec
    /// and the traces are read, and the first compile waits for it (or
    /// builds it, if that core has not got to it yet).
    library: Arc<OnceLock<LazyHash<Library>>>,
    book: Arc<LazyHash<FontBook>>,
    /// In the book's order.
    faces: Arc<[Face]>,
}

impl Default for Engine {
    fn default() -> Self {
        let library = Arc::new(OnceLock::new());
        let ahead = Arc::clone(&library);
        rayon::spawn(move || {
            standard_library(&ahead);
        });
        Engine::with_faces(library, fonts::embedded())
    }
}

fn standard_library(library: &OnceLock<LazyHash<Library>>) -> &LazyHash<Library> {
    library.get_or_init(|| LazyHash::new(Library::default()))
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Engine({} faces)", self.faces.len())
    }
}

impl Engine {
    /// This engine's fonts and `extra` after them: a family both have is
    /// taken from the embedded faces, which Typst finds first.
    pub fn with_fonts(&self, extra: Vec<Font>) -> Engine {
        let mut faces = self.faces.to_vec();
        faces.extend(extra.into_iter().map(Face::loaded));
        Engine::with_faces(Arc::clone(&self.library), faces)
    }

    fn with_faces(library: Arc<OnceLock<LazyHash<Library>>>, faces: Vec<Face>) -> Engine {
        Engine {
            library,
            book: Arc::new(LazyHash::new(FontBook::from_infos(
                faces.iter().map(|f| f.info.clone()),
            ))),
            faces: faces.into(),
        }
    }

    /// Family names as the fonts spell them, sorted.
    pub fn families(&self) -> Vec<String> {
        let mut names: Vec<String> = self.faces.iter().map(|f| f.info.family.clone()).collect();
        names.sort();
        names.dedup();
        names
    }

    /// Each family with its styles, e.g. `TeX Gyre Termes: regular, bold,
    /// italic, bold italic`, sorted.
    pub fn variants(&self) -> Vec<String> {
        let mut styles: std::collections::BTreeMap<&str, Vec<(u16, u8, String)>> =
            std::collections::BTreeMap::new();
        for face in self.faces.iter() {
            let info = &face.info;
            let italic = !matches!(info.variant.style, typst::text::FontStyle::Normal);
            let weight = info.variant.weight.to_number();
            let name = match (weight, italic) {
                (400, false) => "regular".to_string(),
                (400, true) => "italic".to_string(),
                (700, false) => "bold".to_string(),
                (700, true) => "bold italic".to_string(),
                (w, false) => format!("weight {w}"),
                (w, true) => format!("weight {w} italic"),
            };
            let entry = (weight, u8::from(italic), name);
            let list = styles.entry(&info.family).or_default();
            if !list.contains(&entry) {
                list.push(entry);
            }
        }
        styles
            .into_iter()
            .map(|(family, mut list)| {
                list.sort();
                let names: Vec<String> = list.into_iter().map(|(_, _, n)| n).collect();
                format!("{family}: {}", names.join(", "))
            })
            .collect()
    }

    pub fn has_family(&self, name: &str) -> bool {
        self.book.contains_family(&name.to_lowercase())
    }

    /// The characters of `text` that would print as an empty box, each
    /// once: those no embedded font has (Typst says nothing about them),
    /// and invisible format characters such as U+200B and U+FEFF.
    pub fn undrawable(&self, text: &str) -> Vec<char> {
        let mut found = Vec::new();
        for c in text.chars().filter(|c| !c.is_whitespace()) {
            let invisible =
                matches!(c, '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}');
            let missing = || {
                !self
                    .faces
                    .iter()
                    .any(|f| f.info.coverage.contains(c as u32))
            };
            if (invisible || missing()) && !found.contains(&c) {
                found.push(c);
            }
        }
        found
    }

    /// Compiles a figure. `auto_size` says which page dimensions Typst
    /// sized to the content (width, height); those snap up to `SNAP_PT`.
    pub fn compile(
        &self,
        source: String,
        auto_size: (bool, bool),
    ) -> Result<Compiled, CompileError> {
        let world = SealedWorld {
            engine: self,
            source: Source::detached(source),
        };
        let Warned { output, warnings } = typst::compile::<PagedDocument>(&world);
        let warnings = warnings.iter().map(|d| world.diagnostic(d)).collect();
        match output {
            Ok(document) => {
                let (document, snap) = snap(document, auto_size);
                let geometry = Geometry::read(&document);
                Ok(Compiled {
                    document,
                    warnings,
                    geometry,
                    snap,
                })
            }
            Err(errors) => Err(CompileError {
                source: world.source.text().to_string(),
                diagnostics: errors.iter().map(|d| world.diagnostic(d)).collect(),
            }),
        }
    }
}

/// Auto-sized pages grow to a whole multiple of 1/150 in, so that PNGs at
/// 150, 300 and 600 DPI have whole, exactly proportional pixel sizes. Done
/// here rather than in Typst, where it would mean laying the figure out twice.
pub(crate) const SNAP_PT: f64 = 72.0 / 150.0;

/// Returns the snapped document and what the first page grew by, in pt.
fn snap(document: PagedDocument, (width, height): (bool, bool)) -> (PagedDocument, (f64, f64)) {
    let up = |v: Abs, on: bool| {
        if on {
            Abs::pt((v.to_pt() / SNAP_PT - 1e-9).ceil() * SNAP_PT)
        } else {
            v
        }
    };
    let mut pages = document.pages().to_vec();
    let mut grown = None;
    for page in &mut pages {
        let size = page.frame.size();
        let snapped = Size::new(up(size.x, width), up(size.y, height));
        grown.get_or_insert(((snapped.x - size.x).to_pt(), (snapped.y - size.y).to_pt()));
        page.frame.set_size(snapped);
    }
    let document = PagedDocument::new(pages.into(), document.info().clone());
    (document, grown.unwrap_or_default())
}

pub struct Compiled {
    pub document: PagedDocument,
    pub warnings: Vec<Diagnostic>,
    pub geometry: Geometry,
    /// What snapping added to the page's width and height, in pt: the
    /// `typ` output adds it as margin to compile to the same page.
    pub snap: (f64, f64),
}

/// A Typst error or warning, located in the generated source.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub error: bool,
    pub message: String,
    pub hints: Vec<String>,
    pub span: Option<Range<usize>>,
}

/// The generated source failed to compile: a template bug, or a value the
/// template did not expect. The source is kept for the report.
#[derive(Debug)]
pub struct CompileError {
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first = self
            .diagnostics
            .first()
            .map_or("unknown error", |d| d.message.as_str());
        write!(f, "typst: {first}")
    }
}

impl std::error::Error for CompileError {}

/// Where the template put the cells, read back from its metadata: in
/// points from the page's top-left. Lets tests and checks look at pixels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Geometry {
    pub page_width: f64,
    pub page_height: f64,
    /// Cell pitch, gap included.
    pub cell_width: f64,
    pub cell_height: f64,
    /// How much cell text was shrunk to fit (1 = not at all).
    pub text_scale: f64,
    /// The scale the cells' width and height each leave room for
    /// (infinite for a side that grows with the text).
    pub fit_width: f64,
    pub fit_height: f64,
    /// The cell pitch at which the text would be at full size (0 when the
    /// template does not say).
    pub full_cell_width: f64,
    pub full_cell_height: f64,
    pub cells: Vec<CellBox>,
    /// The colorbar's gradient, low end at the bottom.
    pub colorbar: Option<BarBox>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarBox {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellBox {
    /// The panel's index; 0 in a figure of one sweep.
    pub panel: usize,
    pub row: usize,
    pub col: usize,
    pub x: f64,
    pub y: f64,
}

impl Geometry {
    fn read(document: &PagedDocument) -> Geometry {
        let introspector = document.introspector();
        let query = |name: &str| {
            introspector.query(&Selector::Label(
                Label::new(PicoStr::intern(name)).expect("non-empty label"),
            ))
        };
        // A custom template may report no layout: its text is as written.
        let mut geometry = Geometry {
            text_scale: 1.0,
            fit_width: f64::INFINITY,
            fit_height: f64::INFINITY,
            ..Geometry::default()
        };
        if let Some(page) = document.pages().first() {
            geometry.page_width = page.frame.width().to_pt();
            geometry.page_height = page.frame.height().to_pt();
        }
        if let Some(layout) = query("memheat-layout").first().and_then(metadata) {
            geometry.text_scale = number(&layout, "scale").unwrap_or(1.0);
            geometry.fit_width = number(&layout, "fit-w").unwrap_or(f64::INFINITY);
            geometry.fit_height = number(&layout, "fit-h").unwrap_or(f64::INFINITY);
            geometry.cell_width = number(&layout, "cell-w").unwrap_or(0.0);
            geometry.cell_height = number(&layout, "cell-h").unwrap_or(0.0);
            geometry.full_cell_width = number(&layout, "full-w").unwrap_or(0.0);
            geometry.full_cell_height = number(&layout, "full-h").unwrap_or(0.0);
        }
        for elem in query("memheat-cell").iter() {
            let (Some(dict), Some(location)) = (metadata(elem), elem.location()) else {
                continue;
            };
            let Some(position) = introspector.position(location) else {
                continue;
            };
            if let (Some(row), Some(col)) = (number(&dict, "row"), number(&dict, "col")) {
                geometry.cells.push(CellBox {
                    panel: number(&dict, "panel").unwrap_or(0.0) as usize,
                    row: row as usize,
                    col: col as usize,
                    x: position.point.x.to_pt(),
                    y: position.point.y.to_pt(),
                });
            }
        }
        geometry.cells.sort_by_key(|c| (c.panel, c.row, c.col));
        geometry.colorbar = query("memheat-colorbar").first().and_then(|elem| {
            let dict = metadata(elem)?;
            let position = introspector.position(elem.location()?)?;
            Some(BarBox {
                x: position.point.x.to_pt(),
                y: position.point.y.to_pt(),
                width: number(&dict, "w")?,
                height: number(&dict, "h")?,
            })
        });
        geometry
    }
}

fn metadata(elem: &typst::foundations::Content) -> Option<Dict> {
    match &elem.to_packed::<MetadataElem>()?.value {
        Value::Dict(d) => Some(d.clone()),
        _ => None,
    }
}

fn number(dict: &Dict, key: &str) -> Option<f64> {
    match dict.get(key).ok()? {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Length(l) => Some(l.abs.to_pt()),
        Value::Ratio(r) => Some(r.get()),
        _ => None,
    }
}

struct SealedWorld<'a> {
    engine: &'a Engine,
    source: Source,
}

impl SealedWorld<'_> {
    fn diagnostic(&self, d: &SourceDiagnostic) -> Diagnostic {
        Diagnostic {
            error: d.severity == Severity::Error,
            message: d.message.to_string(),
            hints: d.hints.iter().map(|h| h.v.to_string()).collect(),
            span: self.range(d.span),
        }
    }
}

impl World for SealedWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        standard_library(&self.engine.library)
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.engine.book
    }

    fn main(&self) -> typst::syntax::FileId {
        self.source.id()
    }

    fn source(&self, id: typst::syntax::FileId) -> FileResult<Source> {
        if id == self.source.id() {
            Ok(self.source.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: typst::syntax::FileId) -> FileResult<Bytes> {
        if id == self.source.id() {
            Ok(Bytes::from_string(self.source.text().to_string()))
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.engine.faces.get(index)?.font()
    }

    /// Fixed, so `datetime.today()` cannot make two builds differ.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Datetime::from_ymd(2000, 1, 1)
    }
}
