//! The app's settings as JSON under the platform's config directory. The account's sipInfo is
//! kept without its password (that goes to the keychain, see `secrets`).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use webphone::SipInfo;

/// Everything the user set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// The account, password removed; `None` runs the demo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<SipInfo>,
    /// The `+sip.instance` id to register with: made for this installation at its first start
    /// ([`Settings::load_at_start`]); `None` (a damaged or unwritable settings file) falls back
    /// to the authorizationId.
    pub instance_id: Option<String>,
    /// Answer calls the server marks for auto-answer (`Alert-Info: Auto Answer`, e.g. an
    /// intercom or a supervisor's call). Off by default: it opens the microphone with no
    /// click. When on, only one call at a time, never while another call is going, and the
    /// window says so.
    pub auto_answer: bool,
    /// Keep a log of every SIP message (secrets redacted) and print them.
    pub debug: bool,
    /// Microphone by name; `None` follows the system default.
    pub input_device: Option<String>,
    /// Speaker by name; `None` follows the system default.
    pub output_device: Option<String>,
    /// Where the ringtone plays; `None` follows the system default output.
    pub ring_device: Option<String>,
    /// Which ringtone.
    pub ringtone: crate::ringer::Ringtone,
    /// Ringtone volume, 0..=100.
    pub ring_volume: u8,
    /// Numbers the user may present as caller ID (issue 9 fills them from the account).
    pub caller_ids: Vec<String>,
    /// The caller ID calls are made with; `None` is the account's own number.
    pub caller_id: Option<String>,
    /// Echo cancellation, noise suppression and gain control of the microphone.
    pub processing: webphone::ProcessingSettings,
    /// Send nothing in silences (Opus DTX): less upload, for slow or metered links.
    pub dtx: bool,
    /// The RingCentral sign-in in force (its tokens are in the keychain), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_in: Option<crate::signin::SignedIn>,
    /// The user has answered the first-run welcome ("Sign in with RingCentral" or "Try the
    /// demo"), or had an account before there was one: it is not shown again. A settings file
    /// from before this field reads `false` ([`Settings::load_at_start`] sets it for a user
    /// with an account).
    pub welcomed: bool,
    /// Closing the window hides it and the phone keeps running in the tray (on by default: a
    /// phone has to be there to ring). Off, or with no tray icon, closing quits.
    pub close_to_tray: bool,
}

/// The ring volume when nothing is saved.
pub const DEFAULT_RING_VOLUME: u8 = 80;

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            account: None,
            instance_id: None,
            auto_answer: false,
            debug: false,
            input_device: None,
            output_device: None,
            ring_device: None,
            ringtone: crate::ringer::Ringtone::default(),
            ring_volume: DEFAULT_RING_VOLUME,
            caller_ids: Vec::new(),
            caller_id: None,
            signed_in: None,
            processing: webphone::ProcessingSettings::default(),
            dtx: false,
            welcomed: false,
            close_to_tray: true,
        }
    }
}

impl Settings {
    /// The settings file in `dir`.
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join("settings.json")
    }

    /// Reads `path`; a missing file gives the defaults. A damaged file is moved aside whole
    /// (`settings.json.damaged-…`, see [`crate::files::keep_aside`]) and the error says where:
    /// the next load gives the defaults, and the user's old settings are never overwritten.
    pub fn load(path: &Path) -> Result<Settings, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| damaged(path, &e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(format!("settings {} could not be read: {e}", path.display())),
        }
    }

    /// Writes `path` atomically, readable by the user only ([`crate::files::write_private`]),
    /// never with a password in it.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let mut clean = self.clone();
        if let Some(a) = clean.account.as_mut() {
            a.password.clear();
        }
        let text = serde_json::to_string_pretty(&clean).expect("settings serialise");
        crate::files::write_private(path, text.as_bytes()).map_err(|e| format!("settings {} could not be written: {e}", path.display()))
    }
}

/// The error for a damaged settings file, which is moved aside first.
fn damaged(path: &Path, why: &str) -> String {
    match crate::files::keep_aside(path) {
        Ok(aside) => format!("the settings file was damaged ({why}): it is kept as {} and the defaults are used", aside.display()),
        Err(e) => format!("settings {} are damaged ({why}) and could not be moved aside ({e}); they are left as they are", path.display()),
    }
}

impl Settings {
    /// The settings in `path` for the app's start ([`Settings::load`]'s, or the defaults when
    /// the file is damaged), brought up to date and saved when that changed them:
    /// - at the first start, with no instance ID yet, one is made for this installation:
    ///   installations of one account that all registered with its authorizationId took each
    ///   other's registration (`403 Forbidden, instance id is intercepted by another
    ///   registration`, ringcentral-web-phone #71). When it cannot be saved, none is used, so
    ///   the phone does not register as a new device at every start;
    /// - a file with an account from before the first-run welcome counts as welcomed: that user
    ///   is past their first run, and must not meet the welcome after a later sign-out.
    pub fn load_at_start(path: &Path) -> (Settings, Option<String>) {
        let (loaded, note) = match Settings::load(path) {
            Ok(s) => (s, None),
            Err(e) => (Settings::default(), Some(e)),
        };
        if note.is_some() {
            return (loaded, note);
        }
        let own = Settings {
            instance_id: Some(loaded.instance_id.clone().unwrap_or_else(new_instance_id)),
            welcomed: loaded.welcomed || loaded.account.is_some(),
            ..loaded.clone()
        };
        if own == loaded {
            return (loaded, None);
        }
        match own.save(path) {
            Ok(()) => (own, None),
            Err(e) => (Settings { welcomed: own.welcomed, ..loaded }, Some(e)),
        }
    }

    /// Whether the first-run welcome is due: never answered, and no account (a saved one, or
    /// one given by `SOFTPHONE_SIPINFO`, which `from_env` says).
    pub fn welcome_due(&self, account_from_env: bool) -> bool {
        !self.welcomed && self.account.is_none() && !account_from_env
    }
}

/// A new random instance ID (a version 4 UUID, as `+sip.instance` takes it).
pub fn new_instance_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Where settings live: `SOFTPHONE_CONFIG_DIR`, else the platform's config directory.
pub fn config_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SOFTPHONE_CONFIG_DIR") {
        return dir.into();
    }
    directories::ProjectDirs::from("org", "rcsoftphone", "RC Softphone")
        .map(|d| d.config_dir().to_owned())
        .unwrap_or_else(|| std::env::temp_dir().join("rc-softphone-config"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_settings_never_hold_the_password_and_load_back() {
        let dir = std::env::temp_dir().join(format!("softphone-settings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = Settings::path_in(&dir);
        assert!(!Settings::load(&path).unwrap().auto_answer, "defaults when nothing is saved: no auto-answer");
        let info = SipInfo::from_json(r#"{"username":"1650","password":"hunter2","authorizationId":"802","domain":"sip.ringcentral.com","outboundProxy":"sip.example:8083"}"#).unwrap();
        let s = Settings { account: Some(info), instance_id: Some("abc".into()), auto_answer: true, debug: true, ring_volume: 30, caller_ids: vec!["+16505550100".into()], dtx: true, ..Settings::default() };
        s.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        let back = Settings::load(&path).unwrap();
        assert_eq!(back.account.unwrap().authorization_id, "802");
        assert_eq!((back.instance_id.as_deref(), back.auto_answer, back.debug), (Some("abc"), true, true));
        assert_eq!((back.ring_volume, back.caller_ids.as_slice(), back.dtx), (30, ["+16505550100".to_owned()].as_slice(), true));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "only the user reads the settings");
        }
        std::fs::write(&path, r#"{"debug":true}"#).unwrap();
        let older = Settings::load(&path).unwrap();
        assert!(older.debug && !older.auto_answer && older.ring_volume == DEFAULT_RING_VOLUME && !older.dtx, "fields an older file lacks take their defaults: {older:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_damaged_settings_file_is_kept_aside_and_never_overwritten() {
        let dir = std::env::temp_dir().join(format!("softphone-settings-damaged-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = Settings::path_in(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, "{ broken").unwrap();
        let (settings, note) = Settings::load_at_start(&path);
        let note = note.expect("the user is told");
        assert!(note.contains("damaged") && note.contains("kept as"), "{note}");
        assert_eq!((settings.instance_id, settings.auto_answer), (None, false), "the defaults, and no new instance ID over a damaged file");
        let aside: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.to_string_lossy().contains(".damaged-")).collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert_eq!(std::fs::read_to_string(&aside[0]).unwrap(), "{ broken", "the old settings are all there");
        // The next save writes fresh settings beside the one kept aside.
        Settings { debug: true, ..Settings::default() }.save(&path).unwrap();
        assert!(Settings::load(&path).unwrap().debug && aside[0].exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn files_from_before_the_welcome_and_close_to_tray_load_with_the_right_defaults() {
        let dir = std::env::temp_dir().join(format!("softphone-settings-welcome-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = Settings::path_in(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // A demo user's file from the version before: no flag, no account.
        std::fs::write(&path, r#"{"instanceId":"desk-1","debug":true,"ringVolume":40}"#).unwrap();
        let old = Settings::load(&path).unwrap();
        assert!(!old.welcomed && old.close_to_tray, "no flag: not welcomed yet, and closing goes to the tray: {old:?}");
        assert_eq!((old.instance_id.as_deref(), old.debug, old.ring_volume), (Some("desk-1"), true, 40), "the rest is kept");
        let (started, note) = Settings::load_at_start(&path);
        assert_eq!((started.welcomed, note), (false, None), "a demo user who never answered the welcome meets it once");
        assert!(started.welcome_due(false) && !started.welcome_due(true), "…unless SOFTPHONE_SIPINFO gives an account");
        assert_eq!(Settings::load(&path).unwrap(), old, "nothing to bring up to date: the file is left as it was");

        // A user with an account from the version before has been welcomed long ago.
        std::fs::write(&path, r#"{"instanceId":"desk-1","account":{"username":"1650","password":"","authorizationId":"802","domain":"sip.ringcentral.com","outboundProxy":"sip.example:8083"}}"#).unwrap();
        let (with_account, note) = Settings::load_at_start(&path);
        assert!(note.is_none() && with_account.welcomed && !with_account.welcome_due(false), "{with_account:?}");
        let saved = Settings::load(&path).unwrap();
        assert!(saved.welcomed && saved.account.is_some(), "saved, so a later sign-out does not bring the welcome: {saved:?}");

        // Both flags round-trip, and a user's "off" stays off.
        Settings { welcomed: true, close_to_tray: false, ..Settings::default() }.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#""welcomed": true"#) && text.contains(r#""closeToTray": false"#), "{text}");
        let back = Settings::load(&path).unwrap();
        assert!(back.welcomed && !back.close_to_tray && !back.welcome_due(false));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_first_start_makes_and_keeps_an_instance_id_of_its_own() {
        let dir = std::env::temp_dir().join(format!("softphone-instance-{}", std::process::id()));
        let path = Settings::path_in(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        let first = Settings::load_at_start(&path).0.instance_id.expect("one is made at the first start");
        assert!(uuid::Uuid::parse_str(&first).is_ok_and(|u| u.get_version_num() == 4), "a UUID: {first}");
        assert_eq!(Settings::load(&path).unwrap().instance_id.as_deref(), Some(first.as_str()), "saved");
        assert_eq!(Settings::load_at_start(&path).0.instance_id, Some(first.clone()), "the same at every start");
        std::fs::write(&path, r#"{"debug":true}"#).unwrap();
        let (other, _) = Settings::load_at_start(&path);
        assert!(other.debug && other.instance_id.is_some_and(|id| id != first), "another installation gets another one, its settings kept");
        std::fs::write(&path, r#"{"instanceId":"desk-1"}"#).unwrap();
        assert_eq!(Settings::load_at_start(&path).0.instance_id.as_deref(), Some("desk-1"), "one set by the user stays");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
