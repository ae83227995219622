//! DJI telemetry `.SRT` (camera-cards.md §3.8, §10): subtitle blocks of index, timing line
//! (`00:00:00,000 --> 00:00:00,033`; some firmwares write `.` before the milliseconds) and one
//! or more lines of telemetry in ≥ 8 syntaxes. Only the block structure is checked here, so an
//! empty or cut-off copy is reported on its clip; the telemetry values are not read.

/// What the block structure of an SRT says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrtCheck {
    /// Complete blocks (index, timing, at least one text line).
    pub cues: usize,
    /// Why the file looks damaged, in words for the operator; `None` when it is whole.
    pub problem: Option<String>,
}

fn is_timing(line: &str) -> bool {
    let Some((a, b)) = line.split_once("-->") else {
        return false;
    };
    let ok = |t: &str| {
        let t = t.trim();
        let b = t.as_bytes();
        // HH:MM:SS,mmm (or .mmm): 12 chars, separators where SRT puts them.
        b.len() == 12
            && b[2] == b':'
            && b[5] == b':'
            && matches!(b[8], b',' | b'.')
            && t.chars()
                .enumerate()
                .all(|(i, c)| matches!(i, 2 | 5 | 8) || c.is_ascii_digit())
    };
    ok(a) && ok(b)
}

/// Checks `bytes` (the whole file). BOM, CRLF and blank-line runs are tolerated.
pub fn check(bytes: &[u8]) -> SrtCheck {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        let problem = if bytes.is_empty() {
            "is empty (0 bytes)".to_string()
        } else {
            "holds only blank lines".to_string()
        };
        return SrtCheck {
            cues: 0,
            problem: Some(problem),
        };
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    check_blocks(text)
}

fn check_blocks(text: &str) -> SrtCheck {
    let norm = text.replace("\r\n", "\n");
    let blocks: Vec<Vec<&str>> = norm
        .split("\n\n")
        .map(|b| {
            b.lines()
                .map(str::trim_end)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|b: &Vec<&str>| !b.is_empty())
        .collect();
    let complete = |b: &[&str]| {
        b.len() >= 3 && b[0].trim().bytes().all(|c| c.is_ascii_digit()) && is_timing(b[1])
    };
    let cues = blocks.iter().filter(|b| complete(b)).count();
    if cues == 0 {
        return SrtCheck {
            cues,
            problem: Some("has no complete subtitle block (index, timing line, telemetry)".into()),
        };
    }
    let last = blocks.last().map(Vec::as_slice).unwrap_or_default();
    let open_tag = last
        .iter()
        .skip(2)
        .any(|l| l.matches('[').count() > l.matches(']').count())
        || last.join("\n").matches("<font").count() > last.join("\n").matches("</font>").count();
    let problem = if !complete(last) {
        Some(format!(
            "ends in an incomplete block after {cues} complete ones: the copy was cut off"
        ))
    } else if open_tag {
        Some(format!(
            "ends mid-line in block {}: the copy was cut off",
            last[0].trim()
        ))
    } else {
        None
    };
    SrtCheck { cues, problem }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAVIC3: &str = "1\r\n00:00:00,000 --> 00:00:00,033\r\n<font size=\"28\">FrameCnt: 1, DiffTime: 33ms\r\n2024-05-14 12:00:00.373\r\n[iso: 100] [shutter: 1/1000.0] [latitude: 48.137] [longitude: 11.575] [rel_alt: 1.200 abs_alt: 520.1]</font>\r\n\r\n2\r\n00:00:00,033 --> 00:00:00,066\r\n<font size=\"28\">FrameCnt: 2, DiffTime: 33ms\r\n2024-05-14 12:00:00.406\r\n[iso: 100] [shutter: 1/1000.0] [latitude: 48.137] [longitude: 11.575] [rel_alt: 1.200 abs_alt: 520.1]</font>\r\n\r\n";

    #[test]
    fn whole_file_has_its_cues_and_no_problem() {
        let c = check(format!("\u{feff}{MAVIC3}").as_bytes());
        assert_eq!(
            c,
            SrtCheck {
                cues: 2,
                problem: None
            }
        );
    }

    #[test]
    fn empty_and_cut_files_say_what_is_wrong() {
        assert_eq!(check(b"").problem.as_deref(), Some("is empty (0 bytes)"));
        assert_eq!(
            check(b"\r\n\r\n").problem.as_deref(),
            Some("holds only blank lines")
        );
        let cut = &MAVIC3[..MAVIC3.len() - 60];
        assert_eq!(
            check(cut.as_bytes()).problem.as_deref(),
            Some("ends mid-line in block 2: the copy was cut off")
        );
        let cut = &MAVIC3[..MAVIC3.find("00:00:00,033 -->").unwrap_or(0) + 5];
        assert_eq!(
            check(cut.as_bytes()).problem.as_deref(),
            Some("ends in an incomplete block after 1 complete ones: the copy was cut off")
        );
        assert_eq!(
            check(b"GPS(11.575,48.137,520)\n").problem.as_deref(),
            Some("has no complete subtitle block (index, timing line, telemetry)")
        );
    }
}
