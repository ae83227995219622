//! Files (iconik-api.md §6.5; SPEC-F `/v1/assets/{asset_id}/files/…`): create
//! (`FileCreateSchema`) linked to its file set, format and storage; list, get, patch/put
//! (`FileSchema`), delete (record only); and the checksum lookup `files/checksum/{md5}/` (§9).

use super::{Ctx, Reply, RouteResult, new_id, not_routed, now, page, str_or};
use crate::sandbox::App;
use crate::sandbox::state::{Kind, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

pub fn route(app: &App, ctx: &mut Ctx, asset_id: &str, rest: &[&str]) -> RouteResult {
    match (ctx.method.as_str(), rest) {
        ("POST", []) => create(app, ctx, asset_id),
        ("GET", []) => {
            let st = app.state();
            let items = super::of_asset(&st, Kind::Files, asset_id)?
                // Undocumented filters seen in use (iconik-api.md §10.12).
                .filter(|f| ctx.q("file_set_id").is_none_or(|v| f["file_set_id"] == v))
                .filter(|f| ctx.q("storage_id").is_none_or(|v| f["storage_id"] == v))
                .cloned()
                .collect();
            page(ctx, items)
        }
        ("GET", [id]) => {
            let st = app.state();
            Ok(Reply::ok(find(&st, asset_id, id)?.clone()))
        }
        // SPEC-F GET …/files/{file_id}/download_url/ → 200 `{url}` (`FileDownloadURLSchema`):
        // a FILES storage's original is served from the mount by the sandbox (iconik would
        // answer a link through its storage gateway).
        ("GET", [id, "download_url"]) => {
            let st = app.state();
            let file = find(&st, asset_id, id)?;
            match crate::sandbox::inspect::original_path(app, &st, file) {
                Some(_) => Ok(Reply::ok(json!({
                    "url": format!("{}/sandbox/files/{id}/content", app.base_url)
                }))),
                None => Err(Reply::error(
                    StatusCode::NOT_FOUND,
                    format!(
                        "File {id} ({}/{}) is not on a storage the sandbox can read",
                        file["directory_path"].as_str().unwrap_or_default(),
                        file["name"].as_str().unwrap_or_default()
                    ),
                )),
            }
        }
        ("PATCH" | "PUT", [id]) => {
            let template = "/API/files/v1/assets/{asset_id}/files/{file_id}/";
            let body = ctx.body(app, template, "FileSchema")?;
            let mut st = app.state();
            find(&st, asset_id, id)?;
            let owned = ["upload_url", "storage_method", "upload_method"];
            let file = super::patch_upload_target(&mut st, Kind::Files, "File", id, &body, &owned)?;
            Ok(Reply::ok(file.clone()))
        }
        // SPEC-F GET …/files/{file_id}/multipart_url/part/?upload_id=&parts_num=N → 200
        // `MultiPartUploadURLsSchema` (paged `objects[] {number, url}`): signed S3 UploadPart
        // URLs of an upload started at the record's `multipart_upload_url`.
        ("GET", [id, "multipart_url", "part"]) => {
            let (key, upload_id) = multipart_of(app, ctx, asset_id, id)?;
            let parts = match ctx.q("parts_num").map(str::parse::<u32>) {
                Some(Ok(n)) if (1..=10_000).contains(&n) => n,
                _ => {
                    return Err(Reply::field_error(
                        StatusCode::BAD_REQUEST,
                        "parts_num",
                        "give parts_num, the number of parts (1..=10000)".to_owned(),
                    ));
                }
            };
            let items = (1..=parts)
                .map(|n| {
                    json!({
                        "number": n,
                        "url": s3_url(app, &key, &format!("partNumber={n}&uploadId={upload_id}")),
                    })
                })
                .collect();
            page(ctx, items)
        }
        // SPEC-F GET …/files/{file_id}/multipart_url/?upload_id=&type=complete_url → 200
        // `MultiPartURLsSchema` `{complete_url, abort_url}`.
        ("GET", [id, "multipart_url"]) => {
            let (key, upload_id) = multipart_of(app, ctx, asset_id, id)?;
            let url = s3_url(app, &key, &format!("uploadId={upload_id}"));
            Ok(Reply::ok(json!({"complete_url": url, "abort_url": url})))
        }
        // SPEC-F POST …/files/{file_id}/multipart/cleanup/ (`MultipartUploadCleanupSchema`) →
        // 200 without body: with `abort_upload` the upload and its parts are dropped.
        ("POST", [id, "multipart", "cleanup"]) => {
            let template = "/API/files/v1/assets/{asset_id}/files/{file_id}/multipart/cleanup/";
            let body = ctx.body(app, template, "MultipartUploadCleanupSchema")?;
            let mut st = app.state();
            find(&st, asset_id, id)?;
            if body["abort_upload"] == true
                && let Some(upload) = body["upload_id"].as_str()
            {
                st.s3_multiparts.remove(upload);
            }
            Ok(Reply::ok(Value::Null))
        }
        // SPEC-F DELETE …/files/{file_id}/ → 204; removes the record only.
        ("DELETE", [id]) => {
            let mut st = app.state();
            find(&st, asset_id, id)?;
            st.files.retain(|f| f["id"] != *id);
            Ok(Reply::no_content())
        }
        _ => Err(not_routed(ctx)),
    }
}

/// The object (`bucket/object`) of file `id`'s upload and the query's `upload_id`, which must
/// be an S3 multipart upload started for that object.
fn multipart_of(app: &App, ctx: &Ctx, asset_id: &str, id: &str) -> Result<(String, String), Reply> {
    let st = app.state();
    find(&st, asset_id, id)?;
    let Some(upload_id) = ctx.q("upload_id").map(str::to_owned) else {
        return Err(Reply::field_error(
            StatusCode::BAD_REQUEST,
            "upload_id",
            "give upload_id, the UploadId the multipart_upload_url answered".to_owned(),
        ));
    };
    let key = st.upload_targets.get(id).cloned().unwrap_or_default();
    match st.s3_multiparts.get(&upload_id) {
        Some(m) if m.key == key => Ok((key, upload_id)),
        _ => Err(Reply::field_error(
            StatusCode::BAD_REQUEST,
            "upload_id",
            format!(
                "no S3 multipart upload {upload_id:?} for file {id}: start it at the file's multipart_upload_url"
            ),
        )),
    }
}

/// A signed-style S3 URL of object `key` (`bucket/object`) with `action` (e.g. `uploads`).
fn s3_url(app: &App, key: &str, action: &str) -> String {
    format!(
        "{}/s3/{key}?{action}&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=SANDBOX%2F{date}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date={date}T000000Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=sandbox",
        app.base_url,
        date = chrono::Utc::now().format("%Y%m%d")
    )
}

fn find<'a>(st: &'a State, asset_id: &str, id: &str) -> Result<&'a Value, Reply> {
    super::in_asset(st, Kind::Files, "File", asset_id, id)
}

/// SPEC-F GET /v1/files/checksum/{file_checksum}/ → 200 list, 404 when none (§9).
pub fn by_checksum(app: &App, ctx: &Ctx, md5: &str) -> RouteResult {
    let st = app.state();
    let items: Vec<Value> = st
        .files
        .iter()
        .filter(|f| f["checksum"] == md5 && f["status"] != "DELETED")
        .cloned()
        .collect();
    if items.is_empty() {
        return Err(Reply::not_found("File with checksum", md5));
    }
    page(ctx, items)
}

/// SPEC-F POST /v1/assets/{asset_id}/files/ → 201 (`FileCreateSchema`).
fn create(app: &App, ctx: &mut Ctx, asset_id: &str) -> RouteResult {
    let body = ctx.body(
        app,
        "/API/files/v1/assets/{asset_id}/files/",
        "FileCreateSchema",
    )?;
    let mut st = app.state();
    let asset = super::asset(&st, asset_id)?;
    let version_default = asset["versions"][0]["id"].clone();
    let dir = body["directory_path"].as_str().unwrap_or_default();
    if dir.starts_with('/') {
        return Err(Reply::field_error(
            StatusCode::BAD_REQUEST,
            "directory_path",
            "must be relative to the storage root (no leading '/')",
        ));
    }
    // iconik strips the trailing slash (iconik-api.md §6.5).
    let dir = dir.trim_end_matches('/').to_string();
    let mut storage_id = body
        .get("storage_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut format_id = body.get("format_id").cloned().unwrap_or(Value::Null);
    if let Some(fs_id) = body.get("file_set_id").and_then(Value::as_str) {
        let fs = st
            .get_in_asset(Kind::FileSets, asset_id, fs_id)
            .ok_or_else(|| Reply::not_found("File set", fs_id))?;
        let fs_storage = fs["storage_id"].as_str().map(str::to_string);
        match (&storage_id, &fs_storage) {
            (Some(a), Some(b)) if a != b => {
                return Err(Reply::field_error(
                    StatusCode::BAD_REQUEST,
                    "storage_id",
                    format!("File storage {a} differs from its file set's storage {b}"),
                ));
            }
            (None, _) => storage_id = fs_storage,
            _ => {}
        }
        if format_id.is_null() {
            format_id = fs["format_id"].clone();
        } else if format_id != fs["format_id"] {
            return Err(Reply::field_error(
                StatusCode::BAD_REQUEST,
                "format_id",
                format!(
                    "File format {format_id} differs from its file set's format {}",
                    fs["format_id"]
                ),
            ));
        }
    }
    if let Some(fid) = format_id.as_str()
        && st.get_in_asset(Kind::Formats, asset_id, fid).is_none()
    {
        return Err(Reply::not_found("Format", fid));
    }
    let storage = match &storage_id {
        Some(sid) => Some(
            st.get(Kind::Storages, sid)
                .cloned()
                .ok_or_else(|| Reply::not_found("Storage", sid))?,
        ),
        None => None,
    };
    let id = new_id();
    let original_name = body["original_name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{id}_{original_name}"));
    let method = storage
        .as_ref()
        .map(|s| s["method"].clone())
        .unwrap_or(Value::Null);
    let mut upload_url = Value::Null;
    let mut multipart_upload_url = Value::Null;
    if let Some(s) = &storage
        && s["method"] != "FILE"
    {
        let url = crate::sandbox::gcs::mint(app, &mut st, s, &id, &name);
        upload_url = json!(url);
        // An S3 record also answers where a multipart upload starts (iconik-api.md §8.2):
        // CreateMultipartUpload (`POST …?uploads`) on the same object.
        if s["method"] == "S3"
            && let Some(key) = st.upload_targets.get(&id)
        {
            multipart_upload_url = json!(s3_url(app, key, "uploads"));
        }
    }
    let fs_status = body
        .get("file_set_id")
        .and_then(Value::as_str)
        .and_then(|fs| st.get(Kind::FileSets, fs))
        .map(|fs| fs["status"].clone())
        .unwrap_or(Value::Null);
    let format_status = format_id
        .as_str()
        .and_then(|f| st.get(Kind::Formats, f))
        .map(|f| f["status"].clone())
        .unwrap_or(Value::Null);
    let created = now();
    let file = json!({
        "id": id,
        "asset_id": asset_id,
        "file_set_id": body.get("file_set_id").cloned().unwrap_or(Value::Null),
        "format_id": format_id,
        "storage_id": storage_id,
        "storage_method": method,
        "version_id": body.get("version_id").cloned().unwrap_or(version_default),
        "name": name,
        "original_name": original_name,
        "directory_path": dir,
        "size": body.get("size").cloned().unwrap_or(json!(0)),
        "checksum": body.get("checksum").cloned().unwrap_or(Value::Null),
        "type": body["type"],
        "status": str_or(&body, "status", "OPEN"),
        "parent_id": body.get("parent_id").cloned().unwrap_or(Value::Null),
        "user_id": body.get("user_id").cloned().unwrap_or(Value::Null),
        // iconik stamps the registration time on a file created without its dates
        // (iconik-api.md §14), which then reads as "shot today" in the UI.
        "file_date_created": date_or(&body, "file_date_created", &created),
        "file_date_modified": date_or(&body, "file_date_modified", &created),
        "file_set_status": fs_status,
        "format_status": format_status,
        "upload_url": upload_url,
        "upload_method": Value::Null,
        "upload_credentials": {},
        "upload_filename": Value::Null,
        "multipart_upload_url": multipart_upload_url,
        "url": Value::Null,
        "system_domain_id": Value::Null,
        "date_created": created,
        "date_modified": created,
    });
    st.files.push(file.clone());
    Ok(Reply::created(file))
}

/// The body's date `key`, or `stamp` when it is absent or null.
fn date_or(body: &Value, key: &str, stamp: &str) -> Value {
    match body.get(key) {
        Some(v) if !v.is_null() => v.clone(),
        _ => Value::String(stamp.to_string()),
    }
}
