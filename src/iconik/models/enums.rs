//! String enums of the iconik API (iconik-api.md §5). Each has the documented variants plus
//! `Unknown(String)`, so a value added by a newer iconik never breaks response parsing; requests
//! only ever send the documented variants.

/// Declares a string enum with exact wire names, `as_str`, and lenient (de)serialisation.
macro_rules! str_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $wire:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
            /// A value this client does not know (newer iconik).
            Unknown(String),
        }

        impl $name {
            /// The exact wire name.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Unknown(s) => s.as_str(),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(match s {
                    $($wire => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                Ok(match s.parse::<$name>() {
                    Ok(v) => v,
                    Err(never) => match never {},
                })
            }
        }
    };
}

str_enum!(
    /// Asset `type`.
    AssetType { Asset => "ASSET", Sequence => "SEQUENCE", NleProject => "NLE_PROJECT",
        Placeholder => "PLACEHOLDER", Custom => "CUSTOM", Link => "LINK", Subclip => "SUBCLIP" }
);
str_enum!(
    /// Asset / format `status`.
    ActiveStatus { Active => "ACTIVE", Deleted => "DELETED" }
);
str_enum!(
    /// File set `status`.
    FileSetStatus { Active => "ACTIVE", Archived => "ARCHIVED", Deleted => "DELETED" }
);
str_enum!(
    /// File / proxy / keyframe `status`.
    ObjectStatus { Open => "OPEN", Growing => "GROWING", Awaited => "AWAITED", Closed => "CLOSED",
        Failed => "FAILED", Archived => "ARCHIVED", Missing => "MISSING",
        Rediscovered => "REDISCOVERED", Deleted => "DELETED" }
);
str_enum!(
    /// File `type`.
    FileType { File => "FILE", Directory => "DIRECTORY", Symlink => "SYMLINK" }
);
str_enum!(
    /// Component `type`.
    ComponentType { Video => "VIDEO", Audio => "AUDIO", Image => "IMAGE", Text => "TEXT",
        Other => "OTHER", NonMedia => "NON_MEDIA", Exif => "EXIF", Iptc => "IPTC", Xmp => "XMP",
        General => "GENERAL" }
);
str_enum!(
    /// Storage `method` (also a proxy's `storage_method`).
    StorageMethod { File => "FILE", Http => "HTTP", Ftp => "FTP", Sftp => "SFTP", S3 => "S3",
        B2 => "B2", Gcs => "GCS", Portal => "PORTAL", Custom => "CUSTOM", Azure => "AZURE" }
);
str_enum!(
    /// Storage `purpose`.
    StoragePurpose { Keyframes => "KEYFRAMES", Files => "FILES", Proxies => "PROXIES",
        Exports => "EXPORTS", Archive => "ARCHIVE", Faces => "FACES" }
);
str_enum!(
    /// Storage `status`.
    StorageStatus { Active => "ACTIVE", Inactive => "INACTIVE", Failing => "FAILING" }
);
str_enum!(
    /// Job `status`.
    JobStatus { Ready => "READY", Started => "STARTED", Finished => "FINISHED",
        FinishedWithWarning => "FINISHED_WITH_WARNING", Failed => "FAILED", Waiting => "WAITING",
        AbortPending => "ABORT_PENDING", Aborted => "ABORTED", Skipped => "SKIPPED",
        Paused => "PAUSED" }
);
str_enum!(
    /// Keyframe `type`.
    KeyframeType { KeyframeMap => "KEYFRAME_MAP", Keyframe => "KEYFRAME", Poster => "POSTER" }
);
str_enum!(
    /// Metadata value `mode`.
    MetadataMode { Overwrite => "overwrite", Append => "append", Delete => "delete" }
);

impl JobStatus {
    /// Finished successfully (incl. with warning or skipped) — iconik-api.md §6.8.
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            Self::Finished | Self::FinishedWithWarning | Self::Skipped
        )
    }
    /// Ended without success.
    pub fn is_failed(&self) -> bool {
        matches!(self, Self::Failed | Self::Aborted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_wire_names_and_keep_unknown_values() {
        assert_eq!(
            serde_json::to_string(&ComponentType::Other).unwrap(),
            "\"OTHER\""
        );
        assert_eq!(
            serde_json::to_string(&ObjectStatus::Closed).unwrap(),
            "\"CLOSED\""
        );
        let v: ComponentType = serde_json::from_str("\"MANIFEST\"").unwrap();
        assert_eq!(v, ComponentType::Unknown("MANIFEST".into()));
        let v: StorageMethod = serde_json::from_str("\"GCS\"").unwrap();
        assert_eq!(v, StorageMethod::Gcs);
        assert!(JobStatus::FinishedWithWarning.is_done());
        assert!(JobStatus::Aborted.is_failed());
        assert!(!JobStatus::Started.is_done());
    }
}
