//! Look and exposure facts of RAW camera sidecars: RED `.RMD` (XML) and Blackmagic RAW
//! `.sidecar` (JSON). Neither format is documented publicly, so both are read by structure:
//! every attribute / element (RMD) or key (sidecar JSON, one level of nesting) whose name is a
//! known synonym of ISO, white balance, tint, lens or look is taken; the names of everything
//! else are returned as `left_out`, so the preview can say what was not read.

use super::clean_xml;

/// Facts read from one RAW sidecar; keys are the metadata field names (`iso`,
/// `white_balance`, `tint`, `lens`, `look`, and for `.sidecar` also `scene`, `take`, `tape`,
/// `circled`), each with the sidecar element/key it came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawLook {
    pub values: Vec<(&'static str, String, String)>,
    /// Element/key names that were present but not read.
    pub left_out: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RawLookError {
    #[error("RED .RMD is not XML: {0}")]
    Rmd(String),
    #[error("Blackmagic .sidecar is not JSON: {0}")]
    Sidecar(String),
}

/// Field for a sidecar name (lowercase, `_`/`-`/space removed).
pub fn field_of(name: &str) -> Option<&'static str> {
    let n: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match n.as_str() {
        "iso" | "isorating" | "exposureindex" | "ei" => "iso",
        "kelvin" | "colortemp" | "colortemperature" | "whitebalance" | "whitebalancekelvin" => {
            "white_balance"
        }
        "tint" | "whitebalancetint" => "tint",
        "lens" | "lensname" | "lenstype" | "lensmodel" => "lens",
        "look" | "lookname" | "lut" | "lutname" | "lookfile" => "look",
        "scene" => "scene",
        "take" => "take",
        "reel" | "reelname" | "tape" => "tape",
        "goodtake" | "circled" => "circled",
        _ => return None,
    })
}

impl RawLook {
    fn add(&mut self, key: &str, value: String, source: String) {
        self.add_as(key, key, value, source);
    }

    /// Like `add`, with `shown` as the name listed in `left_out` (`gamut.name`).
    fn add_as(&mut self, key: &str, shown: &str, value: String, source: String) {
        match field_of(key) {
            Some(f) if !value.trim().is_empty() && !self.values.iter().any(|(g, _, _)| *g == f) => {
                self.values.push((f, value.trim().to_string(), source));
            }
            Some(_) => {}
            None => {
                if !self.left_out.iter().any(|k| k == shown) {
                    self.left_out.push(shown.to_string());
                }
            }
        }
    }
}

/// Reads a RED `.RMD`: attributes (`<color iso="800" kelvin="5600"/>`) and leaf elements
/// (`<iso>800</iso>`, `<iso value="800"/>`) anywhere in the document.
pub fn parse_rmd(text: &str) -> Result<RawLook, RawLookError> {
    let doc = roxmltree::Document::parse(clean_xml(text))
        .map_err(|e| RawLookError::Rmd(e.to_string()))?;
    let mut look = RawLook::default();
    for n in doc.descendants().filter(|n| n.is_element()) {
        let el = n.tag_name().name();
        if !n.children().any(|c| c.is_element()) {
            let v = n
                .attribute("value")
                .map(str::to_string)
                .or_else(|| n.text().map(str::to_string));
            if let Some(v) = v.filter(|v| !v.trim().is_empty())
                && field_of(el).is_some()
            {
                look.add(el, v, format!("<{el}>"));
                continue;
            }
        }
        for a in n.attributes() {
            if a.name() == "value" {
                continue;
            }
            look.add(
                a.name(),
                a.value().to_string(),
                format!("<{el} {}>", a.name()),
            );
        }
    }
    Ok(look)
}

/// Reads a Blackmagic RAW `.sidecar` (JSON object; nested objects one level deep).
pub fn parse_braw_sidecar(text: &str) -> Result<RawLook, RawLookError> {
    let v: serde_json::Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| RawLookError::Sidecar(e.to_string()))?;
    let obj = v
        .as_object()
        .ok_or_else(|| RawLookError::Sidecar("the top level is not an object".into()))?;
    let mut look = RawLook::default();
    let text_of = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    for (k, v) in obj {
        match v {
            serde_json::Value::Object(inner) => {
                for (k2, v2) in inner {
                    if let Some(t) = text_of(v2) {
                        look.add_as(k2, &format!("{k}.{k2}"), t, format!("{k}.{k2}"));
                    } else {
                        look.add(&format!("{k}.{k2}"), String::new(), String::new());
                    }
                }
            }
            _ => match text_of(v) {
                Some(t) => look.add(k, t, k.clone()),
                None => look.add(k, String::new(), String::new()),
            },
        }
    }
    Ok(look)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rmd_attributes_and_elements_are_read_the_rest_named() {
        let rmd = r#"<?xml version="1.0" encoding="UTF-8"?>
<red_metadata version="1.0">
  <clip name="A001_C001_0514XY" reel="A001" segments="3"/>
  <color iso="800" kelvin="5600" tint="0.5"/>
  <lens><lens_name>RED PRO 50mm</lens_name></lens>
  <look value="RWG_Log3G10 to REC709"/>
</red_metadata>"#;
        let l = parse_rmd(rmd).expect("parse");
        let get = |f: &str| {
            l.values
                .iter()
                .find(|(g, _, _)| *g == f)
                .map(|(_, v, s)| (v.as_str(), s.as_str()))
        };
        assert_eq!(get("iso"), Some(("800", "<color iso>")));
        assert_eq!(get("white_balance"), Some(("5600", "<color kelvin>")));
        assert_eq!(get("tint"), Some(("0.5", "<color tint>")));
        assert_eq!(get("lens"), Some(("RED PRO 50mm", "<lens_name>")));
        assert_eq!(get("look"), Some(("RWG_Log3G10 to REC709", "<look>")));
        assert_eq!(get("tape"), Some(("A001", "<clip reel>")));
        assert_eq!(l.left_out, vec!["version", "name", "segments"]);
        assert!(parse_rmd("not xml").is_err());
    }

    #[test]
    fn braw_sidecar_keys_are_read_the_rest_named() {
        let s = r#"{"reel_name": "A001", "scene": "12", "take": "3", "good_take": true,
            "iso": 800, "white_balance_kelvin": 5600, "white_balance_tint": 10,
            "lens_type": "Sigma 18-35mm", "post_3dlut_mode": "Embedded",
            "gamut": {"name": "Blackmagic Design"}}"#;
        let l = parse_braw_sidecar(s).expect("parse");
        let get = |f: &str| {
            l.values
                .iter()
                .find(|(g, _, _)| *g == f)
                .map(|(_, v, _)| v.as_str())
        };
        assert_eq!(get("iso"), Some("800"));
        assert_eq!(get("white_balance"), Some("5600"));
        assert_eq!(get("tint"), Some("10"));
        assert_eq!(get("lens"), Some("Sigma 18-35mm"));
        assert_eq!(get("circled"), Some("true"));
        assert_eq!(get("tape"), Some("A001"));
        assert_eq!(l.left_out, vec!["gamut.name", "post_3dlut_mode"]);
        assert!(parse_braw_sidecar("[1]").is_err());
    }
}
