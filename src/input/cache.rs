//! Input files read by earlier builds in this process, kept until they
//! change.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::read::{Parsed, parse};
use crate::spec::InputFormat;

type Entries = HashMap<(PathBuf, InputFormat), (Stamp, Arc<Parsed>)>;

/// Input files parsed by earlier builds in this process (`watch`, several
/// specs over the same data), by path and the format they were read in. A file is read again when its size, modification
/// time or (on Unix) inode or change time differ from when it was read.
#[derive(Debug, Default)]
pub struct TraceCache(Mutex<Entries>);

/// What tells a file changed without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64, i64, i64),
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let m = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt as _;
        Some(Stamp {
            len: m.len(),
            modified: m.modified().ok(),
            #[cfg(unix)]
            inode: (m.dev(), m.ino(), m.ctime(), m.ctime_nsec()),
        })
    }
}

impl TraceCache {
    pub(crate) fn parsed(&self, path: &Path, format: InputFormat) -> Arc<Parsed> {
        // Stat before reading: a change during the read leaves an older
        // stamp, so the next build reads the file again.
        let Some(stamp) = Stamp::of(path) else {
            return Arc::new(parse(path, format));
        };
        let key = (path.to_path_buf(), format);
        let cached = self.lock().get(&key).cloned();
        if let Some((seen, parsed)) = cached
            && seen == stamp
        {
            return parsed;
        }
        let parsed = Arc::new(parse(path, format));
        self.lock().insert(key, (stamp, Arc::clone(&parsed)));
        parsed
    }

    /// Forgets every file but `keep`, so a long watch does not accumulate
    /// traces that are gone.
    pub fn retain(&self, keep: &[PathBuf]) {
        let keep: std::collections::HashSet<&PathBuf> = keep.iter().collect();
        self.lock().retain(|(path, _), _| keep.contains(path));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock cannot leave a half-inserted entry.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_reads_a_trace_again_only_when_it_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        let peak = |cache: &TraceCache| match &*cache.parsed(&path, InputFormat::Auto) {
            Parsed::Trace(Ok(ranks)) => format!("{:?}", ranks[0].value),
            Parsed::Trace(Err(u)) => u.warning.clone(),
            other => format!("{other:?}"),
        };
        std::fs::write(&path, r#"{"0": {"peak_allocated_MB": 1}}"#).unwrap();
        let cache = TraceCache::default();
        let first = cache.parsed(&path, InputFormat::Auto);
        assert!(
            Arc::ptr_eq(&first, &cache.parsed(&path, InputFormat::Auto)),
            "unchanged: not read again"
        );
        // Same length, new content: the inode and change time tell.
        std::fs::write(dir.path().join("new"), r#"{"0": {"peak_allocated_MB": 2}}"#).unwrap();
        std::fs::rename(dir.path().join("new"), &path).unwrap();
        assert_eq!(
            peak(&cache),
            r#"Object([("peak_allocated_MB", Number(2.0))])"#
        );
        std::fs::write(&path, "{").unwrap();
        assert_eq!(
            peak(&cache),
            "malformed JSON: line 1 column 2 (byte 1): unexpected end of file inside the top-level object"
        );
        cache.retain(&[]);
        assert!(cache.lock().is_empty());
    }
}
