//! `GET /API/jobs/v1/jobs/{job_id}/` (iconik-api.md §6.8).

use crate::iconik::client::{Client, Service};
use crate::iconik::error::Error;
use crate::iconik::models::{Job, JobId};
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
}
