//! The proxy record kept beside each cached proxy (`{fingerprint}.json`): the fields of
//! iconik's proxy record, how the proxy was made, and the edit proxy made in the same run.
//! Written once when the proxy is published, read back on reuse and resume as this type; the
//! JSON keys are the ones earlier versions wrote, so their caches stay valid.

use super::{EditOutput, ProxyOutput};
use serde::{Deserialize, Serialize};

/// Width × height in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

/// iconik's proxy fields (`ProxySchema`, iconik-api.md §6.6) minus ids and status.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProxyFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    pub codec: String,
    pub format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bit_rate: Option<u64>,
    #[serde(default)]
    pub is_drop_frame: bool,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Size>,
    /// iconik's spelling: "25", "29.97".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_rate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_bitrate: Option<u64>,
}

impl ProxyFields {
    /// The fields of an encoded web proxy.
    pub fn of_output(o: &ProxyOutput) -> ProxyFields {
        let name = o.path.file_name().map(|n| n.to_string_lossy().into_owned());
        ProxyFields {
            name: name.clone(),
            filename: name,
            codec: o.codec.to_owned(),
            format: o.format.to_owned(),
            bit_rate: Some(u64::from(o.bit_rate)),
            is_drop_frame: o.is_drop_frame,
            size: o.size_bytes,
            resolution: match (o.width, o.height) {
                (Some(width), Some(height)) => Some(Size { width, height }),
                _ => None,
            },
            frame_rate: o.frame_rate.clone(),
            start_time_code: o.start_time_code.clone(),
            audio_bitrate: o.audio_bitrate.map(u64::from),
        }
    }

    /// The same fields under the published name (`{fingerprint}.mp4`), not the private one
    /// the encode wrote to.
    pub fn named(mut self, file_name: &str) -> ProxyFields {
        self.name = Some(file_name.to_owned());
        self.filename = Some(file_name.to_owned());
        self
    }
}

/// How the proxy was made: the report's proxy column and note.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// The encoder, or "camera proxy (as is)".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// The LUT's path and why it was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub look: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub look_source: Option<String>,
    /// The burn-in items ("timecode, clip").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burn_in: Option<String>,
    /// The card-relative camera proxy used instead of an encode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera_proxy: Option<String>,
    /// Why `--camera-proxy` was asked but an encode ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera_proxy_not_used: Option<String>,
}

/// The edit proxy (`PPRO_PROXY`) published beside the web proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditRecord {
    /// `{fingerprint}.edit.mov`, in the same folder as the web proxy.
    pub filename: String,
    pub size: u64,
    /// [`super::EditCodec::name`].
    pub codec: String,
}

impl EditRecord {
    pub fn of_output(o: &EditOutput, file_name: &str) -> EditRecord {
        EditRecord {
            filename: file_name.to_owned(),
            size: o.size_bytes,
            codec: o.codec.name().to_owned(),
        }
    }
}

/// Everything kept beside a cached proxy.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProxyRecord {
    #[serde(flatten)]
    pub fields: ProxyFields,
    #[serde(flatten)]
    pub made: Provenance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_proxy: Option<EditRecord>,
}

impl ProxyRecord {
    pub fn to_json(&self) -> String {
        // Plain data: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<ProxyRecord, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::proxy::{EditCodec, Encoder};
    use std::path::PathBuf;

    fn output() -> ProxyOutput {
        ProxyOutput {
            path: PathBuf::from("/p/abc.123-x.mp4"),
            size_bytes: 1000,
            width: Some(1280),
            height: Some(720),
            frame_rate: Some("25".into()),
            duration_seconds: Some(3.0),
            codec: "h264",
            format: "mp4",
            start_time_code: Some("10:00:00;00".into()),
            is_drop_frame: true,
            bit_rate: 3_000_000,
            audio_bitrate: Some(128_000),
            encoder: Encoder::Libx264,
            poster: None,
            edit: Some(EditOutput {
                path: PathBuf::from("/p/abc.123-x.mp4.edit.part.mov"),
                size_bytes: 5000,
                codec: EditCodec::ProresProxy,
            }),
        }
    }

    #[test]
    fn the_record_keeps_the_keys_earlier_caches_have() {
        let o = output();
        let record = ProxyRecord {
            fields: ProxyFields::of_output(&o).named("abc.mp4"),
            made: Provenance {
                encoder: Some("libx264".into()),
                preset: Some("720p".into()),
                ..Provenance::default()
            },
            edit_proxy: o
                .edit
                .as_ref()
                .map(|e| EditRecord::of_output(e, "abc.edit.mov")),
        };
        let v: serde_json::Value = serde_json::from_str(&record.to_json()).unwrap();
        assert_eq!(v["name"], "abc.mp4");
        assert_eq!(v["filename"], "abc.mp4");
        assert_eq!(v["codec"], "h264");
        assert_eq!(v["resolution"]["height"], 720);
        assert_eq!(v["bit_rate"], 3_000_000);
        assert_eq!(v["audio_bitrate"], 128_000);
        assert_eq!(v["is_drop_frame"], true);
        assert_eq!(v["encoder"], "libx264");
        assert_eq!(v["preset"], "720p");
        assert_eq!(v["edit_proxy"]["codec"], "prores-proxy");
        assert_eq!(v["edit_proxy"]["size"], 5000);
        assert!(v.get("look").is_none());
        assert_eq!(ProxyRecord::from_json(&record.to_json()).unwrap(), record);
    }

    #[test]
    fn an_older_cache_file_reads_as_a_record() {
        let old = r#"{"codec":"h264","format":"mp4","bit_rate":3000000,"is_drop_frame":false,
            "size":42,"filename":"f.mp4","name":"f.mp4","encoder":"libx264",
            "look":"/l/a.cube","look_source":"--lut","camera_proxy_not_used":"no camera proxy on the card"}"#;
        let r = ProxyRecord::from_json(old).unwrap();
        assert_eq!(r.fields.size, 42);
        assert_eq!(r.fields.resolution, None);
        assert_eq!(r.made.look_source.as_deref(), Some("--lut"));
        assert_eq!(
            r.made.camera_proxy_not_used.as_deref(),
            Some("no camera proxy on the card")
        );
        assert_eq!(r.edit_proxy, None);
    }
}
