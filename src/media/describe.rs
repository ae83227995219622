//! Describing one clip: check each essence file, probe them (one MediaInfo run for the clip,
//! ffprobe per file as fallback), parse its sidecars, then normalise.
//!
//! Undecodable RAW (R3D, BRAW, ARRIRAW `.ari`/`.arx`, Canon CRM) is never handed to a tool;
//! image sequences are probed on their first frame only (camera-cards.md §1.4, §3.13).

use super::ffprobe;
use super::mediainfo;
use super::normalise::{self, NormaliseInput, SequenceFacts};
use super::sequence::{self, FRAME_EXTENSIONS};
use super::sidecar::{self, Sidecar, XmlKind};
use super::tech::{FileTech, ProbeTool};
use super::{ClipDescription, Tools};
use crate::card::{Clip, Family, FileRole};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Extensions stock ffmpeg/MediaInfo cannot decode; metadata comes from sidecars only.
const RAW_EXTENSIONS: &[&str] = &["r3d", "braw", "ari", "arx", "crm"];

/// Sidecar XML bigger than this is not a clip sidecar (and must not be read into memory).
const MAX_SIDECAR_BYTES: u64 = 16 * 1024 * 1024;

/// One probed essence file.
#[derive(Debug, Clone, PartialEq)]
pub struct DescribedFile {
    pub path: PathBuf,
    /// Key of this file in [`ClipDescription::raw`].
    pub raw_key: String,
    pub tech: FileTech,
}

fn ext_of(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_raw(path: &Path) -> bool {
    RAW_EXTENSIONS.contains(&ext_of(path).as_str())
}

/// The clip's essence segments: `clip.segments`, or one segment of its video/audio files.
pub(crate) fn segments(clip: &Clip) -> Vec<Vec<usize>> {
    if !clip.segments.is_empty() {
        return clip.segments.clone();
    }
    let essence: Vec<usize> = clip
        .files
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.role, FileRole::Video | FileRole::Audio))
        .map(|(i, _)| i)
        .collect();
    if essence.is_empty() {
        Vec::new()
    } else {
        vec![essence]
    }
}

/// A segment of still frames (every member has a frame extension, more than one member, or
/// the clip is an image sequence).
fn is_sequence(clip: &Clip, seg: &[usize]) -> bool {
    let frames = seg.iter().all(|&i| {
        clip.files
            .get(i)
            .is_some_and(|f| FRAME_EXTENSIONS.contains(&ext_of(&f.path).as_str()))
    });
    frames && (seg.len() > 1 || clip.family == Family::ImageSequence)
}

/// Checks a file before any tool sees it. Returns the issue message when it cannot be probed.
/// Never opens anything but a regular file (a FIFO would block).
fn precheck(path: &Path) -> Option<String> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            return Some(format!(
                "cannot read the file ({e}): check the card or drive is still connected and re-copy the file"
            ));
        }
    };
    if meta.is_dir() {
        return Some(
            "expected a media file but found a folder: check the card's folder structure".into(),
        );
    }
    if !meta.is_file() {
        return Some(
            "not a regular file (FIFO, device or socket): skipped; copy the real file from the card".into(),
        );
    }
    if meta.len() == 0 {
        return Some("file is empty (0 bytes): re-copy it from the card".into());
    }
    if let Err(e) = std::fs::File::open(path) {
        return Some(format!(
            "cannot open the file ({e}): check permissions and that the card is still connected"
        ));
    }
    None
}

/// Unique key for `path` in the raw object: the file name, or the full path on a clash.
fn raw_key(raw: &Map<String, Value>, path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned());
    if raw.contains_key(&name) {
        path.to_string_lossy().into_owned()
    } else {
        name
    }
}

pub fn describe_clip(clip: &Clip, tools: &Tools) -> ClipDescription {
    let can_probe = tools.mediainfo.is_some() || tools.ffprobe.is_some();
    let mut issues: Vec<(PathBuf, String)> = Vec::new();
    let segs = segments(clip);

    // Which files to probe: every essence file, except RAW and all but the first frame of a
    // sequence. Sequence facts come from the first frame.
    let mut to_probe: Vec<usize> = Vec::new();
    let mut sequence_first: Option<(usize, u64)> = None;
    for seg in &segs {
        if is_sequence(clip, seg) {
            if let Some(&first) = seg.first() {
                let count = seg.len() as u64;
                sequence_first =
                    Some(sequence_first.map_or((first, count), |(f, c)| (f, c + count)));
                to_probe.push(first);
            }
        } else {
            to_probe.extend(seg.iter().copied());
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    to_probe.retain(|i| seen.insert(*i) && clip.files.get(*i).is_some());
    let to_probe: Vec<usize> = to_probe
        .into_iter()
        .filter(|&i| {
            let path = &clip.files[i].path;
            if let Some(msg) = precheck(path) {
                issues.push((path.clone(), msg));
                return false;
            }
            can_probe && !is_raw(path)
        })
        .collect();

    let mut raw = Map::new();
    let mut tech: BTreeMap<usize, FileTech> = BTreeMap::new();
    let mut files = Vec::new();
    for (i, outcome) in probe_files(clip, &to_probe, tools) {
        let path = clip.files[i].path.clone();
        match outcome {
            Ok((t, value)) => {
                if t.truncated {
                    issues.push((
                        path.clone(),
                        "file is truncated (MediaInfo reports it ends early): the copy is incomplete, re-copy it from the card".into(),
                    ));
                }
                let key = raw_key(&raw, &path);
                raw.insert(key.clone(), value);
                files.push(DescribedFile {
                    path,
                    raw_key: key,
                    tech: t.clone(),
                });
                tech.insert(i, t);
            }
            Err(msg) => issues.push((path, msg)),
        }
    }

    let sidecars = read_sidecars(clip, &mut issues);
    let sequence = sequence_first.map(|(first, frame_count)| {
        let dpx = read_dpx_header(&clip.files[first].path);
        SequenceFacts {
            frame_count,
            frame_rate: dpx.as_ref().and_then(|h| h.frame_rate),
            timecode: dpx.as_ref().and_then(|h| h.timecode),
            width: dpx.as_ref().and_then(|h| h.width),
            height: dpx.as_ref().and_then(|h| h.height),
        }
    });
    let mut metadata = normalise::normalise(&NormaliseInput {
        clip,
        segments: &segs,
        tech: &tech,
        sidecars: &sidecars,
        sequence,
    });
    let durations = super::marks::segment_durations(clip, &segs, &tech, &sidecars);
    metadata.marks = super::marks::collect(clip, &segs, &durations, &sidecars, &mut issues);
    ClipDescription {
        metadata,
        raw: Value::Object(raw),
        issues,
        files,
        sidecars,
    }
}

type ProbeOutcome = Result<(FileTech, Value), String>;

/// Probes `indices`: one MediaInfo run for all; ffprobe for files MediaInfo could not read
/// (or for all when MediaInfo is missing or its run failed).
fn probe_files(clip: &Clip, indices: &[usize], tools: &Tools) -> Vec<(usize, ProbeOutcome)> {
    if indices.is_empty() {
        return Vec::new();
    }
    let paths: Vec<PathBuf> = indices
        .iter()
        .map(|&i| clip.files[i].path.clone())
        .collect();
    let per_file = tools.timeout_per_file();
    let mut mediainfo_note: Option<String> = None;
    let mediainfo_tracks: Vec<Option<Vec<Value>>> = match &tools.mediainfo {
        Some(program) => {
            let timeout = per_file.saturating_mul(u32::try_from(paths.len()).unwrap_or(u32::MAX));
            match mediainfo::probe(program, &paths, timeout) {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(clip = %clip.name, error = %e, "mediainfo run failed");
                    mediainfo_note = Some(e.to_string());
                    vec![None; paths.len()]
                }
            }
        }
        None => vec![None; paths.len()],
    };
    indices
        .iter()
        .zip(paths.iter())
        .zip(mediainfo_tracks)
        .map(|((&i, path), tracks)| {
            if let Some(tracks) = tracks.filter(|t| mediainfo::is_media(t)) {
                let mut t = mediainfo::file_tech(&tracks);
                let mut value = json!({"tool": ProbeTool::Mediainfo.as_str(), "track": tracks});
                if t.video_facts_missing()
                    && let Some(program) = &tools.ffprobe
                {
                    fill_from_ffprobe(program, path, per_file, &mut t, &mut value);
                }
                return (i, Ok((t, value)));
            }
            let outcome = match &tools.ffprobe {
                Some(program) => match ffprobe::probe(program, path, per_file) {
                    Ok(json) => {
                        let t = ffprobe::file_tech(&json);
                        if t.has_essence() {
                            let mut value = json;
                            if let Some(obj) = value.as_object_mut() {
                                obj.insert("tool".into(), ProbeTool::Ffprobe.as_str().into());
                            }
                            Ok((t, value))
                        } else {
                            Err(not_media_message(tools))
                        }
                    }
                    Err(ffprobe::FfprobeError::Failed { stderr, .. }) => Err(format!(
                        "not a media file MediaInfo or ffprobe can read (ffprobe: {stderr}): check it is a complete copy from the card"
                    )),
                    Err(e) => Err(format!("{e}")),
                },
                None => Err(mediainfo_note
                    .clone()
                    .map(|n| format!("{n}: check the file, or install ffprobe as a fallback"))
                    .unwrap_or_else(|| not_media_message(tools))),
            };
            (i, outcome)
        })
        .collect()
}

/// MediaInfo read the file but left out its video rate or size (AVCHD/M2TS streams without
/// VUI timing come out as "VFR" with no rate, while ffprobe reads the stream's 25/1): ask
/// ffprobe for what is missing, keeping everything MediaInfo did report. Its JSON is kept in
/// the raw metadata under `ffprobe` so the source of each fact stays visible.
fn fill_from_ffprobe(
    program: &Path,
    path: &Path,
    timeout: std::time::Duration,
    tech: &mut FileTech,
    raw: &mut Value,
) {
    match ffprobe::probe(program, path, timeout) {
        Ok(json) => {
            tech.fill_video_facts(&ffprobe::file_tech(&json));
            if let Some(obj) = raw.as_object_mut() {
                obj.insert("ffprobe".into(), json);
            }
        }
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "ffprobe could not fill video facts");
        }
    }
}

fn not_media_message(tools: &Tools) -> String {
    let which = match (&tools.mediainfo, &tools.ffprobe) {
        (Some(_), Some(_)) => "MediaInfo or ffprobe",
        (Some(_), None) => "MediaInfo",
        _ => "ffprobe",
    };
    format!(
        "not a media file {which} can read (no video or audio found): check it is a complete copy from the card"
    )
}

/// Parses the clip's XML sidecars and the bext/iXML chunks of its WAV essence.
fn read_sidecars(clip: &Clip, issues: &mut Vec<(PathBuf, String)>) -> Vec<(PathBuf, Sidecar)> {
    let mut out = Vec::new();
    for file in &clip.files {
        let ext = ext_of(&file.path);
        let parsed = match (file.role, ext.as_str()) {
            (FileRole::Sidecar, "xml") => read_xml_sidecar(clip, &file.path),
            (FileRole::Audio | FileRole::Video, "wav" | "bwf") => read_bwf(&file.path),
            (FileRole::Sidecar, "rmd") => read_raw_look(&file.path, sidecar::raw_looks::parse_rmd),
            (FileRole::Sidecar, "sidecar") => {
                read_raw_look(&file.path, sidecar::raw_looks::parse_braw_sidecar)
            }
            _ => continue,
        };
        match parsed {
            Ok(Some(s)) => out.push((file.path.clone(), s)),
            Ok(None) => {}
            Err(msg) => issues.push((file.path.clone(), msg)),
        }
    }
    if let Some((path, profile)) = card_inventory(clip) {
        out.push((path, Sidecar::SonyMediapro(Box::new(profile))));
    }
    if let Some((path, row)) = clip_ale_row(clip) {
        out.push((path, Sidecar::AleRow(row)));
    }
    out
}

type RawLookParser =
    fn(&str) -> Result<sidecar::raw_looks::RawLook, sidecar::raw_looks::RawLookError>;

fn read_raw_look(path: &Path, parse: RawLookParser) -> Result<Option<Sidecar>, String> {
    let Some(file) = open_regular(path) else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.take(MAX_SIDECAR_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read sidecar ({e}): re-copy it from the card"))?;
    parse(&String::from_utf8_lossy(&bytes))
        .map(|l| Some(Sidecar::RawLook(Box::new(l))))
        .map_err(|e| format!("{e}: its looks and exposure are not shown"))
}

/// The clip's row of an ALE (dailies/ARRI/RED log) in the folder of its first essence file or
/// up to two folders above it (the reel folder, the card), within the card root. ALEs are not
/// clip members (one ALE covers a whole reel): the row is found by the `Name` column.
fn clip_ale_row(clip: &Clip) -> Option<(PathBuf, Vec<(String, String)>)> {
    let essence = clip
        .files
        .iter()
        .find(|f| matches!(f.role, FileRole::Video | FileRole::Audio))?;
    let dirs: Vec<&Path> = essence
        .path
        .ancestors()
        .skip(1)
        .take(3)
        .filter(|d| d.starts_with(&clip.card_root) || clip.card_root.starts_with(d))
        .collect();
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(d) else {
            continue;
        };
        let mut ales: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| ext_of(p) == "ale")
            .collect();
        ales.sort();
        for p in ales {
            if std::fs::metadata(&p).map_or(true, |m| !m.is_file() || m.len() > MAX_SIDECAR_BYTES) {
                continue;
            }
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            let Ok(ale) = sidecar::ale::parse(&String::from_utf8_lossy(&bytes)) else {
                continue;
            };
            if let Some(row) = ale.row_for(&clip.name) {
                return Some((p, row));
            }
        }
    }
    None
}

/// The Sony card's `MEDIAPRO.XML` (a card-level file, not a clip member): found in the
/// folders above the clip's first essence file (`M4ROOT`, `XDROOT`, `BPAV`), read for the
/// camera model when the clip has no clip XML. Only the clip's own entry is kept.
fn card_inventory(clip: &Clip) -> Option<(PathBuf, sidecar::mediapro::MediaProfile)> {
    if !matches!(clip.family, Family::Xdcam | Family::XdcamEx | Family::XavcS) {
        return None;
    }
    let essence = clip
        .files
        .iter()
        .find(|f| matches!(f.role, FileRole::Video | FileRole::Audio))?;
    let path = essence
        .path
        .ancestors()
        .skip(1)
        .take(3)
        .take_while(|d| d.starts_with(&clip.card_root))
        .find_map(|d| {
            std::fs::read_dir(d).ok()?.flatten().find_map(|e| {
                let name = e.file_name().to_string_lossy().to_ascii_lowercase();
                (name == "mediapro.xml").then(|| e.path())
            })
        })?;
    if std::fs::metadata(&path).ok()?.len() > MAX_SIDECAR_BYTES {
        return None;
    }
    let text = String::from_utf8_lossy(&std::fs::read(&path).ok()?).into_owned();
    let mut profile = sidecar::mediapro::parse(&text).ok()?;
    // The entry of this clip (its stem, or the EX take's first clip folder).
    let stem = essence.path.file_stem()?.to_string_lossy().into_owned();
    profile
        .materials
        .retain(|m| m.folder == "clip" && m.stem.eq_ignore_ascii_case(&stem));
    Some((path, profile))
}

fn read_xml_sidecar(clip: &Clip, path: &Path) -> Result<Option<Sidecar>, String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read sidecar ({e}): re-copy it from the card"))?;
    if !meta.is_file() {
        return Err("sidecar is not a regular file: re-copy it from the card".into());
    }
    if meta.len() > MAX_SIDECAR_BYTES {
        return Ok(None);
    }
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read sidecar ({e}): re-copy it from the card"))?;
    let text = String::from_utf8_lossy(&bytes);
    let kind = sidecar::xml_kind(&text);
    let p2_empty = || {
        sidecar::p2::parse(&text)
            .map(|c| Sidecar::P2(Box::new(c)))
            .map_err(|e| e.to_string())
    };
    match (kind, clip.family) {
        (XmlKind::P2, _) => p2_empty().map(Some),
        (XmlKind::SonyNrt, _) => sidecar::sony_nrt::parse(&text)
            .map(|m| Some(Sidecar::SonyNrt(Box::new(m))))
            .map_err(|e| e.to_string()),
        // Empty/broken XML of a card family whose clip XML we rely on (EX cards ship empty
        // ones): an issue, never a panic.
        (XmlKind::Other, Family::P2) => p2_empty().map(Some),
        (XmlKind::Other, Family::Xdcam | Family::XdcamEx | Family::XavcS) => {
            if text.trim().is_empty() {
                Err("Sony clip XML is empty: the clip is still listed from its media; re-copy the XML if you need its metadata".into())
            } else {
                // MEDIAPRO.XML, SMI and other XML on Sony cards are not clip metadata.
                Ok(None)
            }
        }
        (XmlKind::Other, Family::CanonXf) => sidecar::canon::parse(&text)
            .map(|c| Some(Sidecar::Canon(Box::new(c))))
            .map_err(|e| e.to_string()),
        (XmlKind::Other, _) => Ok(None),
    }
}

fn read_bwf(path: &Path) -> Result<Option<Sidecar>, String> {
    // Unreadable or not a regular file: already reported by the essence precheck.
    let Some(file) = open_regular(path) else {
        return Ok(None);
    };
    match sidecar::bwf::parse(std::io::BufReader::new(file)) {
        Ok(info) => Ok(Some(Sidecar::Bwf(Box::new(info)))),
        Err(sidecar::bwf::BwfError::NotWave) => Ok(None),
        Err(e) => Err(format!("cannot read BWF metadata: {e}")),
    }
}

/// Opens `path` only when it is a regular file: opening a FIFO would block forever.
fn open_regular(path: &Path) -> Option<std::fs::File> {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    std::fs::File::open(path).ok()
}

fn read_dpx_header(path: &Path) -> Option<sequence::DpxHeader> {
    if ext_of(path) != "dpx" {
        return None;
    }
    let mut buf = Vec::with_capacity(2048);
    let file = open_regular(path)?;
    file.take(2048).read_to_end(&mut buf).ok()?;
    match sequence::parse_dpx_header(&buf) {
        Ok(h) => Some(h),
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "no DPX header facts");
            None
        }
    }
}
