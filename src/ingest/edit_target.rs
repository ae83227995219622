//! `--edit-proxy-to STORAGE[=LOCAL_MOUNT]`: where the edit proxy (`PPRO_PROXY`) is stored. A
//! FILES storage needs the folder where it is mounted here (the MOV is copied there and its
//! path registered); a cloud storage takes the upload.

use std::path::PathBuf;

/// One storage the edit proxy goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditProxyTarget {
    /// iconik storage id or name.
    pub storage: String,
    /// The storage's local mount (FILES storages).
    pub local_mount: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EditTargetError {
    #[error("--edit-proxy-to needs a storage name or id (STORAGE or STORAGE=LOCAL_MOUNT)")]
    NoStorage,
    #[error("--edit-proxy-to {0:?}: the local mount after '=' is empty")]
    EmptyMount(String),
}

impl EditProxyTarget {
    /// `STORAGE` or `STORAGE=LOCAL_MOUNT`. The first `=` separates them: storage names with
    /// `=` are not supported here (use the storage id).
    pub fn parse(text: &str) -> Result<EditProxyTarget, EditTargetError> {
        let (storage, mount) = match text.split_once('=') {
            Some((s, m)) => (s.trim(), Some(m)),
            None => (text.trim(), None),
        };
        if storage.is_empty() {
            return Err(EditTargetError::NoStorage);
        }
        let local_mount = match mount {
            Some(m) if m.trim().is_empty() => {
                return Err(EditTargetError::EmptyMount(text.to_owned()));
            }
            Some(m) => Some(PathBuf::from(m)),
            None => None,
        };
        Ok(EditProxyTarget {
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
            EditProxyTarget::parse("Sandbox S3").unwrap(),
            EditProxyTarget {
                storage: "Sandbox S3".into(),
                local_mount: None
            }
        );
        assert_eq!(
            EditProxyTarget::parse("Edit=/mnt/edit=x").unwrap(),
            EditProxyTarget {
                storage: "Edit".into(),
                local_mount: Some("/mnt/edit=x".into())
            }
        );
        assert_eq!(
            EditProxyTarget::parse("=/mnt"),
            Err(EditTargetError::NoStorage)
        );
        assert!(matches!(
            EditProxyTarget::parse("Edit="),
            Err(EditTargetError::EmptyMount(_))
        ));
    }
}
