//! Asset segments (`Segment`, `SegmentSchema`, `BulkCreateSegmentsSchema`; iconik-api.md §15):
//! camera marks are registered as segments of type `MARKER` at their time on the clip.

use serde::{Deserialize, Serialize};

/// `segment_type` values card-ingest writes (the spec's enum has more: QC, COMMENT, TAG, ...).
pub const MARKER: &str = "MARKER";

/// One segment to create (an item of `BulkCreateSegmentsSchema.objects`, schema `Segment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentCreate {
    pub segment_type: String,
    pub time_start_milliseconds: i64,
    /// A point mark ends where it starts.
    pub time_end_milliseconds: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_text: Option<String>,
}

impl SegmentCreate {
    /// A point marker at `ms` with `text`.
    pub fn marker(ms: i64, text: &str) -> Self {
        Self {
            segment_type: MARKER.to_owned(),
            time_start_milliseconds: ms,
            time_end_milliseconds: ms,
            segment_text: Some(text.to_owned()),
        }
    }
}

/// Body of `POST assets/{asset_id}/segments/bulk/` (1..=500 objects).
#[derive(Debug, Clone, Serialize)]
pub struct BulkSegmentsCreate {
    pub objects: Vec<SegmentCreate>,
}

/// The spec's `maxItems` of one bulk create.
pub const BULK_MAX: usize = 500;

/// A segment as listed (`SegmentSchema`); lenient: only what the marker step compares.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Segment {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub segment_type: Option<String>,
    #[serde(default)]
    pub time_start_milliseconds: Option<i64>,
    #[serde(default)]
    pub time_end_milliseconds: Option<i64>,
    #[serde(default)]
    pub segment_text: Option<String>,
}

impl Segment {
    /// Whether this listed segment is the marker `m` (same type, start and text): a re-run
    /// after a lost answer creates only the marks not yet there.
    pub fn is(&self, m: &SegmentCreate) -> bool {
        self.segment_type.as_deref() == Some(m.segment_type.as_str())
            && self.time_start_milliseconds == Some(m.time_start_milliseconds)
            && self.segment_text == m.segment_text
    }
}
