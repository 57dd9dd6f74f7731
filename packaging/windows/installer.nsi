; The Windows installer of RC Softphone, made by scripts/windows with Debian's makensis.
; Per user (no administrator rights, like Tauri's default installer): the program goes to
; %LOCALAPPDATA%\Programs\RC Softphone, a Start menu shortcut and an "Apps" entry with an
; uninstaller are added, and the phone is offered to Windows as a handler of tel: and callto:
; links (Settings > Default apps lets the user choose it; Windows does not let an installer
; take a default silently).
;
; makensis -DVERSION=0.1.0 -DSOURCE=<folder with softphone.exe, WebView2Loader.dll, LICENSE.txt>
;          -DOUTFILE=<installer.exe> installer.nsi

Unicode true
Target amd64-unicode
ManifestDPIAware true
RequestExecutionLevel user
SetCompressor /SOLID lzma

!ifndef VERSION
  !error "VERSION is required (-DVERSION=x.y.z)"
!endif
!ifndef SOURCE
  !error "SOURCE is required (-DSOURCE=folder)"
!endif
!ifndef OUTFILE
  !error "OUTFILE is required (-DOUTFILE=installer.exe)"
!endif

!define PRODUCT "RC Softphone"
!define EXE "softphone.exe"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\RCSoftphone"
!define CAPABILITIES_KEY "Software\RCSoftphone\Capabilities"
!define PROGID "RCSoftphone.Url"
; The WebView2 runtime's registration (Evergreen), per machine and per user.
!define WEBVIEW2_KEY "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${PRODUCT}"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${PRODUCT} installer"
VIAddVersionKey "LegalCopyright" "MIT licence"

!include "MUI2.nsh"
!include "LogicLib.nsh"

!define MUI_ICON "${SOURCE}\icon.ico"
!define MUI_UNICON "${SOURCE}\icon.ico"
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXE}"
!insertmacro MUI_PAGE_LICENSE "${SOURCE}\LICENSE.txt"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

; tel: and callto: for this user, the way the running app's deep-link plugin registers them
; (so that it finds them registered), and their removal when they still start this program.
!macro RegisterScheme SCHEME
  WriteRegStr HKCU "Software\Classes\${SCHEME}" "" "URL:${SCHEME}"
  WriteRegStr HKCU "Software\Classes\${SCHEME}" "URL Protocol" ""
  WriteRegStr HKCU "Software\Classes\${SCHEME}\DefaultIcon" "" "$INSTDIR\${EXE},0"
  WriteRegStr HKCU "Software\Classes\${SCHEME}\shell\open\command" "" '"$INSTDIR\${EXE}" "%1"'
!macroend
!macro UnregisterScheme SCHEME
  ReadRegStr $1 HKCU "Software\Classes\${SCHEME}\shell\open\command" ""
  ${If} $1 == '"$INSTDIR\${EXE}" "%1"'
    DeleteRegKey HKCU "Software\Classes\${SCHEME}"
  ${EndIf}
!macroend

; The window is a WebView2 page: without the runtime (Windows 10 machines that never had
; Edge's updates) the phone cannot show its window. Say so rather than install a dead app.
Function .onInit
  ReadRegStr $0 HKLM "${WEBVIEW2_KEY}" "pv"
  ${If} $0 == ""
    ReadRegStr $0 HKCU "Software\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}" "pv"
  ${EndIf}
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    IfSilent +2
    MessageBox MB_ICONINFORMATION|MB_OK "${PRODUCT} needs Microsoft's WebView2 runtime, which this computer does not seem to have. The installation goes on; install WebView2 from Microsoft (search for 'WebView2 Runtime') before you start the phone."
  ${EndIf}
FunctionEnd

Section "Install"
  SetOutPath "$INSTDIR"
  File "${SOURCE}\${EXE}"
  File "${SOURCE}\WebView2Loader.dll"
  File "${SOURCE}\LICENSE.txt"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\${PRODUCT}.lnk" "$INSTDIR\${EXE}"

  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${EXE}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1

  ; tel: and callto: links: a ProgID that starts the phone with the link, and the
  ; capabilities Windows lists under Default apps.
  WriteRegStr HKCU "Software\Classes\${PROGID}" "" "Phone link"
  WriteRegStr HKCU "Software\Classes\${PROGID}" "URL Protocol" ""
  WriteRegStr HKCU "Software\Classes\${PROGID}\DefaultIcon" "" "$INSTDIR\${EXE},0"
  WriteRegStr HKCU "Software\Classes\${PROGID}\shell\open\command" "" '"$INSTDIR\${EXE}" "%1"'
  WriteRegStr HKCU "${CAPABILITIES_KEY}" "ApplicationName" "${PRODUCT}"
  WriteRegStr HKCU "${CAPABILITIES_KEY}" "ApplicationDescription" "Calls through your RingCentral account"
  WriteRegStr HKCU "${CAPABILITIES_KEY}\URLAssociations" "tel" "${PROGID}"
  WriteRegStr HKCU "${CAPABILITIES_KEY}\URLAssociations" "callto" "${PROGID}"
  WriteRegStr HKCU "Software\RegisteredApplications" "${PRODUCT}" "${CAPABILITIES_KEY}"
  !insertmacro RegisterScheme "tel"
  !insertmacro RegisterScheme "callto"
SectionEnd

Section "Uninstall"
  ; The phone may be running (it lives in the tray): ask it to go, as its own Quit would.
  ExecWait '"$SYSDIR\taskkill.exe" /IM ${EXE}' $0
  Delete "$INSTDIR\${EXE}"
  Delete "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\LICENSE.txt"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\${PRODUCT}.lnk"

  DeleteRegKey HKCU "Software\Classes\${PROGID}"
  DeleteRegKey HKCU "Software\RCSoftphone"
  DeleteRegValue HKCU "Software\RegisteredApplications" "${PRODUCT}"
  !insertmacro UnregisterScheme "tel"
  !insertmacro UnregisterScheme "callto"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  ; Settings, call history and the keychain's entries stay: they are the user's, and a
  ; reinstall keeps them (as the .deb's removal does).
SectionEnd
