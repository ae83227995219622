//! One handler per iconik API area (octocrab style): `client.assets().create(..)` etc. Each call
//! documents the iconik-api.md section it follows.

pub mod acls;
pub mod assets;
pub mod auth;
pub mod collections;
pub mod file_sets;
pub mod files;
pub mod formats;
pub mod jobs;
pub mod keyframes;
pub mod metadata;
pub mod proxies;
pub mod search;
pub mod storages;

use super::client::Client;

impl Client {
    /// ACLs of new assets (§14).
    pub fn acls(&self) -> acls::AclsHandler<'_> {
        acls::AclsHandler { client: self }
    }
    /// Storages (§6.1).
    pub fn storages(&self) -> storages::StoragesHandler<'_> {
        storages::StoragesHandler { client: self }
    }
    /// Assets and history (§6.2).
    pub fn assets(&self) -> assets::AssetsHandler<'_> {
        assets::AssetsHandler { client: self }
    }
    /// Formats (§6.3).
    pub fn formats(&self) -> formats::FormatsHandler<'_> {
        formats::FormatsHandler { client: self }
    }
    /// File sets (§6.4).
    pub fn file_sets(&self) -> file_sets::FileSetsHandler<'_> {
        file_sets::FileSetsHandler { client: self }
    }
    /// Files and duplicate lookups (§6.5, §9).
    pub fn files(&self) -> files::FilesHandler<'_> {
        files::FilesHandler { client: self }
    }
    /// Proxies (§6.6, §8.2 multipart helpers).
    pub fn proxies(&self) -> proxies::ProxiesHandler<'_> {
        proxies::ProxiesHandler { client: self }
    }
    /// Keyframes (§6.7).
    pub fn keyframes(&self) -> keyframes::KeyframesHandler<'_> {
        keyframes::KeyframesHandler { client: self }
    }
    /// Jobs (§6.8).
    pub fn jobs(&self) -> jobs::JobsHandler<'_> {
        jobs::JobsHandler { client: self }
    }
    /// Collections (§6.9).
    pub fn collections(&self) -> collections::CollectionsHandler<'_> {
        collections::CollectionsHandler { client: self }
    }
    /// Metadata views and values (§6.10).
    pub fn metadata(&self) -> metadata::MetadataHandler<'_> {
        metadata::MetadataHandler { client: self }
    }
    /// Search (§6.11).
    pub fn search(&self) -> search::SearchHandler<'_> {
        search::SearchHandler { client: self }
    }
    /// Token check (§1).
    pub fn auth(&self) -> auth::AuthHandler<'_> {
        auth::AuthHandler { client: self }
    }
}
