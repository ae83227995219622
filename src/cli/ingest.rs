//! `card-ingest ingest PATH... --server URL --storage STORAGE [...]`: scans the cards, runs the
//! ingest engine per card and prints progress (stderr lines, a progress bar on a terminal, or
//! `--json` event lines on stdout), then a summary. Exit 0 when every clip completed, 1
//! otherwise. `--sandbox` ingests into an in-process sandbox; `--dry-run` runs the same flow
//! against an in-process stand-in and prints the calls it would make, sending nothing.

use anyhow::{Context, bail};
use card_ingest::iconik::upload::{UploadConfig, UploadHttp};
use card_ingest::iconik::{Client, Credentials};
use card_ingest::ingest::journal::JournalStore;
use card_ingest::ingest::report;
use card_ingest::ingest::retry::TOKEN_REFUSED;
use card_ingest::ingest::summary::card_report;
use card_ingest::ingest::transcript::{TranscriptHeader, TranscriptWriter};
use card_ingest::ingest::{
    CardJob, CardOutcome, Engine, EventKind, EventSink, IngestEvent, IngestOptions, NoticeLevel,
    ProxyMode, StepState,
};
use card_ingest::media::proxy::EncoderChoice;
use card_ingest::media::proxy::burn_in::{self, BurnInItem, Corner};
use card_ingest::media::proxy::look_rules::{self, LookRule};
use card_ingest::media::proxy::preset::{self, ProxyPreset};
use card_ingest::sandbox::{self, SandboxConfig};
use card_ingest::scan;
use card_ingest::secrets::{EnvStore, KeyringStore, ServerKey, TokenStore};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// `--burn-in`: checked by clap, so a bad item fails before anything runs.
fn parse_burn_in(s: &str) -> Result<BurnInList, String> {
    burn_in::parse_items(s)
        .map(BurnInList)
        .map_err(|e| e.to_string())
}

fn parse_look_rule(s: &str) -> Result<LookRule, String> {
    look_rules::parse_rule(s).map_err(|e| e.to_string())
}

fn parse_preset(s: &str) -> Result<ProxyPreset, String> {
    preset::find(s).map_err(|e| e.to_string())
}

/// One `--burn-in` value: the whole list (a newtype, so clap takes it as one value).
#[derive(Debug, Clone)]
struct BurnInList(Vec<BurnInItem>);

fn parse_corner(s: &str) -> Result<Corner, String> {
    s.parse().map_err(|e: burn_in::BurnInError| e.to_string())
}

/// `--encoder`: `auto` or an encoder name; the error lists the names.
fn parse_encoder(s: &str) -> Result<EncoderChoice, String> {
    s.parse()
        .map_err(|e: card_ingest::media::proxy::encoder::EncoderError| e.to_string())
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ProxyArg {
    Local,
    Iconik,
    None,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum VerifyArg {
    ReadBack,
    Size,
}

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Card folders (or folders holding cards).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// iconik base URL, e.g. https://app.iconik.io.
    #[arg(long, value_name = "URL", required_unless_present_any = ["sandbox", "dry_run"])]
    server: Option<String>,
    /// iconik FILES storage (id or name) holding the originals.
    #[arg(long, value_name = "STORAGE", required_unless_present_any = ["sandbox", "dry_run"])]
    storage: Option<String>,
    /// Local mount of that storage; registered paths are relative to it.
    #[arg(long, value_name = "LOCAL_PATH")]
    storage_root: Option<PathBuf>,
    /// Copy the card under this folder first ({date}/{card}), verify it and register the copy.
    /// Repeat for more destinations (RAID, shuttle drive): the card is read once and each gets
    /// its own verified copy and ASC MHL; the first is the one registered.
    #[arg(long, value_name = "LOCAL_PATH")]
    offload_to: Vec<PathBuf>,
    /// How offloaded copies are checked: re-read from the destination drive and compared by
    /// checksum, or (faster, weaker) by size only.
    #[arg(long, value_enum, default_value = "read-back")]
    verify: VerifyArg,
    /// Allow an offload destination on the card's own volume (refused by default: such a copy is
    /// lost with that drive).
    #[arg(long)]
    allow_same_volume: bool,
    /// How proxies are made.
    #[arg(long, value_enum, default_value = "local")]
    proxy: ProxyArg,
    /// A `.cube` LUT (1D or 3D) applied to every clip's proxy, e.g. a log-to-Rec.709 look.
    #[arg(long, value_name = "FILE.cube")]
    lut: Option<PathBuf>,
    /// Burn into every proxy: a comma list of timecode (running source timecode), clip, card,
    /// text:… (a comma inside the text as \,).
    #[arg(long, value_name = "ITEMS", value_parser = parse_burn_in)]
    burn_in: Option<BurnInList>,
    /// Proxy preset for every clip: 540p, 720p, 1080p (CH1+CH3 → L, CH2+CH4 → R) or the same
    /// with -ch1ch2 (CH1 → L, CH2 → R only). Default: per camera family (1080p for ARRI, RED,
    /// BRAW and image sequences, 720p otherwise).
    #[arg(long, value_name = "NAME", value_parser = parse_preset)]
    proxy_preset: Option<ProxyPreset>,
    /// A look by rule, repeatable: `FIELD=VALUE => FILE.cube` applies the LUT to clips whose
    /// FIELD (gamma, gamut, camera, family, codec or a sidecar field) contains VALUE; the first
    /// matching rule wins, --lut overrides them all.
    #[arg(long, value_name = "RULE", value_parser = parse_look_rule)]
    look_rule: Vec<LookRule>,
    /// Register the camera's own proxy (P2 PROXY/*.MP4, Sony Sub/SUB *S03.MP4, GoPro .LRV,
    /// DJI .LRF) without an encode where it qualifies (H.264 without B-frames, ≥ 240 lines, AAC
    /// sound when the clip has sound, the clip's length); the step says why when not.
    #[arg(long)]
    camera_proxy: bool,
    /// Corner the burn-in lines are stacked in.
    #[arg(long, value_name = "CORNER", default_value = "bottom-left", value_parser = parse_corner)]
    burn_in_corner: Corner,
    /// H.264 encoder for local proxies: auto (the first of h264_videotoolbox, h264_nvenc,
    /// h264_qsv, h264_vaapi, h264_amf that passes a test encode, else libx264) or one of them.
    #[arg(long, value_name = "auto|NAME", default_value = "auto", value_parser = parse_encoder)]
    encoder: EncoderChoice,
    /// Add every asset to this collection.
    #[arg(long, value_name = "NAME")]
    collection: Option<String>,
    /// iconik metadata view (id) that --metadata values are written to.
    #[arg(long, value_name = "VIEW_ID")]
    metadata_view: Option<String>,
    /// A metadata view value written to every asset (repeatable), e.g. --metadata scene=12.
    #[arg(long, value_name = "FIELD=VALUE", value_parser = parse_field_value, requires = "metadata_view")]
    metadata: Vec<(String, String)>,
    /// Asset title: {user_clip_name}, {name}, {card}, {date}, {family}.
    #[arg(long, default_value = "{user_clip_name}")]
    title_template: String,
    /// Clips whose iconik calls run at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    concurrency: usize,
    /// Files hashed at once (default: the number of cores); fewer for a slow card reader.
    #[arg(long, value_name = "N")]
    io_concurrency: Option<usize>,
    /// Journal folder (default: the per-user data folder).
    #[arg(long, value_name = "DIR")]
    journal_dir: Option<PathBuf>,
    /// Where the HTML/CSV report goes (default: the journal folder).
    #[arg(long, value_name = "DIR")]
    report_dir: Option<PathBuf>,
    /// Scan, hash and encode proxies, but send nothing: print every call it would make.
    #[arg(long)]
    dry_run: bool,
    /// Write every iconik call as an equivalent curl command (token redacted).
    #[arg(long, value_name = "FILE")]
    transcript: Option<PathBuf>,
    /// Ingest into a built-in sandbox started in this process (no iconik account needed).
    #[arg(long)]
    sandbox: bool,
    /// With --sandbox: a folder with iconik's OpenAPI files replacing the copy built into
    /// card-ingest for request validation.
    #[arg(long, value_name = "DIR", requires = "sandbox")]
    spec: Option<PathBuf>,
    /// With --sandbox: the settings of the sandbox's FILES storage (see `card-ingest sandbox
    /// --help`); shows how the app reacts to a scanned or ACL-controlled storage.
    #[arg(long, value_name = "NAME", requires = "sandbox", value_parser = super::sandbox::storage_profile_parser())]
    pub storage_profile: Option<card_ingest::sandbox::profiles::StorageProfile>,
    /// Print progress events as JSON lines on stdout.
    #[arg(long)]
    json: bool,
    /// Register clips whose files are already in iconik.
    #[arg(long)]
    force: bool,
    /// Resumable upload chunk size in KiB (multiple of 256).
    #[arg(long, default_value_t = 8192, hide = true)]
    upload_chunk_kib: u64,
    /// How long to wait for an unreachable iconik (90s, 60m, 2h) before stopping with the
    /// journal ready to resume; the disk and CPU work goes on meanwhile.
    #[arg(long, value_name = "DURATION", default_value = "60m", value_parser = card_ingest::ingest::options::parse_duration)]
    offline_wait: std::time::Duration,
    /// Cap of all proxy uploads together, bytes per second (20M = 20 MiB/s, 500K).
    #[arg(long, value_name = "RATE", value_parser = card_ingest::iconik::upload::throttle::parse_rate)]
    max_upload_rate: Option<u64>,
    /// Show the card as a job on iconik's Jobs page (one child job per clip; aborting it there
    /// stops the card).
    #[arg(long)]
    iconik_job: bool,
}

impl IngestArgs {
    /// `ingest PATH --sandbox --journal-dir JOURNAL` (what `card-ingest demo` runs).
    pub fn sandbox_demo(path: PathBuf, journal_dir: PathBuf, json: bool) -> Self {
        Self {
            paths: vec![path],
            server: None,
            storage: None,
            storage_root: None,
            offload_to: Vec::new(),
            verify: VerifyArg::ReadBack,
            allow_same_volume: false,
            proxy: ProxyArg::Local,
            encoder: EncoderChoice::Auto,
            lut: None,
            burn_in: None,
            proxy_preset: None,
            camera_proxy: false,
            look_rule: Vec::new(),
            burn_in_corner: Corner::BottomLeft,
            collection: None,
            metadata_view: None,
            metadata: Vec::new(),
            title_template: "{user_clip_name}".to_owned(),
            concurrency: 4,
            io_concurrency: None,
            journal_dir: Some(journal_dir),
            report_dir: None,
            dry_run: false,
            transcript: None,
            sandbox: true,
            spec: None,
            storage_profile: None,
            json,
            force: false,
            upload_chunk_kib: 8192,
            offline_wait: std::time::Duration::from_secs(3600),
            max_upload_rate: None,
            iconik_job: false,
        }
    }
}

/// A `--metadata FIELD=VALUE` pair (the value may itself contain `=`).
fn parse_field_value(pair: &str) -> Result<(String, String), String> {
    match pair.split_once('=') {
        Some((field, value)) if !field.trim().is_empty() => {
            Ok((field.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!(
            "{pair:?} is not FIELD=VALUE: write e.g. --metadata scene=12 (field name of the view)"
        )),
    }
}

/// App-ID and token for `server`: `ICONIK_APP_ID`/`ICONIK_AUTH_TOKEN` (automation) first, else
/// the OS keyring (`card-ingest login`). Blocking (keyring round trips).
fn credentials(server: &str) -> anyhow::Result<Credentials> {
    let key = ServerKey::parse(server)?;
    let env = EnvStore::from_process_env();
    let found = match env.credentials()? {
        Some(c) => c,
        // Opening the keyring fails with a message that names the environment variables.
        None => KeyringStore::open()?.get(&key)?,
    };
    Ok(Credentials::new(
        found.app_id(),
        found.token().expose_secret(),
    ))
}

pub fn run(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let tools = super::detect_tools();
    // Posters for the report (the engine takes `tools`).
    let report_ffmpeg = tools.ffmpeg.clone();
    super::warn_missing_tools(&tools);
    if matches!(args.proxy, ProxyArg::Local) && tools.ffmpeg.is_none() {
        // Refuse before any call: every clip would otherwise fail at its proxy step.
        bail!(
            "ffmpeg is needed for local proxies (--proxy local, the default) and was not found. \
             To continue: rerun with --proxy iconik (iconik's transcoder makes the proxy from the \
             registered original) or --proxy none, or {}.",
            card_ingest::media::tools::Os::current()
                .install_hint(card_ingest::media::tools::ToolKind::Ffmpeg)
        );
    }
    if let (ProxyArg::Local, Some(ffmpeg)) = (&args.proxy, &tools.ffmpeg) {
        // The encoder is detected while the card is scanned (the engine finds it cached).
        card_ingest::media::proxy::encoder::warm_up(ffmpeg, args.encoder);
    }
    let paths = args.paths.clone();
    let tools2 = tools.clone();
    // The clips are grouped at once and described in the background, in card order: clip 1's
    // calls and encode start while MediaInfo reads the rest of the card. (Camera proxies are
    // probed by the ingest itself, only when it may use them.)
    let report = tokio::task::spawn_blocking(move || {
        scan::scan_streaming(&paths, &tools2, |e| {
            eprintln!("warning: {}: {}", e.path.display(), e.message);
        })
    })
    .await
    .context("scan interrupted")?
    .context("scan failed")?;
    if report.cards.is_empty() {
        bail!("no camera card found in {:?}", args.paths);
    }
    for e in &report.errors {
        eprintln!("warning: {}: {}", e.path.display(), e.message);
    }
    let first_card = report.cards[0].root.clone();
    let in_process = args.sandbox || args.dry_run;
    let storage_root = match (&args.storage_root, in_process) {
        (Some(r), _) => r.clone(),
        (None, true) => args
            .offload_to
            .first()
            .cloned()
            .or_else(|| first_card.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| first_card.clone()),
        (None, false) => match args.offload_to.first() {
            Some(o) => o.clone(),
            None => bail!(
                "--storage-root is required: the local mount of the iconik storage (paths sent to \
                 iconik are relative to it), or use --offload-to that mount"
            ),
        },
    };
    let storage_root = card_ingest::canonical::canonicalize(&storage_root)
        .with_context(|| format!("storage root {}", storage_root.display()))?;

    // The server: a real iconik, or an in-process sandbox (demo / dry run).
    let sandbox_handle = if in_process {
        let config = SandboxConfig {
            spec_dir: args.spec.clone(),
            mount_point: storage_root.display().to_string(),
            job_delay: std::time::Duration::from_millis(100),
            storage_profile: args.storage_profile.unwrap_or_default(),
            ..SandboxConfig::default()
        };
        Some({
            let handle = sandbox::spawn(config)
                .await
                .context("starting the sandbox")?;
            eprintln!(
                "built-in sandbox at {}: every request body is validated against {}",
                handle.base_url(),
                handle.spec_summary()
            );
            handle
        })
    } else {
        None
    };
    let (server, creds, storage) = match &sandbox_handle {
        Some(h) => (
            h.base_url().to_owned(),
            Credentials::new(
                h.credentials().app_id.clone(),
                h.credentials().token.clone(),
            ),
            args.storage
                .clone()
                .unwrap_or_else(|| "Sandbox originals".to_owned()),
        ),
        None => {
            let server = args.server.clone().context("--server is required")?;
            let s2 = server.clone();
            let creds = tokio::task::spawn_blocking(move || credentials(&s2))
                .await
                .context("credential lookup interrupted")??;
            (
                server,
                creds,
                args.storage.clone().context("--storage is required")?,
            )
        }
    };
    let dry_dir = std::env::temp_dir().join(format!("card-ingest-dry-run-{}", std::process::id()));
    let token = creds.token.clone();
    let mut client = Client::new(&server, creds).context("iconik client")?;
    let mut upload = UploadHttp::new(&UploadConfig::default()).context("upload client")?;
    // --dry-run always keeps a transcript: it is what gets printed.
    let transcript_path = match (&args.transcript, args.dry_run) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => Some(dry_dir.join("transcript.sh")),
        (None, false) => None,
    };
    if let Some(path) = &transcript_path {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let header = TranscriptHeader {
            card: args
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            server: server.clone(),
            started_at: chrono::Utc::now(),
        };
        let writer = Arc::new(
            TranscriptWriter::create(path, &header)
                .context("creating the transcript")?
                .redacting(&token),
        );
        client = client.with_observer(writer.clone());
        upload = upload.with_observer(writer);
    }
    let store = match (&args.journal_dir, args.dry_run) {
        (_, true) => JournalStore::at(dry_dir.join("journals")),
        (Some(d), false) => JournalStore::at(d),
        (None, false) => JournalStore::default_location().context("journal folder")?,
    };
    let proxy_dir = store.dir().join("proxies");
    let mut options = IngestOptions::new(storage, storage_root.clone(), proxy_dir);
    options.offload_to = args.offload_to.first().cloned();
    options.offline_wait = Some(args.offline_wait);
    options.max_upload_rate = args.max_upload_rate;
    options.iconik_job = args.iconik_job;
    #[cfg(unix)]
    card_ingest::pause::on_unix_signals(options.pause.clone());
    if let Some(lut) = &args.lut {
        // Checked before any call: a bad LUT is the operator's to fix, not a per-clip failure.
        card_ingest::media::proxy::look::Look::load(lut)
            .with_context(|| format!("--lut {}", lut.display()))?;
        options.lut = Some(lut.clone());
    }
    options.burn_in = args.burn_in.clone().map(|b| b.0).unwrap_or_default();
    options.burn_in_corner = args.burn_in_corner;
    options.proxy_preset = args.proxy_preset;
    options.camera_proxy = args.camera_proxy;
    for rule in &args.look_rule {
        // Checked before any call, as --lut is.
        card_ingest::media::proxy::look::Look::load(&rule.lut)
            .with_context(|| format!("--look-rule {}", rule.lut.display()))?;
    }
    options.look_rules = args.look_rule.clone();
    options.offload_also = args.offload_to.iter().skip(1).cloned().collect();
    options.verify = match args.verify {
        VerifyArg::ReadBack => card_ingest::offload::VerifyMode::ReadBack,
        VerifyArg::Size => card_ingest::offload::VerifyMode::Size,
    };
    // In-process runs (sandbox, dry run) are for trying things out: same drive allowed.
    options.allow_same_volume = args.allow_same_volume || in_process;
    options.proxy = match args.proxy {
        ProxyArg::Local => ProxyMode::Local,
        ProxyArg::Iconik => ProxyMode::Iconik,
        ProxyArg::None => ProxyMode::None,
    };
    options.encoder = args.encoder;
    options.collection = args.collection.clone();
    options.metadata_view = args.metadata_view.clone();
    options.metadata = args.metadata.iter().cloned().collect();
    options.title_template = args.title_template.clone();
    options.concurrency = args.concurrency.max(1);
    if let Some(n) = args.io_concurrency {
        options.io_concurrency = n.max(1);
    }
    options.force = args.force;
    options.write_manifest = !args.dry_run;
    options.upload_chunk_bytes = args.upload_chunk_kib.max(256) / 256 * 256 * 1024;
    let engine = Engine {
        client,
        upload,
        ffmpeg: tools.ffmpeg.clone(),
        tools,
        store: store.clone(),
        options,
        offload_after_copy: None,
    };

    let cancel = Arc::new(AtomicBool::new(false));
    let cancel2 = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping at the next safe point (Ctrl-C)…");
            cancel2.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });

    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let printer = tokio::spawn(print_events(rx, args.json));
    let mut outcomes = Vec::new();
    let started_at = chrono::Utc::now();
    let mut fatal = None;
    for card in &report.cards {
        let clips: Vec<_> = report
            .clips
            .iter()
            .filter(|c| c.clip.card_root == card.root)
            .cloned()
            .collect();
        if clips.is_empty() {
            continue;
        }
        let job = CardJob::new(card.clone(), clips, &report.cards);
        match engine
            .run_card(job, EventSink::new(tx.clone()), None, cancel.clone())
            .await
        {
            Ok(o) => {
                let refused = o.token_refused;
                outcomes.push(o);
                if refused {
                    break;
                }
            }
            Err(e) => {
                fatal = Some(e);
                break;
            }
        }
    }
    drop(tx);
    if let Err(e) = printer.await {
        tracing::warn!(error = %e, "progress printer stopped");
    }
    match fatal {
        // A refused token is the operator's to fix, like a failed clip: exit 1 with the message.
        Some(card_ingest::ingest::IngestError::TokenRefused) => {
            eprintln!("card-ingest: {TOKEN_REFUSED}");
            return Ok(ExitCode::from(1));
        }
        // iconik unreachable past --offline-wait: the journal resumes it, like failed clips.
        Some(e @ card_ingest::ingest::IngestError::Offline) => {
            eprintln!("card-ingest: {e}");
            return Ok(ExitCode::from(1));
        }
        Some(e) => return Err(e.into()),
        None => {}
    }

    let report_dir = args
        .report_dir
        .clone()
        .unwrap_or_else(|| store.dir().to_path_buf());
    std::fs::create_dir_all(&report_dir)
        .with_context(|| format!("report folder {}", report_dir.display()))?;
    for o in &outcomes {
        let mut rep = card_report(o, started_at);
        if let Some(ffmpeg) = &report_ffmpeg {
            card_ingest::ingest::summary::attach_posters(&mut rep, o, ffmpeg);
        }
        let name = o
            .card
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let paths = report::report_paths(&report_dir, &name, &chrono::Local::now());
        report::write_html(&rep, &paths.html)?;
        report::write_csv(&rep, &paths.csv)?;
        let pdf = paths.html.with_extension("pdf");
        card_ingest::ingest::report_pdf::write_pdf(&rep, &pdf)?;
        eprintln!("report: {} (and .csv, .pdf)", paths.html.display());
        if let Some(m) = &o.mhl {
            eprintln!("ASC MHL manifest: {}", m.display());
        }
        eprintln!("journal: {}", o.journal_path.display());
    }
    if let (Some(path), false) = (&transcript_path, args.dry_run) {
        eprintln!("transcript: {}", path.display());
    }
    if args.dry_run
        && let Some(path) = &transcript_path
    {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "# --dry-run: nothing was sent to iconik. These are the calls an ingest makes, played \
             against an in-process stand-in; every id below is a placeholder."
        )?;
        out.write_all(text.as_bytes())?;
        if let Err(e) = std::fs::remove_dir_all(&dry_dir) {
            tracing::debug!(error = %e, "dry-run folder not removed");
        }
    }
    let ok = print_summary(&outcomes);
    if outcomes.iter().any(|o| o.token_refused) {
        eprintln!("{TOKEN_REFUSED}");
    }
    if args.sandbox
        && let Some(h) = &sandbox_handle
    {
        eprintln!(
            "sandbox {} holds {} assets (the sandbox stops when this command ends)",
            h.base_url(),
            h.state()["assets"].as_array().map_or(0, Vec::len)
        );
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn print_events(mut rx: tokio::sync::mpsc::UnboundedReceiver<IngestEvent>, json: bool) {
    let bar = (!json && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    while let Some(ev) = rx.recv().await {
        if json {
            match serde_json::to_string(&ev) {
                Ok(line) => println!("{line}"),
                Err(e) => tracing::warn!(error = %e, "event not printable"),
            }
            continue;
        }
        let who = ev.clip_name.clone().unwrap_or_default();
        let step = ev.step.map(|s| s.to_string()).unwrap_or_default();
        let line = match &ev.kind {
            EventKind::CardStarted { card, clips } => Some(format!("card {card}: {clips} clips")),
            EventKind::Notice { level, message } => Some(match level {
                NoticeLevel::Warning => format!("warning: {message}"),
                NoticeLevel::Info => message.clone(),
            }),
            EventKind::Started => Some(format!("{who}: {step} …")),
            EventKind::Done { detail } => Some(format!(
                "{who}: {step} done{}",
                detail
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )),
            EventKind::Skipped { reason } => Some(format!("{who}: {step} skipped: {reason}")),
            EventKind::Failed { error, .. } => Some(format!("{who}: {step} FAILED: {error}")),
            EventKind::Retrying {
                attempt,
                delay_ms,
                error,
            } => Some(format!(
                "{who}: {step} retry {attempt} in {delay_ms} ms ({error})"
            )),
            EventKind::Offline {
                since,
                retry_every_s,
            } => Some(format!(
                "iconik unreachable since {}; retrying every {retry_every_s:.0} s",
                since.with_timezone(&chrono::Local).format("%H:%M")
            )),
            EventKind::Online { offline_ms } => Some(format!(
                "iconik answers again after {} s offline",
                offline_ms / 1000
            )),
            EventKind::CardFinished {
                completed,
                failed,
                skipped,
                ..
            } => Some(format!(
                "card done: {completed} completed, {failed} failed, {skipped} skipped"
            )),
            EventKind::Progress {
                done_bytes,
                total_bytes,
                ..
            } => {
                if let Some(b) = &bar {
                    b.set_length(*total_bytes);
                    b.set_position(*done_bytes);
                    b.set_message(format!("{who} {step}"));
                }
                None
            }
        };
        if let Some(line) = line {
            match &bar {
                Some(b) => b.println(line),
                None => eprintln!("{line}"),
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}

/// Prints the per-clip table to stderr; true when every clip completed.
fn print_summary(outcomes: &[CardOutcome]) -> bool {
    let mut ok = !outcomes.is_empty();
    eprintln!(
        "{:<10} {:<10} {:<38} FAILED STEP / NOTE",
        "CLIP", "STATUS", "ASSET"
    );
    for o in outcomes {
        ok &= o.all_complete();
        for c in o.record.clips.values() {
            let asset = c
                .asset_id
                .map(|a| a.to_string())
                .unwrap_or_else(|| "-".into());
            let (status, note) = match c.failure() {
                Some((step, err)) => ("FAILED", format!("{step}: {err}")),
                None if c.duplicate_of.is_some() => {
                    ("SKIPPED", c.duplicate_of.clone().unwrap_or_default())
                }
                None if matches!(
                    c.step(card_ingest::ingest::Step::CreateAsset),
                    StepState::Skipped { .. }
                ) =>
                {
                    (
                        "SKIPPED",
                        match c.step(card_ingest::ingest::Step::CreateAsset) {
                            StepState::Skipped { reason } => reason,
                            _ => String::new(),
                        },
                    )
                }
                None if c.is_complete() => ("OK", String::new()),
                None => (
                    "STOPPED",
                    "not finished; run the same command again to resume".into(),
                ),
            };
            eprintln!("{:<10} {:<10} {:<38} {}", c.name, status, asset, note);
        }
        // The one line an operator acts on before formatting the card, with its evidence.
        let root = card_ingest::canonical::canonicalize(&o.card.root)
            .unwrap_or_else(|_| o.card.root.clone());
        let verdict = card_ingest::ingest::erase::verdict(&o.record, &root);
        eprintln!(
            "{}: {}",
            o.card.root.display(),
            if verdict.safe_to_erase {
                "SAFE TO ERASE"
            } else {
                "NOT safe to erase"
            }
        );
        for line in verdict.lines() {
            eprintln!("  {line}");
        }
    }
    ok
}
