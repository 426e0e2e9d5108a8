//! Which format a file is in, from its first bytes.
//!
//! A sweep's directory mixes formats (a trace per run next to the job's
//! stdout, a results table), and extensions lie (`.log` for a CSV, `.out`
//! for everything), so each file is told by content. The rules, in order:
//!
//! 0. a `.json` file is a trace (its reader says precisely what is wrong
//!    with it) unless it holds JSON lines (rule 3);
//! 1. a pickle's protocol header (`0x80`, then 2 to 5): a PyTorch memory
//!    snapshot;
//! 2. a NUL byte in the first line: binary, no format;
//! 3. a `{` first (after a byte-order mark and blanks): JSON lines when the
//!    first line is a whole object and a second line is another, or the
//!    one line holds no object inside (a table row); else a trace;
//! 4. a first line naming `memory.used [MiB]` among comma-separated columns: an
//!    nvidia-smi log;
//! 5. a header of at least two plain column names, and a second line with
//!    as many fields: a CSV table (`,`, `;` or tab);
//! 6. anything else that is text: a training log, which then says itself
//!    whether it holds anything (see `read`).

use crate::spec::InputFormat;

/// Bytes looked at to tell the format.
pub(crate) const HEAD: usize = 8 * 1024;

/// The format of the file `name` starting with `head`, or why it has none.
pub(crate) fn detect(name: &str, head: &[u8]) -> Result<InputFormat, &'static str> {
    if name.to_ascii_lowercase().ends_with(".json") {
        let text = String::from_utf8_lossy(head);
        let text = text.trim_start_matches('\u{feff}').trim_start();
        return Ok(if is_json_lines(text, true) {
            InputFormat::Jsonl
        } else {
            InputFormat::TraceJson
        });
    }
    if head.is_empty() {
        return Err("is empty");
    }
    if super::snapshot::is_pickle(head) {
        return Ok(InputFormat::TorchSnapshot);
    }
    // A NUL in the first line is a binary file; later ones can be a log's
    // own damage (a crash, an NFS hole), which its reader survives.
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    if first_line.contains(&0) {
        return Err("is binary (not text, JSON or a pickle)");
    }
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('{') {
        return Ok(if is_json_lines(text, false) {
            InputFormat::Jsonl
        } else {
            InputFormat::TraceJson
        });
    }
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    let first = lines.next().unwrap_or_default();
    if super::nvidia_smi::is_nvidia_smi_header(first) {
        return Ok(InputFormat::NvidiaSmi);
    }
    if let Some(second) = lines.next()
        && is_table(first, second)
    {
        return Ok(InputFormat::Csv);
    }
    Ok(InputFormat::TrainingLog)
}

/// A first line that is a whole object, then another object; or, unless
/// `two_needed`, one line of fields with no object inside (a table row).
fn is_json_lines(text: &str, two_needed: bool) -> bool {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let Some(Ok(serde_json::Value::Object(first))) =
        lines.next().map(serde_json::from_str::<serde_json::Value>)
    else {
        return false;
    };
    let second_is_object = lines
        .next()
        .is_some_and(|l| l.starts_with('{') && l.ends_with('}'));
    second_is_object
        || (!two_needed && !first.is_empty() && !first.values().any(serde_json::Value::is_object))
}

/// A header of column names and a first row of as many fields.
fn is_table(header: &str, row: &str) -> bool {
    [',', ';', '\t'].into_iter().any(|sep| {
        let names: Vec<&str> = header.split(sep).collect();
        names.len() >= 2
            && names.iter().all(|n| {
                let n = n.trim().trim_matches('"');
                !n.is_empty()
                    && n.len() <= 64
                    && !n.contains(':')
                    && n.chars().next().is_some_and(|c| !c.is_ascii_digit())
            })
            && row.split(sep).count() == names.len()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use InputFormat::*;

    #[test]
    fn each_format_is_told_by_its_content() {
        for (head, expected) in [
            (&b"\x80\x04\x95"[..], Ok(TorchSnapshot)),
            (b"{\"0\": {\"samples\": []}}", Ok(TraceJson)),
            (b"{}", Ok(TraceJson)),
            (b"\xef\xbb\xbf\n{\n  \"0\": {", Ok(TraceJson)),
            (
                b"{\"tp\": 2, \"pp\": 4}\n{\"tp\": 4, \"pp\": 4}\n",
                Ok(Jsonl),
            ),
            (b"{\"tp\": 2, \"peak\": 50.1}", Ok(Jsonl)),
            (
                b"{\"config\": {\"tp\": 2}}\n{\"config\": {\"tp\": 4}}",
                Ok(Jsonl),
            ),
            (
                b"timestamp, index, memory.used [MiB]\n2025/07/25 12:42:08.972, 0, 15033 MiB\n",
                Ok(NvidiaSmi),
            ),
            (b"tp,pp,peak_gib,status\n2,4,50.5,OK\n", Ok(Csv)),
            (b"\"Name\";\"State\"\r\n\"a\";\"finished\"\r\n", Ok(Csv)),
            (
                b"using world size: 64, data-parallel size: 2, tensor-model-parallel size: 4\n",
                Ok(TrainingLog),
            ),
            (
                b"[Rank 0] (after 10 iterations) memory (MB) | allocated: 1",
                Ok(TrainingLog),
            ),
            (b"step: 1, loss: 2\nstep: 2, loss: 1\n", Ok(TrainingLog)),
            (b"", Err("is empty")),
            (
                b"PK\x03\x04\x00\x00",
                Err("is binary (not text, JSON or a pickle)"),
            ),
        ] {
            assert_eq!(
                detect("f.log", head),
                expected,
                "{}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn a_json_name_is_a_trace_unless_it_holds_json_lines() {
        assert_eq!(detect("t.json", b"\0\0\0"), Ok(TraceJson));
        assert_eq!(detect("t.JSON", b""), Ok(TraceJson));
        assert_eq!(detect("t.json", b"{\"tp\": 2}"), Ok(TraceJson));
        assert_eq!(detect("t.json", b"{\"tp\": 2}\n{\"tp\": 4}\n"), Ok(Jsonl));
    }
}
