//! Pure parsers for camera sidecar files: P2 clip XML ([`p2`]), Sony NonRealTimeMeta
//! ([`sony_nrt`]), Canon XF clip XML ([`canon`]) and BWF bext/iXML chunks ([`bwf`]).
//! No process spawning and no filesystem walking; callers hand in text, bytes or a reader.
//! Elements are matched by local name so any namespace version is accepted.

pub mod bwf;
pub mod canon;
pub mod p2;
pub mod sony_nrt;

use roxmltree::Node;

/// Parsed sidecar of any kind, for callers that dispatch on content.
#[derive(Debug, Clone, PartialEq)]
pub enum Sidecar {
    // Boxed: the records differ a lot in size and are moved around in Vecs.
    P2(Box<p2::P2Clip>),
    SonyNrt(Box<sony_nrt::NrtMeta>),
    Canon(Box<canon::CanonClip>),
    Bwf(Box<bwf::BwfInfo>),
}

/// Which XML sidecar a document is, from its root element's local name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlKind {
    P2,
    SonyNrt,
    Other,
}

/// Sniffs the root element without a full parse (cheap enough for every `.XML` of a clip).
pub fn xml_kind(text: &str) -> XmlKind {
    let head: String = text.chars().take(4096).collect();
    if head.contains("<P2Main") {
        XmlKind::P2
    } else if head.contains("NonRealTimeMeta") {
        XmlKind::SonyNrt
    } else {
        XmlKind::Other
    }
}

/// First child element with local name `name`.
pub(crate) fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|n| n.is_element() && n.tag_name().name() == name)
}

/// Trimmed non-empty text of the element at `path` below `node`.
pub(crate) fn text_at(node: Node<'_, '_>, path: &[&str]) -> Option<String> {
    let mut cur = node;
    for name in path {
        cur = child(cur, name)?;
    }
    cur.text()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// First descendant element (any depth) with local name `name`.
pub(crate) fn descendant<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.descendants()
        .find(|n| n.is_element() && n.tag_name().name() == name)
}

/// Strips a UTF-8 BOM and trailing NULs (iXML chunks are often NUL-padded).
pub(crate) fn clean_xml(text: &str) -> &str {
    text.trim_start_matches('\u{feff}')
        .trim_end_matches('\0')
        .trim()
}
