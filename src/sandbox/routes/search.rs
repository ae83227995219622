//! Search (iconik-api.md §6.11; SPEC-S POST `/v1/search/`, `SearchCriteriaSchema`): enough to
//! find assets by filter terms (`external_id`, `title`, `id`, `status`, `type`; `value` or
//! `value_in`) and a title `query`. The sandbox has no index lag.

use super::{Ctx, RouteResult, page};
use crate::sandbox::App;
use serde_json::{Value, json};

pub fn search(app: &App, ctx: &mut Ctx) -> RouteResult {
    let body = ctx.body(app, "/API/search/v1/search/", "SearchCriteriaSchema")?;
    let wants_assets = body["doc_types"]
        .as_array()
        .is_none_or(|d| d.is_empty() || d.iter().any(|t| t == "assets"));
    if !wants_assets {
        return page(ctx, Vec::new());
    }
    let query = body["query"]
        .as_str()
        .map(|q| q.trim().trim_matches('*').to_lowercase());
    let filter = &body["filter"];
    let st = app.state();
    let items: Vec<Value> = st
        .assets
        .iter()
        .filter(|a| a["status"] != "DELETED")
        .filter(|a| {
            query.as_deref().is_none_or(|q| {
                q.is_empty()
                    || a["title"]
                        .as_str()
                        .is_some_and(|t| t.to_lowercase().contains(q))
            })
        })
        .filter(|a| matches_filter(a, filter))
        .map(|a| {
            let mut a = a.clone();
            a["object_type"] = json!("assets");
            a
        })
        .collect();
    let mut reply = page(ctx, items)?;
    if let Some(body) = reply.body.as_mut() {
        body["facets"] = json!({});
    }
    Ok(reply)
}

fn matches_filter(asset: &Value, filter: &Value) -> bool {
    if filter.is_null() {
        return true;
    }
    let or = filter["operator"]
        .as_str()
        .is_some_and(|o| o.eq_ignore_ascii_case("OR"));
    let mut results = Vec::new();
    for term in filter["terms"].as_array().into_iter().flatten() {
        let Some(name) = term["name"].as_str() else {
            continue;
        };
        let field = &asset[name];
        let ok = if let Some(v) = term.get("value").filter(|v| !v.is_null()) {
            field == v
        } else if let Some(list) = term["value_in"].as_array() {
            list.contains(field)
        } else if term["exists"] == true {
            !field.is_null()
        } else if term["missing"] == true {
            field.is_null()
        } else {
            true
        };
        results.push(ok);
    }
    for sub in filter["filters"].as_array().into_iter().flatten() {
        results.push(matches_filter(asset, sub));
    }
    if results.is_empty() {
        return true;
    }
    if or {
        results.iter().any(|r| *r)
    } else {
        results.iter().all(|r| *r)
    }
}
