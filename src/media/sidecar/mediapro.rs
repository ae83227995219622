//! Sony `MEDIAPRO.XML` (MediaProfile, `http://xmlns.sony.net/pro/metadata/mediaprofile`, any
//! version; camera-cards.md §3.2, §10): the card's inventory. `Properties/System@systemKind`
//! is the camera model; each `Contents/Material` (`uri`, `umid`, `fps`, `dur`, `videoType`)
//! is one clip, joined to its clip XML by `umid` = NRT `TargetMaterial@umidRef`. A card may
//! carry a MEDIAPRO without the clip XMLs: then this is the only identity source.

use super::{clean_xml, descendant};

#[derive(Debug, thiserror::Error)]
pub enum MediaproError {
    #[error("MEDIAPRO.XML is not well-formed ({0}): re-copy the card")]
    Xml(#[from] roxmltree::Error),
    #[error("not a Sony MEDIAPRO.XML: root element is <{0}>")]
    WrongRoot(String),
}

/// One `Material` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Material {
    /// `./CLIP/C0073.MP4`, as written.
    pub uri: String,
    /// Upper-case file stem of `uri`: `C0073`.
    pub stem: String,
    /// Lower-case name of the folder holding it (`clip`, `sub`).
    pub folder: String,
    pub umid: Option<String>,
    pub fps: Option<String>,
    pub dur: Option<u64>,
    pub video_type: Option<String>,
}

/// The parsed inventory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaProfile {
    /// `Properties/System@systemKind`, e.g. `ILCE-7SM3`.
    pub system_kind: Option<String>,
    pub materials: Vec<Material>,
}

impl MediaProfile {
    /// The entries of clip essence (`Material` in a `Clip`/`CLIP` folder; proxies under
    /// `Sub/` have their own UMID and are not clips).
    pub fn clips(&self) -> impl Iterator<Item = &Material> {
        self.materials.iter().filter(|m| m.folder == "clip")
    }

    /// The clip entry for the clip named `stem` (case-insensitive).
    pub fn clip(&self, stem: &str) -> Option<&Material> {
        self.clips().find(|m| m.stem.eq_ignore_ascii_case(stem))
    }
}

pub fn parse(text: &str) -> Result<MediaProfile, MediaproError> {
    let doc = roxmltree::Document::parse(clean_xml(text))?;
    let root = doc.root_element();
    if root.tag_name().name() != "MediaProfile" {
        return Err(MediaproError::WrongRoot(root.tag_name().name().to_owned()));
    }
    let attr = |n: roxmltree::Node<'_, '_>, a: &str| {
        n.attribute(a)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let system_kind = descendant(root, "System").and_then(|s| attr(s, "systemKind"));
    let materials = root
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "Material")
        .filter_map(|m| {
            let uri = attr(m, "uri")?;
            let parts: Vec<&str> = uri.split(['/', '\\']).collect();
            let file = parts.last().copied().unwrap_or_default();
            let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
            let folder = parts
                .len()
                .checked_sub(2)
                .map(|i| parts[i].to_ascii_lowercase())
                .unwrap_or_default();
            Some(Material {
                stem: stem.to_ascii_uppercase(),
                folder,
                umid: attr(m, "umid"),
                fps: attr(m, "fps"),
                dur: attr(m, "dur").and_then(|d| d.parse().ok()),
                video_type: attr(m, "videoType"),
                uri,
            })
        })
        .collect();
    Ok(MediaProfile {
        system_kind,
        materials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As an ILCE-7SM3 writes it (version 2.30, Proxy and RelevantInfo children).
    pub const A7S3: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<MediaProfile xmlns="http://xmlns.sony.net/pro/metadata/mediaprofile" createdAt="2024-05-14T10:00:00+02:00" version="2.30">
	<Properties>
		<Attached mediaId="00000000-0000-0000-0000-000000000000" mediaKind="ProfessionalDisc" mediaType="Memory Card"/>
		<System systemId="5A8B7C6D" systemKind="ILCE-7SM3" systemVersion="2.00"/>
	</Properties>
	<Contents>
		<Material uri="./CLIP/C0073.MP4" type="MP4" videoType="AVC_3840_2160_HP@L51" audioType="LPCM16" fps="25p" dur="250" ch="2" aspectRatio="16:9" offset="0" umid="060A2B340101010501010D4313000000A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6" status="OK">
			<Proxy uri="./SUB/C0073S03.MP4" type="MP4" videoType="AVC_1280_720_MP@L31" fps="25p" umid="060A2B340101010501010D4313010000A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6"/>
			<RelevantInfo uri="./CLIP/C0073M01.XML" type="XML" status="OK"/>
			<RelevantInfo uri="./THMBNL/C0073T01.JPG" type="JPG" status="OK"/>
		</Material>
	</Contents>
</MediaProfile>"#;

    #[test]
    fn system_kind_and_materials() {
        let p = parse(A7S3).unwrap();
        assert_eq!(p.system_kind.as_deref(), Some("ILCE-7SM3"));
        let c: Vec<&Material> = p.clips().collect();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].stem, "C0073");
        assert_eq!(c[0].uri, "./CLIP/C0073.MP4");
        assert_eq!(c[0].fps.as_deref(), Some("25p"));
        assert_eq!(c[0].dur, Some(250));
        assert!(c[0].umid.as_deref().unwrap().ends_with("C5D6"));
        assert!(p.clip("c0073").is_some());
        assert!(matches!(
            parse("<NonRealTimeMeta/>"),
            Err(MediaproError::WrongRoot(_))
        ));
    }
}
