//! Azure block blob upload to a SAS `upload_url` (iconik-api.md §8.2, MIG): one `PUT` with
//! `x-ms-blob-type: BlockBlob` for small files; Put Block (`comp=block&blockid=…`) per block and
//! Put Block List (`comp=blocklist`) for large ones.

use super::{
    ProgressFn, UploadError, UploadHttp, UploadProgress, body_text, file_body, file_range,
    file_size,
};
use crate::iconik::observer::RequestBody;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use std::path::Path;
use tracing::instrument;

/// Files above this use blocks.
pub const DEFAULT_BLOCK_THRESHOLD: u64 = 64 * 1024 * 1024;
/// Block size.
pub const DEFAULT_BLOCK_SIZE: u64 = 8 * 1024 * 1024;

/// Single Put Blob.
#[instrument(skip_all, fields(path = %path.display()))]
pub async fn put_blob(
    http: &UploadHttp,
    sas_url: &str,
    path: &Path,
    progress: Option<ProgressFn>,
) -> Result<Option<String>, UploadError> {
    let request = http.http.put(sas_url).header("x-ms-blob-type", "BlockBlob");
    super::put_whole_file(http, request, path, "Azure Put Blob", progress).await
}

/// Block id of block `n`: base64 of a fixed-width label (Azure wants equal-length ids).
pub fn block_id(n: u32) -> String {
    base64(format!("block-{n:08}").as_bytes())
}

/// `url` with `comp=…` parameters appended to the SAS query.
pub fn with_params(url: &str, params: &[(&str, &str)]) -> Result<String, UploadError> {
    let mut u = url::Url::parse(url).map_err(|e| UploadError::Protocol {
        step: "Azure URL",
        detail: format!("upload_url is not a URL: {e}"),
    })?;
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    Ok(u.to_string())
}

/// The Put Block List body.
pub fn block_list_xml(ids: &[String]) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    for id in ids {
        s.push_str(&format!("<Latest>{id}</Latest>"));
    }
    s.push_str("</BlockList>");
    s
}

/// Put Block for each block, then Put Block List.
#[instrument(skip_all, fields(path = %path.display()))]
pub async fn put_blocks(
    http: &UploadHttp,
    sas_url: &str,
    path: &Path,
    block_size: u64,
    progress: Option<ProgressFn>,
) -> Result<(), UploadError> {
    if block_size == 0 {
        return Err(UploadError::Config("Azure block size must be > 0".into()));
    }
    let total = file_size(path).await?;
    let mut ids = Vec::new();
    let mut offset = 0u64;
    let mut n = 0u32;
    while offset < total {
        http.unpaused().await;
        let len = block_size.min(total - offset);
        let id = block_id(n);
        let url = with_params(sas_url, &[("comp", "block"), ("blockid", &id)])?;
        let resp = http
            .send(
                http.http
                    .put(&url)
                    .header(CONTENT_LENGTH, len.to_string())
                    .timeout(http.request_timeout)
                    .body(file_body(http, path, offset, len).await?),
                file_range(path, offset, len),
            )
            .await
            .map_err(|e| UploadError::transport("Azure Put Block", e))?;
        if !resp.status().is_success() {
            return Err(UploadError::Rejected {
                step: "Azure Put Block",
                status: resp.status().as_u16(),
                body: body_text(resp).await,
            });
        }
        ids.push(id);
        offset += len;
        n += 1;
        if let Some(p) = &progress {
            p(UploadProgress {
                confirmed: offset,
                total,
            });
        }
    }
    let url = with_params(sas_url, &[("comp", "blocklist")])?;
    let resp = http
        .send(
            http.http
                .put(&url)
                .header(CONTENT_TYPE, "application/xml")
                .header("x-ms-blob-content-type", "application/octet-stream")
                .timeout(http.request_timeout)
                .body(block_list_xml(&ids)),
            Some(RequestBody::Text(block_list_xml(&ids))),
        )
        .await
        .map_err(|e| UploadError::transport("Azure Put Block List", e))?;
    if !resp.status().is_success() {
        return Err(UploadError::Rejected {
            step: "Azure Put Block List",
            status: resp.status().as_u16(),
            body: body_text(resp).await,
        });
    }
    Ok(())
}

/// Standard base64 with padding (block ids only; no dependency needed for that).
fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_ids_and_list() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(block_id(0), "YmxvY2stMDAwMDAwMDA=");
        assert_eq!(block_id(7).len(), block_id(12345).len());
        assert_eq!(
            with_params(
                "https://a.blob.core.windows.net/c/b?sv=1&sig=x",
                &[("comp", "block"), ("blockid", "YQ==")]
            )
            .unwrap(),
            "https://a.blob.core.windows.net/c/b?sv=1&sig=x&comp=block&blockid=YQ%3D%3D"
        );
        assert_eq!(
            block_list_xml(&["YQ==".into()]),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>YQ==</Latest></BlockList>"
        );
    }
}
