//! The exact ffmpeg argv for a clip's proxy (camera-cards.md §7). Streams are picked by type
//! (`N:v:0`, `N:a:K`), never by index: real P2 files carry extra data streams.
//!
//! Inputs per family: one segment → its files as inputs (P2: video + mono audio files);
//! several segments with separate audio files (P2 spans) → per-segment mix then the `concat`
//! filter; AVCHD → the `concat:` protocol; other chaptered/spanned files (GoPro, Canon XF,
//! XDCAM EX) → the concat demuxer; image sequences → `-framerate -start_number -i pattern`;
//! RAW (R3D, BRAW, ARRIRAW, CRM) → the camera's proxy file, if the clip has one.

use super::audio::{AudioSource, mix_chain};
use super::streams::{described, facts};
use super::{ConcatList, ProxyError, ProxyPlan, ProxySource, ProxySpec};
use crate::card::{Clip, Family, FileRole};
use crate::media::ClipDescription;
use crate::media::describe::segments;
use crate::media::rate::Rational;
use crate::media::sequence::{DEFAULT_SEQUENCE_FPS, FRAME_EXTENSIONS};
use crate::media::timecode::Timecode;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Essence ffmpeg cannot decode (same list as `describe`).
pub const RAW_EXTENSIONS: &[&str] = &["r3d", "braw", "ari", "arx", "crm"];
/// Camera proxy files ffmpeg decodes (GoPro LRV, DJI LRF, Sony Sub MXF, P2 PROXY MP4, ...).
pub const DECODABLE_PROXY_EXTENSIONS: &[&str] = &["mp4", "mov", "lrv", "lrf", "mxf", "m4v"];

pub(crate) fn ext_of(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// `"{out}.part"`: what ffmpeg writes before the rename.
fn temp_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// Bit rates as ffmpeg likes them: 3000000 → "3M", 128000 → "128k".
fn rate_arg(bits: u32) -> String {
    if bits.is_multiple_of(1_000_000) {
        format!("{}M", bits / 1_000_000)
    } else if bits.is_multiple_of(1000) {
        format!("{}k", bits / 1000)
    } else {
        bits.to_string()
    }
}

/// A camera-proxy member ffmpeg can decode.
fn camera_proxy(clip: &Clip) -> Option<PathBuf> {
    clip.files
        .iter()
        .find(|f| {
            f.role == FileRole::Proxy
                && DECODABLE_PROXY_EXTENSIONS.contains(&ext_of(&f.path).as_str())
        })
        .map(|f| f.path.clone())
}

/// True when any essence file is RAW ffmpeg cannot decode.
pub(crate) fn is_raw_clip(clip: &Clip) -> bool {
    segments(clip).iter().flatten().any(|&i| {
        clip.files
            .get(i)
            .is_some_and(|f| RAW_EXTENSIONS.contains(&ext_of(&f.path).as_str()))
    })
}

/// A segment of still frames.
pub(crate) fn is_sequence(clip: &Clip, seg: &[usize]) -> bool {
    let frames = seg.iter().all(|&i| {
        clip.files
            .get(i)
            .is_some_and(|f| FRAME_EXTENSIONS.contains(&ext_of(&f.path).as_str()))
    });
    frames && !seg.is_empty() && (seg.len() > 1 || clip.family == Family::ImageSequence)
}

/// `A001C001.0086400.dpx` → (`A001C001.%07d.dpx`, 86400): the last run of digits in the stem.
pub fn sequence_pattern(first: &Path) -> Option<(PathBuf, u64)> {
    let name = first.file_name()?.to_str()?;
    let (stem, ext) = match name.rfind('.') {
        Some(dot) => (&name[..dot], &name[dot..]),
        None => (name, ""),
    };
    let digits = stem.len() - stem.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    let prefix = &stem[..stem.len() - digits];
    let start: u64 = stem[stem.len() - digits..].parse().ok()?;
    let pattern = format!("{}%0{digits}d{ext}", prefix.replace('%', "%%"));
    Some((first.with_file_name(pattern), start))
}

/// One line of a concat demuxer list: `file '<path>'`, a `'` written as `'\''`.
pub fn concat_line(path: &Path) -> String {
    format!("file '{}'\n", path.to_string_lossy().replace('\'', r"'\''"))
}

/// Output size for a source of `w`×`h`: `scale=-2:max` only when taller (ffmpeg rounds the
/// width as `av_rescale` then to even), never upscaled.
fn output_size(w: u32, h: u32, max: u32) -> (u32, u32) {
    if h <= max || h == 0 {
        return (w - w % 2, h - h % 2);
    }
    let (w, h, m) = (u64::from(w), u64::from(h), u64::from(max));
    let half = (m * w + h) / (2 * h);
    ((half * 2) as u32, max)
}

/// The picture chain after the video pad: deinterlace, scale, yuv420p.
fn video_chain(input: &str, src: Option<(u32, u32)>, interlaced: bool, max: u32) -> String {
    let mut chain = String::from(input);
    if interlaced {
        // bwdif: faster than yadif at the same quality (§7); one frame per frame.
        chain.push_str("bwdif=0:-1:0,");
    }
    match src {
        Some((_, h)) if h > max => chain.push_str(&format!("scale=-2:{max}:flags=bicubic,")),
        Some((w, h)) if w % 2 == 0 && h % 2 == 0 => {}
        Some(_) => chain.push_str("scale=trunc(iw/2)*2:trunc(ih/2)*2,"),
        None => chain.push_str(&format!(
            "scale=-2:'min({max},trunc(ih/2)*2)':flags=bicubic,"
        )),
    }
    chain.push_str("format=yuv420p[v]");
    chain
}

/// Audio streams of one file as mix sources on input `input`.
fn audio_sources(
    desc: &ClipDescription,
    clip: &Clip,
    file: usize,
    input: usize,
) -> Vec<AudioSource> {
    let Some(f) = clip.files.get(file) else {
        return Vec::new();
    };
    let channels = match facts(desc, &f.path) {
        Some(facts) => facts.audio_channels,
        // Not described: an audio member is one mono stream (P2, BWF); a video file unknown.
        None if f.role == FileRole::Audio => vec![1],
        None => Vec::new(),
    };
    channels
        .into_iter()
        .enumerate()
        .map(|(k, c)| AudioSource {
            pad: format!("[{input}:a:{k}]"),
            channels: c,
        })
        .collect()
}

/// Builds the proxy plan for `clip` written to `out` (an `.mp4` path).
pub fn plan(
    clip: &Clip,
    desc: &ClipDescription,
    spec: &ProxySpec,
    out: &Path,
) -> Result<ProxyPlan, ProxyError> {
    if let Some(reason) = &clip.incomplete {
        return Err(ProxyError::Incomplete {
            clip: clip.name.clone(),
            reason: reason.clone(),
        });
    }
    let meta = &desc.metadata;
    let segs = segments(clip);
    let first_video = segs
        .iter()
        .flatten()
        .find(|&&i| clip.files.get(i).is_some_and(|f| f.role == FileRole::Video))
        .map(|&i| clip.files[i].path.clone());
    let first_facts = first_video.as_deref().and_then(|p| facts(desc, p));
    let first_tech = first_video
        .as_deref()
        .and_then(|p| described(desc, p))
        .map(|d| &d.tech);

    let mut warnings = Vec::new();
    let mut frame_rate = meta
        .frame_rate
        .as_deref()
        .and_then(Rational::parse)
        .or_else(|| first_tech.and_then(|t| t.frame_rate));
    let src_size = match (meta.width, meta.height) {
        (Some(w), Some(h)) => Some((w, h)),
        _ => first_tech.and_then(|t| Some((t.width?, t.height?))),
    };
    let interlaced = first_facts
        .as_ref()
        .and_then(|f| f.interlaced)
        .unwrap_or(false);

    let mut args: Vec<String> = ["-hide_banner", "-nostdin", "-y"].map(String::from).into();
    let mut concat_list = None;
    let mut source = ProxySource::Essence;
    let filter: String;
    let mut audio_map = true;
    let mut size = src_size;
    let mut deint = interlaced;

    if is_raw_clip(clip) {
        let Some(proxy) = camera_proxy(clip) else {
            return Err(ProxyError::NotDecodable {
                clip: clip.name.clone(),
                reason: "RAW essence ffmpeg cannot decode and no camera proxy file on the card"
                    .into(),
            });
        };
        // The camera proxy is not described: its size is unknown, its audio optional.
        args.extend(["-i".into(), proxy.to_string_lossy().into_owned()]);
        size = None;
        deint = false;
        filter = video_chain("[0:v:0]", size, deint, spec.max_height);
        audio_map = false;
        source = ProxySource::CameraProxy(proxy);
    } else if let Some(seg) = segs.first().filter(|s| is_sequence(clip, s)) {
        let first = &clip.files[seg[0]].path;
        let Some((pattern, start)) = sequence_pattern(first) else {
            return Err(ProxyError::NotDecodable {
                clip: clip.name.clone(),
                reason: format!(
                    "frame file {} has no frame number in its name",
                    first.display()
                ),
            });
        };
        let rate = frame_rate.unwrap_or_else(|| {
            warnings.push(format!(
                "no frame rate for the sequence: assumed {DEFAULT_SEQUENCE_FPS} fps"
            ));
            Rational {
                num: DEFAULT_SEQUENCE_FPS,
                den: 1,
            }
        });
        frame_rate = Some(rate);
        args.extend([
            "-framerate".into(),
            rate.to_string(),
            "-start_number".into(),
            start.to_string(),
            "-i".into(),
            pattern.to_string_lossy().into_owned(),
        ]);
        deint = false;
        filter = video_chain("[0:v:0]", size, deint, spec.max_height);
        // Frames carry no sound.
        audio_map = false;
    } else {
        let Some(first_video) = first_video.clone() else {
            return Err(ProxyError::NoVideo {
                clip: clip.name.clone(),
            });
        };
        let split_audio = segs.iter().any(|s| {
            s.iter()
                .any(|&i| clip.files.get(i).is_some_and(|f| f.role == FileRole::Audio))
        });
        if segs.len() > 1 && split_audio {
            // P2 span: every segment's files are inputs; mix per segment, then concat.
            let mut input = 0;
            let mut parts = Vec::new();
            let mut vpads = Vec::new();
            let mut all_audio = true;
            for (k, seg) in segs.iter().enumerate() {
                let mut vpad = None;
                let mut asrc = Vec::new();
                for &i in seg {
                    let Some(f) = clip.files.get(i) else { continue };
                    args.extend(["-i".into(), f.path.to_string_lossy().into_owned()]);
                    if f.role == FileRole::Video && vpad.is_none() {
                        vpad = Some(format!("[{input}:v:0]"));
                    }
                    asrc.extend(audio_sources(desc, clip, i, input));
                    input += 1;
                }
                let Some(vpad) = vpad else {
                    return Err(ProxyError::NoVideo {
                        clip: clip.name.clone(),
                    });
                };
                match mix_chain(&asrc, spec.audio_mix, &format!("[a{k}]")) {
                    Some(chain) => parts.push(chain),
                    None => all_audio = false,
                }
                vpads.push(vpad);
            }
            let n = segs.len();
            let concat = if all_audio {
                let pads: String = vpads
                    .iter()
                    .enumerate()
                    .map(|(k, v)| format!("{v}[a{k}]"))
                    .collect();
                format!("{pads}concat=n={n}:v=1:a=1[vc][a]")
            } else {
                // The concat filter needs the same streams in every segment: without audio in
                // one segment the proxy goes without audio rather than inventing silence.
                warnings.push("a span segment has no audio: the proxy has no audio".into());
                parts.clear();
                format!("{}concat=n={n}:v=1:a=0[vc]", vpads.concat())
            };
            parts.push(concat);
            parts.push(video_chain("[vc]", size, deint, spec.max_height));
            filter = parts.join(";");
            audio_map = all_audio;
        } else {
            if segs.len() > 1 {
                let paths: Vec<PathBuf> = segs
                    .iter()
                    .filter_map(|s| s.first())
                    .filter_map(|&i| clip.files.get(i))
                    .map(|f| f.path.clone())
                    .collect();
                let joined: Vec<String> = paths
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                if clip.family == Family::Avchd && !joined.iter().any(|p| p.contains('|')) {
                    // MPEG-TS stream files are byte-concatenable (§7).
                    args.extend(["-i".into(), format!("concat:{}", joined.join("|"))]);
                } else {
                    let list = temp_path(out).with_extension("concat.txt");
                    let text: String = paths.iter().map(|p| concat_line(p)).collect();
                    args.extend(["-f", "concat", "-safe", "0", "-i"].map(String::from));
                    args.push(list.to_string_lossy().into_owned());
                    concat_list = Some(ConcatList { path: list, text });
                }
            } else {
                args.extend(["-i".into(), first_video.to_string_lossy().into_owned()]);
            }
            // Separate audio files of a single segment (P2, XDCAM EX with WAV, ...).
            let video_index = segs
                .iter()
                .flatten()
                .copied()
                .find(|&i| clip.files.get(i).is_some_and(|f| f.role == FileRole::Video))
                .unwrap_or(0);
            let mut asrc = audio_sources(desc, clip, video_index, 0);
            if segs.len() == 1 {
                let mut input = 1;
                for &i in &segs[0] {
                    if clip.files.get(i).is_some_and(|f| f.role == FileRole::Audio) {
                        args.extend([
                            "-i".into(),
                            clip.files[i].path.to_string_lossy().into_owned(),
                        ]);
                        asrc.extend(audio_sources(desc, clip, i, input));
                        input += 1;
                    }
                }
            }
            let mut parts = vec![video_chain("[0:v:0]", size, deint, spec.max_height)];
            match mix_chain(&asrc, spec.audio_mix, "[a]") {
                Some(chain) => parts.push(chain),
                None => audio_map = false,
            }
            filter = parts.join(";");
        }
    }

    let has_audio;
    args.extend(["-filter_complex".into(), filter]);
    args.extend(["-map".into(), "[v]".into()]);
    if let ProxySource::CameraProxy(_) = source {
        // Camera proxies are not described: take their first audio stream if there is one.
        args.extend(["-map".into(), "0:a:0?".into()]);
        has_audio = true;
    } else if audio_map {
        args.extend(["-map".into(), "[a]".into()]);
        has_audio = true;
    } else {
        has_audio = false;
    }
    args.extend(
        [
            "-c:v",
            "libx264",
            "-preset",
            &spec.preset,
            "-profile:v",
            "high",
            "-level:v",
            "4.0",
            "-bf",
            "0",
            "-b:v",
            &rate_arg(spec.video_bitrate),
            "-maxrate",
            &rate_arg(spec.max_bitrate),
            "-bufsize",
            &rate_arg(spec.max_bitrate),
        ]
        .map(String::from),
    );
    match frame_rate {
        Some(rate) => {
            let gop = (rate.as_f64() * f64::from(spec.gop_seconds))
                .round()
                .max(1.0) as u64;
            args.extend([
                "-g".into(),
                gop.to_string(),
                "-keyint_min".into(),
                gop.to_string(),
            ]);
        }
        None => {
            warnings.push("frame rate unknown: keyframes forced by time instead".into());
            args.extend([
                "-force_key_frames".into(),
                format!("expr:gte(t,n_forced*{})", spec.gop_seconds),
            ]);
        }
    }
    args.extend(["-sc_threshold".into(), "0".into()]);
    if has_audio {
        args.extend(
            [
                "-c:a",
                "aac",
                "-b:a",
                &rate_arg(spec.audio_bitrate),
                "-ar",
                "48000",
                "-ac",
                "2",
            ]
            .map(String::from),
        );
    } else {
        args.push("-an".into());
    }
    let start_timecode = meta
        .timecode_start
        .as_deref()
        .and_then(Timecode::parse)
        .map(|tc| tc.to_string());
    if let Some(tc) = &start_timecode {
        args.extend(["-timecode".into(), tc.clone()]);
    }
    let temp_output = temp_path(out);
    args.extend(
        [
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            "-progress",
            "pipe:1",
            "-nostats",
        ]
        .map(String::from),
    );
    args.push(temp_output.to_string_lossy().into_owned());

    let (width, height) = match size {
        Some((w, h)) => {
            let (w, h) = output_size(w, h, spec.max_height);
            (Some(w), Some(h))
        }
        None => (None, None),
    };
    let duration_seconds = meta.duration_seconds.filter(|d| *d > 0.0);
    let timeout = duration_seconds
        .map(|d| Duration::from_secs_f64(d * 5.0))
        .unwrap_or_default()
        .max(spec.min_timeout);
    Ok(ProxyPlan {
        args,
        output: out.to_owned(),
        temp_output,
        concat_list,
        source,
        duration_seconds,
        frame_rate,
        width,
        height,
        has_audio,
        start_timecode,
        video_bitrate: spec.video_bitrate,
        audio_bitrate: spec.audio_bitrate,
        timeout,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::ClipFile;
    use crate::media::tech::{FileTech, ProbeTool};
    use crate::media::{ClipMetadata, DescribedFile};
    use serde_json::json;

    fn cf(path: &str, role: FileRole) -> ClipFile {
        ClipFile {
            path: PathBuf::from(path),
            role,
            size: 1,
        }
    }

    fn clip(family: Family, files: Vec<ClipFile>, segments: Vec<Vec<usize>>) -> Clip {
        Clip {
            id: "id".into(),
            name: "CLIP".into(),
            family,
            card_root: PathBuf::from("/card"),
            files,
            segments,
            incomplete: None,
            warnings: Vec::new(),
        }
    }

    /// A description with ffprobe-style raw streams: (path, audio channels per stream,
    /// video field order or None for no video).
    fn desc(meta: ClipMetadata, files: &[(&str, Vec<u32>, Option<&str>)]) -> ClipDescription {
        let mut raw = serde_json::Map::new();
        let mut described = Vec::new();
        for (path, audio, field) in files {
            let mut streams = Vec::new();
            if let Some(field) = field {
                streams.push(json!({"codec_type": "video", "field_order": field}));
            }
            streams.push(json!({"codec_type": "data"}));
            for c in audio {
                streams.push(json!({"codec_type": "audio", "channels": c}));
            }
            raw.insert(
                (*path).to_owned(),
                json!({"tool": "ffprobe", "streams": streams}),
            );
            described.push(DescribedFile {
                path: PathBuf::from(path),
                raw_key: (*path).to_owned(),
                tech: FileTech::empty(ProbeTool::Ffprobe),
            });
        }
        ClipDescription {
            metadata: meta,
            raw: raw.into(),
            files: described,
            ..ClipDescription::default()
        }
    }

    fn hd25() -> ClipMetadata {
        ClipMetadata {
            duration_seconds: Some(3.0),
            frame_rate: Some("25".into()),
            width: Some(1920),
            height: Some(1080),
            timecode_start: Some("10:00:00:00".into()),
            ..ClipMetadata::default()
        }
    }

    fn arg_after<'a>(plan: &'a ProxyPlan, key: &str) -> Vec<&'a str> {
        plan.args
            .windows(2)
            .filter(|w| w[0] == key)
            .map(|w| w[1].as_str())
            .collect()
    }

    const P2_MIX: &str = "amerge=inputs=4,pan=stereo|c0=0.5*c0+0.5*c2|c1=0.5*c1+0.5*c3";

    fn p2_files(prefix: &str) -> Vec<ClipFile> {
        let mut files = vec![cf(&format!("/c/VIDEO/{prefix}.MXF"), FileRole::Video)];
        for n in 0..4 {
            files.push(cf(&format!("/c/AUDIO/{prefix}{n:02}.MXF"), FileRole::Audio));
        }
        files
    }

    #[test]
    fn p2_single_segment_is_the_verified_command() {
        let c = clip(Family::P2, p2_files("0002EM"), vec![vec![0, 1, 2, 3, 4]]);
        let mut files = vec![("/c/VIDEO/0002EM.MXF", vec![], Some("progressive"))];
        let names: Vec<String> = (0..4)
            .map(|n| format!("/c/AUDIO/0002EM{n:02}.MXF"))
            .collect();
        for n in &names {
            files.push((n.as_str(), vec![1], None));
        }
        let d = desc(hd25(), &files);
        let p = plan(&c, &d, &ProxySpec::default(), Path::new("/out/p.mp4")).unwrap();
        let expected = format!(
            "-hide_banner -nostdin -y -i /c/VIDEO/0002EM.MXF -i /c/AUDIO/0002EM00.MXF \
             -i /c/AUDIO/0002EM01.MXF -i /c/AUDIO/0002EM02.MXF -i /c/AUDIO/0002EM03.MXF \
             -filter_complex [0:v:0]scale=-2:720:flags=bicubic,format=yuv420p[v];[1:a:0][2:a:0][3:a:0][4:a:0]{P2_MIX}[a] \
             -map [v] -map [a] -c:v libx264 -preset veryfast -profile:v high -level:v 4.0 -bf 0 \
             -b:v 3M -maxrate 4M -bufsize 4M -g 50 -keyint_min 50 -sc_threshold 0 \
             -c:a aac -b:a 128k -ar 48000 -ac 2 -timecode 10:00:00:00 -movflags +faststart -f mp4 \
             -progress pipe:1 -nostats /out/p.mp4.part"
        );
        let expected: Vec<&str> = expected.split_whitespace().collect();
        assert_eq!(p.args, expected);
        assert_eq!((p.width, p.height), (Some(1280), Some(720)));
        assert_eq!(p.temp_output, PathBuf::from("/out/p.mp4.part"));
        assert!(p.has_audio);
        assert_eq!(p.start_timecode.as_deref(), Some("10:00:00:00"));
        assert_eq!(p.concat_list, None);
    }

    #[test]
    fn p2_interlaced_span_mixes_per_segment_then_concats() {
        let mut files = p2_files("0002EM");
        files.extend(p2_files("0003EM"));
        let c = clip(
            Family::P2,
            files,
            vec![vec![0, 1, 2, 3, 4], vec![5, 6, 7, 8, 9]],
        );
        let d = desc(
            hd25(),
            &[
                ("/c/VIDEO/0002EM.MXF", vec![], Some("tt")),
                ("/c/VIDEO/0003EM.MXF", vec![], Some("tt")),
            ],
        );
        let p = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap();
        assert_eq!(
            arg_after(&p, "-filter_complex"),
            [format!(
                "[1:a:0][2:a:0][3:a:0][4:a:0]{P2_MIX}[a0];[6:a:0][7:a:0][8:a:0][9:a:0]{P2_MIX}[a1];\
                 [0:v:0][a0][5:v:0][a1]concat=n=2:v=1:a=1[vc][a];\
                 [vc]bwdif=0:-1:0,scale=-2:720:flags=bicubic,format=yuv420p[v]"
            )]
        );
        assert_eq!(arg_after(&p, "-i").len(), 10);
        assert_eq!(arg_after(&p, "-map"), ["[v]", "[a]"]);
    }

    #[test]
    fn xdcam_op1a_eight_mono_tracks_ch1_ch2_preset() {
        let c = clip(
            Family::Xdcam,
            vec![cf("/x/C0001.MXF", FileRole::Video)],
            vec![vec![0]],
        );
        let meta = ClipMetadata {
            width: Some(320),
            height: Some(180),
            ..hd25()
        };
        let d = desc(meta, &[("/x/C0001.MXF", vec![1; 8], Some("progressive"))]);
        let spec = ProxySpec {
            audio_mix: super::super::AudioMix::Ch1Ch2Only,
            ..ProxySpec::default()
        };
        let p = plan(&c, &d, &spec, Path::new("/o/p.mp4")).unwrap();
        assert_eq!(
            arg_after(&p, "-filter_complex"),
            ["[0:v:0]format=yuv420p[v];[0:a:0][0:a:1]amerge=inputs=2,pan=stereo|c0=c0|c1=c1[a]"]
        );
        assert_eq!((p.width, p.height), (Some(320), Some(180)));
    }

    #[test]
    fn gopro_chapters_use_the_concat_demuxer_with_quoted_paths() {
        let c = clip(
            Family::Gopro,
            vec![
                cf("/g/GX010001.MP4", FileRole::Video),
                cf("/g/it's/GX020001.MP4", FileRole::Video),
                cf("/g/GL010001.LRV", FileRole::Proxy),
            ],
            vec![vec![0], vec![1]],
        );
        let meta = ClipMetadata {
            frame_rate: Some("30000/1001".into()),
            timecode_start: None,
            ..hd25()
        };
        let d = desc(meta, &[("/g/GX010001.MP4", vec![2], Some("progressive"))]);
        let p = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap();
        let list = p.concat_list.clone().unwrap();
        assert_eq!(list.path, PathBuf::from("/o/p.mp4.concat.txt"));
        assert_eq!(
            list.text,
            "file '/g/GX010001.MP4'\nfile '/g/it'\\''s/GX020001.MP4'\n"
        );
        assert_eq!(arg_after(&p, "-f"), ["concat", "mp4"]);
        assert_eq!(arg_after(&p, "-i"), ["/o/p.mp4.concat.txt"]);
        assert_eq!(
            arg_after(&p, "-filter_complex"),
            [
                "[0:v:0]scale=-2:720:flags=bicubic,format=yuv420p[v];[0:a:0]aformat=channel_layouts=stereo[a]"
            ]
        );
        assert_eq!(arg_after(&p, "-g"), ["60"]);
        assert_eq!(arg_after(&p, "-timecode"), Vec::<&str>::new());
        assert_eq!(
            p.frame_rate.map(super::super::iconik_frame_rate).as_deref(),
            Some("29.97")
        );
    }

    #[test]
    fn avchd_uses_the_concat_protocol() {
        let c = clip(
            Family::Avchd,
            vec![
                cf("/a/00000.MTS", FileRole::Video),
                cf("/a/00001.MTS", FileRole::Video),
            ],
            vec![vec![0], vec![1]],
        );
        let d = desc(hd25(), &[("/a/00000.MTS", vec![2], Some("tt"))]);
        let p = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap();
        assert_eq!(arg_after(&p, "-i"), ["concat:/a/00000.MTS|/a/00001.MTS"]);
        assert_eq!(
            arg_after(&p, "-filter_complex"),
            [
                "[0:v:0]bwdif=0:-1:0,scale=-2:720:flags=bicubic,format=yuv420p[v];[0:a:0]aformat=channel_layouts=stereo[a]"
            ]
        );
    }

    #[test]
    fn dpx_sequence_uses_a_pattern_and_no_audio() {
        let files: Vec<ClipFile> = (86400..86403)
            .map(|n| cf(&format!("/d/A001C001.{n:07}.dpx"), FileRole::Video))
            .collect();
        let c = clip(Family::ImageSequence, files, vec![vec![0, 1, 2]]);
        let meta = ClipMetadata {
            frame_rate: Some("24".into()),
            width: Some(4096),
            height: Some(2160),
            ..ClipMetadata::default()
        };
        let p = plan(
            &c,
            &desc(meta, &[]),
            &ProxySpec::default(),
            Path::new("/o/p.mp4"),
        )
        .unwrap();
        let a: Vec<&str> = p.args.iter().map(String::as_str).collect();
        let i = a.iter().position(|x| *x == "-framerate").unwrap();
        assert_eq!(
            a[i..i + 6],
            [
                "-framerate",
                "24",
                "-start_number",
                "86400",
                "-i",
                "/d/A001C001.%07d.dpx"
            ]
        );
        assert_eq!(
            arg_after(&p, "-filter_complex"),
            ["[0:v:0]scale=-2:720:flags=bicubic,format=yuv420p[v]"]
        );
        assert!(a.contains(&"-an") && !a.contains(&"[a]"));
        assert_eq!((p.width, p.height), (Some(1366), Some(720)));
        assert_eq!(arg_after(&p, "-g"), ["48"]);
    }

    #[test]
    fn raw_uses_the_camera_proxy_or_says_registered_without_proxy() {
        let mut c = clip(
            Family::Red,
            vec![
                cf("/r/A001_C001_001.R3D", FileRole::Video),
                cf("/r/A001_C001.RMD", FileRole::Sidecar),
                cf("/r/A001_C001_proxy.mov", FileRole::Proxy),
            ],
            vec![vec![0]],
        );
        let d = desc(hd25(), &[]);
        let p = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap();
        assert_eq!(
            p.source,
            ProxySource::CameraProxy("/r/A001_C001_proxy.mov".into())
        );
        assert_eq!(arg_after(&p, "-i"), ["/r/A001_C001_proxy.mov"]);
        assert_eq!(arg_after(&p, "-map"), ["[v]", "0:a:0?"]);
        assert_eq!(
            arg_after(&p, "-filter_complex"),
            ["[0:v:0]scale=-2:'min(720,trunc(ih/2)*2)':flags=bicubic,format=yuv420p[v]"]
        );
        c.files.pop();
        let err = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap_err();
        assert!(matches!(err, ProxyError::NotDecodable { .. }));
        assert_eq!(
            err.to_string(),
            "clip CLIP: RAW essence ffmpeg cannot decode and no camera proxy file on the card; it is registered without proxy"
        );
    }

    #[test]
    fn single_mono_goes_to_both_sides_and_no_audio_means_an() {
        let c = clip(
            Family::Generic,
            vec![cf("/m/a.mov", FileRole::Video)],
            vec![vec![0]],
        );
        let d = desc(hd25(), &[("/m/a.mov", vec![1], Some("progressive"))]);
        let p = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap();
        assert_eq!(
            arg_after(&p, "-filter_complex"),
            [
                "[0:v:0]scale=-2:720:flags=bicubic,format=yuv420p[v];[0:a:0]pan=stereo|c0=c0|c1=c0[a]"
            ]
        );
        let d = desc(hd25(), &[("/m/a.mov", vec![], Some("progressive"))]);
        let p = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap();
        assert_eq!(arg_after(&p, "-map"), ["[v]"]);
        assert!(p.args.iter().any(|a| a == "-an"));
        assert!(!p.has_audio);
    }

    #[test]
    fn incomplete_and_audio_only_clips_are_refused() {
        let mut c = clip(
            Family::AudioBwf,
            vec![cf("/b/a.wav", FileRole::Audio)],
            vec![vec![0]],
        );
        let d = desc(hd25(), &[]);
        let err = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap_err();
        assert!(matches!(err, ProxyError::NoVideo { .. }), "{err}");
        c.incomplete = Some("waiting for card CARDB0001".into());
        let err = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap_err();
        assert!(
            err.to_string().contains("waiting for card CARDB0001"),
            "{err}"
        );
    }

    #[test]
    fn sizes_patterns_and_rates() {
        assert_eq!(output_size(1920, 1080, 720), (1280, 720));
        assert_eq!(output_size(720, 576, 720), (720, 576));
        assert_eq!(output_size(321, 181, 720), (320, 180));
        assert_eq!(output_size(4096, 2160, 720), (1366, 720));
        assert_eq!(
            sequence_pattern(Path::new("/d/shot_%1.0001.exr")),
            Some((PathBuf::from("/d/shot_%%1.%04d.exr"), 1))
        );
        assert_eq!(sequence_pattern(Path::new("/d/frame.dpx")), None);
        assert_eq!(rate_arg(3_000_000), "3M");
        assert_eq!(rate_arg(128_000), "128k");
        assert_eq!(rate_arg(1_500_001), "1500001");
    }
}
