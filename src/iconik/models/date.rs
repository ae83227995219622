//! Date handling: iconik sends RFC 3339 (`2021-07-30T15:16:54.406403+00:00`) but some values come
//! without an offset (`2021-07-30T15:16:54.406403`, UTC) — iconik-api.md §3. Responses accept both;
//! requests always send RFC 3339 with an explicit offset.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Parses either RFC 3339 or an offset-less ISO date-time (taken as UTC).
pub fn parse_lenient(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(n.and_utc());
        }
    }
    None
}

/// Formats as RFC 3339 with a numeric offset (`+00:00`), microseconds only when present.
pub fn format_rfc3339(d: &DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// `#[serde(with = "lenient_opt")]` for optional response dates. Unparseable values become `None`
/// rather than failing the whole response (responses are lenient on purpose).
pub mod lenient_opt {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let raw: Option<String> = Option::deserialize(d)?;
        Ok(raw.as_deref().and_then(parse_lenient))
    }

    pub fn serialize<S: Serializer>(v: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_str(&format_rfc3339(d)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn parses_both_iconik_date_styles() {
        let want = Utc.with_ymd_and_hms(2021, 7, 30, 15, 16, 54).unwrap()
            + chrono::Duration::microseconds(406_403);
        assert_eq!(
            parse_lenient("2021-07-30T15:16:54.406403+00:00"),
            Some(want)
        );
        assert_eq!(parse_lenient("2021-07-30T15:16:54.406403"), Some(want));
        assert_eq!(
            parse_lenient("2021-07-30T17:16:54.406403+02:00"),
            Some(want)
        );
        assert_eq!(parse_lenient("yesterday"), None);
    }

    #[test]
    fn formats_with_explicit_offset() {
        let d = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(format_rfc3339(&d), "2024-01-02T03:04:05+00:00");
    }
}
