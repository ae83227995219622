//! `ingest --burn-in timecode,clip,card` end to end: the proxy registered in the sandbox shows
//! the clip name, the card name and the running source timecode, read back from a decoded frame
//! by real OCR (Debian's `tesseract-ocr`); the timecode must be that frame's source timecode
//! (±1 frame). The proxy keeps its properties (H.264 without B-frames, faststart).

use crate::util::{self, canonical, tempdir};
use card_ingest::media::rate::Rational;
use card_ingest::media::timecode::Timecode;
use card_ingest::sample::{self, SampleOptions};
use std::path::Path;
use std::process::Command;

const TOKEN: &str = "tok-burn-SECRET-3";
/// The frame OCR'd (1.48 s at 25 fps): not on a second boundary, so frames are really counted.
const FRAME: u64 = 37;

fn require_tesseract() {
    let ok = Command::new("tesseract")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "`tesseract` is required by this test: apt-get install tesseract-ocr (see .ci/setup)"
    );
}

/// The `timecode` tag of the card's video file, read by ffprobe (not by card-ingest).
fn source_timecode(video: &Path) -> String {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format_tags=timecode:stream_tags=timecode",
        ])
        .args(["-of", "default=nw=1:nk=1"])
        .arg(video)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find(|l| Timecode::parse(l).is_some())
        .unwrap_or_else(|| panic!("no timecode in {}: {text}", video.display()))
        .to_owned()
}

/// OCR of frame `n` of `mp4`: only the white burn-in text kept (threshold), black on white.
fn ocr_frame(dir: &Path, mp4: &Path, n: u64) -> String {
    let png = dir.join("frame.png");
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(mp4)
        .arg("-vf")
        .arg(format!(
            "select=eq(n\\,{n}),format=gray,lutyuv=y='if(gt(val\\,200)\\,0\\,255)'"
        ))
        .args(["-frames:v", "1"])
        .arg(&png)
        .status()
        .unwrap();
    assert!(st.success());
    let out = Command::new("tesseract")
        .arg(&png)
        .args(["stdout", "--psm", "11"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every `HH:MM:SS:FF` in `text`, as frame numbers at `fps`.
fn timecodes_in(text: &str, fps: u64) -> Vec<u64> {
    let b: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    for i in 0..b.len().saturating_sub(10) {
        let s: String = b[i..i + 11].iter().collect();
        if let Some(tc) = Timecode::parse(&s) {
            let secs =
                u64::from(tc.hours) * 3600 + u64::from(tc.minutes) * 60 + u64::from(tc.seconds);
            found.push(secs * fps + u64::from(tc.frames));
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burnt_in_timecode_clip_and_card_are_read_back_by_ocr() {
    util::require_tool("ffmpeg");
    util::require_tool("mediainfo");
    require_tesseract();
    let dir = tempdir();
    let root = canonical(dir.path());
    // 720p so the proxy is at its usual size and the text at its usual size.
    let opts = SampleOptions {
        clip_seconds: 2,
        width: 1280,
        height: 720,
        ..SampleOptions::default()
    };
    let card = root.join("REEL_B7");
    sample::generate_p2_complete(&card, 1, &opts).expect("P2 card");
    let video = std::fs::read_dir(card.join("CONTENTS/VIDEO"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "MXF"))
        .expect("video MXF");
    let clip_name = video.file_stem().unwrap().to_string_lossy().into_owned();
    let start = Timecode::parse(&source_timecode(&video)).unwrap();

    let sbx = util::sandbox_at(&root, TOKEN).await;
    let args = util::sandbox_ingest_args(
        &card,
        &sbx,
        &root,
        "journal",
        &[
            "--burn-in",
            "timecode,clip,card",
            "--burn-in-corner",
            "bottom-left",
        ],
    );
    let out = util::run_bin_with_token(args, sbx.credentials().app_id.clone(), TOKEN).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("burn-in timecode,clip,card"), "{stderr}");

    let state = sbx.state();
    let proxies = state["proxies"].as_array().unwrap();
    assert_eq!(proxies.len(), 1);
    let key = proxies[0]["sandbox_object"]["key"].as_str().unwrap();
    let mp4 = root.join("proxy.mp4");
    std::fs::write(&mp4, sbx.object_bytes(key).expect("proxy bytes")).unwrap();

    // Tesseract reads this font's zero as a capital O at a word start: compared with O → 0.
    let text = ocr_frame(&root, &mp4, FRAME).replace('O', "0");
    assert!(
        text.contains(&clip_name.replace('O', "0")),
        "clip {clip_name} not in OCR: {text:?}"
    );
    assert!(text.contains("REEL_B7"), "card not in OCR: {text:?}");
    let fps = Rational::new(25, 1).unwrap().nominal_fps() as u64;
    let expected =
        (u64::from(start.hours) * 3600 + u64::from(start.minutes) * 60 + u64::from(start.seconds))
            * fps
            + u64::from(start.frames)
            + FRAME;
    let read = timecodes_in(&text, fps);
    assert!(
        read.iter().any(|f| f.abs_diff(expected) <= 1),
        "want source TC frame {expected} (start {start} + {FRAME}), OCR read {read:?} in {text:?}"
    );

    // Still the iconik proxy: H.264 without B-frames, moov before mdat.
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=codec_name,has_b_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(&mp4)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "h264,0");
    let bytes = std::fs::read(&mp4).unwrap();
    let at = |tag: &[u8]| bytes.windows(4).position(|w| w == tag).unwrap();
    assert!(at(b"moov") < at(b"mdat"), "faststart: moov first");
}
