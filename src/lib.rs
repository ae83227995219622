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
//! - [`offload`]: verified card copy to the storage mount, with a transfer MHL generation.
//! - [`ingest`]: the ingest engine; so far its crash-safe per-card [`ingest::journal`].
//! - [`atomic_write`]: temp + fsync + rename file replacement used by `mhl` and the journal.
//! - [`pause`]: the operator's pause switch, honoured by the ingest's lanes and the uploads.
//! - [`secrets`]: iconik App-ID + token per server in the OS keyring (or env vars / this run only).
//! - [`eject`]: finds a card's removable mount and builds/runs the OS eject commands.
//! - [`ui`]: the operator's eframe/egui window; all its I/O runs on a background worker.
//!
//! Direction: `scan → {card, media}`, `card → media::sidecar`, `sandbox` is independent of
//! `iconik` (it stores what it receives as JSON, validated against iconik's OpenAPI files).
//! `offload → {checksum, mhl}`, `mhl → checksum`; none of these know about the UI or iconik.
//! `ui → {scan, media, iconik, sandbox, sample, secrets}`; nothing depends on `ui`.

pub mod atomic_write;
pub mod canonical;
pub mod card;
pub mod checksum;
pub mod eject;
pub mod http;
pub mod iconik;
pub mod ingest;
pub mod media;
pub mod mhl;
pub mod notify;
pub mod offload;
pub mod pause;
pub mod sample;
pub mod sandbox;
pub mod scan;
pub mod secrets;
pub mod ui;
