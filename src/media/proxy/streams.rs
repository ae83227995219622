//! Per-file stream facts the proxy needs and [`FileTech`](crate::media::FileTech) does not keep:
//! channels per audio stream (8 mono tracks vs one 8-channel track mix differently) and whether
//! the picture is interlaced. Read from the raw MediaInfo tracks or ffprobe streams in
//! [`ClipDescription::raw`].

use crate::media::{ClipDescription, DescribedFile};
use serde_json::Value;
use std::path::Path;

/// What the raw tool output says about one file's streams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamFacts {
    /// Channels of each audio stream, in stream order.
    pub audio_channels: Vec<u32>,
    /// `Some(true)` interlaced/MBAFF, `Some(false)` progressive, `None` unknown.
    pub interlaced: Option<bool>,
}

/// The described file at `path`, if the description has it.
pub fn described<'a>(desc: &'a ClipDescription, path: &Path) -> Option<&'a DescribedFile> {
    desc.files.iter().find(|f| f.path == path)
}

fn number(v: &Value) -> Option<u32> {
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .or_else(|| v.as_str()?.trim().parse().ok())
}

/// Stream facts of `path`; `None` when the file was not described.
pub fn facts(desc: &ClipDescription, path: &Path) -> Option<StreamFacts> {
    let file = described(desc, path)?;
    let entry = &desc.raw[file.raw_key.as_str()];
    let mut facts = StreamFacts::default();
    if let Some(tracks) = desc.mediainfo_tracks(file) {
        for t in tracks {
            match t["@type"].as_str() {
                Some("Audio") => facts
                    .audio_channels
                    .push(number(&t["Channels"]).unwrap_or(1)),
                Some("Video") if facts.interlaced.is_none() => {
                    facts.interlaced = t["ScanType"]
                        .as_str()
                        .map(|s| matches!(s, "Interlaced" | "MBAFF" | "Mixed"));
                }
                _ => {}
            }
        }
    } else if let Some(streams) = entry["streams"].as_array() {
        for s in streams {
            match s["codec_type"].as_str() {
                Some("audio") => facts
                    .audio_channels
                    .push(number(&s["channels"]).unwrap_or(1)),
                Some("video") if facts.interlaced.is_none() => {
                    facts.interlaced = s["field_order"]
                        .as_str()
                        .map(|f| matches!(f, "tt" | "bb" | "tb" | "bt"));
                }
                _ => {}
            }
        }
    } else if let Some(n) = file.tech.audio_channels {
        // No raw streams: one stream with all channels is the best guess.
        facts.audio_channels.push(n);
    }
    Some(facts)
}
