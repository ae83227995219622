//! Network lane, after the web proxy is closed: the edit proxy (`PPRO_PROXY`, made by the same
//! encode) registered as its own format with one file set per `--edit-proxy-to` storage. A
//! FILES storage gets the MOV copied into its local mount and the path registered (CLOSED);
//! a cloud storage gets an OPEN record, the bytes through the record's `upload_url`, then
//! CLOSED with the MD5. Every object is looked up before it is made, so a retried or resumed
//! step completes what an earlier attempt left.

use super::{ClipCtx, StepFail};
use crate::checksum::{Algorithm, AlgorithmSet};
use crate::iconik::models::{
    ActiveStatus, AssetId, ComponentCreate, ComponentType, FileCreate, FileSetCreate, FileSetId,
    FileSetStatus, Format, FormatCreate, ObjectStatus, Storage, StorageMethod, VersionId,
};
use crate::ingest::step::Step;
use crate::ingest::storage_target::StorageTarget;
use crate::media::proxy::record::EditRecord;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// iconik's format name for Premiere Pro proxies.
pub const FORMAT_NAME: &str = "PPRO_PROXY";

/// Where the edit proxy sits on every storage: `Proxies/{card}/{clip}_Proxy.mov` (Premiere's
/// own proxy naming), outside the card's folder: a card registered in place stays as the
/// camera wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditPlace {
    pub directory: String,
    pub name: String,
}

impl EditPlace {
    pub fn of(card_name: &str, clip_name: &str) -> EditPlace {
        let directory = if card_name.is_empty() {
            "Proxies".to_owned()
        } else {
            format!("Proxies/{card_name}")
        };
        EditPlace {
            directory,
            name: format!("{clip_name}_Proxy.mov"),
        }
    }
}

/// The `PPRO_PROXY` format's body: one video component, one audio component when the proxy
/// has sound; the codec in its metadata.
pub fn format_body(
    edit: &EditRecord,
    version_id: Option<VersionId>,
    methods: Vec<String>,
) -> FormatCreate {
    let mut components = vec![ComponentCreate {
        name: "VIDEO".into(),
        component_type: ComponentType::Video,
        metadata: BTreeMap::new(),
    }];
    components.push(ComponentCreate {
        name: "AUDIO".into(),
        component_type: ComponentType::Audio,
        metadata: BTreeMap::new(),
    });
    FormatCreate {
        name: FORMAT_NAME.into(),
        status: Some(ActiveStatus::Active),
        version_id,
        storage_methods: methods,
        is_online: Some(true),
        metadata: vec![BTreeMap::from([("codec".to_owned(), edit.codec.clone())])],
        components,
    }
}

fn method_name(s: &Storage) -> String {
    s.method
        .as_ref()
        .map_or_else(|| "FILE".to_owned(), |m| m.to_string())
}

impl ClipCtx {
    /// Registers the edit proxy on every `--edit-proxy-to` storage; the step detail's part.
    pub(super) async fn register_edit_proxy(&self) -> Result<Option<String>, StepFail> {
        let targets = self.shared.options.edit_proxy_to.clone();
        if targets.is_empty() {
            return Ok(None);
        }
        let rec = self.rec();
        let Some(edit) = self.proxy_record()?.edit_proxy else {
            return Ok(Some(
                "no edit proxy (the proxy was not encoded here)".into(),
            ));
        };
        let web = rec
            .proxy_path
            .clone()
            .ok_or_else(|| StepFail::permanent("no proxy recorded; retry from proxy"))?;
        let mov = web.with_file_name(&edit.filename);
        let asset = self.asset()?;
        let mut storages = Vec::new();
        for t in &targets {
            let s = self
                .storage_named(Step::CloseProxy, &t.storage, "--edit-proxy-to")
                .await?;
            if s.method == Some(StorageMethod::File) && t.local_mount.is_none() {
                return Err(StepFail::permanent(format!(
                    "--edit-proxy-to {}: a FILES storage needs its local mount (STORAGE=LOCAL_MOUNT)",
                    t.storage
                )));
            }
            storages.push((t.clone(), s));
        }
        let md5 = md5_of(&mov).await?;
        let card = self
            .sc
            .clip
            .card_root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let place = EditPlace::of(&card, &self.sc.clip.name);
        let mut methods: Vec<String> = storages.iter().map(|(_, s)| method_name(s)).collect();
        methods.sort();
        methods.dedup();
        let format = self
            .edit_format(asset, format_body(&edit, rec.version_id, methods))
            .await?;
        let mut names = Vec::new();
        for (target, storage) in &storages {
            let set = self
                .edit_file_set(asset, &format, storage, &place, rec.version_id)
                .await?;
            self.edit_file(
                asset,
                &format,
                set,
                storage,
                target,
                &mov,
                &md5,
                &place,
                rec.version_id,
            )
            .await?;
            names.push(
                storage
                    .name
                    .clone()
                    .unwrap_or_else(|| storage.id.to_string()),
            );
        }
        Ok(Some(format!(
            "{FORMAT_NAME} ({}, {} bytes) on {}",
            edit.codec,
            edit.size,
            names.join(", ")
        )))
    }

    async fn edit_format(&self, asset: AssetId, body: FormatCreate) -> Result<Format, StepFail> {
        let body = &body;
        self.look_up_then_create(
            Step::CloseProxy,
            true,
            |c| async move { c.formats().get_by_name(asset, FORMAT_NAME).await },
            |c| async move { c.formats().create(asset, body).await },
        )
        .await
    }

    async fn edit_file_set(
        &self,
        asset: AssetId,
        format: &Format,
        storage: &Storage,
        place: &EditPlace,
        version_id: Option<VersionId>,
    ) -> Result<FileSetId, StepFail> {
        let body = FileSetCreate {
            format_id: format.id,
            name: place.name.clone(),
            base_dir: place.directory.clone(),
            component_ids: format.component_ids(),
            storage_id: Some(storage.id),
            status: Some(FileSetStatus::Active),
            version_id,
            is_archive: None,
            original_storage_id: None,
        };
        self.file_set_on(Step::CloseProxy, asset, &body).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn edit_file(
        &self,
        asset: AssetId,
        format: &Format,
        set: FileSetId,
        storage: &Storage,
        target: &StorageTarget,
        mov: &Path,
        md5: &str,
        place: &EditPlace,
        version_id: Option<VersionId>,
    ) -> Result<(), StepFail> {
        let client = self.shared.client.clone();
        let existing = self
            .call(Step::CloseProxy, |_| {
                let client = client.clone();
                async move { client.files().list_in_file_set(asset, set).await }
            })
            .await?
            .into_iter()
            .find(|f| {
                f.status != Some(ObjectStatus::Deleted)
                    && f.original_name.as_deref() == Some(place.name.as_str())
            });
        if existing
            .as_ref()
            .is_some_and(|f| f.status == Some(ObjectStatus::Closed))
        {
            return Ok(());
        }
        let size = std::fs::metadata(mov)
            .map_err(|e| StepFail::permanent(format!("{}: {e}", mov.display())))?
            .len();
        let mut body = FileCreate {
            name: Some(place.name.clone()),
            size: Some(size),
            checksum: Some(md5.to_owned()),
            file_set_id: Some(set),
            format_id: Some(format.id),
            storage_id: Some(storage.id),
            version_id,
            ..FileCreate::new(place.directory.clone(), place.name.clone())
        };
        if let Some(mount) = &target.local_mount {
            // FILES storage: the MOV goes where the storage has it, then the record, CLOSED.
            let dest = copy_into_mount(mov, mount, place).await?;
            let mtime = std::fs::metadata(&dest)
                .and_then(|m| m.modified())
                .ok()
                .map(chrono::DateTime::<chrono::Utc>::from);
            body.status = Some(ObjectStatus::Closed);
            body.file_date_created = mtime;
            body.file_date_modified = mtime;
            if existing.is_none() {
                let body = &body;
                self.call(Step::CloseProxy, |_| {
                    let client = client.clone();
                    async move { client.files().create(asset, body).await }
                })
                .await?;
            }
            return Ok(());
        }
        // Cloud storage: an OPEN record answers the signed URL the bytes go to.
        let file = self
            .open_record(Step::CloseProxy, asset, existing, body)
            .await?;
        self.upload_and_close(
            Step::CloseProxy,
            asset,
            &file,
            mov,
            size,
            Some(md5.to_owned()),
            |_| Ok(()),
        )
        .await?;
        Ok(())
    }
}

/// Lowercase hex MD5 of `path` (iconik's `checksum`), on a worker thread.
async fn md5_of(path: &Path) -> Result<String, StepFail> {
    let p = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let cancel = std::sync::atomic::AtomicBool::new(false);
        crate::checksum::hash_file(
            &p,
            AlgorithmSet::EMPTY.with(Algorithm::Md5),
            &cancel,
            &mut |_| {},
        )
    })
    .await
    .map_err(|e| StepFail::permanent(e.to_string()))?
    .map_err(|e| StepFail::permanent(e.to_string()))?
    .md5
    .ok_or_else(|| StepFail::permanent("no MD5 computed"))
}

/// Copies the MOV to `{mount}/{dir}/{name}` (a temp name, then a rename: a killed copy never
/// looks finished); a file already there with the same size is kept.
async fn copy_into_mount(mov: &Path, mount: &Path, place: &EditPlace) -> Result<PathBuf, StepFail> {
    let dir = mount.join(&place.directory);
    let dest = dir.join(&place.name);
    let (from, to) = (mov.to_owned(), dest.clone());
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let want = std::fs::metadata(&from)?.len();
        if std::fs::metadata(&to).is_ok_and(|m| m.len() == want) {
            return Ok(());
        }
        std::fs::create_dir_all(&dir)?;
        let mut tmp = to.as_os_str().to_owned();
        tmp.push(".part");
        let tmp = PathBuf::from(tmp);
        std::fs::copy(&from, &tmp)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &to)
    })
    .await
    .map_err(|e| StepFail::permanent(e.to_string()))?
    .map_err(|e| StepFail::permanent(format!("{}: {e}", dest.display())))?;
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_place_is_premieres_proxy_name_under_the_card() {
        assert_eq!(
            EditPlace::of("CARD_A", "0002EM"),
            EditPlace {
                directory: "Proxies/CARD_A".into(),
                name: "0002EM_Proxy.mov".into()
            }
        );
        assert_eq!(EditPlace::of("", "C").directory, "Proxies");
    }

    #[test]
    fn the_format_is_ppro_proxy_with_video_and_audio() {
        let edit = EditRecord {
            filename: "f.edit.mov".into(),
            size: 1,
            codec: "prores-proxy".into(),
        };
        let f = format_body(&edit, None, vec!["FILE".into(), "S3".into()]);
        assert_eq!(f.name, "PPRO_PROXY");
        assert_eq!(f.storage_methods, ["FILE", "S3"]);
        assert_eq!(f.components.len(), 2);
        assert_eq!(f.metadata[0]["codec"], "prores-proxy");
    }
}
