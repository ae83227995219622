//! `card-ingest demo [--dir DIR]`: the README's main job on a fresh machine. Writes a sample
//! P2 card pair (a complete clip plus a clip spanned across two cards, with macOS junk), scans
//! it, then ingests it into the built-in sandbox (`ingest --sandbox`) and prints where the
//! report is — the whole flow without a camera card or an iconik account.

use anyhow::Context;
use card_ingest::sample::{self, SampleKind, SampleOptions};
use card_ingest::scan;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where the sample cards are written (replaced if it exists).
    #[arg(long, default_value = "out/demo")]
    dir: PathBuf,
    /// Sample card to use (see `card-ingest sample --help`).
    #[arg(long, default_value = "p2_span")]
    kind: SampleKind,
    /// Print the scan as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Settings of the sandbox's FILES storage (see `card-ingest sandbox --help`).
    #[arg(long, value_name = "NAME", value_parser = super::sandbox::storage_profile_parser())]
    storage_profile: Option<card_ingest::sandbox::profiles::StorageProfile>,
}

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let opts = SampleOptions {
        with_junk: true,
        ..SampleOptions::default()
    };
    if args.dir.exists() {
        std::fs::remove_dir_all(&args.dir)
            .with_context(|| format!("cannot replace {}", args.dir.display()))?;
    }
    let card = sample::generate(args.kind, &args.dir, &opts).context("writing the sample card")?;
    eprintln!(
        "sample {} card written to {}",
        card.kind.as_str(),
        card.dir.display()
    );
    let tools = super::detect_tools();
    let report = scan::scan(std::slice::from_ref(&card.dir), &tools).context("scan failed")?;
    super::scan::print_report(&report, args.json)?;
    eprintln!(
        "\ningesting into the built-in sandbox (same as `card-ingest ingest {} --sandbox`):",
        card.dir.display()
    );
    let journal = args.dir.join("journal");
    let mut ingest = super::ingest::IngestArgs::sandbox_demo(card.dir.clone(), journal, args.json);
    ingest.storage_profile = args.storage_profile;
    super::ingest::run(ingest)
}
