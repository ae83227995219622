//! Serialises a [`HashList`] to `.mhl` XML and the chain to `ascmhl_chain.xml` with quick-xml,
//! in the element order of the reference tool (post-order: a folder's files, then the folder).

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::checksum::Algorithm;

use super::dirhash::DirectoryHashes;
use super::history::ChainEntry;
use super::{DEFAULT_IGNORE, DIRECTORY_NS, FileEntry, HASHLIST_NS, HashList};

type XmlWriter = Writer<Vec<u8>>;

/// Directory hashes per algorithm, keyed by relative folder path (`""` = root).
pub(super) type DirHashTable = Vec<(Algorithm, BTreeMap<String, DirectoryHashes>)>;

/// `creationdate` / `lastmodificationdate`: seconds, `+00:00` (like Python's `isoformat()`).
pub(super) fn date_secs(d: &DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// `hashdate`: microseconds, `+00:00`.
pub(super) fn date_micros(d: &DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Micros, false)
}

pub(super) fn render_hashlist(
    list: &HashList,
    dir_hashes: &DirHashTable,
    dir_modified: &BTreeMap<String, DateTime<Utc>>,
) -> io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("hashlist")
        .with_attribute(("version", "2.0"))
        .with_attribute(("xmlns", HASHLIST_NS))
        .write_inner_content(|w| {
            creator_info(w, list)?;
            process_info(w, list, dir_hashes)?;
            w.create_element("hashes")
                .write_inner_content(|w| hashes(w, list, dir_hashes, dir_modified))?;
            Ok(())
        })?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

fn creator_info(w: &mut XmlWriter, list: &HashList) -> io::Result<()> {
    let c = &list.creator;
    w.create_element("creatorinfo").write_inner_content(|w| {
        text(w, "creationdate", &date_secs(&c.creation_date))?;
        text(w, "hostname", &c.hostname)?;
        w.create_element("tool")
            .with_attribute(("version", c.tool_version.as_str()))
            .write_text_content(BytesText::new(&c.tool_name))?;
        if let Some(a) = &c.author {
            let mut el = w.create_element("author");
            for (key, value) in [("role", &a.role), ("email", &a.email), ("phone", &a.phone)] {
                if let Some(v) = value {
                    el = el.with_attribute((key, v.as_str()));
                }
            }
            el.write_text_content(BytesText::new(&a.name))?;
        }
        if let Some(l) = &c.location {
            text(w, "location", l)?;
        }
        if let Some(comment) = &c.comment {
            text(w, "comment", comment)?;
        }
        Ok(())
    })?;
    Ok(())
}

fn process_info(w: &mut XmlWriter, list: &HashList, dir_hashes: &DirHashTable) -> io::Result<()> {
    w.create_element("processinfo").write_inner_content(|w| {
        text(w, "process", list.process.as_str())?;
        let hash_date = date_micros(&list.creator.creation_date);
        if dir_hashes.iter().any(|(_, t)| t.contains_key("")) {
            w.create_element("roothash")
                .write_inner_content(|w| content_structure(w, dir_hashes, "", &hash_date))?;
        }
        w.create_element("ignore").write_inner_content(|w| {
            let mut seen = BTreeSet::new();
            let patterns = DEFAULT_IGNORE
                .iter()
                .map(|p| p.to_string())
                .chain(list.ignore_patterns.iter().cloned());
            for p in patterns {
                if seen.insert(p.clone()) {
                    text(w, "pattern", &p)?;
                }
            }
            Ok(())
        })?;
        Ok(())
    })?;
    Ok(())
}

fn content_structure(
    w: &mut XmlWriter,
    dir_hashes: &DirHashTable,
    dir: &str,
    hash_date: &str,
) -> io::Result<()> {
    for (part, pick) in [
        (
            "content",
            (|h: &DirectoryHashes| h.content.clone()) as fn(&DirectoryHashes) -> String,
        ),
        ("structure", |h: &DirectoryHashes| h.structure.clone()),
    ] {
        w.create_element(part).write_inner_content(|w| {
            for (algorithm, table) in dir_hashes {
                if let Some(h) = table.get(dir) {
                    w.create_element(algorithm.mhl_name())
                        .with_attribute(("hashdate", hash_date))
                        .write_text_content(BytesText::new(&pick(h)))?;
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn hashes(
    w: &mut XmlWriter,
    list: &HashList,
    dir_hashes: &DirHashTable,
    dir_modified: &BTreeMap<String, DateTime<Utc>>,
) -> io::Result<()> {
    // Group files by folder; folders come from the directory hash table (or from the files when
    // no directory hashes could be computed).
    let mut by_dir: BTreeMap<&str, Vec<&FileEntry>> = BTreeMap::new();
    for f in &list.files {
        let parent = f.path.rsplit_once('/').map_or("", |(p, _)| p);
        by_dir.entry(parent).or_default().push(f);
    }
    let mut dirs: BTreeSet<String> = dir_hashes
        .first()
        .map(|(_, t)| t.keys().cloned().collect())
        .unwrap_or_default();
    // Every ancestor too: without directory hashes (a file with only `failed` records) the
    // folders come from the files alone, and a folder holding only folders (`CONTENTS`) must
    // still be walked, or its files would be left out of the list.
    for d in by_dir.keys() {
        let mut d = *d;
        while !d.is_empty() {
            dirs.insert(d.to_owned());
            d = d.rsplit_once('/').map_or("", |(p, _)| p);
        }
    }
    dirs.insert(String::new());
    let hash_date = date_micros(&list.creator.creation_date);
    emit_dir(w, "", &dirs, &by_dir, dir_hashes, dir_modified, &hash_date)
}

fn emit_dir(
    w: &mut XmlWriter,
    dir: &str,
    dirs: &BTreeSet<String>,
    by_dir: &BTreeMap<&str, Vec<&FileEntry>>,
    dir_hashes: &DirHashTable,
    dir_modified: &BTreeMap<String, DateTime<Utc>>,
    hash_date: &str,
) -> io::Result<()> {
    let children = dirs.iter().filter(|d| {
        !d.is_empty() && d.as_str() != dir && d.rsplit_once('/').map_or("", |(p, _)| p) == dir
    });
    for sub in children {
        emit_dir(w, sub, dirs, by_dir, dir_hashes, dir_modified, hash_date)?;
    }
    let mut files = by_dir.get(dir).cloned().unwrap_or_default();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    for f in files {
        w.create_element("hash").write_inner_content(|w| {
            let size = f.size_bytes.to_string();
            let mut p = w
                .create_element("path")
                .with_attribute(("size", size.as_str()));
            let modified = f.last_modified.as_ref().map(date_secs);
            if let Some(m) = &modified {
                p = p.with_attribute(("lastmodificationdate", m.as_str()));
            }
            p.write_text_content(BytesText::new(&f.path))?;
            for h in &f.hashes {
                w.create_element(h.algorithm.mhl_name())
                    .with_attribute(("action", h.action.as_str()))
                    .with_attribute(("hashdate", date_micros(&h.hash_date).as_str()))
                    .write_text_content(BytesText::new(&h.value))?;
            }
            Ok(())
        })?;
    }
    if !dir.is_empty() && dir_hashes.iter().any(|(_, t)| t.contains_key(dir)) {
        w.create_element("directoryhash").write_inner_content(|w| {
            let mut p = w.create_element("path");
            let modified = dir_modified.get(dir).map(date_secs);
            if let Some(m) = &modified {
                p = p.with_attribute(("lastmodificationdate", m.as_str()));
            }
            p.write_text_content(BytesText::new(dir))?;
            content_structure(w, dir_hashes, dir, hash_date)
        })?;
    }
    Ok(())
}

fn text(w: &mut XmlWriter, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(value))?;
    Ok(())
}

pub(super) fn render_chain(entries: &[ChainEntry]) -> io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("ascmhldirectory")
        .with_attribute(("xmlns", DIRECTORY_NS))
        .write_inner_content(|w| {
            for e in entries {
                let seq = e.sequence.to_string();
                w.create_element("hashlist")
                    .with_attribute(("sequencenr", seq.as_str()))
                    .write_inner_content(|w| {
                        text(w, "path", &e.file_name)?;
                        text(w, "c4", &e.c4)
                    })?;
            }
            Ok(())
        })?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}
