//! Looks by rule end to end: on an XDCAM card whose C0001 NRT XML says S-Log3
//! (`AcquisitionRecord` `CaptureGammaEquation`), `--look-rule "gamma=S-Log3 => invert.cube"`
//! inverts C0001's registered proxy and leaves C0002 (no gamma) clean. The scan shows the
//! metadata the rule matches on; the step detail says which rule chose the look.

use crate::util::{self, canonical, tempdir};
use card_ingest::sample::{self, SampleKind, SampleOptions};
use std::path::Path;
use std::process::Command;

const TOKEN: &str = "tok-rules-SECRET-2";

fn inverting_lut(path: &Path) {
    let mut t = String::from("LUT_3D_SIZE 2\n");
    for b in [0.0, 1.0] {
        for g in [0.0, 1.0] {
            for r in [0.0, 1.0] {
                t.push_str(&format!("{} {} {}\n", 1.0 - r, 1.0 - g, 1.0 - b));
            }
        }
    }
    std::fs::write(path, t).unwrap();
}

/// RGB of the frame at 1 s.
fn frame_rgb(file: &Path) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-ss", "1", "-i"])
        .arg(file)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(out.status.success() && !out.stdout.is_empty());
    out.stdout
}

/// Mean |a + b − 255| per value: small when one picture is the other's negative.
fn off_negative(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) + f64::from(*y) - 255.0).abs())
        .sum::<f64>()
        / a.len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gamma_rule_puts_the_look_on_the_s_log3_clip_only() {
    util::require_tool("ffmpeg");
    util::require_tool("mediainfo");
    let dir = tempdir();
    let root = canonical(dir.path());
    let card = root.join("XD");
    sample::generate(SampleKind::Xdcam, &card, &SampleOptions::default()).expect("XDCAM card");
    let card = walkdir::WalkDir::new(&card)
        .into_iter()
        .flatten()
        .find(|e| e.file_name() == "XDROOT")
        .map(|e| e.path().parent().unwrap().to_owned())
        .expect("XDROOT");
    let xml = card.join("XDROOT/Clip/C0001M01.XML");
    let text = std::fs::read_to_string(&xml).unwrap().replace(
        "</NonRealTimeMeta>",
        "<AcquisitionRecord><Group name=\"CameraUnitMetadataSet\">\
         <Item name=\"CaptureGammaEquation\" value=\"s-log3-cine\"/>\
         <Item name=\"CaptureColorPrimaries\" value=\"S-Gamut3.Cine\"/>\
         </Group></AcquisitionRecord></NonRealTimeMeta>",
    );
    std::fs::write(&xml, text).unwrap();
    let lut = root.join("invert.cube");
    inverting_lut(&lut);

    // The preview's data: the scan carries the gamma the rule matches on.
    let scan = Command::new(env!("CARGO_BIN_EXE_card-ingest"))
        .args(["scan", "--json"])
        .arg(&card)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap();
    let text = doc.to_string();
    assert!(text.contains("\"gamma\":\"s-log3-cine\""), "{text}");

    let sbx = util::sandbox_at(&root, TOKEN).await;
    let rule = format!("gamma=S-Log3 => {}", lut.display());
    let args = util::sandbox_ingest_args(&card, &sbx, &root, "journal", &["--look-rule", &rule]);
    let out = util::run_bin_with_token(args, sbx.credentials().app_id.clone(), TOKEN).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let proxy_line = |clip: &str| {
        stderr
            .lines()
            .find(|l| l.starts_with(&format!("{clip}: proxy done")))
            .unwrap_or_else(|| panic!("no proxy line for {clip}: {stderr}"))
            .to_owned()
    };
    let c1 = proxy_line("C0001");
    assert!(
        c1.contains("invert.cube (rule gamma=S-Log3 (gamma \"s-log3-cine\"))"),
        "{c1}"
    );
    assert!(!proxy_line("C0002").contains("look"), "{stderr}");

    // The look is on the asset's ORIGINAL format record, for C0001 only.
    let formats = sbx.state()["formats"].to_string();
    assert_eq!(
        formats
            .matches(
                "\"proxy_look\":\"invert.cube (rule gamma=S-Log3 (gamma \\\"s-log3-cine\\\"))\""
            )
            .count(),
        1,
        "{formats}"
    );

    // C0001's proxy is the negative of its essence; C0002's is not.
    let essence = frame_rgb(&card.join("XDROOT/Clip/C0001.MXF"));
    let state = sbx.state();
    let proxies = state["proxies"].as_array().unwrap();
    assert_eq!(proxies.len(), 2);
    let mut negatives = 0;
    for (i, p) in proxies.iter().enumerate() {
        let key = p["sandbox_object"]["key"].as_str().unwrap();
        let path = root.join(format!("p{i}.mp4"));
        std::fs::write(&path, sbx.object_bytes(key).unwrap()).unwrap();
        if off_negative(&essence, &frame_rgb(&path)) < 12.0 {
            negatives += 1;
        }
    }
    assert_eq!(negatives, 1, "exactly the S-Log3 clip's proxy is inverted");

    // A rule naming a broken LUT is refused before any call.
    let bad = root.join("broken.cube");
    std::fs::write(&bad, "LUT_3D_SIZE 2\n").unwrap();
    let before = sbx.requests().len();
    let args = util::sandbox_ingest_args(
        &card,
        &sbx,
        &root,
        "journal2",
        &["--look-rule", &format!("gamma=x => {}", bad.display())],
    );
    let out = util::run_bin_with_token(args, sbx.credentials().app_id.clone(), TOKEN).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.cube"), "{err}");
    assert_eq!(sbx.requests().len(), before, "no call was made");
}
