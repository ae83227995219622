//! `GET /API/jobs/v1/jobs/{job_id}/` (iconik-api.md §6.8), and jobs of our own: `POST jobs/`,
//! `PATCH jobs/{job_id}/` (the card's job on iconik's Jobs page).

use crate::iconik::client::{Call, Client, Service};
use crate::iconik::error::Error;
use crate::iconik::models::{Job, JobId, JobStepWrite, JobWrite};
use reqwest::Method;
use tracing::instrument;

/// Job calls.
#[derive(Debug)]
pub struct JobsHandler<'c> {
    pub(crate) client: &'c Client,
}

impl JobsHandler<'_> {
    /// `GET jobs/{job_id}/`; poll until `status.is_done()` or `is_failed()`.
    #[instrument(skip(self))]
    pub async fn get(&self, id: JobId) -> Result<Job, Error> {
        self.client
            .get(Service::Jobs, &format!("jobs/{id}"), &[])
            .await
    }

    /// `POST jobs/` → 201.
    #[instrument(skip(self, body))]
    pub async fn create(&self, body: &JobWrite) -> Result<Job, Error> {
        self.client
            .send(
                Method::POST,
                Service::Jobs,
                "jobs",
                &[],
                Some(body),
                Call::Create,
            )
            .await
    }

    /// `PUT jobs/{job_id}/steps/` `{"steps": [{"id", "label", "status", "message"}…]}`
    /// (`JobStepsUpdateSchema`): the job's steps as a whole.
    #[instrument(skip(self, steps))]
    pub async fn put_steps(&self, id: JobId, steps: &[JobStepWrite]) -> Result<Job, Error> {
        self.client
            .send(
                Method::PUT,
                Service::Jobs,
                &format!("jobs/{id}/steps"),
                &[],
                Some(&serde_json::json!({ "steps": steps })),
                Call::Plain,
            )
            .await
    }

    /// `PATCH jobs/{job_id}/`; the answer holds the job's status (an abort asked in iconik).
    #[instrument(skip(self, body))]
    pub async fn patch(&self, id: JobId, body: &JobWrite) -> Result<Job, Error> {
        self.client
            .send(
                Method::PATCH,
                Service::Jobs,
                &format!("jobs/{id}"),
                &[],
                Some(body),
                Call::Plain,
            )
            .await
    }
}
