//! Turns the view model (settings, connection, selected clips and the operator's edits) into an
//! [`IngestRequest`]: what the window shows is exactly what gets registered. Pure: no I/O, so it
//! runs on the UI thread and is unit-tested.

use super::config::{ProxyChoice, ServerChoice};
use super::ingest_run::IngestRequest;
use super::state::{MetaField, ViewModel};
use crate::ingest::{CardJob, IngestOptions, ProxyMode};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// The description goes to the view field of this name.
const DESCRIPTION_FIELD: &str = "description";

/// A request to run, the queue's (clip id, title) rows, and notes for the log.
#[derive(Debug)]
pub struct Plan {
    pub request: IngestRequest,
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
    let (storage, root) = if sandbox {
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
    let view = if sandbox {
        vm.views.first().cloned()
    } else {
        vm.views
            .iter()
            .find(|v| v.id == vm.settings.metadata_view)
            .cloned()
    };
    let mut notes = Vec::new();
    if !sandbox && !vm.settings.metadata_view.is_empty() && view.is_none() {
        notes.push(format!(
            "metadata view {} is not among the server's views: no metadata values are written",
            vm.settings.metadata_view
        ));
    }

    let mut jobs: Vec<CardJob> = Vec::new();
    let mut queue = Vec::new();
    let mut titles = HashMap::new();
    let mut collections = HashMap::new();
    let mut clip_looks = HashMap::new();
    let mut metadata: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    for row in vm
        .card
        .clips
        .iter()
        .filter(|r| r.selected && r.ingestable())
    {
        let id = row.id().to_owned();
        let title = vm.title_of(row);
        let edit = vm.edits.get(&id);
        let mut scanned = row.scanned.clone();
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
            if !values.is_empty() {
                metadata.insert(id.clone(), values);
            }
        } else if edit.is_some_and(|e| !e.description.trim().is_empty() || !e.fields.is_empty()) {
            notes.push(format!(
                "{}: edited fields are registered only through a metadata view; pick one in \
                 Connection",
                row.scanned.clip.name
            ));
        }
        titles.insert(id.clone(), title.clone());
        queue.push((id, title));
        let card_root = &scanned.clip.card_root;
        match jobs.iter_mut().find(|j| &j.card.root == card_root) {
            Some(job) => job.clips.push(scanned),
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
                jobs.push(CardJob::new(card, vec![scanned], &vm.card.cards));
            }
        }
    }
    for job in &mut jobs {
        job.span_cards =
            crate::ingest::engine::span_cards_of(&job.card.root, &job.clips, &vm.card.cards);
    }
    if queue.is_empty() {
        return Err("Select at least one complete clip to ingest.".into());
    }
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
    let root = PathBuf::from(root);
    let mut options = IngestOptions::new(storage, root.clone(), target.data_dir.join("proxies"));
    // Offload copies go below the storage's mount; the sandbox's mount is the file system root,
    // so its copies go to a folder of the app's own instead of `/`.
    options.offload_to = vm.settings.offload.then(|| {
        if sandbox {
            target.data_dir.join("sandbox-originals")
        } else {
            root
        }
    });
    options.offload_pattern = vm.settings.offload_pattern.clone();
    options.offload_also = vm
        .settings
        .offload_also
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect();
    options.verify = if vm.settings.verify_size_only {
        crate::offload::VerifyMode::Size
    } else {
        crate::offload::VerifyMode::ReadBack
    };
    // Trying things out in the sandbox, the card and the app's data folder are usually on one
    // drive: allow that there; against a real storage it is the operator's choice.
    options.allow_same_volume = vm.settings.allow_same_volume || sandbox;
    options.proxy = match vm.settings.proxy {
        ProxyChoice::Local => ProxyMode::Local,
        ProxyChoice::Iconik => ProxyMode::Iconik,
        ProxyChoice::None => ProxyMode::None,
    };
    options.encoder = vm.settings.proxy_encoder.parse().unwrap_or_else(|e| {
        // A hand-edited settings file: detect rather than refuse the whole ingest.
        tracing::warn!(error = %e, "proxy encoder setting ignored");
        crate::media::proxy::EncoderChoice::Auto
    });
    let preset = vm.settings.proxy_preset.trim();
    options.proxy_preset = if preset.is_empty() {
        None
    } else {
        // A hand-edited settings file: the family defaults rather than refusing the ingest.
        crate::media::proxy::preset::find(preset)
            .inspect_err(|e| tracing::warn!(error = %e, "proxy preset setting ignored"))
            .ok()
    };
    options.camera_proxy = vm.settings.camera_proxy;
    options.clip_looks = clip_looks;
    if !vm.settings.burn_in.trim().is_empty() {
        use crate::media::proxy::burn_in;
        // A broken setting is shown in the panel; the ingest then goes without burn-ins.
        match burn_in::parse_items(&vm.settings.burn_in) {
            Ok(items) => options.burn_in = items,
            Err(e) => tracing::warn!(error = %e, "burn-in setting ignored"),
        }
        options.burn_in_corner = vm.settings.burn_in_corner.parse().unwrap_or_default();
    }
    options.look_rules = crate::media::proxy::look_rules::parse_rules(&vm.settings.look_rules)
        .unwrap_or_else(|e| {
            // The settings panel shows the error; a broken line must not stop the ingest.
            tracing::warn!(error = %e, "look rules ignored");
            Vec::new()
        });
    options.collection =
        Some(vm.settings.default_collection.trim().to_owned()).filter(|c| !c.is_empty());
    options.metadata_view = view.map(|v| v.id);
    options.clip_metadata = metadata;
    options.clip_titles = titles;
    options.clip_collections = collections;
    Ok(Plan {
        request: IngestRequest {
            server: target.server.clone(),
            app_id: vm.settings.app_id.trim().to_owned(),
            token: vm.token.0.trim().to_owned(),
            options,
            jobs,
            data_dir: target.data_dir.clone(),
            sandbox,
            tool_paths: vm.settings.tools.clone(),
            notify_desktop: vm.settings.notify_desktop,
            webhook_url: vm.settings.webhook_url.clone(),
            offload_after_copy: None,
        },
        queue,
        notes,
    })
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
        assert_eq!(r.options.storage, "st-1");
        assert_eq!(r.options.storage_root, PathBuf::from("/mnt/originals"));
        assert_eq!(r.options.offload_to, None);
        assert_eq!(r.options.metadata_view.as_deref(), Some("view-1"));
        assert_eq!(
            plan.queue,
            [
                ("p2:0001AA".to_owned(), "Interview wide".to_owned()),
                ("p2:0003BB".to_owned(), "0003BB".to_owned())
            ]
        );
        assert_eq!(r.options.clip_titles["p2:0001AA"], "Interview wide");
        assert_eq!(r.options.clip_collections["p2:0001AA"], "Day 2");
        assert!(!r.options.clip_collections.contains_key("p2:0003BB"));
        // The clip's own look choice; broken rule text is ignored rather than half-applied.
        assert_eq!(
            r.options.clip_looks["p2:0001AA"],
            crate::media::proxy::look_rules::ClipLook::NoLook
        );
        assert_eq!(r.options.clip_looks.len(), 1);
        assert!(r.options.look_rules.is_empty());
        assert!(r.options.burn_in.is_empty());
        // Fields the view has: the edit (scene) and the scanned camera; not the frame rate.
        let a = &r.options.clip_metadata["p2:0001AA"];
        assert_eq!(a.get("scene").map(String::as_str), Some("12A"));
        assert_eq!(a.get("camera").map(String::as_str), Some("AJ-PX270"));
        assert_eq!(a.len(), 2, "{a:?}");
        assert_eq!(r.options.clip_metadata["p2:0003BB"].len(), 1);
        assert_eq!(plan.notes.len(), 2, "{:?}", plan.notes);
        assert!(plan.notes.iter().any(|n| n.contains("Frame rate")));
        assert!(plan.notes.iter().any(|n| n.contains("description")));
        // The frame-rate edit is still what the clip is registered with.
        let cards: Vec<_> = r.jobs.iter().map(|j| j.card.root.clone()).collect();
        assert_eq!(
            cards,
            [PathBuf::from("/cards/A"), PathBuf::from("/cards/B")]
        );
        assert_eq!(r.jobs[0].clips.len(), 1);
        assert_eq!(
            r.jobs[0].clips[0].metadata.frame_rate.as_deref(),
            Some("25")
        );
        assert_eq!(r.token, "s3cr3t-T0K");
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
        let a = &plan.request.options.clip_metadata["p2:0001AA"];
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
        let m = &plan.request.jobs[0].clips[0].metadata;
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
        assert!(r.sandbox);
        assert_eq!(r.options.storage, "sbx-files");
        assert_eq!(r.options.storage_root, PathBuf::from("/"));
        assert_eq!(
            r.options.offload_to,
            Some(PathBuf::from("/data/sandbox-originals"))
        );
        assert_eq!(r.options.metadata_view.as_deref(), Some("sbx-view"));
    }
}
