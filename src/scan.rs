//! The `scan` report: card detection plus technical/sidecar metadata for every clip.
//!
//! Detection (`card`) is fast and filesystem-only; metadata (`media`) spawns MediaInfo per clip,
//! so clips are described on a small pool of threads. Per-file trouble never aborts the scan: it
//! lands in `errors` next to the clips that did work.

use crate::card::{self, Card, CardError, Clip, ScanIssue, Skipped};
use crate::media::proxy::camera::{self, CameraProxyFacts};
use crate::media::{self, ClipMetadata, Tools};
use serde::Serialize;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// One clip with its metadata, as printed by `card-ingest scan --json`.
#[derive(Debug, Clone, Serialize)]
pub struct ScannedClip {
    #[serde(flatten)]
    pub clip: Clip,
    pub metadata: ClipMetadata,
    pub raw_metadata: serde_json::Value,
    /// The camera's own proxy on the card, probed (or why it could not be), so the preview can
    /// say before the run whether it would be used. Window only: not in `scan --json`.
    #[serde(skip)]
    pub camera_proxy: Option<Result<CameraProxyFacts, String>>,
    /// The scan's whole MediaInfo/ffprobe description (components, raw tracks, sidecars), so
    /// the ingest registers the format and plans the encode without probing the clip again.
    /// `None` for clips made elsewhere (the ingest then describes them itself).
    #[serde(skip)]
    pub description: Option<Arc<media::ClipDescription>>,
    /// The description being made in the background ([`scan_streaming`]): `metadata` is
    /// empty until it arrives, and the ingest waits for it where it needs it.
    #[serde(skip)]
    pub pending: Option<PendingDescription>,
}

impl ScannedClip {
    /// Why the clip cannot be registered as it is: a member file that is empty, or one that
    /// MediaInfo found truncated (once the description is there), in the scan's own words with
    /// the file's name. `None` for a sound clip.
    pub fn damage(&self) -> Option<String> {
        let name = |p: &std::path::Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string())
        };
        if let Some(f) = self.clip.files.iter().find(|f| f.size == 0) {
            return Some(format!(
                "{}: file is empty (0 bytes): re-copy it from the card",
                name(&f.path)
            ));
        }
        let ready = self.pending.as_ref().and_then(|p| p.0.borrow().clone());
        let description = self.description.clone().or(ready)?;
        description
            .issues
            .iter()
            .find(|(_, m)| m.contains("truncated"))
            .map(|(p, m)| format!("{}: {m}", name(p)))
    }
}

/// A clip's description that a background pool is making ([`scan_streaming`]).
#[derive(Debug, Clone)]
pub struct PendingDescription(tokio::sync::watch::Receiver<Option<Arc<media::ClipDescription>>>);

impl PendingDescription {
    /// The description once made; `None` if the pool stopped without making it (the caller
    /// then describes the clip itself).
    pub async fn wait(&self) -> Option<Arc<media::ClipDescription>> {
        let mut rx = self.0.clone();
        rx.wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|d| d.clone())
    }
}

/// The whole `scan --json` document.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    pub cards: Vec<Card>,
    pub clips: Vec<ScannedClip>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<ScanIssue>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Card(#[from] CardError),
}

/// What a scan reads besides the cards' structure and every clip's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOptions {
    /// Probe each clip's camera proxy (two ffprobe runs a clip) for the window's preview and
    /// `--camera-proxy`; off, [`ScannedClip::camera_proxy`] stays `None`. On a 20-clip P2 card
    /// the probes were 1.5 s of a 2.2 s scan, wasted when the camera proxy is not wanted.
    pub camera_proxies: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            camera_proxies: true,
        }
    }
}

/// Detects the cards in `paths`, groups their clips and reads every clip's metadata (and
/// probes their camera proxies).
pub fn scan(paths: &[PathBuf], tools: &Tools) -> Result<ScanReport, ScanError> {
    scan_with(paths, tools, ScanOptions::default())
}

/// [`scan`] reading what `options` asks for.
pub fn scan_with(
    paths: &[PathBuf],
    tools: &Tools,
    options: ScanOptions,
) -> Result<ScanReport, ScanError> {
    let detected = card::scan_paths(paths)?;
    let described = describe_all(&detected.clips, tools, options);
    let mut errors = detected.errors;
    // Detection already explains files it can judge by themselves (empty, broken link, folder
    // instead of file); MediaInfo failing on the same file says nothing new: keep one entry.
    let known: HashSet<PathBuf> = errors.iter().map(|e| e.path.clone()).collect();
    let clips = detected
        .clips
        .into_iter()
        .zip(described)
        .map(|(clip, (desc, camera_proxy))| {
            errors.extend(new_issues(&desc, &known));
            ScannedClip {
                clip,
                metadata: desc.metadata.clone(),
                raw_metadata: desc.raw.clone(),
                camera_proxy,
                description: Some(Arc::new(desc)),
                pending: None,
            }
        })
        .collect();
    Ok(ScanReport {
        cards: detected.cards,
        clips,
        skipped: detected.skipped,
        errors,
    })
}

/// Detects the cards and groups their clips (filesystem only: milliseconds), and returns at
/// once; MediaInfo describes the clips in card order on a background pool, each clip's
/// [`ScannedClip::pending`] receiving its description. An ingest so starts on clip 1 while
/// clip 2 is still being read, instead of after the whole card (0.5 s for 20 P2 clips here,
/// in front of the first call and the first encode). What MediaInfo finds wrong with a file
/// (and detection did not already report) goes to `on_issue` as it is found. Camera proxies
/// are not probed (the ingest probes its own when it may use them).
pub fn scan_streaming(
    paths: &[PathBuf],
    tools: &Tools,
    on_issue: impl Fn(ScanIssue) + Send + Sync + 'static,
) -> Result<ScanReport, ScanError> {
    let detected = card::scan_paths(paths)?;
    let known: HashSet<PathBuf> = detected.errors.iter().map(|e| e.path.clone()).collect();
    let mut work = Vec::with_capacity(detected.clips.len());
    let clips = detected
        .clips
        .into_iter()
        .map(|clip| {
            let (tx, rx) = tokio::sync::watch::channel(None);
            work.push((clip.clone(), tx));
            ScannedClip {
                clip,
                metadata: ClipMetadata::default(),
                raw_metadata: serde_json::Value::Null,
                camera_proxy: None,
                description: None,
                pending: Some(PendingDescription(rx)),
            }
        })
        .collect();
    describe_in_background(work, tools.clone(), known, on_issue);
    Ok(ScanReport {
        cards: detected.cards,
        clips,
        skipped: detected.skipped,
        errors: detected.errors,
    })
}

/// What MediaInfo found wrong in `desc` about files detection did not already report (an
/// empty file, a broken link: MediaInfo failing on it too says nothing new).
fn new_issues<'a>(
    desc: &'a media::ClipDescription,
    known: &'a HashSet<PathBuf>,
) -> impl Iterator<Item = ScanIssue> + 'a {
    desc.issues
        .iter()
        .filter(|(path, _)| !known.contains(path))
        .map(|(path, message)| ScanIssue {
            path: path.clone(),
            message: message.clone(),
        })
}

/// Threads describing for [`scan_streaming`].
const STREAMING_WORKERS: usize = 1;

type DescribeWork = (
    Clip,
    tokio::sync::watch::Sender<Option<Arc<media::ClipDescription>>>,
);

/// The pool behind [`scan_streaming`]: detached threads taking clips in card order. A thread
/// that cannot start leaves its clips' senders dropped, and each waiter describes its own.
fn describe_in_background(
    work: Vec<DescribeWork>,
    tools: Tools,
    known: HashSet<PathBuf>,
    on_issue: impl Fn(ScanIssue) + Send + Sync + 'static,
) {
    // One thread: the ingest takes the clips in card order, each well after MediaInfo has
    // read it (≈ 40 ms a P2 clip here, against ≈ 0.27 s of calls or 0.7 s of encode a clip),
    // and a second thread only took CPU from clip 1's encode and the encoder detection.
    let workers = STREAMING_WORKERS.min(work.len());
    let queue = Arc::new(Mutex::new(work.into_iter()));
    let shared = Arc::new((tools, known, on_issue));
    for n in 0..workers {
        let (queue, shared) = (Arc::clone(&queue), Arc::clone(&shared));
        let spawned = std::thread::Builder::new()
            .name(format!("describe-{n}"))
            .spawn(move || {
                let (tools, known, on_issue) = &*shared;
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                    let Some((clip, tx)) = next else { break };
                    let desc = media::describe_clip(&clip, tools);
                    new_issues(&desc, known).for_each(on_issue);
                    // Nobody waiting any more (the job ended) is not an error.
                    let _ = tx.send(Some(Arc::new(desc)));
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "describe thread not started; clips describe themselves");
        }
    }
}

/// Threads describing at once: MediaInfo is one process per clip, mostly waiting on I/O.
fn pool_size() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4)
}

type Described = (
    media::ClipDescription,
    Option<Result<CameraProxyFacts, String>>,
);

/// Describes clips on up to `available_parallelism` threads (MediaInfo is one process per
/// clip, mostly waiting on I/O), keeping the input order; a clip with a camera proxy has it
/// probed too (two short ffprobe runs).
fn describe_all(clips: &[Clip], tools: &Tools, options: ScanOptions) -> Vec<Described> {
    let workers = pool_size();
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Described>>> =
        Mutex::new((0..clips.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers.min(clips.len()) {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(clip) = clips.get(i) else { break };
                    let r = media::describe_clip(clip, tools);
                    let candidate = camera::candidate(clip).filter(|_| options.camera_proxies);
                    let proxy = candidate.map(|path| match &tools.ffprobe {
                        Some(ffprobe) => camera::inspect(ffprobe, &path).map_err(|e| e.to_string()),
                        None => Err("ffprobe not found to check the camera proxy".to_owned()),
                    });
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some((r, proxy));
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect()
}
