//! Production audio registered end to end: the sample BWF takes (ffmpeg-written bext + iXML)
//! are scanned with the real tools and ingested into the sandbox over loopback HTTP; the
//! ORIGINAL format carries the take's scene/take/tape/project/circled/track names/recorder.

use crate::util::{canonical, copy_tree, fixtures, tempdir};
use card_ingest::iconik::retry::Backoff;
use card_ingest::iconik::upload::{UploadConfig, UploadHttp};
use card_ingest::iconik::{Client, Credentials};
use card_ingest::ingest::journal::JournalStore;
use card_ingest::ingest::{CardJob, Engine, EventSink, IngestOptions, ProxyMode};
use card_ingest::media::{Tools, tools::find_on_path};
use card_ingest::sample::SampleKind;
use card_ingest::sandbox::{self, SandboxConfig};
use card_ingest::scan;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

const TOKEN: &str = "tok-production-7781";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bwf_production_fields_are_registered_with_the_format() {
    let dir = tempdir();
    let root = canonical(dir.path());
    let card = root.join("SOUND_DAY1");
    copy_tree(fixtures().dir_of(SampleKind::Bwf), &card);
    let report = scan::scan(std::slice::from_ref(&card), &Tools::detect()).expect("scan");
    let mono = report
        .clips
        .iter()
        .find(|c| c.clip.name == "S002T01")
        .expect("S002T01 clip");
    let m = &mono.metadata;
    assert_eq!(
        (m.scene.as_deref(), m.take.as_deref(), m.tape.as_deref()),
        (Some("S002"), Some("01"), Some("240514"))
    );
    assert_eq!(m.track_names.as_deref(), Some("Boom, Lav 1"));
    assert_eq!(m.recorder.as_deref(), Some("Sound Devices 833"));
    assert_eq!(m.shoot_date_local.as_deref(), Some("2024-05-14T10:05:00"));
    assert_eq!(
        m.sources.get("scene").map(String::as_str),
        Some("S002T01_1.WAV iXML SCENE")
    );

    let mut config = SandboxConfig {
        spec_dir: None,
        job_delay: Duration::from_millis(30),
        mount_point: root.display().to_string(),
        ..SandboxConfig::default()
    };
    config.credentials.token = TOKEN.to_owned();
    let sbx = sandbox::spawn(config).await.expect("sandbox starts");
    let client = Client::new(
        sbx.base_url(),
        Credentials::new(sbx.credentials().app_id.clone(), TOKEN),
    )
    .expect("client");
    let mut options = IngestOptions::new("Sandbox originals", root.clone(), root.join("proxies"));
    options.proxy = ProxyMode::None;
    options.retry = Backoff::new(Duration::from_millis(10), Duration::from_millis(100));
    options.max_calls_per_second = 1000;
    let engine = Engine {
        client,
        upload: UploadHttp::new(&UploadConfig::default()).expect("upload client"),
        tools: Tools::detect(),
        ffmpeg: find_on_path("ffmpeg"),
        store: JournalStore::at(root.join("journal")),
        options,
        offload_after_copy: None,
    };
    let job = CardJob::new(report.cards[0].clone(), report.clips.clone(), &report.cards);
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let out = engine
        .run_card(
            job,
            EventSink::new(tx),
            None,
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect("card job runs");
    assert!(out.all_complete(), "{:#?}", out.record);
    let st = sbx.state();
    let asset = st["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["external_id"] == mono.clip.id.as_str())
        .expect("asset of S002T01");
    let format = st["formats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["asset_id"] == asset["id"])
        .expect("format");
    let meta = &format["metadata"][0];
    for (k, v) in [
        ("scene", "S002"),
        ("take", "01"),
        ("tape", "240514"),
        ("project", "Harbour"),
        ("circled", "true"),
        ("track_names", "Boom, Lav 1"),
        ("note", "sample take"),
        ("recorder", "Sound Devices 833"),
        ("shoot_date_local", "2024-05-14T10:05:00"),
    ] {
        assert_eq!(meta[k], v, "format metadata {k}: {meta}");
    }
}
