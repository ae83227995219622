//! The operator's window (eframe/egui): connect to iconik (or the built-in sandbox), drop a card,
//! preview and edit its clips, ingest.
//!
//! Layout (one job per file): [`app`] composes the panels — the settings side sheet
//! ([`settings`], its preset row in [`presets`]), the card list ([`sources`]), the clip table ([`cards`]), [`clip_edit`],
//! [`queue`] (its "how long" figures from [`progress`] on the [`clock`]), [`log`] (fed by
//! [`crate::log_capture`]) and the shortcut overlay ([`help`], whose one table the keys are read
//! from), with the fonts of [`fonts`] — which render the [`state`] view
//! model and return [`command::UiCommand`]s applied at the end of the frame. [`plan`] turns the
//! sheet and the edits into an [`crate::ingest::session`] request (the settings' part is
//! [`crate::settings::Settings::ingest_options`]); the session's events fold into the queue.
//! All I/O — keyring, settings file, scans, poster grabs, iconik calls (the "already in iconik"
//! check is [`crate::ingest::lookup`]), the session, the sandbox, the folder picker, opening
//! reports and links ([`crate::opener`]), "Check copies" — runs in [`background`] on
//! a tokio runtime beside eframe; results come back over a channel drained once per frame, and
//! jobs wake the UI with `request_repaint` (reactive repaint only: an idle window draws nothing).
//! Folders handed over by a second `card-ingest PATH` ([`crate::instance`]) and cards on newly
//! mounted volumes ([`crate::volumes`]) arrive the same way, from threads of their own.
//!
//! Direction: `ui → {ingest::session, settings, preset, scan, media, iconik, sandbox, sample,
//! secrets, instance, volumes}`; nothing depends on `ui`.

pub mod app;
pub mod background;
pub mod cards;
pub mod clip_edit;
pub mod clock;
pub mod command;
pub mod dialogs;
pub mod fonts;
pub mod help;
pub mod log;
pub mod plan;
pub mod presets;
pub mod progress;
pub mod queue;
pub mod settings;
pub mod sources;
pub mod state;
pub mod title;

pub use app::{App, Arrivals, Startup};

/// Opens the window and runs until it is closed. `rt` runs the background jobs.
///
/// Renders with glow and uses X11 on Linux even under Wayland (XWayland): winit has no file
/// drag-and-drop on Wayland (rust-stack.md §9).
pub fn run(startup: Startup, rt: tokio::runtime::Handle) -> Result<(), eframe::Error> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("card-ingest")
            .with_app_id("card-ingest")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([720.0, 480.0])
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Glow,
        event_loop_builder: Some(Box::new(force_x11)),
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "card-ingest",
        options,
        Box::new(move |_cc| Ok(Box::new(App::new(startup, rt)))),
    )
}

#[cfg(all(unix, not(target_os = "macos"), not(target_os = "ios")))]
fn force_x11(builder: &mut eframe::EventLoopBuilder<eframe::UserEvent>) {
    use winit::platform::x11::EventLoopBuilderExtX11;
    builder.with_x11();
}

#[cfg(not(all(unix, not(target_os = "macos"), not(target_os = "ios"))))]
fn force_x11(_builder: &mut eframe::EventLoopBuilder<eframe::UserEvent>) {}
