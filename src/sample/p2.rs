//! Panasonic P2 sample cards (camera-cards.md §3.1): OP-Atom H.264 video + four mono 24-bit
//! OP-Atom audio files per clip, the `P2Main` clip XML, ICON BMP, PROXY MP4, a voice memo.
//!
//! Card A (`CARDA0001`): `0002EM` complete (TC 10:00:00:00) and `0003AB`, the first 50 frames of
//! a shot continued on card B (`CARDB0001`) as `0004CD` (25 frames, TC 11:00:02:00).

use super::ffmpeg::{FfCmd, Ffmpeg};
use super::files::{self, umid_hex, xml_escape};
use super::{SampleError, SampleOptions};
use std::path::Path;

const CAMERA_MODEL: &str = "AJ-PX270";
const CAMERA_SERIAL: &str = "E4TA01234";
const CARD_A_SERIAL: &str = "CARDA0001";
const CARD_B_SERIAL: &str = "CARDB0001";
const AUDIO_CHANNELS: u32 = 4;

/// How a clip takes part in a span (`Relation/Connection`).
enum Link<'a> {
    /// Not spanned: no `Relation` element.
    None,
    /// First part: Top = itself, Next = the clip on another card.
    First {
        next_name: &'a str,
        next_id: &'a str,
        next_card: &'a str,
    },
    /// A later part: Top and Previous name earlier clips.
    Later {
        top_id: &'a str,
        previous_id: &'a str,
        offset_frames: u32,
    },
}

struct P2Clip<'a> {
    name: &'a str,
    card_serial: &'a str,
    seconds: u32,
    timecode: &'a str,
    user_clip_name: &'a str,
    /// RFC 3339 with the camera's UTC offset.
    date: &'a str,
    link: Link<'a>,
    voice_memo: bool,
}

impl P2Clip<'_> {
    fn id(&self) -> String {
        umid_hex(&format!("{}/{}", self.card_serial, self.name))
    }
}

pub(crate) fn card_a(ff: &Ffmpeg, root: &Path, opts: &SampleOptions) -> Result<(), SampleError> {
    skeleton(root)?;
    write_clip(
        ff,
        root,
        opts,
        &P2Clip {
            name: "0002EM",
            card_serial: CARD_A_SERIAL,
            seconds: opts.clip_seconds,
            timecode: "10:00:00:00",
            user_clip_name: "Interview take 1",
            date: "2024-05-14T10:00:00+02:00",
            link: Link::None,
            voice_memo: true,
        },
    )?;
    let next_id = span_second().id();
    write_clip(
        ff,
        root,
        opts,
        &P2Clip {
            name: "0003AB",
            card_serial: CARD_A_SERIAL,
            seconds: 2,
            timecode: "11:00:00:00",
            user_clip_name: "Stage wide",
            date: "2024-05-14T11:00:00+02:00",
            link: Link::First {
                next_name: "0004CD",
                next_id: &next_id,
                next_card: CARD_B_SERIAL,
            },
            voice_memo: false,
        },
    )?;
    files::write(&root.join("LASTCLIP.TXT"), "0003AB\r\n")?;
    if opts.with_junk {
        files::mac_junk(
            root,
            &["CONTENTS/VIDEO/0002EM.MXF", "CONTENTS/AUDIO/0002EM00.MXF"],
        )?;
    }
    Ok(())
}

pub(crate) fn card_b(ff: &Ffmpeg, root: &Path, opts: &SampleOptions) -> Result<(), SampleError> {
    skeleton(root)?;
    let top = span_first_id();
    write_clip(
        ff,
        root,
        opts,
        &P2Clip {
            link: Link::Later {
                top_id: &top,
                previous_id: &top,
                offset_frames: 50,
            },
            ..span_second()
        },
    )?;
    files::write(&root.join("LASTCLIP.TXT"), "0004CD\r\n")
}

fn span_first_id() -> String {
    umid_hex(&format!("{CARD_A_SERIAL}/0003AB"))
}

/// `0004CD` without its links (they need the first part's id).
fn span_second() -> P2Clip<'static> {
    P2Clip {
        name: "0004CD",
        card_serial: CARD_B_SERIAL,
        seconds: 1,
        timecode: "11:00:02:00",
        user_clip_name: "Stage wide",
        date: "2024-05-14T11:00:02+02:00",
        link: Link::None,
        voice_memo: false,
    }
}

fn skeleton(root: &Path) -> Result<(), SampleError> {
    for sub in ["CLIP", "VIDEO", "AUDIO", "ICON", "PROXY", "VOICE"] {
        files::create_dir(&root.join("CONTENTS").join(sub))?;
    }
    Ok(())
}

/// One ffmpeg run writes every essence file of the clip (video, 4 audio, proxy, icon, memo).
fn write_clip(
    ff: &Ffmpeg,
    root: &Path,
    opts: &SampleOptions,
    clip: &P2Clip,
) -> Result<(), SampleError> {
    let c = root.join("CONTENTS");
    let name = clip.name;
    let mut cmd = FfCmd::new();
    cmd.video_src(&opts.size(), "25", clip.seconds);
    for ch in 0..AUDIO_CHANNELS {
        cmd.sine(440 + 110 * ch, clip.seconds);
    }
    let mut graph = String::from(
        "[0:v]split=3[v][vp0][vi0];[vp0]scale=160:90[vp];[vi0]scale=112:80[vi];\
         [1:a]asplit=2[a0][ap]",
    );
    if clip.voice_memo {
        cmd.sine(1000, 1);
        graph.push_str(";[5:a]anull[memo]");
    }
    cmd.args(["-filter_complex", &graph]);
    // OP-Atom takes exactly one stream per file; long-GOP H.264 needs -bf 0 (camera-cards.md §6).
    cmd.args([
        "-map", "[v]", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "12", "-bf", "0",
    ])
    .args(["-timecode", clip.timecode, "-f", "mxf_opatom"])
    .output(&c.join(format!("VIDEO/{name}.MXF")));
    for ch in 0..AUDIO_CHANNELS {
        let map = if ch == 0 {
            "[a0]".to_string()
        } else {
            format!("{}:a", ch + 1)
        };
        cmd.args([
            "-map",
            &map,
            "-c:a",
            "pcm_s24le",
            "-timecode",
            clip.timecode,
        ])
        .args(["-mxf_audio_edit_rate", "25", "-f", "mxf_opatom"])
        .output(&c.join(format!("AUDIO/{name}{ch:02}.MXF")));
    }
    cmd.args([
        "-map", "[vp]", "-map", "[ap]", "-c:v", "libx264", "-pix_fmt", "yuv420p",
    ])
    .args([
        "-c:a",
        "aac",
        "-ac",
        "2",
        "-timecode",
        clip.timecode,
        "-f",
        "mp4",
    ])
    .output(&c.join(format!("PROXY/{name}.MP4")));
    cmd.args([
        "-map",
        "[vi]",
        "-frames:v",
        "1",
        "-c:v",
        "bmp",
        "-update",
        "1",
    ])
    .args(["-f", "image2"])
    .output(&c.join(format!("ICON/{name}.BMP")));
    if clip.voice_memo {
        cmd.args(["-map", "[memo]", "-c:a", "pcm_s16le", "-f", "wav"])
            .output(&c.join(format!("VOICE/{name}00.WAV")));
    }
    ff.run(&cmd)?;
    files::write(&c.join(format!("CLIP/{name}.XML")), clip_xml(clip, opts))
}

fn clip_xml(clip: &P2Clip, opts: &SampleOptions) -> String {
    let frames = clip.seconds * 25;
    let id = clip.id();
    let audio = "\t\t\t<Audio>\n\t\t\t\t<SamplingRate>48000</SamplingRate>\n\t\t\t\t<BitsPerSample>24</BitsPerSample>\n\t\t\t</Audio>\n"
        .repeat(AUDIO_CHANNELS as usize);
    let relation = match &clip.link {
        Link::None => String::new(),
        Link::First {
            next_name,
            next_id,
            next_card,
        } => format!(
            "\t\t<Relation>\n\t\t\t<OffsetInShot>0</OffsetInShot>\n\t\t\t<GlobalShotID>{id}</GlobalShotID>\n\
             \t\t\t<Connection>\n\t\t\t\t<Top>\n\t\t\t\t\t<GlobalClipID>{id}</GlobalClipID>\n\t\t\t\t</Top>\n\
             \t\t\t\t<Next>\n\t\t\t\t\t<ClipName>{next_name}</ClipName>\n\
             \t\t\t\t\t<GlobalClipID>{next_id}</GlobalClipID>\n\
             \t\t\t\t\t<P2SerialNo.>{next_card}</P2SerialNo.>\n\t\t\t\t</Next>\n\
             \t\t\t</Connection>\n\t\t</Relation>\n"
        ),
        Link::Later {
            top_id,
            previous_id,
            offset_frames,
        } => format!(
            "\t\t<Relation>\n\t\t\t<OffsetInShot>{offset_frames}</OffsetInShot>\n\
             \t\t\t<GlobalShotID>{top_id}</GlobalShotID>\n\
             \t\t\t<Connection>\n\t\t\t\t<Top>\n\t\t\t\t\t<GlobalClipID>{top_id}</GlobalClipID>\n\t\t\t\t</Top>\n\
             \t\t\t\t<Previous>\n\t\t\t\t\t<GlobalClipID>{previous_id}</GlobalClipID>\n\t\t\t\t</Previous>\n\
             \t\t\t</Connection>\n\t\t</Relation>\n"
        ),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\" ?>\n\
<P2Main xmlns=\"urn:schemas-Professional-Plug-in:P2:ClipMetadata:v3.1\">\n\
\t<ClipContent>\n\
\t\t<ClipName>{name}</ClipName>\n\
\t\t<GlobalClipID>{id}</GlobalClipID>\n\
\t\t<Duration>{frames}</Duration>\n\
\t\t<EditUnit>1/25</EditUnit>\n\
\t\t<EssenceList>\n\
\t\t\t<Video>\n\
\t\t\t\t<Codec Class=\"LongG50\">AVC-LongG50</Codec>\n\
\t\t\t\t<ActiveLine>{h}</ActiveLine>\n\
\t\t\t\t<ActivePixel>{w}</ActivePixel>\n\
\t\t\t\t<BitDepth>8</BitDepth>\n\
\t\t\t\t<FrameRate>25p</FrameRate>\n\
\t\t\t\t<StartTimecode>{tc}</StartTimecode>\n\
\t\t\t\t<StartBinaryGroup>00000000</StartBinaryGroup>\n\
\t\t\t\t<DropFrameFlag>false</DropFrameFlag>\n\
\t\t\t\t<AspectRatio>16:9</AspectRatio>\n\
\t\t\t</Video>\n\
{audio}\
\t\t</EssenceList>\n\
{relation}\
\t\t<ClipMetadata>\n\
\t\t\t<UserClipName>{user}</UserClipName>\n\
\t\t\t<DataSource>SHOOTING</DataSource>\n\
\t\t\t<Access>\n\
\t\t\t\t<CreationDate>{date}</CreationDate>\n\
\t\t\t\t<LastUpdateDate>{date}</LastUpdateDate>\n\
\t\t\t</Access>\n\
\t\t\t<Device>\n\
\t\t\t\t<Manufacturer>Panasonic</Manufacturer>\n\
\t\t\t\t<SerialNo.>{serial}</SerialNo.>\n\
\t\t\t\t<ModelName>{model}</ModelName>\n\
\t\t\t</Device>\n\
\t\t\t<Shoot>\n\
\t\t\t\t<StartDate>{date}</StartDate>\n\
\t\t\t</Shoot>\n\
\t\t\t<Thumbnail>\n\
\t\t\t\t<FrameOffset>0</FrameOffset>\n\
\t\t\t\t<Format>BMP</Format>\n\
\t\t\t\t<Width>112</Width>\n\
\t\t\t\t<Height>80</Height>\n\
\t\t\t</Thumbnail>\n\
\t\t</ClipMetadata>\n\
\t</ClipContent>\n\
</P2Main>\n",
        name = clip.name,
        w = opts.width,
        h = opts.height,
        tc = clip.timecode,
        user = xml_escape(clip.user_clip_name),
        date = clip.date,
        serial = CAMERA_SERIAL,
        model = CAMERA_MODEL,
    )
}

/// Card `CARDC0001` with `count` complete, unspanned clips `0101AA`, `0102AA`, ... (no voice
/// memos), e.g. the ingest engine's "3-clip P2 card".
pub(crate) fn card_complete(
    ff: &Ffmpeg,
    root: &Path,
    opts: &SampleOptions,
    count: u32,
) -> Result<(), SampleError> {
    skeleton(root)?;
    let names: Vec<String> = (1..=count).map(|i| format!("01{i:02}AA")).collect();
    let titles: Vec<String> = (1..=count).map(|i| format!("Take {i}")).collect();
    let codes: Vec<String> = (1..=count).map(|i| format!("12:{i:02}:00:00")).collect();
    for i in 0..names.len() {
        write_clip(
            ff,
            root,
            opts,
            &P2Clip {
                name: &names[i],
                card_serial: "CARDC0001",
                seconds: opts.clip_seconds,
                timecode: &codes[i],
                user_clip_name: &titles[i],
                date: "2024-05-15T09:00:00+02:00",
                link: Link::None,
                voice_memo: false,
            },
        )?;
    }
    let last = names.last().cloned().unwrap_or_default();
    files::write(&root.join("LASTCLIP.TXT"), format!("{last}\r\n"))
}

/// Card `CARDS0001` with `count` (1..=9999) complete, unspanned 1-per-file clips `0001AS`,
/// `0002AS`, ... with consecutive timecodes from 10:00:00:00: the bench's scale cards (issue 21:
/// hundreds to thousands of clips). Unlike [`card_complete`] (names `01NNAA`, TC `12:NN:00:00`,
/// 99 clips at most) every clip's essence differs (its own timecode in the MXF headers), so no
/// clip is taken for a duplicate of another by its MD5. Clips are written on `opts.jobs`
/// threads; the first error stops the others at their next clip. A clip whose XML exists is
/// kept as it is (the XML is written after its essence), so an interrupted generation of a
/// large card goes on where it stopped.
pub(crate) fn card_numbered(
    ff: &Ffmpeg,
    root: &Path,
    opts: &SampleOptions,
    count: u32,
) -> Result<(), SampleError> {
    skeleton(root)?;
    let next = std::sync::atomic::AtomicU32::new(1);
    let failed = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.clamp(1, 8) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let stop = failed.lock().unwrap_or_else(|e| e.into_inner()).is_some();
                    if i > count || stop {
                        break;
                    }
                    let start = 10 * 3600 + (i - 1) * opts.clip_seconds;
                    let tc = format!(
                        "{:02}:{:02}:{:02}:00",
                        (start / 3600) % 24,
                        (start / 60) % 60,
                        start % 60
                    );
                    let (name, title) = (format!("{i:04}AS"), format!("Shot {i}"));
                    let xml = root.join("CONTENTS/CLIP").join(format!("{name}.XML"));
                    if xml.is_file() {
                        continue;
                    }
                    let clip = P2Clip {
                        name: &name,
                        card_serial: "CARDS0001",
                        seconds: opts.clip_seconds,
                        timecode: &tc,
                        user_clip_name: &title,
                        date: "2024-05-15T09:00:00+02:00",
                        link: Link::None,
                        voice_memo: false,
                    };
                    if let Err(e) = write_clip(ff, root, opts, &clip) {
                        failed
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(e);
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    files::write(&root.join("LASTCLIP.TXT"), format!("{count:04}AS\r\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_xml_links_both_parts() {
        let opts = SampleOptions::default();
        let top = span_first_id();
        let second_id = span_second().id();
        let first = clip_xml(
            &P2Clip {
                name: "0003AB",
                card_serial: CARD_A_SERIAL,
                seconds: 2,
                timecode: "11:00:00:00",
                user_clip_name: "Stage wide",
                date: "2024-05-14T11:00:00+02:00",
                link: Link::First {
                    next_name: "0004CD",
                    next_id: &second_id,
                    next_card: CARD_B_SERIAL,
                },
                voice_memo: false,
            },
            &opts,
        );
        assert!(first.contains("<Duration>50</Duration>"));
        assert!(first.contains(&format!(
            "<Top>\n\t\t\t\t\t<GlobalClipID>{top}</GlobalClipID>"
        )));
        assert!(first.contains(&format!(
            "<ClipName>0004CD</ClipName>\n\t\t\t\t\t<GlobalClipID>{second_id}</GlobalClipID>\n\t\t\t\t\t<P2SerialNo.>CARDB0001</P2SerialNo.>"
        )));
        let second = clip_xml(
            &P2Clip {
                link: Link::Later {
                    top_id: &top,
                    previous_id: &top,
                    offset_frames: 50,
                },
                ..span_second()
            },
            &opts,
        );
        assert!(second.contains("<Duration>25</Duration>"));
        assert!(second.contains("<OffsetInShot>50</OffsetInShot>"));
        assert!(second.contains(&format!(
            "<Previous>\n\t\t\t\t\t<GlobalClipID>{top}</GlobalClipID>"
        )));
        assert!(second.contains("<StartTimecode>11:00:02:00</StartTimecode>"));
        assert_eq!(second.matches("<Audio>").count(), 4);
        let parsed = roxmltree::Document::parse(&second).expect("well-formed XML");
        assert_eq!(parsed.root_element().tag_name().name(), "P2Main");
    }
}
