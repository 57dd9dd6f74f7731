//! Runs tauri-build against the single `tauri.conf.json` at the repository root.
//!
//! tauri-build reads `tauri.conf.json` from the directory that holds the configured
//! path, and resolves `frontendDist` and icon paths against that same directory, so
//! the root `ui/` and `icons/` are used as they are. `src/main.rs` passes the same
//! path to `generate_context!`. Capabilities stay in `src-tauri/capabilities/`.

/// Path of the app configuration, relative to this crate's directory.
const CONFIG_PATH: &str = "../tauri.conf.json";

/// Every `#[tauri::command]` of the app, as registered in `main.rs`.
const COMMANDS: &[&str] = &[
    "conference_invite",
    "app_version",
    "status",
    "dial",
    "answer",
    "decline",
    "to_voicemail",
    "forward",
    "reply",
    "hangup",
    "set_hold",
    "set_mute",
    "send_dtmf",
    "transfer",
    "park",
    "warm_transfer",
    "complete_transfer",
    "cancel_transfer",
    "demo_incoming_call",
    "history",
    "use_account",
    "use_demo",
    "flip",
    "set_recording",
    "settings",
    "save_settings",
    "choose_caller_id",
    "test_sound",
    "sip_log",
    "clear_sip_log",
    "pending_link",
    "demo_drop_connection",
    "sign_in",
    "sign_out",
    "conference",
    "demo_credentials",
    "welcome",
    "welcome_done",
    "licenses",
];

fn main() {
    // The embedded assets are tracked file by file (include_bytes!) by the context
    // macro; watching the folders as well catches files that are added or removed.
    println!("cargo:rerun-if-changed=../ui");
    println!("cargo:rerun-if-changed=../icons");

    // Our commands get `allow-<command>` permissions; the capability grants exactly those.
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    let attributes = tauri_build::Attributes::new().config_path(CONFIG_PATH).app_manifest(manifest);
    if let Err(error) = tauri_build::try_build(attributes) {
        // Print the whole error chain; a bare panic would show only its first line.
        eprintln!("tauri-build failed: {error:#}");
        std::process::exit(1);
    }
}
