//! The request pipeline and the iconik route table.
//!
//! One fallback handler ([`dispatch`]) does what iconik's front end does, in this order: fault
//! rules and latency, rate limit, credentials, body parsing and schema validation, the route,
//! persistence, the request log. Routes are matched on path segments, so a path with or without
//! its trailing slash reaches the same route and nothing ever redirects (iconik-api.md §12).

pub mod acls;
pub mod assets;
pub mod collections;
pub mod file_sets;
pub mod files;
pub mod formats;
pub mod jobs;
pub mod keyframes;
pub mod metadata;
pub mod proxies;
pub mod search;
pub mod seed;
pub mod storages;

use super::App;
use super::auth::is_secret_header;
use super::spec::Validation;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest JSON body accepted on iconik routes.
const MAX_JSON_BODY: usize = 16 * 1024 * 1024;

/// A route's answer: status plus optional JSON body and extra headers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Option<Value>,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: StatusCode, body: Value) -> Reply {
        Reply {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }
    pub fn ok(body: Value) -> Reply {
        Reply::json(StatusCode::OK, body)
    }
    pub fn created(body: Value) -> Reply {
        Reply::json(StatusCode::CREATED, body)
    }
    pub fn no_content() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
            headers: Vec::new(),
        }
    }
    /// iconik's list-shaped error body `{"errors": ["..."]}` (iconik-api.md §3).
    pub fn error(status: StatusCode, message: impl Into<String>) -> Reply {
        Reply::json(status, json!({ "errors": [message.into()] }))
    }
    /// iconik's field-shaped error body `{"errors": {"field": "..."}}`.
    pub fn field_error(status: StatusCode, field: &str, message: impl Into<String>) -> Reply {
        Reply::json(status, json!({ "errors": { field: message.into() } }))
    }
    pub fn not_found(what: &str, id: &str) -> Reply {
        Reply::error(StatusCode::NOT_FOUND, format!("{what} {id} not found"))
    }
    pub fn bad_request(message: impl Into<String>) -> Reply {
        Reply::error(StatusCode::BAD_REQUEST, message)
    }
}

/// Routes return `Err(reply)` for early exits so `?` works on lookups and validation.
pub type RouteResult = Result<Reply, Reply>;

/// One parsed iconik request as routes see it.
#[derive(Debug)]
pub struct Ctx {
    pub method: String,
    /// Path segments after `/API/`, e.g. `["files","v1","assets","<id>","file_sets"]`.
    pub segs: Vec<String>,
    pub query: HashMap<String, String>,
    pub body: Option<Value>,
    pub validation: Option<Validation>,
    pub base_url: String,
    /// Final status for jobs this request creates (fault knob `job_status`, e.g. `FAILED`).
    pub job_status: Option<String>,
}

impl Ctx {
    /// Validates the body for `template` (the spec's path, e.g.
    /// `/API/files/v1/assets/{asset_id}/file_sets/`) and returns it without read-only fields.
    /// A missing body counts as `{}`; a body that is not an object is a 400.
    pub fn body(
        &mut self,
        app: &App,
        template: &str,
        fallback_schema: &str,
    ) -> Result<Value, Reply> {
        let body = self.body.clone().unwrap_or_else(|| json!({}));
        let spec = &app.spec;
        let (clean, mut validation) = spec.validate(&self.method, template, fallback_schema, &body);
        if self.method == "PATCH" {
            // PATCH is a partial update: iconik's PATCH ops reuse the full schema, so its
            // `required` list does not apply (the body names only the fields that change).
            validation.errors.retain(|e| !e.required);
            validation.valid = validation.errors.is_empty();
        }
        let reply = (!validation.valid).then(|| validation_reply(&validation));
        self.validation = Some(validation);
        match reply {
            Some(reply) => Err(reply),
            None => require_object(clean),
        }
    }

    pub fn q(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }

    pub fn flag(&self, key: &str) -> bool {
        self.q(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    }
}

fn require_object(body: Value) -> Result<Value, Reply> {
    if body.is_object() {
        Ok(body)
    } else {
        Err(Reply::bad_request("Request body must be a JSON object"))
    }
}

/// 400 in iconik's shapes: missing properties as `{"errors":{"field":"..."}}`, anything else as
/// `{"errors":["/field: message", ...]}`.
fn validation_reply(v: &Validation) -> Reply {
    if v.errors.iter().all(|e| e.required) {
        let mut map = Map::new();
        for e in &v.errors {
            map.insert(e.field.clone(), Value::String(e.message.clone()));
        }
        return Reply::json(StatusCode::BAD_REQUEST, json!({ "errors": map }));
    }
    let list: Vec<Value> = v
        .errors
        .iter()
        .map(|e| {
            Value::String(if e.required {
                format!("{}: {}", e.field, e.message)
            } else {
                e.message.clone()
            })
        })
        .collect();
    Reply::json(StatusCode::BAD_REQUEST, json!({ "errors": list }))
}

/// A new server-made id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// iconik's timestamp shape, e.g. `2021-07-30T15:16:54.406403+00:00`.
pub fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

/// Copies `patch` into `target`, skipping the server-owned keys.
pub fn merge(target: &mut Value, patch: &Value, server_owned: &[&str]) {
    if let (Some(t), Some(p)) = (target.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            if !server_owned.contains(&k.as_str()) {
                t.insert(k.clone(), v.clone());
            }
        }
        t.insert("date_modified".into(), Value::String(now()));
    }
}

/// Fields every record owns on the server side.
pub const SERVER_OWNED: &[&str] = &["id", "asset_id", "date_created", "date_modified"];

/// A string field of a body, or `default`.
pub fn str_or(body: &Value, key: &str, default: &str) -> Value {
    match body.get(key) {
        Some(Value::String(s)) => Value::String(s.clone()),
        _ => Value::String(default.to_string()),
    }
}

/// The iconik list envelope (iconik-api.md §3): `page`/`per_page`, or the per-asset cursor
/// `last_id` (items after that id).
pub fn page(ctx: &Ctx, items: Vec<Value>) -> RouteResult {
    let per_page = match ctx.q("per_page") {
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => {
                return Err(Reply::field_error(
                    StatusCode::BAD_REQUEST,
                    "per_page",
                    format!("{v:?} is not an integer between 1 and 500"),
                ));
            }
        },
        None => 10,
    };
    let page_no = match ctx.q("page") {
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(Reply::field_error(
                    StatusCode::BAD_REQUEST,
                    "page",
                    format!("{v:?} is not a positive integer"),
                ));
            }
        },
        None => 1,
    };
    let items = match ctx.q("last_id") {
        Some(last) => match items.iter().position(|v| v["id"] == last) {
            Some(i) => items[i + 1..].to_vec(),
            None => Vec::new(),
        },
        None => items,
    };
    let total = items.len();
    let pages = total.div_ceil(per_page).max(1);
    let start = (page_no - 1).saturating_mul(per_page);
    let objects: Vec<Value> = items.into_iter().skip(start).take(per_page).collect();
    let path = format!("/API/{}/", ctx.segs.join("/"));
    let url = |p: usize| Value::String(format!("{path}?page={p}&per_page={per_page}"));
    Ok(Reply::ok(json!({
        "objects": objects,
        "page": page_no,
        "pages": pages,
        "per_page": per_page,
        "total": total,
        "first_url": url(1),
        "last_url": url(pages),
        "prev_url": if page_no > 1 { url(page_no - 1) } else { Value::Null },
        "next_url": if page_no < pages { url(page_no + 1) } else { Value::Null },
        "scroll_id": Value::Null,
    })))
}

/// The asset named in the path, or 404.
pub fn asset<'a>(st: &'a super::state::State, asset_id: &str) -> Result<&'a Value, Reply> {
    st.get(super::state::Kind::Assets, asset_id)
        .ok_or_else(|| Reply::not_found("Asset", asset_id))
}

/// The record `id` of `kind` under the asset in the path: 404 naming the asset when it is
/// unknown, else 404 naming the object as `what` (iconik's `"{what} {id} not found"`).
pub fn in_asset<'a>(
    st: &'a super::state::State,
    kind: super::state::Kind,
    what: &str,
    asset_id: &str,
    id: &str,
) -> Result<&'a Value, Reply> {
    asset(st, asset_id)?;
    st.get_in_asset(kind, asset_id, id)
        .ok_or_else(|| Reply::not_found(what, id))
}

/// The asset's records of `kind` (404 for an unknown asset), for a list route to filter and
/// page.
pub fn of_asset<'a>(
    st: &'a super::state::State,
    kind: super::state::Kind,
    asset_id: &'a str,
) -> Result<impl Iterator<Item = &'a Value>, Reply> {
    asset(st, asset_id)?;
    Ok(st
        .list(kind)
        .iter()
        .filter(move |o| o["asset_id"] == asset_id))
}

/// PATCH/PUT of an upload target (file, proxy, keyframe): `CLOSED` only once its upload is
/// complete (iconik-api.md §10.3); [`SERVER_OWNED`] and `owned` fields keep their values.
pub fn patch_upload_target<'a>(
    st: &'a mut super::state::State,
    kind: super::state::Kind,
    what: &str,
    id: &str,
    body: &Value,
    owned: &[&str],
) -> Result<&'a mut Value, Reply> {
    if body["status"] == "CLOSED" {
        super::gcs::require_complete(st, id, what)?;
    }
    let record = st
        .get_mut(kind, id)
        .ok_or_else(|| Reply::not_found(what, id))?;
    merge(record, body, &[SERVER_OWNED, owned].concat());
    Ok(record)
}

/// The route table: (method, segments after `/API/`) → handler.
fn route(app: &App, ctx: &mut Ctx) -> RouteResult {
    let segs: Vec<String> = ctx.segs.clone();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = ctx.method.clone();
    match (m.as_str(), s.as_slice()) {
        ("GET", ["auth", "v1", "auth", "token"]) => Ok(Reply::ok(json!({"valid": true}))),
        (_, ["files", "v1", "storages", ..]) => storages::route(app, ctx, &s[3..]),
        ("GET", ["files", "v1", "files", "checksum", md5]) => files::by_checksum(app, ctx, md5),
        (_, ["files", "v1", "assets", asset_id, "formats", rest @ ..]) => {
            formats::route(app, ctx, asset_id, rest)
        }
        (_, ["files", "v1", "assets", asset_id, "file_sets", rest @ ..]) => {
            file_sets::route(app, ctx, asset_id, rest)
        }
        (
            _,
            [
                "files",
                "v1",
                "assets",
                asset_id,
                "files",
                file_id,
                "keyframes",
            ],
        ) => keyframes::from_file(app, ctx, asset_id, file_id),
        (_, ["files", "v1", "assets", asset_id, "files", rest @ ..]) => {
            files::route(app, ctx, asset_id, rest)
        }
        (
            _,
            [
                "files",
                "v1",
                "assets",
                asset_id,
                "proxies",
                proxy_id,
                "keyframes",
            ],
        ) => keyframes::from_proxy(app, ctx, asset_id, proxy_id),
        (_, ["files", "v1", "assets", asset_id, "proxies", rest @ ..]) => {
            proxies::route(app, ctx, asset_id, None, rest)
        }
        (
            _,
            [
                "files",
                "v1",
                "assets",
                asset_id,
                "method",
                method,
                "proxies",
            ],
        ) => proxies::route(app, ctx, asset_id, Some(method), &[]),
        (_, ["files", "v1", "assets", asset_id, "keyframes", rest @ ..]) => {
            keyframes::route(app, ctx, asset_id, rest)
        }
        (_, ["assets", "v1", "assets", rest @ ..]) => assets::route(app, ctx, rest),
        (_, ["assets", "v1", "collections", rest @ ..]) => collections::route(app, ctx, rest),
        (_, ["jobs", "v1", "jobs", rest @ ..]) => jobs::route(app, ctx, rest),
        (_, ["acls", "v1", rest @ ..]) => acls::route(app, ctx, rest),
        (_, ["metadata", "v1", rest @ ..]) => metadata::route(app, ctx, rest),
        ("POST", ["search", "v1", "search"]) => search::search(app, ctx),
        _ => Err(not_routed(ctx)),
    }
}

/// 404 for any method and path the sandbox does not serve (iconik's and unknown ones alike).
pub fn not_routed(ctx: &Ctx) -> Reply {
    Reply::error(
        StatusCode::NOT_FOUND,
        format!(
            "The sandbox does not serve {} /API/{}/",
            ctx.method,
            ctx.segs.join("/")
        ),
    )
}

/// The single axum handler.
pub async fn dispatch(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let query: Vec<(String, String)> = url::form_urlencoded::parse(raw_query.as_bytes())
        .into_owned()
        .collect();

    if path == "/sandbox" || path.starts_with("/sandbox/") {
        return super::inspect::handle(&app, &method, &path, &parts.headers, body).await;
    }

    let mut log = json!({
        "time": now(),
        "method": method,
        "path": path,
        "query": redact_query(&query),
        "headers": redact_headers(&parts.headers),
    });

    let action = app.faults().take(&method, &path);
    let delay = app.config.latency + Duration::from_millis(action.delay_ms);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if action.rule.is_some() {
        log["fault"] = json!({
            "rule": action.rule,
            "status": action.status,
            "drop_response_after_commit": action.drop_response_after_commit,
            "reset_after_bytes": action.reset_after_bytes,
            "job_status": action.job_status,
        });
    }
    let is_api = path.starts_with("/API/");
    let is_upload = ["/gcs/", "/upload/", "/s3/", "/azure/"]
        .iter()
        .any(|p| path.starts_with(p));

    // A plain status fault answers before anything runs (an overloaded front end).
    if let Some(code) = action.status
        && action.reset_after_bytes.is_none()
    {
        // Read the body first, as a real front end does: answering while the client is still
        // sending makes hyper close the socket, and the client then sees a broken pipe instead
        // of the injected status (flaky under load).
        match axum::body::to_bytes(body, usize::MAX).await {
            Ok(b) => log["body"] = json!({ "bytes": b.len() }),
            Err(e) => tracing::debug!(error = %e, "body of a faulted request not fully read"),
        }
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut reply = Reply::error(status, format!("Sandbox fault: injected HTTP {code}"));
        if code == 429 {
            reply.headers.push(("RateLimit-Remaining", "0".into()));
        }
        return finish(&app, log, None, reply, false);
    }

    if is_upload {
        let outcome =
            super::gcs::handle(&app, &method, &path, &query, &parts.headers, body, &action).await;
        log["body"] = json!({ "bytes": outcome.bytes_received });
        log["status"] = json!(outcome.status_code());
        // `drop_response_after_commit` on an upload is the "lost 308": the chunk is stored,
        // the answer never arrives, and the client re-sends overlapping bytes.
        let kill = outcome.kill || action.drop_response_after_commit;
        if outcome.kill {
            log["connection"] = json!("killed");
        } else if kill {
            log["connection"] = json!("dropped after commit");
        }
        app.requests().push(log);
        app.persist();
        if kill {
            return killed_connection();
        }
        return outcome.response;
    }

    if !is_api {
        let reply = Reply::error(StatusCode::NOT_FOUND, format!("No route for {path}"));
        return finish(&app, log, None, reply, false);
    }

    let decision = app.limiter().check(Instant::now());
    if !decision.allowed {
        let mut reply = Reply::error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
        reply.headers.push(("RateLimit-Remaining", "0".into()));
        return finish(&app, log, None, reply, false);
    }
    if !app.config.credentials.accepts(&parts.headers) {
        let reply = with_remaining(
            Reply::error(StatusCode::UNAUTHORIZED, "Token is invalid"),
            decision.remaining,
        );
        return finish(&app, log, None, reply, false);
    }

    let bytes = match axum::body::to_bytes(body, MAX_JSON_BODY).await {
        Ok(b) => b,
        Err(err) => {
            let reply = Reply::bad_request(format!("Cannot read request body: {err}"));
            return finish(&app, log, None, reply, false);
        }
    };
    let parsed = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => Some(v),
            Err(err) => {
                log["body"] = json!({ "bytes": bytes.len(), "invalid_json": err.to_string() });
                let reply = Reply::bad_request(format!("Request body is not valid JSON: {err}"));
                return finish(&app, log, None, reply, false);
            }
        }
    };
    log["body"] = parsed.clone().unwrap_or(Value::Null);

    let mut ctx = Ctx {
        method: method.clone(),
        segs: path
            .trim_start_matches("/API/")
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        query: query.iter().cloned().collect(),
        body: parsed,
        validation: None,
        job_status: action.job_status.clone(),
        base_url: app.base_url.clone(),
    };
    let reply = route(&app, &mut ctx).unwrap_or_else(|e| e);
    let reply = with_remaining(reply, decision.remaining);
    let mutated = method != "GET" && reply.status.is_success();
    if mutated {
        app.persist();
    }
    finish(
        &app,
        log,
        ctx.validation.take(),
        reply,
        action.drop_response_after_commit,
    )
}

fn with_remaining(mut reply: Reply, remaining: usize) -> Reply {
    reply
        .headers
        .push(("RateLimit-Remaining", remaining.to_string()));
    reply
}

/// Logs the exchange and builds the response (or kills the connection).
fn finish(
    app: &App,
    mut log: Value,
    validation: Option<Validation>,
    reply: Reply,
    drop: bool,
) -> Response {
    log["status"] = json!(reply.status.as_u16());
    log["validation"] = serde_json::to_value(&validation).unwrap_or(Value::Null);
    if drop {
        log["connection"] = json!("dropped after commit");
    }
    app.requests().push(log);
    if drop {
        return killed_connection();
    }
    into_response(reply)
}

pub fn into_response(reply: Reply) -> Response {
    let mut resp = match reply.body {
        Some(body) => (reply.status, axum::Json(body)).into_response(),
        None => reply.status.into_response(),
    };
    for (name, value) in reply.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
    resp
}

/// A response whose body fails before anything is written: hyper then closes the connection
/// without sending the status line, so the client sees a connection error (the "response lost
/// after the server committed" case, iconik-api.md §2, gcs-resumable.md §3).
pub fn killed_connection() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault: connection dropped",
        ))
    });
    Response::new(Body::from_stream(stream))
}

fn redact_headers(headers: &HeaderMap) -> Value {
    let mut map = Map::new();
    for (name, value) in headers {
        let v = if is_secret_header(name.as_str()) {
            "<redacted>".to_string()
        } else {
            value.to_str().unwrap_or("<binary>").to_string()
        };
        map.insert(name.as_str().to_string(), Value::String(v));
    }
    Value::Object(map)
}

pub fn redact_query(query: &[(String, String)]) -> Value {
    let mut map = Map::new();
    for (k, v) in query {
        let v = if is_secret_header(k) {
            "<redacted>".to_string()
        } else {
            v.clone()
        };
        map.insert(k.clone(), Value::String(v));
    }
    Value::Object(map)
}
