//! Disk lane: the checksum step (MD5 + xxh64 of every member file, up to `io_concurrency`
//! files at once in card order, or the hashes the offload's copy pass already made), the
//! card-level offload copy, and the in-place ASC MHL manifest.

use super::{ClipCtx, StepEnd, StepFail, StepResult};
use crate::card::Card;
use crate::checksum::{self, AlgorithmSet, Hashes};
use crate::ingest::engine::{Engine, IngestError};
use crate::ingest::events::EventKind;
use crate::ingest::events::{EventSink, IngestEvent};
use crate::ingest::record::{CardRecord, FileRecord};
use crate::ingest::scheduler::LaneSlot;
use crate::ingest::step::Step;
use crate::offload::{self, OffloadOutcome, OffloadRequest};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

impl ClipCtx {
    /// Some member file still needs reading (no hashes journaled, none from the offload).
    pub(super) fn needs_hashing(&self) -> bool {
        self.rec().files.iter().any(|f| {
            (f.md5.is_none() || f.xxh64.is_none())
                && !self.shared.offload_hashes.contains_key(&f.source)
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

    /// One member file: the offload's hashes, or a read on a disk-lane slot.
    async fn hash_member(
        &self,
        index: usize,
        f: &FileRecord,
        slot: Option<LaneSlot>,
        total: u64,
        started: Instant,
        done: Arc<AtomicU64>,
    ) -> Result<(), StepFail> {
        let hashes = match self.shared.offload_hashes.get(&f.source) {
            Some(h) => h.clone(),
            None => {
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
        })?;
        self.progress(
            Step::Checksum,
            done.load(Ordering::Relaxed).min(total),
            total,
            started,
        );
        Ok(())
    }
}

/// What the card-level offload left for the clips.
#[derive(Debug, Default)]
pub(crate) struct CardOffload {
    /// Source hashes from the copy pass (one read per file), by source path.
    pub hashes: HashMap<PathBuf, Hashes>,
    /// Source files whose copy failed verification, with the sentence to show.
    pub failed: HashMap<PathBuf, String>,
    /// The folder the card was copied to (the primary copy, the one registered).
    pub destination: Option<PathBuf>,
    /// Every destination's copy and how it checked out (primary first).
    pub copies: Vec<crate::ingest::record::OffloadCopy>,
}

/// The offload (disk lane, card level): copies the card to `destination` and verifies it once
/// before any clip starts; clips then read their hashes from the copy pass. Nothing to do
/// without `--offload-to` (or when the card already lies under it).
pub(crate) async fn offload_card(
    engine: &Engine,
    card: &Card,
    card_root: &Path,
    destination: Option<&Path>,
    events: &EventSink,
    cancel: &Arc<AtomicBool>,
) -> Result<CardOffload, IngestError> {
    let mut out = CardOffload::default();
    let Some(dest_root) = engine
        .options
        .offload_to
        .clone()
        .filter(|_| destination.is_some())
    else {
        return Ok(out);
    };
    let mut request = OffloadRequest::new(
        card_root.to_path_buf(),
        dest_root,
        engine.options.offload_pattern.clone(),
        Utc::now().date_naive(),
        crate::mhl::CreatorInfo::this_tool(),
    );
    request.also_to = engine.options.offload_also.clone();
    request.verify = engine.options.verify;
    request.allow_same_volume = engine.options.allow_same_volume;
    let hook = engine.offload_after_copy.clone();
    let (cancel2, events2) = (cancel.clone(), events.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        let mut progress = |p: &offload::OffloadProgress| {
            events2.send(IngestEvent {
                clip_id: None,
                clip_name: None,
                step: Some(Step::Offload),
                lane: Some(Step::Offload.lane()),
                kind: EventKind::Progress {
                    done_bytes: p.done_bytes,
                    total_bytes: p.total_bytes,
                    rate_bytes_per_s: None,
                    eta_secs: None,
                },
            });
        };
        match hook {
            Some(h) => offload::offload_observed(&request, &cancel2, &mut progress, &*h.0),
            None => offload::offload(&request, &cancel2, &mut progress),
        }
    })
    .await
    .map_err(|e| IngestError::Interrupted(e.to_string()))?
    .map_err(|source| IngestError::Offload {
        card: card.root.clone(),
        source,
    })?;
    let OffloadOutcome::Done(report) = outcome else {
        return Ok(out);
    };
    out.destination = Some(report.primary().destination.clone());
    out.copies = report
        .destinations
        .iter()
        .map(|d| crate::ingest::record::OffloadCopy::of(d, &report))
        .collect();
    // The registered copy is the primary one; a failed further copy does not stop registration
    // but keeps the card from being safe to erase (its record says which).
    for f in &report.primary().files {
        let src = card_root.join(&f.rel_path);
        match &f.status {
            offload::FileStatus::VerifyFailed {
                algorithms: differing,
                ..
            } => {
                let differing = differing
                    .iter()
                    .map(|a| a.mhl_name())
                    .collect::<Vec<_>>()
                    .join(", ");
                out.failed.insert(
                    src,
                    format!(
                        "the offloaded copy of {} differs from the card ({differing}): \
                         re-run the offload; nothing was registered",
                        f.rel_path
                    ),
                );
            }
            _ => {
                out.hashes.insert(src, f.source.clone());
            }
        }
    }
    Ok(out)
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
