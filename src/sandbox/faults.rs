//! Fault injection rules (`--faults FILE`, `POST /sandbox/faults`), gcs-resumable.md §3.
//!
//! Actions: `status` (answer with it, iconik's error body), `drop_response_after_commit` (run
//! the route, then close the connection unanswered), `reset_after_bytes` (uploads: keep N bytes
//! of the chunk, then kill the connection — with `status`, answer that instead), `job_status`
//! (jobs made by the request end in it, e.g. `FAILED`), and `delay_ms`.
//!
//! A rule matches by method (`*` = any) and a glob over the request path; the path is tried with
//! and without its trailing slash so `/API/assets/v1/assets/` also matches a request to
//! `/API/assets/v1/assets`. `times` counts matching requests (absent = always). Every matching
//! rule's `delay_ms` applies; the first matching rule with an action (status, drop, reset)
//! decides the action and only then spends one of its `times`.

use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    #[error("cannot read faults file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("faults file {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("fault rule {index}: bad path glob {glob:?}: {message}")]
    Glob {
        index: usize,
        glob: String,
        message: String,
    },
}

/// One rule as written in the JSON file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FaultRule {
    #[serde(default = "any")]
    pub method: String,
    #[serde(default = "any")]
    pub path: String,
    /// Answer with this status and iconik's error body instead of running the route (with
    /// `reset_after_bytes` on uploads: persist N bytes, then answer this status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Run the route (the object is created), then close the connection without answering.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop_response_after_commit: bool,
    /// Uploads: persist the first N bytes of the chunk, then kill the connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_after_bytes: Option<u64>,
    /// Jobs created by the matching request end in this status instead of `FINISHED`
    /// (e.g. `FAILED`, iconik-api.md §12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// How many matching requests this rule affects; absent = always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
}

fn any() -> String {
    "*".to_string()
}

/// The file/endpoint shape: `{"rules": [...]}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FaultSet {
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

impl FaultSet {
    pub fn from_file(path: &Path) -> Result<FaultSet, FaultError> {
        let text = std::fs::read_to_string(path).map_err(|source| FaultError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| FaultError::Parse {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// What a request gets from the active rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultAction {
    pub delay_ms: u64,
    pub status: Option<u16>,
    pub drop_response_after_commit: bool,
    pub reset_after_bytes: Option<u64>,
    pub job_status: Option<String>,
    /// Index of the rule that decided the action (for the request log).
    pub rule: Option<usize>,
}

struct Active {
    rule: FaultRule,
    matcher: GlobMatcher,
    remaining: Option<u64>,
}

/// The live rules with their remaining counts.
#[derive(Default)]
pub struct Faults {
    active: Vec<Active>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("rules", &self.active.len())
            .finish()
    }
}

impl Faults {
    /// Replaces all rules (compiling each glob).
    pub fn set(&mut self, set: FaultSet) -> Result<(), FaultError> {
        let mut active = Vec::with_capacity(set.rules.len());
        for (index, rule) in set.rules.into_iter().enumerate() {
            // `*` crosses `/` (globset's default) so `/upload/*` covers every session path.
            let matcher = Glob::new(&rule.path)
                .map_err(|e| FaultError::Glob {
                    index,
                    glob: rule.path.clone(),
                    message: e.to_string(),
                })?
                .compile_matcher();
            active.push(Active {
                remaining: rule.times,
                rule,
                matcher,
            });
        }
        self.active = active;
        Ok(())
    }

    /// The rules as JSON with a `remaining` count each (`GET /sandbox/faults`).
    pub fn describe(&self) -> serde_json::Value {
        let rules: Vec<serde_json::Value> = self
            .active
            .iter()
            .map(|a| {
                let mut v = serde_json::to_value(&a.rule).unwrap_or_default();
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("remaining".into(), serde_json::json!(a.remaining));
                }
                v
            })
            .collect();
        serde_json::json!({ "rules": rules })
    }

    /// Matches one request and spends the rules it uses.
    pub fn take(&mut self, method: &str, path: &str) -> FaultAction {
        let alt = if let Some(stripped) = path.strip_suffix('/') {
            stripped.to_string()
        } else {
            format!("{path}/")
        };
        let mut action = FaultAction::default();
        for (index, a) in self.active.iter_mut().enumerate() {
            if a.remaining == Some(0) {
                continue;
            }
            let method_ok = a.rule.method == "*" || a.rule.method.eq_ignore_ascii_case(method);
            if !method_ok || !(a.matcher.is_match(path) || a.matcher.is_match(&alt)) {
                continue;
            }
            let has_action = a.rule.status.is_some()
                || a.rule.job_status.is_some()
                || a.rule.drop_response_after_commit
                || a.rule.reset_after_bytes.is_some();
            if has_action && action.rule.is_some() {
                continue;
            }
            if let Some(n) = a.remaining.as_mut() {
                *n -= 1;
            }
            action.delay_ms += a.rule.delay_ms.unwrap_or(0);
            if has_action {
                action.rule = Some(index);
                action.status = a.rule.status;
                action.drop_response_after_commit = a.rule.drop_response_after_commit;
                action.reset_after_bytes = a.rule.reset_after_bytes;
                action.job_status = a.rule.job_status.clone();
            }
        }
        action
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(json: &str) -> Faults {
        let mut f = Faults::default();
        f.set(serde_json::from_str(json).unwrap()).unwrap();
        f
    }

    #[test]
    fn status_rule_counts_down_and_matches_without_slash() {
        let mut f = faults(
            r#"{"rules":[{"method":"POST","path":"/API/files/v1/assets/*/file_sets/","status":503,"times":2}]}"#,
        );
        assert_eq!(
            f.take("POST", "/API/files/v1/assets/a/file_sets").status,
            Some(503)
        );
        assert_eq!(
            f.take("POST", "/API/files/v1/assets/a/file_sets/").status,
            Some(503)
        );
        assert_eq!(
            f.take("POST", "/API/files/v1/assets/a/file_sets/").status,
            None
        );
        assert_eq!(
            f.take("GET", "/API/files/v1/assets/a/file_sets/").status,
            None
        );
        assert_eq!(f.describe()["rules"][0]["remaining"], 0);
    }

    #[test]
    fn delay_rules_add_up_and_do_not_block_actions() {
        let mut f = faults(
            r#"{"rules":[{"method":"*","path":"*","delay_ms":50},{"method":"PUT","path":"/upload/*","reset_after_bytes":10,"times":1}]}"#,
        );
        let a = f.take("PUT", "/upload/b/o");
        assert_eq!(
            (a.delay_ms, a.reset_after_bytes, a.rule),
            (50, Some(10), Some(1))
        );
        let b = f.take("PUT", "/upload/b/o");
        assert_eq!((b.delay_ms, b.reset_after_bytes), (50, None));
    }
}
