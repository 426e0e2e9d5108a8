//! Reads a trace through a fixed-size buffer, so memory does not grow with the file.
//!
//! `scan` needs the whole document in memory, but 99% of a trace is the contents of containers it
//! skips. This pass streams the file once and keeps only what `scan` reads: the top-level object,
//! the rank objects and their scalars, and each skipped container as its two brackets. Skipping
//! follows `skip_container`'s rules exactly (brackets of the container's own kind, string
//! boundaries, escapes), so `scan` of the kept bytes gives the same ranks and the same first
//! error as `scan` of the whole file; error offsets are mapped back to the file and its line and
//! column are counted by reading the file again, which only a failure pays for.
//!
//! The kept bytes are bounded too: a document that cannot be a trace (a first byte other than `{`,
//! anything after the top-level object) stops the read at once, and more than `MAX_KEPT_BYTES` of
//! keys and scalars outside skipped containers is an error. So does a hole (a block of NUL bytes),
//! skipped containers included: JSON has no NUL, and a sparse file is made of them.

use std::io::{self, Read, Seek, SeekFrom};

use super::{Rank, ScanError, ScanErrorKind, Skipper, scan};

/// Bytes read per `read` call.
const CHUNK: usize = 256 << 10;

/// Most bytes of keys, scalars and punctuation kept outside skipped containers. A trace holds a
/// few hundred bytes per rank there; this allows tens of thousands of ranks.
const MAX_KEPT_BYTES: usize = 64 << 20;

/// Bytes kept from the byte that ends a document early, so `scan` can name the token it found.
const LOOKAHEAD: usize = 64;

const BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Debug)]
pub(crate) enum ReadError {
    Io(io::Error),
    Scan(ScanError),
}

/// Reads the top-level members of the trace document in `reader`; see the module docs.
pub(crate) fn read<R: Read + Seek>(reader: &mut R) -> Result<Vec<Rank>, ReadError> {
    read_with(reader, CHUNK, MAX_KEPT_BYTES)
}

pub(super) fn read_with<R: Read + Seek>(
    reader: &mut R,
    chunk: usize,
    max_kept: usize,
) -> Result<Vec<Rank>, ReadError> {
    let kept = keep(reader, chunk, max_kept).map_err(ReadError::Io)?;
    if let Some(at) = kept.nul_at {
        return Err(ReadError::Scan(
            locate(reader, at, ScanErrorKind::Nul).map_err(ReadError::Io)?,
        ));
    }
    let error = match (scan(&kept.bytes), kept.overflow_at) {
        (Ok(ranks), None) => return Ok(ranks),
        (Err(e), None) => e,
        // An error well before the cut is the document's own first error; one near it may be
        // an artefact of the cut (`1e` of `1e5`), as is success (`scan` never sees the rest).
        (Err(e), Some(_)) if e.offset + LOOKAHEAD < kept.bytes.len() && !is_truncated(&e) => e,
        (_, Some(at)) => {
            return Err(ReadError::Scan(
                locate(reader, at, ScanErrorKind::TooLarge { limit: max_kept })
                    .map_err(ReadError::Io)?,
            ));
        }
    };
    let at = kept.original_offset(error.offset);
    Err(ReadError::Scan(
        locate(reader, at, error.kind).map_err(ReadError::Io)?,
    ))
}

fn is_truncated(e: &ScanError) -> bool {
    matches!(e.kind, ScanErrorKind::Truncated { .. })
}

/// The bytes `scan` reads, and where they came from in the file.
#[derive(Debug, Default)]
struct Kept {
    bytes: Vec<u8>,
    /// `(kept offset, file offset − kept offset)` from that kept offset on, ascending.
    shifts: Vec<(usize, u64)>,
    /// Set when `max_kept` was reached: the file offset of the first byte not kept.
    overflow_at: Option<u64>,
    /// The file offset of a NUL byte in the document, where reading stopped.
    nul_at: Option<u64>,
}

impl Kept {
    fn shift_at(&self, kept: usize) -> u64 {
        let i = self.shifts.partition_point(|&(k, _)| k <= kept);
        if i == 0 { 0 } else { self.shifts[i - 1].1 }
    }

    /// Records that kept offset `bytes.len()` is file offset `at`.
    fn align(&mut self, at: u64) {
        let here = self.bytes.len();
        let shift = at - here as u64;
        if shift != self.shifts.last().map_or(0, |&(_, s)| s) {
            self.shifts.push((here, shift));
        }
    }

    fn original_offset(&self, kept: usize) -> u64 {
        kept as u64 + self.shift_at(kept)
    }
}

/// Where the keeper is in the document.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// Before the top-level object: only whitespace and a byte-order mark may come.
    Start,
    /// Inside the top-level object (`depth` 1) or a rank object (2): every byte is kept.
    Outer {
        depth: u8,
        in_string: bool,
        escaped: bool,
    },
    /// Inside a container `scan` skips, opened at rank depth `outer`.
    Skip { skipper: Skipper, outer: u8 },
    /// After the top-level object: whitespace is dropped.
    End,
    /// The document is over (it does not start with `{`, or something follows it): keep a
    /// little more for the error message, then stop reading.
    Tail { left: usize },
}

struct Keeper {
    kept: Kept,
    state: State,
    max_kept: usize,
}

/// Streams `reader` and returns the kept bytes.
fn keep<R: Read>(reader: &mut R, chunk: usize, max_kept: usize) -> io::Result<Kept> {
    let mut keeper = Keeper {
        kept: Kept::default(),
        state: State::Start,
        max_kept,
    };
    let mut buf = vec![0u8; chunk];
    let mut offset = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let nul = hole(&buf[..n]);
        if !keeper.feed(&buf[..nul.unwrap_or(n)], offset) {
            return Ok(keeper.kept);
        }
        if let Some(at) = nul {
            keeper.kept.nul_at = Some(offset + at as u64);
            return Ok(keeper.kept);
        }
        offset += n as u64;
    }
    // Ending inside a skipped container: its dropped bytes still count, so that `scan`'s
    // "end of file" offset maps to the file's length.
    keeper.kept.align(offset);
    Ok(keeper.kept)
}

impl Keeper {
    /// Keeps `byte`, found at file offset `at`. `false` once the limit is reached.
    fn push(&mut self, byte: u8, at: u64) -> bool {
        if self.kept.bytes.len() >= self.max_kept {
            self.kept.overflow_at = Some(at);
            return false;
        }
        self.kept.align(at);
        self.kept.bytes.push(byte);
        true
    }

    /// Consumes `chunk`, which starts at file offset `base`. `false` when reading should stop.
    fn feed(&mut self, chunk: &[u8], base: u64) -> bool {
        let mut i = 0;
        while i < chunk.len() {
            let at = base + i as u64;
            let c = chunk[i];
            match self.state {
                State::Start => {
                    self.state = match c {
                        b'{' => State::Outer {
                            depth: 1,
                            in_string: false,
                            escaped: false,
                        },
                        b' ' | b'\t' | b'\n' | b'\r' => State::Start,
                        _ if at < 3 && c == BOM[at as usize] => State::Start,
                        _ => {
                            self.state = State::Tail { left: LOOKAHEAD };
                            continue;
                        }
                    };
                    if !self.push(c, at) {
                        return false;
                    }
                    i += 1;
                }
                State::Outer {
                    depth,
                    in_string,
                    escaped,
                } => {
                    self.state = outer_step(depth, in_string, escaped, c);
                    if !self.push(c, at) {
                        return false;
                    }
                    i += 1;
                }
                State::Skip { .. } => i = self.skip(chunk, i, base),
                State::End => {
                    if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                        self.state = State::Tail { left: LOOKAHEAD };
                        continue;
                    }
                    i += 1;
                }
                State::Tail { left } => {
                    let take = left.min(chunk.len() - i);
                    self.kept.align(at);
                    self.kept.bytes.extend_from_slice(&chunk[i..i + take]);
                    if take == left {
                        return false;
                    }
                    self.state = State::Tail { left: left - take };
                    i += take;
                }
            }
        }
        true
    }

    /// In a skipped container at `chunk[i]`: runs to its end or the chunk's, whichever is first,
    /// and returns the index reached.
    fn skip(&mut self, chunk: &[u8], i: usize, base: u64) -> usize {
        let State::Skip { mut skipper, outer } = self.state else {
            unreachable!("skip is only called in State::Skip")
        };
        let Some(read) = skipper.skip(&chunk[i..]) else {
            self.state = State::Skip { skipper, outer };
            return chunk.len();
        };
        self.state = State::Outer {
            depth: outer,
            in_string: false,
            escaped: false,
        };
        // The limit is checked by the next kept byte; the close is one byte.
        let close = i + read - 1;
        self.kept.align(base + close as u64);
        self.kept.bytes.push(skipper.close());
        i + read
    }
}

/// Bytes apart that the search for holes looks at: a file system's block is 4 KiB or more.
const HOLE_STRIDE: usize = 512;

/// The first NUL byte of `chunk`, if it has a hole: a sparse file's holes, and a preallocated
/// file's unwritten end, read as whole blocks of zeros, which even a skipped `samples` array
/// may not hold (a sparse trace of hundreds of GB would be read to its end). One byte in every
/// [`HOLE_STRIDE`] finds every block without a second pass over the chunk (the skip runs at
/// memory speed); a lone NUL inside a skipped container is let through with the rest of it.
fn hole(chunk: &[u8]) -> Option<usize> {
    let sampled = chunk.iter().step_by(HOLE_STRIDE).any(|&b| b == 0) || chunk.last() == Some(&0);
    sampled.then(|| memchr::memchr(0, chunk)).flatten()
}

/// The state after byte `c` in the top-level (`depth` 1) or a rank object (2).
fn outer_step(depth: u8, in_string: bool, escaped: bool, c: u8) -> State {
    let outer = |depth, in_string, escaped| State::Outer {
        depth,
        in_string,
        escaped,
    };
    if in_string {
        return match c {
            _ if escaped => outer(depth, true, false),
            b'\\' => outer(depth, true, true),
            b'"' => outer(depth, false, false),
            _ => outer(depth, true, false),
        };
    }
    match c {
        b'"' => outer(depth, true, false),
        // A rank's object is read member by member; every other container is skipped.
        b'{' if depth == 1 => outer(2, false, false),
        b'{' | b'[' => State::Skip {
            skipper: Skipper::new(c),
            outer: depth,
        },
        b'}' | b']' if depth == 1 => State::End,
        b'}' | b']' => outer(depth - 1, false, false),
        _ => outer(depth, false, false),
    }
}

/// A `ScanError` at file offset `at`, with its line and column counted in the file.
fn locate<R: Read + Seek>(reader: &mut R, at: u64, kind: ScanErrorKind) -> io::Result<ScanError> {
    reader.seek(SeekFrom::Start(0))?;
    let mut buf = vec![0u8; CHUNK];
    let mut left = at;
    let (mut line, mut column) = (1usize, 1usize);
    while left > 0 {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let head = &buf[..n.min(usize::try_from(left).unwrap_or(usize::MAX))];
        left -= head.len() as u64;
        line += memchr::memchr_iter(b'\n', head).count();
        let line_start = match memchr::memrchr(b'\n', head) {
            Some(p) => {
                column = 1;
                p + 1
            }
            None => 0,
        };
        column += super::skip::chars(&head[line_start..]);
    }
    Ok(ScanError {
        kind,
        offset: usize::try_from(at).unwrap_or(usize::MAX),
        line,
        column,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A trace of `samples` bytes of sample data, generated as it is read.
    struct Generated {
        head: &'static [u8],
        samples: u64,
        tail: &'static [u8],
        at: u64,
    }

    impl Read for Generated {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            const SAMPLE: &[u8] = b"{\"t\": 0.25, \"a\": 1.5e3, \"n\": \"x]}\\\"\"},\n";
            let head = self.head.len() as u64;
            let end = head + self.samples;
            let mut n = 0;
            while n < buf.len() {
                let at = self.at + n as u64;
                buf[n] = if at < head {
                    self.head[at as usize]
                } else if at < end {
                    SAMPLE[((at - head) % SAMPLE.len() as u64) as usize]
                } else if at < end + self.tail.len() as u64 {
                    self.tail[(at - end) as usize]
                } else {
                    break;
                };
                n += 1;
            }
            self.at += n as u64;
            Ok(n)
        }
    }

    #[test]
    fn memory_does_not_grow_with_the_skipped_samples() {
        let mut trace = Generated {
            head: b"{\"0\": {\"peak_allocated_MB\": 1.5, \"samples\": [\n",
            samples: 64 << 20,
            tail: b"{}]}}\n",
            at: 0,
        };
        let kept = keep(&mut trace, CHUNK, MAX_KEPT_BYTES).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&kept.bytes),
            r#"{"0": {"peak_allocated_MB": 1.5, "samples": []}}"#
        );
        // One where the samples were dropped, one for the final newline.
        assert_eq!(kept.shifts.len(), 2);
    }

    #[test]
    fn a_document_that_is_not_an_object_stops_the_read_at_once() {
        let mut garbage = Generated {
            head: b"x",
            samples: 1 << 40, // a terabyte: never read
            tail: b"",
            at: 0,
        };
        let kept = keep(&mut garbage, CHUNK, MAX_KEPT_BYTES).unwrap();
        assert_eq!(kept.bytes.len(), LOOKAHEAD);
        assert_eq!(garbage.at, CHUNK as u64);
    }

    #[test]
    fn trailing_bytes_stop_the_read() {
        let doc = format!("{{}}\n\n x{}", "y".repeat(1 << 20));
        let kept = keep(&mut Cursor::new(&doc), 16, MAX_KEPT_BYTES).unwrap();
        assert_eq!(kept.bytes.len(), 2 + LOOKAHEAD);
        let e = read_with(&mut Cursor::new(&doc), 16, MAX_KEPT_BYTES).unwrap_err();
        let ReadError::Scan(e) = e else {
            panic!("{e:?}")
        };
        assert_eq!(
            (e.kind, e.offset, e.line, e.column),
            (ScanErrorKind::TrailingCharacters, 5, 3, 2)
        );
    }

    #[test]
    fn too_many_kept_bytes_is_an_error_at_the_limit() {
        let members: String = (0..100).map(|i| format!("\"f{i}\": {i}, ")).collect();
        let doc = format!("{{\"0\": {{\"samples\": [1, 2, 3],\n{members}\"x\": 0}}}}");
        let e = read_with(&mut Cursor::new(&doc), 7, 200).unwrap_err();
        let ReadError::Scan(e) = e else {
            panic!("{e:?}")
        };
        // 200 kept bytes: the 7 bytes of `1, 2, 3` are not among them.
        assert_eq!(e.offset, 207);
        assert_eq!(e.kind, ScanErrorKind::TooLarge { limit: 200 });
        assert_eq!(e.line, 2);
        assert_eq!(
            e.to_string(),
            "line 2 column 179 (byte 207): more than 0 MiB of keys and scalar values outside \
             arrays and objects, where a memory trace holds a few KiB"
        );
    }

    #[test]
    fn an_error_before_the_limit_is_reported_as_itself() {
        let members: String = (0..100).map(|i| format!("\"f{i}\": {i}, ")).collect();
        let doc = format!("{{\"0\": {{\"samples\": [1, 2, 3], \"a\": tru, {members}}}}}");
        let e = read_with(&mut Cursor::new(&doc), 7, 200).unwrap_err();
        let ReadError::Scan(e) = e else {
            panic!("{e:?}")
        };
        assert_eq!(e, scan(doc.as_bytes()).unwrap_err());
    }
    /// A hole (a block of NULs) stops the read where it starts, inside `samples` (which is
    /// otherwise skipped unread) as outside it: a sparse file is made of them.
    #[test]
    fn a_hole_stops_the_read_at_once() {
        let with_hole = |head: &str, tail: &str| {
            let mut doc = head.as_bytes().to_vec();
            doc.extend([0; 4096]);
            doc.extend(tail.as_bytes());
            doc
        };
        for (doc, offset, column) in [
            (
                with_hole(r#"{"0": {"samples": [1, 2"#, r#"], "a": 1}}"#),
                23,
                24,
            ),
            (with_hole(r#"{"0": {"a": "x"#, r#""}}"#), 14, 15),
            (with_hole("{\"0\": {\"a\": 1}}\n", ""), 16, 1),
        ] {
            for chunk in [3, 7, 1000, CHUNK] {
                let e = read_with(&mut Cursor::new(&doc), chunk, MAX_KEPT_BYTES).unwrap_err();
                let ReadError::Scan(e) = e else {
                    panic!("{e:?}")
                };
                assert_eq!(
                    (e.kind, e.offset, e.column),
                    (ScanErrorKind::Nul, offset, column)
                );
            }
        }
        let mut sparse = Generated {
            head: b"{\"0\": {\"samples\": [",
            samples: u64::MAX / 2,
            tail: b"]}}",
            at: 0,
        };
        let kept = keep(&mut NulSamples(&mut sparse), CHUNK, MAX_KEPT_BYTES).unwrap();
        assert_eq!(kept.nul_at, Some(19));
        assert!(sparse.at <= CHUNK as u64, "read {} bytes", sparse.at);
    }

    /// A generated trace whose sample bytes are all NUL, as a sparse file's hole reads.
    struct NulSamples<'a>(&'a mut Generated);

    impl Read for NulSamples<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let head = self.0.head.len() as u64;
            let start = self.0.at;
            let n = self.0.read(buf)?;
            for (i, byte) in buf[..n].iter_mut().enumerate() {
                let at = start + i as u64;
                if at >= head && at < head + self.0.samples {
                    *byte = 0;
                }
            }
            Ok(n)
        }
    }
}
