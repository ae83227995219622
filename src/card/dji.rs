//! DJI (`DCIM/1##MEDIA`, `DCIM/DJI_###`; camera-cards.md §3.8): clip = basename; `.SRT`
//! telemetry (sidecar), `.LRF` low-res copy (proxy) and `.JPG` with that basename go with it.

use super::detector::{CardDetector, CardRef, Out};
use super::generic::group_by_basename;
use super::model::Family;
use super::names::{all_digits, dcf_folder_suffix};
use super::walk::{Listing, Tree};

pub struct Dji;

fn is_dji_folder(lower: &str) -> bool {
    dcf_folder_suffix(lower).as_deref() == Some("MEDIA")
        || lower
            .strip_prefix("dji_")
            .is_some_and(|n| n.len() == 3 && all_digits(n))
}

impl CardDetector for Dji {
    fn family(&self) -> Family {
        Family::Dji
    }

    fn is_card_root(&self, dir: &dyn Listing) -> bool {
        dir.any_child(&["dcim"], &|n, d| d && is_dji_folder(n))
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        for card in cards {
            let Some(dcim) = tree.child(card.root, "dcim") else {
                continue;
            };
            for folder in tree.dirs_in(Some(dcim)) {
                if is_dji_folder(&tree.node(folder).lower) {
                    let files = tree.files_in(Some(folder));
                    group_by_basename(tree, card, &files, Family::Dji, true, out);
                }
            }
            if let Some(misc) = tree.child(card.root, "misc") {
                for f in tree.files_under(misc) {
                    out.card_level(f);
                }
            }
        }
    }
}
