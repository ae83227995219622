//! The offload as a per-clip step on the disk lane: the card is copied clip by clip in card
//! order, each file verified right behind its copy, and a clip is registered as soon as its
//! own files are verified — not after the whole card — while a bad copy fails only its clip.

use crate::ingest::{TOKEN, count, engine, job, master, run, scan_card, setup, start_sandbox};
use crate::util::{canonical, copy_tree, tempdir};
use card_ingest::ingest::{Engine, OffloadHook, ProxyMode, Step, StepState};
use card_ingest::scan::ScanReport;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A 3-clip card outside the storage root, offloaded under it (`<storage>/originals`).
pub(crate) struct Offloaded {
    pub(crate) s: crate::ingest::Setup,
    _card_dir: tempfile::TempDir,
    pub(crate) card: PathBuf,
    pub(crate) report: ScanReport,
    pub(crate) storage: PathBuf,
}

pub(crate) fn offloaded() -> Offloaded {
    let s = setup(3);
    let card_dir = tempdir();
    let card = canonical(card_dir.path()).join("CARD_C");
    copy_tree(master(3), &card);
    let report = scan_card(&card);
    let storage = s.root.join("originals");
    std::fs::create_dir_all(&storage).unwrap();
    Offloaded {
        s,
        _card_dir: card_dir,
        card,
        report,
        storage,
    }
}

pub(crate) fn offload_engine(o: &Offloaded, sbx: &card_ingest::sandbox::SandboxHandle) -> Engine {
    let mut eng = engine(sbx, &o.s, TOKEN);
    eng.options.storage_root = o.storage.clone();
    eng.options.offload_to = Some(o.storage.clone());
    // Card and storage share this test's temp folder (one volume).
    eng.options.allow_same_volume = true;
    eng.options.proxy = ProxyMode::None;
    eng
}

/// Each clip's member files relative to the card, in card order.
fn clip_files(o: &Offloaded) -> Vec<Vec<PathBuf>> {
    o.report
        .clips
        .iter()
        .map(|sc| {
            sc.clip
                .files
                .iter()
                .map(|f| f.path.strip_prefix(&o.card).unwrap().to_path_buf())
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_clip_is_registered_while_the_last_clip_is_still_being_copied() {
    let o = offloaded();
    let sbx = start_sandbox(&o.s.root).await;
    let mut eng = offload_engine(&o, &sbx);
    let clips = clip_files(&o);
    let last_clip_file = clips.last().unwrap()[0].clone();
    // The copy of the last clip's first file holds until an asset exists in iconik (or 30 s):
    // a card-level offload (clips start after the whole card) never gets one meanwhile.
    let asset_seen = Arc::new(AtomicBool::new(false));
    let seen_while_copying = Arc::new(Mutex::new(None::<bool>));
    let copied = Arc::new(Mutex::new(Vec::<PathBuf>::new()));
    {
        let (asset_seen, seen_while_copying, copied) = (
            asset_seen.clone(),
            seen_while_copying.clone(),
            copied.clone(),
        );
        eng.offload_after_copy = Some(OffloadHook(Arc::new(move |p: &Path| {
            copied.lock().unwrap().push(p.to_path_buf());
            if p.ends_with(&last_clip_file) {
                let deadline = Instant::now() + Duration::from_secs(30);
                while !asset_seen.load(Ordering::SeqCst) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
                *seen_while_copying.lock().unwrap() = Some(asset_seen.load(Ordering::SeqCst));
            }
        })));
    }
    let done = Arc::new(AtomicBool::new(false));
    let watch = async {
        while !done.load(Ordering::SeqCst) {
            if count(&sbx.state(), "assets") > 0 {
                asset_seen.store(true, Ordering::SeqCst);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let ingest = async {
        let out = run(&eng, job(&o.report)).await;
        done.store(true, Ordering::SeqCst);
        out
    };
    let ((out, events), ()) = tokio::join!(ingest, watch);

    assert_eq!(
        *seen_while_copying.lock().unwrap(),
        Some(true),
        "an asset existed while the last clip's file was being copied"
    );
    // Journal timestamps say the same: clip 1's create_asset started before the last clip's
    // offload step finished.
    let rec = |i: usize| &out.record.clips[&o.report.clips[i].clip.id];
    let first_asset = rec(0).steps[&Step::CreateAsset].started.unwrap();
    let last_offload = rec(2).steps[&Step::Offload].finished.unwrap();
    assert!(
        first_asset < last_offload,
        "{first_asset} vs {last_offload}"
    );
    // Every clip registered, each offload step done with the copy's folder.
    let dest = out.record.offload_destination.clone().expect("offloaded");
    assert!(dest.starts_with(&o.storage));
    assert_eq!(count(&sbx.state(), "assets"), 3);
    for i in 0..3 {
        assert!(rec(i).failure().is_none(), "{:?}", rec(i).failure());
        assert_eq!(rec(i).step(Step::Offload), StepState::Done);
    }
    let offload_done: Vec<String> = events
        .iter()
        .filter(|e| e.step == Some(Step::Offload))
        .filter_map(|e| match &e.kind {
            card_ingest::ingest::EventKind::Done { detail } => detail.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(
        offload_done,
        vec![format!("copied and verified to {}", dest.display()); 3]
    );
    // One card-level bar over copy and check: it only grows, and ends full.
    let bar: Vec<(u64, u64)> = events
        .iter()
        .filter(|e| e.clip_id.is_none() && e.step == Some(Step::Offload))
        .filter_map(|e| match e.kind {
            card_ingest::ingest::EventKind::Progress {
                done_bytes,
                total_bytes,
                ..
            } => Some((done_bytes, total_bytes)),
            _ => None,
        })
        .collect();
    assert!(bar.windows(2).all(|w| w[0].0 <= w[1].0), "{bar:?}");
    assert!(bar.iter().all(|b| b.1 == bar[0].1), "{bar:?}");
    assert_eq!(bar.last().copied().map(|b| b.0), Some(bar[0].1));
    assert_eq!(bar[0].1, 2 * out.record.offload_copies[0].bytes);
    // The copies are recorded at the end (the report, the erase verdict and the MHL use them).
    assert_eq!(out.record.offload_copies.len(), 1);
    assert_eq!(out.mhl, Some(dest.join("ascmhl")));

    // The copy order is the card order by clip: clip 1's files, clip 2's, clip 3's, then the
    // files of no clip.
    let copied: Vec<PathBuf> = copied
        .lock()
        .unwrap()
        .iter()
        .map(|p| p.strip_prefix(&dest).unwrap().to_path_buf())
        .collect();
    let in_clips: Vec<PathBuf> = clips.iter().flatten().cloned().collect();
    assert_eq!(copied[..in_clips.len()], in_clips[..]);
    let rest = &copied[in_clips.len()..];
    assert!(!rest.is_empty(), "the card's index files are copied too");
    assert!(rest.iter().all(|p| !in_clips.contains(p)), "{rest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_copy_of_the_first_clip_fails_only_that_clip() {
    let o = offloaded();
    let sbx = start_sandbox(&o.s.root).await;
    let mut eng = offload_engine(&o, &sbx);
    let victim = clip_files(&o)[0][0].clone();
    let v = victim.clone();
    eng.offload_after_copy = Some(OffloadHook(Arc::new(move |p: &Path| {
        if p.ends_with(&v) {
            let mut b = std::fs::read(p).unwrap();
            let mid = b.len() / 2;
            b[mid] ^= 0xff;
            std::fs::write(p, b).unwrap();
        }
    })));
    let (out, _) = run(&eng, job(&o.report)).await;
    let rec = |i: usize| &out.record.clips[&o.report.clips[i].clip.id];
    let (step, err) = rec(0).failure().expect("the corrupted clip failed");
    assert_eq!(step, Step::Offload);
    let rel = victim.to_string_lossy().replace('\\', "/");
    assert!(
        err.contains(&format!(
            "the offloaded copy of {rel} differs from the card"
        )),
        "{err}"
    );
    // Its checksum never ran (the copy is refused before anything reads it again) and nothing
    // of it is registered.
    assert_eq!(rec(0).step(Step::Checksum), StepState::Pending);
    assert!(rec(0).asset_id.is_none());
    for i in 1..3 {
        assert!(rec(i).failure().is_none(), "{:?}", rec(i).failure());
        assert!(rec(i).asset_id.is_some());
        // Their hashes come from the copy pass and match the card.
        for f in &rec(i).files {
            assert_eq!(
                f.md5.as_deref(),
                Some(crate::ingest::md5_hex(&f.source).as_str())
            );
        }
    }
    let st = sbx.state();
    assert_eq!(count(&st, "assets"), 2);
    // The card-level results are still recorded: the failed file keeps the card from being
    // safe to erase.
    assert_eq!(out.record.offload_copies.len(), 1);
    assert_eq!(out.record.offload_copies[0].failed, vec![rel]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offload_that_stops_fails_the_waiting_clips_naming_their_file() {
    let o = offloaded();
    let sbx = start_sandbox(&o.s.root).await;
    let mut eng = offload_engine(&o, &sbx);
    let clips = clip_files(&o);
    let (trigger, planted) = (clips[1][0].clone(), clips[2][0].clone());
    // Once clip 2's first file is copied, a foreign file appears where clip 3's copy goes:
    // the offload refuses to overwrite it and stops there.
    let p2 = planted.clone();
    eng.offload_after_copy = Some(OffloadHook(Arc::new(move |p: &Path| {
        if p.ends_with(&trigger) {
            let dest = p.ancestors().nth(trigger.components().count()).unwrap();
            let foreign = dest.join(&p2);
            std::fs::create_dir_all(foreign.parent().unwrap()).unwrap();
            std::fs::write(foreign, b"someone else's file").unwrap();
        }
    })));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let err = eng
        .run_card(
            job(&o.report),
            card_ingest::ingest::EventSink::new(tx),
            None,
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect_err("the offload failed");
    assert!(err.to_string().contains("refusing to overwrite"), "{err}");
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    // Clip 3 waited for its copy and failed with the file named; it was never registered.
    let clip3 = &o.report.clips[2].clip;
    let failed: Vec<String> = events
        .iter()
        .filter(|e| e.clip_id.as_deref() == Some(clip3.id.as_str()))
        .filter(|e| e.step == Some(Step::Offload))
        .filter_map(|e| match &e.kind {
            card_ingest::ingest::EventKind::Failed { error, .. } => Some(error.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 1, "{events:?}");
    let source = o.card.join(&planted);
    assert!(
        failed[0].contains(&format!(
            "the offload stopped before {} was copied and verified",
            source.display()
        )),
        "{}",
        failed[0]
    );
    // Clips 1 and 2 were verified before the offload stopped: they are registered, clip 3 not.
    let st = sbx.state();
    let mut registered: Vec<&str> = st["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["external_id"].as_str())
        .collect();
    let mut first_two: Vec<&str> = o.report.clips[..2]
        .iter()
        .map(|sc| sc.clip.id.as_str())
        .collect();
    registered.sort_unstable();
    first_two.sort_unstable();
    assert_eq!(registered, first_two);
}
