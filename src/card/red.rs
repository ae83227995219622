//! RED (camera-cards.md §3.9): `A001_0514AB.RDM/` reel → `A001_C001_0514XY.RDC/` clip →
//! `A001_C001_0514XY_001.R3D`, `_002.R3D` … segments + `A001_C001_0514XY.RMD` metadata.
//! Clip = the R3D segments of one clip name in one folder; they must run `_001…` without holes
//! (a hole or a missing `_001` is an incomplete copy).

use super::detector::{CardDetector, CardRef, ClipBuilder, Out, make_id};
use super::model::{Family, FileRole};
use super::names::{all_digits, split_ext};
use super::walk::{Listing, Tree};
use std::collections::BTreeMap;

pub struct Red;

impl CardDetector for Red {
    fn family(&self) -> Family {
        Family::Red
    }

    /// A folder holding `.RDC` clip folders (the `.RDM` reel, = one RED mag) or `.R3D` files.
    /// A folder merely holding `.RDM` reels is not one: reels copied into a shoot-day folder
    /// sit next to other cards, which must still be found.
    fn is_card_root(&self, dir: &dyn Listing) -> bool {
        dir.any_child(&[], &|n, d| {
            (d && n.ends_with(".rdc")) || (!d && n.ends_with(".r3d"))
        })
    }

    fn owns_subfolder(&self, lower: &str) -> bool {
        lower.ends_with(".rdc")
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        for card in cards {
            group_card(tree, card, out);
        }
    }
}

/// `A001_C001_0514XY_001` → (`A001_C001_0514XY`, 1).
pub fn split_segment(stem: &str) -> Option<(&str, u32)> {
    let (clip, nn) = stem.rsplit_once('_')?;
    (nn.len() == 3 && all_digits(nn) && !clip.is_empty()).then(|| (clip, nn.parse().unwrap_or(0)))
}

fn group_card(tree: &Tree, card: &CardRef, out: &mut Out) {
    // (folder, uppercase clip name) → segment number → file
    let mut clips: BTreeMap<(usize, String), BTreeMap<u32, usize>> = BTreeMap::new();
    for &f in &card.files {
        let n = tree.node(f);
        let (stem, ext) = split_ext(&n.name);
        if !ext.eq_ignore_ascii_case("r3d") {
            continue;
        }
        if let Some((clip, nn)) = split_segment(stem) {
            clips
                .entry((n.parent.unwrap_or(f), clip.to_ascii_uppercase()))
                .or_default()
                .insert(nn, f);
        }
    }
    for ((folder, name), segs) in clips {
        let mut b = ClipBuilder::new(
            Family::Red,
            make_id(Family::Red, &name),
            name.clone(),
            card.root_path.clone(),
        );
        let mut missing = Vec::new();
        let last = segs.keys().max().copied().unwrap_or(0);
        for nn in 1..=last {
            match segs.get(&nn) {
                Some(&f) => b.segment(&[(f, FileRole::Video)]),
                None => missing.push(format!("{name}_{nn:03}.R3D")),
            }
        }
        if !missing.is_empty() {
            b.set_incomplete(format!(
                "segment(s) {} missing: an incomplete copy, re-copy the clip folder",
                missing.join(", ")
            ));
        }
        let in_rdc = tree.node(folder).lower.ends_with(".rdc");
        for f in tree.files_in(Some(folder)) {
            let (stem, ext) = split_ext(&tree.node(f).name);
            let ext = ext.to_ascii_lowercase();
            if ext == "r3d" {
                continue;
            }
            if stem.eq_ignore_ascii_case(&name) && ext == "rmd" {
                b.extra(f, FileRole::Sidecar);
            } else if in_rdc {
                // Everything else in the clip folder belongs to the clip.
                b.extra(f, FileRole::Other);
            }
        }
        b.finish(tree, out);
    }
}
