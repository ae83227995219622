//! Broadcast WAV `bext` and iXML chunks, read from the RIFF structure directly (camera-cards.md
//! §3.14): ffprobe 5.1 does not expose iXML, and recorders may write iXML *after* the `data`
//! chunk, so every chunk header is walked (seeking over audio, never reading it). Files over
//! 4 GB are RF64: sizes of 0xFFFFFFFF are taken from the `ds64` chunk.
//!
//! bext layout (EBU Tech 3285): Description 256, Originator 32, OriginatorReference 32,
//! OriginationDate 10, OriginationTime 8, TimeReference u64 LE (samples since midnight),
//! Version u16, UMID 64, loudness 10, reserved 180, CodingHistory (rest).

use super::{child, clean_xml, descendant, text_at};
use crate::media::rate::Rational;
use crate::media::timecode::Timecode;
use std::io::{Read, Seek, SeekFrom};

#[derive(Debug, thiserror::Error)]
pub enum BwfError {
    #[error("cannot read WAV data: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a WAV file (no RIFF/RF64 WAVE header)")]
    NotWave,
    #[error(
        "WAV chunk '{id}' at byte {offset} runs past the end of the file: the copy is truncated, re-copy it"
    )]
    Truncated { id: String, offset: u64 },
}

/// `fmt ` chunk essentials.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WavFormat {
    pub channels: u16,
    pub sample_rate: u32,
    pub bits_per_sample: u16,
}

/// The `bext` chunk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bext {
    pub description: String,
    pub originator: String,
    pub originator_reference: String,
    /// "yyyy-mm-dd" (local time of the recorder; no zone).
    pub origination_date: String,
    /// "hh:mm:ss".
    pub origination_time: String,
    /// Samples since midnight at the file's sample rate.
    pub time_reference: u64,
    pub version: u16,
    pub coding_history: String,
}

/// iXML track entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IxmlTrack {
    pub channel_index: Option<u32>,
    pub name: Option<String>,
}

/// The iXML chunk fields card-ingest uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ixml {
    pub project: Option<String>,
    pub scene: Option<String>,
    pub take: Option<String>,
    pub tape: Option<String>,
    pub circled: Option<bool>,
    pub note: Option<String>,
    /// `SPEED/TIMECODE_RATE`, e.g. "25/1", "30000/1001".
    pub timecode_rate: Option<String>,
    /// `SPEED/TIMECODE_FLAG`: "DF" or "NDF".
    pub timecode_flag: Option<String>,
    pub tracks: Vec<IxmlTrack>,
    pub family_uid: Option<String>,
    pub family_name: Option<String>,
    pub file_set_index: Option<String>,
    pub total_files: Option<u32>,
    /// `HISTORY/ORIGINAL_FILENAME`: the name the recorder gave the file.
    pub original_filename: Option<String>,
    /// `HISTORY/PARENT_FILENAME`: the file this one was made from (a Wave Agent mono split
    /// names its poly file here).
    pub parent_filename: Option<String>,
    /// `HISTORY/PARENT_UID`.
    pub parent_uid: Option<String>,
    /// UTC offset (`+02:00`) from a time zone element, when the recorder writes one. The iXML
    /// spec has no fixed element for it; any element named `TIME_ZONE`/`TIMEZONE`/`*_TIME_ZONE`
    /// holding an offset is taken (unverified on real files: see the note of issue 11).
    pub time_zone: Option<String>,
}

/// Everything read from one BWF file. A broken iXML chunk is reported in `ixml_error` rather
/// than failing the whole file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BwfInfo {
    pub rf64: bool,
    pub format: Option<WavFormat>,
    pub data_bytes: Option<u64>,
    pub bext: Option<Bext>,
    pub ixml: Option<Ixml>,
    pub ixml_error: Option<String>,
    /// Id and byte offset of the chunk that runs past the end of the file (a truncated copy);
    /// only set by [`parse_lenient`], [`parse`] returns [`BwfError::Truncated`] instead.
    pub truncated_chunk: Option<(String, u64)>,
}

/// Chunks bigger than this (other than `data`) are skipped, not read: no metadata chunk is
/// that large, and a corrupt size must not make us allocate gigabytes.
const MAX_META_CHUNK: u64 = 16 * 1024 * 1024;

/// Walks the RIFF chunks of a WAV/BWF stream; a chunk running past the end is an error.
pub fn parse<R: Read + Seek>(r: R) -> Result<BwfInfo, BwfError> {
    let info = parse_lenient(r)?;
    match info.truncated_chunk {
        Some((id, offset)) => Err(BwfError::Truncated { id, offset }),
        None => Ok(info),
    }
}

/// Like [`parse`], but a truncated file still gives the chunks found before the cut (with
/// `truncated_chunk` set): card detection groups a cut-short BWF as the take it is, and
/// metadata reports the truncation.
pub fn parse_lenient<R: Read + Seek>(mut r: R) -> Result<BwfInfo, BwfError> {
    let file_len = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(0))?;
    let mut head = [0u8; 12];
    if file_len < 12 {
        return Err(BwfError::NotWave);
    }
    r.read_exact(&mut head)?;
    let rf64 = match &head[0..4] {
        b"RIFF" => false,
        b"RF64" | b"BW64" => true,
        _ => return Err(BwfError::NotWave),
    };
    if &head[8..12] != b"WAVE" {
        return Err(BwfError::NotWave);
    }
    let mut info = BwfInfo {
        rf64,
        ..BwfInfo::default()
    };
    let mut ds64_data_size: Option<u64> = None;
    let mut pos = 12u64;
    while pos + 8 <= file_len {
        r.seek(SeekFrom::Start(pos))?;
        let mut hdr = [0u8; 8];
        r.read_exact(&mut hdr)?;
        let id = [hdr[0], hdr[1], hdr[2], hdr[3]];
        let mut size = u64::from(u32::from_le_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]));
        if size == 0xFFFF_FFFF && &id == b"data" {
            size = ds64_data_size.unwrap_or(file_len.saturating_sub(pos + 8));
        }
        let body = pos + 8;
        let id_text = String::from_utf8_lossy(&id).into_owned();
        if body + size > file_len {
            if &id == b"data" {
                // Audio cut short: keep the metadata found so far; the caller reports it.
                info.data_bytes = Some(file_len - body);
            }
            info.truncated_chunk = Some((id_text, pos));
            return Ok(info);
        }
        match &id {
            b"data" => info.data_bytes = Some(size),
            _ if size > MAX_META_CHUNK => {}
            b"ds64" | b"fmt " | b"bext" | b"iXML" => {
                let mut buf = vec![0u8; size as usize];
                r.read_exact(&mut buf)?;
                match &id {
                    b"ds64" if buf.len() >= 16 => {
                        ds64_data_size = Some(u64_le(&buf[8..16]));
                    }
                    b"fmt " if buf.len() >= 16 => {
                        info.format = Some(WavFormat {
                            channels: u16::from_le_bytes([buf[2], buf[3]]),
                            sample_rate: u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]),
                            bits_per_sample: u16::from_le_bytes([buf[14], buf[15]]),
                        });
                    }
                    b"bext" => info.bext = Some(parse_bext(&buf)),
                    b"iXML" => match parse_ixml(&String::from_utf8_lossy(&buf)) {
                        Ok(x) => info.ixml = Some(x),
                        Err(e) => info.ixml_error = Some(e.to_string()),
                    },
                    _ => {}
                }
            }
            _ => {}
        }
        // Chunks are word-aligned: odd sizes carry one pad byte.
        pos = body + size + (size & 1);
    }
    Ok(info)
}

/// Convenience for in-memory data.
pub fn parse_bytes(bytes: &[u8]) -> Result<BwfInfo, BwfError> {
    parse(std::io::Cursor::new(bytes))
}

fn u64_le(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

fn fixed_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).trim().to_owned()
}

/// Parses a `bext` chunk body; short (non-conforming) chunks give empty trailing fields.
pub fn parse_bext(b: &[u8]) -> Bext {
    let slice = |from: usize, to: usize| b.get(from..to.min(b.len())).unwrap_or_default();
    Bext {
        description: fixed_str(slice(0, 256)),
        originator: fixed_str(slice(256, 288)),
        originator_reference: fixed_str(slice(288, 320)),
        origination_date: fixed_str(slice(320, 330)),
        origination_time: fixed_str(slice(330, 338)),
        time_reference: b.get(338..346).map(u64_le).unwrap_or(0),
        version: b
            .get(346..348)
            .map(|v| u16::from_le_bytes([v[0], v[1]]))
            .unwrap_or(0),
        coding_history: fixed_str(b.get(602..).unwrap_or_default()),
    }
}

/// Parses an iXML document (root `BWFXML`).
pub fn parse_ixml(xml: &str) -> Result<Ixml, roxmltree::Error> {
    let doc = roxmltree::Document::parse(clean_xml(xml))?;
    let root = doc.root_element();
    let t = |path: &[&str]| text_at(root, path);
    // Some recorders put TIMECODE_RATE/FLAG at top level instead of under SPEED.
    let speed = |name: &str| t(&["SPEED", name]).or_else(|| t(&[name]));
    let tracks = child(root, "TRACK_LIST")
        .map(|l| {
            l.children()
                .filter(|n| n.is_element() && n.tag_name().name() == "TRACK")
                .map(|n| IxmlTrack {
                    channel_index: text_at(n, &["CHANNEL_INDEX"]).and_then(|v| v.parse().ok()),
                    name: text_at(n, &["NAME"]),
                })
                .collect()
        })
        .unwrap_or_default();
    let file_set = descendant(root, "FILE_SET");
    let fs = |name: &str| file_set.and_then(|f| text_at(f, &[name]));
    Ok(Ixml {
        project: t(&["PROJECT"]),
        scene: t(&["SCENE"]),
        take: t(&["TAKE"]),
        tape: t(&["TAPE"]),
        circled: t(&["CIRCLED"]).map(|c| c.eq_ignore_ascii_case("true")),
        note: t(&["NOTE"]),
        timecode_rate: speed("TIMECODE_RATE"),
        timecode_flag: speed("TIMECODE_FLAG"),
        tracks,
        family_uid: fs("FAMILY_UID"),
        family_name: fs("FAMILY_NAME"),
        file_set_index: fs("FILE_SET_INDEX"),
        total_files: fs("TOTAL_FILES").and_then(|v| v.parse().ok()),
        original_filename: t(&["HISTORY", "ORIGINAL_FILENAME"]),
        parent_filename: t(&["HISTORY", "PARENT_FILENAME"]),
        parent_uid: t(&["HISTORY", "PARENT_UID"]),
        time_zone: root
            .descendants()
            .filter(|n| {
                let name = n.tag_name().name();
                n.is_element() && (name == "TIMEZONE" || name.ends_with("TIME_ZONE"))
            })
            .find_map(|n| n.text().and_then(utc_offset)),
    })
}

/// `+02:00`, `-0500`, `UTC+2`, `GMT-03:30`, `Z`/`UTC` → `+HH:MM`; anything else (a zone
/// name such as `Europe/Paris`) is not an offset we can apply without a zone database.
pub fn utc_offset(text: &str) -> Option<String> {
    let t = text.trim();
    let t = t
        .strip_prefix("UTC")
        .or_else(|| t.strip_prefix("GMT"))
        .unwrap_or(t)
        .trim();
    if t.is_empty() || t == "Z" {
        return Some("+00:00".into());
    }
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => ('+', &t[1..]),
        b'-' => ('-', &t[1..]),
        _ => return None,
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then(|| format!("{sign}{h:02}:{m:02}"))
}

/// `key=value` lines of a bext Description (`sSCENE=12A`, `dTAKE=3`, `gTAPE=D001`, `SCENE=…`):
/// recorders prefix the key with `s`, `d`, `g` or nothing. Returns the value of `key`.
pub fn description_value(description: &str, key: &str) -> Option<String> {
    description
        .split(['\r', '\n'])
        .filter_map(|line| line.split_once('='))
        .find_map(|(k, v)| {
            let k = k.trim();
            let bare = k
                .strip_prefix(['s', 'd', 'g'])
                .filter(|rest| rest.eq_ignore_ascii_case(key))
                .or_else(|| k.eq_ignore_ascii_case(key).then_some(k));
            bare.map(|_| v.trim().trim_end_matches('\0').to_owned())
                .filter(|v| !v.is_empty())
        })
}

impl BwfInfo {
    /// Start timecode from bext TimeReference, at the iXML TIMECODE_RATE and TIMECODE_FLAG
    /// ("DF" = drop-frame). A WAV that states no timecode rate has none: a rate is never
    /// invented (camera-cards.md §10), see [`Self::time_reference_text`] instead.
    pub fn start_timecode(&self) -> Option<Timecode> {
        let bext = self.bext.as_ref()?;
        let sample_rate = self.format?.sample_rate;
        let ixml = self.ixml.as_ref();
        let rate = ixml
            .and_then(|x| x.timecode_rate.as_deref())
            .and_then(Rational::parse)?;
        let drop = ixml
            .and_then(|x| x.timecode_flag.as_deref())
            .is_some_and(|f| f.trim().eq_ignore_ascii_case("DF"));
        Timecode::from_samples(bext.time_reference, sample_rate, rate, drop)
    }

    /// The start position as the file states it (bext TimeReference at the sample rate), for
    /// WAVs without a timecode rate: the sample count and the wall-clock time it means, never
    /// frames at a guessed rate.
    pub fn time_reference_text(&self) -> Option<String> {
        let bext = self.bext.as_ref()?;
        let rate = self.format?.sample_rate;
        if rate == 0 {
            return None;
        }
        let secs = bext.time_reference / u64::from(rate);
        Some(format!(
            "{} samples since midnight at {rate} Hz ({:02}:{:02}:{:02} wall clock; the file \
             states no timecode rate)",
            bext.time_reference,
            secs / 3600 % 24,
            secs / 60 % 60,
            secs % 60
        ))
    }

    /// Audio duration from the data size and format.
    pub fn duration_seconds(&self) -> Option<f64> {
        let f = self.format?;
        let bytes_per_sec =
            u64::from(f.sample_rate) * u64::from(f.channels) * u64::from(f.bits_per_sample) / 8;
        (bytes_per_sec > 0).then(|| self.data_bytes.unwrap_or(0) as f64 / bytes_per_sec as f64)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = id.to_vec();
        v.extend_from_slice(&(body.len() as u32).to_le_bytes());
        v.extend_from_slice(body);
        if body.len() % 2 == 1 {
            v.push(0);
        }
        v
    }

    fn fmt_body(channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        let block = channels * bits / 8;
        b.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
        b.extend_from_slice(&block.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        b
    }

    pub(crate) fn bext_body(desc: &str, time_reference: u64) -> Vec<u8> {
        let mut b = vec![0u8; 602];
        b[..desc.len()].copy_from_slice(desc.as_bytes());
        b[256..258].copy_from_slice(b"SD");
        b[288..292].copy_from_slice(b"REF1");
        b[320..330].copy_from_slice(b"2024-05-14");
        b[330..338].copy_from_slice(b"12:00:00");
        b[338..346].copy_from_slice(&time_reference.to_le_bytes());
        b[346..348].copy_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(b"A=PCM,F=48000,W=24\r\n");
        b
    }

    const IXML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><BWFXML><IXML_VERSION>2.0</IXML_VERSION>\
        <PROJECT>Feature</PROJECT><SCENE>12A</SCENE><TAKE>3</TAKE><TAPE>D001</TAPE><CIRCLED>TRUE</CIRCLED>\
        <NOTE>good</NOTE><SPEED><TIMECODE_RATE>30000/1001</TIMECODE_RATE><TIMECODE_FLAG>DF</TIMECODE_FLAG></SPEED>\
        <TRACK_LIST><TRACK_COUNT>2</TRACK_COUNT><TRACK><CHANNEL_INDEX>1</CHANNEL_INDEX><NAME>Boom</NAME></TRACK>\
        <TRACK><CHANNEL_INDEX>2</CHANNEL_INDEX><NAME>Lav</NAME></TRACK></TRACK_LIST>\
        <FILE_SET><TOTAL_FILES>2</TOTAL_FILES><FAMILY_UID>ABC123</FAMILY_UID><FILE_SET_INDEX>A</FILE_SET_INDEX></FILE_SET>\
        </BWFXML>\0\0";

    /// A WAV with fmt, bext, data and iXML AFTER data (as some recorders write it).
    fn wav(riff: &[u8; 4], ixml: &str, data_len: usize) -> Vec<u8> {
        let mut body = b"WAVE".to_vec();
        body.extend(chunk(b"fmt ", &fmt_body(2, 48000, 24)));
        body.extend(chunk(b"bext", &bext_body("sSCENE=12A", 48_000 * 3600)));
        body.extend(chunk(b"data", &vec![0u8; data_len]));
        body.extend(chunk(b"iXML", ixml.as_bytes()));
        let mut v = riff.to_vec();
        v.extend_from_slice(&(body.len() as u32).to_le_bytes());
        v.extend(body);
        v
    }

    #[test]
    fn reads_bext_and_ixml_after_data() {
        let info = parse_bytes(&wav(b"RIFF", IXML, 6 * 4800)).unwrap();
        assert!(!info.rf64);
        assert_eq!(
            info.format,
            Some(WavFormat {
                channels: 2,
                sample_rate: 48000,
                bits_per_sample: 24
            })
        );
        assert_eq!(info.duration_seconds(), Some(0.1));
        let b = info.bext.as_ref().unwrap();
        assert_eq!(b.description, "sSCENE=12A");
        assert_eq!(b.originator, "SD");
        assert_eq!(b.originator_reference, "REF1");
        assert_eq!(b.origination_date, "2024-05-14");
        assert_eq!(b.origination_time, "12:00:00");
        assert_eq!(b.time_reference, 172_800_000);
        assert_eq!(b.coding_history, "A=PCM,F=48000,W=24");
        let x = info.ixml.as_ref().unwrap();
        assert_eq!(x.project.as_deref(), Some("Feature"));
        assert_eq!(
            (x.scene.as_deref(), x.take.as_deref()),
            (Some("12A"), Some("3"))
        );
        assert_eq!(x.tape.as_deref(), Some("D001"));
        assert_eq!(x.circled, Some(true));
        assert_eq!(x.note.as_deref(), Some("good"));
        assert_eq!(x.family_uid.as_deref(), Some("ABC123"));
        assert_eq!(x.total_files, Some(2));
        assert_eq!(
            x.tracks
                .iter()
                .filter_map(|t| t.name.as_deref())
                .collect::<Vec<_>>(),
            ["Boom", "Lav"]
        );
        // 1 h after midnight at 29.97 DF: 107892 frames → 00:59:56;12 of wall clock... DF TC of
        // frame 107892 is 01:00:00;00 because drop-frame timecode tracks wall-clock time.
        assert_eq!(info.start_timecode().unwrap().to_string(), "01:00:00;00");
    }

    #[test]
    fn no_timecode_rate_without_ixml() {
        let mut info = parse_bytes(&wav(b"RIFF", IXML, 100)).unwrap();
        info.ixml = None;
        assert_eq!(info.start_timecode(), None, "no invented 25 fps");
        assert_eq!(
            info.time_reference_text().as_deref(),
            Some(
                "172800000 samples since midnight at 48000 Hz (01:00:00 wall clock; the file \
                 states no timecode rate)"
            )
        );
    }

    #[test]
    fn description_keys_offsets_and_history() {
        let d = "sSCENE=12A\r\ndTAKE=3\r\ngTAPE=D001\nNOTE=x\0\0";
        assert_eq!(description_value(d, "SCENE").as_deref(), Some("12A"));
        assert_eq!(description_value(d, "TAKE").as_deref(), Some("3"));
        assert_eq!(description_value(d, "TAPE").as_deref(), Some("D001"));
        assert_eq!(description_value(d, "NOTE").as_deref(), Some("x"));
        assert_eq!(description_value(d, "PROJECT"), None);
        assert_eq!(utc_offset("+02:00").as_deref(), Some("+02:00"));
        assert_eq!(utc_offset("UTC-5").as_deref(), Some("-05:00"));
        assert_eq!(utc_offset("-0330").as_deref(), Some("-03:30"));
        assert_eq!(utc_offset("Europe/Paris"), None);
        let x = parse_ixml(
            "<BWFXML><HISTORY><ORIGINAL_FILENAME>A101_1_1.WAV</ORIGINAL_FILENAME>\
             <PARENT_FILENAME>A101_1.WAV</PARENT_FILENAME><PARENT_UID>P1</PARENT_UID></HISTORY>\
             <LOCATION><LOCATION_TIME_ZONE>UTC+1</LOCATION_TIME_ZONE></LOCATION></BWFXML>",
        )
        .unwrap();
        assert_eq!(x.parent_filename.as_deref(), Some("A101_1.WAV"));
        assert_eq!(x.original_filename.as_deref(), Some("A101_1_1.WAV"));
        assert_eq!(x.parent_uid.as_deref(), Some("P1"));
        assert_eq!(x.time_zone.as_deref(), Some("+01:00"));
    }

    #[test]
    fn rf64_data_size_from_ds64() {
        let mut body = b"WAVE".to_vec();
        let mut ds64 = vec![0u8; 28];
        ds64[8..16].copy_from_slice(&4800u64.to_le_bytes());
        body.extend(chunk(b"ds64", &ds64));
        body.extend(chunk(b"fmt ", &fmt_body(1, 48000, 16)));
        let mut data = b"data".to_vec();
        data.extend_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        data.extend(vec![0u8; 4800]);
        body.extend(data);
        body.extend(chunk(b"bext", &bext_body("", 0)));
        let mut v = b"RF64".to_vec();
        v.extend_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        v.extend(body);
        let info = parse_bytes(&v).unwrap();
        assert!(info.rf64);
        assert_eq!(info.data_bytes, Some(4800));
        assert_eq!(info.duration_seconds(), Some(0.05));
        assert_eq!(
            info.bext.unwrap().time_reference,
            0,
            "bext after an RF64 data chunk is found"
        );
    }

    #[test]
    fn broken_inputs() {
        assert!(matches!(parse_bytes(b""), Err(BwfError::NotWave)));
        assert!(matches!(
            parse_bytes(b"RIFF\0\0\0\0AVI LIST"),
            Err(BwfError::NotWave)
        ));
        let full = wav(b"RIFF", IXML, 1000);
        let cut = &full[..full.len() - 600];
        assert!(
            matches!(parse_bytes(cut), Err(BwfError::Truncated { id, .. }) if id == "iXML" || id == "data")
        );
        // Lenient: the chunks before the cut are kept, the cut is named.
        let lenient = parse_lenient(std::io::Cursor::new(cut)).unwrap();
        assert!(lenient.bext.is_some());
        assert!(
            lenient
                .truncated_chunk
                .is_some_and(|(id, _)| id == "iXML" || id == "data")
        );
        let bad_ixml = parse_bytes(&wav(b"RIFF", "<BWFXML><SCENE>", 10)).unwrap();
        assert!(bad_ixml.ixml.is_none());
        assert!(bad_ixml.ixml_error.is_some());
        assert_eq!(bad_ixml.bext.unwrap().description, "sSCENE=12A");
    }
}
