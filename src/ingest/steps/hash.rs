//! Disk lane: the checksum step (MD5 + xxh64 of every member file, up to `io_concurrency`
//! files at once in card order, or the hashes the offload's copy pass already made, see
//! [`super::copy`]) and the in-place ASC MHL manifest.

use super::copy::FileCopy;
use super::{ClipCtx, StepEnd, StepFail, StepResult};
use crate::checksum::{self, AlgorithmSet};
use crate::ingest::events::EventKind;
use crate::ingest::record::{CardRecord, FileRecord};
use crate::ingest::scheduler::LaneSlot;
use crate::ingest::step::Step;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

impl ClipCtx {
    /// Some member file still needs reading now (no hashes journaled, and the offload will not
    /// hash it). A file still to be copied needs no slot: its checksum waits for the copy.
    pub(super) fn needs_hashing(&self) -> bool {
        self.rec().files.iter().any(|f| {
            (f.md5.is_none() || f.xxh64.is_none())
                && matches!(
                    self.shared.offload.peek(&f.source),
                    Some(Ok(FileCopy::NotCopied))
                )
        })
    }

    /// Hashes the member files not hashed yet, each on a disk-lane slot (so up to
    /// `io_concurrency` files of this and other clips at once, earlier clips first). Each
    /// file's hashes are journaled as soon as they exist, so a resume re-reads only the rest.
    pub(super) async fn checksum(&self, first_slot: Option<LaneSlot>) -> StepResult {
        let rec = self.rec();
        let total: u64 = rec.files.iter().map(|f| f.size_bytes).sum();
        let started = Instant::now();
        let done = Arc::new(AtomicU64::new(
            rec.files
                .iter()
                .filter(|f| f.md5.is_some() && f.xxh64.is_some())
                .map(|f| f.size_bytes)
                .sum(),
        ));
        // The slot the scheduler waited for serves the first file; the others wait for theirs.
        let mut first_slot = first_slot;
        let work = rec
            .files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.md5.is_none() || f.xxh64.is_none())
            .map(|(i, f)| {
                let slot = first_slot.take();
                self.hash_member(i, f, slot, total, started, done.clone())
            })
            .collect::<Vec<_>>();
        let results = futures_util::future::join_all(work).await;
        // A cancel wins over a read error of another file: the operator asked to stop.
        if results
            .iter()
            .any(|r| r.as_ref().is_err_and(|e| e.cancelled))
        {
            return Err(StepFail::cancelled());
        }
        results.into_iter().collect::<Result<Vec<()>, StepFail>>()?;
        Ok(StepEnd::Done(Some(format!(
            "{} files, {total} bytes",
            rec.files.len()
        ))))
    }

    /// One member file: the offload's hashes (waited for, no slot held), or a read on a
    /// disk-lane slot.
    async fn hash_member(
        &self,
        index: usize,
        f: &FileRecord,
        slot: Option<LaneSlot>,
        total: u64,
        started: Instant,
        done: Arc<AtomicU64>,
    ) -> Result<(), StepFail> {
        let copied = self
            .shared
            .offload
            .wait(&f.source, &self.shared.cancel)
            .await?;
        let hashes = match copied {
            FileCopy::Verified(h) => h,
            FileCopy::Failed(reason) => return Err(StepFail::permanent(reason)),
            FileCopy::NotCopied => {
                let _slot = match slot {
                    Some(s) => s,
                    None => self
                        .shared
                        .lanes
                        .disk
                        .acquire(self.order, &self.shared.cancel)
                        .await
                        .ok_or_else(StepFail::cancelled)?,
                };
                let path = f.source.clone();
                let cancel = self.shared.cancel.clone();
                let shared = self.shared.clone();
                let rec = self.rec();
                let counter = done.clone();
                let res = tokio::task::spawn_blocking(move || {
                    let mut last = Instant::now();
                    let mut counted = 0u64;
                    let hashed =
                        checksum::hash_file(&path, AlgorithmSet::DEFAULT, &cancel, &mut |p| {
                            let delta = p.done_bytes.saturating_sub(counted);
                            let now_done = counter.fetch_add(delta, Ordering::Relaxed) + delta;
                            counted = counted.max(p.done_bytes);
                            if last.elapsed() > Duration::from_millis(250) {
                                last = Instant::now();
                                let secs = started.elapsed().as_secs_f64().max(1e-3);
                                shared.emit(
                                    &rec,
                                    Some(Step::Checksum),
                                    EventKind::Progress {
                                        done_bytes: now_done,
                                        total_bytes: total,
                                        rate_bytes_per_s: Some(now_done as f64 / secs),
                                        eta_secs: None,
                                    },
                                );
                            }
                        });
                    hashed.map(|h| (h, counted))
                })
                .await
                .map_err(|e| StepFail::permanent(e.to_string()))?;
                match res {
                    Ok((h, counted)) => {
                        // The file's bytes count once, whatever the callbacks reported.
                        done.fetch_sub(counted, Ordering::Relaxed);
                        h
                    }
                    Err(checksum::ChecksumError::Cancelled { .. }) => {
                        return Err(StepFail::cancelled());
                    }
                    Err(e) => {
                        return Err(StepFail::permanent(format!(
                            "member file {} of clip {} cannot be read: {e}",
                            f.source.display(),
                            self.sc.clip.name
                        )));
                    }
                }
            }
        };
        done.fetch_add(f.size_bytes, Ordering::Relaxed);
        self.save(|r| {
            if let Some(x) = r.files.get_mut(index) {
                x.md5 = hashes.md5.clone();
                x.xxh64 = hashes.xxh64.clone();
                x.size_bytes = hashes.size_bytes;
            }
        })
        .await?;
        self.progress(
            Step::Checksum,
            done.load(Ordering::Relaxed).min(total),
            total,
            started,
        );
        Ok(())
    }
}

/// Writes an in-place ASC MHL generation at the card root with the hashes of every clip file
/// (only when every file's hashes are known). Returns the `ascmhl` folder.
pub fn write_in_place_mhl(
    card_root: &Path,
    record: &CardRecord,
) -> Result<Option<PathBuf>, crate::mhl::MhlError> {
    use crate::checksum::Algorithm;
    use crate::mhl::{CreatorInfo, FileEntry, HashAction, HashList, HashRecord, Process};
    let now = Utc::now();
    let mut files = Vec::new();
    for c in record.clips.values() {
        for f in &c.files {
            let (Some(md5), Some(xxh)) = (&f.md5, &f.xxh64) else {
                continue;
            };
            let Ok(rel) = f.source.strip_prefix(card_root) else {
                continue;
            };
            let path = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let rec = |algorithm, value: &String| HashRecord {
                algorithm,
                value: value.clone(),
                action: HashAction::Original,
                hash_date: now,
            };
            files.push(FileEntry {
                path,
                size_bytes: f.size_bytes,
                last_modified: std::fs::metadata(&f.source)
                    .and_then(|m| m.modified())
                    .ok()
                    .map(DateTime::<Utc>::from),
                hashes: vec![rec(Algorithm::Xxh64, xxh), rec(Algorithm::Md5, md5)],
            });
        }
    }
    if files.is_empty() {
        return Ok(None);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let list = HashList {
        creator: CreatorInfo::this_tool(),
        process: Process::InPlace,
        ignore_patterns: Vec::new(),
        files,
        empty_directories: Vec::new(),
    };
    crate::mhl::write_generation(card_root, &list)?;
    Ok(Some(card_root.join("ascmhl")))
}
