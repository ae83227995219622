//! Named proxy presets: resolution, bit rates and which source channels feed the stereo pair,
//! plus the per-family defaults a media manager expects (issue 13): broadcast and consumer
//! cameras get the verified 720p proxy (camera-cards.md §7), cinema cameras (ARRI, RED,
//! BRAW, scanned sequences) 1080p, where producers judge focus and detail.

use super::{AudioMix, ProxySpec};
use crate::card::Family;

/// One named preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyPreset {
    pub name: &'static str,
    /// Never taller than this (never upscaled).
    pub max_height: u32,
    /// Target and peak video bits per second (the peak is also the 1-s VBV buffer).
    pub video_bitrate: u32,
    pub max_bitrate: u32,
    pub audio_bitrate: u32,
    pub audio_mix: AudioMix,
}

const fn preset(
    name: &'static str,
    max_height: u32,
    video_bitrate: u32,
    max_bitrate: u32,
    audio_bitrate: u32,
    audio_mix: AudioMix,
) -> ProxyPreset {
    ProxyPreset {
        name,
        max_height,
        video_bitrate,
        max_bitrate,
        audio_bitrate,
        audio_mix,
    }
}

/// Every preset. `-ch1ch2`: CH1 → L, CH2 → R only, for cameras whose CH3–4 carry a scratch
/// mic; the others mix CH1+CH3 → L, CH2+CH4 → R (P2/XDCAM convention).
pub const PRESETS: [ProxyPreset; 6] = [
    preset("540p", 540, 1_500_000, 2_000_000, 96_000, AudioMix::Default),
    preset(
        "720p",
        720,
        3_000_000,
        4_000_000,
        128_000,
        AudioMix::Default,
    ),
    preset(
        "1080p",
        1080,
        6_000_000,
        8_000_000,
        192_000,
        AudioMix::Default,
    ),
    preset(
        "540p-ch1ch2",
        540,
        1_500_000,
        2_000_000,
        96_000,
        AudioMix::Ch1Ch2Only,
    ),
    preset(
        "720p-ch1ch2",
        720,
        3_000_000,
        4_000_000,
        128_000,
        AudioMix::Ch1Ch2Only,
    ),
    preset(
        "1080p-ch1ch2",
        1080,
        6_000_000,
        8_000_000,
        192_000,
        AudioMix::Ch1Ch2Only,
    ),
];

#[derive(Debug, thiserror::Error)]
#[error("proxy preset {name:?} is not one of {}", names().join(", "))]
pub struct PresetError {
    pub name: String,
}

/// The preset names, in [`PRESETS`] order.
pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

/// The preset called `name`.
pub fn find(name: &str) -> Result<ProxyPreset, PresetError> {
    PRESETS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name.trim()))
        .copied()
        .ok_or_else(|| PresetError {
            name: name.to_owned(),
        })
}

/// The default preset for a camera family.
pub fn family_default(family: Family) -> ProxyPreset {
    let name = match family {
        Family::Red | Family::Arri | Family::Braw | Family::ImageSequence => "1080p",
        _ => "720p",
    };
    find(name).unwrap_or(PRESETS[1])
}

impl ProxyPreset {
    /// `spec` with this preset's size, rates and mix (encoder, look, burn-in kept).
    pub fn apply(&self, spec: ProxySpec) -> ProxySpec {
        ProxySpec {
            max_height: self.max_height,
            video_bitrate: self.video_bitrate,
            max_bitrate: self.max_bitrate,
            audio_bitrate: self.audio_bitrate,
            audio_mix: self.audio_mix,
            ..spec
        }
    }

    /// "720p · 3 Mb/s · CH1+CH3 → L, CH2+CH4 → R", for the settings and the step detail.
    pub fn summary(&self) -> String {
        format!(
            "{} lines · {} Mb/s video · {} kb/s audio · {}",
            self.max_height,
            f64::from(self.video_bitrate) / 1e6,
            self.audio_bitrate / 1000,
            self.audio_mix.label()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_720p_preset_is_the_verified_default_spec() {
        let spec = find("720p").unwrap().apply(ProxySpec::default());
        assert_eq!(spec, ProxySpec::default());
        assert_eq!(family_default(Family::P2).name, "720p");
        assert_eq!(family_default(Family::Arri).name, "1080p");
        let ch = find("1080P-CH1CH2").unwrap();
        assert_eq!((ch.max_height, ch.audio_mix), (1080, AudioMix::Ch1Ch2Only));
        let err = find("4k").unwrap_err().to_string();
        assert!(
            err.contains("\"4k\"") && err.contains("540p, 720p, 1080p"),
            "{err}"
        );
        assert_eq!(
            find("540p").unwrap().summary(),
            "540 lines · 1.5 Mb/s video · 96 kb/s audio · CH1+CH3 → L, CH2+CH4 → R"
        );
    }
}
