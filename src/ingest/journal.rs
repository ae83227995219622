//! Per-card ingest journal: a JSON snapshot plus an append-only log of changes, and a lock file
//! so two processes never ingest the same card at once.
//!
//! - **Where**: `<data dir>/journals/` (`directories::ProjectDirs` for "card-ingest", e.g.
//!   `~/.local/share/card-ingest/journals` on Linux), or any folder via [`JournalStore::at`].
//! - **Name**: a stable [`CardKey`] = xxh64 of the card root's canonical path and the card's
//!   identity (e.g. P2 card serial), as 16 hex digits: `<key>.json` (snapshot), `<key>.jsonl`
//!   (log), `<key>.lock`.
//! - **Snapshot**: `{"format":2,"card_key":…,"saved_at":…,"epoch":…,"state":T}`; `T` is defined
//!   by the engine (any `Serialize + DeserializeOwned`). Written by [`Journal::save`] atomically
//!   via [`crate::atomic_write`] (temp in the same folder, fsync, rename, fsync folder); each save
//!   draws a new random `epoch` and removes the log. Format 1 (the snapshot alone, no `epoch`,
//!   written before the log existed) loads as a snapshot with an empty log.
//! - **Log**: one line per [`Journal::append`], `{"epoch":…,"set":[{"at":[key…],"to":value}…]}`:
//!   each `to` replaces the value at the key path in the snapshot's state (`null` removes the
//!   key: absent and null read the same for optional fields). The writer logs only what changed
//!   in a clip ([`changes_between`]: a step's record, an id), so a step's change costs a few
//!   hundred bytes whatever the card's size — rewriting the whole card on every change made a
//!   400-clip card write 13 GB. A line is written and fsync'd in one go. Lines of another epoch are the leftovers of a crash between a
//!   save and the log's removal and are skipped; a torn last line (kill -9 mid-write) is
//!   dropped, and the next append cuts the file back to the last whole line. When the log
//!   outgrows [`COMPACT_FACTOR`] × the snapshot the caller saves a fresh snapshot
//!   ([`Journal::compaction_due`]): bytes written per change stay ≈ 1.5 records.
//! - Temp leftovers of a crashed save are never read and are removed when the journal is opened.
//! - **Corrupt files** are renamed to `<key>.json.corrupt-<UTC timestamp>` (kept for inspection)
//!   and reported as [`JournalError::Corrupt`]; the next load then starts fresh.
//! - **Lock**: `<key>.lock` created with `create_new`, holding `pid`, `host`, a random token and
//!   the time. A lock whose pid is dead on this host is stale and taken over. Liveness is checked
//!   with `kill(pid, 0)` on Unix (ESRCH = dead; EPERM = alive, owned by another user). On other
//!   systems liveness cannot be checked without extra dependencies, so a lock is assumed live
//!   until [`JournalStore::force_unlock`] (an explicit operator action) removes it. Locks from
//!   another host (shared data dir) are always assumed live. A recycled pid makes a stale lock look
//!   live: the operator then force-unlocks.

use std::fs::File;
use std::io::{Seek, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::atomic_write::{self, TEMP_MARKER};

/// Version of the journal envelope: 2 = snapshot + log.
const FORMAT: u32 = 2;
/// The snapshot-only journals of earlier versions (read, never written).
const FORMAT_SNAPSHOT_ONLY: u32 = 1;
/// The log is folded into a new snapshot once it is this many times the snapshot's size.
pub const COMPACT_FACTOR: u64 = 2;
/// ...and at least this long (a small card's snapshot is rewritten every few dozen changes
/// otherwise, for little gain).
pub const COMPACT_MIN_BYTES: u64 = 256 * 1024;

/// Errors of the journal and its lock; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("no per-user data folder on this system; configure a journal folder explicitly")]
    NoDataDir,
    #[error("card folder not found: {path}")]
    CardNotFound {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create journal folder {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read journal {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write journal {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "journal {path} is corrupt ({message}); kept it as {kept_as} and starting this card afresh"
    )]
    Corrupt {
        path: PathBuf,
        kept_as: PathBuf,
        message: String,
    },
    #[error(
        "journal {path} has format {found}, this version reads format {FORMAT}; update card-ingest"
    )]
    UnsupportedFormat { path: PathBuf, found: u32 },
    #[error("cannot encode journal state for {path}: {source}")]
    Encode {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("card is being ingested by another process ({holder}); lock file {path}")]
    Locked { path: PathBuf, holder: String },
    #[error("cannot create lock file {path}: {source}")]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Stable name of a card's journal: 16 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CardKey(String);

impl CardKey {
    /// xxh64 of the canonical card root path, a NUL, and `identity` (card serial / volume id;
    /// distinguishes two cards mounted at the same path one after the other).
    pub fn for_card(card_root: &Path, identity: &str) -> Result<Self, JournalError> {
        let canonical = crate::canonical::canonicalize(card_root).map_err(|source| {
            JournalError::CardNotFound {
                path: card_root.to_path_buf(),
                source,
            }
        })?;
        let mut data = canonical.to_string_lossy().into_owned().into_bytes();
        data.push(0);
        data.extend_from_slice(identity.as_bytes());
        Ok(Self(format!(
            "{:016x}",
            xxhash_rust::xxh64::xxh64(&data, 0)
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The folder holding all journals.
#[derive(Debug, Clone)]
pub struct JournalStore {
    dir: PathBuf,
}

impl JournalStore {
    /// `<per-user data dir>/journals`.
    pub fn default_location() -> Result<Self, JournalError> {
        let dirs =
            directories::ProjectDirs::from("", "", "card-ingest").ok_or(JournalError::NoDataDir)?;
        Ok(Self::at(dirs.data_dir().join("journals")))
    }

    /// Journals in `dir` (tests, or an operator-chosen folder).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Locks the card's journal for this process and returns it. Fails with
    /// [`JournalError::Locked`] while another live process holds it.
    pub fn open<T>(&self, key: &CardKey) -> Result<Journal<T>, JournalError> {
        std::fs::create_dir_all(&self.dir).map_err(|source| JournalError::CreateDir {
            path: self.dir.clone(),
            source,
        })?;
        let lock = CardLock::acquire(self.dir.join(format!("{key}.lock")))?;
        let path = self.dir.join(format!("{key}.json"));
        remove_temp_leftovers(&path);
        Ok(Journal {
            log_path: path.with_extension("jsonl"),
            path,
            key: key.clone(),
            tail: Mutex::new(Tail::default()),
            _lock: lock,
            _state: PhantomData,
        })
    }

    /// Every readable journal in the folder, without locking (a look, not a claim: resume goes
    /// through [`Self::open`]). Unreadable or foreign files are skipped with a log line.
    pub fn list<T: DeserializeOwned>(&self) -> Vec<(PathBuf, T)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for path in entries.flatten().map(|e| e.path()) {
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let parsed = match read_on_disk(&path, &path.with_extension("jsonl")) {
                Ok(Some(d)) => serde_json::from_value::<T>(d.state).map_err(|e| e.to_string()),
                Ok(None) => continue,
                Err(ReadError::Io(e)) => Err(e.to_string()),
                Err(ReadError::Corrupt(e)) => Err(e),
                Err(ReadError::Format(f)) => Err(format!("journal format {f} not supported")),
            };
            match parsed {
                Ok(state) => out.push((path, state)),
                Err(e) => tracing::debug!(path = %path.display(), "journal skipped: {e}"),
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Removes a card's lock file regardless of its holder (operator action for a lock that
    /// cannot be checked, see module docs).
    pub fn force_unlock(&self, key: &CardKey) -> Result<bool, JournalError> {
        let path = self.dir.join(format!("{key}.lock"));
        match std::fs::remove_file(&path) {
            Ok(()) => {
                tracing::warn!(path = %path.display(), "lock removed by operator");
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(JournalError::Lock { path, source }),
        }
    }
}

/// An open, locked journal of one card. Dropping it releases the lock.
#[derive(Debug)]
pub struct Journal<T> {
    path: PathBuf,
    log_path: PathBuf,
    key: CardKey,
    tail: Mutex<Tail>,
    _lock: CardLock,
    _state: PhantomData<fn() -> T>,
}

/// What the writer knows of the files on disk.
#[derive(Debug, Default)]
struct Tail {
    /// The snapshot's epoch: the log lines that belong to it carry it.
    epoch: u64,
    snapshot_bytes: u64,
    /// Length of the log's whole lines (a torn tail beyond it is cut before the next append).
    log_bytes: u64,
    /// The log, open for appending (closed after a failed append: reopening cuts the tail).
    file: Option<File>,
    /// Every byte this journal wrote (snapshots and log lines), for the bench and the tests.
    written: u64,
}

/// An encoded snapshot, not written yet ([`Journal::snapshot`]).
#[derive(Debug)]
pub struct Snapshot {
    epoch: u64,
    bytes: Vec<u8>,
}

/// One change of an appended log line: the value at the key path `at` becomes `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub at: Vec<String>,
    pub to: serde_json::Value,
}

#[derive(Serialize)]
struct EnvelopeOut<'a, T> {
    format: u32,
    card_key: &'a str,
    saved_at: DateTime<Utc>,
    epoch: u64,
    state: &'a T,
}

#[derive(Deserialize)]
struct EnvelopeIn {
    format: u32,
    /// Absent in format 1 (no log).
    #[serde(default)]
    epoch: u64,
    state: serde_json::Value,
}

#[derive(Serialize)]
struct LineOut<'a> {
    epoch: u64,
    set: &'a [Change],
}

#[derive(Deserialize)]
struct LineIn {
    epoch: u64,
    set: Vec<Change>,
}

/// Why a journal's files could not be read into a state.
enum ReadError {
    Io(std::io::Error),
    Corrupt(String),
    Format(u32),
}

/// The state held by a snapshot and its log, with what the writer needs to go on appending.
struct OnDisk {
    state: serde_json::Value,
    epoch: u64,
    snapshot_bytes: u64,
    log_bytes: u64,
}

/// Reads the snapshot at `path` and replays the log at `log_path` over it (`None`: no
/// snapshot, so nothing was saved yet; a log without one is a leftover and ignored).
fn read_on_disk(path: &Path, log_path: &Path) -> Result<Option<OnDisk>, ReadError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ReadError::Io(e)),
    };
    let envelope: EnvelopeIn =
        serde_json::from_slice(&bytes).map_err(|e| ReadError::Corrupt(e.to_string()))?;
    if envelope.format != FORMAT && envelope.format != FORMAT_SNAPSHOT_ONLY {
        return Err(ReadError::Format(envelope.format));
    }
    let mut state = envelope.state;
    let log = match std::fs::read(log_path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(ReadError::Io(e)),
    };
    let mut log_bytes = 0;
    let mut rest = &log[..];
    while let Some(end) = rest.iter().position(|b| *b == b'\n') {
        let Ok(line) = serde_json::from_slice::<LineIn>(&rest[..end]) else {
            // Only a crash mid-append leaves a bad line, and only as the last one.
            tracing::warn!(log = %log_path.display(), at = log_bytes, "journal log cut at a torn line");
            break;
        };
        if line.epoch == envelope.epoch {
            for change in line.set {
                apply(&mut state, change).map_err(ReadError::Corrupt)?;
            }
        }
        log_bytes += end as u64 + 1;
        rest = &rest[end + 1..];
    }
    Ok(Some(OnDisk {
        state,
        epoch: envelope.epoch,
        snapshot_bytes: bytes.len() as u64,
        log_bytes,
    }))
}

/// The changes that turn `old` (what a load gives at `at`; `None`: unknown) into `new`: objects
/// are compared key by key and arrays of the same length item by item (the key is the index)
/// down to `depth` levels, below that a differing value is replaced whole, and a key `new`
/// lacks is removed (`null`).
pub fn changes_between(
    at: &[String],
    old: Option<&serde_json::Value>,
    new: &serde_json::Value,
    depth: usize,
    out: &mut Vec<Change>,
) {
    use serde_json::Value;
    match (old, new) {
        (Some(o), n) if o == n => {}
        (Some(Value::Object(o)), Value::Object(n)) if depth > 0 => {
            let path = |k: &String| at.iter().cloned().chain([k.clone()]).collect::<Vec<_>>();
            for (k, v) in n {
                changes_between(&path(k), o.get(k), v, depth - 1, out);
            }
            for k in o.keys().filter(|k| !n.contains_key(*k)) {
                out.push(Change {
                    at: path(k),
                    to: Value::Null,
                });
            }
        }
        (Some(Value::Array(o)), Value::Array(n)) if depth > 0 && o.len() == n.len() => {
            for (i, (o, n)) in o.iter().zip(n).enumerate() {
                let at: Vec<String> = at.iter().cloned().chain([i.to_string()]).collect();
                changes_between(&at, Some(o), n, depth - 1, out);
            }
        }
        _ => out.push(Change {
            at: at.to_vec(),
            to: new.clone(),
        }),
    }
}

/// Sets the value at `change.at` (objects on the way are made when missing; in an array the
/// key is an index); `null` removes an object's key.
fn apply(state: &mut serde_json::Value, change: Change) -> Result<(), String> {
    use serde_json::Value;
    let Some((last, parents)) = change.at.split_last() else {
        *state = change.to;
        return Ok(());
    };
    let bad = || format!("log sets {:?} where the state has no such place", change.at);
    let mut at = state;
    for key in parents {
        at = match at {
            Value::Object(o) => o
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Default::default())),
            Value::Array(a) => key
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get_mut(i))
                .ok_or_else(bad)?,
            _ => return Err(bad()),
        };
    }
    match at {
        Value::Object(o) if change.to.is_null() => {
            o.remove(last);
        }
        Value::Object(o) => {
            o.insert(last.clone(), change.to);
        }
        Value::Array(a) => {
            let item = last
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get_mut(i))
                .ok_or_else(bad)?;
            *item = change.to;
        }
        _ => return Err(bad()),
    }
    Ok(())
}

impl<T: Serialize + DeserializeOwned> Journal<T> {
    /// The journal's snapshot file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved state (snapshot and log); `None` when the card has no journal yet.
    pub fn load(&self) -> Result<Option<T>, JournalError> {
        let on_disk = match read_on_disk(&self.path, &self.log_path) {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(None),
            Err(ReadError::Io(source)) => {
                return Err(JournalError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
            Err(ReadError::Corrupt(message)) => return Err(self.quarantine(message)),
            Err(ReadError::Format(found)) => {
                return Err(JournalError::UnsupportedFormat {
                    path: self.path.clone(),
                    found,
                });
            }
        };
        {
            let mut tail = self.tail();
            tail.epoch = on_disk.epoch;
            tail.snapshot_bytes = on_disk.snapshot_bytes;
            tail.log_bytes = on_disk.log_bytes;
            tail.file = None;
        }
        match serde_json::from_value(on_disk.state) {
            Ok(state) => Ok(Some(state)),
            Err(e) => Err(self.quarantine(format!("state does not match: {e}"))),
        }
    }

    /// Replaces the saved state atomically with a snapshot of `state` and drops the log.
    pub fn save(&self, state: &T) -> Result<(), JournalError> {
        let snapshot = self.snapshot(state)?;
        self.write_snapshot(snapshot)
    }

    /// The bytes of a snapshot of `state`, to be written by [`Self::write_snapshot`] (the card
    /// job's writer thread encodes under its lock and writes outside it: [`super::commit`]).
    pub fn snapshot(&self, state: &T) -> Result<Snapshot, JournalError> {
        let epoch = new_epoch(self.tail().epoch);
        let envelope = EnvelopeOut {
            format: FORMAT,
            card_key: self.key.as_str(),
            saved_at: Utc::now(),
            epoch,
            state,
        };
        // Compact, not pretty: `jq .` reads it as well.
        let bytes = serde_json::to_vec(&envelope).map_err(|source| JournalError::Encode {
            path: self.path.clone(),
            source,
        })?;
        Ok(Snapshot { epoch, bytes })
    }

    /// Writes `snapshot` atomically in place of the saved state and drops the log.
    pub fn write_snapshot(&self, snapshot: Snapshot) -> Result<(), JournalError> {
        let mut tail = self.tail();
        atomic_write::write_atomic(&self.path, &snapshot.bytes)
            .map_err(|source| self.write_error(source))?;
        tail.written += snapshot.bytes.len() as u64;
        tail.epoch = snapshot.epoch;
        tail.snapshot_bytes = snapshot.bytes.len() as u64;
        tail.file = None;
        tail.log_bytes = 0;
        // The log's lines carry the old epoch now: a crash before this removal leaves them
        // to be skipped.
        match std::fs::remove_file(&self.log_path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(self.write_error(source)),
        }
    }

    /// Appends `changes` to the log as one line and fsyncs it: on return they survive a crash,
    /// all of them or (torn) none. Needs a snapshot first ([`Self::save`] or [`Self::load`]).
    pub fn append(&self, changes: &[Change]) -> Result<(), JournalError> {
        let mut tail = self.tail();
        let mut line = serde_json::to_vec(&LineOut {
            epoch: tail.epoch,
            set: changes,
        })
        .map_err(|source| JournalError::Encode {
            path: self.log_path.clone(),
            source,
        })?;
        line.push(b'\n');
        let result = self.append_line(&mut tail, &line);
        match result {
            Ok(()) => {
                tail.log_bytes += line.len() as u64;
                tail.written += line.len() as u64;
                Ok(())
            }
            Err(source) => {
                // Reopened next time, which cuts whatever part of the line got written.
                tail.file = None;
                Err(JournalError::Write {
                    path: self.log_path.clone(),
                    source,
                })
            }
        }
    }

    fn append_line(&self, tail: &mut Tail, line: &[u8]) -> std::io::Result<()> {
        if tail.file.is_none() {
            let existed = self.log_path.exists();
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(&self.log_path)?;
            f.set_len(tail.log_bytes)?;
            f.seek(std::io::SeekFrom::Start(tail.log_bytes))?;
            if !existed {
                atomic_write::sync_parent(&self.log_path)?;
            }
            tail.file = Some(f);
        }
        let f = tail.file.as_mut().expect("opened above");
        f.write_all(line)?;
        f.sync_data()
    }

    /// The log has grown past [`COMPACT_FACTOR`] × the snapshot: the next write should be a
    /// [`Self::save`].
    pub fn compaction_due(&self) -> bool {
        let tail = self.tail();
        tail.log_bytes > (COMPACT_FACTOR * tail.snapshot_bytes).max(COMPACT_MIN_BYTES)
    }

    /// Bytes written by this journal so far (snapshots and log lines).
    pub fn bytes_written(&self) -> u64 {
        self.tail().written
    }

    /// Deletes the journal (the card is fully ingested); the lock is released on return.
    pub fn remove(self) -> Result<(), JournalError> {
        for path in [&self.log_path, &self.path] {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(JournalError::Write {
                        path: path.clone(),
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    fn tail(&self) -> std::sync::MutexGuard<'_, Tail> {
        self.tail.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_error(&self, source: std::io::Error) -> JournalError {
        JournalError::Write {
            path: self.path.clone(),
            source,
        }
    }

    /// Moves a corrupt journal (and its log) aside and builds the error reporting it.
    fn quarantine(&self, message: String) -> JournalError {
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let aside = |path: &Path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            path.with_file_name(format!("{name}.corrupt-{stamp}"))
        };
        let kept_as = aside(&self.path);
        if let Err(source) = std::fs::rename(&self.path, &kept_as) {
            return JournalError::Write {
                path: kept_as,
                source,
            };
        }
        if self.log_path.exists()
            && let Err(err) = std::fs::rename(&self.log_path, aside(&self.log_path))
        {
            tracing::warn!(path = %self.log_path.display(), %err, "cannot move a corrupt journal's log aside");
        }
        *self.tail() = Tail::default();
        tracing::error!(path = %self.path.display(), kept_as = %kept_as.display(), %message, "corrupt journal");
        JournalError::Corrupt {
            path: self.path.clone(),
            kept_as,
            message,
        }
    }
}

/// A fresh random epoch, never the current one.
fn new_epoch(current: u64) -> u64 {
    loop {
        let e = rand::random::<u64>();
        if e != current && e != 0 {
            return e;
        }
    }
}

/// Removes `.<name>.tmp-*` files left by a crash during a save (only called with the lock held).
fn remove_temp_leftovers(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let prefix = format!(".{}{TEMP_MARKER}", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        if e.file_name().to_string_lossy().starts_with(&prefix)
            && let Err(err) = std::fs::remove_file(e.path())
        {
            tracing::warn!(path = %e.path().display(), %err, "cannot remove journal temp leftover");
        }
    }
}

/// Content of a lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LockInfo {
    pid: u32,
    host: String,
    token: String,
}

impl LockInfo {
    fn render(&self) -> String {
        format!(
            "pid={}\nhost={}\ntoken={}\nsince={}\n",
            self.pid,
            self.host,
            self.token,
            Utc::now().to_rfc3339()
        )
    }

    fn parse(text: &str) -> Option<Self> {
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::to_owned)
        };
        Some(Self {
            pid: field("pid")?.parse().ok()?,
            host: field("host")?,
            token: field("token")?,
        })
    }
}

/// A held lock file; removed on drop if it is still ours.
#[derive(Debug)]
struct CardLock {
    path: PathBuf,
    token: String,
}

fn this_host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

impl CardLock {
    fn acquire(path: PathBuf) -> Result<Self, JournalError> {
        let me = LockInfo {
            pid: std::process::id(),
            host: this_host(),
            token: uuid::Uuid::new_v4().simple().to_string(),
        };
        // Two rounds: the second after removing a stale lock.
        for _ in 0..2 {
            match create_lock_file(&path, &me.render()) {
                Ok(()) => {
                    return Ok(Self {
                        path,
                        token: me.token,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    match LockInfo::parse(&text) {
                        Some(holder) if is_stale(&holder) => {
                            take_over_stale(&path, &text)?;
                        }
                        Some(holder) => {
                            return Err(JournalError::Locked {
                                path,
                                holder: format!("pid {} on {}", holder.pid, holder.host),
                            });
                        }
                        None if lock_age_secs(&path) > 10 => {
                            // A crash between creating and writing the file: nobody can own it.
                            take_over_stale(&path, &text)?;
                        }
                        None => {
                            return Err(JournalError::Locked {
                                path,
                                holder: "a process that is just starting".to_owned(),
                            });
                        }
                    }
                }
                Err(source) => return Err(JournalError::Lock { path, source }),
            }
        }
        Err(JournalError::Locked {
            path,
            holder: "another process that took over the stale lock first".to_owned(),
        })
    }
}

impl Drop for CardLock {
    fn drop(&mut self) {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        if LockInfo::parse(&text).is_some_and(|i| i.token == self.token) {
            if let Err(err) = std::fs::remove_file(&self.path) {
                tracing::warn!(path = %self.path.display(), %err, "cannot remove lock file");
            }
        } else {
            tracing::warn!(path = %self.path.display(), "lock file was taken over; leaving it");
        }
    }
}

fn create_lock_file(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()
}

fn lock_age_secs(path: &Path) -> u64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .map_or(0, |d| d.as_secs())
}

fn is_stale(holder: &LockInfo) -> bool {
    holder.host == this_host() && !pid_alive(holder.pid)
}

/// Moves a stale lock aside under a unique name, then checks that what was moved is still the
/// stale lock that was judged; if another process replaced it meanwhile, it is put back.
fn take_over_stale(path: &Path, judged: &str) -> Result<(), JournalError> {
    let aside = atomic_write::temp_path_for(path);
    match std::fs::rename(path, &aside) {
        Ok(()) => {}
        // Someone else removed it first; just try to create ours.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(JournalError::Lock {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    let moved = std::fs::read_to_string(&aside).unwrap_or_default();
    if moved != judged {
        // We grabbed a fresh lock of another process: restore it unless a newer one exists.
        if !path.exists()
            && let Err(err) = std::fs::rename(&aside, path)
        {
            tracing::warn!(path = %path.display(), %err, "cannot restore a lock file");
        }
        return Err(JournalError::Locked {
            path: path.to_path_buf(),
            holder: "another process that took over the stale lock first".to_owned(),
        });
    }
    tracing::warn!(path = %path.display(), lock = judged.trim(), "removing stale lock of a dead process");
    if let Err(err) = std::fs::remove_file(&aside) {
        tracing::warn!(path = %aside.display(), %err, "cannot remove stale lock");
    }
    Ok(())
}

/// Whether a process with this pid exists on this machine (see module docs).
#[cfg(unix)]
fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 sends nothing; it only checks that the pid exists and may be
    // signalled.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Not checkable without extra dependencies: assume alive (see module docs).
#[cfg(not(unix))]
fn pid_alive(_pid: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct State {
        step: String,
        done_files: Vec<String>,
        asset_id: Option<u64>,
    }

    fn state(step: &str) -> State {
        State {
            step: step.to_owned(),
            done_files: vec!["CONTENTS/VIDEO/0001AB.MXF".into()],
            asset_id: Some(42),
        }
    }

    fn setup() -> (tempfile::TempDir, JournalStore, CardKey) {
        let dir = tempfile::tempdir().unwrap();
        let card = dir.path().join("CARD01");
        std::fs::create_dir(&card).unwrap();
        let key = CardKey::for_card(&card, "P2-SERIAL-123").unwrap();
        let store = JournalStore::at(dir.path().join("journals"));
        (dir, store, key)
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn card_key_is_stable_and_depends_on_path_and_identity() {
        let dir = tempfile::tempdir().unwrap();
        let card = dir.path().join("CARD01");
        std::fs::create_dir(&card).unwrap();
        let a = CardKey::for_card(&card, "S1").unwrap();
        let via_dots = CardKey::for_card(&card.join("../CARD01"), "S1").unwrap();
        assert_eq!(a, via_dots);
        assert_eq!(a.as_str().len(), 16);
        assert!(a.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, CardKey::for_card(&card, "S2").unwrap());
        assert!(matches!(
            CardKey::for_card(&dir.path().join("nope"), "S1"),
            Err(JournalError::CardNotFound { .. })
        ));
    }

    #[test]
    fn save_load_round_trip_with_envelope() {
        let (_dir, store, key) = setup();
        let journal = store.open::<State>(&key).unwrap();
        assert_eq!(journal.load().unwrap(), None);
        journal.save(&state("offload")).unwrap();
        journal.save(&state("create_asset")).unwrap();
        assert_eq!(journal.load().unwrap(), Some(state("create_asset")));
        assert_eq!(journal.path(), store.dir().join(format!("{key}.json")));
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(journal.path()).unwrap()).unwrap();
        assert_eq!(json["format"], 2);
        assert_eq!(json["card_key"], key.as_str());
        assert_eq!(json["state"]["step"], "create_asset");
        assert_eq!(
            names(store.dir()),
            vec![format!("{key}.json"), format!("{key}.lock")]
        );
        drop(journal);
        // Reopened later (another run): same state, lock released.
        let again = store.open::<State>(&key).unwrap();
        assert_eq!(again.load().unwrap(), Some(state("create_asset")));
        again.remove().unwrap();
        assert!(names(store.dir()).is_empty());
    }

    fn set_step(step: &str) -> Change {
        Change {
            at: vec!["step".into()],
            to: serde_json::json!(step),
        }
    }

    #[test]
    fn appended_changes_replay_over_the_snapshot_until_the_next_save() {
        let (_dir, store, key) = setup();
        let journal = store.open::<State>(&key).unwrap();
        journal.save(&state("offload")).unwrap();
        let snapshot = std::fs::read(journal.path()).unwrap();
        journal.append(&[set_step("create_asset")]).unwrap();
        journal
            .append(&[
                set_step("upload"),
                Change {
                    at: vec!["asset_id".into()],
                    to: serde_json::json!(7),
                },
            ])
            .unwrap();
        assert_eq!(
            std::fs::read(journal.path()).unwrap(),
            snapshot,
            "untouched"
        );
        let log = store.dir().join(format!("{key}.jsonl"));
        assert_eq!(
            std::fs::read_to_string(&log).unwrap().lines().count(),
            2,
            "one line per append"
        );
        let expected = State {
            step: "upload".into(),
            asset_id: Some(7),
            ..state("")
        };
        assert_eq!(journal.load().unwrap(), Some(expected.clone()));
        assert_eq!(
            store.list::<State>()[0].1,
            expected,
            "a look sees the log too"
        );
        // A save folds it in and drops the log; lines of the old epoch left by a crash
        // between the two are skipped.
        let stale = std::fs::read(&log).unwrap();
        journal.save(&state("keyframes")).unwrap();
        assert!(!log.exists());
        assert_eq!(
            journal.bytes_written(),
            (snapshot.len() + stale.len() + std::fs::read(journal.path()).unwrap().len()) as u64,
            "two snapshots and two lines"
        );
        std::fs::write(&log, stale).unwrap();
        assert_eq!(journal.load().unwrap(), Some(state("keyframes")));
    }

    #[test]
    fn changes_are_the_differing_keys_down_to_the_depth() {
        let at = ["clips".to_owned(), "c1".to_owned()];
        let old = serde_json::json!({"name": "A", "steps": {"asset": {"state": "running"},
            "format": {"state": "pending"}}, "asset_id": "x", "files": [{"n": 1}, {"n": 2}]});
        let new = serde_json::json!({"name": "A", "steps": {"asset": {"state": "done"},
            "format": {"state": "pending"}}, "files": [{"n": 1}, {"n": 3}], "ids": [7]});
        let mut out = Vec::new();
        changes_between(&at, Some(&old), &new, 2, &mut out);
        let mut got: Vec<(String, serde_json::Value)> =
            out.iter().map(|c| (c.at.join("/"), c.to.clone())).collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            vec![
                ("clips/c1/asset_id".into(), serde_json::Value::Null),
                ("clips/c1/files/1".into(), serde_json::json!({"n": 3})),
                ("clips/c1/ids".into(), serde_json::json!([7])),
                (
                    "clips/c1/steps/asset".into(),
                    serde_json::json!({"state": "done"})
                ),
            ]
        );
        // Replayed over the old value they give the new one.
        let mut state = serde_json::json!({"clips": {"c1": old}});
        for c in out {
            apply(&mut state, c).unwrap();
        }
        assert_eq!(state["clips"]["c1"], new);
        // Unknown before: the whole value.
        let mut whole = Vec::new();
        changes_between(&at, None, &new, 2, &mut whole);
        assert_eq!(whole.len(), 1);
        assert_eq!(whole[0].to, new);
    }

    #[test]
    fn a_format_1_journal_loads_and_goes_on_as_format_2() {
        let (_dir, store, key) = setup();
        std::fs::create_dir_all(store.dir()).unwrap();
        let old = serde_json::json!({
            "format": 1,
            "card_key": key.as_str(),
            "saved_at": "2026-11-30T10:00:00Z",
            "state": state("proxy"),
        });
        std::fs::write(
            store.dir().join(format!("{key}.json")),
            serde_json::to_vec(&old).unwrap(),
        )
        .unwrap();
        let journal = store.open::<State>(&key).unwrap();
        assert_eq!(journal.load().unwrap(), Some(state("proxy")));
        journal.append(&[set_step("upload")]).unwrap();
        assert_eq!(journal.load().unwrap(), Some(state("upload")));
        journal.save(&state("close")).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(journal.path()).unwrap()).unwrap();
        assert_eq!(json["format"], 2);
        assert_eq!(journal.load().unwrap(), Some(state("close")));
    }

    #[test]
    fn temp_leftover_of_a_crashed_save_is_ignored_and_cleaned() {
        let (_dir, store, key) = setup();
        let journal = store.open::<State>(&key).unwrap();
        journal.save(&state("offload")).unwrap();
        drop(journal);
        // A crash mid-save leaves a torn temp file next to the intact journal.
        let leftover = store.dir().join(format!(".{key}.json.tmp-4242-7"));
        std::fs::write(&leftover, b"{\"format\":1,\"state\":{\"st").unwrap();
        let journal = store.open::<State>(&key).unwrap();
        assert_eq!(journal.load().unwrap(), Some(state("offload")));
        assert!(!leftover.exists(), "leftover removed on open");
    }

    #[test]
    fn corrupt_journal_is_kept_aside_and_reported() {
        let (_dir, store, key) = setup();
        let journal = store.open::<State>(&key).unwrap();
        std::fs::write(journal.path(), b"{ not json").unwrap();
        match journal.load() {
            Err(JournalError::Corrupt { path, kept_as, .. }) => {
                assert_eq!(path, journal.path());
                let kept_name = kept_as.file_name().unwrap().to_string_lossy().into_owned();
                assert!(
                    kept_name.starts_with(&format!("{key}.json.corrupt-")),
                    "{kept_name}"
                );
                assert_eq!(std::fs::read(&kept_as).unwrap(), b"{ not json");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        assert!(!journal.path().exists());
        assert_eq!(journal.load().unwrap(), None, "starts afresh");

        // Valid JSON whose state does not fit T is corrupt too.
        std::fs::write(journal.path(), br#"{"format":1,"state":{"step":3}}"#).unwrap();
        assert!(matches!(journal.load(), Err(JournalError::Corrupt { .. })));
        // A newer format is not "corrupt": it is kept in place.
        std::fs::write(journal.path(), br#"{"format":3,"state":{}}"#).unwrap();
        assert!(matches!(
            journal.load(),
            Err(JournalError::UnsupportedFormat { found: 3, .. })
        ));
        assert!(journal.path().exists());
    }

    #[test]
    fn second_open_is_locked_until_the_first_is_dropped() {
        let (_dir, store, key) = setup();
        let first = store.open::<State>(&key).unwrap();
        match store.open::<State>(&key) {
            Err(JournalError::Locked { holder, path }) => {
                assert_eq!(
                    holder,
                    format!("pid {} on {}", std::process::id(), this_host())
                );
                assert_eq!(path, store.dir().join(format!("{key}.lock")));
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(first);
        assert!(store.open::<State>(&key).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn lock_of_live_process_holds_and_of_dead_process_is_taken_over() {
        let (_dir, store, key) = setup();
        std::fs::create_dir_all(store.dir()).unwrap();
        let lock_path = store.dir().join(format!("{key}.lock"));
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("coreutils `sleep` must be installed");
        let foreign = LockInfo {
            pid: child.id(),
            host: this_host(),
            token: "other".into(),
        };
        std::fs::write(&lock_path, foreign.render()).unwrap();
        match store.open::<State>(&key) {
            Err(JournalError::Locked { holder, .. }) => {
                assert_eq!(holder, format!("pid {} on {}", child.id(), this_host()));
            }
            other => panic!(
                "expected Locked while pid {} lives, got {other:?}",
                child.id()
            ),
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // Now the pid is dead: the stale lock is replaced by ours.
        let journal = store.open::<State>(&key).unwrap();
        let info = LockInfo::parse(&std::fs::read_to_string(&lock_path).unwrap()).unwrap();
        assert_eq!(info.pid, std::process::id());
        drop(journal);
        assert!(!lock_path.exists());

        // A lock from another host cannot be checked: it holds until force_unlock.
        let remote = LockInfo {
            pid: 1,
            host: "other-host".into(),
            token: "t".into(),
        };
        std::fs::write(&lock_path, remote.render()).unwrap();
        assert!(matches!(
            store.open::<State>(&key),
            Err(JournalError::Locked { .. })
        ));
        assert!(store.force_unlock(&key).unwrap());
        assert!(store.open::<State>(&key).is_ok());
    }

    #[test]
    fn default_location_is_under_the_data_dir() {
        let store = JournalStore::default_location().unwrap();
        assert!(
            store.dir().ends_with("card-ingest/journals"),
            "{}",
            store.dir().display()
        );
        assert!(store.dir().is_absolute());
    }
}
