//! Keyframe requests and records (`TranscodeRequestSchema`, `TranscodeResponseSchema`,
//! `KeyframeSchema`; iconik-api.md §6.7).

use super::enums::{KeyframeType, ObjectStatus};
use super::ids::{AssetId, JobId, KeyframeId, StorageId, VersionId};
use super::page::Cursor;
use super::proxy::Resolution;
use serde::{Deserialize, Serialize};

/// Body of `POST proxies/{proxy_id}/keyframes/`; all optional, `{}` is the usual request.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KeyframeRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_as_custom_keyframe: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_proxy_mediainfo: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_storage_transcode_ignore_pattern: Option<bool>,
}

/// `{job_id}` answer of job requests.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TranscodeResponse {
    pub job_id: JobId,
}

/// A keyframe record as returned.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Keyframe {
    pub id: KeyframeId,
    #[serde(default)]
    pub asset_id: Option<AssetId>,
    #[serde(rename = "type", default)]
    pub keyframe_type: Option<KeyframeType>,
    #[serde(default)]
    pub status: Option<ObjectStatus>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub resolution: Option<Resolution>,
    #[serde(default)]
    pub storage_id: Option<StorageId>,
    #[serde(default)]
    pub version_id: Option<VersionId>,
    #[serde(default)]
    pub url: Option<String>,
}

impl Cursor for Keyframe {
    fn cursor_id(&self) -> String {
        self.id.to_string()
    }
}
