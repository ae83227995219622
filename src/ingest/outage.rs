//! Waiting out an iconik outage: when a call's backoff ([`super::retry`]) runs out on a
//! transient error (connection refused, timeout, 5xx, 429) and iconik does not answer a probe
//! either, the card's network lane pauses as a whole — every call waits before it starts —
//! while the disk and CPU lanes go on. One probe call (`GET storages/?per_page=1`) repeats every
//! [`IngestOptions::probe_every`](super::IngestOptions::probe_every); when it answers, every
//! paused call goes on by itself with a fresh backoff. After
//! [`IngestOptions::offline_wait`](super::IngestOptions::offline_wait) the card stops as if
//! cancelled (nothing fails, the journal resumes it) and the outcome says so.
//!
//! A failing call is an outage only when the probe fails too: a call that keeps failing while
//! iconik answers (a 503 from one route) gives up after its backoff, as it always did.

use super::events::{EventKind, EventSink, IngestEvent};
use crate::iconik::Client;
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Where the network lane stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Online,
    /// iconik is unreachable since then; calls wait.
    Offline,
    /// Unreachable for longer than `offline_wait`: the card stops.
    GaveUp,
}

/// Why a wait for iconik ended without it answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The job was cancelled (by the operator, or because the outage outlasted `offline_wait`).
    Cancelled,
}

/// The outage state of one card job (shared by its card-level calls and clip steps).
#[derive(Debug)]
pub struct Outage {
    client: Client,
    events: EventSink,
    cancel: Arc<AtomicBool>,
    probe_every: Duration,
    offline_wait: Option<Duration>,
    phase: watch::Sender<Phase>,
    since: Mutex<Option<(Instant, DateTime<Utc>)>>,
    gave_up: AtomicBool,
    /// Every outage of the job, for its report.
    spans: Mutex<Vec<OfflineSpan>>,
}

/// One time iconik was unreachable during a card's run (the report lists them).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OfflineSpan {
    pub since: DateTime<Utc>,
    /// When a probe answered again; `None`: it never did (the card stopped, or still waits).
    pub back: Option<DateTime<Utc>>,
}

impl Outage {
    /// The outage state of a card job whose cancel flag is `cancel`.
    pub fn new(
        client: Client,
        events: EventSink,
        cancel: Arc<AtomicBool>,
        probe_every: Duration,
        offline_wait: Option<Duration>,
    ) -> Arc<Self> {
        Arc::new(Self {
            client,
            events,
            cancel,
            probe_every,
            offline_wait,
            phase: watch::channel(Phase::Online).0,
            since: Mutex::new(None),
            gave_up: AtomicBool::new(false),
            spans: Mutex::new(Vec::new()),
        })
    }

    /// The job's outages so far, oldest first.
    pub fn spans(&self) -> Vec<OfflineSpan> {
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The outage lasted longer than `offline_wait` and stopped the card.
    pub fn gave_up(&self) -> bool {
        self.gave_up.load(Ordering::Relaxed)
    }

    /// Returns at once while iconik is reachable; while it is not, waits until it answers
    /// again (or the job stops).
    pub async fn ready(&self) -> Result<(), Stopped> {
        let mut rx = self.phase.subscribe();
        loop {
            match *rx.borrow_and_update() {
                Phase::Online => return Ok(()),
                Phase::GaveUp => return Err(Stopped::Cancelled),
                Phase::Offline => {}
            }
            if self.cancel.load(Ordering::Relaxed) {
                return Err(Stopped::Cancelled);
            }
            // Woken by the probe's verdict, or every second to notice a cancel.
            let _ = tokio::time::timeout(Duration::from_secs(1), rx.changed()).await;
        }
    }

    /// A call's backoff ran out on a transient error. `Ok(true)`: iconik was unreachable and
    /// answers again, retry the call. `Ok(false)`: iconik answers, so the call itself fails
    /// (give up as before). `Err`: the job stopped meanwhile.
    pub async fn backoff_ran_out(self: &Arc<Self>) -> Result<bool, Stopped> {
        if *self.phase.borrow() == Phase::Online {
            if self.probe().await {
                return Ok(false);
            }
            self.go_offline();
        }
        self.ready().await.map(|()| true)
    }

    /// Online → offline once (the first caller starts the probe loop).
    fn go_offline(self: &Arc<Self>) {
        let mut started = false;
        self.phase.send_if_modified(|p| {
            if *p == Phase::Online {
                *p = Phase::Offline;
                started = true;
            }
            started
        });
        if !started {
            return;
        }
        let now = (Instant::now(), Utc::now());
        *self.since.lock().unwrap_or_else(PoisonError::into_inner) = Some(now);
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(OfflineSpan {
                since: now.1,
                back: None,
            });
        tracing::warn!(
            since = %now.1,
            every_s = self.probe_every.as_secs_f64(),
            "iconik unreachable; the network lane waits and probes"
        );
        self.events.send(IngestEvent::card(EventKind::Offline {
            since: now.1,
            retry_every_s: self.probe_every.as_secs_f64(),
        }));
        let me = Arc::clone(self);
        tokio::spawn(async move { me.probe_until_online(now.0).await });
    }

    async fn probe_until_online(&self, since: Instant) {
        loop {
            let next = Instant::now() + self.probe_every;
            while Instant::now() < next {
                if self.cancel.load(Ordering::Relaxed) {
                    // Waiters see the cancel themselves; the lane stays "offline" for them.
                    return;
                }
                let left = next.saturating_duration_since(Instant::now());
                tokio::time::sleep(left.min(Duration::from_millis(250))).await;
            }
            if self.probe().await {
                let offline_ms = since.elapsed().as_millis() as u64;
                tracing::info!(offline_ms, "iconik answers again; the network lane goes on");
                *self.since.lock().unwrap_or_else(PoisonError::into_inner) = None;
                if let Some(last) = self
                    .spans
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .last_mut()
                {
                    last.back = Some(Utc::now());
                }
                self.phase.send_replace(Phase::Online);
                self.events
                    .send(IngestEvent::card(EventKind::Online { offline_ms }));
                return;
            }
            if self.offline_wait.is_some_and(|w| since.elapsed() >= w) {
                tracing::error!(
                    waited_s = since.elapsed().as_secs(),
                    "iconik unreachable for longer than the offline wait; stopping the card"
                );
                self.gave_up.store(true, Ordering::Relaxed);
                self.cancel.store(true, Ordering::Relaxed);
                self.phase.send_replace(Phase::GaveUp);
                return;
            }
        }
    }

    /// One cheap call: does iconik answer (anything but a transient error)?
    async fn probe(&self) -> bool {
        match self.client.storages().list(1, 1).await {
            Ok(_) => true,
            Err(e) => !e.is_retryable(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outage(url: &str, wait: Option<Duration>) -> (Arc<Outage>, Arc<AtomicBool>) {
        let client = Client::new(url, crate::iconik::Credentials::new("a", "t")).unwrap();
        let cancel = Arc::new(AtomicBool::new(false));
        let o = Outage::new(
            client,
            EventSink::none(),
            cancel.clone(),
            Duration::from_millis(20),
            wait,
        );
        (o, cancel)
    }

    #[tokio::test]
    async fn an_unreachable_server_past_the_offline_wait_stops_the_card() {
        // Port 9 (discard) on loopback: connection refused.
        let (o, cancel) = outage("http://127.0.0.1:9", Some(Duration::from_millis(100)));
        assert_eq!(o.ready().await, Ok(()), "online at first");
        assert_eq!(o.backoff_ran_out().await, Err(Stopped::Cancelled));
        assert!(o.gave_up());
        assert!(
            cancel.load(Ordering::Relaxed),
            "the card stops like a cancel"
        );
        assert_eq!(o.ready().await, Err(Stopped::Cancelled));
    }
}
