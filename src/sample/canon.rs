//! Canon XF sample card (camera-cards.md §3.5): clip folder `CONTENTS/CLIPS001/AA0001/` holding
//! the clip in two OP1a MPEG-2 4:2:2 segments (`AA000101.MXF` 2 s at TC 15:00:00:00,
//! `AA000102.MXF` 1 s at TC 15:00:02:00), plus `.CIF`, `.XML`, `.THM` and the card `INDEX.MIF`.

use super::ffmpeg::{FfCmd, Ffmpeg};
use super::files;
use super::{SampleError, SampleOptions};
use std::path::Path;

pub(crate) fn canon_xf(ff: &Ffmpeg, root: &Path, opts: &SampleOptions) -> Result<(), SampleError> {
    let clips = root.join("CONTENTS/CLIPS001");
    let clip = clips.join("AA0001");
    files::create_dir(&clip)?;
    // Separate runs with explicit -timecode: the segment muxer would stamp every MXF segment with
    // the first TC (camera-cards.md §6).
    for (seg, seconds, tc) in [(1, 2, "15:00:00:00"), (2, 1, "15:00:02:00")] {
        let mut cmd = FfCmd::new();
        cmd.video_src(&opts.size(), "25", seconds)
            .sine(440, seconds)
            .args(["-filter_complex", "[1:a]asplit=2[a1][a2]"])
            .args([
                "-map",
                "0:v",
                "-map",
                "[a1]",
                "-map",
                "[a2]",
                "-c:v",
                "mpeg2video",
            ])
            .args(["-pix_fmt", "yuv422p", "-b:v", "2M", "-g", "12", "-bf", "2"])
            .args(["-c:a", "pcm_s16le", "-timecode", tc, "-f", "mxf"])
            .output(&clip.join(format!("AA00010{seg}.MXF")));
        if seg == 1 {
            cmd.args(["-vf", "scale=160:90"])
                .jpeg_still("0:v", &clip.join("AA0001.THM"));
        }
        ff.run(&cmd)?;
    }
    // INDEX.MIF and the .CIF are binary on real cards; stubs with a recognisable prefix.
    let mut mif = b"MIF\0CLIPS001\0AA0001\0".to_vec();
    mif.extend(files::filler("INDEX.MIF", 256));
    files::write(&clips.join("INDEX.MIF"), mif)?;
    let mut cif = b"CIF\0AA0001\0".to_vec();
    cif.extend(files::filler("AA0001.CIF", 512));
    files::write(&clip.join("AA0001.CIF"), cif)?;
    files::write(
        &clip.join("AA0001.XML"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<CanonXFClip xmlns=\"http://www.canon.com/ns/VideoClip\" version=\"1.0\">\n\
\t<ClipName>AA0001</ClipName>\n\
\t<Duration>75</Duration>\n\
\t<EditUnit>1/25</EditUnit>\n\
\t<StartTimecode>15:00:00:00</StartTimecode>\n\
\t<Segments>\n\
\t\t<Segment file=\"AA000101.MXF\" duration=\"50\"/>\n\
\t\t<Segment file=\"AA000102.MXF\" duration=\"25\"/>\n\
\t</Segments>\n\
\t<Device manufacturer=\"Canon\" modelName=\"XF305\" serialNo=\"123456789012\"/>\n\
\t<CreationDate>2024-05-14T15:00:00+02:00</CreationDate>\n\
</CanonXFClip>\n",
    )
}
