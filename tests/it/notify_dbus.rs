//! The desktop notification over a real D-Bus session (feature `os-keyring-tests`, run by
//! `.ci/keyring-tests` inside `dbus-run-session`): `.ci/fake-notifications.py` owns
//! `org.freedesktop.Notifications` and records what card-ingest sends. (No notification daemon
//! runs on a CI machine; the stand-in answers the freedesktop protocol the way one does.)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn card_done_notification_reaches_the_session_bus() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "needs a D-Bus session: run through .ci/keyring-tests (dbus-run-session)"
    );
    let dir = crate::util::tempdir();
    let log = dir.path().join("notifications.jsonl");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/fake-notifications.py");
    let mut server = Command::new("/usr/bin/python3")
        .arg(script)
        .arg(&log)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the stand-in notification server (python3-gi)");
    let mut ready = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready");

    let summary = card_ingest::notify::CardSummary {
        event: "card_finished".into(),
        card: "/media/A001".into(),
        family: "p2".into(),
        completed: 3,
        failed: 0,
        skipped: 0,
        bytes: 1,
        duration_ms: 1,
        safe_to_erase: true,
        evidence: Vec::new(),
        report: None,
        server: "https://app.iconik.io".into(),
    };
    card_ingest::notify::desktop(&summary).expect("notification sent");
    let start = Instant::now();
    let text = loop {
        let t = std::fs::read_to_string(&log).unwrap_or_default();
        if !t.is_empty() || start.elapsed() > Duration::from_secs(10) {
            break t;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = server.kill();
    let _ = server.wait();
    let got: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("one notification")).expect("JSON line");
    assert_eq!(got["app"], "card-ingest");
    assert_eq!(got["summary"], "A001 is safe to erase");
    assert_eq!(got["body"], "3 completed, 0 failed, 0 skipped");
    assert_eq!(got["icon"], "card-ingest");
}
