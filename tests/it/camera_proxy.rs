//! `ingest --camera-proxy` end to end on a P2 card whose `PROXY/*.MP4` files are replaced by
//! three camera-style proxies: a qualifying faststart MP4 (registered byte for byte), the same
//! without faststart (remuxed with `-c copy`: same packets, `moov` first) and one with
//! B-frames (does not qualify: encoded as today, the step says why). A stand-in `ffmpeg` logs
//! every call: no proxy encode reads the first two clips. The proxies are fetched through the
//! sandbox's `download_url`, as iconik's player would.

use crate::util::{self, canonical, require, tempdir};
use card_ingest::sample::{self, SampleOptions};
use card_ingest::sandbox::SandboxHandle;
use std::path::{Path, PathBuf};
use std::process::Command;

const TOKEN: &str = "tok-camproxy-SECRET-8";

/// A stand-in ffmpeg on PATH: logs its argv to `dir/calls.log`, then runs the real one.
fn logging_ffmpeg(dir: &Path) -> PathBuf {
    let real = require("ffmpeg");
    let path = dir.join("ffmpeg");
    util::write_script(
        &path,
        &format!(
            "#!/bin/sh\necho \"$*\" >> \"$(dirname \"$0\")/calls.log\"\nexec \"{}\" \"$@\"\n",
            real.display()
        ),
    );
    path
}

fn ffprobe_value(file: &Path, entries: &str) -> String {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            entries,
            "-of",
            "default=nw=1:nk=1",
        ])
        .arg(file)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Replaces the clip's camera proxy with a 480×270 H.264 + AAC stereo one made from its own
/// picture and sound: `bframes` 0 or 3, `faststart` or not.
fn camera_proxy(card: &Path, name: &str, bframes: u32, faststart: bool) -> PathBuf {
    let c = card.join("CONTENTS");
    let video = c.join(format!("VIDEO/{name}.MXF"));
    let tc = ffprobe_value(&video, "format_tags=timecode:stream_tags=timecode");
    let tc = tc.lines().next().unwrap_or("00:00:00:00").to_owned();
    let proxy = c.join(format!("PROXY/{name}.MP4"));
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-y", "-i"])
        .arg(&video)
        .arg("-i")
        .arg(c.join(format!("AUDIO/{name}00.MXF")))
        .arg("-i")
        .arg(c.join(format!("AUDIO/{name}01.MXF")))
        .args([
            "-filter_complex",
            "[0:v:0]scale=480:270[v];[1:a:0][2:a:0]amerge=inputs=2[a]",
        ])
        .args([
            "-map",
            "[v]",
            "-map",
            "[a]",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ])
        .args([
            "-pix_fmt",
            "yuv420p",
            "-g",
            "12",
            "-bf",
            &bframes.to_string(),
        ])
        .args(["-c:a", "aac", "-ac", "2", "-timecode", &tc]);
    if faststart {
        cmd.args(["-movflags", "+faststart"]);
    }
    let st = cmd.arg(&proxy).status().unwrap();
    assert!(st.success());
    proxy
}

/// Per-packet hashes of picture and sound (`framemd5`, stream copy): equal for a remux.
fn packets(file: &Path) -> Vec<String> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file)
        .args([
            "-map", "0:v:0", "-map", "0:a:0", "-c", "copy", "-f", "framemd5", "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn moov_first(bytes: &[u8]) -> bool {
    let at = |tag: &[u8]| bytes.windows(4).position(|w| w == tag);
    matches!((at(b"moov"), at(b"mdat")), (Some(m), Some(d)) if m < d)
}

/// Every registered proxy's bytes, fetched through its `download_url`.
async fn downloaded_proxies(sbx: &SandboxHandle) -> Vec<Vec<u8>> {
    let state = sbx.state();
    let client = card_ingest::http::client_builder().build().unwrap();
    let mut all = Vec::new();
    for p in state["proxies"].as_array().unwrap() {
        let (asset, id) = (p["asset_id"].as_str().unwrap(), p["id"].as_str().unwrap());
        let url = format!(
            "{}/API/files/v1/assets/{asset}/proxies/{id}/download_url/",
            sbx.base_url()
        );
        let du: serde_json::Value = client
            .get(&url)
            .header("App-ID", sbx.credentials().app_id.as_str())
            .header("Auth-Token", TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let bytes = client
            .get(du["url"].as_str().expect("download url"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        all.push(bytes.to_vec());
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qualifying_camera_proxies_are_registered_without_an_encode() {
    util::require_tool("ffmpeg");
    util::require_tool("mediainfo");
    let dir = tempdir();
    let root = canonical(dir.path());
    let card = root.join("CARD_P");
    let opts = SampleOptions {
        clip_seconds: 2,
        ..SampleOptions::default()
    };
    sample::generate_p2_complete(&card, 3, &opts).expect("P2 card");
    let mut names: Vec<String> = std::fs::read_dir(card.join("CONTENTS/PROXY"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    let as_is = camera_proxy(&card, &names[0], 0, true);
    let remux = camera_proxy(&card, &names[1], 0, false);
    let _bframes = camera_proxy(&card, &names[2], 3, true);

    let bin = root.join("bin");
    std::fs::create_dir(&bin).unwrap();
    logging_ffmpeg(&bin);
    let sbx = util::sandbox_at(&root, TOKEN).await;
    let args = util::sandbox_ingest_args(
        &card,
        &sbx,
        &root,
        "journal",
        &[
            "--report-dir",
            root.join("report").to_str().unwrap(),
            "--encoder",
            "libx264",
            "--camera-proxy",
        ],
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (app_id, ffmpeg) = (sbx.credentials().app_id.clone(), bin.join("ffmpeg"));
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_card-ingest"))
            .args(&args)
            .env("ICONIK_APP_ID", app_id)
            .env("ICONIK_AUTH_TOKEN", TOKEN)
            .env("CARD_INGEST_FFMPEG", ffmpeg)
            .env("PATH", path)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");

    // The step details: two camera proxies used, the third refused with its reason.
    assert!(
        stderr.contains(&format!(
            "camera proxy CONTENTS/PROXY/{}.MP4 as is, no encode",
            names[0]
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "camera proxy CONTENTS/PROXY/{}.MP4 remuxed to MP4 with faststart, no encode",
            names[1]
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "camera proxy not used: camera proxy {}.MP4 has B-frames",
            names[2]
        )),
        "{stderr}"
    );

    // ffmpeg: one encode (the third clip), one stream-copy remux, nothing else reads the proxies.
    let calls = std::fs::read_to_string(bin.join("calls.log")).unwrap();
    // (The report's JPEG thumbnails are grabbed from the finished proxies, not from the card.)
    let encodes: Vec<&str> = calls
        .lines()
        .filter(|l| l.contains("-progress pipe:1"))
        .collect();
    assert_eq!(encodes.len(), 1, "{calls}");
    assert!(
        encodes[0].contains(&format!("VIDEO/{}.MXF", names[2])),
        "{calls}"
    );
    for name in &names[..2] {
        assert!(
            !calls.contains(&format!("VIDEO/{name}.MXF")),
            "{name}'s essence was decoded: {calls}"
        );
    }
    let remuxes: Vec<&str> = calls.lines().filter(|l| l.contains(" -c copy ")).collect();
    assert_eq!(remuxes.len(), 1, "{calls}");
    assert!(
        remuxes[0].contains(&format!("PROXY/{}.MP4", names[1])),
        "{calls}"
    );

    // What iconik serves: the card's file byte for byte, the remux packet for packet.
    let served = downloaded_proxies(&sbx).await;
    assert_eq!(served.len(), 3);
    let card_bytes = std::fs::read(&as_is).unwrap();
    assert!(
        served.contains(&card_bytes),
        "no proxy equals {}",
        as_is.display()
    );
    let want = packets(&remux);
    assert!(!moov_first(&std::fs::read(&remux).unwrap()));
    let remuxed: Vec<&Vec<u8>> = served
        .iter()
        .filter(|b| **b != card_bytes)
        .filter(|b| {
            let p = root.join("served.mp4");
            std::fs::write(&p, b).unwrap();
            packets(&p) == want
        })
        .collect();
    assert_eq!(remuxed.len(), 1, "the remux keeps every packet");
    assert!(moov_first(remuxed[0]), "remux has faststart");

    // The report names the clips that used their camera proxy (CSV: one row per file, the
    // clip name third, the proxy's maker last) and says why the third did not (HTML).
    let report = |ext: &str| {
        walkdir::WalkDir::new(root.join("report"))
            .into_iter()
            .flatten()
            .find(|e| e.path().extension().is_some_and(|x| x == ext))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .unwrap_or_else(|| panic!("{ext} report"))
    };
    let csv = report("csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "proxy_encoder").unwrap();
    // Counted from the end: quoted cells before it hold commas, the preset after it none.
    let from_end = header.len() - 1 - col;
    let made_by: std::collections::BTreeSet<(String, String)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let by_end: Vec<&str> = l.rsplit(',').collect();
            (cells[2].to_owned(), by_end[from_end].to_owned())
        })
        .collect();
    let want: std::collections::BTreeSet<(String, String)> = [
        (names[0].clone(), "camera proxy (as is)".to_owned()),
        (names[1].clone(), "camera proxy (remuxed)".to_owned()),
        (names[2].clone(), "libx264".to_owned()),
    ]
    .into();
    assert_eq!(made_by, want, "{csv}");
    let html = report("html");
    assert!(
        html.contains(&format!(
            "camera proxy not used: camera proxy {}.MP4 has B-frames",
            names[2]
        )),
        "reason missing in the HTML report"
    );
    assert!(
        html.contains(&format!(
            "camera proxy CONTENTS/PROXY/{}.MP4, no encode",
            names[0]
        )),
        "camera proxy missing in the HTML report"
    );
}
