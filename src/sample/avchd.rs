//! AVCHD sample card (camera-cards.md §3.6): `PRIVATE/AVCHD/BDMV/STREAM/00000.MTS` + `00001.MTS`
//! = one 2 s recording cut in two with continuing PTS (segment muxer, `-reset_timestamps 0`), and
//! `00002.MTS` = a separate 1 s recording whose PTS jump far ahead. CLIPINF/PLAYLIST/INDEX files
//! are placeholders that no parser accepts, so the scanner must fall back to PTS continuity.

use super::ffmpeg::{FfCmd, Ffmpeg};
use super::files;
use super::{SampleError, SampleOptions};
use std::path::Path;

/// Says what the placeholder is; it lacks the `HDMV0100`/`HDMV0200` magic of real BDMV files.
const PLACEHOLDER: &str =
    "card-ingest sample placeholder: not a real AVCHD database file (no HDMV header)\n";

pub(crate) fn avchd(ff: &Ffmpeg, root: &Path, opts: &SampleOptions) -> Result<(), SampleError> {
    let bdmv = root.join("PRIVATE/AVCHD/BDMV");
    let stream = bdmv.join("STREAM");
    files::create_dir(&stream)?;
    // Recording 1: 2 s at 25p, GOP = 25 frames so the 1 s cut lands on a keyframe.
    let mut cmd = FfCmd::new();
    cmd.video_src(&opts.size(), "25", 2)
        .sine(440, 2)
        .args([
            "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-pix_fmt", "yuv420p",
        ])
        .args([
            "-g", "25", "-bf", "0", "-c:a", "ac3", "-b:a", "128k", "-ac", "2",
        ])
        .args([
            "-f",
            "segment",
            "-segment_time",
            "1",
            "-segment_format",
            "mpegts",
        ])
        .args([
            "-segment_format_options",
            "mpegts_m2ts_mode=1",
            "-reset_timestamps",
            "0",
        ])
        .args(["-segment_start_number", "0"])
        .output(&stream.join("%05d.MTS"));
    ff.run(&cmd)?;
    for name in ["00000.MTS", "00001.MTS"] {
        let p = stream.join(name);
        if !p.is_file() {
            return Err(SampleError::FfmpegNoOutput {
                command: "ffmpeg -f segment (AVCHD recording 1)".into(),
                output: p,
            });
        }
    }
    // Recording 2: starts 100 s later in PTS terms, so it cannot look like a continuation.
    let mut cmd = FfCmd::new();
    cmd.video_src(&opts.size(), "25", 1)
        .sine(880, 1)
        .args([
            "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-pix_fmt", "yuv420p",
        ])
        .args([
            "-g", "25", "-bf", "0", "-c:a", "ac3", "-b:a", "128k", "-ac", "2",
        ])
        .args([
            "-output_ts_offset",
            "100",
            "-f",
            "mpegts",
            "-mpegts_m2ts_mode",
            "1",
        ])
        .output(&stream.join("00002.MTS"));
    ff.run(&cmd)?;
    for n in 0..3 {
        files::write(&bdmv.join(format!("CLIPINF/{n:05}.CPI")), PLACEHOLDER)?;
    }
    files::write(&bdmv.join("PLAYLIST/00000.MPL"), PLACEHOLDER)?;
    files::write(&bdmv.join("INDEX.BDM"), PLACEHOLDER)?;
    files::write(&bdmv.join("MOVIEOBJ.BDM"), PLACEHOLDER)
}
