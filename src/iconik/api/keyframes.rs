//! Keyframe generation and listing (iconik-api.md §6.7).

use crate::iconik::client::{Call, Client, Service};
use crate::iconik::error::Error;
use crate::iconik::models::{
    AssetId, FileId, JobId, Keyframe, KeyframeRequest, ProxyId, TranscodeResponse,
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

    /// `POST files/{file_id}/keyframes/` → 200 `{job_id}`: iconik's transcoder makes the proxy
    /// and keyframes from an original (single-file file sets only, iconik-api.md §10 pitfall 9).
    /// 204 (ignored by the storage's transcode-ignore pattern) is `Ok(None)`.
    #[instrument(skip(self, body))]
    pub async fn generate_from_file(
        &self,
        asset: AssetId,
        file: FileId,
        body: &KeyframeRequest,
    ) -> Result<Option<JobId>, Error> {
        let (status, text) = self
            .client
            .send_raw(
                Method::POST,
                Service::Files,
                &format!("assets/{asset}/files/{file}/keyframes"),
                &[],
                Some(body),
                Call::Plain,
            )
            .await?;
        if status.as_u16() == 204 || text.trim().is_empty() {
            return Ok(None);
        }
        let r: TranscodeResponse = serde_json::from_str(&text).map_err(|source| Error::Decode {
            method: "POST".to_owned(),
            path: format!("assets/{asset}/files/{file}/keyframes/"),
            status: status.as_u16(),
            body: text.clone(),
            source,
        })?;
        Ok(Some(r.job_id))
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
