//! Reading a copy back from the disk, not from memory. Right after a copy the OS page cache holds
//! the bytes just written; re-reading them from there proves nothing about the destination drive.
//! After the copy is fsynced its cached pages are clean and can be dropped
//! (`posix_fadvise(POSIX_FADV_DONTNEED)` on Linux), so the verification pass reads what the drive
//! returns. Where the OS offers no such call, the report says the read-back may have come from
//! the cache.

use std::fs::File;

/// Whether this OS lets us drop a file's cached pages (the report names the mode that ran).
pub const CAN_DROP_CACHE: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// Drops `file`'s clean pages from the page cache; returns whether the OS did so. Call after
/// `sync_all`: dirty pages are not dropped.
pub fn drop_cached_pages(file: &File) -> bool {
    imp::drop_cached_pages(file)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod imp {
    use std::fs::File;
    use std::os::fd::AsRawFd;

    pub fn drop_cached_pages(file: &File) -> bool {
        // SAFETY: a valid open descriptor; offset 0 + len 0 = the whole file.
        let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        if rc != 0 {
            tracing::debug!(rc, "posix_fadvise(DONTNEED) refused");
        }
        rc == 0
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod imp {
    use std::fs::File;

    pub fn drop_cached_pages(_file: &File) -> bool {
        false
    }
}

/// How many of `file`'s pages are in the page cache (Linux `mincore`), for tests that check the
/// verification really reads from the drive.
#[cfg(target_os = "linux")]
pub fn resident_pages(path: &std::path::Path) -> std::io::Result<(usize, usize)> {
    use std::os::fd::AsRawFd;
    let file = File::open(path)?;
    let len = file.metadata()?.len() as usize;
    if len == 0 {
        return Ok((0, 0));
    }
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    // SAFETY: a read-only shared mapping of an open file of `len` bytes; unmapped below.
    let addr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if addr == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    let pages = len.div_ceil(page);
    let mut vec = vec![0u8; pages];
    // SAFETY: `addr` maps `len` bytes; `vec` has one byte per page.
    let rc = unsafe { libc::mincore(addr, len, vec.as_mut_ptr()) };
    let err = std::io::Error::last_os_error();
    // SAFETY: unmapping exactly what was mapped.
    unsafe { libc::munmap(addr, len) };
    if rc != 0 {
        return Err(err);
    }
    Ok((vec.iter().filter(|b| *b & 1 == 1).count(), pages))
}
