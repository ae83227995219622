//! Network lane, after the ORIGINAL's own file set: the same originals on the other storages
//! they live on. Each further offload destination under an `--offload-storage` mount becomes a
//! file set of the ORIGINAL format on that FILES storage (paths relative to its mount, CLOSED,
//! the card's MD5); each `--cloud-copy` storage gets OPEN records, the bytes through their
//! `upload_url`, the MD5 the storage reports compared with the card's, then CLOSED. Every
//! object is looked up before it is made: a retried or resumed step completes the rest.

use super::register::common_dir;
use super::{ClipCtx, StepFail};
use crate::iconik::models::{
    AssetId, FileCreate, FileSetCreate, FileSetId, FileSetStatus, ObjectStatus, Storage,
    StorageMethod,
};
use crate::ingest::record::{ClipRecord, CloudCopy, FileRecord};
use crate::ingest::step::Step;
use crate::ingest::storage_path::{PathStyle, directory_path};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// Where member `f` (registered at `primary/…`) lies on another destination `dest`: the same
/// relative path. `None` when it is not under the primary destination.
pub fn path_on(f: &FileRecord, primary: &Path, dest: &Path) -> Option<PathBuf> {
    f.registered
        .strip_prefix(primary)
        .ok()
        .map(|rel| dest.join(rel))
}

/// `(directory_path, name)` of `path` on a storage mounted at `mount`.
pub fn storage_place(path: &Path, mount: &Path) -> Option<(String, String)> {
    let dir = path.parent()?.to_string_lossy().into_owned();
    let rel = directory_path(&dir, &mount.to_string_lossy(), PathStyle::native())?;
    let name = path.file_name()?.to_string_lossy().into_owned();
    Some((rel, name))
}

/// The file dates iconik shows ("shot on"): the copy's own.
fn dates(path: &Path) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let meta = std::fs::metadata(path).ok();
    let modified = meta
        .as_ref()
        .and_then(|m| m.modified().ok())
        .map(DateTime::<Utc>::from);
    let created = meta
        .as_ref()
        .and_then(|m| m.created().ok())
        .map(DateTime::<Utc>::from)
        .or(modified);
    (created, modified)
}

/// One member to register on another storage: where it lies there, and the local file to
/// read (dates, or the bytes to upload).
struct Member<'a> {
    record: &'a FileRecord,
    directory: String,
    name: String,
    local: PathBuf,
}

impl ClipCtx {
    /// Registers the clip's originals on every other storage; one detail part per storage.
    pub(super) async fn register_copies(&self) -> Result<Vec<String>, StepFail> {
        let opts = &self.shared.options;
        let mut done = Vec::new();
        if opts.offload_storages.is_empty() && opts.cloud_copy.is_empty() {
            return Ok(done);
        }
        let rec = self.rec();
        let asset = self.asset()?;
        for target in &opts.offload_storages {
            let Some(mount) = &target.local_mount else {
                continue;
            };
            let Some(primary) = &opts.offload_to else {
                continue;
            };
            let dests = opts.offload_also.iter().filter(|d| d.starts_with(mount));
            for dest in dests {
                let storage = self
                    .storage_named(Step::CreateFiles, &target.storage, "--offload-storage")
                    .await?;
                let mut members = Vec::new();
                for f in &rec.files {
                    let local = path_on(f, primary, dest).ok_or_else(|| {
                        StepFail::permanent(format!(
                            "{} is not under the first offload destination {}",
                            f.registered.display(),
                            primary.display()
                        ))
                    })?;
                    // The offload wrote every destination in the same pass; a copy that is
                    // not there (renamed on a folder clash) is not registered as if it were.
                    let size = std::fs::metadata(&local).map(|m| m.len()).ok();
                    if size != Some(f.size_bytes) {
                        return Err(StepFail::permanent(format!(
                            "copy {} missing or of another size: not registered on {}",
                            local.display(),
                            target.storage
                        )));
                    }
                    let (directory, name) = storage_place(&local, mount).ok_or_else(|| {
                        StepFail::permanent(format!(
                            "{} is not under {}",
                            local.display(),
                            mount.display()
                        ))
                    })?;
                    members.push(Member {
                        record: f,
                        directory,
                        name,
                        local,
                    });
                }
                self.copy_file_set(asset, &rec, &storage, &members, false)
                    .await?;
                done.push(format!(
                    "ORIGINAL also on {} ({} files at {})",
                    label(&storage),
                    members.len(),
                    dest.display()
                ));
            }
        }
        for wanted in &opts.cloud_copy {
            let storage = self
                .storage_named(Step::CreateFiles, wanted, "--cloud-copy")
                .await?;
            if matches!(storage.method, Some(StorageMethod::File) | None) {
                return Err(StepFail::permanent(format!(
                    "--cloud-copy {wanted}: not a cloud storage (GCS, S3 or Azure)"
                )));
            }
            let members: Vec<Member> = rec
                .files
                .iter()
                .map(|f| Member {
                    record: f,
                    directory: f.directory_path.clone(),
                    name: f.name.clone(),
                    local: f.registered.clone(),
                })
                .collect();
            let verified = self
                .copy_file_set(asset, &rec, &storage, &members, true)
                .await?;
            let copy = CloudCopy {
                storage: label(&storage),
                files: members.len(),
                verified,
            };
            self.save(|r| {
                r.cloud_copies.retain(|c| c.storage != copy.storage);
                r.cloud_copies.push(copy.clone());
            })
            .await?;
            done.push(format!(
                "cloud copy on {} ({} files, MD5 {})",
                copy.storage,
                copy.files,
                if verified { "matched" } else { "not reported" }
            ));
        }
        Ok(done)
    }

    /// The ORIGINAL's file set on `storage` with every member; for a cloud storage the bytes
    /// are uploaded and each MD5 compared. Returns whether every MD5 was reported and matched.
    async fn copy_file_set(
        &self,
        asset: AssetId,
        rec: &ClipRecord,
        storage: &Storage,
        members: &[Member<'_>],
        upload: bool,
    ) -> Result<bool, StepFail> {
        let format = rec.format_id.ok_or_else(|| {
            StepFail::permanent("no format id recorded; retry from create_format")
        })?;
        let main = members
            .first()
            .ok_or_else(|| StepFail::permanent("clip has no files"))?;
        let body = FileSetCreate {
            format_id: format,
            name: main.name.clone(),
            base_dir: common_dir(members.iter().map(|m| m.directory.as_str())),
            component_ids: rec.component_ids.clone(),
            storage_id: Some(storage.id),
            status: Some(FileSetStatus::Active),
            version_id: rec.version_id,
            is_archive: None,
            original_storage_id: None,
        };
        let set = self.file_set_on(Step::CreateFiles, asset, &body).await?;
        let client = self.shared.client.clone();
        let existing = self
            .call(Step::CreateFiles, |_| {
                let client = client.clone();
                async move { client.files().list_in_file_set(asset, set).await }
            })
            .await?;
        let mut verified = true;
        for m in members {
            let found = existing.iter().find(|f| {
                f.status != Some(ObjectStatus::Deleted)
                    && f.directory_path.as_deref() == Some(m.directory.as_str())
                    && f.original_name.as_deref() == Some(m.name.as_str())
            });
            // Closed only after its MD5 matched (cloud) or as a verified offload copy.
            if found.is_some_and(|f| f.status == Some(ObjectStatus::Closed)) {
                continue;
            }
            if upload {
                verified &= self
                    .upload_member(asset, rec, set, storage, m, found.cloned())
                    .await?;
            } else if found.is_none() {
                let (created, modified) = dates(&m.local);
                let body = FileCreate {
                    name: Some(m.name.clone()),
                    size: Some(m.record.size_bytes),
                    checksum: m.record.md5.clone(),
                    file_date_created: created,
                    file_date_modified: modified,
                    file_set_id: Some(set),
                    format_id: Some(format),
                    storage_id: Some(storage.id),
                    status: Some(ObjectStatus::Closed),
                    version_id: rec.version_id,
                    ..FileCreate::new(m.directory.clone(), m.name.clone())
                };
                let body = &body;
                self.call(Step::CreateFiles, |_| {
                    let client = client.clone();
                    async move { client.files().create(asset, body).await }
                })
                .await?;
            }
        }
        Ok(verified)
    }

    /// One member to a cloud storage: an OPEN record (or the one a lost attempt left), the
    /// upload, the storage's MD5 against the card's, CLOSED. `Ok(false)`: the storage reported
    /// no MD5 (closed, but not evidence).
    async fn upload_member(
        &self,
        asset: AssetId,
        rec: &ClipRecord,
        set: FileSetId,
        storage: &Storage,
        m: &Member<'_>,
        found: Option<crate::iconik::models::File>,
    ) -> Result<bool, StepFail> {
        let (created, modified) = dates(&m.local);
        let body = FileCreate {
            name: Some(m.name.clone()),
            size: Some(m.record.size_bytes),
            file_date_created: created,
            file_date_modified: modified,
            file_set_id: Some(set),
            format_id: rec.format_id,
            storage_id: Some(storage.id),
            version_id: rec.version_id,
            ..FileCreate::new(m.directory.clone(), m.name.clone())
        };
        let file = self
            .open_record(Step::CreateFiles, asset, found, body)
            .await?;
        let card = m.record.md5.clone();
        let mut matched = false;
        self.upload_and_close(
            Step::CreateFiles,
            asset,
            &file,
            &m.local,
            m.record.size_bytes,
            card.clone(),
            |done| match (done.reported_md5.as_deref(), card.as_deref()) {
                (Some(got), Some(want)) if got == want => {
                    matched = true;
                    Ok(())
                }
                (Some(got), want) => Err(StepFail::permanent(format!(
                    "{} on {}: the storage reports MD5 {got}, the card's is {}",
                    m.name,
                    label(storage),
                    want.unwrap_or("unknown")
                ))),
                // An S3 multipart upload: every part's MD5 as S3 reported it (its ETag) was
                // the MD5 of the local copy's bytes, whose whole MD5 is the card's.
                (None, Some(_)) if done.parts_verified => {
                    matched = true;
                    Ok(())
                }
                // Closed, but no evidence: the storage said nothing to compare.
                (None, _) => Ok(()),
            },
        )
        .await?;
        Ok(matched)
    }
}

fn label(s: &Storage) -> String {
    s.name.clone().unwrap_or_else(|| s.id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_lies_at_the_same_relative_path_on_every_destination() {
        let f = FileRecord {
            registered: PathBuf::from("/raid/2026/CARD_A/CONTENTS/VIDEO/0001AB.MXF"),
            ..FileRecord::default()
        };
        let on = path_on(&f, Path::new("/raid"), Path::new("/mnt/shuttle/ingest")).unwrap();
        assert_eq!(
            on,
            PathBuf::from("/mnt/shuttle/ingest/2026/CARD_A/CONTENTS/VIDEO/0001AB.MXF")
        );
        assert_eq!(path_on(&f, Path::new("/other"), Path::new("/x")), None);
        assert_eq!(
            storage_place(&on, Path::new("/mnt/shuttle")),
            Some((
                "ingest/2026/CARD_A/CONTENTS/VIDEO".to_owned(),
                "0001AB.MXF".to_owned()
            ))
        );
        assert_eq!(storage_place(&on, Path::new("/elsewhere")), None);
    }
}
