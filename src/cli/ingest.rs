//! `card-ingest ingest PATH... --server URL --storage STORAGE [...]`: scans the cards, runs the
//! ingest engine per card and prints progress (stderr lines, a progress bar on a terminal, or
//! `--json` event lines on stdout), then a summary. Exit 0 when every clip completed, 1
//! otherwise. `--sandbox` ingests into an in-process sandbox; `--dry-run` runs the same flow
//! against an in-process stand-in and prints the calls it would make, sending nothing.

use anyhow::{Context, bail};
use card_ingest::iconik::Credentials;
use card_ingest::ingest::journal::JournalStore;
use card_ingest::ingest::retry::TOKEN_REFUSED;
use card_ingest::ingest::session::{
    self, CardEnd, Face, SessionConfig, SessionEvent, SessionRequest,
};
use card_ingest::ingest::{CardPlan, EventKind, IngestOptions, NoticeLevel, ProxyMode};
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
    #[arg(long, value_name = "URL", required_unless_present_any = ["sandbox", "dry_run", "preset"])]
    server: Option<String>,
    /// iconik FILES storage (id or name) holding the originals.
    #[arg(long, value_name = "STORAGE", required_unless_present_any = ["sandbox", "dry_run", "preset"])]
    storage: Option<String>,
    /// Take the run's options from this preset (a name saved in the window, see Settings ›
    /// Preset, or a preset file's path); flags given beside it override it.
    #[arg(long, value_name = "NAME|FILE")]
    preset: Option<String>,
    /// The ids of the flags given on the command line (not defaults): with --preset only these
    /// override the preset. Filled from clap's `ArgMatches` ([`IngestArgs::note_given`]).
    #[arg(skip)]
    given: std::collections::BTreeSet<String>,
    /// Local mount of that storage; registered paths are relative to it.
    #[arg(long, value_name = "LOCAL_PATH")]
    storage_root: Option<PathBuf>,
    /// Copy the card under this folder first ({date}/{card}), verify it and register the copy.
    /// Repeat for more destinations (RAID, shuttle drive): the card is read once and each gets
    /// its own verified copy and ASC MHL; the first is the one registered.
    #[arg(long, value_name = "LOCAL_PATH")]
    offload_to: Vec<PathBuf>,
    /// A later-tier destination (repeatable): filled from the first --offload-to's verified
    /// copy, not from the card, after the card is released (`card_released`); its own verified
    /// copy and ASC MHL generation. Needs --offload-to.
    #[arg(long, value_name = "LOCAL_PATH")]
    cascade_to: Vec<PathBuf>,
    /// Copy passes writing to one drive (device) at once, over every card of this run: two
    /// destination folders on one RAID share it; a card waits for its drive's slot.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    drive_writers: u16,
    /// Verified copies the card needs to be safe to erase (default: every destination's): a
    /// later tier that failed keeps the card from safe to erase only when fewer remain.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    required_copies: Option<u16>,
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
    /// Make an edit proxy (iconik format PPRO_PROXY, for Premiere Pro) from the same encode and
    /// store it on this storage, repeatable: a cloud storage by id or name, or a FILES storage
    /// with the local folder where it is mounted (`STORAGE=LOCAL_MOUNT`).
    #[arg(long, value_name = "STORAGE[=LOCAL_MOUNT]", value_parser = parse_storage_target)]
    edit_proxy_to: Vec<card_ingest::ingest::storage_target::StorageTarget>,
    /// An iconik FILES storage and its local mount, repeatable: every further --offload-to
    /// destination under LOCAL_MOUNT is registered as its own ORIGINAL file set on STORAGE
    /// (the first destination is --storage, as before).
    #[arg(long, value_name = "STORAGE=LOCAL_MOUNT", value_parser = parse_offload_storage)]
    offload_storage: Vec<card_ingest::ingest::storage_target::StorageTarget>,
    /// Upload the clips' original files to this cloud storage (id or name), repeatable: one more
    /// ORIGINAL file set there, each file's MD5 checked against what the storage reports; a
    /// verified copy is a line of the safe-to-erase evidence.
    #[arg(long, value_name = "STORAGE")]
    cloud_copy: Vec<String>,
    /// The edit proxy's codec: prores-proxy (ProRes 422 Proxy) or dnxhr-lb.
    #[arg(long, value_name = "CODEC", default_value = "prores-proxy", value_parser = parse_edit_codec)]
    edit_proxy_codec: card_ingest::media::proxy::EditCodec,
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
    /// {project} in --title-template and the offload pattern where the clips record no project
    /// (default: no-project).
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
    /// iconik metadata view (id) that --metadata values are written to.
    #[arg(long, value_name = "VIEW_ID")]
    metadata_view: Option<String>,
    /// A metadata view value written to every asset (repeatable), e.g. --metadata scene=12.
    #[arg(long, value_name = "FIELD=VALUE", value_parser = parse_field_value, requires = "metadata_view")]
    metadata: Vec<(String, String)>,
    /// Asset title: {user_clip_name}, {name}, {card}, {date}, {family}, {camera}, {reel},
    /// {shoot_date}, {card_serial}, {project}, {preset} (a missing value: unknown-camera, …).
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
    /// Registering in place (no --offload-to): also write an ASC MHL generation of the clips'
    /// files into the card folder's `ascmhl/` (it writes onto the card: off by default).
    #[arg(long)]
    mhl_in_place: bool,
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
    /// Also ingest clips with an empty or truncated member file (held back by default: the
    /// scan says which file and to re-copy it from the card).
    #[arg(long)]
    include_damaged: bool,
    /// Show a desktop notification when a card ends (as the window does).
    #[arg(long)]
    notify: bool,
    /// POST each card's summary as JSON to this URL when the card ends (https, or http to this
    /// machine only).
    #[arg(long, value_name = "URL")]
    webhook: Option<String>,
    /// With --sandbox, from a terminal: keep the sandbox serving its web view after the run
    /// until Enter or Ctrl+C (what `card-ingest demo` does).
    #[arg(long, requires = "sandbox")]
    keep_serving: bool,
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
    /// Do not show the card as a job on iconik's Jobs page (shown by default: one child job per
    /// clip, and aborting it there stops the card).
    #[arg(long)]
    no_iconik_job: bool,
}

impl IngestArgs {
    /// Records which flags the command line gave (clap's value source), so that with --preset
    /// a flag left at its default does not override the preset's value.
    pub fn note_given(&mut self, matches: &clap::ArgMatches) {
        self.given = matches
            .ids()
            .filter(|id| {
                matches.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine)
            })
            .map(|id| id.as_str().to_owned())
            .collect();
    }

    /// Whether the flag `id` decides its option: always without a preset, with one only when
    /// given on the command line.
    fn decides(&self, preset: bool, id: &str) -> bool {
        !preset || self.given.contains(id)
    }

    /// `ingest PATH --sandbox --journal-dir JOURNAL` (what `card-ingest demo` runs).
    pub fn sandbox_demo(path: PathBuf, journal_dir: PathBuf, json: bool) -> Self {
        Self {
            paths: vec![path],
            server: None,
            storage: None,
            preset: None,
            given: Default::default(),
            storage_root: None,
            offload_to: Vec::new(),
            cascade_to: Vec::new(),
            drive_writers: 1,
            required_copies: None,
            verify: VerifyArg::ReadBack,
            allow_same_volume: false,
            proxy: ProxyArg::Local,
            encoder: EncoderChoice::Auto,
            lut: None,
            burn_in: None,
            proxy_preset: None,
            camera_proxy: false,
            edit_proxy_to: Vec::new(),
            edit_proxy_codec: Default::default(),
            offload_storage: Vec::new(),
            cloud_copy: Vec::new(),
            look_rule: Vec::new(),
            burn_in_corner: Corner::BottomLeft,
            collection: None,
            project: None,
            metadata_view: None,
            metadata: Vec::new(),
            title_template: "{user_clip_name}".to_owned(),
            concurrency: 4,
            io_concurrency: None,
            journal_dir: Some(journal_dir),
            report_dir: None,
            dry_run: false,
            mhl_in_place: false,
            transcript: None,
            sandbox: true,
            spec: None,
            storage_profile: None,
            json,
            force: false,
            include_damaged: false,
            notify: false,
            webhook: None,
            keep_serving: true,
            upload_chunk_kib: 8192,
            offline_wait: std::time::Duration::from_secs(3600),
            max_upload_rate: None,
            no_iconik_job: false,
        }
    }
}

fn parse_storage_target(
    text: &str,
) -> Result<card_ingest::ingest::storage_target::StorageTarget, String> {
    card_ingest::settings::parse_target(text, false)
}

fn parse_offload_storage(
    text: &str,
) -> Result<card_ingest::ingest::storage_target::StorageTarget, String> {
    card_ingest::settings::parse_target(text, true)
}

fn parse_edit_codec(text: &str) -> Result<card_ingest::media::proxy::EditCodec, String> {
    card_ingest::media::proxy::EditCodec::parse(text)
        .ok_or_else(|| format!("unknown edit proxy codec {text:?}: prores-proxy or dnxhr-lb"))
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

/// The engine's options from the flags: the CLI's one pure step. Without a preset they start
/// from the engine's defaults; with `--preset` from the preset's settings through the window's
/// own mapping ([`card_ingest::settings::Settings::ingest_options`]), and only the flags given on the command line override them — so a
/// preset gives the same options in both faces. `in_process`: a sandbox or dry run, for trying
/// things out, where the same drive is allowed.
pub fn options_from_args(
    args: &IngestArgs,
    preset: Option<&card_ingest::settings::Settings>,
    storage: String,
    storage_root: PathBuf,
    journal_dir: &Path,
    in_process: bool,
) -> IngestOptions {
    // The window keeps its journals in `<data>/journals`: the journal folder's parent plays
    // its data folder (proxies, a sandbox preset's copies).
    let data_dir = journal_dir.parent().unwrap_or(journal_dir);
    let mut options = match preset {
        Some(settings) => settings.ingest_options(storage, storage_root, data_dir, in_process),
        None => IngestOptions::new(storage, storage_root, journal_dir.join("proxies")),
    };
    let given = |id: &str| args.decides(preset.is_some(), id);
    if given("offload_to") {
        options.offload_to = args.offload_to.first().cloned();
        options.offload_also = args.offload_to.iter().skip(1).cloned().collect();
    }
    if given("cascade_to") {
        options.cascade_to = args.cascade_to.clone();
    }
    if given("drive_writers") {
        options.writers_per_drive = usize::from(args.drive_writers);
    }
    if given("required_copies") {
        options.required_copies = args.required_copies.map(usize::from);
    }
    if given("lut") {
        options.lut = args.lut.clone();
    }
    if given("burn_in") {
        options.burn_in = args.burn_in.clone().map(|b| b.0).unwrap_or_default();
    }
    if given("burn_in_corner") {
        options.burn_in_corner = args.burn_in_corner;
    }
    if given("proxy_preset") {
        options.proxy_preset = args.proxy_preset;
    }
    if given("camera_proxy") {
        options.camera_proxy = args.camera_proxy;
    }
    if given("edit_proxy_to") {
        options.edit_proxy_to = args.edit_proxy_to.clone();
    }
    if given("edit_proxy_codec") {
        options.edit_proxy_codec = args.edit_proxy_codec;
    }
    if given("offload_storage") {
        options.offload_storages = args.offload_storage.clone();
    }
    if given("cloud_copy") {
        options.cloud_copy = args.cloud_copy.clone();
    }
    if given("look_rule") {
        options.look_rules = args.look_rule.clone();
    }
    if given("verify") {
        options.verify = match args.verify {
            VerifyArg::ReadBack => card_ingest::offload::VerifyMode::ReadBack,
            VerifyArg::Size => card_ingest::offload::VerifyMode::Size,
        };
    }
    if given("allow_same_volume") {
        options.allow_same_volume = args.allow_same_volume || in_process;
    }
    if given("proxy") {
        options.proxy = match args.proxy {
            ProxyArg::Local => ProxyMode::Local,
            ProxyArg::Iconik => ProxyMode::Iconik,
            ProxyArg::None => ProxyMode::None,
        };
    }
    if given("encoder") {
        options.encoder = args.encoder;
    }
    if given("collection") {
        options.collection = args.collection.clone();
    }
    if given("project") {
        options.project = args.project.clone();
    }
    if given("metadata_view") {
        options.metadata_view = args.metadata_view.clone();
    }
    if given("metadata") {
        options.metadata = args.metadata.iter().cloned().collect();
    }
    if given("title_template") {
        options.title_template = args.title_template.clone();
    }
    if given("concurrency") {
        options.concurrency = args.concurrency.max(1);
    }
    if let Some(n) = args.io_concurrency {
        options.io_concurrency = n.max(1);
    }
    if given("force") {
        options.force = args.force;
    }
    if given("upload_chunk_kib") {
        options.upload_chunk_bytes = args.upload_chunk_kib.max(256) / 256 * 256 * 1024;
    }
    if given("max_upload_rate") {
        options.max_upload_rate = args.max_upload_rate;
    }
    if given("no_iconik_job") {
        options.iconik_job = !args.no_iconik_job;
    }
    // This face's own: a dry run writes nothing, and a command gives up on an unreachable
    // iconik after --offline-wait where the window waits (no preset decides these).
    options.write_manifest = args.mhl_in_place && !args.dry_run;
    options.offline_wait = Some(args.offline_wait);
    options
}

/// The preset of `--preset` (by name in the config folder's presets, or a file), as the
/// settings it runs with; `None` without the flag.
fn preset_settings(args: &IngestArgs) -> anyhow::Result<Option<card_ingest::settings::Settings>> {
    let Some(name) = &args.preset else {
        return Ok(None);
    };
    let dirs = card_ingest::settings::AppDirs::from_os();
    // The machine's own fields (tool paths) come from this machine's settings.
    let current = dirs
        .as_ref()
        .and_then(|d| card_ingest::settings::load(&d.settings_file()).ok())
        .unwrap_or_default();
    let presets = dirs
        .as_ref()
        .map(card_ingest::preset::presets_dir)
        .unwrap_or_default();
    let preset = card_ingest::preset::resolve(&presets, name)?;
    Ok(Some(preset.settings(&current)))
}

async fn run_async(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let tool_paths = super::tool_paths();
    let tools = card_ingest::media::Tools::detect_with(&tool_paths);
    super::warn_missing_tools(&tools);
    let preset = preset_settings(&args)?;
    // A preset saved while the window used its built-in sandbox runs in one here too (unless
    // --server names another iconik).
    let sandbox = args.sandbox
        || preset.as_ref().is_some_and(|p| {
            p.server == card_ingest::settings::ServerChoice::Sandbox && args.server.is_none()
        });
    let in_process = sandbox || args.dry_run;
    let dry_dir = std::env::temp_dir().join(format!("card-ingest-dry-run-{}", std::process::id()));
    let store = match (&args.journal_dir, args.dry_run) {
        (_, true) => JournalStore::at(dry_dir.join("journals")),
        (Some(d), false) => JournalStore::at(d),
        (None, false) => JournalStore::default_location().context("journal folder")?,
    };
    // The options before the storage is known: what the checks below need (proxy mode, looks,
    // destinations), with the preset's values where no flag overrides them.
    let early = options_from_args(
        &args,
        preset.as_ref(),
        String::new(),
        PathBuf::new(),
        store.dir(),
        in_process,
    );
    if early.proxy == ProxyMode::Local && tools.ffmpeg.is_none() {
        // Refuse before any call: every clip would otherwise fail at its proxy step.
        bail!(
            "ffmpeg is needed for local proxies (--proxy local, the default) and was not found. \
             To continue: rerun with --proxy iconik (iconik's transcoder makes the proxy from the \
             registered original) or --proxy none, or {}.",
            card_ingest::media::tools::Os::current()
                .install_hint(card_ingest::media::tools::ToolKind::Ffmpeg)
        );
    }
    if !early.cascade_to.is_empty() && early.offload_to.is_none() {
        bail!(
            "--cascade-to needs --offload-to: a later tier is filled from the first \
             --offload-to's verified copy, never from the card; add --offload-to LOCAL_PATH \
             (e.g. the fast RAID) or give the destination as --offload-to instead"
        );
    }
    // Checked before any call: a bad LUT is the operator's to fix, not a per-clip failure.
    if let Some(lut) = &early.lut {
        card_ingest::media::proxy::look::Look::load(lut)
            .with_context(|| format!("--lut {}", lut.display()))?;
    }
    for rule in &early.look_rules {
        card_ingest::media::proxy::look::Look::load(&rule.lut)
            .with_context(|| format!("--look-rule {}", rule.lut.display()))?;
    }
    if let (ProxyMode::Local, Some(ffmpeg)) = (early.proxy, &tools.ffmpeg) {
        // The encoder is detected while the card is scanned (the engine finds it cached).
        card_ingest::media::proxy::encoder::warm_up(ffmpeg, early.encoder);
    }
    let paths = args.paths.clone();
    let tools2 = tools.clone();
    // The clips are grouped at once and described in the background, in card order: clip 1's
    // calls and encode start while MediaInfo reads the rest of the card. (Camera proxies are
    // probed by the ingest itself, only when it may use them.)
    // A destination folder named from the clips' metadata ({camera}, {project}, …) is fixed
    // before the card's first byte is copied: then every clip is described first, so the
    // folder is the one the window previews, not a fallback.
    let describe_first = early.offload_to.is_some()
        && card_ingest::offload::plan::NameValues::needs_metadata(&early.offload_pattern);
    let report = tokio::task::spawn_blocking(move || {
        if describe_first {
            let options = scan::ScanOptions {
                camera_proxies: false,
            };
            scan::scan_with(&paths, &tools2, options)
        } else {
            scan::scan_streaming(&paths, &tools2, |e| {
                eprintln!("warning: {}: {}", e.path.display(), e.message);
            })
        }
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
    let preset_mount = preset
        .as_ref()
        .map(|p| p.storage_mount.trim())
        .filter(|m| !m.is_empty() && !in_process)
        .map(PathBuf::from);
    if in_process
        && preset.is_some()
        && let Some(to) = &early.offload_to
    {
        // A sandbox preset copies into the app's own folder (as the window does): made here.
        std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    }
    let storage_root = match (args.storage_root.clone().or(preset_mount), in_process) {
        (Some(r), _) => r,
        (None, true) => early
            .offload_to
            .clone()
            .or_else(|| first_card.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| first_card.clone()),
        (None, false) => match early.offload_to.clone() {
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
    let (server, credentials, storage) = match &sandbox_handle {
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
            let server = match (&args.server, &preset) {
                (Some(s), _) => s.clone(),
                (None, Some(p)) => p.server_url().context(
                    "the preset names no iconik server (a custom URL left empty): give --server",
                )?,
                (None, None) => bail!("--server is required"),
            };
            let s2 = server.clone();
            let creds = tokio::task::spawn_blocking(move || credentials(&s2))
                .await
                .context("credential lookup interrupted")??;
            let storage = args
                .storage
                .clone()
                .or_else(|| {
                    preset
                        .as_ref()
                        .map(|p| p.storage_id.trim().to_owned())
                        .filter(|s| !s.is_empty())
                })
                .context(
                    "--storage is required (the preset names no storage: pick one in the \
                     window's Connection and save the preset again)",
                )?;
            (server, creds, storage)
        }
    };
    // --dry-run always keeps a transcript: it is what gets printed.
    let transcript_path = match (&args.transcript, args.dry_run) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => Some(dry_dir.join("transcript.sh")),
        (None, false) => None,
    };
    let options = options_from_args(
        &args,
        preset.as_ref(),
        storage,
        storage_root,
        store.dir(),
        in_process,
    );
    // SIGUSR1 pauses the run, SIGUSR2 resumes it.
    #[cfg(unix)]
    card_ingest::pause::on_unix_signals(options.pause.clone());
    let config = SessionConfig {
        face: Face::Cli,
        server: server.clone(),
        credentials,
        options,
        journal_dir: store.dir().to_path_buf(),
        report_dir: args
            .report_dir
            .clone()
            .unwrap_or_else(|| store.dir().to_path_buf()),
        transcript: transcript_path.clone(),
        sandbox,
        tool_paths,
        // Notifications are the preset's unless a flag says otherwise.
        notify_desktop: match &preset {
            Some(p) if !args.given.contains("notify") => p.notify_desktop,
            _ => args.notify,
        },
        webhook_url: match (&args.webhook, &preset) {
            (Some(url), _) => url.clone(),
            (None, Some(p)) => p.webhook_url.trim().to_owned(),
            (None, None) => String::new(),
        },
        keep_open: false,
        offload_after_copy: None,
    };
    let plans: Vec<CardPlan> = report
        .cards
        .iter()
        .map(|card| {
            let clips = report
                .clips
                .iter()
                .filter(|c| c.clip.card_root == card.root)
                .cloned()
                .collect();
            CardPlan::all_clips(card.clone(), clips, args.include_damaged)
        })
        .filter(|p| !p.clips.is_empty())
        .collect();

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
    // The CLI sends no commands: a card ends when its clips have run (rerun to retry).
    let (_commands, command_rx) = tokio::sync::mpsc::unbounded_channel();
    let ends = session::run(
        SessionRequest {
            config,
            plans,
            cards: report.cards.clone(),
        },
        command_rx,
        cancel,
        Arc::new(move |e| {
            let _ = tx.send(e);
        }),
    )
    .await;
    if let Err(e) = printer.await {
        tracing::warn!(error = %e, "progress printer stopped");
    }

    for end in &ends {
        if let Some(html) = &end.report_html {
            eprintln!("report: {} (and .csv, .pdf)", html.display());
        }
        if let Some(m) = &end.mhl {
            eprintln!("ASC MHL manifest: {}", m.display());
        }
        if let Some(j) = &end.journal {
            eprintln!("journal: {}", j.display());
        }
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
    // A refused token is the operator's to fix, like a failed clip: exit 1 with the message.
    if let Some(end) = ends.iter().find(|e| e.token_refused) {
        eprintln!(
            "card-ingest: {}",
            end.error.as_deref().unwrap_or(TOKEN_REFUSED)
        );
        return Ok(ExitCode::from(1));
    }
    // iconik unreachable past --offline-wait: the journal resumes it, like failed clips.
    if let Some(end) = ends.iter().find(|e| e.offline) {
        print_summary(&ends);
        eprintln!(
            "card-ingest: {}",
            end.error.as_deref().unwrap_or("iconik stayed unreachable")
        );
        return Ok(ExitCode::from(1));
    }
    // A card that could not run at all (paths, storage, journal) ends the command with why.
    if let Some(error) = ends
        .iter()
        .find(|e| e.verdict.is_none())
        .and_then(|e| e.error.clone())
    {
        print_summary(&ends);
        bail!(error);
    }
    let ok = print_summary(&ends);
    if sandbox && let Some(h) = &sandbox_handle {
        let assets = h.state()["assets"].as_array().map_or(0, Vec::len);
        let web = format!("{}/sandbox/", h.base_url().trim_end_matches('/'));
        if args.keep_serving && std::io::stdin().is_terminal() {
            // A first-time user can look at what the run made before the sandbox goes.
            eprintln!(
                "sandbox holds {assets} assets: open {web} in a browser to see them; press Enter \
                 or Ctrl+C to stop the sandbox"
            );
            let enter = tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map(|_| ())
            });
            tokio::select! {
                _ = enter => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        } else {
            eprintln!(
                "sandbox {web} holds {assets} assets (the sandbox stops when this command ends)"
            );
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn print_events(mut rx: tokio::sync::mpsc::UnboundedReceiver<SessionEvent>, json: bool) {
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
    while let Some(event) = rx.recv().await {
        let ev = match event {
            SessionEvent::Engine(ev) => ev,
            SessionEvent::CardEnded(end) => {
                // The card's end, every clip with its state: the same words as the table.
                if json {
                    match serde_json::to_value(&*end) {
                        Ok(mut v) => {
                            v["event"] = "card_ended".into();
                            println!("{v}");
                        }
                        Err(e) => tracing::warn!(error = %e, "card end not printable"),
                    }
                }
                continue;
            }
            SessionEvent::Notice(text) => {
                eprintln!("warning: {text}");
                continue;
            }
            SessionEvent::Started { options, cards } => {
                // The options the run took (a preset's, with the flags given beside it): what
                // a script or test compares with the window's run.
                if json {
                    let line = serde_json::json!({
                        "event": "started",
                        "preset": options.preset,
                        "cards": cards,
                        "options": options.summary(),
                    });
                    println!("{line}");
                }
                continue;
            }
            SessionEvent::AssetLink { .. } | SessionEvent::Ended { .. } => continue,
        };
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
            EventKind::ClipFinished { status } => Some(format!("{who}: {}", status.label())),
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
            EventKind::CardReleased { card, from, .. } => Some(format!(
                "card {card} can be ejected: copies continue from {from}"
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

/// Prints every clip of every card (those the run did not take too) and each card's verdict
/// to stderr, in the words of the report; true when every clip of every card is complete.
fn print_summary(ends: &[CardEnd]) -> bool {
    let mut ok = !ends.is_empty();
    eprintln!(
        "{:<10} {:<24} {:<38} FAILED STEP / NOTE",
        "CLIP", "STATUS", "ASSET"
    );
    for end in ends {
        ok &= end.all_complete && end.error.is_none();
        for c in &end.clips {
            eprintln!(
                "{:<10} {:<24} {:<38} {}",
                c.name,
                c.status.label(),
                c.asset_id.as_deref().unwrap_or("-"),
                c.note
            );
        }
        // The one line an operator acts on before formatting the card, with its evidence.
        let safe = end.verdict.as_ref().is_some_and(|v| v.safe_to_erase);
        eprintln!(
            "{}: {}",
            end.card.display(),
            if safe {
                "SAFE TO ERASE"
            } else {
                "NOT safe to erase"
            }
        );
        for line in end.verdict.iter().flat_map(|v| v.lines()) {
            eprintln!("  {line}");
        }
        if let Some(error) = &end.error {
            eprintln!("  ✗ {error}");
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cmd {
        #[command(flatten)]
        args: IngestArgs,
    }

    /// The flags as `main` parses them: with the ones given on the command line noted.
    fn parse(line: &[&str]) -> IngestArgs {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cmd::command()
            .try_get_matches_from(std::iter::once("ingest").chain(line.iter().copied()))
            .expect("flags parse");
        let mut args = Cmd::from_arg_matches(&matches).expect("flags").args;
        args.note_given(&matches);
        args
    }

    #[test]
    fn flags_become_the_sessions_options_field_by_field() {
        let args = parse(&[
            "/cards/A",
            "--server",
            "https://app.iconik.io",
            "--storage",
            "Originals",
            "--offload-to",
            "/mnt/raid",
            "--offload-to",
            "/mnt/shuttle",
            "--verify",
            "size",
            "--proxy",
            "none",
            "--collection",
            "Day 2",
            "--metadata-view",
            "v-1",
            "--metadata",
            "scene=12=A",
            "--title-template",
            "{card} {name}",
            "--concurrency",
            "0",
            "--io-concurrency",
            "3",
            "--camera-proxy",
            "--force",
            "--mhl-in-place",
            "--upload-chunk-kib",
            "1000",
        ]);
        let o = options_from_args(
            &args,
            None,
            "Originals".into(),
            PathBuf::from("/mnt/raid"),
            Path::new("/data/journals"),
            false,
        );
        assert_eq!(o.storage, "Originals");
        assert_eq!(o.storage_root, PathBuf::from("/mnt/raid"));
        assert_eq!(o.offload_to, Some(PathBuf::from("/mnt/raid")));
        assert_eq!(o.offload_also, [PathBuf::from("/mnt/shuttle")]);
        assert_eq!(o.verify, card_ingest::offload::VerifyMode::Size);
        assert!(!o.allow_same_volume);
        assert_eq!(o.proxy, ProxyMode::None);
        assert_eq!(o.collection.as_deref(), Some("Day 2"));
        assert_eq!(o.metadata_view.as_deref(), Some("v-1"));
        assert_eq!(o.metadata.get("scene").map(String::as_str), Some("12=A"));
        assert_eq!(o.title_template, "{card} {name}");
        assert_eq!(o.concurrency, 1, "at least one clip at a time");
        assert_eq!(o.io_concurrency, 3);
        assert!(o.camera_proxy && o.force && o.write_manifest);
        assert_eq!(o.upload_chunk_bytes, 768 * 1024, "rounded down to 256 KiB");
        assert_eq!(o.proxy_dir, PathBuf::from("/data/journals/proxies"));
        // A sandbox or dry run is for trying things out: the same drive is allowed.
        let dry = parse(&["/cards/A", "--dry-run"]);
        let o = options_from_args(&dry, None, "s".into(), "/".into(), Path::new("/j"), true);
        assert!(o.allow_same_volume && !o.write_manifest);
        assert_eq!(o.proxy, ProxyMode::Local);
    }

    /// With --preset the options are the window's mapping of the preset's settings; only the
    /// flags given on the command line override, defaults left alone do not.
    #[test]
    fn preset_options_are_the_windows_and_only_given_flags_override() {
        use card_ingest::settings::{ProxyChoice, Settings};
        let preset = Settings {
            offload: true,
            offload_pattern: "{camera}/{card}".into(),
            offload_also: vec!["/mnt/shuttle".into()],
            verify_size_only: true,
            proxy: ProxyChoice::None,
            title_template: "{reel} {name}".into(),
            default_collection: "Day 2".into(),
            proxy_encoder: "libx264".into(),
            burn_in: "timecode,clip".into(),
            iconik_job: false,
            preset: "Day 2".into(),
            ..Settings::default()
        };
        let journal = Path::new("/data/journals");
        let window = preset.ingest_options("st".into(), "/mnt/o".into(), Path::new("/data"), false);
        let plain = parse(&["/cards/A", "--preset", "Day 2"]);
        let cli = options_from_args(
            &plain,
            Some(&preset),
            "st".into(),
            "/mnt/o".into(),
            journal,
            false,
        );
        let mut expected = window.summary();
        // The command gives up on an unreachable iconik after --offline-wait; the window waits.
        expected["offline_wait_ms"] = serde_json::json!(3_600_000);
        assert_eq!(cli.summary(), expected);
        assert_eq!(cli.preset.as_deref(), Some("Day 2"));

        let over = parse(&[
            "/cards/A",
            "--preset",
            "Day 2",
            "--proxy",
            "local",
            "--title-template",
            "{card}",
            "--offload-to",
            "/mnt/raid",
        ]);
        let o = options_from_args(
            &over,
            Some(&preset),
            "st".into(),
            "/mnt/o".into(),
            journal,
            false,
        );
        assert_eq!(o.proxy, ProxyMode::Local, "a given flag overrides");
        assert_eq!(o.title_template, "{card}");
        assert_eq!(o.offload_to, Some(PathBuf::from("/mnt/raid")));
        assert!(
            o.offload_also.is_empty(),
            "--offload-to replaces the preset's destinations"
        );
        assert_eq!(
            o.collection.as_deref(),
            Some("Day 2"),
            "the rest stays the preset's"
        );
        assert_eq!(o.verify, card_ingest::offload::VerifyMode::Size);
        assert!(!o.iconik_job);
        assert_eq!(o.encoder, window.encoder, "--encoder left at its default");
    }
}
