//! Integration tests, one binary.
mod sample_cards;
mod scan;
mod util;
