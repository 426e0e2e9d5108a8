//! The last stages: every format's bytes, rendered before anything is
//! written, then written atomically.

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;

use super::{Figure, Model, Output, Rendered, Timings, Written};
use crate::export::{self, ExportError};
use crate::spec::Format;
use crate::{Error, numbers, output, paths, table};

/// Every target's bytes, before anything is written, so a failure leaves
/// the previous outputs as they were. Formats render on both cores.
pub fn render(model: &Model, figure: &Figure) -> Result<Rendered, Error> {
    let _watched = model.watched();
    let document = &figure.compiled.document;
    let rendered: Vec<_> = model
        .targets
        .par_iter()
        .map(|(format, path)| {
            let start = Instant::now();
            let bytes = match format {
                Format::Pdf => export::pdf(document, &model.spec.output),
                Format::Png => export::png(document, model.dpi),
                Format::Svg => export::svg(document, &svg_title(model, figure), &figure.alt),
                Format::Typ => Ok(figure.source.clone().into_bytes()),
                Format::Tex => Ok(numbers::render(
                    model.data(&figure.table),
                    numbers::DataFormat::Tex,
                    &numbers::default_name(&model.spec_path),
                )
                .into_bytes()),
            };
            (format.extension(), path, bytes, start.elapsed())
        })
        .collect();
    let mut timings = Timings::default();
    let mut outputs = Vec::with_capacity(rendered.len());
    for (stage, path, bytes, elapsed) in rendered {
        timings.stages.push((stage, elapsed));
        outputs.push(Output {
            path: path.clone(),
            bytes: bytes?,
        });
    }
    Ok(Rendered { outputs, timings })
}

/// The SVG's `<title>`: the figure's, else what its colours show.
fn svg_title(model: &Model, figure: &Figure) -> String {
    figure
        .table
        .title
        .clone()
        .unwrap_or_else(|| table::color_title(&model.spec))
}

/// Writes every output that changed atomically, dated [`Model::started`],
/// after making sure that none of them would replace a file the build
/// read.
pub fn write(model: &Model, outputs: &[Output]) -> Result<Written, Error> {
    let mut timings = Timings::default();
    let unchanged = timings.time("write", || {
        for output in outputs {
            if let Some(input) = paths::clobbers(&output.path, &model.deps.files) {
                return Err(ExportError::WouldOverwrite {
                    output: output.path.clone(),
                    input,
                });
            }
        }
        let files: Vec<(&Path, &[u8])> = outputs
            .iter()
            .map(|o| (o.path.as_path(), o.bytes.as_slice()))
            .collect();
        output::write_all(&files, Some(model.started))
    })?;
    Ok(Written { unchanged, timings })
}
