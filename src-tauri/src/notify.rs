//! Telling the user a call rings in when the window is not in front: an OS notification, and
//! the window raised.

use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;

/// The notification's text for a call from `number` (named `name` when known).
pub fn incoming_text(name: Option<&str>, number: &str) -> (String, String) {
    let who = match name {
        Some(name) if !name.trim().is_empty() => format!("{name} ({number})"),
        _ => number.to_owned(),
    };
    ("Incoming call".to_owned(), who)
}

/// Shows an OS notification for an incoming call and raises the window. A desktop without a
/// notification service still gets the raised window.
pub fn incoming_call(app: &AppHandle, name: Option<&str>, number: &str) {
    let (title, body) = incoming_text(name, number);
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        eprintln!("softphone: the incoming-call notification could not be shown: {e}");
    }
    crate::tray::raise_window(app);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notification_names_the_caller() {
        assert_eq!(incoming_text(Some("Demo User 102"), "+16505550102"), ("Incoming call".into(), "Demo User 102 (+16505550102)".into()));
        assert_eq!(incoming_text(None, "600").1, "600");
        assert_eq!(incoming_text(Some("  "), "600").1, "600");
    }
}
