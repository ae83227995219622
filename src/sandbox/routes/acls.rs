//! `/API/acls/v1/…`: the two calls a storage gateway (and card-ingest) uses to give a new asset
//! its storage's permissions — apply an ACL template, or put one group's permissions — plus
//! their read-backs. iconik's acls OpenAPI is not in the embedded copy, so bodies are checked
//! here (`permissions` ⊆ iconik's four).

use super::{Ctx, Reply, RouteResult, now};
use crate::sandbox::App;
use crate::sandbox::state::{Kind, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

/// iconik's permission names.
const PERMISSIONS: &[&str] = &["read", "write", "delete", "change-acl"];

pub fn route(app: &App, ctx: &mut Ctx, rest: &[&str]) -> RouteResult {
    match (ctx.method.as_str(), rest) {
        ("GET", ["acl", "templates"]) => {
            let all = app.state().acl_templates.clone();
            super::page(ctx, all)
        }
        ("GET", ["acl", "templates", id]) => {
            let st = app.state();
            template(&st, id).cloned().map(Reply::ok)
        }
        ("POST", ["acl", "templates", id, object_type, object_key]) => {
            apply_template(app, id, object_type, object_key)
        }
        ("GET", ["groups", group, "acl", object_type, object_key]) => {
            let st = app.state();
            st.acls
                .iter()
                .find(|a| {
                    a["group_id"] == *group
                        && a["object_type"] == *object_type
                        && a["object_key"] == *object_key
                })
                .cloned()
                .map(Reply::ok)
                .ok_or_else(|| Reply::error(StatusCode::NOT_FOUND, "ACL does not exist"))
        }
        ("PUT", ["groups", group, "acl", object_type, object_key]) => {
            put_group(app, ctx, group, object_type, object_key)
        }
        _ => Err(super::not_routed(ctx)),
    }
}

fn template<'a>(st: &'a State, id: &str) -> Result<&'a Value, Reply> {
    st.acl_templates
        .iter()
        .find(|t| t["id"] == id)
        .ok_or_else(|| Reply::not_found("ACL template", id))
}

/// The object an ACL is about must exist (only assets and collections are modelled).
fn require_object(st: &State, object_type: &str, key: &str) -> Result<(), Reply> {
    let (kind, what) = match object_type {
        "assets" => (Kind::Assets, "Asset"),
        "collections" => (Kind::Collections, "Collection"),
        other => {
            return Err(Reply::bad_request(format!(
                "object_type {other:?} is not one the sandbox models (assets, collections)"
            )));
        }
    };
    match st.get(kind, key) {
        Some(_) => Ok(()),
        None => Err(Reply::not_found(what, key)),
    }
}

/// Sets (replaces) `group`'s permissions on the object.
fn upsert(st: &mut State, object_type: &str, key: &str, group: &str, perms: Value, via: &str) {
    let entry = json!({
        "group_id": group,
        "object_type": object_type,
        "object_key": key,
        "permissions": perms,
        "via": via,
        "date_created": now(),
        "date_modified": now(),
    });
    match st.acls.iter_mut().find(|a| {
        a["group_id"] == group && a["object_type"] == object_type && a["object_key"] == key
    }) {
        Some(a) => *a = entry,
        None => st.acls.push(entry),
    }
}

/// `POST acl/templates/{template_id}/{object_type}/{object_key}/` → 204: every group of the
/// template gets its permissions on the object.
fn apply_template(app: &App, id: &str, object_type: &str, key: &str) -> RouteResult {
    let mut st = app.state();
    let groups = template(&st, id)?["groups_acl"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    require_object(&st, object_type, key)?;
    for g in groups {
        let group = g["group_id"].as_str().unwrap_or_default().to_owned();
        upsert(
            &mut st,
            object_type,
            key,
            &group,
            g["permissions"].clone(),
            &format!("template {id}"),
        );
    }
    Ok(Reply::no_content())
}

/// `PUT groups/{group_id}/acl/{object_type}/{object_key}/` `{permissions: [...]}` → 200.
fn put_group(app: &App, ctx: &Ctx, group: &str, object_type: &str, key: &str) -> RouteResult {
    let body = ctx.body.clone().unwrap_or_else(|| json!({}));
    let perms = body
        .get("permissions")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Reply::field_error(
                StatusCode::BAD_REQUEST,
                "permissions",
                "Missing data for required field.",
            )
        })?;
    if let Some(bad) = perms
        .iter()
        .find(|p| !p.as_str().is_some_and(|p| PERMISSIONS.contains(&p)))
    {
        return Err(Reply::field_error(
            StatusCode::BAD_REQUEST,
            "permissions",
            format!("{bad} is not one of {}", PERMISSIONS.join(", ")),
        ));
    }
    let mut st = app.state();
    if !st.groups.iter().any(|g| g["id"] == group) {
        return Err(Reply::not_found("Group", group));
    }
    require_object(&st, object_type, key)?;
    upsert(
        &mut st,
        object_type,
        key,
        group,
        Value::Array(perms.clone()),
        "group",
    );
    let entry = st
        .acls
        .iter()
        .find(|a| a["group_id"] == group && a["object_key"] == key)
        .cloned()
        .unwrap_or_default();
    Ok(Reply::ok(entry))
}
