//! Technical and sidecar metadata for clips: MediaInfo (`--Output=JSON`, raw per-track fields kept
//! for iconik's format components), ffprobe as fallback, sidecar parsers, and the normalised
//! per-clip fields shown to the operator and registered in iconik.
//!
//! Layout: [`process`] runs tools with a timeout; [`mediainfo`] / [`ffprobe`] turn their output
//! into [`FileTech`]; [`sidecar`] parses camera XML and BWF chunks; [`describe`] walks a clip's
//! files and [`normalise`] merges everything into [`ClipMetadata`] (sidecar first, container
//! second, camera-cards.md §4); [`components`] builds iconik format components.

pub mod codec;
pub mod components;
pub mod dates;
pub mod describe;
pub mod ffprobe;
pub mod marks;
pub mod mediainfo;
pub mod normalise;
pub mod poster;
pub mod process;
pub mod production;
pub mod proxy;
pub mod rate;
pub mod sequence;
pub mod sidecar;
pub mod tech;
pub mod timecode;
pub mod tools;

pub use components::{ComponentType, FormatComponent, iconik_components};
pub use describe::DescribedFile;
pub use marks::ClipMark;
pub use rate::Rational;
pub use tech::{FileTech, ProbeTool};
pub use timecode::Timecode;

use crate::card::Clip;
use serde::{Deserialize, Serialize};

/// Normalised per-clip metadata. Each field is present only when a source has it.
/// Serialised names are fixed by the `scan --json` interface.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClipMetadata {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub duration_seconds: Option<f64>,
    /// "25", "30000/1001", ...
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub frame_rate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub height: Option<u32>,
    /// ffmpeg codec name: "h264", "mpeg2video", "dvvideo", "prores", "hevc", "dnxhd" (see [`codec`]).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub video_codec: Option<String>,
    /// Total over all member essence files of one segment (P2: 4 mono files → 4; chapters
    /// are not added up).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub audio_channels: Option<u32>,
    /// "HH:MM:SS:FF", with `;` before the frames for drop-frame.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub timecode_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub camera_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub camera_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_clip_name: Option<String>,
    /// RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shoot_date: Option<String>,
    /// Production facts (iXML / bext Description / ALE / sidecars).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scene: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub take: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tape: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub project: Option<String>,
    /// "true"/"false": the take was circled (iXML `CIRCLED`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub circled: Option<String>,
    /// Channel names in track order, comma-separated (iXML `TRACK_LIST/TRACK/NAME`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub track_names: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
    /// The recorder that wrote the file (bext `Originator`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recorder: Option<String>,
    /// Recorder-local date and time without a zone ("2024-05-14T10:00:00", bext
    /// OriginationDate/Time) when no time zone is stated: never passed off as `shoot_date`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shoot_date_local: Option<String>,
    /// Start position of a WAV that states no timecode rate: samples since midnight and the
    /// sample rate, instead of a timecode at an invented frame rate.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub time_reference: Option<String>,
    /// Further camera/look facts by name (ALE columns, RED RMD, BRAW sidecar: `iso`,
    /// `white_balance`, `lens`, `look`, ...).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty", default)]
    pub extra: std::collections::BTreeMap<String, String>,
    /// Where each value came from: field name → file and part, e.g. `scene` →
    /// `A101_1.WAV iXML SCENE`.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty", default)]
    pub sources: std::collections::BTreeMap<String, String>,
    /// Marks the camera recorded (GoPro HiLight tags, Sony shot marks), in time order; the
    /// ingest registers each as an iconik `MARKER` segment.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub marks: Vec<ClipMark>,
}

impl ClipMetadata {
    /// Production and camera facts registered with the format's metadata (beside MediaInfo's
    /// General track): scene, take, tape, project, circled, track names, note, recorder,
    /// recorder-local date, BWF sample position, and the `extra` columns (ALE, RMD,
    /// `.sidecar`). Keys are the metadata-view field names.
    pub fn format_fields(&self) -> std::collections::BTreeMap<String, String> {
        let named = [
            ("scene", &self.scene),
            ("take", &self.take),
            ("tape", &self.tape),
            ("project", &self.project),
            ("circled", &self.circled),
            ("track_names", &self.track_names),
            ("note", &self.note),
            ("recorder", &self.recorder),
            ("shoot_date_local", &self.shoot_date_local),
            ("time_reference", &self.time_reference),
        ];
        let mut out: std::collections::BTreeMap<String, String> = named
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.to_owned(), v)))
            .collect();
        for (k, v) in &self.extra {
            out.entry(k.clone()).or_insert_with(|| v.clone());
        }
        out
    }
}

/// Which external tools are available; found once at startup.
#[derive(Debug, Clone, Default)]
pub struct Tools {
    pub mediainfo: Option<std::path::PathBuf>,
    pub ffprobe: Option<std::path::PathBuf>,
    /// Makes proxies and posters (`None`: not found; see [`Tools::missing`]).
    pub ffmpeg: Option<std::path::PathBuf>,
    /// Per-file time limit for a probe run (`None` = [`tools::DEFAULT_PROBE_TIMEOUT`]).
    pub probe_timeout: Option<std::time::Duration>,
    /// Paths the operator set (settings or environment), so a wrong one can be named.
    pub configured: Vec<(tools::ToolKind, std::path::PathBuf)>,
}

/// Result of describing one clip.
#[derive(Debug, Clone, Default)]
pub struct ClipDescription {
    pub metadata: ClipMetadata,
    /// Raw tool output per member essence file, keyed by file name:
    /// `{"tool": "mediainfo", "track": [...]}` (MediaInfo's `media.track` as printed) or
    /// `{"tool": "ffprobe", "streams": [...], "format": {...}}`.
    pub raw: serde_json::Value,
    /// Per-file problems (unreadable, truncated, not media): (path, message).
    pub issues: Vec<(std::path::PathBuf, String)>,
    /// Typed technical summary per probed essence file, in clip order.
    pub files: Vec<DescribedFile>,
    /// Parsed sidecars (and BWF chunks), in clip order.
    pub sidecars: Vec<(std::path::PathBuf, sidecar::Sidecar)>,
}

impl ClipDescription {
    /// The same description with every file path under `from` moved under `to`: a clip
    /// described from its verified copy read as if from the card, or the other way round.
    pub fn rebased(&self, from: &std::path::Path, to: &std::path::Path) -> ClipDescription {
        let map = |p: &std::path::PathBuf| {
            p.strip_prefix(from)
                .map(|rel| to.join(rel))
                .unwrap_or_else(|_| p.clone())
        };
        let mut d = self.clone();
        for f in &mut d.files {
            f.path = map(&f.path);
        }
        for (p, _) in &mut d.issues {
            *p = map(p);
        }
        for (p, _) in &mut d.sidecars {
            *p = map(p);
        }
        d
    }

    /// MediaInfo's `media.track` array for `file` (None when ffprobe described it).
    pub fn mediainfo_tracks(&self, file: &DescribedFile) -> Option<&[serde_json::Value]> {
        let entry = &self.raw[file.raw_key.as_str()];
        if entry["tool"].as_str() != Some(ProbeTool::Mediainfo.as_str()) {
            return None;
        }
        entry["track"].as_array().map(Vec::as_slice)
    }

    /// iconik format components for `file`, from MediaInfo's tracks or, when ffprobe described
    /// it, from ffprobe's streams under the same key names.
    pub fn components(&self, file: &DescribedFile) -> Vec<FormatComponent> {
        match self.mediainfo_tracks(file) {
            Some(tracks) => iconik_components(tracks),
            None => components::ffprobe_components(&self.raw[file.raw_key.as_str()]),
        }
    }
}

/// Reads technical metadata of every essence file of `clip` and its sidecars, and normalises it.
/// Per-file trouble lands in [`ClipDescription::issues`]. Without MediaInfo and ffprobe the clip
/// is described from its sidecars alone (the caller reports the missing tools once, through
/// [`Tools::missing`], rather than once per file).
pub fn describe_clip(clip: &Clip, tools: &Tools) -> ClipDescription {
    describe::describe_clip(clip, tools)
}
