#!/usr/bin/env bash
# Makes every icon the packages need from the one SVG, assets/card-ingest.svg:
#   packaging/icons/hicolor/<N>x<N>/apps/card-ingest.png  (N = 16 … 512, the .deb's hicolor set)
#   packaging/icons/hicolor/scalable/apps/card-ingest.svg  (the SVG itself)
#   packaging/icons/card-ingest.ico   (Windows: .exe resource via build.rs, NSIS installer)
#   packaging/icons/card-ingest.icns  (macOS .app bundle)
# The results are checked in, so a build on Windows or a Mac needs none of these tools; CI runs
# `packaging/make-icons.sh --check`, which renders into a temporary folder and fails when the
# checked-in files differ (edit the SVG, run this script, commit both).
# Tools (Debian): librsvg2-bin (rsvg-convert), icoutils (icotool), icnsutils (png2icns).
set -euo pipefail
cd "$(dirname "$0")/.."

svg=assets/card-ingest.svg
dest=packaging/icons
check=""
if [ "${1:-}" = "--check" ]; then check=1; dest=$(mktemp -d); trap 'rm -rf "$dest"' EXIT; fi

for tool in rsvg-convert icotool png2icns; do
  command -v "$tool" >/dev/null || {
    echo "make-icons: $tool not found: apt-get install librsvg2-bin icoutils icnsutils" >&2; exit 1; }
done

sizes=(16 24 32 48 64 128 256 512)
for n in "${sizes[@]}"; do
  mkdir -p "$dest/hicolor/${n}x${n}/apps"
  rsvg-convert --width "$n" --height "$n" --format png \
    --output "$dest/hicolor/${n}x${n}/apps/card-ingest.png" "$svg"
done
mkdir -p "$dest/hicolor/scalable/apps"
cp "$svg" "$dest/hicolor/scalable/apps/card-ingest.svg"

png() { echo "$dest/hicolor/$1x$1/apps/card-ingest.png"; }
# Windows shows 16/24/32/48 in lists and 256 in large views; 256 is stored as PNG inside the .ico.
icotool --create --output "$dest/card-ingest.ico" \
  "$(png 16)" "$(png 24)" "$(png 32)" "$(png 48)" "$(png 64)" --raw="$(png 256)"
# png2icns picks the icns slot from each PNG's size (16, 32, 48, 128, 256, 512).
png2icns "$dest/card-ingest.icns" "$(png 16)" "$(png 32)" "$(png 48)" "$(png 128)" \
  "$(png 256)" "$(png 512)" >/dev/null

if [ -n "$check" ]; then
  if ! diff -r "$dest" packaging/icons >/dev/null; then
    diff -rq "$dest" packaging/icons >&2 || true
    echo "make-icons: packaging/icons/ is not what assets/card-ingest.svg gives: run" \
         "packaging/make-icons.sh and commit the result" >&2
    exit 1
  fi
  echo "make-icons: packaging/icons/ is up to date with $svg"
else
  echo "make-icons: wrote $dest (${#sizes[@]} PNG sizes, scalable SVG, .ico, .icns)"
fi
