//! Uploads of proxy bytes to the signed storage URL iconik hands out (iconik-api.md §8). These
//! requests carry NO iconik headers and go through their own HTTP client ([`UploadHttp`]) with
//! redirects disabled (GCS answers 308 for "resume incomplete") and long timeouts.
//! [`upload_proxy`] picks the flow from the proxy's `storage_method`; closing the proxy
//! (`PATCH … CLOSED`) stays with the caller.

pub mod azure;
pub mod gcs;
pub mod s3;
pub mod throttle;

use super::Client;
use super::error::{Error as IconikError, TransportKind, transport_kind};
use super::models::{AssetId, Proxy, StorageMethod};
use super::observer::{CallObserver, CallRecord, CallTarget, RequestBody, redact_url};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Errors of the upload flows.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// The local file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The storage answered with a status that ends the upload.
    #[error("storage refused the {step} request with {status}: {body}")]
    Rejected {
        step: &'static str,
        status: u16,
        body: String,
    },
    /// No answer from the storage (after retries where the flow retries).
    #[error("storage {step} request failed ({kind:?}): {source}")]
    Transport {
        step: &'static str,
        kind: TransportKind,
        #[source]
        source: reqwest::Error,
    },
    /// Retries ran out on a retryable condition.
    #[error("giving up on the {step} after {attempts} attempts; last problem: {last}")]
    RetriesExhausted {
        step: &'static str,
        attempts: u32,
        last: String,
    },
    /// The storage broke the protocol (missing `Location`, unparsable `Range`, ...).
    #[error("storage protocol error during {step}: {detail}")]
    Protocol { step: &'static str, detail: String },
    /// The proxy cannot be uploaded with what iconik returned.
    #[error("proxy {proxy} cannot be uploaded: {detail}")]
    Unsupported { proxy: String, detail: String },
    /// An iconik call of the flow (S3 multipart URLs) failed.
    #[error(transparent)]
    Iconik(Box<IconikError>),
    /// A setting is out of range.
    #[error("invalid upload setting: {0}")]
    Config(String),
    /// The HTTP client could not be built.
    #[error("could not build the upload HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

impl From<IconikError> for UploadError {
    fn from(e: IconikError) -> Self {
        Self::Iconik(Box::new(e))
    }
}

impl UploadError {
    pub(crate) fn transport(step: &'static str, source: reqwest::Error) -> Self {
        Self::Transport {
            step,
            kind: transport_kind(&source),
            source,
        }
    }

    /// Whether a later attempt may succeed (the pipeline's "retry step" offer).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Rejected { status, .. } => matches!(status, 408 | 429 | 500..=599),
            Self::Transport { .. } | Self::RetriesExhausted { .. } => true,
            Self::Iconik(e) => e.is_retryable(),
            _ => false,
        }
    }
}

/// Server-confirmed progress of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadProgress {
    /// Bytes the storage confirmed as persisted.
    pub confirmed: u64,
    /// Total bytes of the file.
    pub total: u64,
}

/// Called with each new GCS session URL (journal it so a restarted app can resume).
pub type SessionFn = Arc<dyn Fn(&str) + Send + Sync>;

/// A progress callback (cheap to clone; called from the upload task).
pub type ProgressFn = Arc<dyn Fn(UploadProgress) + Send + Sync>;

/// A progress callback feeding a channel, for callers that prefer to `recv()` progress (e.g. a
/// pipeline task forwarding events to the UI). Send errors (receiver gone) are ignored on
/// purpose: progress is advisory.
pub fn progress_channel() -> (
    ProgressFn,
    tokio::sync::mpsc::UnboundedReceiver<UploadProgress>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let f: ProgressFn = Arc::new(move |p| {
        if tx.send(p).is_err() {
            tracing::trace!("upload progress receiver dropped");
        }
    });
    (f, rx)
}

/// Settings of the upload HTTP client.
#[derive(Debug, Clone)]
pub struct UploadConfig {
    pub connect_timeout: Duration,
    /// Per-request timeout (one chunk / part / status query); size it to chunk size ÷ slowest rate.
    pub request_timeout: Duration,
}

impl Default for UploadConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(600),
        }
    }
}

/// The HTTP client for signed storage URLs: no iconik headers, no redirects, long timeouts.
#[derive(Clone)]
pub struct UploadHttp {
    pub(crate) http: reqwest::Client,
    pub(crate) request_timeout: Duration,
    /// Sees every storage request (transcript); signatures redacted, bodies described.
    observer: Option<Arc<dyn CallObserver>>,
    /// The bandwidth cap shared by every clone ([`throttle`]).
    rate: Arc<throttle::UploadRate>,
    /// The operator's pause, honoured between chunks (shared by every clone).
    pause: Arc<std::sync::Mutex<crate::pause::Pause>>,
}

impl std::fmt::Debug for UploadHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadHttp")
            .field("request_timeout", &self.request_timeout)
            .field("observed", &self.observer.is_some())
            .finish()
    }
}

/// Request headers repeated in a [`CallRecord`] (the rest — `Content-Length`, `User-Agent` —
/// curl adds by itself).
const RECORDED_REQUEST_HEADERS: &[&str] = &[
    "content-type",
    "content-range",
    "x-goog-resumable",
    "x-ms-blob-type",
    "x-ms-blob-content-type",
];
/// Response headers repeated in a [`CallRecord`].
const RECORDED_RESPONSE_HEADERS: &[&str] = &["range", "location", "etag"];

impl UploadHttp {
    pub fn new(config: &UploadConfig) -> Result<Self, UploadError> {
        let http = crate::http::client_builder()
            // 308 "Resume Incomplete" must reach the uploader, not be followed.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("card-ingest/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(UploadError::Build)?;
        Ok(Self {
            http,
            request_timeout: config.request_timeout,
            observer: None,
            rate: Arc::default(),
            pause: Arc::default(),
        })
    }

    /// Uploads of this client and its clones stop at their next chunk (or part) boundary while
    /// `pause` is paused, and go on from there when it resumes.
    pub fn set_pause(&self, pause: crate::pause::Pause) {
        *self
            .pause
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = pause;
    }

    /// Returns once the uploads are not paused (at a chunk or part boundary).
    pub(crate) async fn unpaused(&self) {
        let pause = self
            .pause
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if pause.is_paused() {
            tracing::info!("upload paused at a chunk boundary");
            pause.resumed().await;
        }
    }

    /// Caps every upload of this client and its clones at `bytes_per_second` (`None`: no cap).
    pub fn set_max_rate(&self, bytes_per_second: Option<u64>) {
        self.rate.set(bytes_per_second);
    }

    /// This client reporting every storage request to `observer` (see [`super::observer`]).
    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Sends `req`, reporting it to the observer (if any) with `body` as its description.
    pub(crate) async fn send(
        &self,
        req: reqwest::RequestBuilder,
        body: Option<RequestBody>,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let Some(observer) = &self.observer else {
            return req.send().await;
        };
        let request = req.build()?;
        let mut record = CallRecord::begin(
            CallTarget::Storage,
            request.method().as_str(),
            redact_url(request.url().as_str()),
        );
        record.headers = pick_headers(request.headers(), RECORDED_REQUEST_HEADERS);
        record.body = body;
        let started = std::time::Instant::now();
        let result = self.http.execute(request).await;
        record.elapsed = started.elapsed();
        match &result {
            Ok(resp) => {
                record.status = Some(resp.status().as_u16());
                record.response_headers = pick_headers(resp.headers(), RECORDED_RESPONSE_HEADERS)
                    .into_iter()
                    .map(|(k, v)| {
                        let v = if k == "location" { redact_url(&v) } else { v };
                        (k, v)
                    })
                    .collect();
            }
            Err(e) => record.error = Some(e.to_string()),
        }
        observer.on_call(&record);
        result
    }
}

fn pick_headers(headers: &reqwest::header::HeaderMap, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .filter_map(|n| {
            let v = headers.get(*n)?.to_str().ok()?;
            Some(((*n).to_owned(), v.to_owned()))
        })
        .collect()
}

/// The observer's description of a file-range body.
pub(crate) fn file_range(path: &Path, offset: u64, len: u64) -> Option<RequestBody> {
    Some(RequestBody::FileRange {
        path: path.to_owned(),
        offset,
        len,
    })
}

/// Options for [`upload_proxy`].
#[derive(Clone, Default)]
pub struct ProxyUploadOptions {
    /// GCS resumable settings.
    pub gcs: gcs::ResumableOptions,
    /// A session URL saved by an earlier run (GCS only).
    pub resume_session: Option<String>,
    /// Called with each new GCS session URL as soon as it exists (journal it).
    pub on_session: Option<SessionFn>,
    pub progress: Option<ProgressFn>,
    /// S3: files above this use iconik's multipart flow when `multipart_upload_url` is set.
    pub s3_multipart_threshold: Option<u64>,
    /// S3 multipart part size (≥ 5 MiB).
    pub s3_part_size: Option<u64>,
    /// Azure: files above this use Put Block + Put Block List.
    pub azure_block_threshold: Option<u64>,
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOutcome {
    pub method: StorageMethod,
    pub bytes: u64,
    /// GCS: the final session URL.
    pub session_url: Option<String>,
    /// GCS: sessions restarted from byte 0 after a 404/410.
    pub restarts: u32,
    /// The object's MD5 as the storage reported it (lowercase hex): GCS `x-goog-hash`, a
    /// single-part S3 `ETag`, Azure `Content-MD5`. `None` when it said nothing usable.
    pub reported_md5: Option<String>,
    /// S3 multipart: every part's `ETag` (S3's MD5 of the part) equalled the MD5 of the local
    /// bytes sent as that part, so the object is the local file byte for byte.
    pub parts_verified: bool,
}

/// Uploads `path` as the bytes of `proxy`, by its `storage_method` (GCS resumable, S3 single PUT
/// or multipart, Azure block blob). Does not close the proxy.
pub async fn upload_proxy(
    http: &UploadHttp,
    iconik: &Client,
    asset: AssetId,
    proxy: &Proxy,
    path: &Path,
    opts: &ProxyUploadOptions,
) -> Result<UploadOutcome, UploadError> {
    let what = proxy.id.to_string();
    let (upload_url, method) = signed_target(
        proxy.upload_url.as_deref(),
        proxy.storage_method.clone(),
        &what,
    )?;
    let multipart = S3Multipart::offered(
        proxy.multipart_upload_url.as_deref(),
        iconik,
        asset,
        s3::MultipartRecord::Proxy(proxy.id),
    );
    upload_signed(http, method, upload_url, path, opts, multipart, &what).await
}

/// The signed URL and storage method a record answered, or why it cannot be uploaded.
fn signed_target<'a>(
    upload_url: Option<&'a str>,
    method: Option<StorageMethod>,
    what: &str,
) -> Result<(&'a str, StorageMethod), UploadError> {
    let unsupported = |detail: &str| UploadError::Unsupported {
        proxy: what.to_owned(),
        detail: detail.to_owned(),
    };
    let url = upload_url
        .filter(|u| !u.is_empty())
        .ok_or_else(|| unsupported("iconik returned no upload_url"))?;
    let method = method.ok_or_else(|| unsupported("iconik returned no storage_method"))?;
    Ok((url, method))
}

/// Uploads `path` as the bytes of the file record `file` of `asset` on a cloud storage (a
/// cloud copy of an original, an edit proxy): GCS resumable, S3 single PUT or — above the
/// threshold, when the record answered a `multipart_upload_url` — iconik's S3 multipart flow
/// through the file's `multipart_url` endpoints, Azure block blob, as for proxies. Does not
/// close the record.
pub async fn upload_file(
    http: &UploadHttp,
    iconik: &Client,
    asset: AssetId,
    file: &super::models::File,
    path: &Path,
    opts: &ProxyUploadOptions,
) -> Result<UploadOutcome, UploadError> {
    let what = format!("file {}", file.id);
    let method = file
        .storage_method
        .as_deref()
        .and_then(|m| serde_json::from_value(serde_json::Value::String(m.to_owned())).ok());
    let (upload_url, method) = signed_target(file.upload_url.as_deref(), method, &what)?;
    let multipart = S3Multipart::offered(
        file.multipart_upload_url.as_deref(),
        iconik,
        asset,
        s3::MultipartRecord::File(file.id),
    );
    upload_signed(http, method, upload_url, path, opts, multipart, &what).await
}

/// iconik's S3 multipart flow for a proxy or file record.
struct S3Multipart<'a> {
    iconik: &'a Client,
    asset: AssetId,
    record: s3::MultipartRecord,
    url: &'a str,
}

impl<'a> S3Multipart<'a> {
    /// The flow, when the record answered a (non-empty) `multipart_upload_url`.
    fn offered(
        url: Option<&'a str>,
        iconik: &'a Client,
        asset: AssetId,
        record: s3::MultipartRecord,
    ) -> Option<Self> {
        url.filter(|u| !u.is_empty()).map(|url| S3Multipart {
            iconik,
            asset,
            record,
            url,
        })
    }
}

/// The upload to a signed URL by storage method; `what` names the record in errors.
async fn upload_signed(
    http: &UploadHttp,
    method: StorageMethod,
    upload_url: &str,
    path: &Path,
    opts: &ProxyUploadOptions,
    multipart: Option<S3Multipart<'_>>,
    what: &str,
) -> Result<UploadOutcome, UploadError> {
    let size = file_size(path).await?;
    let progress = opts.progress.clone();
    match method {
        StorageMethod::Gcs => {
            let uploader = gcs::ResumableUploader::new(http.clone(), opts.gcs.clone())?;
            let mut on_session = |s: &str| {
                if let Some(cb) = &opts.on_session {
                    cb(s);
                }
            };
            let done = uploader
                .upload(
                    upload_url,
                    path,
                    opts.resume_session.as_deref(),
                    &mut on_session,
                    progress,
                )
                .await?;
            Ok(UploadOutcome {
                method,
                bytes: done.total,
                session_url: Some(done.session_url),
                restarts: done.restarts,
                reported_md5: done.md5,
                parts_verified: false,
            })
        }
        StorageMethod::S3 => {
            let threshold = opts
                .s3_multipart_threshold
                .unwrap_or(s3::DEFAULT_MULTIPART_THRESHOLD);
            // A multipart ETag is not an MD5 of the object: nothing reported then, but each
            // part's ETag is checked against the local bytes.
            let (reported_md5, parts_verified) = match multipart {
                Some(mp) if size > threshold => {
                    let part_size = opts.s3_part_size.unwrap_or(s3::DEFAULT_PART_SIZE);
                    let parts = s3::multipart_upload(
                        http, mp.iconik, mp.asset, mp.record, mp.url, path, part_size, progress,
                    )
                    .await?;
                    (None, parts)
                }
                _ => (
                    s3::put_single(http, upload_url, path, progress).await?,
                    false,
                ),
            };
            Ok(UploadOutcome {
                method,
                bytes: size,
                session_url: None,
                restarts: 0,
                reported_md5,
                parts_verified,
            })
        }
        StorageMethod::Azure => {
            let threshold = opts
                .azure_block_threshold
                .unwrap_or(azure::DEFAULT_BLOCK_THRESHOLD);
            let reported_md5 = if size > threshold {
                azure::put_blocks(http, upload_url, path, azure::DEFAULT_BLOCK_SIZE, progress)
                    .await?;
                None
            } else {
                azure::put_blob(http, upload_url, path, progress).await?
            };
            Ok(UploadOutcome {
                method,
                bytes: size,
                session_url: None,
                restarts: 0,
                reported_md5,
                parts_verified: false,
            })
        }
        other => Err(UploadError::Unsupported {
            proxy: what.to_owned(),
            detail: format!("storage_method {other} is not supported (GCS, S3 and AZURE are)"),
        }),
    }
}

pub(crate) async fn file_size(path: &Path) -> Result<u64, UploadError> {
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|source| UploadError::Io {
            path: path.to_owned(),
            source,
        })?;
    if !meta.is_file() {
        return Err(UploadError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"),
        });
    }
    Ok(meta.len())
}

/// Bytes per read (and per body frame) when a file is streamed into a request.
const BODY_READ_SIZE: usize = 1024 * 1024;

/// A request body streaming `len` bytes of `path` from `offset` (never the whole file in memory).
pub(crate) async fn file_body(
    http: &UploadHttp,
    path: &Path,
    offset: u64,
    len: u64,
) -> Result<reqwest::Body, UploadError> {
    use futures_util::StreamExt;
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let io_err = |source| UploadError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = tokio::fs::File::open(path).await.map_err(io_err)?;
    file.seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(io_err)?;
    // Each read of a tokio File is a trip to the blocking pool: the default 4 KiB buffer made
    // that 2 048 trips (and body frames) per 8 MiB chunk. 1 MiB reads cost 8.
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), BODY_READ_SIZE);
    if http.rate.rate().is_none() {
        return Ok(reqwest::Body::wrap_stream(stream));
    }
    // Each frame waits for its share of the cap before the connection gets it.
    let rate = Arc::clone(&http.rate);
    let capped = stream.then(move |frame| {
        let wait = match &frame {
            Ok(bytes) => rate.reserve(bytes.len() as u64, std::time::Instant::now()),
            Err(_) => Duration::ZERO,
        };
        async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            frame
        }
    });
    Ok(reqwest::Body::wrap_stream(capped))
}

/// Response body text, bounded, for error messages.
pub(crate) async fn body_text(resp: reqwest::Response) -> String {
    match resp.text().await {
        Ok(t) => t.chars().take(2000).collect(),
        Err(e) => format!("(body unreadable: {e})"),
    }
}

/// Sends the whole file as one `PUT` built by `request` (S3 single PUT, Azure Put Blob): the
/// request gets the octet-stream body, length and timeout here; the caller adds its own headers.
/// One PUT of the whole file; returns the MD5 the storage reported for it, if any.
pub(crate) async fn put_whole_file(
    http: &UploadHttp,
    request: reqwest::RequestBuilder,
    path: &Path,
    step: &'static str,
    progress: Option<ProgressFn>,
) -> Result<Option<String>, UploadError> {
    let total = file_size(path).await?;
    let resp = http
        .send(
            request
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .header(reqwest::header::CONTENT_LENGTH, total.to_string())
                .timeout(http.request_timeout)
                .body(file_body(http, path, 0, total).await?),
            file_range(path, 0, total),
        )
        .await
        .map_err(|e| UploadError::transport(step, e))?;
    if !resp.status().is_success() {
        return Err(UploadError::Rejected {
            step,
            status: resp.status().as_u16(),
            body: body_text(resp).await,
        });
    }
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok());
    let md5 = reported_md5(header("content-md5"), header("etag"));
    if let Some(p) = progress {
        p(UploadProgress {
            confirmed: total,
            total,
        });
    }
    Ok(md5)
}

/// The MD5 a single PUT's answer states: Azure's `Content-MD5` (base64), else an `ETag` that is
/// 32 hex digits (S3's single-part ETag is the object's MD5; Azure's ETags are not).
pub fn reported_md5(content_md5: Option<&str>, etag: Option<&str>) -> Option<String> {
    if let Some(hex) = content_md5.and_then(base64_to_hex) {
        return Some(hex);
    }
    let etag = etag?.trim().trim_matches('"');
    (etag.len() == 32 && etag.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| etag.to_ascii_lowercase())
}

/// `md5=<base64>` out of GCS's `x-goog-hash` (which may also list `crc32c=…`), as hex.
pub fn md5_of_goog_hash(header: &str) -> Option<String> {
    header
        .split(',')
        .find_map(|part| part.trim().strip_prefix("md5="))
        .and_then(base64_to_hex)
}

/// A base64 MD5 (16 bytes) as lowercase hex.
fn base64_to_hex(b64: &str) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    (bytes.len() == 16).then(|| crate::checksum::lower_hex(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_md5s_are_read_from_each_storage_spelling() {
        // MD5 of "hello": 5d41402abc4b2a76b9719d911017c592.
        let hex = "5d41402abc4b2a76b9719d911017c592";
        assert_eq!(
            md5_of_goog_hash("crc32c=n03x6A==,md5=XUFAKrxLKna5cZ2REBfFkg==").as_deref(),
            Some(hex)
        );
        assert_eq!(
            reported_md5(Some("XUFAKrxLKna5cZ2REBfFkg=="), Some("\"0x8D\"")).as_deref(),
            Some(hex)
        );
        assert_eq!(
            reported_md5(None, Some("\"5D41402ABC4B2A76B9719D911017C592\"")).as_deref(),
            Some(hex)
        );
        // A multipart ETag (`…-3`) or an Azure ETag is no MD5.
        assert_eq!(
            reported_md5(None, Some("\"5d41402abc4b2a76b9719d911017c592-3\"")),
            None
        );
        assert_eq!(reported_md5(None, Some("\"0x8DC1234567890AB\"")), None);
        assert_eq!(md5_of_goog_hash("crc32c=n03x6A=="), None);
    }

    #[tokio::test]
    async fn progress_channel_delivers_in_order() {
        let (f, mut rx) = progress_channel();
        f(UploadProgress {
            confirmed: 1,
            total: 3,
        });
        f(UploadProgress {
            confirmed: 3,
            total: 3,
        });
        assert_eq!(
            rx.recv().await,
            Some(UploadProgress {
                confirmed: 1,
                total: 3
            })
        );
        assert_eq!(
            rx.recv().await,
            Some(UploadProgress {
                confirmed: 3,
                total: 3
            })
        );
        drop(rx);
        // A dropped receiver must not panic the uploader.
        f(UploadProgress {
            confirmed: 3,
            total: 3,
        });
    }

    #[test]
    fn upload_error_retry_classification() {
        let rejected = |status| UploadError::Rejected {
            step: "chunk upload",
            status,
            body: String::new(),
        };
        for s in [408, 429, 500, 503] {
            assert!(rejected(s).is_retryable(), "{s}");
        }
        for s in [400, 401, 403, 404, 410] {
            assert!(!rejected(s).is_retryable(), "{s}");
        }
        assert!(!UploadError::Config("x".into()).is_retryable());
    }
}
