//! iconik `directory_path` values from local paths: the folder relative to the storage's mount,
//! with forward slashes, whatever the OS wrote. Pure string logic with the path style as an input,
//! so the Windows rules (drive letters, UNC shares, `\\?\` long-path prefixes, backslashes,
//! case-insensitive names) are unit-tested on any machine.

/// How the local file system spells paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathStyle {
    Posix,
    Windows,
}

impl PathStyle {
    pub fn native() -> PathStyle {
        if cfg!(windows) {
            PathStyle::Windows
        } else {
            PathStyle::Posix
        }
    }
}

/// `dir` relative to `root` as iconik wants it (`CONTENTS/VIDEO`, empty for the root itself), or
/// `None` when `dir` is not inside `root`.
pub fn directory_path(dir: &str, root: &str, style: PathStyle) -> Option<String> {
    let dir = components(dir, style);
    let root = components(root, style);
    if dir.len() < root.len() {
        return None;
    }
    let same = |a: &str, b: &str| match style {
        // NTFS and SMB shares compare names without case.
        PathStyle::Windows => a.to_lowercase() == b.to_lowercase(),
        PathStyle::Posix => a == b,
    };
    if !root.iter().zip(&dir).all(|(r, d)| same(r, d)) {
        return None;
    }
    Some(dir[root.len()..].join("/"))
}

/// The path's components, with a leading marker for its kind of root (`/`, `C:`, `//server/share`)
/// so that paths on different drives or shares never compare equal.
fn components(path: &str, style: PathStyle) -> Vec<String> {
    let (root, rest) = match style {
        PathStyle::Posix => {
            let root = if path.starts_with('/') { "/" } else { "" };
            (root.to_string(), path.to_string())
        }
        PathStyle::Windows => {
            let p = path.replace('\\', "/");
            // `\\?\UNC\server\share\…` and `\\?\C:\…` are the long-path spellings of
            // `\\server\share\…` and `C:\…`.
            let p = if let Some(unc) = p.strip_prefix("//?/UNC/") {
                format!("//{unc}")
            } else if let Some(local) = p.strip_prefix("//?/") {
                local.to_string()
            } else {
                p
            };
            if let Some(unc) = p.strip_prefix("//") {
                let mut parts = unc.splitn(3, '/');
                let server = parts.next().unwrap_or_default();
                let share = parts.next().unwrap_or_default();
                (
                    format!("//{server}/{share}").to_lowercase(),
                    parts.next().unwrap_or_default().to_string(),
                )
            } else if p.len() >= 2 && p.as_bytes()[1] == b':' {
                (p[..2].to_ascii_uppercase(), p[2..].to_string())
            } else {
                (String::new(), p)
            }
        }
    };
    let mut out = vec![root];
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
            }
            p => out.push(p.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::PathStyle::{Posix, Windows};
    use super::*;

    #[test]
    fn windows_drive_paths_become_forward_slash_relative_paths() {
        assert_eq!(
            directory_path(r"E:\Media\CARD_A\CONTENTS\VIDEO", r"E:\Media", Windows).as_deref(),
            Some("CARD_A/CONTENTS/VIDEO")
        );
        // Drive letter and folder names compare without case; the result keeps the card's case.
        assert_eq!(
            directory_path(r"e:\media\CARD_A\Clip", r"E:\MEDIA\", Windows).as_deref(),
            Some("CARD_A/Clip")
        );
        assert_eq!(
            directory_path(r"E:\Media", r"E:\Media", Windows).as_deref(),
            Some("")
        );
        // Another drive, or a sibling folder with a common prefix, is not inside the root.
        assert_eq!(directory_path(r"F:\Media\CARD", r"E:\Media", Windows), None);
        assert_eq!(
            directory_path(r"E:\Media2\CARD", r"E:\Media", Windows),
            None
        );
    }

    #[test]
    fn long_path_prefixes_and_unc_shares_are_the_same_places() {
        // canonicalize() on Windows returns `\\?\` paths; the root may be typed without it.
        assert_eq!(
            directory_path(
                r"\\?\E:\Media\CARD_A\PRIVATE\M4ROOT\CLIP",
                r"E:\Media",
                Windows
            )
            .as_deref(),
            Some("CARD_A/PRIVATE/M4ROOT/CLIP")
        );
        assert_eq!(
            directory_path(
                r"\\?\UNC\nas01\Footage\Day 1\CARD_A",
                r"\\NAS01\footage",
                Windows
            )
            .as_deref(),
            Some("Day 1/CARD_A")
        );
        assert_eq!(
            directory_path(r"\\nas02\Footage\CARD_A", r"\\nas01\Footage", Windows),
            None
        );
        // Mixed separators and `..` as a user may type them.
        assert_eq!(
            directory_path(r"E:/Media/x/../CARD_A\VIDEO", r"E:\Media", Windows).as_deref(),
            Some("CARD_A/VIDEO")
        );
    }

    #[test]
    fn posix_paths_are_case_sensitive_and_keep_backslashes_as_names() {
        assert_eq!(
            directory_path("/mnt/raid/CARD_A/CONTENTS", "/mnt/raid", Posix).as_deref(),
            Some("CARD_A/CONTENTS")
        );
        assert_eq!(directory_path("/mnt/RAID/CARD_A", "/mnt/raid", Posix), None);
        assert_eq!(
            directory_path("/mnt/raid/odd\\name", "/mnt/raid/", Posix).as_deref(),
            Some("odd\\name")
        );
    }
}
