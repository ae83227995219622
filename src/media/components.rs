//! iconik format components from MediaInfo tracks (iconik-api.md §7): one VIDEO component per
//! video track, one AUDIO per audio track, IMAGE/TEXT for MediaInfo's Image/Text tracks (both
//! in iconik's ComponentSchema type enum), OTHER for the rest (timecode, data); keys are
//! MediaInfo's field names lower-cased (`FrameRate` → `framerate`, `TimeCode_FirstFrame` →
//! `timecode_firstframe`) and every value is a string.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ComponentType {
    Video,
    Audio,
    /// Still frames (DPX/EXR/TIFF first frame of a sequence): MediaInfo's "Image" track.
    Image,
    /// MediaInfo "Text" tracks (subtitles, captions).
    Text,
    Other,
}

impl ComponentType {
    /// iconik's component `type`/`name`: "VIDEO", "AUDIO", "OTHER".
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentType::Video => "VIDEO",
            ComponentType::Audio => "AUDIO",
            ComponentType::Image => "IMAGE",
            ComponentType::Text => "TEXT",
            ComponentType::Other => "OTHER",
        }
    }
}

/// One iconik format component: its type and its string metadata.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormatComponent {
    pub kind: ComponentType,
    pub metadata: BTreeMap<String, String>,
}

/// Lower-cased key → string value for every scalar field of `track`. `@type`/`@typeorder` and
/// nested objects (`extra`) are left out: iconik takes flat strings only.
pub fn track_metadata(track: &Value) -> BTreeMap<String, String> {
    let Some(obj) = track.as_object() else {
        return BTreeMap::new();
    };
    obj.iter()
        .filter(|(k, _)| !k.starts_with('@'))
        .filter_map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some((k.to_lowercase(), value))
        })
        .collect()
}

/// Components for one file's MediaInfo `media.track` array (the General track is not a
/// component; see [`format_metadata`]).
pub fn iconik_components(tracks: &[Value]) -> Vec<FormatComponent> {
    tracks
        .iter()
        .filter_map(|t| {
            let kind = match t["@type"].as_str()? {
                "General" => return None,
                "Video" => ComponentType::Video,
                "Audio" => ComponentType::Audio,
                "Image" => ComponentType::Image,
                "Text" => ComponentType::Text,
                _ => ComponentType::Other,
            };
            Some(FormatComponent {
                kind,
                metadata: track_metadata(t),
            })
        })
        .collect()
}

/// The format-level metadata map from the General track.
pub fn format_metadata(tracks: &[Value]) -> BTreeMap<String, String> {
    tracks
        .iter()
        .find(|t| t["@type"].as_str() == Some("General"))
        .map(track_metadata)
        .unwrap_or_default()
}

/// MediaInfo-style decimal rate ("25.000", "29.970") from an ffprobe ratio ("30000/1001").
fn decimal_rate(ratio: &str) -> Option<String> {
    let (n, d) = ratio.split_once('/')?;
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    (n > 0.0 && d > 0.0).then(|| format!("{:.3}", n / d))
}

/// Components from ffprobe JSON when MediaInfo was not available, under the same lower-cased
/// MediaInfo key names (`format` = ffprobe `codec_name`, `framerate`, `framecount`, `channels`,
/// `samplingrate`, `bitdepth`, `duration`, `timecode_firstframe`) so ingest handles both alike.
/// Data streams other than a QuickTime `tmcd` are left out; an MXF format-level timecode
/// becomes an OTHER component.
pub fn ffprobe_components(json: &Value) -> Vec<FormatComponent> {
    let text = |v: &Value| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let mut out = Vec::new();
    let streams = json["streams"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for s in streams {
        let mut m = BTreeMap::new();
        let mut put = |key: &str, value: Option<String>| {
            if let Some(v) = value.filter(|v| v != "0") {
                m.insert(key.to_owned(), v);
            }
        };
        put("id", text(&s["index"]));
        put("format", text(&s["codec_name"]));
        put("duration", text(&s["duration"]));
        let kind = match s["codec_type"].as_str() {
            Some("video") => {
                put("width", text(&s["width"]));
                put("height", text(&s["height"]));
                put(
                    "framerate",
                    s["r_frame_rate"].as_str().and_then(decimal_rate),
                );
                put("framecount", text(&s["nb_frames"]));
                put("bitdepth", text(&s["bits_per_raw_sample"]));
                put("timecode_firstframe", text(&s["tags"]["timecode"]));
                ComponentType::Video
            }
            Some("audio") => {
                put("channels", text(&s["channels"]));
                put("samplingrate", text(&s["sample_rate"]));
                put(
                    "bitdepth",
                    text(&s["bits_per_raw_sample"]).or_else(|| text(&s["bits_per_sample"])),
                );
                ComponentType::Audio
            }
            Some("data") if s["codec_tag_string"].as_str() == Some("tmcd") => {
                put("type", Some("Time code".into()));
                put("timecode_firstframe", text(&s["tags"]["timecode"]));
                ComponentType::Other
            }
            Some("subtitle") => ComponentType::Text,
            _ => continue,
        };
        out.push(FormatComponent { kind, metadata: m });
    }
    if let Some(tc) = text(&json["format"]["tags"]["timecode"]) {
        let has_tc = out.iter().any(|c| {
            c.kind == ComponentType::Other && c.metadata.contains_key("timecode_firstframe")
        });
        if !has_tc {
            out.push(FormatComponent {
                kind: ComponentType::Other,
                metadata: BTreeMap::from([
                    ("type".to_owned(), "Time code".to_owned()),
                    ("timecode_firstframe".to_owned(), tc),
                ]),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn components_from_op1a_tracks() {
        let tracks = json!([
            {"@type": "General", "Format": "MXF", "Duration": "3.000", "FrameCount": "75"},
            {"@type": "Video", "ID": "2", "Format": "MPEG Video", "Width": "320", "Height": "180",
             "FrameRate": "25.000", "FrameCount": "75", "Duration": "3.000", "extra": {"x": "1"}},
            {"@type": "Audio", "@typeorder": "1", "ID": "3", "Format": "PCM", "Channels": "1",
             "SamplingRate": "48000", "BitDepth": "24"},
            {"@type": "Other", "Type": "Time code", "Format": "MXF TC", "TimeCode_FirstFrame": "12:00:00:00"}
        ]);
        let tracks = tracks.as_array().unwrap();
        let comps = iconik_components(tracks);
        assert_eq!(
            comps.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>(),
            ["VIDEO", "AUDIO", "OTHER"]
        );
        let v = &comps[0].metadata;
        assert_eq!(v["format"], "MPEG Video");
        assert_eq!(v["width"], "320");
        assert_eq!(v["framerate"], "25.000");
        assert_eq!(v["framecount"], "75");
        assert_eq!(v["duration"], "3.000");
        assert!(!v.contains_key("extra") && !v.contains_key("@type"));
        let a = &comps[1].metadata;
        assert_eq!(
            (
                a["channels"].as_str(),
                a["samplingrate"].as_str(),
                a["bitdepth"].as_str()
            ),
            ("1", "48000", "24")
        );
        assert_eq!(comps[2].metadata["timecode_firstframe"], "12:00:00:00");
        assert_eq!(comps[2].metadata["type"], "Time code");
        assert_eq!(format_metadata(tracks)["format"], "MXF");
    }

    #[test]
    fn components_from_ffprobe_select_by_type() {
        let j = json!({
            "streams": [
                {"index": 0, "codec_type": "data"},
                {"index": 1, "codec_name": "h264", "codec_type": "video", "width": 320, "height": 180,
                 "r_frame_rate": "30000/1001", "nb_frames": "60", "duration": "2.002000"},
                {"index": 2, "codec_name": "pcm_s24le", "codec_type": "audio", "channels": 1,
                 "sample_rate": "48000", "bits_per_sample": 24}
            ],
            "format": {"tags": {"timecode": "10:00:00:00"}}
        });
        let comps = ffprobe_components(&j);
        assert_eq!(
            comps.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>(),
            ["VIDEO", "AUDIO", "OTHER"]
        );
        let v = &comps[0].metadata;
        assert_eq!(v["framerate"], "29.970");
        assert_eq!(v["framecount"], "60");
        assert_eq!(v["width"], "320");
        assert_eq!(v["format"], "h264");
        let a = &comps[1].metadata;
        assert_eq!(
            (
                a["channels"].as_str(),
                a["samplingrate"].as_str(),
                a["bitdepth"].as_str()
            ),
            ("1", "48000", "24")
        );
        assert_eq!(comps[2].metadata["timecode_firstframe"], "10:00:00:00");
    }
}
