//! The one error type of the iconik client. API errors keep the status, the raw body text (to
//! show the operator, iconik-api.md §3) and the parsed `errors` in either of iconik's shapes.
//! Classification helpers (`is_retryable`, `is_auth`, `is_response_lost`) tell the pipeline what
//! to do; retrying itself is the pipeline's job (see [`super::retry`]).

use std::collections::BTreeMap;
use std::time::Duration;

/// iconik's `errors` member: `{"errors": ["msg", …]}` or `{"errors": {"field": "msg", …}}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ApiErrors {
    /// The body had no parsable `errors` member.
    #[default]
    None,
    /// List shape.
    List(Vec<String>),
    /// Field-map shape; values are usually strings, sometimes lists of strings.
    Fields(BTreeMap<String, serde_json::Value>),
}

impl ApiErrors {
    /// Parses a response body; anything that is not one of the two shapes gives `None`.
    pub fn parse(body: &str) -> Self {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
            return Self::None;
        };
        match v.get("errors") {
            Some(serde_json::Value::Array(items)) => Self::List(
                items
                    .iter()
                    .map(|i| match i {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
            ),
            Some(serde_json::Value::Object(map)) => {
                Self::Fields(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            _ => Self::None,
        }
    }

    /// Flat human-readable messages (`field: message` for the map shape).
    pub fn messages(&self) -> Vec<String> {
        match self {
            Self::None => Vec::new(),
            Self::List(l) => l.clone(),
            Self::Fields(m) => m
                .iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}: {s}"),
                    serde_json::Value::Array(a) => format!(
                        "{k}: {}",
                        a.iter()
                            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    other => format!("{k}: {other}"),
                })
                .collect(),
        }
    }
}

/// What went wrong below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Could not connect (nothing was sent).
    Connect,
    /// The request or response timed out.
    Timeout,
    /// The connection was reset or closed mid-exchange.
    Closed,
    /// Anything else (TLS, body stream, ...).
    Other,
}

/// A non-success answer from iconik, with everything needed to explain it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("iconik {method} {path} answered {status}: {}", summary(.errors, .body))]
pub struct ApiFailure {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// Raw response body (shown to the operator).
    pub body: String,
    pub errors: ApiErrors,
    /// `Retry-After`, if iconik ever sends it.
    pub retry_after: Option<Duration>,
    /// `RateLimit-Remaining` of this response.
    pub rate_limit_remaining: Option<i64>,
}

/// Errors of the iconik client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The base URL could not be parsed.
    #[error("invalid iconik base URL {url:?}: {source}")]
    InvalidUrl {
        url: String,
        #[source]
        source: url::ParseError,
    },
    /// The base URL is not https and not a loopback address.
    #[error(
        "refusing iconik base URL {url:?}: {reason}; use https:// (plain http is allowed only for \
         127.0.0.0/8, ::1 and localhost)"
    )]
    InsecureUrl { url: String, reason: String },
    /// The App-ID or token cannot be sent as an HTTP header.
    #[error("invalid credentials: {what} contains characters not allowed in an HTTP header")]
    InvalidCredentials { what: &'static str },
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client: {source}")]
    Build {
        #[source]
        source: reqwest::Error,
    },
    /// iconik answered with a non-success status.
    #[error(transparent)]
    Api(Box<ApiFailure>),
    /// No usable answer arrived (connect error, timeout, reset).
    #[error("iconik {method} {path}: {kind:?} error: {source}")]
    Transport {
        method: String,
        path: String,
        kind: TransportKind,
        #[source]
        source: reqwest::Error,
    },
    /// A create request was sent but its response was lost (connection closed or timed out after
    /// sending): the object MAY exist. Look it up (iconik-api.md §9) before creating it again.
    #[error(
        "iconik {method} {path}: the request was sent but the response was lost ({kind:?}); the \
         object may have been created — look it up before retrying: {source}"
    )]
    ResponseLost {
        method: String,
        path: String,
        kind: TransportKind,
        #[source]
        source: reqwest::Error,
    },
    /// A success response whose body did not match the expected model.
    #[error("iconik {method} {path} answered {status} with an unexpected body ({source}): {body}")]
    Decode {
        method: String,
        path: String,
        status: u16,
        body: String,
        #[source]
        source: serde_json::Error,
    },
}

fn summary(errors: &ApiErrors, body: &str) -> String {
    let msgs = errors.messages();
    if !msgs.is_empty() {
        return msgs.join("; ");
    }
    let trimmed = body.trim();
    if trimmed.is_empty() {
        "(empty body)".to_owned()
    } else {
        trimmed.chars().take(500).collect()
    }
}

impl Error {
    /// HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(a) => Some(a.status),
            Self::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Worth retrying after a backoff: 429, 500, 502, 503, 504, connection reset/closed, timeout,
    /// connect error, and a lost create response (after a duplicate lookup). Never 400/401/403/404.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api(a) => is_retryable_status(a.status),
            Self::Transport { kind, .. } => {
                matches!(
                    kind,
                    TransportKind::Connect | TransportKind::Timeout | TransportKind::Closed
                )
            }
            Self::ResponseLost { .. } => true,
            _ => false,
        }
    }

    /// 401: the token was refused — the pipeline must stop and say so.
    pub fn is_auth(&self) -> bool {
        self.status() == Some(401)
    }

    /// 404 from iconik.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Api(a) if a.status == 404)
    }

    /// A create whose response was lost: look the object up before creating it again.
    pub fn is_response_lost(&self) -> bool {
        matches!(self, Self::ResponseLost { .. })
    }

    /// `Retry-After` of an API error.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api(a) => a.retry_after,
            _ => None,
        }
    }

    /// `RateLimit-Remaining` of an API error.
    pub fn rate_limit_remaining(&self) -> Option<i64> {
        match self {
            Self::Api(a) => a.rate_limit_remaining,
            _ => None,
        }
    }
}

/// Statuses worth retrying (iconik-api.md §2).
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// Classifies a reqwest error that produced no response.
pub fn transport_kind(e: &reqwest::Error) -> TransportKind {
    if e.is_connect() {
        return TransportKind::Connect;
    }
    if e.is_timeout() {
        return TransportKind::Timeout;
    }
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            if matches!(
                io.kind(),
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof
            ) {
                return TransportKind::Closed;
            }
            if io.kind() == K::TimedOut {
                return TransportKind::Timeout;
            }
        }
        // hyper's "connection closed before message completed" has no io::Error inside.
        let text = s.to_string();
        if text.contains("connection closed") || text.contains("connection reset") {
            return TransportKind::Closed;
        }
        src = s.source();
    }
    if e.is_request() || e.is_body() {
        // A failed exchange on an established connection: treat as closed.
        return TransportKind::Closed;
    }
    TransportKind::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, body: &str) -> Error {
        Error::Api(Box::new(ApiFailure {
            method: "POST".into(),
            path: "/API/assets/v1/assets/".into(),
            status,
            body: body.into(),
            errors: ApiErrors::parse(body),
            retry_after: None,
            rate_limit_remaining: None,
        }))
    }

    #[test]
    fn parses_list_shaped_errors() {
        let e = ApiErrors::parse(r#"{"errors":["Token is invalid"]}"#);
        assert_eq!(e, ApiErrors::List(vec!["Token is invalid".into()]));
        assert_eq!(e.messages(), vec!["Token is invalid".to_owned()]);
    }

    #[test]
    fn parses_field_map_errors() {
        let e = ApiErrors::parse(
            r#"{"errors":{"title":"Missing data for required field.","size":["Not a valid integer.","too big"]}}"#,
        );
        assert_eq!(
            e.messages(),
            vec![
                "size: Not a valid integer.; too big".to_owned(),
                "title: Missing data for required field.".to_owned()
            ]
        );
        assert_eq!(ApiErrors::parse("<html>oops</html>"), ApiErrors::None);
        assert_eq!(ApiErrors::parse(r#"{"detail":"x"}"#), ApiErrors::None);
    }

    #[test]
    fn display_keeps_status_and_messages_or_raw_body() {
        let e = api(
            400,
            r#"{"errors":{"title":"Missing data for required field."}}"#,
        );
        assert_eq!(
            e.to_string(),
            "iconik POST /API/assets/v1/assets/ answered 400: title: Missing data for required field."
        );
        let e = api(502, "Bad Gateway\n");
        assert_eq!(
            e.to_string(),
            "iconik POST /API/assets/v1/assets/ answered 502: Bad Gateway"
        );
        let Error::Api(a) = &e else {
            panic!("not an API error: {e:?}")
        };
        assert_eq!(a.body, "Bad Gateway\n");
    }

    #[test]
    fn retry_classification_by_status() {
        for s in [429, 500, 502, 503, 504] {
            assert!(api(s, "").is_retryable(), "{s} should be retryable");
        }
        for s in [400, 401, 403, 404, 409, 422] {
            assert!(!api(s, "").is_retryable(), "{s} must not be retryable");
        }
        assert!(api(401, "").is_auth());
        assert!(!api(403, "").is_auth());
        assert!(api(404, "").is_not_found());
        assert!(!api(503, "").is_response_lost());
    }
}
