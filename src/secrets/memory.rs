//! [`MemoryStore`]: credentials kept in process memory only — the GUI's "this run only" mode when
//! no OS keyring is available, and the store for tests.

use super::{Credentials, SecretsError, ServerKey, StoreKind, TokenStore};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Credentials per server, forgotten when the process exits.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<ServerKey, Credentials>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// A panic while holding the lock cannot leave a half-written map (every operation is one
    /// HashMap call), so a poisoned lock is still safe to use.
    fn entries(&self) -> MutexGuard<'_, HashMap<ServerKey, Credentials>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::fmt::Debug for MemoryStore {
    /// Lists the servers only (the credentials themselves redact anyway).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut servers: Vec<String> = self.entries().keys().map(|k| k.to_string()).collect();
        servers.sort();
        f.debug_struct("MemoryStore")
            .field("servers", &servers)
            .finish()
    }
}

impl TokenStore for MemoryStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Memory
    }

    fn get(&self, server: &ServerKey) -> Result<Credentials, SecretsError> {
        self.entries()
            .get(server)
            .cloned()
            .ok_or_else(|| SecretsError::NotSet {
                server: server.clone(),
            })
    }

    fn set(&self, server: &ServerKey, credentials: &Credentials) -> Result<(), SecretsError> {
        self.entries().insert(server.clone(), credentials.clone());
        Ok(())
    }

    fn delete(&self, server: &ServerKey) -> Result<bool, SecretsError> {
        Ok(self.entries().remove(server).is_some())
    }
}
