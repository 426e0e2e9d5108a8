//! The scanner's parser: the trace document read byte by byte, ranks and
//! their scalar members kept, everything else validated and skipped.

use super::skip::*;
use super::*;

/// Reads the top-level members of a trace document. See the module docs for what is validated.
pub(crate) fn scan(bytes: &[u8]) -> Result<Vec<Rank>, ScanError> {
    let mut p = Parser {
        b: bytes,
        pos: 0,
        members: 0,
    };
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        p.pos = 3;
    }
    p.ws();
    let Some(c) = p.peek() else {
        return Err(p.err(bytes.len(), ScanErrorKind::Empty));
    };
    if c != b'{' {
        let rest = &bytes[p.pos..];
        let found = match c {
            b'[' => Some("an array"),
            b'"' => Some("a string"),
            b'-' | b'0'..=b'9' => Some("a number"),
            _ if rest.starts_with(b"NaN") || rest.starts_with(b"Infinity") => Some("a number"),
            _ if rest.starts_with(b"true") || rest.starts_with(b"false") => Some("a boolean"),
            _ if rest.starts_with(b"null") => Some("null"),
            _ => None,
        };
        let kind = match found {
            Some(found) => ScanErrorKind::NotAnObject { found },
            None => p.unexpected_kind(p.pos, "a JSON object"),
        };
        return Err(p.err(p.pos, kind));
    }
    let ranks = p.top_object()?;
    p.ws();
    if p.pos < bytes.len() {
        return Err(p.err(p.pos, ScanErrorKind::TrailingCharacters));
    }
    Ok(ranks)
}

/// The key path of the value being read, rendered only for `Truncated` errors.
#[derive(Clone, Copy)]
pub(super) struct Path<'k> {
    rank: Option<&'k str>,
    member: Option<&'k str>,
}

impl Path<'_> {
    const TOP: Path<'static> = Path {
        rank: None,
        member: None,
    };

    pub(super) fn render(self) -> String {
        match (self.rank, self.member) {
            (Some(r), Some(m)) => format!("{r}.{m}"),
            (Some(r), None) => r.to_owned(),
            _ => String::new(),
        }
    }
}

/// What a member value turned out to be, before deciding what to do with objects.
pub(super) enum Value {
    Scalar(Scalar),
    Array,
    Object,
}

pub(super) struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
    /// Ranks and scalar members read so far, against [`MAX_MEMBERS`].
    members: usize,
}

/// Most scalar members of one rank: a tracer writes a few dozen. Each costs about a hundred bytes
/// here and again in the run's numbers, so a 64 MiB file of `"k1":0,` members (7.5 million) cost
/// 3 GB and 18 s before this limit.
pub(crate) const MAX_RANK_MEMBERS: usize = 1024;
/// Most ranks and scalar members of one file together: a trace of every rank of a large job.
pub(crate) const MAX_MEMBERS: usize = 1 << 18;

impl<'a> Parser<'a> {
    pub(super) fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    pub(super) fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    pub(super) fn err(&self, offset: usize, kind: ScanErrorKind) -> ScanError {
        ScanError::at(self.b, offset, kind)
    }

    pub(super) fn truncated(&self, path: Path<'_>) -> ScanError {
        self.err(
            self.b.len(),
            ScanErrorKind::Truncated {
                inside: path.render(),
            },
        )
    }

    pub(super) fn unexpected_kind(&self, at: usize, expected: &'static str) -> ScanErrorKind {
        ScanErrorKind::Unexpected {
            expected,
            found: describe_char(&self.b[at..]),
        }
    }

    pub(super) fn unexpected(&self, expected: &'static str) -> ScanError {
        self.err(self.pos, self.unexpected_kind(self.pos, expected))
    }

    /// Expects `"` (a key) after `{` or `,`; `path` is the enclosing object.
    pub(super) fn key(&mut self, path: Path<'_>) -> Result<String, ScanError> {
        self.ws();
        match self.peek() {
            Some(b'"') => self.string(path),
            Some(_) => Err(self.unexpected("a string key")),
            None => Err(self.truncated(path)),
        }
    }

    /// Expects `:` after a key; `path` already includes the key.
    pub(super) fn colon(&mut self, path: Path<'_>) -> Result<(), ScanError> {
        self.ws();
        match self.peek() {
            Some(b':') => {
                self.pos += 1;
                self.ws();
                Ok(())
            }
            Some(_) => Err(self.unexpected("`:`")),
            None => Err(self.truncated(path)),
        }
    }

    /// After a member value: `Ok(true)` on `,` (another member follows), `Ok(false)` on `}`.
    pub(super) fn comma_or_end(&mut self, path: Path<'_>) -> Result<bool, ScanError> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b'}') => {
                self.pos += 1;
                Ok(false)
            }
            Some(_) => Err(self.unexpected("`,` or `}`")),
            None => Err(self.truncated(path)),
        }
    }

    /// True (and consumes it) if the object just opened is `{}`.
    pub(super) fn empty_object(&mut self, path: Path<'_>) -> Result<bool, ScanError> {
        self.ws();
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Err(self.truncated(path)),
        }
    }

    /// At `{` of the document.
    pub(super) fn top_object(&mut self) -> Result<Vec<Rank>, ScanError> {
        self.pos += 1;
        let mut ranks = Vec::new();
        if self.empty_object(Path::TOP)? {
            return Ok(ranks);
        }
        loop {
            let start = self.pos;
            let key = self.key(Path::TOP)?;
            self.count_member(start, None, 1)?;
            let path = Path {
                rank: Some(&key),
                member: None,
            };
            self.colon(path)?;
            let value = match self.value(path)? {
                Value::Object => RankValue::Object(self.rank_object(&key)?),
                Value::Array => {
                    self.skip_container(path)?;
                    RankValue::NotAnObject("an array")
                }
                Value::Scalar(s) => RankValue::NotAnObject(match s {
                    Scalar::Number(_) | Scalar::NonFinite(_) => "a number",
                    Scalar::Str(_) => "a string",
                    Scalar::Bool(_) => "a boolean",
                    Scalar::Null => "null",
                }),
            };
            ranks.push(Rank { key, value });
            if !self.comma_or_end(Path::TOP)? {
                return Ok(ranks);
            }
        }
    }

    /// One more rank (`rank` none) or scalar member of `rank`, its `nth`, starting at `start`.
    pub(super) fn count_member(
        &mut self,
        start: usize,
        rank: Option<&str>,
        nth: usize,
    ) -> Result<(), ScanError> {
        self.members += 1;
        let (limit, inside) = match rank {
            Some(rank) if nth > MAX_RANK_MEMBERS => {
                (MAX_RANK_MEMBERS, format!("scalar members in rank `{rank}`"))
            }
            _ if self.members > MAX_MEMBERS => {
                (MAX_MEMBERS, "ranks and scalar members in the file".into())
            }
            _ => return Ok(()),
        };
        Err(self.err(start, ScanErrorKind::TooManyMembers { limit, inside }))
    }

    /// At `{` of a rank object: collects its scalar members, skips the rest.
    pub(super) fn rank_object(&mut self, rank: &str) -> Result<Vec<(String, Scalar)>, ScanError> {
        self.pos += 1;
        let here = Path {
            rank: Some(rank),
            member: None,
        };
        let mut members = Vec::new();
        if self.empty_object(here)? {
            return Ok(members);
        }
        loop {
            let start = self.pos;
            let key = self.key(here)?;
            let path = Path {
                rank: Some(rank),
                member: Some(&key),
            };
            self.colon(path)?;
            match self.value(path)? {
                Value::Scalar(s) => {
                    self.count_member(start, Some(rank), members.len() + 1)?;
                    members.push((key, s));
                }
                Value::Array | Value::Object => self.skip_container(path)?,
            }
            if !self.comma_or_end(here)? {
                return Ok(members);
            }
        }
    }

    /// Reads a scalar, or reports (without consuming) that an array/object starts here.
    pub(super) fn value(&mut self, path: Path<'_>) -> Result<Value, ScanError> {
        let b = self.b;
        let Some(c) = self.peek() else {
            return Err(self.truncated(path));
        };
        let scalar = match c {
            b'{' => return Ok(Value::Object),
            b'[' => return Ok(Value::Array),
            b'"' => Scalar::Str(self.string(path)?),
            b't' => self.literal(b"true", "`true`", Scalar::Bool(true), path)?,
            b'f' => self.literal(b"false", "`false`", Scalar::Bool(false), path)?,
            b'n' => self.literal(b"null", "`null`", Scalar::Null, path)?,
            b'N' => self.literal(b"NaN", "`NaN`", Scalar::NonFinite(NonFinite::NaN), path)?,
            b'I' => self.literal(
                b"Infinity",
                "`Infinity`",
                Scalar::NonFinite(NonFinite::Infinity),
                path,
            )?,
            b'-' if b.get(self.pos + 1) == Some(&b'I') => self.literal(
                b"-Infinity",
                "`-Infinity`",
                Scalar::NonFinite(NonFinite::NegInfinity),
                path,
            )?,
            b'-' | b'0'..=b'9' | b'+' | b'.' => Scalar::Number(self.number(path)?),
            _ => return Err(self.unexpected("a value")),
        };
        Ok(Value::Scalar(scalar))
    }

    pub(super) fn literal(
        &mut self,
        lit: &'static [u8],
        expected: &'static str,
        value: Scalar,
        path: Path<'_>,
    ) -> Result<Scalar, ScanError> {
        let rest = &self.b[self.pos..];
        if rest.starts_with(lit) {
            self.pos += lit.len();
            Ok(value)
        } else if lit.starts_with(rest) {
            // The file ends part-way through the token.
            Err(self.truncated(path))
        } else {
            let found = token(rest);
            Err(self.err(self.pos, ScanErrorKind::Unexpected { expected, found }))
        }
    }

    /// Validates the JSON number grammar, then lets `str::parse` do correctly rounded conversion.
    pub(super) fn number(&mut self, path: Path<'_>) -> Result<f64, ScanError> {
        let b = self.b;
        let start = self.pos;
        let mut i = start;
        let digits = |mut i: usize| {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let invalid = |this: &Self| {
            this.err(
                start,
                ScanErrorKind::InvalidNumber {
                    text: token(&b[start..]),
                },
            )
        };
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(i + 1),
            Some(_) => return Err(invalid(self)),
            None => return Err(self.truncated(path)),
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            match b.get(i) {
                Some(c) if c.is_ascii_digit() => i = digits(i),
                Some(_) => return Err(invalid(self)),
                None => return Err(self.truncated(path)),
            }
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            match b.get(i) {
                Some(c) if c.is_ascii_digit() => i = digits(i),
                Some(_) => return Err(invalid(self)),
                None => return Err(self.truncated(path)),
            }
        }
        // `01`, `1.5.3`, `2x`: the grammar stopped but the token goes on.
        if b.get(i).is_some_and(|&c| is_token_byte(c)) {
            return Err(invalid(self));
        }
        let text = std::str::from_utf8(&b[start..i]).map_err(|_| invalid(self))?;
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => {
                self.pos = i;
                Ok(v)
            }
            _ => Err(invalid(self)),
        }
    }

    /// At `"`: reads a string with full escape handling and UTF-8 validation.
    pub(super) fn string(&mut self, path: Path<'_>) -> Result<String, ScanError> {
        let b = self.b;
        let mut out = String::new();
        let mut i = self.pos + 1;
        loop {
            let stop = memchr::memchr2(b'"', b'\\', &b[i..]).map(|k| i + k);
            let seg = &b[i..stop.unwrap_or(b.len())];
            if let Some(k) = seg.iter().position(|&c| c < 0x20) {
                return Err(self.err(
                    i + k,
                    ScanErrorKind::InvalidString {
                        reason: "control character (must be escaped)",
                    },
                ));
            }
            match std::str::from_utf8(seg) {
                Ok(s) => out.push_str(s),
                // A multi-byte char cut off by the end of the file is truncation, not bad UTF-8.
                Err(e) if e.error_len().is_none() && stop.is_none() => {
                    return Err(self.truncated(path));
                }
                Err(e) => {
                    return Err(self.err(
                        i + e.valid_up_to(),
                        ScanErrorKind::InvalidString {
                            reason: "invalid UTF-8",
                        },
                    ));
                }
            }
            let Some(j) = stop else {
                return Err(self.truncated(path));
            };
            if b[j] == b'"' {
                self.pos = j + 1;
                return Ok(out);
            }
            let simple = match b.get(j + 1) {
                None => return Err(self.truncated(path)),
                Some(b'"') => '"',
                Some(b'\\') => '\\',
                Some(b'/') => '/',
                Some(b'b') => '\u{8}',
                Some(b'f') => '\u{c}',
                Some(b'n') => '\n',
                Some(b'r') => '\r',
                Some(b't') => '\t',
                Some(b'u') => {
                    let (c, next) = self.unicode_escape(j, path)?;
                    out.push(c);
                    i = next;
                    continue;
                }
                Some(_) => {
                    return Err(self.err(
                        j,
                        ScanErrorKind::InvalidString {
                            reason: "invalid escape",
                        },
                    ));
                }
            };
            out.push(simple);
            i = j + 2;
        }
    }

    /// At the `\` of `\uXXXX`; combines surrogate pairs. Returns the char and the offset after it.
    pub(super) fn unicode_escape(
        &self,
        j: usize,
        path: Path<'_>,
    ) -> Result<(char, usize), ScanError> {
        let b = self.b;
        let bad = |reason| self.err(j, ScanErrorKind::InvalidString { reason });
        let hex4 = |at: usize| -> Result<u32, ScanError> {
            let mut v = 0;
            for k in at..at + 4 {
                let Some(&c) = b.get(k) else {
                    return Err(self.truncated(path));
                };
                let d = (c as char)
                    .to_digit(16)
                    .ok_or_else(|| bad("invalid `\\u` escape"))?;
                v = v * 16 + d;
            }
            Ok(v)
        };
        let hi = hex4(j + 2)?;
        let (cp, next) = match hi {
            0xD800..=0xDBFF => {
                match (b.get(j + 6), b.get(j + 7)) {
                    (Some(b'\\'), Some(b'u')) => {}
                    (None, _) | (Some(b'\\'), None) => return Err(self.truncated(path)),
                    _ => return Err(bad("unpaired surrogate in `\\u` escape")),
                }
                let lo = hex4(j + 8)?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(bad("unpaired surrogate in `\\u` escape"));
                }
                (0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00), j + 12)
            }
            0xDC00..=0xDFFF => return Err(bad("unpaired surrogate in `\\u` escape")),
            _ => (hi, j + 6),
        };
        let c = char::from_u32(cp).ok_or_else(|| bad("invalid `\\u` escape"))?;
        Ok((c, next))
    }

    /// At `[` or `{`: jumps past the matching bracket without materialising anything.
    pub(super) fn skip_container(&mut self, path: Path<'_>) -> Result<(), ScanError> {
        let mut skipper = Skipper::new(self.b[self.pos]);
        match skipper.skip(&self.b[self.pos + 1..]) {
            Some(read) => {
                self.pos += 1 + read;
                Ok(())
            }
            None => Err(self.truncated(path)),
        }
    }
}
