//! The first-run welcome: on the first start with no account, the window offers "Sign in
//! with RingCentral" or "Try the demo" (the demo runs meanwhile). Once the user has chosen,
//! the settings say so ([`Settings::welcomed`]) and it is not shown again.

use crate::settings::{self, Settings};
use crate::state::{AppState, CommandResult};
use std::sync::atomic::{AtomicBool, Ordering};
use tauri::State;

/// Whether the window is to show the welcome, decided at the start from the settings.
#[derive(Debug, Default)]
pub struct Welcome(AtomicBool);

impl Welcome {
    /// The welcome, due or not (see [`Settings::welcome_due`]).
    pub fn new(due: bool) -> Welcome {
        Welcome(AtomicBool::new(due))
    }
}

/// Whether the window should show the welcome now.
#[tauri::command]
pub fn welcome(welcome: State<'_, Welcome>) -> bool {
    welcome.0.load(Ordering::SeqCst)
}

/// The user answered the welcome (either way): it is saved, and not shown again.
#[tauri::command]
pub fn welcome_done(state: State<'_, AppState>, welcome: State<'_, Welcome>) -> CommandResult<()> {
    mark_welcomed(&Settings::path_in(&settings::config_dir()))?;
    welcome.0.store(false, Ordering::SeqCst);
    state.replace_settings(Settings { welcomed: true, ..state.settings() });
    Ok(())
}

/// Saves in `path` that the welcome was answered, the rest of the settings as they are.
fn mark_welcomed(path: &std::path::Path) -> CommandResult<()> {
    let prefs = Settings::load(path)?;
    if prefs.welcomed {
        return Ok(());
    }
    Settings { welcomed: true, ..prefs }.save(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answering_the_welcome_is_saved_with_the_other_settings_kept() {
        let dir = std::env::temp_dir().join(format!("softphone-welcome-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = Settings::path_in(&dir);
        let (first, _) = Settings::load_at_start(&path);
        assert!(first.welcome_due(false), "a first start with no account greets the user");
        Settings { ring_volume: 35, ..first.clone() }.save(&path).unwrap();
        mark_welcomed(&path).unwrap();
        let (next, note) = Settings::load_at_start(&path);
        assert_eq!(note, None);
        assert!(next.welcomed && !next.welcome_due(false), "not shown again: {next:?}");
        assert_eq!((next.ring_volume, next.instance_id), (35, first.instance_id), "the rest of the settings kept");
        mark_welcomed(&path).unwrap();
        assert!(Settings::load(&path).unwrap().welcomed, "answering twice is harmless");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
