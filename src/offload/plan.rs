//! What an offload will do: the destination folder (from the pattern) and the list of source
//! files, before any byte is copied.

use std::path::{Component, Path, PathBuf};

use chrono::NaiveDate;

use super::OffloadError;

/// OS junk that is neither copied nor recorded (`camera-cards.md` §2). Matched on the file or folder
/// name; `._*` AppleDouble files by prefix.
pub const JUNK_NAMES: [&str; 6] = [
    ".DS_Store",
    ".Spotlight-V100",
    ".fseventsd",
    ".Trashes",
    "System Volume Information",
    "Thumbs.db",
];

/// Whether `name` is OS junk to leave behind.
pub fn is_junk(name: &str) -> bool {
    name.starts_with("._") || JUNK_NAMES.contains(&name)
}

/// Values of the naming placeholders beyond `{date}` and `{card}`, shared by the destination
/// pattern and the asset title: from the scanned metadata, the settings and the preset. A
/// missing value resolves to its fallback ([`NameValues::FALLBACKS`]), never to an empty
/// path segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameValues {
    /// `{camera}`: the camera model the clips record.
    pub camera: Option<String>,
    /// `{reel}`: the reel / tape name the clips record (ALE `Tape`, RED reel, sidecars).
    pub reel: Option<String>,
    /// `{shoot_date}`: the recording date (`YYYY-MM-DD`; for a card, its first clip's).
    pub shoot_date: Option<String>,
    /// `{card_serial}`: the serial number the card's metadata records (the recording
    /// device's: no camera family writes the card medium's own serial into its clip files).
    pub card_serial: Option<String>,
    /// `{project}`: the project the clips record (iXML, ALE), else the settings' default.
    pub project: Option<String>,
    /// `{preset}`: the name of the preset the run uses.
    pub preset: Option<String>,
}

impl NameValues {
    /// Placeholder → what it resolves to when the value is unknown.
    pub const FALLBACKS: [(&'static str, &'static str); 6] = [
        ("camera", "unknown-camera"),
        ("reel", "unknown-reel"),
        ("shoot_date", "unknown-date"),
        ("card_serial", "unknown-serial"),
        ("project", "no-project"),
        ("preset", "no-preset"),
    ];

    /// The value of placeholder `name` (its fallback when unknown); `None` for a name that is
    /// not one of these placeholders.
    pub fn resolve(&self, name: &str) -> Option<String> {
        let value = match name {
            "camera" => &self.camera,
            "reel" => &self.reel,
            "shoot_date" => &self.shoot_date,
            "card_serial" => &self.card_serial,
            "project" => &self.project,
            "preset" => &self.preset,
            _ => return None,
        };
        let fallback = Self::FALLBACKS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("unknown", |(_, f)| f);
        Some(
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .unwrap_or(fallback)
                .to_owned(),
        )
    }

    /// Whether `pattern` names a value read from the clips' metadata (everything here but
    /// `{preset}`, which the run knows from the start).
    pub fn needs_metadata(pattern: &str) -> bool {
        Self::FALLBACKS
            .iter()
            .filter(|(name, _)| *name != "preset")
            .any(|(name, _)| pattern.contains(&format!("{{{name}}}")))
    }

    /// `text` with every one of these placeholders replaced (others left as they are): the
    /// asset title's step.
    pub fn fill(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (name, _) in Self::FALLBACKS {
            let key = format!("{{{name}}}");
            if out.contains(&key) {
                out = out.replace(&key, &self.resolve(name).unwrap_or_default());
            }
        }
        out
    }
}

/// The destination folder of a card: `destination_root` joined with `pattern` expanded.
///
/// Placeholders: `{date}` = `date` as `YYYY-MM-DD`, `{card}` = the card folder's name, and
/// `{camera}`, `{reel}`, `{shoot_date}`, `{card_serial}`, `{project}`, `{preset}` from `values`
/// (a missing one gives its fallback, e.g. `unknown-camera`); characters that are invalid in
/// Windows/SMB names are replaced by `_`. Anything else in braces is an error, as is a pattern
/// that expands to an absolute path, `.`/`..` components or nothing.
pub fn destination_dir(
    destination_root: &Path,
    pattern: &str,
    card_name: &str,
    date: NaiveDate,
    values: &NameValues,
) -> Result<PathBuf, OffloadError> {
    let bad = |reason: String| OffloadError::BadPattern {
        pattern: pattern.to_owned(),
        reason,
    };
    let mut expanded = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        expanded.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| bad("unclosed '{'".to_owned()))?;
        match &after[..close] {
            "date" => expanded.push_str(&date.format("%Y-%m-%d").to_string()),
            "card" => expanded.push_str(&sanitize(card_name)),
            other => match values.resolve(other) {
                // A value is one path segment: its separators are replaced too.
                Some(v) => expanded.push_str(&sanitize(&v)),
                None => {
                    return Err(bad(format!(
                        "unknown placeholder {{{other}}} (use {{date}}, {{card}}, {{camera}}, \
                         {{reel}}, {{shoot_date}}, {{card_serial}}, {{project}} or {{preset}})"
                    )));
                }
            },
        }
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(bad("unmatched '}'".to_owned()));
    }
    expanded.push_str(rest);
    let relative = Path::new(&expanded);
    let mut components = 0;
    for c in relative.components() {
        match c {
            Component::Normal(_) => components += 1,
            _ => {
                return Err(bad(format!(
                    "expands to {expanded:?}, which must be a relative path without '.' or '..'"
                )));
            }
        }
    }
    if components == 0 {
        return Err(bad("expands to an empty path".to_owned()));
    }
    Ok(destination_root.join(relative))
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect()
}

/// A source file to offload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Relative to the card root, `/`-separated.
    pub rel_path: String,
    pub size_bytes: u64,
}

/// Lists the card's regular files (sorted, junk left out) and its empty folders. Symlinks and
/// special files (FIFOs, devices) are not copied and come back in the third list with a reason.
#[allow(clippy::type_complexity)]
pub fn list_source(
    card_root: &Path,
) -> Result<(Vec<SourceFile>, Vec<String>, Vec<(String, String)>), OffloadError> {
    let mut files = Vec::new();
    let mut dirs_with_children = std::collections::BTreeSet::new();
    let mut all_dirs = Vec::new();
    let mut skipped = Vec::new();
    let walker = walkdir::WalkDir::new(card_root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_junk(&e.file_name().to_string_lossy()));
    for entry in walker {
        let entry = entry.map_err(|e| OffloadError::Walk {
            path: e
                .path()
                .map_or_else(|| card_root.to_path_buf(), Path::to_path_buf),
            message: e.to_string(),
        })?;
        if entry.depth() == 0 {
            continue;
        }
        let rel = rel_string(card_root, entry.path())?;
        if let Some((parent, _)) = rel.rsplit_once('/') {
            dirs_with_children.insert(parent.to_owned());
        }
        let ft = entry.file_type();
        if ft.is_dir() {
            all_dirs.push(rel);
        } else if ft.is_file() {
            let meta = entry.metadata().map_err(|e| OffloadError::Walk {
                path: entry.path().to_path_buf(),
                message: e.to_string(),
            })?;
            files.push(SourceFile {
                rel_path: rel,
                size_bytes: meta.len(),
            });
        } else {
            let reason = if ft.is_symlink() {
                "symbolic link (not followed)"
            } else {
                "not a regular file (FIFO, socket or device)"
            };
            tracing::warn!(path = %entry.path().display(), reason, "not offloaded");
            skipped.push((rel, reason.to_owned()));
        }
    }
    let empty_dirs = all_dirs
        .into_iter()
        .filter(|d| !dirs_with_children.contains(d))
        .collect();
    Ok((files, empty_dirs, skipped))
}

fn rel_string(root: &Path, path: &Path) -> Result<String, OffloadError> {
    let rel = path.strip_prefix(root).map_err(|_| OffloadError::Walk {
        path: path.to_path_buf(),
        message: "outside the card root".to_owned(),
    })?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    parts
        .map(|p| p.join("/"))
        .ok_or_else(|| OffloadError::Walk {
            path: path.to_path_buf(),
            message: "file name is not valid Unicode; rename it before offloading".to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    #[test]
    fn pattern_expands_date_and_card() {
        let d = destination_dir(
            Path::new("/mnt/iconik"),
            "{date}/{card}",
            "CARD:01",
            date(),
            &none(),
        )
        .unwrap();
        assert_eq!(d, PathBuf::from("/mnt/iconik/2026-11-22/CARD_01"));
        let d = destination_dir(
            Path::new("/m"),
            "shoot-{date}/cards/{card}",
            "A001",
            date(),
            &none(),
        )
        .unwrap();
        assert_eq!(d, PathBuf::from("/m/shoot-2026-11-22/cards/A001"));
    }

    #[test]
    fn bad_patterns_are_rejected_with_reason() {
        let err = |p: &str| {
            destination_dir(Path::new("/m"), p, "A001", date(), &none())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("{date}/{clip}"),
            "invalid destination pattern \"{date}/{clip}\": unknown placeholder {clip} (use {date}, \
             {card}, {camera}, {reel}, {shoot_date}, {card_serial}, {project} or {preset})"
        );
        assert!(err("../{card}").contains("without '.' or '..'"));
        assert!(err("/abs/{card}").contains("without '.' or '..'"));
        assert!(err("{date").contains("unclosed"));
        assert!(err("").contains("empty path"));
    }

    fn none() -> NameValues {
        NameValues::default()
    }

    #[test]
    fn each_naming_placeholder_resolves_from_its_value_or_its_fallback() {
        let values = NameValues {
            camera: Some("ALEXA Mini LF".into()),
            reel: Some("A001".into()),
            shoot_date: Some("2026-05-14".into()),
            card_serial: Some("SN:1234".into()),
            project: Some("Nordlicht".into()),
            preset: Some("Day 2/A".into()),
        };
        let one = |pattern: &str, v: &NameValues| {
            destination_dir(Path::new("/m"), pattern, "CARD", date(), v).unwrap()
        };
        for (pattern, want, fallback) in [
            ("{camera}", "ALEXA Mini LF", "unknown-camera"),
            ("{reel}", "A001", "unknown-reel"),
            ("{shoot_date}", "2026-05-14", "unknown-date"),
            ("{card_serial}", "SN_1234", "unknown-serial"),
            ("{project}", "Nordlicht", "no-project"),
            // A value never adds a folder level.
            ("{preset}", "Day 2_A", "no-preset"),
        ] {
            assert_eq!(
                one(pattern, &values),
                Path::new("/m").join(want),
                "{pattern}"
            );
            assert_eq!(
                one(pattern, &none()),
                Path::new("/m").join(fallback),
                "{pattern}"
            );
            // An empty value is missing too: never an empty path segment.
            let blank = NameValues {
                camera: Some(" ".into()),
                reel: Some(String::new()),
                shoot_date: Some(String::new()),
                card_serial: Some(String::new()),
                project: Some(String::new()),
                preset: Some(String::new()),
            };
            assert_eq!(
                one(&format!("x/{pattern}/y"), &blank),
                Path::new("/m/x").join(fallback).join("y")
            );
        }
        assert_eq!(
            one("{project}/{shoot_date}/{camera}_{reel}/{card}", &values),
            PathBuf::from("/m/Nordlicht/2026-05-14/ALEXA Mini LF_A001/CARD")
        );
        assert_eq!(
            values.fill("{reel} {name} ({camera}, {preset})"),
            "A001 {name} (ALEXA Mini LF, Day 2/A)"
        );
        assert_eq!(none().fill("{camera}"), "unknown-camera");
        assert!(NameValues::needs_metadata("{date}/{reel}"));
        assert!(!NameValues::needs_metadata("{date}/{preset}/{card}"));
    }

    #[test]
    fn junk_names() {
        assert!(is_junk("._0001AB.MXF"));
        assert!(is_junk(".DS_Store"));
        assert!(!is_junk("0001AB.MXF"));
    }
}
