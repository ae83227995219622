//! Verified copies of a card folder, read once and written to every destination (the local
//! mount of the iconik storage first, then e.g. a shuttle drive).
//!
//! Steps, per card:
//! 1. **Pre-flight** ([`preflight`]), before any byte is written: each destination's folder is
//!    `root/<pattern>` (`{date}/{card}` by default, see [`plan::destination_dir`]), or a distinct
//!    `<name>_2` when a different card of the same name already holds it; refused when a
//!    destination is on the card's own volume, lacks the free space, or lies inside the card. A
//!    card that already lies under the primary root is not copied
//!    ([`OffloadOutcome::AlreadyAtDestination`]).
//! 2. **Copy** ([`copy`]), file by file in the order the caller gives
//!    ([`OffloadRequest::first`]: the ingest names each clip's files in card order) and then
//!    the rest: each source file is read once; its bytes are hashed (xxh64 + md5) and written to a
//!    hidden temp sibling (`.<name>.tmp-<pid>-<n>`) in every destination, fsynced, given the
//!    source's modification time, then renamed to its final name; a crash never leaves a half
//!    file under the final name. An existing final file is never overwritten: same size and
//!    hashes = already copied (resume), anything else is [`OffloadError::ExistingDiffers`].
//! 3. **Verify** ([`VerifyMode`], [`pipeline`]), right behind each file's copy on a second
//!    thread (the next file copies meanwhile), each file reported once checked everywhere
//!    ([`offload_each`]): by default every copied file is re-read from each destination
//!    drive (its cached pages dropped after the fsync, [`cache`]) and its hashes compared with the
//!    copy pass; `size` only compares sizes and says so. Mismatches are per file and destination
//!    ([`FileStatus::VerifyFailed`]).
//! 4. **Manifest**: an ASC MHL generation (process `transfer`) in each destination folder, each
//!    file with `original` records from the copy pass and `verified`/`failed` records from the
//!    re-read (none in size mode: nothing was hashed again).
//!
//! 5. **Check again** ([`recheck`]): later, every copy re-read against its MHL, a damaged file
//!    repaired from the card or another copy, the check recorded as a new generation.
//!
//! The source's own `ascmhl/` folder is copied like any file (so its history travels with the
//! media) but never listed in the manifest (the reference tool ignores it too). OS junk
//! ([`plan::JUNK_NAMES`]) stays behind.

pub mod cache;
mod copy;
pub mod drives;
mod pipeline;
pub mod plan;
pub mod preflight;
pub mod recheck;
pub mod volume;

use copy::{create_dir, is_in_ascmhl_folder};
use pipeline::{Copied, SharedProgress, copy_all, copy_order, verify_all};

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;

use crate::checksum::{Algorithm, ChecksumError, Hashes};
use crate::mhl::{self, CreatorInfo, HashList, MhlError};

/// Default destination pattern.
pub const DEFAULT_PATTERN: &str = "{date}/{card}";

/// How copies are checked after they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyMode {
    /// Re-read every copied file from the destination drive and compare its hashes.
    #[default]
    ReadBack,
    /// Compare sizes only (faster; the bytes are not checked again).
    Size,
}

impl VerifyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyMode::ReadBack => "read-back",
            VerifyMode::Size => "size",
        }
    }

    /// How the report and the window name the check that ran.
    pub fn describe(self, cache_dropped: bool) -> &'static str {
        match (self, cache_dropped) {
            (VerifyMode::ReadBack, true) => {
                "read-back: every copy re-read from the destination drive (page cache dropped) and its checksums compared"
            }
            (VerifyMode::ReadBack, false) => {
                "read-back: every copy re-read and its checksums compared (this OS may have served the re-read from its cache)"
            }
            (VerifyMode::Size, _) => "size only: copies NOT re-read, only their sizes compared",
        }
    }
}

impl std::str::FromStr for VerifyMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read-back" => Ok(VerifyMode::ReadBack),
            "size" => Ok(VerifyMode::Size),
            other => Err(format!(
                "unknown verify mode {other:?}: use read-back or size"
            )),
        }
    }
}

/// What to offload where.
#[derive(Debug, Clone)]
pub struct OffloadRequest {
    /// The card root folder.
    pub card_root: PathBuf,
    /// The primary destination: the local mount of the iconik storage (the copy registered).
    pub destination_root: PathBuf,
    /// Further destinations (RAID, shuttle drive), each getting its own verified copy and MHL.
    pub also_to: Vec<PathBuf>,
    /// Later tiers: filled from the primary destination's verified copy (not from the card) by
    /// [`OffloadRequest::cascade_request`] once the card is released; the caller runs them.
    pub cascade_to: Vec<PathBuf>,
    /// Destination sub-path pattern, e.g. [`DEFAULT_PATTERN`].
    pub pattern: String,
    /// Value of `{date}` (the caller passes the local date of the ingest).
    pub date: NaiveDate,
    /// Creator info for the destinations' ASC MHL generations.
    pub creator: CreatorInfo,
    pub verify: VerifyMode,
    /// Let a destination share the card's volume (refused by default: such a copy dies with the
    /// card's drive).
    pub allow_same_volume: bool,
    /// Groups of relative paths (`/`-separated, as in [`FileOutcome::rel_path`]) copied first,
    /// in this order: the ingest gives each clip's member files in card order, so the first
    /// clips' copies are verified (and registered) first. Files of the card not named here
    /// follow in their listing order; names not on the card are ignored.
    pub first: Vec<Vec<String>>,
    /// Values of the pattern's naming placeholders (`{camera}`, `{reel}`, …) for this card.
    pub names: plan::NameValues,
}

impl OffloadRequest {
    /// A request with the default pattern-independent settings (read-back, one destination).
    pub fn new(
        card_root: PathBuf,
        destination_root: PathBuf,
        pattern: String,
        date: NaiveDate,
        creator: CreatorInfo,
    ) -> Self {
        Self {
            card_root,
            destination_root,
            also_to: Vec::new(),
            cascade_to: Vec::new(),
            pattern,
            date,
            creator,
            verify: VerifyMode::ReadBack,
            allow_same_volume: false,
            first: Vec::new(),
            names: plan::NameValues::default(),
        }
    }
}

impl OffloadRequest {
    /// The copy of a later tier: the verified first-tier copy of the card at `copy` into
    /// `tier_root` (same pattern, date, verification and order), so the card itself is read
    /// only once. Its MHL generation names `copy` as its source; the copy's own history travels
    /// with it, so the tier's chain shows both transfers.
    pub fn cascade_request(&self, copy: &Path, tier_root: &Path) -> OffloadRequest {
        OffloadRequest {
            card_root: copy.to_path_buf(),
            destination_root: tier_root.to_path_buf(),
            also_to: Vec::new(),
            cascade_to: Vec::new(),
            pattern: self.pattern.clone(),
            date: self.date,
            creator: CreatorInfo {
                creation_date: chrono::Utc::now(),
                ..self.creator.clone()
            },
            verify: self.verify,
            allow_same_volume: self.allow_same_volume,
            first: self.first.clone(),
            names: self.names.clone(),
        }
    }
}

/// The two passes over the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Copy,
    Verify,
}

/// Progress of one phase over all files of the card (and, for verify, all destinations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffloadProgress {
    pub phase: Phase,
    /// The file being processed, relative to the card root.
    pub file: String,
    pub done_bytes: u64,
    pub total_bytes: u64,
}

/// Result for one file in one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStatus {
    /// Copied now; the re-read matched.
    Verified,
    /// Copied now; size-only mode found the size right (the bytes were not re-read).
    SizeMatched,
    /// The destination already held an identical file (same size and hashes): an earlier,
    /// interrupted offload got this far. Counts as verified.
    AlreadyPresent,
    /// The copy differs from what was read from the card.
    VerifyFailed {
        /// Hashes of the copy as re-read (in size mode: only its size).
        copy: Hashes,
        /// Algorithms whose digests differ (empty when only the size was compared).
        algorithms: Vec<Algorithm>,
    },
}

impl FileStatus {
    pub fn is_failed(&self) -> bool {
        matches!(self, FileStatus::VerifyFailed { .. })
    }
}

/// One source file, checked in every destination: what [`offload_each`] reports as soon as the
/// last destination's copy of it is verified (or found wrong).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedFile {
    /// Relative to the card root, `/`-separated.
    pub rel_path: String,
    /// The source file on the card.
    pub source_path: PathBuf,
    /// Hashes of the source bytes, from the copy's one read.
    pub source: Hashes,
    /// Per destination, primary first.
    pub statuses: Vec<FileStatus>,
}

/// One offloaded file in one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOutcome {
    /// Relative to the card root (and to the destination folder), `/`-separated.
    pub rel_path: String,
    pub size_bytes: u64,
    /// Hashes of the source bytes (xxh64 + md5), read once during the copy.
    pub source: Hashes,
    pub status: FileStatus,
}

/// One destination's copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationReport {
    pub root: PathBuf,
    /// The card's folder there.
    pub destination: PathBuf,
    /// The folder the pattern named, when another card held it (so this copy got a new name).
    pub renamed_from: Option<PathBuf>,
    pub files: Vec<FileOutcome>,
    /// The ASC MHL generation written there.
    pub mhl: mhl::Generation,
}

impl DestinationReport {
    pub fn failed(&self) -> Vec<&FileOutcome> {
        self.files.iter().filter(|f| f.status.is_failed()).collect()
    }

    pub fn all_verified(&self) -> bool {
        self.files.iter().all(|f| !f.status.is_failed())
    }
}

/// A finished offload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffloadReport {
    pub card_root: PathBuf,
    /// Primary first, in the order given.
    pub destinations: Vec<DestinationReport>,
    /// Entries not copied (symlinks, special files) with the reason.
    pub not_copied: Vec<(String, String)>,
    pub verify: VerifyMode,
    /// Whether the copies' cached pages were dropped before the re-read ([`cache`]).
    pub cache_dropped: bool,
}

impl OffloadReport {
    /// The copy on the iconik storage mount (the one that is registered).
    pub fn primary(&self) -> &DestinationReport {
        &self.destinations[0]
    }

    /// Files whose verification failed in any destination, with that destination.
    pub fn failed(&self) -> Vec<(&DestinationReport, &FileOutcome)> {
        self.destinations
            .iter()
            .flat_map(|d| d.failed().into_iter().map(move |f| (d, f)))
            .collect()
    }

    /// Whether every file is verified in every destination.
    pub fn all_verified(&self) -> bool {
        self.destinations
            .iter()
            .all(DestinationReport::all_verified)
    }

    /// The verification that ran, in words.
    pub fn verify_description(&self) -> &'static str {
        self.verify.describe(self.cache_dropped)
    }
}

/// What [`offload`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffloadOutcome {
    /// Copied (or found copied) and verified; see [`OffloadReport::failed`].
    Done(OffloadReport),
    /// The card already lies under the destination root: nothing to copy.
    AlreadyAtDestination { card_root: PathBuf },
}

/// Why an offload stopped.
#[derive(Debug, thiserror::Error)]
pub enum OffloadError {
    #[error("card folder not found or not a folder: {path}")]
    CardNotFound { path: PathBuf },
    #[error("destination root not found or not a folder (is the drive mounted?): {path}")]
    DestinationNotFound { path: PathBuf },
    #[error("invalid destination pattern {pattern:?}: {reason}")]
    BadPattern { pattern: String, reason: String },
    #[error("destination {destination} lies inside the card {card}; pick a destination outside it")]
    DestinationInsideCard { card: PathBuf, destination: PathBuf },
    #[error("destination {path} is given twice; give each destination once")]
    DuplicateDestination { path: PathBuf },
    #[error(
        "destination {destination} is on the same volume as the card {card}: a copy there is lost with the card's drive; choose a destination on another drive (or allow same-volume copies in the settings / --allow-same-volume)"
    )]
    SameVolume { card: PathBuf, destination: PathBuf },
    #[error(
        "not enough free space on {destination}: the card needs {needed} bytes ({needed_h}) and {free} bytes ({free_h}) are free; free some space or choose another destination",
        needed_h = human_bytes(*.needed),
        free_h = human_bytes(*.free)
    )]
    NotEnoughSpace {
        destination: PathBuf,
        needed: u64,
        free: u64,
    },
    #[error(
        "not enough free space on {destination}: this card needs {needed} bytes ({needed_h}) there and cards already started will still write {queued} bytes ({queued_h}) to that drive, but {free} bytes ({free_h}) are free; wait for them to finish, free some space or choose another destination",
        needed_h = human_bytes(*.needed),
        queued_h = human_bytes(*.queued),
        free_h = human_bytes(*.free)
    )]
    NotEnoughSpaceQueued {
        destination: PathBuf,
        needed: u64,
        queued: u64,
        free: u64,
    },
    #[error("cannot list {path}: {message}")]
    Walk { path: PathBuf, message: String },
    #[error("cannot create folder {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "destination already holds a different file, refusing to overwrite it: {path} ({detail}); move it away or choose another destination"
    )]
    ExistingDiffers { path: PathBuf, detail: String },
    #[error("cannot move {from} into place as {to}: {source}")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("offload cancelled")]
    Cancelled,
    #[error(transparent)]
    Checksum(ChecksumError),
    #[error("cannot write the ASC MHL manifest: {0}")]
    Mhl(#[from] MhlError),
}

/// `1.4 GB`-style size for messages (decimal units, as drives are sold).
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

impl From<ChecksumError> for OffloadError {
    fn from(e: ChecksumError) -> Self {
        match e {
            ChecksumError::Cancelled { .. } => OffloadError::Cancelled,
            other => OffloadError::Checksum(other),
        }
    }
}

/// Copies, verifies and manifests a card (see module docs). `progress` gets per-phase totals;
/// `cancel` stops between blocks with [`OffloadError::Cancelled`] (files already renamed into place
/// are complete and will be recognised on the next run).
pub fn offload(
    request: &OffloadRequest,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(&OffloadProgress) + Send),
) -> Result<OffloadOutcome, OffloadError> {
    offload_each(request, cancel, progress, &|_| {}, &mut |_| {})
}

/// [`offload`] with `after_copy` called with each destination file path between copy and verify:
/// a test seam for the ingest engine (its tests corrupt a copy there to prove verification).
pub fn offload_observed(
    request: &OffloadRequest,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(&OffloadProgress) + Send),
    after_copy: &dyn Fn(&Path),
) -> Result<OffloadOutcome, OffloadError> {
    offload_each(request, cancel, progress, after_copy, &mut |_| {})
}

/// The canonical card root and destination roots of `request`, or why not.
fn canonical_inputs(request: &OffloadRequest) -> Result<(PathBuf, Vec<PathBuf>), OffloadError> {
    let card = crate::canonical::canonicalize(&request.card_root)
        .ok()
        .filter(|p| p.is_dir())
        .ok_or_else(|| OffloadError::CardNotFound {
            path: request.card_root.clone(),
        })?;
    let mut roots = Vec::with_capacity(1 + request.also_to.len());
    for root in std::iter::once(&request.destination_root).chain(&request.also_to) {
        roots.push(
            crate::canonical::canonicalize(root)
                .ok()
                .filter(|p| p.is_dir())
                .ok_or_else(|| OffloadError::DestinationNotFound { path: root.clone() })?,
        );
    }
    Ok((card, roots))
}

/// The pre-flight alone: what [`offload`] would write where, or its refusal. `Ok(None)` when the
/// card already lies under the primary destination (nothing would be copied).
pub fn preflight(request: &OffloadRequest) -> Result<Option<preflight::OffloadPlan>, OffloadError> {
    let (card, roots) = canonical_inputs(request)?;
    if card.starts_with(&roots[0]) {
        return Ok(None);
    }
    preflight::plan(&preflight::Preflight {
        card: &card,
        roots: &roots,
        pattern: &request.pattern,
        date: request.date,
        names: &request.names,
        allow_same_volume: request.allow_same_volume,
    })
    .map(Some)
}

/// [`offload_observed`] that also reports each file as soon as every destination's copy of it
/// is checked (`on_file`, called from the verifying thread, in copy order): the ingest
/// registers a clip as soon as its own files are verified instead of after the whole card.
pub fn offload_each(
    request: &OffloadRequest,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(&OffloadProgress) + Send),
    after_copy: &dyn Fn(&Path),
    on_file: &mut (dyn FnMut(&VerifiedFile) + Send),
) -> Result<OffloadOutcome, OffloadError> {
    let Some(plan) = preflight(request)? else {
        let card =
            crate::canonical::canonicalize(&request.card_root).unwrap_or(request.card_root.clone());
        tracing::info!(card = %card.display(), "card already lies under the destination; not copying");
        return Ok(OffloadOutcome::AlreadyAtDestination { card_root: card });
    };
    let folders: Vec<&Path> = plan
        .destinations
        .iter()
        .map(|d| d.folder.as_path())
        .collect();
    for folder in &folders {
        create_dir(folder)?;
        for d in &plan.empty_dirs {
            create_dir(&folder.join(d))?;
        }
    }
    let order = copy_order(&plan.sources, &request.first);
    let progress: SharedProgress<'_> = std::sync::Mutex::new(progress);
    // Copy and read-back overlap: the next file is copied while the previous one is re-read
    // (one file queued at most, so the check stays right behind the copy).
    let (tx, rx) = std::sync::mpsc::sync_channel::<Copied<'_>>(1);
    let (copied, verified) = std::thread::scope(|s| {
        let verifier = s.spawn(|| verify_all(request, &plan, &progress, rx, on_file, cancel));
        let copied = copy_all(request, &plan, &order, &progress, after_copy, tx, cancel);
        let verified = verifier
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (copied, verified)
    });
    // The verifier's error first: the copying thread stops when the verifier hangs up.
    let (outcomes, entries) = verified?;
    let cache_dropped = copied?;
    let mut reports = Vec::with_capacity(plan.destinations.len());
    for ((planned, files), entries) in plan.destinations.iter().zip(outcomes).zip(entries) {
        // The source is named in the generation so a later "Check copies" (`recheck`) can
        // repair a damaged file from the card while it is still mounted.
        let mut creator = request.creator.clone();
        creator.comment = Some(recheck::comment_with_source(
            creator.comment.as_deref(),
            &plan.card,
        ));
        let list = HashList {
            creator,
            process: mhl::Process::Transfer,
            ignore_patterns: plan::JUNK_NAMES
                .iter()
                .map(|s| s.to_string())
                .chain(["._*".to_owned()])
                .collect(),
            files: entries,
            empty_directories: plan
                .empty_dirs
                .iter()
                .filter(|d| !is_in_ascmhl_folder(d) && *d != mhl::ASCMHL_FOLDER)
                .cloned()
                .collect(),
        };
        let generation = mhl::write_generation(&planned.folder, &list)?;
        reports.push(DestinationReport {
            root: planned.root.clone(),
            destination: planned.folder.clone(),
            renamed_from: planned.renamed_from.clone(),
            files,
            mhl: generation,
        });
    }
    let report = OffloadReport {
        card_root: plan.card.clone(),
        destinations: reports,
        not_copied: plan.not_copied.clone(),
        verify: request.verify,
        cache_dropped,
    };
    for d in &report.destinations {
        tracing::info!(
            destination = %d.destination.display(),
            files = d.files.len(),
            failed = d.failed().len(),
            verify = report.verify.as_str(),
            "offload finished"
        );
    }
    Ok(OffloadOutcome::Done(report))
}

#[cfg(test)]
mod tests;
