//! `GET /API/auth/v1/auth/token/` — "test connection" (iconik-api.md §1).

use crate::iconik::client::{Call, Client, Service};
use crate::iconik::error::Error;
use reqwest::Method;
use tracing::instrument;

/// Auth calls.
#[derive(Debug)]
pub struct AuthHandler<'c> {
    pub(crate) client: &'c Client,
}

impl AuthHandler<'_> {
    /// Ok when iconik accepts the App-ID + token; a refused token is an error with `is_auth()`.
    #[instrument(skip(self))]
    pub async fn check_token(&self) -> Result<(), Error> {
        self.client
            .send_raw::<()>(
                Method::GET,
                Service::Auth,
                "auth/token",
                &[],
                None,
                Call::Plain,
            )
            .await
            .map(|_| ())
    }
}
