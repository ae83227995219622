//! Sony sample cards (camera-cards.md §3.2–§3.4): XDCAM HD422 (`XDROOT`, OP1a + NRT XML +
//! MEDIAPRO inventory), IMX/D10 without NRT XML, XDCAM EX (`BPAV`, MPEG-2 + PCM in QuickTime-style
//! `.MP4`, SMIL take list), XAVC S (`PRIVATE/M4ROOT`).

use super::ffmpeg::{FfCmd, Ffmpeg};
use super::files::{self, umid_hex, xml_escape};
use super::{SampleError, SampleOptions};
use std::path::Path;

/// What goes into a NonRealTimeMeta (`…M01.XML`) sidecar.
struct Nrt<'a> {
    umid: String,
    frames: u32,
    fps: u32,
    timecode: &'a str,
    date: &'a str,
    video_codec: &'a str,
    width: u32,
    height: u32,
    channels: u32,
    audio_codec: &'a str,
    model: &'a str,
    serial: &'a str,
    title: &'a str,
    /// Shot marks (frame, label such as `_ShotMark1`) after the `_RecStart` every real file has.
    shot_marks: Vec<(u32, &'a str)>,
}

/// XDCAM HD422: C0001 and C0002 (each OP1a MPEG-2 4:2:2 + 8 mono 24-bit tracks, NRT XML, `Sub/`
/// proxy); `MEDIAPRO.XML` lists only C0001, so C0002 is "on disk but not in the inventory".
pub(crate) fn xdcam(ff: &Ffmpeg, root: &Path, opts: &SampleOptions) -> Result<(), SampleError> {
    let xd = root.join("XDROOT");
    for (name, tc, date) in [
        ("C0001", "12:00:00:00", "2024-05-14T12:00:00+02:00"),
        ("C0002", "12:10:00:00", "2024-05-14T12:10:00+02:00"),
    ] {
        files::create_dir(&xd.join("Sub"))?;
        let mut cmd = FfCmd::new();
        cmd.video_src(&opts.size(), "25", opts.clip_seconds)
            .sine(440, opts.clip_seconds);
        let labels: Vec<String> = (1..=8).map(|i| format!("[a{i}]")).collect();
        cmd.args([
            "-filter_complex",
            &format!(
                "[0:v]split=2[v][vp0];[vp0]scale=160:90[vp];[1:a]asplit=10{}[p1][p2]",
                labels.concat()
            ),
            "-map",
            "[v]",
        ]);
        for l in &labels {
            cmd.args(["-map", l]);
        }
        cmd.args([
            "-c:v",
            "mpeg2video",
            "-pix_fmt",
            "yuv422p",
            "-b:v",
            "2M",
            "-g",
            "12",
        ])
        .args([
            "-bf",
            "2",
            "-c:a",
            "pcm_s24le",
            "-timecode",
            tc,
            "-f",
            "mxf",
        ])
        .output(&xd.join(format!("Clip/{name}.MXF")));
        cmd.args([
            "-map",
            "[vp]",
            "-map",
            "[p1]",
            "-map",
            "[p2]",
            "-c:v",
            "mpeg2video",
        ])
        .args([
            "-pix_fmt",
            "yuv420p",
            "-b:v",
            "500k",
            "-g",
            "12",
            "-c:a",
            "pcm_s16le",
        ])
        .args(["-timecode", tc, "-f", "mxf"])
        .output(&xd.join(format!("Sub/{name}S01.MXF")));
        ff.run(&cmd)?;
        files::write(
            &xd.join(format!("Clip/{name}M01.XML")),
            nrt_xml(&Nrt {
                umid: umid_hex(&format!("XDCAM/{name}")),
                frames: opts.clip_seconds * 25,
                fps: 25,
                timecode: tc,
                date,
                video_codec: "MPEG2HD422_422P@HL",
                width: opts.width,
                height: opts.height,
                channels: 8,
                audio_codec: "LPCM24",
                model: "PXW-X320",
                serial: "0012345",
                title: name,
                // C0001 has a shot mark at 2/5 of the clip (1.2 s at the default 3 s).
                shot_marks: if name == "C0001" {
                    vec![(opts.clip_seconds * 25 * 2 / 5, "_ShotMark1")]
                } else {
                    Vec::new()
                },
            }),
        )?;
    }
    // Real-time metadata: opaque binary on real cards; a stub is enough for grouping.
    files::write(
        &xd.join("Clip/C0001R01.BIM"),
        files::filler("C0001R01.BIM", 1024),
    )?;
    let frames = opts.clip_seconds * 25;
    let umid = umid_hex("XDCAM/C0001");
    files::write(
        &xd.join("MEDIAPRO.XML"),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<MediaProfile xmlns=\"http://xmlns.sony.net/pro/metadata/mediaprofile\" createdAt=\"2024-05-14T12:00:00+02:00\" version=\"1.30\">\n\
\t<Properties>\n\
\t\t<System systemId=\"0012345\" systemKind=\"PXW-X320\" systemName=\"PXW-X320\"/>\n\
\t\t<Attached mediaId=\"XDCAMSAMPLE0001\" mediaKind=\"SxS\" mediaName=\"A001\"/>\n\
\t</Properties>\n\
\t<Contents>\n\
\t\t<Material uri=\"./Clip/C0001.MXF\" type=\"MXF\" videoType=\"MPEG2HD422_422P@HL\" audioType=\"LPCM24\" fps=\"25p\" dur=\"{frames}\" ch=\"8\" aspectRatio=\"16:9\" offset=\"0\" umid=\"{umid}\" title=\"C0001\">\n\
\t\t\t<Proxy uri=\"./Sub/C0001S01.MXF\" type=\"MXF\" videoType=\"MPEG2\" audioType=\"LPCM16\" fps=\"25p\" dur=\"{frames}\" ch=\"2\"/>\n\
\t\t\t<RelevantInfo uri=\"./Clip/C0001M01.XML\" type=\"XML\"/>\n\
\t\t\t<RelevantInfo uri=\"./Clip/C0001R01.BIM\" type=\"BIM\"/>\n\
\t\t</Material>\n\
\t</Contents>\n\
</MediaProfile>\n"
        ),
    )?;
    if opts.with_junk {
        files::mac_junk(root, &["XDROOT/Clip/C0001.MXF"])?;
    }
    Ok(())
}

/// IMX/D10: 720×576 padded to 608 lines (32 VBI lines on top), intra MPEG-2 30 Mb/s, 4-ch PCM,
/// `-f mxf_d10`, TC 13:00:00:00. Always 1 s (D10 is ~4 MB/s). Deliberately no NRT XML and no
/// MEDIAPRO: the clip must still be registered from container metadata.
pub(crate) fn imx(ff: &Ffmpeg, root: &Path, _opts: &SampleOptions) -> Result<(), SampleError> {
    let out = root.join("XDROOT/Clip/C0001.MXF");
    files::create_dir(&root.join("XDROOT/Clip"))?;
    let mut cmd = FfCmd::new();
    cmd.video_src("720x576", "25", 1)
        .sine(440, 1)
        .args([
            "-vf",
            "pad=720:608:0:32",
            "-c:v",
            "mpeg2video",
            "-pix_fmt",
            "yuv422p",
        ])
        .args([
            "-g", "1", "-b:v", "30M", "-minrate", "30M", "-maxrate", "30M",
        ])
        .args(["-bufsize", "1200000", "-rc_init_occupancy", "1200000"])
        .args([
            "-c:a",
            "pcm_s16le",
            "-ac",
            "4",
            "-timecode",
            "13:00:00:00",
            "-f",
            "mxf_d10",
        ])
        .output(&out);
    ff.run(&cmd)
}

/// XDCAM EX take `709_001` recorded as two clip files (`_01` TC 01:00:00:00, `_02` TC
/// 01:00:02:00, 2 s each, 25p); `709_001_02M01.XML` is left EMPTY (a card copied mid-write) to
/// check the scanner tolerates unparsable sidecars.
pub(crate) fn xdcam_ex(ff: &Ffmpeg, root: &Path, opts: &SampleOptions) -> Result<(), SampleError> {
    let parts = [("709_001_01", "01:00:00:00"), ("709_001_02", "01:00:02:00")];
    ex_card(ff, root, opts, &parts, Some(("709_001", &parts)))
}

/// XDCAM EX take `709_002` relayed from card A (`709_002_01`, 01:00:00:00, with the take list
/// `TAKR/709_002/709_002.SMI` naming both parts) to card B (`709_002_02`, 01:00:02:00, no take
/// list), as the EX bodies continue a recording on the second SxS card.
pub(crate) fn xdcam_ex_span(
    ff: &Ffmpeg,
    card_a: &Path,
    card_b: &Path,
    opts: &SampleOptions,
) -> Result<(), SampleError> {
    let parts = [("709_002_01", "01:00:00:00"), ("709_002_02", "01:00:02:00")];
    ex_card(ff, card_a, opts, &parts[..1], Some(("709_002", &parts)))?;
    ex_card(ff, card_b, opts, &parts[1..], None)
}

/// One EX card holding the clip folders `parts` (name, start TC: the first clip of a take gets
/// the full NRT XML, later ones an empty one, as the cameras leave them), its `MEDIAPRO.XML`,
/// and optionally the take list `TAKR/<take>/<take>.SMI` naming `listed`.
fn ex_card(
    ff: &Ffmpeg,
    root: &Path,
    opts: &SampleOptions,
    parts: &[(&str, &str)],
    take: Option<(&str, &[(&str, &str)])>,
) -> Result<(), SampleError> {
    let bpav = root.join("BPAV");
    for (name, tc) in parts {
        let dir = bpav.join("CLPR").join(name);
        files::create_dir(&dir)?;
        let mut cmd = FfCmd::new();
        // QuickTime-style MP4: ffmpeg's mp4 muxer refuses PCM, so mux with -f mov under an
        // .MP4 name (major brand `qt  `, like the camera; camera-cards.md §6).
        cmd.video_src(&opts.size(), "25", 2)
            .sine(440, 2)
            .args([
                "-map",
                "0:v",
                "-map",
                "1:a",
                "-c:v",
                "mpeg2video",
                "-pix_fmt",
                "yuv420p",
            ])
            .args(["-b:v", "2M", "-g", "12", "-c:a", "pcm_s16be", "-ac", "2"])
            .args(["-timecode", tc, "-f", "mov"])
            .output(&dir.join(format!("{name}.MP4")));
        ff.run(&cmd)?;
        files::write(&dir.join(format!("{name}.SMI")), clip_smil(name, tc))?;
        let m01 = dir.join(format!("{name}M01.XML"));
        if name.ends_with("_01") {
            files::write(
                &m01,
                nrt_xml(&Nrt {
                    umid: umid_hex(&format!("EX/{name}")),
                    frames: 50,
                    fps: 25,
                    timecode: tc,
                    date: "2024-05-14T13:00:00+02:00",
                    video_codec: "MPEG2HD35_1280_MP@HL",
                    width: opts.width,
                    height: opts.height,
                    channels: 2,
                    audio_codec: "LPCM16",
                    model: "PMW-EX1R",
                    serial: "0054321",
                    title: name,
                    shot_marks: Vec::new(),
                }),
            )?;
        } else {
            files::write(&m01, "")?;
        }
    }
    let materials: String = parts
        .iter()
        .map(|(name, _)| {
            format!(
                "\t\t<Material uri=\"./CLPR/{name}/{name}.MP4\" type=\"MP4\" videoType=\"MPEG2HD35_1280_MP@HL\" audioType=\"LPCM16\" fps=\"25p\" dur=\"50\" ch=\"2\" umid=\"{}\"/>\n",
                umid_hex(&format!("EX/{name}"))
            )
        })
        .collect();
    files::write(
        &bpav.join("MEDIAPRO.XML"),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<MediaProfile xmlns=\"http://xmlns.sony.net/pro/metadata/mediaprofile\" createdAt=\"2024-05-14T13:00:00+02:00\" version=\"1.10\">\n\
\t<Contents>\n{materials}\t</Contents>\n\
</MediaProfile>\n"
        ),
    )?;
    let Some((take, listed)) = take else {
        return Ok(());
    };
    let refs: String = listed
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            format!(
                "\t\t\t<ref src=\"../../CLPR/{name}/{name}.SMI\" type=\"application/smil\" begin=\"smpte-25={}\"/>\n",
                if i == 0 { "00:00:00:00" } else { "00:00:02:00" }
            )
        })
        .collect();
    files::write(
        &bpav.join(format!("TAKR/{take}/{take}.SMI")),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<smil xmlns=\"urn:schemas-professionalDisc:edl:ver.1.00\">\n\
\t<head/>\n\
\t<body>\n\
\t\t<seq>\n{refs}\t\t</seq>\n\
\t</body>\n\
</smil>\n"
        ),
    )
}

/// XAVC S clip C0001 (H.264 + AAC MP4, brand `XAVC`, TC 14:00:00:00) with NRT XML, `THMBNL` JPEG
/// and `SUB` proxy.
pub(crate) fn xavc_s(ff: &Ffmpeg, root: &Path, opts: &SampleOptions) -> Result<(), SampleError> {
    let m4 = root.join("PRIVATE/M4ROOT");
    for sub in ["CLIP", "THMBNL", "SUB"] {
        files::create_dir(&m4.join(sub))?;
    }
    let tc = "14:00:00:00";
    let mut cmd = FfCmd::new();
    cmd.video_src(&opts.size(), "25", opts.clip_seconds)
        .sine(440, opts.clip_seconds)
        .args(["-filter_complex", "[0:v]split=3[v][vp0][vt0];[vp0]scale=160:90[vp];[vt0]scale=160:90[vt];[1:a]asplit=2[a][ap]"])
        .args(["-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .args(["-c:a", "aac", "-ac", "2", "-timecode", tc, "-brand", "XAVC"])
        .args(["-metadata", "creation_time=2024-05-14T12:00:00Z", "-f", "mp4"])
        .output(&m4.join("CLIP/C0001.MP4"));
    cmd.args([
        "-map", "[vp]", "-map", "[ap]", "-c:v", "libx264", "-pix_fmt", "yuv420p",
    ])
    .args(["-c:a", "aac", "-ac", "2", "-timecode", tc, "-f", "mp4"])
    .output(&m4.join("SUB/C0001S03.MP4"));
    cmd.jpeg_still("[vt]", &m4.join("THMBNL/C0001T01.JPG"));
    ff.run(&cmd)?;
    files::write(
        &m4.join("CLIP/C0001M01.XML"),
        nrt_xml(&Nrt {
            umid: umid_hex("XAVCS/C0001"),
            frames: opts.clip_seconds * 25,
            fps: 25,
            timecode: tc,
            date: "2024-05-14T14:00:00+02:00",
            video_codec: "AVC_1920_1080_HP@L41",
            width: opts.width,
            height: opts.height,
            channels: 2,
            audio_codec: "LPCM16",
            model: "ILCE-7SM3",
            serial: "3456789",
            title: "C0001",
            // Shot marks at 2/5 and 4/5 of the clip (1.2 s and 2.4 s at the default 3 s).
            shot_marks: vec![
                (opts.clip_seconds * 25 * 2 / 5, "_ShotMark1"),
                (opts.clip_seconds * 25 * 4 / 5, "_ShotMark2"),
            ],
        }),
    )?;
    files::write(
        &m4.join("MEDIAPRO.XML"),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<MediaProfile xmlns=\"http://xmlns.sony.net/pro/metadata/mediaprofile\" createdAt=\"2024-05-14T14:00:00+02:00\" version=\"2.00\">\n\
\t<Contents>\n\
\t\t<Material uri=\"./CLIP/C0001.MP4\" type=\"MP4\" videoType=\"AVC_1920_1080_HP@L41\" audioType=\"LPCM16\" fps=\"25p\" dur=\"{}\" ch=\"2\" umid=\"{}\"/>\n\
\t</Contents>\n\
</MediaProfile>\n",
            opts.clip_seconds * 25,
            umid_hex("XAVCS/C0001")
        ),
    )?;
    files::write(&m4.join("STATUS.BIN"), files::filler("STATUS.BIN", 512))
}

/// `HH:MM:SS:FF` → the 8-digit `FFSSMMHH` of `LtcChange@value` (camera-cards.md §3.2).
fn ltc_value(tc: &str) -> String {
    tc.split([':', ';']).rev().collect()
}

/// The timecode `frames` frames after `tc` at integer `fps` (non-drop-frame).
fn tc_add(tc: &str, frames: u32, fps: u32) -> String {
    let p: Vec<u32> = tc
        .split([':', ';'])
        .filter_map(|x| x.parse().ok())
        .collect();
    let [h, m, s, f] = p[..] else {
        return tc.to_string();
    };
    let total = ((h * 60 + m) * 60 + s) * fps + f + frames;
    format!(
        "{:02}:{:02}:{:02}:{:02}",
        total / fps / 3600 % 24,
        total / fps / 60 % 60,
        total / fps % 60,
        total % fps
    )
}

/// A `KlvPacket` essence mark as real files write it: SMPTE's essence-mark key, the frame, and
/// the label as hex of a length byte and the ASCII text (`095F5265635374617274` = `_RecStart`).
fn klv_mark(frame: u32, label: &str) -> String {
    let hex: String = std::iter::once(label.len() as u8)
        .chain(label.bytes())
        .map(|b| format!("{b:02X}"))
        .collect();
    format!(
        "\t\t<KlvPacket key=\"060E2B34010101050301020A02000000\" frameCount=\"{frame}\" lengthValue=\"{hex}\" status=\"spot\"/>\n"
    )
}

fn nrt_xml(n: &Nrt) -> String {
    let last = tc_add(n.timecode, n.frames.saturating_sub(1), n.fps);
    let marks: String = std::iter::once((0, "_RecStart"))
        .chain(n.shot_marks.iter().copied())
        .map(|(frame, label)| klv_mark(frame, label))
        .collect();
    let ports: String = (1..=n.channels)
        .map(|ch| {
            format!(
                "\t\t<AudioRecPort port=\"CH{ch}\" audioCodec=\"{}\" trackDst=\"CH{ch}\"/>\n",
                n.audio_codec
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<NonRealTimeMeta xmlns=\"urn:schemas-professionalDisc:nonRealTimeMeta:ver.2.00\" xmlns:lib=\"urn:schemas-professionalDisc:lib:ver.2.00\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" lastUpdate=\"{date}\">\n\
\t<TargetMaterial umidRef=\"{umid}\"/>\n\
\t<Duration value=\"{frames}\"/>\n\
\t<LtcChangeTable tcFps=\"{fps}\" halfStep=\"false\">\n\
\t\t<LtcChange frameCount=\"0\" value=\"{start}\" status=\"increment\"/>\n\
\t\t<LtcChange frameCount=\"{last_frame}\" value=\"{end}\" status=\"end\"/>\n\
\t</LtcChangeTable>\n\
\t<CreationDate value=\"{date}\"/>\n\
\t<KlvPacketTable>\n{marks}\t</KlvPacketTable>\n\
\t<VideoFormat>\n\
\t\t<VideoRecPort port=\"DIRECT\"/>\n\
\t\t<VideoFrame videoCodec=\"{codec}\" captureFps=\"{fps}p\" formatFps=\"{fps}p\"/>\n\
\t\t<VideoLayout pixel=\"{w}\" numOfVerticalLine=\"{h}\" aspectRatio=\"16:9\"/>\n\
\t</VideoFormat>\n\
\t<AudioFormat numOfChannel=\"{ch}\">\n{ports}\t</AudioFormat>\n\
\t<Device manufacturer=\"Sony\" modelName=\"{model}\" serialNo=\"{serial}\"/>\n\
\t<RecordingMode type=\"normal\" cacheRec=\"false\"/>\n\
\t<Title usAscii=\"{title}\" xml:lang=\"en\">{title}</Title>\n\
</NonRealTimeMeta>\n",
        date = n.date,
        umid = n.umid,
        frames = n.frames,
        fps = n.fps,
        start = ltc_value(n.timecode),
        last_frame = n.frames.saturating_sub(1),
        end = ltc_value(&last),
        codec = n.video_codec,
        w = n.width,
        h = n.height,
        ch = n.channels,
        model = n.model,
        serial = n.serial,
        title = xml_escape(n.title),
    )
}

/// Per-clip SMIL of XDCAM EX (`<clip>.SMI`), pointing at the essence and its NRT XML.
fn clip_smil(name: &str, tc: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<smil xmlns=\"urn:schemas-professionalDisc:edl:ver.1.00\">\n\
\t<head>\n\
\t\t<metadata type=\"Meta\">\n\
\t\t\t<ref src=\"{name}M01.XML\" type=\"NonRealTimeMeta\"/>\n\
\t\t</metadata>\n\
\t</head>\n\
\t<body>\n\
\t\t<par>\n\
\t\t\t<ref src=\"{name}.MP4\" type=\"video/mp4\" clipBegin=\"smpte-25={tc}\" clipEnd=\"smpte-25={end}\"/>\n\
\t\t</par>\n\
\t</body>\n\
</smil>\n",
        end = tc_add(tc, 50, 25)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ltc_value_is_ffssmmhh() {
        assert_eq!(ltc_value("12:00:00:00"), "00000012");
        assert_eq!(ltc_value("01:02:03:04"), "04030201");
    }

    #[test]
    fn tc_add_carries_over() {
        assert_eq!(tc_add("12:00:00:00", 74, 25), "12:00:02:24");
        assert_eq!(tc_add("23:59:59:24", 1, 25), "00:00:00:00");
        assert_eq!(tc_add("01:00:00:00", 50, 25), "01:00:02:00");
    }

    #[test]
    fn nrt_xml_has_timecode_table_and_device() {
        let xml = nrt_xml(&Nrt {
            umid: umid_hex("t"),
            frames: 75,
            fps: 25,
            timecode: "12:00:00:00",
            date: "2024-05-14T12:00:00+02:00",
            video_codec: "MPEG2HD422_422P@HL",
            width: 320,
            height: 180,
            channels: 8,
            audio_codec: "LPCM24",
            model: "PXW-X320",
            serial: "0012345",
            title: "C0001",
            shot_marks: vec![(30, "_ShotMark1")],
        });
        let doc = roxmltree::Document::parse(&xml).expect("well-formed");
        let find = |name: &str| {
            doc.descendants()
                .find(|n| n.tag_name().name() == name)
                .expect(name)
        };
        let ltc: Vec<_> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "LtcChange")
            .map(|n| (n.attribute("frameCount"), n.attribute("value")))
            .collect();
        assert_eq!(
            ltc,
            [
                (Some("0"), Some("00000012")),
                (Some("74"), Some("24020012"))
            ]
        );
        assert_eq!(find("Duration").attribute("value"), Some("75"));
        assert_eq!(find("AudioFormat").attribute("numOfChannel"), Some("8"));
        assert_eq!(
            find("AudioFormat")
                .children()
                .filter(|c| c.is_element())
                .count(),
            8
        );
        assert_eq!(find("Device").attribute("modelName"), Some("PXW-X320"));
        assert_eq!(find("VideoLayout").attribute("pixel"), Some("320"));
        // `_RecStart` at 0 exactly as a real ILCE-6700 file writes it, then the shot mark.
        assert!(xml.contains(
            "<KlvPacket key=\"060E2B34010101050301020A02000000\" frameCount=\"0\" lengthValue=\"095F5265635374617274\" status=\"spot\"/>"
        ));
        assert!(xml.contains("frameCount=\"30\" lengthValue=\"0A5F53686F744D61726B31\""));
        let parsed = crate::media::sidecar::sony_nrt::parse(&xml).unwrap();
        assert_eq!(parsed.essence_marks.len(), 2);
    }
}
