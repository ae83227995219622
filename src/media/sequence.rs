//! Image sequences (DPX/EXR/TIFF/ARRIRAW frames): only the first frame is probed, the duration
//! comes from the frame count and rate. DPX headers (SMPTE 268M) carry a timecode and frame
//! rates, read here: television header time code (BCD, byte 1920), TV frame rate (f32, 1940),
//! film header frame rate (f32, 1724); image size at 772/776. Byte order follows the magic
//! ("SDPX" big-endian, "XPDS" little-endian); all-ones fields mean "undefined".
//! Without a rate in a header or sidecar, sequences are assumed to be 24 fps.

use super::rate::Rational;
use super::timecode::{self, Timecode};

/// Rate assumed for image sequences when nothing states one.
pub const DEFAULT_SEQUENCE_FPS: u64 = 24;

/// Extensions of still-image frames that form sequences.
pub const FRAME_EXTENSIONS: &[&str] = &[
    "dpx", "exr", "tif", "tiff", "dng", "jpg", "jpeg", "png", "ari", "arx",
];

#[derive(Debug, thiserror::Error)]
pub enum DpxError {
    #[error("not a DPX file (magic is not SDPX/XPDS)")]
    NotDpx,
    #[error("DPX header is cut short ({0} bytes, needs at least 780): re-copy the frame")]
    Short(usize),
}

/// What a DPX header says.
#[derive(Debug, Clone, PartialEq)]
pub struct DpxHeader {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub frame_rate: Option<Rational>,
    pub timecode: Option<Timecode>,
}

/// Parses the first 2048 bytes of a DPX file (fewer is fine: missing headers give `None`s).
pub fn parse_dpx_header(b: &[u8]) -> Result<DpxHeader, DpxError> {
    let big_endian = match b.get(0..4) {
        Some(b"SDPX") => true,
        Some(b"XPDS") => false,
        _ => return Err(DpxError::NotDpx),
    };
    if b.len() < 780 {
        return Err(DpxError::Short(b.len()));
    }
    let u32_at = |off: usize| -> Option<u32> {
        let a: [u8; 4] = b.get(off..off + 4)?.try_into().ok()?;
        let v = if big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        };
        (v != u32::MAX).then_some(v)
    };
    let rate_at = |off: usize| -> Option<Rational> {
        let r = f32::from_bits(u32_at(off)?);
        Rational::from_decimal(f64::from(r)).filter(|r| r.as_f64() < 1000.0)
    };
    let timecode = u32_at(1920).and_then(|v| {
        let [hh, mm, ss, ff] = v.to_be_bytes();
        timecode::from_bcd(hh, mm, ss, ff)
    });
    Ok(DpxHeader {
        width: u32_at(772).filter(|w| *w > 0),
        height: u32_at(776).filter(|h| *h > 0),
        frame_rate: rate_at(1940).or_else(|| rate_at(1724)),
        timecode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(big: bool, tc: u32, tv_rate: f32, film_rate: Option<f32>) -> Vec<u8> {
        let mut b = vec![0xffu8; 2048];
        let put = |b: &mut Vec<u8>, off: usize, v: u32| {
            let bytes = if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            b[off..off + 4].copy_from_slice(&bytes);
        };
        b[0..4].copy_from_slice(if big { b"SDPX" } else { b"XPDS" });
        put(&mut b, 772, 2048);
        put(&mut b, 776, 1080);
        put(&mut b, 1920, tc);
        put(&mut b, 1940, tv_rate.to_bits());
        if let Some(f) = film_rate {
            put(&mut b, 1724, f.to_bits());
        }
        b
    }

    #[test]
    fn big_and_little_endian_headers() {
        let h = parse_dpx_header(&header(true, 0x0100_0000, 24.0, None)).unwrap();
        assert_eq!((h.width, h.height), (Some(2048), Some(1080)));
        assert_eq!(h.frame_rate.map(|r| r.to_string()).as_deref(), Some("24"));
        assert_eq!(h.timecode.unwrap().to_string(), "01:00:00:00");
        let h = parse_dpx_header(&header(false, 0x1034_5612, 23.976, None)).unwrap();
        assert_eq!(
            h.frame_rate.map(|r| r.to_string()).as_deref(),
            Some("24000/1001")
        );
        assert_eq!(h.timecode.unwrap().to_string(), "10:34:56:12");
    }

    #[test]
    fn undefined_fields_and_film_rate_fallback() {
        let h = parse_dpx_header(&header(
            true,
            u32::MAX,
            f32::from_bits(u32::MAX),
            Some(25.0),
        ))
        .unwrap();
        assert_eq!(h.timecode, None);
        assert_eq!(h.frame_rate.map(|r| r.to_string()).as_deref(), Some("25"));
        assert!(matches!(parse_dpx_header(b"SDPX"), Err(DpxError::Short(4))));
        assert!(matches!(parse_dpx_header(b"II*\0"), Err(DpxError::NotDpx)));
    }
}
