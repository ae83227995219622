; card-ingest Windows installer (NSIS 3, Debian's `nsis` package: makensis).
; Per-user install (no administrator): %LOCALAPPDATA%\Programs\card-ingest, a Start-menu entry,
; an uninstaller listed in "Apps & features", and "Open with card-ingest" on folders in Explorer.
; Built by .ci/packages:
;   makensis -V2 -DVERSION=0.1.0 -DEXE=/abs/card-ingest.exe -DOUTFILE=/abs/card-ingest-0.1.0-setup.exe \
;            packaging/windows/card-ingest.nsi
; Silent install: card-ingest-<version>-setup.exe /S   (uninstall: uninstall.exe /S)
; Relative paths below are relative to this file (makensis changes into its folder).

; A 64-bit installer for the 64-bit app (also what lets Debian's wine64 run it without wine32).
Target amd64-unicode
!ifndef VERSION
  !error "pass -DVERSION=<version from Cargo.toml>"
!endif
!ifndef EXE
  !define EXE "..\..\target\x86_64-pc-windows-gnu\release\card-ingest.exe"
!endif
!ifndef OUTFILE
  !define OUTFILE "card-ingest-${VERSION}-setup.exe"
!endif
!define APP "card-ingest"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP}"
!define FOLDER_VERB_KEY "Software\Classes\Directory\shell\${APP}"

Name "${APP} ${VERSION}"
OutFile "${OUTFILE}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\Programs\${APP}"
InstallDirRegKey HKCU "Software\${APP}" "InstallDir"
SetCompressor /SOLID lzma
ManifestDPIAware true

!define MUI_ICON "..\icons\card-ingest.ico"
!define MUI_UNICON "..\icons\card-ingest.ico"
!define MUI_FINISHPAGE_RUN "$INSTDIR\${APP}.exe"
!include "MUI2.nsh"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

; The installer's own version resource (Windows needs four numbers).
VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=${LANG_ENGLISH} "ProductName" "${APP}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "FileDescription" "${APP} installer"
VIAddVersionKey /LANG=${LANG_ENGLISH} "LegalCopyright" "card-ingest developers (MIT OR Apache-2.0)"

Section "${APP}"
  ; Per-user: shortcuts in this user's Start menu, keys under HKCU only.
  SetShellVarContext current
  SetOutPath "$INSTDIR"
  File "/oname=${APP}.exe" "${EXE}"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\${APP}.lnk" "$INSTDIR\${APP}.exe" "" "$INSTDIR\${APP}.exe" 0
  WriteRegStr HKCU "Software\${APP}" "InstallDir" "$INSTDIR"

  ; Explorer: right-click a card folder -> "Open with card-ingest" (the app takes folders as args).
  WriteRegStr HKCU "${FOLDER_VERB_KEY}" "" "Open with card-ingest"
  WriteRegStr HKCU "${FOLDER_VERB_KEY}" "Icon" "$INSTDIR\${APP}.exe,0"
  WriteRegStr HKCU "${FOLDER_VERB_KEY}\command" "" '"$INSTDIR\${APP}.exe" "%1"'

  ; "Apps & features" entry for this user.
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "card-ingest developers"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${APP}.exe,0"
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  SetShellVarContext current
  Delete "$INSTDIR\${APP}.exe"
  Delete "$INSTDIR\uninstall.exe"
  ; Not /r: the folder goes only if it is empty (never sweep files a user put there). Settings,
  ; journals and reports in the per-user folders are the operator's data and stay.
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\${APP}.lnk"
  DeleteRegKey HKCU "${FOLDER_VERB_KEY}"
  DeleteRegKey HKCU "${UNINST_KEY}"
  DeleteRegKey HKCU "Software\${APP}"
SectionEnd
