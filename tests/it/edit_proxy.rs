//! The edit proxy (`PPRO_PROXY`): written by the same ffmpeg run as the web proxy, checked with
//! ffprobe against the original: codec and profile, audio tracks and layouts in the
//! original's order (never mixed down), frame rate, start timecode, duration ±1 frame.

use super::util::{clip, describe, ffmpeg, ffprobe, p2_segment, require, video_clip};
use card_ingest::card::Family;
use card_ingest::media::proxy::{self, EditCodec, ProxyOutput, ProxySpec};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

fn streams<'a>(p: &'a Value, kind: &str) -> Vec<&'a Value> {
    p["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["codec_type"] == kind)
        .collect()
}

fn encode(c: &card_ingest::card::Clip, out: &Path, codec: EditCodec) -> ProxyOutput {
    let spec = ProxySpec {
        edit: Some(codec),
        poster_width: Some(160),
        ..ProxySpec::default()
    };
    let plan = proxy::plan(c, &describe(c), &spec, out).unwrap();
    let cancel = Arc::new(AtomicBool::new(false));
    proxy::encode(&plan, &require("ffmpeg"), &cancel, &mut |_| {}).unwrap()
}

/// The dominant tone of audio track `k` of `path`, by zero crossings of its first second.
fn tone_hz(path: &Path, k: usize) -> f64 {
    let pcm = Command::new(require("ffmpeg"))
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-map", &format!("0:a:{k}"), "-t", "1", "-ac", "1"])
        .args(["-f", "s16le", "-ar", "48000", "-"])
        .output()
        .unwrap()
        .stdout;
    let samples: Vec<i16> = pcm
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let crossings = samples
        .windows(2)
        .filter(|w| (w[0] < 0) != (w[1] < 0))
        .count();
    crossings as f64 / 2.0 / (samples.len() as f64 / 48_000.0)
}

/// (channels, layout) of each audio stream, in order; "unknown" when ffprobe names none.
fn layouts(p: &Value) -> Vec<(u64, String)> {
    streams(p, "audio")
        .iter()
        .map(|s| {
            (
                s["channels"].as_u64().unwrap(),
                s["channel_layout"].as_str().unwrap_or("unknown").to_owned(),
            )
        })
        .collect()
}

fn tmcd_timecode(p: &Value) -> Option<String> {
    streams(p, "data")
        .into_iter()
        .find(|s| s["codec_tag_string"] == "tmcd")
        .and_then(|s| s["tags"]["timecode"].as_str().map(str::to_owned))
}

#[test]
fn p2_edit_proxy_is_prores_proxy_with_the_four_mono_tracks_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let card = dir.path().join("CARD_A");
    let c = clip(
        Family::P2,
        "0002EM",
        &card,
        p2_segment(dir.path(), "0002EM", 3, "10:00:00:00"),
        vec![vec![0, 1, 2, 3, 4]],
    );
    let out = dir.path().join("0002EM.mp4");
    let o = encode(&c, &out, EditCodec::ProresProxy);
    let edit = o.edit.as_ref().expect("an edit proxy");
    assert_eq!(edit.codec, EditCodec::ProresProxy);
    assert_eq!(
        edit.size_bytes,
        std::fs::metadata(&edit.path).unwrap().len()
    );

    let p = ffprobe(&edit.path, &[]);
    let v = streams(&p, "video");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["codec_name"], "prores");
    assert_eq!(v[0]["profile"], "Proxy");
    assert_eq!(v[0]["r_frame_rate"], "25/1");
    assert_eq!(p["format"]["format_name"], "mov,mp4,m4a,3gp,3g2,mj2");
    assert_eq!(tmcd_timecode(&p).as_deref(), Some("10:00:00:00"));
    let original = ffprobe(&c.files[0].path, &[]);
    let want: f64 = original["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let got: f64 = p["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!((got - want).abs() <= 1.0 / 25.0, "{got} vs {want}");
    // One track per camera audio file, each with that file's channel count and layout (four
    // mono files: four one-channel tracks; a mixdown fails here) ...
    let originals: Vec<(u64, String)> = c.files[1..]
        .iter()
        .flat_map(|f| layouts(&ffprobe(&f.path, &[])))
        .collect();
    assert_eq!(originals.len(), 4);
    assert!(originals.iter().all(|(n, _)| *n == 1), "{originals:?}");
    assert_eq!(layouts(&p), originals);
    // ... in the original's order: CH1..CH4 carry 300, 500, 700, 900 Hz.
    for (k, hz) in [300.0, 500.0, 700.0, 900.0].into_iter().enumerate() {
        let got = tone_hz(&edit.path, k);
        assert!((got - hz).abs() < 15.0, "track {k}: {got} Hz, want {hz}");
    }
    assert_eq!(p["format"]["tags"]["title"], "0002EM");
    let tmcd = streams(&p, "data");
    assert!(
        tmcd.iter().any(|s| s["tags"]["reel_name"] == "CARD_A"),
        "{p}"
    );
    // The web proxy and the poster came out of the same run, unchanged.
    let web = ffprobe(&out, &[]);
    assert_eq!(streams(&web, "video")[0]["codec_name"], "h264");
    assert_eq!(streams(&web, "audio")[0]["channels"], 2);
    assert!(o.poster.is_some());
}

#[test]
fn a_stereo_camera_file_gets_one_stereo_track_in_dnxhr_lb() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("GX010001.MP4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=30000/1001:duration=2",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=2",
        "-ac",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-timecode",
        "01:02:03;04",
        src.to_str().unwrap(),
    ]);
    let c = video_clip(Family::Gopro, "GX010001", dir.path(), &src);
    let o = encode(&c, &dir.path().join("gx.mp4"), EditCodec::DnxhrLb);
    let edit = o.edit.unwrap();
    let p = ffprobe(&edit.path, &[]);
    let v = streams(&p, "video");
    assert_eq!(v[0]["codec_name"], "dnxhd");
    assert_eq!(v[0]["profile"], "DNXHR LB");
    assert_eq!(v[0]["r_frame_rate"], "30000/1001");
    assert_eq!(layouts(&p), vec![(2, "stereo".to_owned())], "{p}");
    assert_eq!(layouts(&p), layouts(&ffprobe(&src, &[])));
    assert_eq!(tmcd_timecode(&p).as_deref(), Some("01:02:03;04"));
    let got: f64 = p["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!((got - 2.0).abs() <= 1001.0 / 30000.0, "{got}");
}

/// A P2 card ingested with `--edit-proxy-to "Sandbox S3"` and `--edit-proxy-to "Sandbox
/// originals=<mount>"` on the all-kinds sandbox: the asset gets a PPRO_PROXY format with one
/// file set per storage, each with the CLOSED MOV and its MD5; the S3 bytes and the FILES copy
/// are the encoded edit proxy; every request validates against iconik's spec.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_proxies_are_registered_as_ppro_proxy_on_a_cloud_and_a_files_storage() {
    use crate::ingest::{TOKEN, engine, md5_hex, run, scan_card, setup};
    use card_ingest::ingest::storage_target::StorageTarget;

    let s = setup(1);
    let sbx = crate::seed_tree::all_kinds_sandbox(&s.root).await;
    let mut e = engine(&sbx, &s, TOKEN);
    // A proxy cache of its own: the shared one holds web-only proxies of the same card.
    e.options.proxy_dir = s.root.join("proxies");
    e.options.edit_proxy_to = vec![
        StorageTarget::parse("Sandbox S3").unwrap(),
        StorageTarget::parse(&format!("Sandbox originals={}", s.root.display())).unwrap(),
    ];
    let report = scan_card(&s.card);
    let clip_name = report.clips[0].clip.name.clone();
    let (out, _) = run(&e, crate::ingest::job(&report)).await;
    let rec = out.record.clips.values().next().unwrap();
    assert!(rec.is_complete(), "{rec:?}");

    let st = sbx.state();
    let list = |kind: &str| st[kind].as_array().unwrap().clone();
    let formats = list("formats");
    let mut names: Vec<&str> = formats
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["ORIGINAL", "PPRO_PROXY"]);
    let ppro = formats.iter().find(|f| f["name"] == "PPRO_PROXY").unwrap();
    let storages = list("storages");
    let storage_id = |name: &str| {
        storages
            .iter()
            .find(|x| x["name"] == name)
            .unwrap_or_else(|| panic!("storage {name}"))["id"]
            .clone()
    };
    let sets: Vec<Value> = list("file_sets")
        .into_iter()
        .filter(|f| f["format_id"] == ppro["id"])
        .collect();
    let mut set_storages: Vec<Value> = sets.iter().map(|s| s["storage_id"].clone()).collect();
    set_storages.sort_by_key(|v| v.to_string());
    let mut want = vec![storage_id("Sandbox S3"), storage_id("Sandbox originals")];
    want.sort_by_key(|v| v.to_string());
    assert_eq!(set_storages, want);

    let local = s.root.join("proxies").join(
        std::fs::read_dir(s.root.join("proxies"))
            .unwrap()
            .filter_map(|d| d.ok())
            .map(|d| d.file_name().to_string_lossy().into_owned())
            .find(|n| n.ends_with(".edit.mov"))
            .expect("edit proxy in the cache"),
    );
    let md5 = md5_hex(&local);
    let name = format!("{clip_name}_Proxy.mov");
    for set in &sets {
        let files: Vec<Value> = list("files")
            .into_iter()
            .filter(|f| f["file_set_id"] == set["id"])
            .collect();
        assert_eq!(files.len(), 1, "{set}");
        let f = &files[0];
        assert_eq!(f["status"], "CLOSED");
        assert_eq!(f["checksum"], md5.as_str());
        assert_eq!(f["name"], name.as_str());
        assert_eq!(f["directory_path"], "Proxies/CARD_C");
        assert_eq!(f["size"], std::fs::metadata(&local).unwrap().len());
    }
    let s3 = list("files")
        .into_iter()
        .find(|f| f["storage_id"] == storage_id("Sandbox S3") && f["name"] == name.as_str())
        .unwrap();
    let key = format!("sandbox-s3-files/{}/{name}", s3["id"].as_str().unwrap());
    let bytes = sbx.object_bytes(&key).expect("S3 object");
    assert_eq!(bytes, std::fs::read(&local).unwrap());
    let copy = s.root.join("Proxies/CARD_C").join(&name);
    assert_eq!(md5_hex(&copy), md5);
    // What was stored is the edit proxy: ProRes Proxy with the card's four mono tracks.
    let p = ffprobe(&copy, &[]);
    assert_eq!(streams(&p, "video")[0]["profile"], "Proxy");
    assert_eq!(layouts(&p).len(), 4);
    for r in sbx.requests() {
        if r["path"].as_str().unwrap_or("").starts_with("/API/")
            && matches!(r["method"].as_str(), Some("POST" | "PATCH" | "PUT"))
        {
            assert_eq!(r["validation"]["valid"], true, "invalid request: {r}");
        }
    }
}

/// The cache rule covers the edit proxy: a second ingest of the same card (another tenant,
/// a fresh journal) reuses the cached web + edit proxies without an encode and registers the
/// same MOV bytes; a web-only cache entry of that card is not taken for one with an edit proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_edit_proxy_is_reused_and_registered_again() {
    use crate::ingest::{TOKEN, engine, run, scan_card, setup};
    use card_ingest::ingest::storage_target::StorageTarget;
    use card_ingest::ingest::{EventKind, Step};

    let s = setup(1);
    let cache = s.root.join("proxies");
    let proxy_detail = |events: &[card_ingest::ingest::IngestEvent]| {
        events
            .iter()
            .find_map(|e| match (&e.kind, e.step) {
                (EventKind::Done { detail }, Some(Step::Proxy)) => detail.clone(),
                _ => None,
            })
            .expect("proxy step done")
    };
    let mut details = Vec::new();
    let mut movs = Vec::new();
    for (n, edit) in [(0, false), (1, true), (2, true)] {
        let sbx = crate::seed_tree::all_kinds_sandbox(&s.root).await;
        let mut e = engine(&sbx, &s, TOKEN);
        e.store = card_ingest::ingest::journal::JournalStore::at(s.root.join(format!("j{n}")));
        e.options.proxy_dir = cache.clone();
        if edit {
            e.options.edit_proxy_to = vec![StorageTarget::parse("Sandbox GCS").unwrap()];
        }
        let (out, events) = run(&e, crate::ingest::job(&scan_card(&s.card))).await;
        assert!(out.record.clips.values().all(|c| c.is_complete()));
        details.push(proxy_detail(&events));
        let st = sbx.state();
        let on_gcs: Vec<Value> = st["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with("_Proxy.mov"))
            })
            .cloned()
            .collect();
        if let [f] = on_gcs.as_slice() {
            let key = format!(
                "sandbox-gcs-files/{}/{}",
                f["id"].as_str().unwrap(),
                f["name"].as_str().unwrap()
            );
            movs.push(sbx.object_bytes(&key).expect("MOV on GCS"));
        }
    }
    // Web only first; then the edit proxy is encoded (not the web-only entry reused) ...
    assert!(!details[0].contains("edit proxy"), "{}", details[0]);
    assert!(
        details[1].contains("edit proxy prores-proxy") && !details[1].starts_with("reused"),
        "{}",
        details[1]
    );
    // ... and the third run takes both from the cache, registering the same bytes.
    assert!(
        details[2].starts_with("reused") && details[2].contains("edit proxy prores-proxy"),
        "{}",
        details[2]
    );
    assert_eq!(movs.len(), 2);
    assert_eq!(movs[0], movs[1]);
}

/// A P2 span (two segments, separate audio files): the edit proxy's four tracks go through the
/// concat beside the web proxy's mix (CH1/CH2 split to both), in order, the length of both
/// segments; the web proxy still gets the stereo mix.
#[test]
fn a_p2_span_edit_proxy_keeps_four_tracks_across_the_segments() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = p2_segment(dir.path(), "0002EM", 2, "10:00:00:00");
    files.extend(p2_segment(dir.path(), "0003EM", 1, "10:00:02:00"));
    let c = clip(
        Family::P2,
        "0002EM",
        dir.path(),
        files,
        vec![vec![0, 1, 2, 3, 4], vec![5, 6, 7, 8, 9]],
    );
    let out = dir.path().join("span.mp4");
    let o = encode(&c, &out, EditCodec::ProresProxy);
    let edit = o.edit.expect("an edit proxy");
    let p = ffprobe(&edit.path, &[]);
    assert_eq!(layouts(&p).len(), 4, "{p}");
    assert!(layouts(&p).iter().all(|(n, _)| *n == 1));
    for (k, hz) in [300.0, 500.0, 700.0, 900.0].into_iter().enumerate() {
        let got = tone_hz(&edit.path, k);
        assert!((got - hz).abs() < 15.0, "track {k}: {got} Hz, want {hz}");
    }
    let got: f64 = p["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!((got - 3.0).abs() <= 1.0 / 25.0, "{got}");
    assert_eq!(tmcd_timecode(&p).as_deref(), Some("10:00:00:00"));
    let web = ffprobe(&out, &[]);
    assert_eq!(layouts(&web), vec![(2, "stereo".to_owned())]);
}
