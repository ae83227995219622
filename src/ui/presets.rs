//! The preset row at the top of the settings sheet: a combo that loads a preset's values into
//! the settings in one click, "Save as preset…" under a name, and export/import of a preset file
//! (a native file chooser, or the typed path where none can open). The file work runs on the
//! background worker ([`run`]); the row only pushes [`UiCommand::Preset`].

use super::command::{Commands, UiCommand};
use super::state::ViewModel;
use crate::settings::Settings;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What the operator asked of presets.
#[derive(Debug, Clone, PartialEq)]
pub enum PresetAction {
    /// List the presets folder (at start, and after each change).
    List,
    /// Load this preset's values into the settings.
    Load(String),
    /// Store the current settings as a preset of this name.
    Save(String),
    /// Write the current preset (the settings, under the name typed or the preset in use) to a
    /// file: this path, or one picked in a file chooser (`None`).
    Export(Option<PathBuf>),
    /// Copy a preset file into the presets folder and load it: this path or a picked one.
    Import(Option<PathBuf>),
}

/// The row's state.
#[derive(Debug, Default, Clone)]
pub struct PresetSheet {
    /// The presets in the config folder, sorted.
    pub names: Vec<String>,
    /// The name typed for "Save as preset…".
    pub new_name: String,
    /// The typed file path for export/import (the fallback when no chooser opens).
    pub file: String,
    /// Whether the save/export/import fields are shown.
    pub editing: bool,
}

/// What a preset job reports to the window.
#[derive(Debug, Clone)]
pub struct PresetReply {
    pub names: Vec<String>,
    /// Settings to show (a preset loaded or imported): the machine fields are the window's own.
    pub loaded: Option<Settings>,
    /// What happened (`Ok`: for the log; `Err`: what went wrong and what to do).
    pub message: Result<Option<String>, String>,
}

/// rfd answers "none" both for a cancel and for a chooser that could not open: nobody cancels
/// a chooser within this.
const NO_CHOOSER_WITHIN: Duration = Duration::from_millis(700);

/// Renders the row: one block at the top of the sheet.
pub fn preset_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    ui.heading("Preset");
    ui.horizontal(|ui| {
        let label = ui.label("Preset");
        let current = if vm.settings.preset.is_empty() {
            "none".to_owned()
        } else {
            vm.settings.preset.clone()
        };
        egui::ComboBox::from_id_salt("preset_choice")
            .selected_text(current)
            .show_ui(ui, |ui| {
                if vm.presets.names.is_empty() {
                    ui.label("No presets yet: Save as preset…");
                }
                for name in &vm.presets.names {
                    if ui
                        .selectable_label(vm.settings.preset == *name, name)
                        .clicked()
                    {
                        cmds.push(UiCommand::Preset(PresetAction::Load(name.clone())));
                    }
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text("Loads everything a run needs except the credentials");
        if ui
            .selectable_label(vm.presets.editing, "Save as preset…")
            .clicked()
        {
            vm.presets.editing = !vm.presets.editing;
            if vm.presets.new_name.is_empty() {
                vm.presets.new_name = vm.settings.preset.clone();
            }
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Project");
        ui.add(
            egui::TextEdit::singleline(&mut vm.settings.project)
                .hint_text("{project} when the clips name none")
                .desired_width(160.0),
        )
        .labelled_by(label.id)
        .on_hover_text(
            "Folder and title patterns also take {camera}, {reel}, {shoot_date}, {card_serial}, \
             {project} and {preset}; a value the card does not record becomes unknown-camera, \
             unknown-reel, unknown-date, unknown-serial, no-project or no-preset",
        );
    });
    if !vm.presets.editing {
        return;
    }
    ui.horizontal(|ui| {
        let label = ui.label("Preset name");
        ui.add(
            egui::TextEdit::singleline(&mut vm.presets.new_name)
                .hint_text("e.g. Day 2 – A-cam")
                .desired_width(160.0),
        )
        .labelled_by(label.id);
        let name = vm.presets.new_name.trim().to_owned();
        if ui
            .add_enabled(!name.is_empty(), egui::Button::new("Save preset"))
            .on_hover_text("Stores the current settings (without the token) under this name")
            .clicked()
        {
            cmds.push(UiCommand::Preset(PresetAction::Save(name)));
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Preset file");
        ui.add(
            egui::TextEdit::singleline(&mut vm.presets.file)
                .hint_text("empty: choose in a file chooser")
                .desired_width(160.0),
        )
        .labelled_by(label.id);
        let typed = Some(vm.presets.file.trim())
            .filter(|f| !f.is_empty())
            .map(PathBuf::from);
        if ui
            .button("Export…")
            .on_hover_text("Writes the current settings as a preset file to share")
            .clicked()
        {
            cmds.push(UiCommand::Preset(PresetAction::Export(typed.clone())));
        }
        if ui
            .button("Import…")
            .on_hover_text("Adds a shared preset file to your presets and loads it")
            .clicked()
        {
            cmds.push(UiCommand::Preset(PresetAction::Import(typed)));
        }
    });
}

/// Runs `action` on the worker: `dir` is the presets folder, `current` the settings as the
/// sheet shows them.
pub async fn run(dir: PathBuf, action: PresetAction, current: Settings) -> PresetReply {
    let message = match action {
        PresetAction::List => Ok(None),
        PresetAction::Load(name) => {
            let d = dir.clone();
            let loaded = blocking(move || crate::preset::load_named(&d, &name)).await;
            return reply(
                &dir,
                loaded.map(|p| {
                    let text = format!("preset {} loaded", p.name);
                    (Some(p.settings(&current)), Some(text))
                }),
            )
            .await;
        }
        PresetAction::Save(name) => {
            let d = dir.clone();
            let saved = blocking(move || {
                let preset = crate::preset::Preset::new(&name, &current)?;
                let path = crate::preset::save(&d, &preset)?;
                let text = format!("preset {} saved as {}", preset.name, path.display());
                // The sheet now shows this preset (the run and the report name it).
                Ok((Some(preset.settings(&current)), Some(text)))
            })
            .await;
            return reply(&dir, saved).await;
        }
        PresetAction::Export(path) => {
            let name = Some(current.preset.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "card-ingest preset".to_owned());
            match chosen(path, true, &name).await {
                Err(e) => Err(e),
                Ok(None) => Ok(None),
                Ok(Some(file)) => blocking(move || {
                    let preset = crate::preset::Preset::new(&name, &current)?;
                    crate::preset::write_file(&file, &preset)?;
                    Ok(format!(
                        "preset {} exported to {}",
                        preset.name,
                        file.display()
                    ))
                })
                .await
                .map(Some),
            }
        }
        PresetAction::Import(path) => match chosen(path, false, "").await {
            Err(e) => Err(e),
            Ok(None) => Ok(None),
            Ok(Some(file)) => {
                let d = dir.clone();
                let imported = blocking(move || crate::preset::import(&d, &file)).await;
                return reply(
                    &dir,
                    imported.map(|p| {
                        let text = format!("preset {} imported and loaded", p.name);
                        (Some(p.settings(&current)), Some(text))
                    }),
                )
                .await;
            }
        },
    };
    reply(&dir, message.map(|m| (None, m))).await
}

/// The list after the action, with what it loaded and said.
async fn reply(
    dir: &Path,
    outcome: Result<(Option<Settings>, Option<String>), String>,
) -> PresetReply {
    let d = dir.to_path_buf();
    let names = blocking(move || crate::preset::list(&d)).await;
    let (loaded, message) = match (outcome, names.as_ref()) {
        (Ok((loaded, m)), Ok(_)) => (loaded, Ok(m)),
        (Err(e), _) => (None, Err(e)),
        (Ok(_), Err(e)) => (None, Err(e.clone())),
    };
    PresetReply {
        names: names.unwrap_or_default(),
        loaded,
        message,
    }
}

/// The typed path, else the file picked in a chooser (`Ok(None)`: cancelled).
async fn chosen(typed: Option<PathBuf>, save: bool, name: &str) -> Result<Option<PathBuf>, String> {
    if let Some(p) = typed {
        return Ok(Some(p));
    }
    let started = Instant::now();
    let dialog = rfd::AsyncFileDialog::new().add_filter("card-ingest preset", &["json"]);
    let picked = if save {
        dialog
            .set_title("Export the preset")
            .set_file_name(format!("{name}.json"))
            .save_file()
            .await
    } else {
        dialog.set_title("Import a preset").pick_file().await
    };
    match picked {
        Some(h) => Ok(Some(h.path().to_path_buf())),
        None if started.elapsed() < NO_CHOOSER_WITHIN => Err(
            "No file chooser could open here (no desktop portal or zenity): type the preset \
             file's path in the Preset file field and press the button again"
                .to_owned(),
        ),
        None => Ok(None),
    }
}

async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, crate::preset::PresetError> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(job).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(format!("preset job stopped: {e}")),
    }
}
