//! Panasonic P2 clip XML (`CONTENTS/CLIP/<name>.XML`, root `P2Main`, namespace
//! `urn:schemas-Professional-Plug-in:P2:ClipMetadata:v3.x` — any version accepted).
//! Field list: camera-cards.md §3.1; source: adobe/XMP-Toolkit-SDK `P2_Support.cpp`.

use super::{child, clean_xml, text_at};
use crate::media::rate::{Rational, parse_rate_label};
use crate::media::timecode::Timecode;

#[derive(Debug, thiserror::Error)]
pub enum P2Error {
    #[error("P2 clip XML is empty: re-copy the CLIP folder from the card")]
    Empty,
    #[error("P2 clip XML is not well-formed ({0}): re-copy the CLIP folder from the card")]
    Xml(#[from] roxmltree::Error),
    #[error(
        "not a P2 clip XML: root element is <{0}>, expected <P2Main>; re-copy the CLIP folder from the card"
    )]
    WrongRoot(String),
    #[error("P2 clip XML has no <ClipContent>: re-copy the CLIP folder from the card")]
    NoClipContent,
}

/// `EssenceList/Video`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct P2Video {
    /// e.g. "AVC-I_1080/50i".
    pub codec: Option<String>,
    /// `Codec@Class`, e.g. "100".
    pub codec_class: Option<String>,
    /// Camera label, e.g. "25p", "50i", "59.94i".
    pub frame_rate: Option<String>,
    pub drop_frame: bool,
    /// As stored (50p/59.94p store halved frame numbers: see [`P2Clip::start_timecode`]).
    pub start_timecode: Option<String>,
    pub aspect_ratio: Option<String>,
}

/// `EssenceList/Audio` (one per channel file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct P2Audio {
    pub sampling_rate: Option<u32>,
    pub bits_per_sample: Option<u32>,
}

/// `Relation/Connection/Next`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct P2Next {
    pub clip_name: Option<String>,
    pub global_clip_id: Option<String>,
    /// Serial of the card holding the next clip ("waiting for card …").
    pub p2_serial_no: Option<String>,
}

/// `Relation` (spans across cards).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct P2Relation {
    pub offset_in_shot: Option<u64>,
    pub global_shot_id: Option<String>,
    pub top_global_clip_id: Option<String>,
    pub previous_global_clip_id: Option<String>,
    pub next: Option<P2Next>,
}

/// One P2 clip XML.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct P2Clip {
    pub clip_name: Option<String>,
    pub global_clip_id: Option<String>,
    /// In edit units (frames).
    pub duration_frames: Option<u64>,
    /// e.g. 1/25, 1001/30000.
    pub edit_unit: Option<Rational>,
    pub video: Option<P2Video>,
    pub audio: Vec<P2Audio>,
    pub relation: P2Relation,
    pub user_clip_name: Option<String>,
    pub creation_date: Option<String>,
    pub last_update_date: Option<String>,
    pub creator: Option<String>,
    pub manufacturer: Option<String>,
    pub serial_no: Option<String>,
    pub model_name: Option<String>,
    pub shooter: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub location: Option<String>,
    pub program_name: Option<String>,
    pub scene_no: Option<String>,
    pub take_no: Option<String>,
}

fn yes(text: Option<String>) -> bool {
    text.is_some_and(|t| matches!(t.to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}

/// Parses a P2 clip XML document.
pub fn parse(xml: &str) -> Result<P2Clip, P2Error> {
    let xml = clean_xml(xml);
    if xml.is_empty() {
        return Err(P2Error::Empty);
    }
    let doc = roxmltree::Document::parse(xml)?;
    let root = doc.root_element();
    if root.tag_name().name() != "P2Main" {
        return Err(P2Error::WrongRoot(root.tag_name().name().to_owned()));
    }
    let cc = child(root, "ClipContent").ok_or(P2Error::NoClipContent)?;
    let essence = child(cc, "EssenceList");
    let video = essence.and_then(|e| child(e, "Video")).map(|v| P2Video {
        codec: text_at(v, &["Codec"]),
        codec_class: child(v, "Codec")
            .and_then(|c| c.attribute("Class"))
            .map(str::to_owned),
        frame_rate: text_at(v, &["FrameRate"]),
        drop_frame: yes(text_at(v, &["DropFrameFlag"])),
        start_timecode: text_at(v, &["StartTimecode"]),
        aspect_ratio: text_at(v, &["AspectRatio"]),
    });
    let audio = essence
        .map(|e| {
            e.children()
                .filter(|n| n.is_element() && n.tag_name().name() == "Audio")
                .map(|a| P2Audio {
                    sampling_rate: text_at(a, &["SamplingRate"]).and_then(|t| t.parse().ok()),
                    bits_per_sample: text_at(a, &["BitsPerSample"]).and_then(|t| t.parse().ok()),
                })
                .collect()
        })
        .unwrap_or_default();
    let relation = child(cc, "Relation")
        .map(|r| {
            let conn = child(r, "Connection");
            let gcid = |name: &str| {
                conn.and_then(|c| child(c, name))
                    .and_then(|n| text_at(n, &["GlobalClipID"]))
            };
            P2Relation {
                offset_in_shot: text_at(r, &["OffsetInShot"]).and_then(|t| t.parse().ok()),
                global_shot_id: text_at(r, &["GlobalShotID"]),
                top_global_clip_id: gcid("Top"),
                previous_global_clip_id: gcid("Previous"),
                next: conn.and_then(|c| child(c, "Next")).map(|n| P2Next {
                    clip_name: text_at(n, &["ClipName"]),
                    global_clip_id: text_at(n, &["GlobalClipID"]),
                    p2_serial_no: text_at(n, &["P2SerialNo."]),
                }),
            }
        })
        .unwrap_or_default();
    let meta = child(cc, "ClipMetadata");
    let m = |path: &[&str]| meta.and_then(|m| text_at(m, path));
    Ok(P2Clip {
        clip_name: text_at(cc, &["ClipName"]),
        global_clip_id: text_at(cc, &["GlobalClipID"]),
        duration_frames: text_at(cc, &["Duration"]).and_then(|t| t.parse().ok()),
        edit_unit: text_at(cc, &["EditUnit"]).and_then(|t| Rational::parse(&t)),
        video,
        audio,
        relation,
        user_clip_name: m(&["UserClipName"]),
        creation_date: m(&["Access", "CreationDate"]),
        last_update_date: m(&["Access", "LastUpdateDate"]),
        creator: m(&["Access", "Creator"]),
        manufacturer: m(&["Device", "Manufacturer"]),
        serial_no: m(&["Device", "SerialNo."]),
        model_name: m(&["Device", "ModelName"]),
        shooter: m(&["Shoot", "Shooter"]),
        start_date: m(&["Shoot", "StartDate"]),
        end_date: m(&["Shoot", "EndDate"]),
        location: m(&["Shoot", "Location", "PlaceName"]).or_else(|| m(&["Shoot", "Location"])),
        program_name: m(&["Scenario", "ProgramName"]),
        scene_no: m(&["Scenario", "SceneNo."]),
        take_no: m(&["Scenario", "TakeNo."]),
    })
}

impl P2Clip {
    /// Frames per second: from the `FrameRate` label, else the reciprocal of `EditUnit`.
    pub fn frame_rate(&self) -> Option<Rational> {
        self.video
            .as_ref()
            .and_then(|v| v.frame_rate.as_deref())
            .and_then(parse_rate_label)
            .map(|(r, _)| r)
            .or_else(|| self.edit_unit.map(Rational::recip))
    }

    /// `Duration × EditUnit` in seconds.
    pub fn duration_seconds(&self) -> Option<f64> {
        Some(self.duration_frames? as f64 * self.edit_unit?.as_f64())
    }

    /// Start timecode, with drop-frame from `DropFrameFlag` and the 50p/59.94p quirk undone:
    /// P2 stores those frame numbers halved (0–29), so they are doubled (P2_Handler.cpp).
    pub fn start_timecode(&self) -> Option<Timecode> {
        let video = self.video.as_ref()?;
        let mut tc = Timecode::parse(video.start_timecode.as_deref()?)?;
        let label = video.frame_rate.as_deref().and_then(parse_rate_label);
        if let Some((rate, false)) = label
            && rate.nominal_fps() > 30
        {
            tc.frames *= 2;
        }
        tc.drop_frame = video.drop_frame || tc.drop_frame;
        Some(tc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no" ?>
<P2Main xmlns="urn:schemas-Professional-Plug-in:P2:ClipMetadata:v3.1">
  <ClipContent>
    <ClipName>0003AB</ClipName>
    <GlobalClipID>060A2B340101010501010D4313000000AABBCCDD000000000000000000000000</GlobalClipID>
    <Duration>50</Duration>
    <EditUnit>1/25</EditUnit>
    <EssenceList>
      <Video>
        <VideoFormat>MXF</VideoFormat>
        <Codec Class="100">AVC-I_1080/50i</Codec>
        <FrameRate>50i</FrameRate>
        <StartTimecode>11:00:00:00</StartTimecode>
        <StartBinaryGroup>00000000</StartBinaryGroup>
        <AspectRatio>16:9</AspectRatio>
      </Video>
      <Audio><AudioFormat>MXF</AudioFormat><SamplingRate>48000</SamplingRate><BitsPerSample>24</BitsPerSample></Audio>
      <Audio><AudioFormat>MXF</AudioFormat><SamplingRate>48000</SamplingRate><BitsPerSample>24</BitsPerSample></Audio>
      <Audio><AudioFormat>MXF</AudioFormat><SamplingRate>48000</SamplingRate><BitsPerSample>24</BitsPerSample></Audio>
      <Audio><AudioFormat>MXF</AudioFormat><SamplingRate>48000</SamplingRate><BitsPerSample>24</BitsPerSample></Audio>
    </EssenceList>
    <Relation>
      <OffsetInShot>0</OffsetInShot>
      <GlobalShotID>060A2B340101010501010D4313000000AABBCCDD000000000000000000000000</GlobalShotID>
      <Connection>
        <Top><GlobalClipID>060A2B340101010501010D4313000000AABBCCDD000000000000000000000000</GlobalClipID></Top>
        <Next><ClipName>0004CD</ClipName><GlobalClipID>060A2B340101010501010D4313000000EEFF0011000000000000000000000000</GlobalClipID><P2SerialNo.>CARDB0001</P2SerialNo.></Next>
      </Connection>
    </Relation>
    <ClipMetadata>
      <UserClipName>Interview A</UserClipName>
      <Access><Creator>ops</Creator><CreationDate>2024-05-14T12:00:00+02:00</CreationDate></Access>
      <Device><Manufacturer>Panasonic</Manufacturer><SerialNo.>D1TCA0001</SerialNo.><ModelName>AJ-PX270</ModelName></Device>
      <Shoot><Shooter>Kim</Shooter><StartDate>2024-05-14T12:01:00+02:00</StartDate></Shoot>
      <Scenario><ProgramName>News</ProgramName><SceneNo.>12</SceneNo.><TakeNo.>3</TakeNo.></Scenario>
    </ClipMetadata>
  </ClipContent>
</P2Main>"#;

    #[test]
    fn parses_every_field() {
        let c = parse(SAMPLE).unwrap();
        assert_eq!(c.clip_name.as_deref(), Some("0003AB"));
        assert_eq!(c.duration_frames, Some(50));
        assert_eq!(c.duration_seconds(), Some(2.0));
        assert_eq!(c.frame_rate().map(|r| r.to_string()).as_deref(), Some("25"));
        let v = c.video.as_ref().unwrap();
        assert_eq!(v.codec.as_deref(), Some("AVC-I_1080/50i"));
        assert_eq!(v.codec_class.as_deref(), Some("100"));
        assert_eq!(v.aspect_ratio.as_deref(), Some("16:9"));
        assert_eq!(c.start_timecode().unwrap().to_string(), "11:00:00:00");
        assert_eq!(c.audio.len(), 4);
        assert_eq!(c.audio[3].bits_per_sample, Some(24));
        let next = c.relation.next.as_ref().unwrap();
        assert_eq!(next.clip_name.as_deref(), Some("0004CD"));
        assert_eq!(next.p2_serial_no.as_deref(), Some("CARDB0001"));
        assert_eq!(c.relation.top_global_clip_id, c.global_clip_id);
        assert_eq!(c.relation.offset_in_shot, Some(0));
        assert_eq!(c.user_clip_name.as_deref(), Some("Interview A"));
        assert_eq!(
            c.creation_date.as_deref(),
            Some("2024-05-14T12:00:00+02:00")
        );
        assert_eq!(c.start_date.as_deref(), Some("2024-05-14T12:01:00+02:00"));
        assert_eq!(c.manufacturer.as_deref(), Some("Panasonic"));
        assert_eq!(c.serial_no.as_deref(), Some("D1TCA0001"));
        assert_eq!(c.model_name.as_deref(), Some("AJ-PX270"));
        assert_eq!(
            (c.scene_no.as_deref(), c.take_no.as_deref()),
            (Some("12"), Some("3"))
        );
    }

    #[test]
    fn other_namespace_version_and_halved_50p_timecode_and_drop_frame() {
        let xml = r#"<P2Main xmlns="urn:schemas-Professional-Plug-in:P2:ClipMetadata:v3.0"><ClipContent>
            <Duration>120</Duration><EditUnit>1/50</EditUnit>
            <EssenceList><Video><FrameRate>50p</FrameRate><StartTimecode>01:00:00:12</StartTimecode></Video></EssenceList>
            </ClipContent></P2Main>"#;
        let c = parse(xml).unwrap();
        assert_eq!(c.start_timecode().unwrap().to_string(), "01:00:00:24");
        assert_eq!(c.frame_rate().map(|r| r.to_string()).as_deref(), Some("50"));
        assert_eq!(c.duration_seconds(), Some(2.4));

        let df = r#"<P2Main xmlns="urn:schemas-Professional-Plug-in:P2:ClipMetadata:v2.1"><ClipContent>
            <EditUnit>1001/30000</EditUnit>
            <EssenceList><Video><FrameRate>59.94i</FrameRate><DropFrameFlag>true</DropFrameFlag>
            <StartTimecode>00:10:00:00</StartTimecode></Video></EssenceList></ClipContent></P2Main>"#;
        let c = parse(df).unwrap();
        assert_eq!(c.start_timecode().unwrap().to_string(), "00:10:00;00");
        assert_eq!(
            c.frame_rate().map(|r| r.to_string()).as_deref(),
            Some("30000/1001")
        );
    }

    #[test]
    fn broken_input_is_an_error_not_a_panic() {
        assert!(matches!(parse(""), Err(P2Error::Empty)));
        assert!(matches!(parse("\u{feff}  \0\0"), Err(P2Error::Empty)));
        assert!(matches!(
            parse("<P2Main><ClipContent>"),
            Err(P2Error::Xml(_))
        ));
        assert!(matches!(parse("<Other/>"), Err(P2Error::WrongRoot(r)) if r == "Other"));
        assert!(matches!(parse("<P2Main/>"), Err(P2Error::NoClipContent)));
    }
}
