//! The typed steps of one clip's registration, in the order they run (iconik-api.md §11).
//! Labels (`as_str`, `Display`) exist only for the edge: logs, the CLI, reports.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One step of a clip's ingest. `Ord` follows the pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// MD5 (iconik `checksum`) + xxh64 (manifest) of every member file, one read each.
    Checksum,
    /// Verified copy of the card to the storage mount (card-level; shared by its clips).
    Offload,
    /// `POST assets/` with `external_id` = clip id.
    CreateAsset,
    /// `POST formats/` ORIGINAL with MediaInfo components.
    CreateFormat,
    /// `POST file_sets/` with every component id.
    CreateFileSet,
    /// `POST files/` for every member file, CLOSED.
    CreateFiles,
    /// Local ffmpeg encode (or iconik's transcoder for single-file clips).
    Proxy,
    /// `POST proxies/`.
    CreateProxy,
    /// Resumable upload of the proxy bytes.
    UploadProxy,
    /// `PATCH proxies/{id}/` CLOSED.
    CloseProxy,
    /// `POST proxies/{id}/keyframes/` and wait for the job.
    Keyframes,
    /// Optional collection membership / metadata values.
    Collection,
}

impl Step {
    /// Every step in pipeline order.
    pub const ALL: [Step; 12] = [
        Step::Checksum,
        Step::Offload,
        Step::CreateAsset,
        Step::CreateFormat,
        Step::CreateFileSet,
        Step::CreateFiles,
        Step::Proxy,
        Step::CreateProxy,
        Step::UploadProxy,
        Step::CloseProxy,
        Step::Keyframes,
        Step::Collection,
    ];

    /// Stable machine name (CLI `--json`, journal keys).
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Checksum => "checksum",
            Step::Offload => "offload",
            Step::CreateAsset => "create_asset",
            Step::CreateFormat => "create_format",
            Step::CreateFileSet => "create_file_set",
            Step::CreateFiles => "create_files",
            Step::Proxy => "proxy",
            Step::CreateProxy => "create_proxy",
            Step::UploadProxy => "upload_proxy",
            Step::CloseProxy => "close_proxy",
            Step::Keyframes => "keyframes",
            Step::Collection => "collection",
        }
    }

    /// Parses [`Step::as_str`] names.
    pub fn from_name(name: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The lane (resource) the step's work runs on: checksum and offload read the card, the
    /// proxy encode is CPU work, everything else is iconik calls and uploads.
    pub fn lane(self) -> Lane {
        match self {
            Step::Checksum | Step::Offload => Lane::Disk,
            Step::Proxy => Lane::Cpu,
            _ => Lane::Network,
        }
    }

    /// The steps from `self` to the end (a manual retry redoes these).
    pub fn and_after(self) -> impl Iterator<Item = Step> {
        Step::ALL.into_iter().filter(move |s| *s >= self)
    }
}

/// A resource the steps of all clips share; each serves clips in card order
/// ([`crate::ingest::scheduler`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// Reading the card: checksums, the offload copy.
    Disk,
    /// Proxy encodes.
    Cpu,
    /// iconik calls and proxy uploads.
    Network,
}

impl Lane {
    pub const ALL: [Lane; 3] = [Lane::Disk, Lane::Cpu, Lane::Network];

    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Disk => "disk",
            Lane::Cpu => "cpu",
            Lane::Network => "network",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_names_round_trip() {
        let mut sorted = Step::ALL;
        sorted.sort();
        assert_eq!(sorted, Step::ALL);
        for s in Step::ALL {
            assert_eq!(Step::from_name(s.as_str()), Some(s));
        }
        assert_eq!(
            Step::CloseProxy.and_after().collect::<Vec<_>>(),
            vec![Step::CloseProxy, Step::Keyframes, Step::Collection]
        );
    }
}
