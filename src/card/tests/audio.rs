//! Production-audio rules of issue 11 on structurally faithful WAVs: `fmt ` + 602-byte `bext`
//! (Description `sSCENE=`…, Originator, OriginationDate/Time, TimeReference, CodingHistory) +
//! `data` + `iXML` with real element names (PROJECT, SCENE, TAKE, TAPE, CIRCLED, NOTE, SPEED,
//! TRACK_LIST, HISTORY, FILE_SET), laid out as the recorders of camera-cards.md §10 write them:
//! Sound Devices poly with iXML before `data`, Wave Agent splits with an odd-sized `data`
//! chunk and no pad byte, Metacorder with iXML after `data`, Zoom F8 `*.TAKE/` folders.

use super::{canon, clip, files, put, scan, tmp};
use crate::card::{Family, FileRole::Audio};
use crate::media::{Tools, describe_clip};

/// One recorder file.
#[derive(Clone)]
pub struct Bwf<'a> {
    pub channels: u16,
    pub data_len: usize,
    /// Pad odd `data` chunks (Wave Agent splits don't).
    pub pad: bool,
    pub ixml_after_data: bool,
    pub description: &'a str,
    pub originator: &'a str,
    pub date: &'a str,
    pub time: &'a str,
    pub time_reference: u64,
    pub ixml: Option<String>,
}

impl Default for Bwf<'_> {
    fn default() -> Self {
        Bwf {
            channels: 2,
            data_len: 4800 * 6,
            pad: true,
            ixml_after_data: false,
            description: "sSCENE=A101\r\nsTAKE=1\r\nsTAPE=24Y05M14\r\n",
            originator: "Sound Devices",
            date: "2024-05-14",
            time: "10:00:00",
            time_reference: 1_728_000_000,
            ixml: None,
        }
    }
}

fn chunk(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8], pad: bool) {
    out.extend_from_slice(id);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if pad && body.len() % 2 == 1 {
        out.push(0);
    }
}

impl Bwf<'_> {
    pub fn bytes(&self) -> Vec<u8> {
        let mut body = b"WAVE".to_vec();
        let mut fmt = Vec::new();
        let block = self.channels * 3;
        fmt.extend_from_slice(&1u16.to_le_bytes());
        fmt.extend_from_slice(&self.channels.to_le_bytes());
        fmt.extend_from_slice(&48_000u32.to_le_bytes());
        fmt.extend_from_slice(&(48_000 * u32::from(block)).to_le_bytes());
        fmt.extend_from_slice(&block.to_le_bytes());
        fmt.extend_from_slice(&24u16.to_le_bytes());
        chunk(&mut body, b"fmt ", &fmt, true);
        let mut bext = vec![0u8; 602];
        let put_str =
            |b: &mut Vec<u8>, at: usize, s: &str| b[at..at + s.len()].copy_from_slice(s.as_bytes());
        put_str(&mut bext, 0, self.description);
        put_str(&mut bext, 256, self.originator);
        put_str(&mut bext, 288, "USSDVA101");
        put_str(&mut bext, 320, self.date);
        put_str(&mut bext, 330, self.time);
        bext[338..346].copy_from_slice(&self.time_reference.to_le_bytes());
        bext[346..348].copy_from_slice(&1u16.to_le_bytes());
        bext.extend_from_slice(b"A=PCM,F=48000,W=24,M=stereo,T=702T;\r\n");
        chunk(&mut body, b"bext", &bext, true);
        let ixml = self.ixml.clone().map(|x| x.into_bytes());
        if let (Some(x), false) = (&ixml, self.ixml_after_data) {
            chunk(&mut body, b"iXML", x, true);
        }
        chunk(&mut body, b"data", &vec![0u8; self.data_len], self.pad);
        if let (Some(x), true) = (&ixml, self.ixml_after_data) {
            chunk(&mut body, b"iXML", x, true);
        }
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend(body);
        out
    }
}

/// An iXML document as Sound Devices / Wave Agent write it.
#[derive(Clone, Default)]
pub struct Ixml<'a> {
    pub scene: &'a str,
    pub take: &'a str,
    pub tracks: &'a [&'a str],
    pub family_uid: &'a str,
    pub total_files: u32,
    pub index: &'a str,
    pub parent: Option<&'a str>,
    pub original: &'a str,
    pub rate: Option<&'a str>,
    pub circled: bool,
    pub note: &'a str,
}

impl Ixml<'_> {
    pub fn xml(&self) -> String {
        let tracks: String = self
            .tracks
            .iter()
            .enumerate()
            .map(|(i, n)| {
                format!(
                    "<TRACK><CHANNEL_INDEX>{c}</CHANNEL_INDEX><INTERLEAVE_INDEX>{c}</INTERLEAVE_INDEX><NAME>{n}</NAME><FUNCTION></FUNCTION></TRACK>",
                    c = i + 1
                )
            })
            .collect();
        let speed = match self.rate {
            Some(r) => format!(
                "<SPEED><NOTE></NOTE><MASTER_SPEED>{r}</MASTER_SPEED><CURRENT_SPEED>{r}</CURRENT_SPEED><TIMECODE_RATE>{r}</TIMECODE_RATE><TIMECODE_FLAG>NDF</TIMECODE_FLAG><FILE_SAMPLE_RATE>48000</FILE_SAMPLE_RATE><AUDIO_BIT_DEPTH>24</AUDIO_BIT_DEPTH></SPEED>"
            ),
            None => "<SPEED><FILE_SAMPLE_RATE>48000</FILE_SAMPLE_RATE><AUDIO_BIT_DEPTH>24</AUDIO_BIT_DEPTH></SPEED>".into(),
        };
        let parent = self
            .parent
            .map(|p| {
                format!("<PARENT_FILENAME>{p}</PARENT_FILENAME><PARENT_UID>PARENT-{p}</PARENT_UID>")
            })
            .unwrap_or_default();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<BWFXML><IXML_VERSION>1.61</IXML_VERSION>\
             <PROJECT>Harbour</PROJECT><SCENE>{scene}</SCENE><TAPE>24Y05M14</TAPE><TAKE>{take}</TAKE>\
             <CIRCLED>{circled}</CIRCLED><NOTE>{note}</NOTE><UBITS>00000000</UBITS>{speed}\
             <HISTORY><ORIGINAL_FILENAME>{original}</ORIGINAL_FILENAME>{parent}</HISTORY>\
             <FILE_SET><TOTAL_FILES>{total}</TOTAL_FILES><FAMILY_UID>{uid}</FAMILY_UID>\
             <FAMILY_NAME>{scene}/{take}</FAMILY_NAME><FILE_SET_INDEX>{index}</FILE_SET_INDEX></FILE_SET>\
             <TRACK_LIST><TRACK_COUNT>{count}</TRACK_COUNT>{tracks}</TRACK_LIST></BWFXML>\0\0\0",
            scene = self.scene,
            take = self.take,
            circled = if self.circled { "TRUE" } else { "FALSE" },
            note = self.note,
            original = self.original,
            total = self.total_files,
            uid = self.family_uid,
            index = self.index,
            count = self.tracks.len(),
        )
    }
}

const UID: &str = "USSDVAF24051410000001";

/// The 702T poly take `A101_1.WAV` (file set of one) and its Wave Agent split
/// `A101_1_1.WAV`, `A101_1_2.WAV` (file set of two, PARENT_FILENAME = the poly).
fn poly_and_split(dir: &std::path::Path) {
    let base = Ixml {
        scene: "A101",
        take: "1",
        family_uid: UID,
        rate: Some("24000/1001"),
        circled: true,
        note: "door slam",
        ..Ixml::default()
    };
    let poly = Ixml {
        tracks: &["Boom", "Lav"],
        total_files: 1,
        index: "A",
        original: "A101_1.WAV",
        ..base.clone()
    };
    put(
        dir,
        "A101_1.WAV",
        &Bwf {
            ixml: Some(poly.xml()),
            ..Bwf::default()
        }
        .bytes(),
    );
    for (i, track) in ["Boom", "Lav"].iter().enumerate() {
        let name = format!("A101_1_{}.WAV", i + 1);
        let x = Ixml {
            tracks: std::slice::from_ref(track),
            total_files: 2,
            index: ["1", "2"][i],
            parent: Some("A101_1.WAV"),
            original: &name,
            ..base.clone()
        };
        // Wave Agent: mono, odd-sized data, no pad byte.
        let wav = Bwf {
            channels: 1,
            data_len: 4800 * 3 + 1,
            pad: false,
            ixml: Some(x.xml()),
            ..Bwf::default()
        };
        put(dir, &name, &wav.bytes());
    }
}

#[test]
fn poly_and_wave_agent_split_are_two_clips_the_split_derived_from_the_poly() {
    let t = tmp();
    let dir = t.path().join("SD702T");
    poly_and_split(&dir);
    let s = scan(&[&dir]);
    assert_eq!(s.clips.len(), 2, "{:#?}", s.clips);
    assert!(s.clips.iter().all(|c| c.family == Family::AudioBwf));
    let poly = s
        .clips
        .iter()
        .find(|c| c.files.len() == 1)
        .expect("poly clip");
    let split = s
        .clips
        .iter()
        .find(|c| c.files.len() == 2)
        .expect("split clip");
    assert_eq!(files(poly, &dir), [("A101_1.WAV".to_string(), Audio)]);
    assert_eq!(
        files(split, &dir),
        [
            ("A101_1_1.WAV".to_string(), Audio),
            ("A101_1_2.WAV".to_string(), Audio)
        ]
    );
    assert_eq!(
        (poly.name.as_str(), split.name.as_str()),
        ("A101_1", "A101_1")
    );
    assert_eq!(poly.id, format!("audio_bwf:{UID}/A101_1"));
    assert_eq!(split.id, format!("audio_bwf:{UID}/A101_1_1"));
    assert_eq!(split.derived_from.as_deref(), Some(poly.id.as_str()));
    assert_eq!(poly.derived_from, None);
    assert!(
        split
            .warnings
            .iter()
            .any(|w| w.starts_with("derived from A101_1.WAV")),
        "{:?}",
        split.warnings
    );
    assert!(
        poly.warnings
            .iter()
            .any(|w| w.contains("was split from this file")),
        "{:?}",
        poly.warnings
    );
    // 2 channels each: the poly's fmt says 2, the split is 2 mono members of one segment.
    assert_eq!(split.segments, [vec![0, 1]]);
    let tools = Tools::default();
    let pm = describe_clip(poly, &tools).metadata;
    let sm = describe_clip(split, &tools).metadata;
    assert_eq!(pm.track_names.as_deref(), Some("Boom, Lav"));
    assert_eq!(sm.track_names.as_deref(), Some("Boom, Lav"));
    assert_eq!(
        sm.sources.get("track_names").map(String::as_str),
        Some("A101_1_1.WAV, A101_1_2.WAV iXML TRACK_LIST")
    );
    // 1 728 000 000 samples at 48 kHz = 10:00:00 wall clock; at 23.976 NDF the TC counts
    // frames of 1001/24000 s: 10 h = 863 136.86 frames; 863 136 = 35 964 s × 24 → 09:59:24:00.
    assert_eq!(pm.timecode_start.as_deref(), Some("09:59:24:00"));
    assert_eq!(pm.frame_rate, None, "a WAV gets no frame rate");
}

#[test]
fn take_numbers_are_not_track_suffixes() {
    let t = tmp();
    let dir = t.path().join("DAY1");
    for take in ["3", "4"] {
        let name = format!("A101_{take}.WAV");
        let x = Ixml {
            scene: "A101",
            take,
            tracks: &["Boom", "Lav"],
            family_uid: if take == "3" { "UID-T3" } else { "UID-T4" },
            total_files: 1,
            index: "A",
            original: &name,
            ..Ixml::default()
        };
        put(
            &dir,
            &name,
            &Bwf {
                ixml: Some(x.xml()),
                ..Bwf::default()
            }
            .bytes(),
        );
    }
    // Without iXML: two mono takes of different lengths are two clips, not tracks 3 and 4.
    for (take, len) in [("5", 4800 * 3), ("6", 4800 * 9)] {
        put(
            &dir,
            &format!("B202_{take}.WAV"),
            &Bwf {
                channels: 1,
                data_len: len,
                ..Bwf::default()
            }
            .bytes(),
        );
    }
    let s = scan(&[&dir]);
    let mut names: Vec<&str> = s.clips.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["A101_3", "A101_4", "B202_5", "B202_6"]);
    assert!(s.clips.iter().all(|c| c.files.len() == 1));
    assert_eq!(clip(&s, "A101_3").id, "audio_bwf:UID-T3/A101_3");
    assert_eq!(clip(&s, "B202_6").id, "audio_bwf:B202_6");
}

#[test]
fn same_take_in_two_folders_is_two_clips_that_look_like_copies() {
    let t = tmp();
    let root = t.path().join("SOUND");
    // The recorder's day folder and a Pro Tools re-export that kept the FAMILY_UID.
    for folder in ["702T_DAY1", "ProTools_export"] {
        let x = Ixml {
            scene: "A101",
            take: "2",
            tracks: &["Boom", "Lav"],
            family_uid: UID,
            total_files: 1,
            index: "A",
            original: "A101_2.WAV",
            ..Ixml::default()
        };
        put(
            &root,
            &format!("{folder}/A101_2.WAV"),
            &Bwf {
                ixml: Some(x.xml()),
                ..Bwf::default()
            }
            .bytes(),
        );
    }
    let s = scan(&[&root]);
    assert_eq!(s.clips.len(), 2, "{:#?}", s.clips);
    let root_c = canon(&root);
    let dirs: Vec<_> = s
        .clips
        .iter()
        .map(|c| {
            c.files[0]
                .path
                .parent()
                .unwrap()
                .strip_prefix(&root_c)
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        dirs,
        [
            std::path::PathBuf::from("702T_DAY1"),
            "ProTools_export".into()
        ]
    );
    let ids: Vec<&str> = s.clips.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids[0], format!("audio_bwf:{UID}/A101_2"));
    assert_eq!(
        ids[1],
        format!(
            "audio_bwf:{UID}/A101_2@{}",
            root_c.join("ProTools_export").display()
        )
    );
    for c in &s.clips {
        assert_eq!(c.files.len(), 1);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].starts_with("looks like a copy of one take: 2 clips"));
    }
}

#[test]
fn production_metadata_comes_with_its_source_and_no_invented_rate() {
    let t = tmp();
    let dir = t.path().join("F8");
    // Metacorder-style: iXML after data, no SPEED rate; a time zone element.
    let x = Ixml {
        scene: "12A",
        take: "7",
        tracks: &["Mix", "Boom"],
        family_uid: "META-1",
        total_files: 1,
        index: "1",
        original: "12A-7.WAV",
        circled: true,
        note: "plane overhead",
        ..Ixml::default()
    }
    .xml()
    .replace(
        "</BWFXML>",
        "<LOCATION><LOCATION_NAME>Harbour</LOCATION_NAME><LOCATION_TIME_ZONE>UTC+2</LOCATION_TIME_ZONE></LOCATION></BWFXML>",
    );
    let wav = Bwf {
        ixml_after_data: true,
        description: "dSCENE=12A\r\ndTAKE=7\r\n",
        originator: "Metacorder",
        time_reference: 48_000 * 3600,
        ixml: Some(x),
        ..Bwf::default()
    };
    put(&dir, "12A-7.WAV", &wav.bytes());
    // bext only, no iXML: local date without zone.
    put(
        &dir,
        "S9T1.WAV",
        &Bwf {
            description: "gSCENE=9\r\ngTAKE=1\r\ngTAPE=T01\r\n",
            originator: "ZOOM F8",
            ..Bwf::default()
        }
        .bytes(),
    );
    let s = scan(&[&dir]);
    let tools = Tools::default();
    let m = describe_clip(clip(&s, "12A-7"), &tools).metadata;
    assert_eq!(m.scene.as_deref(), Some("12A"));
    assert_eq!(m.take.as_deref(), Some("7"));
    assert_eq!(m.tape.as_deref(), Some("24Y05M14"));
    assert_eq!(m.project.as_deref(), Some("Harbour"));
    assert_eq!(m.circled.as_deref(), Some("true"));
    assert_eq!(m.note.as_deref(), Some("plane overhead"));
    assert_eq!(m.track_names.as_deref(), Some("Mix, Boom"));
    assert_eq!(m.recorder.as_deref(), Some("Metacorder"));
    assert_eq!(m.shoot_date.as_deref(), Some("2024-05-14T10:00:00+02:00"));
    assert_eq!(m.timecode_start, None, "no TIMECODE_RATE: no timecode");
    assert_eq!(m.frame_rate, None);
    assert_eq!(
        m.time_reference.as_deref(),
        Some(
            "172800000 samples since midnight at 48000 Hz (01:00:00 wall clock; the file \
             states no timecode rate)"
        )
    );
    let src = |f: &str| m.sources.get(f).cloned().unwrap_or_default();
    assert_eq!(src("scene"), "12A-7.WAV iXML SCENE");
    assert_eq!(src("recorder"), "12A-7.WAV bext Originator");
    assert_eq!(
        src("shoot_date"),
        "12A-7.WAV bext OriginationDate/Time + iXML time zone"
    );
    assert_eq!(src("time_reference"), "12A-7.WAV bext TimeReference");

    let z = describe_clip(clip(&s, "S9T1"), &tools).metadata;
    assert_eq!(
        (z.scene.as_deref(), z.take.as_deref(), z.tape.as_deref()),
        (Some("9"), Some("1"), Some("T01"))
    );
    assert_eq!(
        z.sources.get("scene").map(String::as_str),
        Some("S9T1.WAV bext Description SCENE=")
    );
    assert_eq!(z.shoot_date, None, "no zone: not a shoot date");
    assert_eq!(z.shoot_date_local.as_deref(), Some("2024-05-14T10:00:00"));
    assert_eq!(z.recorder.as_deref(), Some("ZOOM F8"));
}

#[test]
fn zoom_take_holding_2_of_9_files_names_what_is_missing() {
    let t = tmp();
    let dir = t.path().join("F8N");
    for (tr, index) in [("Tr1", "3"), ("Tr2", "4")] {
        let name = format!("230514_001_{tr}.WAV");
        let x = Ixml {
            scene: "230514",
            take: "001",
            tracks: &[tr],
            family_uid: "ZOOM-F8-0001",
            total_files: 9,
            index,
            original: &name,
            ..Ixml::default()
        };
        put(
            &dir,
            &format!("230514_001.TAKE/{name}"),
            &Bwf {
                channels: 1,
                ixml: Some(x.xml()),
                ..Bwf::default()
            }
            .bytes(),
        );
    }
    let s = scan(&[&dir]);
    assert_eq!(s.clips.len(), 1, "{:#?}", s.clips);
    let c = &s.clips[0];
    assert_eq!(c.name, "230514_001");
    assert_eq!(
        files(c, &dir),
        [
            ("230514_001.TAKE/230514_001_Tr1.WAV".to_string(), Audio),
            ("230514_001.TAKE/230514_001_Tr2.WAV".to_string(), Audio)
        ]
    );
    assert_eq!(
        c.warnings,
        [
            "incomplete file set: the take has 9 files (iXML FILE_SET TOTAL_FILES) but only 2 \
             are here (230514_001_Tr1.WAV, 230514_001_Tr2.WAV); missing 7 file(s) \
             (FILE_SET_INDEX 1, 2, 5, 6, 7, 8, 9): copy the whole take folder from the recorder"
        ]
    );
}
