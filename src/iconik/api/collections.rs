//! `/API/assets/v1/collections/…` (iconik-api.md §6.9).

use crate::iconik::client::{Call, Client, Service};
use crate::iconik::error::Error;
use crate::iconik::models::{
    AssetId, Collection, CollectionContentAdd, CollectionCreate, CollectionId, CollectionItem, Page,
};
use reqwest::Method;
use tracing::instrument;

/// Collection calls.
#[derive(Debug)]
pub struct CollectionsHandler<'c> {
    pub(crate) client: &'c Client,
}

impl CollectionsHandler<'_> {
    /// `POST collections/` → 201.
    #[instrument(skip(self, body), fields(title = %body.title))]
    pub async fn create(&self, body: &CollectionCreate) -> Result<Collection, Error> {
        self.client
            .send(
                Method::POST,
                Service::Assets,
                "collections",
                &[],
                Some(body),
                Call::Create,
            )
            .await
    }

    /// `POST collections/{collection_id}/contents/` `{"object_id", "object_type":"assets"}` → 201.
    #[instrument(skip(self))]
    pub async fn add_asset(&self, collection: CollectionId, asset: AssetId) -> Result<(), Error> {
        self.client
            .send_raw(
                Method::POST,
                Service::Assets,
                &format!("collections/{collection}/contents"),
                &[],
                Some(&CollectionContentAdd::asset(asset)),
                Call::Plain,
            )
            .await
            .map(|_| ())
    }

    /// `GET collections/{collection_id}/contents/?page=&per_page=`.
    #[instrument(skip(self))]
    pub async fn contents(
        &self,
        collection: CollectionId,
        page: u32,
        per_page: u32,
    ) -> Result<Page<CollectionItem>, Error> {
        let q = [
            ("page", page.to_string()),
            ("per_page", per_page.min(100).to_string()),
        ];
        self.client
            .get(
                Service::Assets,
                &format!("collections/{collection}/contents"),
                &q,
            )
            .await
    }
}
