//! Proxies (iconik-api.md §6.6; SPEC-F `/v1/assets/{asset_id}/proxies/…` and
//! `method/{storage_method}/proxies/`): create (`ProxySchema`) with an `upload_url` on the
//! sandbox's own GCS (or S3/Azure) endpoint, list, get, patch (`ProxyUpdateSchema`) — `CLOSED`
//! only once the upload is complete — and delete.

use super::{Ctx, Reply, RouteResult, new_id, not_routed, now, page, str_or};
use crate::sandbox::App;
use crate::sandbox::state::{Kind, State};
use serde_json::{Value, json};

pub fn route(
    app: &App,
    ctx: &mut Ctx,
    asset_id: &str,
    method: Option<&str>,
    rest: &[&str],
) -> RouteResult {
    match (ctx.method.as_str(), rest) {
        ("POST", []) => create(app, ctx, asset_id, method),
        ("GET", []) => {
            let st = app.state();
            let items = super::of_asset(&st, Kind::Proxies, asset_id)?
                .cloned()
                .collect();
            page(ctx, items)
        }
        ("GET", [id]) => {
            let st = app.state();
            Ok(Reply::ok(find(&st, asset_id, id)?.clone()))
        }
        ("GET", [id, "download_url"]) => download_url(app, asset_id, id),
        ("PATCH" | "PUT", [id]) => {
            let template = "/API/files/v1/assets/{asset_id}/proxies/{proxy_id}/";
            let body = ctx.body(app, template, "ProxyUpdateSchema")?;
            let mut st = app.state();
            find(&st, asset_id, id)?;
            let owned = ["upload_url", "storage_method", "upload_method", "url"];
            let base = app.base_url.clone();
            let key = st.upload_targets.get(*id).cloned();
            let proxy =
                super::patch_upload_target(&mut st, Kind::Proxies, "Proxy", id, &body, &owned)?;
            if proxy["status"] == "CLOSED"
                && let Some(key) = key
            {
                proxy["url"] = json!(format!("{base}/sandbox/objects/{key}"));
            }
            Ok(Reply::ok(proxy.clone()))
        }
        ("DELETE", [id]) => {
            let mut st = app.state();
            find(&st, asset_id, id)?;
            st.proxies.retain(|p| p["id"] != *id);
            Ok(Reply::no_content())
        }
        _ => Err(not_routed(ctx)),
    }
}

/// SPEC-F GET /v1/assets/{asset_id}/proxies/{proxy_id}/download_url/ → 200
/// (`ProxyDownloadURLSchema` `{url}`): where the uploaded bytes can be fetched back (iconik
/// answers a signed storage URL; the sandbox its own object URL). A proxy whose upload is not
/// complete has nothing to download: 404 saying so.
fn download_url(app: &App, asset_id: &str, id: &str) -> RouteResult {
    let st = app.state();
    let proxy = find(&st, asset_id, id)?;
    match st.upload_targets.get(id) {
        Some(key) if st.object_bytes(key).is_some() => Ok(Reply::ok(json!({
            "url": format!("{}/sandbox/objects/{key}", app.base_url)
        }))),
        _ => Err(Reply::error(
            axum::http::StatusCode::NOT_FOUND,
            format!(
                "Proxy {id} has no uploaded bytes to download (status {})",
                proxy["status"].as_str().unwrap_or("unknown")
            ),
        )),
    }
}

pub fn find<'a>(st: &'a State, asset_id: &str, id: &str) -> Result<&'a Value, Reply> {
    super::in_asset(st, Kind::Proxies, "Proxy", asset_id, id)
}

/// The proxy storage: the given id, else a PROXIES storage of `method`, else the default one.
pub fn proxy_storage(
    st: &State,
    storage_id: Option<&str>,
    method: Option<&str>,
) -> Result<Value, Reply> {
    if let Some(sid) = storage_id {
        return st
            .get(Kind::Storages, sid)
            .cloned()
            .ok_or_else(|| Reply::not_found("Storage", sid));
    }
    let mut candidates: Vec<&Value> = st
        .storages
        .iter()
        .filter(|s| s["purpose"] == "PROXIES")
        .filter(|s| method.is_none_or(|m| s["method"] == m))
        .collect();
    candidates.sort_by_key(|s| s["default"] != true);
    candidates
        .first()
        .map(|s| (*s).clone())
        .ok_or_else(|| Reply::not_found("Proxy storage with method", method.unwrap_or("any")))
}

/// SPEC-F POST /v1/assets/{asset_id}/proxies/ → 201 (`ProxySchema`).
fn create(app: &App, ctx: &mut Ctx, asset_id: &str, method: Option<&str>) -> RouteResult {
    let template = match method {
        Some(_) => "/API/files/v1/assets/{asset_id}/method/{storage_method}/proxies/",
        None => "/API/files/v1/assets/{asset_id}/proxies/",
    };
    let body = ctx.body(app, template, "ProxySchema")?;
    let mut st = app.state();
    let asset = super::asset(&st, asset_id)?;
    let version_default = asset["versions"][0]["id"].clone();
    let storage = proxy_storage(&st, body.get("storage_id").and_then(Value::as_str), method)?;
    let id = new_id();
    let filename = body
        .get("filename")
        .or_else(|| body.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("proxy.mp4")
        .to_string();
    let upload_url = crate::sandbox::gcs::mint(app, &mut st, &storage, &id, &filename);
    let get = |k: &str| body.get(k).cloned().unwrap_or(Value::Null);
    let created = now();
    let proxy = json!({
        "id": id,
        "asset_id": asset_id,
        "version_id": body.get("version_id").cloned().unwrap_or(version_default),
        "storage_id": storage["id"],
        "storage_method": storage["method"],
        "name": body.get("name").cloned().unwrap_or(json!(filename)),
        "filename": filename,
        "format": get("format"),
        "codec": get("codec"),
        "frame_rate": get("frame_rate"),
        "resolution": get("resolution"),
        "bit_rate": get("bit_rate"),
        "audio_bitrate": get("audio_bitrate"),
        "is_drop_frame": get("is_drop_frame"),
        "start_time_code": get("start_time_code"),
        "rotation": get("rotation"),
        "size": get("size"),
        "status": str_or(&body, "status", "OPEN"),
        "upload_url": upload_url,
        "upload_method": Value::Null,
        "upload_credentials": {},
        "multipart_upload_url": Value::Null,
        "url": Value::Null,
        "is_public": false,
        "date_created": created,
        "date_modified": created,
    });
    st.proxies.push(proxy.clone());
    Ok(Reply::created(proxy))
}
