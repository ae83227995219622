//! Telling people a card is done: a desktop notification when a card finishes, fails or becomes
//! safe to erase, and an optional webhook (`POST` of the card summary as JSON, e.g. to a chat
//! room's incoming hook or a production tracker). Both run on background tasks: a slow hook or
//! notification daemon never holds up the window or the next card.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The card summary a webhook receives (stable field names: receivers are built against them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardSummary {
    /// `card_finished`, so a receiver shared with other tools can tell what this is.
    pub event: String,
    /// The card folder.
    pub card: String,
    pub family: String,
    pub completed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub bytes: u64,
    pub duration_ms: u64,
    pub safe_to_erase: bool,
    pub evidence: Vec<String>,
    /// The HTML report, when written.
    pub report: Option<String>,
    /// iconik base URL (never a token).
    pub server: String,
}

impl CardSummary {
    pub fn from_report(r: &crate::ingest::report::CardReport, report: Option<String>) -> Self {
        let counts = r.counts();
        let (safe, evidence) = match &r.verdict {
            Some(v) => (v.safe_to_erase, v.lines()),
            None => (false, Vec::new()),
        };
        CardSummary {
            event: "card_finished".into(),
            card: r.card_root.to_string_lossy().into_owned(),
            family: r.card_family.clone(),
            completed: counts.complete,
            failed: counts.failed,
            skipped: counts.skipped,
            bytes: r.total_bytes(),
            duration_ms: r.duration_ms(),
            safe_to_erase: safe,
            evidence,
            report,
            server: r.server.clone(),
        }
    }

    fn card_name(&self) -> &str {
        self.card
            .rsplit(['/', '\\'])
            .find(|s| !s.is_empty())
            .unwrap_or(&self.card)
    }

    /// Title and body of the desktop notification.
    pub fn notification_text(&self) -> (String, String) {
        let name = self.card_name();
        let title = if self.failed > 0 {
            format!("{name}: {} clip(s) failed", self.failed)
        } else if self.safe_to_erase {
            format!("{name} is safe to erase")
        } else {
            format!("{name} is ingested")
        };
        let mut body = format!(
            "{} completed, {} failed, {} skipped",
            self.completed, self.failed, self.skipped
        );
        if !self.safe_to_erase
            && let Some(missing) = self.evidence.iter().find(|e| e.starts_with('✗'))
        {
            body.push_str(&format!(
                "\nNot safe to erase yet: {}",
                missing.trim_start_matches("✗ ")
            ));
        }
        (title, body)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(
        "webhook URL {url:?} is not valid: {reason}; use https://… (http only to this machine)"
    )]
    BadUrl { url: String, reason: String },
    #[error("webhook {url} did not answer: {source}")]
    Send {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("webhook {url} answered HTTP {status}: check the URL in the settings")]
    Status { url: String, status: u16 },
    #[error("desktop notification not shown: {0}")]
    Desktop(String),
}

/// Checks a webhook URL: https, or http to this machine only (the summary names paths).
pub fn check_webhook_url(url: &str) -> Result<url::Url, NotifyError> {
    let bad = |reason: &str| NotifyError::BadUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed = url::Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
    let loopback = matches!(
        parsed.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        "http" => Err(bad("plain http leaves the machine unencrypted")),
        other => Err(bad(&format!("scheme {other} is not http(s)"))),
    }
}

/// POSTs `summary` as JSON to `url` (10 s timeout, no retries: a hook is a courtesy, the report
/// is the record).
pub async fn post_webhook(url: &str, summary: &CardSummary) -> Result<(), NotifyError> {
    let target = check_webhook_url(url)?;
    let client = crate::http::client_builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|source| NotifyError::Send {
            url: url.to_owned(),
            source,
        })?;
    let resp = client
        .post(target)
        .json(summary)
        .send()
        .await
        .map_err(|source| NotifyError::Send {
            url: url.to_owned(),
            source,
        })?;
    if !resp.status().is_success() {
        return Err(NotifyError::Status {
            url: url.to_owned(),
            status: resp.status().as_u16(),
        });
    }
    Ok(())
}

/// Shows the desktop notification for `summary` (blocking: call from a blocking task).
pub fn desktop(summary: &CardSummary) -> Result<(), NotifyError> {
    let (title, body) = summary.notification_text();
    show(&title, &body)
}

/// Shows a desktop notification of the app's own (e.g. a card that started by itself;
/// blocking: call from a blocking task).
pub fn desktop_text(title: &str, body: &str) -> Result<(), NotifyError> {
    show(title, body)
}

#[cfg(not(target_os = "macos"))]
fn show(title: &str, body: &str) -> Result<(), NotifyError> {
    notify_rust::Notification::new()
        .appname("card-ingest")
        .summary(title)
        .body(body)
        .icon("card-ingest")
        .show()
        .map(|_| ())
        .map_err(|e| NotifyError::Desktop(e.to_string()))
}

#[cfg(target_os = "macos")]
fn show(title: &str, body: &str) -> Result<(), NotifyError> {
    // AppleScript string literals: backslash and quote escaped.
    let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let script = format!(
        "display notification \"{}\" with title \"{}\"",
        q(body),
        q(title)
    );
    let st = std::process::Command::new("osascript")
        .args(["-e", &script])
        .status()
        .map_err(|e| NotifyError::Desktop(e.to_string()))?;
    st.success()
        .then_some(())
        .ok_or_else(|| NotifyError::Desktop(format!("osascript exited with {st}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(failed: usize, safe: bool) -> CardSummary {
        CardSummary {
            event: "card_finished".into(),
            card: "/media/NO NAME/".into(),
            family: "p2".into(),
            completed: 3,
            failed,
            skipped: 0,
            bytes: 10,
            duration_ms: 5,
            safe_to_erase: safe,
            evidence: vec![
                "✓ 3 of 3 clips complete in iconik".into(),
                "✗ copy /mnt/shuttle/NO NAME: checked by size only, not read back (4 files)".into(),
            ],
            report: None,
            server: "https://app.iconik.io".into(),
        }
    }

    #[test]
    fn notification_says_what_happened_and_what_is_missing() {
        assert_eq!(
            summary(0, true).notification_text().0,
            "NO NAME is safe to erase"
        );
        assert_eq!(
            summary(2, false).notification_text().0,
            "NO NAME: 2 clip(s) failed"
        );
        let (title, body) = summary(0, false).notification_text();
        assert_eq!(title, "NO NAME is ingested");
        assert_eq!(
            body,
            "3 completed, 0 failed, 0 skipped\nNot safe to erase yet: copy /mnt/shuttle/NO NAME: checked by size only, not read back (4 files)"
        );
    }

    #[test]
    fn webhook_urls_must_be_https_or_loopback() {
        assert!(check_webhook_url("https://hooks.example.com/x").is_ok());
        assert!(check_webhook_url("http://127.0.0.1:9/x").is_ok());
        assert!(check_webhook_url("http://localhost/x").is_ok());
        let e = check_webhook_url("http://hooks.example.com/x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("plain http"), "{e}");
        assert!(check_webhook_url("ftp://x/y").is_err());
        assert!(check_webhook_url("not a url").is_err());
    }
}
