//! The PNG, drawn as two halves at once.
//!
//! typst-render draws a page on one thread, and the encoder can only start
//! when it is done: the longest stage of the example's build. Here each half
//! of the page is drawn on its own core, on a canvas with the page's origin
//! and scale, so every pixel is the one a whole-page render gives; what
//! cannot reach a half is left out of it. The top half is encoded while the
//! bottom one is still being drawn.

use std::io::Write;
use std::ops::Range;

use tiny_skia::Pixmap;
use typst::layout::{Abs, Frame, FrameItem, GroupItem, Point, Rect, Size, Transform};
use typst::text::TextItem;
use typst::utils::Scalar;
use typst::visualize::Paint;
use typst_layout::Page;
use typst_render::RenderOptions;

use super::ExportError;

/// Pages with fewer pixels are drawn in halves; above it, a second canvas
/// costs more memory than the time it saves is worth.
const MAX_SPLIT_PIXELS: u64 = 32_000_000;

/// Pages with fewer rows are drawn whole.
const MIN_SPLIT_ROWS: u32 = 64;

/// Rows drawn past the end of the top half's canvas and not kept.
const EDGE_ROWS: u32 = 8;

/// Pixels of anti-aliasing around an edge, kept when culling.
const AA_PIXELS: f64 = 2.0;

pub(super) fn png(page: &Page, dpi: u32) -> Result<Vec<u8>, ExportError> {
    let pixel_per_pt = f64::from(dpi) / 72.0;
    // The canvas size as typst-render computes it.
    let scale = pixel_per_pt as f32;
    let width = (scale * page.frame.width().to_pt() as f32).round().max(1.0) as u32;
    let height = (scale * page.frame.height().to_pt() as f32)
        .round()
        .max(1.0) as u32;
    // Source-over onto an opaque fill stays opaque: no alpha to encode.
    let opaque = matches!(
        page.fill_or_white(),
        Some(Paint::Solid(color)) if color.alpha().is_none_or(|a| a >= 1.0)
    );

    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(if opaque {
        png::ColorType::Rgb
    } else {
        png::ColorType::Rgba
    });
    encoder.set_depth(png::BitDepth::Eight);
    // fdeflate: a quarter of the default level's time for files ~40% larger
    // (measured on the example: 5 ms / 350 KB against 21 ms / 250 KB at 300 DPI).
    encoder.set_compression(png::Compression::Fast);
    // Paeth on every row rather than the best of five per row: on the
    // example a millisecond less of the build's last stage for a file 5%
    // larger (354 KB against 338 KB); Up, the `Fastest` choice, makes it 30% larger.
    encoder.set_filter(png::Filter::Paeth);
    let per_metre = (f64::from(dpi) / 0.0254).round() as u32;
    encoder.set_pixel_dims(Some(png::PixelDimensions {
        xppu: per_metre,
        yppu: per_metre,
        unit: png::Unit::Meter,
    }));
    let mut writer = encoder.write_header()?;
    let mut rows = RowWriter {
        stream: writer.stream_writer()?,
        opaque,
        row: Vec::with_capacity(width as usize * 4),
    };

    let draw = Draw {
        page,
        options: RenderOptions {
            pixel_per_pt: Scalar::new(pixel_per_pt),
            render_bleed: false,
        },
        pixel_per_pt,
    };
    let pixels = u64::from(width) * u64::from(height);
    if height < MIN_SPLIT_ROWS || pixels > MAX_SPLIT_PIXELS {
        rows.write(&typst_render::render(page, &draw.options), 0..height)?;
    } else {
        let split = height / 2;
        let (top, bottom) = rayon::join(
            || rows.write(&draw.rows(0..split), 0..split),
            || draw.rows(split..height),
        );
        top?;
        rows.write(&bottom, split..height)?;
    }
    rows.finish()?;
    writer.finish()?;
    Ok(out)
}

struct Draw<'a> {
    page: &'a Page,
    options: RenderOptions,
    pixel_per_pt: f64,
}

impl Draw<'_> {
    /// A canvas whose rows `rows` are those of the whole page's render.
    /// A half that starts at the top gets a canvas that ends a little after
    /// it (tiny-skia anti-aliases a path differently next to the canvas's
    /// edge); the page sits in it as a group at the origin, so nothing moves.
    fn rows(&self, rows: Range<u32>) -> Pixmap {
        let page = self.page;
        let top = Abs::pt(f64::from(rows.start) / self.pixel_per_pt);
        let bottom = Abs::pt(f64::from(rows.end) / self.pixel_per_pt);
        let canvas_bottom = Abs::pt(f64::from(rows.end + EDGE_ROWS) / self.pixel_per_pt);
        let reach = Abs::pt(AA_PIXELS / self.pixel_per_pt);
        let content = cull(
            &page.frame,
            Transform::identity(),
            &((top - reach)..(bottom + reach)),
        );
        let frame = if rows.start == 0 {
            let mut frame = Frame::hard(Size::new(page.frame.width(), canvas_bottom));
            frame.push(Point::zero(), FrameItem::Group(GroupItem::new(content)));
            frame
        } else {
            content
        };
        let page = Page {
            frame,
            ..page.clone()
        };
        typst_render::render(&page, &self.options)
    }
}

/// Feeds canvas rows to the PNG stream, demultiplied as tiny-skia's
/// `take_demultiplied` does, without a copy of the canvas.
struct RowWriter<'a, W: Write> {
    stream: png::StreamWriter<'a, W>,
    opaque: bool,
    row: Vec<u8>,
}

impl<W: Write> RowWriter<'_, W> {
    fn write(&mut self, canvas: &Pixmap, rows: Range<u32>) -> Result<(), ExportError> {
        let width = canvas.width() as usize;
        let pixels = &canvas.pixels()[rows.start as usize * width..rows.end as usize * width];
        for line in pixels.chunks_exact(width) {
            self.row.clear();
            if self.opaque {
                self.row
                    .extend(line.iter().flat_map(|p| [p.red(), p.green(), p.blue()]));
            } else {
                self.row.extend(line.iter().flat_map(|p| {
                    let c = p.demultiply();
                    [c.red(), c.green(), c.blue(), c.alpha()]
                }));
            }
            self.stream
                .write_all(&self.row)
                .map_err(|e| ExportError::Png(e.into()))?;
        }
        Ok(())
    }

    fn finish(self) -> Result<(), ExportError> {
        Ok(self.stream.finish()?)
    }
}

/// `frame` without the text and shapes that cannot reach `span` (page
/// coordinates) when `ts` places the frame on the page. typst-render draws
/// all it is given, on the canvas or off it: each glyph is rasterised and
/// each gradient and tiling sampled, so without this each half would cost
/// nearly as much as the page.
fn cull(frame: &Frame, ts: Transform, span: &Range<Abs>) -> Frame {
    let mut kept = Frame::new(frame.size(), frame.kind());
    for (pos, item) in frame.items() {
        let at = ts.pre_concat(Transform::translate(pos.x, pos.y));
        match item {
            FrameItem::Group(group) => {
                let mut group = group.clone();
                group.frame = cull(&group.frame, at.pre_concat(group.transform), span);
                kept.push(*pos, FrameItem::Group(group));
            }
            FrameItem::Text(text) if !reaches(glyph_bounds(text), at, span) => {}
            FrameItem::Shape(shape, _) if !reaches(shape.bbox(true), at, span) => {}
            _ => kept.push(*pos, item.clone()),
        }
    }
    kept
}

/// A box around every glyph of `text`: its font's bounding box (the head
/// table's, which holds every glyph of the font), shifts and stroke.
fn glyph_bounds(text: &TextItem) -> Rect {
    let bbox = text.font.ttf().global_bounding_box();
    let em = |units: i16| text.size * (f64::from(units) / text.font.units_per_em());
    let shift = text
        .glyphs
        .iter()
        .map(|g| g.y_offset.at(text.size).abs())
        .fold(Abs::zero(), Abs::max);
    let stroke = text.stroke.as_ref().map_or(Abs::zero(), |s| s.thickness);
    let out = shift + stroke;
    Rect::new(
        Point::new(em(bbox.x_min) - stroke, -em(bbox.y_max) - out),
        Point::new(
            text.width() + em(bbox.x_max) + stroke,
            -em(bbox.y_min) + out,
        ),
    )
}

/// Whether `rect`, placed on the page by `at`, overlaps `span` vertically.
fn reaches(rect: Rect, at: Transform, span: &Range<Abs>) -> bool {
    let ys = [
        rect.min,
        Point::new(rect.max.x, rect.min.y),
        Point::new(rect.min.x, rect.max.y),
        rect.max,
    ]
    .map(|p| p.transform(at).y);
    let top = ys.iter().copied().fold(Abs::inf(), Abs::min);
    let bottom = ys.iter().copied().fold(-Abs::inf(), Abs::max);
    top < span.end && bottom > span.start
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::Engine;

    /// Text on every line, so some straddles the halves; rotated text,
    /// drawn as paths; a gradient and a tiling, which typst-render samples
    /// per shape, the tiling starting on a pixel boundary at 300 DPI.
    const PAGE: &str = r#"
#set page(width: 200pt, height: 97pt, margin: 4pt, fill: FILL)
#set text(size: 7pt)
#place(top + right, rotate(-90deg, reflow: true)[Rotated title text])
#place(bottom + left, rect(width: 60pt, height: 40pt, fill: gradient.linear(red, blue, dir: btt)))
#place(bottom + center, rect(width: 50pt, height: 30pt, fill: tiling(size: (5pt, 5pt),
  line(start: (0pt, 5pt), end: (5pt, 0pt)))))
#for i in range(11) [Line #i of text, across the halves \ ]
"#;

    /// The PNG's pixels as RGBA, and whether it had an alpha channel.
    fn decode(png: &[u8]) -> (u32, u32, bool, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut data = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut data).unwrap();
        let alpha = info.color_type == png::ColorType::Rgba;
        let rgba = if alpha {
            data
        } else {
            assert_eq!(info.color_type, png::ColorType::Rgb);
            data.chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect()
        };
        (info.width, info.height, alpha, rgba)
    }

    fn assert_same_as_one_render(source: &str, dpi: u32, alpha: bool) {
        let compiled = Engine::default()
            .compile(source.into(), (false, false))
            .unwrap();
        let page = &compiled.document.pages()[0];
        let options = RenderOptions {
            pixel_per_pt: Scalar::new(f64::from(dpi) / 72.0),
            render_bleed: false,
        };
        let whole = typst_render::render(page, &options);
        let (width, height, has_alpha, pixels) = decode(&png(page, dpi).unwrap());
        assert_eq!(
            (width, height),
            (whole.width(), whole.height()),
            "{dpi} DPI"
        );
        assert_eq!(has_alpha, alpha, "{dpi} DPI");
        let whole = whole.take_demultiplied();
        let inked = whole.chunks_exact(4).filter(|p| p != &[255; 4]).count();
        assert!(
            inked * 10 > whole.len() / 4,
            "{dpi} DPI: only {inked} inked pixels"
        );
        let first = whole.iter().zip(&pixels).position(|(a, b)| a != b);
        assert!(
            first.is_none(),
            "{dpi} DPI: first difference at pixel {:?}",
            first.map(|i| (i / 4 % width as usize, i / 4 / width as usize))
        );
    }

    #[test]
    fn halves_draw_the_pixels_of_one_render_of_the_page() {
        // 97, 404 and 406 rows: halves of odd and even height, a scale of
        // a whole number of pixels per point and one of a fraction.
        for dpi in [72, 300, 301] {
            assert_same_as_one_render(&PAGE.replace("FILL", "white"), dpi, false);
        }
    }

    #[test]
    fn a_transparent_page_keeps_its_alpha() {
        assert_same_as_one_render(&PAGE.replace("FILL", "none"), 150, true);
        assert_same_as_one_render(&PAGE.replace("FILL", "rgb(255, 255, 255, 50%)"), 150, true);
    }

    #[test]
    fn a_page_of_few_rows_is_drawn_whole() {
        let short = PAGE
            .replace("FILL", "white")
            .replace("height: 97pt", "height: 40pt");
        assert_same_as_one_render(&short, 72, false);
    }
}
