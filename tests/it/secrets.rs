//! `card-ingest login` / `logout` as a user runs them: token on stdin, OS keyring, messages.
//!
//! Always run: input checks that fail before any keyring is touched, and (Linux) the "no keyring"
//! message with `DBUS_SESSION_BUS_ADDRESS` pointing at a socket that does not exist, and the
//! terminal prompt on a pseudo-terminal (python3 `pty`: the typed token is not echoed).
//! With `--features os-keyring-tests` (run by `.ci/keyring-tests` inside a private D-Bus session
//! with an unlocked gnome-keyring): login → read back in-process and with `secret-tool` → logout,
//! and a locked keyring in a nested session.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Output of one `card-ingest` run.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs the binary with `stdin` as its input and without the iconik environment variables (so
/// the "variables take precedence" note never appears), plus `env`.
fn card_ingest(args: &[&str], stdin: &str, env: &[(&str, &OsStr)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_card-ingest"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(cmd, stdin)
}

/// Runs `cmd` with `stdin` as its input. Panics after 60 s: a D-Bus call waiting for an unlock
/// prompt must fail the test, not hang it.
fn run(mut cmd: Command, stdin: &str) -> Run {
    cmd.env_remove("ICONIK_APP_ID")
        .env_remove("ICONIK_AUTH_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("start {:?}: {e}", cmd.get_program()));
    let mut input = child.stdin.take().expect("stdin pipe");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    let mut stdout = child.stdout.take().expect("stdout pipe");
    let mut stderr = child.stderr.take().expect("stderr pipe");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).map(|_| s)
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).map(|_| s)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().expect("kill hung child");
            child.wait().expect("reap child");
            panic!("{cmd:?} did not finish within 60 s (keyring prompt?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        status,
        stdout: out.join().expect("stdout thread").expect("read stdout"),
        stderr: err.join().expect("stderr thread").expect("read stderr"),
    }
}

/// The part of the "no keyring" message that does not depend on the platform error.
#[cfg(target_os = "linux")]
const NO_KEYRING: &str = "card-ingest: no OS keyring available (install or unlock GNOME Keyring \
     or KWallet: card-ingest needs a Secret Service provider on the session D-Bus). Instead, set \
     ICONIK_APP_ID and ICONIK_AUTH_TOKEN in the environment (automation), or enter the token in \
     the app, which keeps it for this run only. Details: ";

#[test]
fn login_refuses_plain_http_to_a_remote_server() {
    let run = card_ingest(
        &[
            "login",
            "--server",
            "http://app.iconik.io/API/",
            "--app-id",
            "app-1",
        ],
        "tok-never-used\n",
        &[],
    );
    assert_eq!(run.status.code(), Some(2), "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "card-ingest: refusing `http://app.iconik.io/API/`: iconik credentials are only sent \
         over https (plain http is allowed only for loopback test servers: 127.0.0.0/8, ::1, \
         localhost); use https://app.iconik.io\n"
    );
}

#[test]
fn login_refuses_an_empty_token_and_a_bad_app_id() {
    for stdin in ["", "\n", "   \n"] {
        let run = card_ingest(
            &[
                "login",
                "--server",
                "http://127.0.0.1:9",
                "--app-id",
                "app-1",
            ],
            stdin,
            &[],
        );
        assert_eq!(run.status.code(), Some(2), "{stdin:?}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            "card-ingest: no Auth-Token on stdin: pipe it in, e.g. `printf '%s\\n' \"$TOKEN\" | \
             card-ingest login --server http://127.0.0.1:9 --app-id <ID>`\n",
            "stdin {stdin:?}"
        );
    }
    let run = card_ingest(
        &[
            "login",
            "--server",
            "https://app.iconik.io",
            "--app-id",
            "  ",
        ],
        "tok\n",
        &[],
    );
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(run.stderr, "card-ingest: invalid App-ID: it is empty\n");
    let run = card_ingest(
        &[
            "login",
            "--server",
            "https://app.iconik.io",
            "--app-id",
            "a",
        ],
        "to\tk-s3cret\n",
        &[],
    );
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        run.stderr,
        "card-ingest: invalid Auth-Token: it contains control characters (line breaks, tabs, ...)\n"
    );
}

/// No session bus at all (a headless server, a container): login and logout fail with the
/// friendly message, exit 2, and the token appears nowhere in the output.
#[cfg(target_os = "linux")]
#[test]
fn without_a_keyring_login_and_logout_say_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let address = format!("unix:path={}/no-bus", dir.path().display());
    let env = [("DBUS_SESSION_BUS_ADDRESS", OsStr::new(&address))];
    let token = "tok-no-keyring-4711";
    let server_args = ["--server", "https://app.iconik.io"];
    let login = card_ingest(
        &[&["login"][..], &server_args, &["--app-id", "app-1"]].concat(),
        &format!("{token}\n"),
        &env,
    );
    let logout = card_ingest(&[&["logout"][..], &server_args].concat(), "", &env);
    for (what, run) in [("login", login), ("logout", logout)] {
        assert_eq!(run.status.code(), Some(2), "{what}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{what}");
        let details = run.stderr.strip_prefix(NO_KEYRING).unwrap_or_else(|| {
            panic!(
                "{what}: stderr does not start with the no-keyring message: {}",
                run.stderr
            )
        });
        // The platform detail names the bus address it tried, on one line.
        assert!(
            details.starts_with("Platform failure: ") && details.contains(&address),
            "{what}: details {details:?}"
        );
        assert_eq!(details.lines().count(), 1, "{what}: {details:?}");
        assert!(!run.stderr.contains(token), "{what} echoed the token");
    }
}

/// Drives `card-ingest login` on a pseudo-terminal (Python's `pty`): waits for the prompt, types
/// the token, prints everything the terminal showed, exits with card-ingest's exit code.
#[cfg(target_os = "linux")]
const PTY_LOGIN: &str = r#"
import os, pty, sys
exe, token = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(exe, [exe, "login", "--server", "https://app.iconik.io", "--app-id", "app-tty"])
def read():
    try:
        return os.read(fd, 1024)
    except OSError:  # EIO: the child closed the terminal
        return b""
out = b""
while b"press Enter): " not in out:
    chunk = read()
    if not chunk:
        break
    out += chunk
os.write(fd, token.encode() + b"\n")
while True:
    chunk = read()
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;

/// Typed at a terminal, the token is not echoed (echo is off while it is read) and a prompt is
/// shown. No keyring (bus address points nowhere), so the run ends with the no-keyring message
/// after the token was read.
#[cfg(target_os = "linux")]
#[test]
fn login_on_a_terminal_prompts_and_does_not_echo_the_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let address = format!("unix:path={}/no-bus", dir.path().display());
    let token = "tok-typed-on-a-tty-1234";
    let mut cmd = Command::new("python3");
    cmd.args(["-c", PTY_LOGIN, env!("CARGO_BIN_EXE_card-ingest"), token])
        .env("DBUS_SESSION_BUS_ADDRESS", &address);
    let out = run(cmd, "");
    assert_eq!(out.status.code(), Some(2), "stderr: {}", out.stderr);
    // The terminal shows: the prompt, the newline card-ingest prints after the hidden input,
    // then the error (the pty turns \n into \r\n).
    let (prompt_line, rest) = out
        .stdout
        .split_once("\r\n")
        .unwrap_or_else(|| panic!("no line break in terminal output {:?}", out.stdout));
    assert_eq!(
        prompt_line,
        "Auth-Token for https://app.iconik.io (paste it, then press Enter): "
    );
    assert!(rest.starts_with(NO_KEYRING), "terminal showed {rest:?}");
    assert!(
        !out.stdout.contains(token),
        "the token was echoed: {:?}",
        out.stdout
    );
}

#[cfg(feature = "os-keyring-tests")]
mod real_keyring {
    //! Needs a Secret Service on the session bus: run `.ci/keyring-tests`.

    use super::{NO_KEYRING, card_ingest, run};
    use card_ingest::secrets::{KeyringStore, SecretsError, ServerKey, TokenStore};
    use std::process::Command;

    /// A server key of our own per test (tests run in parallel against the same keyring).
    fn server(test: &str) -> String {
        format!("https://{test}-{}.it.example:8443", std::process::id())
    }

    fn keyring() -> KeyringStore {
        KeyringStore::open().unwrap_or_else(|e| {
            panic!("os-keyring-tests need an unlocked Secret Service: run .ci/keyring-tests ({e})")
        })
    }

    /// `secret-tool lookup service card-ingest username <server>`: (exit code, secret).
    fn secret_tool_lookup(server: &str) -> (Option<i32>, String) {
        let out = Command::new("secret-tool")
            .args(["lookup", "service", "card-ingest", "username", server])
            .output()
            .unwrap_or_else(|e| {
                panic!("secret-tool is required (apt-get install libsecret-tools): {e}")
            });
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    #[test]
    fn real_keyring_login_read_back_logout() {
        let store = keyring();
        let url = server("roundtrip");
        let key = ServerKey::parse(&url).expect("server key");
        let token = "it-token-Zx81.roundtrip";
        let login = card_ingest(
            &[
                "login",
                "--server",
                &format!("{url}/API/"),
                "--app-id",
                "app-rt",
            ],
            &format!("  {token}\n"),
            &[],
        );
        assert_eq!(login.status.code(), Some(0), "stderr: {}", login.stderr);
        assert_eq!(
            login.stdout,
            format!("token stored in the OS keyring for {url}\n")
        );
        assert_eq!(login.stderr, "", "no prompt when stdin is a pipe");

        // Another process (this one) reads it back through the library...
        let got = store.get(&key).expect("read back in-process");
        assert_eq!(got.app_id(), "app-rt");
        assert_eq!(got.token().expose_secret(), token);
        // ...and libsecret's own client finds one item under service + username.
        assert_eq!(
            secret_tool_lookup(&url),
            (
                Some(0),
                format!(r#"{{"app_id":"app-rt","token":"{token}"}}"#)
            )
        );

        let logout = card_ingest(&["logout", "--server", &url], "", &[]);
        assert_eq!(logout.status.code(), Some(0), "stderr: {}", logout.stderr);
        assert_eq!(
            logout.stdout,
            format!("token removed from the OS keyring for {url}\n")
        );
        match store.get(&key) {
            Err(SecretsError::NotSet { server }) => assert_eq!(server, key),
            other => panic!("expected NotSet after logout, got {other:?}"),
        }
        assert_eq!(secret_tool_lookup(&url), (Some(1), String::new()));

        let again = card_ingest(&["logout", "--server", &url], "", &[]);
        assert_eq!(again.status.code(), Some(0), "stderr: {}", again.stderr);
        assert_eq!(
            again.stdout,
            format!("no token was stored in the OS keyring for {url}; nothing to remove\n")
        );
    }

    #[test]
    fn real_keyring_replaces_and_keeps_servers_apart() {
        let store = keyring();
        let a = server("replace-a");
        let b = server("replace-b");
        for (url, app, token) in [
            (&a, "app-a", "tok-a-1"),
            (&b, "app-b", "tok-b-1"),
            (&a, "app-a2", "tok-a-2"),
        ] {
            let run = card_ingest(
                &["login", "--server", url, "--app-id", app],
                &format!("{token}\n"),
                &[],
            );
            assert_eq!(run.status.code(), Some(0), "{url}: {}", run.stderr);
        }
        let key_a = ServerKey::parse(&a).expect("a");
        let key_b = ServerKey::parse(&b).expect("b");
        let got_a = store.get(&key_a).expect("a");
        assert_eq!(
            (got_a.app_id(), got_a.token().expose_secret()),
            ("app-a2", "tok-a-2")
        );
        // One item per server: the second login replaced the first instead of adding one.
        let (code, secret) = secret_tool_lookup(&a);
        assert_eq!(code, Some(0));
        assert_eq!(secret, r#"{"app_id":"app-a2","token":"tok-a-2"}"#);

        assert!(store.delete(&key_a).expect("delete a"), "a was stored");
        let got_b = store.get(&key_b).expect("b is untouched");
        assert_eq!(
            (got_b.app_id(), got_b.token().expose_secret()),
            ("app-b", "tok-b-1")
        );
        assert!(store.delete(&key_b).expect("delete b"));
        assert!(!store.delete(&key_b).expect("delete b again"));
    }

    /// A keyring that is there but locked (gnome-keyring after screen lock / no auto-unlock):
    /// a nested D-Bus session of its own, whose login collection the script locks before
    /// `card-ingest login` runs. gnome-keyring then asks gcr-prompter, which cannot open a display
    /// (DISPLAY is removed so no real prompt can appear), and the store reports NoStorageAccess.
    #[test]
    fn real_keyring_locked_gives_the_no_keyring_message() {
        let home = tempfile::tempdir().expect("temp HOME");
        let h = home.path();
        let runtime = h.join("run");
        std::fs::create_dir(&runtime).expect("runtime dir");
        // XDG_RUNTIME_DIR must be private (basedir spec); gnome-keyring puts its socket there.
        let private = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700);
        std::fs::set_permissions(&runtime, private).expect("chmod 700 runtime dir");
        let script = r#"
            printf %s ci-not-secret | gnome-keyring-daemon --unlock --components=secrets >/dev/null
            dbus-send --session --print-reply --dest=org.freedesktop.secrets \
                /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock \
                array:objpath:/org/freedesktop/secrets/collection/login >/dev/null || exit 90
            exec "$CARD_INGEST" login --server https://locked.it.example --app-id app-l
        "#;
        let mut cmd = Command::new("dbus-run-session");
        cmd.args(["--", "sh", "-c", script])
            .env("CARD_INGEST", env!("CARGO_BIN_EXE_card-ingest"))
            .env("HOME", h)
            .env("XDG_DATA_HOME", h.join("data"))
            .env("XDG_CONFIG_HOME", h.join("config"))
            .env("XDG_CACHE_HOME", h.join("cache"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        let out = run(cmd, "tok-locked-0815\n");
        assert_eq!(out.status.code(), Some(2), "stderr: {}", out.stderr);
        assert_eq!(out.stdout, "");
        // dbus-daemon and gcr-prompter write to the same stderr; pick card-ingest's line.
        let ours: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("card-ingest:"))
            .collect();
        assert_eq!(
            ours,
            [format!(
                "{NO_KEYRING}Couldn't access platform storage: SS error: prompt dismissed"
            )],
            "full stderr: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("tok-locked"), "token echoed");
    }
}
