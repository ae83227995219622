//! sandbox: not built yet.
