//! The sandbox as a place to look: a real `card-ingest ingest` of a generated P2 card into the
//! in-process sandbox over loopback, then what an operator (or iconik's own UI) would fetch:
//! the proxy's and the original's `download_url`, byte ranges for a `<video>`, keyframe
//! pictures rendered from the proxy, and the `/sandbox/` web view, read by headless Chromium
//! (Debian's `chromium`): a screenshot in `out/ci-artifacts/` and the `<video>`'s duration.

use crate::util::{self, canonical, tempdir};
use card_ingest::sample::{self, SampleOptions};
use card_ingest::sandbox::{self, SandboxConfig, SandboxHandle};
use md5::{Digest, Md5};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const TOKEN: &str = "tok-web-view-SECRET-77";
const CLIP_SECONDS: u32 = 3;

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn get(url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = card_ingest::http::client_builder()
        .build()
        .unwrap()
        .get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

async fn api(sbx: &SandboxHandle, path: &str) -> Value {
    let url = format!("{}/API/{path}", sbx.base_url());
    let resp = get(
        &url,
        &[
            ("App-ID", sbx.credentials().app_id.as_str()),
            ("Auth-Token", TOKEN),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200, "GET {url}");
    resp.json().await.expect("JSON body")
}

async fn ingest(sbx: &SandboxHandle, root: &Path, card: &Path, journal: &Path) {
    let args: Vec<String> = vec![
        "ingest".into(),
        card.display().to_string(),
        "--server".into(),
        sbx.base_url().into(),
        "--storage".into(),
        "Sandbox originals".into(),
        "--storage-root".into(),
        root.display().to_string(),
        "--journal-dir".into(),
        journal.display().to_string(),
    ];
    let out = util::run_bin_with_token(args, sbx.credentials().app_id.clone(), TOKEN).await;
    assert!(
        out.status.success(),
        "ingest failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chromium() -> PathBuf {
    util::require("chromium")
}

/// Headless Chromium with the flags this machine's closed network needs (no background
/// connections), a throw-away profile, and `extra` (e.g. `--dump-dom`).
fn run_chromium(url: &str, profile: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--autoplay-policy=no-user-gesture-required",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_serves_downloads_keyframe_pictures_and_a_web_view_chromium_plays() {
    util::require_tool("ffmpeg");
    util::require_tool("mediainfo");
    let dir = tempdir();
    let root = canonical(dir.path());
    let card = root.join("CARD_W");
    let opts = SampleOptions {
        clip_seconds: CLIP_SECONDS,
        ..SampleOptions::default()
    };
    sample::generate_p2_complete(&card, 1, &opts).expect("generate P2 card");
    let journal = root.join("journal");
    let mut config = SandboxConfig {
        job_delay: Duration::from_millis(20),
        mount_point: root.display().to_string(),
        ..SandboxConfig::default()
    };
    config.credentials.token = TOKEN.to_owned();
    let sbx = sandbox::spawn(config).await.expect("sandbox starts");
    ingest(&sbx, &root, &card, &journal).await;

    let state = sbx.state();
    let assets = state["assets"].as_array().expect("assets");
    assert_eq!(assets.len(), 1, "one clip → one asset");
    let asset_id = assets[0]["id"].as_str().unwrap().to_owned();
    let proxies = state["proxies"].as_array().expect("proxies");
    assert_eq!(proxies.len(), 1);
    let proxy_id = proxies[0]["id"].as_str().unwrap().to_owned();

    // download_url answers a URL whose bytes are the encoded proxy, byte for byte.
    let du = api(
        &sbx,
        &format!("files/v1/assets/{asset_id}/proxies/{proxy_id}/download_url/"),
    )
    .await;
    let url = du["url"].as_str().expect("download_url has url").to_owned();
    assert!(url.starts_with(sbx.base_url()), "{url}");
    let resp = get(&url, &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "video/mp4");
    let downloaded = resp.bytes().await.expect("proxy bytes").to_vec();
    let local: Vec<PathBuf> = std::fs::read_dir(journal.join("proxies"))
        .expect("proxy dir")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "mp4"))
        .collect();
    assert_eq!(local.len(), 1, "{local:?}");
    let encoded = std::fs::read(&local[0]).unwrap();
    assert_eq!(downloaded.len(), encoded.len());
    assert_eq!(md5_hex(&downloaded), md5_hex(&encoded));

    // A byte range, as a browser's <video> asks for.
    let resp = get(&url, &[("Range", "bytes=100-1123")]).await;
    assert_eq!(resp.status(), 206);
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes 100-1123/{}", encoded.len()).as_str()
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &encoded[100..1124]);

    // An unknown proxy: 404 that names it.
    let resp = get(
        &format!(
            "{}/API/files/v1/assets/{asset_id}/proxies/00000000-0000-0000-0000-000000000000/download_url/",
            sbx.base_url()
        ),
        &[
            ("App-ID", sbx.credentials().app_id.as_str()),
            ("Auth-Token", TOKEN),
        ],
    )
    .await;
    assert_eq!(resp.status(), 404);

    // Each original's download_url gives the card's bytes.
    let files = api(&sbx, &format!("files/v1/assets/{asset_id}/files/")).await;
    let files = files["objects"].as_array().expect("files page").clone();
    // A one-clip P2 card: every file under CONTENTS/ is a member of that clip (video, four
    // audio MXF and the sidecars), each registered once.
    let on_card: Vec<PathBuf> = walkdir::WalkDir::new(card.join("CONTENTS"))
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    assert!(on_card.len() >= 5, "{on_card:?}");
    assert_eq!(files.len(), on_card.len(), "{files:?}");
    for f in &files {
        let id = f["id"].as_str().unwrap();
        let du = api(
            &sbx,
            &format!("files/v1/assets/{asset_id}/files/{id}/download_url/"),
        )
        .await;
        let bytes = get(du["url"].as_str().unwrap(), &[])
            .await
            .bytes()
            .await
            .unwrap();
        assert_eq!(
            md5_hex(&bytes),
            f["checksum"].as_str().unwrap(),
            "{}",
            f["name"]
        );
    }

    // Keyframe records carry URLs; the poster is a JPEG rendered from the proxy.
    let kfs = api(&sbx, &format!("files/v1/assets/{asset_id}/keyframes/")).await;
    let kfs = kfs["objects"].as_array().expect("keyframes page").clone();
    let types: Vec<&str> = kfs.iter().filter_map(|k| k["type"].as_str()).collect();
    assert!(
        types.contains(&"POSTER") && types.contains(&"KEYFRAME_MAP"),
        "{types:?}"
    );
    let pics = tempdir();
    for kf in &kfs {
        let url = kf["url"].as_str().expect("keyframe url");
        let resp = get(url, &[]).await;
        assert_eq!(resp.status(), 200, "{url}");
        assert_eq!(resp.headers()["content-type"], "image/jpeg");
        let jpg = resp.bytes().await.unwrap();
        assert_eq!(&jpg[..2], &[0xFF, 0xD8], "JPEG SOI");
        let path = pics
            .path()
            .join(format!("{}.jpg", kf["type"].as_str().unwrap()));
        std::fs::write(&path, &jpg).unwrap();
        let probe = util::ffprobe(&path, &["-show_streams"]);
        let width = probe["streams"][0]["width"].as_u64().unwrap();
        match kf["type"].as_str().unwrap() {
            "POSTER" => assert_eq!(width, 480),
            // 8 tiles of 160 px with 2 px padding between them.
            "KEYFRAME_MAP" => assert_eq!(width, 8 * 160 + 7 * 2),
            _ => {}
        }
    }

    // The web view: the index lists the asset, its page the files, the proxy and the strip.
    let html = |path: String| {
        let url = format!("{}{path}", sbx.base_url());
        async move {
            let resp = get(&url, &[("Accept", "text/html")]).await;
            assert_eq!(resp.status(), 200, "{url}");
            resp.text().await.unwrap()
        }
    };
    let index = html("/sandbox/".into()).await;
    let title = assets[0]["title"].as_str().unwrap();
    assert!(index.contains(&format!("href=\"/sandbox/assets/{asset_id}\"")));
    assert!(index.contains(title), "{index}");
    let page = html(format!("/sandbox/assets/{asset_id}")).await;
    assert_eq!(page.matches("<tr class=\"file\">").count(), on_card.len());
    for f in &files {
        assert!(page.contains(f["checksum"].as_str().unwrap()));
    }
    assert!(page.contains("<video id=\"proxy\""));
    // Without Accept: text/html the same address stays the JSON the tests and tools read.
    let json: Value = get(
        &format!("{}/sandbox/assets/{asset_id}", sbx.base_url()),
        &[],
    )
    .await
    .json()
    .await
    .expect("JSON asset view");
    assert_eq!(json["asset"]["id"], asset_id.as_str());

    // Headless Chromium: a screenshot for CI, and the DOM after the video's metadata loaded.
    let profile = tempdir();
    let page_url = format!("{}/sandbox/assets/{asset_id}", sbx.base_url());
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("out/ci-artifacts");
    std::fs::create_dir_all(&out_dir).unwrap();
    let shot = out_dir.join("sandbox-web-view.png");
    let _ = std::fs::remove_file(&shot);
    let (u1, p1, s1) = (page_url.clone(), profile.path().to_path_buf(), shot.clone());
    let out = tokio::task::spawn_blocking(move || {
        run_chromium(&u1, &p1, &[&format!("--screenshot={}", s1.display())])
    })
    .await
    .unwrap();
    assert!(
        shot.is_file(),
        "chromium wrote no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(&std::fs::read(&shot).unwrap()[1..4], b"PNG");
    let p2 = profile.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        run_chromium(
            &page_url,
            &p2,
            &["--dump-dom", "--virtual-time-budget=15000"],
        )
    })
    .await
    .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let duration: f64 = dom
        .split("data-duration=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "the <video> never reported a duration (did not load?):\n{dom}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(
        (duration - f64::from(CLIP_SECONDS)).abs() < 0.2,
        "video duration {duration} s, clip is {CLIP_SECONDS} s"
    );
}
