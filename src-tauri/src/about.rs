//! The About box's facts: the licences of what the app ships. `scripts/licenses` writes them
//! to `src-tauri/licenses.json` from `cargo metadata` (the crates the app depends on, for each
//! desktop platform), plus the bundled C library and the system's web view; the file is built
//! into the app, and a test fails when it no longer matches Cargo.lock.

use serde::{Deserialize, Serialize};

/// The list `scripts/licenses` wrote, built into the app.
const LICENSES_JSON: &str = include_str!("../licenses.json");

/// Everything the app ships, with its licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Licenses {
    /// The app's own crates and their licence.
    pub project: Project,
    /// Code from elsewhere that crates bring into the app (libopus).
    pub bundled: Vec<Component>,
    /// What the app runs on and does not ship (the system's web view).
    pub system: Vec<Component>,
    /// Every third-party Rust crate in the app.
    pub crates: Vec<Crate>,
}

/// The workspace's own crates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// Their licence (SPDX).
    pub license: String,
    /// Their names.
    pub crates: Vec<String>,
}

/// A component that is not a Rust crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// Its name.
    pub name: String,
    /// Its version, where it is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Its licence.
    pub license: String,
    /// The crate that brings it in, for bundled code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The desktop platforms it is part of (`linux`, `windows`, `macos`).
    pub platforms: Vec<String>,
    /// What it is, in words.
    pub what: String,
}

/// A third-party Rust crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crate {
    /// Its name on crates.io.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its licence expression, as the crate declares it.
    pub license: String,
    /// The desktop platforms whose build contains it.
    pub platforms: Vec<String>,
}

/// The built-in list, read.
pub fn licenses_list() -> Result<Licenses, String> {
    serde_json::from_str(LICENSES_JSON).map_err(|e| format!("the built-in licence list is damaged: {e}"))
}

/// The licences of what the app ships, for the About box.
#[tauri::command]
pub fn licenses() -> Result<Licenses, String> {
    licenses_list()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_list_names_the_app_s_crates_the_codec_and_the_web_views() {
        let list = licenses_list().unwrap();
        assert_eq!(list.project.license, env!("CARGO_PKG_LICENSE"));
        assert!(list.project.crates.iter().any(|c| c == "webphone") && list.project.crates.iter().any(|c| c == env!("CARGO_PKG_NAME")));
        let names: Vec<&str> = list.crates.iter().map(|c| c.name.as_str()).collect();
        for shipped in ["tauri", "tauri-plugin-autostart", "opusic-sys", "rustls", "tokio"] {
            assert!(names.contains(&shipped), "{shipped} is in the app");
        }
        for not_shipped in ["tauri-build", "softphone", "media"] {
            assert!(!names.contains(&not_shipped), "{not_shipped} is a build tool or our own crate, not a third-party crate of the app");
        }
        assert!(list.crates.iter().all(|c| !c.license.is_empty() && !c.platforms.is_empty()));
        let opus = list.bundled.iter().find(|c| c.name == "libopus").expect("libopus is listed");
        assert!(opus.license == "BSD-3-Clause" && opus.version.is_some() && opus.via.as_deref().is_some_and(|v| v.starts_with("opusic-sys ")));
        let system: Vec<&str> = list.system.iter().map(|c| c.name.as_str()).collect();
        assert!(system.contains(&"WebKitGTK") && system.iter().any(|s| s.contains("WebView2")), "{system:?}");
    }

    /// `scripts/licenses --check`: the committed list is what Cargo.lock gives (it needs the
    /// crates in Cargo's cache, as the build does, and python3). Windows test runs (Wine) have
    /// neither the script's Python nor this checkout's cargo: the Linux run checks it.
    #[test]
    #[cfg_attr(windows, ignore = "run by the Linux test run")]
    fn the_committed_licence_list_matches_cargo_lock() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_owned();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = std::process::Command::new("python3")
            .arg(root.join("scripts/licenses"))
            .arg("--check")
            .env("CARGO", cargo)
            .current_dir(&root)
            .output()
            .expect("python3 runs scripts/licenses");
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{said}");
    }
}
