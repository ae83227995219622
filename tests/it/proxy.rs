//! proxy/poster: real ffmpeg encodes of tiny clips made at test time (320x180, ≤3 s; one
//! 5-frame 1920x1080 source for the scale check), checked with ffprobe and the file bytes.
//! Needs ffmpeg, ffprobe and mediainfo on PATH: fails with a clear message when one is missing.

use super::util::{
    clip, describe, ffmpeg, ffprobe, file, op1a_8_tracks, p2_segment, require, video_clip,
};
use card_ingest::card::{Clip, ClipFile, Family, FileRole};
use card_ingest::media::ClipDescription;
use card_ingest::media::poster::{self, PosterOptions};
use card_ingest::media::proxy::{
    self, ProxyError, ProxyOutput, ProxyPlan, ProxyProgress, ProxySpec,
};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// P2 clip 0002EM: one 3 s segment (TC 10:00:00:00) written under `dir`.
fn p2_clip(dir: &Path) -> Clip {
    clip(
        Family::P2,
        "0002EM",
        Path::new("/card"),
        p2_segment(dir, "0002EM", 3, "10:00:00:00"),
        vec![vec![0, 1, 2, 3, 4]],
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Encodes a plan without progress or cancel.
fn run(plan: &ProxyPlan) -> Result<ProxyOutput, ProxyError> {
    let cancel = Arc::new(AtomicBool::new(false));
    proxy::encode(plan, &require("ffmpeg"), &cancel, &mut |_| {})
}

/// Plans and encodes, collecting the progress reports.
fn encode(c: &Clip, out: &Path) -> (ProxyOutput, Vec<ProxyProgress>) {
    let d = describe(c);
    let plan = proxy::plan(c, &d, &ProxySpec::default(), out).unwrap();
    let mut reports = Vec::new();
    let cancel = Arc::new(AtomicBool::new(false));
    let result = proxy::encode(&plan, &require("ffmpeg"), &cancel, &mut |p| reports.push(p));
    (result.unwrap(), reports)
}

fn probe(path: &Path) -> Value {
    ffprobe(path, &[])
}

fn streams<'a>(p: &'a Value, kind: &str) -> Vec<&'a Value> {
    p["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["codec_type"] == kind)
        .collect()
}

/// Width and height of the first video stream.
fn video_size(p: &Value) -> (Option<u64>, Option<u64>) {
    let v = streams(p, "video");
    (v[0]["width"].as_u64(), v[0]["height"].as_u64())
}

fn duration(p: &Value) -> f64 {
    p["format"]["duration"].as_str().unwrap().parse().unwrap()
}

/// Top-level MP4 box names in file order.
fn top_boxes(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let mut names = Vec::new();
    let mut at = 0usize;
    while at + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        names.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned());
        let size = if size == 1 {
            u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap()) as usize
        } else {
            size
        };
        if size < 8 {
            break;
        }
        at += size;
    }
    names
}

fn assert_h264_720_rules(p: &Value) {
    let v = streams(p, "video");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["codec_name"], "h264");
    assert_eq!(v[0]["profile"], "High");
    assert_eq!(v[0]["has_b_frames"], 0);
    assert_eq!(v[0]["pix_fmt"], "yuv420p");
}

#[test]
fn p2_clip_proxy_meets_the_iconik_spec() {
    let dir = tempfile::tempdir().unwrap();
    let c = p2_clip(dir.path());
    let out = dir.path().join("0002EM.mp4");
    let (o, reports) = encode(&c, &out);

    let p = probe(&out);
    assert_h264_720_rules(&p);
    assert_eq!(video_size(&p), (Some(320), Some(180)));
    let a = streams(&p, "audio");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["codec_name"], "aac");
    assert_eq!(a[0]["channels"], 2);
    assert_eq!(a[0]["sample_rate"], "48000");
    let tmcd: Vec<&Value> = streams(&p, "data")
        .into_iter()
        .filter(|s| s["codec_tag_string"] == "tmcd")
        .collect();
    assert_eq!(tmcd.len(), 1, "{p}");
    assert_eq!(tmcd[0]["tags"]["timecode"], "10:00:00:00");
    let boxes = top_boxes(&out);
    let moov = boxes.iter().position(|b| b == "moov").unwrap();
    let mdat = boxes.iter().position(|b| b == "mdat").unwrap();
    assert!(moov < mdat, "faststart: {boxes:?}");
    assert!((duration(&p) - 3.0).abs() <= 0.1, "{}", duration(&p));

    // The output record and the left/right mix: CH1+CH3 (300+700 Hz) vs CH2+CH4 (500+900 Hz).
    assert_eq!(o.size_bytes, std::fs::metadata(&out).unwrap().len());
    assert_eq!((o.width, o.height), (Some(320), Some(180)));
    assert_eq!(o.frame_rate.as_deref(), Some("25"));
    assert_eq!(o.start_time_code.as_deref(), Some("10:00:00:00"));
    assert!(!o.is_drop_frame);
    assert_eq!(o.audio_bitrate, Some(128_000));
    let f = o.iconik_fields();
    assert_eq!(f["codec"], "h264");
    assert_eq!(f["format"], "mp4");
    assert_eq!(f["resolution"]["width"], 320);
    assert_eq!(f["bit_rate"], 3_000_000);
    assert!(!dir.path().join("0002EM.mp4.part").exists());
    let pcm = Command::new(require("ffmpeg"))
        .args(["-v", "error", "-i"])
        .arg(&out)
        .args(["-map", "0:a:0", "-f", "s16le", "-ac", "2", "-"])
        .output()
        .unwrap()
        .stdout;
    let samples: Vec<i16> = pcm
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let (l, r): (Vec<i16>, Vec<i16>) = samples.chunks_exact(2).map(|f| (f[0], f[1])).unzip();
    assert!(l.len() > 100_000, "{} frames", l.len());
    let differ = l
        .iter()
        .zip(&r)
        .filter(|(a, b)| (**a - **b).abs() > 100)
        .count();
    assert!(
        differ > l.len() / 4,
        "L and R carry different channel pairs: {differ}"
    );
    assert!(l.iter().any(|x| x.abs() > 1000) && r.iter().any(|x| x.abs() > 1000));

    // Progress: non-decreasing fractions ending at exactly 1.0.
    assert!(!reports.is_empty());
    let fr: Vec<f64> = reports.iter().map(|r| r.fraction.unwrap()).collect();
    assert!(fr.windows(2).all(|w| w[0] <= w[1]), "{fr:?}");
    assert_eq!(fr.last(), Some(&1.0));
    assert!((reports.last().unwrap().out_time_seconds - 3.0).abs() <= 0.1);
}

/// Width and height of a JPEG (its first SOFn segment).
fn jpeg_size(bytes: &[u8]) -> (u16, u16) {
    assert_eq!(&bytes[..2], &[0xFF, 0xD8], "a JPEG");
    let mut at = 2;
    while at + 9 < bytes.len() {
        let (marker, len) = (
            bytes[at + 1],
            u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]),
        );
        if (0xC0..=0xC3).contains(&marker) {
            let h = u16::from_be_bytes([bytes[at + 5], bytes[at + 6]]);
            let w = u16::from_be_bytes([bytes[at + 7], bytes[at + 8]]);
            return (w, h);
        }
        at += 2 + usize::from(len);
    }
    panic!("no SOF segment");
}

#[test]
fn the_poster_is_a_second_output_of_the_same_encode() {
    let dir = tempfile::tempdir().unwrap();
    let c = p2_clip(dir.path());
    let out = dir.path().join("0002EM.mp4");
    let spec = ProxySpec {
        poster_width: Some(160),
        ..ProxySpec::default()
    };
    let plan = proxy::plan(&c, &describe(&c), &spec, &out).unwrap();
    // One ffmpeg run: the proxy first, then the poster, from one filter graph.
    let outputs: Vec<&String> = plan
        .args
        .iter()
        .filter(|a| a.ends_with(".part") || a.ends_with(".jpg"))
        .collect();
    assert_eq!(outputs.len(), 2, "{:?}", plan.args);
    let o = run(&plan).unwrap();
    let poster = o.poster.clone().expect("a poster");
    let jpeg = std::fs::read(&poster).unwrap();
    assert_eq!(jpeg_size(&jpeg), (160, 90), "16:9 source at 160 wide");
    // The proxy is the one the plain plan makes: full length, same rules.
    let p = probe(&out);
    assert_h264_720_rules(&p);
    assert!((duration(&p) - 3.0).abs() <= 0.1, "{}", duration(&p));
    // Without the option there is no poster output at all.
    let plain = proxy::plan(&c, &describe(&c), &ProxySpec::default(), &out).unwrap();
    assert_eq!(plain.poster, None);
    assert!(!plain.args.iter().any(|a| a.contains("[poster]")));
}

#[test]
fn p2_span_duration_is_the_sum_of_segments() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = p2_segment(dir.path(), "0002EM", 2, "10:00:00:00");
    files.extend(p2_segment(dir.path(), "0003EM", 1, "10:00:02:00"));
    let c = clip(
        Family::P2,
        "0002EM",
        Path::new("/card"),
        files,
        vec![vec![0, 1, 2, 3, 4], vec![5, 6, 7, 8, 9]],
    );
    let out = dir.path().join("span.mp4");
    let (o, _) = encode(&c, &out);
    let p = probe(&out);
    assert_h264_720_rules(&p);
    assert!((duration(&p) - 3.0).abs() <= 0.1, "{}", duration(&p));
    assert_eq!(streams(&p, "audio")[0]["channels"], 2);
    assert_eq!(o.start_time_code.as_deref(), Some("10:00:00:00"));
}

#[test]
fn gopro_chapters_concat_and_xdcam_eight_tracks_mix_to_stereo() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (n, secs) in [(1, 2), (2, 1)] {
        let path = dir.path().join(format!("GX0{n}0001.MP4"));
        let src = format!("testsrc2=size=320x180:rate=30000/1001:duration={secs}");
        let sine = format!("sine=f=1000:sample_rate=48000:duration={secs}");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &src,
            "-f",
            "lavfi",
            "-i",
            &sine,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-ac",
            "2",
            s(&path),
        ]);
        files.push(file(&path, FileRole::Video));
    }
    let c = clip(
        Family::Gopro,
        "GX010001",
        Path::new("/card"),
        files,
        vec![vec![0], vec![1]],
    );
    let out = dir.path().join("gopro.mp4");
    let (o, _) = encode(&c, &out);
    let p = probe(&out);
    assert_h264_720_rules(&p);
    assert!((duration(&p) - 3.0).abs() <= 0.1, "{}", duration(&p));
    assert_eq!(streams(&p, "audio")[0]["channels"], 2);
    assert_eq!(o.frame_rate.as_deref(), Some("29.97"));
    assert!(!dir.path().join("gopro.mp4.concat.txt").exists());

    let mxf = dir.path().join("C0001.MXF");
    op1a_8_tracks(&mxf, 2);
    let c = video_clip(Family::Xdcam, "C0001", Path::new("/card"), &mxf);
    let out = dir.path().join("xdcam.mp4");
    let (o, _) = encode(&c, &out);
    let p = probe(&out);
    let a = streams(&p, "audio");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["channels"], 2);
    assert_eq!(o.start_time_code.as_deref(), Some("12:00:00:00"));
}

#[test]
fn hd_source_without_audio_scales_to_720_and_gets_no_audio_track() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("hd.mov");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1920x1080:rate=25",
        "-frames:v",
        "5",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        s(&src),
    ]);
    let c = video_clip(Family::Generic, "hd", Path::new("/card"), &src);
    let out = dir.path().join("hd.mp4");
    let (o, _) = encode(&c, &out);
    let p = probe(&out);
    assert_h264_720_rules(&p);
    assert_eq!(video_size(&p), (Some(1280), Some(720)));
    assert_eq!(streams(&p, "audio").len(), 0);
    assert_eq!(
        (o.width, o.height, o.audio_bitrate),
        (Some(1280), Some(720), None)
    );
}

#[test]
fn cancel_mid_encode_kills_ffmpeg_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let c = p2_clip(dir.path());
    let d = describe(&c);
    let out = dir.path().join("cancel.mp4");
    let mut plan = proxy::plan(&c, &d, &ProxySpec::default(), &out).unwrap();
    // `-re` paces reading at realtime, so the 3-s encode is reliably still running when the
    // first progress report (every 0.5 s) raises the flag.
    plan.args.insert(3, "-re".into());
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    let mut first = None;
    let err = proxy::encode(&plan, &require("ffmpeg"), &cancel, &mut |p| {
        first.get_or_insert(p.fraction);
        flag.store(true, Ordering::Relaxed);
    })
    .unwrap_err();
    assert!(matches!(err, ProxyError::Cancelled { .. }), "{err}");
    assert!(first.flatten().unwrap() < 1.0, "{first:?}");
    assert!(!out.exists());
    assert!(!plan.temp_output.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "only VIDEO/ and AUDIO/ remain: {left:?}");
}

fn png_width(path: &Path) -> u32 {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[1..4], b"PNG");
    u32::from_be_bytes(b[16..20].try_into().unwrap())
}

#[test]
fn poster_is_scaled_and_cached() {
    let dir = tempfile::tempdir().unwrap();
    let c = p2_clip(&dir.path().join("card"));
    let d = describe(&c);
    let cache = dir.path().join("cache");
    let ff = require("ffmpeg");
    let opts = PosterOptions::default();
    let first = poster::grab(&c, &d, &ff, &cache, &opts).unwrap();
    assert!(!first.cache_hit);
    assert_eq!(png_width(&first.path), 320);
    assert_eq!(first.path.extension().unwrap(), "png");
    let mtime = std::fs::metadata(&first.path).unwrap().modified().unwrap();

    // Second call: same file, not rewritten — and no ffmpeg needed at all.
    let second = poster::grab(&c, &d, Path::new("/nonexistent/ffmpeg"), &cache, &opts).unwrap();
    assert!(second.cache_hit);
    assert_eq!(second.path, first.path);
    assert_eq!(
        std::fs::metadata(&second.path).unwrap().modified().unwrap(),
        mtime
    );

    let small = PosterOptions { width: 160, ..opts };
    let third = poster::grab(&c, &d, &ff, &cache, &small).unwrap();
    assert!(!third.cache_hit);
    assert_ne!(third.path, first.path);
    assert_eq!(png_width(&third.path), 160);
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 2);
}

#[test]
fn dpx_sequence_encodes_from_its_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = dir.path().join("A001C001.%07d.dpx");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=24",
        "-frames:v",
        "6",
        "-pix_fmt",
        "rgb48be",
        "-start_number",
        "86400",
        s(&pattern),
    ]);
    let files: Vec<ClipFile> = (86400..86406)
        .map(|n| {
            file(
                &dir.path().join(format!("A001C001.{n:07}.dpx")),
                FileRole::Video,
            )
        })
        .collect();
    let c = clip(
        Family::ImageSequence,
        "A001C001",
        Path::new("/card"),
        files,
        vec![(0..6).collect()],
    );
    let out = dir.path().join("seq.mp4");
    let (o, _) = encode(&c, &out);
    let p = probe(&out);
    assert_h264_720_rules(&p);
    assert_eq!(streams(&p, "video")[0]["nb_frames"], "6");
    assert_eq!(streams(&p, "audio").len(), 0);
    assert_eq!(o.frame_rate.as_deref(), Some("24"));
}

#[test]
fn raw_clip_uses_camera_proxy_and_thumbnail_or_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let r3d = dir.path().join("A001_C001_0514XY_001.R3D");
    std::fs::write(&r3d, b"RED2 not decodable by ffmpeg").unwrap();
    let camera_proxy = dir.path().join("A001_C001_0514XY_proxy.mov");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=24:duration=1",
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:sample_rate=48000:duration=1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        s(&camera_proxy),
    ]);
    let thumb = dir.path().join("A001_C001_0514XY.jpg");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=red:size=400x224",
        "-frames:v",
        "1",
        s(&thumb),
    ]);
    let mut c = clip(
        Family::Red,
        "A001_C001_0514XY",
        Path::new("/card"),
        vec![
            file(&r3d, FileRole::Video),
            file(&camera_proxy, FileRole::Proxy),
            file(&thumb, FileRole::Thumbnail),
        ],
        vec![vec![0]],
    );
    let d = ClipDescription::default();
    let out = dir.path().join("red.mp4");
    let plan = proxy::plan(&c, &d, &ProxySpec::default(), &out).unwrap();
    let o = run(&plan).unwrap();
    let p = probe(&out);
    assert_h264_720_rules(&p);
    assert_eq!(video_size(&p), (Some(640), Some(360)));
    assert_eq!(streams(&p, "audio")[0]["channels"], 2);
    assert_eq!(o.size_bytes, std::fs::metadata(&out).unwrap().len());
    assert_eq!(o.audio_bitrate, Some(128_000));
    // Size read back from the written file (the camera proxy was never described).
    assert_eq!((o.width, o.height), (Some(640), Some(360)));
    assert_eq!(o.iconik_fields()["resolution"]["height"], 360);

    let cache = dir.path().join("cache");
    let opts = PosterOptions {
        width: 200,
        ..PosterOptions::default()
    };
    let poster = poster::grab(&c, &d, &require("ffmpeg"), &cache, &opts).unwrap();
    assert_eq!(png_width(&poster.path), 200);

    c.files.truncate(1);
    let err = proxy::plan(&c, &d, &ProxySpec::default(), &out).unwrap_err();
    assert!(
        err.to_string().ends_with("registered without proxy"),
        "{err}"
    );
    let err = poster::grab(&c, &d, &require("ffmpeg"), &cache, &opts).unwrap_err();
    assert!(
        matches!(err, poster::PosterError::NotDecodable { .. }),
        "{err}"
    );
}

#[test]
fn interlaced_drop_frame_source_is_deinterlaced_and_keeps_its_timecode() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("C0002.MXF");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=30000/1001:duration=1",
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:sample_rate=48000:duration=1",
        "-f",
        "lavfi",
        "-i",
        "sine=f=880:sample_rate=48000:duration=1",
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-map",
        "2:a",
        "-vf",
        "setfield=tff",
        "-flags",
        "+ildct+ilme",
        "-c:v",
        "mpeg2video",
        "-b:v",
        "2M",
        "-c:a",
        "pcm_s16le",
        "-timecode",
        "01:00:00;00",
        "-f",
        "mxf",
        s(&src),
    ]);
    let c = video_clip(Family::Xdcam, "C0002", Path::new("/card"), &src);
    let d = describe(&c);
    let out = dir.path().join("i.mp4");
    let plan = proxy::plan(&c, &d, &ProxySpec::default(), &out).unwrap();
    let fc = plan
        .args
        .iter()
        .position(|a| a == "-filter_complex")
        .unwrap();
    assert_eq!(
        plan.args[fc + 1],
        "[0:v:0]bwdif=0:-1:0,format=yuv420p[v];[0:a:0][0:a:1]amerge=inputs=2,pan=stereo|c0=c0|c1=c1[a]"
    );
    let o = run(&plan).unwrap();
    let p = probe(&out);
    assert_h264_720_rules(&p);
    assert_eq!(streams(&p, "video")[0]["field_order"], "progressive");
    assert_eq!(streams(&p, "audio")[0]["channels"], 2);
    let tmcd = streams(&p, "data");
    assert_eq!(tmcd[0]["tags"]["timecode"], "01:00:00;00");
    assert_eq!(o.start_time_code.as_deref(), Some("01:00:00;00"));
    assert!(o.is_drop_frame);
    assert_eq!(o.frame_rate.as_deref(), Some("29.97"));
    assert_eq!(o.iconik_fields()["frame_rate"], "29.97");

    // Poster from the same interlaced source, as JPEG (deinterlaced, scaled).
    let opts = PosterOptions {
        width: 160,
        format: poster::PosterFormat::Jpeg,
    };
    let jpg = poster::grab(&c, &d, &require("ffmpeg"), &dir.path().join("cache"), &opts).unwrap();
    assert_eq!(jpg.path.extension().unwrap(), "jpg");
    assert_eq!(&std::fs::read(&jpg.path).unwrap()[..2], &[0xFF, 0xD8]);
    let v = probe(&jpg.path);
    assert_eq!(video_size(&v), (Some(160), Some(90)));
}

#[test]
fn a_failed_encode_names_the_output_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("GX010001.MP4");
    std::fs::write(&bad, b"this is not an mp4 at all").unwrap();
    let c = video_clip(Family::Gopro, "GX010001", Path::new("/card"), &bad);
    let out = dir.path().join("bad.mp4");
    let plan = proxy::plan(&c, &ClipDescription::default(), &ProxySpec::default(), &out).unwrap();
    let err = run(&plan).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ProxyError::Ffmpeg { status: Some(s), .. } if s != 0),
        "{msg}"
    );
    assert!(
        msg.contains("bad.mp4") && msg.contains("GX010001.MP4"),
        "{msg}"
    );
    assert!(!out.exists() && !plan.temp_output.exists());
}
