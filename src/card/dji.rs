//! DJI (`DCIM/1##MEDIA`, `DCIM/DJI_###`; camera-cards.md §3.8): clip = basename; `.SRT`
//! telemetry (sidecar), `.LRF` low-res copy (proxy) and `.JPG` with that basename go with it.

use super::detector::{CardDetector, CardRef, Out};
use super::generic::group_by_basename;
use super::model::Family;
use super::names::{all_digits, dcf_folder_suffix};
use super::walk::{Listing, Tree};
use crate::media::sidecar::dji_srt;

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
            let first = out.clips.len();
            let Some(dcim) = tree.child(card.root, "dcim") else {
                continue;
            };
            for folder in tree.dirs_in(Some(dcim)) {
                if is_dji_folder(&tree.node(folder).lower) {
                    let files = tree.files_in(Some(folder));
                    group_by_basename(tree, card, &files, Family::Dji, true, out);
                }
            }
            flag_srt_problems(&mut out.clips[first..]);
            if let Some(misc) = tree.child(card.root, "misc") {
                for f in tree.files_under(misc) {
                    out.card_level(f);
                }
            }
        }
    }
}

/// Telemetry larger than this is not read for the structure check (real SRTs are ~1 MB per
/// 10 minutes).
const MAX_SRT_BYTES: u64 = 64 * 1024 * 1024;

/// An empty or cut-off `.SRT` is a warning on its clip naming the file (the video is still
/// fine; only the telemetry is lost), as an empty video file is an error naming it.
fn flag_srt_problems(clips: &mut [crate::card::Clip]) {
    for clip in clips {
        let mut warnings = Vec::new();
        for f in &clip.files {
            let is_srt = f
                .path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("srt"));
            if !is_srt || f.size > MAX_SRT_BYTES {
                continue;
            }
            let name = f.path.file_name().unwrap_or_default().to_string_lossy();
            let problem = match std::fs::read(&f.path) {
                Ok(bytes) => dji_srt::check(&bytes).problem,
                Err(e) => Some(format!("cannot be read ({e})")),
            };
            if let Some(p) = problem {
                warnings.push(format!(
                    "telemetry {name} {p}; flight data (GPS, altitude, camera settings) is \
                     missing for this clip; re-copy it from the card"
                ));
            }
        }
        clip.warnings.extend(warnings);
    }
}
