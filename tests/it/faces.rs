//! The same operator stories through both faces of the one ingest session: the window (egui_kittest,
//! the real session against its built-in sandbox) and the CLI (`card-ingest ingest --sandbox`).
//! Each test checks what the operator is told (verdict, per-clip states, progress) against what
//! happened (the sandbox's state and requests, the files on disk, the report), and that the two
//! faces say the same thing about the same card.

use crate::gui::{Gui, gui_in, pump_until};
use crate::util::{canonical, copy_tree, fixtures, run_bin, tempdir};
use card_ingest::ingest::report::ClipStatus;
use card_ingest::sample::SampleKind;
use card_ingest::secrets::EnvStore;
use card_ingest::settings::{AppDirs, ProxyChoice, Settings};
use egui_kittest::kittest::Queryable;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(120);
const CLI_WAIT: Duration = Duration::from_secs(240);

/// A private copy of the sample `kind` (runs write nothing on it unless they say so).
fn card_of(kind: SampleKind) -> (tempfile::TempDir, PathBuf) {
    let work = tempdir();
    let card = canonical(work.path()).join("card");
    copy_tree(fixtures().dir_of(kind), &card);
    (work, card)
}

/// The window with `settings` (as loaded from disk) and `card` on its command line, connected to
/// its built-in sandbox: started by itself when the settings say the sandbox was the last server.
fn window_on_sandbox(settings: Settings, card: &Path) -> Gui {
    let auto = settings.server == card_ingest::settings::ServerChoice::Sandbox;
    let mut g = gui_in(
        tempdir(),
        settings,
        vec![card.to_path_buf()],
        EnvStore::from_vars(None, None),
    );
    pump_until(&mut g.harness, WAIT, "the card's clips", |h| {
        !h.state().view().card.clips.is_empty()
    });
    if !auto {
        g.harness
            .get_by_label("Try with the built-in sandbox")
            .click();
    }
    pump_until(&mut g.harness, WAIT, "the sandbox connection", |h| {
        h.state().view().connected() && !h.state().view().views.is_empty()
    });
    g
}

/// Enter (no pointer): the ingest of the ticked clips; then steps until the run ended.
fn ingest_with_enter(g: &mut Gui) -> card_ingest::ui::queue::QueueView {
    g.harness.key_press(egui::Key::Enter);
    pump_until(&mut g.harness, WAIT, "the run to end", |h| {
        h.state().view().queue.ended
    });
    g.harness.state().view().queue.clone()
}

/// Clip name → status, as a face reported the card's end.
fn states(clips: &[card_ingest::ingest::session::ClipLine]) -> BTreeMap<String, ClipStatus> {
    clips.iter().map(|c| (c.name.clone(), c.status)).collect()
}

/// `card-ingest ingest CARD --sandbox --json EXTRA…`: the exit code, the `card_ended` lines'
/// (card, clip name → status, safe to erase) and stderr.
fn cli_ingest(card: &Path, journal: &Path, extra: &[&str]) -> CliEnd {
    let mut args: Vec<std::ffi::OsString> = vec![
        "ingest".into(),
        card.into(),
        "--sandbox".into(),
        "--json".into(),
        "--journal-dir".into(),
        journal.into(),
    ];
    args.extend(extra.iter().map(Into::into));
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let run = run_bin(&refs, CLI_WAIT);
    let ends: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "card_ended")
        .collect();
    assert_eq!(
        ends.len(),
        1,
        "one card_ended line: {}\n{}",
        run.stdout,
        run.stderr
    );
    let end = &ends[0];
    let clips = end["clips"]
        .as_array()
        .expect("clips")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_owned(),
                serde_json::from_value(c["status"].clone()).expect("status"),
            )
        })
        .collect();
    CliEnd {
        code: run.status.code(),
        clips,
        safe: end["verdict"]["safe_to_erase"].as_bool().expect("verdict"),
        evidence: end["verdict"]["evidence"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        report: PathBuf::from(end["report_html"].as_str().expect("report_html")),
        stderr: run.stderr,
    }
}

struct CliEnd {
    code: Option<i32>,
    clips: BTreeMap<String, ClipStatus>,
    safe: bool,
    evidence: String,
    report: PathBuf,
    stderr: String,
}

/// A P2 card whose second clip continues on a card that was not given: both faces say "not
/// safe", name the waiting clip, and list it in the report, with the same per-clip states.
#[test]
fn faces_a_p2_card_with_a_waiting_clip_is_not_safe_and_names_it() {
    let (_work, card) = card_of(SampleKind::P2);
    let dests = tempdir();
    let shuttle = canonical(dests.path()).join("shuttle");
    std::fs::create_dir_all(&shuttle).unwrap();
    let settings = Settings {
        offload: true,
        offload_also: vec![shuttle.display().to_string()],
        ..Settings::default()
    };
    let mut g = window_on_sandbox(settings, &card);
    let vm = g.harness.state().view();
    let waiting = vm
        .card
        .clips
        .iter()
        .find(|c| c.scanned.clip.name == "0003AB")
        .expect("0003AB");
    assert!(
        !waiting.selected,
        "a clip waiting for its card is not ticked"
    );
    let q = ingest_with_enter(&mut g);
    assert_eq!(q.cards.len(), 1, "{:?}", q.cards);
    let end = &q.cards[0];
    let verdict = end.verdict.as_ref().expect("verdict");
    assert!(!verdict.safe_to_erase, "{:?}", verdict.lines());
    assert!(
        verdict.evidence[0]
            .text
            .starts_with("1 of 2 clips not complete in iconik: 0003AB"),
        "{:?}",
        verdict.evidence[0]
    );
    let window_states = states(&end.clips);
    assert_eq!(
        window_states,
        BTreeMap::from([
            ("0002EM".to_owned(), ClipStatus::Complete),
            ("0003AB".to_owned(), ClipStatus::Waiting)
        ])
    );
    let html = std::fs::read_to_string(end.report_html.as_ref().expect("report")).unwrap();
    assert!(html.contains("0003AB") && html.contains("waiting for another card"));
    assert!(html.contains("1 complete, 0 failed, 0 skipped (duplicate), 0 incomplete, 1 waiting"));
    let csv = std::fs::read_to_string(end.report_csv.as_ref().expect("csv")).unwrap();
    assert!(
        csv.lines()
            .any(|l| l.contains("0003AB") && l.contains("waiting for another card"))
    );
    assert!(end.report_pdf.as_ref().expect("pdf").is_file());
    // The two destinations hold verified copies; the card itself got nothing.
    assert!(
        !card.join("ascmhl").exists(),
        "nothing written onto the card"
    );

    // Links open with the system's viewer: a stand-in `xdg-open` on the opener's PATH records
    // what it was given (the report's path, the asset's page in the sandbox).
    let viewer = tempdir();
    let opened = viewer.path().join("opened.log");
    crate::util::write_script(
        &viewer.path().join("xdg-open"),
        &format!("#!/bin/sh\necho \"$1\" >> '{}'\n", opened.display()),
    );
    g.harness
        .state_mut()
        .set_opener_path(card_ingest::opener::path_with(viewer.path()));
    g.harness.get_by_label("Open report (card)").click();
    g.harness
        .get_all_by_label("Open in sandbox")
        .next()
        .expect("asset link")
        .click();
    let asset_id = {
        let state = g.harness.state().sandbox().expect("sandbox").state();
        state["assets"][0]["id"]
            .as_str()
            .expect("asset id")
            .to_owned()
    };
    let report = end.report_html.clone().expect("report");
    pump_until(
        &mut g.harness,
        WAIT,
        "the viewer to be started twice",
        |_| std::fs::read_to_string(&opened).is_ok_and(|t| t.lines().count() >= 2),
    );
    let lines: Vec<String> = std::fs::read_to_string(&opened)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(lines.contains(&report.display().to_string()), "{lines:?}");
    let sandbox_url = g
        .harness
        .state()
        .sandbox()
        .expect("sandbox")
        .base_url()
        .trim_end_matches('/')
        .to_owned();
    assert!(
        lines.contains(&format!("{sandbox_url}/sandbox/assets/{asset_id}")),
        "{lines:?}"
    );

    // The CLI on the same card says the same.
    let out = tempdir();
    let raid = canonical(out.path()).join("raid");
    let shuttle2 = canonical(out.path()).join("shuttle");
    std::fs::create_dir_all(&raid).unwrap();
    std::fs::create_dir_all(&shuttle2).unwrap();
    let cli = cli_ingest(
        &card,
        &canonical(out.path()).join("journal"),
        &[
            "--offload-to",
            raid.to_str().unwrap(),
            "--offload-to",
            shuttle2.to_str().unwrap(),
        ],
    );
    assert_eq!(cli.code, Some(1), "{}", cli.stderr);
    assert_eq!(cli.clips, window_states, "the two faces agree clip by clip");
    assert!(!cli.safe);
    assert_eq!(cli.evidence, verdict.evidence[0].text);
    assert!(cli.stderr.contains("NOT safe to erase"), "{}", cli.stderr);
    assert!(
        cli.stderr
            .lines()
            .any(|l| l.starts_with("0003AB") && l.contains("waiting for another card")),
        "{}",
        cli.stderr
    );
    assert!(
        std::fs::read_to_string(&cli.report)
            .unwrap()
            .contains("waiting for another card")
    );
    assert!(
        !card.join("ascmhl").exists(),
        "nothing written onto the card"
    );
}

/// "Copy the card to the storage first" saved in the settings file: the sheet shows it, the run
/// uses exactly the options shown (compared field by field), the copy exists and is what iconik
/// registers, the report lists the destination, and nothing is written onto the camera card.
/// The sandbox was the last server, so the window starts it and connects by itself.
#[test]
fn gui_offload_from_saved_settings_is_what_runs_and_leaves_the_card_untouched() {
    let (_work, card) = card_of(SampleKind::P2Span);
    let dir = tempdir();
    let dirs = AppDirs::under(dir.path());
    // A later tier's root is a drive's folder: it must exist (a missing one is refused).
    let tier2 = canonical(_work.path()).join("shuttle");
    std::fs::create_dir(&tier2).unwrap();
    let saved = Settings {
        server: card_ingest::settings::ServerChoice::Sandbox,
        offload: true,
        offload_pattern: "{card}".into(),
        title_template: "{card} {name}".into(),
        default_collection: "Day 1".into(),
        cascade_to: vec![tier2.display().to_string()],
        drive_writers: 2,
        max_upload_rate: "50M".into(),
        edit_proxy_codec: "dnxhr-lb".into(),
        ..Settings::default()
    };
    card_ingest::settings::save(&dirs.settings_file(), &saved).expect("save settings");
    let loaded = card_ingest::settings::load(&dirs.settings_file()).expect("load settings");
    let mut g = {
        let mut g = gui_in(
            dir,
            loaded,
            vec![card.clone()],
            EnvStore::from_vars(None, None),
        );
        pump_until(&mut g.harness, WAIT, "auto-connect to the sandbox", |h| {
            let vm = h.state().view();
            vm.connected() && !vm.card.clips.is_empty() && !vm.views.is_empty()
        });
        g
    };
    let shown = g.harness.state().view().settings.clone();
    assert!(shown.offload, "the sheet shows the saved offload");
    let q = ingest_with_enter(&mut g);
    let options = g
        .harness
        .state()
        .run_options()
        .expect("run options")
        .clone();
    let data = canonical(g.dir.path()).join("data");
    // Field by field: what the sheet showed is what ran.
    assert_eq!(options.offload_to, Some(data.join("sandbox-originals")));
    assert_eq!(options.offload_pattern, shown.offload_pattern);
    assert_eq!(options.title_template, shown.title_template);
    assert_eq!(options.collection.as_deref(), Some("Day 1"));
    assert_eq!(
        options.proxy,
        card_ingest::ingest::ProxyMode::Local,
        "{:?}",
        shown.proxy
    );
    assert_eq!(
        options.verify,
        card_ingest::offload::VerifyMode::ReadBack,
        "size-only is off"
    );
    assert_eq!(options.offload_also, Vec::<PathBuf>::new());
    assert_eq!(options.cascade_to, std::slice::from_ref(&tier2));
    assert_eq!(options.writers_per_drive, 2);
    assert_eq!(
        options.max_upload_rate,
        Some(card_ingest::iconik::upload::throttle::parse_rate("50M").unwrap())
    );
    assert_eq!(
        options.edit_proxy_codec,
        card_ingest::media::proxy::EditCodec::parse("dnxhr-lb").unwrap()
    );
    assert!(
        options.edit_proxy_to.is_empty(),
        "no edit proxy storage: none made"
    );
    // The later tier was filled (from the first copy) before the verdict.
    assert!(
        tier2.join("CARD_A").join("CONTENTS").is_dir(),
        "the cascade tier's copy"
    );
    // The card was released once its first copy was verified, in the window's words.
    assert_eq!(
        g.harness
            .state()
            .view()
            .released
            .get(&card.join("CARD_A"))
            .map(String::as_str),
        Some("card can be ejected: copies continue from sandbox-originals"),
        "{:?}",
        g.harness.state().view().released
    );
    assert_eq!(q.failed_count(), 0, "{q:#?}");
    let end = &q.cards[0];
    let verdict = end.verdict.as_ref().expect("verdict");
    assert!(verdict.safe_to_erase, "{:?}", verdict.lines());
    let copy = data.join("sandbox-originals").join("CARD_A");
    assert!(copy.join("CONTENTS").is_dir(), "the copy exists");
    assert!(copy.join("ascmhl").is_dir(), "the copy's MHL");
    let html = std::fs::read_to_string(end.report_html.as_ref().expect("report")).unwrap();
    assert!(
        html.contains(&copy.display().to_string()),
        "report names the destination"
    );
    let mut written = Vec::new();
    walk(&card, &mut written);
    assert!(
        !written
            .iter()
            .any(|p| p.components().any(|c| c.as_os_str() == "ascmhl")),
        "nothing written onto the camera card: {written:?}"
    );
    // Every registered file is the copy's.
    let state = g.harness.state().sandbox().expect("sandbox").state();
    for f in state["files"].as_array().expect("files") {
        let dir = f["directory_path"].as_str().expect("dir");
        assert!(
            dir.contains("sandbox-originals"),
            "{dir} is registered from the card, not the copy"
        );
    }

    // Later, a byte of the first copy rots: "Check copies" on the card's row finds it,
    // repairs it (from the card, still mounted) and writes the report again with the outcome.
    let html_path = end.report_html.clone().expect("report");
    let rel = std::fs::read_dir(copy.join("CONTENTS").join("VIDEO"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "MXF"))
        .expect("a video MXF in the copy")
        .strip_prefix(&copy)
        .unwrap()
        .to_owned();
    let original = std::fs::read(card.join("CARD_A").join(&rel))
        .or_else(|_| std::fs::read(card.join(&rel)))
        .expect("the card's file");
    let mut rotten = original.clone();
    rotten[original.len() / 2] ^= 0x5a;
    std::fs::write(copy.join(&rel), &rotten).unwrap();
    g.harness.state_mut().view_mut().show_settings = false;
    g.harness.run_ok();
    g.harness.get_by_label("Check copies CARD_A").click();
    pump_until(&mut g.harness, WAIT, "the copies checked", |h| {
        matches!(h.state().view().checks.get(&html_path), Some(Some(_)))
    });
    let line = g.harness.state().view().checks[&html_path].clone().unwrap();
    let line = line.expect("check copies ran");
    assert!(
        line.contains("1 repaired, 0 could not be repaired"),
        "{line}"
    );
    assert_eq!(
        std::fs::read(copy.join(&rel)).unwrap(),
        original,
        "repaired byte for byte"
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("Check copies"), "the report's new section");
    assert!(
        html.contains(&rel.file_name().unwrap().to_string_lossy().to_string()),
        "the report names the repaired file"
    );
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        }
        out.push(p);
    }
}

/// An audio-only card and a run without proxies end at 100 % and "N of N" in the window, and
/// complete in the CLI: a clip is done whichever steps it skipped.
#[test]
fn faces_audio_only_and_no_proxy_runs_end_at_100_percent() {
    let (_work, audio) = card_of(SampleKind::Bwf);
    let mut g = window_on_sandbox(Settings::default(), &audio);
    let n = g.harness.state().view().card.selected_count();
    assert!(n >= 1);
    let q = ingest_with_enter(&mut g);
    assert_eq!(q.failed_count(), 0, "{q:#?}");
    assert_eq!(q.overall(), 1.0, "{q:#?}");
    let figures = q.card_figures();
    assert_eq!(figures.len(), 1);
    assert_eq!(figures[0].clips_done, n, "{:?}", figures[0]);
    assert_eq!(figures[0].clips_total, n);
    assert!(q.cards[0].all_complete);

    let (_work2, p2) = card_of(SampleKind::P2Span);
    let settings = Settings {
        proxy: ProxyChoice::None,
        ..Settings::default()
    };
    let mut g = window_on_sandbox(settings, &p2);
    let n = g.harness.state().view().card.selected_count();
    let q = ingest_with_enter(&mut g);
    assert_eq!(q.overall(), 1.0, "{q:#?}");
    assert_eq!(q.card_figures()[0].clips_done, n);
    let window_states = states(&q.cards[0].clips);

    let out = tempdir();
    let cli = cli_ingest(
        &p2,
        &canonical(out.path()).join("journal"),
        &["--proxy", "none"],
    );
    assert_eq!(cli.code, Some(0), "{}", cli.stderr);
    assert_eq!(cli.clips, window_states);
    assert!(cli.clips.values().all(|s| *s == ClipStatus::Complete));
}

/// A clip with an empty member file is held back before any call in both faces: not ticked in
/// the window, refused by the CLI without `--include-damaged`; no request names it, the other
/// clip is registered, and the verdict and the report say which clip and why.
#[test]
fn faces_a_clip_with_an_empty_member_is_blocked_before_any_call() {
    let (_work, card) = card_of(SampleKind::P2Span);
    let member = card.join("CARD_A/CONTENTS/AUDIO/0002EM00.MXF");
    std::fs::write(&member, b"").expect("empty the member");
    let mut g = window_on_sandbox(Settings::default(), &card);
    let vm = g.harness.state().view();
    let row = vm
        .card
        .clips
        .iter()
        .find(|c| c.scanned.clip.name == "0002EM")
        .expect("0002EM");
    assert!(!row.selected, "a damaged clip is not ticked");
    assert!(
        g.harness
            .query_by_label(card_ingest::ui::cards::DAMAGED_LABEL)
            .is_some()
    );
    let q = ingest_with_enter(&mut g);
    let sandbox = g.harness.state().sandbox().expect("sandbox");
    // The preview's look-ups (GET) may name it; nothing is created or changed for it.
    let writes: Vec<String> = sandbox
        .requests()
        .iter()
        .filter(|r| r["method"] != "GET")
        .map(|r| r.to_string())
        .collect();
    assert!(!writes.is_empty(), "the healthy clip was registered");
    assert!(
        !writes.iter().any(|c| c.contains("0002EM")),
        "a call that creates or changes something names the damaged clip"
    );
    let assets = sandbox.state()["assets"].as_array().expect("assets").len();
    assert_eq!(assets, 1, "only the healthy clip is registered");
    let end = &q.cards[0];
    let window_states = states(&end.clips);
    assert_eq!(window_states["0002EM"], ClipStatus::Blocked);
    assert_eq!(window_states["0003AB"], ClipStatus::Complete);
    let verdict = end.verdict.as_ref().expect("verdict");
    assert!(!verdict.safe_to_erase);
    assert!(
        verdict.evidence[0]
            .text
            .contains("0002EM (blocked: 0002EM00.MXF: file is empty"),
        "{:?}",
        verdict.evidence[0]
    );

    let out = tempdir();
    let cli = cli_ingest(&card, &canonical(out.path()).join("journal"), &[]);
    assert_eq!(cli.code, Some(1), "{}", cli.stderr);
    assert_eq!(cli.clips, window_states);
    assert!(!cli.safe);
}
