//! Lines of a log, streamed in bounded memory: LF, CRLF and bare CR
//! endings, and lines too long to look at counted instead of held.

/// Longest log line looked at; longer ones are skipped and counted.
pub(crate) const MAX_LOG_LINE: usize = 64 * 1024;

/// Calls `each` with every line (without its ending), or `None` for a line
/// longer than [`MAX_LOG_LINE`], and whether a line ending followed it (the
/// last line of a file still being written has none), reading 64 KiB at a
/// time.
pub(crate) fn for_each_line(
    reader: impl std::io::Read,
    mut each: impl FnMut(Option<&[u8]>, bool),
) -> std::io::Result<()> {
    use std::io::BufRead as _;
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, reader);
    let mut line = Vec::new();
    let mut overlong = false;
    // A CR at the end of one chunk and an LF at the start of the next are
    // one line ending.
    let mut after_cr = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        let mut start = usize::from(after_cr && chunk[0] == b'\n');
        after_cr = false;
        while let Some(at) = memchr::memchr2(b'\r', b'\n', &chunk[start..]) {
            let end = start + at;
            if !overlong {
                line.extend_from_slice(&chunk[start..end]);
            }
            let too_long = overlong || line.len() > MAX_LOG_LINE;
            each((!too_long).then_some(line.as_slice()), true);
            line.clear();
            overlong = false;
            start = end + 1;
            if chunk[end] == b'\r' {
                match chunk.get(start) {
                    Some(b'\n') => start += 1,
                    Some(_) => {}
                    None => after_cr = true,
                }
            }
        }
        if !overlong {
            line.extend_from_slice(&chunk[start..]);
            if line.len() > MAX_LOG_LINE {
                overlong = true;
                line.clear();
            }
        }
        let len = chunk.len();
        reader.consume(len);
    }
    if overlong || !line.is_empty() {
        each((!overlong).then_some(line.as_slice()), false);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a few bytes at a time, so line endings fall across reads.
    struct Trickle<'a>(&'a [u8], usize);

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn line_endings_split_across_reads_and_overlong_lines() {
        let long = "x".repeat(MAX_LOG_LINE + 1);
        let text = format!("a\r\nb\rc\n\n{long}\nd\r\n\re");
        for step in [1, 2, 3, 7, 1 << 20] {
            let mut lines = Vec::new();
            for_each_line(Trickle(text.as_bytes(), step), |l, _| {
                lines.push(l.map(|l| String::from_utf8_lossy(l).into_owned()))
            })
            .unwrap();
            let expected = ["a", "b", "c", "", "", "d", "", "e"].map(|l| Some(l.to_string()));
            let mut expected = expected.to_vec();
            expected[4] = None;
            assert_eq!(lines, expected, "step {step}");
        }
    }
}
