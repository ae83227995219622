//! Looks by rule (issue 13): the operator maps detected camera metadata (Sony NRT
//! `AcquisitionRecord` gamma/gamut, the camera model, the family, any sidecar field) to a LUT
//! file. The first rule that matches a clip gives its look; `--lut` and a per-clip choice in the
//! clip editor come before the rules, and "no look" is always a choice.

use crate::card::Family;
use crate::media::ClipMetadata;
use std::path::PathBuf;

/// `FIELD=VALUE => FILE.cube`: the clip's FIELD contains VALUE (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookRule {
    pub field: String,
    pub value: String,
    pub lut: PathBuf,
}

/// A clip's own look choice (clip editor), before the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClipLook {
    /// A clean proxy even when a rule matches.
    NoLook,
    Lut(PathBuf),
}

/// Where a clip's look came from, for the step detail and the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChosenLook {
    pub lut: PathBuf,
    /// `--lut`, `clip editor`, or `rule gamma=s-log3 (gamma "s-log3-cine")`.
    pub why: String,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "look rule {0:?} is not FIELD=VALUE => FILE.cube (e.g. gamma=s-log3 => /luts/slog3-709.cube)"
)]
pub struct RuleError(pub String);

/// Parses one rule line.
pub fn parse_rule(line: &str) -> Result<LookRule, RuleError> {
    let bad = || RuleError(line.to_owned());
    let (cond, lut) = line.split_once("=>").ok_or_else(bad)?;
    let (field, value) = cond.split_once('=').ok_or_else(bad)?;
    let (field, value, lut) = (field.trim(), value.trim(), lut.trim());
    if field.is_empty() || value.is_empty() || lut.is_empty() {
        return Err(bad());
    }
    Ok(LookRule {
        field: field.to_ascii_lowercase(),
        value: value.to_owned(),
        lut: PathBuf::from(lut),
    })
}

/// Parses the settings' rules, one per line (blank lines and `#` comments skipped).
pub fn parse_rules(text: &str) -> Result<Vec<LookRule>, RuleError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(parse_rule)
        .collect()
}

/// The clip's value of `field`: a named metadata field, the family, or a sidecar extra.
fn field_value(meta: &ClipMetadata, family: Family, field: &str) -> Option<String> {
    match field {
        "family" => Some(family.as_str().to_owned()),
        "camera" | "camera_model" => meta.camera_model.clone(),
        "video_codec" | "codec" => meta.video_codec.clone(),
        other => meta.extra.get(other).cloned(),
    }
}

/// The first matching rule, with the value it matched.
pub fn matching<'r>(
    rules: &'r [LookRule],
    meta: &ClipMetadata,
    family: Family,
) -> Option<(&'r LookRule, String)> {
    rules.iter().find_map(|r| {
        let v = field_value(meta, family, &r.field)?;
        v.to_ascii_lowercase()
            .contains(&r.value.to_ascii_lowercase())
            .then_some((r, v))
    })
}

/// The look of one clip: `--lut`, else the clip's own choice, else the first matching rule.
pub fn choose(
    global: Option<&PathBuf>,
    clip: Option<&ClipLook>,
    rules: &[LookRule],
    meta: &ClipMetadata,
    family: Family,
) -> Option<ChosenLook> {
    if let Some(lut) = global {
        return Some(ChosenLook {
            lut: lut.clone(),
            why: "--lut".into(),
        });
    }
    match clip {
        Some(ClipLook::NoLook) => return None,
        Some(ClipLook::Lut(lut)) => {
            return Some(ChosenLook {
                lut: lut.clone(),
                why: "clip editor".into(),
            });
        }
        None => {}
    }
    matching(rules, meta, family).map(|(r, v)| ChosenLook {
        lut: r.lut.clone(),
        why: format!("rule {}={} ({} {v:?})", r.field, r.value, r.field),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slog3() -> ClipMetadata {
        let mut m = ClipMetadata {
            camera_model: Some("ILME-FX6V".into()),
            ..ClipMetadata::default()
        };
        m.extra.insert("gamma".into(), "s-log3-cine".into());
        m
    }

    #[test]
    fn rules_parse_and_the_first_match_wins_after_lut_and_clip_choice() {
        let rules = parse_rules(
            "# camera looks\n gamma=S-Log3 => /luts/slog3.cube\n\ncamera=FX6 => /luts/fx6.cube\n",
        )
        .unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].field, "gamma");
        let err = parse_rule("gamma s-log3").unwrap_err().to_string();
        assert!(err.contains("\"gamma s-log3\""), "{err}");

        let m = slog3();
        let got = choose(None, None, &rules, &m, Family::Xdcam).unwrap();
        assert_eq!(got.lut, PathBuf::from("/luts/slog3.cube"));
        assert_eq!(got.why, "rule gamma=S-Log3 (gamma \"s-log3-cine\")");
        let rec709 = ClipMetadata::default();
        assert_eq!(choose(None, None, &rules, &rec709, Family::Xdcam), None);
        assert_eq!(
            choose(None, Some(&ClipLook::NoLook), &rules, &m, Family::Xdcam),
            None
        );
        let own = ClipLook::Lut("/l/own.cube".into());
        assert_eq!(
            choose(None, Some(&own), &rules, &m, Family::Xdcam)
                .unwrap()
                .why,
            "clip editor"
        );
        let forced = PathBuf::from("/l/all.cube");
        assert_eq!(
            choose(
                Some(&forced),
                Some(&ClipLook::NoLook),
                &rules,
                &m,
                Family::Xdcam
            )
            .unwrap()
            .why,
            "--lut"
        );
        let by_family = parse_rules("family=arri => /l/logc.cube").unwrap();
        assert!(choose(None, None, &by_family, &rec709, Family::Arri).is_some());
    }
}
