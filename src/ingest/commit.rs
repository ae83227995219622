//! Group commit of a card job's journal.
//!
//! Every step is journaled before and after it runs, and its calls save what they learn (ids,
//! upload offsets): about 40 changes per clip. Saved inline, each blocked a runtime worker for
//! its fsyncs (≈ 1 s of 6 on the API path here), and with two workers the HTTP answers and the
//! pacer's timers waited behind them.
//!
//! [`CardJournal`] keeps the record in memory and writes it from one thread of its own: a
//! change bumps a generation and marks its clip, the writer appends what changed in the marked
//! clips (a step's record, an id: [`super::journal::changes_between`] against what it last
//! wrote of each) to the journal's log as one fsync'd line (every change made while the
//! previous write was under way goes in one write; [`super::journal`]), so a change costs a few
//! hundred bytes whatever the card's size. A change of the card's own fields (once per card) and a log grown past its
//! limit are written as a new snapshot instead, and so is the last write when the job ends (the
//! journal it leaves is one file). [`CardJournal::update`] waits,
//! without holding a worker, until a write holding its change is on disk. So "journaled before
//! the step runs" means what it meant, and a kill -9 at any point finds on disk at least every
//! change that some caller was told was saved.

use super::journal::{Change, Journal, JournalError, changes_between};
use super::record::{CardRecord, ClipRecord};
use std::collections::BTreeSet;
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
    record: CardRecord,
    /// Generation of the newest change.
    dirty: u64,
    /// Clips changed since the last write.
    dirty_clips: BTreeSet<String>,
    /// The card's own fields changed since the last write (written as a snapshot).
    card_dirty: bool,
    stop: bool,
}

struct Inner {
    journal: Journal<CardRecord>,
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
            journal,
            state: Mutex::new(State {
                record,
                dirty: 0,
                dirty_clips: BTreeSet::new(),
                card_dirty: false,
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

    /// Bytes the journal wrote so far (snapshots and log lines).
    #[cfg(test)]
    pub fn bytes_written(&self) -> u64 {
        self.inner.journal.bytes_written()
    }

    fn change_clip(&self, clip_id: &str, f: impl FnOnce(&mut ClipRecord)) -> u64 {
        self.bump(|state| {
            if let Some(clip) = state.record.clips.get_mut(clip_id) {
                f(clip);
                state.dirty_clips.insert(clip_id.to_owned());
            }
        })
    }

    fn change(&self, f: impl FnOnce(&mut CardRecord)) -> u64 {
        self.bump(|state| {
            f(&mut state.record);
            state.card_dirty = true;
        })
    }

    fn bump(&self, f: impl FnOnce(&mut State)) -> u64 {
        let mut state = self.inner.lock();
        f(&mut state);
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

/// What the writer thread writes for one generation.
enum Work {
    Snapshot(Result<super::journal::Snapshot, JournalError>),
    /// The changes, and each changed clip's record as they leave it.
    Log(Vec<Change>, Vec<(String, serde_json::Value)>),
    Nothing,
}

/// Levels below a clip's record that are compared key by key: the clip's fields, then its
/// steps (a step's record is written whole).
const CLIP_DIFF_DEPTH: usize = 2;

/// The writer thread: the changed clips whenever something changed (a snapshot when the card's
/// fields changed, the log is due for compaction, the last write failed, or on stop), until
/// stopped.
fn write_loop(inner: &Inner) {
    let mut written = 0;
    // The log holds lines (a snapshot at stop folds them in), or a write failed (the next
    // write is a snapshot: it holds every change, also those of the failed write).
    let mut logged = false;
    let mut failed = false;
    // Each clip's record as a load now gives it (absent: unknown, written whole next time).
    let mut on_disk: std::collections::HashMap<String, serde_json::Value> = Default::default();
    loop {
        let mut state = inner.lock();
        while state.dirty == written && !state.stop {
            state = inner
                .wake
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if state.dirty == written && !logged && !failed {
            return; // stopped, nothing left to write
        }
        let stopping = state.stop;
        let generation = state.dirty;
        let clips = std::mem::take(&mut state.dirty_clips);
        let work = if std::mem::take(&mut state.card_dirty)
            || failed
            || stopping
            || inner.journal.compaction_due()
        {
            // The snapshot holds them as they are now: written whole next time.
            on_disk.retain(|id, _| !clips.contains(id));
            Work::Snapshot(inner.journal.snapshot(&state.record))
        } else {
            let mut changes = Vec::new();
            let mut now = Vec::new();
            for id in &clips {
                let Some(value) = state
                    .record
                    .clips
                    .get(id)
                    .and_then(|c| serde_json::to_value(c).ok())
                else {
                    continue;
                };
                let at = ["clips".to_owned(), id.clone()];
                changes_between(&at, on_disk.get(id), &value, CLIP_DIFF_DEPTH, &mut changes);
                now.push((id.clone(), value));
            }
            if changes.is_empty() {
                Work::Nothing
            } else {
                Work::Log(changes, now)
            }
        };
        drop(state);
        let result = match work {
            Work::Snapshot(s) => s.and_then(|s| inner.journal.write_snapshot(s)).map(|()| {
                logged = false;
            }),
            Work::Log(changes, now) => inner.journal.append(&changes).map(|()| {
                logged = true;
                on_disk.extend(now);
            }),
            Work::Nothing => Ok(()),
        };
        failed = result.is_err();
        if failed {
            on_disk.clear();
        }
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
        written = generation;
        match result {
            Ok(()) if stopping && inner.lock().dirty == written => return,
            Ok(()) => {}
            Err(e) => {
                tracing::error!(error = %e, "journal save failed");
                // The next change tries again (as a snapshot), and a stop gives up.
                if stopping {
                    return;
                }
            }
        }
    }
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

    /// `{"state": …}` as a fresh load (snapshot and log) sees it.
    fn on_disk(path: &std::path::Path) -> serde_json::Value {
        let store = JournalStore::at(path.parent().unwrap());
        let mut all = store.list::<serde_json::Value>();
        assert_eq!(all.len(), 1);
        serde_json::json!({ "state": all.remove(0).1 })
    }

    /// A clip record the size of a P2 clip's after its steps (five member files).
    fn full_clip(id: &str) -> ClipRecord {
        let mut c = ClipRecord::new(id, id);
        c.title = format!("A001 {id} scene 12 take 3");
        c.files = (0..5)
            .map(|n| crate::ingest::record::FileRecord {
                source: format!("/media/CARD_A/CONTENTS/AUDIO/{id}0{n}.MXF").into(),
                registered: format!("/mnt/storage/2026-12-07/CARD_A/CONTENTS/AUDIO/{id}0{n}.MXF")
                    .into(),
                name: format!("{id}0{n}.MXF"),
                directory_path: "2026-12-07/CARD_A/CONTENTS/AUDIO".into(),
                size_bytes: 123_456_789,
                md5: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
                xxh64: Some("ef46db3751d8e999".into()),
                file_id: None,
            })
            .collect();
        for step in crate::ingest::Step::ALL {
            c.steps
                .insert(step, crate::ingest::record::StepRecord::default());
        }
        c
    }

    /// Bytes the journal writes per change, for a card of `clips` clips each changed `per_clip`
    /// times (by 16 tasks at once, as the lanes do).
    async fn bytes_per_change(clips: usize, per_clip: u64) -> (f64, u64) {
        let dir = tempfile::tempdir().unwrap();
        let (j, mut record) = journal(dir.path());
        record.clips.clear();
        for i in 0..clips {
            let id = format!("{i:04}AB");
            record.clips.insert(id.clone(), full_clip(&id));
        }
        j.save(&record).unwrap();
        let one_clip = serde_json::to_vec(&record.clips["0000AB"]).unwrap().len() as u64;
        let cj = Arc::new(CardJournal::start(j, record).unwrap());
        let before = cj.bytes_written();
        let mut tasks = Vec::new();
        for t in 0..16 {
            let cj = Arc::clone(&cj);
            tasks.push(tokio::spawn(async move {
                for i in (t..clips).step_by(16) {
                    for n in 1..=per_clip {
                        cj.update(&format!("{i:04}AB"), |c| c.upload_offset = n)
                            .await
                            .unwrap();
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let changes = clips as u64 * per_clip;
        let per_change = (cj.bytes_written() - before) as f64 / changes as f64;
        drop(cj);
        // Everything is there after the last write.
        let state = on_disk(&dir.path().join("journals").join(format!(
            "{}.json",
            CardKey::for_card(&dir.path().join("CARD"), "p2|test").unwrap()
        )));
        assert_eq!(state["state"]["clips"].as_object().unwrap().len(), clips);
        assert_eq!(
            state["state"]["clips"][format!("{:04}AB", clips - 1)]["upload_offset"],
            per_clip
        );
        (per_change, one_clip)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bytes_written_per_change_do_not_grow_with_the_card() {
        let (small, record) = bytes_per_change(25, 8).await;
        let (large, _) = bytes_per_change(400, 8).await;
        eprintln!(
            "journal bytes per change: {small:.0} at 25 clips, {large:.0} at 400 clips \
             (one clip record: {record} bytes)"
        );
        // A whole-card rewrite per change would be 16× more at 400 clips than at 25; the log
        // writes what changed in the clip (here its upload offset) plus its share of the
        // compactions.
        assert!(
            large / small < 1.2,
            "{large:.0} bytes per change at 400 clips vs {small:.0} at 25"
        );
        assert!(
            large < record as f64 / 2.0,
            "{large:.0} bytes per change, one clip record is {record}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_log_is_folded_into_a_snapshot_and_loads_the_same() {
        use crate::ingest::journal::COMPACT_MIN_BYTES;
        let dir = tempfile::tempdir().unwrap();
        let (j, mut record) = journal(dir.path());
        let path = j.path().to_path_buf();
        for i in 0..10 {
            let id = format!("c{i}");
            record.clips.insert(id.clone(), full_clip(&id));
        }
        let cj = CardJournal::start(j, record).unwrap();
        // Titles of 2 kB: 300 changes log 600 kB, past the compaction limit twice.
        for n in 0..300u64 {
            let title = format!("{n:>2000}");
            cj.update(&format!("c{}", n % 10), |c| c.title = title)
                .await
                .unwrap();
        }
        let log = std::fs::metadata(path.with_extension("jsonl"))
            .unwrap()
            .len();
        assert!(cj.bytes_written() > 2 * COMPACT_MIN_BYTES);
        assert!(
            log <= COMPACT_MIN_BYTES + 4096,
            "log of {log} bytes was folded"
        );
        let state = on_disk(&path);
        for i in 0..10u64 {
            let title = state["state"]["clips"][format!("c{i}")]["title"]
                .as_str()
                .unwrap();
            assert_eq!(title.trim(), (290 + i).to_string());
        }
        drop(cj);
        assert!(
            !path.with_extension("jsonl").exists(),
            "one file when the job ends"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_kill_mid_log_loses_only_the_torn_line_and_resumes_appending() {
        let dir = tempfile::tempdir().unwrap();
        let (j, record) = journal(dir.path());
        let path = j.path().to_path_buf();
        let log = path.with_extension("jsonl");
        let cj = CardJournal::start(j, record).unwrap();
        cj.update("c1", |c| c.upload_offset = 1).await.unwrap();
        cj.update("c1", |c| c.upload_offset = 2).await.unwrap();
        // "kill -9": the process dies without its last snapshot; half a line is on disk.
        let lines = std::fs::read(&log).unwrap();
        std::mem::forget(cj);
        let mut torn = lines.clone();
        torn.extend_from_slice(br#"{"epoch":1,"set":[{"at":["clips","c1"],"to":{"clip_i"#);
        std::fs::write(&log, &torn).unwrap();
        let lock = path.with_extension("lock");
        std::fs::remove_file(&lock).unwrap(); // the dead process's lock (its pid is ours)
        let store = JournalStore::at(path.parent().unwrap());
        let key = CardKey::for_card(&dir.path().join("CARD"), "p2|test").unwrap();
        let j = store.open::<CardRecord>(&key).unwrap();
        let record = j.load().unwrap().unwrap();
        assert_eq!(record.clips["c1"].upload_offset, 2, "the last whole line");
        // The next append cuts the torn tail first.
        j.append(&[Change {
            at: vec!["clips".into(), "c1".into()],
            to: serde_json::to_value(ClipRecord {
                upload_offset: 3,
                ..record.clips["c1"].clone()
            })
            .unwrap(),
        }])
        .unwrap();
        let after = std::fs::read(&log).unwrap();
        assert!(after.starts_with(&lines) && after.len() > lines.len());
        assert_eq!(after.iter().filter(|b| **b == b'\n').count(), 3);
        assert_eq!(j.load().unwrap().unwrap().clips["c1"].upload_offset, 3);
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
