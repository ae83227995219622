//! `--transcript`: iconik calls and a GCS proxy upload against the in-process sandbox with a
//! [`TranscriptWriter`] on both clients. The file must hold one curl per request the sandbox saw,
//! in order, with bodies that parse back to what was sent, labels from the task-local, and never
//! the token or a storage signature. Then bash runs the script against the same sandbox and it
//! must succeed and send the same requests again.

use card_ingest::iconik::models::*;
use card_ingest::iconik::observer::{CallObserver, CallRecord, labelled};
use card_ingest::iconik::upload::gcs::ResumableOptions;
use card_ingest::iconik::upload::{ProxyUploadOptions, UploadConfig, UploadHttp, upload_proxy};
use card_ingest::iconik::{Client, Credentials, Secret};
use card_ingest::ingest::transcript::{TranscriptHeader, TranscriptWriter};
use card_ingest::sandbox::{self, SandboxConfig};
use chrono::{TimeZone, Utc};
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Keeps every record too, to compare with the file.
#[derive(Default)]
struct Recorder(Mutex<Vec<CallRecord>>);

impl CallObserver for Recorder {
    fn on_call(&self, call: &CallRecord) {
        self.0.lock().expect("recorder lock").push(call.clone());
    }
}

/// Both observers in one.
struct Both(Arc<TranscriptWriter>, Arc<Recorder>);

impl CallObserver for Both {
    fn on_call(&self, call: &CallRecord) {
        self.0.on_call(call);
        self.1.on_call(call);
    }
}

/// One curl block of the transcript.
#[derive(Debug)]
struct Block {
    comment: String,
    method: String,
    url: String,
    body: Option<String>,
    or_true: bool,
}

/// Undoes `shell_quote` for one `'…'` word starting at `s[0]`; returns the word and the rest.
fn unquote(s: &str) -> (String, &str) {
    let mut out = String::new();
    let mut rest = s.strip_prefix('\'').expect("single-quoted word");
    loop {
        let end = rest.find('\'').expect("closing quote");
        out.push_str(&rest[..end]);
        rest = &rest[end + 1..];
        if let Some(r) = rest.strip_prefix("\\''") {
            out.push('\'');
            rest = r;
        } else {
            return (out, rest);
        }
    }
}

fn parse_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut sessions: Vec<String> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(comment) = line.strip_prefix("# ").filter(|c| {
            c.split_once(". ")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        }) else {
            continue;
        };
        let mut cmd = lines.next().expect("command after comment");
        while cmd.starts_with('#') {
            cmd = lines.next().expect("command after comment lines");
        }
        let method = cmd
            .split_once(" -X ")
            .and_then(|(_, r)| r.split(' ').next())
            .expect("-X METHOD")
            .to_owned();
        let after = cmd.split_once(&format!(" -X {method} ")).expect("url").1;
        // A GCS start captures its Location; later chunks use the variable.
        if cmd.starts_with("UPLOAD_SESSION_") {
            let location = comment
                .split_once("location: ")
                .and_then(|(_, l)| l.rsplit_once(" ("))
                .map(|(l, _)| l.to_owned())
                .expect("start comment shows the Location");
            sessions.push(location);
        }
        let url = match after.strip_prefix("\"$UPLOAD_SESSION_") {
            Some(rest) => {
                let k: usize = rest
                    .split('"')
                    .next()
                    .and_then(|k| k.parse().ok())
                    .expect("k");
                sessions[k - 1].clone()
            }
            None => unquote(after).0,
        };
        let or_true = cmd.ends_with(" || true");
        let body = cmd.split_once(" <<'").map(|(_, tail)| {
            let delim = tail.split('\'').next().expect("delimiter").to_owned();
            let mut body = String::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            body
        });
        blocks.push(Block {
            comment: comment.to_owned(),
            method,
            url,
            body,
            or_true,
        });
    }
    blocks
}

fn count(state: &Value, key: &str) -> usize {
    state[key].as_array().map_or(0, Vec::len)
}

/// `path?query` of a sandbox request-log entry, for comparing with transcript URLs.
fn logged_target(r: &Value) -> (String, String) {
    (
        r["method"].as_str().unwrap_or("").to_owned(),
        r["path"].as_str().unwrap_or("").to_owned(),
    )
}

struct Run {
    asset: Asset,
    file_set: FileSet,
    proxy: Proxy,
    bodies: Vec<Value>,
}

/// The calls a clip registration makes, each inside a step label; returns what was sent.
async fn register(c: &Client, up: &UploadHttp, proxy_path: &Path, storage: StorageId) -> Run {
    let mut bodies = Vec::new();
    labelled("check token", c.auth().check_token())
        .await
        .expect("token");
    let asset_create = AssetCreate {
        external_id: Some("p2:A001:0002EM".into()),
        ..AssetCreate::new("Interview it's $5 `date` \\ \"take 2\"")
    };
    bodies.push(serde_json::to_value(&asset_create).expect("json"));
    let asset = labelled(
        "create asset for clip 0002EM",
        c.assets().create(&asset_create, None),
    )
    .await
    .expect("asset");
    let version = asset.version_id();
    let format_create = FormatCreate {
        name: "ORIGINAL".into(),
        status: Some(ActiveStatus::Active),
        version_id: version,
        storage_methods: vec!["FILE".into()],
        is_online: Some(true),
        metadata: vec![],
        components: vec![ComponentCreate {
            name: "VIDEO".into(),
            component_type: ComponentType::Video,
            metadata: [("width".to_owned(), "1920".to_owned())].into(),
        }],
    };
    bodies.push(serde_json::to_value(&format_create).expect("json"));
    let format = labelled(
        "create format for clip 0002EM",
        c.formats().create(asset.id, &format_create),
    )
    .await
    .expect("format");
    let fs_create = FileSetCreate {
        format_id: format.id,
        name: "0002EM.MXF".into(),
        base_dir: "NO NAME/A001 CARD/CONTENTS".into(),
        component_ids: format.component_ids(),
        storage_id: Some(storage),
        status: Some(FileSetStatus::Active),
        version_id: version,
        is_archive: None,
        original_storage_id: None,
    };
    bodies.push(serde_json::to_value(&fs_create).expect("json"));
    let file_set = labelled(
        "create file set for clip 0002EM",
        c.file_sets().create(asset.id, &fs_create),
    )
    .await
    .expect("file set");
    for (i, name) in ["0002EM.MXF", "0002EM00.MXF"].iter().enumerate() {
        let made = Utc
            .with_ymd_and_hms(2024, 3, 1, 9, 0, i as u32)
            .single()
            .expect("date");
        let fc = FileCreate {
            name: Some((*name).into()),
            size: Some(1000 + i as u64),
            checksum: Some(format!("{:032x}", i + 1)),
            file_date_created: Some(made),
            file_date_modified: Some(made),
            file_set_id: Some(file_set.id),
            format_id: Some(format.id),
            storage_id: Some(storage),
            status: Some(ObjectStatus::Closed),
            version_id: version,
            ..FileCreate::new("NO NAME/A001 CARD/CONTENTS/VIDEO", *name)
        };
        bodies.push(serde_json::to_value(&fc).expect("json"));
        labelled(
            format!("create file {name} for clip 0002EM"),
            c.files().create(asset.id, &fc),
        )
        .await
        .expect("file");
    }
    // A lookup that answers 404 (recorded as failed, `|| true` in the script).
    let missing = labelled(
        "look up a missing asset",
        c.assets().get(AssetId::from(uuid::Uuid::nil())),
    )
    .await
    .expect_err("no such asset");
    assert_eq!(missing.status(), Some(404));
    let pc = ProxyCreate {
        name: Some("0002EM.mp4".into()),
        filename: Some("0002EM.mp4".into()),
        format: Some("mp4".into()),
        size: Some(std::fs::metadata(proxy_path).expect("proxy").len()),
        version_id: version,
        ..ProxyCreate::default()
    };
    bodies.push(serde_json::to_value(&pc).expect("json"));
    let proxy = labelled(
        "create proxy for clip 0002EM",
        c.proxies().create(asset.id, &pc),
    )
    .await
    .expect("proxy");
    let opts = ProxyUploadOptions {
        gcs: ResumableOptions {
            chunk_size: 256 * 1024,
            ..ResumableOptions::default()
        },
        ..ProxyUploadOptions::default()
    };
    labelled(
        "upload proxy for clip 0002EM",
        upload_proxy(up, c, asset.id, &proxy, proxy_path, &opts),
    )
    .await
    .expect("upload");
    bodies.push(serde_json::to_value(ProxyUpdate::closed()).expect("json"));
    labelled(
        "close proxy for clip 0002EM",
        c.proxies()
            .patch(asset.id, proxy.id, &ProxyUpdate::closed()),
    )
    .await
    .expect("close");
    Run {
        asset,
        file_set,
        proxy,
        bodies,
    }
}

#[tokio::test]
async fn transcript_has_one_runnable_curl_per_call_and_no_secrets() {
    let sbx = sandbox::spawn(SandboxConfig {
        spec_dir: None,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let creds = sbx.credentials().clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("my transcript.sh");
    let token = Secret::new(creds.token.clone());
    let writer = Arc::new(
        TranscriptWriter::create(
            &path,
            &TranscriptHeader {
                card: "/Volumes/NO NAME".into(),
                server: sbx.base_url().to_owned(),
                started_at: Utc::now(),
            },
        )
        .expect("transcript created")
        .redacting(&token),
    );
    let recorder = Arc::new(Recorder::default());
    let observer = Arc::new(Both(writer.clone(), recorder.clone()));
    let plain = Client::new(
        sbx.base_url(),
        Credentials::new(creds.app_id.clone(), creds.token.clone()),
    )
    .expect("client");
    let client = plain.with_observer(observer.clone());
    let up = UploadHttp::new(&UploadConfig {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(30),
    })
    .expect("upload client")
    .with_observer(observer);
    // 2 full 256 KiB chunks + a tail, from a folder with a space and a quote in its name.
    let proxy_dir = dir.path().join("proxies 'A001'");
    std::fs::create_dir(&proxy_dir).expect("proxy dir");
    let proxy_path = proxy_dir.join("0002EM proxy.mp4");
    let proxy_bytes: Vec<u8> = (0..(2 * 256 * 1024 + 777u32))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&proxy_path, &proxy_bytes).expect("proxy file");
    // Looked up without the observer: the transcript holds only the registration.
    let storage = plain
        .storages()
        .matching(StoragePurpose::Files)
        .await
        .expect("storages")
        .expect("a FILES storage");
    let before = sbx.requests().len();
    let run = register(&client, &up, &proxy_path, storage.id).await;

    let text = std::fs::read_to_string(&path).expect("transcript");
    let blocks = parse_blocks(&text);
    let log = sbx.requests()[before..].to_vec();
    let records = recorder.0.lock().expect("lock").clone();

    // One block per request the sandbox saw, in order, same method and path (+ query).
    assert_eq!(blocks.len(), log.len(), "{text}");
    assert_eq!(blocks.len(), records.len());
    assert_eq!(writer.calls_written(), blocks.len() as u64);
    for (i, (b, r)) in blocks.iter().zip(&log).enumerate() {
        let url = url::Url::parse(&b.url).expect("absolute URL");
        assert_eq!(
            (b.method.clone(), url.path().to_owned()),
            logged_target(r),
            "call {}",
            i + 1
        );
        assert!(
            b.comment.starts_with(&format!("{}. ", i + 1)),
            "{}",
            b.comment
        );
    }
    // 1 token check + asset + format + file set + 2 files + 404 + proxy, then the upload (start
    // POST + 3 chunk PUTs), then the close PATCH.
    let shape: Vec<&str> = blocks.iter().map(|b| b.method.as_str()).collect();
    assert_eq!(
        shape,
        vec![
            "GET", "POST", "POST", "POST", "POST", "POST", "GET", "POST", "POST", "PUT", "PUT",
            "PUT", "PATCH"
        ]
    );
    assert!(
        blocks[1].comment.starts_with(&format!(
            "2. create asset for clip 0002EM → 201, id {}",
            run.asset.id
        )),
        "{}",
        blocks[1].comment
    );
    assert!(
        blocks[3]
            .comment
            .contains(&format!("id {}", run.file_set.id)),
        "{}",
        blocks[3].comment
    );
    assert!(blocks[2].url.contains(&run.asset.id.to_string()));
    assert!(blocks[6].comment.contains("look up a missing asset → 404"));
    assert!(blocks[6].or_true, "a failed call must not stop the script");
    assert_eq!(blocks.iter().filter(|b| b.or_true).count(), 1);
    assert!(
        blocks[8]
            .comment
            .starts_with("9. upload proxy for clip 0002EM: start upload session → 201, location: "),
        "{}",
        blocks[8].comment
    );
    assert!(
        blocks[9].comment.starts_with(
            "10. upload proxy for clip 0002EM: chunk bytes 0-262143/525065 → 308, range: bytes=0-262143"
        ),
        "{}",
        blocks[9].comment
    );
    assert!(
        text.contains("-H 'content-range: bytes 262144-524287/525065'"),
        "{text}"
    );
    assert!(
        blocks[11].comment.contains("→ 200"),
        "{}",
        blocks[11].comment
    );
    assert_eq!(
        text.matches("\nUPLOAD_SESSION_1=$(curl ").count(),
        1,
        "{text}"
    );
    assert_eq!(
        text.matches(" -X PUT \"$UPLOAD_SESSION_1\" ").count(),
        3,
        "{text}"
    );

    // JSON bodies parse back to exactly what was sent, in call order.
    let sent: Vec<Value> = blocks
        .iter()
        .filter_map(|b| b.body.as_deref())
        .map(|b| serde_json::from_str(b).expect("body parses"))
        .collect();
    assert_eq!(sent, run.bodies);
    for (b, r) in blocks.iter().zip(&records) {
        if let Some(body) = &b.body {
            let back: Value = serde_json::from_str(body).expect("json");
            assert_eq!(Some(back), r.json_body());
        }
    }
    assert!(text.contains("\"title\": \"Interview it's $5 `date` \\\\ \\\"take 2\\\"\""));

    // No secret anywhere: token, App-ID only as the variable, no real signature.
    assert!(!text.contains(&creds.token), "token leaked:\n{text}");
    assert!(!text.contains(&format!("App-ID: {}", creds.app_id)));
    let signed = run.proxy.upload_url.clone().expect("upload_url");
    let sig = signed
        .split_once("X-Goog-Signature=")
        .map(|(_, s)| s.split('&').next().unwrap_or(""))
        .expect("signed URL");
    assert!(sig.len() >= 32, "sandbox signatures are long: {signed}");
    assert!(!text.contains(sig), "signature leaked:\n{text}");
    // The start request and its Location answer (chunks use $UPLOAD_SESSION_1).
    assert_eq!(
        text.matches("X-Goog-Signature=REDACTED").count(),
        2,
        "{text}"
    );
    assert!(text.contains(&format!("# Server  {}\n", sbx.base_url())));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Replay: bash runs the script against the same sandbox. Ids are literal, so it sends the
    // same requests to the same paths with the same bodies, creating a second asset, format,
    // file set, 2 files and proxy next to the first ones.
    let state_before = sbx.state();
    let replay_from = sbx.requests().len();
    // tokio's Command: the sandbox shares this test's runtime and must keep serving.
    let out = tokio::process::Command::new("bash")
        .arg(&path)
        .env("ICONIK_APP_ID", &creds.app_id)
        .env("ICONIK_AUTH_TOKEN", &creds.token)
        .output()
        .await
        .expect("bash runs");
    assert!(
        out.status.success(),
        "replay failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let replay = sbx.requests()[replay_from..].to_vec();
    assert_eq!(
        replay.iter().map(logged_target).collect::<Vec<_>>(),
        log.iter().map(logged_target).collect::<Vec<_>>()
    );
    for (again, first) in replay.iter().zip(&log) {
        if first["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("/API/"))
        {
            assert_eq!(again["body"], first["body"], "{}", first["path"]);
            assert_eq!(again["query"], first["query"], "{}", first["path"]);
        } else {
            assert_eq!(
                again["body"]["bytes"], first["body"]["bytes"],
                "{}",
                first["path"]
            );
        }
        assert_eq!(again["status"], first["status"], "{}", first["path"]);
    }
    let state_after = sbx.state();
    for (key, added) in [
        ("assets", 1),
        ("formats", 1),
        ("file_sets", 1),
        ("files", 2),
        ("proxies", 1),
    ] {
        assert_eq!(
            count(&state_after, key),
            count(&state_before, key) + added,
            "{key}"
        );
    }
}

#[tokio::test]
async fn s3_and_azure_uploads_are_observed_with_redacted_signatures_and_replay() {
    let sbx = sandbox::spawn(SandboxConfig {
        spec_dir: None,
        extra_proxy_storages: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let creds = sbx.credentials().clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("uploads.sh");
    let writer = Arc::new(
        TranscriptWriter::create(
            &script,
            &TranscriptHeader {
                card: "CARD".into(),
                server: sbx.base_url().to_owned(),
                started_at: Utc::now(),
            },
        )
        .expect("transcript"),
    );
    let recorder = Arc::new(Recorder::default());
    let client = Client::new(
        sbx.base_url(),
        Credentials::new(creds.app_id.clone(), creds.token.clone()),
    )
    .expect("client");
    let up = UploadHttp::new(&UploadConfig::default())
        .expect("upload client")
        .with_observer(Arc::new(Both(writer.clone(), recorder.clone())));
    let asset = client
        .assets()
        .create(&AssetCreate::new("clouds"), None)
        .await
        .expect("asset");
    let mut urls = Vec::new();
    for (i, method) in [StorageMethod::S3, StorageMethod::Azure]
        .into_iter()
        .enumerate()
    {
        let path = dir.path().join(format!("proxy {i}.mp4"));
        let bytes: Vec<u8> = (0..10_000u32).map(|b| (b * 7 + i as u32) as u8).collect();
        std::fs::write(&path, &bytes).expect("proxy");
        let proxy = client
            .proxies()
            .create_on_method(
                asset.id,
                &method,
                &ProxyCreate {
                    filename: Some(format!("{method}.mp4")),
                    size: Some(10_000),
                    ..ProxyCreate::default()
                },
            )
            .await
            .expect("proxy");
        urls.push(proxy.upload_url.clone().expect("upload_url"));
        labelled(
            format!("upload {method} proxy"),
            upload_proxy(
                &up,
                &client,
                asset.id,
                &proxy,
                &path,
                &ProxyUploadOptions::default(),
            ),
        )
        .await
        .expect("upload");
    }
    // Only the two storage PUTs were observed (the iconik client has no observer here).
    let records = recorder.0.lock().expect("lock").clone();
    assert_eq!(records.len(), 2);
    let (s3, azure) = (&records[0], &records[1]);
    assert_eq!((s3.method.as_str(), s3.status), ("PUT", Some(200)));
    assert_eq!(s3.label.as_deref(), Some("upload S3 proxy"));
    assert!(s3.url.contains("X-Amz-Signature=REDACTED"), "{}", s3.url);
    assert_eq!(
        s3.body,
        Some(card_ingest::iconik::observer::RequestBody::FileRange {
            path: dir.path().join("proxy 0.mp4"),
            offset: 0,
            len: 10_000
        })
    );
    assert!(azure.url.contains("&sig=REDACTED"), "{}", azure.url);
    assert_eq!(azure.status, Some(200));
    assert!(
        azure
            .headers
            .contains(&("x-ms-blob-type".to_owned(), "BlockBlob".to_owned())),
        "{:?}",
        azure.headers
    );
    let text = std::fs::read_to_string(&script).expect("script");
    for url in &urls {
        let sig = url.rsplit_once('=').map(|(_, s)| s).expect("signature");
        assert!(
            sig.len() >= 32 && !text.contains(sig),
            "signature leaked:\n{text}"
        );
    }
    assert!(
        text.contains("# 1. upload S3 proxy: storage PUT /s3/"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "head -c 10000 {} | curl -sS -D - -o /dev/null -X PUT ",
            card_ingest::ingest::transcript::shell_quote(
                &dir.path().join("proxy 0.mp4").to_string_lossy()
            )
        )),
        "{text}"
    );

    // Replaying the two PUTs stores the same bytes again, with the same answers.
    let from = sbx.requests().len();
    let out = tokio::process::Command::new("bash")
        .arg(&script)
        .env("ICONIK_APP_ID", "unused")
        .env("ICONIK_AUTH_TOKEN", "unused")
        .output()
        .await
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replay = sbx.requests()[from..].to_vec();
    let got: Vec<(String, String, Value)> = replay
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap_or("").to_owned(),
                r["path"]
                    .as_str()
                    .unwrap_or("")
                    .split('/')
                    .nth(1)
                    .unwrap_or("")
                    .to_owned(),
                r["status"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("PUT".to_owned(), "s3".to_owned(), Value::from(200)),
            (
                "PUT".to_owned(),
                "azure".to_owned(),
                Value::from(azure.status)
            ),
        ]
    );
    assert!(
        replay.iter().all(|r| r["body"]["bytes"] == 10_000),
        "{replay:?}"
    );
}
