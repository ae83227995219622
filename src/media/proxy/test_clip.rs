//! Hand-built clips for the unit tests of proxy planning and poster grabs (no files on disk:
//! the plans are pure, so paths and sizes only have to look real).

use crate::card::{Clip, ClipFile, Family, FileRole};
use std::path::PathBuf;

/// A clip member at `path` (size 1 byte).
pub(crate) fn cf(path: &str, role: FileRole) -> ClipFile {
    ClipFile {
        path: PathBuf::from(path),
        role,
        size: 1,
    }
}

/// Clip `CLIP` of `family` on the card `/card`.
pub(crate) fn clip(family: Family, files: Vec<ClipFile>, segments: Vec<Vec<usize>>) -> Clip {
    Clip {
        id: "id".into(),
        name: "CLIP".into(),
        family,
        card_root: PathBuf::from("/card"),
        files,
        segments,
        incomplete: None,
        warnings: Vec::new(),
        derived_from: None,
    }
}
