//! The list envelope every iconik list call returns (`ListObjectsSchema`, iconik-api.md §3).
//! Storage lists page by number (`page`/`per_page`); per-asset lists use the `last_id` cursor.

use serde::{Deserialize, Serialize};

/// One page of a list.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(bound(deserialize = "T: serde::de::DeserializeOwned"))]
pub struct Page<T> {
    #[serde(default)]
    pub objects: Vec<T>,
    #[serde(default)]
    pub page: Option<i64>,
    #[serde(default)]
    pub pages: Option<i64>,
    #[serde(default)]
    pub per_page: Option<i64>,
    #[serde(default)]
    pub total: Option<i64>,
    #[serde(default)]
    pub first_url: Option<String>,
    #[serde(default)]
    pub prev_url: Option<String>,
    /// Host-relative (B2P); only used as a "there is more" hint.
    #[serde(default)]
    pub next_url: Option<String>,
    #[serde(default)]
    pub last_url: Option<String>,
    #[serde(default)]
    pub scroll_id: Option<String>,
}

impl<T> Page<T> {
    /// Whether a page-numbered walk should fetch `page + 1`.
    pub fn has_next_numbered(&self, requested_page: u32) -> bool {
        if self.objects.is_empty() {
            return false;
        }
        match self.pages {
            Some(pages) => i64::from(requested_page) < pages,
            None => self.next_url.is_some(),
        }
    }

    /// Whether a cursor walk should fetch again with `last_id` = the last object's id.
    pub fn has_next_cursor(&self, per_page: u32) -> bool {
        if self.objects.is_empty() {
            return false;
        }
        self.next_url.is_some() || self.objects.len() >= per_page as usize
    }
}

/// Objects with an id usable as a `last_id` cursor.
pub trait Cursor {
    /// The id as sent in `last_id`.
    fn cursor_id(&self) -> String;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_parses_envelope_and_decides_next() {
        let p: Page<serde_json::Value> = serde_json::from_str(
            r#"{"objects":[{"a":1},{"a":2}],"page":1,"pages":3,"per_page":2,"total":5,
                "next_url":"/API/files/v1/storages/?page=2","unknown":true}"#,
        )
        .unwrap();
        assert_eq!(p.objects.len(), 2);
        assert_eq!(p.total, Some(5));
        assert!(p.has_next_numbered(1));
        assert!(p.has_next_numbered(2));
        assert!(!p.has_next_numbered(3));
        assert!(p.has_next_cursor(2));
        let empty: Page<serde_json::Value> = serde_json::from_str("{}").unwrap();
        assert!(!empty.has_next_numbered(1));
        assert!(!empty.has_next_cursor(10));
        let short: Page<serde_json::Value> = serde_json::from_str(r#"{"objects":[1]}"#).unwrap();
        assert!(!short.has_next_cursor(10));
    }
}
