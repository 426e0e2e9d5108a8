//! `memheat watch` against real file events: a changed trace, an added and
//! a deleted one, a broken spec and its fix, then Ctrl-C.

use std::io::BufRead as _;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::util::{copy_dir, memheat, repo, run_in};

/// Generous: CI machines are slow, and this waits for builds, not timers.
const PATIENCE: Duration = Duration::from_secs(60);

struct Watching {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Watching {
    fn start(dir: &Path, args: &[&str]) -> Watching {
        let mut child = memheat()
            .arg("watch")
            .args(args)
            .current_dir(dir)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                if send.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        Watching {
            child,
            lines,
            seen: vec![],
        }
    }

    /// The next status line (they start with a changed path or `built`, and
    /// name what happened), with the lines printed before it.
    fn next_round(&mut self) -> (String, Vec<String>) {
        let deadline = Instant::now() + PATIENCE;
        let mut before = vec![];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(" in ") && line.contains(" ms")
                        || line.contains("fix and save to rebuild")
                    {
                        return (line, before);
                    }
                    before.push(line);
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no rebuild within {PATIENCE:?}; stderr so far: {:#?}",
                        self.seen
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("watch exited; stderr: {:#?}", self.seen)
                }
            }
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The example's trace of TP=1, PP=128.
const TRACE: &str = "memory_trace_rank0_wd8192_tp1_pp128_dp64_exp1_expNumNone_l96_mbs1_nmbs384_gbs24576_ts30506.json";

/// The example's specs and sweep, copied into a temporary directory.
fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("specs"), &dir.path().join("specs"));
    copy_dir(
        &repo().join("examples/485B"),
        &dir.path().join("examples/485B"),
    );
    dir
}

/// The `actual` column of `memheat data` for the cell at (pp, tp).
fn actual(dir: &Path, pp: &str, tp: &str) -> String {
    let (code, csv, stderr) = run_in(dir, &["data", "specs/485B.yaml"]);
    assert_eq!(code, 0, "{stderr}");
    let row = csv
        .lines()
        .find(|l| l.starts_with(&format!("{pp},{tp},")))
        .unwrap_or_else(|| panic!("no cell PP={pp} TP={tp} in {csv}"));
    row.split(',').nth(3).unwrap().to_owned()
}

#[test]
fn watch_rebuilds_on_every_kind_of_change_and_survives_errors() {
    let dir = example_copy();
    let d = dir.path();
    let traces = d.join("examples/485B/traces");
    let name = TRACE;
    let trace = traces.join(name);
    let original = std::fs::read_to_string(&trace).unwrap();
    assert!(original.contains(r#""peak_allocated_MB": 47796.48"#));
    let png = d.join("figures/485B.png");

    let mut watch = Watching::start(d, &["specs/485B.yaml", "--deps", "figures/485B.d"]);
    let (status, _) = watch.next_round();
    assert_eq!(
        status.split(" in ").next().unwrap(),
        "built figures/485B.pdf, figures/485B.png"
    );
    assert!(
        status.ends_with("ms; watching 24 files and 1 directory (Ctrl-C to stop)"),
        "{status}"
    );
    let depfile = std::fs::read_to_string(d.join("figures/485B.d")).unwrap();
    assert!(depfile.contains(name), "{depfile}");
    let first_png = std::fs::read(&png).unwrap();

    // A trace changes in place.
    std::fs::write(&trace, original.replace("47796.48", "20480")).unwrap();
    let (status, _) = watch.next_round();
    let changed = format!("examples/485B/traces/{name} changed: built figures/485B.pdf");
    assert!(status.starts_with(&changed), "{status}");
    assert_eq!(actual(d, "128", "1"), "20");
    assert_ne!(
        std::fs::read(&png).unwrap(),
        first_png,
        "the PNG was rebuilt"
    );

    // A newer run of the same config appears: it is the cell now.
    let newer = name.replace("ts30506", "ts40000");
    std::fs::write(traces.join(&newer), original.replace("47796.48", "30720")).unwrap();
    let (status, _) = watch.next_round();
    assert!(
        status.contains(&format!("{newer} changed: built")),
        "{status}"
    );
    assert_eq!(actual(d, "128", "1"), "30");

    // ... and goes away again.
    std::fs::remove_file(traces.join(&newer)).unwrap();
    let (status, _) = watch.next_round();
    assert!(
        status.contains(&format!("{newer} changed: built")),
        "{status}"
    );
    assert_eq!(actual(d, "128", "1"), "20");

    // A broken spec: its error is printed and watching goes on.
    let spec = d.join("specs/485B.yaml");
    let good = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, format!("{good}title: [\n")).unwrap();
    let (status, errors) = watch.next_round();
    assert_eq!(
        status,
        "specs/485B.yaml changed: 1 of 1 spec(s) failed; fix and save to rebuild"
    );
    assert_eq!(
        errors.first().map(String::as_str),
        Some("error: duplicate field `title`")
    );
    let before_fix = std::fs::read(&png).unwrap();

    // Fixed the way editors save: a new file renamed over the old one.
    std::fs::write(
        d.join("specs/.485B.yaml.swp"),
        good.replace("8,192 GPUs", "8k GPUs"),
    )
    .unwrap();
    std::fs::rename(d.join("specs/.485B.yaml.swp"), &spec).unwrap();
    let (status, _) = watch.next_round();
    assert!(
        status.starts_with("specs/485B.yaml changed: built"),
        "{status}"
    );
    assert_ne!(std::fs::read(&png).unwrap(), before_fix);

    // Ctrl-C: exit 130, no temporary files left behind.
    #[allow(unsafe_code)] // kill(2) has no std wrapper for SIGINT
    // SAFETY: signals our own child, which has not been reaped yet.
    let sent = unsafe { libc::kill(watch.child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0);
    let status = watch.child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let mut left: Vec<String> = std::fs::read_dir(d.join("figures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["485B.d", "485B.pdf", "485B.png"]);
}

/// Status lines redirected into a directory the watch follows are not a
/// change: they once rebuilt the figure forever, each rebuild writing the
/// next status line.
#[test]
fn a_watch_logging_into_a_watched_directory_does_not_feed_itself() {
    let dir = example_copy();
    let d = dir.path();
    let log = d.join("examples/485B/traces/watch.log");
    let mut child = memheat()
        .args(["watch", "specs/485B.yaml"])
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    let lines = || std::fs::read_to_string(&log).unwrap().lines().count();
    while lines() == 0 {
        assert!(Instant::now() < deadline, "no first build");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A loop would print a line per rebuild, dozens a second; debouncing
    // takes 30 ms, so a second is plenty to see one.
    std::thread::sleep(Duration::from_secs(1));
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.starts_with("built figures/485B.pdf"), "{log}");
}

/// The next rounds until one builds, and that one: a directory filled file
/// by file may fail a few rounds first.
fn until_built(watch: &mut Watching) -> String {
    for _ in 0..100 {
        let (status, _) = watch.next_round();
        if status.contains("changed: built") {
            return status;
        }
    }
    panic!("no successful build in 100 rounds: {:#?}", watch.seen)
}

/// r18: the watch on a trace directory followed the directory's old inode,
/// so after it was deleted and made again, or moved away and back, changes
/// in it were never seen. Each time, a trace changed afterwards rebuilds.
#[test]
fn r18_a_watched_directory_deleted_or_moved_away_and_back_is_watched_again() {
    let dir = example_copy();
    let d = dir.path();
    let traces = d.join("examples/485B/traces");
    let name = TRACE;
    let original = std::fs::read_to_string(traces.join(name)).unwrap();
    let mut watch = Watching::start(d, &["specs/485B.yaml"]);
    watch.next_round();
    let mut peak = 20 * 1024;
    let mut change_a_trace = |watch: &mut Watching| {
        peak += 1024;
        let text = original.replace("47796.48", &peak.to_string());
        std::fs::write(traces.join(name), text).unwrap();
        let (status, _) = watch.next_round();
        assert!(
            status.contains(&format!("{name} changed: built")),
            "{status}"
        );
        assert_eq!(actual(d, "128", "1"), format!("{}", peak / 1024));
    };

    // Moved away: the build fails (the glob matches nothing); moved back, it
    // builds, and the directory is watched again.
    std::fs::rename(&traces, d.join("traces.away")).unwrap();
    let (status, _) = watch.next_round();
    assert!(
        status.ends_with("1 of 1 spec(s) failed; fix and save to rebuild"),
        "{status}"
    );
    std::fs::rename(d.join("traces.away"), &traces).unwrap();
    until_built(&mut watch);
    change_a_trace(&mut watch);

    // Deleted, then made again file by file.
    std::fs::remove_dir_all(&traces).unwrap();
    watch.next_round();
    copy_dir(&repo().join("examples/485B/traces"), &traces);
    until_built(&mut watch);
    change_a_trace(&mut watch);

    // Deleted and replaced in one step, faster than a round.
    copy_dir(&traces, &d.join("staging"));
    std::fs::remove_dir_all(&traces).unwrap();
    std::fs::rename(d.join("staging"), &traces).unwrap();
    until_built(&mut watch);
    change_a_trace(&mut watch);
}
