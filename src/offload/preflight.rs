//! The offload's pre-flight: everything that can be known before the first byte is written, and
//! every refusal that follows from it. Per destination: its folder (a different card of the same
//! name already there gets a distinct folder: `NO NAME` and `NO NAME_2` never merge), the bytes it
//! still needs against the bytes free, and whether it sits on the card's own volume.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::plan::{self, SourceFile};
use super::{OffloadError, volume};
use crate::atomic_write::TEMP_MARKER;
use crate::mhl;

/// Head-room kept free beyond the card's bytes: the ASC MHL generation and folder entries.
pub const MARGIN_BYTES: u64 = 4 * 1024 * 1024;

/// One destination as it will be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDestination {
    /// The destination root as given (a mount, a shuttle drive).
    pub root: PathBuf,
    /// The card's folder below it.
    pub folder: PathBuf,
    /// The folder the pattern named, when a different card already holds it.
    pub renamed_from: Option<PathBuf>,
    /// Bytes still to write there (files already present at their size are not counted).
    pub needed_bytes: u64,
    /// Free bytes on its volume, when the OS says.
    pub free_bytes: Option<u64>,
    /// Bytes cards already started will still write to its drive ([`super::drives`]): what
    /// the free space must also hold when this card starts ([`reserve`] checks it then).
    pub queued_bytes: u64,
}

/// What an offload will read and where it will write.
#[derive(Debug, Clone)]
pub struct OffloadPlan {
    pub card: PathBuf,
    pub sources: Vec<SourceFile>,
    pub empty_dirs: Vec<String>,
    pub not_copied: Vec<(String, String)>,
    pub destinations: Vec<PlannedDestination>,
}

impl OffloadPlan {
    pub fn total_bytes(&self) -> u64 {
        self.sources.iter().map(|f| f.size_bytes).sum()
    }
}

/// The inputs of a pre-flight (a subset of `OffloadRequest`).
pub struct Preflight<'a> {
    /// Canonical card root.
    pub card: &'a Path,
    /// Canonical destination roots, primary first.
    pub roots: &'a [PathBuf],
    pub pattern: &'a str,
    pub date: NaiveDate,
    /// The pattern's placeholders beyond `{date}` and `{card}`.
    pub names: &'a plan::NameValues,
    pub allow_same_volume: bool,
}

/// Plans the offload or refuses it (see module docs).
pub fn plan(p: &Preflight<'_>) -> Result<OffloadPlan, OffloadError> {
    let (sources, empty_dirs, not_copied) = plan::list_source(p.card)?;
    let card_name = p
        .card
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "card".to_owned());
    let card_volume = volume::volume_id(p.card).ok();
    let mut destinations = Vec::with_capacity(p.roots.len());
    for (i, root) in p.roots.iter().enumerate() {
        if p.roots[..i].contains(root) {
            return Err(OffloadError::DuplicateDestination { path: root.clone() });
        }
        if !p.allow_same_volume
            && card_volume.is_some()
            && volume::volume_id(root).ok() == card_volume
        {
            return Err(OffloadError::SameVolume {
                card: p.card.to_path_buf(),
                destination: root.clone(),
            });
        }
        let named = plan::destination_dir(root, p.pattern, &card_name, p.date, p.names)?;
        if named.starts_with(p.card) {
            return Err(OffloadError::DestinationInsideCard {
                card: p.card.to_path_buf(),
                destination: named,
            });
        }
        let folder = free_folder(&named, &sources)?;
        let needed_bytes = sources
            .iter()
            .filter(|f| {
                std::fs::metadata(folder.join(&f.rel_path))
                    .map_or(true, |m| m.len() != f.size_bytes)
            })
            .map(|f| f.size_bytes)
            .sum::<u64>();
        let free_bytes = match volume::free_bytes(root) {
            Ok(b) => Some(b),
            Err(err) => {
                tracing::warn!(root = %root.display(), %err, "free space unknown; not checked");
                None
            }
        };
        if let Some(free) = free_bytes
            && needed_bytes > 0
            && needed_bytes + MARGIN_BYTES > free
        {
            return Err(OffloadError::NotEnoughSpace {
                destination: root.clone(),
                needed: needed_bytes + MARGIN_BYTES,
                free,
            });
        }
        let renamed_from = (folder != named).then_some(named);
        if let Some(from) = &renamed_from {
            tracing::warn!(
                taken = %from.display(),
                folder = %folder.display(),
                "a different card already holds the destination folder: using a new name"
            );
        }
        let queued_bytes = volume::volume_id(root)
            .map(|v| super::drives::queued_bytes(&v))
            .unwrap_or(0);
        destinations.push(PlannedDestination {
            root: root.clone(),
            folder,
            renamed_from,
            needed_bytes,
            free_bytes,
            queued_bytes,
        });
    }
    Ok(OffloadPlan {
        card: p.card.to_path_buf(),
        sources,
        empty_dirs,
        not_copied,
        destinations,
    })
}

/// Queues the plan's bytes on its destinations' drives for as long as the returned guard lives
/// (the card's copy), or refuses the card when a drive cannot hold them on top of what cards
/// already started will still write there ([`super::drives`]). Destinations on one drive are
/// summed: two folders on one RAID need the card's bytes twice.
pub fn reserve(plan: &OffloadPlan) -> Result<super::drives::Reservation, OffloadError> {
    let mut wanted: Vec<(volume::VolumeId, u64, Option<u64>)> = Vec::new();
    let mut roots: Vec<&Path> = Vec::new();
    for d in &plan.destinations {
        let Ok(drive) = volume::volume_id(&d.root) else {
            continue;
        };
        match wanted.iter_mut().find(|(w, _, _)| *w == drive) {
            Some((_, bytes, _)) => *bytes += d.needed_bytes,
            None => {
                wanted.push((drive, d.needed_bytes, d.free_bytes));
                roots.push(&d.root);
            }
        }
    }
    super::drives::check_and_queue(&wanted, MARGIN_BYTES).map_err(|(i, queued)| {
        let (_, needed, free) = &wanted[i];
        OffloadError::NotEnoughSpaceQueued {
            destination: roots[i].to_path_buf(),
            needed: needed + MARGIN_BYTES,
            queued,
            free: free.unwrap_or_default(),
        }
    })
}

/// `named`, or the first of `named_2`, `named_3`, … that is absent or holds (part of) this card.
fn free_folder(named: &Path, sources: &[SourceFile]) -> Result<PathBuf, OffloadError> {
    let sizes: HashMap<&str, u64> = sources
        .iter()
        .map(|f| (f.rel_path.as_str(), f.size_bytes))
        .collect();
    let base = named.as_os_str().to_string_lossy().into_owned();
    for n in 1..1000 {
        let candidate = if n == 1 {
            named.to_path_buf()
        } else {
            PathBuf::from(format!("{base}_{n}"))
        };
        if !candidate.exists() || holds_only_this_card(&candidate, &sizes)? {
            return Ok(candidate);
        }
    }
    Err(OffloadError::BadPattern {
        pattern: base,
        reason: "999 folders of that name already hold other cards".to_owned(),
    })
}

/// Whether every file in `folder` is one of the card's files at its size (a resumed or repeated
/// offload of the same card). The MHL history, temp copies and OS junk do not count.
fn holds_only_this_card(folder: &Path, sizes: &HashMap<&str, u64>) -> Result<bool, OffloadError> {
    let walker = walkdir::WalkDir::new(folder)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.depth() == 0
                || !(plan::is_junk(&name) || (e.depth() == 1 && name == mhl::ASCMHL_FOLDER))
        });
    for entry in walker {
        let entry = entry.map_err(|e| OffloadError::Walk {
            path: folder.to_path_buf(),
            message: e.to_string(),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if name.starts_with('.') && name.contains(TEMP_MARKER) {
            continue;
        }
        let rel: Vec<String> = entry
            .path()
            .strip_prefix(folder)
            .unwrap_or(entry.path())
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let size = entry.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        if sizes.get(rel.join("/").as_str()) != Some(&size) {
            return Ok(false);
        }
    }
    Ok(true)
}
