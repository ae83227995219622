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
    let needed = match mix {
        AudioMix::Default => 4,
        AudioMix::Ch1Ch2Only => 2,
    };
    // Only the streams that hold the channels the mix uses: fewer decoders, smaller amerge.
    let mut selected: Vec<&AudioSource> = Vec::new();
    let mut total = 0;
    for s in sources.iter().filter(|s| s.channels > 0) {
        if total >= needed {
            break;
        }
        total += s.channels;
        selected.push(s);
    }
    let first = selected.first()?;
    if selected.len() == 1 {
        let body = if total == 2 {
            // A stereo source goes through as it is.
            "aformat=channel_layouts=stereo".to_owned()
        } else {
            pan(total, mix)
        };
        return Some(format!("{}{body}{out}", first.pad));
    }
    let pads: String = selected.iter().map(|s| s.pad.as_str()).collect();
    Some(format!(
        "{pads}amerge=inputs={},{}{out}",
        selected.len(),
        pan(total, mix)
    ))
}

/// `pan` for `channels` merged input channels.
fn pan(channels: u32, mix: AudioMix) -> String {
    let body = match (channels, mix) {
        (1, _) => "c0=c0|c1=c0",
        (2, _) | (_, AudioMix::Ch1Ch2Only) => "c0=c0|c1=c1",
        (3, AudioMix::Default) => "c0=0.5*c0+0.5*c2|c1=c1",
        (_, AudioMix::Default) => "c0=0.5*c0+0.5*c2|c1=0.5*c1+0.5*c3",
    };
    format!("pan=stereo|{body}")
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
}
