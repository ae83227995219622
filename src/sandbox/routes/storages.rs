//! Storages (iconik-api.md §6.1; SPEC-F `/v1/storages/…`): list, get, `matching/{purpose}/`,
//! `matching/{purpose}/method/{method}/`, `{purpose}/default/`, and the storage-file lookup
//! `storages/{storage_id}/files/` used for duplicate checks (§9).

use super::{Ctx, Reply, RouteResult, not_routed, page};
use crate::sandbox::App;
use crate::sandbox::state::Kind;
use axum::http::StatusCode;
use serde_json::Value;

const PURPOSES: &[&str] = &[
    "KEYFRAMES",
    "FILES",
    "PROXIES",
    "EXPORTS",
    "ARCHIVE",
    "FACES",
];

pub fn route(app: &App, ctx: &mut Ctx, rest: &[&str]) -> RouteResult {
    if ctx.method != "GET" {
        return Err(not_routed(ctx));
    }
    let st = app.state();
    match rest {
        // SPEC-F GET /v1/storages/ (filters name, method, status, purpose).
        [] => {
            let items: Vec<Value> = st
                .storages
                .iter()
                .filter(|s| {
                    ["name", "method", "status", "purpose", "id"]
                        .iter()
                        .all(|k| ctx.q(k).is_none_or(|want| s[*k] == want))
                })
                .cloned()
                .collect();
            page(ctx, items)
        }
        // SPEC-F GET /v1/storages/matching/{purpose}/ and …/method/{method}/.
        ["matching", purpose] => matching(&st.storages, purpose, None, ctx.q("storage_id")),
        ["matching", purpose, "method", method] => {
            matching(&st.storages, purpose, Some(method), ctx.q("storage_id"))
        }
        // SPEC-F GET /v1/storages/{purpose}/default/.
        [purpose, "default"] if PURPOSES.contains(purpose) => st
            .storages
            .iter()
            .find(|s| s["purpose"] == *purpose && s["default"] == true)
            .map(|s| Reply::ok(s.clone()))
            .ok_or_else(|| Reply::not_found("Default storage for purpose", purpose)),
        // SPEC-F GET /v1/storages/{storage_id}/.
        [storage_id] => st
            .get(Kind::Storages, storage_id)
            .map(|s| Reply::ok(s.clone()))
            .ok_or_else(|| Reply::not_found("Storage", storage_id)),
        // SPEC-F GET /v1/storages/{storage_id}/files/ (iconik-api.md §9 duplicate lookup).
        [storage_id, "files"] => {
            if st.get(Kind::Storages, storage_id).is_none() {
                return Err(Reply::not_found("Storage", storage_id));
            }
            let dir = ctx
                .q("directory_path")
                .map(|d| d.trim_matches('/').to_string());
            let items: Vec<Value> = st
                .files
                .iter()
                .filter(|f| f["storage_id"] == *storage_id)
                .filter(|f| {
                    dir.as_ref()
                        .is_none_or(|d| f["directory_path"] == d.as_str())
                })
                .filter(|f| {
                    ["name", "checksum", "status", "type", "original_name"]
                        .iter()
                        .all(|k| ctx.q(k).is_none_or(|want| f[*k] == want))
                })
                .cloned()
                .collect();
            page(ctx, items)
        }
        _ => Err(not_routed(ctx)),
    }
}

fn matching(
    storages: &[Value],
    purpose: &str,
    method: Option<&str>,
    id: Option<&str>,
) -> RouteResult {
    let mut candidates: Vec<&Value> = storages
        .iter()
        .filter(|s| s["purpose"] == purpose && s["status"] == "ACTIVE")
        .filter(|s| method.is_none_or(|m| s["method"] == m))
        .filter(|s| id.is_none_or(|i| s["id"] == i))
        .collect();
    // The default storage of the purpose wins (TUT-GFS reads the proxy storage from here).
    candidates.sort_by_key(|s| s["default"] != true);
    candidates
        .first()
        .map(|s| Reply::ok((*s).clone()))
        .ok_or_else(|| {
            Reply::error(
                StatusCode::NOT_FOUND,
                format!("No matching storage for purpose {purpose}"),
            )
        })
}
