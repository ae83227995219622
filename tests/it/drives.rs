//! Drives, not folders: two cards ingested in one run, each copied to two destination folders on
//! the same drive with `--drive-writers 1`. The cards' copies never overlap in time — read off
//! the copies' own change times, not from sleeps — and the card that had to wait says so.

use crate::util::{self, canonical, tempdir};
use card_ingest::sample::{self, SampleOptions};
use serde_json::Value;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

const TOKEN: &str = "tok-drives-SECRET-23";

/// The earliest and latest change time (ns) of the media files of `card` under each of `roots`
/// (`{date}/{card}` below each): when that card's copy pass wrote there.
fn written_between(roots: &[&Path], card: &str) -> (i128, i128) {
    let mut times = Vec::new();
    for root in roots {
        for day in std::fs::read_dir(root).unwrap() {
            let copy = day.unwrap().path().join(card);
            if !copy.is_dir() {
                continue;
            }
            for e in walkdir::WalkDir::new(&copy) {
                let e = e.unwrap();
                if e.file_type().is_file() && !util::rel(e.path(), &copy).starts_with("ascmhl/") {
                    let m = e.metadata().unwrap();
                    times.push(i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()));
                }
            }
        }
    }
    assert!(!times.is_empty(), "no copy of {card} under {roots:?}");
    (*times.iter().min().unwrap(), *times.iter().max().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_cards_copying_to_one_drive_take_turns_with_one_writer_per_drive() {
    util::require_tool("ffmpeg");
    util::require_tool("mediainfo");
    let shm = util::shm_tempdir();
    let opts = SampleOptions {
        clip_seconds: 2,
        ..SampleOptions::default()
    };
    let cards: Vec<PathBuf> = ["CARD_D1", "CARD_D2"]
        .iter()
        .map(|name| {
            let card = shm.path().join(name);
            sample::generate_p2_complete(&card, 2, &opts).expect("P2 card");
            // A file of no clip (copied like any) makes each copy pass long enough that the
            // two cards, started together, meet at the drive.
            std::fs::write(
                card.join("CONTENTS/PAD.BIN"),
                util::pseudo_random_bytes(16 << 20, name.len() as u64),
            )
            .unwrap();
            canonical(&card)
        })
        .collect();
    let work = tempdir();
    let raid = canonical(work.path()).join("raid");
    let shuttle = canonical(work.path()).join("shuttle");
    std::fs::create_dir_all(&raid).unwrap();
    std::fs::create_dir_all(&shuttle).unwrap();
    let sbx = util::sandbox_at(&raid, TOKEN).await;
    let mut args = util::sandbox_ingest_args(
        &cards[0],
        &sbx,
        &raid,
        "JOURNAL",
        &[
            "--json",
            "--proxy",
            "none",
            "--offload-to",
            raid.to_str().unwrap(),
            "--offload-to",
            shuttle.to_str().unwrap(),
            "--drive-writers",
            "1",
        ],
    );
    args.insert(2, cards[1].display().to_string());
    let out = util::run_bin_with_token(args, sbx.credentials().app_id.clone(), TOKEN).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(
        events
            .iter()
            .filter(|e| e["event"] == "card_finished")
            .count(),
        2,
        "{stdout}"
    );

    let a = written_between(&[&raid, &shuttle], "CARD_D1");
    let b = written_between(&[&raid, &shuttle], "CARD_D2");
    assert!(
        a.1 < b.0 || b.1 < a.0,
        "the two cards' copies overlap on one drive: {a:?} and {b:?}"
    );
    // Both cards started together: the second one waited for the drive and said so.
    let waited: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["event"] == "notice"
                && e["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("waiting for the drive of"))
        })
        .collect();
    assert_eq!(waited.len(), 1, "{stdout}");
    let message = waited[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&raid.display().to_string())
            && message.contains(&shuttle.display().to_string()),
        "{message}"
    );
}
