//! The asset title preview: the settings' title template applied to a clip, with the operator's
//! field edits taken into account. Placeholders are the ingest engine's: `{user_clip_name}`
//! (falls back to the clip name), `{name}`, `{card}` (card folder name), `{date}` (shoot date,
//! YYYY-MM-DD), `{family}`, and the naming placeholders `{camera}`, `{reel}`, `{shoot_date}`,
//! `{card_serial}`, `{project}`, `{preset}` (with their fallbacks, e.g. `unknown-camera`).

use super::state::{ClipEdit, MetaField};
use crate::scan::ScannedClip;

/// The settings' title template filled for `clip`; an empty result falls back to the clip name.
pub fn render(
    settings: &crate::settings::Settings,
    clip: &ScannedClip,
    edit: Option<&ClipEdit>,
) -> String {
    let template = &settings.title_template;
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
    // The naming placeholders from the values as edited, like {date} above.
    let text = |f: MetaField| Some(field(f)).filter(|v| !v.trim().is_empty());
    let m = crate::media::ClipMetadata {
        camera_model: text(MetaField::CameraModel),
        tape: text(MetaField::Tape),
        shoot_date: text(MetaField::ShootDate),
        camera_serial: text(MetaField::CameraSerial),
        project: text(MetaField::Project),
        ..Default::default()
    };
    let names = crate::ingest::options::name_values(
        [&m],
        Some(settings.project.as_str()),
        Some(settings.preset.as_str()),
    );
    let out = names.fill(&out);
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

    fn t(template: &str) -> crate::settings::Settings {
        crate::settings::Settings {
            title_template: template.into(),
            ..Default::default()
        }
    }

    #[test]
    fn placeholders_and_fallbacks() {
        let c = clip(None);
        assert_eq!(render(&t("{user_clip_name}"), &c, None), "0002EM");
        assert_eq!(
            render(&t("{card} {name} {date} {family}"), &c, None),
            "CARD_A 0002EM 2024-05-14 p2"
        );
        assert_eq!(render(&t("  "), &c, None), "0002EM");
        let c = clip(Some("Interview"));
        assert_eq!(render(&t("{user_clip_name}"), &c, None), "Interview");
        let mut edit = ClipEdit::default();
        edit.fields
            .insert(MetaField::UserClipName, "Interview take 2".into());
        edit.fields
            .insert(MetaField::ShootDate, "2025-01-02".into());
        assert_eq!(
            render(&t("{user_clip_name} {date}"), &c, Some(&edit)),
            "Interview take 2 2025-01-02"
        );
    }

    /// The naming placeholders in the title column: scanned values, edits, the settings'
    /// project and preset, and the fallbacks.
    #[test]
    fn naming_placeholders_preview_in_the_title() {
        let mut c = clip(None);
        c.metadata.camera_model = Some("AG-CX350".into());
        c.metadata.tape = Some("A007".into());
        c.metadata.camera_serial = Some("D9TV0001".into());
        let settings = crate::settings::Settings {
            title_template: "{camera} {reel} {shoot_date} {card_serial} {project} {preset}".into(),
            project: "Nordlicht".into(),
            preset: "Day 2".into(),
            ..Default::default()
        };
        assert_eq!(
            render(&settings, &c, None),
            "AG-CX350 A007 2024-05-14 D9TV0001 Nordlicht Day 2"
        );
        let mut edit = ClipEdit::default();
        edit.fields.insert(MetaField::Tape, "B001".into());
        edit.fields.insert(MetaField::Project, "Edited".into());
        assert_eq!(
            render(&settings, &c, Some(&edit)),
            "AG-CX350 B001 2024-05-14 D9TV0001 Edited Day 2"
        );
        let bare = clip(None);
        let plain = crate::settings::Settings {
            title_template: "{name} {camera} {reel} {card_serial} {project} {preset}".into(),
            ..Default::default()
        };
        assert_eq!(
            render(&plain, &bare, None),
            "0002EM unknown-camera unknown-reel unknown-serial no-project no-preset"
        );
    }
}
