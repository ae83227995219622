//! Group commit of a card job's journal.
//!
//! Every step is journaled before and after it runs, and its calls save what they learn (ids,
//! upload offsets): about 800 saves for a 20-clip card, each a 100 KB write, an fsync and a
//! rename plus the folder's fsync. Saved inline, each blocked a runtime worker for its fsyncs
//! (≈ 1 s of 6 on the API path here), and with two workers the HTTP answers and the pacer's
//! timers waited behind them.
//!
//! [`CardJournal`] keeps the record in memory and writes it from one thread of its own: a
//! change bumps a generation, the writer writes the newest record (every change made while the
//! previous write was under way goes in one write), and [`CardJournal::update`] waits,
//! without holding a worker, until a write holding its change is on disk. So "journaled before
//! the step runs" means what it meant, and a kill -9 at any point finds on disk at least every
//! change that some caller was told was saved.

use super::journal::{Journal, JournalError};
use super::record::{CardRecord, ClipRecord};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use tokio::sync::watch;

/// What the writer has made durable.
#[derive(Debug, Clone, Default)]
struct Durable {
    /// Every change up to this generation is on disk.
    generation: u64,
    /// The last write's failure (cleared by the next good one), with the generation it was
    /// to make durable: the waiters for that one and older ones get it.
    failed: Option<(u64, std::io::ErrorKind, String)>,
}

struct State {
    journal: Journal<CardRecord>,
    record: CardRecord,
    /// Generation of the newest change.
    dirty: u64,
    stop: bool,
}

struct Inner {
    state: Mutex<State>,
    wake: Condvar,
    durable: watch::Sender<Durable>,
    /// The same for the few callers that cannot await ([`CardJournal::update_blocking`]).
    durable_now: Mutex<Durable>,
    durable_cv: Condvar,
    path: PathBuf,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The card's journal and record, written by a thread of its own (see the module docs).
/// Dropping it writes the last changes and stops the thread.
pub(crate) struct CardJournal {
    inner: Arc<Inner>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for CardJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardJournal")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl CardJournal {
    /// Takes over `journal` with `record` (already saved by the caller).
    pub fn start(journal: Journal<CardRecord>, record: CardRecord) -> Result<Self, JournalError> {
        let path = journal.path().to_path_buf();
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                journal,
                record,
                dirty: 0,
                stop: false,
            }),
            wake: Condvar::new(),
            durable: watch::channel(Durable::default()).0,
            durable_now: Mutex::new(Durable::default()),
            durable_cv: Condvar::new(),
            path: path.clone(),
        });
        let for_thread = Arc::clone(&inner);
        let writer = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || write_loop(&for_thread))
            .map_err(|source| JournalError::Write { path, source })?;
        Ok(Self {
            inner,
            writer: Some(writer),
        })
    }

    /// Applies `f` to the clip's record and returns once a write holding the change is on
    /// disk.
    pub async fn update(
        &self,
        clip_id: &str,
        f: impl FnOnce(&mut ClipRecord),
    ) -> Result<(), JournalError> {
        let generation = self.change_clip(clip_id, f);
        self.durable(generation).await
    }

    /// Applies `f` to the clip's record and has it written without waiting: for progress
    /// that a resume re-checks anyway (an upload's offset), from code that cannot wait.
    pub fn update_soon(&self, clip_id: &str, f: impl FnOnce(&mut ClipRecord)) {
        self.change_clip(clip_id, f);
    }

    /// [`Self::update`] for sync code that must not go on before the change is on disk (an
    /// upload session's URL: a kill right after it resumes the same session). Blocks the
    /// thread for one write.
    pub fn update_blocking(
        &self,
        clip_id: &str,
        f: impl FnOnce(&mut ClipRecord),
    ) -> Result<(), JournalError> {
        let generation = self.change_clip(clip_id, f);
        let mut d = self
            .inner
            .durable_now
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while !settles(&d, generation) {
            d = self
                .inner
                .durable_cv
                .wait(d)
                .unwrap_or_else(PoisonError::into_inner);
        }
        self.outcome(&d, generation)
    }

    /// Applies `f` to the card's record and returns once it is on disk.
    pub async fn update_card(&self, f: impl FnOnce(&mut CardRecord)) -> Result<(), JournalError> {
        let generation = self.change(f);
        self.durable(generation).await
    }

    /// Returns once every change made so far is on disk.
    pub async fn flush(&self) -> Result<(), JournalError> {
        let generation = self.inner.lock().dirty;
        self.durable(generation).await
    }

    /// Reads the record under the lock (never across a write: the writer encodes under it,
    /// then writes without it).
    pub fn read<R>(&self, f: impl FnOnce(&CardRecord) -> R) -> R {
        f(&self.inner.lock().record)
    }

    fn change_clip(&self, clip_id: &str, f: impl FnOnce(&mut ClipRecord)) -> u64 {
        self.change(|record| {
            if let Some(clip) = record.clips.get_mut(clip_id) {
                f(clip);
            }
        })
    }

    fn change(&self, f: impl FnOnce(&mut CardRecord)) -> u64 {
        let mut state = self.inner.lock();
        f(&mut state.record);
        state.dirty += 1;
        let generation = state.dirty;
        drop(state);
        self.inner.wake.notify_one();
        generation
    }

    async fn durable(&self, generation: u64) -> Result<(), JournalError> {
        let mut rx = self.inner.durable.subscribe();
        match rx.wait_for(|d| settles(d, generation)).await {
            Ok(d) => self.outcome(&d, generation),
            // The writer is gone (it only stops on drop, after a last write).
            Err(_) => Err(JournalError::Write {
                path: self.inner.path.clone(),
                source: std::io::Error::other("journal writer stopped"),
            }),
        }
    }

    fn outcome(&self, d: &Durable, generation: u64) -> Result<(), JournalError> {
        match &d.failed {
            _ if d.generation >= generation => Ok(()),
            Some((_, kind, message)) => Err(JournalError::Write {
                path: self.inner.path.clone(),
                source: std::io::Error::new(*kind, message.clone()),
            }),
            None => Ok(()),
        }
    }
}

/// `generation` is on disk, or the write that was to hold it failed.
fn settles(d: &Durable, generation: u64) -> bool {
    d.generation >= generation || d.failed.as_ref().is_some_and(|f| f.0 >= generation)
}

impl Drop for CardJournal {
    fn drop(&mut self) {
        self.inner.lock().stop = true;
        self.inner.wake.notify_one();
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!(path = %self.inner.path.display(), "journal writer panicked");
        }
    }
}

/// The writer thread: the newest record whenever it changed, until stopped (after a last
/// write of what changed).
fn write_loop(inner: &Inner) {
    let mut written = 0;
    loop {
        let mut state = inner.lock();
        while state.dirty == written && !state.stop {
            state = inner
                .wake
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if state.dirty == written {
            return; // stopped, nothing left to write
        }
        let generation = state.dirty;
        let bytes = state.journal.encode(&state.record);
        drop(state);
        let result = bytes.and_then(|b| write(&inner.path, &b));
        let publish = |d: &mut Durable| match &result {
            Ok(()) => {
                d.generation = generation;
                d.failed = None;
            }
            Err(e) => {
                let (kind, message) = failure(e);
                d.failed = Some((generation, kind, message));
            }
        };
        inner.durable.send_modify(publish);
        publish(
            &mut inner
                .durable_now
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        inner.durable_cv.notify_all();
        match result {
            Ok(()) => written = generation,
            Err(e) => {
                tracing::error!(error = %e, "journal save failed");
                // Not marked written: the next change tries again, and a stop gives up.
                if inner.lock().stop {
                    return;
                }
                written = generation;
            }
        }
    }
}

fn write(path: &std::path::Path, bytes: &[u8]) -> Result<(), JournalError> {
    crate::atomic_write::write_atomic(path, bytes).map_err(|source| JournalError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn failure(e: &JournalError) -> (std::io::ErrorKind, String) {
    match e {
        JournalError::Write { source, .. } => (source.kind(), source.to_string()),
        other => (std::io::ErrorKind::Other, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::journal::{CardKey, JournalStore};

    fn journal(dir: &std::path::Path) -> (Journal<CardRecord>, CardRecord) {
        let store = JournalStore::at(dir.join("journals"));
        let card = dir.join("CARD");
        std::fs::create_dir_all(&card).unwrap();
        let key = CardKey::for_card(&card, "p2|test").unwrap();
        let journal = store.open(&key).unwrap();
        let mut record = CardRecord::default();
        record
            .clips
            .insert("c1".into(), ClipRecord::new("c1", "0001AB"));
        journal.save(&record).unwrap();
        (journal, record)
    }

    fn on_disk(path: &std::path::Path) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_awaited_update_is_on_disk_when_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        let (j, record) = journal(dir.path());
        let path = j.path().to_path_buf();
        let cj = CardJournal::start(j, record).unwrap();
        for n in 0..50u64 {
            cj.update("c1", |c| c.upload_offset = n).await.unwrap();
            assert_eq!(
                on_disk(&path)["state"]["clips"]["c1"]["upload_offset"],
                n,
                "change {n} durable when update returned"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_changes_share_writes_and_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let (j, mut record) = journal(dir.path());
        for i in 0..20 {
            let id = format!("c{i}");
            record.clips.insert(id.clone(), ClipRecord::new(&id, &id));
        }
        let path = j.path().to_path_buf();
        let cj = Arc::new(CardJournal::start(j, record).unwrap());
        let mut tasks = Vec::new();
        for i in 0..20u64 {
            let cj = Arc::clone(&cj);
            tasks.push(tokio::spawn(async move {
                for n in 1..=10u64 {
                    cj.update(&format!("c{i}"), |c| c.upload_offset = i * 100 + n)
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let state = on_disk(&path);
        for i in 0..20u64 {
            assert_eq!(
                state["state"]["clips"][format!("c{i}")]["upload_offset"],
                i * 100 + 10
            );
        }
        let generation = cj.inner.durable.borrow().generation;
        assert_eq!(generation, 200, "every change counted");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_change_not_waited_for_is_written_at_drop() {
        let dir = tempfile::tempdir().unwrap();
        let (j, record) = journal(dir.path());
        let path = j.path().to_path_buf();
        let cj = CardJournal::start(j, record).unwrap();
        cj.update_soon("c1", |c| c.upload_offset = 77);
        drop(cj);
        assert_eq!(on_disk(&path)["state"]["clips"]["c1"]["upload_offset"], 77);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_is_the_waiters_error_naming_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let (j, record) = journal(dir.path());
        let path = j.path().to_path_buf();
        let cj = CardJournal::start(j, record).unwrap();
        // The journal's folder replaced by a file: the temp file cannot be created.
        let folder = path.parent().unwrap().to_path_buf();
        let aside = folder.with_extension("aside");
        std::fs::rename(&folder, &aside).unwrap();
        std::fs::write(&folder, b"not a folder").unwrap();
        let err = cj.update("c1", |c| c.upload_offset = 5).await.unwrap_err();
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        // Put back: the next change is written again.
        std::fs::remove_file(&folder).unwrap();
        std::fs::rename(&aside, &folder).unwrap();
        cj.update("c1", |c| c.upload_offset = 6).await.unwrap();
        assert_eq!(on_disk(&path)["state"]["clips"]["c1"]["upload_offset"], 6);
    }
}
