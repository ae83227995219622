//! Marks the camera recorded on a clip (GoPro HiLight tags, Sony essence marks), placed on
//! the clip's own time line: a mark in chapter/segment k is offset by the durations of the
//! segments before it. Registered in iconik as `MARKER` segments by the ingest.
//!
//! Read only where the structure is documented or shown by a real file (sources in
//! [`super::sidecar::gopro_hmmt`] and [`super::sidecar::sony_nrt`]).

use super::sidecar::{Sidecar, gopro_hmmt};
use super::tech::FileTech;
use crate::card::{Clip, Family, FileRole};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One camera mark. Serialised in `scan --json` under the clip's `metadata.marks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClipMark {
    /// Milliseconds from the clip's first frame.
    pub time_ms: u64,
    /// What the camera calls it: `HiLight`, `Shot Mark 1`, ...
    pub label: String,
    /// Where it was read, e.g. `GH020123.MP4 moov/udta/HMMT`.
    pub source: String,
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn stem_upper(p: &Path) -> String {
    p.file_stem()
        .map(|n| n.to_string_lossy().to_ascii_uppercase())
        .unwrap_or_default()
}

/// The clip's marks in time order. `durations[k]` is segment k's duration in seconds when
/// known; a mark in a segment after one of unknown length cannot be placed and is left out
/// (logged). Unreadable files are `issues` (path, message).
pub(crate) fn collect(
    clip: &Clip,
    segments: &[Vec<usize>],
    durations: &[Option<f64>],
    sidecars: &[(PathBuf, Sidecar)],
    issues: &mut Vec<(PathBuf, String)>,
) -> Vec<ClipMark> {
    let mut out = Vec::new();
    let mut offset = Some(0.0f64);
    for (k, seg) in segments.iter().enumerate() {
        let video = seg
            .iter()
            .filter_map(|&i| clip.files.get(i))
            .find(|f| f.role == FileRole::Video);
        let mut marks: Vec<(u64, String, String)> = Vec::new();
        if let Some(video) = video {
            if clip.family == Family::Gopro {
                match read_hmmt(&video.path) {
                    Ok(times) => marks.extend(times.into_iter().map(|t| {
                        (
                            u64::from(t),
                            "HiLight".to_owned(),
                            format!("{} moov/udta/HMMT", file_name(&video.path)),
                        )
                    })),
                    Err(e) => issues.push((video.path.clone(), e.to_string())),
                }
            }
            if let Some((path, nrt)) = nrt_of(&video.path, sidecars, segments.len()) {
                for m in nrt.essence_marks.iter().filter(|m| !m.is_automatic()) {
                    if let Some(ms) = nrt.frame_ms(m.frame) {
                        marks.push((
                            ms,
                            m.display_label(),
                            format!("{} KlvPacketTable {}", file_name(path), m.label),
                        ));
                    }
                }
            }
        }
        match offset {
            Some(base) => out.extend(marks.into_iter().map(|(ms, label, source)| ClipMark {
                time_ms: ms + (base * 1000.0).round() as u64,
                label,
                source,
            })),
            None if !marks.is_empty() => {
                tracing::warn!(clip = %clip.name, segment = k, "camera marks left out: an earlier segment's duration is unknown");
            }
            None => {}
        }
        offset = match (offset, durations.get(k).copied().flatten()) {
            (Some(o), Some(d)) => Some(o + d),
            _ => None,
        };
    }
    out.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then(a.label.cmp(&b.label)));
    out
}

fn read_hmmt(path: &Path) -> Result<Vec<u32>, gopro_hmmt::HmmtError> {
    let mut f = std::fs::File::open(path)?;
    gopro_hmmt::read(&mut f)
}

/// The NRT sidecar of the segment whose video file is `video`: `<stem>M01.XML` beside
/// `<stem>.MXF/.MP4` (PROAV: `<clip>V01.MXF` → `<clip>M01.XML`), or the clip's only one when
/// the clip has one segment.
fn nrt_of<'a>(
    video: &Path,
    sidecars: &'a [(PathBuf, Sidecar)],
    segment_count: usize,
) -> Option<(&'a PathBuf, &'a super::sidecar::sony_nrt::NrtMeta)> {
    let nrts: Vec<(&PathBuf, &super::sidecar::sony_nrt::NrtMeta)> = sidecars
        .iter()
        .filter_map(|(p, s)| match s {
            Sidecar::SonyNrt(m) => Some((p, m.as_ref())),
            _ => None,
        })
        .collect();
    let stem = stem_upper(video);
    let matched = nrts.iter().copied().find(|(p, _)| {
        let side = stem_upper(p);
        let base = side.strip_suffix("M01").unwrap_or(&side);
        !base.is_empty() && (stem == base || stem.strip_suffix("V01") == Some(base))
    });
    matched.or_else(|| (segment_count == 1 && nrts.len() == 1).then(|| nrts[0]))
}

/// Segment durations for [`collect`]: the container's, else the segment's NRT `Duration`.
pub(crate) fn segment_durations(
    clip: &Clip,
    segments: &[Vec<usize>],
    tech: &BTreeMap<usize, FileTech>,
    sidecars: &[(PathBuf, Sidecar)],
) -> Vec<Option<f64>> {
    segments
        .iter()
        .map(|seg| {
            super::normalise::segment_duration(seg, tech).or_else(|| {
                let video = seg
                    .iter()
                    .filter_map(|&i| clip.files.get(i))
                    .find(|f| f.role == FileRole::Video)?;
                nrt_of(&video.path, sidecars, segments.len())?
                    .1
                    .duration_seconds()
            })
        })
        .collect()
}
