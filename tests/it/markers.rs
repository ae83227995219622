//! Camera marks as iconik markers (issue 22, scope 3): a GoPro recording's HiLight tags (the
//! MP4's `moov/udta/HMMT`, in both chapters) and a Sony XAVC S clip's shot marks (the NRT XML's
//! `KlvPacketTable`) become `MARKER` segments at their millisecond on the clip (±1 frame), in
//! one validated bulk call per clip; a lost answer and a re-run make no duplicates.

use crate::ingest::{
    Setup, TOKEN, assert_all_validated, engine, job, run, scan_card, start_sandbox,
};
use crate::util::{canonical, copy_tree, fixtures, tempdir};
use card_ingest::ingest::{ProxyMode, Step, StepState};
use card_ingest::sample::SampleKind;
use card_ingest::sandbox::faults::{FaultRule, FaultSet};
use serde_json::Value;

/// A copy of the sample card `kind` under a fresh storage root.
fn setup_card(kind: SampleKind) -> Setup {
    let dir = tempdir();
    let root = canonical(dir.path());
    let card = root.join("CARD");
    copy_tree(fixtures().dir_of(kind), &card);
    let journal = root.join("journal");
    Setup {
        _dir: dir,
        root,
        card,
        journal,
    }
}

/// (ms, text) of the asset's MARKER segments in the sandbox, in time order.
fn markers_of(state: &Value, asset_id: &str) -> Vec<(i64, String)> {
    let mut m: Vec<(i64, String)> = state["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["asset_id"] == asset_id && s["segment_type"] == "MARKER")
        .map(|s| {
            assert_eq!(
                s["time_end_milliseconds"], s["time_start_milliseconds"],
                "a point marker: {s}"
            );
            (
                s["time_start_milliseconds"].as_i64().unwrap(),
                s["segment_text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    m.sort();
    m
}

fn asset_of(state: &Value, clip_id: &str) -> String {
    let hits: Vec<&Value> = state["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["external_id"] == clip_id)
        .collect();
    assert_eq!(hits.len(), 1, "one asset for {clip_id}");
    hits[0]["id"].as_str().unwrap().to_owned()
}

fn assert_near(got: &[(i64, String)], want: &[(i64, &str)], frame_ms: i64) {
    assert_eq!(got.len(), want.len(), "markers {got:?}, expected {want:?}");
    for ((ms, text), (want_ms, want_text)) in got.iter().zip(want) {
        assert_eq!(text, want_text, "{got:?}");
        assert!(
            (ms - want_ms).abs() <= frame_ms,
            "marker {text:?} at {ms} ms, expected {want_ms} ms ±{frame_ms}: {got:?}"
        );
    }
}

fn bulk_posts(sbx: &card_ingest::sandbox::SandboxHandle) -> usize {
    sbx.requests()
        .iter()
        .filter(|r| {
            r["method"] == "POST"
                && r["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/segments/bulk/"))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gopro_hilight_tags_become_markers_once_even_after_a_lost_answer_and_a_rerun() {
    let s = setup_card(SampleKind::Gopro);
    let report = scan_card(&s.card);
    let rec0123 = report
        .clips
        .iter()
        .find(|c| c.clip.name.contains("0123"))
        .expect("recording 0123");
    // Chapter 1 tags 0.5 s and 1.5 s; chapter 2's tag 1.0 s into it, after chapter 1's
    // 60 frames at 29.97 fps (2.002 s).
    let scanned: Vec<(i64, String)> = rec0123
        .metadata
        .marks
        .iter()
        .map(|m| (m.time_ms as i64, m.label.clone()))
        .collect();
    let want = [(500, "HiLight"), (1500, "HiLight"), (3002, "HiLight")];
    assert_near(&scanned, &want, 34);
    assert!(
        rec0123.metadata.marks[2]
            .source
            .starts_with("GH020123.MP4 moov/udta/HMMT"),
        "{:?}",
        rec0123.metadata.marks
    );
    let single = report
        .clips
        .iter()
        .find(|c| c.clip.name.contains("0124"))
        .expect("recording 0124");
    assert!(single.metadata.marks.is_empty());

    let sbx = start_sandbox(&s.root).await;
    // The first bulk create commits, then its answer is lost: the retry lists the asset's
    // markers and sends none again.
    sbx.set_faults(FaultSet {
        rules: vec![FaultRule {
            method: "POST".into(),
            path: "/API/assets/v1/assets/*/segments/bulk/".into(),
            drop_response_after_commit: true,
            times: Some(1),
            ..FaultRule::default()
        }],
    })
    .unwrap();
    let mut e = engine(&sbx, &s, TOKEN);
    e.options.proxy = ProxyMode::None;
    let (out, _) = run(&e, job(&report)).await;
    assert!(out.all_complete(), "{:#?}", out.record);
    let st = sbx.state();
    let a0123 = asset_of(&st, &rec0123.clip.id);
    assert_near(&markers_of(&st, &a0123), &want, 34);
    assert!(markers_of(&st, &asset_of(&st, &single.clip.id)).is_empty());
    assert_eq!(
        bulk_posts(&sbx),
        1,
        "one bulk call for the one clip with marks"
    );
    let rec = out.record.clips.get(&rec0123.clip.id).unwrap();
    assert_eq!(rec.markers, Some(3));
    assert_eq!(rec.step(Step::Collection), StepState::Done);
    let other = out.record.clips.get(&single.clip.id).unwrap();
    assert!(matches!(
        other.step(Step::Collection),
        StepState::Skipped { .. }
    ));
    assert_all_validated(&sbx);

    // A re-run of the finished card makes no marker again.
    let (again, _) = run(&e, job(&report)).await;
    assert!(again.all_complete());
    assert_eq!(bulk_posts(&sbx), 1);
    assert_eq!(markers_of(&sbx.state(), &a0123).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sony_shot_marks_become_markers_at_their_frame() {
    let s = setup_card(SampleKind::XavcS);
    let report = scan_card(&s.card);
    assert_eq!(report.clips.len(), 1);
    let clip = &report.clips[0];
    // 25p, 75 frames: _ShotMark1 at frame 30, _ShotMark2 at frame 60; _RecStart is left out.
    let want = [(1200, "Shot Mark 1"), (2400, "Shot Mark 2")];
    let sbx = start_sandbox(&s.root).await;
    let mut e = engine(&sbx, &s, TOKEN);
    e.options.proxy = ProxyMode::None;
    let (out, _) = run(&e, job(&report)).await;
    assert!(out.all_complete(), "{:#?}", out.record);
    let st = sbx.state();
    assert_near(&markers_of(&st, &asset_of(&st, &clip.clip.id)), &want, 40);
    assert_eq!(bulk_posts(&sbx), 1);
    assert_all_validated(&sbx);
    // The sandbox's asset page lists them.
    let page = reqwest::Client::new()
        .get(format!(
            "{}/sandbox/assets/{}",
            sbx.base_url(),
            asset_of(&st, &clip.clip.id)
        ))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<h2>Markers (2)</h2>"), "{page}");
    assert!(
        page.contains("<td class=\"mono\">1200</td><td>Shot Mark 1</td>"),
        "{page}"
    );
}
