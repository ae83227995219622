//! [`EnvStore`]: credentials from `ICONIK_APP_ID` / `ICONIK_AUTH_TOKEN` (automation, CI, headless
//! machines without a keyring). Read-only; applies to whichever server the run talks to.

use super::{AuthToken, Credentials, SecretsError, ServerKey, StoreKind, TokenStore};
use std::ffi::OsString;
use std::fmt;

/// Environment variable holding the iconik App-ID.
pub const ENV_APP_ID: &str = "ICONIK_APP_ID";
/// Environment variable holding the iconik Auth-Token.
pub const ENV_AUTH_TOKEN: &str = "ICONIK_AUTH_TOKEN";

/// A snapshot of the two variables, taken once so the process environment is not re-read (and
/// tests can pass values in instead of mutating the shared environment). An empty variable counts
/// as unset.
#[derive(Clone, Default)]
pub struct EnvStore {
    app_id: Option<OsString>,
    token: Option<OsString>,
}

impl EnvStore {
    /// Reads `ICONIK_APP_ID` and `ICONIK_AUTH_TOKEN` from the process environment.
    pub fn from_process_env() -> Self {
        EnvStore::from_vars(
            std::env::var_os(ENV_APP_ID),
            std::env::var_os(ENV_AUTH_TOKEN),
        )
    }

    /// Uses the given values as if they were the two variables.
    pub fn from_vars(app_id: Option<OsString>, token: Option<OsString>) -> Self {
        let non_empty = |v: Option<OsString>| v.filter(|v| !v.is_empty());
        EnvStore {
            app_id: non_empty(app_id),
            token: non_empty(token),
        }
    }

    /// True when at least one of the variables is set (then it takes precedence over the keyring).
    pub fn is_set(&self) -> bool {
        self.app_id.is_some() || self.token.is_some()
    }

    /// `Ok(None)` when neither variable is set; an error when only one is, or a value is unusable.
    pub fn credentials(&self) -> Result<Option<Credentials>, SecretsError> {
        let (app_id, token) = match (&self.app_id, &self.token) {
            (None, None) => return Ok(None),
            (Some(_), None) => {
                return Err(SecretsError::EnvIncomplete {
                    set: ENV_APP_ID,
                    missing: ENV_AUTH_TOKEN,
                });
            }
            (None, Some(_)) => {
                return Err(SecretsError::EnvIncomplete {
                    set: ENV_AUTH_TOKEN,
                    missing: ENV_APP_ID,
                });
            }
            (Some(a), Some(t)) => (a, t),
        };
        let utf8 = |v: &OsString, var: &'static str| {
            v.to_str()
                .map(str::to_string)
                .ok_or(SecretsError::EnvNotUnicode { var })
        };
        // Trimmed: `export ICONIK_AUTH_TOKEN=$(cat token.txt)` keeps no newline, but values
        // pasted into CI secret settings often carry one.
        let token = AuthToken::new(utf8(token, ENV_AUTH_TOKEN)?.trim())?;
        let app_id = utf8(app_id, ENV_APP_ID)?;
        Credentials::new(app_id.trim(), token).map(Some)
    }
}

impl fmt::Debug for EnvStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvStore")
            .field("app_id", &self.app_id)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl TokenStore for EnvStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Environment
    }

    fn get(&self, server: &ServerKey) -> Result<Credentials, SecretsError> {
        self.credentials()?.ok_or_else(|| SecretsError::NotSet {
            server: server.clone(),
        })
    }

    fn set(&self, _server: &ServerKey, _credentials: &Credentials) -> Result<(), SecretsError> {
        Err(SecretsError::EnvReadOnly)
    }

    fn delete(&self, _server: &ServerKey) -> Result<bool, SecretsError> {
        Err(SecretsError::EnvReadOnly)
    }
}
