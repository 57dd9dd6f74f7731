//! Telling the user a call rings in when the window is not in front: an OS notification, and
//! the window raised.

use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;

/// The longest caller name or number shown (a caller chooses its display name).
const MAX_SHOWN: usize = 80;

/// The notification's text for a call from `number` (named `name` when known). Both come
/// from the caller's INVITE: they are cut to [`MAX_SHOWN`] characters, lose control
/// characters and, where the notification service reads markup, have it escaped.
pub fn incoming_text(name: Option<&str>, number: &str) -> (String, String) {
    let (name, number) = (name.map(shown), shown(number));
    let who = match name {
        Some(name) if !name.trim().is_empty() => format!("{name} ({number})"),
        _ => number,
    };
    ("Incoming call".to_owned(), who)
}

/// `text` as a notification may show it: no control characters, at most [`MAX_SHOWN`]
/// characters, and on Linux (where notification bodies are markup: `<b>`, `<a href>`,
/// `<img>`…, per the Desktop Notifications spec) with `&`, `<` and `>` escaped.
fn shown(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(MAX_SHOWN).collect();
    if cfg!(target_os = "linux") {
        clean.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    } else {
        clean
    }
}

/// Shows an OS notification for an incoming call and shows the window without taking the
/// keyboard from what the user is typing elsewhere. A desktop without a notification
/// service still gets the window.
pub fn incoming_call(app: &AppHandle, name: Option<&str>, number: &str) {
    let (title, body) = incoming_text(name, number);
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        eprintln!("softphone: the incoming-call notification could not be shown: {e}");
    }
    crate::tray::show_window_without_focus(app);
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

    #[test]
    fn a_callers_name_cannot_bring_markup_or_flood_the_notification() {
        let (_, body) = incoming_text(Some("<a href=\"https://evil.example\">Bank</a> & <img src=x>\u{7}"), "+1650");
        if cfg!(target_os = "linux") {
            assert_eq!(body, "&lt;a href=\"https://evil.example\"&gt;Bank&lt;/a&gt; &amp; &lt;img src=x&gt; (+1650)");
        }
        assert!(!body.contains('\u{7}'));
        let (_, long) = incoming_text(Some(&"x".repeat(10_000)), "1");
        assert_eq!(long.len(), MAX_SHOWN + " (1)".len());
    }
}
