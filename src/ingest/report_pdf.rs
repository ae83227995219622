//! The ingest report as a PDF, written beside the HTML page: the same summary, safe-to-erase
//! verdict with its evidence, offload copies and clips with their poster thumbnails and files,
//! for the producer's or the insurer's folder. Written with `pdf-writer` (no browser, no fonts
//! to ship): the PDF base-14 fonts (Helvetica, Courier) in WinAnsi encoding, the posters'
//! JPEG bytes passed through as they are (DCTDecode). Characters outside WinAnsi print as `?`.

use super::report::{CardReport, ReportError, format_bytes, format_duration_ms};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};
use std::path::Path;

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 42.0;

#[derive(Clone, Copy)]
enum Font {
    Regular,
    Bold,
    Mono,
}

impl Font {
    fn name(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
            Font::Mono => Name(b"F3"),
        }
    }
    /// Average glyph width in ems, for wrapping (Courier's is exact; Helvetica's a safe guess).
    fn em(self) -> f32 {
        match self {
            Font::Regular => 0.53,
            Font::Bold => 0.58,
            Font::Mono => 0.6,
        }
    }
}

/// Text as WinAnsi bytes (Latin-1 is its upper half; anything else becomes `?`).
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match u32::from(c) {
            0x20..=0x7E | 0xA0..=0xFF => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

/// Width and height of a baseline or progressive JPEG, from its SOF marker.
fn jpeg_size(j: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 9 < j.len() {
        if j[i] != 0xFF {
            return None;
        }
        let marker = j[i + 1];
        let len = usize::from(u16::from_be_bytes([j[i + 2], j[i + 3]]));
        if matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF) {
            let h = u16::from_be_bytes([j[i + 5], j[i + 6]]);
            let w = u16::from_be_bytes([j[i + 7], j[i + 8]]);
            return Some((u32::from(w), u32::from(h)));
        }
        i += 2 + len;
    }
    None
}

fn image_name(index: usize) -> String {
    format!("Im{index}")
}

/// A top-down page flow: lines of text and images, new pages as needed.
struct Flow {
    pages: Vec<(Content, Vec<usize>)>,
    y: f32,
    images: Vec<(Vec<u8>, u32, u32)>,
}

impl Flow {
    fn new() -> Self {
        let mut f = Flow {
            pages: Vec::new(),
            y: 0.0,
            images: Vec::new(),
        };
        f.new_page();
        f
    }

    fn new_page(&mut self) {
        self.pages.push((Content::new(), Vec::new()));
        self.y = PAGE_H - MARGIN;
    }

    fn room(&mut self, height: f32) {
        if self.y - height < MARGIN {
            self.new_page();
        }
    }

    fn content(&mut self) -> &mut Content {
        &mut self.pages.last_mut().expect("a page").0
    }

    /// One line at `x`, no wrapping.
    fn text_at(&mut self, x: f32, y: f32, font: Font, size: f32, rgb: (f32, f32, f32), text: &str) {
        let c = self.content();
        c.set_fill_rgb(rgb.0, rgb.1, rgb.2);
        c.begin_text();
        c.set_font(font.name(), size);
        c.next_line(x, y);
        c.show(Str(&win_ansi(text)));
        c.end_text();
    }

    /// Wrapped text from the left margin (plus `indent`).
    fn para(&mut self, font: Font, size: f32, rgb: (f32, f32, f32), indent: f32, text: &str) {
        let width = PAGE_W - 2.0 * MARGIN - indent;
        let per_line = ((width / (size * font.em())) as usize).max(10);
        let chars: Vec<char> = text.chars().collect();
        let mut start = 0;
        while start < chars.len() || start == 0 {
            let mut end = (start + per_line).min(chars.len());
            if end < chars.len()
                && let Some(space) = chars[start..end].iter().rposition(|c| *c == ' ')
                && space > per_line / 3
            {
                end = start + space + 1;
            }
            let line: String = chars[start..end].iter().collect();
            self.room(size * 1.3);
            self.y -= size * 1.3;
            self.text_at(MARGIN + indent, self.y, font, size, rgb, line.trim_end());
            if end >= chars.len() {
                break;
            }
            start = end;
        }
    }

    fn gap(&mut self, h: f32) {
        self.y -= h;
    }

    /// A JPEG `w` points wide at the left margin (plus `indent`), top at the current line.
    fn image(&mut self, jpeg: &[u8], indent: f32, w: f32) -> f32 {
        let Some((px_w, px_h)) = jpeg_size(jpeg) else {
            return 0.0;
        };
        let h = w * px_h as f32 / px_w.max(1) as f32;
        self.room(h + 4.0);
        let index = self.images.len();
        self.images.push((jpeg.to_vec(), px_w, px_h));
        let name = image_name(index);
        let y = self.y - h;
        let page = self.pages.last_mut().expect("a page");
        page.1.push(index);
        page.0.save_state();
        page.0.transform([w, 0.0, 0.0, h, MARGIN + indent, y]);
        page.0.x_object(Name(name.as_bytes()));
        page.0.restore_state();
        h
    }
}

const BLACK: (f32, f32, f32) = (0.1, 0.1, 0.1);
const GREY: (f32, f32, f32) = (0.4, 0.4, 0.4);
const GREEN: (f32, f32, f32) = (0.1, 0.45, 0.15);
const RED: (f32, f32, f32) = (0.75, 0.1, 0.1);

/// The report as PDF bytes.
pub fn render_pdf(report: &CardReport) -> Vec<u8> {
    let mut f = Flow::new();
    let counts = report.counts();
    f.para(
        Font::Bold,
        15.0,
        BLACK,
        0.0,
        &format!("card-ingest report: {}", report.card_root.to_string_lossy()),
    );
    f.gap(4.0);
    let mut summary = vec![
        ("Family", report.card_family.clone()),
        ("Server", report.server.clone()),
        (
            "Preset",
            report.preset.clone().unwrap_or_else(|| "none".to_owned()),
        ),
        ("Clips", counts.line()),
        (
            "Total size",
            format!(
                "{} ({} bytes)",
                format_bytes(report.total_bytes()),
                report.total_bytes()
            ),
        ),
        (
            "Started",
            report
                .started_at
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string(),
        ),
        ("Duration", format_duration_ms(report.duration_ms())),
    ];
    if let Some(rate) = report.throughput_bytes_per_s() {
        summary.push(("Throughput", format!("{}/s", format_bytes(rate as u64))));
    }
    if let Some(m) = &report.manifest_path {
        summary.push(("ASC MHL manifest", m.to_string_lossy().into_owned()));
    }
    summary.push(("Tool", report.tool_version.clone()));
    for (k, v) in summary {
        f.para(Font::Regular, 9.5, BLACK, 0.0, &format!("{k}: {v}"));
    }

    if let Some(v) = &report.verdict {
        f.gap(8.0);
        let (title, colour) = if v.safe_to_erase {
            ("SAFE TO ERASE", GREEN)
        } else {
            ("NOT SAFE TO ERASE", RED)
        };
        f.para(Font::Bold, 13.0, colour, 0.0, title);
        for e in &v.evidence {
            let (mark, colour) = if e.met {
                ("[ok]", GREEN)
            } else {
                ("[missing]", RED)
            };
            f.para(
                Font::Regular,
                9.0,
                colour,
                8.0,
                &format!("{mark} {}", e.text),
            );
        }
    }

    if !report.offload.is_empty() {
        f.gap(8.0);
        f.para(Font::Bold, 12.0, BLACK, 0.0, "Offload");
        for c in &report.offload {
            f.para(
                Font::Mono,
                8.0,
                BLACK,
                8.0,
                &c.destination.to_string_lossy(),
            );
            let result = if c.failed.is_empty() {
                "all matched".to_owned()
            } else {
                format!("{} differ: {}", c.failed.len(), c.failed.join(", "))
            };
            f.para(
                Font::Regular,
                8.5,
                if c.failed.is_empty() { BLACK } else { RED },
                16.0,
                &format!(
                    "{} files, {}; {}; {}",
                    c.files,
                    format_bytes(c.bytes),
                    c.verify_description,
                    result
                ),
            );
            if let Some(from) = &c.renamed_from {
                f.para(
                    Font::Regular,
                    8.5,
                    GREY,
                    16.0,
                    &format!("{} held another card of that name", from.to_string_lossy()),
                );
            }
            f.para(
                Font::Mono,
                7.5,
                GREY,
                16.0,
                &format!("MHL {}", c.mhl.to_string_lossy()),
            );
        }
    }

    f.gap(8.0);
    f.para(Font::Bold, 12.0, BLACK, 0.0, "Clips");
    for clip in &report.clips {
        f.gap(6.0);
        // The poster on the left (it may start a new page), the clip's lines beside it.
        let poster_h = clip
            .poster_jpeg
            .as_deref()
            .map_or(0.0, |jpeg| f.image(jpeg, 0.0, 96.0));
        let text_indent = if poster_h > 0.0 { 106.0 } else { 0.0 };
        let image_bottom = f.y - poster_h;
        f.para(
            Font::Bold,
            10.5,
            BLACK,
            text_indent,
            &format!("{}  ({})", clip.name, clip.status.label()),
        );
        f.para(Font::Regular, 9.0, BLACK, text_indent, &clip.title);
        if let Some(id) = &clip.asset_id {
            f.para(Font::Mono, 7.5, GREY, text_indent, &format!("asset {id}"));
        }
        let size: u64 = clip.files.iter().map(|x| x.size_bytes).sum();
        f.para(
            Font::Regular,
            8.5,
            GREY,
            text_indent,
            &format!("{} files, {}", clip.files.len(), format_bytes(size)),
        );
        if let Some(err) = &clip.error {
            f.para(Font::Regular, 8.5, RED, text_indent, err);
        }
        for w in &clip.warnings {
            f.para(Font::Regular, 8.5, GREY, text_indent, w);
        }
        if f.y > image_bottom {
            f.y = image_bottom;
        }
        for file in &clip.files {
            f.para(
                Font::Mono,
                6.5,
                BLACK,
                8.0,
                &format!(
                    "{}  {} B  md5 {}",
                    file.path,
                    file.size_bytes,
                    file.md5.as_deref().unwrap_or("-")
                ),
            );
        }
    }
    finish(f)
}

fn finish(f: Flow) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let fonts = [Ref::new(3), Ref::new(4), Ref::new(5)];
    let mut next = 6;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let image_refs: Vec<Ref> = f.images.iter().map(|_| alloc()).collect();
    let page_refs: Vec<(Ref, Ref)> = f.pages.iter().map(|_| (alloc(), alloc())).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_refs.iter().map(|(p, _)| *p))
        .count(page_refs.len() as i32);
    for ((page_ref, content_ref), (content, images)) in page_refs.iter().zip(f.pages) {
        let mut page = pdf.page(*page_ref);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(*content_ref);
        let mut res = page.resources();
        {
            let mut fs = res.fonts();
            fs.pair(Font::Regular.name(), fonts[0]);
            fs.pair(Font::Bold.name(), fonts[1]);
            fs.pair(Font::Mono.name(), fonts[2]);
        }
        {
            let mut xs = res.x_objects();
            for index in &images {
                let name = image_name(*index);
                xs.pair(Name(name.as_bytes()), image_refs[*index]);
            }
        }
        res.finish();
        page.finish();
        pdf.stream(*content_ref, &content.finish());
    }
    for (r, base) in fonts
        .iter()
        .zip([&b"Helvetica"[..], b"Helvetica-Bold", b"Courier"])
    {
        pdf.type1_font(*r)
            .base_font(Name(base))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    for ((jpeg, w, h), r) in f.images.iter().zip(&image_refs) {
        let mut image = pdf.image_xobject(*r, jpeg);
        image.filter(Filter::DctDecode);
        image.width(*w as i32);
        image.height(*h as i32);
        image.color_space().device_rgb();
        image.bits_per_component(8);
        image.finish();
    }
    pdf.finish()
}

/// Writes [`render_pdf`] to `path` atomically.
pub fn write_pdf(report: &CardReport, path: &Path) -> Result<(), ReportError> {
    crate::atomic_write::write_atomic(path, &render_pdf(report)).map_err(|source| {
        ReportError::Write {
            path: path.to_owned(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::erase::{Evidence, Verdict};
    use crate::ingest::record::OffloadCopy;
    use crate::ingest::report::{ClipReport, ClipStatus, FileReport, render_html};
    use chrono::{TimeZone, Utc};
    use std::process::Command;

    fn poster(dir: &Path) -> Vec<u8> {
        let out = dir.join("p.jpg");
        let st = Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=320x180",
                "-frames:v",
                "1",
            ])
            .arg(&out)
            .status()
            .expect("ffmpeg (apt-get install ffmpeg)");
        assert!(st.success());
        std::fs::read(out).unwrap()
    }

    fn report(jpeg: Vec<u8>) -> CardReport {
        let clip = |name: &str, poster: Option<Vec<u8>>| ClipReport {
            clip_id: format!("id-{name}"),
            name: name.into(),
            family: "p2".into(),
            title: format!("Interview {name} – Ümlaut"),
            status: ClipStatus::Complete,
            asset_id: Some("8c1f".into()),
            asset_link: None,
            files: vec![FileReport {
                path: format!("CONTENTS/VIDEO/{name}.MXF"),
                size_bytes: 1234,
                md5: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
                xxh64: None,
            }],
            steps: Vec::new(),
            proxy: None,
            warnings: Vec::new(),
            error: None,
            poster_jpeg: poster,
        };
        CardReport {
            card_root: "/media/CARD_A".into(),
            card_family: "p2".into(),
            server: "https://app.iconik.io".into(),
            started_at: Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap(),
            finished_at: Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 10).unwrap(),
            tool_version: "card-ingest test".into(),
            clips: vec![clip("0001AB", Some(jpeg)), clip("0002CD", None)],
            manifest_path: None,
            offload: vec![OffloadCopy {
                destination: "/mnt/raid/2026-12-03/CARD_A".into(),
                files: 2,
                bytes: 2468,
                verify: "read-back".into(),
                verify_description: "read-back: every copy re-read from the destination drive"
                    .into(),
                mhl: "/mnt/raid/2026-12-03/CARD_A/ascmhl/0001.mhl".into(),
                ..OffloadCopy::default()
            }],
            check_copies: Vec::new(),
            offline: Vec::new(),
            preset: None,
            verdict: Some(Verdict {
                safe_to_erase: false,
                evidence: vec![
                    Evidence {
                        met: true,
                        text: "2 of 2 clips complete in iconik".into(),
                    },
                    Evidence {
                        met: false,
                        text: "proxy not closed: 0002CD".into(),
                    },
                ],
            }),
        }
    }

    #[test]
    fn pdf_holds_the_verdict_evidence_clips_and_the_poster() {
        let dir = tempfile::tempdir().unwrap();
        let jpeg = poster(dir.path());
        let path = dir.path().join("report.pdf");
        write_pdf(&report(jpeg), &path).unwrap();
        let text = Command::new("pdftotext")
            .arg("-layout")
            .arg(&path)
            .arg("-")
            .output()
            .expect("pdftotext (apt-get install poppler-utils)");
        assert!(
            text.status.success(),
            "{}",
            String::from_utf8_lossy(&text.stderr)
        );
        let text = String::from_utf8_lossy(&text.stdout);
        for needle in [
            "card-ingest report: /media/CARD_A",
            "NOT SAFE TO ERASE",
            "[ok] 2 of 2 clips complete in iconik",
            "[missing] proxy not closed: 0002CD",
            "/mnt/raid/2026-12-03/CARD_A",
            "0001AB",
            "0002CD",
            "Interview 0001AB",
            "Ümlaut",
            "d41d8cd98f00b204e9800998ecf8427e",
            "Throughput: 246 B/s",
        ] {
            assert!(text.contains(needle), "{needle:?} not in:\n{text}");
        }
        let images = Command::new("pdfimages")
            .arg("-list")
            .arg(&path)
            .output()
            .unwrap();
        let listing = String::from_utf8_lossy(&images.stdout);
        let rows: Vec<&str> = listing.lines().skip(2).collect();
        assert_eq!(rows.len(), 1, "{listing}");
        let cols: Vec<&str> = rows[0].split_whitespace().collect();
        assert_eq!((cols[3], cols[4]), ("320", "180"), "{listing}");
    }

    #[test]
    fn html_embeds_the_poster_and_shows_the_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let jpeg = poster(dir.path());
        let html = render_html(&report(jpeg.clone()));
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&jpeg);
        assert!(html.contains(&format!("src=\"data:image/jpeg;base64,{b64}\"")));
        assert_eq!(html.matches("<img class=\"poster\"").count(), 1);
        assert!(html.contains("<div class=\"verdict unsafe\"><h2>Not safe to erase</h2>"));
        assert!(html.contains("<li>✗ proxy not closed: 0002CD</li>"));
        assert!(html.contains("@media print"));
        assert!(html.contains("/mnt/raid/2026-12-03/CARD_A"));
    }

    #[test]
    fn jpeg_size_reads_the_sof_marker() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(jpeg_size(&poster(dir.path())), Some((320, 180)));
        assert_eq!(jpeg_size(b"\xFF\xD8nope"), None);
    }
}
