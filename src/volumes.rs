//! Cards that start themselves: notices newly mounted volumes and tells which hold a camera
//! card or a sound recorder's folder (never a destination drive), so the window can load them
//! and, with "start when inserted", ingest them.
//!
//! Where volumes come from is a [`MountSource`]: the system's ([`SystemMounts`]: Linux's mount
//! table under `/media`, `/run/media` and `/mnt`; macOS `/Volumes`; Windows drive letters), or a
//! folder whose sub-folders stand for volumes ([`FolderMounts`]: tests, and a watch folder).
//! Polled (every 2 s by default): mount notifications differ per OS, a poll is the same code
//! everywhere and costs one small read.

use crate::card::Family;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the window looks for new volumes.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// The volumes mounted now.
pub trait MountSource: Send + 'static {
    fn mounted(&self) -> Vec<PathBuf>;
}

/// The operating system's removable and external volumes.
#[derive(Debug, Default)]
pub struct SystemMounts;

impl MountSource for SystemMounts {
    #[cfg(target_os = "linux")]
    fn mounted(&self) -> Vec<PathBuf> {
        std::fs::read_to_string("/proc/self/mounts")
            .map(|t| linux_media_mounts(&t))
            .unwrap_or_default()
    }

    #[cfg(target_os = "macos")]
    fn mounted(&self) -> Vec<PathBuf> {
        sub_folders(Path::new("/Volumes"))
    }

    #[cfg(windows)]
    fn mounted(&self) -> Vec<PathBuf> {
        (b'A'..=b'Z')
            .map(|d| PathBuf::from(format!("{}:\\", d as char)))
            .filter(|p| p.is_dir())
            .collect()
    }

    #[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
    fn mounted(&self) -> Vec<PathBuf> {
        Vec::new()
    }
}

/// Mount points under the folders desktops mount removable media in, from `/proc/self/mounts`
/// (octal escapes such as `\040` for a space undone).
pub fn linux_media_mounts(table: &str) -> Vec<PathBuf> {
    table
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(unescape_mount)
        .filter(|p| {
            ["/media/", "/run/media/", "/mnt/"]
                .iter()
                .any(|m| p.starts_with(m))
        })
        .map(PathBuf::from)
        .collect()
}

fn unescape_mount(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let v = (bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Each sub-folder of a folder stands for a mounted volume.
#[derive(Debug, Clone)]
pub struct FolderMounts(pub PathBuf);

impl MountSource for FolderMounts {
    fn mounted(&self) -> Vec<PathBuf> {
        sub_folders(&self.0)
    }
}

fn sub_folders(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// New volumes since the last look; those mounted when watching began are not new (a card
/// already in the reader at start is the operator's to load).
pub struct VolumeWatch {
    source: Box<dyn MountSource>,
    known: HashSet<PathBuf>,
}

impl VolumeWatch {
    pub fn new(source: Box<dyn MountSource>) -> Self {
        let known = source.mounted().into_iter().collect();
        Self { source, known }
    }

    /// Volumes mounted since the last call. An unmounted volume is forgotten, so the same card
    /// inserted again is new again.
    pub fn new_volumes(&mut self) -> Vec<PathBuf> {
        let now: HashSet<PathBuf> = self.source.mounted().into_iter().collect();
        let mut fresh: Vec<PathBuf> = now.difference(&self.known).cloned().collect();
        fresh.sort();
        self.known = now;
        fresh
    }
}

/// The camera cards (and sound recorder folders) on `volume`, by the scanner's file-tree pass
/// (no media tool runs): `None` when it holds none, or when it is (or holds, or lies in) one
/// of the `destinations`, which are never loaded as cards. Loose files are not a card.
pub fn cards_on(volume: &Path, destinations: &[PathBuf]) -> Option<Vec<PathBuf>> {
    let canon = |p: &Path| crate::canonical::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let vol = canon(volume);
    // A destination on the volume, or the volume inside a destination's folder. A destination
    // at a file system's root (the sandbox's storage is "mounted" at /) says nothing.
    let is_destination = destinations
        .iter()
        .map(|d| canon(d))
        .filter(|d| d.parent().is_some())
        .any(|d| d.starts_with(&vol) || vol.starts_with(&d));
    if is_destination {
        tracing::debug!(volume = %volume.display(), "a destination drive, not a card");
        return None;
    }
    let scan = crate::card::scan_paths(&[vol]).ok()?;
    let roots: Vec<PathBuf> = scan
        .cards
        .iter()
        .filter(|c| c.family != Family::Generic)
        .filter(|c| scan.clips.iter().any(|clip| clip.card_root == c.root))
        .map(|c| c.root.clone())
        .collect();
    (!roots.is_empty()).then_some(roots)
}

/// A volume with camera cards on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertedCard {
    pub volume: PathBuf,
    pub cards: Vec<PathBuf>,
}

/// Watches `source` on a thread of its own: each new volume with cards (not one of
/// `destinations`, read at each look, as the settings may change) goes to `found`.
pub fn watch(
    source: Box<dyn MountSource>,
    every: Duration,
    destinations: Arc<Mutex<Vec<PathBuf>>>,
    found: impl Fn(InsertedCard) + Send + 'static,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("volume-watch".into())
        .spawn(move || {
            let mut watch = VolumeWatch::new(source);
            loop {
                std::thread::sleep(every);
                for volume in watch.new_volumes() {
                    let exclude = destinations.lock().map(|d| d.clone()).unwrap_or_default();
                    match cards_on(&volume, &exclude) {
                        Some(cards) => found(InsertedCard { volume, cards }),
                        None => {
                            tracing::debug!(volume = %volume.display(), "no camera card on it");
                        }
                    }
                }
            }
        })
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_mount_table_keeps_media_mounts_with_spaces_undone() {
        let table = "/dev/sda1 / ext4 rw 0 0\n\
                     /dev/sdb1 /media/op/NO\\040NAME vfat rw 0 0\n\
                     /dev/sdc1 /run/media/op/CARD_A exfat rw 0 0\n\
                     tmpfs /run/user/1000 tmpfs rw 0 0\n\
                     /dev/sdd1 /mnt/raid ext4 rw 0 0\n";
        assert_eq!(
            linux_media_mounts(table),
            [
                PathBuf::from("/media/op/NO NAME"),
                PathBuf::from("/run/media/op/CARD_A"),
                PathBuf::from("/mnt/raid"),
            ]
        );
    }

    #[test]
    fn only_volumes_mounted_after_the_start_are_new_and_a_reinserted_one_is_new_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("OLD")).unwrap();
        let mut w = VolumeWatch::new(Box::new(FolderMounts(dir.path().to_owned())));
        assert!(w.new_volumes().is_empty());
        std::fs::create_dir(dir.path().join("NEW")).unwrap();
        assert_eq!(w.new_volumes(), [dir.path().join("NEW")]);
        assert!(w.new_volumes().is_empty());
        std::fs::remove_dir(dir.path().join("NEW")).unwrap();
        assert!(w.new_volumes().is_empty());
        std::fs::create_dir(dir.path().join("NEW")).unwrap();
        assert_eq!(w.new_volumes(), [dir.path().join("NEW")]);
    }
}
