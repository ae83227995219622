//! "Check copies": every file of one or more destination folders re-read against their ASC MHL
//! history, a file that no longer matches repaired from the card (when it is still mounted) or
//! from another given destination whose copy still matches, and the check recorded as a new
//! generation (process `in-place`) in each destination.
//!
//! What a file must match: its `original` records, the earliest one per algorithm over all
//! generations (what the reference `ascmhl verify` compares with); a file only ever recorded as
//! `verified` is held to its newest record. Where it came from: the transfer generation's
//! creator comment (`source: <card folder>`, written by [`super::offload_each`]) names the card;
//! a caller may name another card folder ([`RecheckRequest::card`]).
//!
//! A repair never overwrites in place: the good bytes go to a temp sibling (hashed on the way,
//! so a source that changed since its check is caught), are fsynced, re-read from the drive and
//! compared once more, then renamed over the bad file. The new generation records each file
//! `verified`; a repaired file also carries a `failed` record with what the bad copy hashed to,
//! and a file that could not be repaired carries only `failed` records (a missing one is not
//! listed), so the history shows the check, the damage and the repair.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, Utc};

use super::{cache, plan};
use crate::atomic_write::{TEMP_MARKER, sync_parent, temp_path_for};
use crate::checksum::{self, Algorithm, AlgorithmSet, ChecksumError, Hashes};
use crate::mhl::{self, CreatorInfo, FileEntry, HashAction, HashList, HashRecord, MhlError};

/// The line of a transfer generation's creator comment that names the copy's source folder.
pub const SOURCE_COMMENT_PREFIX: &str = "source: ";

/// The creator comment of a transfer generation copied from `source` (kept after any comment the
/// caller set).
pub fn comment_with_source(comment: Option<&str>, source: &Path) -> String {
    let line = format!("{SOURCE_COMMENT_PREFIX}{}", source.display());
    match comment {
        Some(c) if !c.is_empty() => format!("{c}\n{line}"),
        _ => line,
    }
}

/// The source folder a generation's creator comment names, if any.
pub fn source_from_comment(creator: &CreatorInfo) -> Option<PathBuf> {
    creator
        .comment
        .as_deref()?
        .lines()
        .find_map(|l| l.trim().strip_prefix(SOURCE_COMMENT_PREFIX))
        .map(PathBuf::from)
}

/// What to check.
#[derive(Debug, Clone)]
pub struct RecheckRequest {
    /// Card folders at their destinations (each holds an `ascmhl/` history).
    pub destinations: Vec<PathBuf>,
    /// The card to repair from; `None`: the one the destinations' transfer generations name,
    /// when it is still there.
    pub card: Option<PathBuf>,
    /// Creator info of the new generations.
    pub creator: CreatorInfo,
}

impl RecheckRequest {
    pub fn new(destinations: Vec<PathBuf>) -> Self {
        Self {
            destinations,
            card: None,
            creator: CreatorInfo::this_tool(),
        }
    }
}

/// What was wrong with a destination's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Recorded in the history, absent from the folder.
    Missing,
    /// Its size is not the recorded one.
    SizeDiffers { recorded: u64, found: u64 },
    /// Its bytes hash differently from the record.
    HashDiffers { algorithms: Vec<Algorithm> },
    /// It could not be read.
    Unreadable { message: String },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Missing => f.write_str("missing"),
            Problem::SizeDiffers { recorded, found } => {
                write!(f, "{found} bytes, the MHL records {recorded}")
            }
            Problem::HashDiffers { algorithms } => {
                let names: Vec<&str> = algorithms.iter().map(|a| a.mhl_name()).collect();
                write!(f, "content changed ({} differ)", names.join(", "))
            }
            Problem::Unreadable { message } => write!(f, "unreadable: {message}"),
        }
    }
}

/// What happens during a check, in order, for the window's progress and log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecheckEvent {
    /// A file is about to be re-read (`index` of `total` over all destinations, 1-based).
    Checking {
        destination: PathBuf,
        rel_path: String,
        index: usize,
        total: usize,
    },
    /// A file does not match its record.
    Mismatch {
        destination: PathBuf,
        rel_path: String,
        problem: Problem,
    },
    /// A file was replaced by a good copy from `from` (a file path).
    Repaired {
        destination: PathBuf,
        rel_path: String,
        from: PathBuf,
    },
    /// No good copy was found (or writing it failed).
    NotRepaired {
        destination: PathBuf,
        rel_path: String,
        reason: String,
    },
    /// The check's generation was written.
    GenerationWritten {
        destination: PathBuf,
        generation: mhl::Generation,
    },
}

/// One file that did not match, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFinding {
    pub rel_path: String,
    pub problem: Problem,
    /// The file the good copy came from; `None`: not repaired (see `reason`).
    pub repaired_from: Option<PathBuf>,
    pub reason: Option<String>,
}

/// The check of one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationCheck {
    pub destination: PathBuf,
    /// The card its copy came from, as recorded (it may no longer be mounted).
    pub recorded_source: Option<PathBuf>,
    pub files_checked: usize,
    pub bytes_checked: u64,
    /// Files that did not match, repaired or not.
    pub findings: Vec<FileFinding>,
    /// The generation recording this check.
    pub generation: mhl::Generation,
}

impl DestinationCheck {
    pub fn repaired(&self) -> impl Iterator<Item = &FileFinding> {
        self.findings.iter().filter(|f| f.repaired_from.is_some())
    }

    pub fn unrepaired(&self) -> impl Iterator<Item = &FileFinding> {
        self.findings.iter().filter(|f| f.repaired_from.is_none())
    }
}

/// The "Check copies" outcome: what the window and the report show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecheckReport {
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub destinations: Vec<DestinationCheck>,
}

impl RecheckReport {
    /// Whether every recorded file of every destination matches now (after repairs).
    pub fn all_match(&self) -> bool {
        self.destinations
            .iter()
            .all(|d| d.unrepaired().next().is_none())
    }

    pub fn files_checked(&self) -> usize {
        self.destinations.iter().map(|d| d.files_checked).sum()
    }

    pub fn repaired_count(&self) -> usize {
        self.destinations.iter().map(|d| d.repaired().count()).sum()
    }

    pub fn unrepaired_count(&self) -> usize {
        self.destinations
            .iter()
            .map(|d| d.unrepaired().count())
            .sum()
    }

    /// One line for logs, notifications and the window's status.
    pub fn summary(&self) -> String {
        format!(
            "checked {} files in {} destination(s): {} repaired, {} could not be repaired",
            self.files_checked(),
            self.destinations.len(),
            self.repaired_count(),
            self.unrepaired_count()
        )
    }
}

/// Why a check could not run (a file that does not match is a finding, not an error).
#[derive(Debug, thiserror::Error)]
pub enum RecheckError {
    #[error("destination folder not found or not a folder: {path}")]
    NotFound { path: PathBuf },
    #[error(
        "{path} has no ASC MHL history (no ascmhl/ascmhl_chain.xml): give the card's folder at the destination, the one holding ascmhl/"
    )]
    NoHistory { path: PathBuf },
    #[error("destination {path} is given twice; give each destination once")]
    Duplicate { path: PathBuf },
    #[error("cannot read or write the ASC MHL history: {0}")]
    Mhl(#[from] MhlError),
    #[error("check cancelled")]
    Cancelled,
}

/// A file's record: size and one value per algorithm.
#[derive(Debug, Clone)]
struct Expected {
    size: u64,
    values: Vec<(Algorithm, String)>,
}

impl Expected {
    fn algorithms(&self) -> AlgorithmSet {
        self.values
            .iter()
            .fold(AlgorithmSet::EMPTY, |s, (a, _)| s.with(*a))
    }

    /// Algorithms whose value in `hashes` differs from the record.
    fn differing(&self, hashes: &Hashes) -> Vec<Algorithm> {
        self.values
            .iter()
            .filter(|(a, v)| hashes.get(*a) != Some(v.as_str()))
            .map(|(a, _)| *a)
            .collect()
    }
}

/// One destination, loaded.
struct Loaded {
    root: PathBuf,
    history: mhl::History,
    expected: BTreeMap<String, Expected>,
    source: Option<PathBuf>,
}

/// The re-read of one file: what it hashed to (when it could be read) and what is wrong with it.
#[derive(Debug, Clone)]
struct Checked {
    hashes: Option<Hashes>,
    problem: Option<Problem>,
}

/// Per file of a destination: the result of its re-read.
type CheckResults = BTreeMap<String, Checked>;

/// Checks (and repairs) every destination of `request`; see the module docs. `on_event` gets
/// every [`RecheckEvent`] as it happens; `cancel` stops between files and blocks.
pub fn recheck(
    request: &RecheckRequest,
    cancel: &AtomicBool,
    on_event: &mut dyn FnMut(&RecheckEvent),
) -> Result<RecheckReport, RecheckError> {
    let started = Utc::now();
    let mut loaded = Vec::with_capacity(request.destinations.len());
    for given in &request.destinations {
        let root = crate::canonical::canonicalize(given)
            .ok()
            .filter(|p| p.is_dir())
            .ok_or_else(|| RecheckError::NotFound {
                path: given.clone(),
            })?;
        if loaded.iter().any(|l: &Loaded| l.root == root) {
            return Err(RecheckError::Duplicate {
                path: given.clone(),
            });
        }
        let history = mhl::read_history(&root)?
            .ok_or_else(|| RecheckError::NoHistory { path: root.clone() })?;
        let expected = expected_files(&history);
        let source = history
            .generations
            .iter()
            .rev()
            .find_map(|(_, list)| source_from_comment(&list.creator));
        loaded.push(Loaded {
            root,
            history,
            expected,
            source,
        });
    }

    // Every copy is read before any is repaired: a repair source must itself have matched.
    let total: usize = loaded.iter().map(|l| l.expected.len()).sum();
    let mut index = 0;
    let mut results: Vec<CheckResults> = Vec::with_capacity(loaded.len());
    for l in &loaded {
        let mut checked = BTreeMap::new();
        for (rel, expected) in &l.expected {
            index += 1;
            on_event(&RecheckEvent::Checking {
                destination: l.root.clone(),
                rel_path: rel.clone(),
                index,
                total,
            });
            let result = check_file(&l.root.join(rel), expected, cancel)?;
            if let Some(problem) = &result.problem {
                tracing::warn!(destination = %l.root.display(), file = %rel, %problem, "copy does not match its ASC MHL record");
                on_event(&RecheckEvent::Mismatch {
                    destination: l.root.clone(),
                    rel_path: rel.clone(),
                    problem: problem.clone(),
                });
            }
            checked.insert(rel.clone(), result);
        }
        results.push(checked);
    }

    let mut destinations = Vec::with_capacity(loaded.len());
    for (i, l) in loaded.iter().enumerate() {
        let mut findings = Vec::new();
        let mut repaired_hashes: BTreeMap<String, Hashes> = BTreeMap::new();
        let problems: Vec<(String, Problem)> = results[i]
            .iter()
            .filter_map(|(rel, c)| c.problem.clone().map(|p| (rel.clone(), p)))
            .collect();
        for (rel, problem) in problems {
            let expected = &l.expected[&rel];
            let card = request.card.as_ref().or(l.source.as_ref());
            let candidates = repair_candidates(card, &loaded, &results, i, &rel, expected);
            let mut reasons = Vec::new();
            let mut done = None;
            for from in candidates {
                match repair_file(&from, &l.root.join(&rel), expected, cancel) {
                    Ok(hashes) => {
                        done = Some((from, hashes));
                        break;
                    }
                    Err(RepairError::Cancelled) => return Err(RecheckError::Cancelled),
                    Err(RepairError::Failed(reason)) => {
                        reasons.push(format!("{}: {reason}", from.display()))
                    }
                }
            }
            match done {
                Some((from, hashes)) => {
                    tracing::info!(destination = %l.root.display(), file = %rel, from = %from.display(), "repaired copy");
                    on_event(&RecheckEvent::Repaired {
                        destination: l.root.clone(),
                        rel_path: rel.clone(),
                        from: from.clone(),
                    });
                    repaired_hashes.insert(rel.clone(), hashes);
                    findings.push(FileFinding {
                        rel_path: rel,
                        problem,
                        repaired_from: Some(from),
                        reason: None,
                    });
                }
                None => {
                    let reason = if reasons.is_empty() {
                        match card {
                            Some(c) => format!(
                                "no good copy: the card {} does not hold it (not mounted?) and no other given destination's copy matches",
                                c.display()
                            ),
                            None => "no good copy: the card is not recorded and no other given destination's copy matches".to_owned(),
                        }
                    } else {
                        format!("no good copy: {}", reasons.join("; "))
                    };
                    tracing::error!(destination = %l.root.display(), file = %rel, %reason, "copy could not be repaired");
                    on_event(&RecheckEvent::NotRepaired {
                        destination: l.root.clone(),
                        rel_path: rel.clone(),
                        reason: reason.clone(),
                    });
                    findings.push(FileFinding {
                        rel_path: rel,
                        problem,
                        repaired_from: None,
                        reason: Some(reason),
                    });
                }
            }
        }
        let list = check_generation(request, l, &results[i], &repaired_hashes, &findings);
        let generation = mhl::write_generation(&l.root, &list)?;
        on_event(&RecheckEvent::GenerationWritten {
            destination: l.root.clone(),
            generation: generation.clone(),
        });
        destinations.push(DestinationCheck {
            destination: l.root.clone(),
            recorded_source: l.source.clone(),
            files_checked: l.expected.len(),
            bytes_checked: l.expected.values().map(|e| e.size).sum(),
            findings,
            generation,
        });
    }
    let report = RecheckReport {
        started,
        finished: Utc::now(),
        destinations,
    };
    tracing::info!(summary = %report.summary(), "check copies finished");
    Ok(report)
}

/// Path → record: the earliest `original` value per algorithm over all generations (as the
/// reference tool verifies), else the newest `verified` one.
fn expected_files(history: &mhl::History) -> BTreeMap<String, Expected> {
    let mut original: BTreeMap<String, Expected> = BTreeMap::new();
    let mut verified: BTreeMap<String, Expected> = BTreeMap::new();
    for (_, list) in &history.generations {
        for f in &list.files {
            for h in &f.hashes {
                let (map, keep_first) = match h.action {
                    HashAction::Original => (&mut original, true),
                    HashAction::Verified => (&mut verified, false),
                    HashAction::Failed => continue,
                };
                let e = map.entry(f.path.clone()).or_insert_with(|| Expected {
                    size: f.size_bytes,
                    values: Vec::new(),
                });
                match e.values.iter_mut().find(|(a, _)| *a == h.algorithm) {
                    Some(slot) if !keep_first => {
                        slot.1 = h.value.clone();
                        e.size = f.size_bytes;
                    }
                    Some(_) => {}
                    None => e.values.push((h.algorithm, h.value.clone())),
                }
            }
        }
    }
    for (path, e) in verified {
        original.entry(path).or_insert(e);
    }
    original
}

/// Re-reads `path` and compares it with its record; the error only for a cancel.
fn check_file(
    path: &Path,
    expected: &Expected,
    cancel: &AtomicBool,
) -> Result<Checked, RecheckError> {
    let bad = |problem, hashes| Checked {
        hashes,
        problem: Some(problem),
    };
    let found = match std::fs::metadata(path) {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => {
            let message = "not a regular file".to_owned();
            return Ok(bad(Problem::Unreadable { message }, None));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(bad(Problem::Missing, None));
        }
        Err(e) => {
            let message = e.to_string();
            return Ok(bad(Problem::Unreadable { message }, None));
        }
    };
    match checksum::hash_file(path, expected.algorithms(), cancel, &mut |_| {}) {
        Ok(hashes) => {
            if found != expected.size {
                let problem = Problem::SizeDiffers {
                    recorded: expected.size,
                    found,
                };
                return Ok(bad(problem, Some(hashes)));
            }
            let algorithms = expected.differing(&hashes);
            Ok(if algorithms.is_empty() {
                Checked {
                    hashes: Some(hashes),
                    problem: None,
                }
            } else {
                bad(Problem::HashDiffers { algorithms }, Some(hashes))
            })
        }
        Err(ChecksumError::Cancelled { .. }) => Err(RecheckError::Cancelled),
        Err(e) => Ok(bad(
            Problem::Unreadable {
                message: e.to_string(),
            },
            None,
        )),
    }
}

/// Where a good copy of `rel` may come from, in order: the card (when it still holds the file),
/// then every other destination whose copy matched its own record and records the same values.
fn repair_candidates(
    card: Option<&PathBuf>,
    loaded: &[Loaded],
    results: &[CheckResults],
    this: usize,
    rel: &str,
    expected: &Expected,
) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(card) = card {
        let p = card.join(rel);
        if p.is_file() {
            out.push(p);
        }
    }
    for (j, other) in loaded.iter().enumerate() {
        if j == this {
            continue;
        }
        let (Some(Checked { problem: None, .. }), Some(theirs)) =
            (results[j].get(rel), other.expected.get(rel))
        else {
            continue;
        };
        let agrees = theirs.size == expected.size
            && expected
                .values
                .iter()
                .any(|(a, v)| theirs.values.iter().any(|(b, w)| a == b && v == w))
            && expected
                .values
                .iter()
                .all(|(a, v)| theirs.values.iter().all(|(b, w)| a != b || v == w));
        if agrees {
            out.push(other.root.join(rel));
        }
    }
    out
}

enum RepairError {
    Cancelled,
    Failed(String),
}

/// Replaces `dst` with `src`'s bytes when they match the record (see module docs). Returns the
/// hashes of the repaired file as re-read.
fn repair_file(
    src: &Path,
    dst: &Path,
    expected: &Expected,
    cancel: &AtomicBool,
) -> Result<Hashes, RepairError> {
    let failed = |m: String| RepairError::Failed(m);
    let from_checksum = |e: ChecksumError| match e {
        ChecksumError::Cancelled { .. } => RepairError::Cancelled,
        other => RepairError::Failed(other.to_string()),
    };
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| failed(format!("cannot create {}: {e}", parent.display())))?;
    }
    let tmp = temp_path_for(dst);
    let result = (|| {
        let copied = checksum::copy_hashing(src, &tmp, expected.algorithms(), cancel, &mut |_| {})
            .map_err(from_checksum)?;
        let differ = expected.differing(&copied);
        if copied.size_bytes != expected.size || !differ.is_empty() {
            return Err(failed(
                "its copy does not match the MHL record either".to_owned(),
            ));
        }
        let file = std::fs::File::open(&tmp)
            .map_err(|e| failed(format!("cannot open {}: {e}", tmp.display())))?;
        // The re-read below must come from the drive, not from the pages just written.
        cache::drop_cached_pages(&file);
        drop(file);
        let reread = checksum::hash_file(&tmp, expected.algorithms(), cancel, &mut |_| {})
            .map_err(from_checksum)?;
        if !expected.differing(&reread).is_empty() {
            return Err(failed(format!(
                "the repaired copy read back wrong from {}",
                tmp.display()
            )));
        }
        if let Ok(modified) = std::fs::metadata(src).and_then(|m| m.modified())
            && let Err(err) = std::fs::OpenOptions::new()
                .write(true)
                .open(&tmp)
                .and_then(|f| f.set_modified(modified))
        {
            tracing::debug!(path = %tmp.display(), %err, "cannot set modification time");
        }
        std::fs::rename(&tmp, dst)
            .map_err(|e| failed(format!("cannot move the repaired copy into place: {e}")))?;
        sync_parent(dst).map_err(|e| failed(format!("cannot sync {}: {e}", dst.display())))?;
        Ok(reread)
    })();
    if result.is_err()
        && tmp.exists()
        && let Err(err) = std::fs::remove_file(&tmp)
    {
        tracing::warn!(path = %tmp.display(), %err, "cannot remove temp copy");
    }
    result
}

/// The generation recording the check of one destination (see module docs).
fn check_generation(
    request: &RecheckRequest,
    l: &Loaded,
    results: &CheckResults,
    repaired: &BTreeMap<String, Hashes>,
    findings: &[FileFinding],
) -> HashList {
    let now = Utc::now();
    let mut files = Vec::with_capacity(l.expected.len());
    for (rel, expected) in &l.expected {
        let record = |algorithm, value: &str, action| HashRecord {
            algorithm,
            value: value.to_owned(),
            action,
            hash_date: now,
        };
        // What a damaged copy hashed to, kept as `failed` records (none when it was missing).
        let failed: Vec<HashRecord> = match results.get(rel) {
            Some(Checked {
                problem: Some(_),
                hashes: Some(bad),
            }) => expected
                .values
                .iter()
                .filter_map(|(a, _)| bad.get(*a).map(|v| record(*a, v, HashAction::Failed)))
                .collect(),
            _ => Vec::new(),
        };
        let good =
            results.get(rel).is_some_and(|c| c.problem.is_none()) || repaired.contains_key(rel);
        let mut hashes = failed;
        if good {
            hashes.extend(
                expected
                    .values
                    .iter()
                    .map(|(a, value)| record(*a, value, HashAction::Verified)),
            );
        }
        if hashes.is_empty() {
            continue;
        }
        let last_modified = std::fs::metadata(l.root.join(rel))
            .and_then(|m| m.modified())
            .ok()
            .map(DateTime::<Utc>::from);
        files.push(FileEntry {
            path: rel.clone(),
            size_bytes: expected.size,
            last_modified,
            hashes,
        });
    }
    let mut creator = request.creator.clone();
    creator.creation_date = now;
    creator.comment = Some(check_comment(findings));
    HashList {
        creator,
        process: mhl::Process::InPlace,
        ignore_patterns: l
            .history
            .latest()
            .map(|h| h.ignore_patterns.clone())
            .unwrap_or_default(),
        files,
        empty_directories: folders_under(&l.root),
    }
}

/// The generation's comment: what was checked and repaired, for a human reading the history.
fn check_comment(findings: &[FileFinding]) -> String {
    let mut lines = vec!["card-ingest check copies".to_owned()];
    for f in findings {
        match &f.repaired_from {
            Some(from) => lines.push(format!(
                "repaired {} ({}) from {}",
                f.rel_path,
                f.problem,
                from.display()
            )),
            None => lines.push(format!("NOT repaired {} ({})", f.rel_path, f.problem)),
        }
    }
    lines.join("\n")
}

/// Every folder below `root` (relative, `/`), except the history and OS junk: the generation's
/// folder hashes must cover empty folders as the transfer generation did.
fn folders_under(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .min_depth(1)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            !(plan::is_junk(&name) || (e.depth() == 1 && name == mhl::ASCMHL_FOLDER))
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir())
        .filter(|e| !e.file_name().to_string_lossy().contains(TEMP_MARKER))
        .filter_map(|e| {
            let rel: Vec<String> = e
                .path()
                .strip_prefix(root)
                .ok()?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            Some(rel.join("/"))
        })
        .collect()
}
