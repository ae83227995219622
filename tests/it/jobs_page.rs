//! The card on iconik's Jobs page (src/ingest/jobs_page.rs): one CUSTOM job per card and one
//! child per clip in the sandbox's state, matching the run; an abort there stops the card.

use crate::ingest::{TOKEN, delay_every, engine, job, scan_card, setup, spawn_run, start_sandbox};
use card_ingest::ingest::jobs_page::CUSTOM_TYPE;
use card_ingest::ingest::{EventKind, EventSink, Step};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

/// The card-ingest jobs in the sandbox: (the card's, its children).
fn card_jobs(state: &Value) -> (Vec<Value>, Vec<Value>) {
    state["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["custom_type"] == CUSTOM_TYPE)
        .cloned()
        .partition(|j| j["parent_id"].is_null())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_job_and_its_children_match_the_run() {
    let s = setup(3);
    let sbx = start_sandbox(&s.root).await;
    let report = scan_card(&s.card);
    let mut eng = engine(&sbx, &s, TOKEN);
    eng.options.iconik_job = true;
    eng.options.job_poll_every = Duration::from_millis(100);
    let (out, _) = crate::ingest::run(&eng, job(&report)).await;
    assert!(out.all_complete(), "{:?}", out.record.clips);
    let (cards, children) = card_jobs(&sbx.state());
    assert_eq!(cards.len(), 1, "{cards:?}");
    let card = &cards[0];
    assert_eq!(card["type"], "CUSTOM");
    assert_eq!(card["status"], "FINISHED");
    assert_eq!(card["title"], "Ingest of card CARD_C");
    assert_eq!(card["progress_total"], 3);
    assert_eq!(card["progress_processed"], 3);
    assert!(
        card["message"]
            .as_str()
            .unwrap()
            .starts_with("3 completed, 0 failed, 0 skipped"),
        "{card}"
    );
    let steps: Vec<(&str, &str)> = card["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["label"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("disk: checksums and offload copy", "DONE"),
            ("cpu: proxy encodes", "DONE"),
            ("network: registration, proxy upload, keyframes", "DONE"),
        ],
        "the lanes as steps"
    );
    assert_eq!(children.len(), 3);
    assert!(children.iter().all(|c| c["parent_id"] == card["id"]));
    assert!(children.iter().all(|c| c["status"] == "FINISHED"));
    let assets: BTreeSet<String> = out
        .record
        .clips
        .values()
        .map(|c| c.asset_id.unwrap().to_string())
        .collect();
    let objects: BTreeSet<String> = children
        .iter()
        .map(|c| c["object_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(objects, assets, "one child per clip, on its asset");
    // The budget: one create per clip and the card's, nothing else made.
    let creates = sbx
        .requests()
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == "/API/jobs/v1/jobs/")
        .count();
    assert_eq!(creates, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborting_the_card_job_in_iconik_stops_the_card() {
    let s = setup(3);
    let sbx = start_sandbox(&s.root).await;
    // Slow file registration: the card is still at work when the abort comes.
    sbx.set_faults(delay_every("POST", "/API/files/v1/assets/*/files/", 300))
        .unwrap();
    let report = scan_card(&s.card);
    let mut eng = engine(&sbx, &s, TOKEN);
    eng.options.iconik_job = true;
    eng.options.job_poll_every = Duration::from_millis(100);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let sink = EventSink::call(move |e| {
        if e.step == Some(Step::CreateAsset) && matches!(e.kind, EventKind::Done { .. }) {
            let _ = tx.send(());
        }
    });
    let run = spawn_run(eng, &report, sink);
    rx.recv().await.expect("the first asset is made");
    let (cards, _) = card_jobs(&sbx.state());
    assert_eq!(cards.len(), 1);
    // What iconik's Jobs page sends for "Abort".
    let resp = reqwest::Client::new()
        .put(format!("{}/API/jobs/v1/jobs/state/", sbx.base_url()))
        .header("App-ID", sbx.credentials().app_id.clone())
        .header("Auth-Token", TOKEN)
        .json(&json!({"action": "ABORT", "job_ids": [cards[0]["id"]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let out = run.await.unwrap().expect("the card ends");
    assert!(out.cancelled, "stopped as if cancelled");
    assert!(!out.all_complete());
    let (cards, children) = card_jobs(&sbx.state());
    assert_eq!(cards[0]["status"], "ABORTED");
    assert!(
        cards[0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "SKIPPED")
    );
    assert_eq!(children.len(), 3, "every clip has its child job");
    assert!(
        children.iter().any(|c| c["status"] == "ABORTED"),
        "{children:?}"
    );
}
