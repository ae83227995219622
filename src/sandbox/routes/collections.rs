//! Collections (iconik-api.md §6.9; SPEC-A `/v1/collections/…`): create
//! (`CollectionInputSchema`), get, add content (`CollectionContentSchema`
//! `{"object_id","object_type":"assets"}`), list and remove contents.

use super::{Ctx, Reply, RouteResult, new_id, not_routed, now, page};
use crate::sandbox::App;
use crate::sandbox::state::Kind;
use axum::http::StatusCode;
use serde_json::{Value, json};

pub fn route(app: &App, ctx: &mut Ctx, rest: &[&str]) -> RouteResult {
    match (ctx.method.as_str(), rest) {
        ("POST", []) => {
            let body = ctx.body(app, "/API/assets/v1/collections/", "CollectionInputSchema")?;
            let mut st = app.state();
            if let Some(parent) = body.get("parent_id").and_then(Value::as_str)
                && st.get(Kind::Collections, parent).is_none()
            {
                return Err(Reply::not_found("Collection", parent));
            }
            let c = json!({
                "id": new_id(),
                "title": body["title"],
                "parent_id": body.get("parent_id").cloned().unwrap_or(Value::Null),
                "external_id": body.get("external_id").cloned().unwrap_or(Value::Null),
                "status": "ACTIVE",
                "is_root": body.get("parent_id").is_none_or(Value::is_null),
                "date_created": now(),
                "date_modified": now(),
            });
            st.collections.push(c.clone());
            Ok(Reply::created(c))
        }
        ("GET", []) => {
            let st = app.state();
            page(ctx, st.collections.clone())
        }
        ("GET", [id]) => {
            let st = app.state();
            st.get(Kind::Collections, id)
                .map(|c| Reply::ok(c.clone()))
                .ok_or_else(|| Reply::not_found("Collection", id))
        }
        // SPEC-A POST /v1/collections/{collection_id}/contents/ → 201.
        ("POST", [id, "contents"]) => {
            let template = "/API/assets/v1/collections/{collection_id}/contents/";
            let body = ctx.body(app, template, "CollectionContentSchema")?;
            let mut st = app.state();
            if st.get(Kind::Collections, id).is_none() {
                return Err(Reply::not_found("Collection", id));
            }
            let object_id = body["object_id"].as_str().unwrap_or_default().to_string();
            let object_type = body["object_type"].as_str().unwrap_or_default().to_string();
            let exists = match object_type.as_str() {
                "assets" => st.get(Kind::Assets, &object_id).is_some(),
                "collections" => st.get(Kind::Collections, &object_id).is_some(),
                _ => {
                    return Err(Reply::field_error(
                        StatusCode::BAD_REQUEST,
                        "object_type",
                        format!("{object_type:?} is not one of 'assets', 'collections'"),
                    ));
                }
            };
            if !exists {
                return Err(Reply::not_found("Object", &object_id));
            }
            let entry = json!({
                "collection_id": id,
                "object_id": object_id,
                "object_type": object_type,
                "date_created": now(),
            });
            if !st
                .collection_contents
                .iter()
                .any(|c| c["collection_id"] == *id && c["object_id"] == object_id.as_str())
            {
                st.collection_contents.push(entry.clone());
            }
            if object_type == "assets"
                && let Some(asset) = st.get_mut(Kind::Assets, &object_id)
                && let Some(list) = asset["in_collections"].as_array_mut()
                && !list.contains(&json!(id))
            {
                list.push(json!(id));
            }
            Ok(Reply::created(entry))
        }
        // SPEC-A GET /v1/collections/{collection_id}/contents/ (filters object_types, external_id).
        ("GET", [id, "contents"]) => {
            let st = app.state();
            if st.get(Kind::Collections, id).is_none() {
                return Err(Reply::not_found("Collection", id));
            }
            let items: Vec<Value> = st
                .collection_contents
                .iter()
                .filter(|c| c["collection_id"] == *id)
                .filter(|c| {
                    ctx.q("object_types")
                        .is_none_or(|t| t.split(',').any(|t| c["object_type"] == t))
                })
                .filter_map(|c| {
                    let oid = c["object_id"].as_str().unwrap_or_default();
                    let mut obj = match c["object_type"].as_str() {
                        Some("assets") => st.get(Kind::Assets, oid)?.clone(),
                        _ => st.get(Kind::Collections, oid)?.clone(),
                    };
                    obj["object_type"] = c["object_type"].clone();
                    Some(obj)
                })
                .filter(|o| ctx.q("external_id").is_none_or(|e| o["external_id"] == e))
                .collect();
            page(ctx, items)
        }
        ("DELETE", [id, "contents", object_type, object_id]) => {
            let mut st = app.state();
            let before = st.collection_contents.len();
            st.collection_contents.retain(|c| {
                !(c["collection_id"] == *id
                    && c["object_type"] == *object_type
                    && c["object_id"] == *object_id)
            });
            if st.collection_contents.len() == before {
                return Err(Reply::not_found("Collection content", object_id));
            }
            if let Some(list) = st
                .get_mut(Kind::Assets, object_id)
                .and_then(|a| a["in_collections"].as_array_mut())
            {
                list.retain(|c| c != id);
            }
            Ok(Reply::no_content())
        }
        _ => Err(not_routed(ctx)),
    }
}
