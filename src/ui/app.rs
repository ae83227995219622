//! The app: composes the panels, folds background results into the view model once per frame,
//! and applies the panels' commands at the end of the frame. It owns the runtime-side resources
//! (worker, token store, sandbox handle) so the panels never see them.

use super::background::{BgEvent, KeyringOpener, StorageInfo, Worker};
use super::command::{Commands, UiCommand};
use super::help::Shortcut;
use super::queue::{QueueEvent, from_ingest};
use super::state::{
    CardView, ClipRow, Connection, KeyringStatus, PosterState, StorageRow, ViewModel,
};
use crate::ingest::lookup::{
    CheckKey, DuplicateCheck, DuplicateRequest, DuplicateTracker, DuplicateUpdate, Follow,
};
use crate::ingest::session::{SessionEvent, SessionHandle};
use crate::ingest::{EventKind, IngestCommand, NoticeLevel};
use crate::sandbox::SandboxHandle;
use crate::secrets::{EnvStore, Resolver, TokenStore};
use crate::settings::{AppDirs, ServerChoice, Settings};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use tracing::Level;

/// Scans of waiting cards are tagged from here up, apart from the preview's scan generations
/// (posters and duplicate checks compare against those).
const WAITING_GENERATIONS: u64 = 1 << 40;

/// Settings are written this long after the first unsaved change (at most one write per burst
/// of typing).
const SAVE_DELAY: Duration = Duration::from_millis(800);

/// Everything the app needs from its caller (the CLI, or a test).
pub struct Startup {
    /// Settings loaded by the caller (defaults on first run).
    pub settings: Settings,
    /// Where settings are saved and posters/sample cards are cached.
    pub dirs: AppDirs,
    /// Card folders given on the command line: scanned at once.
    pub paths: Vec<PathBuf>,
    /// Opens the OS keyring (tests inject a failing opener).
    pub keyring: KeyringOpener,
    /// Environment credentials (`ICONIK_APP_ID` / `ICONIK_AUTH_TOKEN`), captured once.
    pub env: EnvStore,
    /// A folder of iconik's OpenAPI files replacing the built-in copy for the sandbox.
    pub spec_dir: Option<PathBuf>,
    /// Messages to show in the log at start (e.g. an unreadable settings file).
    pub notices: Vec<String>,
    /// Library `tracing` events for the log panel (`None`: only the app's own lines).
    pub log: Option<crate::log_capture::LogBuffer>,
    /// Card folders later `card-ingest PATH` commands hand to this window (`None`: not the
    /// user's single window, e.g. tests and `--new-window`).
    pub arrivals: Option<Arrivals>,
    /// Where newly mounted volumes are noticed (`None`: not watched).
    pub mounts: Option<Box<dyn crate::volumes::MountSource>>,
}

/// Card folders handed over by other `card-ingest` processes ([`crate::instance`]): the
/// listener's thread sends them and wakes the window.
pub struct Arrivals {
    pub paths: mpsc::Receiver<Vec<PathBuf>>,
    /// Set on the first frame: the listener wakes the window through it.
    pub waker: Arc<std::sync::OnceLock<egui::Context>>,
}

impl Arrivals {
    /// The receiving end, and the listener's callback.
    pub fn channel() -> (Self, impl Fn(Vec<PathBuf>) + Send + 'static) {
        let (tx, rx) = mpsc::channel();
        let waker: Arc<std::sync::OnceLock<egui::Context>> = Arc::default();
        let wake = waker.clone();
        let send = move |paths| {
            let _ = tx.send(paths);
            if let Some(ctx) = wake.get() {
                ctx.request_repaint();
            }
        };
        (Self { paths: rx, waker }, send)
    }
}

/// Kinds of toast.
#[derive(Debug, Clone, Copy)]
enum Notice {
    Info,
    Done,
    Warning,
    Failed,
}

/// The operator's window.
pub struct App {
    vm: ViewModel,
    worker: Worker,
    events: mpsc::Receiver<BgEvent>,
    env: EnvStore,
    store: Option<Arc<dyn TokenStore>>,
    sandbox: Option<SandboxHandle>,
    dirs: AppDirs,
    spec_dir: Option<PathBuf>,
    saved_settings: Settings,
    settings_changed_at: Option<Instant>,
    /// The server the connection state and token belong to; a change resets both.
    current_server: Option<String>,
    /// The server changed: load its stored token once the typing settles.
    credentials_pending: bool,
    scan_generation: u64,
    /// When the "already in iconik" check is due, and which of its results are current.
    duplicates: DuplicateTracker,
    toasts: egui_notify::Toasts,
    cmds: Commands,
    attached: bool,
    log: Option<crate::log_capture::LogBuffer>,
    /// The ingest started from this window; dropping it ends card jobs waiting for retries.
    ingest: Option<SessionHandle>,
    /// Which run the queue shows (events of an earlier, finishing run are only logged).
    run: u64,
    /// Ingest runs that ended (the "already in iconik" check runs again after each).
    ingests_ended: u64,
    /// Clips whose journal has work left (never unticked as "already in iconik").
    unfinished_ids: HashSet<String>,
    /// For commands that need it outside a frame (open a report).
    ctx: Option<egui::Context>,
    /// The operator confirmed closing mid-ingest.
    allow_close: bool,
    /// Clips to select (and resume) once the resumed cards are scanned.
    resume: Option<Resume>,
    /// Tag of the last waiting card's scan.
    waiting_generation: u64,
    /// The run ended on its own (not cancelled): the next waiting card starts.
    start_next: bool,
    /// Test seam: given to every ingest's offload (corrupts copies before their read-back).
    offload_hook: Option<crate::ingest::engine::OffloadHook>,
    /// The options the last ingest session runs with, as the session reported them.
    run_options: Option<Box<crate::ingest::IngestOptions>>,
    /// Connect by itself once the saved server's credentials are loaded (at start only).
    auto_connect: bool,
    /// The connection being made is the automatic one at start: close the sheet once it works.
    close_sheet_on_connect: bool,
    /// Test seam: the `PATH` reports and links are opened with (a stand-in viewer).
    opener_path: Option<std::ffi::OsString>,
    /// The connection test in flight (storages, then views).
    connecting: Option<poll_promise::Promise<super::background::ConnectionTest>>,
    /// The folder picker while it is open, and since when.
    choosing: Option<(
        Instant,
        poll_promise::Promise<Option<Vec<std::path::PathBuf>>>,
    )>,
    /// The destinations' pre-flight in flight, and what it was asked (to run again on a change).
    preflight: Option<DestinationsPromise>,
    preflight_key: String,
    /// Posters being grabbed: (scan generation, clip id, the picture or why not).
    posters: Vec<(u64, String, PosterPromise)>,
    /// The bundled fonts plus the system's CJK fallback, while they load.
    system_fonts: Option<poll_promise::Promise<egui::FontDefinitions>>,
    /// Card folders handed over by later `card-ingest PATH` commands.
    arrivals: Option<Arrivals>,
    /// The Path field's folder completions being read: (for this input, the folders).
    completing: Option<(String, poll_promise::Promise<Vec<PathBuf>>)>,
    /// "Check copies" running: (the card's report, its outcome).
    checking: Vec<(PathBuf, poll_promise::Promise<Result<String, String>>)>,
    /// Camera cards on newly mounted volumes ([`crate::volumes::watch`]), and the window the
    /// watcher wakes.
    inserted: Option<(
        mpsc::Receiver<crate::volumes::InsertedCard>,
        Arc<std::sync::OnceLock<egui::Context>>,
    )>,
    /// The destinations the volume watcher never takes for a card (kept in step with the
    /// settings).
    watch_exclude: Arc<std::sync::Mutex<Vec<PathBuf>>>,
    watch_exclude_now: Vec<PathBuf>,
    /// Inserted cards to start by themselves once scanned (start when inserted).
    autostart: HashSet<PathBuf>,
}

/// A folder chooser that answers "nothing chosen" sooner than this never opened.
const NO_DIALOG_WITHIN: Duration = Duration::from_millis(700);

/// The clip table's least width for its Clip, Title and Status columns.
const TABLE_MIN_WIDTH: f32 = 700.0;
/// The side sheets' usual widths, and the least the settings sheet is shown at.
const SHEET_WIDTH: f32 = 340.0;
const SHEET_MIN_WIDTH: f32 = 300.0;
const EDITOR_WIDTH: f32 = 320.0;
const SOURCES_WIDTH: f32 = 180.0;
/// Below this width the sheets are held to a share of the window.
const NARROW_WIDTH: f32 = 1500.0;

type DestinationsPromise = poll_promise::Promise<Result<Vec<super::state::DestinationRow>, String>>;

type PosterPromise = poll_promise::Promise<Result<egui::ColorImage, String>>;

/// A resume in progress: the clips left in the journals, and the server they belong to.
#[derive(Debug)]
struct Resume {
    clip_ids: HashSet<String>,
    servers: Vec<String>,
}

impl App {
    /// Builds the app and starts the first background jobs (keyring, CLI paths). Needs the
    /// tokio runtime's handle; never blocks.
    pub fn new(startup: Startup, rt: tokio::runtime::Handle) -> App {
        let (worker, events) = Worker::new(rt, startup.dirs.cache_dir.clone());
        let vm = ViewModel {
            show_settings: true,
            settings: startup.settings.clone(),
            ..ViewModel::default()
        };
        let mut app = App {
            vm,
            worker,
            events,
            env: startup.env.clone(),
            store: None,
            sandbox: None,
            dirs: startup.dirs,
            spec_dir: startup.spec_dir,
            current_server: startup.settings.server_url(),
            credentials_pending: false,
            saved_settings: startup.settings,
            settings_changed_at: None,
            scan_generation: 0,
            duplicates: DuplicateTracker::default(),
            // Bottom right: top right would cover the "Ingest N clips" button.
            toasts: egui_notify::Toasts::default()
                .with_anchor(egui_notify::Anchor::BottomRight)
                .with_margin(egui::vec2(12.0, 40.0)),
            cmds: Commands::default(),
            attached: false,
            log: startup.log,
            arrivals: startup.arrivals,
            completing: None,
            checking: Vec::new(),
            inserted: None,
            watch_exclude: Arc::default(),
            watch_exclude_now: Vec::new(),
            autostart: HashSet::new(),
            ingest: None,
            run: 0,
            ingests_ended: 0,
            unfinished_ids: HashSet::new(),
            ctx: None,
            allow_close: false,
            resume: None,
            waiting_generation: WAITING_GENERATIONS,
            start_next: false,
            offload_hook: None,
            run_options: None,
            auto_connect: true,
            close_sheet_on_connect: false,
            opener_path: None,
            connecting: None,
            choosing: None,
            posters: Vec::new(),
            system_fonts: None,
            preflight: None,
            preflight_key: String::new(),
        };
        // The last server was the built-in sandbox: start it again (it connects by itself).
        if app.vm.settings.server == ServerChoice::Sandbox {
            app.cmds.push(UiCommand::TrySandbox);
            app.close_sheet_on_connect = true;
        }
        app.worker
            .find_unfinished(app.dirs.data_dir.join("journals"));
        for notice in startup.notices {
            app.vm.log(Level::WARN, notice);
        }
        app.worker
            .open_keyring(startup.keyring, startup.env, app.vm.settings.server_url());
        // Before the first scan: it then uses the settings' tool paths.
        app.worker.check_tools(app.vm.settings.tools.clone());
        app.worker.preset(
            crate::preset::presets_dir(&app.dirs),
            super::presets::PresetAction::List,
            app.vm.settings.clone(),
        );
        if !startup.paths.is_empty() {
            app.load_paths(startup.paths);
        }
        if let Some(source) = startup.mounts {
            app.follow_watch_exclude();
            let (tx, rx) = mpsc::channel();
            let waker: Arc<std::sync::OnceLock<egui::Context>> = Arc::default();
            let wake = waker.clone();
            let started = crate::volumes::watch(
                source,
                crate::volumes::POLL_EVERY,
                app.watch_exclude.clone(),
                move |card| {
                    let _ = tx.send(card);
                    if let Some(ctx) = wake.get() {
                        ctx.request_repaint();
                    }
                },
            );
            match started {
                Ok(()) => app.inserted = Some((rx, waker)),
                Err(e) => app
                    .vm
                    .log(Level::WARN, format!("inserted cards are not noticed: {e}")),
            }
        }
        app
    }

    /// The folders the volume watcher never takes for a card: every destination of the
    /// settings (the storage mount, further and later-tier folders, storages' mounts). Called
    /// at start and when the settings are saved.
    fn follow_watch_exclude(&mut self) {
        let s = &self.vm.settings;
        let mut now: Vec<PathBuf> = std::iter::once(s.storage_mount.as_str())
            .chain(s.offload_also.iter().map(String::as_str))
            .chain(s.cascade_to.iter().map(String::as_str))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect();
        now.extend(
            s.offload_storages
                .iter()
                .filter_map(|l| crate::settings::parse_target(l, true).ok())
                .filter_map(|t| t.local_mount),
        );
        if now != self.watch_exclude_now {
            if let Ok(mut shared) = self.watch_exclude.lock() {
                shared.clone_from(&now);
            }
            self.watch_exclude_now = now;
        }
    }

    /// A camera card appeared on a newly mounted volume: loaded like a dropped card (queued
    /// behind a running ingest), and started once scanned when the settings say so.
    fn card_inserted(&mut self, inserted: crate::volumes::InsertedCard) {
        let names = inserted
            .cards
            .iter()
            .map(|c| c.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let auto = self.vm.settings.start_when_inserted;
        self.vm.log(
            Level::INFO,
            format!(
                "camera card inserted: {names}{}",
                if auto { " (starts by itself)" } else { "" }
            ),
        );
        if auto {
            self.autostart.extend(inserted.cards.iter().cloned());
        }
        self.load_paths(inserted.cards);
    }

    /// After a scan: an inserted card waiting to start by itself starts now (connected, nothing
    /// running), with a notification naming it and the settings it runs with.
    fn start_inserted(&mut self) {
        let loaded: Vec<PathBuf> = self.vm.card.cards.iter().map(|c| c.root.clone()).collect();
        if loaded.is_empty() || !loaded.iter().all(|r| self.autostart.contains(r)) {
            return;
        }
        for r in &loaded {
            self.autostart.remove(r);
        }
        let names = loaded
            .iter()
            .map(|r| {
                r.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| r.display().to_string())
            })
            .collect::<Vec<_>>()
            .join(", ");
        if !self.vm.connected() {
            self.vm.log(
                Level::WARN,
                format!(
                    "{names} not started by itself: not connected to iconik (connect, then Ingest)"
                ),
            );
            return;
        }
        let with = self.settings_name();
        self.vm.log(
            Level::INFO,
            format!("{names} started by itself with {with}"),
        );
        if self.vm.settings.notify_desktop {
            self.worker.notify(
                format!("card-ingest: {names} started"),
                format!("Inserted and started with {with}"),
            );
        }
        self.start_ingest();
    }

    /// How the settings a run uses are named in messages.
    fn settings_name(&self) -> String {
        match self.vm.settings.preset.trim() {
            "" => "the current settings".to_owned(),
            name => format!("preset \"{name}\""),
        }
    }

    /// The view model (tests read it).
    pub fn view(&self) -> &ViewModel {
        &self.vm
    }

    /// The view model, mutable (tests feed state changes directly).
    pub fn view_mut(&mut self) -> &mut ViewModel {
        &mut self.vm
    }

    /// Opens reports and links with the programs found on `path` (tests: a stand-in viewer).
    pub fn set_opener_path(&mut self, path: std::ffi::OsString) {
        self.opener_path = Some(path);
    }

    /// The options the last ingest session runs with (what the settings sheet showed).
    pub fn run_options(&self) -> Option<&crate::ingest::IngestOptions> {
        self.run_options.as_deref()
    }

    /// Calls `hook` on each offloaded file between copy and read-back in later ingests (tests
    /// corrupt a destination copy there).
    pub fn set_offload_hook(&mut self, hook: crate::ingest::engine::OffloadHook) {
        self.offload_hook = Some(hook);
    }

    /// The running in-process sandbox, if any (tests inspect its state).
    pub fn sandbox(&self) -> Option<&SandboxHandle> {
        self.sandbox.as_ref()
    }

    /// One frame: drain results, read input, draw the panels, apply the commands.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if !self.attached {
            self.worker.attach(&ctx);
            self.ctx = Some(ctx.clone());
            self.attached = true;
            // Light or dark as the OS says (eframe reports the system theme each frame).
            ctx.options_mut(|o| o.theme_preference = egui::ThemePreference::System);
            ctx.set_fonts(super::fonts::bundled());
            // The system's CJK font, found off the UI thread (a font scan takes a while).
            self.system_fonts = Some(poll_promise::Promise::spawn_thread(
                "system-fonts",
                super::fonts::with_system_fallbacks,
            ));
            if let Some(a) = &self.arrivals {
                let _ = a.waker.set(ctx.clone());
            }
        }
        self.guard_close(&ctx);
        self.take_arrivals(&ctx);
        let inserted: Vec<crate::volumes::InsertedCard> = match &self.inserted {
            Some((rx, waker)) => {
                let _ = waker.set(ctx.clone());
                rx.try_iter().collect()
            }
            None => Vec::new(),
        };
        for card in inserted {
            self.card_inserted(card);
        }
        while let Ok(event) = self.events.try_recv() {
            self.apply_event(event);
        }
        self.poll_promises(&ctx);
        if let Some(Ok(fonts)) = self
            .system_fonts
            .take_if(|p| p.ready().is_some())
            .map(|p| p.try_take())
        {
            ctx.set_fonts(fonts);
        }
        if let Some(log) = &self.log {
            self.vm.log.extend(log.drain());
        }
        self.cmds.clear_shortcuts();
        self.input(&ctx);
        self.panels_ui(ui);
        super::dialogs::dialogs_ui(ui, &mut self.vm, &mut self.cmds);
        super::help::help_ui(ui, self.vm.show_help, &self.vm.help_focus, &mut self.cmds);
        for command in self.cmds.take() {
            self.apply_command(command);
        }
        // Links (assets, the sandbox's pages) open with the system's viewer: eframe's own
        // opener is not built in.
        let urls = ctx.output_mut(|o| {
            let (urls, rest) = std::mem::take(&mut o.commands)
                .into_iter()
                .partition::<Vec<_>, _>(|c| matches!(c, egui::OutputCommand::OpenUrl(_)));
            o.commands = rest;
            urls
        });
        for c in urls {
            if let egui::OutputCommand::OpenUrl(u) = c {
                self.worker.open(u.url, self.opener_path.clone());
            }
        }
        self.advance_queue();
        self.follow_path_input();
        self.follow_server();
        self.follow_duplicates();
        self.follow_destinations();
        self.persist_settings(&ctx);
        if self.vm.queue.running() {
            // The elapsed clock ticks even while a long encode sends no events.
            ctx.request_repaint_after(Duration::from_secs(1));
        }
        self.toasts.show(&ctx);
    }

    fn panels_ui(&mut self, ui: &mut egui::Ui) {
        let cmds = &mut self.cmds;
        let vm = &mut self.vm;
        egui::Panel::top("top_bar").show(ui, |ui| top_bar_ui(ui, vm, cmds));
        if !vm.missing_tools.is_empty() {
            egui::Panel::top("tools_banner")
                .show(ui, |ui| super::dialogs::tools_banner_ui(ui, vm, cmds));
        }
        egui::Panel::bottom("log_panel")
            .resizable(true)
            .default_size(120.0)
            .show(ui, |ui| {
                egui::CollapsingHeader::new(format!("Log ({})", vm.log.len()))
                    .id_salt("log_header")
                    .default_open(false)
                    .show(ui, |ui| super::log::log_ui(ui, vm));
            });
        // The clip table keeps room for its named columns; the side sheets take what is left,
        // in the order the operator needs them: the clip editor, the settings, the card list
        // (the toolbar reopens what had no room).
        let width = ui.ctx().content_rect().width();
        let editing = vm.focused.is_some() || vm.bulk_open && !vm.card.clips.is_empty();
        let mut room = width - TABLE_MIN_WIDTH - if editing { EDITOR_WIDTH } else { 0.0 };
        let show_settings = vm.show_settings && room >= SHEET_MIN_WIDTH;
        if show_settings {
            room -= SHEET_WIDTH;
        }
        let show_sources = room >= SOURCES_WIDTH;
        let narrow = width < NARROW_WIDTH;
        if show_settings {
            // The side sheet: open on start (nothing is connected yet), when a connection
            // fails, and from the toolbar.
            // On a laptop's width the sheet leaves the clip table at least its named columns.
            let width = ui.ctx().content_rect().width();
            egui::Panel::left("settings_panel")
                .resizable(true)
                .default_size(SHEET_WIDTH)
                .max_size(if narrow {
                    (width * 0.3).max(260.0)
                } else {
                    width * 0.45
                })
                .show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.strong("Connection & settings");
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            if ui
                                .button("Close settings")
                                .on_hover_text("Ctrl+,")
                                .clicked()
                            {
                                cmds.push(UiCommand::ToggleSettings);
                            }
                        });
                    });
                    ui.separator();
                    egui::ScrollArea::vertical()
                        .id_salt("settings_scroll")
                        .show(ui, |ui| super::settings::settings_ui(ui, vm, cmds));
                });
        }
        if show_sources {
            egui::Panel::left("sources_panel")
                .resizable(true)
                .default_size(SOURCES_WIDTH)
                .show(ui, |ui| super::sources::sources_ui(ui, vm, cmds));
        }
        if editing {
            let width = ui.ctx().content_rect().width();
            egui::Panel::right("clip_edit_panel")
                .resizable(true)
                .default_size(EDITOR_WIDTH)
                .max_size(if narrow {
                    (width * 0.32).max(260.0)
                } else {
                    width * 0.4
                })
                .show(ui, |ui| super::clip_edit::clip_edit_ui(ui, vm, cmds));
        }
        egui::CentralPanel::default().show(ui, |ui| {
            super::dialogs::resume_offer_ui(ui, vm, cmds);
            if !vm.queue.clips.is_empty() || vm.queue.notice.is_some() {
                super::queue::queue_ui(ui, &vm.queue, cmds);
                ui.separator();
            }
            super::cards::cards_ui(ui, vm, cmds);
        });
    }

    /// Drag-and-drop and keyboard shortcuts.
    fn input(&mut self, ctx: &egui::Context) {
        let (hovering, dropped) = ctx.input(|i| {
            (
                !i.raw.hovered_files.is_empty(),
                i.raw
                    .dropped_files
                    .iter()
                    .map(|f| f.path().to_path_buf())
                    .collect::<Vec<_>>(),
            )
        });
        self.vm.drop_hover = hovering;
        if !dropped.is_empty() {
            self.cmds.push(UiCommand::LoadPaths(dropped));
        }
        let typing = ctx.memory(|m| m.focused().is_some());
        for shortcut in super::help::pressed(ctx, typing) {
            self.cmds.push(shortcut.command(self.vm.show_help));
        }
    }

    /// Folders another `card-ingest PATH` handed over: loaded like dropped ones (queued behind
    /// a running ingest), and the window comes to the front.
    fn take_arrivals(&mut self, ctx: &egui::Context) {
        let Some(arrivals) = &self.arrivals else {
            return;
        };
        let handed: Vec<Vec<PathBuf>> = arrivals.paths.try_iter().collect();
        for paths in handed {
            ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
            if paths.is_empty() {
                continue;
            }
            self.vm.log(
                Level::INFO,
                format!(
                    "handed over by another card-ingest command: {}",
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            self.cmds.push(UiCommand::LoadPaths(paths));
        }
    }

    /// Keeps the Path field's completions in step with what is typed: one listing in flight,
    /// asked again when the input moved on meanwhile.
    fn follow_path_input(&mut self) {
        let input = self.vm.path_input.trim().to_owned();
        if let Some((asked, p)) = self.completing.take() {
            match p.try_take() {
                Ok(folders) => {
                    self.vm.path_completions = folders;
                    self.vm.path_completed_for = asked;
                }
                Err(p) => self.completing = Some((asked, p)),
            }
        }
        if input.is_empty() {
            self.vm.path_completions.clear();
            self.vm.path_completed_for.clear();
            return;
        }
        let asked = self.completing.as_ref().map(|(a, _)| a.as_str());
        if self.vm.path_completed_for != input && asked != Some(input.as_str()) && asked.is_none() {
            let p = self.worker.complete_folders(input.clone());
            self.completing = Some((input, p));
        }
    }

    fn server_url(&self) -> Option<String> {
        match self.vm.settings.server {
            ServerChoice::Sandbox => self.vm.sandbox_url.clone(),
            _ => self.vm.settings.server_url(),
        }
    }

    fn load_paths(&mut self, paths: Vec<PathBuf>) {
        if self.vm.queue.running() || self.ingest.is_some() {
            self.queue_card(paths);
            return;
        }
        self.scan_generation += 1;
        self.vm.card_filter = None;
        self.vm.card = CardView {
            paths: paths.clone(),
            scanning: true,
            ..CardView::default()
        };
        self.vm.log(
            Level::INFO,
            format!(
                "scanning {}",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        self.worker.scan(self.scan_generation, paths);
    }

    /// A card dropped while an ingest runs waits its turn; it is scanned now so the card list
    /// shows its clips and size.
    fn queue_card(&mut self, paths: Vec<PathBuf>) {
        self.waiting_generation += 1;
        self.vm.log(
            Level::INFO,
            format!(
                "queued {} (starts when the running ingest ends)",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        self.vm.waiting.push(super::state::WaitingCard {
            paths: paths.clone(),
            generation: self.waiting_generation,
            scan: None,
        });
        self.worker.scan(self.waiting_generation, paths);
    }

    /// Starts the first waiting card once the run before it ended on its own.
    fn advance_queue(&mut self) {
        let ready = self.vm.waiting.first().is_some_and(|w| w.scan.is_some());
        if self.start_next && ready && self.ingest.is_none() && !self.vm.queue.running() {
            self.start_next = false;
            self.start_next_card();
        }
    }

    /// Moves the loaded card(s) into the card list's history and ingests the first waiting card.
    fn start_next_card(&mut self) {
        if self.vm.queue.running() || self.vm.waiting.first().is_none_or(|w| w.scan.is_none()) {
            return;
        }
        let next = self.vm.waiting.remove(0);
        if self.vm.queue.started_at.is_some() {
            let ended = super::sources::loaded_rows(&self.vm);
            self.vm.history.extend(ended);
        }
        // The open run of the card before (failed clips waiting for a retry) ends here.
        self.ingest = None;
        self.scan_generation += 1;
        self.vm.focused = None;
        self.vm.card = CardView {
            paths: next.paths,
            ..CardView::default()
        };
        match next.scan {
            Some(result) => self.scan_finished(result),
            None => return,
        }
        if !self.vm.card.clips.is_empty() {
            self.start_ingest();
        }
    }

    fn apply_command(&mut self, command: UiCommand) {
        match command.clone() {
            UiCommand::TestConnection => self.test_connection(),
            UiCommand::SaveToken => self.save_token(),
            UiCommand::ForgetToken => match (&self.store, self.server_url()) {
                (Some(store), Some(server)) => self.worker.forget_token(store.clone(), server),
                _ => self.vm.log(Level::WARN, "no server or token store yet"),
            },
            UiCommand::TrySandbox => {
                if self.sandbox.is_none() && !self.vm.sandbox_starting {
                    self.vm.sandbox_starting = true;
                    self.vm.log(Level::INFO, "starting the built-in sandbox");
                    self.worker.start_sandbox(self.spec_dir.clone());
                }
            }
            UiCommand::PickStorage(id) => {
                if let Some(s) = self.vm.storages.iter().find(|s| s.id == id) {
                    self.vm.settings.storage_id = s.id.clone();
                    self.vm.settings.storage_name = s.name.clone();
                    if self.vm.settings.storage_mount.is_empty()
                        && let Some(mount) = &s.mount_point
                    {
                        self.vm.settings.storage_mount = mount.clone();
                    }
                }
            }
            UiCommand::ChooseCard => {
                if !self.vm.choosing_folder {
                    self.vm.choosing_folder = true;
                    self.choosing = Some((Instant::now(), self.worker.choose_folders()));
                }
            }
            UiCommand::LoadPaths(paths) => self.load_paths(paths),
            UiCommand::ClearCard => {
                self.scan_generation += 1;
                self.vm.card = CardView::default();
                self.vm.focused = None;
            }
            UiCommand::RequestPoster(id) => {
                if let Some(row) = self.vm.card.row_mut(&id) {
                    row.poster = PosterState::Loading;
                    let scanned = row.scanned.clone();
                    self.posters
                        .push((self.scan_generation, id, self.worker.poster(scanned)));
                }
            }
            UiCommand::SelectAll(on) => {
                for row in &mut self.vm.card.clips {
                    row.selected = on && row.ingestable();
                }
            }
            UiCommand::Focus(id) => {
                self.vm.focused = Some(id);
                self.vm.focus_title = true;
            }
            UiCommand::FilterCard(root) => self.vm.card_filter = root,
            UiCommand::FocusNext(step) => {
                let clips = &self.vm.card.clips;
                let at = self
                    .vm
                    .focused
                    .as_deref()
                    .and_then(|f| clips.iter().position(|c| c.id() == f));
                let next = match at {
                    Some(i) => i.checked_add_signed(step).filter(|n| *n < clips.len()),
                    None => (!clips.is_empty()).then_some(0),
                };
                if let Some(n) = next {
                    self.vm.focused = Some(clips[n].id().to_owned());
                    self.vm.focus_title = true;
                }
            }
            UiCommand::ResetClip(id) => {
                self.vm.edits.remove(&id);
            }
            UiCommand::ApplyBulk => self.apply_bulk(),
            UiCommand::StartIngest => self.start_ingest(),
            UiCommand::CancelIngest => self.send_ingest(command, IngestCommand::Cancel),
            UiCommand::TogglePause => match &self.ingest {
                Some(h) => {
                    let paused = !h.is_paused();
                    h.set_paused(paused);
                    self.vm.queue.paused = paused;
                    self.vm.log(
                        Level::INFO,
                        if paused {
                            "ingest paused: running uploads stop at their next chunk, nothing new starts"
                        } else {
                            "ingest resumed"
                        },
                    );
                }
                None => self.vm.log(Level::WARN, "no ingest to pause"),
            },
            UiCommand::RetryStep { clip_id, step } => {
                self.send_ingest(command, IngestCommand::RetryStep { clip_id, step })
            }
            UiCommand::RetryAllFailed => self.send_ingest(command, IngestCommand::RetryAllFailed),
            UiCommand::FinishIngest => {
                if self.ingest.take().is_some() {
                    self.vm.queue.open = false;
                    self.vm
                        .log(Level::INFO, "finishing: failed clips stay as they are");
                }
            }
            UiCommand::OpenReport(path) => {
                self.vm
                    .log(Level::INFO, format!("report: {}", path.display()));
                self.worker
                    .open(path.display().to_string(), self.opener_path.clone());
            }
            UiCommand::ShowTranscript(path) => self.worker.read_transcript(path),
            UiCommand::ResumeUnfinished => self.resume_unfinished(),
            UiCommand::DismissUnfinished => self.vm.unfinished.clear(),
            UiCommand::QuitAnyway => {
                self.allow_close = true;
                self.vm.confirm_close = false;
                if let Some(h) = &self.ingest {
                    h.send(IngestCommand::Cancel);
                }
                if let Some(ctx) = &self.ctx {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
            UiCommand::StartNextCard => self.start_next_card(),
            UiCommand::Eject(card) => match self.vm.devices.get(&card).cloned() {
                Some(m) if !self.vm.ejecting.contains(&card) => {
                    self.vm.log(
                        Level::INFO,
                        format!("ejecting {} ({})", card.display(), m.device),
                    );
                    self.vm.ejecting.push(card.clone());
                    self.worker.eject(card, m);
                }
                _ => {}
            },
            UiCommand::ToggleSettings => self.vm.show_settings = !self.vm.show_settings,
            UiCommand::CheckCopies(html) => {
                if !self.checking.iter().any(|(h, _)| *h == html) {
                    self.vm.log(
                        Level::INFO,
                        format!("checking the copies of {} again", html.display()),
                    );
                    self.vm.checks.insert(html.clone(), None);
                    let p = self.worker.check_copies(html.clone());
                    self.checking.push((html, p));
                }
            }
            UiCommand::ShowHelp(on) => {
                if on && !self.vm.show_help {
                    // Which control the operator was on when asking (the modal takes no focus).
                    let focused = self.ctx.as_ref().and_then(|c| c.memory(|m| m.focused()));
                    self.vm.help_focus = super::help::FocusedControl::of(focused, &self.cmds);
                }
                self.vm.show_help = on;
            }
            UiCommand::CloseDialogs => {
                self.vm.show_help = false;
                self.vm.focused = None;
                self.vm.bulk_open = false;
                self.vm.transcript_view = None;
                self.vm.confirm_close = false;
            }
            UiCommand::CheckTools => self.worker.check_tools(self.vm.settings.tools.clone()),
            UiCommand::UseProxy(choice) => {
                self.vm.settings.proxy = choice;
                self.vm
                    .log(Level::INFO, format!("proxies: {}", choice.label()));
            }
            UiCommand::Preset(action) => self.worker.preset(
                crate::preset::presets_dir(&self.dirs),
                action,
                self.vm.settings.clone(),
            ),
        }
    }

    fn apply_bulk(&mut self) {
        let bulk = self.vm.bulk.clone();
        let ids: Vec<String> = self
            .vm
            .card
            .clips
            .iter()
            .filter(|c| c.selected && c.ingestable())
            .map(|c| c.id().to_owned())
            .collect();
        let mut set: Vec<String> = Vec::new();
        if bulk.collection.0 {
            set.push(format!("collection = {:?}", bulk.collection.1));
        }
        for (field, (on, value)) in &bulk.fields {
            if *on {
                set.push(format!("{} = {value:?}", field.label().to_lowercase()));
            }
        }
        if set.is_empty() || ids.is_empty() {
            self.vm.log(
                Level::WARN,
                "bulk edit: nothing applied (type a value for at least one field, and tick clips)",
            );
            return;
        }
        for id in &ids {
            let edit = self.vm.edits.entry(id.clone()).or_default();
            if bulk.collection.0 {
                edit.collection = Some(bulk.collection.1.clone());
            }
            for (field, (on, value)) in &bulk.fields {
                if *on {
                    edit.fields.insert(*field, value.clone());
                }
            }
        }
        // Exactly what went where.
        let names: Vec<&str> = self
            .vm
            .card
            .clips
            .iter()
            .filter(|c| ids.iter().any(|i| i == c.id()))
            .map(|c| c.scanned.clip.name.as_str())
            .collect();
        self.vm.log(
            Level::INFO,
            format!("bulk edit: {} → {}", set.join(", "), names.join(", ")),
        );
    }

    /// Takes the one-shot background results that are ready.
    fn poll_promises(&mut self, ctx: &egui::Context) {
        for (html, p) in std::mem::take(&mut self.checking) {
            match p.try_take() {
                Ok(result) => {
                    let name = html
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    match &result {
                        Ok(line) => {
                            self.vm
                                .log(Level::INFO, format!("check copies of {name}: {line}"));
                            self.toast(Notice::Done, format!("Copies checked: {line}"));
                        }
                        Err(e) => {
                            self.vm
                                .log(Level::ERROR, format!("check copies of {name}: {e}"));
                            self.toast(Notice::Failed, e.clone());
                        }
                    }
                    self.vm.checks.insert(html, Some(result));
                }
                Err(p) => self.checking.push((html, p)),
            }
        }
        let generation = self.scan_generation;
        for (g, clip_id, p) in std::mem::take(&mut self.posters) {
            if g != generation {
                continue; // a later scan replaced the clip list
            }
            match p.try_take() {
                Ok(result) => self.poster_ready(ctx, &clip_id, result),
                Err(p) => self.posters.push((g, clip_id, p)),
            }
        }
        if let Some(p) = self.connecting.take() {
            match p.try_take() {
                Ok(test) => {
                    let server = test.server.clone();
                    self.storages_listed(test.server, test.storages);
                    if let Some(views) = test.views {
                        self.views_listed(server, views);
                    }
                }
                Err(p) => self.connecting = Some(p),
            }
        }
        if let Some((since, p)) = self.choosing.take() {
            match p.try_take() {
                Ok(picked) => {
                    self.vm.choosing_folder = false;
                    match picked.filter(|p| !p.is_empty()) {
                        Some(paths) => self.load_paths(paths),
                        // rfd answers "none" both for a cancel and for a chooser that could
                        // not open (no portal, no zenity); nobody cancels within a blink.
                        None if since.elapsed() < NO_DIALOG_WITHIN => {
                            let msg = "No file chooser could open here (no desktop portal or \
                                       zenity): type or paste the card folder's path in the Path \
                                       field, or drop the folder on the window";
                            self.vm.log(Level::WARN, msg);
                            self.toast(Notice::Warning, msg);
                            // Whichever Path field is on screen first.
                            self.vm.path_field = None;
                            self.vm.focus_path = true;
                        }
                        None => {}
                    }
                }
                Err(p) => self.choosing = Some((since, p)),
            }
        }
    }

    fn poster_ready(
        &mut self,
        ctx: &egui::Context,
        clip_id: &str,
        result: Result<egui::ColorImage, String>,
    ) {
        let Some(row) = self.vm.card.row_mut(clip_id) else {
            return;
        };
        row.poster = match result {
            Ok(image) => PosterState::Ready(ctx.load_texture(
                format!("poster-{clip_id}"),
                image,
                egui::TextureOptions::LINEAR,
            )),
            Err(msg) => {
                tracing::debug!(clip = %clip_id, "no poster: {msg}");
                PosterState::Failed(msg)
            }
        };
    }

    /// The metadata views of `server` (a failure is not a failed connection).
    fn views_listed(
        &mut self,
        server: String,
        result: Result<Vec<super::background::ViewInfo>, String>,
    ) {
        if self.server_url().as_deref() != Some(server.as_str()) {
            return;
        }
        match result {
            Ok(views) => self.vm.views = views,
            Err(msg) => {
                self.vm.views.clear();
                self.vm.log(
                    Level::WARN,
                    format!("metadata views of {server} not listed: {msg}"),
                );
            }
        }
    }

    fn test_connection(&mut self) {
        let Some(server) = self.server_url() else {
            self.vm.connection = Connection::Failed(match self.vm.settings.server {
                ServerChoice::Sandbox => {
                    "the sandbox is not running: press \"Try with the built-in sandbox\"".into()
                }
                _ => "enter the server URL".into(),
            });
            return;
        };
        let app_id = self.vm.settings.app_id.trim().to_owned();
        let token = self.vm.token.0.trim().to_owned();
        if app_id.is_empty() || token.is_empty() {
            self.vm.connection = Connection::Failed(
                "enter the App-ID and the token (iconik: Settings, Application tokens)".into(),
            );
            return;
        }
        self.vm.connection = Connection::Testing;
        self.connecting = Some(self.worker.list_storages(server, app_id, token));
    }

    fn save_token(&mut self) {
        let (Some(store), Some(server)) = (self.store.clone(), self.server_url()) else {
            self.vm
                .log(Level::WARN, "cannot save the token yet: no server or store");
            return;
        };
        self.worker.save_token(
            store,
            server,
            self.vm.settings.app_id.trim().to_owned(),
            self.vm.token.0.trim().to_owned(),
        );
    }

    fn apply_event(&mut self, event: BgEvent) {
        match event {
            BgEvent::Keyring { store, unavailable } => {
                self.vm.keyring = match unavailable {
                    Some(why) => {
                        self.vm.log(Level::WARN, why.clone());
                        KeyringStatus::MemoryOnly(why)
                    }
                    None => KeyringStatus::Available,
                };
                self.store = Some(store);
            }
            BgEvent::KeyringFailed(msg) => {
                self.vm.log(Level::ERROR, msg.clone());
                self.vm.keyring = KeyringStatus::Failed(msg);
            }
            BgEvent::CredentialsLoaded {
                server,
                credentials,
                source,
            } => {
                if self.server_url().as_deref() == Some(server.as_str()) {
                    self.vm.settings.app_id = credentials.app_id().to_owned();
                    self.vm.token.0 = credentials.token().expose_secret().to_owned();
                    self.vm.token_source = Some(source.label().to_owned());
                    self.vm.log(
                        Level::INFO,
                        format!("token for {server} from {}", source.label()),
                    );
                    // A saved server with its credentials: connect without a click (the
                    // button stays for changes).
                    if std::mem::take(&mut self.auto_connect) && !self.vm.connected() {
                        self.close_sheet_on_connect = true;
                        self.test_connection();
                    }
                }
            }
            BgEvent::NoCredentials { server } => {
                self.vm.token_source = None;
                self.vm
                    .log(Level::INFO, format!("no token stored for {server} yet"));
            }
            BgEvent::TokenSaved { server, kind } => {
                self.vm.token_source = Some(kind.label().to_owned());
                self.vm.log(
                    Level::INFO,
                    format!("token for {server} saved in {}", kind.label()),
                );
                self.toast(Notice::Done, format!("Token saved in {}", kind.label()));
            }
            BgEvent::TokenForgotten { server, existed } => {
                self.vm.token.0.clear();
                self.vm.token_source = None;
                self.vm.log(
                    Level::INFO,
                    if existed {
                        format!("token for {server} removed")
                    } else {
                        format!("no token was stored for {server}")
                    },
                );
            }
            BgEvent::TokenError(msg) => {
                self.vm.log(Level::ERROR, msg.clone());
                self.toast(Notice::Failed, msg);
            }
            BgEvent::SandboxStarted(handle) => self.sandbox_started(handle),
            BgEvent::ToolsChecked(missing) => {
                for m in &missing {
                    if !self.vm.missing_tools.contains(m) {
                        self.vm.log(Level::WARN, m.message.clone());
                    }
                }
                if missing.is_empty() && !self.vm.missing_tools.is_empty() {
                    self.vm.log(
                        Level::INFO,
                        "ffmpeg, ffprobe and MediaInfo found".to_owned(),
                    );
                }
                self.vm.missing_tools = missing;
            }
            BgEvent::SandboxFailed(msg) => {
                self.vm.sandbox_starting = false;
                self.vm
                    .log(Level::ERROR, format!("sandbox failed to start: {msg}"));
                self.toasts
                    .error("The sandbox failed to start (see the log)");
            }
            BgEvent::SampleWritten(result) => {
                self.vm.sample_writing = false;
                match result {
                    Ok(dir) => {
                        self.vm.log(
                            Level::INFO,
                            format!("sample P2 card written to {}", dir.display()),
                        );
                        if self.vm.card.clips.is_empty() && !self.vm.card.scanning {
                            self.load_paths(vec![dir]);
                        }
                    }
                    Err(msg) => self
                        .vm
                        .log(Level::ERROR, format!("sample card failed: {msg}")),
                }
            }
            BgEvent::ScanFinished { generation, result } => {
                if generation == self.scan_generation {
                    self.scan_finished(result);
                } else if let Some(w) = self
                    .vm
                    .waiting
                    .iter_mut()
                    .find(|w| w.generation == generation)
                {
                    if let Err(msg) = &result {
                        tracing::warn!("scan of a queued card failed: {msg}");
                    }
                    w.scan = Some(result);
                }
            }
            BgEvent::Device { card, mounted } => match mounted {
                Some(m) => {
                    self.vm.log(
                        Level::INFO,
                        format!("{} can be ejected ({})", card.display(), m.device),
                    );
                    self.vm.devices.insert(card, m);
                }
                None => tracing::debug!(card = %card.display(), "not on a removable mount"),
            },
            BgEvent::Ejected { card, result } => {
                self.vm.ejecting.retain(|c| c != &card);
                match result {
                    Ok(()) => {
                        self.vm.devices.remove(&card);
                        let text = format!("{} ejected: the card can be removed", card.display());
                        self.vm.log(Level::INFO, text.clone());
                        self.toast(Notice::Done, text);
                    }
                    Err(msg) => {
                        let text = format!("eject of {} failed: {msg}", card.display());
                        self.vm.log(Level::ERROR, text.clone());
                        self.toast(Notice::Failed, text);
                    }
                }
            }
            BgEvent::SettingsSaved(result) => {
                if let Err(msg) = result {
                    self.vm.log(Level::ERROR, msg);
                }
            }
            BgEvent::Preset(reply) => {
                let reply = *reply;
                self.vm.presets.names = reply.names;
                if let Some(settings) = reply.loaded {
                    // Saved like any edit of the sheet (after the quiet period).
                    self.vm.settings = settings;
                }
                match reply.message {
                    Ok(Some(text)) => {
                        self.vm.log(Level::INFO, text.clone());
                        self.toast(Notice::Done, text);
                    }
                    Ok(None) => {}
                    Err(msg) => {
                        self.vm.log(Level::ERROR, msg.clone());
                        self.toast(Notice::Failed, msg);
                    }
                }
            }
            BgEvent::Ingest { run, event } => {
                if run == self.run {
                    self.ingest_event(event);
                } else if let SessionEvent::CardEnded(end) = event {
                    self.vm.log(
                        Level::INFO,
                        format!(
                            "earlier run: {} ended (report {})",
                            end.card.display(),
                            end.report_html
                                .map(|p| p.display().to_string())
                                .unwrap_or_else(|| "not written".into())
                        ),
                    );
                }
            }
            BgEvent::Transcript(result) => match result {
                Ok(view) => self.vm.transcript_view = Some(view),
                Err(msg) => {
                    self.vm.log(Level::ERROR, msg.clone());
                    self.toast(Notice::Failed, msg);
                }
            },
            BgEvent::Unfinished(cards) => {
                if !cards.is_empty() {
                    self.vm.log(
                        Level::INFO,
                        format!("{} unfinished cards from an earlier run", cards.len()),
                    );
                }
                self.vm.unfinished = cards;
            }
            BgEvent::Duplicates { generation, update } => self.duplicate_update(generation, update),
        }
    }

    /// A toast with an ASCII badge: egui-notify's own icons (ℹ ⚠ ✅ ❌) are not in egui's
    /// default fonts and would render as tofu.
    fn toast(&mut self, notice: Notice, text: impl Into<String>) {
        let (badge, color) = match notice {
            Notice::Info => ("i", egui::Color32::from_rgb(0x3b, 0x82, 0xf6)),
            Notice::Done => ("ok", egui::Color32::from_rgb(0x22, 0xa0, 0x4b)),
            Notice::Warning => ("!", egui::Color32::from_rgb(0xe0, 0x9b, 0x16)),
            Notice::Failed => ("x", egui::Color32::from_rgb(0xdc, 0x35, 0x45)),
        };
        let text = text.into();
        let text = match &self.ctx {
            Some(ctx) => wrap_toast(ctx, &text),
            None => text,
        };
        self.toasts
            .add(egui_notify::Toast::custom(
                text,
                egui_notify::ToastLevel::Custom(badge.to_owned(), color),
            ))
            .closable(false)
            .duration(Some(Duration::from_secs(4)));
    }

    fn storages_listed(&mut self, server: String, result: Result<Vec<StorageInfo>, String>) {
        if self.server_url().as_deref() != Some(server.as_str()) {
            return; // the operator switched servers meanwhile
        }
        match result {
            Ok(list) => {
                self.vm.connection = Connection::Connected;
                // Connected by itself at start: the sheet makes room for the clip table
                // (Settings, Ctrl/Cmd+, brings it back).
                if std::mem::take(&mut self.close_sheet_on_connect) {
                    self.vm.show_settings = false;
                }
                self.vm.storages = list
                    .into_iter()
                    .map(|s| StorageRow {
                        id: s.id,
                        name: s.name,
                        purpose: s.purpose,
                        method: s.method,
                        mount_point: s.mount_point,
                    })
                    .collect();
                self.vm.log(
                    Level::INFO,
                    format!("connected to {server}: {} storages", self.vm.storages.len()),
                );
                if self.vm.settings.server != ServerChoice::Sandbox
                    && !self
                        .vm
                        .storages
                        .iter()
                        .any(|s| s.id == self.vm.settings.storage_id)
                    && let Some(files) = self.vm.storages.iter().find(|s| s.purpose == "FILES")
                {
                    let id = files.id.clone();
                    self.vm.settings.storage_mount.clear();
                    self.apply_command(UiCommand::PickStorage(id));
                }
                if self.vm.settings.server != ServerChoice::Sandbox
                    && self.vm.token_source.is_none()
                {
                    self.save_token();
                }
            }
            Err(msg) => {
                self.vm.log(
                    Level::ERROR,
                    format!("connection to {server} failed: {msg}"),
                );
                self.vm.connection = Connection::Failed(msg);
                // Nothing works: the settings sheet opens where the fix is.
                self.vm.show_settings = true;
            }
        }
    }

    fn sandbox_started(&mut self, handle: SandboxHandle) {
        self.vm.sandbox_starting = false;
        let url = handle.base_url().to_owned();
        self.vm.log(
            Level::INFO,
            format!(
                "sandbox running at {url} (requests validated against {})",
                handle.spec_summary()
            ),
        );
        let creds = handle.credentials().clone();
        self.sandbox = Some(handle);
        self.vm.sandbox_url = Some(url.clone());
        // The connection below belongs to the sandbox: not a server change to reset.
        self.current_server = Some(url);
        self.vm.settings.server = ServerChoice::Sandbox;
        self.vm.settings.app_id = creds.app_id;
        self.vm.token.0 = creds.token;
        self.vm.token_source = Some("the built-in sandbox".to_owned());
        self.test_connection();
        if self.vm.card.clips.is_empty() && !self.vm.card.scanning && !self.vm.sample_writing {
            self.vm.sample_writing = true;
            self.worker.write_sample();
        }
    }

    fn scan_finished(&mut self, result: Result<crate::scan::ScanReport, String>) {
        self.vm.card.scanning = false;
        match result {
            Ok(report) => {
                self.vm.card.cards = report.cards.clone();
                self.vm.card.skipped = report.skipped;
                self.vm.card.errors = report.errors;
                self.vm.card.clips = report
                    .clips
                    .into_iter()
                    .map(|scanned| ClipRow {
                        // A damaged clip is not ticked: the operator ticks it on purpose.
                        selected: scanned.clip.incomplete.is_none() && scanned.damage().is_none(),
                        scanned,
                        expanded: false,
                        poster: PosterState::NotRequested,
                    })
                    .collect();
                let n = self.vm.card.clips.len();
                self.apply_resume();
                self.vm.log(
                    Level::INFO,
                    format!(
                        "scan found {n} clips, {} skipped files, {} errors",
                        self.vm.card.skipped.len(),
                        self.vm.card.errors.len()
                    ),
                );
                if n == 0 {
                    self.toast(Notice::Warning, "No clips found in that folder");
                } else {
                    self.toast(Notice::Info, format!("{n} clips found"));
                }
                self.start_inserted();
            }
            Err(msg) => {
                self.vm.log(Level::ERROR, format!("scan failed: {msg}"));
                self.vm.card.scan_error = Some(msg);
            }
        }
    }

    /// Closing the window while clips are at work asks first (the journal keeps what is done,
    /// but an upload in flight would be cut).
    fn guard_close(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested())
            && self.vm.queue.running()
            && !self.allow_close
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.vm.confirm_close = true;
        }
    }

    fn start_ingest(&mut self) {
        if self.vm.queue.running() {
            return;
        }
        let Some(server) = self.server_url() else {
            self.vm.queue.notice = Some("Connect to a server first.".into());
            return;
        };
        let target = super::plan::Target {
            server,
            data_dir: self.dirs.data_dir.clone(),
        };
        match super::plan::plan(&self.vm, &target) {
            Ok(mut plan) => {
                plan.request.config.offload_after_copy = self.offload_hook.clone();
                for note in plan.notes {
                    self.vm.log(Level::WARN, note);
                }
                let n = plan.queue.len();
                tracing::info!(request = ?plan.request, "ingest starts");
                // A previous run still open for retries ends now (its reports get written).
                self.ingest = None;
                // A look-up still running would see this ingest's new assets and untick clips
                // with work left: stop it; it runs again when the ingest ends.
                self.duplicates.interrupt();
                let sizes = self
                    .vm
                    .card
                    .clips
                    .iter()
                    .filter(|c| plan.queue.iter().any(|(id, _)| id == c.id()))
                    .map(|c| {
                        (
                            c.id().to_owned(),
                            c.scanned.clip.card_root.clone(),
                            c.scanned.clip.total_size(),
                        )
                    })
                    .collect();
                self.vm
                    .queue
                    .apply(QueueEvent::Started { clips: plan.queue });
                self.vm.queue.apply(QueueEvent::ClipSizes(sizes));
                self.vm.queue.open = true;
                self.vm.queue.notice = None;
                self.run += 1;
                self.ingest = Some(self.worker.start_ingest(self.run, plan.request));
                self.vm
                    .log(Level::INFO, format!("ingest of {n} clips started"));
            }
            Err(why) => {
                self.vm
                    .log(Level::WARN, format!("cannot start the ingest: {why}"));
                self.vm.queue.notice = Some(why);
            }
        }
    }

    fn send_ingest(&mut self, asked: UiCommand, command: IngestCommand) {
        match &self.ingest {
            Some(h) => {
                self.vm.log(Level::INFO, format!("{asked:?}"));
                h.send(command);
            }
            None => self.vm.log(
                Level::WARN,
                format!("{asked:?}: no ingest is running in this window"),
            ),
        }
    }

    fn ingest_event(&mut self, event: SessionEvent) {
        match event {
            SessionEvent::Engine(e) => {
                match &e.kind {
                    EventKind::Notice { level, message } => self.vm.log(
                        match level {
                            NoticeLevel::Warning => Level::WARN,
                            NoticeLevel::Info => Level::INFO,
                        },
                        message.clone(),
                    ),
                    EventKind::Retrying {
                        attempt,
                        delay_ms,
                        error,
                    } => self.vm.log(
                        Level::WARN,
                        format!(
                            "{} {}: retry {attempt} in {delay_ms} ms ({error})",
                            e.clip_name.as_deref().unwrap_or_default(),
                            e.step.map(|s| s.to_string()).unwrap_or_default()
                        ),
                    ),
                    EventKind::CardReleased { card, from, .. } => {
                        let card = PathBuf::from(card);
                        let from_name = PathBuf::from(from)
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_else(|| from.clone());
                        let line = format!("card can be ejected: copies continue from {from_name}");
                        self.vm
                            .log(Level::INFO, format!("{}: {line}", card.display()));
                        self.toast(Notice::Info, line.clone());
                        self.vm.released.insert(card.clone(), line);
                        // The eject offer needs the card's removable mount.
                        self.worker.find_device(card);
                    }
                    EventKind::Offline {
                        since,
                        retry_every_s,
                    } => {
                        let since = since.with_timezone(&chrono::Local);
                        self.vm.log(
                            Level::WARN,
                            format!(
                                "iconik unreachable since {}; retrying every {retry_every_s:.0} s",
                                since.format("%H:%M:%S")
                            ),
                        );
                        self.vm.queue.offline = Some((since, *retry_every_s));
                    }
                    EventKind::Online { offline_ms } => {
                        self.vm.log(
                            Level::INFO,
                            format!(
                                "iconik answers again after {} s: the paused steps go on",
                                offline_ms / 1000
                            ),
                        );
                        self.vm.queue.offline = None;
                    }
                    EventKind::Failed { error, .. } => self.vm.log(
                        Level::ERROR,
                        format!(
                            "{} {} failed: {error}",
                            e.clip_name.as_deref().unwrap_or_default(),
                            e.step.map(|s| s.to_string()).unwrap_or_default()
                        ),
                    ),
                    EventKind::CardFinished {
                        card,
                        completed,
                        failed,
                        skipped,
                        ..
                    } => {
                        let name = std::path::Path::new(card)
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_else(|| card.clone());
                        let cancelled = self.ingest.as_ref().is_some_and(SessionHandle::cancelled);
                        let text = if cancelled {
                            format!(
                                "{name}: cancelled; {completed} completed, {failed} not \
                                 finished (the journal keeps them for a resume)"
                            )
                        } else {
                            format!(
                                "{name}: {completed} completed, {failed} failed, {skipped} skipped"
                            )
                        };
                        self.vm.log(Level::INFO, text.clone());
                        if cancelled {
                            self.toast(Notice::Warning, text);
                        } else if *failed > 0 {
                            self.toast(Notice::Failed, text);
                        } else {
                            self.toast(Notice::Done, text);
                        }
                    }
                    _ => {}
                }
                for q in from_ingest(&e) {
                    self.vm.queue.apply(q);
                }
            }
            SessionEvent::Notice(text) => self.vm.log(Level::WARN, text),
            SessionEvent::Started { options, cards } => {
                tracing::info!(?cards, "ingest session started");
                self.vm.queue.max_retries = Some(options.retry.max_retries);
                self.run_options = Some(options);
            }
            SessionEvent::AssetLink { clip_id, url } => {
                self.vm
                    .card
                    .registered_here
                    .insert(clip_id.clone(), url.clone());
                self.vm.queue.apply(QueueEvent::AssetLink { clip_id, url });
            }
            SessionEvent::CardEnded(end) => {
                if let Some(error) = &end.error {
                    self.vm
                        .log(Level::ERROR, format!("{}: {error}", end.card.display()));
                    self.toast(Notice::Failed, error.clone());
                }
                if let Some(html) = &end.report_html {
                    self.vm
                        .log(Level::INFO, format!("report: {}", html.display()));
                }
                if end.verdict.as_ref().is_some_and(|v| v.safe_to_erase) {
                    // The eject offer needs the card's device: looked up off the UI thread.
                    self.worker.find_device(end.card.clone());
                }
                self.vm.card_ends.insert(end.card.clone(), (*end).clone());
                self.vm.queue.apply(QueueEvent::CardEnded(*end));
            }
            SessionEvent::Ended { transcript } => {
                self.start_next = !self.ingest.as_ref().is_some_and(SessionHandle::cancelled);
                self.vm.queue.transcript = transcript;
                self.vm.queue.apply(QueueEvent::Finished);
                self.ingests_ended += 1;
                for c in &self.vm.queue.clips {
                    if c.completed() {
                        self.unfinished_ids.remove(&c.clip_id);
                    } else {
                        self.unfinished_ids.insert(c.clip_id.clone());
                    }
                }
                self.ingest = None;
                // Journals changed: refresh the resume offer (nothing left = no offer).
                self.vm.unfinished.clear();
            }
        }
    }

    /// Loads the unfinished cards and selects the clips left; the ingest starts once scanned
    /// when the window is connected to their server.
    fn resume_unfinished(&mut self) {
        let cards = std::mem::take(&mut self.vm.unfinished);
        if cards.is_empty() {
            return;
        }
        self.unfinished_ids
            .extend(cards.iter().flat_map(|c| c.clip_ids.iter().cloned()));
        self.resume = Some(Resume {
            clip_ids: cards.iter().flat_map(|c| c.clip_ids.clone()).collect(),
            servers: cards.iter().map(|c| c.server.clone()).collect(),
        });
        // With the cards their clips left continue on: a spanning clip is incomplete without.
        let mut paths: Vec<PathBuf> = Vec::new();
        for c in cards {
            for p in std::iter::once(c.card_root).chain(c.span_roots) {
                if !paths.contains(&p) {
                    paths.push(p);
                }
            }
        }
        self.load_paths(paths);
    }

    fn apply_resume(&mut self) {
        let Some(resume) = self.resume.take() else {
            return;
        };
        for row in &mut self.vm.card.clips {
            row.selected = row.ingestable() && resume.clip_ids.contains(row.id());
        }
        let here = self.server_url();
        let here = here.as_deref().map(|s| s.trim_end_matches('/'));
        if self.vm.connected()
            && resume
                .servers
                .iter()
                .all(|s| Some(s.trim_end_matches('/')) == here)
        {
            self.start_ingest();
        } else {
            self.vm.queue.notice = Some(format!(
                "{} clips left from the earlier run are selected: connect to {} and press \
                 Ingest (steps already done are not repeated).",
                self.vm.card.selected_count(),
                resume.servers.join(", ")
            ));
        }
    }

    fn load_pending_credentials(&mut self) {
        if !self.credentials_pending {
            return;
        }
        self.credentials_pending = false;
        if let (Some(store), Some(server)) = (self.store.clone(), self.current_server.clone())
            && self.vm.settings.server != ServerChoice::Sandbox
        {
            self.worker
                .load_credentials(Resolver::new(self.env.clone(), store), server);
        }
    }

    /// A different server (picked, typed, or the sandbox stopped) invalidates the connection and
    /// the token shown; its own token is loaded once the settings settle.
    fn follow_server(&mut self) {
        let server = self.server_url();
        if server == self.current_server {
            return;
        }
        self.current_server = server;
        self.vm.connection = Connection::NotTested;
        self.vm.storages.clear();
        self.vm.token_source = None;
        if self.vm.settings.server != ServerChoice::Sandbox {
            self.vm.token.0.clear();
            self.credentials_pending = true;
        }
    }

    /// Starts, restarts or clears the "already in iconik" check when what it depends on changes:
    /// the scan, the connection and server, the picked FILES storage or its mount folder.
    /// Checks the offload's destinations again whenever the sheet or the card changes, with the
    /// run's own pre-flight (one check at a time; the newest settings win).
    fn follow_destinations(&mut self) {
        if let Some(p) = self.preflight.take() {
            match p.try_take() {
                Ok(result) => self.vm.destinations = Some(result),
                Err(p) => {
                    self.preflight = Some(p);
                    return;
                }
            }
        }
        // What the destinations depend on (cheap to compare every frame; the options are built
        // only when it changed).
        let s = &self.vm.settings;
        let key = format!(
            "{}|{}|{:?}|{}|{:?}|{}|{}|{:?}|{:?}|{}|{}|{}|{}",
            s.offload,
            s.offload_pattern,
            s.offload_also,
            s.allow_same_volume,
            s.server,
            s.storage_id,
            s.storage_mount,
            self.vm.card.cards.first().map(|c| &c.root),
            self.vm.sandbox_storage().map(|st| &st.mount_point),
            // The naming placeholders: the project and preset, and the clips' metadata (it
            // grows while the clips are described).
            s.project,
            s.preset,
            self.vm.card.clips.len(),
            self.vm
                .card
                .clips
                .iter()
                .filter(|c| c.scanned.pending.is_none())
                .count(),
        );
        if key == self.preflight_key {
            return;
        }
        self.preflight_key = key;
        match super::plan::offload_preview(&self.vm, &self.dirs.data_dir) {
            None => self.vm.destinations = None,
            Some(Err(e)) => self.vm.destinations = Some(Err(e)),
            Some(Ok(request)) => {
                let sandbox = self.vm.settings.server == ServerChoice::Sandbox;
                self.preflight = Some(self.worker.preflight(request, sandbox));
            }
        }
    }

    fn follow_duplicates(&mut self) {
        if self.vm.queue.running() || self.ingest.is_some() {
            // The ingest (running, or open for retries) has the call budget and is changing
            // the answers; the check follows once it ends.
            return;
        }
        // Storage and mount as saved: they settle after typing (SAVE_DELAY), so a mount folder
        // typed key by key starts one check, not one per key.
        let settled = &self.saved_settings;
        let (storage_id, mount) = match self.vm.sandbox_storage() {
            Some(s) => (s.id.clone(), s.mount_point.clone().unwrap_or_default()),
            None => (
                settled.storage_id.clone(),
                settled.storage_mount.trim().to_owned(),
            ),
        };
        let ready = self.vm.connected()
            && !self.vm.card.scanning
            && !self.vm.card.clips.is_empty()
            && self
                .vm
                .storages
                .iter()
                .any(|s| s.id == storage_id && s.purpose == "FILES");
        let key = ready
            .then(|| self.server_url())
            .flatten()
            .map(|server| CheckKey {
                scan_generation: self.scan_generation,
                server,
                storage_id,
                mount,
                ingests_ended: self.ingests_ended,
            });
        match self.duplicates.follow(key.clone()) {
            Follow::Keep => {}
            Follow::Clear => self.vm.card.duplicates.clear(),
            Follow::Start { generation, cancel } => {
                let Some(key) = key else { return };
                let clips: Vec<_> = self
                    .vm
                    .card
                    .clips
                    .iter()
                    .filter(|c| c.ingestable())
                    .map(|c| c.scanned.clone())
                    .collect();
                self.vm.card.duplicates = clips
                    .iter()
                    .map(|c| (c.clip.id.clone(), DuplicateCheck::Checking))
                    .collect();
                let request = DuplicateRequest {
                    server: key.server,
                    credentials: crate::iconik::Credentials::new(
                        self.vm.settings.app_id.trim(),
                        self.vm.token.0.trim(),
                    ),
                    storage_id: key.storage_id,
                    mount: (!key.mount.is_empty()).then(|| PathBuf::from(&key.mount)),
                    clips,
                };
                self.worker.check_duplicates(generation, request, cancel);
            }
        }
    }

    /// The clip's journal has work left: it failed, stopped or is being resumed.
    fn has_work_left(&self, clip_id: &str) -> bool {
        self.unfinished_ids.contains(clip_id)
            || self
                .vm
                .queue
                .clips
                .iter()
                .any(|c| c.clip_id == clip_id && !c.completed())
    }

    fn duplicate_update(&mut self, generation: u64, update: DuplicateUpdate) {
        if !self.duplicates.is_current(generation) {
            return; // the card, server or storage changed since this check started
        }
        match update {
            DuplicateUpdate::Clip { clip_id, check } => {
                // A clip with work left in a journal (failed, cancelled, resumed) has its asset
                // in iconik but is not done: it stays ticked so Ingest finishes it.
                if check.is_duplicate()
                    && !self.vm.queue.running()
                    && !self.has_work_left(&clip_id)
                    && let Some(row) = self.vm.card.row_mut(&clip_id)
                {
                    // The engine would skip it anyway: unticked, so "Ingest N" counts real work.
                    row.selected = false;
                }
                self.vm.card.duplicates.insert(clip_id, check);
            }
            DuplicateUpdate::Finished(summary) => {
                let level = if summary.failed > 0 {
                    Level::WARN
                } else {
                    Level::INFO
                };
                self.vm.log(level, summary.message());
            }
        }
    }

    /// Writes the settings after a quiet period; then loads the token of a newly picked server.
    fn persist_settings(&mut self, ctx: &egui::Context) {
        if self.vm.settings == self.saved_settings {
            self.settings_changed_at = None;
            self.load_pending_credentials();
            return;
        }
        let since = *self.settings_changed_at.get_or_insert_with(Instant::now);
        let waited = since.elapsed();
        if waited < SAVE_DELAY {
            ctx.request_repaint_after(SAVE_DELAY - waited);
            return;
        }
        self.load_pending_credentials();
        self.saved_settings = self.vm.settings.clone();
        self.settings_changed_at = None;
        // The volume watcher's exclusions follow the saved settings (not every frame).
        self.follow_watch_exclude();
        self.worker
            .save_settings(self.dirs.settings_file(), self.vm.settings.clone());
    }
}

/// Room a toast takes besides its text: egui-notify's padding (10 each side), its badge (a line
/// high, plus padding) and our margin from the window's edges (12 each side).
pub const TOAST_CHROME: f32 = 2.0 * 10.0 + 30.0 + 2.0 * 12.0;
/// The widest a toast's text gets on a large screen (a short paragraph reads better).
const TOAST_MAX_TEXT: f32 = 520.0;

/// The toast's text broken into lines that fit the window: egui-notify lays a toast out on one
/// line however long, so a long path ran off the window's left edge.
pub fn wrap_toast(ctx: &egui::Context, text: &str) -> String {
    let width = (ctx.content_rect().width() - TOAST_CHROME).clamp(120.0, TOAST_MAX_TEXT);
    let font = egui::TextStyle::Body.resolve(&ctx.global_style());
    let galley = ctx.fonts_mut(|f| f.layout(text.to_owned(), font, egui::Color32::WHITE, width));
    galley
        .rows
        .iter()
        .map(|r| r.row.text())
        .collect::<Vec<_>>()
        .join("\n")
}

fn top_bar_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    ui.horizontal(|ui| {
        ui.heading("card-ingest");
        ui.separator();
        let settings = ui
            .selectable_label(vm.show_settings, "Settings")
            .on_hover_text(Shortcut::Settings.hint("Connection and settings"));
        cmds.shortcut_of(settings.id, Shortcut::Settings);
        if settings.clicked() {
            cmds.push(UiCommand::ToggleSettings);
        }
        let choose = ui
            .add_enabled(!vm.choosing_folder, egui::Button::new("Choose card…"))
            .on_hover_text(Shortcut::ChooseCard.hint("Choose a card folder"));
        cmds.shortcut_of(choose.id, Shortcut::ChooseCard);
        if choose.clicked() {
            cmds.push(UiCommand::ChooseCard);
        }
        let help = ui
            .button("Help")
            .on_hover_text(Shortcut::Help.hint("Keyboard shortcuts"));
        cmds.shortcut_of(help.id, Shortcut::Help);
        if help.clicked() {
            cmds.push(UiCommand::ShowHelp(true));
        }
        ui.separator();
        // Only which server and storage are in use; the rest is in the settings sheet.
        let server = match vm.settings.server {
            ServerChoice::Sandbox => "the built-in sandbox".to_owned(),
            _ => vm.settings.server_url().unwrap_or_default(),
        };
        match &vm.connection {
            Connection::Connected => ui.label(format!("Server: {server}")),
            Connection::Testing => ui.label(format!("Connecting to {server}…")),
            Connection::Failed(_) => ui.colored_label(ui.visuals().error_fg_color, "Not connected"),
            Connection::NotTested => ui.label("Not connected"),
        };
        let storage = match vm.sandbox_storage() {
            Some(s) => s.name.clone(),
            None => vm.settings.storage_name.clone(),
        };
        if vm.connected() && !storage.is_empty() {
            ui.separator();
            ui.label(format!("Storage: {storage}"));
        }
    });
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        App::ui(self, ui);
    }
}
