//! iconik's OpenAPI documents loaded at startup and used to validate every request body. The
//! seven published documents live in `assets/iconik-spec/` (provenance in its `SOURCES.md`) and
//! are compiled into the binary, so every sandbox validates without any file beside it; a folder
//! given with `--spec DIR` replaces them (e.g. a newer copy of iconik's spec).
//!
//! How the OpenAPI 3.0 dialect is mapped onto JSON Schema (draft 4, which OpenAPI 3.0 schemas
//! follow):
//! - `nullable: true` is not JSON Schema. On load it is rewritten: a `type: X` becomes
//!   `type: [X, "null"]`, an `enum` gains `null`, and a schema without `type` (a `$ref`/`allOf`
//!   wrapper) becomes `anyOf: [<schema>, {"type": "null"}]`.
//! - `readOnly` properties are server-owned: they are removed from every `required` list, and
//!   before validation they are dropped from the top level of the request body (iconik ignores
//!   them, e.g. TUT-MAG sent `date_created` and got server times back — iconik-api.md §10.4).
//! - `$ref`s are local (`#/components/schemas/X`): each document is compiled as one root with
//!   `jsonschema::ValidatorMap`, and a route's validator is the map entry for its schema pointer.
//! - Format keywords (`uuid`, `date-time`) are not enforced (draft 4 would): iconik itself
//!   emits dates without an offset (iconik-api.md §3, GOI) and nsa-pythonik's `AssetCreate`
//!   sends such dates, so rejecting them would be stricter than iconik.
//!
//! The schema for a route is found from the document's `paths` by (method, path template); the
//! route code passes its template and a fallback schema name.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Errors while loading the spec directory.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read spec file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("spec file {path} is not valid JSON: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "spec folder {path} holds no *.json file: give the folder with iconik's OpenAPI documents, or leave --spec out to use the copy built into card-ingest"
    )]
    Empty { path: PathBuf },
    #[error("spec file {path} has no servers[0].url like /API/<service>/")]
    NoServer { path: PathBuf },
    #[error("cannot compile the schemas of {path}: {message}")]
    Compile { path: PathBuf, message: String },
}

/// One operation's request body schema.
#[derive(Debug, Clone)]
struct Operation {
    /// Which document (index into `Spec::docs`).
    doc: usize,
    /// e.g. `FileSetSchema`.
    schema_name: String,
    operation: Option<String>,
}

struct Doc {
    file: String,
    validators: jsonschema::ValidatorMap,
    /// schema name -> its top-level readOnly property names.
    read_only: HashMap<String, Vec<String>>,
}

/// All loaded documents plus the (METHOD, full path template) → schema index.
pub struct Spec {
    docs: Vec<Doc>,
    ops: HashMap<(String, String), Operation>,
    /// schema name -> doc index, for the hard-coded fallback.
    by_name: HashMap<String, usize>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field(
                "docs",
                &self.docs.iter().map(|d| &d.file).collect::<Vec<_>>(),
            )
            .field("operations", &self.ops.len())
            .finish()
    }
}

/// The outcome of validating one request body, recorded in `/sandbox/requests`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Validation {
    pub schema: String,
    pub operation: Option<String>,
    /// Where the schema came from: `spec` (found via paths), `fallback` (by name), `absent`.
    pub source: &'static str,
    pub valid: bool,
    pub errors: Vec<FieldError>,
}

/// One schema violation: the field (JSON pointer without the leading `/`, or the missing
/// property's name) and the validator's message.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    pub required: bool,
}

/// iconik's per-service OpenAPI documents as compiled into the binary: (file name, JSON text).
pub const EMBEDDED: [(&str, &str); 7] = [
    (
        "assets.json",
        include_str!("../../assets/iconik-spec/assets.json"),
    ),
    (
        "auth.json",
        include_str!("../../assets/iconik-spec/auth.json"),
    ),
    (
        "files.json",
        include_str!("../../assets/iconik-spec/files.json"),
    ),
    (
        "jobs.json",
        include_str!("../../assets/iconik-spec/jobs.json"),
    ),
    (
        "metadata.json",
        include_str!("../../assets/iconik-spec/metadata.json"),
    ),
    (
        "search.json",
        include_str!("../../assets/iconik-spec/search.json"),
    ),
    (
        "transcode.json",
        include_str!("../../assets/iconik-spec/transcode.json"),
    ),
];

/// The embedded document `file` (e.g. `files.json`), for tests and tools that read schemas.
pub fn embedded_document(file: &str) -> Option<&'static str> {
    EMBEDDED.iter().find(|(f, _)| *f == file).map(|(_, t)| *t)
}

impl Spec {
    /// The documents compiled into the binary (`assets/iconik-spec/`).
    pub fn embedded() -> Result<Spec, SpecError> {
        let mut spec = Spec::empty();
        for (file, text) in EMBEDDED {
            spec.add_document(Path::new(file), text)?;
        }
        Ok(spec)
    }

    fn empty() -> Spec {
        Spec {
            docs: Vec::new(),
            ops: HashMap::new(),
            by_name: HashMap::new(),
        }
    }

    /// Loads every `*.json` in `dir` (iconik's per-service documents).
    pub fn load(dir: &Path) -> Result<Spec, SpecError> {
        let entries = std::fs::read_dir(dir).map_err(|source| SpecError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(SpecError::Empty {
                path: dir.to_path_buf(),
            });
        }
        let mut spec = Spec::empty();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|source| SpecError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            spec.add_document(&path, &text)?;
        }
        Ok(spec)
    }

    /// Adds one document; `path` names it in errors and in validation results.
    fn add_document(&mut self, path: &Path, text: &str) -> Result<(), SpecError> {
        let mut doc: Value = serde_json::from_str(text).map_err(|source| SpecError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        let base = doc
            .pointer("/servers/0/url")
            .and_then(Value::as_str)
            .map(|s| s.trim_end_matches('/').to_string())
            .ok_or_else(|| SpecError::NoServer {
                path: path.to_path_buf(),
            })?;
        rewrite_openapi(&mut doc);
        let index = self.docs.len();
        let mut read_only = HashMap::new();
        if let Some(schemas) = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        {
            for (name, schema) in schemas {
                let props = schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .map(|props| {
                        props
                            .iter()
                            .filter(|(_, p)| p.get("readOnly") == Some(&Value::Bool(true)))
                            .map(|(k, _)| k.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                read_only.insert(name.clone(), props);
                self.by_name.entry(name.clone()).or_insert(index);
            }
        }
        if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
            for (template, item) in paths {
                let Some(item) = item.as_object() else {
                    continue;
                };
                for (method, op) in item {
                    let schema_ref = op
                        .pointer("/requestBody/content/application~1json/schema/$ref")
                        .and_then(Value::as_str);
                    let Some(name) =
                        schema_ref.and_then(|r| r.strip_prefix("#/components/schemas/"))
                    else {
                        continue;
                    };
                    let full = format!("{base}{template}");
                    self.ops.insert(
                        (method.to_ascii_uppercase(), full),
                        Operation {
                            doc: index,
                            schema_name: name.to_string(),
                            // iconik's documents have no operationId; the summary names the op.
                            operation: op
                                .get("operationId")
                                .or_else(|| op.get("summary"))
                                .and_then(Value::as_str)
                                .map(str::to_string),
                        },
                    );
                }
            }
        }
        // Only the components matter for validation; compiling the whole document would also
        // walk `paths`, which holds no schema keywords at the places the validator looks.
        let root = serde_json::json!({
            "components": doc.get("components").cloned().unwrap_or(Value::Null)
        });
        let validators = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(false)
            .build_map(&root)
            .map_err(|e| SpecError::Compile {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        self.docs.push(Doc {
            file: path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            validators,
            read_only,
        });
        Ok(())
    }

    /// Number of OpenAPI documents loaded (one per iconik service).
    pub fn document_count(&self) -> usize {
        self.docs.len()
    }

    /// Number of operations with a JSON request body found in `paths`.
    pub fn operation_count(&self) -> usize {
        self.ops.len()
    }

    /// Validates `body` for `method template` (template = full path as in the spec, e.g.
    /// `/API/files/v1/assets/{asset_id}/file_sets/`). `fallback` names the schema when the
    /// template is not in the spec. Returns the body with top-level readOnly fields removed.
    pub fn validate(
        &self,
        method: &str,
        template: &str,
        fallback: &str,
        body: &Value,
    ) -> (Value, Validation) {
        let (op, source) = match self.ops.get(&(method.to_string(), template.to_string())) {
            Some(op) => (op.clone(), "spec"),
            None => match self.by_name.get(fallback) {
                Some(&doc) => (
                    Operation {
                        doc,
                        schema_name: fallback.to_string(),
                        operation: None,
                    },
                    "fallback",
                ),
                None => {
                    return (
                        body.clone(),
                        Validation {
                            schema: fallback.to_string(),
                            operation: None,
                            source: "absent",
                            valid: true,
                            errors: Vec::new(),
                        },
                    );
                }
            },
        };
        let doc = &self.docs[op.doc];
        let mut body = body.clone();
        if let (Some(obj), Some(ro)) = (body.as_object_mut(), doc.read_only.get(&op.schema_name)) {
            for key in ro {
                obj.remove(key);
            }
        }
        let pointer = format!("#/components/schemas/{}", op.schema_name);
        let errors = match doc.validators.get(&pointer) {
            Some(v) => v.iter_errors(&body).map(|e| field_error(&e)).collect(),
            None => Vec::new(),
        };
        let validation = Validation {
            schema: op.schema_name,
            operation: op.operation,
            source,
            valid: errors.is_empty(),
            errors,
        };
        (body, validation)
    }
}

fn field_error(e: &jsonschema::ValidationError<'_>) -> FieldError {
    let path = e.instance_path().to_string();
    if let jsonschema::error::ValidationErrorKind::Required { property } = e.kind() {
        let name = property.as_str().map(str::to_string).unwrap_or_default();
        let prefix = path.trim_start_matches('/');
        let field = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        return FieldError {
            field,
            message: e.to_string(),
            required: true,
        };
    }
    FieldError {
        field: path.trim_start_matches('/').to_string(),
        message: format!("{path}: {e}"),
        required: false,
    }
}

/// Rewrites OpenAPI-3.0-only keywords into JSON Schema, recursively (see module docs).
fn rewrite_openapi(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for v in map.values_mut() {
                rewrite_openapi(v);
            }
            strip_read_only_required(map);
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                make_nullable(map);
            } else {
                map.remove("nullable");
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_openapi),
        _ => {}
    }
}

fn make_nullable(map: &mut Map<String, Value>) {
    if let Some(Value::Array(values)) = map.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    match map.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            map.insert("type".into(), serde_json::json!([t, "null"]));
        }
        Some(Value::Array(types)) => {
            if !types.contains(&Value::from("null")) {
                types.push(Value::from("null"));
            }
        }
        _ => {
            let inner = Value::Object(std::mem::take(map));
            map.insert("anyOf".into(), serde_json::json!([inner, {"type": "null"}]));
        }
    }
}

fn strip_read_only_required(map: &mut Map<String, Value>) {
    let read_only: Vec<String> = match map.get("properties").and_then(Value::as_object) {
        Some(props) => props
            .iter()
            .filter(|(_, p)| p.get("readOnly") == Some(&Value::Bool(true)))
            .map(|(k, _)| k.clone())
            .collect(),
        None => return,
    };
    if let Some(Value::Array(req)) = map.get_mut("required") {
        req.retain(|r| r.as_str().is_none_or(|r| !read_only.iter().any(|k| k == r)));
        if req.is_empty() {
            map.remove("required");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nullable_becomes_type_array_and_any_of() {
        let mut v = json!({"properties": {
            "a": {"type": "string", "nullable": true},
            "b": {"enum": ["X"], "type": "string", "nullable": true},
            "c": {"allOf": [{"$ref": "#/x"}], "nullable": true},
            "d": {"type": "string", "readOnly": true}
        }, "required": ["a", "d"]});
        rewrite_openapi(&mut v);
        assert_eq!(v["properties"]["a"]["type"], json!(["string", "null"]));
        assert_eq!(v["properties"]["b"]["enum"], json!(["X", null]));
        assert_eq!(
            v["properties"]["c"]["anyOf"],
            json!([{"allOf": [{"$ref": "#/x"}]}, {"type": "null"}])
        );
        assert_eq!(v["required"], json!(["a"]));
    }
}
