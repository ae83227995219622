//! H.264 web proxies for iconik, one per clip (camera-cards.md §7, the verified command).
//!
//! [`plan()`](fn@plan) turns a clip and its description into the exact ffmpeg argv (pure, testable without
//! running anything); [`encode()`](fn@encode) runs it with progress and cancel, writing to a temporary name
//! that is renamed only on success. [`audio`] builds the stereo mix from the clip's tracks;
//! [`mp4`] reads back what was written.

pub mod audio;
pub mod burn_in;
pub mod camera;
pub mod encode;
pub mod encoder;
pub(crate) mod escape;
pub mod look;
pub mod look_rules;
pub mod mp4;
pub mod plan;
pub mod preset;
pub mod recipe;
pub mod record;
pub mod streams;
#[cfg(test)]
pub(crate) mod test_clip;

pub use encode::encode;
pub use encoder::{Encoder, EncoderChoice};
pub use plan::plan;
pub use recipe::EditCodec;

use super::process::ProcessError;
use super::rate::Rational;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// How the clip's audio tracks become the proxy's stereo pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AudioMix {
    /// CH1+CH3 → L, CH2+CH4 → R (P2/XDCAM convention: two stereo pairs, or camera mic + XLR);
    /// fewer channels: 2 → L/R, 1 → both sides.
    #[default]
    Default,
    /// CH1 → L, CH2 → R only (common when CH3/CH4 carry nothing useful).
    Ch1Ch2Only,
    /// Source channels per side as bit masks (bit 0 = CH1): e.g. `left: 0b1, right: 0b1` puts
    /// CH1 on both sides. A side none of whose channels exist copies the other side.
    Map { left: u8, right: u8 },
}

impl AudioMix {
    /// (left, right) channel masks, bit 0 = CH1.
    pub fn sides(self) -> (u8, u8) {
        match self {
            AudioMix::Default => (0b0101, 0b1010),
            AudioMix::Ch1Ch2Only => (0b01, 0b10),
            AudioMix::Map { left, right } => (left, right),
        }
    }

    /// Source channels the mix reads (the highest one named).
    pub fn channels_needed(self) -> u32 {
        let (l, r) = self.sides();
        8 - (l | r).leading_zeros()
    }

    /// "CH1+CH3 → L, CH2+CH4 → R".
    pub fn label(self) -> String {
        let side = |mask: u8| {
            (0..8)
                .filter(|k| mask & (1 << k) != 0)
                .map(|k| format!("CH{}", k + 1))
                .collect::<Vec<_>>()
                .join("+")
        };
        let (l, r) = self.sides();
        format!("{} → L, {} → R", side(l), side(r))
    }
}

/// Proxy encoding settings. `Default` is the verified iconik proxy (§7).
#[derive(Debug, Clone, PartialEq)]
pub struct ProxySpec {
    /// Never taller than this; never upscaled.
    pub max_height: u32,
    /// Bits per second.
    pub video_bitrate: u32,
    /// Bits per second; also the VBV buffer size, so each 1-s window stays under the cap (§7).
    pub max_bitrate: u32,
    /// Bits per second.
    pub audio_bitrate: u32,
    pub audio_mix: AudioMix,
    /// x264 preset; `veryfast` is the measured best on 2 cores (§7).
    pub preset: String,
    /// The H.264 encoder (see [`encoder::resolve`]); hardware ones get equivalent settings.
    pub encoder: Encoder,
    /// GOP length in seconds (keyframe every N s, fixed, no scene-cut keyframes).
    pub gop_seconds: u32,
    /// The encode is killed after max(this, 5 × clip duration).
    pub min_timeout: Duration,
    /// The LUT applied in the encode; `None` = no look (issue 13).
    pub look: Option<look::Look>,
    /// Text drawn into the picture (timecode, clip, card, custom); `None` = clean picture.
    pub burn_in: Option<burn_in::BurnIn>,
    /// Also write a JPEG poster this many pixels wide, a second output of the same decode
    /// (`thumbnail` over the first frames): the report's poster without a second ffmpeg run.
    pub poster_width: Option<u32>,
    /// Also write an edit proxy (`PPRO_PROXY`) in this codec from the same decode.
    pub edit: Option<EditCodec>,
}

impl Default for ProxySpec {
    fn default() -> ProxySpec {
        ProxySpec {
            max_height: 720,
            video_bitrate: 3_000_000,
            max_bitrate: 4_000_000,
            audio_bitrate: 128_000,
            audio_mix: AudioMix::Default,
            preset: "veryfast".into(),
            encoder: Encoder::Libx264,
            gop_seconds: 2,
            min_timeout: Duration::from_secs(600),
            look: None,
            burn_in: None,
            poster_width: None,
            edit: None,
        }
    }
}

/// Where the proxy's picture comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ProxySource {
    /// The clip's own essence files.
    Essence,
    /// The camera's low-res copy (RAW clips whose essence ffmpeg cannot decode).
    CameraProxy(PathBuf),
}

/// A file the encode needs written before ffmpeg starts (the concat demuxer list).
#[derive(Debug, Clone, PartialEq)]
pub struct ConcatList {
    pub path: PathBuf,
    pub text: String,
}

/// Everything needed to run one proxy encode, and what the result will be.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyPlan {
    /// ffmpeg arguments (without the program), ending with [`ProxyPlan::temp_output`].
    pub args: Vec<String>,
    /// Final proxy path (appears only when the encode succeeded).
    pub output: PathBuf,
    /// Where ffmpeg writes while encoding.
    pub temp_output: PathBuf,
    pub concat_list: Option<ConcatList>,
    pub source: ProxySource,
    /// Clip duration, for progress; `None` when unknown (progress then has no fraction).
    pub duration_seconds: Option<f64>,
    pub frame_rate: Option<Rational>,
    /// Expected output size, when the source size is known.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// An audio track is requested (camera proxies: only if the file has one, `0:a:0?`;
    /// [`ProxyOutput::audio_bitrate`] then says what was written).
    pub has_audio: bool,
    /// "HH:MM:SS:FF" (";" for drop-frame) carried into the proxy's tmcd track.
    pub start_timecode: Option<String>,
    pub video_bitrate: u32,
    pub audio_bitrate: u32,
    /// The encoder the args use.
    pub encoder: Encoder,
    pub timeout: Duration,
    /// Things the operator should know (audio dropped, rate guessed, ...).
    pub warnings: Vec<String>,
    /// Where ffmpeg writes the poster ([`ProxySpec::poster_width`]), when the plan has one.
    pub poster: Option<PathBuf>,
    /// The edit proxy the same run writes ([`ProxySpec::edit`]).
    pub edit: Option<EditPlan>,
}

/// The edit proxy output of a [`ProxyPlan`].
#[derive(Debug, Clone, PartialEq)]
pub struct EditPlan {
    pub codec: EditCodec,
    /// Where ffmpeg writes it (removed when the encode fails).
    pub temp_output: PathBuf,
    /// Sound tracks, one per source stream of the original.
    pub audio_tracks: usize,
}

/// A finished edit proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct EditOutput {
    pub path: PathBuf,
    pub size_bytes: u64,
    pub codec: EditCodec,
}

/// One `-progress` report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProxyProgress {
    pub out_time_seconds: f64,
    pub duration_seconds: Option<f64>,
    /// 0.0..=1.0; `None` when the clip duration is unknown. Exactly 1.0 at the end.
    pub fraction: Option<f64>,
    /// Encode speed as a multiple of realtime ("2.3x" → 2.3).
    pub speed: Option<f64>,
}

/// A finished proxy, with the fields iconik's proxy record needs (iconik-api.md §6.6).
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyOutput {
    pub path: PathBuf,
    pub size_bytes: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// iconik's spelling: "25", "29.97", "23.976".
    pub frame_rate: Option<String>,
    pub duration_seconds: Option<f64>,
    /// Always "h264".
    pub codec: &'static str,
    /// Always "mp4".
    pub format: &'static str,
    pub start_time_code: Option<String>,
    pub is_drop_frame: bool,
    /// Video bits per second (the target rate).
    pub bit_rate: u32,
    /// Audio bits per second; `None` when the proxy has no audio.
    pub audio_bitrate: Option<u32>,
    /// The encoder that made it.
    pub encoder: Encoder,
    /// The poster JPEG written beside it ([`ProxyPlan::poster`]), when ffmpeg made one.
    pub poster: Option<PathBuf>,
    /// The edit proxy written beside it ([`ProxyPlan::edit`]).
    pub edit: Option<EditOutput>,
}

impl ProxyOutput {
    /// The body fields for iconik `POST proxies/` (`ProxySchema`), minus ids and status.
    pub fn iconik_fields(&self) -> Value {
        serde_json::to_value(record::ProxyFields::of_output(self)).unwrap_or_default()
    }
}

/// iconik writes rates as decimals: "25", "29.97", "59.94", "23.976".
pub fn iconik_frame_rate(rate: Rational) -> String {
    if rate.den == 1 {
        return rate.num.to_string();
    }
    let text = format!("{:.3}", rate.as_f64());
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("clip {clip}: {reason}; it is registered without proxy")]
    NotDecodable { clip: String, reason: String },
    #[error(
        "clip {clip} has no video essence (audio-only or empty): no video proxy is made; it is registered without proxy"
    )]
    NoVideo { clip: String },
    #[error("clip {clip} is incomplete ({reason}): insert the missing card before making a proxy")]
    Incomplete { clip: String, reason: String },
    #[error("cannot write proxy file {path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("proxy encode of {path} was cancelled", path = .output.display())]
    Cancelled { output: PathBuf },
    #[error(transparent)]
    Process(ProcessError),
    #[error("ffmpeg failed making {path} (exit {status}): {stderr}", path = .output.display(), status = .status.map_or_else(|| "killed".to_owned(), |s| s.to_string()))]
    Ffmpeg {
        output: PathBuf,
        status: Option<i32>,
        stderr: String,
    },
    #[error("ffmpeg reported success but wrote no proxy at {path}", path = .path.display())]
    NoOutput { path: PathBuf },
}
