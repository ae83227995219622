//! The connection and settings panel: server, App-ID, masked token, "Test connection" with the
//! storage list, storage for originals and its mount folder, proxy mode, default collection,
//! title template and offload pattern, plus the "Try with the built-in sandbox" path.

use super::command::{Commands, UiCommand};
use super::state::{Connection, KeyringStatus, ViewModel};
use crate::settings::{ProxyChoice, ServerChoice};

/// Renders the panel into `ui`.
pub fn settings_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    // --- Preset row (issue 23): one block, kept apart from the rows below ---
    super::presets::preset_ui(ui, vm, cmds);
    ui.separator();
    // --- end of the preset row ---
    ui.heading("Connection");
    sandbox_ui(ui, vm, cmds);
    ui.separator();
    egui::Grid::new("connection_grid")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            let label = ui.label("Server");
            egui::ComboBox::from_id_salt("server_choice")
                .selected_text(vm.settings.server.label())
                .show_ui(ui, |ui| {
                    for choice in ServerChoice::ALL {
                        ui.selectable_value(&mut vm.settings.server, choice, choice.label());
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();
            match vm.settings.server {
                ServerChoice::Custom => {
                    let label = ui.label("Server URL");
                    ui.add(
                        egui::TextEdit::singleline(&mut vm.settings.custom_url)
                            .hint_text("https://iconik.example.com"),
                    )
                    .labelled_by(label.id);
                    ui.end_row();
                }
                ServerChoice::Sandbox => {
                    ui.label("Sandbox URL");
                    ui.label(vm.sandbox_url.as_deref().unwrap_or("not running"));
                    ui.end_row();
                }
                ServerChoice::AppIconik | ServerChoice::EuIconik => {}
            }
            let label = ui.label("App-ID");
            ui.add(egui::TextEdit::singleline(&mut vm.settings.app_id).hint_text("App-ID"))
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Token");
            ui.add(
                egui::TextEdit::singleline(&mut vm.token.0)
                    .password(true)
                    .hint_text("Auth token"),
            )
            .labelled_by(label.id);
            ui.end_row();
        });
    keyring_ui(ui, vm);
    ui.horizontal(|ui| {
        let testing = vm.connection == Connection::Testing;
        if ui
            .add_enabled(!testing, egui::Button::new("Test connection"))
            .clicked()
        {
            cmds.push(UiCommand::TestConnection);
        }
        let saveable = vm.settings.server != ServerChoice::Sandbox;
        if ui
            .add_enabled(saveable, egui::Button::new("Save token"))
            .on_hover_text("Store App-ID and token for this server")
            .clicked()
        {
            cmds.push(UiCommand::SaveToken);
        }
        if ui
            .add_enabled(saveable, egui::Button::new("Forget token"))
            .clicked()
        {
            cmds.push(UiCommand::ForgetToken);
        }
    });
    match &vm.connection {
        Connection::NotTested => {}
        Connection::Testing => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Connecting…");
            });
        }
        Connection::Connected => {
            ui.colored_label(
                ui.visuals().widgets.active.fg_stroke.color,
                format!("Connected: {} storages", vm.storages.len()),
            );
        }
        Connection::Failed(msg) => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("Connection failed: {msg}"),
            );
        }
    }
    ui.separator();
    storage_ui(ui, vm, cmds);
    ui.separator();
    ingest_settings_ui(ui, vm);
    ui.separator();
    tools_ui(ui, vm, cmds);
}

fn sandbox_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    ui.horizontal(|ui| {
        let busy = vm.sandbox_starting;
        if ui
            .add_enabled(
                !busy && vm.sandbox_url.is_none(),
                egui::Button::new("Try with the built-in sandbox"),
            )
            .on_hover_text(
                "No iconik account needed: a local iconik-compatible server and a sample card",
            )
            .clicked()
        {
            cmds.push(UiCommand::TrySandbox);
        }
        if busy {
            ui.spinner();
            ui.label("Starting sandbox…");
        }
    });
}

fn keyring_ui(ui: &mut egui::Ui, vm: &ViewModel) {
    match &vm.keyring {
        KeyringStatus::Opening => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Opening the OS keyring…");
            });
        }
        KeyringStatus::Available => {
            if let Some(source) = &vm.token_source {
                ui.label(format!("Token from {source}"));
            }
        }
        KeyringStatus::MemoryOnly(why) => {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "No OS keyring available: the token is kept for this run only.",
            )
            .on_hover_text(why);
        }
        KeyringStatus::Failed(msg) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("Keyring error: {msg}"));
        }
    }
}

fn storage_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    let label = ui.label("Storage for originals");
    if let Some(s) = vm.sandbox_storage() {
        // The sandbox's own storage; the real server's choice stays in the settings.
        ui.label(format!(
            "{}, mounted at {}",
            s.name,
            s.mount_point.as_deref().unwrap_or("?")
        ))
        .labelled_by(label.id);
        return;
    }
    let current = if vm.settings.storage_name.is_empty() {
        vm.settings.storage_id.clone()
    } else {
        vm.settings.storage_name.clone()
    };
    egui::ComboBox::from_id_salt("storage_choice")
        .selected_text(if current.is_empty() {
            "Test the connection to list storages".to_owned()
        } else {
            current
        })
        .width(ui.available_width().min(320.0))
        .show_ui(ui, |ui| {
            for s in &vm.storages {
                let label = format!("{} ({} {})", s.name, s.purpose, s.method);
                if ui
                    .selectable_label(vm.settings.storage_id == s.id, label)
                    .clicked()
                {
                    cmds.push(UiCommand::PickStorage(s.id.clone()));
                }
            }
        })
        .response
        .labelled_by(label.id);
    ui.horizontal(|ui| {
        let label = ui.label("Mounted at");
        ui.add(
            egui::TextEdit::singleline(&mut vm.settings.storage_mount)
                .hint_text("/Volumes/originals"),
        )
        .labelled_by(label.id);
    });
}

/// How a `proxy_encoder` setting is shown.
fn encoder_label(name: &str) -> String {
    if name.is_empty() || name.eq_ignore_ascii_case("auto") {
        "Automatic".to_owned()
    } else {
        name.to_owned()
    }
}

/// Burn-ins (as `--burn-in`) and their corner.
fn burn_in_ui(ui: &mut egui::Ui, vm: &mut ViewModel) {
    use crate::media::proxy::burn_in::{self, Corner};
    let label = ui.label("Burn-ins");
    ui.vertical(|ui| {
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(&mut vm.settings.burn_in)
                    .hint_text("timecode,clip,card,text:DAILIES")
                    // With the corner beside it, no wider than the sheet's other fields (280):
                    // a wider row widens the sheet and squeezes the clip table.
                    .desired_width(160.0),
            )
            .labelled_by(label.id)
            .on_hover_text(
                "Drawn into every proxy: timecode (running source timecode), clip, card, text:…",
            );
            let corner = ui.label("in");
            egui::ComboBox::from_id_salt("burn_in_corner")
                .width(90.0)
                .selected_text(vm.settings.burn_in_corner.clone())
                .show_ui(ui, |ui| {
                    for c in Corner::ALL {
                        ui.selectable_value(
                            &mut vm.settings.burn_in_corner,
                            c.name().to_owned(),
                            c.name(),
                        );
                    }
                })
                .response
                .labelled_by(corner.id);
        });
        if !vm.settings.burn_in.trim().is_empty()
            && let Err(e) = burn_in::parse_items(&vm.settings.burn_in)
        {
            ui.colored_label(ui.visuals().error_fg_color, e.to_string());
        }
    });
}

/// The proxy preset: one for every clip, or each family's default (listed on hover).
fn proxy_preset_ui(ui: &mut egui::Ui, vm: &mut ViewModel) {
    use crate::card::Family;
    use crate::media::proxy::preset;
    const PER_FAMILY: &str = "Per camera family";
    let label = ui.label("Proxy preset");
    let current = vm.settings.proxy_preset.clone();
    let shown = if current.is_empty() {
        PER_FAMILY.to_owned()
    } else {
        current
    };
    let families = [
        Family::P2,
        Family::Xdcam,
        Family::XdcamEx,
        Family::XavcS,
        Family::CanonXf,
        Family::Avchd,
        Family::Gopro,
        Family::Dji,
        Family::Red,
        Family::Arri,
        Family::Braw,
        Family::ImageSequence,
        Family::Generic,
    ];
    let defaults: Vec<String> = families
        .iter()
        .map(|f| format!("{}: {}", f.as_str(), preset::family_default(*f).name))
        .collect();
    egui::ComboBox::from_id_salt("proxy_preset")
        .selected_text(shown)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut vm.settings.proxy_preset, String::new(), PER_FAMILY)
                .on_hover_text(defaults.join("\n"));
            for p in preset::PRESETS {
                ui.selectable_value(&mut vm.settings.proxy_preset, p.name.to_owned(), p.name)
                    .on_hover_text(p.summary());
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(format!(
            "Resolution, bit rate and which source channels feed the stereo pair.\n\
             Per camera family: {}",
            defaults.join(", ")
        ));
}

fn ingest_settings_ui(ui: &mut egui::Ui, vm: &mut ViewModel) {
    egui::Grid::new("ingest_settings_grid")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            let label = ui.label("Proxy");
            egui::ComboBox::from_id_salt("proxy_choice")
                .selected_text(vm.settings.proxy.label())
                .show_ui(ui, |ui| {
                    for p in ProxyChoice::ALL {
                        ui.selectable_value(&mut vm.settings.proxy, p, p.label());
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Proxy encoder");
            let current = vm.settings.proxy_encoder.clone();
            egui::ComboBox::from_id_salt("proxy_encoder")
                .selected_text(encoder_label(&current))
                .show_ui(ui, |ui| {
                    let names = std::iter::once("auto")
                        .chain(crate::media::proxy::Encoder::ALL.map(|e| e.name()));
                    for name in names {
                        ui.selectable_value(
                            &mut vm.settings.proxy_encoder,
                            name.to_owned(),
                            encoder_label(name),
                        );
                    }
                })
                .response
                .labelled_by(label.id)
                .on_hover_text(
                    "Automatic: the first hardware encoder that passes a test encode, else libx264",
                );
            ui.end_row();
            proxy_preset_ui(ui, vm);
            ui.end_row();
            burn_in_ui(ui, vm);
            ui.end_row();
            let label = ui.label("Look rules");
            ui.vertical(|ui| {
                ui.add(
                    egui::TextEdit::multiline(&mut vm.settings.look_rules)
                        .desired_rows(2)
                        .desired_width(280.0)
                        .hint_text("gamma=s-log3 => /luts/slog3-to-709.cube"),
                )
                .labelled_by(label.id)
                .on_hover_text(
                    "One rule per line: FIELD=VALUE => FILE.cube. FIELD is gamma, gamut, camera, \
                     family, codec or a sidecar field; the first rule whose field contains the \
                     value gives the clip's look. A clip's own choice (clip editor) comes first.",
                );
                if let Err(e) =
                    crate::media::proxy::look_rules::parse_rules(&vm.settings.look_rules)
                {
                    ui.colored_label(ui.visuals().error_fg_color, e.to_string());
                }
            });
            ui.end_row();
            ui.label("");
            ui.checkbox(
                &mut vm.settings.camera_proxy,
                "Use the camera's proxy when it qualifies",
            )
            .on_hover_text(
                "P2 PROXY, Sony Sub/SUB, GoPro LRV, DJI LRF: registered without an encode when \
                 H.264 without B-frames, at least 240 lines, with sound and the clip's length",
            );
            ui.end_row();
            let label = ui.label("Default collection");
            ui.add(
                egui::TextEdit::singleline(&mut vm.settings.default_collection).hint_text("none"),
            )
            .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Title template");
            ui.add(egui::TextEdit::singleline(&mut vm.settings.title_template))
                .labelled_by(label.id)
                .on_hover_text("{user_clip_name} {name} {card} {date} {family}");
            ui.end_row();
            let label = ui.label("Metadata view");
            if vm.settings.server == ServerChoice::Sandbox {
                // The sandbox's own view is used (its id changes with every start).
                ui.label(
                    vm.views
                        .first()
                        .map(|v| format!("{} (sandbox)", v.name))
                        .unwrap_or_else(|| "none".to_owned()),
                )
                .labelled_by(label.id);
                ui.end_row();
            } else {
                metadata_view_ui(ui, vm, label.id);
                ui.end_row();
            }
            ui.label("");
            ui.checkbox(
                &mut vm.settings.offload,
                "Copy the card to the storage first",
            )
            .on_hover_text("Copy and verify (MD5 + xxHash64, ASC MHL) below the mount folder");
            ui.end_row();
            let label = ui.label("Offload to");
            ui.add_enabled(
                vm.settings.offload,
                egui::TextEdit::singleline(&mut vm.settings.offload_pattern),
            )
            .labelled_by(label.id)
            .on_hover_text("Folder below the storage mount: {date} {card}");
            ui.end_row();
            let label = ui.label("Also copy to");
            let mut also = vm.settings.offload_also.join("\n");
            let edit = ui
                .add_enabled(
                    vm.settings.offload,
                    egui::TextEdit::multiline(&mut also).desired_rows(2),
                )
                .labelled_by(label.id)
                .on_hover_text(
                    "More destinations (e.g. a shuttle drive), one folder per line: the card is \
                     read once and each gets its own verified copy and ASC MHL",
                );
            if edit.changed() {
                vm.settings.offload_also = also.lines().map(str::to_owned).collect();
            }
            ui.end_row();
            ui.label("");
            ui.add_enabled(
                vm.settings.offload,
                egui::Checkbox::new(
                    &mut vm.settings.verify_size_only,
                    "Size-only check (faster, copies not re-read)",
                ),
            )
            .on_hover_text(
                "Off: every copy is re-read from the destination drive and its checksums \
                 compared. On: only sizes are compared, and the report says so",
            );
            ui.end_row();
            ui.label("");
            ui.add_enabled(
                vm.settings.offload,
                egui::Checkbox::new(
                    &mut vm.settings.allow_same_volume,
                    "Allow a copy on the card's own drive",
                ),
            )
            .on_hover_text(
                "A copy on the same drive is lost with it; off refuses such a destination",
            );
            ui.end_row();
            let offload = vm.settings.offload;
            lines_row(
                ui,
                "Then copy to",
                &mut vm.settings.cascade_to,
                offload,
                "Later tiers, one folder per line: filled from the first copy once it is \
                 verified, so the card can be ejected sooner",
                |_| Ok(()),
            );
            lines_row(
                ui,
                "Their iconik storages",
                &mut vm.settings.offload_storages,
                offload,
                "STORAGE=LOCAL_MOUNT per line: a further destination below that mount gets its \
                 own file set on that storage",
                |l| crate::settings::parse_target(l, true).map(drop),
            );
            let label = ui.label("Verified copies required");
            ui.add_enabled(
                offload,
                egui::DragValue::new(&mut vm.settings.required_copies)
                    .range(0..=8)
                    .custom_formatter(|n, _| {
                        if n == 0.0 {
                            "all".to_owned()
                        } else {
                            format!("{n}")
                        }
                    }),
            )
            .labelled_by(label.id)
            .on_hover_text(
                "For safe to erase: a later tier that failed is excused while this many verified \
                 copies remain (all: every destination must be verified)",
            );
            ui.end_row();
            let label = ui.label("Copies at once per drive");
            ui.add_enabled(
                offload,
                egui::DragValue::new(&mut vm.settings.drive_writers).range(1..=8),
            )
            .labelled_by(label.id)
            .on_hover_text(
                "Across all cards: 1 keeps a spinning drive from seeking between copies",
            );
            ui.end_row();
            if vm.settings.offload {
                ui.label("Copies go to");
                destinations_ui(ui, vm.destinations.as_ref());
                ui.end_row();
            }
            lines_row(
                ui,
                "Cloud copy to",
                &mut vm.settings.cloud_copy,
                true,
                "Cloud storages (id or name), one per line: the originals are uploaded there \
                 too and checked against the storage's MD5",
                |_| Ok(()),
            );
            lines_row(
                ui,
                "Edit proxy to",
                &mut vm.settings.edit_proxy_to,
                true,
                "STORAGE[=LOCAL_MOUNT] per line: a PPRO_PROXY (ProRes/DNxHR MOV with the \
                 original's audio channels) is made and stored there; none: no edit proxy",
                |l| crate::settings::parse_target(l, false).map(drop),
            );
            let label = ui.label("Edit proxy codec");
            egui::ComboBox::from_id_salt("edit_codec")
                .selected_text(vm.settings.edit_proxy_codec.clone())
                .show_ui(ui, |ui| {
                    for c in ["prores-proxy", "dnxhr-lb"] {
                        ui.selectable_value(&mut vm.settings.edit_proxy_codec, c.to_owned(), c);
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Upload cap");
            ui.vertical(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut vm.settings.max_upload_rate)
                        .hint_text("none (e.g. 20M)"),
                )
                .labelled_by(label.id)
                .on_hover_text("Bytes per second for all uploads together: 20M, 500k");
                if let Err(e) = crate::settings::upload_rate(&vm.settings.max_upload_rate) {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
            });
            ui.end_row();
            ui.label("");
            ui.checkbox(
                &mut vm.settings.start_when_inserted,
                "Start a card by itself when it is inserted",
            )
            .on_hover_text(
                "A camera card on a newly mounted volume is loaded, queued and ingested with \
                 these settings; a notification says so",
            );
            ui.end_row();
            ui.label("");
            ui.checkbox(
                &mut vm.settings.iconik_job,
                "Show the ingest on iconik's Jobs page",
            )
            .on_hover_text(
                "One job per card with a child per clip, so others see it; aborting it in \
                 iconik stops the card",
            );
            ui.end_row();
            ui.label("");
            ui.checkbox(
                &mut vm.settings.notify_desktop,
                "Notify me when a card is done",
            )
            .on_hover_text(
                "A desktop notification when a card finishes, fails or is safe to erase",
            );
            ui.end_row();
            let label = ui.label("Webhook");
            ui.add(
                egui::TextEdit::singleline(&mut vm.settings.webhook_url)
                    .hint_text("https://… (optional)"),
            )
            .labelled_by(label.id)
            .on_hover_text("Each finished card's summary is POSTed here as JSON");
            ui.end_row();
        });
}

/// Paths to ffmpeg, ffprobe and MediaInfo; empty fields are looked for next to the app, on PATH
/// and in the usual install folders.
fn tools_ui(ui: &mut egui::Ui, vm: &mut ViewModel, cmds: &mut Commands) {
    ui.heading("Media tools");
    egui::Grid::new("tools_grid")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            for (name, value) in [
                ("ffmpeg", &mut vm.settings.tools.ffmpeg),
                ("ffprobe", &mut vm.settings.tools.ffprobe),
                ("MediaInfo", &mut vm.settings.tools.mediainfo),
            ] {
                let label = ui.label(name);
                ui.add(egui::TextEdit::singleline(value).hint_text("found automatically"))
                    .labelled_by(label.id)
                    .on_hover_text("The program file (or its folder); empty: next to card-ingest, on PATH, or in the usual install folders");
                ui.end_row();
            }
        });
    ui.horizontal(|ui| {
        if ui.button("Check media tools").clicked() {
            cmds.push(UiCommand::CheckTools);
        }
        if vm.missing_tools.is_empty() {
            ui.weak("all found");
        } else {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{} missing (see the banner)", vm.missing_tools.len()),
            );
        }
    });
}

fn metadata_view_ui(ui: &mut egui::Ui, vm: &mut ViewModel, label: egui::Id) {
    let current = vm
        .views
        .iter()
        .find(|v| v.id == vm.settings.metadata_view)
        .map(|v| v.name.clone())
        .unwrap_or_else(|| {
            if vm.settings.metadata_view.is_empty() {
                "none".to_owned()
            } else {
                vm.settings.metadata_view.clone()
            }
        });
    egui::ComboBox::from_id_salt("metadata_view_choice")
        .selected_text(current)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut vm.settings.metadata_view, String::new(), "none");
            for v in &vm.views {
                ui.selectable_value(&mut vm.settings.metadata_view, v.id.clone(), &v.name)
                    .on_hover_text(format!("fields: {}", v.fields.join(", ")));
            }
        })
        .response
        .labelled_by(label)
        .on_hover_text(
            "Description and edited fields are written to the view's fields of the same name \
             (scene, camera, description, ...)",
        );
}

/// Each destination of the loaded card as the run will write it (after the pattern), with the
/// card's bytes against the drive's free space, or in red why the run would refuse — the
/// run's own pre-flight, checked as the operator types.
fn destinations_ui(
    ui: &mut egui::Ui,
    destinations: Option<&Result<Vec<super::state::DestinationRow>, String>>,
) {
    use super::cards::format_bytes;
    ui.vertical(|ui| match destinations {
        None => {
            ui.weak("(load a card to see its folders)");
        }
        Some(Err(why)) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("Refused: {why}"));
        }
        Some(Ok(rows)) if rows.is_empty() => {
            ui.weak("the card is already under the storage: registered in place");
        }
        Some(Ok(rows)) => {
            for row in rows {
                ui.label(row.folder.display().to_string());
                let room = match row.free {
                    Some(free) => format!(
                        "needs {} of the card's {} · {} free",
                        format_bytes(row.needed),
                        format_bytes(row.card_bytes),
                        format_bytes(free)
                    ),
                    None => format!(
                        "needs {} of the card's {} · free space unknown",
                        format_bytes(row.needed),
                        format_bytes(row.card_bytes)
                    ),
                };
                ui.weak(room);
                if let Some(from) = &row.renamed_from {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        format!("{} holds a different card: a new folder", from.display()),
                    );
                }
            }
        }
    });
}

/// A grid row holding a list, one entry per line, with each line `check` refuses named in
/// red below it (the run leaves such lines out).
fn lines_row(
    ui: &mut egui::Ui,
    name: &str,
    list: &mut Vec<String>,
    enabled: bool,
    hint: &str,
    check: impl Fn(&str) -> Result<(), String>,
) {
    let label = ui.label(name);
    ui.vertical(|ui| {
        let mut text = list.join("\n");
        let edit = ui
            .add_enabled(
                enabled,
                egui::TextEdit::multiline(&mut text).desired_rows(1),
            )
            .labelled_by(label.id)
            .on_hover_text(hint);
        if edit.changed() {
            *list = text.lines().map(str::to_owned).collect();
        }
        for line in list.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
            if let Err(e) = check(line) {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
        }
    });
    ui.end_row();
}
