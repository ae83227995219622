//! Assets, versions and history entries (`AssetCreateSchema`, `AssetSchema`, `AssetHistorySchema`;
//! iconik-api.md §6.2).

use super::date::lenient_opt;
use super::enums::{ActiveStatus, AssetType};
use super::ids::{AssetId, CollectionId, HistoryId, JobId, VersionId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Body of `POST assets/` (`AssetCreateSchema`). Only `title` is required.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AssetCreate {
    pub title: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub asset_type: Option<AssetType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ActiveStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_online: Option<bool>,
    /// Stable clip key; iconik does not enforce uniqueness (§9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Set by `assets().create(.., Some(collection))` together with `?assign_to_collection=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection_id: Option<CollectionId>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "lenient_opt::serialize"
    )]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
}

impl AssetCreate {
    /// The minimal documented body: `{"title", "type":"ASSET", "status":"ACTIVE", "is_online":true}`.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            asset_type: Some(AssetType::Asset),
            status: Some(ActiveStatus::Active),
            is_online: Some(true),
            ..Self::default()
        }
    }
}

/// Body of `PATCH assets/{asset_id}/` (subset of `AssetSchema`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AssetPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ActiveStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_online: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
}

/// An asset version.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AssetVersion {
    pub id: VersionId,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, with = "lenient_opt")]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(default)]
    pub version_number: Option<i64>,
}

/// An asset as returned by iconik.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Asset {
    pub id: AssetId,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(rename = "type", default)]
    pub asset_type: Option<AssetType>,
    #[serde(default)]
    pub status: Option<ActiveStatus>,
    #[serde(default)]
    pub is_online: Option<bool>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub archive_status: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default, with = "lenient_opt")]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(default, with = "lenient_opt")]
    pub date_modified: Option<DateTime<Utc>>,
    #[serde(default)]
    pub in_collections: Vec<String>,
    #[serde(default)]
    pub versions: Vec<AssetVersion>,
    /// Mentioned by TUT-GFS, absent from the spec (iconik-api.md §4, uncertain).
    #[serde(default)]
    pub default_version_id: Option<VersionId>,
    #[serde(default)]
    pub warning: Option<String>,
}

impl Asset {
    /// `default_version_id` if present, else `versions[0].id` (iconik-api.md §4).
    pub fn version_id(&self) -> Option<VersionId> {
        self.default_version_id
            .or_else(|| self.versions.first().map(|v| v.id))
    }
}

/// Body of `POST assets/{asset_id}/history/` (`AssetHistorySchema`).
#[derive(Debug, Clone, Serialize)]
pub struct AssetHistoryCreate {
    /// e.g. `CUSTOM`, `ADD_FORMAT` (iconik-api.md §5).
    pub operation_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<JobId>,
}

/// A history entry as returned.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AssetHistory {
    #[serde(default)]
    pub id: Option<HistoryId>,
    #[serde(default)]
    pub asset_id: Option<AssetId>,
    #[serde(default)]
    pub operation_type: Option<String>,
    #[serde(default)]
    pub operation_description: Option<String>,
    #[serde(default, with = "lenient_opt")]
    pub date_created: Option<DateTime<Utc>>,
}
