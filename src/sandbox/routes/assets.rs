//! Assets (iconik-api.md §6.2; SPEC-A `/v1/assets/…`): create (`AssetCreateSchema`), list, get,
//! patch/put (`AssetSchema`), soft delete, and history entries (`AssetHistorySchema`).

use super::{Ctx, Reply, RouteResult, SERVER_OWNED, merge, new_id, not_routed, now, page, str_or};
use crate::sandbox::App;
use crate::sandbox::state::Kind;
use serde_json::{Value, json};

pub fn route(app: &App, ctx: &mut Ctx, rest: &[&str]) -> RouteResult {
    match (ctx.method.as_str(), rest) {
        ("POST", []) => create(app, ctx),
        ("GET", []) => {
            let st = app.state();
            let items = st
                .assets
                .iter()
                .filter(|a| a["status"] != "DELETED")
                .cloned()
                .collect();
            page(ctx, items)
        }
        ("GET", [id]) => Ok(Reply::ok(super::asset(&app.state(), id)?.clone())),
        ("POST", [id, "segments"]) => create_segment(app, ctx, id),
        ("POST", [id, "segments", "bulk"]) => create_segments_bulk(app, ctx, id),
        // SPEC-A GET /v1/assets/{asset_id}/segments/ (query `segment_type` filters).
        ("GET", [id, "segments"]) => {
            let st = app.state();
            super::asset(&st, id)?;
            let wanted = ctx.q("segment_type").map(str::to_owned);
            let items = st
                .segments
                .iter()
                .filter(|s| s["asset_id"] == *id)
                .filter(|s| wanted.as_deref().is_none_or(|t| s["segment_type"] == t))
                .cloned()
                .collect();
            page(ctx, items)
        }
        ("PATCH" | "PUT", [id]) => {
            let template = "/API/assets/v1/assets/{asset_id}/";
            let body = ctx.body(app, template, "AssetSchema")?;
            let mut st = app.state();
            let asset = st
                .get_mut(Kind::Assets, id)
                .ok_or_else(|| Reply::not_found("Asset", id))?;
            merge(
                asset,
                &body,
                &[SERVER_OWNED, &["versions", "created_by_user"]].concat(),
            );
            Ok(Reply::ok(asset.clone()))
        }
        // SPEC-A DELETE /v1/assets/{asset_id}/ → 204; soft delete (status DELETED).
        ("DELETE", [id]) => {
            let mut st = app.state();
            let asset = st
                .get_mut(Kind::Assets, id)
                .ok_or_else(|| Reply::not_found("Asset", id))?;
            asset["status"] = json!("DELETED");
            asset["date_deleted"] = json!(now());
            Ok(Reply::no_content())
        }
        ("POST", [id, "history"]) => {
            let body = ctx.body(
                app,
                "/API/assets/v1/assets/{asset_id}/history/",
                "AssetHistorySchema",
            )?;
            let mut st = app.state();
            super::asset(&st, id)?;
            let entry = json!({
                "id": new_id(),
                "asset_id": id,
                "operation_type": body["operation_type"],
                "operation_description": body.get("operation_description").cloned().unwrap_or(Value::Null),
                "job_id": body.get("job_id").cloned().unwrap_or(Value::Null),
                "version_id": body.get("version_id").cloned().unwrap_or(Value::Null),
                "user_id": Value::Null,
                "date_created": now(),
                "date_modified": now(),
            });
            st.history.push(entry.clone());
            Ok(Reply::created(entry))
        }
        ("GET", [id, "history"]) => {
            let st = app.state();
            super::asset(&st, id)?;
            let items = st
                .history
                .iter()
                .filter(|h| h["asset_id"] == *id)
                .cloned()
                .collect();
            page(ctx, items)
        }
        _ => Err(not_routed(ctx)),
    }
}

/// SPEC-A POST /v1/assets/{asset_id}/segments/ → 201 (`SegmentSchema`): a marker or comment
/// at its time on the asset; the server adds the id, the asset and the dates.
fn create_segment(app: &App, ctx: &mut Ctx, asset_id: &str) -> RouteResult {
    let body = ctx.body(
        app,
        "/API/assets/v1/assets/{asset_id}/segments/",
        "SegmentSchema",
    )?;
    let mut st = app.state();
    super::asset(&st, asset_id)?;
    let mut segment = body.clone();
    let created = now();
    segment["id"] = json!(new_id());
    segment["asset_id"] = json!(asset_id);
    segment["date_created"] = json!(created);
    segment["date_modified"] = json!(created);
    st.segments.push(segment.clone());
    Ok(Reply::created(segment))
}

/// SPEC-A POST /v1/assets/{asset_id}/segments/bulk/ → 201 (`BulkCreateSegmentsSchema`, 1..=500
/// objects): each object is kept as one segment of the asset. iconik answers "ID and status of
/// a job" without a schema; the sandbox stores the segments at once and answers a finished job's
/// id and status.
fn create_segments_bulk(app: &App, ctx: &mut Ctx, asset_id: &str) -> RouteResult {
    let body = ctx.body(
        app,
        "/API/assets/v1/assets/{asset_id}/segments/bulk/",
        "BulkCreateSegmentsSchema",
    )?;
    let mut st = app.state();
    super::asset(&st, asset_id)?;
    let created = now();
    for object in body["objects"].as_array().into_iter().flatten() {
        let mut segment = object.clone();
        // Server-owned fields of each item are not the client's to set (the validator strips
        // them only at the top level of the body).
        if let Some(obj) = segment.as_object_mut() {
            for key in ["id", "asset_id", "date_created", "date_modified"] {
                obj.remove(key);
            }
        }
        segment["id"] = json!(new_id());
        segment["asset_id"] = json!(asset_id);
        segment["date_created"] = json!(created);
        segment["date_modified"] = json!(created);
        st.segments.push(segment);
    }
    Ok(Reply::created(
        json!({"job_id": new_id(), "status": "FINISHED"}),
    ))
}

/// SPEC-A POST /v1/assets/ → 201 (`AssetCreateSchema`; query `assign_to_collection`).
fn create(app: &App, ctx: &mut Ctx) -> RouteResult {
    let body = ctx.body(app, "/API/assets/v1/assets/", "AssetCreateSchema")?;
    let mut st = app.state();
    let collection_id = body
        .get("collection_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(cid) = &collection_id
        && st.get(Kind::Collections, cid).is_none()
    {
        return Err(Reply::not_found("Collection", cid));
    }
    let id = new_id();
    let created = now();
    let version = json!({
        "id": new_id(),
        "status": "ACTIVE",
        "is_online": true,
        "date_created": created,
        "analyze_status": "N/A",
        "transcribe_status": "N/A",
        "face_recognition_status": "N/A",
        "archive_status": "NOT_ARCHIVED",
    });
    let mut asset = json!({
        "id": id,
        "title": body["title"],
        "type": str_or(&body, "type", "ASSET"),
        "status": str_or(&body, "status", "ACTIVE"),
        "is_online": body.get("is_online").cloned().unwrap_or(json!(true)),
        "external_id": body.get("external_id").cloned().unwrap_or(Value::Null),
        "external_link": body.get("external_link").cloned().unwrap_or(Value::Null),
        "category": body.get("category").cloned().unwrap_or(Value::Null),
        "site_name": body.get("site_name").cloned().unwrap_or(Value::Null),
        "archive_status": "NOT_ARCHIVED",
        "analyze_status": "N/A",
        "custom_keyframe": Value::Null,
        "custom_poster": Value::Null,
        "created_by_user": Value::Null,
        "date_created": created,
        "date_modified": created,
        "date_imported": created,
        "in_collections": [],
        "versions": [version],
        "warning": Value::Null,
    });
    let assign = ctx.q("assign_to_collection").is_none_or(|v| v != "false");
    if let (Some(cid), true) = (&collection_id, assign) {
        asset["in_collections"] = json!([cid]);
        st.collection_contents.push(json!({
            "collection_id": cid,
            "object_id": id,
            "object_type": "assets",
            "date_created": now(),
        }));
    }
    st.assets.push(asset.clone());
    Ok(Reply::created(asset))
}
