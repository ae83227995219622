//! Build script: on Windows targets only, embeds the icon and the version resource (name,
//! version, description from Cargo.toml) into card-ingest.exe, so Explorer, the taskbar and the
//! installer show them, plus the application manifest (`packaging/windows/card-ingest.exe.manifest`:
//! long paths over 260 characters, per-monitor DPI). Cross-builds from Linux use mingw's `x86_64-w64-mingw32-windres`
//! (Debian: gcc-mingw-w64-x86-64 brings binutils-mingw-w64); other targets do nothing here.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=packaging/icons/card-ingest.ico");
    println!("cargo:rerun-if-changed=packaging/windows/card-ingest.exe.manifest");
    // CARGO_CFG_TARGET_OS is the target's OS (a build script runs on the host).
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let mut res = winresource::WindowsResource::new();
    res.set_icon("packaging/icons/card-ingest.ico")
        .set("FileDescription", "card-ingest")
        .set("ProductName", "card-ingest")
        .set("OriginalFilename", "card-ingest.exe")
        .set_manifest_file("packaging/windows/card-ingest.exe.manifest");
    if let Err(e) = res.compile() {
        // A missing windres must stop the build: an .exe without icon/version is not a release.
        panic!(
            "embedding the Windows icon/version resource failed: {e} \
             (cross-building from Debian needs gcc-mingw-w64-x86-64, which brings \
             x86_64-w64-mingw32-windres)"
        );
    }
}
