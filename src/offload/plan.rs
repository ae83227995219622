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

/// The destination folder of a card: `destination_root` joined with `pattern` expanded.
///
/// Placeholders: `{date}` = `date` as `YYYY-MM-DD`, `{card}` = the card folder's name (characters
/// that are invalid in Windows/SMB names replaced by `_`). Anything else in braces is an error, as
/// is a pattern that expands to an absolute path, `.`/`..` components or nothing.
pub fn destination_dir(
    destination_root: &Path,
    pattern: &str,
    card_name: &str,
    date: NaiveDate,
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
            other => {
                return Err(bad(format!(
                    "unknown placeholder {{{other}}} (use {{date}} and {{card}})"
                )));
            }
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
        let d =
            destination_dir(Path::new("/mnt/iconik"), "{date}/{card}", "CARD:01", date()).unwrap();
        assert_eq!(d, PathBuf::from("/mnt/iconik/2026-11-22/CARD_01"));
        let d =
            destination_dir(Path::new("/m"), "shoot-{date}/cards/{card}", "A001", date()).unwrap();
        assert_eq!(d, PathBuf::from("/m/shoot-2026-11-22/cards/A001"));
    }

    #[test]
    fn bad_patterns_are_rejected_with_reason() {
        let err = |p: &str| {
            destination_dir(Path::new("/m"), p, "A001", date())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("{date}/{clip}"),
            "invalid destination pattern \"{date}/{clip}\": unknown placeholder {clip} (use {date} and {card})"
        );
        assert!(err("../{card}").contains("without '.' or '..'"));
        assert!(err("/abs/{card}").contains("without '.' or '..'"));
        assert!(err("{date").contains("unclosed"));
        assert!(err("").contains("empty path"));
    }

    #[test]
    fn junk_names() {
        assert!(is_junk("._0001AB.MXF"));
        assert!(is_junk(".DS_Store"));
        assert!(!is_junk("0001AB.MXF"));
    }
}
