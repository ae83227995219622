//! Command-line front end: one file per subcommand. The only place (with `main`) that uses
//! `anyhow`; library modules return their own typed errors.

mod demo;
mod gui;
mod ingest;
mod login;
mod sample;
mod sandbox;
mod scan;
mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "card-ingest",
    version,
    about = "Register camera-card clips in iconik as complete assets",
    long_about = "Register camera-card clips in iconik as complete assets.\n\n\
        Without a subcommand, opens the window (with PATH...: scans those card folders).",
    args_conflicts_with_subcommands = true,
    // Our own --version also lists the media tools' versions.
    disable_version_flag = true
)]
struct Cli {
    /// Print the version of card-ingest and of ffmpeg, ffprobe and MediaInfo.
    #[arg(short = 'V', long)]
    version: bool,
    #[command(subcommand)]
    command: Option<Command>,
    /// Card folders to open in the window (same as `card-ingest gui PATH...`).
    #[arg(value_name = "PATH")]
    paths: Vec<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open the window: connect, drop a card, preview, edit, ingest (the default).
    Gui(gui::GuiArgs),
    /// Write a sample P2 card pair and scan it: the whole flow without a camera card.
    Demo(demo::DemoArgs),
    /// Register every clip of the cards in PATH... in iconik (resumable; `--sandbox` to try it).
    Ingest(Box<ingest::IngestArgs>),
    /// Find the cards in PATH... and list their clips, files and metadata.
    Scan(scan::ScanArgs),
    /// Run the local iconik-compatible sandbox server.
    Sandbox(sandbox::SandboxArgs),
    /// Write synthetic camera cards (P2, XDCAM, GoPro, ...) to try `scan` on.
    Sample(sample::SampleArgs),
    /// Store the iconik Auth-Token for a server in the OS keyring (token read from stdin).
    Login(login::LoginArgs),
    /// Remove the iconik token for a server from the OS keyring.
    Logout(login::LogoutArgs),
    /// Check copies again: re-read every file of DEST... against its ASC MHL, repair a bad one
    /// from the card or another DEST, record the check as a new MHL generation.
    Verify(verify::VerifyArgs),
}

pub fn main() -> ExitCode {
    let log = init_tracing();
    // Parsed through `ArgMatches` so `ingest --preset` can tell a flag given on the command
    // line from one left at its default (only the given ones override the preset).
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let mut cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    if let Some(Command::Ingest(args)) = &mut cli.command
        && let Some(("ingest", sub)) = matches.subcommand()
    {
        args.note_given(sub);
    }
    if cli.version {
        print_version();
        return ExitCode::SUCCESS;
    }
    let result = match cli.command {
        Some(Command::Demo(args)) => demo::run(args),
        Some(Command::Ingest(args)) => ingest::run(*args),
        Some(Command::Scan(args)) => scan::run(args),
        Some(Command::Sandbox(args)) => sandbox::run(args),
        Some(Command::Sample(args)) => sample::run(args),
        Some(Command::Login(args)) => login::run_login(args),
        Some(Command::Logout(args)) => login::run_logout(args),
        Some(Command::Verify(args)) => verify::run(args),
        Some(Command::Gui(args)) => gui::run(args, log),
        None => gui::check_bare_paths(&cli.paths).and_then(|()| {
            gui::run(
                gui::GuiArgs {
                    paths: cli.paths,
                    ..gui::GuiArgs::default()
                },
                log,
            )
        }),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("card-ingest: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// The media tools, with any paths set in the window's settings (shared with the CLI) taking
/// precedence over the environment, the executable's folder and `PATH`.
pub(crate) fn detect_tools() -> card_ingest::media::Tools {
    card_ingest::media::Tools::detect_with(&tool_paths())
}

/// The media tool paths set in the window's settings (none when there are no settings).
pub(crate) fn tool_paths() -> card_ingest::media::tools::ToolPaths {
    card_ingest::settings::AppDirs::from_os()
        .and_then(|dirs| card_ingest::settings::load(&dirs.settings_file()).ok())
        .unwrap_or_default()
        .tools
}

/// Warns on stderr about each missing media tool (what it is for, how to install it here).
pub(crate) fn warn_missing_tools(tools: &card_ingest::media::Tools) {
    for missing in tools.missing() {
        eprintln!("warning: {}", missing.message);
    }
}

/// `card-ingest --version`: the app's version, then each media tool's version or "not found".
fn print_version() {
    println!("card-ingest {}", env!("CARGO_PKG_VERSION"));
    for line in detect_tools().version_lines() {
        println!("{line}");
    }
}

/// Logs go to stderr so that `--json` output on stdout stays machine-readable. The window's log
/// panel gets the library's INFO and above through the returned buffer (unused by other
/// subcommands).
fn init_tracing() -> card_ingest::log_capture::LogBuffer {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_env("CARD_INGEST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let buffer = card_ingest::log_capture::LogBuffer::new();
    let panel =
        tracing_subscriber::filter::Targets::new().with_target("card_ingest", tracing::Level::INFO);
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                // Colour codes only for a terminal: a log file or a pipe gets plain text.
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_filter(filter),
        )
        .with(buffer.layer().with_filter(panel))
        .init();
    buffer
}
