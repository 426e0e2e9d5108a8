//! The pre-pass: runs the pickle machine with each value's expanded size in place of the value,
//! so that a pickle serde-pickle would choke on is refused before it sees a byte (see the parent
//! module's docs).

use std::collections::HashMap;

use super::{
    MAX_DEPTH, MAX_NUMBER_BYTES, MAX_STACK, MAX_TEXT_PER_BYTE, MAX_VALUES_PER_BYTE, SnapshotError,
};

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
pub(super) struct Vet<'a> {
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
    pub(super) fn new(bytes: &'a [u8]) -> Self {
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

    pub(super) fn run(mut self) -> Result<(), SnapshotError> {
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
