//! Turns a finished card job ([`CardOutcome`]) into the [`report`](super::report) model: clip
//! status, files with checksums, asset link, per-step timings and errors.

use super::engine::CardOutcome;
use super::record::{ClipRecord, StepState};
use super::report::{
    CardReport, ClipReport, ClipStatus, FileReport, ProxyReport, StepTiming, asset_link,
};
use super::selection::LeftOut;
use super::step::Step;
use chrono::{DateTime, Utc};

/// How the clip ended, for the report and the CLI summary.
pub fn clip_status(c: &ClipRecord) -> ClipStatus {
    if c.failure().is_some() {
        ClipStatus::Failed
    } else if c.is_skipped_duplicate() {
        ClipStatus::SkippedDuplicate
    } else if c.is_complete() {
        ClipStatus::Complete
    } else {
        ClipStatus::Incomplete
    }
}

fn state_label(s: &StepState) -> &'static str {
    match s {
        StepState::Pending => "pending",
        StepState::Running => "running",
        StepState::Done => "done",
        StepState::Failed { .. } => "failed",
        StepState::Skipped { .. } => "skipped",
    }
}

/// The report row of a clip the run did not take.
fn left_out_report(l: &LeftOut, family: &str) -> ClipReport {
    ClipReport {
        clip_id: l.clip_id.clone(),
        name: l.name.clone(),
        family: family.to_owned(),
        title: String::new(),
        status: l.why.status(),
        asset_id: None,
        asset_link: None,
        files: Vec::new(),
        steps: Vec::new(),
        proxy: None,
        warnings: Vec::new(),
        error: Some(l.why.text()),
        poster_jpeg: None,
    }
}

/// The report of one card job that started at `started_at`.
pub fn card_report(outcome: &CardOutcome, started_at: DateTime<Utc>) -> CardReport {
    let record = &outcome.record;
    let root = &outcome.card.root;
    let mut clips: Vec<ClipReport> = record
        .clips
        .values()
        .map(|c| {
            let files = c
                .files
                .iter()
                .map(|f| FileReport {
                    path: report_path(&f.source, root),
                    size_bytes: f.size_bytes,
                    md5: f.md5.clone(),
                    xxh64: f.xxh64.clone(),
                })
                .collect();
            let steps = Step::ALL
                .iter()
                .filter_map(|s| c.steps.get(s).map(|r| (s, r)))
                .map(|(s, r)| StepTiming {
                    step: s.to_string(),
                    state: state_label(&r.state).to_owned(),
                    started_at: r.started,
                    duration_ms: r.duration_secs().map(|d| (d * 1000.0).max(0.0) as u64),
                    attempts: r.attempts,
                    error: match &r.state {
                        StepState::Failed { error, .. } => Some(error.clone()),
                        StepState::Skipped { reason } => Some(reason.clone()),
                        _ => None,
                    },
                })
                .collect();
            let proxy = c
                .proxy_path
                .as_ref()
                .and_then(|p| std::fs::read_to_string(p.with_extension("json")).ok())
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .filter(|_| c.step(Step::UploadProxy) == StepState::Done)
                .map(|v| ProxyReport {
                    size_bytes: v["size"].as_u64().unwrap_or(0),
                    width: v["resolution"]["width"].as_u64().unwrap_or(0) as u32,
                    height: v["resolution"]["height"].as_u64().unwrap_or(0) as u32,
                    encoder: c
                        .proxy_encoder
                        .clone()
                        .or_else(|| v["encoder"].as_str().map(str::to_owned)),
                    note: proxy_note(&v),
                });
            ClipReport {
                clip_id: c.clip_id.clone(),
                name: c.name.clone(),
                family: outcome.card.family.as_str().to_owned(),
                title: c.title.clone(),
                status: clip_status(c),
                asset_id: c.asset_id.map(|a| a.to_string()),
                asset_link: c
                    .asset_id
                    .map(|a| asset_link(&record.server, &a.to_string())),
                files,
                steps,
                proxy,
                warnings: c.duplicate_of.iter().cloned().collect(),
                error: c.failure().map(|(s, e)| format!("{s}: {e}")),
                poster_jpeg: None,
            }
        })
        .collect();
    // The card's clips this run did not take and no run registered: listed with their reason.
    clips.extend(
        outcome
            .left_out
            .iter()
            .filter(|l| !record.clips.contains_key(&l.clip_id))
            .map(|l| left_out_report(l, outcome.card.family.as_str())),
    );
    CardReport {
        card_root: root.clone(),
        card_family: outcome.card.family.as_str().to_owned(),
        server: record.server.clone(),
        started_at,
        finished_at: Utc::now(),
        tool_version: concat!("card-ingest ", env!("CARGO_PKG_VERSION")).to_owned(),
        clips,
        manifest_path: outcome.mhl.clone(),
        offload: record.offload_copies.clone(),
        verdict: Some(super::erase::verdict(
            record,
            &crate::canonical::canonicalize(root).unwrap_or_else(|_| root.clone()),
            &outcome.left_out,
        )),
        check_copies: Vec::new(),
        offline: outcome.offline_spans.clone(),
        // The session sets it from the run's options.
        preset: None,
    }
}

/// A member file's path as the report shows it: relative to the card; a span segment on
/// another card relative to the folder holding both cards (`CARD_B/CONTENTS/…`), never an
/// absolute path glued to a `/` (which printed `//…`).
fn report_path(source: &std::path::Path, root: &std::path::Path) -> String {
    let rel = source
        .strip_prefix(root)
        .or_else(|_| source.strip_prefix(root.parent().unwrap_or(root)))
        .unwrap_or(source);
    rel.components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .map(|p| p.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The width of the report's posters, in pixels.
pub const POSTER_WIDTH: u32 = 160;

/// Where the encode keeps a proxy's poster: `{fingerprint}.poster.jpg` beside the mp4.
pub fn poster_beside(proxy: &std::path::Path) -> std::path::PathBuf {
    proxy.with_extension("poster.jpg")
}

/// Adds each clip's poster (a 160-pixel JPEG of its encoded proxy) to `report`, for the HTML
/// and PDF reports. Clips without a local proxy keep none; a failed grab is logged, not fatal.
///
/// The encode writes the poster beside the proxy as a second output of the same decode, so
/// this mostly reads files. Only proxies made otherwise (the camera's own, an older cache) are
/// grabbed here, on every core: this runs after the last clip, when nothing else is running.
pub fn attach_posters(report: &mut CardReport, outcome: &CardOutcome, ffmpeg: &std::path::Path) {
    let jobs: Vec<(usize, &std::path::Path)> = report
        .clips
        .iter()
        .enumerate()
        .filter_map(|(i, clip)| {
            outcome
                .record
                .clips
                .get(&clip.clip_id)
                .and_then(|c| c.proxy_path.as_deref())
                .filter(|p| p.is_file())
                .map(|p| (i, p))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .filter(|&(i, proxy)| match std::fs::read(poster_beside(proxy)) {
            Ok(jpeg) if jpeg.starts_with(&[0xFF, 0xD8]) => {
                report.clips[i].poster_jpeg = Some(jpeg);
                false
            }
            _ => true,
        })
        .collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let grabbed: Vec<(usize, Result<Vec<u8>, crate::media::poster::PosterError>)> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(&(i, proxy)) = jobs.get(k) else {
                                break mine;
                            };
                            mine.push((
                                i,
                                crate::media::poster::thumbnail_jpeg(ffmpeg, proxy, POSTER_WIDTH),
                            ));
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                // A worker that panicked is a bug: surface it as the sequential loop did.
                .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
    for (i, result) in grabbed {
        let clip = &mut report.clips[i];
        match result {
            Ok(jpeg) => clip.poster_jpeg = Some(jpeg),
            Err(err) => tracing::warn!(clip = %clip.name, %err, "no poster for the report"),
        }
    }
}

/// The report's line on how a proxy was made, from the fields kept beside it.
fn proxy_note(v: &serde_json::Value) -> Option<String> {
    let text = |k: &str| v[k].as_str().filter(|s| !s.is_empty());
    let mut parts = Vec::new();
    if let Some(p) = text("preset") {
        parts.push(format!("preset {p}"));
    }
    if let Some(l) = text("look") {
        match text("look_source") {
            Some(why) => parts.push(format!("look {l} ({why})")),
            None => parts.push(format!("look {l}")),
        }
    }
    if let Some(b) = text("burn_in") {
        parts.push(format!("burn-in {b}"));
    }
    if let Some(c) = text("camera_proxy") {
        parts.push(format!("camera proxy {c}, no encode"));
    }
    if let Some(why) = text("camera_proxy_not_used") {
        parts.push(format!("camera proxy not used: {why}"));
    }
    if let Some(codec) = v["edit_proxy"]["codec"].as_str() {
        parts.push(format!("edit proxy {codec} (PPRO_PROXY)"));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::report_path;
    use std::path::Path;

    #[test]
    fn segment_paths_are_relative_to_their_card() {
        let root = Path::new("/media/cards/CARD_A");
        assert_eq!(
            report_path(
                Path::new("/media/cards/CARD_A/CONTENTS/VIDEO/0001AB.MXF"),
                root
            ),
            "CONTENTS/VIDEO/0001AB.MXF"
        );
        assert_eq!(
            report_path(
                Path::new("/media/cards/CARD_B/CONTENTS/VIDEO/0001AC.MXF"),
                root
            ),
            "CARD_B/CONTENTS/VIDEO/0001AC.MXF"
        );
        assert_eq!(
            report_path(Path::new("/elsewhere/X/CLIP.MXF"), root),
            "elsewhere/X/CLIP.MXF"
        );
    }
}
