//! Which clips of a card a run takes, and why each other clip of the card is left out: the
//! verdict and the report cover every clip the scan found, not only the ones the run was given,
//! so a clip nobody ingested can never hide behind "safe to erase".
//!
//! Pure: the scan's clips and the operator's choice in, the engine's job and the left-out list
//! out. Both faces (CLI and window) build a [`CardPlan`] and the session splits it here.

use super::engine::CardJob;
use crate::card::Card;
use crate::scan::ScannedClip;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Why a clip of the card is not part of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", content = "reason", rename_all = "snake_case")]
pub enum LeftOutReason {
    /// The operator did not select it.
    NotSelected,
    /// A member file is empty or truncated (the scan's message says which and what to do).
    Blocked(String),
    /// The shot continues on a card that was not given (the scan's message names it).
    Waiting(String),
}

impl LeftOutReason {
    /// The clip's status in the report and every face.
    pub fn status(&self) -> super::report::ClipStatus {
        use super::report::ClipStatus;
        match self {
            LeftOutReason::NotSelected => ClipStatus::NotSelected,
            LeftOutReason::Blocked(_) => ClipStatus::Blocked,
            LeftOutReason::Waiting(_) => ClipStatus::Waiting,
        }
    }

    /// The words every face shows for it.
    pub fn text(&self) -> String {
        match self {
            LeftOutReason::NotSelected => "not selected by the operator".to_owned(),
            LeftOutReason::Blocked(why) => format!("blocked: {why}"),
            LeftOutReason::Waiting(why) => why.clone(),
        }
    }
}

/// A clip of the card that the run did not take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    pub clip_id: String,
    pub name: String,
    pub why: LeftOutReason,
}

/// One card as a face hands it to the session.
#[derive(Debug, Clone)]
pub struct CardPlan {
    pub card: Card,
    /// Every clip the scan found on this card, in card order.
    pub clips: Vec<ScannedClip>,
    /// The clips to ingest. A damaged clip in here runs: the operator chose it on purpose.
    pub selected: HashSet<String>,
}

impl CardPlan {
    /// Every clip of `card` in `clips` selected, except damaged ones unless `include_damaged`
    /// (the CLI's choice: `--include-damaged`).
    pub fn all_clips(card: Card, clips: Vec<ScannedClip>, include_damaged: bool) -> CardPlan {
        let selected = clips
            .iter()
            .filter(|c| include_damaged || c.damage().is_none())
            .map(|c| c.clip.id.clone())
            .collect();
        CardPlan {
            card,
            clips,
            selected,
        }
    }

    /// The engine's job: the selected, complete clips (`cards` are every card of the scan, for
    /// spans), and in [`CardJob::left_out`] the card's other clips with their reason.
    pub fn split(&self, cards: &[Card]) -> CardJob {
        let mut run = Vec::new();
        let mut left = Vec::new();
        for c in &self.clips {
            let why = if let Some(reason) = &c.clip.incomplete {
                Some(LeftOutReason::Waiting(reason.clone()))
            } else if self.selected.contains(&c.clip.id) {
                None
            } else if let Some(damage) = c.damage() {
                Some(LeftOutReason::Blocked(damage))
            } else {
                Some(LeftOutReason::NotSelected)
            };
            match why {
                None => run.push(c.clone()),
                Some(why) => left.push(LeftOut {
                    clip_id: c.clip.id.clone(),
                    name: c.clip.name.clone(),
                    why,
                }),
            }
        }
        let mut job = CardJob::new(self.card.clone(), run, cards);
        job.left_out = left;
        job
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{Clip, ClipFile, Family, FileRole};
    use crate::media::ClipMetadata;
    use std::path::PathBuf;

    fn clip(name: &str, size: u64, incomplete: Option<&str>) -> ScannedClip {
        let root = PathBuf::from("/cards/A");
        ScannedClip {
            clip: Clip {
                id: format!("p2:{name}"),
                name: name.to_owned(),
                family: Family::P2,
                card_root: root.clone(),
                files: vec![ClipFile {
                    path: root.join(format!("CONTENTS/VIDEO/{name}.MXF")),
                    role: FileRole::Video,
                    size,
                }],
                segments: vec![vec![0]],
                incomplete: incomplete.map(str::to_owned),
                warnings: Vec::new(),
                derived_from: None,
            },
            metadata: ClipMetadata::default(),
            raw_metadata: serde_json::Value::Null,
            camera_proxy: None,
            description: None,
            pending: None,
        }
    }

    fn card() -> Card {
        Card {
            family: Family::P2,
            root: PathBuf::from("/cards/A"),
        }
    }

    #[test]
    fn every_clip_is_run_or_left_out_with_its_reason() {
        let clips = vec![
            clip("0001AA", 10, None),
            clip("0002AB", 10, None),
            clip("0003AC", 0, None),
            clip("0004AD", 10, Some("waiting for card CARDB0001")),
        ];
        let plan = CardPlan {
            card: card(),
            clips,
            selected: HashSet::from(["p2:0001AA".to_owned()]),
        };
        let job = plan.split(&[card()]);
        let left = &job.left_out;
        let run: Vec<&str> = job.clips.iter().map(|c| c.clip.name.as_str()).collect();
        assert_eq!(run, ["0001AA"]);
        assert_eq!(left.len(), 3);
        assert_eq!(left[0].why, LeftOutReason::NotSelected);
        assert!(
            matches!(&left[1].why, LeftOutReason::Blocked(m) if m.contains("0003AC.MXF") && m.contains("0 bytes")),
            "{:?}",
            left[1]
        );
        assert_eq!(
            left[2].why,
            LeftOutReason::Waiting("waiting for card CARDB0001".into())
        );
    }

    #[test]
    fn the_cli_selection_holds_damaged_clips_back_unless_asked() {
        let clips = vec![clip("0001AA", 10, None), clip("0003AC", 0, None)];
        let job = CardPlan::all_clips(card(), clips.clone(), false).split(&[card()]);
        assert_eq!(job.clips.len(), 1);
        assert!(matches!(job.left_out[0].why, LeftOutReason::Blocked(_)));
        let job = CardPlan::all_clips(card(), clips, true).split(&[card()]);
        assert_eq!(job.clips.len(), 2);
        assert!(job.left_out.is_empty());
    }
}
