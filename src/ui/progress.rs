//! "How long": per-card figures (bytes read of total, MB/s over the last seconds, elapsed, ETA,
//! clips done/failed) and per-clip lane progress, all computed from the queue's folded events
//! against the UI's [`super::clock::Clock`]. Pure: no I/O, nothing read from the pipeline.

use super::queue::{QueueClip, StepStatus};
use crate::ingest::Step;
use crate::ingest::step::Lane;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Throughput is averaged over this much recent time: long enough to smooth block-sized bursts,
/// short enough to show a slow drive within seconds.
pub const RATE_WINDOW: Duration = Duration::from_secs(5);

/// Bytes per second over the last [`RATE_WINDOW`], from cumulative byte counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateMeter {
    samples: VecDeque<(Instant, u64)>,
}

impl RateMeter {
    /// Records the cumulative count `bytes` at `at` (counts never go backwards in one run; a
    /// smaller count restarts the meter).
    pub fn record(&mut self, at: Instant, bytes: u64) {
        if self.samples.back().is_some_and(|&(_, b)| b > bytes) {
            self.samples.clear();
        }
        if self.samples.back().is_some_and(|&(_, b)| b == bytes) && self.samples.len() > 1 {
            // Same count again: the older sample already says so.
            return;
        }
        self.samples.push_back((at, bytes));
        // Keep one sample older than the window as the baseline.
        while self.samples.len() > 2
            && self
                .samples
                .get(1)
                .is_some_and(|&(t, _)| at.saturating_duration_since(t) > RATE_WINDOW)
        {
            self.samples.pop_front();
        }
    }

    /// Bytes per second between the baseline and `now` (a stall lowers it as time passes);
    /// `None` until two samples exist.
    pub fn rate(&self, now: Instant) -> Option<f64> {
        if self.samples.len() < 2 {
            return None;
        }
        let &(_, b_last) = self.samples.back()?;
        // Baseline: the newest sample at or before the window's start, else the oldest.
        let &(t0, b0) = now
            .checked_sub(RATE_WINDOW)
            .and_then(|start| self.samples.iter().rev().find(|&&(t, _)| t <= start))
            .or(self.samples.front())?;
        let span = now.saturating_duration_since(t0).as_secs_f64();
        (span > 0.0).then(|| b_last.saturating_sub(b0) as f64 / span)
    }
}

/// The figures of one card in the running (or finished) ingest.
#[derive(Debug, Clone, PartialEq)]
pub struct CardFigures {
    /// The card's root ("" when the queue has no card information).
    pub card: PathBuf,
    /// Bytes of the card's clips read so far (checksum / offload), of all its clips' bytes.
    pub done_bytes: u64,
    pub total_bytes: u64,
    /// Bytes per second over the last seconds.
    pub rate: Option<f64>,
    pub elapsed: Duration,
    /// Time left for the card's clips to finish every step; `None` until something is done.
    pub eta: Option<Duration>,
    pub clips_done: usize,
    pub clips_failed: usize,
    pub clips_total: usize,
    /// Share of the card's work over (0..=1), weighted by clip bytes.
    pub fraction: f64,
    /// A clip of the card waits for an automatic retry of an iconik call.
    pub waiting_for_iconik: bool,
}

/// The time left is a guess until the run has this much data behind it.
pub const ETA_AFTER: Duration = Duration::from_secs(3);

impl CardFigures {
    /// `1.2 GiB of 4.0 GiB · 85.3 MB/s · 0:42 elapsed · 1:40 left · 3 of 10 clips done, 1 failed`
    pub fn summary(&self) -> String {
        let mut parts = vec![format!(
            "{} of {}",
            super::cards::format_bytes(self.done_bytes),
            super::cards::format_bytes(self.total_bytes)
        )];
        parts.push(match (self.waiting_for_iconik, self.rate) {
            // A retry wait is not a slow card: say what the run waits for.
            (true, _) => "waiting for iconik".to_owned(),
            (false, Some(r)) => format!("{:.1} MB/s", r / 1e6),
            (false, None) => "– MB/s".to_owned(),
        });
        parts.push(format!(
            "{} elapsed",
            super::queue::format_elapsed(self.elapsed)
        ));
        if let Some(eta) = self.eta {
            parts.push(format!("{} left", super::queue::format_elapsed(eta)));
        }
        let mut clips = format!("{} of {} clips done", self.clips_done, self.clips_total);
        if self.clips_failed > 0 {
            clips.push_str(&format!(", {} failed", self.clips_failed));
        }
        parts.push(clips);
        parts.join(" · ")
    }
}

/// Bytes of this clip read from the card: all of them once its checksum (or copy) is over, else
/// the running read's count.
pub fn read_bytes(clip: &QueueClip) -> u64 {
    let over = |s: Step| {
        matches!(
            clip.status(s),
            Some(StepStatus::Done | StepStatus::Skipped(_))
        )
    };
    if over(Step::Checksum) || clip.completed() {
        return clip.bytes;
    }
    match &clip.progress {
        Some(p) if p.step.lane() == Lane::Disk => p.done_bytes.min(clip.bytes),
        _ => 0,
    }
}

/// Share of the clip's work that is over (0..=1): finished steps plus the running step's bytes.
pub fn work_done(clip: &QueueClip) -> f64 {
    let n = clip.steps.len().max(1) as f64;
    let finished = clip
        .steps
        .iter()
        .filter(|(_, s)| matches!(s, StepStatus::Done | StepStatus::Skipped(_)))
        .count() as f64;
    let partial = clip
        .progress
        .filter(|p| p.total_bytes > 0)
        .map(|p| (p.done_bytes as f64 / p.total_bytes as f64).min(1.0))
        .unwrap_or(0.0);
    ((finished + partial) / n).min(1.0)
}

/// Figures of the clips of `card` (all of `clips` given), at `now`.
pub fn card_figures(
    card: PathBuf,
    clips: &[&QueueClip],
    meter: Option<&RateMeter>,
    elapsed: Duration,
    running: bool,
    now: Instant,
) -> CardFigures {
    let total_bytes: u64 = clips.iter().map(|c| c.bytes).sum();
    let done_bytes: u64 = clips.iter().map(|c| read_bytes(c)).sum();
    // Work weighted by bytes (a 40 GB clip is not a 2 MB one); plain average when sizes are
    // unknown.
    let fraction = if total_bytes > 0 {
        clips
            .iter()
            .map(|c| c.bytes as f64 * work_done(c))
            .sum::<f64>()
            / total_bytes as f64
    } else if clips.is_empty() {
        0.0
    } else {
        clips.iter().map(|c| work_done(c)).sum::<f64>() / clips.len() as f64
    };
    let clips_done = clips.iter().filter(|c| c.completed()).count();
    let clips_failed = clips.iter().filter(|c| c.failed().is_some()).count();
    let all_settled = clips.iter().all(|c| c.settled());
    let waiting_for_iconik = running && clips.iter().any(|c| c.retry.is_some());
    let eta = if all_settled || !running {
        (all_settled && clips_failed == 0).then_some(Duration::ZERO)
    } else if waiting_for_iconik || elapsed < ETA_AFTER {
        // Hidden while a retry waits or before there are a few seconds of data: a guess from
        // the first second said "8:52 left" for a 20 s job.
        None
    } else if fraction > 0.0 {
        Some(Duration::from_secs_f64(
            elapsed.as_secs_f64() * (1.0 - fraction) / fraction,
        ))
    } else {
        None
    };
    CardFigures {
        card,
        done_bytes,
        total_bytes,
        // While running: the last seconds; once over: the whole run's average.
        rate: if running {
            meter.and_then(|m| m.rate(now))
        } else {
            (elapsed > Duration::ZERO).then(|| done_bytes as f64 / elapsed.as_secs_f64())
        },
        elapsed,
        eta,
        clips_done,
        clips_failed,
        clips_total: clips.len(),
        fraction,
        waiting_for_iconik,
    }
}

/// Progress of one clip on one lane of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaneProgress {
    pub lane: Lane,
    /// Steps of this lane over (done or skipped).
    pub done: usize,
    pub total: usize,
    pub running: bool,
    pub failed: bool,
}

/// The clip's steps grouped by the lane they run on (disk, cpu, network), in that order.
pub fn lanes(clip: &QueueClip) -> Vec<LaneProgress> {
    Lane::ALL
        .into_iter()
        .map(|lane| {
            let steps = clip.steps.iter().filter(|(s, _)| s.lane() == lane);
            let mut p = LaneProgress {
                lane,
                done: 0,
                total: 0,
                running: false,
                failed: false,
            };
            for (_, st) in steps {
                p.total += 1;
                match st {
                    StepStatus::Done | StepStatus::Skipped(_) => p.done += 1,
                    StepStatus::Running => p.running = true,
                    StepStatus::Failed(_) => p.failed = true,
                    StepStatus::Pending => {}
                }
            }
            p
        })
        .collect()
}

/// `disk 2/2 · cpu 1/1 · network 3/9` (the bar's accessible label and hover text).
pub fn lanes_label(lanes: &[LaneProgress]) -> String {
    lanes
        .iter()
        .map(|l| {
            let state = if l.failed {
                " failed"
            } else if l.running {
                " running"
            } else {
                ""
            };
            format!("{} {}/{}{state}", l.lane.as_str(), l.done, l.total)
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_bytes_over_the_last_seconds_and_decays_on_a_stall() {
        let t0 = Instant::now();
        let mut m = RateMeter::default();
        assert_eq!(m.rate(t0), None);
        m.record(t0, 0);
        assert_eq!(m.rate(t0), None, "one sample is no rate");
        for s in 1..=10u64 {
            m.record(t0 + Duration::from_secs(s), s * 10_000_000);
        }
        // Over the last 5 s: 50 MB in 5 s.
        let r = m.rate(t0 + Duration::from_secs(10)).expect("rate");
        assert!((r - 10_000_000.0).abs() < 1.0, "{r}");
        // Nothing more for 5 s: the window's baseline moves on, the rate falls.
        let stalled = m.rate(t0 + Duration::from_secs(15)).expect("rate");
        assert!(stalled < r / 1.5, "{stalled} vs {r}");
        // A new run (smaller count) restarts the meter.
        m.record(t0 + Duration::from_secs(16), 5);
        assert_eq!(m.rate(t0 + Duration::from_secs(16)), None);
    }
}
