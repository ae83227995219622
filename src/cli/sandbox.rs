//! `card-ingest sandbox`: runs the local iconik-compatible server (see `card_ingest::sandbox`).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SandboxArgs {}

pub fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("the sandbox is not built yet")
}
