//! "Safe to erase": the one verdict an operator acts on before formatting a card, and the
//! evidence behind it. A card is safe to erase only when every clip on it is complete in iconik,
//! the clips were registered from a copy (not from the card itself), every destination's copy
//! was read back from its drive and matched, each destination's ASC MHL generation is on disk,
//! and every proxy is closed. Each condition becomes one short line of evidence, met or not, so
//! the window, the `--json` `card_finished` event and the report say exactly what is missing.
//!
//! Pure: reads the card's journal record and the file system (the MHL files), nothing else.

use super::Step;
use super::record::{CardRecord, StepState};
use super::selection::LeftOut;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One condition of the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub met: bool,
    /// One short sentence, e.g. `copy /mnt/raid/2026-12-03/A001: 48 files read back and matched`.
    pub text: String,
}

/// The verdict with its evidence (every condition listed, met or not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub safe_to_erase: bool,
    pub evidence: Vec<Evidence>,
}

impl Verdict {
    /// Evidence lines prefixed with ✓ / ✗, as the CLI and the report print them.
    pub fn lines(&self) -> Vec<String> {
        self.evidence
            .iter()
            .map(|e| format!("{} {}", if e.met { "✓" } else { "✗" }, e.text))
            .collect()
    }
}

fn names(list: &[&str]) -> String {
    const SHOWN: usize = 5;
    let mut s = list
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > SHOWN {
        s.push_str(&format!(" and {} more", list.len() - SHOWN));
    }
    s
}

/// The verdict for the card whose journal record is `record` (`card_root` canonical), covering
/// the card's clips the run did not take (`left_out`) as well: each one keeps the card from
/// "safe to erase" unless an earlier run completed it.
pub fn verdict(record: &CardRecord, card_root: &Path, left_out: &[LeftOut]) -> Verdict {
    let mut evidence = Vec::new();
    let clips: Vec<_> = record.clips.values().collect();

    // 1. Every clip of the card complete in iconik (a clip skipped as incomplete is not, nor is
    // one the run left out).
    let mut not_done: Vec<String> = clips
        .iter()
        .filter(|c| {
            !c.is_complete()
                || matches!(c.step(Step::CreateAsset), StepState::Skipped { ref reason } if reason.starts_with("incomplete clip"))
        })
        .map(|c| c.name.clone())
        .collect();
    let mut total = clips.len();
    for l in left_out {
        match record.clips.get(&l.clip_id) {
            Some(c) if c.is_complete() => {}
            // Already named above from its record (failed or stopped in an earlier run).
            Some(_) => {}
            None => {
                total += 1;
                not_done.push(format!("{} ({})", l.name, l.why.text()));
            }
        }
    }
    let duplicates = clips.iter().filter(|c| c.duplicate_of.is_some()).count();
    evidence.push(Evidence {
        met: not_done.is_empty() && total > 0,
        text: if total == 0 {
            "no clip of this card was ingested".to_owned()
        } else if not_done.is_empty() {
            let dup = if duplicates > 0 {
                format!(" ({duplicates} already there before this run)")
            } else {
                String::new()
            };
            format!("{n} of {n} clips complete in iconik{dup}", n = total)
        } else {
            let names_: Vec<&str> = not_done.iter().map(String::as_str).collect();
            format!(
                "{} of {} clips not complete in iconik: {}",
                not_done.len(),
                total,
                names(&names_)
            )
        },
    });

    // 2. Registered from a copy: no file of this card is registered where it lies on the card.
    let in_place: Vec<&str> = clips
        .iter()
        .filter(|c| {
            c.files
                .iter()
                .any(|f| f.source.starts_with(card_root) && f.registered.starts_with(card_root))
        })
        .map(|c| c.name.as_str())
        .collect();
    evidence.push(Evidence {
        met: in_place.is_empty() && !record.offload_copies.is_empty(),
        text: if record.offload_copies.is_empty() {
            "no offload: iconik's originals are the files on this card".to_owned()
        } else if in_place.is_empty() {
            "iconik's originals are the offloaded copy, not the card".to_owned()
        } else {
            format!(
                "registered from the card itself, not a copy: {}",
                names(&in_place)
            )
        },
    });

    // 3. Every destination read back and matched; 4. its MHL on disk. With a required count
    // of verified copies, a later tier that failed is excused while enough others stand.
    let verified = record
        .offload_copies
        .iter()
        .filter(|c| c.read_back_and_matched() && c.mhl.is_file())
        .count();
    let enough = record.required_copies.is_some_and(|n| verified >= n);
    if let Some(n) = record.required_copies {
        evidence.push(Evidence {
            met: verified >= n,
            text: format!("{verified} verified copies, {n} required"),
        });
    }
    for copy in &record.offload_copies {
        let dest = match &copy.copied_from {
            // A later tier says where it was filled from (the card was not read again).
            Some(from) => format!("{} (from {})", copy.destination.display(), from.display()),
            None => copy.destination.display().to_string(),
        };
        if let Some(error) = &copy.error {
            // Only a later tier (filled from a copy) is excused: the first tier is the copy
            // the card was released from.
            let excused = enough && copy.copied_from.is_some();
            evidence.push(Evidence {
                met: excused,
                text: if excused {
                    format!("copy {dest} not made ({error}); enough verified copies remain")
                } else {
                    format!("copy {dest} not made: {error}")
                },
            });
            continue;
        }
        let text = if !copy.failed.is_empty() {
            let failed: Vec<&str> = copy.failed.iter().map(String::as_str).collect();
            format!(
                "copy {dest}: {} of {} files differ from the card: {}",
                failed.len(),
                copy.files,
                names(&failed)
            )
        } else if copy.verify != "read-back" {
            format!(
                "copy {dest}: checked by size only, not read back ({} files)",
                copy.files
            )
        } else {
            format!(
                "copy {dest}: {} files read back from the drive and matched",
                copy.files
            )
        };
        evidence.push(Evidence {
            met: copy.read_back_and_matched(),
            text,
        });
        let mhl_ok = copy.mhl.is_file();
        evidence.push(Evidence {
            met: mhl_ok,
            text: if mhl_ok {
                format!("ASC MHL written: {}", copy.mhl.display())
            } else {
                format!("ASC MHL missing: {}", copy.mhl.display())
            },
        });
    }

    // 5. Every proxy closed (skipped proxies, e.g. --proxy none, have nothing to close).
    let open: Vec<&str> = clips
        .iter()
        .filter(|c| c.duplicate_of.is_none())
        .filter(|c| !c.step(Step::CloseProxy).is_finished())
        .map(|c| c.name.as_str())
        .collect();
    let closed = clips
        .iter()
        .filter(|c| matches!(c.step(Step::CloseProxy), StepState::Done))
        .count();
    evidence.push(Evidence {
        met: open.is_empty(),
        text: if open.is_empty() {
            format!("{closed} proxies closed, none open")
        } else {
            format!("proxy not closed: {}", names(&open))
        },
    });

    // 6. A verified cloud copy (`--cloud-copy`), one line per storage.
    evidence.extend(super::cloud_evidence::evidence(&clips));

    Verdict {
        safe_to_erase: evidence.iter().all(|e| e.met),
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::record::{ClipRecord, FileRecord, OffloadCopy, StepRecord};
    use std::path::PathBuf;

    fn complete_clip(name: &str, card: &Path, copy: &Path) -> ClipRecord {
        let mut c = ClipRecord::new(name, name);
        for s in Step::ALL {
            c.steps.insert(
                s,
                StepRecord {
                    state: StepState::Done,
                    ..StepRecord::default()
                },
            );
        }
        c.files.push(FileRecord {
            source: card.join(format!("CONTENTS/VIDEO/{name}.MXF")),
            registered: copy.join(format!("CONTENTS/VIDEO/{name}.MXF")),
            ..FileRecord::default()
        });
        c
    }

    struct Fx {
        _dir: tempfile::TempDir,
        card: PathBuf,
        record: CardRecord,
    }

    fn fixture() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let card = dir.path().join("CARD");
        let copies = [
            dir.path().join("raid/CARD"),
            dir.path().join("shuttle/CARD"),
        ];
        let mut record = CardRecord::default();
        for copy in &copies {
            std::fs::create_dir_all(copy.join("ascmhl")).unwrap();
            let mhl = copy.join("ascmhl/0001_CARD_2026-12-03_100000Z.mhl");
            std::fs::write(&mhl, b"<hashlist/>").unwrap();
            record.offload_copies.push(OffloadCopy {
                destination: copy.clone(),
                files: 2,
                bytes: 10,
                verify: "read-back".into(),
                mhl,
                ..OffloadCopy::default()
            });
        }
        for n in ["A001", "A002"] {
            record
                .clips
                .insert(n.into(), complete_clip(n, &card, &copies[0]));
        }
        Fx {
            _dir: dir,
            card,
            record,
        }
    }

    #[test]
    fn a_clip_the_run_did_not_take_is_named_and_not_safe() {
        use crate::ingest::selection::LeftOutReason;
        let f = fixture();
        let left = [
            LeftOut {
                clip_id: "A003".into(),
                name: "A003".into(),
                why: LeftOutReason::NotSelected,
            },
            LeftOut {
                clip_id: "A004".into(),
                name: "A004".into(),
                why: LeftOutReason::Waiting("waiting for card CARDB0001".into()),
            },
            // Completed by an earlier run: accounted for.
            LeftOut {
                clip_id: "A001".into(),
                name: "A001".into(),
                why: LeftOutReason::NotSelected,
            },
        ];
        let v = verdict(&f.record, &f.card, &left);
        assert!(!v.safe_to_erase);
        assert_eq!(
            v.evidence[0].text,
            "2 of 4 clips not complete in iconik: A003 (not selected by the operator), A004 \
             (waiting for card CARDB0001)"
        );
        let v = verdict(&f.record, &f.card, &left[2..]);
        assert!(v.safe_to_erase, "{:?}", v.lines());
    }

    #[test]
    fn a_failed_later_tier_keeps_the_card_unsafe_only_below_the_required_copies() {
        let mut f = fixture();
        // The shuttle was a later tier, filled from the RAID copy, and failed.
        let raid = f.record.offload_copies[0].destination.clone();
        let tier = &mut f.record.offload_copies[1];
        tier.copied_from = Some(raid);
        tier.error = Some("no room on the drive".into());
        let v = verdict(&f.record, &f.card, &[]);
        assert!(!v.safe_to_erase, "every destination required by default");
        f.record.required_copies = Some(1);
        let v = verdict(&f.record, &f.card, &[]);
        assert!(v.safe_to_erase, "{:?}", v.lines());
        assert!(
            v.lines()
                .contains(&"✓ 1 verified copies, 1 required".to_owned())
        );
        f.record.required_copies = Some(2);
        let v = verdict(&f.record, &f.card, &[]);
        assert!(!v.safe_to_erase);
        assert!(
            v.lines()
                .contains(&"✗ 1 verified copies, 2 required".to_owned())
        );
        // The first tier is never excused: the card was released from it.
        f.record.required_copies = Some(1);
        f.record.offload_copies[1].error = None;
        f.record.offload_copies[1].copied_from = None;
        f.record.offload_copies[0].error = Some("drive gone".into());
        assert!(!verdict(&f.record, &f.card, &[]).safe_to_erase);
    }

    #[test]
    fn all_evidence_met_is_safe() {
        let f = fixture();
        let v = verdict(&f.record, &f.card, &[]);
        assert!(v.safe_to_erase, "{:#?}", v);
        // clips, registered-from-copy, 2 × (copy + MHL), proxies.
        assert_eq!(v.evidence.len(), 7);
        assert_eq!(v.evidence[0].text, "2 of 2 clips complete in iconik");
        assert!(v.lines().iter().all(|l| l.starts_with('✓')));
    }

    #[test]
    fn each_missing_piece_keeps_the_verdict_off_and_says_which() {
        // A corrupted shuttle copy.
        let mut f = fixture();
        f.record.offload_copies[1].failed = vec!["CONTENTS/VIDEO/A002.MXF".into()];
        let v = verdict(&f.record, &f.card, &[]);
        assert!(!v.safe_to_erase);
        let bad: Vec<&Evidence> = v.evidence.iter().filter(|e| !e.met).collect();
        assert_eq!(bad.len(), 1);
        assert!(
            bad[0].text.contains(
                "shuttle/CARD: 1 of 2 files differ from the card: CONTENTS/VIDEO/A002.MXF"
            ),
            "{}",
            bad[0].text
        );

        // Size-only verification is not read-back.
        let mut f = fixture();
        f.record.offload_copies[0].verify = "size".into();
        let v = verdict(&f.record, &f.card, &[]);
        assert!(!v.safe_to_erase);
        assert!(
            v.lines()
                .iter()
                .any(|l| l.starts_with("✗ copy") && l.contains("size only"))
        );

        // A missing MHL file.
        let f = fixture();
        std::fs::remove_file(&f.record.offload_copies[0].mhl).unwrap();
        let v = verdict(&f.record, &f.card, &[]);
        assert!(!v.safe_to_erase);
        assert!(v.lines().iter().any(|l| l.starts_with("✗ ASC MHL missing")));

        // A failed upload leaves a proxy open.
        let mut f = fixture();
        let clip = f.record.clips.get_mut("A002").unwrap();
        clip.steps.get_mut(&Step::UploadProxy).unwrap().state = StepState::Failed {
            error: "503".into(),
            retryable: true,
        };
        clip.steps.get_mut(&Step::CloseProxy).unwrap().state = StepState::Pending;
        let v = verdict(&f.record, &f.card, &[]);
        assert!(!v.safe_to_erase);
        let lines = v.lines();
        assert!(
            lines.contains(&"✗ 1 of 2 clips not complete in iconik: A002".to_owned()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"✗ proxy not closed: A002".to_owned()),
            "{lines:?}"
        );

        // No offload at all: the card is iconik's original.
        let mut f = fixture();
        f.record.offload_copies.clear();
        for c in f.record.clips.values_mut() {
            c.files[0].registered = c.files[0].source.clone();
        }
        let v = verdict(&f.record, &f.card, &[]);
        assert!(!v.safe_to_erase);
        assert_eq!(
            v.lines()[1],
            "✗ no offload: iconik's originals are the files on this card"
        );
    }

    #[test]
    fn an_incomplete_clip_is_not_complete_in_iconik() {
        let mut f = fixture();
        let clip = f.record.clips.get_mut("A001").unwrap();
        for s in Step::ALL {
            clip.steps.get_mut(&s).unwrap().state = StepState::Skipped {
                reason: "incomplete clip: part 2 of 2 is on another card".into(),
            };
        }
        let v = verdict(&f.record, &f.card, &[]);
        assert!(!v.safe_to_erase);
        assert_eq!(v.lines()[0], "✗ 1 of 2 clips not complete in iconik: A001");
    }
}
