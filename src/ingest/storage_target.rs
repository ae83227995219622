//! `STORAGE[=LOCAL_MOUNT]`: an iconik storage (id or name) and, for a FILES storage, the local
//! folder where it is mounted. `--edit-proxy-to` (the edit proxy is copied there or uploaded)
//! and `--offload-storage` (offload destinations under the mount are copies on that storage).

use std::path::PathBuf;

/// One storage, with its local mount when it has one here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageTarget {
    /// iconik storage id or name.
    pub storage: String,
    /// The storage's local mount (FILES storages).
    pub local_mount: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StorageTargetError {
    #[error("a storage name or id is needed (STORAGE or STORAGE=LOCAL_MOUNT)")]
    NoStorage,
    #[error("{0:?}: the local mount after '=' is empty")]
    EmptyMount(String),
}

impl StorageTarget {
    /// `STORAGE` or `STORAGE=LOCAL_MOUNT`. The first `=` separates them: storage names with
    /// `=` are not supported here (use the storage id).
    pub fn parse(text: &str) -> Result<StorageTarget, StorageTargetError> {
        let (storage, mount) = match text.split_once('=') {
            Some((s, m)) => (s.trim(), Some(m)),
            None => (text.trim(), None),
        };
        if storage.is_empty() {
            return Err(StorageTargetError::NoStorage);
        }
        let local_mount = match mount {
            Some(m) if m.trim().is_empty() => {
                return Err(StorageTargetError::EmptyMount(text.to_owned()));
            }
            Some(m) => Some(PathBuf::from(m)),
            None => None,
        };
        Ok(StorageTarget {
            storage: storage.to_owned(),
            local_mount,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_and_optional_mount() {
        assert_eq!(
            StorageTarget::parse("Sandbox S3").unwrap(),
            StorageTarget {
                storage: "Sandbox S3".into(),
                local_mount: None
            }
        );
        assert_eq!(
            StorageTarget::parse("Edit=/mnt/edit=x").unwrap(),
            StorageTarget {
                storage: "Edit".into(),
                local_mount: Some("/mnt/edit=x".into())
            }
        );
        assert_eq!(
            StorageTarget::parse("=/mnt"),
            Err(StorageTargetError::NoStorage)
        );
        assert!(matches!(
            StorageTarget::parse("Edit="),
            Err(StorageTargetError::EmptyMount(_))
        ));
    }
}
