//! Integration tests, gathered into one binary so the crate links once.
mod client;
mod frame_time;
mod gui;
mod ingest;
mod media;
mod proxy;
mod sample_cards;
mod sandbox;
mod scan;
mod secrets;
mod transcript;
mod util;
