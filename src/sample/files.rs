//! Plain file writing for the generator: folders, text/binary sidecars, deterministic filler for
//! RAW stubs, deterministic UMID-style ids, and the macOS junk a Finder copy leaves on a card.

use super::SampleError;
use std::path::Path;
use xxhash_rust::xxh64::xxh64;

pub(crate) fn create_dir(path: &Path) -> Result<(), SampleError> {
    std::fs::create_dir_all(path).map_err(|source| SampleError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `contents` to `path`, creating parent folders.
pub(crate) fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), SampleError> {
    if let Some(parent) = path.parent() {
        create_dir(parent)?;
    }
    std::fs::write(path, contents).map_err(|source| SampleError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// `len` pseudo-random bytes that depend only on `seed` (RAW stub payloads: distinct per file,
/// identical across runs, so checksums in tests are stable).
pub(crate) fn filler(seed: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    let mut block = 0u64;
    while out.len() < len {
        out.extend_from_slice(&xxh64(seed.as_bytes(), block).to_le_bytes());
        block += 1;
    }
    out.truncate(len);
    out
}

/// A 64-hex-digit SMPTE 330M basic UMID (the form of P2 `GlobalClipID` and Sony `umidRef`):
/// the fixed 12-byte universal label `060A2B340101010501010D43`, instance-method byte `13`, a zero
/// instance number, then a 16-byte material number derived from `seed`, so ids are stable across
/// runs and never all-zero (ffmpeg's bitexact UMIDs are; camera-cards.md §6).
pub(crate) fn umid_hex(seed: &str) -> String {
    format!(
        "060A2B340101010501010D4313000000{:016X}{:016X}",
        xxh64(seed.as_bytes(), 1),
        xxh64(seed.as_bytes(), 2)
    )
}

/// Escapes text for XML element content and attribute values.
pub(crate) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What a macOS Finder copy adds to a FAT/exFAT card: an AppleDouble `._name` next to each
/// `shadowed` file (card-relative paths), `.DS_Store` in the root, `.Spotlight-V100/` and
/// `.fseventsd/`. The scanner must skip all of it (camera-cards.md §2).
pub(crate) fn mac_junk(root: &Path, shadowed: &[&str]) -> Result<(), SampleError> {
    for rel in shadowed {
        let rel = Path::new(rel);
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = rel.parent().map(|p| root.join(p)).unwrap_or(root.into());
        write(&dir.join(format!("._{name}")), apple_double())?;
    }
    let mut ds_store = b"\0\0\0\x01Bud1".to_vec();
    ds_store.resize(6148, 0);
    write(&root.join(".DS_Store"), ds_store)?;
    write(
        &root.join(".Spotlight-V100/Store-V2/4C9F7D3A-5B1E-4E0B-9C55-0D3E2A1B7F60/store.db"),
        filler("spotlight", 2048),
    )?;
    write(
        &root.join(".Spotlight-V100/VolumeConfiguration.plist"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict/></plist>\n",
    )?;
    write(
        &root.join(".fseventsd/fseventsd-uuid"),
        "2E8C0B8A-1F0D-4C52-8F4B-6A1E3C9D7B21",
    )
}

/// An AppleDouble header (magic 0x00051607, version 2, "Mac OS X" filler, no entries) padded to
/// the 4 KiB Finder writes.
fn apple_double() -> Vec<u8> {
    let mut v = vec![0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00];
    v.extend_from_slice(b"Mac OS X        ");
    v.resize(4096, 0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn umid_is_64_uppercase_hex_stable_and_distinct() {
        let a = umid_hex("CARDA0001/0002EM");
        assert_eq!(a.len(), 64);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        assert!(a.starts_with("060A2B340101010501010D4313000000"));
        assert_eq!(a, umid_hex("CARDA0001/0002EM"));
        assert_ne!(a, umid_hex("CARDA0001/0003AB"));
        assert_ne!(&a[32..], "0".repeat(32));
    }

    #[test]
    fn filler_is_deterministic_and_exact_length() {
        assert_eq!(filler("x", 13).len(), 13);
        assert_eq!(filler("x", 4096), filler("x", 4096));
        assert_ne!(filler("x", 64), filler("y", 64));
        assert_eq!(&filler("x", 16)[..8], &xxh64(b"x", 0).to_le_bytes());
    }

    #[test]
    fn junk_lands_next_to_the_shadowed_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        mac_junk(dir.path(), &["CONTENTS/VIDEO/0002EM.MXF"]).expect("junk");
        let ad = std::fs::read(dir.path().join("CONTENTS/VIDEO/._0002EM.MXF")).expect("read");
        assert_eq!(ad.len(), 4096);
        assert_eq!(&ad[..4], &[0x00, 0x05, 0x16, 0x07]);
        let ds = std::fs::read(dir.path().join(".DS_Store")).expect("read");
        assert_eq!((ds.len(), &ds[4..8]), (6148, &b"Bud1"[..]));
        assert!(
            dir.path()
                .join(".Spotlight-V100/VolumeConfiguration.plist")
                .is_file()
        );
        assert!(dir.path().join(".fseventsd/fseventsd-uuid").is_file());
    }
}
