//! Turns the view model (settings, connection, selected clips and the operator's edits) into an
//! [`SessionRequest`]: what the window shows is exactly what gets registered. Pure: no I/O, so it
//! runs on the UI thread and is unit-tested.

use super::state::{MetaField, ViewModel};
use crate::ingest::CardPlan;
use crate::ingest::session::{Face, SessionConfig, SessionRequest};
use crate::settings::{ProxyChoice, ServerChoice};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

/// The description goes to the view field of this name.
const DESCRIPTION_FIELD: &str = "description";

/// A session to run, the queue's (clip id, title) rows, and notes for the log.
#[derive(Debug)]
pub struct Plan {
    pub request: SessionRequest,
    pub queue: Vec<(String, String)>,
    pub notes: Vec<String>,
}

/// Where the run keeps its files, and the server it talks to.
#[derive(Debug, Clone)]
pub struct Target {
    pub server: String,
    pub data_dir: PathBuf,
}

/// Builds the ingest of the selected clips, or says (in the operator's words) what is missing.
pub fn plan(vm: &ViewModel, target: &Target) -> Result<Plan, String> {
    if !vm.connected() {
        return Err(
            "Connect first: press \"Test connection\" (or try the built-in sandbox).".into(),
        );
    }
    let sandbox = vm.settings.server == ServerChoice::Sandbox;
    let (storage, root) = storage_and_root(vm)?;
    let view = vm.chosen_view().cloned();
    let mut notes = Vec::new();
    if !sandbox && !vm.settings.metadata_view.is_empty() && view.is_none() {
        notes.push(format!(
            "metadata view {} is not among the server's views: no metadata values are written",
            vm.settings.metadata_view
        ));
    }

    let mut queue = Vec::new();
    let mut titles = HashMap::new();
    let mut collections = HashMap::new();
    let mut clip_looks = HashMap::new();
    let mut metadata: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    // Every clip of a card with a selected clip goes to the session (the verdict and the report
    // cover them all); the selected ones carry the operator's edits.
    let mut plans: Vec<CardPlan> = Vec::new();
    for row in &vm.card.clips {
        let id = row.id().to_owned();
        let card_root = &row.scanned.clip.card_root;
        // A clip the preview found in iconik runs too: the engine confirms it and skips it as
        // a duplicate, so the verdict counts it from iconik's answer, not from an unticked box.
        let runs = row.ingestable() && (row.selected || vm.in_iconik(&id));
        let mut scanned = row.scanned.clone();
        if runs && row.selected {
            let title = vm.title_of(row);
            let edit = vm.edits.get(&id);
            for (field, value) in edit.map(|e| &e.fields).into_iter().flatten() {
                field.apply(&mut scanned.metadata, value);
            }
            if let Some(c) = edit.and_then(|e| e.collection.clone()) {
                collections.insert(id.clone(), c);
            }
            if let Some(look) = edit.and_then(|e| e.look.clone()) {
                clip_looks.insert(id.clone(), look);
            }
            if let Some(view) = &view {
                let values = view_values(vm, row, view, &mut notes);
                if !values.is_empty() {
                    metadata.insert(id.clone(), values);
                }
            } else if edit.is_some_and(|e| !e.description.trim().is_empty() || !e.fields.is_empty())
            {
                notes.push(format!(
                    "{}: edited fields are registered only through a metadata view; pick one in \
                     Connection",
                    row.scanned.clip.name
                ));
            }
            titles.insert(id.clone(), title.clone());
            queue.push((id.clone(), title));
        }
        let plan_index = match plans.iter().position(|p| &p.card.root == card_root) {
            Some(i) => i,
            None => {
                let card = vm
                    .card
                    .cards
                    .iter()
                    .find(|c| &c.root == card_root)
                    .cloned()
                    .ok_or_else(|| {
                        format!(
                            "clip {} belongs to no scanned card: scan the card again",
                            row.scanned.clip.name
                        )
                    })?;
                plans.push(CardPlan {
                    card,
                    clips: Vec::new(),
                    selected: HashSet::new(),
                });
                plans.len() - 1
            }
        };
        let plan = &mut plans[plan_index];
        if runs {
            plan.selected.insert(id);
        }
        plan.clips.push(scanned);
    }
    if queue.is_empty() {
        return Err("Select at least one complete clip to ingest.".into());
    }
    // Cards with nothing ticked are not part of this ingest.
    plans.retain(|p| {
        p.clips
            .iter()
            .any(|c| p.selected.contains(&c.clip.id) && queue.iter().any(|(q, _)| q == &c.clip.id))
    });
    let no_ffmpeg = vm
        .missing_tools
        .iter()
        .any(|m| m.kind == crate::media::tools::ToolKind::Ffmpeg);
    if vm.settings.proxy == ProxyChoice::Local && no_ffmpeg {
        // Refused before any call: every clip would otherwise fail at its proxy step.
        return Err(
            "ffmpeg was not found, so local proxies cannot be made: choose \"iconik transcoder\" \
             or \"No proxy\" (banner or Settings › Proxy), or install ffmpeg and press \
             \"Check again\"."
                .into(),
        );
    }
    let mut options =
        vm.settings
            .ingest_options(storage, PathBuf::from(root), &target.data_dir, sandbox);
    options.clip_looks = clip_looks;
    options.metadata_view = view.map(|v| v.id);
    options.clip_metadata = metadata;
    options.clip_titles = titles;
    options.clip_collections = collections;
    let config = SessionConfig {
        face: Face::Window,
        server: target.server.clone(),
        credentials: crate::iconik::Credentials::new(vm.settings.app_id.trim(), vm.token.0.trim()),
        options,
        journal_dir: target.data_dir.join("journals"),
        report_dir: target.data_dir.join("reports"),
        // Always kept, so "Show API transcript" has something to show.
        transcript: Some(target.data_dir.join("transcripts").join(format!(
            "card-ingest-{}.sh",
            chrono::Local::now().format("%Y%m%d-%H%M%S")
        ))),
        sandbox,
        tool_paths: vm.settings.tools.clone(),
        notify_desktop: vm.settings.notify_desktop,
        webhook_url: vm.settings.webhook_url.clone(),
        keep_open: true,
        offload_after_copy: None,
    };
    Ok(Plan {
        request: SessionRequest {
            config,
            plans,
            cards: vm.card.cards.clone(),
        },
        queue,
        notes,
    })
}

/// The originals storage (id) and its local mount, as the sheet shows them.
fn storage_and_root(vm: &ViewModel) -> Result<(String, String), String> {
    let (storage, root) = if vm.settings.server == ServerChoice::Sandbox {
        // The in-process sandbox's own FILES storage and its mount (the file system root).
        let s = vm
            .sandbox_storage()
            .ok_or("The sandbox lists no FILES storage.")?;
        (s.id.clone(), s.mount_point.clone().unwrap_or_default())
    } else {
        (
            vm.settings.storage_id.clone(),
            vm.settings.storage_mount.trim().to_owned(),
        )
    };
    if storage.is_empty() {
        return Err("Pick the storage for originals in Connection.".into());
    }
    if root.is_empty() {
        return Err(format!(
            "Set the folder where storage {} is mounted on this computer (Connection, \"Mounted \
             at\"): iconik paths are relative to it.",
            vm.settings.storage_name
        ));
    }
    Ok((storage, root))
}

/// The offload of the first loaded card as the sheet stands (`None`: no card or no offload):
/// the same request the run's pre-flight checks, so the window can show every destination's
/// folder, room and refusal before the run.
pub fn offload_preview(
    vm: &ViewModel,
    data_dir: &std::path::Path,
) -> Option<Result<crate::offload::OffloadRequest, String>> {
    let card = vm.card.cards.first()?;
    if !vm.settings.offload {
        return None;
    }
    let (storage, root) = match storage_and_root(vm) {
        Ok(x) => x,
        Err(e) => return Some(Err(e)),
    };
    let sandbox = vm.settings.server == ServerChoice::Sandbox;
    let options = vm
        .settings
        .ingest_options(storage, PathBuf::from(root), data_dir, sandbox);
    // The same names the run resolves: from the card's scanned clips, the project and preset.
    let names = options.name_values(
        vm.card
            .clips
            .iter()
            .filter(|r| r.scanned.clip.card_root == card.root)
            .map(|r| &r.scanned.metadata),
    );
    options.offload_request(card.root.clone(), names).map(Ok)
}

/// The view values of a selected clip: each field the view has (edited or scanned), and the
/// description; a note for each edit the view cannot store.
fn view_values(
    vm: &ViewModel,
    row: &super::state::ClipRow,
    view: &crate::ui::background::ViewInfo,
    notes: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let edit = vm.edits.get(row.id());
    let mut values = BTreeMap::new();
    for field in MetaField::ALL {
        let value = vm.field_value(row, field);
        let edited = edit.is_some_and(|e| e.fields.contains_key(&field));
        if value.trim().is_empty() {
            continue;
        }
        if view.fields.iter().any(|f| f == field.view_field()) {
            values.insert(field.view_field().to_owned(), value);
        } else if edited {
            notes.push(format!(
                "{}: {} not written (view {:?} has no field {:?})",
                row.scanned.clip.name,
                field.label(),
                view.name,
                field.view_field()
            ));
        }
    }
    if let Some(d) = edit.map(|e| e.description.trim()).filter(|d| !d.is_empty()) {
        if view.fields.iter().any(|f| f == DESCRIPTION_FIELD) {
            values.insert(DESCRIPTION_FIELD.to_owned(), d.to_owned());
        } else {
            notes.push(format!(
                "{}: description not written (view {:?} has no field {DESCRIPTION_FIELD:?})",
                row.scanned.clip.name, view.name
            ));
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{Card, Clip, ClipFile, Family, FileRole};
    use crate::media::ClipMetadata;
    use crate::scan::ScannedClip;
    use crate::ui::background::ViewInfo;
    use crate::ui::state::{ClipEdit, ClipRow, Connection, PosterState, StorageRow};

    fn row(card: &str, name: &str) -> ClipRow {
        let root = PathBuf::from(format!("/cards/{card}"));
        ClipRow {
            scanned: ScannedClip {
                clip: Clip {
                    id: format!("p2:{name}"),
                    name: name.to_owned(),
                    family: Family::P2,
                    card_root: root.clone(),
                    files: vec![ClipFile {
                        path: root.join(format!("CONTENTS/VIDEO/{name}.MXF")),
                        role: FileRole::Video,
                        size: 10,
                    }],
                    segments: vec![vec![0]],
                    incomplete: None,
                    warnings: Vec::new(),
                    derived_from: None,
                },
                metadata: ClipMetadata {
                    camera_model: Some("AJ-PX270".into()),
                    ..ClipMetadata::default()
                },
                raw_metadata: serde_json::Value::Null,
                camera_proxy: None,
                description: None,
                pending: None,
            },
            selected: true,
            expanded: false,
            poster: PosterState::NotRequested,
        }
    }

    fn vm() -> ViewModel {
        let mut vm = ViewModel {
            connection: Connection::Connected,
            ..ViewModel::default()
        };
        vm.settings.server = ServerChoice::Custom;
        vm.settings.storage_id = "st-1".into();
        vm.settings.storage_name = "Originals".into();
        vm.settings.storage_mount = "/mnt/originals".into();
        vm.settings.metadata_view = "view-1".into();
        vm.settings.app_id = "app".into();
        vm.token.0 = "s3cr3t-T0K".into();
        vm.views = vec![ViewInfo {
            id: "view-1".into(),
            name: "Clips".into(),
            fields: vec!["scene".into(), "camera".into()],
        }];
        vm.card.clips = vec![row("A", "0001AA"), row("A", "0002AA"), row("B", "0003BB")];
        vm.card.cards = ["A", "B"]
            .iter()
            .map(|c| Card {
                family: Family::P2,
                root: PathBuf::from(format!("/cards/{c}")),
            })
            .collect();
        vm
    }

    fn target() -> Target {
        Target {
            server: "https://app.iconik.io".into(),
            data_dir: PathBuf::from("/data"),
        }
    }

    #[test]
    fn the_editor_says_where_each_field_is_stored() {
        let v = vm();
        assert_eq!(v.stored_in(MetaField::Scene), "view + format");
        assert_eq!(v.stored_in(MetaField::CameraModel), "view");
        assert_eq!(v.stored_in(MetaField::Take), "format");
        assert_eq!(v.stored_in(MetaField::FrameRate), "not stored");
    }

    #[test]
    fn edits_become_titles_collections_and_view_values_grouped_by_card() {
        let mut vm = vm();
        vm.card.clips[1].selected = false;
        let mut edit = ClipEdit {
            title: Some("Interview wide".into()),
            description: "Lead actor".into(),
            collection: Some("Day 2".into()),
            look: Some(crate::media::proxy::look_rules::ClipLook::NoLook),
            ..ClipEdit::default()
        };
        vm.settings.look_rules = "gamma=s-log3 => /l/a.cube\nbroken".into();
        edit.fields.insert(MetaField::Scene, "12A".into());
        edit.fields.insert(MetaField::FrameRate, "25".into());
        vm.edits.insert("p2:0001AA".into(), edit);
        let plan = plan(&vm, &target()).expect("plan");
        let r = &plan.request;
        assert_eq!(r.config.options.storage, "st-1");
        assert_eq!(
            r.config.options.storage_root,
            PathBuf::from("/mnt/originals")
        );
        assert_eq!(r.config.options.offload_to, None);
        assert_eq!(r.config.options.metadata_view.as_deref(), Some("view-1"));
        assert_eq!(
            plan.queue,
            [
                ("p2:0001AA".to_owned(), "Interview wide".to_owned()),
                ("p2:0003BB".to_owned(), "0003BB".to_owned())
            ]
        );
        assert_eq!(r.config.options.clip_titles["p2:0001AA"], "Interview wide");
        assert_eq!(r.config.options.clip_collections["p2:0001AA"], "Day 2");
        assert!(!r.config.options.clip_collections.contains_key("p2:0003BB"));
        // The clip's own look choice; broken rule text is ignored rather than half-applied.
        assert_eq!(
            r.config.options.clip_looks["p2:0001AA"],
            crate::media::proxy::look_rules::ClipLook::NoLook
        );
        assert_eq!(r.config.options.clip_looks.len(), 1);
        assert!(r.config.options.look_rules.is_empty());
        assert!(r.config.options.burn_in.is_empty());
        // Fields the view has: the edit (scene) and the scanned camera; not the frame rate.
        let a = &r.config.options.clip_metadata["p2:0001AA"];
        assert_eq!(a.get("scene").map(String::as_str), Some("12A"));
        assert_eq!(a.get("camera").map(String::as_str), Some("AJ-PX270"));
        assert_eq!(a.len(), 2, "{a:?}");
        assert_eq!(r.config.options.clip_metadata["p2:0003BB"].len(), 1);
        assert_eq!(plan.notes.len(), 2, "{:?}", plan.notes);
        assert!(plan.notes.iter().any(|n| n.contains("Frame rate")));
        assert!(plan.notes.iter().any(|n| n.contains("description")));
        // The frame-rate edit is still what the clip is registered with.
        let cards: Vec<_> = r.plans.iter().map(|j| j.card.root.clone()).collect();
        assert_eq!(
            cards,
            [PathBuf::from("/cards/A"), PathBuf::from("/cards/B")]
        );
        // Card A's plan holds both its clips (the verdict covers them); only one runs.
        assert_eq!(r.plans[0].clips.len(), 2);
        assert_eq!(r.plans[0].selected, HashSet::from(["p2:0001AA".to_owned()]));
        let job = r.plans[0].split(&r.cards);
        assert_eq!(job.clips.len(), 1);
        assert_eq!(job.left_out.len(), 1);
        assert_eq!(
            job.left_out[0].why,
            crate::ingest::LeftOutReason::NotSelected
        );
        assert_eq!(
            r.plans[0].clips[0].metadata.frame_rate.as_deref(),
            Some("25")
        );
        assert_eq!(r.config.credentials.token.expose(), "s3cr3t-T0K");
        assert!(
            !format!("{r:?}").contains("s3cr3t"),
            "Debug redacts the token"
        );
    }

    #[test]
    fn scanned_production_fields_go_to_the_view_fields_of_the_same_name_and_can_be_edited() {
        let mut v = vm();
        v.views[0].fields = [
            "scene",
            "take",
            "tape",
            "circled",
            "track_names",
            "recorder",
        ]
        .map(String::from)
        .to_vec();
        let m = &mut v.card.clips[0].scanned.metadata;
        m.scene = Some("A101".into());
        m.take = Some("1".into());
        m.tape = Some("24Y05M14".into());
        m.circled = Some("true".into());
        m.track_names = Some("Boom, Lav".into());
        m.recorder = Some("Sound Devices".into());
        m.note = Some("door slam".into());
        m.sources
            .insert("scene".into(), "A101_1.WAV iXML SCENE".into());
        let mut edit = ClipEdit::default();
        edit.fields.insert(MetaField::Take, "2".into());
        v.edits.insert("p2:0001AA".into(), edit);
        let plan = plan(&v, &target()).expect("plan");
        let a = &plan.request.config.options.clip_metadata["p2:0001AA"];
        let got: Vec<(&str, &str)> = a.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            got,
            [
                ("circled", "true"),
                ("recorder", "Sound Devices"),
                ("scene", "A101"),
                ("take", "2"),
                ("tape", "24Y05M14"),
                ("track_names", "Boom, Lav")
            ]
        );
        // The registered clip carries the edit; the note has no view field and is not written.
        let m = &plan.request.plans[0].clips[0].metadata;
        assert_eq!(m.take.as_deref(), Some("2"));
        let sm = &v.card.clips[0].scanned.metadata;
        assert_eq!(MetaField::Scene.source(sm), Some("A101_1.WAV iXML SCENE"));
        assert_eq!(
            crate::ui::clip_edit::scanned_text("A101", MetaField::Scene.source(sm)),
            "Scanned: A101 (from A101_1.WAV iXML SCENE)"
        );
        assert_eq!(MetaField::Note.original(sm), "door slam");
    }

    #[test]
    fn says_what_is_missing() {
        let mut v = vm();
        v.connection = Connection::NotTested;
        assert!(plan(&v, &target()).unwrap_err().contains("Connect first"));
        let mut v = vm();
        v.settings.storage_mount.clear();
        let e = plan(&v, &target()).unwrap_err();
        assert!(e.contains("Originals") && e.contains("Mounted at"), "{e}");
        let mut v = vm();
        v.settings.storage_id.clear();
        assert!(
            plan(&v, &target())
                .unwrap_err()
                .contains("Pick the storage")
        );
        let mut v = vm();
        for r in &mut v.card.clips {
            r.selected = false;
        }
        assert!(
            plan(&v, &target())
                .unwrap_err()
                .contains("Select at least one")
        );
        let mut v = vm();
        v.card.cards.clear();
        assert!(
            plan(&v, &target())
                .unwrap_err()
                .contains("scan the card again")
        );
    }

    #[test]
    fn the_sandbox_uses_its_own_storage_mount_and_view_and_offloads_into_the_data_folder() {
        let mut v = vm();
        v.settings.server = ServerChoice::Sandbox;
        v.settings.offload = true;
        v.storages = vec![StorageRow {
            id: "sbx-files".into(),
            name: "Sandbox originals".into(),
            purpose: "FILES".into(),
            method: "FILE".into(),
            mount_point: Some("/".into()),
        }];
        v.views[0].id = "sbx-view".into();
        let r = plan(&v, &target()).expect("plan").request;
        assert!(r.config.sandbox);
        assert_eq!(r.config.options.storage, "sbx-files");
        assert_eq!(r.config.options.storage_root, PathBuf::from("/"));
        assert_eq!(
            r.config.options.offload_to,
            Some(PathBuf::from("/data/sandbox-originals"))
        );
        assert_eq!(r.config.options.metadata_view.as_deref(), Some("sbx-view"));
    }

    /// "Copies go to" resolves the naming placeholders as the run does: from the first card's
    /// scanned clips, the settings' project and the preset, with fallbacks for what is missing.
    #[test]
    fn the_destination_preview_resolves_the_naming_placeholders() {
        let mut v = vm();
        v.settings.offload = true;
        v.settings.offload_pattern = "{project}/{camera}_{reel}/{preset}/{card}".into();
        v.settings.project = "Nordlicht".into();
        v.settings.preset = "Day 2".into();
        let r = offload_preview(&v, std::path::Path::new("/data"))
            .expect("a preview")
            .expect("an offload");
        assert_eq!(r.names.camera.as_deref(), Some("AJ-PX270"));
        let folder = crate::offload::plan::destination_dir(
            &r.destination_root,
            &r.pattern,
            "A",
            r.date,
            &r.names,
        )
        .expect("folder");
        assert_eq!(
            folder,
            PathBuf::from("/mnt/originals/Nordlicht/AJ-PX270_unknown-reel/Day 2/A")
        );
    }
}
