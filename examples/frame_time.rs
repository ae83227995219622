//! Frame time of the preview with 0, 20 and 1 000 clips (issue 5 asks for under 16 ms with
//! 1 000). Run in release: `cargo run --release --example frame_time` (the debug figure comes
//! from the `gui_preview_with_1000_clips_frame_time` test). The measurement itself lives in
//! `tests/it/frame_time.rs`, shared with that test.

#[path = "../tests/it/frame_time.rs"]
mod frame_time;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let measured = frame_time::measure(&rt, 120);
    println!("{}", frame_time::report(&measured.times, profile));
}
