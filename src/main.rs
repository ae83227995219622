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
/// fails harmlessly and no window appears. Output already redirected to a file or pipe
/// (`card-ingest scan --json … > out.json`) keeps its handles: only missing ones make us attach.
#[cfg(windows)]
fn attach_parent_console() {
    use windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE;
    use windows_sys::Win32::System::Console::{
        ATTACH_PARENT_PROCESS, AttachConsole, GetStdHandle, STD_ERROR_HANDLE, STD_OUTPUT_HANDLE,
    };
    // SAFETY: GetStdHandle only reads this process's standard handles; AttachConsole takes a
    // process id and only changes this process's console.
    unsafe {
        let missing =
            |h: windows_sys::Win32::Foundation::HANDLE| h.is_null() || h == INVALID_HANDLE_VALUE;
        if missing(GetStdHandle(STD_OUTPUT_HANDLE)) || missing(GetStdHandle(STD_ERROR_HANDLE)) {
            AttachConsole(ATTACH_PARENT_PROCESS);
        }
    }
}
