//! Sony NonRealTimeMeta (`<clip>M01.XML`, XDCAM/XAVC/XDCAM EX; camera-cards.md §3.2).
//! Any `urn:schemas-professionalDisc:nonRealTimeMeta:*` version is accepted.
//!
//! `LtcChange@value` is 8 hex digits in FF SS MM HH order, each byte BCD with SMPTE flag bits
//! (drop-frame = 0x40 in the frames byte): `00000012` = 12:00:00:00.
//!
//! Essence marks: `KlvPacketTable/KlvPacket@key|frameCount|lengthValue|status`, as real files
//! show (ILCE-6700 and ILME-FX3 sidecars quoted in public posts: `key=
//! "060E2B34010101050301020A02000000"` — SMPTE's essence-mark label —, `frameCount="0"
//! lengthValue="095F5265635374617274" status="spot"`, i.e. `_RecStart` at frame 0). `lengthValue`
//! is the KLV length and value in hex: a BER length byte, then the ASCII label (`_RecStart`,
//! `_ShotMark1`, `_ShotMark2`, `_RecEnd`). `frameCount` counts frames of the clip in the unit of
//! `Duration` (60p frames at 59.94p with `halfStep`, camera-cards.md §10).

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
    /// `KlvPacketTable` essence marks, in document order.
    pub essence_marks: Vec<EssenceMark>,
}

/// SMPTE's "essence mark" UL, the `key` of every mark packet in real NRT files.
pub const ESSENCE_MARK_KEY: &str = "060E2B34010101050301020A02000000";

/// One essence mark: its frame and its label (`_ShotMark1`, `_RecStart`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EssenceMark {
    pub frame: u64,
    pub label: String,
}

impl EssenceMark {
    /// Marks the camera writes on every clip (its own start and end), not the operator's.
    pub fn is_automatic(&self) -> bool {
        matches!(self.label.as_str(), "_RecStart" | "_RecEnd")
    }

    /// The label for people: `_ShotMark1` → `Shot Mark 1`, else the label without its `_`.
    pub fn display_label(&self) -> String {
        match self.label.strip_prefix("_ShotMark") {
            Some(n) if !n.is_empty() => format!("Shot Mark {n}"),
            _ => self.label.trim_start_matches('_').to_owned(),
        }
    }
}

/// Decodes a `lengthValue`: hex of a BER length (short form, or `81`/`82` long form) and the
/// ASCII/UTF-8 label. `None` when it is not that.
pub fn decode_length_value(hex: &str) -> Option<String> {
    let hex = hex.trim();
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect::<Option<_>>()?;
    let (len, start) = match *bytes.first()? {
        n if n < 0x80 => (usize::from(n), 1),
        0x81 => (usize::from(*bytes.get(1)?), 2),
        0x82 => (
            usize::from(u16::from_be_bytes([*bytes.get(1)?, *bytes.get(2)?])),
            3,
        ),
        _ => return None,
    };
    let value = bytes.get(start..start + len)?;
    let text = String::from_utf8_lossy(value)
        .trim_end_matches('\0')
        .trim()
        .to_owned();
    (!text.is_empty()).then_some(text)
}

fn essence_marks(root: roxmltree::Node<'_, '_>) -> Vec<EssenceMark> {
    let Some(table) = child(root, "KlvPacketTable") else {
        return Vec::new();
    };
    table
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "KlvPacket")
        .filter(|n| {
            n.attribute("key")
                .is_some_and(|k| k.trim().eq_ignore_ascii_case(ESSENCE_MARK_KEY))
        })
        .filter_map(|n| {
            Some(EssenceMark {
                frame: n.attribute("frameCount")?.trim().parse().ok()?,
                label: decode_length_value(n.attribute("lengthValue")?)?,
            })
        })
        .collect()
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
        essence_marks: essence_marks(root),
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

    /// Milliseconds from the clip's start of frame `frame` (counted like `Duration`).
    pub fn frame_ms(&self, frame: u64) -> Option<u64> {
        let r = self.frame_rate()?;
        let ms = frame as f64 * 1000.0 / r.as_f64();
        ms.is_finite().then(|| ms.round() as u64)
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

    #[test]
    fn essence_marks_from_the_klv_packet_table() {
        // The table as a real ILCE-6700 sidecar has it (`_RecStart` at 0), plus two shot marks
        // and a packet of another key, which is not a mark.
        let xml = SAMPLE.replace(
            "  <VideoFormat>",
            r#"  <KlvPacketTable>
    <KlvPacket key="060E2B34010101050301020A02000000" frameCount="0" lengthValue="095F5265635374617274" status="spot"/>
    <KlvPacket key="060E2B34010101050301020A02000000" frameCount="30" lengthValue="0A5F53686F744D61726B31" status="spot"/>
    <KlvPacket key="060e2b34010101050301020a02000000" frameCount="61" lengthValue="0A5F53686F744D61726B32" status="spot"/>
    <KlvPacket key="060E2B34010101010000000000000000" frameCount="5" lengthValue="0141" status="spot"/>
  </KlvPacketTable>
  <VideoFormat>"#,
        );
        let m = parse(&xml).unwrap();
        let labels: Vec<(u64, &str)> = m
            .essence_marks
            .iter()
            .map(|e| (e.frame, e.label.as_str()))
            .collect();
        assert_eq!(
            labels,
            [(0, "_RecStart"), (30, "_ShotMark1"), (61, "_ShotMark2")]
        );
        assert!(m.essence_marks[0].is_automatic());
        assert_eq!(m.essence_marks[1].display_label(), "Shot Mark 1");
        // 25p: frame 30 is 1.2 s, frame 61 is 2.44 s.
        assert_eq!(m.frame_ms(30), Some(1200));
        assert_eq!(m.frame_ms(61), Some(2440));
        assert_eq!(
            decode_length_value("075F526563456E64").as_deref(),
            Some("_RecEnd")
        );
        assert_eq!(
            decode_length_value("0A5F53"),
            None,
            "shorter than its length"
        );
        assert_eq!(decode_length_value("zz"), None);
    }
}
