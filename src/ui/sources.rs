//! The card list ("sources") on the left: every card of this window — ended in an earlier run,
//! loaded now, or waiting its turn — with its family, clip count, size and state (scanned,
//! queued, ingesting, done, failed, safe to erase). A card that is safe to erase offers to eject.
//!
//! [`rows`] derives the list from the view model each frame (pure, O(clips)); [`sources_ui`]
//! renders it.

use super::cards::format_bytes;
use super::command::{Commands, UiCommand};
use super::help::Shortcut;
use super::state::ViewModel;
use crate::ingest::erase::Verdict;
use std::path::{Path, PathBuf};

/// Where a card is in its life in this window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    Scanning,
    Scanned,
    Queued,
    Ingesting,
    Done,
    Failed,
    SafeToErase,
}

impl SourceState {
    pub fn label(self) -> &'static str {
        match self {
            SourceState::Scanning => "scanning",
            SourceState::Scanned => "scanned",
            SourceState::Queued => "queued",
            SourceState::Ingesting => "ingesting",
            SourceState::Done => "done",
            SourceState::Failed => "failed",
            SourceState::SafeToErase => "safe to erase",
        }
    }
}

/// One card in the list.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    pub name: String,
    pub root: PathBuf,
    pub family: String,
    pub clips: usize,
    pub bytes: u64,
    pub state: SourceState,
    pub verdict: Option<Verdict>,
    pub report: Option<PathBuf>,
}

fn name_of(root: &Path) -> String {
    root.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| root.display().to_string())
}

/// Rows of the cards of one scan, all in `state`.
fn scanned_rows(
    cards: &[crate::card::Card],
    clips: &mut dyn Iterator<Item = &crate::scan::ScannedClip>,
    state: SourceState,
) -> Vec<SourceRow> {
    let mut rows: Vec<SourceRow> = cards
        .iter()
        .map(|c| SourceRow {
            name: name_of(&c.root),
            root: c.root.clone(),
            family: c.family.as_str().to_owned(),
            clips: 0,
            bytes: 0,
            state,
            verdict: None,
            report: None,
        })
        .collect();
    for clip in clips {
        if let Some(row) = rows.iter_mut().find(|r| r.root == clip.clip.card_root) {
            row.clips += 1;
        }
        // A spanned clip's segments count towards the card they are on.
        for f in &clip.clip.files {
            if let Some(row) = rows.iter_mut().find(|r| f.path.starts_with(&r.root)) {
                row.bytes += f.size;
            }
        }
    }
    rows
}

/// The state of a card whose run ended.
fn ended_state(
    end: &crate::ingest::session::CardEnd,
) -> (SourceState, Option<Verdict>, Option<PathBuf>) {
    let verdict = end.verdict.clone();
    let state = if end.error.is_some() || end.failed > 0 || end.cancelled {
        SourceState::Failed
    } else if verdict.as_ref().is_some_and(|v| v.safe_to_erase) {
        SourceState::SafeToErase
    } else {
        SourceState::Done
    };
    (state, verdict, end.report_html.clone())
}

/// The state of the loaded card `root`: its ingest in the queue, else how its last run in this
/// window ended (a later run of other clips or cards never resets it to "scanned").
fn loaded_state(vm: &ViewModel, root: &Path) -> (SourceState, Option<Verdict>, Option<PathBuf>) {
    let q = &vm.queue;
    let last = || vm.card_ends.get(root).map(ended_state);
    if let Some(end) = q.cards.iter().find(|e| e.card == root) {
        return ended_state(end);
    }
    let mut clips = q.clips.iter().filter(|c| c.card == root).peekable();
    if clips.peek().is_none() {
        return last().unwrap_or((SourceState::Scanned, None, None));
    }
    let (mut any_failed, mut all_done, mut all_settled) = (false, true, true);
    for c in clips {
        any_failed |= c.failed().is_some();
        all_done &= c.completed();
        all_settled &= c.settled();
    }
    let state = if all_settled && any_failed {
        SourceState::Failed
    } else if all_done {
        SourceState::Done
    } else {
        SourceState::Ingesting
    };
    (state, None, None)
}

/// Every card of the window, in order: earlier runs, the loaded card(s), the waiting ones.
pub fn rows(vm: &ViewModel) -> Vec<SourceRow> {
    let mut out = vm.history.clone();
    if vm.card.scanning {
        out.extend(vm.card.paths.iter().map(|p| SourceRow {
            name: name_of(p),
            root: p.clone(),
            family: String::new(),
            clips: 0,
            bytes: 0,
            state: SourceState::Scanning,
            verdict: None,
            report: None,
        }));
    } else {
        let mut loaded = scanned_rows(
            &vm.card.cards,
            &mut vm.card.clips.iter().map(|c| &c.scanned),
            SourceState::Scanned,
        );
        // A card holding only a spanned clip's later segments follows the card of that clip.
        let owner_of = |root: &Path| {
            vm.card
                .clips
                .iter()
                .find(|c| {
                    c.scanned
                        .clip
                        .files
                        .iter()
                        .any(|f| f.path.starts_with(root))
                })
                .map(|c| c.scanned.clip.card_root.clone())
        };
        for row in &mut loaded {
            let root = if row.clips == 0 {
                owner_of(&row.root).unwrap_or_else(|| row.root.clone())
            } else {
                row.root.clone()
            };
            let (state, verdict, report) = loaded_state(vm, &root);
            row.state = state;
            if root == row.root {
                row.verdict = verdict;
                row.report = report;
            } else if state == SourceState::SafeToErase {
                // The verdict is the owning card's; this one only holds segments of it.
                row.state = SourceState::Done;
            }
        }
        out.extend(loaded);
    }
    for w in &vm.waiting {
        match &w.scan {
            Some(Ok(report)) => out.extend(scanned_rows(
                &report.cards,
                &mut report.clips.iter(),
                SourceState::Queued,
            )),
            _ => out.extend(w.paths.iter().map(|p| SourceRow {
                name: name_of(p),
                root: p.clone(),
                family: String::new(),
                clips: 0,
                bytes: 0,
                state: SourceState::Queued,
                verdict: None,
                report: None,
            })),
        }
    }
    out
}

fn state_color(ui: &egui::Ui, state: SourceState) -> egui::Color32 {
    let v = ui.visuals();
    match state {
        SourceState::SafeToErase | SourceState::Done => egui::Color32::from_rgb(0x22, 0xa0, 0x4b),
        SourceState::Failed => v.error_fg_color,
        SourceState::Ingesting | SourceState::Scanning => v.hyperlink_color,
        SourceState::Queued | SourceState::Scanned => v.weak_text_color(),
    }
}

/// Renders the card list.
pub fn sources_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    ui.horizontal(|ui| {
        ui.heading("Cards");
        let add = ui
            .add_enabled(!vm.choosing_folder, egui::Button::new("Add card…"))
            .on_hover_text(
                Shortcut::ChooseCard
                    .hint("Choose a card folder; while an ingest runs it is queued"),
            );
        cmds.shortcut_of(add.id, Shortcut::ChooseCard);
        if add.clicked() {
            cmds.push(UiCommand::ChooseCard);
        }
    });
    super::cards::path_field_ui(ui, vm, cmds);
    let rows = rows(vm);
    if vm.card_filter.is_some() && ui.button("All cards").clicked() {
        cmds.push(UiCommand::FilterCard(None));
    }
    if rows.is_empty() {
        ui.weak("No card yet: drop a card folder on the window.");
    }
    egui::ScrollArea::vertical()
        .id_salt("sources_scroll")
        .show(ui, |ui| {
            for row in &rows {
                row_ui(ui, vm, row, cmds);
            }
        });
    // After a cancel (or with failed clips waiting for a retry) the queue waits for the operator.
    if !vm.waiting.is_empty()
        && !vm.queue.running()
        && ui
            .button("Start next card")
            .on_hover_text("Ingest the first queued card now (failed clips of the card before stay as they are)")
            .clicked()
    {
        cmds.push(UiCommand::StartNextCard);
    }
}

fn row_ui(ui: &mut egui::Ui, vm: &ViewModel, row: &SourceRow, cmds: &mut Commands) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_min_width(ui.available_width());
        // Clicking a loaded card shows only its clips; clicking it again shows all cards'.
        let picked = vm.card_filter.as_ref() == Some(&row.root);
        let loaded = vm.card.cards.iter().any(|c| c.root == row.root);
        let name = ui
            .add_enabled(
                loaded,
                egui::Button::selectable(picked, egui::RichText::new(&row.name).strong()),
            )
            .on_hover_text(format!("{}: show only its clips", row.root.display()));
        if name.clicked() {
            cmds.push(UiCommand::FilterCard((!picked).then(|| row.root.clone())));
        }
        if row.state != SourceState::Scanning && !row.family.is_empty() {
            ui.label(format!(
                "{} · {} clips · {}",
                row.family,
                row.clips,
                format_bytes(row.bytes)
            ));
        }
        let state = ui.colored_label(state_color(ui, row.state), row.state.label());
        if let Some(v) = &row.verdict {
            state.on_hover_text(v.lines().join("\n"));
        }
        if let Some(line) = vm.released.get(&row.root)
            && row.state == SourceState::Ingesting
        {
            ui.label(line);
        }
        if let Some(line) = row.report.as_ref().and_then(|h| vm.checks.get(h)) {
            match line {
                None => ui.label("checking copies…"),
                Some(Ok(line)) => ui.label(format!("copies: {line}")),
                Some(Err(e)) => ui.colored_label(ui.visuals().error_fg_color, e),
            };
        }
        ui.horizontal_wrapped(|ui| {
            if let Some(html) = &row.report
                && ui
                    .small_button(format!("Report {}", row.name))
                    .on_hover_text(html.display().to_string())
                    .clicked()
            {
                cmds.push(UiCommand::OpenReport(html.clone()));
            }
            if let Some(html) = &row.report
                && row.state != SourceState::Ingesting
            {
                let running = matches!(vm.checks.get(html), Some(None));
                if ui
                    .add_enabled(
                        !running,
                        egui::Button::new(format!("Check copies {}", row.name)).small(),
                    )
                    .on_hover_text(
                        "Re-read every copy against its ASC MHL; a file that no longer matches \
                         is repaired from the card or another copy, and the report says so",
                    )
                    .clicked()
                {
                    cmds.push(UiCommand::CheckCopies(html.clone()));
                }
            }
            if let Some(m) = eject_offer(row, vm) {
                let busy = vm.ejecting.contains(&row.root);
                if ui
                    .add_enabled(!busy, egui::Button::new(format!("Eject {}", row.name)))
                    .on_hover_text(format!("Unmount and power off {}", m.device))
                    .clicked()
                {
                    cmds.push(UiCommand::Eject(row.root.clone()));
                }
            }
        });
    });
}

/// The mount to eject, offered only for a card that is safe to erase, or released while its
/// later copies and registration go on, and that sits on a removable mount of its own.
pub fn eject_offer<'a>(row: &SourceRow, vm: &'a ViewModel) -> Option<&'a crate::eject::Mounted> {
    if row.state != SourceState::SafeToErase && !vm.released.contains_key(&row.root) {
        return None;
    }
    vm.devices.get(&row.root)
}

/// The rows of the loaded card(s) alone, as they stand now (kept as history when the next
/// queued card takes their place).
pub fn loaded_rows(vm: &ViewModel) -> Vec<SourceRow> {
    let skip = vm.history.len();
    let waiting: usize = vm
        .waiting
        .iter()
        .map(|w| match &w.scan {
            Some(Ok(r)) => r.cards.len(),
            _ => w.paths.len(),
        })
        .sum();
    let all = rows(vm);
    let end = all.len().saturating_sub(waiting);
    all.into_iter().take(end).skip(skip).collect()
}
