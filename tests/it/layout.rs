//! The window at a laptop's 1024×700, the default 1280×800 and a desktop's 1920×1080, with and
//! without the settings sheet and the clip editor: reads the AccessKit tree and fails when two
//! interactive widgets overlap or the clip table's Clip, Title and Status headers or the Ingest
//! button are outside the window.

use crate::gui::{gui_in, pump_until};
use crate::util::fixtures;
use card_ingest::sample::SampleKind;
use card_ingest::secrets::EnvStore;
use card_ingest::settings::Settings;
use egui::accesskit::Role;
use egui_kittest::kittest::NodeT;
use std::time::Duration;

const SIZES: [(f32, f32); 3] = [(1024.0, 700.0), (1280.0, 800.0), (1920.0, 1080.0)];

fn interactive(role: Role) -> bool {
    matches!(
        role,
        Role::Button
            | Role::CheckBox
            | Role::TextInput
            | Role::PasswordInput
            | Role::MultilineTextInput
            | Role::ComboBox
            | Role::Link
            | Role::Slider
            | Role::SpinButton
    )
}

/// Every pair of interactive widgets whose rectangles overlap inside the window (by more than
/// a pixel each way), and the named headers/buttons that are not wholly inside it.
fn problems(
    harness: &egui_kittest::Harness<'static, card_ingest::ui::App>,
    size: egui::Vec2,
) -> Vec<String> {
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size);
    let nodes: Vec<(String, egui::Rect)> = harness
        .root()
        .children_recursive()
        .filter(|n| interactive(n.accesskit_node().role()))
        .map(|n| {
            let label = n.accesskit_node().label().unwrap_or_default();
            (
                format!("{:?} {label:?}", n.accesskit_node().role()),
                n.rect(),
            )
        })
        // Scrolled out of view or collapsed: not drawn where the operator could click.
        .filter(|(_, r)| r.width() > 0.0 && r.height() > 0.0 && window.intersects(*r))
        .collect();
    let mut out = Vec::new();
    for (i, (a, ra)) in nodes.iter().enumerate() {
        for (b, rb) in &nodes[i + 1..] {
            let o = ra.intersect(*rb);
            if o.width() > 1.0 && o.height() > 1.0 {
                out.push(format!("{a} at {ra:?} overlaps {b} at {rb:?}"));
            }
        }
    }
    for name in ["Clip", "Title", "Status"] {
        // The header: the topmost non-input node of that name (the editor has a Title field).
        let header = harness
            .root()
            .children_recursive()
            .filter(|n| {
                let node = n.accesskit_node();
                (node.label().as_deref() == Some(name) || node.value().as_deref() == Some(name))
                    && !matches!(node.role(), Role::TextInput | Role::MultilineTextInput)
            })
            .map(|n| n.rect())
            .min_by(|a, b| a.top().total_cmp(&b.top()));
        match header {
            Some(r) if window.contains_rect(r) => {}
            Some(r) => out.push(format!("column {name} at {r:?} is outside the window")),
            None => out.push(format!("column {name} is not shown")),
        }
    }
    let ingest = harness
        .root()
        .children_recursive()
        .find(|n| {
            n.accesskit_node().role() == Role::Button
                && n.accesskit_node()
                    .label()
                    .is_some_and(|l| l.starts_with("Ingest "))
        })
        .map(|n| n.rect());
    match ingest {
        Some(r) if window.contains_rect(r) => {}
        other => out.push(format!(
            "the Ingest button is not inside the window: {other:?}"
        )),
    }
    out
}

/// The window with the sample P2 card pair's two clips listed.
fn loaded_window() -> crate::gui::Gui {
    let card = fixtures().dir_of(SampleKind::P2Span).to_path_buf();
    let mut g = gui_in(
        tempfile::tempdir().expect("tempdir"),
        Settings::default(),
        vec![card],
        EnvStore::from_vars(None, None),
    );
    pump_until(&mut g.harness, Duration::from_secs(120), "the clips", |h| {
        h.state().view().card.clips.len() == 2
    });
    g
}

#[test]
fn layout_nothing_overlaps_and_the_table_fits_at_three_sizes() {
    let mut g = loaded_window();
    let mut found = Vec::new();
    for (w, h) in SIZES {
        let size = egui::vec2(w, h);
        g.harness.set_size(size);
        for (sheet, editor) in [(true, false), (false, false), (true, true), (false, true)] {
            {
                let vm = g.harness.state_mut().view_mut();
                vm.show_settings = sheet;
                vm.focused = editor.then(|| vm.card.clips[0].id().to_owned());
            }
            g.harness.run_ok();
            for p in problems(&g.harness, size) {
                found.push(format!("{w}×{h} sheet={sheet} editor={editor}: {p}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "{} problems:\n{}",
        found.len(),
        found.join("\n")
    );
}

/// Every character the window shows has a glyph in its fonts: the verdict's ✓ and ✗, arrows and
/// ellipses, and clip names and paths in Latin, Greek, Cyrillic, Hebrew and Arabic. The strings
/// are the window's own (the AccessKit tree of a loaded card) plus the verdict lines and names in
/// those scripts; CJK is left to the system's fonts (not bundled: see the README).
#[test]
fn glyphs_every_shown_character_is_drawn() {
    let g = loaded_window();
    let mut texts: Vec<String> = g
        .harness
        .root()
        .children_recursive()
        .flat_map(|n| {
            let node = n.accesskit_node();
            [node.label(), node.value()]
        })
        .flatten()
        .map(|s| s.to_string())
        .collect();
    let verdict = card_ingest::ingest::erase::Verdict {
        safe_to_erase: false,
        evidence: vec![
            card_ingest::ingest::erase::Evidence {
                met: true,
                text: "copy /mnt/raid → read back · matched…".into(),
            },
            card_ingest::ingest::erase::Evidence {
                met: false,
                text: "⚠ proxy not closed".into(),
            },
        ],
    };
    texts.extend(verdict.lines());
    texts.extend(["Café Ærø Łódź", "Αθήνα", "Москва", "ירושלים", "القاهرة"].map(String::from));
    let ctx = g.harness.ctx.clone();
    let mut missing = Vec::new();
    for text in &texts {
        for c in text.chars().filter(|c| !c.is_control()) {
            let drawn = ctx.fonts_mut(|f| f.has_glyph(&egui::FontId::proportional(14.0), c));
            if !drawn {
                missing.push(format!("{c:?} (U+{:04X}) in {text:?}", c as u32));
            }
        }
    }
    assert!(missing.is_empty(), "no glyph for:\n{}", missing.join("\n"));
}
