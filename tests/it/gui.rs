//! The operator's window, driven headless with egui_kittest (no display): widgets are found by
//! their accessible labels, background jobs run for real on a tokio runtime (the sandbox over
//! loopback, scans, ffmpeg posters), and the harness is stepped until their results show.

use crate::util::fixtures;
use card_ingest::card::FileRole;
use card_ingest::sample::SampleKind;
use card_ingest::secrets::{EnvStore, SecretsError};
use card_ingest::settings::{AppDirs, ServerChoice, Settings};
use card_ingest::ui::state::{Connection, KeyringStatus, MetaField, PosterState};
use card_ingest::ui::{App, Startup};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(90);
/// Where file sets are created (the step the fault tests fail).
const FILE_SETS: &str = "/API/files/v1/assets/*/file_sets/";
/// Where assets are created.
const ASSETS: &str = "/API/assets/v1/assets/";

/// A runtime, a temp dir for settings/cache, and the app under a headless harness.
pub(crate) struct Gui {
    pub(crate) harness: Harness<'static, App>,
    pub(crate) _rt: tokio::runtime::Runtime,
    pub(crate) dir: tempfile::TempDir,
}

pub(crate) fn no_keyring()
-> Box<dyn FnOnce() -> Result<card_ingest::secrets::KeyringStore, SecretsError> + Send> {
    Box::new(|| {
        Err(SecretsError::KeyringUnavailable {
            detail: "test: no Secret Service on this bus".into(),
        })
    })
}

fn gui(settings: Settings, paths: Vec<PathBuf>) -> Gui {
    gui_in(
        tempfile::tempdir().expect("tempdir"),
        settings,
        paths,
        EnvStore::from_vars(None, None),
    )
}

/// The app with its settings, cache and data under `dir` (a second instance on the same `dir`
/// is a restart) and `env` as the environment credentials.
pub(crate) fn gui_in(
    dir: tempfile::TempDir,
    settings: Settings,
    paths: Vec<PathBuf>,
    env: EnvStore,
) -> Gui {
    let rt = runtime();
    let harness = window(startup(dir.path(), settings, paths, env), &rt);
    Gui {
        harness,
        _rt: rt,
        dir,
    }
}

/// The background runtime of a test window.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A test window's start: settings, cache and data under `dir`, no keyring, no hand-over
/// socket and no volume watch (tests that need them set them).
pub(crate) fn startup(
    dir: &std::path::Path,
    settings: Settings,
    paths: Vec<PathBuf>,
    env: EnvStore,
) -> Startup {
    Startup {
        settings,
        dirs: AppDirs::under(dir),
        paths,
        keyring: no_keyring(),
        env,
        spec_dir: None,
        notices: Vec::new(),
        log: None,
        arrivals: None,
        mounts: None,
    }
}

/// The app under a headless harness of the window's default size (also the keyring tests').
pub(crate) fn window(startup: Startup, rt: &tokio::runtime::Runtime) -> Harness<'static, App> {
    let app = App::new(startup, rt.handle().clone());
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app)
}

/// Steps frames until `done` holds (background results arrive between frames); after `wait`
/// it fails with the app's log.
pub(crate) fn pump_until(
    harness: &mut Harness<'static, App>,
    wait: Duration,
    what: &str,
    done: impl Fn(&Harness<'static, App>) -> bool,
) {
    let started = Instant::now();
    loop {
        harness.step();
        if done(harness) {
            return;
        }
        if started.elapsed() > wait {
            let log: Vec<&str> = harness
                .state()
                .view()
                .log
                .iter()
                .map(|l| l.text.as_str())
                .collect();
            panic!("timed out after {wait:?} waiting for {what}; app log: {log:#?}");
        }
        std::thread::sleep(Duration::from_millis(15));
    }
}

impl Gui {
    fn app(&self) -> &App {
        self.harness.state()
    }

    /// Steps frames until `done` holds (background results arrive between frames).
    fn pump_until(&mut self, what: &str, done: impl Fn(&Harness<'static, App>) -> bool) {
        pump_until(&mut self.harness, WAIT, what, done);
    }

    /// Steps frames until the ingest run has ended; the queue as it ended.
    fn run_to_end(&mut self, what: &str) -> card_ingest::ui::queue::QueueView {
        self.pump_until(what, |h| h.state().view().queue.ended);
        self.app().view().queue.clone()
    }

    fn pump_until_label(&mut self, label: &str) {
        self.pump_until(&format!("label {label:?}"), |h| {
            h.query_by_label(label).is_some()
        });
    }
}

#[test]
fn gui_sandbox_connects_and_lists_its_storages() {
    let mut g = gui(Settings::default(), Vec::new());
    g.harness.run_ok();
    g.harness
        .get_by_label("Try with the built-in sandbox")
        .click();
    g.pump_until_label("Connected: 2 storages");
    let vm = g.app().view();
    assert_eq!(vm.connection, Connection::Connected);
    assert_eq!(vm.settings.server, ServerChoice::Sandbox);
    let names: Vec<&str> = vm.storages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Sandbox originals", "Sandbox proxies (GCS)"]);
    // The sandbox's originals storage is used as it is ("mounted" at the file system root, so any
    // card on this machine can be registered), and the settings keep the real server's choice.
    assert!(
        g.harness
            .query_by_label("Sandbox originals, mounted at /")
            .is_some()
    );
    assert_eq!(
        vm.sandbox_storage().map(|s| s.name.as_str()),
        Some("Sandbox originals")
    );
    assert_eq!(vm.settings.storage_id, "");
    assert_eq!(vm.settings.storage_mount, "");
    let url = vm.sandbox_url.clone().expect("sandbox url");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(
        g.app().sandbox().map(|s| s.base_url().to_owned()),
        Some(url)
    );
    // No card was loaded: the sandbox path writes and scans a sample P2 card.
    g.pump_until("the sample card's clips", |h| {
        h.state().view().card.clips.len() == 2
    });
    g.pump_until_label("0002EM");
    assert!(g.harness.query_by_label("0003AB").is_some());
    // Saving the changed settings later must not drop the sandbox connection.
    std::thread::sleep(Duration::from_millis(1000));
    g.harness.run_ok();
    assert_eq!(g.app().view().connection, Connection::Connected);
    assert!(g.harness.query_by_label("Connected: 2 storages").is_some());
    assert!(g.harness.query_by_label("Ingest 2 clips").is_some());
}

#[test]
fn gui_loads_a_card_from_the_command_line_and_lists_its_clips() {
    let dir = fixtures().dir_of(SampleKind::P2Span).to_path_buf();
    let mut g = gui(Settings::default(), vec![dir.clone()]);
    g.pump_until_label("0002EM");
    g.pump_until_label("0003AB");
    g.pump_until_label("2 clips");
    let vm = g.app().view();
    let names: Vec<&str> = vm
        .card
        .clips
        .iter()
        .map(|c| c.scanned.clip.name.as_str())
        .collect();
    assert_eq!(names, ["0002EM", "0003AB"]);
    assert_eq!(vm.card.selected_count(), 2);
    assert_eq!(vm.card.cards.len(), 2, "CARD_A and CARD_B");
    assert_eq!(vm.card.errors.len(), 0, "{:?}", vm.card.errors);
    // The span clip has 10 essence files over two cards, shown when the row is expanded.
    assert_eq!(
        vm.card.clips[1]
            .scanned
            .clip
            .files
            .iter()
            .filter(|f| matches!(f.role, FileRole::Video | FileRole::Audio))
            .count(),
        10
    );
    // Posters are grabbed in the background (ffmpeg) and become textures.
    g.pump_until("both posters", |h| {
        h.state()
            .view()
            .card
            .clips
            .iter()
            .all(|c| matches!(c.poster, PosterState::Ready(_)))
    });
    let PosterState::Ready(t) = &g.app().view().card.clips[0].poster else {
        unreachable!("checked above");
    };
    assert_eq!(t.size()[0], 192, "poster width");
    // Deselect all, then select all again.
    g.harness.get_by_label("Select none").click();
    g.harness.run_ok();
    assert_eq!(g.app().view().card.selected_count(), 0);
    g.harness.get_by_label("Select all").click();
    g.harness.run_ok();
    assert_eq!(g.app().view().card.selected_count(), 2);
}

#[test]
fn gui_edits_a_title_and_a_field_into_the_view_model() {
    let dir = fixtures().dir_of(SampleKind::P2Span).to_path_buf();
    let mut g = gui(Settings::default(), vec![dir]);
    g.pump_until_label("0002EM");
    g.harness.get_by_label("0002EM").click();
    g.pump_until_label("Clip 0002EM");
    // The template `{user_clip_name}` gives the P2 XML's UserClipName.
    let title = g
        .harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Title");
    assert_eq!(
        title.value().as_deref(),
        Some("Interview take 1"),
        "template title"
    );
    let other_title = g.app().view().title_of(&g.app().view().card.clips[1]);
    title.focus();
    title.type_text(" (wide)");
    g.harness.run_ok();
    let vm = g.app().view();
    let id = vm.card.clips[0].scanned.clip.id.clone();
    assert_eq!(vm.focused.as_deref(), Some(id.as_str()));
    let edit = vm.edits.get(&id).expect("edit stored by clip id");
    assert_eq!(edit.title.as_deref(), Some("Interview take 1 (wide)"));
    assert_eq!(vm.title_of(&vm.card.clips[0]), "Interview take 1 (wide)");
    // The other clip keeps its template title.
    assert_eq!(vm.title_of(&vm.card.clips[1]), other_title);

    let scene = g
        .harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Scene");
    scene.focus();
    scene.type_text("12A");
    g.harness.run_ok();
    let vm = g.app().view();
    assert_eq!(
        vm.edits[&id]
            .fields
            .get(&MetaField::Scene)
            .map(String::as_str),
        Some("12A")
    );
    // Esc closes the editor; the edits stay.
    g.harness.key_press(egui::Key::Escape);
    g.harness.run_ok();
    assert_eq!(g.app().view().focused, None);
    assert!(g.harness.query_by_label("Clip 0002EM").is_none());
    assert_eq!(
        g.app().view().edits[&id].title.as_deref(),
        Some("Interview take 1 (wide)")
    );
}

#[test]
fn gui_without_a_keyring_says_so_and_keeps_the_token_for_this_run() {
    let settings = Settings {
        server: ServerChoice::Custom,
        custom_url: "http://127.0.0.1:9".into(),
        app_id: "app-1".into(),
        ..Settings::default()
    };
    let mut g = gui(settings, Vec::new());
    g.pump_until_label("No OS keyring available: the token is kept for this run only.");
    let KeyringStatus::MemoryOnly(why) = &g.app().view().keyring else {
        panic!("expected memory-only, got {:?}", g.app().view().keyring);
    };
    assert!(why.contains("test: no Secret Service on this bus"), "{why}");
    let token = g
        .harness
        .get_by_role_and_label(egui::accesskit::Role::PasswordInput, "Token");
    token.focus();
    token.type_text("secret-token-1");
    g.harness.run_ok();
    assert_eq!(g.app().view().token.0, "secret-token-1");
    // The masked field never shows the token in the accessibility tree either.
    assert!(g.harness.query_by_value("secret-token-1").is_none());
    g.harness.get_by_label("Save token").click();
    g.pump_until("the token saved in memory", |h| {
        h.state().view().token_source.as_deref() == Some("memory (this run only)")
    });
    assert!(
        !format!("{:?}", g.app().view().token).contains("secret-token-1"),
        "Debug must redact the token"
    );
    // Settings persist (debounced) in the config dir, never the token.
    let template = g
        .harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Title template");
    template.focus();
    template.type_text(" {card}");
    g.harness.run_ok();
    std::thread::sleep(Duration::from_millis(1000));
    let path = AppDirs::under(g.dir.path()).settings_file();
    g.pump_until("the settings file", |_| path.is_file());
    let saved = card_ingest::settings::load(&path).expect("settings saved");
    assert_eq!(saved.title_template, "{user_clip_name} {card}");
    assert_eq!(saved.custom_url, "http://127.0.0.1:9");
    assert_eq!(saved.app_id, "app-1");
    let text = std::fs::read_to_string(&path).expect("read settings");
    assert!(!text.contains("secret-token-1"), "{text}");
}

/// Not a pass/fail timing test: prints the frame time with 0, 20 and 1 000 clips listed, both
/// `App::ui` alone and `harness.step` (the figures go into the notes; the release figures come
/// from `cargo run --release --example frame_time`). Asserts that the table lays rows out lazily.
#[test]
fn gui_preview_with_1000_clips_frame_time() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut m = crate::frame_time::measure(&rt, 30);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    eprintln!("{}", crate::frame_time::report(&m.times, profile));
    let h = &mut m.harness;
    h.run_ok();
    assert_eq!(h.state().view().card.clips.len(), 1000);
    assert!(h.query_by_label("1000 clips").is_some());
    assert!(h.query_by_label("Ingest 1000 clips").is_some());
    // Clip name and (template) title of the first row.
    assert_eq!(h.query_all_by_label("C0000").count(), 2);
    assert!(
        h.query_by_label("C0999").is_none(),
        "rows far below the fold are not laid out"
    );
    // An expanded row (rows of different heights) still shows its files, still lazily.
    h.state_mut().view_mut().card.clips[0].expanded = true;
    h.run_ok();
    assert!(h.query_by_label("C0000.MP4  Video  976.6 KiB").is_some());
    assert_eq!(h.query_all_by_label("C0001").count(), 2);
    assert!(h.query_by_label("C0999").is_none());
}

/// Issue 21: the queue of a 2 000-clip run lays out the rows near its view only (the frame
/// figure comes from `benches/run.sh frame-run`).
#[test]
fn gui_queue_of_a_2000_clip_run_lays_out_the_rows_near_its_view() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = crate::util::tempdir();
    let mut h = egui_kittest::Harness::builder()
        .with_size(crate::frame_time::WINDOW)
        .build_ui_state(
            |ui, app: &mut card_ingest::ui::App| app.ui(ui),
            crate::frame_time::bare_app(&rt, dir.path()),
        );
    crate::frame_time::start_run(h.state_mut(), 2000);
    h.run_ok();
    assert!(h.query_by_label_contains("C0000 lanes:").is_some());
    assert!(
        h.query_by_label_contains("C1999 lanes:").is_none(),
        "rows far below the view are not laid out"
    );
    // Other rows at the top: those are laid out, the first ones no longer.
    h.state_mut().view_mut().queue.clips.rotate_left(1000);
    h.run_ok();
    assert!(h.query_by_label_contains("C1000 lanes:").is_some());
    assert!(h.query_by_label_contains("C0000 lanes:").is_none());
}

/// A folder dropped onto the window, as winit delivers it.
#[derive(Debug)]
struct DroppedFolder(PathBuf);

impl egui::DroppedFile for DroppedFolder {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        Err(format!("{} is a folder", self.0.display()))
    }
}

#[test]
fn gui_drop_a_card_folder_then_bulk_edit_the_selection() {
    let dir = fixtures().dir_of(SampleKind::P2Span).to_path_buf();
    let mut g = gui(Settings::default(), Vec::new());
    g.harness.run_ok();
    assert!(
        g.harness
            .query_by_label("Drop a card folder here")
            .is_some()
    );
    // Hovering highlights the drop zone.
    g.harness.input_mut().hovered_files.push(egui::HoveredFile {
        path: Some(dir.clone()),
        mime: String::new(),
    });
    g.harness.step();
    g.harness.step();
    assert!(g.harness.query_by_label("Drop to scan").is_some());
    g.harness.input_mut().hovered_files.clear();
    g.harness
        .input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedFolder(dir.clone())));
    g.pump_until_label("0003AB");
    assert_eq!(g.app().view().card.paths, [dir]);
    // Both clips are selected: the bulk editor edits them.
    g.harness.get_by_label("Bulk edit…").click();
    g.pump_until_label("Edit 2 selected clips");
    // Typing the value is enough: the box ticks itself (typed values are never ignored).
    let scene = g
        .harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Set scene");
    scene.focus();
    scene.type_text("42");
    g.harness.run_ok();
    g.harness.get_by_label("Apply to 2 clips").click();
    g.harness.run_ok();
    let vm = g.app().view();
    assert!(
        vm.log
            .iter()
            .any(|l| l.text == "bulk edit: scene = \"42\" → 0002EM, 0003AB"),
        "the log says which field went to which clips: {:#?}",
        vm.log
    );
    for row in &vm.card.clips {
        assert_eq!(
            vm.edits[row.id()]
                .fields
                .get(&MetaField::Scene)
                .map(String::as_str),
            Some("42"),
            "scene of {}",
            row.scanned.clip.name
        );
        // Only the ticked field is set.
        assert_eq!(vm.edits[row.id()].fields.len(), 1);
        assert_eq!(vm.edits[row.id()].collection, None);
    }
}

#[test]
fn gui_queue_shows_a_failed_step_with_the_server_message_and_a_retry() {
    use card_ingest::ingest::Step;
    use card_ingest::ui::queue::{QueueEvent, StepStatus};
    let mut g = gui(Settings::default(), Vec::new());
    g.harness.run_ok();
    let events = [
        QueueEvent::Started {
            clips: vec![
                ("id-a".into(), "Interview take 1".into()),
                ("id-b".into(), "Stage wide".into()),
            ],
        },
        QueueEvent::StepDone {
            clip_id: "id-a".into(),
            step: Step::Checksum,
        },
        QueueEvent::StepStarted {
            clip_id: "id-a".into(),
            step: Step::UploadProxy,
        },
        QueueEvent::Progress {
            clip_id: "id-a".into(),
            step: Step::UploadProxy,
            done_bytes: 1024 * 1024,
            total_bytes: 4 * 1024 * 1024,
            eta_secs: Some(75.0),
        },
        QueueEvent::StepFailed {
            clip_id: "id-b".into(),
            step: Step::CreateAsset,
            error: "iconik answered 500: injected fault".into(),
        },
    ];
    for e in events {
        g.harness.state_mut().view_mut().queue.apply(e);
    }
    g.harness.run_ok();
    assert!(
        g.harness
            .query_by_label("asset failed: iconik answered 500: injected fault")
            .is_some()
    );
    assert!(
        g.harness
            .query_by_label("upload: 1.0 MiB of 4.0 MiB, 1:15 left")
            .is_some()
    );
    assert!(g.harness.query_by_label("Retry all failed (1)").is_some());
    g.harness.get_by_label("Retry").click();
    g.harness.run_ok();
    let log: Vec<String> = g.app().view().log.iter().map(|l| l.text.clone()).collect();
    assert!(
        log.iter()
            .any(|l| l.contains("RetryStep") && l.contains("id-b") && l.contains("CreateAsset")),
        "{log:?}"
    );
    let q = &g.app().view().queue;
    assert_eq!(
        q.clips[1].status(Step::CreateAsset),
        Some(&StepStatus::Failed(
            "iconik answered 500: injected fault".into()
        ))
    );
}

#[test]
fn cli_bare_word_that_is_no_folder_is_an_error_and_help_lists_gui() {
    use std::ffi::OsStr;
    let run = crate::util::run_bin(&[OsStr::new("scna")], Duration::from_secs(30));
    assert_eq!(run.status.code(), Some(2), "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains("`scna` is neither a subcommand nor an existing folder"),
        "{}",
        run.stderr
    );
    let help = crate::util::run_bin(&[OsStr::new("--help")], Duration::from_secs(30));
    assert_eq!(help.status.code(), Some(0));
    assert!(help.stdout.contains("gui"), "{}", help.stdout);
    assert!(help.stdout.contains("[PATH]..."), "{}", help.stdout);
    // Other subcommands still parse as subcommands, not as paths.
    let sample = crate::util::run_bin(
        &[OsStr::new("sample"), OsStr::new("--help")],
        Duration::from_secs(30),
    );
    assert_eq!(sample.status.code(), Some(0), "{}", sample.stderr);
    assert!(sample.stdout.contains("--kind"), "{}", sample.stdout);
}

/// Rendered images of the main screens (wgpu on Mesa lavapipe), compared with the checked-in
/// `tests/snapshots/*.png` within the tolerance of `kittest.toml`. `UPDATE_SNAPSHOTS=1` rewrites
/// them. Only with `--features snapshots` (plain `cargo test` never builds wgpu).
#[cfg(feature = "snapshots")]
#[test]
fn gui_snapshots_of_the_main_screens() {
    let dir = fixtures().dir_of(SampleKind::P2Span).to_path_buf();
    let mut g = gui(Settings::default(), Vec::new());
    g.harness.run_ok();
    g.harness.snapshot("gui_empty");
    g.harness
        .input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedFolder(dir)));
    g.pump_until("both posters", |h| {
        let clips = &h.state().view().card.clips;
        clips.len() == 2
            && clips
                .iter()
                .all(|c| matches!(c.poster, PosterState::Ready(_)))
    });
    // Let the "2 clips found" toast expire (4 s at the harness' 0.25 s per frame).
    for _ in 0..30 {
        g.harness.step();
    }
    g.harness.snapshot("gui_preview");
    g.harness.get_by_label("0002EM").click();
    g.pump_until_label("Clip 0002EM");
    for _ in 0..3 {
        g.harness.step();
    }
    g.harness.snapshot("gui_clip_editor");
    // The ingest queue as the engine's events leave it: one clip done with its link, one failed
    // with iconik's message and Retry, the card's report. Fed as events so the picture does not
    // depend on timing (the elapsed clock reads 0:00).
    g.harness.key_press(egui::Key::Escape);
    queue_after_a_run(&mut g);
    for _ in 0..3 {
        g.harness.step();
    }
    g.harness.snapshot("gui_ingest_queue");
}

/// Folds the events of a finished run with one failed clip into the window's queue.
#[cfg(feature = "snapshots")]
fn queue_after_a_run(g: &mut Gui) {
    use card_ingest::ingest::Step;
    use card_ingest::ingest::session::CardEnd;
    use card_ingest::ui::queue::QueueEvent;
    let ids: Vec<(String, String)> = g
        .app()
        .view()
        .card
        .clips
        .iter()
        .map(|c| (c.id().to_owned(), c.scanned.clip.name.clone()))
        .collect();
    let mut events = vec![QueueEvent::Started { clips: ids.clone() }];
    for step in Step::ALL {
        events.push(QueueEvent::StepDone {
            clip_id: ids[0].0.clone(),
            step,
        });
    }
    events.push(QueueEvent::AssetLink {
        clip_id: ids[0].0.clone(),
        url: "https://app.iconik.io/asset/6f1c2d3e-0000-4000-8000-000000000001".into(),
    });
    for step in [
        Step::Checksum,
        Step::Offload,
        Step::CreateAsset,
        Step::CreateFormat,
    ] {
        events.push(QueueEvent::StepDone {
            clip_id: ids[1].0.clone(),
            step,
        });
    }
    events.push(QueueEvent::StepFailed {
        clip_id: ids[1].0.clone(),
        step: Step::CreateFileSet,
        error: "iconik answered 400 Bad Request: injected fault".into(),
    });
    events.push(QueueEvent::CardEnded(CardEnd {
        card: PathBuf::from("/cards/CARD_A"),
        completed: 1,
        failed: 1,
        skipped: 0,
        cancelled: false,
        token_refused: false,
        report_html: Some(PathBuf::from("/reports/card-ingest-report-CARD_A.html")),
        journal: None,
        error: None,
        verdict: Some(card_ingest::ingest::erase::Verdict {
            safe_to_erase: false,
            evidence: vec![card_ingest::ingest::erase::Evidence {
                met: false,
                text: "1 of 2 clips not complete in iconik: 0003XY".into(),
            }],
        }),
    }));
    let vm = g.harness.state_mut().view_mut();
    for e in events {
        vm.queue.apply(e);
    }
    vm.queue.open = true;
    vm.queue.transcript = Some(PathBuf::from("/transcripts/card-ingest.sh"));
}

/// A private copy of the sample P2 span pair (the ingest writes an ASC MHL into the card).
fn card_copy() -> (tempfile::TempDir, PathBuf) {
    let work = crate::util::tempdir();
    let card = crate::util::canonical(work.path()).join("cards");
    crate::util::copy_tree(fixtures().dir_of(SampleKind::P2Span), &card);
    (work, card)
}

/// One fault rule on `method path` (once unless `rule.times` says otherwise).
fn fault_rule(
    method: &str,
    path: &str,
    rule: card_ingest::sandbox::faults::FaultRule,
) -> card_ingest::sandbox::faults::FaultSet {
    card_ingest::sandbox::faults::FaultSet {
        rules: vec![card_ingest::sandbox::faults::FaultRule {
            method: method.into(),
            path: path.into(),
            times: Some(rule.times.unwrap_or(1)),
            ..rule
        }],
    }
}

/// The window with `card` loaded and connected to its built-in sandbox.
fn gui_on_the_sandbox(card: PathBuf) -> Gui {
    let mut g = gui(Settings::default(), vec![card]);
    g.pump_until_label("0002EM");
    g.harness
        .get_by_label("Try with the built-in sandbox")
        .click();
    g.pump_until_label("Connected: 2 storages");
    g
}

/// The window on its built-in sandbox with a private card copy, and `rule` on `method path`.
fn gui_on_the_sandbox_with_fault(
    method: &str,
    path: &str,
    rule: card_ingest::sandbox::faults::FaultRule,
) -> (tempfile::TempDir, Gui) {
    let (work, card) = card_copy();
    let g = gui_on_the_sandbox(card);
    g.app()
        .sandbox()
        .expect("sandbox")
        .set_faults(fault_rule(method, path, rule))
        .expect("faults");
    (work, g)
}

/// The whole flow in the window against the built-in sandbox: a title edit, an injected
/// non-retryable fault that fails one step with the server's message, Retry, completion with
/// no duplicate objects, the report and the API transcript.
#[test]
fn gui_ingest_fails_a_step_with_the_server_message_then_retry_completes_without_duplicates() {
    use card_ingest::ingest::Step;
    use card_ingest::sandbox::faults::FaultRule;
    use card_ingest::ui::queue::StepStatus;
    let rule = FaultRule {
        status: Some(400),
        ..FaultRule::default()
    };
    let (_work, mut g) = gui_on_the_sandbox_with_fault("POST", FILE_SETS, rule);
    g.pump_until("the sandbox's metadata view", |h| {
        !h.state().view().views.is_empty()
    });

    // Edit the first clip's title and scene.
    g.harness.get_by_label("0002EM").click();
    g.pump_until_label("Clip 0002EM");
    let title = g
        .harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Title");
    title.focus();
    title.type_text(" (wide)");
    g.harness.run_ok();
    let scene = g
        .harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Scene");
    scene.focus();
    scene.type_text("12A");
    g.harness.run_ok();
    g.harness.key_press(egui::Key::Escape);
    g.harness.run_ok();

    g.harness.get_by_label("Ingest 2 clips").click();
    g.pump_until("a failed step", |h| {
        h.state().view().queue.failed_count() == 1
    });
    let (step, error) = {
        let q = &g.app().view().queue;
        let (step, error) = q.clips.iter().find_map(|c| c.failed()).expect("failed");
        (step, error.to_owned())
    };
    assert_eq!(step, Step::CreateFileSet);
    assert!(
        error.contains("400"),
        "the server's status is shown: {error}"
    );
    g.pump_until("the other clip to settle", |h| {
        !h.state().view().queue.running()
    });
    g.harness.run_ok();
    assert!(
        g.harness
            .query_by_label(&format!("file set failed: {error}"))
            .is_some(),
        "the failed step and iconik's message are on screen"
    );
    assert!(g.harness.query_by_label("Retry all failed (1)").is_some());
    // The card with a failed clip stays open for retries: no report yet.
    assert!(g.app().view().queue.cards.is_empty());
    g.harness.get_by_label("Retry").click();
    let q = g.run_to_end("the retried ingest to end");
    assert_eq!(q.failed_count(), 0, "{q:#?}");
    for c in &q.clips {
        assert!(
            c.steps
                .iter()
                .all(|(_, s)| matches!(s, StepStatus::Done | StepStatus::Skipped(_))),
            "{c:#?}"
        );
        assert!(c.asset_url.is_some(), "asset link of {}", c.title);
    }

    // iconik (the sandbox) holds exactly one of everything per clip.
    let state = g.app().sandbox().expect("sandbox").state();
    let count = |kind: &str| state[kind].as_array().map_or(0, Vec::len);
    assert_eq!(count("assets"), 2, "no duplicate assets");
    assert_eq!(count("formats"), 2, "one ORIGINAL format each");
    assert_eq!(count("file_sets"), 2, "the failed file set was made once");
    assert_eq!(count("proxies"), 2);
    let titles: Vec<&str> = state["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .filter_map(|a| a["title"].as_str())
        .collect();
    assert!(titles.contains(&"Interview take 1 (wide)"), "{titles:?}");
    // Every member file of both clips (essence and sidecars, both span cards), once.
    let members: usize = g
        .app()
        .view()
        .card
        .clips
        .iter()
        .map(|c| c.scanned.clip.files.len())
        .sum();
    assert!(members > 15, "{members}");
    assert_eq!(count("files"), members);
    // The scene went into the sandbox's "Card ingest" view.
    let values = state["metadata_values"].to_string();
    assert!(values.contains("12A"), "{values}");

    // The report per card (CARD_A holds both clips' first segments), and the transcript.
    assert_eq!(q.cards.len(), 1, "{:?}", q.cards);
    let html = q.cards[0].report_html.clone().expect("report written");
    let text = std::fs::read_to_string(&html).expect("report");
    assert!(text.contains("Interview take 1 (wide)"));
    // Registered in place (no offload): the card is iconik's original, never safe to erase.
    let verdict = q.cards[0].verdict.clone().expect("a verdict");
    assert!(!verdict.safe_to_erase);
    assert!(
        verdict
            .lines()
            .contains(&"✗ no offload: iconik's originals are the files on this card".to_owned()),
        "{verdict:?}"
    );
    g.harness.run_ok();
    assert!(g.harness.query_by_label("Open report (CARD_A)").is_some());
    assert!(g.harness.query_by_label("Not safe to erase").is_some());
    g.harness.get_by_label("Show API transcript").click();
    g.pump_until("the transcript viewer", |h| {
        h.state().view().transcript_view.is_some()
    });
    let (_, transcript) = g.app().view().transcript_view.clone().expect("transcript");
    assert!(transcript.contains("curl"), "{transcript}");
    let token = g
        .app()
        .sandbox()
        .expect("sandbox")
        .credentials()
        .token
        .clone();
    assert!(!transcript.contains(&token), "the token is redacted");

    // The asset link opens the sandbox's page of that asset.
    let url = q.clips[0].asset_url.clone().expect("link");
    let page: serde_json::Value = g
        ._rt
        .block_on(async { reqwest::get(&url).await?.json().await })
        .expect("asset page");
    assert_eq!(
        page["asset"]["id"].as_str(),
        url.rsplit('/').next(),
        "{page}"
    );
    // After the ingest the preview looks the clips up again: both are in iconik now and
    // unticked, so pressing Ingest again cannot register them twice.
    g.pump_until("both clips marked as in iconik", |h| {
        let card = &h.state().view().card;
        card.duplicates.len() == 2 && card.duplicates.values().all(|d| d.is_duplicate())
    });
    assert_eq!(g.app().view().card.selected_count(), 0);
    assert_eq!(
        page["file_sets"].as_array().map(Vec::len),
        Some(1),
        "{page}"
    );
}

/// A sandbox of its own for the resume tests (it outlives both app instances), its FILES
/// storage mounted at /, whose first `failures` file-set POSTs answer 400.
struct ResumeFixture {
    _rt: tokio::runtime::Runtime,
    sbx: card_ingest::sandbox::SandboxHandle,
    settings: Settings,
}

impl ResumeFixture {
    fn start(failures: u64) -> Self {
        use card_ingest::sandbox::faults::FaultRule;
        use card_ingest::sandbox::{self, SandboxConfig};
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let sbx = rt
            .block_on(sandbox::spawn(SandboxConfig {
                spec_dir: None,
                mount_point: "/".into(),
                ..SandboxConfig::default()
            }))
            .expect("sandbox");
        let rule = FaultRule {
            status: Some(400),
            times: Some(failures),
            ..FaultRule::default()
        };
        sbx.set_faults(fault_rule("POST", FILE_SETS, rule))
            .expect("faults");
        let settings = Settings {
            server: ServerChoice::Custom,
            custom_url: sbx.base_url().to_owned(),
            storage_mount: "/".into(),
            ..Settings::default()
        };
        Self {
            _rt: rt,
            sbx,
            settings,
        }
    }

    fn env(&self) -> EnvStore {
        let creds = self.sbx.credentials();
        EnvStore::from_vars(
            Some(creds.app_id.clone().into()),
            Some(creds.token.clone().into()),
        )
    }

    /// The environment's credentials for the saved server: the window connects by itself.
    fn connect(&self, g: &mut Gui) {
        g.pump_until("the environment's token", |h| {
            !h.state().view().token.0.is_empty()
        });
        g.pump_until("connected by itself", |h| h.state().view().connected());
    }
}

/// Both clips of the spanned P2 pair fail, so the shot spanning CARD_A and CARD_B is among
/// the clips left: Resume scans both cards (the journal's card alone shows the shot as
/// waiting for CARD_B, and it could not be selected) and finishes both clips.
#[test]
fn gui_resumes_a_clip_that_spans_two_cards() {
    let (_work, card) = card_copy();
    let fx = ResumeFixture::start(2);
    let data = tempfile::tempdir().expect("tempdir");
    let mut g = gui_in(data, fx.settings.clone(), vec![card], fx.env());
    fx.connect(&mut g);
    g.pump_until_label("Ingest 2 clips");
    g.harness.get_by_label("Ingest 2 clips").click();
    g.pump_until("both clips failed", |h| {
        let q = &h.state().view().queue;
        q.failed_count() == 2 && !q.running()
    });
    g.harness.run_ok();
    g.harness.get_by_label("Finish").click();
    g.run_to_end("the run to end");
    let Gui {
        dir, harness, _rt, ..
    } = g;
    drop(harness);
    drop(_rt);

    let mut g = gui_in(dir, fx.settings.clone(), Vec::new(), fx.env());
    g.pump_until_label("Resume");
    let offer = g.app().view().unfinished.clone();
    assert_eq!(offer.len(), 1, "{offer:?}");
    assert_eq!(offer[0].clip_ids.len(), 2, "{offer:?}");
    assert!(
        offer[0].card_root.ends_with("CARD_A") || offer[0].card_root.ends_with("CARD_B"),
        "{offer:?}"
    );
    assert_eq!(offer[0].span_roots.len(), 1, "the other card: {offer:?}");
    fx.connect(&mut g);
    g.harness.get_by_label("Resume").click();
    g.run_to_end("the resumed run to end");
    let vm = g.app().view();
    assert_eq!(vm.card.cards.len(), 2, "both cards scanned");
    assert_eq!(vm.queue.clips.len(), 2);
    assert_eq!(vm.queue.failed_count(), 0, "{:#?}", vm.queue);
    let state = fx.sbx.state();
    for kind in ["assets", "formats", "file_sets", "proxies"] {
        assert_eq!(state[kind].as_array().map(Vec::len), Some(2), "{kind}");
    }
}

/// An ingest left with a failed clip is offered for resume when the app opens again; Resume
/// loads the card, selects only the clip left and, connected to the same server, finishes it
/// without making anything twice. Closing the window mid-ingest asks first.
#[test]
fn gui_reopened_offers_to_resume_an_unfinished_card_and_asks_before_closing_mid_ingest() {
    let (_work, card) = card_copy();
    let fx = ResumeFixture::start(1);
    let (settings, env) = (fx.settings.clone(), || fx.env());
    let sbx = &fx.sbx;
    let connect = |g: &mut Gui| fx.connect(g);
    let data = tempfile::tempdir().expect("tempdir");
    let data_path = data.path().to_path_buf();
    let mut g = gui_in(data, settings.clone(), vec![card.clone()], env());
    connect(&mut g);
    g.pump_until_label("Ingest 2 clips");
    g.harness.get_by_label("Ingest 2 clips").click();
    // Mid-ingest, the window's close button asks first and the window stays.
    g.harness.step();
    assert!(g.app().view().queue.running());
    g.harness.event(egui::Event::WindowFocused(true));
    g.harness
        .input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    g.harness.step();
    g.harness.run_ok();
    assert!(g.app().view().confirm_close, "close asks while clips run");
    assert!(g.harness.query_by_label("An ingest is running").is_some());
    g.harness.get_by_label("Keep running").click();
    g.harness.run_ok();
    assert!(!g.app().view().confirm_close);
    g.pump_until("one failed clip, the other done", |h| {
        let q = &h.state().view().queue;
        q.failed_count() == 1 && !q.running()
    });
    g.harness.run_ok();
    g.harness.get_by_label("Finish").click();
    g.run_to_end("the run to end");
    let failed_id = g
        .app()
        .view()
        .queue
        .clips
        .iter()
        .find(|c| c.failed().is_some())
        .map(|c| c.clip_id.clone())
        .expect("failed clip");
    // The preview's look-up after the run: the completed clip is unticked as in iconik, the
    // failed one (its asset exists too) stays ticked: it has work left.
    g.pump_until("the look-up after the run", |h| {
        let card = &h.state().view().card;
        card.duplicates.len() == 2 && card.duplicates.values().all(|d| d.is_duplicate())
    });
    let ticked: Vec<String> = g
        .app()
        .view()
        .card
        .clips
        .iter()
        .filter(|c| c.selected)
        .map(|c| c.id().to_owned())
        .collect();
    assert_eq!(ticked, std::slice::from_ref(&failed_id));
    let Gui {
        dir, harness, _rt, ..
    } = g;
    drop(harness);
    drop(_rt);
    assert_eq!(sbx.state()["assets"].as_array().map(Vec::len), Some(2));

    // Reopen: the journal's clip left is offered.
    let mut g = gui_in(dir, settings, Vec::new(), env());
    g.pump_until_label("Resume");
    let offer = g.app().view().unfinished.clone();
    assert_eq!(offer.len(), 1, "{offer:?}");
    assert_eq!(offer[0].clip_ids, std::slice::from_ref(&failed_id));
    assert_eq!(offer[0].server, sbx.base_url());
    assert_eq!(offer[0].clips_total, 2);
    connect(&mut g);
    g.harness.get_by_label("Resume").click();
    g.run_to_end("the resumed run to end");
    let vm = g.app().view();
    assert_eq!(
        vm.card.selected_count(),
        1,
        "only the clip left is selected"
    );
    assert_eq!(vm.queue.clips.len(), 1);
    assert_eq!(vm.queue.clips[0].clip_id, failed_id);
    assert_eq!(vm.queue.failed_count(), 0, "{:#?}", vm.queue);
    // The resumed card ends at 100 % and "1 of 1", though its earlier steps did not run again;
    // its verdict covers the clip the first run completed as well.
    assert_eq!(vm.queue.overall(), 1.0, "{:#?}", vm.queue);
    let figures = vm.queue.card_figures();
    assert_eq!((figures[0].clips_done, figures[0].clips_total), (1, 1));
    let verdict = vm.queue.cards[0].verdict.as_ref().expect("verdict");
    assert!(
        verdict.evidence[0]
            .text
            .starts_with("2 of 2 clips complete"),
        "{:?}",
        verdict.lines()
    );
    // Still one asset per clip: the resumed clip kept its asset and format.
    let state = sbx.state();
    for kind in ["assets", "formats", "file_sets", "proxies"] {
        assert_eq!(state[kind].as_array().map(Vec::len), Some(2), "{kind}");
    }
    assert!(data_path.join("data").join("journals").is_dir());
}

/// Cancel stops at the next safe point: the calls in flight finish, nothing after them starts,
/// the card's report says cancelled and the journal keeps the clips for a resume.
#[test]
fn gui_cancel_stops_the_ingest_at_the_next_step() {
    let (_work, mut g) = ingest_with_slow_assets();
    g.harness.run_ok();
    g.harness.get_by_label("Cancel").click();
    let q = g.run_to_end("the cancelled run to end");
    assert_eq!(q.cards.len(), 1, "{:?}", q.cards);
    assert!(q.cards[0].cancelled, "{:?}", q.cards[0]);
    assert_eq!(q.cards[0].completed, 0);
    assert!(!q.running());
    let state = g.app().sandbox().expect("sandbox").state();
    let count = |kind: &str| state[kind].as_array().map_or(0, Vec::len);
    assert!(count("assets") <= 2, "at most the assets in flight");
    assert_eq!(
        count("formats"),
        0,
        "nothing after the cancelled step started"
    );
    assert_eq!(count("file_sets"), 0);
    g.harness.run_ok();
    let line = format!(
        "CARD_A: 0 completed, {} not finished, {} skipped (cancelled)",
        q.cards[0].failed, q.cards[0].skipped
    );
    assert!(g.harness.query_by_label(&line).is_some(), "{line}");
}

/// The sandbox's asset creation answers slowly (1.5 s, twice); the ingest of both clips runs
/// until an asset call is in flight.
fn ingest_with_slow_assets() -> (tempfile::TempDir, Gui) {
    use card_ingest::sandbox::faults::FaultRule;
    let rule = FaultRule {
        delay_ms: Some(1500),
        times: Some(2),
        ..FaultRule::default()
    };
    let (work, mut g) = gui_on_the_sandbox_with_fault("POST", ASSETS, rule);
    g.harness.get_by_label("Ingest 2 clips").click();
    g.pump_until("an asset step running", |h| {
        h.state().view().queue.clips.iter().any(|c| {
            c.status(card_ingest::ingest::Step::CreateAsset)
                == Some(&card_ingest::ui::queue::StepStatus::Running)
        })
    });
    (work, g)
}

/// Pause (Ctrl+P) while asset creation is in flight: the calls in flight finish, nothing after
/// them starts while paused, and Resume (the button) lets the run complete with one asset per
/// clip.
#[test]
fn gui_pause_holds_the_run_and_resume_completes_it() {
    let (_work, mut g) = ingest_with_slow_assets();
    g.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::P);
    g.harness.run_ok();
    assert!(g.app().view().queue.paused);
    g.pump_until_label("Resume");
    // The asset calls in flight answer (1.5 s); then nothing more is made while paused.
    g.pump_until("the assets in flight", |h| {
        let state = h.state().sandbox().expect("sandbox").state();
        state["assets"].as_array().map_or(0, Vec::len) >= 1
    });
    std::thread::sleep(Duration::from_secs(3));
    g.harness.run_ok();
    let state = g.app().sandbox().expect("sandbox").state();
    assert_eq!(
        state["formats"].as_array().map_or(0, Vec::len),
        0,
        "no step starts while paused"
    );
    assert!(g.app().view().queue.running(), "paused, not ended");
    g.harness.get_by_label("Resume").click();
    let q = g.run_to_end("the resumed run to end");
    assert_eq!(q.failed_count(), 0, "{q:#?}");
    assert_eq!(q.overall(), 1.0);
    let state = g.app().sandbox().expect("sandbox").state();
    assert_eq!(state["assets"].as_array().map(Vec::len), Some(2));
    assert_eq!(state["formats"].as_array().map(Vec::len), Some(2));
}

/// The storage-relative folder of `file` under `root`, `/`-separated (as iconik stores it).
fn dir_under(root: &std::path::Path, file: &std::path::Path) -> String {
    let parent = file.parent().expect("file has a folder");
    parent
        .strip_prefix(root)
        .unwrap_or_else(|_| panic!("{} not under {}", parent.display(), root.display()))
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn gui_preview_warns_about_clips_already_in_iconik() {
    use card_ingest::iconik::models::{AssetCreate, FileCreate, StorageId};
    use card_ingest::iconik::{Client, Credentials};
    use card_ingest::ingest::lookup::DuplicateCheck;
    use card_ingest::ui::cards::DUPLICATE_LABEL;

    crate::util::require_tool("ffmpeg");
    // The storage root holds the card, as when cards are copied to the shared storage first.
    let dir = crate::util::tempdir();
    let root = crate::util::canonical(dir.path());
    let card = root.join("CARD_C");
    let opts = card_ingest::sample::SampleOptions {
        clip_seconds: 1,
        ..card_ingest::sample::SampleOptions::default()
    };
    card_ingest::sample::generate_p2_complete(&card, 3, &opts).expect("generate P2 card");
    let report = card_ingest::scan::scan(
        std::slice::from_ref(&card),
        &card_ingest::media::Tools::detect(),
    )
    .expect("scan");
    let clips: Vec<_> = report.clips.iter().map(|c| c.clip.clone()).collect();
    assert_eq!(clips.len(), 3);

    // A sandbox whose FILES storage is mounted at the root, seeded over HTTP: clip 0 registered
    // as an asset with its id as external_id, clip 1's main file registered on the storage at
    // its path (under another asset with no external_id), clip 2 nowhere.
    let srt = tokio::runtime::Runtime::new().expect("sandbox runtime");
    let sbx = srt
        .block_on(card_ingest::sandbox::spawn(
            card_ingest::sandbox::SandboxConfig {
                spec_dir: None,
                mount_point: root.display().to_string(),
                ..card_ingest::sandbox::SandboxConfig::default()
            },
        ))
        .expect("sandbox starts");
    let creds = sbx.credentials().clone();
    let client = Client::new(
        sbx.base_url(),
        Credentials::new(creds.app_id.clone(), creds.token.clone()),
    )
    .expect("client");
    let (by_id, by_path) = srt.block_on(async {
        let storage: StorageId = client
            .storages()
            .list_all()
            .await
            .expect("storages")
            .into_iter()
            .find(|s| s.name.as_deref() == Some("Sandbox originals"))
            .expect("FILES storage")
            .id;
        let by_id = client
            .assets()
            .create(
                &AssetCreate {
                    external_id: Some(clips[0].id.clone()),
                    ..AssetCreate::new("registered earlier")
                },
                None,
            )
            .await
            .expect("asset by id");
        let by_path = client
            .assets()
            .create(&AssetCreate::new("registered by hand"), None)
            .await
            .expect("asset by path");
        let main = &clips[1].files[0];
        let name = main
            .path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        client
            .files()
            .create(
                by_path.id,
                &FileCreate {
                    name: Some(name.clone()),
                    size: Some(main.size),
                    storage_id: Some(storage),
                    ..FileCreate::new(dir_under(&root, &main.path), name)
                },
            )
            .await
            .expect("file at the clip's path");
        (by_id.id.to_string(), by_path.id.to_string())
    });
    let assets_before = sbx.state()["assets"].as_array().map(Vec::len);

    let settings = Settings {
        server: ServerChoice::Custom,
        custom_url: sbx.base_url().to_owned(),
        app_id: creds.app_id.clone(),
        ..Settings::default()
    };
    let mut g = gui(settings, vec![card.clone()]);
    g.pump_until_label(&clips[2].name);
    g.harness.state_mut().view_mut().token.0 = creds.token.clone();
    g.harness.get_by_label("Test connection").click();
    g.pump_until_label("Connected: 2 storages");
    assert_eq!(
        g.app().view().settings.storage_mount,
        root.display().to_string()
    );
    g.pump_until("every clip looked up", |h| {
        let d = &h.state().view().card.duplicates;
        d.len() == 3 && !d.values().any(|c| *c == DuplicateCheck::Checking)
    });
    g.harness.run_ok();
    let vm = g.app().view();
    let d = &vm.card.duplicates;
    assert_eq!(
        d[&clips[0].id],
        DuplicateCheck::InIconik(format!("clip already in iconik as asset {by_id}"))
    );
    let main = &clips[1].files[0];
    assert_eq!(
        d[&clips[1].id],
        DuplicateCheck::InIconik(format!(
            "{}/{} is already registered on the storage (asset {by_path})",
            dir_under(&root, &main.path),
            main.path.file_name().expect("name").to_string_lossy()
        ))
    );
    assert_eq!(
        d[&clips[2].id],
        DuplicateCheck::NotInIconik { path_checked: true }
    );
    // Found clips are unticked; the new one stays ticked.
    let selected: Vec<(&str, bool)> = vm.card.clips.iter().map(|c| (c.id(), c.selected)).collect();
    assert_eq!(
        selected,
        [
            (clips[0].id.as_str(), false),
            (clips[1].id.as_str(), false),
            (clips[2].id.as_str(), true)
        ]
    );
    assert_eq!(g.harness.query_all_by_label(DUPLICATE_LABEL).count(), 2);
    assert_eq!(g.harness.query_all_by_label("new").count(), 1);
    assert!(g.harness.query_by_label("Ingest 1 clips").is_some());
    let logged: Vec<&str> = vm
        .log
        .iter()
        .map(|l| l.text.as_str())
        .filter(|t| t.starts_with("duplicate check:"))
        .collect();
    assert_eq!(
        logged,
        ["duplicate check: 3 clips looked up in iconik, 2 already there"]
    );
    // The check only reads: no asset was created by the window.
    assert_eq!(
        sbx.state()["assets"].as_array().map(Vec::len),
        assets_before
    );

    // The server goes away, the card is dropped again: every lookup fails, none is called a
    // duplicate, all stay ticked, and the failure is logged once for the whole card.
    srt.block_on(sbx.shutdown()).expect("sandbox stops");
    g.harness
        .input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedFolder(card.clone())));
    g.pump_until("the lookups to fail", |h| {
        let d = &h.state().view().card.duplicates;
        d.len() == 3
            && d.values()
                .all(|c| matches!(c, DuplicateCheck::CouldNotCheck(_)))
    });
    g.harness.run_ok();
    let vm = g.app().view();
    assert!(vm.card.clips.iter().all(|c| c.selected));
    assert_eq!(g.harness.query_all_by_label(DUPLICATE_LABEL).count(), 0);
    assert_eq!(g.harness.query_all_by_label("not checked").count(), 3);
    let DuplicateCheck::CouldNotCheck(why) = &vm.card.duplicates[&clips[0].id] else {
        unreachable!("checked above");
    };
    assert!(
        vm.card.duplicates[&clips[0].id]
            .hover()
            .starts_with("could not check: "),
        "{why}"
    );
    let failures: Vec<&str> = vm
        .log
        .iter()
        .map(|l| l.text.as_str())
        .filter(|t| t.contains("could not check"))
        .collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].starts_with(
            "duplicate check: 3 clips looked up in iconik, 0 already there; could not check 3: "
        ),
        "{failures:?}"
    );
}

/// iconik refusing the token mid-ingest stops the run and tells the operator where to fix it.
#[test]
fn gui_refused_token_stops_the_ingest_and_says_where_to_fix_it() {
    use card_ingest::sandbox::faults::FaultRule;
    let rule = FaultRule {
        status: Some(401),
        times: Some(10),
        ..FaultRule::default()
    };
    let (_work, mut g) = gui_on_the_sandbox_with_fault("POST", ASSETS, rule);
    g.harness.get_by_label("Ingest 2 clips").click();
    let q = g.run_to_end("the run to end");
    assert_eq!(q.cards.len(), 1, "{:?}", q.cards);
    assert!(q.cards[0].token_refused);
    let error = q.cards[0].error.clone().expect("card error");
    assert!(
        error.contains("refused the token") && error.contains("Connection"),
        "{error}"
    );
    assert_eq!(q.cards[0].completed, 0);
    g.harness.run_ok();
    assert!(
        g.harness
            .query_by_label(&format!("CARD_A: {error}"))
            .is_some()
    );
    let state = g.app().sandbox().expect("sandbox").state();
    assert_eq!(state["assets"].as_array().map(Vec::len), Some(0));
}

/// "Copy the card to the storage first": the card is copied and verified below the storage
/// (for the sandbox, a folder of the app's own), and the copy is what gets registered.
#[test]
fn gui_offload_copies_the_card_and_registers_the_copy() {
    let (_work, card) = card_copy();
    let mut g = gui_on_the_sandbox(card.clone());
    g.harness
        .get_by_label("Copy the card to the storage first")
        .click();
    g.harness.run_ok();
    assert!(g.app().view().settings.offload);
    g.harness.get_by_label("Ingest 2 clips").click();
    let q = g.run_to_end("the run to end");
    assert_eq!(q.failed_count(), 0, "{q:#?}");
    assert_eq!(q.cards.len(), 1);
    assert_eq!(q.cards[0].error, None);
    assert_eq!(q.cards[0].completed, 2, "{:?}", q.cards);
    let copies = crate::util::canonical(g.dir.path())
        .join("data")
        .join("sandbox-originals");
    let state = g.app().sandbox().expect("sandbox").state();
    let files = state["files"].as_array().expect("files").clone();
    assert!(!files.is_empty());
    let rel_copies = copies.to_string_lossy().trim_start_matches('/').to_owned();
    let mut copied = 0;
    for f in &files {
        let dir = f["directory_path"].as_str().expect("directory_path");
        let name = f["original_name"].as_str().expect("name");
        // Every file is a copy: the span's segments on the second card too (that card is
        // offloaded with the first one).
        assert!(dir.starts_with(&rel_copies), "{dir} is not a copy");
        let copy = PathBuf::from("/").join(dir).join(name);
        let original = walk_find(&card.join("CARD_A"), name)
            .or_else(|| walk_find(&card.join("CARD_B"), name))
            .expect("original on CARD_A or CARD_B");
        assert_eq!(
            std::fs::read(&copy).expect("copy"),
            std::fs::read(&original).expect("original"),
            "{}",
            copy.display()
        );
        copied += 1;
    }
    let members: usize = g
        .app()
        .view()
        .card
        .clips
        .iter()
        .flat_map(|c| &c.scanned.clip.files)
        .count();
    assert_eq!(copied, members, "every member file registered as its copy");
}

/// The first file named `name` below `dir`.
fn walk_find(dir: &std::path::Path, name: &str) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(found) = walk_find(&p, name) {
                return Some(found);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
    }
    None
}

/// Paths in, always: a card folder typed into the path field loads with Enter, and of the
/// paths given on the command line each loads or fails on its own (the missing one is listed
/// with its reason; the others' clips are there).
#[test]
fn gui_a_typed_path_loads_and_a_missing_command_line_path_fails_alone() {
    let p2 = fixtures().dir_of(SampleKind::P2Span).to_path_buf();
    let xdcam = fixtures().dir_of(SampleKind::Xdcam).to_path_buf();
    let mut g = gui(Settings::default(), Vec::new());
    g.harness.run_ok();
    let field = g
        .harness
        .get_all_by_role_and_label(egui::accesskit::Role::TextInput, "Path")
        .next()
        .expect("a path field");
    field.focus();
    field.type_text(&xdcam.display().to_string());
    g.harness.key_press(egui::Key::Enter);
    g.pump_until("the typed card's clips", |h| {
        let card = &h.state().view().card;
        !card.scanning && !card.clips.is_empty()
    });
    assert_eq!(g.app().view().card.paths, std::slice::from_ref(&xdcam));

    let missing = PathBuf::from("/nonexistent/CARD_Z");
    let mut g = gui(
        Settings::default(),
        vec![p2.clone(), missing.clone(), xdcam],
    );
    g.pump_until("the good cards' clips", |h| {
        let card = &h.state().view().card;
        !card.scanning && !card.clips.is_empty()
    });
    let card = &g.app().view().card;
    assert_eq!(card.scan_error, None, "one bad path does not fail the scan");
    assert_eq!(card.cards.len(), 3, "{:?}", card.cards);
    let listed: Vec<&PathBuf> = card.errors.iter().map(|e| &e.path).collect();
    assert_eq!(listed, [&missing]);
    assert!(card.errors[0].message.contains("check the path"));
}

/// Keyboard: Enter on a clip's name opens the editor with its Title focused; Ctrl+↓ moves the
/// editor to the next clip, Title focused again.
#[test]
fn gui_enter_on_a_clip_focuses_its_title_and_ctrl_down_moves_on() {
    let mut g = gui(
        Settings::default(),
        vec![fixtures().dir_of(SampleKind::P2Span).to_path_buf()],
    );
    g.pump_until_label("0002EM");
    g.harness.get_by_label("0002EM").focus();
    g.harness.run_ok();
    g.harness.key_press(egui::Key::Enter);
    g.harness.run_ok();
    g.harness.run_ok();
    let first = g.app().view().card.clips[0].id().to_owned();
    assert_eq!(g.app().view().focused.as_deref(), Some(first.as_str()));
    let title = g
        .harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Title");
    assert!(title.is_focused(), "the Title field has the keyboard");
    g.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::ArrowDown);
    g.harness.run_ok();
    g.harness.run_ok();
    let second = g.app().view().card.clips[1].id().to_owned();
    assert_eq!(g.app().view().focused.as_deref(), Some(second.as_str()));
    assert!(
        g.harness
            .get_by_role_and_label(egui::accesskit::Role::TextInput, "Title")
            .is_focused()
    );
    assert!(g.harness.query_by_label("Clip 0003AB").is_some());
}

/// Destinations shown before the run: with the offload on, the sheet lists each destination's
/// folder for the loaded card (after the pattern) with the card's bytes and the drive's free
/// space, or in red why the run's pre-flight would refuse it (here: the card's own drive), and
/// checks again as the settings change.
#[test]
fn gui_destinations_are_shown_and_refused_before_the_run() {
    let (work, card) = card_copy();
    let root = crate::util::canonical(work.path());
    let (mount, shuttle) = (root.join("mount"), root.join("shuttle"));
    std::fs::create_dir_all(&mount).unwrap();
    std::fs::create_dir_all(&shuttle).unwrap();
    let settings = Settings {
        server: ServerChoice::Custom,
        custom_url: "http://127.0.0.1:9".into(),
        storage_id: "st-1".into(),
        storage_name: "Originals".into(),
        storage_mount: mount.display().to_string(),
        offload: true,
        offload_pattern: "{card}".into(),
        offload_also: vec![shuttle.display().to_string()],
        ..Settings::default()
    };
    let card_a = card.join("CARD_A");
    let mut g = gui(settings, vec![card_a.clone()]);
    g.pump_until("the pre-flight's answer", |h| {
        h.state().view().destinations.is_some() && !h.state().view().card.cards.is_empty()
    });
    let refused = g.app().view().destinations.clone().expect("checked");
    let why = refused.expect_err("the card's own drive is refused");
    assert!(why.contains("same"), "{why}");
    g.harness.run_ok();
    assert!(
        g.harness.query_by_label_contains("Refused:").is_some(),
        "the refusal is shown in the sheet"
    );
    g.harness
        .get_by_label("Allow a copy on the card's own drive")
        .click();
    g.pump_until(
        "the destinations",
        |h| matches!(&h.state().view().destinations, Some(Ok(rows)) if rows.len() == 2),
    );
    let rows = g.app().view().destinations.clone().unwrap().unwrap();
    assert_eq!(rows[0].folder, mount.join("CARD_A"));
    assert_eq!(rows[1].folder, shuttle.join("CARD_A"));
    let card_bytes: u64 = g
        .app()
        .view()
        .card
        .clips
        .iter()
        .flat_map(|c| &c.scanned.clip.files)
        .filter(|f| f.path.starts_with(&card_a))
        .map(|f| f.size)
        .sum();
    assert!(
        rows[0].card_bytes >= card_bytes,
        "the card's bytes, not × destinations"
    );
    assert_eq!(rows[0].card_bytes, rows[1].card_bytes);
    assert_eq!(rows[0].needed, rows[0].card_bytes, "nothing copied yet");
    assert!(rows[0].free.is_some_and(|f| f > 0));
    g.harness.run_ok();
    assert!(
        g.harness
            .query_by_label(&mount.join("CARD_A").display().to_string())
            .is_some()
    );
}

/// Where no file chooser can open (no desktop portal or zenity, as in this test's process),
/// "Choose card…" says so and puts the cursor in the Path field instead of failing silently.
#[test]
fn gui_choose_card_without_a_file_chooser_offers_the_path_field() {
    let mut g = gui(Settings::default(), Vec::new());
    g.harness.run_ok();
    g.harness
        .get_all_by_label("Choose card…")
        .next()
        .expect("Choose card…")
        .click();
    g.pump_until("the chooser's answer", |h| {
        !h.state().view().choosing_folder
    });
    g.harness.run_ok();
    let said = g
        .app()
        .view()
        .log
        .iter()
        .any(|l| l.text.starts_with("No file chooser could open here"));
    assert!(said, "{:#?}", g.app().view().log);
    let field = g
        .harness
        .get_all_by_role_and_label(egui::accesskit::Role::TextInput, "Path")
        .find(|n| n.is_focused());
    assert!(field.is_some(), "the Path field has the keyboard");
}

/// The Path field completes folders: typing lists the sub-folders that match (read in the
/// background), Tab takes their common start, a click goes into one, and Enter loads it.
#[test]
fn gui_path_field_completes_folders_and_loads_the_one_picked() {
    let parent = crate::util::tempdir();
    let root = crate::util::canonical(parent.path());
    crate::util::copy_tree(fixtures().dir_of(SampleKind::Gopro), &root.join("CARD_B"));
    for other in ["CARD_A", "Other"] {
        std::fs::create_dir(root.join(other)).unwrap();
    }
    let mut g = gui(Settings::default(), Vec::new());
    g.harness.run_ok();
    let root = root.display().to_string();
    fn field(g: &Gui) -> egui_kittest::Node<'_> {
        g.harness
            .get_all_by_role_and_label(egui::accesskit::Role::TextInput, "Path")
            .next()
            .expect("a Path field")
    }
    field(&g).click();
    g.harness.run_ok();
    field(&g).type_text(&format!("{root}/ca"));
    g.pump_until("the completions", |h| {
        h.query_by_label("CARD_A/").is_some() && h.query_by_label("CARD_B/").is_some()
    });
    assert!(g.harness.query_by_label("Other/").is_none(), "not a match");
    g.harness.key_press(egui::Key::Tab);
    g.harness.run_ok();
    assert_eq!(g.app().view().path_input, format!("{root}/CARD_"));
    g.pump_until("the completions of CARD_", |h| {
        h.state().view().path_completed_for == format!("{root}/CARD_")
    });
    g.harness.get_by_label("CARD_B/").click();
    g.harness.run_ok();
    assert_eq!(g.app().view().path_input, format!("{root}/CARD_B/"));
    g.harness.run_ok();
    assert!(field(&g).is_focused(), "typing goes on in the field");
    g.harness.key_press(egui::Key::Enter);
    g.pump_until("the picked card's clips", |h| {
        !h.state().view().card.clips.is_empty()
    });
    assert_eq!(
        g.app().view().card.paths,
        [PathBuf::from(format!("{root}/CARD_B/"))]
    );
}
