//! [`KeyringStore`]: credentials in the OS keyring through `keyring-core` and the per-OS store
//! crates (rust-stack.md §4): Secret Service (zbus, pure-Rust crypto) on Linux/BSD, the login
//! Keychain on macOS, Credential Manager on Windows.
//!
//! One entry per server: service [`SERVICE`], user = [`ServerKey`], secret = the JSON of
//! [`Credentials`]. Error mapping (rust-stack.md §4 table): no default store, a failing
//! `Store::new` (no session bus, no `org.freedesktop.secrets`) and `NoStorageAccess` (locked
//! keyring) → [`SecretsError::KeyringUnavailable`]; `NoEntry` → [`SecretsError::NotSet`].

use super::{Credentials, SERVICE, SecretsError, ServerKey, StoreKind, TokenStore};
use keyring_core::{CredentialStore, Entry, Error as KeyringError};
use std::sync::Arc;

/// The OS keyring, or any `keyring-core` store (the mock store in tests).
///
/// Holds its own store instead of using keyring-core's process-wide default, so tests can run
/// several independent stores in parallel. Every call blocks (see [`TokenStore`]).
#[derive(Clone)]
pub struct KeyringStore {
    store: Arc<CredentialStore>,
}

impl KeyringStore {
    /// Opens the platform keyring. On Linux this connects to the session D-Bus and the
    /// Secret Service; failure means there is no usable keyring here.
    pub fn open() -> Result<Self, SecretsError> {
        platform_store()
            .map(|store| KeyringStore { store })
            .map_err(unavailable)
    }

    /// Uses `store` (e.g. `keyring_core::mock::Store::new()?`).
    pub fn with_store(store: Arc<CredentialStore>) -> Self {
        KeyringStore { store }
    }

    /// Uses keyring-core's process-wide default store (`keyring_core::set_default_store`).
    pub fn from_default_store() -> Result<Self, SecretsError> {
        keyring_core::get_default_store()
            .map(|store| KeyringStore { store })
            .ok_or_else(|| unavailable(KeyringError::NoDefaultStore))
    }

    fn entry(&self, server: &ServerKey) -> Result<Entry, SecretsError> {
        self.store
            .build(SERVICE, server.as_str(), None)
            .map_err(|e| map_error(e, "open", server))
    }
}

impl std::fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringStore")
            .field("vendor", &self.store.vendor())
            .finish()
    }
}

impl TokenStore for KeyringStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Keyring
    }

    fn get(&self, server: &ServerKey) -> Result<Credentials, SecretsError> {
        let json = self
            .entry(server)?
            .get_password()
            .map_err(|e| map_error(e, "read", server))?;
        Credentials::from_json(server, &json)
    }

    fn set(&self, server: &ServerKey, credentials: &Credentials) -> Result<(), SecretsError> {
        self.entry(server)?
            .set_password(&credentials.to_json())
            .map_err(|e| map_error(e, "store", server))?;
        tracing::info!(server = %server, app_id = credentials.app_id(), "iconik token stored in the OS keyring");
        Ok(())
    }

    fn delete(&self, server: &ServerKey) -> Result<bool, SecretsError> {
        match self.entry(server)?.delete_credential() {
            Ok(()) => {
                tracing::info!(server = %server, "iconik token removed from the OS keyring");
                Ok(true)
            }
            Err(KeyringError::NoEntry) => Ok(false),
            Err(e) => Err(map_error(e, "delete", server)),
        }
    }
}

#[cfg(all(unix, not(target_os = "macos"), not(target_os = "ios")))]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = zbus_secret_service_keyring_store::Store::new()?;
    Ok(store)
}

#[cfg(target_os = "macos")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()?;
    Ok(store)
}

#[cfg(windows)]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new()?;
    Ok(store)
}

#[cfg(not(any(unix, windows)))]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(KeyringError::NoDefaultStore)
}

/// Any failure to get a store at all means "no keyring here".
fn unavailable(err: KeyringError) -> SecretsError {
    SecretsError::KeyringUnavailable {
        detail: describe(&err),
    }
}

fn map_error(err: KeyringError, op: &'static str, server: &ServerKey) -> SecretsError {
    match err {
        KeyringError::NoEntry => SecretsError::NotSet {
            server: server.clone(),
        },
        KeyringError::NoStorageAccess(_) | KeyringError::NoDefaultStore => unavailable(err),
        KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => SecretsError::Corrupt {
            server: server.clone(),
            detail: describe(&err),
        },
        other => SecretsError::Keyring {
            op,
            server: server.clone(),
            detail: describe(&other),
        },
    }
}

/// keyring-core's `Display`, except for the variants that carry secret bytes, whose `Debug` would
/// print them: those are described without their payload.
fn describe(err: &KeyringError) -> String {
    match err {
        KeyringError::BadEncoding(_) => "the stored secret is not UTF-8".to_string(),
        KeyringError::BadDataFormat(_, inner) => format!("the stored secret is malformed: {inner}"),
        KeyringError::Ambiguous(entries) => {
            format!("{} keyring items match this server", entries.len())
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::AuthToken;
    use keyring_core::mock;

    fn server() -> ServerKey {
        ServerKey::parse("https://app.iconik.io/").expect("server")
    }

    fn creds(token: &str) -> Credentials {
        Credentials::new(
            "11111111-2222-3333-4444-555555555555",
            AuthToken::new(token).expect("token"),
        )
        .expect("creds")
    }

    fn mock_store() -> (KeyringStore, Arc<CredentialStore>) {
        let raw: Arc<CredentialStore> = mock::Store::new().expect("mock store");
        (KeyringStore::with_store(raw.clone()), raw)
    }

    /// The mock credential behind our entry (the mock store hands out one per service + user).
    fn inject(raw: &Arc<CredentialStore>, server: &ServerKey, err: KeyringError) {
        let entry = raw.build(SERVICE, server.as_str(), None).expect("entry");
        let cred: &mock::Cred = entry.as_any().downcast_ref().expect("mock cred");
        cred.set_error(err);
    }

    #[test]
    fn set_get_delete_round_trip_as_one_json_entry() {
        let (store, raw) = mock_store();
        let s = server();
        store.set(&s, &creds("tok-1")).expect("set");
        assert_eq!(store.get(&s).expect("get"), creds("tok-1"));
        // What the keyring holds, read through keyring-core directly: service + account + JSON.
        let entry = raw
            .build("card-ingest", "https://app.iconik.io", None)
            .expect("entry");
        assert_eq!(
            entry.get_password().expect("raw read"),
            r#"{"app_id":"11111111-2222-3333-4444-555555555555","token":"tok-1"}"#
        );
        store.set(&s, &creds("tok-2")).expect("replace");
        assert_eq!(store.get(&s).expect("get").token().expose_secret(), "tok-2");
        assert!(store.delete(&s).expect("delete"), "something was removed");
        assert!(!store.delete(&s).expect("delete again"), "idempotent");
        match store.get(&s) {
            Err(SecretsError::NotSet { server }) => assert_eq!(server, s),
            other => panic!("expected NotSet, got {other:?}"),
        }
    }

    #[test]
    fn no_entry_is_not_set_with_the_login_command() {
        let (store, _raw) = mock_store();
        let err = store.get(&server()).expect_err("empty store");
        assert_eq!(
            err.to_string(),
            "no token stored for https://app.iconik.io: run `card-ingest login --server \
             https://app.iconik.io --app-id <ID>` (or set ICONIK_APP_ID and ICONIK_AUTH_TOKEN)"
        );
    }

    #[test]
    fn locked_keyring_is_keyring_unavailable() {
        let (store, raw) = mock_store();
        let s = server();
        for op in ["get", "set", "delete"] {
            inject(
                &raw,
                &s,
                KeyringError::NoStorageAccess("collection is locked".into()),
            );
            let err = match op {
                "get" => store.get(&s).map(|_| ()),
                "set" => store.set(&s, &creds("tok")),
                _ => store.delete(&s).map(|_| ()),
            }
            .expect_err(op);
            assert!(
                matches!(err, SecretsError::KeyringUnavailable { .. }),
                "{op}: {err:?}"
            );
            let msg = err.to_string();
            assert!(
                msg.starts_with(
                    "no OS keyring available (install or unlock GNOME Keyring or KWallet"
                ),
                "{op}: {msg}"
            );
            assert!(
                msg.contains("set ICONIK_APP_ID and ICONIK_AUTH_TOKEN in the environment"),
                "{msg}"
            );
            assert!(msg.contains("keeps it for this run only"), "{msg}");
            assert!(msg.ends_with("collection is locked"), "{msg}");
        }
    }

    #[test]
    fn no_default_store_is_keyring_unavailable() {
        // Only this test touches keyring-core's process-wide default store.
        keyring_core::unset_default_store();
        let err = KeyringStore::from_default_store().expect_err("no default store");
        assert!(
            matches!(err, SecretsError::KeyringUnavailable { .. }),
            "{err:?}"
        );
        keyring_core::set_default_store(mock::Store::new().expect("mock"));
        let store = KeyringStore::from_default_store().expect("default store set");
        store.set(&server(), &creds("tok-d")).expect("set");
        assert_eq!(
            store.get(&server()).expect("get").token().expose_secret(),
            "tok-d"
        );
        keyring_core::unset_default_store();
    }

    #[test]
    fn platform_failure_during_an_operation_names_it() {
        let (store, raw) = mock_store();
        let s = server();
        inject(
            &raw,
            &s,
            KeyringError::PlatformFailure("D-Bus timeout".into()),
        );
        let err = store.set(&s, &creds("tok")).expect_err("failure");
        assert_eq!(
            err.to_string(),
            "OS keyring failed to store the token for https://app.iconik.io: Platform failure: \
             D-Bus timeout"
        );
    }

    #[test]
    fn secret_bytes_in_keyring_errors_are_not_repeated() {
        let (store, raw) = mock_store();
        let s = server();
        inject(
            &raw,
            &s,
            KeyringError::BadEncoding(b"leaky-secret\xff".to_vec()),
        );
        let err = store.get(&s).expect_err("bad encoding");
        let text = format!("{err} {err:?}");
        assert!(matches!(err, SecretsError::Corrupt { .. }), "{text}");
        assert!(!text.contains("leaky"), "{text}");
        // A foreign (non-JSON) item under our service/account is reported, not quoted.
        let entry = raw.build(SERVICE, s.as_str(), None).expect("entry");
        entry.set_password("leaky-plain-password").expect("raw set");
        let err = store.get(&s).expect_err("not JSON");
        let text = format!("{err} {err:?}");
        assert!(matches!(err, SecretsError::Corrupt { .. }), "{text}");
        assert!(!text.contains("leaky"), "{text}");
    }
}
