//! The worker side of the window: every piece of I/O the UI needs (keyring, settings file, card
//! scan, poster grabs, iconik calls, the in-process sandbox, the folder picker, sample cards)
//! runs here on the tokio runtime that lives beside eframe (rust-stack.md §10).
//!
//! Each job posts one [`BgEvent`] back over a channel and asks egui for a repaint; the app drains
//! the channel once per frame. Nothing here touches the view model, and nothing in the panels
//! calls into here except through [`super::command::UiCommand`]s applied by the app.

pub use crate::ingest::lookup::{ConnectionTest, StorageInfo, ViewInfo};
use crate::ingest::lookup::{DuplicateRequest, DuplicateUpdate};
use crate::ingest::resume::{self, UnfinishedCard};
use crate::ingest::session::{self, SessionEvent, SessionHandle, SessionRequest};
use crate::media::poster::{self, PosterFormat, PosterOptions};
use crate::media::tools::ToolPaths;
use crate::media::{ClipDescription, Tools};
use crate::sample::{self, SampleKind, SampleOptions};
use crate::sandbox::{self, SandboxConfig, SandboxHandle};
use crate::scan::{self, ScanReport, ScannedClip};
use crate::secrets::{
    self, AuthToken, Credentials, EnvStore, KeyringStore, MemoryStore, Resolver, SecretsError,
    ServerKey, StoreKind, TokenStore,
};
use crate::settings::Settings;
use poll_promise::Promise;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock, mpsc};

/// Opens the OS keyring; tests inject a failing or in-memory one.
pub type KeyringOpener = Box<dyn FnOnce() -> Result<KeyringStore, SecretsError> + Send>;

/// Posters are ffmpeg runs: two at a time on a 2-core workstation keeps the scan and UI smooth.
const POSTER_JOBS: usize = 2;
/// The transcript viewer shows at most this much (the end of the file: the latest calls).
const TRANSCRIPT_VIEW_BYTES: u64 = 2 * 1024 * 1024;
/// Poster width in pixels (rows show it at ~96 px; 2× for high-DPI screens).
const POSTER_WIDTH: u32 = 192;

/// What a background job reports.
pub enum BgEvent {
    /// The token store to use this run; `unavailable` = why it is memory-only.
    Keyring {
        store: Arc<dyn TokenStore>,
        unavailable: Option<String>,
    },
    KeyringFailed(String),
    /// Stored credentials for `server` (from the keyring, memory or environment).
    CredentialsLoaded {
        server: String,
        credentials: Credentials,
        source: StoreKind,
    },
    /// Nothing stored for `server` (not an error: first run).
    NoCredentials {
        server: String,
    },
    TokenSaved {
        server: String,
        kind: StoreKind,
    },
    TokenForgotten {
        server: String,
        existed: bool,
    },
    /// A keyring/store call failed; the message says what to do.
    TokenError(String),
    SandboxStarted(SandboxHandle),
    /// The media tools were looked for: those missing (empty: all found).
    ToolsChecked(Vec<crate::media::tools::MissingTool>),
    SandboxFailed(String),
    SampleWritten(Result<PathBuf, String>),
    ScanFinished {
        generation: u64,
        result: Result<ScanReport, String>,
    },
    SettingsSaved(Result<(), String>),
    /// A preset job ended ([`super::presets::run`]).
    Preset(Box<super::presets::PresetReply>),
    /// Progress of the ingest `run` started from the window.
    Ingest {
        run: u64,
        event: SessionEvent,
    },
    /// The API transcript's text (path, text), for the viewer.
    Transcript(Result<(PathBuf, String), String>),
    /// Journals of earlier runs with clips left to do.
    Unfinished(Vec<UnfinishedCard>),
    /// A result of the "already in iconik" check tagged `generation` (stale ones are dropped).
    Duplicates {
        generation: u64,
        update: DuplicateUpdate,
    },
    /// The removable mount of a card that is safe to erase (`None`: nothing to eject).
    Device {
        card: PathBuf,
        mounted: Option<crate::eject::Mounted>,
    },
    /// The eject of a card ran.
    Ejected {
        card: PathBuf,
        result: Result<(), String>,
    },
}

impl std::fmt::Debug for BgEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only the variant: payloads can be big (scan reports, images) or secret (credentials).
        let name = match self {
            BgEvent::Keyring { .. } => "Keyring",
            BgEvent::KeyringFailed(_) => "KeyringFailed",
            BgEvent::CredentialsLoaded { .. } => "CredentialsLoaded",
            BgEvent::NoCredentials { .. } => "NoCredentials",
            BgEvent::TokenSaved { .. } => "TokenSaved",
            BgEvent::TokenForgotten { .. } => "TokenForgotten",
            BgEvent::TokenError(_) => "TokenError",
            BgEvent::SandboxStarted(_) => "SandboxStarted",
            BgEvent::ToolsChecked(_) => "ToolsChecked",
            BgEvent::SandboxFailed(_) => "SandboxFailed",
            BgEvent::SampleWritten(_) => "SampleWritten",
            BgEvent::ScanFinished { .. } => "ScanFinished",
            BgEvent::SettingsSaved(_) => "SettingsSaved",
            BgEvent::Preset(_) => "Preset",
            BgEvent::Ingest { .. } => "Ingest",
            BgEvent::Transcript(_) => "Transcript",
            BgEvent::Unfinished(_) => "Unfinished",
            BgEvent::Duplicates { .. } => "Duplicates",
            BgEvent::Device { .. } => "Device",
            BgEvent::Ejected { .. } => "Ejected",
        };
        f.write_str(name)
    }
}

/// Sends events and wakes the UI. Cloned into every job.
#[derive(Clone)]
struct Reply {
    tx: mpsc::Sender<BgEvent>,
    ctx: Arc<OnceLock<egui::Context>>,
}

impl Reply {
    fn send(&self, event: BgEvent) {
        if self.tx.send(event).is_err() {
            tracing::debug!("window closed; background result dropped");
            return;
        }
        if let Some(ctx) = self.ctx.get() {
            ctx.request_repaint();
        }
    }
}

/// Starts background jobs on the runtime. Cheap to call from the UI thread: every method only
/// spawns.
pub struct Worker {
    rt: tokio::runtime::Handle,
    reply: Reply,
    posters: Arc<tokio::sync::Semaphore>,
    cache_dir: PathBuf,
    /// The settings' tool paths, read by every job that runs a tool (the lookup itself is file
    /// system work, so it runs in those jobs, never on the UI thread).
    tool_paths: Arc<std::sync::Mutex<ToolPaths>>,
}

impl Worker {
    /// A worker and the receiving end the app drains each frame.
    pub fn new(
        rt: tokio::runtime::Handle,
        cache_dir: PathBuf,
    ) -> (Worker, mpsc::Receiver<BgEvent>) {
        let (tx, rx) = mpsc::channel();
        let worker = Worker {
            rt,
            reply: Reply {
                tx,
                ctx: Arc::new(OnceLock::new()),
            },
            posters: Arc::new(tokio::sync::Semaphore::new(POSTER_JOBS)),
            cache_dir,
            tool_paths: Arc::default(),
        };
        (worker, rx)
    }

    /// Lets jobs wake the UI; called on the first frame (the context exists only then in tests).
    pub fn attach(&self, ctx: &egui::Context) {
        if self.reply.ctx.set(ctx.clone()).is_err() {
            tracing::trace!("egui context already attached");
        }
    }

    fn blocking<F>(&self, job: F)
    where
        F: FnOnce(Reply) + Send + 'static,
    {
        let reply = self.reply.clone();
        drop(self.rt.spawn_blocking(move || job(reply)));
    }

    /// Opens the keyring (or falls back to memory) and then loads the credentials of `server`.
    pub fn open_keyring(&self, open: KeyringOpener, env: EnvStore, server: Option<String>) {
        self.blocking(move |reply| match secrets::keyring_or_memory(open) {
            Ok((store, unavailable)) => {
                reply.send(BgEvent::Keyring {
                    store: store.clone(),
                    unavailable: unavailable.map(|e| e.to_string()),
                });
                if let Some(server) = server {
                    load_credentials(&reply, &Resolver::new(env, store), &server);
                }
            }
            Err(err) => reply.send(BgEvent::KeyringFailed(err.to_string())),
        });
    }

    /// Looks up the credentials of `server` (environment first, then the store).
    pub fn load_credentials(&self, resolver: Resolver, server: String) {
        self.blocking(move |reply| load_credentials(&reply, &resolver, &server));
    }

    /// Stores App-ID + token for `server` in `store`.
    pub fn save_token(
        &self,
        store: Arc<dyn TokenStore>,
        server: String,
        app_id: String,
        token: String,
    ) {
        self.blocking(move |reply| {
            let parsed = ServerKey::parse(&server).and_then(|key| {
                let creds = Credentials::new(app_id, AuthToken::new(token)?)?;
                Ok((key, creds))
            });
            let result = parsed.and_then(|(key, creds)| match store.set(&key, &creds) {
                Ok(()) => Ok(store.kind()),
                // A keyring that answers but refuses to store (locked or missing login
                // collection and no prompt possible): keep the token in memory for this run,
                // exactly as when no keyring could be opened at all.
                Err(err @ SecretsError::KeyringUnavailable { .. }) => {
                    let memory: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
                    memory.set(&key, &creds)?;
                    tracing::warn!("{err}");
                    reply.send(BgEvent::Keyring {
                        store: memory,
                        unavailable: Some(err.to_string()),
                    });
                    Ok(StoreKind::Memory)
                }
                Err(e) => Err(e),
            });
            reply.send(match result {
                Ok(kind) => BgEvent::TokenSaved { server, kind },
                Err(e) => BgEvent::TokenError(e.to_string()),
            });
        });
    }

    pub fn forget_token(&self, store: Arc<dyn TokenStore>, server: String) {
        self.blocking(move |reply| {
            reply.send(
                match ServerKey::parse(&server).and_then(|key| store.delete(&key)) {
                    Ok(existed) => BgEvent::TokenForgotten { server, existed },
                    Err(e) => BgEvent::TokenError(e.to_string()),
                },
            );
        });
    }

    /// `GET storages/` (and the metadata views) with these credentials.
    pub fn list_storages(
        &self,
        server: String,
        app_id: String,
        token: String,
    ) -> Promise<ConnectionTest> {
        self.promise(crate::ingest::lookup::test_connection(
            server, app_id, token,
        ))
    }

    /// One background result the app polls each frame (a connection test, the folder picker):
    /// `fut` runs on the runtime and the window repaints when its value is ready.
    fn promise<T: Send + 'static>(
        &self,
        fut: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Promise<T> {
        let (sender, promise) = Promise::new();
        let ctx = self.reply.ctx.clone();
        drop(self.rt.spawn(async move {
            sender.send(fut.await);
            if let Some(ctx) = ctx.get() {
                ctx.request_repaint();
            }
        }));
        promise
    }

    /// Runs an ingest; its events arrive as [`BgEvent::Ingest`]. Dropping the handle lets card
    /// jobs that wait for retries end.
    pub fn start_ingest(&self, run: u64, request: SessionRequest) -> SessionHandle {
        let reply = self.reply.clone();
        session::start(&self.rt, request, move |event| {
            reply.send(BgEvent::Ingest { run, event });
        })
    }

    /// Opens a report or a link with the system's viewer (off the UI thread; a failure goes to
    /// the log panel).
    pub fn open(&self, target: String, search_path: Option<std::ffi::OsString>) {
        drop(self.rt.spawn_blocking(move || {
            if let Err(e) = crate::opener::open(&target, search_path.as_deref()) {
                tracing::warn!("{e}");
            }
        }));
    }

    /// Reads a transcript for the viewer (at most its last few MiB).
    pub fn read_transcript(&self, path: PathBuf) {
        self.blocking(move |reply| {
            reply.send(BgEvent::Transcript(
                resume::read_tail(&path, TRANSCRIPT_VIEW_BYTES)
                    .map(|text| (path.clone(), text))
                    .map_err(|e| format!("cannot read {}: {e}", path.display())),
            ));
        });
    }

    /// Looks for journals with clips left to do (offered as "resume" in the window).
    pub fn find_unfinished(&self, journals: PathBuf) {
        let reply = self.reply.clone();
        drop(self.rt.spawn(async move {
            reply.send(BgEvent::Unfinished(
                resume::find_unfinished(&journals).await,
            ));
        }));
    }

    /// Starts the sandbox in-process. Request bodies are validated against iconik's OpenAPI
    /// files: `spec_dir` when given, else the copy built into the binary.
    pub fn start_sandbox(&self, spec_dir: Option<PathBuf>) {
        let reply = self.reply.clone();
        let fs_root = self
            .cache_dir
            .ancestors()
            .last()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        drop(self.rt.spawn(async move {
            // The sandbox's originals storage is "mounted" at the file system root, so any
            // card on this machine can be registered with its real path.
            let config = SandboxConfig {
                spec_dir,
                mount_point: fs_root.display().to_string(),
                ..SandboxConfig::default()
            };
            match sandbox::spawn(config).await {
                Ok(handle) => reply.send(BgEvent::SandboxStarted(handle)),
                Err(e) => reply.send(BgEvent::SandboxFailed(e.to_string())),
            }
        }));
    }

    /// Finds the removable mount `card` is on (reads `/proc/self/mountinfo` or sysfs).
    pub fn find_device(&self, card: PathBuf) {
        self.blocking(move |reply| {
            let mounted = crate::eject::Os::current().and_then(|os| crate::eject::find(&card, os));
            reply.send(BgEvent::Device { card, mounted });
        });
    }

    /// Unmounts and powers off (ejects) `mounted` with the OS's own commands.
    pub fn eject(&self, card: PathBuf, mounted: crate::eject::Mounted) {
        self.blocking(move |reply| {
            let result = match crate::eject::Os::current() {
                Some(os) => crate::eject::run(&crate::eject::commands(os, &mounted))
                    .map_err(|e| e.to_string()),
                None => Err("no eject command on this operating system".to_owned()),
            };
            reply.send(BgEvent::Ejected { card, result });
        });
    }

    /// The native folder picker (several folders allowed).
    /// The offload's pre-flight for `request` (the run's own check): each destination's folder
    /// and room, or why the run would refuse. `make_primary`: the primary destination is the
    /// app's own folder (the sandbox's originals), made when missing as the session does.
    pub fn preflight(
        &self,
        request: crate::offload::OffloadRequest,
        make_primary: bool,
    ) -> Promise<Result<Vec<super::state::DestinationRow>, String>> {
        self.promise(async move {
            tokio::task::spawn_blocking(move || {
                if make_primary {
                    std::fs::create_dir_all(&request.destination_root).map_err(|e| {
                        format!("cannot create {}: {e}", request.destination_root.display())
                    })?;
                }
                let plan = crate::offload::preflight(&request).map_err(|e| e.to_string())?;
                let Some(plan) = plan else {
                    return Ok(Vec::new());
                };
                let card_bytes = plan.total_bytes();
                Ok(plan
                    .destinations
                    .into_iter()
                    .map(|d| super::state::DestinationRow {
                        folder: d.folder,
                        needed: d.needed_bytes,
                        card_bytes,
                        free: d.free_bytes,
                        renamed_from: d.renamed_from,
                    })
                    .collect())
            })
            .await
            .unwrap_or_else(|e| Err(format!("pre-flight stopped: {e}")))
        })
    }

    /// The folders chosen (`None`: cancelled).
    pub fn choose_folders(&self) -> Promise<Option<Vec<PathBuf>>> {
        self.promise(async move {
            rfd::AsyncFileDialog::new()
                .set_title("Choose card folders")
                .pick_folders()
                .await
                .map(|handles| handles.iter().map(|h| h.path().to_path_buf()).collect())
        })
    }

    /// Writes the sample P2 span card pair into the cache dir (ffmpeg).
    pub fn write_sample(&self) {
        let dir = self.cache_dir.join("sample-cards").join("p2_span");
        self.blocking(move |reply| {
            let result = sample::generate(SampleKind::P2Span, &dir, &SampleOptions::default())
                .map(|card| card.dir)
                .map_err(|e| e.to_string());
            reply.send(BgEvent::SampleWritten(result));
        });
    }

    /// Uses `paths` for every later tool lookup and looks for the tools now: the missing ones
    /// come back as [`BgEvent::ToolsChecked`].
    pub fn check_tools(&self, paths: ToolPaths) {
        *self
            .tool_paths
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = paths.clone();
        self.blocking(move |reply| {
            reply.send(BgEvent::ToolsChecked(Tools::detect_with(&paths).missing()));
        });
    }

    fn tool_paths(&self) -> ToolPaths {
        self.tool_paths
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Scans `paths`; `generation` lets the app drop results of a scan it no longer wants.
    pub fn scan(&self, generation: u64, paths: Vec<PathBuf>) {
        let tool_paths = self.tool_paths();
        self.blocking(move |reply| {
            // Each path loads or fails on its own: a missing or unreadable one is listed with
            // its reason and the others are scanned (together: a span needs both its cards).
            let (good, bad): (Vec<PathBuf>, Vec<PathBuf>) = paths
                .into_iter()
                .partition(|p| std::fs::metadata(p).is_ok());
            let unreadable: Vec<crate::card::ScanIssue> = bad
                .into_iter()
                .map(|p| {
                    let why = std::fs::metadata(&p).err().map(|e| e.to_string());
                    crate::card::ScanIssue {
                        message: format!(
                            "cannot be read ({}): check the path, or that the card is mounted",
                            why.unwrap_or_default()
                        ),
                        path: p,
                    }
                })
                .collect();
            let result = if good.is_empty() {
                Err(unreadable
                    .iter()
                    .map(|i| format!("{}: {}", i.path.display(), i.message))
                    .collect::<Vec<_>>()
                    .join("; "))
            } else {
                scan::scan(&good, &Tools::detect_with(&tool_paths))
                    .map(|mut r| {
                        r.errors.splice(0..0, unreadable);
                        r
                    })
                    .map_err(|e| e.to_string())
            };
            reply.send(BgEvent::ScanFinished { generation, result });
        });
    }

    /// "Check copies" of a finished card from its report ([`crate::ingest::report::check_copies_again`]):
    /// the outcome line, or why it could not run.
    pub fn check_copies(&self, html: PathBuf) -> Promise<Result<String, String>> {
        self.promise(async move {
            tokio::task::spawn_blocking(move || {
                let cancel = AtomicBool::new(false);
                crate::ingest::report::check_copies_again(&html, &cancel, &mut |_| {})
                    .map(|(_, outcome)| outcome.summary())
                    .map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|e| Err(format!("check copies failed: {e}")))
        })
    }

    /// A desktop notification of the window's own (logged when the desktop has none).
    pub fn notify(&self, title: String, body: String) {
        drop(self.rt.spawn_blocking(move || {
            if let Err(e) = crate::notify::desktop_text(&title, &body) {
                tracing::warn!(error = %e, "desktop notification not shown");
            }
        }));
    }

    /// The folders a typed path may go on to ([`complete_folders`]), read off the UI thread (a
    /// network mount can take its time to list).
    pub fn complete_folders(&self, input: String) -> Promise<Vec<PathBuf>> {
        self.promise(async move {
            tokio::task::spawn_blocking(move || complete_folders(&input, COMPLETIONS))
                .await
                .unwrap_or_default()
        })
    }

    /// Grabs (or reuses from the cache) a clip's poster and decodes it for a texture.
    pub fn poster(&self, clip: ScannedClip) -> Promise<Result<egui::ColorImage, String>> {
        let permits = self.posters.clone();
        let cache = self.cache_dir.join("posters");
        let tool_paths = self.tool_paths();
        self.promise(async move {
            // Closed semaphore = shutting down; nothing to report to.
            let Ok(_permit) = permits.acquire_owned().await else {
                return Err("shutting down".to_owned());
            };
            tokio::task::spawn_blocking(move || grab_poster(&clip, &cache, &tool_paths))
                .await
                .unwrap_or_else(|e| Err(format!("poster task failed: {e}")))
        })
    }

    /// Looks the clips of `request` up in iconik (see [`crate::ingest::lookup`]); each result comes
    /// back as [`BgEvent::Duplicates`] tagged `generation`. Setting `cancel` stops it.
    pub fn check_duplicates(
        &self,
        generation: u64,
        request: DuplicateRequest,
        cancel: Arc<AtomicBool>,
    ) {
        let reply = self.reply.clone();
        drop(self.rt.spawn(async move {
            crate::ingest::lookup::check_clips(request, cancel, |update| {
                reply.send(BgEvent::Duplicates { generation, update });
            })
            .await;
        }));
    }

    /// Runs a preset action (file I/O, a file chooser) on the worker.
    pub fn preset(&self, dir: PathBuf, action: super::presets::PresetAction, current: Settings) {
        let reply = self.reply.clone();
        drop(self.rt.spawn(async move {
            reply.send(BgEvent::Preset(Box::new(
                super::presets::run(dir, action, current).await,
            )));
        }));
    }

    pub fn save_settings(&self, path: PathBuf, settings: Settings) {
        self.blocking(move |reply| {
            reply.send(BgEvent::SettingsSaved(
                crate::settings::save(&path, &settings).map_err(|e| e.to_string()),
            ));
        });
    }
}

fn load_credentials(reply: &Reply, resolver: &Resolver, server: &str) {
    let result = ServerKey::parse(server).and_then(|key| resolver.resolve(&key));
    reply.send(match result {
        Ok(resolved) => BgEvent::CredentialsLoaded {
            server: server.to_owned(),
            credentials: resolved.credentials,
            source: resolved.source,
        },
        Err(SecretsError::NotSet { .. }) => BgEvent::NoCredentials {
            server: server.to_owned(),
        },
        Err(e) => BgEvent::TokenError(e.to_string()),
    });
}

fn grab_poster(
    clip: &ScannedClip,
    cache: &Path,
    tool_paths: &ToolPaths,
) -> Result<egui::ColorImage, String> {
    let ffmpeg = Tools::detect_with(tool_paths)
        .ffmpeg
        .ok_or_else(|| "no poster: ffmpeg was not found (see the banner above)".to_owned())?;
    std::fs::create_dir_all(cache)
        .map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
    // The scan keeps only the normalised metadata: enough for the seek point of single-file
    // clips; spans fall back to the first frame of their first file.
    let desc = ClipDescription {
        metadata: clip.metadata.clone(),
        raw: clip.raw_metadata.clone(),
        ..ClipDescription::default()
    };
    let opts = PosterOptions {
        width: POSTER_WIDTH,
        format: PosterFormat::Png,
    };
    let poster =
        poster::grab(&clip.clip, &desc, &ffmpeg, cache, &opts).map_err(|e| e.to_string())?;
    let bytes = std::fs::read(&poster.path)
        .map_err(|e| format!("cannot read {}: {e}", poster.path.display()))?;
    let image = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .map_err(|e| format!("cannot decode {}: {e}", poster.path.display()))?
        .to_rgba8();
    let size = [image.width() as usize, image.height() as usize];
    Ok(egui::ColorImage::from_rgba_unmultiplied(
        size,
        image.as_raw(),
    ))
}
/// At most this many folders are offered under the Path field.
pub const COMPLETIONS: usize = 8;

/// The sub-folders a typed path can go on to, sorted, at most `limit`: the folders of
/// `input`'s parent whose name starts with its last part (any case), or all folders of
/// `input` when it ends with a separator. A leading `~` is the home folder. Hidden folders
/// only when the typed part starts with a dot.
pub fn complete_folders(input: &str, limit: usize) -> Vec<PathBuf> {
    let input = input.trim();
    if input.is_empty() {
        return Vec::new();
    }
    let expanded = match input.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with(['/', '\\']) => {
            match directories::BaseDirs::new() {
                Some(b) => format!("{}{rest}", b.home_dir().display()),
                None => input.to_owned(),
            }
        }
        _ => input.to_owned(),
    };
    // Split at the last separator by hand: `Path` drops a trailing "." ("/media/." would list
    // /media's siblings instead of the hidden folders of /media).
    let (dir, typed) = match expanded.rfind(['/', '\\']) {
        Some(i) => (
            PathBuf::from(&expanded[..=i]),
            expanded[i + 1..].to_lowercase(),
        ),
        None => (PathBuf::new(), expanded.to_lowercase()),
    };
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &dir
    }) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().to_lowercase();
            name.starts_with(&typed) && (typed.starts_with('.') || !name.starts_with('.'))
        })
        .map(|e| dir.join(e.file_name()))
        .collect();
    found.sort();
    found.truncate(limit);
    found
}

/// What Tab makes of the typed path: the longest start all `completions` share (one
/// completion: it, with a trailing separator to go on typing into it); `None` when that
/// adds nothing.
pub fn tab_complete(input: &str, completions: &[PathBuf]) -> Option<String> {
    let texts: Vec<String> = completions
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let first = texts.first()?;
    let completed = if texts.len() == 1 {
        format!("{first}{}", std::path::MAIN_SEPARATOR)
    } else {
        let mut common = first.len();
        for t in &texts[1..] {
            common = common.min(
                first
                    .char_indices()
                    .zip(t.chars())
                    .take_while(|((_, a), b)| a == b)
                    .last()
                    .map_or(0, |((i, a), _)| i + a.len_utf8()),
            );
        }
        first[..common].to_owned()
    };
    (completed.len() > input.trim().len()).then_some(completed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_folders_by_their_start_in_any_case_and_tab_takes_the_common_part() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["CARD_A", "card_b", "other", ".hidden"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("CARD_file"), b"x").unwrap();
        let root = dir.path().display().to_string();
        let got = complete_folders(&format!("{root}/ca"), 8);
        assert_eq!(got, [dir.path().join("CARD_A"), dir.path().join("card_b")]);
        let all = complete_folders(&format!("{root}/"), 8);
        assert_eq!(all.len(), 3, "{all:?}: no file, no hidden folder");
        assert_eq!(
            complete_folders(&format!("{root}/."), 8),
            [dir.path().join(".hidden")]
        );
        assert_eq!(complete_folders(&format!("{root}/ca"), 1).len(), 1);
        assert!(complete_folders(&format!("{root}/nothing/x"), 8).is_empty());

        let two = [dir.path().join("CARD_A"), dir.path().join("CARD_B")];
        assert_eq!(
            tab_complete(&format!("{root}/C"), &two).as_deref(),
            Some(format!("{root}/CARD_").as_str())
        );
        assert_eq!(tab_complete(&format!("{root}/CARD_"), &two), None);
        assert_eq!(
            tab_complete(&format!("{root}/CARD_A"), &two[..1]),
            Some(format!("{root}/CARD_A{}", std::path::MAIN_SEPARATOR))
        );
    }
}
