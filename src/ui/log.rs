//! The log panel: what the app did and what went wrong (connection, scans, posters, keyring),
//! newest last, filterable by text.

use super::state::ViewModel;

/// Renders the log with its filter box.
pub fn log_ui(ui: &mut egui::Ui, vm: &mut ViewModel) {
    ui.horizontal(|ui| {
        let label = ui.label("Filter");
        ui.add(
            egui::TextEdit::singleline(&mut vm.log_filter)
                .id_salt("log_filter")
                .desired_width(200.0),
        )
        .labelled_by(label.id);
    });
    let filter = vm.log_filter.to_lowercase();
    let lines: Vec<&super::state::LogLine> = vm
        .log
        .iter()
        .filter(|l| filter.is_empty() || l.text.to_lowercase().contains(&filter))
        .collect();
    let row_height = ui.text_style_height(&egui::TextStyle::Body);
    egui::ScrollArea::vertical()
        .id_salt("log_scroll")
        .stick_to_bottom(true)
        .auto_shrink([false, false])
        .show_rows(ui, row_height, lines.len(), |ui, range| {
            for line in lines.get(range).unwrap_or(&[]) {
                let color = match line.level {
                    tracing::Level::ERROR => ui.visuals().error_fg_color,
                    tracing::Level::WARN => ui.visuals().warn_fg_color,
                    _ => ui.visuals().text_color(),
                };
                ui.colored_label(color, &line.text);
            }
        });
}
