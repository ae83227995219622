//! The proxy's stereo mix as an ffmpeg filter chain, from the clip's audio streams in channel
//! order (P2: one mono file per channel; XDCAM OP1a: N mono tracks in one file; MP4: one stereo
//! stream). camera-cards.md §7: CH1+CH3 → L, CH2+CH4 → R by default.

use super::AudioMix;

/// One audio stream feeding the mix: its filter pad (e.g. `[1:a:0]`) and channel count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioSource {
    pub pad: String,
    pub channels: u32,
}

/// Filter chain turning `sources` into stereo, ending in the pad `out` (e.g. `[a]`).
/// `None` when there is no audio: the proxy then has no audio track (none is invented).
pub fn mix_chain(sources: &[AudioSource], mix: AudioMix, out: &str) -> Option<String> {
    let selected: Vec<&AudioSource> = mixed_sources(sources, mix)
        .into_iter()
        .map(|i| &sources[i])
        .collect();
    let total: u32 = selected.iter().map(|s| s.channels).sum();
    let first = selected.first()?;
    let pan = pan(total, mix);
    if selected.len() == 1 {
        let body = if pan == IDENTITY {
            // A stereo source mapped L/R goes through as it is.
            "aformat=channel_layouts=stereo".to_owned()
        } else {
            pan
        };
        return Some(format!("{}{body}{out}", first.pad));
    }
    let pads: String = selected.iter().map(|s| s.pad.as_str()).collect();
    Some(format!("{pads}amerge=inputs={},{pan}{out}", selected.len()))
}

/// Indices of the `sources` the mix reads: only the streams that hold the channels it uses
/// (fewer decoders, a smaller amerge).
pub fn mixed_sources(sources: &[AudioSource], mix: AudioMix) -> Vec<usize> {
    let needed = mix.channels_needed().max(1);
    let mut selected = Vec::new();
    let mut total = 0;
    for (i, s) in sources.iter().enumerate().filter(|(_, s)| s.channels > 0) {
        if total >= needed {
            break;
        }
        total += s.channels;
        selected.push(i);
    }
    selected
}

const IDENTITY: &str = "pan=stereo|c0=c0|c1=c1";

/// One side of the pan: the mean of the mapped channels that exist, e.g. `0.5*c0+0.5*c2`.
fn side(channels: u32, mask: u8) -> Option<String> {
    let present: Vec<u32> = (0..channels.min(8))
        .filter(|k| mask & (1 << k) != 0)
        .collect();
    match present.len() {
        0 => None,
        1 => Some(format!("c{}", present[0])),
        n => {
            let gain = format!("{:.3}", 1.0 / n as f64);
            let gain = gain.trim_end_matches('0');
            Some(
                present
                    .iter()
                    .map(|k| format!("{gain}*c{k}"))
                    .collect::<Vec<_>>()
                    .join("+"),
            )
        }
    }
}

/// `pan` for `channels` merged input channels.
fn pan(channels: u32, mix: AudioMix) -> String {
    let (l, r) = mix.sides();
    let (left, right) = match (side(channels, l), side(channels, r)) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a.clone(), a),
        (None, Some(b)) => (b.clone(), b),
        // None of the mapped channels exist (CH3/CH4 on a stereo file): the usual mix instead.
        (None, None) if mix != AudioMix::Default => return pan(channels, AudioMix::Default),
        (None, None) => ("c0".to_owned(), "c0".to_owned()),
    };
    format!("pan=stereo|c0={left}|c1={right}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mono(pads: &[&str]) -> Vec<AudioSource> {
        pads.iter()
            .map(|p| AudioSource {
                pad: (*p).into(),
                channels: 1,
            })
            .collect()
    }

    #[test]
    fn p2_four_monos_default_and_ch1_ch2() {
        let s = mono(&["[1:a:0]", "[2:a:0]", "[3:a:0]", "[4:a:0]"]);
        assert_eq!(
            mix_chain(&s, AudioMix::Default, "[a]").unwrap(),
            "[1:a:0][2:a:0][3:a:0][4:a:0]amerge=inputs=4,pan=stereo|c0=0.5*c0+0.5*c2|c1=0.5*c1+0.5*c3[a]"
        );
        assert_eq!(
            mix_chain(&s, AudioMix::Ch1Ch2Only, "[a]").unwrap(),
            "[1:a:0][2:a:0]amerge=inputs=2,pan=stereo|c0=c0|c1=c1[a]"
        );
    }

    #[test]
    fn eight_mono_tracks_use_the_first_four() {
        let pads: Vec<String> = (0..8).map(|k| format!("[0:a:{k}]")).collect();
        let refs: Vec<&str> = pads.iter().map(String::as_str).collect();
        assert_eq!(
            mix_chain(&mono(&refs), AudioMix::Default, "[a]").unwrap(),
            "[0:a:0][0:a:1][0:a:2][0:a:3]amerge=inputs=4,pan=stereo|c0=0.5*c0+0.5*c2|c1=0.5*c1+0.5*c3[a]"
        );
    }

    #[test]
    fn two_monos_one_mono_stereo_and_none() {
        assert_eq!(
            mix_chain(&mono(&["[1:a:0]", "[2:a:0]"]), AudioMix::Default, "[a]").unwrap(),
            "[1:a:0][2:a:0]amerge=inputs=2,pan=stereo|c0=c0|c1=c1[a]"
        );
        assert_eq!(
            mix_chain(&mono(&["[0:a:0]"]), AudioMix::Default, "[a]").unwrap(),
            "[0:a:0]pan=stereo|c0=c0|c1=c0[a]"
        );
        let stereo = [AudioSource {
            pad: "[0:a:0]".into(),
            channels: 2,
        }];
        assert_eq!(
            mix_chain(&stereo, AudioMix::Default, "[a0]").unwrap(),
            "[0:a:0]aformat=channel_layouts=stereo[a0]"
        );
        assert_eq!(mix_chain(&[], AudioMix::Default, "[a]"), None);
    }

    #[test]
    fn explicit_maps_pick_and_average_channels() {
        let s = mono(&["[1:a:0]", "[2:a:0]", "[3:a:0]", "[4:a:0]"]);
        // CH1 on both sides: one stream read, copied to R.
        let ch1 = AudioMix::Map {
            left: 0b1,
            right: 0b1,
        };
        assert_eq!(
            mix_chain(&s, ch1, "[a]").unwrap(),
            "[1:a:0]pan=stereo|c0=c0|c1=c0[a]"
        );
        let three = AudioMix::Map {
            left: 0b0111,
            right: 0b1000,
        };
        assert_eq!(
            mix_chain(&s, three, "[a]").unwrap(),
            "[1:a:0][2:a:0][3:a:0][4:a:0]amerge=inputs=4,pan=stereo|c0=0.333*c0+0.333*c1+0.333*c2|c1=c3[a]"
        );
        // CH3+CH4 only on a stereo file: those channels do not exist, the usual L/R is kept.
        let stereo = [AudioSource {
            pad: "[0:a:0]".into(),
            channels: 2,
        }];
        let scratch = AudioMix::Map {
            left: 0b0100,
            right: 0b1000,
        };
        assert_eq!(
            mix_chain(&stereo, scratch, "[a]").unwrap(),
            "[0:a:0]aformat=channel_layouts=stereo[a]"
        );
        assert_eq!(AudioMix::Default.label(), "CH1+CH3 → L, CH2+CH4 → R");
        assert_eq!(AudioMix::Default.channels_needed(), 4);
    }
}
