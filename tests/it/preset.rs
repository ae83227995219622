//! `ingest --proxy-preset`: the preset's audio mapping is audible in the registered proxy. A
//! four-channel source (CH1 1 kHz, CH2 silent, CH3 440 Hz, CH4 660 Hz) through `720p-ch1ch2`
//! (CH1 → L, CH2 → R only) must give a pure 1 kHz tone on the left and silence on the right,
//! where the default mix (CH1+CH3 → L, CH2+CH4 → R) would add 440 Hz left and 660 Hz right.
//! Measured per channel with ffmpeg's `astats`. An unknown preset is refused before any call.

use crate::util::{self, canonical, tempdir};
use std::path::Path;
use std::process::Command;

const TOKEN: &str = "tok-preset-SECRET-5";

/// A loose MOV with four mono PCM tracks.
fn four_channel_mov(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let sine = |f: u32| format!("sine=frequency={f}:sample_rate=48000:duration=3");
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=320x180:rate=25:duration=3")
        .args(["-f", "lavfi", "-i", &sine(1000)])
        .args(["-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono"])
        .args(["-f", "lavfi", "-i", &sine(440)])
        .args(["-f", "lavfi", "-i", &sine(660)])
        .args([
            "-map", "0", "-map", "1", "-map", "2", "-map", "3", "-map", "4",
        ])
        .args([
            "-t",
            "3",
            "-c:v",
            "libx264",
            "-bf",
            "0",
            "-c:a",
            "pcm_s16le",
        ])
        .args(["-timecode", "01:00:00:00"])
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
}

/// (RMS level dB, zero-crossing rate) per channel of the first audio stream, from `astats`.
fn channel_stats(mp4: &Path) -> Vec<(f64, f64)> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(mp4)
        // Skip the AAC priming/edge frames: steady tone only.
        .args([
            "-map",
            "0:a:0",
            "-af",
            "atrim=0.5:2.5,astats",
            "-f",
            "null",
            "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    let mut stats: Vec<(f64, f64)> = Vec::new();
    for line in text.lines() {
        let value = |key: &str| {
            line.split_once(key).map(|(_, v)| {
                let v = v.trim();
                if v == "-inf" {
                    f64::NEG_INFINITY
                } else {
                    v.parse::<f64>().unwrap()
                }
            })
        };
        if line.contains("] Overall") {
            break;
        }
        if line.contains("] Channel: ") {
            stats.push((f64::NAN, f64::NAN));
        } else if let (Some(v), Some(last)) = (value("RMS level dB:"), stats.last_mut()) {
            last.0 = v;
        } else if let (Some(v), Some(last)) = (value("Zero crossings rate:"), stats.last_mut()) {
            last.1 = v;
        }
    }
    stats
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ch1_ch2_preset_puts_the_ch1_tone_on_the_left_only() {
    util::require_tool("ffmpeg");
    util::require_tool("mediainfo");
    let dir = tempdir();
    let root = canonical(dir.path());
    let card = root.join("SHOOT");
    four_channel_mov(&card.join("A001.MOV"));
    let sbx = util::sandbox_at(&root, TOKEN).await;
    let run = |preset: &str| {
        let args =
            util::sandbox_ingest_args(&card, &sbx, &root, "journal", &["--proxy-preset", preset]);
        util::run_bin_with_token(args, sbx.credentials().app_id.clone(), TOKEN)
    };

    let out = run("4k").await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"4k\"") && err.contains("720p-ch1ch2"),
        "{err}"
    );
    assert!(sbx.requests().is_empty(), "no call was made");

    let out = run("720p-ch1ch2").await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("preset 720p-ch1ch2"), "{stderr}");
    let state = sbx.state();
    let proxies = state["proxies"].as_array().unwrap();
    assert_eq!(proxies.len(), 1);
    assert_eq!(proxies[0]["bit_rate"], 3_000_000);
    let key = proxies[0]["sandbox_object"]["key"].as_str().unwrap();
    let mp4 = root.join("proxy.mp4");
    std::fs::write(&mp4, sbx.object_bytes(key).expect("proxy bytes")).unwrap();

    let stats = channel_stats(&mp4);
    assert_eq!(stats.len(), 2, "stereo proxy: {stats:?}");
    let (left, right) = (stats[0], stats[1]);
    // The lavfi sine is at 1/8 full scale: −21 dB RMS. 1 kHz at 48 kHz: 2000 crossings/48000.
    assert!((left.0 + 21.1).abs() < 1.5, "left RMS {} dB", left.0);
    assert!(
        (left.1 - 2000.0 / 48000.0).abs() < 0.002,
        "left zero-crossing rate {}: not a pure 1 kHz tone (CH3 mixed in?)",
        left.1
    );
    assert!(right.0 < -80.0, "right RMS {} dB: CH4 leaked in", right.0);
}
