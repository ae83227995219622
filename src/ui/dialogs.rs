//! Dialogs over the main window: the transcript viewer, "quit while ingesting?", and the offer
//! to resume unfinished cards. They render the view model and push commands, like the panels.

use super::command::{Commands, UiCommand};
use super::state::ViewModel;
use crate::media::tools::ToolKind;
use crate::settings::ProxyChoice;

/// The floating dialogs (call after the panels).
pub fn dialogs_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    let ctx = ui.ctx().clone();
    if let Some((path, text)) = &vm.transcript_view {
        let mut open = true;
        egui::Window::new("API transcript")
            .open(&mut open)
            .default_size([720.0, 480.0])
            .vscroll(false)
            .show(&ctx, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(path.display().to_string());
                    ui.weak("curl commands of every call; the token is redacted");
                });
                egui::ScrollArea::both()
                    .id_salt("transcript_scroll")
                    .stick_to_bottom(true)
                    .show(ui, |ui| {
                        // Read-only but selectable, so a call can be copied into a terminal.
                        let mut shown = text.as_str();
                        ui.add(
                            egui::TextEdit::multiline(&mut shown)
                                .font(egui::TextStyle::Monospace)
                                .desired_width(f32::INFINITY),
                        );
                    });
            });
        if !open {
            cmds.push(UiCommand::CloseDialogs);
        }
    }
    if vm.confirm_close {
        let modal = egui::Modal::new(egui::Id::unique("confirm_close")).show(&ctx, |ui| {
            ui.heading("An ingest is running");
            ui.label(
                "Quit now and the running steps stop. Everything finished is kept in the \
                 journal: open card-ingest again to resume the rest.",
            );
            ui.horizontal(|ui| {
                if ui.button("Keep running").clicked() {
                    cmds.push(UiCommand::CloseDialogs);
                }
                if ui.button("Quit anyway").clicked() {
                    cmds.push(UiCommand::QuitAnyway);
                }
            });
        });
        if modal.should_close() {
            cmds.push(UiCommand::CloseDialogs);
        }
    }
}

/// The banner offering to resume cards an earlier run left unfinished.
pub fn resume_offer_ui(ui: &mut egui::Ui, vm: &ViewModel, cmds: &mut Commands) {
    if vm.unfinished.is_empty() || vm.queue.running() {
        return;
    }
    let left: usize = vm.unfinished.iter().map(|c| c.clip_ids.len()).sum();
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "{} unfinished cards from an earlier run ({left} clips left):",
                vm.unfinished.len()
            ));
            for c in &vm.unfinished {
                let name = c
                    .card_root
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| c.card_root.display().to_string());
                ui.weak(name).on_hover_text(format!(
                    "{} on {}: {} of {} clips left",
                    c.card_root.display(),
                    c.server,
                    c.clip_ids.len(),
                    c.clips_total
                ));
            }
            if ui.button("Resume").clicked() {
                cmds.push(UiCommand::ResumeUnfinished);
            }
            if ui.button("Dismiss").clicked() {
                cmds.push(UiCommand::DismissUnfinished);
            }
        });
    });
    ui.add_space(4.0);
}

/// The banner shown while a media tool is missing: what cannot be done and how to go on —
/// another proxy mode (iconik's transcoder, or none), or install the tool and check again.
pub fn tools_banner_ui(ui: &mut egui::Ui, vm: &ViewModel, cmds: &mut Commands) {
    for missing in &vm.missing_tools {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(ui.visuals().warn_fg_color, "⚠");
            ui.label(&missing.message);
        });
    }
    ui.horizontal(|ui| {
        let no_ffmpeg = vm.missing_tools.iter().any(|m| m.kind == ToolKind::Ffmpeg);
        if no_ffmpeg && vm.settings.proxy == ProxyChoice::Local {
            if ui.button("Use iconik's transcoder").clicked() {
                cmds.push(UiCommand::UseProxy(ProxyChoice::Iconik));
            }
            if ui.button("Ingest without proxies").clicked() {
                cmds.push(UiCommand::UseProxy(ProxyChoice::None));
            }
        }
        if ui
            .button("Check again")
            .on_hover_text("Look for ffmpeg, ffprobe and MediaInfo again (after installing them, or setting their paths in Settings › Media tools)")
            .clicked()
        {
            cmds.push(UiCommand::CheckTools);
        }
    });
}
