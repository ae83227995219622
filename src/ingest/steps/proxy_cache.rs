//! The proxy cache: its key (what changes a proxy's bytes) and where a cached proxy and its
//! companions live in the proxy folder. Pure values; the encode step reads and writes files.

use crate::media::proxy::EditCodec;
use crate::media::proxy::record::ProxyRecord;
use std::path::{Path, PathBuf};

/// Everything besides the clip's files that changes the proxy's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CacheKey {
    /// xxh64 of the LUT file's bytes.
    pub look: Option<u64>,
    /// Burn-in items and corner ("timecode, clip", "top-left").
    pub burn_in: Option<(String, &'static str)>,
    /// The preset's name.
    pub preset: &'static str,
    /// How a camera proxy is taken over (`AsIs`, `Remux`).
    pub camera: Option<String>,
    /// The edit proxy made in the same run.
    pub edit: Option<EditCodec>,
}

impl CacheKey {
    /// The key's text, prefixed to the member list. Parts that are off add nothing, and the
    /// verified 720p preset none either, so caches made before a part existed stay valid.
    pub fn text(&self) -> String {
        let mut text = String::new();
        if let Some(h) = self.look {
            text.push_str(&format!("lut:{h:016x}"));
        }
        if let Some((items, corner)) = &self.burn_in {
            text.push_str(&format!("burn:{items}@{corner}\n"));
        }
        if self.preset != "720p" {
            text.push_str(&format!("preset:{}\n", self.preset));
        }
        if let Some(c) = &self.camera {
            text.push_str(&format!("camera:{c}\n"));
        }
        if let Some(e) = self.edit {
            text.push_str(&format!("edit:{}\n", e.name()));
        }
        text
    }
}

/// One member file as the cache sees it: name, size, modification time (ns since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberStamp {
    pub name: String,
    pub size: u64,
    pub mtime_ns: u128,
}

impl MemberStamp {
    /// The stamp of `path` (an unreadable mtime counts as 0: the key still names the size).
    pub fn of(path: &Path, size: u64) -> MemberStamp {
        let mtime_ns = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        MemberStamp {
            name: path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            size,
            mtime_ns,
        }
    }
}

/// The proxy cache key: xxh64 over the key, the clip id and each member's name, size and
/// modification time. Known from the scan, so the encode starts before the checksums; camera
/// files are written once, so name + size + mtime (what rsync trusts) names the content. A
/// copy keeping its mtimes (`cp -a`, an offload) reuses the proxy.
pub fn fingerprint(clip_id: &str, members: &[MemberStamp], key: &CacheKey) -> String {
    let mut text = key.text();
    text.push_str(clip_id);
    text.push('\n');
    for m in members {
        text.push_str(&format!("{}:{}:{}\n", m.name, m.size, m.mtime_ns));
    }
    format!("{:016x}", xxhash_rust::xxh64::xxh64(text.as_bytes(), 0))
}

/// Where one fingerprint's files live in the proxy folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachePaths {
    pub fingerprint: String,
    /// `{fp}.mp4`: the web proxy.
    pub web: PathBuf,
    /// `{fp}.json`: its [`ProxyRecord`].
    pub record: PathBuf,
    /// `{fp}.edit.mov`: the edit proxy.
    pub edit: PathBuf,
}

impl CachePaths {
    pub fn new(dir: &Path, fingerprint: &str) -> CachePaths {
        CachePaths {
            fingerprint: fingerprint.to_owned(),
            web: dir.join(format!("{fingerprint}.mp4")),
            record: dir.join(format!("{fingerprint}.json")),
            edit: dir.join(format!("{fingerprint}.edit.mov")),
        }
    }

    /// The published web proxy's file name.
    pub fn web_name(&self) -> String {
        format!("{}.mp4", self.fingerprint)
    }

    /// The published edit proxy's file name.
    pub fn edit_name(&self) -> String {
        format!("{}.edit.mov", self.fingerprint)
    }

    /// A private name for an encode in progress: two jobs with identical cards (same
    /// fingerprint) may encode at once without clobbering each other's file.
    pub fn private_web(&self) -> PathBuf {
        self.web.with_file_name(format!(
            "{}.{}-{}.mp4",
            self.fingerprint,
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ))
    }

    /// The published record when the cache holds everything `key` asks for: the web proxy,
    /// its record, and the edit proxy when one is wanted.
    pub fn load(&self, key: &CacheKey) -> Option<ProxyRecord> {
        if !self.web.is_file() {
            return None;
        }
        let record = ProxyRecord::from_json(&std::fs::read_to_string(&self.record).ok()?).ok()?;
        if key.edit.is_some() && (record.edit_proxy.is_none() || !self.edit.is_file()) {
            return None;
        }
        Some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_text_is_the_one_earlier_versions_hashed() {
        let mut key = CacheKey {
            preset: "720p",
            ..CacheKey::default()
        };
        assert_eq!(key.text(), "");
        key.look = Some(0xab);
        key.burn_in = Some(("timecode, clip".into(), "top-left"));
        key.preset = "1080p";
        key.camera = Some("Remux".into());
        assert_eq!(
            key.text(),
            "lut:00000000000000abburn:timecode, clip@top-left\npreset:1080p\ncamera:Remux\n"
        );
        key.edit = Some(EditCodec::DnxhrLb);
        assert!(key.text().ends_with("camera:Remux\nedit:dnxhr-lb\n"));
    }

    #[test]
    fn the_fingerprint_changes_with_any_part() {
        let m = vec![MemberStamp {
            name: "A.MXF".into(),
            size: 10,
            mtime_ns: 5,
        }];
        let key = CacheKey {
            preset: "720p",
            ..CacheKey::default()
        };
        let base = fingerprint("clip", &m, &key);
        assert_eq!(base.len(), 16);
        assert_eq!(base, fingerprint("clip", &m, &key));
        let edit = CacheKey {
            edit: Some(EditCodec::ProresProxy),
            ..key.clone()
        };
        assert_ne!(base, fingerprint("clip", &m, &edit));
        let mut touched = m.clone();
        touched[0].mtime_ns = 6;
        assert_ne!(base, fingerprint("clip", &touched, &key));
        assert_ne!(base, fingerprint("clip2", &m, &key));
    }

    #[test]
    fn paths_sit_beside_each_other() {
        let p = CachePaths::new(Path::new("/px"), "00ff");
        assert_eq!(p.web, PathBuf::from("/px/00ff.mp4"));
        assert_eq!(p.record, PathBuf::from("/px/00ff.json"));
        assert_eq!(p.edit, PathBuf::from("/px/00ff.edit.mov"));
        assert_eq!(p.edit_name(), "00ff.edit.mov");
        let private = p.private_web();
        assert!(private.starts_with("/px"));
        assert!(private.to_string_lossy().starts_with("/px/00ff."));
    }
}
