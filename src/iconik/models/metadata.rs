//! Metadata views and values (`MetadataViewSchema`, `MetadataValuesSchema`; iconik-api.md §6.10).

use super::enums::MetadataMode;
use super::ids::{VersionId, ViewId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A field of a view (`view_fields[]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ViewField {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub field_type: Option<String>,
    #[serde(default)]
    pub read_only: Option<bool>,
    #[serde(default)]
    pub required: Option<bool>,
}

/// A metadata view.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MetadataView {
    pub id: ViewId,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub view_fields: Vec<ViewField>,
}

/// One value of a field.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FieldValue {
    pub value: serde_json::Value,
}

/// `MetadataFieldValueSchema`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FieldValues {
    #[serde(default)]
    pub field_values: Vec<FieldValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<MetadataMode>,
}

/// Body and answer of `PUT assets/{asset_id}/views/{view_id}/`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct MetadataValues {
    #[serde(default)]
    pub metadata_values: BTreeMap<String, FieldValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<VersionId>,
}

impl MetadataValues {
    /// One string value per field (text fields), mode left at iconik's default (`overwrite`).
    pub fn from_strings<'a>(values: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let metadata_values = values
            .into_iter()
            .map(|(k, v)| {
                (
                    k.to_owned(),
                    FieldValues {
                        field_values: vec![FieldValue {
                            value: serde_json::Value::String(v.to_owned()),
                        }],
                        mode: None,
                    },
                )
            })
            .collect();
        Self {
            metadata_values,
            version_id: None,
        }
    }

    /// The first value of `field` as a string, if any.
    pub fn first_str(&self, field: &str) -> Option<&str> {
        self.metadata_values
            .get(field)?
            .field_values
            .first()?
            .value
            .as_str()
    }
}
