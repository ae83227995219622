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
//! 2. **Copy**: each source file is read once; its bytes are hashed (xxh64 + md5) and written to a
//!    hidden temp sibling (`.<name>.tmp-<pid>-<n>`) in every destination, fsynced, given the
//!    source's modification time, then renamed to its final name; a crash never leaves a half
//!    file under the final name. An existing final file is never overwritten: same size and
//!    hashes = already copied (resume), anything else is [`OffloadError::ExistingDiffers`].
//! 3. **Verify** ([`VerifyMode`]): by default every copied file is re-read from each destination
//!    drive (its cached pages dropped after the fsync, [`cache`]) and its hashes compared with the
//!    copy pass; `size` only compares sizes and says so. Mismatches are per file and destination
//!    ([`FileStatus::VerifyFailed`]).
//! 4. **Manifest**: an ASC MHL generation (process `transfer`) in each destination folder, each
//!    file with `original` records from the copy pass and `verified`/`failed` records from the
//!    re-read (none in size mode: nothing was hashed again).
//!
//! The source's own `ascmhl/` folder is copied like any file (so its history travels with the
//! media) but never listed in the manifest (the reference tool ignores it too). OS junk
//! ([`plan::JUNK_NAMES`]) stays behind.

pub mod cache;
pub mod plan;
pub mod preflight;
pub mod volume;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, NaiveDate, Utc};

use crate::atomic_write::{TEMP_MARKER, sync_parent, temp_path_for};
use crate::checksum::{self, Algorithm, AlgorithmSet, ChecksumError, Hashes};
use crate::mhl::{self, CreatorInfo, FileEntry, HashAction, HashList, HashRecord, MhlError};

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
            pattern,
            date,
            creator,
            verify: VerifyMode::ReadBack,
            allow_same_volume: false,
            first: Vec::new(),
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
    run(request, cancel, progress, &|_| {}, &mut |_| {})
}

/// [`offload`] with `after_copy` called with each destination file path between copy and verify:
/// a test seam for the ingest engine (its tests corrupt a copy there to prove verification).
pub fn offload_observed(
    request: &OffloadRequest,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(&OffloadProgress) + Send),
    after_copy: &dyn Fn(&Path),
) -> Result<OffloadOutcome, OffloadError> {
    run(request, cancel, progress, after_copy, &mut |_| {})
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
    run(request, cancel, progress, after_copy, on_file)
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
        allow_same_volume: request.allow_same_volume,
    })
    .map(Some)
}

/// One source file's copies, handed from the copying thread to the verifying one: its source
/// hashes and, per destination, whether it was already there and when it was hashed.
struct Copied<'a> {
    file: &'a plan::SourceFile,
    source: Hashes,
    hashed_at: DateTime<Utc>,
    already: Vec<bool>,
}

/// The progress callback, shared by the copying and the verifying thread.
type SharedProgress<'p> = std::sync::Mutex<&'p mut (dyn FnMut(&OffloadProgress) + Send)>;

fn report_progress(progress: &SharedProgress<'_>, p: OffloadProgress) {
    let mut f = progress
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    (*f)(&p)
}

/// The card's files in copy order: the `first` groups' files, then the rest as listed.
fn copy_order<'a>(
    sources: &'a [plan::SourceFile],
    first: &[Vec<String>],
) -> Vec<&'a plan::SourceFile> {
    let index: std::collections::HashMap<&str, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.rel_path.as_str(), i))
        .collect();
    let mut taken = vec![false; sources.len()];
    let mut order = Vec::with_capacity(sources.len());
    for rel in first.iter().flatten() {
        if let Some(&i) = index.get(rel.as_str())
            && !std::mem::replace(&mut taken[i], true)
        {
            order.push(&sources[i]);
        }
    }
    order.extend(
        sources
            .iter()
            .zip(&taken)
            .filter(|(_, t)| !**t)
            .map(|(s, _)| s),
    );
    order
}

fn run(
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
        let list = HashList {
            creator: request.creator.clone(),
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

/// The copying thread: one read per source file in `order`, written to every destination,
/// then handed to the verifier. Returns whether the copies' cached pages were dropped.
fn copy_all<'a>(
    request: &OffloadRequest,
    plan: &preflight::OffloadPlan,
    order: &[&'a plan::SourceFile],
    progress: &SharedProgress<'_>,
    after_copy: &dyn Fn(&Path),
    tx: std::sync::mpsc::SyncSender<Copied<'a>>,
    cancel: &AtomicBool,
) -> Result<bool, OffloadError> {
    let drop_cache = request.verify == VerifyMode::ReadBack;
    let mut cache_dropped = drop_cache && cache::CAN_DROP_CACHE;
    let copy_total = plan.total_bytes();
    let mut copy_base = 0u64;
    for &file in order {
        let src = plan.card.join(&file.rel_path);
        let dsts: Vec<PathBuf> = plan
            .destinations
            .iter()
            .map(|d| d.folder.join(&file.rel_path))
            .collect();
        let mut per_file = |p: checksum::Progress| {
            report_progress(
                progress,
                OffloadProgress {
                    phase: Phase::Copy,
                    file: file.rel_path.clone(),
                    done_bytes: copy_base + p.done_bytes,
                    total_bytes: copy_total,
                },
            )
        };
        let (source, already, hashed_at, dropped) = if file.rel_path == chain_rel_path() {
            chain_to_all(&src, &dsts, cancel, &mut per_file, drop_cache)?
        } else {
            copy_to_all(&src, &dsts, cancel, &mut per_file, drop_cache)?
        };
        cache_dropped &= dropped;
        copy_base += file.size_bytes;
        report_progress(
            progress,
            OffloadProgress {
                phase: Phase::Copy,
                file: file.rel_path.clone(),
                done_bytes: copy_base,
                total_bytes: copy_total,
            },
        );
        for (dst, was_there) in dsts.iter().zip(&already) {
            if !was_there {
                after_copy(dst);
            }
        }
        let copied = Copied {
            file,
            source,
            hashed_at,
            already,
        };
        if tx.send(copied).is_err() {
            // The verifier stopped (its error is the one reported).
            break;
        }
    }
    Ok(cache_dropped)
}

/// Per destination: the files' outcomes and their manifest entries.
type Checked = (Vec<Vec<FileOutcome>>, Vec<Vec<FileEntry>>);

/// The verifying thread: checks each copied file in every destination as it arrives, and
/// reports it through `on_file` once all destinations are checked.
fn verify_all(
    request: &OffloadRequest,
    plan: &preflight::OffloadPlan,
    progress: &SharedProgress<'_>,
    rx: std::sync::mpsc::Receiver<Copied<'_>>,
    on_file: &mut (dyn FnMut(&VerifiedFile) + Send),
    cancel: &AtomicBool,
) -> Result<Checked, OffloadError> {
    let n = plan.destinations.len();
    // Every copy is checked once; one already in place counts as checked when it is met.
    let verify_total = plan.total_bytes() * n as u64;
    let mut verify_base = 0u64;
    let mut outcomes: Vec<Vec<FileOutcome>> = vec![Vec::new(); n];
    let mut entries: Vec<Vec<FileEntry>> = vec![Vec::new(); n];
    for c in rx {
        let mut statuses = Vec::with_capacity(n);
        for (d, planned) in plan.destinations.iter().enumerate() {
            let dst = planned.folder.join(&c.file.rel_path);
            let (status, copy_hashes, verified_at) = if c.already[d] {
                (
                    FileStatus::AlreadyPresent,
                    Some(c.source.clone()),
                    c.hashed_at,
                )
            } else {
                let mut per_file = |p: checksum::Progress| {
                    report_progress(
                        progress,
                        OffloadProgress {
                            phase: Phase::Verify,
                            file: c.file.rel_path.clone(),
                            done_bytes: verify_base + p.done_bytes,
                            total_bytes: verify_total,
                        },
                    )
                };
                let (status, copy) =
                    verify_one(&dst, &c.source, request.verify, cancel, &mut per_file)?;
                (status, copy, Utc::now())
            };
            verify_base += c.file.size_bytes;
            // Also for copies found in place and size-only checks, which read nothing: the
            // bar reaches its total when the last file is checked.
            report_progress(
                progress,
                OffloadProgress {
                    phase: Phase::Verify,
                    file: c.file.rel_path.clone(),
                    done_bytes: verify_base,
                    total_bytes: verify_total,
                },
            );
            if !is_in_ascmhl_folder(&c.file.rel_path) {
                entries[d].push(mhl_entry(
                    &dst,
                    &c.file.rel_path,
                    &c.source,
                    c.hashed_at,
                    copy_hashes.as_ref(),
                    verified_at,
                    &status,
                ));
            }
            outcomes[d].push(FileOutcome {
                rel_path: c.file.rel_path.clone(),
                size_bytes: c.file.size_bytes,
                source: c.source.clone(),
                status: status.clone(),
            });
            statuses.push(status);
        }
        on_file(&VerifiedFile {
            rel_path: c.file.rel_path.clone(),
            source_path: plan.card.join(&c.file.rel_path),
            source: c.source,
            statuses,
        });
    }
    Ok((outcomes, entries))
}

/// Checks one fresh copy against the source hashes ([`VerifyMode`]). Returns the status and the
/// copy's hashes when they were computed.
fn verify_one(
    dst: &Path,
    source: &Hashes,
    mode: VerifyMode,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(checksum::Progress),
) -> Result<(FileStatus, Option<Hashes>), OffloadError> {
    match mode {
        VerifyMode::ReadBack => {
            let copy = checksum::hash_file(dst, AlgorithmSet::DEFAULT, cancel, progress)?;
            let differing = if copy.size_bytes == source.size_bytes {
                source.differing(&copy)
            } else {
                AlgorithmSet::DEFAULT.iter().collect()
            };
            // The verified bytes need not stay in memory (an offload reads hundreds of GB).
            if let Ok(f) = File::open(dst) {
                cache::drop_cached_pages(&f);
            }
            if differing.is_empty() {
                Ok((FileStatus::Verified, Some(copy)))
            } else {
                tracing::error!(path = %dst.display(), ?differing, "copy does not match the card");
                Ok((
                    FileStatus::VerifyFailed {
                        copy: copy.clone(),
                        algorithms: differing,
                    },
                    Some(copy),
                ))
            }
        }
        VerifyMode::Size => {
            let len = std::fs::metadata(dst)
                .map_err(|source| ChecksumError::Read {
                    path: dst.to_path_buf(),
                    source,
                })?
                .len();
            if len == source.size_bytes {
                Ok((FileStatus::SizeMatched, None))
            } else {
                tracing::error!(path = %dst.display(), len, expected = source.size_bytes, "copy has the wrong size");
                Ok((
                    FileStatus::VerifyFailed {
                        copy: Hashes {
                            size_bytes: len,
                            ..Hashes::default()
                        },
                        algorithms: Vec::new(),
                    },
                    None,
                ))
            }
        }
    }
}

fn chain_rel_path() -> String {
    format!("{}/{}", mhl::ASCMHL_FOLDER, mhl::CHAIN_FILE)
}

/// The card's own ASC MHL chain: where an earlier run copied it and then appended its transfer
/// generation, the destination chain must start with the card's entries (it is "already there");
/// where it is missing it is copied like any file.
fn chain_to_all(
    src: &Path,
    dsts: &[PathBuf],
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(checksum::Progress),
    drop_cache: bool,
) -> Result<(Hashes, Vec<bool>, DateTime<Utc>, bool), OffloadError> {
    let source_chain = mhl::read_chain(src)?;
    for dst in dsts.iter().filter(|d| d.exists()) {
        let dest_chain = mhl::read_chain(dst)?;
        if !dest_chain.starts_with(&source_chain) {
            return Err(OffloadError::ExistingDiffers {
                path: dst.clone(),
                detail: "its ASC MHL chain does not continue the card's chain".to_owned(),
            });
        }
    }
    let present: Vec<bool> = dsts.iter().map(|d| d.exists()).collect();
    let (source, dropped) = read_once(src, dsts, &present, cancel, progress, drop_cache)?;
    Ok((source, present, Utc::now(), dropped))
}

fn is_in_ascmhl_folder(rel: &str) -> bool {
    rel.split('/').next() == Some(mhl::ASCMHL_FOLDER) && rel.contains('/')
}

/// Copies one source file to every destination where it is missing, in one read (or recognises
/// earlier identical copies). Returns the source hashes, per destination whether it was already
/// complete, when the source was hashed, and whether the copies' cached pages were dropped.
fn copy_to_all(
    src: &Path,
    dsts: &[PathBuf],
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(checksum::Progress),
    drop_cache: bool,
) -> Result<(Hashes, Vec<bool>, DateTime<Utc>, bool), OffloadError> {
    let src_len = std::fs::metadata(src)
        .map_err(|_| ChecksumError::Vanished {
            path: src.to_path_buf(),
        })?
        .len();
    let mut present = Vec::with_capacity(dsts.len());
    for dst in dsts {
        if let Some(parent) = dst.parent() {
            create_dir(parent)?;
            remove_stale_temps(parent, dst);
        }
        match std::fs::symlink_metadata(dst) {
            Ok(meta) => {
                let differs = |detail: String| OffloadError::ExistingDiffers {
                    path: dst.clone(),
                    detail,
                };
                if !meta.is_file() {
                    return Err(differs("not a regular file".to_owned()));
                }
                if meta.len() != src_len {
                    return Err(differs(format!(
                        "{} bytes there, {src_len} bytes on the card",
                        meta.len()
                    )));
                }
                present.push(true);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => present.push(false),
            Err(source) => {
                return Err(OffloadError::Checksum(ChecksumError::Read {
                    path: dst.clone(),
                    source,
                }));
            }
        }
    }
    let (source, dropped) = read_once(src, dsts, &present, cancel, progress, drop_cache)?;
    let hashed_at = Utc::now();
    // Copies found in place must be byte-identical to the card (resume of an earlier run).
    for (dst, _) in dsts.iter().zip(&present).filter(|(_, p)| **p) {
        let existing = checksum::hash_file(dst, AlgorithmSet::DEFAULT, cancel, &mut |_| {})?;
        let differing = source.differing(&existing);
        if !differing.is_empty() {
            return Err(OffloadError::ExistingDiffers {
                path: dst.clone(),
                detail: format!("same size but different content ({differing:?} differ)"),
            });
        }
        tracing::debug!(path = %dst.display(), "already copied and identical");
    }
    Ok((source, present, hashed_at, dropped))
}

/// The one read of `src`: written to every destination not `present` (hashing on the way), or
/// only hashed when all have it already. Returns the source hashes and whether the fresh copies'
/// cached pages were dropped.
fn read_once(
    src: &Path,
    dsts: &[PathBuf],
    present: &[bool],
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(checksum::Progress),
    drop_cache: bool,
) -> Result<(Hashes, bool), OffloadError> {
    let missing: Vec<PathBuf> = dsts
        .iter()
        .zip(present)
        .filter(|(_, p)| !**p)
        .map(|(d, _)| d.clone())
        .collect();
    if missing.is_empty() {
        let h = checksum::hash_file(src, AlgorithmSet::DEFAULT, cancel, progress)?;
        return Ok((h, true));
    }
    write_copies(src, &missing, cancel, progress, drop_cache)
}

/// Reads `src` once, hashing it and writing each block to a temp sibling of every `dst`; then
/// fsyncs, drops the copies' cached pages (so the verify pass reads the drive) and renames each
/// into place. On error no temp file is left behind.
fn write_copies(
    src: &Path,
    dsts: &[PathBuf],
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(checksum::Progress),
    drop_cache: bool,
) -> Result<(Hashes, bool), OffloadError> {
    let temps: Vec<PathBuf> = dsts.iter().map(|d| temp_path_for(d)).collect();
    let result = write_temps(src, &temps, cancel, progress, drop_cache).and_then(|(h, dropped)| {
        for (tmp, dst) in temps.iter().zip(dsts) {
            finish_copy(src, tmp, dst)?;
        }
        Ok((h, dropped))
    });
    if result.is_err() {
        for tmp in temps.iter().filter(|t| t.exists()) {
            if let Err(err) = std::fs::remove_file(tmp) {
                tracing::warn!(path = %tmp.display(), %err, "cannot remove temp copy");
            }
        }
    }
    result
}

fn write_temps(
    src: &Path,
    temps: &[PathBuf],
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(checksum::Progress),
    drop_cache: bool,
) -> Result<(Hashes, bool), OffloadError> {
    let mut outs = Vec::with_capacity(temps.len());
    for tmp in temps {
        outs.push(
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(tmp)
                .map_err(|source| ChecksumError::Write {
                    path: tmp.clone(),
                    source,
                })?,
        );
    }
    // One read; the digests run on their own threads while each block is written everywhere.
    let hashes =
        checksum::hash_while_writing(src, AlgorithmSet::DEFAULT, cancel, progress, |block| {
            for (out, tmp) in outs.iter_mut().zip(temps) {
                out.write_all(block)
                    .map_err(|source| ChecksumError::Write {
                        path: tmp.clone(),
                        source,
                    })?;
            }
            Ok(())
        })?;
    let mut dropped = true;
    for (out, tmp) in outs.iter().zip(temps) {
        out.sync_all().map_err(|source| ChecksumError::Write {
            path: tmp.clone(),
            source,
        })?;
        if drop_cache {
            dropped &= cache::drop_cached_pages(out);
        }
    }
    Ok((hashes, drop_cache && dropped))
}

/// Gives the temp copy the source's modification time, then renames it into place unless a file
/// appeared there meanwhile, and fsyncs the folder.
fn finish_copy(src: &Path, tmp: &Path, dst: &Path) -> Result<(), OffloadError> {
    let rename_err = |source| OffloadError::Rename {
        from: tmp.to_path_buf(),
        to: dst.to_path_buf(),
        source,
    };
    if let Ok(modified) = std::fs::metadata(src).and_then(|m| m.modified()) {
        let set = std::fs::OpenOptions::new()
            .write(true)
            .open(tmp)
            .and_then(|f| f.set_modified(modified));
        if let Err(err) = set {
            // Not fatal: some network filesystems refuse to set times.
            tracing::debug!(path = %tmp.display(), %err, "cannot set modification time");
        }
    }
    // rename() replaces silently; check first (the per-card journal lock keeps other card-ingest
    // processes out, so the window only matters for foreign writers).
    if std::fs::symlink_metadata(dst).is_ok() {
        return Err(OffloadError::ExistingDiffers {
            path: dst.to_path_buf(),
            detail: "appeared while copying".to_owned(),
        });
    }
    std::fs::rename(tmp, dst).map_err(rename_err)?;
    sync_parent(dst).map_err(rename_err)
}

/// Removes `.<name>.tmp-*` leftovers of an interrupted earlier copy of `dst`.
fn remove_stale_temps(dir: &Path, dst: &Path) {
    let Some(name) = dst.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let prefix = format!(".{name}{TEMP_MARKER}");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        if e.file_name().to_string_lossy().starts_with(&prefix) {
            match std::fs::remove_file(e.path()) {
                Ok(()) => tracing::debug!(path = %e.path().display(), "removed stale temp copy"),
                Err(err) => {
                    tracing::warn!(path = %e.path().display(), %err, "cannot remove stale temp copy")
                }
            }
        }
    }
}

fn create_dir(path: &Path) -> Result<(), OffloadError> {
    std::fs::create_dir_all(path).map_err(|source| OffloadError::CreateDir {
        path: path.to_path_buf(),
        source,
    })
}

/// The manifest entry: `original` records from the copy pass, then `verified` (or `failed`, with the
/// copy's value) records from the re-read. Already-present files get `verified` records only for
/// the comparison done this run, after the `original` ones.
fn mhl_entry(
    dst: &Path,
    rel_path: &str,
    source: &Hashes,
    copied_at: DateTime<Utc>,
    copy: Option<&Hashes>,
    verified_at: DateTime<Utc>,
    status: &FileStatus,
) -> FileEntry {
    let mut hashes = Vec::new();
    for algorithm in AlgorithmSet::DEFAULT.iter() {
        if let Some(v) = source.get(algorithm) {
            hashes.push(HashRecord {
                algorithm,
                value: v.to_owned(),
                action: HashAction::Original,
                hash_date: copied_at,
            });
        }
    }
    // Size-only checks hashed nothing again: the manifest then holds `original` records only.
    for algorithm in AlgorithmSet::DEFAULT.iter() {
        let failed = matches!(status, FileStatus::VerifyFailed { algorithms, .. } if algorithms.contains(&algorithm));
        if let Some(v) = copy.and_then(|c| c.get(algorithm)) {
            hashes.push(HashRecord {
                algorithm,
                value: v.to_owned(),
                action: if failed {
                    HashAction::Failed
                } else {
                    HashAction::Verified
                },
                hash_date: verified_at,
            });
        }
    }
    FileEntry {
        path: rel_path.to_owned(),
        size_bytes: source.size_bytes,
        last_modified: std::fs::metadata(dst)
            .and_then(|m| m.modified())
            .ok()
            .map(DateTime::<Utc>::from),
        hashes,
    }
}

#[cfg(test)]
mod tests;
