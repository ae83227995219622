//! Runs one card job: offload (optional), then per clip a task that walks the [`Step`]s,
//! saving the journal after every step result. API work of different clips overlaps up to
//! `concurrency`; hashing and proxy encoding run on blocking threads (one encode at a time, the
//! machine has few cores); every iconik call is paced under the rate limit. One clip's failure
//! never stops the others; a 401 stops the whole job; cancellation stops at the next step or
//! retry boundary.

use super::commands::IngestCommand;
use super::events::{EventKind, EventSink, IngestEvent};
use super::journal::{CardKey, Journal, JournalError, JournalStore};
use super::options::IngestOptions;
use super::record::{CardRecord, ClipRecord, FileRecord, StepRecord, StepState};
use super::retry::{Pacer, TOKEN_REFUSED};
use super::step::Step;
use super::steps::{self, StepEnd, StepFail};
use crate::card::Card;
use crate::checksum::Hashes;
use crate::iconik::models::{CollectionCreate, StorageId};
use crate::iconik::upload::UploadHttp;
use crate::iconik::{Client, Error as IconikError};
use crate::media::Tools;
use crate::offload::{self, OffloadError, OffloadOutcome, OffloadRequest};
use crate::scan::ScannedClip;
use chrono::Utc;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, mpsc};

/// Why a card job could not run (clip failures are not errors: they are in the record).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(
        "{path} is not under the storage root {root}: iconik paths are relative to the storage's \
         mount; pass --storage-root (the local mount of the iconik storage) or --offload-to"
    )]
    NotUnderStorageRoot { path: PathBuf, root: PathBuf },
    #[error("storage root {path} cannot be read: {source}")]
    StorageRoot {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no iconik storage has the id or name {wanted:?} (known: {known})")]
    StorageNotFound { wanted: String, known: String },
    #[error("iconik call failed while {doing}: {source}")]
    Iconik {
        doing: &'static str,
        #[source]
        source: IconikError,
    },
    #[error("{TOKEN_REFUSED}")]
    TokenRefused,
    #[error("offload of {card} failed: {source}")]
    Offload {
        card: PathBuf,
        #[source]
        source: OffloadError,
    },
    #[error("ingest cancelled")]
    Cancelled,
    #[error("a background task of the ingest was interrupted: {0}")]
    Interrupted(String),
}

impl IngestError {
    fn iconik(doing: &'static str, source: IconikError) -> Self {
        if source.is_auth() {
            IngestError::TokenRefused
        } else {
            IngestError::Iconik { doing, source }
        }
    }
}

/// One card and the clips of it to ingest.
#[derive(Debug, Clone)]
pub struct CardJob {
    pub card: Card,
    pub clips: Vec<ScannedClip>,
}

/// What a card job ended with.
#[derive(Debug, Clone)]
pub struct CardOutcome {
    pub card: Card,
    pub record: CardRecord,
    pub journal_path: PathBuf,
    /// The ASC MHL generation written for this run (copy root or card root).
    pub mhl: Option<PathBuf>,
    /// iconik refused the token: the job stopped early.
    pub token_refused: bool,
    pub cancelled: bool,
}

impl CardOutcome {
    /// Every clip complete (skipped duplicates count as complete: nothing is left to do).
    pub fn all_complete(&self) -> bool {
        !self.token_refused
            && !self.cancelled
            && self.record.clips.values().all(|c| c.is_complete())
    }
}

/// The engine: clients, tools, journal folder and options shared by card jobs.
#[derive(Debug, Clone)]
pub struct Engine {
    pub client: Client,
    pub upload: UploadHttp,
    pub tools: Tools,
    /// ffmpeg for proxies (`None`: proxies fail with a clear message).
    pub ffmpeg: Option<PathBuf>,
    pub store: JournalStore,
    pub options: IngestOptions,
    /// Test seam: called with each offloaded file between copy and verify.
    pub offload_after_copy: Option<OffloadHook>,
}

/// A callback on each offloaded file between copy and verify (tests corrupt copies there).
#[derive(Clone)]
pub struct OffloadHook(pub Arc<dyn Fn(&Path) + Send + Sync>);

impl std::fmt::Debug for OffloadHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OffloadHook")
    }
}

/// State shared by the clip tasks of one card job.
pub(crate) struct Shared {
    pub client: Client,
    pub upload: UploadHttp,
    pub tools: Tools,
    pub ffmpeg: Option<PathBuf>,
    pub options: IngestOptions,
    pub events: EventSink,
    pub pacer: Pacer,
    pub journal: Mutex<(Journal<CardRecord>, CardRecord)>,
    pub api: Semaphore,
    pub encode: Semaphore,
    pub hashing: Semaphore,
    pub cancel: Arc<AtomicBool>,
    pub token_refused: AtomicBool,
    pub storage_id: StorageId,
    pub collection_id: Option<crate::iconik::models::CollectionId>,
    /// Collections of clips the operator put elsewhere, by clip id.
    pub clip_collections: HashMap<String, crate::iconik::models::CollectionId>,
    /// Source hashes from the offload's copy pass (one read per file).
    pub offload_hashes: HashMap<PathBuf, Hashes>,
    /// Source files whose offloaded copy failed verification, with the reason.
    pub offload_failed: HashMap<PathBuf, String>,
    pub offload_destination: Option<PathBuf>,
}

impl Shared {
    /// Applies `f` to the clip's record and saves the journal before returning.
    pub fn update(
        &self,
        clip_id: &str,
        f: impl FnOnce(&mut ClipRecord),
    ) -> Result<(), JournalError> {
        let mut guard = self
            .journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (journal, record) = &mut *guard;
        if let Some(clip) = record.clips.get_mut(clip_id) {
            f(clip);
        }
        journal.save(record)
    }

    /// A copy of the clip's record.
    pub fn clip(&self, clip_id: &str) -> ClipRecord {
        let guard = self
            .journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.1.clips.get(clip_id).cloned().unwrap_or_default()
    }

    /// The collection the clip goes into: its own, else the card's.
    pub fn collection_for(&self, clip_id: &str) -> Option<crate::iconik::models::CollectionId> {
        self.clip_collections
            .get(clip_id)
            .copied()
            .or(self.collection_id)
    }

    pub fn stopping(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub fn emit(&self, clip: &ClipRecord, step: Option<Step>, kind: EventKind) {
        self.events.send(IngestEvent {
            clip_id: Some(clip.clip_id.clone()),
            clip_name: Some(clip.name.clone()),
            step,
            kind,
        });
    }
}

impl Engine {
    /// `POST collections/` with `title`, paced.
    async fn create_collection(
        &self,
        pacer: &Pacer,
        title: &str,
    ) -> Result<crate::iconik::models::CollectionId, IngestError> {
        pacer.wait(&self.client).await;
        let c = self
            .client
            .collections()
            .create(&CollectionCreate {
                title: title.to_owned(),
                ..CollectionCreate::default()
            })
            .await
            .map_err(|e| IngestError::iconik("creating a collection", e))?;
        Ok(c.id)
    }

    /// Ingests `job`. `commands` (optional) takes [`IngestCommand`]s while the job runs; the
    /// job ends when every clip task is done and the command sender is dropped (or at once
    /// without a command channel).
    pub async fn run_card(
        &self,
        job: CardJob,
        events: EventSink,
        mut commands: Option<mpsc::UnboundedReceiver<IngestCommand>>,
        cancel: Arc<AtomicBool>,
    ) -> Result<CardOutcome, IngestError> {
        let card = job.card.clone();
        let server = self.client.base_url().to_string();
        let key = CardKey::for_card(&card.root, &format!("{}|{server}", card.family.as_str()))?;
        let journal: Journal<CardRecord> = self.store.open(&key)?;
        let journal_path = journal.path().to_path_buf();
        let mut record = match journal.load() {
            Ok(Some(r)) => r,
            Ok(None) => CardRecord::default(),
            Err(JournalError::Corrupt { .. }) => CardRecord::default(),
            Err(e) => return Err(e.into()),
        };
        record.card_root = card.root.clone();
        record.server = server;

        // Paths first: a card that cannot be registered fails before any API call.
        let storage_root = std::fs::canonicalize(&self.options.storage_root).map_err(|source| {
            IngestError::StorageRoot {
                path: self.options.storage_root.clone(),
                source,
            }
        })?;
        let card_root = std::fs::canonicalize(&card.root).unwrap_or_else(|_| card.root.clone());
        // The offload's pre-flight: every destination's folder (a different card of the same
        // name gets its own), free space and same-volume refusals, before any byte is written.
        let offload_request = self.options.offload_to.as_ref().map(|to| {
            let mut r = OffloadRequest::new(
                card_root.clone(),
                to.clone(),
                self.options.offload_pattern.clone(),
                Utc::now().date_naive(),
                crate::mhl::CreatorInfo::this_tool(),
            );
            r.also_to = self.options.offload_also.clone();
            r.verify = self.options.verify;
            r.allow_same_volume = self.options.allow_same_volume;
            r
        });
        let offload_plan = match &offload_request {
            Some(r) => offload::preflight(r).map_err(|source| IngestError::Offload {
                card: card.root.clone(),
                source,
            })?,
            None => None,
        };
        let destination = offload_plan
            .as_ref()
            .map(|p| p.destinations[0].folder.clone());
        let registered_root = destination.clone().unwrap_or_else(|| card_root.clone());
        if !registered_root.starts_with(&storage_root) {
            return Err(IngestError::NotUnderStorageRoot {
                path: registered_root,
                root: storage_root,
            });
        }

        for sc in &job.clips {
            let clip = &sc.clip;
            let rec = record
                .clips
                .entry(clip.id.clone())
                .or_insert_with(|| ClipRecord::new(&clip.id, &clip.name));
            if rec.files.is_empty() {
                rec.files = clip
                    .files
                    .iter()
                    .map(|f| {
                        file_record(&f.path, f.size, &card_root, &registered_root, &storage_root)
                    })
                    .collect();
            }
            if let Some(outside) = rec
                .files
                .iter()
                .find(|f| !f.registered.starts_with(&storage_root))
            {
                return Err(IngestError::NotUnderStorageRoot {
                    path: outside.registered.clone(),
                    root: storage_root,
                });
            }
            rec.title = match self.options.clip_titles.get(&clip.id) {
                Some(t) if !t.trim().is_empty() => t.trim().to_owned(),
                _ => steps::title(&self.options.title_template, sc, &card),
            };
            if let Some(reason) = &clip.incomplete {
                for s in Step::ALL {
                    rec.steps.entry(s).or_default().state = StepState::Skipped {
                        reason: format!("incomplete clip: {reason}"),
                    };
                }
            }
        }
        journal.save(&record)?;
        events.send(IngestEvent::card(EventKind::CardStarted {
            card: card.root.display().to_string(),
            clips: job.clips.len(),
        }));

        // Storage, collection: the first API calls.
        let pacer = Pacer::new(self.options.max_calls_per_second);
        pacer.wait(&self.client).await;
        let storage_id = steps::resolve_storage(&self.client, &self.options.storage)
            .await
            .map_err(|e| match e {
                steps::StorageLookup::Api(e) => IngestError::iconik("looking up the storage", e),
                steps::StorageLookup::NotFound { wanted, known } => {
                    IngestError::StorageNotFound { wanted, known }
                }
            })?;
        record.storage_id = Some(storage_id);
        let collection_id = match (&self.options.collection, record.collection_id) {
            (None, _) => None,
            (Some(_), Some(id)) => Some(id),
            (Some(title), None) => {
                let id = self.create_collection(&pacer, title).await?;
                record.collection_id = Some(id);
                Some(id)
            }
        };
        // Per-clip collections (the operator's edits): one each, made once per card record.
        let mut clip_collections = HashMap::new();
        for sc in &job.clips {
            let Some(title) = self
                .options
                .clip_collections
                .get(&sc.clip.id)
                .map(|t| t.trim())
                .filter(|t| !t.is_empty())
            else {
                continue;
            };
            let id = match (self.options.collection.as_deref(), collection_id) {
                (Some(default), Some(id)) if default == title => id,
                _ => match record.collections.get(title) {
                    Some(id) => *id,
                    None => {
                        let id = self.create_collection(&pacer, title).await?;
                        record.collections.insert(title.to_owned(), id);
                        journal.save(&record)?;
                        id
                    }
                },
            };
            clip_collections.insert(sc.clip.id.clone(), id);
        }
        journal.save(&record)?;

        // Offload (card level): copy + verify once; clips read their hashes from it.
        let mut offload_hashes = HashMap::new();
        let mut offload_failed = HashMap::new();
        if let Some(request) = offload_request.filter(|_| destination.is_some()) {
            let hook = self.offload_after_copy.clone();
            let cancel2 = cancel.clone();
            let events2 = events.clone();
            let outcome = tokio::task::spawn_blocking(move || {
                let mut progress = |p: &offload::OffloadProgress| {
                    events2.send(IngestEvent {
                        clip_id: None,
                        clip_name: None,
                        step: Some(Step::Offload),
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
            if let OffloadOutcome::Done(report) = outcome {
                record.offload_destination = Some(report.primary().destination.clone());
                record.offload_copies = report
                    .destinations
                    .iter()
                    .map(|d| crate::ingest::record::OffloadCopy::of(d, &report))
                    .collect();
                // The registered copy is the primary one; a failed further copy does not stop
                // registration but keeps the card from being safe to erase (its record says so).
                for f in &report.primary().files {
                    let src = card_root.join(&f.rel_path);
                    match &f.status {
                        offload::FileStatus::VerifyFailed {
                            algorithms: differing,
                            ..
                        } => {
                            offload_failed.insert(
                                src,
                                format!(
                                    "the offloaded copy of {} differs from the card ({}): \
                                     re-run the offload; nothing was registered",
                                    f.rel_path,
                                    differing
                                        .iter()
                                        .map(|a| a.mhl_name())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            );
                        }
                        _ => {
                            offload_hashes.insert(src, f.source.clone());
                        }
                    }
                }
                journal.save(&record)?;
            }
        }

        let shared = Arc::new(Shared {
            client: self.client.clone(),
            upload: self.upload.clone(),
            tools: self.tools.clone(),
            ffmpeg: self.ffmpeg.clone(),
            options: self.options.clone(),
            events: events.clone(),
            pacer,
            journal: Mutex::new((journal, record)),
            api: Semaphore::new(self.options.concurrency.max(1)),
            encode: Semaphore::new(1),
            hashing: Semaphore::new(1),
            cancel: cancel.clone(),
            token_refused: AtomicBool::new(false),
            storage_id,
            collection_id,
            clip_collections,
            offload_hashes,
            offload_failed,
            offload_destination: destination.clone(),
        });

        let clips: HashMap<String, ScannedClip> = job
            .clips
            .iter()
            .map(|c| (c.clip.id.clone(), c.clone()))
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        let mut running: std::collections::HashSet<String> = Default::default();
        // Retries asked for while the clip's task is still winding down.
        let mut queued: Vec<(String, Step)> = Vec::new();
        let mut settled_announced = false;
        for sc in &job.clips {
            if sc.clip.incomplete.is_none() {
                running.insert(sc.clip.id.clone());
                tasks.spawn(run_clip(shared.clone(), sc.clone()));
            }
        }
        loop {
            if tasks.is_empty() {
                if commands.is_none() || shared.stopping() {
                    break;
                }
                // Every clip is done or failed, but the operator may still retry: say so now
                // (the window's toasts and report hang on it), once per quiet period.
                if !settled_announced {
                    settled_announced = true;
                    announce_finished(&shared, &card);
                }
            } else {
                settled_announced = false;
            }
            tokio::select! {
                done = tasks.join_next(), if !tasks.is_empty() => {
                    match done {
                        Some(Ok(id)) => {
                            running.remove(&id);
                            let (now, later): (Vec<_>, Vec<_>) =
                                queued.drain(..).partition(|(q, _)| *q == id);
                            queued = later;
                            for (id, step) in now {
                                if let Some(sc) = clips.get(&id)
                                    && restart(&shared, &id, step)
                                {
                                    running.insert(id.clone());
                                    tasks.spawn(run_clip(shared.clone(), sc.clone()));
                                }
                            }
                        }
                        Some(Err(e)) => tracing::error!(error = %e, "clip task panicked"),
                        None => {}
                    }
                }
                cmd = recv(&mut commands), if commands.is_some() => {
                    match cmd {
                        None => commands = None,
                        Some(IngestCommand::Cancel) => cancel.store(true, Ordering::Relaxed),
                        Some(cmd) => {
                            for (id, step) in retry_targets(&shared, &cmd) {
                                if running.contains(&id) {
                                    queued.push((id, step));
                                    continue;
                                }
                                let Some(sc) = clips.get(&id) else { continue };
                                if restart(&shared, &id, step) {
                                    running.insert(id.clone());
                                    tasks.spawn(run_clip(shared.clone(), sc.clone()));
                                }
                            }
                        }
                    }
                }
            }
        }

        let token_refused = shared.token_refused.load(Ordering::Relaxed);
        let cancelled = cancel.load(Ordering::Relaxed) && !token_refused;
        let record = {
            let guard = shared
                .journal
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            guard.1.clone()
        };
        let mhl = if destination.is_some() {
            record.offload_destination.clone().map(|d| d.join("ascmhl"))
        } else if !self.options.write_manifest {
            None
        } else {
            match steps::write_in_place_mhl(&card_root, &record) {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "could not write the in-place ASC MHL manifest");
                    None
                }
            }
        };
        if !settled_announced {
            announce_finished(&shared, &card);
        }
        Ok(CardOutcome {
            card,
            record,
            journal_path,
            mhl,
            token_refused,
            cancelled,
        })
    }
}

/// Sends `CardFinished` with the journal's current counts.
fn announce_finished(shared: &Shared, card: &Card) {
    let root = std::fs::canonicalize(&card.root).unwrap_or_else(|_| card.root.clone());
    let ((completed, failed, skipped), verdict) = {
        let guard = shared
            .journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (counts(&guard.1), super::erase::verdict(&guard.1, &root))
    };
    shared
        .events
        .send(IngestEvent::card(EventKind::CardFinished {
            card: card.root.display().to_string(),
            completed,
            failed,
            skipped,
            safe_to_erase: verdict.safe_to_erase,
            evidence: verdict.lines(),
        }));
}

/// Resets `step` and later ones of a clip for a manual retry; false when the journal failed.
fn restart(shared: &Shared, id: &str, step: Step) -> bool {
    match shared.update(id, |r| r.reset_from(step)) {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "journal save failed");
            false
        }
    }
}

async fn recv(rx: &mut Option<mpsc::UnboundedReceiver<IngestCommand>>) -> Option<IngestCommand> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// (completed, failed, skipped as duplicate/incomplete) clip counts.
pub fn counts(record: &CardRecord) -> (usize, usize, usize) {
    let mut out = (0, 0, 0);
    for c in record.clips.values() {
        if c.is_skipped() {
            out.2 += 1;
        } else if c.is_complete() {
            out.0 += 1;
        } else {
            out.1 += 1;
        }
    }
    out
}

fn retry_targets(shared: &Shared, cmd: &IngestCommand) -> Vec<(String, Step)> {
    let guard = shared
        .journal
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match cmd {
        IngestCommand::RetryStep { clip_id, step } => vec![(clip_id.clone(), *step)],
        IngestCommand::RetryAllFailed => guard
            .1
            .clips
            .values()
            .filter_map(|c| c.failure().map(|(s, _)| (c.clip_id.clone(), s)))
            .collect(),
        IngestCommand::Cancel => Vec::new(),
    }
}

/// The record of one member file: where it is registered and its storage-relative folder.
/// `card_root`, `registered_root` (the card itself, or its offload copy) and `storage_root`
/// are canonical. Public for the preview's duplicate check (`ui::duplicates`).
pub fn file_record(
    source: &Path,
    size: u64,
    card_root: &Path,
    registered_root: &Path,
    storage_root: &Path,
) -> FileRecord {
    let parent = source
        .parent()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
        .unwrap_or_default();
    let name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A span clip's later segments live on another card: registered where they are.
    let registered_dir = match parent.strip_prefix(card_root) {
        Ok(rel) => registered_root.join(rel),
        Err(_) => parent.clone(),
    };
    // Forward slashes relative to the mount, also for drive letters, UNC shares and `\\?\`
    // paths on Windows (super::storage_path).
    let directory_path = super::storage_path::directory_path(
        &registered_dir.to_string_lossy(),
        &storage_root.to_string_lossy(),
        super::storage_path::PathStyle::native(),
    )
    .unwrap_or_else(|| {
        tracing::warn!(
            dir = %registered_dir.display(),
            storage_root = %storage_root.display(),
            "folder is not inside the storage mount: registered at the storage root"
        );
        String::new()
    });
    FileRecord {
        source: source.to_path_buf(),
        registered: registered_dir.join(&name),
        name,
        directory_path,
        size_bytes: size,
        ..FileRecord::default()
    }
}

/// Walks the clip's steps; returns the clip id when the task ends.
async fn run_clip(shared: Arc<Shared>, sc: ScannedClip) -> String {
    let id = sc.clip.id.clone();
    let mut ctx = steps::ClipCtx::new(shared.clone(), sc);
    for step in Step::ALL {
        if shared.stopping() {
            break;
        }
        let rec = shared.clip(&id);
        let prior = rec.step(step);
        if prior.is_finished() {
            continue;
        }
        let saved = shared.update(&id, |r| {
            let s = r.steps.entry(step).or_insert_with(StepRecord::default);
            s.state = StepState::Running;
            s.started = Some(Utc::now());
            s.finished = None;
            s.attempts += 1;
        });
        if let Err(e) = saved {
            fail(&shared, &rec, step, StepFail::permanent(e.to_string()));
            break;
        }
        shared.emit(&rec, Some(step), EventKind::Started);
        tracing::debug!(clip = %rec.name, %step, "step started");
        let label = format!("{} {step}", rec.name);
        let result = crate::iconik::observer::labelled(label, ctx.run(step, &prior)).await;
        let rec = shared.clip(&id);
        match result {
            Ok(StepEnd::Done(detail)) => {
                finish(&shared, &rec, step, StepState::Done);
                shared.emit(&rec, Some(step), EventKind::Done { detail });
            }
            Ok(StepEnd::Skipped(reason)) => {
                finish(
                    &shared,
                    &rec,
                    step,
                    StepState::Skipped {
                        reason: reason.clone(),
                    },
                );
                shared.emit(&rec, Some(step), EventKind::Skipped { reason });
            }
            Ok(StepEnd::SkipRest { from, reason }) => {
                for s in from.and_after() {
                    finish(
                        &shared,
                        &rec,
                        s,
                        StepState::Skipped {
                            reason: reason.clone(),
                        },
                    );
                }
                if step < from {
                    finish(&shared, &rec, step, StepState::Done);
                    shared.emit(&rec, Some(step), EventKind::Done { detail: None });
                }
                shared.emit(&rec, Some(from), EventKind::Skipped { reason });
                break;
            }
            Err(f) if f.cancelled => break,
            Err(f) => {
                fail(&shared, &rec, step, f);
                break;
            }
        }
    }
    id
}

fn finish(shared: &Shared, rec: &ClipRecord, step: Step, state: StepState) {
    let saved = shared.update(&rec.clip_id, |r| {
        let s = r.steps.entry(step).or_default();
        s.state = state;
        s.finished = Some(Utc::now());
    });
    if let Err(e) = saved {
        tracing::error!(error = %e, clip = %rec.name, %step, "journal save failed");
    }
}

fn fail(shared: &Shared, rec: &ClipRecord, step: Step, f: StepFail) {
    let error = if f.auth {
        format!("{TOKEN_REFUSED} ({})", f.error)
    } else {
        f.error
    };
    tracing::info!(clip = %rec.name, %step, %error, "step failed");
    finish(
        shared,
        rec,
        step,
        StepState::Failed {
            error: error.clone(),
            retryable: f.retryable,
        },
    );
    shared.emit(
        rec,
        Some(step),
        EventKind::Failed {
            error,
            retryable: f.retryable,
        },
    );
    if f.auth {
        shared.token_refused.store(true, Ordering::Relaxed);
        shared.cancel.store(true, Ordering::Relaxed);
    }
}
