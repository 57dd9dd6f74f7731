//! RC Softphone: the desktop shell. This file only assembles the Tauri app; commands live in
//! [`commands`], the engine and the demo server in [`state`].

// Hide the console window that Windows would otherwise open next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
#![forbid(unsafe_code)]

mod about;
mod autostart;
mod closing;
mod commands;
mod events;
mod files;
mod history;
mod links;
mod notify;
mod number;
mod ringer;
mod secrets;
mod settings;
mod signin;
mod siplog;
mod state;
mod tray;
mod welcome;

use tauri::Manager;

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

/// Hands a link's number to the window (a second start with a `tel:` argument, or the
/// system's open-URL event).
fn open_links<S: AsRef<str>>(app: &tauri::AppHandle, links: impl IntoIterator<Item = S>) {
    if let Some(number) = links::number_in_args(links) {
        app.state::<state::AppState>().open_link(app, number);
    }
}

/// The tray icon, tel:/callto: links, and the first start of the phone.
fn set_up(app: &mut tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    use tauri_plugin_deep_link::DeepLinkExt;
    match tray::Tray::build(app.handle()) {
        Ok(tray) => {
            app.manage(tray);
        }
        Err(e) => eprintln!("softphone: no tray icon ({e}); the window alone is used"),
    }
    let handle = app.handle().clone();
    app.deep_link().on_open_url(move |event| open_links(&handle, event.urls().iter().map(|u| u.as_str().to_owned())));
    // Installed packages declare the schemes in their desktop entry; a release binary run
    // from anywhere else (an AppImage, a build) registers itself so that links still reach it.
    let installed = std::env::current_exe().is_ok_and(|exe| links::installed_by_a_package(&exe));
    if cfg!(not(debug_assertions)) && !installed {
        if let Err(e) = register_link_handler(app) {
            eprintln!("softphone: tel:/callto: links could not be registered: {e}");
        }
    }
    open_links(app.handle(), std::env::args().skip(1));
    Ok(())
}

/// Makes this program the user's handler of tel: and callto: links. On Linux our own entry
/// (`links::register_handler`): the deep-link plugin's quotes its Exec path, which xdg-open's
/// generic mode cannot run. An AppImage is named by its own path (`APPIMAGE`), not by the
/// extracted binary. On Windows the deep-link plugin (the user's registry classes).
fn register_link_handler(app: &tauri::App) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        let _ = app;
        let image = std::env::var_os("APPIMAGE").map(std::path::PathBuf::from).filter(|p| p.is_file());
        let program = match image {
            Some(image) => image,
            None => std::env::current_exe().map_err(|e| format!("where am I? {e}"))?,
        };
        let data = directories::BaseDirs::new().ok_or("no home directory")?.data_dir().join("applications");
        links::register_handler(&program, &data)
    }
    #[cfg(windows)]
    {
        use tauri_plugin_deep_link::DeepLinkExt;
        app.deep_link().register_all().map_err(|e| e.to_string())
    }
    // macOS: the app bundle's Info.plist declares the schemes; nothing to register at run time.
    #[cfg(not(any(target_os = "linux", windows)))]
    {
        let _ = app;
        Ok(())
    }
}

fn main() {
    let result = tauri::Builder::default()
        // First: a second start hands its arguments (a tel: link) to this one and exits.
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            tray::raise_window(app);
            open_links(app, args.into_iter().skip(1));
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(autostart::plugin())
        .manage(state::AppState::default())
        .manage(secrets::Keychain::default())
        .on_window_event(closing::on_window_event)
        .setup(|app| {
            set_up(app)?;
            // Read before the window asks anything: whether to greet the user, and what
            // closing the window does.
            let (prefs, note) = settings::Settings::load_at_start(&settings::Settings::path_in(&settings::config_dir()));
            app.manage(welcome::Welcome::new(prefs.welcome_due(std::env::var_os("SOFTPHONE_SIPINFO").is_some())));
            app.state::<state::AppState>().replace_settings(prefs.clone());
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let state = handle.state::<state::AppState>();
                let keychain = handle.state::<secrets::Keychain>();
                if let Some(text) = note {
                    state::notice(&handle, text);
                }
                let result = match configured_account(&prefs, &keychain) {
                    Ok(account) => state.start(handle.clone(), account, &prefs).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = commands::restore_sign_in(&state, &keychain, &prefs).await {
                    state::notice(&handle, e);
                }
                // The status is pushed to the window as it changes (state::AppState::set_status).
                if let Err(error) = result {
                    state.set_failed(&handle, error);
                }
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
            commands::demo_drop_connection,
            commands::sign_in,
            commands::demo_credentials,
            commands::sign_out,
            commands::conference,
            commands::conference_invite,
            commands::history,
            commands::use_account,
            commands::use_demo,
            commands::flip,
            commands::set_recording,
            commands::settings,
            commands::save_settings,
            commands::choose_caller_id,
            commands::test_sound,
            commands::sip_log,
            commands::clear_sip_log,
            commands::pending_link,
            welcome::welcome,
            welcome::welcome_done,
            about::licenses,
        ])
        // The configuration lives at the repository root (see build.rs).
        .run(tauri::generate_context!("../tauri.conf.json"));
    if let Err(error) = result {
        exit_after_failed_start(error);
    }
}

/// Set in the environment of a start that is the second try of [`exit_after_failed_start`].
const SECOND_TRY: &str = "SOFTPHONE_SECOND_TRY";

/// A start that found the phone already running but could not hand it its arguments (it was
/// going away: quitting, or killed) tries once more, and is then the phone itself. Any other
/// failure is reported and ends the process with status 1.
fn exit_after_failed_start(error: tauri::Error) -> ! {
    let handover_failed = matches!(&error, tauri::Error::PluginInitialization(plugin, _) if plugin == "single-instance");
    if handover_failed && std::env::var_os(SECOND_TRY).is_none() {
        eprintln!("softphone: the running phone went away before it took this start's arguments ({error}); starting again");
        if let Err(e) = start_again() {
            eprintln!("softphone: cannot start again: {e}");
        }
    }
    eprintln!("softphone: the app cannot start: {error}");
    std::process::exit(1)
}

/// Runs this program again with the same arguments, marked as the second try: in place of
/// this process on Unix (same process id, for whoever started it), as a child on Windows.
fn start_again() -> std::io::Result<()> {
    let mut again = std::process::Command::new(std::env::current_exe()?);
    again.args(std::env::args_os().skip(1)).env(SECOND_TRY, "1");
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        Err(again.exec())
    }
    #[cfg(not(unix))]
    {
        let status = again.status()?;
        std::process::exit(status.code().unwrap_or(1))
    }
}
