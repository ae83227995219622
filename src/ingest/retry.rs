//! Automatic retry of transient iconik errors (429 honouring `RateLimit-Remaining`, 5xx, resets,
//! timeouts, lost responses) with capped exponential backoff and jitter, with the client-side
//! pacer re-exported from [`crate::iconik::pacer`] (≈ 45 requests/s, iconik-api.md §2). A 401 is never retried: the caller stops the job.

use super::outage::Outage;
#[cfg(test)]
use crate::iconik::Client;
use crate::iconik::Error;
use crate::iconik::retry::{Backoff, RetryHint};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
#[cfg(test)]
use std::time::Instant;

/// The message shown when iconik refuses the token.
pub const TOKEN_REFUSED: &str = "the iconik token was refused (401): log in again with \
     `card-ingest login --server URL --app-id ID` or fix ICONIK_AUTH_TOKEN";

/// The pacer lives with the iconik client (`crate::iconik::pacer`); re-exported for callers.
pub use crate::iconik::pacer::Pacer;

/// One failed attempt as reported to the caller's observer.
#[derive(Debug, Clone)]
pub struct RetryNotice {
    pub attempt: u32,
    pub delay: Duration,
    pub error: String,
}

/// Why [`run`] gave up.
#[derive(Debug)]
pub enum Gave {
    /// The error is not transient (or retries ran out): report it.
    Up(Error),
    /// Cancelled while waiting.
    Cancelled,
}

/// Runs `op(attempt)` until it succeeds, fails permanently, or retries run out. `op` gets the
/// attempt number (0 first) and must look objects up before creating again when `attempt > 0`
/// (a lost response may have committed the create, §9).
pub async fn run<T, F, Fut>(
    backoff: &Backoff,
    cancel: &Arc<AtomicBool>,
    notice: &mut (dyn FnMut(RetryNotice) + Send),
    op: F,
) -> Result<T, Gave>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    run_waiting(backoff, cancel, None, None, notice, op).await
}

/// [`run`] for a card job's calls: each attempt waits while the operator paused the job
/// (`pause`) or the network lane is paused for an outage, and when the backoff runs out while
/// iconik is unreachable, the call waits for it ([`Outage`]) and goes on with a fresh backoff.
/// A job stopped by an outage gives [`Gave::Cancelled`].
pub async fn run_waiting<T, F, Fut>(
    backoff: &Backoff,
    cancel: &Arc<AtomicBool>,
    outage: Option<&Arc<Outage>>,
    pause: Option<&crate::pause::Pause>,
    notice: &mut (dyn FnMut(RetryNotice) + Send),
    mut op: F,
) -> Result<T, Gave>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut backoff = backoff.clone();
    backoff.reset();
    let mut attempt = 0;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(Gave::Cancelled);
        }
        if let Some(p) = pause
            && !p.resumed_unless(cancel).await
        {
            return Err(Gave::Cancelled);
        }
        if let Some(o) = outage {
            o.ready().await.map_err(|_| Gave::Cancelled)?;
        }
        match op(attempt).await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_auth() || !e.is_retryable() => return Err(Gave::Up(e)),
            Err(e) => {
                let delay = match (backoff.next_delay(RetryHint::from(&e)), outage) {
                    (Some(delay), _) => delay,
                    (None, None) => return Err(Gave::Up(e)),
                    (None, Some(o)) => match o.backoff_ran_out().await {
                        Ok(true) => {
                            backoff.reset();
                            Duration::ZERO
                        }
                        Ok(false) => return Err(Gave::Up(e)),
                        Err(_) => return Err(Gave::Cancelled),
                    },
                };
                attempt += 1;
                tracing::debug!(attempt, ?delay, error = %e, "retrying iconik call");
                notice(RetryNotice {
                    attempt,
                    delay,
                    error: e.to_string(),
                });
                tokio::time::sleep(delay).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pacer_spaces_calls() {
        let client = Client::new(
            "http://127.0.0.1:9",
            crate::iconik::Credentials::new("a", "t"),
        )
        .expect("loopback client");
        let pacer = Pacer::new(100);
        let start = Instant::now();
        for _ in 0..11 {
            pacer.wait(&client).await;
        }
        // 11 calls at 100/s: the last one waits for 10 intervals of 10 ms.
        assert!(
            start.elapsed() >= Duration::from_millis(95),
            "{:?}",
            start.elapsed()
        );
    }
}
