//! Offload tests on card trees made at test time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use chrono::{TimeZone, Utc};

use super::*;

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

fn request(card: &Path, dest_root: &Path) -> OffloadRequest {
    OffloadRequest {
        card_root: card.to_path_buf(),
        destination_root: dest_root.to_path_buf(),
        pattern: DEFAULT_PATTERN.to_owned(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        creator: mhl::CreatorInfo {
            creation_date: Utc.with_ymd_and_hms(2026, 11, 22, 22, 30, 0).unwrap(),
            ..mhl::CreatorInfo::this_tool()
        },
    }
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
    assert_eq!(report.destination, dest);

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
    let abc = &report.files[0];
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
    let first_verify = reports
        .iter()
        .position(|p| p.phase == Phase::Verify)
        .unwrap();
    assert!(
        reports[first_verify..]
            .iter()
            .all(|p| p.phase == Phase::Verify)
    );

    // The manifest: one transfer generation, original + verified records for each file.
    assert_eq!(report.mhl.sequence, 1);
    assert_eq!(
        report.mhl.path,
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
    let mut hook = |dst: &Path| {
        if dst.ends_with("0001AB.MXF") {
            let mut bytes = std::fs::read(dst).unwrap();
            bytes[1_000_000] ^= 0xff;
            std::fs::write(dst, bytes).unwrap();
        }
    };
    let report = done(
        run(
            &request(&f.card, &f.dest_root),
            &AtomicBool::new(false),
            &mut |_| {},
            &mut hook,
        )
        .unwrap(),
    );
    let failed: Vec<&str> = report
        .failed()
        .iter()
        .map(|f| f.rel_path.as_str())
        .collect();
    assert_eq!(failed, vec!["CONTENTS/VIDEO/0001AB.MXF"]);
    match &report.failed()[0].status {
        FileStatus::VerifyFailed { copy, algorithms } => {
            assert_eq!(algorithms, &vec![Algorithm::Xxh64, Algorithm::Md5]);
            assert_ne!(copy.md5, report.failed()[0].source.md5);
        }
        other => panic!("expected VerifyFailed, got {other:?}"),
    }
    assert!(!report.all_verified());
    // The manifest records the failure.
    let list = mhl::read_history(&report.destination)
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
    let dest = first.destination.clone();

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
    assert_eq!(second.mhl.sequence, 2);
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

    // Different size: also refused.
    std::fs::write(&victim, b"abcd").unwrap();
    let err = offload(&req, &AtomicBool::new(false), &mut |_| {}).unwrap_err();
    assert!(
        err.to_string()
            .contains("4 bytes there, 3 bytes on the card"),
        "{err}"
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
    assert_eq!(report.mhl.sequence, 2);
    let history = mhl::read_history(&report.destination).unwrap().unwrap();
    let processes: Vec<mhl::Process> = history.generations.iter().map(|(_, l)| l.process).collect();
    assert_eq!(
        processes,
        vec![mhl::Process::InPlace, mhl::Process::Transfer]
    );
    // ascmhl/ files were copied but are not listed in the manifest.
    assert!(
        report
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
    assert_eq!(again.mhl.sequence, 3);
    assert!(
        again
            .files
            .iter()
            .all(|f| f.status == FileStatus::AlreadyPresent)
    );
}

/// The destination manifest checked by the reference tool; see `mhl::tests` for installation.
#[test]
fn ascmhl_reference_verifies_offload_destination() {
    let bin = PathBuf::from(std::env::var_os("ASCMHL_BIN").unwrap_or_else(|| {
        panic!(
            "ASCMHL_BIN is not set: install the reference tool (python3 -m venv target/ascmhl-venv \
             && target/ascmhl-venv/bin/pip install ascmhl==1.2) and set \
             ASCMHL_BIN=$PWD/target/ascmhl-venv/bin/ascmhl"
        )
    }));
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
            .arg(&report.destination)
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
