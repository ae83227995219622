//! Absolute, resolved paths for card roots, storage mounts and offload destinations.
//!
//! `std::fs::canonicalize` is right on Unix. On Windows it has two problems for us:
//! - it returns verbatim `\\?\C:\…` paths, which operators would then read in every message,
//!   report and iconik directory path, and which never compare equal to the plain form;
//! - it fails outright where `GetFinalPathNameByHandleW` is not supported: RAM disks, some
//!   network redirectors, and (under wine) paths longer than `MAX_PATH`.
//!
//! So on Windows the verbatim prefix is dropped (std re-adds it by itself for long paths when it
//! calls the file APIs), and a path that exists but cannot be resolved falls back to its lexical
//! absolute form, which is what the operator typed or dropped.
use std::io;
use std::path::{Path, PathBuf};

/// The absolute form of an existing `path` with links resolved where the platform can.
pub fn canonicalize(path: &Path) -> io::Result<PathBuf> {
    #[cfg(windows)]
    {
        windows(path)
    }
    #[cfg(not(windows))]
    {
        std::fs::canonicalize(path)
    }
}

#[cfg(windows)]
fn windows(path: &Path) -> io::Result<PathBuf> {
    match std::fs::canonicalize(path) {
        Ok(resolved) => Ok(plain(&resolved)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(e),
        Err(e) => {
            // The path may well exist: only the resolving call is unsupported here.
            if std::fs::metadata(path).is_err() {
                return Err(e);
            }
            let abs = std::path::absolute(path)?;
            tracing::debug!(path = %path.display(), error = %e, "cannot resolve the path; using its absolute form");
            Ok(plain(&abs))
        }
    }
}

#[cfg(windows)]
fn plain(path: &Path) -> PathBuf {
    let simple = dunce::simplified(path);
    match simple.to_str().and_then(without_verbatim_prefix) {
        Some(s) => PathBuf::from(s),
        None => simple.to_path_buf(),
    }
}

/// `\\?\C:\x` → `C:\x` and `\\?\UNC\server\share\x` → `\\server\share\x`; `None` for any
/// other form (already plain, or a verbatim device path that has no plain spelling).
/// Kept textual so that it is tested on every platform.
#[cfg_attr(not(windows), allow(dead_code))]
fn without_verbatim_prefix(s: &str) -> Option<String> {
    let rest = s.strip_prefix(r"\\?\")?;
    if let Some(unc) = rest.strip_prefix(r"UNC\") {
        return Some(format!(r"\\{unc}"));
    }
    let bytes = rest.as_bytes();
    let is_disk =
        bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'\\';
    is_disk.then(|| rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_disk_and_unc_paths_lose_the_prefix_others_stay() {
        let long = format!(r"\\?\C:\{}\p2", "offload-folder\\".repeat(30));
        assert_eq!(without_verbatim_prefix(&long).as_deref(), Some(&long[4..]));
        assert_eq!(
            without_verbatim_prefix(r"\\?\UNC\nas\media\card").as_deref(),
            Some(r"\\nas\media\card")
        );
        assert_eq!(without_verbatim_prefix(r"C:\card"), None);
        assert_eq!(without_verbatim_prefix(r"\\?\Volume{1234}\card"), None);
        assert_eq!(without_verbatim_prefix(r"\\?\C:"), None);
    }

    #[test]
    fn existing_paths_resolve_and_missing_ones_say_not_found() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("card")).unwrap();
        let via_dots = dir.path().join("card").join("..").join("card");
        assert_eq!(
            canonicalize(&via_dots).unwrap(),
            std::fs::canonicalize(dir.path()).unwrap().join("card")
        );
        let err = canonicalize(&dir.path().join("gone")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
