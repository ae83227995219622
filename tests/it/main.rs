//! Integration tests, one binary.

mod client;
mod sandbox;
