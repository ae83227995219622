//! card-ingest: registers camera-card clips in iconik as complete multi-file assets.
//!
//! Module map (arrows = "may depend on"):
//! - [`card`]: finds cards in dropped folders and groups their files into clips, one detector per
//!   camera family. Touches only the filesystem; may use the pure sidecar parsers in
//!   [`media::sidecar`] for clip identity and span relations.
//! - [`media`]: technical metadata (MediaInfo, ffprobe fallback), sidecar parsers, normalisation.
//! - [`scan`]: composes `card` + `media` into the `scan` report.
//! - [`sample`]: synthesises structurally real camera cards with ffmpeg (tests, demo, first run).
//! - [`iconik`]: typed async iconik client and the GCS resumable uploader.
//! - [`sandbox`]: a local iconik-compatible server with fault injection.
//! - [`checksum`]: one-pass xxh64/md5/C4 file hashing (and hashing copy) with progress + cancel.
//! - [`mhl`]: ASC MHL v2.0 generations and chain (write, read back, verify the chain).
//! - [`offload`]: verified card copy to the storage mount, with a transfer MHL generation; later
//!   tiers filled from that copy ([`offload::OffloadRequest::cascade_request`]), writer slots and
//!   queued bytes per drive ([`offload::drives`]), and "Check copies" ([`offload::recheck`]).
//! - [`ingest`]: the ingest engine (per card, crash-safe [`ingest::journal`]) and the one
//!   [`ingest::session`] both faces run: the queue of cards, the verdict over every clip of a
//!   card ([`ingest::selection`], [`ingest::erase`]), the HTML/CSV/PDF report, notifications
//!   and webhook, the transcript; also the preview's "already in iconik" look-up
//!   ([`ingest::lookup`]) and the discovery of unfinished journals ([`ingest::resume`]).
//! - [`settings`]: the operator's saved settings (config folder) and their one mapping to the
//!   engine's options ([`settings::Settings::ingest_options`]); the CLI maps its flags alike.
//! - [`preset`]: named presets (the run fields of [`settings::Settings`] as JSON files in the
//!   config folder; export, import, `--preset NAME`).
//! - [`opener`]: opens reports and links with the system's viewer.
//! - [`instance`]: one window per user: a second `card-ingest PATH` hands PATH to it.
//! - [`volumes`]: newly mounted volumes that hold a camera card (cards that start themselves).
//! - [`log_capture`]: `tracing` events kept for the window's log panel.
//! - [`atomic_write`]: temp + fsync + rename file replacement used by `mhl` and the journal.
//! - [`pause`]: the operator's pause switch, honoured by the ingest's lanes and the uploads.
//! - [`secrets`]: iconik App-ID + token per server in the OS keyring (or env vars / this run only).
//! - [`eject`]: finds a card's removable mount and builds/runs the OS eject commands.
//! - [`ui`]: the operator's eframe/egui window: renders the view model and sends commands; all
//!   its I/O runs on a background worker, its ingest is an [`ingest::session`].
//!
//! Direction: `scan → {card, media}`, `card → media::sidecar`, `sandbox` is independent of
//! `iconik` (it stores what it receives as JSON, validated against iconik's OpenAPI files).
//! `offload → {checksum, mhl}`, `mhl → checksum`; none of these know about the UI or iconik.
//! `ui → {ingest::session, settings, scan, media, iconik, sandbox, sample, secrets}`; nothing
//! depends on `ui`, and the CLI (the binary's `cli` module) reaches it only through its `gui`
//! subcommand. Both faces build a session's options and render its events.

pub mod atomic_write;
pub mod canonical;
pub mod card;
pub mod checksum;
pub mod eject;
pub mod http;
pub mod iconik;
pub mod ingest;
pub mod instance;
pub mod log_capture;
pub mod media;
pub mod mhl;
pub mod notify;
pub mod offload;
pub mod opener;
pub mod pause;
pub mod preset;
pub mod sample;
pub mod sandbox;
pub mod scan;
pub mod secrets;
pub mod settings;
pub mod ui;
pub mod volumes;

/// The independent test peers (`.ci/setup` installs them under `target/`): the variable's path
/// when set, else where `.ci/setup` puts it; a test that needs one fails loudly when neither is
/// there.
#[cfg(test)]
pub(crate) fn test_peer(var: &str, installed: &str) -> std::path::PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return p.into();
    }
    let default = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(installed);
    assert!(
        default.exists(),
        "{var} is not set and {} does not exist: run `bash .ci/setup` (it installs the test \
         peers there) or set {var}",
        default.display()
    );
    default
}
