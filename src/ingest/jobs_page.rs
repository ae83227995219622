//! The ingest on iconik's Jobs page (`/API/jobs/v1/`): one `CUSTOM` job per card
//! (`custom_type` [`CUSTOM_TYPE`], titled with the card's name) whose progress counts clips and
//! whose steps are the lanes (disk, CPU, network), and one child job per clip, made when the
//! clip settles, with its state. When someone aborts the
//! card's job in iconik (status `ABORT_PENDING`), the card stops at its next step as if
//! cancelled in the window, and its job ends `ABORTED`.
//!
//! Budget (the issue's): one call per clip (its child) plus one `PATCH` of the card's job per
//! [`IngestOptions::job_poll_every`](super::IngestOptions::job_poll_every) — the progress goes up
//! and the answer says whether an abort is pending — plus, per card, the create, the lanes as
//! steps at the start and at the end, and the last update. The
//! Jobs page is a view: a failed call there is logged and never fails the card.

use super::engine::{Shared, counts};
use super::record::{CardRecord, ClipRecord};
use super::step::Lane;
use crate::iconik::Client;
use crate::iconik::models::{JobId, JobStatus, JobStepWrite, JobWrite};
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

/// `custom_type` of the card jobs.
pub const CUSTOM_TYPE: &str = "card-ingest";

/// The card's job in iconik.
#[derive(Debug)]
pub struct CardJobPage {
    client: Client,
    id: JobId,
    /// The lanes' step ids, in [`Lane::ALL`] order.
    steps: [uuid::Uuid; 3],
    /// Clips that have their child job.
    reported: Mutex<HashSet<String>>,
    aborted: std::sync::atomic::AtomicBool,
}

impl CardJobPage {
    /// Creates the card's job (`STARTED`, 0 of `clips`); `None` when iconik refused it.
    pub async fn start(client: &Client, card_name: &str, clips: usize) -> Option<Arc<Self>> {
        let body = JobWrite {
            title: Some(format!("Ingest of card {card_name}")),
            job_type: Some("CUSTOM".into()),
            custom_type: Some(CUSTOM_TYPE.into()),
            status: Some(JobStatus::Started),
            progress_processed: Some(0),
            progress_total: Some(clips as i64),
            message: Some(format!("{clips} clips: checksum, offload, register, proxy")),
            ..JobWrite::default()
        };
        let page = match client.jobs().create(&body).await {
            Ok(job) => Arc::new(Self {
                client: client.clone(),
                id: job.id,
                steps: [(); 3].map(|()| uuid::Uuid::new_v4()),
                reported: Mutex::default(),
                aborted: Default::default(),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "the card's job could not be made on iconik's Jobs page");
                return None;
            }
        };
        page.put_steps(|_| ("IN_PROGRESS", None)).await;
        Some(page)
    }

    /// The lanes as the job's steps, with `state(lane)` = (status, message).
    async fn put_steps(&self, state: impl Fn(Lane) -> (&'static str, Option<String>)) {
        let steps: Vec<JobStepWrite> = Lane::ALL
            .into_iter()
            .zip(self.steps)
            .map(|(lane, id)| {
                let (status, message) = state(lane);
                JobStepWrite {
                    id,
                    label: lane_label(lane).to_owned(),
                    status,
                    message,
                }
            })
            .collect();
        if let Err(e) = self.client.jobs().put_steps(self.id, &steps).await {
            tracing::warn!(error = %e, "the card job's steps were not updated");
        }
    }

    /// Someone aborted the card's job in iconik.
    pub fn aborted(&self) -> bool {
        self.aborted.load(Ordering::Relaxed)
    }

    /// Every `every` until stopped: child jobs for the clips settled since, the card's progress,
    /// and a pending abort stops the card.
    pub(crate) fn spawn_poll(
        self: &Arc<Self>,
        shared: Arc<Shared>,
        every: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let record = shared.journal.read(CardRecord::clone);
                me.report_clips(&record, false).await;
                let (completed, failed, skipped) = counts(&record);
                let update = JobWrite {
                    progress_processed: Some((completed + failed + skipped) as i64),
                    ..JobWrite::default()
                };
                match me.client.jobs().patch(me.id, &update).await {
                    Ok(job)
                        if matches!(job.status, JobStatus::AbortPending | JobStatus::Aborted) =>
                    {
                        tracing::warn!("the card's job was aborted in iconik: stopping the card");
                        me.aborted.store(true, Ordering::Relaxed);
                        shared.cancel.store(true, Ordering::Relaxed);
                        return;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "the card's job was not updated"),
                }
            }
        })
    }

    /// Child jobs for the settled clips not reported yet (`last`: every clip, those left as
    /// stopped).
    async fn report_clips(&self, record: &CardRecord, last: bool) {
        let new: Vec<&ClipRecord> = {
            let reported = self.reported.lock().unwrap_or_else(PoisonError::into_inner);
            record
                .clips
                .values()
                .filter(|c| !reported.contains(&c.clip_id))
                .filter(|c| last || c.is_complete() || c.is_skipped() || c.failure().is_some())
                .collect()
        };
        for clip in new {
            let (status, message) = clip_state(clip, self.aborted());
            let body = JobWrite {
                title: Some(format!("{} ({})", clip.title, clip.name)),
                job_type: Some("CUSTOM".into()),
                custom_type: Some(CUSTOM_TYPE.into()),
                status: Some(status),
                parent_id: Some(self.id),
                object_type: clip.asset_id.map(|_| "assets".to_owned()),
                object_id: clip.asset_id.map(|a| a.0),
                message: Some(message),
                ..JobWrite::default()
            };
            match self.client.jobs().create(&body).await {
                Ok(_) => {
                    self.reported
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(clip.clip_id.clone());
                }
                Err(e) => tracing::warn!(error = %e, clip = %clip.name, "clip job not made"),
            }
        }
    }

    /// The last word: the clips not reported yet, then the card's job ended with `verdict`.
    pub async fn finish(&self, record: &CardRecord, cancelled: bool, verdict: &str) {
        self.report_clips(record, true).await;
        let (completed, failed, skipped) = counts(record);
        let status = if self.aborted() || cancelled {
            JobStatus::Aborted
        } else if failed > 0 {
            JobStatus::Failed
        } else if skipped > 0 {
            JobStatus::FinishedWithWarning
        } else {
            JobStatus::Finished
        };
        let message =
            format!("{completed} completed, {failed} failed, {skipped} skipped; {verdict}");
        let body = JobWrite {
            error_message: (status == JobStatus::Failed).then(|| message.clone()),
            status: Some(status),
            progress_processed: Some((completed + failed + skipped) as i64),
            message: Some(message),
            ..JobWrite::default()
        };
        if let Err(e) = self.client.jobs().patch(self.id, &body).await {
            tracing::warn!(error = %e, "the card's job was not ended");
        }
        let stopped = self.aborted() || cancelled;
        self.put_steps(|lane| {
            let failed = record
                .clips
                .values()
                .filter(|c| c.failure().is_some_and(|(s, _)| s.lane() == lane))
                .count();
            match (failed, stopped) {
                (0, true) => ("SKIPPED", Some("stopped".into())),
                (0, false) => ("DONE", None),
                (n, _) => ("FAILED", Some(format!("{n} clip(s) failed here"))),
            }
        })
        .await;
    }
}

fn lane_label(lane: Lane) -> &'static str {
    match lane {
        Lane::Disk => "disk: checksums and offload copy",
        Lane::Cpu => "cpu: proxy encodes",
        Lane::Network => "network: registration, proxy upload, keyframes",
    }
}

/// A clip's child job status and message.
fn clip_state(clip: &ClipRecord, aborted: bool) -> (JobStatus, String) {
    if let Some(of) = &clip.duplicate_of {
        return (
            JobStatus::FinishedWithWarning,
            format!("already in iconik ({of}): skipped"),
        );
    }
    if clip.is_skipped() {
        return (JobStatus::Skipped, "skipped: incomplete clip".into());
    }
    if clip.is_complete() {
        return (JobStatus::Finished, "registered with its proxy".into());
    }
    match clip.failure() {
        Some((step, error)) => (JobStatus::Failed, format!("{step} failed: {error}")),
        None if aborted => (JobStatus::Aborted, "stopped: aborted in iconik".into()),
        None => (JobStatus::Aborted, "stopped; the journal resumes it".into()),
    }
}
