//! One window per user: a second `card-ingest [PATH...]` hands its card folders to the window
//! that already runs (which scans them, or queues them behind a running ingest) and exits, so
//! an operator double-clicking cards or scripting `card-ingest /media/CARD` gets one queue.
//!
//! The channel is a local socket (`interprocess`): a Unix-domain socket in the per-user
//! `$XDG_RUNTIME_DIR` (mode 0700, so only this user reaches it) where there is one, else in
//! Linux's abstract namespace; a named pipe on Windows. The name carries the user's name, and
//! `CARD_INGEST_INSTANCE` replaces it (tests; two separate setups on one account).
//!
//! Protocol: the client sends one JSON line `{"paths": [absolute paths]}`, the window answers
//! `ok`. An empty list raises the window.

use interprocess::local_socket::{
    GenericFilePath, GenericNamespaced, ListenerOptions, Name, Stream, prelude::*,
};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::time::Duration;

/// Overrides the socket's name (tests; two independent windows on one account).
pub const NAME_VAR: &str = "CARD_INGEST_INSTANCE";

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("cannot name the window's local socket `{name}`: {source}")]
    Name {
        name: String,
        source: std::io::Error,
    },
    #[error("cannot listen for other card-ingest commands on `{name}`: {source}")]
    Listen {
        name: String,
        source: std::io::Error,
    },
    #[error("the running card-ingest window did not take the folders: {0}")]
    Refused(String),
    #[error("cannot make `{path}` absolute: {source}")]
    Path {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What [`hand_over`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum HandOver {
    /// A window runs and took this many paths (0: it was only raised).
    Delivered(usize),
    /// No window runs: open one.
    NoWindow,
}

#[derive(Serialize, Deserialize)]
struct Message {
    paths: Vec<PathBuf>,
}

/// Where the window listens: a socket file's path, or a namespaced name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    raw: String,
    is_path: bool,
}

impl Endpoint {
    /// This user's window: `card-ingest-<user>.sock`, or [`NAME_VAR`]'s name when set.
    pub fn for_user() -> Self {
        match std::env::var_os(NAME_VAR).filter(|v| !v.is_empty()) {
            Some(name) => Self::named(&name.to_string_lossy()),
            None => {
                let user = std::env::var("USER")
                    .or_else(|_| std::env::var("USERNAME"))
                    .unwrap_or_else(|_| "user".to_owned());
                Self::named(&format!("card-ingest-{user}.sock"))
            }
        }
    }

    /// A socket of this name, in the per-user runtime folder where there is one.
    pub fn named(name: &str) -> Self {
        match runtime_dir() {
            Some(dir) => Self {
                raw: dir.join(name).to_string_lossy().into_owned(),
                is_path: true,
            },
            None => Self {
                raw: name.to_owned(),
                is_path: false,
            },
        }
    }

    /// As the OS names it (for messages).
    pub fn display(&self) -> &str {
        &self.raw
    }

    fn name(&self) -> Result<Name<'static>, InstanceError> {
        let err = |source| InstanceError::Name {
            name: self.raw.clone(),
            source,
        };
        let name = if self.is_path {
            self.raw
                .clone()
                .to_fs_name::<GenericFilePath>()
                .map_err(err)?
        } else {
            self.raw
                .clone()
                .to_ns_name::<GenericNamespaced>()
                .map_err(err)?
        };
        Ok(name.into_owned())
    }
}

/// `$XDG_RUNTIME_DIR` on Unix (a per-user folder only its user can enter), or the temporary
/// folder where the OS has no socket namespace (macOS: per-user too); `None` on Windows (named
/// pipes) and on Linux without a runtime folder (abstract namespace).
fn runtime_dir() -> Option<PathBuf> {
    if !cfg!(unix) {
        return None;
    }
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
        .or_else(|| (!GenericNamespaced::is_supported()).then(std::env::temp_dir))
}

/// Gives `paths` (made absolute against this process's folder) to the running window.
pub fn hand_over(endpoint: &Endpoint, paths: &[PathBuf]) -> Result<HandOver, InstanceError> {
    let absolute = paths
        .iter()
        .map(|p| {
            std::path::absolute(p).map_err(|source| InstanceError::Path {
                path: p.clone(),
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let name = endpoint.name()?;
    // Nobody listening (no socket, or one a crashed window left): open a window.
    let Ok(stream) = Stream::connect(name) else {
        return Ok(HandOver::NoWindow);
    };
    let refused = |e: std::io::Error| InstanceError::Refused(e.to_string());
    let mut line = serde_json::to_string(&Message {
        paths: absolute.clone(),
    })
    .map_err(|e| InstanceError::Refused(e.to_string()))?;
    line.push('\n');
    let mut conn = BufReader::new(stream);
    conn.get_mut().write_all(line.as_bytes()).map_err(refused)?;
    let mut answer = String::new();
    conn.read_line(&mut answer).map_err(refused)?;
    match answer.trim() {
        "ok" => Ok(HandOver::Delivered(absolute.len())),
        other => Err(InstanceError::Refused(other.to_owned())),
    }
}

/// The running window's end: calls `arrived` with each command's paths, on its own thread,
/// for as long as the process runs.
pub struct Listener {
    /// The socket's name (shown in the log).
    pub name: String,
}

/// Listens for [`hand_over`]s. Call it after `hand_over` answered `NoWindow`: an existing
/// socket file is then a crashed window's leftover, and is replaced.
pub fn listen(
    endpoint: &Endpoint,
    arrived: impl Fn(Vec<PathBuf>) + Send + 'static,
) -> Result<Listener, InstanceError> {
    let name = endpoint.name()?;
    let raw = endpoint.display().to_owned();
    let listener = ListenerOptions::new()
        .name(name)
        .try_overwrite(true)
        .create_sync()
        .map_err(|source| InstanceError::Listen {
            name: raw.clone(),
            source,
        })?;
    std::thread::Builder::new()
        .name("instance-listener".into())
        .spawn(move || {
            for conn in listener.incoming() {
                match conn {
                    Ok(conn) => {
                        if let Some(paths) = serve(conn) {
                            arrived(paths);
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "a hand-over connection failed"),
                }
            }
        })
        .map_err(|source| InstanceError::Listen {
            name: raw.clone(),
            source,
        })?;
    Ok(Listener { name: raw })
}

/// One client: its line, answered `ok` (or why not). A silent client is dropped after a while
/// so it cannot hold the listener.
fn serve(conn: Stream) -> Option<Vec<PathBuf>> {
    let _ = conn.set_recv_timeout(Some(Duration::from_secs(5)));
    let mut conn = BufReader::new(conn);
    let mut line = String::new();
    if let Err(e) = conn.read_line(&mut line) {
        tracing::debug!(error = %e, "a hand-over sent nothing");
        return None;
    }
    match serde_json::from_str::<Message>(&line) {
        Ok(m) => {
            let _ = conn.get_mut().write_all(b"ok\n");
            Some(m.paths)
        }
        Err(e) => {
            let _ = conn
                .get_mut()
                .write_all(format!("not a card-ingest hand-over: {e}\n").as_bytes());
            None
        }
    }
}
