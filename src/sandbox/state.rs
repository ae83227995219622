//! Everything the sandbox stores: iconik objects as JSON (exactly what the API returns), upload
//! sessions and uploaded bytes, plus the optional on-disk persistence (`--state FILE`).
//!
//! Objects are kept in creation order (lists and pagination are stable). Bytes live in memory
//! and, when persisting, in a folder beside the state file (`<FILE>.blobs/`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Errors of the state file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read sandbox state {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("sandbox state {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write sandbox state {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A GCS resumable session (gcs-resumable.md §1.4).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub bucket: String,
    pub object: String,
    pub total: Option<u64>,
    pub state: SessionState,
    pub created: String,
    /// Persisted bytes (kept out of the JSON; stored as a blob file when persisting).
    #[serde(skip)]
    pub data: Vec<u8>,
    /// Persisted length, duplicated here so the JSON view shows it.
    pub persisted: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionState {
    Open,
    Done,
    Cancelled,
}

/// The whole store. Field names are the keys of `GET /sandbox/state`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    pub storages: Vec<Value>,
    pub assets: Vec<Value>,
    pub formats: Vec<Value>,
    pub file_sets: Vec<Value>,
    pub files: Vec<Value>,
    pub proxies: Vec<Value>,
    pub keyframes: Vec<Value>,
    pub collections: Vec<Value>,
    pub collection_contents: Vec<Value>,
    pub metadata_views: Vec<Value>,
    pub metadata_values: Vec<Value>,
    pub history: Vec<Value>,
    pub jobs: Vec<Value>,
    pub sources_deleted: Vec<Value>,
    /// ACL templates and user groups the ACL routes accept (seeded).
    #[serde(default)]
    pub acl_templates: Vec<Value>,
    #[serde(default)]
    pub groups: Vec<Value>,
    /// Group permissions on objects: `{object_type, object_key, group_id, permissions, via}`.
    #[serde(default)]
    pub acls: Vec<Value>,
    /// What each simulated storage-gateway scan did to a file it found (`POST /sandbox/isg/scan`).
    #[serde(default)]
    pub isg_scans: Vec<Value>,
    /// Asset segments (`SegmentSchema`): camera marks arrive as `MARKER` segments.
    #[serde(default)]
    pub segments: Vec<Value>,
    /// record id (proxy/keyframe/file) -> `bucket/object` its upload URL points at.
    pub upload_targets: BTreeMap<String, String>,
    pub sessions: BTreeMap<String, Session>,
    /// `bucket/object` -> byte count; the bytes are in `objects`.
    pub object_sizes: BTreeMap<String, u64>,
    #[serde(skip)]
    pub objects: BTreeMap<String, Vec<u8>>,
    /// S3 multipart uploads in progress: `UploadId` → the object and its parts so far.
    #[serde(skip)]
    pub s3_multiparts: BTreeMap<String, S3Multipart>,
}

/// One S3 multipart upload (CreateMultipartUpload until Complete or Abort).
#[derive(Debug, Clone, Default)]
pub struct S3Multipart {
    /// `bucket/object`.
    pub key: String,
    /// Part number → bytes.
    pub parts: BTreeMap<u32, Vec<u8>>,
}

/// Which list a record lives in (used by the generic helpers).
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Storages,
    Assets,
    Formats,
    FileSets,
    Files,
    Proxies,
    Keyframes,
    Collections,
    Jobs,
    Views,
}

impl State {
    pub fn list(&self, kind: Kind) -> &Vec<Value> {
        match kind {
            Kind::Storages => &self.storages,
            Kind::Assets => &self.assets,
            Kind::Formats => &self.formats,
            Kind::FileSets => &self.file_sets,
            Kind::Files => &self.files,
            Kind::Proxies => &self.proxies,
            Kind::Keyframes => &self.keyframes,
            Kind::Collections => &self.collections,
            Kind::Jobs => &self.jobs,
            Kind::Views => &self.metadata_views,
        }
    }

    pub fn list_mut(&mut self, kind: Kind) -> &mut Vec<Value> {
        match kind {
            Kind::Storages => &mut self.storages,
            Kind::Assets => &mut self.assets,
            Kind::Formats => &mut self.formats,
            Kind::FileSets => &mut self.file_sets,
            Kind::Files => &mut self.files,
            Kind::Proxies => &mut self.proxies,
            Kind::Keyframes => &mut self.keyframes,
            Kind::Collections => &mut self.collections,
            Kind::Jobs => &mut self.jobs,
            Kind::Views => &mut self.metadata_views,
        }
    }

    pub fn get(&self, kind: Kind, id: &str) -> Option<&Value> {
        self.list(kind).iter().find(|v| v["id"] == id)
    }

    pub fn get_mut(&mut self, kind: Kind, id: &str) -> Option<&mut Value> {
        self.list_mut(kind).iter_mut().find(|v| v["id"] == id)
    }

    /// A record of `kind` with `id` that belongs to `asset_id` (per-asset routes).
    pub fn get_in_asset(&self, kind: Kind, asset_id: &str, id: &str) -> Option<&Value> {
        self.list(kind)
            .iter()
            .find(|v| v["id"] == id && v["asset_id"] == asset_id)
    }

    /// Bytes of the finished upload of `bucket/object`.
    pub fn object_bytes(&self, key: &str) -> Option<&[u8]> {
        self.objects.get(key).map(Vec::as_slice)
    }

    /// The JSON of `GET /sandbox/state`: every list, proxies/keyframes annotated with the object
    /// their upload URL points at and how many bytes are there.
    pub fn inspect(&self) -> Value {
        let annotate = |records: &Vec<Value>| -> Vec<Value> {
            records
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    let id = r["id"].as_str().unwrap_or_default().to_string();
                    if let (Some(key), Some(obj)) =
                        (self.upload_targets.get(&id), r.as_object_mut())
                    {
                        let complete = self.objects.contains_key(key);
                        let persisted = self
                            .object_sizes
                            .get(key)
                            .copied()
                            .or_else(|| {
                                self.sessions
                                    .values()
                                    .filter(|s| format!("{}/{}", s.bucket, s.object) == *key)
                                    .map(|s| s.persisted)
                                    .max()
                            })
                            .unwrap_or(0);
                        obj.insert(
                            "sandbox_object".into(),
                            json!({
                                "key": key,
                                "bytes": persisted,
                                "complete": complete,
                                "url": format!("/sandbox/objects/{key}"),
                            }),
                        );
                    }
                    r
                })
                .collect()
        };
        json!({
            "storages": self.storages,
            "assets": self.assets,
            "formats": self.formats,
            "file_sets": self.file_sets,
            "files": self.files,
            "proxies": annotate(&self.proxies),
            "keyframes": annotate(&self.keyframes),
            "collections": self.collections,
            "collection_contents": self.collection_contents,
            "metadata_views": self.metadata_views,
            "metadata_values": self.metadata_values,
            "history": self.history,
            "jobs": self.jobs,
            "sources_deleted": self.sources_deleted,
            "acl_templates": self.acl_templates,
            "groups": self.groups,
            "acls": self.acls,
            "isg_scans": self.isg_scans,
            "segments": self.segments,
            "upload_sessions": self.sessions.values().collect::<Vec<_>>(),
            "objects": self.object_sizes,
        })
    }
}

/// Where the state is persisted: `FILE` plus the blob folder `FILE.blobs/`.
#[derive(Debug, Clone)]
pub struct StateFile {
    pub path: PathBuf,
}

impl StateFile {
    fn blob_dir(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".blobs");
        PathBuf::from(name)
    }

    fn object_path(&self, key: &str) -> PathBuf {
        self.blob_dir().join("objects").join(blob_name(key))
    }

    fn session_path(&self, id: &str) -> PathBuf {
        self.blob_dir().join("sessions").join(blob_name(id))
    }

    /// Loads the state, or `None` when the file does not exist yet.
    pub fn load(&self) -> Result<Option<State>, StateError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let mut state: State = serde_json::from_str(&text).map_err(|source| StateError::Parse {
            path: self.path.clone(),
            source,
        })?;
        let keys: Vec<String> = state.object_sizes.keys().cloned().collect();
        for key in keys {
            let path = self.object_path(&key);
            let bytes = std::fs::read(&path).map_err(|source| StateError::Read { path, source })?;
            state.objects.insert(key, bytes);
        }
        for session in state.sessions.values_mut() {
            let path = self.session_path(&session.id);
            match std::fs::read(&path) {
                Ok(bytes) => session.data = bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => session.data.clear(),
                Err(source) => return Err(StateError::Read { path, source }),
            }
            session.persisted = session.data.len() as u64;
        }
        Ok(Some(state))
    }

    /// Writes the JSON atomically (temp file + rename) and every blob that changed size.
    pub fn save(&self, state: &State) -> Result<(), StateError> {
        let write_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StateError::Write { path, source }
        };
        for (key, bytes) in &state.objects {
            let path = self.object_path(key);
            if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
                continue;
            }
            write_atomic(&path, bytes).map_err(write_err(&path))?;
        }
        for session in state.sessions.values() {
            let path = self.session_path(&session.id);
            if session.state != SessionState::Open {
                if path.exists() {
                    std::fs::remove_file(&path).map_err(write_err(&path))?;
                }
                continue;
            }
            let on_disk = std::fs::metadata(&path).map(|m| m.len()).ok();
            match on_disk {
                Some(n) if n == session.data.len() as u64 => {}
                // Sessions only grow: append the new tail rather than rewrite the whole file.
                Some(n) if n < session.data.len() as u64 => {
                    append(&path, &session.data[n as usize..]).map_err(write_err(&path))?;
                }
                _ => write_atomic(&path, &session.data).map_err(write_err(&path))?,
            }
        }
        let text = serde_json::to_vec_pretty(state).map_err(|e| StateError::Write {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&self.path, &text).map_err(write_err(&self.path))
    }
}

/// A file name for a blob key: keys are `bucket/object` made by the sandbox itself, but encode
/// anything outside `[A-Za-z0-9._-]` anyway so no key can escape the folder.
fn blob_name(key: &str) -> String {
    key.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
    file.write_all(bytes)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_names_cannot_escape() {
        assert_eq!(blob_name("b/../x"), "b%2F..%2Fx");
    }
}
