//! Sony XDCAM EX (`BPAV`, camera-cards.md §3.3): each `CLPR/<prefix_take>_NN/` folder is one file
//! of a take (`.MP4` + `.SMI`, `M01.XML`, `R01.BIM`, `I01.PPN`). Take = `TAKR/<prefix_take>/*.SMI`
//! order, else all `CLPR/<prefix_take>_NN` in NN order. Empty or invalid sidecars are tolerated.
//!
//! A take the camera continued on the next card (the EX bodies relay across their two SxS
//! slots) has `<take>_01` on one card and `<take>_02` on the other: takes of the same name on
//! different cards of one scan join when their clip numbers do not overlap, in take-list
//! order, else NN order. A take whose list names a clip folder no card of the scan holds, or
//! whose numbers do not start at `_01` or have a hole, is listed as incomplete (waiting for
//! the card), like a P2 span.

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
        let mut takes = Vec::new();
        for (ci, card) in cards.iter().enumerate() {
            collect_card(tree, ci, card, &mut takes);
        }
        for group in join_takes(&takes) {
            build_take(tree, cards, &takes, &group, out);
        }
        for card in cards {
            mark_card_level(tree, card, out);
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

/// One take as one card holds it.
struct ExTake {
    card: usize,
    /// Uppercase take name, `709_001`.
    name: String,
    /// `BPAV` folder of the card.
    bpav: usize,
    /// NN → clip folder (`0` for a folder without a `_NN` suffix).
    parts: BTreeMap<u32, usize>,
    /// `TAKR/<take>/`.
    takr_dir: Option<usize>,
    /// The take SMIL in `TAKR/<take>/`.
    smil: Option<usize>,
    /// Clip folder stems the take SMIL lists, in document order, when it parses.
    listed: Option<Vec<String>>,
}

fn collect_card(tree: &Tree, ci: usize, card: &CardRef, takes: &mut Vec<ExTake>) {
    let Some(bpav) = tree.child(card.root, "bpav") else {
        return;
    };
    let clpr = tree.child(bpav, "clpr");
    let takr = tree.child(bpav, "takr");
    let mut by_take: BTreeMap<String, BTreeMap<u32, usize>> = BTreeMap::new();
    for d in tree.dirs_in(clpr) {
        let name = tree.node(d).name.to_ascii_uppercase();
        match split_clip_folder(&name) {
            Some((take, nn)) => by_take.entry(take).or_default().insert(nn, d),
            None => by_take.entry(name).or_default().insert(0, d),
        };
    }
    for (name, parts) in by_take {
        let takr_dir = takr.and_then(|t| tree.child(t, &name.to_lowercase()));
        let smil = tree
            .files_in(takr_dir)
            .into_iter()
            .find(|&f| tree.node(f).lower.ends_with(".smi"));
        let listed = smil.and_then(|s| sony_xml::smil_sources(&tree.node(s).path));
        takes.push(ExTake {
            card: ci,
            name,
            bpav,
            parts,
            takr_dir,
            smil,
            listed,
        });
    }
}

/// Groups of take indices forming one recording: same name, different cards, clip numbers
/// that do not overlap (overlapping numbers are two recordings that reuse a name).
fn join_takes(takes: &[ExTake]) -> Vec<Vec<usize>> {
    let mut used = vec![false; takes.len()];
    let mut groups = Vec::new();
    for i in 0..takes.len() {
        if used[i] {
            continue;
        }
        used[i] = true;
        let mut group = vec![i];
        for j in i + 1..takes.len() {
            if used[j] || takes[j].name != takes[i].name {
                continue;
            }
            let clash = group.iter().any(|&g| {
                takes[g].card == takes[j].card
                    || takes[g]
                        .parts
                        .keys()
                        .any(|nn| takes[j].parts.contains_key(nn))
            });
            if !clash {
                used[j] = true;
                group.push(j);
            }
        }
        groups.push(group);
    }
    groups
}

fn build_take(tree: &Tree, cards: &[CardRef], takes: &[ExTake], group: &[usize], out: &mut Out) {
    let first = &takes[group[0]];
    let take = first.name.clone();
    // NN → (take index, folder) over every card of the recording.
    let mut all: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
    for &g in group {
        for (&nn, &d) in &takes[g].parts {
            all.insert(nn, (g, d));
        }
    }
    let by_stem: BTreeMap<String, (usize, usize)> = all
        .values()
        .map(|&(g, d)| (tree.node(d).name.to_ascii_uppercase(), (g, d)))
        .collect();
    let mut warnings = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let list = group.iter().find_map(|&g| takes[g].listed.as_ref());
    // Take SMIL order when it parses and names folders we have; else NN order.
    let mut order: Vec<(usize, usize)> = Vec::new();
    if let Some(list) = list {
        for stem in list {
            match by_stem.get(stem) {
                Some(&p) if !order.contains(&p) => order.push(p),
                Some(_) => {}
                // The list names every file of the take (also its clip SMILs): only names of
                // this take's clip folders count as parts.
                None if split_clip_folder(stem).is_some_and(|(t, _)| t == take) => {
                    missing.push(stem.clone());
                }
                None => {}
            }
        }
    }
    let listed_any = !order.is_empty();
    for &p in all.values() {
        if !order.contains(&p) {
            if listed_any {
                warnings.push(format!(
                    "{} is not in the take list; appended in folder order",
                    tree.node(p.1).name
                ));
            }
            order.push(p);
        }
    }
    if !listed_any && group.iter().any(|&g| takes[g].smil.is_some()) {
        warnings.push(format!(
            "take list TAKR/{take}/{take}.SMI is empty or unreadable; clip folders joined in \
             number order"
        ));
    }
    if list.is_none() || !listed_any {
        // Without a usable take list the numbers say what is missing: `_01` first, no holes.
        let nns: Vec<u32> = all.keys().copied().filter(|&n| n > 0).collect();
        if let Some(&last) = nns.last() {
            for nn in 1..last {
                if !all.contains_key(&nn) {
                    missing.push(format!("{take}_{nn:02}"));
                }
            }
        }
    }
    let card_root = cards[takes[order.first().map_or(group[0], |p| p.0)].card]
        .root_path
        .clone();
    let mut b = ClipBuilder::new(Family::XdcamEx, String::new(), take.clone(), card_root);
    let mut umid = None;
    for &(_, d) in &order {
        let folder = tree.node(d).name.to_ascii_uppercase();
        for f in tree.files_in(Some(d)) {
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
    for &g in group {
        if let Some(s) = takes[g].smil {
            b.extra(s, FileRole::Sidecar);
        }
    }
    for &g in group {
        for f in tree.files_in(takes[g].takr_dir) {
            b.extra(f, FileRole::Other);
        }
    }
    if !b.has_essence() {
        b.set_incomplete(format!(
            "no .MP4 essence in BPAV/CLPR/{take}_NN: re-copy the card"
        ));
    }
    if !missing.is_empty() {
        b.set_incomplete(format!(
            "take {take} continues in {} on another card, which is not in this scan: add the \
             card holding it (or re-copy it) and scan again",
            missing.join(", ")
        ));
    }
    let card = &cards[first.card];
    b.id = match umid {
        Some(u) => make_id(Family::XdcamEx, &u),
        None => {
            let base = rel_upper(tree, card, first.bpav);
            make_id(Family::XdcamEx, &format!("{base}/TAKR/{take}"))
        }
    };
    b.warnings = warnings;
    b.finish(tree, out);
}

/// MEDIAPRO.XML, CUEUP.XML and GENERAL travel with the card.
fn mark_card_level(tree: &Tree, card: &CardRef, out: &mut Out) {
    let Some(bpav) = tree.child(card.root, "bpav") else {
        return;
    };
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
