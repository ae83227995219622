//! `card-ingest ingest --offload-to A --offload-to B` against the sandbox over loopback: the
//! card (on tmpfs, so a volume of its own) is read once into two verified copies with an ASC MHL
//! each, the `--json` `card_finished` event carries the safe-to-erase verdict and its evidence,
//! the report comes as HTML and PDF with posters; `--verify size` keeps the verdict off; a
//! destination on the card's own volume is refused before anything is written.

use crate::util::{self, canonical, tempdir};
use card_ingest::sample::{self, SampleOptions};
use card_ingest::sandbox::{self, SandboxConfig, SandboxHandle};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const TOKEN: &str = "tok-offload-cli-SECRET-5";

async fn start(mount: &Path) -> SandboxHandle {
    let mut config = SandboxConfig {
        job_delay: Duration::from_millis(20),
        mount_point: mount.display().to_string(),
        ..SandboxConfig::default()
    };
    config.credentials.token = TOKEN.to_owned();
    sandbox::spawn(config).await.expect("sandbox starts")
}

async fn ingest(sbx: &SandboxHandle, card: &Path, extra: &[String]) -> Output {
    let mut args: Vec<String> = vec![
        "ingest".into(),
        card.display().to_string(),
        "--server".into(),
        sbx.base_url().into(),
        "--storage".into(),
        "Sandbox originals".into(),
        "--json".into(),
    ];
    args.extend(extra.iter().cloned());
    util::run_bin_with_token(args, sbx.credentials().app_id.clone(), TOKEN).await
}

fn card_finished(out: &Output) -> Value {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e.to_string().contains("card_finished"))
        .unwrap_or_else(|| {
            panic!(
                "no card_finished event:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// The event's fields wherever the kind nests them.
fn field<'a>(event: &'a Value, name: &str) -> &'a Value {
    if !event[name].is_null() {
        return &event[name];
    }
    event
        .as_object()
        .into_iter()
        .flat_map(|o| o.values())
        .find_map(|v| v.get(name))
        .unwrap_or(&Value::Null)
}

fn tmpfs_card(clips: u32) -> tempfile::TempDir {
    util::require_tool("ffmpeg");
    util::require_tool("mediainfo");
    // The card on tmpfs: a volume other than the destinations'.
    let dir = util::shm_tempdir();
    let opts = SampleOptions {
        clip_seconds: 2,
        ..SampleOptions::default()
    };
    sample::generate_p2_complete(&dir.path().join("CARD_O"), clips, &opts).expect("P2 card");
    dir
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(root).unwrap().to_path_buf())
        .filter(|p| !p.starts_with("ascmhl"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_destinations_from_one_read_and_the_safe_to_erase_verdict() {
    let shm = tmpfs_card(2);
    let card = canonical(&shm.path().join("CARD_O"));
    let work = tempdir();
    let raid = canonical(work.path()).join("raid");
    let shuttle = canonical(work.path()).join("shuttle");
    std::fs::create_dir_all(&raid).unwrap();
    std::fs::create_dir_all(&shuttle).unwrap();
    let journal = canonical(work.path()).join("journal");
    let sbx = start(&raid).await;
    let out = ingest(
        &sbx,
        &card,
        &[
            "--offload-to".into(),
            raid.display().to_string(),
            "--offload-to".into(),
            shuttle.display().to_string(),
            "--journal-dir".into(),
            journal.display().to_string(),
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let done = card_finished(&out);
    assert_eq!(field(&done, "safe_to_erase"), true, "{done}");
    let evidence: Vec<&str> = field(&done, "evidence")
        .as_array()
        .expect("evidence list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // clips, registered-from-copy, 2 × (copy read back + MHL), proxies.
    assert_eq!(evidence.len(), 7, "{evidence:?}");
    assert!(evidence.iter().all(|l| l.starts_with('✓')), "{evidence:?}");
    assert!(evidence[0].contains("2 of 2 clips complete in iconik"));
    assert!(
        evidence
            .iter()
            .any(|l| l.contains(&shuttle.display().to_string()) && l.contains("read back")),
        "{evidence:?}"
    );
    assert!(stderr.contains("SAFE TO ERASE"), "{stderr}");

    // Both copies hold every file of the card, each with its own MHL generation.
    let on_card = files_under(&card);
    for root in [&raid, &shuttle] {
        let day: Vec<PathBuf> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        assert_eq!(day.len(), 1, "{day:?}");
        let copy = day[0].join("CARD_O");
        let mut got = files_under(&copy);
        got.sort();
        let mut want = on_card.clone();
        want.sort();
        assert_eq!(got, want, "{}", copy.display());
        for f in &want {
            assert_eq!(
                std::fs::read(copy.join(f)).unwrap(),
                std::fs::read(card.join(f)).unwrap(),
                "{}",
                f.display()
            );
        }
        let mhls = std::fs::read_dir(copy.join("ascmhl"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "mhl")
            })
            .count();
        assert_eq!(mhls, 1, "{}", copy.display());
    }
    // iconik's originals are the RAID copy.
    let state = sbx.state();
    for f in state["files"].as_array().unwrap() {
        let dir = f["directory_path"].as_str().unwrap();
        assert!(dir.ends_with("CARD_O") || dir.contains("CARD_O/"), "{dir}");
        assert!(
            raid.join(dir).join(f["name"].as_str().unwrap()).is_file(),
            "{f}"
        );
    }

    // The report: HTML with embedded posters and the verdict, and its PDF twin.
    let html_path: PathBuf = std::fs::read_dir(&journal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "html"))
        .expect("HTML report");
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert_eq!(html.matches("<img class=\"poster\"").count(), 2);
    assert!(html.contains("<div class=\"verdict safe\"><h2>Safe to erase</h2>"));
    let pdf = html_path.with_extension("pdf");
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("SAFE TO ERASE"), "{text}");
    assert!(text.contains(&shuttle.display().to_string()), "{text}");
    let images = Command::new("pdfimages")
        .arg("-list")
        .arg(&pdf)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&images.stdout).lines().count(),
        2 + 2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_only_checks_keep_the_verdict_off_and_same_volume_is_refused() {
    let shm = tmpfs_card(1);
    let card = canonical(&shm.path().join("CARD_O"));
    let work = tempdir();
    let raid = canonical(work.path()).join("raid");
    std::fs::create_dir_all(&raid).unwrap();
    let sbx = start(&raid).await;
    let journal = canonical(work.path()).join("journal-size");
    let out = ingest(
        &sbx,
        &card,
        &[
            "--offload-to".into(),
            raid.display().to_string(),
            "--verify".into(),
            "size".into(),
            "--journal-dir".into(),
            journal.display().to_string(),
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done = card_finished(&out);
    assert_eq!(field(&done, "safe_to_erase"), false, "{done}");
    let evidence = field(&done, "evidence").to_string();
    assert!(
        evidence.contains("checked by size only, not read back"),
        "{evidence}"
    );

    // A destination on the card's own volume (tmpfs): refused, nothing written, exit 1.
    let same = shm.path().join("same-volume-destination");
    std::fs::create_dir(&same).unwrap();
    let out = ingest(
        &sbx,
        &card,
        &[
            "--offload-to".into(),
            same.display().to_string(),
            "--journal-dir".into(),
            canonical(work.path())
                .join("journal-same")
                .display()
                .to_string(),
        ],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is on the same volume as the card"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(&same).unwrap().count(),
        0,
        "nothing written"
    );
}

/// The webhook receives the card summary as JSON (a real HTTP listener on loopback).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_posts_the_card_summary() {
    use axum::routing::post;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let app = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(v): axum::Json<Value>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let summary = card_ingest::notify::CardSummary {
        event: "card_finished".into(),
        card: "/media/A001".into(),
        family: "p2".into(),
        completed: 2,
        failed: 0,
        skipped: 1,
        bytes: 1234,
        duration_ms: 99,
        safe_to_erase: true,
        evidence: vec!["✓ 3 of 3 clips complete in iconik".into()],
        report: Some("/tmp/r.html".into()),
        server: "https://app.iconik.io".into(),
    };
    card_ingest::notify::post_webhook(&format!("http://{addr}/hook"), &summary)
        .await
        .expect("webhook accepted");
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got["event"], "card_finished");
    assert_eq!(got["card"], "/media/A001");
    assert_eq!(got["safe_to_erase"], true);
    assert_eq!(got["skipped"], 1);
    assert_eq!(got["evidence"][0], "✓ 3 of 3 clips complete in iconik");
    // A hook that answers 404 is an error naming the URL and status.
    let err = card_ingest::notify::post_webhook(&format!("http://{addr}/nope"), &summary)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("HTTP 404") && err.contains("/nope"), "{err}");
}
