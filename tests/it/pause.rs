//! The operator's pause (src/pause.rs) mid-upload: the upload stops at a chunk boundary, nothing
//! is sent while paused, and on resume it goes on from the session's offset — every proxy byte
//! reaches the storage exactly once.

use crate::ingest::{
    TOKEN, count, engine, put_bytes, scan_card, setup, spawn_run, start_sandbox, upload_puts,
};
use card_ingest::ingest::{EventKind, EventSink, IngestEvent, Step};
use card_ingest::pause::Pause;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_then_resume_mid_upload_sends_every_byte_once() {
    let s = setup(1);
    let sbx = start_sandbox(&s.root).await;
    let report = scan_card(&s.card);
    let mut eng = engine(&sbx, &s, TOKEN);
    let pause = Pause::default();
    eng.options.pause = pause.clone();
    let events: Arc<Mutex<Vec<IngestEvent>>> = Arc::default();
    let (paused_tx, mut paused_rx) = tokio::sync::mpsc::unbounded_channel();
    let sink = EventSink::call({
        let (events, pause) = (events.clone(), pause.clone());
        move |e: IngestEvent| {
            // Paused right at the first confirmed chunk of the upload (the event comes from the
            // uploader between two chunks); the offset it reached is sent along.
            if e.step == Some(Step::UploadProxy)
                && !pause.is_paused()
                && events.lock().unwrap().iter().all(|e| !matches!(e.kind, EventKind::Progress { .. } if e.step == Some(Step::UploadProxy)))
                && let EventKind::Progress { done_bytes, total_bytes, .. } = e.kind
                && done_bytes > 0
                && done_bytes < total_bytes
            {
                pause.pause();
                let _ = paused_tx.send(done_bytes);
            }
            events.lock().unwrap().push(e);
        }
    });
    let run = spawn_run(eng, &report, sink);
    let paused_at = paused_rx.recv().await.expect("the upload got under way");
    let (puts, seen) = (upload_puts(&sbx).len(), events.lock().unwrap().len());
    // Paused: no chunk goes and no step starts, however long it lasts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(upload_puts(&sbx).len(), puts, "no chunk sent while paused");
    // A progress report of the chunk already confirmed may still arrive; none goes past it.
    let during: Vec<IngestEvent> = events.lock().unwrap()[seen..].to_vec();
    assert!(
        during.iter().all(|e| match e.kind {
            EventKind::Started => false,
            EventKind::Progress { done_bytes, .. } => {
                e.step == Some(Step::UploadProxy) && done_bytes <= paused_at
            }
            _ => true,
        }),
        "nothing started or progressed past {paused_at} bytes while paused: {during:?}"
    );
    assert!(!run.is_finished());
    pause.resume();
    let out = run.await.unwrap().expect("the card runs to its end");
    assert!(out.all_complete(), "{:?}", out.record.clips);
    let clip = out.record.clips.values().next().unwrap();
    let proxy_size = std::fs::metadata(clip.proxy_path.as_ref().unwrap())
        .unwrap()
        .len();
    assert!(
        proxy_size > 2 * 256 * 1024,
        "the proxy spans several chunks"
    );
    assert_eq!(put_bytes(&sbx), proxy_size, "every proxy byte sent once");
    // The upload went on from where it stopped: its progress never went back.
    let offsets: Vec<u64> = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.step == Some(Step::UploadProxy))
        .filter_map(|e| match e.kind {
            EventKind::Progress { done_bytes, .. } => Some(done_bytes),
            _ => None,
        })
        .collect();
    assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "{offsets:?}");
    assert_eq!(offsets.last(), Some(&proxy_size));
    let st = sbx.state();
    assert_eq!(count(&st, "assets"), 1);
    assert_eq!(count(&st, "proxies"), 1);
}
