//! GoPro HiLight tags: the `HMMT` box in the MP4's `moov/udta`.
//!
//! Layout (a superuser.com answer, "How/where does a GoPro camera store HiLight tags",
//! questions/881661, and the real HERO files `samples/karma.mp4` and `max-heromode.mp4` of
//! GoPro's own `gopro/gpmf-parser` repository): a 32-bit big-endian count, then that many
//! 32-bit big-endian times in milliseconds from the start of the file. The real files carry a
//! 404-byte payload (the count and 100 slots, zero when unused), so slots beyond the count are
//! padding, never tags.
//!
//! Only box headers are read on the way to `moov`: a 4 GB chapter costs a few seeks.

use std::io::{Read, Seek, SeekFrom};

#[derive(Debug, thiserror::Error)]
pub enum HmmtError {
    #[error("cannot read the MP4 ({0}): re-copy it from the card")]
    Io(#[from] std::io::Error),
    #[error(
        "the MP4's HMMT box is cut short ({0} bytes for {1} HiLight tags): its tags are not read"
    )]
    Short(usize, u32),
}

/// `moov` bigger than this is not a camera file's (and is not read into memory).
const MAX_MOOV: u64 = 64 * 1024 * 1024;
/// GoPro's box has 100 slots; more than this is not a HiLight list.
const MAX_TAGS: u32 = 1000;

/// One box header: type, payload start and payload length.
struct BoxHead {
    kind: [u8; 4],
    payload: u64,
    len: u64,
}

/// Reads the header at the reader's position; `end` bounds a box of size 0 ("to the end").
fn head<R: Read + Seek>(r: &mut R, at: u64, end: u64) -> Result<Option<BoxHead>, HmmtError> {
    if at + 8 > end {
        return Ok(None);
    }
    r.seek(SeekFrom::Start(at))?;
    let mut h = [0u8; 8];
    r.read_exact(&mut h)?;
    let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let kind = [h[4], h[5], h[6], h[7]];
    let (size, header) = match size32 {
        0 => (end - at, 8),
        1 => {
            let mut l = [0u8; 8];
            r.read_exact(&mut l)?;
            (u64::from_be_bytes(l), 16)
        }
        n => (u64::from(n), 8),
    };
    if size < header || at + size > end {
        // A damaged or truncated box: stop walking rather than read garbage.
        return Ok(None);
    }
    Ok(Some(BoxHead {
        kind,
        payload: at + header,
        len: size - header,
    }))
}

/// The payload of the first child box `kind` within `[from, end)`.
fn find<R: Read + Seek>(
    r: &mut R,
    from: u64,
    end: u64,
    kind: &[u8; 4],
) -> Result<Option<BoxHead>, HmmtError> {
    let mut at = from;
    while let Some(b) = head(r, at, end)? {
        if &b.kind == kind {
            return Ok(Some(b));
        }
        at = b.payload + b.len;
    }
    Ok(None)
}

/// The HiLight times (ms from the file's start) of an MP4; empty when it has no `HMMT` box
/// or the box counts none.
pub fn read<R: Read + Seek>(r: &mut R) -> Result<Vec<u32>, HmmtError> {
    let end = r.seek(SeekFrom::End(0))?;
    let Some(moov) = find(r, 0, end, b"moov")? else {
        return Ok(Vec::new());
    };
    if moov.len > MAX_MOOV {
        return Ok(Vec::new());
    }
    let moov_end = moov.payload + moov.len;
    let Some(udta) = find(r, moov.payload, moov_end, b"udta")? else {
        return Ok(Vec::new());
    };
    let Some(hmmt) = find(r, udta.payload, udta.payload + udta.len, b"HMMT")? else {
        return Ok(Vec::new());
    };
    if hmmt.len < 4 {
        return Ok(Vec::new());
    }
    r.seek(SeekFrom::Start(hmmt.payload))?;
    let mut payload =
        vec![0u8; usize::try_from(hmmt.len.min(4 + 4 * u64::from(MAX_TAGS))).unwrap_or(0)];
    r.read_exact(&mut payload)?;
    parse_payload(&payload)
}

/// The count and times of an `HMMT` payload.
pub fn parse_payload(payload: &[u8]) -> Result<Vec<u32>, HmmtError> {
    let word = |i: usize| {
        payload
            .get(i * 4..i * 4 + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let Some(count) = word(0) else {
        return Ok(Vec::new());
    };
    if count > MAX_TAGS {
        return Err(HmmtError::Short(payload.len(), count));
    }
    (1..=count as usize)
        .map(|i| word(i).ok_or(HmmtError::Short(payload.len(), count)))
        .collect()
}

/// An `HMMT` box (header included) holding `times`, padded to GoPro's 100 slots like the real
/// files (more times than that make the box longer). For the sample generator.
pub fn encode_box(times: &[u32]) -> Vec<u8> {
    let slots = times.len().max(100);
    let mut out = Vec::with_capacity(12 + 4 * slots);
    out.extend_from_slice(
        &u32::try_from(12 + 4 * slots)
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(b"HMMT");
    out.extend_from_slice(&u32::try_from(times.len()).unwrap_or(u32::MAX).to_be_bytes());
    for i in 0..slots {
        out.extend_from_slice(&times.get(i).copied().unwrap_or(0).to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = u32::try_from(payload.len() + 8)
            .unwrap()
            .to_be_bytes()
            .to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn reads_the_count_then_the_times_and_ignores_padding() {
        let udta = [bx(b"FIRM", b"HD9.01"), encode_box(&[1200, 64_000])].concat();
        let moov = [bx(b"mvhd", &[0; 100]), bx(b"udta", &udta)].concat();
        let file = [
            bx(b"ftyp", b"mp41"),
            bx(b"mdat", &[7; 50]),
            bx(b"moov", &moov),
        ]
        .concat();
        assert_eq!(read(&mut Cursor::new(file)).unwrap(), vec![1200, 64_000]);
    }

    #[test]
    fn the_real_files_zero_count_box_has_no_tags() {
        // gpmf-parser's karma.mp4: HMMT of 412 bytes, all zero.
        let udta = bx(b"HMMT", &[0; 404]);
        let file = [bx(b"ftyp", b"mp41"), bx(b"moov", &bx(b"udta", &udta))].concat();
        assert_eq!(encode_box(&[]).len(), 412);
        assert!(read(&mut Cursor::new(file)).unwrap().is_empty());
    }

    #[test]
    fn no_moov_no_udta_or_a_short_box_are_not_errors_or_are_named() {
        assert!(
            read(&mut Cursor::new(bx(b"ftyp", b"mp41")))
                .unwrap()
                .is_empty()
        );
        let file = bx(b"moov", &bx(b"mvhd", &[0; 8]));
        assert!(read(&mut Cursor::new(file)).unwrap().is_empty());
        let short = [3u32.to_be_bytes(), 10u32.to_be_bytes()].concat();
        assert!(matches!(parse_payload(&short), Err(HmmtError::Short(8, 3))));
    }
}
