//! Ingest engine: turns each scanned clip into an iconik asset through typed steps (offload copy and
//! checksum → create asset → … → proxy upload → keyframes), resumable after a crash.
//!
//! - [`step`]: the [`Step`] enum; [`record`]: what the [`journal`] keeps per clip (states, ids,
//!   upload session, checksums); [`events`] out, [`commands`] in; [`options`] = CLI flags.
//! - [`engine`]: runs one card job ([`Engine::run_card`]); [`steps`] does each step's work;
//!   [`retry`] retries transient iconik errors; [`outage`] pauses the network lane while iconik
//!   is unreachable beyond that backoff; [`dedupe`] looks objects up before creating;
//!   [`jobs_page`] shows the card and its clips on iconik's Jobs page (where it can be aborted).
//! - [`session`]: one run of one or more cards, whichever face started it (CLI or window):
//!   engine per card, commands, verdict, report, notifications, transcript. [`selection`]
//!   splits a card's clips into the run and the left-out (not selected, blocked, waiting).
//! - [`lookup`]: the preview's "already in iconik" check; [`resume`]: unfinished journals.
//! - [`transcript`]: the `--transcript` curl script (a [`crate::iconik::CallObserver`]);
//!   [`report`]: the HTML + CSV ingest report written after a card, filled by [`summary`].

pub mod cloud_evidence;
pub mod commands;
mod commit;
pub mod dedupe;
pub mod engine;
pub mod erase;
pub mod events;
pub mod jobs_page;
pub mod journal;
pub mod lookup;
pub mod options;
pub mod outage;
pub mod record;
pub mod report;
pub mod report_pdf;
pub mod resume;
pub mod retry;
pub mod scheduler;
pub mod selection;
pub mod session;
pub mod step;
pub mod steps;
pub mod storage_path;
pub mod storage_policy;
pub mod storage_target;
pub mod summary;
pub mod transcript;

pub use commands::IngestCommand;
pub use engine::{CardJob, CardOutcome, Engine, IngestError, OffloadHook};
pub use events::{EventKind, EventSink, IngestEvent, NoticeLevel};
pub use options::{IngestOptions, ProxyMode};
pub use record::{CardRecord, ClipRecord, StepState};
pub use selection::{CardPlan, LeftOut, LeftOutReason};
pub use step::Step;
