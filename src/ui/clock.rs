//! The UI's time source. Elapsed times, throughput over the last seconds and ETAs are computed
//! from events against this clock, so tests can drive time by hand instead of sleeping.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where "now" comes from: the system clock, or a hand-driven one in tests.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Instant + Send + Sync>);

impl Clock {
    /// The system's monotonic clock.
    pub fn system() -> Clock {
        Clock(Arc::new(Instant::now))
    }

    /// A clock that only moves when the returned handle says so.
    pub fn manual() -> (Clock, ManualTime) {
        let now = Arc::new(Mutex::new(Instant::now()));
        let read = now.clone();
        (
            Clock(Arc::new(move || {
                *read.lock().unwrap_or_else(|e| e.into_inner())
            })),
            ManualTime(now),
        )
    }

    pub fn now(&self) -> Instant {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// Clocks never make two views differ (views compare by what they show).
impl PartialEq for Clock {
    fn eq(&self, _: &Clock) -> bool {
        true
    }
}

/// The hand of a [`Clock::manual`] clock.
#[derive(Clone, Debug)]
pub struct ManualTime(Arc<Mutex<Instant>>);

impl ManualTime {
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let (clock, hand) = Clock::manual();
        let t0 = clock.now();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), t0);
        hand.advance(Duration::from_secs(3));
        assert_eq!(clock.now() - t0, Duration::from_secs(3));
    }
}
