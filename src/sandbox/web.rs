//! `/sandbox/` in a browser: a small read-only web view of what was registered, so an operator
//! trying the flow offline (or a test) can look at an asset as iconik would show it: poster,
//! title, metadata, the ORIGINAL format's components, file sets, files (path, size, checksum),
//! the proxy playing in an HTML5 `<video>` and the keyframe strip.
//!
//! Pages are rendered on the server from the inspected state (`State::inspect`), with no
//! script but one line that records the video's duration on the element (`data-duration`) once
//! its metadata has loaded: a headless browser's DOM dump then shows that the proxy really plays.
//! Every value from the state is HTML-escaped: titles and file names come from camera cards.

use serde_json::Value;
use std::fmt::Write as _;

pub use crate::ingest::report::escape_html as esc;

/// A JSON value as display text: strings bare, null as empty, the rest as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Percent-encodes one path segment (object keys carry file names).
fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn of_asset<'a>(state: &'a Value, kind: &str, asset_id: &str) -> Vec<&'a Value> {
    state[kind]
        .as_array()
        .map(|all| all.iter().filter(|o| o["asset_id"] == asset_id).collect())
        .unwrap_or_default()
}

/// URL of a record's uploaded bytes (proxies, custom keyframes), when the upload is complete.
fn object_url(record: &Value) -> Option<String> {
    let obj = &record["sandbox_object"];
    (obj["complete"] == true).then(|| {
        let key = obj["key"].as_str().unwrap_or_default();
        let path: Vec<String> = key.split('/').map(seg).collect();
        format!("/sandbox/objects/{}", path.join("/"))
    })
}

/// The picture a keyframe record shows: its own upload, else the image the sandbox renders
/// from the proxy (`/sandbox/keyframes/<id>.jpg`).
fn keyframe_url(kf: &Value) -> String {
    object_url(kf).unwrap_or_else(|| {
        format!(
            "/sandbox/keyframes/{}.jpg",
            seg(kf["id"].as_str().unwrap_or_default())
        )
    })
}

fn poster_of<'a>(state: &'a Value, asset_id: &str) -> Option<&'a Value> {
    let kfs = of_asset(state, "keyframes", asset_id);
    kfs.iter()
        .find(|k| k["type"] == "POSTER")
        .or_else(|| kfs.iter().find(|k| k["is_custom_keyframe"] == true))
        .copied()
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><header><a href=\"/sandbox/\">card-ingest sandbox</a> \
         <span class=\"note\">read-only view of what was registered</span></header>\
         <main>{body}</main></body></html>\n",
        title = esc(title)
    )
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}\
header{background:#1d2330;color:#fff;padding:10px 18px}header a{color:#fff;font-weight:600;text-decoration:none}\
.note{opacity:.7;margin-left:12px}main{padding:18px}\
table{border-collapse:collapse;background:#fff;margin:6px 0 18px}td,th{border:1px solid #d8dbe2;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#eceef2}.grid{display:flex;flex-wrap:wrap;gap:14px}\
.card{background:#fff;border:1px solid #d8dbe2;border-radius:6px;width:240px;overflow:hidden}\
.card img,.card .noposter{width:240px;height:135px;object-fit:cover;background:#2b3140;display:block}\
.card div.t{padding:6px 8px}.card a{color:inherit;text-decoration:none}\
.mono{font-family:ui-monospace,monospace;font-size:12px}\
.strip img{max-width:100%;max-height:120px;margin:0 4px 4px 0;vertical-align:top}\
video{max-width:720px;width:100%;background:#000}h2{margin-top:22px}";

/// `/sandbox/`: every asset, newest first, with its poster.
pub fn index_page(state: &Value) -> String {
    let mut assets: Vec<&Value> = state["assets"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    assets.reverse();
    let mut body = format!("<h1>Assets ({})</h1>", assets.len());
    if assets.is_empty() {
        body.push_str(
            "<p>Nothing registered yet: ingest a card into this sandbox \
             (<span class=\"mono\">card-ingest demo</span>).</p>",
        );
    }
    body.push_str("<div class=\"grid\">");
    for a in assets {
        let id = a["id"].as_str().unwrap_or_default();
        let files = of_asset(state, "files", id).len();
        let proxies = of_asset(state, "proxies", id).len();
        let picture = match poster_of(state, id) {
            Some(kf) => format!("<img src=\"{}\" alt=\"poster\">", esc(&keyframe_url(kf))),
            None => "<div class=\"noposter\"></div>".to_owned(),
        };
        let _ = write!(
            body,
            "<div class=\"card asset\" data-asset-id=\"{id_e}\"><a href=\"/sandbox/assets/{id_s}\">{picture}\
             <div class=\"t\"><b>{title}</b><br><span class=\"note\">{files} file(s), {proxies} proxy(ies)</span></div></a></div>",
            id_e = esc(id),
            id_s = seg(id),
            title = esc(&text(&a["title"])),
        );
    }
    body.push_str("</div>");
    jobs_section(state, &mut body);
    storages_section(state, &mut body);
    scans_section(state, None, &mut body);
    page("card-ingest sandbox", &body)
}

/// The jobs clients made (`POST jobs/`, e.g. a card ingest), each with its children, as
/// iconik's Jobs page shows them; the sandbox's own transcode jobs are left out.
fn jobs_section(state: &Value, body: &mut String) {
    let jobs: Vec<&Value> = state["jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|j| j["type"] == "CUSTOM")
        .collect();
    let parents: Vec<&&Value> = jobs.iter().filter(|j| j["parent_id"].is_null()).collect();
    let _ = write!(body, "<h2>Jobs ({})</h2>", parents.len());
    body.push_str("<table class=\"jobs\"><tr><th>job</th><th>status</th><th>progress</th><th>message</th></tr>");
    let row = |body: &mut String, j: &Value, class: &str| {
        let _ = write!(
            body,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}/{}</td><td>{}</td></tr>",
            esc(&text(&j["title"])),
            esc(&text(&j["status"])),
            esc(&text(&j["progress_processed"])),
            esc(&text(&j["progress_total"])),
            esc(&text(&j["message"])),
        );
    };
    for p in parents {
        row(body, p, "job");
        for c in jobs.iter().filter(|c| c["parent_id"] == p["id"]) {
            row(body, c, "job child");
        }
    }
    body.push_str("</table>");
}

/// The FILES storages with the settings that decide what happens around registered records.
fn storages_section(state: &Value, body: &mut String) {
    body.push_str("<h2>FILES storages</h2><table class=\"storages\"><tr><th>storage</th><th>scan</th><th>scan folders</th><th>aggregate identical files</th><th>access outside scan folders</th><th>ACL template</th><th>access group</th></tr>");
    for s in state["storages"].as_array().into_iter().flatten() {
        if s["purpose"] != "FILES" {
            continue;
        }
        let st = &s["settings"];
        let _ = write!(
            body,
            "<tr class=\"storage\"><td>{}<br><span class=\"note\">{}</span></td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
            esc(&text(&s["name"])),
            esc(&text(&s["description"])),
            esc(&text(&st["scan"])),
            esc(&text(&st["scan_directories"])),
            esc(&text(&st["aggregate_identical_files"])),
            esc(&text(&st["allow_access_outside_scan_directories"])),
            esc(&text(&st["acl_template_id"])),
            esc(&text(&st["access_group_id"])),
        );
    }
    body.push_str("</table>");
}

/// What simulated gateway scans (`POST /sandbox/isg/scan`) did, all or for one asset.
fn scans_section(state: &Value, asset: Option<&str>, body: &mut String) {
    let scans: Vec<&Value> = state["isg_scans"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| asset.is_none_or(|a| o["registered_asset_id"] == a || o["asset_id"] == a))
        .collect();
    let _ = write!(body, "<h2>Storage gateway scans ({})</h2>", scans.len());
    if scans.is_empty() {
        body.push_str(
            "<p class=\"note\">No scan has run: <span class=\"mono\">POST /sandbox/isg/scan</span> \
             runs one over every FILE storage with scan on.</p>",
        );
        return;
    }
    body.push_str(
        "<table class=\"scans\"><tr><th>file</th><th>outcome</th><th>asset</th><th>why</th></tr>",
    );
    for o in scans {
        let asset_id = text(&o["asset_id"]);
        let _ = write!(
            body,
            "<tr class=\"scan {outcome}\"><td class=\"mono\">{dir}/{name}</td><td>{outcome}</td><td><a href=\"/sandbox/assets/{seg}\">{asset}</a></td><td>{detail}</td></tr>",
            outcome = esc(&text(&o["outcome"])),
            dir = esc(&text(&o["directory_path"])),
            name = esc(&text(&o["name"])),
            seg = seg(&asset_id),
            asset = esc(&asset_id),
            detail = esc(&text(&o["detail"])),
        );
    }
    body.push_str("</table>");
}

/// Which groups may see the asset (ACL templates and access groups applied to it).
fn access_section(state: &Value, id: &str, body: &mut String) {
    let acls: Vec<&Value> = state["acls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["object_type"] == "assets" && a["object_key"] == id)
        .collect();
    body.push_str("<h2>Access</h2>");
    if acls.is_empty() {
        body.push_str("<p class=\"note acl-none\">Default ACLs only: no group permissions were set on this asset.</p>");
        return;
    }
    body.push_str(
        "<table class=\"acls\"><tr><th>group</th><th>permissions</th><th>set by</th></tr>",
    );
    for a in acls {
        let gid = text(&a["group_id"]);
        let group = state["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|g| g["id"] == gid.as_str())
            .map(|g| text(&g["name"]))
            .unwrap_or_else(|| gid.clone());
        let perms: Vec<String> = a["permissions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect();
        let _ = write!(
            body,
            "<tr class=\"acl\"><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
            esc(&group),
            esc(&perms.join(", ")),
            esc(&text(&a["via"]))
        );
    }
    body.push_str("</table>");
}

/// `/sandbox/assets/<id>` as HTML, or `None` when the sandbox has no such asset.
pub fn asset_page(state: &Value, id: &str) -> Option<String> {
    let asset = state["assets"].as_array()?.iter().find(|a| a["id"] == id)?;
    let title = text(&asset["title"]);
    let mut body = format!(
        "<h1>{}</h1><p class=\"mono\">asset {} · external id {}</p>",
        esc(&title),
        esc(id),
        esc(&text(&asset["external_id"]))
    );

    // The proxy first: it is what a producer opens the asset for.
    let proxies = of_asset(state, "proxies", id);
    body.push_str("<h2>Proxy</h2>");
    match proxies.iter().find_map(|p| object_url(p).map(|u| (p, u))) {
        Some((p, url)) => {
            let poster = poster_of(state, id)
                .map(|kf| format!(" poster=\"{}\"", esc(&keyframe_url(kf))))
                .unwrap_or_default();
            let res = &p["resolution"];
            let res = match (res["width"].as_u64(), res["height"].as_u64()) {
                (Some(w), Some(h)) => format!("{w}×{h}"),
                _ => text(res),
            };
            let _ = write!(
                body,
                "<video id=\"proxy\" controls preload=\"metadata\" src=\"{url}\"{poster} \
                 onloadedmetadata=\"this.dataset.duration=this.duration.toFixed(3)\"></video>\
                 <p class=\"mono\">{name} · {codec} · {res} · {status}</p>",
                url = esc(&url),
                name = esc(&text(&p["name"])),
                codec = esc(&text(&p["codec"])),
                res = esc(&res),
                status = esc(&text(&p["status"])),
            );
        }
        None if proxies.is_empty() => body.push_str("<p>No proxy registered.</p>"),
        None => body.push_str("<p>A proxy record exists but none of its bytes were uploaded.</p>"),
    }

    let keyframes = of_asset(state, "keyframes", id);
    body.push_str("<h2>Keyframes</h2>");
    if keyframes.is_empty() {
        body.push_str("<p>No keyframes.</p>");
    } else {
        body.push_str("<div class=\"strip\">");
        for kf in &keyframes {
            let _ = write!(
                body,
                "<img src=\"{}\" alt=\"{}\" title=\"{}\">",
                esc(&keyframe_url(kf)),
                esc(&text(&kf["type"])),
                esc(&text(&kf["name"]))
            );
        }
        body.push_str("</div>");
    }

    body.push_str("<h2>Metadata</h2>");
    let values: Vec<&Value> = state["metadata_values"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|v| v["object_type"] == "assets" && v["object_id"] == id)
                .collect()
        })
        .unwrap_or_default();
    let mut rows = String::new();
    for view in values {
        if let Some(fields) = view["metadata_values"].as_object() {
            for (name, field) in fields {
                let shown: Vec<String> = field["field_values"]
                    .as_array()
                    .map(|vs| vs.iter().map(|v| text(&v["value"])).collect())
                    .unwrap_or_default();
                let _ = write!(
                    rows,
                    "<tr><td>{}</td><td>{}</td></tr>",
                    esc(name),
                    esc(&shown.join(", "))
                );
            }
        }
    }
    if rows.is_empty() {
        body.push_str("<p>No metadata values.</p>");
    } else {
        let _ = write!(
            body,
            "<table><tr><th>field</th><th>value</th></tr>{rows}</table>"
        );
    }

    body.push_str("<h2>Formats</h2>");
    for f in of_asset(state, "formats", id) {
        let _ = write!(
            body,
            "<h3>{} <span class=\"note mono\">{}</span></h3>",
            esc(&text(&f["name"])),
            esc(&text(&f["id"]))
        );
        let comps = f["components"].as_array().cloned().unwrap_or_default();
        if !comps.is_empty() {
            body.push_str("<table><tr><th>component</th><th>type</th><th>details</th></tr>");
            for c in comps {
                // Components carry MediaInfo's fields, lower-cased, in `metadata`.
                let mut details = String::new();
                for key in [
                    "format",
                    "width",
                    "height",
                    "framerate",
                    "channels",
                    "samplingrate",
                    "timecode_firstframe",
                ] {
                    let v = &c["metadata"][key];
                    if !v.is_null() {
                        let _ = write!(details, "{key}: {} ", text(v));
                    }
                }
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
                    esc(&text(&c["name"])),
                    esc(&text(&c["type"])),
                    esc(details.trim_end())
                );
            }
            body.push_str("</table>");
        }
    }

    // Per format, its file sets by storage: the same originals (or edit proxies) on several
    // storages show as one line per storage.
    body.push_str("<h2>File sets</h2>");
    let storage_label = |sid: &Value| {
        state["storages"]
            .as_array()
            .and_then(|all| all.iter().find(|st| st["id"] == *sid))
            .map_or_else(
                || text(sid),
                |st| format!("{} ({})", text(&st["name"]), text(&st["method"])),
            )
    };
    let sets = of_asset(state, "file_sets", id);
    let files_of = |fs: &Value| {
        of_asset(state, "files", id)
            .into_iter()
            .filter(|f| f["file_set_id"] == fs["id"])
            .count()
    };
    for f in of_asset(state, "formats", id) {
        let mine: Vec<&&Value> = sets
            .iter()
            .filter(|fs| fs["format_id"] == f["id"])
            .collect();
        let _ = write!(
            body,
            "<h3 class=\"format-sets\">{} <span class=\"note\">{} file set(s)</span></h3><ul>",
            esc(&text(&f["name"])),
            mine.len()
        );
        for fs in mine {
            let _ = write!(
                body,
                "<li class=\"file-set\"><b>{}</b> on {} <span class=\"mono\">base_dir {} · {} component(s) · {} file(s)</span></li>",
                esc(&text(&fs["name"])),
                esc(&storage_label(&fs["storage_id"])),
                esc(&text(&fs["base_dir"])),
                fs["component_ids"].as_array().map_or(0, Vec::len),
                files_of(fs)
            );
        }
        body.push_str("</ul>");
    }

    // Markers: segments of type MARKER at their time on the clip.
    let mut markers: Vec<&Value> = of_asset(state, "segments", id)
        .into_iter()
        .filter(|m| m["segment_type"] == "MARKER")
        .collect();
    markers.sort_by_key(|m| m["time_start_milliseconds"].as_i64());
    let _ = write!(body, "<h2>Markers ({})</h2>", markers.len());
    if !markers.is_empty() {
        body.push_str("<table><tr><th>time (ms)</th><th>text</th></tr>");
        for m in markers {
            let _ = write!(
                body,
                "<tr class=\"marker\"><td class=\"mono\">{}</td><td>{}</td></tr>",
                esc(&text(&m["time_start_milliseconds"])),
                esc(&text(&m["segment_text"]))
            );
        }
        body.push_str("</table>");
    }

    let files = of_asset(state, "files", id);
    let _ = write!(body, "<h2>Files ({})</h2>", files.len());
    if !files.is_empty() {
        body.push_str(
            "<table class=\"files\"><tr><th>path</th><th>size</th><th>checksum (MD5)</th><th>status</th></tr>",
        );
        for f in files {
            let dir = text(&f["directory_path"]);
            let name = text(&f["name"]);
            let path = if dir.is_empty() {
                name
            } else {
                format!("{}/{name}", dir.trim_end_matches('/'))
            };
            let _ = write!(
                body,
                "<tr class=\"file\"><td class=\"mono\">{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
                esc(&path),
                esc(&text(&f["size"])),
                esc(&text(&f["checksum"])),
                esc(&text(&f["status"]))
            );
        }
        body.push_str("</table>");
    }
    access_section(state, id, &mut body);
    scans_section(state, Some(id), &mut body);
    Some(page(&title, &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state() -> Value {
        json!({
            "assets": [{"id": "a1", "title": "A001<script>", "external_id": "x1"}],
            "files": [{"id": "f1", "asset_id": "a1", "directory_path": "cards/P2", "name": "0001AB.MXF",
                       "size": 1234, "checksum": "d41d8cd98f00b204e9800998ecf8427e", "status": "CLOSED"}],
            "proxies": [{"id": "p1", "asset_id": "a1", "name": "p.mp4", "status": "CLOSED",
                         "sandbox_object": {"key": "bucket/p1/p.mp4", "complete": true}}],
            "keyframes": [{"id": "k1", "asset_id": "a1", "type": "POSTER", "name": "poster.jpg"}],
            "formats": [], "file_sets": [],
            "metadata_values": [{"object_type": "assets", "object_id": "a1", "view_id": "v",
                "metadata_values": {"scene": {"field_values": [{"value": "12 & 13"}]}}}],
        })
    }

    #[test]
    fn asset_page_escapes_and_links_the_proxy_bytes() {
        let html = asset_page(&state(), "a1").unwrap();
        assert!(html.contains("<h1>A001&lt;script&gt;</h1>"), "{html}");
        assert!(!html.contains("A001<script>"));
        assert!(html.contains("src=\"/sandbox/objects/bucket/p1/p.mp4\""));
        assert!(html.contains("<td class=\"mono\">cards/P2/0001AB.MXF</td><td>1234</td>"));
        assert!(html.contains("d41d8cd98f00b204e9800998ecf8427e"));
        assert!(html.contains("<td>scene</td><td>12 &amp; 13</td>"));
        assert!(html.contains("src=\"/sandbox/keyframes/k1.jpg\""));
        assert!(asset_page(&state(), "nope").is_none());
    }

    #[test]
    fn each_format_lists_its_file_sets_by_storage_and_the_markers_show() {
        let mut st = state();
        st["storages"] = json!([
            {"id": "s1", "name": "Sandbox originals", "method": "FILE"},
            {"id": "s2", "name": "Sandbox S3", "method": "S3"}
        ]);
        st["formats"] = json!([
            {"id": "o", "asset_id": "a1", "name": "ORIGINAL"},
            {"id": "e", "asset_id": "a1", "name": "PPRO_PROXY"}
        ]);
        st["file_sets"] = json!([
            {"id": "fs1", "asset_id": "a1", "format_id": "o", "storage_id": "s1", "name": "0001AB.MXF", "component_ids": ["c"]},
            {"id": "fs2", "asset_id": "a1", "format_id": "e", "storage_id": "s1", "name": "0001AB_Proxy.mov", "component_ids": []},
            {"id": "fs3", "asset_id": "a1", "format_id": "e", "storage_id": "s2", "name": "0001AB_Proxy.mov", "component_ids": []}
        ]);
        st["files"][0]["file_set_id"] = json!("fs1");
        st["segments"] = json!([
            {"asset_id": "a1", "segment_type": "MARKER", "time_start_milliseconds": 1200, "segment_text": "HiLight"}
        ]);
        let html = asset_page(&st, "a1").unwrap();
        assert!(
            html.contains("PPRO_PROXY <span class=\"note\">2 file set(s)</span>"),
            "{html}"
        );
        assert!(
            html.contains("ORIGINAL <span class=\"note\">1 file set(s)</span>"),
            "{html}"
        );
        assert!(
            html.contains("<b>0001AB_Proxy.mov</b> on Sandbox S3 (S3)"),
            "{html}"
        );
        assert!(
            html.contains("<b>0001AB.MXF</b> on Sandbox originals (FILE)"),
            "{html}"
        );
        assert!(html.contains("1 component(s) · 1 file(s)"), "{html}");
        assert!(html.contains("<h2>Markers (1)</h2>"));
        assert!(html.contains("<td class=\"mono\">1200</td><td>HiLight</td>"));
    }

    #[test]
    fn index_lists_assets_with_posters() {
        let html = index_page(&state());
        assert!(html.contains("<h1>Assets (1)</h1>"));
        assert!(html.contains("href=\"/sandbox/assets/a1\""));
        assert!(html.contains("<img src=\"/sandbox/keyframes/k1.jpg\""));
    }

    #[test]
    fn index_lists_custom_jobs_with_their_children() {
        let mut s = state();
        s["jobs"] = json!([
            {"id": "j1", "type": "CUSTOM", "title": "Ingest of card A<1>", "status": "STARTED",
             "progress_processed": 1, "progress_total": 2, "parent_id": null},
            {"id": "j2", "type": "CUSTOM", "title": "clip 1", "status": "FINISHED", "parent_id": "j1"},
            {"id": "k", "type": "KEYFRAMES", "title": "keyframes", "status": "FINISHED"},
        ]);
        let html = index_page(&s);
        assert!(html.contains("<h2>Jobs (1)</h2>"), "{html}");
        assert!(html.contains(
            "<tr class=\"job\"><td>Ingest of card A&lt;1&gt;</td><td>STARTED</td><td>1/2</td>"
        ));
        assert!(html.contains("<tr class=\"job child\"><td>clip 1</td><td>FINISHED</td>"));
        assert!(!html.contains("<td>keyframes</td>"), "not a client job");
    }

    #[test]
    fn an_incomplete_upload_is_not_offered_for_playback() {
        let mut s = state();
        s["proxies"][0]["sandbox_object"]["complete"] = json!(false);
        let html = asset_page(&s, "a1").unwrap();
        assert!(!html.contains("<video"));
        assert!(html.contains("none of its bytes were uploaded"));
    }
}
