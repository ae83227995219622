//! Verified copy of a card folder to a destination (the local mount of the iconik storage).
//!
//! Steps, per card:
//! 1. **Plan**: the destination folder is `destination_root/<pattern>` (`{date}/{card}` by default,
//!    see [`plan::destination_dir`]). A card that already lies under `destination_root` (canonical
//!    path prefix) is not copied ([`OffloadOutcome::AlreadyAtDestination`]).
//! 2. **Copy**: each file is read once, written to a hidden temp sibling (`.<name>.tmp-<pid>-<n>`)
//!    and hashed (xxh64 + md5) in the same pass, fsynced, given the source's modification time, then
//!    renamed to its final name; a crash never leaves a half file under the final name. An existing
//!    final file is never overwritten: same size and hashes = already copied (resume), anything
//!    else is [`OffloadError::ExistingDiffers`].
//! 3. **Verify**: every copied file is re-read from the destination and its hashes compared with
//!    the copy pass; mismatches are reported per file ([`FileStatus::VerifyFailed`]).
//! 4. **Manifest**: an ASC MHL generation (process `transfer`) on the destination folder, each file
//!    with `original` records from the copy pass and `verified`/`failed` records from the re-read.
//!
//! The source's own `ascmhl/` folder is copied like any file (so its history travels with the
//! media) but never listed in the manifest (the reference tool ignores it too). OS junk
//! ([`plan::JUNK_NAMES`]) stays behind.

pub mod plan;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, NaiveDate, Utc};

use crate::atomic_write::{TEMP_MARKER, sync_parent, temp_path_for};
use crate::checksum::{self, Algorithm, AlgorithmSet, ChecksumError, Hashes};
use crate::mhl::{self, CreatorInfo, FileEntry, HashAction, HashList, HashRecord, MhlError};

/// Default destination pattern.
pub const DEFAULT_PATTERN: &str = "{date}/{card}";

/// What to offload where.
#[derive(Debug, Clone)]
pub struct OffloadRequest {
    /// The card root folder.
    pub card_root: PathBuf,
    /// The local mount of the iconik storage.
    pub destination_root: PathBuf,
    /// Destination sub-path pattern, e.g. [`DEFAULT_PATTERN`].
    pub pattern: String,
    /// Value of `{date}` (the caller passes the local date of the ingest).
    pub date: NaiveDate,
    /// Creator info for the destination's ASC MHL generation.
    pub creator: CreatorInfo,
}

/// The two passes over the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Copy,
    Verify,
}

/// Progress of one phase over all files of the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffloadProgress {
    pub phase: Phase,
    /// The file being processed, relative to the card root.
    pub file: String,
    pub done_bytes: u64,
    pub total_bytes: u64,
}

/// Result for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStatus {
    /// Copied now; the re-read matched.
    Verified,
    /// The destination already held an identical file (same size and hashes): an earlier,
    /// interrupted offload got this far. Counts as verified.
    AlreadyPresent,
    /// The re-read copy differs from what was read from the card.
    VerifyFailed {
        /// Hashes of the copy as re-read.
        copy: Hashes,
        /// Algorithms whose digests differ.
        algorithms: Vec<Algorithm>,
    },
}

/// One offloaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOutcome {
    /// Relative to the card root (and to the destination folder), `/`-separated.
    pub rel_path: String,
    pub size_bytes: u64,
    /// Hashes of the source bytes (xxh64 + md5), read once during the copy.
    pub source: Hashes,
    pub status: FileStatus,
}

/// A finished offload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffloadReport {
    pub card_root: PathBuf,
    pub destination: PathBuf,
    pub files: Vec<FileOutcome>,
    /// Entries not copied (symlinks, special files) with the reason.
    pub not_copied: Vec<(String, String)>,
    /// The ASC MHL generation written on the destination.
    pub mhl: mhl::Generation,
}

impl OffloadReport {
    /// Files whose verification failed.
    pub fn failed(&self) -> Vec<&FileOutcome> {
        self.files
            .iter()
            .filter(|f| matches!(f.status, FileStatus::VerifyFailed { .. }))
            .collect()
    }

    /// Whether every file is verified (copied now or already present).
    pub fn all_verified(&self) -> bool {
        self.failed().is_empty()
    }
}

/// What [`offload`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffloadOutcome {
    /// Copied (or found copied) and verified; see [`OffloadReport::failed`].
    Done(OffloadReport),
    /// The card already lies under the destination root: nothing to copy.
    AlreadyAtDestination { card_root: PathBuf },
}

/// Why an offload stopped.
#[derive(Debug, thiserror::Error)]
pub enum OffloadError {
    #[error("card folder not found or not a folder: {path}")]
    CardNotFound { path: PathBuf },
    #[error("destination root not found or not a folder (is the storage mounted?): {path}")]
    DestinationNotFound { path: PathBuf },
    #[error("invalid destination pattern {pattern:?}: {reason}")]
    BadPattern { pattern: String, reason: String },
    #[error("destination {destination} lies inside the card {card}; pick a destination outside it")]
    DestinationInsideCard { card: PathBuf, destination: PathBuf },
    #[error("cannot list {path}: {message}")]
    Walk { path: PathBuf, message: String },
    #[error("cannot create folder {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "destination already holds a different file, refusing to overwrite it: {path} ({detail}); move it away or choose another destination"
    )]
    ExistingDiffers { path: PathBuf, detail: String },
    #[error("cannot move {from} into place as {to}: {source}")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("offload cancelled")]
    Cancelled,
    #[error(transparent)]
    Checksum(ChecksumError),
    #[error("cannot write the ASC MHL manifest: {0}")]
    Mhl(#[from] MhlError),
}

impl From<ChecksumError> for OffloadError {
    fn from(e: ChecksumError) -> Self {
        match e {
            ChecksumError::Cancelled { .. } => OffloadError::Cancelled,
            other => OffloadError::Checksum(other),
        }
    }
}

/// Copies, verifies and manifests a card (see module docs). `progress` gets per-phase totals;
/// `cancel` stops between blocks with [`OffloadError::Cancelled`] (files already renamed into place
/// are complete and will be recognised on the next run).
pub fn offload(
    request: &OffloadRequest,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&OffloadProgress),
) -> Result<OffloadOutcome, OffloadError> {
    run(request, cancel, progress, &mut |_| {})
}

/// [`offload`] with `after_copy` called with each destination file path between copy and verify:
/// a test seam for the ingest engine (its tests corrupt a copy there to prove verification).
pub fn offload_observed(
    request: &OffloadRequest,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&OffloadProgress),
    after_copy: &dyn Fn(&Path),
) -> Result<OffloadOutcome, OffloadError> {
    run(request, cancel, progress, &mut |p| after_copy(p))
}

/// [`offload`] with a hook called with each destination file path between copy and verify (tests
/// corrupt copies there).
fn run(
    request: &OffloadRequest,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&OffloadProgress),
    after_copy: &mut dyn FnMut(&Path),
) -> Result<OffloadOutcome, OffloadError> {
    let card = std::fs::canonicalize(&request.card_root)
        .ok()
        .filter(|p| p.is_dir())
        .ok_or_else(|| OffloadError::CardNotFound {
            path: request.card_root.clone(),
        })?;
    let dest_root = std::fs::canonicalize(&request.destination_root)
        .ok()
        .filter(|p| p.is_dir())
        .ok_or_else(|| OffloadError::DestinationNotFound {
            path: request.destination_root.clone(),
        })?;
    if card.starts_with(&dest_root) {
        tracing::info!(card = %card.display(), "card already lies under the destination; not copying");
        return Ok(OffloadOutcome::AlreadyAtDestination { card_root: card });
    }
    let card_name = card
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "card".to_owned());
    let destination =
        plan::destination_dir(&dest_root, &request.pattern, &card_name, request.date)?;
    if destination.starts_with(&card) {
        return Err(OffloadError::DestinationInsideCard { card, destination });
    }
    let (sources, empty_dirs, not_copied) = plan::list_source(&card)?;
    create_dir(&destination)?;
    for d in &empty_dirs {
        create_dir(&destination.join(d))?;
    }

    // Copy phase.
    let copy_total: u64 = sources.iter().map(|f| f.size_bytes).sum();
    let mut copy_base = 0u64;
    let mut copied = Vec::with_capacity(sources.len());
    for file in &sources {
        let src = card.join(&file.rel_path);
        let dst = destination.join(&file.rel_path);
        let mut per_file = |p: checksum::Progress| {
            progress(&OffloadProgress {
                phase: Phase::Copy,
                file: file.rel_path.clone(),
                done_bytes: copy_base + p.done_bytes,
                total_bytes: copy_total,
            })
        };
        let (source_hashes, already, hashed_at) =
            if file.rel_path == chain_rel_path() && dst.exists() {
                extended_chain(&src, &dst, cancel, &mut per_file)?
            } else {
                copy_one(&src, &dst, cancel, &mut per_file)?
            };
        copy_base += file.size_bytes;
        if !already {
            after_copy(&dst);
        }
        copied.push((file, source_hashes, already, hashed_at));
    }

    // Verify phase: re-read what was copied now (already-present files were compared already).
    let verify_total: u64 = copied
        .iter()
        .filter(|(_, _, already, _)| !already)
        .map(|(f, ..)| f.size_bytes)
        .sum();
    let mut verify_base = 0u64;
    let mut outcomes = Vec::with_capacity(copied.len());
    let mut entries = Vec::new();
    for (file, source, already, copied_at) in copied {
        let dst = destination.join(&file.rel_path);
        let (status, copy_hashes, verified_at) = if already {
            (FileStatus::AlreadyPresent, source.clone(), copied_at)
        } else {
            let mut per_file = |p: checksum::Progress| {
                progress(&OffloadProgress {
                    phase: Phase::Verify,
                    file: file.rel_path.clone(),
                    done_bytes: verify_base + p.done_bytes,
                    total_bytes: verify_total,
                })
            };
            let copy = checksum::hash_file(&dst, AlgorithmSet::DEFAULT, cancel, &mut per_file)?;
            verify_base += file.size_bytes;
            let differing = if copy.size_bytes == source.size_bytes {
                source.differing(&copy)
            } else {
                AlgorithmSet::DEFAULT.iter().collect()
            };
            let status = if differing.is_empty() {
                FileStatus::Verified
            } else {
                tracing::error!(path = %dst.display(), ?differing, "copy does not match the card");
                FileStatus::VerifyFailed {
                    copy: copy.clone(),
                    algorithms: differing,
                }
            };
            (status, copy, Utc::now())
        };
        if !is_in_ascmhl_folder(&file.rel_path) {
            entries.push(mhl_entry(
                &dst,
                &file.rel_path,
                &source,
                copied_at,
                &copy_hashes,
                verified_at,
                &status,
            ));
        }
        outcomes.push(FileOutcome {
            rel_path: file.rel_path.clone(),
            size_bytes: file.size_bytes,
            source,
            status,
        });
    }

    let list = HashList {
        creator: request.creator.clone(),
        process: mhl::Process::Transfer,
        ignore_patterns: plan::JUNK_NAMES
            .iter()
            .map(|s| s.to_string())
            .chain(["._*".to_owned()])
            .collect(),
        files: entries,
        empty_directories: empty_dirs
            .into_iter()
            .filter(|d| !is_in_ascmhl_folder(d) && d != mhl::ASCMHL_FOLDER)
            .collect(),
    };
    let generation = mhl::write_generation(&destination, &list)?;
    let report = OffloadReport {
        card_root: card,
        destination,
        files: outcomes,
        not_copied,
        mhl: generation,
    };
    tracing::info!(
        destination = %report.destination.display(),
        files = report.files.len(),
        failed = report.failed().len(),
        "offload finished"
    );
    Ok(OffloadOutcome::Done(report))
}

fn chain_rel_path() -> String {
    format!("{}/{}", mhl::ASCMHL_FOLDER, mhl::CHAIN_FILE)
}

/// The card's own ASC MHL chain was copied by an earlier run, which then appended its transfer
/// generation: the destination chain must start with the card's entries.
fn extended_chain(
    src: &Path,
    dst: &Path,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(checksum::Progress),
) -> Result<(Hashes, bool, DateTime<Utc>), OffloadError> {
    let source_chain = mhl::read_chain(src)?;
    let dest_chain = mhl::read_chain(dst)?;
    if !dest_chain.starts_with(&source_chain) {
        return Err(OffloadError::ExistingDiffers {
            path: dst.to_path_buf(),
            detail: "its ASC MHL chain does not continue the card's chain".to_owned(),
        });
    }
    let source = checksum::hash_file(src, AlgorithmSet::DEFAULT, cancel, progress)?;
    Ok((source, true, Utc::now()))
}

fn is_in_ascmhl_folder(rel: &str) -> bool {
    rel.split('/').next() == Some(mhl::ASCMHL_FOLDER) && rel.contains('/')
}

/// Copies one file (or recognises an earlier identical copy). Returns the source hashes, whether
/// the destination was already complete, and when the source was hashed.
fn copy_one(
    src: &Path,
    dst: &Path,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(checksum::Progress),
) -> Result<(Hashes, bool, DateTime<Utc>), OffloadError> {
    if let Some(parent) = dst.parent() {
        create_dir(parent)?;
        remove_stale_temps(parent, dst);
    }
    match std::fs::symlink_metadata(dst) {
        Ok(meta) => {
            let differs = |detail: String| OffloadError::ExistingDiffers {
                path: dst.to_path_buf(),
                detail,
            };
            if !meta.is_file() {
                return Err(differs("not a regular file".to_owned()));
            }
            let src_len = std::fs::metadata(src)
                .map_err(|_| ChecksumError::Vanished {
                    path: src.to_path_buf(),
                })?
                .len();
            if meta.len() != src_len {
                return Err(differs(format!(
                    "{} bytes there, {src_len} bytes on the card",
                    meta.len()
                )));
            }
            let source = checksum::hash_file(src, AlgorithmSet::DEFAULT, cancel, progress)?;
            let hashed_at = Utc::now();
            let existing = checksum::hash_file(dst, AlgorithmSet::DEFAULT, cancel, &mut |_| {})?;
            let differing = source.differing(&existing);
            if !differing.is_empty() {
                return Err(differs(format!(
                    "same size but different content ({differing:?} differ)"
                )));
            }
            tracing::debug!(path = %dst.display(), "already copied and identical");
            Ok((source, true, hashed_at))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let tmp = temp_path_for(dst);
            let source =
                checksum::copy_hashing(src, &tmp, AlgorithmSet::DEFAULT, cancel, progress)?;
            let hashed_at = Utc::now();
            finish_copy(src, &tmp, dst).inspect_err(|_| {
                if let Err(err) = std::fs::remove_file(&tmp) {
                    tracing::warn!(path = %tmp.display(), %err, "cannot remove temp copy");
                }
            })?;
            Ok((source, false, hashed_at))
        }
        Err(source) => Err(OffloadError::Checksum(ChecksumError::Read {
            path: dst.to_path_buf(),
            source,
        })),
    }
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

fn create_dir(path: &Path) -> Result<(), OffloadError> {
    std::fs::create_dir_all(path).map_err(|source| OffloadError::CreateDir {
        path: path.to_path_buf(),
        source,
    })
}

/// The manifest entry: `original` records from the copy pass, then `verified` (or `failed`, with the
/// copy's value) records from the re-read. Already-present files get `verified` records only for
/// the comparison done this run, after the `original` ones.
fn mhl_entry(
    dst: &Path,
    rel_path: &str,
    source: &Hashes,
    copied_at: DateTime<Utc>,
    copy: &Hashes,
    verified_at: DateTime<Utc>,
    status: &FileStatus,
) -> FileEntry {
    let mut hashes = Vec::new();
    for algorithm in AlgorithmSet::DEFAULT.iter() {
        if let Some(v) = source.get(algorithm) {
            hashes.push(HashRecord {
                algorithm,
                value: v.to_owned(),
                action: HashAction::Original,
                hash_date: copied_at,
            });
        }
    }
    for algorithm in AlgorithmSet::DEFAULT.iter() {
        let failed = matches!(status, FileStatus::VerifyFailed { algorithms, .. } if algorithms.contains(&algorithm));
        if let Some(v) = copy.get(algorithm) {
            hashes.push(HashRecord {
                algorithm,
                value: v.to_owned(),
                action: if failed {
                    HashAction::Failed
                } else {
                    HashAction::Verified
                },
                hash_date: verified_at,
            });
        }
    }
    FileEntry {
        path: rel_path.to_owned(),
        size_bytes: source.size_bytes,
        last_modified: std::fs::metadata(dst)
            .and_then(|m| m.modified())
            .ok()
            .map(DateTime::<Utc>::from),
        hashes,
    }
}

#[cfg(test)]
mod tests;
