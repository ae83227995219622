//! The clip editor: title (from the template unless edited), description, collection and the
//! normalised metadata fields of the focused clip, each with its scanned value and a reset; and
//! the bulk editor that applies ticked fields to every selected clip. Edits live in
//! [`ViewModel::edits`], keyed by clip id.

use super::command::{Commands, UiCommand};
use super::state::{MetaField, ViewModel};

/// Renders the editor of the focused clip and the bulk editor.
pub fn clip_edit_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    egui::ScrollArea::vertical()
        .id_salt("clip_edit_scroll")
        .show(ui, |ui| {
            if vm.focused.is_some() {
                focused_ui(ui, vm, cmds);
            }
            if vm.bulk_open {
                if vm.focused.is_some() {
                    ui.separator();
                }
                bulk_ui(ui, vm, cmds);
            }
        });
}

/// What the settings' look rules give a clip, shown under "By the look rules" before the run:
/// the LUT and the field value the rule matched on (pure, so it runs every frame).
pub(crate) fn rule_preview(
    rules_text: &str,
    meta: &crate::media::ClipMetadata,
    family: crate::card::Family,
) -> String {
    use crate::media::proxy::look_rules;
    match look_rules::parse_rules(rules_text) {
        Err(e) => format!("The look rules have an error: {e}"),
        Ok(rules) if rules.is_empty() => "No look rules set: no look".to_owned(),
        Ok(rules) => match look_rules::matching(&rules, meta, family) {
            Some((rule, value)) => format!(
                "{} (rule {}={} matched {} \"{value}\")",
                rule.lut.display(),
                rule.field,
                rule.value,
                rule.field
            ),
            None => "No look rule matches this clip: no look".to_owned(),
        },
    }
}

/// Whether the camera's own proxy would become the iconik proxy, and if not why, as the
/// ingest decides it (`ingest/steps/encode.rs`): `None` when the setting is off. Pure: the
/// probe ran with the scan.
pub(crate) fn camera_proxy_preview(
    sc: &crate::scan::ScannedClip,
    settings: &crate::settings::Settings,
    clip_look: Option<&crate::media::proxy::look_rules::ClipLook>,
) -> Option<String> {
    use crate::media::proxy::{camera, look_rules, preset};
    if !settings.camera_proxy {
        return None;
    }
    let probed = match &sc.camera_proxy {
        None => return Some("Camera proxy: none on the card, so it is encoded".into()),
        Some(Err(e)) => return Some(format!("Camera proxy not checked ({e}), so it is encoded")),
        Some(Ok(facts)) => facts,
    };
    let rules = look_rules::parse_rules(&settings.look_rules).unwrap_or_default();
    let family = sc.clip.family;
    if look_rules::choose(None, clip_look, &rules, &sc.metadata, family).is_some() {
        return Some("Camera proxy not used: a look needs an encode".into());
    }
    if !settings.burn_in.trim().is_empty() {
        return Some("Camera proxy not used: a burn-in needs an encode".into());
    }
    let chosen = match settings.proxy_preset.trim() {
        "" => preset::family_default(family),
        name => preset::find(name).unwrap_or_else(|_| preset::family_default(family)),
    };
    let needs = camera::Needs {
        duration_seconds: sc.metadata.duration_seconds.filter(|d| *d > 0.0),
        has_audio: sc.metadata.audio_channels.unwrap_or(0) > 0,
        max_height: chosen.max_height,
    };
    Some(match camera::assess(probed, &needs) {
        Ok(camera::Use::AsIs) => "Camera proxy used as it is: no encode".into(),
        Ok(camera::Use::Remux) => "Camera proxy used, remuxed with faststart: no encode".into(),
        Err(why) => format!("Not used, so it is encoded: {why}"),
    })
}

/// The clip's look: by the settings' rules, none, or a LUT file of its own.
fn look_ui(ui: &mut egui::Ui, vm: &mut ViewModel, id: &str, rule_look: &str) {
    use crate::media::proxy::look_rules::ClipLook;
    let current = vm.edits.get(id).and_then(|e| e.look.clone());
    let label = ui.label("Look");
    ui.horizontal(|ui| {
        let shown = match &current {
            None => "By the look rules",
            Some(ClipLook::NoLook) => "No look",
            Some(ClipLook::Lut(_)) => "LUT file",
        };
        let mut choice = current.clone();
        egui::ComboBox::from_id_salt("clip_look")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut choice, None, "By the look rules");
                ui.selectable_value(&mut choice, Some(ClipLook::NoLook), "No look");
                let lut = match &current {
                    Some(ClipLook::Lut(p)) => ClipLook::Lut(p.clone()),
                    _ => ClipLook::Lut(std::path::PathBuf::new()),
                };
                ui.selectable_value(&mut choice, Some(lut), "LUT file");
            })
            .response
            .labelled_by(label.id);
        if let Some(ClipLook::Lut(path)) = &mut choice {
            let mut text = path.display().to_string();
            if ui
                .add(
                    egui::TextEdit::singleline(&mut text)
                        .id_salt("clip_look_file")
                        .hint_text("/luts/look.cube"),
                )
                .labelled_by(label.id)
                .changed()
            {
                *path = std::path::PathBuf::from(text);
            }
        }
        if choice != current {
            vm.edits.entry(id.to_owned()).or_default().look = choice;
        }
    });
    if current.is_none() {
        ui.weak(rule_look);
    }
}

fn focused_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    let Some(id) = vm.focused.clone() else {
        return;
    };
    let Some(row) = vm.card.row(&id).cloned() else {
        ui.label("The clip is no longer loaded.");
        return;
    };
    ui.heading(format!("Clip {}", row.scanned.clip.name));
    let template_title = super::title::render(&vm.settings, &row.scanned, vm.edits.get(&id));
    let mut title = vm.title_of(&row);
    let title_label = ui.label("Title");
    ui.horizontal(|ui| {
        let field = ui
            .add(egui::TextEdit::singleline(&mut title).id_salt("clip_title"))
            .labelled_by(title_label.id);
        // A clip opened from the keyboard (Enter on its name, or the next/previous clip): the
        // cursor goes to its title, not eleven Tabs away.
        if std::mem::take(&mut vm.focus_title) {
            field.request_focus();
        }
        if field.changed() {
            vm.edits.entry(id.clone()).or_default().title = Some(title.clone());
        }
        let edited = vm.edits.get(&id).is_some_and(|e| e.title.is_some());
        if ui
            .add_enabled(edited, egui::Button::new("Reset").small())
            .on_hover_text(format!("Back to the template: {template_title}"))
            .clicked()
            && let Some(e) = vm.edits.get_mut(&id)
        {
            e.title = None;
        }
    });
    let description_label = ui.label("Description");
    let mut description = vm
        .edits
        .get(&id)
        .map(|e| e.description.clone())
        .unwrap_or_default();
    if ui
        .add(
            egui::TextEdit::multiline(&mut description)
                .id_salt("clip_description")
                .desired_rows(2),
        )
        .labelled_by(description_label.id)
        .changed()
    {
        vm.edits.entry(id.clone()).or_default().description = description;
    }
    let collection_label = ui.label("Collection");
    let mut collection = vm
        .edits
        .get(&id)
        .and_then(|e| e.collection.clone())
        .unwrap_or_else(|| vm.settings.default_collection.clone());
    if ui
        .add(egui::TextEdit::singleline(&mut collection).id_salt("clip_collection"))
        .labelled_by(collection_label.id)
        .changed()
    {
        vm.edits.entry(id.clone()).or_default().collection = Some(collection);
    }
    let rule_look = rule_preview(
        &vm.settings.look_rules,
        &row.scanned.metadata,
        row.scanned.clip.family,
    );
    look_ui(ui, vm, &id, &rule_look);
    let clip_look = vm.edits.get(&id).and_then(|e| e.look.as_ref());
    if let Some(verdict) = camera_proxy_preview(&row.scanned, &vm.settings, clip_look) {
        ui.label(verdict);
    }
    ui.add_space(6.0);
    egui::Grid::new("clip_fields")
        .num_columns(4)
        .spacing([6.0, 4.0])
        .show(ui, |ui| {
            for field in MetaField::ALL {
                let original = field.original(&row.scanned.metadata);
                let mut value = vm.field_value(&row, field);
                let label = ui.label(field.label());
                // Sized explicitly: a grid cell only offers last frame's column width, so a
                // text box would never grow past its first (narrow) layout.
                if ui
                    .add_sized(
                        [140.0, 20.0],
                        egui::TextEdit::singleline(&mut value).id_salt(("clip_field", field)),
                    )
                    .labelled_by(label.id)
                    .on_hover_text(scanned_text(&original, field.source(&row.scanned.metadata)))
                    .changed()
                {
                    vm.edits
                        .entry(id.clone())
                        .or_default()
                        .fields
                        .insert(field, value);
                }
                let edited = vm
                    .edits
                    .get(&id)
                    .is_some_and(|e| e.fields.contains_key(&field));
                if ui
                    .add_enabled(edited, egui::Button::new("Reset").small())
                    .on_hover_text(format!("Reset to {}", display_original(&original)))
                    .clicked()
                    && let Some(e) = vm.edits.get_mut(&id)
                {
                    e.fields.remove(&field);
                }
                // Nothing typed is dropped without saying so: where this field is stored.
                let stored = vm.stored_in(field);
                let mark = egui::RichText::new(stored).small();
                if stored == "not stored" {
                    ui.label(mark.color(ui.visuals().warn_fg_color)).on_hover_text(
                        "The chosen metadata view has no such field and the ORIGINAL format does \
                         not carry it: an edit here is not registered",
                    );
                } else {
                    ui.label(mark.weak())
                        .on_hover_text(format!("An edit here is registered in the {stored}"));
                }
                ui.end_row();
            }
        });
    read_only_facts(ui, &row.scanned.metadata);
    if ui
        .add_enabled(
            vm.edits.get(&id).is_some_and(|e| !e.is_empty()),
            egui::Button::new("Reset all edits"),
        )
        .clicked()
    {
        cmds.push(UiCommand::ResetClip(id));
    }
}

/// Facts shown but not edited (recorder-local date, sample position, ALE/RMD/sidecar
/// columns), then where every scanned value came from.
fn read_only_facts(ui: &mut egui::Ui, m: &crate::media::ClipMetadata) {
    let lines = fact_lines(m);
    if lines.is_empty() {
        return;
    }
    egui::CollapsingHeader::new("More facts and where values came from")
        .id_salt("clip_sources")
        .show(ui, |ui| {
            for line in lines {
                ui.label(line);
            }
        });
}

/// The lines of [`read_only_facts`], pure so it is unit-tested.
pub fn fact_lines(m: &crate::media::ClipMetadata) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(d) = &m.shoot_date_local {
        lines.push(format!("Recorded (local time, zone unknown): {d}"));
    }
    if let Some(t) = &m.time_reference {
        lines.push(format!("Start: {t}"));
    }
    // Each camera fact with the sidecar (file and column/element) it was read from.
    for (k, v) in &m.extra {
        match m.sources.get(k) {
            Some(src) => lines.push(format!("{k}: {v} (from {src})")),
            None => lines.push(format!("{k}: {v}")),
        }
    }
    for (field, src) in m.sources.iter().filter(|(f, _)| !m.extra.contains_key(*f)) {
        lines.push(format!("{field} ← {src}"));
    }
    lines
}

/// "Scanned: 12A (from A101_1.WAV iXML SCENE)": the value and the sidecar it was read from.
pub fn scanned_text(original: &str, source: Option<&str>) -> String {
    match source {
        Some(src) => format!("Scanned: {} (from {src})", display_original(original)),
        None => format!("Scanned: {}", display_original(original)),
    }
}

fn display_original(original: &str) -> &str {
    if original.is_empty() {
        "(empty)"
    } else {
        original
    }
}

fn bulk_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    let n = vm.card.selected_count();
    ui.heading(format!("Edit {n} selected clips"));
    if n == 0 {
        ui.label("Tick the clips to edit together.");
    }
    egui::Grid::new("bulk_fields")
        .num_columns(2)
        .spacing([6.0, 4.0])
        .show(ui, |ui| {
            // Typing a value ticks its box: what was typed is applied (a ticked empty box
            // clears the field on every clip).
            let (on, value) = &mut vm.bulk.collection;
            let tick = ui.checkbox(on, "Set collection");
            if ui
                .add(egui::TextEdit::singleline(value).id_salt("bulk_collection"))
                .labelled_by(tick.id)
                .changed()
            {
                *on = true;
            }
            ui.end_row();
            for field in MetaField::BULK {
                let (on, value) = vm.bulk.fields.entry(field).or_default();
                let tick = ui.checkbox(on, format!("Set {}", field.label().to_lowercase()));
                if ui
                    .add(egui::TextEdit::singleline(value).id_salt(("bulk_field", field)))
                    .labelled_by(tick.id)
                    .changed()
                {
                    *on = true;
                }
                ui.end_row();
            }
        });
    if ui
        .add_enabled(n > 0, egui::Button::new(format!("Apply to {n} clips")))
        .on_hover_text("Set the ticked fields on every selected clip")
        .clicked()
    {
        cmds.push(UiCommand::ApplyBulk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_camera_proxy_preview_says_what_the_ingest_will_do() {
        use crate::card::{Clip, Family};
        use crate::media::proxy::camera::CameraProxyFacts;
        use crate::media::proxy::look_rules::ClipLook;
        let facts = CameraProxyFacts {
            path: "/card/CONTENTS/PROXY/0001AA.MP4".into(),
            video_codec: Some("h264".into()),
            width: Some(960),
            height: Some(540),
            has_b_frames: Some(0),
            duration_seconds: Some(4.0),
            audio: Some(("aac".into(), 2, None)),
            is_mp4: true,
            faststart: true,
            max_keyframe_gap: Some(1.0),
            ..CameraProxyFacts::default()
        };
        let mut sc = crate::scan::ScannedClip {
            clip: Clip {
                id: "p2:1".into(),
                name: "0001AA".into(),
                family: Family::P2,
                card_root: "/card".into(),
                files: Vec::new(),
                segments: Vec::new(),
                incomplete: None,
                warnings: Vec::new(),
                derived_from: None,
            },
            metadata: crate::media::ClipMetadata {
                duration_seconds: Some(4.0),
                audio_channels: Some(4),
                ..crate::media::ClipMetadata::default()
            },
            raw_metadata: serde_json::Value::Null,
            camera_proxy: Some(Ok(facts.clone())),
            description: None,
            pending: None,
        };
        let mut settings = crate::settings::Settings::default();
        assert_eq!(
            camera_proxy_preview(&sc, &settings, None),
            None,
            "setting off"
        );
        settings.camera_proxy = true;
        let say = |sc: &crate::scan::ScannedClip, s: &crate::settings::Settings| {
            camera_proxy_preview(sc, s, None).unwrap()
        };
        assert_eq!(say(&sc, &settings), "Camera proxy used as it is: no encode");
        // 540 lines are above the 540p preset? No: equal is fine; 720 lines are above it.
        settings.proxy_preset = "540p".into();
        assert_eq!(say(&sc, &settings), "Camera proxy used as it is: no encode");
        sc.camera_proxy = Some(Ok(CameraProxyFacts {
            height: Some(720),
            faststart: false,
            ..facts.clone()
        }));
        assert!(say(&sc, &settings).contains("is 720 lines, above the preset's 540"));
        settings.proxy_preset = String::new();
        assert_eq!(
            say(&sc, &settings),
            "Camera proxy used, remuxed with faststart: no encode"
        );
        settings.burn_in = "timecode".into();
        assert_eq!(
            say(&sc, &settings),
            "Camera proxy not used: a burn-in needs an encode"
        );
        settings.burn_in.clear();
        let lut = ClipLook::Lut("/luts/a.cube".into());
        assert_eq!(
            camera_proxy_preview(&sc, &settings, Some(&lut)).unwrap(),
            "Camera proxy not used: a look needs an encode"
        );
        sc.camera_proxy = Some(Err("ffprobe timed out".into()));
        assert_eq!(
            say(&sc, &settings),
            "Camera proxy not checked (ffprobe timed out), so it is encoded"
        );
        sc.camera_proxy = None;
        assert_eq!(
            say(&sc, &settings),
            "Camera proxy: none on the card, so it is encoded"
        );
    }

    #[test]
    fn the_rule_preview_names_the_lut_and_the_value_it_matched_on() {
        use crate::card::Family;
        let mut m = crate::media::ClipMetadata::default();
        m.extra.insert("gamma".into(), "s-log3-cine".into());
        let rules = "camera=FX9 => /luts/fx9.cube\ngamma=S-Log3 => /luts/slog3.cube";
        assert_eq!(
            rule_preview(rules, &m, Family::Xdcam),
            "/luts/slog3.cube (rule gamma=S-Log3 matched gamma \"s-log3-cine\")"
        );
        assert_eq!(
            rule_preview("family=p2 => /luts/vlog.cube", &m, Family::Xdcam),
            "No look rule matches this clip: no look"
        );
        assert_eq!(
            rule_preview("", &m, Family::Xdcam),
            "No look rules set: no look"
        );
        assert!(
            rule_preview("gamma s-log3", &m, Family::Xdcam)
                .starts_with("The look rules have an error: ")
        );
    }

    #[test]
    fn facts_name_the_sidecar_each_value_came_from() {
        let mut m = crate::media::ClipMetadata::default();
        m.extra.insert("iso".into(), "800".into());
        m.sources.insert(
            "iso".into(),
            "A007R2E4.ale ALE column Exposure_Index".into(),
        );
        m.scene = Some("12".into());
        m.sources
            .insert("scene".into(), "A007R2E4.ale ALE column Scene".into());
        m.sources.insert(
            "unread A001_C001_0514XY.RMD".into(),
            "not read (format not known well enough): version".into(),
        );
        assert_eq!(
            fact_lines(&m),
            vec![
                "iso: 800 (from A007R2E4.ale ALE column Exposure_Index)".to_string(),
                "scene ← A007R2E4.ale ALE column Scene".to_string(),
                "unread A001_C001_0514XY.RMD ← not read (format not known well enough): version"
                    .to_string(),
            ]
        );
    }
}
