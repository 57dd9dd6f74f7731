//! The tray icon: the phone's status at a glance, a way back to the window, and Quit (which
//! hangs up and unregisters first, see [`crate::closing::quit`]).

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager};

/// The tray icon and its status line, kept so the status can change.
pub struct Tray {
    icon: TrayIcon,
    status: MenuItem<tauri::Wry>,
}

impl Tray {
    /// Shows the tray icon. Where the desktop has no tray, the error says so and the app
    /// goes on without one.
    pub fn build(app: &AppHandle) -> tauri::Result<Tray> {
        let status = MenuItem::with_id(app, "status", "Starting…", false, None::<&str>)?;
        let show = MenuItem::with_id(app, "show", "Show RC Softphone", true, None::<&str>)?;
        let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
        let menu = Menu::with_items(app, &[&status, &PredefinedMenuItem::separator(app)?, &show, &quit])?;
        let mut builder = TrayIconBuilder::with_id("main").menu(&menu).tooltip("RC Softphone").on_menu_event(|app, event| match event.id().as_ref() {
            "show" => raise_window(app),
            "quit" => crate::closing::quit(app),
            _ => {}
        });
        builder = builder.on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click { button: MouseButton::Left, button_state: MouseButtonState::Up, .. } = event {
                raise_window(tray.app_handle());
            }
        });
        if let Some(icon) = app.default_window_icon() {
            builder = builder.icon(icon.clone());
        }
        let icon = builder.build(app)?;
        Ok(Tray { icon, status })
    }

    /// Shows `text` as the phone's status in the tray's menu and tooltip.
    pub fn set_status(&self, text: &str) {
        let _ = self.status.set_text(text);
        let _ = self.icon.set_tooltip(Some(format!("RC Softphone: {text}")));
    }
}

/// Shows the main window for an incoming call without taking keyboard focus: the user may
/// be typing elsewhere, and keys must not reach the call. The desktop is asked to draw the
/// user's attention to it instead.
pub fn show_window_without_focus(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.request_user_attention(Some(tauri::UserAttentionType::Informational));
    }
}

/// Brings the main window to the front with focus (the user asked: the tray, a link).
pub fn raise_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
