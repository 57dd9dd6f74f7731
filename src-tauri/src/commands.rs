//! Tauri commands: one per user intent, each a thin call into the app's state.

use serde::Serialize;

/// The application's name and version, as shown in the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppVersion {
    /// Cargo package name of the app.
    pub name: &'static str,
    /// Semantic version of the app.
    pub version: &'static str,
}

/// Returns the name and version the app was built as.
#[tauri::command]
pub fn app_version() -> AppVersion {
    AppVersion {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_version_reports_the_package() {
        let v = app_version();
        assert_eq!(v.name, "softphone");
        assert_eq!(v.version, env!("CARGO_PKG_VERSION"));
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["name"], "softphone");
    }
}
