//! RC Softphone: the desktop shell. This file only assembles the Tauri app; commands live in
//! [`commands`], the engine and the demo server in [`state`].

// Hide the console window that Windows would otherwise open next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
#![forbid(unsafe_code)]

mod commands;
mod events;
mod history;
mod number;
mod ringer;
mod state;

use tauri::{Emitter, Manager};

/// The sipInfo JSON to use instead of the demo account, from `SOFTPHONE_SIPINFO` (a file).
fn configured_account() -> Result<Option<webphone::SipInfo>, String> {
    let Some(path) = std::env::var_os("SOFTPHONE_SIPINFO") else { return Ok(None) };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", std::path::Path::new(&path).display()))?;
    webphone::SipInfo::from_json(&text).map(Some).map_err(|e| e.to_string())
}

fn main() {
    tauri::Builder::default()
        .manage(state::AppState::default())
        .setup(|app| {
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let state = handle.state::<state::AppState>();
                let result = match configured_account() {
                    Ok(account) => state.start(handle.clone(), account).await,
                    Err(e) => Err(e),
                };
                let status = result.unwrap_or_else(|error| state::Status { state: "failed".into(), number: None, demo: false, error: Some(error) });
                let _ = handle.emit("phone-status", status);
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_version,
            commands::status,
            commands::dial,
            commands::answer,
            commands::decline,
            commands::to_voicemail,
            commands::forward,
            commands::reply,
            commands::hangup,
            commands::set_hold,
            commands::set_mute,
            commands::send_dtmf,
            commands::transfer,
            commands::park,
            commands::warm_transfer,
            commands::complete_transfer,
            commands::cancel_transfer,
            commands::demo_incoming_call,
            commands::history,
        ])
        // The configuration lives at the repository root (see build.rs).
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("failed to run the RC Softphone app");
}
