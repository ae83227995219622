//! Action-camera sample cards: GoPro (camera-cards.md §3.7) and DJI (§3.8).
//!
//! GoPro: recording 0123 in two chapters `GH010123.MP4` + `GH020123.MP4` (2 s each at 29.97 fps,
//! drop-frame TC 00:00:00;00 and 00:00:02;00, creation times 2 s apart) with per-chapter
//! `GL..LRV` proxies and `GH..THM` JPEG thumbnails; recording 0124 alone; `MISC/`.
//! DJI: `DJI_0001.MP4` + per-frame `.SRT` telemetry + `.LRF` low-res MP4.

use super::ffmpeg::{FfCmd, Ffmpeg};
use super::files;
use super::{SampleError, SampleOptions};
use std::path::Path;

struct Chapter<'a> {
    file_stem: &'a str,
    lrv_stem: &'a str,
    seconds: u32,
    timecode: &'a str,
    creation_time: &'a str,
}

pub(crate) fn gopro(ff: &Ffmpeg, root: &Path, opts: &SampleOptions) -> Result<(), SampleError> {
    let dir = root.join("DCIM/100GOPRO");
    files::create_dir(&dir)?;
    let chapters = [
        Chapter {
            file_stem: "GH010123",
            lrv_stem: "GL010123",
            seconds: 2,
            timecode: "00:00:00;00",
            creation_time: "2024-05-14T12:00:00Z",
        },
        Chapter {
            file_stem: "GH020123",
            lrv_stem: "GL020123",
            seconds: 2,
            timecode: "00:00:02;00",
            creation_time: "2024-05-14T12:00:02Z",
        },
        Chapter {
            file_stem: "GH010124",
            lrv_stem: "GL010124",
            seconds: opts.clip_seconds,
            timecode: "00:10:00;00",
            creation_time: "2024-05-14T12:10:00Z",
        },
    ];
    for ch in &chapters {
        let mut cmd = FfCmd::new();
        cmd.video_src(&opts.size(), "30000/1001", ch.seconds)
            .sine(1000, ch.seconds)
            .args(["-filter_complex", "[0:v]split=3[v][vl0][vt0];[vl0]scale=160:90[vl];[vt0]scale=160:90[vt];[1:a]asplit=2[a][al]"]);
        for (v, a, out) in [
            ("[v]", "[a]", dir.join(format!("{}.MP4", ch.file_stem))),
            ("[vl]", "[al]", dir.join(format!("{}.LRV", ch.lrv_stem))),
        ] {
            cmd.args([
                "-map", v, "-map", a, "-c:v", "libx264", "-pix_fmt", "yuv420p",
            ])
            .args(["-c:a", "aac", "-ac", "2", "-timecode", ch.timecode])
            .arg("-metadata")
            .arg(format!("creation_time={}", ch.creation_time))
            .args(["-metadata:s:v", "handler_name=GoPro AVC"])
            .args(["-metadata:s:a", "handler_name=GoPro AAC", "-f", "mp4"])
            .output(&out);
        }
        cmd.jpeg_still("[vt]", &dir.join(format!("{}.THM", ch.file_stem)));
        ff.run(&cmd)?;
    }
    files::write(
        &root.join("MISC/GoPro-owner.txt"),
        "Owner: card-ingest sample\r\nPhone: -\r\n",
    )?;
    if opts.with_junk {
        files::mac_junk(root, &["DCIM/100GOPRO/GH010123.MP4"])?;
    }
    Ok(())
}

pub(crate) fn dji(ff: &Ffmpeg, root: &Path, opts: &SampleOptions) -> Result<(), SampleError> {
    let dir = root.join("DCIM/100MEDIA");
    files::create_dir(&dir)?;
    let mut cmd = FfCmd::new();
    cmd.video_src(&opts.size(), "30000/1001", opts.clip_seconds)
        .args([
            "-filter_complex",
            "[0:v]split=2[v][vl0];[vl0]scale=160:90[vl]",
        ]);
    for (v, out) in [("[v]", "DJI_0001.MP4"), ("[vl]", "DJI_0001.LRF")] {
        cmd.args(["-map", v, "-c:v", "libx264", "-pix_fmt", "yuv420p"])
            .args(["-metadata", "creation_time=2024-05-14T12:30:00Z"])
            .args(["-metadata:s:v", "handler_name=DJI.AVC", "-f", "mp4"])
            .output(&dir.join(out));
    }
    ff.run(&cmd)?;
    files::write(&dir.join("DJI_0001.SRT"), dji_srt(opts.clip_seconds))
}

/// One SRT cue per frame at 29.97 fps in the style of recent DJI drones (format varies by model).
fn dji_srt(seconds: u32) -> String {
    let frames = (u64::from(seconds) * 30000).div_ceil(1001);
    let mut out = String::new();
    for i in 0..frames {
        let start_ms = i * 1001 / 30;
        let end_ms = (i + 1) * 1001 / 30;
        let lat = 48.858_370 + i as f64 * 0.000_001;
        out.push_str(&format!(
            "{n}\n{} --> {}\n<font size=\"28\">FrameCnt: {n}, DiffTime: {diff}ms\n\
             2024-05-14 12:30:{sec:02}.{ms:03}\n\
             [iso: 100] [shutter: 1/500.0] [fnum: 2.8] [ev: 0] [color_md: default] \
             [focal_len: 24.00] [latitude: {lat:.6}] [longitude: 2.294481] \
             [rel_alt: 30.000 abs_alt: 65.000] [ct: 5500] </font>\n\n",
            srt_time(start_ms),
            srt_time(end_ms),
            n = i + 1,
            diff = end_ms - start_ms,
            sec = start_ms / 1000,
            ms = start_ms % 1000,
        ));
    }
    out
}

fn srt_time(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02},{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srt_has_one_cue_per_frame() {
        let srt = dji_srt(3);
        assert_eq!(srt.matches("FrameCnt: ").count(), 90);
        assert!(srt.starts_with("1\n00:00:00,000 --> 00:00:00,033\n"));
        assert!(srt.contains("90\n00:00:02,969 --> 00:00:03,003\n"));
    }
}
