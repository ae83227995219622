//! Backoff policy for retryable iconik and upload errors: capped exponential with jitter, honours
//! `Retry-After`, and slows down when `RateLimit-Remaining` runs low (iconik allows ~1000 requests
//! per 20 s window; AIO slows proactively — iconik-api.md §2). The client only classifies errors;
//! callers own the retry loop and use this to size the pauses.

use std::time::Duration;

/// Backoff settings and state (the attempt counter).
#[derive(Debug, Clone)]
pub struct Backoff {
    /// First delay.
    pub base: Duration,
    /// Cap of the exponential part.
    pub max: Duration,
    /// Relative jitter, e.g. 0.15 = ±15 %.
    pub jitter: f64,
    /// Maximum number of retries before giving up.
    pub max_retries: u32,
    /// Below this `RateLimit-Remaining`, pauses grow.
    pub low_remaining: i64,
    /// Extra pause per missing request under `low_remaining`.
    pub per_missing_request: Duration,
    /// Longest `Retry-After` that is honoured as-is (guards against absurd values).
    pub max_retry_after: Duration,
    attempt: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            max: Duration::from_secs(30),
            jitter: 0.15,
            max_retries: 5,
            low_remaining: 50,
            per_missing_request: Duration::from_millis(40),
            max_retry_after: Duration::from_secs(300),
            attempt: 0,
        }
    }
}

/// What the last failure said about pacing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryHint {
    pub retry_after: Option<Duration>,
    pub rate_limit_remaining: Option<i64>,
}

impl From<&super::Error> for RetryHint {
    fn from(e: &super::Error) -> Self {
        Self {
            retry_after: e.retry_after(),
            rate_limit_remaining: e.rate_limit_remaining(),
        }
    }
}

impl Backoff {
    /// A backoff with the given base and cap, defaults otherwise.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            ..Self::default()
        }
    }

    /// Retries used so far.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Forget earlier failures (after progress was made).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The next pause, or `None` once `max_retries` are used up. Jitter from the thread RNG.
    pub fn next_delay(&mut self, hint: RetryHint) -> Option<Duration> {
        let unit: f64 = rand::Rng::random_range(&mut rand::rng(), 0.0..=1.0);
        self.next_delay_with(hint, unit)
    }

    /// Deterministic core of [`Self::next_delay`]: `unit` ∈ [0, 1] picks the jitter
    /// (0 → −jitter, 0.5 → none, 1 → +jitter).
    pub fn next_delay_with(&mut self, hint: RetryHint, unit: f64) -> Option<Duration> {
        if self.attempt >= self.max_retries {
            return None;
        }
        let n = self.attempt;
        self.attempt += 1;
        Some(self.delay_for(n, hint, unit))
    }

    /// Pause before retry number `n` (0-based) without touching the state.
    pub fn delay_for(&self, n: u32, hint: RetryHint, unit: f64) -> Duration {
        let base = if let Some(ra) = hint.retry_after {
            // The server said when; no jitter below it, no exponential on top of it.
            ra.min(self.max_retry_after)
        } else {
            let exp = self
                .base
                .saturating_mul(2u32.saturating_pow(n.min(31)))
                .min(self.max);
            let factor = 1.0 + self.jitter * (unit.clamp(0.0, 1.0) * 2.0 - 1.0);
            exp.mul_f64(factor.max(0.0))
        };
        base + self.throttle_delay(hint.rate_limit_remaining)
    }

    /// Proactive pause for a low `RateLimit-Remaining` (zero when unknown or comfortable).
    pub fn throttle_delay(&self, remaining: Option<i64>) -> Duration {
        match remaining {
            Some(r) if r < self.low_remaining => {
                let missing = (self.low_remaining - r.max(0)) as u32;
                self.per_missing_request.saturating_mul(missing)
            }
            _ => Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b() -> Backoff {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(30))
    }

    #[test]
    fn exponential_capped_without_jitter_at_midpoint() {
        let b = b();
        let h = RetryHint::default();
        let got: Vec<u64> = (0..7)
            .map(|n| b.delay_for(n, h, 0.5).as_millis() as u64)
            .collect();
        assert_eq!(got, vec![1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    }

    #[test]
    fn jitter_bounds() {
        let b = b();
        let h = RetryHint::default();
        assert_eq!(b.delay_for(1, h, 0.0), Duration::from_millis(1700));
        assert_eq!(b.delay_for(1, h, 1.0), Duration::from_millis(2300));
        for i in 0..50 {
            let mut bb = b.clone();
            bb.attempt = 2;
            let d = bb.next_delay(h).unwrap();
            assert!(
                d >= Duration::from_millis(3400) && d <= Duration::from_millis(4600),
                "{i}: {d:?}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let b = b();
        let h = RetryHint {
            retry_after: Some(Duration::from_secs(7)),
            rate_limit_remaining: None,
        };
        assert_eq!(b.delay_for(4, h, 0.0), Duration::from_secs(7));
        let h = RetryHint {
            retry_after: Some(Duration::from_secs(3600)),
            rate_limit_remaining: None,
        };
        assert_eq!(b.delay_for(0, h, 0.5), Duration::from_secs(300));
    }

    #[test]
    fn low_rate_limit_remaining_slows_down() {
        let b = b();
        assert_eq!(b.throttle_delay(None), Duration::ZERO);
        assert_eq!(b.throttle_delay(Some(500)), Duration::ZERO);
        assert_eq!(b.throttle_delay(Some(50)), Duration::ZERO);
        assert_eq!(b.throttle_delay(Some(40)), Duration::from_millis(400));
        assert_eq!(b.throttle_delay(Some(0)), Duration::from_millis(2000));
        assert_eq!(b.throttle_delay(Some(-3)), Duration::from_millis(2000));
        let h = RetryHint {
            retry_after: None,
            rate_limit_remaining: Some(0),
        };
        assert_eq!(b.delay_for(0, h, 0.5), Duration::from_millis(3000));
    }

    #[test]
    fn gives_up_after_max_retries_and_resets() {
        let mut b = b();
        b.max_retries = 3;
        let h = RetryHint::default();
        assert_eq!(b.next_delay_with(h, 0.5), Some(Duration::from_secs(1)));
        assert_eq!(b.next_delay_with(h, 0.5), Some(Duration::from_secs(2)));
        assert_eq!(b.next_delay_with(h, 0.5), Some(Duration::from_secs(4)));
        assert_eq!(b.next_delay_with(h, 0.5), None);
        b.reset();
        assert_eq!(b.next_delay_with(h, 0.5), Some(Duration::from_secs(1)));
    }
}
