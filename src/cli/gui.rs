//! `card-ingest gui [PATH...]` (also `card-ingest` alone or `card-ingest PATH...`): opens the
//! operator's window. Loads the settings, builds the tokio runtime that runs beside eframe
//! (rust-stack.md §10), and hands both to [`card_ingest::ui::run`].

use anyhow::Context;
use card_ingest::instance::{self, HandOver};
use card_ingest::log_capture::LogBuffer;
use card_ingest::secrets::{EnvStore, KeyringStore};
use card_ingest::settings::{self, AppDirs, Settings};
use card_ingest::ui::{self, Startup};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args, Default)]
pub struct GuiArgs {
    /// Card folders to scan as soon as the window opens.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// A folder with iconik's OpenAPI files replacing the copy built into card-ingest for the
    /// built-in sandbox's request validation.
    #[arg(long = "spec", value_name = "DIR")]
    pub spec_dir: Option<PathBuf>,
    /// Open a window of its own even when one already runs (by default PATH... goes to the
    /// running window, which scans or queues them, and this command exits).
    #[arg(long)]
    pub new_window: bool,
}

pub fn run(args: GuiArgs, log: LogBuffer) -> anyhow::Result<ExitCode> {
    // One window per user: hand the folders to the one that runs.
    let mut arrivals = None;
    if !args.new_window {
        let endpoint = instance::Endpoint::for_user();
        match instance::hand_over(&endpoint, &args.paths) {
            Ok(HandOver::Delivered(0)) => {
                println!("card-ingest: the running card-ingest window was brought to the front");
                return Ok(ExitCode::SUCCESS);
            }
            Ok(HandOver::Delivered(n)) => {
                println!(
                    "card-ingest: handed {n} folder{} to the running card-ingest window",
                    if n == 1 { "" } else { "s" }
                );
                return Ok(ExitCode::SUCCESS);
            }
            Ok(HandOver::NoWindow) => {}
            Err(e) => tracing::warn!("{e}; opening a window of its own"),
        }
        let (channel, send) = ui::Arrivals::channel();
        match instance::listen(&endpoint, send) {
            Ok(l) => {
                tracing::debug!(socket = %l.name, "later card-ingest commands hand folders here");
                arrivals = Some(channel);
            }
            Err(e) => tracing::warn!("{e}; a second card-ingest command opens a second window"),
        }
    }
    let dirs = AppDirs::from_os()
        .context("the OS gives no home folder for card-ingest's settings (set HOME)")?;
    let mut notices = Vec::new();
    let settings = match settings::load(&dirs.settings_file()) {
        Ok(s) => s,
        Err(err) => {
            notices.push(format!("{err}; using default settings"));
            Settings::default()
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("card-ingest-worker")
        .enable_all()
        .build()
        .context("cannot start the background runtime")?;
    let startup = Startup {
        settings,
        dirs,
        paths: args.paths,
        keyring: Box::new(KeyringStore::open),
        env: EnvStore::from_process_env(),
        spec_dir: args.spec_dir,
        notices,
        log: Some(log),
        arrivals,
        mounts: Some(Box::new(card_ingest::volumes::SystemMounts)),
    };
    ui::run(startup, rt.handle().clone())
        .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))?;
    // Background jobs (a scan, a poster grab) may still run: give them a moment, then leave.
    rt.shutdown_timeout(Duration::from_secs(2));
    Ok(ExitCode::SUCCESS)
}

/// Bare `card-ingest PATH...`: every PATH must exist, so a mistyped subcommand is reported
/// instead of opening a window that scans a folder named like it.
pub fn check_bare_paths(paths: &[PathBuf]) -> anyhow::Result<()> {
    for p in paths {
        if !p.exists() {
            anyhow::bail!(
                "`{}` is neither a subcommand nor an existing folder (see `card-ingest --help`)",
                p.display()
            );
        }
    }
    Ok(())
}
