//! Formats and their components (`FormatSchema`, `ComponentSchema`; iconik-api.md §6.3, §7).
//! Technical metadata are string→string maps only.

use super::enums::{ActiveStatus, ComponentType};
use super::ids::{AssetId, ComponentId, FormatId, VersionId};
use super::page::Cursor;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A component in a `POST formats/` body: `name` + `type` required, `metadata` strings only.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentCreate {
    pub name: String,
    #[serde(rename = "type")]
    pub component_type: ComponentType,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// Body of `POST formats/` (`FormatSchema`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FormatCreate {
    /// `ORIGINAL` for camera originals.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ActiveStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<VersionId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub storage_methods: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_online: Option<bool>,
    /// An array of string maps (usually one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ComponentCreate>,
}

/// A component as returned (server-made `id`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Component {
    pub id: ComponentId,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "type", default)]
    pub component_type: Option<ComponentType>,
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
}

/// A format as returned.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Format {
    pub id: FormatId,
    #[serde(default)]
    pub asset_id: Option<AssetId>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<ActiveStatus>,
    #[serde(default)]
    pub version_id: Option<VersionId>,
    #[serde(default)]
    pub storage_methods: Vec<String>,
    #[serde(default)]
    pub is_online: Option<bool>,
    #[serde(default)]
    pub metadata: Vec<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub components: Vec<Component>,
    #[serde(default)]
    pub archive_status: Option<String>,
}

impl Format {
    /// All component ids, in order — what a file set's `component_ids` must carry (§10 pitfall 2).
    pub fn component_ids(&self) -> Vec<ComponentId> {
        self.components.iter().map(|c| c.id).collect()
    }
}

impl Cursor for Format {
    fn cursor_id(&self) -> String {
        self.id.to_string()
    }
}
