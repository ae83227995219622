//! The view model: everything the panels render, and nothing they must not touch (no runtime,
//! channels, stores or server handles — those live in [`super::app::App`] and
//! [`super::background`]). Background results are folded in by `App`; widgets edit plain fields.

use super::queue::QueueView;
use crate::card::ScanIssue;
use crate::card::Skipped;
use crate::ingest::lookup::DuplicateCheck;
use crate::media::ClipMetadata;
use crate::scan::ScannedClip;
use crate::settings::Settings;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// The token as typed. Only widgets and the worker see it; `Debug` never prints it.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct TokenField(pub String);

impl std::fmt::Debug for TokenField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str("TokenField(empty)")
        } else {
            f.write_str("TokenField(<redacted>)")
        }
    }
}

/// Result of "Test connection" (or of the sandbox start).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Connection {
    #[default]
    NotTested,
    Testing,
    Connected,
    Failed(String),
}

/// Where the token is kept this run.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum KeyringStatus {
    /// The worker is still connecting to the OS keyring.
    #[default]
    Opening,
    /// Tokens are saved in the OS keyring.
    Available,
    /// No keyring: the token is kept in memory for this run only. The message says why.
    MemoryOnly(String),
    /// The keyring exists but failed in another way.
    Failed(String),
}

/// One storage from "Test connection".
#[derive(Debug, Clone, PartialEq)]
pub struct StorageRow {
    pub id: String,
    pub name: String,
    /// `FILES`, `PROXIES`, ... (empty when iconik did not say).
    pub purpose: String,
    pub method: String,
    /// `settings.mount_point` when the storage has one (FILES storages).
    pub mount_point: Option<String>,
}

/// A poster thumbnail's lifecycle: requested lazily when its row first becomes visible.
#[derive(Clone, Default)]
pub enum PosterState {
    #[default]
    NotRequested,
    Loading,
    Ready(egui::TextureHandle),
    Failed(String),
}

impl std::fmt::Debug for PosterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PosterState::NotRequested => f.write_str("NotRequested"),
            PosterState::Loading => f.write_str("Loading"),
            PosterState::Ready(t) => write!(f, "Ready({:?})", t.size()),
            PosterState::Failed(e) => write!(f, "Failed({e})"),
        }
    }
}

/// One preview row.
#[derive(Debug, Clone)]
pub struct ClipRow {
    pub scanned: ScannedClip,
    pub selected: bool,
    pub expanded: bool,
    pub poster: PosterState,
}

impl ClipRow {
    pub fn id(&self) -> &str {
        &self.scanned.clip.id
    }

    /// Whether the clip can be registered at all (incomplete spans are listed, never ingested).
    pub fn ingestable(&self) -> bool {
        self.scanned.clip.incomplete.is_none()
    }
}

/// The card(s) loaded into the preview.
#[derive(Debug, Clone, Default)]
pub struct CardView {
    /// Folders given (dropped, chosen, CLI).
    pub paths: Vec<PathBuf>,
    pub scanning: bool,
    pub clips: Vec<ClipRow>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<ScanIssue>,
    /// The cards found (the ingest runs one job per card).
    pub cards: Vec<crate::card::Card>,
    /// The scan itself failed (no clips at all); per-file trouble is in `errors`.
    pub scan_error: Option<String>,
    /// The "already in iconik" check, by clip id (absent: not checked, e.g. not connected).
    pub duplicates: HashMap<String, DuplicateCheck>,
    /// Clips a run of this window registered (clip id → where to see the asset): the preview
    /// says so in the success colour, never "already in iconik".
    pub registered_here: HashMap<String, String>,
    /// Position of each clip id in `clips`, so per-clip results (posters, duplicate checks) find
    /// their row without a scan of 1 000 rows each. Validated on use and rebuilt when stale,
    /// because `clips` is a plain field that callers replace wholesale.
    pub index: RowIndex,
}

/// Clip id → position in [`CardView::clips`]; opaque (only `CardView` reads or fills it).
#[derive(Debug, Clone, Default)]
pub struct RowIndex(HashMap<String, usize>);

impl CardView {
    pub fn selected_count(&self) -> usize {
        self.clips
            .iter()
            .filter(|c| c.selected && c.ingestable())
            .count()
    }

    /// The row of `clip_id`: O(1) while the index is fresh, a linear search otherwise.
    pub fn row(&self, clip_id: &str) -> Option<&ClipRow> {
        match self.indexed(clip_id) {
            Some(i) => self.clips.get(i),
            None => self.clips.iter().find(|c| c.id() == clip_id),
        }
    }

    /// The row of `clip_id`, mutable; rebuilds a stale index once.
    pub fn row_mut(&mut self, clip_id: &str) -> Option<&mut ClipRow> {
        let i = match self.indexed(clip_id) {
            Some(i) => i,
            None => {
                self.reindex();
                *self.index.0.get(clip_id)?
            }
        };
        self.clips.get_mut(i)
    }

    fn indexed(&self, clip_id: &str) -> Option<usize> {
        let i = *self.index.0.get(clip_id)?;
        (self.clips.get(i)?.id() == clip_id).then_some(i)
    }

    fn reindex(&mut self) {
        self.index = RowIndex(
            self.clips
                .iter()
                .enumerate()
                .map(|(i, c)| (c.id().to_owned(), i))
                .collect(),
        );
    }
}

/// A normalised metadata field the operator may correct before registering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MetaField {
    UserClipName,
    Scene,
    Take,
    Tape,
    Project,
    Circled,
    TrackNames,
    Note,
    Recorder,
    CameraModel,
    CameraSerial,
    ShootDate,
    TimecodeStart,
    FrameRate,
    VideoCodec,
}

impl MetaField {
    pub const ALL: [MetaField; 15] = [
        MetaField::UserClipName,
        MetaField::Scene,
        MetaField::Take,
        MetaField::Tape,
        MetaField::Project,
        MetaField::Circled,
        MetaField::TrackNames,
        MetaField::Note,
        MetaField::Recorder,
        MetaField::CameraModel,
        MetaField::CameraSerial,
        MetaField::ShootDate,
        MetaField::TimecodeStart,
        MetaField::FrameRate,
        MetaField::VideoCodec,
    ];

    /// Fields offered in the bulk editor (the same value makes sense for many clips).
    pub const BULK: [MetaField; 5] = [
        MetaField::Scene,
        MetaField::Tape,
        MetaField::Project,
        MetaField::CameraModel,
        MetaField::ShootDate,
    ];

    pub fn label(self) -> &'static str {
        match self {
            MetaField::UserClipName => "User clip name",
            MetaField::Scene => "Scene",
            MetaField::Take => "Take",
            MetaField::Tape => "Tape",
            MetaField::Project => "Project",
            MetaField::Circled => "Circled",
            MetaField::TrackNames => "Track names",
            MetaField::Note => "Note",
            MetaField::Recorder => "Recorder",
            MetaField::CameraModel => "Camera",
            MetaField::CameraSerial => "Camera serial",
            MetaField::ShootDate => "Shoot date",
            MetaField::TimecodeStart => "Start timecode",
            MetaField::FrameRate => "Frame rate",
            MetaField::VideoCodec => "Codec",
        }
    }

    /// The iconik metadata view field this is written to (when the chosen view has it).
    pub fn view_field(self) -> &'static str {
        match self {
            MetaField::UserClipName => "user_clip_name",
            MetaField::Scene => "scene",
            MetaField::Take => "take",
            MetaField::Tape => "tape",
            MetaField::Project => "project",
            MetaField::Circled => "circled",
            MetaField::TrackNames => "track_names",
            MetaField::Note => "note",
            MetaField::Recorder => "recorder",
            MetaField::CameraModel => "camera",
            MetaField::CameraSerial => "camera_serial",
            MetaField::ShootDate => "shoot_date",
            MetaField::TimecodeStart => "timecode_start",
            MetaField::FrameRate => "frame_rate",
            MetaField::VideoCodec => "video_codec",
        }
    }

    /// The [`ClipMetadata`] field (its `sources` key) behind this one.
    pub fn metadata_key(self) -> &'static str {
        match self {
            MetaField::CameraModel => "camera_model",
            other => other.view_field(),
        }
    }

    fn slot(self, m: &mut ClipMetadata) -> &mut Option<String> {
        match self {
            MetaField::UserClipName => &mut m.user_clip_name,
            MetaField::Scene => &mut m.scene,
            MetaField::Take => &mut m.take,
            MetaField::Tape => &mut m.tape,
            MetaField::Project => &mut m.project,
            MetaField::Circled => &mut m.circled,
            MetaField::TrackNames => &mut m.track_names,
            MetaField::Note => &mut m.note,
            MetaField::Recorder => &mut m.recorder,
            MetaField::CameraModel => &mut m.camera_model,
            MetaField::CameraSerial => &mut m.camera_serial,
            MetaField::ShootDate => &mut m.shoot_date,
            MetaField::TimecodeStart => &mut m.timecode_start,
            MetaField::FrameRate => &mut m.frame_rate,
            MetaField::VideoCodec => &mut m.video_codec,
        }
    }

    /// Puts an edited value into the clip's metadata (what the ingest registers).
    /// The field goes to the ORIGINAL format's metadata (`ClipMetadata::format_fields`).
    pub fn in_format(self) -> bool {
        matches!(
            self,
            MetaField::Scene
                | MetaField::Take
                | MetaField::Tape
                | MetaField::Project
                | MetaField::Circled
                | MetaField::TrackNames
                | MetaField::Note
                | MetaField::Recorder
        )
    }

    pub fn apply(self, m: &mut ClipMetadata, value: &str) {
        *self.slot(m) = Some(value.to_owned()).filter(|v| !v.trim().is_empty());
    }

    /// The value the scan found ("" when none).
    pub fn original(self, m: &ClipMetadata) -> String {
        let v = match self {
            MetaField::UserClipName => &m.user_clip_name,
            MetaField::Scene => &m.scene,
            MetaField::Take => &m.take,
            MetaField::Tape => &m.tape,
            MetaField::Project => &m.project,
            MetaField::Circled => &m.circled,
            MetaField::TrackNames => &m.track_names,
            MetaField::Note => &m.note,
            MetaField::Recorder => &m.recorder,
            MetaField::CameraModel => &m.camera_model,
            MetaField::CameraSerial => &m.camera_serial,
            MetaField::ShootDate => &m.shoot_date,
            MetaField::TimecodeStart => &m.timecode_start,
            MetaField::FrameRate => &m.frame_rate,
            MetaField::VideoCodec => &m.video_codec,
        };
        v.clone().unwrap_or_default()
    }

    /// Which sidecar the scanned value came from (`A101_1.WAV iXML SCENE`), when recorded.
    pub fn source(self, m: &ClipMetadata) -> Option<&str> {
        m.sources.get(self.metadata_key()).map(String::as_str)
    }
}

/// The operator's edits of one clip. Absent entries mean "as scanned / from the template".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClipEdit {
    /// `None`: the title comes from the template.
    pub title: Option<String>,
    pub description: String,
    /// `None`: the default collection from the settings.
    pub collection: Option<String>,
    pub fields: BTreeMap<MetaField, String>,
    /// The proxy's look for this clip; `None`: Settings › Look rules decide.
    pub look: Option<crate::media::proxy::look_rules::ClipLook>,
}

impl ClipEdit {
    pub fn is_empty(&self) -> bool {
        *self == ClipEdit::default()
    }
}

/// Values typed into the bulk editor; each applies only when its box is ticked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulkEdit {
    pub collection: (bool, String),
    pub fields: BTreeMap<MetaField, (bool, String)>,
}

pub use crate::log_capture::LogLine;

/// One offload destination as the run will write it.
#[derive(Debug, Clone, PartialEq)]
pub struct DestinationRow {
    /// The card's folder there (after the pattern).
    pub folder: PathBuf,
    /// Bytes of the card still to write there, of the card's bytes.
    pub needed: u64,
    pub card_bytes: u64,
    /// Free bytes on its drive (when the OS says).
    pub free: Option<u64>,
    /// The folder the pattern named, when a different card already holds it.
    pub renamed_from: Option<PathBuf>,
}

/// The whole view model.
#[derive(Debug, Default)]
pub struct ViewModel {
    pub settings: Settings,
    /// The preset row at the top of the settings sheet.
    pub presets: super::presets::PresetSheet,
    pub token: TokenField,
    pub keyring: KeyringStatus,
    /// Where the current credentials came from ("the OS keyring", "the environment", ...).
    pub token_source: Option<String>,
    pub connection: Connection,
    pub storages: Vec<StorageRow>,
    /// Metadata views of the server (from "Test connection").
    pub views: Vec<super::background::ViewInfo>,
    /// Journals of earlier runs with clips left (the resume offer); empty once dismissed.
    pub unfinished: Vec<crate::ingest::resume::UnfinishedCard>,
    /// The transcript viewer: (file, text).
    pub transcript_view: Option<(PathBuf, String)>,
    /// The operator tried to close the window while an ingest runs.
    pub confirm_close: bool,
    /// Base URL of the in-process sandbox once it runs.
    pub sandbox_url: Option<String>,
    pub sandbox_starting: bool,
    pub sample_writing: bool,
    pub choosing_folder: bool,
    pub card: CardView,
    /// Edits keyed by clip id (stable across rescans of the same card).
    pub edits: HashMap<String, ClipEdit>,
    /// The clip shown in the editor.
    pub focused: Option<String>,
    pub bulk: BulkEdit,
    /// The bulk editor is open (it edits every selected clip).
    pub bulk_open: bool,
    pub queue: QueueView,
    pub log: Vec<LogLine>,
    pub log_filter: String,
    /// Files are dragged over the window (highlight the drop zone).
    pub drop_hover: bool,
    pub show_settings: bool,
    /// How each card's last run in this window ended (by card root): a card keeps its state and
    /// verdict across later runs.
    pub card_ends: HashMap<PathBuf, crate::ingest::session::CardEnd>,
    /// The offload's destinations for the first loaded card as the sheet stands, checked by the
    /// run's own pre-flight (or why the run would refuse them); `None`: no offload or no card.
    pub destinations: Option<Result<Vec<DestinationRow>, String>>,
    /// The clip table shows only this card's clips (picked in the card list); `None`: all.
    pub card_filter: Option<PathBuf>,
    /// Put the keyboard focus in the Path field on the next frame (no file chooser opened).
    pub focus_path: bool,
    /// Put the keyboard focus in the clip editor's Title on the next frame.
    pub focus_title: bool,
    /// A card folder path being typed or pasted (the drop zone's and the card list's field).
    pub path_input: String,
    /// Folders the typed path can go on to, and the input they answer (read in the
    /// background: the list is shown only while it matches what is typed).
    pub path_completions: Vec<PathBuf>,
    pub path_completed_for: String,
    /// The Path field the operator last typed in (the completions show under it alone).
    pub path_field: Option<egui::Id>,
    /// Media tools that were not found, each with what it is for and how to install it (the
    /// banner); empty when all are there or not yet checked.
    pub missing_tools: Vec<crate::media::tools::MissingTool>,
    /// Cards dropped while an ingest runs: each starts in turn when the one before ends.
    pub waiting: Vec<WaitingCard>,
    /// Cards of earlier runs in this window, as they ended (the card list keeps them).
    pub history: Vec<super::sources::SourceRow>,
    /// The removable mount of each card that may be ejected (found once it is safe to erase).
    pub devices: HashMap<PathBuf, crate::eject::Mounted>,
    /// An eject is running for these cards.
    pub ejecting: Vec<PathBuf>,
    /// The keyboard-shortcut overlay is open (F1 / ?).
    pub show_help: bool,
    /// The control that had focus when the overlay opened (the overlay names its shortcut).
    pub help_focus: super::help::FocusedControl,
    /// Cards whose first-tier copies are verified while the run goes on: the line the card
    /// list shows ("card can be ejected: copies continue from RAID_A").
    pub released: HashMap<PathBuf, String>,
    /// "Check copies" per card report (its HTML path): running (`None`) or its outcome line.
    pub checks: HashMap<PathBuf, Option<Result<String, String>>>,
}

/// A card waiting for its turn: scanned in the background as soon as it is dropped.
#[derive(Debug)]
pub struct WaitingCard {
    pub paths: Vec<PathBuf>,
    /// The scan's tag (distinct from the preview's scans).
    pub generation: u64,
    /// `None` while scanning.
    pub scan: Option<Result<crate::scan::ScanReport, String>>,
}

impl ViewModel {
    pub fn log(&mut self, level: tracing::Level, text: impl Into<String>) {
        let text = text.into();
        match level {
            tracing::Level::ERROR => tracing::error!("{text}"),
            tracing::Level::WARN => tracing::warn!("{text}"),
            _ => tracing::info!("{text}"),
        }
        self.log.push(LogLine { level, text });
    }

    /// The title a clip will be registered with: the edit, else the template.
    pub fn title_of(&self, row: &ClipRow) -> String {
        match self.edits.get(row.id()).and_then(|e| e.title.clone()) {
            Some(t) => t,
            None => super::title::render(&self.settings, &row.scanned, self.edits.get(row.id())),
        }
    }

    /// The value of `field` for a clip: the edit, else the scanned original.
    ///
    /// (Also what gets registered: see `App::ingest_request`.)
    pub fn field_value(&self, row: &ClipRow, field: MetaField) -> String {
        self.edits
            .get(row.id())
            .and_then(|e| e.fields.get(&field).cloned())
            .unwrap_or_else(|| field.original(&row.scanned.metadata))
    }

    /// The built-in sandbox's originals storage when the sandbox is the server. Its id changes
    /// with every start, so it never goes into the settings (which keep the real server's
    /// storage and mount folder).
    pub fn sandbox_storage(&self) -> Option<&StorageRow> {
        if self.settings.server != crate::settings::ServerChoice::Sandbox {
            return None;
        }
        self.storages.iter().find(|s| s.purpose == "FILES")
    }

    /// Whether any connection is usable for an ingest.
    pub fn connected(&self) -> bool {
        self.connection == Connection::Connected
    }

    /// The metadata view the edited fields go to: the sandbox's own, else the one chosen in
    /// Connection (when the server lists it).
    pub fn chosen_view(&self) -> Option<&super::background::ViewInfo> {
        if self.settings.server == crate::settings::ServerChoice::Sandbox {
            self.views.first()
        } else {
            self.views
                .iter()
                .find(|v| v.id == self.settings.metadata_view)
        }
    }

    /// Where an edit of `field` is stored: the view (when it has the field), the ORIGINAL
    /// format's metadata (the production fields), both, or nowhere.
    pub fn stored_in(&self, field: MetaField) -> &'static str {
        let in_view = self
            .chosen_view()
            .is_some_and(|v| v.fields.iter().any(|f| f == field.view_field()));
        match (in_view, field.in_format()) {
            (true, true) => "view + format",
            (true, false) => "view",
            (false, true) => "format",
            (false, false) => "not stored",
        }
    }

    /// The preview's look-up found this clip in iconik before any run of this window.
    pub fn in_iconik(&self, clip_id: &str) -> bool {
        !self.card.registered_here.contains_key(clip_id)
            && self
                .card
                .duplicates
                .get(clip_id)
                .is_some_and(crate::ingest::lookup::DuplicateCheck::is_duplicate)
    }
}
