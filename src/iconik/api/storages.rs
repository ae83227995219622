//! `GET /API/files/v1/storages/…` (iconik-api.md §6.1).

use crate::iconik::client::{Client, Service};
use crate::iconik::error::Error;
use crate::iconik::models::{Page, Storage, StorageId, StoragePurpose};
use tracing::instrument;

/// Storage calls.
#[derive(Debug)]
pub struct StoragesHandler<'c> {
    pub(crate) client: &'c Client,
}

impl StoragesHandler<'_> {
    /// `GET storages/?page=&per_page=` (per_page ≤ 100).
    #[instrument(skip(self))]
    pub async fn list(&self, page: u32, per_page: u32) -> Result<Page<Storage>, Error> {
        let q = [
            ("page", page.to_string()),
            ("per_page", per_page.min(100).to_string()),
        ];
        self.client.get(Service::Files, "storages", &q).await
    }

    /// Every storage, walking all pages.
    #[instrument(skip(self))]
    pub async fn list_all(&self) -> Result<Vec<Storage>, Error> {
        self.client
            .get_all_numbered(
                Service::Files,
                "storages",
                &[],
                self.client.list_page_size(),
            )
            .await
    }

    /// `GET storages/{storage_id}/`.
    #[instrument(skip(self))]
    pub async fn get(&self, id: StorageId) -> Result<Storage, Error> {
        self.client
            .get(Service::Files, &format!("storages/{id}"), &[])
            .await
    }

    /// `GET storages/matching/{purpose}/` — 404 → `None`.
    #[instrument(skip(self))]
    pub async fn matching(&self, purpose: StoragePurpose) -> Result<Option<Storage>, Error> {
        self.client
            .get_opt(Service::Files, &format!("storages/matching/{purpose}"), &[])
            .await
    }

    /// `GET storages/{purpose}/default/` — 404 → `None`.
    #[instrument(skip(self))]
    pub async fn default_for(&self, purpose: StoragePurpose) -> Result<Option<Storage>, Error> {
        self.client
            .get_opt(Service::Files, &format!("storages/{purpose}/default"), &[])
            .await
    }
}
