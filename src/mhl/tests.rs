//! Tests of the ASC MHL writer/reader on real folders made at test time.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use chrono::{TimeZone, Utc};

use super::*;
use crate::checksum::{AlgorithmSet, hash_file};

/// The tree `ascmhl create -h xxh64 -h md5` was run on to get the reference root hashes below.
fn make_card(parent: &Path) -> PathBuf {
    let root = parent.join("CARD01");
    std::fs::create_dir_all(root.join("CONTENTS/VIDEO")).unwrap();
    std::fs::create_dir_all(root.join("CONTENTS/AUDIO")).unwrap();
    std::fs::write(root.join("CONTENTS/VIDEO/A.MXF"), b"abc").unwrap();
    std::fs::write(root.join("CONTENTS/AUDIO/B.MXF"), b"").unwrap();
    std::fs::write(root.join("top.txt"), b"hello").unwrap();
    root
}

const FILES: [&str; 3] = ["CONTENTS/AUDIO/B.MXF", "CONTENTS/VIDEO/A.MXF", "top.txt"];

fn creator(second: u32) -> CreatorInfo {
    CreatorInfo {
        creation_date: Utc.with_ymd_and_hms(2026, 11, 22, 22, 1, second).unwrap(),
        hostname: "ingest-host".into(),
        tool_name: "card-ingest".into(),
        tool_version: "0.1.0".into(),
        author: Some(Author {
            name: "Dana DIT".into(),
            email: Some("dana@example.com".into()),
            phone: None,
            role: Some("DIT".into()),
        }),
        location: Some("Stage 4 & cart".into()),
        comment: None,
    }
}

fn hash_list(root: &Path, action: HashAction, second: u32) -> HashList {
    let files = FILES
        .iter()
        .map(|rel| {
            let p = root.join(rel);
            let h = hash_file(
                &p,
                AlgorithmSet::DEFAULT,
                &AtomicBool::new(false),
                &mut |_| {},
            )
            .unwrap();
            let date = Utc.with_ymd_and_hms(2026, 11, 22, 22, 1, second).unwrap();
            FileEntry {
                path: rel.to_string(),
                size_bytes: h.size_bytes,
                last_modified: Some(Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap()),
                hashes: vec![
                    HashRecord {
                        algorithm: Algorithm::Xxh64,
                        value: h.xxh64.unwrap(),
                        action,
                        hash_date: date,
                    },
                    HashRecord {
                        algorithm: Algorithm::Md5,
                        value: h.md5.unwrap(),
                        action,
                        hash_date: date,
                    },
                ],
            }
        })
        .collect();
    HashList {
        creator: creator(second),
        process: Process::InPlace,
        ignore_patterns: vec!["*.tmp".into()],
        files,
        empty_directories: Vec::new(),
    }
}

fn parse(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn root_and_directory_hashes_match_reference_tool() {
    let dir = tempfile::tempdir().unwrap();
    let root = make_card(dir.path());
    let generation = write_generation(&root, &hash_list(&root, HashAction::Original, 22)).unwrap();
    let xml = parse(&generation.path);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let roothash = doc
        .descendants()
        .find(|n| n.has_tag_name((HASHLIST_NS, "roothash")))
        .unwrap();
    let value = |part: &str, alg: &str| {
        roothash
            .children()
            .find(|n| n.has_tag_name(part))
            .unwrap()
            .children()
            .find(|n| n.has_tag_name(alg))
            .unwrap()
            .text()
            .unwrap()
            .to_string()
    };
    // Values produced by `ascmhl create -h xxh64 -h md5` (ascmhl 1.2) on the same tree.
    assert_eq!(value("content", "xxh64"), "cfe6aaea22581f13");
    assert_eq!(value("structure", "xxh64"), "70d3b73a96e2d24d");
    assert_eq!(value("content", "md5"), "d44b57c0ee89e3ded4e0e47c3f8316fd");
    assert_eq!(
        value("structure", "md5"),
        "a310298d8e81f2dbe4720b419e3ca5d7"
    );

    let audio = doc
        .descendants()
        .filter(|n| n.has_tag_name("directoryhash"))
        .find(|n| {
            n.children()
                .any(|c| c.has_tag_name("path") && c.text() == Some("CONTENTS/AUDIO"))
        })
        .unwrap();
    let xxh: Vec<&str> = audio
        .descendants()
        .filter(|n| n.has_tag_name("xxh64"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(xxh, vec!["f1d7771e64cb3720", "5a19d92ace1f9af1"]);
}

#[test]
fn generation_xml_layout_and_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let root = make_card(dir.path());
    let list = hash_list(&root, HashAction::Original, 22);
    let generation = write_generation(&root, &list).unwrap();
    assert_eq!(generation.sequence, 1);
    assert_eq!(
        generation.path,
        root.join("ascmhl/0001_CARD01_2026-11-22_220122Z.mhl")
    );

    let xml = parse(&generation.path);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let top = doc.root_element();
    assert_eq!(top.tag_name().namespace(), Some(HASHLIST_NS));
    assert_eq!(top.attribute("version"), Some("2.0"));
    let texts = |name: &str| -> Vec<String> {
        doc.descendants()
            .filter(|n| n.has_tag_name(name))
            .map(|n| n.text().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(texts("creationdate"), vec!["2026-11-22T22:01:22+00:00"]);
    assert_eq!(texts("process"), vec!["in-place"]);
    assert_eq!(
        texts("pattern"),
        vec![".DS_Store", "ascmhl", "ascmhl/", "*.tmp"]
    );
    assert_eq!(texts("location"), vec!["Stage 4 & cart"]);
    let a_path = doc
        .descendants()
        .find(|n| n.has_tag_name("path") && n.text() == Some("CONTENTS/VIDEO/A.MXF"))
        .unwrap();
    assert_eq!(a_path.attribute("size"), Some("3"));
    assert_eq!(
        a_path.attribute("lastmodificationdate"),
        Some("2026-11-01T08:00:00+00:00")
    );
    let a_xxh = a_path
        .parent()
        .unwrap()
        .children()
        .find(|n| n.has_tag_name("xxh64"))
        .unwrap();
    assert_eq!(a_xxh.text(), Some("44bc2cf5ad770999"));
    assert_eq!(a_xxh.attribute("action"), Some("original"));
    assert_eq!(
        a_xxh.attribute("hashdate"),
        Some("2026-11-22T22:01:22.000000+00:00")
    );

    let history = read_history(&root).unwrap().unwrap();
    assert_eq!(history.generations.len(), 1);
    let back = history.latest().unwrap();
    assert_eq!(back.creator, list.creator);
    assert_eq!(back.process, Process::InPlace);
    assert_eq!(back.files, list.files);
}

#[test]
fn second_generation_appends_to_chain_with_c4() {
    let dir = tempfile::tempdir().unwrap();
    let root = make_card(dir.path());
    let first = write_generation(&root, &hash_list(&root, HashAction::Original, 22)).unwrap();
    let second = write_generation(&root, &hash_list(&root, HashAction::Verified, 40)).unwrap();
    assert_eq!(second.sequence, 2);
    assert_eq!(
        second.path.file_name().unwrap().to_str(),
        Some("0002_CARD01_2026-11-22_220140Z.mhl")
    );

    let chain_xml = parse(&root.join("ascmhl/ascmhl_chain.xml"));
    let doc = roxmltree::Document::parse(&chain_xml).unwrap();
    assert_eq!(
        doc.root_element().tag_name().namespace(),
        Some(DIRECTORY_NS)
    );
    let entries: Vec<(String, String, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("hashlist"))
        .map(|n| {
            let t = |name| {
                n.children()
                    .find(|c| c.has_tag_name(name))
                    .and_then(|c| c.text())
                    .unwrap()
                    .to_string()
            };
            (
                n.attribute("sequencenr").unwrap().to_string(),
                t("path"),
                t("c4"),
            )
        })
        .collect();
    let c4_of_file = |p: &Path| {
        crate::checksum::hash_bytes(&std::fs::read(p).unwrap(), AlgorithmSet::ALL)
            .c4
            .unwrap()
    };
    assert_eq!(
        entries,
        vec![
            (
                "1".to_string(),
                "0001_CARD01_2026-11-22_220122Z.mhl".to_string(),
                c4_of_file(&first.path)
            ),
            (
                "2".to_string(),
                "0002_CARD01_2026-11-22_220140Z.mhl".to_string(),
                c4_of_file(&second.path)
            ),
        ]
    );
    assert_eq!(second.c4, entries[1].2);

    let history = read_history(&root).unwrap().unwrap();
    assert_eq!(history.generations.len(), 2);
    let known = history.known_files();
    assert_eq!(known.keys().map(String::as_str).collect::<Vec<_>>(), FILES);
    assert_eq!(
        known["top.txt"].hashes[0].action,
        HashAction::Verified,
        "latest generation wins"
    );
    assert_eq!(
        known["top.txt"].value(Algorithm::Xxh64),
        Some("26c7827d889f6da3")
    );
}

#[test]
fn modified_generation_breaks_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let root = make_card(dir.path());
    let generation = write_generation(&root, &hash_list(&root, HashAction::Original, 22)).unwrap();
    let xml = parse(&generation.path).replace("44bc2cf5ad770999", "0000000000000000");
    std::fs::write(&generation.path, xml).unwrap();
    match read_history(&root) {
        Err(MhlError::ChainMismatch { path, expected, .. }) => {
            assert_eq!(path, generation.path);
            assert_eq!(expected, generation.c4);
        }
        other => panic!("expected ChainMismatch, got {other:?}"),
    }
    // Appending to a broken history is refused too.
    assert!(matches!(
        write_generation(&root, &hash_list(&root, HashAction::Verified, 30)),
        Err(MhlError::ChainMismatch { .. })
    ));
}

#[test]
fn no_history_reads_as_none_and_bad_paths_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let root = make_card(dir.path());
    assert!(read_history(&root).unwrap().is_none());
    let mut list = hash_list(&root, HashAction::Original, 22);
    list.files[0].path = "../escape.mxf".into();
    match write_generation(&root, &list) {
        Err(MhlError::BadEntryPath { path }) => assert_eq!(path, "../escape.mxf"),
        other => panic!("expected BadEntryPath, got {other:?}"),
    }
    assert!(!root.join(ASCMHL_FOLDER).exists(), "nothing written");
}

#[test]
fn record_without_action_is_invalid() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0">
  <creatorinfo><creationdate>2026-11-22T22:01:22+00:00</creationdate><hostname>h</hostname><tool version="1">t</tool></creatorinfo>
  <processinfo><process>in-place</process></processinfo>
  <hashes><hash><path size="3">a.mxf</path><xxh64 hashdate="2026-11-22T22:01:22+00:00">44bc2cf5ad770999</xxh64></hash></hashes>
</hashlist>"#;
    let err = reader::parse_hashlist(Path::new("x.mhl"), xml).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid MHL XML in x.mhl: <xxh64> of a.mxf has no action"
    );
}

/// Independent check with the reference implementation (ascmhl 1.2 has `verify` only in its
/// `ascmhl-debug` tool; `ascmhl create` re-hashes and fails on a mismatch with the history).
/// Install it with `python3 -m venv target/ascmhl-venv && target/ascmhl-venv/bin/pip install
/// ascmhl==1.2` (what `.ci/setup` does), or point `ASCMHL_BIN` at another install. Without either
/// the test fails (CI must install it); `cargo test -- --skip ascmhl_reference` leaves it out.
#[test]
fn ascmhl_reference_verifies_our_generations() {
    let bin = crate::test_peer("ASCMHL_BIN", "target/ascmhl-venv/bin/ascmhl");
    let debug_bin = bin.with_file_name("ascmhl-debug");
    let dir = tempfile::tempdir().unwrap();
    let root = make_card(dir.path());
    write_generation(&root, &hash_list(&root, HashAction::Original, 22)).unwrap();
    write_generation(&root, &hash_list(&root, HashAction::Verified, 40)).unwrap();
    let run = |bin: &Path, args: &[&str]| {
        let out = std::process::Command::new(bin)
            .args(args)
            .arg(&root)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (code, out) = run(&debug_bin, &["verify"]);
    assert_eq!(code, Some(0), "ascmhl-debug verify failed:\n{out}");
    let (code, out) = run(&debug_bin, &["verify", "-dh"]);
    assert_eq!(
        code,
        Some(0),
        "ascmhl-debug verify -dh (directory hashes) failed:\n{out}"
    );
    let (code, out) = run(&bin, &["diff"]);
    assert_eq!(code, Some(0), "ascmhl diff failed:\n{out}");
    // The reference tool appends generation 3 to our chain; we must read its output back.
    let (code, out) = run(&bin, &["create", "-h", "xxh64"]);
    assert_eq!(code, Some(0), "ascmhl create failed:\n{out}");
    let history = read_history(&root).unwrap().unwrap();
    assert_eq!(history.generations.len(), 3);
    let third = history.latest().unwrap();
    assert_eq!(third.creator.tool_name, "ascmhl");
    let top = third.files.iter().find(|f| f.path == "top.txt").unwrap();
    assert_eq!(top.hashes[0].action, HashAction::Verified);
    assert_eq!(top.value(Algorithm::Xxh64), Some("26c7827d889f6da3"));
    // Corrupt a file: the reference tool must now fail.
    std::fs::write(root.join("top.txt"), b"HELLO").unwrap();
    let (code, out) = run(&debug_bin, &["verify"]);
    assert_ne!(
        code,
        Some(0),
        "ascmhl-debug verify must fail after corruption:\n{out}"
    );
    assert!(out.contains("top.txt"), "{out}");
}

/// A generation where one file has only `failed` records has no folder hashes; every file is
/// still listed, also those in folders below a folder that holds no file itself (`CONTENTS`).
#[test]
fn a_generation_without_folder_hashes_still_lists_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = make_card(dir.path());
    let mut list = hash_list(&root, HashAction::Verified, 0);
    for h in &mut list.files[1].hashes {
        h.action = HashAction::Failed;
    }
    let generation = write_generation(&root, &list).unwrap();
    let history = read_history(&root).unwrap().unwrap();
    let paths: Vec<&str> = history
        .latest()
        .unwrap()
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    let mut expected = FILES.to_vec();
    expected.sort();
    let mut got = paths.clone();
    got.sort();
    assert_eq!(got, expected, "{}", parse(&generation.path));
    assert!(!parse(&generation.path).contains("<roothash>"));
}
