//! File records and duplicate lookups (iconik-api.md §6.5, §9).

use crate::iconik::client::{Call, Client, Service};
use crate::iconik::error::Error;
use crate::iconik::models::{
    AssetId, File, FileCreate, FileId, FilePatch, FileSetId, MultipartCleanup, MultipartPartUrl,
    MultipartUrls, StorageId,
};
use reqwest::Method;
use tracing::instrument;

/// File calls.
#[derive(Debug)]
pub struct FilesHandler<'c> {
    pub(crate) client: &'c Client,
}

impl FilesHandler<'_> {
    /// `POST files/` → 201.
    #[instrument(skip(self, body), fields(dir = %body.directory_path, name = %body.original_name))]
    pub async fn create(&self, asset: AssetId, body: &FileCreate) -> Result<File, Error> {
        self.client
            .send(
                Method::POST,
                Service::Files,
                &format!("assets/{asset}/files"),
                &[],
                Some(body),
                Call::Create,
            )
            .await
    }

    /// `GET files/{file_id}/`.
    #[instrument(skip(self))]
    pub async fn get(&self, asset: AssetId, id: FileId) -> Result<File, Error> {
        self.client
            .get(Service::Files, &format!("assets/{asset}/files/{id}"), &[])
            .await
    }

    /// `PATCH files/{file_id}/` → 200 (e.g. `CLOSED` after an upload).
    #[instrument(skip(self, body))]
    pub async fn patch(&self, asset: AssetId, id: FileId, body: &FilePatch) -> Result<File, Error> {
        self.client
            .send(
                Method::PATCH,
                Service::Files,
                &format!("assets/{asset}/files/{id}"),
                &[],
                Some(body),
                Call::Plain,
            )
            .await
    }

    /// `GET files/` of an asset (all, cursor).
    #[instrument(skip(self))]
    pub async fn list(&self, asset: AssetId) -> Result<Vec<File>, Error> {
        self.client
            .get_all_cursor(
                Service::Files,
                &format!("assets/{asset}/files"),
                &[],
                self.client.list_page_size(),
            )
            .await
    }

    /// `GET file_sets/{file_set_id}/files/` (all, cursor).
    #[instrument(skip(self))]
    pub async fn list_in_file_set(
        &self,
        asset: AssetId,
        file_set: FileSetId,
    ) -> Result<Vec<File>, Error> {
        self.client
            .get_all_cursor(
                Service::Files,
                &format!("assets/{asset}/file_sets/{file_set}/files"),
                &[],
                self.client.list_page_size(),
            )
            .await
    }

    /// `GET storages/{storage_id}/files/?directory_path=&name=` — file records at a path on a
    /// storage, all pages. Match on `original_name` + `size`; skip `DELETED` (§9).
    #[instrument(skip(self))]
    pub async fn in_storage(
        &self,
        storage: StorageId,
        directory_path: &str,
        name: Option<&str>,
    ) -> Result<Vec<File>, Error> {
        let mut q = vec![("directory_path", directory_path.to_owned())];
        if let Some(n) = name {
            q.push(("name", n.to_owned()));
        }
        self.client
            .get_all_numbered(
                Service::Files,
                &format!("storages/{storage}/files"),
                &q,
                100,
            )
            .await
    }

    /// `GET files/checksum/{md5}/` — 404 means none (empty list).
    #[instrument(skip(self))]
    pub async fn by_checksum(&self, md5_hex: &str) -> Result<Vec<File>, Error> {
        match self
            .client
            .get_all_cursor::<File>(
                Service::Files,
                &format!("files/checksum/{md5_hex}"),
                &[],
                self.client.list_page_size(),
            )
            .await
        {
            Ok(v) => Ok(v),
            Err(e) if e.is_not_found() => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// `GET files/{file_id}/multipart_url/part/?upload_id=&parts_num=N` → signed S3 part URLs
    /// of a multipart upload started at the record's `multipart_upload_url` (iconik-api.md §8.2).
    #[instrument(skip(self, upload_id))]
    pub async fn multipart_part_urls(
        &self,
        asset: AssetId,
        id: FileId,
        upload_id: &str,
        parts_num: u32,
    ) -> Result<Vec<MultipartPartUrl>, Error> {
        super::proxies::multipart_part_urls_at(
            self.client,
            &format!("assets/{asset}/files/{id}"),
            upload_id,
            parts_num,
        )
        .await
    }

    /// `GET files/{file_id}/multipart_url/?upload_id=&type=complete_url`.
    #[instrument(skip(self, upload_id))]
    pub async fn multipart_complete_url(
        &self,
        asset: AssetId,
        id: FileId,
        upload_id: &str,
    ) -> Result<MultipartUrls, Error> {
        super::proxies::multipart_complete_url_at(
            self.client,
            &format!("assets/{asset}/files/{id}"),
            upload_id,
        )
        .await
    }

    /// `POST files/{file_id}/multipart/cleanup/` `{upload_id, abort_upload}`
    /// (`MultipartUploadCleanupSchema`).
    #[instrument(skip(self, body))]
    pub async fn multipart_cleanup(
        &self,
        asset: AssetId,
        id: FileId,
        body: &MultipartCleanup,
    ) -> Result<(), Error> {
        self.client
            .send_raw(
                Method::POST,
                Service::Files,
                &format!("assets/{asset}/files/{id}/multipart/cleanup"),
                &[],
                Some(body),
                Call::Plain,
            )
            .await
            .map(|_| ())
    }
}
