//! Keyboard shortcuts: one table read both by the input handler's documentation and by the help
//! overlay (F1 or ?), so the overlay lists exactly what the keys do.

use super::command::{Commands, UiCommand};

/// (keys, what they do), as the overlay shows them.
pub const SHORTCUTS: [(&str, &str); 11] = [
    (
        "Ctrl+O",
        "Choose a card folder (queued while an ingest runs)",
    ),
    (
        "Enter",
        "Ingest the selected clips (on a clip's name: edit it, Title focused)",
    ),
    ("Ctrl+↓ / Ctrl+↑", "Edit the next / previous clip"),
    ("Ctrl+A", "Select every clip"),
    ("Ctrl+Shift+A", "Select no clip"),
    ("Ctrl+R", "Retry every failed step"),
    ("Ctrl+.", "Cancel the ingest"),
    ("Ctrl+P", "Pause or resume the ingest"),
    ("Ctrl+,", "Connection and settings"),
    ("F1 or ?", "These shortcuts"),
    ("Esc", "Close the editor, dialogs and this overlay"),
];

/// The overlay (a modal window over everything).
pub fn help_ui(ui: &mut egui::Ui, open: bool, cmds: &mut Commands) {
    if !open {
        return;
    }
    let modal = egui::Modal::new(egui::Id::unique("help_overlay")).show(ui.ctx(), |ui| {
        ui.heading("Keyboard shortcuts");
        egui::Grid::new("shortcuts_grid")
            .num_columns(2)
            .spacing([16.0, 6.0])
            .striped(true)
            .show(ui, |ui| {
                for (keys, what) in SHORTCUTS {
                    ui.strong(keys);
                    ui.label(what);
                    ui.end_row();
                }
            });
        ui.separator();
        if ui.button("Close help").clicked() {
            cmds.push(UiCommand::ShowHelp(false));
        }
    });
    if modal.should_close() {
        cmds.push(UiCommand::ShowHelp(false));
    }
}
