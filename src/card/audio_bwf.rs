//! Production audio recorders (BWF, camera-cards.md §3.14): a WAV with a `bext` or `iXML` chunk.
//! Poly files are one clip each; mono-per-track files (`_1`, `_2`, `_A`; Zoom `_Tr1`, `_Tr1_2`,
//! `_D`) are one take. The iXML `FILE_SET/FAMILY_UID` decides when present. The chunks are
//! read by metadata's BWF parser (iXML may follow `data`; RF64 via `ds64`).

use super::detector::{CardDetector, CardRef, ClipBuilder, Out, make_id, rel};
use super::model::{Family, FileRole};
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

/// `<FILE_SET><FAMILY_UID>` and `<FILE_SET_INDEX>` of the iXML chunk.
fn file_set(info: &BwfInfo) -> (Option<String>, Option<String>) {
    info.ixml.as_ref().map_or((None, None), |x| {
        (x.family_uid.clone(), x.file_set_index.clone())
    })
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

struct Track {
    node: usize,
    take: String,
    order: (String, u32, String),
}

fn group_zone(tree: &Tree, card: &CardRef, out: &mut Out) {
    // group key → tracks; key = FAMILY_UID, else (folder, take name)
    let mut takes: BTreeMap<(String, String), (usize, Vec<Track>)> = BTreeMap::new();
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
        let (uid, index) = file_set(&info);
        let (take, track) = take_of(stem);
        let key = match &uid {
            Some(u) => ("uid".to_string(), u.clone()),
            None => (
                format!("dir{}", n.parent.unwrap_or(f)),
                take.to_ascii_uppercase(),
            ),
        };
        let entry = takes
            .entry(key)
            .or_insert((n.parent.unwrap_or(f), Vec::new()));
        entry.1.push(Track {
            node: f,
            take,
            order: (index.unwrap_or_default(), track, n.name.clone()),
        });
    }
    for ((kind, key), (folder, mut tracks)) in takes {
        tracks.sort_by(|a, b| a.order.cmp(&b.order));
        let name = tracks[0].take.clone();
        let id = if kind == "uid" {
            make_id(Family::AudioBwf, &key)
        } else {
            let dir = if tree.node(card.root).is_dir && folder != card.root {
                format!("{}/", rel(tree, card, folder))
            } else {
                String::new()
            };
            make_id(Family::AudioBwf, &format!("{dir}{name}"))
        };
        let mut b = ClipBuilder::new(Family::AudioBwf, id, name, card.root_path.clone());
        let seg: Vec<(usize, FileRole)> =
            tracks.iter().map(|t| (t.node, FileRole::Audio)).collect();
        b.segment(&seg);
        b.finish(tree, out);
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
        assert_eq!(
            file_set(&info),
            (Some("UID-64".to_string()), Some("2".to_string()))
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
