//! P2: single clips, spans across cards (camera-cards.md §6 oracle), drops by sub-folder or
//! member file, case, junk, missing members.

use super::*;
use crate::card::{CARD_LEVEL_REASON, Family};
use FileRole::{Audio, Other, Proxy, Sidecar, Thumbnail, Video};

pub const NS: &str = "urn:schemas-Professional-Plug-in:P2:ClipMetadata:v3.1";

/// A 64-hex GlobalClipID (UMID) ending in `n`.
pub fn gcid(n: u8) -> String {
    format!("060A2B340101010501010D4313000000{:030X}{n:02X}", 0x5EEDu32)
}

#[derive(Default)]
pub struct Rel<'a> {
    pub offset: u64,
    pub top: Option<&'a str>,
    pub previous: Option<&'a str>,
    pub next: Option<(&'a str, &'a str, Option<&'a str>)>,
}

pub fn p2_xml(name: &str, id: &str, duration: u32, audio: usize, rel: Option<Rel>) -> String {
    let audio_xml: String = (0..audio)
        .map(|_| "<Audio><SamplingRate>48000</SamplingRate><BitsPerSample>24</BitsPerSample></Audio>")
        .collect();
    let rel_xml = rel.map_or(String::new(), |r| {
        let top = r.top.map_or(String::new(), |t| format!("<Top><GlobalClipID>{t}</GlobalClipID></Top>"));
        let prev = r
            .previous
            .map_or(String::new(), |t| format!("<Previous><GlobalClipID>{t}</GlobalClipID></Previous>"));
        let next = r.next.map_or(String::new(), |(id, n, serial)| {
            let s = serial.map_or(String::new(), |s| format!("<P2SerialNo.>{s}</P2SerialNo.>"));
            format!("<Next><GlobalClipID>{id}</GlobalClipID><ClipName>{n}</ClipName>{s}</Next>")
        });
        format!(
            "<Relation><OffsetInShot>{}</OffsetInShot><GlobalShotID>{}</GlobalShotID><Connection>{top}{prev}{next}</Connection></Relation>",
            r.offset,
            r.top.unwrap_or(id)
        )
    });
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="no" ?>
<P2Main xmlns="{NS}">
  <ClipContent>
    <ClipName>{name}</ClipName>
    <GlobalClipID>{id}</GlobalClipID>
    <Duration>{duration}</Duration>
    <EditUnit>1/25</EditUnit>
    <EssenceList>
      <Video><FrameRate>25p</FrameRate><StartTimecode>10:00:00:00</StartTimecode></Video>
      {audio_xml}
    </EssenceList>
    {rel_xml}
    <ClipMetadata><Device><Manufacturer>Panasonic</Manufacturer><SerialNo.>CARDA0001</SerialNo.></Device></ClipMetadata>
  </ClipContent>
</P2Main>
"#
    )
}

/// Writes a P2 clip: XML, video, `audio` mono files, optional icon/proxy.
pub fn p2_clip(card: &Path, name: &str, xml: &str, audio: usize, extras: bool) {
    put(card, &format!("CONTENTS/CLIP/{name}.XML"), xml.as_bytes());
    put(card, &format!("CONTENTS/VIDEO/{name}.MXF"), b"mxf-video");
    for ch in 0..audio {
        put(
            card,
            &format!("CONTENTS/AUDIO/{name}{ch:02}.MXF"),
            b"mxf-audio",
        );
    }
    if extras {
        put(card, &format!("CONTENTS/ICON/{name}.BMP"), b"BM");
        put(card, &format!("CONTENTS/PROXY/{name}.MP4"), b"mp4");
    }
}

/// Card A: 0002EM (complete) + 0003AB (Top of a shot continuing as 0004CD on CARDB0001).
pub fn card_a(root: &Path) -> PathBuf {
    let a = root.join("CARD_A");
    put(&a, "LASTCLIP.TXT", b"0003AB");
    p2_clip(
        &a,
        "0002EM",
        &p2_xml("0002EM", &gcid(2), 75, 4, None),
        4,
        true,
    );
    let rel = Rel {
        offset: 0,
        top: Some(&gcid(3)),
        previous: None,
        next: Some((&gcid(4), "0004CD", Some("CARDB0001"))),
    };
    let top = gcid(3);
    let rel = Rel {
        top: Some(&top),
        ..rel
    };
    p2_clip(
        &a,
        "0003AB",
        &p2_xml("0003AB", &gcid(3), 50, 2, Some(rel)),
        2,
        false,
    );
    a
}

pub fn card_b(root: &Path) -> PathBuf {
    let b = root.join("CARD_B");
    put(&b, "LASTCLIP.TXT", b"0004CD");
    let top = gcid(3);
    let rel = Rel {
        offset: 50,
        top: Some(&top),
        previous: Some(&top),
        next: None,
    };
    p2_clip(
        &b,
        "0004CD",
        &p2_xml("0004CD", &gcid(4), 25, 2, Some(rel)),
        2,
        false,
    );
    b
}

fn assert_0002em(scan: &crate::card::CardScan, base: &Path) {
    let c = clip(scan, "0002EM");
    assert_eq!(c.id, format!("p2:{}", gcid(2)));
    assert_eq!(c.family, Family::P2);
    assert_eq!(c.incomplete, None);
    assert_eq!(
        files(c, base),
        vec![
            ("CARD_A/CONTENTS/VIDEO/0002EM.MXF".to_string(), Video),
            ("CARD_A/CONTENTS/AUDIO/0002EM00.MXF".to_string(), Audio),
            ("CARD_A/CONTENTS/AUDIO/0002EM01.MXF".to_string(), Audio),
            ("CARD_A/CONTENTS/AUDIO/0002EM02.MXF".to_string(), Audio),
            ("CARD_A/CONTENTS/AUDIO/0002EM03.MXF".to_string(), Audio),
            ("CARD_A/CONTENTS/CLIP/0002EM.XML".to_string(), Sidecar),
            ("CARD_A/CONTENTS/PROXY/0002EM.MP4".to_string(), Proxy),
            ("CARD_A/CONTENTS/ICON/0002EM.BMP".to_string(), Thumbnail),
        ]
    );
    assert_eq!(c.segments, vec![vec![0, 1, 2, 3, 4]]);
    assert_eq!(c.warnings, Vec::<String>::new());
}

#[test]
fn card_a_alone_has_a_complete_clip_and_a_shot_waiting_for_card_b() {
    let t = tmp();
    let a = card_a(t.path());
    let s = scan(&[&a]);
    assert_eq!(names(&s), vec!["0002EM", "0003AB"]);
    assert_0002em(&s, t.path());
    let shot = clip(&s, "0003AB");
    assert_eq!(shot.id, format!("p2:{}", gcid(3)));
    assert_eq!(
        shot.incomplete.as_deref(),
        Some("waiting for card CARDB0001")
    );
    assert_eq!(shot.segments, vec![vec![0, 1, 2]]);
    assert_eq!(s.cards.len(), 1);
    assert_eq!(s.cards[0].family, Family::P2);
    assert_eq!(s.cards[0].root, canon(&a));
    assert_eq!(
        skipped(&s, t.path()),
        vec![(
            "CARD_A/LASTCLIP.TXT".to_string(),
            CARD_LEVEL_REASON.to_string()
        )]
    );
    assert!(s.errors.is_empty(), "{:?}", s.errors);
}

#[test]
fn cards_a_and_b_dropped_by_parent_join_the_shot_across_cards() {
    let t = tmp();
    card_a(t.path());
    card_b(t.path());
    let s = scan(&[t.path()]);
    assert_eq!(names(&s), vec!["0002EM", "0003AB"]);
    assert_0002em(&s, t.path());
    let shot = clip(&s, "0003AB");
    assert_eq!(shot.id, format!("p2:{}", gcid(3)));
    assert_eq!(shot.incomplete, None);
    assert_eq!(shot.card_root, canon(&t.path().join("CARD_A")));
    assert_eq!(
        files(shot, t.path()),
        vec![
            ("CARD_A/CONTENTS/VIDEO/0003AB.MXF".to_string(), Video),
            ("CARD_A/CONTENTS/AUDIO/0003AB00.MXF".to_string(), Audio),
            ("CARD_A/CONTENTS/AUDIO/0003AB01.MXF".to_string(), Audio),
            ("CARD_B/CONTENTS/VIDEO/0004CD.MXF".to_string(), Video),
            ("CARD_B/CONTENTS/AUDIO/0004CD00.MXF".to_string(), Audio),
            ("CARD_B/CONTENTS/AUDIO/0004CD01.MXF".to_string(), Audio),
            ("CARD_A/CONTENTS/CLIP/0003AB.XML".to_string(), Sidecar),
            ("CARD_B/CONTENTS/CLIP/0004CD.XML".to_string(), Sidecar),
        ]
    );
    assert_eq!(shot.segments, vec![vec![0, 1, 2], vec![3, 4, 5]]);
    let mut roots: Vec<PathBuf> = s.cards.iter().map(|c| c.root.clone()).collect();
    roots.sort();
    assert_eq!(
        roots,
        vec![
            canon(&t.path().join("CARD_A")),
            canon(&t.path().join("CARD_B"))
        ]
    );
}

#[test]
fn card_b_alone_waits_for_the_start_of_the_shot() {
    let t = tmp();
    let b = card_b(t.path());
    let s = scan(&[&b]);
    assert_eq!(names(&s), vec!["0004CD"]);
    let c = &s.clips[0];
    assert_eq!(c.id, format!("p2:{}", gcid(3)));
    assert_eq!(
        c.incomplete.as_deref(),
        Some(
            format!(
                "waiting for the card holding the start of this shot (Top GlobalClipID {})",
                gcid(3)
            )
            .as_str()
        )
    );
}

#[test]
fn two_cards_dropped_separately_in_one_scan_also_join() {
    let t = tmp();
    let a = card_a(t.path());
    let b = card_b(t.path());
    let s = scan(&[&b, &a]);
    assert_eq!(names(&s), vec!["0002EM", "0003AB"]);
    assert_eq!(clip(&s, "0003AB").incomplete, None);
    assert_eq!(clip(&s, "0003AB").files.len(), 8);
}

/// Card A copied twice (`CARD_A`, `COPY/CARD_A`) plus card B: the span is built once from the
/// first copy; the second copy's files are skipped as a second copy, not as "part of no clip".
#[test]
fn span_member_on_a_card_copied_twice_is_used_once() {
    let t = tmp();
    let a = card_a(t.path());
    let copy = card_a(&t.path().join("COPY"));
    let b = card_b(t.path());
    let s = scan(&[&a, &copy, &b]);
    let shot: Vec<&crate::card::Clip> = s.clips.iter().filter(|c| c.name == "0003AB").collect();
    assert_eq!(shot.len(), 1);
    assert_eq!(shot[0].files.len(), 8);
    assert_eq!(shot[0].warnings.len(), 1, "{:?}", shot[0].warnings);
    assert!(shot[0].warnings[0].starts_with("clip 0003AB is present twice"));
    let second: Vec<&str> = s
        .skipped
        .iter()
        .filter(|k| k.path.to_string_lossy().contains("0003AB"))
        .map(|k| k.reason.as_str())
        .collect();
    // XML, video, two audio files of the unused copy.
    assert_eq!(second.len(), 4, "{second:?}");
    assert!(
        second
            .iter()
            .all(|r| r.starts_with("second copy of P2 clip 0003AB")),
        "{second:?}"
    );
}

#[test]
fn drop_by_subfolder_or_member_file_walks_up_to_the_card() {
    let t = tmp();
    let a = card_a(t.path());
    for dropped in [
        a.join("CONTENTS/AUDIO"),
        a.join("CONTENTS"),
        a.join("CONTENTS/VIDEO/0002EM.MXF"),
    ] {
        let s = scan(&[&dropped]);
        assert_eq!(names(&s), vec!["0002EM", "0003AB"], "dropped {dropped:?}");
        assert_0002em(&s, t.path());
        assert_eq!(s.cards.len(), 1);
        assert_eq!(s.cards[0].root, canon(&a));
    }
}

#[test]
fn nested_and_repeated_drops_give_no_duplicates() {
    let t = tmp();
    let a = card_a(t.path());
    let s = scan(&[
        &a,
        &a,
        &a.join("CONTENTS/VIDEO"),
        &a.join("CONTENTS/CLIP/0002EM.XML"),
    ]);
    assert_eq!(names(&s), vec!["0002EM", "0003AB"]);
    assert_eq!(clip(&s, "0002EM").files.len(), 8);
    assert_eq!(s.cards.len(), 1);
}

#[test]
fn lowercase_card_works() {
    let t = tmp();
    let c = t.path().join("p2lower");
    put(
        &c,
        "contents/clip/0002em.xml",
        p2_xml("0002EM", &gcid(2), 75, 2, None).as_bytes(),
    );
    put(&c, "contents/video/0002em.mxf", b"v");
    put(&c, "contents/audio/0002em00.mxf", b"a");
    put(&c, "contents/audio/0002em01.mxf", b"a");
    put(&c, "contents/icon/0002em.bmp", b"i");
    let s = scan(&[&c.join("contents/video/0002em.mxf")]);
    assert_eq!(names(&s), vec!["0002EM"]);
    let cl = &s.clips[0];
    assert_eq!(cl.id, format!("p2:{}", gcid(2)));
    assert_eq!(
        files(cl, &c),
        vec![
            ("contents/video/0002em.mxf".to_string(), Video),
            ("contents/audio/0002em00.mxf".to_string(), Audio),
            ("contents/audio/0002em01.mxf".to_string(), Audio),
            ("contents/clip/0002em.xml".to_string(), Sidecar),
            ("contents/icon/0002em.bmp".to_string(), Thumbnail),
        ]
    );
}

#[test]
fn macos_junk_is_skipped_with_reasons() {
    let t = tmp();
    let a = card_a(t.path());
    put(&a, ".DS_Store", b"x");
    put(&a, "CONTENTS/VIDEO/._0002EM.MXF", b"x");
    put(&a, ".Spotlight-V100/Store-V2/db", b"x");
    put(&a, ".fseventsd/0001", b"x");
    put(&a, "ascmhl/ascmhl_chain.xml", b"<x/>");
    put(&a, "CONTENTS/CLIP/0002EM.XML.BUP", b"x");
    let s = scan(&[&a]);
    assert_eq!(names(&s), vec!["0002EM", "0003AB"]);
    assert_0002em(&s, t.path());
    let sk = skipped(&s, t.path());
    let find = |p: &str| sk.iter().find(|(r, _)| r == p).map(|(_, why)| why.clone());
    assert_eq!(
        find("CARD_A/.DS_Store").as_deref(),
        Some("operating-system file, not camera media")
    );
    assert_eq!(
        find("CARD_A/CONTENTS/VIDEO/._0002EM.MXF").as_deref(),
        Some("macOS resource-fork file (._*), not camera media")
    );
    assert_eq!(
        find("CARD_A/.Spotlight-V100").as_deref(),
        Some("operating-system folder, not camera media")
    );
    assert_eq!(
        find("CARD_A/.fseventsd").as_deref(),
        Some("operating-system folder, not camera media")
    );
    assert_eq!(
        find("CARD_A/ascmhl").as_deref(),
        Some("existing ASC MHL checksum history: copied and verified, never media")
    );
    assert_eq!(
        find("CARD_A/CONTENTS/CLIP/0002EM.XML.BUP").as_deref(),
        Some("backup of a card file (.BUP): copied with the card, not parsed")
    );
    assert_eq!(sk.len(), 7, "{sk:?}");
}

#[test]
fn zero_gcid_falls_back_to_card_relative_path() {
    let t = tmp();
    let c = t.path().join("Z");
    let zero = "0".repeat(64);
    p2_clip(
        &c,
        "0007ZZ",
        &p2_xml("0007ZZ", &zero, 25, 1, None),
        1,
        false,
    );
    let s = scan(&[&c]);
    assert_eq!(s.clips[0].id, "p2:CONTENTS/CLIP/0007ZZ");
}

#[test]
fn missing_video_missing_xml_and_audio_mismatch_are_reported() {
    let t = tmp();
    let c = t.path().join("C");
    // XML + audio, no video
    put(
        &c,
        "CONTENTS/CLIP/0010AA.XML",
        p2_xml("0010AA", &gcid(10), 25, 2, None).as_bytes(),
    );
    put(&c, "CONTENTS/AUDIO/0010AA00.MXF", b"a");
    put(&c, "CONTENTS/AUDIO/0010AA01.MXF", b"a");
    // video + audio, no XML
    put(&c, "CONTENTS/VIDEO/0011BB.MXF", b"v");
    put(&c, "CONTENTS/AUDIO/0011BB00.MXF", b"a");
    // XML says 4 audio, 1 on disk; plus a voice memo; plus an orphan icon
    p2_clip(
        &c,
        "0012CC",
        &p2_xml("0012CC", &gcid(12), 25, 4, None),
        1,
        false,
    );
    put(&c, "CONTENTS/VOICE/0012CC00.WAV", b"w");
    put(&c, "CONTENTS/ICON/0099XX.BMP", b"i");
    let s = scan(&[&c]);
    assert_eq!(names(&s), vec!["0010AA", "0011BB", "0012CC"]);
    let a = clip(&s, "0010AA");
    assert_eq!(
        a.incomplete.as_deref(),
        Some("video file CONTENTS/VIDEO/0010AA.MXF is missing: re-copy the card")
    );
    assert_eq!(a.files.len(), 3);
    let b = clip(&s, "0011BB");
    assert_eq!(b.id, "p2:CONTENTS/CLIP/0011BB");
    assert_eq!(
        b.incomplete.as_deref(),
        Some(
            "clip XML CONTENTS/CLIP/0011BB.XML is missing: without it the clip's metadata and span links are unknown; re-copy the card"
        )
    );
    let cc = clip(&s, "0012CC");
    assert_eq!(cc.incomplete, None);
    assert_eq!(
        cc.warnings,
        vec![
            "0012CC: the clip XML lists 4 audio channel(s) but 1 audio file(s) are on the card"
                .to_string()
        ]
    );
    assert_eq!(
        files(cc, &c).last(),
        Some(&("CONTENTS/VOICE/0012CC00.WAV".to_string(), Other))
    );
    assert_eq!(
        skipped(&s, &c),
        vec![(
            "CONTENTS/ICON/0099XX.BMP".to_string(),
            "P2 ICON file without a clip: no CONTENTS/CLIP/0099XX.XML or video on this card"
                .to_string()
        )]
    );
}

#[test]
fn zero_byte_mxf_is_an_error_but_the_clip_is_listed() {
    let t = tmp();
    let c = t.path().join("E");
    p2_clip(
        &c,
        "0020EE",
        &p2_xml("0020EE", &gcid(20), 25, 1, None),
        1,
        false,
    );
    put(&c, "CONTENTS/VIDEO/0020EE.MXF", b"");
    let s = scan(&[&c]);
    assert_eq!(names(&s), vec!["0020EE"]);
    assert_eq!(s.errors.len(), 1);
    assert_eq!(
        s.errors[0].path,
        canon(&c).join("CONTENTS/VIDEO/0020EE.MXF")
    );
    assert_eq!(
        s.errors[0].message,
        "file is empty (0 bytes): re-copy it from the card"
    );
}

/// Three-card shot X → Y → Z; `present` chooses which cards are dropped.
fn three_card_shot(root: &Path, present: &[usize]) -> Vec<PathBuf> {
    let (x, y, z) = (gcid(0x31), gcid(0x32), gcid(0x33));
    let specs = [
        (
            "C1",
            "0031XA",
            &x,
            0u64,
            None,
            Some((&y, "0032YB", Some("CARD2"))),
        ),
        (
            "C2",
            "0032YB",
            &y,
            100,
            Some(&x),
            Some((&z, "0033ZC", Some("CARD3"))),
        ),
        ("C3", "0033ZC", &z, 200, Some(&y), None),
    ];
    let mut dirs = Vec::new();
    for (i, (card, name, id, offset, prev, next)) in specs.iter().enumerate() {
        if !present.contains(&i) {
            continue;
        }
        let dir = root.join(card);
        let rel = Rel {
            offset: *offset,
            top: Some(&x),
            previous: prev.map(|p| p.as_str()),
            next: next.map(|(g, n, s)| (g.as_str(), n, s)),
        };
        p2_clip(&dir, name, &p2_xml(name, id, 100, 1, Some(rel)), 1, false);
        dirs.push(dir);
    }
    dirs
}

#[test]
fn three_card_span_complete_and_with_the_middle_card_missing() {
    let t = tmp();
    three_card_shot(t.path(), &[2, 0, 1]);
    let s = scan(&[t.path()]);
    assert_eq!(names(&s), vec!["0031XA"]);
    let c = &s.clips[0];
    assert_eq!(c.id, format!("p2:{}", gcid(0x31)));
    assert_eq!(c.incomplete, None);
    assert_eq!(c.segments, vec![vec![0, 1], vec![2, 3], vec![4, 5]]);
    let order: Vec<String> = files(c, t.path())
        .into_iter()
        .take(6)
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        order,
        vec![
            "C1/CONTENTS/VIDEO/0031XA.MXF",
            "C1/CONTENTS/AUDIO/0031XA00.MXF",
            "C2/CONTENTS/VIDEO/0032YB.MXF",
            "C2/CONTENTS/AUDIO/0032YB00.MXF",
            "C3/CONTENTS/VIDEO/0033ZC.MXF",
            "C3/CONTENTS/AUDIO/0033ZC00.MXF",
        ]
    );

    let t2 = tmp();
    three_card_shot(t2.path(), &[0, 2]);
    let s2 = scan(&[t2.path()]);
    assert_eq!(names(&s2), vec!["0031XA"]);
    assert_eq!(
        s2.clips[0].incomplete.as_deref(),
        Some("waiting for card CARD2")
    );
    assert_eq!(s2.clips[0].segments, vec![vec![0, 1], vec![2, 3]]);
}
