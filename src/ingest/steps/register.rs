//! Network lane, registration: the duplicate decision and `POST assets/`, the ORIGINAL format
//! with its components, the file set, one file record per member file, then the collection
//! membership and metadata view values.

use super::{ClipCtx, StepEnd, StepFail, StepResult};
use crate::card::FileRole;
use crate::iconik::models::{
    ActiveStatus, AssetCreate, AssetId, ComponentCreate, ComponentType, FileCreate, FileId,
    FileSetCreate, FileSetId, FileSetStatus, FormatCreate, MetadataValues, ObjectStatus,
    SegmentCreate, ViewId,
};
use crate::ingest::dedupe;
use crate::ingest::events::asset_detail;
use crate::ingest::record::{ClipRecord, FileRecord};
use crate::ingest::step::Step;
use crate::ingest::storage_policy::{AclAction, GROUP_PERMISSIONS};
use crate::media::{self, ClipDescription};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// File records of one clip created at once (see `create_files`).
const FILES_AT_ONCE: usize = 4;

/// One clip's file records being created together (`create_files`).
struct FileBatch<'a> {
    rec: &'a ClipRecord,
    asset: AssetId,
    set: FileSetId,
    /// What a resumed step's listing of the set found, taken file by file.
    known: Mutex<BTreeMap<(String, String), FileId>>,
    /// A file failed: no further create starts.
    failed: AtomicBool,
}

impl ClipCtx {
    pub(super) async fn create_asset(&self, resumed: bool) -> StepResult {
        if self.sc.pending.is_some() && self.rec().asset_id.is_none() {
            // The title comes from the clip's metadata: its description settles it.
            self.describe().await?;
        }
        let rec = self.rec();
        if let Some(id) = rec.asset_id {
            let acl = self.apply_storage_acl(id).await?;
            return Ok(StepEnd::Done(Some(with_acl(asset_detail(id), acl))));
        }
        let ext = self.id().to_owned();
        if !resumed && !self.shared.options.force {
            // Before registering: is this clip (or its files) already in iconik? The card's
            // batched look-up (external ids, storage paths) answers without a call; only the
            // main file's MD5 needs one, now that the disk lane has it.
            let known = self.shared.known.verdict(&ext, rec.files.first());
            let dup = match known {
                Some(reason) => Some(reason),
                None => match rec.files.first().filter(|f| f.md5.is_some()) {
                    Some(main) => {
                        let client = self.shared.client.clone();
                        self.call(Step::CreateAsset, |_| {
                            let client = client.clone();
                            async move { dedupe::same_checksum(&client, main).await }
                        })
                        .await?
                    }
                    None => None,
                },
            };
            if let Some(reason) = dup {
                self.save(|r| r.duplicate_of = Some(reason.clone())).await?;
                return Ok(StepEnd::SkipRest {
                    from: Step::CreateAsset,
                    reason: format!("{reason}; use --force to register it again"),
                });
            }
        }
        let body = AssetCreate {
            external_id: Some(ext.clone()),
            ..AssetCreate::new(rec.title.clone())
        };
        let (ext, body) = (&ext, &body);
        // The create's answer holds the id and the version: no read-back.
        let asset = self
            .look_up_then_create(
                Step::CreateAsset,
                resumed,
                |c| async move {
                    match dedupe::asset_by_external_id(&c, ext).await? {
                        Some(id) => c.assets().get(id).await.map(Some),
                        None => Ok(None),
                    }
                },
                |c| async move { c.assets().create(body, None).await },
            )
            .await?;
        self.save(|r| {
            r.asset_id = Some(asset.id);
            r.version_id = asset.version_id();
        })
        .await?;
        let acl = self.apply_storage_acl(asset.id).await?;
        Ok(StepEnd::Done(Some(with_acl(asset_detail(asset.id), acl))))
    }

    /// Gives the new asset the storage's ACL template or access group (storage_policy): assets
    /// made through the API get only the default ACLs, which may hide them from the team that
    /// owns the storage. Both calls set rather than add, so a retry is harmless; the journal
    /// spares a resumed run the call. Returns what was applied.
    async fn apply_storage_acl(
        &self,
        asset: crate::iconik::models::AssetId,
    ) -> Result<Option<String>, StepFail> {
        let Some(acl) = self.shared.storage_acl.clone() else {
            return Ok(None);
        };
        let what = match &acl {
            AclAction::Template(t) => format!("ACL template {t}"),
            AclAction::Group(g) => format!("access group {g}"),
        };
        if self.rec().acl_applied {
            return Ok(Some(what));
        }
        let client = self.shared.client.clone();
        let acl = &acl;
        self.call(Step::CreateAsset, |_| {
            let client = client.clone();
            async move {
                match acl {
                    AclAction::Template(t) => client.acls().apply_template_to_asset(t, asset).await,
                    AclAction::Group(g) => {
                        client
                            .acls()
                            .put_group_on_asset(g, asset, GROUP_PERMISSIONS)
                            .await
                    }
                }
            }
        })
        .await?;
        self.save(|r| r.acl_applied = true).await?;
        Ok(Some(what))
    }

    /// The clip's MediaInfo/ffprobe description, made once for the format and the encode
    /// (which may ask for it at the same time).
    pub(super) async fn describe(&self) -> Result<Arc<ClipDescription>, StepFail> {
        self.desc
            .get_or_try_init(|| async {
                // The scan's background pool, when it is making it (card order): its metadata
                // settles the title, which was provisional until now.
                if let Some(pending) = &self.sc.pending
                    && let Some(desc) = pending.wait().await
                {
                    self.settle_title(&desc.metadata).await?;
                    return Ok(desc);
                }
                // Read from the verified copy when there is one (the card may be gone), then
                // described in the card's paths as every step expects.
                let (clip, moved) = self.read_clip();
                let tools = self.shared.tools.clone();
                tokio::task::spawn_blocking(move || {
                    let desc = media::describe_clip(&clip, &tools);
                    match moved {
                        Some((card, copy)) => desc.rebased(&copy, &card),
                        None => desc,
                    }
                })
                .await
                .map(Arc::new)
                .map_err(|e| StepFail::permanent(e.to_string()))
            })
            .await
            .cloned()
    }

    /// The title from the template and the clip's described metadata (user clip name, shoot
    /// date), unless the operator named the clip or its asset exists already.
    async fn settle_title(&self, metadata: &media::ClipMetadata) -> Result<(), StepFail> {
        let options = &self.shared.options;
        let named = options
            .clip_titles
            .get(self.id())
            .is_some_and(|t| !t.trim().is_empty());
        if named || self.rec().asset_id.is_some() {
            return Ok(());
        }
        let title = super::title_from(options, &self.sc.clip, metadata, &self.shared.card);
        self.save(|r| r.title = title).await
    }

    /// The clip's metadata: the scan's (the window may have edited it), or the description's
    /// when the scan left describing to its background pool.
    async fn metadata(&self) -> Result<media::ClipMetadata, StepFail> {
        if self.sc.pending.is_some() {
            Ok(self.describe().await?.metadata.clone())
        } else {
            Ok(self.sc.metadata.clone())
        }
    }

    pub(super) async fn create_format(&self, resumed: bool) -> StepResult {
        let rec = self.rec();
        if rec.format_id.is_some() && !rec.component_ids.is_empty() {
            return Ok(StepEnd::Done(None));
        }
        let asset = self.asset()?;
        let desc = self.describe().await?;
        let mut components = Vec::new();
        let mut metadata = Vec::new();
        for f in &desc.files {
            let member = self.sc.clip.files.iter().find(|m| m.path == f.path);
            if member.is_some_and(|m| !matches!(m.role, FileRole::Video | FileRole::Audio)) {
                continue;
            }
            if metadata.is_empty()
                && let Some(tracks) = desc.mediainfo_tracks(f)
            {
                let general = media::components::format_metadata(tracks);
                if !general.is_empty() {
                    metadata.push(general);
                }
            }
            for c in desc.components(f) {
                let kind = match c.kind {
                    media::ComponentType::Video => ComponentType::Video,
                    media::ComponentType::Audio => ComponentType::Audio,
                    media::ComponentType::Image => ComponentType::Image,
                    media::ComponentType::Text => ComponentType::Text,
                    media::ComponentType::Other => ComponentType::Other,
                };
                components.push(ComponentCreate {
                    name: c.kind.as_str().to_owned(),
                    component_type: kind,
                    metadata: c.metadata,
                });
            }
        }
        // Production facts (iXML/bext, ALE, ...) as edited by the operator ride with the format.
        let mut production = self.metadata().await?.format_fields();
        // The look the proxy gets, with what chose it (issue 13): the same choice as the encode.
        if let Some(look) = self.look_choice(&desc.metadata) {
            let name = look
                .lut
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            production.insert("proxy_look".into(), format!("{name} ({})", look.why));
        }
        match metadata.first_mut() {
            Some(general) => general.extend(production),
            None if !production.is_empty() => metadata.push(production),
            None => {}
        }
        let body = FormatCreate {
            name: "ORIGINAL".into(),
            status: Some(ActiveStatus::Active),
            version_id: rec.version_id,
            storage_methods: vec!["FILE".into()],
            is_online: Some(true),
            metadata,
            components,
        };
        let body = &body;
        let format = self
            .look_up_then_create(
                Step::CreateFormat,
                resumed,
                |c| async move { dedupe::original_format(&c, asset).await },
                |c| async move { c.formats().create(asset, body).await },
            )
            .await?;
        let ids = format.component_ids();
        let n = ids.len();
        self.save(|r| {
            r.format_id = Some(format.id);
            r.component_ids = ids;
        })
        .await?;
        Ok(StepEnd::Done(Some(format!(
            "format {} ({n} components)",
            format.id
        ))))
    }

    pub(super) async fn create_file_set(&self, resumed: bool) -> StepResult {
        let rec = self.rec();
        if let Some(id) = rec.file_set_id {
            return Ok(StepEnd::Done(Some(format!("file set {id}"))));
        }
        let asset = self.asset()?;
        let format = rec.format_id.ok_or_else(|| {
            StepFail::permanent("no format id recorded; retry from create_format")
        })?;
        let main = rec
            .files
            .first()
            .ok_or_else(|| StepFail::permanent("clip has no files"))?;
        let base_dir = common_dir(rec.files.iter().map(|f| f.directory_path.as_str()));
        let body = FileSetCreate {
            format_id: format,
            name: main.name.clone(),
            base_dir,
            component_ids: rec.component_ids.clone(),
            storage_id: Some(self.shared.storage_id),
            status: Some(FileSetStatus::Active),
            version_id: rec.version_id,
            is_archive: None,
            original_storage_id: None,
        };
        let body = &body;
        let set = self
            .look_up_then_create(
                Step::CreateFileSet,
                resumed,
                |c| async move { dedupe::file_set(&c, asset, format, &body.name).await },
                |c| async move { c.file_sets().create(asset, body).await },
            )
            .await?;
        self.save(|r| r.file_set_id = Some(set.id)).await?;
        Ok(StepEnd::Done(Some(format!("file set {}", set.id))))
    }

    pub(super) async fn create_files(&self, resumed: bool) -> StepResult {
        let rec = self.rec();
        let asset = self.asset()?;
        let set = rec.file_set_id.ok_or_else(|| {
            StepFail::permanent("no file set recorded; retry from create_file_set")
        })?;
        let client = self.shared.client.clone();
        let known = if resumed && rec.files.iter().any(|f| f.file_id.is_none()) {
            self.call(Step::CreateFiles, |_| {
                let client = client.clone();
                async move { dedupe::files_in_set(&client, asset, set).await }
            })
            .await?
        } else {
            Default::default()
        };
        let total = rec.files.len();
        // The files are independent records: FILES_AT_ONCE go at once (the pacer still spaces
        // every call), so a clip's files take about one round trip instead of one per file;
        // at a card's end the last clip's chain is all that is left, and this was most of it.
        // Each file's id is saved as soon as it is answered. After a failure no further
        // create starts, but those already sent are awaited and saved (never dropped with a
        // request the server may have committed), then the first failure is returned.
        let batch = FileBatch {
            rec: &rec,
            asset,
            set,
            known: Mutex::new(known),
            failed: AtomicBool::new(false),
        };
        let mut files = Vec::new();
        for (i, f) in rec.files.iter().enumerate() {
            if f.file_id.is_none() {
                files.push(self.register_file(&batch, i, f));
            }
        }
        let mut results = futures_util::stream::iter(files).buffer_unordered(FILES_AT_ONCE);
        let mut first_failure = None;
        while let Some(r) = results.next().await {
            if let Err(e) = r {
                first_failure.get_or_insert(e);
            }
        }
        if let Some(e) = first_failure {
            return Err(e);
        }
        // The same originals on their other storages (offload copies, cloud copies).
        let copies: String = self
            .register_copies()
            .await?
            .iter()
            .map(|c| format!("; {c}"))
            .collect();
        Ok(StepEnd::Done(Some(format!("{total} files{copies}"))))
    }

    /// Member `i` (`f`) into the file set: the id the resumed step's listing found, else a
    /// new record; saved at once. Nothing starts once another file of the batch failed.
    async fn register_file(
        &self,
        batch: &FileBatch<'_>,
        i: usize,
        f: &FileRecord,
    ) -> Result<(), StepFail> {
        if batch.failed.load(Ordering::Relaxed) {
            return Ok(());
        }
        let key = (f.directory_path.clone(), f.name.clone());
        let found = super::lock(&batch.known).remove(&key);
        let id = match found {
            Some(id) => Ok(id),
            None => self.create_file(batch, f, &key).await,
        };
        let id = id.inspect_err(|_| batch.failed.store(true, Ordering::Relaxed))?;
        self.save(|r| {
            if let Some(x) = r.files.get_mut(i) {
                x.file_id = Some(id);
            }
        })
        .await
    }

    /// `POST files/` for member `f` (after a look-up in the set when a try was lost).
    async fn create_file(
        &self,
        batch: &FileBatch<'_>,
        f: &FileRecord,
        key: &(String, String),
    ) -> Result<FileId, StepFail> {
        let (rec, asset, set) = (batch.rec, batch.asset, batch.set);
        let meta = std::fs::metadata(&f.registered).map_err(|e| {
            StepFail::permanent(format!(
                "cannot read {} to register it: {e}",
                f.registered.display()
            ))
        })?;
        let modified = meta.modified().ok().map(DateTime::<Utc>::from);
        let created = meta.created().ok().map(DateTime::<Utc>::from).or(modified);
        let body = FileCreate {
            name: Some(f.name.clone()),
            size: Some(f.size_bytes),
            checksum: f.md5.clone(),
            file_date_created: created,
            file_date_modified: modified,
            file_set_id: Some(set),
            format_id: rec.format_id,
            storage_id: Some(self.shared.storage_id),
            status: Some(ObjectStatus::Closed),
            version_id: rec.version_id,
            ..FileCreate::new(f.directory_path.clone(), f.name.clone())
        };
        // `resumed: false`: a resumed step already listed the set into `known`.
        let body = &body;
        let file = self
            .look_up_then_create(
                Step::CreateFiles,
                false,
                |c| async move {
                    match dedupe::files_in_set(&c, asset, set).await?.get(key) {
                        Some(id) => c.files().get(asset, *id).await.map(Some),
                        None => Ok(None),
                    }
                },
                |c| async move { c.files().create(asset, body).await },
            )
            .await?;
        Ok(file.id)
    }

    /// Collection membership, then the operator's metadata view values, then the camera's
    /// marks as `MARKER` segments.
    pub(super) async fn collection(&self, resumed: bool) -> StepResult {
        let collection = self.shared.collection_for(self.id());
        let writes_metadata = self.shared.options.writes_metadata(self.id());
        let has_marks = self.has_marks().await;
        if collection.is_none() && !writes_metadata && !has_marks {
            return Ok(StepEnd::Skipped(
                "no --collection or --metadata, no camera marks".into(),
            ));
        }
        let asset = self.asset()?;
        let client = self.shared.client.clone();
        let mut done = Vec::new();
        if let Some(collection) = collection {
            self.call(Step::Collection, |_| {
                let client = client.clone();
                async move { client.collections().add_asset(collection, asset).await }
            })
            .await?;
            done.push(format!("in collection {collection}"));
        }
        if writes_metadata {
            done.push(self.write_metadata(asset).await?);
        }
        if has_marks {
            done.push(self.write_markers(asset, resumed).await?);
        }
        Ok(StepEnd::Done(Some(done.join("; "))))
    }

    /// Whether the clip's description has camera marks (describing it if the scan did not).
    pub(super) async fn has_marks(&self) -> bool {
        match self.describe().await {
            Ok(d) => !d.metadata.marks.is_empty(),
            Err(e) => {
                tracing::warn!(clip = %self.sc.clip.name, error = %e.error, "no description: camera marks not read");
                false
            }
        }
    }

    /// The camera's marks as `MARKER` segments, in one bulk call (paced like every call, so
    /// it counts against the rate budget). Journaled as `markers`: a resumed run makes none
    /// again. When an earlier attempt may have created them with its answer lost (a retry, or
    /// the step resumed after a crash), the asset's markers are listed first and only the
    /// missing ones are sent.
    async fn write_markers(
        &self,
        asset: crate::iconik::models::AssetId,
        resumed: bool,
    ) -> Result<String, StepFail> {
        if let Some(n) = self.rec().markers {
            return Ok(format!(
                "{n} camera mark(s) as markers (already registered)"
            ));
        }
        let desc = self.describe().await?;
        let wanted: Vec<SegmentCreate> = desc
            .metadata
            .marks
            .iter()
            .map(|m| SegmentCreate::marker(i64::try_from(m.time_ms).unwrap_or(i64::MAX), &m.label))
            .collect();
        let client = self.shared.client.clone();
        let wanted = &wanted;
        let sent = self
            .call(Step::Collection, |attempt| {
                let client = client.clone();
                async move {
                    let mut missing: Vec<SegmentCreate> = wanted.clone();
                    if attempt > 0 || resumed {
                        let there = client
                            .assets()
                            .segments_of_type(asset, crate::iconik::models::segment::MARKER)
                            .await?;
                        missing.retain(|m| !there.iter().any(|s| s.is(m)));
                    }
                    for chunk in missing.chunks(crate::iconik::models::segment::BULK_MAX) {
                        client.assets().create_segments_bulk(asset, chunk).await?;
                    }
                    Ok(missing.len())
                }
            })
            .await?;
        let n = wanted.len();
        self.save(|r| r.markers = Some(n)).await?;
        Ok(if sent == n {
            format!("{n} camera mark(s) as markers")
        } else {
            format!(
                "{n} camera mark(s) as markers ({} were already there)",
                n - sent
            )
        })
    }

    /// `PUT assets/{id}/views/{view}/` with the clip's values. The PUT overwrites the named
    /// fields, so an automatic retry or a re-run after a lost response is harmless; the
    /// journal's `metadata_written` only spares a resumed run the call.
    pub(super) async fn write_metadata(
        &self,
        asset: crate::iconik::models::AssetId,
    ) -> Result<String, StepFail> {
        let Some(view_text) = self.shared.options.metadata_view.clone() else {
            return Ok("no metadata view".into());
        };
        let values = self.shared.options.metadata_for(self.id());
        let summary = format!(
            "metadata view {view_text}: {}",
            values.keys().cloned().collect::<Vec<_>>().join(", ")
        );
        if self.rec().metadata_written {
            return Ok(format!("{summary} (already written)"));
        }
        let view: ViewId = view_text.trim().parse().map_err(|e| {
            StepFail::permanent(format!(
                "metadata view {view_text:?} is not an iconik view id (a UUID: {e}); \
                 pass the id shown by iconik's metadata view settings"
            ))
        })?;
        let body =
            MetadataValues::from_strings(values.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let client = self.shared.client.clone();
        // 404 (no such view) and 400 (a field not in the view) are not retryable: the step
        // fails with iconik's own message naming the view or field.
        self.call(Step::Collection, |_| {
            let client = client.clone();
            let body = body.clone();
            async move { client.metadata().put_asset_values(asset, view, &body).await }
        })
        .await?;
        self.save(|r| r.metadata_written = true).await?;
        Ok(summary)
    }
}

/// The create-asset detail with the ACL that was applied (`asset <id>` stays first: the
/// window reads the id from it).
fn with_acl(detail: String, acl: Option<String>) -> String {
    match acl {
        Some(a) => format!("{detail} with {a}"),
        None => detail,
    }
}

/// Longest common folder prefix of `/`-separated relative paths.
pub(super) fn common_dir<'a>(dirs: impl Iterator<Item = &'a str>) -> String {
    let mut common: Option<Vec<&str>> = None;
    for d in dirs {
        let parts: Vec<&str> = d.split('/').filter(|p| !p.is_empty()).collect();
        common = Some(match common {
            None => parts,
            Some(c) => c
                .iter()
                .zip(parts.iter())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| *a)
                .collect(),
        });
    }
    common.unwrap_or_default().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn common_dir_of_p2_members() {
        let dirs = [
            "d/CARD/CONTENTS/VIDEO",
            "d/CARD/CONTENTS/AUDIO",
            "d/CARD/CONTENTS/CLIP",
        ];
        assert_eq!(common_dir(dirs.into_iter()), "d/CARD/CONTENTS");
        assert_eq!(common_dir(["a/b"].into_iter()), "a/b");
    }
}
