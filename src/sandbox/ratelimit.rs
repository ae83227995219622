//! iconik-like rate limiting (iconik-api.md §2): ≈ 50 requests/s sustained and 1000 requests in
//! any 20 s window, reported in `RateLimit-Remaining`; over the limit → 429. Off unless the
//! sandbox is started with rate limiting on; the header is sent either way.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Limits: at most `per_second` requests in any second and `per_window` in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: usize,
    pub per_window: usize,
    pub window: Duration,
}

impl RateLimit {
    /// iconik's documented limits (iconik-api.md §2).
    pub const ICONIK: RateLimit = RateLimit {
        per_second: 50,
        per_window: 1000,
        window: Duration::from_secs(20),
    };
}

/// Sliding-window counters over the recent request times.
#[derive(Debug)]
pub struct RateLimiter {
    /// `None`: count for the header, never refuse.
    limit: Option<RateLimit>,
    recent: VecDeque<Instant>,
}

/// The decision for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub remaining: usize,
}

impl RateLimiter {
    pub fn new(limit: Option<RateLimit>) -> Self {
        RateLimiter {
            limit,
            recent: VecDeque::new(),
        }
    }

    /// Counts one request at `now`.
    pub fn check(&mut self, now: Instant) -> Decision {
        let limit = self.limit.unwrap_or(RateLimit::ICONIK);
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= limit.window)
        {
            self.recent.pop_front();
        }
        let last_second = self
            .recent
            .iter()
            .rev()
            .take_while(|t| now.duration_since(**t) < Duration::from_secs(1))
            .count();
        let remaining_now = limit
            .per_window
            .saturating_sub(self.recent.len())
            .min(limit.per_second.saturating_sub(last_second));
        if self.limit.is_some() && remaining_now == 0 {
            return Decision {
                allowed: false,
                remaining: 0,
            };
        }
        self.recent.push_back(now);
        Decision {
            allowed: true,
            remaining: remaining_now.saturating_sub(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifty_per_second_then_429() {
        let mut rl = RateLimiter::new(Some(RateLimit::ICONIK));
        let t = Instant::now();
        for i in 0..50 {
            let d = rl.check(t);
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 49 - i);
        }
        assert_eq!(
            rl.check(t),
            Decision {
                allowed: false,
                remaining: 0
            }
        );
        assert!(rl.check(t + Duration::from_secs(1)).allowed);
    }

    #[test]
    fn window_of_1000_per_20_seconds() {
        let mut rl = RateLimiter::new(Some(RateLimit::ICONIK));
        let t = Instant::now();
        for i in 0..1000u64 {
            // 50 per second: at the per-second limit, so only the window bites.
            assert!(
                rl.check(t + Duration::from_millis(i * 20)).allowed,
                "request {i}"
            );
        }
        assert!(!rl.check(t + Duration::from_millis(19_990)).allowed);
    }
}
