//! Sony sidecars needed for identity: NonRealTimeMeta (`…M01.XML`, `TargetMaterial@umidRef`),
//! `MEDIAPRO.XML` inventory (`Material@uri`) and XDCAM EX take SMIL (`TAKR/*.SMI`).

use super::names::{is_zero_id, norm_hex_id, split_ext};
use super::xml;
use crate::media::sidecar::{mediapro, sony_nrt};
use std::path::Path;

/// `TargetMaterial@umidRef` of an NRT sidecar, normalised; `None` when absent, zero or the
/// file is empty/invalid (tolerated: XDCAM EX cards carry empty sidecars). Parsed by
/// metadata's NRT parser ([`sony_nrt::parse`]) so both read the sidecar the same way.
pub fn nrt_umid(path: &Path) -> Option<String> {
    let text = xml::read_text(path).ok()?;
    let umid = sony_nrt::parse(&text).ok()?.umid?;
    let norm = norm_hex_id(&umid);
    (!norm.is_empty() && !is_zero_id(&norm)).then_some(norm)
}

/// Clip entries of `MEDIAPRO.XML`: (uppercase clip name, normalised non-zero `umid`), from
/// `Material@uri` entries in a clip folder (`./Clip/C0001.MXF`, `./CLIP/C0001.MP4`); proxies
/// (`Sub/`) are ignored. Parsed by metadata's MediaProfile parser.
pub fn mediapro_clips(path: &Path) -> Result<Vec<(String, Option<String>)>, xml::XmlError> {
    let text = xml::read_text(path)?;
    // Well-formedness errors are reported with the file named, as for other card XML.
    xml::parse(path, &text)?;
    let profile = mediapro::parse(&text).unwrap_or_default();
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for m in profile.clips() {
        if out.iter().any(|(s, _)| *s == m.stem) {
            continue;
        }
        let umid = m
            .umid
            .as_deref()
            .map(norm_hex_id)
            .filter(|u| !u.is_empty() && !is_zero_id(u));
        out.push((m.stem.clone(), umid));
    }
    Ok(out)
}

/// Uppercase file stems referenced by `src` attributes of a take SMIL, in document order.
/// Element names are unverified (camera-cards.md §3.2/3.3), so any `src` counts.
pub fn smil_sources(path: &Path) -> Option<Vec<String>> {
    let text = xml::read_text(path).ok()?;
    let doc = xml::parse(path, &text).ok()?;
    let mut out = Vec::new();
    for n in doc.descendants().filter(|n| n.is_element()) {
        if let Some(src) = n.attribute("src") {
            let file = src.rsplit(['/', '\\']).next().unwrap_or(src);
            let stem = split_ext(file).0.to_ascii_uppercase();
            if !stem.is_empty() && !out.contains(&stem) {
                out.push(stem);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Essence entries of a take SMIL (`ref src` naming an `.MXF`/`.MP4`, or a
/// `urn:smpte:umid:` reference), as uppercase stems / `URN:SMPTE:UMID:<hex>`, in document
/// order. Metadata refs (`…M01.XML`) are left out: they are not parts of the take.
pub fn smil_essence(path: &Path) -> Option<Vec<String>> {
    let text = xml::read_text(path).ok()?;
    let doc = xml::parse(path, &text).ok()?;
    let mut out = Vec::new();
    for n in doc.descendants().filter(|n| n.is_element()) {
        let Some(src) = n.attribute("src") else {
            continue;
        };
        let entry = if src.to_ascii_lowercase().starts_with("urn:smpte:umid:") {
            src.to_ascii_uppercase()
        } else {
            let file = src.rsplit(['/', '\\']).next().unwrap_or(src);
            let (stem, ext) = split_ext(file);
            if !matches!(ext.to_ascii_lowercase().as_str(), "mxf" | "mp4") {
                continue;
            }
            stem.to_ascii_uppercase()
        };
        if !entry.is_empty() && !out.contains(&entry) {
            out.push(entry);
        }
    }
    (!out.is_empty()).then_some(out)
}
