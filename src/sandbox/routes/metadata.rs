//! Metadata views and values (iconik-api.md §6.10; SPEC-M `/v1/views/…` and
//! `/v1/{object_type}/{object_id}/views/{view_id}/`): the seeded view, and PUT/GET of an
//! object's values (`MetadataValuesSchema`, modes overwrite/append/delete).

use super::{Ctx, Reply, RouteResult, not_routed, now, page};
use crate::sandbox::App;
use crate::sandbox::state::Kind;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

pub fn route(app: &App, ctx: &mut Ctx, rest: &[&str]) -> RouteResult {
    match (ctx.method.as_str(), rest) {
        ("GET", ["views"]) => {
            let st = app.state();
            page(ctx, st.metadata_views.clone())
        }
        ("GET", ["views", id]) => {
            let st = app.state();
            st.get(Kind::Views, id)
                .map(|v| Reply::ok(v.clone()))
                .ok_or_else(|| Reply::not_found("View", id))
        }
        ("PUT", [object_type, object_id, "views", view_id]) => {
            put(app, ctx, object_type, object_id, view_id)
        }
        ("GET", [object_type, object_id, "views", view_id]) => {
            let st = app.state();
            if st.get(Kind::Views, view_id).is_none() {
                return Err(Reply::not_found("View", view_id));
            }
            let values = st
                .metadata_values
                .iter()
                .find(|v| v["object_type"] == *object_type && v["object_id"] == *object_id && v["view_id"] == *view_id)
                .cloned()
                .unwrap_or_else(|| json!({"object_type": object_type, "object_id": object_id, "view_id": view_id, "metadata_values": {}}));
            Ok(Reply::ok(values))
        }
        _ => Err(not_routed(ctx)),
    }
}

/// SPEC-M PUT /v1/{object_type}/{object_id}/views/{view_id}/ → 200.
fn put(app: &App, ctx: &mut Ctx, object_type: &str, object_id: &str, view_id: &str) -> RouteResult {
    let template = "/API/metadata/v1/{object_type}/{object_id}/views/{view_id}/";
    let body = ctx.body(app, template, "MetadataValuesSchema")?;
    let mut st = app.state();
    let view = st
        .get(Kind::Views, view_id)
        .cloned()
        .ok_or_else(|| Reply::not_found("View", view_id))?;
    let exists = match object_type {
        "assets" => st.get(Kind::Assets, object_id).is_some(),
        "collections" => st.get(Kind::Collections, object_id).is_some(),
        _ => false,
    };
    if !exists {
        return Err(Reply::not_found("Object", object_id));
    }
    let fields: Vec<&str> = view["view_fields"]
        .as_array()
        .map(|f| f.iter().filter_map(|f| f["name"].as_str()).collect())
        .unwrap_or_default();
    let incoming = body["metadata_values"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for name in incoming.keys() {
        if !fields.contains(&name.as_str()) {
            return Err(Reply::field_error(
                StatusCode::BAD_REQUEST,
                &format!("metadata_values/{name}"),
                format!(
                    "Field {name:?} is not in view {view_id} (fields: {})",
                    fields.join(", ")
                ),
            ));
        }
    }
    let index = st.metadata_values.iter().position(|v| {
        v["object_type"] == object_type && v["object_id"] == object_id && v["view_id"] == view_id
    });
    let mut current: Map<String, Value> = index
        .and_then(|i| {
            st.metadata_values[i]["metadata_values"]
                .as_object()
                .cloned()
        })
        .unwrap_or_default();
    for (name, value) in incoming {
        let mode = value["mode"].as_str().unwrap_or("overwrite");
        let new_values = value["field_values"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        match mode {
            "append" => {
                let entry = current
                    .entry(name)
                    .or_insert_with(|| json!({"field_values": []}));
                if let Some(list) = entry["field_values"].as_array_mut() {
                    list.extend(new_values);
                }
            }
            "delete" => {
                current.remove(&name);
            }
            _ => {
                current.insert(name, json!({ "field_values": new_values }));
            }
        }
    }
    let record = json!({
        "object_type": object_type,
        "object_id": object_id,
        "view_id": view_id,
        "version_id": body.get("version_id").cloned().unwrap_or(Value::Null),
        "metadata_values": current,
        "date_created": now(),
        "date_modified": now(),
    });
    match index {
        Some(i) => st.metadata_values[i] = record.clone(),
        None => st.metadata_values.push(record.clone()),
    }
    Ok(Reply::ok(record))
}
