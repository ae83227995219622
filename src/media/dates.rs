//! Date normalisation to RFC 3339 with an offset. Tools print many spellings:
//! MediaInfo "2024-05-14 12:00:00 UTC" and "UTC 2024-05-14 12:00:00", ffprobe
//! "2024-05-14T12:00:00.000000Z", P2/Sony "2024-05-14T12:00:00+02:00".
//!
//! A date without a zone (BWF bext, MediaInfo on WAV) is NOT turned into a shoot date: its
//! offset is unknown and guessing UTC would mislead the operator. ffmpeg's MXF muxer writes
//! "0-00-00 00:00:00.000"; that and anything before 1980 is treated as absent.

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat};

/// Normalises `text` to RFC 3339 ("2024-05-14T12:00:00Z", "2024-05-14T12:00:00+02:00").
pub fn to_rfc3339(text: &str) -> Option<String> {
    parse(text)
        .filter(|d| d.timestamp() >= 315_532_800) // 1980-01-01: older = unset camera clock/zeros
        .map(|d| d.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

fn parse(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(text) {
        return Some(d);
    }
    let utc_naive = text
        .strip_suffix(" UTC")
        .or_else(|| text.strip_prefix("UTC "))?
        .trim();
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(utc_naive, fmt) {
            return Some(n.and_utc().fixed_offset());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        let ok = |t: &str| to_rfc3339(t);
        assert_eq!(
            ok("2024-05-14 12:00:00 UTC").as_deref(),
            Some("2024-05-14T12:00:00Z")
        );
        assert_eq!(
            ok("UTC 2024-05-14 12:00:00").as_deref(),
            Some("2024-05-14T12:00:00Z")
        );
        assert_eq!(
            ok("2024-05-14T12:00:00.000000Z").as_deref(),
            Some("2024-05-14T12:00:00Z")
        );
        assert_eq!(
            ok("2024-05-14T12:00:00+02:00").as_deref(),
            Some("2024-05-14T12:00:00+02:00")
        );
        assert_eq!(
            ok("UTC 2024-05-14 12:00:00.500").as_deref(),
            Some("2024-05-14T12:00:00.500Z")
        );
        assert_eq!(ok("0-00-00 00:00:00.000"), None);
        assert_eq!(ok("1970-01-01T00:00:00Z"), None);
        assert_eq!(ok("2024-05-14 12:00:00"), None, "no zone: unknown offset");
    }
}
