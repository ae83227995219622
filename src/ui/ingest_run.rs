//! Runs an ingest started from the window, on the worker's runtime: builds the ingest engine
//! from an [`IngestRequest`] (what the operator set and edited), runs every card job at once
//! with a command channel (Retry / Retry all failed / Cancel from the queue panel), forwards the
//! engine's events, and writes each card's report when its job ends. Always keeps an API
//! transcript (token redacted) so "Show API transcript" has something to show.
//!
//! A card whose clips all completed ends on its own; a card with failures stays open for
//! retries until the operator presses "Finish" (drops the [`IngestHandle`]).

use crate::iconik::upload::{UploadConfig, UploadHttp};
use crate::iconik::{Client, Credentials};
use crate::ingest::journal::JournalStore;
use crate::ingest::report;
use crate::ingest::summary::card_report;
use crate::ingest::transcript::{TranscriptHeader, TranscriptWriter};
use crate::ingest::{
    CardJob, Engine, EventKind, EventSink, IngestCommand, IngestError, IngestEvent, IngestOptions,
};
use crate::media::Tools;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

/// The engine's token message names the CLI; the window's fix is in its Connection panel.
const TOKEN_REFUSED_HERE: &str = "iconik refused the token (401): enter a valid App-ID and token \
     in Connection, press \"Test connection\", then Ingest again (finished steps are kept)";

/// iconik allows ~50 calls/s per account; the engine paces each card job, so concurrent cards
/// share this budget.
const CALLS_PER_SECOND: u32 = crate::iconik::pacer::DEFAULT_PER_SECOND;

/// Everything one ingest from the window needs. Built by the app from the settings, the
/// connection and the operator's edits; the worker only runs it.
#[derive(Clone)]
pub struct IngestRequest {
    pub server: String,
    pub app_id: String,
    /// The API token (never logged: `Debug` redacts it).
    pub token: String,
    /// Storage, titles, collections and view values per clip: the engine's options as the
    /// operator set them (the call pacing is set here, per card).
    pub options: IngestOptions,
    pub jobs: Vec<CardJob>,
    /// Journals, proxies, reports and transcripts go below this folder.
    pub data_dir: PathBuf,
    /// Asset links point at the sandbox's inspection page instead of iconik's web app.
    pub sandbox: bool,
    /// Where the operator said ffmpeg, ffprobe and MediaInfo are (settings).
    pub tool_paths: crate::media::tools::ToolPaths,
    /// Show a desktop notification when a card ends (settings).
    pub notify_desktop: bool,
    /// POST each card's summary here (settings; empty = none).
    pub webhook_url: String,
    /// Called on each offloaded file between copy and read-back (tests corrupt copies there).
    pub offload_after_copy: Option<crate::ingest::engine::OffloadHook>,
}

impl std::fmt::Debug for IngestRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestRequest")
            .field("server", &self.server)
            .field("app_id", &self.app_id)
            .field("token", &"<redacted>")
            .field("storage", &self.options.storage)
            .field("storage_root", &self.options.storage_root)
            .field("cards", &self.jobs.len())
            .finish_non_exhaustive()
    }
}

/// How one card job ended.
#[derive(Debug, Clone, PartialEq)]
pub struct CardEnd {
    pub card: PathBuf,
    pub completed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub cancelled: bool,
    pub token_refused: bool,
    pub report_html: Option<PathBuf>,
    pub journal: Option<PathBuf>,
    /// The job did not run (storage, journal, paths, ...) or its report failed: what to do.
    pub error: Option<String>,
    /// Whether the card may be erased, with the evidence (None: the job did not run).
    pub verdict: Option<crate::ingest::erase::Verdict>,
}

/// What the run reports to the window.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    Engine(IngestEvent),
    /// A clip's asset exists: where to see it.
    AssetLink {
        clip_id: String,
        url: String,
    },
    CardEnded(CardEnd),
    /// Something the operator should read in the log (e.g. a webhook that failed).
    Notice(String),
    /// Every card job ended; the transcript is complete.
    Ended {
        transcript: Option<PathBuf>,
    },
}

/// The window's hold on a running ingest. Dropping it lets open card jobs end ("Finish").
#[derive(Debug)]
pub struct IngestHandle {
    commands: UnboundedSender<IngestCommand>,
    cancel: Arc<AtomicBool>,
}

impl IngestHandle {
    /// The operator cancelled this run.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
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

/// Starts the run on `rt`; events go to `emit`.
pub fn start(
    rt: &tokio::runtime::Handle,
    request: IngestRequest,
    emit: impl Fn(RunEvent) + Send + Sync + 'static,
) -> IngestHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let cancel = Arc::new(AtomicBool::new(false));
    drop(rt.spawn(run(request, rx, cancel.clone(), Arc::new(emit))));
    IngestHandle {
        commands: tx,
        cancel,
    }
}

type Emit = Arc<dyn Fn(RunEvent) + Send + Sync>;
/// Open command senders of the card jobs, by card root.
type CardSenders = Arc<Mutex<HashMap<PathBuf, UnboundedSender<IngestCommand>>>>;

async fn run(
    request: IngestRequest,
    commands: UnboundedReceiver<IngestCommand>,
    cancel: Arc<AtomicBool>,
    emit: Emit,
) {
    let started_at = chrono::Utc::now();
    let (engine, transcript) = match build_engine(&request, started_at) {
        Ok(x) => x,
        Err(msg) => {
            for job in &request.jobs {
                emit(RunEvent::CardEnded(CardEnd::failed(
                    job.card.root.clone(),
                    &msg,
                )));
            }
            emit(RunEvent::Ended { transcript: None });
            return;
        }
    };
    let engine = Arc::new(engine);
    let senders: CardSenders = Arc::default();
    let mut owner = HashMap::new();
    let mut tasks = tokio::task::JoinSet::new();
    for job in request.jobs.clone() {
        let root = job.card.root.clone();
        for c in &job.clips {
            owner.insert(c.clip.id.clone(), root.clone());
        }
        let (ctx, crx) = mpsc::unbounded_channel();
        lock(&senders).insert(root.clone(), ctx);
        let (etx, erx) = mpsc::unbounded_channel();
        drop(tokio::spawn(forward(
            erx,
            emit.clone(),
            senders.clone(),
            root.clone(),
            request.server.clone(),
            request.sandbox,
        )));
        let engine = engine.clone();
        let cancel = cancel.clone();
        tasks.spawn(async move {
            let result = engine
                .run_card(job, EventSink::new(etx), Some(crx), cancel)
                .await;
            (root, result)
        });
    }
    drop(tokio::spawn(route(commands, senders.clone(), owner)));
    let reports = request.data_dir.join("reports");
    while let Some(joined) = tasks.join_next().await {
        let end = match joined {
            Ok((root, Ok(outcome))) => {
                let (completed, failed, skipped) = crate::ingest::engine::counts(&outcome.record);
                let mut end = CardEnd {
                    card: root,
                    completed,
                    failed,
                    skipped,
                    cancelled: outcome.cancelled,
                    token_refused: outcome.token_refused,
                    report_html: None,
                    journal: Some(outcome.journal_path.clone()),
                    // The one card-level stop the operator must act on (Connection panel).
                    error: outcome.token_refused.then(|| TOKEN_REFUSED_HERE.to_owned()),
                    verdict: None,
                };
                let mut rep = card_report(&outcome, started_at);
                if let Some(ffmpeg) = engine.ffmpeg.clone() {
                    // ffmpeg grabs a poster per clip: off the runtime's worker threads.
                    let outcome2 = outcome.clone();
                    if let Ok(with_posters) = tokio::task::spawn_blocking(move || {
                        crate::ingest::summary::attach_posters(&mut rep, &outcome2, &ffmpeg);
                        rep
                    })
                    .await
                    {
                        rep = with_posters;
                    } else {
                        rep = card_report(&outcome, started_at);
                    }
                }
                let name = outcome
                    .card
                    .root
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let written = std::fs::create_dir_all(&reports)
                    .map_err(|e| format!("cannot create {}: {e}", reports.display()))
                    .and_then(|()| {
                        report::write_reports(&rep, &reports, &name).map_err(|e| e.to_string())
                    });
                match written {
                    Ok(paths) => end.report_html = Some(paths.html),
                    Err(e) => end.error = Some(format!("report not written: {e}")),
                }
                end.verdict = rep.verdict.clone();
                let summary = crate::notify::CardSummary::from_report(
                    &rep,
                    end.report_html.as_ref().map(|p| p.display().to_string()),
                );
                drop(tokio::spawn(tell(
                    summary,
                    request.notify_desktop,
                    request.webhook_url.clone(),
                    emit.clone(),
                )));
                end
            }
            Ok((root, Err(e))) => CardEnd::failed(root, &card_error(&e)),
            Err(e) => CardEnd::failed(PathBuf::new(), &format!("card job stopped: {e}")),
        };
        emit(RunEvent::CardEnded(end));
    }
    emit(RunEvent::Ended { transcript });
}

/// The desktop notification and the webhook of one finished card, off the card's task (a slow
/// hook never delays the next card); failures become a log notice.
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
        emit(RunEvent::Notice(e.to_string()));
    }
}

impl CardEnd {
    fn failed(card: PathBuf, error: &str) -> CardEnd {
        CardEnd {
            card,
            completed: 0,
            failed: 0,
            skipped: 0,
            cancelled: false,
            token_refused: false,
            report_html: None,
            journal: None,
            error: Some(error.to_owned()),
            verdict: None,
        }
    }
}

/// Card-level errors in the window's words (the CLI's flags don't exist here).
fn card_error(e: &IngestError) -> String {
    match e {
        IngestError::NotUnderStorageRoot { path, root } => format!(
            "{} is not under the storage's mount folder {}: set the mount folder of the \
             originals storage in Connection (or an offload destination under it)",
            path.display(),
            root.display()
        ),
        other => other.to_string(),
    }
}

fn build_engine(
    request: &IngestRequest,
    started_at: chrono::DateTime<chrono::Utc>,
) -> Result<(Engine, Option<PathBuf>), String> {
    let creds = Credentials::new(request.app_id.clone(), request.token.clone());
    let token = creds.token.clone();
    let mut client = Client::new(&request.server, creds).map_err(|e| e.to_string())?;
    let mut upload = UploadHttp::new(&UploadConfig::default()).map_err(|e| e.to_string())?;
    let transcripts = request.data_dir.join("transcripts");
    let transcript = std::fs::create_dir_all(&transcripts)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            let path = transcripts.join(format!(
                "card-ingest-{}.sh",
                chrono::Local::now().format("%Y%m%d-%H%M%S")
            ));
            let header = TranscriptHeader {
                card: request
                    .jobs
                    .iter()
                    .map(|j| j.card.root.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
                server: request.server.clone(),
                started_at,
            };
            TranscriptWriter::create(&path, &header)
                .map(|w| (path, w.redacting(&token)))
                .map_err(|e| e.to_string())
        });
    let transcript = match transcript {
        Ok((path, writer)) => {
            let writer = Arc::new(writer);
            client = client.with_observer(writer.clone());
            upload = upload.with_observer(writer);
            Some(path)
        }
        Err(e) => {
            // The ingest matters more than its transcript.
            tracing::warn!("no API transcript this run: {e}");
            None
        }
    };
    let store = JournalStore::at(request.data_dir.join("journals"));
    let mut options = request.options.clone();
    // The sandbox's offload folder is the app's own: made here. A real storage's mount must
    // already exist (the offload refuses a missing one: "is the storage mounted?").
    if let (true, Some(to)) = (request.sandbox, &options.offload_to) {
        std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    }
    let cards = u32::try_from(request.jobs.len().max(1)).unwrap_or(u32::MAX);
    options.max_calls_per_second = (CALLS_PER_SECOND / cards).max(1);
    let tools = Tools::detect_with(&request.tool_paths);
    Ok((
        Engine {
            client,
            upload,
            ffmpeg: tools.ffmpeg.clone(),
            tools,
            store,
            options,
            offload_after_copy: request.offload_after_copy.clone(),
        },
        transcript,
    ))
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
            let url = if sandbox {
                format!("{}/sandbox/assets/{id}", server.trim_end_matches('/'))
            } else {
                report::asset_link(&server, id)
            };
            emit(RunEvent::AssetLink {
                clip_id: clip_id.clone(),
                url,
            });
        }
        if let EventKind::CardFinished { failed: 0, .. } = event.kind {
            lock(&senders).remove(&card);
        }
        emit(RunEvent::Engine(event));
    }
}

/// Routes the window's commands to the card jobs; ends (closing every card's channel) when the
/// window drops its handle.
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
