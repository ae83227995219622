//! `FileTech`: the typed technical summary of one essence file, built from MediaInfo's tracks
//! or ffprobe's JSON. Later stages (ingest, proxies) read this instead of raw tool output.

use super::rate::Rational;
use serde::Serialize;

/// Which tool described a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeTool {
    Mediainfo,
    Ffprobe,
}

impl ProbeTool {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeTool::Mediainfo => "mediainfo",
            ProbeTool::Ffprobe => "ffprobe",
        }
    }
}

/// Technical summary of one essence file. Fields are `None` when the tool did not say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileTech {
    pub tool: ProbeTool,
    /// Container as the tool names it: MediaInfo "MXF"/"MPEG-4"/"Wave", ffprobe "mxf"/"mov,mp4,…".
    pub container: Option<String>,
    /// Container profile, e.g. MediaInfo "OP-Atom"/"OP-1a".
    pub container_profile: Option<String>,
    /// ffmpeg codec name of the first video track (see `codec`).
    pub video_codec: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub frame_rate: Option<Rational>,
    pub frame_count: Option<u64>,
    pub duration_seconds: Option<f64>,
    /// Sum of channels over every audio track of the file (OP1a with 8 mono tracks → 8).
    pub audio_channels: Option<u32>,
    pub audio_sample_rate: Option<u32>,
    pub audio_bit_depth: Option<u32>,
    /// Start timecode "HH:MM:SS:FF" / "HH:MM:SS;FF".
    pub timecode: Option<String>,
    /// Encoding/creation date, RFC 3339 (only when the file states its zone).
    pub encoded_date: Option<String>,
    /// The tool says the file ends early (MediaInfo `IsTruncated`).
    pub truncated: bool,
}

impl FileTech {
    pub fn empty(tool: ProbeTool) -> FileTech {
        FileTech {
            tool,
            container: None,
            container_profile: None,
            video_codec: None,
            width: None,
            height: None,
            frame_rate: None,
            frame_count: None,
            duration_seconds: None,
            audio_channels: None,
            audio_sample_rate: None,
            audio_bit_depth: None,
            timecode: None,
            encoded_date: None,
            truncated: false,
        }
    }

    /// True when the file has video but the tool left out its frame rate or size (MediaInfo on
    /// a transport stream without VUI timing reports `FrameRate_Mode` VFR and no rate).
    pub fn video_facts_missing(&self) -> bool {
        self.video_codec.is_some()
            && (self.frame_rate.is_none() || self.width.is_none() || self.height.is_none())
    }

    /// Fills the video facts this summary lacks from another tool's summary of the same file.
    pub fn fill_video_facts(&mut self, other: &FileTech) {
        self.frame_rate = self.frame_rate.or(other.frame_rate);
        self.width = self.width.or(other.width);
        self.height = self.height.or(other.height);
    }

    /// True when the tool found any video or audio in the file.
    pub fn has_essence(&self) -> bool {
        self.video_codec.is_some() || self.audio_channels.is_some()
    }
}
