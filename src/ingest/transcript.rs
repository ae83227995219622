//! `--transcript FILE`: every iconik call of a run written as an equivalent `curl` command — the
//! seed's tutorial, generated for the operator's own card. [`TranscriptWriter`] is a
//! [`CallObserver`]; register it on the iconik client and the upload client.
//!
//! The file is a runnable bash script (`bash FILE`, created 0600 on Unix because it documents the
//! operator's library):
//! - credentials are never written: `App-ID`/`Auth-Token` are `$ICONIK_APP_ID`/`$ICONIK_AUTH_TOKEN`
//!   references, any extra secret given to [`TranscriptWriter::redacting`] is scrubbed, and signed
//!   storage URLs have their signature replaced by `REDACTED` (so those lines document the upload
//!   but real storage refuses them);
//! - JSON bodies go through a quoted heredoc (`<<'JSON'`), so quotes, `$` and backslashes in
//!   titles or paths reach curl untouched; every other argument is single-quoted;
//! - ids returned by earlier calls appear literally: the script documents the real run, and
//!   running it again creates new objects next to the old ones;
//! - a call that failed in the run (a retried 503, a 404 lookup) is marked and ends in `|| true`,
//!   so the script runs under `set -e` like the run itself went on.
//!
//! Writing never stops an ingest: each call is written (and flushed) as one block; the first I/O
//! error is logged and later calls are dropped.
//!
//! ```no_run
//! use card_ingest::iconik::models::AssetCreate;
//! use card_ingest::iconik::observer::labelled;
//! use card_ingest::iconik::upload::{UploadConfig, UploadHttp};
//! use card_ingest::iconik::{Client, Credentials};
//! use card_ingest::ingest::transcript::{TranscriptHeader, TranscriptWriter};
//! use std::sync::Arc;
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let creds = Credentials::new("app-id", "token");
//! let header = TranscriptHeader {
//!     card: "/Volumes/NO NAME".into(),
//!     server: "https://app.iconik.io".into(),
//!     started_at: chrono::Utc::now(),
//! };
//! let path = std::path::Path::new("transcript.sh");
//! let writer = Arc::new(TranscriptWriter::create(path, &header)?.redacting(&creds.token));
//! let client = Client::new("https://app.iconik.io", creds)?.with_observer(writer.clone());
//! let upload = UploadHttp::new(&UploadConfig::default())?.with_observer(writer);
//! // Every call inside gets "# n. create asset for clip 0002EM → 201, id …".
//! let asset = labelled(
//!     "create asset for clip 0002EM",
//!     client.assets().create(&AssetCreate::new("0002EM"), None),
//! )
//! .await?;
//! # let _ = (asset, upload);
//! # Ok(())
//! # }
//! ```

use crate::iconik::Secret;
use crate::iconik::observer::{CallObserver, CallRecord, CallTarget, RequestBody};
use chrono::{DateTime, SecondsFormat, Utc};
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Errors of the transcript file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TranscriptError {
    #[error("cannot create the transcript {}: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What the header comment names.
#[derive(Debug, Clone)]
pub struct TranscriptHeader {
    /// The card (its root folder as the operator named it).
    pub card: String,
    /// The iconik base URL (never carries a token).
    pub server: String,
    pub started_at: DateTime<Utc>,
}

/// Appends one curl command per observed call to a file (see module docs).
pub struct TranscriptWriter {
    path: PathBuf,
    state: Mutex<State>,
    /// Strings replaced by `REDACTED` wherever they would appear.
    secrets: Vec<Secret>,
}

struct State {
    file: Option<File>,
    calls: u64,
    script: ScriptContext,
}

impl std::fmt::Debug for TranscriptWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TranscriptWriter")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl TranscriptWriter {
    /// Creates (or truncates) `path`, mode 0600 on Unix, and writes the script header.
    pub fn create(path: &Path, header: &TranscriptHeader) -> Result<Self, TranscriptError> {
        let err = |source| TranscriptError::Create {
            path: path.to_owned(),
            source,
        };
        let mut file = open_private(path).map_err(err)?;
        file.write_all(format_header(header).as_bytes())
            .and_then(|()| file.flush())
            .map_err(err)?;
        Ok(Self {
            path: path.to_owned(),
            state: Mutex::new(State {
                file: Some(file),
                calls: 0,
                script: ScriptContext::default(),
            }),
            secrets: Vec::new(),
        })
    }

    /// Also scrubs `secret` (the auth token) from everything written — defence in depth: no call
    /// record should ever contain it.
    pub fn redacting(mut self, secret: &Secret) -> Self {
        if !secret.expose().is_empty() {
            self.secrets.push(secret.clone());
        }
        self
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Calls written so far.
    pub fn calls_written(&self) -> u64 {
        self.lock().calls
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves a consistent state (whole blocks only).
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl CallObserver for TranscriptWriter {
    fn on_call(&self, call: &CallRecord) {
        let mut state = self.lock();
        let n = state.calls + 1;
        let mut block = format_call_in(&mut state.script, n, call);
        for s in &self.secrets {
            block = block.replace(s.expose(), "REDACTED");
        }
        let Some(file) = state.file.as_mut() else {
            return;
        };
        match file.write_all(block.as_bytes()).and_then(|()| file.flush()) {
            Ok(()) => state.calls += 1,
            Err(err) => {
                tracing::warn!(path = %self.path.display(), %err,
                    "cannot write the API transcript; the ingest goes on without it");
                state.file = None;
            }
        }
    }
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // `mode` applies only to a new file; an existing one is narrowed too.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<File> {
    File::create(path)
}

/// The script header: shebang, what it is, what it needs.
pub fn format_header(h: &TranscriptHeader) -> String {
    let mut s = String::new();
    s.push_str("#!/usr/bin/env bash\n");
    s.push_str("# card-ingest API transcript: every iconik call of one run as a curl command.\n");
    for (k, v) in [
        ("Card", h.card.as_str()),
        ("Server", h.server.as_str()),
        (
            "Date",
            &h.started_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        ),
        ("Tool", concat!("card-ingest ", env!("CARGO_PKG_VERSION"))),
    ] {
        // Comment lines must stay one line whatever the card path holds.
        s.push_str(&format!("# {k:<7} {}\n", one_line(v)));
    }
    s.push_str(
        "#\n\
         # Run it with ICONIK_APP_ID and ICONIK_AUTH_TOKEN set (the token is never written here).\n\
         # Ids are the ones this run received: running it again creates new objects beside them.\n\
         # Storage URLs carry REDACTED signatures: real storage refuses those lines (ask iconik\n\
         # for a fresh upload_url). Calls that failed during the run end in `|| true`.\n\
         set -eu\n\
         : \"${ICONIK_APP_ID:?set ICONIK_APP_ID}\" \"${ICONIK_AUTH_TOKEN:?set ICONIK_AUTH_TOKEN}\"\n",
    );
    s
}

/// What the script has defined so far: the GCS session URLs captured into shell variables
/// (`UPLOAD_SESSION_<k>`, k = index + 1), so a replay uploads to the session its own start
/// request opened instead of the (finished) session of the recorded run.
#[derive(Debug, Default)]
pub struct ScriptContext {
    sessions: Vec<String>,
}

/// One call as a comment line plus a curl command (ends with a blank line), without context.
pub fn format_call(n: u64, call: &CallRecord) -> String {
    format_call_in(&mut ScriptContext::default(), n, call)
}

/// One call as a comment line plus a curl command (ends with a blank line).
pub fn format_call_in(ctx: &mut ScriptContext, n: u64, call: &CallRecord) -> String {
    let mut s = String::new();
    let what = match (&call.label, call.target) {
        (Some(label), CallTarget::Storage) => format!("{label}: {}", storage_action(call)),
        (Some(label), CallTarget::Iconik) => label.clone(),
        (None, _) => default_description(call),
    };
    let outcome = match (call.status, &call.error) {
        (Some(status), _) => {
            let mut o = status.to_string();
            if let Some(id) = &call.response_id {
                o.push_str(", id ");
                o.push_str(id);
            }
            for (k, v) in &call.response_headers {
                o.push_str(&format!(", {k}: {v}"));
            }
            o
        }
        (None, Some(_)) => "no response".to_owned(),
        (None, None) => "?".to_owned(),
    };
    s.push_str(&format!(
        "# {n}. {} → {} ({} ms)\n",
        one_line(&what),
        one_line(&outcome),
        call.elapsed.as_millis()
    ));
    if let Some(err) = &call.error {
        let short: String = err.chars().take(300).collect();
        s.push_str(&format!("#    failed: {}\n", one_line(&short)));
    }
    let mut args: Vec<String> = vec!["curl".into(), "-sS".into()];
    match call.target {
        CallTarget::Iconik => {
            args.push("--fail-with-body".into());
            args.push("-w".into());
            args.push(shell_quote("\\n"));
        }
        // Storage answers are headers (Location, Range): show them, drop the empty body.
        CallTarget::Storage => {
            args.extend(["-D", "-", "-o", "/dev/null"].map(String::from));
        }
    }
    args.push("-X".into());
    args.push(call.method.clone());
    let session = ctx.sessions.iter().position(|u| *u == call.url);
    args.push(match session {
        Some(i) if call.target == CallTarget::Storage => format!("\"$UPLOAD_SESSION_{}\"", i + 1),
        _ => shell_quote(&call.url),
    });
    if call.target == CallTarget::Iconik {
        args.push("-H".into());
        args.push("\"App-ID: $ICONIK_APP_ID\"".into());
        args.push("-H".into());
        args.push("\"Auth-Token: $ICONIK_AUTH_TOKEN\"".into());
    }
    for (k, v) in &call.headers {
        args.push("-H".into());
        args.push(shell_quote(&format!("{k}: {v}")));
    }
    let mut pipe_in = None;
    let mut heredoc = None;
    match &call.body {
        Some(RequestBody::Json(text)) => {
            args.push("--data-binary".into());
            args.push("@-".into());
            heredoc = Some(("JSON", pretty_json(text)));
        }
        Some(RequestBody::Text(text)) => {
            args.push("--data-binary".into());
            args.push("@-".into());
            heredoc = Some(("BODY", text.clone()));
        }
        Some(RequestBody::FileRange { path, offset, len }) => {
            args.push("--data-binary".into());
            args.push("@-".into());
            let file = shell_quote(&path.to_string_lossy());
            pipe_in = Some(if *offset == 0 {
                format!("head -c {len} {file} | ")
            } else {
                format!("tail -c +{} {file} | head -c {len} | ", offset + 1)
            });
        }
        None => {
            if matches!(call.method.as_str(), "POST" | "PUT" | "PATCH") {
                args.push("-H".into());
                args.push(shell_quote("Content-Length: 0"));
            }
        }
    }
    let failed = !call.succeeded();
    let or_true = if failed { " || true" } else { "" };
    s.push_str(pipe_in.as_deref().unwrap_or(""));
    match heredoc {
        Some((tag, text)) => {
            // A quoted delimiter keeps the body literal; pick one no body line equals.
            let mut delim = tag.to_owned();
            let mut k = 1;
            while text.lines().any(|l| l == delim) {
                delim = format!("{tag}_{k}");
                k += 1;
            }
            s.push_str(&format!("{} <<'{delim}'{or_true}\n", args.join(" ")));
            s.push_str(&text);
            if !text.ends_with('\n') {
                s.push('\n');
            }
            s.push_str(&format!("{delim}\n"));
        }
        None => match started_session(call) {
            Some(location) => {
                ctx.sessions.push(location.to_owned());
                s.push_str(&format!(
                    "UPLOAD_SESSION_{}=$({} | sed -n 's/^[Ll]ocation: *//p' | tr -d '\\r')\n",
                    ctx.sessions.len(),
                    args.join(" ")
                ));
            }
            None => s.push_str(&format!("{}{or_true}\n", args.join(" "))),
        },
    }
    s.push('\n');
    s
}

/// The (redacted) session URL a successful GCS start request answered with.
fn started_session(call: &CallRecord) -> Option<&str> {
    let is_start = call.target == CallTarget::Storage
        && call
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("x-goog-resumable") && v == "start");
    if !is_start || !matches!(call.status, Some(200 | 201)) {
        return None;
    }
    call.response_headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.as_str())
}

/// `METHOD path` of a call without a label (`POST /API/assets/v1/assets/`).
fn default_description(call: &CallRecord) -> String {
    let path = url::Url::parse(&call.url)
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|_| call.url.clone());
    match call.target {
        CallTarget::Iconik => format!("{} {path}", call.method),
        CallTarget::Storage => format!("storage {} {path}", call.method),
    }
}

/// What a storage request does (`start upload session`, `chunk bytes 0-262143/525065`,
/// `status query`), from the headers the uploaders set (gcs-resumable.md §1).
fn storage_action(call: &CallRecord) -> String {
    let header = |name: &str| {
        call.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if header("x-goog-resumable").is_some_and(|v| v.eq_ignore_ascii_case("start")) {
        return "start upload session".to_owned();
    }
    match header("content-range") {
        Some(r) if r.starts_with("bytes */") => "status query".to_owned(),
        Some(r) => format!("chunk {r}"),
        None => default_description(call),
    }
}

/// `s` made safe for a `#` comment line (control characters shown as spaces).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `s` as one single-quoted shell word (`'` becomes `'\''`).
pub fn shell_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Re-indents JSON text (2 spaces) keeping its key order — the order the client sent, which
/// reads better than `serde_json::Value`'s sorted keys. Strings are copied untouched; JSON
/// strings never hold a raw newline, so the result is safe inside a heredoc.
pub fn pretty_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                let mut escaped = false;
                for c in chars.by_ref() {
                    out.push(c);
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
            }
            '{' | '[' => {
                out.push(c);
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    chars.next();
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::time::Duration;

    fn record(method: &str, url: &str, body: Option<RequestBody>) -> CallRecord {
        CallRecord {
            target: CallTarget::Iconik,
            method: method.into(),
            url: url.into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body,
            status: Some(201),
            response_id: Some("a1b2".into()),
            response_headers: Vec::new(),
            error: None,
            label: Some("create asset for clip 0002EM".into()),
            started_at: Utc::now(),
            elapsed: Duration::from_millis(42),
        }
    }

    /// Runs `script` with bash and returns stdout (curl replaced by a function printing its args
    /// one per line and then its stdin).
    fn run_with_fake_curl(script: &str) -> String {
        let full = format!(
            "set -eu\nICONIK_APP_ID=app ICONIK_AUTH_TOKEN=tok\n\
             curl() {{ for a in \"$@\"; do printf '<%s>\\n' \"$a\"; done; \
             case \" $* \" in *' @- '*) printf 'STDIN:'; cat;; esac; }}\n{script}"
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(full)
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn json_call_formats_as_heredoc_curl() {
        let r = record(
            "POST",
            "https://app.iconik.io/API/assets/v1/assets/",
            Some(RequestBody::Json(
                r#"{"title":"A001","type":"ASSET","x":[],"y":{}}"#.into(),
            )),
        );
        assert_eq!(
            format_call(3, &r),
            "# 3. create asset for clip 0002EM → 201, id a1b2 (42 ms)\n\
             curl -sS --fail-with-body -w '\\n' -X POST 'https://app.iconik.io/API/assets/v1/assets/' \
             -H \"App-ID: $ICONIK_APP_ID\" -H \"Auth-Token: $ICONIK_AUTH_TOKEN\" \
             -H 'Content-Type: application/json' --data-binary @- <<'JSON'\n\
             {\n  \"title\": \"A001\",\n  \"type\": \"ASSET\",\n  \"x\": [],\n  \"y\": {}\n}\nJSON\n\n"
        );
    }

    #[test]
    fn odd_characters_survive_bash() {
        // Single quotes, $, backticks, backslashes, a heredoc-looking line, unicode.
        let body = serde_json::json!({
            "title": "it's $HOME `date` \\ \"q\"\nJSON\n日本",
            "path": "/Volumes/NO NAME/CONTENTS/VIDEO/0002EM.MXF",
        });
        let text = serde_json::to_string(&body).unwrap();
        let url = "https://h/API/files/v1/assets/x/files/?name=a'b c&$d=`e`";
        let r = record("POST", url, Some(RequestBody::Json(text)));
        let out = run_with_fake_curl(&format_call(1, &r));
        assert!(out.contains(&format!("<{url}>\n")), "{out}");
        assert!(
            out.contains("<App-ID: app>\n<-H>\n<Auth-Token: tok>\n"),
            "{out}"
        );
        let sent = out.split_once("STDIN:").unwrap().1;
        let back: serde_json::Value = serde_json::from_str(sent).unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn file_range_uploads_pipe_the_exact_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("my proxy's.mp4");
        std::fs::write(&path, b"0123456789").unwrap();
        let mut r = record(
            "PUT",
            "http://127.0.0.1:1/upload/b/o?upload_id=u&X-Goog-Signature=REDACTED",
            Some(RequestBody::FileRange {
                path: path.clone(),
                offset: 4,
                len: 3,
            }),
        );
        r.target = CallTarget::Storage;
        r.headers = vec![("content-range".into(), "bytes 4-6/10".into())];
        r.status = Some(308);
        r.response_id = None;
        r.response_headers = vec![("range".into(), "bytes=0-6".into())];
        r.label = None;
        let text = format_call(7, &r);
        assert!(
            text.starts_with("# 7. storage PUT /upload/b/o → 308, range: bytes=0-6 (42 ms)\n"),
            "{text}"
        );
        assert!(!text.contains("App-ID"), "{text}");
        let out = run_with_fake_curl(&text);
        assert!(out.contains("<content-range: bytes 4-6/10>\n"), "{out}");
        assert!(out.ends_with("STDIN:456"), "{out}");
        r.body = Some(RequestBody::FileRange {
            path,
            offset: 0,
            len: 4,
        });
        assert!(run_with_fake_curl(&format_call(8, &r)).ends_with("STDIN:0123"));
    }

    #[test]
    fn failed_calls_are_marked_and_do_not_stop_the_script() {
        let mut r = record("GET", "https://h/API/assets/v1/assets/x/", None);
        r.status = Some(404);
        r.response_id = None;
        r.error = Some("iconik GET /x answered 404:\nnot found".into());
        r.label = None;
        let text = format_call(2, &r);
        assert_eq!(
            text.lines().take(2).collect::<Vec<_>>(),
            vec![
                "# 2. GET /API/assets/v1/assets/x/ → 404 (42 ms)",
                "#    failed: iconik GET /x answered 404: not found",
            ]
        );
        assert!(
            text.contains("'https://h/API/assets/v1/assets/x/' "),
            "{text}"
        );
        assert!(text.trim_end().ends_with(" || true"), "{text}");
        // A bodiless POST says Content-Length: 0 (GCS requires it on the session start).
        let mut start = record("POST", "https://s/b/o?X-Goog-Signature=REDACTED", None);
        start.target = CallTarget::Storage;
        start.headers = vec![("x-goog-resumable".into(), "start".into())];
        assert!(
            format_call(1, &start).contains(
                "-X POST 'https://s/b/o?X-Goog-Signature=REDACTED' -H 'x-goog-resumable: start' -H 'Content-Length: 0'\n"
            )
        );
    }

    #[test]
    fn pretty_json_keeps_order_and_strings() {
        let text = r#"{"b":1,"a":{"s":"x,{}:[]\"y\\"},"l":[1,2]}"#;
        assert_eq!(
            pretty_json(text),
            "{\n  \"b\": 1,\n  \"a\": {\n    \"s\": \"x,{}:[]\\\"y\\\\\"\n  },\n  \"l\": [\n    1,\n    2\n  ]\n}"
        );
        let back: serde_json::Value = serde_json::from_str(&pretty_json(text)).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
    }

    #[test]
    fn writer_creates_a_private_file_and_scrubs_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sh");
        let header = TranscriptHeader {
            card: "/media/CARD\nrm -rf /".into(),
            server: "https://app.iconik.io".into(),
            started_at: Utc::now(),
        };
        let w = TranscriptWriter::create(&path, &header)
            .unwrap()
            .redacting(&Secret::new("tok-SECRET"));
        let mut r = record("GET", "https://h/API/x/?q=tok-SECRET", None);
        r.label = Some("look up".into());
        w.on_call(&r);
        w.on_call(&r);
        assert_eq!(w.calls_written(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("tok-SECRET"), "{text}");
        assert_eq!(text.matches("\ncurl ").count(), 2);
        assert!(text.contains("# 1. look up → 201"), "{text}");
        assert!(text.contains("# 2. look up → 201"), "{text}");
        // The newline in the card path stays inside the comment.
        assert!(text.contains("# Card    /media/CARD rm -rf /\n"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn concurrent_calls_are_written_as_whole_numbered_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sh");
        let header = TranscriptHeader {
            card: "C".into(),
            server: "https://app.iconik.io".into(),
            started_at: Utc::now(),
        };
        let w = std::sync::Arc::new(TranscriptWriter::create(&path, &header).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let w = w.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let body = format!(r#"{{"title":"t{t}-{i}"}}"#);
                        w.on_call(&record("POST", "https://h/", Some(RequestBody::Json(body))));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(w.calls_written(), 400);
        let text = std::fs::read_to_string(&path).unwrap();
        let numbers: Vec<u64> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# ")?.split_once(". ")?.0.parse().ok())
            .collect();
        assert_eq!(numbers, (1..=400).collect::<Vec<_>>());
        // Every heredoc is closed right after its 3-line body.
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if l.ends_with("<<'JSON'") {
                assert_eq!(lines[i + 1], "{");
                assert!(lines[i + 2].starts_with("  \"title\": \"t"));
                assert_eq!(lines[i + 3], "}");
                assert_eq!(lines[i + 4], "JSON");
            }
        }
        assert_eq!(text.matches("<<'JSON'").count(), 400);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn write_errors_are_swallowed_after_the_first() {
        // /dev/full accepts the open and fails every write with ENOSPC.
        let w = TranscriptWriter {
            path: PathBuf::from("/dev/full"),
            state: Mutex::new(State {
                file: Some(
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open("/dev/full")
                        .unwrap(),
                ),
                calls: 0,
                script: ScriptContext::default(),
            }),
            secrets: Vec::new(),
        };
        let r = record("GET", "https://h/", None);
        w.on_call(&r);
        w.on_call(&r);
        assert_eq!(w.calls_written(), 0);
        assert!(w.lock().file.is_none());
    }
}
