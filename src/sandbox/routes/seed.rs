//! The objects a fresh sandbox starts with: one FILE storage for originals (purpose FILES), one
//! GCS storage that is the default proxy storage (iconik-api.md §6.1), optionally S3/AZURE proxy
//! storages, and one metadata view with text fields (§6.10).

use super::{new_id, now};
use crate::sandbox::SandboxConfig;
use crate::sandbox::profiles;
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
    let group_id = new_id();
    let group = json!({
        "id": group_id,
        "name": profiles::GROUP_NAME,
        "date_created": now(),
    });
    let template_id = new_id();
    let template = json!({
        "id": template_id,
        "name": profiles::TEMPLATE_NAME,
        "description": "what the storage gateway gives the assets it makes",
        "groups_acl": [{ "group_id": group_id, "permissions": ["read", "write", "delete"] }],
        "users_acl": [],
        "date_created": now(),
    });
    let mut originals = json!({
        "mount_point": config.mount_point,
        "scan": false,
        "scan_directories": [],
        "allow_access_outside_scan_directories": true,
        "local_proxy_creation": false,
        "local_keyframe_creation": false,
        "transcode_ignore": [],
        "filename_is_external_id": false,
        "aggregate_identical_files": false,
        "title_includes_extension": true,
    });
    let profile = config
        .storage_profile
        .settings(&config.mount_point, &template_id, &group_id);
    if let (Some(o), Some(p)) = (originals.as_object_mut(), profile.as_object()) {
        o.extend(p.clone());
    }
    let mut files_storage = storage("Sandbox originals", "FILE", "FILES", true, originals);
    files_storage["description"] = json!(format!(
        "card-ingest sandbox FILES storage, profile {}: {}",
        config.storage_profile,
        config.storage_profile.describe()
    ));
    let mut storages = vec![
        files_storage,
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
    if config.storage_profile == profiles::StorageProfile::AllKinds {
        // A second FILES storage (the shuttle drive of a two-destination offload), mounted
        // under the sandbox's mount so one folder holds everything.
        let mut shuttle = json!({
            "mount_point": format!("{}/{}", config.mount_point.trim_end_matches('/'), profiles::SHUTTLE_FOLDER),
            "scan": false,
            "aggregate_identical_files": false,
        });
        shuttle["title_includes_extension"] = json!(true);
        storages.push(storage(
            profiles::SHUTTLE_NAME,
            "FILE",
            "FILES",
            false,
            shuttle,
        ));
        // Cloud storages holding files (originals' copies, edit proxies), as iconik lists them.
        for (name, method, bucket) in profiles::CLOUD_STORAGES {
            let key = if method == "AZURE" {
                "container"
            } else {
                "bucket"
            };
            storages.push(storage(
                name,
                method,
                "FILES",
                false,
                json!({ key: bucket, "add_uuid_to_filenames": false }),
            ));
        }
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
        acl_templates: vec![template],
        groups: vec![group],
        metadata_views: vec![view],
        ..State::default()
    }
}
