//! ffprobe fallback: `ffprobe -v error -show_streams -show_format -of json FILE`, one process
//! per file, summarised into [`FileTech`]. Streams are selected by `codec_type`, never by index:
//! real P2 files carry extra `data` streams before the audio (camera-cards.md §5).

use super::dates;
use super::process::{self, ProcessError, ProcessSpec};
use super::rate::Rational;
use super::tech::{FileTech, ProbeTool};
use super::timecode::Timecode;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum FfprobeError {
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("ffprobe cannot read {path}: {stderr}", path = .path.display())]
    Failed { path: PathBuf, stderr: String },
    #[error("ffprobe printed output that is not JSON for {path}: {source}", path = .path.display())]
    BadJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// Runs ffprobe on one file and returns its JSON.
pub fn probe(program: &Path, file: &Path, timeout: Duration) -> Result<Value, FfprobeError> {
    let spec = ProcessSpec::new(program, timeout)
        .args([
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(file.as_os_str())
        .subject(file);
    let out = process::run(&spec)?;
    if !out.success() {
        return Err(FfprobeError::Failed {
            path: file.to_owned(),
            stderr: out.stderr_excerpt(),
        });
    }
    serde_json::from_slice(&out.stdout).map_err(|source| FfprobeError::BadJson {
        path: file.to_owned(),
        source,
    })
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn num<T: std::str::FromStr>(v: &Value) -> Option<T> {
    text(v)?.parse().ok()
}

fn streams<'a>(json: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    json["streams"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(move |s| s["codec_type"].as_str() == Some(kind))
}

/// Bits per sample from the codec name when the numeric fields are 0 (pcm_s24le → 24).
fn pcm_bits(codec: &str) -> Option<u32> {
    let rest = codec.strip_prefix("pcm_")?;
    let digits: String = rest
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// D10/IMX (MPEG-2 4:2:2 Profile @ Main Level) codes 720×608 (PAL) / 720×512 (NTSC): the picture
/// plus 32 VBI lines on top (camera-cards.md §4). ffprobe reports the coded height; MediaInfo
/// reports the picture (576/480), which is what the operator knows the clip as. Other MPEG-2
/// 4:2:2 heights (1080, 720) have no VBI padding and are kept.
fn d10_picture_height(stream: &Value, height: u32) -> u32 {
    let d10 = stream["codec_name"].as_str() == Some("mpeg2video")
        && stream["profile"].as_str() == Some("4:2:2")
        && num::<u32>(&stream["width"]) == Some(720);
    match height {
        608 if d10 => 576,
        512 if d10 => 480,
        h => h,
    }
}

/// Summarises ffprobe's JSON for one file.
pub fn file_tech(json: &Value) -> FileTech {
    let mut tech = FileTech::empty(ProbeTool::Ffprobe);
    let format = &json["format"];
    tech.container = text(&format["format_name"]);
    tech.duration_seconds = num(&format["duration"]);
    tech.encoded_date = text(&format["tags"]["creation_time"]).and_then(|d| dates::to_rfc3339(&d));

    // A cover picture is a "video" stream too; skip it.
    let video =
        streams(json, "video").find(|s| s["disposition"]["attached_pic"].as_i64() != Some(1));
    if let Some(v) = video {
        tech.video_codec = text(&v["codec_name"]);
        tech.width = num(&v["width"]);
        tech.height = num(&v["height"]).map(|h| d10_picture_height(v, h));
        tech.frame_rate = text(&v["r_frame_rate"])
            .and_then(|r| Rational::parse(&r))
            .or_else(|| text(&v["avg_frame_rate"]).and_then(|r| Rational::parse(&r)));
        tech.frame_count = num(&v["nb_frames"]);
        if tech.duration_seconds.is_none() {
            tech.duration_seconds = num(&v["duration"]);
        }
        if tech.frame_count.is_none()
            && let (Some(d), Some(r)) = (tech.duration_seconds, tech.frame_rate)
        {
            tech.frame_count = Some((d * r.as_f64()).round() as u64);
        }
    }
    let audio: Vec<&Value> = streams(json, "audio").collect();
    if !audio.is_empty() {
        tech.audio_channels = Some(
            audio
                .iter()
                .map(|a| num::<u32>(&a["channels"]).unwrap_or(1))
                .sum(),
        );
        tech.audio_sample_rate = audio.iter().find_map(|a| num(&a["sample_rate"]));
        tech.audio_bit_depth = audio.iter().find_map(|a| {
            [&a["bits_per_raw_sample"], &a["bits_per_sample"]]
                .into_iter()
                .filter_map(num::<u32>)
                .find(|b| *b > 0)
                .or_else(|| pcm_bits(a["codec_name"].as_str()?))
        });
        if tech.duration_seconds.is_none() {
            tech.duration_seconds = audio.iter().find_map(|a| num(&a["duration"]));
        }
    }
    // MXF: format tag; MP4/MOV: video stream tag or the tmcd data stream.
    let tmcd = streams(json, "data").find(|s| s["codec_tag_string"].as_str() == Some("tmcd"));
    tech.timecode = [
        Some(&format["tags"]["timecode"]),
        video.map(|v| &v["tags"]["timecode"]),
        tmcd.map(|t| &t["tags"]["timecode"]),
    ]
    .into_iter()
    .flatten()
    .find_map(|v| Timecode::parse(v.as_str()?))
    .map(|tc| tc.to_string());
    tech
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// OP-Atom-like audio file as real P2 cameras write it: a `data` stream BEFORE the audio
    /// (camera-cards.md §5), TC in format tags.
    #[test]
    fn op_atom_audio_with_data_stream_first() {
        let j = json!({
            "streams": [
                {"index": 0, "codec_type": "data", "codec_tag_string": "[0][0][0][0]"},
                {"index": 1, "codec_name": "pcm_s24le", "codec_type": "audio", "sample_rate": "48000",
                 "channels": 1, "bits_per_sample": 0, "duration": "3.000000"}
            ],
            "format": {"format_name": "mxf", "duration": "3.000000",
                       "tags": {"operational_pattern_ul": "060e2b34.04010102.0d010201.10030000",
                                "timecode": "10:00:00:00"}}
        });
        let t = file_tech(&j);
        assert_eq!(t.tool, ProbeTool::Ffprobe);
        assert_eq!(t.audio_channels, Some(1));
        assert_eq!(
            t.audio_bit_depth,
            Some(24),
            "from codec name when bits are 0"
        );
        assert_eq!(t.audio_sample_rate, Some(48000));
        assert_eq!(t.video_codec, None);
        assert_eq!(t.timecode.as_deref(), Some("10:00:00:00"));
        assert_eq!(t.duration_seconds, Some(3.0));
    }

    /// P2 video file: H.264 then 4 data streams referencing the audio.
    #[test]
    fn op_atom_video_with_trailing_data_streams() {
        let data = json!({"codec_type": "data"});
        let j = json!({
            "streams": [
                {"index": 0, "codec_name": "h264", "codec_type": "video", "width": 1920, "height": 1080,
                 "r_frame_rate": "25/1", "avg_frame_rate": "25/1", "duration": "3.000000"},
                data.clone(), data.clone(), data.clone(), data
            ],
            "format": {"format_name": "mxf", "duration": "3.000000", "tags": {"timecode": "10:00:00:00"}}
        });
        let t = file_tech(&j);
        assert_eq!(t.video_codec.as_deref(), Some("h264"));
        assert_eq!((t.width, t.height), (Some(1920), Some(1080)));
        assert_eq!(t.frame_rate.map(|r| r.to_string()).as_deref(), Some("25"));
        assert_eq!(t.frame_count, Some(75));
        assert_eq!(t.audio_channels, None, "data streams are not audio");
    }

    #[test]
    fn d10_reports_the_picture_without_vbi_lines() {
        let json = |h: u32| {
            json!({"format": {"format_name": "mxf"}, "streams": [
                {"codec_name": "mpeg2video", "codec_type": "video", "profile": "4:2:2", "level": 5,
                 "width": 720, "height": h, "r_frame_rate": "25/1"}
            ]})
        };
        assert_eq!(file_tech(&json(608)).height, Some(576));
        assert_eq!(file_tech(&json(512)).height, Some(480));
        assert_eq!(file_tech(&json(576)).height, Some(576));
    }

    #[test]
    fn mp4_with_tmcd_and_creation_time() {
        let j = json!({
            "streams": [
                {"codec_name": "h264", "codec_type": "video", "width": 320, "height": 180,
                 "r_frame_rate": "30000/1001", "nb_frames": "60"},
                {"codec_name": "aac", "codec_type": "audio", "sample_rate": "48000", "channels": 2},
                {"codec_type": "data", "codec_tag_string": "tmcd", "tags": {"timecode": "00:00:00;00"}}
            ],
            "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "2.002000",
                       "tags": {"creation_time": "2024-05-14T12:00:00.000000Z"}}
        });
        let t = file_tech(&j);
        assert_eq!(
            t.frame_rate.map(|r| r.to_string()).as_deref(),
            Some("30000/1001")
        );
        assert_eq!(t.timecode.as_deref(), Some("00:00:00;00"));
        assert_eq!(t.encoded_date.as_deref(), Some("2024-05-14T12:00:00Z"));
        assert_eq!(t.audio_channels, Some(2));
        assert_eq!(t.frame_count, Some(60));
    }
}
