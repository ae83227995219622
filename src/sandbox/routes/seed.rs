//! The objects a fresh sandbox starts with: one FILE storage for originals (purpose FILES), one
//! GCS storage that is the default proxy storage (iconik-api.md §6.1), optionally S3/AZURE proxy
//! storages, and one metadata view with text fields (§6.10).

use super::{new_id, now};
use crate::sandbox::SandboxConfig;
use crate::sandbox::state::State;
use serde_json::{Value, json};

/// Bucket of the seeded GCS proxy storage.
pub const PROXY_BUCKET: &str = "sandbox-proxies";

fn storage(name: &str, method: &str, purpose: &str, default: bool, settings: Value) -> Value {
    json!({
        "id": new_id(),
        "name": name,
        "method": method,
        "purpose": purpose,
        "status": "ACTIVE",
        "default": default,
        "description": format!("card-ingest sandbox {purpose} storage"),
        "settings": settings,
        "last_scanned": Value::Null,
        "scanner_status": "NOT_RUNNING",
        "date_created": now(),
        "date_modified": now(),
    })
}

/// A new state with the seeded storages and view.
pub fn fresh_state(config: &SandboxConfig) -> State {
    let mut storages = vec![
        storage(
            "Sandbox originals",
            "FILE",
            "FILES",
            true,
            json!({
                "mount_point": config.mount_point,
                "scan": false,
                "scan_directories": [],
                "local_proxy_creation": false,
                "local_keyframe_creation": false,
                "transcode_ignore": [],
                "filename_is_external_id": false,
                "aggregate_identical_files": false,
            }),
        ),
        storage(
            "Sandbox proxies (GCS)",
            "GCS",
            "PROXIES",
            true,
            json!({ "bucket": PROXY_BUCKET, "add_uuid_to_filenames": false }),
        ),
    ];
    if config.extra_proxy_storages {
        storages.push(storage(
            "Sandbox proxies (S3)",
            "S3",
            "PROXIES",
            false,
            json!({ "bucket": "sandbox-s3-proxies", "add_uuid_to_filenames": false }),
        ));
        storages.push(storage(
            "Sandbox proxies (Azure)",
            "AZURE",
            "PROXIES",
            false,
            json!({ "container": "sandbox-azure-proxies", "add_uuid_to_filenames": false }),
        ));
    }
    let field = |name: &str, label: &str| {
        json!({ "name": name, "label": label, "field_type": "string", "read_only": false,
                "required": false, "multi": false })
    };
    let view = json!({
        "id": new_id(),
        "name": "Card ingest",
        "description": "Clip fields filled by card-ingest",
        "date_created": now(),
        "date_modified": now(),
        "view_fields": [
            field("scene", "Scene"),
            field("take", "Take"),
            field("camera", "Camera"),
            field("description", "Description"),
        ],
    });
    State {
        storages,
        metadata_views: vec![view],
        ..State::default()
    }
}
