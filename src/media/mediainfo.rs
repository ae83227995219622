//! MediaInfo: one `mediainfo --Output=JSON FILE...` run per clip, its output split per file
//! (`media.track` arrays kept verbatim for iconik) and summarised into [`FileTech`].
//!
//! Facts checked on MediaInfo 23.04 (Debian 12): one file prints an object, several files an
//! array in argument order; an unreadable path prints `"media": null`; a non-media file prints
//! only a General track without `Format`; a cut file has `extra.IsTruncated = "Yes"`; ffmpeg's
//! MXF muxer writes `Encoded_Date` "0-00-00 00:00:00.000".

use super::codec;
use super::dates;
use super::process::{self, ProcessError, ProcessSpec};
use super::rate::Rational;
use super::tech::{FileTech, ProbeTool};
use super::timecode::Timecode;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum MediaInfoError {
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("mediainfo failed (exit {code:?}) on {path}: {stderr}", path = .first.display())]
    Failed {
        first: PathBuf,
        code: Option<i32>,
        stderr: String,
    },
    #[error("mediainfo printed output that is not JSON for {path}: {source}", path = .first.display())]
    BadJson {
        first: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// Runs MediaInfo once on `files`; returns each file's `media.track` array (`None` when
/// MediaInfo could not open it), in the order of `files`.
pub fn probe(
    program: &Path,
    files: &[PathBuf],
    timeout: Duration,
) -> Result<Vec<Option<Vec<Value>>>, MediaInfoError> {
    let Some(first) = files.first() else {
        return Ok(Vec::new());
    };
    let spec = ProcessSpec::new(program, timeout)
        .arg("--Output=JSON")
        .args(files.iter().map(|f| f.as_os_str().to_owned()))
        .subject(first);
    let out = process::run(&spec)?;
    if !out.success() {
        return Err(MediaInfoError::Failed {
            first: first.clone(),
            code: out.status_code,
            stderr: out.stderr_excerpt(),
        });
    }
    let json: Value =
        serde_json::from_slice(&out.stdout).map_err(|source| MediaInfoError::BadJson {
            first: first.clone(),
            source,
        })?;
    Ok(split_output(&json, files))
}

/// Splits MediaInfo's JSON (object for one file, array for several) into per-file track arrays.
/// Entries are matched by `@ref` (the path as passed), falling back to position.
pub fn split_output(json: &Value, files: &[PathBuf]) -> Vec<Option<Vec<Value>>> {
    let entries: Vec<&Value> = match json {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let wanted = file.to_string_lossy();
            let by_ref = entries
                .iter()
                .find(|e| e["media"]["@ref"].as_str() == Some(wanted.as_ref()));
            let entry = by_ref.or_else(|| {
                // Position only when that entry has no @ref of its own (media: null).
                entries
                    .get(i)
                    .filter(|e| e["media"]["@ref"].as_str().is_none())
            })?;
            entry["media"]["track"].as_array().cloned()
        })
        .collect()
}

fn tracks_of<'a>(tracks: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    tracks
        .iter()
        .filter(move |t| t["@type"].as_str() == Some(kind))
}

fn field<'a>(track: &'a Value, key: &str) -> Option<&'a str> {
    track[key].as_str().map(str::trim).filter(|s| !s.is_empty())
}

fn num<T: std::str::FromStr>(track: &Value, key: &str) -> Option<T> {
    field(track, key)?.parse().ok()
}

fn frame_rate(track: &Value) -> Option<Rational> {
    match (
        num::<u64>(track, "FrameRate_Num"),
        num::<u64>(track, "FrameRate_Den"),
    ) {
        (Some(n), Some(d)) => Rational::new(n, d),
        _ => Rational::parse(field(track, "FrameRate")?),
    }
}

/// True when MediaInfo recognised the file as media (a General `Format` or any stream track).
pub fn is_media(tracks: &[Value]) -> bool {
    tracks.iter().any(|t| {
        let kind = t["@type"].as_str();
        kind.is_some_and(|k| k != "General")
            || (kind == Some("General") && field(t, "Format").is_some())
    })
}

/// Summarises one file's MediaInfo tracks. Tracks are selected by `@type`, never by position.
pub fn file_tech(tracks: &[Value]) -> FileTech {
    let mut tech = FileTech::empty(ProbeTool::Mediainfo);
    let general = tracks_of(tracks, "General").next();
    // Still frames (DPX, EXR, TIFF) are "Image" tracks: they stand in for video.
    let video = tracks_of(tracks, "Video")
        .next()
        .or_else(|| tracks_of(tracks, "Image").next());
    if let Some(g) = general {
        tech.container = field(g, "Format").map(str::to_owned);
        tech.container_profile = field(g, "Format_Profile").map(str::to_owned);
        tech.duration_seconds = num(g, "Duration");
        tech.frame_rate = frame_rate(g);
        tech.frame_count = num(g, "FrameCount");
        tech.encoded_date = ["Encoded_Date", "Recorded_Date", "Tagged_Date"]
            .iter()
            .find_map(|k| dates::to_rfc3339(field(g, k)?));
        tech.truncated = field(&g["extra"], "IsTruncated") == Some("Yes")
            || field(g, "IsTruncated") == Some("Yes");
    }
    if let Some(v) = video {
        tech.video_codec =
            field(v, "Format").map(|f| codec::from_mediainfo(f, field(v, "Format_Version")));
        tech.width = num(v, "Width");
        tech.height = num(v, "Height");
        tech.frame_rate = frame_rate(v).or(tech.frame_rate);
        tech.frame_count = num(v, "FrameCount").or(tech.frame_count);
        if let Some(d) = num(v, "Duration") {
            tech.duration_seconds = Some(d);
        }
    }
    let audio: Vec<&Value> = tracks_of(tracks, "Audio").collect();
    if !audio.is_empty() {
        // A track without `Channels` is counted as one (mono MXF tracks always state it).
        tech.audio_channels = Some(
            audio
                .iter()
                .map(|a| num::<u32>(a, "Channels").unwrap_or(1))
                .sum(),
        );
        tech.audio_sample_rate = audio
            .iter()
            .find_map(|a| num::<f64>(a, "SamplingRate"))
            .map(|r| r as u32);
        tech.audio_bit_depth = audio.iter().find_map(|a| num(a, "BitDepth"));
        if tech.duration_seconds.is_none() {
            tech.duration_seconds = audio.iter().find_map(|a| num(a, "Duration"));
        }
    }
    // Timecode: the Material Package TC track first (MXF), then any TC track (QuickTime tmcd),
    // then a TC in the video stream (MPEG-2 GOP header).
    let tc_tracks: Vec<&Value> = tracks_of(tracks, "Other")
        .filter(|t| field(t, "Type") == Some("Time code"))
        .collect();
    tech.timecode = tc_tracks
        .iter()
        .find(|t| field(t, "TimeCode_Settings") == Some("Material Package"))
        .or_else(|| tc_tracks.first())
        .and_then(|t| field(t, "TimeCode_FirstFrame"))
        .or_else(|| video.and_then(|v| field(v, "TimeCode_FirstFrame")))
        .and_then(Timecode::parse)
        .map(|tc| tc.to_string());
    tech
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Shape of MediaInfo 23.04 output for an ffmpeg-made OP-Atom video file and a WAV
    /// (trimmed), plus an unreadable path.
    fn canned() -> Value {
        json!([
            {"creatingLibrary": {"name": "MediaInfoLib"}, "media": {"@ref": "/c/V.MXF", "track": [
                {"@type": "General", "Format": "MXF", "Format_Profile": "OP-Atom", "Duration": "3.000",
                 "FrameRate": "25.000", "FrameCount": "75", "Encoded_Date": "0-00-00 00:00:00.000"},
                {"@type": "Video", "Format": "AVC", "Width": "320", "Height": "180", "FrameRate": "25.000",
                 "FrameRate_Num": "25", "FrameRate_Den": "1", "FrameCount": "75", "Duration": "3.000"},
                {"@type": "Other", "@typeorder": "1", "Type": "Time code", "Format": "MXF TC",
                 "TimeCode_FirstFrame": "10:00:00:00", "TimeCode_Settings": "Material Package"},
                {"@type": "Other", "@typeorder": "2", "Type": "Time code", "Format": "MXF TC",
                 "TimeCode_FirstFrame": "09:59:59:00", "TimeCode_Settings": "Source Package"}
            ]}},
            {"creatingLibrary": {"name": "MediaInfoLib"}, "media": null},
            {"creatingLibrary": {"name": "MediaInfoLib"}, "media": {"@ref": "/c/G.MP4", "track": [
                {"@type": "General", "Format": "MPEG-4", "Duration": "2.002", "Encoded_Date": "2024-05-14 12:00:00 UTC"},
                {"@type": "Video", "Format": "AVC", "Width": "320", "Height": "180", "FrameRate": "29.970", "FrameCount": "60"},
                {"@type": "Audio", "Format": "AAC", "Channels": "2", "SamplingRate": "48000"},
                {"@type": "Other", "Type": "Time code", "Format": "QuickTime TC", "TimeCode_FirstFrame": "00:00:00;00"}
            ]}}
        ])
    }

    #[test]
    fn splits_per_file_including_unreadable() {
        let files = [
            PathBuf::from("/c/V.MXF"),
            PathBuf::from("/c/missing.MXF"),
            PathBuf::from("/c/G.MP4"),
        ];
        let split = split_output(&canned(), &files);
        assert_eq!(split.len(), 3);
        assert_eq!(split[0].as_ref().map(Vec::len), Some(4));
        assert!(split[1].is_none());
        assert_eq!(split[2].as_ref().map(Vec::len), Some(4));
    }

    #[test]
    fn summarises_op_atom_video() {
        let files = [PathBuf::from("/c/V.MXF")];
        let json = canned()[0].clone();
        let tracks = split_output(&json, &files).remove(0).unwrap();
        let t = file_tech(&tracks);
        assert_eq!(t.container.as_deref(), Some("MXF"));
        assert_eq!(t.container_profile.as_deref(), Some("OP-Atom"));
        assert_eq!(t.video_codec.as_deref(), Some("h264"));
        assert_eq!((t.width, t.height), (Some(320), Some(180)));
        assert_eq!(t.frame_rate.map(|r| r.to_string()).as_deref(), Some("25"));
        assert_eq!(t.frame_count, Some(75));
        assert_eq!(t.duration_seconds, Some(3.0));
        assert_eq!(
            t.timecode.as_deref(),
            Some("10:00:00:00"),
            "material package TC wins"
        );
        assert_eq!(t.audio_channels, None);
        assert_eq!(t.encoded_date, None, "ffmpeg's zero date is ignored");
        assert!(!t.truncated);
    }

    #[test]
    fn summarises_mp4_with_decimal_rate_and_df_tc() {
        let tracks = canned()[2]["media"]["track"].as_array().cloned().unwrap();
        let t = file_tech(&tracks);
        assert_eq!(
            t.frame_rate.map(|r| r.to_string()).as_deref(),
            Some("30000/1001")
        );
        assert_eq!(t.timecode.as_deref(), Some("00:00:00;00"));
        assert_eq!(t.encoded_date.as_deref(), Some("2024-05-14T12:00:00Z"));
        assert_eq!(t.audio_channels, Some(2));
        assert_eq!(t.audio_sample_rate, Some(48000));
        assert_eq!(t.duration_seconds, Some(2.002));
    }

    #[test]
    fn non_media_and_truncated() {
        let not_media = json!([{"@type": "General", "FileExtension": "MXF", "FileSize": "6"}]);
        assert!(!is_media(not_media.as_array().unwrap()));
        let cut = json!([{"@type": "General", "Format": "MXF", "extra": {"IsTruncated": "Yes"}},
                         {"@type": "Audio", "Channels": "1"}, {"@type": "Audio", "Channels": "1"}]);
        let t = file_tech(cut.as_array().unwrap());
        assert!(is_media(cut.as_array().unwrap()));
        assert!(t.truncated);
        assert_eq!(t.audio_channels, Some(2));
    }
}
