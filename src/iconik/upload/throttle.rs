//! The upload bandwidth cap (`--max-upload-rate 20M`): one token bucket shared by every upload
//! of an [`super::UploadHttp`] and its clones — the process builds one — so a set uplink shared
//! with video calls and editors sees at most that rate from card-ingest, however many proxies
//! go at once.
//!
//! Each body frame (≤ 1 MiB, [`super::file_body`]) reserves its bytes before it is handed to the
//! connection; the bucket runs into debt, and the frame waits until the debt is paid at the rate.
//! Concurrent uploads therefore share the rate in the order they asked. The bucket holds at most
//! [`BURST_SECS`] of the rate in credit (at least [`MIN_BURST`]): enough that the round trip
//! between two chunks (no body bytes flow while the storage answers) is made up, not lost —
//! with one frame of credit a 512 MiB upload at 20 MiB/s took 7 % longer than the cap —
//! while an idle uplink still does not save up for a long burst.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Credit an idle bucket keeps, in seconds of the rate...
pub const BURST_SECS: f64 = 0.25;
/// ...and at least one body frame.
pub const MIN_BURST: u64 = 1024 * 1024;

#[derive(Debug, Default)]
struct Bucket {
    /// Bytes per second; `None` = no cap.
    rate: Option<u64>,
    /// Credit in bytes (negative: debt the next bytes wait for).
    tokens: f64,
    /// When `tokens` was last brought up to date.
    at: Option<Instant>,
}

/// A token bucket of bytes (see the module docs).
#[derive(Debug, Default)]
pub struct UploadRate {
    bucket: Mutex<Bucket>,
}

impl UploadRate {
    /// Caps uploads at `rate` bytes per second from now on (`None`: no cap).
    pub fn set(&self, rate: Option<u64>) {
        let mut b = self.lock();
        if b.rate != rate {
            *b = Bucket {
                rate: rate.filter(|r| *r > 0),
                tokens: 0.0,
                at: None,
            };
        }
    }

    /// The cap in bytes per second.
    pub fn rate(&self) -> Option<u64> {
        self.lock().rate
    }

    /// Takes `bytes` at `now` and says how long they must wait before they go.
    pub fn reserve(&self, bytes: u64, now: Instant) -> Duration {
        let mut b = self.lock();
        let Some(rate) = b.rate else {
            return Duration::ZERO;
        };
        let rate = rate as f64;
        let burst = (rate * BURST_SECS).max(MIN_BURST as f64);
        let earned = b.at.map_or(burst, |at| {
            now.saturating_duration_since(at).as_secs_f64() * rate
        });
        b.tokens = (b.tokens + earned).min(burst) - bytes as f64;
        b.at = Some(now);
        if b.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-b.tokens / rate)
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A rate as `--max-upload-rate` takes it: bytes per second with an optional binary suffix
/// (`K`, `M`, `G`; `20M` = 20 MiB/s), optionally followed by `B`, `iB` and/or `/s`.
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let bad = || format!("{text:?} is not a rate: write e.g. 20M (MiB/s), 500K or 1G");
    let t = text.trim();
    let t = t.strip_suffix("/s").unwrap_or(t);
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, factor) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&t[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    let n: u64 = digits.trim().parse().map_err(|_| bad())?;
    match n.checked_mul(factor) {
        Some(0) | None => Err(bad()),
        Some(rate) => Ok(rate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// Sends `total` bytes in 1 MiB frames from `uploads` uploads taking turns, on a fake clock
    /// that moves only by the waits the bucket hands out; returns the fake time it took.
    fn fake_clock_upload(rate: &UploadRate, total: u64, uploads: u64) -> Duration {
        let start = Instant::now();
        let mut now = start;
        let mut sent = 0;
        while sent < total {
            for _ in 0..uploads {
                let frame = MIB.min(total - sent);
                if frame == 0 {
                    break;
                }
                now += rate.reserve(frame, now);
                sent += frame;
            }
        }
        now - start
    }

    #[test]
    fn uploads_share_one_rate() {
        let rate = UploadRate::default();
        rate.set(Some(20 * MIB));
        // 512 MiB at 20 MiB/s: 25.6 s minus the first credit (0.25 s of the rate).
        let took = fake_clock_upload(&rate, 512 * MIB, 1);
        assert!((took.as_secs_f64() - 25.35).abs() < 1e-3, "{took:?}");
        // Four uploads at once share the same 20 MiB/s: the same bytes take as long.
        rate.set(None);
        rate.set(Some(20 * MIB));
        let took = fake_clock_upload(&rate, 512 * MIB, 4);
        assert!((took.as_secs_f64() - 25.35).abs() < 1e-3, "{took:?}");
    }

    #[test]
    fn an_idle_bucket_keeps_a_quarter_second_of_credit_and_no_cap_never_waits() {
        let rate = UploadRate::default();
        let t0 = Instant::now();
        assert_eq!(rate.reserve(100 * MIB, t0), Duration::ZERO, "no cap");
        rate.set(Some(8 * MIB));
        // 2 MiB of credit, then 125 ms per MiB.
        assert_eq!(rate.reserve(MIB, t0), Duration::ZERO);
        assert_eq!(rate.reserve(MIB, t0), Duration::ZERO);
        assert_eq!(rate.reserve(MIB, t0), Duration::from_millis(125));
        // An hour idle earns no more than the same 2 MiB.
        let later = t0 + Duration::from_secs(3600);
        assert_eq!(rate.reserve(2 * MIB, later), Duration::ZERO);
        assert_eq!(rate.reserve(MIB, later), Duration::from_millis(125));
    }

    #[test]
    fn rates_read_with_binary_suffixes() {
        assert_eq!(parse_rate("20M"), Ok(20 * MIB));
        assert_eq!(parse_rate("20MiB/s"), Ok(20 * MIB));
        assert_eq!(parse_rate("500K"), Ok(500 * 1024));
        assert_eq!(parse_rate("1G"), Ok(1 << 30));
        assert_eq!(parse_rate("1000"), Ok(1000));
        for bad in ["", "M", "0", "1.5M", "-3M", "20X"] {
            assert!(parse_rate(bad).is_err(), "{bad:?}");
        }
    }
}
