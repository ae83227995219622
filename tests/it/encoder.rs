//! Proxy encoder choice with a stand-in ffmpeg (a mock by necessity: this machine has no GPU, so
//! no real hardware encoder can run). The stand-in lists h264_vaapi and h264_nvenc, fails every
//! hardware encode but VAAPI's, and hands everything else to the real ffmpeg, with the
//! VAAPI-only arguments swapped for libx264 ones, so a whole ingest still makes a real proxy.

use super::util::{require, tempdir};
use card_ingest::media::proxy::encoder::{self, EncoderError};
use card_ingest::media::proxy::{Encoder, EncoderChoice};
use std::path::{Path, PathBuf};

/// Writes the stand-in `ffmpeg` into `dir` and returns its path; every call's argv is appended
/// to `dir/calls.log`.
pub fn stand_in_ffmpeg(dir: &Path) -> PathBuf {
    let real = require("ffmpeg");
    let script = format!(
        r#"#!/bin/bash
echo "$*" >> "$(dirname "$0")/calls.log"
if [[ " $* " == *" -encoders "* ]]; then
  echo "Encoders:"
  echo " V..... = Video"
  echo " ------"
  echo " V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)"
  echo " V....D h264_nvenc           NVIDIA NVENC H.264 encoder (codec h264)"
  echo " V....D h264_vaapi           H.264/AVC (VAAPI) (codec h264)"
  echo " A....D aac                  AAC (Advanced Audio Coding)"
  exit 0
fi
if [[ " $* " == *" -c:v h264_vaapi "* ]]; then
  args=(); skip=0
  for a in "$@"; do
    if ((skip)); then skip=0; continue; fi
    case "$a" in
      -vaapi_device|-rc_mode) skip=1 ;;
      h264_vaapi) args+=(libx264) ;;
      *format=nv12,hwupload*) args+=("${{a//format=nv12,hwupload/format=yuv420p}}") ;;
      *) args+=("$a") ;;
    esac
  done
  exec "{real}" "${{args[@]}}"
fi
if [[ " $* " == *" -c:v h264_"* ]]; then
  echo "Cannot load the encoder: no device found" >&2
  exit 1
fi
exec "{real}" "$@"
"#,
        real = real.display()
    );
    let path = dir.join("ffmpeg");
    crate::util::write_script(&path, &script);
    path
}

fn calls(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("calls.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn detection_picks_the_first_hardware_encoder_whose_test_encode_works() {
    let dir = tempdir();
    let ffmpeg = stand_in_ffmpeg(dir.path());
    let d = encoder::detect(&ffmpeg);
    assert_eq!(d.chosen, Encoder::Vaapi);
    let rejected: Vec<Encoder> = d.rejected.iter().map(|(e, _)| *e).collect();
    // Chosen in priority order: what comes before VAAPI is rejected; AMF comes after it
    // (and is not listed).
    assert_eq!(
        rejected,
        vec![Encoder::VideoToolbox, Encoder::Nvenc, Encoder::Qsv]
    );
    assert_eq!(d.rejected[0].1, "not in ffmpeg -encoders");
    assert!(
        d.rejected[1].1.starts_with("test encode failed (exit 1): ")
            && d.rejected[1].1.contains("no device found"),
        "{:?}",
        d.rejected[1]
    );
    // One listing, then one one-frame test encode per listed hardware encoder (at once, so
    // in either order).
    let log = calls(dir.path());
    assert_eq!(log.len(), 3, "{log:#?}");
    assert_eq!(log[0], "-hide_banner -encoders");
    let nvenc: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("-c:v h264_nvenc"))
        .collect();
    let vaapi: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("-c:v h264_vaapi"))
        .collect();
    assert!(
        nvenc.len() == 1 && nvenc[0].contains("-frames:v 1"),
        "{log:#?}"
    );
    assert!(vaapi.len() == 1 && vaapi[0].contains("-vaapi_device /dev/dri/renderD128"));
    assert!(vaapi[0].ends_with("-f null -"), "{log:#?}");

    // resolve caches per run: a second call runs nothing.
    assert_eq!(
        encoder::resolve(&ffmpeg, EncoderChoice::Auto),
        Ok(Encoder::Vaapi)
    );
    let after_first = calls(dir.path()).len();
    assert_eq!(after_first, 6, "one more detection");
    assert_eq!(
        encoder::resolve(&ffmpeg, EncoderChoice::Auto),
        Ok(Encoder::Vaapi)
    );
    assert_eq!(calls(dir.path()).len(), after_first, "cached");
}

#[test]
fn forced_encoders_are_checked_against_the_listing() {
    let dir = tempdir();
    let ffmpeg = stand_in_ffmpeg(dir.path());
    assert_eq!(
        encoder::resolve(&ffmpeg, EncoderChoice::Forced(Encoder::Nvenc)),
        Ok(Encoder::Nvenc),
        "listed: used as forced, without a test encode"
    );
    let err = encoder::resolve(&ffmpeg, EncoderChoice::Forced(Encoder::Qsv)).unwrap_err();
    assert_eq!(
        err,
        EncoderError::NotOffered {
            encoder: Encoder::Qsv,
            ffmpeg: ffmpeg.clone()
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "encoder h264_qsv was chosen but {} does not offer it: install an ffmpeg built with it or choose auto",
            ffmpeg.display()
        )
    );
    assert_eq!(
        encoder::resolve(&ffmpeg, EncoderChoice::Forced(Encoder::Libx264)),
        Ok(Encoder::Libx264)
    );
    assert!(
        calls(dir.path())
            .iter()
            .all(|c| c == "-hide_banner -encoders")
    );
}

#[test]
fn real_ffmpeg_lists_libx264_and_detection_settles_on_a_listed_encoder() {
    let ffmpeg = require("ffmpeg");
    let listed = encoder::list_encoders(&ffmpeg).unwrap();
    assert!(listed.contains(&Encoder::Libx264), "{listed:?}");
    let d = encoder::detect(&ffmpeg);
    assert!(listed.contains(&d.chosen), "{d:?}");
    // Every hardware encoder before the chosen one was passed over with a reason.
    for (e, why) in &d.rejected {
        assert!(Encoder::HARDWARE.contains(e));
        assert!(!why.is_empty());
    }
}

#[test]
fn cli_refuses_an_unknown_encoder_naming_the_choices() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_card-ingest"))
        .args([
            "ingest",
            "/nonexistent-card",
            "--sandbox",
            "--encoder",
            "h264_fpga",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "unknown encoder 'h264_fpga': use auto, libx264, h264_videotoolbox, h264_nvenc, h264_qsv, h264_vaapi or h264_amf"
        ),
        "{err}"
    );
}
