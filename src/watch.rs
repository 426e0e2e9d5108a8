//! Waits for a change to what the last builds read: the `watch` command's event source.
//!
//! Directories are watched, not files: an editor that saves by writing a new file and renaming
//! it over the old one replaces the inode a file watch would hold, and a glob's directory must be
//! watched anyway to see a trace added or removed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::Deps;

/// Events closer together than this are one change: a save is several events, and a sweep
/// script writes many traces in a burst.
const QUIET: Duration = Duration::from_millis(30);
/// A steady stream of events does not put the rebuild off for longer than this.
const MAX_WAIT: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
#[error("cannot watch for changes: {0}")]
pub struct WatchError(notify::Error);

// Not `#[from]`: the cause is in the message, and a `source()` as well
// would print it twice in a report that walks the chain.
impl From<notify::Error> for WatchError {
    fn from(e: notify::Error) -> Self {
        WatchError(e)
    }
}

impl WatchError {
    /// What to do about it.
    pub(crate) fn hint(&self) -> String {
        "on Linux, a full inotify table is the usual cause: raise fs.inotify.max_user_watches, or stop other watchers".into()
    }
}

/// What counts as a change, by path. Paths are the form events arrive in: a canonical
/// directory joined with the entry's name.
#[derive(Debug, Default)]
struct Inputs {
    files: BTreeSet<PathBuf>,
    /// Glob directories: any entry added, removed or changed in one counts.
    dirs: BTreeSet<PathBuf>,
    /// Watched in place of a directory that does not exist yet.
    ancestors: BTreeSet<PathBuf>,
    /// Those directories: in an ancestor, only an entry on the way to one counts (anything
    /// else there, such as a log this very watch writes to, would rebuild forever).
    missing: BTreeSet<PathBuf>,
    /// Files the builds write, which must not trigger the next build.
    outputs: BTreeSet<PathBuf>,
    /// The files this process's stdout and stderr are, when redirected to files: a status line
    /// written into a watched directory must not trigger the next build either.
    own: Vec<FileId>,
}

/// A file's device and inode.
type FileId = (u64, u64);

/// `None` where the platform has no inodes: nothing is then recognised as our own output.
fn file_id(metadata: &std::fs::Metadata) -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        Some((metadata.dev(), metadata.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        None
    }
}

/// Where stdout and stderr go, if they are files.
fn own_output_files() -> Vec<FileId> {
    [dup(std::io::stdout()), dup(std::io::stderr())]
        .into_iter()
        .filter_map(|file| file?.metadata().ok())
        .filter(|m| m.is_file())
        .filter_map(|m| file_id(&m))
        .collect()
}

#[cfg(unix)]
fn dup(stream: impl std::os::fd::AsFd) -> Option<std::fs::File> {
    Some(stream.as_fd().try_clone_to_owned().ok()?.into())
}

#[cfg(not(unix))]
fn dup<T>(_: T) -> Option<std::fs::File> {
    None
}

pub(crate) struct Watcher {
    watcher: RecommendedWatcher,
    events: Receiver<notify::Result<notify::Event>>,
    watched: BTreeSet<PathBuf>,
    inputs: Inputs,
}

impl Watcher {
    pub(crate) fn new() -> Result<Watcher, WatchError> {
        let (sender, events) = channel();
        Ok(Watcher {
            watcher: notify::recommended_watcher(sender)?,
            events,
            watched: BTreeSet::new(),
            inputs: Inputs::default(),
        })
    }

    /// From now on, reports changes to the files and glob directories in `deps`, ignoring
    /// `outputs`. Returns how many files and directories that is.
    pub(crate) fn follow<'a>(
        &mut self,
        deps: impl IntoIterator<Item = &'a Deps>,
        outputs: &[PathBuf],
    ) -> Result<(usize, usize), WatchError> {
        let mut inputs = Inputs {
            outputs: outputs.iter().map(|p| event_path(p)).collect(),
            own: own_output_files(),
            ..Inputs::default()
        };
        for deps in deps {
            inputs
                .files
                .extend(deps.files.iter().map(|p| event_path(p)));
            inputs.dirs.extend(deps.dirs.iter().map(|d| canonical(d)));
        }
        let mut wanted: BTreeSet<PathBuf> = inputs.dirs.clone();
        wanted.extend(
            inputs
                .files
                .iter()
                .filter_map(|f| Some(f.parent()?.to_owned())),
        );
        let mut watch = BTreeSet::new();
        for dir in wanted {
            match existing_ancestor(&dir) {
                Some(found) if found == dir => watch.insert(dir),
                Some(found) => {
                    inputs.ancestors.insert(found.clone());
                    inputs.missing.insert(dir);
                    watch.insert(found)
                }
                None => false,
            };
        }
        for gone in self.watched.difference(&watch) {
            // Already gone with its directory, most likely; nothing to undo then.
            let _ = self.watcher.unwatch(gone);
        }
        for dir in watch.difference(&self.watched) {
            self.watcher.watch(dir, RecursiveMode::NonRecursive)?;
        }
        let counts = (inputs.files.len(), inputs.dirs.len());
        self.watched = watch;
        self.inputs = inputs;
        Ok(counts)
    }

    /// Blocks until something followed changes, then until events stop for a moment; returns
    /// the changed paths, sorted.
    pub(crate) fn changed(&mut self) -> Result<Vec<PathBuf>, WatchError> {
        let mut changed = BTreeSet::new();
        let mut first = None;
        loop {
            let event = match first {
                None => self.events.recv().map_err(|_| disconnected())?,
                Some(start) => {
                    let left = MAX_WAIT.saturating_sub(Instant::now() - start);
                    match self.events.recv_timeout(QUIET.min(left)) {
                        Ok(event) => event,
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return Err(disconnected()),
                    }
                }
            };
            let event = event?;
            if !matches!(event.kind, EventKind::Access(_)) {
                changed.extend(self.forget_replaced(&event.paths));
            }
            let relevant: Vec<&PathBuf> = if event.need_rescan() {
                // The kernel dropped events: something changed, no one knows what.
                self.watched.iter().collect()
            } else if matches!(event.kind, EventKind::Access(_)) {
                vec![]
            } else {
                event
                    .paths
                    .iter()
                    .filter(|p| self.inputs.counts(p))
                    .collect()
            };
            changed.extend(relevant.into_iter().cloned());
            if !changed.is_empty() {
                first.get_or_insert_with(Instant::now);
            }
        }
        Ok(changed.into_iter().collect())
    }

    /// The watched directories among `paths`, which an event names when the directory itself
    /// was removed, moved or made again. A watch follows the inode, not the path, so what is
    /// at the path now is not watched: each is forgotten (the next [`Watcher::follow`] watches
    /// what is there then, or its nearest ancestor), and counts as a change.
    fn forget_replaced(&mut self, paths: &[PathBuf]) -> Vec<PathBuf> {
        let replaced: Vec<PathBuf> = paths
            .iter()
            .filter(|p| self.watched.contains(*p))
            .cloned()
            .collect();
        for dir in &replaced {
            self.watched.remove(dir);
            // The kernel has dropped a deleted directory's watch already.
            let _ = self.watcher.unwatch(dir);
        }
        replaced
    }
}

impl Inputs {
    fn is_own_output(&self, path: &Path) -> bool {
        !self.own.is_empty()
            && std::fs::metadata(path)
                .ok()
                .and_then(|m| file_id(&m))
                .is_some_and(|id| self.own.contains(&id))
    }

    fn counts(&self, path: &Path) -> bool {
        let temp = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(crate::output::is_temp_name);
        if temp || self.outputs.contains(path) || self.is_own_output(path) {
            return false;
        }
        let parent = path.parent().unwrap_or(path);
        let on_the_way =
            || self.ancestors.contains(parent) && self.missing.iter().any(|m| m.starts_with(path));
        self.files.contains(path) || self.dirs.contains(parent) || on_the_way()
    }
}

fn disconnected() -> WatchError {
    WatchError(notify::Error::generic("the file watcher stopped"))
}

/// `path` as an event names it: its directory canonical, its name as is (it may not exist).
fn event_path(path: &Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => canonical(dir).join(name),
        _ => canonical(path),
    }
}

fn canonical(path: &Path) -> PathBuf {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    path.canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_owned())
}

fn existing_ancestor(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|a| a.is_dir()).map(Path::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_and_temporary_files_never_count() {
        let dir = tempfile::tempdir().unwrap();
        let d = canonical(dir.path());
        let inputs = Inputs {
            files: [d.join("spec.yaml")].into(),
            dirs: [d.join("traces")].into(),
            ancestors: [d.clone()].into(),
            missing: [d.join("later/runs")].into(),
            outputs: [d.join("traces/fig.png")].into(),
            own: vec![],
        };
        assert!(inputs.counts(&d.join("spec.yaml")));
        assert!(inputs.counts(&d.join("traces/new.json")));
        assert!(
            !inputs.counts(&d.join("notes.txt")),
            "nothing on the way to later/runs"
        );
        assert!(inputs.counts(&d.join("later")));
        assert!(!inputs.counts(&d.join("traces/fig.png")));
        assert!(!inputs.counts(&d.join("traces/.fig.png.memheat-Ab12Cd")));
    }

    #[test]
    fn a_missing_directory_is_watched_through_its_nearest_ancestor() {
        let dir = tempfile::tempdir().unwrap();
        let mut watcher = Watcher::new().unwrap();
        let deps = Deps {
            files: vec![dir.path().join("spec.yaml")],
            dirs: vec![dir.path().join("later/traces")],
        };
        assert_eq!(watcher.follow([&deps], &[]).unwrap(), (1, 1));
        assert_eq!(watcher.watched, [canonical(dir.path())].into());
        std::fs::create_dir(dir.path().join("later")).unwrap();
        assert_eq!(
            watcher.changed().unwrap(),
            [canonical(dir.path()).join("later")]
        );
    }
}
