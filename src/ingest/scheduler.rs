//! The clip graph and the lanes it runs on.
//!
//! A clip is a small graph of [`Step`]s; each step's work runs on one [`Lane`] (a shared
//! resource) and the lanes work at the same time, so a card takes the time of its slowest
//! resource rather than the sum of all:
//!
//! ```text
//!               disk                  network                network
//!   clip ──┬─▶ (offload ─▶) checksum ─▶ create_asset ─▶ format ─▶ file set ─▶ files ──┬──▶ proxy record ─▶ upload
//!          │                            (duplicate                                   │    ─▶ close ─▶ keyframes
//!          │                             decision)                                   │    ─▶ collection
//!          └─▶ proxy encode (+ the report's poster) ────────────────────────────────┘         network
//!                  cpu
//! ```
//!
//! - The checksum comes first on its branch: the duplicate decision (same MD5 anywhere) and
//!   the files' `checksum` need it. With `--offload-to` the clip's offload step comes before
//!   it: one background task copies the card in card order (clip 1's files first), verifying
//!   each file right behind its copy ([`super::steps::copy`]); the step waits, holding no
//!   slot, until the clip's own files are checked, and the checksum then takes the copy pass's
//!   hashes (the card is read once). A copy that differs fails only its clip.
//! - The encode needs no iconik id and no checksum (the proxy cache is keyed on the members'
//!   names, sizes and mtimes): it starts as soon as the CPU lane is the clip's, beside the
//!   offload, the checksum and the registration calls. A clip the card's batched look-up
//!   already found in iconik runs its branches one after the other (no CPU for it); one found
//!   later by its MD5 has its running encode stopped. The proxy record joins both branches.
//!   With `--proxy iconik` a single-file clip's "encode" is iconik's transcoder, which needs
//!   the registered file, so that clip also runs its branches one after the other.
//! - Every lane serves clips in card order: a free slot goes to the waiting clip that comes
//!   first on the card, so the first clips complete first instead of all 20 finishing late.
//!   The engine starts the clips one after another, each once it has asked for its first
//!   slots, so at the start too the free lanes go to clip 1.
//!   Slots: disk = `io_concurrency` files, cpu = one encode, network = `concurrency` steps
//!   (their calls are further paced under iconik's rate limit by the shared pacer).
//! - Each step's state is journaled before and after it runs ([`walk`]), so retry, resume,
//!   cancel and the events keep meaning "this step's state", whatever runs beside it.

use super::engine::Shared;
use super::events::EventKind;
use super::record::{ClipRecord, StepRecord, StepState};
use super::retry::TOKEN_REFUSED;
pub use super::step::Lane;
use super::step::Step;
use super::steps::{ClipCtx, StepEnd, StepFail};
use crate::scan::ScannedClip;
use chrono::Utc;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;
use tokio::sync::oneshot;

/// The three lanes of one card job.
#[derive(Debug)]
pub struct Lanes {
    pub disk: Arc<LaneSlots>,
    pub cpu: Arc<LaneSlots>,
    pub network: Arc<LaneSlots>,
}

impl Lanes {
    pub fn new(io_concurrency: usize, network: usize) -> Self {
        Self {
            disk: LaneSlots::new(io_concurrency),
            cpu: LaneSlots::new(1),
            network: LaneSlots::new(network),
        }
    }
}

/// The registration branch's first steps, up to the duplicate decision. With an offload the
/// clip's copy comes first (its checksum is the copy's one read); without, the offload step
/// only says "registered in place".
fn head(ctx: &ClipCtx) -> [Step; 3] {
    if ctx.offloading() {
        [Step::Offload, Step::Checksum, Step::CreateAsset]
    } else {
        [Step::Checksum, Step::Offload, Step::CreateAsset]
    }
}
const REGISTER: [Step; 3] = [Step::CreateFormat, Step::CreateFileSet, Step::CreateFiles];
const JOIN: [Step; 5] = [
    Step::CreateProxy,
    Step::UploadProxy,
    Step::CloseProxy,
    Step::Keyframes,
    Step::Collection,
];

/// Runs one clip's graph; `order` is its place on the card. Returns the clip id.
///
/// `first_poll`, when given, is sent once the graph has asked for its first lane slots (the
/// checksum's disk slot and the encode's CPU slot are both requested in the graph's first
/// poll): the engine starts the card's clips one after another on that signal, so a free lane
/// goes to clip 1 rather than to whichever task the runtime happened to run first.
pub(crate) async fn run_clip(
    shared: Arc<Shared>,
    sc: ScannedClip,
    order: usize,
    first_poll: Option<oneshot::Sender<()>>,
) -> String {
    let id = sc.clip.id.clone();
    let ctx = ClipCtx::new(shared, sc, order);
    let graph = std::pin::pin!(graph(&ctx));
    let mut graph = graph;
    let early = std::future::poll_fn(|cx| Poll::Ready(graph.as_mut().poll(cx))).await;
    if let Some(tx) = first_poll {
        let _ = tx.send(());
    }
    if early.is_pending() {
        graph.await;
    }
    id
}

async fn graph(ctx: &ClipCtx) {
    let id = ctx.id();
    // The encode needs no iconik id, so it normally runs from the start beside the checksum
    // and registration. It waits for the duplicate decision only where that is known without
    // reading the card (the card's batched look-up found the clip): no CPU for those.
    let sequential = ctx.proxy_needs_registration() || ctx.known_in_iconik();
    let head = head(ctx);
    let branches_done = if sequential {
        walk(ctx, &head).await && walk(ctx, &REGISTER).await && walk(ctx, &[Step::Proxy]).await
    } else {
        let register = async {
            if !walk(ctx, &head).await {
                // Found in iconik by its checksum (its proxy step is skipped with the rest):
                // stop the encode. After any other stop it goes on, so a retry finds it made.
                if matches!(
                    ctx.shared().clip(id).step(Step::Proxy),
                    StepState::Skipped { .. }
                ) {
                    ctx.stop_encode();
                }
                return false;
            }
            walk(ctx, &REGISTER).await
        };
        let (registered, encoded) = tokio::join!(register, walk(ctx, &[Step::Proxy]));
        registered && encoded
    };
    if branches_done {
        walk(ctx, &JOIN).await;
    }
}

/// Runs `steps` in order, skipping finished ones; false when the branch stopped (a failure,
/// a cancel, or every later step skipped).
async fn walk(ctx: &ClipCtx, steps: &[Step]) -> bool {
    let shared = ctx.shared();
    let id = ctx.id();
    for &step in steps {
        if shared.stopping() {
            return false;
        }
        if shared.clip(id).step(step).is_finished() {
            continue;
        }
        // Wait for the lane first: a clip queued behind others is pending, not running.
        let Ok(mut slot) = ctx.lane_slot(step).await else {
            return false;
        };
        // Paused by the operator: no step starts (the ones running finish).
        if !shared.options.pause.resumed_unless(&shared.cancel).await {
            return false;
        }
        // A slot handed over after Cancel (or a token refusal) starts nothing: it goes on to
        // the next waiter, which stops the same way.
        if shared.stopping() {
            return false;
        }
        // The other branch may have settled this step while it waited (a clip found already
        // in iconik skips its encode): the slot goes straight to the next clip.
        if shared.clip(id).step(step).is_finished() {
            continue;
        }
        let rec = shared.clip(id);
        let prior = rec.step(step);
        let saved = shared.update(id, |r| {
            let s = r.steps.entry(step).or_insert_with(StepRecord::default);
            s.state = StepState::Running;
            s.started = Some(Utc::now());
            s.finished = None;
            s.attempts += 1;
        });
        if let Err(e) = saved.await {
            fail(shared, &rec, step, StepFail::permanent(e.to_string())).await;
            return false;
        }
        shared.emit(&rec, Some(step), EventKind::Started);
        tracing::debug!(clip = %rec.name, %step, lane = %step.lane().as_str(), "step started");
        let label = format!("{} {step}", rec.name);
        let result =
            crate::iconik::observer::labelled(label, ctx.run(step, &prior, &mut slot)).await;
        let rec = shared.clip(id);
        match result {
            Ok(StepEnd::Done(detail)) => {
                finish(shared, &rec, step, StepState::Done).await;
                shared.emit(&rec, Some(step), EventKind::Done { detail });
            }
            Ok(StepEnd::Skipped(reason)) => {
                let state = StepState::Skipped {
                    reason: reason.clone(),
                };
                finish(shared, &rec, step, state).await;
                shared.emit(&rec, Some(step), EventKind::Skipped { reason });
            }
            Ok(StepEnd::SkipRest { from, reason }) => {
                for s in from.and_after() {
                    let state = StepState::Skipped {
                        reason: reason.clone(),
                    };
                    finish(shared, &rec, s, state).await;
                }
                if step < from {
                    finish(shared, &rec, step, StepState::Done).await;
                    shared.emit(&rec, Some(step), EventKind::Done { detail: None });
                }
                shared.emit(&rec, Some(from), EventKind::Skipped { reason });
                return false;
            }
            Err(f) if f.cancelled => return false,
            Err(f) => {
                fail(shared, &rec, step, f).await;
                return false;
            }
        }
        // The lane slot goes to the next clip only now, after the result is journaled.
        drop(slot);
    }
    true
}

async fn finish(shared: &Shared, rec: &ClipRecord, step: Step, state: StepState) {
    let saved = shared.update(&rec.clip_id, |r| {
        let s = r.steps.entry(step).or_default();
        s.state = state;
        s.finished = Some(Utc::now());
    });
    if let Err(e) = saved.await {
        tracing::error!(error = %e, clip = %rec.name, %step, "journal save failed");
    }
}

async fn fail(shared: &Shared, rec: &ClipRecord, step: Step, f: StepFail) {
    let error = if f.auth {
        format!("{TOKEN_REFUSED} ({})", f.error)
    } else {
        f.error
    };
    tracing::info!(clip = %rec.name, %step, %error, "step failed");
    let state = StepState::Failed {
        error: error.clone(),
        retryable: f.retryable,
    };
    finish(shared, rec, step, state).await;
    let kind = EventKind::Failed {
        error,
        retryable: f.retryable,
    };
    shared.emit(rec, Some(step), kind);
    if f.auth {
        shared.token_refused.store(true, Ordering::Relaxed);
        shared.cancel.store(true, Ordering::Relaxed);
    }
}

/// A counting semaphore that hands a freed slot to the waiter with the lowest order (the clip
/// that comes first on the card), not to whoever asked first.
#[derive(Debug)]
pub struct LaneSlots {
    state: Mutex<SlotState>,
}

#[derive(Debug)]
struct SlotState {
    free: usize,
    /// Waiters by (order, arrival).
    waiting: BTreeMap<(usize, u64), oneshot::Sender<()>>,
    arrivals: u64,
}

/// A held slot; dropping it passes the slot on.
#[derive(Debug)]
pub struct LaneSlot {
    lane: Arc<LaneSlots>,
}

/// How often a waiter looks at the cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

impl LaneSlots {
    pub fn new(slots: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(SlotState {
                free: slots.max(1),
                waiting: BTreeMap::new(),
                arrivals: 0,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for a slot; `None` once `cancel` is set (checked while waiting).
    pub async fn acquire(self: &Arc<Self>, order: usize, cancel: &AtomicBool) -> Option<LaneSlot> {
        let (key, mut rx) = {
            let mut st = self.lock();
            if st.free > 0 {
                st.free -= 1;
                return Some(LaneSlot { lane: self.clone() });
            }
            let (tx, rx) = oneshot::channel();
            st.arrivals += 1;
            let key = (order, st.arrivals);
            st.waiting.insert(key, tx);
            (key, rx)
        };
        loop {
            tokio::select! {
                granted = &mut rx => {
                    // A sender is only dropped unsent by `release` after removal, never here.
                    return granted.ok().map(|()| LaneSlot { lane: self.clone() });
                }
                () = tokio::time::sleep(CANCEL_POLL) => {
                    if cancel.load(Ordering::Relaxed) {
                        let removed = self.lock().waiting.remove(&key).is_some();
                        if !removed && rx.try_recv().is_ok() {
                            // Granted meanwhile: pass it on.
                            self.release();
                        }
                        return None;
                    }
                }
            }
        }
    }

    /// Gives the slot to the first waiter in card order (or frees it).
    fn release(&self) {
        let mut st = self.lock();
        while let Some((_, tx)) = st.waiting.pop_first() {
            if tx.send(()).is_ok() {
                return;
            }
        }
        st.free += 1;
    }

    /// Slots in use and clips waiting (for tests and logs).
    pub fn waiting(&self) -> usize {
        self.lock().waiting.len()
    }
}

impl Drop for LaneSlot {
    fn drop(&mut self) {
        self.lane.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_freed_slot_goes_to_the_first_clip_on_the_card() {
        let lane = LaneSlots::new(1);
        let never = AtomicBool::new(false);
        let held = lane.acquire(5, &never).await.expect("free slot");
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        // Clips 9, 3, 7 ask in that order; they must be served 3, 7, 9.
        for clip in [9usize, 3, 7] {
            let (lane2, order) = (lane.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let never = AtomicBool::new(false);
                let _slot = lane2.acquire(clip, &never).await.expect("slot");
                order.lock().unwrap().push(clip);
            }));
            while lane.waiting() < tasks.len() {
                tokio::task::yield_now().await;
            }
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![3, 7, 9]);
    }

    #[tokio::test]
    async fn a_waiter_gives_up_on_cancel_and_the_slot_is_not_lost() {
        let lane = LaneSlots::new(1);
        let cancel = Arc::new(AtomicBool::new(false));
        let held = lane.acquire(0, &cancel).await.expect("free slot");
        let waiter = {
            let (lane, cancel) = (lane.clone(), cancel.clone());
            tokio::spawn(async move { lane.acquire(1, &cancel).await.is_some() })
        };
        while lane.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        cancel.store(true, Ordering::Relaxed);
        assert!(!waiter.await.unwrap(), "cancelled while waiting");
        drop(held);
        let never = AtomicBool::new(false);
        assert!(lane.acquire(2, &never).await.is_some(), "slot came back");
    }
}
