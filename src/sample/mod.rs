//! Synthesises small but structurally real camera cards: real essence made by ffmpeg (OP-Atom and
//! OP1a MXF, D10, QuickTime-style MP4, M2TS spans, DPX, BWF) in the folder layouts, names and
//! sidecars of each camera family (`docs/camera-cards.md` §2–§3, §6), plus stub files for RAW
//! formats no stock tool can write.
//!
//! Used by the integration tests (which hold the expected grouping as a hand-written oracle), the
//! README demo (`card-ingest sample`) and the GUI's "try with a sample card". The generator never
//! reads what it wrote: what a card *should* group into is the tests' business.
//!
//! Layout of [`generate`]: `dest_dir` is the folder the operator would drop. Single-card kinds make
//! `dest_dir` the card root; [`SampleKind::P2Span`] writes two sibling cards `CARD_A/` and `CARD_B/`;
//! [`SampleKind::Loose`] writes plain files. [`generate_all`] writes each kind into
//! `dest_dir/<kind>/` using [`SampleOptions::jobs`] worker threads.
//!
//! Both block while ffmpeg runs (a second or two per card; ~15–25 s for the whole set on 2
//! cores): call them from a worker thread, never from the UI thread. RAW stubs
//! ([`SampleKind::Red`], [`SampleKind::Arri`], [`SampleKind::Braw`]) need no ffmpeg.
//! ffmpeg's bitexact mode makes every MXF UMID all-zero and identical across files, as
//! camera-cards.md §6 warns: scanners must never key clip identity on them.

mod action;
mod avchd;
mod bwf;
mod canon;
mod ffmpeg;
mod files;
mod loose;
mod p2;
mod raw;
mod riff;
mod sequence;
mod sony;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

/// One synthesisable card layout. `as_str()` names are the CLI spelling and the sub-folder names
/// of [`generate_all`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SampleKind {
    /// Panasonic P2 card A: complete clip `0002EM` and the first part `0003AB` of a span.
    P2,
    /// P2 cards A and B as sibling folders `CARD_A/`, `CARD_B/`: the span `0003AB` → `0004CD`.
    P2Span,
    /// Sony XDCAM HD422 (`XDROOT`): OP1a MPEG-2 + 8 mono PCM, NRT XML (C0001 with a shot mark),
    /// MEDIAPRO listing only C0001.
    Xdcam,
    /// Sony IMX/D10 (`XDROOT/Clip`, 720×608) without any NRT XML.
    Imx,
    /// Sony XDCAM EX (`BPAV`): one take in two clip folders, one empty `M01.XML`.
    XdcamEx,
    /// Sony XAVC S (`PRIVATE/M4ROOT`): C0001 with shot marks 1 and 2 in its NRT XML.
    XavcS,
    /// Canon XF (`CONTENTS/CLIPS001`): clip `AA0001` in two MXF segments.
    CanonXf,
    /// AVCHD: one recording cut into `00000.MTS` + `00001.MTS`, and `00002.MTS` alone.
    Avchd,
    /// GoPro: recording 0123 in two chapters (+ LRV, THM) with HiLight tags in both, recording
    /// 0124 alone.
    Gopro,
    /// DJI: `DJI_0001.MP4` + `.SRT` telemetry + `.LRF` proxy.
    Dji,
    /// RED stubs: one `.RDC` clip of three `.R3D` segments + `.RMD`.
    Red,
    /// ARRIRAW stubs: one clip folder of 24 `.ari` frames.
    Arri,
    /// Blackmagic RAW stub + `.sidecar` JSON.
    Braw,
    /// DPX sequences: `A001C001` (24 frames from 86400) and `A001C002` with a gap.
    DpxSequence,
    /// Broadcast WAV: a polyphonic take and a mono-per-track take sharing an iXML family UID.
    Bwf,
    /// Loose media: `interview.mov`, `broll.mp4` + `broll.XMP`, `Café 日本.mov`.
    Loose,
}

impl SampleKind {
    /// Every kind, in declaration order.
    pub fn all() -> &'static [SampleKind] {
        use SampleKind::*;
        &[
            P2,
            P2Span,
            Xdcam,
            Imx,
            XdcamEx,
            XavcS,
            CanonXf,
            Avchd,
            Gopro,
            Dji,
            Red,
            Arri,
            Braw,
            DpxSequence,
            Bwf,
            Loose,
        ]
    }

    /// CLI / folder name, e.g. `p2_span`.
    pub fn as_str(self) -> &'static str {
        match self {
            SampleKind::P2 => "p2",
            SampleKind::P2Span => "p2_span",
            SampleKind::Xdcam => "xdcam",
            SampleKind::Imx => "imx",
            SampleKind::XdcamEx => "xdcam_ex",
            SampleKind::XavcS => "xavc_s",
            SampleKind::CanonXf => "canon_xf",
            SampleKind::Avchd => "avchd",
            SampleKind::Gopro => "gopro",
            SampleKind::Dji => "dji",
            SampleKind::Red => "red",
            SampleKind::Arri => "arri",
            SampleKind::Braw => "braw",
            SampleKind::DpxSequence => "dpx_sequence",
            SampleKind::Bwf => "bwf",
            SampleKind::Loose => "loose",
        }
    }

    /// Human label, e.g. for a "try with a sample card" menu.
    pub fn label(self) -> &'static str {
        match self {
            SampleKind::P2 => "Panasonic P2 card",
            SampleKind::P2Span => "Panasonic P2, clip spanning two cards",
            SampleKind::Xdcam => "Sony XDCAM HD422 (XDROOT)",
            SampleKind::Imx => "Sony IMX / D10",
            SampleKind::XdcamEx => "Sony XDCAM EX (BPAV)",
            SampleKind::XavcS => "Sony XAVC S",
            SampleKind::CanonXf => "Canon XF",
            SampleKind::Avchd => "AVCHD",
            SampleKind::Gopro => "GoPro",
            SampleKind::Dji => "DJI drone",
            SampleKind::Red => "RED (stub files)",
            SampleKind::Arri => "ARRIRAW (stub frames)",
            SampleKind::Braw => "Blackmagic RAW (stub)",
            SampleKind::DpxSequence => "DPX image sequences",
            SampleKind::Bwf => "Broadcast WAV takes",
            SampleKind::Loose => "Loose media files",
        }
    }

    /// Rough relative cost, so [`generate_all`] starts the slow kinds first.
    fn cost(self) -> u32 {
        match self {
            SampleKind::P2Span => 10,
            SampleKind::P2 => 8,
            SampleKind::Xdcam | SampleKind::Gopro => 6,
            SampleKind::XdcamEx | SampleKind::CanonXf | SampleKind::Avchd => 5,
            SampleKind::Imx | SampleKind::XavcS | SampleKind::Loose => 4,
            SampleKind::Dji | SampleKind::DpxSequence | SampleKind::Bwf => 3,
            SampleKind::Red | SampleKind::Arri | SampleKind::Braw => 1,
        }
    }
}

impl std::fmt::Display for SampleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SampleKind {
    type Err = SampleError;

    /// Accepts the `as_str()` names case-insensitively, with `-` or `_`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        SampleKind::all()
            .iter()
            .copied()
            .find(|k| k.as_str() == wanted)
            .ok_or_else(|| SampleError::UnknownKind(s.to_string()))
    }
}

/// Knobs for the generator. Defaults make tiny files (320×180, 3 s clips).
#[derive(Debug, Clone)]
pub struct SampleOptions {
    /// Picture size of every clip except IMX/D10 (fixed 720×608 by the format) and thumbnails.
    /// Both must be even (4:2:0/4:2:2 chroma).
    pub width: u32,
    pub height: u32,
    /// Length of single-file clips (P2 `0002EM`, XDCAM, XAVC S, DJI, BWF, loose). Multi-part
    /// recordings (spans, chapters, segments) keep fixed part lengths (2 s + 1 s, 2 s + 2 s, ...)
    /// so that their boundaries stay the ones the tests expect.
    pub clip_seconds: u32,
    /// ffmpeg executable: a path, or a bare name looked up on PATH.
    pub ffmpeg: PathBuf,
    /// Also write macOS junk (`._*` AppleDouble files, `.DS_Store`, `.Spotlight-V100/`,
    /// `.fseventsd/`) into the P2, XDCAM and GoPro cards, as a Mac Finder copy would.
    pub with_junk: bool,
    /// Worker threads for [`generate_all`] (kinds are independent).
    pub jobs: usize,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            width: 320,
            height: 180,
            clip_seconds: 3,
            ffmpeg: PathBuf::from("ffmpeg"),
            with_junk: false,
            jobs: 2,
        }
    }
}

impl SampleOptions {
    fn validate(&self) -> Result<(), SampleError> {
        let even = |v: u32| (16..=4096).contains(&v) && v.is_multiple_of(2);
        if !even(self.width) {
            return Err(SampleError::InvalidOption {
                field: "width",
                reason: format!(
                    "{} is not an even number of pixels in 16..=4096",
                    self.width
                ),
            });
        }
        if !even(self.height) {
            return Err(SampleError::InvalidOption {
                field: "height",
                reason: format!(
                    "{} is not an even number of pixels in 16..=4096",
                    self.height
                ),
            });
        }
        if !(1..=600).contains(&self.clip_seconds) {
            return Err(SampleError::InvalidOption {
                field: "clip_seconds",
                reason: format!("{} is outside 1..=600", self.clip_seconds),
            });
        }
        Ok(())
    }

    /// `WxH` for ffmpeg filters.
    fn size(&self) -> String {
        format!("{}x{}", self.width, self.height)
    }
}

/// What one [`generate`] call wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedCard {
    pub kind: SampleKind,
    /// The folder written (the `dest_dir` argument): what an operator would drop.
    pub dir: PathBuf,
    /// Card roots inside `dir` (P2 span: `CARD_A`, `CARD_B`; loose media: `dir` itself).
    pub roots: Vec<PathBuf>,
}

/// Why a sample card could not be written. Messages name the file or command and what to do.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// The ffmpeg executable does not exist.
    #[error(
        "ffmpeg was not found ({program}): install ffmpeg (e.g. `apt-get install ffmpeg`) or give its path"
    )]
    FfmpegMissing {
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// ffmpeg exists but could not be started (permissions, not an executable, ...).
    #[error("cannot run ffmpeg ({program}): {source}")]
    FfmpegSpawn {
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// ffmpeg exited with an error; `stderr` is its (tail of) error output.
    #[error("ffmpeg failed ({status}) writing {output}: {stderr}\n  command: {command}")]
    Ffmpeg {
        command: String,
        output: PathBuf,
        status: String,
        stderr: String,
    },
    #[error("ffmpeg reported success but did not write {output}\n  command: {command}")]
    FfmpegNoOutput { command: String, output: PathBuf },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a RIFF/WAVE file: {reason}")]
    NotWave { path: PathBuf, reason: String },
    #[error("invalid sample option `{field}`: {reason}")]
    InvalidOption { field: &'static str, reason: String },
    #[error("unknown sample kind {0:?}: expected one of {list}", list = kind_list())]
    UnknownKind(String),
}

fn kind_list() -> String {
    SampleKind::all()
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes a P2 card (`CARDC0001`) with `clips` complete clips into `dest_dir` (the card root):
/// every clip is registrable, unlike [`SampleKind::P2`]'s card A with its half span.
pub fn generate_p2_complete(
    dest_dir: &Path,
    clips: u32,
    opts: &SampleOptions,
) -> Result<GeneratedCard, SampleError> {
    opts.validate()?;
    files::create_dir(dest_dir)?;
    let ff = ffmpeg::Ffmpeg::new(&opts.ffmpeg);
    p2::card_complete(&ff, dest_dir, opts, clips)?;
    Ok(GeneratedCard {
        kind: SampleKind::P2,
        dir: dest_dir.to_path_buf(),
        roots: vec![dest_dir.to_path_buf()],
    })
}

/// Writes a P2 card (`CARDS0001`) with `clips` (1..=9999) complete one-second-apart clips into
/// `dest_dir`: the scale bench's cards (hundreds to thousands of clips, each file unique).
pub fn generate_p2_numbered(
    dest_dir: &Path,
    clips: u32,
    opts: &SampleOptions,
) -> Result<GeneratedCard, SampleError> {
    opts.validate()?;
    if !(1..=9999).contains(&clips) {
        return Err(SampleError::InvalidOption {
            field: "clips",
            reason: format!("{clips} is outside 1..=9999 (P2 clip names have 4 digits)"),
        });
    }
    files::create_dir(dest_dir)?;
    let ff = ffmpeg::Ffmpeg::new(&opts.ffmpeg);
    p2::card_numbered(&ff, dest_dir, opts, clips)?;
    Ok(GeneratedCard {
        kind: SampleKind::P2,
        dir: dest_dir.to_path_buf(),
        roots: vec![dest_dir.to_path_buf()],
    })
}

/// Writes the XDCAM EX take `709_002` relayed over two cards, `dest_dir/CARD_A` (`709_002_01`
/// and the take list) and `dest_dir/CARD_B` (`709_002_02`): real MPEG-2/PCM QuickTime essence
/// of 2 s each, 25p, TC 01:00:00:00 and 01:00:02:00.
pub fn generate_xdcam_ex_span(
    dest_dir: &Path,
    opts: &SampleOptions,
) -> Result<GeneratedCard, SampleError> {
    opts.validate()?;
    files::create_dir(dest_dir)?;
    let ff = ffmpeg::Ffmpeg::new(&opts.ffmpeg);
    let (a, b) = (dest_dir.join("CARD_A"), dest_dir.join("CARD_B"));
    sony::xdcam_ex_span(&ff, &a, &b, opts)?;
    Ok(GeneratedCard {
        kind: SampleKind::XdcamEx,
        dir: dest_dir.to_path_buf(),
        roots: vec![a, b],
    })
}

/// Writes one sample card layout into `dest_dir` (created if missing; existing files with the
/// same names are overwritten).
pub fn generate(
    kind: SampleKind,
    dest_dir: &Path,
    opts: &SampleOptions,
) -> Result<GeneratedCard, SampleError> {
    opts.validate()?;
    files::create_dir(dest_dir)?;
    let started = std::time::Instant::now();
    let ff = ffmpeg::Ffmpeg::new(&opts.ffmpeg);
    let roots = if kind == SampleKind::P2Span {
        let a = dest_dir.join("CARD_A");
        let b = dest_dir.join("CARD_B");
        p2::card_a(&ff, &a, opts)?;
        p2::card_b(&ff, &b, opts)?;
        vec![a, b]
    } else {
        write_single(kind, &ff, dest_dir, opts)?;
        vec![dest_dir.to_path_buf()]
    };
    tracing::debug!(kind = %kind, elapsed_ms = started.elapsed().as_millis(), "sample card written");
    Ok(GeneratedCard {
        kind,
        dir: dest_dir.to_path_buf(),
        roots,
    })
}

/// Writes a kind whose card root is `dir` itself.
fn write_single(
    kind: SampleKind,
    ff: &ffmpeg::Ffmpeg,
    dir: &Path,
    opts: &SampleOptions,
) -> Result<(), SampleError> {
    match kind {
        SampleKind::P2 | SampleKind::P2Span => p2::card_a(ff, dir, opts),
        SampleKind::Xdcam => sony::xdcam(ff, dir, opts),
        SampleKind::Imx => sony::imx(ff, dir, opts),
        SampleKind::XdcamEx => sony::xdcam_ex(ff, dir, opts),
        SampleKind::XavcS => sony::xavc_s(ff, dir, opts),
        SampleKind::CanonXf => canon::canon_xf(ff, dir, opts),
        SampleKind::Avchd => avchd::avchd(ff, dir, opts),
        SampleKind::Gopro => action::gopro(ff, dir, opts),
        SampleKind::Dji => action::dji(ff, dir, opts),
        SampleKind::Red => raw::red(dir),
        SampleKind::Arri => raw::arri(dir),
        SampleKind::Braw => raw::braw(dir),
        SampleKind::DpxSequence => sequence::dpx(ff, dir, opts),
        SampleKind::Bwf => bwf::bwf(ff, dir, opts),
        SampleKind::Loose => loose::loose(ff, dir, opts),
    }
}

/// Writes every kind into `dest_dir/<kind>/` on `opts.jobs` threads; returns them in
/// [`SampleKind::all`] order. Stops at the first error (other workers finish their current card).
pub fn generate_all(
    dest_dir: &Path,
    opts: &SampleOptions,
) -> Result<Vec<GeneratedCard>, SampleError> {
    opts.validate()?;
    files::create_dir(dest_dir)?;
    let mut queue: Vec<SampleKind> = SampleKind::all().to_vec();
    // Slowest first, so the two workers finish at about the same time.
    queue.sort_by_key(|k| std::cmp::Reverse(k.cost()));
    let queue = Mutex::new(queue.into_iter());
    let results: Mutex<Vec<Result<GeneratedCard, SampleError>>> = Mutex::new(Vec::new());
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.clamp(1, 8) {
            s.spawn(|| {
                loop {
                    if failed.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                    let Some(kind) = next else { break };
                    let r = generate(kind, &dest_dir.join(kind.as_str()), opts);
                    if r.is_err() {
                        failed.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    results.lock().unwrap_or_else(|e| e.into_inner()).push(r);
                }
            });
        }
    });
    let mut cards = results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    cards.sort_by_key(|c| c.kind);
    Ok(cards)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for k in SampleKind::all() {
            assert_eq!(k.as_str().parse::<SampleKind>().ok(), Some(*k));
        }
        assert_eq!(
            "P2-Span".parse::<SampleKind>().ok(),
            Some(SampleKind::P2Span)
        );
        assert_eq!(SampleKind::all().len(), 16);
        let err = "betacam".parse::<SampleKind>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref()
                .map(|e| e
                    .starts_with("unknown sample kind \"betacam\": expected one of p2, p2_span,")),
            Some(true)
        );
    }

    #[test]
    fn odd_sizes_are_refused_before_running_anything() {
        let opts = SampleOptions {
            width: 321,
            ..SampleOptions::default()
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let err = generate(SampleKind::Red, dir.path(), &opts).err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some(
                "invalid sample option `width`: 321 is not an even number of pixels in 16..=4096"
                    .to_string()
            )
        );
    }

    #[test]
    fn missing_ffmpeg_says_to_install_it() {
        let opts = SampleOptions {
            ffmpeg: PathBuf::from("/nonexistent/bin/ffmpeg"),
            ..SampleOptions::default()
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let err = generate(SampleKind::Dji, dir.path(), &opts).err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some(
                "ffmpeg was not found (/nonexistent/bin/ffmpeg): install ffmpeg (e.g. `apt-get install ffmpeg`) or give its path"
                    .to_string()
            )
        );
    }

    #[test]
    fn ffmpeg_failure_names_command_and_stderr() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ff = ffmpeg::Ffmpeg::new(Path::new("ffmpeg"));
        let out = dir.path().join("x.MXF");
        let mut cmd = ffmpeg::FfCmd::new();
        // OP-Atom takes exactly one stream: two must fail (camera-cards.md §6 muxer table).
        cmd.video_src("320x180", "25", 1)
            .sine(440, 1)
            .args(["-map", "0:v", "-map", "1:a", "-c:v", "mpeg2video"])
            .args(["-c:a", "pcm_s16le", "-f", "mxf_opatom"])
            .output(&out);
        let err = ff
            .run(&cmd)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("ffmpeg failed (exit status: "), "{err}");
        assert!(err.contains(&format!("writing {}", out.display())), "{err}");
        assert!(
            err.contains("command: ffmpeg -hide_banner -loglevel error"),
            "{err}"
        );
        assert!(err.contains("-f mxf_opatom"), "{err}");
    }
}
