//! Sony XDCAM / XDCAM HD422 / XAVC / X-OCN "XD style": `XDROOT/Clip`, `PRIVATE/XDROOT/Clip` or a
//! root `Clip/` with `*M01.XML` (camera-cards.md §3.2). Clip = `Clip/<name>.MXF` +
//! `<name>M01.XML` (+ `<name>R01.BIM`, `Sub/<name>S##.*`, `Local/<name>C##.SMI|I##.PPN`);
//! `MEDIAPRO.XML` is the card inventory. The folder walk is shared with XAVC S.
//! The SxS "PROAV" layout (`PROAV/CLPR/<clip>/<clip>V01.MXF`, `A01.MXF`, ...) is a folder per
//! clip, the letter before the number giving the role.

use super::detector::{CardDetector, CardRef, ClipBuilder, Out, make_id, merge_clips, rel_upper};
use super::model::{Family, FileRole, ScanIssue};
use super::names::{norm_hex_id, split_ext};
use super::sony_xml;
use super::walk::{Listing, Tree};
use std::collections::BTreeMap;

pub struct Xdcam;

impl CardDetector for Xdcam {
    fn family(&self) -> Family {
        Family::Xdcam
    }

    fn is_card_root(&self, dir: &dyn Listing) -> bool {
        dir.has_dir(&["xdroot", "clip"])
            || dir.has_dir(&["private", "xdroot", "clip"])
            || dir.has_dir(&["proav", "clpr"])
            || (dir.has_dir(&["clip"])
                && dir.any_child(&["clip"], &|n, d| !d && n.ends_with("m01.xml")))
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        let first_clip = out.clips.len();
        let mut take_dirs = Vec::new();
        for card in cards {
            if let Some(proav) = tree.child(card.root, "proav") {
                group_proav(tree, card, proav, out);
                continue;
            }
            let base = tree
                .at(card.root, &["xdroot"])
                .filter(|&b| tree.child(b, "clip").is_some())
                .or_else(|| tree.at(card.root, &["private", "xdroot"]))
                .unwrap_or(card.root);
            let dirs = SonyDirs {
                base,
                clip: tree.child(base, "clip"),
                sub: tree.child(base, "sub"),
                thumb: None,
                local: tree.child(base, "local"),
            };
            group_sony(tree, card, Family::Xdcam, &dirs, out);
            take_dirs.push((card.root_path.clone(), tree.child(base, "take")));
            for name in ["take", "edit", "general", "userdata"] {
                if let Some(d) = tree.child(base, name) {
                    for f in tree.files_under(d) {
                        out.card_level(f);
                    }
                }
            }
        }
        for (card_root, take) in take_dirs {
            join_takes(tree, &card_root, take, first_clip, out);
        }
    }
}

/// A take SMIL in `Take/` (`<take>.SMI`; `U##` suffix as the XMP SDK strips it) lists the clips
/// of one spanned recording: those clips become one clip, in list order, with the take's
/// files as members. A listed clip not on this card is looked for on the other cards of the
/// scan (the camera continued on the next card); not found → incomplete, waiting for it.
/// Entries are file references (`C0001.MXF`, `../Clip/C0001.MXF`) or `urn:smpte:umid:` refs.
fn join_takes(
    tree: &Tree,
    card_root: &std::path::Path,
    take: Option<usize>,
    first_clip: usize,
    out: &mut Out,
) {
    for smi in tree.files_in(take) {
        let node = tree.node(smi);
        let (stem, ext) = split_ext(&node.name);
        if !ext.eq_ignore_ascii_case("smi") {
            continue;
        }
        let Some(list) = sony_xml::smil_essence(&node.path) else {
            continue;
        };
        let upper = stem.to_ascii_uppercase();
        let take_name = match split_suffix(&upper) {
            Some((n, 'U')) => n.to_string(),
            _ => upper.clone(),
        };
        let find = |entry: &str, clips: &[crate::card::Clip]| -> Option<usize> {
            let umid = entry.strip_prefix("URN:SMPTE:UMID:").map(norm_hex_id);
            let hit = |same_card: bool| {
                (first_clip..clips.len()).find(|&i| {
                    let c = &clips[i];
                    c.family == Family::Xdcam
                        && (c.card_root == card_root) == same_card
                        && match &umid {
                            Some(u) => c.id == make_id(Family::Xdcam, u),
                            None => c.name == entry,
                        }
                })
            };
            hit(true).or_else(|| hit(false))
        };
        let mut idx = Vec::new();
        let mut missing = Vec::new();
        for entry in &list {
            match find(entry, &out.clips) {
                Some(i) if !idx.contains(&i) => idx.push(i),
                Some(_) => {}
                None => missing.push(entry.clone()),
            }
        }
        if idx.is_empty() || (idx.len() == 1 && missing.is_empty()) {
            continue;
        }
        // Members of the take: its SMIL and same-stem files (`<take>M01.XML`).
        let take_files: Vec<usize> = tree
            .files_in(take)
            .into_iter()
            .filter(|&f| {
                let u = tree.node(f).name.to_ascii_uppercase();
                u.starts_with(&upper)
            })
            .collect();
        let take_umid = take_files.iter().find_map(|&f| {
            let n = &tree.node(f).lower;
            n.ends_with("m01.xml")
                .then(|| sony_xml::nrt_umid(&tree.node(f).path))
                .flatten()
        });
        let extra: Vec<crate::card::ClipFile> = take_files
            .iter()
            .map(|&f| out.take(tree, f, FileRole::Sidecar))
            .collect();
        let mut parts = Vec::new();
        let mut sorted = idx.clone();
        sorted.sort_unstable();
        let mut taken: Vec<(usize, crate::card::Clip)> = Vec::new();
        for &i in sorted.iter().rev() {
            taken.push((i, out.clips.remove(i)));
        }
        for i in &idx {
            if let Some(pos) = taken.iter().position(|(j, _)| j == i) {
                parts.push(taken.swap_remove(pos).1);
            }
        }
        let id = match take_umid {
            Some(u) => make_id(Family::Xdcam, &u),
            None => parts[0].id.clone(),
        };
        let mut clip = merge_clips(parts, id, take_name.clone(), extra);
        if !missing.is_empty() && clip.incomplete.is_none() {
            clip.incomplete = Some(format!(
                "take {take_name} continues in {} on another card, which is not in this scan \
                 (Take/{}): add the card holding it and scan again",
                missing.join(", "),
                node.name
            ));
        }
        out.clips.push(clip);
    }
}

/// Folders of a Sony card layout (XD style or XAVC S `M4ROOT`).
pub struct SonyDirs {
    /// `XDROOT` / `M4ROOT`: holds `MEDIAPRO.XML` and other card-level files.
    pub base: usize,
    pub clip: Option<usize>,
    pub sub: Option<usize>,
    pub thumb: Option<usize>,
    pub local: Option<usize>,
}

#[derive(Default)]
struct SonyUnit {
    essence: Vec<usize>,
    nrt: Vec<usize>,
    other: Vec<usize>,
    proxy: Vec<usize>,
    thumb: Vec<usize>,
}

/// `<name><letter><2 digits>` → `(name, letter)`, e.g. `C0001M01` → `("C0001", 'M')`.
fn split_suffix(stem_upper: &str) -> Option<(&str, char)> {
    let b = stem_upper.as_bytes();
    if b.len() < 4 || !b[b.len() - 2..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let letter = b[b.len() - 3];
    letter
        .is_ascii_alphabetic()
        .then(|| (&stem_upper[..b.len() - 3], letter as char))
}

/// Groups a Sony clip folder by clip name across `Clip`, `Sub`, `THMBNL` and `Local`, and checks
/// the clips against `MEDIAPRO.XML`.
pub fn group_sony(tree: &Tree, card: &CardRef, family: Family, dirs: &SonyDirs, out: &mut Out) {
    let mut units: BTreeMap<String, SonyUnit> = BTreeMap::new();
    let clip_files = tree.files_in(dirs.clip);
    // Essence first: it defines the names.
    for &f in &clip_files {
        let (stem, ext) = split_ext(&tree.node(f).name);
        if matches!(ext.to_ascii_lowercase().as_str(), "mxf" | "mp4") {
            units
                .entry(stem.to_ascii_uppercase())
                .or_default()
                .essence
                .push(f);
        }
    }
    for &f in &clip_files {
        let (stem, ext) = split_ext(&tree.node(f).name);
        let ext = ext.to_ascii_lowercase();
        if matches!(ext.as_str(), "mxf" | "mp4") {
            continue;
        }
        let upper = stem.to_ascii_uppercase();
        let Some((name, letter)) = split_suffix(&upper) else {
            continue;
        };
        // An NRT XML without essence still makes a (listed, incomplete) clip.
        if letter == 'M' && ext == "xml" {
            units.entry(name.to_string()).or_default().nrt.push(f);
        } else if let Some(u) = units.get_mut(name) {
            u.other.push(f);
        }
    }
    for (dir, kind) in [(dirs.sub, 0u8), (dirs.thumb, 1), (dirs.local, 2)] {
        for f in tree.files_in(dir) {
            let upper = split_ext(&tree.node(f).name).0.to_ascii_uppercase();
            let Some((name, _)) = split_suffix(&upper) else {
                continue;
            };
            if let Some(u) = units.get_mut(name) {
                match kind {
                    0 => u.proxy.push(f),
                    1 => u.thumb.push(f),
                    _ => u.other.push(f),
                }
            }
        }
    }
    let inventory = read_inventory(tree, dirs.base, out);
    for (name, u) in &units {
        let umid = u
            .nrt
            .first()
            .and_then(|&x| sony_xml::nrt_umid(&tree.node(x).path));
        // No clip XML: the inventory's Material@umid is the same identity (§10).
        let umid = umid.or_else(|| {
            inventory
                .as_ref()
                .and_then(|(_, l)| l.iter().find(|(s, _)| s == name))
                .and_then(|(_, u)| u.clone())
        });
        let id = match umid {
            Some(umid) => make_id(family, &umid),
            None => {
                let dir = dirs
                    .clip
                    .map(|c| rel_upper(tree, card, c))
                    .unwrap_or_default();
                make_id(family, &format!("{dir}/{name}"))
            }
        };
        let mut b = ClipBuilder::new(family, id, name.clone(), card.root_path.clone());
        for &e in &u.essence {
            b.segment(&[(e, FileRole::Video)]);
        }
        for &x in &u.nrt {
            b.extra(x, FileRole::Sidecar);
        }
        for &x in &u.other {
            let role = if tree.node(x).lower.ends_with(".smi") {
                FileRole::Sidecar
            } else {
                FileRole::Other
            };
            b.extra(x, role);
        }
        for &x in &u.proxy {
            b.extra(x, FileRole::Proxy);
        }
        for &x in &u.thumb {
            b.extra(x, FileRole::Thumbnail);
        }
        if !b.has_essence() {
            b.set_incomplete(format!(
                "essence file {name}.MXF/.MP4 is missing (only its metadata XML is on the card): \
                 re-copy the card"
            ));
        }
        if inventory
            .as_ref()
            .is_some_and(|(_, l)| !l.iter().any(|(s, _)| s == name))
        {
            b.warnings.push(format!(
                "{name} is not listed in the card inventory MEDIAPRO.XML (added later, or the \
                 inventory is stale)"
            ));
        }
        b.finish(tree, out);
    }
    if let Some((path, listed)) = inventory {
        for (name, _) in listed.iter().filter(|(n, _)| !units.contains_key(n)) {
            out.errors.push(ScanIssue {
                path: path.clone(),
                message: format!(
                    "MEDIAPRO.XML lists clip {name} but its files are not on the card: bad \
                     copy, re-copy the card"
                ),
            });
        }
    }
    // MEDIAPRO.XML, STATUS.BIN, DISCMETA.XML, CUEUP.XML, ... travel with the card.
    for f in tree.files_in(Some(dirs.base)) {
        out.card_level(f);
    }
    if dirs.base != card.root {
        for f in tree.files_in(Some(card.root)) {
            out.card_level(f);
        }
    }
}

/// The inventory's clips: (clip name, its `Material@umid` when given).
type InventoryClips = Vec<(String, Option<String>)>;

/// `MEDIAPRO.XML` of `base`, parsed; an unreadable inventory is an error entry, not a stop.
fn read_inventory(
    tree: &Tree,
    base: usize,
    out: &mut Out,
) -> Option<(std::path::PathBuf, InventoryClips)> {
    let node = tree.child(base, "mediapro.xml")?;
    let path = tree.node(node).path.clone();
    match sony_xml::mediapro_clips(&path) {
        Ok(list) => Some((path, list)),
        Err(e) => {
            out.errors.push(ScanIssue {
                path,
                message: format!("card inventory unreadable, clips not checked against it: {e}"),
            });
            None
        }
    }
}

/// `PROAV/CLPR/<clip>/`: one clip per folder; `V##` video, `A##` audio, `S##` proxy, `M##.XML` /
/// `C##.SMI` sidecars, the rest (`R##.BIM`, `I##.PPN`) other (XDCAMSAM_Handler.cpp).
fn group_proav(tree: &Tree, card: &CardRef, proav: usize, out: &mut Out) {
    for dir in tree.dirs_in(tree.child(proav, "clpr")) {
        let name = tree.node(dir).name.to_ascii_uppercase();
        let mut video = Vec::new();
        let mut audio = Vec::new();
        let mut extras = Vec::new();
        let mut umid = None;
        for f in tree.files_in(Some(dir)) {
            let (stem, ext) = split_ext(&tree.node(f).name);
            let upper = stem.to_ascii_uppercase();
            let ext = ext.to_ascii_lowercase();
            let letter = split_suffix(&upper)
                .filter(|(n, _)| *n == name)
                .map(|(_, l)| l);
            match (letter, ext.as_str()) {
                (Some('V'), "mxf") => video.push((f, FileRole::Video)),
                (Some('A'), "mxf") => audio.push((f, FileRole::Audio)),
                (Some('S'), _) => extras.push((f, FileRole::Proxy)),
                (Some('M'), "xml") => {
                    umid = umid.or_else(|| sony_xml::nrt_umid(&tree.node(f).path));
                    extras.push((f, FileRole::Sidecar));
                }
                (_, "xml" | "smi") => extras.push((f, FileRole::Sidecar)),
                _ => extras.push((f, FileRole::Other)),
            }
        }
        let id = match umid {
            Some(u) => make_id(Family::Xdcam, &u),
            None => make_id(Family::Xdcam, &rel_upper(tree, card, dir)),
        };
        let mut b = ClipBuilder::new(Family::Xdcam, id, name.clone(), card.root_path.clone());
        video.extend(audio);
        b.segment(&video);
        for (f, r) in extras {
            b.extra(f, r);
        }
        if !b.has_essence() {
            b.set_incomplete(format!(
                "no {name}V01.MXF essence in the clip folder: re-copy the card"
            ));
        }
        b.finish(tree, out);
    }
    // INDEX.XML, DISCINFO.XML, GENERAL/ ... travel with the card.
    for f in tree.files_under(proav) {
        out.card_level(f);
    }
    for f in tree.files_in(Some(card.root)) {
        out.card_level(f);
    }
}
