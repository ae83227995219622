//! Jobs (`JobSchema`; iconik-api.md §6.8): polled until done or failed.

use super::date::lenient_opt;
use super::enums::JobStatus;
use super::ids::JobId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A job as returned by `GET jobs/{job_id}/`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Job {
    pub id: JobId,
    pub status: JobStatus,
    #[serde(rename = "type", default)]
    pub job_type: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub progress: Option<i64>,
    #[serde(default)]
    pub progress_processed: Option<i64>,
    #[serde(default)]
    pub progress_total: Option<i64>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub object_type: Option<String>,
    #[serde(default)]
    pub object_id: Option<uuid::Uuid>,
    #[serde(default, with = "lenient_opt")]
    pub date_created: Option<DateTime<Utc>>,
}
