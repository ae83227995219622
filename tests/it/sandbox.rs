//! The sandbox over real loopback HTTP with raw JSON (reqwest): the seed flow, validation,
//! auth, trailing slashes, faults, GCS resumable edge cases, persistence, pagination, the CLI,
//! and the independent nsa-pythonik client check.

use crate::util;
use card_ingest::sandbox::ratelimit::RateLimit;
use card_ingest::sandbox::{self, SandboxConfig, SandboxHandle, faults::FaultSet};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

const KIB256: usize = 256 * 1024;

fn config() -> SandboxConfig {
    SandboxConfig {
        spec_dir: None,
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
        let http = card_ingest::http::client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Sbx { handle, http }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url())
    }

    /// A request with the sandbox's default App-ID and Auth-Token.
    fn authed(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("App-ID", "sandbox-app")
            .header("Auth-Token", "sandbox-token")
    }

    /// A GET with the given App-ID and Auth-Token.
    async fn get_as(&self, path: &str, app_id: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .header("App-ID", app_id)
            .header("Auth-Token", token)
            .send()
            .await
            .unwrap()
    }

    /// A GET without credentials (the `/sandbox/*` routes, or to see a 401).
    async fn get_raw(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    fn set_faults(&self, rules: Value) {
        self.handle
            .set_faults(serde_json::from_value::<FaultSet>(rules).expect("fault rules"))
            .unwrap();
    }

    /// PATCHes a proxy to CLOSED; returns status and body.
    async fn close_proxy(&self, asset_id: &str, proxy_id: &str) -> (StatusCode, Value) {
        let (s, _, v) = self
            .call(
                Method::PATCH,
                &format!("/API/files/v1/assets/{asset_id}/proxies/{proxy_id}/"),
                Some(json!({"status": "CLOSED"})),
            )
            .await;
        (s, v)
    }

    /// The object key of the first proxy's upload.
    async fn first_proxy_key(&self) -> String {
        self.state().await["proxies"][0]["sandbox_object"]["key"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Polls a job until it leaves STARTED (at most ~5 s); returns its last JSON.
    async fn wait_for_job(&self, job_id: &str) -> Value {
        let path = format!("/API/jobs/v1/jobs/{job_id}/");
        let mut job = Value::Null;
        for _ in 0..200 {
            job = self.get(&path).await.1;
            if job["status"] != "STARTED" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        job
    }

    /// A new asset `title` and a started resumable session on a fresh proxy of it;
    /// returns (asset id, proxy, session URI).
    async fn asset_with_session(&self, title: &str) -> (String, Value, String) {
        let asset = self.create_asset(title).await;
        let asset_id = asset["id"].as_str().unwrap().to_string();
        let (proxy, session) = self.proxy_session(&asset_id).await;
        (asset_id, proxy, session)
    }

    /// An authenticated iconik call; returns status, headers and JSON (Null when empty).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.authed(method, path);
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

    /// POST to a per-asset collection, e.g. `files` → `/API/files/v1/assets/{asset_id}/files/`.
    async fn post_to(&self, asset_id: &str, collection: &str, body: Value) -> (StatusCode, Value) {
        self.post(
            &format!("/API/files/v1/assets/{asset_id}/{collection}/"),
            body,
        )
        .await
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
            .post_to(
                asset_id,
                "proxies",
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
        self.send_chunk(session, data, first, total)
            .await
            .expect("chunk sent")
    }

    /// A chunk PUT whose transport error is returned (for faults that kill the connection).
    async fn send_chunk(
        &self,
        session: &str,
        data: &[u8],
        first: usize,
        total: usize,
    ) -> reqwest::Result<reqwest::Response> {
        let last = first + data.len() - 1;
        self.http
            .put(session)
            .header("content-range", format!("bytes {first}-{last}/{total}"))
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .await
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

/// Pseudo-random upload bytes (always the same seed).
fn source_bytes(len: usize) -> Vec<u8> {
    util::pseudo_random_bytes(len, 0x9E37_79B9_7F4A_7C15)
}

/// The `id`s of a JSON list (components, storages).
fn ids(list: &Value) -> Vec<Value> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].clone())
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
        .post_to(asset_id, "formats", json!({"name": "ORIGINAL", "status": "ACTIVE", "storage_methods": ["FILE"], "metadata": [{"format": "MXF"}], "components": components()}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{format}");
    let format_id = format["id"].as_str().unwrap();
    assert_eq!(format["version_id"], version_id);
    let component_ids = ids(&format["components"]);
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
        .post_to(asset_id, "file_sets", json!({"format_id": format_id, "name": "0002EM.MXF", "base_dir": "cards/A001/CONTENTS", "component_ids": component_ids, "storage_id": storage_id}))
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
            .post_to(asset_id, "files", json!({"directory_path": "cards/A001/CONTENTS/VIDEO/", "original_name": name, "name": name, "type": "FILE", "status": "CLOSED",
                       "size": 1000 + i, "checksum": format!("{i:032x}"), "file_set_id": fs_id, "format_id": format_id, "storage_id": storage_id}))
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
    let (s, closed) = sbx.close_proxy(asset_id, proxy_id).await;
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
    let job = sbx.wait_for_job(&job_id).await;
    assert_eq!(job["status"], "FINISHED", "job never finished: {job}");

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
    assert_eq!(
        fs_req["validation"]["operation"],
        "Create file set and associate to asset"
    );
    assert_eq!(fs_req["headers"]["auth-token"], "<redacted>");
    assert!(
        requests
            .iter()
            .all(|r| !r.to_string().contains("sandbox-token"))
    );
}

/// An asset with an ORIGINAL format (6 components); returns (asset_id, format).
async fn asset_with_format(sbx: &Sbx, title: &str) -> (String, Value) {
    let asset = sbx.create_asset(title).await;
    let asset_id = asset["id"].as_str().unwrap().to_string();
    let (s, format) = sbx
        .post_to(
            &asset_id,
            "formats",
            json!({"name": "ORIGINAL", "components": components()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{format}");
    (asset_id, format)
}

#[tokio::test]
async fn invalid_bodies_get_400_naming_the_field_and_unknown_ids_404() {
    let sbx = Sbx::start(config()).await;
    // Missing required title → field-shaped error.
    let (s, body) = sbx
        .post("/API/assets/v1/assets/", json!({"type": "ASSET"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"]["title"], "\"title\" is a required property");

    let (asset_id, format) = asset_with_format(&sbx, "validation").await;
    let format_id = format["id"].as_str().unwrap();
    // size as a string → list-shaped error naming /size.
    let (s, body) = sbx
        .post_to(
            &asset_id,
            "files",
            json!({"directory_path": "d", "original_name": "a.MXF", "type": "FILE", "size": "12"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"],
        json!(["/size: \"12\" is not of type \"integer\""])
    );
    // Non-string technical metadata.
    let (s, body) = sbx
        .post_to(&asset_id, "formats", json!({"name": "ORIGINAL", "components": [{"name": "VIDEO", "type": "VIDEO", "metadata": {"width": 1920}}]}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"],
        json!(["/components/0/metadata/width: 1920 is not of type \"string\""])
    );
    // component_ids that are not the format's.
    let (s, body) = sbx
        .post_to(&asset_id, "file_sets", json!({"format_id": format_id, "name": "x", "base_dir": "d", "component_ids": ["00000000-0000-0000-0000-000000000001"]}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        body["errors"]["component_ids"]
            .as_str()
            .unwrap()
            .contains("00000000-0000-0000-0000-000000000001"),
        "{body}"
    );
    // Unknown ids → 404.
    let unknown = "11111111-2222-3333-4444-555555555555";
    let (s, body) = sbx.get(&format!("/API/assets/v1/assets/{unknown}/")).await;
    assert_eq!(
        (s, body),
        (
            StatusCode::NOT_FOUND,
            json!({"errors": [format!("Asset {unknown} not found")]})
        )
    );
    let (s, _) = sbx
        .post_to(unknown, "formats", json!({"name": "ORIGINAL"}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = sbx
        .post_to(
            &asset_id,
            "file_sets",
            json!({"format_id": unknown, "name": "x", "base_dir": "d", "component_ids": []}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = sbx
        .post_to(&asset_id, "files", json!({"directory_path": "d", "original_name": "a", "type": "FILE", "file_set_id": unknown}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Format lookup by name and by id give the same record.
    let (s, by_name) = sbx
        .get(&format!(
            "/API/files/v1/assets/{asset_id}/formats/ORIGINAL/"
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(by_name["id"], format_id);
    // Read-only fields sent by a client are ignored, not stored.
    let (s, asset) = sbx
        .post(
            "/API/assets/v1/assets/",
            json!({"title": "ro", "id": "client-made", "date_created": "yesterday"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{asset}");
    assert_ne!(asset["id"], "client-made");
    // Every failed validation is in the request log with its schema.
    let requests = sbx.handle.requests();
    let failed: Vec<&Value> = requests
        .iter()
        .filter(|r| r["validation"]["valid"] == false)
        .collect();
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[0]["validation"]["schema"], "AssetCreateSchema");
    assert_eq!(failed[1]["validation"]["schema"], "FileCreateSchema");
    assert_eq!(failed[2]["validation"]["schema"], "FormatSchema");
}

#[tokio::test]
async fn credentials_are_checked_on_iconik_routes_only() {
    let sbx = Sbx::start(config()).await;
    let resp = sbx.get_raw("/API/files/v1/storages/").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"errors": ["Token is invalid"]})
    );
    let resp = sbx
        .get_as("/API/files/v1/storages/", "sandbox-app", "wrong")
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // Custom credentials replace the defaults.
    let custom = Sbx::start(SandboxConfig {
        credentials: card_ingest::sandbox::auth::Credentials {
            app_id: "app-2".into(),
            token: "tok-2".into(),
        },
        ..config()
    })
    .await;
    let (s, _) = custom.get("/API/files/v1/storages/").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let resp = custom
        .get_as("/API/files/v1/storages/", "app-2", "tok-2")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    // /sandbox/* needs no credentials.
    let resp = sbx.get_raw("/sandbox/state").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(format!("{:?}", custom.handle.credentials()).contains("<redacted>"));
    assert!(!format!("{:?}", custom.handle.credentials()).contains("tok-2"));
}

#[tokio::test]
async fn paths_work_with_and_without_trailing_slash_and_never_redirect() {
    let sbx = Sbx::start(config()).await;
    let (s1, with) = sbx.get("/API/files/v1/storages/").await;
    let (s2, without) = sbx.get("/API/files/v1/storages").await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_eq!(with["objects"], without["objects"]);
    assert_eq!(with["total"], 2);
    let (s, asset) = sbx
        .post("/API/assets/v1/assets", json!({"title": "no slash"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = asset["id"].as_str().unwrap();
    let (s, _) = sbx.get(&format!("/API/assets/v1/assets/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, proxies) = sbx.get("/API/files/v1/storages/PROXIES/default").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(proxies["method"], "GCS");
    assert!(
        sbx.handle
            .requests()
            .iter()
            .all(|r| !(300..400).contains(&r["status"].as_u64().unwrap()))
    );
}

#[tokio::test]
async fn pagination_envelope_pages_through_assets() {
    let sbx = Sbx::start(config()).await;
    for i in 0..25 {
        sbx.create_asset(&format!("clip {i:02}")).await;
    }
    let (s, page3) = sbx.get("/API/assets/v1/assets/?per_page=10&page=3").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (
            page3["total"].as_u64(),
            page3["pages"].as_u64(),
            page3["page"].as_u64()
        ),
        (Some(25), Some(3), Some(3))
    );
    let titles: Vec<&str> = page3["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["clip 20", "clip 21", "clip 22", "clip 23", "clip 24"]
    );
    assert_eq!(page3["next_url"], Value::Null);
    assert_eq!(
        page3["prev_url"],
        "/API/assets/v1/assets/?page=2&per_page=10"
    );
    let (_, page1) = sbx.get("/API/assets/v1/assets/").await;
    assert_eq!(page1["objects"].as_array().unwrap().len(), 10);
    assert_eq!(
        page1["next_url"],
        "/API/assets/v1/assets/?page=2&per_page=10"
    );
    // Cursor style (per-asset lists): items after last_id.
    let tenth = page1["objects"][9]["id"].as_str().unwrap();
    let (_, after) = sbx
        .get(&format!(
            "/API/assets/v1/assets/?per_page=3&last_id={tenth}"
        ))
        .await;
    assert_eq!(after["objects"][0]["title"], "clip 10");
    assert_eq!(after["objects"].as_array().unwrap().len(), 3);
    let (s, _) = sbx.get("/API/assets/v1/assets/?per_page=0").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn status_fault_answers_n_times_then_the_route_runs() {
    let sbx = Sbx::start(config()).await;
    let asset = sbx.create_asset("faults").await;
    let asset_id = asset["id"].as_str().unwrap();
    let (s, format) = sbx
        .post_to(
            asset_id,
            "formats",
            json!({"name": "ORIGINAL", "components": components()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let ids = ids(&format["components"]);
    sbx.set_faults(json!({"rules": [{"method": "POST", "path": "/API/files/v1/assets/*/file_sets/", "status": 503, "times": 2}]}));
    let body =
        json!({"format_id": format["id"], "name": "a", "base_dir": "b", "component_ids": ids});
    let path = format!("/API/files/v1/assets/{asset_id}/file_sets");
    for _ in 0..2 {
        let (s, err) = sbx.post(&path, body.clone()).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        assert!(err["errors"][0].as_str().unwrap().contains("503"));
    }
    let (s, _) = sbx.post(&path, body.clone()).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(sbx.state().await["file_sets"].as_array().unwrap().len(), 1);
    assert_eq!(sbx.handle.faults()["rules"][0]["remaining"], 0);
}

#[tokio::test]
async fn rate_limit_fault_carries_ratelimit_remaining_zero() {
    let sbx = Sbx::start(config()).await;
    // Set over HTTP this time.
    let resp = sbx
        .http
        .post(sbx.url("/sandbox/faults"))
        .json(&json!({"rules": [{"method": "POST", "path": "/API/assets/v1/assets/", "status": 429, "times": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let create_asset = || {
        sbx.call(
            Method::POST,
            "/API/assets/v1/assets/",
            Some(json!({"title": "x"})),
        )
    };
    let (s, headers, _) = create_asset().await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["ratelimit-remaining"], "0");
    let (s, headers, _) = create_asset().await;
    assert_eq!(s, StatusCode::CREATED);
    assert!(
        headers["ratelimit-remaining"]
            .to_str()
            .unwrap()
            .parse::<u32>()
            .unwrap()
            > 0
    );
    let listed: Value = sbx
        .http
        .get(sbx.url("/sandbox/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["rules"][0]["remaining"], 0);
    assert_eq!(listed["rules"][0]["status"], 429);
}

#[tokio::test]
async fn rate_limit_window_answers_429_with_remaining_zero() {
    // A one-hour window of 5 requests: independent of how fast the machine is.
    let limit = RateLimit {
        per_second: 1000,
        per_window: 5,
        window: Duration::from_secs(3600),
    };
    let sbx = Sbx::start(SandboxConfig {
        rate_limit: Some(limit),
        ..config()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let (s, h, _) = sbx.call(Method::GET, "/API/files/v1/storages/", None).await;
        statuses.push((
            s.as_u16(),
            h["ratelimit-remaining"].to_str().unwrap().to_string(),
        ));
    }
    let expected: Vec<(u16, String)> = [
        (200, "4"),
        (200, "3"),
        (200, "2"),
        (200, "1"),
        (200, "0"),
        (429, "0"),
        (429, "0"),
    ]
    .iter()
    .map(|(s, r)| (*s, r.to_string()))
    .collect();
    assert_eq!(statuses, expected);
}

#[tokio::test]
async fn drop_response_after_commit_creates_the_object_but_the_client_sees_an_error() {
    let sbx = Sbx::start(config()).await;
    sbx.set_faults(json!({"rules": [{"method": "POST", "path": "/API/assets/v1/assets/", "drop_response_after_commit": true, "times": 1}]}));
    let result = sbx
        .authed(Method::POST, "/API/assets/v1/assets/")
        .json(&json!({"title": "lost response", "external_id": "clip-42"}))
        .send()
        .await;
    let err = result.expect_err("the client must not get a response");
    assert!(!err.is_status(), "{err:?}");
    let state = sbx.state().await;
    let assets = state["assets"].as_array().unwrap();
    assert_eq!(
        assets.len(),
        1,
        "the asset was created despite the lost response"
    );
    assert_eq!(assets[0]["external_id"], "clip-42");
    // The duplicate lookup a careful client does finds it (iconik-api.md §9).
    let (s, found) = sbx
        .post("/API/search/v1/search/", json!({"doc_types": ["assets"], "filter": {"operator": "AND", "terms": [{"name": "external_id", "value": "clip-42"}]}}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(found["total"], 1);
    assert_eq!(found["objects"][0]["id"], assets[0]["id"]);
}

#[tokio::test]
async fn delay_fault_and_latency_slow_requests_down() {
    let sbx = Sbx::start(SandboxConfig {
        latency: Duration::from_millis(30),
        ..config()
    })
    .await;
    sbx.set_faults(json!({"rules": [{"method": "*", "path": "*", "delay_ms": 50}]}));
    let started = std::time::Instant::now();
    let (s, _) = sbx.get("/API/files/v1/storages/").await;
    assert_eq!(s, StatusCode::OK);
    // A lower bound only: sleeps never end early.
    assert!(
        started.elapsed() >= Duration::from_millis(80),
        "{:?}",
        started.elapsed()
    );
    let log = sbx.handle.requests();
    assert_eq!(
        log[0]["fault"]["rule"],
        Value::Null,
        "a pure delay decides no action"
    );
}

#[tokio::test]
async fn reset_after_bytes_persists_part_of_the_chunk_and_resume_completes() {
    let sbx = Sbx::start(config()).await;
    let (asset_id, proxy, session) = sbx.asset_with_session("reset").await;
    let data = source_bytes(3 * KIB256 + 777);
    let resp = sbx
        .put_chunk(&session, &data[..KIB256], 0, data.len())
        .await;
    assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
    sbx.set_faults(json!({"rules": [{"method": "PUT", "path": "/upload/*", "reset_after_bytes": 100_000, "times": 1}]}));
    let result = sbx
        .send_chunk(&session, &data[KIB256..2 * KIB256], KIB256, data.len())
        .await;
    assert!(
        result.is_err(),
        "the connection must die mid-chunk: {result:?}"
    );
    // Status query: 256 KiB + 100,000 bytes persisted.
    let resp = sbx.status_query(&session, data.len()).await;
    assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
    let persisted = KIB256 + 100_000;
    assert_eq!(
        range_header(&resp),
        Some(format!("bytes=0-{}", persisted - 1))
    );
    // Resume from Range end + 1 to the end.
    let resp = sbx
        .put_chunk(&session, &data[persisted..], persisted, data.len())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (s, _) = sbx
        .close_proxy(&asset_id, proxy["id"].as_str().unwrap())
        .await;
    assert_eq!(s, StatusCode::OK);
    let key = sbx.first_proxy_key().await;
    assert_eq!(sbx.handle.object_bytes(&key).unwrap(), data);
    let log = sbx.handle.requests();
    assert!(
        log.iter()
            .any(|r| r["connection"] == "killed" && r["body"]["bytes"] == 100_000)
    );
}

#[tokio::test]
async fn gcs_session_edge_cases_follow_the_protocol() {
    let sbx = Sbx::start(config()).await;
    let (asset_id, proxy, session) = sbx.asset_with_session("gcs").await;
    let proxy_id = proxy["id"].as_str().unwrap();
    let data = source_bytes(2 * KIB256 + 10);

    // Fresh session: 308 without Range.
    let resp = sbx.status_query(&session, data.len()).await;
    assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(range_header(&resp), None);
    // CLOSED before the bytes are complete → 400.
    let (s, err) = sbx.close_proxy(&asset_id, proxy_id).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        err["errors"]["status"]
            .as_str()
            .unwrap()
            .contains("incomplete"),
        "{err}"
    );
    // First chunk, then the same chunk again plus more (overlap ignored).
    let resp = sbx
        .put_chunk(&session, &data[..KIB256], 0, data.len())
        .await;
    assert_eq!(range_header(&resp), Some(format!("bytes=0-{}", KIB256 - 1)));
    let resp = sbx
        .put_chunk(&session, &data[..2 * KIB256], 0, data.len())
        .await;
    assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        range_header(&resp),
        Some(format!("bytes=0-{}", 2 * KIB256 - 1))
    );
    // A gap → 400 and nothing changes.
    let resp = sbx
        .put_chunk(
            &session,
            &data[2 * KIB256 + 5..],
            2 * KIB256 + 5,
            data.len(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("exceeds already uploaded size of 524288 byte(s)")
    );
    let resp = sbx.status_query(&session, data.len()).await;
    assert_eq!(
        range_header(&resp),
        Some(format!("bytes=0-{}", 2 * KIB256 - 1))
    );
    // Last chunk → 200 with object JSON; later status query → 200 again.
    let resp = sbx
        .put_chunk(&session, &data[2 * KIB256..], 2 * KIB256, data.len())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = sbx.status_query(&session, data.len()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let obj: Value = resp.json().await.unwrap();
    assert_eq!(obj["size"], data.len().to_string());

    // Start without x-goog-resumable → 400.
    let upload_url = proxy["upload_url"].as_str().unwrap();
    let resp = sbx.http.post(upload_url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // A second session: DELETE → 499, then 404.
    let resp = sbx
        .http
        .post(upload_url)
        .header("x-goog-resumable", "start")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert!(resp.headers().get("x-guploader-uploadid").is_some());
    let second = resp.headers()["location"].to_str().unwrap().to_string();
    let resp = sbx.http.delete(&second).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 499);
    let resp = sbx.status_query(&second, data.len()).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // Unknown session → 404.
    let unknown = format!(
        "{}/upload/sandbox-proxies/x/y?upload_id=nope",
        sbx.handle.base_url()
    );
    let resp = sbx.status_query(&unknown, 10).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn state_file_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("sandbox-state.json");
    let cfg = || SandboxConfig {
        state_file: Some(state_file.clone()),
        ..config()
    };
    let data = source_bytes(KIB256 + 99);
    let (asset_id, session_path_query, storage_ids) = {
        let sbx = Sbx::start(cfg()).await;
        let (asset_id, _, session) = sbx.asset_with_session("persisted").await;
        let resp = sbx
            .put_chunk(&session, &data[..KIB256], 0, data.len())
            .await;
        assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
        let ids = ids(&sbx.state().await["storages"]);
        let url = url::Url::parse(&session).unwrap();
        let pq = format!("{}?{}", url.path(), url.query().unwrap());
        sbx.handle.shutdown().await.unwrap();
        (asset_id, pq, ids)
    };
    assert!(state_file.is_file());
    let sbx = Sbx::start(cfg()).await;
    let state = sbx.state().await;
    assert_eq!(state["assets"][0]["id"], asset_id.as_str());
    let ids = ids(&state["storages"]);
    assert_eq!(ids, storage_ids);
    // The half-done session resumes on the new port.
    let session = sbx.url(&session_path_query);
    let resp = sbx.status_query(&session, data.len()).await;
    assert_eq!(range_header(&resp), Some(format!("bytes=0-{}", KIB256 - 1)));
    let resp = sbx
        .put_chunk(&session, &data[KIB256..], KIB256, data.len())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let key = sbx.first_proxy_key().await;
    sbx.handle.shutdown().await.unwrap();
    // And the finished object survives another restart.
    let sbx = Sbx::start(cfg()).await;
    assert_eq!(sbx.handle.object_bytes(&key).unwrap(), data);
}

#[tokio::test]
async fn collections_metadata_search_history_and_lookups() {
    let sbx = Sbx::start(config()).await;
    let asset = sbx.create_asset("A003C001").await;
    let asset_id = asset["id"].as_str().unwrap();
    let (s, coll) = sbx
        .post(
            "/API/assets/v1/collections/",
            json!({"title": "Shoot day 1"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let coll_id = coll["id"].as_str().unwrap();
    let (s, _) = sbx
        .post(
            &format!("/API/assets/v1/collections/{coll_id}/contents/"),
            json!({"object_id": asset_id, "object_type": "assets"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, contents) = sbx
        .get(&format!("/API/assets/v1/collections/{coll_id}/contents/"))
        .await;
    assert_eq!(contents["total"], 1);
    assert_eq!(contents["objects"][0]["id"], asset_id);

    let (_, views) = sbx.get("/API/metadata/v1/views/").await;
    let view = &views["objects"][0];
    let fields: Vec<&str> = view["view_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["scene", "take", "camera", "description"]);
    let view_id = view["id"].as_str().unwrap();
    let (s, _, values) = sbx
        .call(
            Method::PUT,
            &format!("/API/metadata/v1/assets/{asset_id}/views/{view_id}/"),
            Some(json!({"metadata_values": {"scene": {"field_values": [{"value": "12"}]}, "take": {"field_values": [{"value": "3"}]}}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{values}");
    let (s, _, _) = sbx
        .call(
            Method::PUT,
            &format!("/API/metadata/v1/assets/{asset_id}/views/{view_id}/"),
            Some(json!({"metadata_values": {"lens": {"field_values": []}}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let state = sbx.state().await;
    assert_eq!(
        state["metadata_values"][0]["metadata_values"]["scene"]["field_values"][0]["value"],
        "12"
    );

    let (s, found) = sbx
        .post(
            "/API/search/v1/search/",
            json!({"doc_types": ["assets"], "query": "a003"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(found["objects"][0]["id"], asset_id);
    let (_, none) = sbx
        .post("/API/search/v1/search/", json!({"filter": {"operator": "AND", "terms": [{"name": "external_id", "value": "nope"}]}}))
        .await;
    assert_eq!(none["total"], 0);

    let (s, entry) = sbx
        .post(&format!("/API/assets/v1/assets/{asset_id}/history/"), json!({"operation_type": "CUSTOM", "operation_description": "Registered from card A003"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(entry["asset_id"], asset_id);
    let (s, _) = sbx
        .post(
            &format!("/API/assets/v1/assets/{asset_id}/history/"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Duplicate lookups: by path on the FILES storage and by checksum.
    let (asset2, format) = asset_with_format(&sbx, "dup").await;
    let (_, storage) = sbx.get("/API/files/v1/storages/FILES/default/").await;
    let storage_id = storage["id"].as_str().unwrap();
    let ids = ids(&format["components"]);
    let (_, fs) = sbx
        .post_to(&asset2, "file_sets", json!({"format_id": format["id"], "name": "C0001.MP4", "base_dir": "XDROOT/Clip", "component_ids": ids, "storage_id": storage_id}))
        .await;
    let (s, _) = sbx
        .post_to(&asset2, "files", json!({"directory_path": "XDROOT/Clip", "original_name": "C0001.MP4", "name": "C0001.MP4", "type": "FILE", "size": 5, "checksum": "d41d8cd98f00b204e9800998ecf8427e", "file_set_id": fs["id"], "status": "CLOSED"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, by_path) = sbx
        .get(&format!(
            "/API/files/v1/storages/{storage_id}/files/?directory_path=XDROOT/Clip/&name=C0001.MP4"
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(by_path["total"], 1);
    assert_eq!(by_path["objects"][0]["asset_id"], asset2.as_str());
    let (s, by_sum) = sbx
        .get("/API/files/v1/files/checksum/d41d8cd98f00b204e9800998ecf8427e/")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(by_sum["objects"][0]["storage_id"], storage_id);
    let (s, _) = sbx
        .get("/API/files/v1/files/checksum/00000000000000000000000000000000/")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A file set DELETE without keep_source is recorded as sources deleted.
    let fs_id = fs["id"].as_str().unwrap();
    let resp = sbx
        .authed(
            Method::DELETE,
            &format!("/API/files/v1/assets/{asset2}/file_sets/{fs_id}/"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let state = sbx.state().await;
    assert_eq!(state["sources_deleted"][0]["file_set_id"], fs_id);
    assert_eq!(state["sources_deleted"][0]["files"][0]["name"], "C0001.MP4");

    // Reset forgets objects but keeps storages.
    let resp = sbx
        .http
        .post(sbx.url("/sandbox/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let state = sbx.state().await;
    assert_eq!(state["assets"], json!([]));
    assert_eq!(state["storages"].as_array().unwrap().len(), 2);
}

/// Kills the child process even when an assertion fails.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.0.kill().is_ok() {
            self.0.wait().expect("reap the sandbox");
        }
    }
}

#[test]
fn cli_prints_the_listening_line_with_the_real_port() {
    use std::io::{BufRead, BufReader};
    let mut child = KillOnDrop(
        std::process::Command::new(env!("CARGO_BIN_EXE_card-ingest"))
            .args(["sandbox", "--listen", "127.0.0.1:0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("binary starts"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read line");
    let url = line
        .trim()
        .strip_prefix("sandbox listening on ")
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .to_string();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let resp = card_ingest::http::client_builder()
            .build()
            .unwrap()
            .get(format!("{url}/API/files/v1/storages/"))
            .header("App-ID", "sandbox-app")
            .header("Auth-Token", "sandbox-token")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.json::<Value>().await.unwrap()["total"], 2);
    });
}

/// The independent client check: nsa-pythonik against the sandbox. Needs a venv; CI makes it.
#[tokio::test]
async fn pythonik_creates_asset_format_file_set_and_file() {
    let python = crate::util::test_peer("PYTHONIK_PYTHON", "target/peers-venv/bin/python");
    let sbx = Sbx::start(config()).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/pythonik_check.py");
    let out = tokio::process::Command::new(&python)
        .arg(script)
        .args([sbx.handle.base_url(), "sandbox-app", "sandbox-token"])
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "pythonik check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).expect("script prints JSON");
    let state = sbx.state().await;
    assert_eq!(state["assets"][0]["id"], created["asset_id"]);
    assert_eq!(state["assets"][0]["external_id"], "pythonik-peer-1");
    assert_eq!(state["formats"][0]["id"], created["format_id"]);
    assert_eq!(state["formats"][0]["asset_id"], created["asset_id"]);
    assert_eq!(state["file_sets"][0]["id"], created["file_set_id"]);
    assert_eq!(
        state["file_sets"][0]["component_ids"],
        created["component_ids"]
    );
    assert_eq!(state["files"][0]["id"], created["file_id"]);
    assert_eq!(state["files"][0]["file_set_id"], created["file_set_id"]);
    assert_eq!(state["files"][0]["size"], 123456);
    let proxy = &state["proxies"][0];
    assert_eq!(proxy["id"], created["proxy_id"]);
    assert_eq!(proxy["status"], "CLOSED");
    assert_eq!(proxy["sandbox_object"]["bytes"], 256_000);
    assert_eq!(proxy["sandbox_object"]["complete"], true);
    let key = proxy["sandbox_object"]["key"].as_str().unwrap();
    let expected: Vec<u8> = (0..256_000).map(|i| (i % 256) as u8).collect();
    assert_eq!(sbx.handle.object_bytes(key).unwrap(), expected);
    assert_eq!(state["upload_sessions"][0]["id"], created["upload_id"]);
    // Every body pythonik sent passed the spec validation.
    let requests = sbx.handle.requests();
    let validated: Vec<&Value> = requests
        .iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with("/API/") && r["method"] != "GET")
        .collect();
    assert_eq!(
        validated.len(),
        6,
        "asset, format, file set, file, proxy, proxy PATCH"
    );
    assert!(
        validated
            .iter()
            .all(|r| r["validation"]["valid"] == true && r["validation"]["source"] == "spec")
    );
}

#[tokio::test]
async fn s3_and_azure_proxy_storages_take_single_puts() {
    let sbx = Sbx::start(SandboxConfig {
        extra_proxy_storages: true,
        ..config()
    })
    .await;
    let asset = sbx.create_asset("clouds").await;
    let asset_id = asset["id"].as_str().unwrap();
    for (method, prefix) in [
        ("S3", "/s3/sandbox-s3-proxies/"),
        ("AZURE", "/azure/sandbox-azure-proxies/"),
    ] {
        let (s, proxy) = sbx
            .post(
                &format!("/API/files/v1/assets/{asset_id}/method/{method}/proxies/"),
                json!({"filename": "p.mp4"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{proxy}");
        assert_eq!(proxy["storage_method"], method);
        let url = proxy["upload_url"].as_str().unwrap();
        assert!(url.starts_with(&sbx.url(prefix)), "{url}");
        let data = source_bytes(1000 + method.len());
        let resp = sbx
            .http
            .put(url)
            .header("x-ms-blob-type", "BlockBlob")
            .header("content-type", "application/octet-stream")
            .body(data.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let (s, closed) = sbx
            .close_proxy(asset_id, proxy["id"].as_str().unwrap())
            .await;
        assert_eq!(s, StatusCode::OK, "{closed}");
        let key = url.split('?').next().unwrap().split_once(prefix).unwrap().1;
        let bucket = prefix.trim_matches('/').split('/').nth(1).unwrap();
        assert_eq!(
            sbx.handle.object_bytes(&format!("{bucket}/{key}")).unwrap(),
            data
        );
    }
    // The default proxy storage stays the GCS one.
    let (_, storage) = sbx.get("/API/files/v1/storages/matching/PROXIES/").await;
    assert_eq!(storage["method"], "GCS");
}

#[tokio::test]
async fn a_spec_folder_replaces_the_built_in_copy() {
    // A folder holding only files.json: the files service is validated against it, the assets
    // service (whose document it lacks) is not — so the folder, not the built-in copy, is used.
    let dir = tempfile::tempdir().unwrap();
    let files = card_ingest::sandbox::spec::embedded_document("files.json").unwrap();
    std::fs::write(dir.path().join("files.json"), files).unwrap();
    let sbx = Sbx::start(SandboxConfig {
        spec_dir: Some(dir.path().to_path_buf()),
        ..config()
    })
    .await;
    let asset = sbx.create_asset("own spec").await;
    let asset_id = asset["id"].as_str().unwrap();
    assert_eq!(sbx.handle.requests()[0]["validation"]["source"], "absent");
    let (s, body) = sbx
        .post_to(
            asset_id,
            "files",
            json!({"directory_path": "d", "original_name": "a", "type": "FILE", "size": "12"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["errors"],
        json!(["/size: \"12\" is not of type \"integer\""])
    );
    // Formats are a files-service route: validated by the folder's files.json too.
    let (s, body) = sbx
        .post_to(asset_id, "formats", json!({"name": "ORIGINAL", "components": [{"name": "V", "type": "VIDEO", "metadata": {"width": 1920}}]}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"],
        json!(["/components/0/metadata/width: 1920 is not of type \"string\""])
    );
    assert!(
        sbx.handle.spec_summary().contains("1 documents"),
        "{}",
        sbx.handle.spec_summary()
    );
}

#[tokio::test]
async fn the_built_in_spec_validates_every_service() {
    let sbx = Sbx::start(SandboxConfig {
        spec_dir: None,
        ..config()
    })
    .await;
    let summary = sbx.handle.spec_summary();
    assert!(summary.contains("built-in copy, 7 documents"), "{summary}");
    let asset = sbx.create_asset("built-in").await;
    assert_eq!(sbx.handle.requests()[0]["validation"]["source"], "spec");
    let (s, body) = sbx
        .post_to(
            asset["id"].as_str().unwrap(),
            "files",
            json!({"directory_path": "d", "original_name": "a", "type": "FILE", "size": "12"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn a_missing_spec_folder_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-spec");
    let err = card_ingest::sandbox::spawn(SandboxConfig {
        spec_dir: Some(missing.clone()),
        ..config()
    })
    .await
    .expect_err("a --spec folder that does not exist must not start a sandbox");
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn lost_308_then_resent_chunk_is_ignored_as_overlap() {
    let sbx = Sbx::start(config()).await;
    let (_, _, session) = sbx.asset_with_session("lost 308").await;
    let data = source_bytes(2 * KIB256 + 3);
    sbx.set_faults(json!({"rules": [{"method": "PUT", "path": "/upload/*", "drop_response_after_commit": true, "times": 1}]}));
    let first = sbx
        .send_chunk(&session, &data[..KIB256], 0, data.len())
        .await;
    assert!(first.is_err(), "the 308 must be lost: {first:?}");
    // The chunk was committed: the re-sent chunk is pure overlap and changes nothing.
    let resp = sbx
        .put_chunk(&session, &data[..KIB256], 0, data.len())
        .await;
    assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(range_header(&resp), Some(format!("bytes=0-{}", KIB256 - 1)));
    let resp = sbx
        .put_chunk(&session, &data[KIB256..], KIB256, data.len())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let key = sbx.first_proxy_key().await;
    assert_eq!(sbx.handle.object_bytes(&key).unwrap(), data);
}

#[tokio::test]
async fn job_status_fault_makes_the_keyframe_job_fail() {
    let sbx = Sbx::start(config()).await;
    let (asset_id, proxy, session) = sbx.asset_with_session("failing job").await;
    let proxy_id = proxy["id"].as_str().unwrap();
    let resp = sbx.put_chunk(&session, b"tiny proxy", 0, 10).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (s, _) = sbx.close_proxy(&asset_id, proxy_id).await;
    assert_eq!(s, StatusCode::OK);
    sbx.set_faults(json!({"rules": [{"method": "POST", "path": "/API/files/v1/assets/*/proxies/*/keyframes/", "job_status": "FAILED", "times": 1}]}));
    let (s, kf) = sbx
        .post(
            &format!("/API/files/v1/assets/{asset_id}/proxies/{proxy_id}/keyframes/"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let last = sbx.wait_for_job(kf["job_id"].as_str().unwrap()).await;
    assert_eq!(last["status"], "FAILED", "{last}");
    assert!(last["error_message"].is_string());
    assert!(
        last.as_object()
            .unwrap()
            .keys()
            .all(|k| !k.starts_with("sandbox_")),
        "{last}"
    );
}

#[tokio::test]
async fn patch_is_partial_and_keeps_component_ids_checked() {
    let sbx = Sbx::start(config()).await;
    let (asset_id, format) = asset_with_format(&sbx, "patch").await;
    let ids = ids(&format["components"]);
    let (s, fs) = sbx
        .post_to(&asset_id, "file_sets", json!({"format_id": format["id"], "name": "a", "base_dir": "b", "component_ids": ids[..2]}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let path = format!(
        "/API/files/v1/assets/{asset_id}/file_sets/{}/",
        fs["id"].as_str().unwrap()
    );
    // Re-sync the component ids only (iconik-api.md §10.2): no other field is required.
    let (s, _, patched) = sbx
        .call(Method::PATCH, &path, Some(json!({"component_ids": ids})))
        .await;
    assert_eq!(s, StatusCode::OK, "{patched}");
    assert_eq!(patched["component_ids"], Value::Array(ids.clone()));
    assert_eq!(patched["base_dir"], "b");
    let (s, _, err) = sbx
        .call(
            Method::PATCH,
            &path,
            Some(json!({"component_ids": ["not-a-component"]})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        err["errors"]["component_ids"]
            .as_str()
            .unwrap()
            .contains("not-a-component")
    );
    // PUT is a full update: required fields apply.
    let (s, _, err) = sbx
        .call(Method::PUT, &path, Some(json!({"component_ids": ids})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(err["errors"]["base_dir"].is_string(), "{err}");
    // Asset PATCH changes the title and keeps server-owned fields.
    let (s, _, asset) = sbx
        .call(
            Method::PATCH,
            &format!("/API/assets/v1/assets/{asset_id}/"),
            Some(json!({"title": "renamed", "id": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (asset["title"].as_str(), asset["id"].as_str()),
        (Some("renamed"), Some(asset_id.as_str()))
    );
    // DELETE answers 204 and the asset leaves the list.
    let resp = sbx
        .authed(
            Method::DELETE,
            &format!("/API/assets/v1/assets/{asset_id}/"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (_, list) = sbx.get("/API/assets/v1/assets/").await;
    assert_eq!(list["total"], 0);
}
