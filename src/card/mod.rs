//! Card detection and clip grouping: one detector per camera family behind [`CardDetector`].
//!
//! Owner: see the module files. Reads only the filesystem (and the pure sidecar parsers of
//! `media::sidecar`). Never writes to a card.

pub mod model;

pub use model::{Card, CardScan, Clip, ClipFile, Family, FileRole, ScanIssue, Skipped};

use std::path::PathBuf;

/// Errors that stop a whole scan (per-file trouble goes into [`CardScan::errors`] instead).
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("path does not exist: {0}")]
    NotFound(PathBuf),
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Finds the cards in the dropped `paths` (card roots, sub-folders or member files of a card,
/// or folders holding several cards) and groups their files into clips.
pub fn scan_paths(paths: &[PathBuf]) -> Result<CardScan, CardError> {
    let _ = paths;
    Err(CardError::NotFound(PathBuf::from(
        "card detection not built yet",
    )))
}
