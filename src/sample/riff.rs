//! Appends chunks to RIFF/WAVE files. ffmpeg writes `bext` (`-write_bext 1`) but not `iXML`, so
//! the BWF samples get their iXML chunk from here (after `data`, as many recorders do).

use super::SampleError;
use std::path::Path;

/// Appends chunk `id` with `data` to the RIFF file at `path`: pads the chunk to an even length
/// (RIFF word alignment) and rewrites the RIFF size field. Refuses RF64 and non-WAVE files.
pub(crate) fn append_chunk(path: &Path, id: [u8; 4], data: &[u8]) -> Result<(), SampleError> {
    let io = |source| SampleError::Io {
        path: path.to_path_buf(),
        source,
    };
    let not_wave = |reason: &str| SampleError::NotWave {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let mut bytes = std::fs::read(path).map_err(io)?;
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(not_wave("no RIFF....WAVE header (RF64 is not supported)"));
    }
    // A previous chunk of odd length must already be padded; ffmpeg always pads.
    if bytes.len() % 2 == 1 {
        bytes.push(0);
    }
    let len = u32::try_from(data.len()).map_err(|_| not_wave("chunk larger than 4 GiB"))?;
    bytes.extend_from_slice(&id);
    bytes.extend_from_slice(&len.to_le_bytes());
    bytes.extend_from_slice(data);
    if data.len() % 2 == 1 {
        bytes.push(0);
    }
    let riff_size = u32::try_from(bytes.len() - 8)
        .map_err(|_| not_wave("file would exceed 4 GiB (needs RF64)"))?;
    bytes[4..8].copy_from_slice(&riff_size.to_le_bytes());
    std::fs::write(path, bytes).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (id, payload) of every top-level chunk, checking sizes and padding on the way.
    fn chunks(bytes: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
        let riff = u32::from_le_bytes(bytes[4..8].try_into().expect("4"));
        assert_eq!(riff as usize, bytes.len() - 8, "RIFF size field");
        let mut out = Vec::new();
        let mut at = 12;
        while at + 8 <= bytes.len() {
            let id: [u8; 4] = bytes[at..at + 4].try_into().expect("4");
            let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4")) as usize;
            out.push((id, bytes[at + 8..at + 8 + len].to_vec()));
            at += 8 + len + len % 2;
        }
        assert_eq!(at, bytes.len(), "chunks end exactly at EOF");
        out
    }

    #[test]
    fn appends_padded_chunk_and_fixes_riff_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.wav");
        let mut wav = b"RIFF\x10\0\0\0WAVEdata\x04\0\0\0\x01\x02\x03\x04".to_vec();
        let riff_size = (wav.len() - 8) as u32;
        wav[4..8].copy_from_slice(&riff_size.to_le_bytes());
        std::fs::write(&p, &wav).expect("write");
        append_chunk(&p, *b"iXML", b"<BWFXML/>").expect("append");
        let bytes = std::fs::read(&p).expect("read");
        assert_eq!(bytes.len(), wav.len() + 8 + 10);
        assert_eq!(
            chunks(&bytes),
            [
                (*b"data", vec![1, 2, 3, 4]),
                (*b"iXML", b"<BWFXML/>".to_vec())
            ]
        );
    }

    #[test]
    fn refuses_non_wave() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.wav");
        std::fs::write(&p, b"RF64\xff\xff\xff\xffWAVE").expect("write");
        let err = append_chunk(&p, *b"iXML", b"x")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err,
            Some(format!(
                "{} is not a RIFF/WAVE file: no RIFF....WAVE header (RF64 is not supported)",
                p.display()
            ))
        );
    }
}
