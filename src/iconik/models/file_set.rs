//! File sets (`FileSetSchema`; iconik-api.md §6.4). Never delete one without `keep_source=true`
//! (§10 pitfall 1) — this client offers no file-set delete at all.

use super::enums::FileSetStatus;
use super::ids::{AssetId, ComponentId, FileSetId, FormatId, StorageId, VersionId};
use super::page::Cursor;
use serde::{Deserialize, Serialize};

/// Body of `POST file_sets/`.
#[derive(Debug, Clone, Serialize)]
pub struct FileSetCreate {
    pub format_id: FormatId,
    /// Main file name, e.g. `0002EM.MXF`.
    pub name: String,
    /// Clip root relative to the storage root.
    pub base_dir: String,
    /// All of the format's component ids.
    pub component_ids: Vec<ComponentId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<StorageId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<FileSetStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<VersionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_archive: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_storage_id: Option<StorageId>,
}

/// A file set as returned.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FileSet {
    pub id: FileSetId,
    #[serde(default)]
    pub asset_id: Option<AssetId>,
    #[serde(default)]
    pub format_id: Option<FormatId>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub base_dir: Option<String>,
    #[serde(default)]
    pub component_ids: Vec<ComponentId>,
    #[serde(default)]
    pub storage_id: Option<StorageId>,
    #[serde(default)]
    pub status: Option<FileSetStatus>,
    #[serde(default)]
    pub version_id: Option<VersionId>,
    #[serde(default)]
    pub file_count: Option<i64>,
}

impl Cursor for FileSet {
    fn cursor_id(&self) -> String {
        self.id.to_string()
    }
}
