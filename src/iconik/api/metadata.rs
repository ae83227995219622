//! `/API/metadata/v1/…` views and values (iconik-api.md §6.10).

use crate::iconik::client::{Call, Client, Service};
use crate::iconik::error::Error;
use crate::iconik::models::{AssetId, MetadataValues, MetadataView, Page, ViewId};
use reqwest::Method;
use tracing::instrument;

/// Metadata calls.
#[derive(Debug)]
pub struct MetadataHandler<'c> {
    pub(crate) client: &'c Client,
}

impl MetadataHandler<'_> {
    /// `GET views/`.
    #[instrument(skip(self))]
    pub async fn list_views(&self) -> Result<Vec<MetadataView>, Error> {
        let page: Page<MetadataView> = self.client.get(Service::Metadata, "views", &[]).await?;
        Ok(page.objects)
    }

    /// `GET views/{view_id}/` (field names = `view_fields[].name`).
    #[instrument(skip(self))]
    pub async fn get_view(&self, id: ViewId) -> Result<MetadataView, Error> {
        self.client
            .get(Service::Metadata, &format!("views/{id}"), &[])
            .await
    }

    /// `PUT assets/{asset_id}/views/{view_id}/` → 200 with the stored values.
    #[instrument(skip(self, values))]
    pub async fn put_asset_values(
        &self,
        asset: AssetId,
        view: ViewId,
        values: &MetadataValues,
    ) -> Result<MetadataValues, Error> {
        self.client
            .send(
                Method::PUT,
                Service::Metadata,
                &format!("assets/{asset}/views/{view}"),
                &[],
                Some(values),
                Call::Plain,
            )
            .await
    }
}
