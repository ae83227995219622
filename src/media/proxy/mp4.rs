//! Reading back a finished proxy's tracks from its `moov` box: whether it has sound and the
//! picture size. Camera proxies are not described before encoding, so only the written file
//! can fill iconik's `resolution` and `audio_bitrate` honestly. Boxes per ISO/IEC 14496-12.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// `moov` of a proxy is a few KiB to a few MiB; never read more than this.
const MAX_MOOV_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mp4Tracks {
    /// A track's handler is `soun`.
    pub sound: bool,
    /// Width × height of the first track header with a picture size.
    pub video_size: Option<(u32, u32)>,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The top-level box at `at`: its type, size and header length (`None` past the end or at a
/// malformed size). A size of 1 means a 64-bit size follows; 0 means "to the end of the file".
fn box_at(
    f: &mut std::fs::File,
    at: u64,
    len: u64,
) -> std::io::Result<Option<([u8; 4], u64, u64)>> {
    if at + 8 > len {
        return Ok(None);
    }
    let mut head = [0u8; 16];
    f.seek(SeekFrom::Start(at))?;
    f.read_exact(&mut head[..8])?;
    let mut size = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
    let mut header = 8;
    if size == 1 {
        f.read_exact(&mut head[8..16])?;
        size = u64::from_be_bytes([
            head[8], head[9], head[10], head[11], head[12], head[13], head[14], head[15],
        ]);
        header = 16;
    } else if size == 0 {
        size = len - at;
    }
    if size < header {
        return Ok(None);
    }
    Ok(Some(([head[4], head[5], head[6], head[7]], size, header)))
}

/// Walks the top-level boxes to `moov` and scans its track headers and handlers.
pub fn read_tracks(path: &Path) -> std::io::Result<Mp4Tracks> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let mut at = 0u64;
    while let Some((kind, size, header)) = box_at(&mut f, at, len)? {
        if &kind == b"moov" {
            let body_len = usize::try_from((size - header).min(MAX_MOOV_BYTES)).unwrap_or(0);
            let mut body = vec![0u8; body_len];
            f.read_exact(&mut body)?;
            return Ok(scan_moov(&body));
        }
        at += size;
    }
    Ok(Mp4Tracks {
        sound: false,
        video_size: None,
    })
}

/// The four-letter types of the top-level boxes in file order (`ftyp`, `moov`, `mdat`, ...):
/// `moov` before `mdat` is what `-movflags +faststart` makes.
pub fn top_level_boxes(path: &Path) -> std::io::Result<Vec<[u8; 4]>> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let mut boxes = Vec::new();
    let mut at = 0u64;
    while let Some((kind, size, _)) = box_at(&mut f, at, len)? {
        boxes.push(kind);
        at += size;
    }
    Ok(boxes)
}

/// Finds `hdlr` (type 8 bytes after the name) and `tkhd` (width/height 16.16 in its last
/// 8 bytes) boxes anywhere in the `moov` body.
fn scan_moov(body: &[u8]) -> Mp4Tracks {
    let mut tracks = Mp4Tracks {
        sound: false,
        video_size: None,
    };
    for i in 4..body.len().saturating_sub(4) {
        match &body[i..i + 4] {
            b"hdlr" if body.get(i + 12..i + 16) == Some(b"soun") => tracks.sound = true,
            b"tkhd" if tracks.video_size.is_none() => {
                let Some(size) = be32(body, i - 4) else {
                    continue;
                };
                let end = (i - 4).saturating_add(size as usize);
                if let (Some(w), Some(h)) = (
                    be32(body, end.wrapping_sub(8)),
                    be32(body, end.wrapping_sub(4)),
                ) && size >= 92
                    && w >> 16 > 0
                    && h >> 16 > 0
                {
                    tracks.video_size = Some((w >> 16, h >> 16));
                }
            }
            _ => {}
        }
    }
    tracks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tkhd(w: u32, h: u32) -> Vec<u8> {
        let mut b = 92u32.to_be_bytes().to_vec();
        b.extend_from_slice(b"tkhd");
        b.extend(std::iter::repeat_n(0u8, 76));
        b.extend_from_slice(&(w << 16).to_be_bytes());
        b.extend_from_slice(&(h << 16).to_be_bytes());
        b
    }

    fn hdlr(kind: &[u8; 4]) -> Vec<u8> {
        let mut b = 33u32.to_be_bytes().to_vec();
        b.extend_from_slice(b"hdlr");
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(kind);
        b.extend_from_slice(&[0; 13]);
        b
    }

    #[test]
    fn finds_sound_and_the_picture_size_after_other_boxes() {
        let mut moov_body = tkhd(0, 0); // an audio track header: no size
        moov_body.extend(hdlr(b"soun"));
        moov_body.extend(tkhd(1280, 720));
        moov_body.extend(hdlr(b"vide"));
        let mut file = 16u32.to_be_bytes().to_vec();
        file.extend_from_slice(b"ftypisom\0\0\0\0");
        file.extend(((moov_body.len() + 8) as u32).to_be_bytes());
        file.extend_from_slice(b"moov");
        file.extend(moov_body);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.mp4");
        std::fs::write(&path, &file).unwrap();
        assert_eq!(
            read_tracks(&path).unwrap(),
            Mp4Tracks {
                sound: true,
                video_size: Some((1280, 720))
            }
        );
        std::fs::write(&path, &file[..16]).unwrap();
        assert_eq!(
            read_tracks(&path).unwrap(),
            Mp4Tracks {
                sound: false,
                video_size: None
            }
        );
    }
}
