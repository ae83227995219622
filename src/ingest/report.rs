//! The ingest report written after a card: one self-contained HTML page for people and one CSV
//! (one row per file) for spreadsheets — clip, files, checksums, asset id and link, per-step
//! timings, errors. The engine fills a [`CardReport`]; this module only renders and writes it.
//!
//! Step names and states are plain strings here so the report does not depend on the engine's
//! `Step` enum (the engine passes its display labels). Both files are written atomically
//! ([`crate::atomic_write::write_atomic`]). Nothing secret ever enters the model: `server` is the
//! base URL only, and errors are iconik's answers, which never echo the token.
//!
//! Asset links use iconik's web UI form `<base>/asset/<asset_id>` (e.g.
//! `https://app.iconik.io/asset/8c1…`), the address the web app shows for an asset page; see
//! [`asset_link`].

use crate::atomic_write::write_atomic;
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt::Display;
use std::path::{Path, PathBuf};

/// Errors writing a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error("cannot write the ingest report {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Everything the report shows about one card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardReport {
    /// The card (or offload copy) root as scanned.
    pub card_root: PathBuf,
    /// Card family label (`p2`, `xdcam`, ...).
    pub card_family: String,
    /// iconik base URL (never carries a token).
    pub server: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// `card-ingest x.y.z`.
    pub tool_version: String,
    pub clips: Vec<ClipReport>,
    /// The ASC MHL manifest written for the card, if any.
    pub manifest_path: Option<PathBuf>,
    /// Each offload destination's copy (primary first); empty when registered in place.
    #[serde(default)]
    pub offload: Vec<super::record::OffloadCopy>,
    /// Whether the card may be erased, with the evidence ([`super::erase`]).
    #[serde(default)]
    pub verdict: Option<super::erase::Verdict>,
    /// "Check copies" run on the card's copies after the ingest, oldest first
    /// ([`crate::offload::recheck`]; the window appends one and writes the report again).
    #[serde(default)]
    pub check_copies: Vec<CheckCopies>,
    /// Each time iconik was unreachable during the run (the network lane waited; disk and CPU
    /// went on).
    #[serde(default)]
    pub offline: Vec<super::outage::OfflineSpan>,
    /// The preset the card ran with (`--preset`, the window's preset combo), if any.
    #[serde(default)]
    pub preset: Option<String>,
}

/// One destination's "Check copies": what was re-read, what was repaired from where, what could
/// not be, and the generation that records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckCopies {
    pub checked_at: DateTime<Utc>,
    /// The card's folder at the destination.
    pub destination: PathBuf,
    pub files_checked: usize,
    pub bytes_checked: u64,
    /// (file relative to the destination, what was wrong, the file its good copy came from).
    pub repaired: Vec<(String, String, PathBuf)>,
    /// (file, what was wrong, why it could not be repaired).
    pub not_repaired: Vec<(String, String, String)>,
    /// The ASC MHL generation recording the check.
    pub mhl: PathBuf,
}

impl CheckCopies {
    /// One entry per destination of a finished check.
    pub fn of(report: &crate::offload::recheck::RecheckReport) -> Vec<CheckCopies> {
        report
            .destinations
            .iter()
            .map(|d| CheckCopies {
                checked_at: report.finished,
                destination: d.destination.clone(),
                files_checked: d.files_checked,
                bytes_checked: d.bytes_checked,
                repaired: d
                    .repaired()
                    .map(|f| {
                        let from = f.repaired_from.clone().unwrap_or_default();
                        (f.rel_path.clone(), f.problem.to_string(), from)
                    })
                    .collect(),
                not_repaired: d
                    .unrepaired()
                    .map(|f| {
                        let why = f.reason.clone().unwrap_or_default();
                        (f.rel_path.clone(), f.problem.to_string(), why)
                    })
                    .collect(),
                mhl: d.generation.path.clone(),
            })
            .collect()
    }
}

/// How a clip ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipStatus {
    /// Every step done: a complete asset.
    Complete,
    /// A step failed (see the steps and the clip error).
    Failed,
    /// Already in iconik (same checksum or storage path); not registered again.
    SkippedDuplicate,
    /// Stopped before the end (cancelled, or the run ended) without a failure.
    Incomplete,
    /// On the card but not part of the run: the operator did not select it.
    NotSelected,
    /// On the card but held back before any call: a member file is empty or truncated.
    Blocked,
    /// On the card but part of a shot that continues on a card that was not given.
    Waiting,
}

impl ClipStatus {
    /// The word shown in the report.
    pub fn label(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Failed => "failed",
            Self::SkippedDuplicate => "skipped (duplicate)",
            Self::Incomplete => "incomplete",
            Self::NotSelected => "not selected",
            Self::Blocked => "blocked (damaged file)",
            Self::Waiting => "waiting for another card",
        }
    }

    /// Whether the clip needs nothing more (complete, or already in iconik before the run).
    pub fn is_settled_in_iconik(self) -> bool {
        matches!(self, Self::Complete | Self::SkippedDuplicate)
    }

    fn css_class(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Failed => "failed",
            Self::SkippedDuplicate => "skipped",
            Self::Incomplete | Self::Waiting => "incomplete",
            Self::NotSelected | Self::Blocked => "left",
        }
    }
}

/// One clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipReport {
    /// The clip's stable id (iconik `external_id`).
    pub clip_id: String,
    /// Clip name on the card (`0002EM`, `C0003`).
    pub name: String,
    pub family: String,
    /// Asset title sent to iconik.
    pub title: String,
    pub status: ClipStatus,
    pub asset_id: Option<String>,
    /// iconik web UI link ([`asset_link`]).
    pub asset_link: Option<String>,
    pub files: Vec<FileReport>,
    pub steps: Vec<StepTiming>,
    pub proxy: Option<ProxyReport>,
    pub warnings: Vec<String>,
    pub error: Option<String>,
    /// A small JPEG of the clip (from its proxy), embedded so the report stands alone.
    #[serde(skip)]
    pub poster_jpeg: Option<Vec<u8>>,
}

/// One member file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileReport {
    /// Path relative to the card root, `/`-separated.
    pub path: String,
    pub size_bytes: u64,
    /// Lower-case hex; `None` when not computed (the clip failed first).
    pub md5: Option<String>,
    pub xxh64: Option<String>,
}

/// One step of a clip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepTiming {
    /// The engine's label (`checksum`, `create asset`, `upload proxy`, ...).
    pub step: String,
    /// `done`, `failed`, `skipped`, ...
    pub state: String,
    pub started_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<u64>,
    pub attempts: u32,
    pub error: Option<String>,
}

/// The proxy that was uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyReport {
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
    /// The ffmpeg encoder that made it (`libx264`, `h264_nvenc`, ...); `None` for proxies made
    /// before this was recorded.
    #[serde(default)]
    pub encoder: Option<String>,
    /// How it was made: preset, look, burn-in, camera proxy used or why not (issue 13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Clip counts by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub complete: usize,
    pub failed: usize,
    pub skipped: usize,
    pub incomplete: usize,
    pub not_selected: usize,
    pub blocked: usize,
    pub waiting: usize,
}

impl StatusCounts {
    /// The one line every face prints: `3 complete, 1 failed, 0 skipped (duplicate), 0
    /// incomplete`, then the clips left out of the run where there are any.
    pub fn line(&self) -> String {
        let mut s = format!(
            "{} complete, {} failed, {} skipped (duplicate), {} incomplete",
            self.complete, self.failed, self.skipped, self.incomplete
        );
        for (n, label) in [
            (self.not_selected, ClipStatus::NotSelected.label()),
            (self.blocked, ClipStatus::Blocked.label()),
            (self.waiting, ClipStatus::Waiting.label()),
        ] {
            if n > 0 {
                s.push_str(&format!(", {n} {label}"));
            }
        }
        s
    }
}

impl CardReport {
    pub fn counts(&self) -> StatusCounts {
        let mut c = StatusCounts::default();
        for clip in &self.clips {
            match clip.status {
                ClipStatus::Complete => c.complete += 1,
                ClipStatus::Failed => c.failed += 1,
                ClipStatus::SkippedDuplicate => c.skipped += 1,
                ClipStatus::Incomplete => c.incomplete += 1,
                ClipStatus::NotSelected => c.not_selected += 1,
                ClipStatus::Blocked => c.blocked += 1,
                ClipStatus::Waiting => c.waiting += 1,
            }
        }
        c
    }

    /// Bytes of every member file of every clip.
    pub fn total_bytes(&self) -> u64 {
        self.clips
            .iter()
            .flat_map(|c| &c.files)
            .map(|f| f.size_bytes)
            .sum()
    }

    /// Wall-clock time of the run (0 if the clock went backwards).
    pub fn duration_ms(&self) -> u64 {
        u64::try_from((self.finished_at - self.started_at).num_milliseconds()).unwrap_or(0)
    }

    /// Card bytes per second over the run (`None` for a run of no measurable length).
    pub fn throughput_bytes_per_s(&self) -> Option<f64> {
        let ms = self.duration_ms();
        (ms > 0).then(|| self.total_bytes() as f64 * 1000.0 / ms as f64)
    }
}

/// iconik web UI link of an asset: `<base>/asset/<asset_id>`.
pub fn asset_link(base_url: &str, asset_id: &str) -> String {
    format!("{}/asset/{asset_id}", base_url.trim_end_matches('/'))
}

/// Where the two report files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPaths {
    pub html: PathBuf,
    pub csv: PathBuf,
}

/// `<out_dir>/card-ingest-report-<card>-<YYYYMMDD-HHMMSS>.{html,csv}`; `card_key` (a volume name
/// or the card folder's name) is reduced to `[A-Za-z0-9._-]`, other characters become `_`.
pub fn report_paths<Tz: TimeZone>(out_dir: &Path, card_key: &str, at: &DateTime<Tz>) -> ReportPaths
where
    Tz::Offset: Display,
{
    let mut key: String = card_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    key = key.trim_matches(|c| c == '.' || c == '_').to_owned();
    if key.is_empty() {
        key = "card".to_owned();
    }
    let stem = format!("card-ingest-report-{key}-{}", at.format("%Y%m%d-%H%M%S"));
    ReportPaths {
        html: out_dir.join(format!("{stem}.html")),
        csv: out_dir.join(format!("{stem}.csv")),
    }
}

/// Writes the CSV, the HTML and its PDF twin to [`report_paths`]`(out_dir, card_key, finished_at)` and returns where.
pub fn write_reports(
    report: &CardReport,
    out_dir: &Path,
    card_key: &str,
) -> Result<ReportPaths, ReportError> {
    let paths = report_paths(out_dir, card_key, &report.finished_at);
    write_all(report, &paths)?;
    Ok(paths)
}

/// The CSV, HTML, PDF and JSON (the report as data, read back by [`check_copies_again`]).
fn write_all(report: &CardReport, paths: &ReportPaths) -> Result<(), ReportError> {
    write_csv(report, &paths.csv)?;
    write_html(report, &paths.html)?;
    super::report_pdf::write_pdf(report, &paths.html.with_extension("pdf"))?;
    let json = serde_json::to_vec_pretty(report).expect("a report serialises");
    write(&paths.html.with_extension("json"), &json)
}

/// Errors of [`check_copies_again`].
#[derive(Debug, thiserror::Error)]
pub enum CheckAgainError {
    #[error("cannot read the report data {path}: {source} (reports written before this version have none: run `card-ingest verify DEST…`)", path = .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the report data {path} is damaged: {source}", path = .path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the card was not copied anywhere: there are no copies to check")]
    NoCopies,
    #[error(transparent)]
    Recheck(#[from] crate::offload::recheck::RecheckError),
    #[error(transparent)]
    Write(#[from] ReportError),
}

/// "Check copies" on a finished card, from its report (`html`, as the window lists it):
/// re-reads every copy against its ASC MHL and repairs what no longer matches (from the card
/// while it is mounted, or another copy), then writes the report again with the outcome as
/// its "Check copies" section. Blocking (reads every byte of every copy).
pub fn check_copies_again(
    html: &Path,
    cancel: &std::sync::atomic::AtomicBool,
    on_event: &mut dyn FnMut(&crate::offload::recheck::RecheckEvent),
) -> Result<(CardReport, crate::offload::recheck::RecheckReport), CheckAgainError> {
    let data = html.with_extension("json");
    let bytes = std::fs::read(&data).map_err(|source| CheckAgainError::Read {
        path: data.clone(),
        source,
    })?;
    let mut report: CardReport =
        serde_json::from_slice(&bytes).map_err(|source| CheckAgainError::Parse {
            path: data.clone(),
            source,
        })?;
    let destinations: Vec<PathBuf> = report
        .offload
        .iter()
        .filter(|c| c.error.is_none())
        .map(|c| c.destination.clone())
        .collect();
    if destinations.is_empty() {
        return Err(CheckAgainError::NoCopies);
    }
    let mut request = crate::offload::recheck::RecheckRequest::new(destinations);
    request.card = Some(report.card_root.clone()).filter(|c| c.is_dir());
    let outcome = crate::offload::recheck::recheck(&request, cancel, on_event)?;
    report.check_copies.extend(CheckCopies::of(&outcome));
    let paths = ReportPaths {
        html: html.to_owned(),
        csv: html.with_extension("csv"),
    };
    write_all(&report, &paths)?;
    Ok((report, outcome))
}

/// Writes [`render_csv`] to `path` atomically.
pub fn write_csv(report: &CardReport, path: &Path) -> Result<(), ReportError> {
    write(path, render_csv(report).as_bytes())
}

/// Writes [`render_html`] to `path` atomically.
pub fn write_html(report: &CardReport, path: &Path) -> Result<(), ReportError> {
    write(path, render_html(report).as_bytes())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    write_atomic(path, bytes).map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}

/// CSV columns, in order.
pub const CSV_HEADER: &[&str] = &[
    "card",
    "clip_id",
    "clip_name",
    "title",
    "family",
    "status",
    "asset_id",
    "asset_link",
    "file",
    "size_bytes",
    "md5",
    "xxh64",
    "steps",
    "error",
    "warnings",
    "proxy_encoder",
    "preset",
];

/// The CSV (RFC 4180: comma-separated, CRLF line ends, fields with `,` `"` CR or LF quoted and
/// `"` doubled): one row per file with the clip's columns repeated; a clip without files gets
/// one row with empty file columns. Text cells starting with `=`, `+`, `-`, `@`, tab or CR get
/// a leading `'` so a spreadsheet shows them instead of evaluating them (titles and server
/// errors are not ours to trust).
pub fn render_csv(report: &CardReport) -> String {
    let mut out = String::new();
    push_row(
        &mut out,
        CSV_HEADER.iter().map(|h| Cell::Num(h.to_string())),
    );
    let card = report.card_root.to_string_lossy();
    for clip in &report.clips {
        let steps = clip
            .steps
            .iter()
            .map(step_summary)
            .collect::<Vec<_>>()
            .join("; ");
        let error = clip_errors(clip).join("; ");
        let warnings = clip.warnings.join("; ");
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        let rows: Vec<Option<&FileReport>> = if clip.files.is_empty() {
            vec![None]
        } else {
            clip.files.iter().map(Some).collect()
        };
        for file in rows {
            let cells = vec![
                Cell::Text(card.to_string()),
                Cell::Text(clip.clip_id.clone()),
                Cell::Text(clip.name.clone()),
                Cell::Text(clip.title.clone()),
                Cell::Text(clip.family.clone()),
                Cell::Text(clip.status.label().to_owned()),
                Cell::Text(opt(&clip.asset_id)),
                Cell::Text(opt(&clip.asset_link)),
                Cell::Text(file.map(|f| f.path.clone()).unwrap_or_default()),
                Cell::Num(file.map(|f| f.size_bytes.to_string()).unwrap_or_default()),
                Cell::Text(file.and_then(|f| f.md5.clone()).unwrap_or_default()),
                Cell::Text(file.and_then(|f| f.xxh64.clone()).unwrap_or_default()),
                Cell::Text(steps.clone()),
                Cell::Text(error.clone()),
                Cell::Text(warnings.clone()),
                Cell::Text(
                    clip.proxy
                        .as_ref()
                        .and_then(|p| p.encoder.clone())
                        .unwrap_or_default(),
                ),
                Cell::Text(report.preset.clone().unwrap_or_default()),
            ];
            push_row(&mut out, cells.into_iter());
        }
    }
    out
}

enum Cell {
    /// Free text: formula-guarded.
    Text(String),
    /// Numbers and fixed words: written as they are.
    Num(String),
}

fn push_row(out: &mut String, cells: impl Iterator<Item = Cell>) {
    let mut first = true;
    for cell in cells {
        if !first {
            out.push(',');
        }
        first = false;
        let value = match cell {
            Cell::Text(t) if t.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{t}"),
            Cell::Text(t) | Cell::Num(t) => t,
        };
        if value.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&value.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&value);
        }
    }
    out.push_str("\r\n");
}

/// `create asset: done 45 ms (2 attempts)`.
fn step_summary(s: &StepTiming) -> String {
    let mut t = format!("{}: {}", s.step, s.state);
    if let Some(ms) = s.duration_ms {
        t.push(' ');
        t.push_str(&format_duration_ms(ms));
    }
    if s.attempts > 1 {
        t.push_str(&format!(" ({} attempts)", s.attempts));
    }
    t
}

/// The clip error followed by each failed step's error (`step: error`).
fn clip_errors(clip: &ClipReport) -> Vec<String> {
    let mut errs: Vec<String> = clip.error.iter().cloned().collect();
    for s in &clip.steps {
        if let Some(e) = &s.error
            && clip.error.as_deref() != Some(e.as_str())
        {
            errs.push(format!("{}: {e}", s.step));
        }
    }
    errs
}

/// `850 ms`, `12.3 s`, `4 min 05 s`, `1 h 02 min`.
pub fn format_duration_ms(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..=3_599_999 => format!("{} min {:02} s", ms / 60_000, (ms / 1000) % 60),
        _ => format!("{} h {:02} min", ms / 3_600_000, (ms / 60_000) % 60),
    }
}

/// `1.5 GB` style (decimal units, as Finder and camera menus count).
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// HTML text escaping for element content and quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Only http(s) links become `href`s (a `javascript:` link would run on click).
fn safe_href(link: &str) -> Option<String> {
    let lower = link.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| escape_html(link))
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td.num{text-align:right}code{font-size:.95em}\
.status{padding:.1em .5em;border-radius:.3em;color:#fff;font-weight:600}\
.complete{background:#2e7d32}.failed{background:#c62828}.skipped{background:#757575}.incomplete{background:#ef6c00}.left{background:#6a1b9a}\
.error{color:#c62828;white-space:pre-wrap}.warn{color:#8d6e00}\
img.poster{width:160px;border:1px solid #ccc;display:block}td.poster{padding:2px}\
.verdict{padding:.6em 1em;border-radius:.4em;margin:1em 0;border:2px solid}.verdict.safe{border-color:#2e7d32;background:#e8f5e9}\
.verdict.unsafe{border-color:#c62828;background:#ffebee}.verdict h2{margin:0 0 .3em}.verdict ul{margin:0;padding-left:1.2em;list-style:none}\
@media print{body{margin:1cm;font-size:10pt}a{color:inherit;text-decoration:none}section.clip{break-inside:avoid-page}\
h2{break-after:avoid}table{page-break-inside:auto}tr{break-inside:avoid}.status{border:1px solid #000;color:#000;background:none}}";

/// The whole report as one HTML page (inline CSS, no scripts, no external assets); every piece
/// of text is escaped.
pub fn render_html(report: &CardReport) -> String {
    let e = escape_html;
    let counts = report.counts();
    let mut h = String::new();
    let title = format!("card-ingest report: {}", report.card_root.to_string_lossy());
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(&format!("<title>{}</title>\n", e(&title)));
    h.push_str(&format!("<style>{STYLE}</style>\n</head>\n<body>\n"));
    h.push_str(&format!(
        "<h1>{}</h1>\n<table class=\"summary\">\n",
        e(&title)
    ));
    let mut row = |k: &str, v: String| {
        h.push_str(&format!("<tr><th>{}</th><td>{v}</td></tr>\n", e(k)));
    };
    row("Card", e(&report.card_root.to_string_lossy()));
    row("Family", e(&report.card_family));
    row("Server", e(&report.server));
    if let Some(preset) = &report.preset {
        row("Preset", e(preset));
    }
    row("Clips", e(&counts.line()));
    row(
        "Total size",
        format!(
            "{} ({} bytes)",
            format_bytes(report.total_bytes()),
            report.total_bytes()
        ),
    );
    row(
        "Started",
        e(&report
            .started_at
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string()),
    );
    row("Duration", e(&format_duration_ms(report.duration_ms())));
    if let Some(rate) = report.throughput_bytes_per_s() {
        row("Throughput", format!("{}/s", e(&format_bytes(rate as u64))));
    }
    if let Some(m) = &report.manifest_path {
        row(
            "ASC MHL manifest",
            format!("<code>{}</code>", e(&m.to_string_lossy())),
        );
    }
    row("Tool", e(&report.tool_version));
    h.push_str("</table>\n");
    verdict_html(&mut h, report);
    offload_html(&mut h, report);
    check_copies_html(&mut h, report);
    offline_html(&mut h, report);
    overview_html(&mut h, report);
    for (i, clip) in report.clips.iter().enumerate() {
        clip_html(&mut h, i, clip);
    }
    h.push_str("</body>\n</html>\n");
    h
}

/// The safe-to-erase verdict and its evidence, near the top where the operator looks first.
fn verdict_html(h: &mut String, report: &CardReport) {
    let e = escape_html;
    let Some(v) = &report.verdict else { return };
    let (class, title) = if v.safe_to_erase {
        ("safe", "Safe to erase")
    } else {
        ("unsafe", "Not safe to erase")
    };
    h.push_str(&format!(
        "<div class=\"verdict {class}\"><h2>{title}</h2><ul>\n"
    ));
    for line in v.lines() {
        h.push_str(&format!("<li>{}</li>\n", e(&line)));
    }
    h.push_str("</ul></div>\n");
}

/// One row per destination copy: where, how it was checked, its MHL.
fn offload_html(h: &mut String, report: &CardReport) {
    let e = escape_html;
    if report.offload.is_empty() {
        return;
    }
    h.push_str("<h2>Offload</h2>\n<table class=\"offload\">\n<tr><th>Destination</th><th>Files</th><th>Size</th><th>Verification</th><th>Result</th><th>ASC MHL</th></tr>\n");
    for c in &report.offload {
        let mut dest = format!("<code>{}</code>", e(&c.destination.to_string_lossy()));
        if let Some(from) = &c.renamed_from {
            dest.push_str(&format!(
                "<br><span class=\"warn\">{} held another card of that name</span>",
                e(&from.to_string_lossy())
            ));
        }
        if let Some(from) = &c.copied_from {
            dest.push_str(&format!(
                "<br>filled from <code>{}</code> (later tier)",
                e(&from.to_string_lossy())
            ));
        }
        let result = if let Some(error) = &c.error {
            format!("<span class=\"status failed\">not made</span> {}", e(error))
        } else if c.failed.is_empty() {
            "<span class=\"status complete\">matched</span>".to_owned()
        } else {
            format!(
                "<span class=\"status failed\">{} differ</span> <code>{}</code>",
                c.failed.len(),
                e(&c.failed.join(", "))
            )
        };
        h.push_str(&format!(
            "<tr><td>{dest}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{result}</td><td><code>{}</code></td></tr>\n",
            c.files,
            e(&format_bytes(c.bytes)),
            e(&c.verify_description),
            e(&c.mhl.to_string_lossy())
        ));
    }
    h.push_str("</table>\n");
}

/// The "Check copies" section: one row per destination and check, each repaired file and each
/// file that could not be repaired named.
/// The outages of the run, each with how long the network lane waited.
pub fn offline_lines(report: &CardReport) -> Vec<String> {
    report
        .offline
        .iter()
        .map(|s| {
            let since = s.since.with_timezone(&chrono::Local).format("%H:%M:%S");
            match s.back {
                Some(back) => format!(
                    "iconik unreachable {since} – {} ({} s): the network lane waited, disk and CPU went on",
                    back.with_timezone(&chrono::Local).format("%H:%M:%S"),
                    (back - s.since).num_seconds()
                ),
                None => format!(
                    "iconik unreachable since {since}, not back when the card stopped: its journal resumes it"
                ),
            }
        })
        .collect()
}

fn offline_html(h: &mut String, report: &CardReport) {
    let lines = offline_lines(report);
    if lines.is_empty() {
        return;
    }
    h.push_str("<h2>Network</h2>\n<ul>\n");
    for l in lines {
        h.push_str(&format!("<li>{}</li>\n", escape_html(&l)));
    }
    h.push_str("</ul>\n");
}

fn check_copies_html(h: &mut String, report: &CardReport) {
    if report.check_copies.is_empty() {
        return;
    }
    let e = escape_html;
    h.push_str("<h2>Check copies</h2>\n<table class=\"offload\">\n<tr><th>Checked</th><th>Destination</th><th>Files</th><th>Size</th><th>Result</th><th>ASC MHL</th></tr>\n");
    for c in &report.check_copies {
        let mut result = if c.not_repaired.is_empty() {
            "<span class=\"status complete\">every file matches</span>".to_owned()
        } else {
            format!(
                "<span class=\"status failed\">{} could not be repaired</span>",
                c.not_repaired.len()
            )
        };
        for (file, problem, from) in &c.repaired {
            result.push_str(&format!(
                "<br>repaired <code>{}</code> ({}) from <code>{}</code>",
                e(file),
                e(problem),
                e(&from.to_string_lossy())
            ));
        }
        for (file, problem, why) in &c.not_repaired {
            result.push_str(&format!(
                "<br><span class=\"warn\">not repaired <code>{}</code> ({}): {}</span>",
                e(file),
                e(problem),
                e(why)
            ));
        }
        h.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{result}</td><td><code>{}</code></td></tr>\n",
            e(&c.checked_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
            e(&c.destination.to_string_lossy()),
            c.files_checked,
            e(&format_bytes(c.bytes_checked)),
            e(&c.mhl.to_string_lossy())
        ));
    }
    h.push_str("</table>\n");
}

/// `data:` URI of a JPEG, for an `<img>` that needs no file beside the report.
fn jpeg_data_uri(bytes: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// One row per clip, linking to its section: the page's table of contents.
fn overview_html(h: &mut String, report: &CardReport) {
    let e = escape_html;
    if report.clips.is_empty() {
        h.push_str("<p>No clips.</p>\n");
        return;
    }
    h.push_str("<h2>Clips</h2>\n<table class=\"overview\">\n<tr><th></th><th>Clip</th><th>Title</th><th>Status</th><th>Files</th><th>Size</th><th>Asset</th></tr>\n");
    for (i, clip) in report.clips.iter().enumerate() {
        let size: u64 = clip.files.iter().map(|f| f.size_bytes).sum();
        let asset = match (
            &clip.asset_id,
            clip.asset_link.as_deref().and_then(safe_href),
        ) {
            (Some(id), Some(href)) => format!("<a href=\"{href}\"><code>{}</code></a>", e(id)),
            (Some(id), None) => format!("<code>{}</code>", e(id)),
            (None, _) => String::new(),
        };
        let poster = clip
            .poster_jpeg
            .as_deref()
            .map(|j| {
                format!(
                    "<img class=\"poster\" alt=\"poster of {}\" src=\"{}\">",
                    e(&clip.name),
                    jpeg_data_uri(j)
                )
            })
            .unwrap_or_default();
        h.push_str(&format!(
            "<tr><td class=\"poster\">{poster}</td><td><a href=\"#clip-{i}\">{}</a></td><td>{}</td><td><span class=\"status {}\">{}</span></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{asset}</td></tr>\n",
            e(&clip.name),
            e(&clip.title),
            clip.status.css_class(),
            e(clip.status.label()),
            clip.files.len(),
            e(&format_bytes(size)),
        ));
    }
    h.push_str("</table>\n");
}

fn clip_html(h: &mut String, index: usize, clip: &ClipReport) {
    let e = escape_html;
    h.push_str(&format!(
        "<section class=\"clip\" id=\"clip-{index}\">\n<h2>{} <span class=\"status {}\">{}</span></h2>\n<table>\n",
        e(&clip.name),
        clip.status.css_class(),
        e(clip.status.label())
    ));
    let mut row = |k: &str, v: String| {
        h.push_str(&format!("<tr><th>{}</th><td>{v}</td></tr>\n", e(k)));
    };
    row("Title", e(&clip.title));
    row("Clip id", format!("<code>{}</code>", e(&clip.clip_id)));
    row("Family", e(&clip.family));
    if let Some(id) = &clip.asset_id {
        let shown = format!("<code>{}</code>", e(id));
        let v = match clip.asset_link.as_deref().and_then(safe_href) {
            Some(href) => format!("<a href=\"{href}\">{shown}</a>"),
            None => shown,
        };
        row("Asset", v);
    }
    if let Some(p) = &clip.proxy {
        row(
            "Proxy",
            format!(
                "{}×{}, {}{}",
                p.width,
                p.height,
                e(&format_bytes(p.size_bytes)),
                p.encoder
                    .as_deref()
                    .map(|enc| format!(", {}", e(enc)))
                    .unwrap_or_default()
                    + &p.note
                        .as_deref()
                        .map(|n| format!("; {}", e(n)))
                        .unwrap_or_default()
            ),
        );
    }
    h.push_str("</table>\n");
    if let Some(err) = &clip.error {
        h.push_str(&format!("<p class=\"error\">{}</p>\n", e(err)));
    }
    for w in &clip.warnings {
        h.push_str(&format!("<p class=\"warn\">⚠ {}</p>\n", e(w)));
    }
    if !clip.steps.is_empty() {
        h.push_str("<table class=\"steps\">\n<tr><th>Step</th><th>State</th><th>Started</th><th>Duration</th><th>Attempts</th><th>Error</th></tr>\n");
        for s in &clip.steps {
            let started = s
                .started_at
                .map(|t| t.format("%H:%M:%S").to_string())
                .unwrap_or_default();
            let dur = s.duration_ms.map(format_duration_ms).unwrap_or_default();
            let err = s
                .error
                .as_deref()
                .map(|x| format!("<span class=\"error\">{}</span>", e(x)))
                .unwrap_or_default();
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{err}</td></tr>\n",
                e(&s.step),
                e(&s.state),
                e(&started),
                e(&dur),
                s.attempts
            ));
        }
        h.push_str("</table>\n");
    }
    if !clip.files.is_empty() {
        h.push_str("<table class=\"files\">\n<tr><th>File</th><th>Size (bytes)</th><th>MD5</th><th>xxh64</th></tr>\n");
        for f in &clip.files {
            h.push_str(&format!(
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>\n",
                e(&f.path),
                f.size_bytes,
                e(f.md5.as_deref().unwrap_or("")),
                e(f.xxh64.as_deref().unwrap_or(""))
            ));
        }
        h.push_str("</table>\n");
    }
    h.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, h, m, s).unwrap()
    }

    fn step(name: &str, state: &str, ms: u64, attempts: u32, error: Option<&str>) -> StepTiming {
        StepTiming {
            step: name.into(),
            state: state.into(),
            started_at: Some(at(10, 0, 1)),
            duration_ms: Some(ms),
            attempts,
            error: error.map(String::from),
        }
    }

    fn sample() -> CardReport {
        CardReport {
            card_root: PathBuf::from("/Volumes/NO NAME"),
            card_family: "p2".into(),
            server: "https://app.iconik.io".into(),
            started_at: at(10, 0, 0),
            finished_at: at(10, 4, 5),
            tool_version: "card-ingest 0.1.0".into(),
            offload: Vec::new(),
            verdict: None,
            check_copies: Vec::new(),
            offline: Vec::new(),
            preset: Some("Day 2".into()),
            manifest_path: Some(PathBuf::from("/Volumes/NO NAME/ascmhl/0001_NO NAME.mhl")),
            clips: vec![
                ClipReport {
                    clip_id: "p2:060A2B34".into(),
                    name: "0002EM".into(),
                    family: "p2".into(),
                    title: "Interview, take \"2\"".into(),
                    status: ClipStatus::Complete,
                    asset_id: Some("a-1".into()),
                    asset_link: Some(asset_link("https://app.iconik.io/", "a-1")),
                    files: vec![
                        FileReport {
                            path: "CONTENTS/VIDEO/0002EM.MXF".into(),
                            size_bytes: 1_000_000,
                            md5: Some("0cc175b9c0f1b6a831c399e269772661".into()),
                            xxh64: Some("d24ec4f1a98c6e5b".into()),
                        },
                        FileReport {
                            path: "CONTENTS/AUDIO/0002EM00.MXF".into(),
                            size_bytes: 2_500,
                            md5: Some("92eb5ffee6ae2fec3ad71c777531578f".into()),
                            xxh64: Some("44bc2cf5ad770999".into()),
                        },
                    ],
                    steps: vec![
                        step("checksum", "done", 850, 1, None),
                        step("create asset", "done", 12_300, 2, None),
                    ],
                    proxy: Some(ProxyReport {
                        size_bytes: 3_200_000,
                        width: 1280,
                        height: 720,
                        encoder: Some("h264_vaapi".into()),
                        note: None,
                    }),
                    warnings: vec![],
                    error: None,
                    poster_jpeg: None,
                },
                ClipReport {
                    clip_id: "p2:060A2B35".into(),
                    name: "0003XY".into(),
                    family: "p2".into(),
                    title: "=HYPERLINK(\"x\")".into(),
                    status: ClipStatus::Failed,
                    asset_id: None,
                    asset_link: None,
                    files: vec![],
                    steps: vec![step(
                        "checksum",
                        "failed",
                        3,
                        1,
                        Some("cannot read CONTENTS/VIDEO/0003XY.MXF: is a directory"),
                    )],
                    proxy: None,
                    warnings: vec!["no audio, proxy is silent".into()],
                    error: Some("checksum failed".into()),
                    poster_jpeg: None,
                },
            ],
        }
    }

    #[test]
    fn check_copies_names_each_repair_and_each_file_left_damaged() {
        let mut r = sample();
        assert!(!render_html(&r).contains("<h2>Check copies</h2>"));
        r.check_copies.push(CheckCopies {
            checked_at: at(12, 0, 0),
            destination: "/mnt/raid/2026-12-03/NO NAME".into(),
            files_checked: 12,
            bytes_checked: 1_000_000,
            repaired: vec![(
                "CONTENTS/VIDEO/0002EM.MXF".into(),
                "content changed (xxh64, md5 differ)".into(),
                "/mnt/shuttle/2026-12-03/NO NAME/CONTENTS/VIDEO/0002EM.MXF".into(),
            )],
            not_repaired: vec![(
                "CONTENTS/AUDIO/0002EM00.MXF".into(),
                "missing".into(),
                "no good copy".into(),
            )],
            mhl: "/mnt/raid/2026-12-03/NO NAME/ascmhl/0002.mhl".into(),
        });
        let html = render_html(&r);
        assert!(html.contains("<h2>Check copies</h2>"), "{html}");
        assert!(html.contains(
            "repaired <code>CONTENTS/VIDEO/0002EM.MXF</code> (content changed (xxh64, md5 differ)) from <code>/mnt/shuttle/2026-12-03/NO NAME/CONTENTS/VIDEO/0002EM.MXF</code>"
        ));
        assert!(html.contains("1 could not be repaired"));
        assert!(html.contains(
            "not repaired <code>CONTENTS/AUDIO/0002EM00.MXF</code> (missing): no good copy"
        ));
    }

    #[test]
    fn csv_is_exact() {
        let expected = "card,clip_id,clip_name,title,family,status,asset_id,asset_link,file,size_bytes,md5,xxh64,steps,error,warnings,proxy_encoder,preset\r\n\
/Volumes/NO NAME,p2:060A2B34,0002EM,\"Interview, take \"\"2\"\"\",p2,complete,a-1,https://app.iconik.io/asset/a-1,CONTENTS/VIDEO/0002EM.MXF,1000000,0cc175b9c0f1b6a831c399e269772661,d24ec4f1a98c6e5b,checksum: done 850 ms; create asset: done 12.3 s (2 attempts),,,h264_vaapi,Day 2\r\n\
/Volumes/NO NAME,p2:060A2B34,0002EM,\"Interview, take \"\"2\"\"\",p2,complete,a-1,https://app.iconik.io/asset/a-1,CONTENTS/AUDIO/0002EM00.MXF,2500,92eb5ffee6ae2fec3ad71c777531578f,44bc2cf5ad770999,checksum: done 850 ms; create asset: done 12.3 s (2 attempts),,,h264_vaapi,Day 2\r\n\
/Volumes/NO NAME,p2:060A2B35,0003XY,\"'=HYPERLINK(\"\"x\"\")\",p2,failed,,,,,,,checksum: failed 3 ms,checksum failed; checksum: cannot read CONTENTS/VIDEO/0003XY.MXF: is a directory,\"no audio, proxy is silent\",,Day 2\r\n";
        assert_eq!(render_csv(&sample()), expected);
    }

    #[test]
    fn csv_quotes_newlines_and_round_trips_field_count() {
        let mut r = sample();
        r.clips[0].title = "line1\nline2\r\n".into();
        let csv = render_csv(&r);
        assert!(csv.contains(",\"line1\nline2\r\n\",p2,"), "{csv}");
    }

    #[test]
    fn html_escapes_everything_and_links_the_asset() {
        let mut r = sample();
        r.clips[0].title = "<script>alert('t')</script>".into();
        r.clips[1].error = Some("iconik answered 400: <script>x()</script> & more".into());
        r.clips[1].asset_id = Some("b-2".into());
        r.clips[1].asset_link = Some("javascript:alert(1)".into());
        r.card_root = PathBuf::from("/Volumes/<b>CARD</b>");
        r.preset = Some("Day <2>".into());
        assert!(
            render_html(&r).contains("<tr><th>Preset</th><td>Day &lt;2&gt;</td></tr>"),
            "the report names the preset"
        );
        let html = render_html(&r);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;"));
        assert!(html.contains(
            "<p class=\"error\">iconik answered 400: &lt;script&gt;x()&lt;/script&gt; &amp; more</p>"
        ));
        assert!(html.contains("<a href=\"https://app.iconik.io/asset/a-1\"><code>a-1</code></a>"));
        assert!(html.contains(
            "<tr><td class=\"poster\"></td><td><a href=\"#clip-1\">0003XY</a></td><td>=HYPERLINK(&quot;x&quot;)</td><td><span class=\"status failed\">failed</span></td><td class=\"num\">0</td><td class=\"num\">0 B</td><td><code>b-2</code></td></tr>"
        ), "{html}");
        assert!(html.contains("<section class=\"clip\" id=\"clip-1\">"));
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("<tr><th>Asset</th><td><code>b-2</code></td></tr>"));
        assert!(html.contains("1 complete, 1 failed, 0 skipped (duplicate), 0 incomplete"));
        assert!(html.contains("<tr><th>Duration</th><td>4 min 05 s</td></tr>"));
        assert!(html.contains("1.0 MB (1002500 bytes)"));
        assert!(html.contains("<span class=\"status failed\">failed</span>"));
        assert!(html.contains("<tr><th>Proxy</th><td>1280×720, 3.2 MB, h264_vaapi</td></tr>"));
        // Self-contained: no external references.
        assert!(!html.contains("src="), "{html}");
        assert!(!html.contains("<link"), "{html}");
    }

    #[test]
    fn writers_replace_files_atomically_and_add_nothing_secret() {
        let dir = tempfile::tempdir().unwrap();
        let r = sample();
        let paths = report_paths(dir.path(), "NO NAME", &at(10, 4, 5));
        write_csv(&r, &paths.csv).unwrap();
        write_html(&r, &paths.html).unwrap();
        write_csv(&r, &paths.csv).unwrap();
        assert_eq!(std::fs::read_to_string(&paths.csv).unwrap(), render_csv(&r));
        let html = std::fs::read_to_string(&paths.html).unwrap();
        assert_eq!(html, render_html(&r));
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec![
                "card-ingest-report-NO_NAME-20261122-100405.csv",
                "card-ingest-report-NO_NAME-20261122-100405.html"
            ]
        );
        for text in [html, render_csv(&r)] {
            for secret in [
                "Auth-Token",
                "App-ID",
                "ICONIK_AUTH_TOKEN",
                "X-Goog-Signature",
            ] {
                assert!(!text.contains(secret), "{secret} in report");
            }
        }
        let other = tempfile::tempdir().unwrap();
        let written = write_reports(&r, other.path(), "NO NAME").unwrap();
        assert_eq!(
            written.html,
            other
                .path()
                .join("card-ingest-report-NO_NAME-20261122-100405.html")
        );
        assert_eq!(
            std::fs::read_to_string(&written.csv).unwrap(),
            render_csv(&r)
        );
        let bad = write_csv(&r, &dir.path().join("missing/x.csv")).unwrap_err();
        assert!(bad.to_string().contains("missing/x.csv"), "{bad}");
    }

    #[test]
    fn report_paths_sanitise_the_card_key() {
        let p = report_paths(Path::new("/out"), "../P2 CARD:1/", &at(1, 2, 3));
        assert_eq!(
            p.html,
            PathBuf::from("/out/card-ingest-report-P2_CARD_1-20261122-010203.html")
        );
        let p = report_paths(Path::new("/out"), "///", &at(1, 2, 3));
        assert_eq!(
            p.csv,
            PathBuf::from("/out/card-ingest-report-card-20261122-010203.csv")
        );
    }

    #[test]
    fn formats_and_model_serde() {
        assert_eq!(format_duration_ms(0), "0 ms");
        assert_eq!(format_duration_ms(1_250), "1.2 s");
        assert_eq!(format_duration_ms(245_000), "4 min 05 s");
        assert_eq!(format_duration_ms(3_720_000), "1 h 02 min");
        assert_eq!(format_bytes(999), "999 B");
        assert_eq!(format_bytes(1_500_000_000), "1.5 GB");
        assert_eq!(
            asset_link("http://127.0.0.1:8080", "x"),
            "http://127.0.0.1:8080/asset/x"
        );
        let r = sample();
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"status\":\"failed\""), "{json}");
        assert_eq!(
            serde_json::to_string(&ClipStatus::SkippedDuplicate).unwrap(),
            "\"skipped_duplicate\""
        );
        let back: CardReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert_eq!(
            r.counts(),
            StatusCounts {
                complete: 1,
                failed: 1,
                skipped: 0,
                incomplete: 0,
                ..StatusCounts::default()
            }
        );
    }
}
