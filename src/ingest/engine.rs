//! Runs one card job: the card-level work (journal, paths, storage and collections, the
//! offload's pre-flight, one batched duplicate look-up), then every clip's graph of steps on the
//! disk, CPU and network lanes ([`super::scheduler`]) beside the offload copy
//! ([`super::steps::copy`], which serves the clips in card order) while taking the operator's
//! commands. One clip's
//! failure never stops the others; a 401 stops the whole job; cancellation stops every lane at
//! the next step or retry boundary.

use super::commands::IngestCommand;
use super::commit::CardJournal;
use super::dedupe::KnownInIconik;
use super::events::{EventKind, EventSink, IngestEvent, NoticeLevel};
use super::journal::{CardKey, Journal, JournalError, JournalStore};
use super::options::{IngestOptions, ProxyMode};
use super::outage::Outage;
use super::record::{CardRecord, ClipRecord, FileRecord, StepState};
use super::retry::{Pacer, TOKEN_REFUSED};
use super::scheduler::{self, Lanes};
use super::step::Step;
use super::steps;
use super::storage_path;
use super::storage_policy::{self, AclAction};
use crate::card::Card;
use crate::iconik::models::{CollectionCreate, CollectionId, StorageId};
use crate::iconik::upload::UploadHttp;
use crate::iconik::{Client, Error as IconikError};
use crate::media::Tools;
use crate::offload::{self, OffloadError};
use crate::scan::ScannedClip;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::mpsc;

/// Why a card job could not run (clip failures are not errors: they are in the record).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(
        "nothing to ingest on this card: every clip is left out (see each clip's reason); select \
         a clip, give the card it continues on, or re-copy a damaged file"
    )]
    NothingToIngest,
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
    /// The FILES storage's settings would make the registration wrong (storage_policy).
    #[error("{0}")]
    StorageSettings(String),
    #[error("ingest cancelled")]
    Cancelled,
    #[error(
        "iconik was unreachable for longer than the offline wait; the journal keeps the card: \
         run again to resume"
    )]
    Offline,
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
    /// Roots of the other cards the clips' files lie on (a P2 / XDCAM EX / XD take spanning
    /// two cards): offloaded with this card, so every segment is registered as its copy.
    pub span_cards: Vec<PathBuf>,
    /// The card's other clips, not part of this run, with why ([`super::selection`]): the
    /// verdict and the report cover them too.
    pub left_out: Vec<super::selection::LeftOut>,
}

impl CardJob {
    /// A job for `card` with `clips`; `cards` (every card of the scan) gives the other cards
    /// the clips touch.
    pub fn new(card: Card, clips: Vec<ScannedClip>, cards: &[Card]) -> CardJob {
        let span_cards = span_cards_of(&card.root, &clips, cards);
        CardJob {
            card,
            clips,
            span_cards,
            left_out: Vec::new(),
        }
    }
}

/// Card roots (other than `own`) holding a member file of `clips`, in scan order: the
/// innermost card root above each file that lies outside `own`.
pub fn span_cards_of(own: &Path, clips: &[ScannedClip], cards: &[Card]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for f in clips.iter().flat_map(|c| c.clip.files.iter()) {
        if f.path.starts_with(own) {
            continue;
        }
        let root = cards
            .iter()
            .filter(|c| f.path.starts_with(&c.root) && c.root != own)
            .max_by_key(|c| c.root.components().count());
        if let Some(c) = root
            && !out.contains(&c.root)
        {
            out.push(c.root.clone());
        }
    }
    out
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
    /// The card's clips this run did not take ([`CardJob::left_out`]).
    pub left_out: Vec<super::selection::LeftOut>,
    /// iconik stayed unreachable for longer than `offline_wait`: the job stopped like a
    /// cancel (`cancelled` is set too) with its journal ready to resume.
    pub offline: bool,
    /// Each time iconik was unreachable during the run.
    pub offline_spans: Vec<super::outage::OfflineSpan>,
}

impl CardOutcome {
    /// Every clip of the card complete (skipped duplicates count as complete: nothing is left
    /// to do; a clip left out of the run counts only if an earlier run completed it).
    pub fn all_complete(&self) -> bool {
        !self.token_refused
            && !self.cancelled
            && self.record.clips.values().all(|c| c.is_complete())
            && self.left_out.iter().all(|l| {
                self.record
                    .clips
                    .get(&l.clip_id)
                    .is_some_and(|c| c.is_complete())
            })
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
    /// The card's journal and record, written by its own thread (group commit).
    pub journal: CardJournal,
    /// Disk, CPU and network slots, served in card order.
    pub lanes: Lanes,
    pub cancel: Arc<AtomicBool>,
    /// Pauses the network lane while iconik is unreachable.
    pub outage: Arc<Outage>,
    pub token_refused: AtomicBool,
    pub storage_id: StorageId,
    pub collection_id: Option<CollectionId>,
    /// Collections of clips the operator put elsewhere, by clip id.
    pub clip_collections: HashMap<String, CollectionId>,
    /// The offload's results, filled file by file as the background copy verifies them
    /// (source hashes of its one read, or why a copy is refused).
    pub offload: steps::copy::OffloadState,
    pub offload_destination: Option<PathBuf>,
    /// What the card's batched duplicate look-up found.
    pub known: KnownInIconik,
    /// The storage's ACL template / access group every new asset gets.
    pub storage_acl: Option<AclAction>,
    /// The card of the job (titles settled when a clip's description arrives use its name).
    pub card: Card,
}

impl Shared {
    /// Applies `f` to the clip's record; returns once the journal holding it is on disk.
    pub async fn update(
        &self,
        clip_id: &str,
        f: impl FnOnce(&mut ClipRecord),
    ) -> Result<(), JournalError> {
        self.journal.update(clip_id, f).await
    }

    /// A copy of the clip's record.
    pub fn clip(&self, clip_id: &str) -> ClipRecord {
        self.journal
            .read(|r| r.clips.get(clip_id).cloned().unwrap_or_default())
    }

    /// The collection the clip goes into: its own, else the card's.
    pub fn collection_for(&self, clip_id: &str) -> Option<CollectionId> {
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
            lane: step.map(Step::lane),
            kind,
        });
    }
}

/// Where a card's files are and where they get registered (all canonical).
struct CardPaths {
    storage_root: PathBuf,
    card_root: PathBuf,
    /// The offload copy's folder (`None`: registered in place).
    destination: Option<PathBuf>,
    registered_root: PathBuf,
    /// The job's span cards: (card root, its offload copy's folder or the card itself).
    span: Vec<(PathBuf, Option<PathBuf>)>,
    /// The copies' bytes queued on their drives (this card's and its span cards'), until the
    /// offload ends ([`crate::offload::drives`]).
    queued: Vec<offload::drives::Reservation>,
}

impl CardPaths {
    /// (source root, registered root) of this card first, then of each span card.
    fn roots(&self) -> Vec<(PathBuf, PathBuf)> {
        let mut v = vec![(self.card_root.clone(), self.registered_root.clone())];
        for (root, dest) in &self.span {
            v.push((root.clone(), dest.clone().unwrap_or_else(|| root.clone())));
        }
        v
    }
}

/// How the card-level iconik calls run: paced, retried with the backoff, and waiting out an
/// outage like the clips' calls.
struct CardCalls<'a> {
    client: &'a Client,
    options: &'a IngestOptions,
    pacer: &'a Pacer,
    outage: &'a Arc<Outage>,
    cancel: &'a Arc<AtomicBool>,
}

impl CardCalls<'_> {
    async fn run<T, F, Fut>(&self, doing: &'static str, mut op: F) -> Result<T, IngestError>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<T, IconikError>>,
    {
        super::retry::run_waiting(
            &self.options.retry,
            self.cancel,
            Some(self.outage),
            Some(&self.options.pause),
            &mut |n| tracing::info!(attempt = n.attempt, "retrying {doing}: {}", n.error),
            |attempt| {
                let fut = op(attempt);
                async move {
                    self.pacer.wait(self.client).await;
                    fut.await
                }
            },
        )
        .await
        .map_err(|g| match g {
            super::retry::Gave::Up(e) => IngestError::iconik(doing, e),
            super::retry::Gave::Cancelled if self.outage.gave_up() => IngestError::Offline,
            super::retry::Gave::Cancelled => IngestError::Cancelled,
        })
    }
}

/// The request surely made nothing: refused before it was sent, or a 429.
fn made_nothing(e: &IconikError) -> bool {
    e.status() == Some(429)
        || matches!(
            e,
            IconikError::Transport {
                kind: crate::iconik::TransportKind::Connect,
                ..
            }
        )
}

/// What the card-level iconik calls resolved.
struct Remote {
    storage_id: StorageId,
    storage_acl: Option<AclAction>,
    collection_id: Option<CollectionId>,
    clip_collections: HashMap<String, CollectionId>,
}

impl Engine {
    /// Ingests `job`: the card-level work (paths, journal, storage, collections, the batched
    /// duplicate look-up), then every clip's graph ([`scheduler::run_clip`]) beside the offload
    /// copy, while taking [`IngestCommand`]s. The job ends when every clip task and the offload
    /// are done and the command sender is dropped (or at once without a command channel). An
    /// offload that stops on an error (not a cancel) is the job's error, after the clips still
    /// waiting for their copies have failed with it.
    pub async fn run_card(
        &self,
        job: CardJob,
        events: EventSink,
        commands: Option<mpsc::UnboundedReceiver<IngestCommand>>,
        cancel: Arc<AtomicBool>,
    ) -> Result<CardOutcome, IngestError> {
        let card = job.card.clone();
        if let (ProxyMode::Local, Some(ffmpeg)) = (self.options.proxy, &self.ffmpeg) {
            crate::media::proxy::encoder::warm_up(ffmpeg, self.options.encoder);
        }
        // The cap holds for every upload of the client (the process shares one).
        self.upload.set_max_rate(self.options.max_upload_rate);
        self.upload.set_pause(self.options.pause.clone());
        let (journal, mut record) = self.open_journal(&card)?;
        let journal_path = journal.path().to_path_buf();
        // Paths first: a card that cannot be registered fails before any API call.
        // The folder pattern's names from what the scan knows of the clips at the start (a
        // description still being made in the background adds nothing here).
        let names = self
            .options
            .name_values(job.clips.iter().map(|c| &c.metadata));
        let mut paths = self.card_paths(&card, &job.span_cards, &names)?;
        self.prepare_clips(&job, &paths, &mut record)?;
        journal.save(&record)?;
        events.send(IngestEvent::card(EventKind::CardStarted {
            card: card.root.display().to_string(),
            clips: job.clips.len(),
        }));
        let pacer = Pacer::new(self.options.max_calls_per_second);
        let outage = Outage::new(
            self.client.clone(),
            events.clone(),
            cancel.clone(),
            self.options.probe_every,
            self.options.offline_wait,
        );
        let calls = CardCalls {
            client: &self.client,
            options: &self.options,
            pacer: &pacer,
            outage: &outage,
            cancel: &cancel,
        };
        let remote = self
            .resolve_remote(&job, &paths, &events, &calls, &journal, &mut record)
            .await?;
        let known = self
            .look_up_known(&job, &record, &calls, remote.storage_id)
            .await?;

        // The offload runs beside the clips (this card, then each card a spanned clip touches,
        // each into its own folder so every segment is registered as its copy).
        let mut cards = vec![(
            Card {
                family: card.family,
                root: paths.card_root.clone(),
            },
            paths.destination.clone(),
        )];
        cards.extend(paths.span.iter().map(|(root, dest)| {
            (
                Card {
                    family: card.family,
                    root: root.clone(),
                },
                dest.clone(),
            )
        }));
        let offloading =
            self.options.offload_to.is_some() && cards.iter().any(|(_, d)| d.is_some());
        let shared = Arc::new(Shared {
            client: self.client.clone(),
            upload: self.upload.clone(),
            tools: self.tools.clone(),
            ffmpeg: self.ffmpeg.clone(),
            options: self.options.clone(),
            events: events.clone(),
            pacer,
            journal: CardJournal::start(journal, record)?,
            lanes: Lanes::new(self.options.io_concurrency, self.options.concurrency),
            cancel: cancel.clone(),
            outage: outage.clone(),
            token_refused: AtomicBool::new(false),
            storage_id: remote.storage_id,
            collection_id: remote.collection_id,
            clip_collections: remote.clip_collections,
            offload: if offloading {
                steps::copy::OffloadState::running()
            } else {
                steps::copy::OffloadState::none()
            },
            offload_destination: paths.destination.clone(),
            known,
            storage_acl: remote.storage_acl,
            card: job.card.clone(),
        });
        let job_page = match self.options.iconik_job {
            true => {
                shared.pacer.wait(&self.client).await;
                let name = card.root.file_name().unwrap_or_default().to_string_lossy();
                super::jobs_page::CardJobPage::start(&self.client, &name, job.clips.len()).await
            }
            false => None,
        };
        let polling = job_page
            .as_ref()
            .map(|p| p.spawn_poll(shared.clone(), self.options.job_poll_every));
        let queued = std::mem::take(&mut paths.queued);
        let offload = steps::copy::start(self, &shared, cards, &job.clips, queued);
        let (settled_announced, offloaded) = supervise(&shared, &job, commands, offload).await;
        if let Some(p) = polling {
            // Gone before the job ends: it holds the card's journal (and its lock).
            p.abort();
            let _ = p.await;
        }

        // The changes nobody waited for (upload offsets) are on disk before the outcome.
        if let Err(e) = shared.journal.flush().await {
            tracing::error!(error = %e, "journal save failed");
        }
        let token_refused = shared.token_refused.load(Ordering::Relaxed);
        let cancelled = cancel.load(Ordering::Relaxed) && !token_refused;
        let offline = outage.gave_up();
        let record = shared.journal.read(CardRecord::clone);
        // An offload that stopped (not by cancel) is the card's failure, as before the clips
        // ran beside it; the clips still waiting failed with it and none of them was registered.
        match offloaded {
            Err(IngestError::Offload {
                source: OffloadError::Cancelled,
                ..
            }) => {}
            Err(e) => return Err(e),
            Ok(()) => {}
        }
        let mhl = self.manifest(&paths, &record);
        if let Some(page) = &job_page {
            let root = &paths.card_root;
            let verdict = match super::erase::verdict(&record, root, &job.left_out).safe_to_erase {
                true => "safe to erase",
                false => "not safe to erase",
            };
            page.finish(&record, cancelled, verdict).await;
        }
        if !settled_announced {
            announce_finished(&shared, &job);
        }
        Ok(CardOutcome {
            card,
            record,
            journal_path,
            mhl,
            token_refused,
            cancelled,
            left_out: job.left_out,
            offline,
            offline_spans: outage.spans(),
        })
    }

    /// The card's journal and its record (a corrupt journal starts afresh).
    fn open_journal(&self, card: &Card) -> Result<(Journal<CardRecord>, CardRecord), IngestError> {
        let server = self.client.base_url().to_string();
        let key = CardKey::for_card(&card.root, &format!("{}|{server}", card.family.as_str()))?;
        let journal: Journal<CardRecord> = self.store.open(&key)?;
        let mut record = match journal.load() {
            Ok(Some(r)) => r,
            Ok(None) | Err(JournalError::Corrupt { .. }) => CardRecord::default(),
            Err(e) => return Err(e.into()),
        };
        record.card_root = card.root.clone();
        record.server = server;
        record.required_copies = self.options.required_copies;
        Ok((journal, record))
    }

    /// The storage mount, the card, the offload destination and what gets registered.
    fn card_paths(
        &self,
        card: &Card,
        span_cards: &[PathBuf],
        names: &crate::offload::plan::NameValues,
    ) -> Result<CardPaths, IngestError> {
        let mut paths = self.one_card_paths(card, names)?;
        for root in span_cards {
            let other = Card {
                family: card.family,
                root: root.clone(),
            };
            let mut p = self.one_card_paths(&other, names)?;
            paths.queued.append(&mut p.queued);
            paths.span.push((p.card_root, p.destination));
        }
        Ok(paths)
    }

    fn one_card_paths(
        &self,
        card: &Card,
        names: &crate::offload::plan::NameValues,
    ) -> Result<CardPaths, IngestError> {
        let storage_root =
            crate::canonical::canonicalize(&self.options.storage_root).map_err(|source| {
                IngestError::StorageRoot {
                    path: self.options.storage_root.clone(),
                    source,
                }
            })?;
        let card_root =
            crate::canonical::canonicalize(&card.root).unwrap_or_else(|_| card.root.clone());
        // The offload's pre-flight: every destination's folder (a different card of the same
        // name gets its own), free space and same-volume refusals, before any byte is written.
        let offload_request = self
            .options
            .offload_request(card_root.clone(), names.clone());
        let offload_plan = match &offload_request {
            Some(r) => offload::preflight(r).map_err(|source| IngestError::Offload {
                card: card.root.clone(),
                source,
            })?,
            None => None,
        };
        // Its bytes queued on each drive before it starts: the next card's pre-flight counts
        // them against the free space too.
        let queued =
            match &offload_plan {
                Some(plan) => vec![offload::preflight::reserve(plan).map_err(|source| {
                    IngestError::Offload {
                        card: card.root.clone(),
                        source,
                    }
                })?],
                None => Vec::new(),
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
        Ok(CardPaths {
            storage_root,
            card_root,
            destination,
            registered_root,
            span: Vec::new(),
            queued,
        })
    }

    /// Each clip's record: member files, title, incomplete clips skipped.
    fn prepare_clips(
        &self,
        job: &CardJob,
        paths: &CardPaths,
        record: &mut CardRecord,
    ) -> Result<(), IngestError> {
        let roots = paths.roots();
        let storage_root = &paths.storage_root;
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
                    .map(|f| file_record_in(&f.path, f.size, &roots, storage_root))
                    .collect();
            }
            if let Some(outside) = rec
                .files
                .iter()
                .find(|f| !f.registered.starts_with(storage_root))
            {
                return Err(IngestError::NotUnderStorageRoot {
                    path: outside.registered.clone(),
                    root: storage_root.clone(),
                });
            }
            rec.title = match self.options.clip_titles.get(&clip.id) {
                Some(t) if !t.trim().is_empty() => t.trim().to_owned(),
                // Registered in an earlier run under the title its description settled.
                _ if sc.pending.is_some() && rec.asset_id.is_some() => rec.title.clone(),
                // Provisional while the description is made in the background: the clip
                // settles it before its asset is created (`ClipCtx::describe`).
                _ => steps::title(&self.options, sc, &job.card),
            };
            if let Some(reason) = &clip.incomplete {
                for s in Step::ALL {
                    rec.steps.entry(s).or_default().state = StepState::Skipped {
                        reason: format!("incomplete clip: {reason}"),
                    };
                }
            }
        }
        Ok(())
    }

    /// `POST collections/` with `title`, paced and retried (only while nothing can have been
    /// made: no answer at all, or 429).
    async fn create_collection(
        &self,
        calls: &CardCalls<'_>,
        title: &str,
    ) -> Result<CollectionId, IngestError> {
        let made = calls
            .run("creating a collection", |_| async {
                let made = self
                    .client
                    .collections()
                    .create(&CollectionCreate {
                        title: title.to_owned(),
                        ..CollectionCreate::default()
                    })
                    .await;
                // A 5xx or a lost answer may have made it, so a retry could make a second
                // one: only what surely made nothing is retried (the inner error gives up).
                match made {
                    Err(e) if e.is_retryable() && !made_nothing(&e) => Ok(Err(e)),
                    Err(e) => Err(e),
                    Ok(c) => Ok(Ok(c)),
                }
            })
            .await?;
        made.map(|c| c.id)
            .map_err(|e| IngestError::iconik("creating a collection", e))
    }

    /// The card-level calls: the storage, the `--collection`, per-clip collections (each made
    /// once per card record).
    async fn resolve_remote(
        &self,
        job: &CardJob,
        paths: &CardPaths,
        events: &EventSink,
        calls: &CardCalls<'_>,
        journal: &Journal<CardRecord>,
        record: &mut CardRecord,
    ) -> Result<Remote, IngestError> {
        let all = calls
            .run("looking up the storage", |_| async {
                self.client.storages().list_all().await
            })
            .await?;
        let storage = steps::find_storage(all, &self.options.storage).map_err(|e| {
            IngestError::StorageNotFound {
                wanted: e.wanted,
                known: e.known,
            }
        })?;
        let storage_id = storage.id;
        // The storage's settings decide before anything is made or copied.
        let dir = storage_path::directory_path(
            &paths.registered_root.to_string_lossy(),
            &paths.storage_root.to_string_lossy(),
            storage_path::PathStyle::native(),
        )
        .unwrap_or_default();
        let policy = storage_policy::plan(&storage, &dir, paths.destination.is_some());
        for (level, message) in policy
            .info
            .iter()
            .map(|m| (NoticeLevel::Info, m))
            .chain(policy.warnings.iter().map(|m| (NoticeLevel::Warning, m)))
        {
            match level {
                NoticeLevel::Warning => tracing::warn!("{message}"),
                NoticeLevel::Info => tracing::info!("{message}"),
            }
            events.send(IngestEvent::card(EventKind::Notice {
                level,
                message: message.clone(),
            }));
        }
        if let Some(refusal) = policy.refusal {
            return Err(IngestError::StorageSettings(refusal));
        }
        record.storage_id = Some(storage_id);
        let collection_id = match (&self.options.collection, record.collection_id) {
            (None, _) => None,
            (Some(_), Some(id)) => Some(id),
            (Some(title), None) => {
                let id = self.create_collection(calls, title).await?;
                record.collection_id = Some(id);
                Some(id)
            }
        };
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
                        let id = self.create_collection(calls, title).await?;
                        record.collections.insert(title.to_owned(), id);
                        journal.save(record)?;
                        id
                    }
                },
            };
            clip_collections.insert(sc.clip.id.clone(), id);
        }
        journal.save(record)?;
        Ok(Remote {
            storage_id,
            storage_acl: policy.acl,
            collection_id,
            clip_collections,
        })
    }

    /// The batched duplicate look-up (iconik-api.md §9) for the clips that will decide it:
    /// not `--force`, asset not made yet, create-asset never attempted (a resumed step looks
    /// its own asset up instead). One search for all their external ids and one listing per
    /// folder of their main files, paced and retried like every call; a failed look-up fails
    /// the card rather than risk duplicates.
    async fn look_up_known(
        &self,
        job: &CardJob,
        record: &CardRecord,
        calls: &CardCalls<'_>,
        storage: StorageId,
    ) -> Result<KnownInIconik, IngestError> {
        if self.options.force {
            return Ok(KnownInIconik::default());
        }
        let deciding: Vec<&ClipRecord> = job
            .clips
            .iter()
            .filter(|sc| sc.clip.incomplete.is_none())
            .filter_map(|sc| record.clips.get(&sc.clip.id))
            .filter(|r| r.asset_id.is_none() && r.step(Step::CreateAsset) == StepState::Pending)
            .collect();
        if deciding.is_empty() {
            return Ok(KnownInIconik::default());
        }
        let ids: Vec<String> = deciding.iter().map(|r| r.clip_id.clone()).collect();
        let mains: Vec<&FileRecord> = deciding.iter().filter_map(|r| r.files.first()).collect();
        let (ids, mains) = (&ids, &mains);
        // One pacer slot per call the look-up makes (the search, each folder); `run` takes one.
        let folders: std::collections::BTreeSet<&str> =
            mains.iter().map(|f| f.directory_path.as_str()).collect();
        let extra = ids.len().div_ceil(100) + folders.len() - 1;
        calls
            .run("looking up duplicates", |_| async move {
                for _ in 0..extra {
                    calls.pacer.wait(&self.client).await;
                }
                KnownInIconik::look_up(&self.client, storage, ids, mains).await
            })
            .await
    }

    /// The ASC MHL generation of this run: the offload's, or one written in place.
    fn manifest(&self, paths: &CardPaths, record: &CardRecord) -> Option<PathBuf> {
        if paths.destination.is_some() {
            return record.offload_destination.clone().map(|d| d.join("ascmhl"));
        }
        if !self.options.write_manifest {
            return None;
        }
        steps::write_in_place_mhl(&paths.card_root, record).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not write the in-place ASC MHL manifest");
            None
        })
    }
}

/// Runs every clip's graph (in card order) and the operator's commands until the clips and the
/// `offload` task are done and the command channel is closed. Returns whether `CardFinished`
/// was sent for the final state, and how the offload ended.
async fn supervise(
    shared: &Arc<Shared>,
    job: &CardJob,
    mut commands: Option<mpsc::UnboundedReceiver<IngestCommand>>,
    mut offload: tokio::task::JoinHandle<Result<(), IngestError>>,
) -> (bool, Result<(), IngestError>) {
    // The offload's end, once it came: the card is settled only after its copies are recorded
    // (the verdict and the report read them).
    let mut offloaded: Option<Result<(), IngestError>> = None;
    let clips: HashMap<String, (usize, ScannedClip)> = job
        .clips
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clip.id.clone(), (i, c.clone())))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    let mut running: std::collections::HashSet<String> = Default::default();
    // Retries asked for while the clip's task is still winding down.
    let mut queued: Vec<(String, Step)> = Vec::new();
    let mut settled_announced = false;
    let start = |tasks: &mut tokio::task::JoinSet<String>,
                 running: &mut std::collections::HashSet<String>,
                 id: &str,
                 first_poll: Option<tokio::sync::oneshot::Sender<()>>| {
        if let Some((order, sc)) = clips.get(id) {
            running.insert(id.to_owned());
            tasks.spawn(scheduler::run_clip(
                shared.clone(),
                sc.clone(),
                *order,
                first_poll,
            ));
        }
    };
    // In card order: each clip asks for its first lanes before the next one starts.
    for sc in &job.clips {
        if sc.clip.incomplete.is_none() {
            let (tx, rx) = tokio::sync::oneshot::channel();
            start(&mut tasks, &mut running, &sc.clip.id, Some(tx));
            let _ = rx.await;
        }
    }
    loop {
        if tasks.is_empty() && offloaded.is_some() {
            if commands.is_none() || shared.stopping() {
                break;
            }
            // Every clip is done or failed, but the operator may still retry: say so now
            // (the window's toasts and report hang on it), once per quiet period.
            if !settled_announced {
                settled_announced = true;
                announce_finished(shared, job);
            }
        } else {
            settled_announced = false;
        }
        tokio::select! {
            ended = &mut offload, if offloaded.is_none() => {
                offloaded = Some(ended.unwrap_or_else(|e| Err(IngestError::Interrupted(e.to_string()))));
            }
            done = tasks.join_next(), if !tasks.is_empty() => {
                match done {
                    Some(Ok(id)) => {
                        running.remove(&id);
                        announce_clip(shared, &id);
                        let (now, later): (Vec<_>, Vec<_>) =
                            queued.drain(..).partition(|(q, _)| *q == id);
                        queued = later;
                        for (id, step) in now {
                            if restart(shared, &id, step).await {
                                start(&mut tasks, &mut running, &id, None);
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
                    Some(IngestCommand::Cancel) => shared.cancel.store(true, Ordering::Relaxed),
                    Some(cmd) => {
                        for (id, step) in retry_targets(shared, &cmd) {
                            if running.contains(&id) {
                                queued.push((id, step));
                            } else if clips.contains_key(&id) && restart(shared, &id, step).await {
                                start(&mut tasks, &mut running, &id, None);
                            }
                        }
                    }
                }
            }
        }
    }
    (settled_announced, offloaded.unwrap_or(Ok(())))
}

/// Sends `ClipFinished` with the clip's status in the journal.
fn announce_clip(shared: &Shared, id: &str) {
    let Some((name, status)) = shared.journal.read(|r| {
        r.clips
            .get(id)
            .map(|c| (c.name.clone(), super::summary::clip_status(c)))
    }) else {
        return;
    };
    shared.events.send(IngestEvent {
        clip_id: Some(id.to_owned()),
        clip_name: Some(name),
        step: None,
        lane: None,
        kind: EventKind::ClipFinished { status },
    });
}

/// Sends `CardFinished` with the journal's current counts.
fn announce_finished(shared: &Shared, job: &CardJob) {
    let card = &job.card;
    let root = crate::canonical::canonicalize(&card.root).unwrap_or_else(|_| card.root.clone());
    let ((completed, failed, skipped), verdict) = shared
        .journal
        .read(|r| (counts(r), super::erase::verdict(r, &root, &job.left_out)));
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
async fn restart(shared: &Shared, id: &str, step: Step) -> bool {
    match shared.update(id, |r| r.reset_from(step)).await {
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
    match cmd {
        IngestCommand::RetryStep { clip_id, step } => vec![(clip_id.clone(), *step)],
        IngestCommand::RetryAllFailed => shared.journal.read(|r| {
            r.clips
                .values()
                .filter_map(|c| c.failure().map(|(s, _)| (c.clip_id.clone(), s)))
                .collect()
        }),
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
    file_record_in(
        source,
        size,
        &[(card_root.to_path_buf(), registered_root.to_path_buf())],
        storage_root,
    )
}

/// [`file_record`] for a clip whose files lie on several cards: `roots` are (card root,
/// registered root) pairs, the first whose card holds the file maps it (innermost first
/// does not matter: cards do not nest).
pub fn file_record_in(
    source: &Path,
    size: u64,
    roots: &[(PathBuf, PathBuf)],
    storage_root: &Path,
) -> FileRecord {
    let parent = source
        .parent()
        .map(|p| crate::canonical::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
        .unwrap_or_default();
    let name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A span clip's later segments live on another card: registered as that card's copy
    // when it was offloaded with this one, else where they are.
    let registered_dir = roots
        .iter()
        .find_map(|(card_root, registered_root)| {
            parent
                .strip_prefix(card_root)
                .ok()
                .map(|rel| registered_root.join(rel))
        })
        .unwrap_or_else(|| parent.clone());
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
