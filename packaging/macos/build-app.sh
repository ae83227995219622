#!/usr/bin/env bash
# On a Mac (Xcode command-line tools + rustup): builds card-ingest.app and a .dmg from it.
#   bash packaging/macos/build-app.sh            # for this Mac's architecture
#   bash packaging/macos/build-app.sh --universal  # arm64 + x86_64 in one binary (lipo)
# Results: target/macos/card-ingest.app and target/macos/card-ingest-<version>.dmg.
# The bundle is signed ad hoc (runs on this Mac; Apple silicon refuses unsigned code). Another
# Mac needs a Developer ID signature and notarisation: set CODESIGN_IDENTITY, then notarise the
# .dmg with `xcrun notarytool submit … --wait` and `xcrun stapler staple`.
# ffmpeg and mediainfo are not bundled: `brew install ffmpeg mediainfo`.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(uname -s)" = Darwin ] || { echo "build-app.sh: run this on macOS (it needs hdiutil, codesign)" >&2; exit 1; }

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
out=target/macos
app=$out/card-ingest.app
rm -rf "$app" "$out/dmg"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"

if [ "${1:-}" = "--universal" ]; then
  rustup target add aarch64-apple-darwin x86_64-apple-darwin
  cargo build --release --bin card-ingest --target aarch64-apple-darwin
  cargo build --release --bin card-ingest --target x86_64-apple-darwin
  lipo -create -output "$app/Contents/MacOS/card-ingest" \
    target/aarch64-apple-darwin/release/card-ingest target/x86_64-apple-darwin/release/card-ingest
else
  cargo build --release --bin card-ingest
  cp target/release/card-ingest "$app/Contents/MacOS/card-ingest"
fi
sed "s/@VERSION@/$version/g" packaging/macos/Info.plist >"$app/Contents/Info.plist"
plutil -lint "$app/Contents/Info.plist"
cp packaging/icons/card-ingest.icns "$app/Contents/Resources/card-ingest.icns"
codesign --force --options runtime --sign "${CODESIGN_IDENTITY:--}" "$app"

# The disk image: the app plus an /Applications link to drag it onto.
mkdir -p "$out/dmg"
cp -R "$app" "$out/dmg/"
ln -s /Applications "$out/dmg/Applications"
rm -f "$out/card-ingest-$version.dmg"
hdiutil create -volname "card-ingest $version" -srcfolder "$out/dmg" -ov -format UDZO \
  "$out/card-ingest-$version.dmg"
rm -rf "$out/dmg"
echo "build-app.sh: $app and $out/card-ingest-$version.dmg"
