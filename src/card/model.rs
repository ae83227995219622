//! The data the scanner produces: cards, clips, member files, and what was skipped or failed.
//!
//! These types are the contract between detection (`card`), metadata (`media`), the `scan`
//! JSON output and, later, ingest. Serialised names are a public interface
//! (`card-ingest scan --json`): do not rename them.

use serde::{Deserialize, Serialize, Serializer};
use std::path::{Path, PathBuf};

/// Paths are written lossily: a non-UTF-8 name must never make the whole report fail to
/// serialise (the scanner reports such names in `errors` separately).
pub fn serialize_path_lossy<S: Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path.to_string_lossy())
}

/// Camera family of a card or clip. Serialised names are fixed by the `scan --json` interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    P2,
    Xdcam,
    XdcamEx,
    XavcS,
    CanonXf,
    Avchd,
    Gopro,
    Dji,
    Red,
    Arri,
    Braw,
    ImageSequence,
    AudioBwf,
    Generic,
}

impl Family {
    /// The `scan --json` name, e.g. `xdcam_ex`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::P2 => "p2",
            Family::Xdcam => "xdcam",
            Family::XdcamEx => "xdcam_ex",
            Family::XavcS => "xavc_s",
            Family::CanonXf => "canon_xf",
            Family::Avchd => "avchd",
            Family::Gopro => "gopro",
            Family::Dji => "dji",
            Family::Red => "red",
            Family::Arri => "arri",
            Family::Braw => "braw",
            Family::ImageSequence => "image_sequence",
            Family::AudioBwf => "audio_bwf",
            Family::Generic => "generic",
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a member file is for within its clip. Serialised names are fixed by `scan --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileRole {
    /// Picture essence (may also carry audio, e.g. OP1a MXF or MP4).
    Video,
    /// Audio-only essence (P2 mono MXF, BWF).
    Audio,
    /// Camera metadata: clip XML, NRT XML, SMI, RMD, `.sidecar`, SRT telemetry, ...
    Sidecar,
    /// Camera-made low-res copy: P2 `PROXY/`, Sony `Sub/`, GoPro LRV, DJI LRF.
    Proxy,
    /// Camera-made picture: P2 `ICON/`, GoPro THM, Sony `THMBNL/`.
    Thumbnail,
    /// Anything else that belongs to the clip (voice memo, real-time metadata BIN, ...).
    Other,
}

/// A card (or card-like folder) found in the dropped paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub family: Family,
    /// Absolute path of the card root (the folder holding `CONTENTS`, `XDROOT`, `DCIM`, ...).
    #[serde(serialize_with = "serialize_path_lossy")]
    pub root: PathBuf,
}

/// One member file of a clip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClipFile {
    /// Absolute path.
    #[serde(serialize_with = "serialize_path_lossy")]
    pub path: PathBuf,
    pub role: FileRole,
    /// Size in bytes.
    pub size: u64,
}

/// One clip as the camera recorded it: possibly many files, possibly across several cards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clip {
    /// Stable across runs and machines: the camera's own clip identity where it has one
    /// (P2 GlobalClipID / GlobalShotID, Sony UMID, ...), else family + card-relative path.
    pub id: String,
    /// Camera clip name, e.g. `0002EM`, `C0001`, `GH0123` (recording), `A001_C001_0514XY`.
    pub name: String,
    pub family: Family,
    /// Root of the card holding the clip's first file (spans: the card of the first segment).
    #[serde(serialize_with = "serialize_path_lossy")]
    pub card_root: PathBuf,
    /// Member files, essence first in playback order (segments/chapters in order; for P2 the
    /// video file then audio channels 00, 01, ...), then sidecars, proxies, thumbnails, other.
    pub files: Vec<ClipFile>,
    /// Essence segments in playback order, each a list of indices into `files`: one entry per
    /// span segment / chapter / stream file; a single-file clip has one segment `[0]`.
    /// P2: each segment is `[video, audio00, audio01, ...]`. Image sequences: one segment of
    /// every frame. Used by metadata (durations sum) and proxy building (concat).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub segments: Vec<Vec<usize>>,
    /// Set when the clip cannot be registered as it is, e.g. a P2 span whose next card is
    /// missing ("waiting for card CARDB0001"). Such clips are listed, never ingested.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub incomplete: Option<String>,
    /// Things the operator should know that do not stop the clip (inventory mismatch, audio
    /// file count differs from the XML, sequence gaps, ...).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<String>,
    /// Id of the clip this one was made from (a Wave Agent mono split of a poly take, named by
    /// its iXML `HISTORY/PARENT_FILENAME`): both are listed, the operator registers one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub derived_from: Option<String>,
}

impl Clip {
    /// Sum of member file sizes in bytes.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// A file the scanner deliberately left out (junk, not media, belongs to no clip).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    #[serde(serialize_with = "serialize_path_lossy")]
    pub path: PathBuf,
    pub reason: String,
}

/// A file or folder the scanner could not handle (unreadable, zero bytes, truncated, loop, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanIssue {
    #[serde(serialize_with = "serialize_path_lossy")]
    pub path: PathBuf,
    /// Says what is wrong and what to do, e.g. "file is empty (0 bytes): re-copy it from the card".
    pub message: String,
}

/// Everything detection found in a set of dropped paths.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CardScan {
    pub cards: Vec<Card>,
    pub clips: Vec<Clip>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<ScanIssue>,
}
