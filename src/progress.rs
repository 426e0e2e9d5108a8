//! What a build is doing, for a progress display: the library says, the
//! command line shows (or not).

use std::path::Path;
use std::sync::Arc;

/// Told what each spec's build is doing. Called from worker threads.
pub trait Progress: Send + Sync {
    /// `spec`'s build starts `stage`, which takes `steps` calls of
    /// [`Progress::step`] (0: no steps, just a stage).
    fn stage(&self, spec: &Path, stage: &'static str, steps: u64);
    fn step(&self, spec: &Path);
    /// `spec`'s build ended, either way.
    fn done(&self, spec: &Path);
}

/// A shared [`Progress`], for [`crate::BuildOptions`].
#[derive(Clone)]
pub struct ProgressSink(pub Arc<dyn Progress>);

impl std::fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressSink")
    }
}

/// One spec's view of an optional sink.
#[derive(Clone, Copy)]
pub(crate) struct Report<'a> {
    sink: Option<&'a dyn Progress>,
    spec: &'a Path,
}

impl<'a> Report<'a> {
    pub(crate) fn new(sink: Option<&'a ProgressSink>, spec: &'a Path) -> Report<'a> {
        Report {
            sink: sink.map(|s| s.0.as_ref()),
            spec,
        }
    }

    pub(crate) fn stage(self, stage: &'static str, steps: u64) {
        if let Some(sink) = self.sink {
            sink.stage(self.spec, stage, steps);
        }
    }

    pub(crate) fn step(self) {
        if let Some(sink) = self.sink {
            sink.step(self.spec);
        }
    }

    pub(crate) fn done(self) {
        if let Some(sink) = self.sink {
            sink.done(self.spec);
        }
    }
}
