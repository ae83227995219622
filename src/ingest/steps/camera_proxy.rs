//! `--camera-proxy`: the camera's own proxy registered as the iconik proxy without an encode
//! when it qualifies ([`media::proxy::camera`]); otherwise the reason goes into the proxy
//! step's detail and the encode runs as before. Looks and burn-ins need an encode.

use super::{ClipCtx, StepFail};
use crate::media::proxy::camera::{self, CameraProxyFacts, Needs, Use};
use crate::media::proxy::record::ProxyFields;
use crate::media::timecode::Timecode;
use std::path::{Path, PathBuf};

/// A qualifying camera proxy and how it becomes the iconik proxy.
pub(super) struct Chosen {
    pub facts: CameraProxyFacts,
    pub how: Use,
    pub timecode: Option<String>,
}

impl Chosen {
    /// The record's `proxy_encoder` (and the report's proxy column).
    pub fn label(&self) -> &'static str {
        match self.how {
            Use::AsIs => "camera proxy (as is)",
            Use::Remux => "camera proxy (remuxed)",
        }
    }

    /// Part of the proxy cache key ([`super::proxy_cache::CacheKey::camera`]).
    pub fn key(&self) -> String {
        format!("{:?}", self.how)
    }
}

impl ClipCtx {
    /// `Ok(Some)` = use the camera proxy; `Ok(None)` = not asked; `Err(reason)` = encode, and why.
    pub(super) async fn camera_proxy_choice(
        &self,
        needs_encode: Option<&str>,
        max_height: u32,
    ) -> Result<Result<Option<Chosen>, String>, StepFail> {
        if !self.shared.options.camera_proxy {
            return Ok(Ok(None));
        }
        let Some(path) = camera::candidate(&self.sc.clip) else {
            return Ok(Err("no camera proxy on the card".into()));
        };
        if let Some(why) = needs_encode {
            return Ok(Err(format!("{why} needs an encode")));
        }
        let Some(ffprobe) = self.shared.tools.ffprobe.clone() else {
            return Ok(Err("ffprobe not found to check the camera proxy".into()));
        };
        let desc = self.describe().await?;
        let meta = &desc.metadata;
        let needs = Needs {
            duration_seconds: meta.duration_seconds.filter(|d| *d > 0.0),
            has_audio: meta.audio_channels.unwrap_or(0) > 0,
            max_height,
        };
        // The scan probed it already (`scan::ScannedClip::camera_proxy`); probe only if not.
        let facts = match &self.sc.camera_proxy {
            Some(Ok(f)) if f.path == path => f.clone(),
            _ => {
                let probe_path = path.clone();
                let probed =
                    tokio::task::spawn_blocking(move || camera::inspect(&ffprobe, &probe_path))
                        .await
                        .map_err(|e| StepFail::permanent(e.to_string()))?;
                match probed {
                    Ok(f) => f,
                    Err(e) => return Ok(Err(e.to_string())),
                }
            }
        };
        let how = match camera::assess(&facts, &needs) {
            Ok(how) => how,
            Err(why) => return Ok(Err(why)),
        };
        // The camera's timecode, else the clip's: the proxy must start where the clip does.
        let timecode = facts
            .timecode
            .as_deref()
            .or(meta.timecode_start.as_deref())
            .and_then(Timecode::parse)
            .map(|tc| tc.to_string());
        Ok(Ok(Some(Chosen {
            facts,
            how,
            timecode,
        })))
    }

    /// Copies or remuxes the camera proxy to `private`; returns its iconik fields and its
    /// card-relative path.
    pub(super) async fn publish_camera_proxy(
        &self,
        chosen: &Chosen,
        private: &Path,
    ) -> Result<(ProxyFields, String), StepFail> {
        let (facts, how, tc) = (chosen.facts.clone(), chosen.how, chosen.timecode.clone());
        let ffmpeg: Option<PathBuf> = self.shared.ffmpeg.clone();
        let out = private.to_owned();
        let size = tokio::task::spawn_blocking(move || {
            camera::publish(&facts, how, ffmpeg.as_deref(), &out, tc.as_deref())
        })
        .await
        .map_err(|e| StepFail::permanent(e.to_string()))?
        .map_err(|e| StepFail::permanent(e.to_string()))?;
        let fields = camera::proxy_fields(&chosen.facts, size, chosen.timecode.as_deref());
        let card_rel = chosen
            .facts
            .path
            .strip_prefix(&self.sc.clip.card_root)
            .unwrap_or(&chosen.facts.path)
            .to_string_lossy()
            .into_owned();
        Ok((fields, card_rel))
    }
}

/// The step detail for a clip that used its camera proxy.
pub(super) fn detail(chosen: &Chosen, card_root: &Path, out: &Path, size: u64) -> String {
    let rel = chosen
        .facts
        .path
        .strip_prefix(card_root)
        .unwrap_or(&chosen.facts.path)
        .display()
        .to_string();
    let how = match chosen.how {
        Use::AsIs => "as is",
        Use::Remux => "remuxed to MP4 with faststart",
    };
    format!(
        "{} (camera proxy {rel} {how}, no encode, {size} bytes)",
        out.display()
    )
}
