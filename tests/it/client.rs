//! The typed iconik client and the GCS resumable uploader against the sandbox over real loopback
//! HTTP: the complete registration flow (asset → ORIGINAL format → file set → 5 files → proxy
//! upload → close → keyframes), every fault kind through the client, and the GCS edge cases
//! through the uploader. Assertions read the sandbox's own view (`/sandbox/state`,
//! `/sandbox/requests`, `/sandbox/objects/…`).

use crate::util;
use card_ingest::iconik::models::*;
use card_ingest::iconik::retry::{Backoff, RetryHint};
use card_ingest::iconik::upload::gcs::{Completed, ResumableOptions, ResumableUploader};
use card_ingest::iconik::upload::{
    ProgressFn, ProxyUploadOptions, UploadConfig, UploadError, UploadHttp, UploadOutcome,
    UploadProgress, upload_proxy,
};
use card_ingest::iconik::{Client, ClientConfig, Credentials, Error, TransportKind};
use card_ingest::sandbox::{
    self, SandboxConfig, SandboxHandle,
    faults::{FaultRule, FaultSet},
    ratelimit::RateLimit,
};
use chrono::{TimeZone, Utc};
use md5::{Digest, Md5};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const K256: u64 = 256 * 1024;
/// ~1.1 MB: four 256 KiB chunks + a tail that is not a 256 KiB multiple.
const PROXY_LEN: usize = 4 * 256 * 1024 + 51_234;

struct Env {
    sbx: SandboxHandle,
    client: Client,
    upload: UploadHttp,
    raw: reqwest::Client,
}

async fn start() -> Env {
    start_with(SandboxConfig::default(), ClientConfig::default()).await
}

async fn start_with(sandbox_config: SandboxConfig, client_config: ClientConfig) -> Env {
    let config = SandboxConfig {
        spec_dir: None,
        job_delay: Duration::from_millis(50),
        ..sandbox_config
    };
    let sbx = sandbox::spawn(config).await.expect("sandbox starts");
    let client = client_for(&sbx, client_config);
    let upload = UploadHttp::new(&UploadConfig {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(30),
    })
    .expect("upload client");
    let raw = card_ingest::http::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("raw client");
    Env {
        sbx,
        client,
        upload,
        raw,
    }
}

/// A sandbox whose rate limit is a sliding window only (its per-second part never bites).
async fn start_window_limited(per_window: usize, window: Duration) -> Env {
    start_with(
        SandboxConfig {
            rate_limit: Some(RateLimit {
                per_second: 10_000,
                per_window,
                window,
            }),
            ..SandboxConfig::default()
        },
        ClientConfig::default(),
    )
    .await
}

/// A client with the sandbox's credentials.
fn client_for(sbx: &SandboxHandle, config: ClientConfig) -> Client {
    let creds = sbx.credentials();
    Client::with_config(
        sbx.base_url(),
        Credentials::new(creds.app_id.clone(), creds.token.clone()),
        config,
    )
    .expect("client for a loopback URL")
}

/// A proxy file on disk and an open GCS proxy to upload it to: the start of every resumable
/// upload test. The temp dir lives as long as the case.
struct GcsCase {
    _dir: tempfile::TempDir,
    path: PathBuf,
    bytes: Vec<u8>,
    asset: Asset,
    proxy: Proxy,
    url: String,
}

impl GcsCase {
    /// Uploads the file with `up` from a new session; also returns every session URL started.
    async fn upload_new(
        &self,
        up: &ResumableUploader,
        progress: Option<ProgressFn>,
    ) -> (Result<Completed, UploadError>, Vec<String>) {
        let mut sessions = Vec::new();
        let done = up
            .upload(
                &self.url,
                &self.path,
                None,
                &mut |s: &str| sessions.push(s.to_owned()),
                progress,
            )
            .await;
        (done, sessions)
    }
}

impl Env {
    async fn sandbox_get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.sbx.base_url());
        let resp = self.raw.get(&url).send().await.expect("sandbox answers");
        assert_eq!(resp.status().as_u16(), 200, "GET {path}");
        resp.json().await.expect("sandbox JSON")
    }

    async fn state(&self) -> Value {
        self.sandbox_get("/sandbox/state").await
    }

    async fn requests(&self) -> Vec<Value> {
        self.sandbox_get("/sandbox/requests")
            .await
            .as_array()
            .cloned()
            .expect("request list")
    }

    /// Bytes stored for a proxy's upload target.
    async fn proxy_bytes(&self, proxy: ProxyId) -> Vec<u8> {
        let state = self.state().await;
        let p = find_by_id(&state["proxies"], &proxy.to_string());
        let url = p["sandbox_object"]["url"]
            .as_str()
            .unwrap_or_else(|| panic!("proxy {proxy} has no sandbox_object: {p}"));
        let resp = self
            .raw
            .get(format!("{}{url}", self.sbx.base_url()))
            .send()
            .await
            .expect("object download");
        assert_eq!(resp.status().as_u16(), 200, "object {url}");
        resp.bytes().await.expect("object bytes").to_vec()
    }

    fn faults(&self, rules: Vec<FaultRule>) {
        self.sbx
            .set_faults(FaultSet { rules })
            .expect("fault rules accepted");
    }

    fn uploader(&self) -> ResumableUploader {
        uploader_on(self.upload.clone(), 2)
    }

    /// Writes proxy file `seed` and creates asset + proxy `title` for it.
    async fn gcs_case(&self, seed: u64, title: &str) -> GcsCase {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, bytes) = write_proxy(dir.path(), seed);
        let (asset, proxy) = self.asset_with_proxy(title).await;
        let url = proxy.upload_url.clone().expect("upload_url");
        GcsCase {
            _dir: dir,
            path,
            bytes,
            asset,
            proxy,
            url,
        }
    }

    /// An asset + open proxy ready for upload.
    async fn asset_with_proxy(&self, title: &str) -> (Asset, Proxy) {
        let asset = self
            .client
            .assets()
            .create(&AssetCreate::new(title), None)
            .await
            .expect("asset");
        let proxy = self
            .client
            .proxies()
            .create(
                asset.id,
                &ProxyCreate {
                    name: Some(format!("{title}.mp4")),
                    filename: Some(format!("{title}.mp4")),
                    format: Some("mp4".into()),
                    codec: Some("h264".into()),
                    size: Some(PROXY_LEN as u64),
                    version_id: asset.version_id(),
                    ..ProxyCreate::default()
                },
            )
            .await
            .expect("proxy");
        (asset, proxy)
    }
}

/// A resumable uploader with 256 KiB chunks and the fast backoff.
fn uploader_on(http: UploadHttp, max_restarts: u32) -> ResumableUploader {
    ResumableUploader::new(
        http,
        ResumableOptions {
            chunk_size: K256,
            backoff: fast_backoff(),
            max_restarts,
        },
    )
    .expect("256 KiB chunks are valid")
}

/// Polls a job until it is done or failed (at most ~2 s).
async fn wait_for_job(c: &Client, job_id: JobId) -> Job {
    let mut job = c.jobs().get(job_id).await.expect("job");
    for _ in 0..100 {
        if job.status.is_done() || job.status.is_failed() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        job = c.jobs().get(job_id).await.expect("job");
    }
    job
}

/// The confirmed offsets a progress recorder saw, in order.
fn confirmed(seen: &Mutex<Vec<UploadProgress>>) -> Vec<u64> {
    seen.lock()
        .expect("lock")
        .iter()
        .map(|p| p.confirmed)
        .collect()
}

fn fast_backoff() -> Backoff {
    let mut b = Backoff::new(Duration::from_millis(5), Duration::from_millis(50));
    b.max_retries = 4;
    b
}

fn rule(method: &str, path: &str) -> FaultRule {
    FaultRule {
        method: method.into(),
        path: path.into(),
        ..FaultRule::default()
    }
}

/// A fault that fires on the first matching request only.
fn once(method: &str, path: &str) -> FaultRule {
    FaultRule {
        times: Some(1),
        ..rule(method, path)
    }
}

fn find_by_id<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .and_then(|l| l.iter().find(|o| o["id"] == id))
        .unwrap_or_else(|| panic!("no object {id} in {list}"))
}

fn is_storage_path(p: &str) -> bool {
    p.starts_with("/gcs/") || p.starts_with("/upload/")
}

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_proxy(dir: &Path, seed: u64) -> (PathBuf, Vec<u8>) {
    let bytes = util::pseudo_random_bytes(PROXY_LEN, seed);
    let path = dir.join(format!("proxy-{seed}.mp4"));
    std::fs::write(&path, &bytes).expect("write proxy file");
    (path, bytes)
}

/// A file-set body with only the required fields.
fn bare_file_set(
    format_id: FormatId,
    name: &str,
    base_dir: &str,
    component_ids: Vec<ComponentId>,
) -> FileSetCreate {
    FileSetCreate {
        format_id,
        name: name.into(),
        base_dir: base_dir.into(),
        component_ids,
        storage_id: None,
        status: None,
        version_id: None,
        is_archive: None,
        original_storage_id: None,
    }
}

fn strings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn progress_recorder() -> (ProgressFn, Arc<Mutex<Vec<UploadProgress>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let f: ProgressFn = Arc::new(move |p| sink.lock().expect("progress lock").push(p));
    (f, seen)
}

/// The request-log entry of a chunk PUT covering bytes `first..=last` of the proxy file.
fn chunk_put(first: u64, last: u64) -> (String, String) {
    ("PUT".into(), format!("bytes {first}-{last}/{PROXY_LEN}"))
}

/// The request-log entry of a status query (empty PUT with `bytes */total`).
fn status_query() -> (String, String) {
    ("PUT".into(), format!("bytes */{PROXY_LEN}"))
}

/// Storage requests (start on `/gcs/…`, session on `/upload/…`) as `(method, Content-Range)` in
/// arrival order.
fn gcs_requests(requests: &[Value]) -> Vec<(String, String)> {
    requests
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(is_storage_path))
        .map(|r| {
            let range = r["headers"]
                .as_object()
                .and_then(|h| {
                    h.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-range"))
                        .and_then(|(_, v)| v.as_str())
                })
                .unwrap_or("")
                .to_owned();
            (r["method"].as_str().unwrap_or("").to_owned(), range)
        })
        .collect()
}

#[tokio::test]
async fn client_runs_the_complete_registration_flow_against_the_sandbox() {
    let env = start().await;
    let c = &env.client;
    c.auth().check_token().await.expect("token accepted");

    // Storages (§6.1).
    let storages = c.storages().list_all().await.expect("storages");
    let files_storage = storages
        .iter()
        .find(|s| s.purpose == Some(StoragePurpose::Files))
        .expect("a FILES storage is seeded")
        .clone();
    let got = c.storages().get(files_storage.id).await.expect("storage");
    assert_eq!(got.id, files_storage.id);
    let proxies_storage = c
        .storages()
        .matching(StoragePurpose::Proxies)
        .await
        .expect("matching")
        .expect("a PROXIES storage");
    assert_eq!(proxies_storage.purpose, Some(StoragePurpose::Proxies));
    let page = c.storages().list(1, 1).await.expect("page 1");
    assert_eq!(page.objects.len(), 1);
    assert_eq!(page.total, Some(storages.len() as i64));

    // Collection + asset assigned at creation (§6.9).
    let collection = c
        .collections()
        .create(&CollectionCreate {
            title: "Card A001".into(),
            ..CollectionCreate::default()
        })
        .await
        .expect("collection");
    let asset = c
        .assets()
        .create(
            &AssetCreate {
                external_id: Some("p2:A001:0002EM".into()),
                ..AssetCreate::new("0002EM")
            },
            Some(collection.id),
        )
        .await
        .expect("asset");
    let version = asset.version_id().expect("asset has a version");
    assert_eq!(asset.external_id.as_deref(), Some("p2:A001:0002EM"));

    // ORIGINAL format: VIDEO + 4 AUDIO + OTHER timecode, all metadata strings (§7).
    let mut components = vec![ComponentCreate {
        name: "VIDEO".into(),
        component_type: ComponentType::Video,
        metadata: strings(&[
            ("format", "AVC"),
            ("width", "1920"),
            ("height", "1080"),
            ("framerate", "25.000"),
            ("framecount", "250"),
            ("duration", "10.000"),
            ("timecode_firstframe", "01:00:00:00"),
        ]),
    }];
    for ch in 0..4 {
        components.push(ComponentCreate {
            name: format!("AUDIO {}", ch + 1),
            component_type: ComponentType::Audio,
            metadata: strings(&[
                ("id", &format!("1-{ch}")),
                ("format", "PCM"),
                ("channels", "1"),
                ("samplingrate", "48000"),
                ("bitdepth", "24"),
            ]),
        });
    }
    components.push(ComponentCreate {
        name: "TIMECODE".into(),
        component_type: ComponentType::Other,
        metadata: strings(&[
            ("type", "Time code"),
            ("format", "MXF TC"),
            ("timecode_firstframe", "01:00:00:00"),
        ]),
    });
    let format = c
        .formats()
        .create(
            asset.id,
            &FormatCreate {
                name: "ORIGINAL".into(),
                status: Some(ActiveStatus::Active),
                version_id: Some(version),
                storage_methods: vec!["FILE".into()],
                is_online: Some(true),
                metadata: vec![strings(&[
                    ("format", "MXF"),
                    ("internet_media_type", "application/mxf"),
                ])],
                components,
            },
        )
        .await
        .expect("format");
    assert_eq!(format.components.len(), 6);
    let component_ids = format.component_ids();
    let by_name = c
        .formats()
        .get_by_name(asset.id, "ORIGINAL")
        .await
        .expect("format lookup")
        .expect("ORIGINAL exists");
    assert_eq!(by_name.id, format.id);
    assert_eq!(
        c.formats().get(asset.id, format.id).await.expect("get").id,
        format.id
    );
    assert_eq!(c.formats().list(asset.id).await.expect("list").len(), 1);

    // File set with all component ids (§6.4).
    let file_set = c
        .file_sets()
        .create(
            asset.id,
            &FileSetCreate {
                format_id: format.id,
                name: "0002EM.MXF".into(),
                base_dir: "A001/CONTENTS".into(),
                component_ids: component_ids.clone(),
                storage_id: Some(files_storage.id),
                status: Some(FileSetStatus::Active),
                version_id: Some(version),
                is_archive: None,
                original_storage_id: None,
            },
        )
        .await
        .expect("file set");
    assert_eq!(file_set.component_ids, component_ids);

    // Five files, each with its own name, MD5, size and dates (§6.5).
    let specs = [
        ("A001/CONTENTS/VIDEO", "0002EM.MXF", 7_001usize),
        ("A001/CONTENTS/AUDIO", "0002EM00.MXF", 1_002),
        ("A001/CONTENTS/AUDIO", "0002EM01.MXF", 1_003),
        ("A001/CONTENTS/AUDIO", "0002EM02.MXF", 1_004),
        ("A001/CONTENTS/AUDIO", "0002EM03.MXF", 1_005),
    ];
    let mut created = Vec::new();
    for (i, (dir, name, len)) in specs.iter().enumerate() {
        let data = util::pseudo_random_bytes(*len, 100 + i as u64);
        let md5 = md5_hex(&data);
        let made = Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, i as u32).unwrap();
        let f = c
            .files()
            .create(
                asset.id,
                &FileCreate {
                    name: Some((*name).into()),
                    size: Some(*len as u64),
                    checksum: Some(md5.clone()),
                    file_date_created: Some(made),
                    file_date_modified: Some(made + chrono::Duration::seconds(10)),
                    file_set_id: Some(file_set.id),
                    format_id: Some(format.id),
                    storage_id: Some(files_storage.id),
                    status: Some(ObjectStatus::Closed),
                    version_id: Some(version),
                    ..FileCreate::new(*dir, *name)
                },
            )
            .await
            .expect("file");
        assert_eq!(f.size, Some(*len as u64));
        assert_eq!(f.checksum.as_deref(), Some(md5.as_str()));
        created.push((f, md5));
    }
    let (video, video_md5) = &created[0];
    assert_eq!(
        c.files()
            .get(asset.id, video.id)
            .await
            .expect("get file")
            .id,
        video.id
    );
    assert_eq!(c.files().list(asset.id).await.expect("files").len(), 5);
    assert_eq!(
        c.files()
            .list_in_file_set(asset.id, file_set.id)
            .await
            .expect("file set files")
            .len(),
        5
    );
    assert_eq!(
        c.file_sets()
            .get(asset.id, file_set.id)
            .await
            .expect("fs")
            .id,
        file_set.id
    );
    assert_eq!(
        c.file_sets().list(asset.id).await.expect("fs list").len(),
        1
    );
    // Duplicate lookups (§9).
    let at_path = c
        .files()
        .in_storage(files_storage.id, "A001/CONTENTS/VIDEO", Some("0002EM.MXF"))
        .await
        .expect("storage files");
    assert_eq!(
        at_path.iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![video.id]
    );
    let same_md5 = c.files().by_checksum(video_md5).await.expect("checksum");
    assert_eq!(
        same_md5.iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![video.id]
    );
    assert!(
        c.files()
            .by_checksum("00000000000000000000000000000000")
            .await
            .expect("checksum 404 → empty")
            .is_empty()
    );

    // Proxy: create, resumable upload in 256 KiB chunks, close, keyframes (§6.6, §8.1).
    let dir = tempfile::tempdir().expect("tempdir");
    let (proxy_path, proxy_bytes) = write_proxy(dir.path(), 7);
    let proxy = c
        .proxies()
        .create(
            asset.id,
            &ProxyCreate {
                name: Some("0002EM.mp4".into()),
                filename: Some("0002EM.mp4".into()),
                format: Some("mp4".into()),
                codec: Some("h264".into()),
                frame_rate: Some("25".into()),
                resolution: Some(Resolution {
                    width: 1280,
                    height: 720,
                }),
                size: Some(PROXY_LEN as u64),
                version_id: Some(version),
                ..ProxyCreate::default()
            },
        )
        .await
        .expect("proxy");
    assert_eq!(proxy.storage_method, Some(StorageMethod::Gcs));
    let sessions = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = sessions.clone();
    let (progress, seen) = progress_recorder();
    let outcome = upload_proxy(
        &env.upload,
        c,
        asset.id,
        &proxy,
        &proxy_path,
        &ProxyUploadOptions {
            gcs: ResumableOptions {
                chunk_size: K256,
                backoff: fast_backoff(),
                max_restarts: 1,
            },
            on_session: Some(Arc::new(move |s: &str| {
                sink.lock().expect("lock").push(s.to_owned())
            })),
            progress: Some(progress),
            ..ProxyUploadOptions::default()
        },
    )
    .await
    .expect("upload");
    assert_eq!(outcome.bytes, PROXY_LEN as u64);
    assert_eq!(outcome.restarts, 0);
    let sessions = sessions.lock().expect("lock").clone();
    assert_eq!(sessions.len(), 1);
    assert_eq!(outcome.session_url.as_deref(), Some(sessions[0].as_str()));
    let confirmed = confirmed(&seen);
    assert_eq!(
        confirmed,
        vec![K256, 2 * K256, 3 * K256, 4 * K256, PROXY_LEN as u64],
        "progress follows the server-confirmed offsets"
    );
    let closed = c
        .proxies()
        .patch(asset.id, proxy.id, &ProxyUpdate::closed())
        .await
        .expect("close proxy");
    assert_eq!(closed.status, Some(ObjectStatus::Closed));
    let job_id = c
        .keyframes()
        .generate_from_proxy(asset.id, proxy.id, &KeyframeRequest::default())
        .await
        .expect("keyframes job");
    let job = wait_for_job(c, job_id).await;
    assert!(job.status.is_done(), "job ended {:?}", job.status);
    let keyframes = c.keyframes().list(asset.id).await.expect("keyframes");
    assert!(!keyframes.is_empty(), "keyframes exist after the job");
    assert_eq!(c.proxies().list(asset.id).await.expect("proxies").len(), 1);
    assert_eq!(
        c.proxies()
            .get(asset.id, proxy.id)
            .await
            .expect("proxy")
            .status,
        Some(ObjectStatus::Closed)
    );

    // Metadata, history, collection contents, search, patch.
    let views = c.metadata().list_views().await.expect("views");
    let view = c.metadata().get_view(views[0].id).await.expect("view");
    let field = view.view_fields[0].name.clone();
    let stored = c
        .metadata()
        .put_asset_values(
            asset.id,
            view.id,
            &MetadataValues::from_strings([(field.as_str(), "Scene 12")]),
        )
        .await
        .expect("metadata values");
    assert_eq!(stored.first_str(&field), Some("Scene 12"));
    let hist = c
        .assets()
        .create_history(
            asset.id,
            &AssetHistoryCreate {
                operation_type: "CUSTOM".into(),
                operation_description: Some("Registered from card A001".into()),
                job_id: None,
            },
        )
        .await
        .expect("history");
    assert_eq!(hist.operation_type.as_deref(), Some("CUSTOM"));
    let contents = c
        .collections()
        .contents(collection.id, 1, 100)
        .await
        .expect("contents");
    assert_eq!(
        contents.objects.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![asset.id.0]
    );
    let hits = c
        .search()
        .assets_by_external_id("p2:A001:0002EM")
        .await
        .expect("search");
    assert_eq!(
        hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![asset.id.0]
    );
    let patched = c
        .assets()
        .patch(
            asset.id,
            &AssetPatch {
                title: Some("0002EM (A001)".into()),
                ..AssetPatch::default()
            },
        )
        .await
        .expect("patch");
    assert_eq!(patched.title.as_deref(), Some("0002EM (A001)"));
    assert_eq!(
        c.assets()
            .get(asset.id)
            .await
            .expect("get")
            .title
            .as_deref(),
        Some("0002EM (A001)")
    );
    assert_eq!(
        c.assets().list(1, 100).await.expect("list").objects.len(),
        1
    );

    // The sandbox's view: ids link up, bytes equal the source.
    let state = env.state().await;
    let s_asset = find_by_id(&state["assets"], &asset.id.to_string());
    assert_eq!(s_asset["external_id"], "p2:A001:0002EM");
    let s_format = find_by_id(&state["formats"], &format.id.to_string());
    assert_eq!(s_format["asset_id"], asset.id.to_string());
    assert_eq!(s_format["name"], "ORIGINAL");
    for comp in s_format["components"].as_array().expect("components") {
        for (k, v) in comp["metadata"].as_object().expect("metadata") {
            assert!(v.is_string(), "component metadata {k} is not a string: {v}");
        }
    }
    let s_fs = find_by_id(&state["file_sets"], &file_set.id.to_string());
    assert_eq!(s_fs["format_id"], format.id.to_string());
    assert_eq!(s_fs["asset_id"], asset.id.to_string());
    let want_components: Vec<String> = component_ids.iter().map(|c| c.to_string()).collect();
    assert_eq!(s_fs["component_ids"], serde_json::json!(want_components));
    for ((f, md5), (_, name, len)) in created.iter().zip(specs.iter()) {
        let s_file = find_by_id(&state["files"], &f.id.to_string());
        assert_eq!(s_file["file_set_id"], file_set.id.to_string());
        assert_eq!(s_file["format_id"], format.id.to_string());
        assert_eq!(s_file["asset_id"], asset.id.to_string());
        assert_eq!(s_file["original_name"], *name);
        assert_eq!(s_file["checksum"], md5.as_str());
        assert_eq!(s_file["size"], *len as u64);
        assert_eq!(s_file["status"], "CLOSED");
        assert!(
            s_file["file_date_created"]
                .as_str()
                .is_some_and(|d| d.starts_with("2024-03-01T09:00:0")),
            "{s_file}"
        );
    }
    let s_proxy = find_by_id(&state["proxies"], &proxy.id.to_string());
    assert_eq!(s_proxy["asset_id"], asset.id.to_string());
    assert_eq!(s_proxy["status"], "CLOSED");
    assert_eq!(s_proxy["sandbox_object"]["complete"], true);
    assert_eq!(env.proxy_bytes(proxy.id).await, proxy_bytes);
    assert_eq!(
        state["sources_deleted"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0),
        0,
        "the client never deletes file-set sources"
    );

    // Every recorded request validated against the spec; no iconik headers on uploads.
    let requests = env.requests().await;
    let mut validated = 0;
    for r in &requests {
        let path = r["path"].as_str().unwrap_or("");
        let headers = r["headers"].as_object().cloned().unwrap_or_default();
        let has_iconik_header = headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("auth-token") || k.eq_ignore_ascii_case("app-id"));
        if is_storage_path(path) {
            assert!(!has_iconik_header, "iconik headers sent to storage: {r}");
            continue;
        }
        assert!(path.ends_with('/'), "no trailing slash: {path}");
        assert!(
            has_iconik_header,
            "iconik call without App-ID/Auth-Token: {r}"
        );
        let status = r["status"].as_u64().unwrap_or(0);
        // The one expected failure: the checksum lookup of an unknown MD5 (404 → empty list).
        let expected_404 = path.ends_with("/checksum/00000000000000000000000000000000/");
        assert!(
            (200..300).contains(&status) || (expected_404 && status == 404),
            "request failed: {r}"
        );
        if !r["validation"].is_null() {
            assert_eq!(r["validation"]["valid"], true, "invalid request: {r}");
            assert_eq!(
                r["validation"]["source"], "spec",
                "not checked against the spec: {r}"
            );
            validated += 1;
        }
    }
    let with_body = requests
        .iter()
        .filter(|r| matches!(r["method"].as_str(), Some("POST" | "PATCH" | "PUT")))
        .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/API/")))
        .count();
    assert_eq!(
        validated, with_body,
        "every body-carrying iconik call was validated"
    );
    assert!(
        with_body >= 14,
        "expected the whole flow, saw {with_body} writes"
    );
}

#[tokio::test]
async fn faults_surface_as_classified_client_errors() {
    let env = start().await;
    let c = &env.client;

    // 503 twice: retryable; a Backoff-driven loop gets through on the third try.
    env.faults(vec![FaultRule {
        status: Some(503),
        times: Some(2),
        ..rule("POST", "/API/assets/v1/assets/")
    }]);
    let body = AssetCreate {
        external_id: Some("retry-503".into()),
        ..AssetCreate::new("retry 503")
    };
    let mut backoff = fast_backoff();
    let mut failures = Vec::new();
    let asset = loop {
        match c.assets().create(&body, None).await {
            Ok(a) => break a,
            Err(e) => {
                assert!(e.is_retryable(), "{e}");
                assert!(!e.is_auth());
                failures.push(e.status());
                let delay = backoff
                    .next_delay(RetryHint::from(&e))
                    .expect("retries left");
                tokio::time::sleep(delay).await;
            }
        }
    };
    assert_eq!(failures, vec![Some(503), Some(503)]);
    let state = env.state().await;
    let made: Vec<&Value> = state["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .filter(|a| a["external_id"] == "retry-503")
        .collect();
    assert_eq!(made.len(), 1, "503s created nothing");
    assert_eq!(made[0]["id"], asset.id.to_string());

    // 429 with RateLimit-Remaining: retryable, remaining recorded, backoff slows down.
    env.faults(vec![FaultRule {
        status: Some(429),
        ..once("GET", "/API/assets/v1/assets/*")
    }]);
    let e = c.assets().get(asset.id).await.expect_err("429");
    assert_eq!(e.status(), Some(429));
    assert!(e.is_retryable());
    assert_eq!(e.rate_limit_remaining(), Some(0));
    assert_eq!(c.rate_limit_remaining(), Some(0));
    let b = Backoff::default();
    assert!(
        b.delay_for(0, RetryHint::from(&e), 0.5) > b.delay_for(0, RetryHint::default(), 0.5),
        "low RateLimit-Remaining lengthens the pause"
    );
    assert_eq!(
        c.assets().get(asset.id).await.expect("after 429").id,
        asset.id
    );

    // Lost response after commit: a distinct error kind; the object exists and is found.
    env.faults(vec![FaultRule {
        drop_response_after_commit: true,
        ..once("POST", "/API/assets/v1/assets/")
    }]);
    let e = c
        .assets()
        .create(
            &AssetCreate {
                external_id: Some("lost-response".into()),
                ..AssetCreate::new("lost")
            },
            None,
        )
        .await
        .expect_err("response dropped");
    assert!(e.is_response_lost(), "{e:?}");
    assert!(e.is_retryable());
    assert!(e.to_string().contains("look it up"), "{e}");
    let hits = c
        .search()
        .assets_by_external_id("lost-response")
        .await
        .expect("lookup");
    assert_eq!(hits.len(), 1, "the committed asset is found by external_id");
    let state = env.state().await;
    let found = find_by_id(&state["assets"], &hits[0].id.to_string());
    assert_eq!(found["title"], "lost");

    // 401: a refused token is is_auth, not retryable, and keeps iconik's message.
    let creds = env.sbx.credentials();
    let bad = Client::new(
        env.sbx.base_url(),
        Credentials::new(creds.app_id.clone(), "not-the-token"),
    )
    .expect("client");
    let e = bad.auth().check_token().await.expect_err("401");
    assert!(e.is_auth());
    assert!(!e.is_retryable());
    assert_eq!(e.status(), Some(401));
    assert!(e.to_string().contains("Token is invalid"), "{e}");
    assert!(!format!("{bad:?}").contains("not-the-token"));
    let e = bad.assets().get(asset.id).await.expect_err("401");
    assert!(e.is_auth());

    // 404 → None on lookups; 400 keeps the field-map body.
    assert!(
        c.formats()
            .get_by_name(asset.id, "ORIGINAL")
            .await
            .expect("lookup")
            .is_none()
    );
    let e = c
        .file_sets()
        .create(
            asset.id,
            &bare_file_set(FormatId::new_v4(), "x", "x", vec![]),
        )
        .await
        .expect_err("unknown format");
    assert!(!e.is_retryable(), "{e}");
    assert!(matches!(e.status(), Some(400 | 404)), "{e}");
}

#[tokio::test]
async fn uploader_resumes_after_a_connection_reset_mid_chunk() {
    let env = start().await;
    let case = env.gcs_case(11, "reset").await;
    // First chunk: persist 100 000 of its bytes, then kill the connection.
    env.faults(vec![FaultRule {
        reset_after_bytes: Some(100_000),
        ..once("PUT", "/upload/*")
    }]);
    let (progress, seen) = progress_recorder();
    let (done, sessions) = case.upload_new(&env.uploader(), Some(progress)).await;
    let done = done.expect("upload survives the reset");
    assert_eq!(done.total, PROXY_LEN as u64);
    assert_eq!(done.restarts, 0);
    assert_eq!(sessions.len(), 1);
    assert_eq!(env.proxy_bytes(case.proxy.id).await, case.bytes);
    let log = gcs_requests(&env.requests().await);
    // start, chunk (reset after 100 000 B), status query, then chunks from the confirmed offset.
    assert_eq!(log[0].0, "POST");
    assert_eq!(log[1], chunk_put(0, K256 - 1));
    assert_eq!(log[2], status_query());
    assert_eq!(log[3], chunk_put(100_000, 100_000 + K256 - 1));
    let confirmed = confirmed(&seen);
    assert_eq!(confirmed.first(), Some(&100_000));
    assert_eq!(confirmed.last(), Some(&(PROXY_LEN as u64)));
    assert!(confirmed.windows(2).all(|w| w[0] <= w[1]), "{confirmed:?}");
}

#[tokio::test]
async fn uploader_retries_5xx_with_a_status_query_and_ignores_resent_bytes() {
    let env = start().await;
    let case = env.gcs_case(13, "resend").await;
    let up = env.uploader();

    // Re-sent bytes: the same first chunk twice by hand; the overlap is ignored.
    let session = up.start(&case.url).await.expect("session");
    let chunk = &case.bytes[..K256 as usize];
    for _ in 0..2 {
        let resp = env
            .raw
            .put(&session)
            .header("Content-Range", format!("bytes 0-{}/{PROXY_LEN}", K256 - 1))
            .body(chunk.to_vec())
            .send()
            .await
            .expect("chunk");
        assert_eq!(resp.status().as_u16(), 308);
        assert_eq!(
            resp.headers().get("range").and_then(|v| v.to_str().ok()),
            Some(format!("bytes=0-{}", K256 - 1).as_str())
        );
    }
    // 503 on the next request to the session (the resume's status query): back off, query
    // again, continue from the persisted 256 KiB.
    env.faults(vec![FaultRule {
        status: Some(503),
        ..once("PUT", "/upload/*")
    }]);
    let done = up
        .upload(
            &case.url,
            &case.path,
            Some(&session),
            &mut |_s: &str| {},
            None,
        )
        .await
        .expect("upload");
    assert_eq!(done.session_url, session);
    assert_eq!(env.proxy_bytes(case.proxy.id).await, case.bytes);
    let requests = env.requests().await;
    let statuses: Vec<(String, u64)> = requests
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/upload/"))
        })
        .map(|r| {
            let log = gcs_requests(std::slice::from_ref(r));
            (log[0].1.clone(), r["status"].as_u64().unwrap_or(0))
        })
        .collect();
    let total = PROXY_LEN;
    let first = format!("bytes 0-{}/{total}", K256 - 1);
    let query = format!("bytes */{total}");
    assert_eq!(
        &statuses[..4],
        &[
            (first.clone(), 308),
            (first, 308),
            (query.clone(), 503),
            (query, 308)
        ],
        "re-sent chunk, then 503 on the status query, then a status query that succeeds"
    );
    assert_eq!(
        statuses[4].0,
        format!("bytes {}-{}/{total}", K256, 2 * K256 - 1),
        "continues after the persisted 256 KiB, not from what was re-sent"
    );
}

#[tokio::test]
async fn a_new_uploader_resumes_a_saved_session_with_a_status_query() {
    let env = start().await;
    let case = env.gcs_case(17, "saved").await;

    // "Process 1": starts the session, journals its URL, sends two chunks, dies.
    let first = env.uploader();
    let session = first.start(&case.url).await.expect("session");
    for i in 0..2u64 {
        let a = i * K256;
        let resp = env
            .raw
            .put(&session)
            .header(
                "Content-Range",
                format!("bytes {a}-{}/{PROXY_LEN}", a + K256 - 1),
            )
            .body(case.bytes[a as usize..(a + K256) as usize].to_vec())
            .send()
            .await
            .expect("chunk");
        assert_eq!(resp.status().as_u16(), 308);
    }
    drop(first);
    let before = env.requests().await.len();

    // "Process 2": a new uploader with only the saved session URL.
    let second = env.uploader();
    assert_eq!(
        second
            .query_status(&session, PROXY_LEN as u64)
            .await
            .expect("status"),
        card_ingest::iconik::upload::gcs::SessionStatus::Incomplete {
            persisted: 2 * K256
        }
    );
    let (progress, seen) = progress_recorder();
    let mut new_sessions = 0;
    let done = second
        .upload(
            &case.url,
            &case.path,
            Some(&session),
            &mut |_s: &str| new_sessions += 1,
            Some(progress),
        )
        .await
        .expect("resumed upload");
    assert_eq!(
        new_sessions, 0,
        "no new session when the saved one is alive"
    );
    assert_eq!(done.session_url, session);
    assert_eq!(env.proxy_bytes(case.proxy.id).await, case.bytes);
    let log = gcs_requests(&env.requests().await[before..]);
    assert_eq!(log[0], status_query());
    assert_eq!(log[1], status_query());
    assert_eq!(log[2], chunk_put(2 * K256, 3 * K256 - 1));
    assert!(
        log.iter().all(|(m, _)| m == "PUT"),
        "no new start POST: {log:?}"
    );
    assert_eq!(
        seen.lock().expect("lock").first().map(|p| p.confirmed),
        Some(2 * K256)
    );
}

#[tokio::test]
async fn uploader_restarts_with_a_new_session_on_404() {
    let env = start().await;
    let case = env.gcs_case(19, "gone").await;
    env.faults(vec![FaultRule {
        status: Some(404),
        ..once("PUT", "/upload/*")
    }]);
    let (done, sessions) = case.upload_new(&env.uploader(), None).await;
    let done = done.expect("upload after restart");
    assert_eq!(done.restarts, 1);
    assert_eq!(sessions.len(), 2, "a second session was started");
    assert_ne!(sessions[0], sessions[1]);
    assert_eq!(done.session_url, sessions[1]);
    assert_eq!(env.proxy_bytes(case.proxy.id).await, case.bytes);
    let log = gcs_requests(&env.requests().await);
    let posts = log.iter().filter(|(m, _)| m == "POST").count();
    assert_eq!(posts, 2);

    // Other 4xx (403, e.g. a signature error) stop with the error instead of looping.
    let up = env.uploader();
    let (_, proxy2) = env.asset_with_proxy("gap").await;
    let session = up
        .start(proxy2.upload_url.as_deref().expect("upload_url"))
        .await
        .expect("session");
    env.faults(vec![FaultRule {
        status: Some(403),
        ..once("PUT", "/upload/*")
    }]);
    let e = up
        .upload(
            proxy2.upload_url.as_deref().expect("upload_url"),
            &case.path,
            Some(&session),
            &mut |_s: &str| {},
            None,
        )
        .await
        .expect_err("403 stops");
    assert!(!e.is_retryable(), "{e}");
    assert!(e.to_string().contains("403"), "{e}");
}

#[tokio::test]
async fn list_walks_follow_page_numbers_and_the_last_id_cursor() {
    let env = start_with(
        SandboxConfig::default(),
        ClientConfig {
            list_page_size: 2,
            ..ClientConfig::default()
        },
    )
    .await;
    let c = &env.client;
    let asset = c
        .assets()
        .create(&AssetCreate::new("paged"), None)
        .await
        .expect("asset");
    let format = c
        .formats()
        .create(
            asset.id,
            &FormatCreate {
                name: "ORIGINAL".into(),
                components: vec![ComponentCreate {
                    name: "VIDEO".into(),
                    component_type: ComponentType::Video,
                    metadata: BTreeMap::new(),
                }],
                ..FormatCreate::default()
            },
        )
        .await
        .expect("format");
    let fs = c
        .file_sets()
        .create(
            asset.id,
            &bare_file_set(format.id, "f0.MXF", "CLIP", format.component_ids()),
        )
        .await
        .expect("file set");
    let mut ids = Vec::new();
    for i in 0..5u64 {
        let f = c
            .files()
            .create(
                asset.id,
                &FileCreate {
                    size: Some(i),
                    file_set_id: Some(fs.id),
                    format_id: Some(format.id),
                    status: Some(ObjectStatus::Closed),
                    ..FileCreate::new("CLIP", format!("f{i}.MXF"))
                },
            )
            .await
            .expect("file");
        ids.push(f.id);
    }
    let before = env.requests().await.len();
    let listed: Vec<FileId> = c
        .files()
        .list(asset.id)
        .await
        .expect("files")
        .iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(listed, ids, "all five files, in order, no repeats");
    let gets: Vec<Value> = env.requests().await[before..]
        .iter()
        .filter(|r| {
            r["method"] == "GET" && r["path"].as_str().is_some_and(|p| p.ends_with("/files/"))
        })
        .cloned()
        .collect();
    let cursors: Vec<Value> = gets.iter().map(|r| r["query"]["last_id"].clone()).collect();
    assert_eq!(
        cursors,
        vec![
            Value::Null,
            Value::String(ids[1].to_string()),
            Value::String(ids[3].to_string())
        ],
        "three pages of two via last_id"
    );
    assert!(gets.iter().all(|r| r["query"]["per_page"] == "2"));

    let all = c.storages().list_all().await.expect("storages");
    let total = c.storages().list(1, 100).await.expect("one page").total;
    assert_eq!(Some(all.len() as i64), total);
    assert!(
        all.len() >= 2,
        "the seed has at least FILES and PROXIES storages"
    );
    let mut unique: Vec<StorageId> = all.iter().map(|s| s.id).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all.len(), "no storage twice");
}

#[tokio::test]
async fn s3_and_azure_proxies_upload_by_storage_method() {
    let env = start_with(
        SandboxConfig {
            extra_proxy_storages: true,
            ..SandboxConfig::default()
        },
        ClientConfig::default(),
    )
    .await;
    let c = &env.client;
    let dir = tempfile::tempdir().expect("tempdir");
    let asset = c
        .assets()
        .create(&AssetCreate::new("clouds"), None)
        .await
        .expect("asset");
    for (seed, method) in [(23u64, StorageMethod::S3), (29, StorageMethod::Azure)] {
        let (path, bytes) = write_proxy(dir.path(), seed);
        let proxy = c
            .proxies()
            .create_on_method(
                asset.id,
                &method,
                &ProxyCreate {
                    filename: Some(format!("{method}.mp4")),
                    size: Some(PROXY_LEN as u64),
                    ..ProxyCreate::default()
                },
            )
            .await
            .expect("proxy");
        assert_eq!(proxy.storage_method.as_ref(), Some(&method));
        let (progress, seen) = progress_recorder();
        let outcome = upload_proxy(
            &env.upload,
            c,
            asset.id,
            &proxy,
            &path,
            &ProxyUploadOptions {
                progress: Some(progress),
                ..ProxyUploadOptions::default()
            },
        )
        .await
        .expect("upload");
        assert_eq!(outcome.method, method);
        assert_eq!(outcome.bytes, PROXY_LEN as u64);
        assert_eq!(
            seen.lock().expect("lock").last().map(|p| p.confirmed),
            Some(PROXY_LEN as u64)
        );
        assert_eq!(env.proxy_bytes(proxy.id).await, bytes, "{method} bytes");
        let closed = c
            .proxies()
            .patch(asset.id, proxy.id, &ProxyUpdate::closed())
            .await
            .expect("close");
        assert_eq!(closed.status, Some(ObjectStatus::Closed));
    }
    let requests = env.requests().await;
    let azure_put = requests
        .iter()
        .find(|r| {
            r["method"] == "PUT" && r["path"].as_str().is_some_and(|p| p.starts_with("/azure/"))
        })
        .expect("an Azure PUT");
    assert_eq!(azure_put["headers"]["x-ms-blob-type"], "BlockBlob");
    for r in requests.iter().filter(|r| {
        r["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("/s3/") || p.starts_with("/azure/"))
    }) {
        assert!(
            r["headers"]["auth-token"].is_null(),
            "iconik token sent to storage: {r}"
        );
        assert!(
            r["headers"]["app-id"].is_null(),
            "iconik App-ID sent to storage: {r}"
        );
    }
}

#[tokio::test]
async fn timeouts_connect_errors_and_rate_limits_are_classified() {
    // A window limit only (no per-second part), so the count cannot reset between two calls
    // on a loaded machine.
    let env = start_window_limited(1000, Duration::from_secs(600)).await;
    let asset = env
        .client
        .assets()
        .create(&AssetCreate::new("slow"), None)
        .await
        .expect("asset");
    let first = env
        .client
        .rate_limit_remaining()
        .expect("RateLimit-Remaining recorded");
    env.client.assets().get(asset.id).await.expect("get");
    let second = env
        .client
        .rate_limit_remaining()
        .expect("RateLimit-Remaining recorded");
    assert_eq!(second, first - 1, "remaining goes down by one per request");

    // A client with a short timeout for the stalled calls (1.5 s server delay vs 0.3 s).
    let impatient = client_for(
        &env.sbx,
        ClientConfig {
            request_timeout: Duration::from_millis(300),
            ..ClientConfig::default()
        },
    );
    let c = &impatient;

    // A read that times out: retryable transport error, not a lost create.
    env.faults(vec![FaultRule {
        delay_ms: Some(1500),
        times: Some(2),
        ..rule("*", "/API/assets/v1/assets*")
    }]);
    let e = c.assets().get(asset.id).await.expect_err("timeout");
    assert!(
        matches!(
            &e,
            Error::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_retryable());
    assert!(!e.is_response_lost());
    // A create that times out may have happened: the distinct kind.
    let e = c
        .assets()
        .create(&AssetCreate::new("maybe"), None)
        .await
        .expect_err("timeout");
    assert!(
        matches!(
            &e,
            Error::ResponseLost {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{e:?}"
    );

    // Nothing listening: a connect error; a create that never left is not "lost".
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let dead = Client::new(
        &format!("http://127.0.0.1:{port}"),
        Credentials::new("a", "t"),
    )
    .expect("client");
    let e = dead.auth().check_token().await.expect_err("refused");
    assert!(
        matches!(
            &e,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_retryable());
    let e = dead
        .assets()
        .create(&AssetCreate::new("x"), None)
        .await
        .expect_err("refused");
    assert!(!e.is_response_lost(), "nothing was sent: {e:?}");
    assert!(e.is_retryable());
}

/// A minimal S3-multipart + Azure-block storage and the iconik multipart-URL calls, for the
/// flows the sandbox does not emulate (iconik-api.md §8.2). Records every request.
mod cloud_mock {
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::{IntoResponse, Response};
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    #[derive(Debug, Clone)]
    pub struct Seen {
        pub method: String,
        pub path: String,
        pub query: String,
        pub has_iconik_headers: bool,
        pub body: Vec<u8>,
    }

    #[derive(Default)]
    pub struct Mock {
        pub base: Mutex<String>,
        pub seen: Mutex<Vec<Seen>>,
        pub s3_parts: Mutex<BTreeMap<u32, Vec<u8>>>,
        pub s3_object: Mutex<Option<Vec<u8>>>,
        pub fail_part: Mutex<Option<u32>>,
        pub az_blocks: Mutex<BTreeMap<String, Vec<u8>>>,
        pub az_blob: Mutex<Option<Vec<u8>>>,
    }

    pub async fn spawn() -> Arc<Mock> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock");
        let addr = listener.local_addr().expect("addr");
        let mock = Arc::new(Mock::default());
        *mock.base.lock().expect("lock") = format!("http://{addr}");
        let router = axum::Router::new()
            .fallback(handle)
            .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(mock.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                panic!("mock server failed: {e}");
            }
        });
        mock
    }

    fn param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    async fn handle(
        State(m): State<Arc<Mock>>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let path = uri.path().to_owned();
        let query = uri.query().unwrap_or("").to_owned();
        m.seen.lock().expect("lock").push(Seen {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            has_iconik_headers: headers.contains_key("auth-token")
                || headers.contains_key("app-id"),
            body: body.to_vec(),
        });
        let base = m.base.lock().expect("lock").clone();
        let json = |v: serde_json::Value| (StatusCode::OK, axum::Json(v)).into_response();
        match (method.as_str(), path.as_str()) {
            // iconik: part URLs (paged), complete URL, cleanup.
            ("GET", p) if p.ends_with("/multipart_url/part/") => {
                let n: u32 = param(&query, "parts_num").and_then(|v| v.parse().ok()).unwrap_or(0);
                let objects: Vec<_> = (1..=n)
                    .map(|i| serde_json::json!({"number": i, "url": format!("{base}/s3/part/{i}?uploadId=UP1&X-Amz-Signature=s")}))
                    .collect();
                json(serde_json::json!({"objects": objects, "page": 1, "pages": 1}))
            }
            ("GET", p) if p.ends_with("/multipart_url/") => json(serde_json::json!({
                "complete_url": format!("{base}/s3/complete?uploadId=UP1&X-Amz-Signature=s"),
                "abort_url": format!("{base}/s3/abort?uploadId=UP1"),
            })),
            ("POST", p) if p.ends_with("/multipart/cleanup/") => StatusCode::OK.into_response(),
            // S3 storage.
            ("POST", "/s3/start") => (
                StatusCode::OK,
                "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><UploadId>UP1</UploadId></InitiateMultipartUploadResult>",
            )
                .into_response(),
            ("PUT", p) if p.starts_with("/s3/part/") => {
                let n: u32 = p.trim_start_matches("/s3/part/").parse().unwrap_or(0);
                if *m.fail_part.lock().expect("lock") == Some(n) {
                    return (StatusCode::INTERNAL_SERVER_ERROR, "InternalError").into_response();
                }
                m.s3_parts.lock().expect("lock").insert(n, body.to_vec());
                let mut r = StatusCode::OK.into_response();
                r.headers_mut()
                    .insert("etag", format!("\"etag-{n}\"").parse().expect("header"));
                r
            }
            ("POST", "/s3/complete") => {
                let xml = String::from_utf8_lossy(&body).to_string();
                let doc = roxmltree::Document::parse(&xml).expect("complete XML");
                let parts = m.s3_parts.lock().expect("lock").clone();
                let mut out = Vec::new();
                for part in doc.descendants().filter(|n| n.has_tag_name("Part")) {
                    let text = |tag: &str| {
                        part.children()
                            .find(|c| c.has_tag_name(tag))
                            .and_then(|c| c.text())
                            .unwrap_or("")
                            .to_owned()
                    };
                    let n: u32 = text("PartNumber").parse().expect("part number");
                    assert_eq!(text("ETag"), format!("\"etag-{n}\""));
                    out.extend_from_slice(&parts[&n]);
                }
                *m.s3_object.lock().expect("lock") = Some(out);
                (StatusCode::OK, "<CompleteMultipartUploadResult/>").into_response()
            }
            // A GCS session that accepts chunks but never persists anything.
            ("POST", "/gcs-stuck/obj") => {
                let mut r = StatusCode::CREATED.into_response();
                r.headers_mut().insert(
                    "location",
                    format!("{base}/gcs-stuck/obj?upload_id=S1").parse().expect("header"),
                );
                r
            }
            ("PUT", "/gcs-stuck/obj") => StatusCode::PERMANENT_REDIRECT.into_response(),
            // Azure storage.
            ("PUT", "/az/blob") => match param(&query, "comp") {
                Some("block") => {
                    let id = param(&query, "blockid").unwrap_or("").to_owned();
                    m.az_blocks.lock().expect("lock").insert(id, body.to_vec());
                    StatusCode::CREATED.into_response()
                }
                Some("blocklist") => {
                    let xml = String::from_utf8_lossy(&body).to_string();
                    let doc = roxmltree::Document::parse(&xml).expect("block list XML");
                    let blocks = m.az_blocks.lock().expect("lock").clone();
                    let mut out = Vec::new();
                    for l in doc.descendants().filter(|n| n.has_tag_name("Latest")) {
                        let id = l.text().unwrap_or("").replace('=', "%3D");
                        out.extend_from_slice(&blocks[&id]);
                    }
                    *m.az_blob.lock().expect("lock") = Some(out);
                    StatusCode::CREATED.into_response()
                }
                _ => {
                    assert_eq!(
                        headers.get("x-ms-blob-type").and_then(|v| v.to_str().ok()),
                        Some("BlockBlob")
                    );
                    *m.az_blob.lock().expect("lock") = Some(body.to_vec());
                    StatusCode::CREATED.into_response()
                }
            },
            _ => (StatusCode::NOT_FOUND, "mock: no route").into_response(),
        }
    }
}

/// The cloud mock, an iconik client and an upload client pointed at it, and a temp dir.
struct MockEnv {
    mock: Arc<cloud_mock::Mock>,
    base: String,
    client: Client,
    http: UploadHttp,
    dir: tempfile::TempDir,
}

async fn start_mock() -> MockEnv {
    let mock = cloud_mock::spawn().await;
    let base = mock.base.lock().expect("lock").clone();
    let client = Client::new(&base, Credentials::new("app", "tok")).expect("client");
    let http = UploadHttp::new(&UploadConfig::default()).expect("upload client");
    let dir = tempfile::tempdir().expect("tempdir");
    MockEnv {
        mock,
        base,
        client,
        http,
        dir,
    }
}

impl MockEnv {
    /// `upload_proxy` against the mock.
    async fn upload(
        &self,
        asset: AssetId,
        proxy: &Proxy,
        path: &Path,
        opts: &ProxyUploadOptions,
    ) -> Result<UploadOutcome, UploadError> {
        upload_proxy(&self.http, &self.client, asset, proxy, path, opts).await
    }
}

/// S3 multipart above 1 KiB, in 5 MiB parts.
fn s3_multipart(progress: Option<ProgressFn>) -> ProxyUploadOptions {
    ProxyUploadOptions {
        s3_multipart_threshold: Some(1024),
        s3_part_size: Some(5 * 1024 * 1024),
        progress,
        ..ProxyUploadOptions::default()
    }
}

fn mock_proxy(base: &str, method: StorageMethod) -> Proxy {
    serde_json::from_value(serde_json::json!({
        "id": ProxyId::new_v4(),
        "storage_method": method.as_str(),
        "upload_url": match method {
            StorageMethod::Azure => format!("{base}/az/blob?sv=2022&sig=x"),
            _ => format!("{base}/s3/single?X-Amz-Signature=s"),
        },
        "multipart_upload_url": format!("{base}/s3/start"),
    }))
    .expect("proxy JSON")
}

#[tokio::test]
async fn s3_multipart_flow_assembles_parts_and_aborts_on_failure() {
    let m = start_mock().await;
    let (mock, base, dir) = (&m.mock, &m.base, &m.dir);
    // 2 full 5 MiB parts + a tail.
    let len = 2 * 5 * 1024 * 1024 + 123_457;
    let bytes = util::pseudo_random_bytes(len, 31);
    let path = dir.path().join("big.mp4");
    std::fs::write(&path, &bytes).expect("write");
    let asset = AssetId::new_v4();
    let proxy = mock_proxy(base, StorageMethod::S3);
    let (progress, seen) = progress_recorder();
    m.upload(asset, &proxy, &path, &s3_multipart(Some(progress)))
        .await
        .expect("multipart upload");
    assert_eq!(
        mock.s3_object.lock().expect("lock").as_deref(),
        Some(&bytes[..])
    );
    assert_eq!(mock.s3_parts.lock().expect("lock").len(), 3);
    let confirmed = confirmed(&seen);
    assert_eq!(
        confirmed,
        vec![5 * 1024 * 1024, 10 * 1024 * 1024, len as u64]
    );
    let log = mock.seen.lock().expect("lock").clone();
    let route: Vec<String> = log
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s.method,
                s.path.rsplit("/multipart").next().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(route[0], "POST /s3/start");
    assert!(
        log[1]
            .path
            .ends_with(&format!("/proxies/{}/multipart_url/part/", proxy.id))
    );
    assert!(log[1].query.contains("upload_id=UP1") && log[1].query.contains("parts_num=3"));
    assert!(log[5].path.ends_with("/multipart_url/") && log[5].query.contains("type=complete_url"));
    assert_eq!(log[6].path, "/s3/complete");
    for s in &log {
        let is_iconik = s.path.starts_with("/API/");
        assert_eq!(s.has_iconik_headers, is_iconik, "{} {}", s.method, s.path);
    }

    // A failing part aborts the upload through iconik's cleanup call.
    *mock.fail_part.lock().expect("lock") = Some(2);
    mock.seen.lock().expect("lock").clear();
    let e = m
        .upload(asset, &proxy, &path, &s3_multipart(None))
        .await
        .expect_err("part 2 fails");
    assert!(e.to_string().contains("500"), "{e}");
    let log = mock.seen.lock().expect("lock").clone();
    let cleanup = log
        .iter()
        .find(|s| s.path.ends_with("/multipart/cleanup/"))
        .expect("cleanup called");
    let body: Value = serde_json::from_slice(&cleanup.body).expect("cleanup JSON");
    assert_eq!(
        body,
        serde_json::json!({"upload_id": "UP1", "abort_upload": true})
    );
}

#[tokio::test]
async fn azure_uploads_single_blobs_and_block_lists() {
    let m = start_mock().await;
    let (mock, base, dir) = (&m.mock, &m.base, &m.dir);
    let (path, bytes) = write_proxy(dir.path(), 37);
    let proxy = mock_proxy(base, StorageMethod::Azure);
    // Small file: one Put Blob.
    m.upload(
        AssetId::new_v4(),
        &proxy,
        &path,
        &ProxyUploadOptions::default(),
    )
    .await
    .expect("put blob");
    assert_eq!(
        mock.az_blob.lock().expect("lock").as_deref(),
        Some(&bytes[..])
    );
    assert!(mock.az_blocks.lock().expect("lock").is_empty());
    // Over the threshold: Put Block ×5 (256 KiB blocks) + Put Block List.
    *mock.az_blob.lock().expect("lock") = None;
    let (progress, seen) = progress_recorder();
    card_ingest::iconik::upload::azure::put_blocks(
        &m.http,
        proxy.upload_url.as_deref().expect("url"),
        &path,
        K256,
        Some(progress),
    )
    .await
    .expect("put blocks");
    assert_eq!(
        mock.az_blob.lock().expect("lock").as_deref(),
        Some(&bytes[..])
    );
    assert_eq!(mock.az_blocks.lock().expect("lock").len(), 5);
    assert_eq!(
        seen.lock().expect("lock").last().map(|p| p.confirmed),
        Some(PROXY_LEN as u64)
    );
    assert!(
        mock.seen
            .lock()
            .expect("lock")
            .iter()
            .all(|s| !s.has_iconik_headers),
        "no iconik headers on Azure requests"
    );
}

#[tokio::test]
async fn uploader_retries_a_failed_start_and_a_timed_out_chunk() {
    let env = start().await;
    let case = env.gcs_case(41, "stall").await;
    env.faults(vec![
        FaultRule {
            status: Some(503),
            ..once("POST", "/gcs/*")
        },
        FaultRule {
            delay_ms: Some(5_000),
            ..once("PUT", "/upload/*")
        },
    ]);
    let short = UploadHttp::new(&UploadConfig {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_millis(1_000),
    })
    .expect("upload client");
    let up = uploader_on(short, 0);
    let (done, sessions) = case.upload_new(&up, None).await;
    let done = done.expect("upload despite a 503 start and a stalled chunk");
    assert_eq!(sessions.len(), 1, "one session: the 503 start made none");
    assert_eq!(done.restarts, 0);
    assert_eq!(env.proxy_bytes(case.proxy.id).await, case.bytes);
    let log = gcs_requests(&env.requests().await);
    assert_eq!(log[0].0, "POST");
    assert_eq!(log[1].0, "POST");
    // The stalled chunk is still sleeping in the sandbox (its log entry comes last, if at all):
    // the first session request to complete is the status query after the client's timeout,
    // then the upload starts again at byte 0 (nothing was persisted).
    assert_eq!(log[2], status_query());
    assert_eq!(log[3], chunk_put(0, K256 - 1));
}

#[tokio::test]
async fn uploader_recovers_from_a_lost_308_without_resending_committed_bytes() {
    let env = start().await;
    let case = env.gcs_case(43, "lost308").await;
    // The first chunk is stored, then the connection dies before the 308 arrives.
    env.faults(vec![FaultRule {
        drop_response_after_commit: true,
        ..once("PUT", "/upload/*")
    }]);
    let (progress, seen) = progress_recorder();
    env.uploader()
        .upload(
            &case.url,
            &case.path,
            None,
            &mut |_s: &str| {},
            Some(progress),
        )
        .await
        .expect("upload");
    assert_eq!(env.proxy_bytes(case.proxy.id).await, case.bytes);
    let log = gcs_requests(&env.requests().await);
    assert_eq!(log[1], chunk_put(0, K256 - 1));
    assert_eq!(log[2], status_query());
    assert_eq!(
        log[3],
        chunk_put(K256, 2 * K256 - 1),
        "continues after the committed chunk"
    );
    assert_eq!(
        seen.lock().expect("lock").first().map(|p| p.confirmed),
        Some(K256)
    );

    // A keyframe job that the storage side fails is reported as failed, not done.
    env.client
        .proxies()
        .patch(case.asset.id, case.proxy.id, &ProxyUpdate::closed())
        .await
        .expect("close");
    env.faults(vec![FaultRule {
        job_status: Some("FAILED".into()),
        ..once("POST", "/API/files/v1/assets/*/proxies/*/keyframes/")
    }]);
    let job_id = env
        .client
        .keyframes()
        .generate_from_proxy(case.asset.id, case.proxy.id, &KeyframeRequest::default())
        .await
        .expect("job");
    let job = wait_for_job(&env.client, job_id).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert!(job.status.is_failed() && !job.status.is_done());
}

#[tokio::test]
async fn a_real_rate_limit_gives_429_and_backoff_gets_through() {
    // Three requests per second, as a sliding window (robust on a loaded machine).
    let env = start_window_limited(3, Duration::from_secs(1)).await;
    let c = &env.client;
    let mut seen_429 = None;
    for _ in 0..10 {
        match c.storages().list(1, 10).await {
            Ok(_) => {}
            Err(e) => {
                seen_429 = Some(e);
                break;
            }
        }
    }
    let e = seen_429.expect("a 429 within 10 requests at 3 per second");
    assert_eq!(e.status(), Some(429));
    assert!(e.is_retryable());
    assert_eq!(c.rate_limit_remaining(), Some(0));
    let mut backoff = Backoff::new(Duration::from_millis(400), Duration::from_secs(2));
    backoff.jitter = 0.0;
    let mut tries = 0;
    let page = loop {
        let delay = backoff
            .next_delay(RetryHint::from(&e))
            .expect("retries left");
        assert!(delay >= Duration::from_millis(400), "{delay:?}");
        tokio::time::sleep(delay).await;
        tries += 1;
        match c.storages().list(1, 10).await {
            Ok(p) => break p,
            Err(e2) => assert_eq!(e2.status(), Some(429), "{e2}"),
        }
    };
    // 0.4 + 0.8 s of pauses already exceed the 1 s window.
    assert!(tries <= 2, "{tries} backoff rounds");
    assert!(!page.objects.is_empty());
    assert!(c.rate_limit_remaining().is_some_and(|r| r >= 0));
}

#[tokio::test]
async fn uploader_gives_up_on_a_storage_that_never_persists() {
    let m = start_mock().await;
    let (path, _) = write_proxy(m.dir.path(), 47);
    let up = uploader_on(m.http.clone(), 0);
    let e = up
        .upload(
            &format!("{}/gcs-stuck/obj?X-Goog-Signature=s", m.base),
            &path,
            None,
            &mut |_s: &str| {},
            None,
        )
        .await
        .expect_err("no progress ends the upload");
    assert!(
        e.to_string().contains("persisted nothing past byte 0"),
        "{e}"
    );
    let puts = m
        .mock
        .seen
        .lock()
        .expect("lock")
        .iter()
        .filter(|s| s.method == "PUT")
        .count();
    // The first chunk plus one resend per retry (fast_backoff allows 4).
    assert_eq!(puts, 5);
}

/// A cloud copy's file record on the sandbox's S3 storage answers `multipart_upload_url`; above
/// the threshold the upload goes through iconik's file multipart endpoints (part URLs, complete
/// URL) and S3's CreateMultipartUpload / UploadPart / Complete, the object is the file's
/// bytes, and the record closes. A failed part aborts through `files/{id}/multipart/cleanup/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_file_records_upload_in_parts_through_the_files_multipart_endpoints() {
    let env = start_with(
        SandboxConfig {
            storage_profile: card_ingest::sandbox::profiles::StorageProfile::AllKinds,
            ..SandboxConfig::default()
        },
        ClientConfig::default(),
    )
    .await;
    let c = &env.client;
    let s3 = c
        .storages()
        .list_all()
        .await
        .expect("storages")
        .into_iter()
        .find(|s| s.name.as_deref() == Some("Sandbox S3"))
        .expect("the all-kinds profile has Sandbox S3");
    let asset = c
        .assets()
        .create(&AssetCreate::new("s3 multipart"), None)
        .await
        .expect("asset");
    let dir = tempfile::tempdir().expect("tempdir");
    // 5 MiB + 5 MiB + 7 bytes: three parts, the last one short.
    let len = 10 * 1024 * 1024 + 7;
    let bytes = util::pseudo_random_bytes(len, 41);
    let path = dir.path().join("0001AB.MXF");
    std::fs::write(&path, &bytes).expect("write");
    let record = |name: &str| FileCreate {
        size: Some(len as u64),
        storage_id: Some(s3.id),
        status: Some(ObjectStatus::Open),
        ..FileCreate::new("CONTENTS/VIDEO", name)
    };
    let file = c
        .files()
        .create(asset.id, &record("0001AB.MXF"))
        .await
        .expect("file record");
    let mp_url = file
        .multipart_upload_url
        .clone()
        .expect("multipart_upload_url");
    assert!(
        mp_url.contains("/s3/") && mp_url.contains("?uploads&"),
        "{mp_url}"
    );
    let opts = s3_multipart(None);
    let done =
        card_ingest::iconik::upload::upload_file(&env.upload, c, asset.id, &file, &path, &opts)
            .await
            .expect("multipart upload");
    assert_eq!(done.bytes, len as u64);
    assert_eq!(
        done.reported_md5, None,
        "a multipart ETag is not the object's MD5"
    );
    assert!(
        done.parts_verified,
        "each part's ETag is the MD5 of its bytes"
    );
    // The object the record's URLs point at: `/s3/<bucket>/<object>?…`.
    let key = mp_url
        .split_once("/s3/")
        .and_then(|(_, rest)| rest.split_once('?'))
        .map(|(key, _)| key.to_owned())
        .expect("bucket/object in the URL");
    assert_eq!(
        md5_hex(&env.sbx.object_bytes(&key).expect("object stored")),
        md5_hex(&bytes)
    );
    let closed = c
        .files()
        .patch(
            asset.id,
            file.id,
            &FilePatch {
                status: Some(ObjectStatus::Closed),
                size: Some(len as u64),
                checksum: Some(md5_hex(&bytes)),
            },
        )
        .await
        .expect("close");
    assert_eq!(closed.status, Some(ObjectStatus::Closed));
    let requests = env.requests().await;
    let s3_calls: Vec<(String, String)> = requests
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/s3/")))
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_owned(),
                r["query"]
                    .as_str()
                    .unwrap_or_default()
                    .split('&')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let methods: Vec<&str> = s3_calls.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        methods,
        ["POST", "PUT", "PUT", "PUT", "POST"],
        "{s3_calls:?}"
    );
    let part_urls = requests
        .iter()
        .filter(|r| {
            r["method"] == "GET"
                && r["path"].as_str().is_some_and(|p| {
                    p.ends_with(&format!("/files/{}/multipart_url/part/", file.id))
                })
        })
        .count();
    assert_eq!(part_urls, 1, "the three part URLs in one page");

    // A part refused: the upload is aborted through iconik's cleanup (validated), not closed.
    let second = c
        .files()
        .create(asset.id, &record("0001AB00.MXF"))
        .await
        .expect("second record");
    env.sbx
        .set_faults(FaultSet {
            rules: vec![FaultRule {
                status: Some(500),
                ..once("PUT", "/s3/**")
            }],
        })
        .unwrap();
    let failed =
        card_ingest::iconik::upload::upload_file(&env.upload, c, asset.id, &second, &path, &opts)
            .await;
    assert!(failed.is_err(), "{failed:?}");
    let requests = env.requests().await;
    let cleanup = requests
        .iter()
        .find(|r| {
            r["method"] == "POST"
                && r["path"].as_str().is_some_and(|p| {
                    p.ends_with(&format!("/files/{}/multipart/cleanup/", second.id))
                })
        })
        .expect("an abort through iconik");
    assert_eq!(cleanup["validation"]["valid"], true, "{cleanup}");
    assert_eq!(cleanup["status"], 200, "{cleanup}");
}
