//! The operator's pause of an ingest: one switch shared (by clones) between whoever pauses — the
//! window's button, the CLI's `SIGUSR1`/`SIGUSR2` — and the work that honours it: the ingest's
//! lanes start no new step and no new iconik call ([`crate::ingest`]), and uploads stop at the
//! next chunk boundary ([`crate::iconik::upload`]) to go on from the session's offset on resume.
//! What already runs (a call in flight, a chunk being sent, an encode) finishes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// A pause switch (see the module docs); clones share it. Starts running (not paused).
#[derive(Debug, Clone)]
pub struct Pause(Arc<watch::Sender<bool>>);

impl Default for Pause {
    fn default() -> Self {
        Self(Arc::new(watch::channel(false).0))
    }
}

impl Pause {
    pub fn pause(&self) {
        if !self.0.send_replace(true) {
            tracing::info!("ingest paused");
        }
    }

    pub fn resume(&self) {
        if self.0.send_replace(false) {
            tracing::info!("ingest resumed");
        }
    }

    pub fn is_paused(&self) -> bool {
        *self.0.borrow()
    }

    /// Returns once not paused.
    pub async fn resumed(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives as long as `self`: `wait_for` cannot fail here.
        let _ = rx.wait_for(|paused| !*paused).await;
    }

    /// Like [`Self::resumed`], but gives up (`false`) once `cancel` is set: a paused job can
    /// still be cancelled.
    pub async fn resumed_unless(&self, cancel: &AtomicBool) -> bool {
        loop {
            if !self.is_paused() {
                return true;
            }
            if cancel.load(Ordering::Relaxed) {
                return false;
            }
            // Woken by the resume, or a few times a second to see a cancel.
            let _ = tokio::time::timeout(Duration::from_millis(200), self.resumed()).await;
        }
    }
}

/// Pauses on `SIGUSR1` and resumes on `SIGUSR2` for as long as the process runs (the CLI's
/// way to pause: `kill -USR1 <pid>`). Needs a tokio runtime.
#[cfg(unix)]
pub fn on_unix_signals(pause: Pause) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut usr1), Ok(mut usr2)) = (
        signal(SignalKind::user_defined1()),
        signal(SignalKind::user_defined2()),
    ) else {
        tracing::warn!("cannot listen for SIGUSR1/SIGUSR2: no pause from signals");
        return;
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(()) = usr1.recv() => pause.pause(),
                Some(()) = usr2.recv() => pause.resume(),
                else => return,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_go_on_at_resume_or_give_up_at_cancel() {
        let pause = Pause::default();
        let cancel = AtomicBool::new(false);
        assert!(pause.resumed_unless(&cancel).await, "not paused: at once");
        pause.pause();
        let waiter = tokio::spawn({
            let pause = pause.clone();
            async move { pause.resumed_unless(&AtomicBool::new(false)).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        pause.resume();
        assert!(waiter.await.unwrap());
        pause.pause();
        cancel.store(true, Ordering::Relaxed);
        assert!(!pause.resumed_unless(&cancel).await);
    }
}
