//! Typed async iconik client and the proxy uploaders (GCS resumable, S3, Azure).
//!
//! - [`Client`]: base URL (https; plain http only on loopback), credentials ([`Credentials`] with a
//!   redacting [`Secret`]), one handler per API area (`client.assets()`, `client.files()`, ...).
//! - [`models`]: request/response structs and id newtypes.
//! - [`Error`]: keeps iconik's status + raw body + parsed `errors`; `is_retryable`, `is_auth`,
//!   `is_response_lost` classify it. [`retry::Backoff`] sizes the pauses.
//! - [`upload`]: signed-URL uploads on a separate HTTP client without iconik headers.
//!
//! ```no_run
//! use card_ingest::iconik::models::{AssetCreate, ProxyCreate, ProxyUpdate};
//! use card_ingest::iconik::upload::{self, ProxyUploadOptions, UploadConfig, UploadHttp};
//! use card_ingest::iconik::{Client, Credentials, APP_ICONIK_IO};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(APP_ICONIK_IO, Credentials::new("app-id", "token"))?;
//! client.auth().check_token().await?;
//! let asset = client.assets().create(&AssetCreate::new("A001C002"), None).await?;
//! let proxy = client.proxies().create(asset.id, &ProxyCreate::default()).await?;
//! let http = UploadHttp::new(&UploadConfig::default())?;
//! let path = std::path::Path::new("proxy.mp4");
//! upload::upload_proxy(&http, &client, asset.id, &proxy, path, &ProxyUploadOptions::default())
//!     .await?;
//! client.proxies().patch(asset.id, proxy.id, &ProxyUpdate::closed()).await?;
//! # Ok(())
//! # }
//! ```

pub mod api;
pub mod client;
pub mod error;
pub mod models;
pub mod observer;
pub mod pacer;
pub mod retry;
pub mod upload;

pub use client::{APP_ICONIK_IO, Client, ClientConfig, Credentials, EU_ICONIK_IO, Secret, Service};
pub use error::{ApiErrors, ApiFailure, Error, TransportKind};
pub use observer::{CallObserver, CallRecord};
