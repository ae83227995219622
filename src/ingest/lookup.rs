//! The look-ups a face makes before a run: the connection test (storages, metadata views) and
//! the preview's "already in iconik" check: once a card is scanned and a FILES storage is picked
//! on a working connection, every ingestable clip is looked up the way the ingest engine decides
//! a duplicate before creating its asset ([`dedupe::clip_in_iconik`]: the clip id as
//! `external_id`, then the main file at its storage path). Runs on the worker, a few clips at a
//! time and paced under iconik's rate limit (iconik-api.md §2); a failed lookup is "could not
//! check", never a duplicate.
//!
//! Plain types only (no egui): [`check_clips`] runs on the worker's runtime and reports
//! [`DuplicateUpdate`]s; [`DuplicateTracker`] tells the app when a check is due and which
//! results are stale (a generation number, like the scan's).
//!
//! Not checked here: the MD5 lookup of [`dedupe::registered_elsewhere`]. The engine has the
//! checksum from its first step; the preview would have to read every byte of the card first,
//! so its [`crate::ingest::record::FileRecord`]s carry no MD5 and only the path + size match runs.

use crate::iconik::models::StorageId;
use crate::iconik::retry::Backoff;
use crate::iconik::{Client, Credentials};
use crate::ingest::dedupe;
use crate::ingest::engine::file_record;
use crate::ingest::record::FileRecord;
use crate::ingest::retry::{self, Gave, Pacer};
use crate::scan::ScannedClip;
use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Clips looked up at once (each lookup is one or two sequential calls).
pub const CONCURRENT_CLIPS: usize = 4;
/// The preview's own pace: half of the engine's 40 calls/s (iconik allows ~50/s and 1000 per
/// 20 s, iconik-api.md §2), so an ingest running meanwhile keeps most of the budget.
pub const CALLS_PER_SECOND: u32 = 20;

/// What the check knows about one clip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DuplicateCheck {
    /// Looked up now.
    Checking,
    /// Not in iconik. `path_checked`: the storage-path lookup ran too (the card is under the
    /// storage's mount folder); otherwise only the clip id was looked up.
    NotInIconik { path_checked: bool },
    /// Already in iconik; the sentence names the asset (the ingest would skip the clip).
    InIconik(String),
    /// The lookup failed (the reason says why): not known to be a duplicate.
    CouldNotCheck(String),
}

impl DuplicateCheck {
    pub fn is_duplicate(&self) -> bool {
        matches!(self, DuplicateCheck::InIconik(_))
    }

    /// The hover text of the preview row's status.
    pub fn hover(&self) -> String {
        match self {
            DuplicateCheck::Checking => "Looking this clip up in iconik…".to_owned(),
            DuplicateCheck::NotInIconik { path_checked: true } => {
                "Not in iconik yet (clip id and storage path checked)".to_owned()
            }
            DuplicateCheck::NotInIconik {
                path_checked: false,
            } => "Not in iconik yet (clip id checked; the card is not under the storage's mount \
                 folder, so its path was not)"
                .to_owned(),
            DuplicateCheck::InIconik(reason) => format!(
                "Already in iconik: {reason}. The ingest skips this clip unless it is forced \
                 (card-ingest ingest --force); it was unticked for you."
            ),
            DuplicateCheck::CouldNotCheck(reason) => format!("could not check: {reason}"),
        }
    }
}

/// Where and as whom to look, and which clips.
#[derive(Debug, Clone)]
pub struct DuplicateRequest {
    pub server: String,
    /// `Debug` redacts the token.
    pub credentials: Credentials,
    /// The FILES storage picked for originals (its id as iconik listed it).
    pub storage_id: String,
    /// Its local mount folder (`None`: not set; only the clip ids are looked up).
    pub mount: Option<PathBuf>,
    /// Ingestable clips only (incomplete spans are never registered).
    pub clips: Vec<ScannedClip>,
}

/// The whole check's outcome, for one log line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DuplicateSummary {
    pub checked: usize,
    pub in_iconik: usize,
    pub failed: usize,
    /// The first failure's reason (failures usually share one cause: logged once).
    pub first_failure: Option<String>,
    /// Why the storage-path lookup did not run for any clip (mount unset or missing).
    pub path_check_off: Option<String>,
}

impl DuplicateSummary {
    /// The log line.
    pub fn message(&self) -> String {
        let mut text = format!(
            "duplicate check: {} clips looked up in iconik, {} already there",
            self.checked, self.in_iconik
        );
        if self.failed > 0 {
            text.push_str(&format!(
                "; could not check {}: {}",
                self.failed,
                self.first_failure.as_deref().unwrap_or("unknown error")
            ));
        }
        if let Some(why) = &self.path_check_off {
            text.push_str(&format!("; storage paths not checked: {why}"));
        }
        text
    }
}

/// What [`check_clips`] reports, as results arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DuplicateUpdate {
    Clip {
        clip_id: String,
        check: DuplicateCheck,
    },
    /// Sent once at the end (not sent when cancelled).
    Finished(DuplicateSummary),
}

/// Looks every clip of `request` up, [`CONCURRENT_CLIPS`] at a time, and reports each result
/// (in completion order) and then the summary through `report`. Stops quietly once `cancel`
/// is set (the card or the server changed: nobody wants the rest).
pub async fn check_clips(
    request: DuplicateRequest,
    cancel: Arc<AtomicBool>,
    mut report: impl FnMut(DuplicateUpdate),
) {
    let mut summary = DuplicateSummary::default();
    let setup = Client::new(&request.server, request.credentials.clone())
        .map_err(|e| e.to_string())
        .and_then(|client| {
            let storage = request
                .storage_id
                .parse::<StorageId>()
                .map_err(|e| format!("storage id {:?} is not a UUID: {e}", request.storage_id))?;
            Ok((client, storage))
        });
    let (client, storage) = match setup {
        Ok(c) => c,
        Err(reason) => {
            // One reason for every clip: the server URL or the storage id is unusable.
            for sc in &request.clips {
                report(DuplicateUpdate::Clip {
                    clip_id: sc.clip.id.clone(),
                    check: DuplicateCheck::CouldNotCheck(reason.clone()),
                });
            }
            summary.checked = request.clips.len();
            summary.failed = request.clips.len();
            summary.first_failure = Some(reason);
            report(DuplicateUpdate::Finished(summary));
            return;
        }
    };
    // Paths are canonicalised (filesystem calls): off the async threads.
    let clips = request.clips.clone();
    let mount = request.mount.clone();
    let planned = tokio::task::spawn_blocking(move || plan(&clips, mount.as_deref())).await;
    let (records, path_check_off) = match planned {
        Ok(p) => p,
        Err(e) => (
            vec![None; request.clips.len()],
            Some(format!("path planning failed: {e}")),
        ),
    };
    summary.path_check_off = path_check_off;
    let pacer = Arc::new(Pacer::new(CALLS_PER_SECOND));
    // A preview can wait less than an ingest: two quick retries of 429/5xx, then "could not
    // check".
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(4));
    backoff.max_retries = 2;
    let lookups = request.clips.into_iter().zip(records).map(|(sc, main)| {
        let client = client.clone();
        let pacer = pacer.clone();
        let cancel = cancel.clone();
        let backoff = backoff.clone();
        async move {
            let check = check_one(&client, &pacer, &backoff, &cancel, storage, &sc, main).await;
            (sc.clip.id, check)
        }
    });
    let mut results = futures_util::stream::iter(lookups).buffer_unordered(CONCURRENT_CLIPS);
    while let Some((clip_id, check)) = results.next().await {
        if cancel.load(Ordering::Relaxed) {
            return;
        }
        summary.checked += 1;
        match &check {
            DuplicateCheck::InIconik(_) => summary.in_iconik += 1,
            DuplicateCheck::CouldNotCheck(reason) => {
                summary.failed += 1;
                summary.first_failure.get_or_insert_with(|| reason.clone());
            }
            DuplicateCheck::Checking | DuplicateCheck::NotInIconik { .. } => {}
        }
        report(DuplicateUpdate::Clip { clip_id, check });
    }
    report(DuplicateUpdate::Finished(summary));
}

/// One clip: the engine's decision, paced and retried like the engine's calls.
async fn check_one(
    client: &Client,
    pacer: &Pacer,
    backoff: &Backoff,
    cancel: &Arc<AtomicBool>,
    storage: StorageId,
    sc: &ScannedClip,
    main: Option<FileRecord>,
) -> DuplicateCheck {
    let ext = sc.clip.id.as_str();
    let main = main.as_ref();
    let result = retry::run(
        backoff,
        cancel,
        &mut |n| tracing::debug!(clip = %ext, attempt = n.attempt, "retrying duplicate lookup: {}", n.error),
        |_attempt| async move {
            // One slot per call the lookup may make (the path lookup is a second call), so the
            // check stays at CALLS_PER_SECOND calls, not lookups.
            pacer.wait(client).await;
            if main.is_some() {
                pacer.wait(client).await;
            }
            dedupe::clip_in_iconik(client, storage, ext, main).await
        },
    )
    .await;
    match result {
        Ok(Some(reason)) => DuplicateCheck::InIconik(reason),
        Ok(None) => DuplicateCheck::NotInIconik {
            path_checked: main.is_some(),
        },
        Err(Gave::Up(e)) => DuplicateCheck::CouldNotCheck(e.to_string()),
        Err(Gave::Cancelled) => DuplicateCheck::CouldNotCheck("cancelled".to_owned()),
    }
}

/// The main file's record per clip, as the engine would register it in place (no offload):
/// `None` where the path lookup cannot run. The second value says why it runs for no clip.
fn plan(clips: &[ScannedClip], mount: Option<&Path>) -> (Vec<Option<FileRecord>>, Option<String>) {
    let Some(mount) = mount else {
        return (
            vec![None; clips.len()],
            Some("the storage's local mount folder is not set".to_owned()),
        );
    };
    let storage_root = match crate::canonical::canonicalize(mount) {
        Ok(root) => root,
        Err(e) => {
            return (
                vec![None; clips.len()],
                Some(format!("mount folder {}: {e}", mount.display())),
            );
        }
    };
    let records: Vec<Option<FileRecord>> = clips
        .iter()
        .map(|sc| {
            let card_root = crate::canonical::canonicalize(&sc.clip.card_root)
                .unwrap_or_else(|_| sc.clip.card_root.clone());
            // Same rule as the engine: only a card under the storage's mount is registered in
            // place; anything else must be offloaded there first (path unknown until then).
            if !card_root.starts_with(&storage_root) {
                return None;
            }
            let first = sc.clip.files.first()?;
            let rec = file_record(
                &first.path,
                first.size,
                &card_root,
                &card_root,
                &storage_root,
            );
            rec.registered.starts_with(&storage_root).then_some(rec)
        })
        .collect();
    let off = (!clips.is_empty() && records.iter().all(Option::is_none)).then(|| {
        format!(
            "the card is not under the storage's mount folder {}",
            storage_root.display()
        )
    });
    (records, off)
}

/// What makes a check's results valid: the scan, the server, the storage and its mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckKey {
    pub scan_generation: u64,
    pub server: String,
    pub storage_id: String,
    pub mount: String,
    /// Ingests from this window that ended: clips they registered are in iconik now.
    pub ingests_ended: u64,
}

/// What the app should do after [`DuplicateTracker::follow`].
#[derive(Debug)]
pub enum Follow {
    /// Nothing changed.
    Keep,
    /// The conditions no longer hold: forget the results shown.
    Clear,
    /// Start a check tagged `generation`; the worker stops when `cancel` is set.
    Start {
        generation: u64,
        cancel: Arc<AtomicBool>,
    },
}

/// Decides when a check is due and which results are current. Dropping it (or a new key)
/// cancels the running check.
#[derive(Debug, Default)]
pub struct DuplicateTracker {
    generation: u64,
    key: Option<CheckKey>,
    cancel: Option<Arc<AtomicBool>>,
}

impl DuplicateTracker {
    /// `key`: `Some` when a check is possible now (card scanned, connected, FILES storage).
    pub fn follow(&mut self, key: Option<CheckKey>) -> Follow {
        if key == self.key {
            return Follow::Keep;
        }
        self.stop();
        self.generation += 1;
        self.key = key;
        if self.key.is_none() {
            return Follow::Clear;
        }
        let cancel = Arc::new(AtomicBool::new(false));
        self.cancel = Some(cancel.clone());
        Follow::Start {
            generation: self.generation,
            cancel,
        }
    }

    /// Stops the running check and drops its late results, keeping what is shown; the next
    /// [`Self::follow`] with a key starts a fresh check (an ingest changes the answers).
    pub fn interrupt(&mut self) {
        self.stop();
        self.key = None;
        self.generation += 1;
    }

    /// Whether results tagged `generation` belong to the check that is current.
    pub fn is_current(&self, generation: u64) -> bool {
        self.key.is_some() && generation == self.generation
    }

    fn stop(&mut self) {
        if let Some(cancel) = self.cancel.take() {
            cancel.store(true, Ordering::Relaxed);
        }
    }
}

impl Drop for DuplicateTracker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A storage as the settings panel needs it (no iconik model types in the view model).
#[derive(Debug, Clone, PartialEq)]
pub struct StorageInfo {
    pub id: String,
    pub name: String,
    pub purpose: String,
    pub method: String,
    pub mount_point: Option<String>,
}

/// A metadata view and its field names.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewInfo {
    pub id: String,
    pub name: String,
    pub fields: Vec<String>,
}

/// What "Test connection" learned: the storages, then (connected) the metadata views (a failure
/// there is not a failed connection: tokens may lack the metadata permission).
#[derive(Debug)]
pub struct ConnectionTest {
    pub server: String,
    pub storages: Result<Vec<StorageInfo>, String>,
    pub views: Option<Result<Vec<ViewInfo>, String>>,
}

/// "Test connection": the storages of `server` with these credentials, then (connected) its
/// metadata views.
pub async fn test_connection(server: String, app_id: String, token: String) -> ConnectionTest {
    let client = Client::new(&server, Credentials::new(app_id, token)).map_err(|e| e.to_string());
    let storages = match &client {
        Ok(c) => list_storages(c).await,
        Err(e) => Err(e.clone()),
    };
    let views = match (&storages, client) {
        (Ok(_), Ok(c)) => Some(list_views(&c).await),
        _ => None,
    };
    ConnectionTest {
        server,
        storages,
        views,
    }
}

async fn list_views(client: &Client) -> Result<Vec<ViewInfo>, String> {
    let views = client
        .metadata()
        .list_views()
        .await
        .map_err(|e| e.to_string())?;
    Ok(views
        .into_iter()
        .map(|v| ViewInfo {
            id: v.id.to_string(),
            name: v.name.unwrap_or_default(),
            fields: v.view_fields.into_iter().map(|f| f.name).collect(),
        })
        .collect())
}

async fn list_storages(client: &Client) -> Result<Vec<StorageInfo>, String> {
    let storages = client
        .storages()
        .list_all()
        .await
        .map_err(|e| e.to_string())?;
    Ok(storages
        .into_iter()
        .map(|s| StorageInfo {
            id: s.id.to_string(),
            name: s.name.clone().unwrap_or_default(),
            purpose: s.purpose.map(|p| p.to_string()).unwrap_or_default(),
            method: s.method.map(|m| m.to_string()).unwrap_or_default(),
            mount_point: s
                .settings
                .as_ref()
                .and_then(|v| v.get("mount_point"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{Clip, ClipFile, Family, FileRole};

    fn key(scan: u64) -> CheckKey {
        CheckKey {
            scan_generation: scan,
            server: "http://127.0.0.1:1".into(),
            storage_id: "s1".into(),
            mount: "/mnt/x".into(),
            ingests_ended: 0,
        }
    }

    #[test]
    fn interrupt_drops_late_results_and_the_same_key_starts_again() {
        let mut t = DuplicateTracker::default();
        let Follow::Start { generation, cancel } = t.follow(Some(key(1))) else {
            panic!("first key starts a check");
        };
        t.interrupt();
        assert!(
            cancel.load(Ordering::Relaxed),
            "the running check is told to stop"
        );
        assert!(!t.is_current(generation), "its late results are dropped");
        let Follow::Start { generation: g2, .. } = t.follow(Some(key(1))) else {
            panic!("the same key starts a fresh check after an interrupt");
        };
        assert!(g2 > generation && t.is_current(g2));
    }

    #[test]
    fn tracker_starts_once_per_key_and_cancels_the_previous_check() {
        let mut t = DuplicateTracker::default();
        assert!(matches!(t.follow(None), Follow::Keep));
        let Follow::Start {
            generation: g1,
            cancel: c1,
        } = t.follow(Some(key(1)))
        else {
            panic!("first key starts a check");
        };
        assert!(matches!(t.follow(Some(key(1))), Follow::Keep));
        assert!(t.is_current(g1));
        let Follow::Start {
            generation: g2,
            cancel: c2,
        } = t.follow(Some(key(2)))
        else {
            panic!("a new scan starts a new check");
        };
        assert_eq!(g2, g1 + 1);
        assert!(c1.load(Ordering::Relaxed), "the old check is cancelled");
        assert!(!t.is_current(g1), "the old results are stale");
        assert!(matches!(t.follow(None), Follow::Clear));
        assert!(c2.load(Ordering::Relaxed));
        assert!(!t.is_current(g2), "nothing is current once cleared");
    }

    fn clip_at(card_root: &Path, file: &Path) -> ScannedClip {
        ScannedClip {
            clip: Clip {
                id: "clip-1".into(),
                name: "C0001".into(),
                family: Family::XavcS,
                card_root: card_root.to_path_buf(),
                files: vec![ClipFile {
                    path: file.to_path_buf(),
                    role: FileRole::Video,
                    size: 42,
                }],
                segments: vec![vec![0]],
                incomplete: None,
                warnings: Vec::new(),
                derived_from: None,
            },
            metadata: Default::default(),
            raw_metadata: serde_json::Value::Null,
            camera_proxy: None,
            description: None,
            pending: None,
        }
    }

    #[test]
    fn plan_gives_the_storage_relative_folder_only_under_the_mount() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = crate::canonical::canonicalize(dir.path()).expect("canonical");
        let card = root.join("shoot").join("CARD_A");
        let clip_dir = card.join("M4ROOT").join("CLIP");
        std::fs::create_dir_all(&clip_dir).expect("mkdir");
        let file = clip_dir.join("C0001.MP4");
        std::fs::write(&file, b"x").expect("write");
        let clips = vec![clip_at(&card, &file)];

        let (recs, off) = plan(&clips, Some(&root));
        assert_eq!(off, None);
        let rec = recs[0].as_ref().expect("under the mount: path checked");
        assert_eq!(rec.directory_path, "shoot/CARD_A/M4ROOT/CLIP");
        assert_eq!(rec.name, "C0001.MP4");
        assert_eq!(rec.size_bytes, 42);
        assert_eq!(rec.md5, None, "the preview never reads the bytes");

        // Mount elsewhere: only the clip id can be looked up, and the summary says why.
        let (recs, off) = plan(&clips, Some(&card.join("M4ROOT")));
        assert_eq!(recs, vec![None]);
        assert!(
            off.as_deref()
                .is_some_and(|w| w.starts_with("the card is not under")),
            "{off:?}"
        );
        let (recs, off) = plan(&clips, None);
        assert_eq!(recs, vec![None]);
        assert_eq!(
            off.as_deref(),
            Some("the storage's local mount folder is not set")
        );
        // A mount folder that does not exist (typo) is named.
        let (_, off) = plan(&clips, Some(&root.join("nope")));
        assert!(
            off.as_deref().is_some_and(|w| w.contains("nope")),
            "{off:?}"
        );
    }

    #[test]
    fn summary_message_names_failures_once() {
        let s = DuplicateSummary {
            checked: 3,
            in_iconik: 1,
            failed: 2,
            first_failure: Some("connection refused".into()),
            path_check_off: None,
        };
        assert_eq!(
            s.message(),
            "duplicate check: 3 clips looked up in iconik, 1 already there; could not check 2: \
             connection refused"
        );
    }
}
