//! A file set and file records on another storage, shared by the cloud copy of the originals ([`super::copies`])
//! and the edit proxy ([`super::edit_proxy`]): the storage by id or name, the OPEN record a
//! cloud upload goes through (or the one a lost attempt left), the upload, then CLOSED.

use super::{ClipCtx, StepFail};
use crate::iconik::models::{
    AssetId, File, FileCreate, FilePatch, FileSetCreate, FileSetId, FileSetStatus, ObjectStatus,
    Storage,
};
use crate::iconik::upload::{self, ProxyUploadOptions, UploadOutcome};
use crate::ingest::step::Step;
use std::path::Path;

impl ClipCtx {
    /// The storage named or identified by `wanted` (the storage list, paced and retried as
    /// `step`'s calls); `flag` names the option in the error.
    pub(super) async fn storage_named(
        &self,
        step: Step,
        wanted: &str,
        flag: &str,
    ) -> Result<Storage, StepFail> {
        let client = self.shared.client.clone();
        let all = self
            .call(step, |_| {
                let client = client.clone();
                async move { client.storages().list_all().await }
            })
            .await?;
        super::find_storage(all, wanted).map_err(|e| {
            StepFail::permanent(format!(
                "{flag}: no storage {:?}; known: {}",
                e.wanted, e.known
            ))
        })
    }

    /// The file set of `body`'s format on `body`'s storage: the one there (an asset has one
    /// per format and storage), else a new one.
    pub(super) async fn file_set_on(
        &self,
        step: Step,
        asset: AssetId,
        body: &FileSetCreate,
    ) -> Result<FileSetId, StepFail> {
        let (format, storage) = (body.format_id, body.storage_id);
        let set = self
            .look_up_then_create(
                step,
                true,
                |c| async move {
                    Ok(c.file_sets().list(asset).await?.into_iter().find(|s| {
                        s.format_id == Some(format)
                            && s.storage_id == storage
                            && s.status != Some(FileSetStatus::Deleted)
                    }))
                },
                |c| async move { c.file_sets().create(asset, body).await },
            )
            .await?;
        Ok(set.id)
    }

    /// The record to upload through: `found` (left OPEN by an earlier attempt; read again
    /// when its listing carried no upload URL), else a new one from `body` (made OPEN).
    pub(super) async fn open_record(
        &self,
        step: Step,
        asset: AssetId,
        found: Option<File>,
        mut body: FileCreate,
    ) -> Result<File, StepFail> {
        let client = self.shared.client.clone();
        match found {
            Some(f) if f.upload_url.is_some() => Ok(f),
            Some(f) => {
                let id = f.id;
                self.call(step, |_| {
                    let client = client.clone();
                    async move { client.files().get(asset, id).await }
                })
                .await
            }
            None => {
                body.status = Some(ObjectStatus::Open);
                let body = &body;
                self.call(step, |_| {
                    let client = client.clone();
                    async move { client.files().create(asset, body).await }
                })
                .await
            }
        }
    }

    /// Uploads `local` through `file`'s signed URL; `check` sees what the storage reported
    /// before the record is closed with `size` and `md5` (an `Err` leaves it OPEN).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn upload_and_close(
        &self,
        step: Step,
        asset: AssetId,
        file: &File,
        local: &Path,
        size: u64,
        md5: Option<String>,
        check: impl FnOnce(&UploadOutcome) -> Result<(), StepFail>,
    ) -> Result<UploadOutcome, StepFail> {
        let opts = ProxyUploadOptions {
            gcs: upload::gcs::ResumableOptions {
                chunk_size: self.shared.options.upload_chunk_bytes,
                backoff: self.shared.options.retry.clone(),
                ..Default::default()
            },
            ..Default::default()
        };
        let done = upload::upload_file(
            &self.shared.upload,
            &self.shared.client,
            asset,
            file,
            local,
            &opts,
        )
        .await
        .map_err(|e| StepFail {
            retryable: e.is_retryable(),
            ..StepFail::permanent(e.to_string())
        })?;
        check(&done)?;
        let patch = FilePatch {
            status: Some(ObjectStatus::Closed),
            size: Some(size),
            checksum: md5,
        };
        let (patch, id, client) = (&patch, file.id, self.shared.client.clone());
        self.call(step, |_| {
            let client = client.clone();
            async move { client.files().patch(asset, id, patch).await }
        })
        .await?;
        Ok(done)
    }
}
