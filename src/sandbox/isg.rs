//! A simulated iconik Storage Gateway scan (iconik-api.md §10.11, §14): what the gateway of a
//! FILE storage with `settings.scan` does to the files it finds in its `scan_directories`.
//!
//! The sandbox has no disk, so the file records stand for the files: each record inside a
//! scan folder that no scan has seen yet is "found". With `aggregate_identical_files` the
//! gateway hashes the file and attaches it to the asset that already has a file of that MD5
//! (the registered record's `checksum` is what the bytes hash to); otherwise — or when the
//! record carries no checksum to match — it makes its own, second asset for the file, as a
//! real gateway does. Each outcome is kept in `isg_scans` for the web view and tests.

use super::routes::{new_id, now};
use super::state::State;
use serde_json::{Value, json};

/// Folders a storage's gateway scans, relative to the storage root ("" = the whole storage).
/// `scan_directories` hold gateway paths; those under `mount_point` are made relative to it.
pub fn scan_folders(settings: &Value) -> Vec<String> {
    let mount = settings["mount_point"]
        .as_str()
        .unwrap_or_default()
        .trim_end_matches('/');
    let dirs: Vec<String> = settings["scan_directories"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if dirs.is_empty() {
        return vec![String::new()];
    }
    dirs.iter()
        .map(|d| {
            let rel = match d.strip_prefix(mount) {
                Some(r) if !mount.is_empty() => r,
                _ => d.as_str(),
            };
            rel.trim_matches('/').to_owned()
        })
        .collect()
}

/// Whether `dir` (relative, `/`-separated) is `folder` or below it.
pub fn is_inside(dir: &str, folder: &str) -> bool {
    let dir = dir.trim_matches('/');
    folder.is_empty() || dir == folder || dir.starts_with(&format!("{folder}/"))
}

/// One scan tick over every scanning FILE storage; returns this tick's outcomes.
pub fn scan(st: &mut State) -> Vec<Value> {
    let storages: Vec<Value> = st
        .storages
        .iter()
        .filter(|s| s["method"] == "FILE" && s["settings"]["scan"] == true)
        .cloned()
        .collect();
    let mut outcomes = Vec::new();
    for storage in storages {
        let settings = &storage["settings"];
        let folders = scan_folders(settings);
        let aggregate = settings["aggregate_identical_files"] == true;
        let seen = |st: &State, f: &Value| {
            st.isg_scans.iter().any(|o| {
                o["storage_id"] == storage["id"]
                    && o["directory_path"] == f["directory_path"]
                    && o["name"] == f["name"]
            })
        };
        let found: Vec<Value> = st
            .files
            .iter()
            .filter(|f| f["storage_id"] == storage["id"] && f["status"] != "DELETED")
            .filter(|f| {
                let dir = f["directory_path"].as_str().unwrap_or_default();
                folders.iter().any(|d| is_inside(dir, d))
            })
            .filter(|f| !seen(st, f))
            .cloned()
            .collect();
        for file in found {
            let md5 = file["checksum"].as_str().filter(|c| !c.is_empty());
            let outcome = match md5 {
                Some(md5) if aggregate => json!({
                    "outcome": "aggregated",
                    "asset_id": file["asset_id"],
                    "detail": format!(
                        "MD5 {md5} matches the registered file: the gateway attaches its scan \
                         to that asset"
                    ),
                }),
                _ => {
                    let why = if aggregate {
                        "the registered file has no checksum to match"
                    } else {
                        "the storage does not aggregate identical files"
                    };
                    let asset = gateway_asset(st, &storage, &file);
                    json!({
                        "outcome": "second_asset",
                        "asset_id": asset,
                        "detail": format!("{why}: the gateway made its own asset for the file"),
                    })
                }
            };
            let mut entry = json!({
                "time": now(),
                "storage_id": storage["id"],
                "storage": storage["name"],
                "directory_path": file["directory_path"],
                "name": file["name"],
                "file_id": file["id"],
                "registered_asset_id": file["asset_id"],
            });
            if let (Some(e), Some(o)) = (entry.as_object_mut(), outcome.as_object()) {
                e.extend(o.clone());
            }
            st.isg_scans.push(entry.clone());
            outcomes.push(entry);
        }
        if let Some(s) = st.storages.iter_mut().find(|s| s["id"] == storage["id"]) {
            s["last_scanned"] = json!(now());
        }
    }
    outcomes
}

/// The asset, ORIGINAL format, file set and file record a gateway makes for a file it found.
fn gateway_asset(st: &mut State, storage: &Value, file: &Value) -> String {
    let name = file["name"].as_str().unwrap_or_default();
    let title = if storage["settings"]["title_includes_extension"] == false {
        name.rsplit_once('.').map_or(name, |(stem, _)| stem)
    } else {
        name
    };
    let (asset_id, version_id, format_id, set_id) = (new_id(), new_id(), new_id(), new_id());
    let created = now();
    st.assets.push(json!({
        "id": asset_id,
        "title": title,
        "type": "ASSET",
        "status": "ACTIVE",
        "is_online": true,
        "external_id": Value::Null,
        "archive_status": "NOT_ARCHIVED",
        "custom_keyframe": Value::Null,
        "custom_poster": Value::Null,
        "date_created": created,
        "date_modified": created,
        "in_collections": [],
        "versions": [{ "id": version_id, "status": "ACTIVE", "date_created": created }],
        "warning": Value::Null,
        "sandbox_made_by": "storage gateway scan",
    }));
    st.formats.push(json!({
        "id": format_id,
        "asset_id": asset_id,
        "version_id": version_id,
        "name": "ORIGINAL",
        "status": "ACTIVE",
        "storage_methods": ["FILE"],
        "is_online": true,
        "metadata": [],
        "components": [],
        "date_created": created,
    }));
    st.file_sets.push(json!({
        "id": set_id,
        "asset_id": asset_id,
        "version_id": version_id,
        "format_id": format_id,
        "storage_id": storage["id"],
        "name": name,
        "base_dir": file["directory_path"],
        "component_ids": [],
        "status": "ACTIVE",
        "file_count": 1,
        "date_created": created,
    }));
    let mut copy = file.clone();
    copy["id"] = json!(new_id());
    copy["asset_id"] = json!(asset_id);
    copy["version_id"] = json!(version_id);
    copy["format_id"] = json!(format_id);
    copy["file_set_id"] = json!(set_id);
    copy["date_created"] = json!(created);
    st.files.push(copy);
    asset_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_folders_are_made_relative_to_the_mount() {
        let s = json!({"mount_point": "/mnt/o/", "scan_directories": ["/mnt/o/scanned/", "x/y"]});
        assert_eq!(scan_folders(&s), vec!["scanned", "x/y"]);
        assert_eq!(scan_folders(&json!({"scan": true})), vec![""]);
        assert!(is_inside("scanned/CARD/CONTENTS", "scanned"));
        assert!(!is_inside("scanned2/CARD", "scanned"));
        assert!(is_inside("anything", ""));
    }
}
