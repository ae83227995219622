//! What the FILES storage's settings mean for a card, decided before the card's first call
//! that makes anything (iconik-api.md §10.11, §14). A real tenant's storage may be scanned by
//! a gateway, may hide files outside its scan folders from iconik, may aggregate identical
//! files, and names the ACLs the gateway gives its own assets — assets made through the API
//! get none of that. Per combination the app either does the safe thing (applies the storage's
//! ACL template or access group to every new asset: one call per clip) or tells the operator
//! in one sentence what will go wrong and how to fix it in iconik; it refuses only where the
//! registration itself would be wrong (a second asset for every file).
//!
//! Everything comes from the storage list the card already reads: no extra card-level call.

use crate::iconik::models::Storage;
use serde_json::Value;

/// The permissions an access group gets on a new asset: see and edit, as a team that owns the
/// storage would; deleting camera originals stays with the ACL template or an admin.
pub const GROUP_PERMISSIONS: &[&str] = &["read", "write"];

/// The settings of a FILE storage that matter here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileStorageSettings {
    pub scan: bool,
    /// Scan folders relative to the storage root (`""` = the whole storage).
    pub scan_folders: Vec<String>,
    /// Absent on older storages: taken as allowed (iconik's behaviour before the setting).
    pub allow_access_outside_scan_directories: bool,
    pub aggregate_identical_files: bool,
    pub acl_template_id: Option<String>,
    pub access_group_id: Option<String>,
}

impl FileStorageSettings {
    /// Reads `settings`; `scan_directories` under `mount_point` are made relative to it (the
    /// gateway lists absolute paths on its host, card-ingest registers relative ones).
    pub fn from_settings(settings: &Value) -> Self {
        let mount = settings["mount_point"]
            .as_str()
            .unwrap_or_default()
            .trim_end_matches('/');
        let scan_folders = settings["scan_directories"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|d| {
                        let rel = match d.strip_prefix(mount) {
                            Some(r) if !mount.is_empty() => r,
                            _ => d,
                        };
                        rel.trim_matches('/').to_owned()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let id = |key: &str| {
            settings[key]
                .as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Self {
            scan: settings["scan"] == true,
            scan_folders,
            allow_access_outside_scan_directories:
                settings["allow_access_outside_scan_directories"]
                    .as_bool()
                    .unwrap_or(true),
            aggregate_identical_files: settings["aggregate_identical_files"] == true,
            acl_template_id: id("acl_template_id"),
            access_group_id: id("access_group_id"),
        }
    }

    /// The scan folder holding `dir` (relative), if the gateway scans it.
    fn scanning(&self, dir: &str) -> Option<&str> {
        if !self.scan {
            return None;
        }
        if self.scan_folders.is_empty() {
            return Some("");
        }
        let dir = dir.trim_matches('/');
        self.scan_folders
            .iter()
            .find(|f| f.is_empty() || dir == f.as_str() || dir.starts_with(&format!("{f}/")))
            .map(String::as_str)
    }
}

/// What to do to every new asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclAction {
    /// `POST /API/acls/v1/acl/templates/{id}/assets/{asset_id}/`.
    Template(String),
    /// `PUT /API/acls/v1/groups/{id}/acl/assets/{asset_id}/` with [`GROUP_PERMISSIONS`].
    Group(String),
}

/// The decision for one card.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoragePlan {
    pub acl: Option<AclAction>,
    /// Done because of a setting (shown as info).
    pub info: Vec<String>,
    /// What will go wrong and how to fix it in iconik.
    pub warnings: Vec<String>,
    /// Why the card must not be registered on this storage as it is set up.
    pub refusal: Option<String>,
}

fn shown(folder: &str) -> String {
    if folder.is_empty() {
        "the whole storage".to_owned()
    } else {
        format!("“{folder}”")
    }
}

/// Decides for a card whose files get registered in `dir` (relative to the storage root);
/// `copying`: the offload is about to copy them there (else they are registered in place).
pub fn plan(storage: &Storage, dir: &str, copying: bool) -> StoragePlan {
    let name = storage
        .name
        .clone()
        .unwrap_or_else(|| storage.id.to_string());
    let settings = storage
        .settings
        .as_ref()
        .map(FileStorageSettings::from_settings)
        .unwrap_or_default();
    let mut out = StoragePlan::default();
    let dir = dir.trim_matches('/');
    let shown_dir = if dir.is_empty() { "/" } else { dir };
    match settings.scanning(dir) {
        // The offload copies before the clips are registered: a scan in between (every few
        // seconds) makes the gateway's asset first, and card-ingest's path look-up then skips
        // the clip as already in iconik — no proxy, title or metadata from card-ingest.
        Some(folder) if settings.aggregate_identical_files && copying => {
            out.warnings.push(format!(
                "Storage “{name}” scans {} and the copy lands in {shown_dir} before card-ingest \
                 registers it, so a gateway scan that comes first makes the assets and \
                 card-ingest skips those clips as already in iconik (no proxy, title or \
                 metadata of its own): offload to a folder outside the storage's scan \
                 directories, or pause its scan in iconik while ingesting.",
                shown(folder)
            ))
        }
        Some(folder) if settings.aggregate_identical_files => out.info.push(format!(
            "Storage “{name}” scans {} and aggregates identical files: its gateway's scan of \
             {shown_dir} attaches to the assets card-ingest registers (matched by the MD5 every \
             file record carries).",
            shown(folder)
        )),
        Some(folder) if copying => {
            out.refusal = Some(format!(
                "Storage “{name}” scans {} without aggregating identical files, so its gateway \
             would make a second asset for every file copied to {shown_dir}: turn on \
             “Aggregate identical files” for the storage in iconik (Admin › Storages) or \
             offload to a folder outside its scan directories.",
                shown(folder)
            ))
        }
        Some(folder) => out.warnings.push(format!(
            "Storage “{name}” scans {} without aggregating identical files, so its gateway \
             makes its own asset for each file in {shown_dir} beside card-ingest's (clips it \
             already registered are skipped as duplicates): turn on “Aggregate identical \
             files” for the storage in iconik or register from a folder outside its scan \
             directories.",
            shown(folder)
        )),
        None if !settings.scan_folders.is_empty()
            && !settings.allow_access_outside_scan_directories =>
        {
            out.warnings.push(format!(
                "Storage “{name}” lets its gateway read only its scan folders ({}), so iconik \
                 cannot transcode or download the files registered from {shown_dir}: turn on \
                 “Allow access outside scan directories” for the storage in iconik or ingest \
                 into one of those folders.",
                settings
                    .scan_folders
                    .iter()
                    .map(|f| shown(f))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        None => {}
    }
    match (&settings.acl_template_id, &settings.access_group_id) {
        (Some(t), group) => {
            out.info.push(format!(
                "New assets get storage “{name}”'s ACL template {t}, as the gateway's own assets \
                 do (one call per clip){}.",
                match group {
                    Some(g) => format!("; its access group {g} is left to that template"),
                    None => String::new(),
                }
            ));
            out.acl = Some(AclAction::Template(t.clone()));
        }
        (None, Some(g)) => {
            out.info.push(format!(
                "New assets give storage “{name}”'s access group {g} {} permission, as the \
                 gateway's own assets do (one call per clip).",
                GROUP_PERMISSIONS.join("/")
            ));
            out.acl = Some(AclAction::Group(g.clone()));
        }
        (None, None) => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn storage(settings: Value) -> Storage {
        serde_json::from_value(json!({
            "id": "6f1c2b7e-0000-4000-8000-000000000001",
            "name": "Originals",
            "method": "FILE",
            "purpose": "FILES",
            "settings": settings,
        }))
        .unwrap()
    }

    fn scanned(aggregate: bool, outside: bool) -> Storage {
        storage(json!({
            "mount_point": "/mnt/o",
            "scan": true,
            "scan_directories": ["/mnt/o/scanned/"],
            "aggregate_identical_files": aggregate,
            "allow_access_outside_scan_directories": outside,
        }))
    }

    #[test]
    fn a_plain_storage_needs_nothing() {
        assert_eq!(
            plan(&storage(json!({"scan": false})), "cards/A", true),
            StoragePlan::default()
        );
    }

    #[test]
    fn copying_into_a_scan_folder_without_aggregation_is_refused() {
        let p = plan(&scanned(false, true), "scanned/A001", true);
        let r = p.refusal.expect("refused");
        assert!(r.contains("second asset"), "{r}");
        assert!(r.contains("Aggregate identical files"), "{r}");
        // In place: the gateway has seen the files already; a warning, not a refusal.
        let p = plan(&scanned(false, true), "scanned/A001", false);
        assert!(p.refusal.is_none());
        assert_eq!(p.warnings.len(), 1, "{p:?}");
        // Outside the scan folder: nothing to say.
        assert_eq!(
            plan(&scanned(false, true), "scanned2/A001", true),
            StoragePlan::default()
        );
    }

    #[test]
    fn aggregation_makes_a_scan_folder_safe_for_files_already_there() {
        let p = plan(&scanned(true, true), "scanned/A001", false);
        assert!(p.refusal.is_none() && p.warnings.is_empty(), "{p:?}");
        assert!(p.info[0].contains("aggregates identical files"), "{p:?}");
        // A copy that lands before registration races the gateway's scan.
        let p = plan(&scanned(true, true), "scanned/A001", true);
        assert!(p.refusal.is_none() && p.info.is_empty(), "{p:?}");
        assert!(
            p.warnings[0].contains("before card-ingest registers"),
            "{p:?}"
        );
    }

    #[test]
    fn files_outside_scan_folders_the_gateway_cannot_read_are_a_warning() {
        let p = plan(&scanned(true, false), "cards/A001", true);
        assert_eq!(p.warnings.len(), 1, "{p:?}");
        assert!(
            p.warnings[0].contains("Allow access outside scan directories"),
            "{p:?}"
        );
        assert!(p.warnings[0].contains("“scanned”"), "{p:?}");
    }

    #[test]
    fn acl_template_wins_over_access_group() {
        let p = plan(
            &storage(json!({"acl_template_id": "t-1", "access_group_id": "g-1"})),
            "x",
            false,
        );
        assert_eq!(p.acl, Some(AclAction::Template("t-1".into())));
        assert!(p.info[0].contains("g-1"), "{p:?}");
        let p = plan(&storage(json!({"access_group_id": " g-2 "})), "x", false);
        assert_eq!(p.acl, Some(AclAction::Group("g-2".into())));
        assert_eq!(
            plan(&storage(json!({"acl_template_id": ""})), "x", false).acl,
            None
        );
    }
}
