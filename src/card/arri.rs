//! ARRI (camera-cards.md §3.10): a folder of `.ari`/`.arx` frames (`…_R1AB.0000001.ari`) is ONE
//! clip; ARRIRAW/ARRICORE MXF and ProRes MOV with ARRI clip names (`A001C001_240514_R1AB`) are
//! one clip per file. Ids use the camera clip name, which carries the reel (`A001`).

use super::detector::{CardDetector, CardRef, ClipBuilder, Out, make_id};
use super::image_sequence::{frame_warnings, parse_frame_name};
use super::model::{Family, FileRole};
use super::names::split_ext;
use super::walk::Tree;
use std::collections::BTreeMap;

pub struct Arri;

/// `A001C001_240514_R1AB…`: camera letter, reel, clip, date, 4-char camera id.
pub fn is_arri_clip_name(stem: &str) -> bool {
    let b = stem.as_bytes();
    b.len() >= 20
        && b[0].is_ascii_alphabetic()
        && b[1..4].iter().all(u8::is_ascii_digit)
        && b[4].eq_ignore_ascii_case(&b'C')
        && b[5..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'_'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'_'
        && b[16..20].iter().all(u8::is_ascii_alphanumeric)
}

impl CardDetector for Arri {
    fn family(&self) -> Family {
        Family::Arri
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        for card in cards {
            let before = out.clips.len();
            group_frames(tree, card, out);
            group_files(tree, card, out);
            if out.clips.len() > before {
                keep_ales(tree, card, out);
            }
        }
    }
}

fn group_frames(tree: &Tree, card: &CardRef, out: &mut Out) {
    let mut seqs: BTreeMap<(usize, String), BTreeMap<u64, usize>> = BTreeMap::new();
    let mut pads: BTreeMap<(usize, String), usize> = BTreeMap::new();
    for &f in &card.files {
        let n = tree.node(f);
        let (_, ext) = split_ext(&n.lower);
        if !matches!(ext, "ari" | "arx") {
            continue;
        }
        let Some(fr) = parse_frame_name(&n.name) else {
            continue;
        };
        let key = (n.parent.unwrap_or(f), fr.base.to_ascii_uppercase());
        pads.insert(key.clone(), fr.padding);
        seqs.entry(key).or_default().insert(fr.number, f);
    }
    for (key, frames) in seqs {
        let (_, name) = &key;
        let mut b = ClipBuilder::new(
            Family::Arri,
            make_id(Family::Arri, name),
            name.clone(),
            card.root_path.clone(),
        );
        let nodes: Vec<(usize, FileRole)> =
            frames.values().map(|&f| (f, FileRole::Video)).collect();
        b.segment(&nodes);
        let numbers: Vec<u64> = frames.keys().copied().collect();
        b.warnings = frame_warnings(&numbers, pads.get(&key).copied().unwrap_or(0));
        b.finish(tree, out);
    }
}

fn group_files(tree: &Tree, card: &CardRef, out: &mut Out) {
    for &f in &card.files {
        if !out.is_free(f) {
            continue;
        }
        let n = tree.node(f);
        let (stem, ext) = split_ext(&n.name);
        let ext = ext.to_ascii_lowercase();
        if !matches!(ext.as_str(), "mxf" | "mov")
            || !(is_arri_clip_name(stem) || (ext == "mxf" && is_arri_mxf(&n.path)))
        {
            continue;
        }
        let name = stem.to_ascii_uppercase();
        let mut b = ClipBuilder::new(
            Family::Arri,
            make_id(Family::Arri, &name),
            stem.to_string(),
            card.root_path.clone(),
        );
        b.segment(&[(f, FileRole::Video)]);
        for s in tree.files_in(n.parent) {
            let (s_stem, s_ext) = split_ext(&tree.node(s).name);
            let s_ext = s_ext.to_ascii_lowercase();
            if s != f
                && s_stem.eq_ignore_ascii_case(stem)
                && !matches!(s_ext.as_str(), "mxf" | "mov")
                && out.is_free(s)
            {
                b.extra(s, FileRole::Sidecar);
            }
        }
        b.finish(tree, out);
    }
}

/// How far into an MXF the Identification set is looked for (it sits in the header
/// metadata, a few KB in).
const MXF_HEAD_BYTES: u64 = 64 * 1024;

/// True when the MXF header metadata names ARRI as the writing company: the Identification
/// set's `CompanyName` is a UTF-16BE string, "ARRI" on ALEXA/AMIRA recordings. Catches ARRI
/// clips renamed by a copy tool, whose names no longer follow `A001C001_YYMMDD_R1AB`.
pub fn is_arri_mxf(path: &std::path::Path) -> bool {
    use std::io::Read;
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = Vec::new();
    let ok = std::fs::File::open(path)
        .and_then(|f| f.take(MXF_HEAD_BYTES).read_to_end(&mut head))
        .is_ok();
    const ARRI_UTF16: [u8; 8] = [0, b'A', 0, b'R', 0, b'R', 0, b'I'];
    ok && super::media_sniff::sniff(&head) == Some("MXF")
        && head.windows(ARRI_UTF16.len()).any(|w| w == ARRI_UTF16)
}

/// ALE logs in the folders of this zone's ARRI clips are read per clip at describe time (the
/// row whose `Name` is the clip): they are listed as such, not as "not a media file".
fn keep_ales(tree: &Tree, card: &CardRef, out: &mut Out) {
    for &f in &card.files {
        if out.is_free(f) && tree.node(f).lower.ends_with(".ale") {
            out.skip(
                tree,
                f,
                "ALE log: its rows are read as metadata of the clips they name (Name column); \
                 copied with the card, not a clip member"
                    .to_string(),
            );
        }
    }
}
