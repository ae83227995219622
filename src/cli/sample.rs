//! `card-ingest sample DEST [--kind KIND]... [--with-junk]`: writes synthetic camera cards to try
//! the scanner on (README demo).

use anyhow::Context;
use card_ingest::sample::{self, SampleKind, SampleOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SampleArgs {
    /// Folder to write into (created if missing); each card goes into DEST/<kind>/.
    dest: PathBuf,
    /// Card kind to write (repeatable; default: all). One of: p2, p2_span, xdcam, imx, xdcam_ex,
    /// xavc_s, canon_xf, avchd, gopro, dji, red, arri, braw, dpx_sequence, bwf, loose.
    #[arg(long = "kind", value_name = "KIND")]
    kinds: Vec<SampleKind>,
    /// Also write macOS junk (._*, .DS_Store, .Spotlight-V100) into some cards.
    #[arg(long)]
    with_junk: bool,
    /// ffmpeg executable.
    #[arg(long, default_value = "ffmpeg", env = "CARD_INGEST_FFMPEG")]
    ffmpeg: PathBuf,
}

pub fn run(args: SampleArgs) -> anyhow::Result<ExitCode> {
    let opts = SampleOptions {
        ffmpeg: args.ffmpeg,
        with_junk: args.with_junk,
        ..SampleOptions::default()
    };
    let started = std::time::Instant::now();
    let cards = if args.kinds.is_empty() {
        sample::generate_all(&args.dest, &opts).context("writing sample cards")?
    } else {
        args.kinds
            .iter()
            .map(|k| sample::generate(*k, &args.dest.join(k.as_str()), &opts))
            .collect::<Result<Vec<_>, _>>()
            .context("writing sample cards")?
    };
    for card in &cards {
        for root in &card.roots {
            println!("{:<13} {}", card.kind.as_str(), root.display());
        }
    }
    eprintln!(
        "wrote {} sample card(s) in {:.1} s",
        cards.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
