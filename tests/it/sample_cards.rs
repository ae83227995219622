//! Checks with ffprobe (and by reading the bytes) that the sample generator wrote what the card
//! layouts in camera-cards.md §3/§6 need: stream counts, timecodes, durations, span links, chunks.

use crate::util::{self, ffprobe, fixtures};
use card_ingest::sample::{self, SampleKind, SampleOptions};
use serde_json::Value;
use std::path::Path;

fn streams(v: &Value) -> Vec<(String, String)> {
    v["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| {
            (
                s["codec_type"].as_str().unwrap_or("").to_string(),
                s["codec_name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn tc(v: &Value) -> Option<&str> {
    v["format"]["tags"]["timecode"].as_str()
}

fn duration(v: &Value) -> f64 {
    v["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("format.duration")
}

fn xml_text(path: &Path, element: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("read xml");
    let doc = roxmltree::Document::parse(&text).expect("parse xml");
    doc.descendants()
        .filter(|n| n.tag_name().name() == element)
        .map(|n| n.text().unwrap_or("").to_string())
        .collect()
}

const OP_ATOM: &str = "060e2b34.04010102.0d010201.10030000";

#[test]
fn p2_op_atom_files_hold_one_stream_each_with_timecode() {
    let c = fixtures().dir_of(SampleKind::P2).join("CONTENTS");
    let video = ffprobe(&c.join("VIDEO/0002EM.MXF"), &["-count_frames"]);
    assert_eq!(streams(&video), [("video".into(), "h264".into())]);
    assert_eq!(video["format"]["tags"]["operational_pattern_ul"], OP_ATOM);
    assert_eq!(tc(&video), Some("10:00:00:00"));
    assert_eq!(video["streams"][0]["nb_read_frames"], "75");
    assert_eq!(video["streams"][0]["r_frame_rate"], "25/1");
    assert_eq!(
        (
            &video["streams"][0]["width"],
            &video["streams"][0]["height"]
        ),
        (&Value::from(320), &Value::from(180))
    );
    for ch in 0..4 {
        let a = ffprobe(&c.join(format!("AUDIO/0002EM{ch:02}.MXF")), &[]);
        assert_eq!(
            streams(&a),
            [("audio".into(), "pcm_s24le".into())],
            "ch {ch}"
        );
        assert_eq!(a["format"]["tags"]["operational_pattern_ul"], OP_ATOM);
        assert_eq!(a["streams"][0]["channels"], 1);
        assert_eq!(a["streams"][0]["sample_rate"], "48000");
        assert_eq!(tc(&a), Some("10:00:00:00"));
        assert_eq!(duration(&a), 3.0);
    }
    // The four channels are distinct tones, so their files differ.
    let a0 = std::fs::read(c.join("AUDIO/0002EM00.MXF")).expect("read");
    let a1 = std::fs::read(c.join("AUDIO/0002EM01.MXF")).expect("read");
    assert_ne!(a0, a1);
    let proxy = ffprobe(&c.join("PROXY/0002EM.MP4"), &[]);
    assert_eq!(
        streams(&proxy)[..2],
        [
            ("video".into(), "h264".into()),
            ("audio".into(), "aac".into())
        ]
    );
    let icon = ffprobe(&c.join("ICON/0002EM.BMP"), &[]);
    assert_eq!(streams(&icon), [("video".into(), "bmp".into())]);
    assert_eq!(icon["streams"][0]["width"], 112);
    let memo = ffprobe(&c.join("VOICE/0002EM00.WAV"), &[]);
    assert_eq!(streams(&memo), [("audio".into(), "pcm_s16le".into())]);
    assert_eq!(
        std::fs::read_to_string(fixtures().dir_of(SampleKind::P2).join("LASTCLIP.TXT"))
            .expect("LASTCLIP"),
        "0003AB\r\n"
    );
}

#[test]
fn p2_span_xml_links_card_a_to_card_b() {
    let span = fixtures().dir_of(SampleKind::P2Span);
    let a = span.join("CARD_A/CONTENTS/CLIP/0003AB.XML");
    let b = span.join("CARD_B/CONTENTS/CLIP/0004CD.XML");
    let id_a = util::p2_global_clip_id(&a);
    let id_b = util::p2_global_clip_id(&b);
    for id in [&id_a, &id_b] {
        assert_eq!(id.len(), 64);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(&id[32..], "0".repeat(32));
    }
    assert_ne!(id_a, id_b);
    // 0003AB: Top = itself, Next = 0004CD on CARDB0001.
    assert_eq!(xml_text(&a, "ClipName"), ["0003AB", "0004CD"]);
    assert_eq!(
        xml_text(&a, "GlobalClipID"),
        [id_a.clone(), id_a.clone(), id_b.clone()]
    );
    assert_eq!(xml_text(&a, "P2SerialNo."), ["CARDB0001"]);
    assert_eq!(xml_text(&a, "OffsetInShot"), ["0"]);
    assert_eq!(xml_text(&a, "Duration"), ["50"]);
    assert_eq!(xml_text(&a, "StartTimecode"), ["11:00:00:00"]);
    // 0004CD: Top = Previous = 0003AB, offset 50 frames.
    assert_eq!(
        xml_text(&b, "GlobalClipID"),
        [id_b.clone(), id_a.clone(), id_a.clone()]
    );
    assert_eq!(xml_text(&b, "GlobalShotID"), std::slice::from_ref(&id_a));
    assert_eq!(xml_text(&b, "OffsetInShot"), ["50"]);
    assert_eq!(xml_text(&b, "Duration"), ["25"]);
    assert_eq!(xml_text(&b, "StartTimecode"), ["11:00:02:00"]);
    let vb = ffprobe(&span.join("CARD_B/CONTENTS/VIDEO/0004CD.MXF"), &[]);
    assert_eq!((tc(&vb), duration(&vb)), (Some("11:00:02:00"), 1.0));
    // Card A of the span set is the same card as the demo P2 card.
    assert_eq!(
        util::p2_global_clip_id(&span.join("CARD_A/CONTENTS/CLIP/0002EM.XML")),
        util::p2_global_clip_id(
            &fixtures()
                .dir_of(SampleKind::P2)
                .join("CONTENTS/CLIP/0002EM.XML")
        )
    );
    let text = std::fs::read_to_string(&a).expect("read");
    let doc = roxmltree::Document::parse(&text).expect("parse");
    assert_eq!(
        doc.root_element().tag_name().namespace(),
        Some("urn:schemas-Professional-Plug-in:P2:ClipMetadata:v3.1")
    );
}

#[test]
fn xdcam_op1a_has_video_and_eight_mono_tracks_and_nrt_xml() {
    let xd = fixtures().dir_of(SampleKind::Xdcam).join("XDROOT");
    let v = ffprobe(&xd.join("Clip/C0001.MXF"), &[]);
    let mut want = vec![("video".to_string(), "mpeg2video".to_string())];
    want.extend((0..8).map(|_| ("audio".to_string(), "pcm_s24le".to_string())));
    assert_eq!(streams(&v), want);
    let tracks = v["streams"].as_array().expect("streams");
    assert!(tracks[1..].iter().all(|s| s["channels"] == 1));
    assert_eq!(v["streams"][0]["pix_fmt"], "yuv422p");
    assert_eq!(tc(&v), Some("12:00:00:00"));
    assert_eq!(
        v["format"]["tags"]["operational_pattern_ul"],
        "060e2b34.04010101.0d010201.01010900"
    );
    let c2 = ffprobe(&xd.join("Clip/C0002.MXF"), &[]);
    assert_eq!(tc(&c2), Some("12:10:00:00"));
    let nrt = std::fs::read_to_string(xd.join("Clip/C0001M01.XML")).expect("nrt");
    assert!(nrt.contains("<LtcChange frameCount=\"0\" value=\"00000012\" status=\"increment\"/>"));
    assert!(nrt.contains("<LtcChange frameCount=\"74\" value=\"24020012\" status=\"end\"/>"));
    assert!(nrt.contains("<AudioFormat numOfChannel=\"8\">"));
    let mediapro = std::fs::read_to_string(xd.join("MEDIAPRO.XML")).expect("mediapro");
    assert!(mediapro.contains("uri=\"./Clip/C0001.MXF\""));
    assert!(!mediapro.contains("C0002"), "MEDIAPRO must leave C0002 out");
    let sub = ffprobe(&xd.join("Sub/C0001S01.MXF"), &[]);
    assert_eq!(sub["streams"][0]["width"], 160);
}

#[test]
fn imx_is_d10_720x608_with_four_channels_and_no_nrt() {
    let root = fixtures().dir_of(SampleKind::Imx);
    let v = ffprobe(&root.join("XDROOT/Clip/C0001.MXF"), &[]);
    assert_eq!(
        streams(&v),
        [
            ("video".into(), "mpeg2video".into()),
            ("audio".into(), "pcm_s16le".into())
        ]
    );
    assert_eq!(
        (&v["streams"][0]["width"], &v["streams"][0]["height"]),
        (&Value::from(720), &Value::from(608))
    );
    assert_eq!(v["streams"][1]["channels"], 4);
    assert_eq!((tc(&v), duration(&v)), (Some("13:00:00:00"), 1.0));
    let names: Vec<String> = std::fs::read_dir(root.join("XDROOT/Clip"))
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["C0001.MXF"]);
}

#[test]
fn xdcam_ex_is_quicktime_mpeg2_pcm_with_one_empty_sidecar() {
    let bpav = fixtures().dir_of(SampleKind::XdcamEx).join("BPAV");
    for (name, want_tc) in [("709_001_01", "01:00:00:00"), ("709_001_02", "01:00:02:00")] {
        let v = ffprobe(&bpav.join(format!("CLPR/{name}/{name}.MP4")), &[]);
        assert_eq!(v["format"]["tags"]["major_brand"], "qt  ");
        assert_eq!(
            streams(&v)[..2],
            [
                ("video".into(), "mpeg2video".into()),
                ("audio".into(), "pcm_s16be".into())
            ]
        );
        assert_eq!(v["streams"][1]["channels"], 2);
        assert_eq!(v["streams"][0]["tags"]["timecode"], want_tc);
        assert_eq!(duration(&v), 2.0);
    }
    let empty = std::fs::metadata(bpav.join("CLPR/709_001_02/709_001_02M01.XML")).expect("m01");
    assert_eq!(empty.len(), 0);
    let takr = std::fs::read_to_string(bpav.join("TAKR/709_001/709_001.SMI")).expect("takr");
    assert_eq!(
        takr.matches("<ref src=\"../../CLPR/709_001_0").count(),
        2,
        "{takr}"
    );
}

#[test]
fn xavc_s_clip_has_tmcd_thumbnail_and_proxy() {
    let m4 = fixtures().dir_of(SampleKind::XavcS).join("PRIVATE/M4ROOT");
    let v = ffprobe(&m4.join("CLIP/C0001.MP4"), &[]);
    assert_eq!(v["format"]["tags"]["major_brand"], "XAVC");
    assert_eq!(v["streams"][0]["tags"]["timecode"], "14:00:00:00");
    assert_eq!(
        streams(&v),
        [
            ("video".into(), "h264".into()),
            ("audio".into(), "aac".into()),
            ("data".into(), "".into())
        ]
    );
    let jpg = std::fs::read(m4.join("THMBNL/C0001T01.JPG")).expect("jpg");
    assert_eq!(&jpg[..2], &[0xFF, 0xD8]);
    let sub = ffprobe(&m4.join("SUB/C0001S03.MP4"), &[]);
    assert_eq!(sub["streams"][0]["width"], 160);
}

#[test]
fn canon_xf_segments_carry_continuing_timecodes() {
    let clip = fixtures()
        .dir_of(SampleKind::CanonXf)
        .join("CONTENTS/CLIPS001/AA0001");
    let s1 = ffprobe(&clip.join("AA000101.MXF"), &[]);
    let s2 = ffprobe(&clip.join("AA000102.MXF"), &[]);
    assert_eq!((tc(&s1), duration(&s1)), (Some("15:00:00:00"), 2.0));
    assert_eq!((tc(&s2), duration(&s2)), (Some("15:00:02:00"), 1.0));
    assert_eq!(streams(&s1).len(), 3);
    let thm = std::fs::read(clip.join("AA0001.THM")).expect("thm");
    assert_eq!(&thm[..2], &[0xFF, 0xD8]);
}

#[test]
fn avchd_second_stream_continues_the_first_and_third_does_not() {
    let stream = fixtures()
        .dir_of(SampleKind::Avchd)
        .join("PRIVATE/AVCHD/BDMV/STREAM");
    let start = |v: &Value| -> f64 {
        v["format"]["start_time"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("start_time")
    };
    let s0 = ffprobe(&stream.join("00000.MTS"), &[]);
    let s1 = ffprobe(&stream.join("00001.MTS"), &[]);
    let s2 = ffprobe(&stream.join("00002.MTS"), &[]);
    for v in [&s0, &s1, &s2] {
        assert_eq!(v["format"]["format_name"], "mpegts");
        assert_eq!(tc(v), None, "AVCHD carries no container timecode");
    }
    let end0 = start(&s0) + duration(&s0);
    assert!(
        (start(&s1) - end0).abs() < 0.05,
        "00001 starts at {} but 00000 ends at {end0}",
        start(&s1)
    );
    assert!(
        start(&s2) > start(&s1) + 90.0,
        "00002 must not look continuous"
    );
    // M2TS mode: 192-byte packets (4-byte timestamp + 188-byte TS packet, sync byte at 4).
    let bytes = std::fs::read(stream.join("00000.MTS")).expect("mts");
    assert_eq!(bytes.len() % 192, 0);
    assert_eq!((bytes[4], bytes[196]), (0x47, 0x47));
    let cpi = std::fs::read(stream.join("../CLIPINF/00000.CPI")).expect("cpi");
    assert!(
        !cpi.starts_with(b"HDMV"),
        "placeholders must not parse as CPI"
    );
}

#[test]
fn gopro_chapters_have_continuing_drop_frame_timecode() {
    let dir = fixtures().dir_of(SampleKind::Gopro).join("DCIM/100GOPRO");
    let c1 = ffprobe(&dir.join("GH010123.MP4"), &["-count_frames"]);
    let c2 = ffprobe(&dir.join("GH020123.MP4"), &[]);
    assert_eq!(c1["streams"][0]["tags"]["timecode"], "00:00:00;00");
    assert_eq!(c2["streams"][0]["tags"]["timecode"], "00:00:02;00");
    assert_eq!(c1["streams"][0]["nb_read_frames"], "60");
    assert_eq!(c1["streams"][0]["r_frame_rate"], "30000/1001");
    assert_eq!(c1["streams"][0]["tags"]["handler_name"], "GoPro AVC");
    assert_eq!(c1["streams"][1]["tags"]["handler_name"], "GoPro AAC");
    assert_eq!(
        c1["format"]["tags"]["creation_time"],
        "2024-05-14T12:00:00.000000Z"
    );
    assert_eq!(
        c2["format"]["tags"]["creation_time"],
        "2024-05-14T12:00:02.000000Z"
    );
    let lrv = ffprobe(&dir.join("GL020123.LRV"), &[]);
    assert_eq!(lrv["streams"][0]["width"], 160);
    for thm in ["GH010123.THM", "GH020123.THM", "GH010124.THM"] {
        let b = std::fs::read(dir.join(thm)).expect("thm");
        assert_eq!(&b[..2], &[0xFF, 0xD8], "{thm} is a JPEG");
    }
    let alone = ffprobe(&dir.join("GH010124.MP4"), &[]);
    assert_eq!(alone["streams"][0]["tags"]["timecode"], "00:10:00;00");
}

#[test]
fn dji_clip_has_srt_cue_per_frame_and_lrf() {
    let dir = fixtures().dir_of(SampleKind::Dji).join("DCIM/100MEDIA");
    let v = ffprobe(&dir.join("DJI_0001.MP4"), &["-count_frames"]);
    assert_eq!(v["streams"][0]["nb_read_frames"], "90");
    let srt = std::fs::read_to_string(dir.join("DJI_0001.SRT")).expect("srt");
    assert_eq!(srt.matches("FrameCnt: ").count(), 90);
    let lrf = ffprobe(&dir.join("DJI_0001.LRF"), &[]);
    assert_eq!(lrf["streams"][0]["codec_name"], "h264");
}

/// Top-level RIFF chunks as (id, payload), read independently of the generator's writer.
fn riff_chunks(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WAVE");
    let riff = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    assert_eq!(riff, bytes.len() - 8, "RIFF size covers the appended chunk");
    let mut out = Vec::new();
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id = String::from_utf8_lossy(&bytes[at..at + 4]).into_owned();
        let len = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
            as usize;
        out.push((id, bytes[at + 8..at + 8 + len].to_vec()));
        at += 8 + len + len % 2;
    }
    assert_eq!(at, bytes.len());
    out
}

fn family_uid(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("wav");
    let chunks = riff_chunks(&bytes);
    let ids: Vec<&str> = chunks.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.first(), Some(&"fmt "), "{}: {ids:?}", path.display());
    assert!(
        ids.contains(&"bext") && ids.last() == Some(&"iXML"),
        "{ids:?}"
    );
    let ixml = chunks
        .iter()
        .find(|(id, _)| id == "iXML")
        .map(|(_, d)| String::from_utf8_lossy(d).into_owned())
        .expect("iXML");
    let doc = roxmltree::Document::parse(&ixml).expect("iXML parses");
    doc.descendants()
        .find(|n| n.tag_name().name() == "FAMILY_UID")
        .and_then(|n| n.text())
        .expect("FAMILY_UID")
        .to_string()
}

#[test]
fn bwf_files_carry_bext_and_an_ixml_chunk() {
    let dir = fixtures().dir_of(SampleKind::Bwf);
    let poly = ffprobe(&dir.join("S001T01.WAV"), &[]);
    assert_eq!(poly["streams"][0]["channels"], 4);
    assert_eq!(poly["streams"][0]["codec_name"], "pcm_s24le");
    assert_eq!(poly["format"]["tags"]["time_reference"], "1728000000");
    assert_eq!(poly["format"]["tags"]["encoded_by"], "Sound Devices 833");
    assert!(
        poly["format"]["tags"]["comment"]
            .as_str()
            .is_some_and(|c| c.starts_with("sSCENE=S001\r\nsTAKE=01\r\n")),
        "{}",
        poly["format"]["tags"]
    );
    assert_eq!(duration(&poly), 3.0);
    let m1 = ffprobe(&dir.join("S002T01_1.WAV"), &[]);
    assert_eq!(m1["streams"][0]["channels"], 1);
    assert_eq!(m1["format"]["tags"]["time_reference"], "1742400000");
    let f1 = family_uid(&dir.join("S002T01_1.WAV"));
    assert_eq!(f1, family_uid(&dir.join("S002T01_2.WAV")));
    assert_ne!(f1, family_uid(&dir.join("S001T01.WAV")));
}

#[test]
fn dpx_sequences_count_frames_and_leave_the_gap() {
    let dir = fixtures().dir_of(SampleKind::DpxSequence);
    let frames = |clip: &str| -> Vec<u32> {
        let mut v: Vec<u32> = std::fs::read_dir(dir.join(clip))
            .expect("read")
            .map(|e| {
                let n = e.expect("entry").file_name().to_string_lossy().into_owned();
                n.strip_prefix(&format!("{clip}."))
                    .and_then(|r| r.strip_suffix(".dpx"))
                    .and_then(|f| f.parse().ok())
                    .unwrap_or_else(|| panic!("unexpected file {n}"))
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(frames("A001C001"), (86400..86424).collect::<Vec<_>>());
    let gap: Vec<u32> = (86400..86424)
        .filter(|f| !(86410..=86411).contains(f))
        .collect();
    assert_eq!(frames("A001C002"), gap);
    let seq = ffprobe(
        &dir.join("A001C001/A001C001.%07d.dpx"),
        &[
            "-count_frames",
            "-f",
            "image2",
            "-framerate",
            "24",
            "-start_number",
            "86400",
        ],
    );
    assert_eq!(seq["streams"][0]["nb_read_frames"], "24");
    assert_eq!(seq["streams"][0]["codec_name"], "dpx");
}

#[test]
fn raw_stubs_and_loose_media_are_where_the_layouts_say() {
    let red = fixtures()
        .dir_of(SampleKind::Red)
        .join("A001_0514AB.RDM/A001_C001_0514XY.RDC");
    for seg in 1..=3 {
        let b = std::fs::read(red.join(format!("A001_C001_0514XY_{seg:03}.R3D"))).expect("r3d");
        assert_eq!((b.len(), &b[4..8]), (4096, &b"RED2"[..]));
    }
    assert!(red.join("A001_C001_0514XY.RMD").is_file());
    let arri = fixtures()
        .dir_of(SampleKind::Arri)
        .join("A001R1AB/A001C001_240514_R1AB");
    assert_eq!(std::fs::read_dir(&arri).expect("arri").count(), 24);
    assert!(arri.join("A001C001_240514_R1AB.0000024.ari").is_file());
    let braw = fixtures().dir_of(SampleKind::Braw);
    assert!(braw.join("A001_05141200_C001.braw").is_file());
    assert!(braw.join("A001_05141200_C001.sidecar").is_file());
    let loose = fixtures().dir_of(SampleKind::Loose);
    let v = ffprobe(&loose.join("Caf\u{e9} \u{65e5}\u{672c}.mov"), &[]);
    assert_eq!(v["streams"][0]["codec_name"], "h264");
    let i = ffprobe(&loose.join("interview.mov"), &[]);
    assert_eq!(i["streams"][0]["tags"]["timecode"], "09:00:00:00");
    assert!(loose.join("broll.XMP").is_file());
}

#[test]
fn generation_is_byte_for_byte_reproducible() {
    let tmp = util::tempdir();
    let opts = SampleOptions {
        with_junk: true,
        ..SampleOptions::default()
    };
    let card = sample::generate(SampleKind::P2, tmp.path(), &opts).expect("generate P2 again");
    assert_eq!(card.roots, [tmp.path().to_path_buf()]);
    let original = fixtures().dir_of(SampleKind::P2);
    let list = |root: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(root)
            .into_iter()
            .map(|e| e.expect("walk"))
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                (
                    util::rel(e.path(), root),
                    std::fs::read(e.path()).expect("read"),
                )
            })
            .collect();
        v.sort();
        v
    };
    let (a, b) = (list(original), list(tmp.path()));
    assert_eq!(
        a.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
        b.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>()
    );
    assert_eq!(
        a.len(),
        24,
        "{:?}",
        a.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    for ((path, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{path} differs between two generations");
    }
}

#[test]
fn cli_sample_writes_the_requested_kinds() {
    let tmp = util::tempdir();
    let dest = tmp.path().join("cards");
    let run = util::run_bin(
        &[
            "sample".as_ref(),
            dest.as_os_str(),
            "--kind".as_ref(),
            "red".as_ref(),
            "--kind".as_ref(),
            "BRAW".as_ref(),
        ],
        std::time::Duration::from_secs(60),
    );
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "red           {}\nbraw          {}\n",
            dest.join("red").display(),
            dest.join("braw").display()
        )
    );
    assert!(
        run.stderr.starts_with("wrote 2 sample card(s) in "),
        "{}",
        run.stderr
    );
    assert!(
        dest.join("red/A001_0514AB.RDM/A001_C001_0514XY.RDC/A001_C001_0514XY_001.R3D")
            .is_file()
    );
    assert!(dest.join("braw/A001_05141200_C001.sidecar").is_file());

    let bad = util::run_bin(
        &[
            "sample".as_ref(),
            dest.as_os_str(),
            "--kind".as_ref(),
            "betacam".as_ref(),
        ],
        std::time::Duration::from_secs(60),
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        bad.stderr
            .contains("unknown sample kind \"betacam\": expected one of p2, p2_span, xdcam,"),
        "{}",
        bad.stderr
    );
}

/// The scale bench's numbered P2 card (issue 21): each clip its own name, timecode and main-file
/// MD5 (so no clip is skipped as another's duplicate), every clip found by the scan, and an
/// interrupted generation goes on where it stopped instead of starting over.
#[test]
fn a_numbered_p2_card_has_distinct_clips_and_resumes_its_generation() {
    util::require_tool("ffmpeg");
    let dir = util::tempdir();
    let card = dir.path().join("CARD");
    let opts = SampleOptions {
        clip_seconds: 1,
        ..SampleOptions::default()
    };
    sample::generate_p2_numbered(&card, 2, &opts).expect("2 clips");
    let first = std::fs::metadata(card.join("CONTENTS/VIDEO/0001AS.MXF"))
        .and_then(|m| m.modified())
        .expect("0001AS written");
    sample::generate_p2_numbered(&card, 3, &opts).expect("3 clips");
    assert_eq!(
        std::fs::metadata(card.join("CONTENTS/VIDEO/0001AS.MXF"))
            .and_then(|m| m.modified())
            .ok(),
        Some(first),
        "a finished clip is kept"
    );
    let video = |n: u32| card.join(format!("CONTENTS/VIDEO/{n:04}AS.MXF"));
    let md5s: std::collections::BTreeSet<String> =
        (1..=3).map(|n| crate::ingest::md5_hex(&video(n))).collect();
    assert_eq!(md5s.len(), 3, "every main file differs");
    let v3 = ffprobe(&video(3), &[]);
    assert_eq!(tc(&v3), Some("10:00:02:00"));
    assert_eq!(
        xml_text(&card.join("CONTENTS/CLIP/0003AS.XML"), "UserClipName"),
        ["Shot 3"]
    );
    let report = card_ingest::scan::scan(
        std::slice::from_ref(&card),
        &card_ingest::media::Tools::detect(),
    )
    .expect("scan");
    let mut names: Vec<&str> = report.clips.iter().map(|c| c.clip.name.as_str()).collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(report.clips.iter().all(|c| c.clip.incomplete.is_none()));
    let bad = sample::generate_p2_numbered(&card, 10_000, &opts).map(|_| ());
    assert!(
        bad.as_ref()
            .is_err_and(|e| e.to_string().contains("outside 1..=9999")),
        "{bad:?}"
    );
}
