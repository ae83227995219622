//! Production audio recorders (BWF, camera-cards.md §3.14): a WAV with a `bext` or `iXML` chunk.
//! Poly files are one clip each; mono-per-track files (`_1`, `_2`, `_A`; Zoom `_Tr1`, `_Tr1_2`,
//! `_D`) are one take. The iXML `FILE_SET/FAMILY_UID` decides when present. A small RIFF chunk
//! walker finds the chunks without reading audio (iXML may follow `data`; RF64 via `ds64`).

use super::detector::{CardDetector, CardRef, ClipBuilder, Out, make_id, rel};
use super::model::{Family, FileRole};
use super::names::{all_digits, split_ext};
use super::walk::Tree;
use super::xml;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

pub struct AudioBwf;

/// Largest iXML chunk read into memory.
const MAX_IXML_BYTES: u64 = 1024 * 1024;
/// Chunks walked before giving up on a malformed file.
const MAX_CHUNKS: usize = 256;

/// What the RIFF walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BwfInfo {
    pub has_bext: bool,
    pub ixml: Option<String>,
}

impl BwfInfo {
    pub fn is_bwf(&self) -> bool {
        self.has_bext || self.ixml.is_some()
    }

    /// `<FILE_SET><FAMILY_UID>` and `<FILE_SET_INDEX>` of the iXML chunk.
    pub fn file_set(&self) -> (Option<String>, Option<String>) {
        let Some(text) = &self.ixml else {
            return (None, None);
        };
        let Ok(doc) = roxmltree::Document::parse(text) else {
            return (None, None);
        };
        let Some(set) = xml::desc(doc.root(), "FILE_SET") else {
            return (None, None);
        };
        (
            xml::text(xml::child(set, "FAMILY_UID")),
            xml::text(xml::child(set, "FILE_SET_INDEX")),
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RiffError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a RIFF/RF64 WAVE file")]
    NotWave { path: std::path::PathBuf },
}

/// Walks the RIFF chunks of a WAV file, seeking over `data`.
pub fn read_bwf_info(path: &Path) -> Result<BwfInfo, RiffError> {
    let err = |source| RiffError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(err)?;
    let size = f.metadata().map_err(err)?.len();
    let mut hdr = [0u8; 12];
    if f.read_exact(&mut hdr).is_err()
        || !matches!(&hdr[0..4], b"RIFF" | b"RF64" | b"BW64")
        || &hdr[8..12] != b"WAVE"
    {
        return Err(RiffError::NotWave {
            path: path.to_path_buf(),
        });
    }
    let mut info = BwfInfo::default();
    let mut ds64_data: Option<u64> = None;
    let mut pos = 12u64;
    for _ in 0..MAX_CHUNKS {
        if pos + 8 > size {
            break;
        }
        f.seek(SeekFrom::Start(pos)).map_err(err)?;
        let mut ch = [0u8; 8];
        f.read_exact(&mut ch).map_err(err)?;
        let id = [ch[0], ch[1], ch[2], ch[3]];
        let mut len = u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]) as u64;
        match &id {
            b"ds64" => {
                let mut d = [0u8; 16];
                f.read_exact(&mut d).map_err(err)?;
                ds64_data = Some(u64::from_le_bytes([
                    d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15],
                ]));
            }
            b"data" if len == 0xFFFF_FFFF => {
                len = ds64_data.unwrap_or(size.saturating_sub(pos + 8));
            }
            b"bext" => info.has_bext = true,
            b"iXML" if len <= MAX_IXML_BYTES => {
                let mut buf = vec![0u8; len as usize];
                f.read_exact(&mut buf).map_err(err)?;
                info.ixml = Some(xml::clean(&String::from_utf8_lossy(&buf)));
            }
            _ => {}
        }
        pos += 8 + len + (len & 1);
    }
    Ok(info)
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
        let Ok(info) = read_bwf_info(&n.path) else {
            continue;
        };
        if !info.is_bwf() {
            continue;
        }
        let (uid, index) = info.file_set();
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
        assert!(!info.has_bext);
        assert_eq!(
            info.file_set(),
            (Some("UID-64".to_string()), Some("2".to_string()))
        );
    }

    #[test]
    fn non_wave_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.wav");
        std::fs::write(&path, b"ID3 not a wave").expect("write");
        assert!(matches!(
            read_bwf_info(&path),
            Err(RiffError::NotWave { .. })
        ));
    }
}
