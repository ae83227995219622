//! Sony NonRealTimeMeta (`<clip>M01.XML`, XDCAM/XAVC/XDCAM EX; camera-cards.md §3.2).
//! Any `urn:schemas-professionalDisc:nonRealTimeMeta:*` version is accepted.
//!
//! `LtcChange@value` is 8 hex digits in FF SS MM HH order, each byte BCD with SMPTE flag bits
//! (drop-frame = 0x40 in the frames byte): `00000012` = 12:00:00:00.

use super::{child, clean_xml, descendant};
use crate::media::rate::{Rational, parse_rate_label};
use crate::media::timecode::{self, Timecode};

#[derive(Debug, thiserror::Error)]
pub enum NrtError {
    #[error("Sony clip XML is empty: re-copy the clip folder from the card")]
    Empty,
    #[error("Sony clip XML is not well-formed ({0}): re-copy the clip folder from the card")]
    Xml(#[from] roxmltree::Error),
    #[error("not a Sony NonRealTimeMeta XML: root element is <{0}>")]
    WrongRoot(String),
}

/// One NonRealTimeMeta document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NrtMeta {
    /// `TargetMaterial@umidRef`: the clip's UMID.
    pub umid: Option<String>,
    /// `Duration@value`, in frames of the format rate.
    pub duration_frames: Option<u64>,
    /// `LtcChangeTable@tcFps`, e.g. 25, 30.
    pub tc_fps: Option<u32>,
    /// First `LtcChange@value`, decoded.
    pub start_timecode: Option<Timecode>,
    pub creation_date: Option<String>,
    pub title: Option<String>,
    /// `VideoFrame@captureFps` (differs from `formatFps` for slow motion), e.g. "100p".
    pub capture_fps: Option<String>,
    /// `VideoFrame@formatFps`, e.g. "25p", "59.94i".
    pub format_fps: Option<String>,
    pub video_codec: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub audio_channels: Option<u32>,
    pub manufacturer: Option<String>,
    pub model_name: Option<String>,
    pub serial_no: Option<String>,
    /// `AcquisitionRecord` item `CaptureGammaEquation` (Venice/FX/FX6: `s-log3-cine`, `rec709`).
    pub gamma: Option<String>,
    /// `AcquisitionRecord` item `CaptureColorPrimaries` (`S-Gamut3.Cine`, `rec709`).
    pub gamut: Option<String>,
}

fn attr(node: Option<roxmltree::Node<'_, '_>>, name: &str) -> Option<String> {
    node?
        .attribute(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Decodes an `LtcChange@value` ("FFSSMMHH", hex BCD).
pub fn decode_ltc_value(value: &str) -> Option<Timecode> {
    let v = value.trim();
    if v.len() != 8 || !v.is_ascii() {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&v[i..i + 2], 16).ok();
    timecode::from_bcd(byte(6)?, byte(4)?, byte(2)?, byte(0)?)
}

/// The `value` of the `AcquisitionRecord` item called `name` (any group).
fn acquisition_item(root: roxmltree::Node<'_, '_>, name: &str) -> Option<String> {
    descendant(root, "AcquisitionRecord")?
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "Item")
        .find(|n| n.attribute("name") == Some(name))
        .and_then(|n| attr(Some(n), "value"))
}

/// Parses a NonRealTimeMeta document.
pub fn parse(xml: &str) -> Result<NrtMeta, NrtError> {
    let xml = clean_xml(xml);
    if xml.is_empty() {
        return Err(NrtError::Empty);
    }
    let doc = roxmltree::Document::parse(xml)?;
    let root = doc.root_element();
    if root.tag_name().name() != "NonRealTimeMeta" {
        return Err(NrtError::WrongRoot(root.tag_name().name().to_owned()));
    }
    let ltc_table = child(root, "LtcChangeTable");
    let first_ltc = ltc_table.and_then(|t| child(t, "LtcChange"));
    let video_frame = descendant(root, "VideoFrame");
    let layout = descendant(root, "VideoLayout");
    let device = child(root, "Device");
    let title = child(root, "Title");
    Ok(NrtMeta {
        umid: attr(child(root, "TargetMaterial"), "umidRef"),
        duration_frames: attr(child(root, "Duration"), "value").and_then(|v| v.parse().ok()),
        tc_fps: attr(ltc_table, "tcFps").and_then(|v| v.parse().ok()),
        start_timecode: attr(first_ltc, "value").and_then(|v| decode_ltc_value(&v)),
        creation_date: attr(child(root, "CreationDate"), "value"),
        // Cameras write the name as text and/or in `usAscii`.
        title: title
            .and_then(|t| t.text())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .or_else(|| attr(title, "usAscii")),
        capture_fps: attr(video_frame, "captureFps"),
        format_fps: attr(video_frame, "formatFps"),
        video_codec: attr(video_frame, "videoCodec"),
        width: attr(layout, "pixel").and_then(|v| v.parse().ok()),
        height: attr(layout, "numOfVerticalLine").and_then(|v| v.parse().ok()),
        audio_channels: attr(descendant(root, "AudioFormat"), "numOfChannel")
            .and_then(|v| v.parse().ok()),
        manufacturer: attr(device, "manufacturer"),
        model_name: attr(device, "modelName"),
        serial_no: attr(device, "serialNo"),
        gamma: acquisition_item(root, "CaptureGammaEquation"),
        gamut: acquisition_item(root, "CaptureColorPrimaries"),
    })
}

impl NrtMeta {
    /// Frames per second of the recording format (`formatFps`, else `tcFps`).
    pub fn frame_rate(&self) -> Option<Rational> {
        self.format_fps
            .as_deref()
            .and_then(parse_rate_label)
            .map(|(r, _)| r)
            .or_else(|| Rational::new(u64::from(self.tc_fps?), 1))
    }

    pub fn duration_seconds(&self) -> Option<f64> {
        Some(self.duration_frames? as f64 / self.frame_rate()?.as_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<NonRealTimeMeta xmlns="urn:schemas-professionalDisc:nonRealTimeMeta:ver.2.00" lastUpdate="2024-05-14T12:00:00+01:00">
  <TargetMaterial umidRef="060A2B340101010501010D43130000000000000000000000000000000000AA00"/>
  <Duration value="75"/>
  <LtcChangeTable tcFps="25" halfStep="false">
    <LtcChange frameCount="0" value="00000012" status="increment"/>
    <LtcChange frameCount="74" value="24020012" status="end"/>
  </LtcChangeTable>
  <CreationDate value="2024-05-14T12:00:00+01:00"/>
  <VideoFormat>
    <VideoRecPort port="DIRECT"/>
    <VideoFrame videoCodec="MPEG2HD422_422P@HL" captureFps="25p" formatFps="25p"/>
    <VideoLayout pixel="1920" numOfVerticalLine="1080" aspectRatio="16:9"/>
  </VideoFormat>
  <AudioFormat numOfChannel="8"><AudioRecPort port="DIRECT" audioCodec="LPCM24" trackDst="CH1"/></AudioFormat>
  <Device manufacturer="Sony" modelName="PXW-X400" serialNo="0012345"/>
  <Title usAscii="Interview" xml:lang="en">Interview</Title>
  <AcquisitionRecord>
    <Group name="CameraUnitMetadataSet">
      <Item name="CaptureGammaEquation" value="s-log3-cine"/>
      <Item name="CaptureColorPrimaries" value="S-Gamut3.Cine"/>
    </Group>
  </AcquisitionRecord>
</NonRealTimeMeta>"#;

    #[test]
    fn parses_every_field() {
        let m = parse(SAMPLE).unwrap();
        assert_eq!(m.duration_frames, Some(75));
        assert_eq!(m.duration_seconds(), Some(3.0));
        assert_eq!(m.tc_fps, Some(25));
        assert_eq!(m.start_timecode.unwrap().to_string(), "12:00:00:00");
        assert_eq!(
            m.creation_date.as_deref(),
            Some("2024-05-14T12:00:00+01:00")
        );
        assert_eq!(m.title.as_deref(), Some("Interview"));
        assert_eq!(m.format_fps.as_deref(), Some("25p"));
        assert_eq!(m.capture_fps.as_deref(), Some("25p"));
        assert_eq!(m.video_codec.as_deref(), Some("MPEG2HD422_422P@HL"));
        assert_eq!((m.width, m.height), (Some(1920), Some(1080)));
        assert_eq!(m.audio_channels, Some(8));
        assert_eq!(m.manufacturer.as_deref(), Some("Sony"));
        assert_eq!(m.model_name.as_deref(), Some("PXW-X400"));
        assert_eq!(m.serial_no.as_deref(), Some("0012345"));
        assert_eq!(m.gamma.as_deref(), Some("s-log3-cine"));
        assert_eq!(m.gamut.as_deref(), Some("S-Gamut3.Cine"));
        assert!(m.umid.as_deref().is_some_and(|u| u.ends_with("AA00")));
    }

    #[test]
    fn ltc_values() {
        assert_eq!(
            decode_ltc_value("00000012").unwrap().to_string(),
            "12:00:00:00"
        );
        assert_eq!(
            decode_ltc_value("24594523").unwrap().to_string(),
            "23:45:59:24"
        );
        // Drop-frame flag (0x40) in the frames byte: 0x40|0x00.
        assert_eq!(
            decode_ltc_value("40000001").unwrap().to_string(),
            "01:00:00;00"
        );
        assert_eq!(decode_ltc_value("0000"), None);
        assert_eq!(decode_ltc_value("zz000012"), None);
    }

    #[test]
    fn empty_and_broken_sidecars_are_errors() {
        assert!(matches!(parse(""), Err(NrtError::Empty)));
        assert!(matches!(
            parse("<NonRealTimeMeta><Duration"),
            Err(NrtError::Xml(_))
        ));
        assert!(matches!(
            parse("<MediaProfile/>"),
            Err(NrtError::WrongRoot(_))
        ));
        let minimal = parse("<NonRealTimeMeta/>").unwrap();
        assert_eq!(minimal, NrtMeta::default());
    }
}
