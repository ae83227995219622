//! The window's keyring path against a real Secret Service (feature `os-keyring-tests`, run by
//! `.ci/keyring-tests` inside a private D-Bus session with an unlocked gnome-keyring).
//!
//! The app gets the real opener (`KeyringStore::open`, as `card-ingest gui` does), a temp config
//! dir and an in-process sandbox as its Custom server; the operator's steps are driven headless
//! with egui_kittest by label. What the window stored is read back through a fresh
//! `KeyringStore` and through libsecret's own `secret-tool`.
//!
//! "No Secret Service" and "locked collection" need a different session bus than this process
//! has, and the keyring crate reads `DBUS_SESSION_BUS_ADDRESS` from the environment: those tests
//! re-run themselves in a child process of this test binary (env [`ROLE`] set) with a bus address
//! pointing nowhere, or inside a nested `dbus-run-session` whose login collection is locked.

use card_ingest::sandbox::{self, SandboxConfig, SandboxHandle, auth};
use card_ingest::secrets::{EnvStore, KeyringStore, SecretsError, ServerKey, TokenStore};
use card_ingest::settings::{self, AppDirs, ServerChoice};
use card_ingest::ui::state::{Connection, KeyringStatus};
use card_ingest::ui::{App, Startup};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest wait for a background result (a D-Bus round trip, a loopback HTTP call).
const WAIT: Duration = Duration::from_secs(60);
/// Longest run of a child-process test (its own waits are [`WAIT`] each).
const CHILD_WAIT: Duration = Duration::from_secs(180);
/// Set in a child process to the test it should play (see the module docs).
const ROLE: &str = "CARD_INGEST_GUI_KEYRING_ROLE";
/// What the settings panel shows when the app keeps the token in memory.
const MEMORY_ONLY: &str = "No OS keyring available: the token is kept for this run only.";
/// The start of the library's "no keyring" message (the platform detail follows).
const NO_KEYRING: &str = "no OS keyring available (install or unlock GNOME Keyring or KWallet: \
     card-ingest needs a Secret Service provider on the session D-Bus). Instead, set \
     ICONIK_APP_ID and ICONIK_AUTH_TOKEN in the environment (automation), or enter the token in \
     the app, which keeps it for this run only. Details: ";
/// The sandbox's storages, in the order iconik lists them.
const STORAGES: [&str; 2] = ["Sandbox originals", "Sandbox proxies (GCS)"];

/// A runtime, a running sandbox (the Custom server) and a config/cache dir that outlive one
/// window, so a second window is an app restart.
struct Session {
    rt: tokio::runtime::Runtime,
    sandbox: SandboxHandle,
    dir: tempfile::TempDir,
    /// The token the sandbox accepts; unique per test so a leak is easy to grep for.
    token: String,
    app_id: String,
}

impl Session {
    fn new(test: &str) -> Session {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let credentials = auth::Credentials {
            app_id: format!("app-{test}"),
            token: format!("tok-{test}-{}-Qx7", std::process::id()),
        };
        let config = SandboxConfig {
            credentials: credentials.clone(),
            spec_dir: None,
            ..SandboxConfig::default()
        };
        let sandbox = rt.block_on(sandbox::spawn(config)).expect("sandbox");
        Session {
            rt,
            sandbox,
            dir: tempfile::tempdir().expect("tempdir"),
            token: credentials.token,
            app_id: credentials.app_id,
        }
    }

    /// The sandbox as the window's server (also the keyring item's `username`).
    fn url(&self) -> &str {
        self.sandbox.base_url()
    }

    fn key(&self) -> ServerKey {
        ServerKey::parse(self.url()).expect("sandbox URL is a server key")
    }

    fn settings_file(&self) -> PathBuf {
        AppDirs::under(self.dir.path()).settings_file()
    }

    /// Opens a window the way `card-ingest gui` does: settings from the config dir (first run:
    /// the sandbox as a Custom server), the real keyring opener, no iconik environment.
    fn window(&self) -> Window {
        let mut settings = settings::load(&self.settings_file()).expect("settings readable");
        if settings.server != ServerChoice::Custom {
            settings.server = ServerChoice::Custom;
            settings.custom_url = self.url().to_owned();
        }
        let startup = Startup {
            settings,
            dirs: AppDirs::under(self.dir.path()),
            paths: Vec::new(),
            keyring: Box::new(KeyringStore::open),
            env: EnvStore::from_vars(None, None),
            spec_dir: None,
            notices: Vec::new(),
            log: None,
            arrivals: None,
            mounts: None,
        };
        let harness = crate::gui::window(startup, &self.rt);
        Window { harness }
    }
}

/// One app window under a headless harness.
struct Window {
    harness: Harness<'static, App>,
}

impl Window {
    fn app(&self) -> &App {
        self.harness.state()
    }

    fn log(&self) -> Vec<String> {
        self.app()
            .view()
            .log
            .iter()
            .map(|l| l.text.clone())
            .collect()
    }

    /// Steps frames until `done` holds (background results arrive between frames).
    fn pump_until(&mut self, what: &str, done: impl Fn(&Harness<'static, App>) -> bool) {
        crate::gui::pump_until(&mut self.harness, WAIT, what, done);
    }

    /// The token is kept for this run only: in memory and in the (masked) field.
    fn assert_token_in_memory(&mut self, token: &str) {
        self.pump_until("the token kept in memory", |h| {
            h.state().view().token_source.as_deref() == Some("memory (this run only)")
        });
        assert_eq!(self.app().view().token.0, token);
    }

    fn pump_until_label(&mut self, label: &str) {
        self.pump_until(&format!("label {label:?}"), |h| {
            h.query_by_label(label).is_some()
        });
    }

    /// Waits until the keyring is opened and the stored token (if any) looked up: the log line
    /// of the lookup ends the start-up.
    fn wait_for_start(&mut self, url: &str) {
        let loaded = [
            format!("no token stored for {url} yet"),
            format!("token for {url} from the OS keyring"),
        ];
        self.pump_until("the keyring and the stored token", |h| {
            let vm = h.state().view();
            vm.keyring != KeyringStatus::Opening && vm.log.iter().any(|l| loaded.contains(&l.text))
        });
    }

    fn type_into(&mut self, role: Role, label: &str, text: &str) {
        let field = self.harness.get_by_role_and_label(role, label);
        field.focus();
        field.type_text(text);
        self.harness.run_ok();
    }

    /// Presses "Test connection" and waits for the result (connected or failed).
    fn test_connection(&mut self) {
        self.harness.get_by_label("Test connection").click();
        self.pump_until("the connection test", |h| {
            matches!(
                h.state().view().connection,
                Connection::Connected | Connection::Failed(_)
            )
        });
    }

    fn storage_names(&self) -> Vec<String> {
        let vm = self.app().view();
        vm.storages.iter().map(|s| s.name.clone()).collect()
    }
}

fn keyring() -> KeyringStore {
    KeyringStore::open().unwrap_or_else(|e| {
        panic!("os-keyring-tests need an unlocked Secret Service: run .ci/keyring-tests ({e})")
    })
}

/// `secret-tool lookup service card-ingest username <server>`: (exit code, secret).
fn secret_tool_lookup(server: &ServerKey) -> (Option<i32>, String) {
    let out = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            "card-ingest",
            "username",
            server.as_str(),
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!("secret-tool is required (apt-get install libsecret-tools): {e}")
        });
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `secret-tool search --all service card-ingest username <server>`: the number of items found.
/// libsecret prints one `[/<id>]` header per item on stdout (its attributes go to stderr).
fn secret_tool_count(server: &ServerKey) -> usize {
    let out = Command::new("secret-tool")
        .args([
            "search",
            "--all",
            "service",
            "card-ingest",
            "username",
            server.as_str(),
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!("secret-tool is required (apt-get install libsecret-tools): {e}")
        });
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("[/") && l.ends_with(']'))
        .count()
}

/// Type App-ID and token → Test connection → storages listed and the token saved in the Secret
/// Service (read back in-process and with `secret-tool`), never in settings.json. A restart
/// loads it from the keyring and connects without typing; "Forget token" removes it.
#[test]
fn gui_keyring_save_restart_forget_in_the_secret_service() {
    let s = Session::new("roundtrip");
    let key = s.key();
    let store = keyring();
    assert!(
        matches!(store.get(&key), Err(SecretsError::NotSet { .. })),
        "nothing stored for a fresh sandbox port"
    );

    // First run: the keyring opens, nothing is stored for this server yet.
    let mut w = s.window();
    w.wait_for_start(s.url());
    assert_eq!(w.app().view().keyring, KeyringStatus::Available);
    assert!(w.harness.query_by_label(MEMORY_ONLY).is_none());
    assert_eq!(w.app().view().token_source, None);
    assert_eq!(w.app().view().token.0, "");

    w.type_into(Role::TextInput, "App-ID", &s.app_id);
    w.type_into(Role::PasswordInput, "Token", &s.token);
    assert!(
        w.harness.query_by_value(&s.token).is_none(),
        "the masked field does not expose the token"
    );
    w.test_connection();
    assert_eq!(w.app().view().connection, Connection::Connected);
    w.pump_until_label("Connected: 2 storages");
    assert_eq!(w.storage_names(), STORAGES);
    // A successful test saves the typed token in the OS keyring.
    w.pump_until_label("Token from the OS keyring");
    assert_eq!(
        w.app().view().token_source.as_deref(),
        Some("the OS keyring")
    );
    let saved_line = format!("token for {} saved in the OS keyring", s.url());
    assert!(w.log().contains(&saved_line), "{:#?}", w.log());

    // Read back by another client of the same Secret Service: a fresh store, and secret-tool.
    let got = keyring().get(&key).expect("token stored by the window");
    assert_eq!(got.app_id(), s.app_id);
    assert_eq!(got.token().expose_secret(), s.token);
    assert_eq!(
        secret_tool_lookup(&key),
        (
            Some(0),
            format!(r#"{{"app_id":"{}","token":"{}"}}"#, s.app_id, s.token)
        )
    );
    assert_eq!(secret_tool_count(&key), 1, "one item for this server");

    // Settings (debounced) hold the server and App-ID, never the token.
    let path = s.settings_file();
    w.pump_until("settings.json with the App-ID", |_| {
        settings::load(&path).is_ok_and(|c| c.app_id == s.app_id)
    });
    let saved = settings::load(&path).expect("settings");
    assert_eq!(saved.server, ServerChoice::Custom);
    assert_eq!(saved.custom_url, s.url());
    let text = std::fs::read_to_string(&path).expect("read settings.json");
    assert!(!text.contains(&s.token), "token in settings.json: {text}");
    drop(w);

    // Restart: same config dir; the token comes from the keyring without typing.
    let mut w = s.window();
    w.wait_for_start(s.url());
    assert_eq!(w.app().view().keyring, KeyringStatus::Available);
    let vm = w.app().view();
    assert_eq!(vm.token_source.as_deref(), Some("the OS keyring"));
    assert_eq!(vm.settings.app_id, s.app_id);
    assert_eq!(
        vm.token.0, s.token,
        "the masked field holds the stored token"
    );
    // A saved server with its stored token: the window connects by itself and closes the sheet
    // to make room for the clips; Settings brings it back.
    w.pump_until("the connection made at start", |h| {
        h.state().view().connection == Connection::Connected
    });
    w.pump_until("the sheet closed", |h| !h.state().view().show_settings);
    w.harness.get_by_label("Settings").click();
    w.pump_until_label("Token from the OS keyring");
    assert!(w.harness.query_by_value(&s.token).is_none());
    let field = w
        .harness
        .get_by_role_and_label(Role::PasswordInput, "Token");
    assert_ne!(field.value().as_deref(), Some(s.token.as_str()));
    w.test_connection();
    assert_eq!(w.app().view().connection, Connection::Connected);
    assert_eq!(w.storage_names(), STORAGES);
    // Connecting with the stored token does not write it again (still one item).
    assert_eq!(secret_tool_count(&key), 1);

    // Forget: the item leaves the Secret Service and the field is cleared.
    w.harness.get_by_label("Forget token").click();
    let removed_line = format!("token for {} removed", s.url());
    w.pump_until("the token removed", |h| {
        h.state().view().log.iter().any(|l| l.text == removed_line)
    });
    let vm = w.app().view();
    assert_eq!(vm.token.0, "");
    assert_eq!(vm.token_source, None);
    assert!(
        w.harness
            .query_by_label("Token from the OS keyring")
            .is_none()
    );
    match keyring().get(&key) {
        Err(SecretsError::NotSet { server }) => assert_eq!(server, key),
        other => panic!("expected NotSet after Forget token, got {other:?}"),
    }
    assert_eq!(secret_tool_lookup(&key), (Some(1), String::new()));
    assert_eq!(secret_tool_count(&key), 0);
    drop(w);

    // A third start finds nothing again.
    let mut w = s.window();
    w.wait_for_start(s.url());
    assert_eq!(w.app().view().token_source, None);
    assert_eq!(w.app().view().token.0, "");
    assert!(
        w.log()
            .contains(&format!("no token stored for {} yet", s.url())),
        "{:#?}",
        w.log()
    );
}

// ---- Child-process tests: a session bus other than this process's -------------------------

/// This test's name as libtest knows it (`gui_keyring::<name>`), for `--exact`.
fn test_path(name: &str) -> String {
    let module = module_path!();
    let module = module.split_once("::").map_or(module, |(_, rest)| rest);
    format!("{module}::{name}")
}

/// Runs test `name` of this binary in a child process configured by `setup`, with [`ROLE`] set
/// to `name`, and checks that exactly that test ran and passed there. Panics after
/// [`CHILD_WAIT`]: a D-Bus call waiting for an unlock prompt must fail the test, not hang it.
fn run_child(name: &str, setup: impl FnOnce(&mut Command, &str)) {
    let exe = std::env::current_exe().expect("test binary path");
    let test = test_path(name);
    let mut cmd = Command::new("sh");
    setup(
        &mut cmd,
        &format!("exec \"$TEST_EXE\" --exact {test} --nocapture --test-threads=1"),
    );
    cmd.env("TEST_EXE", &exe)
        .env(ROLE, name)
        .env_remove("ICONIK_APP_ID")
        .env_remove("ICONIK_AUTH_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
    let stdout = read_in_background(child.stdout.take().expect("stdout pipe"));
    let stderr = read_in_background(child.stderr.take().expect("stderr pipe"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child test") {
            break status;
        }
        if started.elapsed() > CHILD_WAIT {
            child.kill().expect("kill the hung child test");
            child.wait().expect("reap the child test");
            // The readers may never finish (a grandchild can hold the pipes): don't join them.
            panic!("child run of {test} did not finish within {CHILD_WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = stdout.join().expect("stdout thread");
    let stderr = stderr.join().expect("stderr thread");
    assert!(
        status.success()
            && stdout.contains(&format!("test {test} ... ok"))
            && stdout.contains("test result: ok. 1 passed"),
        "child run of {test} failed ({status}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
}

fn read_in_background(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes)
            .expect("read the child's output");
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Is this process the child playing test `name`?
fn is_child(name: &str) -> bool {
    std::env::var_os(ROLE).is_some_and(|r| r == name)
}

/// No Secret Service on the bus (headless box, container): the window says so plainly, keeps the
/// typed token in memory for this run and still connects.
///
/// Child process: `DBUS_SESSION_BUS_ADDRESS` points at a socket that does not exist.
#[test]
fn gui_keyring_without_a_secret_service_keeps_the_token_for_this_run() {
    const NAME: &str = "gui_keyring_without_a_secret_service_keeps_the_token_for_this_run";
    if !is_child(NAME) {
        let dir = tempfile::tempdir().expect("temp dir");
        let address = format!("unix:path={}/no-bus", dir.path().display());
        run_child(NAME, |cmd, script| {
            cmd.args(["-c", script])
                .env("DBUS_SESSION_BUS_ADDRESS", &address);
        });
        return;
    }
    let address = std::env::var("DBUS_SESSION_BUS_ADDRESS").expect("bus address set by parent");
    let s = Session::new("nobus");
    let mut w = s.window();
    w.pump_until_label(MEMORY_ONLY);
    w.wait_for_start(s.url());
    let KeyringStatus::MemoryOnly(why) = &w.app().view().keyring else {
        panic!("expected memory-only, got {:?}", w.app().view().keyring);
    };
    // The hover text is the library's message: what to install, and the bus it tried.
    let detail = why
        .strip_prefix(NO_KEYRING)
        .unwrap_or_else(|| panic!("not the no-keyring message: {why}"));
    assert!(
        detail.starts_with("Platform failure: ") && detail.contains(&address),
        "{detail}"
    );
    assert_memory_only_connects(&s, &mut w);
    drop(w);
    // A restart has no token: memory-only means this run only.
    let mut w = s.window();
    w.pump_until_label(MEMORY_ONLY);
    w.wait_for_start(s.url());
    assert_eq!(w.app().view().token.0, "");
    assert_eq!(w.app().view().token_source, None);
}

/// The typed token works for this run, lives only in memory, and a restart has none.
fn assert_memory_only_connects(s: &Session, w: &mut Window) {
    w.type_into(Role::TextInput, "App-ID", &s.app_id);
    w.type_into(Role::PasswordInput, "Token", &s.token);
    w.test_connection();
    assert_eq!(
        w.app().view().connection,
        Connection::Connected,
        "{:#?}",
        w.log()
    );
    assert_eq!(w.storage_names(), STORAGES);
    w.assert_token_in_memory(&s.token);
    assert!(w.harness.query_by_label(MEMORY_ONLY).is_some());
    let path = s.settings_file();
    w.pump_until("settings.json with the App-ID", |_| {
        settings::load(&path).is_ok_and(|c| c.app_id == s.app_id)
    });
    let text = std::fs::read_to_string(&path).expect("read settings.json");
    assert!(!text.contains(&s.token), "token in settings.json: {text}");
}

/// A Secret Service whose login collection is locked (screen lock, no auto-unlock) and which
/// cannot prompt (no display): saving the token is refused, the window says why and keeps the
/// token for this run.
///
/// Child process in a nested `dbus-run-session` with its own gnome-keyring and temporary HOME;
/// the script locks the login collection before the test binary starts.
#[test]
fn gui_keyring_locked_collection_says_so_and_keeps_the_token_for_this_run() {
    const NAME: &str = "gui_keyring_locked_collection_says_so_and_keeps_the_token_for_this_run";
    if !is_child(NAME) {
        let home = tempfile::tempdir().expect("temp HOME");
        run_child(NAME, |cmd, exec| {
            nested_session(cmd, home.path(), Daemon::Locked, exec)
        });
        return;
    }
    assert_save_refused_keeps_the_token(
        "locked",
        "Couldn't access platform storage: SS error: prompt dismissed",
    );
}

/// A Secret Service with no login collection at all (a fresh account nobody unlocked: the
/// daemon is D-Bus-activated on first use, with an empty HOME) and no display to ask for a
/// password: as with a locked collection.
#[test]
fn gui_keyring_without_a_login_collection_says_so_and_keeps_the_token_for_this_run() {
    const NAME: &str =
        "gui_keyring_without_a_login_collection_says_so_and_keeps_the_token_for_this_run";
    if !is_child(NAME) {
        let home = tempfile::tempdir().expect("temp HOME");
        run_child(NAME, |cmd, exec| {
            nested_session(cmd, home.path(), Daemon::Activated, exec)
        });
        return;
    }
    assert_save_refused_keeps_the_token(
        "nocollection",
        "Couldn't access platform storage: SS error: result not returned from SS API",
    );
}

/// How the nested session's gnome-keyring starts.
#[derive(Clone, Copy)]
enum Daemon {
    /// Unlocked with a password, then its login collection locked over D-Bus.
    Locked,
    /// Not started by the script: D-Bus activation starts it on the first call, without any
    /// unlocked (or existing) login collection.
    Activated,
}

/// A nested `dbus-run-session` with a gnome-keyring of its own, temporary HOME/XDG dirs under
/// `home` and no display (so no unlock prompt can appear); then `exec`.
fn nested_session(cmd: &mut Command, home: &Path, daemon: Daemon, exec: &str) {
    let runtime = home.join("run");
    std::fs::create_dir(&runtime).expect("runtime dir");
    // XDG_RUNTIME_DIR must be private (basedir spec); gnome-keyring puts its socket there.
    let private = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700);
    std::fs::set_permissions(&runtime, private).expect("chmod 700 runtime dir");
    let start = match daemon {
        Daemon::Locked => {
            "printf %s ci-not-secret | gnome-keyring-daemon --unlock --components=secrets \
                 >/dev/null
             dbus-send --session --print-reply --dest=org.freedesktop.secrets \
                 /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock \
                 array:objpath:/org/freedesktop/secrets/collection/login >/dev/null || exit 90"
        }
        Daemon::Activated => "",
    };
    let script = format!("{start}\n{exec}");
    cmd.args(["-c", "exec dbus-run-session -- sh -c \"$NESTED\""])
        .env("NESTED", script)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
}

/// Child side of the locked / no-collection tests: the Secret Service answers (so the opener
/// succeeds and the lookup of a token finds none), but storing is refused because no password
/// prompt can be shown. `detail` is the platform error the message ends with.
///
/// The window then falls back to memory as when no keyring opens: the settings panel says so,
/// the log names the reason, the token is kept for this run and the connection works with it.
fn assert_save_refused_keeps_the_token(test: &str, detail: &str) {
    let s = Session::new(test);
    let mut w = s.window();
    w.wait_for_start(s.url());
    assert_eq!(w.app().view().keyring, KeyringStatus::Available);
    w.type_into(Role::TextInput, "App-ID", &s.app_id);
    w.type_into(Role::PasswordInput, "Token", &s.token);
    w.test_connection();
    assert_eq!(
        w.app().view().connection,
        Connection::Connected,
        "{:#?}",
        w.log()
    );
    assert_eq!(w.storage_names(), STORAGES);
    // The successful test tries to save the token; the Secret Service refuses.
    let message = format!("{NO_KEYRING}{detail}");
    w.pump_until("the refused save", |h| {
        h.state().view().log.iter().any(|l| l.text == message)
    });
    let line = w.app().view().log.iter().find(|l| l.text == message);
    assert_eq!(line.map(|l| l.level), Some(tracing::Level::WARN));
    w.pump_until_label(MEMORY_ONLY);
    assert_eq!(
        w.app().view().keyring,
        KeyringStatus::MemoryOnly(message.clone())
    );
    // The operator opens the log panel and reads the reason there too.
    let header = format!("Log ({})", w.app().view().log.len());
    w.harness.get_by_label(&header).click();
    w.harness.run_ok();
    assert!(
        w.harness.query_by_label(&message).is_some(),
        "the log panel shows the message"
    );
    assert!(
        !w.log().iter().any(|l| l.contains(&s.token)),
        "token logged"
    );
    // Kept for this run: in the (masked) field and in memory.
    w.assert_token_in_memory(&s.token);
    // ...and it keeps working: a second test connects with it.
    w.test_connection();
    assert_eq!(w.app().view().connection, Connection::Connected);
    assert_eq!(w.app().view().token.0, s.token);
}
