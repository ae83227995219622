//! The ingest panel: per-clip step indicators and progress, fed by ingest events folded into
//! [`QueueView`]. Until the ingest engine is wired in, the view only tracks what was queued.

use super::command::{Commands, UiCommand};

/// Status of one step of one clip.
#[derive(Debug, Clone, PartialEq)]
pub enum StepStatus {
    Pending,
    Running,
    Done,
    Failed(String),
    Skipped(String),
}

/// One clip in the ingest queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueClip {
    pub clip_id: String,
    pub title: String,
    /// Steps in pipeline order with their status.
    pub steps: Vec<(&'static str, StepStatus)>,
    /// Link to the asset in iconik once registered.
    pub asset_url: Option<String>,
}

/// The whole ingest queue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueView {
    pub clips: Vec<QueueClip>,
    pub running: bool,
    /// Shown when the queue cannot start (not connected, nothing selected, no engine).
    pub notice: Option<String>,
}

/// Renders the queue.
pub fn queue_ui(ui: &mut egui::Ui, queue: &QueueView, cmds: &mut Commands) {
    if let Some(notice) = &queue.notice {
        ui.label(notice);
    }
    if queue.running && ui.button("Cancel").clicked() {
        cmds.push(UiCommand::CancelIngest);
    }
    for clip in &queue.clips {
        ui.horizontal(|ui| {
            ui.label(&clip.title);
            for (step, status) in &clip.steps {
                let (mark, hover) = match status {
                    StepStatus::Pending => ("-", "pending".to_owned()),
                    StepStatus::Running => ("~", "running".to_owned()),
                    StepStatus::Done => ("ok", "done".to_owned()),
                    StepStatus::Failed(e) => ("X", format!("failed: {e}")),
                    StepStatus::Skipped(r) => ("/", format!("skipped: {r}")),
                };
                ui.label(mark).on_hover_text(format!("{step}: {hover}"));
            }
            if let Some(url) = &clip.asset_url {
                ui.hyperlink_to("Open in iconik", url);
            }
        });
    }
}
