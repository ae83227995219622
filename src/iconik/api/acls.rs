//! `/API/acls/v1/…`: giving a new asset its storage's permissions, the two calls iconik's own
//! storage-gateway recipe uses (iconik-api.md §14): apply an ACL template
//! (`POST acl/templates/{template_id}/{object_type}/{object_key}/` → 204) or put one group's
//! permissions (`PUT groups/{group_id}/acl/{object_type}/{object_key}/` → 200). Both are
//! idempotent (they set, not add), so a retry is harmless.

use crate::iconik::client::{Call, Client, Service};
use crate::iconik::error::Error;
use crate::iconik::models::AssetId;
use reqwest::Method;
use serde::Serialize;
use tracing::instrument;

/// ACL calls.
#[derive(Debug)]
pub struct AclsHandler<'c> {
    pub(crate) client: &'c Client,
}

#[derive(Debug, Serialize)]
struct GroupAcl<'a> {
    permissions: &'a [&'a str],
}

impl AclsHandler<'_> {
    /// Applies ACL template `template` to the asset.
    #[instrument(skip(self))]
    pub async fn apply_template_to_asset(
        &self,
        template: &str,
        asset: AssetId,
    ) -> Result<(), Error> {
        self.client
            .send_raw::<()>(
                Method::POST,
                Service::Acls,
                &format!("acl/templates/{template}/assets/{asset}"),
                &[],
                None,
                Call::Plain,
            )
            .await
            .map(|_| ())
    }

    /// Sets group `group`'s `permissions` (`read`, `write`, `delete`, `change-acl`) on the asset.
    #[instrument(skip(self))]
    pub async fn put_group_on_asset(
        &self,
        group: &str,
        asset: AssetId,
        permissions: &[&str],
    ) -> Result<(), Error> {
        self.client
            .send_raw(
                Method::PUT,
                Service::Acls,
                &format!("groups/{group}/acl/assets/{asset}"),
                &[],
                Some(&GroupAcl { permissions }),
                Call::Plain,
            )
            .await
            .map(|_| ())
    }
}
