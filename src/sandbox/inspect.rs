//! `/sandbox/*`: inspection and control for tests and the app's demo mode (no credentials).
//!
//! - `GET /sandbox/state` — everything stored (see `State::inspect`)
//! - `GET /sandbox/requests` — every request received (secrets redacted), `DELETE` clears
//! - `GET /sandbox/faults` — rules with remaining counts; `POST` replaces them
//! - `GET /sandbox/objects/<bucket>/<object>` — uploaded bytes (with `Range`, so a browser's
//!   `<video>` can seek; `video/mp4` for `.mp4` objects)
//! - `GET /sandbox/assets/<id>` — one asset with its formats, file sets, files, proxies and
//!   keyframes: JSON, or the web view's asset page for a browser (`Accept: text/html`); the
//!   window's "Open in sandbox" link
//! - `GET /sandbox/` — the web view's index of assets (`web`)
//! - `GET /sandbox/keyframes/<id>.jpg` — a keyframe's picture (its upload, or rendered by
//!   `images` from the proxy)
//! - `GET /sandbox/files/<id>/content` — an original file's bytes from the storage mount (what
//!   a file's `download_url` points at)
//! - `POST /sandbox/reset` — forget all objects, uploads, requests and faults (keeps storages
//!   and the metadata view)

use super::App;
use super::faults::FaultSet;
use super::routes::{Reply, into_response};
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub async fn handle(
    app: &App,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let rest = path.trim_start_matches("/sandbox").trim_matches('/');
    let wants_html = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    match (method, rest) {
        ("GET", "") => html(
            StatusCode::OK,
            super::web::index_page(&app.state().inspect()),
        ),
        ("GET", other) if other.starts_with("assets/") && wants_html => {
            let id = other.trim_start_matches("assets/");
            match super::web::asset_page(&app.state().inspect(), id) {
                Some(page) => html(StatusCode::OK, page),
                None => html(
                    StatusCode::NOT_FOUND,
                    format!(
                        "<!DOCTYPE html><p>The sandbox has no asset {}. <a href=\"/sandbox/\">All assets</a></p>",
                        super::web::esc(id)
                    ),
                ),
            }
        }
        ("GET", other) if other.starts_with("keyframes/") => {
            let id = other
                .trim_start_matches("keyframes/")
                .trim_end_matches(".jpg");
            keyframe_picture(app, id).await
        }
        ("GET", other) if other.starts_with("files/") && other.ends_with("/content") => {
            let id = other
                .trim_start_matches("files/")
                .trim_end_matches("/content");
            original_file(app, id, headers).await
        }
        ("GET", "state") => into_response(Reply::ok(app.state().inspect())),
        ("GET", "requests") => into_response(Reply::ok(Value::Array(app.requests().clone()))),
        ("DELETE", "requests") => {
            app.requests().clear();
            into_response(Reply::no_content())
        }
        ("GET", "faults") => into_response(Reply::ok(app.faults().describe())),
        ("POST" | "PUT", "faults") => {
            let bytes = match axum::body::to_bytes(body, 1024 * 1024).await {
                Ok(b) => b,
                Err(e) => {
                    return into_response(Reply::bad_request(format!("Cannot read body: {e}")));
                }
            };
            let set: FaultSet = match serde_json::from_slice(&bytes) {
                Ok(s) => s,
                Err(e) => {
                    return into_response(Reply::bad_request(format!("Invalid fault rules: {e}")));
                }
            };
            let result = app.faults().set(set);
            match result {
                Ok(()) => into_response(Reply::ok(app.faults().describe())),
                Err(e) => into_response(Reply::bad_request(e.to_string())),
            }
        }
        ("POST", "isg/scan") => {
            let outcomes = super::isg::scan(&mut app.state());
            app.persist();
            into_response(Reply::ok(
                json!({ "found": outcomes.len(), "outcomes": outcomes }),
            ))
        }
        ("GET", "isg/scans") => {
            into_response(Reply::ok(Value::Array(app.state().isg_scans.clone())))
        }
        ("POST", "reset") => {
            app.reset();
            into_response(Reply::ok(json!({"reset": true})))
        }
        ("GET", other) if other.starts_with("assets/") => {
            let id = other.trim_start_matches("assets/");
            match asset_view(&app.state().inspect(), id) {
                Some(v) => into_response(Reply::ok(v)),
                None => into_response(Reply::error(
                    StatusCode::NOT_FOUND,
                    format!("The sandbox has no asset {id}"),
                )),
            }
        }
        ("GET", other) if other.starts_with("objects/") => {
            let key = percent_decode(other.trim_start_matches("objects/"));
            let bytes = app.state().object_bytes(&key).map(<[u8]>::to_vec);
            match bytes {
                Some(bytes) => ranged(bytes, content_type(&key), headers),
                None => into_response(Reply::not_found("Object", &key)),
            }
        }
        _ => into_response(Reply::error(
            StatusCode::NOT_FOUND,
            format!("Unknown sandbox route {method} {path}"),
        )),
    }
}

/// The asset `id` and every object that belongs to it, from the inspected state.
fn asset_view(state: &Value, id: &str) -> Option<Value> {
    let asset = state["assets"]
        .as_array()?
        .iter()
        .find(|a| a["id"] == id)?
        .clone();
    let mut view = json!({ "asset": asset });
    for kind in ["formats", "file_sets", "files", "proxies", "keyframes"] {
        let of_asset: Vec<Value> = state[kind]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter(|o| o["asset_id"] == id)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        view[kind] = Value::Array(of_asset);
    }
    Some(view)
}

fn html(status: StatusCode, page: String) -> Response {
    (status, [("content-type", "text/html; charset=utf-8")], page).into_response()
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("k={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_owned())
}

fn content_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".mp4") || lower.ends_with(".mov") {
        "video/mp4"
    } else if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
        "image/jpeg"
    } else if lower.ends_with(".png") {
        "image/png"
    } else {
        "application/octet-stream"
    }
}

/// The bytes, or the one range a `Range: bytes=a-b` header asks for (206): browsers fetch a
/// video's `moov` and seek with ranges. Several ranges, or one that does not parse, get the whole
/// body; a range past the end gets 416, as from any web server.
fn ranged(bytes: Vec<u8>, content_type: &'static str, headers: &HeaderMap) -> Response {
    let len = bytes.len() as u64;
    let range = headers
        .get("range")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_byte_range(v, len));
    match range {
        Some(Ok((start, end))) => (
            StatusCode::PARTIAL_CONTENT,
            [
                ("content-type", content_type.to_owned()),
                ("accept-ranges", "bytes".to_owned()),
                ("content-range", format!("bytes {start}-{end}/{len}")),
            ],
            bytes[start as usize..=end as usize].to_vec(),
        )
            .into_response(),
        Some(Err(())) => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            [("content-range", format!("bytes */{len}"))],
        )
            .into_response(),
        None => (
            StatusCode::OK,
            [
                ("content-type", content_type.to_owned()),
                ("accept-ranges", "bytes".to_owned()),
            ],
            bytes,
        )
            .into_response(),
    }
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` of a body of `len` bytes → inclusive (start, end);
/// `Err` when unsatisfiable, `None` when not a single byte range.
fn parse_byte_range(v: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = v.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            if n == 0 {
                return Some(Err(()));
            }
            (len.saturating_sub(n), len.checked_sub(1)?)
        }
        (a, "") => (a.parse().ok()?, len.saturating_sub(1)),
        (a, b) => (
            a.parse().ok()?,
            b.parse::<u64>().ok()?.min(len.saturating_sub(1)),
        ),
    };
    if len == 0 || start >= len || start > end {
        return Some(Err(()));
    }
    Some(Ok((start, end)))
}

/// A keyframe's JPEG: its own upload when it has one, else rendered (once) from its proxy.
async fn keyframe_picture(app: &App, id: &str) -> Response {
    if let Some(img) = app.images().get(id).cloned() {
        return jpeg(img.to_vec());
    }
    let (kind, source) = {
        let st = app.state();
        let Some(kf) = st.keyframes.iter().find(|k| k["id"] == id).cloned() else {
            return into_response(Reply::not_found("Keyframe", id));
        };
        if let Some(bytes) = st.upload_targets.get(id).and_then(|k| st.object_bytes(k)) {
            return jpeg(bytes.to_vec());
        }
        let proxy_bytes = kf["proxy_id"]
            .as_str()
            .and_then(|p| st.upload_targets.get(p))
            .and_then(|k| st.object_bytes(k))
            .map(<[u8]>::to_vec);
        let source = match proxy_bytes {
            Some(b) => Some(super::images::Source::Bytes(b)),
            None => st
                .files
                .iter()
                .filter(|f| f["asset_id"] == kf["asset_id"])
                .find_map(|f| original_path(app, &st, f))
                .map(super::images::Source::File),
        };
        (kf["type"].as_str().unwrap_or("POSTER").to_owned(), source)
    };
    let Some(source) = source else {
        return into_response(Reply::error(
            StatusCode::NOT_FOUND,
            super::images::ImageError::NoSource(id.to_owned()).to_string(),
        ));
    };
    let Some(ffmpeg) = app.ffmpeg().map(std::path::Path::to_path_buf) else {
        return into_response(Reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            super::images::ImageError::NoFfmpeg.to_string(),
        ));
    };
    let rendered =
        tokio::task::spawn_blocking(move || super::images::render(&ffmpeg, &source, &kind)).await;
    match rendered {
        Ok(Ok(img)) => {
            let img = std::sync::Arc::new(img);
            app.images().insert(id.to_owned(), img.clone());
            jpeg(img.to_vec())
        }
        Ok(Err(e)) => into_response(Reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            e.to_string(),
        )),
        Err(e) => into_response(Reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            e.to_string(),
        )),
    }
}

fn jpeg(bytes: Vec<u8>) -> Response {
    (StatusCode::OK, [("content-type", "image/jpeg")], bytes).into_response()
}

/// Where a file record's bytes are on this machine: its FILES storage's mount point joined with
/// `directory_path` and `name` (None when not a local FILES storage or not there).
pub fn original_path(
    _app: &App,
    st: &super::state::State,
    file: &Value,
) -> Option<std::path::PathBuf> {
    let storage = st.storages.iter().find(|s| s["id"] == file["storage_id"])?;
    let mount = storage["settings"]["mount_point"].as_str()?;
    let mut path = std::path::PathBuf::from(mount);
    for part in file["directory_path"]
        .as_str()
        .unwrap_or_default()
        .split('/')
        .filter(|p| !p.is_empty())
    {
        path.push(part);
    }
    path.push(file["name"].as_str()?);
    path.is_file().then_some(path)
}

/// An original file's bytes from the storage mount (the target of a file's `download_url`).
async fn original_file(app: &App, id: &str, headers: &HeaderMap) -> Response {
    let path = {
        let st = app.state();
        let Some(file) = st.files.iter().find(|f| f["id"] == id) else {
            return into_response(Reply::not_found("File", id));
        };
        match original_path(app, &st, file) {
            Some(p) => p,
            None => {
                return into_response(Reply::error(
                    StatusCode::NOT_FOUND,
                    format!(
                        "File {id} ({}/{}) is not on the sandbox's storage mount",
                        file["directory_path"].as_str().unwrap_or_default(),
                        file["name"].as_str().unwrap_or_default()
                    ),
                ));
            }
        }
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => ranged(bytes, content_type(&path.to_string_lossy()), headers),
        Err(e) => into_response(Reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{}: {e}", path.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_byte_range;

    #[test]
    fn byte_ranges() {
        assert_eq!(parse_byte_range("bytes=0-99", 1000), Some(Ok((0, 99))));
        assert_eq!(parse_byte_range("bytes=900-", 1000), Some(Ok((900, 999))));
        assert_eq!(parse_byte_range("bytes=-100", 1000), Some(Ok((900, 999))));
        assert_eq!(
            parse_byte_range("bytes=990-2000", 1000),
            Some(Ok((990, 999)))
        );
        assert_eq!(parse_byte_range("bytes=1000-", 1000), Some(Err(())));
        assert_eq!(parse_byte_range("bytes=5-2", 1000), Some(Err(())));
        assert_eq!(parse_byte_range("bytes=0-1,5-9", 1000), None);
        assert_eq!(parse_byte_range("items=0-1", 1000), None);
    }
}
