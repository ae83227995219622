//! Loose media (camera-cards.md §3.12): a plain folder of camera-less files grouped by basename —
//! `interview.mov` (H.264 + AAC, TC 09:00:00:00), `broll.mp4` + `broll.XMP` sidecar, and a
//! unicode name `Café 日本.mov` (NFC, as typed on Linux/Windows).

use super::ffmpeg::{FfCmd, Ffmpeg};
use super::files;
use super::{SampleError, SampleOptions};
use std::path::Path;

pub(crate) const UNICODE_NAME: &str = "Caf\u{e9} \u{65e5}\u{672c}.mov";

pub(crate) fn loose(ff: &Ffmpeg, root: &Path, opts: &SampleOptions) -> Result<(), SampleError> {
    let secs = opts.clip_seconds;
    let mut cmd = FfCmd::new();
    cmd.video_src(&opts.size(), "25", secs)
        .sine(440, secs)
        .args([
            "-filter_complex",
            "[0:v]split=3[v1][v2][v3];[1:a]asplit=2[a1][a3]",
        ]);
    cmd.args([
        "-map", "[v1]", "-map", "[a1]", "-c:v", "libx264", "-pix_fmt", "yuv420p",
    ])
    .args([
        "-c:a",
        "aac",
        "-ac",
        "2",
        "-timecode",
        "09:00:00:00",
        "-f",
        "mov",
    ])
    .output(&root.join("interview.mov"));
    cmd.args(["-map", "[v2]", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .args([
            "-metadata",
            "creation_time=2024-05-14T16:00:00Z",
            "-f",
            "mp4",
        ])
        .output(&root.join("broll.mp4"));
    cmd.args([
        "-map", "[v3]", "-map", "[a3]", "-c:v", "libx264", "-pix_fmt", "yuv420p",
    ])
    .args(["-c:a", "aac", "-ac", "2", "-f", "mov"])
    .output(&root.join(UNICODE_NAME));
    ff.run(&cmd)?;
    files::write(
        &root.join("broll.XMP"),
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n\
 <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
  <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">\n\
   <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">B-roll harbour</rdf:li></rdf:Alt></dc:title>\n\
   <xmp:Rating>4</xmp:Rating>\n\
  </rdf:Description>\n\
 </rdf:RDF>\n\
</x:xmpmeta>\n\
<?xpacket end=\"w\"?>\n",
    )
}
