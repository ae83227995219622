//! Sweep over every sample card kind: each file that is media by extension or signature is a
//! member of a clip or named in an error, never skipped or filed as card-level.

use crate::util::fixtures;
use card_ingest::card::{media_sniff, scan_paths};
use card_ingest::sample::SampleKind;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // macOS junk the scanner ignores by rule (camera-cards.md §2).
        if name.starts_with("._")
            || matches!(
                name.as_str(),
                ".DS_Store" | ".Spotlight-V100" | ".fseventsd"
            )
        {
            continue;
        }
        let p = e.path();
        if p.is_dir() {
            all_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn no_media_file_of_any_sample_card_is_dropped_silently() {
    let fx = fixtures();
    let mut checked = 0;
    for &kind in SampleKind::all() {
        let dir = fx.dir_of(kind);
        let scan = scan_paths(&[dir.to_path_buf()]).expect("scan");
        let members: BTreeSet<&Path> = scan
            .clips
            .iter()
            .flat_map(|c| c.files.iter().map(|f| f.path.as_path()))
            .collect();
        let errors: BTreeSet<&Path> = scan.errors.iter().map(|e| e.path.as_path()).collect();
        let mut files = Vec::new();
        all_files(dir, &mut files);
        for f in files {
            let name = f
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if media_sniff::media_hint(&f, &name).is_none() {
                continue;
            }
            checked += 1;
            assert!(
                members.contains(f.as_path()) || errors.contains(f.as_path()),
                "{kind}: media file {} is in no clip and no error (skipped: {:?})",
                f.display(),
                scan.skipped.iter().find(|s| s.path == f).map(|s| &s.reason)
            );
        }
        assert!(!scan.clips.is_empty(), "{kind}: no clip at all");
    }
    // Every kind holds media: the sweep looked at a real number of files.
    assert!(checked > 60, "only {checked} media files checked");
}
