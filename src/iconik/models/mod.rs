//! Typed models of the iconik API, one file per noun. Request structs serialise only fields the
//! spec schemas accept (skipping `None`); response structs are lenient (unknown fields ignored,
//! most fields optional, both date styles parsed).

pub mod asset;
pub mod collection;
pub mod date;
pub mod enums;
pub mod file;
pub mod file_set;
pub mod format;
pub mod ids;
pub mod job;
pub mod keyframe;
pub mod metadata;
pub mod page;
pub mod proxy;
pub mod search;
pub mod segment;
pub mod storage;

pub use asset::{Asset, AssetCreate, AssetHistory, AssetHistoryCreate, AssetPatch, AssetVersion};
pub use collection::{Collection, CollectionContentAdd, CollectionCreate, CollectionItem};
pub use enums::*;
pub use file::{File, FileCreate, FilePatch};
pub use file_set::{FileSet, FileSetCreate};
pub use format::{Component, ComponentCreate, Format, FormatCreate};
pub use ids::*;
pub use job::{Job, JobStepWrite, JobWrite};
pub use keyframe::{Keyframe, KeyframeRequest, TranscodeResponse};
pub use metadata::{FieldValue, FieldValues, MetadataValues, MetadataView, ViewField};
pub use page::{Cursor, Page};
pub use proxy::{
    MultipartCleanup, MultipartPartUrl, MultipartUrls, Proxy, ProxyCreate, ProxyUpdate, Resolution,
};
pub use search::{SearchFilter, SearchHit, SearchRequest, SearchTerm};
pub use segment::{BulkSegmentsCreate, Segment, SegmentCreate};
pub use storage::Storage;

#[cfg(test)]
mod spec_check;
