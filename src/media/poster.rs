//! Poster thumbnails for the GUI: one frame ~10% into the clip (the first frame for very short
//! clips and image sequences; the camera's own thumbnail, else its proxy, for undecodable RAW),
//! scaled to a width, cached under a key of clip id + member sizes/mtimes so a second call
//! does not run ffmpeg. `-ss` goes before `-i` (fast keyframe seek).

use super::ClipDescription;
use super::process::{self, ProcessSpec};
use super::proxy::plan::{DECODABLE_PROXY_EXTENSIONS, ext_of, is_raw_clip, is_sequence};
use super::proxy::streams::{described, facts};
use crate::card::{Clip, FileRole};
use crate::media::describe::segments;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// Shorter clips take their first frame (10% of 1 s lands on a black/flash frame anyway).
const MIN_SEEK_DURATION: f64 = 1.0;
const POSTER_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PosterFormat {
    #[default]
    Png,
    Jpeg,
}

impl PosterFormat {
    fn ext(self) -> &'static str {
        match self {
            PosterFormat::Png => "png",
            PosterFormat::Jpeg => "jpg",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosterOptions {
    /// Output width in pixels; height follows the aspect (even).
    pub width: u32,
    pub format: PosterFormat,
}

impl Default for PosterOptions {
    fn default() -> PosterOptions {
        PosterOptions {
            width: 320,
            format: PosterFormat::Png,
        }
    }
}

/// A poster file and whether it came from the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poster {
    pub path: PathBuf,
    pub cache_hit: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PosterError {
    #[error("clip {clip}: {reason}; no poster frame")]
    NotDecodable { clip: String, reason: String },
    #[error("cannot read {path} for the poster cache key: {source}", path = .path.display())]
    Stat {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write poster {path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Process(#[from] process::ProcessError),
    #[error("ffmpeg could not grab a frame from {input} (exit {status}): {stderr}", input = .input.display(), status = .status.map_or_else(|| "killed".to_owned(), |s| s.to_string()))]
    Ffmpeg {
        input: PathBuf,
        status: Option<i32>,
        stderr: String,
    },
}

/// The file and time (seconds into it) the poster comes from.
fn source(clip: &Clip, desc: &ClipDescription) -> Result<(PathBuf, f64), PosterError> {
    let not_decodable = |reason: &str| PosterError::NotDecodable {
        clip: clip.name.clone(),
        reason: reason.into(),
    };
    if is_raw_clip(clip) {
        // The camera's own picture first (P2 ICON, GoPro THM, Sony THMBNL), then its proxy.
        if let Some(t) = clip.files.iter().find(|f| f.role == FileRole::Thumbnail) {
            return Ok((t.path.clone(), 0.0));
        }
        if let Some(p) = clip.files.iter().find(|f| {
            f.role == FileRole::Proxy
                && DECODABLE_PROXY_EXTENSIONS.contains(&ext_of(&f.path).as_str())
        }) {
            return Ok((p.path.clone(), 0.0));
        }
        return Err(not_decodable(
            "RAW essence ffmpeg cannot decode and no camera thumbnail or proxy",
        ));
    }
    let segs = segments(clip);
    if let Some(seg) = segs.first().filter(|s| is_sequence(clip, s)) {
        return Ok((clip.files[seg[0]].path.clone(), 0.0));
    }
    let videos: Vec<&Path> = segs
        .iter()
        .filter_map(|s| {
            s.iter()
                .filter_map(|&i| clip.files.get(i))
                .find(|f| f.role == FileRole::Video)
        })
        .map(|f| f.path.as_path())
        .collect();
    let Some(first) = videos.first() else {
        return Err(not_decodable("no video essence (audio-only clip)"));
    };
    let total = desc.metadata.duration_seconds.unwrap_or(0.0);
    if total < MIN_SEEK_DURATION {
        return Ok((first.to_path_buf(), 0.0));
    }
    // Walk the segments to the one holding the 10% point.
    let mut target = total * 0.1;
    for v in &videos {
        match described(desc, v).and_then(|d| d.tech.duration_seconds) {
            Some(d) if target >= d => target -= d,
            Some(_) => return Ok((v.to_path_buf(), target)),
            None => return Ok((v.to_path_buf(), 0.0)),
        }
    }
    Ok((first.to_path_buf(), 0.0))
}

/// Cache file for `clip`'s poster: `<name>_<sha256 of id, options, member paths/sizes/mtimes>`.
pub fn cache_path(
    clip: &Clip,
    cache_dir: &Path,
    opts: &PosterOptions,
) -> Result<PathBuf, PosterError> {
    let mut h = Sha256::new();
    h.update(clip.id.as_bytes());
    h.update(format!("\0{}\0{}", opts.width, opts.format.ext()).as_bytes());
    for f in &clip.files {
        let meta = std::fs::metadata(&f.path).map_err(|source| PosterError::Stat {
            path: f.path.clone(),
            source,
        })?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        h.update(format!("\0{}\0{}\0{mtime}", f.path.to_string_lossy(), meta.len()).as_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let name: String = clip
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    Ok(cache_dir.join(format!("{name}_{hex}.{}", opts.format.ext())))
}

/// One grab attempt; `Ok(false)` when ffmpeg exited cleanly without a frame (seek past the end).
fn run_grab(
    ffmpeg: &Path,
    input: &Path,
    at: f64,
    vf: &str,
    format: PosterFormat,
    temp: &Path,
) -> Result<bool, PosterError> {
    let codec = match format {
        PosterFormat::Png => "png",
        PosterFormat::Jpeg => "mjpeg",
    };
    let spec = ProcessSpec::new(ffmpeg, POSTER_TIMEOUT)
        .args(["-hide_banner", "-nostdin", "-y", "-loglevel", "error"])
        .args(["-ss".to_owned(), format!("{at:.3}"), "-i".to_owned()])
        .arg(input)
        .args([
            "-map".to_owned(),
            "0:v:0".to_owned(),
            "-frames:v".to_owned(),
            "1".to_owned(),
            "-vf".to_owned(),
            vf.to_owned(),
            "-c:v".to_owned(),
            codec.to_owned(),
            "-f".to_owned(),
            "image2".to_owned(),
        ])
        .arg(temp)
        .subject(input);
    let out = process::run(&spec)?;
    if !out.success() {
        return Err(PosterError::Ffmpeg {
            input: input.to_owned(),
            status: out.status_code,
            stderr: out.stderr_excerpt(),
        });
    }
    Ok(std::fs::metadata(temp).is_ok_and(|m| m.len() > 0))
}

/// The poster for `clip`, from the cache in `cache_dir` when its members are unchanged.
pub fn grab(
    clip: &Clip,
    desc: &ClipDescription,
    ffmpeg: &Path,
    cache_dir: &Path,
    opts: &PosterOptions,
) -> Result<Poster, PosterError> {
    let path = cache_path(clip, cache_dir, opts)?;
    if std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() > 0) {
        return Ok(Poster {
            path,
            cache_hit: true,
        });
    }
    let (input, at) = source(clip, desc)?;
    std::fs::create_dir_all(cache_dir).map_err(|source| PosterError::Io {
        path: cache_dir.to_owned(),
        source,
    })?;
    let mut temp = path.clone().into_os_string();
    temp.push(".part");
    let temp = PathBuf::from(temp);
    // Interlaced pictures would show combing in a still: deinterlace first (as the proxy).
    let interlaced = facts(desc, &input).and_then(|f| f.interlaced) == Some(true);
    let vf = format!(
        "{}scale={}:-2",
        if interlaced { "bwdif=0:-1:0," } else { "" },
        opts.width
    );
    let mut written = run_grab(ffmpeg, &input, at, &vf, opts.format, &temp)?;
    if !written && at > 0.0 {
        // The seek landed past the last frame (duration from a sidecar, short file): first frame.
        written = run_grab(ffmpeg, &input, 0.0, &vf, opts.format, &temp)?;
    }
    if !written {
        return Err(PosterError::Ffmpeg {
            input,
            status: Some(0),
            stderr: "no frame was decoded".into(),
        });
    }
    std::fs::rename(&temp, &path).map_err(|source| PosterError::Io {
        path: path.clone(),
        source,
    })?;
    tracing::debug!(poster = %path.display(), at, "poster grabbed");
    Ok(Poster {
        path,
        cache_hit: false,
    })
}

/// A `width`-pixel JPEG of a representative frame of `input` (ffmpeg's `thumbnail` filter over
/// the first frames), in memory: the report embeds it.
pub fn thumbnail_jpeg(ffmpeg: &Path, input: &Path, width: u32) -> Result<Vec<u8>, PosterError> {
    frame_jpeg(ffmpeg, input, &format!("thumbnail=25,scale={width}:-2"))
}

/// One JPEG picture made from `input` by the video filter chain `vf` (a frame, a tile strip),
/// in memory. Anything that is not a JPEG (no SOI marker) is ffmpeg having decoded nothing.
pub fn frame_jpeg(ffmpeg: &Path, input: &Path, vf: &str) -> Result<Vec<u8>, PosterError> {
    let spec = ProcessSpec::new(ffmpeg, Duration::from_secs(60))
        .args(["-hide_banner", "-nostdin", "-v", "error", "-i"])
        .arg(input.as_os_str())
        .args([
            "-an",
            "-vf",
            vf,
            "-frames:v",
            "1",
            "-f",
            "image2",
            "-c:v",
            "mjpeg",
        ])
        .args(["-q:v", "4", "pipe:1"])
        .subject(input);
    let out = process::run(&spec).map_err(|e| PosterError::Ffmpeg {
        input: input.to_owned(),
        status: None,
        stderr: e.to_string(),
    })?;
    if !out.success() || !out.stdout.starts_with(&[0xFF, 0xD8]) {
        return Err(PosterError::Ffmpeg {
            input: input.to_owned(),
            status: out.status_code,
            stderr: out.stderr_excerpt(),
        });
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::Family;
    use crate::media::proxy::test_clip::{cf, clip};
    use crate::media::tech::{FileTech, ProbeTool};
    use crate::media::{ClipMetadata, DescribedFile};

    fn desc(total: f64, durations: &[(&str, f64)]) -> ClipDescription {
        ClipDescription {
            metadata: ClipMetadata {
                duration_seconds: Some(total),
                ..ClipMetadata::default()
            },
            files: durations
                .iter()
                .map(|(p, d)| DescribedFile {
                    path: PathBuf::from(p),
                    raw_key: (*p).into(),
                    tech: FileTech {
                        duration_seconds: Some(*d),
                        ..FileTech::empty(ProbeTool::Ffprobe)
                    },
                })
                .collect(),
            ..ClipDescription::default()
        }
    }

    #[test]
    fn ten_percent_point_walks_into_the_right_segment() {
        let c = clip(
            Family::Gopro,
            vec![
                cf("/g/GX01.MP4", FileRole::Video),
                cf("/g/GX02.MP4", FileRole::Video),
            ],
            vec![vec![0], vec![1]],
        );
        // 10% of 100 s = 10 s: past the 4-s first chapter, 6 s into the second.
        let d = desc(100.0, &[("/g/GX01.MP4", 4.0), ("/g/GX02.MP4", 96.0)]);
        assert_eq!(source(&c, &d).unwrap(), (PathBuf::from("/g/GX02.MP4"), 6.0));
        let d = desc(0.5, &[("/g/GX01.MP4", 0.25), ("/g/GX02.MP4", 0.25)]);
        assert_eq!(source(&c, &d).unwrap(), (PathBuf::from("/g/GX01.MP4"), 0.0));
    }

    #[test]
    fn p2_uses_its_video_file_and_raw_its_thumbnail() {
        let c = clip(
            Family::P2,
            vec![
                cf("/p/VIDEO/A.MXF", FileRole::Video),
                cf("/p/AUDIO/A00.MXF", FileRole::Audio),
                cf("/p/ICON/A.BMP", FileRole::Thumbnail),
            ],
            vec![vec![0, 1]],
        );
        let d = desc(20.0, &[("/p/VIDEO/A.MXF", 20.0)]);
        assert_eq!(
            source(&c, &d).unwrap(),
            (PathBuf::from("/p/VIDEO/A.MXF"), 2.0)
        );
        let raw = clip(
            Family::Braw,
            vec![
                cf("/b/A001.braw", FileRole::Video),
                cf("/b/A001.jpg", FileRole::Thumbnail),
            ],
            vec![vec![0]],
        );
        assert_eq!(
            source(&raw, &d).unwrap(),
            (PathBuf::from("/b/A001.jpg"), 0.0)
        );
    }
}
