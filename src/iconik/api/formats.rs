//! `/API/files/v1/assets/{asset_id}/formats/…` (iconik-api.md §6.3).

use crate::iconik::client::{Call, Client, Service};
use crate::iconik::error::Error;
use crate::iconik::models::{AssetId, Format, FormatCreate, FormatId};
use reqwest::Method;
use tracing::instrument;

/// Format calls.
#[derive(Debug)]
pub struct FormatsHandler<'c> {
    pub(crate) client: &'c Client,
}

impl FormatsHandler<'_> {
    /// `POST formats/` → 201 with server-made component ids.
    #[instrument(skip(self, body), fields(name = %body.name, components = body.components.len()))]
    pub async fn create(&self, asset: AssetId, body: &FormatCreate) -> Result<Format, Error> {
        self.client
            .send(
                Method::POST,
                Service::Files,
                &format!("assets/{asset}/formats"),
                &[],
                Some(body),
                Call::Create,
            )
            .await
    }

    /// `GET formats/{format_id}/`.
    #[instrument(skip(self))]
    pub async fn get(&self, asset: AssetId, id: FormatId) -> Result<Format, Error> {
        self.client
            .get(Service::Files, &format!("assets/{asset}/formats/{id}"), &[])
            .await
    }

    /// `GET formats/{name}/` (e.g. `ORIGINAL`) — 404 → `None` (§9 duplicate check).
    #[instrument(skip(self))]
    pub async fn get_by_name(&self, asset: AssetId, name: &str) -> Result<Option<Format>, Error> {
        self.client
            .get_opt(
                Service::Files,
                &format!("assets/{asset}/formats/{name}"),
                &[],
            )
            .await
    }

    /// `GET formats/` (all, via the `last_id` cursor).
    #[instrument(skip(self))]
    pub async fn list(&self, asset: AssetId) -> Result<Vec<Format>, Error> {
        self.client
            .get_all_cursor(
                Service::Files,
                &format!("assets/{asset}/formats"),
                &[],
                self.client.list_page_size(),
            )
            .await
    }
}
