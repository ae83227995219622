//! Cards that start themselves: the window watches volumes (here a folder whose sub-folders
//! stand for mounted volumes, the injectable source), loads the camera card on a newly
//! "mounted" one and, with "start when inserted" on, ingests it into the sandbox by itself; a
//! destination drive mounted at the same moment, though it holds a card copy, is never loaded.

use crate::gui::{pump_until, runtime, startup, window};
use crate::util::{canonical, copy_tree, fixtures, tempdir};
use card_ingest::sample::SampleKind;
use card_ingest::secrets::EnvStore;
use card_ingest::settings::{ServerChoice, Settings};
use card_ingest::ui::Startup;
use card_ingest::volumes::FolderMounts;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(180);

#[test]
fn volumes_an_inserted_card_starts_by_itself_and_a_destination_drive_is_never_loaded() {
    let work = tempdir();
    let root = canonical(work.path());
    let volumes = root.join("volumes");
    std::fs::create_dir_all(&volumes).unwrap();
    let raid = volumes.join("RAID");
    let settings = Settings {
        server: ServerChoice::Sandbox,
        start_when_inserted: true,
        preset: "Day 2".into(),
        // A shuttle destination: the drive it is on is never taken for a card.
        offload_also: vec![raid.join("shuttle").display().to_string()],
        ..Settings::default()
    };
    let dir = tempdir();
    let rt = runtime();
    let startup = Startup {
        mounts: Some(Box::new(FolderMounts(volumes.clone()))),
        ..startup(
            dir.path(),
            settings,
            Vec::new(),
            EnvStore::from_vars(None, None),
        )
    };
    let mut harness = window(startup, &rt);
    pump_until(&mut harness, WAIT, "the sandbox connection", |h| {
        h.state().view().connected() && !h.state().view().views.is_empty()
    });

    // Both "mounted" at once, each appearing whole (renamed into place).
    let staging = root.join("staging");
    copy_tree(
        fixtures().dir_of(SampleKind::Gopro),
        &staging.join("GOPRO_VOL"),
    );
    copy_tree(
        fixtures().dir_of(SampleKind::Gopro),
        &staging.join("RAID").join("shuttle").join("GOPRO_COPY"),
    );
    std::fs::rename(staging.join("RAID"), &raid).unwrap();
    let card = volumes.join("GOPRO_VOL");
    std::fs::rename(staging.join("GOPRO_VOL"), &card).unwrap();

    pump_until(&mut harness, WAIT, "the inserted card's run to end", |h| {
        let vm = h.state().view();
        vm.queue.ended && !vm.queue.cards.is_empty()
    });
    let vm = harness.state().view();
    let log: Vec<&str> = vm.log.iter().map(|l| l.text.as_str()).collect();
    assert!(
        log.iter()
            .any(|l| l.contains("GOPRO_VOL started by itself with preset \"Day 2\"")),
        "{log:#?}"
    );
    assert!(
        !log.iter().any(|l| l.contains("RAID")),
        "the destination drive was taken for a card: {log:#?}"
    );
    assert!(
        vm.card.cards.iter().all(|c| c.root.starts_with(&card)),
        "only the inserted card is loaded: {:?}",
        vm.card.cards
    );
    let clips = vm.card.clips.len();
    assert!(clips >= 1);
    let q = &vm.queue;
    assert_eq!(q.failed_count(), 0, "{q:#?}");
    assert_eq!(q.cards[0].completed, clips, "every clip of the card ran");
    let state = harness.state().sandbox().expect("sandbox").state();
    assert_eq!(
        state["assets"].as_array().map(Vec::len),
        Some(clips),
        "one asset per clip in iconik"
    );
}
