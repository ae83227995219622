//! The operator's settings (server, storage, proxy mode, templates) persisted as JSON in the per-OS
//! config dir (`directories::ProjectDirs`, e.g. `~/.config/card-ingest/settings.json`).
//!
//! Never secrets: the token lives only in [`crate::secrets`]. Reading happens once at startup
//! (before the window opens); writing runs on the window's background worker with
//! [`crate::atomic_write::write_atomic`], so a crash never leaves half a file.

use crate::ingest::{IngestOptions, ProxyMode};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File name inside the config dir.
pub const SETTINGS_FILE: &str = "settings.json";

/// Which iconik the app talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerChoice {
    /// `https://app.iconik.io` (US / default region).
    #[default]
    AppIconik,
    /// `https://eu.iconik.io`.
    EuIconik,
    /// Any other iconik origin (private deployments, a sandbox started elsewhere).
    Custom,
    /// The built-in sandbox, started in-process on loopback.
    Sandbox,
}

impl ServerChoice {
    pub const ALL: [ServerChoice; 4] = [
        ServerChoice::AppIconik,
        ServerChoice::EuIconik,
        ServerChoice::Custom,
        ServerChoice::Sandbox,
    ];

    /// Label in the server picker.
    pub fn label(self) -> &'static str {
        match self {
            ServerChoice::AppIconik => "app.iconik.io",
            ServerChoice::EuIconik => "eu.iconik.io",
            ServerChoice::Custom => "Custom URL",
            ServerChoice::Sandbox => "Built-in sandbox",
        }
    }
}

/// How clip proxies are made (mirrors the ingest engine's proxy modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyChoice {
    /// Local ffmpeg encode + upload.
    #[default]
    Local,
    /// iconik's transcoder (single-file clips).
    Iconik,
    /// No proxy, no keyframes.
    None,
}

impl ProxyChoice {
    pub const ALL: [ProxyChoice; 3] = [ProxyChoice::Local, ProxyChoice::Iconik, ProxyChoice::None];

    pub fn label(self) -> &'static str {
        match self {
            ProxyChoice::Local => "Local ffmpeg",
            ProxyChoice::Iconik => "iconik transcoder",
            ProxyChoice::None => "No proxy",
        }
    }
}

/// Everything the settings panel persists. Unknown/missing fields take their defaults so files
/// written by older or newer versions still load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub server: ServerChoice,
    /// Used when `server` is [`ServerChoice::Custom`].
    pub custom_url: String,
    /// iconik App-ID (not secret; also stored with the token in the keyring).
    pub app_id: String,
    /// iconik FILES storage for the originals (id), chosen from "Test connection".
    pub storage_id: String,
    /// Its name, shown before the storages are listed again.
    pub storage_name: String,
    /// Local folder where that storage is mounted on this workstation.
    pub storage_mount: String,
    pub proxy: ProxyChoice,
    /// H.264 encoder for local proxies: `auto` or an ffmpeg encoder name (`h264_nvenc`, ...).
    pub proxy_encoder: String,
    /// Proxy preset name (`720p`, `1080p-ch1ch2`, ...); empty = each camera family's default.
    pub proxy_preset: String,
    /// Use the camera's own proxy, without an encode, when it qualifies.
    pub camera_proxy: bool,
    /// Looks by rule, one `FIELD=VALUE => FILE.cube` per line (first match wins).
    pub look_rules: String,
    /// Burn-ins for every proxy, as `--burn-in` (`timecode,clip`; empty = none).
    pub burn_in: String,
    /// Their corner, as `--burn-in-corner`.
    pub burn_in_corner: String,
    /// Collection every asset is added to (empty = none).
    pub default_collection: String,
    /// Asset title: `{user_clip_name}` (falls back to `{name}`), `{name}`, `{card}`, `{date}`,
    /// `{family}` (same placeholders as the ingest engine).
    pub title_template: String,
    /// Offload destination below the storage mount, e.g. `{date}/{card}`.
    pub offload_pattern: String,
    /// Copy (and verify) the card below the storage mount before registering the copy.
    pub offload: bool,
    /// Further offload destinations (shuttle drives), one folder each: same read, own verified
    /// copy and ASC MHL.
    pub offload_also: Vec<String>,
    /// Check copies by size only instead of re-reading them from the drive (faster, weaker).
    pub verify_size_only: bool,
    /// Allow an offload copy on the card's own drive (refused otherwise; the sandbox allows it).
    pub allow_same_volume: bool,
    /// Later-tier destinations, one folder per line: filled from the first destination's
    /// verified copy, so the card can be ejected once that one is verified (`--cascade-to`).
    pub cascade_to: Vec<String>,
    /// Copies written at once per drive, across all cards (`--drive-writers`).
    pub drive_writers: u32,
    /// Verified copies needed for "safe to erase"; 0: every destination's
    /// (`--required-copies`).
    pub required_copies: u32,
    /// iconik storages of further destinations, one `STORAGE=LOCAL_MOUNT` per line: each
    /// destination below such a mount gets its own file set (`--offload-storage`).
    pub offload_storages: Vec<String>,
    /// Cloud storages (id or name) the originals are also uploaded to, one per line
    /// (`--cloud-copy`).
    pub cloud_copy: Vec<String>,
    /// Where the edit proxy (PPRO_PROXY) goes, one `STORAGE[=LOCAL_MOUNT]` per line; none: no
    /// edit proxy (`--edit-proxy-to`).
    pub edit_proxy_to: Vec<String>,
    /// `prores-proxy` or `dnxhr-lb` (`--edit-proxy-codec`).
    pub edit_proxy_codec: String,
    /// Cap on all uploads together, e.g. `20M` (bytes per second); empty: none
    /// (`--max-upload-rate`).
    pub max_upload_rate: String,
    /// A camera card that appears on a newly mounted volume is queued and started by itself.
    pub start_when_inserted: bool,
    /// A desktop notification when a card finishes, fails or is safe to erase.
    pub notify_desktop: bool,
    /// Show each card as a job on iconik's Jobs page (others see the ingest; aborting it there
    /// stops the card).
    pub iconik_job: bool,
    /// POST each finished card's summary (JSON) to this URL (empty: none).
    pub webhook_url: String,
    /// iconik metadata view (id) the edited fields and description are written to (empty: none).
    pub metadata_view: String,
    /// Paths to ffmpeg, ffprobe and MediaInfo (empty: found next to the app, on PATH or in the
    /// usual install folders). The CLI uses them too.
    pub tools: crate::media::tools::ToolPaths,
    /// Widths of the clip table's resizable columns (Clip, Status, iconik, Duration) as the
    /// operator left them; empty: sized to their content.
    pub clip_columns: Vec<f32>,
    /// The preset these settings were last loaded from or saved as ([`crate::preset`]; empty:
    /// none). The report names it and `{preset}` in the patterns resolves to it.
    pub preset: String,
    /// `{project}` in the folder and title patterns where the clips record no project (empty:
    /// `no-project`).
    pub project: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: ServerChoice::default(),
            custom_url: String::new(),
            app_id: String::new(),
            storage_id: String::new(),
            storage_name: String::new(),
            storage_mount: String::new(),
            proxy: ProxyChoice::default(),
            proxy_encoder: "auto".to_owned(),
            proxy_preset: String::new(),
            camera_proxy: false,
            look_rules: String::new(),
            burn_in: String::new(),
            burn_in_corner: "bottom-left".to_owned(),
            default_collection: String::new(),
            title_template: "{user_clip_name}".to_owned(),
            offload_pattern: crate::offload::DEFAULT_PATTERN.to_owned(),
            offload: false,
            offload_also: Vec::new(),
            verify_size_only: false,
            allow_same_volume: false,
            cascade_to: Vec::new(),
            drive_writers: crate::offload::drives::DEFAULT_WRITERS_PER_DRIVE as u32,
            required_copies: 0,
            offload_storages: Vec::new(),
            cloud_copy: Vec::new(),
            edit_proxy_to: Vec::new(),
            edit_proxy_codec: "prores-proxy".to_owned(),
            max_upload_rate: String::new(),
            start_when_inserted: false,
            notify_desktop: true,
            iconik_job: true,
            webhook_url: String::new(),
            metadata_view: String::new(),
            tools: crate::media::tools::ToolPaths::default(),
            clip_columns: Vec::new(),
            preset: String::new(),
            project: String::new(),
        }
    }
}

impl Settings {
    /// The server origin for the current choice; `None` for the sandbox (its URL is known only
    /// once it runs) and for an empty custom URL.
    pub fn server_url(&self) -> Option<String> {
        match self.server {
            ServerChoice::AppIconik => Some(crate::iconik::client::APP_ICONIK_IO.to_owned()),
            ServerChoice::EuIconik => Some(crate::iconik::client::EU_ICONIK_IO.to_owned()),
            ServerChoice::Custom => {
                let url = self.custom_url.trim();
                (!url.is_empty()).then(|| url.trim_end_matches('/').to_owned())
            }
            ServerChoice::Sandbox => None,
        }
    }
}

impl Settings {
    /// The engine's options exactly as this sheet shows them, for the originals storage
    /// `storage` mounted at `root`; per-clip edits are the window's to add. Pure (the CLI's
    /// flags have their own twin, `cli::ingest::options_from_args`).
    ///
    /// The sandbox's mount is the file system root, so its offload copies go to a folder of the
    /// app's own (`data_dir/sandbox-originals`) instead of `/`; trying things out there, the
    /// card and that folder are usually on one drive, so the same-drive refusal is off.
    pub fn ingest_options(
        &self,
        storage: String,
        root: PathBuf,
        data_dir: &Path,
        sandbox: bool,
    ) -> IngestOptions {
        let mut options = IngestOptions::new(storage, root.clone(), data_dir.join("proxies"));
        options.offload_to = self.offload.then(|| {
            if sandbox {
                data_dir.join("sandbox-originals")
            } else {
                root
            }
        });
        options.offload_pattern = self.offload_pattern.clone();
        options.offload_also = self
            .offload_also
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect();
        options.verify = if self.verify_size_only {
            crate::offload::VerifyMode::Size
        } else {
            crate::offload::VerifyMode::ReadBack
        };
        options.allow_same_volume = self.allow_same_volume || sandbox;
        options.cascade_to = lines(&self.cascade_to).map(PathBuf::from).collect();
        options.writers_per_drive = usize::try_from(self.drive_writers.max(1)).unwrap_or(1);
        options.required_copies = usize::try_from(self.required_copies)
            .ok()
            .filter(|n| *n > 0);
        // Lines the sheet marks as wrong (same parsers as the CLI's flags) are left out of the run.
        options.offload_storages = lines(&self.offload_storages)
            .filter_map(|l| parse_target(l, true).ok())
            .collect();
        options.cloud_copy = lines(&self.cloud_copy).map(str::to_owned).collect();
        options.edit_proxy_to = lines(&self.edit_proxy_to)
            .filter_map(|l| parse_target(l, false).ok())
            .collect();
        options.edit_proxy_codec =
            crate::media::proxy::EditCodec::parse(&self.edit_proxy_codec).unwrap_or_default();
        options.max_upload_rate = upload_rate(&self.max_upload_rate).ok().flatten();
        options.proxy = match self.proxy {
            ProxyChoice::Local => ProxyMode::Local,
            ProxyChoice::Iconik => ProxyMode::Iconik,
            ProxyChoice::None => ProxyMode::None,
        };
        options.encoder = self.proxy_encoder.parse().unwrap_or_else(|e| {
            // A hand-edited settings file: detect rather than refuse the whole ingest.
            tracing::warn!(error = %e, "proxy encoder setting ignored");
            crate::media::proxy::EncoderChoice::Auto
        });
        let preset = self.proxy_preset.trim();
        options.proxy_preset = if preset.is_empty() {
            None
        } else {
            // A hand-edited settings file: the family defaults rather than refusing the ingest.
            crate::media::proxy::preset::find(preset)
                .inspect_err(|e| tracing::warn!(error = %e, "proxy preset setting ignored"))
                .ok()
        };
        options.camera_proxy = self.camera_proxy;
        if !self.burn_in.trim().is_empty() {
            use crate::media::proxy::burn_in;
            // A broken setting is shown in the panel; the ingest then goes without burn-ins.
            match burn_in::parse_items(&self.burn_in) {
                Ok(items) => options.burn_in = items,
                Err(e) => tracing::warn!(error = %e, "burn-in setting ignored"),
            }
            options.burn_in_corner = self.burn_in_corner.parse().unwrap_or_default();
        }
        options.look_rules = crate::media::proxy::look_rules::parse_rules(&self.look_rules)
            .unwrap_or_else(|e| {
                // The settings panel shows the error; a broken line must not stop the ingest.
                tracing::warn!(error = %e, "look rules ignored");
                Vec::new()
            });
        options.collection =
            Some(self.default_collection.trim().to_owned()).filter(|c| !c.is_empty());
        options.title_template = self.title_template.clone();
        options.iconik_job = self.iconik_job;
        // The window replaces it with the view it found on the server (or none); the CLI's
        // `--preset` runs with the saved id.
        options.metadata_view =
            Some(self.metadata_view.trim().to_owned()).filter(|v| !v.is_empty());
        options.preset = Some(self.preset.trim().to_owned()).filter(|p| !p.is_empty());
        options.project = Some(self.project.trim().to_owned()).filter(|p| !p.is_empty());
        options
    }
}

/// The non-empty lines of a multi-line setting, trimmed.
fn lines(list: &[String]) -> impl Iterator<Item = &str> {
    list.iter().map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// A `STORAGE[=LOCAL_MOUNT]` line, as the CLI's `--offload-storage` (`mount_needed`) and
/// `--edit-proxy-to` read it.
pub fn parse_target(
    line: &str,
    mount_needed: bool,
) -> Result<crate::ingest::storage_target::StorageTarget, String> {
    let t = crate::ingest::storage_target::StorageTarget::parse(line).map_err(|e| e.to_string())?;
    if mount_needed && t.local_mount.is_none() {
        return Err(format!(
            "{line:?}: STORAGE=LOCAL_MOUNT (where the storage is mounted here)"
        ));
    }
    Ok(t)
}

/// The upload cap setting: `None` for empty, bytes per second otherwise (`20M`, `500k`).
pub fn upload_rate(text: &str) -> Result<Option<u64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    crate::iconik::upload::throttle::parse_rate(text).map(Some)
}

/// Errors loading or saving the settings file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the settings file {path}: {source}", path = .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the settings file {path} is not valid ({source}); fix or delete it to start from defaults",
        path = .path.display()
    )]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write the settings file {path}: {source}", path = .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot encode the settings: {0}")]
    Encode(#[source] serde_json::Error),
}

/// Per-OS folders of the app: config (settings) and cache (posters, sample cards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppDirs {
    pub config_dir: PathBuf,
    pub cache_dir: PathBuf,
    /// Journals, proxies, reports and transcripts (the CLI's journal folder is below it too,
    /// so the window offers to resume what a `card-ingest ingest` left).
    pub data_dir: PathBuf,
}

impl AppDirs {
    /// `directories::ProjectDirs` for "card-ingest"; `None` when the OS gives no home folder.
    pub fn from_os() -> Option<AppDirs> {
        let dirs = directories::ProjectDirs::from("", "", "card-ingest")?;
        Some(AppDirs {
            config_dir: dirs.config_dir().to_path_buf(),
            cache_dir: dirs.cache_dir().to_path_buf(),
            data_dir: dirs.data_dir().to_path_buf(),
        })
    }

    /// Both folders under one root (tests, portable installs).
    pub fn under(root: &Path) -> AppDirs {
        AppDirs {
            config_dir: root.join("config"),
            cache_dir: root.join("cache"),
            data_dir: root.join("data"),
        }
    }

    pub fn settings_file(&self) -> PathBuf {
        self.config_dir.join(SETTINGS_FILE)
    }
}

/// Reads the settings; a missing file gives the defaults (first run).
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    serde_json::from_slice(&bytes).map_err(|source| ConfigError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes the settings atomically (creating the config dir). Blocking: worker thread only.
pub fn save(path: &Path, settings: &Settings) -> Result<(), ConfigError> {
    let mut bytes = serde_json::to_vec_pretty(settings).map_err(ConfigError::Encode)?;
    bytes.push(b'\n');
    let write = |source| ConfigError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(write)?;
    }
    crate::atomic_write::write_atomic(path, &bytes).map_err(write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults_and_save_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = AppDirs::under(dir.path()).settings_file();
        assert_eq!(load(&path).expect("defaults"), Settings::default());
        let settings = Settings {
            server: ServerChoice::Custom,
            custom_url: "https://iconik.example.com/".into(),
            app_id: "app-1".into(),
            storage_id: "st-1".into(),
            proxy: ProxyChoice::None,
            title_template: "{card} {name}".into(),
            ..Settings::default()
        };
        save(&path, &settings).expect("save");
        assert_eq!(load(&path).expect("load"), settings);
        assert_eq!(
            settings.server_url().as_deref(),
            Some("https://iconik.example.com")
        );
        let text = std::fs::read_to_string(&path).expect("read back");
        assert!(text.contains("\"server\": \"custom\""), "{text}");
        assert!(!text.to_lowercase().contains("token"), "{text}");
    }

    #[test]
    fn unknown_fields_are_ignored_and_broken_json_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(SETTINGS_FILE);
        std::fs::write(&path, br#"{"server":"eu_iconik","future_field":1}"#).expect("write");
        let s = load(&path).expect("load");
        assert_eq!(s.server, ServerChoice::EuIconik);
        assert_eq!(s.title_template, "{user_clip_name}");
        std::fs::write(&path, b"{not json").expect("write");
        let err = load(&path).expect_err("broken");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }
}
