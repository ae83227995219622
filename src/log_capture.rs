//! Captures `tracing` events (for the window's log panel; installed by the binary for every
//! subcommand, so it lives outside `ui`) of the library (scan, media, iconik, sandbox, secrets, ...) for the
//! log panel: a [`LogLayer`] installed next to the stderr logger pushes each event into a
//! bounded [`LogBuffer`], which the app drains once per frame.
//!
//! Events of `card_ingest::ui` itself are left out: the app already adds its own lines to the
//! panel (and logs them), so they would show twice.

/// One line in the window's log panel.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub level: tracing::Level,
    pub text: String,
}
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tracing_subscriber::layer::Context;

/// Lines kept before the oldest are dropped (the panel shows the newest).
const CAPACITY: usize = 5_000;

/// Shared buffer between the layer (any thread) and the app (UI thread).
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<VecDeque<LogLine>>>);

impl LogBuffer {
    pub fn new() -> LogBuffer {
        LogBuffer::default()
    }

    fn push(&self, line: LogLine) {
        let mut q = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if q.len() == CAPACITY {
            q.pop_front();
        }
        q.push_back(line);
    }

    /// Takes every line captured since the last call.
    pub fn drain(&self) -> Vec<LogLine> {
        let mut q = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        q.drain(..).collect()
    }

    /// The layer to add to the subscriber.
    pub fn layer(&self) -> LogLayer {
        LogLayer {
            buffer: self.clone(),
        }
    }
}

impl std::fmt::Debug for LogBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogBuffer")
    }
}

/// The `tracing_subscriber` layer feeding a [`LogBuffer`].
pub struct LogLayer {
    buffer: LogBuffer,
}

/// Collects an event's message and fields as `message key=value ...`.
#[derive(Default)]
struct Text(String);

impl tracing::field::Visit for Text {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        let sep = if self.0.is_empty() { "" } else { " " };
        // Writing into a String cannot fail.
        let written = if field.name() == "message" {
            write!(self.0, "{sep}{value:?}")
        } else {
            write!(self.0, "{sep}{}={value:?}", field.name())
        };
        if written.is_err() {
            self.0.push_str(" <unprintable field>");
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LogLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if meta.target().starts_with("card_ingest::ui") {
            return;
        }
        let mut text = Text::default();
        event.record(&mut text);
        self.buffer.push(LogLine {
            level: *meta.level(),
            text: format!("{}: {}", meta.target(), text.0),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn library_events_are_captured_ui_events_are_not() {
        let buffer = LogBuffer::new();
        let subscriber = tracing_subscriber::registry().with(buffer.layer());
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(target: "card_ingest::scan", clips = 2, "scan done");
            tracing::info!(target: "card_ingest::ui::app", "shown by the app itself");
        });
        let lines = buffer.drain();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0].level, tracing::Level::WARN);
        assert_eq!(lines[0].text, "card_ingest::scan: scan done clips=2");
        assert!(buffer.drain().is_empty(), "drained");
    }
}
