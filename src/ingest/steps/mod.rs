//! The work of each [`Step`] for one clip, one file per lane: [`hash`] (disk: checksums),
//! [`copy`] (disk: the offload copy running beside the clips, and each clip's wait for it), [`register`] (network: asset, format, file set, files, collection
//! and metadata), [`encode`] (CPU: the local proxy encode, or iconik's transcoder) and
//! [`proxy_upload`] (network: proxy record, upload, close, keyframes). This file holds what they
//! share: how a step ends, the clip's working state ([`ClipCtx`]) with its paced + retried iconik
//! call helpers, and the dispatch from a [`Step`] to its work. The order in which steps run,
//! and on which lane, is [`super::scheduler`]'s business.
//!
//! Every create is looked up first when a previous attempt may have committed it
//! (iconik-api.md §9).

pub mod camera_proxy;
pub mod copies;
pub mod copy;
pub mod edit_proxy;
pub mod encode;
pub mod file_upload;
pub mod hash;
pub mod proxy_cache;
pub mod proxy_upload;
pub mod register;

pub use hash::write_in_place_mhl;

use super::engine::Shared;
use super::events::EventKind;
use super::options::ProxyMode;
use super::record::{ClipRecord, StepState};
use super::retry::{self, Gave, RetryNotice};
use super::scheduler::LaneSlot;
use super::step::{Lane, Step};
use crate::card::Card;
use crate::iconik::models::{Proxy, ProxyId};
use crate::iconik::{Client, Error as IconikError};
use crate::media::ClipDescription;
use crate::scan::ScannedClip;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How a step ended well.
#[derive(Debug)]
pub enum StepEnd {
    Done(Option<String>),
    Skipped(String),
    /// Skip `from` and every later step (duplicate clip; no proxy possible).
    SkipRest {
        from: Step,
        reason: String,
    },
}

/// How a step failed.
#[derive(Debug)]
pub struct StepFail {
    pub error: String,
    pub retryable: bool,
    pub auth: bool,
    pub cancelled: bool,
}

impl StepFail {
    pub fn permanent(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            retryable: false,
            auth: false,
            cancelled: false,
        }
    }

    fn cancelled() -> Self {
        Self {
            error: "cancelled".into(),
            retryable: true,
            auth: false,
            cancelled: true,
        }
    }

    fn iconik(e: IconikError) -> Self {
        Self {
            retryable: e.is_retryable() || e.is_auth(),
            auth: e.is_auth(),
            error: e.to_string(),
            cancelled: false,
        }
    }
}

impl From<Gave> for StepFail {
    fn from(g: Gave) -> Self {
        match g {
            Gave::Up(e) => StepFail::iconik(e),
            Gave::Cancelled => StepFail::cancelled(),
        }
    }
}

/// No storage has the wanted id or name.
#[derive(Debug)]
pub struct StorageNotFound {
    pub wanted: String,
    pub known: String,
}

/// The FILES storage named or identified by `wanted` among `all` (the storage list).
pub fn find_storage(
    all: Vec<crate::iconik::models::Storage>,
    wanted: &str,
) -> Result<crate::iconik::models::Storage, StorageNotFound> {
    let found = all
        .iter()
        .position(|s| s.id.to_string() == wanted)
        .or_else(|| all.iter().position(|s| s.name.as_deref() == Some(wanted)));
    match found {
        Some(i) => Ok(all.into_iter().nth(i).expect("found above")),
        None => Err(StorageNotFound {
            wanted: wanted.to_owned(),
            known: all
                .iter()
                .map(|s| format!("{:?} ({})", s.name.clone().unwrap_or_default(), s.id))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// The asset title from the options' template: `{user_clip_name}` (falls back to the clip
/// name), `{name}`, `{card}`, `{date}` (shoot date, YYYY-MM-DD), `{family}`, and the naming
/// placeholders `{camera}`, `{reel}`, `{shoot_date}`, `{card_serial}`, `{project}`, `{preset}`
/// ([`crate::offload::plan::NameValues`], with their fallbacks).
pub fn title(options: &super::IngestOptions, sc: &ScannedClip, card: &Card) -> String {
    title_from(options, &sc.clip, &sc.metadata, card)
}

/// [`title`] from `clip` with metadata `m` (the description's, once it arrives).
pub fn title_from(
    options: &super::IngestOptions,
    clip: &crate::card::Clip,
    m: &crate::media::ClipMetadata,
    card: &Card,
) -> String {
    let template = &options.title_template;
    let card_name = card
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let date = m
        .shoot_date
        .as_deref()
        .map(|d| d.chars().take(10).collect::<String>())
        .unwrap_or_default();
    let out = template
        .replace(
            "{user_clip_name}",
            m.user_clip_name
                .as_deref()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or(&clip.name),
        )
        .replace("{name}", &clip.name)
        .replace("{card}", &card_name)
        .replace("{date}", &date)
        .replace("{family}", clip.family.as_str());
    let out = options.name_values([m]).fill(&out);
    if out.trim().is_empty() {
        clip.name.clone()
    } else {
        out
    }
}

/// Per-clip working state, shared by the clip's branches (the encode runs beside the
/// registration calls), hence `&self` methods and interior caches.
pub(crate) struct ClipCtx {
    shared: Arc<Shared>,
    sc: ScannedClip,
    /// The clip's place on the card: every lane serves lower numbers first.
    order: usize,
    /// MediaInfo/ffprobe description: the scan's, or made once here (format components and
    /// the encode plan).
    desc: tokio::sync::OnceCell<Arc<ClipDescription>>,
    /// The proxy's record, from the encode (or its `.json` beside the mp4 on resume).
    proxy_fields: Mutex<Option<crate::media::proxy::record::ProxyRecord>>,
    /// The proxy record as `POST proxies/` answered (upload URL included): the upload needs no
    /// read-back when the record was made in this run.
    created_proxy: Mutex<Option<Proxy>>,
    /// Stops this clip's encode (and only it): set when the registration branch finds the clip
    /// already in iconik, so no CPU goes into a proxy nobody will upload. The job's cancel
    /// stops it too.
    encode_stop: Arc<std::sync::atomic::AtomicBool>,
}

type StepResult = Result<StepEnd, StepFail>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ClipCtx {
    pub(crate) fn new(shared: Arc<Shared>, sc: ScannedClip, order: usize) -> Self {
        // The scan's description, when it made one: no second MediaInfo run per clip.
        let desc = tokio::sync::OnceCell::new_with(sc.description.clone());
        Self {
            shared,
            sc,
            order,
            desc,
            proxy_fields: Mutex::new(None),
            created_proxy: Mutex::new(None),
            encode_stop: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        }
    }

    pub(crate) fn id(&self) -> &str {
        &self.sc.clip.id
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The card's batched look-up already found this clip in iconik (no call, no read), and
    /// no `--force`: it will be skipped at `create_asset`.
    pub(crate) fn known_in_iconik(&self) -> bool {
        !self.shared.options.force
            && self
                .shared
                .known
                .verdict(self.id(), self.rec().files.first())
                .is_some()
    }

    /// Stops this clip's proxy encode if one runs (see [`ClipCtx::encode_stop`]).
    pub(crate) fn stop_encode(&self) {
        self.encode_stop
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn rec(&self) -> ClipRecord {
        self.shared.clip(self.id())
    }

    /// Applies `f` to the clip's record; returns once it is on disk.
    async fn save(&self, f: impl FnOnce(&mut ClipRecord)) -> Result<(), StepFail> {
        self.shared
            .update(self.id(), f)
            .await
            .map_err(|e| StepFail::permanent(e.to_string()))
    }

    fn progress(&self, step: Step, done: u64, total: u64, started: Instant) {
        let secs = started.elapsed().as_secs_f64();
        let rate = (secs > 0.0).then(|| done as f64 / secs);
        let eta = rate
            .filter(|r| *r > 0.0)
            .map(|r| total.saturating_sub(done) as f64 / r);
        self.shared.emit(
            &self.rec(),
            Some(step),
            EventKind::Progress {
                done_bytes: done,
                total_bytes: total,
                rate_bytes_per_s: rate,
                eta_secs: eta,
            },
        );
    }

    /// An iconik call with pacing and automatic retry; `op(attempt)` looks up before creating
    /// again when `attempt > 0`.
    async fn call<T, F, Fut>(&self, step: Step, mut op: F) -> Result<T, StepFail>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, IconikError>>,
    {
        let shared = self.shared.clone();
        let rec = self.rec();
        let mut notice = move |n: RetryNotice| {
            shared.emit(
                &rec,
                Some(step),
                EventKind::Retrying {
                    attempt: n.attempt,
                    delay_ms: n.delay.as_millis() as u64,
                    error: n.error,
                },
            );
        };
        let shared = self.shared.clone();
        retry::run_waiting(
            &self.shared.options.retry,
            &self.shared.cancel,
            Some(&self.shared.outage),
            Some(&self.shared.options.pause),
            &mut notice,
            |attempt| {
                let fut = op(attempt);
                let shared = shared.clone();
                async move {
                    shared.pacer.wait(&shared.client).await;
                    fut.await
                }
            },
        )
        .await
        .map_err(StepFail::from)
    }

    /// A create call that never makes a duplicate: on a retry, or when the step resumes after
    /// a crash, an earlier attempt may have committed the object with its response lost
    /// (iconik-api.md §9), so `lookup` runs first and its hit is used instead of `create`.
    async fn look_up_then_create<T, L, LFut, C, CFut>(
        &self,
        step: Step,
        resumed: bool,
        lookup: L,
        create: C,
    ) -> Result<T, StepFail>
    where
        L: Fn(Client) -> LFut,
        LFut: Future<Output = Result<Option<T>, IconikError>>,
        C: Fn(Client) -> CFut,
        CFut: Future<Output = Result<T, IconikError>>,
    {
        let client = self.shared.client.clone();
        let (lookup, create) = (&lookup, &create);
        self.call(step, |attempt| {
            let client = client.clone();
            async move {
                if (attempt > 0 || resumed)
                    && let Some(found) = lookup(client.clone()).await?
                {
                    return Ok(found);
                }
                create(client).await
            }
        })
        .await
    }

    /// The lane slot `step` works on, waited for in card order before the step is marked
    /// running (a clip waiting for a lane is pending, not running). `Ok(None)`: the step needs
    /// no slot (nothing to hash, no proxy wanted); `Err`: cancelled while waiting.
    pub(crate) async fn lane_slot(&self, step: Step) -> Result<Option<LaneSlot>, StepFail> {
        let lanes = &self.shared.lanes;
        let lane = match step.lane() {
            Lane::Disk if step == Step::Checksum && self.needs_hashing() => &lanes.disk,
            Lane::Disk => return Ok(None),
            Lane::Cpu if self.shared.options.proxy == ProxyMode::None => return Ok(None),
            // iconik's transcoder works on iconik's side: calls, not an encode here.
            Lane::Cpu if self.proxy_needs_registration() => &lanes.network,
            Lane::Cpu => &lanes.cpu,
            Lane::Network => &lanes.network,
        };
        lane.acquire(self.order, &self.shared.cancel)
            .await
            .map(Some)
            .ok_or_else(StepFail::cancelled)
    }

    /// Runs `step` holding `slot` (from [`Self::lane_slot`]; the checksum hands it to its first
    /// file, every other step leaves it to the caller, which frees it once the step's result
    /// is journaled); `prior` is its state before this
    /// attempt (Running/Failed = an earlier attempt may have created objects: look them up
    /// first).
    pub(crate) async fn run(
        &self,
        step: Step,
        prior: &StepState,
        slot: &mut Option<LaneSlot>,
    ) -> StepResult {
        let resumed = !matches!(prior, StepState::Pending);
        if let Some(reason) = self.offload_failure() {
            if step == Step::Checksum {
                return Ok(StepEnd::Done(None));
            }
            return Err(StepFail::permanent(reason));
        }
        match step {
            Step::Checksum => self.checksum(slot.take()).await,
            Step::Offload => self.offload().await,
            Step::CreateAsset => self.create_asset(resumed).await,
            Step::CreateFormat => self.create_format(resumed).await,
            Step::CreateFileSet => self.create_file_set(resumed).await,
            Step::CreateFiles => self.create_files(resumed).await,
            Step::Proxy => self.encode_proxy(resumed).await,
            Step::CreateProxy => self.create_proxy(resumed).await,
            Step::UploadProxy => self.upload_proxy().await,
            Step::CloseProxy => self.close_proxy().await,
            Step::Keyframes => self.keyframes(resumed).await,
            Step::Collection => self.collection(resumed).await,
        }
    }

    fn asset(&self) -> Result<crate::iconik::models::AssetId, StepFail> {
        self.rec()
            .asset_id
            .ok_or_else(|| StepFail::permanent("no asset id recorded; retry from create_asset"))
    }

    /// The journaled proxy id (create_proxy must have run).
    fn proxy_id(&self) -> Result<ProxyId, StepFail> {
        self.rec()
            .proxy_id
            .ok_or_else(|| StepFail::permanent("no proxy record; retry from create_proxy"))
    }

    /// Polls a job until it finishes; a failed job clears the journaled id so a retry asks anew.
    async fn wait_job(
        &self,
        step: Step,
        job: crate::iconik::models::JobId,
    ) -> Result<(), StepFail> {
        let client = self.shared.client.clone();
        let mut deadline = Instant::now() + self.shared.options.job_timeout;
        // Short jobs finish within a second; poll fast first, then back off to 2 s (§6.8).
        let mut pause = Duration::from_millis(50);
        loop {
            let asked = Instant::now();
            let j = self
                .call(step, |_| {
                    let client = client.clone();
                    async move { client.jobs().get(job).await }
                })
                .await?;
            // Time spent waiting out an outage or a pause is not the job's: it gets it back.
            let waited = asked.elapsed().saturating_sub(Duration::from_secs(5));
            deadline += waited;
            if j.status.is_done() {
                return Ok(());
            }
            if j.status.is_failed() {
                self.save(|r| r.keyframe_job = None).await?;
                return Err(StepFail {
                    error: format!(
                        "iconik job {job} {}: {}",
                        j.status.as_str(),
                        j.error_message.unwrap_or_default()
                    ),
                    retryable: true,
                    auth: false,
                    cancelled: false,
                });
            }
            if Instant::now() > deadline || self.shared.stopping() {
                return Err(StepFail {
                    error: format!("iconik job {job} still {} after waiting", j.status.as_str()),
                    retryable: true,
                    auth: false,
                    cancelled: self.shared.stopping(),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    /// Journals the four proxy steps as skipped for `reason` (in one save).
    async fn skip_proxy_steps(&self, reason: &str) -> Result<(), StepFail> {
        self.save(|r| {
            for s in [
                Step::CreateProxy,
                Step::UploadProxy,
                Step::CloseProxy,
                Step::Keyframes,
            ] {
                r.steps.entry(s).or_default().state = StepState::Skipped {
                    reason: reason.to_owned(),
                };
            }
        })
        .await
    }

    /// Proxy steps are skipped, but the collection / metadata step still runs when asked for.
    async fn keep_collection(&self, end: StepEnd) -> StepEnd {
        let wanted = self.shared.collection_for(self.id()).is_some()
            || self.shared.options.writes_metadata(self.id())
            || self.has_marks().await;
        match end {
            StepEnd::SkipRest { reason, .. } if wanted => {
                if let Err(e) = self.skip_proxy_steps(&reason).await {
                    tracing::error!(error = %e.error, "journal save failed");
                }
                StepEnd::Skipped(reason)
            }
            other => other,
        }
    }
}
