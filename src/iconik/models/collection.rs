//! Collections and their contents (`CollectionInputSchema`, `CollectionSchema`,
//! `CollectionContentSchema`; iconik-api.md §6.9).

use super::ids::{AssetId, CollectionId};
use serde::{Deserialize, Serialize};

/// Body of `POST collections/`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CollectionCreate {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<CollectionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// A collection as returned.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Collection {
    pub id: CollectionId,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub parent_id: Option<CollectionId>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// Body of `POST collections/{collection_id}/contents/`: `object_type` is lower-case plural.
#[derive(Debug, Clone, Serialize)]
pub struct CollectionContentAdd {
    pub object_id: uuid::Uuid,
    pub object_type: String,
}

impl CollectionContentAdd {
    /// Adds an asset.
    pub fn asset(id: AssetId) -> Self {
        Self {
            object_id: id.0,
            object_type: "assets".to_owned(),
        }
    }
}

/// One entry of `GET collections/{collection_id}/contents/` (assets or sub-collections).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CollectionItem {
    pub id: uuid::Uuid,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub object_type: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
}
