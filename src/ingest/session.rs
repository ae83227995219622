//! One ingest session: what a run is, whichever face started it. The CLI (`card-ingest ingest`)
//! and the window build a [`SessionConfig`] and one [`CardPlan`] per card, call [`run`] (or
//! [`start`]) and render its [`SessionEvent`]s; everything else lives here, once:
//!
//! - the engine per card (all cards at once, iconik's call budget shared between them), the
//!   operator's commands (retry a step, retry all failed, cancel) and "Finish";
//! - the verdict and the HTML/CSV/PDF report of every card, covering every clip the scan found
//!   (the clips a run did not take are listed with why, [`super::selection`]);
//! - the desktop notification and the webhook of each card, and the API transcript.
//!
//! So a behaviour added here is in both faces by construction.

use super::journal::JournalStore;
use super::report::{self, ClipStatus};
use super::selection::{CardPlan, LeftOut};
use super::summary::card_report;
use super::transcript::{TranscriptHeader, TranscriptWriter};
use super::{CardJob, Engine, EventKind, EventSink, IngestCommand, IngestError, IngestEvent};
use super::{IngestOptions, OffloadHook};
use crate::card::Card;
use crate::iconik::upload::{UploadConfig, UploadHttp};
use crate::iconik::{Client, Credentials};
use crate::media::Tools;
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

/// iconik allows ~50 calls/s per account; the engine paces each card job, so concurrent cards
/// share this budget.
const CALLS_PER_SECOND: u32 = crate::iconik::pacer::DEFAULT_PER_SECOND;

/// Which face runs the session: only the words of what the operator must do differ (a flag on
/// the command line, a panel in the window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Cli,
    Window,
}

impl Face {
    /// What to do about a refused token, where this face fixes it.
    fn token_refused(self) -> &'static str {
        match self {
            Face::Cli => super::retry::TOKEN_REFUSED,
            Face::Window => {
                "iconik refused the token (401): enter a valid App-ID and token in Connection, \
                 press \"Test connection\", then Ingest again (finished steps are kept)"
            }
        }
    }

    /// A card-level error in this face's words.
    fn card_error(self, e: &IngestError) -> String {
        match (self, e) {
            (Face::Window, IngestError::NotUnderStorageRoot { path, root }) => format!(
                "{} is not under the storage's mount folder {}: set the mount folder of the \
                 originals storage in Connection (or an offload destination under it)",
                path.display(),
                root.display()
            ),
            (_, IngestError::TokenRefused) => self.token_refused().to_owned(),
            _ => e.to_string(),
        }
    }
}

/// Everything a session needs besides the cards. Built by the CLI from its flags and by the
/// window from its settings sheet; the session only runs it.
#[derive(Clone)]
pub struct SessionConfig {
    pub face: Face,
    /// iconik base URL.
    pub server: String,
    pub credentials: Credentials,
    /// The engine's options as the operator set them (the call pacing is set here, per card).
    pub options: IngestOptions,
    pub journal_dir: PathBuf,
    /// Where each card's HTML/CSV/PDF report goes.
    pub report_dir: PathBuf,
    /// Where the API transcript goes (curl commands, token redacted); `None`: none.
    pub transcript: Option<PathBuf>,
    /// The server is the built-in sandbox: asset links go to its inspection pages, and the
    /// offload folder (the app's own, as the sandbox's mount is `/`) is made when missing.
    pub sandbox: bool,
    /// Where the operator said ffmpeg, ffprobe and MediaInfo are (empty: looked for).
    pub tool_paths: crate::media::tools::ToolPaths,
    /// Show a desktop notification when a card ends.
    pub notify_desktop: bool,
    /// POST each card's summary here (empty: none).
    pub webhook_url: String,
    /// A card with failed clips stays open for retries until the operator finishes it (the
    /// window); otherwise it ends when its clips have run (the CLI: run the command again).
    pub keep_open: bool,
    /// Test seam: called on each offloaded file between copy and read-back.
    pub offload_after_copy: Option<OffloadHook>,
}

impl std::fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionConfig")
            .field("face", &self.face)
            .field("server", &self.server)
            .field("app_id", &self.credentials.app_id)
            .field("token", &"<redacted>")
            .field("options", &self.options)
            .field("journal_dir", &self.journal_dir)
            .field("report_dir", &self.report_dir)
            .finish_non_exhaustive()
    }
}

/// A session ready to start: its configuration, the cards and every card of the scan.
#[derive(Debug, Clone)]
pub struct SessionRequest {
    pub config: SessionConfig,
    pub plans: Vec<CardPlan>,
    /// Every card of the scan (clips spanning cards are offloaded with theirs).
    pub cards: Vec<Card>,
}

/// One clip of a card's end, in the words every face shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipLine {
    pub clip_id: String,
    pub name: String,
    pub status: ClipStatus,
    pub asset_id: Option<String>,
    /// The failed step and its message, why a clip was left out, or what it duplicates.
    pub note: String,
}

/// How one card ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CardEnd {
    pub card: PathBuf,
    pub completed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub cancelled: bool,
    pub token_refused: bool,
    /// iconik stayed unreachable past the offline wait: the card stopped, its journal ready to
    /// resume.
    pub offline: bool,
    pub report_html: Option<PathBuf>,
    pub report_csv: Option<PathBuf>,
    pub report_pdf: Option<PathBuf>,
    pub journal: Option<PathBuf>,
    /// The ASC MHL generation of this run.
    pub mhl: Option<PathBuf>,
    /// The card did not run (storage, journal, paths, ...) or its report failed: what to do.
    pub error: Option<String>,
    /// Whether the card may be erased, with the evidence (None: the card did not run).
    pub verdict: Option<super::erase::Verdict>,
    /// Every clip of the card (those the run did not take too), in report order.
    pub clips: Vec<ClipLine>,
    /// Every clip of the card is complete in iconik (or was there before).
    pub all_complete: bool,
}

impl CardEnd {
    fn failed(card: PathBuf, error: String, left_out: &[LeftOut]) -> CardEnd {
        CardEnd {
            card,
            completed: 0,
            failed: 0,
            skipped: 0,
            cancelled: false,
            token_refused: false,
            offline: false,
            report_html: None,
            report_csv: None,
            report_pdf: None,
            journal: None,
            mhl: None,
            error: Some(error),
            verdict: None,
            clips: left_out
                .iter()
                .map(|l| ClipLine {
                    clip_id: l.clip_id.clone(),
                    name: l.name.clone(),
                    status: l.why.status(),
                    asset_id: None,
                    note: l.why.text(),
                })
                .collect(),
            all_complete: false,
        }
    }
}

/// What a session tells its face.
#[derive(Debug, Clone)]
pub enum SessionEvent {
    /// The run starts with exactly these options (what the face showed is what runs).
    Started {
        options: Box<IngestOptions>,
        cards: Vec<PathBuf>,
    },
    Engine(IngestEvent),
    /// A clip's asset exists: where to see it.
    AssetLink {
        clip_id: String,
        url: String,
    },
    CardEnded(Box<CardEnd>),
    /// Something the operator should read (e.g. a webhook that failed).
    Notice(String),
    /// Every card ended; the transcript is complete.
    Ended {
        transcript: Option<PathBuf>,
    },
}

/// A face's hold on a running session. Dropping it lets open cards end ("Finish").
#[derive(Debug)]
pub struct SessionHandle {
    commands: UnboundedSender<IngestCommand>,
    cancel: Arc<AtomicBool>,
    pause: crate::pause::Pause,
}

impl SessionHandle {
    /// The operator cancelled this run.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Pauses (true) or resumes the run: no new step, call or copy starts while paused;
    /// uploads hold at a chunk boundary and go on from their offset.
    pub fn set_paused(&self, paused: bool) {
        if paused {
            self.pause.pause();
        } else {
            self.pause.resume();
        }
    }

    pub fn is_paused(&self) -> bool {
        self.pause.is_paused()
    }

    /// Sends a command to the card jobs (routed by clip id).
    pub fn send(&self, command: IngestCommand) {
        if matches!(command, IngestCommand::Cancel) {
            self.cancel.store(true, Ordering::Relaxed);
        }
        if self.commands.send(command).is_err() {
            tracing::debug!("ingest already ended; command dropped");
        }
    }
}

pub type Emit = Arc<dyn Fn(SessionEvent) + Send + Sync>;
/// Open command senders of the card jobs, by card root.
type CardSenders = Arc<Mutex<HashMap<PathBuf, UnboundedSender<IngestCommand>>>>;

/// Starts the session on `rt` (the window); events go to `emit`.
pub fn start(
    rt: &tokio::runtime::Handle,
    request: SessionRequest,
    emit: impl Fn(SessionEvent) + Send + Sync + 'static,
) -> SessionHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let cancel = Arc::new(AtomicBool::new(false));
    let pause = request.config.options.pause.clone();
    drop(rt.spawn(run(request, rx, cancel.clone(), Arc::new(emit))));
    SessionHandle {
        commands: tx,
        cancel,
        pause,
    }
}

/// Runs the session to its end (the CLI awaits it; the window [`start`]s it): `commands` are the
/// operator's, `cancel` stops every
/// card at its next safe point. Returns every card's end.
pub async fn run(
    request: SessionRequest,
    commands: UnboundedReceiver<IngestCommand>,
    cancel: Arc<AtomicBool>,
    emit: Emit,
) -> Vec<CardEnd> {
    let SessionRequest {
        config,
        plans,
        cards,
    } = request;
    let started_at = chrono::Utc::now();
    let jobs: Vec<CardJob> = plans.iter().map(|p| p.split(&cards)).collect();
    let mut ends = Vec::new();
    let engine = match build_engine(&config, &jobs, started_at) {
        Ok(e) => Arc::new(e),
        Err(msg) => {
            for job in &jobs {
                let end = CardEnd::failed(job.card.root.clone(), msg.clone(), &job.left_out);
                emit(SessionEvent::CardEnded(Box::new(end.clone())));
                ends.push(end);
            }
            emit(SessionEvent::Ended { transcript: None });
            return ends;
        }
    };
    emit(SessionEvent::Started {
        options: Box::new(engine.options.clone()),
        cards: jobs.iter().map(|j| j.card.root.clone()).collect(),
    });
    let senders: CardSenders = Arc::default();
    let mut owner = HashMap::new();
    let mut tasks = tokio::task::JoinSet::new();
    for job in jobs {
        let left = job.left_out.clone();
        let root = job.card.root.clone();
        for c in &job.clips {
            owner.insert(c.clip.id.clone(), root.clone());
        }
        let (etx, erx) = mpsc::unbounded_channel();
        drop(tokio::spawn(forward(
            erx,
            emit.clone(),
            senders.clone(),
            root.clone(),
            config.server.clone(),
            config.sandbox,
        )));
        let commands = if config.keep_open && !job.clips.is_empty() {
            let (ctx, crx) = mpsc::unbounded_channel();
            lock(&senders).insert(root.clone(), ctx);
            Some(crx)
        } else {
            None
        };
        let engine = engine.clone();
        let cancel = cancel.clone();
        tasks.spawn(async move {
            let result = if job.clips.is_empty() {
                // Nothing to run on this card: its end still lists every clip it holds.
                Err(IngestError::NothingToIngest)
            } else {
                engine
                    .run_card(job, EventSink::new(etx), commands, cancel)
                    .await
            };
            (root, left, result)
        });
    }
    drop(tokio::spawn(route(commands, senders.clone(), owner)));
    let mut telling = tokio::task::JoinSet::new();
    while let Some(joined) = tasks.join_next().await {
        let end = match joined {
            Ok((_, _, Ok(outcome))) => {
                card_ended(&config, &engine, outcome, started_at, &emit, &mut telling).await
            }
            Ok((root, left, Err(e))) => {
                let mut end = CardEnd::failed(root, config.face.card_error(&e), &left);
                end.token_refused = matches!(e, IngestError::TokenRefused);
                end.offline = matches!(e, IngestError::Offline);
                end
            }
            Err(e) => CardEnd::failed(PathBuf::new(), format!("card job stopped: {e}"), &[]),
        };
        emit(SessionEvent::CardEnded(Box::new(end.clone())));
        ends.push(end);
    }
    // Notifications and webhooks never delay a card's end, but the session waits for them.
    while telling.join_next().await.is_some() {}
    emit(SessionEvent::Ended {
        transcript: config.transcript.clone(),
    });
    ends
}

/// A card's report (with posters), its verdict, the notification and the webhook.
async fn card_ended(
    config: &SessionConfig,
    engine: &Engine,
    outcome: super::CardOutcome,
    started_at: chrono::DateTime<chrono::Utc>,
    emit: &Emit,
    telling: &mut tokio::task::JoinSet<()>,
) -> CardEnd {
    let mut rep = card_report(&outcome, started_at);
    rep.preset = engine.options.preset.clone();
    if let Some(ffmpeg) = engine.ffmpeg.clone() {
        // ffmpeg grabs a poster per clip: off the runtime's worker threads.
        let outcome2 = outcome.clone();
        let plain = rep.clone();
        rep = tokio::task::spawn_blocking(move || {
            super::summary::attach_posters(&mut rep, &outcome2, &ffmpeg);
            rep
        })
        .await
        .unwrap_or(plain);
    }
    let counts = rep.counts();
    let mut end = CardEnd {
        card: outcome.card.root.clone(),
        completed: counts.complete,
        failed: counts.failed,
        skipped: counts.skipped,
        cancelled: outcome.cancelled && !outcome.token_refused,
        token_refused: outcome.token_refused,
        offline: outcome.offline,
        report_html: None,
        report_csv: None,
        report_pdf: None,
        journal: Some(outcome.journal_path.clone()),
        mhl: outcome.mhl.clone(),
        // The one card-level stop the operator must act on.
        error: outcome
            .token_refused
            .then(|| config.face.token_refused().to_owned()),
        verdict: rep.verdict.clone(),
        clips: rep
            .clips
            .iter()
            .map(|c| ClipLine {
                clip_id: c.clip_id.clone(),
                name: c.name.clone(),
                status: c.status,
                asset_id: c.asset_id.clone(),
                note: c
                    .error
                    .clone()
                    .or_else(|| c.warnings.first().cloned())
                    .unwrap_or_default(),
            })
            .collect(),
        all_complete: outcome.all_complete(),
    };
    let name = outcome
        .card
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let written = std::fs::create_dir_all(&config.report_dir)
        .map_err(|e| format!("cannot create {}: {e}", config.report_dir.display()))
        .and_then(|()| {
            report::write_reports(&rep, &config.report_dir, &name).map_err(|e| e.to_string())
        });
    match written {
        Ok(paths) => {
            end.report_pdf = Some(paths.html.with_extension("pdf"));
            end.report_html = Some(paths.html);
            end.report_csv = Some(paths.csv);
        }
        Err(e) => end.error = Some(format!("report not written: {e}")),
    }
    let summary = crate::notify::CardSummary::from_report(
        &rep,
        end.report_html.as_ref().map(|p| p.display().to_string()),
    );
    telling.spawn(tell(
        summary,
        config.notify_desktop,
        config.webhook_url.clone(),
        emit.clone(),
    ));
    end
}

/// The desktop notification and the webhook of one finished card; failures become a notice.
async fn tell(summary: crate::notify::CardSummary, desktop: bool, webhook: String, emit: Emit) {
    if desktop {
        let s = summary.clone();
        match tokio::task::spawn_blocking(move || crate::notify::desktop(&s)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::info!(%e, "no desktop notification"),
            Err(e) => tracing::warn!(%e, "notification task"),
        }
    }
    if !webhook.trim().is_empty()
        && let Err(e) = crate::notify::post_webhook(webhook.trim(), &summary).await
    {
        emit(SessionEvent::Notice(e.to_string()));
    }
}

fn build_engine(
    config: &SessionConfig,
    jobs: &[CardJob],
    started_at: chrono::DateTime<chrono::Utc>,
) -> Result<Engine, String> {
    let token = config.credentials.token.clone();
    let mut client =
        Client::new(&config.server, config.credentials.clone()).map_err(|e| e.to_string())?;
    let mut upload = UploadHttp::new(&UploadConfig::default()).map_err(|e| e.to_string())?;
    if let Some(path) = &config.transcript {
        let header = TranscriptHeader {
            card: jobs
                .iter()
                .map(|j| j.card.root.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            server: config.server.clone(),
            started_at,
        };
        let created = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .map_err(|e| e.to_string())
            .and_then(|()| TranscriptWriter::create(path, &header).map_err(|e| e.to_string()));
        match created {
            Ok(w) => {
                let writer = Arc::new(w.redacting(&token));
                client = client.with_observer(writer.clone());
                upload = upload.with_observer(writer);
            }
            // The ingest matters more than its transcript.
            Err(e) => tracing::warn!("no API transcript this run: {e}"),
        }
    }
    let mut options = config.options.clone();
    // The sandbox's offload folder is the app's own: made here. A real storage's mount must
    // already exist (the offload refuses a missing one: "is the storage mounted?").
    if let (true, Some(to)) = (config.sandbox, &options.offload_to) {
        std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    }
    let tools = Tools::detect_with(&config.tool_paths);
    let cards = u32::try_from(jobs.len().max(1)).unwrap_or(u32::MAX);
    options.max_calls_per_second =
        (options.max_calls_per_second.min(CALLS_PER_SECOND) / cards).max(1);
    Ok(Engine {
        client,
        upload,
        ffmpeg: tools.ffmpeg.clone(),
        tools,
        store: JournalStore::at(&config.journal_dir),
        options,
        offload_after_copy: config.offload_after_copy.clone(),
    })
}

/// Passes engine events on; closes a card's command channel once all its clips completed (so
/// its job ends and its report is written), and links assets as they are created.
async fn forward(
    mut events: UnboundedReceiver<IngestEvent>,
    emit: Emit,
    senders: CardSenders,
    card: PathBuf,
    server: String,
    sandbox: bool,
) {
    while let Some(event) = events.recv().await {
        if let (Some(clip_id), Some(id)) = (&event.clip_id, event.created_asset()) {
            emit(SessionEvent::AssetLink {
                clip_id: clip_id.clone(),
                url: asset_url(&server, sandbox, id),
            });
        }
        if let EventKind::CardFinished { failed: 0, .. } = event.kind {
            lock(&senders).remove(&card);
        }
        emit(SessionEvent::Engine(event));
    }
}

/// Where the operator sees an asset: iconik's web app, or the sandbox's inspection page.
pub fn asset_url(server: &str, sandbox: bool, asset_id: &str) -> String {
    if sandbox {
        format!("{}/sandbox/assets/{asset_id}", server.trim_end_matches('/'))
    } else {
        report::asset_link(server, asset_id)
    }
}

/// Routes the face's commands to the card jobs; ends (closing every card's channel) when the
/// face drops its handle.
async fn route(
    mut commands: UnboundedReceiver<IngestCommand>,
    senders: CardSenders,
    owner: HashMap<String, PathBuf>,
) {
    while let Some(command) = commands.recv().await {
        let senders = lock(&senders);
        let targets: Vec<&UnboundedSender<IngestCommand>> = match &command {
            IngestCommand::RetryStep { clip_id, .. } => owner
                .get(clip_id)
                .and_then(|card| senders.get(card))
                .into_iter()
                .collect(),
            IngestCommand::RetryAllFailed | IngestCommand::Cancel => senders.values().collect(),
        };
        if targets.is_empty() {
            tracing::info!(?command, "no open card job for this command");
        }
        for tx in targets {
            if tx.send(command.clone()).is_err() {
                tracing::debug!("card job already ended");
            }
        }
    }
    lock(&senders).clear();
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
