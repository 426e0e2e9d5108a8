//! Reads PyTorch CUDA memory snapshots, the pickles `torch.cuda.memory._dump_snapshot(path)` writes
//! (`pickle.dump` of `torch.cuda.memory._snapshot()`), without executing anything, and reports the
//! run's peak memory.
//!
//! # What a snapshot holds
//! A dict (torch/cuda/memory.py, `_snapshot` docstring; the keys are those
//! torch/csrc/cuda/Module.cpp `THCPModule_memorySnapshot` writes):
//! - `segments`: the allocator's state at dump time. Each segment has `device`, `total_size` (its
//!   reserved bytes), `allocated_size` (bytes of its blocks in use, as rounded up by the allocator)
//!   and `blocks`, each with `requested_size` and a `state`: `active_allocated`,
//!   `active_pending_free` (`active_awaiting_free` in the docstring) or `inactive`.
//! - `device_traces`: one list per device of the last `max_entries` allocator events, oldest first,
//!   each with `action` and `size` (and `device_free` instead of `addr` for `oom`).
//!
//! Everything else (`allocator_settings`, `external_annotations`, `frames`, addresses, streams, pool
//! ids, unknown keys) is skipped. Actions other than the six that move memory and `oom` (such as
//! `free_requested`, `snapshot`, `annotate`) are counted as entries and otherwise ignored.
//!
//! # Replay, and why backwards
//! The trace is a ring buffer that ends at dump time: older events were dropped, and recording may
//! have started mid-run, so the total at the trace's start is unknown and a forward replay from
//! zero undercounts (it can even go negative). The one total known exactly is the one at dump time,
//! from `segments`. So each device's timeline is rebuilt from there backwards: with `T(n)` the dump
//! total and entry `k` changing the total by `d(k)`, the total just before entry `k` is
//! `T(k) = T(k+1) - d(k)` (an `alloc` of `s` bytes means there were `s` fewer before it, a
//! `free_completed` that there were `s` more). If the window records every change, induction from
//! `T(n)` makes each `T(k)` the true total at that point, and since the total only changes at
//! entries, the peak over the window is the largest `T(k)`, dump time included. A negative `T(k)`
//! proves a change is missing (`skip_actions`, or segments that do not match the trace) and is an
//! error rather than a guess. Reserved memory replays the same way with `segment_alloc` and
//! `segment_map` (+) and `segment_free` and `segment_unmap` (−; expandable segments).
//!
//! # Which bytes
//! `alloc` and `free_completed` carry the bytes the caller *requested* (CUDACachingAllocator.cpp
//! records `orig_size` and `block->requested_size`), not the rounded block size that
//! `allocated_size` and `torch.cuda.max_memory_allocated()` count. A block holds its bytes from
//! `alloc` to `free_completed`, which is exactly while its state is not `inactive`, so the replay
//! starts from the requested bytes of those blocks ([`Snapshot::requested_at_dump`]) and
//! [`Snapshot::peak_allocated`] is on that basis: slightly below the allocator's own peak (by the
//! rounding, under 512 bytes per live block by default). `segment_*` sizes are whole segments, as
//! `total_size` is, so reserved memory has no such gap.
//!
//! A snapshot is per process, and a process may use several devices: every total is per device
//! (segments by their `device`, traces by their position) and the reported value is the largest
//! over devices, never a sum, because a heatmap cell is one GPU's memory.
//!
//! # What is refused, and why
//! `pickle.load` runs whatever callables a pickle names, so a snapshot never goes near Python.
//! serde-pickle runs nothing either, but it turns unknown globals into placeholders (an error only
//! once read) and class instances into their state or an empty dict, copies a memoized value each
//! time a reference to it is visited (400 KB holding one list 100 000 times took it 95 s), and
//! recurses once per nesting level (9000 nested lists abort the process with a stack overflow). A
//! pre-pass over the opcodes therefore refuses, before serde-pickle sees a byte:
//! - any opcode that names, builds or fetches a Python object (`GLOBAL`, `STACK_GLOBAL`, `REDUCE`,
//!   `BUILD`, `INST`, `OBJ`, `NEWOBJ`, `NEWOBJ_EX`, persistent ids, extensions, out-of-band
//!   buffers): a snapshot is only dicts, lists, tuples, strings, numbers, booleans and `None`;
//! - more than [`MAX_DEPTH`] levels of nesting, and more than [`MAX_VALUES_PER_BYTE`] values or
//!   [`MAX_TEXT_PER_BYTE`] bytes of text per input byte once every memo reference is expanded;
//! - what Python's pickler never writes and serde-pickle would copy whole (`DUP`, memoizing a value
//!   twice), containers changed after being stored (recursion), malformed or truncated streams.
//!
//! # Memory and time
//! Files over the caller's `max_bytes` are refused before parsing. Below that, serde-pickle's
//! intermediate tree of the whole file dominates: peak RSS grew by 17 bytes per input byte reading
//! a generated 57 MB protocol-4 snapshot with frames, 24 for a 30 MB one without frames, and 33 for
//! the worst hostile shape tried that the pre-pass lets through (millions of empty dicts), the
//! file's own copy included. Kept list items, at most [`MAX_KEPT_ITEMS`], add about 100 bytes
//! each. On a 2-core machine serde-pickle reads about 10 MB/s and the pre-pass 60 to 100 MB/s.

mod capture;
mod replay;
mod vet;

use std::cell::Cell;
use std::io::{self, Read};

use serde::de::DeserializeSeed;

use capture::{Capture, DOC};
use replay::summarize;
use vet::Vet;

/// Deepest nesting accepted. A snapshot nests 7 levels (dict, list, dict, list, dict, list, dict);
/// serde-pickle recurses once per level, so this also bounds its stack use.
pub(crate) const MAX_DEPTH: u32 = 32;
/// Values per input byte once memo references are expanded. A reference costs 2 to 5 bytes, and a
/// shared frames list of 30 frames expands to about 200 values, so a real snapshot stays far below;
/// this bounds serde-pickle's work to a constant times the file.
pub(crate) const MAX_VALUES_PER_BYTE: u64 = 64;
/// Bytes of strings per input byte once memo references are expanded (serde-pickle copies each).
pub(crate) const MAX_TEXT_PER_BYTE: u64 = 1024;
/// Items the pickle stack may hold at once. Python's pickler batches 1000 items per `APPENDS` or
/// `SETITEMS`, so a real snapshot stays under a few thousand.
pub(crate) const MAX_STACK: usize = 1 << 20;
/// List items (trace entries, segments, blocks, device lists) kept for validation, at about 100
/// bytes each; a snapshot with more is refused.
pub(crate) const MAX_KEPT_ITEMS: u64 = 1 << 22;
/// Devices, by segment `device` and by `device_traces` length.
pub(crate) const MAX_DEVICES: usize = 1024;
/// What a segment's `device` must be, for errors; names [`MAX_DEVICES`].
const DEVICE: &str = "a device index below 1024";
/// Longest text number (`INT`, `LONG`, `FLOAT`) and `LONG1`/`LONG4` payload: serde-pickle parses
/// big integers in quadratic time, and no snapshot value needs more than 20 digits.
pub(crate) const MAX_NUMBER_BYTES: usize = 48;
/// Largest size accepted: sizes become `f64`, which holds integers exactly only up to 2^53.
pub(crate) const MAX_SIZE: u64 = 1 << 53;
/// Longest string kept: actions and states are short, longer strings are only named in errors.
pub(crate) const MAX_KEPT_TEXT: usize = 64;
const STATES: &str = "`active_allocated`, `active_pending_free` or `inactive`";

/// What a snapshot says about the run. Totals are in bytes, per device, and the largest over
/// devices (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Snapshot {
    /// Peak of allocated bytes over the trace window, on the trace's requested-bytes basis, from
    /// replaying `device_traces` backwards from `requested_at_dump`; `None` without trace entries.
    pub(crate) peak_allocated: Option<f64>,
    /// Peak of reserved (segment) bytes over the window, from `reserved_at_dump`; likewise.
    pub(crate) peak_reserved: Option<f64>,
    /// Σ `allocated_size` of the segments at dump time: rounded block sizes, as
    /// `torch.cuda.memory_allocated()` counts them.
    pub(crate) allocated_at_dump: f64,
    /// Σ `requested_size` of the blocks that are not `inactive` at dump time: where the replay starts.
    pub(crate) requested_at_dump: f64,
    /// Σ `total_size` of the segments at dump time.
    pub(crate) reserved_at_dump: f64,
    /// The first `oom` entry (devices in order, then trace order): the run hit out-of-memory.
    pub(crate) oom: Option<OomEntry>,
    /// `device_traces` lists with at least one entry.
    pub(crate) devices: usize,
    /// Trace entries over all devices.
    pub(crate) entries: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OomEntry {
    pub(crate) device: usize,
    /// Bytes of the allocation that failed.
    pub(crate) requested: f64,
    /// Bytes CUDA still reported free, when the entry has `device_free`.
    pub(crate) device_free: Option<f64>,
    /// `oom` entries in the whole trace, this one included.
    pub(crate) count: usize,
}

/// Why a snapshot was not read. Paths such as `device_traces[0][17].size` say where.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SnapshotError {
    #[error("cannot read the snapshot: {0}")]
    Io(io::Error),
    #[error("the snapshot is larger than {0} bytes")]
    TooLarge(u64),
    /// The file's length.
    #[error("the pickle ends at byte {0} before its STOP opcode: the file is truncated")]
    Truncated(usize),
    /// An opcode's offset, and what is wrong with it.
    #[error("malformed pickle at byte {0}: {1}")]
    Malformed(usize, String),
    #[error(
        "refusing {1} at byte {0}: a snapshot holds only built-in values, \
         and unpickling this would run or build a Python object"
    )]
    Refused(usize, String),
    #[error("the pickle is too complex: {0} exceeds {1}")]
    TooComplex(&'static str, u64),
    #[error("cannot unpickle: {0}")]
    Pickle(serde_pickle::Error),
    #[error("the snapshot is {0}, not a dict")]
    NotADict(&'static str),
    #[error("`{0}` has no `{1}`")]
    MissingKey(String, &'static str),
    /// Path, what it is, what it should be.
    #[error("`{0}` is {1}, expected {2}")]
    WrongType(String, String, &'static str),
    #[error("`{0}` is negative ({1})")]
    NegativeSize(String, i64),
    #[error("`{0}` is {1}, above 2^53, so it would not be exact")]
    SizeTooLarge(String, i64),
    #[error("{0} is {1} bytes, above 2^53, so it would not be exact")]
    TotalTooLarge(&'static str, i128),
    #[error("the snapshot has more than {1} {0}")]
    TooMany(&'static str, u64),
    #[error(
        "replaying device {device}'s trace backwards from the dump-time {basis} bytes gives a \
         negative total before entry {entry}: the trace misses events (skip_actions?) or does \
         not match the segments"
    )]
    Inconsistent {
        device: usize,
        entry: usize,
        basis: &'static str,
    },
}

// Not `#[from]`: the cause is in the message, and a `source()` as well
// would print it twice in a report that walks the chain.
impl From<io::Error> for SnapshotError {
    fn from(e: io::Error) -> Self {
        SnapshotError::Io(e)
    }
}

impl From<serde_pickle::Error> for SnapshotError {
    fn from(e: serde_pickle::Error) -> Self {
        SnapshotError::Pickle(e)
    }
}

/// True when `head` (the file's first bytes) opens a pickle: `PROTO` 2 to 5, or the opening of a
/// dict in protocol 0 (`(dp0\n`) or 1 (`}` then `BINPUT`/`LONG_BINPUT`). Neither text nor JSON
/// starts so: 0x80 is no UTF-8 lead byte, and JSON cannot start with `}`.
pub(crate) fn is_pickle(head: &[u8]) -> bool {
    match head {
        [0x80, 2..=5, ..] | [b'}', b'q' | b'r', ..] => true,
        [b'(', b'd', b'p', rest @ ..] => {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            digits > 0 && rest.get(digits) == Some(&b'\n')
        }
        _ => false,
    }
}

/// Reads a snapshot of at most `max_bytes` bytes; see the module docs.
pub(crate) fn read(reader: impl Read, max_bytes: u64) -> Result<Snapshot, SnapshotError> {
    let mut bytes = Vec::new();
    reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(SnapshotError::TooLarge(max_bytes));
    }
    Vet::new(&bytes).run()?;
    // serde-pickle counts a memo entry's references in the stream but uses one up per visit, so a
    // shared frames list of shared frame dicts (torch shares a traceback's list between a block and
    // its trace entry) runs out on its second visit and fails as "recursive". The pre-pass refused
    // real recursion, so what this replaces by `None` is only those extra visits, in skipped
    // fields; a `None` where a kept value belongs is still an error below.
    let options = serde_pickle::DeOptions::new().replace_recursive_structures();
    let mut de = serde_pickle::Deserializer::new(bytes.as_slice(), options);
    let root = Capture(DOC, &Cell::new(MAX_KEPT_ITEMS)).deserialize(&mut de)?;
    de.end()?;
    summarize(&root)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_pickle::{DeOptions, HashableValue, SerOptions, Value};

    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/snapshot/");
    const LIMIT: u64 = 256 << 20;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}{name}")).unwrap()
    }

    fn read_fixture(name: &str) -> Result<Snapshot, SnapshotError> {
        read(fixture(name).as_slice(), LIMIT)
    }

    fn error(bytes: &[u8]) -> String {
        read(bytes, LIMIT).unwrap_err().to_string()
    }

    // gen_snapshots.py `main_snapshot`, device 0.
    //
    // At dump: segment A has 2 MiB = 2_097_152 reserved, one active_allocated block (size
    // 1_048_576, requested 1_000_000) and one inactive; segment B has 20 MiB = 20_971_520 reserved,
    // an active_allocated block (10_485_760 / 10_485_760), an active_pending_free one
    // (5_242_880 / 5_000_000) and an inactive one.
    //   allocated_at_dump = 1_048_576 + 10_485_760 = 11_534_336 (pending-free blocks are not allocated)
    //   requested_at_dump = 1_000_000 + 10_485_760 + 5_000_000 = 16_485_760
    //   reserved_at_dump  = 2_097_152 + 20_971_520 = 23_068_672
    // Requested bytes before each entry, walking back from 16_485_760:
    //   e11 snapshot, e10 segment_free, e9 free_requested: 16_485_760
    //   e8 alloc 1_000_000                              -> 15_485_760
    //   e7 segment_alloc                                -> 15_485_760
    //   e6 free_completed 8_000_000                     -> 23_485_760
    //   e5 free_requested                               -> 23_485_760
    //   e4 alloc 5_000_000                              -> 18_485_760
    //   e3 alloc 8_000_000                              -> 10_485_760
    //   e2 alloc 10_485_760                             -> 0
    //   e1 segment_alloc                                -> 0
    //   e0 free_completed 3_000_000 (allocated before the window) -> 3_000_000
    //   peak 23_485_760, between e4 and e6
    // Reserved bytes, walking back from 23_068_672:
    //   e10 segment_free 4_194_304  -> 27_262_976
    //   e7 segment_alloc 2_097_152  -> 25_165_824
    //   e1 segment_alloc 20_971_520 -> 4_194_304, which e0 leaves
    //   peak 27_262_976, between e7 and e10
    fn main_expected() -> Snapshot {
        Snapshot {
            peak_allocated: Some(23_485_760.0),
            peak_reserved: Some(27_262_976.0),
            allocated_at_dump: 11_534_336.0,
            requested_at_dump: 16_485_760.0,
            reserved_at_dump: 23_068_672.0,
            oom: None,
            devices: 1,
            entries: 12,
        }
    }

    #[test]
    fn main_snapshot_in_every_protocol() {
        for protocol in [0, 2, 4, 5] {
            let name = format!("main_p{protocol}.pickle");
            assert_eq!(read_fixture(&name).unwrap(), main_expected(), "{name}");
            assert!(is_pickle(&fixture(&name)), "{name}");
        }
    }

    #[test]
    fn oom() {
        // At dump: one segment of 4_194_304 with an active block of 3_145_728 (requested 3_000_000).
        // Requested, back from 3_000_000: oom leaves it, alloc 3_000_000 -> 0, segment_alloc -> 0:
        // peak 3_000_000. Reserved, back from 4_194_304: segment_alloc 4_194_304 -> 0: peak 4_194_304.
        let oom = OomEntry {
            device: 0,
            requested: 8_589_934_592.0,
            device_free: Some(524_288.0),
            count: 1,
        };
        let expected = Snapshot {
            peak_allocated: Some(3_000_000.0),
            peak_reserved: Some(4_194_304.0),
            allocated_at_dump: 3_145_728.0,
            requested_at_dump: 3_000_000.0,
            reserved_at_dump: 4_194_304.0,
            oom: Some(oom),
            devices: 1,
            entries: 3,
        };
        assert_eq!(read_fixture("oom_p4.pickle").unwrap(), expected);
    }

    #[test]
    fn two_devices_take_the_larger_not_the_sum() {
        // Device 0: 8_388_608 reserved, one block of 1_048_576 (requested 1_000_000).
        //   Requested, back from 1_000_000: alloc -> 0; peak 1_000_000.
        //   Reserved, back from 8_388_608: segment_alloc -> 0; peak 8_388_608.
        // Device 1 (expandable): 4_194_304 reserved, one block of 3_670_016 (requested 3_500_000).
        //   Requested, back from 3_500_000: free_completed 500_000 -> 4_000_000,
        //   alloc 500_000 -> 3_500_000, alloc 3_500_000 -> 0; peak 4_000_000.
        //   Reserved, back from 4_194_304: segment_map 2_097_152 -> 2_097_152,
        //   segment_unmap 2_097_152 -> 4_194_304, segment_map 4_194_304 -> 0; peak 4_194_304.
        // Largest over devices: allocated 4_000_000 (device 1), reserved 8_388_608 (device 0); at
        // dump 3_670_016 allocated, 3_500_000 requested (device 1), 8_388_608 reserved (device 0).
        let expected = Snapshot {
            peak_allocated: Some(4_000_000.0),
            peak_reserved: Some(8_388_608.0),
            allocated_at_dump: 3_670_016.0,
            requested_at_dump: 3_500_000.0,
            reserved_at_dump: 8_388_608.0,
            oom: None,
            devices: 2,
            entries: 8,
        };
        assert_eq!(read_fixture("two_devices_p5.pickle").unwrap(), expected);
    }

    #[test]
    fn segments_only_has_no_peak() {
        // One segment: 2_097_152 active_allocated (requested 2_000_000) + 2_097_152 inactive.
        let expected = Snapshot {
            peak_allocated: None,
            peak_reserved: None,
            allocated_at_dump: 2_097_152.0,
            requested_at_dump: 2_000_000.0,
            reserved_at_dump: 4_194_304.0,
            oom: None,
            devices: 0,
            entries: 0,
        };
        assert_eq!(read_fixture("segments_only_p4.pickle").unwrap(), expected);
    }

    #[test]
    fn os_system_is_refused_not_run() {
        let refused = "a snapshot holds only built-in values, and unpickling this would run or \
                       build a Python object";
        // Protocol 2 names the callable in a GLOBAL, inside `allocator_settings`.
        let message = format!("refusing GLOBAL `posix.system` at byte 1375: {refused}");
        assert_eq!(
            read_fixture("hostile_reduce_p2.pickle")
                .unwrap_err()
                .to_string(),
            message
        );
        let message = format!("refusing STACK_GLOBAL at byte 28: {refused}");
        assert_eq!(
            read_fixture("hostile_reduce_p5.pickle")
                .unwrap_err()
                .to_string(),
            message
        );
        // serde-pickle on its own also refuses, on converting its placeholder for the callable.
        for name in ["hostile_reduce_p2.pickle", "hostile_reduce_p5.pickle"] {
            let options = DeOptions::new().replace_recursive_structures();
            let err = serde_pickle::value_from_slice(&fixture(name), options).unwrap_err();
            assert!(
                err.to_string().contains("unresolved global"),
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn serde_pickle_alone_fails_on_shared_frames() {
        // Why `read` sets `replace_recursive_structures`: `STACK` is one list of two frame dicts,
        // shared by blocks and trace entries, and its frame dicts run out on its second visit.
        let err = serde_pickle::value_from_slice(&fixture("main_p4.pickle"), DeOptions::new());
        assert_eq!(
            err.unwrap_err().to_string(),
            "decoding error: recursive structure found"
        );
    }

    #[test]
    fn truncated_empty_and_not_a_dict() {
        let truncated = "the pickle ends at byte 754 before its STOP opcode: the file is truncated";
        assert_eq!(
            read_fixture("truncated_p4.pickle").unwrap_err().to_string(),
            truncated
        );
        assert!(matches!(
            read(&b""[..], LIMIT),
            Err(SnapshotError::Truncated(0))
        ));
        let err = read_fixture("list_p4.pickle").unwrap_err();
        assert_eq!(err.to_string(), "the snapshot is a list, not a dict");
        assert_eq!(
            error(b"\x80\x02K\x05."),
            "the snapshot is an integer, not a dict"
        );
    }

    #[test]
    fn memo_bombs_and_deep_nesting_are_refused() {
        // 256 bytes may expand to 64 values each: 16_384.
        let err = read_fixture("hostile_laughs_p2.pickle")
            .unwrap_err()
            .to_string();
        let message = "the pickle is too complex: the values after memo expansion exceeds 16384";
        assert_eq!(err, message);
        // 12_012 bytes may expand to 768_768 values; the outer list alone holds 3000 * 3001.
        let err = read_fixture("hostile_quadratic_p4.pickle")
            .unwrap_err()
            .to_string();
        let message = "the pickle is too complex: the values after memo expansion exceeds 768768";
        assert_eq!(err, message);
        let err = read_fixture("hostile_deep_p2.pickle")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "the pickle is too complex: nesting exceeds 32");
    }

    #[test]
    fn files_over_the_limit_are_refused_before_parsing() {
        let bytes = fixture("main_p4.pickle");
        let len = bytes.len() as u64;
        assert!(read(bytes.as_slice(), len).is_ok());
        let err = read(bytes.as_slice(), len - 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("the snapshot is larger than {} bytes", len - 1)
        );
    }

    #[test]
    fn detection_by_content() {
        let yes: [&[u8]; 5] = [
            b"\x80\x02}q\x00",
            b"\x80\x05\x95",
            b"(dp0\nVsegments",
            b"(dp12\n",
            b"}q\x00(X",
        ];
        for head in yes {
            assert!(is_pickle(head), "{head:?}");
        }
        let no: [&[u8]; 9] = [
            b"",
            b"\x80",
            b"\x80\x01",
            b"\x80\x06",
            b"{\"0\": {}}",
            b"step: 10 memory",
            b"(dp\n",
            b"(dpx\n",
            b"}",
        ];
        for head in no {
            assert!(!is_pickle(head), "{head:?}");
        }
    }

    #[test]
    fn opcodes_python_never_writes_are_refused() {
        let cases: [(&[u8], &str); 8] = [
            (
                b"\x80\x02}.N",
                "malformed pickle at byte 4: bytes follow the STOP opcode",
            ),
            (
                b"\x80\x02]2.",
                "malformed pickle at byte 3: DUP, which Python's pickler never writes",
            ),
            (
                b"\x80\x02]q\x00q\x01.",
                "malformed pickle at byte 5: a value is memoized twice",
            ),
            (
                b"\x80\x02]q\x00h\x00a.",
                "malformed pickle at byte 7: a container holds itself",
            ),
            (
                b"\x80\x02\xff.",
                "malformed pickle at byte 2: unknown opcode 0xff",
            ),
            (
                b"\x80\x06}.",
                "malformed pickle at byte 0: unknown protocol 6",
            ),
            (
                b"\x80\x02a.",
                "malformed pickle at byte 2: the opcode needs more stack items than there are",
            ),
            (
                b"\x80\x02]q\x00]h\x00ah\x00]a.",
                "malformed pickle at byte 12: a container changes after it was stored",
            ),
        ];
        for (bytes, message) in cases {
            assert_eq!(error(bytes), message, "{bytes:?}");
        }
        let long = [&b"\x80\x02L"[..], &[b'9'; 49], b"\n."].concat();
        let message = "malformed pickle at byte 2: a number longer than 48 bytes";
        assert_eq!(error(&long), message);
    }

    // Hand-built snapshots, pickled by serde-pickle (protocol 3).

    fn dict(pairs: Vec<(&str, Value)>) -> Value {
        let pairs = pairs
            .into_iter()
            .map(|(k, v)| (HashableValue::String(k.into()), v));
        Value::Dict(pairs.collect::<BTreeMap<_, _>>())
    }

    fn int(v: i64) -> Value {
        Value::I64(v)
    }

    fn text(s: &str) -> Value {
        Value::String(s.into())
    }

    fn block(requested: Value, state: &str) -> Value {
        dict(vec![
            ("size", int(1 << 20)),
            ("requested_size", requested),
            ("state", text(state)),
        ])
    }

    fn segment(device: i64, blocks: Vec<Value>) -> Value {
        dict(vec![
            ("device", int(device)),
            ("total_size", int(1 << 21)),
            ("allocated_size", int(0)),
            ("segment_pool_id", Value::Tuple(vec![int(0), int(0)])),
            ("blocks", Value::List(blocks)),
        ])
    }

    fn entry(action: &str, size: Value) -> Value {
        let frames = Value::List(vec![]);
        dict(vec![
            ("action", text(action)),
            ("size", size),
            ("frames", frames),
            ("addr", Value::None),
        ])
    }

    fn doc(segments: Vec<Value>, traces: Vec<Vec<Value>>) -> Value {
        let traces = traces.into_iter().map(Value::List).collect();
        dict(vec![
            ("segments", Value::List(segments)),
            ("device_traces", Value::List(traces)),
        ])
    }

    fn pickled(value: &Value) -> Vec<u8> {
        serde_pickle::value_to_vec(value, SerOptions::new()).unwrap()
    }

    /// One segment of 2 MiB on device 0 whose one block holds `requested` bytes.
    fn one_segment(requested: Value) -> Vec<Value> {
        vec![segment(0, vec![block(requested, "active_allocated")])]
    }

    #[test]
    fn unknown_actions_and_keys_are_ignored() {
        // Back from 100: annotate changes nothing, alloc 100 -> 0: peak 100. Reserved 2 MiB throughout.
        let trace = vec![entry("alloc", int(100)), entry("annotate", Value::None)];
        let snapshot = read(
            pickled(&doc(one_segment(int(100)), vec![trace])).as_slice(),
            LIMIT,
        );
        let snapshot = snapshot.unwrap();
        assert_eq!(snapshot.peak_allocated, Some(100.0));
        assert_eq!(snapshot.peak_reserved, Some(2_097_152.0));
        assert_eq!((snapshot.devices, snapshot.entries), (1, 2));
    }

    #[test]
    fn bad_values_are_named() {
        let trace = |size: Value| vec![vec![entry("alloc", size)]];
        let cases = [
            (
                doc(one_segment(int(5)), trace(int(-1))),
                "`device_traces[0][0].size` is negative (-1)",
            ),
            (
                doc(one_segment(int(5)), trace(int((1 << 53) + 1))),
                "`device_traces[0][0].size` is 9007199254740993, above 2^53, so it would not be exact",
            ),
            (
                doc(one_segment(int(5)), trace(Value::F64(5.0))),
                "`device_traces[0][0].size` is the float 5, expected an integer byte count",
            ),
            (
                doc(one_segment(text("5")), vec![]),
                "`segments[0].blocks[0].requested_size` is the string `5`, \
                 expected an integer byte count",
            ),
            (
                doc(one_segment(Value::None), vec![]),
                "`segments[0].blocks[0].requested_size` is None, expected an integer byte count",
            ),
            (
                doc(vec![segment(0, vec![block(int(1), "lost")])], vec![]),
                "`segments[0].blocks[0].state` is the string `lost`, expected `active_allocated`, \
                 `active_pending_free` or `inactive`",
            ),
            (
                doc(vec![segment(4096, vec![])], vec![]),
                "`segments[0].device` is the integer 4096, expected a device index below 1024",
            ),
            (
                doc(vec![int(3)], vec![]),
                "`segments[0]` is the integer 3, expected a dict",
            ),
            (
                dict(vec![("segments", Value::List(vec![]))]),
                "`snapshot` has no `device_traces`",
            ),
            (
                dict(vec![("segments", int(1)), ("device_traces", int(1))]),
                "`segments` is the integer 1, expected a list",
            ),
            (
                doc(
                    one_segment(int(5)),
                    vec![vec![dict(vec![("size", int(5))])]],
                ),
                "`device_traces[0][0]` has no `action`",
            ),
            (
                // Back from 5: alloc 6 leaves -1 before it, so an event is missing.
                doc(one_segment(int(5)), trace(int(6))),
                "replaying device 0's trace backwards from the dump-time requested bytes gives a \
                 negative total before entry 0: the trace misses events (skip_actions?) or does \
                 not match the segments",
            ),
        ];
        for (value, message) in cases {
            assert_eq!(error(&pickled(&value)), message);
        }
    }

    #[test]
    fn device_limit_message_matches_the_const() {
        assert!(DEVICE.ends_with(&format!(" {MAX_DEVICES}")));
    }
}
