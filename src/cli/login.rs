//! `card-ingest login --server URL --app-id ID` (Auth-Token on stdin) and
//! `card-ingest logout --server URL`: put the iconik credentials into the OS keyring or remove
//! them. The token is read from stdin, never from the command line (it would land in shell
//! history and `ps`), and is never printed.

use anyhow::Context;
use card_ingest::secrets::{
    AuthToken, Credentials, ENV_APP_ID, ENV_AUTH_TOKEN, EnvStore, KeyringStore, ServerKey,
    TokenStore,
};
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// iconik server, e.g. https://app.iconik.io (plain http only for loopback test servers).
    #[arg(long, value_name = "URL")]
    server: String,
    /// App-ID of the iconik application token (Admin > Settings > Application Tokens).
    #[arg(long, value_name = "ID")]
    app_id: String,
}

#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    /// iconik server whose token to remove, e.g. https://app.iconik.io.
    #[arg(long, value_name = "URL")]
    server: String,
}

pub fn run_login(args: LoginArgs) -> anyhow::Result<ExitCode> {
    let server = ServerKey::parse(&args.server)?;
    // Check the App-ID before asking for the token, so a typo fails before anything is pasted.
    let app_id = args.app_id.trim();
    Credentials::validate_app_id(app_id)?;
    let token = read_token(&server)?;
    let credentials = Credentials::new(app_id, token)?;
    let store = KeyringStore::open()?;
    store.set(&server, &credentials)?;
    println!("token stored in the OS keyring for {server}");
    warn_if_env_overrides();
    Ok(ExitCode::SUCCESS)
}

pub fn run_logout(args: LogoutArgs) -> anyhow::Result<ExitCode> {
    let server = ServerKey::parse(&args.server)?;
    let store = KeyringStore::open()?;
    if store.delete(&server)? {
        println!("token removed from the OS keyring for {server}");
    } else {
        println!("no token was stored in the OS keyring for {server}; nothing to remove");
    }
    warn_if_env_overrides();
    Ok(ExitCode::SUCCESS)
}

/// One line from stdin, trimmed. When a person is typing (stdin is a terminal) a prompt goes to
/// stderr and, on Unix, terminal echo is off while the line is read, so the token does not end
/// up on screen or in scrollback. card-ingest itself never prints it.
fn read_token(server: &ServerKey) -> anyhow::Result<AuthToken> {
    let stdin = std::io::stdin();
    let mut line = String::new();
    if stdin.is_terminal() {
        let read = {
            let _echo_off = EchoOff::new();
            eprint!("Auth-Token for {server} (paste it, then press Enter): ");
            std::io::stderr().flush().context("writing the prompt")?;
            stdin.lock().read_line(&mut line)
        };
        // The Enter key was not echoed either: end the prompt line ourselves.
        eprintln!();
        read.context("reading the Auth-Token from the terminal")?;
    } else {
        stdin
            .lock()
            .read_line(&mut line)
            .context("reading the Auth-Token from stdin")?;
    }
    let token = line.trim();
    if token.is_empty() {
        anyhow::bail!(
            "no Auth-Token on stdin: pipe it in, e.g. \
             `printf '%s\\n' \"$TOKEN\" | card-ingest login --server {server} --app-id <ID>`"
        );
    }
    Ok(AuthToken::new(token)?)
}

/// Turns terminal echo off on stdin until dropped (Unix termios). If the terminal cannot be
/// configured the token is read with echo on: still never printed by card-ingest.
#[cfg(unix)]
struct EchoOff {
    saved: Option<libc::termios>,
}

#[cfg(unix)]
impl EchoOff {
    fn new() -> Self {
        // SAFETY: tcgetattr/tcsetattr only read/write the termios struct we pass, for fd 0, which
        // is open for the whole process; a zeroed termios is a valid out-parameter.
        unsafe {
            let mut term: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut term) != 0 {
                tracing::debug!("tcgetattr failed; reading the token with echo on");
                return EchoOff { saved: None };
            }
            let saved = term;
            term.c_lflag &= !libc::ECHO;
            if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &term) != 0 {
                tracing::debug!("tcsetattr failed; reading the token with echo on");
                return EchoOff { saved: None };
            }
            EchoOff { saved: Some(saved) }
        }
    }
}

#[cfg(unix)]
impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = self.saved {
            // SAFETY: restores the settings read in `new` on the same fd.
            if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &saved) } != 0 {
                tracing::warn!("could not restore terminal echo; run `stty echo`");
            }
        }
    }
}

/// No echo control without a tty crate on other platforms: the terminal shows what is typed.
#[cfg(not(unix))]
struct EchoOff;

#[cfg(not(unix))]
impl EchoOff {
    fn new() -> Self {
        EchoOff
    }
}

/// The resolver prefers the environment, so a stored token would be ignored in this shell.
fn warn_if_env_overrides() {
    if EnvStore::from_process_env().is_set() {
        eprintln!(
            "note: {ENV_APP_ID}/{ENV_AUTH_TOKEN} are set in this environment and take \
             precedence over the OS keyring"
        );
    }
}
