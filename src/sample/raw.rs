//! RAW-format stubs (camera-cards.md §3.9–§3.11): correct folder and file names with a few KB of
//! deterministic bytes behind a plausible header. Nothing can decode them — neither can stock
//! ffmpeg decode the real thing — so they serve grouping tests only.

use super::SampleError;
use super::files;
use std::path::Path;

const STUB_BYTES: usize = 4096;

/// RED: reel `A001_0514AB.RDM/`, clip `A001_C001_0514XY.RDC/` with segments `_001`..`_003.R3D`
/// and the `.RMD` metadata XML.
pub(crate) fn red(root: &Path) -> Result<(), SampleError> {
    let clip = root.join("A001_0514AB.RDM/A001_C001_0514XY.RDC");
    for seg in 1..=3 {
        let name = format!("A001_C001_0514XY_{seg:03}.R3D");
        // R3D files open with a big-endian header-block size followed by the `RED2` tag.
        let mut bytes = 0x0000_0208u32.to_be_bytes().to_vec();
        bytes.extend_from_slice(b"RED2");
        bytes.extend(files::filler(&name, STUB_BYTES - 8));
        files::write(&clip.join(name), bytes)?;
    }
    files::write(
        &clip.join("A001_C001_0514XY.RMD"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<red_metadata version=\"1.0\">\n\
\t<clip name=\"A001_C001_0514XY\" reel=\"A001\" camera=\"A\" segments=\"3\"/>\n\
\t<camera model=\"V-RAPTOR 8K VV\" serial=\"123-456-789\"/>\n\
\t<timecode start=\"16:00:00:00\" fps=\"24\"/>\n\
\t<color iso=\"800\" kelvin=\"5600\" tint=\"0\"/>\n\
</red_metadata>\n",
    )
}

/// ARRIRAW: reel folder `A001R1AB/`, clip folder `A001C001_240514_R1AB/` of 24 frames
/// `.0000001.ari` .. `.0000024.ari`.
pub(crate) fn arri(root: &Path) -> Result<(), SampleError> {
    let clip = root.join("A001R1AB/A001C001_240514_R1AB");
    for frame in 1..=24 {
        let name = format!("A001C001_240514_R1AB.{frame:07}.ari");
        // ARRIRAW frame headers start with `ARRI` and the magic 0x12345678 (little-endian).
        let mut bytes = b"ARRI".to_vec();
        bytes.extend_from_slice(&0x1234_5678u32.to_le_bytes());
        bytes.extend(files::filler(&name, STUB_BYTES - 8));
        files::write(&clip.join(name), bytes)?;
    }
    Ok(())
}

/// Blackmagic RAW: `A001_05141200_C001.braw` (QuickTime-style box header) + `.sidecar` JSON.
pub(crate) fn braw(root: &Path) -> Result<(), SampleError> {
    let name = "A001_05141200_C001";
    // A 20-byte `ftyp` box (brand `qt  `), then one `mdat` box filling the rest of the stub.
    let mut bytes = 20u32.to_be_bytes().to_vec();
    bytes.extend_from_slice(b"ftypqt  \0\0\0\0qt  ");
    let mdat_len = STUB_BYTES - bytes.len();
    bytes.extend_from_slice(&u32::try_from(mdat_len).unwrap_or(u32::MAX).to_be_bytes());
    bytes.extend_from_slice(b"mdat");
    bytes.extend(files::filler(name, mdat_len - 8));
    files::write(&root.join(format!("{name}.braw")), bytes)?;
    files::write(
        &root.join(format!("{name}.sidecar")),
        "{\n  \"reel_name\": \"A001\",\n  \"scene\": \"12\",\n  \"take\": \"3\",\n  \
         \"good_take\": true,\n  \"iso\": 800,\n  \"white_balance_kelvin\": 5600\n}\n",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stubs_have_names_headers_and_sizes() {
        let dir = tempfile::tempdir().expect("tempdir");
        red(dir.path()).expect("red");
        arri(dir.path()).expect("arri");
        braw(dir.path()).expect("braw");
        let r3d = std::fs::read(
            dir.path()
                .join("A001_0514AB.RDM/A001_C001_0514XY.RDC/A001_C001_0514XY_003.R3D"),
        )
        .expect("r3d");
        assert_eq!((r3d.len(), &r3d[4..8]), (4096, &b"RED2"[..]));
        let frames = std::fs::read_dir(dir.path().join("A001R1AB/A001C001_240514_R1AB"))
            .expect("arri dir")
            .count();
        assert_eq!(frames, 24);
        let braw = std::fs::read(dir.path().join("A001_05141200_C001.braw")).expect("braw");
        assert_eq!(
            (braw.len(), &braw[4..8], &braw[24..28]),
            (4096, &b"ftyp"[..], &b"mdat"[..])
        );
        let sidecar: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join("A001_05141200_C001.sidecar")).expect("sidecar"),
        )
        .expect("json");
        assert_eq!(sidecar["take"], "3");
    }
}
