//! First/last video PTS of an MPEG transport stream (192-byte M2TS packets with a 4-byte arrival
//! header, or plain 188-byte TS), read from the file's head and tail only. Used to join AVCHD
//! stream files whose playlist is missing or a placeholder (camera-cards.md §3.6: segment 2
//! continues segment 1's timestamps).

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// How much of the head and of the tail is searched for PES headers.
const WINDOW_BYTES: u64 = 512 * 1024;

/// Video PTS range found in a stream file (90 kHz units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PtsRange {
    /// Smallest PTS in the head window (the presentation start).
    pub first: u64,
    /// Largest PTS in the tail window (the last presented frame).
    pub last: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum M2tsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not an MPEG transport stream (no 0x47 sync at 188/192-byte packets)")]
    NotTs { path: std::path::PathBuf },
    #[error("{path}: no video PES timestamp found")]
    NoPts { path: std::path::PathBuf },
}

/// Reads the video PTS range of `path`.
pub fn pts_range(path: &Path) -> Result<PtsRange, M2tsError> {
    let err = |source| M2tsError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(err)?;
    let size = f.metadata().map_err(err)?.len();
    let mut head = vec![0u8; size.min(WINDOW_BYTES) as usize];
    f.read_exact(&mut head).map_err(err)?;
    let Some(pkt) = packet_size(&head) else {
        return Err(M2tsError::NotTs {
            path: path.to_path_buf(),
        });
    };
    let first = scan(&head, pkt).iter().min().copied();
    let tail_start = size.saturating_sub(WINDOW_BYTES);
    let tail_start = tail_start - tail_start % pkt as u64;
    f.seek(SeekFrom::Start(tail_start)).map_err(err)?;
    let mut tail = Vec::with_capacity((size - tail_start) as usize);
    f.read_to_end(&mut tail).map_err(err)?;
    let last = scan(&tail, pkt).iter().max().copied();
    match (first, last) {
        (Some(first), Some(last)) => Ok(PtsRange { first, last }),
        _ => Err(M2tsError::NoPts {
            path: path.to_path_buf(),
        }),
    }
}

/// 192 when bytes 4 and 196 are sync bytes, 188 when bytes 0 and 188 are.
fn packet_size(buf: &[u8]) -> Option<usize> {
    let sync = |i: usize| buf.get(i) == Some(&0x47);
    if sync(4) && (buf.len() < 196 || sync(196)) {
        Some(192)
    } else if sync(0) && (buf.len() < 188 || sync(188)) {
        Some(188)
    } else {
        None
    }
}

/// PTS of every video PES start in whole packets of `buf`.
fn scan(buf: &[u8], pkt: usize) -> Vec<u64> {
    let skip = pkt - 188;
    buf.chunks_exact(pkt)
        .filter_map(|p| pes_pts(&p[skip..]))
        .collect()
}

/// PTS of a TS packet that starts a video PES (stream id 0xE0–0xEF) with a PTS.
fn pes_pts(ts: &[u8]) -> Option<u64> {
    if ts.len() < 188 || ts[0] != 0x47 || ts[1] & 0x40 == 0 {
        return None;
    }
    let afc = (ts[3] >> 4) & 0x3;
    let mut off = 4;
    if afc == 2 || afc == 0 {
        return None;
    }
    if afc == 3 {
        off += 1 + ts[4] as usize;
    }
    let p = ts.get(off..)?;
    if p.len() < 14 || p[0..3] != [0, 0, 1] || !(0xE0..=0xEF).contains(&p[3]) {
        return None;
    }
    if p[7] & 0x80 == 0 {
        return None;
    }
    let b = &p[9..14];
    Some(
        (((b[0] as u64) >> 1) & 0x07) << 30
            | (b[1] as u64) << 22
            | ((b[2] as u64) >> 1) << 15
            | (b[3] as u64) << 7
            | (b[4] as u64) >> 1,
    )
}

/// Builds M2TS (192-byte) packets: one video PES start per PTS, for tests and sample cards.
pub fn synth_m2ts(pts_list: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pts_list.len() * 192);
    for (i, &pts) in pts_list.iter().enumerate() {
        let mut p = vec![0u8; 192];
        p[4] = 0x47;
        p[5] = 0x40 | 0x10; // PUSI, PID 0x1011 (AVCHD video)
        p[6] = 0x11;
        p[7] = 0x10 | (i as u8 & 0x0F); // payload only
        let pes = [
            0,
            0,
            1,
            0xE0,
            0,
            0,
            0x80,
            0x80,
            5,
            0x21 | (((pts >> 30) as u8 & 0x07) << 1),
            (pts >> 22) as u8,
            (((pts >> 15) as u8) << 1) | 1,
            (pts >> 7) as u8,
            ((pts as u8) << 1) | 1,
        ];
        p[8..8 + pes.len()].copy_from_slice(&pes);
        out.extend_from_slice(&p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_first_and_last_pts_of_m2ts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("00000.MTS");
        std::fs::write(&path, synth_m2ts(&[93_003, 90_000, 96_006, 8_589_934_000])).expect("write");
        let r = pts_range(&path).expect("pts");
        assert_eq!(
            r,
            PtsRange {
                first: 90_000,
                last: 8_589_934_000
            }
        );
    }

    #[test]
    fn reads_plain_188_byte_ts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("00001.m2ts");
        let ts: Vec<u8> = synth_m2ts(&[180_000, 183_003, 186_006])
            .chunks_exact(192)
            .flat_map(|p| p[4..].to_vec())
            .collect();
        std::fs::write(&path, ts).expect("write");
        let r = pts_range(&path).expect("pts");
        assert_eq!(
            r,
            PtsRange {
                first: 180_000,
                last: 186_006
            }
        );
    }

    #[test]
    fn rejects_non_ts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("00000.MTS");
        std::fs::write(&path, b"placeholder").expect("write");
        assert!(matches!(pts_range(&path), Err(M2tsError::NotTs { .. })));
    }
}
