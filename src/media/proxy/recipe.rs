//! The proxy encode as typed values: what one ffmpeg process reads (inputs), how the picture
//! and sound are prepared (filters) and what it writes (outputs: the web proxy, the optional
//! edit proxy, the poster). [`Recipe::args`] renders the argv; nothing downstream looks into
//! the rendered text.
//!
//! One decode feeds every output: the picture is split after deinterlace and scale, so the
//! edit proxy costs an encoder, not a second read of the card.

use std::path::PathBuf;

/// The edit proxy's codec (`--edit-proxy-codec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EditCodec {
    /// ProRes 422 Proxy (`prores_ks -profile:v 0`): what Premiere's proxy workflow expects.
    #[default]
    ProresProxy,
    /// Avid DNxHR LB (8-bit 4:2:2).
    DnxhrLb,
}

impl EditCodec {
    /// The CLI spelling.
    pub fn name(self) -> &'static str {
        match self {
            EditCodec::ProresProxy => "prores-proxy",
            EditCodec::DnxhrLb => "dnxhr-lb",
        }
    }

    pub fn parse(text: &str) -> Option<EditCodec> {
        [EditCodec::ProresProxy, EditCodec::DnxhrLb]
            .into_iter()
            .find(|c| c.name() == text)
    }

    /// The pixel format the encoder takes, as the branch's last filter.
    pub fn filter_tail(self) -> &'static str {
        match self {
            EditCodec::ProresProxy => "format=yuv422p10le",
            EditCodec::DnxhrLb => "format=yuv422p",
        }
    }

    /// Video codec arguments.
    pub fn video_args(self) -> Vec<String> {
        let args: &[&str] = match self {
            // `apl0`: the vendor Apple's encoder writes; some NLEs check it.
            EditCodec::ProresProxy => &["-c:v", "prores_ks", "-profile:v", "0", "-vendor", "apl0"],
            EditCodec::DnxhrLb => &["-c:v", "dnxhd", "-profile:v", "dnxhr_lb"],
        };
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    /// iconik's `codec` word for the file.
    pub fn iconik_codec(self) -> &'static str {
        match self {
            EditCodec::ProresProxy => "prores",
            EditCodec::DnxhrLb => "dnxhd",
        }
    }
}

/// The picture before it branches to the outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// The pad the chain starts from (`[0:v:0]`, `[vc]` after a concat).
    pub input: String,
    /// Deinterlace and scale: shared by every output.
    pub base: Vec<String>,
    /// Look and burn-in: the web proxy and its poster only. The edit proxy stays clean,
    /// because Premiere toggles between it and the original: a baked look or burnt text
    /// would jump in and out of the cut.
    pub web: Vec<String>,
}

/// The poster branch: the first 25 frames only (`trim` ends the branch there, so the rest of
/// the clip costs nothing), scaled, the most representative picked (`thumbnail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosterOut {
    pub width: u32,
    pub path: PathBuf,
}

/// The edit proxy's output: codec, sound tracks as the original has them, timecode, names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditOut {
    pub codec: EditCodec,
    /// `-map` specs, one track per source stream in the original's order (P2: N mono files,
    /// a camera MP4: its stereo stream); `[eN]` pads when a span concat made them.
    pub audio: Vec<String>,
    pub timecode: Option<String>,
    /// `title` metadata: the clip name Premiere shows.
    pub clip_name: String,
    /// `reel_name` (written into the tmcd track's source reference).
    pub reel: String,
    pub path: PathBuf,
}

impl EditOut {
    fn args(&self) -> Vec<String> {
        let mut args = vec!["-map".to_owned(), "[edit]".to_owned()];
        for a in &self.audio {
            args.extend(["-map".to_owned(), a.clone()]);
        }
        args.extend(self.codec.video_args());
        if !self.audio.is_empty() {
            // PCM keeps every channel as recorded: what the relink compares.
            args.extend(["-c:a", "pcm_s16le"].map(String::from));
        }
        if let Some(tc) = &self.timecode {
            args.extend(["-timecode".to_owned(), tc.clone()]);
        }
        args.extend([
            "-metadata".to_owned(),
            format!("title={}", self.clip_name),
            "-metadata:s:v:0".to_owned(),
            format!("reel_name={}", self.reel),
            "-f".to_owned(),
            "mov".to_owned(),
            self.path.to_string_lossy().into_owned(),
        ]);
        args
    }
}

/// One ffmpeg run: the web proxy plus optional outputs of the same decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// `-hide_banner …` and the encoder's device arguments.
    pub global: Vec<String>,
    /// Input arguments (`-i`, concat, pattern options).
    pub inputs: Vec<String>,
    /// Filter chains written before the picture's (span audio mixes, the concat).
    pub chains_before: Vec<String>,
    pub picture: Picture,
    /// Filter chains written after the picture's (the stereo mix).
    pub chains_after: Vec<String>,
    /// The web encoder's last filter (pixel format, hardware upload).
    pub web_tail: String,
    /// Everything of the web output after its `-map`s: codec, GOP, audio, container, path.
    pub web_maps: Vec<String>,
    pub web_args: Vec<String>,
    pub edit: Option<EditOut>,
    pub poster: Option<PosterOut>,
}

impl Recipe {
    /// The picture part of the filter graph: `[v]` for the web proxy, `[edit]`, `[poster]`.
    pub fn picture_graph(&self) -> String {
        let p = &self.picture;
        let mut parts = Vec::new();
        // Where the web branch (look, burn-in, then the web tail and the poster) starts.
        let (start, mut filters) = match &self.edit {
            Some(edit) => {
                let mut base = p.base.clone();
                base.push("split=2[pc][pe]".into());
                parts.push(format!("{}{}", p.input, base.join(",")));
                parts.push(format!("[pe]{}[edit]", edit.codec.filter_tail()));
                ("[pc]".to_owned(), p.web.clone())
            }
            None => (
                p.input.clone(),
                p.base.iter().chain(&p.web).cloned().collect::<Vec<_>>(),
            ),
        };
        match &self.poster {
            Some(poster) => {
                filters.push("split=2[pm][pp]".into());
                parts.push(format!("{start}{}", filters.join(",")));
                parts.push(format!("[pm]{}[v]", self.web_tail));
                parts.push(format!(
                    "[pp]trim=end_frame=25,scale={}:-2,thumbnail=25[poster]",
                    poster.width
                ));
            }
            None => {
                filters.push(self.web_tail.clone());
                parts.push(format!("{start}{}[v]", filters.join(",")));
            }
        }
        parts.join(";")
    }

    /// The whole `-filter_complex` value.
    pub fn filter_graph(&self) -> String {
        let mut parts = self.chains_before.clone();
        parts.push(self.picture_graph());
        parts.extend(self.chains_after.iter().cloned());
        parts.join(";")
    }

    /// The ffmpeg argv (without the program).
    pub fn args(&self) -> Vec<String> {
        let mut args = self.global.clone();
        args.extend(self.inputs.iter().cloned());
        args.extend(["-filter_complex".to_owned(), self.filter_graph()]);
        args.extend(["-map".to_owned(), "[v]".to_owned()]);
        args.extend(self.web_maps.iter().cloned());
        args.extend(self.web_args.iter().cloned());
        if let Some(edit) = &self.edit {
            args.extend(edit.args());
        }
        if let Some(p) = &self.poster {
            args.extend(
                [
                    "-map",
                    "[poster]",
                    "-frames:v",
                    "1",
                    "-c:v",
                    "mjpeg",
                    "-q:v",
                    "4",
                    "-f",
                    "image2",
                    "-update",
                    "1",
                ]
                .map(String::from),
            );
            args.push(p.path.to_string_lossy().into_owned());
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe(base: &[&str], web: &[&str], tail: &str) -> Recipe {
        Recipe {
            global: vec![],
            inputs: vec![],
            chains_before: vec![],
            picture: Picture {
                input: "[0:v:0]".into(),
                base: base.iter().map(|s| (*s).to_owned()).collect(),
                web: web.iter().map(|s| (*s).to_owned()).collect(),
            },
            chains_after: vec!["[1:a:0]anull[a]".into()],
            web_tail: tail.into(),
            web_maps: vec![],
            web_args: vec![],
            edit: None,
            poster: None,
        }
    }

    fn poster() -> Option<PosterOut> {
        Some(PosterOut {
            width: 160,
            path: "/o/p.jpg".into(),
        })
    }

    #[test]
    fn the_poster_branch_splits_the_picture_output_only() {
        let mut r = recipe(&["scale=640:-2"], &[], "format=yuv420p");
        assert_eq!(
            r.filter_graph(),
            "[0:v:0]scale=640:-2,format=yuv420p[v];[1:a:0]anull[a]"
        );
        r.poster = poster();
        assert_eq!(
            r.filter_graph(),
            "[0:v:0]scale=640:-2,split=2[pm][pp];[pm]format=yuv420p[v];\
             [pp]trim=end_frame=25,scale=160:-2,thumbnail=25[poster];[1:a:0]anull[a]"
        );
        let mut r = recipe(&[], &[], "format=nv12,hwupload");
        r.poster = poster();
        assert_eq!(
            r.filter_graph(),
            "[0:v:0]split=2[pm][pp];[pm]format=nv12,hwupload[v];\
             [pp]trim=end_frame=25,scale=160:-2,thumbnail=25[poster];[1:a:0]anull[a]"
        );
    }

    #[test]
    fn the_edit_branch_leaves_before_the_look_and_the_hardware_upload() {
        let mut r = recipe(
            &["bwdif=0:-1:0", "scale=-2:720"],
            &["lut3d=file='a.cube'"],
            "format=nv12,hwupload",
        );
        r.poster = poster();
        r.edit = Some(EditOut {
            codec: EditCodec::ProresProxy,
            audio: vec!["1:a:0".into(), "2:a:0".into()],
            timecode: Some("10:00:00:00".into()),
            clip_name: "0002EM".into(),
            reel: "CARD A".into(),
            path: "/o/e.mov".into(),
        });
        assert_eq!(
            r.picture_graph(),
            "[0:v:0]bwdif=0:-1:0,scale=-2:720,split=2[pc][pe];[pe]format=yuv422p10le[edit];\
             [pc]lut3d=file='a.cube',split=2[pm][pp];[pm]format=nv12,hwupload[v];\
             [pp]trim=end_frame=25,scale=160:-2,thumbnail=25[poster]"
        );
        let args = r.args();
        let at = args.iter().position(|a| a == "[edit]").unwrap();
        let edit: Vec<&str> = args[at - 1..].iter().map(String::as_str).collect();
        assert_eq!(
            edit,
            [
                "-map",
                "[edit]",
                "-map",
                "1:a:0",
                "-map",
                "2:a:0",
                "-c:v",
                "prores_ks",
                "-profile:v",
                "0",
                "-vendor",
                "apl0",
                "-c:a",
                "pcm_s16le",
                "-timecode",
                "10:00:00:00",
                "-metadata",
                "title=0002EM",
                "-metadata:s:v:0",
                "reel_name=CARD A",
                "-f",
                "mov",
                "/o/e.mov",
                "-map",
                "[poster]",
                "-frames:v",
                "1",
                "-c:v",
                "mjpeg",
                "-q:v",
                "4",
                "-f",
                "image2",
                "-update",
                "1",
                "/o/p.jpg"
            ]
        );
        // Without a poster the web branch ends the chain directly.
        r.poster = None;
        r.edit.as_mut().unwrap().codec = EditCodec::DnxhrLb;
        assert_eq!(
            r.picture_graph(),
            "[0:v:0]bwdif=0:-1:0,scale=-2:720,split=2[pc][pe];[pe]format=yuv422p[edit];\
             [pc]lut3d=file='a.cube',format=nv12,hwupload[v]"
        );
    }

    #[test]
    fn codec_names_round_trip() {
        for c in [EditCodec::ProresProxy, EditCodec::DnxhrLb] {
            assert_eq!(EditCodec::parse(c.name()), Some(c));
        }
        assert_eq!(EditCodec::parse("prores"), None);
    }
}
