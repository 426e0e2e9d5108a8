//! Fast, partial reader for GPU-memory trace JSON files.
//!
//! A trace is `{"<rank>": {"samples": [...], "peak_allocated_MB": ..., ...}, ...}`. The heatmap only
//! needs the scalar members of each rank object, but `samples` is 99% of the bytes, so a full JSON
//! parse (serde_json) spends nearly all its time building values we throw away. This module parses
//! the two outer levels properly and *skips* every nested array/object by tracking only brackets and
//! string boundaries, which runs at close to `memchr` speed.
//!
//! Deliberate leniency, limited to the skipped containers (we never read them):
//! - their numbers, literals, commas and colons are not validated;
//! - their strings are delimited exactly (escapes honoured) but not checked for UTF-8 or control chars;
//! - only brackets of the container's own kind are matched (`[`/`]` for arrays, `{`/`}` for objects),
//!   so a mis-nested document (`[{]}`) is read leniently rather than rejected;
//! - a `Truncated` error inside one reports the member's path (`0.samples`), not the deeper position.
//!
//! Because containers are invisible, a key that occurs first as a scalar and later as an array or
//! object keeps its scalar for a "last one wins" caller, whereas Python would see the container.
//!
//! Everything outside skipped containers is strict JSON, plus Python's `NaN`, `Infinity` and
//! `-Infinity` (which `json.dump` writes) and a leading UTF-8 byte-order mark.

use std::fmt;

mod parser;
mod skip;
mod stream;
pub(crate) mod values;

pub(crate) use parser::scan;
use skip::{Skipper, chars};
pub(crate) use stream::{ReadError, read};

/// One top-level member of the trace document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rank {
    pub key: String,
    pub value: RankValue,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RankValue {
    /// The member was an object: its scalar members, in document order (duplicates kept; callers take the last).
    /// Members that are arrays or objects (e.g. `samples`) are skipped, not materialised.
    Object(Vec<(String, Scalar)>),
    /// The member was an array, string, number, bool or null: not a rank payload. Holds a short description
    /// such as "an array" / "a number" for error messages.
    NotAnObject(&'static str),
}

/// A scalar member value. `Number` is always finite: out-of-range literals such as `1e400` are
/// rejected (as serde_json does) so that non-finite values only ever come from explicit tokens.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Number(f64),
    NonFinite(NonFinite),
    Str(String),
    Bool(bool),
    Null,
}

/// Python's non-standard float tokens, kept distinct from numbers so callers can report them verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonFinite {
    NaN,
    Infinity,
    NegInfinity,
}

impl NonFinite {
    fn token(self) -> &'static str {
        match self {
            NonFinite::NaN => "NaN",
            NonFinite::Infinity => "Infinity",
            NonFinite::NegInfinity => "-Infinity",
        }
    }
}

impl fmt::Display for NonFinite {
    /// The exact token as it appears in the file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

/// Why and where a scan failed. `offset` is a byte offset; `line` and `column` are 1-based and
/// `column` counts characters (not bytes) of the line, for editor-friendly messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScanError {
    pub kind: ScanErrorKind,
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScanErrorKind {
    /// The file ends inside a value. `inside` is the key path being read, e.g. `0.samples` or `` (top level).
    Truncated { inside: String },
    /// An unexpected byte/char. `expected` says what was wanted ("`,` or `}`", "a value", "a string key", ...).
    /// `found` is the char, a short token (e.g. `tru`), or `0xNN` for control and non-UTF-8 bytes.
    Unexpected {
        expected: &'static str,
        found: String,
    },
    /// The whole document is not an object; `found` describes what it is ("an array", ...).
    NotAnObject { found: &'static str },
    /// Something other than whitespace follows the top-level object.
    TrailingCharacters,
    /// A number that breaks the JSON grammar (`01`, `1.`, `.5`, `+1`) or overflows `f64`.
    InvalidNumber { text: String },
    /// A bad escape, invalid UTF-8 or a raw control character in a string we read.
    InvalidString { reason: &'static str },
    /// Zero bytes or only whitespace.
    Empty,
    /// More than `limit` bytes of keys and scalars outside skipped containers (see `read`).
    TooLarge { limit: usize },
    /// More than `limit` of what `inside` says (scalar members of a rank, or ranks and scalar
    /// members of the file).
    TooManyMembers { limit: usize, inside: String },
    /// A NUL byte, which JSON has nowhere (not even in a string), and which a sparse or
    /// preallocated file is full of: reading stops at a hole, even inside a skipped container.
    Nul,
}

impl ScanError {
    /// Builds an error, computing line/column only now: this is the cold path.
    fn at(bytes: &[u8], offset: usize, kind: ScanErrorKind) -> ScanError {
        let offset = offset.min(bytes.len());
        let head = &bytes[..offset];
        let line = memchr::memchr_iter(b'\n', head).count() + 1;
        let line_start = memchr::memrchr(b'\n', head).map_or(0, |p| p + 1);
        let column = chars(&head[line_start..]) + 1;
        ScanError {
            kind,
            offset,
            line,
            column,
        }
    }
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} column {} (byte {}): ",
            self.line, self.column, self.offset
        )?;
        match &self.kind {
            ScanErrorKind::Truncated { inside } if inside.is_empty() => {
                f.write_str("unexpected end of file inside the top-level object")
            }
            ScanErrorKind::Truncated { inside } => {
                write!(f, "unexpected end of file inside `{inside}`")
            }
            ScanErrorKind::Unexpected { expected, found } => {
                if found.len() == 4 && found.starts_with("0x") {
                    write!(f, "expected {expected}, found byte {found}")
                } else {
                    write!(f, "expected {expected}, found `{found}`")
                }
            }
            ScanErrorKind::NotAnObject { found } => {
                write!(
                    f,
                    "expected the document to be a JSON object, found {found}"
                )
            }
            ScanErrorKind::TrailingCharacters => {
                f.write_str("trailing characters after the top-level object")
            }
            ScanErrorKind::InvalidNumber { text } => write!(f, "invalid number `{text}`"),
            ScanErrorKind::InvalidString { reason } => write!(f, "invalid string: {reason}"),
            ScanErrorKind::Empty => f.write_str("empty document"),
            ScanErrorKind::TooManyMembers { limit, inside } => write!(
                f,
                "more than {limit} {inside}, where a memory trace has a few dozen scalar members per rank"
            ),
            ScanErrorKind::Nul => f.write_str(
                "a NUL byte, which JSON never holds (a file preallocated, or cut short by a crash?)",
            ),
            ScanErrorKind::TooLarge { limit } => write!(
                f,
                "more than {} MiB of keys and scalar values outside arrays and objects, \
                 where a memory trace holds a few KiB",
                limit >> 20
            ),
        }
    }
}

impl std::error::Error for ScanError {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE: &str = r#"{"0": {"samples": [{"timestamp_s": 0.1, "reserved_memory_MB": 100.0, "allocated_memory_MB": 80.0}, {"timestamp_s": 0.2, "reserved_memory_MB": 120.5, "allocated_memory_MB": 90.25}], "peak_allocated_MB": 58716.72, "theoretical_memory_MB": 140204.06}}"#;

    fn obj(r: &Rank) -> &[(String, Scalar)] {
        match &r.value {
            RankValue::Object(m) => m,
            RankValue::NotAnObject(d) => panic!("rank {} is {d}", r.key),
        }
    }

    fn members(doc: &str) -> Vec<(String, Scalar)> {
        let ranks = scan(doc.as_bytes()).unwrap();
        assert_eq!(ranks.len(), 1);
        obj(&ranks[0]).to_vec()
    }

    fn kind(doc: &[u8]) -> ScanErrorKind {
        assert_eq!(None, streamed_difference(doc));
        scan(doc).unwrap_err().kind
    }

    fn num(k: &str, v: f64) -> (String, Scalar) {
        (k.to_owned(), Scalar::Number(v))
    }

    fn unexpected(expected: &'static str, found: &str) -> ScanErrorKind {
        ScanErrorKind::Unexpected {
            expected,
            found: found.to_owned(),
        }
    }

    fn truncated(inside: &str) -> ScanErrorKind {
        ScanErrorKind::Truncated {
            inside: inside.to_owned(),
        }
    }

    #[test]
    fn example() {
        let ranks = scan(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(ranks.len(), 1);
        assert_eq!(ranks[0].key, "0");
        assert_eq!(
            obj(&ranks[0]),
            [
                num("peak_allocated_MB", 58716.72),
                num("theoretical_memory_MB", 140204.06)
            ]
        );
    }

    #[test]
    fn empty_object_and_empty_rank() {
        assert_eq!(scan(b"{}").unwrap(), vec![]);
        assert_eq!(scan(b" \n\t{ \r\n } \n").unwrap(), vec![]);
        assert_eq!(members(r#"{"0": { }}"#), vec![]);
        assert_eq!(members(r#"{"0": {"samples": []}}"#), vec![]);
        assert_eq!(members("\u{feff}{\"0\": {}}"), vec![]);
    }

    #[test]
    fn several_ranks_and_non_object_ranks() {
        let doc = r#"{"0": {"a": 1}, "1": {"a": 2}, "arr": [1, {"x": "]"}], "n": -3.5e2,
            "s": "x", "t": true, "f": false, "z": null, "nan": NaN, "inf": -Infinity, "1": {}}"#;
        let ranks = scan(doc.as_bytes()).unwrap();
        let got: Vec<(&str, &RankValue)> = ranks.iter().map(|r| (&*r.key, &r.value)).collect();
        let o = |v: Vec<(String, Scalar)>| RankValue::Object(v);
        assert_eq!(
            got,
            [
                ("0", &o(vec![num("a", 1.0)])),
                ("1", &o(vec![num("a", 2.0)])),
                ("arr", &RankValue::NotAnObject("an array")),
                ("n", &RankValue::NotAnObject("a number")),
                ("s", &RankValue::NotAnObject("a string")),
                ("t", &RankValue::NotAnObject("a boolean")),
                ("f", &RankValue::NotAnObject("a boolean")),
                ("z", &RankValue::NotAnObject("null")),
                ("nan", &RankValue::NotAnObject("a number")),
                ("inf", &RankValue::NotAnObject("a number")),
                ("1", &o(vec![])),
            ]
        );
    }

    #[test]
    fn field_order_and_extra_fields() {
        let doc = r#"{"0": {"peak_allocated_MB": 1.5, "samples": [{"t": 1}], "static_memory_MB": 2,
            "theoretical_memory_MB": 3e3, "note": "hi", "ok": true, "none": null, "peak_allocated_MB": 4}}"#;
        assert_eq!(
            members(doc),
            [
                num("peak_allocated_MB", 1.5),
                num("static_memory_MB", 2.0),
                num("theoretical_memory_MB", 3000.0),
                ("note".into(), Scalar::Str("hi".into())),
                ("ok".into(), Scalar::Bool(true)),
                ("none".into(), Scalar::Null),
                num("peak_allocated_MB", 4.0),
            ]
        );
    }

    #[test]
    fn nested_containers_are_skipped() {
        let doc = r#"{"0": {"cfg": {"a": {"b": [1, [2, [3]], {"c": {}}]}, "d": []}, "x": 1,
            "grid": [[1, 2], [3, [4, 5]], [], [[]]], "y": 2, "o": {}, "e": [], "z": 3}}"#;
        assert_eq!(members(doc), [num("x", 1.0), num("y", 2.0), num("z", 3.0)]);
    }

    #[test]
    fn tricky_strings_inside_skipped_containers() {
        let doc = r#"{"0": {"samples": [{"k]\"[": 1, "v": "]]]"}, {"\\": "\\"}, {"q": "\"]"},
            {"b": "\\\"]\\"}, {"u": "\u005d\u0022]"}, "[", "\\\\]", {"}": "{"}],
            "o": {"}": "}}", "\"}": {"{": "\\"}, "x": ["}"]}, "after": "k]\"[", "n": 1}}"#;
        assert_eq!(
            members(doc),
            [("after".into(), Scalar::Str("k]\"[".into())), num("n", 1.0)]
        );
    }

    #[test]
    fn escaped_keys() {
        let doc = r#"{"caf\u00e9 \ud83d\ude00": {"\"\\\/\b\f\n\r\t": 1, "\u00E9": 2, "é😀": 3}}"#;
        let ranks = scan(doc.as_bytes()).unwrap();
        assert_eq!(ranks[0].key, "café 😀");
        assert_eq!(
            obj(&ranks[0]),
            [
                num("\"\\/\u{8}\u{c}\n\r\t", 1.0),
                num("é", 2.0),
                num("é😀", 3.0)
            ]
        );
    }

    #[test]
    fn non_finite_tokens() {
        let doc = r#"{"0": {"samples": [{"t": NaN, "a": Infinity, "b": -Infinity}, [NaN]],
            "a": NaN, "b": Infinity, "c": -Infinity, "d": -0.0}}"#;
        let m = members(doc);
        assert_eq!(
            m[..3],
            [
                ("a".into(), Scalar::NonFinite(NonFinite::NaN)),
                ("b".into(), Scalar::NonFinite(NonFinite::Infinity)),
                ("c".into(), Scalar::NonFinite(NonFinite::NegInfinity)),
            ]
        );
        assert!(matches!(m[3].1, Scalar::Number(z) if z == 0.0 && z.is_sign_negative()));
        assert_eq!(NonFinite::NaN.to_string(), "NaN");
        assert_eq!(NonFinite::Infinity.to_string(), "Infinity");
        assert_eq!(NonFinite::NegInfinity.to_string(), "-Infinity");
    }

    #[test]
    fn numbers() {
        let doc = r#"{"0": {"a": 0, "b": -0.5, "c": 1E+2, "d": 1e-2, "e": 12345678901234567890, "f": 5e-324}}"#;
        let m = members(doc);
        let vals: Vec<f64> = m
            .iter()
            .map(|(_, s)| match s {
                Scalar::Number(v) => *v,
                _ => panic!(),
            })
            .collect();
        assert_eq!(
            vals,
            [0.0, -0.5, 100.0, 0.01, 1.2345678901234567e19, 5e-324]
        );
        for bad in [
            "01", "1.", ".5", "+1", "-", "-a", "1e", "1e+", "1.5.3", "2x", "-01", "1e400", "-NaN",
        ] {
            let doc = format!(r#"{{"0": {{"a": {bad}}}}}"#);
            assert_eq!(
                kind(doc.as_bytes()),
                ScanErrorKind::InvalidNumber { text: bad.into() },
                "{bad}"
            );
        }
    }

    /// Truncating a valid document anywhere before its final `}` must fail, never succeed or panic.
    #[test]
    fn truncation_at_every_offset() {
        let doc = EXAMPLE.as_bytes();
        let samples_open = EXAMPLE.find('[').unwrap();
        let samples_close = EXAMPLE.find("],").unwrap();
        for cut in 0..doc.len() {
            assert_eq!(None, streamed_difference(&doc[..cut]));
            let err = scan(&doc[..cut]).unwrap_err();
            assert_eq!(err.offset, cut, "cut {cut}");
            if cut == 0 {
                assert_eq!(err.kind, ScanErrorKind::Empty);
            } else if cut > samples_open && cut <= samples_close {
                assert_eq!(err.kind, truncated("0.samples"), "cut {cut}");
            } else {
                assert!(
                    matches!(err.kind, ScanErrorKind::Truncated { .. }),
                    "cut {cut}: {err}"
                );
            }
        }
        assert!(scan(doc).is_ok());
    }

    #[test]
    fn truncation_paths() {
        let cases = [
            (r#"{"#, ""),
            (r#"{"0"#, ""),
            (r#"{"0""#, "0"),
            (r#"{"0": "#, "0"),
            (r#"{"0": [1, "]"#, "0"),
            (r#"{"0": {"#, "0"),
            (r#"{"0": {"pe"#, "0"),
            (r#"{"0": {"peak""#, "0.peak"),
            (r#"{"0": {"peak": -"#, "0.peak"),
            (r#"{"0": {"peak": 1."#, "0.peak"),
            (r#"{"0": {"peak": 1e-"#, "0.peak"),
            (r#"{"0": {"peak": tr"#, "0.peak"),
            (r#"{"0": {"peak": -Inf"#, "0.peak"),
            (r#"{"0": {"peak": "x\"#, "0.peak"),
            (r#"{"0": {"peak": "x\u12"#, "0.peak"),
            (r#"{"0": {"peak": "\ud83d"#, "0.peak"),
            (r#"{"0": {"peak": "\ud83d\"#, "0.peak"),
            (r#"{"0": {"peak": 1"#, "0"),
            (r#"{"0": {"peak": 1,"#, "0"),
            (r#"{"0": {"s": [{"a": "\"#, "0.s"),
            (r#"{"0": {"s": [[[]]"#, "0.s"),
            (r#"{"0": {"s": {"}": "#, "0.s"),
            (r#"{"0": {}"#, ""),
        ];
        for (doc, inside) in cases {
            assert_eq!(kind(doc.as_bytes()), truncated(inside), "{doc}");
        }
        // A multi-byte char cut in half at the end of the file is truncation, not bad UTF-8.
        assert_eq!(kind(&"{\"0\": {\"é".as_bytes()[..9]), truncated("0"));
    }

    #[test]
    fn error_positions() {
        // `}` is the 12th char but the 13th byte of line 3 (é is two bytes).
        let doc = "{\n  \"0\": {\n    \"é\": 1,}\n}";
        let err = scan(doc.as_bytes()).unwrap_err();
        assert_eq!(err.kind, unexpected("a string key", "}"));
        assert_eq!((err.offset, err.line, err.column), (23, 3, 12));
        assert_eq!(
            err.to_string(),
            "line 3 column 12 (byte 23): expected a string key, found `}`"
        );

        let doc = "{\n \"0\": {\n  \"samples\": [1, 2";
        let err = scan(doc.as_bytes()).unwrap_err();
        assert_eq!((err.offset, err.line, err.column), (doc.len(), 3, 19));
        assert_eq!(
            err.to_string(),
            "line 3 column 19 (byte 28): unexpected end of file inside `0.samples`"
        );

        let err = scan(b"{\"0\": {\"a\": \"x\ny\"}}").unwrap_err();
        assert_eq!(
            err.kind,
            ScanErrorKind::InvalidString {
                reason: "control character (must be escaped)"
            }
        );
        assert_eq!((err.offset, err.line, err.column), (14, 1, 15));

        // After a skipped container of several lines, which `read` drops before scanning.
        let doc = "{\n \"0\": {\n  \"samples\": [\n   1,\n   2\n  ],\n  \"a\": x}}";
        let err = scan(doc.as_bytes()).unwrap_err();
        assert_eq!((err.offset, err.line, err.column), (48, 7, 8));
        assert_eq!(None, streamed_difference(doc.as_bytes()));
    }

    #[test]
    fn malformed() {
        assert_eq!(
            kind(br#"{"0": {"a": 1,}}"#),
            unexpected("a string key", "}")
        );
        assert_eq!(kind(br#"{"0" 1}"#), unexpected("`:`", "1"));
        assert_eq!(
            kind(b"[1]"),
            ScanErrorKind::NotAnObject { found: "an array" }
        );
        assert_eq!(
            kind(b" 12"),
            ScanErrorKind::NotAnObject { found: "a number" }
        );
        assert_eq!(
            kind(b"\"s\""),
            ScanErrorKind::NotAnObject { found: "a string" }
        );
        assert_eq!(kind(b"null"), ScanErrorKind::NotAnObject { found: "null" });
        assert_eq!(
            kind(b"NaN"),
            ScanErrorKind::NotAnObject { found: "a number" }
        );
        assert_eq!(kind(b"nope"), unexpected("a JSON object", "n"));
        assert_eq!(
            kind(br#"{"0": {"a": 01}}"#),
            ScanErrorKind::InvalidNumber { text: "01".into() }
        );
        assert_eq!(kind(br#"{"0": {}} x"#), ScanErrorKind::TrailingCharacters);
        assert_eq!(kind(br#"{"0": {}}}"#), ScanErrorKind::TrailingCharacters);
        assert_eq!(kind(br#"{} {}"#), ScanErrorKind::TrailingCharacters);
        assert_eq!(kind(b""), ScanErrorKind::Empty);
        assert_eq!(kind(b" \n\t\r "), ScanErrorKind::Empty);
        assert_eq!(kind(b"{"), truncated(""));
        assert_eq!(
            kind(br#"{"0": {"a": 1 "b": 2}}"#),
            unexpected("`,` or `}`", "\"")
        );
        assert_eq!(kind(br#"{"0": {"a": }}"#), unexpected("a value", "}"));
        assert_eq!(kind(br#"{"0": {"a": tru}}"#), unexpected("`true`", "tru"));
        assert_eq!(kind(br#"{"0": {"a": nan}}"#), unexpected("`null`", "nan"));
        assert_eq!(kind(br#"{0: {}}"#), unexpected("a string key", "0"));
        assert_eq!(
            kind(b"{\"0\": {\"a\": \x01}}"),
            unexpected("a value", "0x01")
        );
        assert_eq!(
            kind(br#"{"0": {"a": 1},}"#),
            unexpected("a string key", "}")
        );
        for (doc, reason) in [
            (&br#"{"\x": 1}"#[..], "invalid escape"),
            (br#"{"\u12g4": 1}"#, "invalid `\\u` escape"),
            (br#"{"\udc00": 1}"#, "unpaired surrogate in `\\u` escape"),
            (br#"{"\ud800x": 1}"#, "unpaired surrogate in `\\u` escape"),
            (
                br#"{"\ud800\u0041": 1}"#,
                "unpaired surrogate in `\\u` escape",
            ),
            (b"{\"\xff\": 1}", "invalid UTF-8"),
            (b"{\"\xc3(\": 1}", "invalid UTF-8"),
            (b"{\"\t\": 1}", "control character (must be escaped)"),
        ] {
            assert_eq!(
                kind(doc),
                ScanErrorKind::InvalidString { reason },
                "{doc:?}"
            );
        }
        // Skipped containers are deliberately not validated.
        assert!(scan(br#"{"0": {"s": [01, +1, garbage, {]}}"#).is_ok());
    }

    #[test]
    fn display() {
        let msg = |doc: &[u8]| scan(doc).unwrap_err().to_string();
        assert_eq!(msg(b""), "line 1 column 1 (byte 0): empty document");
        assert_eq!(
            msg(b"{"),
            "line 1 column 2 (byte 1): unexpected end of file inside the top-level object"
        );
        assert_eq!(
            msg(b"[]"),
            "line 1 column 1 (byte 0): expected the document to be a JSON object, found an array"
        );
        assert_eq!(
            msg(b"{}x"),
            "line 1 column 3 (byte 2): trailing characters after the top-level object"
        );
        assert_eq!(
            msg(br#"{"0": {"a": 1.}}"#),
            "line 1 column 13 (byte 12): invalid number `1.`"
        );
        assert_eq!(
            msg(b"{\"0\": {\"a\": \x00}}"),
            "line 1 column 13 (byte 12): expected a value, found byte 0x00"
        );
        assert_eq!(
            msg(br#"{"\q": 1}"#),
            "line 1 column 3 (byte 2): invalid string: invalid escape"
        );
        let e: Box<dyn std::error::Error> = Box::new(scan(b"{").unwrap_err());
        assert!(e.to_string().starts_with("line 1"));
    }

    // ---- property tests ----------------------------------------------------------------------

    /// Values as generated; `Num` keeps its JSON text so the model can parse it like `scan` does.
    #[derive(Debug, Clone)]
    enum G {
        Num(String),
        Str(String),
        Bool(bool),
        Null,
        NonFinite(NonFinite),
        Arr(Vec<G>),
        Obj(Vec<(String, G)>),
    }

    impl G {
        fn is_container(&self) -> bool {
            matches!(self, G::Arr(_) | G::Obj(_))
        }

        fn scalar(&self) -> Option<Scalar> {
            Some(match self {
                G::Num(t) => Scalar::Number(t.parse().unwrap()),
                G::Str(s) => Scalar::Str(s.clone()),
                G::Bool(b) => Scalar::Bool(*b),
                G::Null => Scalar::Null,
                G::NonFinite(n) => Scalar::NonFinite(*n),
                G::Arr(_) | G::Obj(_) => return None,
            })
        }
    }

    /// Strings rich in the bytes that matter to the skipper: brackets, quotes, backslashes.
    fn arb_string() -> impl Strategy<Value = String> {
        let c = prop_oneof![
            4 => proptest::char::range('a', 'z'),
            1 => Just('"'),
            1 => Just('\\'),
            1 => Just('['),
            1 => Just(']'),
            1 => Just('{'),
            1 => Just('}'),
            1 => Just('/'),
            1 => Just('\n'),
            1 => Just('\u{1}'),
            1 => Just('é'),
            1 => Just('😀'),
            1 => any::<char>(),
        ];
        proptest::collection::vec(c, 0..8).prop_map(String::from_iter)
    }

    fn arb_key() -> impl Strategy<Value = String> {
        // A small pool makes duplicate keys likely.
        prop_oneof![
            1 => prop::sample::select(vec!["0", "1", "samples", "peak_allocated_MB"])
                .prop_map(str::to_owned),
            2 => arb_string(),
        ]
    }

    fn arb_number() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| serde_json::to_string(&f).unwrap()),
            any::<i64>().prop_map(|i| i.to_string()),
            "-?(0|[1-9][0-9]{0,5})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,2})?",
        ]
    }

    fn arb_scalar(non_finite: bool) -> BoxedStrategy<G> {
        let nf = if non_finite { 1 } else { 0 };
        prop_oneof![
            3 => arb_number().prop_map(G::Num),
            3 => arb_string().prop_map(G::Str),
            1 => any::<bool>().prop_map(G::Bool),
            1 => Just(G::Null),
            nf => prop_oneof![
                Just(NonFinite::NaN),
                Just(NonFinite::Infinity),
                Just(NonFinite::NegInfinity)
            ]
            .prop_map(G::NonFinite),
        ]
        .boxed()
    }

    fn arb_container(non_finite: bool) -> BoxedStrategy<G> {
        let leaf = arb_scalar(non_finite);
        let tree = leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(G::Arr),
                proptest::collection::vec((arb_string(), inner), 0..6).prop_map(G::Obj),
            ]
        });
        prop_oneof![
            proptest::collection::vec(tree.clone(), 0..6).prop_map(G::Arr),
            proptest::collection::vec((arb_string(), tree), 0..6).prop_map(G::Obj),
        ]
        .boxed()
    }

    type Doc = Vec<(String, G)>;

    /// Trace-shaped documents: rank objects whose members are scalars or containers, plus some
    /// non-object ranks. Scalar keys that collide with a container key in the same rank are dropped,
    /// because there "last one wins" differs between us (containers are invisible) and serde_json.
    fn arb_doc(non_finite: bool) -> impl Strategy<Value = (Doc, u64)> {
        let member = prop_oneof![
            2 => arb_scalar(non_finite),
            1 => arb_container(non_finite),
        ];
        let rank = prop_oneof![
            4 => proptest::collection::vec((arb_key(), member), 0..8).prop_map(|ms| {
                let containers: Vec<String> = ms
                    .iter()
                    .filter(|(_, v)| v.is_container())
                    .map(|(k, _)| k.clone())
                    .collect();
                G::Obj(
                    ms.into_iter()
                        .filter(|(k, v)| v.is_container() || !containers.contains(k))
                        .collect(),
                )
            }),
            1 => arb_scalar(non_finite),
            1 => arb_container(non_finite).prop_filter("array", |g| matches!(g, G::Arr(_))),
        ];
        (
            proptest::collection::vec((arb_key(), rank), 0..5),
            any::<u64>(),
        )
    }

    /// Serialises with random whitespace and random (but valid) string escapes.
    struct Writer {
        out: String,
        rng: u64,
    }

    impl Writer {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.rng ^= self.rng >> 12;
            self.rng ^= self.rng << 25;
            self.rng ^= self.rng >> 27;
            self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn ws(&mut self) {
            let w = [" ", "", "", "\n", "\t", "\r\n  "][(self.next() % 6) as usize];
            self.out.push_str(w);
        }

        fn string(&mut self, s: &str) {
            self.out.push('"');
            for c in s.chars() {
                let r = self.next() % 4;
                let short = match c {
                    '"' => Some("\\\""),
                    '\\' => Some("\\\\"),
                    '/' if r == 0 => Some("\\/"),
                    '\n' => Some("\\n"),
                    '\t' => Some("\\t"),
                    '\r' => Some("\\r"),
                    '\u{8}' => Some("\\b"),
                    '\u{c}' => Some("\\f"),
                    _ => None,
                };
                if c < ' ' || r == 1 {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        let hex = format!("\\u{u:04x}");
                        if self.next() & 1 == 0 {
                            self.out.push_str(&hex.to_uppercase().replace("\\U", "\\u"));
                        } else {
                            self.out.push_str(&hex);
                        }
                    }
                } else if let Some(e) = short {
                    self.out.push_str(e);
                } else {
                    self.out.push(c);
                }
            }
            self.out.push('"');
        }

        fn value(&mut self, g: &G) {
            match g {
                G::Num(t) => self.out.push_str(t),
                G::Str(s) => self.string(s),
                G::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
                G::Null => self.out.push_str("null"),
                G::NonFinite(n) => self.out.push_str(n.token()),
                G::Arr(items) => {
                    self.out.push('[');
                    for (i, v) in items.iter().enumerate() {
                        if i > 0 {
                            self.out.push(',');
                        }
                        self.ws();
                        self.value(v);
                        self.ws();
                    }
                    self.ws();
                    self.out.push(']');
                }
                G::Obj(members) => self.object(members),
            }
        }

        fn object(&mut self, members: &[(String, G)]) {
            self.out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.ws();
                self.string(k);
                self.ws();
                self.out.push(':');
                self.ws();
                self.value(v);
                self.ws();
            }
            self.ws();
            self.out.push('}');
        }
    }

    fn render(doc: &Doc, seed: u64) -> String {
        let mut w = Writer {
            out: String::new(),
            rng: seed | 1,
        };
        w.ws();
        w.object(doc);
        w.ws();
        w.out
    }

    fn model(doc: &Doc) -> Vec<Rank> {
        doc.iter()
            .map(|(key, g)| Rank {
                key: key.clone(),
                value: match g {
                    G::Obj(ms) => RankValue::Object(
                        ms.iter()
                            .filter_map(|(k, v)| Some((k.clone(), v.scalar()?)))
                            .collect(),
                    ),
                    G::Arr(_) => RankValue::NotAnObject("an array"),
                    G::Num(_) | G::NonFinite(_) => RankValue::NotAnObject("a number"),
                    G::Str(_) => RankValue::NotAnObject("a string"),
                    G::Bool(_) => RankValue::NotAnObject("a boolean"),
                    G::Null => RankValue::NotAnObject("null"),
                },
            })
            .collect()
    }

    fn close_f64(a: f64, b: f64) -> bool {
        // serde_json's default (non-`float_roundtrip`) parser may be a few ulps off the correctly
        // rounded value; exactness is checked against the model, which uses `str::parse` like `scan`.
        // Subnormals have fewer bits, so a few ulps there is an absolute, not a relative, error
        // (a 100,000-case run found -2.3979714994894e-310 read 4 subnormal ulps off).
        let subnormal_ulp = f64::from_bits(1);
        a == b
            || (a - b).abs() <= 1e-14 * a.abs().max(b.abs())
            || (a - b).abs() <= 16.0 * subnormal_ulp
    }

    fn same_scalar(ours: &Scalar, theirs: &serde_json::Value) -> bool {
        use serde_json::Value as V;
        match (ours, theirs) {
            (Scalar::Number(a), V::Number(n)) => close_f64(*a, n.as_f64().unwrap()),
            (Scalar::Str(a), V::String(b)) => a == b,
            (Scalar::Bool(a), V::Bool(b)) => a == b,
            (Scalar::Null, V::Null) => true,
            _ => false,
        }
    }

    /// Last-wins view of what serde_json sees, compared with last-wins of what `scan` returns.
    fn check_against_serde(text: &str, ranks: &[Rank]) {
        use serde_json::Value as V;
        use std::collections::HashMap;
        let v: V = serde_json::from_str(text).unwrap();
        let top = v.as_object().unwrap();
        let ours: HashMap<&str, &RankValue> =
            ranks.iter().map(|r| (r.key.as_str(), &r.value)).collect();
        assert_eq!(ours.len(), top.len());
        for (key, theirs) in top {
            let rv = ours[key.as_str()];
            match (rv, theirs) {
                (RankValue::Object(ms), V::Object(m)) => {
                    let ours: HashMap<&str, &Scalar> =
                        ms.iter().map(|(k, s)| (k.as_str(), s)).collect();
                    let theirs: Vec<(&String, &V)> = m
                        .iter()
                        .filter(|(_, v)| !v.is_array() && !v.is_object())
                        .collect();
                    assert_eq!(ours.len(), theirs.len(), "{key}");
                    for (k, v) in theirs {
                        assert!(same_scalar(ours[k.as_str()], v), "{key}.{k}: {v}");
                    }
                }
                (RankValue::NotAnObject(d), v) => {
                    let want = match v {
                        V::Array(_) => "an array",
                        V::Number(_) => "a number",
                        V::String(_) => "a string",
                        V::Bool(_) => "a boolean",
                        V::Null => "null",
                        V::Object(_) => "an object",
                    };
                    assert_eq!(*d, want);
                }
                (rv, v) => panic!("{key}: {rv:?} vs {v}"),
            }
        }
    }

    /// How `read` through small chunks disagrees with `scan` of the whole document, which it
    /// must not: the same ranks, or the same error at the same offset, line and column. Except
    /// that `read` may stop at a NUL byte (see `stream::hole`), which `scan` reads past.
    fn streamed_difference(bytes: &[u8]) -> Option<String> {
        let scanned = scan(bytes);
        [1, 5, 4096].into_iter().find_map(|chunk| {
            let streamed = stream::read_with(&mut std::io::Cursor::new(bytes), chunk, usize::MAX);
            match (&scanned, &streamed) {
                (_, Err(ReadError::Scan(b)))
                    if b.kind == ScanErrorKind::Nul && bytes.get(b.offset) == Some(&0) =>
                {
                    None
                }
                (Ok(a), Ok(b)) if a == b => None,
                (Err(a), Err(ReadError::Scan(b))) if a == b => None,
                _ => Some(format!(
                    "chunk {chunk}: scan {scanned:?}, read {streamed:?}"
                )),
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn matches_serde_json((doc, seed) in arb_doc(false)) {
            let text = render(&doc, seed);
            let ranks = scan(text.as_bytes()).unwrap();
            prop_assert_eq!(&ranks, &model(&doc));
            check_against_serde(&text, &ranks);
            prop_assert_eq!(None, streamed_difference(text.as_bytes()));
        }

        #[test]
        fn matches_model_with_non_finite((doc, seed) in arb_doc(true)) {
            let text = render(&doc, seed);
            prop_assert_eq!(scan(text.as_bytes()).unwrap(), model(&doc));
        }

        #[test]
        fn truncated_documents_fail((doc, seed) in arb_doc(true), cut in any::<prop::sample::Index>()) {
            let text = render(&doc, seed);
            let end = text.rfind('}').unwrap();
            let cut = cut.index(end + 1);
            let err = scan(&text.as_bytes()[..cut]).unwrap_err();
            prop_assert!(err.offset <= cut);
            prop_assert_eq!(None, streamed_difference(&text.as_bytes()[..cut]));
        }

        #[test]
        fn mutated_documents_do_not_panic(
            (doc, seed) in arb_doc(true),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(b"[]{}\"\\:,0-eE.nN \x00\xff\xc3".to_vec())), 1..4),
        ) {
            let mut bytes = render(&doc, seed).into_bytes();
            for (at, op, byte) in edits {
                let i = at.index(bytes.len() + 1);
                match op {
                    0 => bytes.insert(i, byte),
                    1 if i < bytes.len() => { bytes.remove(i); }
                    _ if i < bytes.len() => bytes[i] = byte,
                    _ => {}
                }
            }
            if let Err(e) = scan(&bytes) {
                prop_assert!(e.offset <= bytes.len() && e.line >= 1 && e.column >= 1);
                let _ = e.to_string();
            }
            prop_assert_eq!(None, streamed_difference(&bytes));
        }

        #[test]
        fn arbitrary_bytes_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = scan(&bytes).map_err(|e| e.to_string());
            prop_assert_eq!(None, streamed_difference(&bytes));
        }

        #[test]
        fn json_ish_bytes_do_not_panic(bytes in proptest::collection::vec(
            prop::sample::select(b"{}[]\"\\:, \n0123456789-+.eEtrufalsnNIiy\\u".to_vec()), 0..128)
        ) {
            let mut v = b"{\"0\": ".to_vec();
            v.extend_from_slice(&bytes);
            let _ = scan(&v).map_err(|e| e.to_string());
            let _ = scan(&bytes).map_err(|e| e.to_string());
            prop_assert_eq!(None, streamed_difference(&v));
            prop_assert_eq!(None, streamed_difference(&bytes));
        }
    }
}
