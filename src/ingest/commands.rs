//! Commands into a running card job (from the UI or a test): retry a failed step, retry
//! everything failed, cancel.

use super::step::Step;
use serde::{Deserialize, Serialize};

/// What the operator asks of a running [`super::engine::Engine::run_card`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IngestCommand {
    /// Redo `step` and the steps after it for one clip (ids of earlier steps are kept).
    RetryStep { clip_id: String, step: Step },
    /// Redo the failed step (and later ones) of every failed clip.
    RetryAllFailed,
    /// Stop at the next safe point; the journal keeps what was done.
    Cancel,
}
