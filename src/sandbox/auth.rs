//! iconik's credential check (iconik-api.md §1, §12): every `/API/` request carries `App-ID` and
//! `Auth-Token`; anything else gets 401 `{"errors":["Token is invalid"]}`. Upload routes and
//! `/sandbox/*` need no credentials.

use axum::http::HeaderMap;

/// The credentials the sandbox accepts. `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub app_id: String,
    pub token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("app_id", &self.app_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            app_id: "sandbox-app".to_string(),
            token: "sandbox-token".to_string(),
        }
    }
}

impl Credentials {
    /// True when both headers are present and equal the configured values.
    pub fn accepts(&self, headers: &HeaderMap) -> bool {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        header("app-id") == Some(self.app_id.as_str())
            && header("auth-token") == Some(self.token.as_str())
    }
}

/// Headers whose values never reach the request log.
pub fn is_secret_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "auth-token" | "authorization" | "x-goog-signature" | "cookie"
    )
}
