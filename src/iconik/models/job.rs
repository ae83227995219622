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

/// The body of `POST jobs/` and `PATCH jobs/{job_id}/` for a job of our own (`JobSchema`):
/// only the fields set are sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JobWrite {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<JobStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<JobId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<uuid::Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_processed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_total: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// One step of a job of our own (`JobStepUpdateBulkSchema`): the id is ours, kept to update it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobStepWrite {
    pub id: uuid::Uuid,
    pub label: String,
    /// `IN_PROGRESS`, `WAITING`, `FAILED`, `DONE` or `SKIPPED`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
