//! Canon XF / XF-AVC / Cinema RAW Light (`CONTENTS/CLIPS001`, camera-cards.md §3.5): each
//! `CLIPS001/<AA####>/` folder is one clip, `AA####NN.MXF` segments in NN order, plus `.CIF`,
//! `*.XML`, `.THM`, `.PPN`, `.SIF`. `INDEX.MIF` travels with the card.

use super::detector::{CardDetector, CardRef, ClipBuilder, Out, make_id};
use super::model::{Family, FileRole};
use super::names::{all_digits, split_ext};
use super::walk::{Listing, Tree};

pub struct CanonXf;

fn is_clips_dir(lower: &str) -> bool {
    lower.len() == 8 && lower.starts_with("clips") && all_digits(&lower[5..])
}

impl CardDetector for CanonXf {
    fn family(&self) -> Family {
        Family::CanonXf
    }

    fn is_card_root(&self, dir: &dyn Listing) -> bool {
        dir.any_child(&["contents"], &|n, d| d && is_clips_dir(n))
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        for card in cards {
            let Some(contents) = tree.child(card.root, "contents") else {
                continue;
            };
            for clips in tree.dirs_in(Some(contents)) {
                if !is_clips_dir(&tree.node(clips).lower) {
                    continue;
                }
                for clip_dir in tree.dirs_in(Some(clips)) {
                    group_clip(tree, card, clips, clip_dir, out);
                }
                group_flat(tree, card, clips, out);
                // INDEX.MIF and other CLIPSnnn files no flat clip took.
                for f in tree.files_in(Some(clips)) {
                    if out.is_free(f) {
                        out.card_level(f);
                    }
                }
            }
            for f in tree.files_in(Some(contents)) {
                out.card_level(f);
            }
            for f in tree.files_in(Some(card.root)) {
                out.card_level(f);
            }
        }
    }
}

/// Newer Cinema EOS bodies (C70, C300 III, R5 C) write flat clips into `CLIPSnnn/`:
/// `A001C001_240514AB_CANON.CRM` (Cinema RAW Light) or `.MXF` (XF-AVC) / `.MP4`, with
/// same-basename sidecars (`.XML` clip metadata, `.CIF`, `.THM`/`.JPG`, `.PPN`). One clip per
/// essence file; its id is `canon_xf:<CLIPSnnn>/<basename>` (RAW keeps the `canon_xf`
/// family: the card layout is the same, only the essence differs).
fn group_flat(tree: &Tree, card: &CardRef, clips: usize, out: &mut Out) {
    let files = tree.files_in(Some(clips));
    let clips_name = tree.node(clips).name.to_ascii_uppercase();
    for &f in &files {
        let (stem, ext) = split_ext(&tree.node(f).name);
        if !matches!(ext.to_ascii_lowercase().as_str(), "crm" | "mxf" | "mp4") {
            continue;
        }
        let name = stem.to_string();
        let mut b = ClipBuilder::new(
            Family::CanonXf,
            make_id(
                Family::CanonXf,
                &format!("{clips_name}/{}", name.to_ascii_uppercase()),
            ),
            name.clone(),
            card.root_path.clone(),
        );
        b.segment(&[(f, FileRole::Video)]);
        for &o in &files {
            if o == f || !out.is_free(o) {
                continue;
            }
            let (ostem, oext) = split_ext(&tree.node(o).name);
            // Same basename, or basename + a 2-digit/letter suffix (`…_CANON01.PPN`).
            let related = ostem.eq_ignore_ascii_case(stem)
                || (ostem.len() > stem.len()
                    && ostem.is_char_boundary(stem.len())
                    && ostem[..stem.len()].eq_ignore_ascii_case(stem)
                    && ostem.len() - stem.len() <= 3);
            if !related {
                continue;
            }
            let role = match oext.to_ascii_lowercase().as_str() {
                "crm" | "mxf" | "mp4" => continue,
                "thm" | "jpg" => FileRole::Thumbnail,
                "xml" | "cif" | "sif" => FileRole::Sidecar,
                _ => FileRole::Other,
            };
            b.extra(o, role);
        }
        b.finish(tree, out);
    }
}

fn group_clip(tree: &Tree, card: &CardRef, clips: usize, clip_dir: usize, out: &mut Out) {
    let name = tree.node(clip_dir).name.to_ascii_uppercase();
    let mut segments: Vec<(u32, usize)> = Vec::new();
    let mut extras = Vec::new();
    for f in tree.files_under(clip_dir) {
        let (stem, ext) = split_ext(&tree.node(f).name);
        let (stem, ext) = (stem.to_ascii_uppercase(), ext.to_ascii_lowercase());
        let nn = stem
            .strip_prefix(name.as_str())
            .filter(|r| r.len() == 2 && all_digits(r));
        match (ext.as_str(), nn) {
            ("mxf" | "crm" | "mp4", Some(nn)) => {
                segments.push((nn.parse().unwrap_or(u32::MAX), f));
            }
            ("thm" | "jpg", _) => extras.push((f, FileRole::Thumbnail)),
            ("xml" | "cif" | "sif", _) => extras.push((f, FileRole::Sidecar)),
            _ => extras.push((f, FileRole::Other)),
        }
    }
    segments.sort();
    let clips_name = tree.node(clips).name.to_ascii_uppercase();
    let mut b = ClipBuilder::new(
        Family::CanonXf,
        make_id(Family::CanonXf, &format!("{clips_name}/{name}")),
        name.clone(),
        card.root_path.clone(),
    );
    let mut expected = 1;
    for &(nn, f) in &segments {
        if nn != expected {
            b.set_incomplete(format!(
                "segment {name}{expected:02}.MXF is missing: re-copy the card"
            ));
        }
        expected = nn + 1;
        b.segment(&[(f, FileRole::Video)]);
    }
    for (f, r) in extras {
        b.extra(f, r);
    }
    if !b.has_essence() {
        b.set_incomplete(format!(
            "no {name}NN.MXF essence in the clip folder: re-copy the card"
        ));
    }
    b.finish(tree, out);
}
