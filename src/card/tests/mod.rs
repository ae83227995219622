//! Detector tests: tiny card trees built in temp dirs (stub files of a few bytes; sidecar XML
//! written as real XML following camera-cards.md's element names).

mod audio;
mod bad_input;
mod families;
mod p2;
mod sony;
mod unclaimed;

use super::{CardScan, Clip, FileRole, scan_paths};
use std::path::{Path, PathBuf};

/// Writes `bytes` at `root/rel`, creating folders.
pub fn put(root: &Path, rel: &str, bytes: &[u8]) -> PathBuf {
    let p = root.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("create dirs");
    }
    std::fs::write(&p, bytes).expect("write file");
    p
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

pub fn scan(paths: &[&Path]) -> CardScan {
    let v: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    scan_paths(&v).expect("scan")
}

/// Canonical form of a temp root (macOS /private/var, symlinked tmp dirs).
pub fn canon(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).expect("canonicalize")
}

/// Member files as (path relative to `base`, role).
pub fn files(clip: &Clip, base: &Path) -> Vec<(String, FileRole)> {
    let base = canon(base);
    clip.files
        .iter()
        .map(|f| {
            (
                f.path
                    .strip_prefix(&base)
                    .unwrap_or(&f.path)
                    .to_string_lossy()
                    .into_owned(),
                f.role,
            )
        })
        .collect()
}

pub fn names(scan: &CardScan) -> Vec<&str> {
    scan.clips.iter().map(|c| c.name.as_str()).collect()
}

pub fn clip<'a>(scan: &'a CardScan, name: &str) -> &'a Clip {
    scan.clips
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no clip {name} in {:?}", names(scan)))
}

/// Skipped entries as (relative path, reason).
pub fn skipped(scan: &CardScan, base: &Path) -> Vec<(String, String)> {
    let base = canon(base);
    scan.skipped
        .iter()
        .map(|s| {
            (
                s.path
                    .strip_prefix(&base)
                    .unwrap_or(&s.path)
                    .to_string_lossy()
                    .into_owned(),
                s.reason.clone(),
            )
        })
        .collect()
}
