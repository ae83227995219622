//! The window's fonts. egui's own fonts cover Latin; a bundled DejaVu Sans behind them draws
//! ✓ ✗ → ⚠ and Greek, Cyrillic, Hebrew and Arabic; CJK comes from the system's fonts (a CJK
//! font is 5–20 MB, too much to bundle), found by name with `fontdb`.
//!
//! egui lays text out left to right without shaping: Hebrew and Arabic names show their
//! letters, in isolated forms and logical order (no bidi in egui as of 0.37).

use std::sync::Arc;

/// DejaVu Sans (2.37, unmodified; licence in assets/fonts/).
const DEJAVU: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// System fonts with CJK (Han, kana, Hangul) coverage, most complete first: Linux (Noto/Source
/// Han, Droid Sans Fallback, WenQuanYi), macOS, Windows.
const CJK_FAMILIES: &[&str] = &[
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "Source Han Sans",
    "Droid Sans Fallback",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Hiragino Sans",
    "Apple SD Gothic Neo",
    "Microsoft YaHei",
    "Yu Gothic",
    "Malgun Gothic",
    "NanumGothic",
    "UnDotum",
    "MS Gothic",
    "SimSun",
    "Arial Unicode MS",
];

/// egui's fonts with DejaVu Sans after them in both families.
pub fn bundled() -> egui::FontDefinitions {
    let mut fonts = egui::FontDefinitions::default();
    push_fallback(
        &mut fonts,
        "DejaVuSans",
        egui::FontData::from_static(DEJAVU),
    );
    fonts
}

/// One character of each CJK script: a font is added while it draws one the others lack.
const CJK_SAMPLES: [(char, &str); 3] = [('東', "Han"), ('カ', "kana"), ('서', "Hangul")];

/// [`bundled`] plus system fonts that draw Han, kana and Hangul (as few as cover them; none
/// found: the bundled ones alone, logged). Scans the system's font folders: call it off the
/// UI thread.
pub fn with_system_fallbacks() -> egui::FontDefinitions {
    let mut fonts = bundled();
    let found = system_cjk();
    for (name, data) in found.fonts {
        tracing::debug!(font = %name, "CJK text drawn with a system font");
        push_fallback(&mut fonts, &name, data);
    }
    if !found.missing.is_empty() {
        tracing::info!(
            "no system font draws {} (install e.g. Noto Sans CJK): those names show as boxes",
            found.missing.join(", ")
        );
    }
    fonts
}

fn push_fallback(fonts: &mut egui::FontDefinitions, name: &str, data: egui::FontData) {
    fonts.font_data.insert(name.to_owned(), Arc::new(data));
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts
            .families
            .entry(family)
            .or_default()
            .push(name.to_owned());
    }
}

struct SystemCjk {
    fonts: Vec<(String, egui::FontData)>,
    /// Scripts no installed font draws.
    missing: Vec<&'static str>,
}

/// Installed families of [`CJK_FAMILIES`], in order, each kept while it draws a script the
/// earlier ones did not (a .ttc holds several faces: the face's index goes with its bytes).
fn system_cjk() -> SystemCjk {
    let mut db = fontdb::Database::new();
    db.load_system_fonts();
    let mut missing: Vec<(char, &str)> = CJK_SAMPLES.to_vec();
    let mut fonts = Vec::new();
    for family in CJK_FAMILIES {
        if missing.is_empty() {
            break;
        }
        let query = fontdb::Query {
            families: &[fontdb::Family::Name(family)],
            ..fontdb::Query::default()
        };
        let Some(id) = db.query(&query) else { continue };
        let picked = db.with_face_data(id, |bytes, index| {
            let face = ttf_parser::Face::parse(bytes, index).ok()?;
            let before = missing.len();
            missing.retain(|(c, _)| face.glyph_index(*c).is_none());
            (missing.len() < before).then(|| {
                let mut data = egui::FontData::from_owned(bytes.to_vec());
                data.index = index;
                data
            })
        });
        if let Some(Some(data)) = picked {
            fonts.push(((*family).to_owned(), data));
        }
    }
    SystemCjk {
        fonts,
        missing: missing.into_iter().map(|(_, script)| script).collect(),
    }
}
