//! The issue-10 benchmark: each line measures our figure and its reference side by side in the
//! same run, on the same input, and prints ours, the reference, the ratio and the target; the
//! table also goes to `target/bench/results.json`. Run through `bash benches/run.sh` (it builds
//! this example and the CLI in release first). Benchmarks report; nothing here is a test.
//!
//! `bench [LINE...]` runs only the named lines (checksum1, checksum2, proxy — with its LUT and
//! burn-in variants, or those alone as proxy-lut, proxy-burn-in — proxy-edit, job, job-edit,
//! api, upload — with its `--max-upload-rate 20M` variant, or that alone as upload-capped —
//! cloud-copy, scan, scale — 25, 500 and 2 000 clips, or scale-500 / scale-2000 with the 25-clip
//! reference only — frame — with its run-in-progress variant, or that alone as frame-run);
//! inputs are generated under `target/bench/data` and reused by later runs.

#[path = "../tests/it/frame_time.rs"]
mod frame_time;

use card_ingest::checksum::{self, AlgorithmSet};
use card_ingest::iconik::models::{
    ActiveStatus, AssetCreate, FileCreate, FileSetCreate, FileSetStatus, FormatCreate,
    ObjectStatus, ProxyCreate, StorageMethod,
};
use card_ingest::iconik::upload::gcs::{ResumableOptions, ResumableUploader};
use card_ingest::iconik::upload::{UploadConfig, UploadHttp};
use card_ingest::iconik::{Client, Credentials};
use card_ingest::media::proxy::{self, EditCodec, EncoderChoice, ProxySpec};
use card_ingest::media::{self, Tools};
use card_ingest::sample::{self, SampleOptions};
use card_ingest::sandbox::profiles::StorageProfile;
use card_ingest::sandbox::{self, SandboxConfig, SandboxHandle};
use card_ingest::scan;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-token";
/// iconik's documented budget (iconik-api.md §2): ≈ 50 requests per second per token.
const RATE_LIMIT_PER_S: f64 = 50.0;

/// One line of the table.
struct Line {
    name: &'static str,
    ours: String,
    reference: String,
    ratio: Option<f64>,
    target: &'static str,
    met: bool,
    note: String,
}

impl Line {
    fn json(&self) -> Value {
        json!({
            "line": self.name,
            "ours": self.ours,
            "reference": self.reference,
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
            "note": self.note,
        })
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let t = Instant::now();
    let out = f();
    (t.elapsed(), out)
}

/// Runs a command to completion and fails loudly (a reference that failed is no reference).
fn run(cmd: &mut Command) -> Duration {
    let (d, status) = time(|| cmd.status());
    let status = status.unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed: {status}");
    d
}

fn root() -> PathBuf {
    // target/release/examples/bench → target/
    let exe = std::env::current_exe().expect("current exe");
    exe.ancestors().nth(3).expect("target dir").to_path_buf()
}

fn data_dir() -> PathBuf {
    let d = root().join("bench/data");
    std::fs::create_dir_all(&d).expect("bench data dir");
    d
}

fn card_ingest_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent().unwrap().parent().unwrap().join("card-ingest")
}

/// A file of `len` pseudo-random bytes (a 16 MiB xorshift block repeated), made once.
fn data_file(name: &str, len: u64) -> PathBuf {
    let p = data_dir().join(name);
    if std::fs::metadata(&p).is_ok_and(|m| m.len() == len) {
        return p;
    }
    let mut block = Vec::with_capacity(16 << 20);
    let mut s = 0x2545_f491_4f6c_dd1du64 ^ len;
    while block.len() < 16 << 20 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        block.extend_from_slice(&s.to_le_bytes());
    }
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).expect("create data file"));
    let mut left = len;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n]).expect("write data file");
        left -= n as u64;
    }
    f.flush().expect("flush");
    p
}

/// Reads a file once so both sides find it in the page cache.
fn warm(p: &Path) {
    run(Command::new("cat")
        .arg(p)
        .stdout(std::process::Stdio::null()));
}

fn hash(p: &Path) -> Duration {
    time(|| {
        checksum::hash_file(
            p,
            AlgorithmSet::DEFAULT,
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .expect("hash")
    })
    .0
}

fn md5sum(files: &[&Path]) -> Duration {
    run(Command::new("md5sum")
        .args(files)
        .stdout(std::process::Stdio::null()))
}

/// Best of `n` alternating runs of each side (the machine is shared: the best run is the one
/// least disturbed).
fn best_of(
    n: usize,
    mut ours: impl FnMut() -> Duration,
    mut reference: impl FnMut() -> Duration,
) -> (Duration, Duration) {
    let (mut a, mut b) = (Duration::MAX, Duration::MAX);
    for _ in 0..n {
        b = b.min(reference());
        a = a.min(ours());
    }
    (a, b)
}

fn checksum_one() -> Line {
    let len = 2_000_000_000;
    let p = data_file("one-2GB.bin", len);
    warm(&p);
    let (ours, reference) = best_of(2, || hash(&p), || md5sum(&[&p]));
    let ratio = secs(reference) / secs(ours);
    Line {
        name: "checksum, one 2 GB file in page cache (MD5 + xxh64)",
        ours: format!(
            "{:.2} s ({:.0} MB/s)",
            secs(ours),
            len as f64 / 1e6 / secs(ours)
        ),
        reference: format!("md5sum {:.2} s", secs(reference)),
        ratio: Some(ratio),
        target: ">= 0.95x",
        met: ratio >= 0.95,
        note: "ratio = md5sum time / ours".into(),
    }
}

fn checksum_two() -> Line {
    let len = 1_000_000_000;
    let a = data_file("two-a-1GB.bin", len);
    let b = data_file("two-b-1GB.bin", len + 1);
    warm(&a);
    warm(&b);
    // Two clips' files at once, as the pipeline's disk lane does with --io-concurrency 2.
    let both = || {
        time(|| {
            std::thread::scope(|s| {
                let ha = s.spawn(|| hash(&a));
                let hb = s.spawn(|| hash(&b));
                ha.join().unwrap();
                hb.join().unwrap();
            })
        })
        .0
    };
    let (ours, reference) = best_of(2, both, || md5sum(&[&a]));
    let ratio = 2.0 * secs(reference) / secs(ours);
    Line {
        name: "checksum, two 1 GB files (two clips)",
        ours: format!("{:.2} s for both", secs(ours)),
        reference: format!("one md5sum of one file {:.2} s", secs(reference)),
        ratio: Some(ratio),
        target: ">= 1.8x",
        met: ratio >= 1.8,
        note: "ratio = bytes/s ours ÷ bytes/s of one md5sum = 2 × md5sum time / ours; both \
               files hashed at once, as the engine's disk lane does with --io-concurrency 2"
            .into(),
    }
}

fn tools() -> Tools {
    Tools::detect()
}

fn ffmpeg() -> PathBuf {
    tools().ffmpeg.expect("ffmpeg on PATH")
}

/// A generated P2 card (made once per size).
fn p2_card(name: &str, clips: u32, width: u32, height: u32, secs: u32) -> PathBuf {
    let dir = data_dir().join(name);
    let done = dir.join(".complete");
    if !done.exists() {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove partial card");
        }
        let opts = SampleOptions {
            width,
            height,
            clip_seconds: secs,
            jobs: 2,
            ..SampleOptions::default()
        };
        eprintln!("generating {name} ({clips} clips, {width}x{height}, {secs} s)...");
        sample::generate_p2_complete(&dir, clips, &opts).expect("generate P2 card");
        std::fs::write(&done, b"").unwrap();
    }
    dir
}

/// The proxy plans of every clip of `card`, with the encoder this run would use.
fn plans(card: &Path, out_dir: &Path) -> Vec<proxy::ProxyPlan> {
    plans_with(card, out_dir, ProxySpec::default())
}

/// As [`plans`], with `spec`'s look and burn-in.
fn plans_with(card: &Path, out_dir: &Path, spec: ProxySpec) -> Vec<proxy::ProxyPlan> {
    let tools = tools();
    let ffmpeg = ffmpeg();
    let encoder = proxy::encoder::resolve(&ffmpeg, EncoderChoice::Auto).expect("encoder");
    let spec = ProxySpec { encoder, ..spec };
    let report = scan::scan(&[card.to_path_buf()], &tools).expect("scan");
    std::fs::create_dir_all(out_dir).unwrap();
    report
        .clips
        .iter()
        .filter(|c| c.clip.incomplete.is_none())
        .enumerate()
        .map(|(i, c)| {
            let desc = media::describe_clip(&c.clip, &tools);
            proxy::plan(&c.clip, &desc, &spec, &out_dir.join(format!("p{i}.mp4"))).expect("plan")
        })
        .collect()
}

/// Removes what a run of `plan` leaves (web proxy, poster, temp names), so every run writes
/// its files afresh.
fn remove_outputs(plan: &proxy::ProxyPlan) {
    let mut paths = vec![plan.output.clone(), plan.temp_output.clone()];
    paths.extend(plan.poster.clone());
    if let Some(e) = &plan.edit {
        // The finished edit proxy is removed by name from what `encode` returns.
        paths.push(e.temp_output.clone());
    }
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
}

/// The plan's command run by hand: the same argv, nothing around it.
fn bare_ffmpeg(plan: &proxy::ProxyPlan) -> Duration {
    remove_outputs(plan);
    let d = run(Command::new(ffmpeg())
        .args(&plan.args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null()));
    remove_outputs(plan);
    d
}

fn ours_encode(plan: &proxy::ProxyPlan) -> Duration {
    remove_outputs(plan);
    let cancel = Arc::new(AtomicBool::new(false));
    let d = time(|| {
        let out = proxy::encode(plan, &ffmpeg(), &cancel, &mut |_| {}).expect("encode");
        if let Some(edit) = out.edit {
            let _ = std::fs::remove_file(edit.path);
        }
    })
    .0;
    remove_outputs(plan);
    d
}

fn proxy_encode() -> Line {
    let (card, input) = proxy_input();
    let plans = plans(&card, &data_dir().join("proxy-out"));
    let plan = &plans[0];
    let (ours, reference) = best_of(2, || ours_encode(plan), || bare_ffmpeg(plan));
    let ratio = secs(reference) / secs(ours);
    Line {
        name: "proxy encode, 10 s 1080p P2 clip",
        ours: format!("{:.2} s ({}, {input})", secs(ours), plan.encoder),
        reference: format!("bare ffmpeg {:.2} s", secs(reference)),
        ratio: Some(ratio),
        target: ">= 0.95x",
        met: ratio >= 0.95,
        note: "ratio = bare ffmpeg time / ours (plan + encode + mp4 read-back)".into(),
    }
}

/// `CARD_INGEST_BENCH_TINY=1`: the proxy lines on a 2 s 320×180 clip (checks that they run,
/// measures nothing meaningful).
fn proxy_input() -> (PathBuf, &'static str) {
    if std::env::var_os("CARD_INGEST_BENCH_TINY").is_some() {
        (p2_card("p2-1x2s-180", 1, 320, 180, 2), "2 s 180p (tiny)")
    } else {
        (p2_card("p2-1x10s-1080", 1, 1920, 1080, 10), "10 s 1080p")
    }
}

/// A 33-point 3D LUT (a gentle S-curve per channel), the size real looks ship in.
fn bench_lut() -> PathBuf {
    let path = data_dir().join("s-curve-33.cube");
    if !path.exists() {
        let n = 33;
        let curve = |x: f64| x * x * (3.0 - 2.0 * x) * 0.3 + x * 0.7;
        let mut text = format!("TITLE \"bench s-curve\"\nLUT_3D_SIZE {n}\n");
        for b in 0..n {
            for g in 0..n {
                for r in 0..n {
                    let v = |i: usize| curve(i as f64 / (n - 1) as f64);
                    text.push_str(&format!("{:.6} {:.6} {:.6}\n", v(r), v(g), v(b)));
                }
            }
        }
        std::fs::write(&path, text).expect("write bench LUT");
    }
    path
}

/// The proxy line with a look or a burn-in: ours against the same argv run by hand, and the
/// bare encode's time for what the look/burn-in costs.
fn proxy_encode_with(what: &'static str) -> Line {
    let (card, input) = proxy_input();
    let spec = match what {
        "lut" => ProxySpec {
            look: Some(proxy::look::Look::load(&bench_lut()).expect("bench LUT")),
            ..ProxySpec::default()
        },
        _ => ProxySpec {
            burn_in: Some(proxy::burn_in::BurnIn {
                items: proxy::burn_in::parse_items("timecode,clip,card").expect("items"),
                corner: proxy::burn_in::Corner::BottomLeft,
                font: proxy::burn_in::install_font(&data_dir().join("fonts")).expect("font"),
            }),
            ..ProxySpec::default()
        },
    };
    let plain = plans(&card, &data_dir().join("proxy-out-plain"));
    let plans = plans_with(&card, &data_dir().join(format!("proxy-out-{what}")), spec);
    let plan = &plans[0];
    let (ours, reference) = best_of(2, || ours_encode(plan), || bare_ffmpeg(plan));
    let bare_plain = bare_ffmpeg(&plain[0]);
    let ratio = secs(reference) / secs(ours);
    Line {
        name: if what == "lut" {
            "proxy encode with a 33-point LUT"
        } else {
            "proxy encode with burn-ins (timecode, clip, card)"
        },
        ours: format!("{:.2} s ({}, {input})", secs(ours), plan.encoder),
        reference: format!("bare ffmpeg {:.2} s", secs(reference)),
        ratio: Some(ratio),
        target: ">= 0.95x",
        met: ratio >= 0.95,
        note: format!(
            "ratio = the same bare ffmpeg command / ours; the plain bare encode takes {:.2} s \
             ({:.2}x of this one)",
            secs(bare_plain),
            secs(bare_plain) / secs(reference)
        ),
    }
}

/// Edit + web proxy of one clip (issue 22): the two-output plan through `proxy::encode`
/// against the same argv run by hand.
fn proxy_edit() -> Line {
    let (card, input) = proxy_input();
    let spec = ProxySpec {
        edit: Some(EditCodec::ProresProxy),
        ..ProxySpec::default()
    };
    let plans = plans_with(&card, &data_dir().join("proxy-out-edit"), spec);
    let plan = &plans[0];
    let (ours, reference) = best_of(2, || ours_encode(plan), || bare_ffmpeg(plan));
    let ratio = secs(reference) / secs(ours);
    Line {
        name: "edit + web proxy, 10 s 1080p P2 clip (ProRes 422 Proxy + H.264, one ffmpeg)",
        ours: format!("{:.2} s ({}, {input})", secs(ours), plan.encoder),
        reference: format!(
            "the same two-output ffmpeg by hand {:.2} s",
            secs(reference)
        ),
        ratio: Some(ratio),
        target: ">= 0.95x",
        met: ratio >= 0.95,
        note: "ratio = bare ffmpeg time / ours (plan + encode + read-back of both outputs)".into(),
    }
}

async fn start_sandbox(mount: &Path, latency_ms: u64) -> SandboxHandle {
    start_sandbox_with(mount, latency_ms, StorageProfile::default()).await
}

/// As [`start_sandbox`], with `profile`'s storages (`AllKinds`: the cloud copy's GCS).
async fn start_sandbox_with(
    mount: &Path,
    latency_ms: u64,
    profile: StorageProfile,
) -> SandboxHandle {
    let mut config = SandboxConfig {
        latency: Duration::from_millis(latency_ms),
        mount_point: mount.display().to_string(),
        job_delay: Duration::from_millis(300),
        storage_profile: profile,
        ..SandboxConfig::default()
    };
    config.credentials.token = TOKEN.to_owned();
    sandbox::spawn(config).await.expect("sandbox starts")
}

/// `card-ingest ingest` of `card` (under `root`, the storage's mount) against `sbx`, its
/// journal in `root/journal`.
fn ingest_command(sbx: &SandboxHandle, root: &Path, card: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(card_ingest_bin());
    cmd.arg("ingest")
        .arg(card)
        .args(["--server", sbx.base_url(), "--storage", "Sandbox originals"])
        .arg("--storage-root")
        .arg(root)
        .arg("--journal-dir")
        .arg(root.join("journal"))
        .args(extra)
        .env("ICONIK_APP_ID", sbx.credentials().app_id.clone())
        .env("ICONIK_AUTH_TOKEN", TOKEN);
    cmd
}

/// `card-ingest ingest` against `sbx` on a fresh copy of `card`; returns the wall time.
async fn cli_ingest(sbx: &SandboxHandle, root: &Path, card: &Path, extra: &[&str]) -> Duration {
    let mut cmd = ingest_command(sbx, root, card, extra);
    cmd.stdout(std::process::Stdio::null())
        // Its step lines would drown the table: kept beside the journal instead.
        .stderr(std::fs::File::create(root.join("card-ingest.log")).expect("log file"));
    tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .expect("cli joins")
}

/// A fresh storage root holding a copy of `card` (the manifest and journal land there).
fn fresh_root(name: &str, card: &Path) -> (PathBuf, PathBuf) {
    let root = data_dir().join(name);
    if root.exists() {
        std::fs::remove_dir_all(&root).unwrap();
    }
    std::fs::create_dir_all(&root).unwrap();
    let copy = root.join("CARD");
    run(Command::new("cp").arg("-a").arg(card).arg(&copy));
    (root, copy)
}

/// The whole job against the encodes alone: web proxies only, or (`edit`) web and edit
/// proxies from one ffmpeg per clip, the edit proxies stored on the sandbox's FILES storage.
async fn whole_job(edit: bool) -> Line {
    let card = p2_card("p2-20x4s-360", 20, 640, 360, 4);
    let spec = ProxySpec {
        edit: edit.then_some(EditCodec::ProresProxy),
        ..ProxySpec::default()
    };
    let what = if edit { "job-edit" } else { "job" };
    let plans = plans_with(&card, &data_dir().join(format!("{what}-encodes")), spec);
    // Best of two alternating rounds of each side, as for the other lines: a whole job is
    // long enough for the shared machine to disturb one round.
    let (mut ours, mut reference, mut calls) = (Duration::MAX, Duration::MAX, 0);
    for _ in 0..2 {
        let (root, copy) = fresh_root(what, &card);
        let sbx = start_sandbox(&root, 50).await;
        // The FILES storage's local mount is the sandbox's mount point (the edit proxies land
        // in its Proxies/ folder).
        let edit_to = format!("Sandbox originals={}", root.display());
        let extra: Vec<&str> = if edit {
            vec!["--edit-proxy-to", &edit_to]
        } else {
            Vec::new()
        };
        let t = cli_ingest(&sbx, &root, &copy, &extra).await;
        if t < ours {
            ours = t;
            calls = sbx.requests().len();
        }
        reference = reference.min(plans.iter().map(bare_ffmpeg).sum());
    }
    let ratio = secs(ours) / secs(reference);
    Line {
        name: if edit {
            "whole job with web + edit proxies, 20-clip P2 card (640x360, 4 s), 50 ms latency"
        } else {
            "whole job, 20-clip P2 card (640x360, 4 s), 50 ms latency, local proxies"
        },
        ours: format!("{:.2} s ({calls} requests)", secs(ours)),
        reference: format!(
            "the {} {} alone, one after another {:.2} s",
            plans.len(),
            if edit {
                "two-output ffmpeg runs"
            } else {
                "encodes"
            },
            secs(reference)
        ),
        ratio: Some(ratio),
        target: "<= 1.15x",
        met: ratio <= 1.15,
        note: if edit {
            "ratio = ours / encodes; ours = the card-ingest CLI process with --edit-proxy-to \
             \"Sandbox originals=<root>\" (scan, hash, calls, one ffmpeg per clip for both \
             proxies, uploads, the MOVs copied to the FILES storage and registered as \
             PPRO_PROXY, report)"
                .into()
        } else {
            "ratio = ours / encodes; ours = the card-ingest CLI process (scan, hash, calls, \
             encodes, uploads, report, manifest)"
                .into()
        },
    }
}

async fn api_path() -> Line {
    let card = p2_card("p2-20x4s-360", 20, 640, 360, 4);
    // Best of two rounds (latency-bound, but the scan and the pacer's timers are not).
    let (mut ours, mut calls) = (Duration::MAX, 0);
    let transcript = data_dir().join("api-transcript.sh");
    let t = transcript.display().to_string();
    for _ in 0..2 {
        let (root, copy) = fresh_root("api", &card);
        let sbx = start_sandbox(&root, 50).await;
        let _ = std::fs::remove_file(&transcript);
        let took = cli_ingest(&sbx, &root, &copy, &["--proxy", "none", "--transcript", &t]).await;
        if took < ours {
            ours = took;
            calls = sbx.requests().len();
        }
    }
    // The seed flow (storages, then per clip asset, format, file set, one file per member)
    // replayed from our own transcript by a plain-HTTP python script, against a fresh sandbox.
    let (root2, _) = fresh_root("api-ref", &card);
    let sbx2 = start_sandbox(&root2, 50).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/seed_flow.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .arg(&transcript)
        .arg(sbx2.base_url())
        .env("ICONIK_APP_ID", sbx2.credentials().app_id.clone())
        .env("ICONIK_AUTH_TOKEN", TOKEN);
    let reference = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .unwrap();
    let ref_calls = sbx2.requests().len();
    let ratio = secs(reference) / secs(ours);
    let bound = 1.15 * calls as f64 / RATE_LIMIT_PER_S;
    Line {
        name: "API path (--proxy none), 20 clips, 50 ms latency",
        ours: format!("{:.2} s ({calls} requests)", secs(ours)),
        reference: format!(
            "seed flow sequential {:.2} s ({ref_calls} requests)",
            secs(reference)
        ),
        ratio: Some(ratio),
        target: ">= 2x faster, and <= 1.15 x calls / rate limit",
        met: ratio >= 2.0 && secs(ours) <= bound,
        note: format!(
            "ratio = reference / ours; 1.15 x {calls} calls / {RATE_LIMIT_PER_S}/s = {bound:.2} s"
        ),
    }
}

/// A fresh asset with a proxy record of `len` bytes; its GCS upload URL.
async fn proxy_upload_url(client: &Client, name: String, len: u64) -> String {
    let asset = client
        .assets()
        .create(&AssetCreate::new(name), None)
        .await
        .expect("asset");
    let proxy = client
        .proxies()
        .create(
            asset.id,
            &ProxyCreate {
                name: Some("bench.mp4".into()),
                filename: Some("bench.mp4".into()),
                format: Some("mp4".into()),
                codec: Some("h264".into()),
                size: Some(len),
                version_id: asset.version_id(),
                ..ProxyCreate::default()
            },
        )
        .await
        .expect("proxy");
    proxy.upload_url.expect("upload_url")
}

/// The 512 MiB upload file, a sandbox on loopback and a client of it.
async fn upload_setup() -> (u64, PathBuf, SandboxHandle, Client) {
    let len = 512 * 1024 * 1024;
    let file = data_file("upload-512MiB.bin", len);
    warm(&file);
    let root = data_dir().join("upload-root");
    std::fs::create_dir_all(&root).unwrap();
    let sbx = start_sandbox(&root, 0).await;
    let client = Client::new(
        sbx.base_url(),
        Credentials::new(sbx.credentials().app_id.clone(), TOKEN),
    )
    .expect("client");
    (len, file, sbx, client)
}

/// One upload of `file` through `url` (session start included), timed.
async fn timed_upload(uploader: &ResumableUploader, url: &str, file: &Path) -> Duration {
    let t = Instant::now();
    uploader
        .upload(url, file, None, &mut |_| {}, None)
        .await
        .expect("upload");
    t.elapsed()
}

async fn upload() -> Line {
    let (len, file, _sbx, client) = upload_setup().await;
    let http = UploadHttp::new(&UploadConfig::default()).expect("upload client");
    let uploader = ResumableUploader::new(http, ResumableOptions::default()).expect("uploader");
    let mut best = (Duration::MAX, Duration::MAX);
    for round in 0..2 {
        let url = || proxy_upload_url(&client, format!("bench-{round}"), len);
        // Reference: a session started outside the timing, then one `curl -T` of the file.
        let session = uploader.start(&url().await).await.expect("session");
        let f = file.clone();
        let reference = tokio::task::spawn_blocking(move || {
            run(Command::new("curl")
                .args(["-sS", "--fail", "-o", "/dev/null", "-T"])
                .arg(&f)
                .arg(&session))
        })
        .await
        .unwrap();
        let ours = timed_upload(&uploader, &url().await, &file).await;
        best = (best.0.min(ours), best.1.min(reference));
    }
    let (ours, reference) = best;
    let ratio = secs(reference) / secs(ours);
    let mbs = |d: Duration| len as f64 / 1048576.0 / secs(d);
    Line {
        name: "upload of 512 MiB to the sandbox (GCS resumable, 8 MiB chunks)",
        ours: format!("{:.2} s ({:.0} MiB/s)", secs(ours), mbs(ours)),
        reference: format!(
            "curl -T {:.2} s ({:.0} MiB/s)",
            secs(reference),
            mbs(reference)
        ),
        ratio: Some(ratio),
        target: ">= 0.9x",
        met: ratio >= 0.9,
        note: "ratio = curl time / ours; ours includes the session start".into(),
    }
}

/// The same upload under `--max-upload-rate 20M`: 512 MiB / 20 MiB/s = 25.6 s.
async fn upload_capped() -> Line {
    let (len, file, _sbx, client) = upload_setup().await;
    let http = UploadHttp::new(&UploadConfig::default()).expect("upload client");
    let rate = card_ingest::iconik::upload::throttle::parse_rate("20M").expect("rate");
    http.set_max_rate(Some(rate));
    let uploader = ResumableUploader::new(http, ResumableOptions::default()).expect("uploader");
    let u = proxy_upload_url(&client, "bench-capped".into(), len).await;
    let ours = timed_upload(&uploader, &u, &file).await;
    let expected = len as f64 / rate as f64;
    let ratio = secs(ours) / expected;
    Line {
        name: "upload of 512 MiB with --max-upload-rate 20M",
        ours: format!("{:.2} s", secs(ours)),
        reference: format!("{expected:.2} s (512 MiB / 20 MiB/s)"),
        ratio: Some(ratio),
        target: "25.6 s +- 5 %",
        met: (0.95..=1.05).contains(&ratio),
        note: "ratio = ours / the cap's time; ours includes the session start".into(),
    }
}

/// An OPEN file record of `len` bytes on `storage` in a fresh asset's ORIGINAL file set:
/// what the cloud copy step uploads through (its `upload_url`).
async fn cloud_file_record(
    client: &Client,
    storage: &card_ingest::iconik::models::Storage,
    name: &str,
    len: u64,
) -> (
    card_ingest::iconik::models::AssetId,
    card_ingest::iconik::models::File,
) {
    let asset = client
        .assets()
        .create(&AssetCreate::new(name.to_owned()), None)
        .await
        .expect("asset");
    let format = client
        .formats()
        .create(
            asset.id,
            &FormatCreate {
                name: "ORIGINAL".into(),
                status: Some(ActiveStatus::Active),
                version_id: asset.version_id(),
                storage_methods: vec!["GCS".into()],
                is_online: Some(true),
                ..FormatCreate::default()
            },
        )
        .await
        .expect("format");
    let set = client
        .file_sets()
        .create(
            asset.id,
            &FileSetCreate {
                format_id: format.id,
                name: "CLIP.MXF".into(),
                base_dir: "CONTENTS/VIDEO".into(),
                component_ids: Vec::new(),
                storage_id: Some(storage.id),
                status: Some(FileSetStatus::Active),
                version_id: asset.version_id(),
                is_archive: None,
                original_storage_id: None,
            },
        )
        .await
        .expect("file set");
    let file = client
        .files()
        .create(
            asset.id,
            &FileCreate {
                name: Some("CLIP.MXF".into()),
                size: Some(len),
                file_set_id: Some(set.id),
                format_id: Some(format.id),
                storage_id: Some(storage.id),
                status: Some(ObjectStatus::Open),
                version_id: asset.version_id(),
                ..FileCreate::new("CONTENTS/VIDEO", "CLIP.MXF")
            },
        )
        .await
        .expect("file record");
    (asset.id, file)
}

/// Cloud copy of a 1 GB clip file to the sandbox's GCS (issue 22): `upload::upload_file`, the
/// function the cloud copy step calls, through a file record's `upload_url` with the engine's
/// chunk size, then the record closed; against `curl -T` of the same bytes into a session
/// started outside the timing.
async fn cloud_copy() -> Line {
    let len = 1_000_000_000;
    let file = data_file("cloud-1GB.bin", len);
    warm(&file);
    let root = data_dir().join("cloud-root");
    std::fs::create_dir_all(&root).unwrap();
    let sbx = start_sandbox_with(&root, 0, StorageProfile::AllKinds).await;
    let client = Client::new(
        sbx.base_url(),
        Credentials::new(sbx.credentials().app_id.clone(), TOKEN),
    )
    .expect("client");
    let gcs = client
        .storages()
        .list_all()
        .await
        .expect("storages")
        .into_iter()
        .find(|s| s.name.as_deref() == Some("Sandbox GCS"))
        .expect("the all-kinds profile has \"Sandbox GCS\"");
    let http = UploadHttp::new(&UploadConfig::default()).expect("upload client");
    let opts = card_ingest::iconik::upload::ProxyUploadOptions {
        gcs: ResumableOptions {
            // The engine's own chunk size (its default options).
            chunk_size: card_ingest::ingest::IngestOptions::new("", PathBuf::new(), PathBuf::new())
                .upload_chunk_bytes,
            ..ResumableOptions::default()
        },
        ..Default::default()
    };
    let starter =
        ResumableUploader::new(http.clone(), ResumableOptions::default()).expect("uploader");
    let mut best = (Duration::MAX, Duration::MAX);
    let mut reported = None;
    for round in 0..2 {
        let (_, rec) = cloud_file_record(&client, &gcs, &format!("ref-{round}"), len).await;
        let session = starter
            .start(rec.upload_url.as_deref().expect("upload_url"))
            .await
            .expect("session");
        let f = file.clone();
        let reference = tokio::task::spawn_blocking(move || {
            run(Command::new("curl")
                .args(["-sS", "--fail", "-o", "/dev/null", "-T"])
                .arg(&f)
                .arg(&session))
        })
        .await
        .unwrap();
        let (asset, rec) = cloud_file_record(&client, &gcs, &format!("ours-{round}"), len).await;
        let t = Instant::now();
        let done =
            card_ingest::iconik::upload::upload_file(&http, &client, asset, &rec, &file, &opts)
                .await
                .expect("cloud copy upload");
        client
            .files()
            .patch(
                asset,
                rec.id,
                &card_ingest::iconik::models::FilePatch {
                    status: Some(ObjectStatus::Closed),
                    size: Some(len),
                    checksum: done.reported_md5.clone(),
                },
            )
            .await
            .expect("close");
        let ours = t.elapsed();
        assert_eq!(done.method, StorageMethod::Gcs);
        assert_eq!(done.bytes, len);
        reported = done.reported_md5;
        best = (best.0.min(ours), best.1.min(reference));
    }
    let (ours, reference) = best;
    let ratio = secs(reference) / secs(ours);
    let mbs = |d: Duration| len as f64 / 1e6 / secs(d);
    Line {
        name: "cloud copy of a 1 GB clip file to the sandbox's GCS",
        ours: format!("{:.2} s ({:.0} MB/s)", secs(ours), mbs(ours)),
        reference: format!(
            "curl -T {:.2} s ({:.0} MB/s)",
            secs(reference),
            mbs(reference)
        ),
        ratio: Some(ratio),
        target: ">= 0.9x",
        met: ratio >= 0.9 && reported.is_some(),
        note: "ratio = curl time / ours; ours = upload::upload_file (session start, 8 MiB \
               chunks, the MD5 GCS reports) + closing the record"
            .into(),
    }
}

/// The clip counts of the scale line (issue 21); the first is every other's reference.
const SCALE_SIZES: [u32; 3] = [25, 500, 2000];

/// The scale cards: a P2 card of 2 000 one-second 320×180 clips generated once, and for each
/// size a card of its first clips hard-linked from it, as the storage mount's `CARD` (each run
/// registers it in place, so nothing is copied). Returns the mount.
fn scale_root(clips: u32) -> PathBuf {
    let all = *SCALE_SIZES.iter().max().expect("sizes");
    let master = data_dir().join(format!("p2-scale-{all}"));
    let master_done = data_dir().join(format!("p2-scale-{all}.complete"));
    if !master_done.exists() {
        // An interrupted generation goes on: finished clips are kept.
        let opts = SampleOptions {
            clip_seconds: 1,
            jobs: 2,
            ..SampleOptions::default()
        };
        eprintln!("generating the {all}-clip scale card (one ffmpeg per clip)...");
        let (d, r) = time(|| sample::generate_p2_numbered(&master, all, &opts));
        r.expect("generate the scale card");
        eprintln!("  {:.0} s", secs(d));
        std::fs::write(&master_done, b"").unwrap();
    }
    let root = data_dir().join(format!("scale-{clips}"));
    let card = root.join("CARD");
    let done = data_dir().join(format!("scale-{clips}.complete"));
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&root);
        // P2 names its files after the clip (`0001AS.MXF`, `0001AS00.MXF`, ...): the first
        // `clips` clips are the files whose first four characters number at most `clips`.
        for dir in walk_dirs(&master) {
            let rel = dir.strip_prefix(&master).unwrap();
            std::fs::create_dir_all(card.join(rel)).unwrap();
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let number = name.get(..4).and_then(|n| n.parse::<u32>().ok());
                if entry.file_type().unwrap().is_file() && number.is_some_and(|n| n <= clips) {
                    std::fs::hard_link(entry.path(), card.join(rel).join(&name))
                        .expect("hard link a scale clip");
                }
            }
        }
        std::fs::write(card.join("LASTCLIP.TXT"), format!("{clips:04}AS\r\n")).unwrap();
        std::fs::write(&done, b"").unwrap();
    }
    // What an earlier run left beside the card (journal, report, manifest) goes.
    for entry in std::fs::read_dir(&root).unwrap().flatten() {
        if entry.file_name() != "CARD" {
            let p = entry.path();
            let _ = std::fs::remove_dir_all(&p).or_else(|_| std::fs::remove_file(&p));
        }
    }
    root
}

/// `dir` and every folder below it.
fn walk_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        for entry in std::fs::read_dir(&out[i]).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() {
                out.push(entry.path());
            }
        }
        i += 1;
    }
    out
}

/// What the kernel counted for one child process (and the children it reaped: ffprobe,
/// MediaInfo).
struct ProcessCost {
    wall: Duration,
    /// User + system CPU.
    cpu: Duration,
    /// Peak resident set (the largest of the process and its reaped children).
    max_rss_bytes: u64,
    /// `write_bytes` of `/proc/<pid>/io`: bytes the process caused to be written to storage.
    write_bytes: u64,
    success: bool,
}

/// Runs `cmd` to its end and reads its cost: `/proc/<pid>/io` while it is a zombie (waited
/// for with `WNOWAIT`, so the totals are final and still readable), then `wait4` for CPU and
/// peak RSS. Its stderr goes through a pipe into `log`, written by this process: a log file
/// of its own would count in its bytes written.
#[cfg(target_os = "linux")]
fn run_measured(cmd: &mut Command, log: &Path) -> ProcessCost {
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.take().expect("stderr pipe");
    let mut out = std::fs::File::create(log).expect("log file");
    let copier = std::thread::spawn(move || std::io::copy(&mut stderr, &mut out));
    // SAFETY: waitid and wait4 write only into the zeroed structs passed; `pid` is our child,
    // reaped here once (the `Child` is never waited for).
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT,
        )
    };
    assert_eq!(rc, 0, "waitid: {}", std::io::Error::last_os_error());
    let wall = started.elapsed();
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).expect("/proc/<pid>/io");
    let write_bytes = io
        .lines()
        .find_map(|l| l.strip_prefix("write_bytes:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("write_bytes in /proc/<pid>/io");
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    drop(child);
    let _ = copier.join();
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    ProcessCost {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        // Linux reports kilobytes.
        max_rss_bytes: usage.ru_maxrss as u64 * 1024,
        write_bytes,
        success: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
    }
}

/// One scale run: `card-ingest ingest --proxy none` of the `clips`-clip card at 0 ms latency;
/// its cost and the assets the sandbox holds after it.
#[cfg(target_os = "linux")]
async fn scale_run(clips: u32) -> (ProcessCost, usize, usize) {
    let root = scale_root(clips);
    let sbx = start_sandbox(&root, 0).await;
    let mut cmd = ingest_command(&sbx, &root, &root.join("CARD"), &["--proxy", "none"]);
    let log = data_dir().join(format!("scale-{clips}.log"));
    let cost = tokio::task::spawn_blocking(move || run_measured(&mut cmd, &log))
        .await
        .expect("scale run joins");
    let assets = sbx.state()["assets"].as_array().map_or(0, Vec::len);
    (cost, assets, sbx.requests().len())
}

/// The scale line (issue 21): bytes written, CPU and peak RSS per clip at each size; the
/// ratio is CPU per clip against the 25-clip run of the same bench run.
#[cfg(target_os = "linux")]
async fn scale(sizes: &[u32]) -> Vec<Line> {
    const MAX_BYTES_PER_CLIP: f64 = 64_000.0;
    const MAX_RSS: u64 = 200_000_000;
    let mut lines = Vec::new();
    let mut reference: Option<f64> = None;
    for &clips in sizes {
        let (cost, assets, requests) = scale_run(clips).await;
        let n = f64::from(clips);
        let cpu_ms = secs(cost.cpu) * 1000.0 / n;
        let written = cost.write_bytes as f64 / n;
        let reference_ms = *reference.get_or_insert(cpu_ms);
        let ratio = cpu_ms / reference_ms;
        let first = lines.is_empty();
        lines.push(Line {
            name: match clips {
                25 => "scale, 25 clips (--proxy none, 0 ms latency)",
                500 => "scale, 500 clips (--proxy none, 0 ms latency)",
                2000 => "scale, 2 000 clips (--proxy none, 0 ms latency)",
                _ => "scale (--proxy none, 0 ms latency)",
            },
            ours: format!(
                "{:.1} kB written/clip, {cpu_ms:.1} ms CPU/clip, peak RSS {:.0} MB; wall {:.1} s, \
                 CPU {:.1} s, {:.1} MB written, {assets} assets, {requests} requests",
                written / 1000.0,
                cost.max_rss_bytes as f64 / 1e6,
                secs(cost.wall),
                secs(cost.cpu),
                cost.write_bytes as f64 / 1e6,
            ),
            reference: format!("25 clips: {reference_ms:.1} ms CPU/clip"),
            ratio: Some(ratio),
            target: "<= 64 kB written/clip; CPU/clip <= 1.3x the 25-clip run's; RSS <= 200 MB",
            met: cost.success
                && assets == clips as usize
                && written <= MAX_BYTES_PER_CLIP
                && cost.max_rss_bytes <= MAX_RSS
                && (first || ratio <= 1.3),
            note: format!(
                "ratio = CPU per clip / the 25-clip run's; bytes = write_bytes of \
                 /proc/<pid>/io (the process and the tools it ran; its stderr went to a pipe); \
                 CPU and RSS from wait4; exit {}",
                if cost.success {
                    "0"
                } else {
                    "non-zero (see the log)"
                }
            ),
        });
        // The 2 000-clip run takes minutes: each size says so as it ends.
        eprintln!("scale: {clips} clips done ({:.0} s)", secs(cost.wall));
    }
    lines
}

#[cfg(not(target_os = "linux"))]
async fn scale(_sizes: &[u32]) -> Vec<Line> {
    vec![Line {
        name: "scale",
        ours: "-".into(),
        reference: "-".into(),
        ratio: None,
        target: "<= 64 kB written/clip; CPU/clip <= 1.3x the 25-clip run's; RSS <= 200 MB",
        met: false,
        note: "measured from /proc/<pid>/io: Linux only".into(),
    }]
}

/// 200 DPX sequences of 50 frames: 10 000 files in 200 clips.
fn scan_card() -> PathBuf {
    let dir = data_dir().join("scan-10000");
    let done = dir.join(".complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        for c in 0..200 {
            let clip = dir.join(format!("A{c:03}C001"));
            std::fs::create_dir_all(&clip).unwrap();
            for f in 0..50 {
                std::fs::write(
                    clip.join(format!("A{c:03}C001.{:07}.dpx", 86_400 + f)),
                    b"SDPX bench frame",
                )
                .unwrap();
            }
        }
        std::fs::write(&done, b"").unwrap();
    }
    dir
}

fn scan_line() -> Line {
    let dir = scan_card();
    // No probe tools: this line times the walk, grouping and sidecars, not MediaInfo.
    let tools = Tools::default();
    let mut best = Duration::MAX;
    let mut found = (0, 0);
    for _ in 0..3 {
        let (d, r) = time(|| scan::scan(std::slice::from_ref(&dir), &tools).expect("scan"));
        best = best.min(d);
        found = (
            r.clips.len(),
            r.clips.iter().map(|c| c.clip.files.len()).sum::<usize>(),
        );
    }
    Line {
        name: "scan of 10 000 files in 200 clips",
        ours: format!("{:.3} s ({} clips, {} files)", secs(best), found.0, found.1),
        reference: "-".into(),
        ratio: None,
        target: "< 0.5 s",
        met: secs(best) < 0.5 && found == (200, 10_000),
        note: "200 DPX sequences x 50 frames; scan without MediaInfo/ffprobe".into(),
    }
}

fn frame_line() -> Line {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let measured = frame_time::measure(&rt, 60);
    let t = measured
        .times
        .iter()
        .find(|t| t.clips == 1000)
        .expect("1000-clip figure");
    let ms = t.ui_tessellated.as_secs_f64() * 1000.0;
    Line {
        name: "window frame with 1 000 clips listed",
        ours: format!("{ms:.2} ms (App::ui + tessellate, median)"),
        reference: "-".into(),
        ratio: None,
        target: "< 16 ms",
        met: ms < 16.0,
        note: format!(
            "harness.step incl. AccessKit {:.2} ms",
            t.harness_step.as_secs_f64() * 1000.0
        ),
    }
}

/// The window with 2 000 clips loaded and a run of all of them in progress (issue 21),
/// against the same with 20 clips.
fn frame_run_line() -> Line {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (_, ours) = frame_time::running_frame_time(&rt, 60, 2000);
    let (_, reference) = frame_time::running_frame_time(&rt, 60, 20);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Line {
        name: "window frame with 2 000 clips loaded and a run in progress",
        ours: format!("{:.2} ms (App::ui + tessellate, median)", ms(ours)),
        reference: format!("20 clips, a run in progress {:.2} ms", ms(reference)),
        ratio: Some(secs(ours) / secs(reference)),
        target: "< 16 ms",
        met: ms(ours) < 16.0,
        note: "ratio = 2 000 clips / 20 clips; 40 % of the clips done, four at work, one \
               progress event folded per frame"
            .into(),
    }
}

fn print(line: &Line) {
    let ratio = line
        .ratio
        .map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x"));
    println!(
        "{:<4} {} | ours {} | reference {} | ratio {} | target {}",
        if line.met { "ok" } else { "MISS" },
        line.name,
        line.ours,
        line.reference,
        ratio,
        line.target
    );
}

fn main() {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    let want = |n: &str| wanted.is_empty() || wanted.iter().any(|w| w == n);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let mut lines = Vec::new();
    let mut push = |l: Line| {
        print(&l);
        lines.push(l);
    };
    if want("checksum1") {
        push(checksum_one());
    }
    if want("checksum2") {
        push(checksum_two());
    }
    if want("proxy") {
        push(proxy_encode());
    }
    if want("proxy") || want("proxy-lut") {
        push(proxy_encode_with("lut"));
    }
    if want("proxy") || want("proxy-burn-in") {
        push(proxy_encode_with("burn-in"));
    }
    if want("proxy") || want("proxy-edit") {
        push(proxy_edit());
    }
    if want("job") {
        push(rt.block_on(whole_job(false)));
    }
    if want("job") || want("job-edit") {
        push(rt.block_on(whole_job(true)));
    }
    if want("api") {
        push(rt.block_on(api_path()));
    }
    if want("upload") {
        push(rt.block_on(upload()));
    }
    if want("upload") || want("upload-capped") {
        push(rt.block_on(upload_capped()));
    }
    if want("cloud-copy") {
        push(rt.block_on(cloud_copy()));
    }
    if want("scan") {
        push(scan_line());
    }
    let scale_sizes: Vec<u32> = SCALE_SIZES
        .into_iter()
        .filter(|n| {
            *n == SCALE_SIZES[0]
                || want("scale")
                || wanted.iter().any(|w| *w == format!("scale-{n}"))
        })
        .collect();
    if want("scale") || scale_sizes.len() > 1 {
        for l in rt.block_on(scale(&scale_sizes)) {
            push(l);
        }
    }
    if want("frame") {
        push(frame_line());
    }
    if want("frame") || want("frame-run") {
        push(frame_run_line());
    }
    let out = root().join("bench/results.json");
    let doc = json!({
        "machine": format!("{} cores", std::thread::available_parallelism().map_or(0, |n| n.get())),
        "encoder": proxy::encoder::resolve(&ffmpeg(), EncoderChoice::Auto).map(|e| e.name()).unwrap_or("?"),
        "seconds": secs(started.elapsed()),
        "lines": lines.iter().map(Line::json).collect::<Vec<_>>(),
    });
    std::fs::write(&out, serde_json::to_string_pretty(&doc).unwrap()).expect("write results");
    println!("wrote {} ({:.0} s)", out.display(), secs(started.elapsed()));
}
