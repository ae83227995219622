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

#[test]
fn xdcam_ex_take_relayed_over_two_generated_cards_is_one_clip() {
    crate::util::require_tool("ffmpeg");
    let tmp = crate::util::tempdir();
    let dir = crate::util::canonical(tmp.path());
    card_ingest::sample::generate_xdcam_ex_span(
        &dir,
        &card_ingest::sample::SampleOptions::default(),
    )
    .expect("generate EX span");
    let (a, b) = (dir.join("CARD_A"), dir.join("CARD_B"));
    let r = crate::util::scan(&[&a, &b]);
    assert_eq!(r.clips.len(), 1, "{:?}", r.clip_names());
    let take = &r.clips[0];
    assert_eq!(take.clip.name, "709_002");
    assert_eq!(take.clip.incomplete, None);
    assert_eq!(take.clip.card_root, a);
    assert_eq!(take.clip.segments.len(), 2);
    assert_eq!(
        take.clip.files[0].path,
        a.join("BPAV/CLPR/709_002_01/709_002_01.MP4")
    );
    assert_eq!(
        take.clip.files[1].path,
        b.join("BPAV/CLPR/709_002_02/709_002_02.MP4")
    );
    // Both parts' time: 2 s + 2 s (card B's part has an empty NRT XML: its container counts).
    crate::util::assert_duration(take, 4.0, 0.05);
    assert_eq!(take.metadata.timecode_start.as_deref(), Some("01:00:00:00"));
    assert_eq!(take.metadata.camera_model.as_deref(), Some("PMW-EX1R"));
    // Card A alone: listed, waiting for card B.
    let r = crate::util::scan(&[&a]);
    assert_eq!(
        r.clips[0].clip.incomplete.as_deref(),
        Some(
            "take 709_002 continues in 709_002_02 on another card, which is not in this scan: \
             add the card holding it (or re-copy it) and scan again"
        )
    );
}
