//! Network lane, proxy: the proxy record (`POST proxies/`, joining the encode and the
//! registration), the resumable upload of its bytes, `PATCH … CLOSED`, and the keyframe job.

use super::{ClipCtx, StepEnd, StepFail, StepResult, lock};
use crate::iconik::models::{
    KeyframeRequest, ObjectStatus, Proxy, ProxyCreate, ProxyUpdate, Resolution,
};
use crate::iconik::upload::{self, ProxyUploadOptions, UploadProgress};
use crate::ingest::dedupe;
use crate::ingest::events::EventKind;
use crate::ingest::step::Step;
use crate::media::proxy::record::{ProxyFields, ProxyRecord};
use std::sync::Arc;
use std::time::Instant;

impl ClipCtx {
    /// The proxy's record: this run's, else the one published beside the proxy.
    pub(super) fn proxy_record(&self) -> Result<ProxyRecord, StepFail> {
        if let Some(f) = lock(&self.proxy_fields).clone() {
            return Ok(f);
        }
        let rec = self.rec();
        let path = rec
            .proxy_path
            .ok_or_else(|| StepFail::permanent("no proxy recorded; retry from proxy"))?;
        let text = std::fs::read_to_string(path.with_extension("json"))
            .map_err(|e| StepFail::permanent(format!("{}: {e}", path.display())))?;
        let v = ProxyRecord::from_json(&text).map_err(|e| StepFail::permanent(e.to_string()))?;
        *lock(&self.proxy_fields) = Some(v.clone());
        Ok(v)
    }

    pub(super) async fn create_proxy(&self, resumed: bool) -> StepResult {
        let rec = self.rec();
        if let Some(id) = rec.proxy_id {
            return Ok(StepEnd::Done(Some(format!("proxy {id}"))));
        }
        let asset = self.asset()?;
        let body = create_body(&self.proxy_record()?.fields, rec.version_id);
        let body = &body;
        let proxy = self
            .look_up_then_create(
                Step::CreateProxy,
                resumed,
                |c| async move { dedupe::proxy(&c, asset).await },
                |c| async move { c.proxies().create(asset, body).await },
            )
            .await?;
        self.save(|r| r.proxy_id = Some(proxy.id)).await?;
        let id = proxy.id;
        *lock(&self.created_proxy) = Some(proxy);
        Ok(StepEnd::Done(Some(format!("proxy {id}"))))
    }

    pub(super) async fn upload_proxy(&self) -> StepResult {
        let rec = self.rec();
        let asset = self.asset()?;
        let proxy_id = self.proxy_id()?;
        let path = rec
            .proxy_path
            .clone()
            .ok_or_else(|| StepFail::permanent("no proxy file; retry from proxy"))?;
        let client = self.shared.client.clone();
        // The record made in this run holds the upload URL: no read-back. A resumed upload
        // reads it (its status says whether a killed run already closed it).
        let made_now = lock(&self.created_proxy)
            .clone()
            .filter(|p| p.id == proxy_id);
        let proxy: Proxy = match made_now {
            Some(p) => p,
            None => {
                self.call(Step::UploadProxy, |_| {
                    let client = client.clone();
                    async move { client.proxies().get(asset, proxy_id).await }
                })
                .await?
            }
        };
        if proxy.status == Some(ObjectStatus::Closed) {
            return Ok(StepEnd::Done(Some("already uploaded and closed".into())));
        }
        let mut backoff = self.shared.options.retry.clone();
        backoff.reset();
        let started = Instant::now();
        loop {
            if self.shared.stopping() || self.shared.outage.ready().await.is_err() {
                return Err(StepFail::cancelled());
            }
            let rec = self.rec();
            let shared = self.shared.clone();
            let id = self.id().to_owned();
            let on_session: upload::SessionFn = Arc::new(move |url: &str| {
                let url = url.to_owned();
                // On disk before the first byte goes: a kill after it resumes this session.
                let saved = shared
                    .journal
                    .update_blocking(&id, |r| r.upload_session = Some(url));
                if let Err(e) = saved {
                    tracing::error!(error = %e, "journal save failed");
                }
            });
            let shared = self.shared.clone();
            let id = self.id().to_owned();
            let rec2 = rec.clone();
            let progress: upload::ProgressFn = Arc::new(move |p: UploadProgress| {
                // Without waiting: a resume asks the session where it stands anyway.
                shared
                    .journal
                    .update_soon(&id, |r| r.upload_offset = p.confirmed);
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                let rate = p.confirmed as f64 / secs;
                shared.emit(
                    &rec2,
                    Some(Step::UploadProxy),
                    EventKind::Progress {
                        done_bytes: p.confirmed,
                        total_bytes: p.total,
                        rate_bytes_per_s: Some(rate),
                        eta_secs: (rate > 0.0)
                            .then(|| p.total.saturating_sub(p.confirmed) as f64 / rate),
                    },
                );
            });
            let opts = ProxyUploadOptions {
                gcs: upload::gcs::ResumableOptions {
                    chunk_size: self.shared.options.upload_chunk_bytes,
                    backoff: self.shared.options.retry.clone(),
                    ..Default::default()
                },
                resume_session: rec.upload_session.clone(),
                on_session: Some(on_session),
                progress: Some(progress),
                ..Default::default()
            };
            let upload =
                upload::upload_proxy(&self.shared.upload, &client, asset, &proxy, &path, &opts);
            // A cancel while paused ends the upload where it waits (between chunks; the
            // journal keeps its session and offset), as it ends every other paused step.
            let outcome = tokio::select! {
                r = upload => r,
                () = self.cancelled_while_paused() => return Err(StepFail::cancelled()),
            };
            match outcome {
                Ok(done) => {
                    self.save(|r| r.upload_offset = done.bytes).await?;
                    return Ok(StepEnd::Done(Some(format!("{} bytes", done.bytes))));
                }
                Err(e) if e.is_retryable() => {
                    let delay = match backoff.next_delay(Default::default()) {
                        Some(delay) => delay,
                        // iconik unreachable: wait with the network lane, then go on from
                        // the session's offset with a fresh backoff.
                        None => match self.shared.outage.backoff_ran_out().await {
                            Ok(true) => {
                                backoff.reset();
                                std::time::Duration::ZERO
                            }
                            Ok(false) => {
                                return Err(StepFail {
                                    error: e.to_string(),
                                    retryable: true,
                                    auth: false,
                                    cancelled: false,
                                });
                            }
                            Err(_) => return Err(StepFail::cancelled()),
                        },
                    };
                    self.shared.emit(
                        &rec,
                        Some(Step::UploadProxy),
                        EventKind::Retrying {
                            attempt: backoff.attempt(),
                            delay_ms: delay.as_millis() as u64,
                            error: e.to_string(),
                        },
                    );
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err(StepFail::permanent(e.to_string())),
            }
        }
    }

    /// Returns once the job is cancelled while paused.
    async fn cancelled_while_paused(&self) {
        while !(self.shared.stopping() && self.shared.options.pause.is_paused()) {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    pub(super) async fn close_proxy(&self) -> StepResult {
        let asset = self.asset()?;
        let proxy = self.proxy_id()?;
        let client = self.shared.client.clone();
        self.call(Step::CloseProxy, |_| {
            let client = client.clone();
            async move {
                client
                    .proxies()
                    .patch(asset, proxy, &ProxyUpdate::closed())
                    .await
            }
        })
        .await?;
        // The edit proxy joins the asset once its web proxy is there.
        let edit = self
            .register_edit_proxy()
            .await?
            .map(|e| format!("; {e}"))
            .unwrap_or_default();
        Ok(StepEnd::Done(Some(format!("proxy {proxy} CLOSED{edit}"))))
    }

    pub(super) async fn keyframes(&self, resumed: bool) -> StepResult {
        let rec = self.rec();
        let asset = self.asset()?;
        let proxy = self.proxy_id()?;
        let client = self.shared.client.clone();
        let job = match rec.keyframe_job {
            Some(j) => Some(j),
            None => {
                let job = self
                    .call(Step::Keyframes, |attempt| {
                        let client = client.clone();
                        async move {
                            if attempt > 0 || resumed {
                                let existing = client.keyframes().list(asset).await?;
                                if !existing.is_empty() {
                                    return Ok(None);
                                }
                            }
                            client
                                .keyframes()
                                .generate_from_proxy(asset, proxy, &KeyframeRequest::default())
                                .await
                                .map(Some)
                        }
                    })
                    .await?;
                if let Some(j) = job {
                    self.save(|r| r.keyframe_job = Some(j)).await?;
                }
                job
            }
        };
        let Some(job) = job else {
            return Ok(StepEnd::Done(Some("keyframes already present".into())));
        };
        self.wait_job(Step::Keyframes, job).await?;
        Ok(StepEnd::Done(Some(format!("keyframe job {job} finished"))))
    }
}

/// iconik's `POST proxies/` body for a proxy with `fields`.
fn create_body(
    fields: &ProxyFields,
    version_id: Option<crate::iconik::models::VersionId>,
) -> ProxyCreate {
    let int = |x: Option<u64>| x.and_then(|x| i32::try_from(x).ok());
    ProxyCreate {
        name: fields.name.clone(),
        filename: fields.filename.clone(),
        format: Some(fields.format.clone()),
        codec: Some(fields.codec.clone()),
        frame_rate: fields.frame_rate.clone(),
        resolution: fields.resolution.map(|r| Resolution {
            width: r.width as i32,
            height: r.height as i32,
        }),
        bit_rate: int(fields.bit_rate),
        audio_bitrate: int(fields.audio_bitrate),
        is_drop_frame: Some(fields.is_drop_frame),
        start_time_code: fields.start_time_code.clone(),
        size: Some(fields.size),
        version_id,
        ..ProxyCreate::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::proxy::record::Size;

    #[test]
    fn the_create_body_carries_every_field() {
        let fields = ProxyFields {
            name: Some("f.mp4".into()),
            filename: Some("f.mp4".into()),
            codec: "h264".into(),
            format: "mp4".into(),
            bit_rate: Some(3_000_000),
            is_drop_frame: true,
            size: 42,
            resolution: Some(Size {
                width: 1280,
                height: 720,
            }),
            frame_rate: Some("29.97".into()),
            start_time_code: Some("01:00:00;00".into()),
            audio_bitrate: Some(128_000),
        };
        let b = serde_json::to_value(create_body(&fields, None)).unwrap();
        assert_eq!(
            b,
            serde_json::json!({
                "name": "f.mp4", "filename": "f.mp4", "format": "mp4", "codec": "h264",
                "frame_rate": "29.97", "resolution": {"width": 1280, "height": 720},
                "bit_rate": 3000000, "audio_bitrate": 128000, "is_drop_frame": true,
                "start_time_code": "01:00:00;00", "size": 42
            })
        );
    }
}
