//! The iconik HTTP client: base URL (https, or plain http on loopback only), `App-ID` /
//! `Auth-Token` headers on every iconik call, JSON in/out, error bodies kept, `RateLimit-Remaining`
//! recorded. One handler per API area hangs off it (`client.assets()`, `client.files()`, ...).
//! Uploads to signed storage URLs never go through this client (see [`super::upload`]).

use super::error::{ApiErrors, ApiFailure, Error, TransportKind, transport_kind};
use super::models::{Cursor, Page};
use super::observer::{CallObserver, CallRecord, CallTarget, RequestBody, response_id};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};
use url::Url;

/// Production host (iconik-api.md §1).
pub const APP_ICONIK_IO: &str = "https://app.iconik.io";
/// EU region host.
pub const EU_ICONIK_IO: &str = "https://eu.iconik.io";

/// A secret string (the auth token). `Debug`/`Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself — only for putting it into a header or a keyring.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// An iconik application token: App-ID (not secret) + token (secret).
#[derive(Clone, Debug)]
pub struct Credentials {
    pub app_id: String,
    pub token: Secret,
}

impl Credentials {
    pub fn new(app_id: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            app_id: app_id.into(),
            token: Secret::new(token),
        }
    }
}

/// iconik services used (URL shape `/API/<service>/v1/<path>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Assets,
    Files,
    Metadata,
    Search,
    Jobs,
    Auth,
    Acls,
}

impl Service {
    fn as_str(self) -> &'static str {
        match self {
            Self::Assets => "assets",
            Self::Files => "files",
            Self::Metadata => "metadata",
            Self::Search => "search",
            Self::Jobs => "jobs",
            Self::Auth => "auth",
            Self::Acls => "acls",
        }
    }
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Whole-request timeout for JSON calls.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    pub user_agent: String,
    /// Objects per page when walking whole lists (iconik caps at 100).
    pub list_page_size: u32,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(15),
            user_agent: concat!("card-ingest/", env!("CARGO_PKG_VERSION")).to_owned(),
            list_page_size: 100,
        }
    }
}

/// Whether a create may be retried blindly (no) — decides how a lost response is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    /// Reads, updates and deletes.
    Plain,
    /// A POST that creates an object.
    Create,
}

const NO_RATE_LIMIT: i64 = i64::MIN;

struct Inner {
    http: reqwest::Client,
    base: Url,
    credentials: Credentials,
    last_rate_limit_remaining: AtomicI64,
    list_page_size: u32,
    /// Sees every call (transcript); `None` costs nothing.
    observer: Option<Arc<dyn CallObserver>>,
}

/// The iconik client; cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base.as_str())
            .field("credentials", &self.inner.credentials)
            .finish()
    }
}

/// Checks the https rule: https anywhere; http only to 127.0.0.0/8, ::1 or localhost.
pub fn validate_base_url(raw: &str) -> Result<Url, Error> {
    let url = Url::parse(raw).map_err(|source| Error::InvalidUrl {
        url: raw.to_owned(),
        source,
    })?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
                Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
                None => false,
            };
            if !loopback {
                return Err(Error::InsecureUrl {
                    url: raw.to_owned(),
                    reason: "plain http to a non-loopback host would send the token in clear text"
                        .to_owned(),
                });
            }
        }
        other => {
            return Err(Error::InsecureUrl {
                url: raw.to_owned(),
                reason: format!("unsupported scheme {other:?}"),
            });
        }
    }
    if url.host().is_none() {
        return Err(Error::InsecureUrl {
            url: raw.to_owned(),
            reason: "no host".to_owned(),
        });
    }
    Ok(url)
}

impl Client {
    /// A client for `base_url` (e.g. [`APP_ICONIK_IO`], [`EU_ICONIK_IO`] or a sandbox URL).
    pub fn new(base_url: &str, credentials: Credentials) -> Result<Self, Error> {
        Self::with_config(base_url, credentials, ClientConfig::default())
    }

    /// Like [`Client::new`] with explicit settings.
    pub fn with_config(
        base_url: &str,
        credentials: Credentials,
        config: ClientConfig,
    ) -> Result<Self, Error> {
        let base = validate_base_url(base_url)?;
        let mut headers = HeaderMap::new();
        let app_id = HeaderValue::from_str(&credentials.app_id)
            .map_err(|_| Error::InvalidCredentials { what: "App-ID" })?;
        let mut token = HeaderValue::from_str(credentials.token.expose())
            .map_err(|_| Error::InvalidCredentials { what: "token" })?;
        // Keeps the token out of hyper's/reqwest's own debug output.
        token.set_sensitive(true);
        headers.insert("App-ID", app_id);
        headers.insert("Auth-Token", token);
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        let list_page_size = config.list_page_size.clamp(1, 100);
        let http = crate::http::client_builder()
            .default_headers(headers)
            .user_agent(config.user_agent)
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            // iconik never redirects; a redirect would re-send the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| Error::Build { source })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                credentials,
                last_rate_limit_remaining: AtomicI64::new(NO_RATE_LIMIT),
                list_page_size,
                observer: None,
            }),
        })
    }

    /// This client (same connection pool, base URL and credentials) reporting every call —
    /// each attempt, success or failure — to `observer` (see [`super::observer`]). Replaces an
    /// observer set before; the `RateLimit-Remaining` reading starts from this client's last one
    /// and is tracked separately from then on (use the observed client for the whole run).
    pub fn with_observer(&self, observer: Arc<dyn CallObserver>) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                base: inner.base.clone(),
                credentials: inner.credentials.clone(),
                last_rate_limit_remaining: AtomicI64::new(
                    inner.last_rate_limit_remaining.load(Ordering::Relaxed),
                ),
                list_page_size: inner.list_page_size,
                observer: Some(observer),
            }),
        }
    }

    /// The base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// Objects per page when walking whole lists.
    pub fn list_page_size(&self) -> u32 {
        self.inner.list_page_size
    }

    /// The last `RateLimit-Remaining` seen on any iconik response.
    pub fn rate_limit_remaining(&self) -> Option<i64> {
        match self.inner.last_rate_limit_remaining.load(Ordering::Relaxed) {
            NO_RATE_LIMIT => None,
            v => Some(v),
        }
    }

    /// Full URL of `/API/<service>/v1/<path>` with a trailing slash (always sent, §1).
    pub fn url(&self, service: Service, path: &str) -> Url {
        let mut url = self.inner.base.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        let path = path.trim_matches('/');
        let full = if path.is_empty() {
            format!("{prefix}/API/{}/v1/", service.as_str())
        } else {
            format!("{prefix}/API/{}/v1/{path}/", service.as_str())
        };
        url.set_path(&full);
        url.set_query(None);
        url
    }

    /// [`Self::url`] plus the query string.
    fn url_with_query(&self, service: Service, path: &str, query: &[(&str, String)]) -> Url {
        let mut url = self.url(service, path);
        if !query.is_empty() {
            // reqwest's `query()` needs an extra feature; the url crate does the same encoding.
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// Sends one request and returns the status and body text of a success response. The one
    /// choke point of every iconik call: the observer (if any) sees each one here.
    pub(crate) async fn send_raw<B: Serialize + ?Sized>(
        &self,
        method: Method,
        service: Service,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        call: Call,
    ) -> Result<(StatusCode, String), Error> {
        let Some(observer) = &self.inner.observer else {
            return self
                .send_unobserved(method, service, path, query, body, call)
                .await;
        };
        let url = self.url_with_query(service, path, query);
        let mut record = CallRecord::begin(CallTarget::Iconik, method.as_str(), url.to_string());
        if let Some(b) = body {
            // Serialised a second time only when observed; serde_json is deterministic, so
            // this is the text reqwest sends.
            record.body = serde_json::to_string(b).ok().map(RequestBody::Json);
            record
                .headers
                .push(("Content-Type".to_owned(), "application/json".to_owned()));
        }
        let started = Instant::now();
        let result = self
            .send_unobserved(method, service, path, query, body, call)
            .await;
        record.elapsed = started.elapsed();
        match &result {
            Ok((status, text)) => {
                record.status = Some(status.as_u16());
                record.response_id = response_id(text);
            }
            Err(e) => {
                record.status = e.status();
                record.error = Some(e.to_string());
            }
        }
        observer.on_call(&record);
        result
    }

    async fn send_unobserved<B: Serialize + ?Sized>(
        &self,
        method: Method,
        service: Service,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        call: Call,
    ) -> Result<(StatusCode, String), Error> {
        let url = self.url_with_query(service, path, query);
        let shown_path = url.path().to_owned();
        let mut req = self.inner.http.request(method.clone(), url);
        if let Some(b) = body {
            req = req.json(b);
        }
        tracing::debug!(%method, path = %shown_path, "iconik request");
        let resp = match req.send().await {
            Ok(r) => r,
            Err(source) => {
                let kind = transport_kind(&source);
                // A create that may have reached the server: the caller must look it up first.
                if call == Call::Create && kind != TransportKind::Connect {
                    return Err(Error::ResponseLost {
                        method: method.to_string(),
                        path: shown_path,
                        kind,
                        source,
                    });
                }
                return Err(Error::Transport {
                    method: method.to_string(),
                    path: shown_path,
                    kind,
                    source,
                });
            }
        };
        let status = resp.status();
        let rate_limit_remaining = header_i64(resp.headers(), "ratelimit-remaining");
        if let Some(r) = rate_limit_remaining {
            self.inner
                .last_rate_limit_remaining
                .store(r, Ordering::Relaxed);
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = match resp.text().await {
            Ok(t) => t,
            Err(source) => {
                let kind = transport_kind(&source);
                let (method, path) = (method.to_string(), shown_path);
                return Err(if call == Call::Create && status.is_success() {
                    Error::ResponseLost {
                        method,
                        path,
                        kind,
                        source,
                    }
                } else {
                    Error::Transport {
                        method,
                        path,
                        kind,
                        source,
                    }
                });
            }
        };
        if !status.is_success() {
            tracing::debug!(status = status.as_u16(), path = %shown_path, "iconik error response");
            return Err(Error::Api(Box::new(ApiFailure {
                method: method.to_string(),
                path: shown_path,
                status: status.as_u16(),
                errors: ApiErrors::parse(&text),
                body: text,
                retry_after,
                rate_limit_remaining,
            })));
        }
        Ok((status, text))
    }

    /// Sends one request and decodes a JSON success body.
    pub(crate) async fn send<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        service: Service,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        call: Call,
    ) -> Result<T, Error> {
        let (status, text) = self
            .send_raw(method.clone(), service, path, query, body, call)
            .await?;
        decode(&method, &self.url(service, path), status, &text)
    }

    /// GET and decode.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Error> {
        self.send::<T, ()>(Method::GET, service, path, query, None, Call::Plain)
            .await
    }

    /// GET, mapping 404 to `None`.
    pub(crate) async fn get_opt<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Option<T>, Error> {
        match self.get(service, path, query).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Walks a page-numbered list (`page`/`per_page`) to the end.
    pub(crate) async fn get_all_numbered<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        query: &[(&str, String)],
        per_page: u32,
    ) -> Result<Vec<T>, Error> {
        let mut all = Vec::new();
        let mut page_no = 1u32;
        loop {
            let mut q = query.to_vec();
            q.push(("page", page_no.to_string()));
            q.push(("per_page", per_page.to_string()));
            let page: Page<T> = self.get(service, path, &q).await?;
            let more = page.has_next_numbered(page_no);
            all.extend(page.objects);
            if !more || page_no >= MAX_PAGES {
                return Ok(all);
            }
            page_no += 1;
        }
    }

    /// Walks a cursor list (`per_page` + `last_id`) to the end.
    pub(crate) async fn get_all_cursor<T: DeserializeOwned + Cursor>(
        &self,
        service: Service,
        path: &str,
        query: &[(&str, String)],
        per_page: u32,
    ) -> Result<Vec<T>, Error> {
        let mut all: Vec<T> = Vec::new();
        let mut last_id: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q = query.to_vec();
            q.push(("per_page", per_page.to_string()));
            if let Some(id) = &last_id {
                q.push(("last_id", id.clone()));
            }
            let page: Page<T> = self.get(service, path, &q).await?;
            let more = page.has_next_cursor(per_page);
            let next = page.objects.last().map(Cursor::cursor_id);
            all.extend(page.objects);
            // Stop on a short page, or when the server ignores `last_id` and repeats itself.
            if !more || next.is_none() || next == last_id {
                break;
            }
            last_id = next;
        }
        Ok(all)
    }
}

/// Safety stop for list walks.
const MAX_PAGES: u32 = 10_000;

fn header_i64(h: &HeaderMap, name: &str) -> Option<i64> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn decode<T: DeserializeOwned>(
    method: &Method,
    url: &Url,
    status: StatusCode,
    text: &str,
) -> Result<T, Error> {
    // Bodiless successes (204, or iconik's empty 200/201) decode as JSON null.
    let src = if text.trim().is_empty() { "null" } else { text };
    serde_json::from_str(src).map_err(|source| Error::Decode {
        method: method.to_string(),
        path: url.path().to_owned(),
        status: status.as_u16(),
        body: text.chars().take(2000).collect(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_or_display() {
        let c = Credentials::new("app-123", "tok-SECRET-value");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("tok-SECRET-value"), "{dbg}");
        assert!(dbg.contains("app-123"));
        assert!(dbg.contains("<redacted>"));
        assert_eq!(c.token.to_string(), "<redacted>");
        let client = Client::new("https://app.iconik.io", c).unwrap();
        let dbg = format!("{client:?}");
        assert!(!dbg.contains("tok-SECRET-value"), "{dbg}");
    }

    #[test]
    fn https_rule_allows_only_loopback_http() {
        for ok in [
            "https://app.iconik.io",
            "https://eu.iconik.io/",
            "http://127.0.0.1:8080",
            "http://127.3.4.5",
            "http://[::1]:9000/",
            "http://localhost:1234",
            "http://LOCALHOST",
        ] {
            assert!(validate_base_url(ok).is_ok(), "{ok} should be accepted");
        }
        for bad in [
            "http://app.iconik.io",
            "http://192.168.1.10:8080",
            "http://10.0.0.1",
            "http://[::2]/",
            "http://localhost.example.com",
            "ftp://app.iconik.io",
        ] {
            let e = validate_base_url(bad).unwrap_err();
            assert!(matches!(e, Error::InsecureUrl { .. }), "{bad}: {e}");
            assert!(e.to_string().contains("https://"), "{e}");
        }
        assert!(matches!(
            validate_base_url("not a url"),
            Err(Error::InvalidUrl { .. })
        ));
    }

    #[test]
    fn urls_always_end_with_a_slash_and_keep_a_base_prefix() {
        let c = Client::new("https://app.iconik.io", Credentials::new("a", "t")).unwrap();
        assert_eq!(
            c.url(Service::Files, "assets/x/formats").as_str(),
            "https://app.iconik.io/API/files/v1/assets/x/formats/"
        );
        assert_eq!(
            c.url(Service::Auth, "auth/token/").as_str(),
            "https://app.iconik.io/API/auth/v1/auth/token/"
        );
        let c = Client::new("http://127.0.0.1:9/prefix/", Credentials::new("a", "t")).unwrap();
        assert_eq!(
            c.url(Service::Search, "search").as_str(),
            "http://127.0.0.1:9/prefix/API/search/v1/search/"
        );
    }
}
