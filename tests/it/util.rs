//! Shared helpers for the integration tests: the sample-card set (generated once per test run),
//! running the real `card-ingest` binary with a timeout, ffprobe, tree copies, and path helpers.

#![allow(dead_code)]

use card_ingest::card::{Card, Clip, ClipFile, Family, FileRole, ScanIssue, Skipped};
use card_ingest::media::{ClipDescription, ClipMetadata};
use card_ingest::sample::{self, GeneratedCard, SampleKind, SampleOptions};
use serde::Deserialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The whole sample set, written once per test binary run into
/// `target/tmp/sample-cards-<pid>/<kind>/` (with macOS junk in P2 card A, XDCAM and GoPro).
pub struct Fixtures {
    pub dir: PathBuf,
    pub cards: Vec<GeneratedCard>,
}

impl Fixtures {
    /// The folder written for `kind` (what the operator would drop).
    pub fn dir_of(&self, kind: SampleKind) -> &Path {
        self.cards
            .iter()
            .find(|c| c.kind == kind)
            .map(|c| c.dir.as_path())
            .unwrap_or_else(|| panic!("fixture set has no {kind}"))
    }
}

static FIXTURES: OnceLock<Fixtures> = OnceLock::new();

pub fn fixtures() -> &'static Fixtures {
    FIXTURES.get_or_init(|| {
        require_tool("ffmpeg");
        require_tool("ffprobe");
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        remove_stale_fixture_dirs(base);
        let dir = base.join(format!("sample-cards-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove old fixture dir");
        }
        let opts = SampleOptions {
            with_junk: true,
            ..SampleOptions::default()
        };
        let started = Instant::now();
        let cards = sample::generate_all(&dir, &opts)
            .unwrap_or_else(|e| panic!("generating the sample cards failed: {e}"));
        eprintln!(
            "sample cards: {} kinds written to {} in {:.1} s",
            cards.len(),
            dir.display(),
            started.elapsed().as_secs_f64()
        );
        Fixtures {
            dir: canonical(&dir),
            cards: cards
                .into_iter()
                .map(|c| GeneratedCard {
                    dir: canonical(&c.dir),
                    roots: c.roots.iter().map(|r| canonical(r)).collect(),
                    ..c
                })
                .collect(),
        }
    })
}

/// Fixture folders of earlier runs whose process is gone (statics are never dropped, so each
/// run cleans up after the previous ones). Linux only: elsewhere they stay in target/tmp.
fn remove_stale_fixture_dirs(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("sample-cards-") else {
            continue;
        };
        let alive = Path::new("/proc").join(pid).exists() || !Path::new("/proc/self").exists();
        if !alive && std::fs::remove_dir_all(entry.path()).is_err() {
            eprintln!(
                "could not remove stale fixture dir {}",
                entry.path().display()
            );
        }
    }
}

/// Panics with an install hint when `tool` is not on PATH (tests never skip silently).
pub fn require_tool(tool: &str) {
    let found = Command::new(tool)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "`{tool}` is required by these tests but was not found on PATH: install ffmpeg \
         (e.g. `apt-get install ffmpeg`)"
    );
}

/// Deterministic pseudo-random bytes (xorshift), so uploads are not trivially compressible and
/// chunk boundaries hold distinct data. `seed` is made odd (xorshift needs a non-zero state).
pub fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A temporary folder on tmpfs (`/dev/shm`): another volume than the build disk, for copies
/// the same-drive refusal would otherwise refuse. Fails loudly where there is no tmpfs.
pub fn shm_tempdir() -> tempfile::TempDir {
    assert!(
        Path::new("/dev/shm").is_dir(),
        "this test needs /dev/shm (tmpfs)"
    );
    tempfile::tempdir_in("/dev/shm").expect("temp dir on /dev/shm")
}

/// A temporary folder under target/tmp (removed when dropped).
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("it-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("create temp dir")
}

pub fn canonical(p: &Path) -> PathBuf {
    p.canonicalize()
        .unwrap_or_else(|e| panic!("canonicalize {}: {e}", p.display()))
}

/// Copies a tree of plain files and folders, renaming every created entry with `rename`.
pub fn copy_tree_with(from: &Path, to: &Path, rename: &dyn Fn(&str) -> String) {
    std::fs::create_dir_all(to).expect("create copy root");
    for entry in std::fs::read_dir(from).expect("read_dir for copy") {
        let entry = entry.expect("dir entry");
        let name = rename(&entry.file_name().to_string_lossy());
        let target = to.join(name);
        let ft = entry.file_type().expect("file type");
        if ft.is_dir() {
            copy_tree_with(&entry.path(), &target, rename);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
            // Keep the modification time, as `cp -a` and an offload do: the proxy cache is
            // keyed on name + size + mtime, so copies of one master share their proxies.
            let mtime = entry
                .metadata()
                .and_then(|m| m.modified())
                .expect("source mtime");
            std::fs::File::options()
                .write(true)
                .open(&target)
                .and_then(|f| f.set_modified(mtime))
                .unwrap_or_else(|e| panic!("set mtime of {}: {e}", target.display()));
        }
    }
}

pub fn copy_tree(from: &Path, to: &Path) {
    copy_tree_with(from, to, &|n| n.to_string());
}

/// ffprobe's JSON (`-show_streams -show_format`, plus `extra` arguments) for `path`.
pub fn ffprobe(path: &Path, extra: &[&str]) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
        ])
        .args(extra)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("ffprobe is required (apt-get install ffmpeg): {e}"));
    assert!(
        out.status.success(),
        "ffprobe {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ffprobe JSON")
}

/// Output of one `card-ingest` run.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs the built binary with `args`; panics if it runs longer than `timeout` (a hang on a FIFO
/// or a symlink loop must fail the test, not block it).
pub fn run_bin(args: &[&std::ffi::OsStr], timeout: Duration) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_card-ingest"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start card-ingest");
    let mut stdout = child.stdout.take().expect("stdout pipe");
    let mut stderr = child.stderr.take().expect("stderr pipe");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        stdout.read_to_end(&mut s).map(|_| s)
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        stderr.read_to_end(&mut s).map(|_| s)
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for card-ingest") {
            break status;
        }
        if started.elapsed() > timeout {
            child.kill().expect("kill hung card-ingest");
            child.wait().expect("reap killed card-ingest");
            panic!("card-ingest {args:?} did not finish within {timeout:?} (hang?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out_reader
        .join()
        .expect("stdout thread")
        .expect("read stdout");
    let stderr = err_reader
        .join()
        .expect("stderr thread")
        .expect("read stderr");
    Run {
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// The `scan --json` document, read back through the crate's own model types so that a renamed
/// field breaks the build here too.
#[derive(Debug, Deserialize)]
pub struct Report {
    pub cards: Vec<Card>,
    pub clips: Vec<ReportClip>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<ScanIssue>,
}

#[derive(Debug, Deserialize)]
pub struct ReportClip {
    #[serde(flatten)]
    pub clip: Clip,
    pub metadata: ClipMetadata,
}

impl Report {
    /// The clip called `name`; panics listing the names found.
    pub fn clip(&self, name: &str) -> &ReportClip {
        let found: Vec<_> = self.clips.iter().filter(|c| c.clip.name == name).collect();
        match found[..] {
            [one] => one,
            _ => panic!(
                "expected exactly one clip named {name:?}, found {} among {:?}",
                found.len(),
                self.clip_names()
            ),
        }
    }

    /// Clip names, sorted.
    pub fn clip_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.clips.iter().map(|c| c.clip.name.clone()).collect();
        v.sort();
        v
    }

    /// Paths mentioned in `errors` and `skipped` (lossy strings).
    pub fn reported_paths(&self) -> Vec<String> {
        self.errors
            .iter()
            .map(|e| e.path.to_string_lossy().into_owned())
            .chain(
                self.skipped
                    .iter()
                    .map(|s| s.path.to_string_lossy().into_owned()),
            )
            .collect()
    }
}

/// `card-ingest scan --json PATHS...`; asserts exit 0 and parses the report.
pub fn scan(paths: &[&Path]) -> Report {
    let run = scan_run(paths);
    assert!(
        run.status.success(),
        "card-ingest scan --json {paths:?} exited with {}; stderr:\n{}",
        run.status,
        run.stderr.trim()
    );
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "scan --json output is not a report ({e}); stdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        )
    })
}

pub fn scan_run(paths: &[&Path]) -> Run {
    let mut args: Vec<&std::ffi::OsStr> = vec!["scan".as_ref(), "--json".as_ref()];
    args.extend(paths.iter().map(|p| p.as_os_str()));
    run_bin(&args, Duration::from_secs(180))
}

/// `path` relative to `base`, with `/` separators.
pub fn rel(path: &Path, base: &Path) -> String {
    let canon_base = canonical(base);
    let p = path
        .strip_prefix(&canon_base)
        .or_else(|_| path.strip_prefix(base))
        .unwrap_or_else(|_| panic!("{} is not under {}", path.display(), base.display()));
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Checks a clip's member files against the oracle: the essence (video/audio) files come first,
/// exactly in `essence` order; the other files are exactly `others` (any order within one role),
/// in the documented role order sidecar → proxy → thumbnail → other.
pub fn assert_files(
    clip: &ReportClip,
    base: &Path,
    essence: &[(&str, FileRole)],
    others: &[(&str, FileRole)],
) {
    let got: Vec<(String, FileRole)> = clip
        .clip
        .files
        .iter()
        .map(|f| (rel(&f.path, base), f.role))
        .collect();
    let name = &clip.clip.name;
    let got_essence: Vec<(String, FileRole)> = got
        .iter()
        .take_while(|(_, r)| matches!(r, FileRole::Video | FileRole::Audio))
        .cloned()
        .collect();
    let want_essence: Vec<(String, FileRole)> =
        essence.iter().map(|(p, r)| (p.to_string(), *r)).collect();
    assert_eq!(got_essence, want_essence, "essence files of clip {name}");
    let mut got_others: Vec<(String, FileRole)> = got[got_essence.len()..].to_vec();
    let rank = |r: FileRole| match r {
        FileRole::Video | FileRole::Audio => 0,
        FileRole::Sidecar => 1,
        FileRole::Proxy => 2,
        FileRole::Thumbnail => 3,
        FileRole::Other => 4,
    };
    let ranks: Vec<u8> = got_others.iter().map(|(_, r)| rank(*r)).collect();
    assert!(
        ranks.windows(2).all(|w| w[0] <= w[1]) && ranks.first().is_none_or(|r| *r > 0),
        "clip {name}: non-essence files out of role order (sidecar, proxy, thumbnail, other): {got_others:?}"
    );
    got_others.sort();
    let mut want_others: Vec<(String, FileRole)> =
        others.iter().map(|(p, r)| (p.to_string(), *r)).collect();
    want_others.sort();
    assert_eq!(got_others, want_others, "non-essence files of clip {name}");
    for f in &clip.clip.files {
        let size = std::fs::symlink_metadata(&f.path).map(|m| m.len()).ok();
        assert_eq!(Some(f.size), size, "size of {}", f.path.display());
    }
}

/// Asserts a duration within `tolerance_s` seconds.
pub fn assert_duration(clip: &ReportClip, expected_s: f64, tolerance_s: f64) {
    let got = clip.metadata.duration_seconds;
    assert!(
        got.is_some_and(|d| (d - expected_s).abs() <= tolerance_s),
        "clip {}: duration_seconds {got:?}, expected {expected_s} ± {tolerance_s}",
        clip.clip.name
    );
}

/// Asserts an RFC 3339 shoot date denotes the instant `expected` (any UTC offset).
pub fn assert_shoot_date(clip: &ReportClip, expected: &str) {
    let want = chrono::DateTime::parse_from_rfc3339(expected).expect("expected date");
    let got = clip
        .metadata
        .shoot_date
        .as_deref()
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok());
    assert_eq!(
        got.map(|d| d.timestamp()),
        Some(want.timestamp()),
        "clip {}: shoot_date {:?}, expected the instant {expected}",
        clip.clip.name,
        clip.metadata.shoot_date
    );
}

/// The `GlobalClipID` written in a P2 clip XML.
pub fn p2_global_clip_id(xml_path: &Path) -> String {
    let text = std::fs::read_to_string(xml_path).expect("read P2 XML");
    let doc = roxmltree::Document::parse(&text).expect("parse P2 XML");
    doc.descendants()
        .find(|n| n.tag_name().name() == "GlobalClipID")
        .and_then(|n| n.text())
        .expect("GlobalClipID")
        .to_string()
}

/// Path of a required external tool; panics with the install hint when it is missing.
pub fn require(tool: &str) -> PathBuf {
    card_ingest::media::tools::find_on_path(tool).unwrap_or_else(|| {
        panic!("`{tool}` is not on PATH: these tests need it (apt-get install ffmpeg mediainfo)")
    })
}

/// MediaInfo + ffprobe, both required.
pub fn tools() -> card_ingest::media::Tools {
    card_ingest::media::Tools {
        mediainfo: Some(require("mediainfo")),
        ffprobe: Some(require("ffprobe")),
        ffmpeg: Some(require("ffmpeg")),
        ..card_ingest::media::Tools::default()
    }
}

/// Runs ffmpeg quietly with `args`; panics with its stderr on failure.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new(require("ffmpeg"))
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A clip member with its real size on disk.
pub fn file(path: &Path, role: FileRole) -> card_ingest::card::ClipFile {
    card_ingest::card::ClipFile {
        path: path.to_owned(),
        role,
        size: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
    }
}

/// A clip as a detector would group it.
pub fn clip(
    family: Family,
    name: &str,
    root: &Path,
    files: Vec<ClipFile>,
    segments: Vec<Vec<usize>>,
) -> Clip {
    Clip {
        id: format!("{family}:{name}"),
        name: name.into(),
        family,
        card_root: root.to_owned(),
        files,
        segments,
        incomplete: None,
        warnings: Vec::new(),
        derived_from: None,
    }
}

/// A one-segment clip of the single video file `path`.
pub fn video_clip(family: Family, name: &str, root: &Path, path: &Path) -> Clip {
    clip(
        family,
        name,
        root,
        vec![file(path, FileRole::Video)],
        vec![vec![0]],
    )
}

/// One P2 segment under `dir` (`VIDEO/`, `AUDIO/`), as camera-cards.md §6 writes it: OP-Atom video 25p + 4 mono audio files with different tones.
pub fn p2_segment(dir: &Path, name: &str, secs: u32, tc: &str) -> Vec<ClipFile> {
    std::fs::create_dir_all(dir.join("VIDEO")).expect("create P2 folders");
    std::fs::create_dir_all(dir.join("AUDIO")).expect("create P2 folders");
    let v = dir.join(format!("VIDEO/{name}.MXF"));
    let src = format!("testsrc2=size=320x180:rate=25:duration={secs}");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &src,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "12",
        "-bf",
        "0",
        "-timecode",
        tc,
        "-f",
        "mxf_opatom",
        v.to_str().expect("UTF-8 path"),
    ]);
    let mut files = vec![file(&v, FileRole::Video)];
    for n in 0..4 {
        let a = dir.join(format!("AUDIO/{name}{n:02}.MXF"));
        let sine = format!(
            "sine=frequency={}:sample_rate=48000:duration={secs}",
            300 + 200 * n
        );
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &sine,
            "-c:a",
            "pcm_s24le",
            "-timecode",
            tc,
            "-mxf_audio_edit_rate",
            "25",
            "-f",
            "mxf_opatom",
            a.to_str().expect("UTF-8 path"),
        ]);
        files.push(file(&a, FileRole::Audio));
    }
    files
}

/// OP1a MXF (XDCAM HD style): MPEG-2 422 video, TC 12:00:00:00 and 8 mono 24-bit PCM tracks.
pub fn op1a_8_tracks(path: &Path, secs: u32) {
    let src = format!("testsrc2=size=320x180:rate=25:duration={secs}");
    let sine = format!("sine=f=440:sample_rate=48000:duration={secs}");
    let mut args: Vec<String> = [
        "-f",
        "lavfi",
        "-i",
        &src,
        "-f",
        "lavfi",
        "-i",
        &sine,
        "-filter_complex",
        "[1:a]asplit=8[a1][a2][a3][a4][a5][a6][a7][a8]",
        "-map",
        "0:v",
    ]
    .map(String::from)
    .into();
    for n in 1..=8 {
        args.extend(["-map".to_string(), format!("[a{n}]")]);
    }
    args.extend(
        [
            "-c:v",
            "mpeg2video",
            "-pix_fmt",
            "yuv422p",
            "-b:v",
            "2M",
            "-g",
            "12",
            "-bf",
            "2",
            "-c:a",
            "pcm_s24le",
            "-timecode",
            "12:00:00:00",
            "-f",
            "mxf",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    args.push(path.to_str().expect("UTF-8 path").to_string());
    ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>());
}

/// Describes `c` with both tools; asserts nothing was reported as an issue.
pub fn describe(c: &Clip) -> ClipDescription {
    let d = card_ingest::media::describe_clip(c, &tools());
    assert!(d.issues.is_empty(), "{:?}", d.issues);
    d
}

/// `card-ingest ARGS` with the sandbox's App-ID and `token` in the environment, off the async
/// runtime (the in-process sandbox keeps serving meanwhile).
pub async fn run_bin_with_token(
    args: Vec<String>,
    app_id: String,
    token: &'static str,
) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_card-ingest"))
            .args(&args)
            .env("ICONIK_APP_ID", app_id)
            .env("ICONIK_AUTH_TOKEN", token)
            .output()
            .expect("run card-ingest")
    })
    .await
    .expect("card-ingest run joins")
}

/// A sandbox on loopback whose FILES storage is mounted at `root`, answering `token`, with short
/// job delays: the set-up of the CLI ingest tests.
pub async fn sandbox_at(root: &Path, token: &str) -> card_ingest::sandbox::SandboxHandle {
    let mut config = card_ingest::sandbox::SandboxConfig {
        job_delay: Duration::from_millis(20),
        mount_point: root.display().to_string(),
        ..card_ingest::sandbox::SandboxConfig::default()
    };
    config.credentials.token = token.to_owned();
    card_ingest::sandbox::spawn(config).await.expect("sandbox")
}

/// `card-ingest ingest CARD` into `sbx`'s "Sandbox originals" storage mounted at `root`, its
/// journal in `root/JOURNAL`, then `extra`.
pub fn sandbox_ingest_args(
    card: &Path,
    sbx: &card_ingest::sandbox::SandboxHandle,
    root: &Path,
    journal: &str,
    extra: &[&str],
) -> Vec<String> {
    let mut args: Vec<String> = [
        "ingest",
        card.to_str().unwrap(),
        "--server",
        sbx.base_url(),
        "--storage",
        "Sandbox originals",
        "--storage-root",
        root.to_str().unwrap(),
        "--journal-dir",
        root.join(journal).to_str().unwrap(),
    ]
    .map(String::from)
    .into();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Writes `text` to `path` as an executable script (a stand-in tool for a test).
pub fn write_script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("making {} executable: {e}", path.display()));
}

/// The independent test peers (`.ci/setup` installs them under `target/`): the variable's path
/// when set, else where `.ci/setup` puts it; fails loudly when neither is there.
pub fn test_peer(var: &str, installed: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return p.into();
    }
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join(installed);
    assert!(
        default.exists(),
        "{var} is not set and {} does not exist: run `bash .ci/setup` (it installs the test \
         peers there) or set {var}",
        default.display()
    );
    default
}
