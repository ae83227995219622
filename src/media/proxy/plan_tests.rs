//! Unit tests of `plan`: the exact argv and filter graphs per camera family.

use super::*;
use crate::card::ClipFile;
use crate::media::proxy::test_clip::{cf, clip};
use crate::media::tech::{FileTech, ProbeTool};
use crate::media::{ClipMetadata, DescribedFile};
use serde_json::json;

/// A description with ffprobe-style raw streams: (path, audio channels per stream,
/// video field order or None for no video).
fn desc(meta: ClipMetadata, files: &[(&str, Vec<u32>, Option<&str>)]) -> ClipDescription {
    let mut raw = serde_json::Map::new();
    let mut described = Vec::new();
    for (path, audio, field) in files {
        let mut streams = Vec::new();
        if let Some(field) = field {
            streams.push(json!({"codec_type": "video", "field_order": field}));
        }
        streams.push(json!({"codec_type": "data"}));
        for c in audio {
            streams.push(json!({"codec_type": "audio", "channels": c}));
        }
        raw.insert(
            (*path).to_owned(),
            json!({"tool": "ffprobe", "streams": streams}),
        );
        described.push(DescribedFile {
            path: PathBuf::from(path),
            raw_key: (*path).to_owned(),
            tech: FileTech::empty(ProbeTool::Ffprobe),
        });
    }
    ClipDescription {
        metadata: meta,
        raw: raw.into(),
        files: described,
        ..ClipDescription::default()
    }
}

fn hd25() -> ClipMetadata {
    ClipMetadata {
        duration_seconds: Some(3.0),
        frame_rate: Some("25".into()),
        width: Some(1920),
        height: Some(1080),
        timecode_start: Some("10:00:00:00".into()),
        ..ClipMetadata::default()
    }
}

fn arg_after<'a>(plan: &'a ProxyPlan, key: &str) -> Vec<&'a str> {
    plan.args
        .windows(2)
        .filter(|w| w[0] == key)
        .map(|w| w[1].as_str())
        .collect()
}

const P2_MIX: &str = "amerge=inputs=4,pan=stereo|c0=0.5*c0+0.5*c2|c1=0.5*c1+0.5*c3";

fn p2_files(prefix: &str) -> Vec<ClipFile> {
    let mut files = vec![cf(&format!("/c/VIDEO/{prefix}.MXF"), FileRole::Video)];
    for n in 0..4 {
        files.push(cf(&format!("/c/AUDIO/{prefix}{n:02}.MXF"), FileRole::Audio));
    }
    files
}

/// Clip 0002EM described: progressive 1080p25 video and four mono audio files.
fn p2_desc() -> ClipDescription {
    let mut files = vec![("/c/VIDEO/0002EM.MXF", vec![], Some("progressive"))];
    let names: Vec<String> = (0..4)
        .map(|n| format!("/c/AUDIO/0002EM{n:02}.MXF"))
        .collect();
    for n in &names {
        files.push((n.as_str(), vec![1], None));
    }
    desc(hd25(), &files)
}

#[test]
fn p2_single_segment_is_the_verified_command() {
    let c = clip(Family::P2, p2_files("0002EM"), vec![vec![0, 1, 2, 3, 4]]);
    let d = p2_desc();
    let p = plan(&c, &d, &ProxySpec::default(), Path::new("/out/p.mp4")).unwrap();
    let expected = format!(
        "-hide_banner -nostdin -y -i /c/VIDEO/0002EM.MXF -i /c/AUDIO/0002EM00.MXF \
         -i /c/AUDIO/0002EM01.MXF -i /c/AUDIO/0002EM02.MXF -i /c/AUDIO/0002EM03.MXF \
         -filter_complex [0:v:0]scale=-2:720:flags=bicubic,format=yuv420p[v];[1:a:0][2:a:0][3:a:0][4:a:0]{P2_MIX}[a] \
         -map [v] -map [a] -c:v libx264 -preset veryfast -profile:v high -level:v 4.0 -bf 0 \
         -b:v 3M -maxrate 4M -bufsize 4M -g 50 -keyint_min 50 -sc_threshold 0 \
         -c:a aac -b:a 128k -ar 48000 -ac 2 -timecode 10:00:00:00 -movflags +faststart -f mp4 \
         -progress pipe:1 -nostats /out/p.mp4.part"
    );
    let expected: Vec<&str> = expected.split_whitespace().collect();
    assert_eq!(p.args, expected);
    assert_eq!((p.width, p.height), (Some(1280), Some(720)));
    assert_eq!(p.temp_output, PathBuf::from("/out/p.mp4.part"));
    assert!(p.has_audio);
    assert_eq!(p.start_timecode.as_deref(), Some("10:00:00:00"));
    assert_eq!(p.concat_list, None);
}

#[test]
fn p2_single_segment_with_vaapi_uploads_nv12_and_keeps_gop_rates_and_faststart() {
    let c = clip(Family::P2, p2_files("0002EM"), vec![vec![0, 1, 2, 3, 4]]);
    let d = p2_desc();
    let spec = ProxySpec {
        encoder: super::super::Encoder::Vaapi,
        ..ProxySpec::default()
    };
    let p = plan(&c, &d, &spec, Path::new("/out/p.mp4")).unwrap();
    let expected = format!(
        "-hide_banner -nostdin -y -vaapi_device /dev/dri/renderD128 -i /c/VIDEO/0002EM.MXF -i /c/AUDIO/0002EM00.MXF \
         -i /c/AUDIO/0002EM01.MXF -i /c/AUDIO/0002EM02.MXF -i /c/AUDIO/0002EM03.MXF \
         -filter_complex [0:v:0]scale=-2:720:flags=bicubic,format=nv12,hwupload[v];[1:a:0][2:a:0][3:a:0][4:a:0]{P2_MIX}[a] \
         -map [v] -map [a] -c:v h264_vaapi -profile:v high -rc_mode VBR -bf 0 \
         -b:v 3M -maxrate 4M -bufsize 4M -g 50 -keyint_min 50 -sc_threshold 0 \
         -c:a aac -b:a 128k -ar 48000 -ac 2 -timecode 10:00:00:00 -movflags +faststart -f mp4 \
         -progress pipe:1 -nostats /out/p.mp4.part"
    );
    let expected: Vec<&str> = expected.split_whitespace().collect();
    assert_eq!(p.args, expected);
    assert_eq!(p.encoder, super::super::Encoder::Vaapi);
}

#[test]
fn p2_interlaced_span_mixes_per_segment_then_concats() {
    let mut files = p2_files("0002EM");
    files.extend(p2_files("0003EM"));
    let c = clip(
        Family::P2,
        files,
        vec![vec![0, 1, 2, 3, 4], vec![5, 6, 7, 8, 9]],
    );
    let d = desc(
        hd25(),
        &[
            ("/c/VIDEO/0002EM.MXF", vec![], Some("tt")),
            ("/c/VIDEO/0003EM.MXF", vec![], Some("tt")),
        ],
    );
    let p = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap();
    assert_eq!(
        arg_after(&p, "-filter_complex"),
        [format!(
            "[1:a:0][2:a:0][3:a:0][4:a:0]{P2_MIX}[a0];[6:a:0][7:a:0][8:a:0][9:a:0]{P2_MIX}[a1];\
             [0:v:0][a0][5:v:0][a1]concat=n=2:v=1:a=1[vc][a];\
             [vc]bwdif=0:-1:0,scale=-2:720:flags=bicubic,format=yuv420p[v]"
        )]
    );
    assert_eq!(arg_after(&p, "-i").len(), 10);
    assert_eq!(arg_after(&p, "-map"), ["[v]", "[a]"]);
}

#[test]
fn xdcam_op1a_eight_mono_tracks_ch1_ch2_preset() {
    let c = clip(
        Family::Xdcam,
        vec![cf("/x/C0001.MXF", FileRole::Video)],
        vec![vec![0]],
    );
    let meta = ClipMetadata {
        width: Some(320),
        height: Some(180),
        ..hd25()
    };
    let d = desc(meta, &[("/x/C0001.MXF", vec![1; 8], Some("progressive"))]);
    let spec = ProxySpec {
        audio_mix: super::super::AudioMix::Ch1Ch2Only,
        ..ProxySpec::default()
    };
    let p = plan(&c, &d, &spec, Path::new("/o/p.mp4")).unwrap();
    assert_eq!(
        arg_after(&p, "-filter_complex"),
        ["[0:v:0]format=yuv420p[v];[0:a:0][0:a:1]amerge=inputs=2,pan=stereo|c0=c0|c1=c1[a]"]
    );
    assert_eq!((p.width, p.height), (Some(320), Some(180)));
}

#[test]
fn gopro_chapters_use_the_concat_demuxer_with_quoted_paths() {
    let c = clip(
        Family::Gopro,
        vec![
            cf("/g/GX010001.MP4", FileRole::Video),
            cf("/g/it's/GX020001.MP4", FileRole::Video),
            cf("/g/GL010001.LRV", FileRole::Proxy),
        ],
        vec![vec![0], vec![1]],
    );
    let meta = ClipMetadata {
        frame_rate: Some("30000/1001".into()),
        timecode_start: None,
        ..hd25()
    };
    let d = desc(meta, &[("/g/GX010001.MP4", vec![2], Some("progressive"))]);
    let p = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap();
    let list = p.concat_list.clone().unwrap();
    assert_eq!(list.path, PathBuf::from("/o/p.mp4.concat.txt"));
    assert_eq!(
        list.text,
        "file '/g/GX010001.MP4'\nfile '/g/it'\\''s/GX020001.MP4'\n"
    );
    assert_eq!(arg_after(&p, "-f"), ["concat", "mp4"]);
    assert_eq!(arg_after(&p, "-i"), ["/o/p.mp4.concat.txt"]);
    assert_eq!(
        arg_after(&p, "-filter_complex"),
        [
            "[0:v:0]scale=-2:720:flags=bicubic,format=yuv420p[v];[0:a:0]aformat=channel_layouts=stereo[a]"
        ]
    );
    assert_eq!(arg_after(&p, "-g"), ["60"]);
    assert_eq!(arg_after(&p, "-timecode"), Vec::<&str>::new());
    assert_eq!(
        p.frame_rate.map(super::super::iconik_frame_rate).as_deref(),
        Some("29.97")
    );
}

#[test]
fn avchd_uses_the_concat_protocol() {
    let c = clip(
        Family::Avchd,
        vec![
            cf("/a/00000.MTS", FileRole::Video),
            cf("/a/00001.MTS", FileRole::Video),
        ],
        vec![vec![0], vec![1]],
    );
    let d = desc(hd25(), &[("/a/00000.MTS", vec![2], Some("tt"))]);
    let p = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap();
    assert_eq!(arg_after(&p, "-i"), ["concat:/a/00000.MTS|/a/00001.MTS"]);
    assert_eq!(
        arg_after(&p, "-filter_complex"),
        [
            "[0:v:0]bwdif=0:-1:0,scale=-2:720:flags=bicubic,format=yuv420p[v];[0:a:0]aformat=channel_layouts=stereo[a]"
        ]
    );
}

#[test]
fn dpx_sequence_uses_a_pattern_and_no_audio() {
    let files: Vec<ClipFile> = (86400..86403)
        .map(|n| cf(&format!("/d/A001C001.{n:07}.dpx"), FileRole::Video))
        .collect();
    let c = clip(Family::ImageSequence, files, vec![vec![0, 1, 2]]);
    let meta = ClipMetadata {
        frame_rate: Some("24".into()),
        width: Some(4096),
        height: Some(2160),
        ..ClipMetadata::default()
    };
    let p = plan(
        &c,
        &desc(meta, &[]),
        &ProxySpec::default(),
        Path::new("/o/p.mp4"),
    )
    .unwrap();
    let a: Vec<&str> = p.args.iter().map(String::as_str).collect();
    let i = a.iter().position(|x| *x == "-framerate").unwrap();
    assert_eq!(
        a[i..i + 6],
        [
            "-framerate",
            "24",
            "-start_number",
            "86400",
            "-i",
            "/d/A001C001.%07d.dpx"
        ]
    );
    assert_eq!(
        arg_after(&p, "-filter_complex"),
        ["[0:v:0]scale=-2:720:flags=bicubic,format=yuv420p[v]"]
    );
    assert!(a.contains(&"-an") && !a.contains(&"[a]"));
    assert_eq!((p.width, p.height), (Some(1366), Some(720)));
    assert_eq!(arg_after(&p, "-g"), ["48"]);
}

#[test]
fn raw_uses_the_camera_proxy_or_says_registered_without_proxy() {
    let mut c = clip(
        Family::Red,
        vec![
            cf("/r/A001_C001_001.R3D", FileRole::Video),
            cf("/r/A001_C001.RMD", FileRole::Sidecar),
            cf("/r/A001_C001_proxy.mov", FileRole::Proxy),
        ],
        vec![vec![0]],
    );
    let d = desc(hd25(), &[]);
    let p = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap();
    assert_eq!(
        p.source,
        ProxySource::CameraProxy("/r/A001_C001_proxy.mov".into())
    );
    assert_eq!(arg_after(&p, "-i"), ["/r/A001_C001_proxy.mov"]);
    assert_eq!(arg_after(&p, "-map"), ["[v]", "0:a:0?"]);
    assert_eq!(
        arg_after(&p, "-filter_complex"),
        ["[0:v:0]scale=-2:'min(720,trunc(ih/2)*2)':flags=bicubic,format=yuv420p[v]"]
    );
    c.files.pop();
    let err = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap_err();
    assert!(matches!(err, ProxyError::NotDecodable { .. }));
    assert_eq!(
        err.to_string(),
        "clip CLIP: RAW essence ffmpeg cannot decode and no camera proxy file on the card; it is registered without proxy"
    );
}

#[test]
fn single_mono_goes_to_both_sides_and_no_audio_means_an() {
    let c = clip(
        Family::Generic,
        vec![cf("/m/a.mov", FileRole::Video)],
        vec![vec![0]],
    );
    let d = desc(hd25(), &[("/m/a.mov", vec![1], Some("progressive"))]);
    let p = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap();
    assert_eq!(
        arg_after(&p, "-filter_complex"),
        ["[0:v:0]scale=-2:720:flags=bicubic,format=yuv420p[v];[0:a:0]pan=stereo|c0=c0|c1=c0[a]"]
    );
    let d = desc(hd25(), &[("/m/a.mov", vec![], Some("progressive"))]);
    let p = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap();
    assert_eq!(arg_after(&p, "-map"), ["[v]"]);
    assert!(p.args.iter().any(|a| a == "-an"));
    assert!(!p.has_audio);
}

#[test]
fn incomplete_and_audio_only_clips_are_refused() {
    let mut c = clip(
        Family::AudioBwf,
        vec![cf("/b/a.wav", FileRole::Audio)],
        vec![vec![0]],
    );
    let d = desc(hd25(), &[]);
    let err = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap_err();
    assert!(matches!(err, ProxyError::NoVideo { .. }), "{err}");
    c.incomplete = Some("waiting for card CARDB0001".into());
    let err = plan(&c, &d, &ProxySpec::default(), Path::new("/o/p.mp4")).unwrap_err();
    assert!(
        err.to_string().contains("waiting for card CARDB0001"),
        "{err}"
    );
}

#[test]
fn sizes_patterns_and_rates() {
    assert_eq!(output_size(1920, 1080, 720), (1280, 720));
    assert_eq!(output_size(720, 576, 720), (720, 576));
    assert_eq!(output_size(321, 181, 720), (320, 180));
    assert_eq!(output_size(4096, 2160, 720), (1366, 720));
    assert_eq!(
        sequence_pattern(Path::new("/d/shot_%1.0001.exr")),
        Some((PathBuf::from("/d/shot_%%1.%04d.exr"), 1))
    );
    assert_eq!(sequence_pattern(Path::new("/d/frame.dpx")), None);
    assert_eq!(rate_arg(3_000_000), "3M");
    assert_eq!(rate_arg(128_000), "128k");
    assert_eq!(rate_arg(1_500_001), "1500001");
}

#[test]
fn look_and_burn_in_go_before_the_hardware_upload_with_the_clip_values() {
    let c = clip(Family::P2, p2_files("0002EM"), vec![vec![0, 1, 2, 3, 4]]);
    let d = desc(
        hd25(),
        &[("/c/VIDEO/0002EM.MXF", vec![], Some("progressive"))],
    );
    let spec = ProxySpec {
        encoder: super::super::Encoder::Vaapi,
        look: Some(super::super::look::Look {
            path: PathBuf::from("/l/a.cube"),
            kind: super::super::look::LutKind::ThreeD,
            size: 2,
        }),
        burn_in: Some(super::super::burn_in::BurnIn {
            items: vec![
                super::super::burn_in::BurnInItem::Timecode,
                super::super::burn_in::BurnInItem::Clip,
                super::super::burn_in::BurnInItem::Card,
            ],
            corner: super::super::burn_in::Corner::TopLeft,
            font: PathBuf::from("/f/m.ttf"),
        }),
        ..ProxySpec::default()
    };
    let p = plan(&c, &d, &spec, Path::new("/out/p.mp4")).unwrap();
    let graph = &arg_after(&p, "-filter_complex")[0];
    let video = graph.split(';').next().unwrap();
    assert!(
        video.starts_with("[0:v:0]scale=-2:720:flags=bicubic,lut3d=file='/l/a.cube',drawtext="),
        "{video}"
    );
    assert!(video.ends_with(",format=nv12,hwupload[v]"), "{video}");
    assert!(
        video.contains("timecode='10\\:00\\:00\\:00':rate=25:"),
        "{video}"
    );
    // 720-line proxy: 30-px text. The card is the card root's folder name.
    assert!(
        video.contains("text='CLIP'") && video.contains("text='card'"),
        "{video}"
    );
    assert!(video.contains("fontsize=30:"), "{video}");
    assert_eq!(video.matches("drawtext=").count(), 3);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn p2_edit_proxy_keeps_the_four_mono_tracks_in_order_from_the_same_decode() {
    let c = clip(Family::P2, p2_files("0002EM"), vec![vec![0, 1, 2, 3, 4]]);
    let d = p2_desc();
    let spec = ProxySpec {
        edit: Some(super::super::EditCodec::ProresProxy),
        ..ProxySpec::default()
    };
    let p = plan(&c, &d, &spec, Path::new("/out/p.mp4")).unwrap();
    assert_eq!(
        arg_after(&p, "-filter_complex"),
        [format!(
            "[0:v:0]scale=-2:720:flags=bicubic,split=2[pc][pe];[pe]format=yuv422p10le[edit];\
             [pc]format=yuv420p[v];[1:a:0][2:a:0][3:a:0][4:a:0]{P2_MIX}[a]"
        )]
    );
    // The web proxy's maps, then the edit proxy's: picture and the four files' streams.
    assert_eq!(
        arg_after(&p, "-map"),
        ["[v]", "[a]", "[edit]", "1:a:0", "2:a:0", "3:a:0", "4:a:0"]
    );
    assert_eq!(arg_after(&p, "-profile:v"), ["high", "0"]);
    assert_eq!(arg_after(&p, "-timecode"), ["10:00:00:00", "10:00:00:00"]);
    let edit = p.edit.as_ref().unwrap();
    assert_eq!(edit.audio_tracks, 4);
    assert_eq!(edit.temp_output, PathBuf::from("/out/p.mp4.edit.part.mov"));
    assert_eq!(p.args.last().unwrap(), "/out/p.mp4.edit.part.mov");
}

#[test]
fn p2_span_edit_proxy_concats_each_track_beside_the_mix() {
    let mut files = p2_files("0001AB");
    files.extend(p2_files("0001AC"));
    let c = clip(
        Family::P2,
        files,
        vec![vec![0, 1, 2, 3, 4], vec![5, 6, 7, 8, 9]],
    );
    let mut described = Vec::new();
    let names: Vec<String> = ["0001AB", "0001AC"]
        .iter()
        .flat_map(|p| (0..4).map(move |n| format!("/c/AUDIO/{p}{n:02}.MXF")))
        .collect();
    described.push(("/c/VIDEO/0001AB.MXF", vec![], Some("progressive")));
    described.push(("/c/VIDEO/0001AC.MXF", vec![], Some("progressive")));
    for n in &names {
        described.push((n.as_str(), vec![1], None));
    }
    let d = desc(hd25(), &described);
    let spec = ProxySpec {
        edit: Some(super::super::EditCodec::DnxhrLb),
        audio_mix: super::super::AudioMix::Ch1Ch2Only,
        ..ProxySpec::default()
    };
    let p = plan(&c, &d, &spec, Path::new("/out/p.mp4")).unwrap();
    let graph = &arg_after(&p, "-filter_complex")[0];
    // CH1/CH2 feed the mix and the edit proxy (asplit); CH3/CH4 go to the edit proxy only.
    assert!(
        graph.starts_with(
            "[1:a:0]asplit=2[m0_0][e0_0];[2:a:0]asplit=2[m0_1][e0_1];[m0_0][m0_1]amerge=inputs=2,"
        ),
        "{graph}"
    );
    assert!(
        graph.contains(
            "[0:v:0][a0][e0_0][e0_1][3:a:0][4:a:0][5:v:0][a1][e1_0][e1_1][8:a:0][9:a:0]\
             concat=n=2:v=1:a=5[vc][a][e0][e1][e2][e3]"
        ),
        "{graph}"
    );
    assert_eq!(
        arg_after(&p, "-map"),
        ["[v]", "[a]", "[edit]", "[e0]", "[e1]", "[e2]", "[e3]"]
    );
    assert_eq!(arg_after(&p, "-profile:v"), ["high", "dnxhr_lb"]);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}
