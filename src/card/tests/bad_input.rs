//! Bad input: empty folders, missing paths, unreadable entries (simulated with a dangling
//! symlink: as root, permission bits don't stop reads), symlink loops, FIFOs, names iconik can't
//! take, and a 10 000-file tree that must stay fast.

use super::*;
use crate::card::CardError;

#[test]
fn empty_folder_says_nothing_was_found() {
    let t = tmp();
    let e = t.path().join("empty");
    std::fs::create_dir(&e).expect("mkdir");
    let s = scan(&[&e]);
    assert!(s.clips.is_empty());
    assert!(s.cards.is_empty());
    assert_eq!(
        skipped(&s, t.path()),
        vec![(
            "empty".to_string(),
            "empty: no camera card or media files found here".to_string()
        )]
    );
}

#[test]
fn missing_path_is_not_found() {
    let t = tmp();
    let missing = t.path().join("nope");
    match scan_paths(std::slice::from_ref(&missing)) {
        Err(CardError::NotFound(p)) => assert_eq!(p, missing),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[cfg(unix)]
#[test]
fn dangling_symlink_loop_and_fifo_are_reported_without_hanging() {
    let t = tmp();
    let c = t.path().join("Loose");
    put(&c, "A.mov", b"x");
    std::os::unix::fs::symlink(c.join("gone.mov"), c.join("B.mov")).expect("symlink");
    std::fs::create_dir(c.join("sub")).expect("mkdir");
    std::os::unix::fs::symlink(&c, c.join("sub/loop")).expect("symlink loop");
    let fifo = c.join("pipe.wav");
    let st = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(st.success());
    let s = scan(&[&c]);
    assert_eq!(names(&s), vec!["A"]);
    let base = canon(&c);
    let mut errs: Vec<(String, bool)> = s
        .errors
        .iter()
        .map(|e| {
            let rel = e
                .path
                .strip_prefix(&base)
                .unwrap_or(&e.path)
                .to_string_lossy()
                .into_owned();
            let ok = match rel.as_str() {
                "B.mov" => {
                    e.message
                        == format!(
                            "broken link: points to {}, which does not exist; copy the real \
                             file from the card",
                            c.join("gone.mov").display()
                        )
                }
                "sub/loop" => e.message.starts_with("symbolic link loop: points back to "),
                _ => false,
            };
            (rel, ok)
        })
        .collect();
    errs.sort();
    assert_eq!(
        errs,
        vec![("B.mov".to_string(), true), ("sub/loop".to_string(), true)]
    );
    assert_eq!(
        skipped(&s, &c),
        vec![(
            "pipe.wav".to_string(),
            "not a regular file (FIFO, socket or device), not camera media".to_string()
        )]
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_name_is_an_error_and_unicode_works() {
    use std::os::unix::ffi::OsStrExt;
    let t = tmp();
    let c = t.path().join("Names");
    put(&c, "Straße_夜.mov", b"x");
    let bad = c.join(std::ffi::OsStr::from_bytes(b"bad\xff.mov"));
    std::fs::write(&bad, b"x").expect("write");
    let s = scan(&[&c]);
    assert_eq!(names(&s), vec!["Straße_夜"]);
    assert_eq!(s.errors.len(), 1);
    assert_eq!(
        s.errors[0].path,
        canon(&c).join(std::ffi::OsStr::from_bytes(b"bad\xff.mov"))
    );
    assert_eq!(
        s.errors[0].message,
        "name is not valid UTF-8: iconik can't take this name; rename it (and re-scan)"
    );
    // The report still serialises (lossy path).
    let json = serde_json::to_string(&s).expect("json");
    assert!(json.contains("bad\u{fffd}.mov"));
}

#[test]
fn folder_where_a_file_is_expected_does_not_count_as_the_file() {
    let t = tmp();
    let c = t.path().join("P2");
    put(
        &c,
        "CONTENTS/CLIP/0002EM.XML",
        super::p2::p2_xml("0002EM", &super::p2::gcid(2), 25, 0, None).as_bytes(),
    );
    std::fs::create_dir_all(c.join("CONTENTS/VIDEO/0002EM.MXF")).expect("mkdir");
    let s = scan(&[&c]);
    assert_eq!(names(&s), vec!["0002EM"]);
    assert_eq!(
        s.clips[0].incomplete.as_deref(),
        Some("video file CONTENTS/VIDEO/0002EM.MXF is missing: re-copy the card")
    );
    // The folder itself is named in the errors, not silently ignored.
    let folder = canon(&c).join("CONTENTS/VIDEO/0002EM.MXF");
    let hits: Vec<&str> = s
        .errors
        .iter()
        .filter(|e| e.path == folder)
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(
        hits,
        [
            "expected a file but found a folder named 0002EM.MXF: the card copy is damaged; \
          re-copy the card"
        ]
    );
}

#[test]
fn ten_thousand_files_scan_fast() {
    let t = tmp();
    let root = t.path().join("big");
    // A P2 card with 1 000 clips (XML + video + 2 audio + icon = 5 000 files) and 5 000 loose
    // GoPro-less MP4s in 50 folders: 10 000 files.
    let card = root.join("P2CARD");
    for i in 0..1000u32 {
        let name = format!("{i:04}AA");
        let xml = super::p2::p2_xml(&name, &format!("{:064X}", i + 1), 25, 2, None);
        super::p2::p2_clip(&card, &name, &xml, 2, false);
        put(&card, &format!("CONTENTS/ICON/{name}.BMP"), b"i");
    }
    for d in 0..50 {
        for f in 0..100 {
            put(&root, &format!("loose/D{d:02}/F{f:03}.MP4"), b"x");
        }
    }
    let start = std::time::Instant::now();
    let s = scan(&[&root]);
    let took = start.elapsed();
    eprintln!("10 000-file scan took {took:?}");
    assert_eq!(s.clips.len(), 1000 + 5000);
    assert_eq!(s.clips.iter().map(|c| c.files.len()).sum::<usize>(), 10_000);
    assert!(s.errors.is_empty());
    // Generous bound for a shared 2-core box; the measured figure is printed above.
    assert!(
        took < std::time::Duration::from_secs(10),
        "scan took {took:?}"
    );
}

#[test]
fn ten_thousand_frames_in_one_folder_scan_fast() {
    let t = tmp();
    let root = t.path().join("seq");
    for f in 0..10_000u32 {
        put(&root, &format!("shot.{:07}.dpx", 86_400 + f), b"x");
    }
    let start = std::time::Instant::now();
    let s = scan(&[&root]);
    let took = start.elapsed();
    eprintln!("10 000-frame flat folder scan took {took:?}");
    assert_eq!(names(&s), vec!["shot"]);
    assert_eq!(s.clips[0].files.len(), 10_000);
    assert!(s.clips[0].warnings.is_empty(), "{:?}", s.clips[0].warnings);
    assert!(
        took < std::time::Duration::from_secs(10),
        "scan took {took:?}"
    );
}
