//! The copy and its check, overlapped: one thread copies the card's files in order, a second
//! re-reads each copy right behind it (a one-file queue between them), so copy and read-back
//! of different files run at once and each file's result is known as soon as it is checked.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, Utc};

use super::copy::{chain_rel_path, chain_to_all, copy_to_all, is_in_ascmhl_folder};
use super::{
    FileOutcome, FileStatus, OffloadError, OffloadProgress, OffloadRequest, Phase, VerifiedFile,
    VerifyMode, cache, plan, preflight,
};
use crate::checksum::{self, AlgorithmSet, ChecksumError, Hashes};
use crate::mhl::{FileEntry, HashAction, HashRecord};

/// One source file's copies, handed from the copying thread to the verifying one: its source
/// hashes and, per destination, whether it was already there and when it was hashed.
pub(super) struct Copied<'a> {
    file: &'a plan::SourceFile,
    source: Hashes,
    hashed_at: DateTime<Utc>,
    already: Vec<bool>,
}

/// The progress callback, shared by the copying and the verifying thread.
pub(super) type SharedProgress<'p> = std::sync::Mutex<&'p mut (dyn FnMut(&OffloadProgress) + Send)>;

pub(super) fn report_progress(progress: &SharedProgress<'_>, p: OffloadProgress) {
    let mut f = progress
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    (*f)(&p)
}

/// The card's files in copy order: the `first` groups' files, then the rest as listed.
pub(super) fn copy_order<'a>(
    sources: &'a [plan::SourceFile],
    first: &[Vec<String>],
) -> Vec<&'a plan::SourceFile> {
    let index: std::collections::HashMap<&str, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.rel_path.as_str(), i))
        .collect();
    let mut taken = vec![false; sources.len()];
    let mut order = Vec::with_capacity(sources.len());
    for rel in first.iter().flatten() {
        if let Some(&i) = index.get(rel.as_str())
            && !std::mem::replace(&mut taken[i], true)
        {
            order.push(&sources[i]);
        }
    }
    order.extend(
        sources
            .iter()
            .zip(&taken)
            .filter(|(_, t)| !**t)
            .map(|(s, _)| s),
    );
    order
}

/// The copying thread: one read per source file in `order`, written to every destination,
/// then handed to the verifier. Returns whether the copies' cached pages were dropped.
pub(super) fn copy_all<'a>(
    request: &OffloadRequest,
    plan: &preflight::OffloadPlan,
    order: &[&'a plan::SourceFile],
    progress: &SharedProgress<'_>,
    after_copy: &dyn Fn(&Path),
    tx: std::sync::mpsc::SyncSender<Copied<'a>>,
    cancel: &AtomicBool,
) -> Result<bool, OffloadError> {
    let drop_cache = request.verify == VerifyMode::ReadBack;
    let mut cache_dropped = drop_cache && cache::CAN_DROP_CACHE;
    let copy_total = plan.total_bytes();
    let mut copy_base = 0u64;
    for &file in order {
        let src = plan.card.join(&file.rel_path);
        let dsts: Vec<PathBuf> = plan
            .destinations
            .iter()
            .map(|d| d.folder.join(&file.rel_path))
            .collect();
        let mut per_file = |p: checksum::Progress| {
            report_progress(
                progress,
                OffloadProgress {
                    phase: Phase::Copy,
                    file: file.rel_path.clone(),
                    done_bytes: copy_base + p.done_bytes,
                    total_bytes: copy_total,
                },
            )
        };
        let (source, already, hashed_at, dropped) = if file.rel_path == chain_rel_path() {
            chain_to_all(&src, &dsts, cancel, &mut per_file, drop_cache)?
        } else {
            copy_to_all(&src, &dsts, cancel, &mut per_file, drop_cache)?
        };
        cache_dropped &= dropped;
        copy_base += file.size_bytes;
        report_progress(
            progress,
            OffloadProgress {
                phase: Phase::Copy,
                file: file.rel_path.clone(),
                done_bytes: copy_base,
                total_bytes: copy_total,
            },
        );
        for (dst, was_there) in dsts.iter().zip(&already) {
            if !was_there {
                after_copy(dst);
            }
        }
        let copied = Copied {
            file,
            source,
            hashed_at,
            already,
        };
        if tx.send(copied).is_err() {
            // The verifier stopped (its error is the one reported).
            break;
        }
    }
    Ok(cache_dropped)
}

/// Per destination: the files' outcomes and their manifest entries.
pub(super) type Checked = (Vec<Vec<FileOutcome>>, Vec<Vec<FileEntry>>);

/// The verifying thread: checks each copied file in every destination as it arrives, and
/// reports it through `on_file` once all destinations are checked.
pub(super) fn verify_all(
    request: &OffloadRequest,
    plan: &preflight::OffloadPlan,
    progress: &SharedProgress<'_>,
    rx: std::sync::mpsc::Receiver<Copied<'_>>,
    on_file: &mut (dyn FnMut(&VerifiedFile) + Send),
    cancel: &AtomicBool,
) -> Result<Checked, OffloadError> {
    let n = plan.destinations.len();
    // Every copy is checked once; one already in place counts as checked when it is met.
    let verify_total = plan.total_bytes() * n as u64;
    let mut verify_base = 0u64;
    let mut outcomes: Vec<Vec<FileOutcome>> = vec![Vec::new(); n];
    let mut entries: Vec<Vec<FileEntry>> = vec![Vec::new(); n];
    for c in rx {
        let mut statuses = Vec::with_capacity(n);
        for (d, planned) in plan.destinations.iter().enumerate() {
            let dst = planned.folder.join(&c.file.rel_path);
            let (status, copy_hashes, verified_at) = if c.already[d] {
                (
                    FileStatus::AlreadyPresent,
                    Some(c.source.clone()),
                    c.hashed_at,
                )
            } else {
                let mut per_file = |p: checksum::Progress| {
                    report_progress(
                        progress,
                        OffloadProgress {
                            phase: Phase::Verify,
                            file: c.file.rel_path.clone(),
                            done_bytes: verify_base + p.done_bytes,
                            total_bytes: verify_total,
                        },
                    )
                };
                let (status, copy) =
                    verify_one(&dst, &c.source, request.verify, cancel, &mut per_file)?;
                (status, copy, Utc::now())
            };
            verify_base += c.file.size_bytes;
            // Also for copies found in place and size-only checks, which read nothing: the
            // bar reaches its total when the last file is checked.
            report_progress(
                progress,
                OffloadProgress {
                    phase: Phase::Verify,
                    file: c.file.rel_path.clone(),
                    done_bytes: verify_base,
                    total_bytes: verify_total,
                },
            );
            if !is_in_ascmhl_folder(&c.file.rel_path) {
                entries[d].push(mhl_entry(
                    &dst,
                    &c.file.rel_path,
                    &c.source,
                    c.hashed_at,
                    copy_hashes.as_ref(),
                    verified_at,
                    &status,
                ));
            }
            outcomes[d].push(FileOutcome {
                rel_path: c.file.rel_path.clone(),
                size_bytes: c.file.size_bytes,
                source: c.source.clone(),
                status: status.clone(),
            });
            statuses.push(status);
        }
        on_file(&VerifiedFile {
            rel_path: c.file.rel_path.clone(),
            source_path: plan.card.join(&c.file.rel_path),
            source: c.source,
            statuses,
        });
    }
    Ok((outcomes, entries))
}

/// Checks one fresh copy against the source hashes ([`VerifyMode`]). Returns the status and the
/// copy's hashes when they were computed.
fn verify_one(
    dst: &Path,
    source: &Hashes,
    mode: VerifyMode,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(checksum::Progress),
) -> Result<(FileStatus, Option<Hashes>), OffloadError> {
    match mode {
        VerifyMode::ReadBack => {
            let copy = checksum::hash_file(dst, AlgorithmSet::DEFAULT, cancel, progress)?;
            let differing = if copy.size_bytes == source.size_bytes {
                source.differing(&copy)
            } else {
                AlgorithmSet::DEFAULT.iter().collect()
            };
            // The verified bytes need not stay in memory (an offload reads hundreds of GB).
            if let Ok(f) = File::open(dst) {
                cache::drop_cached_pages(&f);
            }
            if differing.is_empty() {
                Ok((FileStatus::Verified, Some(copy)))
            } else {
                tracing::error!(path = %dst.display(), ?differing, "copy does not match the card");
                Ok((
                    FileStatus::VerifyFailed {
                        copy: copy.clone(),
                        algorithms: differing,
                    },
                    Some(copy),
                ))
            }
        }
        VerifyMode::Size => {
            let len = std::fs::metadata(dst)
                .map_err(|source| ChecksumError::Read {
                    path: dst.to_path_buf(),
                    source,
                })?
                .len();
            if len == source.size_bytes {
                Ok((FileStatus::SizeMatched, None))
            } else {
                tracing::error!(path = %dst.display(), len, expected = source.size_bytes, "copy has the wrong size");
                Ok((
                    FileStatus::VerifyFailed {
                        copy: Hashes {
                            size_bytes: len,
                            ..Hashes::default()
                        },
                        algorithms: Vec::new(),
                    },
                    None,
                ))
            }
        }
    }
}

/// The manifest entry: `original` records from the copy pass, then `verified` (or `failed`, with the
/// copy's value) records from the re-read. Already-present files get `verified` records only for
/// the comparison done this run, after the `original` ones.
fn mhl_entry(
    dst: &Path,
    rel_path: &str,
    source: &Hashes,
    copied_at: DateTime<Utc>,
    copy: Option<&Hashes>,
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
    // Size-only checks hashed nothing again: the manifest then holds `original` records only.
    for algorithm in AlgorithmSet::DEFAULT.iter() {
        let failed = matches!(status, FileStatus::VerifyFailed { algorithms, .. } if algorithms.contains(&algorithm));
        if let Some(v) = copy.and_then(|c| c.get(algorithm)) {
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
