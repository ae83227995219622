//! Folders named like member files (`CONTENTS/ICON/0003AB.BMP/`, `CLIP/C0001.MXF/`): a broken
//! copy (a tool that created the path but never the file, a filesystem repair). Detectors only
//! take files, so such a folder would silently be missing from its clip; inside a card it is
//! reported as an error instead, naming the folder and what to do.
//!
//! Only names with a camera member extension count: RED's `.RDM`/`.RDC` are real folders.

use super::model::ScanIssue;
use super::names::{AUDIO_EXTS, STILL_EXTS, VIDEO_EXTS, ext_lower, is_one_of};
use super::walk::Tree;
use std::collections::HashSet;

/// Sidecar, thumbnail and proxy extensions found inside card structures (lowercase).
const MEMBER_SIDECAR_EXTS: &[&str] = &[
    "xml", "smi", "bim", "ppn", "cpi", "clpi", "mpl", "mpls", "bdm", "cif", "thm", "bmp", "lrv",
    "lrf", "srt", "rmd", "sidecar", "xmp", "mif",
];

/// True when a folder with this name is where a card member file is expected.
pub fn looks_like_member_file(name: &str) -> bool {
    let ext = ext_lower(name);
    !ext.is_empty()
        && [VIDEO_EXTS, AUDIO_EXTS, STILL_EXTS, MEMBER_SIDECAR_EXTS]
            .iter()
            .any(|list| is_one_of(&ext, list))
}

/// One error per folder named like a member file below any of the `card_roots`.
pub fn report(tree: &Tree, card_roots: &[usize]) -> Vec<ScanIssue> {
    let roots: HashSet<usize> = card_roots.iter().copied().collect();
    let inside_card = |mut n: usize| {
        while let Some(p) = tree.node(n).parent {
            if roots.contains(&p) {
                return true;
            }
            n = p;
        }
        false
    };
    tree.nodes
        .iter()
        .enumerate()
        .filter(|(i, n)| n.is_dir && looks_like_member_file(&n.name) && inside_card(*i))
        .map(|(_, n)| ScanIssue {
            path: n.path.clone(),
            message: format!(
                "expected a file but found a folder named {}: the card copy is damaged; \
                 re-copy the card",
                n.name
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_extensions_but_not_red_or_card_folders() {
        for name in [
            "0003AB.BMP",
            "0002EM.MXF",
            "C0001M01.XML",
            "GL010123.LRV",
            "a.wav",
        ] {
            assert!(looks_like_member_file(name), "{name}");
        }
        for name in [
            "A001_C001_0514XY.RDC",
            "A001.RDM",
            "CONTENTS",
            "CLIPS001",
            ".hidden",
        ] {
            assert!(!looks_like_member_file(name), "{name}");
        }
    }
}
