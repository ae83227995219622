//! The sandbox's own storage endpoints: a GCS XML-API resumable upload emulation with exactly
//! the semantics of gcs-resumable.md §1 (state machine §1.4), plus single-PUT S3 and Azure
//! style endpoints.
//!
//! URLs: a proxy's `upload_url` is signed-URL style
//! `{base}/gcs/<bucket>/<object>?X-Goog-Algorithm=…&X-Goog-Signature=…`; the start POST answers
//! with `Location: {base}/upload/<bucket>/<object>?upload_id=<id>&<signed query>`. PUT/DELETE
//! on either path with `upload_id` act on the session (SYN appends `&upload_id=` to the signed
//! URL itself, iconik-api.md §8.1). No iconik credentials are needed here.

use super::App;
use super::faults::FaultAction;
use super::routes::{Reply, new_id, now};
use super::state::{Session, SessionState, State};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use md5::Digest;
use serde_json::{Value, json};

/// The result of one upload request, for the request log.
pub struct UploadOutcome {
    pub response: Response,
    pub bytes_received: u64,
    /// Kill the connection instead of answering (`reset_after_bytes`).
    pub kill: bool,
}

impl UploadOutcome {
    pub fn status_code(&self) -> Option<u16> {
        (!self.kill).then(|| self.response.status().as_u16())
    }
}

/// Mints an upload URL for a record on `storage` and remembers which object it targets.
pub fn mint(app: &App, st: &mut State, storage: &Value, record_id: &str, filename: &str) -> String {
    let safe: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let object = format!("{record_id}/{safe}");
    let signature: String = uuid::Uuid::new_v4().simple().to_string().repeat(2);
    let base = &app.base_url;
    let (bucket, url) = match storage["method"].as_str() {
        Some("S3") => {
            let bucket = storage["settings"]["bucket"]
                .as_str()
                .unwrap_or("sandbox-s3")
                .to_string();
            let url = format!(
                "{base}/s3/{bucket}/{object}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=SANDBOX%2F{date}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date={date}T000000Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature={signature}",
                date = chrono::Utc::now().format("%Y%m%d")
            );
            (bucket, url)
        }
        Some("AZURE") => {
            let bucket = storage["settings"]["container"]
                .as_str()
                .unwrap_or("sandbox-azure")
                .to_string();
            let url = format!(
                "{base}/azure/{bucket}/{object}?sv=2022-11-02&sr=b&sp=cw&se=2099-01-01T00%3A00%3A00Z&sig={signature}"
            );
            (bucket, url)
        }
        _ => {
            let bucket = storage["settings"]["bucket"]
                .as_str()
                .unwrap_or(super::routes::seed::PROXY_BUCKET)
                .to_string();
            let date = chrono::Utc::now().format("%Y%m%d");
            let url = format!(
                "{base}/gcs/{bucket}/{object}?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sandbox%40sandbox.iam.gserviceaccount.com%2F{date}%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date={date}T000000Z&X-Goog-Expires=604800&X-Goog-SignedHeaders=host%3Bx-goog-resumable&X-Goog-Signature={signature}"
            );
            (bucket, url)
        }
    };
    st.upload_targets
        .insert(record_id.to_string(), format!("{bucket}/{object}"));
    url
}

/// 400 unless the upload for `record_id` is complete (the proxy CLOSED rule, §12).
pub fn require_complete(st: &State, record_id: &str, what: &str) -> Result<(), Reply> {
    let Some(key) = st.upload_targets.get(record_id) else {
        return Ok(());
    };
    if st.objects.contains_key(key) {
        return Ok(());
    }
    let persisted = st
        .sessions
        .values()
        .filter(|s| format!("{}/{}", s.bucket, s.object) == *key)
        .map(|s| (s.persisted, s.total))
        .max();
    let detail = match persisted {
        Some((n, Some(t))) => format!("{n} of {t} bytes uploaded"),
        Some((n, None)) => format!("{n} bytes uploaded, total unknown"),
        None => "no upload started".to_string(),
    };
    Err(Reply::field_error(
        StatusCode::BAD_REQUEST,
        "status",
        format!("{what} {record_id} cannot be CLOSED: upload incomplete ({detail})"),
    ))
}

fn empty(status: StatusCode) -> Response {
    let mut r = status.into_response();
    r.headers_mut()
        .insert("content-length", HeaderValue::from_static("0"));
    r
}

fn text(status: StatusCode, message: String) -> Response {
    (status, message).into_response()
}

/// Handles every request under `/gcs/`, `/upload/`, `/s3/`, `/azure/`.
pub async fn handle(
    app: &App,
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: Body,
    fault: &FaultAction,
) -> UploadOutcome {
    let (area, rest) = match path.trim_start_matches('/').split_once('/') {
        Some((a, r)) => (a.to_string(), r.to_string()),
        None => (String::new(), String::new()),
    };
    let Some((bucket, object)) = rest
        .split_once('/')
        .filter(|(b, o)| !b.is_empty() && !o.is_empty())
    else {
        return done(
            text(StatusCode::NOT_FOUND, format!("No such object path {path}")),
            0,
        );
    };
    let key = format!("{bucket}/{object}");
    let upload_id = query
        .iter()
        .find(|(k, _)| k == "upload_id")
        .map(|(_, v)| v.clone());
    let q = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    if area == "s3" {
        // S3's multipart API (CreateMultipartUpload `?uploads`, UploadPart `?partNumber=&
        // uploadId=`, Complete `?uploadId=`, Abort): iconik-api.md §8.2.
        match (method, q("uploads"), q("uploadId"), q("partNumber")) {
            ("POST", Some(_), None, None) => return done(s3_initiate(app, bucket, &key), 0),
            ("PUT", None, Some(id), Some(n)) => return s3_part(app, &id, &n, body, fault).await,
            ("POST", None, Some(id), None) => return s3_complete(app, &id, &key, body).await,
            ("DELETE", None, Some(id), None) => {
                app.state().s3_multiparts.remove(&id);
                return done(empty(StatusCode::NO_CONTENT), 0);
            }
            _ => {}
        }
    }
    match (method, area.as_str(), upload_id) {
        ("POST", "gcs", None) => done(start(app, headers, bucket, object, query), 0),
        ("PUT", "gcs" | "upload", Some(id)) => chunk(app, &id, headers, body, fault).await,
        ("DELETE", "gcs" | "upload", Some(id)) => done(cancel(app, &id), 0),
        ("PUT", "gcs" | "s3" | "azure", None) => single_put(app, &key, body, fault).await,
        _ => done(
            text(
                StatusCode::BAD_REQUEST,
                format!("Unsupported {method} on {path}"),
            ),
            0,
        ),
    }
}

fn done(response: Response, bytes: u64) -> UploadOutcome {
    UploadOutcome {
        response,
        bytes_received: bytes,
        kill: false,
    }
}

/// gcs-resumable.md §1.1: POST + `x-goog-resumable: start` → 201, `Location`,
/// `X-GUploader-UploadID`, empty body; without the header → 400; with a `Content-Type` → 403
/// `SignatureDoesNotMatch`.
fn start(
    app: &App,
    headers: &HeaderMap,
    bucket: &str,
    object: &str,
    query: &[(String, String)],
) -> Response {
    let is_start = headers
        .get("x-goog-resumable")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("start"));
    if !is_start {
        return text(
            StatusCode::BAD_REQUEST,
            "POST to a signed URL must carry x-goog-resumable: start".to_string(),
        );
    }
    // iconik signs the start for exactly `x-goog-resumable` (X-Goog-SignedHeaders
    // host;x-goog-resumable) and no Content-Type: GCS folds a Content-Type into the string it
    // checks, so a start carrying one fails the signature (iconik-api.md §14).
    if let Some(ct) = headers.get("content-type") {
        let ct = ct.to_str().unwrap_or("<not text>");
        let mut r = text(
            StatusCode::FORBIDDEN,
            format!(
                "<?xml version='1.0' encoding='UTF-8'?><Error><Code>SignatureDoesNotMatch</Code>\
                 <Message>The request signature we calculated does not match the signature you \
                 provided. The start request carried Content-Type: {ct}, which the signed URL \
                 does not cover.</Message></Error>"
            ),
        );
        r.headers_mut().insert(
            "content-type",
            HeaderValue::from_static("application/xml; charset=UTF-8"),
        );
        return r;
    }
    if !query.iter().any(|(k, _)| k == "X-Goog-Signature") {
        return text(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch: no X-Goog-Signature".to_string(),
        );
    }
    let id = format!("sbx-{}", new_id().replace('-', ""));
    let session = Session {
        id: id.clone(),
        bucket: bucket.to_string(),
        object: object.to_string(),
        total: None,
        state: SessionState::Open,
        created: now(),
        data: Vec::new(),
        persisted: 0,
    };
    app.state().sessions.insert(id.clone(), session);
    let signed: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query.iter())
        .finish();
    let location = format!(
        "{}/upload/{bucket}/{object}?upload_id={id}&{signed}",
        app.base_url
    );
    let mut r = empty(StatusCode::CREATED);
    if let (Ok(loc), Ok(uid)) = (HeaderValue::from_str(&location), HeaderValue::from_str(&id)) {
        r.headers_mut().insert("location", loc);
        r.headers_mut().insert("x-guploader-uploadid", uid);
    }
    r
}

/// DELETE session → 499 and Cancelled; unknown/cancelled → 404.
fn cancel(app: &App, id: &str) -> Response {
    let mut st = app.state();
    match st.sessions.get_mut(id) {
        Some(s) if s.state != SessionState::Cancelled => {
            s.state = SessionState::Cancelled;
            s.data.clear();
            empty(StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST))
        }
        _ => text(
            StatusCode::NOT_FOUND,
            format!("No such upload session {id}"),
        ),
    }
}

/// A parsed `Content-Range`.
#[derive(Debug, PartialEq)]
enum Range {
    /// `bytes a-b/T` (T None for `*`).
    Chunk {
        first: u64,
        last: u64,
        total: Option<u64>,
    },
    /// `bytes */T`.
    Query { total: Option<u64> },
}

fn parse_range(v: &str) -> Option<Range> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (span, total) = rest.split_once('/')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    if span.trim() == "*" {
        return Some(Range::Query { total });
    }
    let (a, b) = span.split_once('-')?;
    let (first, last) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (last >= first).then_some(Range::Chunk { first, last, total })
}

/// Reads the body; with `limit` stops after that many bytes (the rest is never read). A body
/// that cannot be read is answered 400 (the returned outcome).
async fn read_body(body: Body, limit: Option<u64>) -> Result<(Vec<u8>, bool), UploadOutcome> {
    let mut stream = body.into_data_stream();
    let mut data = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            done(
                text(StatusCode::BAD_REQUEST, format!("Cannot read body: {e}")),
                0,
            )
        })?;
        data.extend_from_slice(&chunk);
        if let Some(limit) = limit
            && data.len() as u64 >= limit
        {
            data.truncate(limit as usize);
            return Ok((data, true));
        }
    }
    Ok((data, false))
}

fn object_json(bucket: &str, object: &str, data: &[u8]) -> Value {
    let md5 = md5::Md5::digest(data);
    json!({
        "kind": "storage#object",
        "id": format!("{bucket}/{object}"),
        "bucket": bucket,
        "name": object,
        "size": data.len().to_string(),
        "md5Hash": base64(&md5),
        "contentType": "application/octet-stream",
        "timeCreated": now(),
    })
}

fn finished(bucket: &str, object: &str, data: &[u8]) -> Response {
    let body = object_json(bucket, object, data);
    let mut r = (StatusCode::OK, axum::Json(body.clone())).into_response();
    let hash = format!("md5={}", body["md5Hash"].as_str().unwrap_or_default());
    if let Ok(v) = HeaderValue::from_str(&hash) {
        r.headers_mut().insert("x-goog-hash", v);
    }
    r
}

/// 308 with `Range: bytes=0-N` (absent when nothing is persisted) and no Location.
fn incomplete(id: &str, persisted: u64) -> Response {
    let mut r = empty(StatusCode::PERMANENT_REDIRECT);
    if persisted > 0
        && let Ok(v) = HeaderValue::from_str(&format!("bytes=0-{}", persisted - 1))
    {
        r.headers_mut().insert("range", v);
    }
    if let Ok(v) = HeaderValue::from_str(id) {
        r.headers_mut().insert("x-guploader-uploadid", v);
    }
    r
}

/// gcs-resumable.md §1.2–1.4: chunk PUTs, status queries, completion.
async fn chunk(
    app: &App,
    id: &str,
    headers: &HeaderMap,
    body: Body,
    fault: &FaultAction,
) -> UploadOutcome {
    let state_of = |app: &App| app.state().sessions.get(id).map(|s| s.state);
    match state_of(app) {
        None | Some(SessionState::Cancelled) => {
            return done(
                text(
                    StatusCode::NOT_FOUND,
                    format!("No such upload session {id}"),
                ),
                0,
            );
        }
        Some(SessionState::Done) => {
            let st = app.state();
            let Some(s) = st.sessions.get(id) else {
                return done(
                    text(
                        StatusCode::NOT_FOUND,
                        format!("No such upload session {id}"),
                    ),
                    0,
                );
            };
            let key = format!("{}/{}", s.bucket, s.object);
            let data = st.objects.get(&key).map(Vec::as_slice).unwrap_or_default();
            return done(finished(&s.bucket, &s.object, data), 0);
        }
        Some(SessionState::Open) => {}
    }
    let range = match headers.get("content-range").and_then(|v| v.to_str().ok()) {
        None => None,
        Some(v) => match parse_range(v) {
            Some(r) => Some(r),
            None => {
                return done(
                    text(
                        StatusCode::BAD_REQUEST,
                        format!("Invalid Content-Range {v:?}"),
                    ),
                    0,
                );
            }
        },
    };
    let (data, cut) = match read_body(body, fault.reset_after_bytes).await {
        Ok(d) => d,
        Err(refused) => return refused,
    };
    let received = data.len() as u64;
    let mut st = app.state();
    let State {
        sessions,
        objects,
        object_sizes,
        ..
    } = &mut *st;
    let Some(s) = sessions.get_mut(id) else {
        return done(
            text(
                StatusCode::NOT_FOUND,
                format!("No such upload session {id}"),
            ),
            received,
        );
    };
    let (first, total) = match range {
        // Whole object in one PUT.
        None => (0, Some(data.len() as u64).filter(|_| !cut)),
        Some(Range::Query { total }) => {
            if !data.is_empty() {
                return done(
                    text(
                        StatusCode::BAD_REQUEST,
                        "Status query must have an empty body".into(),
                    ),
                    received,
                );
            }
            (s.persisted, total)
        }
        Some(Range::Chunk { first, last, total }) => {
            if !cut && received != last - first + 1 {
                return done(
                    text(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "Content-Range covers {} bytes but the body has {received}",
                            last - first + 1
                        ),
                    ),
                    received,
                );
            }
            if total.is_some_and(|t| last >= t) {
                return done(
                    text(
                        StatusCode::BAD_REQUEST,
                        format!("Range end {last} beyond total"),
                    ),
                    received,
                );
            }
            (first, total)
        }
    };
    if let (Some(t), Some(old)) = (total, s.total)
        && t != old
    {
        return done(
            text(
                StatusCode::BAD_REQUEST,
                format!("Total size {t} differs from the declared {old}"),
            ),
            received,
        );
    }
    if first > s.persisted {
        return done(
            text(
                StatusCode::BAD_REQUEST,
                format!(
                    "According to the Content-Range header, the upload offset is {first} byte(s), which exceeds already uploaded size of {} byte(s)",
                    s.persisted
                ),
            ),
            received,
        );
    }
    if total.is_some() {
        s.total = total;
    }
    // Overlapping (re-sent) bytes are ignored; only new bytes are appended.
    let skip = (s.persisted - first) as usize;
    if skip < data.len() {
        s.data.extend_from_slice(&data[skip..]);
        s.persisted = s.data.len() as u64;
    }
    if cut {
        let persisted = s.persisted;
        drop(st);
        return match fault.status {
            Some(code) => done(
                text(
                    StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                    format!("Sandbox fault: HTTP {code} after {persisted} persisted bytes"),
                ),
                received,
            ),
            None => UploadOutcome {
                response: empty(StatusCode::INTERNAL_SERVER_ERROR),
                bytes_received: received,
                kill: true,
            },
        };
    }
    if s.total == Some(s.persisted) {
        s.state = SessionState::Done;
        let key = format!("{}/{}", s.bucket, s.object);
        let data = std::mem::take(&mut s.data);
        let response = finished(&s.bucket, &s.object, &data);
        object_sizes.insert(key.clone(), data.len() as u64);
        objects.insert(key, data);
        return done(response, received);
    }
    done(incomplete(id, s.persisted), received)
}

/// A whole PUT body (an object, or one part of a multipart upload) and its S3 ETag (the quoted
/// MD5); a body cut by the fault rule answers 500 and ends the connection.
async fn whole_body(body: Body, fault: &FaultAction) -> Result<(Vec<u8>, String), UploadOutcome> {
    let (data, cut) = read_body(body, fault.reset_after_bytes).await?;
    if cut {
        return Err(UploadOutcome {
            response: empty(StatusCode::INTERNAL_SERVER_ERROR),
            bytes_received: data.len() as u64,
            kill: true,
        });
    }
    let etag = format!("\"{}\"", hex(&md5::Md5::digest(&data)));
    Ok((data, etag))
}

fn with_etag(r: &mut Response, etag: &str) {
    if let Ok(v) = HeaderValue::from_str(etag) {
        r.headers_mut().insert("etag", v);
    }
}

/// S3/Azure single PUT, and a GCS PUT without a session: store the whole body.
async fn single_put(app: &App, key: &str, body: Body, fault: &FaultAction) -> UploadOutcome {
    let (data, etag) = match whole_body(body, fault).await {
        Ok(d) => d,
        Err(refused) => return refused,
    };
    let received = data.len() as u64;
    let mut st = app.state();
    st.object_sizes.insert(key.to_string(), received);
    st.objects.insert(key.to_string(), data);
    let mut r = empty(if key.is_empty() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    });
    with_etag(&mut r, &etag);
    done(r, received)
}

fn xml(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/xml"));
    r
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    xml(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        ),
    )
}

/// CreateMultipartUpload → 200 `InitiateMultipartUploadResult` with a new `UploadId`.
fn s3_initiate(app: &App, bucket: &str, key: &str) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let object = key.split_once('/').map_or("", |(_, o)| o);
    app.state().s3_multiparts.insert(
        id.clone(),
        super::state::S3Multipart {
            key: key.to_owned(),
            parts: Default::default(),
        },
    );
    xml(
        StatusCode::OK,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>{bucket}</Bucket><Key>{object}</Key><UploadId>{id}</UploadId></InitiateMultipartUploadResult>"
        ),
    )
}

/// UploadPart: keeps the bytes under the part number (1..=10000) and answers its `ETag`
/// (the part's MD5 in quotes, as S3 does).
async fn s3_part(
    app: &App,
    id: &str,
    number: &str,
    body: Body,
    fault: &FaultAction,
) -> UploadOutcome {
    let Some(n) = number
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=10_000).contains(n))
    else {
        let r = s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Part number must be an integer between 1 and 10000",
        );
        return done(r, 0);
    };
    let (data, etag) = match whole_body(body, fault).await {
        Ok(d) => d,
        Err(refused) => return refused,
    };
    let received = data.len() as u64;
    let mut st = app.state();
    let Some(upload) = st.s3_multiparts.get_mut(id) else {
        drop(st);
        let r = s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchUpload",
            "The specified upload does not exist",
        );
        return done(r, received);
    };
    upload.parts.insert(n, data);
    let mut r = empty(StatusCode::OK);
    with_etag(&mut r, &etag);
    done(r, received)
}

/// CompleteMultipartUpload: the body lists every part (ascending numbers) with the ETag its
/// upload answered; every part but the last must be at least 5 MiB (S3's `EntityTooSmall`).
/// The object is the parts in order; its ETag is S3's MD5 of the parts' MD5s plus `-N`.
async fn s3_complete(app: &App, id: &str, key: &str, body: Body) -> UploadOutcome {
    let (data, _) = match read_body(body, None).await {
        Ok(d) => d,
        Err(refused) => return refused,
    };
    let text = String::from_utf8_lossy(&data).into_owned();
    let listed: Option<Vec<(u32, String)>> = roxmltree::Document::parse(&text).ok().map(|doc| {
        doc.descendants()
            .filter(|n| n.tag_name().name() == "Part")
            .filter_map(|p| {
                let field = |name: &str| {
                    p.children()
                        .find(|c| c.tag_name().name() == name)
                        .and_then(|c| c.text())
                        .map(str::trim)
                        .map(str::to_owned)
                };
                Some((field("PartNumber")?.parse().ok()?, field("ETag")?))
            })
            .collect()
    });
    let mut st = app.state();
    let Some(upload) = st.s3_multiparts.get(id).cloned() else {
        drop(st);
        return done(
            s3_error(
                StatusCode::NOT_FOUND,
                "NoSuchUpload",
                "The specified upload does not exist",
            ),
            0,
        );
    };
    let listed = match listed {
        Some(l) if !l.is_empty() && upload.key == key => l,
        _ => {
            drop(st);
            return done(
                s3_error(
                    StatusCode::BAD_REQUEST,
                    "MalformedXML",
                    "The XML you provided was not well-formed or did not validate against our published schema",
                ),
                0,
            );
        }
    };
    let mut object = Vec::new();
    let mut digests = Vec::new();
    for (i, (n, etag)) in listed.iter().enumerate() {
        let Some(bytes) = upload.parts.get(n) else {
            drop(st);
            return done(
                s3_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidPart",
                    &format!("part {n} was not uploaded"),
                ),
                0,
            );
        };
        let digest = md5::Md5::digest(bytes);
        if etag.trim_matches('"') != hex(&digest) || (i > 0 && listed[i - 1].0 >= *n) {
            drop(st);
            return done(
                s3_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidPart",
                    &format!("part {n}: ETag {etag} does not match, or parts are out of order"),
                ),
                0,
            );
        }
        if i + 1 < listed.len() && bytes.len() < 5 * 1024 * 1024 {
            drop(st);
            return done(
                s3_error(
                    StatusCode::BAD_REQUEST,
                    "EntityTooSmall",
                    &format!("part {n} is {} bytes, below the 5 MiB minimum", bytes.len()),
                ),
                0,
            );
        }
        object.extend_from_slice(bytes);
        digests.extend_from_slice(&digest);
    }
    let etag = format!("\"{}-{}\"", hex(&md5::Md5::digest(&digests)), listed.len());
    st.s3_multiparts.remove(id);
    st.object_sizes.insert(key.to_owned(), object.len() as u64);
    st.objects.insert(key.to_owned(), object);
    let (bucket, object_name) = key.split_once('/').unwrap_or((key, ""));
    done(
        xml(
            StatusCode::OK,
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>{bucket}</Bucket><Key>{object_name}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>",
                etag.replace('"', "&quot;")
            ),
        ),
        data.len() as u64,
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Standard base64 (GCS `md5Hash`).
fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_forms() {
        assert_eq!(
            parse_range("bytes 0-262143/1000000"),
            Some(Range::Chunk {
                first: 0,
                last: 262_143,
                total: Some(1_000_000)
            })
        );
        assert_eq!(
            parse_range("bytes */1000"),
            Some(Range::Query { total: Some(1000) })
        );
        assert_eq!(parse_range("bytes */*"), Some(Range::Query { total: None }));
        assert_eq!(
            parse_range("bytes 5-9/*"),
            Some(Range::Chunk {
                first: 5,
                last: 9,
                total: None
            })
        );
        assert_eq!(parse_range("bytes 9-5/10"), None);
        assert_eq!(parse_range("items 0-1/2"), None);
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
