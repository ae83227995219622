//! Short lower-case video codec names for `ClipMetadata::video_codec`.
//!
//! The chosen vocabulary is ffmpeg's codec names (what `ffprobe` prints as `codec_name`), so
//! ffprobe results pass through unchanged and MediaInfo's `Format` is mapped onto them:
//! AVC → h264, HEVC → hevc, MPEG Video → mpeg2video (mpeg1video for version 1), DV → dvvideo,
//! ProRes → prores, VC-3 → dnxhd, JPEG 2000 → jpeg2000, MPEG-4 Visual → mpeg4, CineForm → cfhd.
//! Unknown formats are lower-cased with spaces → `_`.

/// Maps MediaInfo's video `Format` (+ `Format_Version`) to the ffmpeg codec name.
pub fn from_mediainfo(format: &str, format_version: Option<&str>) -> String {
    match format.trim() {
        "AVC" => "h264".into(),
        "HEVC" => "hevc".into(),
        "MPEG Video" if format_version.map(str::trim) == Some("1") => "mpeg1video".into(),
        "MPEG Video" => "mpeg2video".into(),
        "DV" => "dvvideo".into(),
        "ProRes" => "prores".into(),
        "VC-3" | "DNxHD" | "DNxHR" => "dnxhd".into(),
        "JPEG 2000" => "jpeg2000".into(),
        "MPEG-4 Visual" => "mpeg4".into(),
        "CineForm" => "cfhd".into(),
        "JPEG" => "mjpeg".into(),
        "AV1" => "av1".into(),
        "VP9" => "vp9".into(),
        "VP8" => "vp8".into(),
        "DPX" => "dpx".into(),
        "EXR" => "exr".into(),
        "TIFF" => "tiff".into(),
        other => other.to_lowercase().replace(' ', "_"),
    }
}

/// Maps a camera sidecar codec label (P2 `Codec`, Sony `videoCodec`) to the ffmpeg name, when
/// it is recognisable: AVC-Intra/AVC-LongG → h264, DVCPRO/DV → dvvideo, MPEG2/IMX → mpeg2video,
/// XAVC → h264 (HEVC variants contain "HEVC").
pub fn from_sidecar_label(label: &str) -> Option<String> {
    let l = label.to_ascii_uppercase();
    let name = if l.contains("HEVC") || l.contains("H265") {
        "hevc"
    } else if l.starts_with("AVC") || l.contains("XAVC") || l.contains("H264") {
        "h264"
    } else if l.starts_with("DVCPRO") || l.starts_with("DV") {
        "dvvideo"
    } else if l.contains("MPEG2") || l.starts_with("IMX") || l.contains("MPEG-2") {
        "mpeg2video"
    } else if l.contains("PRORES") {
        "prores"
    } else {
        return None;
    };
    Some(name.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mediainfo_formats() {
        assert_eq!(from_mediainfo("AVC", None), "h264");
        assert_eq!(from_mediainfo("MPEG Video", Some("2")), "mpeg2video");
        assert_eq!(from_mediainfo("MPEG Video", Some("1")), "mpeg1video");
        assert_eq!(from_mediainfo("VC-3", None), "dnxhd");
        assert_eq!(from_mediainfo("DV", None), "dvvideo");
        assert_eq!(from_mediainfo("Some Thing", None), "some_thing");
    }

    #[test]
    fn sidecar_labels() {
        assert_eq!(
            from_sidecar_label("AVC-I_1080/50i").as_deref(),
            Some("h264")
        );
        assert_eq!(
            from_sidecar_label("DVCPROHD_1080/59.94i").as_deref(),
            Some("dvvideo")
        );
        assert_eq!(
            from_sidecar_label("MPEG2HD422_422P@HL").as_deref(),
            Some("mpeg2video")
        );
        assert_eq!(from_sidecar_label("RAW"), None);
    }
}
