//! [`Credentials`] (App-ID + [`AuthToken`]) with redacting `Debug`/`Display`, and the JSON form
//! stored in the keyring.

use super::{SecretsError, ServerKey};
use serde::Deserialize;
use std::fmt;

/// An iconik `Auth-Token`. Prints as `***`; the value is reachable only via
/// [`AuthToken::expose_secret`], which the HTTP client calls to build the request header.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthToken(String);

impl AuthToken {
    /// Validates `token` (see [`Credentials::new`]).
    pub fn new(token: impl Into<String>) -> Result<Self, SecretsError> {
        let token = token.into();
        check_header_value("Auth-Token", &token)?;
        Ok(AuthToken(token))
    }

    /// The token itself: only for the `Auth-Token` request header, never for logs or messages.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The two iconik request headers: `App-ID` (not secret on its own; shown so users can tell
/// tokens apart) and `Auth-Token` (secret).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    app_id: String,
    token: AuthToken,
}

impl Credentials {
    /// Both values must be non-empty, without surrounding whitespace or control characters
    /// (they are sent as HTTP header values).
    pub fn new(app_id: impl Into<String>, token: AuthToken) -> Result<Self, SecretsError> {
        let app_id = app_id.into();
        check_header_value("App-ID", &app_id)?;
        Ok(Credentials { app_id, token })
    }

    /// The App-ID check of [`Credentials::new`] on its own (so `login` can fail before it asks
    /// for the token).
    pub fn validate_app_id(app_id: &str) -> Result<(), SecretsError> {
        check_header_value("App-ID", app_id)
    }

    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    pub fn token(&self) -> &AuthToken {
        &self.token
    }

    /// The keyring secret: `{"app_id": "...", "token": "..."}`.
    pub(crate) fn to_json(&self) -> String {
        // `Value`'s Display cannot fail (unlike `to_string` on a Serialize type).
        serde_json::json!({ "app_id": self.app_id, "token": self.token.0 }).to_string()
    }

    /// Parses a keyring secret written by [`Credentials::to_json`].
    ///
    /// serde_json's messages can quote the offending value (a token), so only the error category
    /// and position are reported.
    pub(crate) fn from_json(server: &ServerKey, json: &str) -> Result<Self, SecretsError> {
        #[derive(Deserialize)]
        struct Owned {
            app_id: String,
            token: String,
        }
        let corrupt = |detail: String| SecretsError::Corrupt {
            server: server.clone(),
            detail,
        };
        let owned: Owned = serde_json::from_str(json).map_err(|e| {
            corrupt(format!(
                "not the expected JSON: {:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        let token = AuthToken::new(owned.token).map_err(|e| corrupt(e.to_string()))?;
        Credentials::new(owned.app_id, token).map_err(|e| corrupt(e.to_string()))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("app_id", &self.app_id)
            .field("token", &self.token)
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "App-ID: {}, Auth-Token: ***", self.app_id)
    }
}

/// Empty, padded or control-character values would be rejected by reqwest (or worse, change the
/// request); catching them here gives a message that names the field. The value is never quoted.
fn check_header_value(field: &'static str, value: &str) -> Result<(), SecretsError> {
    let reason = if value.is_empty() {
        "it is empty"
    } else if value.trim() != value {
        "it starts or ends with whitespace"
    } else if value.chars().any(char::is_control) {
        "it contains control characters (line breaks, tabs, ...)"
    } else if !value.is_ascii() {
        "it contains non-ASCII characters; copy it again from iconik"
    } else {
        return Ok(());
    };
    Err(SecretsError::InvalidCredential {
        field,
        reason: reason.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.s3cr3t-t0ken";

    fn creds() -> Credentials {
        Credentials::new(
            "0f6e3f4a-1111-2222-3333-444455556666",
            AuthToken::new(TOKEN).expect("valid token"),
        )
        .expect("valid credentials")
    }

    #[test]
    fn debug_and_display_redact_the_token() {
        let c = creds();
        for text in [
            format!("{c:?}"),
            format!("{c:#?}"),
            format!("{c}"),
            format!("{:?}", c.token()),
            format!("{:?}", Some(vec![c.clone()])),
        ] {
            assert!(!text.contains(TOKEN), "token leaked: {text}");
            assert!(!text.contains("s3cr3t"), "token part leaked: {text}");
        }
        assert_eq!(
            format!("{c}"),
            "App-ID: 0f6e3f4a-1111-2222-3333-444455556666, Auth-Token: ***"
        );
        assert_eq!(
            format!("{c:?}"),
            r#"Credentials { app_id: "0f6e3f4a-1111-2222-3333-444455556666", token: *** }"#
        );
        assert_eq!(c.token().expose_secret(), TOKEN);
    }

    #[test]
    fn json_round_trip() {
        let c = creds();
        let json = c.to_json();
        assert_eq!(
            json,
            format!(r#"{{"app_id":"0f6e3f4a-1111-2222-3333-444455556666","token":"{TOKEN}"}}"#)
        );
        let server = ServerKey::parse("https://app.iconik.io").expect("server");
        assert_eq!(Credentials::from_json(&server, &json).expect("parse"), c);
    }

    #[test]
    fn corrupt_json_never_quotes_the_value() {
        let server = ServerKey::parse("https://app.iconik.io").expect("server");
        for json in [
            format!(r#"{{"app_id": 5, "token": "{TOKEN}"}}"#),
            format!(r#"{{"app_id": "a", "token": {TOKEN}}}"#),
            TOKEN.to_string(),
            format!(r#"{{"app_id": "a", "token": "{TOKEN}\n"}}"#),
        ] {
            let err = Credentials::from_json(&server, &json).expect_err("corrupt");
            assert!(matches!(err, SecretsError::Corrupt { .. }), "{err:?}");
            let text = format!("{err} / {err:?}");
            assert!(!text.contains("s3cr3t"), "secret quoted: {text}");
            assert!(
                text.contains("run `card-ingest logout --server https://app.iconik.io`"),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_unusable_values_naming_the_field() {
        let cases = [
            ("", "it is empty"),
            (" abc", "whitespace"),
            ("ab\ncd", "control characters"),
            ("abc\u{e9}", "non-ASCII"),
        ];
        for (value, reason) in cases {
            match AuthToken::new(value) {
                Err(SecretsError::InvalidCredential { field, reason: r }) => {
                    assert_eq!(field, "Auth-Token");
                    assert!(r.contains(reason), "{value:?}: {r}");
                }
                other => panic!("{value:?}: {other:?}"),
            }
        }
        let token = AuthToken::new("t").expect("token");
        let err = Credentials::new("", token).expect_err("empty app id");
        assert_eq!(err.to_string(), "invalid App-ID: it is empty");
    }
}
