//! A problem with one input file that does not stop the build: what
//! every stage collects and the edge prints, sorted, once each.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::spec::Part;

/// A problem with one input file; the build goes on. A record, not an
/// enum like [`crate::Error`]: errors are typed because callers branch on
/// them (hints, the spec key to point at), while nothing branches on a
/// warning, which is only sorted, counted and printed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    pub path: PathBuf,
    /// 1-based line, where the problem has one.
    pub line: Option<usize>,
    pub message: String,
}

impl Warning {
    pub fn new(path: &Path, message: impl Into<String>) -> Warning {
        Warning {
            path: path.to_path_buf(),
            line: None,
            message: message.into(),
        }
    }
}

impl Warning {
    /// This warning, naming the panel it is about.
    pub(crate) fn about(mut self, part: &Part) -> Warning {
        self.message = part.named(&self.message);
        self
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", crate::paths::shown(&self.path))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)
    }
}
