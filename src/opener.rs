//! Opens a report or a web page (an asset in iconik, the sandbox's pages) with the system's own
//! viewer: `xdg-open` (then `gio`, `gnome-open`, `kde-open`, `wslview`) on Linux, `open` on
//! macOS, the shell's default program on Windows — the commands of the `open` crate, tried in
//! turn. The viewer is not waited for (a thread reaps it), so a slow one never holds the caller.

use std::ffi::{OsStr, OsString};
use std::process::Stdio;

/// Opening failed: no viewer could be started.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot open {target}: no program to open it was found ({source}); open it by hand, or \
     install xdg-utils on Linux"
)]
pub struct OpenError {
    pub target: String,
    #[source]
    pub source: std::io::Error,
}

/// Opens `target` (a path or an http(s) URL) with the system's default program for it.
/// `search_path` replaces `PATH` for finding that program (tests put a stand-in there).
pub fn open(target: &str, search_path: Option<&OsStr>) -> Result<(), OpenError> {
    tracing::info!(%target, "opening");
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no opener for this system");
    for mut cmd in open::commands(target) {
        if let Some(p) = search_path {
            cmd.env("PATH", p);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match cmd.spawn() {
            Ok(mut child) => {
                std::thread::spawn(move || child.wait());
                return Ok(());
            }
            Err(e) => last = e,
        }
    }
    Err(OpenError {
        target: target.to_owned(),
        source: last,
    })
}

/// `PATH` with `dir` in front (for [`open`]'s `search_path`).
pub fn path_with(dir: &std::path::Path) -> OsString {
    let mut dirs = vec![dir.to_path_buf()];
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}
