//! CPU lane: the proxy. A local ffmpeg encode (one at a time, clips in card order), reused
//! from the proxy folder when the same content was encoded before; or, with `--proxy iconik`
//! on a single-file clip, iconik's transcoder (which needs the registered file: that clip's
//! proxy step waits for its files).

use super::proxy_cache::{self, CacheKey, CachePaths, MemberStamp};
use super::{ClipCtx, StepEnd, StepFail, StepResult};
use crate::card::FileRole;
use crate::iconik::models::KeyframeRequest;
use crate::ingest::dedupe;
use crate::ingest::events::EventKind;
use crate::ingest::options::ProxyMode;
use crate::ingest::step::Step;
use crate::media;
use crate::media::proxy::EditCodec;
use crate::media::proxy::record::{EditRecord, Provenance, ProxyFields, ProxyRecord};
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
        let choices = self.proxy_choices().await?;
        let members: Vec<MemberStamp> = self
            .sc
            .clip
            .files
            .iter()
            .map(|f| MemberStamp::of(&f.path, f.size))
            .collect();
        let fingerprint = proxy_cache::fingerprint(&self.sc.clip.id, &members, &choices.key);
        let paths = CachePaths::new(&self.shared.options.proxy_dir, &fingerprint);
        if let Some(record) = paths.load(&choices.key) {
            let mut by = record
                .made
                .encoder
                .as_ref()
                .map(|e| format!(" (made by {e})"))
                .unwrap_or_default();
            if let Some(e) = &record.edit_proxy {
                by.push_str(&format!(
                    ", edit proxy {} {}",
                    e.codec,
                    paths.edit.display()
                ));
            }
            self.keep_proxy(&paths, record).await?;
            return Ok(StepEnd::Done(Some(format!(
                "reused {}{by}",
                paths.web.display()
            ))));
        }
        if let Some(chosen) = &choices.camera {
            return self
                .register_camera_proxy(chosen, &paths, choices.preset)
                .await;
        }
        self.encode_new(&choices, &paths).await
    }

    /// What shapes this clip's proxy: the look (`--lut`, else the clip editor's choice, else
    /// the first matching rule on the clip's metadata, described only when there are rules),
    /// the burn-in, the preset, the camera proxy and the edit proxy. Checked once per attempt
    /// (a LUT may be edited between runs): the LUT's bytes join the cache key, so a proxy made
    /// without (or with another) look is never reused.
    async fn proxy_choices(&self) -> Result<Choices, StepFail> {
        let opts = &self.shared.options;
        let meta = if opts.lut.is_none() && !opts.look_rules.is_empty() {
            self.describe().await?.metadata.clone()
        } else {
            media::ClipMetadata::default()
        };
        let look = match self.look_choice(&meta) {
            Some(c) => {
                let look = media::proxy::look::Look::load(&c.lut)
                    .map_err(|e| StepFail::permanent(format!("{} ({})", e, c.why)))?;
                let hash = std::fs::read(&look.path)
                    .map(|b| xxhash_rust::xxh64::xxh64(&b, 0))
                    .map_err(|e| StepFail::permanent(format!("{}: {e}", look.path.display())))?;
                Some((c, look, hash))
            }
            None => None,
        };
        // The app's font is written to the proxy folder once for ffmpeg's `fontfile=`.
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
        let preset = opts
            .proxy_preset
            .unwrap_or_else(|| media::proxy::preset::family_default(self.sc.clip.family));
        let edit = (!opts.edit_proxy_to.is_empty()).then_some(opts.edit_proxy_codec);
        let needs_encode = if look.is_some() {
            Some("a look")
        } else if burn_in.is_some() {
            Some("a burn-in")
        } else if edit.is_some() {
            Some("an edit proxy")
        } else {
            None
        };
        let (camera, camera_not_used) = match self
            .camera_proxy_choice(needs_encode, preset.max_height)
            .await?
        {
            Ok(c) => (c, None),
            Err(why) => (None, Some(why)),
        };
        let key = CacheKey {
            look: look.as_ref().map(|l| l.2),
            burn_in: burn_in
                .as_ref()
                .map(|b| (media::proxy::burn_in::items_text(&b.items), b.corner.name())),
            preset: preset.name,
            camera: camera.as_ref().map(super::camera_proxy::Chosen::key),
            edit,
        };
        Ok(Choices {
            look: look.map(|(c, l, _)| (c, l)),
            burn_in,
            preset,
            camera,
            camera_not_used,
            edit,
            key,
        })
    }

    /// Records `record` (published at `paths`) as this clip's proxy.
    async fn keep_proxy(&self, paths: &CachePaths, record: ProxyRecord) -> Result<(), StepFail> {
        let encoder = record.made.encoder.clone();
        *super::lock(&self.proxy_fields) = Some(record);
        self.save(|r| {
            r.proxy_path = Some(paths.web.clone());
            r.proxy_fingerprint = Some(paths.fingerprint.clone());
            r.proxy_encoder = encoder;
        })
        .await
    }

    /// Encodes the web proxy (and the edit proxy and the poster, from the same decode) under a
    /// private name, then publishes them into the cache.
    async fn encode_new(&self, choices: &Choices, paths: &CachePaths) -> StepResult {
        let ffmpeg = self.shared.ffmpeg.clone().ok_or_else(|| {
            StepFail::permanent("ffmpeg was not found on PATH: install it or use --proxy none")
        })?;
        let desc = self.describe().await?;
        // Detected once per run (cached), on a worker thread: it runs ffmpeg test encodes.
        let (probe, choice) = (ffmpeg.clone(), self.shared.options.encoder);
        let encoder =
            tokio::task::spawn_blocking(move || media::proxy::encoder::resolve(&probe, choice))
                .await
                .map_err(|e| StepFail::permanent(e.to_string()))?
                .map_err(|e| StepFail::permanent(e.to_string()))?;
        let spec = choices.preset.apply(media::proxy::ProxySpec {
            encoder,
            look: choices.look.as_ref().map(|(_, l)| l.clone()),
            burn_in: choices.burn_in.clone(),
            poster_width: Some(crate::ingest::summary::POSTER_WIDTH),
            edit: choices.edit,
            ..Default::default()
        });
        // The encode reads the verified copy once there is one: the card may be released.
        let (clip, moved) = self.read_clip();
        let desc = match &moved {
            Some((card, copy)) => std::sync::Arc::new(desc.rebased(card, copy)),
            None => desc,
        };
        let plan = match media::proxy::plan(&clip, &desc, &spec, &paths.private_web()) {
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
        let output = self.run_encode(plan, ffmpeg).await?;
        let record = ProxyRecord {
            fields: ProxyFields::of_output(&output).named(&paths.web_name()),
            made: provenance(choices, output.encoder.name()),
            edit_proxy: output
                .edit
                .as_ref()
                .map(|e| EditRecord::of_output(e, &paths.edit_name())),
        };
        publish(&output, paths, &record)?;
        let detail = encode_detail(&paths.web, choices, &output);
        self.keep_proxy(paths, record).await?;
        Ok(StepEnd::Done(Some(detail)))
    }

    /// Runs `plan` on a worker thread with progress events; this clip's stop (a duplicate
    /// found meanwhile) or the job's cancel ends the encode.
    async fn run_encode(
        &self,
        plan: media::proxy::ProxyPlan,
        ffmpeg: std::path::PathBuf,
    ) -> Result<media::proxy::ProxyOutput, StepFail> {
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
        let rec = self.rec();
        let output = tokio::task::spawn_blocking(move || {
            let mut last = Instant::now();
            media::proxy::encode(&plan, &ffmpeg, &cancel, &mut |p| {
                if last.elapsed() > Duration::from_millis(500) {
                    last = Instant::now();
                    let total = (p.duration_seconds.unwrap_or(0.0) * 1000.0) as u64;
                    shared.emit(
                        &rec,
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
        match output? {
            Ok(o) => Ok(o),
            Err(media::proxy::ProxyError::Cancelled { .. }) => Err(StepFail::cancelled()),
            Err(e) => Err(StepFail::permanent(e.to_string())),
        }
    }
}

/// The choices that shape a clip's proxy ([`ClipCtx::proxy_choices`]).
struct Choices {
    look: Option<(
        media::proxy::look_rules::ChosenLook,
        media::proxy::look::Look,
    )>,
    burn_in: Option<media::proxy::burn_in::BurnIn>,
    preset: media::proxy::preset::ProxyPreset,
    camera: Option<super::camera_proxy::Chosen>,
    /// Why `--camera-proxy` was asked but an encode runs.
    camera_not_used: Option<String>,
    edit: Option<EditCodec>,
    key: CacheKey,
}

/// How an encoded proxy was made, for its record.
fn provenance(choices: &Choices, encoder: &str) -> Provenance {
    Provenance {
        encoder: Some(encoder.to_owned()),
        preset: Some(choices.preset.name.to_owned()),
        look: choices
            .look
            .as_ref()
            .map(|(c, _)| c.lut.display().to_string()),
        look_source: choices.look.as_ref().map(|(c, _)| c.why.clone()),
        burn_in: choices
            .burn_in
            .as_ref()
            .map(|b| media::proxy::burn_in::items_text(&b.items)),
        camera_proxy: None,
        camera_proxy_not_used: choices.camera_not_used.clone(),
    }
}

/// Publishes an encode's files under the cache names: the record first (a published mp4
/// always has its record beside it), the poster and the edit proxy, then the web proxy.
fn publish(
    output: &media::proxy::ProxyOutput,
    paths: &CachePaths,
    record: &ProxyRecord,
) -> Result<(), StepFail> {
    crate::atomic_write::write_atomic(&paths.record, record.to_json().as_bytes())
        .map_err(|e| StepFail::permanent(format!("{}: {e}", paths.record.display())))?;
    // The report's poster came out of the same decode.
    if let Some(poster) = &output.poster {
        let to = crate::ingest::summary::poster_beside(&paths.web);
        if let Err(e) = std::fs::rename(poster, &to) {
            tracing::warn!(path = %to.display(), error = %e, "poster not kept");
        }
    }
    if let Some(edit) = &output.edit {
        std::fs::rename(&edit.path, &paths.edit)
            .map_err(|e| StepFail::permanent(format!("{}: {e}", paths.edit.display())))?;
    }
    std::fs::rename(&output.path, &paths.web)
        .map_err(|e| StepFail::permanent(format!("{}: {e}", paths.web.display())))
}

/// The proxy step's detail for an encode.
fn encode_detail(
    out: &std::path::Path,
    choices: &Choices,
    output: &media::proxy::ProxyOutput,
) -> String {
    let mut made = String::new();
    if let Some((c, _)) = &choices.look {
        made.push_str(&format!(", look {} ({})", c.lut.display(), c.why));
    }
    if let Some(b) = &choices.burn_in {
        made.push_str(&format!(
            ", burn-in {}",
            media::proxy::burn_in::items_text(&b.items)
        ));
    }
    if let Some(e) = &output.edit {
        made.push_str(&format!(
            ", edit proxy {} {} bytes",
            e.codec.name(),
            e.size_bytes
        ));
    }
    let camera = choices
        .camera_not_used
        .as_ref()
        .map(|why| format!("; camera proxy not used: {why}"))
        .unwrap_or_default();
    format!(
        "{} (preset {}, {} bytes, {}{made}){camera}",
        out.display(),
        choices.preset.name,
        output.size_bytes,
        output.encoder
    )
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

    /// Publishes the qualifying camera proxy as this clip's proxy (its record beside it, as
    /// for an encode) and records it.
    async fn register_camera_proxy(
        &self,
        chosen: &super::camera_proxy::Chosen,
        paths: &CachePaths,
        preset: media::proxy::preset::ProxyPreset,
    ) -> StepResult {
        let dir = self.shared.options.proxy_dir.clone();
        std::fs::create_dir_all(&dir)
            .map_err(|e| StepFail::permanent(format!("{}: {e}", dir.display())))?;
        let private = paths.private_web();
        let (fields, card_rel) = self.publish_camera_proxy(chosen, &private).await?;
        let size = fields.size;
        let record = ProxyRecord {
            fields: fields.named(&paths.web_name()),
            made: Provenance {
                encoder: Some(chosen.label().to_owned()),
                preset: Some(preset.name.to_owned()),
                camera_proxy: Some(card_rel),
                ..Provenance::default()
            },
            edit_proxy: None,
        };
        crate::atomic_write::write_atomic(&paths.record, record.to_json().as_bytes())
            .map_err(|e| StepFail::permanent(format!("{}: {e}", paths.record.display())))?;
        std::fs::rename(&private, &paths.web)
            .map_err(|e| StepFail::permanent(format!("{}: {e}", paths.web.display())))?;
        self.keep_proxy(paths, record).await?;
        Ok(StepEnd::Done(Some(super::camera_proxy::detail(
            chosen,
            &self.sc.clip.card_root,
            &paths.web,
            size,
        ))))
    }
}
