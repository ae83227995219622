//! Canon XF, AVCHD, GoPro, DJI, RED, ARRI, BRAW, image sequences, BWF and generic media.

use super::*;
use crate::card::audio_bwf::synth_wav;
use crate::card::avchd::synth_mpl;
use crate::card::m2ts::synth_m2ts;
use crate::card::{CARD_LEVEL_REASON, Family};
use FileRole::{Audio, Other, Proxy, Sidecar, Thumbnail, Video};

fn s(v: &str) -> String {
    v.to_string()
}

#[test]
fn canon_xf_clip_folder_with_ordered_segments() {
    let t = tmp();
    let c = t.path().join("XF");
    put(&c, "CONTENTS/CLIPS001/INDEX.MIF", b"mif");
    put(&c, "CONTENTS/CLIPS001/AA0001/AA000102.MXF", b"m2");
    put(&c, "CONTENTS/CLIPS001/AA0001/AA000101.MXF", b"m1");
    put(&c, "CONTENTS/CLIPS001/AA0001/AA0001.CIF", b"c");
    put(&c, "CONTENTS/CLIPS001/AA0001/AA000101.PPN", b"p");
    put(&c, "CONTENTS/CLIPS001/AA0001/AA0001.THM", b"t");
    put(&c, "CONTENTS/CLIPS001/AA0001/AA000101.SIF", b"s");
    put(&c, "CONTENTS/CLIPS001/AA0002/AA000201.MXF", b"m");
    let s_ = scan(&[&c.join("CONTENTS/CLIPS001/AA0001/AA000102.MXF")]);
    assert_eq!(names(&s_), vec!["AA0001", "AA0002"]);
    let a = clip(&s_, "AA0001");
    assert_eq!(a.family, Family::CanonXf);
    assert_eq!(a.id, "canon_xf:CLIPS001/AA0001");
    assert_eq!(a.segments, vec![vec![0], vec![1]]);
    assert_eq!(
        files(a, &c),
        vec![
            (s("CONTENTS/CLIPS001/AA0001/AA000101.MXF"), Video),
            (s("CONTENTS/CLIPS001/AA0001/AA000102.MXF"), Video),
            (s("CONTENTS/CLIPS001/AA0001/AA0001.CIF"), Sidecar),
            (s("CONTENTS/CLIPS001/AA0001/AA000101.SIF"), Sidecar),
            (s("CONTENTS/CLIPS001/AA0001/AA0001.THM"), Thumbnail),
            (s("CONTENTS/CLIPS001/AA0001/AA000101.PPN"), Other),
        ]
    );
    assert_eq!(a.incomplete, None);
    assert_eq!(
        skipped(&s_, &c),
        vec![(s("CONTENTS/CLIPS001/INDEX.MIF"), s(CARD_LEVEL_REASON))]
    );
}

#[test]
fn avchd_placeholder_playlist_falls_back_to_pts_continuity() {
    let t = tmp();
    let c = t.path().join("HANDYCAM");
    let bd = "PRIVATE/AVCHD/BDMV";
    put(&c, &format!("{bd}/INDEX.BDM"), b"INDX");
    put(&c, &format!("{bd}/PLAYLIST/00000.MPL"), b"placeholder");
    // 00000: 90000..(+3 frames at 29.97 = 3003 ticks), 00001 continues, 00002 restarts.
    put(
        &c,
        &format!("{bd}/STREAM/00000.MTS"),
        &synth_m2ts(&[90_000, 93_003, 96_006]),
    );
    put(
        &c,
        &format!("{bd}/STREAM/00001.MTS"),
        &synth_m2ts(&[99_009, 102_012]),
    );
    put(
        &c,
        &format!("{bd}/STREAM/00002.MTS"),
        &synth_m2ts(&[90_000, 93_003]),
    );
    for n in ["00000", "00001", "00002"] {
        put(&c, &format!("{bd}/CLIPINF/{n}.CPI"), b"placeholder");
    }
    let s_ = scan(&[&c]);
    assert_eq!(names(&s_), vec!["00000", "00002"]);
    let r = clip(&s_, "00000");
    assert_eq!(r.family, Family::Avchd);
    assert_eq!(r.id, "avchd:PRIVATE/AVCHD/BDMV/STREAM/00000");
    assert_eq!(
        files(r, &c),
        vec![
            (format!("{bd}/STREAM/00000.MTS"), Video),
            (format!("{bd}/STREAM/00001.MTS"), Video),
            (format!("{bd}/CLIPINF/00000.CPI"), Sidecar),
            (format!("{bd}/CLIPINF/00001.CPI"), Sidecar),
        ]
    );
    assert_eq!(r.segments, vec![vec![0], vec![1]]);
    assert_eq!(clip(&s_, "00002").files.len(), 2);
    let mut sk = skipped(&s_, &c);
    sk.sort();
    assert_eq!(
        sk,
        vec![
            (format!("{bd}/INDEX.BDM"), s(CARD_LEVEL_REASON)),
            (format!("{bd}/PLAYLIST/00000.MPL"), s(CARD_LEVEL_REASON)),
        ]
    );
}

#[test]
fn avchd_playlist_decides_recordings() {
    let t = tmp();
    let c = t.path().join("CAM");
    // Old root layout; streams are not even TS: the playlist alone decides.
    put(
        &c,
        "BDMV/PLAYLIST/00000.MPL",
        &synth_mpl(&[("00000", 1), ("00001", 5), ("00002", 1), ("00004", 1)]),
    );
    for n in ["00000", "00001", "00002", "00003"] {
        put(&c, &format!("BDMV/STREAM/{n}.MTS"), b"x");
    }
    let s_ = scan(&[&c.join("BDMV/STREAM")]);
    assert_eq!(names(&s_), vec!["00000", "00002", "00003"]);
    assert_eq!(clip(&s_, "00000").files.len(), 2);
    assert_eq!(clip(&s_, "00002").files.len(), 1);
    assert_eq!(clip(&s_, "00003").files.len(), 1);
    assert_eq!(clip(&s_, "00002").incomplete, None);
}

#[test]
fn gopro_recordings_with_chapters_lrv_and_thm() {
    let t = tmp();
    let c = t.path().join("GOPRO");
    for n in [
        "GH010123.MP4",
        "GH020123.MP4",
        "GL010123.LRV",
        "GL020123.LRV",
        "GH010123.THM",
        "GH020123.THM",
        "GH010124.MP4",
        "GL010124.LRV",
        "GH010124.THM",
    ] {
        put(&c, &format!("DCIM/100GOPRO/{n}"), b"x");
    }
    put(&c, "MISC/version.txt", b"v");
    put(&c, "DCIM/100GOPRO/GOPR0001.JPG", b"jpg");
    let s_ = scan(&[&c]);
    assert_eq!(names(&s_), vec!["GH0123", "GH0124", "GOPR0001"]);
    let r = clip(&s_, "GH0123");
    assert_eq!(r.family, Family::Gopro);
    assert_eq!(r.id, "gopro:100GOPRO/GH0123");
    assert_eq!(
        files(r, &c),
        vec![
            (s("DCIM/100GOPRO/GH010123.MP4"), Video),
            (s("DCIM/100GOPRO/GH020123.MP4"), Video),
            (s("DCIM/100GOPRO/GL010123.LRV"), Proxy),
            (s("DCIM/100GOPRO/GL020123.LRV"), Proxy),
            (s("DCIM/100GOPRO/GH010123.THM"), Thumbnail),
            (s("DCIM/100GOPRO/GH020123.THM"), Thumbnail),
        ]
    );
    assert_eq!(r.segments, vec![vec![0], vec![1]]);
    assert_eq!(clip(&s_, "GH0124").files.len(), 3);
    assert_eq!(clip(&s_, "GOPR0001").family, Family::Generic);
    assert_eq!(
        skipped(&s_, &c),
        vec![(s("MISC/version.txt"), s(CARD_LEVEL_REASON))]
    );
}

#[test]
fn gopro_old_style_and_missing_chapter() {
    let t = tmp();
    let c = t.path().join("HERO4");
    for n in [
        "GOPR0100.MP4",
        "GP010100.MP4",
        "GP020100.MP4",
        "GOPR0100.LRV",
        "GOPR0100.THM",
        "GX020200.MP4",
    ] {
        put(&c, &format!("DCIM/101GOPRO/{n}"), b"x");
    }
    let s_ = scan(&[&c]);
    assert_eq!(names(&s_), vec!["GOPR0100", "GX0200"]);
    let old = clip(&s_, "GOPR0100");
    assert_eq!(
        files(old, &c),
        vec![
            (s("DCIM/101GOPRO/GOPR0100.MP4"), Video),
            (s("DCIM/101GOPRO/GP010100.MP4"), Video),
            (s("DCIM/101GOPRO/GP020100.MP4"), Video),
            (s("DCIM/101GOPRO/GOPR0100.LRV"), Proxy),
            (s("DCIM/101GOPRO/GOPR0100.THM"), Thumbnail),
        ]
    );
    assert_eq!(
        clip(&s_, "GX0200").incomplete.as_deref(),
        Some("chapter 01 of this recording is missing: re-copy the card")
    );
}

#[test]
fn dji_basename_with_srt_and_lrf() {
    let t = tmp();
    let c = t.path().join("MAVIC");
    for n in [
        "DJI_0001.MP4",
        "DJI_0001.SRT",
        "DJI_0001.LRF",
        "DJI_0002.JPG",
    ] {
        put(&c, &format!("DCIM/100MEDIA/{n}"), b"x");
    }
    put(&c, "DCIM/DJI_001/DJI_20240514120000_0001_D.MP4", b"x");
    let s_ = scan(&[&c.join("DCIM")]);
    assert_eq!(
        names(&s_),
        vec!["DJI_0001", "DJI_0002", "DJI_20240514120000_0001_D"]
    );
    let d = clip(&s_, "DJI_0001");
    assert_eq!(d.family, Family::Dji);
    assert_eq!(d.id, "dji:DCIM/100MEDIA/DJI_0001");
    assert_eq!(
        files(d, &c),
        vec![
            (s("DCIM/100MEDIA/DJI_0001.MP4"), Video),
            (s("DCIM/100MEDIA/DJI_0001.SRT"), Sidecar),
            (s("DCIM/100MEDIA/DJI_0001.LRF"), Proxy),
        ]
    );
}

#[test]
fn red_clip_folder_segments_and_holes() {
    let t = tmp();
    let c = t.path().join("RED_MAG");
    let rdc = "A001_0514AB.RDM/A001_C001_0514XY.RDC";
    for n in [
        "A001_C001_0514XY_003.R3D",
        "A001_C001_0514XY_001.R3D",
        "A001_C001_0514XY_002.R3D",
        "A001_C001_0514XY.RMD",
    ] {
        put(&c, &format!("{rdc}/{n}"), b"x");
    }
    let rdc2 = "A001_0514AB.RDM/A001_C002_0514QQ.RDC";
    put(&c, &format!("{rdc2}/A001_C002_0514QQ_002.R3D"), b"x");
    let s_ = scan(&[&c.join(rdc).join("A001_C001_0514XY_002.R3D")]);
    assert_eq!(names(&s_), vec!["A001_C001_0514XY", "A001_C002_0514QQ"]);
    assert_eq!(s_.cards.len(), 1);
    assert_eq!(s_.cards[0].root, canon(&c.join("A001_0514AB.RDM")));
    let r = clip(&s_, "A001_C001_0514XY");
    assert_eq!(r.id, "red:A001_C001_0514XY");
    assert_eq!(
        files(r, &c),
        vec![
            (format!("{rdc}/A001_C001_0514XY_001.R3D"), Video),
            (format!("{rdc}/A001_C001_0514XY_002.R3D"), Video),
            (format!("{rdc}/A001_C001_0514XY_003.R3D"), Video),
            (format!("{rdc}/A001_C001_0514XY.RMD"), Sidecar),
        ]
    );
    assert_eq!(r.segments, vec![vec![0], vec![1], vec![2]]);
    assert_eq!(r.incomplete, None);
    assert_eq!(
        clip(&s_, "A001_C002_0514QQ").incomplete.as_deref(),
        Some(
            "segment(s) A001_C002_0514QQ_001.R3D missing: an incomplete copy, re-copy the clip folder"
        )
    );
}

#[test]
fn arri_frame_folder_is_one_clip_and_mov_one_each() {
    let t = tmp();
    let c = t.path().join("ARRI");
    for f in [1, 2, 3, 5] {
        put(
            &c,
            &format!("A001R1AB/A001C001_240514_R1AB/A001C001_240514_R1AB.{f:07}.ari"),
            b"x",
        );
    }
    put(&c, "A001R1AB/A002C003_240514_R1AB.mov", b"x");
    let s_ = scan(&[&c]);
    assert_eq!(
        names(&s_),
        vec!["A001C001_240514_R1AB", "A002C003_240514_R1AB"]
    );
    let a = clip(&s_, "A001C001_240514_R1AB");
    assert_eq!(a.family, Family::Arri);
    assert_eq!(a.id, "arri:A001C001_240514_R1AB");
    assert_eq!(a.files.len(), 4);
    assert_eq!(a.segments, vec![vec![0, 1, 2, 3]]);
    assert_eq!(
        a.warnings,
        vec![s("missing frames 0000004: re-copy or re-render them")]
    );
    assert_eq!(
        clip(&s_, "A002C003_240514_R1AB").id,
        "arri:A002C003_240514_R1AB"
    );
    assert_eq!(s_.cards.len(), 1);
    assert_eq!(s_.cards[0].family, Family::Arri);
}

#[test]
fn braw_with_sidecar() {
    let t = tmp();
    let c = t.path().join("BMPCC");
    put(&c, "A001_05141200_C001.braw", b"x");
    put(&c, "A001_05141200_C001.sidecar", b"{}");
    put(&c, "A001_05141200_C002.braw", b"x");
    let s_ = scan(&[&c]);
    assert_eq!(names(&s_), vec!["A001_05141200_C001", "A001_05141200_C002"]);
    let b = clip(&s_, "A001_05141200_C001");
    assert_eq!(b.id, "braw:A001_05141200_C001");
    assert_eq!(
        files(b, &c),
        vec![
            (s("A001_05141200_C001.braw"), Video),
            (s("A001_05141200_C001.sidecar"), Sidecar)
        ]
    );
}

#[test]
fn image_sequences_with_gaps_and_camera_stills_apart() {
    let t = tmp();
    let c = t.path().join("VFX");
    for f in [86400, 86401, 86403, 86404, 86405, 86409] {
        put(&c, &format!("A001C001/A001C001.{f:07}.dpx"), b"x");
    }
    for f in 0..3 {
        put(&c, &format!("plate_{f:06}.exr"), b"x");
    }
    put(&c, "IMG_0001.JPG", b"x");
    put(&c, "IMG_0002.JPG", b"x");
    let s_ = scan(&[&c]);
    assert_eq!(
        names(&s_),
        vec!["A001C001", "IMG_0001", "IMG_0002", "plate"]
    );
    let d = clip(&s_, "A001C001");
    assert_eq!(d.family, Family::ImageSequence);
    assert_eq!(d.id, "image_sequence:A001C001/A001C001.%07d.dpx");
    assert_eq!(d.files.len(), 6);
    assert_eq!(
        d.files[0].path,
        canon(&c).join("A001C001/A001C001.0086400.dpx")
    );
    assert_eq!(
        d.warnings,
        vec![s(
            "missing frames 0086402, 0086406–0086408: re-copy or re-render them"
        )]
    );
    assert_eq!(clip(&s_, "plate").id, "image_sequence:plate_%06d.exr");
    assert_eq!(clip(&s_, "IMG_0001").family, Family::Generic);
}

#[test]
fn bwf_poly_mono_tracks_and_ixml_family() {
    let t = tmp();
    let c = t.path().join("SOUND");
    let ixml = |uid: &str, idx: &str| {
        format!(
            "<?xml version=\"1.0\"?><BWFXML><FILE_SET><TOTAL_FILES>2</TOTAL_FILES><FAMILY_UID>{uid}</FAMILY_UID><FILE_SET_INDEX>{idx}</FILE_SET_INDEX></FILE_SET></BWFXML>\0\0"
        )
    };
    put(&c, "S001T01.WAV", &synth_wav(true, None));
    put(&c, "12-T003_2.WAV", &synth_wav(true, None));
    put(&c, "12-T003_1.WAV", &synth_wav(true, None));
    put(
        &c,
        "Scene001-T001_Tr1.wav",
        &synth_wav(false, Some(&ixml("ZOOMF8-UID-0001", "A"))),
    );
    put(
        &c,
        "Scene001-T001_Tr2.wav",
        &synth_wav(false, Some(&ixml("ZOOMF8-UID-0001", "B"))),
    );
    put(
        &c,
        "Take7_odd.wav",
        &synth_wav(false, Some(&ixml("ZOOMF8-UID-0001", "C"))),
    );
    put(&c, "plain.wav", &synth_wav(false, None));
    let s_ = scan(&[&c]);
    assert_eq!(
        names(&s_),
        vec!["12-T003", "S001T01", "Scene001-T001", "Take7_odd", "plain"]
    );
    let m = clip(&s_, "12-T003");
    assert_eq!(m.family, Family::AudioBwf);
    assert_eq!(m.id, "audio_bwf:12-T003");
    assert_eq!(
        files(m, &c),
        vec![(s("12-T003_1.WAV"), Audio), (s("12-T003_2.WAV"), Audio)]
    );
    assert_eq!(m.segments, vec![vec![0, 1]]);
    let z = clip(&s_, "Scene001-T001");
    assert_eq!(z.id, "audio_bwf:ZOOMF8-UID-0001/Scene001-T001_Tr1");
    assert_eq!(
        files(z, &c),
        vec![
            (s("Scene001-T001_Tr1.wav"), Audio),
            (s("Scene001-T001_Tr2.wav"), Audio),
        ]
    );
    assert!(z.warnings.is_empty(), "{:?}", z.warnings);
    // Same family, but not named as a track of that take: a file set of its own, incomplete.
    let odd = clip(&s_, "Take7_odd");
    assert_eq!(odd.files.len(), 1);
    assert!(
        odd.warnings[0].starts_with("incomplete file set: the take has 2 files"),
        "{:?}",
        odd.warnings
    );
    assert_eq!(clip(&s_, "S001T01").files.len(), 1);
    assert_eq!(clip(&s_, "plain").family, Family::Generic);
    assert_eq!(clip(&s_, "plain").files[0].role, Audio);
}

#[test]
fn bwf_take_names() {
    use crate::card::audio_bwf::take_of;
    assert_eq!(take_of("S001T01"), (s("S001T01"), 0));
    assert_eq!(take_of("S001T01_3"), (s("S001T01"), 3));
    assert_eq!(take_of("S001T01_B"), (s("S001T01"), 11));
    assert_eq!(take_of("Scene001-T001_Tr1_2"), (s("Scene001-T001"), 1));
    assert_eq!(take_of("Scene001-T001_D"), (s("Scene001-T001"), 1000));
    assert_eq!(take_of("TASCAM_0001_1"), (s("TASCAM_0001"), 1));
    assert_eq!(take_of("ZOOM0001"), (s("ZOOM0001"), 0));
}

#[test]
fn generic_loose_media_with_sidecars_and_unicode_names() {
    let t = tmp();
    let c = t.path().join("Loose");
    put(&c, "MVI_0001.MOV", b"x");
    put(&c, "MVI_0001.THM", b"x");
    put(&c, "MVI_0001.XMP", b"x");
    put(&c, "IMG_0002.CR3", b"x");
    put(&c, "IMG_0002.JPG", b"x");
    put(&c, "Überflug_été_日本.mp4", b"x");
    put(&c, "notes.txt", b"x");
    put(&c, "orphan.XMP", b"x");
    let s_ = scan(&[&c]);
    assert_eq!(
        names(&s_),
        vec!["IMG_0002", "MVI_0001", "Überflug_été_日本"]
    );
    let m = clip(&s_, "MVI_0001");
    assert_eq!(m.id, "generic:MVI_0001");
    assert_eq!(
        files(m, &c),
        vec![
            (s("MVI_0001.MOV"), Video),
            (s("MVI_0001.XMP"), Sidecar),
            (s("MVI_0001.THM"), Thumbnail)
        ]
    );
    assert_eq!(
        files(clip(&s_, "IMG_0002"), &c),
        vec![(s("IMG_0002.CR3"), Video), (s("IMG_0002.JPG"), Thumbnail)]
    );
    assert_eq!(
        clip(&s_, "Überflug_été_日本").id,
        "generic:Überflug_été_日本"
    );
    let mut sk = skipped(&s_, &c);
    sk.sort();
    assert_eq!(
        sk,
        vec![
            (
                s("notes.txt"),
                s("not a media file and no clip has this name: left out")
            ),
            (
                s("orphan.XMP"),
                s("sidecar without media: no video/audio/still named orphan in this folder")
            ),
        ]
    );
    assert_eq!(s_.cards.len(), 1);
    assert_eq!(s_.cards[0].family, Family::Generic);
    assert_eq!(s_.cards[0].root, canon(&c));
}

#[test]
fn same_id_on_two_cards_is_flagged() {
    let t = tmp();
    for cam in ["CAM_A", "CAM_B"] {
        put(&t.path().join(cam), "DCIM/100GOPRO/GH010123.MP4", b"x");
    }
    let s_ = scan(&[t.path()]);
    assert_eq!(names(&s_), vec!["GH0123", "GH0123"]);
    let roots = format!(
        "{}, {}",
        canon(&t.path().join("CAM_A")).display(),
        canon(&t.path().join("CAM_B")).display()
    );
    for c in &s_.clips {
        assert_eq!(c.id, "gopro:100GOPRO/GH0123");
        assert_eq!(
            c.warnings,
            vec![format!(
                "2 clips share the id gopro:100GOPRO/GH0123 (cards: {roots}): the same card copied twice, or cameras reusing names; check before registering"
            )]
        );
    }
}

#[test]
fn shoot_day_folder_with_red_reel_gopro_and_p2_cards() {
    let t = tmp();
    let day = t.path().join("DAY1");
    put(
        &day,
        "A001_0514AB.RDM/A001_C001_0514XY.RDC/A001_C001_0514XY_001.R3D",
        b"x",
    );
    // A clip folder copied loose into the day folder makes DAY1 itself a RED root; the cards
    // in its other subfolders (and the reel) must still be found.
    put(&day, "A002_C007_0515ZZ.RDC/A002_C007_0515ZZ_001.R3D", b"x");
    put(&day, "GOPRO_CAM/DCIM/100GOPRO/GH010001.MP4", b"x");
    let p2 = day.join("P2_CARD");
    super::p2::p2_clip(
        &p2,
        "0002EM",
        &super::p2::p2_xml("0002EM", &super::p2::gcid(2), 25, 1, None),
        1,
        false,
    );
    put(&day, "notes.txt", b"n");
    let s_ = scan(&[&day]);
    let mut fams: Vec<(Family, String)> = s_
        .cards
        .iter()
        .map(|c| {
            (
                c.family,
                c.root
                    .strip_prefix(canon(&day))
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        })
        .collect();
    fams.sort();
    assert_eq!(
        fams,
        vec![
            (Family::P2, s("P2_CARD")),
            (Family::Gopro, s("GOPRO_CAM")),
            (Family::Red, s("")),
            (Family::Red, s("A001_0514AB.RDM")),
        ]
    );
    assert_eq!(
        names(&s_),
        vec!["A002_C007_0515ZZ", "A001_C001_0514XY", "GH0001", "0002EM"]
    );
    assert_eq!(
        skipped(&s_, &day),
        vec![(
            s("notes.txt"),
            s("not part of any clip on this red card (no clip uses this name or folder)")
        )]
    );
}

/// Cinema EOS flat clips (`CONTENTS/CLIPS001/A001C001_240514AB_CANON.CRM` / `.MXF` with
/// same-basename sidecars) are clips, not card-level files; `INDEX.MIF` stays card-level.
#[test]
fn canon_cinema_eos_flat_clips_are_clips() {
    let t = tmp();
    let c = t.path().join("C70");
    put(&c, "CONTENTS/CLIPS001/INDEX.MIF", b"mif");
    put(&c, "CONTENTS/CLIPS001/A001C001_240514AB_CANON.CRM", b"crm");
    put(&c, "CONTENTS/CLIPS001/A001C001_240514AB_CANON.XML", br#"<?xml version="1.0"?><VideoClip xmlns="http://www.canon.com/ns/VideoClip"><Title>A001C001</Title><Device><Manufacturer>Canon</Manufacturer><ModelName>EOS C70</ModelName><SerialNo>123456</SerialNo></Device></VideoClip>"#);
    put(&c, "CONTENTS/CLIPS001/A001C001_240514AB_CANON.CIF", b"cif");
    put(&c, "CONTENTS/CLIPS001/A001C001_240514AB_CANON.THM", b"thm");
    put(&c, "CONTENTS/CLIPS001/A001C002_240514AB_CANON.MXF", b"mxf");
    put(
        &c,
        "CONTENTS/CLIPS001/A001C002_240514AB_CANON01.PPN",
        b"ppn",
    );
    let s_ = scan(&[&c]);
    assert_eq!(
        names(&s_),
        vec!["A001C001_240514AB_CANON", "A001C002_240514AB_CANON"]
    );
    let raw = clip(&s_, "A001C001_240514AB_CANON");
    assert_eq!(raw.family, Family::CanonXf);
    assert_eq!(raw.id, "canon_xf:CLIPS001/A001C001_240514AB_CANON");
    assert_eq!(
        files(raw, &c),
        vec![
            (s("CONTENTS/CLIPS001/A001C001_240514AB_CANON.CRM"), Video),
            (s("CONTENTS/CLIPS001/A001C001_240514AB_CANON.CIF"), Sidecar),
            (s("CONTENTS/CLIPS001/A001C001_240514AB_CANON.XML"), Sidecar),
            (
                s("CONTENTS/CLIPS001/A001C001_240514AB_CANON.THM"),
                Thumbnail
            ),
        ]
    );
    let xf = clip(&s_, "A001C002_240514AB_CANON");
    assert_eq!(
        files(xf, &c),
        vec![
            (s("CONTENTS/CLIPS001/A001C002_240514AB_CANON.MXF"), Video),
            (s("CONTENTS/CLIPS001/A001C002_240514AB_CANON01.PPN"), Other),
        ]
    );
    assert_eq!(
        skipped(&s_, &c),
        vec![(s("CONTENTS/CLIPS001/INDEX.MIF"), s(CARD_LEVEL_REASON))]
    );
    let m = crate::media::describe_clip(raw, &crate::media::Tools::default()).metadata;
    assert_eq!(m.camera_model.as_deref(), Some("EOS C70"));
    assert_eq!(
        m.sources.get("camera_model").map(String::as_str),
        Some("A001C001_240514AB_CANON.XML Canon clip XML")
    );
}

#[test]
fn dji_empty_or_cut_srt_is_a_warning_on_its_clip() {
    let t = tmp();
    let c = t.path().join("DRONE");
    let cue = |i: u32| {
        format!(
            "{i}\n00:00:0{a},000 --> 00:00:0{b},000\n<font size=\"36\">SrtCnt : {i}, DiffTime : 1000ms\n2021-12-25 12:27:5{a}.373\n[iso : 110] [shutter : 1/200.0] [fnum : 280] [ev : 0] [ct : 5500] [color_md : default] [focal_len : 240] [latitude: 48.137154] [longitude: 11.576124] [altitude: 520.125000] </font>\n\n",
            a = i - 1,
            b = i
        )
    };
    let whole = format!("{}{}", cue(1), cue(2));
    for n in ["0001", "0002", "0003"] {
        put(&c, &format!("DCIM/100MEDIA/DJI_{n}.MP4"), b"mp4");
    }
    put(&c, "DCIM/100MEDIA/DJI_0001.SRT", b"");
    put(
        &c,
        "DCIM/100MEDIA/DJI_0002.SRT",
        &whole.as_bytes()[..whole.len() - 40],
    );
    put(&c, "DCIM/100MEDIA/DJI_0003.SRT", whole.as_bytes());
    let s = scan(&[&c]);
    assert_eq!(names(&s), vec!["DJI_0001", "DJI_0002", "DJI_0003"]);
    assert_eq!(
        clip(&s, "DJI_0001").warnings,
        vec![
            "telemetry DJI_0001.SRT is empty (0 bytes); flight data (GPS, altitude, camera \
             settings) is missing for this clip; re-copy it from the card"
                .to_string()
        ]
    );
    assert_eq!(
        clip(&s, "DJI_0002").warnings,
        vec![
            "telemetry DJI_0002.SRT ends mid-line in block 2: the copy was cut off; flight data \
             (GPS, altitude, camera settings) is missing for this clip; re-copy it from the card"
                .to_string()
        ]
    );
    assert!(clip(&s, "DJI_0003").warnings.is_empty());
    // The SRT stays a member either way.
    assert_eq!(clip(&s, "DJI_0001").files.len(), 2);
}

#[test]
fn parent_folder_with_unrelated_folders_gives_separate_cards() {
    let t = tmp();
    let day = t.path().join("DAY_03");
    let ixml = r#"<BWFXML><IXML_VERSION>2.10</IXML_VERSION><PROJECT>NORTH</PROJECT><SCENE>A101</SCENE><TAKE>1</TAKE><FILE_SET><TOTAL_FILES>1</TOTAL_FILES><FAMILY_UID>SDU8B1A1E2F3</FAMILY_UID><FILE_SET_INDEX>A</FILE_SET_INDEX></FILE_SET></BWFXML>"#;
    put(
        &day,
        "SOUND_702T/240514/A101_1.WAV",
        &synth_wav(true, Some(ixml)),
    );
    put(&day, "A001R1AB/A001C001_240514_R1AB.mxf", b"mxf");
    put(&day, "A001R1AB/A001C002_240514_R1AB.mxf", b"mxf");
    let s = scan(&[&day]);
    let day = canon(&day);
    let mut cards: Vec<(Family, PathBuf)> =
        s.cards.iter().map(|c| (c.family, c.root.clone())).collect();
    cards.sort();
    assert_eq!(
        cards,
        vec![
            (Family::Arri, day.join("A001R1AB")),
            (Family::AudioBwf, day.join("SOUND_702T")),
        ]
    );
    let wav = clip(&s, "A101_1");
    assert_eq!(wav.card_root, day.join("SOUND_702T"));
    assert_eq!(
        clip(&s, "A001C001_240514_R1AB").card_root,
        day.join("A001R1AB")
    );
    // A recorder's day folders alone stay one card.
    let rec = t.path().join("SD_CARD");
    put(&rec, "240514/A101_1.WAV", &synth_wav(true, Some(ixml)));
    put(&rec, "240515/B202_1.WAV", &synth_wav(true, None));
    let s = scan(&[&rec]);
    assert_eq!(s.cards.len(), 1);
    assert_eq!(s.cards[0].root, canon(&rec));
    assert!(s.clips.iter().all(|c| c.card_root == canon(&rec)));
}

/// An MXF header partition key followed by an Identification set whose CompanyName is
/// UTF-16BE "ARRI" and ProductName "ALEXA 35" (as ALEXA recordings carry them).
fn arri_mxf() -> Vec<u8> {
    let mut v = vec![
        0x06, 0x0E, 0x2B, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0D, 0x01, 0x02, 0x01, 0x01, 0x02, 0x04,
        0x00,
    ];
    v.resize(256, 0);
    for s in ["ARRI", "ALEXA 35"] {
        v.extend(s.encode_utf16().flat_map(|u| u.to_be_bytes()));
        v.extend([0, 0]);
    }
    v.resize(1024, 0);
    v
}

#[test]
fn arri_mxf_clips_are_arri_and_take_their_ale_row() {
    use crate::media::{Tools, describe_clip};
    let t = tmp();
    let mag = t.path().join("MAG_A007");
    put(&mag, "A007R2E4/A007C001_140720_R2E4.mxf", &arri_mxf());
    // Renamed by a copy tool: found by the MXF Identification, still an ARRI clip.
    put(&mag, "A007R2E4/interview_take2.mxf", &arri_mxf());
    put(
        &mag,
        "A007R2E4/A007R2E4.ale",
        "Heading\r\nFIELD_DELIM\tTABS\r\nFPS\t23.976\r\n\r\nColumn\r\nName\tStart\tEnd\tReel_Name\tScene\tTake\tCamera_SN\tExposure_Index\tWhite_Balance\tLens_Type\tLook_Name\tSensor_FPS\tShutter_Angle\r\n\r\nData\r\nA007C001_140720_R2E4\t10:00:00:00\t10:00:10:00\tA007R2E4\t12\t3\t60123\t800\t5600\tARRI Signature Prime 35mm\tARRI 709\t23.976\t172.8\r\n"
            .as_bytes(),
    );
    let s = scan(&[&mag]);
    assert_eq!(names(&s), vec!["A007C001_140720_R2E4", "interview_take2"]);
    assert!(s.clips.iter().all(|c| c.family == Family::Arri));
    assert_eq!(s.clips[0].files.len(), 1, "the ALE is no member");
    assert_eq!(
        skipped(&s, &mag),
        vec![(
            "A007R2E4/A007R2E4.ale".to_string(),
            "ALE log: its rows are read as metadata of the clips they name (Name column); \
             copied with the card, not a clip member"
                .to_string()
        )]
    );
    let m = describe_clip(&s.clips[0], &Tools::default()).metadata;
    assert_eq!(m.scene.as_deref(), Some("12"));
    assert_eq!(m.take.as_deref(), Some("3"));
    assert_eq!(m.tape.as_deref(), Some("A007R2E4"));
    let x = |k: &str| m.extra.get(k).map(String::as_str);
    assert_eq!(x("iso"), Some("800"));
    assert_eq!(x("white_balance"), Some("5600"));
    assert_eq!(x("lens"), Some("ARRI Signature Prime 35mm"));
    assert_eq!(x("look"), Some("ARRI 709"));
    assert_eq!(x("shutter_angle"), Some("172.8"));
    assert_eq!(x("camera_sn"), Some("60123"));
    assert_eq!(
        m.sources.get("iso").map(String::as_str),
        Some("A007R2E4.ale ALE column Exposure_Index")
    );
    assert_eq!(
        m.sources.get("scene").map(String::as_str),
        Some("A007R2E4.ale ALE column Scene")
    );
    // The renamed clip has no row: nothing invented.
    let m2 = describe_clip(&s.clips[1], &Tools::default()).metadata;
    assert!(m2.extra.is_empty() && m2.scene.is_none());
}

#[test]
fn red_rmd_and_braw_sidecar_give_look_iso_wb_lens() {
    use crate::media::{Tools, describe_clip};
    let t = tmp();
    let c = t.path().join("RED_MAG");
    let rdc = "A001_0514AB.RDM/A001_C001_0514XY.RDC";
    put(
        &c,
        &format!("{rdc}/A001_C001_0514XY_001.R3D"),
        b"\0\0\x02\x08RED2....",
    );
    put(
        &c,
        &format!("{rdc}/A001_C001_0514XY.RMD"),
        br#"<?xml version="1.0" encoding="UTF-8"?><red_metadata version="1.0"><clip name="A001_C001_0514XY" reel="A001"/><color iso="800" kelvin="5600" tint="0"/><look value="RWG_Log3G10 to REC709 BT1886"/></red_metadata>"#,
    );
    put(
        &c,
        "BRAW/A001_05141200_C001.braw",
        b"\0\0\0\x14ftypqt  \0\0\0\0",
    );
    put(
        &c,
        "BRAW/A001_05141200_C001.sidecar",
        br#"{"reel_name": "A001", "scene": "12", "take": "3", "good_take": true, "iso": 400, "white_balance_kelvin": 3200, "lens_type": "Sigma 18-35mm", "post_3dlut_mode": "Embedded"}"#,
    );
    let s = scan(&[&c.join(rdc)]);
    let red = clip(&s, "A001_C001_0514XY");
    let m = describe_clip(red, &Tools::default()).metadata;
    assert_eq!(m.extra.get("iso").map(String::as_str), Some("800"));
    assert_eq!(
        m.extra.get("white_balance").map(String::as_str),
        Some("5600")
    );
    assert_eq!(
        m.extra.get("look").map(String::as_str),
        Some("RWG_Log3G10 to REC709 BT1886")
    );
    assert_eq!(m.tape.as_deref(), Some("A001"));
    assert_eq!(
        m.sources.get("white_balance").map(String::as_str),
        Some("A001_C001_0514XY.RMD RED RMD <color kelvin>")
    );
    assert_eq!(
        m.sources
            .get("unread A001_C001_0514XY.RMD")
            .map(String::as_str),
        Some("not read (format not known well enough): version, name")
    );
    let s = scan(&[&c.join("BRAW")]);
    let b = clip(&s, "A001_05141200_C001");
    assert_eq!(b.family, Family::Braw);
    let m = describe_clip(b, &Tools::default()).metadata;
    assert_eq!(m.extra.get("iso").map(String::as_str), Some("400"));
    assert_eq!(
        m.extra.get("lens").map(String::as_str),
        Some("Sigma 18-35mm")
    );
    assert_eq!(
        (m.scene.as_deref(), m.take.as_deref()),
        (Some("12"), Some("3"))
    );
    assert_eq!(m.circled.as_deref(), Some("true"));
    assert_eq!(
        m.sources.get("iso").map(String::as_str),
        Some("A001_05141200_C001.sidecar BRAW sidecar iso")
    );
}

#[test]
fn recorder_folder_beside_a_camera_card_is_its_own_card() {
    let t = tmp();
    let day = t.path().join("SHOOT");
    put(&day, "CAM_A/DCIM/100GOPRO/GH010123.MP4", b"mp4");
    put(&day, "SOUND/S001T01.WAV", &synth_wav(true, None));
    let s = scan(&[&day]);
    let day = canon(&day);
    let mut cards: Vec<(Family, PathBuf)> =
        s.cards.iter().map(|c| (c.family, c.root.clone())).collect();
    cards.sort();
    assert_eq!(
        cards,
        vec![
            (Family::Gopro, day.join("CAM_A")),
            (Family::AudioBwf, day.join("SOUND")),
        ]
    );
    assert_eq!(clip(&s, "S001T01").card_root, day.join("SOUND"));
}
