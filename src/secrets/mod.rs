//! iconik API credentials (App-ID + Auth-Token per iconik server): where they live and how they
//! are found. Nothing else in card-ingest stores or reads a token.
//!
//! Rules (rust-stack.md §4):
//! - Tokens live **only** in the OS keyring ([`KeyringStore`]: Keychain on macOS, Credential
//!   Manager on Windows, Secret Service on Linux), or — for automation — in the environment
//!   variables [`ENV_APP_ID`] / [`ENV_AUTH_TOKEN`] ([`EnvStore`]). Never in config files, journals,
//!   logs or reports: [`Credentials`] and [`AuthToken`] print `***` in `Debug`/`Display`, and
//!   [`SecretsError`] messages never quote a secret.
//! - Without a keyring the GUI keeps the token for this run only ([`MemoryStore`], chosen by
//!   [`keyring_or_memory`]).
//! - [`Resolver`] picks the environment first (automation), then its store (keyring or memory).
//!
//! Keyring layout: service [`SERVICE`] (`card-ingest`), user/account = the normalised server URL
//! ([`ServerKey`]: `scheme://host[:port]`), secret = one JSON document
//! `{"app_id": "...", "token": "..."}`, so App-ID and token are written and deleted together.
//!
//! **All [`TokenStore`] calls block** (D-Bus round trips, Keychain/Credential Manager calls that may
//! show an OS unlock prompt): call them from `tokio::task::spawn_blocking` or a worker thread,
//! never from the UI thread.

mod credentials;
mod env;
mod keyring;
mod memory;
mod server;

pub use credentials::{AuthToken, Credentials};
pub use env::{ENV_APP_ID, ENV_AUTH_TOKEN, EnvStore};
pub use keyring::KeyringStore;
pub use memory::MemoryStore;
pub use server::ServerKey;

use std::sync::Arc;

/// Keyring service name under which every card-ingest credential is stored.
pub const SERVICE: &str = "card-ingest";

/// Where a credential lives; shown to the user ("token stored in the OS keyring for …").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// The OS keyring (Keychain, Credential Manager, Secret Service).
    Keyring,
    /// Process memory: gone when card-ingest exits.
    Memory,
    /// `ICONIK_APP_ID` / `ICONIK_AUTH_TOKEN`.
    Environment,
}

impl StoreKind {
    /// Human label: "the OS keyring", "memory (this run only)", "the environment".
    pub fn label(self) -> &'static str {
        match self {
            StoreKind::Keyring => "the OS keyring",
            StoreKind::Memory => "memory (this run only)",
            StoreKind::Environment => "the environment",
        }
    }
}

/// Get/set/delete the credentials of one iconik server.
///
/// **Blocking**: call from `tokio::task::spawn_blocking` / a worker thread, never the UI thread.
pub trait TokenStore: Send + Sync {
    /// Which kind of store this is.
    fn kind(&self) -> StoreKind;

    /// The credentials for `server`; [`SecretsError::NotSet`] when none are stored.
    fn get(&self, server: &ServerKey) -> Result<Credentials, SecretsError>;

    /// Stores (or replaces) the credentials for `server`.
    fn set(&self, server: &ServerKey, credentials: &Credentials) -> Result<(), SecretsError>;

    /// Removes the credentials for `server`; `Ok(false)` if there were none (idempotent).
    fn delete(&self, server: &ServerKey) -> Result<bool, SecretsError>;
}

/// Credentials plus where they came from (the UI shows "using ICONIK_AUTH_TOKEN" etc.).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub credentials: Credentials,
    pub source: StoreKind,
}

/// Finds the credentials for a server: environment first (automation), then `store`.
///
/// The environment is captured once ([`EnvStore::from_process_env`]) or passed in
/// ([`EnvStore::from_vars`]), so tests never race on process-wide environment variables.
#[derive(Clone)]
pub struct Resolver {
    env: EnvStore,
    store: Arc<dyn TokenStore>,
}

impl Resolver {
    pub fn new(env: EnvStore, store: Arc<dyn TokenStore>) -> Self {
        Resolver { env, store }
    }

    /// The environment snapshot this resolver consults first.
    pub fn env(&self) -> &EnvStore {
        &self.env
    }

    /// The store consulted when the environment holds no credentials (and used by login/logout).
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.store
    }

    /// Environment credentials if both variables are set (a half-set environment is an error,
    /// not a silent fall-through to the keyring); otherwise the store's credentials for `server`.
    /// **Blocking** (see [`TokenStore`]).
    pub fn resolve(&self, server: &ServerKey) -> Result<Resolved, SecretsError> {
        if let Some(credentials) = self.env.credentials()? {
            tracing::debug!(server = %server, "iconik credentials from the environment");
            return Ok(Resolved {
                credentials,
                source: StoreKind::Environment,
            });
        }
        let credentials = self.store.get(server)?;
        tracing::debug!(server = %server, store = self.store.kind().label(), "iconik credentials found");
        Ok(Resolved {
            credentials,
            source: self.store.kind(),
        })
    }
}

/// The store the app should use: the OS keyring when `open` succeeds, else a [`MemoryStore`]
/// ("this run only") plus the [`SecretsError::KeyringUnavailable`] to show the user once.
/// Other errors are passed through. Call with [`KeyringStore::open`]; **blocking** (it connects
/// to the keyring).
pub fn keyring_or_memory(
    open: impl FnOnce() -> Result<KeyringStore, SecretsError>,
) -> Result<(Arc<dyn TokenStore>, Option<SecretsError>), SecretsError> {
    match open() {
        Ok(keyring) => Ok((Arc::new(keyring), None)),
        Err(err @ SecretsError::KeyringUnavailable { .. }) => {
            tracing::warn!("{err}");
            Ok((Arc::new(MemoryStore::new()), Some(err)))
        }
        Err(other) => Err(other),
    }
}

/// What to tell the user when the OS has no usable keyring (per platform).
#[cfg(all(unix, not(target_os = "macos"), not(target_os = "ios")))]
const KEYRING_HINT: &str = "no OS keyring available (install or unlock GNOME Keyring or KWallet: \
     card-ingest needs a Secret Service provider on the session D-Bus)";
#[cfg(any(target_os = "macos", target_os = "ios"))]
const KEYRING_HINT: &str = "no OS keyring available (the login Keychain could not be used; unlock it \
     in Keychain Access)";
#[cfg(windows)]
const KEYRING_HINT: &str = "no OS keyring available (Windows Credential Manager could not be used)";
#[cfg(not(any(unix, windows)))]
const KEYRING_HINT: &str = "no OS keyring available on this platform";

/// Errors of the secrets module. Messages name the server and say what to do; they never
/// contain an App-ID's token or any stored secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// The server URL could not be parsed or is not a plain `scheme://host[:port]` origin.
    #[error("invalid iconik server URL `{input}`: {reason}")]
    InvalidServer { input: String, reason: String },

    /// Plain http to a non-loopback host would send the token in clear text.
    #[error(
        "refusing `{input}`: iconik credentials are only sent over https (plain http is allowed \
         only for loopback test servers: 127.0.0.0/8, ::1, localhost); use https://{host}"
    )]
    InsecureServer { input: String, host: String },

    /// An App-ID or token that cannot be used (empty, or with characters an HTTP header can't carry).
    #[error("invalid {field}: {reason}")]
    InvalidCredential { field: &'static str, reason: String },

    /// No keyring: no default store, the platform store could not be opened, or it is locked.
    #[error(
        "{KEYRING_HINT}. Instead, set {ENV_APP_ID} and {ENV_AUTH_TOKEN} in the environment \
         (automation), or enter the token in the app, which keeps it for this run only. \
         Details: {detail}"
    )]
    KeyringUnavailable { detail: String },

    /// Nothing stored for this server.
    #[error(
        "no token stored for {server}: run `card-ingest login --server {server} --app-id <ID>` \
         (or set {ENV_APP_ID} and {ENV_AUTH_TOKEN})"
    )]
    NotSet { server: ServerKey },

    /// Exactly one of the two environment variables is set.
    #[error(
        "{set} is set but {missing} is not: set both (automation) or neither (use the OS keyring)"
    )]
    EnvIncomplete {
        set: &'static str,
        missing: &'static str,
    },

    /// An environment variable holds bytes that are not UTF-8.
    #[error("{var} is not valid UTF-8")]
    EnvNotUnicode { var: &'static str },

    /// The environment is read-only for card-ingest.
    #[error(
        "credentials from {ENV_APP_ID}/{ENV_AUTH_TOKEN} cannot be changed by card-ingest: \
         change or unset the variables instead"
    )]
    EnvReadOnly,

    /// The keyring entry exists but is not what card-ingest writes.
    #[error(
        "the keyring entry for {server} (service `{SERVICE}`) is not a card-ingest credential \
         ({detail}): run `card-ingest logout --server {server}`, then login again"
    )]
    Corrupt { server: ServerKey, detail: String },

    /// Any other keyring failure while reading, writing or deleting.
    #[error("OS keyring failed to {op} the token for {server}: {detail}")]
    Keyring {
        op: &'static str,
        server: ServerKey,
        detail: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn server(s: &str) -> ServerKey {
        ServerKey::parse(s).expect("server")
    }

    fn creds(app_id: &str, token: &str) -> Credentials {
        Credentials::new(app_id, AuthToken::new(token).expect("token")).expect("creds")
    }

    fn env(app_id: Option<&str>, token: Option<&str>) -> EnvStore {
        EnvStore::from_vars(app_id.map(OsString::from), token.map(OsString::from))
    }

    fn resolver_with(env: EnvStore, entries: &[(&str, Credentials)]) -> Resolver {
        let store = MemoryStore::new();
        for (url, c) in entries {
            store.set(&server(url), c).expect("memory set");
        }
        Resolver::new(env, Arc::new(store))
    }

    #[test]
    fn without_a_keyring_the_app_keeps_tokens_for_this_run() {
        let (store, why) = keyring_or_memory(|| {
            Err(SecretsError::KeyringUnavailable {
                detail: "no session bus".into(),
            })
        })
        .expect("memory fallback");
        assert_eq!(store.kind(), StoreKind::Memory);
        assert!(
            why.expect("reason to show")
                .to_string()
                .ends_with("keeps it for this run only. Details: no session bus")
        );
        let s = server("https://app.iconik.io");
        store.set(&s, &creds("a", "t")).expect("memory set");
        assert_eq!(store.get(&s).expect("get").app_id(), "a");

        let raw: Arc<keyring_core::CredentialStore> =
            keyring_core::mock::Store::new().expect("mock");
        let (store, why) =
            keyring_or_memory(|| Ok(KeyringStore::with_store(raw))).expect("keyring");
        assert_eq!(store.kind(), StoreKind::Keyring);
        assert!(why.is_none());

        let err = keyring_or_memory(|| {
            Err(SecretsError::Keyring {
                op: "open",
                server: server("https://app.iconik.io"),
                detail: "boom".into(),
            })
        })
        .map(|_| ())
        .expect_err("other errors pass through");
        assert!(matches!(err, SecretsError::Keyring { .. }), "{err:?}");
    }

    #[test]
    fn memory_store_keeps_servers_apart() {
        let store = MemoryStore::new();
        let app = server("https://app.iconik.io");
        let eu = server("https://eu.iconik.io");
        store.set(&app, &creds("app-id-1", "tok-app")).expect("set");
        store.set(&eu, &creds("app-id-2", "tok-eu")).expect("set");
        assert_eq!(store.get(&app).expect("get"), creds("app-id-1", "tok-app"));
        assert_eq!(store.get(&eu).expect("get"), creds("app-id-2", "tok-eu"));
        assert_eq!(
            format!("{store:?}"),
            r#"MemoryStore { servers: ["https://app.iconik.io", "https://eu.iconik.io"] }"#
        );
        assert!(store.delete(&app).expect("delete"));
        assert!(!store.delete(&app).expect("delete again"));
        assert!(matches!(store.get(&app), Err(SecretsError::NotSet { .. })));
        assert_eq!(store.get(&eu).expect("eu stays").app_id(), "app-id-2");
    }

    #[test]
    fn environment_wins_over_the_store() {
        let r = resolver_with(
            env(Some("env-app"), Some("env-token\n")),
            &[("https://app.iconik.io", creds("stored-app", "stored-token"))],
        );
        let got = r
            .resolve(&server("https://app.iconik.io"))
            .expect("resolve");
        assert_eq!(got.source, StoreKind::Environment);
        assert_eq!(got.credentials, creds("env-app", "env-token"));
        // The environment applies to any server (one automation run talks to one server).
        let other = r.resolve(&server("https://eu.iconik.io")).expect("resolve");
        assert_eq!(other.credentials.app_id(), "env-app");
    }

    #[test]
    fn store_is_used_when_the_environment_is_empty() {
        let r = resolver_with(
            env(Some(""), None),
            &[("https://app.iconik.io", creds("stored-app", "stored-token"))],
        );
        let got = r
            .resolve(&server("https://APP.iconik.io/API/"))
            .expect("resolve");
        assert_eq!(got.source, StoreKind::Memory);
        assert_eq!(got.credentials.token().expose_secret(), "stored-token");
        let err = r
            .resolve(&server("https://eu.iconik.io"))
            .expect_err("nothing for eu");
        assert!(
            err.to_string()
                .starts_with("no token stored for https://eu.iconik.io: run `card-ingest login"),
            "{err}"
        );
    }

    #[test]
    fn half_set_environment_is_an_error_not_a_fallback() {
        let stored = [("https://app.iconik.io", creds("stored-app", "stored-token"))];
        let s = server("https://app.iconik.io");
        let err = resolver_with(env(Some("env-app"), None), &stored)
            .resolve(&s)
            .expect_err("token missing");
        assert_eq!(
            err.to_string(),
            "ICONIK_APP_ID is set but ICONIK_AUTH_TOKEN is not: set both (automation) or \
             neither (use the OS keyring)"
        );
        let err = resolver_with(env(None, Some("t")), &stored)
            .resolve(&s)
            .expect_err("app id missing");
        assert!(
            matches!(
                err,
                SecretsError::EnvIncomplete {
                    set: ENV_AUTH_TOKEN,
                    missing: ENV_APP_ID
                }
            ),
            "{err:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_unicode_environment_names_the_variable() {
        use std::os::unix::ffi::OsStringExt;
        let e = EnvStore::from_vars(
            Some(OsString::from("app")),
            Some(OsString::from_vec(b"tok\xff".to_vec())),
        );
        let err = e.credentials().expect_err("not UTF-8");
        assert_eq!(err.to_string(), "ICONIK_AUTH_TOKEN is not valid UTF-8");
    }

    #[test]
    fn environment_store_is_read_only_and_redacts() {
        let e = env(Some("env-app"), Some("very-secret-env-token"));
        let s = server("https://app.iconik.io");
        assert!(matches!(
            e.set(&s, &creds("a", "b")),
            Err(SecretsError::EnvReadOnly)
        ));
        assert!(matches!(e.delete(&s), Err(SecretsError::EnvReadOnly)));
        assert_eq!(e.get(&s).expect("get").app_id(), "env-app");
        let debug = format!("{e:?}");
        assert!(!debug.contains("very-secret"), "{debug}");
        assert_eq!(
            debug,
            r#"EnvStore { app_id: Some("env-app"), token: Some("***") }"#
        );
        let resolved = format!("{:?}", resolver_with(e, &[]).resolve(&s).expect("resolve"));
        assert!(!resolved.contains("very-secret"), "{resolved}");
    }
}
