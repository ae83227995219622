//! Finding MediaInfo and ffprobe on PATH once at startup.

use super::Tools;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Per-file probe budget when `Tools::probe_timeout` is not set. MediaInfo reads headers and
/// footers only; a minute per file covers slow USB card readers.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(60);

impl Tools {
    /// Looks for `mediainfo` and `ffprobe` on PATH.
    pub fn detect() -> Tools {
        let tools = Tools {
            mediainfo: find_on_path("mediainfo"),
            ffprobe: find_on_path("ffprobe"),
            probe_timeout: None,
        };
        tracing::debug!(mediainfo = ?tools.mediainfo, ffprobe = ?tools.ffprobe, "tools detected");
        tools
    }

    /// The per-file timeout for MediaInfo/ffprobe runs.
    pub fn timeout_per_file(&self) -> Duration {
        self.probe_timeout.unwrap_or(DEFAULT_PROBE_TIMEOUT)
    }
}

/// First executable file called `name` in the PATH directories.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file() || p.with_extension("exe").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sh_but_not_a_made_up_name() {
        assert!(find_on_path("sh").is_some_and(|p| p.ends_with("sh")));
        assert_eq!(find_on_path("card-ingest-no-such-tool-x"), None);
    }
}
