//! File checksums in one read pass: MD5 (iconik's `checksum` field), xxh64 (ASC MHL default) and
//! optionally C4 (SHA-512 → base58, required for the ASC MHL chain file).
//!
//! Every source byte is read once, by one thread, in large blocks ([`BUFFER_BYTES`]); each
//! requested digest runs on its own thread over the same buffers (shared, recycled through a small
//! pool), so a pass costs what the slowest digest (MD5) costs alone. [`copy_hashing`] does the same while writing each block
//! to a destination (offload). Both report progress through a callback at most every
//! [`PROGRESS_INTERVAL_BYTES`] or [`PROGRESS_INTERVAL`], and stop at a cancel flag.
//!
//! Formats follow `camera-cards.md` §8: xxh64 `{:016x}`, md5 lowercase hex, C4 `c4` + base58 of the
//! SHA-512 digest left-padded with `1` to 90 characters.

use std::cell::Cell;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

#[path = "checksum/md5_fast.rs"]
mod md5_fast;

pub use md5_fast::Md5;
use sha2::{Digest, Sha512};
use xxhash_rust::xxh64::Xxh64;

/// Read block size: large enough that syscalls are negligible, small enough for quick cancel.
pub const BUFFER_BYTES: usize = 4 * 1024 * 1024;
/// Progress is reported after at least this many bytes since the last report …
pub const PROGRESS_INTERVAL_BYTES: u64 = 64 * 1024 * 1024;
/// … or after this much time since the last report, whichever comes first.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// A checksum algorithm this module computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// XXH64, seed 0; the ASC MHL default.
    Xxh64,
    /// MD5; what iconik's file `checksum` field expects.
    Md5,
    /// C4 ID (SHA-512 in base58); the ASC MHL chain file must use it.
    C4,
}

impl Algorithm {
    /// All algorithms, in a fixed order.
    pub const ALL: [Algorithm; 3] = [Algorithm::Xxh64, Algorithm::Md5, Algorithm::C4];

    /// The element / attribute name used by ASC MHL (`xxh64`, `md5`, `c4`).
    pub fn mhl_name(self) -> &'static str {
        match self {
            Algorithm::Xxh64 => "xxh64",
            Algorithm::Md5 => "md5",
            Algorithm::C4 => "c4",
        }
    }

    /// Parses an ASC MHL element name; `None` for algorithms this module does not compute.
    pub fn from_mhl_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.mhl_name() == name)
    }

    fn bit(self) -> u8 {
        match self {
            Algorithm::Xxh64 => 1,
            Algorithm::Md5 => 2,
            Algorithm::C4 => 4,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mhl_name())
    }
}

/// A set of [`Algorithm`]s to compute in one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlgorithmSet(u8);

impl AlgorithmSet {
    /// No algorithm (useful as a starting point for [`AlgorithmSet::with`]).
    pub const EMPTY: AlgorithmSet = AlgorithmSet(0);
    /// xxh64 + md5: what every ingest needs (manifest + iconik).
    pub const DEFAULT: AlgorithmSet = AlgorithmSet(1 | 2);
    /// xxh64 + md5 + c4.
    pub const ALL: AlgorithmSet = AlgorithmSet(1 | 2 | 4);

    /// This set plus `algorithm`.
    #[must_use]
    pub const fn with(self, algorithm: Algorithm) -> Self {
        let bit = match algorithm {
            Algorithm::Xxh64 => 1,
            Algorithm::Md5 => 2,
            Algorithm::C4 => 4,
        };
        AlgorithmSet(self.0 | bit)
    }

    /// Whether `algorithm` is in the set.
    pub fn contains(self, algorithm: Algorithm) -> bool {
        self.0 & algorithm.bit() != 0
    }

    /// The algorithms in the set, in [`Algorithm::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Algorithm> {
        Algorithm::ALL
            .into_iter()
            .filter(move |a| self.contains(*a))
    }
}

impl Default for AlgorithmSet {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Formatted digests of one byte stream; a field is `Some` iff its algorithm was requested.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Hashes {
    /// Bytes hashed.
    pub size_bytes: u64,
    /// `{:016x}` of the XXH64 value.
    pub xxh64: Option<String>,
    /// Lowercase hex MD5.
    pub md5: Option<String>,
    /// 90-character C4 ID.
    pub c4: Option<String>,
}

impl Hashes {
    /// The formatted digest for `algorithm`, if it was computed.
    pub fn get(&self, algorithm: Algorithm) -> Option<&str> {
        match algorithm {
            Algorithm::Xxh64 => self.xxh64.as_deref(),
            Algorithm::Md5 => self.md5.as_deref(),
            Algorithm::C4 => self.c4.as_deref(),
        }
    }

    /// The algorithms computed in both `self` and `other` whose digests differ (sizes are not
    /// compared here).
    pub fn differing(&self, other: &Hashes) -> Vec<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .filter(|a| match (self.get(*a), other.get(*a)) {
                (Some(x), Some(y)) => x != y,
                _ => false,
            })
            .collect()
    }
}

/// Bytes done out of the total, as reported to progress callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done_bytes: u64,
    pub total_bytes: u64,
}

/// Why hashing or copying a file failed; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ChecksumError {
    #[error("file not found (removed or card ejected?): {path}")]
    Vanished { path: PathBuf },
    #[error("not a regular file, cannot hash it: {path}")]
    NotAFile { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "file changed while hashing (size was {expected_bytes} bytes, read {actual_bytes}): {path}"
    )]
    Changed {
        path: PathBuf,
        expected_bytes: u64,
        actual_bytes: u64,
    },
    #[error("cancelled while hashing {path}")]
    Cancelled { path: PathBuf },
}

/// Incremental hasher computing several algorithms from the same bytes.
pub struct MultiHasher {
    size_bytes: u64,
    xxh64: Option<Xxh64>,
    md5: Option<Md5>,
    sha512: Option<Sha512>,
}

impl MultiHasher {
    /// A hasher for the algorithms in `algorithms`.
    pub fn new(algorithms: AlgorithmSet) -> Self {
        Self {
            size_bytes: 0,
            xxh64: algorithms.contains(Algorithm::Xxh64).then(|| Xxh64::new(0)),
            md5: algorithms.contains(Algorithm::Md5).then(Md5::new),
            sha512: algorithms.contains(Algorithm::C4).then(Sha512::new),
        }
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.size_bytes += bytes.len() as u64;
        if let Some(h) = &mut self.xxh64 {
            h.update(bytes);
        }
        if let Some(h) = &mut self.md5 {
            h.update(bytes);
        }
        if let Some(h) = &mut self.sha512 {
            h.update(bytes);
        }
    }

    /// The formatted digests.
    pub fn finish(self) -> Hashes {
        Hashes {
            size_bytes: self.size_bytes,
            xxh64: self.xxh64.map(|h| format!("{:016x}", h.digest())),
            md5: self.md5.map(|h| lower_hex(&h.finalize())),
            c4: self.sha512.map(|h| c4_from_sha512(&h.finalize())),
        }
    }
}

/// Hashes `bytes` in memory (small data such as an MHL file for the chain).
pub fn hash_bytes(bytes: &[u8], algorithms: AlgorithmSet) -> Hashes {
    let mut hasher = MultiHasher::new(algorithms);
    hasher.update(bytes);
    hasher.finish()
}

/// Lowercase hex of `bytes`.
pub fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// C4 ID of a SHA-512 digest: `c4` + base58 (bitcoin alphabet = C4's) left-padded with `1` to 88.
pub fn c4_from_sha512(digest: &[u8]) -> String {
    format!("c4{:1>88}", bs58::encode(digest).into_string())
}

/// Hashes the file at `path` in one read pass.
///
/// `progress` is called with `0/total` first, then at most every [`PROGRESS_INTERVAL_BYTES`] or
/// [`PROGRESS_INTERVAL`], and with `total/total` at the end. `cancel` is checked before each block.
/// The size is checked before and after reading: a file that grows, shrinks or disappears meanwhile
/// gives [`ChecksumError::Changed`] / [`ChecksumError::Vanished`].
pub fn hash_file(
    path: &Path,
    algorithms: AlgorithmSet,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<Hashes, ChecksumError> {
    let (mut file, expected_bytes) = open_source(path)?;
    let hashes = hash_stream(
        path,
        &mut file,
        expected_bytes,
        algorithms,
        cancel,
        progress,
        |_| Ok(()),
    )?;
    check_unchanged(path, expected_bytes, hashes.size_bytes)?;
    Ok(hashes)
}

/// Copies `src` to a NEW file `dst` (fails if `dst` exists) while hashing: each source byte is read
/// once, written, and hashed. The destination is fsynced before returning. On any error the partial
/// destination is removed. Renaming into place is the caller's job (see `offload`).
pub fn copy_hashing(
    src: &Path,
    dst: &Path,
    algorithms: AlgorithmSet,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<Hashes, ChecksumError> {
    let (mut file, expected_bytes) = open_source(src)?;
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dst)
        .map_err(|source| ChecksumError::Write {
            path: dst.to_path_buf(),
            source,
        })?;
    let result = copy_into(
        src,
        &mut file,
        expected_bytes,
        dst,
        &mut out,
        algorithms,
        cancel,
        progress,
    );
    if result.is_err() {
        drop(out);
        if let Err(err) = std::fs::remove_file(dst) {
            tracing::warn!(path = %dst.display(), %err, "cannot remove partial copy");
        }
    }
    result
}

/// Reads `src` once, hashing it (digest threads as [`hash_file`]) and handing every block to
/// `write` (the offload writes it to each destination's temp copy). Checks the source did not
/// change meanwhile.
pub fn hash_while_writing(
    src: &Path,
    algorithms: AlgorithmSet,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
    write: impl FnMut(&[u8]) -> Result<(), ChecksumError>,
) -> Result<Hashes, ChecksumError> {
    let (mut file, expected_bytes) = open_source(src)?;
    let hashes = hash_stream(
        src,
        &mut file,
        expected_bytes,
        algorithms,
        cancel,
        progress,
        write,
    )?;
    check_unchanged(src, expected_bytes, hashes.size_bytes)?;
    Ok(hashes)
}

#[allow(clippy::too_many_arguments)]
fn copy_into(
    src: &Path,
    file: &mut File,
    expected_bytes: u64,
    dst: &Path,
    out: &mut File,
    algorithms: AlgorithmSet,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<Hashes, ChecksumError> {
    let hashes = hash_stream(
        src,
        file,
        expected_bytes,
        algorithms,
        cancel,
        progress,
        |block| {
            out.write_all(block).map_err(|source| ChecksumError::Write {
                path: dst.to_path_buf(),
                source,
            })
        },
    )?;
    check_unchanged(src, expected_bytes, hashes.size_bytes)?;
    out.sync_all().map_err(|source| ChecksumError::Write {
        path: dst.to_path_buf(),
        source,
    })?;
    Ok(hashes)
}

/// Reads `file` once and computes `algorithms` over it; `write` also gets every block (the
/// offload copy) after the digests were handed it, so writing overlaps hashing.
///
/// One digest thread per algorithm when the file spans several blocks: MD5 is the slowest
/// digest (~0.6 GB/s per core), so running xxh64 (and SHA-512) beside it on the same buffers
/// makes the pass cost what MD5 alone costs, and the reading overlaps both. Smaller files, or a
/// single algorithm, are hashed inline: two thread spawns would cost more than they save.
fn hash_stream(
    path: &Path,
    file: &mut File,
    expected_bytes: u64,
    algorithms: AlgorithmSet,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
    mut write: impl FnMut(&[u8]) -> Result<(), ChecksumError>,
) -> Result<Hashes, ChecksumError> {
    if expected_bytes <= BUFFER_BYTES as u64 || algorithms.iter().count() < 2 {
        let mut hasher = MultiHasher::new(algorithms);
        let spare = Cell::new(vec![0u8; BUFFER_BYTES]);
        pump(
            path,
            file,
            expected_bytes,
            cancel,
            progress,
            || spare.take(),
            |buf, len| {
                let block = &buf[..len];
                hasher.update(block);
                let written = write(block);
                spare.set(buf);
                written
            },
        )?;
        return Ok(hasher.finish());
    }
    hash_stream_parallel(
        path,
        file,
        expected_bytes,
        algorithms,
        cancel,
        progress,
        write,
    )
}

/// Blocks in flight per file: the reader fills one while the digest threads work on the others.
/// 4 × [`BUFFER_BYTES`] = 16 MiB per file being hashed.
const POOL_BLOCKS: usize = 4;

/// A filled read buffer shared by the digest threads; the last one to drop it sends the buffer
/// back to the pool, so a file of any size needs [`POOL_BLOCKS`] allocations.
struct Block {
    buf: Vec<u8>,
    len: usize,
    home: mpsc::Sender<Vec<u8>>,
}

impl Block {
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // The pool is gone once the file is done: the buffer is then simply freed.
        let _ = self.home.send(std::mem::take(&mut self.buf));
    }
}

fn hash_stream_parallel(
    path: &Path,
    file: &mut File,
    expected_bytes: u64,
    algorithms: AlgorithmSet,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
    mut write: impl FnMut(&[u8]) -> Result<(), ChecksumError>,
) -> Result<Hashes, ChecksumError> {
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    for _ in 0..POOL_BLOCKS {
        let _ = free_tx.send(vec![0u8; BUFFER_BYTES]);
    }
    std::thread::scope(|scope| {
        let mut lanes = Vec::new();
        let mut joins = Vec::new();
        for algorithm in algorithms.iter() {
            let (tx, rx) = mpsc::channel::<Arc<Block>>();
            lanes.push(tx);
            joins.push(scope.spawn(move || {
                let mut hasher = MultiHasher::new(AlgorithmSet::EMPTY.with(algorithm));
                for block in rx {
                    hasher.update(block.bytes());
                }
                hasher.finish()
            }));
        }
        let pumped = pump(
            path,
            file,
            expected_bytes,
            cancel,
            progress,
            // Waits for a digest thread to give a buffer back; never disconnected since
            // `free_tx` lives here, and every `Block` returns its buffer when dropped.
            || free_rx.recv().unwrap_or_else(|_| vec![0u8; BUFFER_BYTES]),
            |buf, len| {
                let block = Arc::new(Block {
                    buf,
                    len,
                    home: free_tx.clone(),
                });
                for lane in &lanes {
                    // A lane that is gone panicked; its join below reports it.
                    let _ = lane.send(Arc::clone(&block));
                }
                write(block.bytes())
            },
        );
        // Closing the lanes ends the digest threads (after the blocks already queued).
        drop(lanes);
        let mut hashes = Hashes::default();
        for join in joins {
            let part = join.join().expect("digest thread panicked");
            hashes.size_bytes = part.size_bytes;
            hashes.xxh64 = hashes.xxh64.or(part.xxh64);
            hashes.md5 = hashes.md5.or(part.md5);
            hashes.c4 = hashes.c4.or(part.c4);
        }
        let read_bytes = pumped?;
        debug_assert_eq!(read_bytes, hashes.size_bytes);
        Ok(hashes)
    })
}

/// Opens a regular file for reading and returns it with its size. Checks the type first so a FIFO
/// is never opened (opening one blocks until a writer appears).
fn open_source(path: &Path) -> Result<(File, u64), ChecksumError> {
    let meta = std::fs::metadata(path).map_err(|source| classify_read(path, source))?;
    if !meta.is_file() {
        return Err(ChecksumError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let file = File::open(path).map_err(|source| classify_read(path, source))?;
    Ok((file, meta.len()))
}

fn classify_read(path: &Path, source: io::Error) -> ChecksumError {
    if source.kind() == io::ErrorKind::NotFound {
        ChecksumError::Vanished {
            path: path.to_path_buf(),
        }
    } else {
        ChecksumError::Read {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// After the read: the byte count must match the size seen at open, and the path must still
/// exist with that size (a camera or another process appending to the file is caught here).
fn check_unchanged(path: &Path, expected_bytes: u64, read_bytes: u64) -> Result<(), ChecksumError> {
    let changed = |actual_bytes| ChecksumError::Changed {
        path: path.to_path_buf(),
        expected_bytes,
        actual_bytes,
    };
    if read_bytes != expected_bytes {
        return Err(changed(read_bytes));
    }
    let now = std::fs::metadata(path).map_err(|source| classify_read(path, source))?;
    if now.len() != expected_bytes {
        return Err(changed(now.len()));
    }
    Ok(())
}

/// Reads `file` to the end in blocks taken from `take`, handing each filled block (and its
/// length) to `sink`, with progress and cancellation. Reads until EOF even past `total_bytes`;
/// [`check_unchanged`] compares afterwards.
fn pump(
    path: &Path,
    file: &mut File,
    total_bytes: u64,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
    mut take: impl FnMut() -> Vec<u8>,
    mut sink: impl FnMut(Vec<u8>, usize) -> Result<(), ChecksumError>,
) -> Result<u64, ChecksumError> {
    let mut done_bytes = 0u64;
    let mut reported_bytes = 0u64;
    let mut reported_at = Instant::now();
    progress(Progress {
        done_bytes,
        total_bytes,
    });
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(ChecksumError::Cancelled {
                path: path.to_path_buf(),
            });
        }
        let mut buf = take();
        let n = read_full(file, &mut buf).map_err(|source| ChecksumError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if n == 0 {
            break;
        }
        sink(buf, n)?;
        done_bytes += n as u64;
        if done_bytes - reported_bytes >= PROGRESS_INTERVAL_BYTES
            || reported_at.elapsed() >= PROGRESS_INTERVAL
        {
            progress(Progress {
                done_bytes,
                total_bytes,
            });
            reported_bytes = done_bytes;
            reported_at = Instant::now();
        }
    }
    if reported_bytes != done_bytes {
        progress(Progress {
            done_bytes,
            total_bytes,
        });
    }
    Ok(done_bytes)
}

/// Fills `buf` as far as possible (network mounts return short reads); retries on EINTR.
fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    const C4_EMPTY: &str = "c459dsjfscH38cYeXXYogktxf4Cd9ibshE3BHUo6a58hBXmRQdZrAkZzsWcbWtDg5oQstpDuni4Hirj75GEmTc1sFT";
    const C4_ABC: &str = "c45S4rnaTNWonxss1u8LzsaJdEph1AJhWUF4sh2waXKMsutyfAxg4ybUeuXVWS9HdNcEypmeXn8FZGonD4w1rj9DZp";
    const C4_PATTERN: &str = "c435RyhV2AQHVrMB2Qb16XiFPd27JS8B7obvkRnm197ZnweRxtZfYwYyLvF1x7DUoT14KDGJNRzss6cu8DxC71LLF1";

    fn pattern_mib() -> Vec<u8> {
        (0..1024 * 1024).map(|i| (i % 251) as u8).collect()
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn hash_all(path: &Path) -> Hashes {
        hash_file(
            path,
            AlgorithmSet::ALL,
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .unwrap()
    }

    #[test]
    fn test_vectors_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, Vec<u8>, &str, &str, &str); 3] = [
            (
                "empty",
                Vec::new(),
                "ef46db3751d8e999",
                "d41d8cd98f00b204e9800998ecf8427e",
                C4_EMPTY,
            ),
            (
                "abc",
                b"abc".to_vec(),
                "44bc2cf5ad770999",
                "900150983cd24fb0d6963f7d28e17f72",
                C4_ABC,
            ),
            (
                "pattern",
                pattern_mib(),
                "89ac0399c4464a31",
                "8f293a2f6c19b345152f7a49bb4c643c",
                C4_PATTERN,
            ),
        ];
        for (name, bytes, xxh, md5, c4) in cases {
            let p = write(dir.path(), name, &bytes);
            let h = hash_all(&p);
            assert_eq!(h.size_bytes, bytes.len() as u64, "{name}");
            assert_eq!(h.xxh64.as_deref(), Some(xxh), "{name}");
            assert_eq!(h.md5.as_deref(), Some(md5), "{name}");
            assert_eq!(h.c4.as_deref(), Some(c4), "{name}");
            assert_eq!(hash_bytes(&bytes, AlgorithmSet::ALL), h, "{name} in memory");
        }
    }

    /// What coreutils' `md5sum` prints for `path` (the reference the benchmark compares with).
    fn md5sum(path: &Path) -> String {
        let out = std::process::Command::new("md5sum")
            .arg(path)
            .output()
            .expect("md5sum must be installed (coreutils)");
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()[..32].to_owned()
    }

    /// Deterministic bytes that are not periodic within a block (xorshift).
    fn noise(len: usize, mut seed: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            out.extend_from_slice(&seed.to_le_bytes());
        }
        out.truncate(len);
        out
    }

    #[test]
    fn digest_threads_match_md5sum_and_one_shot_xxh64() {
        let dir = tempfile::tempdir().unwrap();
        // Empty, one short block (inline), exactly two blocks, and ten blocks + a tail: more
        // blocks than the pool holds, so buffers must come back from the digest threads.
        let sizes = [0, 1000, 2 * BUFFER_BYTES, 10 * BUFFER_BYTES + 12_345];
        for (k, len) in sizes.into_iter().enumerate() {
            let bytes = noise(len, 0x9e37_79b9_7f4a_7c15 + k as u64);
            let p = write(dir.path(), &format!("f{k}.bin"), &bytes);
            let h = hash_all(&p);
            assert_eq!(h.size_bytes, len as u64, "{len}");
            assert_eq!(h.md5.as_deref(), Some(md5sum(&p).as_str()), "{len}");
            let xxh = format!("{:016x}", xxhash_rust::xxh64::xxh64(&bytes, 0));
            assert_eq!(h.xxh64.as_deref(), Some(xxh.as_str()), "{len}");
            // C4 from the one-thread in-memory path: the lanes agree with MultiHasher.
            assert_eq!(h.c4, hash_bytes(&bytes, AlgorithmSet::ALL).c4, "{len}");
        }
        // The default set (what ingest uses) gives the same two digests and no C4.
        let p = dir.path().join("f3.bin");
        let d = hash_file(
            &p,
            AlgorithmSet::DEFAULT,
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(d.md5.as_deref(), Some(md5sum(&p).as_str()));
        assert_eq!(d.c4, None);
        assert_eq!(d.xxh64, hash_all(&p).xxh64);
    }

    #[test]
    fn cancel_before_the_first_block_of_a_large_file_stops_the_digest_threads() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "big.mxf", &noise(3 * BUFFER_BYTES, 7));
        let cancel = AtomicBool::new(false);
        let err = hash_file(&p, AlgorithmSet::ALL, &cancel, &mut |_| {
            cancel.store(true, Ordering::Relaxed)
        })
        .unwrap_err();
        assert!(matches!(&err, ChecksumError::Cancelled { path } if path == &p));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn unreadable_file_is_a_read_error_naming_it() {
        // `/proc/self/mem` is a regular file whose read at offset 0 fails with EIO (address 0 is
        // unmapped): a read error even for root, who can open files with mode 000.
        let p = Path::new("/proc/self/mem");
        let err = hash_all_err(p);
        assert!(
            matches!(&err, ChecksumError::Read { path, .. } if path == p),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with("cannot read /proc/self/mem: "),
            "{err}"
        );
        // And a file without read permission, where permissions apply (not root).
        let dir = tempfile::tempdir().unwrap();
        let locked = write(dir.path(), "locked.mxf", b"abc");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if File::open(&locked).is_err() {
            let err = hash_all_err(&locked);
            assert!(matches!(&err, ChecksumError::Read { path, .. } if path == &locked));
            assert!(err.to_string().contains("locked.mxf"));
        }
    }

    #[test]
    fn only_requested_algorithms_are_computed() {
        let h = hash_bytes(b"abc", AlgorithmSet::EMPTY.with(Algorithm::Md5));
        assert_eq!(h.md5.as_deref(), Some("900150983cd24fb0d6963f7d28e17f72"));
        assert_eq!(h.xxh64, None);
        assert_eq!(h.c4, None);
        assert_eq!(
            AlgorithmSet::DEFAULT.iter().collect::<Vec<_>>(),
            vec![Algorithm::Xxh64, Algorithm::Md5]
        );
    }

    #[test]
    fn multi_block_file_matches_in_memory_hash_and_reports_progress() {
        // 9 MiB + 7 bytes: three blocks, the last one short.
        let bytes: Vec<u8> = (0..9 * 1024 * 1024 + 7).map(|i| (i % 253) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "big.bin", &bytes);
        let mut reports = Vec::new();
        let h = hash_file(
            &p,
            AlgorithmSet::DEFAULT,
            &AtomicBool::new(false),
            &mut |pr| reports.push(pr),
        )
        .unwrap();
        assert_eq!(h, hash_bytes(&bytes, AlgorithmSet::DEFAULT));
        let total = bytes.len() as u64;
        assert_eq!(
            reports.first(),
            Some(&Progress {
                done_bytes: 0,
                total_bytes: total
            })
        );
        assert_eq!(
            reports.last(),
            Some(&Progress {
                done_bytes: total,
                total_bytes: total
            })
        );
        assert!(
            reports
                .windows(2)
                .all(|w| w[0].done_bytes < w[1].done_bytes)
        );
    }

    #[test]
    fn cancel_flag_stops_with_cancelled_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "clip.mxf", &pattern_mib());
        let err = hash_file(
            &p,
            AlgorithmSet::DEFAULT,
            &AtomicBool::new(true),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(matches!(&err, ChecksumError::Cancelled { path } if path == &p));
        assert_eq!(
            err.to_string(),
            format!("cancelled while hashing {}", p.display())
        );
    }

    #[test]
    fn missing_file_is_vanished_and_directory_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone.mxf");
        let err = hash_all_err(&missing);
        assert!(matches!(&err, ChecksumError::Vanished { path } if path == &missing));
        // A directory where a file is expected (root can read everything, so this stands in for
        // an unreadable file).
        let err = hash_all_err(dir.path());
        assert!(matches!(&err, ChecksumError::NotAFile { path } if path == dir.path()));
    }

    #[cfg(unix)]
    #[test]
    fn fifo_is_rejected_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo must be installed (coreutils)");
        assert!(status.success());
        assert!(matches!(
            hash_all_err(&fifo),
            ChecksumError::NotAFile { .. }
        ));
    }

    fn hash_all_err(p: &Path) -> ChecksumError {
        hash_file(p, AlgorithmSet::ALL, &AtomicBool::new(false), &mut |_| {}).unwrap_err()
    }

    #[test]
    fn file_growing_during_read_is_reported_as_changed() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "growing.mxf", &pattern_mib());
        // Append from the progress callback: the first call happens after open + stat.
        let mut appended = false;
        let err = hash_file(
            &p,
            AlgorithmSet::DEFAULT,
            &AtomicBool::new(false),
            &mut |_| {
                if !appended {
                    let mut f = OpenOptions::new().append(true).open(&p).unwrap();
                    f.write_all(b"more").unwrap();
                    appended = true;
                }
            },
        )
        .unwrap_err();
        assert!(matches!(
            &err,
            ChecksumError::Changed { path, expected_bytes: 1_048_576, actual_bytes: 1_048_580 } if path == &p
        ));
        assert!(err.to_string().starts_with("file changed while hashing"));
    }

    #[test]
    fn copy_hashing_writes_identical_bytes_and_same_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..5 * 1024 * 1024 + 3).map(|i| (i % 241) as u8).collect();
        let src = write(dir.path(), "src.bin", &bytes);
        let dst = dir.path().join("dst.bin");
        let h = copy_hashing(
            &src,
            &dst,
            AlgorithmSet::DEFAULT,
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(std::fs::read(&dst).unwrap(), bytes);
        assert_eq!(h, hash_bytes(&bytes, AlgorithmSet::DEFAULT));
    }

    #[test]
    fn copy_hashing_refuses_existing_destination_and_cleans_up_on_cancel() {
        let dir = tempfile::tempdir().unwrap();
        let src = write(dir.path(), "src.bin", b"abc");
        let existing = write(dir.path(), "existing.bin", b"keep me");
        let err = copy_hashing(
            &src,
            &existing,
            AlgorithmSet::DEFAULT,
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(matches!(&err, ChecksumError::Write { path, .. } if path == &existing));
        assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");

        let dst = dir.path().join("cancelled.bin");
        let err = copy_hashing(
            &src,
            &dst,
            AlgorithmSet::DEFAULT,
            &AtomicBool::new(true),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(matches!(err, ChecksumError::Cancelled { .. }));
        assert!(!dst.exists(), "partial copy must be removed");
    }
}
