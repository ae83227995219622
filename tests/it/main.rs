//! Integration tests, one binary.
mod media;
mod proxy;
