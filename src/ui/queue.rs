//! The ingest panel: per clip a row of step indicators (pending/running/done/failed), a progress
//! bar with bytes and ETA for the byte-heavy steps, the error and a Retry button on a failed step,
//! the asset link when done; above them an overall bar, elapsed time, "Retry all failed" and
//! Cancel.
//!
//! The panel renders [`QueueView`], which folds [`QueueEvent`]s — a thin adapter over the ingest
//! engine's [`crate::ingest::IngestEvent`]s ([`from_ingest`]), so the view can be driven (and
//! tested) without running an ingest. Steps are the engine's own [`Step`].

use super::cards::format_bytes;
use super::clock::Clock;
use super::command::{Commands, UiCommand};
use super::help::Shortcut;
use super::progress::{CardFigures, RateMeter};
use crate::ingest::Step;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Short label of a step on its chip (the engine's `Display` names are for logs).
pub fn step_label(step: Step) -> &'static str {
    match step {
        Step::Checksum => "checksum",
        Step::Offload => "offload",
        Step::CreateAsset => "asset",
        Step::CreateFormat => "format",
        Step::CreateFileSet => "file set",
        Step::CreateFiles => "files",
        Step::Proxy => "proxy",
        Step::CreateProxy => "proxy record",
        Step::UploadProxy => "upload",
        Step::CloseProxy => "close",
        Step::Keyframes => "keyframes",
        Step::Collection => "collection",
    }
}

/// Adapts one ingest engine event to the queue's events. Card starts (the app queues the clips
/// with their titles itself) give nothing; an automatic retry is shown on its clip (and logged); a clip
/// skipped as a whole (already in iconik) marks every step skipped.
pub fn from_ingest(event: &crate::ingest::IngestEvent) -> Vec<QueueEvent> {
    use crate::ingest::EventKind;
    if let EventKind::CardFinished {
        card,
        completed,
        failed,
        skipped,
        ..
    } = &event.kind
    {
        return vec![QueueEvent::CardSettled {
            card: card.clone(),
            completed: *completed,
            failed: *failed,
            skipped: *skipped,
        }];
    }
    let Some(clip_id) = event.clip_id.clone() else {
        // The offload copies the card beside the clips' steps: card-level progress.
        return match (&event.kind, event.step) {
            (
                EventKind::Progress {
                    done_bytes,
                    total_bytes,
                    eta_secs,
                    ..
                },
                Some(step),
            ) => vec![QueueEvent::CardProgress(ByteProgress {
                step,
                done_bytes: *done_bytes,
                total_bytes: *total_bytes,
                eta_secs: *eta_secs,
            })],
            _ => Vec::new(),
        };
    };
    let Some(step) = event.step else {
        return match &event.kind {
            EventKind::ClipFinished { status } => vec![QueueEvent::ClipFinished {
                clip_id,
                status: *status,
            }],
            EventKind::Skipped { reason } => Step::ALL
                .into_iter()
                .map(|step| QueueEvent::StepSkipped {
                    clip_id: clip_id.clone(),
                    step,
                    reason: reason.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
    };
    let event = match &event.kind {
        EventKind::Started => QueueEvent::StepStarted { clip_id, step },
        EventKind::Progress {
            done_bytes,
            total_bytes,
            eta_secs,
            ..
        } => QueueEvent::Progress {
            clip_id,
            step,
            done_bytes: *done_bytes,
            total_bytes: *total_bytes,
            eta_secs: *eta_secs,
        },
        EventKind::Done { .. } => QueueEvent::StepDone { clip_id, step },
        EventKind::Failed { error, .. } => QueueEvent::StepFailed {
            clip_id,
            step,
            error: error.clone(),
        },
        EventKind::Skipped { reason } => QueueEvent::StepSkipped {
            clip_id,
            step,
            reason: reason.clone(),
        },
        EventKind::Retrying {
            attempt,
            delay_ms,
            error,
        } => QueueEvent::Retrying {
            clip_id,
            step,
            attempt: *attempt,
            delay: Duration::from_millis(*delay_ms),
            error: error.clone(),
        },
        EventKind::Notice { .. }
        | EventKind::CardStarted { .. }
        | EventKind::ClipFinished { .. }
        | EventKind::Offline { .. }
        | EventKind::Online { .. }
        | EventKind::CardReleased { .. }
        | EventKind::CardFinished { .. } => {
            return Vec::new();
        }
    };
    vec![event]
}

/// Status of one step of one clip.
#[derive(Debug, Clone, PartialEq)]
pub enum StepStatus {
    Pending,
    Running,
    Done,
    /// iconik's (or the tool's) message.
    Failed(String),
    Skipped(String),
}

impl StepStatus {
    /// Done or skipped.
    pub fn is_over(&self) -> bool {
        matches!(self, StepStatus::Done | StepStatus::Skipped(_))
    }
}

/// An automatic retry the clip waits for.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryWait {
    pub step: Step,
    /// The attempt that comes next (1 = the first retry).
    pub attempt: u32,
    pub error: String,
    /// When the next attempt starts.
    pub at: Instant,
}

impl RetryWait {
    /// `file set: iconik answered 503 …; retrying in 8 s (attempt 3 of 5)`.
    pub fn text(&self, now: Instant, max_retries: Option<u32>) -> String {
        let secs = self.at.saturating_duration_since(now).as_secs_f64().ceil() as u64;
        let of = max_retries.map(|m| format!(" of {m}")).unwrap_or_default();
        let when = if secs == 0 {
            "retrying now".to_owned()
        } else {
            format!("retrying in {secs} s")
        };
        format!(
            "{}: {}; {when} (attempt {}{of})",
            step_label(self.step),
            self.error,
            self.attempt
        )
    }
}

/// Byte progress of the running step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ByteProgress {
    pub step: Step,
    pub done_bytes: u64,
    pub total_bytes: u64,
    pub eta_secs: Option<f64>,
}

/// What happened to a queued clip (the engine's events, adapted).
#[derive(Debug, Clone, PartialEq)]
pub enum QueueEvent {
    /// The ingest of these clips (id, title) starts.
    Started {
        clips: Vec<(String, String)>,
    },
    /// Which card each queued clip is on and its bytes (for the per-card figures).
    ClipSizes(Vec<(String, PathBuf, u64)>),
    StepStarted {
        clip_id: String,
        step: Step,
    },
    Progress {
        clip_id: String,
        step: Step,
        done_bytes: u64,
        total_bytes: u64,
        eta_secs: Option<f64>,
    },
    StepDone {
        clip_id: String,
        step: Step,
    },
    StepFailed {
        clip_id: String,
        step: Step,
        error: String,
    },
    StepSkipped {
        clip_id: String,
        step: Step,
        reason: String,
    },
    /// The clip's run is over (until a retry), however many steps it skipped or an earlier run
    /// did: how it stands.
    ClipFinished {
        clip_id: String,
        status: crate::ingest::report::ClipStatus,
    },
    /// A step failed for a passing reason and runs again after `delay`.
    Retrying {
        clip_id: String,
        step: Step,
        attempt: u32,
        delay: Duration,
        error: String,
    },
    /// The clip's asset exists in iconik (link for the operator).
    AssetLink {
        clip_id: String,
        url: String,
    },
    /// Byte progress of a card-level step (the offload copy of the whole card, copy and check).
    CardProgress(ByteProgress),
    /// Every clip of a card completed or failed (retries may still follow).
    CardSettled {
        card: String,
        completed: usize,
        failed: usize,
        skipped: usize,
    },
    /// A card job ended: its report, or why it could not run.
    CardEnded(crate::ingest::session::CardEnd),
    /// Every card job ended (or the ingest was cancelled).
    Finished,
}

/// One clip in the ingest queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueClip {
    pub clip_id: String,
    pub title: String,
    /// Every step in pipeline order with its status.
    pub steps: Vec<(Step, StepStatus)>,
    pub progress: Option<ByteProgress>,
    pub asset_url: Option<String>,
    /// The step waiting to be tried again: what failed, when, and which attempt comes next
    /// (cleared when the step moves on).
    pub retry: Option<RetryWait>,
    /// How the clip's run ended, once it has (cleared by a step starting again on a retry).
    pub end: Option<crate::ingest::report::ClipStatus>,
    /// The card the clip is on ("" until [`QueueEvent::ClipSizes`] says).
    pub card: PathBuf,
    /// The clip's bytes (0 until [`QueueEvent::ClipSizes`] says).
    pub bytes: u64,
}

impl QueueClip {
    fn new(clip_id: String, title: String) -> QueueClip {
        QueueClip {
            clip_id,
            title,
            steps: Step::ALL
                .into_iter()
                .map(|s| (s, StepStatus::Pending))
                .collect(),
            progress: None,
            asset_url: None,
            retry: None,
            end: None,
            card: PathBuf::new(),
            bytes: 0,
        }
    }

    fn set(&mut self, step: Step, status: StepStatus) {
        if let Some(slot) = self.steps.iter_mut().find(|(s, _)| *s == step) {
            slot.1 = status;
        }
    }

    pub fn status(&self, step: Step) -> Option<&StepStatus> {
        self.steps
            .iter()
            .find(|(s, _)| *s == step)
            .map(|(_, st)| st)
    }

    pub fn failed(&self) -> Option<(Step, &str)> {
        self.steps.iter().find_map(|(s, st)| match st {
            StepStatus::Failed(e) => Some((*s, e.as_str())),
            _ => None,
        })
    }

    /// The clip is complete in iconik (or was there before): the engine said so, or every
    /// step is done or skipped.
    pub fn completed(&self) -> bool {
        self.end.is_some_and(|s| s.is_settled_in_iconik())
            || self.steps.iter().all(|(_, st)| st.is_over())
    }

    /// Nothing more happens to this clip without a retry: it ended, or a step failed.
    pub fn settled(&self) -> bool {
        self.end.is_some() || self.failed().is_some() || self.completed()
    }

    /// Steps that are over (done or skipped); every step of a completed clip counts, whichever
    /// it skipped (no proxy, audio only, resumed, camera proxy).
    fn finished_steps(&self) -> usize {
        if self.completed() {
            return self.steps.len();
        }
        self.steps.iter().filter(|(_, st)| st.is_over()).count()
    }
}

/// The whole ingest queue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueView {
    pub clips: Vec<QueueClip>,
    pub started_at: Option<Instant>,
    /// Set while no clip is at work (cleared again by a retry).
    pub finished_after: Option<Duration>,
    /// Shown above the queue (why it cannot start, what to do).
    pub notice: Option<String>,
    /// Every card job ended: nothing more can run or be retried.
    pub ended: bool,
    /// Card jobs still accept retries (the app holds the run); "Finish" ends them.
    pub open: bool,
    /// Ended card jobs: reports and card-level errors.
    pub cards: Vec<crate::ingest::session::CardEnd>,
    /// The API transcript of this run (curl commands, token redacted).
    pub transcript: Option<std::path::PathBuf>,
    /// The card-level step in progress (offload), until the card is copied and checked.
    pub card_progress: Option<ByteProgress>,
    /// The time source of elapsed times, rates and ETAs (tests drive it by hand).
    pub clock: Clock,
    /// Bytes read per card, for its MB/s over the last seconds.
    pub meters: BTreeMap<PathBuf, RateMeter>,
    /// How many automatic retries a step gets in this run (the session's options).
    pub max_retries: Option<u32>,
    /// The operator paused the run.
    pub paused: bool,
    /// iconik has not answered since then (the network lane waits; disk and CPU go on), and
    /// how often it is asked again.
    pub offline: Option<(chrono::DateTime<chrono::Local>, f64)>,
}

impl QueueView {
    /// Folds one event into the view.
    pub fn apply(&mut self, event: QueueEvent) {
        // The clip whose bytes read may have changed (its card's meter is fed below).
        let touched = match &event {
            QueueEvent::Progress { clip_id, .. }
            | QueueEvent::StepDone { clip_id, .. }
            | QueueEvent::StepSkipped { clip_id, .. } => Some(clip_id.clone()),
            _ => None,
        };
        match event {
            QueueEvent::Started { clips } => {
                *self = QueueView {
                    clips: clips
                        .into_iter()
                        .map(|(id, title)| QueueClip::new(id, title))
                        .collect(),
                    started_at: Some(self.clock.now()),
                    open: self.open,
                    clock: self.clock.clone(),
                    ..QueueView::default()
                };
            }
            QueueEvent::ClipSizes(sizes) => {
                for (clip_id, card, bytes) in sizes {
                    if let Some(c) = self.clip_mut(&clip_id) {
                        c.card = card;
                        c.bytes = bytes;
                    }
                }
                let now = self.clock.now();
                for card in self.card_roots() {
                    self.meters.entry(card).or_default().record(now, 0);
                }
            }
            QueueEvent::ClipFinished { clip_id, status } => {
                if let Some(c) = self.clip_mut(&clip_id) {
                    c.end = Some(status);
                    c.progress = None;
                }
            }
            QueueEvent::StepStarted { clip_id, step } => {
                if let Some(c) = self.clip_mut(&clip_id) {
                    // A retry: the clip is at work again.
                    c.end = None;
                    c.set(step, StepStatus::Running);
                    c.progress = None;
                }
            }
            QueueEvent::Progress {
                clip_id,
                step,
                done_bytes,
                total_bytes,
                eta_secs,
            } => {
                if let Some(c) = self.clip_mut(&clip_id) {
                    c.progress = Some(ByteProgress {
                        step,
                        done_bytes,
                        total_bytes,
                        eta_secs,
                    });
                }
            }
            QueueEvent::Retrying {
                clip_id,
                step,
                attempt,
                delay,
                error,
            } => {
                let at = self.clock.now() + delay;
                if let Some(c) = self.clip_mut(&clip_id) {
                    c.retry = Some(RetryWait {
                        step,
                        attempt,
                        error,
                        at,
                    });
                }
            }
            QueueEvent::StepDone { clip_id, step } => {
                if let Some(c) = self.clip_mut(&clip_id) {
                    c.retry = None;
                    c.set(step, StepStatus::Done);
                    c.progress = None;
                }
            }
            QueueEvent::StepFailed {
                clip_id,
                step,
                error,
            } => {
                if let Some(c) = self.clip_mut(&clip_id) {
                    c.retry = None;
                    c.set(step, StepStatus::Failed(error));
                    c.progress = None;
                }
            }
            QueueEvent::StepSkipped {
                clip_id,
                step,
                reason,
            } => {
                if let Some(c) = self.clip_mut(&clip_id) {
                    c.set(step, StepStatus::Skipped(reason));
                }
            }
            QueueEvent::AssetLink { clip_id, url } => {
                if let Some(c) = self.clip_mut(&clip_id) {
                    c.asset_url = Some(url);
                }
            }
            QueueEvent::CardProgress(p) => {
                self.card_progress = (p.done_bytes < p.total_bytes).then_some(p);
            }
            QueueEvent::CardSettled { .. } => {}
            QueueEvent::CardEnded(end) => self.cards.push(end),
            QueueEvent::Finished => {
                self.ended = true;
                self.open = false;
            }
        }
        if let Some(card) = touched.and_then(|id| self.clip(&id).map(|c| c.card.clone())) {
            self.record_read(card);
        }
        if self.running() {
            self.finished_after = None;
        } else if self.finished_after.is_none() {
            let now = self.clock.now();
            self.finished_after = self.started_at.map(|t| now.saturating_duration_since(t));
        }
    }

    /// Feeds the card's bytes read so far into its rate meter.
    fn record_read(&mut self, card: PathBuf) {
        let read: u64 = self
            .clips
            .iter()
            .filter(|c| c.card == card)
            .map(super::progress::read_bytes)
            .sum();
        let now = self.clock.now();
        self.meters.entry(card).or_default().record(now, read);
    }

    /// The distinct cards of the queued clips, in queue order.
    pub fn card_roots(&self) -> Vec<PathBuf> {
        let mut roots: Vec<PathBuf> = Vec::new();
        for c in &self.clips {
            if !roots.contains(&c.card) {
                roots.push(c.card.clone());
            }
        }
        roots
    }

    /// Time since the run started (frozen while nothing is at work).
    pub fn elapsed(&self) -> Duration {
        self.finished_after
            .or_else(|| {
                self.started_at
                    .map(|t| self.clock.now().saturating_duration_since(t))
            })
            .unwrap_or_default()
    }

    /// Bytes, MB/s, elapsed, ETA and clip counts of every card in the queue.
    pub fn card_figures(&self) -> Vec<CardFigures> {
        let now = self.clock.now();
        let elapsed = self.elapsed();
        let running = self.running();
        self.card_roots()
            .into_iter()
            .map(|card| {
                let clips: Vec<&QueueClip> = self.clips.iter().filter(|c| c.card == card).collect();
                let meter = self.meters.get(&card);
                super::progress::card_figures(card, &clips, meter, elapsed, running, now)
            })
            .collect()
    }

    fn clip(&self, clip_id: &str) -> Option<&QueueClip> {
        self.clips.iter().find(|c| c.clip_id == clip_id)
    }

    /// Some clip is still at work (not done, skipped or failed) and the run has not ended.
    pub fn running(&self) -> bool {
        !self.ended && self.started_at.is_some() && self.clips.iter().any(|c| !c.settled())
    }

    fn clip_mut(&mut self, clip_id: &str) -> Option<&mut QueueClip> {
        self.clips.iter_mut().find(|c| c.clip_id == clip_id)
    }

    /// Finished steps over all steps of all clips (0..=1).
    pub fn overall(&self) -> f32 {
        let total = self.clips.len() * Step::ALL.len();
        if total == 0 {
            return 0.0;
        }
        let done: usize = self.clips.iter().map(QueueClip::finished_steps).sum();
        done as f32 / total as f32
    }

    pub fn failed_count(&self) -> usize {
        self.clips.iter().filter(|c| c.failed().is_some()).count()
    }
}

/// Renders the queue.
pub fn queue_ui(ui: &mut egui::Ui, queue: &QueueView, cmds: &mut Commands) {
    if let Some(notice) = &queue.notice {
        ui.label(notice);
    }
    if queue.clips.is_empty() {
        return;
    }
    let running = queue.running();
    ui.horizontal_wrapped(|ui| {
        ui.strong("Ingest");
        ui.label(format_elapsed(queue.elapsed()));
        ui.add(
            egui::ProgressBar::new(queue.overall())
                .desired_width(240.0)
                .show_percentage(),
        );
        let failed = queue.failed_count();
        if failed > 0 && !queue.ended {
            let retry = ui
                .button(format!("Retry all failed ({failed})"))
                .on_hover_text(
                    Shortcut::RetryAll.hint("Redo the failed step of every failed clip"),
                );
            cmds.shortcut_of(retry.id, Shortcut::RetryAll);
            if retry.clicked() {
                cmds.push(UiCommand::RetryAllFailed);
            }
        }
        if running {
            let pause = ui
                .button(if queue.paused { "Resume" } else { "Pause" })
                .on_hover_text(Shortcut::Pause.hint(
                    "Nothing new starts while paused; uploads go on from where they stopped",
                ));
            cmds.shortcut_of(pause.id, Shortcut::Pause);
            if pause.clicked() {
                cmds.push(UiCommand::TogglePause);
            }
            let cancel = ui
                .button("Cancel")
                .on_hover_text(Shortcut::Cancel.hint("Stop the ingest safely"));
            cmds.shortcut_of(cancel.id, Shortcut::Cancel);
            if cancel.clicked() {
                cmds.push(UiCommand::CancelIngest);
            }
        }
        if queue.open
            && !running
            && ui
                .button("Finish")
                .on_hover_text("End the cards that still have failed clips and write their reports")
                .clicked()
        {
            cmds.push(UiCommand::FinishIngest);
        }
        if let Some(path) = &queue.transcript
            && ui
                .button("Show API transcript")
                .on_hover_text(path.display().to_string())
                .clicked()
        {
            cmds.push(UiCommand::ShowTranscript(path.clone()));
        }
    });
    if let Some((since, every)) = &queue.offline {
        // Every wait explained: the whole network lane waits, the rest goes on.
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!(
                "iconik unreachable since {}; retrying every {every:.0} s (checksums, copies and \
                 encodes go on)",
                since.format("%H:%M")
            ),
        );
    }
    if queue.paused {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "Paused: nothing new starts until Resume (Ctrl+P)",
        );
    }
    if let Some(p) = &queue.card_progress {
        progress_bar(ui, p);
    }
    for figures in queue.card_figures() {
        card_figures_ui(ui, &figures);
    }
    for card in &queue.cards {
        ui.horizontal_wrapped(|ui| {
            let name = card
                .card
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| card.card.display().to_string());
            if let Some(error) = &card.error {
                ui.colored_label(ui.visuals().error_fg_color, format!("{name}: {error}"));
            } else {
                // A cancelled clip has not failed: it stopped and resumes on the next run.
                let (left, tail) = if card.cancelled {
                    ("not finished", " (cancelled)")
                } else {
                    ("failed", "")
                };
                ui.label(format!(
                    "{name}: {} completed, {} {left}, {} skipped{tail}",
                    card.completed, card.failed, card.skipped
                ));
            }
            // The verdict an operator formats a card on, with what it rests on.
            if let Some(v) = &card.verdict {
                let evidence = v.lines().join("\n");
                if v.safe_to_erase {
                    ui.colored_label(egui::Color32::from_rgb(0x22, 0xa0, 0x4b), "Safe to erase")
                        .on_hover_text(evidence);
                } else {
                    ui.colored_label(ui.visuals().warn_fg_color, "Not safe to erase")
                        .on_hover_text(evidence);
                }
            }
            if let Some(html) = &card.report_html
                && ui
                    .button(format!("Open report ({name})"))
                    .on_hover_text(html.display().to_string())
                    .clicked()
            {
                cmds.push(UiCommand::OpenReport(html.clone()));
            }
        });
    }
    // Only the rows near the view are laid out: the list shows a handful of rows, and laying
    // out all of a 2 000-clip run's (a dozen widgets each) took the frame past its budget
    // (issue 21: < 16 ms with 2 000 clips and a run in progress). Rows differ in height
    // (progress, retry and failure lines), so each keeps the height it had when last laid
    // out (rows never laid out count as a plain one); the rest of the list is empty space of
    // those heights, so the scroll bar stays true.
    let heights_id = ui.scope_id().with("queue_row_heights");
    let mut heights: Vec<f32> = ui.data_mut(|d| d.get_temp(heights_id)).unwrap_or_default();
    heights.resize(queue.clips.len(), PLAIN_ROW_HEIGHT);
    egui::ScrollArea::vertical()
        .id_salt("queue_scroll")
        .max_height(QUEUE_HEIGHT)
        .show_viewport(ui, |ui, viewport| {
            // A view's height of rows above and below it are laid out too (no blank rows
            // while scrolling, and the AccessKit tree names the rows around the view).
            let near = viewport.expand2(egui::vec2(0.0, viewport.height().max(QUEUE_HEIGHT)));
            let mut y = 0.0;
            for (clip, height) in queue.clips.iter().zip(heights.iter_mut()) {
                if y + *height < near.min.y || y > near.max.y {
                    ui.add_space(*height);
                } else {
                    let top = ui.cursor().top();
                    clip_ui(
                        ui,
                        clip,
                        !queue.ended,
                        (queue.clock.now(), queue.max_retries),
                        cmds,
                    );
                    *height = ui.cursor().top() - top;
                }
                y += *height;
            }
        });
    ui.data_mut(|d| d.insert_temp(heights_id, heights));
}

/// The height of the queue's list of clips.
const QUEUE_HEIGHT: f32 = 220.0;

/// What a row takes before it was laid out once: the title line of chips and the separator.
const PLAIN_ROW_HEIGHT: f32 = 30.0;

/// One card's line: its name, a bar of its work, and the figures that answer "how long".
fn card_figures_ui(ui: &mut egui::Ui, f: &CardFigures) {
    ui.horizontal_wrapped(|ui| {
        let name = f
            .card
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "Card".to_owned());
        ui.strong(name);
        ui.add(
            egui::ProgressBar::new(f.fraction as f32)
                .desired_width(160.0)
                .show_percentage(),
        );
        ui.label(f.summary());
    });
}

/// A bar over the clip's steps in three segments, one per lane of the pipeline (disk, cpu,
/// network), each as wide as its share of the steps.
fn lanes_bar_ui(ui: &mut egui::Ui, clip: &QueueClip) {
    let lanes = super::progress::lanes(clip);
    let label = format!(
        "{} lanes: {}",
        clip.title,
        super::progress::lanes_label(&lanes)
    );
    let size = egui::vec2(180.0, 10.0);
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::hover());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::ProgressIndicator, true, label.clone())
    });
    if ui.is_rect_visible(rect) {
        let visuals = ui.visuals();
        let total: usize = lanes.iter().map(|l| l.total).sum::<usize>().max(1);
        let painter = ui.painter();
        let mut x = rect.left();
        for lane in &lanes {
            let w = rect.width() * lane.total as f32 / total as f32;
            let seg =
                egui::Rect::from_min_size(egui::pos2(x, rect.top()), egui::vec2(w - 2.0, size.y));
            painter.rect_filled(seg, 2.0, visuals.extreme_bg_color);
            let fill = if lane.failed {
                visuals.error_fg_color
            } else {
                egui::Color32::from_rgb(0x22, 0xa0, 0x4b)
            };
            let done = if lane.total == 0 {
                0.0
            } else {
                lane.done as f32 / lane.total as f32
            };
            let mut filled = seg;
            filled.set_width(seg.width() * if lane.failed { 1.0 } else { done });
            painter.rect_filled(filled, 2.0, fill);
            if lane.running {
                painter.rect_stroke(
                    seg,
                    2.0,
                    egui::Stroke::new(1.0, visuals.hyperlink_color),
                    egui::StrokeKind::Inside,
                );
            }
            x += w;
        }
    }
    response.on_hover_text(label);
}

fn clip_ui(
    ui: &mut egui::Ui,
    clip: &QueueClip,
    retryable: bool,
    (now, max_retries): (Instant, Option<u32>),
    cmds: &mut Commands,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new(&clip.title).strong());
        lanes_bar_ui(ui, clip);
        for (step, status) in &clip.steps {
            let visuals = ui.visuals();
            let (color, hover) = match status {
                StepStatus::Pending => (visuals.weak_text_color(), "pending".to_owned()),
                StepStatus::Running => (visuals.hyperlink_color, "running".to_owned()),
                StepStatus::Done => (egui::Color32::from_rgb(0x22, 0xa0, 0x4b), "done".to_owned()),
                StepStatus::Failed(e) => (visuals.error_fg_color, format!("failed: {e}")),
                StepStatus::Skipped(r) => (visuals.weak_text_color(), format!("skipped: {r}")),
            };
            ui.colored_label(color, step_label(*step))
                .on_hover_text(format!("{}: {hover}", step_label(*step)));
        }
        if let Some(url) = &clip.asset_url {
            // The built-in sandbox links to its own web view of the asset (sandbox::web).
            let label = if url.contains("/sandbox/assets/") {
                "Open in sandbox"
            } else {
                "Open in iconik"
            };
            ui.hyperlink_to(label, url);
        }
    });
    if let Some(p) = &clip.progress {
        progress_bar(ui, p);
    }
    if let Some(wait) = &clip.retry {
        // Every wait explained: what iconik said, when the next try is, which try it is.
        ui.colored_label(ui.visuals().warn_fg_color, wait.text(now, max_retries));
        ui.ctx().request_repaint_after(Duration::from_millis(500));
    }
    if let Some((step, error)) = clip.failed() {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("{} failed: {error}", step_label(step)),
            );
            if retryable
                && ui
                    .button("Retry")
                    .on_hover_text(format!("Redo {} and continue", step_label(step)))
                    .clicked()
            {
                cmds.push(UiCommand::RetryStep {
                    clip_id: clip.clip_id.clone(),
                    step,
                });
            }
        });
    }
    ui.separator();
}

/// A step's bytes done of total, with the time left when known.
fn progress_bar(ui: &mut egui::Ui, p: &ByteProgress) {
    let fraction = if p.total_bytes == 0 {
        0.0
    } else {
        p.done_bytes as f32 / p.total_bytes as f32
    };
    let eta = p
        .eta_secs
        .map(|s| {
            format!(
                ", {} left",
                format_elapsed(Duration::from_secs_f64(s.max(0.0)))
            )
        })
        .unwrap_or_default();
    ui.add(egui::ProgressBar::new(fraction).text(format!(
        "{}: {} of {}{eta}",
        step_label(p.step),
        format_bytes(p.done_bytes),
        format_bytes(p.total_bytes)
    )));
}

/// `M:SS` or `H:MM:SS`.
pub fn format_elapsed(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_wait_is_explained_and_the_card_says_it_waits_for_iconik() {
        let (clock, hand) = super::super::clock::Clock::manual();
        let mut q = QueueView {
            clock,
            max_retries: Some(5),
            ..QueueView::default()
        };
        q.apply(QueueEvent::Started {
            clips: vec![("c1".into(), "C0001".into())],
        });
        q.apply(QueueEvent::ClipSizes(vec![(
            "c1".into(),
            PathBuf::from("/A"),
            100,
        )]));
        q.max_retries = Some(5);
        hand.advance(Duration::from_secs(10));
        q.apply(QueueEvent::StepStarted {
            clip_id: "c1".into(),
            step: Step::CreateProxy,
        });
        q.apply(QueueEvent::Retrying {
            clip_id: "c1".into(),
            step: Step::CreateProxy,
            attempt: 3,
            delay: Duration::from_secs(8),
            error: "iconik answered 503".into(),
        });
        let wait = q.clips[0].retry.clone().expect("retry shown");
        assert_eq!(
            wait.text(q.clock.now(), q.max_retries),
            "proxy record: iconik answered 503; retrying in 8 s (attempt 3 of 5)"
        );
        hand.advance(Duration::from_millis(2500));
        assert_eq!(
            wait.text(q.clock.now(), q.max_retries),
            "proxy record: iconik answered 503; retrying in 6 s (attempt 3 of 5)"
        );
        let f = &q.card_figures()[0];
        assert!(f.waiting_for_iconik);
        assert_eq!(f.eta, None, "no guess while waiting");
        assert!(
            f.summary().contains("waiting for iconik"),
            "{}",
            f.summary()
        );
        q.apply(QueueEvent::StepDone {
            clip_id: "c1".into(),
            step: Step::CreateProxy,
        });
        assert_eq!(q.clips[0].retry, None);
        assert!(!q.card_figures()[0].waiting_for_iconik);
    }

    #[test]
    fn a_clip_that_ended_counts_done_whichever_steps_it_skipped() {
        let mut q = QueueView::default();
        q.apply(QueueEvent::Started {
            clips: vec![("c1".into(), "A".into()), ("c2".into(), "B".into())],
        });
        q.apply(QueueEvent::StepDone {
            clip_id: "c1".into(),
            step: Step::Checksum,
        });
        // No proxy: the engine reports the clip complete without the proxy steps' events.
        q.apply(QueueEvent::ClipFinished {
            clip_id: "c1".into(),
            status: crate::ingest::report::ClipStatus::Complete,
        });
        assert!(q.clips[0].completed() && q.clips[0].settled());
        assert_eq!(q.overall(), 0.5);
        q.apply(QueueEvent::ClipFinished {
            clip_id: "c2".into(),
            status: crate::ingest::report::ClipStatus::SkippedDuplicate,
        });
        assert_eq!(q.overall(), 1.0);
        assert!(!q.running());
    }

    use crate::ingest::{EventKind, IngestEvent, Step};

    fn ev(step: Option<Step>, kind: EventKind) -> IngestEvent {
        IngestEvent {
            clip_id: Some("c1".into()),
            clip_name: Some("0002EM".into()),
            step,
            lane: step.map(Step::lane),
            kind,
        }
    }

    #[test]
    fn engine_events_map_onto_queue_events() {
        assert_eq!(
            from_ingest(&ev(
                Some(Step::UploadProxy),
                EventKind::Progress {
                    done_bytes: 10,
                    total_bytes: 40,
                    rate_bytes_per_s: Some(5.0),
                    eta_secs: Some(6.0),
                }
            )),
            [QueueEvent::Progress {
                clip_id: "c1".into(),
                step: Step::UploadProxy,
                done_bytes: 10,
                total_bytes: 40,
                eta_secs: Some(6.0),
            }]
        );
        assert_eq!(
            from_ingest(&ev(
                Some(Step::CreateAsset),
                EventKind::Failed {
                    error: "500 injected".into(),
                    retryable: true,
                }
            )),
            [QueueEvent::StepFailed {
                clip_id: "c1".into(),
                step: Step::CreateAsset,
                error: "500 injected".into(),
            }]
        );
        assert_eq!(
            from_ingest(&ev(
                Some(Step::CreateAsset),
                EventKind::Retrying {
                    attempt: 3,
                    delay_ms: 8000,
                    error: "iconik answered 503".into(),
                }
            )),
            [QueueEvent::Retrying {
                clip_id: "c1".into(),
                step: Step::CreateAsset,
                attempt: 3,
                delay: Duration::from_secs(8),
                error: "iconik answered 503".into(),
            }]
        );
        // The offload's card-level progress (no clip) feeds the queue's card bar.
        let card_level = IngestEvent {
            clip_id: None,
            clip_name: None,
            step: Some(Step::Offload),
            lane: Some(crate::ingest::step::Lane::Disk),
            kind: EventKind::Progress {
                done_bytes: 5,
                total_bytes: 50,
                rate_bytes_per_s: None,
                eta_secs: None,
            },
        };
        let mapped = from_ingest(&card_level);
        assert_eq!(
            mapped,
            [QueueEvent::CardProgress(ByteProgress {
                step: Step::Offload,
                done_bytes: 5,
                total_bytes: 50,
                eta_secs: None,
            })]
        );
        let mut q = QueueView::default();
        for e in mapped {
            q.apply(e);
        }
        assert_eq!(q.card_progress.map(|p| p.done_bytes), Some(5));
        q.apply(QueueEvent::CardProgress(ByteProgress {
            step: Step::Offload,
            done_bytes: 50,
            total_bytes: 50,
            eta_secs: None,
        }));
        assert_eq!(q.card_progress, None, "a finished copy hides the bar");
        let skipped = from_ingest(&ev(
            None,
            EventKind::Skipped {
                reason: "already in iconik".into(),
            },
        ));
        assert_eq!(skipped.len(), 12);
        assert_eq!(
            from_ingest(&IngestEvent::card(EventKind::CardFinished {
                card: "CARD_A".into(),
                completed: 1,
                failed: 0,
                skipped: 0,
                safe_to_erase: false,
                evidence: Vec::new(),
            })),
            [QueueEvent::CardSettled {
                card: "CARD_A".into(),
                completed: 1,
                failed: 0,
                skipped: 0,
            }]
        );
    }

    #[test]
    fn events_fold_into_steps_progress_failure_and_link() {
        let mut q = QueueView::default();
        q.apply(QueueEvent::Started {
            clips: vec![("a".into(), "Clip A".into()), ("b".into(), "Clip B".into())],
        });
        assert!(q.running());
        assert_eq!(q.clips[0].steps.len(), 12);
        q.apply(QueueEvent::StepStarted {
            clip_id: "a".into(),
            step: Step::Checksum,
        });
        q.apply(QueueEvent::Progress {
            clip_id: "a".into(),
            step: Step::Checksum,
            done_bytes: 512,
            total_bytes: 2048,
            eta_secs: Some(3.0),
        });
        assert_eq!(
            q.clips[0].status(Step::Checksum),
            Some(&StepStatus::Running)
        );
        assert_eq!(q.clips[0].progress.map(|p| p.done_bytes), Some(512));
        q.apply(QueueEvent::StepDone {
            clip_id: "a".into(),
            step: Step::Checksum,
        });
        assert_eq!(q.clips[0].progress, None);
        q.apply(QueueEvent::StepFailed {
            clip_id: "b".into(),
            step: Step::CreateAsset,
            error: "500: injected".into(),
        });
        assert_eq!(q.failed_count(), 1);
        assert_eq!(
            q.clips[1].failed(),
            Some((Step::CreateAsset, "500: injected"))
        );
        // 1 of 24 steps finished.
        assert!((q.overall() - 1.0 / 24.0).abs() < 1e-6, "{}", q.overall());
        q.apply(QueueEvent::AssetLink {
            clip_id: "a".into(),
            url: "https://app.iconik.io/asset/1".into(),
        });
        assert_eq!(
            q.clips[0].asset_url.as_deref(),
            Some("https://app.iconik.io/asset/1")
        );
        q.apply(QueueEvent::Finished);
        assert!(!q.running());
        assert!(q.finished_after.is_some());
        assert_eq!(format_elapsed(Duration::from_secs(3725)), "1:02:05");
        assert_eq!(format_elapsed(Duration::from_secs(65)), "1:05");
    }
}
