//! Run presets (issue 23 part 1) through both faces, with real files: a preset saved in the
//! window (kittest, its built-in sandbox) and loaded by `card-ingest ingest --preset NAME`
//! gives the same options (the window's run options against the CLI's `--json` `started`
//! line, both through `IngestOptions::summary`); a flag beside `--preset` overrides it; an
//! unknown name is refused with the names that exist; a malformed file is named.

use crate::gui::{gui_in, pump_until};
use crate::util::{canonical, copy_tree, fixtures, tempdir};
use card_ingest::sample::SampleKind;
use card_ingest::secrets::EnvStore;
use card_ingest::settings::{AppDirs, ProxyChoice, ServerChoice, Settings};
use egui_kittest::kittest::Queryable;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(120);

/// `card-ingest ARGS…` with its config and data folders under `home` (XDG): (exit code,
/// stdout's JSON lines, stderr).
fn cli(home: &Path, args: &[&std::ffi::OsStr]) -> (Option<i32>, Vec<Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_card-ingest"))
        .args(args)
        .env("XDG_CONFIG_HOME", home.join("xdg-config"))
        .env("XDG_DATA_HOME", home.join("xdg-data"))
        .env_remove("ICONIK_APP_ID")
        .env_remove("ICONIK_AUTH_TOKEN")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run card-ingest");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    (
        out.status.code(),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The CLI's presets folder under `home` (where `directories` puts it with XDG_CONFIG_HOME).
fn cli_presets(home: &Path) -> PathBuf {
    home.join("xdg-config").join("card-ingest").join("presets")
}

/// The options both faces must agree on: the run's summary without what belongs to where each
/// face's sandbox lives (its storage and view ids are per instance, and the window picks its
/// sandbox's view by itself; its mount and copies are below each face's own data folder) and
/// the CLI's own give-up time for an unreachable iconik.
fn comparable(mut summary: Value) -> Value {
    let map = summary.as_object_mut().expect("summary object");
    for key in [
        "storage",
        "metadata_view",
        "storage_root",
        "offload_to",
        "proxy_dir",
        "offline_wait_ms",
    ] {
        map.remove(key);
    }
    summary
}

#[test]
fn presets_saved_in_the_window_give_the_cli_the_same_options() {
    let work = tempdir();
    let card = canonical(work.path()).join("card");
    copy_tree(fixtures().dir_of(SampleKind::Bwf), &card);
    let dir = tempdir();
    let dirs = AppDirs::under(dir.path());
    let settings = Settings {
        server: ServerChoice::Sandbox,
        offload: true,
        offload_pattern: "{project}/{camera}/{preset}/{card}".into(),
        project: "Nordlicht".into(),
        title_template: "{card} {name}".into(),
        default_collection: "Day 1".into(),
        proxy: ProxyChoice::None,
        verify_size_only: true,
        iconik_job: false,
        ..Settings::default()
    };
    let mut g = gui_in(
        dir,
        settings,
        vec![card.clone()],
        EnvStore::from_vars(None, None),
    );
    pump_until(&mut g.harness, WAIT, "auto-connect to the sandbox", |h| {
        let vm = h.state().view();
        vm.connected() && !vm.card.clips.is_empty() && !vm.views.is_empty()
    });
    if g.harness.query_by_label("Save as preset…").is_none() {
        g.harness.get_by_label("Settings").click();
        g.harness.run_ok();
    }
    g.harness.get_by_label("Save as preset…").click();
    g.harness.run_ok();
    let name = g
        .harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Preset name");
    name.focus();
    name.type_text("Day 1 A-cam");
    g.harness.run_ok();
    g.harness.get_by_label("Save preset").click();
    let file = dirs.config_dir.join("presets").join("Day 1 A-cam.json");
    pump_until(&mut g.harness, WAIT, "the preset file", |h| {
        h.state().view().presets.names == ["Day 1 A-cam"]
    });
    let text = std::fs::read_to_string(&file).expect("preset file");
    assert!(text.contains("\"default_collection\": \"Day 1\""), "{text}");
    assert!(
        !text.contains("app_id") && !text.contains("clip_columns"),
        "{text}"
    );
    assert_eq!(g.harness.state().view().settings.preset, "Day 1 A-cam");
    // "Copies go to" resolves the naming placeholders before the run (the preset's name too,
    // once it is the sheet's).
    pump_until(&mut g.harness, WAIT, "the destination preview", |h| {
        matches!(&h.state().view().destinations, Some(Ok(rows))
            if rows.len() == 1 && rows[0].folder.to_string_lossy().contains("Day 1 A-cam"))
    });
    let previewed = g
        .harness
        .state()
        .view()
        .destinations
        .clone()
        .unwrap()
        .unwrap()[0]
        .folder
        .clone();
    let originals = canonical(g.dir.path())
        .join("data")
        .join("sandbox-originals");
    let relative = previewed
        .strip_prefix(&originals)
        .expect("below the sandbox originals")
        .to_path_buf();
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(parts.len(), 4, "{parts:?}");
    // The recorder's own project (iXML) comes before the settings' default; a sound recorder
    // names no camera model, so {camera} takes its fallback.
    assert_eq!(parts[0], "Harbour", "{parts:?}");
    assert_eq!(parts[1], "unknown-camera", "{parts:?}");
    assert_eq!(parts[2], "Day 1 A-cam");
    assert_eq!(parts[3], "card");

    // The window's run with the preset in use.
    g.harness.key_press(egui::Key::Enter);
    pump_until(&mut g.harness, WAIT, "the window's run to end", |h| {
        h.state().view().queue.ended
    });
    let q = g.harness.state().view().queue.clone();
    assert_eq!(q.failed_count(), 0, "{q:#?}");
    let window = g
        .harness
        .state()
        .run_options()
        .expect("run options")
        .clone();
    assert_eq!(window.preset.as_deref(), Some("Day 1 A-cam"));
    let html = std::fs::read_to_string(q.cards[0].report_html.as_ref().expect("report")).unwrap();
    assert!(html.contains("<tr><th>Preset</th><td>Day 1 A-cam</td></tr>"));
    assert!(
        previewed.join("ascmhl").is_dir(),
        "the copy is where the preview said"
    );

    // The CLI with the same preset file in its presets folder, by name.
    let home = tempdir();
    std::fs::create_dir_all(cli_presets(home.path())).unwrap();
    std::fs::copy(&file, cli_presets(home.path()).join("Day 1 A-cam.json")).unwrap();
    let (code, lines, stderr) = cli(
        home.path(),
        &[
            "ingest".as_ref(),
            card.as_os_str(),
            "--preset".as_ref(),
            "Day 1 A-cam".as_ref(),
            "--sandbox".as_ref(),
            "--json".as_ref(),
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let started = lines
        .iter()
        .find(|l| l["event"] == "started")
        .unwrap_or_else(|| panic!("a started line: {lines:?}\n{stderr}"));
    assert_eq!(started["preset"], "Day 1 A-cam");
    assert_eq!(
        comparable(started["options"].clone()),
        comparable(window.summary()),
        "the same preset gives the same options in both faces"
    );
    let copy_to = started["options"]["offload_to"]
        .as_str()
        .expect("offload_to");
    assert!(copy_to.ends_with("sandbox-originals"), "{copy_to}");
    assert!(
        Path::new(copy_to).join(&relative).join("ascmhl").is_dir(),
        "the CLI's copy has the window's folder names: {}",
        relative.display()
    );
    let end = lines
        .iter()
        .find(|l| l["event"] == "card_ended")
        .expect("card_ended");
    let cli_html = std::fs::read_to_string(end["report_html"].as_str().expect("report")).unwrap();
    assert!(cli_html.contains("<tr><th>Preset</th><td>Day 1 A-cam</td></tr>"));

    // A flag beside --preset overrides it; the rest stays the preset's (a dry run: nothing sent).
    let (code, lines, stderr) = cli(
        home.path(),
        &[
            "ingest".as_ref(),
            card.as_os_str(),
            "--preset".as_ref(),
            "Day 1 A-cam".as_ref(),
            "--dry-run".as_ref(),
            "--json".as_ref(),
            "--title-template".as_ref(),
            "{name}".as_ref(),
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let started = lines
        .iter()
        .find(|l| l["event"] == "started")
        .expect("started");
    assert_eq!(started["options"]["title_template"], "{name}");
    assert_eq!(started["options"]["collection"], "Day 1");
    assert_eq!(started["options"]["proxy"], "none");
}

#[test]
fn presets_unknown_names_and_broken_files_are_refused_clearly() {
    let home = tempdir();
    let presets = cli_presets(home.path());
    std::fs::create_dir_all(&presets).unwrap();
    let good = card_ingest::preset::Preset::new("B-cam", &Settings::default()).unwrap();
    card_ingest::preset::save(&presets, &good).unwrap();
    let broken = presets.join("Broken.json");
    std::fs::write(&broken, "{\"name\": \"Broken\", \"settings\": [1, 2").unwrap();
    let card = fixtures().dir_of(SampleKind::P2).to_path_buf();

    let (code, _, stderr) = cli(
        home.path(),
        &[
            "ingest".as_ref(),
            card.as_os_str(),
            "--preset".as_ref(),
            "Day 9".as_ref(),
            "--sandbox".as_ref(),
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("no preset named \"Day 9\"") && stderr.contains("presets: B-cam, Broken"),
        "{stderr}"
    );
    let (code, _, stderr) = cli(
        home.path(),
        &[
            "ingest".as_ref(),
            card.as_os_str(),
            "--preset".as_ref(),
            "Broken".as_ref(),
            "--sandbox".as_ref(),
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&broken.display().to_string()) && stderr.contains("not a valid preset"),
        "{stderr}"
    );
}
