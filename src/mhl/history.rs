//! The `ascmhl/` folder of a root: read all generations (checking each against the chain's C4),
//! and append a new generation plus its chain entry.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::atomic_write;
use crate::checksum::{Algorithm, AlgorithmSet, hash_bytes};

use super::dirhash::directory_hashes;
use super::writer::{DirHashTable, render_chain, render_hashlist};
use super::{ASCMHL_FOLDER, CHAIN_FILE, FileEntry, HashList, MhlError, reader};

/// One `<hashlist>` of `ascmhl_chain.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEntry {
    /// Generation number, 1-based.
    pub sequence: u32,
    /// File name of the `.mhl` inside `ascmhl/`.
    pub file_name: String,
    /// C4 ID of the `.mhl` file's bytes.
    pub c4: String,
}

/// A generation written by [`write_generation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub sequence: u32,
    /// Full path of the new `.mhl` file.
    pub path: PathBuf,
    /// C4 ID of the new `.mhl` file, as recorded in the chain.
    pub c4: String,
}

/// All generations of a root, oldest first, each checked against the chain.
#[derive(Debug, Clone)]
pub struct History {
    pub root: PathBuf,
    pub generations: Vec<(ChainEntry, HashList)>,
}

impl History {
    /// The newest generation.
    pub fn latest(&self) -> Option<&HashList> {
        self.generations.last().map(|(_, list)| list)
    }

    /// Path → entry over all generations, a later generation replacing an earlier entry for the
    /// same path (generations may record only some files).
    pub fn known_files(&self) -> BTreeMap<String, FileEntry> {
        let mut map = BTreeMap::new();
        for (_, list) in &self.generations {
            for f in &list.files {
                map.insert(f.path.clone(), f.clone());
            }
        }
        map
    }

    fn next_sequence(&self) -> u32 {
        self.generations
            .iter()
            .map(|(e, _)| e.sequence)
            .max()
            .unwrap_or(0)
            + 1
    }
}

/// Reads a chain file (`ascmhl_chain.xml`) on its own.
pub fn read_chain(path: &Path) -> Result<Vec<ChainEntry>, MhlError> {
    let xml = std::fs::read_to_string(path).map_err(|source| MhlError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    reader::parse_chain(path, &xml)
}

/// Reads `<root>/ascmhl/`. `Ok(None)` when there is no chain file (no history yet). Fails when a
/// generation listed in the chain is missing, unparsable, or its C4 differs from the chain's.
pub fn read_history(root: &Path) -> Result<Option<History>, MhlError> {
    let folder = root.join(ASCMHL_FOLDER);
    let chain_path = folder.join(CHAIN_FILE);
    let chain_xml = match std::fs::read_to_string(&chain_path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(MhlError::Read {
                path: chain_path,
                source,
            });
        }
    };
    let chain = reader::parse_chain(&chain_path, &chain_xml)?;
    let mut generations = Vec::with_capacity(chain.len());
    for entry in chain {
        let path = folder.join(&entry.file_name);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(MhlError::MissingGeneration { path });
            }
            Err(source) => return Err(MhlError::Read { path, source }),
        };
        let actual = c4_of(&bytes);
        if actual != entry.c4 {
            return Err(MhlError::ChainMismatch {
                path,
                expected: entry.c4,
                actual,
            });
        }
        let xml = String::from_utf8(bytes).map_err(|e| MhlError::Invalid {
            path: path.clone(),
            message: format!("not UTF-8: {e}"),
        })?;
        let list = reader::parse_hashlist(&path, &xml)?;
        generations.push((entry, list));
    }
    Ok(Some(History {
        root: root.to_path_buf(),
        generations,
    }))
}

/// Writes `list` as the next generation of `<root>/ascmhl/` and appends it to the chain.
///
/// Directory hashes (and the root hash) are computed for every algorithm that all files carry;
/// folder modification times are read from `root`. The `.mhl` is created new (never overwritten)
/// and fsynced; the chain is replaced atomically afterwards, so a crash in between leaves an
/// unchained `.mhl` that the next generation simply numbers past.
pub fn write_generation(root: &Path, list: &HashList) -> Result<Generation, MhlError> {
    for f in &list.files {
        check_entry_path(&f.path)?;
    }
    for d in &list.empty_directories {
        check_entry_path(d)?;
    }
    let root_name = root_name(root)?;
    let history = read_history(root)?;
    let folder = root.join(ASCMHL_FOLDER);
    let sequence = history
        .as_ref()
        .map_or(1, History::next_sequence)
        .max(highest_file_sequence(&folder) + 1);

    let dir_hashes = compute_dir_hashes(list)?;
    let dir_modified = dir_hashes
        .first()
        .map(|(_, table)| {
            table
                .keys()
                .filter_map(|d| {
                    let meta = std::fs::metadata(root.join(d)).ok()?;
                    Some((d.clone(), DateTime::<Utc>::from(meta.modified().ok()?)))
                })
                .collect()
        })
        .unwrap_or_default();
    let xml =
        render_hashlist(list, &dir_hashes, &dir_modified).map_err(|source| MhlError::Write {
            path: folder.clone(),
            source,
        })?;

    std::fs::create_dir_all(&folder).map_err(|source| MhlError::Write {
        path: folder.clone(),
        source,
    })?;
    let file_name = format!(
        "{sequence:04}_{root_name}_{}Z.mhl",
        list.creator.creation_date.format("%Y-%m-%d_%H%M%S")
    );
    let path = folder.join(&file_name);
    write_new(&path, &xml)?;
    let c4 = c4_of(&xml);

    let mut chain: Vec<ChainEntry> = history
        .map(|h| h.generations.into_iter().map(|(e, _)| e).collect())
        .unwrap_or_default();
    chain.push(ChainEntry {
        sequence,
        file_name,
        c4: c4.clone(),
    });
    let chain_path = folder.join(CHAIN_FILE);
    let chain_xml = render_chain(&chain).map_err(|source| MhlError::Write {
        path: chain_path.clone(),
        source,
    })?;
    atomic_write::write_atomic(&chain_path, &chain_xml).map_err(|source| MhlError::Write {
        path: chain_path,
        source,
    })?;
    tracing::debug!(path = %path.display(), sequence, "wrote ASC MHL generation");
    Ok(Generation { sequence, path, c4 })
}

fn c4_of(bytes: &[u8]) -> String {
    hash_bytes(bytes, AlgorithmSet::EMPTY.with(Algorithm::C4))
        .c4
        .unwrap_or_default()
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), MhlError> {
    let write_err = |source| MhlError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(write_err)?;
    f.write_all(bytes).map_err(write_err)?;
    f.sync_all().map_err(write_err)
}

/// Algorithms present (not failed) in every file, each with its folder hash table.
fn compute_dir_hashes(list: &HashList) -> Result<DirHashTable, MhlError> {
    let mut table = Vec::new();
    for algorithm in Algorithm::ALL {
        let values: Option<Vec<(&str, &str)>> = list
            .files
            .iter()
            .map(|f| f.value(algorithm).map(|v| (f.path.as_str(), v)))
            .collect();
        let Some(values) = values else { continue };
        if list.files.is_empty() && algorithm != Algorithm::Xxh64 {
            continue;
        }
        table.push((
            algorithm,
            directory_hashes(&values, &list.empty_directories, algorithm)?,
        ));
    }
    Ok(table)
}

fn check_entry_path(path: &str) -> Result<(), MhlError> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        return Err(MhlError::BadEntryPath {
            path: path.to_owned(),
        });
    }
    Ok(())
}

fn root_name(root: &Path) -> Result<String, MhlError> {
    let canonical = crate::canonical::canonicalize(root).map_err(|source| MhlError::Read {
        path: root.to_path_buf(),
        source,
    })?;
    canonical
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| MhlError::UnnamedRoot {
            path: root.to_path_buf(),
        })
}

/// Highest `NNNN_` prefix among `.mhl` files in the folder (0 when none), so an unchained file
/// left by a crash is never overwritten or reused.
fn highest_file_sequence(folder: &Path) -> u32 {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".mhl") {
                return None;
            }
            name.split('_').next()?.parse::<u32>().ok()
        })
        .max()
        .unwrap_or(0)
}
