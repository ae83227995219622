//! What the journal keeps per card and per clip: each step's state and every id iconik
//! returned, so a re-run resumes where the last one stopped and never creates twice.
//! Serialised as JSON by [`super::journal`]; never holds credentials.

use super::step::Step;
use crate::iconik::models::{
    AssetId, ComponentId, FileId, FileSetId, FormatId, JobId, ProxyId, StorageId, VersionId,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// State of one step.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StepState {
    #[default]
    Pending,
    /// Started but no result saved: after a crash the step's objects must be looked up.
    Running,
    Done,
    Failed {
        error: String,
        retryable: bool,
    },
    Skipped {
        reason: String,
    },
}

impl StepState {
    /// Done or skipped: nothing left to do.
    pub fn is_finished(&self) -> bool {
        matches!(self, StepState::Done | StepState::Skipped { .. })
    }
}

/// One step's record.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StepRecord {
    #[serde(flatten)]
    pub state: StepState,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub started: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub finished: Option<DateTime<Utc>>,
    /// Attempts made (automatic retries included), over all runs.
    #[serde(default)]
    pub attempts: u32,
}

impl StepRecord {
    /// Seconds between start and finish, when both are known.
    pub fn duration_secs(&self) -> Option<f64> {
        match (self.started, self.finished) {
            (Some(s), Some(f)) => Some((f - s).num_milliseconds() as f64 / 1000.0),
            _ => None,
        }
    }
}

/// One member file as registered.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FileRecord {
    /// Path on the card (source).
    pub source: PathBuf,
    /// Path that is registered (the offloaded copy, or the source in place).
    pub registered: PathBuf,
    /// File name (= iconik `name` and `original_name`).
    pub name: String,
    /// Folder relative to the storage root, `/`-separated, no leading `/`.
    pub directory_path: String,
    pub size_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub md5: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub xxh64: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub file_id: Option<FileId>,
}

/// Everything known about one clip.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClipRecord {
    pub clip_id: String,
    pub name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub steps: BTreeMap<Step, StepRecord>,
    #[serde(default)]
    pub files: Vec<FileRecord>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub asset_id: Option<AssetId>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version_id: Option<VersionId>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub format_id: Option<FormatId>,
    #[serde(default)]
    pub component_ids: Vec<ComponentId>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub file_set_id: Option<FileSetId>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub proxy_path: Option<PathBuf>,
    /// xxh64 over the member files' xxh64 values: the proxy is re-encoded only when it changes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub proxy_fingerprint: Option<String>,
    /// The ffmpeg encoder that made the proxy (`libx264`, `h264_vaapi`, ...).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub proxy_encoder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub proxy_id: Option<ProxyId>,
    /// GCS resumable session URL (journaled the moment it exists).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub upload_session: Option<String>,
    /// Bytes the storage confirmed.
    #[serde(default)]
    pub upload_offset: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub keyframe_job: Option<JobId>,
    /// The metadata view values were written (PUT) to the asset.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub metadata_written: bool,
    /// Camera marks registered as iconik `MARKER` segments (how many): a re-run makes none
    /// again.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub markers: Option<usize>,
    /// The storage's ACL template / access group was applied to the asset.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub acl_applied: bool,
    /// Set when the clip was skipped as already in iconik.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub duplicate_of: Option<String>,
    /// `--cloud-copy`: the clip's member files uploaded to each cloud storage.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub cloud_copies: Vec<CloudCopy>,
}

/// The clip's originals on one cloud storage (`--cloud-copy`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CloudCopy {
    /// The storage's name (or id when it has none).
    pub storage: String,
    pub files: usize,
    /// Every file's MD5, as the storage reported it, matched the card's.
    pub verified: bool,
}

impl ClipRecord {
    pub fn new(clip_id: &str, name: &str) -> Self {
        Self {
            clip_id: clip_id.to_owned(),
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// The record of `step` (Pending when absent).
    pub fn step(&self, step: Step) -> StepState {
        self.steps
            .get(&step)
            .map(|r| r.state.clone())
            .unwrap_or_default()
    }

    /// Every step done or skipped.
    pub fn is_complete(&self) -> bool {
        Step::ALL.iter().all(|s| self.step(*s).is_finished())
    }

    /// The first failed step with its error.
    pub fn failure(&self) -> Option<(Step, String)> {
        Step::ALL.into_iter().find_map(|s| match self.step(s) {
            StepState::Failed { error, .. } => Some((s, error)),
            _ => None,
        })
    }

    /// Whether the clip was skipped as a duplicate.
    pub fn is_skipped_duplicate(&self) -> bool {
        self.duplicate_of.is_some()
    }

    /// Skipped on purpose as a whole: a duplicate, or an incomplete clip (nothing left to do).
    pub fn is_skipped(&self) -> bool {
        self.is_skipped_duplicate()
            || matches!(self.step(Step::CreateAsset), StepState::Skipped { .. })
    }

    /// Work is left: neither complete nor skipped on purpose (failed, stopped, not started).
    pub fn has_work_left(&self) -> bool {
        !self.is_complete() && !self.is_skipped()
    }

    /// Marks `step` and every later step Pending again (a manual retry); ids are kept so the
    /// redone steps look objects up before creating.
    pub fn reset_from(&mut self, step: Step) {
        for s in step.and_after() {
            if let Some(r) = self.steps.get_mut(&s)
                && !matches!(r.state, StepState::Done)
            {
                r.state = StepState::Pending;
            }
        }
        if let Some(r) = self.steps.get_mut(&step) {
            r.state = StepState::Pending;
        }
    }
}

/// The journal's state of one card against one server.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CardRecord {
    pub card_root: PathBuf,
    /// iconik base URL the ids belong to.
    pub server: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub storage_id: Option<StorageId>,
    /// Folder the card was offloaded to (the primary copy, the one registered).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub offload_destination: Option<PathBuf>,
    /// Every destination's copy and how it checked out (primary first): the evidence for
    /// "safe to erase" and the report's offload section.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub offload_copies: Vec<OffloadCopy>,
    /// Verified copies the card needs before it is safe to erase (`--required-copies`); `None`:
    /// every destination's.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub required_copies: Option<usize>,
    /// The `--collection` every asset is added to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub collection_id: Option<crate::iconik::models::CollectionId>,
    /// Collections made for per-clip collection names, by name (resume reuses them).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub collections: BTreeMap<String, crate::iconik::models::CollectionId>,
    /// Clip records by clip id.
    #[serde(default)]
    pub clips: BTreeMap<String, ClipRecord>,
}

impl CardRecord {
    /// "Check copies" on this card's copies (every copy that was made), repairing from the card
    /// while it is still there; `None` when the card was not offloaded. The window runs it with
    /// [`crate::offload::recheck::recheck`] and appends the outcome to the card's report
    /// ([`super::report::CheckCopies::of`]).
    pub fn check_copies_request(&self) -> Option<crate::offload::recheck::RecheckRequest> {
        let destinations: Vec<PathBuf> = self
            .offload_copies
            .iter()
            .filter(|c| c.error.is_none())
            .map(|c| c.destination.clone())
            .collect();
        if destinations.is_empty() {
            return None;
        }
        let mut request = crate::offload::recheck::RecheckRequest::new(destinations);
        request.card = Some(self.card_root.clone()).filter(|c| c.is_dir());
        Some(request)
    }
}

/// One destination's copy of the card, as the journal and the report keep it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OffloadCopy {
    /// The card's folder on that destination.
    pub destination: PathBuf,
    /// Set when a different card held the folder the pattern named.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub renamed_from: Option<PathBuf>,
    pub files: usize,
    pub bytes: u64,
    /// Files whose copy did not match the card (relative paths).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub failed: Vec<String>,
    /// `read-back` or `size`.
    pub verify: String,
    /// The verification in words (names whether the page cache was bypassed).
    pub verify_description: String,
    /// The ASC MHL generation written there.
    pub mhl: PathBuf,
    /// A later tier (`--cascade-to`): the first tier's copy it was filled from (`None`: read
    /// from the card).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub copied_from: Option<PathBuf>,
    /// Why this copy was not made at all (a later tier that failed: the card was released
    /// before, so it does not stop the run; the verdict counts it as a missing copy).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

impl OffloadCopy {
    pub fn of(
        d: &crate::offload::DestinationReport,
        report: &crate::offload::OffloadReport,
    ) -> Self {
        OffloadCopy {
            destination: d.destination.clone(),
            renamed_from: d.renamed_from.clone(),
            files: d.files.len(),
            bytes: d.files.iter().map(|f| f.size_bytes).sum(),
            failed: d.failed().iter().map(|f| f.rel_path.clone()).collect(),
            verify: report.verify.as_str().to_owned(),
            verify_description: report.verify_description().to_owned(),
            mhl: d.mhl.path.clone(),
            copied_from: None,
            error: None,
        }
    }

    /// Whether this copy was read back and every file matched.
    pub fn read_back_and_matched(&self) -> bool {
        self.error.is_none() && self.failed.is_empty() && self.verify == "read-back"
    }
}
