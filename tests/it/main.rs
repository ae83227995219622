//! Integration tests, one binary.
mod media;
