//! The seed's whole asset (issue 22): a P2 clip offloaded to two destinations on two iconik
//! storages, copied to the sandbox's GCS and with edit proxies on S3 and a FILES path, shows
//! ORIGINAL with three file sets (each with every member file and its MD5), PPRO_PROXY with two
//! file sets, the closed web proxy and keyframes; every request validates against the spec;
//! the verified cloud copy is a line of the safe-to-erase evidence.

use crate::ingest::{TOKEN, engine, job, master, md5_hex, run, scan_card, setup};
use crate::util::{canonical, copy_tree, tempdir};
use card_ingest::ingest::storage_target::StorageTarget;
use card_ingest::sandbox::profiles::StorageProfile;
use card_ingest::sandbox::{self, SandboxConfig};
use serde_json::Value;
use std::collections::BTreeMap;

/// A sandbox with the `all-kinds` storages, mounted at `mount`.
pub(crate) async fn all_kinds_sandbox(mount: &std::path::Path) -> sandbox::SandboxHandle {
    let mut config = SandboxConfig {
        spec_dir: None,
        job_delay: std::time::Duration::from_millis(30),
        mount_point: mount.display().to_string(),
        storage_profile: StorageProfile::AllKinds,
        ..SandboxConfig::default()
    };
    config.credentials.token = TOKEN.to_owned();
    sandbox::spawn(config).await.expect("sandbox starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_p2_clip_gets_the_seeds_tree_originals_on_three_storages_and_two_edit_proxies() {
    let s = setup(1);
    // The card outside the storages; the RAID under "Sandbox originals", the shuttle drive on
    // "Sandbox shuttle".
    let card_dir = tempdir();
    let card = canonical(card_dir.path()).join("CARD_C");
    copy_tree(master(1), &card);
    let raid = s.root.join("raid");
    let shuttle_mount = s.root.join("shuttle");
    let shuttle = shuttle_mount.join("ingest");
    std::fs::create_dir_all(&raid).unwrap();
    std::fs::create_dir_all(&shuttle).unwrap();

    let sbx = all_kinds_sandbox(&s.root).await;
    let mut e = engine(&sbx, &s, TOKEN);
    e.options.proxy_dir = s.root.join("proxies");
    e.options.offload_to = Some(raid.clone());
    e.options.offload_also = vec![shuttle.clone()];
    e.options.allow_same_volume = true;
    e.options.offload_storages = vec![
        StorageTarget::parse(&format!("Sandbox shuttle={}", shuttle_mount.display())).unwrap(),
    ];
    e.options.cloud_copy = vec!["Sandbox GCS".into()];
    e.options.edit_proxy_to = vec![
        StorageTarget::parse("Sandbox S3").unwrap(),
        StorageTarget::parse(&format!("Sandbox originals={}", s.root.display())).unwrap(),
    ];
    let report = scan_card(&card);
    let members: Vec<_> = report.clips[0].clip.files.clone();
    let (out, _) = run(&e, job(&report)).await;
    let rec = out.record.clips.values().next().unwrap();
    assert!(rec.is_complete(), "{rec:#?}");

    let st = sbx.state();
    let list = |kind: &str| st[kind].as_array().unwrap().clone();
    let storage_name: BTreeMap<String, String> = list("storages")
        .iter()
        .map(|x| (x["id"].to_string(), x["name"].as_str().unwrap().to_owned()))
        .collect();
    let format_id = |name: &str| {
        let f: Vec<Value> = list("formats")
            .into_iter()
            .filter(|f| f["name"] == name)
            .collect();
        assert_eq!(f.len(), 1, "{name}");
        f[0]["id"].clone()
    };
    let sets_of = |format: &Value| -> BTreeMap<String, Value> {
        list("file_sets")
            .into_iter()
            .filter(|s| s["format_id"] == *format)
            .map(|s| (storage_name[&s["storage_id"].to_string()].clone(), s))
            .collect()
    };
    let files_in = |set: &Value| -> Vec<Value> {
        list("files")
            .into_iter()
            .filter(|f| f["file_set_id"] == set["id"])
            .collect()
    };

    // ORIGINAL: three file sets, each with every member file, its size and MD5, CLOSED.
    let original = sets_of(&format_id("ORIGINAL"));
    assert_eq!(
        original.keys().collect::<Vec<_>>(),
        ["Sandbox GCS", "Sandbox originals", "Sandbox shuttle"]
    );
    for (storage, set) in &original {
        let files = files_in(set);
        assert_eq!(files.len(), members.len(), "{storage}");
        for m in &members {
            let name = m.path.file_name().unwrap().to_string_lossy().into_owned();
            let f = files
                .iter()
                .find(|f| f["name"] == name.as_str() || f["original_name"] == name.as_str())
                .unwrap_or_else(|| panic!("{name} on {storage}"));
            assert_eq!(f["checksum"], md5_hex(&m.path), "{name} on {storage}");
            assert_eq!(f["size"], m.size, "{name} on {storage}");
            assert_eq!(f["status"], "CLOSED", "{name} on {storage}");
            assert!(f["file_date_modified"].is_string(), "{f}");
        }
    }
    // The shuttle's records are relative to its own mount.
    let shuttle_dirs: Vec<String> = files_in(&original["Sandbox shuttle"])
        .iter()
        .map(|f| f["directory_path"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        shuttle_dirs.iter().all(|d| d.starts_with("ingest/")),
        "{shuttle_dirs:?}"
    );
    // The GCS copy holds the card's bytes.
    for f in files_in(&original["Sandbox GCS"]) {
        let key = format!(
            "sandbox-gcs-files/{}/{}",
            f["id"].as_str().unwrap(),
            f["name"].as_str().unwrap()
        );
        let bytes = sbx.object_bytes(&key).expect("GCS object");
        let m = members
            .iter()
            .find(|m| m.path.file_name().unwrap().to_string_lossy() == f["name"].as_str().unwrap())
            .unwrap();
        assert_eq!(bytes, std::fs::read(&m.path).unwrap(), "{key}");
    }

    // PPRO_PROXY: two file sets (S3, the FILES path), each with the MOV.
    let ppro = sets_of(&format_id("PPRO_PROXY"));
    assert_eq!(
        ppro.keys().collect::<Vec<_>>(),
        ["Sandbox S3", "Sandbox originals"]
    );
    for set in ppro.values() {
        let files = files_in(set);
        assert_eq!(files.len(), 1);
        assert!(files[0]["name"].as_str().unwrap().ends_with("_Proxy.mov"));
        assert_eq!(files[0]["status"], "CLOSED");
    }

    // The web proxy closed, keyframes made.
    let proxies = list("proxies");
    assert_eq!(proxies.len(), 1);
    assert_eq!(proxies[0]["status"], "CLOSED");
    assert!(!list("keyframes").is_empty());

    // Every write validated against iconik's spec.
    for r in sbx.requests() {
        if r["path"].as_str().unwrap_or("").starts_with("/API/")
            && matches!(r["method"].as_str(), Some("POST" | "PATCH" | "PUT"))
        {
            assert_eq!(r["validation"]["valid"], true, "invalid request: {r}");
        }
    }

    // The verified cloud copy is evidence for erasing the card.
    assert_eq!(rec.cloud_copies.len(), 1);
    assert!(rec.cloud_copies[0].verified);
    let verdict = card_ingest::ingest::erase::verdict(&out.record, &card, &out.left_out);
    let line = verdict
        .evidence
        .iter()
        .find(|e| e.text.starts_with("cloud copy on Sandbox GCS"))
        .expect("a cloud copy line");
    assert!(line.met, "{}", line.text);
}

/// The fixed command line: `--edit-proxy-to` (cloud), `--edit-proxy-codec dnxhr-lb` and
/// `--cloud-copy` through the binary against the all-kinds sandbox; bad values are usage
/// errors (exit 2) naming the expected form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_flags_make_the_edit_proxy_and_the_cloud_copy() {
    let s = setup(1);
    let sbx = all_kinds_sandbox(&s.root).await;
    let args = crate::util::sandbox_ingest_args(
        &s.card,
        &sbx,
        &s.root,
        "journal",
        &[
            "--edit-proxy-to",
            "Sandbox Azure",
            "--edit-proxy-codec",
            "dnxhr-lb",
            "--cloud-copy",
            "Sandbox S3",
            "--json",
        ],
    );
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_card-ingest"))
                .args(&args)
                .env("ICONIK_APP_ID", "sandbox-app")
                .env("ICONIK_AUTH_TOKEN", TOKEN)
                .output()
                .expect("run card-ingest")
        })
    };
    let out = run(args).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The step details name both, as --json carries them.
    assert!(stdout.contains("PPRO_PROXY (dnxhr-lb"), "{stdout}");
    assert!(stdout.contains("cloud copy on Sandbox S3"), "{stdout}");
    let st = sbx.state();
    let list = |kind: &str| st[kind].as_array().unwrap().clone();
    let ppro = list("formats")
        .into_iter()
        .find(|f| f["name"] == "PPRO_PROXY")
        .expect("PPRO_PROXY format");
    assert_eq!(ppro["metadata"][0]["codec"], "dnxhr-lb");
    let s3 = list("storages")
        .into_iter()
        .find(|x| x["name"] == "Sandbox S3")
        .unwrap();
    let on_s3: Vec<Value> = list("files")
        .into_iter()
        .filter(|f| f["storage_id"] == s3["id"])
        .collect();
    assert!(!on_s3.is_empty());
    assert!(
        on_s3
            .iter()
            .all(|f| f["status"] == "CLOSED" && f["checksum"].is_string())
    );

    for (flag, value, says) in [
        ("--edit-proxy-codec", "prores", "prores-proxy or dnxhr-lb"),
        (
            "--offload-storage",
            "Sandbox shuttle",
            "STORAGE=LOCAL_MOUNT",
        ),
        ("--edit-proxy-to", "=/mnt", "storage name or id"),
    ] {
        let args = vec![
            "ingest".to_owned(),
            "/nonexistent-card".into(),
            "--sandbox".into(),
            flag.into(),
            value.into(),
        ];
        let out = run(args).await.unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{flag} {value}: {err}");
    }
}

/// The sandbox takes `MARKER` segments as iconik does (`POST assets/{id}/segments/`, validated
/// against `SegmentSchema`), lists them, and its web view shows each asset's markers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_keeps_marker_segments_and_shows_them() {
    let dir = tempdir();
    let sbx = all_kinds_sandbox(dir.path()).await;
    let http = card_ingest::http::client_builder().build().unwrap();
    let api = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{}/API/assets/v1/{path}", sbx.base_url()))
            .header("App-ID", &sbx.credentials().app_id)
            .header("Auth-Token", TOKEN)
    };
    let asset: Value = api(reqwest::Method::POST, "assets/")
        .json(&serde_json::json!({"title": "GX010001"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = asset["id"].as_str().unwrap().to_owned();
    let marker = serde_json::json!({
        "segment_type": "MARKER",
        "time_start_milliseconds": 1520,
        "time_end_milliseconds": 1520,
        "segment_text": "HiLight",
    });
    let resp = api(reqwest::Method::POST, &format!("assets/{id}/segments/"))
        .json(&marker)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::CREATED);
    // A segment type iconik does not know is refused by the spec.
    let bad = api(reqwest::Method::POST, &format!("assets/{id}/segments/"))
        .json(&serde_json::json!({"segment_type": "HILIGHT"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), reqwest::StatusCode::BAD_REQUEST);
    let listed: Value = api(reqwest::Method::GET, &format!("assets/{id}/segments/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let objects = listed["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0]["time_start_milliseconds"], 1520);
    let page = http
        .get(format!("{}/sandbox/assets/{id}", sbx.base_url()))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<h2>Markers (1)</h2>"), "{page}");
    assert!(
        page.contains("<td class=\"mono\">1520</td><td>HiLight</td>"),
        "{page}"
    );
}
