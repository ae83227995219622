//! Integration tests, gathered into one binary so the crate links once.
mod client;
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
