//! `card-ingest scan --json` on the generated sample cards: exact grouping (clips, families, file
//! lists with roles and order, segments), normalised metadata, stable ids, and bad input.
//!
//! The oracle below is written by hand from what `card_ingest::sample` generates
//! (camera-cards.md §6 "Expected grouping"); it is not computed from the generator.

use crate::util::{
    self, Report, ReportClip, assert_duration, assert_files, assert_shoot_date, fixtures, rel, scan,
};
use FileRole::{Audio, Other, Proxy, Sidecar, Thumbnail, Video};
use card_ingest::card::{Family, FileRole};
use card_ingest::sample::SampleKind;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn meta_eq(c: &ReportClip, tc: Option<&str>, rate: &str, size: (u32, u32), channels: Option<u32>) {
    let m = &c.metadata;
    let name = &c.clip.name;
    assert_eq!(m.timecode_start.as_deref(), tc, "timecode_start of {name}");
    assert_eq!(m.frame_rate.as_deref(), Some(rate), "frame_rate of {name}");
    assert_eq!(
        (m.width, m.height),
        (Some(size.0), Some(size.1)),
        "size of {name}"
    );
    assert_eq!(m.audio_channels, channels, "audio_channels of {name}");
}

fn card_roots(r: &Report) -> Vec<(Family, PathBuf)> {
    let mut v: Vec<(Family, PathBuf)> = r
        .cards
        .iter()
        .map(|c| (c.family, util::canonical(&c.root)))
        .collect();
    v.sort();
    v
}

fn assert_no_errors(r: &Report) {
    assert!(r.errors.is_empty(), "unexpected errors: {:#?}", r.errors);
}

/// The P2 card A oracle, for a card at `root` (names upper-case unless `lower`).
fn assert_p2_card_a(r: &Report, root: &Path) {
    assert_eq!(r.clip_names(), ["0002EM", "0003AB"]);
    let c = r.clip("0002EM");
    assert_eq!(c.clip.family, Family::P2);
    assert_eq!(util::canonical(&c.clip.card_root), root);
    assert_files(
        c,
        root,
        &[
            ("CONTENTS/VIDEO/0002EM.MXF", Video),
            ("CONTENTS/AUDIO/0002EM00.MXF", Audio),
            ("CONTENTS/AUDIO/0002EM01.MXF", Audio),
            ("CONTENTS/AUDIO/0002EM02.MXF", Audio),
            ("CONTENTS/AUDIO/0002EM03.MXF", Audio),
        ],
        &[
            ("CONTENTS/CLIP/0002EM.XML", Sidecar),
            ("CONTENTS/PROXY/0002EM.MP4", Proxy),
            ("CONTENTS/ICON/0002EM.BMP", Thumbnail),
            ("CONTENTS/VOICE/0002EM00.WAV", Other),
        ],
    );
    assert_eq!(c.clip.segments, [vec![0, 1, 2, 3, 4]]);
    assert_eq!(c.clip.incomplete, None);
    assert!(c.clip.warnings.is_empty(), "{:?}", c.clip.warnings);
    let gid = util::p2_global_clip_id(&root.join("CONTENTS/CLIP/0002EM.XML"));
    assert!(
        c.clip.id.to_uppercase().contains(&gid),
        "0002EM id {:?} should carry its GlobalClipID {gid}",
        c.clip.id
    );
    meta_eq(c, Some("10:00:00:00"), "25", (320, 180), Some(4));
    assert_duration(c, 3.0, 0.001);
    assert_eq!(c.metadata.camera_model.as_deref(), Some("AJ-PX270"));
    assert_eq!(c.metadata.camera_serial.as_deref(), Some("E4TA01234"));
    assert_eq!(
        c.metadata.user_clip_name.as_deref(),
        Some("Interview take 1")
    );
    assert_shoot_date(c, "2024-05-14T10:00:00+02:00");

    let s = r.clip("0003AB");
    assert_files(
        s,
        root,
        &[
            ("CONTENTS/VIDEO/0003AB.MXF", Video),
            ("CONTENTS/AUDIO/0003AB00.MXF", Audio),
            ("CONTENTS/AUDIO/0003AB01.MXF", Audio),
            ("CONTENTS/AUDIO/0003AB02.MXF", Audio),
            ("CONTENTS/AUDIO/0003AB03.MXF", Audio),
        ],
        &[
            ("CONTENTS/CLIP/0003AB.XML", Sidecar),
            ("CONTENTS/PROXY/0003AB.MP4", Proxy),
            ("CONTENTS/ICON/0003AB.BMP", Thumbnail),
        ],
    );
    let why = s.clip.incomplete.as_deref().unwrap_or_default();
    assert!(
        why.contains("CARDB0001"),
        "0003AB alone must be incomplete, waiting for card CARDB0001; got {:?}",
        s.clip.incomplete
    );
    assert_eq!(s.metadata.timecode_start.as_deref(), Some("11:00:00:00"));
    assert_ne!(c.clip.id, s.clip.id);
}

#[test]
fn p2_card_alone_has_complete_clip_and_incomplete_span() {
    let root = fixtures().dir_of(SampleKind::P2);
    let r = scan(&[root]);
    assert_eq!(card_roots(&r), [(Family::P2, root.to_path_buf())]);
    assert_p2_card_a(&r, root);
    assert_no_errors(&r);
}

#[test]
fn p2_card_dropped_by_its_audio_folder_is_found_whole() {
    let root = fixtures().dir_of(SampleKind::P2);
    let r = scan(&[&root.join("CONTENTS/AUDIO")]);
    assert_eq!(card_roots(&r), [(Family::P2, root.to_path_buf())]);
    assert_p2_card_a(&r, root);
}

fn assert_p2_span(r: &Report, dir: &Path) {
    let a = dir.join("CARD_A");
    let b = dir.join("CARD_B");
    assert_eq!(
        card_roots(r),
        [(Family::P2, a.clone()), (Family::P2, b.clone())]
    );
    // 0004CD is part of the shot 0003AB, not a clip of its own.
    assert_eq!(r.clip_names(), ["0002EM", "0003AB"]);
    let s = r.clip("0003AB");
    assert_eq!(s.clip.incomplete, None, "both cards are present");
    assert_eq!(util::canonical(&s.clip.card_root), a);
    assert_files(
        s,
        dir,
        &[
            ("CARD_A/CONTENTS/VIDEO/0003AB.MXF", Video),
            ("CARD_A/CONTENTS/AUDIO/0003AB00.MXF", Audio),
            ("CARD_A/CONTENTS/AUDIO/0003AB01.MXF", Audio),
            ("CARD_A/CONTENTS/AUDIO/0003AB02.MXF", Audio),
            ("CARD_A/CONTENTS/AUDIO/0003AB03.MXF", Audio),
            ("CARD_B/CONTENTS/VIDEO/0004CD.MXF", Video),
            ("CARD_B/CONTENTS/AUDIO/0004CD00.MXF", Audio),
            ("CARD_B/CONTENTS/AUDIO/0004CD01.MXF", Audio),
            ("CARD_B/CONTENTS/AUDIO/0004CD02.MXF", Audio),
            ("CARD_B/CONTENTS/AUDIO/0004CD03.MXF", Audio),
        ],
        &[
            ("CARD_A/CONTENTS/CLIP/0003AB.XML", Sidecar),
            ("CARD_B/CONTENTS/CLIP/0004CD.XML", Sidecar),
            ("CARD_A/CONTENTS/PROXY/0003AB.MP4", Proxy),
            ("CARD_B/CONTENTS/PROXY/0004CD.MP4", Proxy),
            ("CARD_A/CONTENTS/ICON/0003AB.BMP", Thumbnail),
            ("CARD_B/CONTENTS/ICON/0004CD.BMP", Thumbnail),
        ],
    );
    assert_eq!(s.clip.segments, [vec![0, 1, 2, 3, 4], vec![5, 6, 7, 8, 9]]);
    meta_eq(s, Some("11:00:00:00"), "25", (320, 180), Some(4));
    assert_duration(s, 3.0, 0.001);
    let top = util::p2_global_clip_id(&a.join("CONTENTS/CLIP/0003AB.XML"));
    assert!(
        s.clip.id.to_uppercase().contains(&top),
        "shot id {:?} should carry the Top GlobalClipID {top}",
        s.clip.id
    );
    assert_eq!(r.clip("0002EM").clip.files.len(), 9);
}

#[test]
fn p2_span_cards_dropped_by_their_parent_join_into_one_shot() {
    let dir = fixtures().dir_of(SampleKind::P2Span);
    let r = scan(&[dir]);
    assert_p2_span(&r, dir);
    assert_no_errors(&r);
}

#[test]
fn p2_span_cards_dropped_as_two_paths_join_too() {
    let dir = fixtures().dir_of(SampleKind::P2Span);
    let r = scan(&[&dir.join("CARD_B"), &dir.join("CARD_A")]);
    assert_p2_span(&r, dir);
}

#[test]
fn p2_lower_case_copy_groups_like_the_original() {
    let tmp = util::tempdir();
    let original = fixtures().dir_of(SampleKind::P2);
    let lower = tmp.path().join("card_a");
    util::copy_tree_with(original, &lower, &|n| n.to_lowercase());
    let lower = util::canonical(&lower);
    let a = scan(&[original]);
    let b = scan(&[&lower]);
    assert_eq!(b.clip_names(), ["0002EM", "0003AB"]);
    for name in ["0002EM", "0003AB"] {
        let (x, y) = (a.clip(name), b.clip(name));
        assert_eq!(
            x.clip.id, y.clip.id,
            "id of {name} must not depend on name case"
        );
        let files = |c: &ReportClip, base: &Path| -> Vec<(String, FileRole)> {
            c.clip
                .files
                .iter()
                .map(|f| (rel(&f.path, base).to_lowercase(), f.role))
                .collect()
        };
        assert_eq!(files(x, original), files(y, &lower), "files of {name}");
        assert_eq!(x.clip.incomplete.is_some(), y.clip.incomplete.is_some());
    }
    assert_eq!(
        b.clip("0002EM").metadata.timecode_start.as_deref(),
        Some("10:00:00:00")
    );
}

#[test]
fn macos_junk_is_skipped_never_grouped() {
    for (kind, junk) in [
        (
            SampleKind::P2,
            &[
                "CONTENTS/VIDEO/._0002EM.MXF",
                "CONTENTS/AUDIO/._0002EM00.MXF",
            ][..],
        ),
        (SampleKind::Gopro, &["DCIM/100GOPRO/._GH010123.MP4"][..]),
        (SampleKind::Xdcam, &["XDROOT/Clip/._C0001.MXF"][..]),
    ] {
        let root = fixtures().dir_of(kind);
        let r = scan(&[root]);
        let skipped: Vec<String> = r.skipped.iter().map(|s| rel(&s.path, root)).collect();
        let everything = junk
            .iter()
            .copied()
            .chain([".DS_Store", ".Spotlight-V100", ".fseventsd"]);
        for j in everything {
            assert!(
                skipped
                    .iter()
                    .any(|s| s == j || s.starts_with(&format!("{j}/"))),
                "{kind}: {j} should be listed in skipped; skipped = {skipped:?}"
            );
        }
        for s in &r.skipped {
            assert!(
                !s.reason.trim().is_empty(),
                "skip reason for {}",
                s.path.display()
            );
        }
        for c in &r.clips {
            for f in &c.clip.files {
                let p = rel(&f.path, root);
                assert!(
                    !p.contains("/._") && !p.starts_with('.'),
                    "{kind}: junk {p} grouped into clip {}",
                    c.clip.name
                );
            }
        }
        assert_no_errors(&r);
    }
}

#[test]
fn xdcam_clips_metadata_and_inventory_warning() {
    let root = fixtures().dir_of(SampleKind::Xdcam);
    let r = scan(&[root]);
    assert_eq!(card_roots(&r), [(Family::Xdcam, root.to_path_buf())]);
    assert_eq!(r.clip_names(), ["C0001", "C0002"]);
    let c1 = r.clip("C0001");
    assert_eq!(c1.clip.family, Family::Xdcam);
    assert_files(
        c1,
        root,
        &[("XDROOT/Clip/C0001.MXF", Video)],
        &[
            ("XDROOT/Clip/C0001M01.XML", Sidecar),
            ("XDROOT/Sub/C0001S01.MXF", Proxy),
            ("XDROOT/Clip/C0001R01.BIM", Other),
        ],
    );
    assert_eq!(c1.clip.segments, [vec![0]]);
    assert!(c1.clip.warnings.is_empty(), "{:?}", c1.clip.warnings);
    meta_eq(c1, Some("12:00:00:00"), "25", (320, 180), Some(8));
    assert_duration(c1, 3.0, 0.001);
    assert_eq!(c1.metadata.camera_model.as_deref(), Some("PXW-X320"));
    assert_eq!(c1.metadata.camera_serial.as_deref(), Some("0012345"));
    assert_shoot_date(c1, "2024-05-14T12:00:00+02:00");
    let c2 = r.clip("C0002");
    assert_files(
        c2,
        root,
        &[("XDROOT/Clip/C0002.MXF", Video)],
        &[
            ("XDROOT/Clip/C0002M01.XML", Sidecar),
            ("XDROOT/Sub/C0002S01.MXF", Proxy),
        ],
    );
    assert_eq!(c2.clip.warnings.len(), 1, "{:?}", c2.clip.warnings);
    assert!(
        c2.clip.warnings[0].contains("MEDIAPRO.XML"),
        "C0002 is on disk but not in MEDIAPRO.XML: {:?}",
        c2.clip.warnings
    );
    assert_eq!(c2.metadata.timecode_start.as_deref(), Some("12:10:00:00"));
    assert_no_errors(&r);
}

#[test]
fn imx_without_nrt_xml_is_registered_from_the_container() {
    let root = fixtures().dir_of(SampleKind::Imx);
    let r = scan(&[root]);
    assert_eq!(card_roots(&r), [(Family::Xdcam, root.to_path_buf())]);
    assert_eq!(r.clip_names(), ["C0001"]);
    let c = r.clip("C0001");
    assert_files(c, root, &[("XDROOT/Clip/C0001.MXF", Video)], &[]);
    // D10 codes 608 lines: the 576-line picture plus 32 VBI lines (camera-cards.md §4; the
    // generator pads a 576-line picture). The operator knows the clip as 720×576, so that is
    // what metadata reports (MediaInfo does; the ffprobe fallback applies the D10 rule).
    meta_eq(c, Some("13:00:00:00"), "25", (720, 576), Some(4));
    assert_duration(c, 1.0, 0.001);
    assert_no_errors(&r);
}

#[test]
fn xdcam_ex_take_joins_its_clip_folders_and_tolerates_an_empty_sidecar() {
    let root = fixtures().dir_of(SampleKind::XdcamEx);
    let r = scan(&[root]);
    assert_eq!(card_roots(&r), [(Family::XdcamEx, root.to_path_buf())]);
    assert_eq!(r.clip_names(), ["709_001"]);
    let c = r.clip("709_001");
    assert_files(
        c,
        root,
        &[
            ("BPAV/CLPR/709_001_01/709_001_01.MP4", Video),
            ("BPAV/CLPR/709_001_02/709_001_02.MP4", Video),
        ],
        &[
            ("BPAV/CLPR/709_001_01/709_001_01.SMI", Sidecar),
            ("BPAV/CLPR/709_001_01/709_001_01M01.XML", Sidecar),
            ("BPAV/CLPR/709_001_02/709_001_02.SMI", Sidecar),
            ("BPAV/CLPR/709_001_02/709_001_02M01.XML", Sidecar),
            ("BPAV/TAKR/709_001/709_001.SMI", Sidecar),
        ],
    );
    assert_eq!(c.clip.segments, [vec![0], vec![1]]);
    meta_eq(c, Some("01:00:00:00"), "25", (320, 180), Some(2));
    assert_duration(c, 4.0, 0.001);
    assert_eq!(c.metadata.camera_model.as_deref(), Some("PMW-EX1R"));
    let mentioned = c
        .clip
        .warnings
        .iter()
        .cloned()
        .chain(r.reported_paths())
        .chain(r.errors.iter().map(|e| e.message.clone()))
        .any(|s| s.contains("709_001_02M01.XML"));
    assert!(
        mentioned,
        "the empty 709_001_02M01.XML must be reported (warning or error); warnings {:?}, errors {:?}",
        c.clip.warnings, r.errors
    );
}

#[test]
fn xavc_s_clip_collects_thumbnail_and_proxy_by_basename() {
    let root = fixtures().dir_of(SampleKind::XavcS);
    let r = scan(&[root]);
    assert_eq!(card_roots(&r), [(Family::XavcS, root.to_path_buf())]);
    assert_eq!(r.clip_names(), ["C0001"]);
    let c = r.clip("C0001");
    assert_files(
        c,
        root,
        &[("PRIVATE/M4ROOT/CLIP/C0001.MP4", Video)],
        &[
            ("PRIVATE/M4ROOT/CLIP/C0001M01.XML", Sidecar),
            ("PRIVATE/M4ROOT/SUB/C0001S03.MP4", Proxy),
            ("PRIVATE/M4ROOT/THMBNL/C0001T01.JPG", Thumbnail),
        ],
    );
    meta_eq(c, Some("14:00:00:00"), "25", (320, 180), Some(2));
    assert_duration(c, 3.0, 0.01);
    assert_eq!(c.metadata.camera_model.as_deref(), Some("ILCE-7SM3"));
    assert_no_errors(&r);
}

#[test]
fn canon_xf_clip_joins_its_segments() {
    let root = fixtures().dir_of(SampleKind::CanonXf);
    let r = scan(&[root]);
    assert_eq!(card_roots(&r), [(Family::CanonXf, root.to_path_buf())]);
    assert_eq!(r.clip_names(), ["AA0001"]);
    let c = r.clip("AA0001");
    let d = "CONTENTS/CLIPS001/AA0001";
    assert_files(
        c,
        root,
        &[
            (&format!("{d}/AA000101.MXF"), Video),
            (&format!("{d}/AA000102.MXF"), Video),
        ],
        &[
            (&format!("{d}/AA0001.CIF"), Sidecar),
            (&format!("{d}/AA0001.XML"), Sidecar),
            (&format!("{d}/AA0001.THM"), Thumbnail),
        ],
    );
    assert_eq!(c.clip.segments, [vec![0], vec![1]]);
    // Channels of one segment: the second segment continues the same two tracks.
    meta_eq(c, Some("15:00:00:00"), "25", (320, 180), Some(2));
    assert_duration(c, 3.0, 0.001);
    assert_no_errors(&r);
}

#[test]
fn avchd_pts_fallback_joins_continuing_streams() {
    let root = fixtures().dir_of(SampleKind::Avchd);
    let r = scan(&[root]);
    assert_eq!(card_roots(&r), [(Family::Avchd, root.to_path_buf())]);
    assert_eq!(r.clip_names(), ["00000", "00002"]);
    let b = "PRIVATE/AVCHD/BDMV";
    let c = r.clip("00000");
    assert_files(
        c,
        root,
        &[
            (&format!("{b}/STREAM/00000.MTS"), Video),
            (&format!("{b}/STREAM/00001.MTS"), Video),
        ],
        &[
            (&format!("{b}/CLIPINF/00000.CPI"), Sidecar),
            (&format!("{b}/CLIPINF/00001.CPI"), Sidecar),
        ],
    );
    assert_eq!(c.clip.segments, [vec![0], vec![1]]);
    meta_eq(c, None, "25", (320, 180), Some(2));
    assert_duration(c, 2.0, 0.05);
    let single = r.clip("00002");
    assert_files(
        single,
        root,
        &[(&format!("{b}/STREAM/00002.MTS"), Video)],
        &[(&format!("{b}/CLIPINF/00002.CPI"), Sidecar)],
    );
    assert_duration(single, 1.0, 0.05);
    assert_ne!(c.clip.id, single.clip.id);
}

#[test]
fn gopro_chapters_form_one_recording() {
    let root = fixtures().dir_of(SampleKind::Gopro);
    let r = scan(&[root]);
    assert_eq!(card_roots(&r), [(Family::Gopro, root.to_path_buf())]);
    assert_eq!(r.clip_names(), ["GH0123", "GH0124"]);
    let d = "DCIM/100GOPRO";
    let c = r.clip("GH0123");
    assert_files(
        c,
        root,
        &[
            (&format!("{d}/GH010123.MP4"), Video),
            (&format!("{d}/GH020123.MP4"), Video),
        ],
        &[
            (&format!("{d}/GL010123.LRV"), Proxy),
            (&format!("{d}/GL020123.LRV"), Proxy),
            (&format!("{d}/GH010123.THM"), Thumbnail),
            (&format!("{d}/GH020123.THM"), Thumbnail),
        ],
    );
    assert_eq!(c.clip.segments, [vec![0], vec![1]]);
    meta_eq(c, Some("00:00:00;00"), "30000/1001", (320, 180), Some(2));
    assert_duration(c, 4.004, 0.01);
    assert_shoot_date(c, "2024-05-14T12:00:00Z");
    let alone = r.clip("GH0124");
    assert_files(
        alone,
        root,
        &[(&format!("{d}/GH010124.MP4"), Video)],
        &[
            (&format!("{d}/GL010124.LRV"), Proxy),
            (&format!("{d}/GH010124.THM"), Thumbnail),
        ],
    );
    assert_eq!(
        alone.metadata.timecode_start.as_deref(),
        Some("00:10:00;00")
    );
    assert_duration(alone, 3.003, 0.01);
    assert_no_errors(&r);
}

#[test]
fn dji_clip_takes_srt_and_lrf_by_basename() {
    let root = fixtures().dir_of(SampleKind::Dji);
    let r = scan(&[root]);
    assert_eq!(card_roots(&r), [(Family::Dji, root.to_path_buf())]);
    assert_eq!(r.clip_names(), ["DJI_0001"]);
    let c = r.clip("DJI_0001");
    assert_files(
        c,
        root,
        &[("DCIM/100MEDIA/DJI_0001.MP4", Video)],
        &[
            ("DCIM/100MEDIA/DJI_0001.SRT", Sidecar),
            ("DCIM/100MEDIA/DJI_0001.LRF", Proxy),
        ],
    );
    meta_eq(c, None, "30000/1001", (320, 180), None);
    assert_duration(c, 3.003, 0.01);
    assert_shoot_date(c, "2024-05-14T12:30:00Z");
    assert_no_errors(&r);
}

/// The stubs are not decodable RAW (nor is real RAW by stock tools), so metadata readers may
/// list them in `errors`; these checks are about grouping only.
#[test]
fn raw_stubs_group_by_their_camera_rules() {
    let red = fixtures().dir_of(SampleKind::Red);
    let r = scan(&[red]);
    assert_eq!(r.clip_names(), ["A001_C001_0514XY"]);
    let c = r.clip("A001_C001_0514XY");
    assert_eq!(c.clip.family, Family::Red);
    let d = "A001_0514AB.RDM/A001_C001_0514XY.RDC";
    assert_files(
        c,
        red,
        &[
            (&format!("{d}/A001_C001_0514XY_001.R3D"), Video),
            (&format!("{d}/A001_C001_0514XY_002.R3D"), Video),
            (&format!("{d}/A001_C001_0514XY_003.R3D"), Video),
        ],
        &[(&format!("{d}/A001_C001_0514XY.RMD"), Sidecar)],
    );
    assert_eq!(c.clip.segments, [vec![0], vec![1], vec![2]]);
    assert_eq!(c.clip.incomplete, None);

    let arri = fixtures().dir_of(SampleKind::Arri);
    let r = scan(&[arri]);
    assert_eq!(r.clip_names(), ["A001C001_240514_R1AB"]);
    let c = r.clip("A001C001_240514_R1AB");
    assert_eq!(c.clip.family, Family::Arri);
    let frames: Vec<(String, FileRole)> = (1..=24)
        .map(|f| {
            (
                format!("A001R1AB/A001C001_240514_R1AB/A001C001_240514_R1AB.{f:07}.ari"),
                Video,
            )
        })
        .collect();
    let frames: Vec<(&str, FileRole)> = frames.iter().map(|(p, r)| (p.as_str(), *r)).collect();
    assert_files(c, arri, &frames, &[]);
    assert_eq!(c.clip.segments, [(0..24).collect::<Vec<usize>>()]);

    let braw = fixtures().dir_of(SampleKind::Braw);
    let r = scan(&[braw]);
    assert_eq!(r.clip_names(), ["A001_05141200_C001"]);
    let c = r.clip("A001_05141200_C001");
    assert_eq!(c.clip.family, Family::Braw);
    assert_files(
        c,
        braw,
        &[("A001_05141200_C001.braw", Video)],
        &[("A001_05141200_C001.sidecar", Sidecar)],
    );
}

#[test]
fn dpx_sequences_are_one_clip_each_and_the_gap_is_reported() {
    let root = fixtures().dir_of(SampleKind::DpxSequence);
    let r = scan(&[root]);
    assert_eq!(r.clip_names(), ["A001C001", "A001C002"]);
    let c = r.clip("A001C001");
    assert_eq!(c.clip.family, Family::ImageSequence);
    let frames: Vec<String> = (86400..86424)
        .map(|f| format!("A001C001/A001C001.{f:07}.dpx"))
        .collect();
    let frames: Vec<(&str, FileRole)> = frames.iter().map(|p| (p.as_str(), Video)).collect();
    assert_files(c, root, &frames, &[]);
    assert_eq!(c.clip.segments, [(0..24).collect::<Vec<usize>>()]);
    assert!(c.clip.warnings.is_empty(), "{:?}", c.clip.warnings);
    assert_eq!((c.metadata.width, c.metadata.height), (Some(160), Some(90)));
    let g = r.clip("A001C002");
    assert_eq!(g.clip.files.len(), 22);
    assert_eq!(g.clip.warnings.len(), 1, "{:?}", g.clip.warnings);
    assert!(
        g.clip.warnings[0].contains("86410"),
        "gap warning should name the first missing frame 86410: {:?}",
        g.clip.warnings
    );
    assert_no_errors(&r);
}

#[test]
fn bwf_takes_group_poly_files_alone_and_mono_files_by_family() {
    let root = fixtures().dir_of(SampleKind::Bwf);
    let r = scan(&[root]);
    assert_eq!(r.clip_names(), ["S001T01", "S002T01"]);
    let poly = r.clip("S001T01");
    assert_eq!(poly.clip.family, Family::AudioBwf);
    assert_files(poly, root, &[("S001T01.WAV", Audio)], &[]);
    assert_eq!(poly.metadata.audio_channels, Some(4));
    assert_eq!(poly.metadata.timecode_start.as_deref(), Some("10:00:00:00"));
    assert_duration(poly, 3.0, 0.001);
    let mono = r.clip("S002T01");
    assert_files(
        mono,
        root,
        &[("S002T01_1.WAV", Audio), ("S002T01_2.WAV", Audio)],
        &[],
    );
    // Parallel tracks of one take: one segment holding both files.
    assert_eq!(mono.clip.segments, [vec![0, 1]]);
    assert_eq!(mono.metadata.audio_channels, Some(2));
    assert_eq!(mono.metadata.timecode_start.as_deref(), Some("10:05:00:00"));
    assert_duration(mono, 3.0, 0.001);
    assert_no_errors(&r);
}

#[test]
fn loose_media_groups_by_basename_including_unicode_names() {
    let root = fixtures().dir_of(SampleKind::Loose);
    let r = scan(&[root]);
    let unicode = "Caf\u{e9} \u{65e5}\u{672c}";
    let mut want = vec![
        "broll".to_string(),
        "interview".to_string(),
        unicode.to_string(),
    ];
    want.sort();
    assert_eq!(r.clip_names(), want);
    for c in &r.clips {
        assert_eq!(c.clip.family, Family::Generic, "{}", c.clip.name);
    }
    let i = r.clip("interview");
    assert_files(i, root, &[("interview.mov", Video)], &[]);
    meta_eq(i, Some("09:00:00:00"), "25", (320, 180), Some(2));
    let b = r.clip("broll");
    assert_files(b, root, &[("broll.mp4", Video)], &[("broll.XMP", Sidecar)]);
    assert_shoot_date(b, "2024-05-14T16:00:00Z");
    let u = r.clip(unicode);
    assert_files(u, root, &[(&format!("{unicode}.mov"), Video)], &[]);
    assert_duration(u, 3.0, 0.01);
    assert_no_errors(&r);
}

/// Every kind but the demo P2 card (its clips are the span set's card A again), as drop paths.
fn all_but_demo_p2(base: &Path) -> Vec<PathBuf> {
    SampleKind::all()
        .iter()
        .filter(|k| **k != SampleKind::P2)
        .map(|k| base.join(k.as_str()))
        .collect()
}

/// (card-relative clip location, clip name) → id.
fn ids_by_clip(r: &Report, base: &Path) -> BTreeMap<(String, String), String> {
    r.clips
        .iter()
        .map(|c| {
            (
                (
                    rel(&util::canonical(&c.clip.card_root), base),
                    c.clip.name.clone(),
                ),
                c.clip.id.clone(),
            )
        })
        .collect()
}

#[test]
fn ids_are_unique_and_stable_across_runs_and_copies() {
    let fx = fixtures();
    let paths = all_but_demo_p2(&fx.dir);
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let first = scan(&refs);
    let second = scan(&refs);
    let a = ids_by_clip(&first, &fx.dir);
    assert_eq!(a.len(), first.clips.len(), "one entry per clip");
    // 2 P2 + 2 XDCAM + IMX + EX + XAVC S + Canon + 2 AVCHD + 2 GoPro + DJI + RED + ARRI + BRAW
    // + 2 DPX + 2 BWF + 3 loose.
    assert_eq!(first.clips.len(), 23, "{:?}", first.clip_names());
    let mut ids: Vec<&String> = a.values().collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), a.len(), "clip ids must be unique: {a:#?}");
    assert_eq!(
        a,
        ids_by_clip(&second, &fx.dir),
        "ids changed between two runs"
    );

    let tmp = util::tempdir();
    let copy = tmp.path().join("elsewhere");
    for p in &paths {
        util::copy_tree(p, &copy.join(p.file_name().expect("kind folder")));
    }
    let copy = util::canonical(&copy);
    let copied_paths = all_but_demo_p2(&copy);
    let copied_refs: Vec<&Path> = copied_paths.iter().map(PathBuf::as_path).collect();
    let moved = scan(&copied_refs);
    assert_eq!(
        a,
        ids_by_clip(&moved, &copy),
        "ids must not depend on where the card is"
    );
    // Multiple cards in one drop: every card found with its family.
    let fam: BTreeMap<String, Family> = first
        .cards
        .iter()
        .map(|c| (rel(&util::canonical(&c.root), &fx.dir), c.family))
        .collect();
    for (card, family) in [
        ("p2_span/CARD_A", Family::P2),
        ("p2_span/CARD_B", Family::P2),
        ("xdcam", Family::Xdcam),
        ("imx", Family::Xdcam),
        ("xdcam_ex", Family::XdcamEx),
        ("xavc_s", Family::XavcS),
        ("canon_xf", Family::CanonXf),
        ("avchd", Family::Avchd),
        ("gopro", Family::Gopro),
        ("dji", Family::Dji),
    ] {
        assert_eq!(fam.get(card), Some(&family), "card {card} in {fam:?}");
    }
}

// ---- bad input: each gives a clear entry in errors/skipped, exit 0, never a panic ----

fn assert_reported(r: &Report, path: &Path, what: &str) {
    let want = path.to_string_lossy().into_owned();
    let canon = path
        .parent()
        .and_then(|p| p.canonicalize().ok())
        .zip(path.file_name())
        .map(|(p, n)| p.join(n).to_string_lossy().into_owned())
        .unwrap_or_else(|| want.clone());
    let hit = r
        .errors
        .iter()
        .map(|e| (&e.path, &e.message))
        .chain(r.skipped.iter().map(|s| (&s.path, &s.reason)))
        .find(|(p, _)| {
            let p = p.to_string_lossy();
            p == want || p == canon
        });
    match hit {
        Some((_, message)) => assert!(
            !message.trim().is_empty(),
            "{what}: entry for {want} has no message"
        ),
        None => panic!(
            "{what}: {want} should be listed in errors or skipped; errors {:#?}, skipped {:#?}",
            r.errors, r.skipped
        ),
    }
}

#[test]
fn empty_folder_is_reported_not_fatal() {
    let tmp = util::tempdir();
    let empty = util::canonical(tmp.path()).join("EMPTY_CARD");
    std::fs::create_dir(&empty).expect("mkdir");
    let r = scan(&[&empty]);
    assert!(
        r.clips.is_empty() && r.cards.is_empty(),
        "{:?}",
        r.clip_names()
    );
    assert_reported(&r, &empty, "empty folder");
}

#[test]
fn unreadable_members_are_reported_and_the_rest_still_scans() {
    let tmp = util::tempdir();
    let root = util::canonical(tmp.path()).join("card");
    util::copy_tree(fixtures().dir_of(SampleKind::P2), &root);
    // Tests run as root, so permission bits cannot make a file unreadable. Instead: a dangling
    // symlink, a directory where a file is expected, and a FIFO (must never be opened blocking).
    let dangling = root.join("CONTENTS/AUDIO/0002EM03.MXF");
    std::fs::remove_file(&dangling).expect("rm");
    std::os::unix::fs::symlink(root.join("gone/0002EM03.MXF"), &dangling).expect("symlink");
    let dir_as_file = root.join("CONTENTS/ICON/0003AB.BMP");
    std::fs::remove_file(&dir_as_file).expect("rm");
    std::fs::create_dir(&dir_as_file).expect("mkdir");
    let fifo = root.join("CONTENTS/PROXY/0003AB.MP4");
    std::fs::remove_file(&fifo).expect("rm");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo (coreutils) is required");
    assert!(status.success(), "mkfifo failed");
    let r = scan(&[&root]);
    assert_eq!(r.clip_names(), ["0002EM", "0003AB"]);
    assert_reported(&r, &dangling, "dangling symlink");
    assert_reported(&r, &dir_as_file, "directory named like a member file");
    assert_reported(&r, &fifo, "FIFO");
    let c = r.clip("0002EM");
    assert_eq!(c.metadata.timecode_start.as_deref(), Some("10:00:00:00"));
}

#[test]
fn zero_byte_mxf_is_reported() {
    let tmp = util::tempdir();
    let root = util::canonical(tmp.path()).join("card");
    util::copy_tree(fixtures().dir_of(SampleKind::Xdcam), &root);
    let empty = root.join("XDROOT/Clip/C0002.MXF");
    std::fs::File::create(&empty).expect("truncate to 0");
    let r = scan(&[&root]);
    assert_reported(&r, &empty, "zero-byte MXF");
    // Reported once, by detection, not again by the metadata reader.
    let entries = r.errors.iter().filter(|e| e.path == empty).count();
    assert_eq!(entries, 1, "errors for the empty file: {:#?}", r.errors);
    let c1 = r.clip("C0001");
    assert_eq!(c1.metadata.timecode_start.as_deref(), Some("12:00:00:00"));
    assert_duration(c1, 3.0, 0.001);
}

#[test]
fn truncated_mxf_is_reported() {
    let tmp = util::tempdir();
    let root = util::canonical(tmp.path()).join("card");
    util::copy_tree(fixtures().dir_of(SampleKind::Xdcam), &root);
    let cut = root.join("XDROOT/Clip/C0001.MXF");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&cut)
        .expect("open");
    f.set_len(1024).expect("truncate");
    let r = scan(&[&root]);
    assert_reported(&r, &cut, "MXF cut after 1 KiB");
    assert_eq!(
        r.clip("C0002").metadata.timecode_start.as_deref(),
        Some("12:10:00:00")
    );
}

#[test]
fn symlink_loops_terminate_and_are_reported() {
    let tmp = util::tempdir();
    let root = util::canonical(tmp.path()).join("loops");
    std::fs::create_dir_all(root.join("media")).expect("mkdir");
    std::fs::copy(
        fixtures().dir_of(SampleKind::Loose).join("broll.mp4"),
        root.join("media/clip.mp4"),
    )
    .expect("copy");
    // A cycle through the tree and a two-link loop (ELOOP on open).
    std::os::unix::fs::symlink("..", root.join("media/up")).expect("symlink");
    std::os::unix::fs::symlink("b", root.join("a")).expect("symlink");
    std::os::unix::fs::symlink("a", root.join("b")).expect("symlink");
    let r = scan(&[&root]);
    assert_eq!(
        r.clip_names(),
        ["clip"],
        "the cycle must not duplicate clips"
    );
    assert_eq!(r.clip("clip").clip.files.len(), 1);
    assert_reported(&r, &root.join("a"), "symlink loop a -> b -> a");
    assert_reported(&r, &root.join("b"), "symlink loop b -> a -> b");
}

#[test]
fn non_utf8_names_are_reported_and_unicode_names_work() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = util::tempdir();
    let root = util::canonical(tmp.path()).join("names");
    std::fs::create_dir(&root).expect("mkdir");
    let loose = fixtures().dir_of(SampleKind::Loose);
    let bad = root.join(std::ffi::OsStr::from_bytes(b"take\xff1.mp4"));
    std::fs::copy(loose.join("broll.mp4"), &bad).expect("copy");
    let unicode = "Caf\u{e9} \u{65e5}\u{672c}.mov";
    std::fs::copy(loose.join(unicode), root.join(unicode)).expect("copy");
    let r = scan(&[&root]);
    assert!(
        r.errors
            .iter()
            .any(|e| e.path.to_string_lossy().ends_with("take\u{fffd}1.mp4")
                && !e.message.trim().is_empty()),
        "non-UTF-8 name should be reported in errors: {:#?}",
        r.errors
    );
    let u = r.clip("Caf\u{e9} \u{65e5}\u{672c}");
    assert_files(u, &root, &[(unicode, Video)], &[]);
    assert_eq!(u.metadata.frame_rate.as_deref(), Some("25"));
}

#[test]
fn ten_thousand_file_tree_scans_quickly() {
    let tmp = util::tempdir();
    let root = util::canonical(tmp.path()).join("big");
    for d in 0..100 {
        let dir = root.join(format!("notes{d:03}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        for f in 0..100 {
            std::fs::write(dir.join(format!("n{f:03}.txt")), b"x").expect("write");
        }
    }
    let card = root.join("deep/down/here/CARD_A");
    util::copy_tree(fixtures().dir_of(SampleKind::P2), &card);
    let run = util::scan_run(&[&root]);
    assert!(run.status.success(), "exit {}: {}", run.status, run.stderr);
    let r: Report = serde_json::from_str(&run.stdout).expect("report JSON");
    assert_eq!(
        r.clip_names(),
        ["0002EM", "0003AB"],
        "the card deep inside is found"
    );
    assert_eq!(card_roots(&r), [(Family::P2, card.clone())]);
    let txt = r
        .skipped
        .iter()
        .filter(|s| s.path.extension().is_some_and(|e| e == "txt"))
        .count();
    assert_eq!(txt, 10_000, "every non-media file is listed in skipped");
    assert!(
        run.elapsed.as_secs() < 60,
        "10 000-file tree took {:?}",
        run.elapsed
    );
}

#[test]
fn nonexistent_path_fails_with_a_one_line_reason() {
    let tmp = util::tempdir();
    let missing = tmp.path().join("no/such/card");
    let run = util::scan_run(&[&missing]);
    assert!(!run.status.success(), "must exit non-zero");
    assert!(
        run.stdout.trim().is_empty(),
        "no report on stdout: {}",
        run.stdout
    );
    let err = run.stderr.trim();
    assert_eq!(err.lines().count(), 1, "one line, no backtrace: {err}");
    assert!(
        err.contains(&missing.to_string_lossy().into_owned()),
        "the reason names the path: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// The ingest's streaming scan finds what the whole scan finds: the same clips at once, each
/// description (delivered later, in the background) equal to the whole scan's metadata, and
/// the same issues for a zero-byte and a truncated MXF, each reported once: detection's in
/// the report, MediaInfo's through the callback.
#[test]
fn a_streaming_scan_reports_what_the_whole_scan_does() {
    use card_ingest::card::ScanIssue;
    use card_ingest::media::Tools;
    use std::sync::{Arc, Mutex};
    let tmp = util::tempdir();
    let root = util::canonical(tmp.path()).join("card");
    util::copy_tree(fixtures().dir_of(SampleKind::Xdcam), &root);
    std::fs::File::create(root.join("XDROOT/Clip/C0002.MXF")).expect("truncate to 0");
    let cut = root.join("XDROOT/Clip/C0001.MXF");
    let f = std::fs::OpenOptions::new().write(true).open(&cut).unwrap();
    f.set_len(1024).expect("truncate");
    let tools = Tools::detect();
    let paths = [root.clone()];
    let whole = card_ingest::scan::scan(&paths, &tools).expect("scan");

    let found: Arc<Mutex<Vec<ScanIssue>>> = Arc::default();
    let sink = Arc::clone(&found);
    let streamed =
        card_ingest::scan::scan_streaming(&paths, &tools, move |e| sink.lock().unwrap().push(e))
            .expect("streaming scan");
    let ids = |r: &card_ingest::scan::ScanReport| -> Vec<String> {
        r.clips.iter().map(|c| c.clip.id.clone()).collect()
    };
    assert_eq!(ids(&streamed), ids(&whole));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (s, w) in streamed.clips.iter().zip(&whole.clips) {
        let pending = s.pending.as_ref().expect("described in the background");
        let d = rt.block_on(pending.wait()).expect("description delivered");
        assert_eq!(
            serde_json::to_value(&d.metadata).unwrap(),
            serde_json::to_value(&w.metadata).unwrap(),
            "{}",
            s.clip.name
        );
    }
    // Every description is in: the callback has had every issue.
    let mut issues: Vec<(PathBuf, String)> = streamed
        .errors
        .iter()
        .chain(found.lock().unwrap().iter())
        .map(|e| (e.path.clone(), e.message.clone()))
        .collect();
    let mut want: Vec<(PathBuf, String)> = whole
        .errors
        .iter()
        .map(|e| (e.path.clone(), e.message.clone()))
        .collect();
    issues.sort();
    want.sort();
    assert!(want.iter().any(|(p, _)| p == &cut), "{want:#?}");
    assert_eq!(issues, want);
}
