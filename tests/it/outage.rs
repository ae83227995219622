//! The network lane waits out an iconik outage (src/ingest/outage.rs): the sandbox stopped
//! mid-card for longer than the whole backoff and restarted from its state file on the same
//! port, and 60 answers of 429 before the first call gets through. Both runs complete in one go
//! with no duplicates.

use crate::ingest::{TOKEN, count, engine, job, scan_card, setup, spawn_run};
use card_ingest::ingest::{CardOutcome, EventKind, EventSink, IngestEvent, Step};
use card_ingest::sandbox::faults::{FaultRule, FaultSet};
use card_ingest::sandbox::{self, SandboxConfig, SandboxHandle};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;

fn config(mount: &Path, state_file: &Path) -> SandboxConfig {
    let mut config = SandboxConfig {
        spec_dir: None,
        job_delay: Duration::from_millis(30),
        mount_point: mount.display().to_string(),
        state_file: Some(state_file.to_path_buf()),
        ..SandboxConfig::default()
    };
    config.credentials.token = TOKEN.to_owned();
    config
}

async fn start_on(addr: SocketAddr, config: SandboxConfig) -> SandboxHandle {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("the sandbox's port is free again");
    sandbox::spawn_on(listener, config)
        .await
        .expect("sandbox starts")
}

/// Exactly `clips` of everything a clip makes: no duplicates.
fn assert_one_of_each(sbx: &SandboxHandle, clips: usize) {
    let st = sbx.state();
    for kind in ["assets", "formats", "file_sets", "proxies"] {
        assert_eq!(count(&st, kind), clips, "{kind}");
    }
    assert_eq!(count(&st, "files"), clips * 8, "files");
}

/// The offline/online transitions among `events`, as (offline, online) counts, in order.
fn transitions(events: &[IngestEvent]) -> Vec<&'static str> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Offline { .. } => Some("offline"),
            EventKind::Online { .. } => Some("online"),
            _ => None,
        })
        .collect()
}

fn assert_complete(out: &CardOutcome, events: &[IngestEvent], clips: usize) {
    let failed: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Failed { .. }))
        .collect();
    assert!(failed.is_empty(), "no step failed: {failed:?}");
    assert!(out.all_complete(), "{:?}", out.record.clips);
    assert!(!out.offline && !out.cancelled);
    assert_eq!(out.record.clips.len(), clips);
}

/// The report shows the one outage with its times, as the events had it.
fn assert_one_outage_in_the_report(out: &CardOutcome) {
    assert_eq!(out.offline_spans.len(), 1, "{:?}", out.offline_spans);
    let span = &out.offline_spans[0];
    let back = span.back.expect("iconik came back");
    assert!(back > span.since);
    let report = card_ingest::ingest::summary::card_report(out, chrono::Utc::now());
    let html = card_ingest::ingest::report::render_html(&report);
    let line = &card_ingest::ingest::report::offline_lines(&report)[0];
    assert!(line.starts_with("iconik unreachable "), "{line}");
    assert!(
        line.contains(&format!("({} s)", (back - span.since).num_seconds())),
        "{line}"
    );
    assert!(
        html.contains("<h2>Network</h2>"),
        "the report's Network section"
    );
}

/// A card job running against a sandbox that is stopped once the first asset exists (two
/// clips have their registration ahead) and stays down until the lane went offline.
struct Outage {
    addr: SocketAddr,
    state_file: std::path::PathBuf,
    run: tokio::task::JoinHandle<Result<CardOutcome, card_ingest::ingest::IngestError>>,
    rx: mpsc::UnboundedReceiver<IngestEvent>,
    events: Vec<IngestEvent>,
}

impl Outage {
    async fn begin(s: &crate::ingest::Setup, offline_wait: Option<Duration>) -> Outage {
        let state_file = s.root.join("sandbox-state.json");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sbx = sandbox::spawn_on(listener, config(&s.root, &state_file))
            .await
            .unwrap();
        let report = scan_card(&s.card);
        let mut eng = engine(&sbx, s, TOKEN);
        eng.options.probe_every = Duration::from_millis(100);
        eng.options.offline_wait = offline_wait;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let run = spawn_run(eng, &report, EventSink::new(tx));
        let mut events = Vec::new();
        while let Some(e) = rx.recv().await {
            let asset_made =
                e.step == Some(Step::CreateAsset) && matches!(e.kind, EventKind::Done { .. });
            events.push(e);
            if asset_made {
                break;
            }
        }
        sbx.shutdown().await.unwrap();
        // The lane goes offline only after a call's whole backoff failed and the probe too.
        while let Some(e) = rx.recv().await {
            let offline = matches!(e.kind, EventKind::Offline { .. });
            events.push(e);
            if offline {
                break;
            }
        }
        assert_eq!(transitions(&events), ["offline"]);
        Outage {
            addr,
            state_file,
            run,
            rx,
            events,
        }
    }

    /// The sandbox again, on the same port with the state it had.
    async fn restart(&self, s: &crate::ingest::Setup) -> SandboxHandle {
        start_on(self.addr, config(&s.root, &self.state_file)).await
    }

    /// The job's end and every event it sent.
    async fn end(mut self) -> (CardOutcome, Vec<IngestEvent>) {
        let out = self.run.await.unwrap().expect("the card runs to its end");
        while let Ok(e) = self.rx.try_recv() {
            self.events.push(e);
        }
        (out, self.events)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_down_longer_than_the_backoff_mid_card_is_waited_out_without_duplicates() {
    let s = setup(3);
    let outage = Outage::begin(&s, None).await;
    let sbx = outage.restart(&s).await;
    let (out, events) = outage.end().await;
    assert_eq!(transitions(&events), ["offline", "online"]);
    assert_complete(&out, &events, 3);
    assert_one_of_each(&sbx, 3);
    assert_one_outage_in_the_report(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_offline_wait_the_card_stops_with_its_journal_ready_to_resume() {
    let s = setup(3);
    let outage = Outage::begin(&s, Some(Duration::from_millis(300))).await;
    let (addr, state_file) = (outage.addr, outage.state_file.clone());
    let (out, events) = outage.end().await;
    assert!(out.offline && out.cancelled, "stopped like a cancel");
    assert_eq!(transitions(&events), ["offline"]);
    assert!(
        events
            .iter()
            .all(|e| !matches!(e.kind, EventKind::Failed { .. })),
        "no clip failed"
    );
    let left = out
        .record
        .clips
        .values()
        .filter(|c| c.has_work_left())
        .count();
    assert!(left >= 2, "{left} clips left to resume");
    // iconik is back: the same card again finishes what was left, nothing made twice.
    let sbx = start_on(addr, config(&s.root, &state_file)).await;
    let eng = engine(&sbx, &s, TOKEN);
    let (again, events) = crate::ingest::run(&eng, job(&scan_card(&s.card))).await;
    assert_complete(&again, &events, 3);
    assert_one_of_each(&sbx, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_429s_at_the_start_are_waited_out() {
    let s = setup(3);
    let state_file = s.root.join("sandbox-state.json");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sbx = sandbox::spawn_on(listener, config(&s.root, &state_file))
        .await
        .unwrap();
    sbx.set_faults(FaultSet {
        rules: vec![FaultRule {
            method: "*".into(),
            path: "*".into(),
            status: Some(429),
            times: Some(60),
            ..FaultRule::default()
        }],
    })
    .unwrap();
    let report = scan_card(&s.card);
    let mut eng = engine(&sbx, &s, TOKEN);
    eng.options.probe_every = Duration::from_millis(50);
    let (out, events) = crate::ingest::run(&eng, job(&report)).await;
    assert_eq!(sbx.faults()["rules"][0]["remaining"], 0, "all 60 answered");
    let answered_429 = sbx.requests().iter().filter(|r| r["status"] == 429).count();
    assert_eq!(answered_429, 60);
    // The storage look-up's backoff ran out, the probe failed: one outage, then on.
    assert_eq!(transitions(&events), ["offline", "online"]);
    assert_complete(&out, &events, 3);
    assert_one_of_each(&sbx, 3);
    assert_one_outage_in_the_report(&out);
}
