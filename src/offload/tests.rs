//! Offload tests on card trees made at test time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use chrono::{TimeZone, Utc};

use super::*;
use crate::checksum::{self, AlgorithmSet};
use crate::mhl::{FileEntry, HashAction, HashRecord};

const BIG_BYTES: usize = 5 * 1024 * 1024 + 11;

fn big() -> Vec<u8> {
    (0..BIG_BYTES).map(|i| (i % 249) as u8).collect()
}

/// A small P2-like card: nested media, an empty file, an empty folder, and OS junk.
fn make_card(parent: &Path) -> PathBuf {
    let card = parent.join("CARD01");
    for d in [
        "CONTENTS/VIDEO",
        "CONTENTS/AUDIO",
        "CONTENTS/ICON",
        ".Trashes/501",
    ] {
        std::fs::create_dir_all(card.join(d)).unwrap();
    }
    std::fs::write(card.join("CONTENTS/VIDEO/0001AB.MXF"), big()).unwrap();
    std::fs::write(card.join("CONTENTS/AUDIO/0001AB00.MXF"), b"abc").unwrap();
    std::fs::write(card.join("CONTENTS/AUDIO/EMPTY.MXF"), b"").unwrap();
    std::fs::write(card.join("LASTCLIP.TXT"), b"0001AB\n").unwrap();
    std::fs::write(card.join(".DS_Store"), b"junk").unwrap();
    std::fs::write(card.join("CONTENTS/VIDEO/._0001AB.MXF"), b"appledouble").unwrap();
    std::fs::write(card.join(".Trashes/501/x"), b"trash").unwrap();
    card
}

const COPIED: [&str; 4] = [
    "CONTENTS/AUDIO/0001AB00.MXF",
    "CONTENTS/AUDIO/EMPTY.MXF",
    "CONTENTS/VIDEO/0001AB.MXF",
    "LASTCLIP.TXT",
];

struct Fixture {
    _dir: tempfile::TempDir,
    card: PathBuf,
    dest_root: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let card = make_card(dir.path());
    let dest_root = dir.path().join("iconik-storage");
    std::fs::create_dir(&dest_root).unwrap();
    Fixture {
        card,
        dest_root,
        _dir: dir,
    }
}

/// Card and destination share one temp folder (one volume) in these tests: same-volume copies
/// are allowed here; `same_volume_destination_is_refused` checks the default.
fn request(card: &Path, dest_root: &Path) -> OffloadRequest {
    let mut r = OffloadRequest::new(
        card.to_path_buf(),
        dest_root.to_path_buf(),
        DEFAULT_PATTERN.to_owned(),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        mhl::CreatorInfo {
            creation_date: Utc.with_ymd_and_hms(2026, 11, 22, 22, 30, 0).unwrap(),
            ..mhl::CreatorInfo::this_tool()
        },
    );
    r.allow_same_volume = true;
    r
}

fn done(outcome: OffloadOutcome) -> OffloadReport {
    match outcome {
        OffloadOutcome::Done(r) => r,
        other => panic!("expected Done, got {other:?}"),
    }
}

/// Relative path → bytes of every file under `root`, except `ascmhl/`.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read(e.path()).unwrap())
        })
        .filter(|(rel, _)| !rel.starts_with("ascmhl/"))
        .collect()
}

fn statuses(report: &OffloadReport) -> Vec<(&str, &FileStatus)> {
    report
        .primary()
        .files
        .iter()
        .map(|f| (f.rel_path.as_str(), &f.status))
        .collect()
}

#[test]
fn copies_card_verifies_and_writes_transfer_manifest() {
    let f = fixture();
    let mut reports = Vec::new();
    let report = done(
        offload(
            &request(&f.card, &f.dest_root),
            &AtomicBool::new(false),
            &mut |p| reports.push(p.clone()),
        )
        .unwrap(),
    );
    let dest = f
        .dest_root
        .canonicalize()
        .unwrap()
        .join("2026-11-22/CARD01");
    assert_eq!(report.primary().destination, dest);

    // Exactly the media files, byte for byte; junk stayed behind; the empty folder exists.
    let copied = tree(&dest);
    assert_eq!(
        copied.keys().map(String::as_str).collect::<Vec<_>>(),
        COPIED
    );
    for rel in COPIED {
        assert_eq!(
            copied[rel],
            std::fs::read(f.card.join(rel)).unwrap(),
            "{rel}"
        );
    }
    assert!(dest.join("CONTENTS/ICON").is_dir());
    assert!(!dest.join(".Trashes").exists());

    // Per-file results with exact hashes.
    assert_eq!(
        statuses(&report),
        COPIED
            .iter()
            .map(|p| (*p, &FileStatus::Verified))
            .collect::<Vec<_>>()
    );
    let abc = &report.primary().files[0];
    assert_eq!(abc.source.xxh64.as_deref(), Some("44bc2cf5ad770999"));
    assert_eq!(
        abc.source.md5.as_deref(),
        Some("900150983cd24fb0d6963f7d28e17f72")
    );
    assert!(report.all_verified());

    // Modification time preserved.
    let mtime = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    assert_eq!(
        mtime(&dest.join("LASTCLIP.TXT")),
        mtime(&f.card.join("LASTCLIP.TXT"))
    );

    // Progress: copy then verify, each ending at its total.
    let total = (BIG_BYTES + 3 + 7) as u64;
    let last = |phase| reports.iter().rfind(|p| p.phase == phase).unwrap().clone();
    assert_eq!(
        (last(Phase::Copy).done_bytes, last(Phase::Copy).total_bytes),
        (total, total)
    );
    assert_eq!(
        (
            last(Phase::Verify).done_bytes,
            last(Phase::Verify).total_bytes
        ),
        (total, total)
    );
    // Each file is re-read right after its own copy (copy and read-back of different files
    // overlap, so the phases interleave across files, never within one).
    for rel in COPIED {
        let at = |phase| {
            reports
                .iter()
                .enumerate()
                .filter(|(_, p)| p.phase == phase && p.file == *rel)
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
        };
        let (copy, verify) = (at(Phase::Copy), at(Phase::Verify));
        if let (Some(last_copy), Some(first_verify)) = (copy.last(), verify.first()) {
            assert!(last_copy < first_verify, "{rel}: verified before copied");
        }
    }

    // The manifest: one transfer generation, original + verified records for each file.
    assert_eq!(report.primary().mhl.sequence, 1);
    assert_eq!(
        report.primary().mhl.path,
        dest.join("ascmhl/0001_CARD01_2026-11-22_223000Z.mhl")
    );
    let history = mhl::read_history(&dest).unwrap().unwrap();
    let list = history.latest().unwrap();
    assert_eq!(list.process, mhl::Process::Transfer);
    let paths: Vec<&str> = list.files.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, COPIED);
    let actions: Vec<(Algorithm, HashAction)> = list.files[0]
        .hashes
        .iter()
        .map(|h| (h.algorithm, h.action))
        .collect();
    assert_eq!(
        actions,
        vec![
            (Algorithm::Xxh64, HashAction::Original),
            (Algorithm::Md5, HashAction::Original),
            (Algorithm::Xxh64, HashAction::Verified),
            (Algorithm::Md5, HashAction::Verified),
        ]
    );
    assert_eq!(
        list.files[0].value(Algorithm::Md5),
        Some("900150983cd24fb0d6963f7d28e17f72")
    );
}

#[test]
fn corrupted_copy_is_reported_per_file() {
    let f = fixture();
    let hook = |dst: &Path| {
        if dst.ends_with("0001AB.MXF") {
            let mut bytes = std::fs::read(dst).unwrap();
            bytes[1_000_000] ^= 0xff;
            std::fs::write(dst, bytes).unwrap();
        }
    };
    let report = done(
        offload_each(
            &request(&f.card, &f.dest_root),
            &AtomicBool::new(false),
            &mut |_| {},
            &hook,
            &mut |_| {},
        )
        .unwrap(),
    );
    let failed: Vec<&str> = report
        .failed()
        .iter()
        .map(|(_, f)| f.rel_path.as_str())
        .collect();
    assert_eq!(failed, vec!["CONTENTS/VIDEO/0001AB.MXF"]);
    match &report.failed()[0].1.status {
        FileStatus::VerifyFailed { copy, algorithms } => {
            assert_eq!(algorithms, &vec![Algorithm::Xxh64, Algorithm::Md5]);
            assert_ne!(copy.md5, report.failed()[0].1.source.md5);
        }
        other => panic!("expected VerifyFailed, got {other:?}"),
    }
    assert!(!report.all_verified());
    // The manifest records the failure.
    let list = mhl::read_history(&report.primary().destination)
        .unwrap()
        .unwrap()
        .latest()
        .unwrap()
        .clone();
    let entry = list
        .files
        .iter()
        .find(|e| e.path == "CONTENTS/VIDEO/0001AB.MXF")
        .unwrap();
    let failed_records = entry
        .hashes
        .iter()
        .filter(|h| h.action == HashAction::Failed)
        .count();
    assert_eq!(failed_records, 2);
}

#[test]
fn rerun_resumes_and_never_overwrites_a_different_file() {
    let f = fixture();
    let req = request(&f.card, &f.dest_root);
    let first = done(offload(&req, &AtomicBool::new(false), &mut |_| {}).unwrap());
    let dest = first.primary().destination.clone();

    // Simulate an interrupted run: one file missing, a stale temp copy left behind.
    std::fs::remove_file(dest.join("LASTCLIP.TXT")).unwrap();
    let stale = dest.join(".LASTCLIP.TXT.tmp-999999-0");
    std::fs::write(&stale, b"half").unwrap();
    let second = done(offload(&req, &AtomicBool::new(false), &mut |_| {}).unwrap());
    assert_eq!(
        statuses(&second),
        vec![
            (COPIED[0], &FileStatus::AlreadyPresent),
            (COPIED[1], &FileStatus::AlreadyPresent),
            (COPIED[2], &FileStatus::AlreadyPresent),
            (COPIED[3], &FileStatus::Verified),
        ]
    );
    assert!(!stale.exists(), "stale temp copy removed");
    assert_eq!(second.primary().mhl.sequence, 2);
    assert_eq!(
        std::fs::read(dest.join("LASTCLIP.TXT")).unwrap(),
        b"0001AB\n"
    );

    // Corrupt a copy (same size): the next run refuses to overwrite it and names it.
    let victim = dest.join("CONTENTS/AUDIO/0001AB00.MXF");
    std::fs::write(&victim, b"abd").unwrap();
    match offload(&req, &AtomicBool::new(false), &mut |_| {}) {
        Err(OffloadError::ExistingDiffers { path, detail }) => {
            assert_eq!(path, victim);
            assert!(detail.contains("different content"), "{detail}");
        }
        other => panic!("expected ExistingDiffers, got {other:?}"),
    }
    assert_eq!(std::fs::read(&victim).unwrap(), b"abd", "left untouched");

    // Different size: the folder no longer holds (part of) this card, so it is another card of
    // the same name: the copy goes to a distinct folder, the existing one is left untouched.
    std::fs::write(&victim, b"abcd").unwrap();
    let third = done(offload(&req, &AtomicBool::new(false), &mut |_| {}).unwrap());
    let renamed = PathBuf::from(format!("{}_2", dest.display()));
    assert_eq!(third.primary().destination, renamed);
    assert_eq!(
        third.primary().renamed_from.as_deref(),
        Some(dest.as_path())
    );
    assert!(third.all_verified());
    assert_eq!(std::fs::read(&victim).unwrap(), b"abcd", "left untouched");
    assert_eq!(
        std::fs::read(renamed.join("CONTENTS/AUDIO/0001AB00.MXF")).unwrap(),
        b"abc"
    );
}

#[test]
fn card_already_under_destination_is_skipped() {
    let f = fixture();
    let inside = f.dest_root.join("2026-11-01");
    std::fs::create_dir(&inside).unwrap();
    let card = make_card(&inside);
    let outcome = offload(
        &request(&card, &f.dest_root),
        &AtomicBool::new(false),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(
        outcome,
        OffloadOutcome::AlreadyAtDestination {
            card_root: card.canonicalize().unwrap()
        }
    );
    assert!(
        !card.join("ascmhl").exists(),
        "nothing written into the card"
    );
}

#[test]
fn destination_inside_card_is_refused() {
    let f = fixture();
    let err = offload(
        &request(&f.card, &f.card),
        &AtomicBool::new(false),
        &mut |_| {},
    );
    // The card is "under" its own root, so this is the skip case; a destination root inside the
    // card is the error case.
    assert!(matches!(
        err,
        Ok(OffloadOutcome::AlreadyAtDestination { .. })
    ));
    let inner = f.card.join("CONTENTS");
    let err = offload(
        &request(&f.card, &inner),
        &AtomicBool::new(false),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(err, OffloadError::DestinationInsideCard { .. }),
        "{err}"
    );
}

#[test]
fn cancel_leaves_no_file_under_a_final_name() {
    let f = fixture();
    let err = offload(
        &request(&f.card, &f.dest_root),
        &AtomicBool::new(true),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, OffloadError::Cancelled));
    let dest = f.dest_root.join("2026-11-22/CARD01");
    assert!(
        tree(&dest).is_empty(),
        "no files copied: {:?}",
        tree(&dest).keys()
    );
}

#[test]
fn card_history_travels_and_gets_a_transfer_generation() {
    let f = fixture();
    // Seal the card in place first (as a camera-side tool would).
    let card_list = mhl::HashList {
        creator: mhl::CreatorInfo::this_tool(),
        process: mhl::Process::InPlace,
        ignore_patterns: Vec::new(),
        files: COPIED
            .iter()
            .map(|rel| {
                let h = checksum::hash_file(
                    &f.card.join(rel),
                    AlgorithmSet::DEFAULT,
                    &AtomicBool::new(false),
                    &mut |_| {},
                )
                .unwrap();
                FileEntry {
                    path: rel.to_string(),
                    size_bytes: h.size_bytes,
                    last_modified: None,
                    hashes: vec![HashRecord {
                        algorithm: Algorithm::Xxh64,
                        value: h.xxh64.unwrap(),
                        action: HashAction::Original,
                        hash_date: Utc::now(),
                    }],
                }
            })
            .collect(),
        empty_directories: vec!["CONTENTS/ICON".into()],
    };
    mhl::write_generation(&f.card, &card_list).unwrap();
    let req = request(&f.card, &f.dest_root);
    let report = done(offload(&req, &AtomicBool::new(false), &mut |_| {}).unwrap());
    assert_eq!(report.primary().mhl.sequence, 2);
    let history = mhl::read_history(&report.primary().destination)
        .unwrap()
        .unwrap();
    let processes: Vec<mhl::Process> = history.generations.iter().map(|(_, l)| l.process).collect();
    assert_eq!(
        processes,
        vec![mhl::Process::InPlace, mhl::Process::Transfer]
    );
    // ascmhl/ files were copied but are not listed in the manifest.
    assert!(
        report
            .primary()
            .files
            .iter()
            .any(|f| f.rel_path == "ascmhl/ascmhl_chain.xml")
    );
    assert!(
        history
            .latest()
            .unwrap()
            .files
            .iter()
            .all(|e| !e.path.starts_with("ascmhl"))
    );
    // A rerun accepts the extended chain and appends generation 3.
    let again = done(offload(&req, &AtomicBool::new(false), &mut |_| {}).unwrap());
    assert_eq!(again.primary().mhl.sequence, 3);
    assert!(
        again
            .primary()
            .files
            .iter()
            .all(|f| f.status == FileStatus::AlreadyPresent)
    );
}

/// The destination manifest checked by the reference tool; see `mhl::tests` for installation.
#[test]
fn ascmhl_reference_verifies_offload_destination() {
    let bin = crate::test_peer("ASCMHL_BIN", "target/ascmhl-venv/bin/ascmhl");
    let f = fixture();
    let report = done(
        offload(
            &request(&f.card, &f.dest_root),
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .unwrap(),
    );
    for args in [&["verify"][..], &["verify", "-dh"][..]] {
        let out = std::process::Command::new(bin.with_file_name("ascmhl-debug"))
            .args(args)
            .arg(&report.primary().destination)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "ascmhl-debug {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn ascmhl_verify(dir: &Path) {
    let bin = crate::test_peer("ASCMHL_BIN", "target/ascmhl-venv/bin/ascmhl");
    let out = std::process::Command::new(bin.with_file_name("ascmhl-debug"))
        .arg("verify")
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "ascmhl-debug verify {}:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn shuttle(f: &Fixture) -> PathBuf {
    let p = f.dest_root.parent().unwrap().join("shuttle-drive");
    std::fs::create_dir(&p).unwrap();
    p
}

#[test]
fn two_destinations_get_their_own_verified_copy_and_mhl_from_one_read() {
    let f = fixture();
    let shuttle = shuttle(&f);
    let mut req = request(&f.card, &f.dest_root);
    req.also_to = vec![shuttle.clone()];
    let mut copy_done = Vec::new();
    let mut verify_total = 0;
    let report = done(
        offload(&req, &AtomicBool::new(false), &mut |p| match p.phase {
            Phase::Copy => copy_done.push((p.done_bytes, p.total_bytes)),
            Phase::Verify => verify_total = p.total_bytes,
        })
        .unwrap(),
    );
    let card_bytes: u64 = tree(&f.card)
        .iter()
        .filter(|(rel, _)| COPIED.contains(&rel.as_str()))
        .map(|(_, b)| b.len() as u64)
        .sum();
    // One pass over the card's bytes feeds both copies; the verify pass reads each copy.
    assert_eq!(copy_done.last(), Some(&(card_bytes, card_bytes)));
    assert_eq!(verify_total, 2 * card_bytes);
    assert_eq!(report.destinations.len(), 2);
    assert_eq!(report.destinations[1].root, canonical(&shuttle));
    let expected: BTreeMap<String, Vec<u8>> = tree(&f.card)
        .into_iter()
        .filter(|(rel, _)| COPIED.contains(&rel.as_str()))
        .collect();
    for d in &report.destinations {
        assert_eq!(
            tree(&d.destination),
            expected,
            "{}",
            d.destination.display()
        );
        assert!(d.files.iter().all(|x| x.status == FileStatus::Verified));
        assert_eq!(d.mhl.sequence, 1);
        assert!(d.mhl.path.starts_with(&d.destination));
        ascmhl_verify(&d.destination);
    }
    assert!(report.all_verified());
    assert_eq!(report.verify, VerifyMode::ReadBack);
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap()
}

#[test]
fn a_corrupted_second_copy_fails_only_that_destination() {
    let f = fixture();
    let shuttle = canonical(&shuttle(&f));
    let mut req = request(&f.card, &f.dest_root);
    req.also_to = vec![shuttle.clone()];
    let report = done(
        offload_observed(&req, &AtomicBool::new(false), &mut |_| {}, &|p: &Path| {
            if p.starts_with(&shuttle) && p.ends_with("CONTENTS/AUDIO/0001AB00.MXF") {
                std::fs::write(p, b"xyz").unwrap();
            }
        })
        .unwrap(),
    );
    assert!(report.primary().all_verified());
    let failed: Vec<(PathBuf, &str)> = report
        .failed()
        .into_iter()
        .map(|(d, f)| (d.root.clone(), f.rel_path.as_str()))
        .collect();
    assert_eq!(failed, vec![(shuttle, "CONTENTS/AUDIO/0001AB00.MXF")]);
    assert!(!report.all_verified());
}

#[test]
fn same_volume_destination_is_refused_before_anything_is_written() {
    let f = fixture();
    let mut req = request(&f.card, &f.dest_root);
    req.allow_same_volume = false;
    match offload(&req, &AtomicBool::new(false), &mut |_| {}) {
        Err(e @ OffloadError::SameVolume { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains(&canonical(&f.dest_root).display().to_string()),
                "{msg}"
            );
            assert!(msg.contains("same volume as the card"), "{msg}");
        }
        other => panic!("expected SameVolume, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_dir(&f.dest_root).unwrap().count(),
        0,
        "nothing written"
    );
    // A card on another volume (tmpfs) is accepted.
    if Path::new("/dev/shm").is_dir() {
        let shm = tempfile::tempdir_in("/dev/shm").unwrap();
        let card = make_card(shm.path());
        let mut req = request(&card, &f.dest_root);
        req.allow_same_volume = false;
        assert!(done(offload(&req, &AtomicBool::new(false), &mut |_| {}).unwrap()).all_verified());
    }
}

#[test]
fn a_different_card_of_the_same_name_gets_its_own_folder_shown_before_copying() {
    let f = fixture();
    let req = request(&f.card, &f.dest_root);
    // Another card called CARD01 was offloaded here earlier (other clips).
    let taken = f.dest_root.join("2026-11-22/CARD01");
    std::fs::create_dir_all(taken.join("CONTENTS/VIDEO")).unwrap();
    std::fs::write(taken.join("CONTENTS/VIDEO/0042XY.MXF"), b"other card").unwrap();
    let plan = preflight(&req).unwrap().expect("a plan");
    let renamed = canonical(&f.dest_root).join("2026-11-22/CARD01_2");
    assert_eq!(plan.destinations[0].folder, renamed);
    assert_eq!(
        plan.destinations[0].renamed_from.as_deref(),
        Some(canonical(&f.dest_root).join("2026-11-22/CARD01").as_path())
    );
    assert!(!renamed.exists(), "the pre-flight writes nothing");
    let report = done(offload(&req, &AtomicBool::new(false), &mut |_| {}).unwrap());
    assert_eq!(report.primary().destination, renamed);
    assert_eq!(
        tree(&taken).keys().collect::<Vec<_>>(),
        vec!["CONTENTS/VIDEO/0042XY.MXF"],
        "the other card is untouched"
    );
    // The same card again resumes in its own folder, not a third one.
    let again = done(offload(&req, &AtomicBool::new(false), &mut |_| {}).unwrap());
    assert_eq!(again.primary().destination, renamed);
    assert!(
        again
            .primary()
            .files
            .iter()
            .all(|f| f.status == FileStatus::AlreadyPresent)
    );
}

#[test]
fn size_only_mode_compares_sizes_and_says_so() {
    let f = fixture();
    let mut req = request(&f.card, &f.dest_root);
    req.verify = VerifyMode::Size;
    let report = done(
        offload_observed(&req, &AtomicBool::new(false), &mut |_| {}, &|p: &Path| {
            // Same size, other bytes: invisible to a size check (that is its weakness) ...
            if p.ends_with("CONTENTS/AUDIO/0001AB00.MXF") {
                std::fs::write(p, b"xyz").unwrap();
            }
            // ... a truncated copy is caught.
            if p.ends_with("LASTCLIP.TXT") {
                std::fs::write(p, b"0001").unwrap();
            }
        })
        .unwrap(),
    );
    assert_eq!(
        statuses(&report)
            .into_iter()
            .map(|(rel, s)| (rel, s.is_failed()))
            .collect::<Vec<_>>(),
        vec![
            (COPIED[0], false),
            (COPIED[1], false),
            (COPIED[2], false),
            (COPIED[3], true),
        ]
    );
    assert_eq!(report.primary().files[0].status, FileStatus::SizeMatched);
    assert!(report.verify_description().starts_with("size only"));
    // The manifest holds only what was hashed: the card's bytes (`original`), no `verified`.
    let text = std::fs::read_to_string(&report.primary().mhl.path).unwrap();
    assert!(text.contains("action=\"original\""), "{text}");
    assert!(!text.contains("action=\"verified\""), "{text}");
}

/// The verify pass must read the destination drive: when it starts, none of the copy's pages
/// may still be in the page cache (they were dropped after the fsync).
#[cfg(target_os = "linux")]
#[test]
fn read_back_starts_with_the_copy_out_of_the_page_cache() {
    let f = fixture();
    let req = request(&f.card, &f.dest_root);
    let seen = std::sync::Mutex::new(Vec::new());
    let report = done(
        offload_observed(&req, &AtomicBool::new(false), &mut |_| {}, &|p: &Path| {
            if p.ends_with("CONTENTS/VIDEO/0001AB.MXF") {
                seen.lock().unwrap().push(cache::resident_pages(p).unwrap());
            }
        })
        .unwrap(),
    );
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 1);
    let (resident, pages) = seen[0];
    assert!(pages >= BIG_BYTES / 4096, "{pages}");
    assert_eq!(
        resident, 0,
        "{resident} of {pages} pages still cached before the re-read"
    );
    assert!(report.cache_dropped);
    assert!(report.verify_description().contains("page cache dropped"));
}

/// A destination on a 1 MiB tmpfs cannot hold the 5 MiB card: refused with both figures, before
/// a byte is written. Mounting needs root (as CI runs); elsewhere the test says so and fails.
#[cfg(target_os = "linux")]
#[test]
fn a_destination_too_small_is_refused_with_the_numbers() {
    struct Mount(PathBuf);
    impl Drop for Mount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let f = fixture();
    let small = f.dest_root.parent().unwrap().join("small-drive");
    std::fs::create_dir(&small).unwrap();
    let st = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&small)
        .status()
        .expect("run mount");
    assert!(
        st.success(),
        "this test mounts a 1 MiB tmpfs as a too-small destination and needs root (CI runs as root)"
    );
    let _mount = Mount(small.clone());
    let mut req = request(&f.card, &f.dest_root);
    req.also_to = vec![small.clone()];
    match offload(&req, &AtomicBool::new(false), &mut |_| {}) {
        Err(e @ OffloadError::NotEnoughSpace { .. }) => {
            let OffloadError::NotEnoughSpace {
                destination,
                needed,
                free,
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(destination, &canonical(&small));
            assert_eq!(*needed, BIG_BYTES as u64 + 3 + 7 + preflight::MARGIN_BYTES);
            assert!(*free <= 1024 * 1024, "{free}");
            let msg = e.to_string();
            assert!(
                msg.contains("not enough free space") && msg.contains("MB"),
                "{msg}"
            );
        }
        other => panic!("expected NotEnoughSpace, got {other:?}"),
    }
    assert_eq!(std::fs::read_dir(&small).unwrap().count(), 0);
    assert_eq!(
        std::fs::read_dir(&f.dest_root).unwrap().count(),
        0,
        "primary untouched too"
    );
}

#[test]
fn files_are_copied_in_the_order_given_and_each_is_reported_once_checked() {
    let f = fixture();
    let mut req = request(&f.card, &f.dest_root);
    // Two "clips" named out of listing order; the rest follows as listed.
    req.first = vec![
        vec![COPIED[3].to_owned()],
        vec![COPIED[1].to_owned(), "NOT/ON/THE/CARD".to_owned()],
    ];
    let copied_order = std::sync::Mutex::new(Vec::new());
    let mut reported = Vec::new();
    let report = done(
        offload_each(
            &req,
            &AtomicBool::new(false),
            &mut |_| {},
            &|p: &Path| copied_order.lock().unwrap().push(p.to_path_buf()),
            &mut |v: &VerifiedFile| reported.push(v.clone()),
        )
        .unwrap(),
    );
    let expected = [COPIED[3], COPIED[1], COPIED[0], COPIED[2]];
    let dest = report.primary().destination.clone();
    assert_eq!(
        *copied_order.lock().unwrap(),
        expected.iter().map(|r| dest.join(r)).collect::<Vec<_>>()
    );
    assert_eq!(
        reported
            .iter()
            .map(|v| v.rel_path.as_str())
            .collect::<Vec<_>>(),
        expected
    );
    let card = canonical(&f.card);
    for v in &reported {
        assert_eq!(v.source_path, card.join(&v.rel_path));
        assert_eq!(v.statuses, vec![FileStatus::Verified]);
        let outcome = report
            .primary()
            .files
            .iter()
            .find(|o| o.rel_path == v.rel_path)
            .unwrap();
        assert_eq!(v.source, outcome.source);
    }
}

/// A card's pre-flight counts what cards already started will still write to the same drive:
/// with the drive's free space all queued, the next card is refused by name and figures, and
/// accepted again once those bytes are written (their reservation dropped).
#[test]
fn free_space_is_checked_against_the_bytes_already_queued_for_the_drive() {
    assert!(
        Path::new("/dev/shm").is_dir(),
        "this test queues bytes on /dev/shm (tmpfs), a drive no other test writes to"
    );
    let f = fixture();
    let shm = tempfile::tempdir_in("/dev/shm").unwrap();
    let plan = preflight(&request(&f.card, shm.path())).unwrap().unwrap();
    let free = plan.destinations[0]
        .free_bytes
        .expect("tmpfs says its free space");
    let drive = volume::volume_id(shm.path()).unwrap();
    let other_card = drives::check_and_queue(&[(drive.clone(), free, None)], 0).unwrap();
    assert_eq!(
        preflight(&request(&f.card, shm.path()))
            .unwrap()
            .unwrap()
            .destinations[0]
            .queued_bytes,
        free
    );
    match preflight::reserve(&plan) {
        Err(OffloadError::NotEnoughSpaceQueued {
            destination,
            queued,
            free: said_free,
            ..
        }) => {
            assert_eq!(
                destination,
                crate::canonical::canonicalize(shm.path()).unwrap()
            );
            assert_eq!((queued, said_free), (free, free));
        }
        other => panic!("expected NotEnoughSpaceQueued, got {other:?}"),
    }
    drop(other_card);
    let mine = preflight::reserve(&plan).unwrap();
    assert_eq!(
        drives::queued_bytes(&drive),
        plan.destinations[0].needed_bytes
    );
    drop(mine);
    assert_eq!(drives::queued_bytes(&drive), 0);
}
