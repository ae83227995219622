//! Crash-safe file replacement: write a temp file in the same folder, fsync it, rename it over the
//! final name, fsync the folder. A crash leaves either the old content or the new, never a torn
//! file; at worst a stray temp file (named `.<name>.tmp-<pid>-<n>`, which readers ignore).
//!
//! Used by the ASC MHL chain ([`crate::mhl`]) and the ingest journal ([`crate::ingest::journal`]).

#[cfg(unix)]
use std::fs::File;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temp files of concurrent writers in one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Prefix and infix of temp names, so callers can recognise (and ignore) leftovers.
pub const TEMP_MARKER: &str = ".tmp-";

/// A temp path next to `path`: `.<file name>.tmp-<pid>-<n>`.
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}{TEMP_MARKER}{}-{n}", std::process::id()))
}

/// Replaces `path` with `bytes` atomically (see module docs). Errors are plain `io::Error`s; the
/// caller adds the path to its own error type.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path_for(path);
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        sync_parent(path)
    })();
    if result.is_err()
        && tmp.exists()
        && let Err(err) = std::fs::remove_file(&tmp)
    {
        tracing::warn!(path = %tmp.display(), %err, "cannot remove temp file");
    }
    result
}

/// fsyncs the folder holding `path` so a rename into it survives a power loss. Only Unix can open
/// a directory for syncing; elsewhere this is a no-op (NTFS journals renames itself).
#[cfg_attr(not(unix), allow(unused_variables))]
pub fn sync_parent(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["state.json".to_string()]);
    }

    #[test]
    fn temp_names_are_hidden_siblings_and_unique() {
        let a = temp_path_for(Path::new("/x/y/card.json"));
        let b = temp_path_for(Path::new("/x/y/card.json"));
        assert_ne!(a, b);
        assert_eq!(a.parent(), Some(Path::new("/x/y")));
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".card.json.tmp-"), "{name}");
    }
}
