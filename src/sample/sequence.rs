//! Image-sequence sample (camera-cards.md §3.13): DPX frames numbered from 86400 (= 01:00:00:00
//! at 24 fps). `A001C001/` holds 24 contiguous frames; `A001C002/` the same range with frames
//! 86410–86411 missing, a gap the scanner must report. Frames are 160×90 RGB to stay small.

use super::ffmpeg::{FfCmd, Ffmpeg};
use super::files;
use super::{SampleError, SampleOptions};
use std::path::Path;

pub(crate) const FIRST_FRAME: u32 = 86400;
const FRAMES: u32 = 24;
/// Frames deleted from `A001C002` to make the gap.
const GAP: [u32; 2] = [86410, 86411];

pub(crate) fn dpx(ff: &Ffmpeg, root: &Path, _opts: &SampleOptions) -> Result<(), SampleError> {
    let mut cmd = FfCmd::new();
    cmd.video_src("160x90", "24", 1)
        .args(["-filter_complex", "[0:v]split=2[s1][s2]"]);
    for (label, clip) in [("[s1]", "A001C001"), ("[s2]", "A001C002")] {
        let dir = root.join(clip);
        files::create_dir(&dir)?;
        cmd.args([
            "-map",
            label,
            "-frames:v",
            &FRAMES.to_string(),
            "-c:v",
            "dpx",
        ])
        .args([
            "-pix_fmt",
            "rgb24",
            "-start_number",
            &FIRST_FRAME.to_string(),
        ])
        .args(["-f", "image2"])
        .output(&dir.join(format!("{clip}.%07d.dpx")));
    }
    ff.run(&cmd)?;
    for clip in ["A001C001", "A001C002"] {
        for frame in FIRST_FRAME..FIRST_FRAME + FRAMES {
            let p = root.join(format!("{clip}/{clip}.{frame:07}.dpx"));
            if !p.is_file() {
                return Err(SampleError::FfmpegNoOutput {
                    command: "ffmpeg -f image2 (DPX sequence)".into(),
                    output: p,
                });
            }
        }
    }
    for frame in GAP {
        let p = root.join(format!("A001C002/A001C002.{frame:07}.dpx"));
        std::fs::remove_file(&p).map_err(|source| SampleError::Io { path: p, source })?;
    }
    Ok(())
}
