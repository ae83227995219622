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
/// ellipses, and clip names and paths in Latin, Greek, Cyrillic, Hebrew, Arabic and CJK. The
/// strings are the window's own (the AccessKit tree of a loaded card) plus the verdict lines and
/// names in those scripts. CJK comes from the system's fonts (found in the background after the
/// first frame): the test needs them installed (`.ci/setup` installs fonts-droid-fallback and
/// fonts-nanum).
#[test]
fn glyphs_every_shown_character_is_drawn() {
    let mut g = loaded_window();
    let has = |h: &egui_kittest::Harness<'static, card_ingest::ui::App>, c: char| {
        h.ctx
            .fonts_mut(|f| f.has_glyph(&egui::FontId::proportional(14.0), c))
    };
    pump_until(
        &mut g.harness,
        Duration::from_secs(60),
        "the system's CJK font (install them, e.g. Debian's fonts-droid-fallback and fonts-nanum)",
        |h| has(h, '東') && has(h, '서'),
    );
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
    texts.extend(
        [
            "Café Ærø Łódź",
            "Αθήνα",
            "Москва",
            "ירושלים",
            "القاهرة",
            "東京ロケ_カメラA",
            "北京 素材",
            "서울 촬영",
        ]
        .map(String::from),
    );
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

/// A toast with a long path stays inside a 1024-wide window: egui-notify lays a toast out on
/// one line, so the window breaks the text into lines first; each line with the toast's chrome
/// fits, and no word is lost.
#[test]
fn toasts_long_texts_are_broken_to_fit_the_window() {
    let ctx = egui::Context::default();
    ctx.set_fonts(card_ingest::ui::fonts::bundled());
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1024.0, 700.0),
        )),
        ..Default::default()
    };
    // The frame's font atlas changes are not uploaded anywhere here.
    ctx.run_ui(input, |_| {}).textures_delta.clear();
    let text = "Scan failed: /media/operator/A001_XDCAM_2026-12-07_second_unit_backup/XDROOT/Clip \
                does not exist or cannot be read; check that the card is still mounted and try \
                again";
    let wrapped = card_ingest::ui::app::wrap_toast(&ctx, text);
    let lines: Vec<&str> = wrapped.lines().collect();
    assert!(lines.len() > 1, "{wrapped}");
    let font = egui::TextStyle::Body.resolve(&ctx.global_style());
    for line in &lines {
        let width = ctx
            .fonts_mut(|f| f.layout_no_wrap(line.to_string(), font.clone(), egui::Color32::WHITE))
            .rect
            .width();
        assert!(
            width + card_ingest::ui::app::TOAST_CHROME <= 1024.0,
            "{line:?} is {width} px wide"
        );
    }
    let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(words(&wrapped), words(text));
    ctx.run_ui(egui::RawInput::default(), |_| {})
        .textures_delta
        .clear();
}
