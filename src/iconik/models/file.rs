//! File records (`FileCreateSchema`, `FileSchema`; iconik-api.md §6.5, §9, §10).

use super::date::lenient_opt;
use super::enums::{FileType, ObjectStatus};
use super::ids::{AssetId, FileId, FileSetId, FormatId, StorageId, VersionId};
use super::page::Cursor;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Body of `POST files/`. Camera originals already on a FILE storage go in `CLOSED`, with `size`,
/// `checksum` (lowercase hex MD5) and the file's own dates in `file_date_*` (§10 pitfalls 4–6).
#[derive(Debug, Clone, Serialize)]
pub struct FileCreate {
    /// The file's own folder relative to the storage root, no leading `/`.
    pub directory_path: String,
    pub original_name: String,
    #[serde(rename = "type")]
    pub file_type: FileType,
    /// On-disk name (files already on a FILE storage).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Bytes; a JSON integer, never a string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "lenient_opt::serialize"
    )]
    pub file_date_created: Option<DateTime<Utc>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "lenient_opt::serialize"
    )]
    pub file_date_modified: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_set_id: Option<FileSetId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_id: Option<FormatId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<StorageId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ObjectStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<VersionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<FileId>,
}

impl FileCreate {
    /// A plain `FILE` record at `directory_path/original_name`; fill the rest with struct update.
    pub fn new(directory_path: impl Into<String>, original_name: impl Into<String>) -> Self {
        Self {
            directory_path: directory_path.into(),
            original_name: original_name.into(),
            file_type: FileType::File,
            name: None,
            size: None,
            checksum: None,
            file_date_created: None,
            file_date_modified: None,
            file_set_id: None,
            format_id: None,
            storage_id: None,
            status: None,
            version_id: None,
            parent_id: None,
        }
    }
}

/// Body of `PATCH files/{file_id}/` (subset of `FileSchema`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FilePatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ObjectStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// A file record as returned (per-asset lists, storage lookups and checksum lookups).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct File {
    pub id: FileId,
    #[serde(default)]
    pub asset_id: Option<AssetId>,
    #[serde(default)]
    pub directory_path: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub original_name: Option<String>,
    #[serde(rename = "type", default)]
    pub file_type: Option<FileType>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub checksum: Option<String>,
    #[serde(default)]
    pub status: Option<ObjectStatus>,
    #[serde(default)]
    pub file_set_id: Option<FileSetId>,
    #[serde(default)]
    pub format_id: Option<FormatId>,
    #[serde(default)]
    pub storage_id: Option<StorageId>,
    #[serde(default)]
    pub version_id: Option<VersionId>,
    #[serde(default, with = "lenient_opt")]
    pub file_date_created: Option<DateTime<Utc>>,
    #[serde(default, with = "lenient_opt")]
    pub file_date_modified: Option<DateTime<Utc>>,
    #[serde(default, with = "lenient_opt")]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(default)]
    pub upload_url: Option<String>,
    #[serde(default)]
    pub upload_method: Option<String>,
    #[serde(default)]
    pub storage_method: Option<String>,
    #[serde(default)]
    pub multipart_upload_url: Option<String>,
}

impl Cursor for File {
    fn cursor_id(&self) -> String {
        self.id.to_string()
    }
}
