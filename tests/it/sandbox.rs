//! The sandbox over real loopback HTTP with raw JSON (reqwest): the seed flow, validation,
//! auth, trailing slashes, faults, GCS resumable edge cases, persistence, pagination, the CLI,
//! and the independent nsa-pythonik client check.

use card_ingest::sandbox::{self, SandboxConfig, SandboxHandle, faults::FaultSet};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
#[allow(unused_imports)]
use std as _;
use std::path::PathBuf;
use std::time::Duration;

const KIB256: usize = 256 * 1024;

/// iconik's OpenAPI files: `$ICONIK_SPEC_DIR`, else `shared/` beside the checkout (CI), else
/// two levels up (a worktree under `wt/`).
fn spec_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("ICONIK_SPEC_DIR").map(PathBuf::from),
        Some(manifest.join("../shared/iconik-spec")),
        Some(manifest.join("../../shared/iconik-spec")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("files.json").is_file())
        .unwrap_or_else(|| {
            panic!("iconik spec not found: set ICONIK_SPEC_DIR or put shared/iconik-spec beside the checkout")
        })
}

fn config() -> SandboxConfig {
    SandboxConfig {
        spec_dir: Some(spec_dir()),
        job_delay: Duration::from_millis(50),
        ..SandboxConfig::default()
    }
}

struct Sbx {
    handle: SandboxHandle,
    http: Client,
}

impl Sbx {
    async fn start(config: SandboxConfig) -> Sbx {
        let handle = sandbox::spawn(config).await.expect("sandbox starts");
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Sbx { handle, http }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url())
    }

    /// An authenticated iconik call; returns status, headers and JSON (Null when empty).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("App-ID", "sandbox-app")
            .header("Auth-Token", "sandbox-token");
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body");
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, headers, json)
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, _, v) = self.call(Method::POST, path, Some(body)).await;
        (s, v)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, _, v) = self.call(Method::GET, path, None).await;
        (s, v)
    }

    async fn state(&self) -> Value {
        self.http
            .get(self.url("/sandbox/state"))
            .send()
            .await
            .expect("state")
            .json()
            .await
            .expect("json")
    }

    async fn create_asset(&self, title: &str) -> Value {
        let (s, asset) = self
            .post("/API/assets/v1/assets/", json!({"title": title, "type": "ASSET", "status": "ACTIVE", "is_online": true, "external_id": format!("ext-{title}")}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{asset}");
        asset
    }

    /// Starts a resumable session on a fresh proxy's upload URL; returns (proxy, session URI).
    async fn proxy_session(&self, asset_id: &str) -> (Value, String) {
        let (s, proxy) = self
            .post(
                &format!("/API/files/v1/assets/{asset_id}/proxies/"),
                json!({"filename": "clip.mp4", "format": "mp4"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{proxy}");
        let upload_url = proxy["upload_url"]
            .as_str()
            .expect("upload_url")
            .to_string();
        let resp = self
            .http
            .post(&upload_url)
            .header("x-goog-resumable", "start")
            .header("content-length", "0")
            .send()
            .await
            .expect("start");
        assert_eq!(resp.status(), StatusCode::CREATED);
        let location = resp.headers()["location"]
            .to_str()
            .expect("location")
            .to_string();
        (proxy, location)
    }

    async fn put_chunk(
        &self,
        session: &str,
        data: &[u8],
        first: usize,
        total: usize,
    ) -> reqwest::Response {
        let last = first + data.len() - 1;
        self.http
            .put(session)
            .header("content-range", format!("bytes {first}-{last}/{total}"))
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .await
            .expect("chunk sent")
    }

    async fn status_query(&self, session: &str, total: usize) -> reqwest::Response {
        self.http
            .put(session)
            .header("content-range", format!("bytes */{total}"))
            .body(Vec::new())
            .send()
            .await
            .expect("status query sent")
    }
}

/// Deterministic pseudo-random bytes (xorshift) so uploads are not trivially compressible.
fn source_bytes(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn range_header(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get("range")
        .map(|v| v.to_str().expect("ascii").to_string())
}

fn components() -> Value {
    let mut c = vec![
        json!({"name": "VIDEO", "type": "VIDEO", "metadata": {"width": "1920", "height": "1080", "framerate": "25.000"}}),
    ];
    for i in 1..=4 {
        c.push(json!({"name": format!("AUDIO {i}"), "type": "AUDIO", "metadata": {"channels": "1", "samplingrate": "48000"}}));
    }
    c.push(json!({"name": "TIMECODE", "type": "OTHER", "metadata": {"type": "Time code", "timecode_firstframe": "01:00:00:00"}}));
    Value::Array(c)
}

#[tokio::test]
async fn seed_flow_links_ids_and_keeps_uploaded_bytes() {
    let sbx = Sbx::start(config()).await;
    let asset = sbx.create_asset("A001C002").await;
    let asset_id = asset["id"].as_str().unwrap();
    let version_id = asset["versions"][0]["id"].as_str().unwrap();
    assert_eq!(asset["status"], "ACTIVE");
    assert_eq!(asset["versions"][0]["status"], "ACTIVE");
    assert!(asset["date_created"].is_string());

    let (s, format) = sbx
        .post(
            &format!("/API/files/v1/assets/{asset_id}/formats/"),
            json!({"name": "ORIGINAL", "status": "ACTIVE", "storage_methods": ["FILE"], "metadata": [{"format": "MXF"}], "components": components()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{format}");
    let format_id = format["id"].as_str().unwrap();
    assert_eq!(format["version_id"], version_id);
    let component_ids: Vec<Value> = format["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(component_ids.len(), 6);
    let distinct: std::collections::HashSet<String> = component_ids
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(distinct.len(), 6);

    let (s, storage) = sbx.get("/API/files/v1/storages/matching/FILES/").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(storage["method"], "FILE");
    let storage_id = storage["id"].as_str().unwrap();

    let (s, fs) = sbx
        .post(
            &format!("/API/files/v1/assets/{asset_id}/file_sets/"),
            json!({"format_id": format_id, "name": "0002EM.MXF", "base_dir": "cards/A001/CONTENTS", "component_ids": component_ids, "storage_id": storage_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{fs}");
    let fs_id = fs["id"].as_str().unwrap();
    assert_eq!(
        (
            fs["asset_id"].as_str(),
            fs["format_id"].as_str(),
            fs["storage_id"].as_str()
        ),
        (Some(asset_id), Some(format_id), Some(storage_id))
    );

    let names = [
        "0002EM.MXF",
        "0002EMA0.MXF",
        "0002EMA1.MXF",
        "0002EMA2.MXF",
        "0002EMA3.MXF",
    ];
    let mut file_ids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let (s, file) = sbx
            .post(
                &format!("/API/files/v1/assets/{asset_id}/files/"),
                json!({"directory_path": "cards/A001/CONTENTS/VIDEO/", "original_name": name, "name": name, "type": "FILE", "status": "CLOSED",
                       "size": 1000 + i, "checksum": format!("{i:032x}"), "file_set_id": fs_id, "format_id": format_id, "storage_id": storage_id}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{file}");
        assert_eq!(
            file["directory_path"], "cards/A001/CONTENTS/VIDEO",
            "trailing slash stripped"
        );
        assert_eq!(file["file_set_id"], fs_id);
        assert_eq!(file["size"], 1000 + i);
        file_ids.push(file["id"].as_str().unwrap().to_string());
    }
    let (_, fs_again) = sbx
        .get(&format!(
            "/API/files/v1/assets/{asset_id}/file_sets/{fs_id}/"
        ))
        .await;
    assert_eq!(fs_again["file_count"], 5);

    let (proxy, session) = sbx.proxy_session(asset_id).await;
    let proxy_id = proxy["id"].as_str().unwrap();
    assert_eq!(proxy["storage_method"], "GCS");
    let upload_url = proxy["upload_url"].as_str().unwrap();
    assert!(
        upload_url.starts_with(&format!("{}/gcs/sandbox-proxies/", sbx.handle.base_url())),
        "{upload_url}"
    );
    assert!(upload_url.contains("X-Goog-Signature="));
    assert!(
        session.contains("/upload/sandbox-proxies/") && session.contains("upload_id="),
        "{session}"
    );

    let data = source_bytes(4 * KIB256 + 12_345);
    let mut offset = 0;
    for chunk in data.chunks(2 * KIB256) {
        let resp = sbx.put_chunk(&session, chunk, offset, data.len()).await;
        offset += chunk.len();
        if offset < data.len() {
            assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
            assert_eq!(range_header(&resp), Some(format!("bytes=0-{}", offset - 1)));
            assert!(resp.headers().get("location").is_none());
        } else {
            assert_eq!(resp.status(), StatusCode::OK);
            let obj: Value = resp.json().await.unwrap();
            assert_eq!(obj["size"], data.len().to_string());
        }
    }
    let (s, _, closed) = sbx
        .call(
            Method::PATCH,
            &format!("/API/files/v1/assets/{asset_id}/proxies/{proxy_id}/"),
            Some(json!({"status": "CLOSED"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{closed}");
    assert_eq!(closed["status"], "CLOSED");
    let (s, kf) = sbx
        .post(
            &format!("/API/files/v1/assets/{asset_id}/proxies/{proxy_id}/keyframes/"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{kf}");
    let job_id = kf["job_id"].as_str().unwrap().to_string();
    let (_, job) = sbx.get(&format!("/API/jobs/v1/jobs/{job_id}/")).await;
    assert!(
        job["status"] == "STARTED" || job["status"] == "FINISHED",
        "{job}"
    );
    let mut finished = false;
    for _ in 0..200 {
        let (_, job) = sbx.get(&format!("/API/jobs/v1/jobs/{job_id}/")).await;
        if job["status"] == "FINISHED" {
            finished = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(finished, "job never finished");

    let state = sbx.state().await;
    assert_eq!(state["assets"].as_array().unwrap().len(), 1);
    assert_eq!(state["files"].as_array().unwrap().len(), 5);
    let p = &state["proxies"][0];
    assert_eq!(p["status"], "CLOSED");
    assert_eq!(p["sandbox_object"]["bytes"], data.len());
    assert_eq!(p["sandbox_object"]["complete"], true);
    let key = p["sandbox_object"]["key"].as_str().unwrap();
    let stored = sbx
        .http
        .get(sbx.url(&format!("/sandbox/objects/{key}")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(stored.as_ref(), data.as_slice());
    assert_eq!(sbx.handle.object_bytes(key).unwrap(), data);
    let types: Vec<&str> = state["keyframes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["KEYFRAME_MAP", "POSTER"]);
    assert!(
        state["keyframes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["asset_id"] == asset_id)
    );
    assert_eq!(state["sources_deleted"], json!([]));
    // The request log names the schema each body was validated against.
    let requests = sbx.handle.requests();
    let fs_req = requests
        .iter()
        .find(|r| r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/file_sets/"))
        .unwrap();
    assert_eq!(fs_req["validation"]["schema"], "FileSetSchema");
    assert_eq!(fs_req["validation"]["source"], "spec");
    assert_eq!(fs_req["headers"]["auth-token"], "<redacted>");
    assert!(
        requests
            .iter()
            .all(|r| !r.to_string().contains("sandbox-token"))
    );
}
