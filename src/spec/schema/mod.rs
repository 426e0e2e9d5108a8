//! The spec's structure: every key, and the default that reproduces the
//! original figure when it is absent.

use std::path::PathBuf;

mod defaults;
mod inputs;
mod looks;

use serde::Deserialize;

pub(crate) use defaults::{default_log_line, tracer_filename};
pub(crate) use inputs::*;
pub(crate) use looks::*;

use super::values::*;
use super::{Key, KeyError};
use defaults::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Spec {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub subtitle: Option<String>,
    /// The sweep; with `panels`, what every panel's `inputs` is merged over
    /// (and then `None`: the panels hold the merged result).
    #[serde(default)]
    pub inputs: Option<Inputs>,
    /// Several sweeps side by side, sharing everything but their inputs,
    /// titles and axis values.
    #[serde(default)]
    pub panels: Vec<Panel>,
    #[serde(default)]
    pub units: Units,
    #[serde(default)]
    pub axes: Axes,
    #[serde(default)]
    pub color: ColorSpec,
    #[serde(default = "default_thresholds")]
    pub thresholds: Vec<Threshold>,
    #[serde(default)]
    pub cells: Cells,
    #[serde(default)]
    pub style: Style,
    #[serde(default)]
    pub output: Output,
    #[serde(default)]
    pub fonts: Fonts,
    /// A custom minijinja template for the Typst source, relative to the
    /// spec's directory; the built-in one by default (`memheat template`).
    #[serde(default)]
    pub template: Option<PathBuf>,
    /// Turn every data warning into a failing build.
    #[serde(default)]
    pub strict: bool,
}

/// One sweep of a figure with `panels`. Its `inputs` and `axes` are the
/// top level's with the panel's own keys merged over them, as `extends`
/// merges (see `layers::expand_panels`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Panel {
    #[serde(deserialize_with = "not_null")]
    pub title: String,
    pub inputs: Inputs,
    #[serde(default)]
    pub axes: Axes,
}

/// A sweep to draw, as the stages after parsing see it: the spec's own
/// `inputs` and `axes`, or one panel's.
#[derive(Debug, Clone, Copy)]
pub struct Part<'s> {
    /// The panel's index; `None` for a spec without panels.
    pub panel: Option<usize>,
    pub title: Option<&'s str>,
    pub inputs: &'s Inputs,
    pub axes: &'s Axes,
}

impl<'s> Part<'s> {
    /// `keys` of this part: under `panels[i]` for a panel. Where the panel
    /// does not write the key, [`super::Sources`] finds the top-level one.
    pub fn keys(&self, keys: &[Key<'static>]) -> Vec<Key<'static>> {
        let mut at = match self.panel {
            Some(i) => vec![Key::Field("panels"), Key::Index(i)],
            None => vec![],
        };
        at.extend_from_slice(keys);
        at
    }

    /// How messages name the panel: `panels[1] (175B)`.
    pub fn name(&self) -> Option<String> {
        let i = self.panel?;
        Some(format!("panels[{i}] ({})", self.title.unwrap_or_default()))
    }

    /// `message`, naming the panel it is about.
    pub fn named(&self, message: &str) -> String {
        match self.name() {
            Some(name) => format!("{name}: {message}"),
            None => message.to_string(),
        }
    }

    /// An error about this part's keys, naming the panel.
    pub fn error(&self, e: KeyError) -> KeyError {
        KeyError {
            keys: self.keys(&e.keys),
            message: self.named(&e.message),
            hint: e.hint,
        }
    }
}

impl Spec {
    /// The sweeps to draw: one per panel, or the spec's own. `check`
    /// guarantees `inputs` where there are no panels.
    pub fn parts(&self) -> Vec<Part<'_>> {
        if self.panels.is_empty() {
            return self
                .inputs
                .iter()
                .map(|inputs| Part {
                    panel: None,
                    title: None,
                    inputs,
                    axes: &self.axes,
                })
                .collect();
        }
        self.panels
            .iter()
            .enumerate()
            .map(|(i, p)| Part {
                panel: Some(i),
                title: Some(&p.title),
                inputs: &p.inputs,
                axes: &p.axes,
            })
            .collect()
    }
}

/// Fonts beside the embedded ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Fonts {
    /// Directories searched (with their subdirectories) for font files,
    /// relative to the file that lists them.
    #[serde(default)]
    #[serde(deserialize_with = "not_null")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Output {
    /// Base path without extension, relative to the spec's directory;
    /// defaults to the spec's own path without `.yaml`.
    pub path: Option<PathBuf>,
    #[serde(default = "default_formats")]
    pub formats: Vec<Format>,
    #[serde(default = "default_dpi")]
    pub dpi: u32,
    #[serde(default = "default_pdf_version")]
    pub pdf_version: PdfVersion,
    /// Also conform to a PDF/A standard; it fixes its own PDF version.
    #[serde(default)]
    pub pdf_a: Option<PdfArchival>,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            path: None,
            formats: default_formats(),
            dpi: default_dpi(),
            pdf_version: default_pdf_version(),
            pdf_a: None,
        }
    }
}
