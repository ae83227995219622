//! Settings of a card job, one field per `card-ingest ingest` flag.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// How the clip's proxy is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyMode {
    /// Local ffmpeg encode + upload (the default; works for every card family).
    #[default]
    Local,
    /// iconik's transcoder via `POST files/{file_id}/keyframes/` (single-file clips only;
    /// multi-file clips fall back to `Local`, iconik-api.md §10 pitfall 9).
    Iconik,
    /// No proxy, no keyframes.
    None,
}

/// Options of one ingest run.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// iconik FILES storage: id or name.
    pub storage: String,
    /// Local mount of the iconik FILES storage; `directory_path`/`base_dir` are relative to it.
    pub storage_root: PathBuf,
    /// Copy the card under this folder first (`{date}/{card}`) and register the copy.
    pub offload_to: Option<PathBuf>,
    /// Further offload destinations (shuttle drives): same read, own verified copy and MHL each.
    pub offload_also: Vec<PathBuf>,
    /// Later-tier destinations (`--cascade-to`): each filled from the first destination's
    /// verified copy, not from the card, after the card is released
    /// ([`super::EventKind::CardReleased`]); each gets its own verified copy and MHL.
    pub cascade_to: Vec<PathBuf>,
    /// Copy passes writing to one drive at once, over every card of the process
    /// (`--drive-writers`; [`crate::offload::drives`]).
    pub writers_per_drive: usize,
    /// Verified copies needed for "safe to erase" (`--required-copies`): with later tiers, a
    /// tier that failed keeps the card from safe to erase only when fewer remain. `None`: all.
    pub required_copies: Option<usize>,
    /// How offloaded copies are checked (read back from the drive, or size only).
    pub verify: crate::offload::VerifyMode,
    /// Let an offload destination share the card's volume (refused by default).
    pub allow_same_volume: bool,
    /// Destination pattern below `offload_to`.
    pub offload_pattern: String,
    pub proxy: ProxyMode,
    /// Add every asset to this collection (created when missing).
    pub collection: Option<String>,
    /// iconik metadata view (id) the values below are written to.
    pub metadata_view: Option<String>,
    /// Field values (field name → literal string) written to every asset of the card.
    pub metadata: BTreeMap<String, String>,
    /// Per-clip values by clip id; they override [`Self::metadata`] field by field.
    pub clip_metadata: HashMap<String, BTreeMap<String, String>>,
    /// Per-clip collections by clip id (created when missing); they override [`Self::collection`].
    pub clip_collections: HashMap<String, String>,
    /// Per-clip titles by clip id (the operator's edits); they override the template.
    pub clip_titles: HashMap<String, String>,
    /// Asset title: `{user_clip_name}` (falls back to `{name}`), `{name}`, `{card}`, `{date}`,
    /// `{family}`.
    pub title_template: String,
    /// Clips whose API work runs at once (network lane).
    pub concurrency: usize,
    /// Files hashed at once (disk lane); a slow card reader wants fewer.
    pub io_concurrency: usize,
    /// Register clips whose files are already in iconik.
    pub force: bool,
    /// Where encoded proxies are kept (keyed on the members' names, sizes and mtimes and the look,
    /// so re-runs and `cp -a` copies of a card reuse them).
    pub proxy_dir: PathBuf,
    /// Resumable upload chunk size (multiple of 256 KiB).
    pub upload_chunk_bytes: u64,
    /// Pauses of automatic retries.
    pub retry: crate::iconik::retry::Backoff,
    /// Write an in-place ASC MHL generation at the card root after a card registered in place
    /// (`--mhl-in-place`). Off by default: that writes onto the card, which nothing does unless
    /// the operator asks (an offload's MHL goes into each copy instead).
    pub write_manifest: bool,
    /// Client-side pacing of iconik calls (iconik allows ~50/s; 45 leaves a margin).
    pub max_calls_per_second: u32,
    /// Longest wait for a keyframe job.
    pub job_timeout: std::time::Duration,
    /// How long the network lane waits for an unreachable iconik before the card stops with
    /// its journal ready to resume (`--offline-wait`; `None` = until it answers or the
    /// operator cancels, as the window does). [`super::outage`]
    pub offline_wait: Option<std::time::Duration>,
    /// Pause between probe calls while iconik is unreachable.
    pub probe_every: std::time::Duration,
    /// Cap of every upload of the process together, bytes per second (`--max-upload-rate`;
    /// `None` = no cap). [`crate::iconik::upload::throttle`]
    pub max_upload_rate: Option<u64>,
    /// The operator's pause (shared: pause and resume it from outside while the job runs).
    pub pause: crate::pause::Pause,
    /// Show the card as a job (and its clips as child jobs) on iconik's Jobs page, where it
    /// can be aborted ([`super::jobs_page`]).
    pub iconik_job: bool,
    /// How often the card's job is updated and checked for an abort.
    pub job_poll_every: std::time::Duration,
    /// H.264 encoder for local proxies: detected once per run (`Auto`) or forced.
    pub encoder: crate::media::proxy::EncoderChoice,
    /// `.cube` LUT applied to every clip's proxy (`--lut`; none = no look).
    pub lut: Option<PathBuf>,
    /// Lines burnt into every clip's proxy (`--burn-in`; empty = clean picture).
    pub burn_in: Vec<crate::media::proxy::burn_in::BurnInItem>,
    /// Where they are stacked (`--burn-in-corner`).
    pub burn_in_corner: crate::media::proxy::burn_in::Corner,
    /// Proxy preset for every clip (`--proxy-preset`); `None` = each family's default.
    pub proxy_preset: Option<crate::media::proxy::preset::ProxyPreset>,
    /// Register the camera's own proxy without an encode where it qualifies (`--camera-proxy`).
    pub camera_proxy: bool,
    /// Looks by rule from the clip's metadata (Settings › Look rules, `--look-rule`).
    pub look_rules: Vec<crate::media::proxy::look_rules::LookRule>,
    /// Per-clip look (clip editor), by clip id: a LUT or "no look"; before the rules.
    pub clip_looks: HashMap<String, crate::media::proxy::look_rules::ClipLook>,
    /// Storages for the edit proxy (`--edit-proxy-to`); empty = no edit proxy.
    pub edit_proxy_to: Vec<super::storage_target::StorageTarget>,
    /// The edit proxy's codec (`--edit-proxy-codec`).
    pub edit_proxy_codec: crate::media::proxy::EditCodec,
    /// Storages the further offload destinations lie on (`--offload-storage STORAGE=MOUNT`).
    pub offload_storages: Vec<super::storage_target::StorageTarget>,
    /// Cloud storages that get a copy of the originals (`--cloud-copy`).
    pub cloud_copy: Vec<String>,
    /// The preset the run's options came from (`--preset`, the window's preset combo); named in
    /// the report and resolved by `{preset}` in the patterns.
    pub preset: Option<String>,
    /// `{project}` where the clips record no project (Settings › Project, `--project`).
    pub project: Option<String>,
}

/// Files hashed at once by default: one per core (hashing is CPU-bound on a fast reader).
pub fn default_io_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

impl IngestOptions {
    /// Defaults for everything but the storage, its local root and the proxy folder.
    pub fn new(storage: impl Into<String>, storage_root: PathBuf, proxy_dir: PathBuf) -> Self {
        Self {
            storage: storage.into(),
            storage_root,
            offload_to: None,
            offload_also: Vec::new(),
            cascade_to: Vec::new(),
            writers_per_drive: crate::offload::drives::DEFAULT_WRITERS_PER_DRIVE,
            required_copies: None,
            verify: crate::offload::VerifyMode::ReadBack,
            allow_same_volume: false,
            offload_pattern: crate::offload::DEFAULT_PATTERN.to_owned(),
            proxy: ProxyMode::Local,
            collection: None,
            metadata_view: None,
            metadata: BTreeMap::new(),
            clip_metadata: HashMap::new(),
            clip_titles: HashMap::new(),
            clip_collections: HashMap::new(),
            title_template: "{user_clip_name}".to_owned(),
            concurrency: 4,
            io_concurrency: default_io_concurrency(),
            lut: None,
            burn_in: Vec::new(),
            burn_in_corner: crate::media::proxy::burn_in::Corner::default(),
            proxy_preset: None,
            camera_proxy: false,
            look_rules: Vec::new(),
            clip_looks: HashMap::new(),
            edit_proxy_to: Vec::new(),
            edit_proxy_codec: crate::media::proxy::EditCodec::default(),
            offload_storages: Vec::new(),
            cloud_copy: Vec::new(),
            force: false,
            proxy_dir,
            upload_chunk_bytes: 8 * 1024 * 1024,
            retry: crate::iconik::retry::Backoff::new(
                std::time::Duration::from_millis(500),
                std::time::Duration::from_secs(30),
            ),
            write_manifest: false,
            max_calls_per_second: crate::iconik::pacer::DEFAULT_PER_SECOND,
            job_timeout: std::time::Duration::from_secs(600),
            offline_wait: None,
            probe_every: std::time::Duration::from_secs(30),
            max_upload_rate: None,
            pause: crate::pause::Pause::default(),
            // Off until the window and CLI tests that count every call know the extra ones.
            iconik_job: true,
            job_poll_every: std::time::Duration::from_secs(10),
            encoder: crate::media::proxy::EncoderChoice::Auto,
            preset: None,
            project: None,
        }
    }

    /// The metadata values of `clip_id`: the card's defaults overridden by the clip's own.
    pub fn metadata_for(&self, clip_id: &str) -> BTreeMap<String, String> {
        let mut values = self.metadata.clone();
        if let Some(own) = self.clip_metadata.get(clip_id) {
            values.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        values
    }

    /// The naming placeholders' values for clips with `metadata` (a card's clips: the first
    /// value each records; one clip: its own), with this run's project default and preset.
    pub fn name_values<'a>(
        &self,
        metadata: impl IntoIterator<Item = &'a crate::media::ClipMetadata>,
    ) -> crate::offload::plan::NameValues {
        name_values(metadata, self.project.as_deref(), self.preset.as_deref())
    }

    /// The offload of the card at `card_root` (canonical) today, when these options copy cards:
    /// what the run's pre-flight checks and the window shows before the run; `names` fill the
    /// pattern's naming placeholders ([`Self::name_values`] of the card's clips).
    pub fn offload_request(
        &self,
        card_root: PathBuf,
        names: crate::offload::plan::NameValues,
    ) -> Option<crate::offload::OffloadRequest> {
        self.offload_to.as_ref().map(|to| {
            let mut r = crate::offload::OffloadRequest::new(
                card_root,
                to.clone(),
                self.offload_pattern.clone(),
                chrono::Utc::now().date_naive(),
                crate::mhl::CreatorInfo::this_tool(),
            );
            r.also_to = self.offload_also.clone();
            r.cascade_to = self.cascade_to.clone();
            r.verify = self.verify;
            r.allow_same_volume = self.allow_same_volume;
            r.names = names;
            r
        })
    }

    /// The run's options as JSON (the CLI's `--json` `started` line; tests compare the two
    /// faces with it). Types without a serde form are given as their `Debug` text. The
    /// destructuring lists every field without `..`, so a new option cannot be left out by
    /// accident; the ones not shown are this process's handles (pause) or per-clip edits.
    pub fn summary(&self) -> serde_json::Value {
        let IngestOptions {
            storage,
            storage_root,
            offload_to,
            offload_also,
            cascade_to,
            writers_per_drive,
            required_copies,
            verify,
            allow_same_volume,
            offload_pattern,
            proxy,
            collection,
            metadata_view,
            metadata,
            clip_metadata: _,
            clip_collections: _,
            clip_titles: _,
            title_template,
            concurrency,
            io_concurrency,
            force,
            proxy_dir,
            upload_chunk_bytes,
            retry: _,
            write_manifest,
            max_calls_per_second,
            job_timeout,
            offline_wait,
            probe_every,
            max_upload_rate,
            pause: _,
            iconik_job,
            job_poll_every,
            encoder,
            lut,
            burn_in,
            burn_in_corner,
            proxy_preset,
            camera_proxy,
            look_rules,
            clip_looks: _,
            edit_proxy_to,
            edit_proxy_codec,
            offload_storages,
            cloud_copy,
            preset,
            project,
        } = self;
        let dbg = |v: &dyn std::fmt::Debug| format!("{v:?}");
        serde_json::json!({
            "storage": storage,
            "storage_root": storage_root,
            "offload_to": offload_to,
            "offload_also": offload_also,
            "cascade_to": cascade_to,
            "writers_per_drive": writers_per_drive,
            "required_copies": required_copies,
            "verify": verify,
            "allow_same_volume": allow_same_volume,
            "offload_pattern": offload_pattern,
            "proxy": proxy,
            "collection": collection,
            "metadata_view": metadata_view,
            "metadata": metadata,
            "title_template": title_template,
            "concurrency": concurrency,
            "io_concurrency": io_concurrency,
            "force": force,
            "proxy_dir": proxy_dir,
            "upload_chunk_bytes": upload_chunk_bytes,
            "write_manifest": write_manifest,
            "max_calls_per_second": max_calls_per_second,
            "job_timeout_ms": job_timeout.as_millis() as u64,
            "offline_wait_ms": offline_wait.map(|d| d.as_millis() as u64),
            "probe_every_ms": probe_every.as_millis() as u64,
            "max_upload_rate": max_upload_rate,
            "iconik_job": iconik_job,
            "job_poll_every_ms": job_poll_every.as_millis() as u64,
            "encoder": dbg(encoder),
            "lut": lut,
            "burn_in": dbg(burn_in),
            "burn_in_corner": dbg(burn_in_corner),
            "proxy_preset": proxy_preset.map(|p| p.name),
            "camera_proxy": camera_proxy,
            "look_rules": dbg(look_rules),
            "edit_proxy_to": dbg(edit_proxy_to),
            "edit_proxy_codec": dbg(edit_proxy_codec),
            "offload_storages": dbg(offload_storages),
            "cloud_copy": cloud_copy,
            "preset": preset,
            "project": project,
        })
    }

    /// Whether the Collection step has metadata to write for `clip_id`.
    pub fn writes_metadata(&self, clip_id: &str) -> bool {
        self.metadata_view.is_some() && !self.metadata_for(clip_id).is_empty()
    }
}

/// The naming placeholders' values from clips' `metadata` (the first clip recording each
/// value wins; clips come in card order), `project` where none records one, and `preset`.
pub fn name_values<'a>(
    metadata: impl IntoIterator<Item = &'a crate::media::ClipMetadata>,
    project: Option<&str>,
    preset: Option<&str>,
) -> crate::offload::plan::NameValues {
    let mut v = crate::offload::plan::NameValues::default();
    let keep = |slot: &mut Option<String>, value: Option<&str>| {
        if slot.is_none()
            && let Some(value) = value.map(str::trim).filter(|x| !x.is_empty())
        {
            *slot = Some(value.to_owned());
        }
    };
    for m in metadata {
        keep(&mut v.camera, m.camera_model.as_deref());
        keep(&mut v.reel, m.tape.as_deref());
        // RFC 3339 (or the recorder's local time when no zone is stated): the date part.
        let date = m
            .shoot_date
            .as_deref()
            .or(m.shoot_date_local.as_deref())
            .map(|d| d.chars().take(10).collect::<String>());
        keep(&mut v.shoot_date, date.as_deref());
        keep(&mut v.card_serial, m.camera_serial.as_deref());
        keep(&mut v.project, m.project.as_deref());
    }
    keep(&mut v.project, project);
    keep(&mut v.preset, preset);
    v
}

/// A duration as `--offline-wait` takes it: a number with a unit, several in a row (`90s`,
/// `60m`, `1h30m`, `500ms`), or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("{text:?} is not a duration: write e.g. 90s, 60m or 1h30m");
    let t = text.trim();
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(secs));
    }
    if t.is_empty() {
        return Err(bad());
    }
    let mut total = std::time::Duration::ZERO;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        let unit_len = rest[digits..]
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len() - digits);
        let unit = match &rest[digits..digits + unit_len] {
            "ms" => std::time::Duration::from_millis(1),
            "s" => std::time::Duration::from_secs(1),
            "m" | "min" => std::time::Duration::from_secs(60),
            "h" => std::time::Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        total += unit * u32::try_from(n).map_err(|_| bad())?;
        rest = &rest[digits + unit_len..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_values_take_each_first_recorded_value_and_the_defaults() {
        let a = crate::media::ClipMetadata {
            shoot_date_local: Some("2026-05-13T23:00:00".into()),
            tape: Some(" ".into()),
            ..Default::default()
        };
        let b = crate::media::ClipMetadata {
            camera_model: Some("AU-EVA1".into()),
            camera_serial: Some("E1234".into()),
            tape: Some("A002".into()),
            shoot_date: Some("2026-05-14T09:00:00+02:00".into()),
            project: Some("Nordlicht".into()),
            ..Default::default()
        };
        let v = name_values([&a, &b], Some("Fallback"), Some("Day 2"));
        assert_eq!(v.camera.as_deref(), Some("AU-EVA1"));
        assert_eq!(
            v.reel.as_deref(),
            Some("A002"),
            "a blank value is not a value"
        );
        assert_eq!(
            v.shoot_date.as_deref(),
            Some("2026-05-13"),
            "the first clip's date"
        );
        assert_eq!(v.card_serial.as_deref(), Some("E1234"));
        assert_eq!(
            v.project.as_deref(),
            Some("Nordlicht"),
            "the clips' own project first"
        );
        assert_eq!(v.preset.as_deref(), Some("Day 2"));
        let v = name_values([&a], Some("Fallback"), None);
        assert_eq!(v.project.as_deref(), Some("Fallback"));
        assert_eq!(v.fill("{camera}/{preset}"), "unknown-camera/no-preset");
    }

    #[test]
    fn durations_read_like_humantime() {
        let d = |s| parse_duration(s).map(|d| d.as_millis());
        assert_eq!(d("60m"), Ok(3_600_000));
        assert_eq!(d("90s"), Ok(90_000));
        assert_eq!(d("1h30m"), Ok(5_400_000));
        assert_eq!(d("250ms"), Ok(250));
        assert_eq!(d("45"), Ok(45_000));
        for bad in ["", "m", "10x", "1.5h", "-3s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn clip_values_override_card_defaults_field_by_field() {
        let mut o = IngestOptions::new("s", PathBuf::from("/r"), PathBuf::from("/p"));
        o.metadata.insert("scene".into(), "12".into());
        o.metadata.insert("take".into(), "3".into());
        o.clip_metadata.insert(
            "clip-a".into(),
            BTreeMap::from([("take".to_owned(), "4".to_owned())]),
        );
        let a = o.metadata_for("clip-a");
        assert_eq!(a.get("scene").map(String::as_str), Some("12"));
        assert_eq!(a.get("take").map(String::as_str), Some("4"));
        assert_eq!(a.len(), 2);
        assert_eq!(
            o.metadata_for("clip-b").get("take").map(String::as_str),
            Some("3")
        );
        assert!(!o.writes_metadata("clip-a"), "no view set");
        o.metadata_view = Some("v".into());
        assert!(o.writes_metadata("clip-b"));
    }
}
