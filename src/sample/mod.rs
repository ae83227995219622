//! sample: not built yet.
