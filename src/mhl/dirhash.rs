//! ASC MHL directory hashes (content + structure), computed like the reference implementation
//! (`ascmhl/hasher.py` `DirectoryHashContext` + `Hasher.hash_of_hash_list`, ascmhl 1.2):
//!
//! - **content** of a folder = H(concatenated raw digests of its children's content hashes, taken in
//!   lexicographic order of their formatted strings); a child folder contributes its content hash.
//! - **structure** of a folder = same over the children's *structure entries*, where a file's entry is
//!   H(name UTF-8 ‖ raw content digest) and a sub-folder's is H(name UTF-8 ‖ raw structure digest).
//! - An empty list hashes to H("") (the digest of no bytes).
//!
//! "Raw digest" is the hex decoded to bytes (xxh64, md5) or, for C4, the base58 value as 64
//! big-endian bytes. Verified against `ascmhl create` output in the tests of [`super`].

use std::collections::{BTreeMap, BTreeSet};

use crate::checksum::{Algorithm, AlgorithmSet, hash_bytes};

use super::MhlError;

/// Content and structure hash of one folder for one algorithm (formatted like file hashes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryHashes {
    pub content: String,
    pub structure: String,
}

/// Computes the hashes of every folder implied by `files` (relative `/` paths with their formatted
/// `algorithm` digest) plus `empty_directories`. Keys are relative folder paths; the root is `""`.
pub fn directory_hashes(
    files: &[(&str, &str)],
    empty_directories: &[String],
    algorithm: Algorithm,
) -> Result<BTreeMap<String, DirectoryHashes>, MhlError> {
    // children[dir] = (file name → content hash) and sub-folder names.
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    dirs.insert(String::new());
    let mut files_in: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (path, value) in files {
        let (parent, name) = split_parent(path);
        add_with_ancestors(&mut dirs, parent);
        files_in
            .entry(parent.to_owned())
            .or_default()
            .push((name.to_owned(), (*value).to_owned()));
    }
    for d in empty_directories {
        add_with_ancestors(&mut dirs, d.trim_end_matches('/'));
    }

    // Deepest first, so sub-folders are done before their parents.
    let mut order: Vec<&String> = dirs.iter().collect();
    order.sort_by_key(|d| std::cmp::Reverse(depth(d)));
    let mut done: BTreeMap<String, DirectoryHashes> = BTreeMap::new();
    for dir in order {
        let mut content = Vec::new();
        let mut structure = Vec::new();
        for (name, value) in files_in.get(dir.as_str()).into_iter().flatten() {
            content.push(value.clone());
            structure.push(named_hash(name, value, algorithm)?);
        }
        for sub in dirs.iter().filter(|d| is_child(dir, d)) {
            let hashes = done
                .get(sub.as_str())
                .ok_or_else(|| MhlError::BadEntryPath { path: sub.clone() })?;
            let (_, name) = split_parent(sub);
            content.push(hashes.content.clone());
            structure.push(named_hash(name, &hashes.structure, algorithm)?);
        }
        let entry = DirectoryHashes {
            content: hash_of_hash_list(content, algorithm)?,
            structure: hash_of_hash_list(structure, algorithm)?,
        };
        done.insert(dir.clone(), entry);
    }
    Ok(done)
}

fn split_parent(path: &str) -> (&str, &str) {
    match path.rsplit_once('/') {
        Some((parent, name)) => (parent, name),
        None => ("", path),
    }
}

fn depth(dir: &str) -> usize {
    if dir.is_empty() {
        0
    } else {
        dir.matches('/').count() + 1
    }
}

fn is_child(parent: &str, candidate: &str) -> bool {
    !candidate.is_empty() && candidate != parent && split_parent(candidate).0 == parent
}

fn add_with_ancestors(dirs: &mut BTreeSet<String>, dir: &str) {
    let mut current = dir;
    while !current.is_empty() && dirs.insert(current.to_owned()) {
        current = split_parent(current).0;
    }
}

fn hash_formatted(bytes: &[u8], algorithm: Algorithm) -> String {
    let hashes = hash_bytes(bytes, AlgorithmSet::EMPTY.with(algorithm));
    hashes.get(algorithm).unwrap_or_default().to_owned()
}

fn named_hash(name: &str, value: &str, algorithm: Algorithm) -> Result<String, MhlError> {
    let mut data = name.as_bytes().to_vec();
    data.extend(raw_digest(value, algorithm)?);
    Ok(hash_formatted(&data, algorithm))
}

fn hash_of_hash_list(mut list: Vec<String>, algorithm: Algorithm) -> Result<String, MhlError> {
    list.sort();
    let mut data = Vec::new();
    for value in &list {
        data.extend(raw_digest(value, algorithm)?);
    }
    Ok(hash_formatted(&data, algorithm))
}

/// The digest bytes behind a formatted hash string.
fn raw_digest(value: &str, algorithm: Algorithm) -> Result<Vec<u8>, MhlError> {
    let bad = || MhlError::Invalid {
        path: Default::default(),
        message: format!("malformed {algorithm} hash {value:?}"),
    };
    match algorithm {
        Algorithm::Xxh64 | Algorithm::Md5 => {
            if !value.len().is_multiple_of(2) {
                return Err(bad());
            }
            (0..value.len())
                .step_by(2)
                .map(|i| {
                    value
                        .get(i..i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .ok_or_else(bad)
                })
                .collect()
        }
        Algorithm::C4 => {
            let digits = value.strip_prefix("c4").ok_or_else(bad)?;
            let decoded = bs58::decode(digits).into_vec().map_err(|_| bad())?;
            // The padding '1's decode to leading zero bytes: keep the low 64 bytes.
            let mut out = vec![0u8; 64];
            let n = decoded.len().min(64);
            out[64 - n..].copy_from_slice(&decoded[decoded.len() - n..]);
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c4_raw_digest_round_trips() {
        let h = hash_bytes(b"abc", AlgorithmSet::ALL);
        let c4 = h.c4.unwrap();
        let raw = raw_digest(&c4, Algorithm::C4).unwrap();
        assert_eq!(raw.len(), 64);
        assert_eq!(crate::checksum::c4_from_sha512(&raw), c4);
    }

    #[test]
    fn empty_root_hashes_to_digest_of_nothing() {
        let map = directory_hashes(&[], &[], Algorithm::Xxh64).unwrap();
        assert_eq!(map.len(), 1);
        assert_eq!(map[""].content, "ef46db3751d8e999");
        assert_eq!(map[""].structure, "ef46db3751d8e999");
    }
}
