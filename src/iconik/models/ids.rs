//! Typed ids: one newtype per iconik noun so an `AssetId` can never be passed where a `FormatId`
//! is expected. All serialise as plain UUID strings (`#[serde(transparent)]`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random id (tests, sandbox).
            pub fn new_v4() -> Self {
                Self(Uuid::new_v4())
            }
            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    )*};
}

id_type!(
    /// `assets/{asset_id}`.
    AssetId,
    /// An asset version (`versions[].id`).
    VersionId,
    /// A format (e.g. `ORIGINAL`) of an asset.
    FormatId,
    /// A component (stream) of a format.
    ComponentId,
    /// A file set (one storage copy of a format).
    FileSetId,
    /// A file record.
    FileId,
    /// A proxy record.
    ProxyId,
    /// A keyframe record.
    KeyframeId,
    /// A storage.
    StorageId,
    /// A collection.
    CollectionId,
    /// A job (transcode, keyframes, ...).
    JobId,
    /// A metadata view.
    ViewId,
    /// An asset history entry.
    HistoryId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialise_as_bare_uuid_strings() {
        let u = Uuid::parse_str("2b8f1c4e-3a5d-4e6f-8a9b-0c1d2e3f4a5b").unwrap();
        let id = AssetId(u);
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"2b8f1c4e-3a5d-4e6f-8a9b-0c1d2e3f4a5b\""
        );
        let back: AssetId =
            serde_json::from_str("\"2b8f1c4e-3a5d-4e6f-8a9b-0c1d2e3f4a5b\"").unwrap();
        assert_eq!(back, id);
        assert_eq!(
            format!("{id:?}"),
            "AssetId(2b8f1c4e-3a5d-4e6f-8a9b-0c1d2e3f4a5b)"
        );
        assert_eq!(id.to_string(), "2b8f1c4e-3a5d-4e6f-8a9b-0c1d2e3f4a5b");
    }
}
