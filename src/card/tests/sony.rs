//! Sony XD style, XDCAM EX and XAVC S.

use super::*;
use crate::card::{CARD_LEVEL_REASON, Family};
use FileRole::{Other, Proxy, Sidecar, Thumbnail, Video};

const UMID: &str = "060A2B340101010501010D43130000000123456789ABCDEF0123456789ABCDEF";

fn nrt(umid: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<NonRealTimeMeta xmlns="urn:schemas-professionalDisc:nonRealTimeMeta:ver.2.00" lastUpdate="2024-05-14T12:00:00+00:00">
  <TargetMaterial umidRef="{umid}"/>
  <Duration value="75"/>
  <LtcChangeTable tcFps="25" halfStep="false"><LtcChange frameCount="0" value="00000012" status="increment"/></LtcChangeTable>
</NonRealTimeMeta>"#
    )
}

fn mediapro(uris: &[&str]) -> String {
    let mats: String = uris
        .iter()
        .map(|u| format!(r#"<Material uri="{u}" type="MXF" videoType="MPEG2HD422" umid="0x00"/>"#))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><MediaProfile xmlns="http://xmlns.sony.net/pro/metadata/mediaprofile"><Contents>{mats}</Contents></MediaProfile>"#
    )
}

#[test]
fn xdroot_clips_with_inventory_warnings() {
    let t = tmp();
    let c = t.path().join("XD");
    put(
        &c,
        "XDROOT/MEDIAPRO.XML",
        mediapro(&["./Clip/C0001.MXF", "./Sub/C0001S01.MXF", "./Clip/C0003.MXF"]).as_bytes(),
    );
    put(&c, "XDROOT/DISCMETA.XML", b"<x/>");
    put(&c, "XDROOT/Clip/C0001.MXF", b"mxf");
    put(&c, "XDROOT/Clip/C0001M01.XML", nrt(UMID).as_bytes());
    put(&c, "XDROOT/Clip/C0001R01.BIM", b"bim");
    put(&c, "XDROOT/Sub/C0001S01.MXF", b"proxy");
    put(&c, "XDROOT/Clip/C0002.MXF", b"mxf"); // IMX without NRT XML
    put(&c, "XDROOT/Take/T0001.SMI", b"<smil/>");
    let s = scan(&[&c.join("XDROOT/Clip")]);
    assert_eq!(names(&s), vec!["C0001", "C0002"]);
    assert_eq!(s.cards.len(), 1);
    assert_eq!(s.cards[0].root, canon(&c));
    assert_eq!(s.cards[0].family, Family::Xdcam);
    let c1 = clip(&s, "C0001");
    assert_eq!(c1.id, format!("xdcam:{UMID}"));
    assert_eq!(
        files(c1, &c),
        vec![
            ("XDROOT/Clip/C0001.MXF".to_string(), Video),
            ("XDROOT/Clip/C0001M01.XML".to_string(), Sidecar),
            ("XDROOT/Sub/C0001S01.MXF".to_string(), Proxy),
            ("XDROOT/Clip/C0001R01.BIM".to_string(), Other),
        ]
    );
    assert!(c1.warnings.is_empty());
    let c2 = clip(&s, "C0002");
    assert_eq!(c2.id, "xdcam:XDROOT/CLIP/C0002");
    assert_eq!(c2.files.len(), 1);
    assert_eq!(
        c2.warnings,
        vec!["C0002 is not listed in the card inventory MEDIAPRO.XML (added later, or the inventory is stale)".to_string()]
    );
    assert_eq!(s.errors.len(), 1);
    assert_eq!(
        s.errors[0].message,
        "MEDIAPRO.XML lists clip C0003 but its files are not on the card: bad copy, re-copy the card"
    );
    let mut sk = skipped(&s, &c);
    sk.sort();
    assert_eq!(
        sk,
        vec![
            (
                "XDROOT/DISCMETA.XML".to_string(),
                CARD_LEVEL_REASON.to_string()
            ),
            (
                "XDROOT/MEDIAPRO.XML".to_string(),
                CARD_LEVEL_REASON.to_string()
            ),
            (
                "XDROOT/Take/T0001.SMI".to_string(),
                CARD_LEVEL_REASON.to_string()
            ),
        ]
    );
}

#[test]
fn private_xdroot_and_root_clip_layouts() {
    let t = tmp();
    let a = t.path().join("A");
    put(&a, "PRIVATE/XDROOT/Clip/A001C001_240514AB.MXF", b"m");
    put(
        &a,
        "PRIVATE/XDROOT/Clip/A001C001_240514ABM01.XML",
        nrt(&"0".repeat(64)).as_bytes(),
    );
    let b = t.path().join("B");
    put(&b, "Clip/C0005.MXF", b"m");
    put(&b, "Clip/C0005M01.XML", b"");
    let s = scan(&[t.path()]);
    assert_eq!(names(&s), vec!["A001C001_240514AB", "C0005"]);
    assert_eq!(
        clip(&s, "A001C001_240514AB").id,
        "xdcam:PRIVATE/XDROOT/CLIP/A001C001_240514AB"
    );
    assert_eq!(clip(&s, "C0005").id, "xdcam:CLIP/C0005");
    assert_eq!(clip(&s, "C0005").files.len(), 2);
    assert_eq!(s.cards.len(), 2);
}

#[test]
fn xdcam_ex_takes_from_folders_with_empty_sidecars() {
    let t = tmp();
    let c = t.path().join("EX");
    put(&c, "BPAV/MEDIAPRO.XML", b"");
    for clipf in ["709_001_01", "709_001_02", "709_002_01"] {
        put(&c, &format!("BPAV/CLPR/{clipf}/{clipf}.MP4"), b"mp4");
        put(&c, &format!("BPAV/CLPR/{clipf}/{clipf}.SMI"), b"");
        put(&c, &format!("BPAV/CLPR/{clipf}/{clipf}M01.XML"), b"");
        put(&c, &format!("BPAV/CLPR/{clipf}/{clipf}R01.BIM"), b"");
    }
    put(&c, "BPAV/TAKR/709_001/709_001.SMI", b"");
    let s = scan(&[&c]);
    assert_eq!(names(&s), vec!["709_001", "709_002"]);
    let take = clip(&s, "709_001");
    assert_eq!(take.family, Family::XdcamEx);
    assert_eq!(take.id, "xdcam_ex:BPAV/TAKR/709_001");
    assert_eq!(take.segments, vec![vec![0], vec![1]]);
    assert_eq!(
        files(take, &c),
        vec![
            ("BPAV/CLPR/709_001_01/709_001_01.MP4".to_string(), Video),
            ("BPAV/CLPR/709_001_02/709_001_02.MP4".to_string(), Video),
            ("BPAV/CLPR/709_001_01/709_001_01.SMI".to_string(), Sidecar),
            (
                "BPAV/CLPR/709_001_01/709_001_01M01.XML".to_string(),
                Sidecar
            ),
            ("BPAV/CLPR/709_001_02/709_001_02.SMI".to_string(), Sidecar),
            (
                "BPAV/CLPR/709_001_02/709_001_02M01.XML".to_string(),
                Sidecar
            ),
            ("BPAV/TAKR/709_001/709_001.SMI".to_string(), Sidecar),
            ("BPAV/CLPR/709_001_01/709_001_01R01.BIM".to_string(), Other),
            ("BPAV/CLPR/709_001_02/709_001_02R01.BIM".to_string(), Other),
        ]
    );
    assert_eq!(
        take.warnings,
        vec!["take list TAKR/709_001/709_001.SMI is empty or unreadable; clip folders joined in number order".to_string()]
    );
    assert_eq!(clip(&s, "709_002").files.len(), 4);
    assert_eq!(
        skipped(&s, &c),
        vec![(
            "BPAV/MEDIAPRO.XML".to_string(),
            CARD_LEVEL_REASON.to_string()
        )]
    );
}

#[test]
fn xdcam_ex_take_smil_order_wins() {
    let t = tmp();
    let c = t.path().join("EX");
    for clipf in ["100_007_01", "100_007_02"] {
        put(&c, &format!("BPAV/CLPR/{clipf}/{clipf}.MP4"), b"mp4");
    }
    put(
        &c,
        "BPAV/TAKR/100_007/100_007.SMI",
        br#"<smil><body><par><ref src="../../CLPR/100_007_02/100_007_02.SMI"/><ref src="../../CLPR/100_007_01/100_007_01.SMI"/></par></body></smil>"#,
    );
    let s = scan(&[&c]);
    let f = files(&s.clips[0], &c);
    assert_eq!(f[0].0, "BPAV/CLPR/100_007_02/100_007_02.MP4");
    assert_eq!(f[1].0, "BPAV/CLPR/100_007_01/100_007_01.MP4");
    assert!(s.clips[0].warnings.is_empty());
}

#[test]
fn xavc_s_by_basename_and_dcim_stills_apart() {
    let t = tmp();
    let c = t.path().join("A7S");
    put(
        &c,
        "PRIVATE/M4ROOT/MEDIAPRO.XML",
        mediapro(&["./CLIP/C0001.MP4"]).as_bytes(),
    );
    put(&c, "PRIVATE/M4ROOT/STATUS.BIN", b"s");
    put(&c, "PRIVATE/M4ROOT/CLIP/C0001.MP4", b"mp4");
    put(&c, "PRIVATE/M4ROOT/CLIP/C0001M01.XML", nrt(UMID).as_bytes());
    put(&c, "PRIVATE/M4ROOT/THMBNL/C0001T01.JPG", b"jpg");
    put(&c, "PRIVATE/M4ROOT/SUB/C0001S03.MP4", b"mp4");
    put(&c, "DCIM/100MSDCF/DSC00001.JPG", b"jpg");
    let s = scan(&[&c.join("PRIVATE/M4ROOT/CLIP/C0001.MP4")]);
    assert_eq!(names(&s), vec!["DSC00001", "C0001"]);
    let c1 = clip(&s, "C0001");
    assert_eq!(c1.family, Family::XavcS);
    assert_eq!(c1.id, format!("xavc_s:{UMID}"));
    assert_eq!(
        files(c1, &c),
        vec![
            ("PRIVATE/M4ROOT/CLIP/C0001.MP4".to_string(), Video),
            ("PRIVATE/M4ROOT/CLIP/C0001M01.XML".to_string(), Sidecar),
            ("PRIVATE/M4ROOT/SUB/C0001S03.MP4".to_string(), Proxy),
            ("PRIVATE/M4ROOT/THMBNL/C0001T01.JPG".to_string(), Thumbnail),
        ]
    );
    let still = clip(&s, "DSC00001");
    assert_eq!(still.family, Family::Generic);
    assert_eq!(still.id, "generic:DCIM/100MSDCF/DSC00001");
    assert_eq!(s.cards.len(), 1);
    assert_eq!(s.cards[0].family, Family::XavcS);
    assert_eq!(s.skipped.len(), 2);
}

#[test]
fn proav_folder_per_clip() {
    let t = tmp();
    let c = t.path().join("SXS");
    put(&c, "PROAV/INDEX.XML", b"<x/>");
    for n in [
        "V01.MXF", "A01.MXF", "A02.MXF", "C01.SMI", "M01.XML", "R01.BIM", "S01.MXF",
    ] {
        put(&c, &format!("PROAV/CLPR/C0001/C0001{n}"), b"x");
    }
    let s = scan(&[&c.join("PROAV/CLPR/C0001/C0001V01.MXF")]);
    assert_eq!(names(&s), vec!["C0001"]);
    let c1 = &s.clips[0];
    assert_eq!(c1.family, Family::Xdcam);
    assert_eq!(c1.id, "xdcam:PROAV/CLPR/C0001");
    assert_eq!(c1.segments, vec![vec![0, 1, 2]]);
    assert_eq!(
        files(c1, &c),
        vec![
            ("PROAV/CLPR/C0001/C0001V01.MXF".to_string(), Video),
            ("PROAV/CLPR/C0001/C0001A01.MXF".to_string(), FileRole::Audio),
            ("PROAV/CLPR/C0001/C0001A02.MXF".to_string(), FileRole::Audio),
            ("PROAV/CLPR/C0001/C0001C01.SMI".to_string(), Sidecar),
            ("PROAV/CLPR/C0001/C0001M01.XML".to_string(), Sidecar),
            ("PROAV/CLPR/C0001/C0001S01.MXF".to_string(), Proxy),
            ("PROAV/CLPR/C0001/C0001R01.BIM".to_string(), Other),
        ]
    );
    assert_eq!(
        skipped(&s, &c),
        vec![("PROAV/INDEX.XML".to_string(), CARD_LEVEL_REASON.to_string())]
    );
}

/// An ILCE-7SM3 card carrying MEDIAPRO.XML but none of the clip XMLs (§10): the inventory's
/// `Material@umid` is the clip id, `System@systemKind` the camera model; a listed clip missing
/// on disk and a clip on disk it does not list are reported.
#[test]
fn mediapro_inventory_gives_ids_and_camera_model_without_clip_xml() {
    let t = tmp();
    let c = t.path().join("A7S3");
    let umid = "060A2B340101010501010D4313000000A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6";
    let proxy_umid = "060A2B340101010501010D4313010000A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6";
    let mediapro = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<MediaProfile xmlns="http://xmlns.sony.net/pro/metadata/mediaprofile" createdAt="2024-05-14T10:00:00+02:00" version="2.30">
	<Properties>
		<Attached mediaId="00000000-0000-0000-0000-000000000000" mediaKind="ProfessionalDisc" mediaType="Memory Card"/>
		<System systemId="5A8B7C6D" systemKind="ILCE-7SM3" systemVersion="2.00"/>
	</Properties>
	<Contents>
		<Material uri="./CLIP/C0073.MP4" type="MP4" videoType="AVC_3840_2160_HP@L51" audioType="LPCM16" fps="25p" dur="250" ch="2" aspectRatio="16:9" offset="0" umid="{umid}" status="OK">
			<Proxy uri="./SUB/C0073S03.MP4" type="MP4" videoType="AVC_1280_720_MP@L31" fps="25p" umid="{proxy_umid}"/>
			<RelevantInfo uri="./CLIP/C0073M01.XML" type="XML" status="OK"/>
			<RelevantInfo uri="./THMBNL/C0073T01.JPG" type="JPG" status="OK"/>
		</Material>
		<Material uri="./CLIP/C0074.MP4" type="MP4" videoType="AVC_3840_2160_HP@L51" audioType="LPCM16" fps="25p" dur="100" ch="2" umid="060A2B340101010501010D4313000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" status="OK"/>
	</Contents>
</MediaProfile>"#
    );
    put(&c, "PRIVATE/M4ROOT/MEDIAPRO.XML", mediapro.as_bytes());
    put(&c, "PRIVATE/M4ROOT/STATUS.BIN", b"st");
    put(&c, "PRIVATE/M4ROOT/CLIP/C0073.MP4", b"mp4");
    put(&c, "PRIVATE/M4ROOT/SUB/C0073S03.MP4", b"proxy");
    put(&c, "PRIVATE/M4ROOT/THMBNL/C0073T01.JPG", b"jpg");
    put(&c, "PRIVATE/M4ROOT/CLIP/C0075.MP4", b"mp4");
    let s = scan(&[&c]);
    assert_eq!(names(&s), ["C0073", "C0075"]);
    let c73 = clip(&s, "C0073");
    assert_eq!(c73.id, format!("xavc_s:{umid}"));
    assert_eq!(
        files(c73, &c),
        [
            ("PRIVATE/M4ROOT/CLIP/C0073.MP4".to_string(), Video),
            ("PRIVATE/M4ROOT/SUB/C0073S03.MP4".to_string(), Proxy),
            ("PRIVATE/M4ROOT/THMBNL/C0073T01.JPG".to_string(), Thumbnail),
        ]
    );
    assert!(c73.warnings.is_empty(), "{:?}", c73.warnings);
    let c75 = clip(&s, "C0075");
    assert_eq!(c75.id, "xavc_s:PRIVATE/M4ROOT/CLIP/C0075");
    assert_eq!(
        c75.warnings,
        [
            "C0075 is not listed in the card inventory MEDIAPRO.XML (added later, or the inventory is stale)"
        ]
    );
    assert_eq!(
        s.errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>(),
        [
            "MEDIAPRO.XML lists clip C0074 but its files are not on the card: bad copy, re-copy the card"
        ]
    );
    let m = crate::media::describe_clip(c73, &crate::media::Tools::default()).metadata;
    assert_eq!(m.camera_model.as_deref(), Some("ILCE-7SM3"));
    assert_eq!(
        m.sources.get("camera_model").map(String::as_str),
        Some("MEDIAPRO.XML card inventory System@systemKind")
    );
}

/// The take SMIL of an EX camera (`urn:schemas-professionalDisc:edl:ver.1.00`), listing the
/// clip SMILs of the take's clip folders.
fn ex_take_smil(parts: &[&str]) -> String {
    let refs: String = parts
        .iter()
        .map(|p| format!(r#"<ref src="../../CLPR/{p}/{p}.SMI" type="application/smil"/>"#))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><smil xmlns="urn:schemas-professionalDisc:edl:ver.1.00"><head/><body><seq>{refs}</seq></body></smil>"#
    )
}

fn ex_card(c: &Path, parts: &[&str], take_list: &[&str]) {
    put(c, "BPAV/MEDIAPRO.XML", mediapro(&[]).as_bytes());
    for p in parts {
        put(c, &format!("BPAV/CLPR/{p}/{p}.MP4"), b"mp4");
        put(c, &format!("BPAV/CLPR/{p}/{p}.SMI"), b"<smil/>");
        put(c, &format!("BPAV/CLPR/{p}/{p}M01.XML"), b"");
    }
    put(
        c,
        "BPAV/TAKR/709_003/709_003.SMI",
        ex_take_smil(take_list).as_bytes(),
    );
}

#[test]
fn xdcam_ex_take_across_two_cards_joins_in_list_order() {
    let t = tmp();
    let (a, b) = (t.path().join("SXS_A"), t.path().join("SXS_B"));
    ex_card(&a, &["709_003_01"], &["709_003_01", "709_003_02"]);
    ex_card(&b, &["709_003_02"], &["709_003_01", "709_003_02"]);
    let s = scan(&[&b, &a]);
    assert_eq!(names(&s), vec!["709_003"]);
    let take = &s.clips[0];
    assert_eq!(take.incomplete, None);
    assert_eq!(take.card_root, canon(&a));
    assert_eq!(take.segments, vec![vec![0], vec![1]]);
    assert_eq!(
        take.files[0].path,
        canon(&a).join("BPAV/CLPR/709_003_01/709_003_01.MP4")
    );
    assert_eq!(
        take.files[1].path,
        canon(&b).join("BPAV/CLPR/709_003_02/709_003_02.MP4")
    );
    // Both cards' take lists travel with the clip.
    let smils = take
        .files
        .iter()
        .filter(|f| f.path.ends_with("TAKR/709_003/709_003.SMI"))
        .count();
    assert_eq!(smils, 2);
    assert_eq!(s.cards.len(), 2);
}

#[test]
fn xdcam_ex_take_with_its_other_card_missing_waits_for_it() {
    let t = tmp();
    let a = t.path().join("SXS_A");
    ex_card(&a, &["709_003_01"], &["709_003_01", "709_003_02"]);
    let s = scan(&[&a]);
    assert_eq!(
        s.clips[0].incomplete.as_deref(),
        Some(
            "take 709_003 continues in 709_003_02 on another card, which is not in this scan: \
             add the card holding it (or re-copy it) and scan again"
        )
    );
    // The second card alone, without a take list: its numbers start at _02.
    let b = t.path().join("SXS_B");
    put(&b, "BPAV/CLPR/709_003_02/709_003_02.MP4", b"mp4");
    let s = scan(&[&b]);
    assert!(
        s.clips[0]
            .incomplete
            .as_deref()
            .is_some_and(|r| r.starts_with("take 709_003 continues in 709_003_01 ")),
        "{:?}",
        s.clips[0].incomplete
    );
}

#[test]
fn xdcam_ex_same_take_name_with_overlapping_numbers_stays_apart() {
    let t = tmp();
    let (a, b) = (t.path().join("A"), t.path().join("B"));
    for c in [&a, &b] {
        put(c, "BPAV/CLPR/709_001_01/709_001_01.MP4", b"mp4");
    }
    let s = scan(&[&a, &b]);
    assert_eq!(names(&s), vec!["709_001", "709_001"]);
    assert!(
        s.clips
            .iter()
            .all(|c| c.incomplete.is_none() && c.segments.len() == 1)
    );
}

/// XD-style take SMIL (`Take/`), listing the clips of a recording the camera spanned.
fn xd_take_smil(srcs: &[&str]) -> String {
    let refs: String = srcs
        .iter()
        .map(|s| format!(r#"<ref src="{s}" type="edlDoc"/>"#))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><smil xmlns="urn:schemas-professionalDisc:edl:ver.2.00"><head><metadata type="Meta"><ref src="C0007U01M01.XML" type="NonRealTimeMeta"/></metadata></head><body><par><seq>{refs}</seq></par></body></smil>"#
    )
}

#[test]
fn xd_take_joins_its_clips_in_order_also_across_cards() {
    let t = tmp();
    let (a, b) = (t.path().join("XD_A"), t.path().join("XD_B"));
    put(&a, "XDROOT/Clip/C0007.MXF", b"mxf");
    put(&a, "XDROOT/Clip/C0007M01.XML", nrt(UMID).as_bytes());
    put(&a, "XDROOT/Clip/C0008.MXF", b"mxf");
    put(&a, "XDROOT/Clip/C0006.MXF", b"mxf");
    put(
        &a,
        "XDROOT/Take/C0007U01.SMI",
        xd_take_smil(&[
            "../Clip/C0007.MXF",
            "../Clip/C0008.MXF",
            "../Clip/C0009.MXF",
        ])
        .as_bytes(),
    );
    put(&b, "XDROOT/Clip/C0009.MXF", b"mxf");
    // One card: C0009 is missing, the take waits for it; C0006 stays its own clip.
    let s = scan(&[&a]);
    assert_eq!(names(&s), vec!["C0006", "C0007"]);
    let take = clip(&s, "C0007");
    assert_eq!(take.segments, vec![vec![0], vec![1]]);
    assert_eq!(
        take.incomplete.as_deref(),
        Some(
            "take C0007 continues in C0009 on another card, which is not in this scan \
             (Take/C0007U01.SMI): add the card holding it and scan again"
        )
    );
    assert_eq!(
        files(take, &a)
            .iter()
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>(),
        vec![
            "XDROOT/Clip/C0007.MXF",
            "XDROOT/Clip/C0008.MXF",
            "XDROOT/Clip/C0007M01.XML",
            "XDROOT/Take/C0007U01.SMI",
        ]
    );
    // Both cards: one clip of three segments, the id of its first part.
    let s = scan(&[&a, &b]);
    assert_eq!(names(&s), vec!["C0006", "C0007"]);
    let take = clip(&s, "C0007");
    assert_eq!(take.incomplete, None);
    assert_eq!(take.id, format!("xdcam:{UMID}"));
    assert_eq!(take.segments, vec![vec![0], vec![1], vec![2]]);
    assert_eq!(take.files[2].path, canon(&b).join("XDROOT/Clip/C0009.MXF"));
}
