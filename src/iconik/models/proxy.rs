//! Proxies (`ProxySchema` / `ProxyUpdateSchema`; iconik-api.md §6.6, §8). The spec swaps the
//! request/response schema names; both carry the same writable fields.

use super::enums::{ObjectStatus, StorageMethod};
use super::ids::{AssetId, ProxyId, StorageId, VersionId};
use super::page::Cursor;
use serde::{Deserialize, Serialize};

/// `ResolutionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct Resolution {
    pub width: i32,
    pub height: i32,
}

/// Body of `POST proxies/` (nothing required).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProxyCreate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Container, e.g. `mp4`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec: Option<String>,
    /// A string (`"25"`, `"29.97"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_rate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_rate: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_bitrate: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_drop_frame: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ObjectStatus>,
    /// Omit to let iconik choose (§6.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<StorageId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<VersionId>,
}

/// Body of `PATCH proxies/{proxy_id}/` — `{"status":"CLOSED"}` after the upload.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProxyUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ObjectStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<StorageId>,
}

impl ProxyUpdate {
    /// `{"status":"CLOSED"}`.
    pub fn closed() -> Self {
        Self {
            status: Some(ObjectStatus::Closed),
            ..Self::default()
        }
    }
}

/// A proxy as returned, with the upload fields for the storage it landed on.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Proxy {
    pub id: ProxyId,
    #[serde(default)]
    pub asset_id: Option<AssetId>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub status: Option<ObjectStatus>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub storage_id: Option<StorageId>,
    #[serde(default)]
    pub storage_method: Option<StorageMethod>,
    #[serde(default)]
    pub version_id: Option<VersionId>,
    /// Signed storage URL — a credential in itself: never log it.
    #[serde(default)]
    pub upload_url: Option<String>,
    /// Not enumerated anywhere (§5); dispatch uses `storage_method`.
    #[serde(default)]
    pub upload_method: Option<String>,
    #[serde(default)]
    pub upload_credentials: Option<serde_json::Value>,
    #[serde(default)]
    pub multipart_upload_url: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub resolution: Option<Resolution>,
}

impl Cursor for Proxy {
    fn cursor_id(&self) -> String {
        self.id.to_string()
    }
}

/// One part URL of iconik's S3 multipart flow (`MultiPartUploadURLSchema`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MultipartPartUrl {
    pub number: u32,
    pub url: String,
}

/// `MultiPartURLsSchema`: where to complete or abort an S3 multipart upload.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct MultipartUrls {
    #[serde(default)]
    pub complete_url: Option<String>,
    #[serde(default)]
    pub abort_url: Option<String>,
}

/// Body of `POST proxies/{proxy_id}/multipart/cleanup/` (`MultipartUploadProxyCleanupSchema`).
#[derive(Debug, Clone, Serialize)]
pub struct MultipartCleanup {
    pub upload_id: String,
    pub abort_upload: bool,
}
