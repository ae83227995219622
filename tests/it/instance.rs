//! One window per user: while a window runs, `card-ingest PATH` (a real second process) hands
//! PATH over the local socket to that window, which scans it, and exits at once; without
//! PATH it only raises the window. The window here is the real App under kittest, its
//! listener the real one on a socket of the test's own (`CARD_INGEST_INSTANCE`).

use crate::gui::{pump_until, runtime, startup, window};
use crate::util::fixtures;
use card_ingest::instance::{self, Endpoint, HandOver};
use card_ingest::sample::SampleKind;
use card_ingest::secrets::EnvStore;
use card_ingest::settings::Settings;
use card_ingest::ui::{Arrivals, Startup};
use std::process::Command;
use std::time::Duration;

#[test]
fn instance_second_command_hands_its_card_to_the_running_window() {
    let name = format!("card-ingest-it-{}.sock", std::process::id());
    let endpoint = Endpoint::named(&name);
    assert_eq!(
        instance::hand_over(&endpoint, &[]).unwrap(),
        HandOver::NoWindow,
        "nobody listens yet"
    );
    let (arrivals, send) = Arrivals::channel();
    instance::listen(&endpoint, send).expect("listen");
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let startup = Startup {
        arrivals: Some(arrivals),
        ..startup(
            dir.path(),
            Settings::default(),
            Vec::new(),
            EnvStore::from_vars(None, None),
        )
    };
    let mut harness = window(startup, &rt);
    harness.run_ok();
    assert!(harness.state().view().card.clips.is_empty());

    // A relative path, as typed in a shell: the window gets it absolute.
    let card = fixtures().dir_of(SampleKind::Gopro).to_path_buf();
    let parent = card.parent().unwrap();
    let relative = card.file_name().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_card-ingest"))
        .arg(relative)
        .current_dir(parent)
        .env(instance::NAME_VAR, &name)
        .output()
        .expect("card-ingest runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("handed 1 folder to the running card-ingest window"),
        "{stdout}"
    );
    pump_until(
        &mut harness,
        Duration::from_secs(60),
        "the handed-over card's clips",
        |h| !h.state().view().card.clips.is_empty(),
    );
    let vm = harness.state().view();
    assert_eq!(vm.card.paths, std::slice::from_ref(&card));
    assert!(
        vm.card
            .clips
            .iter()
            .all(|c| c.scanned.clip.card_root == card),
        "every clip is the handed-over card's"
    );
    assert!(
        vm.log.iter().any(|l| l
            .text
            .contains("handed over by another card-ingest command")),
        "the log says where the card came from"
    );

    // Without a path the window is only raised; nothing else loads.
    let clips = vm.card.clips.len();
    let out = Command::new(env!("CARGO_BIN_EXE_card-ingest"))
        .env(instance::NAME_VAR, &name)
        .output()
        .expect("card-ingest runs");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("brought to the front"));
    harness.run_ok();
    assert_eq!(harness.state().view().card.clips.len(), clips);
}
