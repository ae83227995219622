//! Panasonic P2: `CONTENTS/CLIP/<name>.XML` defines a clip; members are `VIDEO/<name>.MXF`,
//! `AUDIO/<name>NN.MXF`, `ICON/<name>.BMP`, `PROXY/<name>.*`, `VOICE/<name>NN.WAV`
//! (camera-cards.md §3.1). Spans (4 GB cuts continuing on the next card) are joined through the
//! XML `Relation` (Top/Previous/Next GlobalClipID, OffsetInShot), also across cards.

use super::detector::{CardDetector, CardRef, ClipBuilder, Out, make_id};
use super::model::{Family, FileRole};
use super::names::{is_zero_id, norm_hex_id, split_ext};
use super::walk::{Listing, Tree};
use super::xml;
use crate::media::sidecar::p2::{self as p2_sidecar, P2Clip};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

pub struct P2;

/// Identity and span facts of one CLIP XML: the part of [`P2Clip`] grouping needs, with the
/// ids normalised (uppercase hex; all-zero ids dropped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct P2ClipXml {
    pub clip_name: Option<String>,
    /// Normalised (uppercase hex); `None` when absent or all zeros.
    pub global_clip_id: Option<String>,
    pub audio_count: usize,
    pub offset_in_shot: Option<u64>,
    pub global_shot_id: Option<String>,
    pub top: Option<String>,
    pub previous: Option<String>,
    pub next: Option<P2NextRef>,
}

/// `Relation/Connection/Next`: the clip continuing this one, usually on another card.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct P2NextRef {
    pub global_clip_id: Option<String>,
    pub clip_name: Option<String>,
    pub serial: Option<String>,
}

/// Why a CLIP XML gave no identity. Both variants say what to do.
#[derive(Debug, thiserror::Error)]
pub enum P2XmlError {
    #[error("{0}; re-copy the card")]
    Read(#[from] xml::XmlError),
    #[error(transparent)]
    Parse(#[from] p2_sidecar::P2Error),
}

fn id_of(s: Option<&String>) -> Option<String> {
    s.map(|v| norm_hex_id(v))
        .filter(|v| !v.is_empty() && !is_zero_id(v))
}

impl From<&P2Clip> for P2ClipXml {
    fn from(c: &P2Clip) -> P2ClipXml {
        let r = &c.relation;
        P2ClipXml {
            clip_name: c.clip_name.clone(),
            global_clip_id: id_of(c.global_clip_id.as_ref()),
            audio_count: c.audio.len(),
            offset_in_shot: r.offset_in_shot,
            global_shot_id: id_of(r.global_shot_id.as_ref()),
            top: id_of(r.top_global_clip_id.as_ref()),
            previous: id_of(r.previous_global_clip_id.as_ref()),
            next: r
                .next
                .as_ref()
                .map(|n| P2NextRef {
                    global_clip_id: id_of(n.global_clip_id.as_ref()),
                    clip_name: n.clip_name.clone(),
                    serial: n.p2_serial_no.clone(),
                })
                .filter(|n| *n != P2NextRef::default()),
        }
    }
}

/// Reads a P2 CLIP XML (size-limited) and keeps its identity/span facts; the parsing itself is
/// metadata's ([`p2_sidecar::parse`]), so detection and metadata read the XML the same way.
pub fn parse_clip_xml(path: &Path) -> Result<P2ClipXml, P2XmlError> {
    let text = xml::read_text(path)?;
    Ok(P2ClipXml::from(&p2_sidecar::parse(&text)?))
}

/// All files of one P2 clip on one card, keyed by the uppercase 6-char name.
#[derive(Debug, Default)]
struct Unit {
    card: usize,
    name: String,
    xml_node: Option<usize>,
    xml: Option<P2ClipXml>,
    xml_error: Option<String>,
    xmp: Vec<usize>,
    video: Option<usize>,
    audio: BTreeMap<String, usize>,
    icon: Vec<usize>,
    proxy: Vec<usize>,
    other: Vec<usize>,
}

impl Unit {
    /// Every file of the unit.
    fn nodes(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.xml_node.into_iter().chain(self.video).collect();
        v.extend(self.audio.values().copied());
        for list in [&self.xmp, &self.icon, &self.proxy, &self.other] {
            v.extend(list.iter().copied());
        }
        v
    }

    fn gcid(&self) -> Option<&str> {
        self.xml.as_ref()?.global_clip_id.as_deref()
    }

    /// The shot this clip belongs to: Top GlobalClipID (= GlobalShotID), else its own id.
    fn shot_key(&self) -> Option<String> {
        let x = self.xml.as_ref()?;
        x.top
            .clone()
            .or_else(|| x.global_shot_id.clone())
            .or_else(|| x.global_clip_id.clone())
    }

    fn is_span_member(&self) -> bool {
        self.xml.as_ref().is_some_and(|x| {
            x.next.is_some()
                || x.previous.is_some()
                || x.top
                    .as_ref()
                    .is_some_and(|t| Some(t) != x.global_clip_id.as_ref())
        })
    }
}

impl CardDetector for P2 {
    fn family(&self) -> Family {
        Family::P2
    }

    /// `CONTENTS/CLIP` (+ usually `CONTENTS/VIDEO`, `LASTCLIP.TXT`). `CLIP` alone is enough so
    /// a card whose video folder was lost is still recognised and reported.
    fn is_card_root(&self, dir: &dyn Listing) -> bool {
        dir.has_dir(&["contents", "clip"])
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        let mut units: Vec<Unit> = Vec::new();
        for (ci, card) in cards.iter().enumerate() {
            collect_card(tree, ci, card, &mut units, out);
        }
        // Shots: group span members by their Top id across all cards.
        let mut shots: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut singles = Vec::new();
        for (i, u) in units.iter().enumerate() {
            match (u.is_span_member(), u.shot_key()) {
                (true, Some(k)) => shots.entry(k).or_default().push(i),
                _ => singles.push(i),
            }
        }
        for i in singles {
            build_single(tree, cards, &units[i], out);
        }
        for (top, members) in shots {
            build_shot(tree, cards, &units, &top, members, out);
        }
    }
}

fn collect_card(tree: &Tree, ci: usize, card: &CardRef, units: &mut Vec<Unit>, out: &mut Out) {
    let contents = tree.child(card.root, "contents");
    let sub = |name: &str| contents.and_then(|c| tree.child(c, name));
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut unit = |units: &mut Vec<Unit>, name: &str| -> usize {
        let key = name.to_ascii_uppercase();
        *by_name.entry(key.clone()).or_insert_with(|| {
            units.push(Unit {
                card: ci,
                name: key,
                ..Unit::default()
            });
            units.len() - 1
        })
    };
    // Clip XML (+ XMP) define the clips.
    for f in tree.files_in(sub("clip")) {
        let (stem, ext) = split_ext(&tree.node(f).lower);
        match ext {
            "xml" => {
                let u = unit(units, stem);
                units[u].xml_node = Some(f);
                match parse_clip_xml(&tree.node(f).path) {
                    Ok(x) => units[u].xml = Some(x),
                    Err(e) => units[u].xml_error = Some(e.to_string()),
                }
            }
            "xmp" => {
                let u = unit(units, stem);
                units[u].xmp.push(f);
            }
            _ => {}
        }
    }
    for f in tree.files_in(sub("video")) {
        let (stem, ext) = split_ext(&tree.node(f).lower);
        if ext == "mxf" {
            let u = unit(units, stem);
            units[u].video = Some(f);
        }
    }
    for f in tree.files_in(sub("audio")) {
        let (stem, ext) = split_ext(&tree.node(f).lower);
        // `<name>NN.MXF`: NN = 0-based channel.
        if ext == "mxf" && stem.len() > 2 && stem.is_char_boundary(stem.len() - 2) {
            let (name, ch) = stem.split_at(stem.len() - 2);
            if ch.bytes().all(|b| b.is_ascii_digit()) {
                let u = unit(units, name);
                units[u].audio.insert(ch.to_string(), f);
            }
        }
    }
    // Secondary members attach only to a clip that exists through XML, video or audio.
    for (folder, kind) in [("icon", 0u8), ("proxy", 1), ("voice", 2)] {
        for f in tree.files_in(sub(folder)) {
            let stem = split_ext(&tree.node(f).lower).0;
            let name = if kind == 2 && stem.len() > 2 && stem.is_char_boundary(stem.len() - 2) {
                &stem[..stem.len() - 2]
            } else {
                stem
            };
            match by_name.get(&name.to_ascii_uppercase()).copied() {
                Some(u) => match kind {
                    0 => units[u].icon.push(f),
                    1 => units[u].proxy.push(f),
                    _ => units[u].other.push(f),
                },
                None => out.skip(
                    tree,
                    f,
                    format!(
                        "P2 {} file without a clip: no CONTENTS/CLIP/{}.XML or video on this card",
                        folder.to_uppercase(),
                        name.to_uppercase()
                    ),
                ),
            }
        }
    }
    // LASTCLIP.TXT and other root files travel with the card.
    for f in tree.files_in(Some(card.root)) {
        out.card_level(f);
    }
}

/// Adds a unit's essence segment (video, audio 00..NN) and its other members to `b`.
fn add_unit(tree: &Tree, u: &Unit, b: &mut ClipBuilder) {
    let mut seg: Vec<(usize, FileRole)> = Vec::new();
    if let Some(v) = u.video {
        seg.push((v, FileRole::Video));
    }
    seg.extend(u.audio.values().map(|&a| (a, FileRole::Audio)));
    b.segment(&seg);
    if let Some(x) = u.xml_node {
        b.extra(x, FileRole::Sidecar);
    }
    for &x in &u.xmp {
        b.extra(x, FileRole::Sidecar);
    }
    for &p in &u.proxy {
        // PROXY/<name>.BIN is real-time metadata, not a picture.
        let role = if tree.node(p).lower.ends_with(".bin") {
            FileRole::Other
        } else {
            FileRole::Proxy
        };
        b.extra(p, role);
    }
    for &t in &u.icon {
        b.extra(t, FileRole::Thumbnail);
    }
    for &o in &u.other {
        b.extra(o, FileRole::Other);
    }
    let card_rel = |sub: &str| format!("CONTENTS/{sub}/{}", u.name);
    if u.xml_node.is_none() {
        b.set_incomplete(format!(
            "clip XML {}.XML is missing: without it the clip's metadata and span links are \
             unknown; re-copy the card",
            card_rel("CLIP")
        ));
    } else if let Some(e) = &u.xml_error {
        b.set_incomplete(format!("clip XML {}.XML unreadable: {e}", card_rel("CLIP")));
    }
    if u.video.is_none() {
        b.set_incomplete(format!(
            "video file {}.MXF is missing: re-copy the card",
            card_rel("VIDEO")
        ));
    }
    if let Some(x) = u.xml.as_ref().filter(|x| x.audio_count != u.audio.len()) {
        b.warnings.push(format!(
            "{}: the clip XML lists {} audio channel(s) but {} audio file(s) are on the card",
            u.name,
            x.audio_count,
            u.audio.len()
        ));
    }
}

fn build_single(tree: &Tree, cards: &[CardRef], u: &Unit, out: &mut Out) {
    let id = match u.gcid() {
        Some(g) => make_id(Family::P2, g),
        None => make_id(Family::P2, &format!("CONTENTS/CLIP/{}", u.name)),
    };
    let name = u
        .xml
        .as_ref()
        .and_then(|x| x.clip_name.clone())
        .unwrap_or_else(|| u.name.clone());
    let mut b = ClipBuilder::new(Family::P2, id, name, cards[u.card].root_path.clone());
    add_unit(tree, u, &mut b);
    b.finish(tree, out);
}

/// Orders a shot's members (Top, then the `Next` chain; `OffsetInShot` for the rest), says
/// what is missing, and builds one clip.
fn build_shot(
    tree: &Tree,
    cards: &[CardRef],
    units: &[Unit],
    top: &str,
    members: Vec<usize>,
    out: &mut Out,
) {
    let mut warnings = Vec::new();
    // The same clip twice (a card copied twice and dropped together): keep the first.
    let mut by_gcid: HashMap<&str, usize> = HashMap::new();
    let mut uniq = Vec::new();
    for m in members {
        match units[m].gcid() {
            Some(g) if by_gcid.contains_key(g) => {
                let dup = &units[m];
                let dup_card = cards[dup.card].root_path.display();
                let used_card = cards[units[by_gcid[g]].card].root_path.display();
                warnings.push(format!(
                    "clip {} is present twice (card {dup_card}); the copy on {used_card} is used",
                    dup.name
                ));
                // Its files are accounted for, not "part of no clip".
                for f in dup.nodes() {
                    out.skip(
                        tree,
                        f,
                        format!(
                            "second copy of P2 clip {} (the copy on {used_card} is used): \
                             the card was probably copied twice",
                            dup.name
                        ),
                    );
                }
            }
            Some(g) => {
                by_gcid.insert(g, m);
                uniq.push(m);
            }
            None => uniq.push(m),
        }
    }
    let mut order = Vec::new();
    let mut incomplete = None;
    match by_gcid.get(top) {
        Some(&first) => {
            let mut cur = first;
            loop {
                order.push(cur);
                let Some(next) = units[cur].xml.as_ref().and_then(|x| x.next.clone()) else {
                    break;
                };
                match next.global_clip_id.as_deref().and_then(|g| by_gcid.get(g)) {
                    Some(&n) if !order.contains(&n) => cur = n,
                    Some(_) => break,
                    None => {
                        let wait = match (&next.serial, &next.clip_name) {
                            (Some(s), _) => format!("waiting for card {s}"),
                            (None, Some(n)) => format!("waiting for card holding clip {n}"),
                            (None, None) => format!(
                                "waiting for the card holding the next clip of this shot \
                                 (GlobalClipID {})",
                                next.global_clip_id.as_deref().unwrap_or("unknown")
                            ),
                        };
                        incomplete = Some(wait);
                        break;
                    }
                }
            }
        }
        None => {
            incomplete = Some(format!(
                "waiting for the card holding the start of this shot (Top GlobalClipID {top})"
            ));
        }
    }
    let mut rest: Vec<usize> = uniq.into_iter().filter(|m| !order.contains(m)).collect();
    rest.sort_by_key(|&m| units[m].xml.as_ref().and_then(|x| x.offset_in_shot));
    if !rest.is_empty() && incomplete.is_none() {
        let names: Vec<&str> = rest.iter().map(|&m| units[m].name.as_str()).collect();
        incomplete = Some(format!(
            "span chain is broken: {} not reachable from the shot's Next links; re-copy the cards",
            names.join(", ")
        ));
    }
    order.extend(rest);
    let Some(&first) = order.first() else {
        return;
    };
    let name = units[first]
        .xml
        .as_ref()
        .and_then(|x| x.clip_name.clone())
        .unwrap_or_else(|| units[first].name.clone());
    let mut b = ClipBuilder::new(
        Family::P2,
        make_id(Family::P2, top),
        name,
        cards[units[first].card].root_path.clone(),
    );
    for &m in &order {
        add_unit(tree, &units[m], &mut b);
    }
    // A missing member outranks per-file problems: the operator must bring the other card.
    if let Some(reason) = incomplete {
        let other = b.incomplete.take();
        b.incomplete = Some(reason);
        if let Some(o) = other {
            b.warnings.push(o);
        }
    }
    b.warnings.extend(warnings);
    b.finish(tree, out);
}
