//! `POST /API/search/v1/search/` (iconik-api.md §6.11). Index lag: a fresh asset may be missing.

use crate::iconik::client::{Call, Client, Service};
use crate::iconik::error::Error;
use crate::iconik::models::{Page, SearchHit, SearchRequest};
use reqwest::Method;
use tracing::instrument;

/// Search calls.
#[derive(Debug)]
pub struct SearchHandler<'c> {
    pub(crate) client: &'c Client,
}

impl SearchHandler<'_> {
    /// One page of a search (`generate_signed_url=false`, `save_search_history=false`).
    #[instrument(skip(self, body))]
    pub async fn search(
        &self,
        body: &SearchRequest,
        page: u32,
        per_page: u32,
    ) -> Result<Page<SearchHit>, Error> {
        let q = [
            ("page", page.to_string()),
            ("per_page", per_page.min(100).to_string()),
            ("generate_signed_url", "false".to_owned()),
            ("save_search_history", "false".to_owned()),
        ];
        self.client
            .send(
                Method::POST,
                Service::Search,
                "search",
                &q,
                Some(body),
                Call::Plain,
            )
            .await
    }

    /// Assets whose `external_id` equals `external_id` (first 100 hits).
    #[instrument(skip(self))]
    pub async fn assets_by_external_id(&self, external_id: &str) -> Result<Vec<SearchHit>, Error> {
        let page = self
            .search(&SearchRequest::assets_by_external_id(external_id), 1, 100)
            .await?;
        Ok(page.objects)
    }
}
