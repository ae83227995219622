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
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

impl ClipCtx {
    pub(super) fn proxy_fields(&self) -> Result<Value, StepFail> {
        if let Some(f) = lock(&self.proxy_fields).clone() {
            return Ok(f);
        }
        let rec = self.rec();
        let path = rec
            .proxy_path
            .ok_or_else(|| StepFail::permanent("no proxy recorded; retry from proxy"))?;
        let text = std::fs::read_to_string(path.with_extension("json"))
            .map_err(|e| StepFail::permanent(format!("{}: {e}", path.display())))?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| StepFail::permanent(e.to_string()))?;
        *lock(&self.proxy_fields) = Some(v.clone());
        Ok(v)
    }

    pub(super) async fn create_proxy(&self, resumed: bool) -> StepResult {
        let rec = self.rec();
        if let Some(id) = rec.proxy_id {
            return Ok(StepEnd::Done(Some(format!("proxy {id}"))));
        }
        let asset = self.asset()?;
        let v = self.proxy_fields()?;
        let s = |k: &str| v[k].as_str().map(str::to_owned);
        let i = |k: &str| v[k].as_i64().and_then(|x| i32::try_from(x).ok());
        let body = ProxyCreate {
            name: s("name"),
            filename: s("filename"),
            format: s("format"),
            codec: s("codec"),
            frame_rate: s("frame_rate"),
            resolution: match (
                v["resolution"]["width"].as_i64(),
                v["resolution"]["height"].as_i64(),
            ) {
                (Some(w), Some(h)) => Some(Resolution {
                    width: w as i32,
                    height: h as i32,
                }),
                _ => None,
            },
            bit_rate: i("bit_rate"),
            audio_bitrate: i("audio_bitrate"),
            is_drop_frame: v["is_drop_frame"].as_bool(),
            start_time_code: s("start_time_code"),
            size: v["size"].as_u64(),
            version_id: rec.version_id,
            ..ProxyCreate::default()
        };
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
        Ok(StepEnd::Done(Some(format!("proxy {proxy} CLOSED"))))
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
