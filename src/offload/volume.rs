//! Which volume a folder is on and how much room it has: the offload's pre-flight refuses a
//! destination that is on the card's own volume (a "copy" that dies with the card's disk) or that
//! cannot hold the card, before any byte is written.

use std::io;
use std::path::Path;

/// Identifies a mounted volume: the device number on Unix, the volume's root path on Windows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VolumeId(String);

impl VolumeId {
    /// A made-up drive for tests of what is kept per drive.
    #[cfg(test)]
    pub(crate) fn named(name: &str) -> Self {
        VolumeId(name.to_owned())
    }
}

impl std::fmt::Display for VolumeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The volume `path` (an existing file or folder) lives on.
pub fn volume_id(path: &Path) -> io::Result<VolumeId> {
    imp::volume_id(path)
}

/// Bytes a non-privileged writer can still put on the volume of `path`.
pub fn free_bytes(path: &Path) -> io::Result<u64> {
    imp::free_bytes(path)
}

#[cfg(unix)]
mod imp {
    use super::VolumeId;
    use std::io;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    pub fn volume_id(path: &Path) -> io::Result<VolumeId> {
        Ok(VolumeId(format!("dev:{}", std::fs::metadata(path)?.dev())))
    }

    pub fn free_bytes(path: &Path) -> io::Result<u64> {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: `c` is a valid NUL-terminated path and `st` a properly sized out-buffer.
        if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // f_bavail: blocks available to unprivileged users (root's reserve does not count).
        #[allow(clippy::unnecessary_cast)]
        Ok(st.f_bavail as u64 * st.f_frsize as u64)
    }
}

#[cfg(windows)]
mod imp {
    use super::VolumeId;
    use std::io;
    use std::os::windows::ffi::OsStrExt;
    use std::path::Path;
    use windows_sys::Win32::Storage::FileSystem::{GetDiskFreeSpaceExW, GetVolumePathNameW};

    fn wide(path: &Path) -> Vec<u16> {
        path.as_os_str().encode_wide().chain(Some(0)).collect()
    }

    pub fn volume_id(path: &Path) -> io::Result<VolumeId> {
        let p = wide(path);
        let mut buf = vec![0u16; 1024];
        // SAFETY: `p` is NUL-terminated; `buf` holds `buf.len()` u16s.
        if unsafe { GetVolumePathNameW(p.as_ptr(), buf.as_mut_ptr(), buf.len() as u32) } == 0 {
            return Err(io::Error::last_os_error());
        }
        let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
        Ok(VolumeId(
            String::from_utf16_lossy(&buf[..end]).to_lowercase(),
        ))
    }

    pub fn free_bytes(path: &Path) -> io::Result<u64> {
        let p = wide(path);
        let mut free: u64 = 0;
        // SAFETY: `p` is NUL-terminated; the out-pointers are valid or null.
        let ok = unsafe {
            GetDiskFreeSpaceExW(
                p.as_ptr(),
                &mut free,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(free)
    }
}

#[cfg(not(any(unix, windows)))]
mod imp {
    use super::VolumeId;
    use std::io;
    use std::path::Path;

    pub fn volume_id(path: &Path) -> io::Result<VolumeId> {
        Ok(VolumeId(path.display().to_string()))
    }

    pub fn free_bytes(_path: &Path) -> io::Result<u64> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "free space is not known on this OS",
        ))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn tmpfs_and_the_build_disk_are_different_volumes() {
        let here = volume_id(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert_eq!(
            here,
            volume_id(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src")).unwrap()
        );
        if Path::new("/dev/shm").is_dir() {
            assert_ne!(here, volume_id(Path::new("/dev/shm")).unwrap());
        }
        let free = free_bytes(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(free > 0);
    }
}
