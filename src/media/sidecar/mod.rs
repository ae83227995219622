//! Pure parsers for camera sidecar files: P2 clip XML ([`p2`]), Sony NonRealTimeMeta
//! ([`sony_nrt`]), Canon XF clip XML ([`canon`]) and BWF bext/iXML chunks ([`bwf`]).
//! No process spawning and no filesystem walking; callers hand in text, bytes or a reader.
//! Elements are matched by local name so any namespace version is accepted.

pub mod ale;
pub mod bwf;
pub mod canon;
pub mod dji_srt;
pub mod gopro_hmmt;
pub mod mediapro;
pub mod p2;
pub mod raw_looks;
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
    /// The card's `MEDIAPRO.XML`, read for a Sony clip (camera model when no clip XML says it).
    SonyMediapro(Box<mediapro::MediaProfile>),
    /// The clip's row of an ALE beside it (column, value), `Name` included.
    AleRow(Vec<(String, String)>),
    /// RED `.RMD` or Blackmagic `.sidecar` look facts.
    RawLook(Box<raw_looks::RawLook>),
}

/// Which XML sidecar a document is, from its root element's local name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlKind {
    P2,
    SonyNrt,
    Other,
}

/// Sniffs the root element's local name without a full parse (cheap enough for every `.XML`
/// of a clip). Looks at the root element only: Sony's MEDIAPRO.XML mentions NRT files in its
/// body but is not one.
pub fn xml_kind(text: &str) -> XmlKind {
    match root_name(text) {
        Some("P2Main") => XmlKind::P2,
        Some("NonRealTimeMeta") => XmlKind::SonyNrt,
        _ => XmlKind::Other,
    }
}

/// Local name of the first element, skipping the declaration, comments and doctype.
fn root_name(text: &str) -> Option<&str> {
    let mut rest = text.trim_start_matches('\u{feff}');
    loop {
        let start = rest.find('<')?;
        rest = &rest[start + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            // `<?xml …?>`, `<!-- … -->`, `<!DOCTYPE …>`
            let end = if rest.starts_with("!--") {
                rest.find("-->")? + 3
            } else {
                rest.find('>')? + 1
            };
            rest = &rest[end..];
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = &rest[..end];
        return Some(name.rsplit(':').next().unwrap_or(name));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_root_element_only() {
        let p2 =
            "\u{feff}<?xml version=\"1.0\"?>\n<!-- made by camera -->\n<P2Main xmlns=\"urn:x\">";
        assert_eq!(xml_kind(p2), XmlKind::P2);
        assert_eq!(
            xml_kind("<nrt:NonRealTimeMeta xmlns:nrt=\"urn:y\"/>"),
            XmlKind::SonyNrt
        );
        let mediapro = "<?xml version=\"1.0\"?><MediaProfile><Material><RelevantInfo type=\"NonRealTimeMeta\"/></Material></MediaProfile>";
        assert_eq!(xml_kind(mediapro), XmlKind::Other);
        assert_eq!(xml_kind(""), XmlKind::Other);
    }
}
