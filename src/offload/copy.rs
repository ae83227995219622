//! One source file copied to every destination in one read: temp names, fsync, page drop,
//! then rename; copies found in place are recognised (resume) and never overwritten.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, Utc};

use super::{OffloadError, cache};
use crate::atomic_write::{TEMP_MARKER, sync_parent, temp_path_for};
use crate::checksum::{self, AlgorithmSet, ChecksumError, Hashes};
use crate::mhl;

pub(super) fn chain_rel_path() -> String {
    format!("{}/{}", mhl::ASCMHL_FOLDER, mhl::CHAIN_FILE)
}

/// The card's own ASC MHL chain: where an earlier run copied it and then appended its transfer
/// generation, the destination chain must start with the card's entries (it is "already there");
/// where it is missing it is copied like any file.
pub(super) fn chain_to_all(
    src: &Path,
    dsts: &[PathBuf],
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(checksum::Progress),
    drop_cache: bool,
) -> Result<(Hashes, Vec<bool>, DateTime<Utc>, bool), OffloadError> {
    let source_chain = mhl::read_chain(src)?;
    for dst in dsts.iter().filter(|d| d.exists()) {
        let dest_chain = mhl::read_chain(dst)?;
        if !dest_chain.starts_with(&source_chain) {
            return Err(OffloadError::ExistingDiffers {
                path: dst.clone(),
                detail: "its ASC MHL chain does not continue the card's chain".to_owned(),
            });
        }
    }
    let present: Vec<bool> = dsts.iter().map(|d| d.exists()).collect();
    let (source, dropped) = read_once(src, dsts, &present, cancel, progress, drop_cache)?;
    Ok((source, present, Utc::now(), dropped))
}

pub(super) fn is_in_ascmhl_folder(rel: &str) -> bool {
    rel.split('/').next() == Some(mhl::ASCMHL_FOLDER) && rel.contains('/')
}

/// Copies one source file to every destination where it is missing, in one read (or recognises
/// earlier identical copies). Returns the source hashes, per destination whether it was already
/// complete, when the source was hashed, and whether the copies' cached pages were dropped.
pub(super) fn copy_to_all(
    src: &Path,
    dsts: &[PathBuf],
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(checksum::Progress),
    drop_cache: bool,
) -> Result<(Hashes, Vec<bool>, DateTime<Utc>, bool), OffloadError> {
    let src_len = std::fs::metadata(src)
        .map_err(|_| ChecksumError::Vanished {
            path: src.to_path_buf(),
        })?
        .len();
    let mut present = Vec::with_capacity(dsts.len());
    for dst in dsts {
        if let Some(parent) = dst.parent() {
            create_dir(parent)?;
            remove_stale_temps(parent, dst);
        }
        match std::fs::symlink_metadata(dst) {
            Ok(meta) => {
                let differs = |detail: String| OffloadError::ExistingDiffers {
                    path: dst.clone(),
                    detail,
                };
                if !meta.is_file() {
                    return Err(differs("not a regular file".to_owned()));
                }
                if meta.len() != src_len {
                    return Err(differs(format!(
                        "{} bytes there, {src_len} bytes on the card",
                        meta.len()
                    )));
                }
                present.push(true);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => present.push(false),
            Err(source) => {
                return Err(OffloadError::Checksum(ChecksumError::Read {
                    path: dst.clone(),
                    source,
                }));
            }
        }
    }
    let (source, dropped) = read_once(src, dsts, &present, cancel, progress, drop_cache)?;
    let hashed_at = Utc::now();
    // Copies found in place must be byte-identical to the card (resume of an earlier run).
    for (dst, _) in dsts.iter().zip(&present).filter(|(_, p)| **p) {
        let existing = checksum::hash_file(dst, AlgorithmSet::DEFAULT, cancel, &mut |_| {})?;
        let differing = source.differing(&existing);
        if !differing.is_empty() {
            return Err(OffloadError::ExistingDiffers {
                path: dst.clone(),
                detail: format!("same size but different content ({differing:?} differ)"),
            });
        }
        tracing::debug!(path = %dst.display(), "already copied and identical");
    }
    Ok((source, present, hashed_at, dropped))
}

/// The one read of `src`: written to every destination not `present` (hashing on the way), or
/// only hashed when all have it already. Returns the source hashes and whether the fresh copies'
/// cached pages were dropped.
fn read_once(
    src: &Path,
    dsts: &[PathBuf],
    present: &[bool],
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(checksum::Progress),
    drop_cache: bool,
) -> Result<(Hashes, bool), OffloadError> {
    let missing: Vec<PathBuf> = dsts
        .iter()
        .zip(present)
        .filter(|(_, p)| !**p)
        .map(|(d, _)| d.clone())
        .collect();
    if missing.is_empty() {
        let h = checksum::hash_file(src, AlgorithmSet::DEFAULT, cancel, progress)?;
        return Ok((h, true));
    }
    write_copies(src, &missing, cancel, progress, drop_cache)
}

/// Reads `src` once, hashing it and writing each block to a temp sibling of every `dst`; then
/// fsyncs, drops the copies' cached pages (so the verify pass reads the drive) and renames each
/// into place. On error no temp file is left behind.
fn write_copies(
    src: &Path,
    dsts: &[PathBuf],
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(checksum::Progress),
    drop_cache: bool,
) -> Result<(Hashes, bool), OffloadError> {
    let temps: Vec<PathBuf> = dsts.iter().map(|d| temp_path_for(d)).collect();
    let result = write_temps(src, &temps, cancel, progress, drop_cache).and_then(|(h, dropped)| {
        for (tmp, dst) in temps.iter().zip(dsts) {
            finish_copy(src, tmp, dst)?;
        }
        Ok((h, dropped))
    });
    if result.is_err() {
        for tmp in temps.iter().filter(|t| t.exists()) {
            if let Err(err) = std::fs::remove_file(tmp) {
                tracing::warn!(path = %tmp.display(), %err, "cannot remove temp copy");
            }
        }
    }
    result
}

fn write_temps(
    src: &Path,
    temps: &[PathBuf],
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(checksum::Progress),
    drop_cache: bool,
) -> Result<(Hashes, bool), OffloadError> {
    let mut outs = Vec::with_capacity(temps.len());
    for tmp in temps {
        outs.push(
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(tmp)
                .map_err(|source| ChecksumError::Write {
                    path: tmp.clone(),
                    source,
                })?,
        );
    }
    // One read; the digests run on their own threads while each block is written everywhere.
    let hashes =
        checksum::hash_while_writing(src, AlgorithmSet::DEFAULT, cancel, progress, |block| {
            for (out, tmp) in outs.iter_mut().zip(temps) {
                out.write_all(block)
                    .map_err(|source| ChecksumError::Write {
                        path: tmp.clone(),
                        source,
                    })?;
            }
            Ok(())
        })?;
    let mut dropped = true;
    for (out, tmp) in outs.iter().zip(temps) {
        out.sync_all().map_err(|source| ChecksumError::Write {
            path: tmp.clone(),
            source,
        })?;
        if drop_cache {
            dropped &= cache::drop_cached_pages(out);
        }
    }
    Ok((hashes, drop_cache && dropped))
}

/// Gives the temp copy the source's modification time, then renames it into place unless a file
/// appeared there meanwhile, and fsyncs the folder.
fn finish_copy(src: &Path, tmp: &Path, dst: &Path) -> Result<(), OffloadError> {
    let rename_err = |source| OffloadError::Rename {
        from: tmp.to_path_buf(),
        to: dst.to_path_buf(),
        source,
    };
    if let Ok(modified) = std::fs::metadata(src).and_then(|m| m.modified()) {
        let set = std::fs::OpenOptions::new()
            .write(true)
            .open(tmp)
            .and_then(|f| f.set_modified(modified));
        if let Err(err) = set {
            // Not fatal: some network filesystems refuse to set times.
            tracing::debug!(path = %tmp.display(), %err, "cannot set modification time");
        }
    }
    // rename() replaces silently; check first (the per-card journal lock keeps other card-ingest
    // processes out, so the window only matters for foreign writers).
    if std::fs::symlink_metadata(dst).is_ok() {
        return Err(OffloadError::ExistingDiffers {
            path: dst.to_path_buf(),
            detail: "appeared while copying".to_owned(),
        });
    }
    std::fs::rename(tmp, dst).map_err(rename_err)?;
    sync_parent(dst).map_err(rename_err)
}

/// Removes `.<name>.tmp-*` leftovers of an interrupted earlier copy of `dst`.
fn remove_stale_temps(dir: &Path, dst: &Path) {
    let Some(name) = dst.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let prefix = format!(".{name}{TEMP_MARKER}");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        if e.file_name().to_string_lossy().starts_with(&prefix) {
            match std::fs::remove_file(e.path()) {
                Ok(()) => tracing::debug!(path = %e.path().display(), "removed stale temp copy"),
                Err(err) => {
                    tracing::warn!(path = %e.path().display(), %err, "cannot remove stale temp copy")
                }
            }
        }
    }
}

pub(super) fn create_dir(path: &Path) -> Result<(), OffloadError> {
    std::fs::create_dir_all(path).map_err(|source| OffloadError::CreateDir {
        path: path.to_path_buf(),
        source,
    })
}
