//! Card detection and clip grouping: one detector per camera family behind [`CardDetector`].
//!
//! Reads only the filesystem (no processes): walks each dropped path up to its card root, then
//! down once into a [`walk::Tree`]; card detectors (P2, Sony, Canon, AVCHD, RED, GoPro, DJI, DCF)
//! claim card roots by signature, loose-media detectors (ARRI, BRAW, image sequences, BWF,
//! generic) take what is left. Never writes to a card.
//!
//! ## Clip ids
//! `"<family>:<identity>"`, stable across runs and machines, never from absolute paths or
//! ffmpeg-made UMIDs:
//! - `p2:<GlobalClipID>` (spans: the shot's Top GlobalClipID = GlobalShotID); all-zero id →
//!   `p2:CONTENTS/CLIP/<clip name>`.
//! - `xdcam:` / `xdcam_ex:` / `xavc_s:` + NRT `TargetMaterial@umidRef` (hex, uppercase) when
//!   present and non-zero, else the uppercase card-relative path of the clip without extension
//!   (`xdcam:XDROOT/CLIP/C0001`, `xdcam:PROAV/CLPR/C0001`, `xdcam_ex:BPAV/TAKR/709_001`,
//!   `xavc_s:PRIVATE/M4ROOT/CLIP/C0001`).
//! - `red:<clip name>` (the RED clip name carries the reel: `A001_C001_0514XY`),
//!   `arri:<clip name>` (`A001C001_240514_R1AB`, reel inside), `canon_xf:<CLIPSnnn>/<clip>`,
//!   `braw:<clip name>`.
//! - otherwise the uppercase card-relative path: `gopro:100GOPRO/GH0123` (relative to `DCIM`),
//!   `dji:DCIM/100MEDIA/DJI_0001`, `avchd:PRIVATE/AVCHD/BDMV/STREAM/00000`;
//!   loose media keep their case: `generic:<zone-relative path without extension>`,
//!   `image_sequence:<dir>/<prefix>%07d.<ext>`, `audio_bwf:<iXML FAMILY_UID>` or
//!   `audio_bwf:<dir>/<take>`.
//!
//! Two clips with the same id in one scan (e.g. two GoPro cards both holding `GH0123`, or a card
//! copied twice) each get a warning.

pub mod arri;
pub mod audio_bwf;
pub mod avchd;
pub mod braw;
pub mod canon_xf;
pub mod detector;
pub mod dji;
pub mod folder_as_file;
pub mod generic;
pub mod gopro;
pub mod image_sequence;
pub mod m2ts;
pub mod media_sniff;
pub mod model;
pub mod names;
pub mod p2;
pub mod red;
pub mod sony_xml;
pub mod walk;
pub mod xavc_s;
pub mod xdcam;
pub mod xdcam_ex;
mod xml;

#[cfg(test)]
mod tests;

pub use detector::CardDetector;
pub use model::{Card, CardScan, Clip, ClipFile, Family, FileRole, ScanIssue, Skipped};

use detector::{CardRef, Out};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use walk::{FsListing, Tree, TreeListing};

/// Errors that stop a whole scan (per-file trouble goes into [`CardScan::errors`] instead).
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("path does not exist: {0}")]
    NotFound(PathBuf),
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// How many folders above a dropped path may hold its card root: AVCHD's deepest member
/// `PRIVATE/AVCHD/BDMV/STREAM/x.MTS` sits 4 folders below the folder holding `PRIVATE`.
const MAX_WALK_UP: usize = 5;

/// Finds the cards in the dropped `paths` (card roots, sub-folders or member files of a card,
/// or folders holding several cards) and groups their files into clips.
pub fn scan_paths(paths: &[PathBuf]) -> Result<CardScan, CardError> {
    let mut roots = Vec::with_capacity(paths.len());
    for p in paths {
        if !p.exists() {
            return Err(CardError::NotFound(p.clone()));
        }
        let abs = crate::canonical::canonicalize(p).map_err(|source| CardError::Unreadable {
            path: p.clone(),
            source,
        })?;
        roots.push(walk_up(&abs));
    }
    let roots = walk::dedup_roots(roots);
    let walked = walk::walk_down(&roots);
    let tree = walked.tree;
    let mut out = Out::new(tree.nodes.len());
    out.skipped = walked.skipped;
    out.errors = walked.errors;

    let card_dets = detector::card_detectors();
    let (found, loose) = find_cards(&tree, &card_dets);
    let card_roots: Vec<usize> = found.iter().map(|f| f.root).collect();
    out.errors
        .extend(folder_as_file::report(&tree, &card_roots));
    let mut cards = group_cards(&tree, &card_dets, &found, &mut out);
    let card_paths: Vec<PathBuf> = cards.iter().map(|c| c.root.clone()).collect();
    cards.extend(group_loose(&tree, loose, &card_paths, &mut out));

    flag_empty_files(&mut out);
    audio_bwf::flag_copies(&mut out.clips);
    flag_duplicate_ids(&mut out.clips);
    report_empty_roots(&tree, &roots, &mut out);

    let mut seen = std::collections::HashSet::new();
    cards.retain(|c| seen.insert((c.family, c.root.clone())));
    let mut clips = out.clips;
    clips.sort_by(|a, b| {
        (&a.card_root, a.files.first().map(|f| &f.path))
            .cmp(&(&b.card_root, b.files.first().map(|f| &f.path)))
    });
    tracing::debug!(cards = cards.len(), clips = clips.len(), "card scan done");
    Ok(CardScan {
        cards,
        clips,
        skipped: out.skipped,
        errors: out.errors,
    })
}

/// Runs each card detector once with all its cards (so spans across cards dropped together
/// join), then sorts out the files no clip took. Returns the cards.
fn group_cards(
    tree: &Tree,
    dets: &[&'static dyn CardDetector],
    found: &[FoundCard],
    out: &mut Out,
) -> Vec<Card> {
    let mut cards = Vec::new();
    for det in dets {
        let refs: Vec<CardRef> = found
            .iter()
            .filter(|f| f.family == det.family())
            .map(|f| CardRef {
                root: f.root,
                root_path: tree.node(f.root).path.clone(),
                files: f.files.clone(),
            })
            .collect();
        if refs.is_empty() {
            continue;
        }
        for r in &refs {
            cards.push(Card {
                family: det.family(),
                root: r.root_path.clone(),
            });
        }
        det.group(tree, &refs, out);
        leftovers_of_cards(tree, det.family(), &refs, out);
    }
    cards
}

/// Runs the loose-media detectors in order on each scan root's files outside any card; what is
/// still unclaimed is skipped. Returns one card entry per (root, family) that produced clips.
fn group_loose(
    tree: &Tree,
    loose: Vec<(usize, Vec<usize>)>,
    card_roots: &[PathBuf],
    out: &mut Out,
) -> Vec<Card> {
    let mut cards = Vec::new();
    for (zone_root, files) in loose {
        let zone_first_clip = out.clips.len();
        let zone_first_card = cards.len();
        let root_path = if tree.node(zone_root).is_dir {
            tree.node(zone_root).path.clone()
        } else {
            let p = &tree.node(zone_root).path;
            p.parent().map_or_else(|| p.clone(), Path::to_path_buf)
        };
        for det in detector::loose_detectors() {
            let free: Vec<usize> = files.iter().copied().filter(|&f| out.is_free(f)).collect();
            if free.is_empty() {
                break;
            }
            let before = out.clips.len();
            let card = CardRef {
                root: zone_root,
                root_path: root_path.clone(),
                files: free,
            };
            det.group(tree, std::slice::from_ref(&card), out);
            if out.clips.len() > before {
                cards.push(Card {
                    family: det.family(),
                    root: root_path.clone(),
                });
            }
        }
        let before = out.clips.len();
        let card = CardRef {
            root: zone_root,
            root_path: root_path.clone(),
            files: files.clone(),
        };
        generic::claim_unclaimed_media(tree, &card, "no camera family", out);
        if out.clips.len() > before
            && !cards
                .iter()
                .any(|c: &Card| c.root == root_path && c.family == Family::Generic)
        {
            cards.push(Card {
                family: Family::Generic,
                root: root_path.clone(),
            });
        }
        for &f in &files {
            if out.is_free(f) {
                out.skip(
                    tree,
                    f,
                    "not a media file and no clip has this name: left out".to_string(),
                );
            }
        }
        // A camera card inside the dropped folder makes its other folders unrelated to it.
        let holds_card = card_roots
            .iter()
            .any(|r| r != &root_path && r.starts_with(&root_path));
        if let Some(split) =
            split_unrelated(&root_path, holds_card, &mut out.clips[zone_first_clip..])
        {
            cards.truncate(zone_first_card);
            cards.extend(split);
        }
    }
    cards
}

/// ARRI reel folder name: camera letter, 3-digit reel, `R`, 3-char camera id (`A001R1AB`).
fn is_reel_folder(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 8
        && b[0].is_ascii_alphabetic()
        && b[1..4].iter().all(u8::is_ascii_digit)
        && b[4].eq_ignore_ascii_case(&b'R')
        && b[5..8].iter().all(u8::is_ascii_alphanumeric)
}

/// A dropped folder without a card signature that holds unrelated folders (a sound recorder's
/// folder beside an ARRI reel) is several cards, not one rooted at the parent: when the clips
/// under its sub-folders are of different families, the sub-folders are ARRI reels, or the
/// folder also holds a camera card (`holds_card`), each
/// sub-folder holding clips becomes a card of its own, and the clips' path ids become
/// relative to it. Sub-folders of one family (a recorder's day folders) stay one card.
/// Returns the zone's new card list, or `None` when the zone stays one card.
fn split_unrelated(root: &Path, holds_card: bool, clips: &mut [Clip]) -> Option<Vec<Card>> {
    let top_of = |c: &Clip| -> Option<String> {
        let first = c.files.first()?;
        let rel = first.path.strip_prefix(root).ok()?;
        let mut comps = rel.components();
        let top = comps.next()?;
        // Files directly in the dropped folder stay with it.
        comps.next()?;
        Some(top.as_os_str().to_string_lossy().into_owned())
    };
    let mut families: HashMap<String, std::collections::BTreeSet<Family>> = HashMap::new();
    for c in clips.iter() {
        if let Some(t) = top_of(c) {
            families.entry(t).or_default().insert(c.family);
        }
    }
    // One sub-folder of clips splits off only when a camera card sits beside it.
    if families.is_empty() || (families.len() < 2 && !holds_card) {
        return None;
    }
    let distinct: std::collections::BTreeSet<Family> =
        families.values().flatten().copied().collect();
    let reels = families.keys().any(|k| is_reel_folder(k));
    if distinct.len() < 2 && !reels && !holds_card {
        return None;
    }
    let mut cards: Vec<Card> = Vec::new();
    for c in clips.iter_mut() {
        if let Some(t) = top_of(c) {
            c.card_root = root.join(&t);
            // `generic:SOUND/A101_1` → `generic:A101_1`: ids are card-relative.
            let prefix = format!("{}:{t}/", c.family.as_str());
            if let Some(rest) = c.id.strip_prefix(&prefix) {
                c.id = format!("{}:{rest}", c.family.as_str());
            }
        }
        let card = Card {
            family: c.family,
            root: c.card_root.clone(),
        };
        if !cards.contains(&card) {
            cards.push(card);
        }
    }
    tracing::debug!(root = %root.display(), cards = cards.len(), "dropped folder split into cards");
    Some(cards)
}

/// The card root holding `path`, found by checking `path` (if a folder) and up to
/// [`MAX_WALK_UP`] parents against the card signatures; `path` itself when none matches.
/// When a match's parent (or grandparent) is also a card root, that outer folder wins, as in the
/// walk down (outermost first): `XDROOT` or XAVC S `M4ROOT` alone look like a root-`Clip/` XD
/// card, a RED `.RDC` like a folder of R3D files, but the real root holds them.
fn walk_up(path: &Path) -> PathBuf {
    let dets = detector::card_detectors();
    let cache = walk::FsCache::default();
    let start = if path.is_dir() {
        Some(path)
    } else {
        path.parent()
    };
    let candidates: Vec<&Path> = start
        .map(|s| s.ancestors().take(MAX_WALK_UP + 1).collect())
        .unwrap_or_default();
    for (i, dir) in candidates.iter().enumerate() {
        let listing = FsListing {
            dir: dir.to_path_buf(),
            cache: &cache,
        };
        if dets.iter().any(|d| d.is_card_root(&listing)) {
            let mut best = *dir;
            for outer in candidates.iter().skip(i + 1).take(2) {
                let l = FsListing {
                    dir: outer.to_path_buf(),
                    cache: &cache,
                };
                if dets.iter().any(|d| d.is_card_root(&l)) {
                    best = outer;
                }
            }
            return best.to_path_buf();
        }
    }
    path.to_path_buf()
}

/// A card root found in the tree with the files that belong to it.
struct FoundCard {
    family: Family,
    root: usize,
    files: Vec<usize>,
}

/// Card roots found in the tree (outermost match wins; inside a card only the subfolders its
/// detector doesn't own are searched for further cards), and per scan root the files that lie
/// in no card.
fn find_cards(
    tree: &Tree,
    dets: &[&'static dyn CardDetector],
) -> (Vec<FoundCard>, Vec<(usize, Vec<usize>)>) {
    let mut found: Vec<FoundCard> = Vec::new();
    let mut loose = Vec::new();
    for &top in &tree.tops {
        let mut files = Vec::new();
        // (node, owning card, search this folder for a card signature)
        let mut stack: Vec<(usize, Option<usize>, bool)> = vec![(top, None, true)];
        while let Some((n, owner, detect)) = stack.pop() {
            let node = tree.node(n);
            if !node.is_dir {
                match owner {
                    Some(c) => found[c].files.push(n),
                    None => files.push(n),
                }
                continue;
            }
            let listing = TreeListing { tree, dir: n };
            let hit = if detect {
                dets.iter().find(|d| d.is_card_root(&listing))
            } else {
                None
            };
            match hit {
                Some(det) => {
                    tracing::debug!(family = %det.family(), root = %node.path.display(), "card found");
                    found.push(FoundCard {
                        family: det.family(),
                        root: n,
                        files: Vec::new(),
                    });
                    let c = found.len() - 1;
                    for &ch in node.children.iter().rev() {
                        let search = !det.owns_subfolder(&tree.node(ch).lower);
                        stack.push((ch, Some(c), search));
                    }
                }
                None => {
                    for &ch in node.children.iter().rev() {
                        stack.push((ch, owner, detect));
                    }
                }
            }
        }
        loose.push((top, files));
    }
    (found, loose)
}

/// Card files no clip took: card-level files, stills under `DCIM/` (generic grouping), or
/// skipped with the reason.
fn leftovers_of_cards(tree: &Tree, family: Family, cards: &[CardRef], out: &mut Out) {
    for card in cards {
        // A media file no clip of the card took (a camera file we do not know, a clip copied
        // into the wrong folder) is never card-level: it becomes a generic clip, with a
        // warning saying so. DCIM stills keep their own generic grouping below.
        let media: Vec<usize> = card
            .files
            .iter()
            .copied()
            .filter(|&f| out.is_free(f) || out.is_card_level(f))
            .filter(|&f| {
                !tree
                    .rel_path(card.root, f)
                    .to_lowercase()
                    .starts_with("dcim/")
            })
            .filter(|&f| media_sniff::media_hint(&tree.node(f).path, &tree.node(f).name).is_some())
            .collect();
        for &f in &media {
            out.release(f);
        }
        generic::claim_unclaimed_media(
            tree,
            &CardRef {
                root: card.root,
                root_path: card.root_path.clone(),
                files: media.clone(),
            },
            &format!("this {family} card"),
            out,
        );
        for &f in &media {
            if out.is_free(f) {
                out.card_level(f);
            }
        }
        let mut dcim = Vec::new();
        for &f in &card.files {
            if !out.is_free(f) {
                continue;
            }
            if out.is_card_level(f) {
                continue;
            }
            let rel = tree.rel_path(card.root, f).to_lowercase();
            if rel.starts_with("dcim/") && !matches!(family, Family::Generic) {
                dcim.push(f);
            } else {
                out.skip(
                    tree,
                    f,
                    format!(
                        "not part of any clip on this {family} card (no clip uses this name or \
                         folder)"
                    ),
                );
            }
        }
        if !dcim.is_empty() {
            let sub = CardRef {
                root: card.root,
                root_path: card.root_path.clone(),
                files: dcim.clone(),
            };
            generic::Generic.group(tree, std::slice::from_ref(&sub), out);
            for f in dcim {
                if out.is_free(f) {
                    out.skip(
                        tree,
                        f,
                        "not a media file and no clip has this name".to_string(),
                    );
                }
            }
        }
        for &f in &card.files {
            if out.is_card_level(f) {
                out.skipped.push(Skipped {
                    path: tree.node(f).path.clone(),
                    reason: CARD_LEVEL_REASON.to_string(),
                });
            }
        }
    }
}

/// The one reason used for card-level files (P2 `LASTCLIP.TXT`, Sony `MEDIAPRO.XML`, Canon
/// `INDEX.MIF`, AVCHD `INDEX.BDM`, ...).
pub const CARD_LEVEL_REASON: &str = "card-level file (copied with the card, not a clip member)";

/// Zero-byte essence is a bad copy: flag each file, keep the clip listed.
fn flag_empty_files(out: &mut Out) {
    for clip in &out.clips {
        for f in &clip.files {
            if f.size == 0 && matches!(f.role, FileRole::Video | FileRole::Audio) {
                out.errors.push(ScanIssue {
                    path: f.path.clone(),
                    message: "file is empty (0 bytes): re-copy it from the card".to_string(),
                });
            }
        }
    }
}

fn flag_duplicate_ids(clips: &mut [Clip]) {
    let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, c) in clips.iter().enumerate() {
        by_id.entry(c.id.clone()).or_default().push(i);
    }
    for idxs in by_id.values().filter(|v| v.len() > 1) {
        let roots: Vec<String> = idxs
            .iter()
            .map(|&i| clips[i].card_root.to_string_lossy().into_owned())
            .collect();
        for &i in idxs {
            clips[i].warnings.push(format!(
                "{} clips share the id {} (cards: {}): the same card copied twice, or cameras \
                 reusing names; check before registering",
                idxs.len(),
                clips[i].id,
                roots.join(", ")
            ));
        }
    }
}

fn report_empty_roots(tree: &Tree, roots: &[PathBuf], out: &mut Out) {
    for root in roots {
        let has_clip = out
            .clips
            .iter()
            .any(|c| c.files.iter().any(|f| f.path.starts_with(root)));
        if has_clip {
            continue;
        }
        let has_files = tree
            .tops
            .iter()
            .filter(|&&t| &tree.node(t).path == root)
            .any(|&t| !tree.files_under(t).is_empty());
        let reason = if has_files {
            "no camera card or media files found here (see the skipped files)"
        } else {
            "empty: no camera card or media files found here"
        };
        out.skipped.push(Skipped {
            path: root.clone(),
            reason: reason.to_string(),
        });
    }
}
