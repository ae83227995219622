//! The camera's own proxy as the iconik proxy, without an encode (issue 13): P2 `PROXY/*.MP4`,
//! XDCAM/XAVC `Sub/*S03.MP4`, GoPro `.LRV`, DJI `.LRF`. It is used only when it meets what our
//! own proxy guarantees iconik's player and keyframe job: H.264 without B-frames, a keyframe at
//! least every [`MAX_KEYFRAME_GAP_SECONDS`], a usable size, sound when the clip has sound, and
//! the clip's length. An MP4 with `moov` first is registered byte for byte; a QuickTime file or
//! an MP4 without faststart is remuxed (`-c copy`, `+faststart`, timecode kept), never encoded.

use super::plan::ext_of;
use crate::card::{Clip, FileRole};
use crate::media::ffprobe;
use crate::media::process::{self, ProcessSpec};
use crate::media::rate::Rational;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Camera proxy files that can be MP4/QuickTime (Sony `S01.MXF` MPEG-2 proxies never qualify).
pub const CANDIDATE_EXTENSIONS: &[&str] = &["mp4", "mov", "m4v", "lrv", "lrf"];
/// Smaller pictures are not worth reviewing (GoPro's 240-line LRV is the smallest accepted).
pub const MIN_HEIGHT: u32 = 240;
/// iconik's keyframe job and scrubbing want frequent keyframes; cameras use ≤ 1 s.
pub const MAX_KEYFRAME_GAP_SECONDS: f64 = 5.0;
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum CameraProxyError {
    #[error(transparent)]
    Probe(#[from] ffprobe::FfprobeError),
    #[error(transparent)]
    Process(#[from] process::ProcessError),
    #[error("cannot read camera proxy {path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("remuxing camera proxy {path} failed: {stderr}", path = .path.display())]
    Remux { path: PathBuf, stderr: String },
}

/// What the proxy file holds, from ffprobe and its box order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CameraProxyFacts {
    pub path: PathBuf,
    pub video_codec: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// ffprobe's reorder depth: 0 = no B-frames.
    pub has_b_frames: Option<u64>,
    pub frame_rate: Option<Rational>,
    pub duration_seconds: Option<f64>,
    pub video_bit_rate: Option<u64>,
    /// (codec, channels, bit rate) of the first audio stream.
    pub audio: Option<(String, u32, Option<u64>)>,
    pub timecode: Option<String>,
    /// ISO MP4 (not QuickTime `qt  `).
    pub is_mp4: bool,
    /// `moov` before `mdat`.
    pub faststart: bool,
    /// Longest time between video keyframes (to the end included).
    pub max_keyframe_gap: Option<f64>,
}

/// What the clip needs from its proxy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Needs {
    pub duration_seconds: Option<f64>,
    pub has_audio: bool,
    /// The preset's height: a camera proxy taller than this is not used.
    pub max_height: u32,
}

/// How a qualifying proxy becomes the iconik proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Copied byte for byte.
    AsIs,
    /// Remuxed to MP4 with faststart (`-c copy`).
    Remux,
}

/// The member file that could serve as the camera proxy.
pub fn candidate(clip: &Clip) -> Option<PathBuf> {
    clip.files
        .iter()
        .find(|f| {
            f.role == FileRole::Proxy && CANDIDATE_EXTENSIONS.contains(&ext_of(&f.path).as_str())
        })
        .map(|f| f.path.clone())
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// Facts from ffprobe's `-show_streams -show_format` JSON, the top-level box order and the
/// video keyframe times.
pub fn facts_from(
    path: &Path,
    probe: &Value,
    boxes: &[[u8; 4]],
    keyframes: &[f64],
) -> CameraProxyFacts {
    let streams = probe["streams"].as_array().cloned().unwrap_or_default();
    let of_type = |t: &str| streams.iter().find(|s| s["codec_type"] == t);
    let video = of_type("video");
    let audio = of_type("audio");
    let format = &probe["format"];
    let duration_seconds =
        num(&format["duration"]).or_else(|| video.and_then(|v| num(&v["duration"])));
    let timecode = std::iter::once(&format["tags"]["timecode"])
        .chain(streams.iter().map(|s| &s["tags"]["timecode"]))
        .find_map(|t| t.as_str().map(str::to_owned));
    let pos = |tag: &[u8; 4]| boxes.iter().position(|b| b == tag);
    let max_keyframe_gap = match (keyframes.first(), duration_seconds) {
        (Some(first), Some(d)) => {
            let mut gap = *first;
            for w in keyframes.windows(2) {
                gap = gap.max(w[1] - w[0]);
            }
            Some(gap.max(d - keyframes.last().copied().unwrap_or(0.0)))
        }
        _ => None,
    };
    CameraProxyFacts {
        path: path.to_owned(),
        video_codec: video.and_then(|v| v["codec_name"].as_str().map(str::to_owned)),
        width: video.and_then(|v| v["width"].as_u64()).map(|w| w as u32),
        height: video.and_then(|v| v["height"].as_u64()).map(|h| h as u32),
        has_b_frames: video.and_then(|v| v["has_b_frames"].as_u64()),
        frame_rate: video
            .and_then(|v| v["avg_frame_rate"].as_str())
            .and_then(Rational::parse)
            .filter(|r| r.num > 0),
        duration_seconds,
        video_bit_rate: video.and_then(|v| num(&v["bit_rate"])).map(|b| b as u64),
        audio: audio.map(|a| {
            (
                a["codec_name"].as_str().unwrap_or("?").to_owned(),
                a["channels"].as_u64().unwrap_or(0) as u32,
                num(&a["bit_rate"]).map(|b| b as u64),
            )
        }),
        timecode,
        is_mp4: format["tags"]["major_brand"]
            .as_str()
            .is_some_and(|b| b.trim() != "qt"),
        faststart: matches!((pos(b"moov"), pos(b"mdat")), (Some(m), Some(d)) if m < d),
        max_keyframe_gap,
    }
}

/// Why the proxy cannot be registered as it is, or how it is used.
pub fn assess(f: &CameraProxyFacts, needs: &Needs) -> Result<Use, String> {
    let name = f
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let not = |why: String| Err(format!("camera proxy {name} {why}"));
    match f.video_codec.as_deref() {
        Some("h264") => {}
        Some(c) => return not(format!("is {c}, not H.264")),
        None => return not("has no video".into()),
    }
    if f.has_b_frames.unwrap_or(1) > 0 {
        return not("has B-frames (iconik's player needs none)".into());
    }
    match f.height {
        Some(h) if h < MIN_HEIGHT => {
            return not(format!(
                "is {}×{h}, below {MIN_HEIGHT} lines",
                f.width.unwrap_or(0)
            ));
        }
        Some(h) if h > needs.max_height => {
            return not(format!(
                "is {h} lines, above the preset's {}",
                needs.max_height
            ));
        }
        Some(_) => {}
        None => return not("has no picture size".into()),
    }
    match (&f.audio, needs.has_audio) {
        (None, true) => return not("has no sound but the clip has".into()),
        (Some((codec, _, _)), _) if codec != "aac" => {
            return not(format!("has {codec} sound, not AAC"));
        }
        (Some((_, ch, _)), _) if !(1..=2).contains(ch) => {
            return not(format!("has {ch}-channel sound, not mono/stereo"));
        }
        _ => {}
    }
    match (f.duration_seconds, needs.duration_seconds) {
        (Some(p), Some(c)) if (p - c).abs() > (0.02 * c).max(0.5) => {
            return not(format!("lasts {p:.2} s, the clip {c:.2} s"));
        }
        (None, _) => return not("has no duration".into()),
        _ => {}
    }
    match f.max_keyframe_gap {
        Some(g) if g > MAX_KEYFRAME_GAP_SECONDS => {
            return not(format!(
                "has {g:.1} s between keyframes (at most {MAX_KEYFRAME_GAP_SECONDS} s)"
            ));
        }
        None => return not("has no keyframes".into()),
        _ => {}
    }
    Ok(if f.is_mp4 && f.faststart {
        Use::AsIs
    } else {
        Use::Remux
    })
}

/// Probes `path`: streams and format, video keyframe times, box order.
pub fn inspect(ffprobe: &Path, path: &Path) -> Result<CameraProxyFacts, CameraProxyError> {
    let probe = ffprobe::probe(ffprobe, path, PROBE_TIMEOUT)?;
    let spec = ProcessSpec::new(ffprobe, PROBE_TIMEOUT)
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-skip_frame",
            "nokey",
        ])
        .args(["-show_entries", "frame=pts_time", "-of", "csv=p=0"])
        .arg(path.as_os_str())
        .subject(path);
    let out = process::run(&spec)?;
    let keyframes: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .collect();
    let boxes = super::mp4::top_level_boxes(path).map_err(|source| CameraProxyError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(facts_from(path, &probe, &boxes, &keyframes))
}

/// The remux argv: picture and first sound copied, `moov` first, the timecode kept.
pub fn remux_args(src: &Path, out: &Path, timecode: Option<&str>) -> Vec<String> {
    let mut args: Vec<String> = ["-hide_banner", "-nostdin", "-y", "-i"]
        .map(String::from)
        .into();
    args.push(src.to_string_lossy().into_owned());
    args.extend(["-map", "0:v:0", "-map", "0:a:0?", "-c", "copy"].map(String::from));
    if let Some(tc) = timecode {
        args.extend(["-timecode".into(), tc.to_owned()]);
    }
    args.extend(["-movflags", "+faststart", "-f", "mp4"].map(String::from));
    args.push(out.to_string_lossy().into_owned());
    args
}

/// Writes the iconik proxy file `out` from the camera proxy: a copy, or a remux with `ffmpeg`.
pub fn publish(
    facts: &CameraProxyFacts,
    how: Use,
    ffmpeg: Option<&Path>,
    out: &Path,
    timecode: Option<&str>,
) -> Result<u64, CameraProxyError> {
    let io = |source| CameraProxyError::Io {
        path: facts.path.clone(),
        source,
    };
    match how {
        Use::AsIs => std::fs::copy(&facts.path, out).map_err(io),
        Use::Remux => {
            let Some(ffmpeg) = ffmpeg else {
                return Err(CameraProxyError::Remux {
                    path: facts.path.clone(),
                    stderr: "ffmpeg not found".into(),
                });
            };
            let spec = ProcessSpec::new(ffmpeg, PROBE_TIMEOUT)
                .args(remux_args(&facts.path, out, timecode))
                .subject(&facts.path);
            let run = process::run(&spec)?;
            if !run.success() {
                return Err(CameraProxyError::Remux {
                    path: facts.path.clone(),
                    stderr: run.stderr_excerpt(),
                });
            }
            std::fs::metadata(out).map(|m| m.len()).map_err(io)
        }
    }
}

/// iconik's proxy fields for the published file (as [`super::ProxyOutput::iconik_fields`]).
pub fn proxy_fields(
    f: &CameraProxyFacts,
    size_bytes: u64,
    timecode: Option<&str>,
) -> super::record::ProxyFields {
    let bit_rate = f.video_bit_rate.or_else(|| {
        f.duration_seconds
            .filter(|d| *d > 0.0)
            .map(|d| (size_bytes as f64 * 8.0 / d) as u64)
    });
    super::record::ProxyFields {
        name: None,
        filename: None,
        codec: "h264".into(),
        format: "mp4".into(),
        bit_rate,
        is_drop_frame: timecode.is_some_and(|t| t.contains(';')),
        size: size_bytes,
        resolution: match (f.width, f.height) {
            (Some(width), Some(height)) => Some(super::record::Size { width, height }),
            _ => None,
        },
        frame_rate: f.frame_rate.map(super::iconik_frame_rate),
        start_time_code: timecode.map(str::to_owned),
        audio_bitrate: f.audio.as_ref().map(|(_, _, b)| b.unwrap_or(128_000)),
    }
}

/// [`proxy_fields`] as JSON.
pub fn iconik_fields(f: &CameraProxyFacts, size_bytes: u64, timecode: Option<&str>) -> Value {
    serde_json::to_value(proxy_fields(f, size_bytes, timecode)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> CameraProxyFacts {
        let probe = json!({
            "streams": [
                {"codec_type": "video", "codec_name": "h264", "width": 480, "height": 270,
                 "has_b_frames": 0, "avg_frame_rate": "25/1", "bit_rate": "1500000"},
                {"codec_type": "audio", "codec_name": "aac", "channels": 2, "bit_rate": "128000"},
                {"codec_type": "data", "tags": {"timecode": "10:00:00:00"}}
            ],
            "format": {"duration": "3.000", "tags": {"major_brand": "isom"}}
        });
        facts_from(
            Path::new("/c/PROXY/0001AB.MP4"),
            &probe,
            &[*b"ftyp", *b"moov", *b"mdat"],
            &[0.0, 1.0, 2.0],
        )
    }

    const NEEDS: Needs = Needs {
        duration_seconds: Some(3.0),
        has_audio: true,
        max_height: 720,
    };

    #[test]
    fn a_faststart_h264_mp4_is_used_as_is_and_others_say_why_not() {
        let f = good();
        assert_eq!(f.timecode.as_deref(), Some("10:00:00:00"));
        assert_eq!(f.max_keyframe_gap, Some(1.0));
        assert_eq!(assess(&f, &NEEDS), Ok(Use::AsIs));
        let slow = CameraProxyFacts {
            faststart: false,
            ..good()
        };
        assert_eq!(assess(&slow, &NEEDS), Ok(Use::Remux));
        let qt = CameraProxyFacts {
            is_mp4: false,
            ..good()
        };
        assert_eq!(assess(&qt, &NEEDS), Ok(Use::Remux));
        let why = |f: CameraProxyFacts, needs: &Needs| assess(&f, needs).unwrap_err();
        assert_eq!(
            why(
                CameraProxyFacts {
                    has_b_frames: Some(2),
                    ..good()
                },
                &NEEDS
            ),
            "camera proxy 0001AB.MP4 has B-frames (iconik's player needs none)"
        );
        assert!(
            why(
                CameraProxyFacts {
                    width: Some(160),
                    height: Some(90),
                    ..good()
                },
                &NEEDS
            )
            .ends_with("is 160×90, below 240 lines")
        );
        assert!(
            why(
                CameraProxyFacts {
                    audio: None,
                    ..good()
                },
                &NEEDS
            )
            .ends_with("has no sound but the clip has")
        );
        assert!(
            why(
                CameraProxyFacts {
                    duration_seconds: Some(1.0),
                    ..good()
                },
                &NEEDS
            )
            .ends_with("lasts 1.00 s, the clip 3.00 s")
        );
        assert!(
            why(
                CameraProxyFacts {
                    video_codec: Some("mpeg2video".into()),
                    ..good()
                },
                &NEEDS
            )
            .ends_with("is mpeg2video, not H.264")
        );
        let small = Needs {
            max_height: 240,
            ..NEEDS
        };
        assert!(why(good(), &small).ends_with("above the preset's 240"));
        let gappy = CameraProxyFacts {
            max_keyframe_gap: Some(6.0),
            ..good()
        };
        assert!(why(gappy, &NEEDS).contains("between keyframes"));
    }

    #[test]
    fn fields_and_remux_args() {
        let f = good();
        let v = iconik_fields(&f, 1000, Some("10:00:00:00"));
        assert_eq!(v["resolution"]["height"], 270);
        assert_eq!(v["frame_rate"], "25");
        assert_eq!(v["bit_rate"], 1_500_000);
        assert_eq!(v["audio_bitrate"], 128_000);
        assert_eq!(
            remux_args(
                Path::new("/a.MOV"),
                Path::new("/o.mp4"),
                Some("01:00:00:00")
            )
            .join(" "),
            "-hide_banner -nostdin -y -i /a.MOV -map 0:v:0 -map 0:a:0? -c copy -timecode 01:00:00:00 -movflags +faststart -f mp4 /o.mp4"
        );
    }
}
