//! "Is this a media file?" for files no detector claimed: by extension (video, audio, still and
//! camera RAW lists of [`names`](super::names)) or by the first bytes (QuickTime/MP4 `ftyp`,
//! MXF header partition, RIFF WAVE/AVI, MPEG-TS sync, Matroska EBML, RED `R3D`), so a camera
//! file with an unknown name is never silently treated as a card-level file.

use super::names::{AUDIO_EXTS, STILL_EXTS, VIDEO_EXTS, ext_lower, is_one_of};
use std::io::Read;
use std::path::Path;

/// What made a file media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaHint {
    Extension,
    /// The container named by its signature (`"MXF"`, `"QuickTime/MP4"`, ...).
    Signature(&'static str),
}

/// `Some` when `name` has a media extension or the file's first bytes are a media signature.
pub fn media_hint(path: &Path, name: &str) -> Option<MediaHint> {
    let ext = ext_lower(name);
    if is_one_of(&ext, VIDEO_EXTS) || is_one_of(&ext, AUDIO_EXTS) || is_one_of(&ext, STILL_EXTS) {
        return Some(MediaHint::Extension);
    }
    signature(path).map(MediaHint::Signature)
}

/// Container named by the first bytes of `path` (reads at most 376 bytes; regular files only,
/// so a FIFO never blocks the scan).
pub fn signature(path: &Path) -> Option<&'static str> {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let mut head = Vec::with_capacity(376);
    std::fs::File::open(path)
        .ok()?
        .take(376)
        .read_to_end(&mut head)
        .ok()?;
    sniff(&head)
}

/// Container named by `head`, the first bytes of a file.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    const MXF_KEY: [u8; 11] = [
        0x06, 0x0E, 0x2B, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0D, 0x01, 0x02,
    ];
    if head.len() >= 11 && head[..11] == MXF_KEY {
        return Some("MXF");
    }
    if head.len() >= 8 && matches!(&head[4..8], b"ftyp" | b"moov" | b"mdat" | b"wide" | b"free") {
        return Some("QuickTime/MP4");
    }
    if head.len() >= 12 && matches!(&head[..4], b"RIFF" | b"RF64") {
        return match &head[8..12] {
            b"WAVE" => Some("WAVE"),
            b"AVI " => Some("AVI"),
            _ => None,
        };
    }
    if head.len() >= 4 && head[..4] == [0x1A, 0x45, 0xDF, 0xA3] {
        return Some("Matroska");
    }
    if head.len() >= 8 && &head[4..7] == b"RED" {
        return Some("RED R3D");
    }
    if head.len() >= 189 && head[0] == 0x47 && head[188] == 0x47 {
        return Some("MPEG-TS");
    }
    if head.len() >= 193 && head[4] == 0x47 && head[192] == 0x47 {
        return Some("MPEG-TS (M2TS)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_containers_by_their_first_bytes() {
        let mut mxf = vec![
            0x06, 0x0E, 0x2B, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0D, 0x01, 0x02, 0x01,
        ];
        mxf.resize(64, 0);
        assert_eq!(sniff(&mxf), Some("MXF"));
        assert_eq!(sniff(b"\0\0\0\x14ftypqt  \0\0\0\0"), Some("QuickTime/MP4"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), Some("WAVE"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0CDDAfmt "), None);
        let mut ts = vec![0u8; 376];
        ts[0] = 0x47;
        ts[188] = 0x47;
        assert_eq!(sniff(&ts), Some("MPEG-TS"));
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><MediaProfile/>"), None);
        assert_eq!(sniff(b""), None);
    }
}
