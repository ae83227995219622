//! A hook that sees every HTTP call the iconik client and the storage uploaders make — success,
//! API error or transport failure, each attempt of a retried call — so the ingest engine can
//! write a transcript (`--transcript`, [`crate::ingest::transcript`]) or count calls in tests.
//!
//! Register one with [`crate::iconik::Client::with_observer`] and
//! [`crate::iconik::upload::UploadHttp::with_observer`]. A [`CallRecord`] never holds the
//! `App-ID`/`Auth-Token` headers, and storage URLs have their signature parameters replaced by
//! [`REDACTED`] ([`redact_url`]).
//!
//! Labels: the engine wraps a step's future in [`labelled`] (a `tokio::task_local!`), and every
//! call made inside it carries that label in [`CallRecord::label`]. Task-locals do not cross
//! `tokio::spawn`, so the engine sets the label inside the spawned task, per step.

use chrono::{DateTime, Utc};
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// What replaces a redacted value.
pub const REDACTED: &str = "REDACTED";

/// Receives one record per HTTP request. Called on the task that made the request, after the
/// response (or failure) arrived: keep it quick and never panic.
pub trait CallObserver: Send + Sync {
    fn on_call(&self, call: &CallRecord);
}

/// Who answered the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallTarget {
    /// The iconik API (sent with `App-ID` + `Auth-Token`).
    Iconik,
    /// A signed storage URL (GCS/S3/Azure), sent without iconik headers.
    Storage,
}

/// The request body, as far as it is worth recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestBody {
    /// The exact JSON text sent to iconik (field order as sent).
    Json(String),
    /// `len` bytes of a local file from `offset` (an upload chunk/part; never read into memory).
    FileRange {
        path: PathBuf,
        offset: u64,
        len: u64,
    },
    /// A small text body (S3 CompleteMultipartUpload / Azure block list XML).
    Text(String),
}

/// One HTTP request and its outcome.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub target: CallTarget,
    /// `GET`, `POST`, ...
    pub method: String,
    /// Full URL with query; signature parameters redacted for storage URLs.
    pub url: String,
    /// Headers worth repeating (`Content-Type`, `Content-Range`, `x-goog-resumable`, ...); never
    /// the iconik credentials, never `Content-Length`.
    pub headers: Vec<(String, String)>,
    pub body: Option<RequestBody>,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// `id` of the JSON object iconik returned, if any.
    pub response_id: Option<String>,
    /// Response headers worth showing (`Range`, `Location` redacted, `ETag`).
    pub response_headers: Vec<(String, String)>,
    /// The failure (API error summary or transport problem), when the call failed.
    pub error: Option<String>,
    /// The step label set with [`labelled`], if any.
    pub label: Option<String>,
    pub started_at: DateTime<Utc>,
    pub elapsed: Duration,
}

impl CallRecord {
    /// A record for a request about to be sent (label from [`current_label`], start time now);
    /// the caller fills in the outcome. Also how `--dry-run` can describe calls it won't make.
    pub fn begin(target: CallTarget, method: &str, url: String) -> Self {
        Self {
            target,
            method: method.to_owned(),
            url,
            headers: Vec::new(),
            body: None,
            status: None,
            response_id: None,
            response_headers: Vec::new(),
            error: None,
            label: current_label(),
            started_at: Utc::now(),
            elapsed: Duration::ZERO,
        }
    }

    /// The JSON body parsed back, for callers that want a `Value`.
    pub fn json_body(&self) -> Option<serde_json::Value> {
        match &self.body {
            Some(RequestBody::Json(text)) => serde_json::from_str(text).ok(),
            _ => None,
        }
    }

    /// True when a 2xx response arrived (GCS's 308 "resume incomplete" counts as success too).
    pub fn succeeded(&self) -> bool {
        matches!(self.status, Some(200..=299 | 308)) && self.error.is_none()
    }
}

tokio::task_local! {
    static LABEL: String;
}

/// Runs `fut` with `label` attached to every call it makes (see module docs).
pub async fn labelled<F: Future>(label: impl Into<String>, fut: F) -> F::Output {
    LABEL.scope(label.into(), fut).await
}

/// The label of the current task, if one is set.
pub fn current_label() -> Option<String> {
    LABEL.try_with(Clone::clone).ok()
}

/// The `id` field of a JSON object body.
pub(crate) fn response_id(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get("id")?.as_str().map(str::to_owned)
}

/// Query keys whose values are secrets (signed-URL signatures, SAS `sig`, tokens); compared
/// case-insensitively.
const SECRET_QUERY_KEYS: &[&str] = &[
    "x-goog-signature",
    "x-amz-signature",
    "x-amz-security-token",
    "sig",
    "signature",
    "token",
    "access_token",
    "auth-token",
];

/// `url` with the values of signature/token query parameters replaced by [`REDACTED`]. Every
/// other byte is kept as it was (no re-encoding), so the URL stays recognisable.
pub fn redact_url(url: &str) -> String {
    let (head, fragment) = match url.split_once('#') {
        Some((h, f)) => (h, Some(f)),
        None => (url, None),
    };
    let Some((base, query)) = head.split_once('?') else {
        return url.to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (raw_key, _) = pair.split_once('=').unwrap_or((pair, ""));
            let key: String = url::form_urlencoded::parse(raw_key.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned())
                .unwrap_or_default();
            if SECRET_QUERY_KEYS
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&key))
            {
                format!("{raw_key}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    let mut out = format!("{base}?{}", pairs.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_redacted_and_the_rest_kept_verbatim() {
        let gcs = "https://storage.googleapis.com/b/o.mp4?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sa%40p.iam%2F20260101&X-Goog-Signature=abc123def&upload_id=XYZ";
        assert_eq!(
            redact_url(gcs),
            "https://storage.googleapis.com/b/o.mp4?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sa%40p.iam%2F20260101&X-Goog-Signature=REDACTED&upload_id=XYZ"
        );
        let s3 = "https://b.s3.amazonaws.com/k?X-Amz-Signature=ff00&x-amz-security-token=tok&partNumber=2";
        assert_eq!(
            redact_url(s3),
            "https://b.s3.amazonaws.com/k?X-Amz-Signature=REDACTED&x-amz-security-token=REDACTED&partNumber=2"
        );
        let sas = "https://a.blob.core.windows.net/c/b?sv=1&SIG=x%2By&comp=block#frag";
        assert_eq!(
            redact_url(sas),
            "https://a.blob.core.windows.net/c/b?sv=1&SIG=REDACTED&comp=block#frag"
        );
        assert_eq!(
            redact_url("https://app.iconik.io/API/assets/v1/assets/"),
            "https://app.iconik.io/API/assets/v1/assets/"
        );
    }

    #[tokio::test]
    async fn labels_are_task_local_and_nest() {
        assert_eq!(current_label(), None);
        let (outer, inner) = labelled("create asset", async {
            let outer = current_label();
            let inner = labelled("create format", async { current_label() }).await;
            (outer, inner)
        })
        .await;
        assert_eq!(outer.as_deref(), Some("create asset"));
        assert_eq!(inner.as_deref(), Some("create format"));
        assert_eq!(current_label(), None);
    }

    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<CallRecord>>);
    impl CallObserver for Recorder {
        fn on_call(&self, call: &CallRecord) {
            self.0.lock().unwrap().push(call.clone());
        }
    }

    #[tokio::test]
    async fn client_reports_calls_that_got_no_response() {
        use crate::iconik::{Client, Credentials};
        let rec = std::sync::Arc::new(Recorder::default());
        // Port 1 on loopback: nothing listens, the connect is refused at once.
        let client = Client::new("http://127.0.0.1:1", Credentials::new("app", "tok-SECRET"))
            .unwrap()
            .with_observer(rec.clone());
        let err = labelled("test connection", client.auth().check_token())
            .await
            .unwrap_err();
        let records = rec.0.lock().unwrap().clone();
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!(r.target, CallTarget::Iconik);
        assert_eq!(r.method, "GET");
        assert_eq!(r.url, "http://127.0.0.1:1/API/auth/v1/auth/token/");
        assert_eq!(r.status, None);
        assert_eq!(r.error.as_deref(), Some(err.to_string().as_str()));
        assert_eq!(r.label.as_deref(), Some("test connection"));
        assert!(r.body.is_none() && r.headers.is_empty());
        assert!(!format!("{r:?}").contains("tok-SECRET"));
    }

    #[test]
    fn response_ids_come_from_the_top_level_id() {
        assert_eq!(
            response_id(r#"{"id":"a-1","format_id":"f"}"#).as_deref(),
            Some("a-1")
        );
        assert_eq!(response_id(r#"{"objects":[{"id":"x"}]}"#), None);
        assert_eq!(response_id(""), None);
        assert_eq!(response_id(r#"{"id":7}"#), None);
    }
}
