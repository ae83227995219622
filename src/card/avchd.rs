//! AVCHD (`PRIVATE/AVCHD/BDMV`, `AVCHD/BDMV`, `BDMV/STREAM`; camera-cards.md §3.6): the
//! `PLAYLIST/*.MPL` play items decide which `STREAM/NNNNN.MTS` files form one recording; when the
//! playlist is a placeholder or unparseable, consecutive streams whose video PTS continue are
//! joined instead. `CLIPINF/NNNNN.CPI` goes with its stream.

use super::detector::{CardDetector, CardRef, ClipBuilder, Out, make_id, rel_upper};
use super::m2ts;
use super::model::{Family, FileRole};
use super::names::{all_digits, split_ext};
use super::walk::{Listing, Tree};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

pub struct Avchd;

/// Largest gap (90 kHz ticks) between one stream's last PTS and the next one's first PTS that
/// still counts as "continues": one second covers any frame rate and GOP reordering.
const MAX_PTS_GAP: i64 = 90_000;

impl CardDetector for Avchd {
    fn family(&self) -> Family {
        Family::Avchd
    }

    fn is_card_root(&self, dir: &dyn Listing) -> bool {
        dir.has_dir(&["private", "avchd", "bdmv"])
            || dir.has_dir(&["avchd", "bdmv"])
            || dir.has_dir(&["bdmv", "stream"])
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        for card in cards {
            let bdmv = tree
                .at(card.root, &["private", "avchd", "bdmv"])
                .or_else(|| tree.at(card.root, &["avchd", "bdmv"]))
                .or_else(|| tree.at(card.root, &["bdmv"]));
            if let Some(bdmv) = bdmv {
                group_bdmv(tree, card, bdmv, out);
                let outer = tree.node(bdmv).parent.filter(|&p| p != card.root);
                for f in tree.files_under(outer.unwrap_or(bdmv)) {
                    out.card_level(f);
                }
            }
        }
    }
}

/// One play item of a playlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayItem {
    /// `Clip_Information_file_name`, 5 digits (= stream file number).
    pub clip: String,
    /// `connection_condition`: 1 = new recording, 5/6 = seamless continuation (file split).
    pub connection: u8,
}

/// Parses an `.MPL`/`.mpls` (BD/AVCHD `MPLS` playlist): its play items in order. `None` for
/// placeholders and anything that does not follow the layout.
pub fn parse_mpl(bytes: &[u8]) -> Option<Vec<PlayItem>> {
    if bytes.get(0..4)? != b"MPLS" {
        return None;
    }
    let u32_at = |i: usize| -> Option<usize> {
        Some(u32::from_be_bytes(bytes.get(i..i + 4)?.try_into().ok()?) as usize)
    };
    let u16_at = |i: usize| -> Option<usize> {
        Some(u16::from_be_bytes(bytes.get(i..i + 2)?.try_into().ok()?) as usize)
    };
    let start = u32_at(8)?;
    let n_items = u16_at(start + 6)?;
    let mut pos = start + 10;
    let mut items = Vec::with_capacity(n_items);
    for _ in 0..n_items {
        let len = u16_at(pos)?;
        let name = std::str::from_utf8(bytes.get(pos + 2..pos + 7)?).ok()?;
        let codec = bytes.get(pos + 7..pos + 11)?;
        if !all_digits(name) || codec != b"M2TS" {
            return None;
        }
        let connection = bytes.get(pos + 12)? & 0x0F;
        items.push(PlayItem {
            clip: name.to_string(),
            connection,
        });
        pos += 2 + len;
    }
    (!items.is_empty()).then_some(items)
}

/// Recordings (lists of stream numbers) of a playlist: a new one starts at each play item that
/// is not a seamless continuation (connection_condition 5 or 6).
pub fn recordings_of(items: &[PlayItem]) -> Vec<Vec<String>> {
    let mut recs: Vec<Vec<String>> = Vec::new();
    for it in items {
        match recs.last_mut() {
            Some(r) if matches!(it.connection, 5 | 6) => r.push(it.clip.clone()),
            _ => recs.push(vec![it.clip.clone()]),
        }
    }
    recs
}

fn read_mpl(path: &Path) -> Option<Vec<PlayItem>> {
    let bytes = std::fs::read(path).ok()?;
    parse_mpl(&bytes)
}

fn group_bdmv(tree: &Tree, card: &CardRef, bdmv: usize, out: &mut Out) {
    // number → stream file, number → CPI
    let mut streams: BTreeMap<String, usize> = BTreeMap::new();
    for f in tree.files_in(tree.child(bdmv, "stream")) {
        let (stem, ext) = split_ext(&tree.node(f).lower);
        if matches!(ext, "mts" | "m2ts") && all_digits(stem) {
            streams.insert(stem.to_string(), f);
        }
    }
    let mut cpis: BTreeMap<String, usize> = BTreeMap::new();
    for f in tree.files_in(tree.child(bdmv, "clipinf")) {
        let (stem, ext) = split_ext(&tree.node(f).lower);
        if matches!(ext, "cpi" | "clpi") {
            cpis.insert(stem.to_string(), f);
        }
    }
    let mut recordings: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    let mut taken: HashSet<String> = HashSet::new();
    let mut mpls: Vec<usize> = tree
        .files_in(tree.child(bdmv, "playlist"))
        .into_iter()
        .filter(|&f| matches!(split_ext(&tree.node(f).lower).1, "mpl" | "mpls"))
        .collect();
    mpls.sort_by(|a, b| tree.node(*a).lower.cmp(&tree.node(*b).lower));
    for m in mpls {
        let Some(items) = read_mpl(&tree.node(m).path) else {
            continue;
        };
        for rec in recordings_of(&items) {
            let mut present = Vec::new();
            let mut missing = Vec::new();
            for s in rec {
                if taken.contains(&s) {
                    continue;
                }
                if streams.contains_key(&s) {
                    taken.insert(s.clone());
                    present.push(s);
                } else {
                    missing.push(s);
                }
            }
            if !present.is_empty() {
                recordings.push((present, missing));
            }
        }
    }
    // Fallback for streams no playlist names: join consecutive numbers whose PTS continue.
    let rest: Vec<(&String, usize)> = streams
        .iter()
        .filter(|(s, _)| !taken.contains(*s))
        .map(|(s, &n)| (s, n))
        .collect();
    let mut prev: Option<(u64, m2ts::PtsRange)> = None;
    for (s, node) in rest {
        let num: u64 = s.parse().unwrap_or(u64::MAX);
        let range = m2ts::pts_range(&tree.node(node).path).ok();
        let continues = match (prev, range) {
            (Some((pn, pr)), Some(r)) => {
                let gap = r.first as i64 - pr.last as i64;
                pn + 1 == num && (0..=MAX_PTS_GAP).contains(&gap)
            }
            _ => false,
        };
        match recordings.last_mut() {
            Some((rec, _)) if continues => rec.push(s.clone()),
            _ => recordings.push((vec![s.clone()], Vec::new())),
        }
        prev = range.map(|r| (num, r));
    }
    for (rec, missing) in recordings {
        let Some(first) = rec.first().and_then(|s| streams.get(s)).copied() else {
            continue;
        };
        let rel = rel_upper(tree, card, first);
        let id_path = split_ext(&rel).0.to_string();
        let mut b = ClipBuilder::new(
            Family::Avchd,
            make_id(Family::Avchd, &id_path),
            rec[0].clone(),
            card.root_path.clone(),
        );
        for s in &rec {
            if let Some(&n) = streams.get(s) {
                b.segment(&[(n, FileRole::Video)]);
            }
            if let Some(&c) = cpis.get(s) {
                b.extra(c, FileRole::Sidecar);
            }
        }
        if !missing.is_empty() {
            b.set_incomplete(format!(
                "the playlist lists stream file(s) {} of this recording but they are not on the \
                 card: re-copy the card",
                missing.join(", ")
            ));
        }
        b.finish(tree, out);
    }
}

/// Builds a minimal valid `.MPL` with these play items (clip number, connection condition),
/// for tests and sample cards.
pub fn synth_mpl(items: &[(&str, u8)]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"MPLS0200");
    let start: u32 = 40;
    b.extend_from_slice(&start.to_be_bytes());
    b.resize(start as usize, 0);
    let body_len = 6 + items.len() * 22;
    b.extend_from_slice(&(body_len as u32).to_be_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&(items.len() as u16).to_be_bytes());
    b.extend_from_slice(&[0, 0]);
    for (clip, cc) in items {
        // length (excludes itself), name, codec, flags (connection_condition in low nibble),
        // STC id, IN_time, OUT_time, padding.
        b.extend_from_slice(&20u16.to_be_bytes());
        b.extend_from_slice(clip.as_bytes());
        b.extend_from_slice(b"M2TS");
        b.extend_from_slice(&[0, *cc & 0x0F, 0]);
        b.extend_from_slice(&[0; 8]);
    }
    b
}
