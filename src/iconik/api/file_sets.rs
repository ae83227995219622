//! `/API/files/v1/assets/{asset_id}/file_sets/…` (iconik-api.md §6.4). No delete on purpose:
//! deleting a file set deletes the files on storage (§10 pitfall 1).

use crate::iconik::client::{Call, Client, Service};
use crate::iconik::error::Error;
use crate::iconik::models::{AssetId, FileSet, FileSetCreate, FileSetId};
use reqwest::Method;
use tracing::instrument;

/// File set calls.
#[derive(Debug)]
pub struct FileSetsHandler<'c> {
    pub(crate) client: &'c Client,
}

impl FileSetsHandler<'_> {
    /// `POST file_sets/` → 201.
    #[instrument(skip(self, body), fields(name = %body.name, base_dir = %body.base_dir))]
    pub async fn create(&self, asset: AssetId, body: &FileSetCreate) -> Result<FileSet, Error> {
        self.client
            .send(
                Method::POST,
                Service::Files,
                &format!("assets/{asset}/file_sets"),
                &[],
                Some(body),
                Call::Create,
            )
            .await
    }

    /// `GET file_sets/{file_set_id}/`.
    #[instrument(skip(self))]
    pub async fn get(&self, asset: AssetId, id: FileSetId) -> Result<FileSet, Error> {
        self.client
            .get(
                Service::Files,
                &format!("assets/{asset}/file_sets/{id}"),
                &[],
            )
            .await
    }

    /// `GET file_sets/` (all, cursor).
    #[instrument(skip(self))]
    pub async fn list(&self, asset: AssetId) -> Result<Vec<FileSet>, Error> {
        self.client
            .get_all_cursor(
                Service::Files,
                &format!("assets/{asset}/file_sets"),
                &[],
                self.client.list_page_size(),
            )
            .await
    }
}
