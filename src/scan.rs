//! The `scan` report: card detection plus metadata for every clip.
