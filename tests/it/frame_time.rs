//! Frame-time measurement of the preview with many clips (issue 5: "frame time under 16 ms with
//! 1 000 clips listed"), shared by the `gui_preview_with_1000_clips_frame_time` test (debug
//! build) and `examples/frame_time.rs` (`cargo run --release --example frame_time`), which
//! includes this file by path. Self-contained: no other test module is used here.
//!
//! Two figures per clip count: the app's own `App::ui` inside a bare `egui::Context::run_ui`
//! (what a real window pays before painting), and egui_kittest's `Harness::step`, which adds
//! AccessKit tree building that a real window without a screen reader does not do.

#![allow(dead_code)]

use card_ingest::card::{Clip, ClipFile, Family, FileRole};
use card_ingest::ingest::Step;
use card_ingest::media::ClipMetadata;
use card_ingest::scan::ScannedClip;
use card_ingest::secrets::{EnvStore, SecretsError};
use card_ingest::settings::{AppDirs, Settings};
use card_ingest::ui::queue::QueueEvent;
use card_ingest::ui::state::{ClipRow, PosterState};
use card_ingest::ui::{App, Startup};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Window size of every measurement (a 1400×900 window shows ~11 rows of 60 px).
pub const WINDOW: egui::Vec2 = egui::vec2(1400.0, 900.0);

/// A plausible XAVC S clip (one 4K file) named `C{i:04}`; its poster is already settled.
pub fn synthetic_clip(i: usize) -> ClipRow {
    let name = format!("C{i:04}");
    ClipRow {
        scanned: ScannedClip {
            clip: Clip {
                id: format!("synthetic-{i}"),
                name: name.clone(),
                family: Family::XavcS,
                card_root: PathBuf::from("/cards/SYNTH"),
                files: vec![ClipFile {
                    path: PathBuf::from(format!("/cards/SYNTH/M4ROOT/CLIP/{name}.MP4")),
                    role: FileRole::Video,
                    size: 1_000_000 + i as u64,
                }],
                segments: vec![vec![0]],
                incomplete: None,
                warnings: Vec::new(),
                derived_from: None,
            },
            metadata: ClipMetadata {
                duration_seconds: Some(12.5),
                frame_rate: Some("30000/1001".into()),
                width: Some(3840),
                height: Some(2160),
                video_codec: Some("h264".into()),
                audio_channels: Some(2),
                timecode_start: Some("01:00:00;00".into()),
                ..ClipMetadata::default()
            },
            raw_metadata: serde_json::Value::Null,
            camera_proxy: None,
            description: None,
            pending: None,
        },
        selected: true,
        expanded: false,
        poster: PosterState::Failed("synthetic clip".into()),
    }
}

/// An app with no card, no keyring and settings in a temp dir (the runtime and dir must
/// outlive it).
pub fn bare_app(rt: &tokio::runtime::Runtime, dir: &std::path::Path) -> App {
    let startup = Startup {
        settings: Settings::default(),
        dirs: AppDirs::under(dir),
        paths: Vec::new(),
        keyring: Box::new(|| {
            Err(SecretsError::KeyringUnavailable {
                detail: "frame-time measurement: no keyring".into(),
            })
        }),
        env: EnvStore::from_vars(None, None),
        spec_dir: None,
        notices: Vec::new(),
        log: None,
        arrivals: None,
        mounts: None,
    };
    App::new(startup, rt.handle().clone())
}

/// Loads `n` synthetic clips into the app (as a finished scan would).
pub fn load_clips(app: &mut App, n: usize) {
    app.view_mut().card.clips = (0..n).map(synthetic_clip).collect();
}

/// The median of `frames` timed runs of `frame` (the median, not the mean: this machine's
/// cores are shared, and a frame preempted by another process says nothing about the app).
pub fn median_frame(frames: u32, mut frame: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..frames.max(1))
        .map(|_| {
            let started = Instant::now();
            frame();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// Median time per frame of `App::ui` in a bare `egui::Context` (no AccessKit), and of the
/// same plus tessellation (what a real window does before handing meshes to the GPU), after
/// warm-up frames that settle layout (auto-sized columns take a frame or two).
pub fn ui_frame_time(app: &mut App, ctx: &egui::Context, frames: u32) -> (Duration, Duration) {
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, WINDOW)),
        ..egui::RawInput::default()
    };
    for _ in 0..5 {
        let out = ctx.run_ui(input(), |ui| app.ui(ui));
        // Texture deltas are for a painter; there is none here.
        out.drop_without_applying_deltas();
    }
    let ui = median_frame(frames, || {
        ctx.run_ui(input(), |ui| app.ui(ui))
            .drop_without_applying_deltas();
    });
    let tessellated = median_frame(frames, || {
        let mut out = ctx.run_ui(input(), |ui| app.ui(ui));
        let shapes = std::mem::take(&mut out.shapes);
        std::hint::black_box(ctx.tessellate(shapes, out.pixels_per_point));
        out.drop_without_applying_deltas();
    });
    (ui, tessellated)
}

/// Figures for one clip count.
#[derive(Debug, Clone, Copy)]
pub struct FrameTimes {
    pub clips: usize,
    /// `App::ui` alone.
    pub ui: Duration,
    /// `App::ui` plus tessellation.
    pub ui_tessellated: Duration,
    /// `Harness::step` (ui + AccessKit + kittest bookkeeping).
    pub harness_step: Duration,
}

/// What [`measure`] leaves behind: the figures, and the harness showing 1 000 clips (for
/// assertions on what it laid out) with the temp dir its app keeps settings in.
pub struct Measured {
    pub times: Vec<FrameTimes>,
    pub harness: egui_kittest::Harness<'static, App>,
    _dirs: [tempfile::TempDir; 2],
}

/// Measures 0, 20 and 1 000 clips, all three ways, `frames` frames each (medians).
pub fn measure(rt: &tokio::runtime::Runtime, frames: u32) -> Measured {
    let tempdir = || tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let dirs = [tempdir(), tempdir()];
    let ctx = egui::Context::default();
    let mut bare = bare_app(rt, dirs[0].path());
    let mut harness = egui_kittest::Harness::builder()
        .with_size(WINDOW)
        .build_ui_state(|ui, app: &mut App| app.ui(ui), bare_app(rt, dirs[1].path()));
    harness.run_ok();
    let mut times = Vec::new();
    for n in [0, 20, 1000] {
        load_clips(&mut bare, n);
        let (ui, ui_tessellated) = ui_frame_time(&mut bare, &ctx, frames);
        load_clips(harness.state_mut(), n);
        harness.run_ok();
        let harness_step = median_frame(frames, || harness.step());
        times.push(FrameTimes {
            clips: n,
            ui,
            ui_tessellated,
            harness_step,
        });
    }
    Measured {
        times,
        harness,
        _dirs: dirs,
    }
}

/// One line per clip count, for the test output and the notes.
pub fn report(times: &[FrameTimes], profile: &str) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    times
        .iter()
        .map(|t| {
            format!(
                "{profile}: {:>4} clips: App::ui {:>8.3} ms, +tessellate {:>8.3} ms, \
                 harness.step {:>8.3} ms",
                t.clips,
                ms(t.ui),
                ms(t.ui_tessellated),
                ms(t.harness_step)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Loads `n` synthetic clips and an ingest of all of them under way, as the queue stands a
/// while into a run (issue 21: "a window frame with 2 000 clips loaded and a run in
/// progress"): the first 40 % done, the next four at work (one uploading), the rest waiting.
/// The events go through [`card_ingest::ui::queue::QueueView::apply`], as the app folds the
/// engine's.
pub fn start_run(app: &mut App, n: usize) {
    load_clips(app, n);
    let queue = &mut app.view_mut().queue;
    queue.apply(QueueEvent::Started {
        clips: (0..n)
            .map(|i| (format!("synthetic-{i}"), format!("C{i:04}")))
            .collect(),
    });
    queue.apply(QueueEvent::ClipSizes(
        (0..n)
            .map(|i| {
                (
                    format!("synthetic-{i}"),
                    PathBuf::from("/cards/SYNTH"),
                    1_000_000 + i as u64,
                )
            })
            .collect(),
    ));
    let done = n * 4 / 10;
    for i in 0..done {
        for step in Step::ALL {
            queue.apply(QueueEvent::StepDone {
                clip_id: format!("synthetic-{i}"),
                step,
            });
        }
    }
    for (k, i) in (done..(done + 4).min(n)).enumerate() {
        let clip_id = format!("synthetic-{i}");
        for step in Step::ALL.into_iter().take(2 + k) {
            queue.apply(QueueEvent::StepDone {
                clip_id: clip_id.clone(),
                step,
            });
        }
        queue.apply(QueueEvent::StepStarted {
            clip_id,
            step: Step::ALL[2 + k],
        });
    }
}

/// Median `App::ui` and `App::ui` + tessellation per frame with `n` clips and a run in
/// progress ([`start_run`]); each frame first folds one upload progress event, as a running
/// ingest sends several a second.
pub fn running_frame_time(
    rt: &tokio::runtime::Runtime,
    frames: u32,
    n: usize,
) -> (Duration, Duration) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let ctx = egui::Context::default();
    let mut app = bare_app(rt, dir.path());
    start_run(&mut app, n);
    let uploading = format!("synthetic-{}", n * 4 / 10);
    let mut sent = 0u64;
    let mut progress = move |app: &mut App| {
        sent += 64 * 1024;
        app.view_mut().queue.apply(QueueEvent::Progress {
            clip_id: uploading.clone(),
            step: Step::UploadProxy,
            done_bytes: sent % 1_000_000,
            total_bytes: 1_000_000,
            eta_secs: Some(3.0),
        });
    };
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, WINDOW)),
        ..egui::RawInput::default()
    };
    for _ in 0..5 {
        ctx.run_ui(input(), |ui| app.ui(ui))
            .drop_without_applying_deltas();
    }
    let ui = median_frame(frames, || {
        progress(&mut app);
        ctx.run_ui(input(), |ui| app.ui(ui))
            .drop_without_applying_deltas();
    });
    let tessellated = median_frame(frames, || {
        progress(&mut app);
        let mut out = ctx.run_ui(input(), |ui| app.ui(ui));
        let shapes = std::mem::take(&mut out.shapes);
        std::hint::black_box(ctx.tessellate(shapes, out.pixels_per_point));
        out.drop_without_applying_deltas();
    });
    (ui, tessellated)
}
