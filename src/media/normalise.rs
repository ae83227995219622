//! Merging sidecar facts and per-file technical facts into [`ClipMetadata`].
//!
//! Precedence (camera-cards.md §4): operator facts — duration, frame rate, start timecode,
//! names, camera, dates — come from the sidecar first, the container second. Stored picture
//! facts — width, height, codec — come from the container first (what is really in the file),
//! the sidecar only when no tool could read the essence.
//!
//! Durations add up over segments (spans, chapters); audio channels count the member files
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
}

fn first<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

fn sidecar_facts(sidecars: &[(PathBuf, Sidecar)]) -> SidecarFacts {
    let mut f = SidecarFacts::default();
    for (_, s) in sidecars {
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
        }
    }
    f
}

/// Duration of one segment: the video member's duration, else the longest member.
fn segment_duration(seg: &[usize], tech: &BTreeMap<usize, FileTech>) -> Option<f64> {
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

    let duration_seconds = if let (Some(s), Some(r)) = (seq, frame_rate) {
        Some(s.frame_count as f64 / r.as_f64())
    } else if !side.durations.is_empty() {
        Some(side.durations.iter().sum())
    } else {
        let per_seg: Vec<f64> = input
            .segments
            .iter()
            .filter_map(|seg| segment_duration(seg, tech))
            .collect();
        (!per_seg.is_empty()).then(|| per_seg.iter().sum())
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

    ClipMetadata {
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
        user_clip_name: side.user_clip_name,
        shoot_date: side
            .shoot_date
            .or_else(|| seg_tech.iter().find_map(|t| t.encoded_date.clone())),
    }
}
