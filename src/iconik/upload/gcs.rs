//! GCS resumable upload through a signed XML-API URL (gcs-resumable.md §1–2, iconik-api.md §8.1).
//!
//! Start (`POST x-goog-resumable: start` → `Location`), then `PUT` chunks of k × 256 KiB with
//! `Content-Range: bytes a-b/T`; 308 + `Range` = persisted so far (no `Range` = 0 bytes). Always
//! continue from the server-confirmed offset, never from what was written to the socket. On
//! 5xx/408/429/IO errors: back off, status query (`bytes */T`), continue. On 404/410: the session is
//! gone — new session, restart at 0. Other 4xx: stop.

use super::{
    ProgressFn, UploadError, UploadHttp, UploadProgress, body_text, file_body, file_range,
    file_size,
};
use crate::iconik::retry::{Backoff, RetryHint};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, HeaderMap, LOCATION, RANGE};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tracing::instrument;

/// GCS's chunk granule: every non-final chunk must be a multiple of this.
pub const CHUNK_GRANULE: u64 = 256 * 1024;

/// Settings of the resumable uploader.
#[derive(Debug, Clone)]
pub struct ResumableOptions {
    /// Bytes per chunk; a non-zero multiple of 256 KiB (default 8 MiB).
    pub chunk_size: u64,
    /// Pauses between failed attempts (its `max_retries` bounds consecutive failures).
    pub backoff: Backoff,
    /// How often a vanished session (404/410) may be restarted from byte 0.
    pub max_restarts: u32,
}

impl Default for ResumableOptions {
    fn default() -> Self {
        Self {
            chunk_size: 8 * 1024 * 1024,
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(30)),
            max_restarts: 3,
        }
    }
}

/// Where a session stands (answer to a status query or a chunk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// 308: this many bytes are persisted.
    Incomplete { persisted: u64 },
    /// 200/201: the object is complete.
    Complete,
}

/// A finished upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    pub session_url: String,
    pub total: u64,
    pub restarts: u32,
    /// The object's MD5 as the storage reports it (`x-goog-hash: md5=…`), lowercase hex.
    pub md5: Option<String>,
}

/// `Content-Range` of a chunk `first..=last` of `total` bytes.
pub fn content_range(first: u64, last: u64, total: u64) -> String {
    format!("bytes {first}-{last}/{total}")
}

/// `Content-Range` of a status query (or of finalising an object of `total` bytes).
pub fn status_query_range(total: u64) -> String {
    format!("bytes */{total}")
}

/// The next chunk after `offset`: `(first, last)` inclusive, or `None` when nothing is left.
/// Non-final chunks are `chunk_size` long (a 256 KiB multiple), the last one takes the rest.
pub fn next_chunk(offset: u64, chunk_size: u64, total: u64) -> Option<(u64, u64)> {
    if offset >= total {
        return None;
    }
    let end = offset.saturating_add(chunk_size).min(total);
    Some((offset, end - 1))
}

/// Persisted byte count from a 308's `Range: bytes=0-N` (N+1); absent → 0.
pub fn persisted_from_range(range: Option<&str>) -> Result<u64, String> {
    let Some(r) = range else { return Ok(0) };
    let rest = r
        .trim()
        .strip_prefix("bytes=")
        .ok_or_else(|| format!("unexpected Range header {r:?}"))?;
    let (start, end) = rest
        .split_once('-')
        .ok_or_else(|| format!("unexpected Range header {r:?}"))?;
    if start.trim() != "0" {
        return Err(format!("Range {r:?} does not start at 0"));
    }
    let end: u64 = end
        .trim()
        .parse()
        .map_err(|_| format!("unexpected Range header {r:?}"))?;
    Ok(end + 1)
}

/// Validates a chunk size.
pub fn validate_chunk_size(chunk_size: u64) -> Result<(), UploadError> {
    if chunk_size == 0 || !chunk_size.is_multiple_of(CHUNK_GRANULE) {
        return Err(UploadError::Config(format!(
            "chunk size {chunk_size} must be a non-zero multiple of 256 KiB ({CHUNK_GRANULE} bytes)"
        )));
    }
    Ok(())
}

/// What to do after one exchange with the session.
enum Step {
    Status(SessionStatus),
    /// 404/410: start a new session.
    SessionGone(u16),
    /// 5xx/408/429 or transport trouble: back off, query, continue.
    Retry {
        last: String,
        hint: RetryHint,
    },
}

/// The resumable uploader. One instance per upload or per process — state lives in the session URL.
#[derive(Debug, Clone)]
pub struct ResumableUploader {
    http: UploadHttp,
    opts: ResumableOptions,
    /// The MD5 the storage reported with the object's completion (a 200/201); shared by
    /// clones, so one uploader serves one upload at a time.
    reported_md5: Arc<std::sync::Mutex<Option<String>>>,
}

impl ResumableUploader {
    pub fn new(http: UploadHttp, opts: ResumableOptions) -> Result<Self, UploadError> {
        validate_chunk_size(opts.chunk_size)?;
        Ok(Self {
            http,
            opts,
            reported_md5: Arc::new(std::sync::Mutex::new(None)),
        })
    }

    /// Starts a session on the signed `upload_url`; returns the session URL (`Location`).
    #[instrument(skip_all)]
    pub async fn start(&self, upload_url: &str) -> Result<String, UploadError> {
        let resp = self
            .http
            .send(
                self.http
                    .http
                    .post(upload_url)
                    .header("x-goog-resumable", "start")
                    .header(CONTENT_LENGTH, "0")
                    .timeout(self.http.request_timeout)
                    .body(reqwest::Body::from(Vec::<u8>::new())),
                None,
            )
            .await
            .map_err(|e| UploadError::transport("session start", e))?;
        let status = resp.status();
        // XML API answers 201, JSON API 200 (gcs-resumable.md §1.1).
        if status != StatusCode::CREATED && status != StatusCode::OK {
            return Err(UploadError::Rejected {
                step: "session start",
                status: status.as_u16(),
                body: body_text(resp).await,
            });
        }
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| UploadError::Protocol {
                step: "session start",
                detail: format!("{status} without a Location header"),
            })?;
        // A relative Location is resolved against the signed URL (never seen on GCS; cheap).
        let session = match url::Url::parse(upload_url).and_then(|b| b.join(&location)) {
            Ok(u) => u.to_string(),
            Err(_) => location,
        };
        tracing::debug!("resumable session started");
        Ok(session)
    }

    /// [`Self::start`], retried with backoff on 5xx/408/429 and transport errors (a start whose
    /// answer was lost only leaves an unused session behind).
    async fn start_retrying(
        &self,
        upload_url: &str,
        backoff: &mut Backoff,
    ) -> Result<String, UploadError> {
        loop {
            let err = match self.start(upload_url).await {
                Ok(s) => return Ok(s),
                Err(e) => e,
            };
            let retryable = match &err {
                UploadError::Rejected { status, .. } => {
                    matches!(status, 408 | 429 | 500..=599)
                }
                UploadError::Transport { .. } => true,
                _ => false,
            };
            if !retryable {
                return Err(err);
            }
            let Some(delay) = backoff.next_delay(RetryHint::default()) else {
                return Err(UploadError::RetriesExhausted {
                    step: "session start",
                    attempts: backoff.attempt(),
                    last: err.to_string(),
                });
            };
            tracing::warn!(problem = %err, delay_ms = delay.as_millis() as u64, "session start retry");
            tokio::time::sleep(delay).await;
        }
    }

    /// Status query `PUT bytes */T`.
    #[instrument(skip_all, fields(total))]
    pub async fn query_status(
        &self,
        session_url: &str,
        total: u64,
    ) -> Result<SessionStatus, UploadError> {
        match self.status_step(session_url, total).await? {
            Step::Status(s) => Ok(s),
            Step::SessionGone(code) => Err(UploadError::Rejected {
                step: "status query",
                status: code,
                body: "upload session not found".to_owned(),
            }),
            Step::Retry { last, .. } => Err(UploadError::RetriesExhausted {
                step: "status query",
                attempts: 1,
                last,
            }),
        }
    }

    async fn status_step(&self, session_url: &str, total: u64) -> Result<Step, UploadError> {
        let sent = self
            .http
            .send(
                self.http
                    .http
                    .put(session_url)
                    .header(CONTENT_RANGE, status_query_range(total))
                    .header(CONTENT_LENGTH, "0")
                    .timeout(self.http.request_timeout)
                    .body(reqwest::Body::from(Vec::<u8>::new())),
                None,
            )
            .await;
        self.classify("status query", sent).await
    }

    async fn chunk_step(
        &self,
        session_url: &str,
        path: &Path,
        first: u64,
        last: u64,
        total: u64,
    ) -> Result<Step, UploadError> {
        let len = last - first + 1;
        let body = file_body(&self.http, path, first, len).await?;
        let sent = self
            .http
            .send(
                self.http
                    .http
                    .put(session_url)
                    .header(CONTENT_RANGE, content_range(first, last, total))
                    .header(CONTENT_LENGTH, len.to_string())
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .timeout(self.http.request_timeout)
                    .body(body),
                file_range(path, first, len),
            )
            .await;
        self.classify("chunk upload", sent).await
    }

    async fn classify(
        &self,
        step: &'static str,
        sent: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<Step, UploadError> {
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                return Ok(Step::Retry {
                    last: format!("{step}: {e}"),
                    hint: RetryHint::default(),
                });
            }
        };
        let status = resp.status().as_u16();
        match status {
            308 => {
                let persisted = persisted_from_range(header_str(resp.headers(), RANGE.as_str()))
                    .map_err(|detail| UploadError::Protocol { step, detail })?;
                Ok(Step::Status(SessionStatus::Incomplete { persisted }))
            }
            200 | 201 => {
                let md5 =
                    header_str(resp.headers(), "x-goog-hash").and_then(super::md5_of_goog_hash);
                *self
                    .reported_md5
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = md5;
                Ok(Step::Status(SessionStatus::Complete))
            }
            404 | 410 => Ok(Step::SessionGone(status)),
            408 | 429 | 500..=599 => {
                let hint = RetryHint {
                    retry_after: header_str(resp.headers(), "retry-after")
                        .and_then(|v| v.trim().parse().ok())
                        .map(Duration::from_secs),
                    rate_limit_remaining: None,
                };
                Ok(Step::Retry {
                    last: format!("{step}: HTTP {status}: {}", body_text(resp).await),
                    hint,
                })
            }
            _ => Err(UploadError::Rejected {
                step,
                status,
                body: body_text(resp).await,
            }),
        }
    }

    /// Uploads `path` through `upload_url`. With `resume_session` (a session URL journaled by an
    /// earlier run) it first asks the session how far it got. `on_session` gets every new session
    /// URL the moment the start POST returns; `progress` gets the server-confirmed offset.
    #[instrument(skip_all, fields(path = %path.display()))]
    pub async fn upload(
        &self,
        upload_url: &str,
        path: &Path,
        resume_session: Option<&str>,
        on_session: &mut (dyn FnMut(&str) + Send),
        progress: Option<ProgressFn>,
    ) -> Result<Completed, UploadError> {
        let total = file_size(path).await?;
        let report = |confirmed: u64| {
            if let Some(p) = &progress {
                p(UploadProgress { confirmed, total });
            }
        };
        let mut backoff = self.opts.backoff.clone();
        backoff.reset();
        let mut restarts = 0u32;
        // Highest confirmed offset: the backoff resets only on real progress, so a storage that
        // fails every chunk still runs out of retries.
        let mut confirmed_max = 0u64;

        let (mut session, mut offset) = match resume_session {
            Some(s) => (s.to_owned(), None),
            None => {
                let s = self.start_retrying(upload_url, &mut backoff).await?;
                on_session(&s);
                (s, Some(0))
            }
        };

        loop {
            // A pause holds the upload here, between chunks; it goes on from `offset`.
            self.http.unpaused().await;
            // Whether this round sends data (a 308 that confirms nothing new is then a failure).
            let sends_chunk = offset.is_some_and(|o| o < total);
            // `None` = unknown (resumed session or after a failure): ask the server.
            let step = match offset {
                None => self.status_step(&session, total).await?,
                Some(o) if o >= total => {
                    // Everything persisted but no 200 seen (or a zero-byte file): finalise.
                    self.status_step(&session, total).await?
                }
                Some(o) => match next_chunk(o, self.opts.chunk_size, total) {
                    Some((first, last)) => {
                        self.chunk_step(&session, path, first, last, total).await?
                    }
                    None => self.status_step(&session, total).await?,
                },
            };
            match step {
                Step::Status(SessionStatus::Complete) => {
                    report(total);
                    return Ok(Completed {
                        session_url: session,
                        total,
                        restarts,
                        md5: self
                            .reported_md5
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .take(),
                    });
                }
                Step::Status(SessionStatus::Incomplete { persisted }) => {
                    if persisted > total {
                        return Err(UploadError::Protocol {
                            step: "chunk upload",
                            detail: format!(
                                "storage reports {persisted} bytes persisted of a {total}-byte file"
                            ),
                        });
                    }
                    if offset == Some(persisted) && persisted >= total {
                        return Err(UploadError::Protocol {
                            step: "finalise",
                            detail: "all bytes persisted but the object is not complete".into(),
                        });
                    }
                    if persisted > confirmed_max {
                        confirmed_max = persisted;
                        backoff.reset();
                    } else if sends_chunk && offset.is_some_and(|o| persisted <= o) {
                        // A chunk went out and nothing new was persisted: don't spin on it.
                        let Some(delay) = backoff.next_delay(RetryHint::default()) else {
                            return Err(UploadError::RetriesExhausted {
                                step: "chunk upload",
                                attempts: backoff.attempt(),
                                last: format!("storage persisted nothing past byte {persisted}"),
                            });
                        };
                        tokio::time::sleep(delay).await;
                    }
                    offset = Some(persisted);
                    report(persisted);
                }
                Step::SessionGone(code) => {
                    restarts += 1;
                    if restarts > self.opts.max_restarts {
                        return Err(UploadError::RetriesExhausted {
                            step: "session restart",
                            attempts: restarts,
                            last: format!("session answered {code}"),
                        });
                    }
                    tracing::info!(
                        code,
                        restarts,
                        "upload session gone; restarting from byte 0"
                    );
                    session = self.start_retrying(upload_url, &mut backoff).await?;
                    on_session(&session);
                    offset = Some(0);
                    confirmed_max = 0;
                    report(0);
                }
                Step::Retry { last, hint } => {
                    let Some(delay) = backoff.next_delay(hint) else {
                        return Err(UploadError::RetriesExhausted {
                            step: "chunk upload",
                            attempts: backoff.attempt(),
                            last,
                        });
                    };
                    tracing::warn!(problem = %last, delay_ms = delay.as_millis() as u64, "upload retry");
                    tokio::time::sleep(delay).await;
                    offset = None;
                }
            }
        }
    }

    /// Cancels a session (`DELETE`, expect 499).
    #[instrument(skip_all)]
    pub async fn cancel(&self, session_url: &str) -> Result<(), UploadError> {
        let resp = self
            .http
            .send(
                self.http
                    .http
                    .delete(session_url)
                    .timeout(self.http.request_timeout),
                None,
            )
            .await
            .map_err(|e| UploadError::transport("cancel", e))?;
        match resp.status().as_u16() {
            499 | 200 | 204 | 404 | 410 => Ok(()),
            status => Err(UploadError::Rejected {
                step: "cancel",
                status,
                body: body_text(resp).await,
            }),
        }
    }
}

fn header_str<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name)?.to_str().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const K256: u64 = 256 * 1024;

    #[test]
    fn content_range_arithmetic() {
        assert_eq!(
            content_range(0, K256 - 1, 1_060_921),
            "bytes 0-262143/1060921"
        );
        assert_eq!(status_query_range(1_060_921), "bytes */1060921");
        // Four 256 KiB chunks + a 12,345-byte tail (gcs-resumable.md's test object).
        let total = 4 * K256 + 12_345;
        let mut offset = 0;
        let mut chunks = Vec::new();
        while let Some((a, b)) = next_chunk(offset, K256, total) {
            chunks.push((a, b));
            offset = b + 1;
        }
        assert_eq!(
            chunks,
            vec![
                (0, 262_143),
                (262_144, 524_287),
                (524_288, 786_431),
                (786_432, 1_048_575),
                (1_048_576, 1_060_920)
            ]
        );
        for (a, b) in &chunks[..4] {
            assert_eq!((b - a + 1) % K256, 0);
        }
        assert_eq!(next_chunk(total, K256, total), None);
        assert_eq!(next_chunk(0, 8 * 1024 * 1024, 100), Some((0, 99)));
        assert_eq!(next_chunk(0, K256, 0), None);
    }

    #[test]
    fn range_header_parsing() {
        assert_eq!(persisted_from_range(None), Ok(0));
        assert_eq!(persisted_from_range(Some("bytes=0-262143")), Ok(262_144));
        assert_eq!(persisted_from_range(Some("bytes=0-0")), Ok(1));
        assert!(persisted_from_range(Some("bytes=5-10")).is_err());
        assert!(persisted_from_range(Some("garbage")).is_err());
    }

    #[test]
    fn chunk_size_must_be_a_256k_multiple() {
        assert!(validate_chunk_size(K256).is_ok());
        assert!(validate_chunk_size(32 * K256).is_ok());
        assert!(validate_chunk_size(0).is_err());
        let e = validate_chunk_size(K256 + 1).unwrap_err();
        assert!(e.to_string().contains("262144"), "{e}");
    }
}
