//! The exact ffmpeg argv for a clip's proxy (camera-cards.md §7). Streams are picked by type
//! (`N:v:0`, `N:a:K`), never by index: real P2 files carry extra data streams.
//!
//! Inputs per family: one segment → its files as inputs (P2: video + mono audio files);
//! several segments with separate audio files (P2 spans) → per-segment mix then the `concat`
//! filter; AVCHD → the `concat:` protocol; other chaptered/spanned files (GoPro, Canon XF,
//! XDCAM EX) → the concat demuxer; image sequences → `-framerate -start_number -i pattern`;
//! RAW (R3D, BRAW, ARRIRAW, CRM) → the camera's proxy file, if the clip has one.

use super::audio::{AudioSource, mix_chain, mixed_sources};
use super::burn_in::BurnInValues;
use super::recipe::{EditOut, Picture, PosterOut, Recipe};
use super::streams::{described, facts};
use super::{ConcatList, EditPlan, ProxyError, ProxyPlan, ProxySource, ProxySpec};
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

/// `"{out}.poster.part.jpg"`: the poster ffmpeg writes beside the proxy's temp file.
fn poster_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".poster.part.jpg");
    PathBuf::from(name)
}

/// `"{out}.edit.part.mov"`: where ffmpeg writes the edit proxy beside the web proxy.
fn edit_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".edit.part.mov");
    PathBuf::from(name)
}

/// `"{out}.part"`: what ffmpeg writes before the rename.
fn temp_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// Bit rates as ffmpeg likes them: 3000000 → "3M", 128000 → "128k".
pub(crate) fn rate_arg(bits: u32) -> String {
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

/// The picture chain from the video pad: deinterlace and scale (the encoders' pixel formats
/// come per output, see [`Recipe`]).
fn video_chain(
    input: &str,
    src: Option<(u32, u32)>,
    interlaced: bool,
    spec: &ProxySpec,
) -> Picture {
    let max = spec.max_height;
    let mut base = Vec::new();
    if interlaced {
        // bwdif: faster than yadif at the same quality (§7); one frame per frame.
        base.push("bwdif=0:-1:0".to_owned());
    }
    match src {
        Some((_, h)) if h > max => base.push(format!("scale=-2:{max}:flags=bicubic")),
        Some((w, h)) if w % 2 == 0 && h % 2 == 0 => {}
        Some(_) => base.push("scale=trunc(iw/2)*2:trunc(ih/2)*2".to_owned()),
        None => base.push(format!("scale=-2:'min({max},trunc(ih/2)*2)':flags=bicubic")),
    }
    Picture {
        input: input.to_owned(),
        base,
        web: Vec::new(),
    }
}

/// `[1:a:0]` → `1:a:0`: an input pad as a `-map` spec.
fn map_spec(pad: &str) -> String {
    pad.trim_start_matches('[').trim_end_matches(']').to_owned()
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

/// How the proxy's audio is mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AudioOut {
    /// No audio track (`-an`).
    None,
    /// The mix ends in the `[a]` pad.
    Mixed,
    /// An undescribed camera proxy: its first audio stream if there is one (`0:a:0?`).
    Optional,
}

/// The family-specific part of the command: inputs and filter graph.
struct Graph {
    inputs: Vec<String>,
    /// Filter chains before the picture's (span mixes and concat).
    before: Vec<String>,
    picture: Picture,
    /// Filter chains after the picture's (the stereo mix).
    after: Vec<String>,
    audio: AudioOut,
    /// The edit proxy's sound: one `-map` per source stream, in the original's order.
    edit_audio: Vec<String>,
    concat_list: Option<ConcatList>,
    source: ProxySource,
}

/// What the graph builders need to know about the clip.
struct Ctx<'a> {
    clip: &'a Clip,
    desc: &'a ClipDescription,
    spec: &'a ProxySpec,
    segs: Vec<Vec<usize>>,
    /// Source picture size, when known.
    size: Option<(u32, u32)>,
    interlaced: bool,
}

impl Ctx<'_> {
    fn path_arg(&self, i: usize) -> String {
        self.clip.files[i].path.to_string_lossy().into_owned()
    }

    fn role(&self, i: usize) -> Option<FileRole> {
        self.clip.files.get(i).map(|f| f.role)
    }

    fn no_video(&self) -> ProxyError {
        ProxyError::NoVideo {
            clip: self.clip.name.clone(),
        }
    }
}

/// RAW: the camera's proxy file, not described, so its size and audio are unknown.
fn camera_proxy_graph(ctx: &Ctx, proxy: PathBuf) -> Graph {
    Graph {
        inputs: vec!["-i".into(), proxy.to_string_lossy().into_owned()],
        before: Vec::new(),
        picture: video_chain("[0:v:0]", None, false, ctx.spec),
        after: Vec::new(),
        audio: AudioOut::Optional,
        edit_audio: vec!["0:a?".into()],
        concat_list: None,
        source: ProxySource::CameraProxy(proxy),
    }
}

/// Image sequence: one pattern input at the sequence's rate; frames carry no sound.
fn sequence_graph(ctx: &Ctx, first: &Path, rate: Rational) -> Result<Graph, ProxyError> {
    let Some((pattern, start)) = sequence_pattern(first) else {
        return Err(ProxyError::NotDecodable {
            clip: ctx.clip.name.clone(),
            reason: format!(
                "frame file {} has no frame number in its name",
                first.display()
            ),
        });
    };
    Ok(Graph {
        inputs: vec![
            "-framerate".into(),
            rate.to_string(),
            "-start_number".into(),
            start.to_string(),
            "-i".into(),
            pattern.to_string_lossy().into_owned(),
        ],
        before: Vec::new(),
        picture: video_chain("[0:v:0]", ctx.size, false, ctx.spec),
        after: Vec::new(),
        audio: AudioOut::None,
        edit_audio: Vec::new(),
        concat_list: None,
        source: ProxySource::Essence,
    })
}

/// Spans with separate audio files (P2): every file is an input; each segment's audio is
/// mixed to stereo, then the `concat` filter joins picture and sound. With an edit proxy, each
/// segment's source streams also join the concat unmixed (`asplit` where the mix reads them
/// too), so the edit proxy keeps the original's tracks across the span.
fn span_graph(ctx: &Ctx, warnings: &mut Vec<String>) -> Result<Graph, ProxyError> {
    let mut inputs = Vec::new();
    let mut parts = Vec::new();
    let mut vpads = Vec::new();
    let mut all_audio = true;
    let mut input = 0;
    // Per segment: the pads of its unmixed streams for the edit proxy.
    let mut edit_pads: Vec<Vec<String>> = Vec::new();
    for (k, seg) in ctx.segs.iter().enumerate() {
        let mut vpad = None;
        let mut sources = Vec::new();
        for &i in seg.iter().filter(|&&i| ctx.role(i).is_some()) {
            inputs.extend(["-i".into(), ctx.path_arg(i)]);
            if ctx.role(i) == Some(FileRole::Video) && vpad.is_none() {
                vpad = Some(format!("[{input}:v:0]"));
            }
            sources.extend(audio_sources(ctx.desc, ctx.clip, i, input));
            input += 1;
        }
        vpads.push(vpad.ok_or_else(|| ctx.no_video())?);
        let mut edit = Vec::new();
        if ctx.spec.edit.is_some() {
            let mixed = mixed_sources(&sources, ctx.spec.audio_mix);
            for (j, src) in sources.iter_mut().enumerate() {
                let e = format!("[e{k}_{j}]");
                if mixed.contains(&j) {
                    let m = format!("[m{k}_{j}]");
                    parts.push(format!("{}asplit=2{m}{e}", src.pad));
                    src.pad = m;
                    edit.push(e);
                } else {
                    edit.push(src.pad.clone());
                }
            }
        }
        edit_pads.push(edit);
        match mix_chain(&sources, ctx.spec.audio_mix, &format!("[a{k}]")) {
            Some(chain) => parts.push(chain),
            None => all_audio = false,
        }
    }
    let n = ctx.segs.len();
    let tracks = edit_pads.first().map_or(0, Vec::len);
    let edit_tracks = if edit_pads.iter().all(|p| p.len() == tracks) {
        tracks
    } else {
        warnings
            .push("span segments have different audio tracks: the edit proxy has no audio".into());
        0
    };
    let mut edit_audio = Vec::new();
    let concat = if all_audio {
        let pads: String = vpads
            .iter()
            .enumerate()
            .map(|(k, v)| format!("{v}[a{k}]{}", edit_pads[k][..edit_tracks].concat()))
            .collect();
        edit_audio = (0..edit_tracks).map(|j| format!("[e{j}]")).collect();
        format!(
            "{pads}concat=n={n}:v=1:a={}[vc][a]{}",
            1 + edit_tracks,
            edit_audio.concat()
        )
    } else {
        // The concat filter needs the same streams in every segment: without audio in one
        // segment the proxy goes without audio rather than inventing silence.
        warnings.push("a span segment has no audio: the proxy has no audio".into());
        parts.clear();
        format!("{}concat=n={n}:v=1:a=0[vc]", vpads.concat())
    };
    parts.push(concat);
    Ok(Graph {
        inputs,
        before: parts,
        picture: video_chain("[vc]", ctx.size, ctx.interlaced, ctx.spec),
        after: Vec::new(),
        audio: if all_audio {
            AudioOut::Mixed
        } else {
            AudioOut::None
        },
        edit_audio,
        concat_list: None,
        source: ProxySource::Essence,
    })
}

/// One file per segment, audio inside (GoPro chapters, Canon XF / XDCAM EX spans, AVCHD
/// streams, single files), plus a single segment's separate audio files (P2, PROAV `A01`).
fn file_graph(ctx: &Ctx, out: &Path, video: usize) -> Graph {
    let mut inputs = Vec::new();
    let mut concat_list = None;
    if ctx.segs.len() > 1 {
        let paths: Vec<&Path> = ctx
            .segs
            .iter()
            .filter_map(|s| s.first())
            .filter_map(|&i| ctx.clip.files.get(i))
            .map(|f| f.path.as_path())
            .collect();
        let joined: Vec<String> = paths
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if ctx.clip.family == Family::Avchd && !joined.iter().any(|p| p.contains('|')) {
            // MPEG-TS stream files are byte-concatenable (§7).
            inputs.extend(["-i".into(), format!("concat:{}", joined.join("|"))]);
        } else {
            let list = temp_path(out).with_extension("concat.txt");
            let text: String = paths.iter().map(|p| concat_line(p)).collect();
            inputs.extend(["-f", "concat", "-safe", "0", "-i"].map(String::from));
            inputs.push(list.to_string_lossy().into_owned());
            concat_list = Some(ConcatList { path: list, text });
        }
    } else {
        inputs.extend(["-i".into(), ctx.path_arg(video)]);
    }
    let mut sources = audio_sources(ctx.desc, ctx.clip, video, 0);
    if let [seg] = ctx.segs.as_slice() {
        let audio_files = seg
            .iter()
            .filter(|&&i| ctx.role(i) == Some(FileRole::Audio));
        for (n, &i) in audio_files.enumerate() {
            inputs.extend(["-i".into(), ctx.path_arg(i)]);
            sources.extend(audio_sources(ctx.desc, ctx.clip, i, n + 1));
        }
    }
    let mix = mix_chain(&sources, ctx.spec.audio_mix, "[a]");
    let audio = if mix.is_some() {
        AudioOut::Mixed
    } else {
        AudioOut::None
    };
    Graph {
        inputs,
        before: Vec::new(),
        picture: video_chain("[0:v:0]", ctx.size, ctx.interlaced, ctx.spec),
        after: mix.into_iter().collect(),
        audio,
        edit_audio: sources
            .iter()
            .filter(|s| s.channels > 0)
            .map(|s| map_spec(&s.pad))
            .collect(),
        concat_list,
        source: ProxySource::Essence,
    }
}

/// Encoder settings after the graph: the verified §7 command (libx264) or its hardware
/// equivalent.
fn encoder_args(
    spec: &ProxySpec,
    rate: Option<Rational>,
    audio: bool,
    tc: Option<&str>,
) -> Vec<String> {
    // Codec, profile, rate control and no B-frames, per encoder; GOP and audio alike for all.
    let mut args = spec.encoder.video_args(spec);
    match rate {
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
        None => args.extend([
            "-force_key_frames".into(),
            format!("expr:gte(t,n_forced*{})", spec.gop_seconds),
        ]),
    }
    args.extend(["-sc_threshold".into(), "0".into()]);
    if audio {
        let bitrate = rate_arg(spec.audio_bitrate);
        args.extend(
            ["-c:a", "aac", "-b:a", &bitrate, "-ar", "48000", "-ac", "2"].map(String::from),
        );
    } else {
        args.push("-an".into());
    }
    if let Some(tc) = tc {
        args.extend(["-timecode".into(), tc.to_owned()]);
    }
    args
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
        .copied()
        .find(|&i| clip.files.get(i).is_some_and(|f| f.role == FileRole::Video));
    let first_path = first_video.map(|i| clip.files[i].path.as_path());
    let first_tech = first_path.and_then(|p| described(desc, p)).map(|d| &d.tech);
    let interlaced = first_path
        .and_then(|p| facts(desc, p))
        .and_then(|f| f.interlaced)
        .unwrap_or(false);
    let mut frame_rate = meta
        .frame_rate
        .as_deref()
        .and_then(Rational::parse)
        .or_else(|| first_tech.and_then(|t| t.frame_rate));
    let size = match (meta.width, meta.height) {
        (Some(w), Some(h)) => Some((w, h)),
        _ => first_tech.and_then(|t| Some((t.width?, t.height?))),
    };
    let ctx = Ctx {
        clip,
        desc,
        spec,
        segs,
        size,
        interlaced,
    };

    let mut warnings = Vec::new();
    let sequence_first = ctx
        .segs
        .first()
        .filter(|s| is_sequence(clip, s))
        .map(|s| clip.files[s[0]].path.clone());
    let graph = if is_raw_clip(clip) {
        let Some(proxy) = camera_proxy(clip) else {
            return Err(ProxyError::NotDecodable {
                clip: clip.name.clone(),
                reason: "RAW essence ffmpeg cannot decode and no camera proxy file on the card"
                    .into(),
            });
        };
        camera_proxy_graph(&ctx, proxy)
    } else if let Some(first) = sequence_first {
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
        sequence_graph(&ctx, &first, rate)?
    } else {
        let video = first_video.ok_or_else(|| ctx.no_video())?;
        let split_audio = ctx
            .segs
            .iter()
            .flatten()
            .any(|&i| ctx.role(i) == Some(FileRole::Audio));
        if ctx.segs.len() > 1 && split_audio {
            span_graph(&ctx, &mut warnings)?
        } else {
            file_graph(&ctx, out, video)
        }
    };
    if frame_rate.is_none() {
        warnings.push("frame rate unknown: keyframes forced by time instead".into());
    }

    let start_timecode = meta
        .timecode_start
        .as_deref()
        .and_then(Timecode::parse)
        .map(|tc| tc.to_string());
    let temp_output = temp_path(out);
    let mut global: Vec<String> = ["-hide_banner", "-nostdin", "-y"].map(String::from).into();
    global.extend(spec.encoder.global_args());
    // Look then burn-in, after deinterlace and scale (cheaper on the small picture; the text
    // is not graded), before the encoder's pixel format.
    let out_height = match (&graph.source, size) {
        (ProxySource::Essence, Some((w, h))) => output_size(w, h, spec.max_height).1,
        _ => spec.max_height,
    };
    let card = clip
        .card_root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut picture = graph.picture;
    if let Some(look) = &spec.look {
        picture.web.push(look.filter());
    }
    if let Some(burn) = &spec.burn_in {
        let (chain, w) = burn.filters(&BurnInValues {
            clip: &clip.name,
            card: &card,
            start_timecode: start_timecode.as_deref(),
            frame_rate,
            height: out_height,
        });
        warnings.extend(w);
        if !chain.is_empty() {
            picture.web.push(chain);
        }
    }
    let poster = spec.poster_width.map(|width| PosterOut {
        width,
        path: poster_path(out),
    });
    let web_maps: Vec<String> = match graph.audio {
        AudioOut::None => Vec::new(),
        AudioOut::Mixed => vec!["-map".into(), "[a]".into()],
        AudioOut::Optional => vec!["-map".into(), "0:a:0?".into()],
    };
    let has_audio = graph.audio != AudioOut::None;
    let mut web_args = encoder_args(spec, frame_rate, has_audio, start_timecode.as_deref());
    web_args.extend(
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
    web_args.push(temp_output.to_string_lossy().into_owned());
    let edit = spec.edit.map(|codec| EditOut {
        codec,
        audio: graph.edit_audio.clone(),
        timecode: start_timecode.clone(),
        clip_name: meta
            .user_clip_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| clip.name.clone()),
        reel: meta
            .tape
            .clone()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| card.clone()),
        path: edit_path(out),
    });
    let recipe = Recipe {
        global,
        inputs: graph.inputs,
        chains_before: graph.before,
        picture,
        chains_after: graph.after,
        web_tail: spec.encoder.filter_tail().to_owned(),
        web_maps,
        web_args,
        edit,
        poster,
    };
    let args = recipe.args();

    let (width, height) = match (&graph.source, size) {
        (ProxySource::Essence, Some((w, h))) => {
            let (w, h) = output_size(w, h, spec.max_height);
            (Some(w), Some(h))
        }
        _ => (None, None),
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
        concat_list: graph.concat_list,
        source: graph.source,
        duration_seconds,
        frame_rate,
        width,
        height,
        has_audio,
        start_timecode,
        video_bitrate: spec.video_bitrate,
        audio_bitrate: spec.audio_bitrate,
        encoder: spec.encoder,
        timeout,
        warnings,
        edit: recipe.edit.map(|e| EditPlan {
            codec: e.codec,
            temp_output: e.path,
            audio_tracks: e.audio.len(),
        }),
        poster: recipe.poster.map(|p| p.path),
    })
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
