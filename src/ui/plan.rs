//! Turns the view model (settings, connection, selected clips and the operator's edits) into an
//! [`IngestRequest`]: what the window shows is exactly what gets registered. Pure: no I/O, so it
//! runs on the UI thread and is unit-tested.

use super::config::{ProxyChoice, ServerChoice};
use super::ingest_run::IngestRequest;
use super::state::{MetaField, ViewModel};
use crate::ingest::{CardJob, ProxyMode};
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
            .storages
            .iter()
            .find(|s| s.purpose == "FILES")
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
                jobs.push(CardJob {
                    card,
                    clips: vec![scanned],
                });
            }
        }
    }
    if queue.is_empty() {
        return Err("Select at least one complete clip to ingest.".into());
    }
    let root = PathBuf::from(root);
    let collection =
        Some(vm.settings.default_collection.trim().to_owned()).filter(|c| !c.is_empty());
    Ok(Plan {
        request: IngestRequest {
            server: target.server.clone(),
            app_id: vm.settings.app_id.trim().to_owned(),
            token: vm.token.0.trim().to_owned(),
            storage,
            offload_to: vm.settings.offload.then(|| root.clone()),
            storage_root: root,
            offload_pattern: vm.settings.offload_pattern.clone(),
            proxy: match vm.settings.proxy {
                ProxyChoice::Local => ProxyMode::Local,
                ProxyChoice::Iconik => ProxyMode::Iconik,
                ProxyChoice::None => ProxyMode::None,
            },
            collection,
            metadata_view: view.map(|v| v.id),
            clip_metadata: metadata,
            clip_titles: titles,
            clip_collections: collections,
            jobs,
            data_dir: target.data_dir.clone(),
            sandbox,
        },
        queue,
        notes,
    })
}
