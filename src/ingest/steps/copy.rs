//! Disk lane: the offload copy. The card (and each card a spanned clip touches) is copied in
//! the background while the clips run: clip 1's files first, then clip 2's, …, then the files
//! of no clip ([`crate::offload::OffloadRequest::first`]), each verified right behind its copy.
//! A clip's [`Step::Offload`] waits — holding no lane slot — until every one of its files is
//! checked, so the first clips are registered while the last ones are still being copied; its
//! checksum then takes the hashes of the copy's one read.

use super::{ClipCtx, StepEnd, StepFail, StepResult};
use crate::card::Card;
use crate::checksum::Hashes;
use crate::ingest::engine::{Engine, IngestError, Shared};
use crate::ingest::events::{EventKind, IngestEvent};
use crate::ingest::record::OffloadCopy;
use crate::ingest::step::Step;
use crate::offload::{self, FileStatus, OffloadOutcome, OffloadRequest, VerifiedFile};
use crate::scan::ScannedClip;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// How often a waiting clip looks at the cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// What the offload says about one source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileCopy {
    /// Every destination's copy checked out; the source hashes of the copy pass.
    Verified(Hashes),
    /// A copy differs from the card: the sentence to show.
    Failed(String),
    /// The offload ended without copying it (no offload, or not on a copied card).
    NotCopied,
}

/// The offload's results as files are checked, shared with the clips that wait for them.
#[derive(Debug)]
pub(crate) struct OffloadState {
    inner: Mutex<Inner>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct Inner {
    files: HashMap<PathBuf, FileCopy>,
    /// `None` while the offload runs; `Err` with the reason when it stopped early.
    ended: Option<Result<(), String>>,
}

impl OffloadState {
    /// No offload this run: every file is [`FileCopy::NotCopied`].
    pub fn none() -> Self {
        let state = Self::running();
        state.end(Ok(()));
        state
    }

    /// An offload about to start.
    pub fn running() -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn file_checked(&self, path: PathBuf, copy: FileCopy) {
        self.lock().files.insert(path, copy);
        self.changed.notify_waiters();
    }

    fn end(&self, result: Result<(), String>) {
        self.lock().ended = Some(result);
        self.changed.notify_waiters();
    }

    /// What is known of `path` now: `None` while its copy is still to come; `Err` when the
    /// offload stopped before checking it.
    pub fn peek(&self, path: &Path) -> Option<Result<FileCopy, String>> {
        let inner = self.lock();
        if let Some(c) = inner.files.get(path) {
            return Some(Ok(c.clone()));
        }
        match &inner.ended {
            None => None,
            Some(Ok(())) => Some(Ok(FileCopy::NotCopied)),
            Some(Err(e)) => Some(Err(e.clone())),
        }
    }

    /// Waits until `path` is checked (or the offload ends); a cancel stops the wait.
    pub async fn wait(&self, path: &Path, cancel: &AtomicBool) -> Result<FileCopy, StepFail> {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before the look, so a result landing in between is not missed.
            changed.as_mut().enable();
            if cancel.load(Ordering::Relaxed) {
                return Err(StepFail::cancelled());
            }
            match self.peek(path) {
                Some(Ok(c)) => return Ok(c),
                Some(Err(e)) => {
                    return Err(StepFail::permanent(format!(
                        "the offload stopped before {} was copied and verified: {e}; \
                         nothing was registered",
                        path.display()
                    )));
                }
                None => {}
            }
            tokio::select! {
                () = &mut changed => {}
                () = tokio::time::sleep(CANCEL_POLL) => {}
            }
        }
    }
}

impl ClipCtx {
    /// Whether the clip's files are copied before they are registered.
    pub(crate) fn offloading(&self) -> bool {
        self.shared.offload_destination.is_some()
    }

    /// The offload step: waits for every member file's checked copy.
    pub(super) async fn offload(&self) -> StepResult {
        let Some(dest) = self.shared.offload_destination.clone() else {
            return Ok(StepEnd::Skipped(
                "registered in place (no --offload-to)".into(),
            ));
        };
        for f in &self.sc.clip.files {
            if let FileCopy::Failed(reason) = self
                .shared
                .offload
                .wait(&f.path, &self.shared.cancel)
                .await?
            {
                return Err(StepFail::permanent(reason));
            }
        }
        Ok(StepEnd::Done(Some(format!(
            "copied and verified to {}",
            dest.display()
        ))))
    }

    /// The clip as its later steps read it (describe, proxy encode): from the first-tier copy
    /// once every member file's copy there is verified — the card may be released and ejected
    /// by then — else from the card. With the (card root, copy root) mapping when moved. A
    /// span clip's members on another card keep being read from the cards.
    pub(crate) fn read_clip(&self) -> (crate::card::Clip, Option<(PathBuf, PathBuf)>) {
        let clip = self.sc.clip.clone();
        let Some(copy) = self.shared.offload_destination.clone() else {
            return (clip, None);
        };
        let card = self.shared.card.root.clone();
        let verified = clip.files.iter().all(|f| {
            f.path.starts_with(&card)
                && matches!(
                    self.shared.offload.peek(&f.path),
                    Some(Ok(FileCopy::Verified(_)))
                )
        });
        if !verified {
            return (clip, None);
        }
        let mut moved = clip.clone();
        for f in &mut moved.files {
            if let Ok(rel) = f.path.strip_prefix(&card) {
                f.path = copy.join(rel);
            }
        }
        moved.card_root = copy.clone();
        (moved, Some((card, copy)))
    }

    /// The reason a member file's copy is refused, if one is.
    pub(super) fn offload_failure(&self) -> Option<String> {
        self.sc
            .clip
            .files
            .iter()
            .find_map(|f| match self.shared.offload.peek(&f.path) {
                Some(Ok(FileCopy::Failed(reason))) => Some(reason),
                _ => None,
            })
    }
}

/// One card to copy and its request (the clips' files on it first, in card order).
struct CardCopy {
    card: Card,
    request: OffloadRequest,
}

/// Starts the offload of the job's cards (this card, then each span card) on a blocking thread;
/// the clips wait on `shared.offload`. The task saves the copies in the card record when every
/// card is done, then ends the state; its error names the card.
pub(crate) fn start(
    engine: &Engine,
    shared: &Arc<Shared>,
    cards: Vec<(Card, Option<PathBuf>)>,
    clips: &[ScannedClip],
    queued: Vec<offload::drives::Reservation>,
) -> tokio::task::JoinHandle<Result<(), IngestError>> {
    // The same request as the card's pre-flight (the engine's `card_paths`), so the copy lands
    // in the folder the clips are registered from: same pattern, names and date.
    let names = engine
        .options
        .name_values(clips.iter().map(|c| &c.metadata));
    let copies: Vec<CardCopy> = cards
        .into_iter()
        .filter(|(_, dest)| dest.is_some())
        .filter_map(|(card, _)| {
            let mut request = engine
                .options
                .offload_request(card.root.clone(), names.clone())?;
            request.first = clip_order(&card.root, clips);
            Some(CardCopy { card, request })
        })
        .collect();
    let hook = engine.offload_after_copy.clone();
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            copy_cards(&shared, &copies, hook.as_ref().map(|h| &*h.0))
        }));
        // Ended whatever happened, so no clip waits for a copy that will never come.
        shared.offload.end(match &result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("the offload stopped unexpectedly".to_owned()),
        });
        // The copies are written: their bytes leave the drives' queues.
        drop(queued);
        result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Takes a writer slot on every drive of `destinations` (waiting while other cards' copies
/// hold them, and saying so); `None` on cancel.
fn writer_slots(shared: &Shared, destinations: &[&Path]) -> Option<offload::drives::WriterSlots> {
    let drives = offload::drives::drives_of(destinations.iter().copied());
    let cap = shared.options.writers_per_drive;
    offload::drives::acquire(&drives, cap, &shared.cancel, &mut |busy| {
        let names: Vec<String> = destinations
            .iter()
            .filter(|d| offload::volume::volume_id(d).is_ok_and(|v| busy.contains(&v)))
            .map(|d| d.display().to_string())
            .collect();
        tracing::info!(destinations = ?names, cap, "waiting for a drive's writer slot");
        shared.events.send(IngestEvent::card(EventKind::Notice {
            level: crate::ingest::events::NoticeLevel::Info,
            message: format!(
                "waiting for the drive of {}: another card is writing to it ({cap} writer(s) per \
                 drive)",
                names.join(", ")
            ),
        }));
    })
}

/// Each clip's files on `root`, relative to it, in card order.
fn clip_order(root: &Path, clips: &[ScannedClip]) -> Vec<Vec<String>> {
    clips
        .iter()
        .map(|sc| {
            sc.clip
                .files
                .iter()
                .filter_map(|f| f.path.strip_prefix(root).ok())
                .map(|rel| {
                    rel.components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .collect()
        })
        .collect()
}

fn copy_cards(
    shared: &Shared,
    copies: &[CardCopy],
    hook: Option<&(dyn Fn(&Path) + Send + Sync)>,
) -> Result<(), IngestError> {
    let mut destination = None;
    let mut records = Vec::new();
    let mut tiers: Vec<(&CardCopy, PathBuf)> = Vec::new();
    for c in copies {
        let events = shared.events.clone();
        // Copy and read-back run at once: one bar over both (the card's bytes once for the
        // copy, once per destination for the check), so it fills once and hides at the end.
        let copies = 1 + c.request.also_to.len() as u64;
        let (mut copied, mut checked) = (0u64, 0u64);
        let mut progress = |p: &offload::OffloadProgress| {
            // Paused by the operator: the copy (on its own blocking thread) holds here, between
            // two blocks, until resumed or cancelled.
            while shared.options.pause.is_paused() && !shared.stopping() {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            let card_bytes = match p.phase {
                offload::Phase::Copy => {
                    copied = p.done_bytes;
                    p.total_bytes
                }
                offload::Phase::Verify => {
                    checked = p.done_bytes;
                    p.total_bytes / copies
                }
            };
            events.send(IngestEvent {
                clip_id: None,
                clip_name: None,
                step: Some(Step::Offload),
                lane: Some(Step::Offload.lane()),
                kind: EventKind::Progress {
                    done_bytes: copied + checked,
                    total_bytes: card_bytes * (1 + copies),
                    rate_bytes_per_s: None,
                    eta_secs: None,
                },
            });
        };
        let root = c.card.root.clone();
        let mut on_file = |v: &VerifiedFile| {
            shared
                .offload
                .file_checked(root.join(&v.rel_path), file_copy(v));
        };
        let dests: Vec<&Path> = std::iter::once(c.request.destination_root.as_path())
            .chain(c.request.also_to.iter().map(PathBuf::as_path))
            .collect();
        let Some(slots) = writer_slots(shared, &dests) else {
            return Err(IngestError::Offload {
                card: c.card.root.clone(),
                source: offload::OffloadError::Cancelled,
            });
        };
        let outcome = offload::offload_each(
            &c.request,
            &shared.cancel,
            &mut progress,
            &|p| {
                if let Some(h) = hook {
                    h(p)
                }
            },
            &mut on_file,
        )
        .map_err(|source| IngestError::Offload {
            card: c.card.root.clone(),
            source,
        })?;
        drop(slots);
        if let OffloadOutcome::Done(report) = outcome {
            destination.get_or_insert_with(|| report.primary().destination.clone());
            records.extend(
                report
                    .destinations
                    .iter()
                    .map(|d| OffloadCopy::of(d, &report)),
            );
            // Every first-tier copy of every file matched: nothing needs the card any more
            // (the clips read their copies from now on, `ClipCtx::read_clip`).
            if report.all_verified() {
                let primary = report.primary();
                tracing::info!(card = %c.card.root.display(), from = %primary.root.display(), "card released");
                shared
                    .events
                    .send(IngestEvent::card(EventKind::CardReleased {
                        card: c.card.root.display().to_string(),
                        from: primary.root.display().to_string(),
                        copy: primary.destination.display().to_string(),
                    }));
                if !c.request.cascade_to.is_empty() {
                    tiers.push((c, primary.destination.clone()));
                }
            } else {
                tracing::warn!(card = %c.card.root.display(), "a first-tier copy differs: the card is not released and no later tier is filled");
            }
        }
    }
    // The later tiers, once every card is released: each from its card's verified copy.
    for (c, copy) in tiers {
        for tier in &c.request.cascade_to {
            records.push(cascade(shared, c, &copy, tier)?);
        }
    }
    // Saved once every card is copied: the report, the erase verdict and the manifest path
    // read them at the end of the run.
    if let Some(d) = destination {
        // On the copy's blocking thread: wait here for the write.
        tokio::runtime::Handle::current().block_on(shared.journal.update_card(|record| {
            record.offload_destination = Some(d);
            record.offload_copies = records;
        }))?;
    }
    Ok(())
}

/// One later tier of a released card, filled from its first-tier `copy`. A failure is recorded
/// (the verdict counts the copy as missing) and said, never the job's error: the card is
/// released and registered already. Only a cancel stops the job.
fn cascade(
    shared: &Shared,
    c: &CardCopy,
    copy: &Path,
    tier: &Path,
) -> Result<OffloadCopy, IngestError> {
    let request = c.request.cascade_request(copy, tier);
    let events = shared.events.clone();
    let (mut copied, mut checked) = (0u64, 0u64);
    let mut progress = |p: &offload::OffloadProgress| {
        while shared.options.pause.is_paused() && !shared.stopping() {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        match p.phase {
            offload::Phase::Copy => copied = p.done_bytes,
            offload::Phase::Verify => checked = p.done_bytes,
        }
        events.send(IngestEvent {
            clip_id: None,
            clip_name: None,
            step: Some(Step::Offload),
            lane: Some(Step::Offload.lane()),
            kind: EventKind::Progress {
                done_bytes: copied + checked,
                total_bytes: p.total_bytes * 2,
                rate_bytes_per_s: None,
                eta_secs: None,
            },
        });
    };
    let Some(slots) = writer_slots(shared, &[tier]) else {
        return Err(IngestError::Offload {
            card: c.card.root.clone(),
            source: offload::OffloadError::Cancelled,
        });
    };
    let outcome = offload::offload_each(
        &request,
        &shared.cancel,
        &mut progress,
        &|_| {},
        &mut |_| {},
    );
    drop(slots);
    let failed = |error: String| OffloadCopy {
        destination: tier.to_path_buf(),
        verify: request.verify.as_str().to_owned(),
        copied_from: Some(copy.to_path_buf()),
        error: Some(error),
        ..OffloadCopy::default()
    };
    let record = match outcome {
        Ok(OffloadOutcome::Done(report)) => {
            let mut record = OffloadCopy::of(report.primary(), &report);
            record.copied_from = Some(copy.to_path_buf());
            record
        }
        Ok(OffloadOutcome::AlreadyAtDestination { .. }) => {
            failed("the first tier's copy already lies under this destination".to_owned())
        }
        Err(offload::OffloadError::Cancelled) => {
            return Err(IngestError::Offload {
                card: c.card.root.clone(),
                source: offload::OffloadError::Cancelled,
            });
        }
        Err(e) => failed(e.to_string()),
    };
    let problem = record.error.clone().or_else(|| {
        (!record.failed.is_empty()).then(|| format!("{} files differ", record.failed.len()))
    });
    if let Some(problem) = problem {
        tracing::warn!(tier = %tier.display(), from = %copy.display(), %problem, "later-tier copy failed");
        events.send(IngestEvent::card(EventKind::Notice {
            level: crate::ingest::events::NoticeLevel::Warning,
            message: format!(
                "later-tier copy to {} from {} failed: {problem}; the card was released before, \
                 its verdict counts this copy as missing",
                tier.display(),
                copy.display()
            ),
        }));
    }
    Ok(record)
}

/// The registered copy is the primary one; a failed further copy does not stop registration
/// but keeps the card from being safe to erase (its record says which).
fn file_copy(v: &VerifiedFile) -> FileCopy {
    match v.statuses.first() {
        Some(FileStatus::VerifyFailed { algorithms, .. }) => {
            let differing = algorithms
                .iter()
                .map(|a| a.mhl_name())
                .collect::<Vec<_>>()
                .join(", ");
            FileCopy::Failed(format!(
                "the offloaded copy of {} differs from the card ({differing}): \
                 re-run the offload; nothing was registered",
                v.rel_path
            ))
        }
        _ => FileCopy::Verified(v.source.clone()),
    }
}
