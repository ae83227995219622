//! Drives, not folders: two destination folders on one RAID share its heads. Process-wide (every
//! card of the session, whichever face runs it), per drive ([`VolumeId`]):
//!
//! - **writer slots**: at most `cap` copy passes write to a drive at once ([`acquire`]); a card's
//!   one pass counts once per drive however many of its destinations lie there (that pass
//!   writes each block to them one after the other from one thread, never at the same time);
//! - **queued bytes**: what cards already started will still write there ([`Reservation`]), so
//!   the pre-flight of the next card compares the drive's free space with its own bytes *plus*
//!   those ([`super::preflight::reserve`]).
//!
//! Both are released when their guard drops (the card's copy ended, however).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use super::volume::{self, VolumeId};

/// Copy passes writing to one drive at once, by default: one (a spinning drive or a RAID of them
/// loses most of its speed to seeks between two writers).
pub const DEFAULT_WRITERS_PER_DRIVE: usize = 1;

#[derive(Default)]
struct Registry {
    writers: HashMap<VolumeId, usize>,
    queued: HashMap<VolumeId, u64>,
}

fn registry() -> &'static (Mutex<Registry>, Condvar) {
    static REGISTRY: OnceLock<(Mutex<Registry>, Condvar)> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

fn lock() -> MutexGuard<'static, Registry> {
    registry()
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The drives of `paths` (each once, in order); a path whose drive is unknown is left out (it
/// is then neither capped nor accounted, as before).
pub fn drives_of<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Vec<VolumeId> {
    let mut out: Vec<VolumeId> = Vec::new();
    for p in paths {
        match volume::volume_id(p) {
            Ok(id) if !out.contains(&id) => out.push(id),
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(path = %p.display(), %err, "drive unknown: its writers are not capped");
            }
        }
    }
    out
}

/// Writer slots held on some drives; given back on drop.
#[derive(Debug)]
pub struct WriterSlots {
    drives: Vec<VolumeId>,
}

impl Drop for WriterSlots {
    fn drop(&mut self) {
        let mut r = lock();
        for d in &self.drives {
            if let Some(n) = r.writers.get_mut(d) {
                *n = n.saturating_sub(1);
            }
        }
        drop(r);
        registry().1.notify_all();
    }
}

/// Waits until every drive in `drives` has fewer than `cap` writers, then takes one slot on each
/// (all at once, so two cards waiting for each other's drives cannot deadlock). `None` when
/// `cancel` was set meanwhile. `on_wait` is called once if the caller has to wait, with the
/// drives that are busy (for the operator: "waiting for the drive").
pub fn acquire(
    drives: &[VolumeId],
    cap: usize,
    cancel: &AtomicBool,
    on_wait: &mut dyn FnMut(&[VolumeId]),
) -> Option<WriterSlots> {
    let cap = cap.max(1);
    let (_, changed) = registry();
    let mut r = lock();
    let mut told = false;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return None;
        }
        let busy: Vec<VolumeId> = drives
            .iter()
            .filter(|d| r.writers.get(*d).copied().unwrap_or(0) >= cap)
            .cloned()
            .collect();
        if busy.is_empty() {
            for d in drives {
                *r.writers.entry(d.clone()).or_default() += 1;
            }
            return Some(WriterSlots {
                drives: drives.to_vec(),
            });
        }
        if !told {
            told = true;
            drop(r);
            on_wait(&busy);
            r = lock();
            continue;
        }
        // Woken when a slot comes free; the timeout only serves the cancel flag.
        r = changed
            .wait_timeout(r, Duration::from_millis(100))
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0;
    }
}

/// Bytes a started card will still write to its drives; taken off the queue on drop.
#[derive(Debug, Default)]
pub struct Reservation {
    entries: Vec<(VolumeId, u64)>,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut r = lock();
        for (d, bytes) in &self.entries {
            if let Some(q) = r.queued.get_mut(d) {
                *q = q.saturating_sub(*bytes);
            }
        }
    }
}

/// Bytes queued for `drive` by cards already started (their copies not finished).
pub fn queued_bytes(drive: &VolumeId) -> u64 {
    lock().queued.get(drive).copied().unwrap_or(0)
}

/// Checks `wanted` (drive, bytes) against `free` with the registry held, and queues them when
/// every drive has room: `Err((drive index, queued before))` for the first that has not. The
/// check and the queueing are one step, so two cards starting together cannot both take the
/// last free bytes.
pub(super) fn check_and_queue(
    wanted: &[(VolumeId, u64, Option<u64>)],
    margin: u64,
) -> Result<Reservation, (usize, u64)> {
    let mut r = lock();
    for (i, (drive, bytes, free)) in wanted.iter().enumerate() {
        let queued = r.queued.get(drive).copied().unwrap_or(0);
        if let Some(free) = free
            && *bytes > 0
            && bytes + queued + margin > *free
        {
            return Err((i, queued));
        }
    }
    let mut entries = Vec::with_capacity(wanted.len());
    for (drive, bytes, _) in wanted {
        *r.queued.entry(drive.clone()).or_default() += bytes;
        entries.push((drive.clone(), *bytes));
    }
    Ok(Reservation { entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drive(name: &str) -> VolumeId {
        VolumeId::named(name)
    }

    #[test]
    fn a_drive_takes_cap_writers_and_the_next_waits_until_one_leaves() {
        let d = [drive("test:slots")];
        let no = AtomicBool::new(false);
        let first = acquire(&d, 1, &no, &mut |_| panic!("free drive")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let mut waited = false;
            let slot = acquire(&d, 1, &AtomicBool::new(false), &mut |busy| {
                assert_eq!(busy, [drive("test:slots")]);
                waited = true;
                tx.send(()).unwrap();
            });
            (slot.is_some(), waited)
        });
        // The second writer says it waits; it gets the slot only once the first gives it back.
        rx.recv().unwrap();
        assert!(!waiter.is_finished());
        drop(first);
        assert_eq!(waiter.join().unwrap(), (true, true));
        // Two slots with a cap of 2; a cancel ends a wait.
        let a = acquire(&[drive("test:two")], 2, &no, &mut |_| panic!()).unwrap();
        let b = acquire(&[drive("test:two")], 2, &no, &mut |_| panic!()).unwrap();
        let cancel = AtomicBool::new(false);
        assert!(
            acquire(&[drive("test:two")], 2, &cancel, &mut |_| {
                cancel.store(true, Ordering::Relaxed)
            })
            .is_none()
        );
        drop((a, b));
    }

    #[test]
    fn queued_bytes_count_against_free_space_until_the_card_is_done() {
        let d = drive("test:queue");
        let held = check_and_queue(&[(d.clone(), 600, Some(1000))], 0).unwrap();
        assert_eq!(queued_bytes(&d), 600);
        assert_eq!(
            check_and_queue(&[(d.clone(), 500, Some(1000))], 0).unwrap_err(),
            (0, 600)
        );
        drop(held);
        assert_eq!(queued_bytes(&d), 0);
        let again = check_and_queue(&[(d.clone(), 500, Some(1000))], 0).unwrap();
        drop(again);
    }
}
