//! What closing the window does, and quitting: a phone has to be running to ring, so by
//! default closing the window hides it and the phone stays in the tray ("Show" brings it
//! back, as does starting the app again); with that setting off, or with no tray icon to come
//! back through, closing quits the way the tray's Quit does: calls hung up, the phone
//! unregistered, then the app exits.

use crate::state::AppState;
use std::sync::atomic::{AtomicBool, Ordering};
use tauri::{AppHandle, Manager};

/// What closing the main window does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnClose {
    /// The window hides; the phone keeps running in the tray.
    Hide,
    /// The app quits.
    Quit,
}

/// Closing hides the window only when the user wants that and a tray icon exists to bring
/// it back: never an invisible app with no way back.
pub fn on_close(close_to_tray: bool, has_tray: bool) -> OnClose {
    if close_to_tray && has_tray {
        OnClose::Hide
    } else {
        OnClose::Quit
    }
}

/// Handles the main window's close request (the window manager's close button, Alt+F4,
/// ⌘W): it never closes the window itself, it hides it or quits (see [`on_close`]).
pub fn on_window_event(window: &tauri::Window, event: &tauri::WindowEvent) {
    let tauri::WindowEvent::CloseRequested { api, .. } = event else { return };
    if window.label() != "main" {
        return;
    }
    api.prevent_close();
    let app = window.app_handle();
    let has_tray = app.try_state::<crate::tray::Tray>().is_some();
    match on_close(app.state::<AppState>().settings().close_to_tray, has_tray) {
        OnClose::Hide => {
            if let Err(e) = window.hide() {
                eprintln!("softphone: the window could not be hidden ({e}); quitting instead");
                quit(app);
            }
        }
        OnClose::Quit => quit(app),
    }
}

/// Set once a quit is under way: a second one (another click on Quit or on the close button)
/// waits for the first.
static QUITTING: AtomicBool = AtomicBool::new(false);

/// Quits cleanly: the window goes at once, then the phone hangs up its calls and unregisters
/// (each step bounded, see [`AppState::stop`]), then the app exits.
pub fn quit(app: &AppHandle) {
    if QUITTING.swap(true, Ordering::SeqCst) {
        return;
    }
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.hide();
    }
    // A start while the calls are hung up becomes the phone, not a hand-over to this one.
    tauri_plugin_single_instance::destroy(app);
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        app.state::<AppState>().stop().await;
        app.exit(0);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_hides_only_with_the_setting_on_and_a_tray_to_come_back_through() {
        assert_eq!(on_close(true, true), OnClose::Hide);
        assert_eq!(on_close(false, true), OnClose::Quit, "the user turned it off");
        assert_eq!(on_close(true, false), OnClose::Quit, "no tray icon: hiding would leave an invisible app with no way back");
        assert_eq!(on_close(false, false), OnClose::Quit);
    }
}
