//! The asset title preview: the settings' title template applied to a clip, with the operator's
//! field edits taken into account. Placeholders are the ingest engine's: `{user_clip_name}`
//! (falls back to the clip name), `{name}`, `{card}` (card folder name), `{date}` (shoot date,
//! YYYY-MM-DD), `{family}`.

use super::state::{ClipEdit, MetaField};
use crate::scan::ScannedClip;

/// `template` filled for `clip`; an empty result falls back to the clip name.
pub fn render(template: &str, clip: &ScannedClip, edit: Option<&ClipEdit>) -> String {
    let field = |f: MetaField| {
        edit.and_then(|e| e.fields.get(&f).cloned())
            .unwrap_or_else(|| f.original(&clip.metadata))
    };
    let user_name = field(MetaField::UserClipName);
    let user_name = if user_name.trim().is_empty() {
        clip.clip.name.clone()
    } else {
        user_name
    };
    let card = clip
        .clip
        .card_root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let date: String = field(MetaField::ShootDate).chars().take(10).collect();
    let out = template
        .replace("{user_clip_name}", &user_name)
        .replace("{name}", &clip.clip.name)
        .replace("{card}", &card)
        .replace("{date}", &date)
        .replace("{family}", clip.clip.family.as_str());
    if out.trim().is_empty() {
        clip.clip.name.clone()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{Clip, Family};
    use crate::media::ClipMetadata;
    use std::path::PathBuf;

    fn clip(user: Option<&str>) -> ScannedClip {
        ScannedClip {
            clip: Clip {
                id: "id-1".into(),
                name: "0002EM".into(),
                family: Family::P2,
                card_root: PathBuf::from("/cards/CARD_A"),
                files: Vec::new(),
                segments: Vec::new(),
                incomplete: None,
                warnings: Vec::new(),
                derived_from: None,
            },
            metadata: ClipMetadata {
                user_clip_name: user.map(str::to_owned),
                shoot_date: Some("2024-05-14T10:11:12+02:00".into()),
                ..ClipMetadata::default()
            },
            raw_metadata: serde_json::Value::Null,
            camera_proxy: None,
            description: None,
            pending: None,
        }
    }

    #[test]
    fn placeholders_and_fallbacks() {
        let c = clip(None);
        assert_eq!(render("{user_clip_name}", &c, None), "0002EM");
        assert_eq!(
            render("{card} {name} {date} {family}", &c, None),
            "CARD_A 0002EM 2024-05-14 p2"
        );
        assert_eq!(render("  ", &c, None), "0002EM");
        let c = clip(Some("Interview"));
        assert_eq!(render("{user_clip_name}", &c, None), "Interview");
        let mut edit = ClipEdit::default();
        edit.fields
            .insert(MetaField::UserClipName, "Interview take 2".into());
        edit.fields
            .insert(MetaField::ShootDate, "2025-01-02".into());
        assert_eq!(
            render("{user_clip_name} {date}", &c, Some(&edit)),
            "Interview take 2 2025-01-02"
        );
    }
}
