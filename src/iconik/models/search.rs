//! Search (`SearchCriteriaSchema`, `SearchDocumentSchema`; iconik-api.md §6.11). Results come from
//! an index and may lag behind creates.

use serde::{Deserialize, Serialize};

/// A filter term (`CriteriaTermSchema`).
#[derive(Debug, Clone, Serialize)]
pub struct SearchTerm {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub value_in: Vec<String>,
}

/// `CriteriaFilterSchema`.
#[derive(Debug, Clone, Serialize)]
pub struct SearchFilter {
    pub operator: String,
    pub terms: Vec<SearchTerm>,
}

/// Body of `POST search/`.
#[derive(Debug, Clone, Serialize)]
pub struct SearchRequest {
    pub doc_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<SearchFilter>,
}

impl SearchRequest {
    /// Assets whose `external_id` equals `external_id`.
    pub fn assets_by_external_id(external_id: &str) -> Self {
        Self {
            doc_types: vec!["assets".to_owned()],
            query: None,
            filter: Some(SearchFilter {
                operator: "AND".to_owned(),
                terms: vec![SearchTerm {
                    name: "external_id".to_owned(),
                    value: Some(external_id.to_owned()),
                    value_in: Vec::new(),
                }],
            }),
        }
    }
}

impl SearchRequest {
    /// Assets whose `external_id` is one of `external_ids` (one `value_in` term).
    pub fn assets_by_external_ids(external_ids: &[String]) -> Self {
        Self {
            doc_types: vec!["assets".to_owned()],
            query: None,
            filter: Some(SearchFilter {
                operator: "AND".to_owned(),
                terms: vec![SearchTerm {
                    name: "external_id".to_owned(),
                    value: None,
                    value_in: external_ids.to_vec(),
                }],
            }),
        }
    }
}

/// One hit. Search documents carry the object's own fields; the common ones are typed.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SearchHit {
    pub id: uuid::Uuid,
    #[serde(default)]
    pub object_type: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
}
