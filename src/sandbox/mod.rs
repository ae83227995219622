//! A local iconik-compatible server ("sandbox") with fault injection, for tests, demos and the
//! app's "try without an account" mode.
//!
//! It serves iconik's routes (iconik-api.md §6, conformance rules §12) under the same paths,
//! stores every object as the JSON iconik would return, validates each request body against
//! iconik's OpenAPI documents ([`spec`]), emulates GCS resumable uploads ([`gcs`],
//! gcs-resumable.md) and exposes `/sandbox/*` for inspection ([`inspect`]). It does not depend
//! on the `iconik` client module.
//!
//! Start it with [`serve`] on a listener you bound, or [`spawn`] on `127.0.0.1:0`.

pub mod auth;
pub mod faults;
pub mod gcs;
pub mod images;
pub mod inspect;
pub mod isg;
pub mod profiles;
pub mod ratelimit;
pub mod routes;
pub mod spec;
pub mod state;
pub mod web;

use auth::Credentials;
use faults::{FaultError, FaultSet, Faults};
use ratelimit::{RateLimit, RateLimiter};
use serde_json::Value;
use spec::{Spec, SpecError};
use state::{State, StateError, StateFile};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Errors starting or running the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("sandbox server failed: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Faults(#[from] FaultError),
    #[error("loading the spec was interrupted: {0}")]
    Join(String),
}

/// How to run the sandbox. `Default` gives iconik's defaults used throughout the docs.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Accepted `App-ID` / `Auth-Token`.
    pub credentials: Credentials,
    /// A folder with iconik's OpenAPI JSON files replacing the copy built into the binary
    /// (`None`: the built-in copy). Request bodies are always validated.
    pub spec_dir: Option<PathBuf>,
    /// Persist state here (JSON, atomic writes) and bytes in `<FILE>.blobs/`.
    pub state_file: Option<PathBuf>,
    /// Initial fault rules.
    pub faults: FaultSet,
    /// Delay added to every iconik/upload request.
    pub latency: Duration,
    /// 429s past these limits; `Some(RateLimit::ICONIK)` is iconik's (≈ 50 req/s, 1000 per
    /// 20 s). `None`: no limit (the `RateLimit-Remaining` header is still sent).
    pub rate_limit: Option<RateLimit>,
    /// How long a job stays `STARTED` before it is `FINISHED`.
    pub job_delay: Duration,
    /// `settings.mount_point` of the seeded FILES storage.
    pub mount_point: String,
    /// Also seed S3 and AZURE proxy storages (non-default) whose upload URLs point at `/s3/…`
    /// and `/azure/…` single-PUT endpoints.
    pub extra_proxy_storages: bool,
    /// Settings of the seeded FILES storage (scan folders, aggregation, ACLs).
    pub storage_profile: profiles::StorageProfile,
    /// Run a simulated storage-gateway scan ([`isg`]) this often, as a real gateway does every
    /// few seconds (`None`: only on `POST /sandbox/isg/scan`).
    pub isg_scan_interval: Option<Duration>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            credentials: Credentials::default(),
            spec_dir: None,
            state_file: None,
            faults: FaultSet::default(),
            latency: Duration::ZERO,
            rate_limit: None,
            job_delay: Duration::from_millis(300),
            mount_point: "/mnt/sandbox-originals".to_string(),
            extra_proxy_storages: false,
            storage_profile: profiles::StorageProfile::default(),
            isg_scan_interval: None,
        }
    }
}

/// Shared server state: the store plus everything the request pipeline needs.
pub struct App {
    pub config: SandboxConfig,
    pub spec: Arc<Spec>,
    pub base_url: String,
    state: Mutex<State>,
    faults: Mutex<Faults>,
    requests: Mutex<Vec<Value>>,
    limiter: Mutex<RateLimiter>,
    state_file: Option<StateFile>,
    /// Rendered keyframe JPEGs by keyframe id (the web view asks for each picture often).
    images: Mutex<std::collections::HashMap<String, Arc<Vec<u8>>>>,
    /// ffmpeg for keyframe pictures, looked up on first use (the sandbox runs without it).
    ffmpeg: std::sync::OnceLock<Option<std::path::PathBuf>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("base_url", &self.base_url)
            .field("config", &self.config)
            .finish()
    }
}

/// A poisoned lock only means another request panicked mid-update; the data is still the best
/// we have, so keep serving.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl App {
    /// Builds the app from a loaded spec: reads the state file (or seeds a fresh state) and
    /// compiles the fault rules.
    pub fn new(
        config: SandboxConfig,
        spec: Arc<Spec>,
        addr: SocketAddr,
    ) -> Result<App, SandboxError> {
        let host = if addr.ip().is_unspecified() {
            format!("127.0.0.1:{}", addr.port())
        } else {
            addr.to_string()
        };
        let base_url = format!("http://{host}");
        let state_file = config.state_file.clone().map(|path| StateFile { path });
        let state = match &state_file {
            Some(f) => f.load()?,
            None => None,
        };
        let state = match state {
            Some(s) => s,
            None => routes::seed::fresh_state(&config),
        };
        let mut faults = Faults::default();
        faults.set(config.faults.clone())?;
        Ok(App {
            limiter: Mutex::new(RateLimiter::new(config.rate_limit)),
            spec,
            base_url,
            state: Mutex::new(state),
            faults: Mutex::new(faults),
            requests: Mutex::new(Vec::new()),
            state_file,
            images: Mutex::new(std::collections::HashMap::new()),
            ffmpeg: std::sync::OnceLock::new(),
            config,
        })
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    pub fn limiter(&self) -> MutexGuard<'_, RateLimiter> {
        lock(&self.limiter)
    }

    pub fn requests(&self) -> MutexGuard<'_, Vec<Value>> {
        lock(&self.requests)
    }

    pub fn images(&self) -> MutexGuard<'_, std::collections::HashMap<String, Arc<Vec<u8>>>> {
        lock(&self.images)
    }

    pub fn ffmpeg(&self) -> Option<&std::path::Path> {
        self.ffmpeg
            .get_or_init(|| crate::media::Tools::detect().ffmpeg)
            .as_deref()
    }

    /// Writes the state file (if persisting). Failures are logged, not fatal: the in-memory
    /// state is still right and the next mutation retries.
    pub fn persist(&self) {
        if let Some(file) = &self.state_file {
            let state = self.state();
            if let Err(err) = file.save(&state) {
                tracing::error!(%err, "sandbox state not saved");
            }
        }
    }

    /// Clears all objects, sessions, requests and faults; keeps storages and views.
    pub fn reset(&self) {
        {
            let mut state = self.state();
            let storages = std::mem::take(&mut state.storages);
            let views = std::mem::take(&mut state.metadata_views);
            *state = State {
                storages,
                metadata_views: views,
                ..State::default()
            };
        }
        self.requests().clear();
        self.images().clear();
        if let Err(err) = self.faults().set(FaultSet::default()) {
            tracing::error!(%err, "clearing faults failed");
        }
        self.persist();
    }
}

/// The spec to validate against: the folder `dir` when given (an error if it is missing or
/// unreadable: the operator asked for it), else the copy built into the binary. Compiled specs
/// are cached per source for the life of the process: compiling takes about a second, and tests
/// start many sandboxes.
pub fn load_spec(dir: Option<&std::path::Path>) -> Result<Arc<Spec>, SandboxError> {
    static CACHE: std::sync::OnceLock<Mutex<HashMap<Option<PathBuf>, Arc<Spec>>>> =
        std::sync::OnceLock::new();
    let key = dir.map(|d| crate::canonical::canonicalize(d).unwrap_or_else(|_| d.to_path_buf()));
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(spec) = lock(cache).get(&key) {
        return Ok(spec.clone());
    }
    let spec = Arc::new(match dir {
        Some(dir) => Spec::load(dir)?,
        None => Spec::embedded()?,
    });
    let source = dir.map_or_else(|| "built-in".to_string(), |d| d.display().to_string());
    tracing::info!(%source, operations = spec.operation_count(), "iconik spec loaded: request bodies are validated");
    lock(cache).insert(key, spec.clone());
    Ok(spec)
}

/// Serves on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: SandboxConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SandboxError> {
    let app = build_app(&listener, config).await?;
    run(listener, app, shutdown).await
}

async fn build_app(
    listener: &tokio::net::TcpListener,
    config: SandboxConfig,
) -> Result<Arc<App>, SandboxError> {
    let addr = listener.local_addr().map_err(SandboxError::Serve)?;
    let dir = config.spec_dir.clone();
    let spec = tokio::task::spawn_blocking(move || load_spec(dir.as_deref()))
        .await
        .map_err(|e| SandboxError::Join(e.to_string()))??;
    Ok(Arc::new(App::new(config, spec, addr)?))
}

async fn run(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SandboxError> {
    // The gateway's scan tick holds only a weak reference: it ends with the server.
    let ticker = app.config.isg_scan_interval.map(|every| {
        let weak = Arc::downgrade(&app);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(app) = weak.upgrade() else { break };
                let found = isg::scan(&mut app.state());
                if !found.is_empty() {
                    tracing::info!(files = found.len(), "simulated gateway scan found files");
                    app.persist();
                }
            }
        })
    });
    let router = axum::Router::new()
        .fallback(routes::dispatch)
        .with_state(app);
    let result = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(SandboxError::Serve);
    if let Some(t) = ticker {
        t.abort();
    }
    result
}

/// A sandbox running in the background of the current tokio runtime. Dropping it stops the
/// server.
#[derive(Debug)]
pub struct SandboxHandle {
    base_url: String,
    app: Arc<App>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), SandboxError>>>,
}

/// Binds `127.0.0.1:0` and serves there in a background task.
pub async fn spawn(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|source| SandboxError::Bind {
            addr: "127.0.0.1:0".into(),
            source,
        })?;
    spawn_on(listener, config).await
}

/// Like [`spawn`] on a listener you bound (e.g. a fixed port).
pub async fn spawn_on(
    listener: tokio::net::TcpListener,
    config: SandboxConfig,
) -> Result<SandboxHandle, SandboxError> {
    let app = build_app(&listener, config).await?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(run(listener, app.clone(), async move {
        // Either an explicit stop or the handle being dropped ends the server.
        if rx.await.is_err() {
            tracing::debug!("sandbox handle dropped");
        }
    }));
    Ok(SandboxHandle {
        base_url: app.base_url.clone(),
        app,
        stop: Some(tx),
        task: Some(task),
    })
}

impl SandboxHandle {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn credentials(&self) -> &Credentials {
        &self.app.config.credentials
    }

    /// Where the validating spec came from and how many request bodies it checks, in words
    /// (`iconik's OpenAPI spec (built-in copy, 7 documents, 287 operations)`).
    pub fn spec_summary(&self) -> String {
        let source = match &self.app.config.spec_dir {
            Some(dir) => format!("from {}", dir.display()),
            None => "built-in copy".to_string(),
        };
        format!(
            "iconik's OpenAPI spec ({source}, {} documents, {} operations with a body)",
            self.app.spec.document_count(),
            self.app.spec.operation_count()
        )
    }

    /// The same JSON as `GET /sandbox/state`.
    pub fn state(&self) -> Value {
        self.app.state().inspect()
    }

    /// The same JSON list as `GET /sandbox/requests`.
    pub fn requests(&self) -> Vec<Value> {
        self.app.requests().clone()
    }

    /// Forgets the request log (as `DELETE /sandbox/requests`).
    pub fn clear_requests(&self) {
        self.app.requests().clear();
    }

    /// Replaces the fault rules.
    pub fn set_faults(&self, faults: FaultSet) -> Result<(), SandboxError> {
        Ok(self.app.faults().set(faults)?)
    }

    /// Rules with remaining counts, as `GET /sandbox/faults`.
    pub fn faults(&self) -> Value {
        self.app.faults().describe()
    }

    /// Bytes stored for a finished upload of `bucket/object`.
    pub fn object_bytes(&self, key: &str) -> Option<Vec<u8>> {
        self.app.state().object_bytes(key).map(<[u8]>::to_vec)
    }

    pub fn reset(&self) {
        self.app.reset();
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) -> Result<(), SandboxError> {
        if let Some(stop) = self.stop.take()
            && stop.send(()).is_err()
        {
            tracing::debug!("sandbox already stopped");
        }
        match self.task.take() {
            Some(task) => task.await.map_err(|e| SandboxError::Join(e.to_string()))?,
            None => Ok(()),
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take()
            && stop.send(()).is_err()
        {
            tracing::debug!("sandbox already stopped");
        }
    }
}
