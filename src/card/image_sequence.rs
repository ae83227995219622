//! Numbered image sequences (DPX/EXR/TIFF/DNG/JPEG, camera-cards.md §3.13): files in one folder
//! differing only in a fixed-width trailing frame number (`A001C001.0086400.dpx`) are one clip.
//! Gaps in the numbering are reported as warnings.

use super::detector::{CardDetector, CardRef, ClipBuilder, Out, make_id, rel};
use super::model::{Family, FileRole};
use super::names::{split_ext, split_trailing_digits};
use super::walk::Tree;
use std::collections::BTreeMap;

pub struct ImageSequence;

/// Frame extensions (lowercase).
const SEQ_EXTS: &[&str] = &[
    "dpx", "exr", "tif", "tiff", "dng", "jpg", "jpeg", "png", "cin",
];

/// A numbered frame file name split into parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameName {
    /// Name before the number, without the trailing separator (`A001C001`).
    pub base: String,
    /// Prefix exactly as written, separator included (`A001C001.`).
    pub prefix: String,
    pub number: u64,
    pub padding: usize,
    pub ext: String,
}

/// Splits `A001C001.0086400.dpx`; `None` when the stem does not end in digits.
pub fn parse_frame_name(name: &str) -> Option<FrameName> {
    let (stem, ext) = split_ext(name);
    let (prefix, digits) = split_trailing_digits(stem);
    if digits.is_empty() || digits.len() > 12 {
        return None;
    }
    Some(FrameName {
        base: prefix.trim_end_matches(['.', '_', '-', ' ']).to_string(),
        prefix: prefix.to_string(),
        number: digits.parse().ok()?,
        padding: digits.len(),
        ext: ext.to_string(),
    })
}

/// Warnings for a sorted frame-number list: the missing frames, numbered as in the file names.
/// The range itself is not a warning (it is visible in the file list); a complete sequence
/// has no warnings.
pub fn frame_warnings(numbers: &[u64], padding: usize) -> Vec<String> {
    let mut gaps = Vec::new();
    for pair in numbers.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b > a + 1 {
            gaps.push(if b == a + 2 {
                format!("{:0padding$}", a + 1)
            } else {
                format!("{:0padding$}–{:0padding$}", a + 1, b - 1)
            });
        }
    }
    if gaps.is_empty() {
        return Vec::new();
    }
    let total = gaps.len();
    gaps.truncate(20);
    let more = if total > 20 {
        format!(" and {} more gaps", total - 20)
    } else {
        String::new()
    };
    vec![format!(
        "missing frames {}{more}: re-copy or re-render them",
        gaps.join(", ")
    )]
}

impl CardDetector for ImageSequence {
    fn family(&self) -> Family {
        Family::ImageSequence
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        for card in cards {
            group_zone(tree, card, out);
        }
    }
}

fn group_zone(tree: &Tree, card: &CardRef, out: &mut Out) {
    // (folder, prefix, padding, ext) → number → file
    type Key = (usize, String, usize, String);
    let mut seqs: BTreeMap<Key, (FrameName, BTreeMap<u64, usize>)> = BTreeMap::new();
    for &f in &card.files {
        if !out.is_free(f) {
            continue;
        }
        let n = tree.node(f);
        let Some(fr) = parse_frame_name(&n.name) else {
            continue;
        };
        let ext = fr.ext.to_ascii_lowercase();
        if !SEQ_EXTS.contains(&ext.as_str()) {
            continue;
        }
        let key = (n.parent.unwrap_or(f), fr.prefix.clone(), fr.padding, ext);
        seqs.entry(key)
            .or_insert_with(|| (fr.clone(), BTreeMap::new()))
            .1
            .insert(fr.number, f);
    }
    for ((folder, _, padding, ext), (fr, frames)) in seqs {
        // Camera stills (IMG_0001.JPG, IMG_0002.JPG) are not a sequence: require a `.` before
        // the number, ≥5-digit numbering, or a VFX format, plus at least two frames for
        // formats cameras also write as stills.
        let vfx = matches!(ext.as_str(), "dpx" | "exr" | "cin");
        let seq_like = vfx || fr.prefix.ends_with('.') || padding >= 5;
        if !seq_like || (!vfx && frames.len() < 2) {
            continue;
        }
        let dir = if tree.node(card.root).is_dir && folder != card.root {
            format!("{}/", rel(tree, card, folder))
        } else {
            String::new()
        };
        let name = if fr.base.is_empty() {
            tree.node(folder).name.clone()
        } else {
            fr.base.clone()
        };
        let id = format!("{dir}{}%0{padding}d.{}", fr.prefix, fr.ext);
        let mut b = ClipBuilder::new(
            Family::ImageSequence,
            make_id(Family::ImageSequence, &id),
            name,
            card.root_path.clone(),
        );
        let nodes: Vec<(usize, FileRole)> =
            frames.values().map(|&f| (f, FileRole::Video)).collect();
        b.segment(&nodes);
        let numbers: Vec<u64> = frames.keys().copied().collect();
        b.warnings = frame_warnings(&numbers, padding);
        b.finish(tree, out);
    }
}
