//! GoPro (`DCIM/1##GOPRO`, camera-cards.md §3.7): recording = (encoding class, NNNN), chapters
//! by CC in order. HERO6+: `G<enc><CC><NNNN>.MP4` (`GH010123`, looping `GHAA0001`), low-res
//! `GL<CC><NNNN>.LRV`, thumbnail `G<enc><CC><NNNN>.THM`. Older: `GOPR<NNNN>.MP4` then
//! `GP<CC><NNNN>.MP4`. Other files (photos) fall to the generic grouping.

use super::detector::{CardDetector, CardRef, ClipBuilder, Out, make_id};
use super::model::{Family, FileRole};
use super::names::{all_digits, dcf_folder_suffix, split_ext};
use super::walk::{Listing, Tree};
use std::collections::BTreeMap;

pub struct Gopro;

impl CardDetector for Gopro {
    fn family(&self) -> Family {
        Family::Gopro
    }

    fn is_card_root(&self, dir: &dyn Listing) -> bool {
        dir.any_child(&["dcim"], &|n, d| {
            d && dcf_folder_suffix(n).as_deref() == Some("GOPRO")
        })
    }

    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out) {
        for card in cards {
            let Some(dcim) = tree.child(card.root, "dcim") else {
                continue;
            };
            for folder in tree.dirs_in(Some(dcim)) {
                if dcf_folder_suffix(&tree.node(folder).lower).as_deref() == Some("GOPRO") {
                    group_folder(tree, card, folder, out);
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

/// What a GoPro file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoproName {
    /// `H`, `X`, `S` (HERO6+ encoding), `P` for the old `GOPR`/`GP` style, `L` for LRV.
    pub class: char,
    /// Chapter sort key: old-style first chapter `GOPR` = "00".
    pub chapter: String,
    pub number: String,
}

/// Parses an uppercase stem: `GH010123`, `GL010123`, `GOPR0123`, `GP010123`, `GHAA0001`.
pub fn parse_name(stem: &str) -> Option<GoproName> {
    if stem.len() != 8 || !stem.is_ascii() || !stem.starts_with('G') {
        return None;
    }
    let number = &stem[4..];
    if !all_digits(number) {
        return None;
    }
    if &stem[..4] == "GOPR" {
        return Some(GoproName {
            class: 'P',
            chapter: "00".to_string(),
            number: number.to_string(),
        });
    }
    let class = stem.as_bytes()[1] as char;
    let chapter = &stem[2..4];
    if !chapter.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some(GoproName {
        class,
        chapter: chapter.to_string(),
        number: number.to_string(),
    })
}

#[derive(Default)]
struct Rec {
    chapters: BTreeMap<String, usize>,
    thm: BTreeMap<String, usize>,
}

fn group_folder(tree: &Tree, card: &CardRef, folder: usize, out: &mut Out) {
    let mut recs: BTreeMap<(char, String), Rec> = BTreeMap::new();
    let mut lrv: Vec<(GoproName, usize)> = Vec::new();
    let mut thm: Vec<(GoproName, usize)> = Vec::new();
    for f in tree.files_in(Some(folder)) {
        let (stem, ext) = split_ext(&tree.node(f).name);
        let Some(n) = parse_name(&stem.to_ascii_uppercase()) else {
            continue;
        };
        match ext.to_ascii_lowercase().as_str() {
            "mp4" | "360" | "mov" if n.class != 'L' => {
                recs.entry((n.class, n.number.clone()))
                    .or_default()
                    .chapters
                    .insert(n.chapter.clone(), f);
            }
            "lrv" => lrv.push((n, f)),
            "thm" => thm.push((n, f)),
            _ => {}
        }
    }
    // LRV is `GL` (new) or the chapter's own name (old style); THM carries the class.
    let mut lrv_of: BTreeMap<(char, String, String), usize> = BTreeMap::new();
    for (n, f) in lrv {
        let class = if n.class == 'L' {
            recs.keys()
                .find(|(c, num)| {
                    *num == n.number
                        && *c != 'P'
                        && recs[&(*c, num.clone())].chapters.contains_key(&n.chapter)
                })
                .map_or('L', |(c, _)| *c)
        } else {
            n.class
        };
        lrv_of.insert((class, n.number, n.chapter), f);
    }
    for (n, f) in thm {
        if let Some(r) = recs.get_mut(&(n.class, n.number.clone())) {
            r.thm.insert(n.chapter, f);
        }
    }
    let dir_name = tree.node(folder).name.to_ascii_uppercase();
    for ((class, number), rec) in recs {
        let name = if class == 'P' {
            format!("GOPR{number}")
        } else {
            format!("G{class}{number}")
        };
        let mut b = ClipBuilder::new(
            Family::Gopro,
            make_id(Family::Gopro, &format!("{dir_name}/{name}")),
            name,
            card.root_path.clone(),
        );
        for (ch, &f) in &rec.chapters {
            b.segment(&[(f, FileRole::Video)]);
            if let Some(&l) = lrv_of.get(&(class, number.clone(), ch.clone())) {
                b.extra(l, FileRole::Proxy);
            }
            if let Some(&t) = rec.thm.get(ch) {
                b.extra(t, FileRole::Thumbnail);
            }
        }
        if class != 'P' {
            check_chapters(&rec, &mut b);
        }
        b.finish(tree, out);
    }
}

/// Numbered chapters must run 01, 02, ... without holes (a hole = a chapter not copied).
fn check_chapters(rec: &Rec, b: &mut ClipBuilder) {
    let nums: Vec<u32> = rec.chapters.keys().filter_map(|c| c.parse().ok()).collect();
    if nums.len() != rec.chapters.len() {
        return;
    }
    for (i, n) in nums.iter().enumerate() {
        let expected = i as u32 + 1;
        if *n != expected {
            b.set_incomplete(format!(
                "chapter {expected:02} of this recording is missing: re-copy the card"
            ));
            return;
        }
    }
}
