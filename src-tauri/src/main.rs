//! RC Softphone: the desktop shell. This file only assembles the Tauri app;
//! commands live in [`commands`].

// Hide the console window that Windows would otherwise open next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
#![forbid(unsafe_code)]

mod commands;

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![commands::app_version])
        // The configuration lives at the repository root (see build.rs).
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("failed to run the RC Softphone app");
}
