//! What the panels ask for. Panels never act: they push a [`UiCommand`] into [`Commands`], and
//! [`super::app::App`] applies them all at the end of the frame (state changes, or a job for the
//! background worker). Plain field edits (text boxes, checkboxes) go straight into the view model.

use std::path::PathBuf;

/// One intent from a panel.
#[derive(Debug, Clone, PartialEq)]
pub enum UiCommand {
    /// List the storages of the configured server with the typed App-ID and token.
    TestConnection,
    /// Save the typed App-ID + token for the configured server (keyring, or memory this run).
    SaveToken,
    /// Remove the stored token of the configured server.
    ForgetToken,
    /// Start the in-process sandbox, connect to it, and load a sample card if none is loaded.
    TrySandbox,
    /// Pick the storage for originals (its id) and prefill its mount folder.
    PickStorage(String),
    /// Open the native folder picker (on the worker; the UI never blocks on it).
    ChooseCard,
    /// Scan these folders (dropped, chosen, or from the command line).
    LoadPaths(Vec<PathBuf>),
    /// Forget the loaded card.
    ClearCard,
    /// A row became visible: grab its poster in the background.
    RequestPoster(String),
    /// Tick or untick every ingestable clip.
    SelectAll(bool),
    /// Show only this card's clips in the table (`None`: every card's).
    FilterCard(Option<PathBuf>),
    /// Show this clip in the editor (its Title focused).
    Focus(String),
    /// Show the next (1) or previous (-1) clip of the list in the editor.
    FocusNext(isize),
    /// Reset every edit of one clip.
    ResetClip(String),
    /// Apply the ticked bulk fields to every selected clip.
    ApplyBulk,
    /// Start the ingest of the selected clips.
    StartIngest,
    /// Stop the running ingest safely.
    CancelIngest,
    /// Pause the running ingest, or resume it.
    TogglePause,
    /// Redo a failed step of one clip and continue.
    RetryStep {
        clip_id: String,
        step: crate::ingest::Step,
    },
    /// Redo the failed step of every failed clip.
    RetryAllFailed,
    /// End the card jobs that wait for retries of failed clips; their reports get written.
    FinishIngest,
    /// Open a card's HTML report with the system's browser.
    OpenReport(PathBuf),
    /// Re-read a finished card's copies against their ASC MHL and repair what no longer
    /// matches; the report (its HTML path) is written again with the outcome.
    CheckCopies(PathBuf),
    /// Show the run's API transcript (curl commands, token redacted) in a window.
    ShowTranscript(PathBuf),
    /// Load the cards of unfinished journals and resume their clips.
    ResumeUnfinished,
    /// Hide the offer to resume unfinished cards (this run).
    DismissUnfinished,
    /// The operator confirmed quitting while an ingest runs.
    QuitAnyway,
    /// Close open dialogs / the editor (Esc).
    CloseDialogs,
    /// Look for ffmpeg, ffprobe and MediaInfo again (with the paths in the settings).
    CheckTools,
    /// Ingest the first card waiting in the queue now.
    StartNextCard,
    /// Unmount and power off this card (safe to erase; the worker runs the OS command).
    Eject(PathBuf),
    /// Open or close the connection and settings sheet.
    ToggleSettings,
    /// Open (true) or close the keyboard-shortcut overlay.
    ShowHelp(bool),
    /// Switch how proxies are made (the missing-ffmpeg banner's way forward).
    UseProxy(crate::settings::ProxyChoice),
    /// List, load, save, export or import presets (on the worker).
    Preset(super::presets::PresetAction),
}

/// The frame's command list, and which widgets stand for a keyboard shortcut this frame.
#[derive(Debug, Default)]
pub struct Commands {
    commands: Vec<UiCommand>,
    shortcuts: Vec<(egui::Id, super::help::Shortcut)>,
}

impl Commands {
    pub fn push(&mut self, command: UiCommand) {
        self.commands.push(command);
    }

    /// Takes the frame's commands, leaving the list empty.
    pub fn take(&mut self) -> Vec<UiCommand> {
        std::mem::take(&mut self.commands)
    }

    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// This widget does what `shortcut` does (the help overlay names it when it has focus).
    pub fn shortcut_of(&mut self, id: egui::Id, shortcut: super::help::Shortcut) {
        self.shortcuts.push((id, shortcut));
    }

    /// The shortcut of the widget `id`, as registered this frame.
    pub fn shortcut_at(&self, id: egui::Id) -> Option<super::help::Shortcut> {
        self.shortcuts
            .iter()
            .find(|(w, _)| *w == id)
            .map(|(_, s)| *s)
    }

    /// Forgets the registrations (at the start of a frame: the widgets register again).
    pub fn clear_shortcuts(&mut self) {
        self.shortcuts.clear();
    }
}
