//! Ingest engine: turns each scanned clip into an iconik asset through typed steps (checksum →
//! offload → create asset → … → proxy upload → keyframes), resumable after a crash.
//!
//! Built so far: [`journal`], the crash-safe per-card state file with its process lock;
//! [`transcript`], the `--transcript` curl script (a [`crate::iconik::CallObserver`]); and
//! [`report`], the HTML + CSV ingest report written after a card. The engine and its step records
//! come later and use [`crate::checksum`], [`crate::offload`] and [`crate::mhl`] as building
//! blocks.

pub mod journal;
pub mod report;
pub mod transcript;
