//! File sets (iconik-api.md §6.4; SPEC-F `/v1/assets/{asset_id}/file_sets/…`): create with the
//! flow invariants of §12 (format exists, `component_ids` ⊆ the format's components), list,
//! get, patch/put, the file list of a set, and DELETE — which without `keep_source=true` is
//! recorded in `sources_deleted` because real iconik deletes the files on storage (§10.1).

use super::{Ctx, Reply, RouteResult, SERVER_OWNED, merge, new_id, not_routed, now, page, str_or};
use crate::sandbox::App;
use crate::sandbox::state::{Kind, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

pub fn route(app: &App, ctx: &mut Ctx, asset_id: &str, rest: &[&str]) -> RouteResult {
    match (ctx.method.as_str(), rest) {
        ("POST", []) => create(app, ctx, asset_id),
        ("GET", []) => {
            let st = app.state();
            let items = super::of_asset(&st, Kind::FileSets, asset_id)?
                .map(|fs| with_count(&st, fs))
                .collect();
            page(ctx, items)
        }
        ("GET", [id]) => {
            let st = app.state();
            Ok(Reply::ok(with_count(&st, find(&st, asset_id, id)?)))
        }
        ("GET", [id, "files"]) => {
            let st = app.state();
            find(&st, asset_id, id)?;
            let items = st
                .files
                .iter()
                .filter(|f| f["file_set_id"] == *id)
                .cloned()
                .collect();
            page(ctx, items)
        }
        ("PATCH" | "PUT", [id]) => {
            let template = "/API/files/v1/assets/{asset_id}/file_sets/{file_set_id}/";
            let body = ctx.body(app, template, "FileSetSchema")?;
            let mut st = app.state();
            let format_id = body
                .get("format_id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| {
                    find(&st, asset_id, id)
                        .map(|fs| fs["format_id"].as_str().unwrap_or_default().to_string())
                        .unwrap_or_default()
                });
            find(&st, asset_id, id)?;
            if let Some(ids) = body.get("component_ids") {
                check_components(&st, asset_id, &format_id, ids)?;
            }
            let fs = st
                .get_mut(Kind::FileSets, id)
                .ok_or_else(|| Reply::not_found("File set", id))?;
            merge(fs, &body, SERVER_OWNED);
            let fs = fs.clone();
            Ok(Reply::ok(with_count(&st, &fs)))
        }
        ("DELETE", [id]) => delete(app, ctx, asset_id, id),
        _ => Err(not_routed(ctx)),
    }
}

pub fn find<'a>(st: &'a State, asset_id: &str, id: &str) -> Result<&'a Value, Reply> {
    super::in_asset(st, Kind::FileSets, "File set", asset_id, id)
}

/// The record with its live `file_count` (read-only, server-computed).
pub fn with_count(st: &State, fs: &Value) -> Value {
    let count = st
        .files
        .iter()
        .filter(|f| f["file_set_id"] == fs["id"] && f["status"] != "DELETED")
        .count();
    let mut fs = fs.clone();
    fs["file_count"] = json!(count);
    fs
}

/// `component_ids` must all be components of the format (iconik-api.md §10.2).
fn check_components(st: &State, asset_id: &str, format_id: &str, ids: &Value) -> Result<(), Reply> {
    let format = super::formats::find(st, asset_id, format_id)?;
    let known: Vec<&Value> = format["components"]
        .as_array()
        .map(|c| c.iter().map(|c| &c["id"]).collect())
        .unwrap_or_default();
    let foreign: Vec<String> = ids
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter(|id| !known.contains(id))
                .map(|id| {
                    id.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| id.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(Reply::field_error(
            StatusCode::BAD_REQUEST,
            "component_ids",
            format!(
                "Components {} do not belong to format {format_id}",
                foreign.join(", ")
            ),
        ))
    }
}

/// SPEC-F POST /v1/assets/{asset_id}/file_sets/ → 201 (`FileSetSchema`).
fn create(app: &App, ctx: &mut Ctx, asset_id: &str) -> RouteResult {
    let body = ctx.body(
        app,
        "/API/files/v1/assets/{asset_id}/file_sets/",
        "FileSetSchema",
    )?;
    let mut st = app.state();
    let asset = super::asset(&st, asset_id)?;
    let version_default = asset["versions"][0]["id"].clone();
    let format_id = body["format_id"].as_str().unwrap_or_default().to_string();
    let format = super::formats::find(&st, asset_id, &format_id)?;
    if format["id"] != format_id.as_str() {
        // Found by name: a file set must reference the format's id.
        return Err(Reply::not_found("Format", &format_id));
    }
    check_components(&st, asset_id, &format_id, &body["component_ids"])?;
    let storage_id = body.get("storage_id").cloned().unwrap_or(Value::Null);
    if let Some(sid) = storage_id.as_str()
        && st.get(Kind::Storages, sid).is_none()
    {
        return Err(Reply::not_found("Storage", sid));
    }
    let created = now();
    let fs = json!({
        "id": new_id(),
        "asset_id": asset_id,
        "format_id": format_id,
        "storage_id": storage_id,
        "name": body["name"],
        "base_dir": body["base_dir"],
        "component_ids": body["component_ids"],
        "status": str_or(&body, "status", "ACTIVE"),
        "version_id": body.get("version_id").cloned().unwrap_or(version_default),
        "is_archive": body.get("is_archive").cloned().unwrap_or(json!(false)),
        "original_storage_id": body.get("original_storage_id").cloned().unwrap_or(Value::Null),
        "archive_file_set_id": body.get("archive_file_set_id").cloned().unwrap_or(Value::Null),
        "deleted_by_user": Value::Null,
        "date_deleted": Value::Null,
        "date_created": created,
        "date_modified": created,
    });
    st.file_sets.push(fs.clone());
    Ok(Reply::created(with_count(&st, &fs)))
}

/// SPEC-F DELETE /v1/assets/{asset_id}/file_sets/{file_set_id}/ → 200 (marked deleted) or 204
/// with `immediately=true` (purged). Without `keep_source=true` iconik deletes the files on
/// storage: recorded in `sources_deleted`.
fn delete(app: &App, ctx: &Ctx, asset_id: &str, id: &str) -> RouteResult {
    let keep_source = ctx.flag("keep_source");
    let immediately = ctx.flag("immediately");
    let mut st = app.state();
    let fs = find(&st, asset_id, id)?.clone();
    let files: Vec<Value> = st
        .files
        .iter()
        .filter(|f| f["file_set_id"] == id)
        .cloned()
        .collect();
    if !keep_source {
        st.sources_deleted.push(json!({
            "file_set_id": id,
            "asset_id": asset_id,
            "storage_id": fs["storage_id"],
            "base_dir": fs["base_dir"],
            "files": files.iter().map(|f| json!({
                "id": f["id"], "directory_path": f["directory_path"], "name": f["name"],
            })).collect::<Vec<_>>(),
            "date": now(),
        }));
    }
    for f in st.files.iter_mut().filter(|f| f["file_set_id"] == id) {
        f["status"] = json!("DELETED");
    }
    if immediately {
        st.file_sets.retain(|f| f["id"] != id);
        return Ok(Reply::no_content());
    }
    let fs = st
        .get_mut(Kind::FileSets, id)
        .ok_or_else(|| Reply::not_found("File set", id))?;
    fs["status"] = json!("DELETED");
    fs["date_deleted"] = json!(now());
    Ok(Reply::ok(fs.clone()))
}
