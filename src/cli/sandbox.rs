//! `card-ingest sandbox`: runs the local iconik-compatible server (see `card_ingest::sandbox`).
//! Prints `sandbox listening on http://HOST:PORT` once the socket accepts connections, then
//! serves until Ctrl-C.

use anyhow::Context;
use card_ingest::sandbox::profiles::StorageProfile;
use card_ingest::sandbox::{self, SandboxConfig, auth::Credentials, faults::FaultSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Address to listen on (port 0 picks a free port; the real one is printed).
    #[arg(long, default_value = "127.0.0.1:8765")]
    listen: String,
    /// Persist everything in this JSON file (uploaded bytes go to FILE.blobs/).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Fault rules JSON: {"rules":[{"method","path","status"|"drop_response_after_commit"|"reset_after_bytes"|"delay_ms","times"}]}.
    #[arg(long, value_name = "FILE")]
    faults: Option<PathBuf>,
    /// Delay added to every request, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    latency_ms: u64,
    /// App-ID the sandbox accepts.
    #[arg(long, default_value = "sandbox-app")]
    app_id: String,
    /// Auth-Token the sandbox accepts.
    #[arg(long, default_value = "sandbox-token", hide_default_value = true)]
    token: String,
    /// A folder with iconik's OpenAPI JSON files replacing the copy built into card-ingest
    /// (request bodies are always validated).
    #[arg(long, value_name = "DIR")]
    spec: Option<PathBuf>,
    /// Enforce iconik-like rate limits (≈ 50 req/s, 1000 per 20 s → 429).
    #[arg(long)]
    rate_limit: bool,
    /// How long keyframe jobs stay STARTED before FINISHED, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 300)]
    job_delay_ms: u64,
    /// settings.mount_point of the FILES storage.
    #[arg(long, value_name = "PATH", default_value = "/mnt/sandbox-originals")]
    mount_point: String,
    /// Also offer S3 and AZURE proxy storages (single-PUT upload endpoints).
    #[arg(long)]
    extra_proxy_storages: bool,
    /// Settings of the FILES storage, as a real tenant may have them (gateway scan folders,
    /// aggregation, access outside scan folders, ACL template, access group).
    #[arg(long, value_name = "NAME", default_value = "plain", value_parser = storage_profile_parser())]
    storage_profile: StorageProfile,
    /// Simulate the storage gateway's scan every N milliseconds (default: only on
    /// `POST /sandbox/isg/scan`); what it does is shown on the web view.
    #[arg(long, value_name = "N")]
    isg_scan_every_ms: Option<u64>,
}

/// `--storage-profile`: the profile names, each with its one-line description in `--help`.
pub fn storage_profile_parser() -> impl clap::builder::TypedValueParser<Value = StorageProfile> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(
        StorageProfile::ALL.map(|p| PossibleValue::new(p.name()).help(p.describe())),
    )
    .map(|name| name.parse::<StorageProfile>().unwrap_or_default())
}

pub fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let faults = match &args.faults {
        Some(path) => FaultSet::from_file(path)?,
        None => FaultSet::default(),
    };
    let config = SandboxConfig {
        credentials: Credentials {
            app_id: args.app_id,
            token: args.token,
        },
        spec_dir: args.spec,
        state_file: args.state,
        faults,
        latency: Duration::from_millis(args.latency_ms),
        rate_limit: args
            .rate_limit
            .then_some(sandbox::ratelimit::RateLimit::ICONIK),
        job_delay: Duration::from_millis(args.job_delay_ms),
        mount_point: args.mount_point,
        extra_proxy_storages: args.extra_proxy_storages,
        storage_profile: args.storage_profile,
        isg_scan_interval: args.isg_scan_every_ms.map(Duration::from_millis),
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let handle = sandbox::spawn_on(listener, config).await?;
        // The listener is bound and the server task is running: connections are accepted now.
        let mut out = std::io::stdout().lock();
        writeln!(out, "sandbox listening on {}", handle.base_url())?;
        out.flush()?;
        drop(out);
        // stdout carries only the line above: scripts read it and may close the pipe.
        eprintln!(
            "FILES storage profile {}: {}",
            args.storage_profile,
            args.storage_profile.describe()
        );
        eprintln!(
            "request bodies are validated against {}",
            handle.spec_summary()
        );
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for Ctrl-C")?;
        handle.shutdown().await?;
        Ok(ExitCode::SUCCESS)
    })
}
