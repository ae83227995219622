//! S3 uploads (iconik-api.md §8.2): a single `PUT upload_url`, or iconik's multipart flow —
//! `POST multipart_upload_url` → XML `UploadId`; part URLs from iconik; `PUT` each part (keep its
//! `ETag`); complete URL from iconik; `POST` CompleteMultipartUpload XML. On failure the upload is
//! aborted through iconik's `multipart/cleanup/`.

use super::{
    ProgressFn, UploadError, UploadHttp, UploadProgress, body_text, file_body, file_range,
    file_size,
};
use crate::iconik::Client;
use crate::iconik::models::{
    AssetId, FileId, MultipartCleanup, MultipartPartUrl, MultipartUrls, ProxyId,
};
use crate::iconik::observer::RequestBody;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG};
use std::path::Path;
use tracing::instrument;

/// Files above this use multipart when iconik offers it.
pub const DEFAULT_MULTIPART_THRESHOLD: u64 = 100 * 1024 * 1024;
/// Part size (S3 minimum is 5 MiB for non-final parts).
pub const DEFAULT_PART_SIZE: u64 = 16 * 1024 * 1024;
const S3_MIN_PART: u64 = 5 * 1024 * 1024;

/// Single `PUT` of the whole file (`Content-Type: application/octet-stream`).
#[instrument(skip_all, fields(path = %path.display()))]
pub async fn put_single(
    http: &UploadHttp,
    url: &str,
    path: &Path,
    progress: Option<ProgressFn>,
) -> Result<Option<String>, UploadError> {
    super::put_whole_file(http, http.http.put(url), path, "S3 PUT", progress).await
}

/// Number of parts for `total` bytes.
pub fn part_count(total: u64, part_size: u64) -> u64 {
    total.div_ceil(part_size).max(1)
}

/// `UploadId` of an S3 `InitiateMultipartUploadResult`.
pub fn parse_upload_id(xml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    doc.descendants()
        .find(|n| n.tag_name().name() == "UploadId")
        .and_then(|n| n.text())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The CompleteMultipartUpload body for `(part number, ETag)` pairs.
pub fn complete_xml(parts: &[(u32, String)]) -> String {
    let mut s = String::from("<CompleteMultipartUpload>");
    for (n, etag) in parts {
        s.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag></Part>",
            xml_escape(etag)
        ));
    }
    s.push_str("</CompleteMultipartUpload>");
    s
}

/// Whose multipart upload it is: iconik signs the part and complete URLs per record, under
/// `proxies/{id}/…` or `files/{id}/…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultipartRecord {
    Proxy(ProxyId),
    File(FileId),
}

impl std::fmt::Display for MultipartRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MultipartRecord::Proxy(id) => write!(f, "proxy {id}"),
            MultipartRecord::File(id) => write!(f, "file {id}"),
        }
    }
}

impl MultipartRecord {
    async fn part_urls(
        self,
        iconik: &Client,
        asset: AssetId,
        upload_id: &str,
        parts: u32,
    ) -> Result<Vec<MultipartPartUrl>, crate::iconik::Error> {
        match self {
            MultipartRecord::Proxy(id) => {
                iconik
                    .proxies()
                    .multipart_part_urls(asset, id, upload_id, parts)
                    .await
            }
            MultipartRecord::File(id) => {
                iconik
                    .files()
                    .multipart_part_urls(asset, id, upload_id, parts)
                    .await
            }
        }
    }

    async fn complete_url(
        self,
        iconik: &Client,
        asset: AssetId,
        upload_id: &str,
    ) -> Result<MultipartUrls, crate::iconik::Error> {
        match self {
            MultipartRecord::Proxy(id) => {
                iconik
                    .proxies()
                    .multipart_complete_url(asset, id, upload_id)
                    .await
            }
            MultipartRecord::File(id) => {
                iconik
                    .files()
                    .multipart_complete_url(asset, id, upload_id)
                    .await
            }
        }
    }

    async fn cleanup(
        self,
        iconik: &Client,
        asset: AssetId,
        body: &MultipartCleanup,
    ) -> Result<(), crate::iconik::Error> {
        match self {
            MultipartRecord::Proxy(id) => iconik.proxies().multipart_cleanup(asset, id, body).await,
            MultipartRecord::File(id) => iconik.files().multipart_cleanup(asset, id, body).await,
        }
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// iconik's S3 multipart flow for a proxy or file record.
#[allow(clippy::too_many_arguments)]
#[instrument(skip_all, fields(path = %path.display(), %record))]
pub async fn multipart_upload(
    http: &UploadHttp,
    iconik: &Client,
    asset: AssetId,
    record: MultipartRecord,
    multipart_upload_url: &str,
    path: &Path,
    part_size: u64,
    progress: Option<ProgressFn>,
) -> Result<bool, UploadError> {
    if part_size < S3_MIN_PART {
        return Err(UploadError::Config(format!(
            "S3 part size {part_size} is below the 5 MiB minimum"
        )));
    }
    let total = file_size(path).await?;
    let resp = http
        .send(
            http.http
                .post(multipart_upload_url)
                .header(CONTENT_LENGTH, "0")
                .timeout(http.request_timeout)
                .body(reqwest::Body::from(Vec::<u8>::new())),
            None,
        )
        .await
        .map_err(|e| UploadError::transport("S3 multipart start", e))?;
    if !resp.status().is_success() {
        return Err(UploadError::Rejected {
            step: "S3 multipart start",
            status: resp.status().as_u16(),
            body: body_text(resp).await,
        });
    }
    let xml = body_text(resp).await;
    let upload_id = parse_upload_id(&xml).ok_or_else(|| UploadError::Protocol {
        step: "S3 multipart start",
        detail: format!("no UploadId in {xml:?}"),
    })?;
    let result = send_parts(
        http, iconik, asset, record, &upload_id, path, total, part_size, progress,
    )
    .await;
    if let Err(e) = &result {
        tracing::warn!(error = %e, "S3 multipart upload failed; aborting it");
        let cleanup = MultipartCleanup {
            upload_id: upload_id.clone(),
            abort_upload: true,
        };
        if let Err(ce) = record.cleanup(iconik, asset, &cleanup).await {
            tracing::warn!(error = %ce, "S3 multipart abort failed");
        }
    }
    result
}

#[allow(clippy::too_many_arguments)]
async fn send_parts(
    http: &UploadHttp,
    iconik: &Client,
    asset: AssetId,
    record: MultipartRecord,
    upload_id: &str,
    path: &Path,
    total: u64,
    part_size: u64,
    progress: Option<ProgressFn>,
) -> Result<bool, UploadError> {
    let count = part_count(total, part_size);
    let count32 = u32::try_from(count)
        .map_err(|_| UploadError::Config(format!("{count} parts is too many")))?;
    let urls = record.part_urls(iconik, asset, upload_id, count32).await?;
    if urls.len() != count as usize {
        return Err(UploadError::Protocol {
            step: "S3 part URLs",
            detail: format!(
                "asked for {count} part URLs, iconik returned {}",
                urls.len()
            ),
        });
    }
    let mut etags = Vec::with_capacity(urls.len());
    let mut sent = 0u64;
    // S3 answers each part's MD5 as its ETag: all of them equal to the local bytes' is the
    // storage's word that it holds this file (the object's own ETag is an MD5 of MD5s).
    let mut parts_match = true;
    for part in &urls {
        http.unpaused().await;
        let first = u64::from(part.number.saturating_sub(1)) * part_size;
        let len = part_size.min(total.saturating_sub(first));
        let resp = http
            .send(
                http.http
                    .put(&part.url)
                    .header(CONTENT_LENGTH, len.to_string())
                    .timeout(http.request_timeout)
                    .body(file_body(http, path, first, len).await?),
                file_range(path, first, len),
            )
            .await
            .map_err(|e| UploadError::transport("S3 part PUT", e))?;
        if !resp.status().is_success() {
            return Err(UploadError::Rejected {
                step: "S3 part PUT",
                status: resp.status().as_u16(),
                body: body_text(resp).await,
            });
        }
        let etag = resp
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| UploadError::Protocol {
                step: "S3 part PUT",
                detail: format!("part {} answered without an ETag", part.number),
            })?;
        parts_match &= part_md5(path, first, len)
            .await
            .is_some_and(|local| etag.trim_matches('"').eq_ignore_ascii_case(&local));
        etags.push((part.number, etag));
        sent += len;
        if let Some(p) = &progress {
            p(UploadProgress {
                confirmed: sent,
                total,
            });
        }
    }
    let urls = record.complete_url(iconik, asset, upload_id).await?;
    let complete = urls.complete_url.ok_or_else(|| UploadError::Protocol {
        step: "S3 complete URL",
        detail: "iconik returned no complete_url".to_owned(),
    })?;
    let resp = http
        .send(
            http.http
                .post(&complete)
                .header(CONTENT_TYPE, "application/xml")
                .timeout(http.request_timeout)
                .body(complete_xml(&etags)),
            Some(RequestBody::Text(complete_xml(&etags))),
        )
        .await
        .map_err(|e| UploadError::transport("S3 multipart complete", e))?;
    let status = resp.status();
    let body = body_text(resp).await;
    // S3 can answer 200 with an <Error> body on complete.
    if !status.is_success() || body.contains("<Error>") {
        return Err(UploadError::Rejected {
            step: "S3 multipart complete",
            status: status.as_u16(),
            body,
        });
    }
    Ok(parts_match)
}

/// MD5 (lowercase hex) of `len` bytes of `path` from `first`; `None` when it cannot be read
/// (then the parts count as unverified, the upload itself stands).
async fn part_md5(path: &Path, first: u64, len: u64) -> Option<String> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use md5::Digest;
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(&path).ok()?;
        f.seek(SeekFrom::Start(first)).ok()?;
        let mut hasher = md5::Md5::new();
        let mut buf = vec![0u8; 1024 * 1024];
        let mut left = len;
        while left > 0 {
            let want = usize::try_from(left.min(buf.len() as u64)).ok()?;
            let n = f.read(&mut buf[..want]).ok()?;
            if n == 0 {
                return None;
            }
            hasher.update(&buf[..n]);
            left -= n as u64;
        }
        Some(
            hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    })
    .await
    .ok()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_helpers() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>"#;
        assert_eq!(parse_upload_id(xml).as_deref(), Some("VXBsb2FkIElE"));
        assert_eq!(parse_upload_id("<x/>"), None);
        assert_eq!(part_count(0, DEFAULT_PART_SIZE), 1);
        assert_eq!(part_count(DEFAULT_PART_SIZE, DEFAULT_PART_SIZE), 1);
        assert_eq!(part_count(DEFAULT_PART_SIZE + 1, DEFAULT_PART_SIZE), 2);
        assert_eq!(
            complete_xml(&[(1, "\"a\"".into()), (2, "\"b\"".into())]),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag></Part>\
             <Part><PartNumber>2</PartNumber><ETag>&quot;b&quot;</ETag></Part></CompleteMultipartUpload>"
        );
    }
}
