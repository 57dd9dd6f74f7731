//! "Start at login", through Tauri's autostart plugin: a desktop entry in
//! `~/.config/autostart` on Linux, the `Run` key on Windows, a launch agent on macOS. The
//! system's own state is the setting (the user may remove the entry elsewhere), so nothing
//! about it is kept in the settings file.

use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_autostart::AutoLaunchManager;

/// The name of the entry. On Linux it is the file name (`rc-softphone.desktop`, like the
/// packages' desktop entry: no space, which some autostart runners handle badly); elsewhere
/// the name the system lists.
pub const ENTRY_NAME: &str = if cfg!(target_os = "linux") { "rc-softphone" } else { "RC Softphone" };

/// The plugin, naming the entry the same in every build (the packages rename the product).
pub fn plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_autostart::Builder::new().app_name(ENTRY_NAME).build()
}

fn manager(app: &AppHandle) -> Result<tauri::State<'_, AutoLaunchManager>, String> {
    app.try_state::<AutoLaunchManager>().ok_or_else(|| "start at login is not available (the autostart plugin did not start)".to_owned())
}

/// Whether the app starts at login.
pub fn is_on(app: &AppHandle) -> Result<bool, String> {
    manager(app)?.is_enabled().map_err(|e| format!("whether the app starts at login is unknown: {e}"))
}

/// Makes the app start at login, or not; nothing happens when it already does what `on` says.
pub fn set(app: &AppHandle, on: bool) -> Result<(), String> {
    let manager = manager(app)?;
    if manager.is_enabled().ok() == Some(on) {
        return Ok(());
    }
    if on {
        manager.enable().map_err(|e| format!("the app could not be set to start at login: {e}"))
    } else {
        manager.disable().map_err(|e| format!("the app could not be kept from starting at login: {e}"))
    }
}
