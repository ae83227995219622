//! Pictures for the keyframe records the sandbox makes itself. iconik's keyframe job renders a
//! poster and a keyframe map from the proxy; the sandbox records them at once and renders the
//! JPEG the first time someone looks (`/sandbox/keyframes/<id>.jpg`), with the same ffmpeg the
//! app uses, from the uploaded proxy bytes (or, for iconik-transcoded proxies that have no
//! bytes here, from the original file on the storage mount). So the web view's poster and strip
//! show the real picture of what was registered.

use crate::media::poster::{PosterError, frame_jpeg};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(
        "the sandbox needs ffmpeg to render keyframe pictures and did not find it: install ffmpeg"
    )]
    NoFfmpeg,
    #[error(
        "keyframe {0} has nothing to render from: its proxy has no uploaded bytes and its original file is not on the storage mount"
    )]
    NoSource(String),
    #[error("writing the proxy to {path} for ffmpeg: {source}", path = .path.display())]
    Temp {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Render(#[from] PosterError),
}

/// What a keyframe picture is rendered from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The proxy's uploaded bytes (written to a temporary file for ffmpeg).
    Bytes(Vec<u8>),
    /// A file on disk (the original on the storage mount).
    File(PathBuf),
}

/// The ffmpeg filter for a keyframe type: a representative frame for the poster, a strip of
/// frames (two per second of the first few seconds) for the keyframe map.
fn filter(kind: &str) -> &'static str {
    match kind {
        "KEYFRAME_MAP" => "fps=2,scale=160:-2,tile=8x1:padding=2",
        _ => "thumbnail=25,scale=480:-2",
    }
}

/// Renders the JPEG of a `kind` keyframe (`POSTER`, `KEYFRAME_MAP`) from `source`.
pub fn render(ffmpeg: &Path, source: &Source, kind: &str) -> Result<Vec<u8>, ImageError> {
    let (path, temp) = match source {
        Source::File(p) => (p.clone(), false),
        Source::Bytes(bytes) => {
            let p = std::env::temp_dir().join(format!(
                "card-ingest-sandbox-{}-{}.mp4",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ));
            std::fs::write(&p, bytes).map_err(|source| ImageError::Temp {
                path: p.clone(),
                source,
            })?;
            (p, true)
        }
    };
    let out = frame_jpeg(ffmpeg, &path, filter(kind));
    if temp {
        let _ = std::fs::remove_file(&path);
    }
    Ok(out?)
}
