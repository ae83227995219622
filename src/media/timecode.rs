//! SMPTE timecode values: parsing tool/sidecar strings, counting frames (incl. drop-frame) and
//! formatting as "HH:MM:SS:FF" (";" before the frames for drop-frame).

use super::rate::Rational;

/// A start timecode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timecode {
    pub hours: u32,
    pub minutes: u32,
    pub seconds: u32,
    pub frames: u32,
    pub drop_frame: bool,
}

impl Timecode {
    /// Parses "10:00:00:00", "00:00:00;00" (drop-frame), "01:00:00.00" / "01:00:00,00"
    /// (other drop-frame spellings).
    pub fn parse(text: &str) -> Option<Timecode> {
        let text = text.trim();
        let b = text.as_bytes();
        if b.len() != 11 || b[2] != b':' || b[5] != b':' {
            return None;
        }
        let drop_frame = matches!(b[8], b';' | b'.' | b',');
        if !drop_frame && b[8] != b':' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<u32>().ok();
        let tc = Timecode {
            hours: num(0..2)?,
            minutes: num(3..5)?,
            seconds: num(6..8)?,
            frames: num(9..11)?,
            drop_frame,
        };
        (tc.minutes < 60 && tc.seconds < 60).then_some(tc)
    }

    /// Timecode of frame number `frame` (counted from midnight) at `rate`. Drop-frame skips
    /// frame numbers 0 and 1 (0–3 at 59.94) each minute except every tenth.
    pub fn from_frame_number(frame: u64, rate: Rational, drop_frame: bool) -> Timecode {
        let fps = u64::from(rate.nominal_fps().max(1));
        let drop_frame = drop_frame && rate.is_ntsc() && fps % 30 == 0;
        let mut frame = frame;
        if drop_frame {
            let dropped = fps / 15; // 2 at 29.97, 4 at 59.94
            let per_10min = fps * 600 - dropped * 9;
            let per_min = fps * 60 - dropped;
            let tens = frame / per_10min;
            let rem = frame % per_10min;
            frame += dropped * 9 * tens;
            if rem > dropped {
                frame += dropped * ((rem - dropped) / per_min);
            }
        }
        let total_secs = frame / fps;
        Timecode {
            hours: ((total_secs / 3600) % 24) as u32,
            minutes: ((total_secs / 60) % 60) as u32,
            seconds: (total_secs % 60) as u32,
            frames: (frame % fps) as u32,
            drop_frame,
        }
    }

    /// Start timecode of audio that starts `samples` after midnight (BWF TimeReference).
    pub fn from_samples(
        samples: u64,
        sample_rate: u32,
        rate: Rational,
        drop_frame: bool,
    ) -> Option<Timecode> {
        if sample_rate == 0 {
            return None;
        }
        // frames = samples × rate / sample_rate, in integers to stay exact at 30000/1001.
        let frame = u128::from(samples) * u128::from(rate.num)
            / (u128::from(sample_rate) * u128::from(rate.den));
        Some(Timecode::from_frame_number(
            u64::try_from(frame).ok()?,
            rate,
            drop_frame,
        ))
    }
}

impl std::fmt::Display for Timecode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sep = if self.drop_frame { ';' } else { ':' };
        write!(
            f,
            "{:02}:{:02}:{:02}{sep}{:02}",
            self.hours, self.minutes, self.seconds, self.frames
        )
    }
}

/// Decodes a SMPTE 12M BCD timecode word as stored in DPX headers (HH MM SS FF from the most
/// significant byte) and Sony LtcChange values (bytes in FF SS MM HH order, see sony_nrt).
/// Flag bits (drop-frame 0x40 in the frames byte, colour frame, binary groups) are masked off.
pub fn from_bcd(hh: u8, mm: u8, ss: u8, ff: u8) -> Option<Timecode> {
    let bcd = |v: u8| -> Option<u32> {
        let (hi, lo) = (u32::from(v >> 4), u32::from(v & 0x0f));
        (hi < 10 && lo < 10).then_some(hi * 10 + lo)
    };
    let tc = Timecode {
        hours: bcd(hh & 0x3f)?,
        minutes: bcd(mm & 0x7f)?,
        seconds: bcd(ss & 0x7f)?,
        frames: bcd(ff & 0x3f)?,
        drop_frame: ff & 0x40 != 0,
    };
    (tc.hours < 24 && tc.minutes < 60 && tc.seconds < 60).then_some(tc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(
            Timecode::parse("10:00:00:00").unwrap().to_string(),
            "10:00:00:00"
        );
        assert_eq!(
            Timecode::parse("00:00:00;00").unwrap().to_string(),
            "00:00:00;00"
        );
        assert_eq!(
            Timecode::parse("01:02:03.04").unwrap().to_string(),
            "01:02:03;04"
        );
        assert_eq!(Timecode::parse("1:00:00:00"), None);
        assert_eq!(Timecode::parse("10:61:00:00"), None);
    }

    #[test]
    fn frame_numbers_with_drop_frame() {
        let ntsc = Rational::new(30000, 1001).unwrap();
        assert_eq!(
            Timecode::from_frame_number(1800, ntsc, true).to_string(),
            "00:01:00;02"
        );
        assert_eq!(
            Timecode::from_frame_number(17982, ntsc, true).to_string(),
            "00:10:00;00"
        );
        assert_eq!(
            Timecode::from_frame_number(1800, ntsc, false).to_string(),
            "00:01:00:00"
        );
        let pal = Rational::new(25, 1).unwrap();
        assert_eq!(
            Timecode::from_frame_number(900_000, pal, false).to_string(),
            "10:00:00:00"
        );
    }

    #[test]
    fn samples_since_midnight() {
        let pal = Rational::new(25, 1).unwrap();
        let tc = Timecode::from_samples(48_000 * 36_000 + 48_000 / 25 * 7, 48_000, pal, false);
        assert_eq!(tc.unwrap().to_string(), "10:00:00:07");
        assert_eq!(Timecode::from_samples(1, 0, pal, false), None);
    }

    #[test]
    fn bcd_words() {
        assert_eq!(
            from_bcd(0x01, 0x00, 0x00, 0x00).unwrap().to_string(),
            "01:00:00:00"
        );
        assert_eq!(
            from_bcd(0x12, 0x34, 0x56, 0x40 | 0x12).unwrap().to_string(),
            "12:34:56;12"
        );
        assert_eq!(from_bcd(0xff, 0xff, 0xff, 0xff), None);
    }
}
