//! Keyboard shortcuts: one table ([`SHORTCUTS`]) that the input handler reads to act on keys,
//! the buttons read for their hover hints, and the help overlay (F1 or ?) lists, so what the
//! overlay says is what the keys do. Buttons with a shortcut register their widget id each
//! frame ([`Commands::shortcut_of`]); the overlay names the focused control's shortcut.

use super::command::{Commands, UiCommand};
use egui::{Key, Modifiers};

/// What a shortcut does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shortcut {
    ChooseCard,
    Ingest,
    NextClip,
    PreviousClip,
    SelectNone,
    SelectAll,
    RetryAll,
    Cancel,
    Pause,
    Settings,
    Help,
    Close,
}

/// A key (with modifiers), or a typed character (layout-independent: `?` is Shift+/ on some
/// keyboards and a key of its own on others).
#[derive(Debug, Clone, Copy)]
pub enum Binding {
    Key(Modifiers, Key),
    Text(&'static str),
}

/// One row of the table.
#[derive(Debug)]
pub struct Entry {
    pub shortcut: Shortcut,
    /// As the overlay and hover hints show the keys.
    pub keys: &'static str,
    pub what: &'static str,
    pub bindings: &'static [Binding],
    /// Whether it also acts while a text field has focus (Enter and Ctrl+A belong to the field).
    pub while_typing: bool,
}

const CMD: Modifiers = Modifiers::COMMAND;
const CMD_SHIFT: Modifiers = Modifiers {
    alt: false,
    ctrl: false,
    shift: true,
    mac_cmd: false,
    command: true,
};

/// Every shortcut, in the order the overlay lists them. Ctrl+Shift+A comes before Ctrl+A: a
/// shortcut is consumed in table order and Ctrl+A would also match with Shift held.
pub const SHORTCUTS: &[Entry] = &[
    Entry {
        shortcut: Shortcut::ChooseCard,
        keys: "Ctrl+O",
        what: "Choose a card folder (queued while an ingest runs)",
        bindings: &[Binding::Key(CMD, Key::O)],
        while_typing: true,
    },
    Entry {
        shortcut: Shortcut::Ingest,
        keys: "Enter",
        what: "Ingest the selected clips (on a clip's name: edit it, Title focused)",
        bindings: &[Binding::Key(Modifiers::NONE, Key::Enter)],
        while_typing: false,
    },
    Entry {
        shortcut: Shortcut::NextClip,
        keys: "Ctrl+↓",
        what: "Edit the next clip",
        bindings: &[Binding::Key(CMD, Key::ArrowDown)],
        while_typing: true,
    },
    Entry {
        shortcut: Shortcut::PreviousClip,
        keys: "Ctrl+↑",
        what: "Edit the previous clip",
        bindings: &[Binding::Key(CMD, Key::ArrowUp)],
        while_typing: true,
    },
    Entry {
        shortcut: Shortcut::SelectNone,
        keys: "Ctrl+Shift+A",
        what: "Select no clip",
        bindings: &[Binding::Key(CMD_SHIFT, Key::A)],
        while_typing: false,
    },
    Entry {
        shortcut: Shortcut::SelectAll,
        keys: "Ctrl+A",
        what: "Select every clip",
        bindings: &[Binding::Key(CMD, Key::A)],
        while_typing: false,
    },
    Entry {
        shortcut: Shortcut::RetryAll,
        keys: "Ctrl+R",
        what: "Retry every failed step",
        bindings: &[Binding::Key(CMD, Key::R)],
        while_typing: true,
    },
    Entry {
        shortcut: Shortcut::Cancel,
        keys: "Ctrl+.",
        what: "Cancel the ingest",
        bindings: &[Binding::Key(CMD, Key::Period)],
        while_typing: true,
    },
    Entry {
        shortcut: Shortcut::Pause,
        keys: "Ctrl+P",
        what: "Pause or resume the ingest",
        bindings: &[Binding::Key(CMD, Key::P)],
        while_typing: true,
    },
    Entry {
        shortcut: Shortcut::Settings,
        keys: "Ctrl+,",
        what: "Connection and settings",
        bindings: &[Binding::Key(CMD, Key::Comma)],
        while_typing: true,
    },
    Entry {
        shortcut: Shortcut::Help,
        keys: "F1 or ?",
        what: "These shortcuts",
        bindings: &[Binding::Key(Modifiers::NONE, Key::F1), Binding::Text("?")],
        while_typing: true,
    },
    Entry {
        shortcut: Shortcut::Close,
        keys: "Esc",
        what: "Close the editor, dialogs and this overlay",
        bindings: &[Binding::Key(Modifiers::NONE, Key::Escape)],
        while_typing: true,
    },
];

impl Shortcut {
    /// Its row of the table.
    pub fn entry(self) -> &'static Entry {
        SHORTCUTS
            .iter()
            .find(|e| e.shortcut == self)
            .expect("every shortcut has a row in SHORTCUTS")
    }

    /// What a button shows on hover: its purpose and keys.
    pub fn hint(self, what: &str) -> String {
        format!("{what} ({})", self.entry().keys)
    }

    /// The command the keys send (`help_open`: whether the overlay is showing, so F1 toggles).
    pub fn command(self, help_open: bool) -> UiCommand {
        match self {
            Shortcut::ChooseCard => UiCommand::ChooseCard,
            Shortcut::Ingest => UiCommand::StartIngest,
            Shortcut::NextClip => UiCommand::FocusNext(1),
            Shortcut::PreviousClip => UiCommand::FocusNext(-1),
            Shortcut::SelectNone => UiCommand::SelectAll(false),
            Shortcut::SelectAll => UiCommand::SelectAll(true),
            Shortcut::RetryAll => UiCommand::RetryAllFailed,
            Shortcut::Cancel => UiCommand::CancelIngest,
            Shortcut::Pause => UiCommand::TogglePause,
            Shortcut::Settings => UiCommand::ToggleSettings,
            Shortcut::Help => UiCommand::ShowHelp(!help_open),
            Shortcut::Close => UiCommand::CloseDialogs,
        }
    }
}

/// The shortcuts pressed this frame, their input consumed (`typing`: a text field has focus).
pub fn pressed(ctx: &egui::Context, typing: bool) -> Vec<Shortcut> {
    let mut hit = Vec::new();
    for entry in SHORTCUTS {
        if typing && !entry.while_typing {
            continue;
        }
        let fired = entry.bindings.iter().any(|b| match *b {
            Binding::Key(m, k) => ctx.input_mut(|i| {
                if m.is_none() {
                    i.consume_key(m, k)
                } else {
                    i.consume_shortcut(&egui::KeyboardShortcut::new(m, k))
                }
            }),
            // A typed character belongs to the text field that has focus.
            Binding::Text(t) => {
                !typing
                    && ctx.input(|i| {
                        i.events
                            .iter()
                            .any(|e| matches!(e, egui::Event::Text(x) if x == t))
                    })
            }
        });
        if fired {
            hit.push(entry.shortcut);
        }
    }
    hit
}

/// What the overlay says about the control that had keyboard focus when it opened.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FocusedControl {
    #[default]
    Nothing,
    WithShortcut(Shortcut),
    WithoutShortcut,
}

impl FocusedControl {
    /// The focused widget (`ctx.memory().focused()`) looked up in the frame's registrations.
    pub fn of(focused: Option<egui::Id>, cmds: &Commands) -> Self {
        match focused {
            None => FocusedControl::Nothing,
            Some(id) => match cmds.shortcut_at(id) {
                Some(s) => FocusedControl::WithShortcut(s),
                None => FocusedControl::WithoutShortcut,
            },
        }
    }

    pub fn line(&self) -> String {
        match self {
            FocusedControl::Nothing => {
                "No control has keyboard focus: Tab moves to the first one.".to_owned()
            }
            FocusedControl::WithShortcut(s) => {
                let e = s.entry();
                format!("The focused control: {} — {}", e.keys, e.what)
            }
            FocusedControl::WithoutShortcut => {
                "The focused control has no shortcut of its own (Space or Enter activates it)."
                    .to_owned()
            }
        }
    }
}

/// The overlay (a modal window over everything).
pub fn help_ui(ui: &mut egui::Ui, open: bool, focused: &FocusedControl, cmds: &mut Commands) {
    if !open {
        return;
    }
    let modal = egui::Modal::new(egui::Id::unique("help_overlay")).show(ui.ctx(), |ui| {
        ui.heading("Keyboard shortcuts");
        ui.label(focused.line());
        ui.add_space(4.0);
        egui::Grid::new("shortcuts_grid")
            .num_columns(2)
            .spacing([16.0, 6.0])
            .striped(true)
            .show(ui, |ui| {
                for entry in SHORTCUTS {
                    ui.strong(entry.keys);
                    ui.label(entry.what);
                    ui.end_row();
                }
            });
        ui.separator();
        if ui.button("Close help").clicked() {
            cmds.push(UiCommand::ShowHelp(false));
        }
    });
    if modal.should_close() {
        cmds.push(UiCommand::ShowHelp(false));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shortcut_has_one_row_and_a_binding() {
        let all = [
            Shortcut::ChooseCard,
            Shortcut::Ingest,
            Shortcut::NextClip,
            Shortcut::PreviousClip,
            Shortcut::SelectNone,
            Shortcut::SelectAll,
            Shortcut::RetryAll,
            Shortcut::Cancel,
            Shortcut::Pause,
            Shortcut::Settings,
            Shortcut::Help,
            Shortcut::Close,
        ];
        assert_eq!(SHORTCUTS.len(), all.len());
        for s in all {
            assert_eq!(
                SHORTCUTS.iter().filter(|e| e.shortcut == s).count(),
                1,
                "{s:?}"
            );
            assert!(!s.entry().bindings.is_empty(), "{s:?}");
        }
        assert_eq!(
            Shortcut::Ingest.hint("Register the selected clips in iconik"),
            "Register the selected clips in iconik (Enter)"
        );
    }
}
