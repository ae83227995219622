//! Builds and runs ffmpeg command lines for the sample generator: lavfi test sources in, one or
//! more muxed files out, stderr captured into [`SampleError::Ffmpeg`].

use super::SampleError;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Flags that make ffmpeg's output reproducible (no encoder version strings, fixed MXF UMIDs and
/// timestamps); per output file, so they go just before each output path (camera-cards.md §6).
const BITEXACT: [&str; 6] = [
    "-fflags",
    "+bitexact",
    "-flags:v",
    "+bitexact",
    "-flags:a",
    "+bitexact",
];

/// Keeps error messages readable when ffmpeg prints a lot.
const MAX_STDERR_CHARS: usize = 4000;

/// The ffmpeg executable to run.
#[derive(Debug, Clone)]
pub(crate) struct Ffmpeg {
    program: PathBuf,
}

/// One ffmpeg invocation: inputs (numbered in the order added) and outputs.
#[derive(Debug, Clone, Default)]
pub(crate) struct FfCmd {
    args: Vec<OsString>,
    outputs: Vec<PathBuf>,
}

impl FfCmd {
    pub(crate) fn new() -> FfCmd {
        FfCmd::default()
    }

    /// Adds a `testsrc2` picture input: `size` `WxH`, `rate` e.g. `25` or `30000/1001`.
    pub(crate) fn video_src(&mut self, size: &str, rate: &str, seconds: u32) -> &mut FfCmd {
        self.args(["-f", "lavfi", "-i"]).arg(format!(
            "testsrc2=size={size}:rate={rate}:duration={seconds}"
        ))
    }

    /// Adds a 48 kHz mono sine input of `freq_hz`.
    pub(crate) fn sine(&mut self, freq_hz: u32, seconds: u32) -> &mut FfCmd {
        self.args(["-f", "lavfi", "-i"]).arg(format!(
            "sine=frequency={freq_hz}:sample_rate=48000:duration={seconds}"
        ))
    }

    pub(crate) fn arg(&mut self, a: impl Into<OsString>) -> &mut FfCmd {
        self.args.push(a.into());
        self
    }

    pub(crate) fn args<I, S>(&mut self, args: I) -> &mut FfCmd
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds a one-frame JPEG output of stream `map` (camera thumbnails: GoPro THM, Sony
    /// THMBNL, Canon THM).
    pub(crate) fn jpeg_still(&mut self, map: &str, path: &Path) -> &mut FfCmd {
        self.args([
            "-map",
            map,
            "-frames:v",
            "1",
            "-c:v",
            "mjpeg",
            "-f",
            "mjpeg",
        ])
        .output(path)
    }

    /// Ends the current output's options with the bitexact flags and the output path.
    pub(crate) fn output(&mut self, path: &Path) -> &mut FfCmd {
        self.args(BITEXACT);
        self.args.push(path.as_os_str().to_owned());
        self.outputs.push(path.to_path_buf());
        self
    }
}

impl Ffmpeg {
    pub(crate) fn new(program: &Path) -> Ffmpeg {
        Ffmpeg {
            program: program.to_path_buf(),
        }
    }

    /// Creates the outputs' folders, runs `cmd` and checks that every output file exists.
    pub(crate) fn run(&self, cmd: &FfCmd) -> Result<(), SampleError> {
        for output in &cmd.outputs {
            if let Some(parent) = output.parent() {
                super::files::create_dir(parent)?;
            }
        }
        let mut command = Command::new(&self.program);
        crate::media::process::no_console_window(&mut command);
        command
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
            .args(&cmd.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let first_output = cmd.outputs.first().cloned().unwrap_or_default();
        tracing::debug!(command = %self.display(cmd), "running ffmpeg");
        let out = command.output().map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                SampleError::FfmpegMissing {
                    program: self.program.clone(),
                    source,
                }
            } else {
                SampleError::FfmpegSpawn {
                    program: self.program.clone(),
                    source,
                }
            }
        })?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stderr = stderr.trim();
            let skip = stderr.chars().count().saturating_sub(MAX_STDERR_CHARS);
            return Err(SampleError::Ffmpeg {
                command: self.display(cmd),
                output: first_output,
                status: out.status.to_string(),
                stderr: stderr.chars().skip(skip).collect(),
            });
        }
        for output in &cmd.outputs {
            // image2 / segment outputs are patterns; their files are checked by the caller.
            if output.to_string_lossy().contains('%') {
                continue;
            }
            if !output.is_file() {
                return Err(SampleError::FfmpegNoOutput {
                    command: self.display(cmd),
                    output: output.clone(),
                });
            }
        }
        Ok(())
    }

    /// The command line as a shell would show it (for error messages and logs).
    fn display(&self, cmd: &FfCmd) -> String {
        let mut parts = vec![self.program.to_string_lossy().into_owned()];
        parts.extend(
            ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
                .iter()
                .map(|s| s.to_string()),
        );
        parts.extend(cmd.args.iter().map(|a| shell_quote(&a.to_string_lossy())));
        parts.join(" ")
    }
}

fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+,%@".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_is_quoted_for_humans() {
        let ff = Ffmpeg::new(Path::new("ffmpeg"));
        let mut cmd = FfCmd::new();
        cmd.sine(440, 2)
            .args(["-metadata", "comment=it's a take"])
            .output(Path::new("/tmp/a b.wav"));
        assert_eq!(
            ff.display(&cmd),
            "ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i \
             sine=frequency=440:sample_rate=48000:duration=2 -metadata 'comment=it'\\''s a take' \
             -fflags +bitexact -flags:v +bitexact -flags:a +bitexact '/tmp/a b.wav'"
        );
    }
}
