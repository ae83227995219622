//! Typed progress events of a card job, sent over a channel; the pipeline knows nothing of
//! how they are shown (CLI lines, `--json`, a future GUI).

use super::step::{Lane, Step};
use serde::Serialize;

/// One event. Clip-level events carry `clip_id`/`clip_name`/`step`; card-level ones don't.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestEvent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
    /// The lane the step runs on (added field; absent on card-level events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lane: Option<Lane>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A card job starts with this many clips to ingest.
    CardStarted { card: String, clips: usize },
    /// A card-level message for the operator, e.g. what the FILES storage's settings mean for
    /// this card (`warning`: what will go wrong and how to fix it in iconik).
    Notice { level: NoticeLevel, message: String },
    /// A step started.
    Started,
    /// Byte progress of a step (checksum, offload, proxy, upload).
    Progress {
        done_bytes: u64,
        total_bytes: u64,
        rate_bytes_per_s: Option<f64>,
        eta_secs: Option<f64>,
    },
    /// A transient error; the step is retried after `delay_ms`.
    Retrying {
        attempt: u32,
        delay_ms: u64,
        error: String,
    },
    /// The step finished; `detail` names what it made (ids, sizes).
    Done { detail: Option<String> },
    /// The step failed after retries (or at once for non-retryable errors).
    Failed { error: String, retryable: bool },
    /// The step (or the whole clip) was skipped.
    Skipped { reason: String },
    /// The clip's run is over (until a retry): how it stands now, whichever steps it skipped
    /// or an earlier run did (so a face counts it done without knowing the steps).
    ClipFinished { status: super::report::ClipStatus },
    /// iconik stopped answering beyond the backoff: the network lane waits (disk and CPU lanes
    /// go on) and a probe call repeats every `retry_every_s` ([`super::outage`]).
    Offline {
        since: chrono::DateTime<chrono::Utc>,
        retry_every_s: f64,
    },
    /// The probe answered: the network lane goes on after `offline_ms` without iconik.
    Online { offline_ms: u64 },
    /// The card's first-tier copy is verified: the card may be ejected (and go back to the
    /// camera) while later tiers (`--cascade-to`, copied from that copy) and the registration
    /// go on. `from` is the first destination as the offload resolved it, `copy` the card's
    /// folder there.
    CardReleased {
        card: String,
        from: String,
        copy: String,
    },
    /// Every clip has finished or failed.
    CardFinished {
        card: String,
        completed: usize,
        failed: usize,
        skipped: usize,
        /// Whether the card may be erased now ([`super::erase`]).
        #[serde(default)]
        safe_to_erase: bool,
        /// One short line per condition of that verdict, met (`✓`) or not (`✗`).
        #[serde(default)]
        evidence: Vec<String>,
    },
}

/// How much a [`EventKind::Notice`] matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeLevel {
    /// Something the app does because of a setting (e.g. applying an ACL template).
    Info,
    /// Something that will go wrong unless the operator changes a setting in iconik.
    Warning,
}

/// The `detail` of a finished create-asset step: `asset <id>` (read back by
/// [`IngestEvent::created_asset`]).
pub fn asset_detail(id: impl std::fmt::Display) -> String {
    format!("asset {id}")
}

impl IngestEvent {
    /// The asset id a finished create-asset step reports (for links while the job runs).
    pub fn created_asset(&self) -> Option<&str> {
        match (&self.step, &self.kind) {
            (Some(Step::CreateAsset), EventKind::Done { detail: Some(d) }) => {
                // `asset <id>`, possibly followed by what else the step did.
                d.strip_prefix("asset ")
                    .and_then(|rest| rest.split_whitespace().next())
            }
            _ => None,
        }
    }

    /// A card-level event.
    pub fn card(kind: EventKind) -> Self {
        Self {
            clip_id: None,
            clip_name: None,
            step: None,
            lane: None,
            kind,
        }
    }
}

/// Sender half handed to the engine; sending never fails the job (no listener = ignored).
#[derive(Debug, Clone)]
pub struct EventSink(Option<Listener>);

#[derive(Clone)]
enum Listener {
    Channel(tokio::sync::mpsc::UnboundedSender<IngestEvent>),
    Call(std::sync::Arc<dyn Fn(IngestEvent) + Send + Sync>),
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Listener::Channel(_) => "Channel",
            Listener::Call(_) => "Call",
        })
    }
}

impl EventSink {
    pub fn new(tx: tokio::sync::mpsc::UnboundedSender<IngestEvent>) -> Self {
        Self(Some(Listener::Channel(tx)))
    }

    /// A sink that calls `f` in the emitting task, before the engine goes on: for a listener
    /// that must act at an exact point of the run (a test's Cancel), not some time later.
    /// `f` must be quick and must not block.
    pub fn call(f: impl Fn(IngestEvent) + Send + Sync + 'static) -> Self {
        Self(Some(Listener::Call(std::sync::Arc::new(f))))
    }

    /// A sink that drops everything.
    pub fn none() -> Self {
        Self(None)
    }

    pub fn send(&self, event: IngestEvent) {
        match &self.0 {
            Some(Listener::Channel(tx)) => {
                // No listener any more (the window closed): the job goes on regardless.
                let _ = tx
                    .send(event)
                    .inspect_err(|_| tracing::trace!("event listener gone"));
            }
            Some(Listener::Call(f)) => f(event),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outage_transitions_print_as_json_lines() {
        let since = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:42:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let off = IngestEvent::card(EventKind::Offline {
            since,
            retry_every_s: 30.0,
        });
        assert_eq!(
            serde_json::to_value(&off).unwrap(),
            serde_json::json!({"event": "offline", "since": "2026-12-07T10:42:00Z", "retry_every_s": 30.0})
        );
        let on = IngestEvent::card(EventKind::Online { offline_ms: 90_500 });
        assert_eq!(
            serde_json::to_value(&on).unwrap(),
            serde_json::json!({"event": "online", "offline_ms": 90_500})
        );
    }

    #[test]
    fn created_asset_reads_the_create_asset_detail_only() {
        let ev = |step, detail: &str| IngestEvent {
            clip_id: Some("c".into()),
            clip_name: None,
            step: Some(step),
            lane: Some(step.lane()),
            kind: EventKind::Done {
                detail: Some(detail.to_owned()),
            },
        };
        let id = "6f1c2d3e-0000-4000-8000-000000000001";
        assert_eq!(
            ev(Step::CreateAsset, &asset_detail(id)).created_asset(),
            Some(id)
        );
        assert_eq!(
            ev(Step::CreateFileSet, &asset_detail(id)).created_asset(),
            None
        );
        assert_eq!(ev(Step::CreateAsset, "reused").created_asset(), None);
    }
}
