//! Everything that stops a build, and what a failed stage had read by
//! then. Rendered once, at the edge, by `diag`.

use std::path::PathBuf;

use crate::compile::CompileError;
use crate::export::ExportError;
use crate::spec::SpecError;
use crate::template::TemplateError;
use crate::{Deps, Warning, deps, init, paths, watch};

/// Everything that stops a build. Data problems are not here: they are
/// [`Warning`]s, unless `strict` makes them fatal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot read spec `{}`: {error}", path.display())]
    ReadSpec {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Spec(#[from] Box<SpecError>),
    #[error("{}: no usable data: {detail}", spec.display())]
    NoData { spec: PathBuf, detail: String },
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Watch(#[from] watch::WatchError),
    #[error(transparent)]
    Init(#[from] init::InitError),
    #[error("--font-path {}: {message}", paths::shown(path))]
    FontPath { path: PathBuf, message: String },
    #[error(transparent)]
    Deps(#[from] deps::UnrepresentablePath),
    #[error("{} warning(s), and strict mode is on", .0.len())]
    Strict(Vec<Warning>),
    #[error(transparent)]
    Budget(#[from] crate::compile::Overrun),
    /// The figure compiled but cannot be printed as it is: too large, or
    /// text too small to read.
    #[error("{}: {message}", paths::shown(spec))]
    Figure {
        spec: PathBuf,
        message: String,
        hint: String,
    },
}

// A depfile that would replace a file is refused as an output would be,
// with the same message and hint.
impl From<deps::DepfileError> for Error {
    fn from(e: deps::DepfileError) -> Self {
        match e {
            deps::DepfileError::Path(e) => Error::Deps(e),
            deps::DepfileError::Write(e) => Error::Export(e),
        }
    }
}

impl From<SpecError> for Error {
    fn from(e: SpecError) -> Self {
        Error::Spec(Box::new(e))
    }
}

/// A stage that failed, with what it had found by then: the warnings to
/// print before the error, and the files a depfile or watcher needs.
#[derive(Debug)]
pub struct Failed {
    pub error: Error,
    pub warnings: Vec<Warning>,
    pub deps: Deps,
}

impl Failed {
    /// `warnings` are those to print before the error; a strict-mode error
    /// holds the warnings it is about, and prints them itself.
    pub fn new(error: Error, warnings: Vec<Warning>, deps: Deps) -> Box<Failed> {
        let warnings = match error {
            Error::Strict(_) => vec![],
            _ => warnings,
        };
        Box::new(Failed {
            error,
            warnings,
            deps,
        })
    }
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl Error {
    /// What to do about it, for the errors that are one message; the
    /// others (spec, template, Typst and strict-mode errors) carry their
    /// hints with their places.
    pub(crate) fn hints(&self) -> Vec<String> {
        match self {
            Error::Export(e) => e.hint().into_iter().collect(),
            Error::Figure { hint, .. } => vec![hint.clone()],
            Error::Budget(overrun) => vec![overrun.hint()],
            Error::Watch(e) => vec![e.hint()],
            Error::Deps(e) => vec![e.hint()],
            Error::Init(e) => e.hint().into_iter().collect(),
            _ => vec![],
        }
    }

    /// The spec a whole-figure error is about, when the message does not
    /// already name a file.
    pub(crate) fn spec(&self) -> Option<&std::path::Path> {
        match self {
            Error::Figure { spec, .. } | Error::NoData { spec, .. } => Some(spec),
            Error::Budget(overrun) => Some(&overrun.job.spec),
            _ => None,
        }
    }
}
