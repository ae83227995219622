//! The ingest engine end to end over real loopback HTTP against the in-process sandbox, on
//! generated P2 cards: a complete 3-clip ingest, the fault matrix, SIGKILL + resume, an
//! unreadable member file, offload verification, manual retry, and token hygiene.

use crate::util::{self, canonical, copy_tree, ffprobe, tempdir};
use card_ingest::iconik::retry::Backoff;
use card_ingest::iconik::upload::{UploadConfig, UploadHttp};
use card_ingest::iconik::{Client, Credentials};
use card_ingest::ingest::journal::JournalStore;
use card_ingest::ingest::{
    CardJob, CardOutcome, Engine, EventKind, EventSink, IngestCommand, IngestEvent, IngestOptions,
    OffloadHook, Step, StepState,
};
use card_ingest::media::{Tools, tools::find_on_path};
use card_ingest::sample::{self, SampleOptions};
use card_ingest::sandbox::faults::{FaultRule, FaultSet};
use card_ingest::sandbox::{self, SandboxConfig, SandboxHandle};
use card_ingest::scan::{self, ScanReport};
use md5::{Digest, Md5};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub(crate) const TOKEN: &str = "tok-ingest-SECRET-4242";

/// Master cards generated once: 3 clips (1 s each) and 1 clip (4 s).
pub(crate) fn master(clips: u32) -> &'static Path {
    static THREE: OnceLock<PathBuf> = OnceLock::new();
    static ONE: OnceLock<PathBuf> = OnceLock::new();
    let cell = if clips == 3 { &THREE } else { &ONE };
    cell.get_or_init(|| {
        util::require_tool("ffmpeg");
        util::require_tool("mediainfo");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("ingest-master-{}-{clips}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove old master");
        }
        // The 1-clip card's proxy spans several 256 KiB upload chunks (the kill test needs that).
        let opts = SampleOptions {
            clip_seconds: if clips == 3 { 1 } else { 4 },
            ..SampleOptions::default()
        };
        sample::generate_p2_complete(&dir, clips, &opts).expect("generate P2 card");
        canonical(&dir)
    })
}

/// A proxy cache shared by every test (same card content → encoded once).
pub(crate) fn proxy_cache() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ingest-proxies-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("proxy cache dir");
    d
}

pub(crate) struct Setup {
    pub(crate) _dir: tempfile::TempDir,
    /// The storage root (holds `CARD_C/`).
    pub(crate) root: PathBuf,
    pub(crate) card: PathBuf,
    pub(crate) journal: PathBuf,
}

pub(crate) fn setup(clips: u32) -> Setup {
    setup_at(clips, "CARD_C")
}

/// A copy of the master card at `rel` under a fresh storage root.
pub(crate) fn setup_at(clips: u32, rel: &str) -> Setup {
    let dir = tempdir();
    let root = canonical(dir.path());
    let card = root.join(rel);
    copy_tree(master(clips), &card);
    let journal = root.join("journal");
    Setup {
        _dir: dir,
        root,
        card,
        journal,
    }
}

pub(crate) async fn start_sandbox(mount: &Path) -> SandboxHandle {
    let mut config = SandboxConfig {
        spec_dir: None,
        job_delay: Duration::from_millis(30),
        mount_point: mount.display().to_string(),
        ..SandboxConfig::default()
    };
    config.credentials.token = TOKEN.to_owned();
    sandbox::spawn(config).await.expect("sandbox starts")
}

pub(crate) fn scan_card(card: &Path) -> ScanReport {
    scan::scan(&[card.to_path_buf()], &Tools::detect()).expect("scan")
}

pub(crate) fn job(report: &ScanReport) -> CardJob {
    CardJob::new(report.cards[0].clone(), report.clips.clone(), &report.cards)
}

pub(crate) fn engine(sbx: &SandboxHandle, s: &Setup, token: &str) -> Engine {
    let client = Client::new(
        sbx.base_url(),
        Credentials::new(sbx.credentials().app_id.clone(), token),
    )
    .expect("client");
    let mut options = IngestOptions::new("Sandbox originals", s.root.clone(), proxy_cache());
    options.retry = Backoff::new(Duration::from_millis(10), Duration::from_millis(100));
    options.retry.low_remaining = 5;
    options.retry.per_missing_request = Duration::from_millis(10);
    options.upload_chunk_bytes = 256 * 1024;
    options.max_calls_per_second = 1000;
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

/// The card job of `report` run by `engine` in a task of its own, events to `sink`.
pub(crate) fn spawn_run(
    engine: Engine,
    report: &ScanReport,
    sink: EventSink,
) -> tokio::task::JoinHandle<Result<CardOutcome, card_ingest::ingest::IngestError>> {
    let job = job(report);
    tokio::spawn(async move {
        engine
            .run_card(job, sink, None, Arc::new(AtomicBool::new(false)))
            .await
    })
}

pub(crate) async fn run(engine: &Engine, job: CardJob) -> (CardOutcome, Vec<IngestEvent>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let out = engine
        .run_card(
            job,
            EventSink::new(tx),
            None,
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect("card job runs");
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    (out, events)
}

pub(crate) fn md5_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read file");
    Md5::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The records of `kind` in the sandbox state that belong to `asset_id`.
fn of_asset<'a>(state: &'a Value, kind: &str, asset_id: &str) -> Vec<&'a Value> {
    state[kind]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["asset_id"] == asset_id)
        .collect()
}

/// The string field `key` of every object in a JSON list.
fn field_strs<'a>(list: &'a Value, key: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|o| o[key].as_str().unwrap())
        .collect()
}

pub(crate) fn count(state: &Value, kind: &str) -> usize {
    state[kind].as_array().map_or(0, Vec::len)
}

/// No duplicates: exactly `clips` assets/formats/file sets/proxies and 8 files per clip.
fn assert_no_duplicates(sbx: &SandboxHandle, clips: usize, context: &str) {
    let st = sbx.state();
    assert_eq!(count(&st, "assets"), clips, "{context}: assets");
    assert_eq!(count(&st, "formats"), clips, "{context}: formats");
    assert_eq!(count(&st, "file_sets"), clips, "{context}: file sets");
    assert_eq!(count(&st, "files"), clips * 8, "{context}: files");
    assert_eq!(count(&st, "proxies"), clips, "{context}: proxies");
}

/// Every request with a body validated against the spec.
pub(crate) fn assert_all_validated(sbx: &SandboxHandle) {
    let reqs = sbx.requests();
    let mut with_body = 0;
    for r in &reqs {
        let path = r["path"].as_str().unwrap_or("");
        if path.starts_with("/API/")
            && matches!(r["method"].as_str(), Some("POST" | "PATCH" | "PUT"))
        {
            with_body += 1;
            assert_eq!(r["validation"]["valid"], true, "invalid request: {r}");
            assert_eq!(
                r["validation"]["source"], "spec",
                "not checked against the spec: {r}"
            );
        }
    }
    assert!(with_body >= 5, "only {with_body} writes recorded");
}

/// The CLI ingest's scan (`scan_streaming`): clips are grouped at once and described in the
/// background, so clip 1 is registered while MediaInfo still reads the last clip (a stand-in
/// `mediainfo` holds that clip's run 3 s), and each clip takes the pool's description (one
/// MediaInfo run a clip) with the title it gives ("Take N", the clip XML's user clip name;
/// the provisional title is the clip name).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_scan_registers_clip_1_while_the_last_clip_is_still_described() {
    let s = setup(3);
    let sbx = start_sandbox(&s.root).await;
    let last = scan_card(&s.card).clips[2].clip.name.clone();
    let bin = s.root.join("slow-mediainfo");
    std::fs::create_dir_all(&bin).unwrap();
    let log = bin.join("calls.log");
    let wrapper = bin.join("mediainfo");
    util::write_script(
        &wrapper,
        &format!(
            "#!/bin/sh\n\
             case \"$*\" in *VIDEO/{last}.MXF*) echo \"start {last}\" >> \"{log}\"; sleep 3 ;; esac\n\
             \"{real}\" \"$@\"; rc=$?\n\
             case \"$*\" in *VIDEO/{last}.MXF*) echo \"end $(date +%s.%N)\" >> \"{log}\" ;; esac\n\
             exit $rc\n",
            log = log.display(),
            real = util::require("mediainfo").display(),
        ),
    );
    let mut tools = Tools::detect();
    tools.mediainfo = Some(wrapper);

    let report = scan::scan_streaming(std::slice::from_ref(&s.card), &tools, |e| {
        panic!("issue: {e:?}")
    })
    .expect("scan");
    assert_eq!(report.clips.len(), 3);
    assert!(
        report
            .clips
            .iter()
            .all(|c| c.description.is_none() && c.pending.is_some())
    );
    let mut eng = engine(&sbx, &s, TOKEN);
    eng.tools = tools;
    let (out, _) = run(&eng, job(&report)).await;
    assert!(out.all_complete(), "{:#?}", out.record);
    assert_no_duplicates(&sbx, 3, "3-clip card, streaming scan");

    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls.matches("start ").count(),
        1,
        "one MediaInfo run for {last}: {calls}"
    );
    let described: f64 = calls
        .lines()
        .find_map(|l| l.strip_prefix("end "))
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| panic!("{calls}"));
    let first = &out.record.clips[&report.clips[0].clip.id];
    let registered = first.steps[&Step::CreateAsset]
        .finished
        .expect("clip 1 asset finished");
    let registered = registered.timestamp_nanos_opt().unwrap() as f64 / 1e9;
    assert!(
        registered < described,
        "clip 1's asset at {registered}, the last clip described at {described}"
    );
    let st = sbx.state();
    for (i, sc) in report.clips.iter().enumerate() {
        let want = format!("Take {}", i + 1);
        let rec = &out.record.clips[&sc.clip.id];
        assert_eq!(rec.title, want, "{}", sc.clip.name);
        let asset = st["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["external_id"] == sc.clip.id.as_str())
            .unwrap_or_else(|| panic!("no asset for {}", sc.clip.name));
        assert_eq!(asset["title"], want.as_str());
    }
}

/// A clip's file records go up to four at once. With 100 ms of latency a call answers no
/// sooner than 100 ms after it arrives, so one-after-another POSTs arrive at least 100 ms
/// apart: two arriving closer were in flight together, and no five within 100 ms shows the
/// bound of four. Every file is registered once, with its checksum.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clips_file_records_are_created_four_at_once() {
    let s = setup(1);
    let latency = Duration::from_millis(100);
    let mut config = SandboxConfig {
        latency,
        mount_point: s.root.display().to_string(),
        ..SandboxConfig::default()
    };
    config.credentials.token = TOKEN.to_owned();
    let sbx = sandbox::spawn(config).await.expect("sandbox starts");
    let report = scan_card(&s.card);
    let mut eng = engine(&sbx, &s, TOKEN);
    eng.options.proxy = card_ingest::ingest::ProxyMode::None;
    let (out, _) = run(&eng, job(&report)).await;
    assert!(out.all_complete(), "{:#?}", out.record);
    let members = report.clips[0].clip.files.len();
    let arrivals: Vec<chrono::DateTime<chrono::Utc>> = sbx
        .requests()
        .iter()
        .filter(|r| {
            r["method"] == "POST"
                && r["path"].as_str().is_some_and(|p| {
                    p.starts_with("/API/files/v1/assets/") && p.ends_with("/files/")
                })
        })
        .map(|r| r["time"].as_str().unwrap().parse().unwrap())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(arrivals.len(), members, "one POST per member file");
    let latency = chrono::Duration::from_std(latency).unwrap();
    let overlapping = arrivals
        .windows(2)
        .filter(|w| w[1] - w[0] < latency)
        .count();
    assert!(
        overlapping >= 1,
        "file POSTs one after another: {arrivals:?}"
    );
    assert!(
        arrivals.windows(5).all(|w| w[4] - w[0] >= latency),
        "more than four file POSTs in flight: {arrivals:?}"
    );
    let rec = out.record.clips.values().next().unwrap();
    assert!(
        rec.files
            .iter()
            .all(|f| f.file_id.is_some() && f.md5.is_some())
    );
    let st = sbx.state();
    assert_eq!(count(&st, "assets"), 1);
    assert_eq!(count(&st, "files"), members, "no file registered twice");
    let mut sums: Vec<_> = st["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["checksum"].as_str().unwrap_or_default().to_owned())
        .collect();
    let mut want: Vec<_> = rec.files.iter().map(|f| f.md5.clone().unwrap()).collect();
    sums.sort();
    want.sort();
    assert_eq!(sums, want, "each file with its own checksum");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_clip_p2_card_ingests_completely() {
    let s = setup(3);
    let sbx = start_sandbox(&s.root).await;
    let report = scan_card(&s.card);
    assert_eq!(report.clips.len(), 3);
    // Registered in place, with the ASC MHL the operator asked for (`--mhl-in-place`).
    let mut eng = engine(&sbx, &s, TOKEN);
    eng.options.write_manifest = true;
    let (out, events) = run(&eng, job(&report)).await;
    assert!(out.all_complete(), "{:#?}", out.record);
    assert_no_duplicates(&sbx, 3, "3-clip card");
    assert_all_validated(&sbx);
    let st = sbx.state();
    for sc in &report.clips {
        let clip = &sc.clip;
        let asset = st["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["external_id"] == clip.id.as_str())
            .unwrap_or_else(|| panic!("no asset for {}", clip.name));
        let asset_id = asset["id"].as_str().unwrap();
        let n = &clip.name[2..4];
        assert_eq!(
            asset["title"],
            format!("Take {}", n.trim_start_matches('0'))
        );
        let formats = of_asset(&st, "formats", asset_id);
        assert_eq!(formats.len(), 1);
        assert_eq!(formats[0]["name"], "ORIGINAL");
        let comps = field_strs(&formats[0]["components"], "id");
        let kinds = field_strs(&formats[0]["components"], "type");
        assert_eq!(
            kinds.iter().filter(|k| **k == "VIDEO").count(),
            1,
            "{kinds:?}"
        );
        assert_eq!(
            kinds.iter().filter(|k| **k == "AUDIO").count(),
            4,
            "{kinds:?}"
        );
        let sets = of_asset(&st, "file_sets", asset_id);
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0]["base_dir"], "CARD_C/CONTENTS");
        assert_eq!(sets[0]["name"], format!("{}.MXF", clip.name));
        let set_comps: Vec<&str> = sets[0]["component_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert_eq!(set_comps, comps);
        let files = of_asset(&st, "files", asset_id);
        assert_eq!(
            files.len(),
            8,
            "every member file: video, 4 audio, clip XML, icon, camera proxy"
        );
        for member in &clip.files {
            let name = member
                .path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let f = files
                .iter()
                .find(|f| f["original_name"] == name.as_str())
                .unwrap_or_else(|| panic!("{name} not registered"));
            let dir = member
                .path
                .parent()
                .unwrap()
                .strip_prefix(&s.root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            assert_eq!(f["name"], name.as_str());
            assert_eq!(f["directory_path"], dir.as_str());
            assert_eq!(f["size"], std::fs::metadata(&member.path).unwrap().len());
            assert_eq!(f["checksum"], md5_hex(&member.path));
            assert_eq!(f["status"], "CLOSED");
            assert_eq!(f["file_set_id"], sets[0]["id"]);
            assert!(
                f["file_date_modified"]
                    .as_str()
                    .is_some_and(|d| d.contains('T'))
            );
        }
        let proxies = of_asset(&st, "proxies", asset_id);
        assert_eq!(proxies.len(), 1);
        assert_eq!(proxies[0]["status"], "CLOSED");
        let url = proxies[0]["url"].as_str().expect("closed proxy url");
        let key = url.split("/sandbox/objects/").nth(1).expect("object key");
        let bytes = sbx.object_bytes(key).expect("proxy bytes stored");
        let tmp = s.root.join(format!("{}.mp4", clip.name));
        std::fs::write(&tmp, &bytes).unwrap();
        let probe = ffprobe(&tmp, &[]);
        let streams = probe["streams"].as_array().unwrap();
        let v = streams
            .iter()
            .find(|s| s["codec_type"] == "video")
            .expect("video stream");
        assert_eq!(v["codec_name"], "h264");
        assert!(v["width"].as_u64().unwrap() <= 1280 && v["height"].as_u64().unwrap() <= 720);
        assert_eq!(v["has_b_frames"], 0);
        let a = streams
            .iter()
            .find(|s| s["codec_type"] == "audio")
            .expect("audio stream");
        assert_eq!(a["channels"], 2);
        let kf = of_asset(&st, "keyframes", asset_id).len();
        assert_eq!(kf, 2, "keyframe map + poster");
    }
    // Events: every step of every clip started and ended.
    let done = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Done { .. }))
        .count();
    assert_eq!(
        done,
        3 * 10,
        "3 clips × 10 done steps (offload, collection skipped)"
    );
    // The in-place manifest lists the 24 files.
    let mhl = out.mhl.expect("manifest written");
    let gens: Vec<_> = std::fs::read_dir(&mhl)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "mhl"))
        .collect();
    assert_eq!(gens.len(), 1);
    let text = std::fs::read_to_string(gens[0].path()).unwrap();
    assert_eq!(text.matches("<hash>").count(), 24);
    // Running again resumes: nothing new is created.
    let before = sbx.requests().len();
    let (again, _) = run(&engine(&sbx, &s, TOKEN), job(&report)).await;
    assert!(again.all_complete());
    assert_no_duplicates(&sbx, 3, "re-run");
    let new_writes = sbx.requests()[before..]
        .iter()
        .filter(|r| {
            r["method"] == "POST" && r["path"].as_str().unwrap_or("").starts_with("/API/files")
        })
        .count();
    assert_eq!(new_writes, 0, "a finished card makes no new objects");
}

fn rule(method: &str, path: &str) -> FaultRule {
    FaultRule {
        method: method.into(),
        path: path.into(),
        times: Some(1),
        ..FaultRule::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix_ends_complete_without_duplicates() {
    let s = setup(1);
    let report = scan_card(&s.card);
    assert_eq!(report.clips.len(), 1);
    let calls = [
        ("POST", "/API/assets/v1/assets/"),
        ("POST", "/API/files/v1/assets/*/formats/"),
        ("POST", "/API/files/v1/assets/*/file_sets/"),
        ("POST", "/API/files/v1/assets/*/files/"),
        ("POST", "/API/files/v1/assets/*/proxies/"),
        ("PUT", "/upload/**"),
        ("PATCH", "/API/files/v1/assets/*/proxies/*/"),
        ("POST", "/API/files/v1/assets/*/proxies/*/keyframes/"),
    ];
    let started = std::time::Instant::now();
    let mut cells = 0;
    for (method, path) in calls {
        let upload = path.starts_with("/upload");
        let mut faults: Vec<(&str, FaultRule)> = vec![
            (
                "500",
                FaultRule {
                    status: Some(500),
                    ..rule(method, path)
                },
            ),
            (
                "503",
                FaultRule {
                    status: Some(503),
                    ..rule(method, path)
                },
            ),
            (
                "429",
                FaultRule {
                    status: Some(429),
                    ..rule(method, path)
                },
            ),
            (
                "lost",
                FaultRule {
                    drop_response_after_commit: true,
                    ..rule(method, path)
                },
            ),
            (
                "401",
                FaultRule {
                    status: Some(401),
                    ..rule(method, path)
                },
            ),
        ];
        if upload {
            faults.push((
                "reset",
                FaultRule {
                    reset_after_bytes: Some(100_000),
                    ..rule(method, path)
                },
            ));
            // Storage answers carry no iconik token: a 401 there is just a refused chunk.
            faults.retain(|(n, _)| *n != "401" && *n != "lost");
            faults.push((
                "lost",
                FaultRule {
                    drop_response_after_commit: true,
                    ..rule(method, path)
                },
            ));
        }
        for (name, fault) in faults {
            cells += 1;
            let context = format!("{method} {path} × {name}");
            let sbx = start_sandbox(&s.root).await;
            sbx.set_faults(FaultSet { rules: vec![fault] })
                .expect("faults");
            let journal = tempdir();
            let mut eng = engine(&sbx, &s, TOKEN);
            eng.store = JournalStore::at(journal.path());
            let t0 = std::time::Instant::now();
            let (out, _) = run(&eng, job(&report)).await;
            if std::env::var_os("INGEST_TIMINGS").is_some() {
                let c = out.record.clips.values().next().unwrap();
                let steps: Vec<String> = c
                    .steps
                    .iter()
                    .map(|(s, r)| format!("{s}={:.2}", r.duration_secs().unwrap_or(-1.0)))
                    .collect();
                eprintln!("{context}: {:.2} s {steps:?}", t0.elapsed().as_secs_f64());
            }
            if name == "401" && !upload {
                assert!(out.token_refused, "{context}: 401 must stop the job");
                let (_, err) = out
                    .record
                    .clips
                    .values()
                    .next()
                    .unwrap()
                    .failure()
                    .expect("failed step");
                assert!(err.contains("token was refused (401)"), "{context}: {err}");
                let (again, _) = run(&eng, job(&report)).await;
                assert!(
                    again.all_complete(),
                    "{context}: re-run {:#?}",
                    again.record
                );
            } else {
                assert!(out.all_complete(), "{context}: {:#?}", out.record);
            }
            assert_no_duplicates(&sbx, 1, &context);
            let fired = sbx
                .requests()
                .iter()
                .filter(|r| !r["fault"].is_null())
                .count();
            assert_eq!(fired, 1, "{context}: the fault fired once");
        }
    }
    assert_eq!(cells, 40);
    eprintln!(
        "fault matrix: {cells} cells in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_member_file_fails_only_its_clip() {
    let s = setup(3);
    let sbx = start_sandbox(&s.root).await;
    let report = scan_card(&s.card);
    // After the scan the second clip's audio channel 2 becomes a dangling symlink (card pulled
    // or file lost); chmod is no use as root.
    let victim = report.clips[1]
        .clip
        .files
        .iter()
        .find(|f| f.path.to_string_lossy().contains("AUDIO"))
        .unwrap()
        .path
        .clone();
    std::fs::remove_file(&victim).unwrap();
    std::os::unix::fs::symlink(s.root.join("nowhere.MXF"), &victim).unwrap();
    let (out, events) = run(&engine(&sbx, &s, TOKEN), job(&report)).await;
    assert!(!out.all_complete());
    let bad = &out.record.clips[&report.clips[1].clip.id];
    let (step, err) = bad.failure().expect("clip failed");
    assert_eq!(step, Step::Checksum);
    assert!(err.contains(&victim.display().to_string()), "{err}");
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Failed { error, .. } if error == &err))
    );
    for i in [0, 2] {
        assert!(out.record.clips[&report.clips[i].clip.id].is_complete());
    }
    assert_no_duplicates(&sbx, 2, "two good clips");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_retry_of_a_failed_step_completes() {
    let s = setup(1);
    let sbx = start_sandbox(&s.root).await;
    let report = scan_card(&s.card);
    sbx.set_faults(FaultSet {
        rules: vec![FaultRule {
            status: Some(400),
            ..rule("POST", "/API/files/v1/assets/*/file_sets/")
        }],
    })
    .unwrap();
    let eng = engine(&sbx, &s, TOKEN);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (ctx, crx) = tokio::sync::mpsc::unbounded_channel();
    let clip_id = report.clips[0].clip.id.clone();
    let j = job(&report);
    let task = tokio::spawn(async move {
        eng.run_card(
            j,
            EventSink::new(tx),
            Some(crx),
            Arc::new(AtomicBool::new(false)),
        )
        .await
    });
    // Wait for the failure, check the journal says so, then retry exactly that step.
    let mut failed_msg = None;
    while let Some(e) = rx.recv().await {
        if let EventKind::Failed { error, retryable } = &e.kind {
            assert_eq!(e.step, Some(Step::CreateFileSet));
            assert!(!retryable);
            failed_msg = Some(error.clone());
            break;
        }
    }
    let msg = failed_msg.expect("a Failed event");
    assert!(msg.contains("400"), "iconik's status in the message: {msg}");
    let journal_text: String = std::fs::read_dir(&s.journal)
        .unwrap()
        .flatten()
        // The snapshot and its log (the failure is a line of the log until the next snapshot).
        .filter(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x == "json" || x == "jsonl")
        })
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert!(
        journal_text.contains("\"state\": \"failed\"")
            || journal_text.contains("\"state\":\"failed\""),
        "journal records the failure"
    );
    ctx.send(IngestCommand::RetryStep {
        clip_id: clip_id.clone(),
        step: Step::CreateFileSet,
    })
    .unwrap();
    drop(ctx);
    let out = task.await.unwrap().expect("job");
    assert!(out.all_complete(), "{:#?}", out.record);
    assert_eq!(
        out.record.clips[&clip_id].steps[&Step::CreateFileSet].attempts,
        2
    );
    assert_no_duplicates(&sbx, 1, "manual retry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offload_copies_verifies_and_refuses_a_corrupted_copy() {
    // The card is outside the storage root; the copy goes under it.
    let o = crate::offload_lane::offloaded();
    let (s, card, report, storage) = (&o.s, &o.card, &o.report, &o.storage);
    let sbx = start_sandbox(&s.root).await;
    let mut eng = crate::offload_lane::offload_engine(&o, &sbx);
    // Flip bytes of clip 2's video copy between copy and verify.
    let victim = format!("{}.MXF", report.clips[1].clip.name);
    let v2 = victim.clone();
    eng.offload_after_copy = Some(OffloadHook(Arc::new(move |p: &Path| {
        if p.file_name().is_some_and(|n| n.to_string_lossy() == v2) {
            let mut b = std::fs::read(p).unwrap();
            let mid = b.len() / 2;
            b[mid] ^= 0xff;
            std::fs::write(p, b).unwrap();
        }
    })));
    let (out, _) = run(&eng, job(report)).await;
    let dest = out.record.offload_destination.clone().expect("offloaded");
    assert!(dest.starts_with(storage));
    // Byte-identical copies of every other file.
    for sc in &report.clips {
        for f in &sc.clip.files {
            let rel = f.path.strip_prefix(card).unwrap();
            let copy = dest.join(rel);
            if copy.file_name().unwrap().to_string_lossy() != victim {
                assert_eq!(
                    std::fs::read(&copy).unwrap(),
                    std::fs::read(&f.path).unwrap(),
                    "{}",
                    rel.display()
                );
            }
        }
    }
    let bad = &out.record.clips[&report.clips[1].clip.id];
    let (_, err) = bad.failure().expect("corrupted clip failed");
    assert!(err.contains(&victim) && err.contains("differs"), "{err}");
    assert!(bad.asset_id.is_none());
    let st = sbx.state();
    assert_eq!(
        count(&st, "assets"),
        2,
        "nothing registered for the corrupted clip"
    );
    for f in st["files"].as_array().unwrap() {
        assert!(
            f["directory_path"].as_str().unwrap().starts_with(
                &dest
                    .strip_prefix(storage)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            )
        );
        assert_ne!(f["original_name"], victim.as_str());
    }
}

fn run_bin_env(args: &[String], env: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_card-ingest"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run card-ingest")
}

/// The sandbox's App-ID and the test token, as the binary reads them.
const WITH_TOKEN: &[(&str, &str)] = &[
    ("ICONIK_APP_ID", "sandbox-app"),
    ("ICONIK_AUTH_TOKEN", TOKEN),
];

/// [`run_bin_env`] off the async runtime (the sandbox keeps serving meanwhile).
async fn run_bin_async(
    args: Vec<String>,
    env: &'static [(&'static str, &'static str)],
) -> std::process::Output {
    tokio::task::spawn_blocking(move || run_bin_env(&args, env))
        .await
        .expect("card-ingest run joins")
}

/// Delays every matching request by `ms` (so a kill lands inside that phase).
pub(crate) fn delay_every(method: &str, path: &str, ms: u64) -> FaultSet {
    FaultSet {
        rules: vec![FaultRule {
            method: method.into(),
            path: path.into(),
            delay_ms: Some(ms),
            ..FaultRule::default()
        }],
    }
}

fn bin_args(sbx: &SandboxHandle, s: &Setup, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "ingest".into(),
        s.card.display().to_string(),
        "--server".into(),
        sbx.base_url().into(),
        "--storage".into(),
        "Sandbox originals".into(),
        "--storage-root".into(),
        s.root.display().to_string(),
        "--journal-dir".into(),
        s.journal.display().to_string(),
    ];
    v.extend(extra.iter().map(|x| x.to_string()));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_never_reach_journal_transcript_logs_or_report() {
    let s = setup(1);
    let sbx = start_sandbox(&s.root).await;
    let transcript = s.root.join("transcript.sh");
    let args = bin_args(
        &sbx,
        &s,
        &["--transcript", transcript.to_str().unwrap(), "--json"],
    );
    let out = run_bin_async(
        args,
        &[
            ("ICONIK_APP_ID", "sandbox-app"),
            ("ICONIK_AUTH_TOKEN", TOKEN),
            ("CARD_INGEST_LOG", "debug"),
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("DEBUG"), "debug logs were captured");
    assert!(
        stdout
            .lines()
            .filter(|l| l.contains("\"event\":\"done\""))
            .count()
            >= 10
    );
    assert!(
        !stderr.contains(TOKEN) && !stdout.contains(TOKEN),
        "token in output"
    );
    let mut scanned = 0;
    for entry in walkdir::WalkDir::new(&s.root)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
    {
        let p = entry.path();
        if p.starts_with(&s.card) || p.extension().is_some_and(|x| x == "mp4") {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
        assert!(!text.contains(TOKEN), "token found in {}", p.display());
        scanned += 1;
    }
    assert!(
        scanned >= 2,
        "journal and report were checked ({scanned} files)"
    );
    assert_no_duplicates(&sbx, 1, "binary run");
}

/// How many metadata view PUTs the sandbox received.
fn view_puts(sbx: &SandboxHandle) -> usize {
    sbx.requests()
        .iter()
        .filter(|r| {
            r["method"] == "PUT" && r["path"].as_str().is_some_and(|p| p.contains("/views/"))
        })
        .count()
}

/// The upload PUTs (chunks) the sandbox received.
pub(crate) fn upload_puts(sbx: &SandboxHandle) -> Vec<Value> {
    sbx.requests()
        .into_iter()
        .filter(|r| {
            r["method"] == "PUT" && r["path"].as_str().unwrap_or("").starts_with("/upload/")
        })
        .collect()
}

pub(crate) fn put_bytes(sbx: &SandboxHandle) -> u64 {
    upload_puts(sbx)
        .iter()
        .map(|r| r["body"]["bytes"].as_u64().unwrap_or(0))
        .sum()
}

async fn kill_when(sbx: &SandboxHandle, args: Vec<String>, phase: impl Fn(&[Value]) -> bool) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_card-ingest"))
        .args(&args)
        .env("ICONIK_APP_ID", "sandbox-app")
        .env("ICONIK_AUTH_TOKEN", TOKEN)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start card-ingest");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if phase(&sbx.requests()) {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            let times: Vec<String> = sbx
                .requests()
                .iter()
                .filter(|r| r["method"] == "POST")
                .map(|r| format!("{} {} {}", r["time"], r["path"], r["status"]))
                .collect();
            panic!("finished before the kill point: {err}\n{times:#?}");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "kill point never reached"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
}

/// Clears the faults and runs the killed command again: it must finish and create nothing twice.
async fn resume_after_kill(sbx: &SandboxHandle, args: Vec<String>, context: &str) {
    sbx.set_faults(FaultSet::default()).unwrap();
    let out = run_bin_async(args, WITH_TOKEN).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{context}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_duplicates(sbx, 1, context);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_upload_and_file_registration_then_resume() {
    // During file registration.
    let s = setup(1);
    let sbx = start_sandbox(&s.root).await;
    sbx.set_faults(delay_every("POST", "/API/files/v1/assets/*/files/", 300))
        .unwrap();
    let args = bin_args(&sbx, &s, &["--upload-chunk-kib", "256"]);
    kill_when(&sbx, args.clone(), |r| {
        r.iter()
            .filter(|r| {
                r["method"] == "POST" && r["path"].as_str().unwrap_or("").ends_with("/files/")
            })
            .count()
            >= 2
    })
    .await;
    let files_before = count(&sbx.state(), "files");
    assert!(
        (1..8).contains(&files_before),
        "killed mid-registration ({files_before} files)"
    );
    resume_after_kill(&sbx, args, "after kill in file registration").await;

    // During the proxy upload (a fresh server, same card and proxy cache).
    let s = setup(1);
    let sbx = start_sandbox(&s.root).await;
    sbx.set_faults(delay_every("PUT", "/upload/**", 400))
        .unwrap();
    let args = bin_args(&sbx, &s, &["--upload-chunk-kib", "256"]);
    kill_when(&sbx, args.clone(), |r| {
        r.iter().any(|r| {
            r["method"] == "PUT"
                && r["path"].as_str().unwrap_or("").starts_with("/upload/")
                && r["status"].as_u64() == Some(308)
        })
    })
    .await;
    let sent_before = put_bytes(&sbx);
    resume_after_kill(&sbx, args, "after kill in upload").await;
    let proxy = &sbx.state()["proxies"][0];
    let size = proxy["size"].as_u64().expect("proxy size");
    let total_sent = put_bytes(&sbx);
    assert!(sent_before > 0);
    assert!(
        total_sent <= size + 256 * 1024,
        "re-sent more than one chunk: {total_sent} bytes for a {size}-byte proxy"
    );
}

/// A kill -9 storm (issues 6 and 21): the CLI on a 3-clip card is killed again and again, each
/// time a few more requests into its run (so kills land in the checksums, the calls, the
/// encodes, the uploads and the journal's own writes), every run resuming from the journal
/// the last one left; the run after the storm completes with nothing created twice and no
/// upload byte sent twice beyond a chunk per kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_storm_resumes_every_time_and_creates_nothing_twice() {
    let s = setup(3);
    let sbx = start_sandbox(&s.root).await;
    let args = bin_args(&sbx, &s, &["--upload-chunk-kib", "256"]);
    let mut kills = 0;
    // Kill points: this many new requests into each run (a 3-clip run makes ~50).
    for step in [2usize, 5, 3, 9, 4, 12, 7, 15] {
        let before = sbx.requests().len();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_card-ingest"))
            .args(&args)
            .env("ICONIK_APP_ID", "sandbox-app")
            .env("ICONIK_AUTH_TOKEN", TOKEN)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start card-ingest");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let finished = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if sbx.requests().len() >= before + step {
                break None;
            }
            assert!(std::time::Instant::now() < deadline, "run {kills} hangs");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        match finished {
            // It got to the end between two looks: the storm is over.
            Some(status) => {
                assert!(status.success(), "a run in the storm failed: {status}");
                break;
            }
            None => {
                child.kill().expect("SIGKILL");
                child.wait().expect("reaped");
                kills += 1;
            }
        }
    }
    assert!(kills >= 4, "only {kills} kills landed");
    let sent_in_storm = put_bytes(&sbx);
    let out = run_bin_async(args, WITH_TOKEN).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "after {kills} kills: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_duplicates(&sbx, 3, &format!("after {kills} kills"));
    let st = sbx.state();
    let proxies: u64 = st["proxies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["size"].as_u64().expect("proxy size"))
        .sum();
    let total_sent = put_bytes(&sbx);
    assert!(
        total_sent <= proxies + kills as u64 * 256 * 1024,
        "{total_sent} bytes sent for {proxies} bytes of proxies ({sent_in_storm} during the \
         storm, {kills} kills)"
    );
    // The last run leaves its journal as one snapshot (the log folded in, no lock held).
    let left: Vec<String> = std::fs::read_dir(&s.journal)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left.iter()
            .filter(|n| n.ends_with(".json") && !n.starts_with("card-ingest-report-"))
            .count(),
        1,
        "{left:?}"
    );
    assert!(
        left.iter()
            .all(|n| !n.ends_with(".jsonl") && !n.ends_with(".lock")),
        "{left:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_mode_iconik_asks_the_transcoder_for_single_file_clips() {
    let s = setup(1);
    let card = s.root.join("XAVC");
    sample::generate(sample::SampleKind::XavcS, &card, &SampleOptions::default())
        .expect("XAVC S card");
    let sbx = start_sandbox(&s.root).await;
    let report = scan_card(&card);
    let clips = report.clips.len();
    assert!(clips >= 1);
    let mut eng = engine(&sbx, &s, TOKEN);
    eng.options.proxy = card_ingest::ingest::ProxyMode::Iconik;
    let (out, _) = run(&eng, job(&report)).await;
    assert!(out.all_complete(), "{:#?}", out.record);
    for c in out.record.clips.values() {
        assert_eq!(c.step(Step::Proxy), StepState::Done);
        assert!(matches!(
            c.step(Step::UploadProxy),
            StepState::Skipped { .. }
        ));
    }
    let st = sbx.state();
    assert_eq!(count(&st, "assets"), clips);
    assert_eq!(
        count(&st, "proxies"),
        clips,
        "one proxy per asset, made by the transcoder"
    );
    assert_eq!(count(&st, "keyframes"), 2 * clips);
    let reqs = sbx.requests();
    let transcodes = reqs
        .iter()
        .filter(|r| {
            r["method"] == "POST"
                && r["path"].as_str().unwrap_or("").contains("/files/")
                && r["path"].as_str().unwrap_or("").ends_with("/keyframes/")
        })
        .count();
    assert_eq!(transcodes, clips);
    assert_eq!(
        reqs.iter()
            .filter(|r| r["method"] == "PUT"
                && !r["path"].as_str().unwrap_or("").starts_with("/API/jobs/"))
            .count(),
        0,
        "no local proxy uploaded (the Jobs page's step updates aside)"
    );
    assert_all_validated(&sbx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_stops_the_command_with_exit_1_and_says_so() {
    let s = setup(1);
    let sbx = start_sandbox(&s.root).await;
    let args = bin_args(&sbx, &s, &[]);
    let out = run_bin_async(
        args,
        &[
            ("ICONIK_APP_ID", "sandbox-app"),
            ("ICONIK_AUTH_TOKEN", "wrong-token"),
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the iconik token was refused (401)"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-token"));
    assert_eq!(count(&sbx.state(), "assets"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_prints_the_calls_and_sends_nothing() {
    let s = setup(1);
    // A server that must not be contacted: any request to it would be recorded.
    let sbx = start_sandbox(&s.root).await;
    let args: Vec<String> = vec![
        "ingest".into(),
        s.card.display().to_string(),
        "--dry-run".into(),
        "--server".into(),
        sbx.base_url().into(),
        "--storage".into(),
        "Sandbox originals".into(),
        "--storage-root".into(),
        s.root.display().to_string(),
    ];
    let out = run_bin_async(args, &[]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("nothing was sent"));
    for call in [
        "/API/assets/v1/assets/",
        "/file_sets/",
        "/files/",
        "/proxies/",
        "/keyframes/",
    ] {
        assert!(stdout.contains(call), "dry run lists {call}");
    }
    let posts = stdout.matches("-X POST").count();
    assert!(
        posts >= 12,
        "search, asset, format, file set, 8 files, proxy, keyframes: {posts}"
    );
    assert!(sbx.requests().is_empty(), "the real server got no request");
    assert!(
        !s.card.join("ascmhl").exists(),
        "no manifest written by a dry run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collection_option_adds_every_asset_once() {
    let s = setup(3);
    let sbx = start_sandbox(&s.root).await;
    let report = scan_card(&s.card);
    let mut eng = engine(&sbx, &s, TOKEN);
    eng.options.collection = Some("Shoot day 1".into());
    eng.options.proxy = card_ingest::ingest::ProxyMode::None;
    let (out, _) = run(&eng, job(&report)).await;
    assert!(out.all_complete(), "{:#?}", out.record);
    let st = sbx.state();
    assert_eq!(count(&st, "collections"), 1);
    assert_eq!(st["collections"][0]["title"], "Shoot day 1");
    assert_eq!(count(&st, "collection_contents"), 3);
    assert_eq!(count(&st, "proxies"), 0, "--proxy none");
    for c in out.record.clips.values() {
        assert_eq!(c.step(Step::Collection), StepState::Done);
        assert!(matches!(c.step(Step::Keyframes), StepState::Skipped { .. }));
    }
}

/// The seeded view's id (the sandbox seeds one view with scene/take/camera/description).
fn seeded_view(sbx: &SandboxHandle) -> String {
    let st = sbx.state();
    assert_eq!(count(&st, "metadata_views"), 1, "one seeded view");
    st["metadata_views"][0]["id"]
        .as_str()
        .expect("view id")
        .to_owned()
}

/// The stored values of `asset` in `view`, as field → [values].
fn stored_values(state: &Value, asset: &str, view: &str) -> Vec<Value> {
    state["metadata_values"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|v| {
                    v["object_type"] == "assets" && v["object_id"] == asset && v["view_id"] == view
                })
                .map(|v| v["metadata_values"].clone())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_values_are_written_to_every_asset_and_unknown_fields_fail_the_step() {
    let s = setup(3);
    let sbx = start_sandbox(&s.root).await;
    let view = seeded_view(&sbx);
    let report = scan_card(&s.card);
    let bad_clip = report.clips[1].clip.id.clone();
    let mut eng = engine(&sbx, &s, TOKEN);
    eng.options.proxy = card_ingest::ingest::ProxyMode::None;
    eng.options.metadata_view = Some(view.clone());
    eng.options.metadata = [("scene", "12"), ("take", "3")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    // One clip asks for a field the view lacks: only its Collection step fails.
    eng.options.clip_metadata.insert(
        bad_clip.clone(),
        [("lens".to_owned(), "35mm".to_owned())].into(),
    );
    let (out, _) = run(&eng, job(&report)).await;
    assert!(!out.all_complete());
    let st = sbx.state();
    assert_eq!(count(&st, "assets"), 3, "one asset per clip");
    let expected = serde_json::json!({
        "scene": {"field_values": [{"value": "12"}]},
        "take": {"field_values": [{"value": "3"}]},
    });
    for c in out.record.clips.values() {
        let asset = c.asset_id.expect("asset created").to_string();
        if c.clip_id == bad_clip {
            match c.step(Step::Collection) {
                StepState::Failed { error, retryable } => {
                    assert!(error.contains("lens"), "error names the field: {error}");
                    assert!(error.contains("400"), "iconik's status: {error}");
                    assert!(!retryable, "a 400 is not retried");
                }
                other => panic!("expected Failed, got {other:?}"),
            }
            assert_eq!(c.steps[&Step::Collection].attempts, 1, "no automatic retry");
            assert!(!c.metadata_written);
            assert!(stored_values(&st, &asset, &view).is_empty());
        } else {
            assert_eq!(c.step(Step::Collection), StepState::Done, "{}", c.name);
            assert!(c.metadata_written);
            assert_eq!(stored_values(&st, &asset, &view), vec![expected.clone()]);
        }
    }

    // The operator fixes the clip's values and re-runs: only that clip's step is redone,
    // the finished clips make no second PUT, and nothing is duplicated.
    let puts_before = view_puts(&sbx);
    assert_eq!(puts_before, 3, "two good PUTs and the refused one");
    eng.options.clip_metadata.clear();
    let (out, _) = run(&eng, job(&report)).await;
    assert!(out.all_complete(), "{:#?}", out.record);
    let st = sbx.state();
    assert_eq!(
        count(&st, "assets"),
        3,
        "no duplicate assets after the re-run"
    );
    assert_eq!(count(&st, "metadata_values"), 3, "one value set per asset");
    for c in out.record.clips.values() {
        let asset = c.asset_id.expect("asset").to_string();
        assert_eq!(stored_values(&st, &asset, &view), vec![expected.clone()]);
    }
    let puts_after = view_puts(&sbx);
    assert_eq!(puts_after, 4, "only the fixed clip PUTs again");
    assert_all_validated(&sbx);
}

#[test]
fn metadata_flags_need_a_view_and_field_value_pairs() {
    let card = "/nonexistent-card";
    let no_view = run_bin_env(
        &[
            "ingest".into(),
            card.into(),
            "--sandbox".into(),
            "--metadata".into(),
            "scene=12".into(),
        ],
        &[],
    );
    assert_eq!(no_view.status.code(), Some(2), "clap usage error");
    let err = String::from_utf8_lossy(&no_view.stderr);
    assert!(err.contains("--metadata-view"), "{err}");
    let malformed = run_bin_env(
        &[
            "ingest".into(),
            card.into(),
            "--sandbox".into(),
            "--metadata-view".into(),
            "v".into(),
            "--metadata".into(),
            "scene12".into(),
        ],
        &[],
    );
    assert_eq!(malformed.status.code(), Some(2));
    let err = String::from_utf8_lossy(&malformed.stderr);
    assert!(err.contains("\"scene12\" is not FIELD=VALUE"), "{err}");
}

/// The CLI with a stand-in ffmpeg first on PATH (it offers h264_vaapi; see `encoder.rs`): the
/// encoder is detected once, the proxy's command carries the VAAPI arguments, and the events,
/// the journal and the CSV report say h264_vaapi made the proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detected_hardware_encoder_is_used_and_reported() {
    let s = setup(1);
    let sbx = start_sandbox(&s.root).await;
    let bin = s.root.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    crate::encoder::stand_in_ffmpeg(&bin);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let args = bin_args(&sbx, &s, &["--json", "--encoder", "auto"]);
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_card-ingest"))
            .args(&args)
            .envs(WITH_TOKEN.iter().copied())
            .env("PATH", path)
            .output()
            .expect("run card-ingest")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_duplicates(&sbx, 1, "stand-in ffmpeg run");
    assert!(
        !s.card.join("ascmhl").exists(),
        "registered in place without --mhl-in-place: nothing written onto the card"
    );

    let calls = std::fs::read_to_string(bin.join("calls.log")).unwrap();
    let listings = calls
        .lines()
        .filter(|l| *l == "-hide_banner -encoders")
        .count();
    assert_eq!(listings, 1, "one detection per run: {calls}");
    let encodes: Vec<&str> = calls
        .lines()
        .filter(|l| l.contains("-progress pipe:1"))
        .collect();
    assert_eq!(encodes.len(), 1, "{calls}");
    for part in [
        "-vaapi_device /dev/dri/renderD128 -i ",
        "format=nv12,hwupload[v]",
        "-c:v h264_vaapi -profile:v high -rc_mode VBR -bf 0 -b:v 3M -maxrate 4M -bufsize 4M -g ",
        "-movflags +faststart",
    ] {
        assert!(
            encodes[0].contains(part),
            "{part} missing in {}",
            encodes[0]
        );
    }

    let proxy_done: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("\"event\":\"done\"") && l.contains(".mp4 ("))
        .collect();
    assert_eq!(proxy_done.len(), 1, "{stdout}");
    assert!(
        proxy_done[0].contains(" bytes, h264_vaapi)"),
        "{}",
        proxy_done[0]
    );

    let mut journal_says = 0;
    let mut csv_rows = 0;
    for entry in walkdir::WalkDir::new(&s.journal).into_iter().flatten() {
        let p = entry.path();
        let text = || std::fs::read_to_string(p).unwrap();
        match p.extension().and_then(|e| e.to_str()) {
            // The journal's records (not the proxies' records, not the report's data).
            Some("json")
                if !p.starts_with(s.journal.join("proxies"))
                    && !entry
                        .file_name()
                        .to_string_lossy()
                        .starts_with("card-ingest-report-") =>
            {
                journal_says += text()
                    .replace([' ', '\n'], "")
                    .matches("\"proxy_encoder\":\"h264_vaapi\"")
                    .count();
            }
            Some("csv") => {
                let text = text();
                let mut lines = text.lines();
                let header: Vec<&str> = lines.next().unwrap().split(',').collect();
                let col = header.iter().position(|h| *h == "proxy_encoder").unwrap();
                // Counted from the end: the steps and warnings before it are quoted and hold
                // commas; the columns after it (the preset) hold none.
                let from_end = header.len() - 1 - col;
                for row in lines {
                    assert_eq!(row.rsplit(',').nth(from_end), Some("h264_vaapi"), "{row}");
                    csv_rows += 1;
                }
            }
            _ => {}
        }
    }
    assert_eq!(
        journal_says, 1,
        "the clip's journal record names the encoder"
    );
    let members = scan_card(&s.card).clips[0].clip.files.len();
    assert!(members >= 5, "video + 4 audio + sidecars: {members}");
    assert_eq!(csv_rows, members, "one row per member file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offload_copies_every_card_a_spanned_clip_touches() {
    util::require_tool("ffmpeg");
    let s = setup(1);
    let sbx = start_sandbox(&s.root).await;
    // Cards A and B (the P2 span 0003AB → 0004CD) outside the storage root.
    let cards_dir = tempdir();
    let cards = canonical(cards_dir.path());
    sample::generate(
        sample::SampleKind::P2Span,
        &cards,
        &SampleOptions::default(),
    )
    .expect("generate P2 span");
    let (card_a, card_b) = (cards.join("CARD_A"), cards.join("CARD_B"));
    let report = scan::scan(&[card_a.clone(), card_b.clone()], &Tools::detect()).expect("scan");
    let span = report
        .clips
        .iter()
        .find(|c| c.clip.segments.len() == 2)
        .expect("the span is one clip of two segments")
        .clone();
    assert_eq!(span.clip.card_root, card_a);
    let card = report
        .cards
        .iter()
        .find(|c| c.root == card_a)
        .expect("card A")
        .clone();
    let job = CardJob::new(card, vec![span.clone()], &report.cards);
    assert_eq!(job.span_cards, vec![card_b.clone()]);

    let storage = s.root.join("originals");
    std::fs::create_dir_all(&storage).unwrap();
    let mut eng = engine(&sbx, &s, TOKEN);
    eng.options.storage_root = storage.clone();
    eng.options.offload_to = Some(storage.clone());
    eng.options.allow_same_volume = true;
    eng.options.proxy = card_ingest::ingest::ProxyMode::None;
    let (out, _) = run(&eng, job).await;
    // Both cards copied and verified: one copy record per card.
    assert_eq!(
        out.record.offload_copies.len(),
        2,
        "{:?}",
        out.record.offload_copies
    );
    let rec = &out.record.clips[&span.clip.id];
    assert!(rec.failure().is_none(), "{:?}", rec.failure());
    assert!(rec.asset_id.is_some());
    let dest_a = out.record.offload_destination.clone().expect("offloaded");
    for f in &rec.files {
        assert!(
            f.registered.starts_with(&storage),
            "{}",
            f.registered.display()
        );
        let (root, rel) = match f.source.strip_prefix(&card_a) {
            Ok(rel) => (&card_a, rel),
            Err(_) => (&card_b, f.source.strip_prefix(&card_b).expect("on card B")),
        };
        // The registered file is a byte-identical copy, in its own card's copy folder.
        assert!(f.registered.ends_with(rel));
        assert_eq!(
            std::fs::read(&f.registered).unwrap(),
            std::fs::read(root.join(rel)).unwrap()
        );
        if root == &card_b {
            assert!(
                !f.registered.starts_with(&dest_a),
                "card B has its own copy folder"
            );
        }
    }
    let on_b = rec
        .files
        .iter()
        .filter(|f| f.source.starts_with(&card_b))
        .count();
    assert!(on_b >= 2, "segment 2's video and audio come from card B");
    // iconik got every segment's file at its copy's folder.
    let st = sbx.state();
    let names: Vec<String> = st["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}/{}",
                f["directory_path"].as_str().unwrap(),
                f["original_name"].as_str().unwrap()
            )
        })
        .collect();
    for f in &rec.files {
        let rel = f
            .registered
            .strip_prefix(&storage)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(names.contains(&rel), "{rel} not registered: {names:?}");
    }
}
