//! Production-audio sample (camera-cards.md §3.14): Broadcast WAV with `bext` (written by ffmpeg)
//! and `iXML` (appended by [`super::riff`], since ffmpeg cannot write it).
//!
//! `S001T01.WAV`: polyphonic 4-track take, start TC 10:00:00:00 at 25 fps.
//! `S002T01_1.WAV`, `S002T01_2.WAV`: one take recorded mono-per-track, start 10:05:00:00, both
//! carrying the same iXML `FILE_SET/FAMILY_UID` (that is what joins them).

use super::ffmpeg::{FfCmd, Ffmpeg};
use super::files;
use super::riff;
use super::{SampleError, SampleOptions};
use std::path::Path;

const RATE: u64 = 48_000;

struct Take<'a> {
    scene: &'a str,
    take: &'a str,
    /// Samples since midnight (bext TimeReference).
    time_reference: u64,
    family_uid: &'a str,
    total_files: usize,
}

/// Samples since midnight for `HH:MM:SS` at 48 kHz.
fn samples_since_midnight(h: u64, m: u64, s: u64) -> u64 {
    ((h * 60 + m) * 60 + s) * RATE
}

pub(crate) fn bwf(ff: &Ffmpeg, root: &Path, opts: &SampleOptions) -> Result<(), SampleError> {
    files::create_dir(root)?;
    let secs = opts.clip_seconds;
    let poly = Take {
        scene: "S001",
        take: "01",
        time_reference: samples_since_midnight(10, 0, 0),
        family_uid: "SDF1A7C3E5B90D24681357924680ACE1",
        total_files: 1,
    };
    let mono = Take {
        scene: "S002",
        take: "01",
        time_reference: samples_since_midnight(10, 5, 0),
        family_uid: "SDF2B8D4F6C01E35792468035791BDF2",
        total_files: 2,
    };
    let tracks = ["Boom", "Lav 1", "Lav 2", "Mix L"];

    // Inputs 0-3 feed the poly take, 4-5 the two mono files.
    let mut cmd = FfCmd::new();
    for freq in [220, 440, 660, 880, 330, 550] {
        cmd.sine(freq, secs);
    }
    cmd.args([
        "-filter_complex",
        "[0:a][1:a][2:a][3:a]join=inputs=4:channel_layout=4.0[poly]",
    ]);
    bext_output(&mut cmd, "[poly]", &poly, &root.join("S001T01.WAV"), "quad");
    for (i, input) in ["4:a", "5:a"].iter().enumerate() {
        let out = root.join(format!("S002T01_{}.WAV", i + 1));
        bext_output(&mut cmd, input, &mono, &out, "mono");
    }
    ff.run(&cmd)?;

    riff::append_chunk(
        &root.join("S001T01.WAV"),
        *b"iXML",
        ixml(&poly, &tracks, 'A').as_bytes(),
    )?;
    for (i, track) in ["Boom", "Lav 1"].iter().enumerate() {
        let index = if i == 0 { 'A' } else { 'B' };
        riff::append_chunk(
            &root.join(format!("S002T01_{}.WAV", i + 1)),
            *b"iXML",
            ixml(&mono, &[track], index).as_bytes(),
        )?;
    }
    Ok(())
}

/// One 24-bit 48 kHz WAV output with a `bext` chunk. ffmpeg maps `description`, `originator`,
/// `originator_reference`, `origination_date/time`, `time_reference`, `coding_history` into it.
fn bext_output(cmd: &mut FfCmd, map: &str, take: &Take, out: &Path, mode: &str) {
    let description = format!(
        "sSCENE={}\r\nsTAKE={}\r\nsTAPE=240514\r\nsSPEED=025.000-ND\r\n",
        take.scene, take.take
    );
    let seconds = take.time_reference / RATE;
    cmd.args([
        "-map",
        map,
        "-c:a",
        "pcm_s24le",
        "-ar",
        "48000",
        "-write_bext",
        "1",
    ])
    .arg("-metadata")
    .arg(format!("description={description}"))
    .args(["-metadata", "originator=Sound Devices 833"])
    .arg("-metadata")
    .arg(format!(
        "originator_reference=USSDV{}{}",
        take.scene, take.take
    ))
    .args(["-metadata", "origination_date=2024-05-14"])
    .arg("-metadata")
    .arg(format!(
        "origination_time={:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    ))
    .arg("-metadata")
    .arg(format!("time_reference={}", take.time_reference))
    .arg("-metadata")
    .arg(format!(
        "coding_history=A=PCM,F=48000,W=24,M={mode},T=833;\r\n"
    ))
    .args(["-f", "wav"])
    .output(out);
}

/// The iXML document of one file of `take` (`index` = FILE_SET_INDEX letter).
fn ixml(take: &Take, tracks: &[&str], index: char) -> String {
    let track_list: String = tracks
        .iter()
        .enumerate()
        .map(|(i, name)| {
            format!(
                "\t\t<TRACK>\n\t\t\t<CHANNEL_INDEX>{n}</CHANNEL_INDEX>\n\t\t\t<INTERLEAVE_INDEX>{n}</INTERLEAVE_INDEX>\n\t\t\t<NAME>{}</NAME>\n\t\t</TRACK>\n",
                files::xml_escape(name),
                n = i + 1
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<BWFXML>\n\
\t<IXML_VERSION>2.10</IXML_VERSION>\n\
\t<PROJECT>Harbour</PROJECT>\n\
\t<SCENE>{scene}</SCENE>\n\
\t<TAKE>{take}</TAKE>\n\
\t<TAPE>240514</TAPE>\n\
\t<CIRCLED>TRUE</CIRCLED>\n\
\t<NOTE>sample take</NOTE>\n\
\t<SPEED>\n\
\t\t<MASTER_SPEED>25/1</MASTER_SPEED>\n\
\t\t<CURRENT_SPEED>25/1</CURRENT_SPEED>\n\
\t\t<TIMECODE_RATE>25/1</TIMECODE_RATE>\n\
\t\t<TIMECODE_FLAG>NDF</TIMECODE_FLAG>\n\
\t\t<FILE_SAMPLE_RATE>48000</FILE_SAMPLE_RATE>\n\
\t\t<AUDIO_BIT_DEPTH>24</AUDIO_BIT_DEPTH>\n\
\t\t<TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>0</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>\n\
\t\t<TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>{tr}</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>\n\
\t\t<TIMESTAMP_SAMPLE_RATE>48000</TIMESTAMP_SAMPLE_RATE>\n\
\t</SPEED>\n\
\t<TRACK_LIST>\n\
\t\t<TRACK_COUNT>{count}</TRACK_COUNT>\n\
{track_list}\
\t</TRACK_LIST>\n\
\t<FILE_SET>\n\
\t\t<TOTAL_FILES>{total}</TOTAL_FILES>\n\
\t\t<FAMILY_UID>{family}</FAMILY_UID>\n\
\t\t<FAMILY_NAME>{scene}T{take}</FAMILY_NAME>\n\
\t\t<FILE_SET_INDEX>{index}</FILE_SET_INDEX>\n\
\t</FILE_SET>\n\
</BWFXML>\n",
        scene = take.scene,
        take = take.take,
        tr = take.time_reference,
        count = tracks.len(),
        total = take.total_files,
        family = take.family_uid,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_reference_is_samples_since_midnight() {
        assert_eq!(samples_since_midnight(10, 0, 0), 1_728_000_000);
        assert_eq!(samples_since_midnight(10, 5, 0), 1_742_400_000);
    }

    #[test]
    fn ixml_is_well_formed_with_family() {
        let take = Take {
            scene: "S002",
            take: "01",
            time_reference: 1_742_400_000,
            family_uid: "F00D",
            total_files: 2,
        };
        let xml = ixml(&take, &["Boom"], 'B');
        let doc = roxmltree::Document::parse(&xml).expect("well-formed");
        let text = |name: &str| {
            doc.descendants()
                .find(|n| n.tag_name().name() == name)
                .and_then(|n| n.text())
                .map(str::to_string)
        };
        assert_eq!(text("FAMILY_UID").as_deref(), Some("F00D"));
        assert_eq!(text("FILE_SET_INDEX").as_deref(), Some("B"));
        assert_eq!(text("TRACK_COUNT").as_deref(), Some("1"));
        assert_eq!(text("NAME").as_deref(), Some("Boom"));
        assert_eq!(text("TIMECODE_RATE").as_deref(), Some("25/1"));
    }
}
