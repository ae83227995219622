//! Walking the dropped paths: up to the card root (any member file or sub-folder may be dropped),
//! then down once into an in-memory [`Tree`] that every detector reads. Junk, symlink loops,
//! unreadable entries and names iconik can't take are reported here, never passed on.

use super::model::{ScanIssue, Skipped};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// One file or folder found under a scan root. Only UTF-8 names get here.
#[derive(Debug, Clone)]
pub struct Node {
    pub path: PathBuf,
    pub name: String,
    /// `name` lowercased once: every lookup is case-insensitive (FAT/exFAT cards).
    pub lower: String,
    pub is_dir: bool,
    pub size: u64,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
}

/// Everything under the scan roots, walked once. Node indices are stable for the whole scan.
#[derive(Debug, Default)]
pub struct Tree {
    pub nodes: Vec<Node>,
    /// One top node per scan root (a folder, or a single dropped file).
    pub tops: Vec<usize>,
}

impl Tree {
    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    /// Child of `dir` whose lowercase name is `lower`.
    pub fn child(&self, dir: usize, lower: &str) -> Option<usize> {
        self.nodes[dir]
            .children
            .iter()
            .copied()
            .find(|&c| self.nodes[c].lower == lower)
    }

    /// Descends from `dir` along lowercase components.
    pub fn at(&self, dir: usize, rel: &[&str]) -> Option<usize> {
        rel.iter().try_fold(dir, |d, c| self.child(d, c))
    }

    /// Direct child files of `dir` (none when `dir` is absent).
    pub fn files_in(&self, dir: Option<usize>) -> Vec<usize> {
        dir.map(|d| {
            self.nodes[d]
                .children
                .iter()
                .copied()
                .filter(|&c| !self.nodes[c].is_dir)
                .collect()
        })
        .unwrap_or_default()
    }

    /// Direct child folders of `dir`.
    pub fn dirs_in(&self, dir: Option<usize>) -> Vec<usize> {
        dir.map(|d| {
            self.nodes[d]
                .children
                .iter()
                .copied()
                .filter(|&c| self.nodes[c].is_dir)
                .collect()
        })
        .unwrap_or_default()
    }

    /// Every file at or below `node`, in walk (sorted) order.
    pub fn files_under(&self, node: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            let nd = &self.nodes[n];
            if nd.is_dir {
                stack.extend(nd.children.iter().rev().copied());
            } else {
                out.push(n);
            }
        }
        out
    }

    /// Path of `node` relative to `root`, `/`-separated, names as on disk (`root` itself → "").
    pub fn rel_path(&self, root: usize, node: usize) -> String {
        let mut parts = Vec::new();
        let mut cur = node;
        while cur != root {
            parts.push(self.nodes[cur].name.as_str());
            match self.nodes[cur].parent {
                Some(p) => cur = p,
                None => break,
            }
        }
        parts.reverse();
        parts.join("/")
    }
}

/// A directory's children as (lowercase name, is_dir), relative to a candidate card root; lets
/// the signature checks run both on the real filesystem (walking up) and on the [`Tree`].
pub trait Listing {
    fn children(&self, rel: &[&str]) -> Vec<(String, bool)>;

    fn has_dir(&self, rel: &[&str]) -> bool {
        match rel.split_last() {
            Some((last, parent)) => self.children(parent).iter().any(|(n, d)| *d && n == last),
            None => true,
        }
    }

    fn any_child(&self, rel: &[&str], pred: &dyn Fn(&str, bool) -> bool) -> bool {
        self.children(rel).iter().any(|(n, d)| pred(n, *d))
    }
}

/// [`Listing`] over a folder of the walked tree.
pub struct TreeListing<'t> {
    pub tree: &'t Tree,
    pub dir: usize,
}

impl Listing for TreeListing<'_> {
    fn children(&self, rel: &[&str]) -> Vec<(String, bool)> {
        match self.tree.at(self.dir, rel) {
            Some(d) => self.tree.nodes[d]
                .children
                .iter()
                .map(|&c| (self.tree.nodes[c].lower.clone(), self.tree.nodes[c].is_dir))
                .collect(),
            None => Vec::new(),
        }
    }
}

/// Folder listings read while walking up, each folder once (a drop folder may hold thousands of
/// frames, and every detector asks about it).
pub type FsCache = RefCell<HashMap<PathBuf, Rc<Vec<(String, bool, OsString)>>>>;

/// [`Listing`] over a real folder (used only while walking up, a few `read_dir`s per drop).
pub struct FsListing<'c> {
    pub dir: PathBuf,
    pub cache: &'c FsCache,
}

impl FsListing<'_> {
    fn resolve(&self, rel: &[&str]) -> Option<PathBuf> {
        let mut cur = self.dir.clone();
        for comp in rel {
            let names = self.read_names(&cur);
            let found = names
                .iter()
                .find(|(lower, is_dir, _)| *is_dir && lower == comp)?;
            cur = cur.join(&found.2);
        }
        Some(cur)
    }

    fn read_names(&self, dir: &Path) -> Rc<Vec<(String, bool, OsString)>> {
        if let Some(hit) = self.cache.borrow().get(dir) {
            return Rc::clone(hit);
        }
        let list = Rc::new(read_names(dir));
        self.cache
            .borrow_mut()
            .insert(dir.to_path_buf(), Rc::clone(&list));
        list
    }
}

fn read_names(dir: &Path) -> Vec<(String, bool, OsString)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name();
            let lower = name.to_str()?.to_lowercase();
            let ft = e.file_type().ok()?;
            // Follow symlinks like the walk down does (stat only for links).
            let is_dir = if ft.is_symlink() {
                std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir())
            } else {
                ft.is_dir()
            };
            Some((lower, is_dir, name))
        })
        .collect()
}

impl Listing for FsListing<'_> {
    fn children(&self, rel: &[&str]) -> Vec<(String, bool)> {
        match self.resolve(rel) {
            Some(d) => self
                .read_names(&d)
                .iter()
                .map(|(l, d, _)| (l.clone(), *d))
                .collect(),
            None => Vec::new(),
        }
    }
}

/// Why a name is junk (never media, never a clip member), or `None`. Camera-cards.md §2.
pub fn junk_reason(lower: &str, is_dir: bool) -> Option<&'static str> {
    if is_dir {
        return match lower {
            ".spotlight-v100"
            | ".fseventsd"
            | ".trashes"
            | "system volume information"
            | ".temporaryitems"
            | ".documentrevisions-v100"
            | "$recycle.bin" => Some("operating-system folder, not camera media"),
            "ascmhl" => Some("existing ASC MHL checksum history: copied and verified, never media"),
            _ => None,
        };
    }
    if lower.starts_with("._") {
        return Some("macOS resource-fork file (._*), not camera media");
    }
    match lower {
        ".ds_store" | "thumbs.db" | "desktop.ini" | ".localized" => {
            Some("operating-system file, not camera media")
        }
        _ if lower.ends_with(".bup") => {
            Some("backup of a card file (.BUP): copied with the card, not parsed")
        }
        _ => None,
    }
}

/// Result of walking the scan roots down.
#[derive(Debug, Default)]
pub struct Walked {
    pub tree: Tree,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<ScanIssue>,
}

/// Walks every root once (sorted by name, following symlinks so loops are detected instead of
/// silently skipped) into one [`Tree`].
pub fn walk_down(roots: &[PathBuf]) -> Walked {
    let mut w = Walked::default();
    for root in roots {
        walk_one(root, &mut w);
    }
    w
}

fn walk_one(root: &Path, w: &mut Walked) {
    // Stack of node indices by depth: the parent of an entry at depth d is stack[d-1].
    let mut stack: Vec<usize> = Vec::new();
    let mut it = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    while let Some(next) = it.next() {
        let entry = match next {
            Ok(e) => e,
            Err(err) => {
                let path = err
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                let message = match err.loop_ancestor() {
                    Some(anc) => format!(
                        "symbolic link loop: points back to {}; not followed, remove the link",
                        anc.display()
                    ),
                    None => match dangling_link_target(&path) {
                        // A copy tool that kept a link instead of the file, or a file moved
                        // away: say so instead of a bare "No such file or directory".
                        Some(target) => format!(
                            "broken link: points to {}, which does not exist; copy the real \
                             file from the card",
                            target.display()
                        ),
                        None => format!(
                            "cannot read: {}; check the card/drive and permissions, or re-copy it",
                            err.io_error()
                                .map_or_else(|| err.to_string(), |e| e.to_string())
                        ),
                    },
                };
                w.errors.push(ScanIssue { path, message });
                continue;
            }
        };
        let depth = entry.depth();
        let ft = entry.file_type();
        let is_dir = ft.is_dir();
        let Some(name) = entry.file_name().to_str() else {
            w.errors.push(ScanIssue {
                path: entry.path().to_path_buf(),
                message: "name is not valid UTF-8: iconik can't take this name; rename it \
                          (and re-scan)"
                    .to_string(),
            });
            if is_dir {
                it.skip_current_dir();
            }
            continue;
        };
        let lower = name.to_lowercase();
        if let Some(reason) = junk_reason(&lower, is_dir).filter(|_| depth > 0) {
            w.skipped.push(Skipped {
                path: entry.path().to_path_buf(),
                reason: reason.to_string(),
            });
            if is_dir {
                it.skip_current_dir();
            }
            continue;
        }
        if !is_dir && !ft.is_file() {
            // FIFO, socket, device: never opened (a FIFO would block).
            w.skipped.push(Skipped {
                path: entry.path().to_path_buf(),
                reason: "not a regular file (FIFO, socket or device), not camera media".to_string(),
            });
            continue;
        }
        let size = if is_dir {
            0
        } else {
            match entry.metadata() {
                Ok(m) => m.len(),
                Err(e) => {
                    w.errors.push(ScanIssue {
                        path: entry.path().to_path_buf(),
                        message: format!("cannot read file size: {e}; re-copy it"),
                    });
                    continue;
                }
            }
        };
        stack.truncate(depth);
        let parent = if depth == 0 {
            None
        } else {
            stack.last().copied()
        };
        if depth > 0 && parent.is_none() {
            continue;
        }
        let idx = w.tree.nodes.len();
        w.tree.nodes.push(Node {
            path: entry.path().to_path_buf(),
            name: name.to_string(),
            lower,
            is_dir,
            size,
            parent,
            children: Vec::new(),
        });
        match parent {
            Some(p) => w.tree.nodes[p].children.push(idx),
            None => w.tree.tops.push(idx),
        }
        if is_dir {
            stack.push(idx);
        }
    }
}

/// Target of `path` when it is a symbolic link whose target does not exist.
fn dangling_link_target(path: &Path) -> Option<PathBuf> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.file_type().is_symlink() || path.exists() {
        return None;
    }
    std::fs::read_link(path).ok()
}

/// Removes roots equal to or nested inside another root (a path dropped twice, or a card and
/// one of its folders): each file must be walked once.
pub fn dedup_roots(mut roots: Vec<PathBuf>) -> Vec<PathBuf> {
    roots.sort();
    roots.dedup();
    let mut out: Vec<PathBuf> = Vec::new();
    for r in roots {
        if !out.iter().any(|o| r.starts_with(o)) {
            out.push(r);
        }
    }
    out
}
