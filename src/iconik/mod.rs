//! Typed async iconik client and the proxy uploaders (GCS resumable, S3, Azure).
//!
//! - [`Client`]: base URL (https; plain http only on loopback), credentials ([`Credentials`] with a
//!   redacting [`Secret`]), one handler per API area (`client.assets()`, `client.files()`, ...).
//! - [`models`]: request/response structs and id newtypes.
//! - [`Error`]: keeps iconik's status + raw body + parsed `errors`; `is_retryable`, `is_auth`,
//!   `is_response_lost` classify it. [`retry::Backoff`] sizes the pauses.
//! - [`upload`]: signed-URL uploads on a separate HTTP client without iconik headers.

pub mod api;
pub mod client;
pub mod error;
pub mod models;
pub mod retry;
pub mod upload;

pub use client::{APP_ICONIK_IO, Client, ClientConfig, Credentials, EU_ICONIK_IO, Secret, Service};
pub use error::{ApiErrors, ApiFailure, Error, TransportKind};
