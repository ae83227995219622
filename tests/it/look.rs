//! `ingest --lut FILE.cube` end to end: the proxy registered in the sandbox carries the look. An
//! inverting 3D LUT (generated here; no vendor LUT ships) must turn the proxy's decoded pixels
//! into the negative of the same clip's plain proxy, and a broken LUT is refused before any call.

use crate::util::{self, canonical, tempdir};
use card_ingest::sample::{self, SampleOptions};
use card_ingest::sandbox::{self, SandboxConfig};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const TOKEN: &str = "tok-look-SECRET-9";

fn inverting_lut(path: &Path) {
    let mut t = String::from("TITLE \"invert\"\nLUT_3D_SIZE 2\n");
    // .cube order: red changes fastest, then green, then blue.
    for b in [0.0, 1.0] {
        for g in [0.0, 1.0] {
            for r in [0.0, 1.0] {
                t.push_str(&format!("{} {} {}\n", 1.0 - r, 1.0 - g, 1.0 - b));
            }
        }
    }
    std::fs::write(path, t).unwrap();
}

/// The RGB pixels of the frame at 1 s of an MP4 given as bytes.
fn frame_rgb(dir: &Path, name: &str, mp4: &[u8]) -> Vec<u8> {
    let path = dir.join(name);
    std::fs::write(&path, mp4).unwrap();
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-ss", "1", "-i"])
        .arg(&path)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(out.status.success() && !out.stdout.is_empty());
    out.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lut_changes_the_registered_proxy_pixels_and_a_bad_one_is_refused() {
    util::require_tool("ffmpeg");
    util::require_tool("mediainfo");
    let dir = tempdir();
    let root = canonical(dir.path());
    let opts = SampleOptions {
        clip_seconds: 2,
        ..SampleOptions::default()
    };
    for card in ["PLAIN", "LOOK"] {
        sample::generate_p2_complete(&root.join(card), 1, &opts).expect("P2 card");
    }
    let lut = root.join("invert.cube");
    inverting_lut(&lut);
    let mut config = SandboxConfig {
        job_delay: Duration::from_millis(20),
        mount_point: root.display().to_string(),
        ..SandboxConfig::default()
    };
    config.credentials.token = TOKEN.to_owned();
    let sbx = sandbox::spawn(config).await.expect("sandbox");
    let run = |card: &str, extra: &[&str]| {
        let mut args: Vec<String> = vec![
            "ingest".into(),
            root.join(card).display().to_string(),
            "--server".into(),
            sbx.base_url().into(),
            "--storage".into(),
            "Sandbox originals".into(),
            "--storage-root".into(),
            root.display().to_string(),
            "--journal-dir".into(),
            root.join(format!("journal-{card}")).display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        util::run_bin_with_token(args, sbx.credentials().app_id.clone(), TOKEN)
    };
    let plain = run("PLAIN", &[]).await;
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    // The same generated clip again (same clip id and MD5): --force registers it a second time.
    let looked = run("LOOK", &["--force", "--lut", lut.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&looked.stderr).into_owned();
    assert!(looked.status.success(), "{stderr}");
    assert!(
        stderr.contains("look ") && stderr.contains("invert.cube"),
        "{stderr}"
    );

    // The two uploaded proxies (the sandbox holds their bytes): one is the other's negative.
    let state = sbx.state();
    let proxies = state["proxies"].as_array().unwrap();
    assert_eq!(proxies.len(), 2);
    let bytes = |i: usize| {
        let key = proxies[i]["sandbox_object"]["key"].as_str().unwrap();
        sbx.object_bytes(key).expect("uploaded proxy bytes")
    };
    let a = frame_rgb(&root, "a.mp4", &bytes(0));
    let b = frame_rgb(&root, "b.mp4", &bytes(1));
    assert_eq!(a.len(), b.len());
    let n = a.len() as f64;
    // Per pixel and channel: a + b ≈ 255 (the negative), while a and b themselves differ a lot
    // (colour bars: most values are far from mid-grey).
    let off_negative: f64 = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (f64::from(*x) + f64::from(*y) - 255.0).abs())
        .sum::<f64>()
        / n;
    let apart: f64 = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).abs())
        .sum::<f64>()
        / n;
    assert!(off_negative < 12.0, "mean |a+b-255| = {off_negative}");
    assert!(
        apart > 60.0,
        "mean |a-b| = {apart}: the look changed nothing"
    );

    // A broken LUT: refused before any call, naming the file.
    let bad = root.join("broken.cube");
    std::fs::write(&bad, "LUT_3D_SIZE 2\n0 0 0\n").unwrap();
    let requests_before = sbx.requests().len();
    let out = run("LOOK", &["--lut", bad.to_str().unwrap()]).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.cube"), "{err}");
    assert_eq!(sbx.requests().len(), requests_before, "no call was made");
}
