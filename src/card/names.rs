//! Case-insensitive name helpers: cards on FAT/exFAT (and copies of them) may change case, so
//! every comparison works on lowercase names and ids use uppercase card-relative paths.

/// Splits a (lowercase or not) file name into stem and extension (without the dot).
/// `"0002EM.MXF"` → `("0002EM", "MXF")`; a name without a dot has an empty extension.
pub fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i + 1..]),
        _ => (name, ""),
    }
}

/// Lowercase extension of a name.
pub fn ext_lower(name: &str) -> String {
    split_ext(name).1.to_ascii_lowercase()
}

/// True when every char of `s` is an ASCII digit and `s` is not empty.
pub fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// DCF folder name `NNNXXXXX` (3 digits 100–999 + 5 alphanumerics or `_`), e.g. `100GOPRO`,
/// `100_PANA`. Returns the 5-char suffix in uppercase.
pub fn dcf_folder_suffix(name: &str) -> Option<String> {
    let b = name.as_bytes();
    if b.len() != 8 || !name.is_ascii() || !all_digits(&name[..3]) || b[0] == b'0' {
        return None;
    }
    let suffix = &name[3..];
    suffix
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'_')
        .then(|| suffix.to_ascii_uppercase())
}

/// Extensions of picture/audio essence handled by the generic grouping (lowercase).
pub const VIDEO_EXTS: &[&str] = &[
    "mp4", "mov", "mxf", "mts", "m2ts", "avi", "mkv", "m4v", "mpg", "mpeg", "360", "insv", "crm",
    "braw", "r3d", "wmv", "webm", "3gp", "mod", "tod", "vob",
];
pub const AUDIO_EXTS: &[&str] = &[
    "wav", "bwf", "mp3", "aac", "m4a", "flac", "aif", "aiff", "ogg", "opus", "wma",
];
pub const STILL_EXTS: &[&str] = &[
    "jpg", "jpeg", "heic", "heif", "png", "tif", "tiff", "dng", "cr2", "cr3", "crw", "nef", "nrw",
    "arw", "srf", "sr2", "raf", "orf", "rw2", "pef", "srw", "x3f", "gpr", "dpx", "exr", "ari",
    "arx",
];
/// Raw stills preferred over a same-basename JPEG as the shot's main file.
pub const RAW_STILL_EXTS: &[&str] = &[
    "dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "raf", "orf", "rw2", "pef",
    "srw", "x3f", "gpr",
];

pub fn is_one_of(ext_lower: &str, list: &[&str]) -> bool {
    list.contains(&ext_lower)
}

/// Strips a trailing run of ASCII digits: `"A001C001.0086400"` → `("A001C001.", "0086400")`.
pub fn split_trailing_digits(stem: &str) -> (&str, &str) {
    let cut = stem
        .bytes()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    (&stem[..cut], &stem[cut..])
}

/// An all-zero (or empty) hex id, as ffmpeg writes with `+bitexact`: never an identity.
pub fn is_zero_id(id: &str) -> bool {
    id.trim_start_matches("0x")
        .trim_start_matches("0X")
        .bytes()
        .all(|b| b == b'0' || b == b'.' || b == b'-' || b == b' ')
}

/// Normalises a hex UMID/GlobalClipID for ids: uppercase, no `0x`/separators.
pub fn norm_hex_id(id: &str) -> String {
    let t = id.trim();
    let t = t
        .strip_prefix("urn:smpte:umid:")
        .or_else(|| t.strip_prefix("0x"))
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    t.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_names() {
        assert_eq!(split_ext("0002EM.MXF"), ("0002EM", "MXF"));
        assert_eq!(split_ext(".DS_Store"), (".DS_Store", ""));
        assert_eq!(split_ext("README"), ("README", ""));
        assert_eq!(
            split_trailing_digits("A001C001.0086400"),
            ("A001C001.", "0086400")
        );
        assert_eq!(split_trailing_digits("123"), ("", "123"));
        assert_eq!(dcf_folder_suffix("100gopro").as_deref(), Some("GOPRO"));
        assert_eq!(dcf_folder_suffix("100_PANA").as_deref(), Some("_PANA"));
        assert_eq!(dcf_folder_suffix("DJI_001"), None);
        // 8 bytes, not 8 chars: must not slice inside a multi-byte char.
        assert_eq!(dcf_folder_suffix("10é1234"), None);
        assert!(is_zero_id("0x0000000000"));
        assert!(!is_zero_id("060A2B34"));
        assert_eq!(norm_hex_id("0x060a2b34.0101"), "060A2B340101");
        assert_eq!(norm_hex_id("urn:smpte:umid:060a2b34"), "060A2B34");
    }
}
