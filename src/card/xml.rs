//! Small roxmltree helpers for the sidecars detection needs (identity and spans only; full
//! metadata parsing lives in `media`). Namespaces are ignored: vendors bump versions.

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
    Ok(clean(&String::from_utf8_lossy(&bytes)))
}

/// Strips a BOM and trailing NUL padding (RIFF chunks, some camera writers).
pub fn clean(s: &str) -> String {
    s.trim_start_matches('\u{feff}')
        .trim_end_matches(['\0', ' ', '\n', '\r', '\t'])
        .to_string()
}

/// Parses `text` read from `path`.
pub fn parse<'a>(path: &Path, text: &'a str) -> Result<roxmltree::Document<'a>, XmlError> {
    roxmltree::Document::parse(text).map_err(|e| XmlError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// First element child of `node` with local name `name` (case-sensitive, as the schemas are).
pub fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// Follows `path` of element local names from `node`.
pub fn path<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    path: &[&str],
) -> Option<roxmltree::Node<'a, 'i>> {
    path.iter().try_fold(node, |n, p| child(n, p))
}

/// First descendant element (or `node` itself) with local name `name`.
pub fn desc<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.descendants()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// Trimmed, non-empty text of `node`.
pub fn text(node: Option<roxmltree::Node<'_, '_>>) -> Option<String> {
    let t = node?.text()?.trim();
    (!t.is_empty()).then(|| t.to_string())
}
