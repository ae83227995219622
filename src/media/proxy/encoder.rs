//! Which H.264 encoder makes the proxies: a hardware one when ffmpeg has it and it works on this
//! machine, else libx264 (the verified §7 command).
//!
//! Detection lists `ffmpeg -hide_banner -encoders`, then runs a one-frame test encode with each
//! listed hardware encoder, in [`Encoder::HARDWARE`] order, with the same arguments a proxy
//! would use: an encoder can be compiled in while the GPU, driver or device node is missing,
//! and only an encode tells. The result is cached per ffmpeg path for the life of the process
//! (one detection per run), and detection blocks, so callers run it on a worker thread.

use super::ProxySpec;
use super::plan::rate_arg;
use crate::media::process::{self, ProcessSpec};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The device node VAAPI encodes on (the first render node; what ffmpeg's docs use).
pub const VAAPI_DEVICE: &str = "/dev/dri/renderD128";

/// How long the `-encoders` listing and each one-frame test encode may take; a hung driver
/// must not hold up the run.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// An H.264 encoder of ffmpeg's that can make the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoder {
    /// Software x264: always the fallback.
    #[default]
    Libx264,
    /// Apple VideoToolbox (macOS).
    VideoToolbox,
    /// NVIDIA NVENC.
    Nvenc,
    /// Intel Quick Sync.
    Qsv,
    /// VAAPI (Intel/AMD on Linux), on [`VAAPI_DEVICE`].
    Vaapi,
    /// AMD AMF (Windows).
    Amf,
}

impl Encoder {
    /// Hardware encoders in the order detection tries them.
    pub const HARDWARE: [Encoder; 5] = [
        Encoder::VideoToolbox,
        Encoder::Nvenc,
        Encoder::Qsv,
        Encoder::Vaapi,
        Encoder::Amf,
    ];
    /// Every encoder, libx264 first.
    pub const ALL: [Encoder; 6] = [
        Encoder::Libx264,
        Encoder::VideoToolbox,
        Encoder::Nvenc,
        Encoder::Qsv,
        Encoder::Vaapi,
        Encoder::Amf,
    ];

    /// ffmpeg's name for it (`-c:v NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Encoder::Libx264 => "libx264",
            Encoder::VideoToolbox => "h264_videotoolbox",
            Encoder::Nvenc => "h264_nvenc",
            Encoder::Qsv => "h264_qsv",
            Encoder::Vaapi => "h264_vaapi",
            Encoder::Amf => "h264_amf",
        }
    }

    /// The encoder named `name` (ffmpeg's spelling, ASCII case ignored).
    pub fn from_name(name: &str) -> Option<Encoder> {
        Self::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Options placed before the inputs (VAAPI opens its device there).
    pub fn global_args(self) -> Vec<String> {
        match self {
            Encoder::Vaapi => vec!["-vaapi_device".into(), VAAPI_DEVICE.into()],
            _ => Vec::new(),
        }
    }

    /// The end of the picture filter chain: the pixel format the encoder takes (VAAPI: uploaded
    /// to the device). The chain before it always yields 8-bit 4:2:0.
    pub fn filter_tail(self) -> &'static str {
        match self {
            Encoder::Libx264 | Encoder::Nvenc | Encoder::VideoToolbox | Encoder::Amf => {
                "format=yuv420p"
            }
            Encoder::Qsv => "format=nv12",
            Encoder::Vaapi => "format=nv12,hwupload",
        }
    }

    /// Codec and rate-control arguments equivalent to the libx264 proxy: High profile, no
    /// B-frames (iconik's player), the same target and peak rate with a 1-s VBV buffer. The GOP
    /// (`-g`/`-force_key_frames`) is added by the plan for every encoder alike.
    pub fn video_args(self, spec: &ProxySpec) -> Vec<String> {
        let b = rate_arg(spec.video_bitrate);
        let max = rate_arg(spec.max_bitrate);
        let mut args: Vec<String> = vec!["-c:v".into(), self.name().into()];
        let own: &[&str] = match self {
            Encoder::Libx264 => &[
                "-preset",
                spec.preset.as_str(),
                "-profile:v",
                "high",
                "-level:v",
                "4.0",
            ],
            // Peak-constrained VBR, closed fixed GOPs (no scene-cut IDRs, as -sc_threshold 0).
            Encoder::Nvenc => &[
                "-preset",
                "p4",
                "-profile:v",
                "high",
                "-rc",
                "vbr",
                "-no-scenecut",
                "1",
                "-forced-idr",
                "1",
            ],
            Encoder::Qsv => &[
                "-preset",
                "veryfast",
                "-profile:v",
                "high",
                "-look_ahead",
                "0",
            ],
            Encoder::Vaapi => &["-profile:v", "high", "-rc_mode", "VBR"],
            Encoder::VideoToolbox => &["-profile:v", "high", "-realtime", "0", "-allow_sw", "0"],
            Encoder::Amf => &[
                "-usage",
                "transcoding",
                "-quality",
                "speed",
                "-profile:v",
                "high",
                "-rc",
                "vbr_peak",
            ],
        };
        args.extend(own.iter().map(|s| (*s).to_owned()));
        // bufsize = maxrate keeps every 1-s window under the cap; 2× let it reach 4.08 Mb/s.
        args.extend(["-bf", "0", "-b:v", &b, "-maxrate", &max, "-bufsize", &max].map(String::from));
        args
    }
}

impl fmt::Display for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the operator asked for: detect, or this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EncoderChoice {
    /// The first hardware encoder that works, else libx264.
    #[default]
    Auto,
    /// This encoder; a run fails clearly when ffmpeg does not offer it.
    Forced(Encoder),
}

impl FromStr for EncoderChoice {
    type Err = EncoderError;

    /// `auto` (or empty) or an encoder's ffmpeg name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("auto") {
            return Ok(EncoderChoice::Auto);
        }
        Encoder::from_name(s)
            .map(EncoderChoice::Forced)
            .ok_or_else(|| EncoderError::Unknown { name: s.to_owned() })
    }
}

impl fmt::Display for EncoderChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncoderChoice::Auto => f.write_str("auto"),
            EncoderChoice::Forced(e) => f.write_str(e.name()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncoderError {
    #[error(
        "unknown encoder '{name}': use auto, libx264, h264_videotoolbox, h264_nvenc, h264_qsv, h264_vaapi or h264_amf"
    )]
    Unknown { name: String },
    #[error("cannot list ffmpeg's encoders with {ffmpeg}: {reason}", ffmpeg = .ffmpeg.display())]
    Listing { ffmpeg: PathBuf, reason: String },
    #[error(
        "encoder {encoder} was chosen but {ffmpeg} does not offer it: install an ffmpeg built with it or choose auto",
        ffmpeg = .ffmpeg.display()
    )]
    NotOffered { encoder: Encoder, ffmpeg: PathBuf },
}

/// One detection: the encoder chosen and why each other candidate was passed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub chosen: Encoder,
    /// (encoder, reason) for each hardware encoder not chosen, in the order tried.
    pub rejected: Vec<(Encoder, String)>,
}

/// The encoder to use with `ffmpeg` for `choice`: forced ones are checked against the listing,
/// `Auto` is detected. Cached per (ffmpeg, choice) for the process: the first proxy of a run
/// pays for it, the others reuse it.
pub fn resolve(ffmpeg: &Path, choice: EncoderChoice) -> Result<Encoder, EncoderError> {
    type Cache = Mutex<HashMap<(PathBuf, EncoderChoice), Result<Encoder, EncoderError>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    let key = (ffmpeg.to_path_buf(), choice);
    // Held across detection on purpose: concurrent clips wait for the one detection.
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(hit) = map.get(&key) {
        return hit.clone();
    }
    let result = match choice {
        EncoderChoice::Forced(Encoder::Libx264) => Ok(Encoder::Libx264),
        EncoderChoice::Forced(encoder) => list_encoders(ffmpeg).and_then(|listed| {
            if listed.contains(&encoder) {
                Ok(encoder)
            } else {
                Err(EncoderError::NotOffered {
                    encoder,
                    ffmpeg: ffmpeg.to_path_buf(),
                })
            }
        }),
        EncoderChoice::Auto => Ok(detect(ffmpeg).chosen),
    };
    match &result {
        Ok(e) => {
            tracing::info!(encoder = e.name(), %choice, ffmpeg = %ffmpeg.display(), "proxy encoder")
        }
        Err(e) => tracing::warn!(error = %e, "proxy encoder"),
    }
    map.insert(key, result.clone());
    result
}

/// Starts [`resolve`] for (`ffmpeg`, `choice`) on a thread of its own and returns at once, so
/// detection (a listing and a test encode per listed hardware encoder: ≈ 0.4 s here) runs
/// beside the scan and the card's first calls instead of in front of the first encode, which
/// then finds the answer cached (or waits for the detection under way).
pub fn warm_up(ffmpeg: &Path, choice: EncoderChoice) {
    let ffmpeg = ffmpeg.to_path_buf();
    let spawned = std::thread::Builder::new()
        .name("encoder-detect".into())
        .spawn(move || {
            let _ = resolve(&ffmpeg, choice);
        });
    if let Err(e) = spawned {
        // Harmless: the first encode detects as before.
        tracing::debug!(error = %e, "encoder warm-up thread not started");
    }
}

/// Detects the first working hardware encoder (uncached; see [`resolve`]). A listing that
/// fails gives libx264: ffmpeg's own error then shows at the first encode.
pub fn detect(ffmpeg: &Path) -> Detection {
    let listed = match list_encoders(ffmpeg) {
        Ok(l) => l,
        Err(e) => {
            return Detection {
                chosen: Encoder::Libx264,
                rejected: Encoder::HARDWARE
                    .into_iter()
                    .map(|h| (h, e.to_string()))
                    .collect(),
            };
        }
    };
    // Every listed one is tried at once: a test encode is mostly a driver failing to open a
    // device (≈ 0.1 s each here, three listed by Debian's ffmpeg), and detection runs in
    // front of a run's first encode. The first in priority order that works is chosen.
    let tried: Vec<(Encoder, Option<Result<(), String>>)> = std::thread::scope(|s| {
        let running: Vec<_> = Encoder::HARDWARE
            .into_iter()
            .map(|encoder| {
                let test = listed
                    .contains(&encoder)
                    .then(|| s.spawn(move || test_encode(ffmpeg, encoder)));
                (encoder, test)
            })
            .collect();
        running
            .into_iter()
            .map(|(encoder, test)| {
                let result = test.map(|t| {
                    t.join()
                        .unwrap_or_else(|_| Err("test encode panicked".to_owned()))
                });
                (encoder, result)
            })
            .collect()
    });
    let mut rejected = Vec::new();
    for (encoder, result) in tried {
        match result {
            None => rejected.push((encoder, "not in ffmpeg -encoders".to_owned())),
            Some(Ok(())) => {
                return Detection {
                    chosen: encoder,
                    rejected,
                };
            }
            Some(Err(reason)) => {
                tracing::debug!(encoder = encoder.name(), %reason, "hardware encoder unusable");
                rejected.push((encoder, reason));
            }
        }
    }
    Detection {
        chosen: Encoder::Libx264,
        rejected,
    }
}

/// The encoders of [`Encoder::ALL`] that `ffmpeg -hide_banner -encoders` lists.
pub fn list_encoders(ffmpeg: &Path) -> Result<Vec<Encoder>, EncoderError> {
    let spec = ProcessSpec::new(ffmpeg, PROBE_TIMEOUT).args(["-hide_banner", "-encoders"]);
    let fail = |reason: String| EncoderError::Listing {
        ffmpeg: ffmpeg.to_path_buf(),
        reason,
    };
    let out = process::run(&spec).map_err(|e| fail(e.to_string()))?;
    if !out.success() {
        return Err(fail(out.stderr_excerpt()));
    }
    Ok(parse_encoders(&String::from_utf8_lossy(&out.stdout)))
}

/// Lines look like ` V....D h264_nvenc    NVIDIA NVENC H.264 encoder (codec h264)`: flags, name.
pub fn parse_encoders(listing: &str) -> Vec<Encoder> {
    let names: Vec<&str> = listing
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let flags = words.next()?;
            let name = words.next()?;
            flags.starts_with('V').then_some(name)
        })
        .collect();
    Encoder::ALL
        .into_iter()
        .filter(|e| names.contains(&e.name()))
        .collect()
}

/// The argv of a one-frame test encode of `encoder` to the null muxer, with the proxy's own
/// encoder arguments (so an option the driver refuses fails here, not on the first clip).
pub fn test_encode_args(encoder: Encoder) -> Vec<String> {
    let mut args: Vec<String> = ["-hide_banner", "-nostdin", "-v", "error"]
        .map(String::from)
        .into();
    args.extend(encoder.global_args());
    args.extend(
        [
            "-f",
            "lavfi",
            "-i",
            "color=c=black:s=320x240:r=25:d=1",
            "-frames:v",
            "1",
            "-vf",
        ]
        .map(String::from),
    );
    args.push(encoder.filter_tail().to_owned());
    args.extend(encoder.video_args(&ProxySpec::default()));
    args.extend(["-f", "null", "-"].map(String::from));
    args
}

fn test_encode(ffmpeg: &Path, encoder: Encoder) -> Result<(), String> {
    let spec = ProcessSpec::new(ffmpeg, PROBE_TIMEOUT).args(test_encode_args(encoder));
    let out = process::run(&spec).map_err(|e| e.to_string())?;
    if out.success() {
        Ok(())
    } else {
        Err(format!(
            "test encode failed (exit {}): {}",
            out.status_code
                .map_or_else(|| "killed".to_owned(), |c| c.to_string()),
            out.stderr_excerpt()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_is_parsed_by_name_and_video_flag() {
        let listing = " V....D libx264              libx264 H.264 / AVC\n \
                        V....D h264_nvenc           NVIDIA NVENC H.264 encoder (codec h264)\n \
                        A....D h264_amf             not a video line\n \
                        V..... h264_vaapi           H.264/AVC (VAAPI) (codec h264)\n \
                        ------\n";
        assert_eq!(
            parse_encoders(listing),
            vec![Encoder::Libx264, Encoder::Nvenc, Encoder::Vaapi]
        );
    }

    #[test]
    fn choice_parses_auto_and_names_and_rejects_others_clearly() {
        assert_eq!("auto".parse::<EncoderChoice>(), Ok(EncoderChoice::Auto));
        assert_eq!("".parse::<EncoderChoice>(), Ok(EncoderChoice::Auto));
        assert_eq!(
            "H264_VAAPI".parse::<EncoderChoice>(),
            Ok(EncoderChoice::Forced(Encoder::Vaapi))
        );
        let err = "h264_fpga".parse::<EncoderChoice>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown encoder 'h264_fpga': use auto, libx264, h264_videotoolbox, h264_nvenc, h264_qsv, h264_vaapi or h264_amf"
        );
        for e in Encoder::ALL {
            assert_eq!(
                e.name().parse::<EncoderChoice>(),
                Ok(EncoderChoice::Forced(e))
            );
            assert_eq!(EncoderChoice::Forced(e).to_string(), e.name());
        }
    }

    #[test]
    fn every_encoder_keeps_the_proxy_rate_control_and_no_b_frames() {
        let spec = ProxySpec::default();
        for e in Encoder::ALL {
            let args = e.video_args(&spec);
            let after = |k: &str| {
                let i = args
                    .iter()
                    .position(|a| a == k)
                    .unwrap_or_else(|| panic!("{e}: {k}"));
                args[i + 1].as_str()
            };
            assert_eq!(after("-c:v"), e.name());
            assert_eq!(after("-bf"), "0", "{e}");
            assert_eq!(after("-b:v"), "3M", "{e}");
            assert_eq!(after("-maxrate"), "4M", "{e}");
            assert_eq!(after("-bufsize"), "4M", "{e}");
            assert_eq!(after("-profile:v"), "high", "{e}");
        }
        assert_eq!(
            Encoder::Vaapi.global_args(),
            ["-vaapi_device", VAAPI_DEVICE]
        );
        assert!(Encoder::Libx264.global_args().is_empty());
        assert_eq!(Encoder::Vaapi.filter_tail(), "format=nv12,hwupload");
    }

    #[test]
    fn test_encode_is_one_frame_to_null_with_the_proxy_args() {
        let args = test_encode_args(Encoder::Nvenc);
        let joined = args.join(" ");
        assert!(joined.contains("-frames:v 1"), "{joined}");
        assert!(joined.contains("-c:v h264_nvenc"), "{joined}");
        assert!(joined.ends_with("-f null -"), "{joined}");
    }
}
