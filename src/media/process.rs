//! A tiny process runner for external tools (MediaInfo, ffprobe, later ffmpeg proxies): spawn,
//! capture stdout/stderr on reader threads, kill on timeout or when a stop flag is raised.
//!
//! Blocking by design: callers run it on worker threads (the scan pool, a proxy job), never on
//! a UI thread. Errors name the program and the file being worked on so the operator can act.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How often the runner checks the deadline and the stop flag.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// What to run and under which limits.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    pub program: PathBuf,
    pub args: Vec<std::ffi::OsString>,
    /// Kill the process when it runs longer than this.
    pub timeout: Duration,
    /// Raised by the caller to stop the process early (operator pressed stop).
    pub cancel: Option<Arc<AtomicBool>>,
    /// The file the run is about (for error messages), e.g. the first input file.
    pub subject: Option<PathBuf>,
}

impl ProcessSpec {
    pub fn new(program: impl Into<PathBuf>, timeout: Duration) -> ProcessSpec {
        ProcessSpec {
            program: program.into(),
            args: Vec::new(),
            timeout,
            cancel: None,
            subject: None,
        }
    }

    pub fn arg(mut self, arg: impl Into<std::ffi::OsString>) -> ProcessSpec {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> ProcessSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<std::ffi::OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn subject(mut self, path: impl Into<PathBuf>) -> ProcessSpec {
        self.subject = Some(path.into());
        self
    }

    pub fn cancel(mut self, flag: Arc<AtomicBool>) -> ProcessSpec {
        self.cancel = Some(flag);
        self
    }
}

/// What a finished process printed. `status_code` is `None` when killed by a signal.
#[derive(Debug, Clone)]
pub struct ProcessOutput {
    pub status_code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ProcessOutput {
    pub fn success(&self) -> bool {
        self.status_code == Some(0)
    }

    /// stderr as text, trimmed and shortened for messages.
    pub fn stderr_excerpt(&self) -> String {
        excerpt(&self.stderr)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start {program} for {subject}: {source}", program = .program.display(), subject = show(.subject))]
    Spawn {
        program: PathBuf,
        subject: Option<PathBuf>,
        #[source]
        source: std::io::Error,
    },
    #[error("{program} did not finish within {secs:.1} s on {subject} and was stopped: the file may be damaged or on a slow/disconnected drive; check it and retry", program = .program.display(), secs = .timeout.as_secs_f64(), subject = show(.subject))]
    TimedOut {
        program: PathBuf,
        subject: Option<PathBuf>,
        timeout: Duration,
    },
    #[error("{program} was cancelled on {subject}", program = .program.display(), subject = show(.subject))]
    Cancelled {
        program: PathBuf,
        subject: Option<PathBuf>,
    },
    #[error("lost contact with {program} on {subject}: {source}", program = .program.display(), subject = show(.subject))]
    Wait {
        program: PathBuf,
        subject: Option<PathBuf>,
        #[source]
        source: std::io::Error,
    },
}

fn show(subject: &Option<PathBuf>) -> String {
    subject
        .as_deref()
        .map_or_else(|| "(no file)".to_owned(), |p| p.display().to_string())
}

/// Trimmed, at most ~400 characters of tool output for an error message.
pub fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    match text.char_indices().nth(400) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// On Windows a console program started from the GUI-subsystem app would flash a console
/// window for every ffmpeg/MediaInfo run; `CREATE_NO_WINDOW` keeps them invisible. Elsewhere
/// nothing to do.
pub fn no_console_window(command: &mut Command) {
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        command.creation_flags(CREATE_NO_WINDOW);
    }
    #[cfg(not(windows))]
    let _ = command;
}

/// Runs `spec` to completion (any exit status), or kills it on timeout/cancel.
/// stdin is closed so a tool can never wait for input.
pub fn run(spec: &ProcessSpec) -> Result<ProcessOutput, ProcessError> {
    run_with_lines(spec, |_| {})
}

/// Like [`run`], and calls `on_stdout_line` with each complete stdout line (lossy UTF-8,
/// without the newline) while the process runs, e.g. ffmpeg `-progress pipe:1` output.
pub fn run_with_lines(
    spec: &ProcessSpec,
    mut on_stdout_line: impl FnMut(&str),
) -> Result<ProcessOutput, ProcessError> {
    let mut command = Command::new(&spec.program);
    no_console_window(&mut command);
    let mut child = command
        .args(&spec.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ProcessError::Spawn {
            program: spec.program.clone(),
            subject: spec.subject.clone(),
            source,
        })?;
    tracing::debug!(program = %spec.program.display(), args = ?spec.args, "spawned");

    // Pipes must be drained concurrently, or a chatty tool blocks on a full pipe and looks hung.
    let mut stdout = Pipe::new(child.stdout.take());
    let mut stderr = Pipe::new(child.stderr.take());

    let started = Instant::now();
    let stop_reason = loop {
        stdout.drain(&mut on_stdout_line);
        stderr.drain(&mut |_| {});
        match child.try_wait() {
            Ok(Some(_)) => break None,
            Ok(None) => {}
            Err(source) => {
                kill(&mut child, &spec.program);
                return Err(ProcessError::Wait {
                    program: spec.program.clone(),
                    subject: spec.subject.clone(),
                    source,
                });
            }
        }
        if spec
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            break Some(ProcessError::Cancelled {
                program: spec.program.clone(),
                subject: spec.subject.clone(),
            });
        }
        if started.elapsed() >= spec.timeout {
            break Some(ProcessError::TimedOut {
                program: spec.program.clone(),
                subject: spec.subject.clone(),
                timeout: spec.timeout,
            });
        }
        std::thread::sleep(POLL_INTERVAL);
    };
    if let Some(err) = stop_reason {
        kill(&mut child, &spec.program);
        return Err(err);
    }
    let status = child.wait().map_err(|source| ProcessError::Wait {
        program: spec.program.clone(),
        subject: spec.subject.clone(),
        source,
    })?;
    // The process has exited, but a grandchild may still hold the pipes open: wait for EOF
    // only until the deadline, then keep what arrived.
    let deadline = started + spec.timeout;
    stdout.finish(deadline, &mut on_stdout_line);
    stderr.finish(deadline, &mut |_| {});
    Ok(ProcessOutput {
        status_code: status.code(),
        stdout: stdout.bytes,
        stderr: stderr.bytes,
    })
}

/// One captured pipe: a reader thread sends chunks; the runner collects them and splits
/// stdout into lines for the callback.
struct Pipe {
    rx: Option<mpsc::Receiver<Vec<u8>>>,
    bytes: Vec<u8>,
    /// Start of the not-yet-reported partial line in `bytes`.
    line_start: usize,
}

impl Pipe {
    fn new<R: Read + Send + 'static>(pipe: Option<R>) -> Pipe {
        let rx = pipe.map(|mut pipe| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match pipe.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            // The runner may have returned already (timeout): stop reading.
                            if tx.send(buf[..n].to_vec()).is_err() {
                                break;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            tracing::debug!(error = %e, "pipe read ended early");
                            break;
                        }
                    }
                }
            });
            rx
        });
        Pipe {
            rx,
            bytes: Vec::new(),
            line_start: 0,
        }
    }

    fn push(&mut self, chunk: Vec<u8>, on_line: &mut dyn FnMut(&str)) {
        self.bytes.extend_from_slice(&chunk);
        while let Some(nl) = self.bytes[self.line_start..]
            .iter()
            .position(|&b| b == b'\n')
        {
            let end = self.line_start + nl;
            let line = String::from_utf8_lossy(&self.bytes[self.line_start..end]);
            on_line(line.trim_end_matches('\r'));
            self.line_start = end + 1;
        }
    }

    /// Takes whatever has arrived, without blocking.
    fn drain(&mut self, on_line: &mut dyn FnMut(&str)) {
        let mut chunks = Vec::new();
        if let Some(rx) = &self.rx {
            while let Ok(chunk) = rx.try_recv() {
                chunks.push(chunk);
            }
        }
        for chunk in chunks {
            self.push(chunk, on_line);
        }
    }

    /// Reads until EOF or `deadline`, then reports a last unterminated line.
    fn finish(&mut self, deadline: Instant, on_line: &mut dyn FnMut(&str)) {
        while let Some(rx) = &self.rx {
            let wait = deadline
                .saturating_duration_since(Instant::now())
                .max(POLL_INTERVAL);
            match rx.recv_timeout(wait) {
                Ok(chunk) => self.push(chunk, on_line),
                Err(mpsc::RecvTimeoutError::Disconnected) => self.rx = None,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    tracing::debug!("pipe still open after the process exited; output cut");
                    self.rx = None;
                }
            }
        }
        if self.line_start < self.bytes.len() {
            let line = String::from_utf8_lossy(&self.bytes[self.line_start..]).into_owned();
            on_line(line.trim_end_matches('\r'));
            self.line_start = self.bytes.len();
        }
    }
}

fn kill(child: &mut std::process::Child, program: &Path) {
    if let Err(e) = child.kill() {
        tracing::warn!(program = %program.display(), error = %e, "could not kill process");
    }
    if let Err(e) = child.wait() {
        tracing::warn!(program = %program.display(), error = %e, "could not reap process");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_stdout_stderr_and_exit_code() {
        let spec = ProcessSpec::new("sh", Duration::from_secs(10))
            .args(["-c", "printf out; printf err >&2; exit 3"]);
        let out = run(&spec).unwrap();
        assert_eq!(out.status_code, Some(3));
        assert_eq!(out.stdout, b"out");
        assert_eq!(out.stderr_excerpt(), "err");
        assert!(!out.success());
    }

    #[test]
    fn kills_after_timeout_and_names_program_and_file() {
        let spec = ProcessSpec::new("sleep", Duration::from_millis(200))
            .arg("30")
            .subject("/card/CLIP.MXF");
        let started = Instant::now();
        let err = run(&spec).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        let msg = err.to_string();
        assert!(matches!(err, ProcessError::TimedOut { .. }), "{msg}");
        assert!(
            msg.contains("sleep") && msg.contains("/card/CLIP.MXF"),
            "{msg}"
        );
    }

    #[test]
    fn stops_when_cancelled() {
        let flag = Arc::new(AtomicBool::new(true));
        let spec = ProcessSpec::new("sleep", Duration::from_secs(30))
            .arg("30")
            .cancel(flag);
        let err = run(&spec).unwrap_err();
        assert!(matches!(err, ProcessError::Cancelled { .. }), "{err}");
    }

    #[test]
    fn missing_program_is_a_spawn_error_naming_it() {
        let spec = ProcessSpec::new("/nonexistent/mediainfo", Duration::from_secs(1))
            .subject("/card/A.MXF");
        let err = run(&spec).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ProcessError::Spawn { .. }));
        assert!(
            msg.contains("/nonexistent/mediainfo") && msg.contains("/card/A.MXF"),
            "{msg}"
        );
    }

    #[test]
    fn reports_stdout_lines_while_running() {
        let spec = ProcessSpec::new("sh", Duration::from_secs(10)).args([
            "-c",
            "printf 'frame=1\\nprogress=continue\\r\\nframe=2\\nprogress=end'",
        ]);
        let mut lines = Vec::new();
        let out = run_with_lines(&spec, |l| lines.push(l.to_owned())).unwrap();
        assert_eq!(
            lines,
            ["frame=1", "progress=continue", "frame=2", "progress=end"]
        );
        assert_eq!(out.stdout.len(), 47);
    }

    #[test]
    fn a_grandchild_holding_the_pipe_does_not_hang_the_runner() {
        // sh exits at once but leaves `sleep` with our stdout open.
        let spec =
            ProcessSpec::new("sh", Duration::from_millis(500)).args(["-c", "echo hi; sleep 5 &"]);
        let started = Instant::now();
        let out = run(&spec).unwrap();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(out.stdout, b"hi\n");
        assert_eq!(out.status_code, Some(0));
    }

    #[test]
    fn large_output_does_not_deadlock() {
        // 1 MiB on stdout is more than a pipe buffer; the reader threads must drain it.
        let spec = ProcessSpec::new("sh", Duration::from_secs(10))
            .args(["-c", "head -c 1048576 /dev/zero"]);
        let out = run(&spec).unwrap();
        assert_eq!(out.stdout.len(), 1_048_576);
    }
}
