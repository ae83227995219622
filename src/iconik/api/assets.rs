//! `/API/assets/v1/assets/…` (iconik-api.md §6.2).

use crate::iconik::client::{Call, Client, Service};
use crate::iconik::error::Error;
use crate::iconik::models::{
    Asset, AssetCreate, AssetHistory, AssetHistoryCreate, AssetId, AssetPatch, BulkSegmentsCreate,
    CollectionId, Page, Segment, SegmentCreate,
};
use reqwest::Method;
use tracing::instrument;

/// Asset calls.
#[derive(Debug)]
pub struct AssetsHandler<'c> {
    pub(crate) client: &'c Client,
}

impl AssetsHandler<'_> {
    /// `POST assets/` → 201. With `collection`, sets body `collection_id` and
    /// `?assign_to_collection=true` (SYN). A lost response is [`Error::ResponseLost`].
    #[instrument(skip(self, body), fields(title = %body.title, external_id = ?body.external_id))]
    pub async fn create(
        &self,
        body: &AssetCreate,
        collection: Option<CollectionId>,
    ) -> Result<Asset, Error> {
        let mut q = Vec::new();
        let owned;
        let body = match collection {
            Some(c) => {
                q.push(("assign_to_collection", "true".to_owned()));
                owned = AssetCreate {
                    collection_id: Some(c),
                    ..body.clone()
                };
                &owned
            }
            None => body,
        };
        self.client
            .send(
                Method::POST,
                Service::Assets,
                "assets",
                &q,
                Some(body),
                Call::Create,
            )
            .await
    }

    /// `GET assets/{asset_id}/`.
    #[instrument(skip(self))]
    pub async fn get(&self, id: AssetId) -> Result<Asset, Error> {
        self.client
            .get(Service::Assets, &format!("assets/{id}"), &[])
            .await
    }

    /// `GET assets/?page=&per_page=`.
    #[instrument(skip(self))]
    pub async fn list(&self, page: u32, per_page: u32) -> Result<Page<Asset>, Error> {
        let q = [
            ("page", page.to_string()),
            ("per_page", per_page.min(100).to_string()),
        ];
        self.client.get(Service::Assets, "assets", &q).await
    }

    /// `PATCH assets/{asset_id}/` → 200.
    #[instrument(skip(self, body))]
    pub async fn patch(&self, id: AssetId, body: &AssetPatch) -> Result<Asset, Error> {
        self.client
            .send(
                Method::PATCH,
                Service::Assets,
                &format!("assets/{id}"),
                &[],
                Some(body),
                Call::Plain,
            )
            .await
    }

    /// `DELETE assets/{asset_id}/` → 204.
    #[instrument(skip(self))]
    pub async fn delete(&self, id: AssetId) -> Result<(), Error> {
        self.client
            .send_raw::<()>(
                Method::DELETE,
                Service::Assets,
                &format!("assets/{id}"),
                &[],
                None,
                Call::Plain,
            )
            .await
            .map(|_| ())
    }

    /// `POST assets/{asset_id}/history/` → 201.
    #[instrument(skip(self, body))]
    pub async fn create_history(
        &self,
        id: AssetId,
        body: &AssetHistoryCreate,
    ) -> Result<AssetHistory, Error> {
        self.client
            .send(
                Method::POST,
                Service::Assets,
                &format!("assets/{id}/history"),
                &[],
                Some(body),
                Call::Create,
            )
            .await
    }

    /// `POST assets/{asset_id}/segments/bulk/` → 201 (iconik answers with a job's id and
    /// status, which nothing here needs). One call per clip: the marks are at most a few dozen,
    /// well under the spec's 500 per call.
    #[instrument(skip(self, segments), fields(count = segments.len()))]
    pub async fn create_segments_bulk(
        &self,
        id: AssetId,
        segments: &[SegmentCreate],
    ) -> Result<(), Error> {
        let body = BulkSegmentsCreate {
            objects: segments.to_vec(),
        };
        self.client
            .send_raw(
                Method::POST,
                Service::Assets,
                &format!("assets/{id}/segments/bulk"),
                &[],
                Some(&body),
                Call::Create,
            )
            .await
            .map(|_| ())
    }

    /// `GET assets/{asset_id}/segments/?segment_type=` (every page).
    #[instrument(skip(self))]
    pub async fn segments_of_type(
        &self,
        id: AssetId,
        segment_type: &str,
    ) -> Result<Vec<Segment>, Error> {
        let q = [("segment_type", segment_type.to_owned())];
        self.client
            .get_all_numbered(Service::Assets, &format!("assets/{id}/segments"), &q, 100)
            .await
    }
}
