//! Storage profiles: the FILES storage settings a real tenant may have (iconik-api.md §14), so
//! the app's reaction to each combination can be tried and tested offline.
//! `card-ingest sandbox --storage-profile NAME` seeds the sandbox's FILES storage with one.

use serde_json::{Value, json};

/// Errors of profile names.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("unknown storage profile {0:?}; known: {known}", known = StorageProfile::names())]
    Unknown(String),
}

/// One combination of FILE storage settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StorageProfile {
    /// No gateway scan, no ACL settings (the sandbox's historic default).
    #[default]
    Plain,
    /// The gateway scans `<mount>/scanned` and aggregates identical files by MD5.
    Scanned,
    /// The gateway scans `<mount>/scanned` and does not aggregate identical files.
    ScannedNoAggregation,
    /// The gateway scans `<mount>/scanned` and cannot read anything outside it.
    ScanFoldersOnly,
    /// The storage names an ACL template its assets get.
    AclTemplate,
    /// The storage names an access group its assets get.
    AccessGroup,
    /// A typical production tenant: scanned folder with aggregation, no access outside it, an
    /// ACL template and an access group.
    Tenant,
    /// The plain FILES storage, a second FILES storage "Sandbox shuttle" (`<mount>/shuttle`),
    /// and cloud storages for originals and edit proxies: "Sandbox GCS", "Sandbox S3" and
    /// "Sandbox Azure" (their records answer upload URLs).
    AllKinds,
}

/// The seeded ACL template's and access group's names (their ids are made at seed time).
pub const TEMPLATE_NAME: &str = "Post team (sandbox ACL template)";
pub const GROUP_NAME: &str = "Post team (sandbox group)";
/// The folder under the mount point that the scanning profiles watch.
pub const SCAN_FOLDER: &str = "scanned";

impl StorageProfile {
    pub const ALL: [StorageProfile; 8] = [
        StorageProfile::Plain,
        StorageProfile::Scanned,
        StorageProfile::ScannedNoAggregation,
        StorageProfile::ScanFoldersOnly,
        StorageProfile::AclTemplate,
        StorageProfile::AccessGroup,
        StorageProfile::Tenant,
        StorageProfile::AllKinds,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StorageProfile::Plain => "plain",
            StorageProfile::Scanned => "scanned",
            StorageProfile::ScannedNoAggregation => "scanned-no-aggregation",
            StorageProfile::ScanFoldersOnly => "scan-folders-only",
            StorageProfile::AclTemplate => "acl-template",
            StorageProfile::AccessGroup => "access-group",
            StorageProfile::Tenant => "tenant",
            StorageProfile::AllKinds => "all-kinds",
        }
    }

    /// One line for `--help` and the README.
    pub fn describe(self) -> &'static str {
        match self {
            StorageProfile::Plain => "no gateway scan, no ACL settings",
            StorageProfile::Scanned => {
                "gateway scans <mount>/scanned, aggregates identical files (MD5)"
            }
            StorageProfile::ScannedNoAggregation => {
                "gateway scans <mount>/scanned, no aggregation (a scan makes second assets)"
            }
            StorageProfile::ScanFoldersOnly => {
                "gateway scans <mount>/scanned and cannot read files outside it"
            }
            StorageProfile::AclTemplate => "storage has an acl_template_id",
            StorageProfile::AccessGroup => "storage has an access_group_id",
            StorageProfile::Tenant => {
                "scanned + aggregation, no access outside scan folders, ACL template and group"
            }
            StorageProfile::AllKinds => {
                "plain FILES storage, a second one (Sandbox shuttle, <mount>/shuttle), cloud storages Sandbox GCS, Sandbox S3, Sandbox Azure"
            }
        }
    }

    /// Comma-separated profile names.
    pub fn names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }

    /// The profile's settings on top of a FILE storage's defaults; `template`/`group` are the
    /// seeded ACL template's and access group's ids.
    pub fn settings(self, mount_point: &str, template: &str, group: &str) -> Value {
        let scan_dir = format!("{}/{SCAN_FOLDER}", mount_point.trim_end_matches('/'));
        let scanned = |aggregate: bool, outside: bool| {
            json!({
                "scan": true,
                "scan_directories": [scan_dir],
                "aggregate_identical_files": aggregate,
                "allow_access_outside_scan_directories": outside,
            })
        };
        match self {
            StorageProfile::Plain | StorageProfile::AllKinds => json!({}),
            StorageProfile::Scanned => scanned(true, true),
            StorageProfile::ScannedNoAggregation => scanned(false, true),
            StorageProfile::ScanFoldersOnly => scanned(true, false),
            StorageProfile::AclTemplate => json!({ "acl_template_id": template }),
            StorageProfile::AccessGroup => json!({ "access_group_id": group }),
            StorageProfile::Tenant => {
                let mut s = scanned(true, false);
                s["acl_template_id"] = json!(template);
                s["access_group_id"] = json!(group);
                s
            }
        }
    }
}

/// The second FILES storage of [`StorageProfile::AllKinds`] and its folder under the mount.
pub const SHUTTLE_NAME: &str = "Sandbox shuttle";
pub const SHUTTLE_FOLDER: &str = "shuttle";

/// The cloud storages of [`StorageProfile::AllKinds`]: (name, method, bucket or container).
pub const CLOUD_STORAGES: [(&str, &str, &str); 3] = [
    ("Sandbox GCS", "GCS", "sandbox-gcs-files"),
    ("Sandbox S3", "S3", "sandbox-s3-files"),
    ("Sandbox Azure", "AZURE", "sandbox-azure-files"),
];

impl std::str::FromStr for StorageProfile {
    type Err = ProfileError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == s.trim())
            .ok_or_else(|| ProfileError::Unknown(s.to_owned()))
    }
}

impl std::fmt::Display for StorageProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known_ones() {
        for p in StorageProfile::ALL {
            assert_eq!(p.name().parse::<StorageProfile>().unwrap(), p);
        }
        let err = "nope".parse::<StorageProfile>().unwrap_err().to_string();
        assert!(err.contains("scanned-no-aggregation"), "{err}");
    }

    #[test]
    fn tenant_profile_combines_scan_and_acl_settings() {
        let s = StorageProfile::Tenant.settings("/mnt/x/", "t1", "g1");
        assert_eq!(s["scan_directories"], json!(["/mnt/x/scanned"]));
        assert_eq!(s["allow_access_outside_scan_directories"], false);
        assert_eq!(s["acl_template_id"], "t1");
        assert_eq!(s["access_group_id"], "g1");
    }
}
