//! The clip graph at card scale, end to end against the sandbox over loopback on a generated
//! 20-clip P2 card: the exact number of iconik calls (with and without local proxies), the
//! encode running beside the registration calls (journal timestamps, sandbox latency), clips
//! completing in card order, and Cancel stopping every lane (then a re-run completes without
//! duplicates).

use crate::util::{self, canonical, copy_tree, tempdir};
use card_ingest::iconik::retry::Backoff;
use card_ingest::iconik::upload::{UploadConfig, UploadHttp};
use card_ingest::iconik::{Client, Credentials};
use card_ingest::ingest::journal::JournalStore;
use card_ingest::ingest::{
    CardJob, CardOutcome, ClipRecord, Engine, EventKind, EventSink, IngestOptions, ProxyMode, Step,
    StepState,
};
use card_ingest::media::{Tools, tools::find_on_path};
use card_ingest::sample::{self, SampleOptions};
use card_ingest::sandbox::{self, SandboxConfig, SandboxHandle};
use card_ingest::scan::{self, ScanReport};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const TOKEN: &str = "tok-pipeline-7";
const CLIPS: usize = 20;
/// Member files of a generated P2 clip: video, 4 audio, clip XML, icon, camera proxy.
const FILES_PER_CLIP: usize = 8;

/// The 20-clip card, generated once (1 s clips).
fn master() -> &'static Path {
    static CARD: OnceLock<PathBuf> = OnceLock::new();
    CARD.get_or_init(|| {
        util::require_tool("ffmpeg");
        util::require_tool("mediainfo");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("pipeline-master-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove old master");
        }
        let opts = SampleOptions {
            clip_seconds: 1,
            ..SampleOptions::default()
        };
        sample::generate_p2_complete(&dir, CLIPS as u32, &opts).expect("generate P2 card");
        canonical(&dir)
    })
}

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    card: PathBuf,
    journal: PathBuf,
    proxies: PathBuf,
}

fn setup() -> Setup {
    let dir = tempdir();
    let root = canonical(dir.path());
    let card = root.join("CARD_P");
    copy_tree(master(), &card);
    Setup {
        journal: root.join("journal"),
        // A fresh proxy folder: every clip really encodes.
        proxies: root.join("proxies"),
        _dir: dir,
        root,
        card,
    }
}

async fn start_sandbox(mount: &Path, latency: Duration) -> SandboxHandle {
    let mut config = SandboxConfig {
        spec_dir: None,
        // Jobs finish at once: one poll per keyframe job, so the call count is exact.
        job_delay: Duration::ZERO,
        latency,
        mount_point: mount.display().to_string(),
        ..SandboxConfig::default()
    };
    config.credentials.token = TOKEN.to_owned();
    sandbox::spawn(config).await.expect("sandbox starts")
}

fn scan_card(card: &Path) -> ScanReport {
    let report = scan::scan(&[card.to_path_buf()], &Tools::detect()).expect("scan");
    assert_eq!(report.clips.len(), CLIPS);
    report
}

fn engine(sbx: &SandboxHandle, s: &Setup, proxy: ProxyMode) -> Engine {
    let client = Client::new(
        sbx.base_url(),
        Credentials::new(sbx.credentials().app_id.clone(), TOKEN),
    )
    .expect("client");
    let mut options = IngestOptions::new("Sandbox originals", s.root.clone(), s.proxies.clone());
    options.retry = Backoff::new(Duration::from_millis(10), Duration::from_millis(100));
    options.upload_chunk_bytes = 256 * 1024;
    options.max_calls_per_second = 1000;
    options.proxy = proxy;
    // These tests count the seed flow's calls exactly; the Jobs page's own budget is checked
    // in `jobs_page`.
    options.iconik_job = false;
    Engine {
        client,
        upload: UploadHttp::new(&UploadConfig::default()).expect("upload client"),
        tools: Tools::detect(),
        ffmpeg: find_on_path("ffmpeg"),
        store: JournalStore::at(&s.journal),
        options,
        offload_after_copy: None,
    }
}

fn job(report: &ScanReport) -> CardJob {
    CardJob::new(report.cards[0].clone(), report.clips.clone(), &report.cards)
}

async fn run(engine: &Engine, job: CardJob, cancel: Arc<AtomicBool>) -> CardOutcome {
    engine
        .run_card(job, EventSink::none(), None, cancel)
        .await
        .expect("card job runs")
}

/// iconik API requests (uploads to the signed storage URL are not iconik calls).
fn api_calls(sbx: &SandboxHandle) -> Vec<(String, String)> {
    sbx.requests()
        .iter()
        .filter_map(|r| {
            let path = r["path"].as_str()?;
            path.starts_with("/API/").then(|| {
                (
                    r["method"].as_str().unwrap_or("").to_owned(),
                    path.to_owned(),
                )
            })
        })
        .collect()
}

fn count(calls: &[(String, String)], method: &str, part: &str) -> usize {
    calls
        .iter()
        .filter(|(m, p)| m == method && p.contains(part))
        .count()
}

fn objects(sbx: &SandboxHandle, kind: &str) -> usize {
    sbx.state()[kind].as_array().map_or(0, Vec::len)
}

/// The clips' records in card order.
fn in_card_order<'a>(out: &'a CardOutcome, report: &ScanReport) -> Vec<&'a ClipRecord> {
    report
        .clips
        .iter()
        .map(|sc| &out.record.clips[&sc.clip.id])
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_20_clip_card_makes_the_seed_flow_calls_plus_one_per_clip() {
    // The seed flow (iconik-api.md §11) per clip: asset, format, file set, one file record per
    // member file; with a local proxy also the proxy record, close, keyframe request and one
    // job poll. We add one call per clip, the MD5 look-up of its main file; the card adds the
    // storage look-up, ONE search for all 20 external ids and ONE listing of the clips' folder.
    let seed = 3 + FILES_PER_CLIP;
    let card_level = 3;
    for (proxy, seed_per_clip) in [(ProxyMode::None, seed), (ProxyMode::Local, seed + 4)] {
        let s = setup();
        let sbx = start_sandbox(&s.root, Duration::ZERO).await;
        let report = scan_card(&s.card);
        let out = run(
            &engine(&sbx, &s, proxy),
            job(&report),
            Arc::new(AtomicBool::new(false)),
        )
        .await;
        assert!(out.all_complete(), "{proxy:?}: {:#?}", out.record);
        let calls = api_calls(&sbx);
        let ctx = format!("{proxy:?}: {calls:#?}");
        assert_eq!(count(&calls, "POST", "/search"), 1, "{ctx}");
        assert_eq!(
            count(&calls, "GET", "/storages/"),
            2,
            "{ctx}: list + folder"
        );
        assert_eq!(count(&calls, "GET", "/files/checksum/"), CLIPS, "{ctx}");
        assert_eq!(count(&calls, "POST", "/assets/v1/assets"), CLIPS, "{ctx}");
        assert_eq!(
            count(&calls, "POST", "/files/v1/assets/") - count(&calls, "POST", "/keyframes"),
            CLIPS * (2 + FILES_PER_CLIP) + if proxy == ProxyMode::Local { CLIPS } else { 0 },
            "{ctx}: format, file set, files (and proxy) per clip"
        );
        if proxy == ProxyMode::Local {
            assert_eq!(count(&calls, "PATCH", "/proxies/"), CLIPS, "{ctx}: close");
            assert_eq!(count(&calls, "POST", "/keyframes"), CLIPS, "{ctx}");
            assert_eq!(
                count(&calls, "GET", "/jobs/"),
                CLIPS,
                "{ctx}: one poll each"
            );
            assert_eq!(
                count(&calls, "GET", "/proxies/"),
                0,
                "{ctx}: no read-back of a proxy just made"
            );
            assert_eq!(objects(&sbx, "proxies"), CLIPS);
        }
        assert_eq!(
            calls.len(),
            card_level + CLIPS * (seed_per_clip + 1),
            "{ctx}: exact total"
        );
        assert_eq!(objects(&sbx, "assets"), CLIPS);
        assert_eq!(objects(&sbx, "files"), CLIPS * FILES_PER_CLIP);
    }
}

fn started(c: &ClipRecord, step: Step) -> chrono::DateTime<chrono::Utc> {
    c.steps[&step].started.expect("step started")
}

fn finished(c: &ClipRecord, step: Step) -> chrono::DateTime<chrono::Utc> {
    c.steps[&step].finished.expect("step finished")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_encode_runs_beside_registration_and_first_clips_complete_first() {
    let s = setup();
    let sbx = start_sandbox(&s.root, Duration::from_millis(50)).await;
    let report = scan_card(&s.card);
    let out = run(
        &engine(&sbx, &s, ProxyMode::Local),
        job(&report),
        Arc::new(AtomicBool::new(false)),
    )
    .await;
    assert!(out.all_complete(), "{:#?}", out.record);
    let clips = in_card_order(&out, &report);
    let first = clips[0];
    // The encode needs no iconik id: clip 1's starts at once, beside its checksum, while its
    // asset (≥ one 50 ms call after the checksum) and file records are still being made.
    assert!(
        started(first, Step::Proxy) < finished(first, Step::CreateAsset),
        "proxy started {} but the asset finished {}",
        started(first, Step::Proxy),
        finished(first, Step::CreateAsset)
    );
    assert!(started(first, Step::Proxy) < finished(first, Step::CreateFiles));
    // Each encode left the report's poster beside its proxy (a second output, no extra run).
    for c in &clips {
        let proxy = c.proxy_path.as_ref().expect("proxy recorded");
        let poster = std::fs::read(proxy.with_extension("poster.jpg")).expect("poster beside");
        assert_eq!(&poster[..2], &[0xFF, 0xD8], "{} poster is a JPEG", c.name);
    }
    // The proxy record joins both branches.
    for c in &clips {
        assert!(started(c, Step::CreateProxy) >= finished(c, Step::Proxy));
        assert!(started(c, Step::CreateProxy) >= finished(c, Step::CreateFiles));
    }
    // One encode at a time: a clip's proxy step starts once the CPU lane is its, and the
    // intervals never overlap. Card order: clip 1 is complete before clip 20.
    let mut encodes: Vec<_> = clips
        .iter()
        .map(|c| (started(c, Step::Proxy), finished(c, Step::Proxy), &c.name))
        .collect();
    encodes.sort();
    for w in encodes.windows(2) {
        assert!(w[0].1 <= w[1].0, "{} encoded while {} was", w[1].2, w[0].2);
    }
    let last = clips[CLIPS - 1];
    assert!(
        finished(first, Step::Keyframes) < finished(last, Step::Keyframes),
        "clip 1 completes before clip 20"
    );
    assert!(
        finished(first, Step::Keyframes) < started(last, Step::CreateProxy),
        "clip 1 is complete before clip 20 even has its proxy record"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_every_lane_and_a_rerun_completes_without_duplicates() {
    let s = setup();
    let sbx = start_sandbox(&s.root, Duration::from_millis(40)).await;
    let report = scan_card(&s.card);
    let eng = engine(&sbx, &s, ProxyMode::Local);
    let mut first = eng.clone();
    // One file hashed at a time: the disk lane has clips waiting when Cancel comes.
    first.options.io_concurrency = 1;
    // Clip 1's encode holds the CPU lane until Cancel kills it, however slow the machine.
    first.ffmpeg = Some(slow_starting_ffmpeg(&s.root.join("slow-bin")));
    // Cancel in the engine's own task, right when clip 1's encode starts: the CPU lane is
    // busy, the network lane has the registrations queued, later clips still wait for the
    // disk lane. (A listener on a channel reacted some time later, and on a loaded machine
    // the lanes had moved on by then.)
    let cancel = Arc::new(AtomicBool::new(false));
    let first_clip = report.clips[0].clip.id.clone();
    // Checksums begun before and after Cancel: the disk lane may have finished the card first
    // on a fast machine (nothing left to stop), but none may begin after Cancel.
    let sums_before = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sums_after = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sink = {
        let (cancel, before, after) = (cancel.clone(), sums_before.clone(), sums_after.clone());
        EventSink::call(move |e| {
            if e.step == Some(Step::Checksum) && e.kind == EventKind::Started {
                let n = if cancel.load(Ordering::Relaxed) {
                    &after
                } else {
                    &before
                };
                n.fetch_add(1, Ordering::Relaxed);
            }
            if e.clip_id.as_deref() == Some(first_clip.as_str())
                && e.step == Some(Step::Proxy)
                && e.kind == EventKind::Started
            {
                cancel.store(true, Ordering::Relaxed);
            }
        })
    };
    let run = {
        let (job, cancel) = (job(&report), cancel.clone());
        tokio::spawn(async move {
            first
                .run_card(job, sink, None, cancel)
                .await
                .expect("card job runs")
        })
    };
    let out = run.await.expect("job task");
    assert!(out.cancelled);
    assert!(!out.all_complete());
    let clips = in_card_order(&out, &report);
    let state = |c: &ClipRecord, step| c.step(step);
    let never_started = |step| {
        clips
            .iter()
            .filter(|c| state(c, step) == StepState::Pending)
            .count()
    };
    assert!(
        never_started(Step::CreateAsset) > 0,
        "network lane: queued clips never started"
    );
    assert_eq!(
        never_started(Step::Proxy),
        CLIPS - 1,
        "cpu lane: only clip 1's encode (running when Cancel came) began"
    );
    assert_eq!(
        sums_after.load(Ordering::Relaxed),
        0,
        "disk lane: no checksum began after Cancel"
    );
    assert_eq!(
        never_started(Step::Checksum),
        CLIPS - sums_before.load(Ordering::Relaxed),
        "disk lane: the clips still queued for their checksum never started"
    );
    assert!(
        clips.iter().all(|c| !c.is_complete()),
        "no clip ran to the end after Cancel"
    );
    assert!(
        clips
            .iter()
            .filter(|c| matches!(state(c, Step::Proxy), StepState::Done))
            .count()
            <= 1,
        "no encode began after Cancel"
    );
    assert!(
        clips
            .iter()
            .all(|c| !matches!(state(c, Step::Checksum), StepState::Failed { .. })),
        "cancel is not a failure"
    );
    // Resume: everything completes, nothing is created twice.
    let again = run_card_again(&eng, &report).await;
    assert!(again.all_complete(), "{:#?}", again.record);
    assert_eq!(objects(&sbx, "assets"), CLIPS);
    assert_eq!(objects(&sbx, "formats"), CLIPS);
    assert_eq!(objects(&sbx, "file_sets"), CLIPS);
    assert_eq!(objects(&sbx, "files"), CLIPS * FILES_PER_CLIP);
    assert_eq!(objects(&sbx, "proxies"), CLIPS);
    let closed = sbx.state()["proxies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "CLOSED")
        .count();
    assert_eq!(closed, CLIPS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_already_in_iconik_spends_no_encode_on_it() {
    let (s, sbx, report, _first) = ingested_once().await;
    // The same card again from another workstation: its own journal, an empty proxy folder.
    let (other, again) = ingest_elsewhere(&sbx, &s, &s.card, &report, None).await;
    let clips = in_card_order(&again, &report);
    for c in &clips {
        assert!(c.duplicate_of.is_some(), "{} found in iconik", c.name);
        assert_eq!(c.asset_id, None, "{} not registered again", c.name);
    }
    // The card's batched look-up found every clip before any started: no encode at all.
    let made = mp4_count(&other.proxies);
    assert_eq!(made, 0, "proxies encoded for clips already in iconik");
    let skipped = clips
        .iter()
        .filter(|c| matches!(c.step(Step::Proxy), StepState::Skipped { .. }))
        .count();
    assert_eq!(skipped, CLIPS, "every proxy step skipped");
    for c in &clips {
        assert_eq!(
            c.steps.get(&Step::Proxy).and_then(|r| r.started),
            None,
            "{}",
            c.name
        );
    }
    assert_eq!(objects(&sbx, "assets"), CLIPS, "no second asset");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encode_started_before_an_md5_duplicate_verdict_is_stopped() {
    let (s, sbx, _report, first) = ingested_once().await;
    // The assets lose their external ids and the card moves: only the files' MD5 finds the
    // clips now, and that answer comes after the checksum, when the encode is already running.
    let client = Client::new(
        sbx.base_url(),
        Credentials::new(sbx.credentials().app_id.clone(), TOKEN),
    )
    .expect("client");
    for c in first.record.clips.values() {
        let patch = card_ingest::iconik::models::AssetPatch {
            external_id: Some(format!("renamed-{}", c.name)),
            ..Default::default()
        };
        client
            .assets()
            .patch(c.asset_id.expect("asset"), &patch)
            .await
            .expect("patch");
    }
    let moved = s.root.join("CARD_MOVED");
    copy_tree(&s.card, &moved);
    let report = scan_card(&moved);
    // Each encode takes ENCODE_DELAY before ffmpeg proper starts, so every MD5 verdict arrives
    // while its clip's encode is running, however loaded the machine: what the test checks
    // is the stop, not a race between a 1 s encode and one look-up call.
    let bin = s.root.join("slow-bin");
    let ffmpeg = slow_starting_ffmpeg(&bin);
    let (other, again) = ingest_elsewhere(&sbx, &s, &moved, &report, Some(ffmpeg)).await;
    let clips = in_card_order(&again, &report);
    for c in &clips {
        let why = c.duplicate_of.as_deref().unwrap_or_default();
        assert!(
            why.contains("checksum") || why.contains("MD5"),
            "{}: {why:?}",
            c.name
        );
        assert_eq!(c.asset_id, None, "{} not registered again", c.name);
    }
    assert_eq!(objects(&sbx, "assets"), CLIPS, "no second asset");
    // Clip 1's encode started at once and was killed at its verdict; a later clip's encode
    // either never started (settled before the CPU lane reached it) or was killed the same
    // way. Without the stop, clip 1's encode runs to its end and publishes a proxy.
    let made = mp4_count(&other.proxies);
    assert_eq!(made, 0, "proxies encoded for clips already in iconik");
    assert!(
        started_proxy_steps(&clips) >= 1,
        "clip 1's encode did start beside the checksum"
    );
}

/// A card ingested completely once (local proxies, 20 ms per call).
async fn ingested_once() -> (Setup, SandboxHandle, ScanReport, CardOutcome) {
    let s = setup();
    let sbx = start_sandbox(&s.root, Duration::from_millis(20)).await;
    let report = scan_card(&s.card);
    let first = run(
        &engine(&sbx, &s, ProxyMode::Local),
        job(&report),
        Arc::new(AtomicBool::new(false)),
    )
    .await;
    assert!(first.all_complete(), "{:#?}", first.record);
    (s, sbx, report, first)
}

/// `card` ingested again as from another workstation: its own journal and an empty proxy
/// folder, the same storage root and sandbox.
async fn ingest_elsewhere(
    sbx: &SandboxHandle,
    s: &Setup,
    card: &Path,
    report: &ScanReport,
    ffmpeg: Option<PathBuf>,
) -> (Setup, CardOutcome) {
    let other = Setup {
        journal: s.root.join("journal-2"),
        proxies: s.root.join("proxies-2"),
        _dir: tempdir(),
        root: s.root.clone(),
        card: card.to_path_buf(),
    };
    let mut eng = engine(sbx, &other, ProxyMode::Local);
    if let Some(f) = ffmpeg {
        eng.ffmpeg = Some(f);
    }
    let out = run(&eng, job(report), Arc::new(AtomicBool::new(false))).await;
    (other, out)
}

/// How long the slow-starting ffmpeg waits before each proxy encode.
const ENCODE_DELAY_S: u32 = 20;

/// A stand-in ffmpeg in `dir` that waits ENCODE_DELAY_S before a proxy encode (the calls with
/// `-progress`) and then runs the real one; the encoder probes go straight through. The wait's
/// `sleep` holds none of the runner's pipes, so killing the script ends the encode at once.
fn slow_starting_ffmpeg(dir: &Path) -> PathBuf {
    let real = util::require("ffmpeg");
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("ffmpeg");
    util::write_script(
        &path,
        &format!(
            "#!/bin/sh\n\
             case \" $* \" in *\" -progress \"*) sleep {ENCODE_DELAY_S} </dev/null >/dev/null 2>&1 ;; esac\n\
             exec \"{}\" \"$@\"\n",
            real.display()
        ),
    );
    path
}

/// Proxies published in `dir`.
fn mp4_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "mp4"))
                .count()
        })
        .unwrap_or(0)
}

fn started_proxy_steps(clips: &[&ClipRecord]) -> usize {
    clips
        .iter()
        .filter(|c| c.steps.get(&Step::Proxy).and_then(|r| r.started).is_some())
        .count()
}

async fn run_card_again(eng: &Engine, report: &ScanReport) -> CardOutcome {
    run(eng, job(report), Arc::new(AtomicBool::new(false))).await
}
