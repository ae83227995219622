//! Production audio recorders (BWF, camera-cards.md §3.14): a WAV with a `bext` or `iXML` chunk.
//! Poly files are one clip each; mono-per-track files (`_1`, `_2`, `_A`; Zoom `_Tr1`, `_Tr1_2`,
//! `_D`) are one take. The iXML `FILE_SET/FAMILY_UID` decides when present. The chunks are
//! read by metadata's BWF parser (iXML may follow `data`; RF64 via `ds64`).

use super::detector::{CardDetector, CardRef, ClipBuilder, Out, make_id, rel};
use super::model::{Clip, Family, FileRole};
use super::names::{all_digits, split_ext};
use super::walk::Tree;
use crate::media::sidecar::bwf::{self, BwfInfo};
use std::collections::BTreeMap;
use std::path::Path;

pub struct AudioBwf;

/// Reads the RIFF chunks with metadata's BWF parser ([`bwf::parse_lenient`]: a cut-short copy
/// still shows its bext/iXML). `None` when the file cannot be opened or is not a WAVE file.
pub fn read_bwf_info(path: &Path) -> Option<BwfInfo> {
    let file = std::fs::File::open(path).ok()?;
    match bwf::parse_lenient(std::io::BufReader::new(file)) {
        Ok(info) => Some(info),
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "not read as BWF");
            None
        }
    }
}

/// A WAV is a BWF when it has a `bext` or an iXML chunk (even an unparsable one).
fn is_bwf(info: &BwfInfo) -> bool {
    info.bext.is_some() || info.ixml.is_some() || info.ixml_error.is_some()
}

/// Take name and track order key of a mono-per-track file stem: strips `_D` (dual level),
/// `_Tr<n>` / `_Tr<n>_<m>` (Zoom), `_<n>` / `_<letter>` (Sound Devices, Tascam).
pub fn take_of(stem: &str) -> (String, u32) {
    let mut s = stem;
    let mut key = 0u32;
    if let Some(t) = strip_suffix_ci(s, "_d") {
        s = t;
        key += 1000;
    }
    // `_Tr1_2` / `_Tr1`
    let lower = s.to_ascii_lowercase();
    if let Some(i) = lower.rfind("_tr") {
        let rest = &lower[i + 3..];
        let (a, b) = rest.split_once('_').unwrap_or((rest, "1"));
        if all_digits(a) && all_digits(b) {
            return (s[..i].to_string(), key + a.parse::<u32>().unwrap_or(0));
        }
    }
    if let Some((head, tail)) = s.rsplit_once('_') {
        if tail.len() <= 2 && all_digits(tail) && !head.is_empty() {
            return (head.to_string(), key + tail.parse::<u32>().unwrap_or(0));
        }
        let t = tail.as_bytes();
        if t.len() == 1 && t[0].is_ascii_alphabetic() && !head.is_empty() {
            return (
                head.to_string(),
                key + 10 + (t[0].to_ascii_uppercase() - b'A') as u32,
            );
        }
    }
    (s.to_string(), key)
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let n = s.len().checked_sub(suffix.len())?;
    (s.is_char_boundary(n) && s[n..].eq_ignore_ascii_case(suffix) && n > 0).then(|| &s[..n])
}

impl CardDetector for AudioBwf {
    fn family(&self) -> Family {
        Family::AudioBwf
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        for card in cards {
            group_zone(tree, card, out);
        }
    }
}

/// One BWF file of a zone with what grouping needs from its chunks.
struct Wav {
    node: usize,
    folder: usize,
    stem: String,
    /// Track order inside the take (from the name's suffix).
    track: u32,
    info: BwfInfo,
}

/// What makes files one clip: one file set (camera-cards.md §10) in one folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SetKey {
    folder: usize,
    family_uid: Option<String>,
    total_files: u32,
    /// Take name: the stem, minus a track suffix only when the file set has several files.
    take: String,
}

fn group_zone(tree: &Tree, card: &CardRef, out: &mut Out) {
    let mut wavs = Vec::new();
    for &f in &card.files {
        let n = tree.node(f);
        let (stem, ext) = split_ext(&n.name);
        if !matches!(ext.to_ascii_lowercase().as_str(), "wav" | "bwf") || n.size == 0 {
            continue;
        }
        let Some(info) = read_bwf_info(&n.path) else {
            continue;
        };
        if !is_bwf(&info) {
            continue;
        }
        wavs.push(Wav {
            node: f,
            folder: n.parent.unwrap_or(f),
            stem: stem.to_string(),
            track: take_of(stem).1,
            info,
        });
    }
    let mut sets: BTreeMap<SetKey, (String, Vec<usize>)> = BTreeMap::new();
    for (i, w) in wavs.iter().enumerate() {
        let (key, name) = set_key(w, &wavs);
        sets.entry(key).or_insert((name, Vec::new())).1.push(i);
    }
    for (key, (name, mut members)) in sets {
        members.sort_by(|&a, &b| {
            let (wa, wb) = (&wavs[a], &wavs[b]);
            (wa.track, index_order(&wa.info), &wa.stem).cmp(&(
                wb.track,
                index_order(&wb.info),
                &wb.stem,
            ))
        });
        let first = &wavs[members[0]];
        let id = match &key.family_uid {
            Some(uid) => make_id(Family::AudioBwf, &format!("{uid}/{}", first.stem)),
            None => {
                let dir = if tree.node(card.root).is_dir && key.folder != card.root {
                    format!("{}/", rel(tree, card, key.folder))
                } else {
                    String::new()
                };
                make_id(Family::AudioBwf, &format!("{dir}{name}"))
            }
        };
        let mut b = ClipBuilder::new(Family::AudioBwf, id, name, card.root_path.clone());
        if let Some(w) = incomplete_set_warning(&key, &members, &wavs, tree) {
            b.warnings.push(w);
        }
        let seg: Vec<(usize, FileRole)> = members
            .iter()
            .map(|&m| (wavs[m].node, FileRole::Audio))
            .collect();
        b.segment(&seg);
        b.finish(tree, out);
    }
    mark_derived(tree, out, &wavs);
}

/// The file set `w` belongs to. With an iXML `FILE_SET` the set says how many files the take
/// has: only then is a `_1`/`_Tr1` suffix a track (a take name such as `A101_3` ends in its
/// take number). Without one, mono files whose names differ only in a track suffix are one
/// take when they hold the same number of samples (parallel tracks of one recording do; two
/// takes almost never do).
fn set_key(w: &Wav, all: &[Wav]) -> (SetKey, String) {
    let ixml = w.info.ixml.as_ref();
    let family_uid = ixml.and_then(|x| x.family_uid.clone());
    let total = ixml.and_then(|x| x.total_files);
    let (head, _) = take_of(&w.stem);
    let take = match (&family_uid, total) {
        (Some(_), Some(t)) if t > 1 => head,
        (Some(_), _) => w.stem.clone(),
        (None, _) => {
            let mono = |x: &Wav| x.info.format.is_some_and(|f| f.channels == 1);
            let siblings: Vec<&Wav> = all
                .iter()
                .filter(|o| {
                    o.folder == w.folder
                        && o.info
                            .ixml
                            .as_ref()
                            .and_then(|x| x.family_uid.as_ref())
                            .is_none()
                        && take_of(&o.stem).0.eq_ignore_ascii_case(&head)
                        && o.stem.len() > head.len()
                })
                .collect();
            let parallel = w.stem.len() > head.len()
                && siblings.len() > 1
                && siblings
                    .iter()
                    .all(|o| mono(o) && o.info.data_bytes == w.info.data_bytes);
            if parallel { head } else { w.stem.clone() }
        }
    };
    // Case-insensitive key (FAT/exFAT copies may change case); the name keeps its spelling.
    let key = SetKey {
        folder: w.folder,
        take: take.to_ascii_uppercase(),
        family_uid,
        total_files: total.unwrap_or(1),
    };
    (key, take)
}

/// Sort key of `FILE_SET_INDEX` (`A`, `1`, `01`): numbers by value, letters after them.
fn index_order(info: &BwfInfo) -> (u32, String) {
    let index = info
        .ixml
        .as_ref()
        .and_then(|x| x.file_set_index.clone())
        .unwrap_or_default();
    match index.trim().parse::<u32>() {
        Ok(n) => (n, String::new()),
        Err(_) => (u32::MAX, index.to_ascii_uppercase()),
    }
}

/// "incomplete file set" when `TOTAL_FILES` says more files than the folder holds, naming the
/// missing indices when the present ones are a plain 1..N or A..Z run.
fn incomplete_set_warning(
    key: &SetKey,
    members: &[usize],
    wavs: &[Wav],
    tree: &Tree,
) -> Option<String> {
    let total = key.total_files as usize;
    if key.family_uid.is_none() || members.len() >= total {
        return None;
    }
    let indices: Vec<String> = members
        .iter()
        .filter_map(|&m| wavs[m].info.ixml.as_ref()?.file_set_index.clone())
        .map(|i| i.trim().to_ascii_uppercase())
        .collect();
    let numeric: Option<Vec<u32>> = indices.iter().map(|i| i.parse().ok()).collect();
    let all: Vec<String> = match numeric {
        Some(_) => (1..=key.total_files).map(|n| n.to_string()).collect(),
        None => (b'A'..=b'Z')
            .take(total)
            .map(|c| (c as char).to_string())
            .collect(),
    };
    let have: Vec<String> = match numeric {
        Some(n) => n.iter().map(u32::to_string).collect(),
        None => indices.clone(),
    };
    let missing: Vec<&str> = all
        .iter()
        .filter(|i| !have.contains(i))
        .map(String::as_str)
        .collect();
    let present: Vec<String> = members
        .iter()
        .map(|&m| tree.node(wavs[m].node).name.clone())
        .collect();
    let missing_text = if missing.len() == total - members.len() {
        format!(" (FILE_SET_INDEX {})", missing.join(", "))
    } else {
        String::new()
    };
    Some(format!(
        "incomplete file set: the take has {total} files (iXML FILE_SET TOTAL_FILES) but only \
         {} are here ({}); missing {} file(s){missing_text}: copy the whole take folder from \
         the recorder",
        members.len(),
        present.join(", "),
        total - members.len()
    ))
}

/// A Wave Agent split (or any file whose iXML `HISTORY/PARENT_FILENAME` names another file
/// of this scan) is derived from that file's clip: both stay listed, each says so, so the
/// operator can untick one.
fn mark_derived(tree: &Tree, out: &mut Out, wavs: &[Wav]) {
    for w in wavs {
        let Some(parent) = w.info.ixml.as_ref().and_then(|x| x.parent_filename.clone()) else {
            continue;
        };
        let parent_name = parent
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(&parent)
            .to_string();
        let Some(pw) = wavs.iter().find(|p| {
            p.folder == w.folder && tree.node(p.node).name.eq_ignore_ascii_case(&parent_name)
        }) else {
            continue;
        };
        let path_of = |n: usize| tree.node(n).path.clone();
        let (child_path, parent_path) = (path_of(w.node), path_of(pw.node));
        let find = |clips: &[Clip], p: &std::path::Path| {
            clips
                .iter()
                .position(|c| c.files.iter().any(|f| f.path == p))
        };
        let (Some(ci), Some(pi)) = (
            find(&out.clips, &child_path),
            find(&out.clips, &parent_path),
        ) else {
            continue;
        };
        if ci == pi {
            continue;
        }
        let parent_id = out.clips[pi].id.clone();
        let child_id = out.clips[ci].id.clone();
        let note = format!(
            "derived from {parent_name} (clip {parent_id}): a mono split made from that \
             poly file (iXML HISTORY/PARENT_FILENAME); untick one of the two to register the \
             take once"
        );
        if !out.clips[ci].warnings.contains(&note) {
            out.clips[ci].warnings.push(note);
            out.clips[ci].derived_from = Some(parent_id);
            let back = format!(
                "clip {child_id} was split from this file ({} holds the same take as mono \
                 files): untick one of the two to register the take once",
                tree.node(w.node).name
            );
            out.clips[pi].warnings.push(back);
        }
    }
}

/// Clips found twice in one scan (the same take in a recorder folder and in a copy of it):
/// both stay, each gets a warning and the later ones an id made unique by their folder, so
/// neither overwrites the other's journal.
pub fn flag_copies(clips: &mut [Clip]) {
    let mut by_id: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, c) in clips.iter().enumerate() {
        if c.family == Family::AudioBwf {
            by_id.entry(c.id.clone()).or_default().push(i);
        }
    }
    for idxs in by_id.into_values().filter(|v| v.len() > 1) {
        let folders: Vec<String> = idxs
            .iter()
            .map(|&i| {
                clips[i]
                    .files
                    .first()
                    .and_then(|f| f.path.parent())
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            })
            .collect();
        for (k, &i) in idxs.iter().enumerate() {
            clips[i].warnings.push(format!(
                "looks like a copy of one take: {} clips carry the same iXML file set \
                 (folders: {}); register one of them",
                idxs.len(),
                folders.join(", ")
            ));
            if k > 0 {
                clips[i].id = format!("{}@{}", clips[i].id, folders[k]);
            }
        }
    }
}

/// Builds a WAV with optional `bext` and an optional iXML chunk placed AFTER `data`, for tests
/// and sample cards.
pub fn synth_wav(bext: bool, ixml: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(b"WAVE");
    let mut chunk = |id: &[u8; 4], data: &[u8]| {
        body.extend_from_slice(id);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    };
    // PCM, 1 channel, 48 kHz, 24-bit.
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&48_000u32.to_le_bytes());
    fmt.extend_from_slice(&144_000u32.to_le_bytes());
    fmt.extend_from_slice(&3u16.to_le_bytes());
    fmt.extend_from_slice(&24u16.to_le_bytes());
    chunk(b"fmt ", &fmt);
    if bext {
        chunk(b"bext", &[0u8; 602]);
    }
    chunk(b"data", &[0u8; 9]);
    if let Some(x) = ixml {
        chunk(b"iXML", x.as_bytes());
    }
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ixml_after_data_in_rf64() {
        let ixml = b"<BWFXML><FILE_SET><FAMILY_UID>UID-64</FAMILY_UID><FILE_SET_INDEX>2</FILE_SET_INDEX></FILE_SET></BWFXML>";
        let mut body = Vec::new();
        body.extend_from_slice(b"WAVE");
        // ds64: riff size, data size (7), sample count, table length
        body.extend_from_slice(b"ds64");
        body.extend_from_slice(&28u32.to_le_bytes());
        body.extend_from_slice(&0u64.to_le_bytes());
        body.extend_from_slice(&7u64.to_le_bytes());
        body.extend_from_slice(&0u64.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(b"data");
        body.extend_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        body.extend_from_slice(&[1u8; 7]);
        body.push(0); // pad byte after an odd chunk
        body.extend_from_slice(b"iXML");
        body.extend_from_slice(&(ixml.len() as u32).to_le_bytes());
        body.extend_from_slice(ixml);
        let mut file = b"RF64".to_vec();
        file.extend_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        file.extend_from_slice(&body);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("T01.WAV");
        std::fs::write(&path, file).expect("write");
        let info = read_bwf_info(&path).expect("riff");
        assert!(info.bext.is_none() && is_bwf(&info));
        let x = info.ixml.expect("ixml");
        assert_eq!(
            (x.family_uid.as_deref(), x.file_set_index.as_deref()),
            (Some("UID-64"), Some("2"))
        );
    }

    #[test]
    fn non_wave_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.wav");
        std::fs::write(&path, b"ID3 not a wave").expect("write");
        assert_eq!(read_bwf_info(&path), None);
    }
}
