//! What an absent key means: the defaults that reproduce the original
//! figure.

use super::*;
use crate::colormap::Color;
use crate::spec::values::*;

pub(super) fn default_thresholds() -> Vec<Threshold> {
    vec![Threshold {
        metric: "theory".into(),
        above: Some(80.0),
        at_least: None,
        below: None,
        at_most: None,
        mark: Mark::Hatch,
        color: None,
        label: None,
    }]
}
/// The memory tracer's file names, read when `inputs.filename` is absent.
pub(crate) fn tracer_filename() -> Pattern {
    Pattern::try_from(
        r"memory_trace_rank(?P<rank>\d+)_wd(?P<wd>\d+)_tp(?P<tp>\d+)_pp(?P<pp>\d+)_dp(?P<dp>\d+)_.*?_l(?P<layers>\d+)_mbs(?P<mbs>\d+)_nmbs(?P<nmbs>\d+)_gbs(?P<gbs>\d+)_ts(?P<ts>\d+)\.json"
            .to_string(),
    )
    .expect("the default filename pattern is valid")
}
/// The sweep script's `Config N: TP=…, PP=…` lines, read when
/// `inputs.logs.line` is absent for success and failure logs. Spaces
/// around `=` are a harmless variant, not another format.
pub(crate) fn default_log_line() -> Pattern {
    Pattern::try_from(
        r"^Config\s+(?P<seq>\d+):\s*TP\s*=\s*(?P<tp>\d+),\s*PP\s*=\s*(?P<pp>\d+)".to_string(),
    )
    .expect("the default log pattern is valid")
}
pub(super) fn default_rank() -> String {
    "0".into()
}
pub(super) fn default_newest_by() -> String {
    "ts".into()
}
pub(super) fn default_input_unit() -> Unit {
    Unit::MiB
}
pub(super) fn default_display_unit() -> Unit {
    Unit::GiB
}
/// In GiB.
pub(super) const MEMORY_RANGE: [f64; 2] = [0.0, 80.0];
pub(super) fn default_metric() -> String {
    "actual".into()
}
pub(super) fn default_ticks() -> u32 {
    5
}
pub(super) fn default_decimals() -> u8 {
    1
}
pub(super) fn default_failed() -> StateStyle {
    StateStyle {
        text: "—".into(),
        // Luma 204: apart from the white low end of the sequential maps, and
        // from the lowest measured cells, on a grayscale print.
        fill: Some(Color([0xCC, 0xCC, 0xCC])),
        label: Some("Failed (OOM)".into()),
    }
}
pub(super) fn default_invalid() -> StateStyle {
    StateStyle {
        text: "no data".into(),
        fill: None,
        label: Some("No usable trace".into()),
    }
}
pub(super) fn default_missing() -> StateStyle {
    StateStyle {
        text: String::new(),
        fill: None,
        // A blank cell the legend does not explain reads as a drawing bug.
        label: Some("No record".into()),
    }
}
pub(super) fn default_min_font_size() -> Length {
    Length(5.0)
}
pub(super) fn default_gap() -> Length {
    Length(1.0)
}
pub(super) fn default_gap_color() -> Color {
    Color::WHITE
}
pub(super) fn default_true() -> bool {
    true
}
pub(super) fn default_formats() -> Vec<Format> {
    vec![Format::Pdf, Format::Png]
}
pub(super) fn default_dpi() -> u32 {
    300
}
pub(super) fn default_pdf_version() -> PdfVersion {
    PdfVersion::V1_5
}
