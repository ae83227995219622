//! media: describing clips built from real files made with ffmpeg at test time
//! (camera-cards.md §6 commands, 320x180, 1–3 s). Needs ffmpeg, ffprobe and mediainfo on PATH:
//! the tests fail with a clear message when one is missing.

use super::util::{
    clip, describe, ffmpeg, file, op1a_8_tracks, p2_segment, require, tools, video_clip,
};
use card_ingest::card::{Clip, ClipFile, Family, FileRole};
use card_ingest::media::{self, ClipMetadata, ProbeTool, Tools, iconik_components};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// P2 card: OP-Atom video 25p TC 10:00:00:00 + 4 mono 24-bit audio files; returns the clip
/// (video, audio 00..03) and the card root.
fn p2_clip(dir: &Path) -> Clip {
    let files = p2_segment(&dir.join("CONTENTS"), "0002EM", 3, "10:00:00:00");
    clip(Family::P2, "0002EM", dir, files, vec![vec![0, 1, 2, 3, 4]])
}

fn gopro_chapter(path: &Path, tc: &str, created: &str) {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=30000/1001:duration=2",
        "-f",
        "lavfi",
        "-i",
        "sine=f=1000:sample_rate=48000:duration=2",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-ac",
        "2",
        "-timecode",
        tc,
        "-metadata",
        &format!("creation_time={created}"),
        "-f",
        "mp4",
        path.to_str().unwrap(),
    ]);
}

/// What the container of [`p2_clip`] says, whichever tool read it.
fn assert_p2_container_facts(m: &ClipMetadata) {
    assert_eq!(m.duration_seconds, Some(3.0));
    assert_eq!(m.frame_rate.as_deref(), Some("25"));
    assert_eq!((m.width, m.height), (Some(320), Some(180)));
    assert_eq!(m.video_codec.as_deref(), Some("h264"));
    assert_eq!(m.audio_channels, Some(4));
    assert_eq!(m.timecode_start.as_deref(), Some("10:00:00:00"));
}

#[test]
fn p2_op_atom_clip_from_container() {
    let dir = tempfile::tempdir().unwrap();
    let c = p2_clip(dir.path());
    let d = describe(&c);
    let m = &d.metadata;
    assert_p2_container_facts(m);
    assert_eq!(m.camera_model, None);
    // Raw MediaInfo tracks per file, keyed by file name, marked with the tool.
    let raw = d.raw.as_object().unwrap();
    assert_eq!(raw.len(), 5);
    assert_eq!(raw["0002EM.MXF"]["tool"], "mediainfo");
    assert_eq!(raw["0002EM03.MXF"]["track"][1]["@type"], "Audio");
    assert_eq!(raw["0002EM03.MXF"]["track"][1]["BitDepth"], "24");
    // Typed per-file summaries and iconik components from the raw tracks.
    assert_eq!(d.files.len(), 5);
    assert_eq!(
        d.files[0].tech.container_profile.as_deref(),
        Some("OP-Atom")
    );
    assert_eq!(d.files[0].tech.frame_count, Some(75));
    assert_eq!(d.files[4].tech.audio_bit_depth, Some(24));
    let comps = iconik_components(d.mediainfo_tracks(&d.files[0]).unwrap());
    let video = comps.iter().find(|c| c.kind.as_str() == "VIDEO").unwrap();
    assert_eq!(video.metadata["width"], "320");
    assert_eq!(video.metadata["framecount"], "75");
    let tc = comps
        .iter()
        .find(|c| c.metadata.contains_key("timecode_firstframe"))
        .unwrap();
    assert_eq!(tc.metadata["timecode_firstframe"], "10:00:00:00");
}

#[test]
fn p2_sidecar_wins_for_operator_facts() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = p2_clip(dir.path());
    let xml = dir.path().join("CONTENTS/CLIP/0002EM.XML");
    std::fs::create_dir_all(xml.parent().unwrap()).unwrap();
    std::fs::write(
        &xml,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<P2Main xmlns="urn:schemas-Professional-Plug-in:P2:ClipMetadata:v3.1"><ClipContent>
<ClipName>0002EM</ClipName><Duration>75</Duration><EditUnit>1/25</EditUnit>
<EssenceList><Video><Codec Class="100">AVC-I_1080/50i</Codec><FrameRate>50i</FrameRate>
<StartTimecode>10:00:00:00</StartTimecode></Video></EssenceList>
<ClipMetadata><UserClipName>Interview A</UserClipName>
<Device><Manufacturer>Panasonic</Manufacturer><SerialNo.>D1TCA0001</SerialNo.><ModelName>AJ-PX270</ModelName></Device>
<Shoot><StartDate>2024-05-14T12:00:00+02:00</StartDate></Shoot></ClipMetadata>
</ClipContent></P2Main>"#,
    )
    .unwrap();
    c.files.push(file(&xml, FileRole::Sidecar));
    let d = describe(&c);
    let m = &d.metadata;
    assert_eq!(m.duration_seconds, Some(3.0));
    assert_eq!(m.frame_rate.as_deref(), Some("25"));
    assert_eq!(m.timecode_start.as_deref(), Some("10:00:00:00"));
    assert_eq!(m.camera_model.as_deref(), Some("AJ-PX270"));
    assert_eq!(m.camera_serial.as_deref(), Some("D1TCA0001"));
    assert_eq!(m.user_clip_name.as_deref(), Some("Interview A"));
    assert_eq!(m.shoot_date.as_deref(), Some("2024-05-14T12:00:00+02:00"));
    assert_eq!(
        m.video_codec.as_deref(),
        Some("h264"),
        "container codec, not sidecar label"
    );
    assert_eq!(d.sidecars.len(), 1);
}

#[test]
fn ffprobe_fallback_gives_the_same_p2_facts() {
    let dir = tempfile::tempdir().unwrap();
    let c = p2_clip(dir.path());
    let only_ffprobe = Tools {
        mediainfo: None,
        ..tools()
    };
    let d = media::describe_clip(&c, &only_ffprobe);
    assert!(d.issues.is_empty(), "{:?}", d.issues);
    let m = &d.metadata;
    assert_p2_container_facts(m);
    assert_eq!(d.raw["0002EM.MXF"]["tool"], "ffprobe");
    assert_eq!(d.raw["0002EM.MXF"]["streams"][0]["codec_name"], "h264");
    assert!(d.files.iter().all(|f| f.tech.tool == ProbeTool::Ffprobe));
    let comps = d.components(&d.files[0]);
    assert_eq!(
        comps.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>(),
        ["VIDEO", "OTHER"]
    );
    assert_eq!(comps[0].metadata["width"], "320");
    assert_eq!(comps[0].metadata["framerate"], "25.000");
    assert_eq!(comps[1].metadata["timecode_firstframe"], "10:00:00:00");
    let audio = d.components(&d.files[1]);
    assert_eq!(audio[0].metadata["bitdepth"], "24");
}

#[test]
fn mp4_drop_frame_timecode_and_creation_time() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("GH010123.MP4");
    gopro_chapter(&p, "00:00:00;00", "2024-05-14T12:00:00Z");
    let c = video_clip(Family::Gopro, "GH0123", dir.path(), &p);
    let d = describe(&c);
    let m = &d.metadata;
    assert_eq!(m.frame_rate.as_deref(), Some("30000/1001"));
    assert_eq!(m.timecode_start.as_deref(), Some("00:00:00;00"));
    assert_eq!(m.shoot_date.as_deref(), Some("2024-05-14T12:00:00Z"));
    assert_eq!(m.audio_channels, Some(2));
    assert_eq!(m.duration_seconds, Some(2.002));
}

#[test]
fn gopro_chapters_add_durations_not_channels() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("GH010123.MP4");
    let b = dir.path().join("GH020123.MP4");
    gopro_chapter(&a, "00:00:00;00", "2024-05-14T12:00:00Z");
    gopro_chapter(&b, "00:00:02;00", "2024-05-14T12:00:02Z");
    let c = clip(
        Family::Gopro,
        "GH0123",
        dir.path(),
        vec![file(&a, FileRole::Video), file(&b, FileRole::Video)],
        vec![vec![0], vec![1]],
    );
    let d = media::describe_clip(&c, &tools());
    assert_eq!(d.metadata.audio_channels, Some(2));
    assert_eq!(d.metadata.duration_seconds, Some(4.004));
    assert_eq!(d.metadata.timecode_start.as_deref(), Some("00:00:00;00"));
    assert_eq!(
        d.metadata.shoot_date.as_deref(),
        Some("2024-05-14T12:00:00Z")
    );
}

#[test]
fn op1a_mxf_with_8_mono_tracks() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("C0001.MXF");
    op1a_8_tracks(&p, 3);
    let c = video_clip(Family::Xdcam, "C0001", dir.path(), &p);
    let d = describe(&c);
    let m = &d.metadata;
    assert_eq!(m.audio_channels, Some(8));
    assert_eq!(m.video_codec.as_deref(), Some("mpeg2video"));
    assert_eq!(m.timecode_start.as_deref(), Some("12:00:00:00"));
    assert_eq!(m.duration_seconds, Some(3.0));
    assert_eq!(d.files[0].tech.audio_bit_depth, Some(24));
}

/// Appends an iXML chunk after `data` and fixes the RIFF size (ffmpeg cannot write iXML).
fn append_ixml(path: &Path, ixml: &str) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut body = ixml.as_bytes().to_vec();
    if body.len() % 2 == 1 {
        body.push(0);
    }
    bytes.extend_from_slice(b"iXML");
    bytes.extend_from_slice(&(ixml.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&body);
    let riff = (bytes.len() - 8) as u32;
    bytes[4..8].copy_from_slice(&riff.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn bwf_time_reference_gives_start_timecode() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("S001T01.WAV");
    // 10 h + 0.4 s after midnight: 9.6 frames at 24 fps (→ :09). Without a stated timecode
    // rate there is no timecode (no invented 25 fps), only the sample position.
    let samples = (48_000u64 * 36_000 + 19_200).to_string();
    let tr = format!("time_reference={samples}");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:sample_rate=48000:duration=1",
        "-c:a",
        "pcm_s24le",
        "-write_bext",
        "1",
        "-metadata",
        "description=sSCENE=12",
        "-metadata",
        "originator=SD",
        "-metadata",
        &tr,
        p.to_str().unwrap(),
    ]);
    let c = clip(
        Family::AudioBwf,
        "S001T01",
        dir.path(),
        vec![file(&p, FileRole::Audio)],
        vec![vec![0]],
    );
    let d = describe(&c);
    assert_eq!(d.metadata.timecode_start, None);
    assert_eq!(d.metadata.frame_rate, None);
    assert_eq!(
        d.metadata.time_reference.as_deref(),
        Some(
            "1728019200 samples since midnight at 48000 Hz (10:00:00 wall clock; the file \
             states no timecode rate)"
        )
    );
    assert_eq!(d.metadata.scene.as_deref(), Some("12"));
    assert_eq!(d.metadata.recorder.as_deref(), Some("SD"));
    assert_eq!(d.metadata.audio_channels, Some(1));
    assert_eq!(d.metadata.duration_seconds, Some(1.0));

    append_ixml(
        &p,
        "<BWFXML><SCENE>12</SCENE><TAKE>3</TAKE><SPEED><TIMECODE_RATE>24/1</TIMECODE_RATE>\
         <TIMECODE_FLAG>NDF</TIMECODE_FLAG></SPEED></BWFXML>",
    );
    let d = media::describe_clip(&c, &tools());
    assert_eq!(d.metadata.timecode_start.as_deref(), Some("10:00:00:09"));
    assert_eq!(d.metadata.time_reference, None);
    assert_eq!(d.metadata.take.as_deref(), Some("3"));
    assert_eq!(
        d.metadata.sources.get("take").map(String::as_str),
        Some("S001T01.WAV iXML TAKE")
    );
    let Some((_, media::sidecar::Sidecar::Bwf(info))) = d.sidecars.first() else {
        panic!("no BWF sidecar: {:?}", d.sidecars);
    };
    assert_eq!(info.bext.as_ref().unwrap().description, "sSCENE=12");
    assert_eq!(info.ixml.as_ref().unwrap().take.as_deref(), Some("3"));
}

#[test]
fn broken_files_become_issues_and_the_rest_is_described() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("GOOD.MXF");
    let full = dir.path().join("FULL.MXF");
    op1a_8_tracks(&full, 3);
    std::fs::copy(&full, &good).unwrap();
    let cut = dir.path().join("CUT.MXF");
    let bytes = std::fs::read(&full).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let empty = dir.path().join("EMPTY.MXF");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.path().join("TEXT.MXF");
    std::fs::write(&text, b"this is not media\n").unwrap();
    // Unreadable without chmod (we run as root): a dangling symlink and a folder.
    let dangling = dir.path().join("GONE.MXF");
    std::os::unix::fs::symlink(dir.path().join("nowhere.MXF"), &dangling).unwrap();
    let folder = dir.path().join("FOLDER.MXF");
    std::fs::create_dir(&folder).unwrap();
    // A FIFO must be reported without ever being opened (opening one blocks).
    let fifo = dir.path().join("PIPE.WAV");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed");

    let paths = [&good, &cut, &empty, &text, &dangling, &folder, &fifo];
    let files = paths.iter().map(|p| file(p, FileRole::Video)).collect();
    let segs = (0..paths.len()).map(|i| vec![i]).collect();
    let c = clip(Family::Generic, "mixed", dir.path(), files, segs);
    let d = media::describe_clip(&c, &tools());

    let issue = |p: &Path| -> String {
        d.issues
            .iter()
            .filter(|(ip, _)| ip == p)
            .map(|(_, m)| m.clone())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    assert_eq!(d.issues.len(), 6, "{:?}", d.issues);
    assert!(issue(&good).is_empty());
    assert!(
        issue(&cut).contains("truncated") && issue(&cut).contains("re-copy"),
        "{}",
        issue(&cut)
    );
    assert!(
        issue(&empty).contains("empty (0 bytes)"),
        "{}",
        issue(&empty)
    );
    assert!(
        issue(&text).contains("not a media file"),
        "{}",
        issue(&text)
    );
    assert!(
        issue(&dangling).contains("cannot read"),
        "{}",
        issue(&dangling)
    );
    assert!(
        issue(&folder).contains("found a folder"),
        "{}",
        issue(&folder)
    );
    assert_eq!(
        issue(&fifo),
        "not a regular file (FIFO, device or socket): skipped; copy the real file from the card"
    );
    assert_eq!(
        issue(&empty),
        "file is empty (0 bytes): re-copy it from the card"
    );
    // The good file (and the readable part of the cut one) were still described.
    assert_eq!(d.raw.as_object().unwrap().len(), 2);
    assert_eq!(d.raw["GOOD.MXF"]["tool"], "mediainfo");
    assert_eq!(d.metadata.audio_channels, Some(8));
}

#[test]
fn hung_tool_is_killed_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("mediainfo");
    // `exec` so killing the "tool" kills the sleep too.
    crate::util::write_script(&fake, "#!/bin/sh\nexec sleep 30\n");
    let p = dir.path().join("A.MXF");
    std::fs::write(&p, b"some bytes").unwrap();
    let c = video_clip(Family::Generic, "A", dir.path(), &p);
    let t = Tools {
        mediainfo: Some(fake.clone()),
        ffprobe: None,
        probe_timeout: Some(Duration::from_millis(300)),
        ..Tools::default()
    };
    let started = std::time::Instant::now();
    let d = media::describe_clip(&c, &t);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(d.issues.len(), 1, "{:?}", d.issues);
    let msg = &d.issues[0].1;
    assert!(
        msg.contains("did not finish") && msg.contains(&*fake.to_string_lossy()),
        "{msg}"
    );
}

#[test]
fn without_mediainfo_and_ffprobe_a_p2_card_is_described_from_its_clip_xml() {
    let dir = tempfile::tempdir().unwrap();
    let card = card_ingest::sample::generate(
        card_ingest::sample::SampleKind::P2,
        &dir.path().join("card"),
        &card_ingest::sample::SampleOptions::default(),
    )
    .unwrap();
    let report =
        card_ingest::scan::scan(std::slice::from_ref(&card.dir), &Tools::default()).unwrap();
    let clip = report
        .clips
        .iter()
        .find(|c| c.clip.name == "0002EM")
        .expect("the P2 clip is found without any media tool");
    let m = &clip.metadata;
    // The clip XML alone gives these …
    assert_eq!(m.timecode_start.as_deref(), Some("10:00:00:00"));
    assert_eq!(m.user_clip_name.as_deref(), Some("Interview take 1"));
    assert!(m.camera_model.is_some(), "{m:?}");
    // … and no tool ran, so no file was probed and no per-file error was invented.
    assert_eq!(clip.raw_metadata, serde_json::json!({}));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let missing: Vec<_> = Tools::default().missing().iter().map(|m| m.kind).collect();
    assert_eq!(
        missing,
        vec![
            card_ingest::media::tools::ToolKind::Ffmpeg,
            card_ingest::media::tools::ToolKind::Mediainfo
        ]
    );
}

#[test]
fn dpx_sequence_probes_first_frame_and_counts_frames() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = dir.path().join("A001C001.%07d.dpx");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=24:duration=0.5",
        "-start_number",
        "86400",
        pattern.to_str().unwrap(),
    ]);
    let mut frames: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    frames.sort();
    assert_eq!(frames.len(), 12);
    let files: Vec<ClipFile> = frames.iter().map(|p| file(p, FileRole::Video)).collect();
    let c = clip(
        Family::ImageSequence,
        "A001C001",
        dir.path(),
        files,
        vec![(0..12).collect()],
    );
    let d = describe(&c);
    assert_eq!(d.files.len(), 1, "only the first frame is probed");
    assert_eq!(
        d.metadata.frame_rate.as_deref(),
        Some("24"),
        "ffmpeg writes no DPX rate: 24 assumed"
    );
    assert_eq!(d.metadata.duration_seconds, Some(0.5));
    assert_eq!(
        (d.metadata.width, d.metadata.height),
        (Some(320), Some(180))
    );
    assert_eq!(d.metadata.video_codec.as_deref(), Some("dpx"));
}

#[test]
fn raw_frames_are_not_probed() {
    let dir = tempfile::tempdir().unwrap();
    let r3d = dir.path().join("A001_C001_0514XY_001.R3D");
    std::fs::write(&r3d, b"RED2 stub, not decodable").unwrap();
    let c = video_clip(Family::Red, "A001_C001_0514XY", dir.path(), &r3d);
    let d = describe(&c);
    assert!(d.files.is_empty());
    assert_eq!(d.metadata, media::ClipMetadata::default());
}

#[test]
fn empty_or_broken_sidecars_are_issues_and_media_still_described() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = dir.path().join("C0001.MP4");
    gopro_chapter(&mp4, "01:00:00;00", "2024-05-14T12:00:00Z");
    let empty_xml = dir.path().join("C0001M01.XML");
    std::fs::write(&empty_xml, b"").unwrap();
    let ex = clip(
        Family::XdcamEx,
        "C0001",
        dir.path(),
        vec![
            file(&mp4, FileRole::Video),
            file(&empty_xml, FileRole::Sidecar),
        ],
        vec![vec![0]],
    );
    let d = media::describe_clip(&ex, &tools());
    assert_eq!(d.issues.len(), 1, "{:?}", d.issues);
    assert_eq!(d.issues[0].0, empty_xml);
    assert!(
        d.issues[0].1.starts_with("Sony clip XML is empty"),
        "{}",
        d.issues[0].1
    );
    assert_eq!(d.metadata.timecode_start.as_deref(), Some("01:00:00;00"));
    assert_eq!(d.metadata.frame_rate.as_deref(), Some("30000/1001"));

    let broken = dir.path().join("0001AB.XML");
    std::fs::write(&broken, "<P2Main><ClipContent><Duration>75").unwrap();
    let p2 = clip(
        Family::P2,
        "0001AB",
        dir.path(),
        vec![
            file(&mp4, FileRole::Video),
            file(&broken, FileRole::Sidecar),
        ],
        vec![vec![0]],
    );
    let d = media::describe_clip(&p2, &tools());
    assert_eq!(d.issues.len(), 1, "{:?}", d.issues);
    assert!(
        d.issues[0].1.starts_with("P2 clip XML is not well-formed"),
        "{}",
        d.issues[0].1
    );
    assert!(d.issues[0].1.contains("re-copy"));
    assert_eq!(d.metadata.duration_seconds, Some(2.002));
}

/// A one-file clip `name` of the sample card `kind` (the generator's own ffmpeg commands),
/// written into a temp dir that lives as long as the returned guard.
fn sample_clip(
    kind: card_ingest::sample::SampleKind,
    family: Family,
    name: &str,
    rel: &str,
) -> (tempfile::TempDir, Clip) {
    require("ffmpeg");
    let dir = tempfile::tempdir().unwrap();
    let opts = card_ingest::sample::SampleOptions::default();
    let root = card_ingest::sample::generate(kind, &dir.path().join(kind.as_str()), &opts)
        .unwrap_or_else(|e| panic!("writing the {kind} sample card failed: {e}"))
        .dir;
    let files = vec![file(&root.join(rel), FileRole::Video)];
    let c = clip(family, name, &root, files, vec![vec![0]]);
    (dir, c)
}

/// D10 codes 720×608 (576 picture lines + 32 VBI lines): both tools report the 576-line
/// picture the operator knows (MediaInfo itself, ffprobe through the D10 rule).
#[test]
fn d10_imx_is_720x576_from_either_tool() {
    let (_dir, c) = sample_clip(
        card_ingest::sample::SampleKind::Imx,
        Family::Xdcam,
        "C0001",
        "XDROOT/Clip/C0001.MXF",
    );
    let only_ffprobe = Tools {
        mediainfo: None,
        ..tools()
    };
    for (t, tool) in [
        (tools(), ProbeTool::Mediainfo),
        (only_ffprobe, ProbeTool::Ffprobe),
    ] {
        let d = media::describe_clip(&c, &t);
        assert!(d.issues.is_empty(), "{tool:?}: {:?}", d.issues);
        assert_eq!(d.files[0].tech.tool, tool);
        let m = &d.metadata;
        assert_eq!((m.width, m.height), (Some(720), Some(576)), "{tool:?}");
        assert_eq!(m.video_codec.as_deref(), Some("mpeg2video"), "{tool:?}");
        assert_eq!(m.frame_rate.as_deref(), Some("25"), "{tool:?}");
        assert_eq!(m.timecode_start.as_deref(), Some("13:00:00:00"), "{tool:?}");
    }
}

/// The AVCHD sample streams carry no VUI timing: MediaInfo reads them as "VFR" with no rate.
/// The rate comes from ffprobe (25/1) while MediaInfo stays the file's tool, and both
/// outputs are in the raw metadata.
#[test]
fn mts_without_a_mediainfo_rate_gets_it_from_ffprobe() {
    let (_dir, c) = sample_clip(
        card_ingest::sample::SampleKind::Avchd,
        Family::Avchd,
        "00002",
        "PRIVATE/AVCHD/BDMV/STREAM/00002.MTS",
    );
    let d = describe(&c);
    assert_eq!(d.files[0].tech.tool, ProbeTool::Mediainfo);
    assert_eq!(d.metadata.frame_rate.as_deref(), Some("25"));
    assert_eq!(
        (d.metadata.width, d.metadata.height),
        (Some(320), Some(180))
    );
    assert_eq!(d.metadata.audio_channels, Some(2));
    assert_eq!(d.raw["00002.MTS"]["tool"], "mediainfo");
    assert_eq!(
        d.raw["00002.MTS"]["ffprobe"]["streams"][0]["r_frame_rate"],
        "25/1"
    );
}
