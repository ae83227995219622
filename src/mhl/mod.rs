//! ASC MHL v2.0 manifests: write a new generation into `<root>/ascmhl/`, keep the chain file
//! current, and read an existing history back for verification.
//!
//! Layout (reference: PyPI `ascmhl` 1.2 / `ascmitc/mhl`, `camera-cards.md` §8):
//! - `<root>/ascmhl/NNNN_<rootname>_<YYYY-MM-DD>_<HHMMSS>Z.mhl`, one per generation, namespace
//!   `urn:ASC:MHL:v2.0`: creator info, process info (process type, root hash, ignore patterns),
//!   one `<hash>` per file and one `<directoryhash>` per folder.
//! - `<root>/ascmhl/ascmhl_chain.xml`, namespace `urn:ASC:MHL:DIRECTORY:v2.0`: one `<hashlist
//!   sequencenr="N">` per generation with the `.mhl` file name and its **C4** (the reference only
//!   accepts C4 here, `ascmitc/mhl` #136).
//!
//! Directory hashes follow the reference implementation (`ascmhl/hasher.py`,
//! `DirectoryHashContext`); see [`directory_hashes`]. Times are written in UTC (`+00:00`).
//!
//! This module only does XML and files; hashing file contents is [`crate::checksum`]'s job.

mod dirhash;
mod history;
mod reader;
mod writer;

pub use dirhash::{DirectoryHashes, directory_hashes};
pub use history::{ChainEntry, Generation, History, read_chain, read_history, write_generation};

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::checksum::Algorithm;

/// Name of the history folder inside a root.
pub const ASCMHL_FOLDER: &str = "ascmhl";
/// Name of the chain file inside [`ASCMHL_FOLDER`].
pub const CHAIN_FILE: &str = "ascmhl_chain.xml";
/// Namespace of `.mhl` files.
pub const HASHLIST_NS: &str = "urn:ASC:MHL:v2.0";
/// Namespace of the chain file.
pub const DIRECTORY_NS: &str = "urn:ASC:MHL:DIRECTORY:v2.0";
/// The reference tool's default ignore patterns; always written so `ascmhl verify` agrees.
pub const DEFAULT_IGNORE: [&str; 3] = [".DS_Store", "ascmhl", "ascmhl/"];

/// How the files of a generation came to be where they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    /// Hashed where they lie (e.g. sealing a card).
    InPlace,
    /// Copied from another location (offload).
    Transfer,
    /// Flattened copy (not produced by card-ingest; parsed for completeness).
    Flatten,
}

impl Process {
    /// The `<process>` element text.
    pub fn as_str(self) -> &'static str {
        match self {
            Process::InPlace => "in-place",
            Process::Transfer => "transfer",
            Process::Flatten => "flatten",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Process::InPlace, Process::Transfer, Process::Flatten]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// What a hash record says about the file at the time of the generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAction {
    /// First time this hash was recorded for the file.
    Original,
    /// Re-computed and equal to an earlier record.
    Verified,
    /// Re-computed and different from an earlier record.
    Failed,
}

impl HashAction {
    /// The `action` attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            HashAction::Original => "original",
            HashAction::Verified => "verified",
            HashAction::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            HashAction::Original,
            HashAction::Verified,
            HashAction::Failed,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// `<author>` of the creator info.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Author {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Option<String>,
}

/// `<creatorinfo>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorInfo {
    /// Also names the `.mhl` file (`…_<YYYY-MM-DD>_<HHMMSS>Z.mhl`).
    pub creation_date: DateTime<Utc>,
    pub hostname: String,
    pub tool_name: String,
    pub tool_version: String,
    pub author: Option<Author>,
    pub location: Option<String>,
    pub comment: Option<String>,
}

impl CreatorInfo {
    /// Creator info for card-ingest on this machine, now.
    pub fn this_tool() -> Self {
        Self {
            creation_date: Utc::now(),
            hostname: gethostname::gethostname().to_string_lossy().into_owned(),
            tool_name: env!("CARGO_PKG_NAME").to_owned(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            author: None,
            location: None,
            comment: None,
        }
    }
}

/// One algorithm's record in a `<hash>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashRecord {
    pub algorithm: Algorithm,
    /// Formatted as [`crate::checksum`] does (xxh64 `{:016x}`, md5 hex, c4 ID).
    pub value: String,
    pub action: HashAction,
    pub hash_date: DateTime<Utc>,
}

/// One `<hash>` element: a file relative to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Relative path with `/` separators, e.g. `CONTENTS/VIDEO/0001AB.MXF`.
    pub path: String,
    pub size_bytes: u64,
    pub last_modified: Option<DateTime<Utc>>,
    pub hashes: Vec<HashRecord>,
}

impl FileEntry {
    /// The value of the first record for `algorithm` that is not `failed`.
    pub fn value(&self, algorithm: Algorithm) -> Option<&str> {
        self.hashes
            .iter()
            .find(|h| h.algorithm == algorithm && h.action != HashAction::Failed)
            .map(|h| h.value.as_str())
    }
}

/// The content of one generation (`.mhl` file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashList {
    pub creator: CreatorInfo,
    pub process: Process,
    /// Written after [`DEFAULT_IGNORE`] (duplicates removed).
    pub ignore_patterns: Vec<String>,
    pub files: Vec<FileEntry>,
    /// Folders (relative, `/`) that must appear even without files in them (empty folders on the
    /// card), so the root hash matches the reference tool's. Folders holding files are implied.
    pub empty_directories: Vec<String>,
}

/// Errors of ASC MHL reading and writing; each names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum MhlError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid MHL XML in {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(
        "ASC MHL chain mismatch: {path} has C4 {actual}, the chain records {expected} (file modified after it was written)"
    )]
    ChainMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("ASC MHL chain lists {path}, but the file is missing")]
    MissingGeneration { path: PathBuf },
    #[error(
        "invalid relative path {path:?} for an MHL entry (must be relative, '/'-separated, without '..')"
    )]
    BadEntryPath { path: String },
    #[error("cannot name an MHL generation after root folder {path} (it has no name)")]
    UnnamedRoot { path: PathBuf },
}

#[cfg(test)]
mod tests;
