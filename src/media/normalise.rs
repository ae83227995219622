//! Merging sidecar facts and per-file technical facts into [`ClipMetadata`].
//!
//! Precedence (camera-cards.md §4): operator facts — duration, frame rate, start timecode,
//! names, camera, dates — come from the sidecar first, the container second. Stored picture
//! facts — width, height, codec — come from the container first (what is really in the file),
//! the sidecar only when no tool could read the essence.
//!
//! Durations add up over segments (spans, chapters): the sidecars' when every segment has a
//! sidecar duration, else the containers'. Audio channels count the member files
//! of ONE segment (P2: video + 4 mono files = 4; GoPro chapters are not added).

use super::ClipMetadata;
use super::codec;
use super::dates;
use super::rate::Rational;
use super::sequence::DEFAULT_SEQUENCE_FPS;
use super::sidecar::Sidecar;
use super::tech::FileTech;
use super::timecode::Timecode;
use crate::card::Clip;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Facts about an image sequence (first-frame header + frame count).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SequenceFacts {
    pub frame_count: u64,
    pub frame_rate: Option<Rational>,
    pub timecode: Option<Timecode>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// Everything normalisation looks at.
pub struct NormaliseInput<'a> {
    pub clip: &'a Clip,
    pub segments: &'a [Vec<usize>],
    /// Technical summary by index into `clip.files`.
    pub tech: &'a BTreeMap<usize, FileTech>,
    pub sidecars: &'a [(PathBuf, Sidecar)],
    pub sequence: Option<SequenceFacts>,
}

/// Sidecar facts reduced to what normalisation needs, in clip order.
#[derive(Default)]
struct SidecarFacts {
    durations: Vec<f64>,
    frame_rate: Option<Rational>,
    timecode: Option<Timecode>,
    camera_model: Option<String>,
    camera_serial: Option<String>,
    user_clip_name: Option<String>,
    shoot_date: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    video_codec: Option<String>,
    audio_channels: Option<u32>,
    /// Field name → the sidecar that gave it (`0002EM.XML P2 clip XML`).
    sources: BTreeMap<String, String>,
    /// Camera facts by name for look rules (`gamma`, `gamut`).
    extra: BTreeMap<String, String>,
}

impl SidecarFacts {
    /// Which of the sourced fields are set, in [`SOURCED`] order.
    fn set_fields(&self) -> [bool; 5] {
        [
            self.camera_model.is_some(),
            self.camera_serial.is_some(),
            self.user_clip_name.is_some(),
            self.shoot_date.is_some(),
            self.timecode.is_some(),
        ]
    }
}

/// Operator-facing fields whose sidecar source is recorded.
const SOURCED: [&str; 5] = [
    "camera_model",
    "camera_serial",
    "user_clip_name",
    "shoot_date",
    "timecode_start",
];

fn first<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

fn sidecar_facts(sidecars: &[(PathBuf, Sidecar)]) -> SidecarFacts {
    let mut f = SidecarFacts::default();
    for (path, s) in sidecars {
        let before = f.set_fields();
        let kind = match s {
            Sidecar::P2(_) => "P2 clip XML",
            Sidecar::SonyNrt(_) => "Sony NonRealTimeMeta XML",
            Sidecar::Canon(_) => "Canon clip XML",
            Sidecar::Bwf(_) => "bext TimeReference at iXML SPEED/TIMECODE_RATE",
            Sidecar::SonyMediapro(_) => "card inventory System@systemKind",
            // Production/look facts only: filled by `production`.
            Sidecar::AleRow(_) | Sidecar::RawLook(_) => "",
        };
        match s {
            Sidecar::P2(c) => {
                f.durations.extend(c.duration_seconds());
                first(&mut f.frame_rate, c.frame_rate());
                first(&mut f.timecode, c.start_timecode());
                first(&mut f.camera_model, c.model_name.clone());
                first(&mut f.camera_serial, c.serial_no.clone());
                first(&mut f.user_clip_name, c.user_clip_name.clone());
                first(
                    &mut f.shoot_date,
                    [&c.start_date, &c.creation_date]
                        .into_iter()
                        .flatten()
                        .find_map(|d| dates::to_rfc3339(d)),
                );
                first(
                    &mut f.video_codec,
                    c.video
                        .as_ref()
                        .and_then(|v| v.codec.as_deref())
                        .and_then(codec::from_sidecar_label),
                );
                if !c.audio.is_empty() {
                    first(&mut f.audio_channels, u32::try_from(c.audio.len()).ok());
                }
            }
            Sidecar::SonyNrt(m) => {
                f.durations.extend(m.duration_seconds());
                first(&mut f.frame_rate, m.frame_rate());
                first(
                    &mut f.timecode,
                    m.start_timecode.map(|mut tc| {
                        // The DF flag bit is only meaningful at NTSC timecode rates.
                        tc.drop_frame &= m.tc_fps == Some(30) || m.tc_fps == Some(60);
                        tc
                    }),
                );
                first(&mut f.camera_model, m.model_name.clone());
                first(&mut f.camera_serial, m.serial_no.clone());
                first(&mut f.user_clip_name, m.title.clone());
                first(
                    &mut f.shoot_date,
                    m.creation_date.as_deref().and_then(dates::to_rfc3339),
                );
                first(&mut f.width, m.width);
                first(&mut f.height, m.height);
                first(
                    &mut f.video_codec,
                    m.video_codec.as_deref().and_then(codec::from_sidecar_label),
                );
                first(&mut f.audio_channels, m.audio_channels);
                for (k, v) in [("gamma", &m.gamma), ("gamut", &m.gamut)] {
                    if let Some(v) = v {
                        f.extra.entry(k.to_owned()).or_insert_with(|| v.clone());
                    }
                }
            }
            Sidecar::Canon(c) => {
                f.durations.extend(c.duration_seconds());
                first(&mut f.frame_rate, c.frame_rate());
                first(&mut f.timecode, c.start_timecode);
                first(&mut f.camera_model, c.model_name.clone());
                first(&mut f.camera_serial, c.serial_no.clone());
                first(&mut f.user_clip_name, c.title.clone());
                first(
                    &mut f.shoot_date,
                    c.creation_date.as_deref().and_then(dates::to_rfc3339),
                );
            }
            // BWF: only the start TC; its duration is the file's (the container knows it) and
            // its date has no zone (see `dates`).
            Sidecar::Bwf(b) => first(&mut f.timecode, b.start_timecode()),
            // Read after the clip XMLs: their Device@modelName wins.
            Sidecar::SonyMediapro(p) => first(&mut f.camera_model, p.system_kind.clone()),
            Sidecar::AleRow(_) | Sidecar::RawLook(_) => {}
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for ((field, was), now) in SOURCED.iter().zip(before).zip(f.set_fields()) {
            if now && !was {
                f.sources
                    .insert((*field).to_owned(), format!("{name} {kind}"));
            }
        }
    }
    f
}

/// Duration of one segment: the video member's duration, else the longest member.
pub(crate) fn segment_duration(seg: &[usize], tech: &BTreeMap<usize, FileTech>) -> Option<f64> {
    let members: Vec<&FileTech> = seg.iter().filter_map(|i| tech.get(i)).collect();
    members
        .iter()
        .find(|t| t.video_codec.is_some())
        .and_then(|t| t.duration_seconds)
        .or_else(|| {
            members
                .iter()
                .filter_map(|t| t.duration_seconds)
                .max_by(f64::total_cmp)
        })
}

/// Sony NRT `Title` and Canon/P2 user names default to the camera's own clip or file name
/// (`C0001`, or `709_001_01` for the first clip of an EX take): that is not a name the operator
/// gave, and showing it as one (or a segment's name for a whole take) only confuses.
fn is_camera_default_name(name: &str, clip: &Clip) -> bool {
    name.eq_ignore_ascii_case(&clip.name)
        || clip.files.iter().any(|f| {
            f.path
                .file_stem()
                .is_some_and(|s| s.to_string_lossy().eq_ignore_ascii_case(name))
        })
}

pub fn normalise(input: &NormaliseInput<'_>) -> ClipMetadata {
    let side = sidecar_facts(input.sidecars);
    let tech = input.tech;
    let first_seg: &[usize] = input
        .segments
        .first()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let seg_tech: Vec<&FileTech> = first_seg.iter().filter_map(|i| tech.get(i)).collect();
    let video = seg_tech.iter().find(|t| t.video_codec.is_some()).copied();
    let seq = input.sequence;

    let seq_rate = seq.map(|s| {
        s.frame_rate
            .or(side.frame_rate)
            .or_else(|| Rational::new(DEFAULT_SEQUENCE_FPS, 1))
    });
    let frame_rate = match seq_rate {
        Some(r) => r,
        None => side.frame_rate.or_else(|| video.and_then(|v| v.frame_rate)),
    };

    // Sidecar durations are per segment (one clip XML per span card / EX clip folder), so
    // their sum is the clip's only when every segment has one. An empty or missing sidecar
    // for one segment (EX cards ship empty M01.XML) would otherwise drop that segment's
    // time: then the containers are summed instead, and the sidecar sum is the last resort
    // when no container has a duration either.
    let container_sum = || {
        let per_seg: Vec<f64> = input
            .segments
            .iter()
            .filter_map(|seg| segment_duration(seg, tech))
            .collect();
        (!per_seg.is_empty()).then(|| per_seg.iter().sum())
    };
    let sidecar_sum = (!side.durations.is_empty()).then(|| side.durations.iter().sum::<f64>());
    let duration_seconds = if let (Some(s), Some(r)) = (seq, frame_rate) {
        Some(s.frame_count as f64 / r.as_f64())
    } else if side.durations.len() >= input.segments.len().max(1) {
        sidecar_sum
    } else {
        container_sum().or(sidecar_sum)
    };

    let audio_from_files: Option<u32> = {
        let counts: Vec<u32> = seg_tech.iter().filter_map(|t| t.audio_channels).collect();
        (!counts.is_empty()).then(|| counts.iter().sum())
    };

    let timecode = side
        .timecode
        .or_else(|| seq.and_then(|s| s.timecode))
        .map(|tc| tc.to_string())
        .or_else(|| video.and_then(|v| v.timecode.clone()))
        .or_else(|| seg_tech.iter().find_map(|t| t.timecode.clone()));

    let mut m = ClipMetadata {
        duration_seconds: duration_seconds.map(|d| (d * 1000.0).round() / 1000.0),
        frame_rate: frame_rate.map(|r| r.to_string()),
        width: video
            .and_then(|v| v.width)
            .or(seq.and_then(|s| s.width))
            .or(side.width),
        height: video
            .and_then(|v| v.height)
            .or(seq.and_then(|s| s.height))
            .or(side.height),
        video_codec: video
            .and_then(|v| v.video_codec.clone())
            .or(side.video_codec),
        audio_channels: audio_from_files.or(side.audio_channels),
        timecode_start: timecode,
        camera_model: side.camera_model,
        camera_serial: side.camera_serial,
        user_clip_name: side
            .user_clip_name
            .filter(|n| !is_camera_default_name(n, input.clip)),
        shoot_date: side
            .shoot_date
            .or_else(|| seg_tech.iter().find_map(|t| t.encoded_date.clone())),
        ..ClipMetadata::default()
    };
    m.sources = side.sources;
    m.extra.extend(side.extra);
    super::production::fill_from_bwf(&mut m, input.sidecars);
    super::production::fill_from_camera_sidecars(&mut m, input.sidecars);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{ClipFile, Family, FileRole};
    use crate::media::sidecar::{p2, sony_nrt};
    use crate::media::tech::ProbeTool;

    fn clip(n_files: usize, segments: Vec<Vec<usize>>) -> Clip {
        Clip {
            id: "t".into(),
            name: "t".into(),
            family: Family::P2,
            card_root: PathBuf::from("/card"),
            files: (0..n_files)
                .map(|i| ClipFile {
                    path: PathBuf::from(format!("/card/{i}")),
                    role: FileRole::Video,
                    size: 1,
                })
                .collect(),
            segments,
            incomplete: None,
            warnings: Vec::new(),
            derived_from: None,
        }
    }

    /// Normalises `c` (its own segments, no image sequence).
    fn describe(
        c: &Clip,
        tech: &BTreeMap<usize, FileTech>,
        sidecars: &[(PathBuf, Sidecar)],
    ) -> ClipMetadata {
        normalise(&NormaliseInput {
            clip: c,
            segments: &c.segments,
            tech,
            sidecars,
            sequence: None,
        })
    }

    fn video(duration: f64, tc: &str) -> FileTech {
        FileTech {
            video_codec: Some("h264".into()),
            width: Some(1920),
            height: Some(1080),
            frame_rate: Rational::new(25, 1),
            duration_seconds: Some(duration),
            timecode: Some(tc.into()),
            ..FileTech::empty(ProbeTool::Mediainfo)
        }
    }

    fn mono(duration: f64) -> FileTech {
        FileTech {
            audio_channels: Some(1),
            duration_seconds: Some(duration),
            ..FileTech::empty(ProbeTool::Mediainfo)
        }
    }

    fn p2_xml(name: &str, frames: u32, tc: &str) -> Sidecar {
        let xml = format!(
            r#"<P2Main xmlns="urn:schemas-Professional-Plug-in:P2:ClipMetadata:v3.1"><ClipContent>
            <ClipName>{name}</ClipName><Duration>{frames}</Duration><EditUnit>1/25</EditUnit>
            <EssenceList><Video><FrameRate>50i</FrameRate><StartTimecode>{tc}</StartTimecode></Video>
            <Audio/><Audio/></EssenceList>
            <ClipMetadata><Device><ModelName>AJ-PX800</ModelName></Device></ClipMetadata>
            </ClipContent></P2Main>"#
        );
        Sidecar::P2(Box::new(p2::parse(&xml).unwrap()))
    }

    /// P2 shot spanning two cards: 50 + 25 frames; segments [video, a0, a1] each.
    #[test]
    fn p2_span_sums_sidecar_durations_and_counts_one_segment_of_audio() {
        let c = clip(6, vec![vec![0, 1, 2], vec![3, 4, 5]]);
        let tech: BTreeMap<usize, FileTech> = [
            (0, video(2.0, "11:00:00:00")),
            (1, mono(2.0)),
            (2, mono(2.0)),
            (3, video(1.0, "11:00:02:00")),
            (4, mono(1.0)),
            (5, mono(1.0)),
        ]
        .into();
        let sidecars = vec![
            (
                PathBuf::from("/a/0003AB.XML"),
                p2_xml("0003AB", 50, "11:00:00:00"),
            ),
            (
                PathBuf::from("/b/0004CD.XML"),
                p2_xml("0004CD", 25, "11:00:02:00"),
            ),
        ];
        let m = describe(&c, &tech, &sidecars);
        assert_eq!(m.duration_seconds, Some(3.0));
        assert_eq!(m.audio_channels, Some(2));
        assert_eq!(m.timecode_start.as_deref(), Some("11:00:00:00"));
        assert_eq!(m.frame_rate.as_deref(), Some("25"));
        assert_eq!(m.camera_model.as_deref(), Some("AJ-PX800"));
        assert_eq!((m.width, m.height), (Some(1920), Some(1080)));
    }

    /// XDCAM EX take of two clip folders whose second M01.XML is empty: one sidecar duration
    /// for two segments, so the containers (2 s + 2 s) are summed, not the 2 s sidecar alone.
    #[test]
    fn a_segment_without_sidecar_duration_falls_back_to_the_containers() {
        let c = clip(2, vec![vec![0], vec![1]]);
        let tech: BTreeMap<usize, FileTech> = [
            (0, video(2.0, "01:00:00:00")),
            (1, video(2.0, "01:00:02:00")),
        ]
        .into();
        let sidecars = vec![(
            PathBuf::from("/a/0003AB.XML"),
            p2_xml("0003AB", 50, "01:00:00:00"),
        )];
        let m = describe(&c, &tech, &sidecars);
        assert_eq!(m.duration_seconds, Some(4.0));
        // Without any container duration the partial sidecar sum is still better than none.
        let m = describe(&c, &BTreeMap::new(), &sidecars);
        assert_eq!(m.duration_seconds, Some(2.0));
    }

    /// A user clip name equal to the clip or a member file name is the camera's default, not
    /// the operator's; a real one is kept.
    #[test]
    fn camera_default_user_clip_name_is_dropped() {
        let mut c = clip(2, vec![vec![0], vec![1]]);
        c.name = "709_001".into();
        c.files[0].path = PathBuf::from("/card/BPAV/CLPR/709_001_01/709_001_01.MP4");
        let run = |title: &str| {
            let xml = format!(
                r#"<NonRealTimeMeta><Title usAscii="{title}"/><Duration value="50"/></NonRealTimeMeta>"#
            );
            let sidecars = vec![(
                PathBuf::from("/x/709_001_01M01.XML"),
                Sidecar::SonyNrt(Box::new(sony_nrt::parse(&xml).unwrap())),
            )];
            describe(&c, &BTreeMap::new(), &sidecars).user_clip_name
        };
        assert_eq!(run("709_001_01"), None);
        assert_eq!(run("709_001"), None);
        assert_eq!(run("Stage wide").as_deref(), Some("Stage wide"));
    }

    /// Without tool output (e.g. tools failed) the sidecar still fills the picture facts.
    #[test]
    fn sony_sidecar_alone() {
        let xml = r#"<NonRealTimeMeta xmlns="urn:schemas-professionalDisc:nonRealTimeMeta:ver.2.10">
            <Duration value="150"/><LtcChangeTable tcFps="30"><LtcChange frameCount="0" value="40000001"/></LtcChangeTable>
            <CreationDate value="2024-05-14T12:00:00-04:00"/>
            <VideoFormat><VideoFrame videoCodec="AVC_1920_1080_HP@L42" captureFps="29.97p" formatFps="29.97p"/>
            <VideoLayout pixel="1920" numOfVerticalLine="1080"/></VideoFormat>
            <AudioFormat numOfChannel="4"/><Device manufacturer="Sony" modelName="PXW-Z190" serialNo="42"/>
            </NonRealTimeMeta>"#;
        let sidecars = vec![(
            PathBuf::from("/x/C0001M01.XML"),
            Sidecar::SonyNrt(Box::new(sony_nrt::parse(xml).unwrap())),
        )];
        let c = clip(1, vec![vec![0]]);
        let m = describe(&c, &BTreeMap::new(), &sidecars);
        assert_eq!(m.frame_rate.as_deref(), Some("30000/1001"));
        assert_eq!(m.duration_seconds, Some(5.005));
        assert_eq!(m.timecode_start.as_deref(), Some("01:00:00;00"));
        assert_eq!(m.shoot_date.as_deref(), Some("2024-05-14T12:00:00-04:00"));
        assert_eq!((m.width, m.height), (Some(1920), Some(1080)));
        assert_eq!(m.video_codec.as_deref(), Some("h264"));
        assert_eq!(m.audio_channels, Some(4));
        assert_eq!(m.camera_serial.as_deref(), Some("42"));
    }

    #[test]
    fn image_sequence_uses_header_rate_or_24() {
        let c = clip(3, vec![vec![0, 1, 2]]);
        let seq = |rate| SequenceFacts {
            frame_count: 48,
            frame_rate: rate,
            timecode: Timecode::parse("01:00:00:00"),
            width: Some(2048),
            height: Some(1080),
        };
        let run = |s| {
            normalise(&NormaliseInput {
                clip: &c,
                segments: &c.segments,
                tech: &BTreeMap::new(),
                sidecars: &[],
                sequence: Some(s),
            })
        };
        let m = run(seq(None));
        assert_eq!(
            (m.frame_rate.as_deref(), m.duration_seconds),
            (Some("24"), Some(2.0))
        );
        assert_eq!(m.timecode_start.as_deref(), Some("01:00:00:00"));
        assert_eq!(m.width, Some(2048));
        let m = run(seq(Rational::new(25, 1)));
        assert_eq!(
            (m.frame_rate.as_deref(), m.duration_seconds),
            (Some("25"), Some(1.92))
        );
    }
}
