//! "Check copies" (`card-ingest verify DEST...`) on real offloaded copies of a generated P2 card:
//! a byte flipped in one destination is found and repaired from the other destination (the card
//! gone) or from the card (still there), a missing file is put back, the check is a new ASC MHL
//! generation that the reference `ascmhl` verifies, and a file with no good copy left exits 1.

use crate::util::{self, canonical, tempdir};
use card_ingest::mhl::{self, HashAction, Process};
use card_ingest::offload::{self, OffloadOutcome, OffloadRequest};
use card_ingest::sample::{self, SampleOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// A one-clip P2 card offloaded to `raid` and `shuttle`: (card, raid copy, shuttle copy).
fn offloaded_card(work: &Path) -> (PathBuf, PathBuf, PathBuf) {
    util::require_tool("ffmpeg");
    let card = work.join("CARD_R");
    let opts = SampleOptions {
        clip_seconds: 1,
        ..SampleOptions::default()
    };
    sample::generate_p2_complete(&card, 1, &opts).expect("P2 card");
    let (raid, shuttle) = (work.join("raid"), work.join("shuttle"));
    std::fs::create_dir_all(&raid).unwrap();
    std::fs::create_dir_all(&shuttle).unwrap();
    let mut request = OffloadRequest::new(
        card.clone(),
        raid,
        offload::DEFAULT_PATTERN.to_owned(),
        chrono::Utc::now().date_naive(),
        mhl::CreatorInfo::this_tool(),
    );
    request.also_to = vec![shuttle];
    // One temp volume holds card and copies here; the same-volume refusal has its own tests.
    request.allow_same_volume = true;
    let OffloadOutcome::Done(report) =
        offload::offload(&request, &AtomicBool::new(false), &mut |_| {}).expect("offload")
    else {
        panic!("card copied")
    };
    assert!(report.all_verified());
    (
        canonical(&card),
        report.destinations[0].destination.clone(),
        report.destinations[1].destination.clone(),
    )
}

/// Relative paths of the card's MXF files, largest first.
fn mxf_files(card: &Path) -> Vec<String> {
    let mut files: Vec<(u64, String)> = walkdir::WalkDir::new(card)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "MXF"))
        .map(|e| (e.metadata().unwrap().len(), util::rel(e.path(), card)))
        .collect();
    files.sort_by(|a, b| b.cmp(a));
    assert!(
        files.len() >= 2,
        "a P2 clip has video + audio MXF: {files:?}"
    );
    files.into_iter().map(|(_, f)| f).collect()
}

fn flip_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x5a;
    std::fs::write(path, bytes).unwrap();
}

fn verify(args: &[&Path]) -> util::Run {
    let mut all: Vec<&std::ffi::OsStr> = vec!["verify".as_ref()];
    all.extend(args.iter().map(|p| p.as_os_str()));
    util::run_bin(&all, Duration::from_secs(120))
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// `ascmhl-debug verify` (files against the original hashes) and `verify -dh` (folder hashes of
/// every generation) on `dir`.
fn assert_ascmhl_verifies(dir: &Path) {
    let bin = util::test_peer("ASCMHL_BIN", "target/ascmhl-venv/bin/ascmhl");
    for args in [&["verify"][..], &["verify", "-dh"][..]] {
        let out = std::process::Command::new(bin.with_file_name("ascmhl-debug"))
            .args(args)
            .arg(dir)
            .output()
            .expect("run ascmhl-debug");
        assert_eq!(
            out.status.code(),
            Some(0),
            "ascmhl-debug {args:?} {}:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_flipped_byte_is_repaired_from_the_other_destination_and_ascmhl_verifies_the_new_generation() {
    let work = tempdir();
    let (card, raid, shuttle) = offloaded_card(&canonical(work.path()));
    let rel = mxf_files(&card).remove(0);
    let original = std::fs::read(card.join(&rel)).unwrap();
    // The card went back to the camera: only the shuttle's copy is good.
    std::fs::remove_dir_all(&card).unwrap();
    flip_byte(&raid.join(&rel));
    assert_ne!(std::fs::read(raid.join(&rel)).unwrap(), original);

    let run = verify(&[&raid, &shuttle]);
    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        lines(&run.stdout),
        vec![format!(
            "repaired {} from {}",
            raid.join(&rel).display(),
            shuttle.join(&rel).display()
        )],
        "one line per repaired file; stderr:\n{}",
        run.stderr
    );
    assert_eq!(std::fs::read(raid.join(&rel)).unwrap(), original);
    assert_eq!(std::fs::read(shuttle.join(&rel)).unwrap(), original);

    // The check is generation 2 of each destination: in place, every file verified, the
    // damaged one with a `failed` record of what it had become.
    for (dest, damaged) in [(&raid, true), (&shuttle, false)] {
        let history = mhl::read_history(dest).unwrap().expect("history");
        assert_eq!(history.generations.len(), 2, "{}", dest.display());
        let (_, transfer) = &history.generations[0];
        assert_eq!(transfer.process, Process::Transfer);
        let (_, check) = &history.generations[1];
        assert_eq!(check.process, Process::InPlace);
        assert_eq!(check.files.len(), transfer.files.len());
        let entry = check.files.iter().find(|f| f.path == rel).unwrap();
        assert_eq!(
            entry.hashes.iter().any(|h| h.action == HashAction::Failed),
            damaged,
            "{entry:?}"
        );
        assert!(
            check
                .files
                .iter()
                .all(|f| f.hashes.iter().any(|h| h.action == HashAction::Verified))
        );
        assert_ascmhl_verifies(dest);
    }

    // Checked again: nothing to repair, a third generation.
    let again = verify(&[&raid, &shuttle]);
    assert!(again.status.success(), "{}", again.stderr);
    assert!(lines(&again.stdout).is_empty(), "{}", again.stdout);
    assert_eq!(
        mhl::read_history(&raid).unwrap().unwrap().generations.len(),
        3
    );
}

#[test]
fn the_mounted_card_repairs_a_copy_a_missing_file_comes_back_and_no_good_copy_exits_1() {
    let work = tempdir();
    let (card, raid, shuttle) = offloaded_card(&canonical(work.path()));
    let files = mxf_files(&card);
    let (first, second) = (&files[0], &files[1]);

    // The card is still there: it is the repair source, found through the copy's MHL.
    flip_byte(&raid.join(first));
    let run = verify(&[&raid]);
    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        lines(&run.stdout),
        vec![format!(
            "repaired {} from {}",
            raid.join(first).display(),
            card.join(first).display()
        )]
    );
    assert_eq!(
        std::fs::read(raid.join(first)).unwrap(),
        std::fs::read(card.join(first)).unwrap()
    );
    assert_ascmhl_verifies(&raid);

    // The card is gone; `second` is damaged in both copies, `first` missing from the shuttle.
    std::fs::remove_dir_all(&card).unwrap();
    flip_byte(&raid.join(second));
    flip_byte(&shuttle.join(second));
    std::fs::remove_file(shuttle.join(first)).unwrap();
    let run = verify(&[&raid, &shuttle]);
    assert_eq!(run.status.code(), Some(1), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        lines(&run.stdout),
        vec![format!(
            "repaired {} from {}",
            shuttle.join(first).display(),
            raid.join(first).display()
        )],
        "only the missing file could be repaired; stderr:\n{}",
        run.stderr
    );
    for dest in [&raid, &shuttle] {
        let named = format!("NOT repaired {}", dest.join(second).display());
        assert!(run.stderr.contains(&named), "{named} in:\n{}", run.stderr);
    }
    assert_eq!(
        std::fs::read(shuttle.join(first)).unwrap(),
        std::fs::read(raid.join(first)).unwrap()
    );
    // The failed check is on record too: the damaged file has only `failed` records there.
    let history = mhl::read_history(&shuttle).unwrap().unwrap();
    let (newest, check) = history.generations.last().unwrap();
    let entry = check
        .files
        .iter()
        .find(|f| &f.path == second)
        .unwrap_or_else(|| {
            let xml = std::fs::read_to_string(shuttle.join("ascmhl").join(&newest.file_name));
            panic!("{second} not in the newest generation:\n{xml:?}")
        });
    assert!(
        entry.hashes.iter().all(|h| h.action == HashAction::Failed),
        "{entry:?}"
    );

    // A folder without a history is refused by name.
    let bare = verify(&[work.path()]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(
        bare.stderr.contains("no ASC MHL history"),
        "{}",
        bare.stderr
    );
}
