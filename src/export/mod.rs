//! Turns the compiled page into the bytes of each format; `output`
//! writes them.

use std::path::PathBuf;

use typst::foundations::{Datetime, Smart};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use crate::spec::{Output, PdfArchival, PdfVersion};

mod raster;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// What typst-pdf said.
    #[error("PDF export failed: {}", .0.join("; "))]
    Pdf(Vec<String>),
    #[error(
        "PDF export failed: PDF/A needs a creation date, and memheat writes one only from SOURCE_DATE_EPOCH"
    )]
    PdfNeedsDate,
    #[error("PNG encoding failed: {0}")]
    Png(png::EncodingError),
    #[error("SVG export failed: typst-svg wrote no <svg> element")]
    SvgWithoutRoot,
    #[error(
        "the PNG would have {megapixels:.0} megapixels at {dpi} DPI, more than {} allowed",
        MAX_PNG_PIXELS / 1e6
    )]
    TooManyPixels { megapixels: f64, dpi: u32 },
    #[error("the figure has no page")]
    NoPage,
    #[error("cannot write `{}`: {reason}", crate::paths::shown(path))]
    Write { path: PathBuf, reason: String },
    #[error("{message}")]
    BadOutput { message: String, hint: String },
    #[error("cannot write to standard output: {0}")]
    Stdout(std::io::Error),
    #[error(
        "output `{}` would overwrite `{}`, which this build reads",
        crate::paths::shown(output),
        crate::paths::shown(input)
    )]
    WouldOverwrite { output: PathBuf, input: PathBuf },
}

// Not `#[from]`: the cause is in the message, and a `source()` as well
// would print it twice in a report that walks the chain.
impl From<png::EncodingError> for ExportError {
    fn from(e: png::EncodingError) -> Self {
        ExportError::Png(e)
    }
}

impl ExportError {
    /// What to do about it, when there is something to say.
    pub(crate) fn hint(&self) -> Option<String> {
        Some(match self {
            ExportError::BadOutput { hint, .. } => hint.clone(),
            ExportError::PdfNeedsDate => "set it, e.g. to the last commit's time: SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)".into(),
            ExportError::WouldOverwrite { .. } => "choose another `output.path` or -o; memheat never replaces a file it reads".into(),
            ExportError::TooManyPixels { .. } => "lower `output.dpi` or --dpi; 300 is print quality".into(),
            _ => return None,
        })
    }
}

/// A vector PDF with the fonts embedded. Byte-identical across runs: no
/// clock, no version string; `SOURCE_DATE_EPOCH` sets a creation date.
pub(crate) fn pdf(document: &PagedDocument, output: &Output) -> Result<Vec<u8>, ExportError> {
    let fail = ExportError::Pdf;
    let mut standards = vec![match output.pdf_version {
        PdfVersion::V1_4 => PdfStandard::V_1_4,
        PdfVersion::V1_5 => PdfStandard::V_1_5,
        PdfVersion::V1_6 => PdfStandard::V_1_6,
        PdfVersion::V1_7 => PdfStandard::V_1_7,
        PdfVersion::V2_0 => PdfStandard::V_2_0,
    }];
    // A PDF/A standard fixes its own version; listing both would conflict.
    if let Some(archival) = output.pdf_a {
        standards = vec![match archival {
            PdfArchival::A1b => PdfStandard::A_1b,
            PdfArchival::A2b => PdfStandard::A_2b,
            PdfArchival::A2u => PdfStandard::A_2u,
            PdfArchival::A3b => PdfStandard::A_3b,
            PdfArchival::A3u => PdfStandard::A_3u,
        }];
    }
    let standards =
        PdfStandards::new(&standards).map_err(|e| fail(vec![e.message().to_string()]))?;
    let timestamp = source_date_epoch();
    // A date from the clock would make every build differ.
    if output.pdf_a.is_some() && timestamp.is_none() {
        return Err(ExportError::PdfNeedsDate);
    }
    let options = PdfOptions {
        creator: Smart::Custom(Some("memheat".into())),
        timestamp,
        standards,
        ..PdfOptions::default()
    };
    typst_pdf::pdf(document, &options)
        .map_err(|errors| fail(errors.iter().map(|e| e.message.to_string()).collect()))
}

/// `SOURCE_DATE_EPOCH` as a PDF creation date (reproducible-builds.org).
fn source_date_epoch() -> Option<Timestamp> {
    let secs: i64 = std::env::var("SOURCE_DATE_EPOCH")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let t = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
    let datetime = Datetime::from_ymd_hms(
        t.year(),
        t.month().into(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    )?;
    Some(Timestamp::new_utc(datetime))
}

/// The page as SVG, text as paths-with-glyph-definitions (typst-svg), with
/// the figure's `<title>` and alternative text (`<desc>`) first, where
/// screen readers look for them.
pub(crate) fn svg(
    document: &PagedDocument,
    title: &str,
    desc: &str,
) -> Result<Vec<u8>, ExportError> {
    let page = document.pages().first().ok_or(ExportError::NoPage)?;
    let svg = typst_svg::svg(page, &typst_svg::SvgOptions::default());
    let text = format!(
        "<title>{}</title><desc>{}</desc>",
        xml_text(title),
        xml_text(desc)
    );
    // typst-svg writes no `>` inside the root's attributes.
    let at = svg
        .find("<svg")
        .and_then(|i| svg[i..].find('>').map(|j| i + j + 1));
    let at = at.ok_or(ExportError::SvgWithoutRoot)?;
    Ok([&svg[..at], &text, &svg[at..]].concat().into_bytes())
}

/// Character data for XML 1.0, which has no escape for most control
/// characters: they become spaces.
fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Largest PNG, in pixels.
pub const MAX_PNG_PIXELS: f64 = 200e6;

/// A PNG of the page at `dpi`, with the DPI recorded in its pHYs chunk so
/// LaTeX and viewers size it right (Typst's own encoder writes none);
/// refused before drawing when it would be larger than [`MAX_PNG_PIXELS`].
pub fn png(document: &PagedDocument, dpi: u32) -> Result<Vec<u8>, ExportError> {
    let page = document.pages().first().ok_or(ExportError::NoPage)?;
    let scale = f64::from(dpi) / 72.0;
    let pixels = (page.frame.width().to_pt() * scale).round()
        * (page.frame.height().to_pt() * scale).round();
    if pixels > MAX_PNG_PIXELS {
        return Err(ExportError::TooManyPixels {
            megapixels: pixels / 1e6,
            dpi,
        });
    }
    raster::png(page, dpi)
}
