//! iconik: not built yet.
