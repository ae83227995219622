//! `card-ingest scan PATH... [--json]`.

use anyhow::Context;
use card_ingest::scan::{self, ScanReport};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Card roots, folders inside a card, or folders holding several cards.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print one JSON document on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let tools = super::detect_tools();
    super::warn_missing_tools(&tools);
    // `scan --json` does not print camera-proxy probes: skip them.
    let options = scan::ScanOptions {
        camera_proxies: false,
    };
    let report = scan::scan_with(&args.paths, &tools, options).context("scan failed")?;
    print_report(&report, args.json)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the report on stdout: one JSON document, or a table for people.
pub fn print_report(report: &ScanReport, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
    } else {
        write_table(&mut out, report)?;
    }
    Ok(())
}

fn write_table(out: &mut impl Write, report: &ScanReport) -> std::io::Result<()> {
    for card in &report.cards {
        writeln!(
            out,
            "card  {:<14} {}",
            card.family.as_str(),
            card.root.display()
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<28} {:<14} {:>5} {:>12}  {:<11} {:<12} {:>9}  note",
        "clip", "family", "files", "bytes", "timecode", "size@fps", "duration"
    )?;
    for c in &report.clips {
        let m = &c.metadata;
        let size = match (m.width, m.height) {
            (Some(w), Some(h)) => format!("{w}x{h}@{}", m.frame_rate.as_deref().unwrap_or("?")),
            _ => "-".to_string(),
        };
        let dur = m
            .duration_seconds
            .map_or("-".to_string(), |d| format!("{d:.2}s"));
        let note = c
            .clip
            .incomplete
            .clone()
            .or_else(|| c.clip.warnings.first().cloned())
            .unwrap_or_default();
        writeln!(
            out,
            "{:<28} {:<14} {:>5} {:>12}  {:<11} {:<12} {:>9}  {}",
            c.clip.name,
            c.clip.family.as_str(),
            c.clip.files.len(),
            c.clip.total_size(),
            m.timecode_start.as_deref().unwrap_or("-"),
            size,
            dur,
            note
        )?;
    }
    if !report.skipped.is_empty() {
        writeln!(out, "\nskipped {}:", report.skipped.len())?;
        for s in &report.skipped {
            writeln!(out, "  {}  ({})", s.path.display(), s.reason)?;
        }
    }
    if !report.errors.is_empty() {
        writeln!(out, "\nerrors {}:", report.errors.len())?;
        for e in &report.errors {
            writeln!(out, "  {}: {}", e.path.display(), e.message)?;
        }
    }
    Ok(())
}
