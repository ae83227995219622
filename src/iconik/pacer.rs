//! Client-side pacing under iconik's rate limit (iconik-api.md §2: ≈ 50 requests/s sustained
//! and 1000 per any 20 s window, per user + app token). [`Pacer`] hands out call slots at
//! `per_second` (45 by default: the documented 50 with a margin, as real clients do) and never
//! more than [`WINDOW_BUDGET`] in any [`WINDOW`]. `RateLimit-Remaining` only slows it down when
//! the server says the budget is really nearly spent (≤ [`LOW_REMAINING`]): at a 45/s pace
//! against a 50/s budget the header always sits a few requests above zero, and treating that as
//! "low" halved the throughput. 429 + `Retry-After` stay the retry loop's business.

use super::Client;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Default calls per second (iconik allows ≈ 50).
pub const DEFAULT_PER_SECOND: u32 = 45;
/// The sliding window of iconik's second budget.
pub const WINDOW: Duration = Duration::from_secs(20);
/// Calls allowed per [`WINDOW`] (iconik: 1000; a margin for clocks and other clients).
pub const WINDOW_BUDGET: usize = 950;
/// At or below this `RateLimit-Remaining` the pacer pauses before the next call.
pub const LOW_REMAINING: i64 = 2;
/// Slots a moment with no call waiting may lend to the next calls. Without it every such gap
/// (all clips waiting on a response) was lost for good, and a 45/s pace gave ~42.5 calls/s
/// on a 20-clip card. With it, any one-second window still holds at most `per_second` + this:
/// 47 at the default pace, so iconik's `RateLimit-Remaining` (50 minus the last second's
/// calls) stays above [`LOW_REMAINING`]. Four (49) brought it to 1 and the 200 ms pauses
/// cost more than the lent slots gained.
pub const BURST: u32 = 2;

#[derive(Debug)]
struct Slots {
    next: Instant,
    /// Slot times of the last [`WINDOW_BUDGET`] calls.
    recent: VecDeque<Instant>,
}

/// Spaces the iconik calls of every task sharing it (one per token and job).
#[derive(Debug)]
pub struct Pacer {
    slots: tokio::sync::Mutex<Slots>,
    min_interval: Duration,
    window_budget: usize,
}

impl Pacer {
    /// At most `per_second` calls per second and [`WINDOW_BUDGET`] per [`WINDOW`].
    pub fn new(per_second: u32) -> Self {
        Self::with_window(per_second, WINDOW_BUDGET)
    }

    /// Like [`Self::new`] with another per-window budget (tests).
    pub fn with_window(per_second: u32, window_budget: usize) -> Self {
        Self {
            slots: tokio::sync::Mutex::new(Slots {
                next: Instant::now(),
                recent: VecDeque::new(),
            }),
            min_interval: Duration::from_secs(1) / per_second.max(1),
            window_budget: window_budget.max(1),
        }
    }

    /// Pause for a `RateLimit-Remaining` value: none while the budget lasts; near zero, the
    /// time one second's budget takes to refill a little.
    pub fn throttle_delay(remaining: Option<i64>) -> Duration {
        match remaining {
            Some(r) if r <= LOW_REMAINING => {
                Duration::from_millis(100)
                    * u32::try_from(LOW_REMAINING + 1 - r.max(0)).unwrap_or(1)
            }
            _ => Duration::ZERO,
        }
    }

    /// The slot of a call asked for at `now` (and books it).
    fn book(&self, slots: &mut Slots, now: Instant, extra: Duration) -> Instant {
        let lent = now.checked_sub(self.min_interval * BURST).unwrap_or(now);
        let mut slot = slots.next.max(lent) + extra;
        while slots
            .recent
            .front()
            .is_some_and(|t| slot.duration_since(*t) >= WINDOW)
        {
            slots.recent.pop_front();
        }
        if slots.recent.len() >= self.window_budget
            && let Some(oldest) = slots.recent.front()
        {
            // The window is full: wait until its oldest call leaves it.
            slot = slot.max(*oldest + WINDOW);
            slots.recent.pop_front();
        }
        slots.recent.push_back(slot);
        slots.next = slot + self.min_interval;
        slot
    }

    /// Waits for this call's slot.
    pub async fn wait(&self, client: &Client) {
        let extra = Self::throttle_delay(client.rate_limit_remaining());
        let slot = {
            let mut slots = self.slots.lock().await;
            self.book(&mut slots, Instant::now(), extra)
        };
        tokio::time::sleep_until(slot.into()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_spaced_at_the_pace() {
        let p = Pacer::new(40);
        let mut s = Slots {
            next: Instant::now(),
            recent: VecDeque::new(),
        };
        let t0 = Instant::now();
        let slots: Vec<Instant> = (0..5).map(|_| p.book(&mut s, t0, Duration::ZERO)).collect();
        for w in slots.windows(2) {
            assert_eq!(w[1] - w[0], Duration::from_millis(25));
        }
    }

    #[test]
    fn an_idle_moment_lends_at_most_burst_slots_and_no_second_exceeds_the_budget() {
        let p = Pacer::new(45);
        let t0 = Instant::now() + Duration::from_secs(5);
        let mut s = Slots {
            next: t0 - Duration::from_secs(2),
            recent: VecDeque::new(),
        };
        // 200 calls all asked for at t0, after two idle seconds.
        let slots: Vec<Instant> = (0..200)
            .map(|_| p.book(&mut s, t0, Duration::ZERO))
            .collect();
        let at_once = slots.iter().filter(|t| **t <= t0).count();
        assert_eq!(at_once, BURST as usize + 1, "the lent slots and t0 itself");
        for (i, start) in slots.iter().enumerate() {
            let within = slots[i..]
                .iter()
                .filter(|t| t.duration_since(*start) < Duration::from_secs(1))
                .count();
            assert!(
                within <= 45 + BURST as usize,
                "{within} calls in one second"
            );
        }
        // Past the burst the pace is the plain one.
        assert_eq!(slots[10] - slots[9], Duration::from_secs(1) / 45);
    }

    #[test]
    fn a_full_window_waits_for_its_oldest_call() {
        let p = Pacer::with_window(1000, 3);
        let mut s = Slots {
            next: Instant::now(),
            recent: VecDeque::new(),
        };
        let t0 = Instant::now();
        let first = p.book(&mut s, t0, Duration::ZERO);
        p.book(&mut s, t0, Duration::ZERO);
        p.book(&mut s, t0, Duration::ZERO);
        let fourth = p.book(&mut s, t0, Duration::ZERO);
        assert_eq!(
            fourth,
            first + WINDOW,
            "the 4th call waits for the 1st to age out"
        );
    }

    #[test]
    fn remaining_slows_down_only_when_nearly_spent() {
        assert_eq!(Pacer::throttle_delay(None), Duration::ZERO);
        assert_eq!(Pacer::throttle_delay(Some(49)), Duration::ZERO);
        assert_eq!(Pacer::throttle_delay(Some(3)), Duration::ZERO);
        assert_eq!(Pacer::throttle_delay(Some(2)), Duration::from_millis(100));
        assert_eq!(Pacer::throttle_delay(Some(0)), Duration::from_millis(300));
        assert_eq!(Pacer::throttle_delay(Some(-4)), Duration::from_millis(300));
    }
}
