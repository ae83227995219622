//! Integration tests, gathered into one binary so the crate links once.
mod burn_in;
mod camera_proxy;
mod card_sweep;
mod client;
mod edit_proxy;
mod encoder;
mod faces;
mod frame_time;
mod gui;
mod gui_desk;
#[cfg(feature = "os-keyring-tests")]
mod gui_keyring;
mod ingest;
mod jobs_page;
mod layout;
mod look;
mod look_rules;
mod media;
#[cfg(feature = "os-keyring-tests")]
mod notify_dbus;
mod offload_cli;
mod offload_lane;
mod outage;
mod pause;
mod pipeline;
mod preset;
mod production;
mod proxy;
mod sample_cards;
mod sandbox;
mod scan;
mod secrets;
mod seed_tree;
mod tenant;
mod transcript;
mod util;
mod web_view;
