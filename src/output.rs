//! Writing outputs so that a reader (make, LaTeX, a viewer) never sees half
//! a file, a failed or interrupted build leaves the previous outputs, and
//! two builds into one directory do not mix their files.
//!
//! - An output whose bytes did not change is left alone, mtime and all:
//!   LaTeX re-runs when an included figure's mtime changes, bytes or not.
//! - Every other output is written to a temporary file beside it, dated
//!   (see [`file_clock_now`]) and synced before any is renamed into place.
//! - What a rename replaces is kept (as a hard link) until all renames are
//!   done; if one fails, the earlier ones are undone.
//! - An advisory lock on each output directory makes concurrent builds
//!   into it take turns, so a PDF from one spec never pairs with a PNG
//!   from another.
//! - Temporary files are named `.<output>.memheat-*`. They are removed on
//!   SIGINT/SIGTERM/SIGHUP (see [`remove_temps_on_signal`]), and a later
//!   build removes any of its own outputs' that a `kill -9` left behind.
//! - A special file is never replaced by a regular one: an output that is
//!   a symlink replaces the file the link names (the link stays); a
//!   character device (`--deps /dev/null`), a FIFO or a file descriptor
//!   (`/dev/stdout`, `/dev/fd/3`) is written through, after every other
//!   output is staged and before any is renamed; a block device or a socket
//!   is an error. (Renaming over `/dev/null` as root replaced it with a
//!   regular file, which broke every later `> /dev/null` on the machine.)

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::export::ExportError;

/// Temporary files that exist right now. A signal can arrive at any point,
/// and its handler runs on its own thread, so this one registry is global:
/// there is no value both the handler and the writer could be given.
static TEMPS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs a handler that removes this process's temporary files and
/// exits with 130 on SIGINT, SIGTERM or SIGHUP. Call once, from the binary.
pub(crate) fn remove_temps_on_signal() {
    let _ = ctrlc::set_handler(|| exit_removing_temps(130));
}

/// Removes this process's temporary files and exits with `code`, from any
/// thread: a signal, or a figure over its Typst budget.
pub(crate) fn exit_removing_temps(code: i32) -> ! {
    // Held until the process ends: no thread can create another
    // temporary file after these are removed.
    let temps = TEMPS.lock();
    if let Ok(temps) = &temps {
        for temp in temps.iter() {
            let _ = std::fs::remove_file(temp);
        }
    }
    std::process::exit(code);
}

/// A time no older than any file written before this call and older than
/// every file written after it returns, by the file system's clock; a
/// stamp dated this before the inputs are read is older than any input
/// changed while they were.
///
/// Linux dates a file by its coarse clock, which advances once a tick (1 to
/// 10 ms) and so lags the precise one, or (since 6.13, for a file whose
/// date was just read) by the precise clock. So this reads the precise
/// clock and waits until the coarse one has passed it: every later file,
/// dated either way, is newer.
pub(crate) fn file_clock_now() -> std::time::SystemTime {
    let now = std::time::SystemTime::now();
    #[cfg(target_os = "linux")]
    {
        use rustix::time::{ClockId, clock_gettime};
        let coarse = || {
            let ts = clock_gettime(ClockId::RealtimeCoarse);
            let since = std::time::Duration::new(
                u64::try_from(ts.tv_sec).unwrap_or(0),
                u32::try_from(ts.tv_nsec).unwrap_or(0),
            );
            std::time::UNIX_EPOCH + since
        };
        // A clock that does not move is no reason to wait for ever.
        let give_up = std::time::Instant::now() + std::time::Duration::from_millis(50);
        while coarse() <= now && std::time::Instant::now() < give_up {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
    now
}

/// Writes every file whose bytes changed, or none of them; each written
/// file is dated `modified` when given. Returns the files left as they
/// were because they already held these bytes.
pub(crate) fn write_all(
    files: &[(&Path, &[u8])],
    modified: Option<std::time::SystemTime>,
) -> Result<Vec<PathBuf>, ExportError> {
    write_all_with(files, modified, |from, to| std::fs::rename(from, to))
}

fn write_all_with(
    files: &[(&Path, &[u8])],
    modified: Option<std::time::SystemTime>,
    rename: impl Fn(&Path, &Path) -> std::io::Result<()>,
) -> Result<Vec<PathBuf>, ExportError> {
    let fail = |path: &Path, reason: String| ExportError::Write {
        path: path.to_path_buf(),
        reason,
    };
    let mut replaced: Vec<(PathBuf, &[u8], &Path)> = vec![];
    let mut through: Vec<(&Path, &[u8])> = vec![];
    for (path, bytes) in files {
        match target(path).map_err(|reason| fail(path, reason))? {
            Target::Replace(real) => replaced.push((real, bytes, path)),
            Target::Through => through.push((path, bytes)),
        }
    }
    for (path, _, _) in &replaced {
        std::fs::create_dir_all(dir_of(path))
            .map_err(|e| fail(path, format!("cannot create its directory ({e})")))?;
    }
    let dirs: BTreeSet<&Path> = replaced.iter().map(|(p, _, _)| dir_of(p)).collect();
    let _locks = dirs
        .iter()
        .map(|dir| lock(dir))
        .collect::<Result<Vec<_>, _>>()?;
    for (path, _, _) in &replaced {
        remove_stale_temps(path);
    }
    // Compared under the lock: a build into the same directory cannot
    // change the file between the look and the decision.
    let (unchanged, replaced): (Vec<_>, Vec<_>) = replaced
        .into_iter()
        .partition(|(path, bytes, _)| holds(path, bytes));

    let staged = replaced
        .iter()
        .map(|(path, bytes, _)| Ok((path.as_path(), Temp::write(path, bytes, modified)?)))
        .collect::<Result<Vec<_>, ExportError>>()?;
    // What cannot be undone goes after everything that can fail and before
    // anything is replaced: a full /dev/full leaves the old outputs.
    for (path, bytes) in through {
        write_through(path, bytes).map_err(|reason| fail(path, reason))?;
    }
    let kept = staged
        .iter()
        .map(|(path, _)| Temp::keep_current(path))
        .collect::<Result<Vec<_>, ExportError>>()?;
    for (i, (path, temp)) in staged.iter().enumerate() {
        if let Err(e) = rename(&temp.path, path) {
            undo(&staged[..i], &kept[..i]);
            return Err(fail(path, e.to_string()));
        }
        temp.renamed();
    }
    Ok(unchanged
        .into_iter()
        .map(|(_, _, given)| given.to_path_buf())
        .collect())
}

/// Dates the file `path` is (or links to) `time`, if it is a regular file;
/// a missing file or a device is left as it is.
pub(crate) fn redate(path: &Path, time: std::time::SystemTime) -> Result<(), ExportError> {
    let Ok(Target::Replace(real)) = target(path) else {
        return Ok(());
    };
    // Read-only: changing the dates of a file one owns needs no write access.
    let result = match std::fs::File::open(&real) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        opened => opened.and_then(|file| file.set_modified(time)),
    };
    result.map_err(|e| ExportError::Write {
        path: path.to_path_buf(),
        reason: format!("cannot set its modification time ({e})"),
    })
}

/// Whether the regular file at `path` holds exactly `bytes`.
fn holds(path: &Path, bytes: &[u8]) -> bool {
    let same_length =
        std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64);
    same_length && std::fs::read(path).is_ok_and(|old| old == bytes)
}

/// How an output path is written.
#[derive(Debug, PartialEq)]
enum Target {
    /// Atomically, by renaming a new file onto this path: the output's own,
    /// or the end of the symlinks it is.
    Replace(PathBuf),
    /// Written into as it is: a character device, a FIFO, a descriptor.
    Through,
}

/// Most symlinks followed from one output, as the kernel's own limit.
const MAX_LINKS: usize = 40;

/// Decides how `path` is written; an error is the reason it cannot be.
fn target(path: &Path) -> Result<Target, String> {
    if path
        .as_os_str()
        .to_string_lossy()
        .ends_with(std::path::is_separator)
    {
        return Err(
            "the path ends in a separator, so it names a directory; give a file name".into(),
        );
    }
    let mut real = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        // `/dev/stdout` and `/dev/fd/N` name a descriptor the caller opened
        // (perhaps `>> log`): write into it, never replace the file behind.
        if real.starts_with("/proc") || real.starts_with("/dev/fd") {
            return Ok(Target::Through);
        }
        let meta = match std::fs::symlink_metadata(&real) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Target::Replace(real));
            }
            Err(e) => return Err(e.to_string()),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            let to = std::fs::read_link(&real).map_err(|e| e.to_string())?;
            real = dir_of(&real).join(to);
            continue;
        }
        if kind.is_file() {
            return Ok(Target::Replace(real));
        }
        if kind.is_dir() {
            return Err("it is a directory".into());
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if kind.is_char_device() || kind.is_fifo() {
                return Ok(Target::Through);
            }
            if kind.is_block_device() {
                return Err("it is a block device; memheat replaces regular files and writes into character devices and FIFOs".into());
            }
            if kind.is_socket() {
                return Err("it is a socket; memheat replaces regular files and writes into character devices and FIFOs".into());
            }
        }
        return Err("it is not a regular file".into());
    }
    Err(format!("more than {MAX_LINKS} symlinks to follow"))
}

/// Writes into a device, FIFO or descriptor. A FIFO no process reads is an
/// error rather than a build that waits forever.
fn write_through(path: &Path, bytes: &[u8]) -> Result<(), String> {
    // Open without blocking first: that fails at once (ENXIO) when no
    // process has the FIFO open for reading. Held open while the blocking
    // one below opens, which then does not wait.
    #[cfg(unix)]
    let _probe = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::File::options()
            .append(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ENXIO) => "it is a FIFO that no process is reading".to_string(),
                _ => e.to_string(),
            })?
    };
    // Append: a descriptor opened with `>>` keeps what it has.
    let mut file = std::fs::File::options()
        .append(true)
        .open(path)
        .map_err(|e| e.to_string())?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .map_err(|e| e.to_string())
}

/// Puts back what the first renames replaced (or removes what they added).
fn undo(files: &[(&Path, Temp)], kept: &[Option<Temp>]) {
    for ((path, _), previous) in files.iter().zip(kept) {
        match previous {
            Some(previous) => {
                if std::fs::rename(&previous.path, path).is_ok() {
                    previous.renamed();
                }
            }
            None => {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// An advisory lock on a directory, held until dropped (`flock`, which
/// works on directories on Linux and macOS).
fn lock(dir: &Path) -> Result<Option<std::fs::File>, ExportError> {
    #[cfg(unix)]
    {
        let handle = std::fs::File::open(dir).map_err(|e| ExportError::Write {
            path: dir.to_path_buf(),
            reason: format!("cannot lock the directory ({e})"),
        })?;
        handle.lock().map_err(|e| ExportError::Write {
            path: dir.to_path_buf(),
            reason: format!("cannot lock the directory ({e})"),
        })?;
        Ok(Some(handle))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(None)
    }
}

/// Whether a file name is one of the temporary files any build writes.
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(".memheat-")
}

fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    format!(".{name}.memheat-")
}

/// Removes the temporary files a killed build left beside `path`. Only
/// called under the directory's lock, so none of them is still in use.
fn remove_stale_temps(path: &Path) {
    let prefix = temp_prefix(path);
    let Ok(entries) = std::fs::read_dir(dir_of(path)) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A temporary file beside an output, registered for the signal handler
/// and removed when dropped unless it was renamed into place.
struct Temp {
    path: PathBuf,
}

impl Temp {
    /// Creates the file at `path` with `create` and registers it, both
    /// under the registry's lock, so that a signal handler (which holds
    /// the lock until exit) sees every temporary file that exists.
    fn create<T>(
        path: PathBuf,
        create: impl FnOnce(&Path) -> std::io::Result<T>,
    ) -> std::io::Result<(Temp, T)> {
        let mut temps = TEMPS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let made = create(&path)?;
        temps.push(path.clone());
        Ok((Temp { path }, made))
    }

    /// The new content, written and synced. The name is registered before
    /// the file exists, so a signal never finds a file it does not know.
    fn write(
        target: &Path,
        bytes: &[u8],
        modified: Option<std::time::SystemTime>,
    ) -> Result<Temp, ExportError> {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let fail = |reason: String| ExportError::Write {
            path: target.to_path_buf(),
            reason,
        };
        let name = format!(
            "{}{}-{}",
            temp_prefix(target),
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let (temp, mut file) = Temp::create(dir_of(target).join(name), |path| {
            std::fs::File::options()
                .write(true)
                .create_new(true)
                .open(path)
        })
        .map_err(|e| fail(e.to_string()))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| fail(e.to_string()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Whatever the umask: an output is an ordinary shared file.
            file.set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(|e| fail(e.to_string()))?;
        }
        // Dated before the rename: no reader sees the file with another date.
        if let Some(time) = modified {
            file.set_modified(time).map_err(|e| fail(e.to_string()))?;
        }
        Ok(temp)
    }

    /// A second name for the file `target` is now, if it is one, so that
    /// replacing it can be undone.
    fn keep_current(target: &Path) -> Result<Option<Temp>, ExportError> {
        if !std::fs::symlink_metadata(target).is_ok_and(|m| m.is_file()) {
            return Ok(None);
        }
        let name = PathBuf::from(format!("{}old-{}", temp_prefix(target), std::process::id()));
        let (kept, ()) = Temp::create(dir_of(target).join(name), |path| {
            let _ = std::fs::remove_file(path);
            std::fs::hard_link(target, path).or_else(|_| std::fs::copy(target, path).map(|_| ()))
        })
        .map_err(|e| ExportError::Write {
            path: target.to_path_buf(),
            reason: format!("cannot keep the previous file while replacing it ({e})"),
        })?;
        Ok(Some(kept))
    }

    /// The file now has its final name; nothing to remove.
    fn renamed(&self) {
        if let Ok(mut temps) = TEMPS.lock() {
            temps.retain(|t| t != &self.path);
        }
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let registered = TEMPS
            .lock()
            .map(|mut temps| {
                let before = temps.len();
                temps.retain(|t| t != &self.path);
                temps.len() != before
            })
            .unwrap_or(true);
        if registered {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn atomic_write_replaces_and_refuses_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/fig.pdf");
        write_all(&[(&path, b"one")], None).unwrap();
        write_all(&[(&path, b"two")], None).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(entries(&dir.path().join("sub")), ["fig.pdf"]);
        // The second target is a directory: the first is not replaced either.
        let files: [(&Path, &[u8]); 2] = [(&path, b"three"), (dir.path(), b"x")];
        let e = write_all(&files, None).unwrap_err();
        assert!(e.to_string().ends_with("it is a directory"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(entries(&dir.path().join("sub")), ["fig.pdf"]);
    }

    /// The README promised that a failed write leaves the previous outputs;
    /// with a rename failing after the first succeeded, it did not.
    #[test]
    fn a_failed_rename_undoes_the_earlier_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (pdf, png, svg) = (
            dir.path().join("f.pdf"),
            dir.path().join("f.png"),
            dir.path().join("f.svg"),
        );
        write_all(&[(&pdf, b"old pdf"), (&png, b"old png")], None).unwrap();
        let calls = std::cell::Cell::new(0);
        let third_fails = |from: &Path, to: &Path| {
            calls.set(calls.get() + 1);
            if calls.get() == 3 {
                Err(std::io::Error::other("disk went away"))
            } else {
                std::fs::rename(from, to)
            }
        };
        let files: [(&Path, &[u8]); 3] = [(&pdf, b"new"), (&svg, b"new"), (&png, b"new")];
        let e = write_all_with(&files, None, third_fails).unwrap_err();
        assert!(e.to_string().ends_with("disk went away"), "{e}");
        assert_eq!(std::fs::read(&pdf).unwrap(), b"old pdf");
        assert_eq!(std::fs::read(&png).unwrap(), b"old png");
        assert!(!svg.exists(), "a new output is removed again");
        assert_eq!(
            entries(dir.path()),
            ["f.pdf", "f.png"],
            "no temporary file is left"
        );
    }

    /// r18: a device is written after every file is staged and before any
    /// is renamed, so one that fails leaves the previous outputs.
    #[cfg(unix)]
    #[test]
    fn a_failing_device_leaves_the_previous_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("f.pdf");
        write_all(&[(&pdf, b"old")], None).unwrap();
        let full = Path::new("/dev/full");
        let files: [(&Path, &[u8]); 2] = [(&pdf, b"new"), (full, b"deps")];
        let e = write_all(&files, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot write `/dev/full`: No space left on device (os error 28)"
        );
        assert_eq!(std::fs::read(&pdf).unwrap(), b"old");
        assert_eq!(entries(dir.path()), ["f.pdf"]);
        assert_eq!(target(Path::new("/dev/null")), Ok(Target::Through));
        assert_eq!(target(Path::new("/dev/stdout")), Ok(Target::Through));
        assert_eq!(target(dir.path()), Err("it is a directory".to_string()));
        // `-o out/` for a directory that does not exist yet.
        assert_eq!(
            target(&dir.path().join("new/")),
            Err("the path ends in a separator, so it names a directory; give a file name".into())
        );
        // A cycle of links ends.
        std::os::unix::fs::symlink("b", dir.path().join("a")).unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
        assert_eq!(
            target(&dir.path().join("a")),
            Err("more than 40 symlinks to follow".to_string())
        );
    }

    /// LaTeX re-ran whenever a figure's mtime changed, bytes or not.
    #[test]
    fn unchanged_bytes_are_left_alone_and_changed_ones_dated() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let (pdf, png) = (dir.path().join("f.pdf"), dir.path().join("f.png"));
        let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let new = old + std::time::Duration::from_secs(1);
        assert!(
            write_all(&[(&pdf, b"pdf"), (&png, b"png")], Some(old))
                .unwrap()
                .is_empty()
        );
        let inode = std::fs::metadata(&pdf).unwrap().ino();
        let files: [(&Path, &[u8]); 2] = [(&pdf, b"pdf"), (&png, b"png at 600 dpi")];
        assert_eq!(
            write_all(&files, Some(new)).unwrap(),
            std::slice::from_ref(&pdf)
        );
        let modified = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
        assert_eq!((modified(&pdf), modified(&png)), (old, new));
        assert_eq!(
            std::fs::metadata(&pdf).unwrap().ino(),
            inode,
            "not replaced"
        );
        assert_eq!(std::fs::read(&png).unwrap(), b"png at 600 dpi");
        // Re-dating follows a link to its file, and skips what is not there.
        std::os::unix::fs::symlink("f.pdf", dir.path().join("link")).unwrap();
        redate(&dir.path().join("link"), new).unwrap();
        assert_eq!(modified(&pdf), new);
        redate(&dir.path().join("missing"), new).unwrap();
        redate(Path::new("/dev/null"), new).unwrap();
        assert_eq!(entries(dir.path()), ["f.pdf", "f.png", "link"]);
    }

    /// A file written before the call is no newer than what it returns,
    /// and one written after is newer, even within one tick of the clock.
    #[cfg(target_os = "linux")]
    #[test]
    fn file_clock_now_separates_earlier_and_later_writes() {
        let dir = tempfile::tempdir().unwrap();
        let modified = |name: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, name).unwrap();
            std::fs::metadata(&path).unwrap().modified().unwrap()
        };
        for _ in 0..20 {
            let before = modified("before");
            let now = file_clock_now();
            let after = modified("after");
            assert!(before <= now && now < after, "{before:?} {now:?} {after:?}");
        }
    }

    #[test]
    fn stale_temps_of_a_killed_build_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fig.png");
        std::fs::write(dir.path().join(".fig.png.memheat-Ab12Cd"), "half").unwrap();
        std::fs::write(dir.path().join(".other.png.memheat-Ab12Cd"), "not ours").unwrap();
        write_all(&[(&path, b"png")], None).unwrap();
        assert_eq!(
            entries(dir.path()),
            [".other.png.memheat-Ab12Cd", "fig.png"]
        );
        let temps = TEMPS.lock().unwrap();
        assert!(
            !temps.iter().any(|t| t.starts_with(dir.path())),
            "{temps:?}"
        );
    }
}
