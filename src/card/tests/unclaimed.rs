//! No media file is dropped silently: media no detector claims becomes a generic clip (with a
//! warning naming it), never a card-level file or a skip.

use super::*;
use crate::card::{CARD_LEVEL_REASON, Family};

/// The first bytes of an MXF header partition pack (SMPTE 377M key), padded.
fn mxf_bytes() -> Vec<u8> {
    let mut v = vec![
        0x06, 0x0E, 0x2B, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0D, 0x01, 0x02, 0x01, 0x01, 0x02, 0x04,
        0x00,
    ];
    v.resize(512, 0);
    v
}

#[test]
fn unknown_media_on_a_card_becomes_a_generic_clip_not_card_level() {
    let t = tmp();
    let c = t.path().join("XD");
    put(&c, "XDROOT/MEDIAPRO.XML", b"<MediaProfile/>");
    put(&c, "XDROOT/Clip/C0001.MXF", &mxf_bytes());
    // A file the camera's recovery wrote without extension, and a phone clip put in General/.
    put(&c, "XDROOT/RECOVER0001", &mxf_bytes());
    put(
        &c,
        "XDROOT/General/Sony/director_note.MOV",
        b"\0\0\0\x14ftypqt  \0\0\0\0",
    );
    put(&c, "XDROOT/General/Sony/director_note.XMP", b"<x:xmpmeta/>");
    let s = scan(&[&c]);
    assert_eq!(names(&s), vec!["C0001", "director_note", "RECOVER0001"]);
    let rec = clip(&s, "RECOVER0001");
    assert_eq!(rec.family, Family::Generic);
    assert_eq!(rec.id, "generic:XDROOT/RECOVER0001");
    assert_eq!(
        rec.warnings,
        vec![
            "RECOVER0001 is an MXF file by its first bytes that no clip on this xdcam card \
             uses: listed as a generic clip so it is not lost; check which device wrote it"
                .to_string()
        ]
    );
    let note = clip(&s, "director_note");
    assert_eq!(
        files(note, &c),
        vec![
            (
                "XDROOT/General/Sony/director_note.MOV".to_string(),
                FileRole::Video
            ),
            (
                "XDROOT/General/Sony/director_note.XMP".to_string(),
                FileRole::Sidecar
            ),
        ]
    );
    // Only the inventory stays card-level.
    assert_eq!(
        skipped(&s, &c),
        vec![(
            "XDROOT/MEDIAPRO.XML".to_string(),
            CARD_LEVEL_REASON.to_string()
        )]
    );
}

#[test]
fn loose_media_without_extension_is_found_by_its_signature() {
    let t = tmp();
    let d = t.path().join("drop");
    put(
        &d,
        "recorder/TAKE_0001",
        b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0",
    );
    put(&d, "recorder/readme.txt", b"notes");
    let s = scan(&[&d]);
    assert_eq!(names(&s), vec!["TAKE_0001"]);
    assert_eq!(s.clips[0].files[0].role, FileRole::Audio);
    assert_eq!(s.clips[0].family, Family::Generic);
    assert_eq!(
        skipped(&s, &d),
        vec![(
            "recorder/readme.txt".to_string(),
            "not a media file and no clip has this name: left out".to_string()
        )]
    );
}
