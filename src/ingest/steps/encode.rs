//! CPU lane: the proxy. A local ffmpeg encode (one at a time, clips in card order), reused
//! from the proxy folder when the same content was encoded before; or, with `--proxy iconik`
//! on a single-file clip, iconik's transcoder (which needs the registered file: that clip's
//! proxy step waits for its files).

use super::{ClipCtx, StepEnd, StepFail, StepResult};
use crate::card::FileRole;
use crate::iconik::models::KeyframeRequest;
use crate::ingest::dedupe;
use crate::ingest::events::EventKind;
use crate::ingest::options::ProxyMode;
use crate::ingest::step::Step;
use crate::media;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

impl ClipCtx {
    /// `--proxy iconik` on a single-file clip: iconik transcodes the registered file, so the
    /// proxy step runs after the files, not beside them.
    pub(crate) fn proxy_needs_registration(&self) -> bool {
        self.shared.options.proxy == ProxyMode::Iconik && self.single_essence()
    }

    pub(super) fn single_essence(&self) -> bool {
        self.sc
            .clip
            .files
            .iter()
            .filter(|f| matches!(f.role, FileRole::Video | FileRole::Audio))
            .count()
            == 1
    }

    /// `--proxy iconik` on a single-file clip: iconik's transcoder makes proxy and keyframes
    /// (`POST files/{file_id}/keyframes/`); the local proxy steps are skipped.
    pub(super) async fn iconik_transcode(&self, resumed: bool) -> StepResult {
        let rec = self.rec();
        let asset = self.asset()?;
        let index = self
            .sc
            .clip
            .files
            .iter()
            .position(|f| matches!(f.role, FileRole::Video | FileRole::Audio))
            .ok_or_else(|| StepFail::permanent("clip has no essence file to transcode"))?;
        let file = rec
            .files
            .get(index)
            .and_then(|f| f.file_id)
            .ok_or_else(|| {
                StepFail::permanent("essence file not registered; retry from create_files")
            })?;
        let client = self.shared.client.clone();
        let job = match rec.keyframe_job {
            Some(j) => Some(j),
            None => {
                let job = self
                    .call(Step::Proxy, |attempt| {
                        let client = client.clone();
                        async move {
                            if (attempt > 0 || resumed)
                                && dedupe::proxy(&client, asset).await?.is_some()
                            {
                                return Ok(None);
                            }
                            client
                                .keyframes()
                                .generate_from_file(
                                    asset,
                                    file,
                                    &KeyframeRequest {
                                        use_storage_transcode_ignore_pattern: Some(true),
                                        priority: Some(5),
                                        ..KeyframeRequest::default()
                                    },
                                )
                                .await
                        }
                    })
                    .await?;
                if let Some(j) = job {
                    self.save(|r| r.keyframe_job = Some(j)).await?;
                }
                job
            }
        };
        if let Some(job) = job {
            self.wait_job(Step::Proxy, job).await?;
        }
        self.skip_proxy_steps("made by iconik's transcoder (--proxy iconik)")
            .await?;
        Ok(StepEnd::Done(Some("iconik transcode job finished".into())))
    }

    pub(super) async fn encode_proxy(&self, resumed: bool) -> StepResult {
        let mode = self.shared.options.proxy;
        if mode == ProxyMode::None {
            return Ok(self
                .keep_collection(StepEnd::SkipRest {
                    from: Step::Proxy,
                    reason: "--proxy none".into(),
                })
                .await);
        }
        if mode == ProxyMode::Iconik && self.single_essence() {
            return self.iconik_transcode(resumed).await;
        }
        let rec = self.rec();
        // The look: `--lut`, else the clip editor's choice, else the first matching rule (the
        // clip's metadata: described only when there are rules). Checked once per clip (the
        // file may be edited between runs); its bytes join the cache key, so a proxy made
        // without (or with another) look is never reused.
        let options = &self.shared.options;
        let meta = if options.lut.is_none() && !options.look_rules.is_empty() {
            self.describe().await?.metadata.clone()
        } else {
            media::ClipMetadata::default()
        };
        let chosen = self.look_choice(&meta);
        let look = match &chosen {
            Some(c) => Some(
                media::proxy::look::Look::load(&c.lut)
                    .map_err(|e| StepFail::permanent(format!("{} ({})", e, c.why)))?,
            ),
            None => None,
        };
        let look_key = match &look {
            Some(l) => std::fs::read(&l.path)
                .map(|b| format!("lut:{:016x}", xxhash_rust::xxh64::xxh64(&b, 0)))
                .map_err(|e| StepFail::permanent(format!("{}: {e}", l.path.display())))?,
            None => String::new(),
        };
        // `--burn-in`: the items and corner join the cache key too; the app's font is written
        // to the proxy folder once for ffmpeg's `fontfile=`.
        let opts = &self.shared.options;
        let burn_in = if opts.burn_in.is_empty() {
            None
        } else {
            let font = media::proxy::burn_in::install_font(&opts.proxy_dir.join("fonts"))
                .map_err(|e| StepFail::permanent(e.to_string()))?;
            Some(media::proxy::burn_in::BurnIn {
                items: opts.burn_in.clone(),
                corner: opts.burn_in_corner,
                font,
            })
        };
        let burn_key = burn_in
            .as_ref()
            .map(|b| {
                format!(
                    "burn:{}@{}\n",
                    media::proxy::burn_in::items_text(&b.items),
                    b.corner.name()
                )
            })
            .unwrap_or_default();
        let preset = opts
            .proxy_preset
            .unwrap_or_else(|| media::proxy::preset::family_default(self.sc.clip.family));
        // The verified 720p proxy keeps the key it always had (earlier caches stay valid).
        let preset_key = if preset.name == "720p" {
            String::new()
        } else {
            format!("preset:{}\n", preset.name)
        };
        let needs_encode = match (&look, &burn_in) {
            (Some(_), _) => Some("a look"),
            (None, Some(_)) => Some("a burn-in"),
            (None, None) => None,
        };
        let (camera, camera_note) = match self
            .camera_proxy_choice(needs_encode, preset.max_height)
            .await?
        {
            Ok(c) => (c, String::new()),
            Err(why) => (None, format!("; camera proxy not used: {why}")),
        };
        let camera_key = camera.as_ref().map(|c| c.key()).unwrap_or_default();
        let fingerprint = fingerprint(
            &self.sc,
            &format!("{look_key}{burn_key}{preset_key}{camera_key}"),
        );
        let dir = self.shared.options.proxy_dir.clone();
        let out = dir.join(format!("{fingerprint}.mp4"));
        let fields_path = dir.join(format!("{fingerprint}.json"));
        if out.is_file()
            && let Ok(text) = std::fs::read_to_string(&fields_path)
            && let Ok(fields) = serde_json::from_str::<Value>(&text)
        {
            let encoder = fields["encoder"].as_str().map(str::to_owned);
            *super::lock(&self.proxy_fields) = Some(fields);
            self.save(|r| {
                r.proxy_path = Some(out.clone());
                r.proxy_fingerprint = Some(fingerprint.clone());
                r.proxy_encoder = encoder.clone();
            })
            .await?;
            let by = encoder
                .map(|e| format!(" (made by {e})"))
                .unwrap_or_default();
            return Ok(StepEnd::Done(Some(format!("reused {}{by}", out.display()))));
        }
        if let Some(chosen) = &camera {
            return self
                .register_camera_proxy(chosen, &fingerprint, &out, &fields_path, &preset)
                .await;
        }
        let ffmpeg = self.shared.ffmpeg.clone().ok_or_else(|| {
            StepFail::permanent("ffmpeg was not found on PATH: install it or use --proxy none")
        })?;
        let desc = self.describe().await?;
        // Encode under a name of our own, then publish: two jobs with identical cards (same
        // fingerprint) may encode at once without clobbering each other's file.
        let private = dir.join(format!(
            "{fingerprint}.{}-{}.mp4",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        // Detected once per run (cached), on a worker thread: it runs ffmpeg test encodes.
        let (probe, choice) = (ffmpeg.clone(), self.shared.options.encoder);
        let encoder =
            tokio::task::spawn_blocking(move || media::proxy::encoder::resolve(&probe, choice))
                .await
                .map_err(|e| StepFail::permanent(e.to_string()))?
                .map_err(|e| StepFail::permanent(e.to_string()))?;
        let look_name = chosen
            .as_ref()
            .map(|c| format!("{} ({})", c.lut.display(), c.why));
        let look_path = chosen.as_ref().map(|c| c.lut.display().to_string());
        let burn_name = burn_in
            .as_ref()
            .map(|b| media::proxy::burn_in::items_text(&b.items));
        let spec = preset.apply(media::proxy::ProxySpec {
            encoder,
            look,
            burn_in,
            poster_width: Some(crate::ingest::summary::POSTER_WIDTH),
            ..Default::default()
        });
        let plan = match media::proxy::plan(&self.sc.clip, &desc, &spec, &private) {
            Ok(p) => p,
            Err(
                e @ (media::proxy::ProxyError::NoVideo { .. }
                | media::proxy::ProxyError::NotDecodable { .. }),
            ) => {
                return Ok(self
                    .keep_collection(StepEnd::SkipRest {
                        from: Step::Proxy,
                        reason: e.to_string(),
                    })
                    .await);
            }
            Err(e) => return Err(StepFail::permanent(e.to_string())),
        };
        // This clip's stop (a duplicate found meanwhile) or the job's cancel ends the encode.
        let cancel = self.encode_stop.clone();
        let relay = {
            let (job, clip) = (self.shared.cancel.clone(), cancel.clone());
            tokio::spawn(async move {
                while !clip.load(Ordering::Relaxed) {
                    if job.load(Ordering::Relaxed) {
                        clip.store(true, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        };
        let shared = self.shared.clone();
        let rec2 = rec.clone();
        let output = tokio::task::spawn_blocking(move || {
            let mut last = Instant::now();
            media::proxy::encode(&plan, &ffmpeg, &cancel, &mut |p| {
                if last.elapsed() > Duration::from_millis(500) {
                    last = Instant::now();
                    let total = (p.duration_seconds.unwrap_or(0.0) * 1000.0) as u64;
                    shared.emit(
                        &rec2,
                        Some(Step::Proxy),
                        EventKind::Progress {
                            done_bytes: (p.out_time_seconds * 1000.0) as u64,
                            total_bytes: total,
                            rate_bytes_per_s: p.speed,
                            eta_secs: None,
                        },
                    );
                }
            })
        })
        .await
        .map_err(|e| StepFail::permanent(e.to_string()));
        relay.abort();
        let output = match output? {
            Ok(o) => o,
            Err(media::proxy::ProxyError::Cancelled { .. }) => return Err(StepFail::cancelled()),
            Err(e) => return Err(StepFail::permanent(e.to_string())),
        };
        let mut fields = output.iconik_fields();
        let final_name = format!("{fingerprint}.mp4");
        fields["name"] = Value::String(final_name.clone());
        fields["filename"] = Value::String(final_name);
        // Kept beside the proxy (not sent to iconik: create_proxy picks its fields by name).
        fields["encoder"] = Value::String(output.encoder.name().to_owned());
        if let (Some(l), Some(c)) = (&look_path, &chosen) {
            fields["look"] = Value::String(l.clone());
            fields["look_source"] = Value::String(c.why.clone());
        }
        if let Some(b) = &burn_name {
            fields["burn_in"] = Value::String(b.clone());
        }
        fields["preset"] = Value::String(preset.name.to_owned());
        if let Some(why) = camera_note.strip_prefix("; camera proxy not used: ") {
            fields["camera_proxy_not_used"] = Value::String(why.to_owned());
        }
        // The fields first: a published mp4 always has its fields beside it.
        crate::atomic_write::write_atomic(&fields_path, fields.to_string().as_bytes())
            .map_err(|e| StepFail::permanent(format!("{}: {e}", fields_path.display())))?;
        // The report's poster came out of the same decode; published first like the fields.
        if let Some(poster) = &output.poster {
            let to = crate::ingest::summary::poster_beside(&out);
            if let Err(e) = std::fs::rename(poster, &to) {
                tracing::warn!(path = %to.display(), error = %e, "poster not kept");
            }
        }
        std::fs::rename(&output.path, &out)
            .map_err(|e| StepFail::permanent(format!("{}: {e}", out.display())))?;
        *super::lock(&self.proxy_fields) = Some(fields);
        self.save(|r| {
            r.proxy_path = Some(out.clone());
            r.proxy_fingerprint = Some(fingerprint.clone());
            r.proxy_encoder = Some(output.encoder.name().to_owned());
        })
        .await?;
        let mut looked = look_name.map(|l| format!(", look {l}")).unwrap_or_default();
        if let Some(b) = &burn_name {
            looked.push_str(&format!(", burn-in {b}"));
        }
        Ok(StepEnd::Done(Some(format!(
            "{} (preset {}, {} bytes, {}{looked}){camera_note}",
            out.display(),
            preset.name,
            output.size_bytes,
            output.encoder
        ))))
    }
}

impl ClipCtx {
    /// The clip's look: `--lut`, the clip editor's choice, then the rules on `meta`.
    pub(super) fn look_choice(
        &self,
        meta: &media::ClipMetadata,
    ) -> Option<media::proxy::look_rules::ChosenLook> {
        let options = &self.shared.options;
        // Only local encodes apply looks (`--proxy none`, iconik's transcoder: none).
        if options.proxy == ProxyMode::None || self.proxy_needs_registration() {
            return None;
        }
        media::proxy::look_rules::choose(
            options.lut.as_ref(),
            options.clip_looks.get(self.id()),
            &options.look_rules,
            meta,
            self.sc.clip.family,
        )
    }

    /// Publishes the qualifying camera proxy as this clip's proxy (fields beside it, as for an
    /// encode) and records it.
    async fn register_camera_proxy(
        &self,
        chosen: &super::camera_proxy::Chosen,
        fingerprint: &str,
        out: &std::path::Path,
        fields_path: &std::path::Path,
        preset: &media::proxy::preset::ProxyPreset,
    ) -> StepResult {
        let dir = self.shared.options.proxy_dir.clone();
        std::fs::create_dir_all(&dir)
            .map_err(|e| StepFail::permanent(format!("{}: {e}", dir.display())))?;
        let private = dir.join(format!(
            "{fingerprint}.{}-{}.mp4",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let mut fields = self.publish_camera_proxy(chosen, &private).await?;
        let final_name = format!("{fingerprint}.mp4");
        fields["name"] = Value::String(final_name.clone());
        fields["filename"] = Value::String(final_name);
        fields["encoder"] = Value::String(chosen.label().to_owned());
        fields["preset"] = Value::String(preset.name.to_owned());
        let size = fields["size"].as_u64().unwrap_or(0);
        crate::atomic_write::write_atomic(fields_path, fields.to_string().as_bytes())
            .map_err(|e| StepFail::permanent(format!("{}: {e}", fields_path.display())))?;
        std::fs::rename(&private, out)
            .map_err(|e| StepFail::permanent(format!("{}: {e}", out.display())))?;
        *super::lock(&self.proxy_fields) = Some(fields);
        self.save(|r| {
            r.proxy_path = Some(out.to_owned());
            r.proxy_fingerprint = Some(fingerprint.to_owned());
            r.proxy_encoder = Some(chosen.label().to_owned());
        })
        .await?;
        Ok(StepEnd::Done(Some(super::camera_proxy::detail(
            chosen,
            &self.sc.clip.card_root,
            out,
            size,
        ))))
    }
}

/// The proxy cache key: xxh64 over the clip id and each member's name, size and modification
/// time (plus the look, burn-in, preset and camera-proxy keys). Known from the scan, so the
/// encode starts before the checksums; camera files are written once, so name + size + mtime
/// (what rsync trusts) names the content. A copy keeping its mtimes (`cp -a`, an offload)
/// reuses the proxy.
fn fingerprint(sc: &crate::scan::ScannedClip, look_key: &str) -> String {
    let mut text = String::from(look_key);
    text.push_str(&sc.clip.id);
    text.push('\n');
    for f in &sc.clip.files {
        let name = f.path.file_name().unwrap_or_default().to_string_lossy();
        let mtime = std::fs::metadata(&f.path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        text.push_str(&format!("{name}:{}:{mtime}\n", f.size));
    }
    format!("{:016x}", xxhash_rust::xxh64::xxh64(text.as_bytes(), 0))
}
