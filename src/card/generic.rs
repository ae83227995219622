//! Generic grouping: one clip per media file, sidecars (`.XMP`, `.THM`, `.JPG`, ...) by basename
//! in the same folder (camera-cards.md §3.12). Used for loose media, for DCF cards
//! (`DCIM/1##XXXXX`: DSLR, mirrorless, phone) and by DJI with its own sidecar roles.

use super::detector::{CardDetector, CardRef, ClipBuilder, Out, make_id, rel, rel_upper};
use super::model::{Family, FileRole};
use super::names::{
    AUDIO_EXTS, RAW_STILL_EXTS, STILL_EXTS, VIDEO_EXTS, dcf_folder_suffix, ext_lower, is_one_of,
    split_ext,
};
use super::walk::{Listing, Tree};
use std::collections::BTreeMap;

/// Loose media: whatever no card and no other loose detector took.
pub struct Generic;

/// A DCF card (`DCIM/1##XXXXX`) that is not GoPro or DJI.
pub struct GenericDcf;

impl CardDetector for Generic {
    fn family(&self) -> Family {
        Family::Generic
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        for card in cards {
            group_by_basename(tree, card, &card.files, Family::Generic, false, out);
        }
    }
}

impl CardDetector for GenericDcf {
    fn family(&self) -> Family {
        Family::Generic
    }

    fn is_card_root(&self, dir: &dyn Listing) -> bool {
        dir.any_child(&["dcim"], &|n, d| d && dcf_folder_suffix(n).is_some())
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        for card in cards {
            let files: Vec<usize> = card
                .files
                .iter()
                .copied()
                .filter(|&f| {
                    tree.rel_path(card.root, f)
                        .to_lowercase()
                        .starts_with("dcim/")
                })
                .collect();
            group_by_basename(tree, card, &files, Family::Generic, true, out);
            // MISC/, PRIVATE/ and root files (camera databases) travel with the card.
            for &f in &card.files {
                if out.is_free(f) && !files.contains(&f) {
                    out.card_level(f);
                }
            }
        }
    }
}

/// Role of a non-main member by extension, when it shares a basename with a media file.
fn side_role(ext: &str) -> FileRole {
    match ext {
        "thm" | "jpg" | "jpeg" => FileRole::Thumbnail,
        "lrv" | "lrf" => FileRole::Proxy,
        "xmp" | "xml" | "srt" | "sidecar" | "rmd" | "ale" | "cif" => FileRole::Sidecar,
        _ => FileRole::Other,
    }
}

fn is_media(ext: &str) -> bool {
    is_one_of(ext, VIDEO_EXTS) || is_one_of(ext, AUDIO_EXTS) || is_one_of(ext, STILL_EXTS)
}

/// Groups `files` by (folder, lowercase stem): the main file is a video, else audio, else a raw
/// still, else a still; the others become sidecars/proxies/thumbnails. Groups without media are
/// skipped. Ids: `<family>:<card-relative path without extension>` (uppercase on cards).
pub fn group_by_basename(
    tree: &Tree,
    card: &CardRef,
    files: &[usize],
    family: Family,
    upper_ids: bool,
    out: &mut Out,
) {
    let mut groups: BTreeMap<(usize, String), Vec<usize>> = BTreeMap::new();
    for &f in files {
        if !out.is_free(f) {
            continue;
        }
        let n = tree.node(f);
        let parent = n.parent.unwrap_or(f);
        let stem = split_ext(&n.lower).0.to_string();
        groups.entry((parent, stem)).or_default().push(f);
    }
    for members in groups.values() {
        let rank = |f: usize| -> u8 {
            let e = ext_lower(&tree.node(f).name);
            if is_one_of(&e, VIDEO_EXTS) && !matches!(e.as_str(), "lrv" | "lrf") {
                0
            } else if is_one_of(&e, AUDIO_EXTS) {
                1
            } else if is_one_of(&e, RAW_STILL_EXTS) {
                2
            } else if is_one_of(&e, STILL_EXTS) {
                3
            } else {
                9
            }
        };
        let Some(&main) = members.iter().min_by_key(|&&f| rank(f)) else {
            continue;
        };
        let main_ext = ext_lower(&tree.node(main).name);
        if !is_media(&main_ext) {
            // A media file by signature under an unknown name: left for
            // [`claim_unclaimed_media`], which says so on the clip.
            if members
                .iter()
                .any(|&f| super::media_sniff::signature(&tree.node(f).path).is_some())
            {
                continue;
            }
            for &f in members {
                let e = ext_lower(&tree.node(f).name);
                let reason = if matches!(side_role(&e), FileRole::Other) {
                    "not a media file and no clip has this name: left out".to_string()
                } else {
                    format!(
                        "sidecar without media: no video/audio/still named {} in this folder",
                        split_ext(&tree.node(f).name).0
                    )
                };
                out.skip(tree, f, reason);
            }
            continue;
        }
        let main_rank = rank(main);
        let path = if upper_ids {
            rel_upper(tree, card, main)
        } else {
            rel(tree, card, main)
        };
        let id_path = split_ext(&path).0.to_string();
        let name = split_ext(&tree.node(main).name).0.to_string();
        let mut b = ClipBuilder::new(
            family,
            make_id(family, &id_path),
            name,
            card.root_path.clone(),
        );
        // Several essences with one basename (MVI_0001.MOV + .MP4): each is a segment-less
        // alternative; keep the main one as essence, the others as Other.
        let role = if main_rank == 1 {
            FileRole::Audio
        } else {
            FileRole::Video
        };
        b.segment(&[(main, role)]);
        for &f in members.iter().filter(|&&f| f != main) {
            let e = ext_lower(&tree.node(f).name);
            b.extra(f, side_role(&e));
        }
        b.finish(tree, out);
    }
}

/// Makes a generic clip of every still-free file of `card` that is media by extension or
/// signature ([`media_sniff`](super::media_sniff)), with same-basename free files as its
/// members and a warning naming why: no media file is ever dropped silently or filed as
/// card-level. `place` says where it was found ("this xdcam card").
pub fn claim_unclaimed_media(tree: &Tree, card: &CardRef, place: &str, out: &mut Out) {
    for &f in &card.files {
        if !out.is_free(f) {
            continue;
        }
        let n = tree.node(f);
        let Some(hint) = super::media_sniff::media_hint(&n.path, &n.name) else {
            continue;
        };
        let ext = ext_lower(&n.name);
        let why = match hint {
            super::media_sniff::MediaHint::Extension => format!("a .{ext} media file"),
            super::media_sniff::MediaHint::Signature(c) => {
                format!("an {c} file by its first bytes")
            }
        };
        let path = rel(tree, card, f);
        let id_path = split_ext(&path).0.to_string();
        let stem = split_ext(&n.name).0.to_string();
        let mut b = ClipBuilder::new(
            Family::Generic,
            make_id(Family::Generic, &id_path),
            stem.clone(),
            card.root_path.clone(),
        );
        let audio = is_one_of(&ext, AUDIO_EXTS)
            || matches!(hint, super::media_sniff::MediaHint::Signature("WAVE"));
        b.segment(&[(
            f,
            if audio {
                FileRole::Audio
            } else {
                FileRole::Video
            },
        )]);
        for s in tree.files_in(n.parent) {
            let sn = tree.node(s);
            if s != f
                && (out.is_free(s) || out.is_card_level(s))
                && sn.path.starts_with(&card.root_path)
                && split_ext(&sn.name).0.eq_ignore_ascii_case(&stem)
                && super::media_sniff::media_hint(&sn.path, &sn.name).is_none()
            {
                b.extra(s, side_role(&ext_lower(&sn.name)));
            }
        }
        b.warnings.push(format!(
            "{} is {why} that no clip on {place} uses: listed as a generic clip so it is not \
             lost; check which device wrote it",
            n.name
        ));
        b.finish(tree, out);
    }
}
