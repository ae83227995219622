//! Keyframe generation and listing (iconik-api.md §6.7).

use crate::iconik::client::{Call, Client, Service};
use crate::iconik::error::Error;
use crate::iconik::models::{
    AssetId, JobId, Keyframe, KeyframeRequest, ProxyId, TranscodeResponse,
};
use reqwest::Method;
use tracing::instrument;

/// Keyframe calls.
#[derive(Debug)]
pub struct KeyframesHandler<'c> {
    pub(crate) client: &'c Client,
}

impl KeyframesHandler<'_> {
    /// `POST proxies/{proxy_id}/keyframes/` with `{}` (or options) → 200 `{job_id}`. Only after
    /// the proxy is `CLOSED` (§10 pitfall 3).
    #[instrument(skip(self, body))]
    pub async fn generate_from_proxy(
        &self,
        asset: AssetId,
        proxy: ProxyId,
        body: &KeyframeRequest,
    ) -> Result<JobId, Error> {
        let r: TranscodeResponse = self
            .client
            .send(
                Method::POST,
                Service::Files,
                &format!("assets/{asset}/proxies/{proxy}/keyframes"),
                &[],
                Some(body),
                Call::Plain,
            )
            .await?;
        Ok(r.job_id)
    }

    /// `GET keyframes/` of an asset (all, cursor).
    #[instrument(skip(self))]
    pub async fn list(&self, asset: AssetId) -> Result<Vec<Keyframe>, Error> {
        self.client
            .get_all_cursor(
                Service::Files,
                &format!("assets/{asset}/keyframes"),
                &[],
                self.client.list_page_size(),
            )
            .await
    }
}
