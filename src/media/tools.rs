//! Finding ffmpeg, ffprobe and MediaInfo once at startup, in one place for the CLI and the window.
//!
//! Order, first hit wins: a path the operator set (settings, or `CARD_INGEST_FFMPEG` /
//! `CARD_INGEST_FFPROBE` / `CARD_INGEST_MEDIAINFO` for automation), a copy next to the executable
//! (bundled builds ship the tools beside `card-ingest.exe`), `PATH`, then the folders the usual
//! installers use. The last step matters on macOS, where an app started from the Finder gets no
//! Homebrew `PATH`, and on Windows, where winget/Chocolatey/Scoop and hand-unpacked zips land in
//! well-known folders that are often not on `PATH`.
//!
//! The lookup itself ([`Locator`]) is pure — the OS, the folders and the file test are inputs — so
//! the Windows rules are unit-tested on Linux.

use super::Tools;
use crate::media::process::{self, ProcessSpec};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Per-file probe budget when `Tools::probe_timeout` is not set. MediaInfo reads headers and
/// footers only; a minute per file covers slow USB card readers.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// The external programs card-ingest uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    Ffmpeg,
    Ffprobe,
    Mediainfo,
}

impl ToolKind {
    pub const ALL: [ToolKind; 3] = [ToolKind::Ffmpeg, ToolKind::Ffprobe, ToolKind::Mediainfo];

    /// The program's base name (`ffmpeg`, `ffprobe`, `mediainfo`).
    pub fn name(self) -> &'static str {
        match self {
            ToolKind::Ffmpeg => "ffmpeg",
            ToolKind::Ffprobe => "ffprobe",
            ToolKind::Mediainfo => "mediainfo",
        }
    }

    /// The environment variable that overrides the path (automation, CI).
    pub fn env_var(self) -> &'static str {
        match self {
            ToolKind::Ffmpeg => "CARD_INGEST_FFMPEG",
            ToolKind::Ffprobe => "CARD_INGEST_FFPROBE",
            ToolKind::Mediainfo => "CARD_INGEST_MEDIAINFO",
        }
    }

    /// The file name on `os` (`ffmpeg.exe` on Windows).
    pub fn file_name(self, os: Os) -> String {
        match os {
            Os::Windows => format!("{}.exe", self.name()),
            Os::Linux | Os::Macos => self.name().to_owned(),
        }
    }

    /// What card-ingest needs it for, in the operator's words.
    pub fn needed_for(self) -> &'static str {
        match self {
            ToolKind::Ffmpeg => "making local proxies and poster frames",
            ToolKind::Ffprobe => "reading technical metadata when MediaInfo is absent",
            ToolKind::Mediainfo => "reading technical metadata (codec, duration, timecode)",
        }
    }
}

/// The operating systems whose naming and install conventions the lookup knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    Windows,
    Macos,
}

impl Os {
    pub fn current() -> Os {
        if cfg!(windows) {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::Macos
        } else {
            Os::Linux
        }
    }

    /// How to install the tools on this OS, as one instruction.
    pub fn install_hint(self, kind: ToolKind) -> &'static str {
        match (self, kind) {
            (Os::Linux, ToolKind::Mediainfo) => {
                "install it with `sudo apt-get install mediainfo` (Debian/Ubuntu) or your distribution's package"
            }
            (Os::Linux, _) => {
                "install it with `sudo apt-get install ffmpeg` (Debian/Ubuntu) or your distribution's package"
            }
            (Os::Windows, ToolKind::Mediainfo) => {
                "install the MediaInfo command-line tool (`winget install MediaArea.MediaInfo`), or put MediaInfo.exe next to card-ingest.exe"
            }
            (Os::Windows, _) => {
                "install ffmpeg (`winget install Gyan.FFmpeg`), or put ffmpeg.exe and ffprobe.exe next to card-ingest.exe"
            }
            (Os::Macos, ToolKind::Mediainfo) => "install it with `brew install media-info`",
            (Os::Macos, _) => "install it with `brew install ffmpeg`",
        }
    }
}

/// Where a tool was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundIn {
    /// The path in the settings or the tool's environment variable.
    Configured,
    /// Next to the card-ingest executable.
    BesideExecutable,
    Path,
    /// A folder the usual installers use (Homebrew, winget, Chocolatey, …).
    InstallFolder,
}

impl FoundIn {
    pub fn as_str(self) -> &'static str {
        match self {
            FoundIn::Configured => "configured path",
            FoundIn::BesideExecutable => "next to card-ingest",
            FoundIn::Path => "PATH",
            FoundIn::InstallFolder => "install folder",
        }
    }
}

/// Paths the operator set for the tools (settings); empty = look for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ToolPaths {
    pub ffmpeg: String,
    pub ffprobe: String,
    pub mediainfo: String,
}

impl ToolPaths {
    pub fn get(&self, kind: ToolKind) -> Option<PathBuf> {
        let s = match kind {
            ToolKind::Ffmpeg => &self.ffmpeg,
            ToolKind::Ffprobe => &self.ffprobe,
            ToolKind::Mediainfo => &self.mediainfo,
        };
        let s = s.trim();
        (!s.is_empty()).then(|| PathBuf::from(s))
    }
}

/// The inputs of a lookup. [`Locator::from_process`] fills them from this process; tests build
/// one by hand (e.g. Windows folders on Linux).
#[derive(Debug, Clone)]
pub struct Locator {
    pub os: Os,
    /// Paths set by the operator (settings, then environment) per tool.
    pub configured: Vec<(ToolKind, PathBuf)>,
    /// The folder of the running executable.
    pub exe_dir: Option<PathBuf>,
    /// The `PATH` folders, in order.
    pub path_dirs: Vec<PathBuf>,
    /// Install folders tried after `PATH`, in order.
    pub install_dirs: Vec<PathBuf>,
}

impl Locator {
    /// This process's view: `settings` first, then the environment variables, the executable's
    /// folder, `PATH` and the OS's usual install folders.
    pub fn from_process(settings: &ToolPaths) -> Locator {
        let os = Os::current();
        let mut configured = Vec::new();
        for kind in ToolKind::ALL {
            if let Some(p) = settings.get(kind) {
                configured.push((kind, p));
            } else if let Some(p) = std::env::var_os(kind.env_var()).filter(|v| !v.is_empty()) {
                configured.push((kind, PathBuf::from(p)));
            }
        }
        let env = |name: &str| std::env::var_os(name).map(PathBuf::from);
        Locator {
            os,
            configured,
            exe_dir: std::env::current_exe()
                .ok()
                .and_then(|e| e.parent().map(Path::to_path_buf)),
            path_dirs: std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default(),
            install_dirs: install_dirs(os, &env),
        }
    }

    /// Where `kind` is, and how it was found; `None` when no candidate is an executable file
    /// according to `is_file` (the real test in [`Locator::find`]).
    pub fn find_with(
        &self,
        kind: ToolKind,
        is_file: impl Fn(&Path) -> bool,
    ) -> Option<(PathBuf, FoundIn)> {
        let name = kind.file_name(self.os);
        if let Some((_, p)) = self.configured.iter().find(|(k, _)| *k == kind) {
            // A configured folder means the tool inside it; a configured file is taken as is.
            let candidate = if is_file(p) { p.clone() } else { p.join(&name) };
            // A set path that is wrong is the operator's mistake to see, not to paper over with
            // another copy found elsewhere.
            return is_file(&candidate).then_some((candidate, FoundIn::Configured));
        }
        let in_dir = |dir: &PathBuf| Some(dir.join(&name)).filter(|p| is_file(p));
        if let Some(p) = self.exe_dir.as_ref().and_then(in_dir) {
            return Some((p, FoundIn::BesideExecutable));
        }
        if let Some(p) = self.path_dirs.iter().find_map(in_dir) {
            return Some((p, FoundIn::Path));
        }
        self.install_dirs
            .iter()
            .find_map(in_dir)
            .map(|p| (p, FoundIn::InstallFolder))
    }

    /// [`Locator::find_with`] against the real file system.
    pub fn find(&self, kind: ToolKind) -> Option<(PathBuf, FoundIn)> {
        self.find_with(kind, is_executable)
    }
}

/// The folders the usual installers put the tools in, after `PATH`. `env` reads an environment
/// variable (a parameter so Windows folders can be tested anywhere).
pub fn install_dirs(os: Os, env: &dyn Fn(&str) -> Option<PathBuf>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    match os {
        Os::Windows => {
            if let Some(local) = env("LOCALAPPDATA") {
                // winget puts a link to each portable package's program here.
                dirs.push(local.join("Microsoft").join("WinGet").join("Links"));
            }
            if let Some(pf) = env("ProgramFiles") {
                dirs.push(pf.join("ffmpeg").join("bin"));
                dirs.push(pf.join("MediaInfo"));
                dirs.push(pf.join("MediaInfo_CLI"));
            }
            if let Some(pd) = env("ProgramData") {
                dirs.push(pd.join("chocolatey").join("bin"));
            }
            if let Some(home) = env("USERPROFILE") {
                dirs.push(home.join("scoop").join("shims"));
            }
            if let Some(drive) = env("SystemDrive") {
                let mut root = drive.into_os_string();
                root.push("\\");
                dirs.push(PathBuf::from(root).join("ffmpeg").join("bin"));
            }
        }
        Os::Macos => {
            for d in ["/opt/homebrew/bin", "/usr/local/bin", "/opt/local/bin"] {
                dirs.push(PathBuf::from(d));
            }
        }
        Os::Linux => {
            for d in ["/usr/local/bin", "/usr/bin", "/snap/bin"] {
                dirs.push(PathBuf::from(d));
            }
        }
    }
    dirs
}

/// A tool that could not be found, with what it is for and how to get it on this OS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingTool {
    pub kind: ToolKind,
    /// One sentence for the CLI and the window's banner.
    pub message: String,
}

impl Tools {
    /// Finds the tools with the settings' paths (none here) and this process's environment.
    pub fn detect() -> Tools {
        Tools::detect_with(&ToolPaths::default())
    }

    /// Finds the tools: `settings` first, then the environment, next to the executable, `PATH`
    /// and the usual install folders.
    pub fn detect_with(settings: &ToolPaths) -> Tools {
        let locator = Locator::from_process(settings);
        let found = |kind| locator.find(kind).map(|(p, _)| p);
        let tools = Tools {
            mediainfo: found(ToolKind::Mediainfo),
            ffprobe: found(ToolKind::Ffprobe),
            ffmpeg: found(ToolKind::Ffmpeg),
            probe_timeout: None,
            configured: locator.configured.clone(),
        };
        tracing::debug!(mediainfo = ?tools.mediainfo, ffprobe = ?tools.ffprobe, ffmpeg = ?tools.ffmpeg, "tools detected");
        tools
    }

    /// The per-file timeout for MediaInfo/ffprobe runs.
    pub fn timeout_per_file(&self) -> Duration {
        self.probe_timeout.unwrap_or(DEFAULT_PROBE_TIMEOUT)
    }

    pub fn path(&self, kind: ToolKind) -> Option<&Path> {
        match kind {
            ToolKind::Ffmpeg => self.ffmpeg.as_deref(),
            ToolKind::Ffprobe => self.ffprobe.as_deref(),
            ToolKind::Mediainfo => self.mediainfo.as_deref(),
        }
    }

    /// The tools whose absence changes what card-ingest can do, each with one sentence: ffmpeg
    /// (no local proxies or posters), and MediaInfo + ffprobe together (no technical metadata:
    /// sidecars only). MediaInfo alone missing is no loss worth a banner: ffprobe stands in.
    pub fn missing(&self) -> Vec<MissingTool> {
        self.missing_on(Os::current())
    }

    pub fn missing_on(&self, os: Os) -> Vec<MissingTool> {
        let mut out = Vec::new();
        let where_set = |kind: ToolKind| match self.configured.iter().find(|(k, _)| *k == kind) {
            Some((_, p)) => format!(
                "{} is not at the path set for it ({}): correct the path in Settings › Media tools or clear it",
                kind.name(),
                p.display()
            ),
            None => format!("{} was not found", kind.name()),
        };
        if self.ffmpeg.is_none() {
            out.push(MissingTool {
                kind: ToolKind::Ffmpeg,
                message: format!(
                    "{}: it is needed for {}. Scanning still works; ingest with iconik's transcoder or without proxies instead, or {}.",
                    where_set(ToolKind::Ffmpeg),
                    ToolKind::Ffmpeg.needed_for(),
                    os.install_hint(ToolKind::Ffmpeg)
                ),
            });
        }
        if self.mediainfo.is_none() && self.ffprobe.is_none() {
            out.push(MissingTool {
                kind: ToolKind::Mediainfo,
                message: format!(
                    "{} and neither was ffprobe: they are needed for {}, so clips are described from their sidecar files only; {}.",
                    where_set(ToolKind::Mediainfo),
                    ToolKind::Mediainfo.needed_for(),
                    os.install_hint(ToolKind::Mediainfo)
                ),
            });
        }
        out
    }

    /// One line per tool for `card-ingest --version`: `ffmpeg 5.1.6-0+deb12u1 (/usr/bin/ffmpeg)`
    /// or `ffmpeg: not found (install it with …)`. Runs each found tool once (a few ms).
    pub fn version_lines(&self) -> Vec<String> {
        let os = Os::current();
        ToolKind::ALL
            .iter()
            .map(|&kind| match self.path(kind) {
                Some(path) => match tool_version(kind, path) {
                    Some(v) => format!("{} {v} ({})", kind.name(), path.display()),
                    None => format!(
                        "{}: found at {} but it did not report a version (is it broken?)",
                        kind.name(),
                        path.display()
                    ),
                },
                None => format!("{}: not found ({})", kind.name(), os.install_hint(kind)),
            })
            .collect()
    }
}

/// The version `path` reports (`ffmpeg -version` / `mediainfo --Version`), trimmed to the
/// version itself.
pub fn tool_version(kind: ToolKind, path: &Path) -> Option<String> {
    let arg = match kind {
        ToolKind::Ffmpeg | ToolKind::Ffprobe => "-version",
        ToolKind::Mediainfo => "--Version",
    };
    let out = process::run(&ProcessSpec {
        program: path.to_path_buf(),
        args: vec![OsString::from(arg)],
        timeout: Duration::from_secs(10),
        cancel: None,
        subject: None,
    })
    .ok()?;
    parse_version(kind, &String::from_utf8_lossy(&out.stdout))
}

/// `ffmpeg version 5.1.6-0+deb12u1 Copyright …` → `5.1.6-0+deb12u1`;
/// `MediaInfo Command line,\nMediaInfoLib - v22.12` → `22.12`.
pub fn parse_version(kind: ToolKind, text: &str) -> Option<String> {
    match kind {
        ToolKind::Ffmpeg | ToolKind::Ffprobe => {
            let first = text.lines().next()?;
            let rest = first.split_once(" version ")?.1;
            rest.split_whitespace().next().map(str::to_owned)
        }
        ToolKind::Mediainfo => text
            .lines()
            .find_map(|l| l.split_once(" - v"))
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty()),
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
    p.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn finds_sh_but_not_a_made_up_name() {
        assert!(find_on_path("sh").is_some_and(|p| p.ends_with("sh")));
        assert_eq!(find_on_path("card-ingest-no-such-tool-x"), None);
    }

    fn windows_locator(configured: Vec<(ToolKind, PathBuf)>) -> Locator {
        let env = |name: &str| -> Option<PathBuf> {
            match name {
                "LOCALAPPDATA" => Some(r"C:\Users\ed\AppData\Local".into()),
                "ProgramFiles" => Some(r"C:\Program Files".into()),
                "ProgramData" => Some(r"C:\ProgramData".into()),
                "USERPROFILE" => Some(r"C:\Users\ed".into()),
                "SystemDrive" => Some("C:".into()),
                _ => None,
            }
        };
        Locator {
            os: Os::Windows,
            configured,
            exe_dir: Some(r"C:\Users\ed\AppData\Local\Programs\card-ingest".into()),
            path_dirs: vec![r"C:\Windows\system32".into(), r"C:\tools".into()],
            install_dirs: install_dirs(Os::Windows, &env),
        }
    }

    /// A fake file system: exactly these paths exist (compared as written).
    fn files(list: &[&str]) -> impl Fn(&Path) -> bool {
        let set: HashSet<String> = list.iter().map(|s| s.to_string()).collect();
        move |p: &Path| set.contains(&p.to_string_lossy().into_owned())
    }

    // `Path::join` on Linux joins with '/', so the Windows folders below read
    // `C:\Program Files/ffmpeg/bin/ffmpeg.exe`; the rules (order, `.exe`) are what is tested.
    #[test]
    fn windows_order_is_beside_the_exe_then_path_then_install_folders() {
        let loc = windows_locator(Vec::new());
        let exe = r"C:\Users\ed\AppData\Local\Programs\card-ingest/ffmpeg.exe";
        let on_path = r"C:\tools/ffmpeg.exe";
        let winget = r"C:\Users\ed\AppData\Local/Microsoft/WinGet/Links/ffmpeg.exe";
        assert_eq!(
            loc.find_with(ToolKind::Ffmpeg, files(&[exe, on_path, winget])),
            Some((PathBuf::from(exe), FoundIn::BesideExecutable))
        );
        assert_eq!(
            loc.find_with(ToolKind::Ffmpeg, files(&[on_path, winget])),
            Some((PathBuf::from(on_path), FoundIn::Path))
        );
        assert_eq!(
            loc.find_with(ToolKind::Ffmpeg, files(&[winget])),
            Some((PathBuf::from(winget), FoundIn::InstallFolder))
        );
        // Without `.exe` a file is not the tool on Windows.
        assert_eq!(
            loc.find_with(ToolKind::Ffmpeg, files(&[r"C:\tools/ffmpeg"])),
            None
        );
        let choco = r"C:\ProgramData/chocolatey/bin/mediainfo.exe";
        assert_eq!(
            loc.find_with(ToolKind::Mediainfo, files(&[choco])),
            Some((PathBuf::from(choco), FoundIn::InstallFolder))
        );
        let unzipped = r"C:\/ffmpeg/bin/ffprobe.exe";
        assert_eq!(
            loc.find_with(ToolKind::Ffprobe, files(&[unzipped])),
            Some((PathBuf::from(unzipped), FoundIn::InstallFolder))
        );
    }

    #[test]
    fn a_configured_path_wins_and_a_wrong_one_is_not_replaced() {
        let set = PathBuf::from(r"D:\media-tools\ffmpeg.exe");
        let loc = windows_locator(vec![(ToolKind::Ffmpeg, set.clone())]);
        let on_path = r"C:\tools/ffmpeg.exe";
        assert_eq!(
            loc.find_with(
                ToolKind::Ffmpeg,
                files(&[r"D:\media-tools\ffmpeg.exe", on_path])
            ),
            Some((set, FoundIn::Configured))
        );
        assert_eq!(loc.find_with(ToolKind::Ffmpeg, files(&[on_path])), None);
        // A configured folder means the tool inside it.
        let dir = windows_locator(vec![(ToolKind::Ffmpeg, PathBuf::from(r"D:\tools"))]);
        assert_eq!(
            dir.find_with(ToolKind::Ffmpeg, files(&[r"D:\tools/ffmpeg.exe"])),
            Some((PathBuf::from(r"D:\tools/ffmpeg.exe"), FoundIn::Configured))
        );
    }

    #[test]
    fn macos_finds_homebrew_without_it_on_path() {
        let loc = Locator {
            os: Os::Macos,
            configured: Vec::new(),
            exe_dir: Some("/Applications/card-ingest.app/Contents/MacOS".into()),
            path_dirs: vec!["/usr/bin".into(), "/bin".into()],
            install_dirs: install_dirs(Os::Macos, &|_| None),
        };
        assert_eq!(
            loc.find_with(ToolKind::Ffmpeg, files(&["/opt/homebrew/bin/ffmpeg"])),
            Some((
                PathBuf::from("/opt/homebrew/bin/ffmpeg"),
                FoundIn::InstallFolder
            ))
        );
        assert_eq!(
            loc.find_with(
                ToolKind::Ffmpeg,
                files(&["/Applications/card-ingest.app/Contents/MacOS/ffmpeg"])
            )
            .map(|(_, f)| f),
            Some(FoundIn::BesideExecutable)
        );
    }

    #[test]
    fn missing_tools_name_the_tool_its_use_and_the_os_install() {
        let none = Tools::default();
        let win = none.missing_on(Os::Windows);
        assert_eq!(win.len(), 2, "{win:?}");
        assert_eq!(win[0].kind, ToolKind::Ffmpeg);
        assert!(
            win[0].message.starts_with("ffmpeg was not found"),
            "{}",
            win[0].message
        );
        assert!(win[0].message.contains("proxies"), "{}", win[0].message);
        assert!(
            win[0].message.contains("winget install Gyan.FFmpeg"),
            "{}",
            win[0].message
        );
        assert!(
            win[0].message.contains("iconik's transcoder"),
            "{}",
            win[0].message
        );
        assert!(!win[0].message.contains("apt-get"), "{}", win[0].message);
        assert!(
            win[1].message.contains("sidecar files only"),
            "{}",
            win[1].message
        );
        let linux = none.missing_on(Os::Linux);
        assert!(linux[0].message.contains("apt-get install ffmpeg"));
        let mac = none.missing_on(Os::Macos);
        assert!(mac[1].message.contains("brew install media-info"));
        // ffprobe alone is enough for metadata: only ffmpeg is reported.
        let probe_only = Tools {
            ffprobe: Some("/usr/bin/ffprobe".into()),
            ..Tools::default()
        };
        let kinds: Vec<_> = probe_only
            .missing_on(Os::Linux)
            .iter()
            .map(|m| m.kind)
            .collect();
        assert_eq!(kinds, vec![ToolKind::Ffmpeg]);
        // A wrong configured path is named as such.
        let wrong = Tools {
            configured: vec![(ToolKind::Ffmpeg, PathBuf::from("/opt/ff/ffmpeg"))],
            ..probe_only
        };
        let m = &wrong.missing_on(Os::Linux)[0].message;
        assert!(
            m.contains("not at the path set for it (/opt/ff/ffmpeg)"),
            "{m}"
        );
    }

    #[test]
    fn versions_are_read_from_the_tools_own_words() {
        assert_eq!(
            parse_version(
                ToolKind::Ffmpeg,
                "ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024 the FFmpeg developers\nbuilt with gcc"
            )
            .as_deref(),
            Some("5.1.6-0+deb12u1")
        );
        assert_eq!(
            parse_version(
                ToolKind::Mediainfo,
                "MediaInfo Command line, \nMediaInfoLib - v22.12\n"
            )
            .as_deref(),
            Some("22.12")
        );
        assert_eq!(parse_version(ToolKind::Ffprobe, "garbage"), None);
    }
}
