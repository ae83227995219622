//! Jobs (iconik-api.md §6.8; SPEC-J `/v1/jobs/…`). A job made by a sandbox request is
//! `STARTED` until the configured job delay has passed, then `FINISHED`; clients poll
//! `GET jobs/{job_id}/`. Own jobs can be created and patched (`JobSchema`) as B2P does.

use super::{Ctx, Reply, RouteResult, SERVER_OWNED, merge, new_id, not_routed, now, page, str_or};
use crate::sandbox::App;
use crate::sandbox::state::{Kind, State};
use serde_json::{Value, json};

/// Creates a STARTED job about an asset and returns it; it ends in `outcome` (default
/// `FINISHED`).
pub fn new_job(
    st: &mut State,
    kind: &str,
    title: &str,
    asset_id: &str,
    outcome: Option<&str>,
) -> Value {
    let created = now();
    let job = json!({
        "id": new_id(),
        "title": title,
        "type": kind,
        "status": "STARTED",
        "object_type": "assets",
        "object_id": asset_id,
        "progress": 0,
        "progress_processed": 0,
        "progress_total": 100,
        "error_message": Value::Null,
        "message": Value::Null,
        "sandbox_auto": true,
        "sandbox_outcome": outcome.unwrap_or("FINISHED"),
        "date_created": created,
        "date_modified": created,
        "started_at": created,
    });
    st.jobs.push(job.clone());
    job
}

/// Moves auto jobs to their outcome (FINISHED unless a fault said otherwise) once `delay` has
/// passed since creation.
fn advance(job: &mut Value, delay: std::time::Duration) {
    if job["sandbox_auto"] != true || job["status"] != "STARTED" {
        return;
    }
    let started = job["date_created"]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
    let Some(started) = started else { return };
    let elapsed = chrono::Utc::now().signed_duration_since(started);
    if elapsed.to_std().is_ok_and(|e| e >= delay) {
        let outcome = job["sandbox_outcome"]
            .as_str()
            .unwrap_or("FINISHED")
            .to_string();
        if outcome == "FAILED" {
            job["error_message"] = json!("Sandbox fault: job failed");
        }
        job["status"] = json!(outcome);
        job["progress"] = json!(100);
        job["progress_processed"] = json!(100);
        job["date_modified"] = json!(now());
        job["completed_at"] = json!(now());
    }
}

/// The job as iconik returns it: without the sandbox's bookkeeping (`sandbox_*` keys).
fn public(job: &Value) -> Value {
    let mut job = job.clone();
    if let Some(obj) = job.as_object_mut() {
        obj.retain(|k, _| !k.starts_with("sandbox_"));
    }
    job
}

pub fn route(app: &App, ctx: &mut Ctx, rest: &[&str]) -> RouteResult {
    let delay = app.config.job_delay;
    match (ctx.method.as_str(), rest) {
        ("GET", [id]) => {
            let mut st = app.state();
            let job = st
                .get_mut(Kind::Jobs, id)
                .ok_or_else(|| Reply::not_found("Job", id))?;
            let was_started = job["status"] == "STARTED";
            advance(job, delay);
            let job = job.clone();
            if was_started && job["status"] == "FINISHED" {
                super::keyframes::finish_transcode(&mut st, &job, &app.base_url);
            }
            Ok(Reply::ok(public(&job)))
        }
        ("GET", []) => {
            let mut st = app.state();
            st.jobs.iter_mut().for_each(|j| advance(j, delay));
            let items = st.jobs.iter().map(public).collect();
            page(ctx, items)
        }
        ("POST", []) => {
            let body = ctx.body(app, "/API/jobs/v1/jobs/", "JobSchema")?;
            let mut st = app.state();
            let mut job = body.clone();
            job["id"] = json!(new_id());
            job["status"] = str_or(&body, "status", "READY");
            job["date_created"] = json!(now());
            job["date_modified"] = json!(now());
            st.jobs.push(job.clone());
            Ok(Reply::created(job))
        }
        ("PUT", ["state"]) => {
            // iconik's Jobs page: pause, resume, abort or restart jobs (`JobsStateSchema`). An
            // abort is pending until the job's owner sees it and ends the job.
            let body = ctx.body(app, "/API/jobs/v1/jobs/state/", "JobsStateSchema")?;
            let status = match body["action"].as_str() {
                Some("ABORT") => "ABORT_PENDING",
                Some("PAUSE") => "PAUSED",
                Some("RESUME") => "STARTED",
                _ => "READY",
            };
            let mut st = app.state();
            for id in body["job_ids"].as_array().into_iter().flatten() {
                if let Some(job) = id.as_str().and_then(|id| st.get_mut(Kind::Jobs, id)) {
                    job["status"] = json!(status);
                    job["date_modified"] = json!(now());
                }
            }
            Ok(Reply::ok(json!({})))
        }
        ("PATCH" | "PUT", [id, "steps"]) => {
            // The job's steps as a whole (`JobStepsUpdateSchema`), shown with the job.
            let body = ctx.body(
                app,
                "/API/jobs/v1/jobs/{job_id}/steps/",
                "JobStepsUpdateSchema",
            )?;
            let mut st = app.state();
            let job = st
                .get_mut(Kind::Jobs, id)
                .ok_or_else(|| Reply::not_found("Job", id))?;
            let mut steps = body["steps"].clone();
            for step in steps.as_array_mut().into_iter().flatten() {
                step["date_updated"] = json!(now());
            }
            job["steps"] = steps;
            job["date_modified"] = json!(now());
            Ok(Reply::ok(public(job)))
        }
        ("PATCH" | "PUT", [id]) => {
            let body = ctx.body(app, "/API/jobs/v1/jobs/{job_id}/", "JobSchema")?;
            let mut st = app.state();
            let job = st
                .get_mut(Kind::Jobs, id)
                .ok_or_else(|| Reply::not_found("Job", id))?;
            merge(job, &body, SERVER_OWNED);
            Ok(Reply::ok(public(job)))
        }
        _ => Err(not_routed(ctx)),
    }
}
