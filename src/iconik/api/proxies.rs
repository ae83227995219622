//! `/API/files/v1/assets/{asset_id}/proxies/…` (iconik-api.md §6.6) and the iconik side of the S3
//! multipart flow (§8.2).

use crate::iconik::client::{Call, Client, Service};
use crate::iconik::error::Error;
use crate::iconik::models::{
    AssetId, MultipartCleanup, MultipartPartUrl, MultipartUrls, Page, Proxy, ProxyCreate, ProxyId,
    ProxyUpdate, StorageMethod,
};
use reqwest::Method;
use tracing::instrument;

/// Proxy calls.
#[derive(Debug)]
pub struct ProxiesHandler<'c> {
    pub(crate) client: &'c Client,
}

impl ProxiesHandler<'_> {
    /// `POST proxies/` → 201 with `upload_url` and `storage_method`.
    #[instrument(skip(self, body))]
    pub async fn create(&self, asset: AssetId, body: &ProxyCreate) -> Result<Proxy, Error> {
        self.client
            .send(
                Method::POST,
                Service::Files,
                &format!("assets/{asset}/proxies"),
                &[],
                Some(body),
                Call::Create,
            )
            .await
    }

    /// `POST method/{storage_method}/proxies/` → 201: iconik picks a proxy storage of that method.
    #[instrument(skip(self, body))]
    pub async fn create_on_method(
        &self,
        asset: AssetId,
        method: &StorageMethod,
        body: &ProxyCreate,
    ) -> Result<Proxy, Error> {
        self.client
            .send(
                Method::POST,
                Service::Files,
                &format!("assets/{asset}/method/{method}/proxies"),
                &[],
                Some(body),
                Call::Create,
            )
            .await
    }

    /// `GET proxies/{proxy_id}/` (a fresh `upload_url` if the old one expired).
    #[instrument(skip(self))]
    pub async fn get(&self, asset: AssetId, id: ProxyId) -> Result<Proxy, Error> {
        self.client
            .get(Service::Files, &format!("assets/{asset}/proxies/{id}"), &[])
            .await
    }

    /// `GET proxies/` (all, cursor).
    #[instrument(skip(self))]
    pub async fn list(&self, asset: AssetId) -> Result<Vec<Proxy>, Error> {
        self.client
            .get_all_cursor(
                Service::Files,
                &format!("assets/{asset}/proxies"),
                &[],
                self.client.list_page_size(),
            )
            .await
    }

    /// `PATCH proxies/{proxy_id}/` → 200; `ProxyUpdate::closed()` after the upload.
    #[instrument(skip(self, body))]
    pub async fn patch(
        &self,
        asset: AssetId,
        id: ProxyId,
        body: &ProxyUpdate,
    ) -> Result<Proxy, Error> {
        self.client
            .send(
                Method::PATCH,
                Service::Files,
                &format!("assets/{asset}/proxies/{id}"),
                &[],
                Some(body),
                Call::Plain,
            )
            .await
    }

    /// `GET proxies/{proxy_id}/multipart_url/part/?upload_id=&parts_num=N` → signed part URLs,
    /// walking iconik's pages.
    #[instrument(skip(self, upload_id))]
    pub async fn multipart_part_urls(
        &self,
        asset: AssetId,
        id: ProxyId,
        upload_id: &str,
        parts_num: u32,
    ) -> Result<Vec<MultipartPartUrl>, Error> {
        multipart_part_urls_at(
            self.client,
            &format!("assets/{asset}/proxies/{id}"),
            upload_id,
            parts_num,
        )
        .await
    }

    /// `GET proxies/{proxy_id}/multipart_url/?upload_id=&type=complete_url`.
    #[instrument(skip(self, upload_id))]
    pub async fn multipart_complete_url(
        &self,
        asset: AssetId,
        id: ProxyId,
        upload_id: &str,
    ) -> Result<MultipartUrls, Error> {
        multipart_complete_url_at(
            self.client,
            &format!("assets/{asset}/proxies/{id}"),
            upload_id,
        )
        .await
    }

    /// `POST proxies/{proxy_id}/multipart/cleanup/` `{upload_id, abort_upload}`.
    #[instrument(skip(self, body))]
    pub async fn multipart_cleanup(
        &self,
        asset: AssetId,
        id: ProxyId,
        body: &MultipartCleanup,
    ) -> Result<(), Error> {
        self.client
            .send_raw(
                Method::POST,
                Service::Files,
                &format!("assets/{asset}/proxies/{id}/multipart/cleanup"),
                &[],
                Some(body),
                Call::Plain,
            )
            .await
            .map(|_| ())
    }
}

/// `GET {record}/multipart_url/part/?upload_id=&parts_num=N` for a proxy or file record
/// (`record` = `assets/{asset}/proxies/{id}` or `…/files/{id}`), walking iconik's pages.
pub(crate) async fn multipart_part_urls_at(
    client: &Client,
    record: &str,
    upload_id: &str,
    parts_num: u32,
) -> Result<Vec<MultipartPartUrl>, Error> {
    let path = format!("{record}/multipart_url/part");
    let mut all = Vec::new();
    let mut page_no = 1u32;
    loop {
        let q = [
            ("upload_id", upload_id.to_owned()),
            ("parts_num", parts_num.to_string()),
            ("per_page", client.list_page_size().to_string()),
            ("page", page_no.to_string()),
        ];
        let page: Page<MultipartPartUrl> = client.get(Service::Files, &path, &q).await?;
        let more = page.has_next_numbered(page_no) && all.len() < parts_num as usize;
        all.extend(page.objects);
        if !more || all.len() >= parts_num as usize {
            break;
        }
        page_no += 1;
    }
    all.sort_by_key(|p| p.number);
    Ok(all)
}

/// `GET {record}/multipart_url/?upload_id=&type=complete_url` (see [`multipart_part_urls_at`]).
pub(crate) async fn multipart_complete_url_at(
    client: &Client,
    record: &str,
    upload_id: &str,
) -> Result<MultipartUrls, Error> {
    let q = [
        ("upload_id", upload_id.to_owned()),
        ("type", "complete_url".to_owned()),
    ];
    client
        .get(Service::Files, &format!("{record}/multipart_url"), &q)
        .await
}
