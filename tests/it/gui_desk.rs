//! The operator's desk (issue 12), driven headless with egui_kittest and found by label: the card
//! list and its states, a card dropped during an ingest queued and started in turn, the
//! safe-to-erase verdict (only with every piece of evidence, gone when a copy is corrupted before
//! its read-back), the per-card "how long" figures on a hand-driven clock, the eject offer, the
//! help overlay, the system theme, and an AccessKit walk that fails on an unlabelled control.

use crate::gui::{gui_in, pump_until};
use crate::util::fixtures;
use card_ingest::eject::Mounted;
use card_ingest::ingest::Step;
use card_ingest::ingest::erase::{Evidence, Verdict};
use card_ingest::ingest::session::CardEnd;
use card_ingest::sample::SampleKind;
use card_ingest::secrets::EnvStore;
use card_ingest::settings::Settings;
use card_ingest::ui::App;
use card_ingest::ui::queue::QueueEvent;
use card_ingest::ui::sources::{SourceRow, SourceState, rows};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable, by};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(120);

struct Desk {
    harness: Harness<'static, App>,
    _rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

fn desk(paths: Vec<PathBuf>) -> Desk {
    desk_with(Settings::default(), paths)
}

fn desk_with(settings: Settings, paths: Vec<PathBuf>) -> Desk {
    let gui = gui_in(
        tempfile::tempdir().expect("tempdir"),
        settings,
        paths,
        EnvStore::from_vars(None, None),
    );
    Desk {
        harness: gui.harness,
        _rt: gui._rt,
        _dir: gui.dir,
    }
}

impl Desk {
    fn until(&mut self, what: &str, done: impl Fn(&Harness<'static, App>) -> bool) {
        pump_until(&mut self.harness, WAIT, what, done);
    }

    fn rows(&self) -> Vec<SourceRow> {
        rows(self.harness.state().view())
    }

    fn has(&self, label: &str) -> bool {
        self.harness.query_by_label(label).is_some()
    }

    fn log_has(&self, text: &str) -> bool {
        self.harness
            .state()
            .view()
            .log
            .iter()
            .any(|l| l.text.contains(text))
    }

    fn apply(&mut self, events: Vec<QueueEvent>) {
        let q = &mut self.harness.state_mut().view_mut().queue;
        for e in events {
            q.apply(e);
        }
    }

    /// Connects to the built-in sandbox (the settings sheet is open on start).
    fn on_sandbox(&mut self) {
        self.harness
            .get_by_label("Try with the built-in sandbox")
            .click();
        self.until("the sandbox connection", |h| {
            h.query_by_label("Connected: 2 storages").is_some()
        });
    }

    /// Waits for the scan; the number of clips found.
    fn scanned(&mut self) -> usize {
        self.until("the card scanned", |h| {
            let vm = h.state().view();
            !vm.card.scanning && !vm.card.clips.is_empty()
        });
        self.harness.state().view().card.clips.len()
    }

    /// The label of the Ingest button for the clips selected now.
    fn ingest_label(&self) -> String {
        format!(
            "Ingest {} clips",
            self.harness.state().view().card.selected_count()
        )
    }
}

/// A folder dropped onto the window, as winit delivers it.
#[derive(Debug)]
struct DroppedFolder(PathBuf);

impl egui::DroppedFile for DroppedFolder {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        Err(format!("{} is a folder", self.0.display()))
    }
}

/// A private copy of a sample card (ingests write an ASC MHL into the card).
fn card_copy(kind: SampleKind) -> (tempfile::TempDir, PathBuf) {
    let work = crate::util::tempdir();
    let card = crate::util::canonical(work.path()).join(kind.to_string());
    crate::util::copy_tree(fixtures().dir_of(kind), &card);
    (work, card)
}

fn verdict(safe: bool) -> Verdict {
    Verdict {
        safe_to_erase: safe,
        evidence: vec![Evidence {
            met: safe,
            text: if safe {
                "1 of 1 clips complete in iconik".into()
            } else {
                "1 of 1 clips not complete in iconik: C0001".into()
            },
        }],
    }
}

fn card_end(card: &Path, failed: usize, verdict: Option<Verdict>) -> CardEnd {
    CardEnd {
        card: card.to_path_buf(),
        completed: 1 - failed.min(1),
        failed,
        skipped: 0,
        cancelled: false,
        token_refused: false,
        offline: false,
        report_html: Some(PathBuf::from("/reports/card-ingest-report-XDCAM.html")),
        report_csv: None,
        report_pdf: None,
        journal: None,
        mhl: None,
        error: None,
        all_complete: failed == 0,
        verdict,
        clips: Vec::new(),
    }
}

#[test]
fn desk_card_list_shows_family_clips_size_and_each_state_and_offers_eject_only_when_safe() {
    let mut d = desk(vec![fixtures().dir_of(SampleKind::Xdcam).to_path_buf()]);
    let n = d.scanned();
    d.harness.run_ok();
    let row = d.rows().pop().expect("a row");
    let vm = d.harness.state().view();
    let clip = &vm.card.clips[0];
    assert_eq!(row.state, SourceState::Scanned);
    assert_eq!(row.family, "xdcam");
    assert_eq!(row.clips, n);
    let card_bytes: u64 = vm
        .card
        .clips
        .iter()
        .map(|c| c.scanned.clip.total_size())
        .sum();
    assert_eq!(row.bytes, card_bytes);
    assert!(row.bytes > 0);
    let (root, id) = (row.root.clone(), clip.id().to_owned());
    let figures = format!(
        "xdcam · {n} clips · {}",
        card_ingest::ui::cards::format_bytes(row.bytes)
    );
    assert!(d.has(&figures), "{figures}");
    assert!(d.has("scanned"));

    // Ingesting: the clip is queued and at work.
    d.apply(vec![
        QueueEvent::Started {
            clips: vec![(id.clone(), "C0001".into())],
        },
        QueueEvent::ClipSizes(vec![(id.clone(), root.clone(), row.bytes)]),
        QueueEvent::StepStarted {
            clip_id: id.clone(),
            step: Step::Checksum,
        },
    ]);
    d.harness.run_ok();
    assert_eq!(d.rows()[0].state, SourceState::Ingesting);
    assert!(d.has("ingesting") && !d.has("scanned"));

    // A card dropped now waits its turn.
    let queued = fixtures().dir_of(SampleKind::XavcS).to_path_buf();
    d.harness
        .input_mut()
        .dropped_files
        .push(Arc::new(DroppedFolder(queued.clone())));
    d.harness.run_ok();
    d.until("the queued card's scan", |h| {
        h.state().view().waiting.iter().all(|w| w.scan.is_some())
    });
    d.harness.run_ok();
    let all = d.rows();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[1].state, SourceState::Queued);
    assert_eq!(all[1].family, "xavc_s");
    assert!(d.has("queued"));
    assert_eq!(
        d.harness.state().view().card.clips[0].id(),
        id,
        "the loaded card stays"
    );

    // Failed: the clip's step failed and nothing else is at work.
    d.apply(vec![QueueEvent::StepFailed {
        clip_id: id.clone(),
        step: Step::Checksum,
        error: "read error".into(),
    }]);
    d.harness.run_ok();
    assert_eq!(d.rows()[0].state, SourceState::Failed);
    assert!(d.has("failed"));

    // Done, not safe to erase: no eject offer even with the card's device known.
    d.harness.state_mut().view_mut().devices.insert(
        root.clone(),
        Mounted {
            device: "/dev/card-ingest-test-nodev".into(),
            mount_point: root.clone(),
        },
    );
    let mut q = d.harness.state().view().queue.clone();
    q.apply(QueueEvent::Started {
        clips: vec![(id.clone(), "C0001".into())],
    });
    q.apply(QueueEvent::ClipSizes(vec![(
        id.clone(),
        root.clone(),
        row.bytes,
    )]));
    for step in Step::ALL {
        q.apply(QueueEvent::StepDone {
            clip_id: id.clone(),
            step,
        });
    }
    q.apply(QueueEvent::CardEnded(card_end(
        &root,
        0,
        Some(verdict(false)),
    )));
    d.harness.state_mut().view_mut().queue = q.clone();
    d.harness.run_ok();
    assert_eq!(d.rows()[0].state, SourceState::Done);
    assert!(d.has("done"));
    assert!(!d.has("Eject xdcam"), "no eject offer while not safe");

    // Safe to erase: the state, the verdict with its evidence, and the eject offer.
    q.cards.clear();
    q.apply(QueueEvent::CardEnded(card_end(
        &root,
        0,
        Some(verdict(true)),
    )));
    d.harness.state_mut().view_mut().queue = q;
    d.harness.run_ok();
    let row = d.rows()[0].clone();
    assert_eq!(row.state, SourceState::SafeToErase);
    assert_eq!(row.verdict, Some(verdict(true)));
    assert!(d.has("safe to erase"));
    assert!(d.has("Safe to erase"), "the queue's verdict");
    d.harness.get_by_label("Eject xdcam").click();
    d.harness.run_ok();
    // The worker runs `udisksctl` for a device that does not exist: it fails, and says so.
    d.until("the eject's outcome", |h| {
        h.state().view().ejecting.is_empty()
            && h.state()
                .view()
                .log
                .iter()
                .any(|l| l.text.starts_with("eject of"))
    });
    assert!(d.log_has(&format!("ejecting {}", root.display())));
    assert!(d.log_has("udisksctl"), "the command is named in the error");
}

/// Card B dropped while card A ingests is queued, scanned at once, and starts when A ends; each
/// card gets its own report, and A stays in the card list as it ended.
#[test]
fn desk_a_card_dropped_while_one_runs_is_queued_and_starts_in_turn() {
    let (_w1, first) = card_copy(SampleKind::P2);
    let (_w2, second) = card_copy(SampleKind::Xdcam);
    let mut d = desk(vec![first.clone()]);
    d.scanned();
    d.on_sandbox();
    let ingest = d.ingest_label();
    d.harness.get_by_label(&ingest).click();
    d.harness.step();
    assert!(d.harness.state().view().queue.running());
    d.harness
        .input_mut()
        .dropped_files
        .push(Arc::new(DroppedFolder(second.clone())));
    d.harness.step();
    {
        let vm = d.harness.state().view();
        assert_eq!(
            vm.waiting.len(),
            1,
            "queued, not loaded over the running card"
        );
        assert_eq!(vm.card.paths, std::slice::from_ref(&first));
    }
    d.harness.run_ok();
    assert!(d.has("queued"));
    d.until("the second card's run to end", |h| {
        let vm = h.state().view();
        vm.waiting.is_empty()
            && vm.queue.ended
            && vm.queue.cards.len() == 1
            && vm.queue.cards[0].card.file_name() == second.file_name()
    });
    d.harness.run_ok();
    let vm = d.harness.state().view();
    assert_eq!(vm.history.len(), 1, "{:#?}", vm.history);
    let a = &vm.history[0];
    assert_eq!(a.name, "p2");
    assert_eq!(a.state, SourceState::Done, "{a:#?}");
    let b = &vm.queue.cards[0];
    assert_eq!(b.error, None);
    assert_eq!(b.failed, 0);
    let (ra, rb) = (
        a.report.clone().expect("A's report"),
        b.report_html.clone().expect("B's report"),
    );
    assert_ne!(ra, rb, "each card has its own report");
    assert!(ra.is_file() && rb.is_file());
    let html = std::fs::read_to_string(&rb).expect("report");
    assert!(html.contains("xdcam"), "B's report is about B");
    let states: Vec<SourceState> = d.rows().iter().map(|r| r.state).collect();
    assert_eq!(states, [SourceState::Done, SourceState::Done]);
    assert!(d.has("Report p2") && d.has("Report xdcam"));
}

/// One real ingest of a private XDCAM copy on the sandbox; `offload` ticks "Copy the card to
/// the storage first", `corrupt` flips a byte of the first copied MXF before its read-back.
fn ingest_xdcam(offload: bool, corrupt: bool) -> (Desk, tempfile::TempDir) {
    let (work, card) = card_copy(SampleKind::Xdcam);
    let mut d = desk(vec![card]);
    d.scanned();
    d.on_sandbox();
    if corrupt {
        let once = Arc::new(AtomicBool::new(false));
        d.harness
            .state_mut()
            .set_offload_hook(card_ingest::ingest::OffloadHook(Arc::new(
                move |p: &Path| {
                    let mxf = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("mxf"));
                    if mxf && !once.swap(true, Ordering::SeqCst) {
                        let mut bytes = std::fs::read(p).expect("copy");
                        let mid = bytes.len() / 2;
                        bytes[mid] ^= 0xff;
                        std::fs::write(p, bytes).expect("corrupt");
                    }
                },
            )));
    }
    if offload {
        d.harness
            .get_by_label("Copy the card to the storage first")
            .click();
        d.harness.run_ok();
    }
    let ingest = d.ingest_label();
    d.harness.get_by_label(&ingest).click();
    d.until("the clip to settle", |h| {
        let q = &h.state().view().queue;
        q.started_at.is_some() && !q.running()
    });
    if d.harness.state().view().queue.failed_count() > 0 {
        // A failed clip keeps the card open for retries: "Finish" ends it (and writes the
        // report with the verdict).
        d.harness.run_ok();
        d.harness.get_by_label("Finish").click();
    }
    d.until("the card's verdict", |h| {
        !h.state().view().queue.cards.is_empty()
    });
    d.harness.run_ok();
    (d, work)
}

#[test]
fn desk_the_verdict_appears_only_with_all_evidence_and_not_when_a_copy_is_corrupted() {
    // Every piece of evidence: copied, read back, MHL, complete in iconik, proxies closed.
    let (d, _w) = ingest_xdcam(true, false);
    let end = d.harness.state().view().queue.cards[0].clone();
    let v = end.verdict.clone().expect("verdict");
    assert!(v.safe_to_erase, "{v:#?}");
    assert!(v.evidence.iter().all(|e| e.met), "{v:#?}");
    assert!(d.has("Safe to erase") && d.has("safe to erase"));
    assert!(!d.has("Not safe to erase"));
    drop(d);

    // Registered from the card itself (no copy): evidence missing, no verdict.
    let (d, _w) = ingest_xdcam(false, false);
    let end = d.harness.state().view().queue.cards[0].clone();
    let v = end.verdict.clone().expect("verdict");
    assert!(!v.safe_to_erase);
    assert!(
        v.evidence
            .iter()
            .any(|e| !e.met && e.text.starts_with("no offload")),
        "{v:#?}"
    );
    assert!(d.has("Not safe to erase") && !d.has("Safe to erase"));
    assert_eq!(d.rows()[0].state, SourceState::Done);
    drop(d);

    // The copy corrupted between write and read-back: the mismatch keeps the verdict off.
    let (d, _w) = ingest_xdcam(true, true);
    let end = d.harness.state().view().queue.cards[0].clone();
    let v = end.verdict.clone().expect("verdict");
    assert!(!v.safe_to_erase, "{v:#?}");
    assert!(
        v.evidence
            .iter()
            .any(|e| !e.met && e.text.contains("differ from the card")),
        "{v:#?}"
    );
    assert!(d.has("Not safe to erase") && !d.has("Safe to erase"));
    assert_eq!(d.rows()[0].state, SourceState::Failed);
    assert!(!d.has("safe to erase"));
}

/// Bytes, MB/s over the last seconds, elapsed, ETA and clips, from events on a hand-driven clock;
/// and the clip's bar over its steps by lane.
#[test]
fn desk_progress_answers_how_long_on_a_hand_driven_clock() {
    let mut d = desk(Vec::new());
    d.harness.run_ok();
    let (clock, hand) = card_ingest::ui::clock::Clock::manual();
    d.harness.state_mut().view_mut().queue.clock = clock;
    let card = PathBuf::from("/cards/A001");
    d.apply(vec![
        QueueEvent::Started {
            clips: vec![("c1".into(), "A001C001".into())],
        },
        QueueEvent::ClipSizes(vec![("c1".into(), card.clone(), 100_000_000)]),
        QueueEvent::StepStarted {
            clip_id: "c1".into(),
            step: Step::Checksum,
        },
    ]);
    hand.advance(Duration::from_secs(5));
    d.apply(vec![QueueEvent::Progress {
        clip_id: "c1".into(),
        step: Step::Checksum,
        done_bytes: 50_000_000,
        total_bytes: 100_000_000,
        eta_secs: None,
    }]);
    d.harness.run_ok();
    // Half of one step of twelve in 5 s: 115 s left; 50 MB read in the last 5 s: 10 MB/s.
    let line = "47.7 MiB of 95.4 MiB · 10.0 MB/s · 0:05 elapsed · 1:55 left · 0 of 1 clips done";
    assert!(
        d.has(line),
        "{:#?}",
        d.harness.state().view().queue.card_figures()
    );
    assert!(d.has("A001C001 lanes: disk 0/2 running · cpu 0/1 · network 0/9"));

    // A stall: five quiet seconds bring the rate down to nothing.
    hand.advance(Duration::from_secs(5));
    d.harness.run_ok();
    let f = &d.harness.state().view().queue.card_figures()[0];
    assert_eq!(f.rate, Some(0.0));
    assert_eq!(f.elapsed, Duration::from_secs(10));

    // The clip fails at its asset: 1 failed, the lane bar says where.
    let mut done = vec![QueueEvent::StepDone {
        clip_id: "c1".into(),
        step: Step::Checksum,
    }];
    done.push(QueueEvent::StepDone {
        clip_id: "c1".into(),
        step: Step::Offload,
    });
    done.push(QueueEvent::StepFailed {
        clip_id: "c1".into(),
        step: Step::CreateAsset,
        error: "iconik answered 500".into(),
    });
    d.apply(done);
    d.harness.run_ok();
    assert!(d.has("A001C001 lanes: disk 2/2 · cpu 0/1 · network 0/9 failed"));
    assert!(d.has("asset failed: iconik answered 500"));
    let f = &d.harness.state().view().queue.card_figures()[0];
    assert_eq!((f.clips_done, f.clips_failed), (0, 1));
    assert_eq!(f.done_bytes, 100_000_000);
}

#[test]
fn desk_help_overlay_lists_the_shortcuts_and_the_theme_follows_the_system() {
    let mut d = desk(Vec::new());
    d.harness.run_ok();
    assert_eq!(
        d.harness.ctx.options(|o| o.theme_preference),
        egui::ThemePreference::System
    );
    assert!(!d.has("Keyboard shortcuts"));
    d.harness.key_press(egui::Key::F1);
    d.harness.run_ok();
    assert!(d.has("Keyboard shortcuts"));
    for e in card_ingest::ui::help::SHORTCUTS {
        assert!(d.has(e.keys) && d.has(e.what), "{}: {}", e.keys, e.what);
    }
    assert!(d.has("No control has keyboard focus: Tab moves to the first one."));
    d.harness.key_press(egui::Key::Escape);
    d.harness.run_ok();
    assert!(!d.has("Keyboard shortcuts"));

    // With "Choose card…" focused, the overlay names that control's shortcut, from the table
    // the keys are read from: and the keys do what the overlay says.
    let choose = card_ingest::ui::help::Shortcut::ChooseCard.entry();
    d.harness
        .query_all_by_label("Choose card…")
        .next()
        .expect("a Choose card button")
        .focus();
    d.harness.run_ok();
    d.harness.key_press(egui::Key::F1);
    d.harness.run_ok();
    let line = format!("The focused control: {} — {}", choose.keys, choose.what);
    assert!(d.has(&line), "{line}");
    d.harness.key_press(egui::Key::Escape);
    d.harness.run_ok();
    assert!(!d.has("Keyboard shortcuts"));
    d.harness.event(egui::Event::Text("?".into()));
    d.harness.run_ok();
    assert!(d.has("Keyboard shortcuts"), "? opens it too");
    d.harness.get_by_label("Close help").click();
    d.harness.run_ok();
    assert!(!d.has("Keyboard shortcuts"));

    // Ctrl+, closes and reopens the settings sheet (open on start: nothing is connected).
    assert!(d.has("Connection & settings"));
    d.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Comma);
    d.harness.run_ok();
    assert!(!d.has("Connection & settings"));
    d.harness.get_by_label("Settings").click();
    d.harness.run_ok();
    assert!(d.has("Connection & settings"));
}

/// Walks the AccessKit tree of the busiest screen (settings sheet, a card, the queue with a
/// failed clip, the card's verdict) and fails on any control without an accessible label.
#[test]
fn desk_every_control_has_an_accessible_label() {
    let dir = fixtures().dir_of(SampleKind::P2Span).to_path_buf();
    let mut d = desk(vec![dir]);
    d.scanned();
    d.harness.run_ok();
    let vm = d.harness.state().view();
    let ids: Vec<(String, String, PathBuf)> = vm
        .card
        .clips
        .iter()
        .map(|c| {
            (
                c.id().to_owned(),
                c.scanned.clip.name.clone(),
                c.scanned.clip.card_root.clone(),
            )
        })
        .collect();
    d.apply(vec![
        QueueEvent::Started {
            clips: ids.iter().map(|(i, n, _)| (i.clone(), n.clone())).collect(),
        },
        QueueEvent::StepFailed {
            clip_id: ids[1].0.clone(),
            step: Step::CreateAsset,
            error: "500".into(),
        },
        QueueEvent::AssetLink {
            clip_id: ids[0].0.clone(),
            url: "https://app.iconik.io/asset/1".into(),
        },
    ]);
    d.harness.state_mut().view_mut().card.clips[0].expanded = true;
    // The clip editor too.
    d.harness.state_mut().view_mut().focused = Some(ids[0].0.clone());
    d.harness.run_ok();
    use egui::accesskit::Role;
    let controls = [
        Role::Button,
        Role::CheckBox,
        Role::TextInput,
        Role::MultilineTextInput,
        Role::ComboBox,
        Role::RadioButton,
        Role::Slider,
        Role::SpinButton,
        Role::Link,
    ];
    let mut seen = 0;
    let mut unlabelled = Vec::new();
    for role in controls {
        for node in d.harness.query_all(by().role(role)) {
            seen += 1;
            let ak = node.accesskit_node();
            if !ak.has_label() || ak.label().is_some_and(|l| l.trim().is_empty()) {
                unlabelled.push(format!("{role:?} {:?}", ak.value()));
            }
        }
    }
    assert!(seen > 20, "the walk saw only {seen} controls");
    assert!(
        unlabelled.is_empty(),
        "unlabelled controls: {unlabelled:#?}"
    );
}

/// The clip table's resizable columns start at the widths kept in the settings, and a resize
/// (ending with a release) is written back there (saved with the settings).
#[test]
fn desk_clip_column_widths_persist_in_the_settings() {
    let card = fixtures().dir_of(SampleKind::Xdcam).to_path_buf();
    let kept = vec![200.0, 70.0, 90.0, 80.0];
    let mut d = desk_with(
        Settings {
            clip_columns: kept.clone(),
            ..Settings::default()
        },
        vec![card.clone()],
    );
    d.scanned();
    // The settings sheet closed: room for every column, so the table is one piece (a narrow
    // window splits it; that is the next test).
    d.harness.get_by_label("Close settings").click();
    d.harness.run_ok();
    let clip = d.harness.get_by_label("Clip").rect();
    let title = d.harness.get_by_label("Title").rect();
    // The header cells start one column width (plus spacing) apart.
    let gap = title.left() - clip.left();
    assert!(
        (gap - 200.0).abs() < 12.0,
        "Clip column {gap} wide, kept 200"
    );
    // A click (a release) elsewhere leaves the kept widths as they are.
    d.harness.get_by_label("Select none").click();
    d.harness.run_ok();
    let now = &d.harness.state().view().settings.clip_columns;
    assert!(
        now.iter().zip(&kept).all(|(a, b)| (a - b).abs() <= 0.5),
        "{now:?}"
    );

    // Without kept widths, the first release records the content-sized ones.
    let mut d = desk(vec![card]);
    d.scanned();
    d.harness.run_ok();
    assert!(d.harness.state().view().settings.clip_columns.is_empty());
    d.harness.get_by_label("Select none").click();
    d.harness.run_ok();
    let recorded = d.harness.state().view().settings.clip_columns.clone();
    assert_eq!(recorded.len(), 4, "{recorded:?}");
    assert!(recorded[0] >= 80.0 && recorded[0] < 200.0, "{recorded:?}");
}

/// Too narrow for every column (settings sheet, card list and clip editor open): the clip
/// columns stay in place and the rest of the table scrolls sideways beside them.
#[test]
fn desk_a_narrow_clip_table_keeps_the_clip_column_in_place() {
    let card = fixtures().dir_of(SampleKind::Xdcam).to_path_buf();
    let mut d = desk(vec![card]);
    d.scanned();
    // The settings sheet closed (as after the connection at start): the card list keeps its
    // place beside the table whether or not the editor is open.
    d.harness.state_mut().view_mut().show_settings = false;
    d.harness.run_ok();
    let wide_clip = d.harness.get_by_label("Clip").rect();
    let name = d.harness.state().view().card.clips[0]
        .scanned
        .clip
        .name
        .clone();
    // The clip name (the title shows the same text further right).
    let leftmost = |h: &Harness<'static, App>| {
        h.query_all_by_label(&name)
            .map(|n| n.rect())
            .min_by(|a, b| a.left().total_cmp(&b.left()))
            .expect("the clip name")
    };
    let id = d.harness.state().view().card.clips[0].id().to_owned();
    d.harness.state_mut().view_mut().focused = Some(id);
    d.until("the clip editor", |h| {
        h.query_by_label(&format!("Clip {name}")).is_some()
    });
    d.harness.run_ok();
    let clip = d.harness.get_by_label("Clip").rect();
    let size = d.harness.get_by_label("Size").rect();
    let row = leftmost(&d.harness);
    // Within a pixel: the split layout rounds the frozen part's position differently.
    assert!(
        (clip.left() - wide_clip.left()).abs() < 1.0,
        "the clip column moved: {clip:?} vs {wide_clip:?}"
    );
    assert!(
        row.left() >= clip.left() - 1.0 && row.right() <= size.left(),
        "the clip name stays left of the scrolled columns: {row:?} {size:?}"
    );
}

/// The clip editor shows, before the run, which look the settings' rules give the focused clip
/// and the value the rule matched on; a clip's own choice hides it.
#[test]
fn desk_the_clip_editor_shows_the_look_a_rule_gives_before_the_run() {
    let card = fixtures().dir_of(SampleKind::Xdcam).to_path_buf();
    let mut d = desk_with(
        Settings {
            look_rules: "family=p2 => /luts/vlog.cube\nfamily=xdcam => /luts/slog3.cube".into(),
            ..Settings::default()
        },
        vec![card],
    );
    d.scanned();
    let id = d.harness.state().view().card.clips[0].id().to_owned();
    d.harness.state_mut().view_mut().focused = Some(id.clone());
    d.harness.run_ok();
    let shown = "/luts/slog3.cube (rule family=xdcam matched family \"xdcam\")";
    assert!(d.harness.query_by_label(shown).is_some(), "no rule preview");
    // The clip's own "No look" replaces the rules: the preview goes.
    d.harness
        .state_mut()
        .view_mut()
        .edits
        .entry(id)
        .or_default()
        .look = Some(card_ingest::media::proxy::look_rules::ClipLook::NoLook);
    d.harness.run_ok();
    assert!(d.harness.query_by_label(shown).is_none());
}

/// With "use the camera's proxy" on, the clip editor says before the run whether the card's
/// camera proxy qualifies: the P2 sample's PROXY files (160×90, with B-frames) do not, and why.
#[test]
fn desk_the_clip_editor_says_whether_the_camera_proxy_qualifies() {
    let card = fixtures().dir_of(SampleKind::P2).to_path_buf();
    let mut d = desk_with(
        Settings {
            camera_proxy: true,
            ..Settings::default()
        },
        vec![card],
    );
    d.scanned();
    let clip = d.harness.state().view().card.clips[0].clone();
    let probed = clip
        .scanned
        .camera_proxy
        .clone()
        .expect("the P2 clip has a camera proxy");
    let facts = probed.expect("probed with ffprobe");
    assert_eq!(facts.video_codec.as_deref(), Some("h264"));
    d.harness.state_mut().view_mut().focused = Some(clip.id().to_owned());
    d.harness.run_ok();
    let verdicts: Vec<String> = d
        .harness
        .query_all_by_label_contains("so it is encoded: camera proxy")
        .map(|n| {
            let ak = n.accesskit_node();
            ak.label()
                .filter(|l| !l.is_empty())
                .or(ak.value().map(|v| v.to_string()))
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(verdicts.len(), 1, "{verdicts:?}");
    assert!(verdicts[0].contains("B-frames"), "{verdicts:?}");
}

/// A card keeps its last state and verdict in the card list when a later run of the same
/// window starts (of another card's clips): "safe to erase" does not fall back to "scanned".
#[test]
fn desk_a_card_keeps_its_verdict_when_a_later_run_starts() {
    let mut d = desk(vec![
        fixtures().dir_of(SampleKind::Xdcam).to_path_buf(),
        fixtures().dir_of(SampleKind::Gopro).to_path_buf(),
    ]);
    d.scanned();
    d.harness.run_ok();
    let rows = d.rows();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (xdcam, gopro) = (rows[0].root.clone(), rows[1].root.clone());
    // The first run ended with XDCAM safe to erase (as the app records each card's end).
    d.harness
        .state_mut()
        .view_mut()
        .card_ends
        .insert(xdcam.clone(), card_end(&xdcam, 0, Some(verdict(true))));
    d.harness.run_ok();
    assert_eq!(d.rows()[0].state, SourceState::SafeToErase);
    // A second run, of the GoPro card's clip.
    let id = {
        let vm = d.harness.state().view();
        let clip = vm
            .card
            .clips
            .iter()
            .find(|c| c.scanned.clip.card_root == gopro)
            .expect("a GoPro clip");
        clip.id().to_owned()
    };
    d.apply(vec![
        QueueEvent::Started {
            clips: vec![(id.clone(), "GoPro".into())],
        },
        QueueEvent::ClipSizes(vec![(id.clone(), gopro.clone(), 10)]),
        QueueEvent::StepStarted {
            clip_id: id,
            step: Step::Checksum,
        },
    ]);
    let rows = d.rows();
    assert_eq!(rows[0].state, SourceState::SafeToErase, "{rows:?}");
    assert_eq!(rows[0].verdict, Some(verdict(true)));
    assert!(rows[0].report.is_some(), "its report stays reachable");
    assert_eq!(rows[1].state, SourceState::Ingesting);
}

/// Cards stay apart: clicking a card in the card list shows only its clips; "All cards" shows
/// every card's again.
#[test]
fn desk_clicking_a_card_shows_only_its_clips() {
    let xdcam = fixtures().dir_of(SampleKind::Xdcam).to_path_buf();
    let gopro = fixtures().dir_of(SampleKind::Gopro).to_path_buf();
    let mut d = desk(vec![xdcam, gopro]);
    d.scanned();
    d.harness.state_mut().view_mut().show_settings = false;
    d.harness.run_ok();
    let vm = d.harness.state().view();
    let names = |root: &std::path::Path| -> Vec<String> {
        vm.card
            .clips
            .iter()
            .filter(|c| c.scanned.clip.card_root == root)
            .map(|c| c.scanned.clip.name.clone())
            .collect()
    };
    let rows = d.rows();
    let (x_names, g_names) = (names(&rows[0].root), names(&rows[1].root));
    assert!(!x_names.is_empty() && !g_names.is_empty());
    let shown = |d: &Desk, name: &str| {
        d.harness
            .query_all_by_label(name)
            .any(|n| n.accesskit_node().role() == egui::accesskit::Role::Button)
    };
    assert!(shown(&d, &x_names[0]) && shown(&d, &g_names[0]));
    // "All cards" has a Card column: each row names its card, on the row's own line.
    let card_cell = |d: &Desk, clip: &str, card: &std::path::Path| -> bool {
        let folder = card.file_name().unwrap().to_string_lossy().into_owned();
        let row = d
            .harness
            .query_all_by_label(clip)
            .find(|n| n.accesskit_node().role() == egui::accesskit::Role::Button)
            .map(|n| n.rect());
        let cells: Vec<egui::Rect> = d
            .harness
            .query_all_by_label(&folder)
            .filter(|n| n.accesskit_node().role() == egui::accesskit::Role::Label)
            .map(|n| n.rect())
            .collect();
        row.is_some_and(|r| {
            cells.iter().any(|c| {
                c.center().y > r.top() && c.center().y < r.bottom() && c.left() > r.right()
            })
        })
    };
    let header = |d: &Desk| d.harness.query_all_by_label("Card").next().is_some();
    assert!(header(&d), "All cards shows a Card column");
    assert!(
        card_cell(&d, &x_names[0], &rows[0].root),
        "{} names its card",
        x_names[0]
    );
    assert!(
        card_cell(&d, &g_names[0], &rows[1].root),
        "{} names its card",
        g_names[0]
    );
    // The card list's row (a button; the table's Card cells are labels of the same name).
    d.harness
        .query_all_by_label(&rows[0].name)
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::Button)
        .expect("the card's row in the card list")
        .click();
    d.harness.run_ok();
    d.harness.run_ok();
    assert!(shown(&d, &x_names[0]), "the picked card's clips");
    assert!(!shown(&d, &g_names[0]), "another card's clip is hidden");
    assert!(!header(&d), "one card shown: no Card column");
    d.harness.get_by_label("All cards").click();
    d.harness.run_ok();
    d.harness.run_ok();
    assert!(shown(&d, &x_names[0]) && shown(&d, &g_names[0]));
}
