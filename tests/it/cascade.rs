//! `card-ingest ingest --offload-to RAID --cascade-to SHUTTLE` against the sandbox over
//! loopback: the card is released (`card_released` in `--json`) once the RAID copy is verified,
//! its folder is deleted right then (the card went back to the camera), and the run still fills
//! the later tier from the RAID copy and registers every clip: exit 0, both tiers byte-equal to
//! the card, the shuttle's MHL chain showing both transfers, the verdict's evidence naming both.

use crate::util::{self, canonical, tempdir};
use card_ingest::mhl;
use card_ingest::sample::{self, SampleOptions};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const TOKEN: &str = "tok-cascade-SECRET-23";

/// Relative path → bytes of every file under `root` except its `ascmhl/`.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| util::rel(e.path(), root))
        .filter(|rel| !rel.starts_with("ascmhl/"))
        .map(|rel| {
            let bytes = std::fs::read(root.join(&rel)).unwrap();
            (rel, bytes)
        })
        .collect()
}

/// The one card folder a destination root holds (`{date}/{card}`).
fn copy_in(root: &Path, card: &str) -> PathBuf {
    let days: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "JOURNAL"))
        .collect();
    assert_eq!(days.len(), 1, "{days:?}");
    days[0].join(card)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_is_deleted_at_its_release_and_the_later_tier_and_registration_still_complete() {
    util::require_tool("ffmpeg");
    util::require_tool("mediainfo");
    // The card and the later tier on tmpfs, the RAID on the build disk: each copy is made onto
    // a volume other than its source's, as the default refusal wants.
    let shm = util::shm_tempdir();
    let card = shm.path().join("CARD_C");
    let opts = SampleOptions {
        clip_seconds: 1,
        ..SampleOptions::default()
    };
    sample::generate_p2_complete(&card, 2, &opts).expect("P2 card");
    let card = canonical(&card);
    let original = tree(&card);
    let work = tempdir();
    let raid = canonical(work.path()).join("raid");
    let shuttle = canonical(shm.path()).join("shuttle");
    std::fs::create_dir_all(&raid).unwrap();
    std::fs::create_dir_all(&shuttle).unwrap();
    let sbx = util::sandbox_at(&raid, TOKEN).await;
    let args = util::sandbox_ingest_args(
        &card,
        &sbx,
        &raid,
        "JOURNAL",
        &[
            "--json",
            "--offload-to",
            raid.to_str().unwrap(),
            "--cascade-to",
            shuttle.to_str().unwrap(),
        ],
    );
    let app_id = sbx.credentials().app_id.clone();
    let card2 = card.clone();
    // Reads `--json` as it comes: the card's folder goes the moment it is released.
    let (status, events, stderr) = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_card-ingest"))
            .args(&args)
            .env("ICONIK_APP_ID", app_id)
            .env("ICONIK_AUTH_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start card-ingest");
        let mut err = child.stderr.take().unwrap();
        let err_reader = std::thread::spawn(move || {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut err, &mut s).map(|_| s)
        });
        let mut events: Vec<Value> = Vec::new();
        for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
            let Ok(v) = serde_json::from_str::<Value>(&line.unwrap()) else {
                continue;
            };
            if v["event"] == "card_released" {
                std::fs::remove_dir_all(&card2).expect("delete the released card");
            }
            events.push(v);
        }
        let status = child.wait().unwrap();
        (status, events, err_reader.join().unwrap().unwrap())
    })
    .await
    .unwrap();
    assert!(status.success(), "{stderr}");
    assert!(!card.exists(), "the card was deleted at its release");

    let released: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "card_released")
        .collect();
    assert_eq!(released.len(), 1, "{events:?}");
    assert_eq!(released[0]["card"], card.display().to_string());
    assert_eq!(released[0]["from"], raid.display().to_string());
    // Released before the later tier and before the last clip was registered.
    let at = |pred: &dyn Fn(&Value) -> bool| events.iter().position(pred);
    let released_at = at(&|e| e["event"] == "card_released").unwrap();
    let last_clip = events
        .iter()
        .rposition(|e| e["event"] == "clip_finished")
        .expect("clips finished");
    assert!(released_at < last_clip, "{events:?}");

    // Both tiers hold the card byte for byte; the later tier's history shows both transfers
    // (the RAID's from the card, its own from the RAID copy).
    let raid_copy = copy_in(&raid, "CARD_C");
    let shuttle_copy = copy_in(&shuttle, "CARD_C");
    assert_eq!(tree(&raid_copy), original);
    assert_eq!(tree(&shuttle_copy), original);
    let history = mhl::read_history(&shuttle_copy)
        .unwrap()
        .expect("shuttle MHL");
    assert_eq!(history.generations.len(), 2);
    let sources: Vec<Option<PathBuf>> = history
        .generations
        .iter()
        .map(|(_, g)| card_ingest::offload::recheck::source_from_comment(&g.creator))
        .collect();
    assert_eq!(sources, [Some(card.clone()), Some(raid_copy.clone())]);

    // Every clip registered (from the RAID copy), and the verdict covers both tiers.
    let state = sbx.state();
    assert_eq!(state["assets"].as_array().unwrap().len(), 2, "{state}");
    for f in state["files"].as_array().unwrap() {
        let dir = f["directory_path"].as_str().unwrap();
        assert!(
            raid.join(dir).join(f["name"].as_str().unwrap()).is_file(),
            "{f}"
        );
    }
    let finished = events
        .iter()
        .find(|e| e["event"] == "card_finished")
        .expect("card_finished");
    let evidence: Vec<&str> = finished["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for copy in [&raid_copy, &shuttle_copy] {
        assert!(
            evidence
                .iter()
                .any(|l| l.starts_with('✓') && l.contains(&format!("copy {}", copy.display()))),
            "{evidence:?}"
        );
    }
    assert_eq!(finished["safe_to_erase"], true, "{evidence:?}");
}
