//! Running a [`ProxyPlan`]: ffmpeg writes `<out>.part` and reports `-progress` on stdout; the
//! file is renamed to `<out>` only after a clean exit, so a killed or cancelled encode never
//! leaves a file that looks finished. Cancel kills ffmpeg and removes the partial file.

use super::mp4;
use super::{EditOutput, ProxyError, ProxyOutput, ProxyPlan, ProxyProgress, iconik_frame_rate};
use crate::media::process::{self, ProcessError, ProcessSpec};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Accumulates one `-progress` block (key=value lines ending with `progress=continue|end`).
#[derive(Debug, Default)]
struct ProgressParser {
    out_time_us: Option<i64>,
    speed: Option<f64>,
    last_out_time: f64,
}

impl ProgressParser {
    /// Feeds one line; returns a report at the end of each block.
    fn line(&mut self, line: &str, duration: Option<f64>) -> Option<ProxyProgress> {
        let (key, value) = line.split_once('=')?;
        let value = value.trim();
        match key.trim() {
            // ffmpeg 5 prints both; `out_time_ms` is microseconds too (a known misnomer).
            "out_time_us" | "out_time_ms" => {
                if let Ok(us) = value.parse::<i64>() {
                    self.out_time_us = Some(us);
                }
                None
            }
            "speed" => {
                self.speed = value.trim_end_matches('x').trim().parse().ok();
                None
            }
            "progress" => {
                let end = value == "end";
                let t = self
                    .out_time_us
                    .map_or(self.last_out_time, |us| us.max(0) as f64 / 1e6)
                    .max(self.last_out_time);
                self.last_out_time = t;
                let fraction = if end {
                    Some(1.0)
                } else {
                    duration.map(|d| (t / d).clamp(0.0, 1.0))
                };
                Some(ProxyProgress {
                    out_time_seconds: t,
                    duration_seconds: duration,
                    fraction,
                    speed: self.speed,
                })
            }
            _ => None,
        }
    }
}

/// The last lines of ffmpeg's stderr: the error comes after the stream dumps.
fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(4)..].join(" | ");
    process::excerpt(tail.as_bytes())
}

fn remove_quietly(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "could not remove"),
    }
}

/// Removes what a failed or cancelled encode may have left: the temp proxy and its poster.
fn remove_temps(plan: &ProxyPlan) {
    remove_quietly(&plan.temp_output);
    if let Some(p) = &plan.poster {
        remove_quietly(p);
    }
    if let Some(e) = &plan.edit {
        remove_quietly(&e.temp_output);
    }
}

/// Runs `plan` with `ffmpeg`. `cancel` stops it (the partial file is removed);
/// `progress` is called at each `-progress` block, with fraction 1.0 at the end.
pub fn encode(
    plan: &ProxyPlan,
    ffmpeg: &Path,
    cancel: &Arc<AtomicBool>,
    progress: &mut dyn FnMut(ProxyProgress),
) -> Result<ProxyOutput, ProxyError> {
    if let Some(dir) = plan.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| ProxyError::Io {
            path: dir.to_owned(),
            source,
        })?;
    }
    if let Some(list) = &plan.concat_list {
        std::fs::write(&list.path, &list.text).map_err(|source| ProxyError::Io {
            path: list.path.clone(),
            source,
        })?;
    }
    remove_temps(plan);
    let spec = ProcessSpec::new(ffmpeg, plan.timeout)
        .args(&plan.args)
        .subject(&plan.output)
        .cancel(Arc::clone(cancel));
    let mut parser = ProgressParser::default();
    tracing::info!(output = %plan.output.display(), encoder = plan.encoder.name(), "proxy encode started");
    let run = process::run_with_lines(&spec, |line| {
        if let Some(p) = parser.line(line, plan.duration_seconds) {
            progress(p);
        }
    });
    if let Some(list) = &plan.concat_list {
        remove_quietly(&list.path);
    }
    let out = match run {
        Ok(out) => out,
        Err(e) => {
            remove_temps(plan);
            return Err(match e {
                ProcessError::Cancelled { .. } => ProxyError::Cancelled {
                    output: plan.output.clone(),
                },
                other => ProxyError::Process(other),
            });
        }
    };
    if !out.success() {
        remove_temps(plan);
        return Err(ProxyError::Ffmpeg {
            output: plan.output.clone(),
            status: out.status_code,
            stderr: stderr_tail(&out.stderr),
        });
    }
    let size_bytes = match std::fs::metadata(&plan.temp_output) {
        Ok(m) if m.is_file() && m.len() > 0 => m.len(),
        _ => {
            remove_temps(plan);
            return Err(ProxyError::NoOutput {
                path: plan.output.clone(),
            });
        }
    };
    // The edit proxy was asked for: a run without it is a failed run (no half result).
    let edit = match &plan.edit {
        Some(e) => match std::fs::metadata(&e.temp_output) {
            Ok(m) if m.is_file() && m.len() > 0 => Some(EditOutput {
                path: e.temp_output.clone(),
                size_bytes: m.len(),
                codec: e.codec,
            }),
            _ => {
                remove_temps(plan);
                return Err(ProxyError::NoOutput {
                    path: e.temp_output.clone(),
                });
            }
        },
        None => None,
    };
    std::fs::rename(&plan.temp_output, &plan.output).map_err(|source| ProxyError::Io {
        path: plan.output.clone(),
        source,
    })?;
    tracing::info!(output = %plan.output.display(), size_bytes, "proxy encode finished");
    // What was written, not what was planned: camera proxies are not described beforehand.
    let tracks = match mp4::read_tracks(&plan.output) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(output = %plan.output.display(), error = %e, "could not read the proxy's tracks");
            mp4::Mp4Tracks {
                sound: plan.has_audio,
                video_size: None,
            }
        }
    };
    let (width, height) = match tracks.video_size {
        Some((w, h)) => (Some(w), Some(h)),
        None => (plan.width, plan.height),
    };
    let encoded = (parser.last_out_time > 0.0).then_some(parser.last_out_time);
    Ok(ProxyOutput {
        path: plan.output.clone(),
        size_bytes,
        width,
        height,
        frame_rate: plan.frame_rate.map(iconik_frame_rate),
        duration_seconds: encoded.or(plan.duration_seconds),
        codec: "h264",
        format: "mp4",
        is_drop_frame: plan
            .start_timecode
            .as_deref()
            .is_some_and(|tc| tc.contains(';')),
        start_time_code: plan.start_timecode.clone(),
        bit_rate: plan.video_bitrate,
        audio_bitrate: tracks.sound.then_some(plan.audio_bitrate),
        encoder: plan.encoder,
        // A poster that did not come out (a clip shorter than a frame) is no failure.
        poster: plan
            .poster
            .clone()
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0)),
        edit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_blocks_give_fractions_and_end_at_one() {
        let mut p = ProgressParser::default();
        let lines = [
            "frame=10",
            "out_time_us=1500000",
            "out_time_ms=1500000",
            "speed=2.5x",
            "progress=continue",
            "out_time_us=N/A",
            "progress=continue",
            "out_time_us=3000000",
            "speed=2.61x",
            "progress=end",
        ];
        let reports: Vec<ProxyProgress> =
            lines.iter().filter_map(|l| p.line(l, Some(3.0))).collect();
        assert_eq!(reports.len(), 3);
        assert_eq!(reports[0].fraction, Some(0.5));
        assert_eq!(reports[0].speed, Some(2.5));
        assert_eq!(reports[1].out_time_seconds, 1.5);
        assert_eq!(reports[2].fraction, Some(1.0));
        assert_eq!(reports[2].out_time_seconds, 3.0);
        assert_eq!(reports[2].speed, Some(2.61));
    }

    #[test]
    fn stderr_tail_keeps_the_last_lines() {
        let err = b"Input #0\n  Stream #0:0: Video\n\na\nb\nc\nConversion failed!\n";
        assert_eq!(stderr_tail(err), "a | b | c | Conversion failed!");
    }

    #[test]
    fn unknown_duration_has_no_fraction_until_the_end() {
        let mut p = ProgressParser::default();
        assert_eq!(p.line("out_time_us=1000000", None), None);
        assert_eq!(p.line("progress=continue", None).unwrap().fraction, None);
        assert_eq!(p.line("progress=end", None).unwrap().fraction, Some(1.0));
    }
}
