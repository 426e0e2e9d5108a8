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

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{self, Read};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

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
const MAX_KEPT_TEXT: usize = 64;
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
    Io(#[from] io::Error),
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
    Pickle(#[from] serde_pickle::Error),
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

// The pre-pass: runs the pickle machine with each value's expanded size in place of the value.

/// A stack or memo entry: a scalar with its bytes of text, or a container by index into `objs`.
#[derive(Clone, Copy)]
enum Item {
    Scalar(u64),
    Obj(u32),
}

/// A container's expanded size: values, bytes of text, depth. Once stored in another container it
/// is sealed, as its size was copied into the parent and a later change would not be counted.
#[derive(Clone, Copy)]
struct Obj {
    values: u64,
    text: u64,
    depth: u32,
    sealed: bool,
}

#[derive(Default)]
struct Vet<'a> {
    bytes: &'a [u8],
    /// Offset of the opcode being run, for errors.
    at: usize,
    pos: usize,
    /// Items, and whether serde-pickle holds each as a memo reference (after `PUT` or `GET`).
    stack: Vec<(Item, bool)>,
    marks: Vec<usize>,
    memo: HashMap<u32, Item>,
    objs: Vec<Obj>,
    max_values: u64,
    max_text: u64,
}

impl<'a> Vet<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let len = bytes.len() as u64;
        let max_values = len.saturating_mul(MAX_VALUES_PER_BYTE);
        let max_text = len.saturating_mul(MAX_TEXT_PER_BYTE);
        Vet {
            bytes,
            max_values,
            max_text,
            ..Vet::default()
        }
    }

    fn run(mut self) -> Result<(), SnapshotError> {
        while !self.step()? {}
        match self.pos < self.bytes.len() {
            true => Err(malformed(self.pos, "bytes follow the STOP opcode")),
            false => Ok(()),
        }
    }

    /// Runs one opcode; true after `STOP`.
    fn step(&mut self) -> Result<bool, SnapshotError> {
        self.at = self.pos;
        let [op] = self.fixed()?;
        match op {
            b'N' | 0x88 | 0x89 => self.push(Item::Scalar(0), false)?,
            b'K' | b'M' | b'J' | b'G' => {
                let width = [(b'K', 1), (b'M', 2), (b'J', 4)].iter().find(|w| w.0 == op);
                self.take(width.map_or(8, |w| w.1))?;
                self.push(Item::Scalar(0), false)?;
            }
            b'I' | b'L' | b'F' | 0x8a | 0x8b => {
                let digits = match op {
                    0x8a => self.counted(1)?,
                    0x8b => self.counted(-4)?,
                    _ => self.lines(1)?,
                };
                if digits.len() > MAX_NUMBER_BYTES {
                    return Err(self.bad("a number longer than 48 bytes"));
                }
                self.push(Item::Scalar(0), false)?;
            }
            b'S' | b'V' | b'U' | b'C' | 0x8c | b'X' | b'B' | b'T' | 0x8d | 0x8e | 0x96 => {
                let text = match op {
                    b'S' | b'V' => self.lines(1)?,
                    b'U' | b'C' | 0x8c => self.counted(1)?,
                    b'X' | b'B' => self.counted(4)?,
                    b'T' => self.counted(-4)?,
                    _ => self.counted(8)?,
                };
                self.push(Item::Scalar(text.len() as u64), false)?;
            }
            b']' | b'}' | b')' | 0x8f => self.new_obj(Vec::new())?,
            0x85..=0x87 | b'l' | b't' | b'd' | 0x91 => {
                let items = match op {
                    0x85..=0x87 => self.pop_n(usize::from(op & 3))?,
                    _ => self.pop_mark()?,
                };
                self.new_obj(items)?;
            }
            b'a' | b's' | b'e' | b'u' | 0x90 => {
                let items = match op {
                    b'a' => self.pop_n(1)?,
                    b's' => self.pop_n(2)?,
                    _ => self.pop_mark()?,
                };
                self.add_to_top(items)?;
            }
            b'(' if self.marks.len() > MAX_DEPTH as usize => {
                return Err(SnapshotError::TooComplex("nesting", MAX_DEPTH.into()));
            }
            b'(' => self.marks.push(self.stack.len()),
            // serde-pickle's POP with nothing above the last mark discards the mark instead.
            b'0' if !self.marks.is_empty() && self.stack.len() == self.floor() => {
                drop(self.pop_mark()?)
            }
            b'0' => drop(self.pop_n(1)?),
            b'1' => drop(self.pop_mark()?),
            b'p' | b'q' | b'r' | 0x94 | b'g' | b'h' | b'j' => self.memo_op(op)?,
            0x80 => {
                let [version] = self.fixed()?;
                if version > 5 {
                    return Err(self.bad(&format!("unknown protocol {version}")));
                }
            }
            0x95 => drop(self.take(8)?),
            b'.' => return self.pop_n(1).map(|_| true),
            // serde-pickle copies the whole value; Python's pickler never writes DUP.
            b'2' => return Err(self.bad("DUP, which Python's pickler never writes")),
            b'c' | b'i' | 0x93 | b'R' | b'b' | b'o' | 0x81 | 0x92 => return Err(self.refuse(op)),
            b'P' | b'Q' | 0x82..=0x84 | 0x97 | 0x98 => return Err(self.refuse(op)),
            _ => return Err(self.bad(&format!("unknown opcode 0x{op:02x}"))),
        }
        Ok(false)
    }

    /// The refusal of an opcode that names, builds or fetches a Python object.
    fn refuse(&mut self, op: u8) -> SnapshotError {
        let what = match op {
            b'c' | b'i' => {
                let name = self
                    .lines(2)
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                let kind = if op == b'c' { "GLOBAL" } else { "INST" };
                format!("{kind} `{}`", name.replace('\n', "."))
            }
            0x93 => "STACK_GLOBAL".to_owned(),
            b'R' => "REDUCE".to_owned(),
            _ => format!("opcode `{}`", op.escape_ascii()),
        };
        SnapshotError::Refused(self.at, what)
    }

    /// `PUT`, `MEMOIZE` and `GET` in their encodings.
    fn memo_op(&mut self, op: u8) -> Result<(), SnapshotError> {
        let id = match op {
            b'p' | b'g' => std::str::from_utf8(self.lines(1)?)
                .ok()
                .and_then(|t| t.parse().ok()),
            b'q' | b'h' => self.fixed().ok().map(|[id]| u32::from(id)),
            b'r' | b'j' => self.fixed().ok().map(u32::from_le_bytes),
            _ => u32::try_from(self.memo.len()).ok(),
        };
        let id = id.ok_or_else(|| self.bad("a bad memo index"))?;
        if matches!(op, b'g' | b'h' | b'j') {
            let item = self.memo.get(&id).copied();
            let item = item.ok_or_else(|| self.bad(&format!("memo entry {id} is missing")))?;
            return self.push(item, true);
        }
        let (at, floor, len) = (self.at, self.floor(), self.stack.len());
        let top = self.stack.last_mut().filter(|_| len > floor);
        let top = top.ok_or_else(|| underflow(at))?;
        // serde-pickle copies a memo reference's value to memoize it again: a copy bomb.
        if std::mem::replace(&mut top.1, true) {
            return Err(self.bad("a value is memoized twice"));
        }
        let item = top.0;
        self.memo.insert(id, item);
        Ok(())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        let slice = self
            .pos
            .checked_add(n)
            .and_then(|end| self.bytes.get(self.pos..end));
        let slice = slice.ok_or(SnapshotError::Truncated(self.bytes.len()))?;
        self.pos += n;
        Ok(slice)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let len = self.bytes.len();
        self.take(N)?
            .try_into()
            .map_err(|_| SnapshotError::Truncated(len))
    }

    /// A payload after its little-endian length of `width` bytes (-4: a signed 4-byte length).
    fn counted(&mut self, width: isize) -> Result<&'a [u8], SnapshotError> {
        let mut raw = [0u8; 8];
        let len_bytes = self.take(width.unsigned_abs())?;
        raw.iter_mut()
            .zip(len_bytes)
            .for_each(|(to, from)| *to = *from);
        let [a, b, c, d, ..] = raw;
        let len = match width {
            -4 => usize::try_from(i32::from_le_bytes([a, b, c, d])).ok(),
            _ => usize::try_from(u64::from_le_bytes(raw)).ok(),
        };
        self.take(len.ok_or_else(|| self.bad("a negative or huge length"))?)
    }

    /// The next `n` newline-terminated lines, without the last newline.
    fn lines(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let mut newlines = rest.iter().enumerate().filter(|(_, b)| **b == b'\n');
        let end = newlines.nth(n.saturating_sub(1)).map(|(i, _)| i);
        let end = end.ok_or(SnapshotError::Truncated(self.bytes.len()))?;
        Ok(self.take(end + 1)?.get(..end).unwrap_or_default())
    }

    fn push(&mut self, item: Item, memoized: bool) -> Result<(), SnapshotError> {
        if self.stack.len() >= MAX_STACK {
            return Err(SnapshotError::TooComplex(
                "the pickle stack",
                MAX_STACK as u64,
            ));
        }
        self.stack.push((item, memoized));
        Ok(())
    }

    /// Where the items above the last mark start: only those are visible to most opcodes.
    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop_n(&mut self, n: usize) -> Result<Vec<(Item, bool)>, SnapshotError> {
        let start = self
            .stack
            .len()
            .checked_sub(n)
            .filter(|&s| s >= self.floor());
        Ok(self
            .stack
            .split_off(start.ok_or_else(|| underflow(self.at))?))
    }

    fn pop_mark(&mut self) -> Result<Vec<(Item, bool)>, SnapshotError> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| self.bad("no MARK to pop to"))?;
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    fn new_obj(&mut self, items: Vec<(Item, bool)>) -> Result<(), SnapshotError> {
        let id = u32::try_from(self.objs.len()).map_err(|_| self.bad("too many containers"))?;
        let obj = Obj {
            values: 1,
            text: 0,
            depth: 1,
            sealed: false,
        };
        self.objs.push(obj);
        self.adopt(id, items)?;
        self.push(Item::Obj(id), false)
    }

    fn add_to_top(&mut self, items: Vec<(Item, bool)>) -> Result<(), SnapshotError> {
        match self
            .stack
            .last()
            .filter(|_| self.stack.len() > self.floor())
        {
            Some((Item::Obj(id), _)) => self.adopt(*id, items),
            Some(_) => Err(self.bad("items added to a value that is not a container")),
            None => Err(underflow(self.at)),
        }
    }

    /// Adds `items` to container `parent`, sealing the containers among them.
    fn adopt(&mut self, parent: u32, items: Vec<(Item, bool)>) -> Result<(), SnapshotError> {
        let mut sum = Obj {
            values: 0,
            text: 0,
            depth: 0,
            sealed: false,
        };
        for (item, _) in items {
            let child = match item {
                Item::Scalar(text) => Obj {
                    values: 1,
                    text,
                    depth: 0,
                    sealed: true,
                },
                Item::Obj(child) => {
                    let obj = self
                        .objs
                        .get_mut(child as usize)
                        .filter(|_| child != parent);
                    let obj = obj.ok_or_else(|| malformed(self.at, "a container holds itself"))?;
                    obj.sealed = true;
                    *obj
                }
            };
            sum.values = sum.values.saturating_add(child.values);
            sum.text = sum.text.saturating_add(child.text);
            sum.depth = sum.depth.max(child.depth);
        }
        let (max_values, max_text, at) = (self.max_values, self.max_text, self.at);
        let obj = self.objs.get_mut(parent as usize).filter(|obj| !obj.sealed);
        let obj = obj.ok_or_else(|| malformed(at, "a container changes after it was stored"))?;
        obj.values = obj.values.saturating_add(sum.values);
        obj.text = obj.text.saturating_add(sum.text);
        obj.depth = obj.depth.max(sum.depth + 1);
        match () {
            _ if obj.depth > MAX_DEPTH => {
                Err(SnapshotError::TooComplex("nesting", MAX_DEPTH.into()))
            }
            _ if obj.values > max_values => Err(SnapshotError::TooComplex(EXPANDED, max_values)),
            _ if obj.text > max_text => Err(SnapshotError::TooComplex(EXPANDED_TEXT, max_text)),
            _ => Ok(()),
        }
    }

    fn bad(&self, reason: &str) -> SnapshotError {
        malformed(self.at, reason)
    }
}

const EXPANDED: &str = "the values after memo expansion";
const EXPANDED_TEXT: &str = "the bytes of text after memo expansion";

fn malformed(offset: usize, reason: &str) -> SnapshotError {
    SnapshotError::Malformed(offset, reason.to_owned())
}

fn underflow(offset: usize) -> SnapshotError {
    malformed(offset, "the opcode needs more stack items than there are")
}

// Capture: what serde-pickle yields, kept only along the schema.

/// Which parts of a value to keep.
#[derive(Clone, Copy)]
enum Schema {
    Scalar,
    List(&'static Schema),
    Dict(&'static [(&'static str, Schema)]),
}

use Schema::Scalar as S;
const ENTRY: Schema = Schema::Dict(&[("action", S), ("size", S), ("device_free", S)]);
const BLOCK: Schema = Schema::Dict(&[("requested_size", S), ("state", S)]);
const SEGMENT: Schema = Schema::Dict(&[
    ("device", S),
    ("total_size", S),
    ("allocated_size", S),
    ("blocks", Schema::List(&BLOCK)),
]);
const DOC: Schema = Schema::Dict(&[
    ("segments", Schema::List(&SEGMENT)),
    ("device_traces", Schema::List(&Schema::List(&ENTRY))),
]);

/// A kept value. Dict fields are indices into their schema's fields.
#[derive(Debug)]
enum Raw {
    Int(i64),
    Float(f64),
    Str(Box<str>),
    Other(&'static str),
    /// Kept items, and the count of all items: more once the budget ran out.
    List(Vec<Raw>, usize),
    Dict(Vec<(usize, Raw)>),
}

/// Captures a value along a schema, keeping list items while the budget lasts.
struct Capture<'b>(Schema, &'b Cell<u64>);

impl<'de> DeserializeSeed<'de> for Capture<'_> {
    type Value = Raw;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Raw, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Capture<'_> {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any pickle value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Raw, E> {
        Ok(Raw::Other("a bool"))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or(Raw::Other("an integer above 2^63"), Raw::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(match v.len() {
            ..=MAX_KEPT_TEXT => Raw::Str(v.into()),
            _ => Raw::Other("a long string"),
        })
    }

    fn visit_bytes<E>(self, _: &[u8]) -> Result<Raw, E> {
        Ok(Raw::Other("bytes"))
    }

    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Other("None"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let (Schema::List(schema), budget) = (self.0, self.1) else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(Raw::Other("a list"));
        };
        let (mut items, mut len) = (Vec::new(), 0);
        loop {
            let left = budget.get();
            budget.set(left.saturating_sub(1));
            let item = match left {
                0 => seq.next_element::<IgnoredAny>()?.map(|_| None),
                _ => seq.next_element_seed(Capture(*schema, budget))?.map(Some),
            };
            match item {
                Some(item) => (items.extend(item), len += 1),
                None => return Ok(Raw::List(items, len)),
            };
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let (Schema::Dict(fields), budget) = (self.0, self.1) else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Raw::Other("a dict"));
        };
        let mut kept = Vec::new();
        while let Some(key) = map.next_key_seed(Capture(S, budget))? {
            let field = match key {
                Raw::Str(key) => fields.iter().position(|(name, _)| **name == *key),
                _ => None,
            };
            match field.and_then(|i| Some((i, fields.get(i)?.1))) {
                Some((i, schema)) => kept.push((i, map.next_value_seed(Capture(schema, budget))?)),
                None => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        Ok(Raw::Dict(kept))
    }
}

// Validation and replay.

/// Where a value sits, e.g. `device_traces[0][17].size`; formatted only for errors.
enum Path<'p> {
    Root,
    Key(&'p Path<'p>, &'static str),
    Index(&'p Path<'p>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => f.write_str("snapshot"),
            Path::Key(Path::Root, key) => f.write_str(key),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

fn kind(raw: &Raw) -> &'static str {
    match raw {
        Raw::Int(_) => "an integer",
        Raw::Float(_) => "a float",
        Raw::Str(_) => "a string",
        Raw::Other(kind) => kind,
        Raw::List(..) => "a list",
        Raw::Dict(_) => "a dict",
    }
}

fn wrong(raw: &Raw, path: &Path, expected: &'static str) -> SnapshotError {
    let found = match raw {
        Raw::Int(v) => format!("the integer {v}"),
        Raw::Float(v) => format!("the float {v}"),
        Raw::Str(v) => format!("the string `{v}`"),
        _ => kind(raw).to_owned(),
    };
    SnapshotError::WrongType(path.to_string(), found, expected)
}

/// A kept dict, with its path and the field names of its schema.
struct Fields<'r, 'p>(
    &'r [(usize, Raw)],
    &'p Path<'p>,
    &'static [(&'static str, Schema)],
);

impl<'r, 'p> Fields<'r, 'p> {
    fn of(raw: &'r Raw, schema: Schema, path: &'p Path<'p>) -> Result<Self, SnapshotError> {
        match (raw, schema, path) {
            (Raw::Dict(kept), Schema::Dict(names), _) => Ok(Fields(kept, path, names)),
            (_, _, Path::Root) => Err(SnapshotError::NotADict(kind(raw))),
            _ => Err(wrong(raw, path, "a dict")),
        }
    }

    /// The last value of `key`, as Python keeps the last of duplicate keys.
    fn get(&self, key: &str) -> Option<&'r Raw> {
        let index = self.2.iter().position(|(name, _)| *name == key)?;
        self.0
            .iter()
            .rev()
            .find(|(i, _)| *i == index)
            .map(|(_, raw)| raw)
    }

    fn need(&self, key: &'static str) -> Result<&'r Raw, SnapshotError> {
        let missing = || SnapshotError::MissingKey(self.1.to_string(), key);
        self.get(key).ok_or_else(missing)
    }

    fn size(&self, key: &'static str) -> Result<u64, SnapshotError> {
        size(self.need(key)?, &Path::Key(self.1, key))
    }

    fn text(&self, key: &'static str) -> Result<&'r str, SnapshotError> {
        match self.need(key)? {
            Raw::Str(s) => Ok(s),
            other => Err(wrong(other, &Path::Key(self.1, key), "a string")),
        }
    }

    fn list(&self, key: &'static str) -> Result<&'r [Raw], SnapshotError> {
        list(self.need(key)?, &Path::Key(self.1, key))
    }
}

/// A byte count: an exact, non-negative integer of at most 2^53.
fn size(raw: &Raw, path: &Path) -> Result<u64, SnapshotError> {
    match *raw {
        Raw::Int(v) if v < 0 => Err(SnapshotError::NegativeSize(path.to_string(), v)),
        Raw::Int(v) if v.unsigned_abs() > MAX_SIZE => {
            Err(SnapshotError::SizeTooLarge(path.to_string(), v))
        }
        Raw::Int(v) => Ok(v.unsigned_abs()),
        _ => Err(wrong(raw, path, "an integer byte count")),
    }
}

fn list<'r>(raw: &'r Raw, path: &Path) -> Result<&'r [Raw], SnapshotError> {
    match raw {
        Raw::List(items, len) if items.len() < *len => Err(SnapshotError::TooMany(
            "trace entries, segments and blocks",
            MAX_KEPT_ITEMS,
        )),
        Raw::List(items, _) => Ok(items),
        other => Err(wrong(other, path, "a list")),
    }
}

/// One device's totals at dump time: (allocated, requested, reserved).
type AtDump = (i128, i128, i128);

/// Per device, the dump-time totals from `segments`.
fn dump_totals(segments: &[Raw], path: &Path) -> Result<BTreeMap<usize, AtDump>, SnapshotError> {
    let mut totals = BTreeMap::<usize, AtDump>::new();
    for (i, segment) in segments.iter().enumerate() {
        let path = Path::Index(path, i);
        let segment = Fields::of(segment, SEGMENT, &path)?;
        let device = usize::try_from(segment.size("device")?).ok();
        let device = device.filter(|&device| device < MAX_DEVICES);
        let raw = segment.need("device")?;
        let device = device.ok_or_else(|| wrong(raw, &Path::Key(&path, "device"), DEVICE))?;
        let total = totals.entry(device).or_default();
        total.0 += i128::from(segment.size("allocated_size")?);
        total.1 += requested_bytes(segment.list("blocks")?, &Path::Key(&path, "blocks"))?;
        total.2 += i128::from(segment.size("total_size")?);
    }
    Ok(totals)
}

/// Σ `requested_size` of the blocks that hold memory: every state but `inactive`.
fn requested_bytes(blocks: &[Raw], path: &Path) -> Result<i128, SnapshotError> {
    let mut requested = 0;
    for (j, block) in blocks.iter().enumerate() {
        let path = Path::Index(path, j);
        let block = Fields::of(block, BLOCK, &path)?;
        requested += match block.text("state")? {
            "inactive" => 0,
            "active_allocated" | "active_pending_free" | "active_awaiting_free" => {
                i128::from(block.size("requested_size")?)
            }
            _ => {
                return Err(wrong(
                    block.need("state")?,
                    &Path::Key(&path, "state"),
                    STATES,
                ));
            }
        };
    }
    Ok(requested)
}

/// One device's trace: how each entry moves (requested, reserved) bytes.
type Deltas = Vec<(i128, i128)>;
/// An `oom` entry's size and `device_free`.
type Oom = (u64, Option<u64>);

fn trace(entries: &[Raw], path: &Path) -> Result<(Deltas, Vec<Oom>), SnapshotError> {
    let (mut deltas, mut ooms) = (Vec::with_capacity(entries.len()), Vec::new());
    for (k, entry) in entries.iter().enumerate() {
        let path = Path::Index(path, k);
        let entry = Fields::of(entry, ENTRY, &path)?;
        let sign = match entry.text("action")? {
            "alloc" => (1, 0),
            "free_completed" => (-1, 0),
            "segment_alloc" | "segment_map" => (0, 1),
            "segment_free" | "segment_unmap" => (0, -1),
            "oom" => {
                let free = entry.get("device_free").map(|_| entry.size("device_free"));
                ooms.push((entry.size("size")?, free.transpose()?));
                (0, 0)
            }
            _ => (0, 0),
        };
        let bytes = match sign {
            (0, 0) => 0,
            _ => i128::from(entry.size("size")?),
        };
        deltas.push((sign.0 * bytes, sign.1 * bytes));
    }
    Ok((deltas, ooms))
}

/// The largest total over the timeline that ends at `at_dump`, rebuilt backwards (module docs);
/// or the entry before which the total would be negative.
fn peak_backwards(at_dump: i128, deltas: &[i128]) -> Result<i128, usize> {
    let (mut total, mut peak) = (at_dump, at_dump);
    for (entry, delta) in deltas.iter().enumerate().rev() {
        total -= delta;
        if total < 0 {
            return Err(entry);
        }
        peak = peak.max(total);
    }
    Ok(peak)
}

/// A total as `f64`, refused above 2^53 where `f64` would round it.
fn exact(value: i128, what: &'static str) -> Result<f64, SnapshotError> {
    match u64::try_from(value) {
        Ok(v) if v <= MAX_SIZE => Ok(v as f64),
        _ => Err(SnapshotError::TotalTooLarge(what, value)),
    }
}

fn summarize(root: &Raw) -> Result<Snapshot, SnapshotError> {
    let doc = Fields::of(root, DOC, &Path::Root)?;
    let totals = dump_totals(doc.list("segments")?, &Path::Key(&Path::Root, "segments"))?;
    let traces = doc.list("device_traces")?;
    if traces.len() > MAX_DEVICES {
        return Err(SnapshotError::TooMany("devices", MAX_DEVICES as u64));
    }
    // Every device's dump-time total is a point of its timeline, traced or not.
    let mut peaks: Vec<(i128, i128)> = totals.values().map(|t| (t.1, t.2)).collect();
    let (mut first_oom, mut ooms, mut devices, mut entries) = (None, 0, 0, 0);
    for (device, raw) in traces.iter().enumerate() {
        let traces_path = Path::Key(&Path::Root, "device_traces");
        let path = Path::Index(&traces_path, device);
        let (deltas, device_ooms) = trace(list(raw, &path)?, &path)?;
        let at_dump = totals.get(&device).copied().unwrap_or_default();
        let (requested, reserved): (Vec<_>, Vec<_>) = deltas.iter().copied().unzip();
        let inconsistent = |basis| {
            move |entry| SnapshotError::Inconsistent {
                device,
                entry,
                basis,
            }
        };
        let requested = peak_backwards(at_dump.1, &requested).map_err(inconsistent("requested"))?;
        let reserved = peak_backwards(at_dump.2, &reserved).map_err(inconsistent("reserved"))?;
        peaks.push((requested, reserved));
        devices += usize::from(!deltas.is_empty());
        entries += deltas.len();
        ooms += device_ooms.len();
        first_oom = first_oom.or(device_ooms
            .first()
            .map(|&(size, free)| (device, size, free)));
    }
    let peak = |pick: fn(&(i128, i128)) -> i128, what| match devices {
        0 => Ok(None),
        _ => exact(peaks.iter().map(pick).max().unwrap_or(0), what).map(Some),
    };
    let most =
        |pick: fn(&AtDump) -> i128, what| exact(totals.values().map(pick).max().unwrap_or(0), what);
    // Sizes are at most 2^53, so `as f64` is exact.
    let oom = first_oom.map(|(device, size, free)| OomEntry {
        device,
        requested: size as f64,
        device_free: free.map(|free| free as f64),
        count: ooms,
    });
    Ok(Snapshot {
        peak_allocated: peak(|p| p.0, "the allocated peak")?,
        peak_reserved: peak(|p| p.1, "the reserved peak")?,
        allocated_at_dump: most(|t| t.0, "the allocated total")?,
        requested_at_dump: most(|t| t.1, "the requested total")?,
        reserved_at_dump: most(|t| t.2, "the reserved total")?,
        oom,
        devices,
        entries,
    })
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

    #[test]
    fn kept_items_are_capped() {
        let err = list(&Raw::List(vec![], 1), &Path::Root)
            .unwrap_err()
            .to_string();
        let message = "the snapshot has more than 4194304 trace entries, segments and blocks";
        assert_eq!(err, message);
    }
}
