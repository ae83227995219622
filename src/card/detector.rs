//! The [`CardDetector`] trait, the registry of detectors (most specific first, camera-cards.md §2)
//! and [`Out`], the collector every detector writes its clips and claims into.

use super::model::{Clip, ClipFile, Family, FileRole, ScanIssue, Skipped};
use super::walk::{Listing, Tree};
use super::{
    arri, audio_bwf, avchd, braw, canon_xf, dji, generic, gopro, image_sequence, p2, red, xavc_s,
    xdcam, xdcam_ex,
};
use std::path::PathBuf;

/// A card (or, for loose-media detectors, a dropped folder) handed to a detector.
#[derive(Debug, Clone)]
pub struct CardRef {
    /// Tree node of the card root folder.
    pub root: usize,
    /// Absolute path of the root (for loose media dropped as a single file: its folder).
    pub root_path: PathBuf,
    /// Files under the root that no detector has claimed yet, in walk order.
    pub files: Vec<usize>,
}

/// One camera family: recognises its card root and groups the card's files into clips.
pub trait CardDetector: Sync {
    fn family(&self) -> Family;

    /// True when `dir` is the root of a card of this family (signature table, camera-cards.md
    /// §2). Loose-media detectors (ARRI, BRAW, sequences, BWF, generic) keep the default `false`
    /// and only see files that no card detector claimed.
    fn is_card_root(&self, _dir: &dyn Listing) -> bool {
        false
    }

    /// True when a subfolder (lowercase name) of this family's card root belongs to the card,
    /// so no other card is searched for inside it. Card layouts own everything; RED, whose
    /// root is found by content, owns only its `.RDC` clip folders.
    fn owns_subfolder(&self, _lower: &str) -> bool {
        true
    }

    /// Groups the files of all `cards` of this family found in one scan (all at once, so spans
    /// across cards dropped together can be joined). Claims files through `out`.
    fn group(&self, tree: &Tree, cards: &[CardRef], out: &mut Out);
}

/// Card-structured detectors, most specific signature first.
pub fn card_detectors() -> Vec<&'static dyn CardDetector> {
    vec![
        &p2::P2,
        &canon_xf::CanonXf,
        &xdcam_ex::XdcamEx,
        &xdcam::Xdcam,
        &xavc_s::XavcS,
        &avchd::Avchd,
        &red::Red,
        &gopro::Gopro,
        &dji::Dji,
        &generic::GenericDcf,
    ]
}

/// Loose-media detectors, run in this order on files no card claimed.
pub fn loose_detectors() -> Vec<&'static dyn CardDetector> {
    vec![
        &arri::Arri,
        &braw::Braw,
        &image_sequence::ImageSequence,
        &audio_bwf::AudioBwf,
        &generic::Generic,
    ]
}

/// What detectors produce: clips, which files they used, which are card-level, and notes.
pub struct Out {
    pub clips: Vec<Clip>,
    used: Vec<bool>,
    card_level: Vec<bool>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<ScanIssue>,
}

impl Out {
    pub fn new(node_count: usize) -> Out {
        Out {
            clips: Vec::new(),
            used: vec![false; node_count],
            card_level: vec![false; node_count],
            skipped: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// True when no detector has claimed `node` yet (as a member or as card-level).
    pub fn is_free(&self, node: usize) -> bool {
        !self.used[node] && !self.card_level[node]
    }

    /// Marks `node` as a card-level file (copied with the card, not a clip member).
    pub fn card_level(&mut self, node: usize) {
        if !self.used[node] {
            self.card_level[node] = true;
        }
    }

    /// Undoes [`Out::card_level`], so another detector may claim `node`.
    pub fn release(&mut self, node: usize) {
        self.card_level[node] = false;
    }

    pub fn is_card_level(&self, node: usize) -> bool {
        self.card_level[node]
    }

    /// Claims `node` and returns it as a clip member.
    pub fn take(&mut self, tree: &Tree, node: usize, role: FileRole) -> ClipFile {
        self.used[node] = true;
        self.card_level[node] = false;
        let n = tree.node(node);
        ClipFile {
            path: n.path.clone(),
            role,
            size: n.size,
        }
    }

    /// Marks `node` as handled without making it a member (it lands in `skipped` with `reason`).
    pub fn skip(&mut self, tree: &Tree, node: usize, reason: String) {
        self.used[node] = true;
        self.skipped.push(Skipped {
            path: tree.node(node).path.clone(),
            reason,
        });
    }
}

/// Builds one clip: essence segments first, then the other members, in the order of
/// `model.rs` (sidecars, proxies, thumbnails, other).
pub struct ClipBuilder {
    pub id: String,
    pub name: String,
    pub family: Family,
    pub card_root: PathBuf,
    segments: Vec<Vec<usize>>,
    essence: Vec<(usize, FileRole)>,
    extras: Vec<(usize, FileRole)>,
    pub incomplete: Option<String>,
    pub warnings: Vec<String>,
}

impl ClipBuilder {
    pub fn new(family: Family, id: String, name: String, card_root: PathBuf) -> ClipBuilder {
        ClipBuilder {
            id,
            name,
            family,
            card_root,
            segments: Vec::new(),
            essence: Vec::new(),
            extras: Vec::new(),
            incomplete: None,
            warnings: Vec::new(),
        }
    }

    /// Adds one playback segment made of these essence files (P2: video then audio 00..NN).
    pub fn segment(&mut self, files: &[(usize, FileRole)]) {
        if files.is_empty() {
            return;
        }
        let start = self.essence.len();
        self.essence.extend_from_slice(files);
        self.segments.push((start..self.essence.len()).collect());
    }

    /// Adds a non-essence member; members are sorted by role at build time.
    pub fn extra(&mut self, node: usize, role: FileRole) {
        if !self.extras.iter().any(|(n, _)| *n == node) {
            self.extras.push((node, role));
        }
    }

    /// Sets `incomplete` unless already set (the first reason is the one to act on).
    pub fn set_incomplete(&mut self, reason: String) {
        if self.incomplete.is_none() {
            self.incomplete = Some(reason);
        }
    }

    pub fn has_essence(&self) -> bool {
        !self.essence.is_empty()
    }

    /// Claims every member in `out` and stores the clip there. A clip without any file (e.g. an
    /// empty XDCAM EX clip folder) is not a clip: nothing is stored.
    pub fn finish(mut self, tree: &Tree, out: &mut Out) {
        if self.essence.is_empty() && self.extras.is_empty() {
            tracing::debug!(clip = %self.name, "no member files; not listed");
            return;
        }
        // Stable sort: role order of model.rs, insertion order within a role.
        self.extras.sort_by_key(|(_, r)| extra_rank(*r));
        let mut files = Vec::with_capacity(self.essence.len() + self.extras.len());
        for (n, r) in self.essence.iter().chain(self.extras.iter()) {
            files.push(out.take(tree, *n, *r));
        }
        out.clips.push(Clip {
            id: self.id,
            name: self.name,
            family: self.family,
            card_root: self.card_root,
            files,
            segments: self.segments,
            incomplete: self.incomplete,
            warnings: self.warnings,
            derived_from: None,
        });
    }
}

fn extra_rank(r: FileRole) -> u8 {
    match r {
        FileRole::Video | FileRole::Audio => 0,
        FileRole::Sidecar => 1,
        FileRole::Proxy => 2,
        FileRole::Thumbnail => 3,
        FileRole::Other => 4,
    }
}

/// `"<family>:<identity>"`, the documented clip id format.
pub fn make_id(family: Family, identity: &str) -> String {
    format!("{}:{identity}", family.as_str())
}

/// Path of `node` relative to the card/zone root, `/`-separated, names as on disk. When the
/// zone is a single dropped file, that is the file name.
pub fn rel(tree: &Tree, card: &CardRef, node: usize) -> String {
    if tree.node(card.root).is_dir {
        tree.rel_path(card.root, node)
    } else {
        tree.node(node).name.clone()
    }
}

/// [`rel`] in uppercase: card formats live on FAT/exFAT, whose copies may change case, so ids
/// of card-structured families use uppercase card-relative paths.
pub fn rel_upper(tree: &Tree, card: &CardRef, node: usize) -> String {
    rel(tree, card, node).to_uppercase()
}

/// Joins finished clips into one recording, `parts` in playback order: every part's essence
/// segments first (re-indexed), then every part's other members, then `extra` (take lists).
/// The first part gives the card root; warnings are kept, the first incomplete reason wins.
pub fn merge_clips(parts: Vec<Clip>, id: String, name: String, extra: Vec<ClipFile>) -> Clip {
    let card_root = parts
        .first()
        .map(|p| p.card_root.clone())
        .unwrap_or_default();
    let family = parts.first().map_or(Family::Generic, |p| p.family);
    let mut files = Vec::new();
    let mut segments = Vec::new();
    let mut rest = Vec::new();
    let mut warnings = Vec::new();
    let mut incomplete = None;
    for p in parts {
        let in_seg: std::collections::BTreeSet<usize> =
            p.segments.iter().flatten().copied().collect();
        for seg in &p.segments {
            let start = files.len();
            files.extend(seg.iter().map(|&i| p.files[i].clone()));
            segments.push((start..files.len()).collect());
        }
        rest.extend(
            p.files
                .iter()
                .enumerate()
                .filter(|(i, _)| !in_seg.contains(i))
                .map(|(_, f)| f.clone()),
        );
        warnings.extend(p.warnings);
        incomplete = incomplete.or(p.incomplete);
    }
    rest.extend(extra);
    rest.sort_by_key(|f| extra_rank(f.role));
    files.extend(rest);
    Clip {
        id,
        name,
        family,
        card_root,
        files,
        segments,
        incomplete,
        warnings,
        derived_from: None,
    }
}
