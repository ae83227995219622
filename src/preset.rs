//! Named presets: everything a run needs besides the credentials (server and storage,
//! destinations, naming pattern, title template, collection, metadata defaults, proxy options,
//! notifications), kept as readable JSON files in the config folder (`<config>/presets/NAME.json`)
//! so a team can pass one around.
//!
//! A preset file holds the serde form of [`Settings`] itself, so every run field the settings
//! gain later travels with presets without being listed here; only the fields that belong to
//! this machine or this window ([`MACHINE_FIELDS`]) are left out when saving and kept from the
//! current settings when a preset is applied. Both faces go through [`Preset::settings`] and
//! [`Settings::ingest_options`], so a preset gives the same options in the window and in
//! `card-ingest ingest --preset NAME`.

use crate::settings::{AppDirs, Settings};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Folder of the presets inside the config folder.
pub const PRESETS_DIR: &str = "presets";

/// `Settings` fields that never go into a preset: the App-ID belongs with the token in the
/// keyring (credentials are not shared), tool paths are this machine's install, column widths
/// are this window's layout.
pub const MACHINE_FIELDS: [&str; 3] = ["app_id", "tools", "clip_columns"];

/// Characters a preset name may not hold: it is also the file name on every OS.
const BAD_NAME_CHARS: &[char] = &['/', '\\', ':', '*', '?', '"', '<', '>', '|'];

/// Errors listing, reading or writing presets. Each names the file or preset and what to do.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    #[error(
        "no preset named {name:?}{known}; save one in the window (Settings › \"Save as preset…\") \
         or give a preset file's path",
        known = if known.is_empty() {
            " (there are no presets yet)".to_owned()
        } else {
            format!(" (presets: {})", known.join(", "))
        }
    )]
    Unknown { name: String, known: Vec<String> },
    #[error(
        "the preset file {path} is not a valid preset ({source}); fix it or export it again",
        path = .path.display()
    )]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot read the preset file {path}: {source}", path = .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the preset file {path}: {source}", path = .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{name:?} cannot be a preset name: use a non-empty name without / \\ : * ? \" < > | that \
         does not start with a dot"
    )]
    BadName { name: String },
    #[error("cannot encode the preset: {0}")]
    Encode(#[source] serde_json::Error),
}

/// What a preset file holds (pretty JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PresetFile {
    /// The preset's name (also the file name in the presets folder).
    name: String,
    /// The serde form of [`Settings`] without [`MACHINE_FIELDS`]; missing fields take their
    /// defaults, unknown ones are ignored (files from other versions still load).
    settings: serde_json::Value,
}

/// A named set of run settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    pub name: String,
    /// The run fields; [`MACHINE_FIELDS`] hold their defaults.
    settings: Settings,
}

impl Preset {
    /// The preset `name` holding `settings`' run fields (the machine fields are dropped).
    pub fn new(name: &str, settings: &Settings) -> Result<Preset, PresetError> {
        let name = check_name(name)?;
        let mut settings = settings.clone();
        clear_machine_fields(&mut settings);
        settings.preset = name.clone();
        Ok(Preset { name, settings })
    }

    /// The settings a run with this preset uses: the preset's run fields with `current`'s
    /// machine fields (App-ID, tool paths, column widths) kept.
    pub fn settings(&self, current: &Settings) -> Settings {
        let mut s = self.settings.clone();
        s.app_id = current.app_id.clone();
        s.tools = current.tools.clone();
        s.clip_columns = current.clip_columns.clone();
        s.preset = self.name.clone();
        s
    }

    /// The pretty JSON of the file.
    fn to_json(&self) -> Result<Vec<u8>, PresetError> {
        let mut value = serde_json::to_value(&self.settings).map_err(PresetError::Encode)?;
        if let Some(map) = value.as_object_mut() {
            for field in MACHINE_FIELDS {
                map.remove(field);
            }
        }
        let file = PresetFile {
            name: self.name.clone(),
            settings: value,
        };
        let mut bytes = serde_json::to_vec_pretty(&file).map_err(PresetError::Encode)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

fn clear_machine_fields(s: &mut Settings) {
    let d = Settings::default();
    s.app_id = d.app_id;
    s.tools = d.tools;
    s.clip_columns = d.clip_columns;
}

fn check_name(name: &str) -> Result<String, PresetError> {
    let trimmed = name.trim();
    if trimmed.is_empty()
        || trimmed.starts_with('.')
        || trimmed.contains(BAD_NAME_CHARS)
        || trimmed.chars().any(char::is_control)
    {
        return Err(PresetError::BadName {
            name: name.to_owned(),
        });
    }
    Ok(trimmed.to_owned())
}

/// The presets folder of `dirs`.
pub fn presets_dir(dirs: &AppDirs) -> PathBuf {
    dirs.config_dir.join(PRESETS_DIR)
}

/// The names of the presets in `dir`, sorted (an absent folder: none).
pub fn list(dir: &Path) -> Result<Vec<String>, PresetError> {
    let read = |source| PresetError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let path = entry.map_err(read)?.path();
        if path.extension().is_some_and(|e| e == "json")
            && let Some(stem) = path.file_stem()
        {
            names.push(stem.to_string_lossy().into_owned());
        }
    }
    names.sort_by_key(|n| n.to_lowercase());
    Ok(names)
}

/// Reads a preset file anywhere (an export, a teammate's file). The name is the file's own,
/// else its file name.
pub fn load_file(path: &Path) -> Result<Preset, PresetError> {
    let bytes = std::fs::read(path).map_err(|source| PresetError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let parse = |source| PresetError::Parse {
        path: path.to_path_buf(),
        source,
    };
    let file: PresetFile = serde_json::from_slice(&bytes).map_err(parse)?;
    let mut settings: Settings = serde_json::from_value(file.settings).map_err(parse)?;
    // A hand-written file may carry them: they are this machine's, never the preset's.
    clear_machine_fields(&mut settings);
    let name = check_name(&file.name).or_else(|_| {
        check_name(
            &path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )
    })?;
    settings.preset = name.clone();
    Ok(Preset { name, settings })
}

/// The preset `name` from `dir`; an unknown name is refused with the names that exist.
pub fn load_named(dir: &Path, name: &str) -> Result<Preset, PresetError> {
    let path = dir.join(format!("{}.json", name.trim()));
    if check_name(name).is_ok() && path.is_file() {
        let mut preset = load_file(&path)?;
        // The file name is what the operator picks it by.
        preset.name = name.trim().to_owned();
        preset.settings.preset = preset.name.clone();
        return Ok(preset);
    }
    Err(PresetError::Unknown {
        name: name.to_owned(),
        known: list(dir)?,
    })
}

/// `--preset NAME|FILE`: a path to an existing file (it has a separator or ends in `.json`) is
/// read as a file, anything else is a name in `dir`.
pub fn resolve(dir: &Path, name_or_path: &str) -> Result<Preset, PresetError> {
    let p = Path::new(name_or_path);
    let looks_like_path = name_or_path.contains(['/', '\\'])
        || p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if looks_like_path && p.is_file() {
        return load_file(p);
    }
    load_named(dir, name_or_path)
}

/// Writes `preset` to `path` atomically (an export, or the presets folder's copy).
pub fn write_file(path: &Path, preset: &Preset) -> Result<(), PresetError> {
    let bytes = preset.to_json()?;
    let write = |source| PresetError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(write)?;
    }
    crate::atomic_write::write_atomic(path, &bytes).map_err(write)
}

/// Saves `preset` into `dir` as `NAME.json` (replacing one of that name); its path.
pub fn save(dir: &Path, preset: &Preset) -> Result<PathBuf, PresetError> {
    let path = dir.join(format!("{}.json", preset.name));
    write_file(&path, preset)?;
    Ok(path)
}

/// Imports a preset file into `dir` under its own name; the imported preset.
pub fn import(dir: &Path, file: &Path) -> Result<Preset, PresetError> {
    let preset = load_file(file)?;
    save(dir, &preset)?;
    Ok(preset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{ProxyChoice, ServerChoice};

    fn team_settings() -> Settings {
        Settings {
            server: ServerChoice::EuIconik,
            app_id: "app-SECRET-ish".into(),
            storage_id: "st-1".into(),
            storage_name: "Originals".into(),
            storage_mount: "/mnt/originals".into(),
            proxy: ProxyChoice::Iconik,
            offload: true,
            offload_also: vec!["/mnt/shuttle".into()],
            offload_pattern: "{date}/{card}".into(),
            title_template: "{card} {name}".into(),
            default_collection: "Day 2".into(),
            notify_desktop: false,
            clip_columns: vec![120.0, 80.0],
            tools: crate::media::tools::ToolPaths {
                ffmpeg: "/opt/ffmpeg".into(),
                ..Default::default()
            },
            ..Settings::default()
        }
    }

    #[test]
    fn saved_preset_loads_back_with_run_fields_and_without_machine_fields() {
        let dir = tempfile::tempdir().unwrap();
        let preset = Preset::new(" Day 2 ", &team_settings()).unwrap();
        let path = save(dir.path(), &preset).unwrap();
        assert_eq!(path, dir.path().join("Day 2.json"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\n  \"name\": \"Day 2\""),
            "pretty JSON: {text}"
        );
        for field in MACHINE_FIELDS {
            assert!(!text.contains(&format!("\"{field}\"")), "{field}: {text}");
        }
        let back = load_named(dir.path(), "Day 2").unwrap();
        let current = Settings {
            app_id: "mine".into(),
            clip_columns: vec![1.0],
            ..Settings::default()
        };
        let applied = back.settings(&current);
        let expected = Settings {
            app_id: "mine".into(),
            clip_columns: vec![1.0],
            tools: Default::default(),
            preset: "Day 2".into(),
            ..team_settings()
        };
        assert_eq!(applied, expected);
        assert_eq!(list(dir.path()).unwrap(), ["Day 2"]);
    }

    #[test]
    fn unknown_name_lists_the_presets_and_broken_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_named(dir.path(), "Day 9").unwrap_err().to_string();
        assert!(err.contains("there are no presets yet"), "{err}");
        for n in ["B-cam", "A-cam"] {
            save(dir.path(), &Preset::new(n, &Settings::default()).unwrap()).unwrap();
        }
        let err = load_named(dir.path(), "Day 9").unwrap_err().to_string();
        assert!(
            err.contains("\"Day 9\"") && err.contains("presets: A-cam, B-cam"),
            "{err}"
        );
        let broken = dir.path().join("Broken.json");
        std::fs::write(
            &broken,
            "{\"name\": \"Broken\", \"settings\": {\"offload\": 3}}",
        )
        .unwrap();
        let err = resolve(dir.path(), "Broken").unwrap_err().to_string();
        assert!(err.contains(&broken.display().to_string()), "{err}");
        assert!(err.contains("not a valid preset"), "{err}");
    }

    #[test]
    fn export_import_and_paths_resolve() {
        let team = tempfile::tempdir().unwrap();
        let mine = tempfile::tempdir().unwrap();
        let export = team.path().join("shared/shoot.json");
        write_file(&export, &Preset::new("Shoot", &team_settings()).unwrap()).unwrap();
        let by_path = resolve(mine.path(), export.to_str().unwrap()).unwrap();
        assert_eq!(by_path.name, "Shoot");
        let imported = import(mine.path(), &export).unwrap();
        assert_eq!(imported, by_path);
        assert_eq!(list(mine.path()).unwrap(), ["Shoot"]);
        for bad in ["", "a/b", ".hidden", "x:y"] {
            assert!(Preset::new(bad, &Settings::default()).is_err(), "{bad:?}");
        }
    }
}
