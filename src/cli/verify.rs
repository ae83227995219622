//! `card-ingest verify DEST... [--card PATH] [--json]`: "Check copies" from the command line
//! ([`card_ingest::offload::recheck`]). Exit 0 when every file matches at the end, 1 when one
//! could not be repaired (2 when the check could not run at all).

use anyhow::Context;
use card_ingest::offload::recheck::{self, RecheckEvent, RecheckRequest};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// A card's folder at a destination (the one holding `ascmhl/`), one or more; each is also a
    /// repair source for the others.
    #[arg(required = true, value_name = "DEST")]
    destinations: Vec<PathBuf>,
    /// The card to repair from (default: the card folder the copies' ASC MHL names, when it is
    /// still mounted).
    #[arg(long, value_name = "PATH")]
    card: Option<PathBuf>,
    /// One JSON object per repair and problem on stdout, then the outcome, instead of lines for
    /// people.
    #[arg(long)]
    json: bool,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let mut request = RecheckRequest::new(args.destinations);
    request.card = args.card;
    let json = args.json;
    let mut out = std::io::stdout().lock();
    let mut write_err = None;
    let report = recheck::recheck(&request, &AtomicBool::new(false), &mut |event| {
        if let Err(e) = print_event(&mut out, event, json) {
            write_err.get_or_insert(e);
        }
    })
    .context("check copies failed")?;
    if let Some(e) = write_err {
        return Err(e).context("cannot write to stdout");
    }
    if json {
        let outcome = serde_json::json!({
            "event": "check_finished",
            "all_match": report.all_match(),
            "files_checked": report.files_checked(),
            "repaired": report.repaired_count(),
            "not_repaired": report.unrepaired_count(),
            "destinations": report.destinations.iter().map(|d| serde_json::json!({
                "destination": d.destination,
                "mhl": d.generation.path,
                "files_checked": d.files_checked,
            })).collect::<Vec<_>>(),
        });
        writeln!(out, "{outcome}")?;
    }
    eprintln!("{}", report.summary());
    for d in &report.destinations {
        eprintln!(
            "  {}: new ASC MHL generation {}",
            d.destination.display(),
            d.generation.path.display()
        );
    }
    Ok(if report.all_match() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Human output: one stdout line per repaired file (scripts count them); a file that could not be
/// repaired goes to stderr with the reason.
fn print_event(out: &mut impl Write, event: &RecheckEvent, json: bool) -> std::io::Result<()> {
    if json {
        let value = match event {
            RecheckEvent::Checking { .. } | RecheckEvent::GenerationWritten { .. } => return Ok(()),
            RecheckEvent::Mismatch {
                destination,
                rel_path,
                problem,
            } => serde_json::json!({
                "event": "mismatch", "destination": destination, "file": rel_path,
                "problem": problem.to_string(),
            }),
            RecheckEvent::Repaired {
                destination,
                rel_path,
                from,
            } => serde_json::json!({
                "event": "repaired", "destination": destination, "file": rel_path, "from": from,
            }),
            RecheckEvent::NotRepaired {
                destination,
                rel_path,
                reason,
            } => serde_json::json!({
                "event": "not_repaired", "destination": destination, "file": rel_path,
                "reason": reason,
            }),
        };
        return writeln!(out, "{value}");
    }
    match event {
        RecheckEvent::Repaired {
            destination,
            rel_path,
            from,
        } => writeln!(
            out,
            "repaired {} from {}",
            destination.join(rel_path).display(),
            from.display()
        ),
        RecheckEvent::NotRepaired {
            destination,
            rel_path,
            reason,
        } => {
            eprintln!(
                "NOT repaired {}: {reason}",
                destination.join(rel_path).display()
            );
            Ok(())
        }
        RecheckEvent::Mismatch {
            destination,
            rel_path,
            problem,
        } => {
            eprintln!(
                "mismatch {}: {problem}",
                destination.join(rel_path).display()
            );
            Ok(())
        }
        RecheckEvent::Checking { .. } | RecheckEvent::GenerationWritten { .. } => Ok(()),
    }
}
