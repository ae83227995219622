#!/usr/bin/env bash
# The issue-10 benchmark (README "Benchmark"), with the lines of issues 21 and 22: builds the CLI
# and the bench helper in release, then runs every line with its reference side by side and
# writes target/bench/results.json. Inputs (≈ 7 GB of test files and generated P2 cards) are
# kept in target/bench/data for later runs. Extra arguments select lines: checksum1 checksum2
# proxy (with proxy-lut proxy-burn-in proxy-edit) job (with job-edit: web + edit proxies) api
# upload upload-capped (512 MiB with --max-upload-rate 20M: 25.6 s +- 5 %) cloud-copy scan
# scale (25 / 500 / 2 000 clips; scale-500 or scale-2000: that size and the 25-clip reference)
# frame (with frame-run: 2 000 clips and a run in progress), e.g. `benches/run.sh scale`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v md5sum >/dev/null && command -v ffmpeg >/dev/null && command -v curl >/dev/null \
  && command -v python3 >/dev/null && command -v mediainfo >/dev/null \
  || { echo "needs md5sum, ffmpeg, mediainfo, curl and python3 on PATH" >&2; exit 2; }
cargo build --release --bin card-ingest --example bench
mkdir -p target/bench
exec target/release/examples/bench "$@"
