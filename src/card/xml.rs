//! Reading sidecars for detection: size-limited, lossy UTF-8, BOM/NUL padding removed, then
//! parsed with roxmltree (MEDIAPRO, SMIL) or handed to `media::sidecar`'s parsers (P2 clip XML,
//! NRT), which hold the field-level parsing.

use crate::media::sidecar::clean_xml;
use std::path::Path;

/// Sidecars bigger than this are not clip XML; don't read them into memory.
const MAX_XML_BYTES: u64 = 8 * 1024 * 1024;

/// Why a sidecar could not be used.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid XML: {message}")]
    Parse {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("{path} is too large to be a sidecar ({size} bytes)")]
    TooLarge { path: std::path::PathBuf, size: u64 },
}

/// Reads a sidecar as text (lossy UTF-8, BOM and trailing NULs removed).
pub fn read_text(path: &Path) -> Result<String, XmlError> {
    let size = std::fs::metadata(path)
        .map_err(|source| XmlError::Read {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if size > MAX_XML_BYTES {
        return Err(XmlError::TooLarge {
            path: path.to_path_buf(),
            size,
        });
    }
    let bytes = std::fs::read(path).map_err(|source| XmlError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(clean_xml(&String::from_utf8_lossy(&bytes)).to_string())
}

/// Parses `text` read from `path`.
pub fn parse<'a>(path: &Path, text: &'a str) -> Result<roxmltree::Document<'a>, XmlError> {
    roxmltree::Document::parse(text).map_err(|e| XmlError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
