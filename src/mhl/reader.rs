//! Parses `.mhl` generations and `ascmhl_chain.xml` (roxmltree, namespace-aware by local name).
//!
//! Hash records of algorithms [`crate::checksum`] does not compute (sha1, xxh3, xxh128, …) are
//! skipped with a debug log: card-ingest can only re-verify what it can re-hash.

use std::path::Path;

use chrono::{DateTime, Utc};
use roxmltree::{Document, Node};

use crate::checksum::Algorithm;

use super::history::ChainEntry;
use super::{Author, CreatorInfo, FileEntry, HashAction, HashList, HashRecord, MhlError, Process};

pub(super) fn parse_hashlist(path: &Path, xml: &str) -> Result<HashList, MhlError> {
    let invalid = |message: String| MhlError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let doc = Document::parse(xml).map_err(|e| invalid(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "hashlist" {
        return Err(invalid(format!(
            "root element is <{}>, expected <hashlist>",
            root.tag_name().name()
        )));
    }
    let creator_el =
        child(root, "creatorinfo").ok_or_else(|| invalid("no <creatorinfo>".into()))?;
    let creation = child_text(creator_el, "creationdate")
        .ok_or_else(|| invalid("no <creationdate>".into()))?;
    let tool = child(creator_el, "tool");
    let creator = CreatorInfo {
        creation_date: parse_date(creation).map_err(|m| invalid(format!("creationdate: {m}")))?,
        hostname: child_text(creator_el, "hostname")
            .unwrap_or_default()
            .to_owned(),
        tool_name: tool
            .and_then(|t| t.text())
            .unwrap_or_default()
            .trim()
            .to_owned(),
        tool_version: tool
            .and_then(|t| t.attribute("version"))
            .unwrap_or_default()
            .to_owned(),
        author: child(creator_el, "author").map(|a| Author {
            name: a.text().unwrap_or_default().trim().to_owned(),
            email: a.attribute("email").map(str::to_owned),
            phone: a.attribute("phone").map(str::to_owned),
            role: a.attribute("role").map(str::to_owned),
        }),
        location: child_text(creator_el, "location").map(str::to_owned),
        comment: child_text(creator_el, "comment").map(str::to_owned),
    };
    let process_el =
        child(root, "processinfo").ok_or_else(|| invalid("no <processinfo>".into()))?;
    let process_text = child_text(process_el, "process").unwrap_or("in-place");
    let process = Process::parse(process_text)
        .ok_or_else(|| invalid(format!("unknown <process> {process_text:?}")))?;
    let ignore_patterns = child(process_el, "ignore")
        .map(|i| {
            i.children()
                .filter(|n| n.tag_name().name() == "pattern")
                .filter_map(|n| n.text())
                .map(|t| t.trim().to_owned())
                .collect()
        })
        .unwrap_or_default();

    let mut files = Vec::new();
    if let Some(hashes) = child(root, "hashes") {
        for h in hashes.children().filter(|n| n.tag_name().name() == "hash") {
            files.push(parse_hash(h).map_err(invalid)?);
        }
    }
    Ok(HashList {
        creator,
        process,
        ignore_patterns,
        files,
        empty_directories: Vec::new(),
    })
}

fn parse_hash(h: Node) -> Result<FileEntry, String> {
    let line = h.document().text_pos_at(h.range().start).row;
    let path_el =
        child(h, "path").ok_or_else(|| format!("<hash> without <path> at line {line}"))?;
    let path = path_el.text().unwrap_or_default().trim().to_owned();
    // The reference tool omits `size` for empty files.
    let size_bytes = match path_el.attribute("size") {
        Some(s) => s
            .parse()
            .map_err(|_| format!("bad size {s:?} for {path}"))?,
        None => 0,
    };
    let last_modified = path_el
        .attribute("lastmodificationdate")
        .map(parse_date)
        .transpose()
        .map_err(|m| format!("lastmodificationdate of {path}: {m}"))?;
    let mut hashes = Vec::new();
    for el in h
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() != "path")
    {
        let name = el.tag_name().name();
        let Some(algorithm) = Algorithm::from_mhl_name(name) else {
            tracing::debug!(%path, algorithm = name, "skipping hash record of unsupported algorithm");
            continue;
        };
        // A record without action is invalid (ascmitc/mhl #114/#115: never assume "original").
        let action_text = el
            .attribute("action")
            .ok_or_else(|| format!("<{name}> of {path} has no action"))?;
        let action = HashAction::parse(action_text)
            .ok_or_else(|| format!("<{name}> of {path} has unknown action {action_text:?}"))?;
        let hash_date = match el.attribute("hashdate") {
            Some(d) => parse_date(d).map_err(|m| format!("hashdate of {path}: {m}"))?,
            None => DateTime::<Utc>::UNIX_EPOCH,
        };
        hashes.push(HashRecord {
            algorithm,
            value: el.text().unwrap_or_default().trim().to_owned(),
            action,
            hash_date,
        });
    }
    Ok(FileEntry {
        path,
        size_bytes,
        last_modified,
        hashes,
    })
}

pub(super) fn parse_chain(path: &Path, xml: &str) -> Result<Vec<ChainEntry>, MhlError> {
    let invalid = |message: String| MhlError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let doc = Document::parse(xml).map_err(|e| invalid(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "ascmhldirectory" {
        return Err(invalid(format!(
            "root element is <{}>, expected <ascmhldirectory>",
            root.tag_name().name()
        )));
    }
    let mut entries = Vec::new();
    for h in root
        .children()
        .filter(|n| n.tag_name().name() == "hashlist")
    {
        let seq_text = h.attribute("sequencenr").unwrap_or_default();
        let sequence = seq_text
            .parse()
            .map_err(|_| invalid(format!("bad sequencenr {seq_text:?}")))?;
        let file_name = child_text(h, "path")
            .ok_or_else(|| invalid(format!("hashlist {sequence} has no <path>")))?
            .to_owned();
        let c4 = child_text(h, "c4")
            .ok_or_else(|| {
                invalid(format!(
                    "hashlist {sequence} has no <c4> (the chain must use C4)"
                ))
            })?
            .to_owned();
        entries.push(ChainEntry {
            sequence,
            file_name,
            c4,
        });
    }
    Ok(entries)
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| n.tag_name().name() == name)
}

fn child_text<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    child(node, name).and_then(|n| n.text()).map(str::trim)
}

fn parse_date(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("{s:?}: {e}"))
}
