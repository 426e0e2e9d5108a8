//! What a font file read from a font directory must not claim before Typst
//! parses it.
//!
//! Typst's book lists, for every face, each code point its `cmap` table
//! maps: it pushes them one by one into a vector. A format-12 or format-13
//! group is a range of 32-bit code points and a format-4 segment a range
//! of 16-bit ones, and nothing stops a corrupt table from spanning the
//! whole code space (16 GB of code points for one group) or repeating a
//! segment thousands of times. A font collection says how many faces it
//! holds in 32 bits, and Typst tries every index. So those counts are
//! added up here, from the tables' headers, and a file that claims more
//! than any real font is skipped. The rest of a face is read lazily by
//! ttf-parser, whose counts (glyphs, tables) are 16-bit.

use ttf_parser::{RawFace, Tag};

/// Most code points the `cmap` subtables of one face may map, added over
/// its subtables as Typst reads them: Unicode has 0x110000, and a font maps
/// them in a 16-bit and a 32-bit subtable, each often listed twice (for the
/// Unicode and the Windows platform).
pub(super) const MAX_CODE_POINTS: u64 = 4 * 0x11_0000;

/// Most faces in one collection file (`.ttc`, `.otc`): real ones have tens.
pub(super) const MAX_FACES: u32 = 256;

/// `Err` with the reason to skip the file, if it claims more than a font can.
pub(super) fn check(data: &[u8]) -> Result<(), String> {
    let faces = match ttf_parser::fonts_in_collection(data) {
        Some(count) => {
            // Each face has a 4-byte offset after the 12-byte header.
            let room = (data.len().saturating_sub(12) / 4) as u64;
            if count > MAX_FACES || u64::from(count) > room {
                return Err(format!(
                    "it says it is a collection of {count} faces (at most {MAX_FACES}, and its size has room for {room}); a corrupt font, skipped"
                ));
            }
            count
        }
        None => 1,
    };
    for index in 0..faces {
        let Ok(face) = RawFace::parse(data, index) else {
            continue;
        };
        let Some(cmap) = face.table(Tag::from_bytes(b"cmap")) else {
            continue;
        };
        let mapped = code_points(cmap);
        if mapped > MAX_CODE_POINTS {
            return Err(format!(
                "its `cmap` table maps {mapped} code points (Unicode has {}); a corrupt font, skipped",
                0x11_0000
            ));
        }
    }
    Ok(())
}

/// The code points the ranges of every format-4, -12 and -13 subtable
/// span, counted per encoding record as Typst reads them (other formats
/// are bounded by their own size). A subtable that does not parse counts
/// what was read of it.
fn code_points(cmap: &[u8]) -> u64 {
    let records = be16(cmap, 2).unwrap_or(0);
    (0..usize::from(records))
        .filter_map(|i| be32(cmap, 4 + 8 * i + 4))
        .map(|offset| subtable_code_points(cmap.get(offset as usize..).unwrap_or_default()))
        .fold(0u64, u64::saturating_add)
}

fn subtable_code_points(table: &[u8]) -> u64 {
    match be16(table, 0) {
        Some(4) => {
            let segments = usize::from(be16(table, 6).unwrap_or(0) / 2);
            let ends = 14;
            let starts = ends + 2 * segments + 2;
            (0..segments)
                .map_while(|i| Some((be16(table, starts + 2 * i)?, be16(table, ends + 2 * i)?)))
                .map(|(start, end)| u64::from(end.saturating_sub(start)) + u64::from(start <= end))
                .sum()
        }
        Some(12 | 13) => {
            let groups = be32(table, 12).unwrap_or(0) as usize;
            (0..groups)
                .map_while(|i| Some((be32(table, 16 + 12 * i)?, be32(table, 20 + 12 * i)?)))
                .map(|(start, end)| u64::from(end.saturating_sub(start)) + u64::from(start <= end))
                .fold(0u64, u64::saturating_add)
        }
        _ => 0,
    }
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_font_passes() {
        for data in typst_assets::fonts() {
            assert_eq!(check(data), Ok(()));
            let face = RawFace::parse(data, 0).unwrap();
            let mapped = code_points(face.table(Tag::from_bytes(b"cmap")).unwrap());
            assert!((1_000..0x11_0000).contains(&mapped), "{mapped}");
        }
    }

    #[test]
    fn a_collection_claiming_more_faces_than_it_has_room_for_is_refused() {
        let mut ttc = b"ttcf\x00\x01\x00\x00\xff\xff\xff\xff".to_vec();
        ttc.extend([0; 64]);
        assert_eq!(
            check(&ttc),
            Err("it says it is a collection of 4294967295 faces (at most 256, and its size has room for 16); a corrupt font, skipped".into())
        );
    }
}
