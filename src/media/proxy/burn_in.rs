//! Burn-ins: source timecode (running), clip name, card name and a custom text drawn into the
//! proxy picture with ffmpeg `drawtext`, stacked in one corner, each on a dark box (issue 13).
//!
//! The font is the app's own (DejaVu Sans Mono Bold, `assets/fonts/`, Bitstream Vera licence),
//! written to the cache folder for ffmpeg's `fontfile=`, so the result is the same on every
//! machine whatever fonts it has.

use super::escape::option_value;
use crate::media::rate::Rational;
use crate::media::timecode::Timecode;
use std::path::{Path, PathBuf};

/// The embedded font (DejaVu Sans Mono Bold 2.37, unmodified; licence in assets/fonts/).
pub const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSansMono-Bold.ttf");
/// The font's file name in the cache folder.
pub const FONT_FILE: &str = "DejaVuSansMono-Bold.ttf";

/// One line of the burn-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BurnInItem {
    /// The source timecode of each frame (counts from the clip's start timecode).
    Timecode,
    /// The camera clip name.
    Clip,
    /// The card (reel) name: the card folder's name.
    Card,
    /// A fixed text.
    Text(String),
}

/// Where the lines are stacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Corner {
    TopLeft,
    TopRight,
    #[default]
    BottomLeft,
    BottomRight,
}

impl Corner {
    pub const ALL: [Corner; 4] = [
        Corner::TopLeft,
        Corner::TopRight,
        Corner::BottomLeft,
        Corner::BottomRight,
    ];

    /// The CLI/settings spelling.
    pub fn name(self) -> &'static str {
        match self {
            Corner::TopLeft => "top-left",
            Corner::TopRight => "top-right",
            Corner::BottomLeft => "bottom-left",
            Corner::BottomRight => "bottom-right",
        }
    }
}

impl std::str::FromStr for Corner {
    type Err = BurnInError;
    fn from_str(s: &str) -> Result<Corner, BurnInError> {
        Corner::ALL
            .into_iter()
            .find(|c| c.name() == s.trim())
            .ok_or_else(|| BurnInError::Corner(s.to_owned()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BurnInError {
    #[error(
        "burn-in item {0:?} is not one of timecode, clip, card, text:…  (e.g. --burn-in timecode,clip,text:DAILIES)"
    )]
    Item(String),
    #[error("burn-in list is empty: name at least one of timecode, clip, card, text:…")]
    Empty,
    #[error("burn-in corner {0:?} is not one of top-left, top-right, bottom-left, bottom-right")]
    Corner(String),
    #[error("cannot write the burn-in font {path}: {source}", path = .path.display())]
    Font {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What to burn in and where. `font` is the font file ffmpeg reads ([`install_font`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BurnIn {
    pub items: Vec<BurnInItem>,
    pub corner: Corner,
    pub font: PathBuf,
}

/// The clip's values the burn-in shows.
#[derive(Debug, Clone, Copy)]
pub struct BurnInValues<'a> {
    pub clip: &'a str,
    pub card: &'a str,
    /// The clip's start timecode ("HH:MM:SS:FF", ";" for drop-frame).
    pub start_timecode: Option<&'a str>,
    pub frame_rate: Option<Rational>,
    /// Height of the picture the text is drawn on (after scaling).
    pub height: u32,
}

/// Parses `timecode,clip,card,text:…`. A comma inside a text is written `\,`.
pub fn parse_items(list: &str) -> Result<Vec<BurnInItem>, BurnInError> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = list.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => cur.push(chars.next().unwrap_or(',')),
            ',' => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    let mut items = Vec::new();
    for part in parts {
        let word = part.trim();
        let item = match word {
            "" => continue,
            "timecode" | "tc" => BurnInItem::Timecode,
            "clip" => BurnInItem::Clip,
            "card" | "reel" => BurnInItem::Card,
            w if w.starts_with("text:") && w.len() > 5 => {
                BurnInItem::Text(clean_text(&part[part.find(':').unwrap_or(0) + 1..]))
            }
            _ => return Err(BurnInError::Item(word.to_owned())),
        };
        items.push(item);
    }
    if items.is_empty() {
        return Err(BurnInError::Empty);
    }
    Ok(items)
}

/// The list back in `parse_items` form (settings, cache key).
pub fn items_text(items: &[BurnInItem]) -> String {
    items
        .iter()
        .map(|i| match i {
            BurnInItem::Timecode => "timecode".to_owned(),
            BurnInItem::Clip => "clip".to_owned(),
            BurnInItem::Card => "card".to_owned(),
            BurnInItem::Text(t) => format!("text:{}", t.replace(',', "\\,")),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Control characters would draw as boxes or break the line layout.
fn clean_text(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// Writes the embedded font into `dir` (once; rewritten when its size differs) and returns its
/// path for [`BurnIn::font`].
pub fn install_font(dir: &Path) -> Result<PathBuf, BurnInError> {
    let path = dir.join(FONT_FILE);
    let err = |source| BurnInError::Font {
        path: path.clone(),
        source,
    };
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == FONT.len() as u64) {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).map_err(err)?;
    crate::atomic_write::write_atomic(&path, FONT).map_err(err)?;
    Ok(path)
}

/// Font size in pixels for a picture `height` lines tall: readable on a 540p proxy, small
/// enough that four lines leave the picture mostly free.
pub fn font_size(height: u32) -> u32 {
    (height / 24).max(14)
}

impl BurnIn {
    /// The `drawtext` filters (comma-joined, for the video chain) and warnings for items that
    /// cannot be drawn (a timecode without a frame rate).
    pub fn filters(&self, v: &BurnInValues) -> (String, Vec<String>) {
        let mut warnings = Vec::new();
        let mut lines: Vec<(String, &BurnInItem)> = Vec::new();
        for item in &self.items {
            let opt = match item {
                BurnInItem::Timecode => {
                    let Some(rate) = v.frame_rate else {
                        warnings.push("burn-in: frame rate unknown, no timecode drawn".into());
                        continue;
                    };
                    let tc = match v.start_timecode.and_then(Timecode::parse) {
                        Some(tc) => tc.to_string(),
                        None => {
                            warnings.push(
                                "burn-in: no start timecode, counted from 00:00:00:00".into(),
                            );
                            "00:00:00:00".to_owned()
                        }
                    };
                    format!("timecode={}:rate={rate}", option_value(&tc))
                }
                BurnInItem::Clip => format!("text={}", option_value(v.clip)),
                BurnInItem::Card => format!("text={}", option_value(v.card)),
                BurnInItem::Text(t) => format!("text={}", option_value(t)),
            };
            lines.push((opt, item));
        }
        let size = font_size(v.height);
        let border = (size / 5).max(2);
        let margin = size / 2;
        let pitch = size + 2 * border + border / 2;
        let n = lines.len() as u32;
        let x = match self.corner {
            Corner::TopLeft | Corner::BottomLeft => format!("{}", margin + border),
            Corner::TopRight | Corner::BottomRight => format!("w-tw-{}", margin + border),
        };
        let filters: Vec<String> = lines
            .iter()
            .enumerate()
            .map(|(i, (opt, _))| {
                let i = i as u32;
                let y = match self.corner {
                    Corner::TopLeft | Corner::TopRight => {
                        format!("{}", margin + border + i * pitch)
                    }
                    Corner::BottomLeft | Corner::BottomRight => {
                        format!("h-{}", margin + (n - i) * pitch - border)
                    }
                };
                format!(
                    "drawtext=fontfile={font}:{opt}:expansion=none:fontsize={size}:\
                     fontcolor=white:box=1:boxcolor=black@0.65:boxborderw={border}:x={x}:y={y}",
                    font = option_value(&self.font.to_string_lossy()),
                )
            })
            .collect();
        (filters.join(","), warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn values() -> BurnInValues<'static> {
        BurnInValues {
            clip: "0001AB",
            card: "CARD_A",
            start_timecode: Some("10:00:00:00"),
            frame_rate: Rational::new(25, 1),
            height: 720,
        }
    }

    #[test]
    fn parses_items_and_rejects_unknown_ones() {
        assert_eq!(
            parse_items("timecode, clip,card,text:DAY 1\\, UNIT B").unwrap(),
            vec![
                BurnInItem::Timecode,
                BurnInItem::Clip,
                BurnInItem::Card,
                BurnInItem::Text("DAY 1, UNIT B".into())
            ]
        );
        let err = parse_items("timecode,scene").unwrap_err().to_string();
        assert!(err.contains("\"scene\""), "{err}");
        assert!(matches!(parse_items(" , "), Err(BurnInError::Empty)));
        assert!(parse_items("text:").is_err());
        let items = parse_items("clip,text:a\\,b").unwrap();
        assert_eq!(parse_items(&items_text(&items)).unwrap(), items);
        assert_eq!("top-right".parse::<Corner>().unwrap(), Corner::TopRight);
        assert!("middle".parse::<Corner>().is_err());
    }

    #[test]
    fn filters_stack_lines_in_the_corner_with_running_timecode() {
        let b = BurnIn {
            items: vec![BurnInItem::Timecode, BurnInItem::Clip],
            corner: Corner::BottomRight,
            font: PathBuf::from("/cache/f.ttf"),
        };
        let (f, warnings) = b.filters(&values());
        assert!(warnings.is_empty());
        let parts: Vec<&str> = f.split(",drawtext=").collect();
        assert_eq!(parts.len(), 2, "{f}");
        assert!(
            parts[0].starts_with(
                "drawtext=fontfile='/cache/f.ttf':timecode='10\\:00\\:00\\:00':rate=25:"
            ),
            "{f}"
        );
        // 720 lines: 30 px text, 6 px box border, 15 px margin, 45 px pitch.
        assert!(parts[0].ends_with(":x=w-tw-21:y=h-99"), "{f}");
        assert!(parts[1].contains("text='0001AB'"), "{f}");
        assert!(parts[1].ends_with(":x=w-tw-21:y=h-54"), "{f}");
        let none = BurnInValues {
            frame_rate: None,
            ..values()
        };
        let (f, warnings) = b.filters(&none);
        assert_eq!(f.matches("drawtext").count(), 1);
        assert!(warnings[0].contains("frame rate unknown"));
    }

    /// Real ffmpeg accepts the filters, with a clip name full of graph syntax, and draws.
    #[test]
    fn ffmpeg_draws_awkward_text() {
        let Some(ffmpeg) = crate::media::Tools::detect().ffmpeg else {
            eprintln!("ffmpeg not found: skipped");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let font_dir = dir.path().join("fo:nts");
        let font = install_font(&font_dir).unwrap();
        assert_eq!(std::fs::read(&font).unwrap(), FONT);
        let b = BurnIn {
            items: parse_items("timecode,clip,card,text:50% it's [a;b]\\, c:d").unwrap(),
            corner: Corner::TopLeft,
            font,
        };
        let v = BurnInValues {
            clip: "A:B'C\\D,E",
            height: 180,
            ..values()
        };
        let (chain, _) = b.filters(&v);
        let graph = format!("[0:v]{chain},format=yuv420p[v]");
        let run = |graph: &str| {
            Command::new(&ffmpeg)
                .args(["-v", "error", "-f", "lavfi", "-i"])
                .arg("color=c=black:s=320x180:d=0.2:r=25")
                .args(["-filter_complex", graph, "-map", "[v]", "-frames:v", "1"])
                .args(["-f", "rawvideo", "-pix_fmt", "gray", "-"])
                .output()
                .unwrap()
        };
        let out = run(&graph);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lit = out.stdout.iter().filter(|&&p| p > 128).count();
        assert!(lit > 200, "only {lit} bright pixels: no text drawn");
    }
}
