//! Canon XF clip XML (`CONTENTS/CLIPS001/<clip>/<clip>.XML`). Canon's element names are
//! unverified (camera-cards.md §3.4), so this parser is deliberately lenient: it looks for the
//! first element or attribute, at any depth, whose local name matches one of several
//! candidate names (case-insensitive) and leaves a field empty when none is there.

use super::clean_xml;
use crate::media::rate::{Rational, parse_rate_label};
use crate::media::timecode::Timecode;

#[derive(Debug, thiserror::Error)]
pub enum CanonError {
    #[error("Canon clip XML is empty: re-copy the clip folder from the card")]
    Empty,
    #[error("Canon clip XML is not well-formed ({0}): re-copy the clip folder from the card")]
    Xml(#[from] roxmltree::Error),
}

/// What could be found in a Canon clip XML.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CanonClip {
    pub title: Option<String>,
    pub duration_frames: Option<u64>,
    /// As written, e.g. "25p", "29.97", "30000/1001".
    pub frame_rate: Option<String>,
    pub start_timecode: Option<Timecode>,
    pub model_name: Option<String>,
    pub serial_no: Option<String>,
    pub creation_date: Option<String>,
    pub video_codec: Option<String>,
}

/// Value of the first element (text) or attribute whose name is in `names`.
fn find(doc: &roxmltree::Document<'_>, names: &[&str]) -> Option<String> {
    let hit = |n: &str| names.iter().any(|c| c.eq_ignore_ascii_case(n));
    doc.descendants().filter(|n| n.is_element()).find_map(|n| {
        if hit(n.tag_name().name()) {
            let text = n
                .text()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .or_else(|| n.attribute("value").map(str::trim));
            if let Some(t) = text.filter(|t| !t.is_empty()) {
                return Some(t.to_owned());
            }
        }
        n.attributes()
            .find(|a| hit(a.name()) && !a.value().trim().is_empty())
            .map(|a| a.value().trim().to_owned())
    })
}

pub fn parse(xml: &str) -> Result<CanonClip, CanonError> {
    let xml = clean_xml(xml);
    if xml.is_empty() {
        return Err(CanonError::Empty);
    }
    let doc = roxmltree::Document::parse(xml)?;
    Ok(CanonClip {
        title: find(&doc, &["UserClipName", "ClipTitle", "Title", "ClipName"]),
        duration_frames: find(&doc, &["Duration", "DurationFrames", "FrameCount"])
            .and_then(|d| d.parse().ok()),
        frame_rate: find(
            &doc,
            &["FrameRate", "VideoFrameRate", "SystemFrequency", "Fps"],
        ),
        start_timecode: find(
            &doc,
            &[
                "StartTimecode",
                "StartTimeCode",
                "Timecode",
                "TimeCode",
                "StartTC",
            ],
        )
        .and_then(|t| Timecode::parse(&t)),
        model_name: find(&doc, &["ModelName", "Model", "CameraModel"]),
        serial_no: find(
            &doc,
            &["SerialNo", "SerialNo.", "SerialNumber", "BodySerialNumber"],
        ),
        creation_date: find(
            &doc,
            &[
                "CreationDate",
                "ShootingDate",
                "StartDate",
                "RecordingDate",
                "Date",
            ],
        ),
        video_codec: find(&doc, &["VideoCodec", "Codec", "VideoFormat"]),
    })
}

impl CanonClip {
    pub fn frame_rate(&self) -> Option<Rational> {
        let r = self.frame_rate.as_deref()?;
        parse_rate_label(r)
            .map(|(r, _)| r)
            .or_else(|| Rational::parse(r))
    }

    pub fn duration_seconds(&self) -> Option<f64> {
        Some(self.duration_frames? as f64 / self.frame_rate()?.as_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fields_by_any_plausible_name() {
        let xml = r#"<ClipInfo xmlns="http://www.canon.com/ns/VideoClip">
            <Title>AA000101</Title><Duration>75</Duration>
            <VideoFormat FrameRate="25p"/><Device ModelName="XF705" SerialNumber="123456"/>
            <StartTimecode>15:00:00:00</StartTimecode><CreationDate>2024-05-14T12:00:00+09:00</CreationDate>
            </ClipInfo>"#;
        let c = parse(xml).unwrap();
        assert_eq!(c.title.as_deref(), Some("AA000101"));
        assert_eq!(c.duration_frames, Some(75));
        assert_eq!(c.frame_rate().map(|r| r.to_string()).as_deref(), Some("25"));
        assert_eq!(c.duration_seconds(), Some(3.0));
        assert_eq!(c.start_timecode.unwrap().to_string(), "15:00:00:00");
        assert_eq!(c.model_name.as_deref(), Some("XF705"));
        assert_eq!(c.serial_no.as_deref(), Some("123456"));
        assert_eq!(
            c.creation_date.as_deref(),
            Some("2024-05-14T12:00:00+09:00")
        );
    }

    #[test]
    fn empty_or_broken() {
        assert!(matches!(parse(" "), Err(CanonError::Empty)));
        assert!(matches!(parse("<a><b></a>"), Err(CanonError::Xml(_))));
        assert_eq!(parse("<Unknown/>").unwrap(), CanonClip::default());
    }
}
