//! Frame rates as exact rationals ("25", "30000/1001"), snapped from the decimals tools print
//! (MediaInfo "29.970", P2 "59.94i", Sony "23.98p") to the broadcast rates they stand for.

use serde::{Deserialize, Serialize};

/// An exact frame rate. Displays as "25" for whole rates and "30000/1001" otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rational {
    pub num: u64,
    pub den: u64,
}

impl Rational {
    /// Reduced rational; `None` for a zero denominator or a zero rate.
    pub fn new(num: u64, den: u64) -> Option<Rational> {
        if num == 0 || den == 0 {
            return None;
        }
        let g = gcd(num, den);
        Some(Rational {
            num: num / g,
            den: den / g,
        })
    }

    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// Whole frames per second used for timecode counting (30 for 29.97, 25 for 25).
    pub fn nominal_fps(self) -> u32 {
        self.as_f64().round() as u32
    }

    /// True for the NTSC family (x000/1001), where drop-frame timecode is possible.
    pub fn is_ntsc(self) -> bool {
        self.den == 1001
    }

    /// Snaps a decimal rate to the rate it stands for: within 0.01 of a whole number → that
    /// number; within 0.01 of n×1000/1001 → n000/1001 (23.976, 29.97, 59.94, 119.88); else the
    /// decimal as printed (to 1/1000).
    pub fn from_decimal(rate: f64) -> Option<Rational> {
        if !rate.is_finite() || rate <= 0.0 {
            return None;
        }
        let whole = rate.round();
        if (rate - whole).abs() < 0.01 {
            return Rational::new(whole as u64, 1);
        }
        let ntsc = (rate * 1.001).round();
        if (rate - ntsc * 1000.0 / 1001.0).abs() < 0.01 {
            return Rational::new(ntsc as u64 * 1000, 1001);
        }
        Rational::new((rate * 1000.0).round() as u64, 1000)
    }

    /// Parses "25", "25/1", "30000/1001", "29.970", "59.94" (snapped, see [`Rational::from_decimal`]).
    pub fn parse(text: &str) -> Option<Rational> {
        let text = text.trim();
        if let Some((n, d)) = text.split_once('/') {
            let n: f64 = n.trim().parse().ok()?;
            let d: f64 = d.trim().parse().ok()?;
            if d == 0.0 {
                return None;
            }
            // Exact integer ratios stay exact (30000/1001); odd ones (1/25 edit units) too.
            if n.fract() == 0.0 && d.fract() == 0.0 && n > 0.0 && d > 0.0 {
                return Rational::new(n as u64, d as u64).map(Rational::snap_exact);
            }
            return Rational::from_decimal(n / d);
        }
        Rational::from_decimal(text.parse().ok()?)
    }

    /// ffprobe prints "2997/100"-style ratios for some files; snap those to the NTSC form.
    fn snap_exact(self) -> Rational {
        // Edit units (1/25, 1001/30000) are periods, not rates: keep them exact.
        if self.den == 1 || self.den == 1001 || self.num == 1001 || self.num < self.den {
            return self;
        }
        Rational::from_decimal(self.as_f64()).unwrap_or(self)
    }

    /// The reciprocal, e.g. a P2 EditUnit "1001/30000" → rate 30000/1001.
    pub fn recip(self) -> Rational {
        Rational {
            num: self.den,
            den: self.num,
        }
    }
}

impl std::fmt::Display for Rational {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A camera's rate label ("25p", "50i", "59.94i", "23.98p", "29.97PsF") → frames per second
/// and whether it is interlaced. Interlaced labels name the field rate: 50i = 25 frames/s.
pub fn parse_rate_label(label: &str) -> Option<(Rational, bool)> {
    let label = label.trim();
    let digits_end = label
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(label.len());
    let number: f64 = label[..digits_end].parse().ok()?;
    let suffix = label[digits_end..].to_ascii_lowercase();
    let interlaced = suffix.starts_with('i');
    let rate = if interlaced { number / 2.0 } else { number };
    // "23.98" is how cameras print 24000/1001.
    let rate = if (rate - 23.98).abs() < 0.001 {
        24000.0 / 1001.0
    } else {
        rate
    };
    Some((Rational::from_decimal(rate)?, interlaced))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snaps_decimals_from_mediainfo() {
        let s = |t: &str| Rational::parse(t).map(|r| r.to_string());
        assert_eq!(s("25.000").as_deref(), Some("25"));
        assert_eq!(s("29.970").as_deref(), Some("30000/1001"));
        assert_eq!(s("23.976").as_deref(), Some("24000/1001"));
        assert_eq!(s("59.940").as_deref(), Some("60000/1001"));
        assert_eq!(s("50").as_deref(), Some("50"));
        assert_eq!(s("30000/1001").as_deref(), Some("30000/1001"));
        assert_eq!(s("25/1").as_deref(), Some("25"));
        assert_eq!(s("2997/100").as_deref(), Some("30000/1001"));
        assert_eq!(s("12.5").as_deref(), Some("25/2"));
        assert_eq!(s("0/0"), None);
        assert_eq!(s("abc"), None);
    }

    #[test]
    fn camera_labels() {
        let l = |t: &str| parse_rate_label(t).map(|(r, i)| (r.to_string(), i));
        assert_eq!(l("25p"), Some(("25".into(), false)));
        assert_eq!(l("50i"), Some(("25".into(), true)));
        assert_eq!(l("59.94i"), Some(("30000/1001".into(), true)));
        assert_eq!(l("59.94p"), Some(("60000/1001".into(), false)));
        assert_eq!(l("23.98p"), Some(("24000/1001".into(), false)));
        assert_eq!(l("29.97PsF"), Some(("30000/1001".into(), false)));
        assert_eq!(l("fast"), None);
    }

    #[test]
    fn edit_unit_reciprocal() {
        let eu = Rational::parse("1001/30000").unwrap();
        assert_eq!(eu.recip().to_string(), "30000/1001");
        assert_eq!(Rational::parse("1/25").unwrap().recip().to_string(), "25");
    }
}
