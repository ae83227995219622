//! `/sandbox/*`: inspection and control for tests and the app's demo mode (no credentials).
//!
//! - `GET /sandbox/state` — everything stored (see `State::inspect`)
//! - `GET /sandbox/requests` — every request received (secrets redacted), `DELETE` clears
//! - `GET /sandbox/faults` — rules with remaining counts; `POST` replaces them
//! - `GET /sandbox/objects/<bucket>/<object>` — uploaded bytes
//! - `GET /sandbox/assets/<id>` — one asset with its formats, file sets, files, proxies and
//!   keyframes (the window's "asset link" when ingesting into the sandbox)
//! - `POST /sandbox/reset` — forget all objects, uploads, requests and faults (keeps storages
//!   and the metadata view)

use super::App;
use super::faults::FaultSet;
use super::routes::{Reply, into_response};
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub async fn handle(
    app: &App,
    method: &str,
    path: &str,
    _query: &[(String, String)],
    body: Body,
) -> Response {
    let rest = path.trim_start_matches("/sandbox").trim_matches('/');
    match (method, rest) {
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
            let key = other.trim_start_matches("objects/");
            match app.state().object_bytes(key) {
                Some(bytes) => (
                    StatusCode::OK,
                    [("content-type", "application/octet-stream")],
                    bytes.to_vec(),
                )
                    .into_response(),
                None => into_response(Reply::not_found("Object", key)),
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
