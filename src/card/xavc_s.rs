//! Sony XAVC S / HS / S-I (`PRIVATE/M4ROOT`, camera-cards.md §3.4): clip = basename across
//! `CLIP/<n>.MP4` + `CLIP/<n>M01.XML`, `THMBNL/<n>T01.JPG`, `SUB/<n>S03.MP4`. Stills in `DCIM/`
//! are separate (generic) clips.

use super::detector::{CardDetector, CardRef, Out};
use super::model::Family;
use super::walk::{Listing, Tree};
use super::xdcam::{SonyDirs, group_sony};

pub struct XavcS;

impl CardDetector for XavcS {
    fn family(&self) -> Family {
        Family::XavcS
    }

    fn is_card_root(&self, dir: &dyn Listing) -> bool {
        dir.has_dir(&["private", "m4root", "clip"])
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        for card in cards {
            let Some(base) = tree.at(card.root, &["private", "m4root"]) else {
                continue;
            };
            let dirs = SonyDirs {
                base,
                clip: tree.child(base, "clip"),
                sub: tree.child(base, "sub"),
                thumb: tree.child(base, "thmbnl"),
                local: None,
            };
            group_sony(tree, card, Family::XavcS, &dirs, out);
        }
    }
}
