//! Duplicate avoidance (iconik-api.md §9): nothing is unique in iconik, so before creating an
//! object — and always before re-creating one whose response was lost — look it up.

use super::record::FileRecord;
use crate::iconik::models::{
    ActiveStatus, AssetId, File, FileId, FileSet, FileSetId, FileSetStatus, Format, FormatId,
    ObjectStatus, Proxy, SearchRequest, StorageId,
};
use crate::iconik::{Client, Error};
use std::collections::{BTreeMap, HashMap};

/// The newest non-deleted asset whose `external_id` is `external_id`.
pub async fn asset_by_external_id(
    client: &Client,
    external_id: &str,
) -> Result<Option<AssetId>, Error> {
    let hits = client.search().assets_by_external_id(external_id).await?;
    Ok(hits
        .into_iter()
        .find(|h| h.external_id.as_deref() == Some(external_id))
        .map(|h| AssetId(h.id)))
}

/// Whether a clip is already in iconik, the way the ingest decides before creating its asset:
/// an asset with the clip's id as `external_id`, else its main (first) file already registered
/// ([`registered_elsewhere`]). Returns a sentence naming the existing asset. The preview's
/// duplicate warning (`ui::duplicates`) calls this too, so both always agree.
pub async fn clip_in_iconik(
    client: &Client,
    storage: StorageId,
    external_id: &str,
    main_file: Option<&FileRecord>,
) -> Result<Option<String>, Error> {
    if let Some(a) = asset_by_external_id(client, external_id).await? {
        return Ok(Some(format!("clip already in iconik as asset {a}")));
    }
    match main_file {
        Some(f) => registered_elsewhere(client, storage, f).await,
        None => Ok(None),
    }
}

/// The asset's ORIGINAL format (`GET formats/ORIGINAL/`), unless deleted.
pub async fn original_format(client: &Client, asset: AssetId) -> Result<Option<Format>, Error> {
    Ok(client
        .formats()
        .get_by_name(asset, "ORIGINAL")
        .await?
        .filter(|f| f.status != Some(ActiveStatus::Deleted)))
}

/// The asset's file set of `format` named `name` (listing the asset's file sets).
pub async fn file_set(
    client: &Client,
    asset: AssetId,
    format: FormatId,
    name: &str,
) -> Result<Option<FileSet>, Error> {
    Ok(client.file_sets().list(asset).await?.into_iter().find(|s| {
        s.format_id == Some(format)
            && s.name.as_deref() == Some(name)
            && s.status != Some(FileSetStatus::Deleted)
    }))
}

/// Files already in the file set, by (directory_path, original_name).
pub async fn files_in_set(
    client: &Client,
    asset: AssetId,
    file_set: FileSetId,
) -> Result<BTreeMap<(String, String), FileId>, Error> {
    Ok(client
        .files()
        .list_in_file_set(asset, file_set)
        .await?
        .into_iter()
        .filter(|f| f.status != Some(ObjectStatus::Deleted))
        .filter_map(|f| {
            let name = f.original_name.or(f.name)?;
            let dir = f.directory_path.unwrap_or_default();
            Some(((dir.trim_matches('/').to_owned(), name), f.id))
        })
        .collect())
}

/// The asset's proxy (card-ingest makes one per asset), unless deleted.
pub async fn proxy(client: &Client, asset: AssetId) -> Result<Option<Proxy>, Error> {
    Ok(client
        .proxies()
        .list(asset)
        .await?
        .into_iter()
        .find(|p| p.status != Some(ObjectStatus::Deleted)))
}

/// Whether `file` is already registered in iconik: same checksum anywhere, or the same name and
/// size at the same path on the storage. Returns a sentence naming the existing asset.
pub async fn registered_elsewhere(
    client: &Client,
    storage: StorageId,
    file: &FileRecord,
) -> Result<Option<String>, Error> {
    if let Some(found) = same_checksum(client, file).await? {
        return Ok(Some(found));
    }
    let at_path = client
        .files()
        .in_storage(storage, &file.directory_path, Some(&file.name))
        .await?;
    Ok(at_path.iter().find_map(|f| path_match(f, file)))
}

fn live(s: &Option<ObjectStatus>) -> bool {
    *s != Some(ObjectStatus::Deleted)
}

/// A live file with `file`'s MD5 anywhere in iconik (`GET files/checksum/{md5}/`), as a
/// sentence naming its asset. No call without an MD5.
pub async fn same_checksum(client: &Client, file: &FileRecord) -> Result<Option<String>, Error> {
    let Some(md5) = &file.md5 else {
        return Ok(None);
    };
    let same = client.files().by_checksum(md5).await?;
    Ok(same.iter().find(|f| live(&f.status)).map(|f| {
        format!(
            "{} is already in iconik (same MD5 {md5}, asset {})",
            file.name,
            f.asset_id.map(|a| a.to_string()).unwrap_or_default()
        )
    }))
}

/// `existing` (a record listed at `file`'s folder on the storage) is `file`: same original
/// name and size, not deleted.
fn path_match(existing: &File, file: &FileRecord) -> Option<String> {
    (live(&existing.status)
        && existing.original_name.as_deref() == Some(file.name.as_str())
        && existing.size == Some(file.size_bytes))
    .then(|| {
        format!(
            "{}/{} is already registered on the storage (asset {})",
            file.directory_path,
            file.name,
            existing.asset_id.map(|a| a.to_string()).unwrap_or_default()
        )
    })
}

/// What one batched look-up per card found: assets by external id and file records in the
/// folders of the clips' main files. The engine asks once before the clips start (one search
/// for every external id, one listing per folder) instead of two calls per clip.
#[derive(Debug, Default)]
pub struct KnownInIconik {
    assets: HashMap<String, AssetId>,
    /// Listed file records by folder (`directory_path`).
    folders: HashMap<String, Vec<File>>,
}

/// Search pages ask for this many hits (iconik's maximum), and at most this many external ids
/// go into one `value_in` term.
const SEARCH_PAGE: usize = 100;

impl KnownInIconik {
    /// Looks up `external_ids` (one search per 100) and lists the folders of `main_files` on
    /// `storage` (one listing per distinct folder, all pages).
    pub async fn look_up(
        client: &Client,
        storage: StorageId,
        external_ids: &[String],
        main_files: &[&FileRecord],
    ) -> Result<Self, Error> {
        let mut out = KnownInIconik::default();
        for chunk in external_ids.chunks(SEARCH_PAGE) {
            let body = SearchRequest::assets_by_external_ids(chunk);
            let mut page = 1;
            loop {
                let hits = client
                    .search()
                    .search(&body, page, SEARCH_PAGE as u32)
                    .await?;
                for h in &hits.objects {
                    if let Some(ext) = &h.external_id
                        && chunk.contains(ext)
                    {
                        out.assets.entry(ext.clone()).or_insert(AssetId(h.id));
                    }
                }
                if hits.objects.len() < SEARCH_PAGE
                    || hits.pages.is_none_or(|p| i64::from(page) >= p)
                {
                    break;
                }
                page += 1;
            }
        }
        let mut folders: Vec<&str> = main_files
            .iter()
            .map(|f| f.directory_path.as_str())
            .collect();
        folders.sort_unstable();
        folders.dedup();
        for dir in folders {
            let listed = client.files().in_storage(storage, dir, None).await?;
            out.folders.insert(dir.to_owned(), listed);
        }
        Ok(out)
    }

    /// The duplicate verdict for a clip from what the look-up found (no call): its external
    /// id, else its main file at its path. Same rules and sentences as [`clip_in_iconik`].
    pub fn verdict(&self, external_id: &str, main_file: Option<&FileRecord>) -> Option<String> {
        if let Some(a) = self.assets.get(external_id) {
            return Some(format!("clip already in iconik as asset {a}"));
        }
        let f = main_file?;
        self.folders
            .get(&f.directory_path)?
            .iter()
            .find_map(|existing| path_match(existing, f))
    }
}
