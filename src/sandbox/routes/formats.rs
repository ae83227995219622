//! Formats and components (iconik-api.md §6.3; SPEC-F `/v1/assets/{asset_id}/formats/…`):
//! create with server-made component ids, list, get by id **or name** (`formats/ORIGINAL/`),
//! patch/put, components, and the per-format file set lists.

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
            let items = super::of_asset(&st, Kind::Formats, asset_id)?
                .filter(|f| f["status"] != "DELETED")
                .cloned()
                .collect();
            page(ctx, items)
        }
        // SPEC-F GET /v1/assets/{asset_id}/formats/{format_id}/ — iconik also resolves a name
        // there (B2P `formats/ORIGINAL/`).
        ("GET", [key]) => {
            let st = app.state();
            Ok(Reply::ok(find(&st, asset_id, key)?.clone()))
        }
        ("PATCH" | "PUT", [format_id]) => {
            let body = ctx.body(
                app,
                "/API/files/v1/assets/{asset_id}/formats/{format_id}/",
                "FormatSchema",
            )?;
            check_metadata(&body)?;
            let mut st = app.state();
            let id = find(&st, asset_id, format_id)?["id"].clone();
            let id = id.as_str().unwrap_or_default().to_string();
            let format = st
                .get_mut(Kind::Formats, &id)
                .ok_or_else(|| Reply::not_found("Format", format_id))?;
            let mut body = body;
            if let Some(components) = body.get_mut("components").and_then(Value::as_array_mut) {
                components.iter_mut().for_each(with_component_id);
            }
            merge(format, &body, SERVER_OWNED);
            Ok(Reply::ok(format.clone()))
        }
        ("GET", [format_id, "components"]) => {
            let st = app.state();
            let format = find(&st, asset_id, format_id)?;
            let items = format["components"].as_array().cloned().unwrap_or_default();
            page(ctx, items)
        }
        // SPEC-F POST …/formats/{format_id}/components/ → 200 (not 201), iconik-api.md §6.3.
        ("POST", [format_id, "components"]) => {
            let body = ctx.body(
                app,
                "/API/files/v1/assets/{asset_id}/formats/{format_id}/components/",
                "ComponentSchema",
            )?;
            check_component(&body, "metadata")?;
            let mut st = app.state();
            let id = find(&st, asset_id, format_id)?["id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let mut component = body;
            with_component_id(&mut component);
            if let Some(format) = st.get_mut(Kind::Formats, &id) {
                if let Some(list) = format["components"].as_array_mut() {
                    list.push(component.clone());
                } else {
                    format["components"] = json!([component.clone()]);
                }
            }
            Ok(Reply::ok(component))
        }
        ("GET", [format_id, "file_sets"]) => file_sets_of(app, ctx, asset_id, format_id, None),
        ("GET", [format_id, "storages", storage_id, "file_sets"]) => {
            file_sets_of(app, ctx, asset_id, format_id, Some(storage_id))
        }
        _ => Err(not_routed(ctx)),
    }
}

/// A format of the asset by id, else by name (non-deleted), else 404.
pub fn find<'a>(st: &'a State, asset_id: &str, key: &str) -> Result<&'a Value, Reply> {
    super::asset(st, asset_id)?;
    st.formats
        .iter()
        .find(|f| f["asset_id"] == asset_id && f["id"] == key)
        .or_else(|| {
            st.formats
                .iter()
                .find(|f| f["asset_id"] == asset_id && f["name"] == key && f["status"] != "DELETED")
        })
        .ok_or_else(|| Reply::not_found("Format", key))
}

fn with_component_id(c: &mut Value) {
    if let Some(obj) = c.as_object_mut() {
        // Component ids are server-made (iconik-api.md §4); a client-sent id is read-only.
        if !obj.get("id").is_some_and(Value::is_string) {
            obj.insert("id".into(), json!(new_id()));
        }
        obj.entry("metadata").or_insert(json!({}));
    }
}

/// Technical metadata values must be strings (iconik-api.md §3, §12) — the schema says so too;
/// this catches it when the spec is not loaded.
fn check_metadata(body: &Value) -> Result<(), Reply> {
    if let Some(list) = body.get("metadata").and_then(Value::as_array) {
        for (i, map) in list.iter().enumerate() {
            check_string_map(map, &format!("metadata/{i}"))?;
        }
    }
    if let Some(components) = body.get("components").and_then(Value::as_array) {
        for (i, c) in components.iter().enumerate() {
            check_component(c, &format!("components/{i}/metadata"))?;
        }
    }
    Ok(())
}

fn check_component(c: &Value, field: &str) -> Result<(), Reply> {
    match c.get("metadata") {
        Some(map) => check_string_map(map, field),
        None => Ok(()),
    }
}

fn check_string_map(map: &Value, field: &str) -> Result<(), Reply> {
    let Some(obj) = map.as_object() else {
        return Err(Reply::field_error(
            StatusCode::BAD_REQUEST,
            field,
            "must be an object of strings",
        ));
    };
    for (k, v) in obj {
        if !v.is_string() {
            return Err(Reply::field_error(
                StatusCode::BAD_REQUEST,
                &format!("{field}/{k}"),
                format!("{v} is not of type 'string'"),
            ));
        }
    }
    Ok(())
}

/// SPEC-F POST /v1/assets/{asset_id}/formats/ → 201 (`FormatSchema`).
fn create(app: &App, ctx: &mut Ctx, asset_id: &str) -> RouteResult {
    let body = ctx.body(
        app,
        "/API/files/v1/assets/{asset_id}/formats/",
        "FormatSchema",
    )?;
    check_metadata(&body)?;
    let mut st = app.state();
    let asset = super::asset(&st, asset_id)?;
    let version_id = body
        .get("version_id")
        .cloned()
        .unwrap_or_else(|| asset["versions"][0]["id"].clone());
    let mut components = body
        .get("components")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    components.iter_mut().for_each(with_component_id);
    let created = now();
    let format = json!({
        "id": new_id(),
        "asset_id": asset_id,
        "name": body["name"],
        "status": str_or(&body, "status", "ACTIVE"),
        "version_id": version_id,
        "user_id": body.get("user_id").cloned().unwrap_or(Value::Null),
        "is_online": body.get("is_online").cloned().unwrap_or(json!(true)),
        "storage_methods": body.get("storage_methods").cloned().unwrap_or(json!([])),
        "metadata": body.get("metadata").cloned().unwrap_or(json!([])),
        "components": components,
        "archive_status": str_or(&body, "archive_status", "NOT_ARCHIVED"),
        "warnings": [],
        "date_created": created,
        "date_modified": created,
    });
    st.formats.push(format.clone());
    Ok(Reply::created(format))
}

fn file_sets_of(
    app: &App,
    ctx: &Ctx,
    asset_id: &str,
    format_id: &str,
    storage: Option<&str>,
) -> RouteResult {
    let st = app.state();
    let format_id = find(&st, asset_id, format_id)?["id"].clone();
    let items = st
        .file_sets
        .iter()
        .filter(|fs| fs["asset_id"] == asset_id && fs["format_id"] == format_id)
        .filter(|fs| storage.is_none_or(|s| fs["storage_id"] == s))
        .map(|fs| super::file_sets::with_count(&st, fs))
        .collect();
    page(ctx, items)
}
