//! The card preview: the drop zone, then one row per clip (poster, name, title, technical
//! summary, files, warnings, "already in iconik"), expandable to its member files; skipped files and scan errors
//! below. Rows are virtualised (`egui_extras` table), so thousands of clips stay smooth.

use super::command::{Commands, UiCommand};
use super::help::Shortcut;
use super::state::{ClipRow, PosterState, ViewModel};
use crate::ingest::lookup::DuplicateCheck;
use egui_extras::{Column, TableBuilder};

const ROW_HEIGHT: f32 = 60.0;
const FILE_LINE_HEIGHT: f32 = 18.0;
const POSTER_SIZE: egui::Vec2 = egui::vec2(96.0, 54.0);
/// The row's warning when the clip is already in iconik (tests find it by this label). Plain
/// text in the warning colour: egui's default fonts have no ⚠ glyph.
pub const DUPLICATE_LABEL: &str = "already in iconik";
/// The row's word for a clip a run of this window registered (in the success colour).
pub const REGISTERED_LABEL: &str = "registered by this run";
/// The row's status for a clip with an empty or truncated member file (not ticked).
pub const DAMAGED_LABEL: &str = "damaged";
/// The success colour (done, safe to erase, registered).
pub const SUCCESS: egui::Color32 = egui::Color32::from_rgb(0x22, 0xa0, 0x4b);

/// Renders the preview (or the drop zone when nothing is loaded).
pub fn cards_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    if vm.card.scanning {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!("Scanning {}…", paths_label(&vm.card.paths)));
        });
    }
    if vm.sample_writing {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Writing a sample P2 card…");
        });
    }
    if let Some(err) = &vm.card.scan_error {
        ui.colored_label(ui.visuals().error_fg_color, format!("Scan failed: {err}"));
    }
    if vm.card.clips.is_empty() && !vm.card.scanning {
        drop_zone_ui(ui, vm, cmds);
        issues_ui(ui, vm);
        return;
    }
    if vm.drop_hover {
        // A card is loaded: dropping replaces it; say so while the files hover.
        let rect = ui.max_rect();
        ui.painter().rect_stroke(
            rect,
            8.0,
            egui::Stroke::new(3.0, ui.visuals().selection.stroke.color),
            egui::StrokeKind::Inside,
        );
        ui.strong("Drop to scan (replaces the loaded card)");
    }
    header_ui(ui, vm, cmds);
    issues_ui(ui, vm);
    ui.separator();
    ui.label("Click a clip name to edit its title and metadata; + shows its files.");
    // Narrow windows (or a wide editor panel) scroll the table sideways instead of hiding
    // columns, the clip column frozen.
    table_ui(ui, vm, cmds);
}

fn paths_label(paths: &[std::path::PathBuf]) -> String {
    match paths {
        [] => "nothing".to_owned(),
        [one] => one.display().to_string(),
        [first, rest @ ..] => format!("{} and {} more", first.display(), rest.len()),
    }
}

fn drop_zone_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    let stroke = if vm.drop_hover {
        egui::Stroke::new(3.0, ui.visuals().selection.stroke.color)
    } else {
        egui::Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color)
    };
    egui::Frame::new()
        .stroke(stroke)
        .corner_radius(8.0)
        .inner_margin(24.0)
        .show(ui, |ui| {
            ui.set_min_width(ui.available_width());
            ui.vertical_centered(|ui| {
                ui.heading(if vm.drop_hover {
                    "Drop to scan"
                } else {
                    "Drop a card folder here"
                });
                ui.label("or");
                let choose = ui
                    .add_enabled(!vm.choosing_folder, egui::Button::new("Choose card…"))
                    .on_hover_text(Shortcut::ChooseCard.hint("Choose a card folder"));
                cmds.shortcut_of(choose.id, Shortcut::ChooseCard);
                if choose.clicked() {
                    cmds.push(UiCommand::ChooseCard);
                }
                ui.label("or type or paste its path");
                path_field_ui(ui, vm, cmds);
            });
        });
}

/// A card folder typed or pasted (where no file chooser can open, or a path is at hand):
/// Enter or "Load" scans it; a path that does not exist is listed with the scan's errors.
pub fn path_field_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    let id = ui.make_persistent_id("path_field");
    // Completions that answer what is typed now (a slower answer to an older input is not shown).
    let current = vm.path_completed_for == vm.path_input.trim() && !vm.path_input.trim().is_empty();
    let mine = vm.path_field == Some(id);
    let completions = if current && mine {
        vm.path_completions.clone()
    } else {
        Vec::new()
    };
    ui.horizontal(|ui| {
        let label = ui.label("Path");
        // Tab completes the folder (before the field sees it: Tab would move the focus on).
        let focused = ui.memory(|m| m.has_focus(id));
        let mut to_end = false;
        if focused
            && !completions.is_empty()
            && ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Tab))
            && let Some(longer) = super::background::tab_complete(&vm.path_input, &completions)
        {
            vm.path_input = longer;
            to_end = true;
        }
        // Fits the card list's width (the room left beside the label and "Load").
        let width = (ui.available_width() - 90.0).clamp(60.0, 260.0);
        // The field last typed in takes the focus back (two are shown with no card loaded).
        if vm.focus_path && vm.path_field.is_none_or(|f| f == id) {
            vm.focus_path = false;
            ui.memory_mut(|m| m.request_focus(id));
            vm.path_field = Some(id);
            to_end = true;
        }
        if to_end {
            // The caret after the completed text, to go on typing.
            if let Some(mut state) = egui::TextEdit::load_state(ui.ctx(), id) {
                let end = egui::text::CCursor::new(vm.path_input.chars().count());
                state
                    .cursor
                    .set_char_range(Some(egui::text::CCursorRange::one(end)));
                state.store(ui.ctx(), id);
            }
        }
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut vm.path_input)
                    .id(id)
                    .hint_text("/media/CARD_A")
                    .desired_width(width),
            )
            .labelled_by(label.id)
            .on_hover_text("A card folder; Tab completes a folder name");
        if field.changed() {
            vm.path_field = Some(id);
        }
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let path = vm.path_input.trim().to_owned();
        let load = ui.add_enabled(!path.is_empty(), egui::Button::new("Load"));
        if (entered || load.clicked()) && !path.is_empty() {
            vm.path_input.clear();
            cmds.push(UiCommand::LoadPaths(vec![std::path::PathBuf::from(path)]));
        }
    });
    // The folders it can go on to: a click takes one and goes on typing inside it.
    for folder in &completions {
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| folder.display().to_string());
        if ui
            .small_button(format!("{name}{}", std::path::MAIN_SEPARATOR))
            .on_hover_text(folder.display().to_string())
            .clicked()
        {
            vm.path_input = format!("{}{}", folder.display(), std::path::MAIN_SEPARATOR);
            vm.focus_path = true;
        }
    }
}

fn header_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    // Wrapped, the Ingest button first: on a narrow window the row breaks instead of drawing
    // buttons over each other, and the one that matters most is never pushed out.
    ui.horizontal_wrapped(|ui| {
        let total = vm.card.clips.len();
        let selected = vm.card.selected_count();
        let ready = selected > 0 && vm.connected() && !vm.queue.running();
        let button = egui::Button::new(format!("Ingest {selected} clips"));
        let hint = if !vm.connected() {
            "Test the connection first".to_owned()
        } else if selected == 0 {
            "Select clips to ingest".to_owned()
        } else {
            Shortcut::Ingest.hint("Register the selected clips in iconik")
        };
        let ingest = ui.add_enabled(ready, button).on_hover_text(hint);
        cmds.shortcut_of(ingest.id, Shortcut::Ingest);
        if ingest.clicked() {
            cmds.push(UiCommand::StartIngest);
        }
        ui.strong(format!("{total} clips"));
        ui.label(format!("{selected} selected"));
        if ui.button("Select all").clicked() {
            cmds.push(UiCommand::SelectAll(true));
        }
        if ui.button("Select none").clicked() {
            cmds.push(UiCommand::SelectAll(false));
        }
        ui.toggle_value(&mut vm.bulk_open, "Bulk edit…")
            .on_hover_text("Set collection, scene, camera or date on every selected clip");
        if ui.button("Clear").clicked() {
            cmds.push(UiCommand::ClearCard);
        }
    });
}

fn issues_ui(ui: &mut egui::Ui, vm: &ViewModel) {
    let skipped = &vm.card.skipped;
    let errors = &vm.card.errors;
    if skipped.is_empty() && errors.is_empty() {
        return;
    }
    egui::CollapsingHeader::new(format!(
        "{} skipped files, {} scan errors",
        skipped.len(),
        errors.len()
    ))
    .id_salt("scan_issues")
    .default_open(!errors.is_empty())
    .show(ui, |ui| {
        egui::ScrollArea::vertical()
            .max_height(160.0)
            .id_salt("scan_issues_scroll")
            .show(ui, |ui| {
                for e in errors {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        format!("{}: {}", e.path.display(), e.message),
                    );
                }
                for s in skipped {
                    ui.label(format!("skipped {}: {}", s.path.display(), s.reason));
                }
            });
    });
}

fn row_height(row: &ClipRow) -> f32 {
    if row.expanded {
        // The details line, then one line per member file.
        ROW_HEIGHT + FILE_LINE_HEIGHT * (row.scanned.clip.files.len() + 1) as f32
    } else {
        ROW_HEIGHT
    }
}

/// Which columns a table draws: all of them, or (too narrow a window) the frozen clip columns
/// and the scrolled rest side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    All,
    Frozen,
    Rest,
}

impl Part {
    fn frozen(self) -> bool {
        self != Part::Rest
    }
    fn rest(self) -> bool {
        self != Part::Frozen
    }
}

const HEADERS: [&str; 9] = [
    "", "", "", "Clip", "Title", "Status", "iconik", "Duration", "Size",
];
/// The first four columns (tick, +, poster, clip name) stay put when the table scrolls sideways.
const FROZEN: usize = 4;

/// The least widths of the frozen clip columns and of the rest (with the kept column widths).
pub fn least_widths(saved: &[f32], spacing: f32) -> (f32, f32) {
    let kept = |i: usize, min: f32| match saved.get(i) {
        Some(&w) if saved.len() == RESIZABLE.len() => w.max(min),
        _ => min,
    };
    let frozen = 24.0 + 24.0 + POSTER_SIZE.x + 4.0 + kept(0, 80.0) + 4.0 * spacing;
    let rest = 60.0 + kept(1, 50.0) + kept(2, 60.0) + kept(3, 56.0) + 60.0 + 5.0 * spacing;
    (frozen, rest)
}

fn table_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    let spacing = ui.spacing().item_spacing.x;
    let (frozen_width, rest_width) = least_widths(&vm.settings.clip_columns, spacing);
    if ui.available_width() >= frozen_width + rest_width {
        let mut lefts = Vec::new();
        let released = ui.input(|i| i.pointer.any_released());
        // Content-sized columns can still overflow a narrow panel: then it scrolls sideways.
        egui::ScrollArea::horizontal()
            .id_salt("clip_table_hscroll")
            .show(ui, |ui| {
                clip_table(ui, vm, cmds, Part::All, None, &mut lefts)
            });
        // A drag on a column edge ends with a release: keep the widths it left (saved with the
        // settings, so they persist across restarts).
        let widths: Vec<f32> = lefts.windows(2).map(|w| w[1] - w[0] - spacing).collect();
        if released && let Some(now) = resized(&vm.settings.clip_columns, &widths) {
            vm.settings.clip_columns = now;
        }
        return;
    }
    // Too narrow: the clip columns stay, the rest scrolls sideways; both scroll down together
    // (the offset of whichever the operator scrolled is given to the other next frame).
    let offset_id = egui::Id::unique("clip_table_offset");
    let offset: f32 = ui.data(|d| d.get_temp(offset_id)).unwrap_or(0.0);
    let mut ignored = Vec::new();
    let (left, right) = ui
        .horizontal_top(|ui| {
            let left = ui
                .allocate_ui(egui::vec2(frozen_width, ui.available_height()), |ui| {
                    clip_table(ui, vm, cmds, Part::Frozen, Some(offset), &mut ignored)
                })
                .inner;
            let right = egui::ScrollArea::horizontal()
                .id_salt("clip_table_hscroll_rest")
                .show(ui, |ui| {
                    clip_table(ui, vm, cmds, Part::Rest, Some(offset), &mut ignored)
                })
                .inner;
            (
                left.state.clamped_offset().y,
                right.state.clamped_offset().y,
            )
        })
        .inner;
    let moved = if (left - offset).abs() > 0.5 {
        left
    } else {
        right
    };
    if (moved - offset).abs() > 0.5 {
        ui.data_mut(|d| d.insert_temp(offset_id, moved));
        ui.ctx().request_repaint();
    }
}

fn clip_table(
    ui: &mut egui::Ui,
    vm: &mut ViewModel,
    cmds: &mut Commands,
    part: Part,
    offset: Option<f32>,
    lefts: &mut Vec<f32>,
) -> egui::scroll_area::ScrollAreaOutput<()> {
    // Usually no row is expanded: then every row has the same height and egui_extras lays out
    // only the visible ones without walking (and us allocating) a height per clip each frame.
    // The clips shown: all, or those of the card picked in the card list.
    let shown: Vec<usize> = vm
        .card
        .clips
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            vm.card_filter
                .as_ref()
                .is_none_or(|root| &c.scanned.clip.card_root == root)
        })
        .map(|(i, _)| i)
        .collect();
    let heights: Option<Vec<f32>> = shown.iter().any(|&i| vm.card.clips[i].expanded).then(|| {
        shown
            .iter()
            .map(|&i| row_height(&vm.card.clips[i]))
            .collect()
    });
    let n = shown.len();
    // "All cards" with more than one card loaded: a Card column says whose clip each row is.
    let card_column = vm.card_filter.is_none() && several_cards(vm);
    let focused = vm.focused.clone();
    let saved = vm.settings.clip_columns.clone();
    let resizable = |i: usize, min: f32| {
        let column = match saved.get(i) {
            Some(&w) if saved.len() == RESIZABLE.len() => Column::initial(w.max(min)),
            _ => Column::auto(),
        };
        column.at_least(min).resizable(true)
    };
    let mut builder = TableBuilder::new(ui)
        .id_salt(("clip_table", part == Part::Rest))
        .striped(true)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
    if let Some(offset) = offset {
        builder = builder.vertical_scroll_offset(offset);
    }
    if part == Part::Frozen {
        builder =
            builder.scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::AlwaysHidden);
    }
    if part.frozen() {
        builder = builder
            .column(Column::exact(24.0))
            .column(Column::exact(24.0))
            .column(Column::exact(POSTER_SIZE.x + 4.0))
            .column(resizable(0, 80.0));
    }
    if part.rest() {
        // Narrow columns only, so the table fits 1280×800 beside the card list; family,
        // timecode, format, audio and files are in the row's expansion (+). The title takes
        // what is left (clipped; the editor shows it whole). The resizable columns start at
        // the widths the operator left them (settings).
        builder = builder
            .column(Column::remainder().at_least(60.0).clip(true))
            .column(resizable(1, 50.0))
            .column(resizable(2, 60.0))
            .column(resizable(3, 56.0))
            .column(Column::auto().at_least(60.0));
        if card_column {
            // Last, so the resizable columns keep their header positions (RESIZABLE).
            builder = builder.column(Column::auto().at_least(60.0).at_most(160.0).clip(true));
        }
    }
    let mut headers: Vec<&str> = match part {
        Part::All => HEADERS[..].to_vec(),
        Part::Frozen => HEADERS[..FROZEN].to_vec(),
        Part::Rest => HEADERS[FROZEN..].to_vec(),
    };
    if card_column && part.rest() {
        headers.push("Card");
    }
    builder
        .header(22.0, |mut header| {
            for title in headers {
                // Content starts at the cell's left edge: a column is as wide as the distance
                // to the next one's left edge, less the spacing between them.
                let (used, _) = header.col(|ui| {
                    ui.strong(title);
                });
                lefts.push(used.left());
            }
        })
        .body(|body| {
            let row_ui = |mut row: egui_extras::TableRow<'_, '_>| {
                let Some(&i) = shown.get(row.index()) else {
                    return;
                };
                // Only visible rows get here: the title is rendered for them alone.
                let title = if part.rest() {
                    vm.card
                        .clips
                        .get(i)
                        .map(|r| vm.title_of(r))
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                let Some(clip) = vm.card.clips.get_mut(i) else {
                    return;
                };
                let id = clip.scanned.clip.id.clone();
                row.set_selected(focused.as_deref() == Some(id.as_str()));
                if part.frozen() {
                    frozen_cells(&mut row, clip, focused.as_deref(), cmds);
                }
                if part.rest() {
                    row.col(|ui| {
                        ui.label(title);
                    });
                    row.col(|ui| status_ui(ui, clip));
                    row.col(|ui| {
                        iconik_ui(
                            ui,
                            vm.card.duplicates.get(&id),
                            vm.card.registered_here.get(&id),
                        );
                    });
                    let m = &clip.scanned.metadata;
                    row.col(|ui| {
                        ui.label(m.duration_seconds.map(format_duration).unwrap_or_default());
                    });
                    row.col(|ui| {
                        ui.label(format_bytes(clip.scanned.clip.total_size()));
                    });
                    if card_column {
                        let root = &clip.scanned.clip.card_root;
                        row.col(|ui| {
                            ui.label(card_name(root))
                                .on_hover_text(root.display().to_string());
                        });
                    }
                }
            };
            match heights {
                Some(heights) => body.heterogeneous_rows(heights.into_iter(), row_ui),
                None => body.rows(ROW_HEIGHT, n, row_ui),
            }
        })
}

/// Whether the loaded clips come from more than one card (stops at the first other card).
fn several_cards(vm: &ViewModel) -> bool {
    let mut roots = vm.card.clips.iter().map(|c| &c.scanned.clip.card_root);
    roots.next().is_some_and(|first| roots.any(|r| r != first))
}

/// A card's name in the table: its folder's name (the whole path on hover).
fn card_name(root: &std::path::Path) -> String {
    root.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| root.display().to_string())
}

/// Tick, expand, poster and clip name (with the expansion's details and files).
fn frozen_cells(
    row: &mut egui_extras::TableRow<'_, '_>,
    clip: &mut ClipRow,
    focused: Option<&str>,
    cmds: &mut Commands,
) {
    let id = clip.scanned.clip.id.clone();
    row.col(|ui| {
        let enabled = clip.ingestable();
        let selected = clip.selected;
        let include = format!("Include {}", clip.scanned.clip.name);
        // Its accessible name (a box without text would be unlabelled).
        ui.add_enabled(enabled, egui::Checkbox::without_text(&mut clip.selected))
            .on_hover_text("Include in the ingest")
            .widget_info(|| {
                egui::WidgetInfo::selected(egui::Role::CheckBox, enabled, selected, include.clone())
            });
    });
    row.col(|ui| {
        let arrow = if clip.expanded { "-" } else { "+" };
        if ui
            .small_button(arrow)
            .on_hover_text("Show details and member files")
            .clicked()
        {
            clip.expanded = !clip.expanded;
        }
    });
    row.col(|ui| poster_ui(ui, clip, cmds));
    row.col(|ui| {
        let name_ui = |ui: &mut egui::Ui, cmds: &mut Commands| {
            let name = ui
                .selectable_label(focused == Some(id.as_str()), &clip.scanned.clip.name)
                .on_hover_text("Edit this clip (Enter on its name: Title focused)");
            cmds.shortcut_of(name.id, Shortcut::Ingest);
            if name.clicked() {
                cmds.push(UiCommand::Focus(id.clone()));
            }
        };
        if clip.expanded {
            // Name on top, then the details and member files below it.
            ui.vertical(|ui| {
                name_ui(ui, cmds);
                ui.label(details(clip));
                files_ui(ui, clip);
            });
        } else {
            name_ui(ui, cmds);
        }
    });
}

/// Header positions of the resizable columns (Clip, Status, iconik, Duration).
const RESIZABLE: [usize; 4] = [3, 5, 6, 7];

/// The resizable columns' widths from this frame's header cells, when they differ from `saved`
/// by more than half a point.
pub fn resized(saved: &[f32], header: &[f32]) -> Option<Vec<f32>> {
    let now: Vec<f32> = RESIZABLE
        .iter()
        .map(|&i| header.get(i).copied())
        .collect::<Option<_>>()?;
    let same =
        saved.len() == now.len() && saved.iter().zip(&now).all(|(a, b)| (a - b).abs() <= 0.5);
    (!same).then_some(now)
}

fn poster_ui(ui: &mut egui::Ui, clip: &mut ClipRow, cmds: &mut Commands) {
    match &clip.poster {
        PosterState::NotRequested => {
            cmds.push(UiCommand::RequestPoster(clip.id().to_owned()));
            ui.add_sized(POSTER_SIZE, egui::Spinner::new());
        }
        PosterState::Loading => {
            ui.add_sized(POSTER_SIZE, egui::Spinner::new());
        }
        PosterState::Ready(texture) => {
            ui.add(egui::Image::new(texture).fit_to_exact_size(POSTER_SIZE));
        }
        PosterState::Failed(e) => {
            ui.add_sized(POSTER_SIZE, egui::Label::new("no picture"))
                .on_hover_text(e);
        }
    }
}

/// The expansion's details line: family, timecode, picture, audio, file count.
pub fn details(clip: &ClipRow) -> String {
    let m = &clip.scanned.metadata;
    let mut parts = vec![clip.scanned.clip.family.as_str().to_owned()];
    if let Some(tc) = &m.timecode_start {
        parts.push(format!("TC {tc}"));
    }
    let picture = format_picture(m);
    if !picture.is_empty() {
        parts.push(picture);
    }
    if let Some(c) = m.audio_channels {
        parts.push(format!("{c} ch audio"));
    }
    parts.push(match clip.scanned.clip.files.len() {
        1 => "1 file".to_owned(),
        n => format!("{n} files"),
    });
    parts.join(" · ")
}

fn files_ui(ui: &mut egui::Ui, clip: &ClipRow) {
    for f in &clip.scanned.clip.files {
        let name = f
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        ui.label(format!("{name}  {:?}  {}", f.role, format_bytes(f.size)))
            .on_hover_text(f.path.display().to_string());
    }
}

fn status_ui(ui: &mut egui::Ui, clip: &ClipRow) {
    if let Some(why) = &clip.scanned.clip.incomplete {
        ui.colored_label(ui.visuals().error_fg_color, "incomplete")
            .on_hover_text(why);
    } else if let Some(damage) = clip.scanned.damage() {
        // Not ticked after the scan: registering it would fail at the proxy with a retry that
        // cannot succeed. Ticking it is the operator's deliberate choice.
        ui.colored_label(ui.visuals().error_fg_color, DAMAGED_LABEL)
            .on_hover_text(format!(
                "{damage}\nNot ticked: tick it to ingest it anyway."
            ));
    } else if !clip.scanned.clip.warnings.is_empty() {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            match clip.scanned.clip.warnings.len() {
                1 => "1 warning".to_owned(),
                n => format!("{n} warnings"),
            },
        )
        .on_hover_text(clip.scanned.clip.warnings.join("\n"));
    } else {
        ui.label("ok");
    }
}

/// The "already in iconik" column (empty until a check runs: connect and pick a FILES storage).
fn iconik_ui(ui: &mut egui::Ui, check: Option<&DuplicateCheck>, registered: Option<&String>) {
    if let Some(url) = registered {
        ui.colored_label(SUCCESS, REGISTERED_LABEL)
            .on_hover_text(url);
        return;
    }
    let Some(check) = check else {
        return;
    };
    let response = match check {
        DuplicateCheck::Checking => ui.add(egui::Spinner::new().size(12.0)),
        DuplicateCheck::NotInIconik { .. } => ui.label("new"),
        DuplicateCheck::InIconik(_) => {
            ui.colored_label(ui.visuals().warn_fg_color, DUPLICATE_LABEL)
        }
        DuplicateCheck::CouldNotCheck(_) => ui.weak("not checked"),
    };
    response.on_hover_text(check.hover());
}

/// `H:MM:SS` (or `M:SS.s` under a minute's precision need).
pub fn format_duration(seconds: f64) -> String {
    let total = seconds.max(0.0);
    let whole = total.floor() as u64;
    let (h, m, s) = (whole / 3600, (whole / 60) % 60, whole % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!(
            "{m}:{s:02}.{}",
            ((total - whole as f64) * 10.0).floor() as u64
        )
    }
}

/// `1920×1080 25p`-style picture summary plus codec.
pub fn format_picture(m: &crate::media::ClipMetadata) -> String {
    let mut parts = Vec::new();
    if let (Some(w), Some(h)) = (m.width, m.height) {
        parts.push(format!("{w}x{h}"));
    }
    if let Some(rate) = &m.frame_rate {
        parts.push(format!("{} fps", format_rate(rate)));
    }
    if let Some(codec) = &m.video_codec {
        parts.push(codec.clone());
    }
    parts.join(" ")
}

/// "30000/1001" → "29.97"; plain numbers unchanged.
fn format_rate(rate: &str) -> String {
    match rate.split_once('/') {
        Some((n, d)) => match (n.parse::<f64>(), d.parse::<f64>()) {
            (Ok(n), Ok(d)) if d > 0.0 => {
                let v = n / d;
                let s = format!("{v:.3}");
                s.trim_end_matches('0').trim_end_matches('.').to_owned()
            }
            _ => rate.to_owned(),
        },
        None => rate.to_owned(),
    }
}

/// Binary-prefixed size: `512 B`, `1.5 KiB`, `2.0 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_splits_only_when_every_column_cannot_fit() {
        let (frozen, rest) = least_widths(&[], 8.0);
        assert_eq!((frozen, rest), (260.0, 326.0));
        // The central panel at 1280×800 with the settings sheet and the card list open is
        // ~680 wide: no split. With the clip editor open too (~360): split.
        assert!(680.0 >= frozen + rest && 360.0 < frozen + rest);
        let (frozen, rest) = least_widths(&[200.0, 70.0, 90.0, 80.0], 8.0);
        assert_eq!((frozen, rest), (380.0, 400.0), "kept widths count");
    }

    #[test]
    fn column_widths_are_kept_only_when_they_changed() {
        let header = [24.0, 24.0, 100.0, 120.0, 300.0, 60.0, 80.0, 70.0, 60.0];
        assert_eq!(resized(&[], &header), Some(vec![120.0, 60.0, 80.0, 70.0]));
        assert_eq!(resized(&[120.2, 60.0, 80.0, 70.0], &header), None);
        assert_eq!(
            resized(&[90.0, 60.0, 80.0, 70.0], &header),
            Some(vec![120.0, 60.0, 80.0, 70.0])
        );
        assert_eq!(resized(&[], &header[..5]), None, "header not drawn");
    }

    #[test]
    fn formats() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(format_duration(3.0), "0:03.0");
        assert_eq!(format_duration(3725.5), "1:02:05");
        assert_eq!(format_rate("30000/1001"), "29.97");
        assert_eq!(format_rate("25/1"), "25");
        assert_eq!(format_rate("50"), "50");
    }
}
