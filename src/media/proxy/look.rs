//! Looks: an operator-supplied `.cube` LUT (1D or 3D) applied in the proxy encode (issue 13).
//!
//! The file is read and checked before the encode so a bad LUT fails with its name and line, not
//! as an opaque ffmpeg error mid-card. No vendor LUTs ship with the app: the operator brings them.

use std::path::{Path, PathBuf};

/// Which ffmpeg filter applies the LUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LutKind {
    /// `LUT_1D_SIZE` → `lut1d`.
    OneD,
    /// `LUT_3D_SIZE` → `lut3d`.
    ThreeD,
}

/// A checked `.cube` LUT ready to go into the filter graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Look {
    pub path: PathBuf,
    pub kind: LutKind,
    /// Entries per axis (`LUT_3D_SIZE` / `LUT_1D_SIZE`).
    pub size: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum LookError {
    #[error("cannot read LUT {path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("LUT {path} line {line}: {reason}; supply a valid .cube file (Resolve/Adobe format)", path = .path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

impl Look {
    /// Reads and validates `path` as a `.cube` file.
    pub fn load(path: &Path) -> Result<Look, LookError> {
        let text = std::fs::read_to_string(path).map_err(|source| LookError::Io {
            path: path.to_owned(),
            source,
        })?;
        Look::parse(path, &text)
    }

    /// Validates `.cube` text: one size line, then exactly size³ (3D) or size (1D) rows of three numbers.
    pub fn parse(path: &Path, text: &str) -> Result<Look, LookError> {
        let bad = |line: usize, reason: String| LookError::Invalid {
            path: path.to_owned(),
            line,
            reason,
        };
        let mut kind_size: Option<(LutKind, usize)> = None;
        let mut rows = 0usize;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let lineno = n + 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            let first = words.next().unwrap_or_default();
            match first {
                "LUT_3D_SIZE" | "LUT_1D_SIZE" => {
                    let kind = if first == "LUT_3D_SIZE" {
                        LutKind::ThreeD
                    } else {
                        LutKind::OneD
                    };
                    let size: usize = words
                        .next()
                        .and_then(|w| w.parse().ok())
                        .filter(|&s| s >= 2)
                        .ok_or_else(|| {
                            bad(lineno, format!("{first} needs a size of at least 2"))
                        })?;
                    if kind_size.is_some() {
                        return Err(bad(lineno, "more than one LUT size line".into()));
                    }
                    kind_size = Some((kind, size));
                }
                "TITLE" | "DOMAIN_MIN" | "DOMAIN_MAX" | "LUT_1D_INPUT_RANGE"
                | "LUT_3D_INPUT_RANGE" => {}
                _ => {
                    let values: Vec<f64> = line
                        .split_whitespace()
                        .map(str::parse)
                        .collect::<Result<_, _>>()
                        .map_err(|_| bad(lineno, format!("not three numbers: {line:?}")))?;
                    if values.len() != 3 {
                        return Err(bad(
                            lineno,
                            format!("expected 3 values, found {}", values.len()),
                        ));
                    }
                    if kind_size.is_none() {
                        return Err(bad(lineno, "data before LUT_3D_SIZE/LUT_1D_SIZE".into()));
                    }
                    rows += 1;
                }
            }
        }
        let (kind, size) =
            kind_size.ok_or_else(|| bad(0, "no LUT_3D_SIZE or LUT_1D_SIZE line".into()))?;
        let want = match kind {
            LutKind::ThreeD => size.pow(3),
            LutKind::OneD => size,
        };
        if rows != want {
            return Err(bad(
                0,
                format!("{want} data rows expected for size {size}, found {rows}"),
            ));
        }
        Ok(Look {
            path: path.to_owned(),
            kind,
            size,
        })
    }

    /// The filter for the graph, e.g. `lut3d=file='/luts/a.cube'`, escaped for both levels of
    /// ffmpeg's parsing (option value, then filter graph) so any path works.
    pub fn filter(&self) -> String {
        let name = match self.kind {
            LutKind::ThreeD => "lut3d",
            LutKind::OneD => "lut1d",
        };
        format!(
            "{name}=file={}",
            super::escape::option_value(&self.path.to_string_lossy())
        )
    }

    /// Inserts the LUT into a proxy graph just before the final `format=yuv420p[v]`, i.e. after
    /// deinterlace and scale (the LUT then runs on the small picture: cheaper, same result).
    pub fn insert_into(&self, graph: &str) -> String {
        const TAIL: &str = "format=yuv420p[v]";
        match graph.rfind(TAIL) {
            Some(at) => format!("{}{},{}", &graph[..at], self.filter(), &graph[at..]),
            None => graph.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// An inverting 3D LUT of size 2 (exact for trilinear interpolation: out = 1 − in).
    fn inverting_cube() -> String {
        let mut s = String::from("TITLE \"invert\"\nLUT_3D_SIZE 2\n");
        // .cube order: red changes fastest.
        for b in 0..2 {
            for g in 0..2 {
                for r in 0..2 {
                    s.push_str(&format!("{} {} {}\n", 1 - r, 1 - g, 1 - b));
                }
            }
        }
        s
    }

    #[test]
    fn parses_sizes_and_rejects_bad_files() {
        let p = Path::new("/luts/x.cube");
        let look = Look::parse(p, &inverting_cube()).unwrap();
        assert_eq!((look.kind, look.size), (LutKind::ThreeD, 2));
        let one = Look::parse(p, "LUT_1D_SIZE 2\n0 0 0\n1 1 1\n").unwrap();
        assert_eq!((one.kind, one.size), (LutKind::OneD, 2));
        let short = Look::parse(p, "LUT_3D_SIZE 2\n0 0 0\n")
            .unwrap_err()
            .to_string();
        assert!(
            short.contains("8 data rows expected for size 2, found 1"),
            "{short}"
        );
        assert!(short.contains("/luts/x.cube"), "{short}");
        let junk = Look::parse(p, "LUT_1D_SIZE 2\n0 0 x\n1 1 1\n")
            .unwrap_err()
            .to_string();
        assert!(junk.contains("line 2"), "{junk}");
    }

    #[test]
    fn filter_escapes_path_and_goes_before_format() {
        let look = Look {
            path: PathBuf::from("/a:b/it's.cube"),
            kind: LutKind::ThreeD,
            size: 2,
        };
        assert_eq!(look.filter(), r"lut3d=file='/a\:b/it\'\''s.cube'");
        assert_eq!(
            look.insert_into("[0:v:0]scale=-2:720,format=yuv420p[v];[0:a]anull[a]"),
            format!(
                "[0:v:0]scale=-2:720,{},format=yuv420p[v];[0:a]anull[a]",
                look.filter()
            )
        );
    }

    /// Real ffmpeg: a flat colour through the proxy chain with the inverting LUT decodes inverted.
    #[test]
    fn inverting_lut_inverts_decoded_pixels() {
        let Some(ffmpeg) = crate::media::Tools::detect().ffmpeg else {
            eprintln!("ffmpeg not found: skipped");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        // A colon in the folder name proves the escaping survives ffmpeg's parsers.
        let lut_dir = dir.path().join("lu:ts");
        std::fs::create_dir(&lut_dir).unwrap();
        let lut = lut_dir.join("invert.cube");
        std::fs::write(&lut, inverting_cube()).unwrap();
        let look = Look::load(&lut).unwrap();
        let graph = look.insert_into("[0:v:0]format=yuv420p[v]");
        let out = dir.path().join("p.mp4");
        let st = Command::new(&ffmpeg)
            .args(["-hide_banner", "-nostdin", "-y", "-f", "lavfi", "-i"])
            .arg("color=c=0x3060C0:s=64x64:d=0.2:r=25")
            .args(["-filter_complex", &graph, "-map", "[v]", "-c:v", "libx264"])
            .args(["-bf", "0", "-crf", "0"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        let dec = Command::new(&ffmpeg)
            .args(["-v", "error", "-i"])
            .arg(&out)
            .args([
                "-frames:v",
                "1",
                "-vf",
                "crop=8:8:28:28",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "rgb24",
                "-",
            ])
            .output()
            .unwrap();
        assert!(dec.status.success());
        assert_eq!(dec.stdout.len(), 8 * 8 * 3);
        let px = &dec.stdout[..3];
        // Inverse of (0x30, 0x60, 0xC0) = (0xCF, 0x9F, 0x3F); yuv420p round trip allows a few levels.
        for (got, want) in px.iter().zip([0xCFu8, 0x9F, 0x3F]) {
            assert!(
                got.abs_diff(want) <= 6,
                "pixel {px:?}, want ~[207, 159, 63]"
            );
        }
    }
}
