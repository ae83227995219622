//! Duplicate avoidance (iconik-api.md §9): nothing is unique in iconik, so before creating an
//! object — and always before re-creating one whose response was lost — look it up.

use super::record::FileRecord;
use crate::iconik::models::{
    ActiveStatus, AssetId, FileId, FileSet, FileSetId, FileSetStatus, Format, FormatId,
    ObjectStatus, Proxy, StorageId,
};
use crate::iconik::{Client, Error};
use std::collections::BTreeMap;

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
    let live = |s: &Option<ObjectStatus>| *s != Some(ObjectStatus::Deleted);
    if let Some(md5) = &file.md5 {
        let same = client.files().by_checksum(md5).await?;
        if let Some(f) = same.iter().find(|f| live(&f.status)) {
            return Ok(Some(format!(
                "{} is already in iconik (same MD5 {md5}, asset {})",
                file.name,
                f.asset_id.map(|a| a.to_string()).unwrap_or_default()
            )));
        }
    }
    let at_path = client
        .files()
        .in_storage(storage, &file.directory_path, Some(&file.name))
        .await?;
    Ok(at_path
        .iter()
        .find(|f| {
            live(&f.status)
                && f.original_name.as_deref() == Some(file.name.as_str())
                && f.size == Some(file.size_bytes)
        })
        .map(|f| {
            format!(
                "{}/{} is already registered on the storage (asset {})",
                file.directory_path,
                file.name,
                f.asset_id.map(|a| a.to_string()).unwrap_or_default()
            )
        }))
}
