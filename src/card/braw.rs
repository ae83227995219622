//! Blackmagic RAW (camera-cards.md §3.11): `*.braw` + optional same-basename `.sidecar` (JSON
//! written by Resolve/BRAW Player). One clip per `.braw`; id = the camera clip name.

use super::detector::{CardDetector, CardRef, ClipBuilder, Out, make_id};
use super::model::{Family, FileRole};
use super::names::split_ext;
use super::walk::Tree;

pub struct Braw;

impl CardDetector for Braw {
    fn family(&self) -> Family {
        Family::Braw
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        for card in cards {
            for &f in &card.files {
                let n = tree.node(f);
                let (stem, ext) = split_ext(&n.name);
                if !ext.eq_ignore_ascii_case("braw") || !out.is_free(f) {
                    continue;
                }
                let mut b = ClipBuilder::new(
                    Family::Braw,
                    make_id(Family::Braw, &stem.to_ascii_uppercase()),
                    stem.to_string(),
                    card.root_path.clone(),
                );
                b.segment(&[(f, FileRole::Video)]);
                for s in tree.files_in(n.parent) {
                    let (s_stem, s_ext) = split_ext(&tree.node(s).name);
                    if s_stem.eq_ignore_ascii_case(stem)
                        && s_ext.eq_ignore_ascii_case("sidecar")
                        && out.is_free(s)
                    {
                        b.extra(s, FileRole::Sidecar);
                    }
                }
                b.finish(tree, out);
            }
        }
    }
}
