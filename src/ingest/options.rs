//! Settings of a card job, one field per `card-ingest ingest` flag.

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
    /// Destination pattern below `offload_to`.
    pub offload_pattern: String,
    pub proxy: ProxyMode,
    /// Add every asset to this collection (created when missing).
    pub collection: Option<String>,
    /// Asset title: `{user_clip_name}` (falls back to `{name}`), `{name}`, `{card}`, `{date}`,
    /// `{family}`.
    pub title_template: String,
    /// Clips whose API work runs at once.
    pub concurrency: usize,
    /// Register clips whose files are already in iconik.
    pub force: bool,
    /// Where encoded proxies are kept (keyed by a content fingerprint, so re-runs reuse them).
    pub proxy_dir: PathBuf,
    /// Resumable upload chunk size (multiple of 256 KiB).
    pub upload_chunk_bytes: u64,
    /// Pauses of automatic retries.
    pub retry: crate::iconik::retry::Backoff,
    /// Write the in-place ASC MHL manifest at the card root after a card (off for `--dry-run`).
    pub write_manifest: bool,
    /// Client-side pacing of iconik calls (iconik allows ~50/s; 40 leaves headroom).
    pub max_calls_per_second: u32,
    /// Longest wait for a keyframe job.
    pub job_timeout: std::time::Duration,
}

impl IngestOptions {
    /// Defaults for everything but the storage, its local root and the proxy folder.
    pub fn new(storage: impl Into<String>, storage_root: PathBuf, proxy_dir: PathBuf) -> Self {
        Self {
            storage: storage.into(),
            storage_root,
            offload_to: None,
            offload_pattern: crate::offload::DEFAULT_PATTERN.to_owned(),
            proxy: ProxyMode::Local,
            collection: None,
            title_template: "{user_clip_name}".to_owned(),
            concurrency: 4,
            force: false,
            proxy_dir,
            upload_chunk_bytes: 8 * 1024 * 1024,
            retry: crate::iconik::retry::Backoff::new(
                std::time::Duration::from_millis(500),
                std::time::Duration::from_secs(30),
            ),
            write_manifest: true,
            max_calls_per_second: 40,
            job_timeout: std::time::Duration::from_secs(600),
        }
    }
}
