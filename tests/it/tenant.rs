//! iconik as real tenants configure it (iconik-api.md §14), over loopback HTTP against the
//! sandbox: storage profiles, ACL templates and access groups applied to new assets, the
//! storage gateway's scan of a scan folder, per-asset list paging at 10 with `last_id`, file
//! dates stamped at registration, and the GCS start that must carry no `Content-Type`.

use crate::ingest::{Setup, TOKEN, count, engine, job, master, run, scan_card, setup, setup_at};
use crate::util::{self, canonical, copy_tree, fixtures, tempdir};
use card_ingest::iconik::client::ClientConfig;
use card_ingest::iconik::models::AssetId;
use card_ingest::iconik::upload::gcs::{ResumableOptions, ResumableUploader};
use card_ingest::iconik::upload::{UploadConfig, UploadHttp};
use card_ingest::iconik::{Client, Credentials};
use card_ingest::ingest::{EventKind, EventSink, IngestError, IngestEvent, NoticeLevel};
use card_ingest::sample::SampleKind;
use card_ingest::sandbox::profiles::StorageProfile;
use card_ingest::sandbox::{self, SandboxConfig, SandboxHandle};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

async fn sandbox_with(mount: &Path, profile: StorageProfile) -> SandboxHandle {
    let mut config = SandboxConfig {
        job_delay: Duration::from_millis(30),
        mount_point: mount.display().to_string(),
        storage_profile: profile,
        ..SandboxConfig::default()
    };
    config.credentials.token = TOKEN.to_owned();
    sandbox::spawn(config).await.expect("sandbox starts")
}

/// A raw iconik call with the sandbox's credentials.
async fn call(
    sbx: &SandboxHandle,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = card_ingest::http::client_builder()
        .build()
        .unwrap()
        .request(method, format!("{}{path}", sbx.base_url()))
        .header("App-ID", &sbx.credentials().app_id)
        .header("Auth-Token", TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get_html(sbx: &SandboxHandle, path: &str) -> String {
    card_ingest::http::client_builder()
        .build()
        .unwrap()
        .get(format!("{}{path}", sbx.base_url()))
        .header("Accept", "text/html")
        .send()
        .await
        .expect("web view")
        .text()
        .await
        .expect("html")
}

fn files_storage(sbx: &SandboxHandle) -> Value {
    sbx.state()["storages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["purpose"] == "FILES")
        .cloned()
        .expect("FILES storage")
}

/// An asset with an ORIGINAL format and a file set on the FILES storage, made over HTTP.
async fn asset_with_set(
    sbx: &SandboxHandle,
    title: &str,
    base_dir: &str,
) -> (String, String, String) {
    let storage = files_storage(sbx)["id"].as_str().unwrap().to_owned();
    let (s, asset) = call(
        sbx,
        reqwest::Method::POST,
        "/API/assets/v1/assets/",
        Some(json!({"title": title})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{asset}");
    let id = asset["id"].as_str().unwrap().to_owned();
    let (s, format) = call(
        sbx,
        reqwest::Method::POST,
        &format!("/API/files/v1/assets/{id}/formats/"),
        Some(json!({"name": "ORIGINAL", "components": [{"name": "VIDEO", "type": "VIDEO"}]})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{format}");
    let format_id = format["id"].as_str().unwrap().to_owned();
    let components: Vec<Value> = format["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    let (s, set) = call(
        sbx,
        reqwest::Method::POST,
        &format!("/API/files/v1/assets/{id}/file_sets/"),
        Some(
            json!({"format_id": format_id, "name": "clip.mxf", "base_dir": base_dir,
                    "component_ids": components, "storage_id": storage}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{set}");
    (id, format_id, set["id"].as_str().unwrap().to_owned())
}

async fn add_file(
    sbx: &SandboxHandle,
    (asset, format, set): &(String, String, String),
    dir: &str,
    name: &str,
    checksum: Option<&str>,
) -> Value {
    let storage = files_storage(sbx)["id"].clone();
    let (s, file) = call(
        sbx,
        reqwest::Method::POST,
        &format!("/API/files/v1/assets/{asset}/files/"),
        Some(
            json!({"directory_path": dir, "original_name": name, "name": name, "type": "FILE",
                    "size": 1000, "checksum": checksum, "status": "CLOSED",
                    "file_set_id": set, "format_id": format, "storage_id": storage}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{file}");
    file
}

async fn isg_scan(sbx: &SandboxHandle) -> Value {
    let resp = card_ingest::http::client_builder()
        .build()
        .unwrap()
        .post(format!("{}/sandbox/isg/scan", sbx.base_url()))
        .send()
        .await
        .expect("scan");
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.expect("scan outcomes")
}

fn notices(events: &[IngestEvent], want: NoticeLevel) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Notice { level, message } if *level == want => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// iconik requests except job polls (their number depends on timing).
fn api_calls(sbx: &SandboxHandle) -> Vec<Value> {
    sbx.requests()
        .into_iter()
        .filter(|r| {
            let p = r["path"].as_str().unwrap_or_default();
            p.starts_with("/API/") && !p.starts_with("/API/jobs/")
        })
        .collect()
}

#[tokio::test]
async fn storage_profiles_seed_the_files_storage_settings() {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mount = "/mnt/originals";
    let mut seen = Vec::new();
    for profile in StorageProfile::ALL {
        let sbx = sandbox_with(Path::new(mount), profile).await;
        let (s, list) = call(&sbx, reqwest::Method::GET, "/API/files/v1/storages/", None).await;
        assert_eq!(s, StatusCode::OK);
        let files = list["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["purpose"] == "FILES")
            .cloned()
            .expect("FILES storage listed");
        let st = &files["settings"];
        assert_eq!(st["mount_point"], mount, "{profile}");
        let scans = matches!(
            profile,
            StorageProfile::Scanned
                | StorageProfile::ScannedNoAggregation
                | StorageProfile::ScanFoldersOnly
                | StorageProfile::Tenant
        );
        assert_eq!(st["scan"], scans, "{profile}: {st}");
        if scans {
            assert_eq!(st["scan_directories"], json!(["/mnt/originals/scanned"]));
        }
        assert_eq!(
            st["aggregate_identical_files"],
            !matches!(
                profile,
                StorageProfile::Plain
                    | StorageProfile::AllKinds
                    | StorageProfile::ScannedNoAggregation
                    | StorageProfile::AclTemplate
                    | StorageProfile::AccessGroup
            ),
            "{profile}"
        );
        assert_eq!(
            st["allow_access_outside_scan_directories"],
            !matches!(
                profile,
                StorageProfile::ScanFoldersOnly | StorageProfile::Tenant
            ),
            "{profile}"
        );
        let state = sbx.state();
        let template = state["acl_templates"][0]["id"].clone();
        let group = state["groups"][0]["id"].clone();
        let has_template = matches!(
            profile,
            StorageProfile::AclTemplate | StorageProfile::Tenant
        );
        let has_group = matches!(
            profile,
            StorageProfile::AccessGroup | StorageProfile::Tenant
        );
        assert_eq!(
            st.get("acl_template_id").is_some(),
            has_template,
            "{profile}"
        );
        assert_eq!(st.get("access_group_id").is_some(), has_group, "{profile}");
        if has_template {
            assert_eq!(st["acl_template_id"], template);
        }
        if has_group {
            assert_eq!(st["access_group_id"], group);
        }
        assert!(
            files["description"]
                .as_str()
                .unwrap()
                .contains(profile.name()),
            "{files}"
        );
        // all-kinds: the same FILES storage, plus the cloud storages holding files.
        let mut clouds: Vec<(String, String)> = list["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["purpose"] == "FILES" && s["method"] != "FILE")
            .map(|s| (text(&s["name"]), text(&s["method"])))
            .collect();
        clouds.sort();
        let want: Vec<(String, String)> = if profile == StorageProfile::AllKinds {
            [
                ("Sandbox Azure", "AZURE"),
                ("Sandbox GCS", "GCS"),
                ("Sandbox S3", "S3"),
            ]
            .map(|(n, m)| (n.to_owned(), m.to_owned()))
            .into()
        } else {
            Vec::new()
        };
        assert_eq!(clouds, want, "{profile}");
        seen.push((st.clone(), clouds));
    }
    // Every profile is a different combination.
    for (i, a) in seen.iter().enumerate() {
        for b in &seen[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn sandbox_help_lists_every_storage_profile() {
    let run = util::run_bin(
        &["sandbox".as_ref(), "--help".as_ref()],
        Duration::from_secs(30),
    );
    assert!(run.status.success(), "{}", run.stderr);
    for p in StorageProfile::ALL {
        assert!(
            run.stdout.contains(p.name()),
            "{} missing:\n{}",
            p,
            run.stdout
        );
        assert!(run.stdout.contains(p.describe()), "{p} description missing");
    }
    let run = util::run_bin(
        &[
            "sandbox".as_ref(),
            "--storage-profile".as_ref(),
            "nope".as_ref(),
        ],
        Duration::from_secs(30),
    );
    assert!(!run.status.success());
    assert!(
        run.stderr.contains("scanned-no-aggregation"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn acl_routes_apply_a_template_and_put_a_group() {
    let sbx = sandbox_with(Path::new("/mnt/o"), StorageProfile::Tenant).await;
    let (asset, _, _) = asset_with_set(&sbx, "A001C001", "cards/A001").await;
    let state = sbx.state();
    let template = state["acl_templates"][0]["id"].as_str().unwrap().to_owned();
    let group = state["groups"][0]["id"].as_str().unwrap().to_owned();

    let (s, _) = call(
        &sbx,
        reqwest::Method::POST,
        &format!("/API/acls/v1/acl/templates/{template}/assets/{asset}/"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let acls = sbx.state()["acls"].clone();
    assert_eq!(acls.as_array().unwrap().len(), 1, "{acls}");
    assert_eq!(acls[0]["group_id"], group.as_str());
    assert_eq!(acls[0]["permissions"], json!(["read", "write", "delete"]));

    // Unknown template, unknown asset: 404 naming them.
    let (s, body) = call(
        &sbx,
        reqwest::Method::POST,
        &format!("/API/acls/v1/acl/templates/00000000-0000-4000-8000-000000000000/assets/{asset}/"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(
        body["errors"][0].as_str().unwrap().contains("ACL template"),
        "{body}"
    );
    let (s, _) = call(
        &sbx,
        reqwest::Method::POST,
        &format!(
            "/API/acls/v1/acl/templates/{template}/assets/00000000-0000-4000-8000-000000000000/"
        ),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A group's permissions replace what the template gave; bad names are a 400.
    let path = format!("/API/acls/v1/groups/{group}/acl/assets/{asset}/");
    let (s, body) = call(
        &sbx,
        reqwest::Method::PUT,
        &path,
        Some(json!({"permissions": ["read", "fly"]})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        body["errors"]["permissions"]
            .as_str()
            .unwrap()
            .contains("fly")
    );
    let (s, body) = call(
        &sbx,
        reqwest::Method::PUT,
        &path,
        Some(json!({"permissions": ["read"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["permissions"], json!(["read"]));
    let (s, body) = call(&sbx, reqwest::Method::GET, &path, None).await;
    assert_eq!((s, body["via"].as_str()), (StatusCode::OK, Some("group")));
    assert_eq!(sbx.state()["acls"].as_array().unwrap().len(), 1);

    let html = get_html(&sbx, &format!("/sandbox/assets/{asset}")).await;
    assert!(html.contains("<h2>Access</h2>"), "{html}");
    assert!(html.contains("Post team (sandbox group)"), "{html}");
}

#[tokio::test]
async fn isg_scan_makes_a_second_asset_unless_aggregation_matches_the_md5() {
    let md5 = "0123456789abcdef0123456789abcdef";
    // Without aggregation: the gateway makes its own asset for a file in its scan folder.
    let sbx = sandbox_with(Path::new("/mnt/o"), StorageProfile::ScannedNoAggregation).await;
    let ids = asset_with_set(&sbx, "A001C001", "scanned/A001").await;
    add_file(
        &sbx,
        &ids,
        "scanned/A001/CONTENTS",
        "A001C001.MXF",
        Some(md5),
    )
    .await;
    add_file(&sbx, &ids, "cards/A001", "outside.MXF", Some(md5)).await;
    let out = isg_scan(&sbx).await;
    assert_eq!(
        out["found"], 1,
        "only the file inside the scan folder: {out}"
    );
    let o = &out["outcomes"][0];
    assert_eq!(o["outcome"], "second_asset", "{o}");
    assert_eq!(o["registered_asset_id"], ids.0.as_str());
    assert_ne!(o["asset_id"], ids.0.as_str());
    let st = sbx.state();
    assert_eq!(count(&st, "assets"), 2);
    let gateway = st["assets"][1].clone();
    assert_eq!(gateway["title"], "A001C001.MXF");
    assert_eq!(gateway["sandbox_made_by"], "storage gateway scan");
    // The gateway's asset has the same file at the same path.
    let theirs: Vec<&Value> = st["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["asset_id"] == gateway["id"])
        .collect();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["directory_path"], "scanned/A001/CONTENTS");
    // A second tick finds nothing new (the gateway's own record is not re-scanned).
    assert_eq!(isg_scan(&sbx).await["found"], 0);
    assert!(st["storages"][0]["last_scanned"].is_string());
    // The web view shows it, on the index and on the registered asset's page.
    let index = get_html(&sbx, "/sandbox/").await;
    assert!(index.contains("Storage gateway scans (1)"), "{index}");
    assert!(index.contains("second_asset"), "{index}");
    assert!(index.contains("scanned-no-aggregation"), "{index}");
    let page = get_html(&sbx, &format!("/sandbox/assets/{}", ids.0)).await;
    assert!(
        page.contains("does not aggregate identical files"),
        "{page}"
    );
    let (s, scans) = call(&sbx, reqwest::Method::GET, "/sandbox/isg/scans", None).await;
    assert_eq!(
        (s, scans.as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );

    // With aggregation: the MD5 matches, no new asset; a record without checksum cannot match.
    let sbx = sandbox_with(Path::new("/mnt/o"), StorageProfile::Scanned).await;
    let ids = asset_with_set(&sbx, "A001C002", "scanned/A002").await;
    add_file(&sbx, &ids, "scanned/A002", "A001C002.MXF", Some(md5)).await;
    add_file(&sbx, &ids, "scanned/A002", "A001C002.XML", None).await;
    let out = isg_scan(&sbx).await;
    assert_eq!(out["found"], 2, "{out}");
    let by_name = |n: &str| {
        out["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == n)
            .cloned()
            .unwrap()
    };
    let mxf = by_name("A001C002.MXF");
    assert_eq!(mxf["outcome"], "aggregated");
    assert_eq!(mxf["asset_id"], ids.0.as_str());
    let xml = by_name("A001C002.XML");
    assert_eq!(xml["outcome"], "second_asset");
    assert!(
        xml["detail"].as_str().unwrap().contains("no checksum"),
        "{xml}"
    );
    assert_eq!(count(&sbx.state(), "assets"), 2);

    // A storage that does not scan: nothing happens.
    let sbx = sandbox_with(Path::new("/mnt/o"), StorageProfile::Plain).await;
    let ids = asset_with_set(&sbx, "A001C003", "scanned/A003").await;
    add_file(&sbx, &ids, "scanned/A003", "A001C003.MXF", Some(md5)).await;
    assert_eq!(isg_scan(&sbx).await["found"], 0);
}

#[tokio::test]
async fn a_file_created_without_dates_gets_the_registration_time() {
    let sbx = sandbox_with(Path::new("/mnt/o"), StorageProfile::Plain).await;
    let ids = asset_with_set(&sbx, "A001C001", "cards").await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let undated = add_file(&sbx, &ids, "cards", "A.MXF", None).await;
    for key in ["file_date_created", "file_date_modified"] {
        let stamped = chrono::DateTime::parse_from_rfc3339(undated[key].as_str().unwrap())
            .unwrap_or_else(|e| panic!("{key} {}: {e}", undated[key]));
        assert!(stamped >= before, "{key} is not now: {undated}");
    }
    assert_eq!(undated["file_date_created"], undated["date_created"]);
    // Dates the client sends are kept.
    let (s, dated) = call(
        &sbx,
        reqwest::Method::POST,
        &format!("/API/files/v1/assets/{}/files/", ids.0),
        Some(
            json!({"directory_path": "cards", "original_name": "B.MXF", "type": "FILE",
                    "file_date_created": "2024-05-14T10:05:00+00:00",
                    "file_date_modified": "2024-05-14T10:06:00+00:00"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(dated["file_date_created"], "2024-05-14T10:05:00+00:00");
    assert_eq!(dated["file_date_modified"], "2024-05-14T10:06:00+00:00");
}

#[tokio::test]
async fn gcs_start_with_content_type_is_refused_and_our_uploader_sends_none() {
    let sbx = sandbox_with(Path::new("/mnt/o"), StorageProfile::Plain).await;
    let (asset, _, _) = asset_with_set(&sbx, "A001C001", "cards").await;
    let (s, proxy) = call(
        &sbx,
        reqwest::Method::POST,
        &format!("/API/files/v1/assets/{asset}/proxies/"),
        Some(json!({"filename": "A001C001.mp4", "format": "mp4"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let url = proxy["upload_url"].as_str().unwrap().to_owned();
    let resp = card_ingest::http::client_builder()
        .build()
        .unwrap()
        .post(&url)
        .header("x-goog-resumable", "start")
        .header("content-type", "video/mp4")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{text}"
    );
    assert!(text.contains("video/mp4"), "{text}");

    // card-ingest's uploader: the start carries no Content-Type, the upload completes.
    let dir = tempdir();
    let mp4 = dir.path().join("A001C001.mp4");
    std::fs::write(&mp4, util::pseudo_random_bytes(300_000, 7)).unwrap();
    let up = ResumableUploader::new(
        UploadHttp::new(&UploadConfig::default()).unwrap(),
        ResumableOptions {
            chunk_size: 256 * 1024,
            ..ResumableOptions::default()
        },
    )
    .unwrap();
    up.upload(&url, &mp4, None, &mut |_| {}, None)
        .await
        .expect("upload through the signed URL");
    let starts: Vec<Value> = sbx
        .requests()
        .into_iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap().starts_with("/gcs/"))
        .collect();
    assert_eq!(starts.len(), 2, "{starts:?}");
    let ours = &starts[1];
    assert_eq!(ours["status"], 201, "{ours}");
    let headers = ours["headers"].to_string().to_lowercase();
    assert!(headers.contains("x-goog-resumable"), "{headers}");
    assert!(!headers.contains("content-type"), "{headers}");
}

#[tokio::test]
async fn per_asset_lists_page_at_ten_and_the_client_follows_last_id() {
    let sbx = sandbox_with(Path::new("/mnt/o"), StorageProfile::Plain).await;
    let ids = asset_with_set(&sbx, "A001C001", "cards").await;
    for i in 0..12 {
        add_file(&sbx, &ids, "cards", &format!("F{i:02}.MXF"), None).await;
    }
    for i in 0..11 {
        let (s, _) = call(
            &sbx,
            reqwest::Method::POST,
            &format!("/API/files/v1/assets/{}/proxies/", ids.0),
            Some(json!({"filename": format!("p{i}.mp4")})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    for i in 0..10 {
        let (s, f) = call(
            &sbx,
            reqwest::Method::POST,
            &format!("/API/files/v1/assets/{}/formats/", ids.0),
            Some(json!({"name": format!("EXTRA{i}")})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{f}");
        let (s, fs) = call(
            &sbx,
            reqwest::Method::POST,
            &format!("/API/files/v1/assets/{}/file_sets/", ids.0),
            Some(
                json!({"format_id": f["id"], "name": format!("set{i}"), "base_dir": "cards",
                        "component_ids": []}),
            ),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{fs}");
    }
    // iconik's default: 10 per page.
    let (_, page) = call(
        &sbx,
        reqwest::Method::GET,
        &format!("/API/files/v1/assets/{}/files/", ids.0),
        None,
    )
    .await;
    assert_eq!(page["objects"].as_array().unwrap().len(), 10);
    assert_eq!(page["per_page"], 10);
    let tenth = page["objects"][9]["id"].as_str().unwrap().to_owned();
    let (_, rest) = call(
        &sbx,
        reqwest::Method::GET,
        &format!("/API/files/v1/assets/{}/files/?last_id={tenth}", ids.0),
        None,
    )
    .await;
    assert_eq!(rest["objects"].as_array().unwrap().len(), 2);

    // The client walks the cursor at iconik's default page size.
    let client = Client::with_config(
        sbx.base_url(),
        Credentials::new(sbx.credentials().app_id.clone(), TOKEN),
        ClientConfig {
            list_page_size: 10,
            ..ClientConfig::default()
        },
    )
    .unwrap();
    let asset: AssetId = ids.0.parse().unwrap();
    sbx.clear_requests();
    assert_eq!(client.files().list(asset).await.unwrap().len(), 12);
    assert_eq!(client.proxies().list(asset).await.unwrap().len(), 11);
    assert_eq!(client.formats().list(asset).await.unwrap().len(), 11);
    assert_eq!(client.file_sets().list(asset).await.unwrap().len(), 11);
    let cursors: Vec<Value> = sbx
        .requests()
        .iter()
        .map(|r| r["query"]["last_id"].clone())
        .collect();
    // One follow-up page per list (12 files, 11 proxies, 11 formats, 11 file sets).
    assert_eq!(
        cursors.iter().filter(|c| c.is_string()).count(),
        4,
        "{cursors:?}"
    );
}

/// A clip of 24 files (ARRIRAW frames) registered, then resumed mid create-files with the
/// client reading iconik's default 10 per page: the resumed step finds every file already made
/// on the pages after the first and creates none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_of_more_than_ten_files_resumes_without_duplicates() {
    let dir = tempdir();
    let root = canonical(dir.path());
    let card = root.join("ARRI_A");
    copy_tree(fixtures().dir_of(SampleKind::Arri), &card);
    let report = scan_card(&card);
    let big = report
        .clips
        .iter()
        .max_by_key(|c| c.clip.files.len())
        .expect("a clip");
    let n = big.clip.files.len();
    assert!(n > 10, "the ARRI clip has {n} files");
    let sbx = sandbox_with(&root, StorageProfile::Plain).await;
    let s = Setup {
        journal: root.join("journal"),
        root: root.clone(),
        card: card.clone(),
        _dir: dir,
    };
    let mut eng = engine(&sbx, &s, TOKEN);
    eng.options.proxy = card_ingest::ingest::ProxyMode::None;
    eng.client = Client::with_config(
        sbx.base_url(),
        Credentials::new(sbx.credentials().app_id.clone(), TOKEN),
        ClientConfig {
            list_page_size: 10,
            ..ClientConfig::default()
        },
    )
    .unwrap();
    let (out, _) = run(&eng, job(&report)).await;
    assert!(out.all_complete(), "{:?}", out.record);
    let files_before = count(&sbx.state(), "files");
    assert!(files_before >= n);

    // As after a crash inside create_files: the step was running, the last files' ids lost.
    let mut journal: Value =
        serde_json::from_str(&std::fs::read_to_string(&out.journal_path).unwrap()).unwrap();
    let clip = &mut journal["state"]["clips"][&big.clip.id];
    clip["steps"]["create_files"]["state"] = json!("running");
    for f in clip["files"].as_array_mut().unwrap().iter_mut().skip(3) {
        f.as_object_mut().unwrap().remove("file_id");
    }
    std::fs::write(&out.journal_path, journal.to_string()).unwrap();
    sbx.clear_requests();
    let (out, _) = run(&eng, job(&report)).await;
    assert!(out.all_complete(), "{:?}", out.record);
    assert_eq!(
        count(&sbx.state(), "files"),
        files_before,
        "no file created twice"
    );
    let reqs = sbx.requests();
    assert!(
        !reqs
            .iter()
            .any(|r| r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/files/")),
        "a file was created again"
    );
    assert!(
        reqs.iter().any(|r| r["query"]["last_id"].is_string()),
        "the file set's list was walked with last_id"
    );
    let rec = &out.record.clips[&big.clip.id];
    assert!(rec.files.iter().all(|f| f.file_id.is_some()));
}

/// The storage's ACL template (or access group) is applied to each new asset: exactly one
/// extra call per clip over the plain flow, and the sandbox records the permissions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storage_acl_is_applied_with_one_extra_call_per_clip() {
    util::require_tool("ffmpeg");
    let _ = master(3);
    let mut calls = Vec::new();
    for profile in [
        StorageProfile::Plain,
        StorageProfile::AclTemplate,
        StorageProfile::AccessGroup,
    ] {
        let s = setup(3);
        let sbx = sandbox_with(&s.root, profile).await;
        let report = scan_card(&s.card);
        let eng = engine(&sbx, &s, TOKEN);
        let (out, events) = run(&eng, job(&report)).await;
        assert!(out.all_complete(), "{profile}: {:?}", out.record);
        let reqs = api_calls(&sbx);
        let acl_calls: Vec<&Value> = reqs
            .iter()
            .filter(|r| r["path"].as_str().unwrap().starts_with("/API/acls/"))
            .collect();
        let st = sbx.state();
        let acls = st["acls"].as_array().unwrap();
        let info = notices(&events, NoticeLevel::Info);
        match profile {
            StorageProfile::Plain => {
                assert!(acl_calls.is_empty());
                assert!(acls.is_empty());
                assert!(info.is_empty(), "{info:?}");
            }
            StorageProfile::AclTemplate => {
                assert_eq!(acl_calls.len(), 3);
                assert!(acl_calls.iter().all(|r| r["method"] == "POST"));
                assert_eq!(acls.len(), 3);
                assert!(
                    acls.iter()
                        .all(|a| a["via"].as_str().unwrap().starts_with("template"))
                );
                assert!(info[0].contains("ACL template"), "{info:?}");
            }
            _ => {
                assert_eq!(acl_calls.len(), 3);
                assert!(acl_calls.iter().all(|r| r["method"] == "PUT"));
                assert!(
                    acls.iter()
                        .all(|a| a["permissions"] == json!(["read", "write"]))
                );
                assert!(info[0].contains("access group"), "{info:?}");
            }
        }
        // Every asset got it.
        for a in st["assets"].as_array().unwrap() {
            let has = acls.iter().any(|x| x["object_key"] == a["id"]);
            assert_eq!(has, profile != StorageProfile::Plain, "{profile}: {a}");
        }
        calls.push(reqs.len());
    }
    eprintln!("iconik calls for 3 clips (plain, template, group): {calls:?}");
    assert_eq!(
        calls[1],
        calls[0] + 3,
        "template: plain + 1 per clip ({calls:?})"
    );
    assert_eq!(
        calls[2],
        calls[0] + 3,
        "group: plain + 1 per clip ({calls:?})"
    );
}

/// Offloading into a scan folder of a storage that does not aggregate identical files would
/// give every file two assets: refused before any copy or create, naming the fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offload_into_a_scan_folder_without_aggregation_is_refused_before_any_copy() {
    util::require_tool("ffmpeg");
    let s = setup(3);
    let sbx = sandbox_with(&s.root, StorageProfile::ScannedNoAggregation).await;
    let report = scan_card(&s.card);
    let scanned = s.root.join("scanned");
    std::fs::create_dir_all(&scanned).unwrap();
    let mut eng = engine(&sbx, &s, TOKEN);
    eng.options.offload_to = Some(scanned.clone());
    eng.options.allow_same_volume = true;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let err = eng
        .run_card(
            job(&report),
            EventSink::new(tx),
            None,
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect_err("refused");
    let IngestError::StorageSettings(msg) = &err else {
        panic!("wrong error: {err}");
    };
    assert!(msg.contains("second asset"), "{msg}");
    assert!(msg.contains("Aggregate identical files"), "{msg}");
    assert!(msg.contains("Sandbox originals"), "{msg}");
    assert_eq!(
        std::fs::read_dir(&scanned).unwrap().count(),
        0,
        "nothing copied"
    );
    assert_eq!(count(&sbx.state(), "assets"), 0);
    let reqs = api_calls(&sbx);
    assert!(
        reqs.iter().all(|r| r["method"] == "GET"),
        "only the storage list was read: {reqs:?}"
    );
    rx.close();
    while rx.try_recv().is_ok() {}
}

/// A card registered in place inside a scan folder: with aggregation the gateway's scan
/// attaches to our assets (info), without it the operator is warned and a scan shows the second
/// assets; a card outside the scan folders of a storage whose gateway cannot read there warns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_folder_settings_are_told_to_the_operator_and_show_in_a_scan() {
    util::require_tool("ffmpeg");
    // Aggregation on, card inside the scan folder.
    let s = setup_at(3, "scanned/CARD_C");
    let sbx = sandbox_with(&s.root, StorageProfile::Scanned).await;
    let report = scan_card(&s.card);
    let (out, events) = run(&engine(&sbx, &s, TOKEN), job(&report)).await;
    assert!(out.all_complete());
    let info = notices(&events, NoticeLevel::Info);
    assert!(
        info.iter()
            .any(|m| m.contains("aggregates identical files")),
        "{info:?}"
    );
    assert!(notices(&events, NoticeLevel::Warning).is_empty());
    let files = count(&sbx.state(), "files");
    let scan = isg_scan(&sbx).await;
    assert_eq!(scan["found"], files, "{scan}");
    assert!(
        scan["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["outcome"] == "aggregated"),
        "{scan}"
    );
    assert_eq!(count(&sbx.state(), "assets"), 3, "no second assets");

    // Aggregation off, in place: a warning naming the fix; the scan makes second assets.
    let s = setup_at(3, "scanned/CARD_C");
    let sbx = sandbox_with(&s.root, StorageProfile::ScannedNoAggregation).await;
    let report = scan_card(&s.card);
    let (out, events) = run(&engine(&sbx, &s, TOKEN), job(&report)).await;
    assert!(out.all_complete());
    let warnings = notices(&events, NoticeLevel::Warning);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("Aggregate identical files"),
        "{warnings:?}"
    );
    let files = count(&sbx.state(), "files");
    let scan = isg_scan(&sbx).await;
    assert_eq!(scan["found"], files);
    assert_eq!(
        count(&sbx.state(), "assets"),
        3 + files,
        "one gateway asset per file"
    );

    // The gateway reads only its scan folder; the card is elsewhere.
    let s = setup(3);
    let sbx = sandbox_with(&s.root, StorageProfile::ScanFoldersOnly).await;
    let report = scan_card(&s.card);
    let (out, events) = run(&engine(&sbx, &s, TOKEN), job(&report)).await;
    assert!(out.all_complete());
    let warnings = notices(&events, NoticeLevel::Warning);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("Allow access outside scan directories")
            && warnings[0].contains("CARD_C"),
        "{warnings:?}"
    );
    assert_eq!(
        isg_scan(&sbx).await["found"],
        0,
        "nothing in the scan folder"
    );
}

/// The CLI tells the operator: `ingest --sandbox --storage-profile` prints the storage's warning
/// as one `warning:` line, and `--json` carries it as a `notice` event.
#[test]
fn the_cli_prints_the_storage_warning() {
    util::require_tool("ffmpeg");
    let dir = tempdir();
    let root = canonical(dir.path());
    let card = root.join("CARD_C");
    copy_tree(master(3), &card);
    let journal = root.join("journal");
    let args = |json: bool| {
        let mut a: Vec<std::ffi::OsString> = vec![
            "ingest".into(),
            card.clone().into(),
            "--sandbox".into(),
            "--storage-profile".into(),
            "scan-folders-only".into(),
            "--proxy".into(),
            "none".into(),
            "--journal-dir".into(),
            journal.clone().into(),
        ];
        if json {
            a.push("--json".into());
        }
        a
    };
    let plain = args(false);
    let refs: Vec<&std::ffi::OsStr> = plain.iter().map(|a| a.as_os_str()).collect();
    let run = util::run_bin(&refs, Duration::from_secs(300));
    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.starts_with("warning: Storage “Sandbox originals”"))
        .unwrap_or_else(|| panic!("no storage warning:\n{}", run.stderr));
    assert!(
        warning.contains("Allow access outside scan directories"),
        "{warning}"
    );
    let json = args(true);
    let refs: Vec<&std::ffi::OsStr> = json.iter().map(|a| a.as_os_str()).collect();
    let run = util::run_bin(&refs, Duration::from_secs(300));
    assert!(run.status.success(), "{}", run.stderr);
    let notice: Value = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "notice")
        .unwrap_or_else(|| panic!("no notice event:\n{}", run.stdout));
    assert_eq!(notice["level"], "warning", "{notice}");
    assert!(
        notice["message"]
            .as_str()
            .unwrap()
            .contains("cannot transcode or download")
    );
}

/// `isg_scan_interval`: the gateway scans by itself, as a real one does every few seconds.
#[tokio::test]
async fn a_scan_tick_finds_a_file_registered_in_a_scan_folder_by_itself() {
    let mut config = SandboxConfig {
        mount_point: "/mnt/o".into(),
        storage_profile: StorageProfile::ScannedNoAggregation,
        isg_scan_interval: Some(Duration::from_millis(50)),
        ..SandboxConfig::default()
    };
    config.credentials.token = TOKEN.to_owned();
    let sbx = sandbox::spawn(config).await.expect("sandbox starts");
    let ids = asset_with_set(&sbx, "A001C001", "scanned/A001").await;
    add_file(&sbx, &ids, "scanned/A001", "A001C001.MXF", Some("00ff")).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let st = sbx.state();
        if count(&st, "isg_scans") == 1 {
            assert_eq!(st["isg_scans"][0]["outcome"], "second_asset");
            assert_eq!(count(&st, "assets"), 2);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no scan tick ran: {st}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Later ticks do not scan the same file again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(count(&sbx.state(), "isg_scans"), 1);
}
