//! Keyframes (iconik-api.md §6.7; SPEC-F `/v1/assets/{asset_id}/keyframes/…` and
//! `proxies/{proxy_id}/keyframes/`). A keyframe request on a CLOSED proxy answers 200
//! `{job_id}` and creates what iconik would: a KEYFRAME_MAP and a POSTER record. Custom keyframe
//! records (`KeyframeSchema`) get an upload URL like proxies.

use super::{Ctx, Reply, RouteResult, new_id, not_routed, now, page, str_or};
use crate::sandbox::App;
use crate::sandbox::state::Kind;
use serde_json::{Value, json};

pub fn route(app: &App, ctx: &mut Ctx, asset_id: &str, rest: &[&str]) -> RouteResult {
    match (ctx.method.as_str(), rest) {
        ("POST", []) => create(app, ctx, asset_id),
        ("GET", []) => {
            let st = app.state();
            let items = super::of_asset(&st, Kind::Keyframes, asset_id)?
                .cloned()
                .collect();
            page(ctx, items)
        }
        ("GET", [id]) => {
            let st = app.state();
            let kf = super::in_asset(&st, Kind::Keyframes, "Keyframe", asset_id, id)?;
            Ok(Reply::ok(kf.clone()))
        }
        ("PATCH" | "PUT", [id]) => {
            let template = "/API/files/v1/assets/{asset_id}/keyframes/{keyframe_id}/";
            let body = ctx.body(app, template, "KeyframeSchema")?;
            let mut st = app.state();
            super::in_asset(&st, Kind::Keyframes, "Keyframe", asset_id, id)?;
            let kf = super::patch_upload_target(
                &mut st,
                Kind::Keyframes,
                "Keyframe",
                id,
                &body,
                &["upload_url"],
            )?;
            Ok(Reply::ok(kf.clone()))
        }
        _ => Err(not_routed(ctx)),
    }
}

/// SPEC-F POST /v1/assets/{asset_id}/proxies/{proxy_id}/keyframes/ → 200 `{job_id}`
/// (`TranscodeRequestSchema`, send `{}`). The proxy must be CLOSED (iconik-api.md §10.3).
pub fn from_proxy(app: &App, ctx: &mut Ctx, asset_id: &str, proxy_id: &str) -> RouteResult {
    if ctx.method != "POST" {
        return Err(not_routed(ctx));
    }
    let template = "/API/files/v1/assets/{asset_id}/proxies/{proxy_id}/keyframes/";
    let body = ctx.body(app, template, "TranscodeRequestSchema")?;
    let mut st = app.state();
    let proxy = super::proxies::find(&st, asset_id, proxy_id)?.clone();
    if proxy["status"] != "CLOSED" {
        return Err(Reply::bad_request(format!(
            "Proxy {proxy_id} is {}: keyframes can be made only from a CLOSED proxy",
            proxy["status"]
        )));
    }
    let job = super::jobs::new_job(
        &mut st,
        "KEYFRAMES",
        "Generate keyframes",
        asset_id,
        ctx.job_status.as_deref(),
    );
    let job_id = job["id"].clone();
    let created = now();
    let mut poster_id = Value::Null;
    for (kind, name) in [
        ("KEYFRAME_MAP", "keyframe_map.jpg"),
        ("POSTER", "poster.jpg"),
    ] {
        let id = new_id();
        if kind == "POSTER" {
            poster_id = json!(id);
        }
        st.keyframes.push(json!({
            "id": id,
            "asset_id": asset_id,
            "version_id": proxy["version_id"],
            "storage_id": proxy["storage_id"],
            "type": kind,
            "name": name,
            "filename": name,
            "format": "jpg",
            "resolution": proxy["resolution"],
            "status": "CLOSED",
            "is_custom_keyframe": false,
            "proxy_id": proxy_id,
            "job_id": job_id,
            // iconik answers a signed link to the rendered picture; the sandbox renders it
            // from the proxy on first request (sandbox::images).
            "url": format!("{}/sandbox/keyframes/{id}.jpg", app.base_url),
            "date_created": created,
            "date_modified": created,
        }));
    }
    if body["set_as_custom_keyframe"] == true
        && let Some(asset) = st.get_mut(Kind::Assets, asset_id)
    {
        asset["custom_keyframe"] = poster_id;
    }
    Ok(Reply::ok(json!({ "job_id": job_id })))
}

/// SPEC-F POST `/v1/assets/{asset_id}/files/{file_id}/keyframes/` (`TranscodeRequestSchema`) →
/// 200 `{job_id}` (iconik-api.md §6.7): iconik's transcoder makes a proxy and keyframes from an
/// original of a single-file file set. The sandbox creates a TRANSCODE job; when the job is
/// read as finished ([`super::jobs`]) a CLOSED mp4 proxy record (no bytes) and keyframes appear.
pub fn from_file(app: &App, ctx: &mut Ctx, asset_id: &str, file_id: &str) -> RouteResult {
    if ctx.method != "POST" {
        return Err(not_routed(ctx));
    }
    let template = "/API/files/v1/assets/{asset_id}/files/{file_id}/keyframes/";
    ctx.body(app, template, "TranscodeRequestSchema")?;
    let mut st = app.state();
    let file = st
        .get_in_asset(Kind::Files, asset_id, file_id)
        .ok_or_else(|| Reply::not_found("File", file_id))?
        .clone();
    if file["status"] != "CLOSED" {
        return Err(Reply::bad_request(format!(
            "File {file_id} is {}: only a CLOSED original can be transcoded",
            file["status"]
        )));
    }
    let job = super::jobs::new_job(
        &mut st,
        "TRANSCODE",
        "Transcode proxy and keyframes",
        asset_id,
        ctx.job_status.as_deref(),
    );
    let job_id = job["id"].clone();
    if let Some(j) = st.get_mut(Kind::Jobs, job_id.as_str().unwrap_or_default()) {
        j["sandbox_transcode_file"] = json!(file_id);
    }
    Ok(Reply::ok(json!({ "job_id": job_id })))
}

/// What a finished transcode job leaves behind: a CLOSED proxy record and keyframes.
pub fn finish_transcode(st: &mut crate::sandbox::state::State, job: &Value, base_url: &str) {
    let (Some(asset_id), Some(file_id)) = (
        job["object_id"].as_str(),
        job["sandbox_transcode_file"].as_str(),
    ) else {
        return;
    };
    let Some(file) = st.get_in_asset(Kind::Files, asset_id, file_id).cloned() else {
        return;
    };
    let created = now();
    let proxy_id = new_id();
    let name = format!(
        "{}.mp4",
        file["original_name"]
            .as_str()
            .unwrap_or("proxy")
            .rsplit_once('.')
            .map_or("proxy", |(stem, _)| stem)
    );
    st.proxies.push(json!({
        "id": proxy_id, "asset_id": asset_id, "version_id": file["version_id"],
        "name": name, "filename": name, "format": "mp4", "codec": "h264", "status": "CLOSED",
        "storage_method": "GCS", "job_id": job["id"], "date_created": created, "date_modified": created,
    }));
    for (kind, kname) in [
        ("KEYFRAME_MAP", "keyframe_map.jpg"),
        ("POSTER", "poster.jpg"),
    ] {
        let id = new_id();
        st.keyframes.push(json!({
            "id": id, "asset_id": asset_id, "version_id": file["version_id"], "type": kind,
            "name": kname, "filename": kname, "format": "jpg", "status": "CLOSED",
            "is_custom_keyframe": false, "proxy_id": proxy_id, "job_id": job["id"],
            // Rendered from the original on the storage mount (this proxy has no bytes here).
            "url": format!("{base_url}/sandbox/keyframes/{id}.jpg"), "date_created": created, "date_modified": created,
        }));
    }
}

/// SPEC-F POST /v1/assets/{asset_id}/keyframes/ → 201 (`KeyframeSchema`): a custom keyframe
/// or poster record with an upload URL.
fn create(app: &App, ctx: &mut Ctx, asset_id: &str) -> RouteResult {
    let body = ctx.body(
        app,
        "/API/files/v1/assets/{asset_id}/keyframes/",
        "KeyframeSchema",
    )?;
    let mut st = app.state();
    let asset = super::asset(&st, asset_id)?;
    let version_default = asset["versions"][0]["id"].clone();
    let storage =
        super::proxies::proxy_storage(&st, body.get("storage_id").and_then(Value::as_str), None)?;
    let id = new_id();
    let filename = body
        .get("filename")
        .or_else(|| body.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("keyframe.jpg")
        .to_string();
    let upload_url = crate::sandbox::gcs::mint(app, &mut st, &storage, &id, &filename);
    let get = |k: &str| body.get(k).cloned().unwrap_or(Value::Null);
    let created = now();
    let kf = json!({
        "id": id,
        "asset_id": asset_id,
        "version_id": body.get("version_id").cloned().unwrap_or(version_default),
        "storage_id": storage["id"],
        "storage_method": storage["method"],
        "type": body["type"],
        "name": body.get("name").cloned().unwrap_or(json!(filename)),
        "filename": filename,
        "format": get("format"),
        "resolution": get("resolution"),
        "size": get("size"),
        "time_code": get("time_code"),
        "is_custom_keyframe": body.get("is_custom_keyframe").cloned().unwrap_or(json!(false)),
        "status": str_or(&body, "status", "OPEN"),
        "upload_url": upload_url,
        "upload_method": Value::Null,
        "upload_credentials": {},
        "url": Value::Null,
        "date_created": created,
        "date_modified": created,
    });
    st.keyframes.push(kf.clone());
    Ok(Reply::created(kf))
}
