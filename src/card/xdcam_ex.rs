//! Sony XDCAM EX (`BPAV`, camera-cards.md §3.3): each `CLPR/<prefix_take>_NN/` folder is one file
//! of a take (`.MP4` + `.SMI`, `M01.XML`, `R01.BIM`, `I01.PPN`). Take = `TAKR/<prefix_take>/*.SMI`
//! order, else all `CLPR/<prefix_take>_NN` in NN order. Empty or invalid sidecars are tolerated.

use super::detector::{CardDetector, CardRef, ClipBuilder, Out, make_id, rel_upper};
use super::model::{Family, FileRole};
use super::names::{all_digits, split_ext};
use super::sony_xml;
use super::walk::{Listing, Tree};
use std::collections::BTreeMap;

pub struct XdcamEx;

impl CardDetector for XdcamEx {
    fn family(&self) -> Family {
        Family::XdcamEx
    }

    fn is_card_root(&self, dir: &dyn Listing) -> bool {
        dir.has_dir(&["bpav", "clpr"])
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        for card in cards {
            group_card(tree, card, out);
        }
    }
}

/// `709_001_01` → (`709_001`, 1).
fn split_clip_folder(name: &str) -> Option<(String, u32)> {
    let (take, nn) = name.rsplit_once('_')?;
    if !all_digits(nn) || take.is_empty() {
        return None;
    }
    Some((take.to_ascii_uppercase(), nn.parse().ok()?))
}

fn group_card(tree: &Tree, card: &CardRef, out: &mut Out) {
    let Some(bpav) = tree.child(card.root, "bpav") else {
        return;
    };
    let clpr = tree.child(bpav, "clpr");
    let takr = tree.child(bpav, "takr");
    // take → (NN → clip folder)
    let mut takes: BTreeMap<String, BTreeMap<u32, usize>> = BTreeMap::new();
    let mut folder_by_name = BTreeMap::new();
    for d in tree.dirs_in(clpr) {
        let name = tree.node(d).name.to_ascii_uppercase();
        folder_by_name.insert(name.clone(), d);
        match split_clip_folder(&name) {
            Some((take, nn)) => {
                takes.entry(take).or_default().insert(nn, d);
            }
            None => {
                takes.entry(name).or_default().insert(0, d);
            }
        }
    }
    for (take, by_nn) in &takes {
        let takr_dir = takr.and_then(|t| tree.child(t, &take.to_lowercase()));
        let smi = tree
            .files_in(takr_dir)
            .into_iter()
            .find(|&f| tree.node(f).lower.ends_with(".smi"));
        let mut warnings = Vec::new();
        // Take SMIL order when it parses and names folders we have; else NN order.
        let from_smil: Option<Vec<usize>> = smi.and_then(|s| {
            let srcs = sony_xml::smil_sources(&tree.node(s).path)?;
            let dirs: Vec<usize> = srcs
                .iter()
                .filter_map(|stem| folder_by_name.get(stem).copied())
                .collect();
            (!dirs.is_empty()).then_some(dirs)
        });
        let folders: Vec<usize> = match from_smil {
            Some(mut dirs) => {
                for d in by_nn.values() {
                    if !dirs.contains(d) {
                        warnings.push(format!(
                            "{} is not in the take list; appended in folder order",
                            tree.node(*d).name
                        ));
                        dirs.push(*d);
                    }
                }
                dirs
            }
            None => {
                if smi.is_some() {
                    warnings.push(format!(
                        "take list TAKR/{take}/{take}.SMI is empty or unreadable; clip folders \
                         joined in number order"
                    ));
                }
                by_nn.values().copied().collect()
            }
        };
        let mut b = ClipBuilder::new(
            Family::XdcamEx,
            String::new(),
            take.clone(),
            card.root_path.clone(),
        );
        let mut umid = None;
        for &d in &folders {
            let files = tree.files_in(Some(d));
            let folder = tree.node(d).name.to_ascii_uppercase();
            for &f in &files {
                let (stem, ext) = split_ext(&tree.node(f).name);
                let (stem, ext) = (stem.to_ascii_uppercase(), ext.to_ascii_lowercase());
                if stem == folder && matches!(ext.as_str(), "mp4" | "mov" | "mxf") {
                    b.segment(&[(f, FileRole::Video)]);
                } else if ext == "xml" || ext == "smi" {
                    if umid.is_none() && stem.ends_with("M01") {
                        umid = sony_xml::nrt_umid(&tree.node(f).path);
                    }
                    b.extra(f, FileRole::Sidecar);
                } else {
                    // R01.BIM real-time metadata, I01.PPN picture pointers, anything else.
                    b.extra(f, FileRole::Other);
                }
            }
        }
        if let Some(s) = smi {
            b.extra(s, FileRole::Sidecar);
        }
        for f in tree.files_in(takr_dir) {
            b.extra(f, FileRole::Other);
        }
        if !b.has_essence() {
            b.set_incomplete(format!(
                "no .MP4 essence in BPAV/CLPR/{take}_NN: re-copy the card"
            ));
        }
        b.id = match umid {
            Some(u) => make_id(Family::XdcamEx, &u),
            None => {
                let base = rel_upper(tree, card, bpav);
                make_id(Family::XdcamEx, &format!("{base}/TAKR/{take}"))
            }
        };
        b.warnings = warnings;
        b.finish(tree, out);
    }
    // MEDIAPRO.XML, CUEUP.XML and GENERAL travel with the card.
    for f in tree.files_in(Some(bpav)) {
        out.card_level(f);
    }
    for d in tree.dirs_in(Some(bpav)) {
        if !matches!(tree.node(d).lower.as_str(), "clpr" | "takr") {
            for f in tree.files_under(d) {
                out.card_level(f);
            }
        }
    }
    for f in tree.files_in(Some(card.root)) {
        out.card_level(f);
    }
}
