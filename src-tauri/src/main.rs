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
mod secrets;
mod settings;
mod state;

use tauri::{Emitter, Manager};

/// The account to start with: `SOFTPHONE_SIPINFO` (a sipInfo JSON file, for scripts), else
/// the saved account with its password from the keychain, else none (demo mode).
fn configured_account(prefs: &settings::Settings, keychain: &secrets::Keychain) -> Result<Option<webphone::SipInfo>, String> {
    if let Some(path) = std::env::var_os("SOFTPHONE_SIPINFO") {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", std::path::Path::new(&path).display()))?;
        return webphone::SipInfo::from_json(&text).map(Some).map_err(|e| e.to_string());
    }
    let Some(mut account) = prefs.account.clone() else { return Ok(None) };
    account.password = secrets::SecretStore::get(keychain, &commands::account_key(&account))?;
    Ok(Some(account))
}

fn main() {
    tauri::Builder::default()
        .manage(state::AppState::default())
        .manage(secrets::Keychain::default())
        .setup(|app| {
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let state = handle.state::<state::AppState>();
                let keychain = handle.state::<secrets::Keychain>();
                let prefs = settings::Settings::load(&settings::Settings::path_in(&settings::config_dir())).unwrap_or_default();
                let result = match configured_account(&prefs, &keychain) {
                    Ok(account) => state.start(handle.clone(), account, &prefs).await,
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
            commands::use_account,
            commands::use_demo,
        ])
        // The configuration lives at the repository root (see build.rs).
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("failed to run the RC Softphone app");
}
