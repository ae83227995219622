//! card-ingest binary: sets up logging and hands the command line to [`cli`].

// On Windows the app is a GUI program: double-clicking it (or "Open with card-ingest" on a
// folder) opens no console window. The CLI subcommands then attach to the console they were
// started from, see `attach_parent_console`.
#![cfg_attr(windows, windows_subsystem = "windows")]

mod cli;

fn main() -> std::process::ExitCode {
    #[cfg(windows)]
    attach_parent_console();
    cli::main()
}

/// A GUI-subsystem program starts without a console, so `card-ingest scan …` typed in cmd or
/// PowerShell would print nothing. Attaching to the parent's console (when there is one) gives
/// stdout/stderr back to the CLI; started from Explorer there is no parent console, the call
/// fails harmlessly and no window appears. Output redirected to a file or pipe keeps its handles.
#[cfg(windows)]
fn attach_parent_console() {
    use windows_sys::Win32::System::Console::{ATTACH_PARENT_PROCESS, AttachConsole};
    // SAFETY: AttachConsole takes a process id and only changes this process's console.
    unsafe {
        AttachConsole(ATTACH_PARENT_PROCESS);
    }
}
