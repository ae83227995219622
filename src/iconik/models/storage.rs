//! Storages (`StorageSchema`, iconik-api.md §6.1). Read-only for card-ingest.

use super::date::lenient_opt;
use super::enums::{StorageMethod, StoragePurpose, StorageStatus};
use super::ids::StorageId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A storage as returned by iconik.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Storage {
    pub id: StorageId,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub method: Option<StorageMethod>,
    #[serde(default)]
    pub purpose: Option<StoragePurpose>,
    #[serde(default)]
    pub status: Option<StorageStatus>,
    #[serde(default)]
    pub default: Option<bool>,
    #[serde(default)]
    pub description: Option<String>,
    /// Method-specific settings (`mount_point`, `scan`, `scan_directories`, ...).
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
    #[serde(default, with = "lenient_opt")]
    pub last_scanned: Option<DateTime<Utc>>,
}

impl Storage {
    /// `settings.scan` — a gateway scans this storage (iconik-api.md §10 pitfall 11).
    pub fn is_scanned(&self) -> bool {
        self.settings
            .as_ref()
            .and_then(|s| s.get("scan"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    }
}
