//! Action-camera sample cards: GoPro (camera-cards.md §3.7) and DJI (§3.8).
//!
//! GoPro: recording 0123 in two chapters `GH010123.MP4` + `GH020123.MP4` (2 s each at 29.97 fps,
//! drop-frame TC 00:00:00;00 and 00:00:02;00, creation times 2 s apart) with per-chapter
//! `GL..LRV` proxies and `GH..THM` JPEG thumbnails; recording 0124 alone; `MISC/`. Chapter 1
//! carries HiLight tags at 0.5 s and 1.5 s, chapter 2 one at 1.0 s of the chapter (the
//! `moov/udta/HMMT` box of real HERO files, [`crate::media::sidecar::gopro_hmmt`]); 0124 none.
//! DJI: `DJI_0001.MP4` + per-frame `.SRT` telemetry + `.LRF` low-res MP4.

use super::ffmpeg::{FfCmd, Ffmpeg};
use super::files;
use super::{SampleError, SampleOptions};
use std::path::Path;

struct Chapter<'a> {
    file_stem: &'a str,
    /// HiLight tags, ms from the chapter file's start.
    hilights: &'a [u32],
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
            hilights: &[500, 1500],
            lrv_stem: "GL010123",
            seconds: 2,
            timecode: "00:00:00;00",
            creation_time: "2024-05-14T12:00:00Z",
        },
        Chapter {
            file_stem: "GH020123",
            hilights: &[1000],
            lrv_stem: "GL020123",
            seconds: 2,
            timecode: "00:00:02;00",
            creation_time: "2024-05-14T12:00:02Z",
        },
        Chapter {
            file_stem: "GH010124",
            hilights: &[],
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
        if !ch.hilights.is_empty() {
            append_to_udta(
                &dir.join(format!("{}.MP4", ch.file_stem)),
                &crate::media::sidecar::gopro_hmmt::encode_box(ch.hilights),
            )?;
        }
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

/// Appends `child` (a whole box) to the `moov/udta` of the MP4 at `path`, creating the `udta`
/// when there is none. ffmpeg writes `moov` last (no `faststart`), so the media offsets in
/// `stco` stay right: only `moov` is rewritten, in place at the end of the file.
fn append_to_udta(path: &Path, child: &[u8]) -> Result<(), SampleError> {
    let io = |source: std::io::Error| SampleError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bad = |why: &str| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            why.to_owned(),
        ))
    };
    let bytes = std::fs::read(path).map_err(io)?;
    let be32 = |at: usize| -> Option<usize> {
        let b = bytes.get(at..at + 4)?;
        usize::try_from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok()
    };
    // Top-level boxes: the last one must be `moov` (32-bit sizes: ffmpeg's small samples).
    let mut at = 0;
    let mut moov = None;
    while at + 8 <= bytes.len() {
        let size = be32(at)
            .filter(|&n| n >= 8)
            .ok_or_else(|| bad("a box of size < 8"))?;
        if &bytes[at + 4..at + 8] == b"moov" {
            moov = Some((at, size));
        }
        at += size;
    }
    let (moov_at, moov_size) = moov.ok_or_else(|| bad("no moov box"))?;
    if moov_at + moov_size != bytes.len() {
        return Err(bad("moov is not the last box (written with faststart?)"));
    }
    let mut body = bytes[moov_at + 8..].to_vec();
    let mut at = 0;
    let mut udta = None;
    while at + 8 <= body.len() {
        let size = body
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .filter(|&n| n >= 8)
            .ok_or_else(|| bad("a moov child of size < 8"))?;
        if &body[at + 4..at + 8] == b"udta" {
            udta = Some((at, size));
        }
        at += size;
    }
    let size32 = |n: usize| u32::try_from(n).map_err(|_| bad("box over 4 GB"));
    match udta {
        Some((u_at, u_size)) => {
            body.splice(u_at + u_size..u_at + u_size, child.iter().copied());
            body[u_at..u_at + 4].copy_from_slice(&size32(u_size + child.len())?.to_be_bytes());
        }
        None => {
            body.extend_from_slice(&size32(8 + child.len())?.to_be_bytes());
            body.extend_from_slice(b"udta");
            body.extend_from_slice(child);
        }
    }
    let mut out = bytes[..moov_at].to_vec();
    out.extend_from_slice(&size32(8 + body.len())?.to_be_bytes());
    out.extend_from_slice(b"moov");
    out.extend_from_slice(&body);
    std::fs::write(path, out).map_err(io)
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
