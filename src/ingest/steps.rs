//! The work of each [`Step`] for one clip: hashing, iconik creates (each looked up first when
//! a previous attempt may have committed it, iconik-api.md §9), proxy encode and upload.

use super::dedupe;
use super::engine::Shared;
use super::events::EventKind;
use super::options::ProxyMode;
use super::record::{CardRecord, ClipRecord, StepState};
use super::retry::{self, Gave, RetryNotice};
use super::step::Step;
use crate::card::{Card, FileRole};
use crate::checksum::{self, AlgorithmSet};
use crate::iconik::models::{
    ActiveStatus, AssetCreate, ComponentCreate, ComponentType, FileCreate, FileSetCreate,
    FileSetStatus, FormatCreate, KeyframeRequest, MetadataValues, ObjectStatus, Proxy, ProxyCreate,
    ProxyId, ProxyUpdate, Resolution, StorageId, ViewId,
};
use crate::iconik::upload::{self, ProxyUploadOptions, UploadProgress};
use crate::iconik::{Client, Error as IconikError};
use crate::media::{self, ClipDescription};
use crate::scan::ScannedClip;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
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

/// Why the storage could not be resolved.
#[derive(Debug)]
pub enum StorageLookup {
    Api(IconikError),
    NotFound { wanted: String, known: String },
}

/// The FILES storage named or identified by `wanted`.
pub async fn resolve_storage(client: &Client, wanted: &str) -> Result<StorageId, StorageLookup> {
    let all = client
        .storages()
        .list_all()
        .await
        .map_err(StorageLookup::Api)?;
    all.iter()
        .find(|s| s.id.to_string() == wanted)
        .or_else(|| all.iter().find(|s| s.name.as_deref() == Some(wanted)))
        .map(|s| s.id)
        .ok_or_else(|| StorageLookup::NotFound {
            wanted: wanted.to_owned(),
            known: all
                .iter()
                .map(|s| format!("{:?} ({})", s.name.clone().unwrap_or_default(), s.id))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The asset title from `template`: `{user_clip_name}` (falls back to the clip name), `{name}`,
/// `{card}`, `{date}` (shoot date, YYYY-MM-DD), `{family}`.
pub fn title(template: &str, sc: &ScannedClip, card: &Card) -> String {
    let m = &sc.metadata;
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
                .unwrap_or(&sc.clip.name),
        )
        .replace("{name}", &sc.clip.name)
        .replace("{card}", &card_name)
        .replace("{date}", &date)
        .replace("{family}", sc.clip.family.as_str());
    if out.trim().is_empty() {
        sc.clip.name.clone()
    } else {
        out
    }
}

/// Writes an in-place ASC MHL generation at the card root with the hashes of every clip file
/// (only when every file's hashes are known). Returns the `ascmhl` folder.
pub fn write_in_place_mhl(
    card_root: &Path,
    record: &CardRecord,
) -> Result<Option<PathBuf>, crate::mhl::MhlError> {
    use crate::checksum::Algorithm;
    use crate::mhl::{CreatorInfo, FileEntry, HashAction, HashList, HashRecord, Process};
    let now = Utc::now();
    let mut files = Vec::new();
    for c in record.clips.values() {
        for f in &c.files {
            let (Some(md5), Some(xxh)) = (&f.md5, &f.xxh64) else {
                continue;
            };
            let Ok(rel) = f.source.strip_prefix(card_root) else {
                continue;
            };
            let path = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let rec = |algorithm, value: &String| HashRecord {
                algorithm,
                value: value.clone(),
                action: HashAction::Original,
                hash_date: now,
            };
            files.push(FileEntry {
                path,
                size_bytes: f.size_bytes,
                last_modified: std::fs::metadata(&f.source)
                    .and_then(|m| m.modified())
                    .ok()
                    .map(DateTime::<Utc>::from),
                hashes: vec![rec(Algorithm::Xxh64, xxh), rec(Algorithm::Md5, md5)],
            });
        }
    }
    if files.is_empty() {
        return Ok(None);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let list = HashList {
        creator: CreatorInfo::this_tool(),
        process: Process::InPlace,
        ignore_patterns: Vec::new(),
        files,
        empty_directories: Vec::new(),
    };
    crate::mhl::write_generation(card_root, &list)?;
    Ok(Some(card_root.join("ascmhl")))
}

/// Per-clip working state of a clip task.
pub(crate) struct ClipCtx {
    shared: Arc<Shared>,
    sc: ScannedClip,
    desc: Option<Arc<ClipDescription>>,
    /// Set when the Proxy step produced nothing to upload.
    proxy_fields: Option<Value>,
}

type StepResult = Result<StepEnd, StepFail>;

impl ClipCtx {
    pub(crate) fn new(shared: Arc<Shared>, sc: ScannedClip) -> Self {
        Self {
            shared,
            sc,
            desc: None,
            proxy_fields: None,
        }
    }

    fn id(&self) -> &str {
        &self.sc.clip.id
    }

    fn rec(&self) -> ClipRecord {
        self.shared.clip(self.id())
    }

    fn save(&self, f: impl FnOnce(&mut ClipRecord)) -> Result<(), StepFail> {
        self.shared
            .update(self.id(), f)
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
        retry::run(
            &self.shared.options.retry,
            &self.shared.cancel,
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

    /// Runs `step`; `prior` is its state before this attempt (Running/Failed = an earlier
    /// attempt may have created objects: look them up first).
    pub(crate) async fn run(&mut self, step: Step, prior: &StepState) -> StepResult {
        let resumed = !matches!(prior, StepState::Pending);
        if let Some(reason) = self.offload_failure() {
            if step == Step::Checksum {
                return Ok(StepEnd::Done(None));
            }
            return Err(StepFail::permanent(reason));
        }
        match step {
            Step::Checksum => self.checksum().await,
            Step::Offload => Ok(match &self.shared.offload_destination {
                Some(d) => StepEnd::Done(Some(format!("copied and verified to {}", d.display()))),
                None => StepEnd::Skipped("registered in place (no --offload-to)".into()),
            }),
            _ => {
                let shared = self.shared.clone();
                let _permit = match step {
                    Step::Proxy => None,
                    _ => Some(
                        shared
                            .api
                            .acquire()
                            .await
                            .map_err(|e| StepFail::permanent(e.to_string()))?,
                    ),
                };
                match step {
                    Step::CreateAsset => self.create_asset(resumed).await,
                    Step::CreateFormat => self.create_format(resumed).await,
                    Step::CreateFileSet => self.create_file_set(resumed).await,
                    Step::CreateFiles => self.create_files(resumed).await,
                    Step::Proxy => self.encode_proxy(resumed).await,
                    Step::CreateProxy => self.create_proxy(resumed).await,
                    Step::UploadProxy => self.upload_proxy().await,
                    Step::CloseProxy => self.close_proxy().await,
                    Step::Keyframes => self.keyframes(resumed).await,
                    Step::Collection => self.collection().await,
                    Step::Checksum | Step::Offload => Ok(StepEnd::Done(None)),
                }
            }
        }
    }

    fn offload_failure(&self) -> Option<String> {
        self.sc
            .clip
            .files
            .iter()
            .find_map(|f| self.shared.offload_failed.get(&f.path).cloned())
    }

    async fn checksum(&mut self) -> StepResult {
        let rec = self.rec();
        let total: u64 = rec.files.iter().map(|f| f.size_bytes).sum();
        let started = Instant::now();
        let mut done_before = 0u64;
        for (i, f) in rec.files.iter().enumerate() {
            if f.md5.is_some() && f.xxh64.is_some() {
                done_before += f.size_bytes;
                continue;
            }
            let hashes = match self.shared.offload_hashes.get(&f.source) {
                Some(h) => h.clone(),
                None => {
                    let _permit = self
                        .shared
                        .hashing
                        .acquire()
                        .await
                        .map_err(|e| StepFail::permanent(e.to_string()))?;
                    let path = f.source.clone();
                    let cancel = self.shared.cancel.clone();
                    let shared = self.shared.clone();
                    let rec2 = rec.clone();
                    let base = done_before;
                    let res = tokio::task::spawn_blocking(move || {
                        let mut last = Instant::now();
                        checksum::hash_file(&path, AlgorithmSet::DEFAULT, &cancel, &mut |p| {
                            if last.elapsed() > Duration::from_millis(250) {
                                last = Instant::now();
                                let secs = started.elapsed().as_secs_f64().max(1e-3);
                                let done = base + p.done_bytes;
                                shared.emit(
                                    &rec2,
                                    Some(Step::Checksum),
                                    EventKind::Progress {
                                        done_bytes: done,
                                        total_bytes: total,
                                        rate_bytes_per_s: Some(done as f64 / secs),
                                        eta_secs: None,
                                    },
                                );
                            }
                        })
                    })
                    .await
                    .map_err(|e| StepFail::permanent(e.to_string()))?;
                    match res {
                        Ok(h) => h,
                        Err(checksum::ChecksumError::Cancelled { .. }) => {
                            return Err(StepFail::cancelled());
                        }
                        Err(e) => {
                            return Err(StepFail::permanent(format!(
                                "member file {} of clip {} cannot be read: {e}",
                                f.source.display(),
                                rec.name
                            )));
                        }
                    }
                }
            };
            done_before += f.size_bytes;
            self.save(|r| {
                if let Some(x) = r.files.get_mut(i) {
                    x.md5 = hashes.md5.clone();
                    x.xxh64 = hashes.xxh64.clone();
                    x.size_bytes = hashes.size_bytes;
                }
            })?;
            self.progress(Step::Checksum, done_before, total, started);
        }
        Ok(StepEnd::Done(Some(format!(
            "{} files, {total} bytes",
            rec.files.len()
        ))))
    }

    async fn create_asset(&mut self, resumed: bool) -> StepResult {
        let rec = self.rec();
        if let Some(id) = rec.asset_id {
            return Ok(StepEnd::Done(Some(super::events::asset_detail(id))));
        }
        let client = self.shared.client.clone();
        let ext = self.id().to_owned();
        if !resumed && !self.shared.options.force {
            // Before registering: is this clip (or its files) already in iconik?
            let storage = self.shared.storage_id;
            let main = rec.files.first().cloned();
            let dup = self
                .call(Step::CreateAsset, |_| {
                    let client = client.clone();
                    let ext = ext.clone();
                    let main = main.clone();
                    async move {
                        dedupe::clip_in_iconik(&client, storage, &ext, main.as_ref()).await
                    }
                })
                .await?;
            if let Some(reason) = dup {
                self.save(|r| r.duplicate_of = Some(reason.clone()))?;
                return Ok(StepEnd::SkipRest {
                    from: Step::CreateAsset,
                    reason: format!("{reason}; use --force to register it again"),
                });
            }
        }
        let body = AssetCreate {
            external_id: Some(ext.clone()),
            ..AssetCreate::new(rec.title.clone())
        };
        let (ext, body) = (&ext, &body);
        let asset = self
            .look_up_then_create(
                Step::CreateAsset,
                resumed,
                |c| async move {
                    match dedupe::asset_by_external_id(&c, ext).await? {
                        Some(id) => c.assets().get(id).await.map(Some),
                        None => Ok(None),
                    }
                },
                |c| async move { c.assets().create(body, None).await },
            )
            .await?;
        self.save(|r| {
            r.asset_id = Some(asset.id);
            r.version_id = asset.version_id();
        })?;
        Ok(StepEnd::Done(Some(super::events::asset_detail(asset.id))))
    }

    async fn describe(&mut self) -> Result<Arc<ClipDescription>, StepFail> {
        if let Some(d) = &self.desc {
            return Ok(d.clone());
        }
        let clip = self.sc.clip.clone();
        let tools = self.shared.tools.clone();
        let d = tokio::task::spawn_blocking(move || media::describe_clip(&clip, &tools))
            .await
            .map_err(|e| StepFail::permanent(e.to_string()))?;
        let d = Arc::new(d);
        self.desc = Some(d.clone());
        Ok(d)
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

    async fn create_format(&mut self, resumed: bool) -> StepResult {
        let rec = self.rec();
        if rec.format_id.is_some() && !rec.component_ids.is_empty() {
            return Ok(StepEnd::Done(None));
        }
        let asset = self.asset()?;
        let desc = self.describe().await?;
        let mut components = Vec::new();
        let mut metadata = Vec::new();
        for f in &desc.files {
            let member = self.sc.clip.files.iter().find(|m| m.path == f.path);
            if member.is_some_and(|m| !matches!(m.role, FileRole::Video | FileRole::Audio)) {
                continue;
            }
            if metadata.is_empty()
                && let Some(tracks) = desc.mediainfo_tracks(f)
            {
                let general = media::components::format_metadata(tracks);
                if !general.is_empty() {
                    metadata.push(general);
                }
            }
            for c in desc.components(f) {
                let kind = match c.kind {
                    media::ComponentType::Video => ComponentType::Video,
                    media::ComponentType::Audio => ComponentType::Audio,
                    media::ComponentType::Image => ComponentType::Image,
                    media::ComponentType::Text => ComponentType::Text,
                    media::ComponentType::Other => ComponentType::Other,
                };
                components.push(ComponentCreate {
                    name: c.kind.as_str().to_owned(),
                    component_type: kind,
                    metadata: c.metadata,
                });
            }
        }
        // Production facts (iXML/bext, ALE, ...) as edited by the operator ride with the format.
        let production = self.sc.metadata.format_fields();
        match metadata.first_mut() {
            Some(general) => general.extend(production),
            None if !production.is_empty() => metadata.push(production),
            None => {}
        }
        let body = FormatCreate {
            name: "ORIGINAL".into(),
            status: Some(ActiveStatus::Active),
            version_id: rec.version_id,
            storage_methods: vec!["FILE".into()],
            is_online: Some(true),
            metadata,
            components,
        };
        let body = &body;
        let format = self
            .look_up_then_create(
                Step::CreateFormat,
                resumed,
                |c| async move { dedupe::original_format(&c, asset).await },
                |c| async move { c.formats().create(asset, body).await },
            )
            .await?;
        let ids = format.component_ids();
        let n = ids.len();
        self.save(|r| {
            r.format_id = Some(format.id);
            r.component_ids = ids;
        })?;
        Ok(StepEnd::Done(Some(format!(
            "format {} ({n} components)",
            format.id
        ))))
    }

    async fn create_file_set(&mut self, resumed: bool) -> StepResult {
        let rec = self.rec();
        if let Some(id) = rec.file_set_id {
            return Ok(StepEnd::Done(Some(format!("file set {id}"))));
        }
        let asset = self.asset()?;
        let format = rec.format_id.ok_or_else(|| {
            StepFail::permanent("no format id recorded; retry from create_format")
        })?;
        let main = rec
            .files
            .first()
            .ok_or_else(|| StepFail::permanent("clip has no files"))?;
        let base_dir = common_dir(rec.files.iter().map(|f| f.directory_path.as_str()));
        let body = FileSetCreate {
            format_id: format,
            name: main.name.clone(),
            base_dir,
            component_ids: rec.component_ids.clone(),
            storage_id: Some(self.shared.storage_id),
            status: Some(FileSetStatus::Active),
            version_id: rec.version_id,
            is_archive: None,
            original_storage_id: None,
        };
        let body = &body;
        let set = self
            .look_up_then_create(
                Step::CreateFileSet,
                resumed,
                |c| async move { dedupe::file_set(&c, asset, format, &body.name).await },
                |c| async move { c.file_sets().create(asset, body).await },
            )
            .await?;
        self.save(|r| r.file_set_id = Some(set.id))?;
        Ok(StepEnd::Done(Some(format!("file set {}", set.id))))
    }

    async fn create_files(&mut self, resumed: bool) -> StepResult {
        let rec = self.rec();
        let asset = self.asset()?;
        let set = rec.file_set_id.ok_or_else(|| {
            StepFail::permanent("no file set recorded; retry from create_file_set")
        })?;
        let client = self.shared.client.clone();
        let mut known = if resumed && rec.files.iter().any(|f| f.file_id.is_none()) {
            self.call(Step::CreateFiles, |_| {
                let client = client.clone();
                async move { dedupe::files_in_set(&client, asset, set).await }
            })
            .await?
        } else {
            Default::default()
        };
        let total = rec.files.len();
        for (i, f) in rec.files.iter().enumerate() {
            if f.file_id.is_some() {
                continue;
            }
            let key = (f.directory_path.clone(), f.name.clone());
            let id = match known.remove(&key) {
                Some(id) => id,
                None => {
                    let meta = std::fs::metadata(&f.registered).map_err(|e| {
                        StepFail::permanent(format!(
                            "cannot read {} to register it: {e}",
                            f.registered.display()
                        ))
                    })?;
                    let modified = meta.modified().ok().map(DateTime::<Utc>::from);
                    let created = meta.created().ok().map(DateTime::<Utc>::from).or(modified);
                    let body = FileCreate {
                        name: Some(f.name.clone()),
                        size: Some(f.size_bytes),
                        checksum: f.md5.clone(),
                        file_date_created: created,
                        file_date_modified: modified,
                        file_set_id: Some(set),
                        format_id: rec.format_id,
                        storage_id: Some(self.shared.storage_id),
                        status: Some(ObjectStatus::Closed),
                        version_id: rec.version_id,
                        ..FileCreate::new(f.directory_path.clone(), f.name.clone())
                    };
                    // `resumed: false`: a resumed step already listed the set into `known`.
                    let (body, key) = (&body, &key);
                    let file = self
                        .look_up_then_create(
                            Step::CreateFiles,
                            false,
                            |c| async move {
                                match dedupe::files_in_set(&c, asset, set).await?.get(key) {
                                    Some(id) => c.files().get(asset, *id).await.map(Some),
                                    None => Ok(None),
                                }
                            },
                            |c| async move { c.files().create(asset, body).await },
                        )
                        .await?;
                    file.id
                }
            };
            self.save(|r| {
                if let Some(x) = r.files.get_mut(i) {
                    x.file_id = Some(id);
                }
            })?;
        }
        Ok(StepEnd::Done(Some(format!("{total} files"))))
    }

    fn single_essence(&self) -> bool {
        self.sc
            .clip
            .files
            .iter()
            .filter(|f| matches!(f.role, FileRole::Video | FileRole::Audio))
            .count()
            == 1
    }

    /// `--proxy iconik` on a single-file clip: iconik's transcoder makes proxy and keyframes
    /// (`POST files/{file_id}/keyframes/`); the local proxy steps are skipped.
    async fn iconik_transcode(&mut self, resumed: bool) -> StepResult {
        let rec = self.rec();
        let asset = self.asset()?;
        let index = self
            .sc
            .clip
            .files
            .iter()
            .position(|f| matches!(f.role, FileRole::Video | FileRole::Audio))
            .ok_or_else(|| StepFail::permanent("clip has no essence file to transcode"))?;
        let file = rec
            .files
            .get(index)
            .and_then(|f| f.file_id)
            .ok_or_else(|| {
                StepFail::permanent("essence file not registered; retry from create_files")
            })?;
        let client = self.shared.client.clone();
        let job = match rec.keyframe_job {
            Some(j) => Some(j),
            None => {
                let job = self
                    .call(Step::Proxy, |attempt| {
                        let client = client.clone();
                        async move {
                            if (attempt > 0 || resumed)
                                && dedupe::proxy(&client, asset).await?.is_some()
                            {
                                return Ok(None);
                            }
                            client
                                .keyframes()
                                .generate_from_file(
                                    asset,
                                    file,
                                    &KeyframeRequest {
                                        use_storage_transcode_ignore_pattern: Some(true),
                                        priority: Some(5),
                                        ..KeyframeRequest::default()
                                    },
                                )
                                .await
                        }
                    })
                    .await?;
                if let Some(j) = job {
                    self.save(|r| r.keyframe_job = Some(j))?;
                }
                job
            }
        };
        if let Some(job) = job {
            self.wait_job(Step::Proxy, job).await?;
        }
        self.skip_proxy_steps("made by iconik's transcoder (--proxy iconik)")?;
        Ok(StepEnd::Done(Some("iconik transcode job finished".into())))
    }

    /// Polls a job until it finishes; a failed job clears the journaled id so a retry asks anew.
    async fn wait_job(
        &mut self,
        step: Step,
        job: crate::iconik::models::JobId,
    ) -> Result<(), StepFail> {
        let client = self.shared.client.clone();
        let deadline = Instant::now() + self.shared.options.job_timeout;
        // Short jobs finish within a second; poll fast first, then back off to 2 s (§6.8).
        let mut pause = Duration::from_millis(50);
        loop {
            let j = self
                .call(step, |_| {
                    let client = client.clone();
                    async move { client.jobs().get(job).await }
                })
                .await?;
            if j.status.is_done() {
                return Ok(());
            }
            if j.status.is_failed() {
                self.save(|r| r.keyframe_job = None)?;
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

    async fn encode_proxy(&mut self, resumed: bool) -> StepResult {
        let mode = self.shared.options.proxy;
        if mode == ProxyMode::None {
            return Ok(StepEnd::SkipRest {
                from: Step::Proxy,
                reason: "--proxy none".into(),
            })
            .map(|e| self.keep_collection(e));
        }
        if mode == ProxyMode::Iconik && self.single_essence() {
            return self.iconik_transcode(resumed).await;
        }
        let rec = self.rec();
        let fingerprint = fingerprint(&rec);
        let dir = self.shared.options.proxy_dir.clone();
        let out = dir.join(format!("{fingerprint}.mp4"));
        let fields_path = dir.join(format!("{fingerprint}.json"));
        if out.is_file()
            && let Ok(text) = std::fs::read_to_string(&fields_path)
            && let Ok(fields) = serde_json::from_str::<Value>(&text)
        {
            self.proxy_fields = Some(fields);
            self.save(|r| {
                r.proxy_path = Some(out.clone());
                r.proxy_fingerprint = Some(fingerprint.clone());
            })?;
            return Ok(StepEnd::Done(Some(format!("reused {}", out.display()))));
        }
        let ffmpeg = self.shared.ffmpeg.clone().ok_or_else(|| {
            StepFail::permanent("ffmpeg was not found on PATH: install it or use --proxy none")
        })?;
        let desc = self.describe().await?;
        // Encode under a name of our own, then publish: two jobs with identical cards (same
        // fingerprint) may encode at once without clobbering each other's file.
        let private = dir.join(format!(
            "{fingerprint}.{}-{}.mp4",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let plan = match media::proxy::plan(
            &self.sc.clip,
            &desc,
            &media::proxy::ProxySpec::default(),
            &private,
        ) {
            Ok(p) => p,
            Err(
                e @ (media::proxy::ProxyError::NoVideo { .. }
                | media::proxy::ProxyError::NotDecodable { .. }),
            ) => {
                return Ok(self.keep_collection(StepEnd::SkipRest {
                    from: Step::Proxy,
                    reason: e.to_string(),
                }));
            }
            Err(e) => return Err(StepFail::permanent(e.to_string())),
        };
        let _permit = self
            .shared
            .encode
            .acquire()
            .await
            .map_err(|e| StepFail::permanent(e.to_string()))?;
        let cancel = self.shared.cancel.clone();
        let shared = self.shared.clone();
        let rec2 = rec.clone();
        let output = tokio::task::spawn_blocking(move || {
            let mut last = Instant::now();
            media::proxy::encode(&plan, &ffmpeg, &cancel, &mut |p| {
                if last.elapsed() > Duration::from_millis(500) {
                    last = Instant::now();
                    let total = (p.duration_seconds.unwrap_or(0.0) * 1000.0) as u64;
                    shared.emit(
                        &rec2,
                        Some(Step::Proxy),
                        EventKind::Progress {
                            done_bytes: (p.out_time_seconds * 1000.0) as u64,
                            total_bytes: total,
                            rate_bytes_per_s: p.speed,
                            eta_secs: None,
                        },
                    );
                }
            })
        })
        .await
        .map_err(|e| StepFail::permanent(e.to_string()))?;
        let output = match output {
            Ok(o) => o,
            Err(media::proxy::ProxyError::Cancelled { .. }) => return Err(StepFail::cancelled()),
            Err(e) => return Err(StepFail::permanent(e.to_string())),
        };
        let mut fields = output.iconik_fields();
        let final_name = format!("{fingerprint}.mp4");
        fields["name"] = Value::String(final_name.clone());
        fields["filename"] = Value::String(final_name);
        // The fields first: a published mp4 always has its fields beside it.
        crate::atomic_write::write_atomic(&fields_path, fields.to_string().as_bytes())
            .map_err(|e| StepFail::permanent(format!("{}: {e}", fields_path.display())))?;
        std::fs::rename(&output.path, &out)
            .map_err(|e| StepFail::permanent(format!("{}: {e}", out.display())))?;
        self.proxy_fields = Some(fields);
        self.save(|r| {
            r.proxy_path = Some(out.clone());
            r.proxy_fingerprint = Some(fingerprint.clone());
        })?;
        Ok(StepEnd::Done(Some(format!(
            "{} ({} bytes)",
            out.display(),
            output.size_bytes
        ))))
    }

    /// Journals the four proxy steps as skipped for `reason` (in one save).
    fn skip_proxy_steps(&self, reason: &str) -> Result<(), StepFail> {
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
    }

    /// Proxy steps are skipped, but the collection / metadata step still runs when asked for.
    fn keep_collection(&self, end: StepEnd) -> StepEnd {
        let wanted = self.shared.collection_for(self.id()).is_some()
            || self.shared.options.writes_metadata(self.id());
        match end {
            StepEnd::SkipRest { reason, .. } if wanted => {
                if let Err(e) = self.skip_proxy_steps(&reason) {
                    tracing::error!(error = %e.error, "journal save failed");
                }
                StepEnd::Skipped(reason)
            }
            other => other,
        }
    }

    fn proxy_fields(&mut self) -> Result<Value, StepFail> {
        if let Some(f) = &self.proxy_fields {
            return Ok(f.clone());
        }
        let rec = self.rec();
        let path = rec
            .proxy_path
            .ok_or_else(|| StepFail::permanent("no proxy recorded; retry from proxy"))?;
        let text = std::fs::read_to_string(path.with_extension("json"))
            .map_err(|e| StepFail::permanent(format!("{}: {e}", path.display())))?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| StepFail::permanent(e.to_string()))?;
        self.proxy_fields = Some(v.clone());
        Ok(v)
    }

    async fn create_proxy(&mut self, resumed: bool) -> StepResult {
        let rec = self.rec();
        if let Some(id) = rec.proxy_id {
            return Ok(StepEnd::Done(Some(format!("proxy {id}"))));
        }
        let asset = self.asset()?;
        let v = self.proxy_fields()?;
        let s = |k: &str| v[k].as_str().map(str::to_owned);
        let i = |k: &str| v[k].as_i64().and_then(|x| i32::try_from(x).ok());
        let body = ProxyCreate {
            name: s("name"),
            filename: s("filename"),
            format: s("format"),
            codec: s("codec"),
            frame_rate: s("frame_rate"),
            resolution: match (
                v["resolution"]["width"].as_i64(),
                v["resolution"]["height"].as_i64(),
            ) {
                (Some(w), Some(h)) => Some(Resolution {
                    width: w as i32,
                    height: h as i32,
                }),
                _ => None,
            },
            bit_rate: i("bit_rate"),
            audio_bitrate: i("audio_bitrate"),
            is_drop_frame: v["is_drop_frame"].as_bool(),
            start_time_code: s("start_time_code"),
            size: v["size"].as_u64(),
            version_id: rec.version_id,
            ..ProxyCreate::default()
        };
        let body = &body;
        let proxy = self
            .look_up_then_create(
                Step::CreateProxy,
                resumed,
                |c| async move { dedupe::proxy(&c, asset).await },
                |c| async move { c.proxies().create(asset, body).await },
            )
            .await?;
        self.save(|r| r.proxy_id = Some(proxy.id))?;
        Ok(StepEnd::Done(Some(format!("proxy {}", proxy.id))))
    }

    async fn upload_proxy(&mut self) -> StepResult {
        let rec = self.rec();
        let asset = self.asset()?;
        let proxy_id = self.proxy_id()?;
        let path = rec
            .proxy_path
            .clone()
            .ok_or_else(|| StepFail::permanent("no proxy file; retry from proxy"))?;
        let client = self.shared.client.clone();
        let proxy: Proxy = self
            .call(Step::UploadProxy, |_| {
                let client = client.clone();
                async move { client.proxies().get(asset, proxy_id).await }
            })
            .await?;
        if proxy.status == Some(ObjectStatus::Closed) {
            return Ok(StepEnd::Done(Some("already uploaded and closed".into())));
        }
        let mut backoff = self.shared.options.retry.clone();
        backoff.reset();
        let started = Instant::now();
        loop {
            if self.shared.stopping() {
                return Err(StepFail::cancelled());
            }
            let rec = self.rec();
            let shared = self.shared.clone();
            let id = self.id().to_owned();
            let on_session: upload::SessionFn = Arc::new(move |url: &str| {
                let url = url.to_owned();
                if let Err(e) = shared.update(&id, |r| r.upload_session = Some(url)) {
                    tracing::error!(error = %e, "journal save failed");
                }
            });
            let shared = self.shared.clone();
            let id = self.id().to_owned();
            let rec2 = rec.clone();
            let progress: upload::ProgressFn = Arc::new(move |p: UploadProgress| {
                if let Err(e) = shared.update(&id, |r| r.upload_offset = p.confirmed) {
                    tracing::error!(error = %e, "journal save failed");
                }
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                let rate = p.confirmed as f64 / secs;
                shared.emit(
                    &rec2,
                    Some(Step::UploadProxy),
                    EventKind::Progress {
                        done_bytes: p.confirmed,
                        total_bytes: p.total,
                        rate_bytes_per_s: Some(rate),
                        eta_secs: (rate > 0.0)
                            .then(|| p.total.saturating_sub(p.confirmed) as f64 / rate),
                    },
                );
            });
            let opts = ProxyUploadOptions {
                gcs: upload::gcs::ResumableOptions {
                    chunk_size: self.shared.options.upload_chunk_bytes,
                    backoff: self.shared.options.retry.clone(),
                    ..Default::default()
                },
                resume_session: rec.upload_session.clone(),
                on_session: Some(on_session),
                progress: Some(progress),
                ..Default::default()
            };
            match upload::upload_proxy(&self.shared.upload, &client, asset, &proxy, &path, &opts)
                .await
            {
                Ok(done) => {
                    self.save(|r| r.upload_offset = done.bytes)?;
                    return Ok(StepEnd::Done(Some(format!("{} bytes", done.bytes))));
                }
                Err(e) if e.is_retryable() => {
                    let Some(delay) = backoff.next_delay(Default::default()) else {
                        return Err(StepFail {
                            error: e.to_string(),
                            retryable: true,
                            auth: false,
                            cancelled: false,
                        });
                    };
                    self.shared.emit(
                        &rec,
                        Some(Step::UploadProxy),
                        EventKind::Retrying {
                            attempt: backoff.attempt(),
                            delay_ms: delay.as_millis() as u64,
                            error: e.to_string(),
                        },
                    );
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err(StepFail::permanent(e.to_string())),
            }
        }
    }

    async fn close_proxy(&mut self) -> StepResult {
        let asset = self.asset()?;
        let proxy = self.proxy_id()?;
        let client = self.shared.client.clone();
        self.call(Step::CloseProxy, |_| {
            let client = client.clone();
            async move {
                client
                    .proxies()
                    .patch(asset, proxy, &ProxyUpdate::closed())
                    .await
            }
        })
        .await?;
        Ok(StepEnd::Done(Some(format!("proxy {proxy} CLOSED"))))
    }

    async fn keyframes(&mut self, resumed: bool) -> StepResult {
        let rec = self.rec();
        let asset = self.asset()?;
        let proxy = self.proxy_id()?;
        let client = self.shared.client.clone();
        let job = match rec.keyframe_job {
            Some(j) => Some(j),
            None => {
                let job = self
                    .call(Step::Keyframes, |attempt| {
                        let client = client.clone();
                        async move {
                            if attempt > 0 || resumed {
                                let existing = client.keyframes().list(asset).await?;
                                if !existing.is_empty() {
                                    return Ok(None);
                                }
                            }
                            client
                                .keyframes()
                                .generate_from_proxy(asset, proxy, &KeyframeRequest::default())
                                .await
                                .map(Some)
                        }
                    })
                    .await?;
                if let Some(j) = job {
                    self.save(|r| r.keyframe_job = Some(j))?;
                }
                job
            }
        };
        let Some(job) = job else {
            return Ok(StepEnd::Done(Some("keyframes already present".into())));
        };
        self.wait_job(Step::Keyframes, job).await?;
        Ok(StepEnd::Done(Some(format!("keyframe job {job} finished"))))
    }

    /// Collection membership, then the operator's metadata view values.
    async fn collection(&mut self) -> StepResult {
        let collection = self.shared.collection_for(self.id());
        let writes_metadata = self.shared.options.writes_metadata(self.id());
        if collection.is_none() && !writes_metadata {
            return Ok(StepEnd::Skipped("no --collection or --metadata".into()));
        }
        let asset = self.asset()?;
        let client = self.shared.client.clone();
        let mut done = Vec::new();
        if let Some(collection) = collection {
            self.call(Step::Collection, |_| {
                let client = client.clone();
                async move { client.collections().add_asset(collection, asset).await }
            })
            .await?;
            done.push(format!("in collection {collection}"));
        }
        if writes_metadata {
            done.push(self.write_metadata(asset).await?);
        }
        Ok(StepEnd::Done(Some(done.join("; "))))
    }

    /// `PUT assets/{id}/views/{view}/` with the clip's values. The PUT overwrites the named
    /// fields, so an automatic retry or a re-run after a lost response is harmless; the
    /// journal's `metadata_written` only spares a resumed run the call.
    async fn write_metadata(
        &self,
        asset: crate::iconik::models::AssetId,
    ) -> Result<String, StepFail> {
        let Some(view_text) = self.shared.options.metadata_view.clone() else {
            return Ok("no metadata view".into());
        };
        let values = self.shared.options.metadata_for(self.id());
        let summary = format!(
            "metadata view {view_text}: {}",
            values.keys().cloned().collect::<Vec<_>>().join(", ")
        );
        if self.rec().metadata_written {
            return Ok(format!("{summary} (already written)"));
        }
        let view: ViewId = view_text.trim().parse().map_err(|e| {
            StepFail::permanent(format!(
                "metadata view {view_text:?} is not an iconik view id (a UUID: {e}); \
                 pass the id shown by iconik's metadata view settings"
            ))
        })?;
        let body =
            MetadataValues::from_strings(values.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let client = self.shared.client.clone();
        // 404 (no such view) and 400 (a field not in the view) are not retryable: the step
        // fails with iconik's own message naming the view or field.
        self.call(Step::Collection, |_| {
            let client = client.clone();
            let body = body.clone();
            async move { client.metadata().put_asset_values(asset, view, &body).await }
        })
        .await?;
        self.save(|r| r.metadata_written = true)?;
        Ok(summary)
    }
}

/// xxh64 over the member files' xxh64 values and names: same content → same proxy.
fn fingerprint(rec: &ClipRecord) -> String {
    let mut text = String::new();
    for f in &rec.files {
        text.push_str(&f.name);
        text.push(':');
        text.push_str(f.xxh64.as_deref().unwrap_or("?"));
        text.push('\n');
    }
    format!("{:016x}", xxhash_rust::xxh64::xxh64(text.as_bytes(), 0))
}

/// Longest common folder prefix of `/`-separated relative paths.
fn common_dir<'a>(dirs: impl Iterator<Item = &'a str>) -> String {
    let mut common: Option<Vec<&str>> = None;
    for d in dirs {
        let parts: Vec<&str> = d.split('/').filter(|p| !p.is_empty()).collect();
        common = Some(match common {
            None => parts,
            Some(c) => c
                .iter()
                .zip(parts.iter())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| *a)
                .collect(),
        });
    }
    common.unwrap_or_default().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_dir_of_p2_members() {
        let dirs = [
            "d/CARD/CONTENTS/VIDEO",
            "d/CARD/CONTENTS/AUDIO",
            "d/CARD/CONTENTS/CLIP",
        ];
        assert_eq!(common_dir(dirs.into_iter()), "d/CARD/CONTENTS");
        assert_eq!(common_dir(["a/b"].into_iter()), "a/b");
    }
}
