//! Accounts and behaviour of the simulated service, from a JSON file or demo defaults.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// One extension (a user's phone line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    /// The phone number, as RingCentral puts it in sipInfo `username` (e.g. `16502223333`).
    pub number: String,
    /// Digest user name (sipInfo `authorizationId`).
    pub authorization_id: String,
    /// SIP password.
    pub password: String,
    /// Name shown to callees.
    #[serde(default)]
    pub name: String,
    /// Short extension number that also reaches this line (e.g. `101`).
    #[serde(default)]
    pub short_number: Option<String>,
    /// Numbers this extension may present as caller ID.
    #[serde(default)]
    pub caller_ids: Vec<String>,
    /// More devices of this line, each with its own SIP credentials (RingCentral gives every
    /// phone and app its own authorizationId; `Cln` in control messages names one of them).
    #[serde(default)]
    pub devices: Vec<Device>,
}

/// The SIP credentials of one more device of an extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// Digest user name of this device.
    pub authorization_id: String,
    /// Its SIP password.
    pub password: String,
}

/// The whole simulated account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// SIP domain (sipInfo `domain`).
    #[serde(default = "default_domain")]
    pub domain: String,
    /// Extensions.
    pub extensions: Vec<Extension>,
    /// Seconds a nonce stays valid.
    #[serde(default = "default_nonce_lifetime")]
    pub nonce_lifetime_secs: u64,
    /// Longest registration granted, in seconds; the 200 grants 13 s less than asked, as
    /// RingCentral does (47 for 60).
    #[serde(default = "default_max_expires")]
    pub max_expires_secs: u32,
    /// Seconds an unanswered inbound call rings before it is given up.
    #[serde(default = "default_ring_timeout")]
    pub ring_timeout_secs: u64,
    /// Seconds the answered calls of a dropped connection are kept for the device to come back
    /// (re-register with the same instance on a new connection); after that they end.
    #[serde(default = "default_reconnect_grace")]
    pub reconnect_grace_secs: u64,
    /// How rc-sim's media (bots and the hub's ports) writes SDP.
    #[serde(default)]
    pub media: MediaSettings,
}

/// The SDP rc-sim's media writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaSettings {
    /// `ringcentral` (default): offers and answers shaped like RingCentral's media servers';
    /// `browser`: as webrtc-rs writes them.
    #[serde(default = "default_style")]
    pub style: String,
    /// RTP clock of the Opus really offered in RingCentral style: 48000 (default) or 16000.
    #[serde(default = "default_opus_clock")]
    pub opus_clock: u32,
    /// Codecs offered and accepted, in order: any of `opus`, `pcmu`, `pcma` (default all).
    #[serde(default = "default_codecs")]
    pub codecs: Vec<String>,
    /// Packets rc-sim's bots and media ports send that are lost, in percent (default 0).
    #[serde(default)]
    pub loss_percent: f64,
    /// Jitter put on what rc-sim's bots and media ports send, in milliseconds as RFC 3550
    /// measures it (default 0; see `media::impair`).
    #[serde(default)]
    pub jitter_ms: u32,
}

fn default_style() -> String {
    "ringcentral".into()
}

fn default_opus_clock() -> u32 {
    48_000
}

fn default_codecs() -> Vec<String> {
    vec!["opus".into(), "pcmu".into(), "pcma".into()]
}

impl Default for MediaSettings {
    fn default() -> Self {
        MediaSettings { style: default_style(), opus_clock: default_opus_clock(), codecs: default_codecs(), loss_percent: 0.0, jitter_ms: 0 }
    }
}

impl MediaSettings {
    /// The settings of a WebRTC peer of rc-sim's (bots and hub ports). They bind every
    /// interface: Chromium offers no loopback candidates, and a socket bound to 127.0.0.1
    /// cannot answer its interface addresses. Nothing leaves the machine either way.
    pub fn peer_config(&self) -> media::PeerConfig {
        use media::codecs::AudioCodec;
        let codecs = self
            .codecs
            .iter()
            .filter_map(|c| match c.to_ascii_lowercase().as_str() {
                "opus" => Some(AudioCodec::Opus),
                "pcmu" => Some(AudioCodec::Pcmu),
                "pcma" => Some(AudioCodec::Pcma),
                _ => None,
            })
            .collect();
        let style = match self.style.as_str() {
            "browser" => media::SdpStyle::Browser,
            _ => media::SdpStyle::RingCentral { opus_clock: self.opus_clock },
        };
        let impairment = media::impair::Impairment { loss_percent: self.loss_percent, jitter_ms: self.jitter_ms };
        media::PeerConfig { bind: vec!["0.0.0.0:0".into()], codecs, style, impairment, ..media::PeerConfig::default() }
    }
}

fn default_domain() -> String {
    "sip.ringcentral.com".into()
}

fn default_nonce_lifetime() -> u64 {
    300
}

fn default_max_expires() -> u32 {
    3600
}

fn default_ring_timeout() -> u64 {
    60
}

fn default_reconnect_grace() -> u64 {
    32
}

/// Why a configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// File path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not valid configuration JSON.
    #[error("{path}: {source}")]
    Parse {
        /// File path.
        path: String,
        /// Cause, with line and column.
        source: serde_json::Error,
    },
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads a JSON configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        let cfg: Config = serde_json::from_str(&text)
            .map_err(|source| ConfigError::Parse { path: path.display().to_string(), source })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Two demo extensions, 101 and 102, with fixed passwords.
    pub fn demo() -> Config {
        let ext = |number: &str, auth: &str, name: &str, short: &str| Extension {
            number: number.into(),
            authorization_id: auth.into(),
            password: format!("demo-{short}-password"),
            name: name.into(),
            short_number: Some(short.into()),
            caller_ids: vec![format!("+{number}")],
            devices: Vec::new(),
        };
        Config {
            domain: default_domain(),
            extensions: vec![
                ext("16505550101", "800000000101", "Demo User 101", "101"),
                ext("16505550102", "800000000102", "Demo User 102", "102"),
            ],
            nonce_lifetime_secs: default_nonce_lifetime(),
            max_expires_secs: default_max_expires(),
            ring_timeout_secs: default_ring_timeout(),
            reconnect_grace_secs: default_reconnect_grace(),
            media: MediaSettings::default(),
        }
    }

    /// Checks that numbers and authorization IDs are unique and non-empty, and that the media
    /// settings name a known style, clock and codecs.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for e in &self.extensions {
            if e.number.is_empty() || e.authorization_id.is_empty() || e.password.is_empty() {
                return Err(ConfigError::Invalid(format!("extension {:?} lacks number, authorizationId or password", e.number)));
            }
            for key in [&e.number, &e.authorization_id].into_iter().chain(e.short_number.as_ref()).chain(e.devices.iter().map(|d| &d.authorization_id)) {
                if !seen.insert(key.clone()) {
                    return Err(ConfigError::Invalid(format!("{key} is used twice")));
                }
            }
        }
        let m = &self.media;
        if !matches!(m.style.as_str(), "ringcentral" | "browser") {
            return Err(ConfigError::Invalid(format!("media style {:?}: use \"ringcentral\" or \"browser\"", m.style)));
        }
        if !matches!(m.opus_clock, 16_000 | 48_000) {
            return Err(ConfigError::Invalid(format!("media opusClock {}: use 48000 or 16000", m.opus_clock)));
        }
        if m.codecs.is_empty() || m.codecs.iter().any(|c| !matches!(c.to_ascii_lowercase().as_str(), "opus" | "pcmu" | "pcma")) {
            return Err(ConfigError::Invalid(format!("media codecs {:?}: use opus, pcmu and pcma", m.codecs)));
        }
        if !(0.0..=100.0).contains(&m.loss_percent) || m.jitter_ms > 1000 {
            return Err(ConfigError::Invalid(format!("media lossPercent {} / jitterMs {}: use 0 to 100 % and at most 1000 ms", m.loss_percent, m.jitter_ms)));
        }
        Ok(())
    }

    /// The extension reached by `number` (full number, with or without `+`, or short number).
    pub fn extension_by_number(&self, number: &str) -> Option<(usize, &Extension)> {
        let n = number.trim_start_matches('+');
        self.extensions
            .iter()
            .enumerate()
            .find(|(_, e)| e.number == n || e.short_number.as_deref() == Some(n))
    }

    /// The extension with this digest user name.
    pub fn extension_by_auth_id(&self, id: &str) -> Option<(usize, &Extension)> {
        self.extensions.iter().enumerate().find(|(_, e)| e.authorization_id == id || e.devices.iter().any(|d| d.authorization_id == id))
    }

    /// The password of the device with authorizationId `id` (an extension's own or one of its
    /// devices').
    pub fn password_of(&self, id: &str) -> Option<&str> {
        self.extensions.iter().find_map(|e| {
            if e.authorization_id == id {
                return Some(e.password.as_str());
            }
            e.devices.iter().find(|d| d.authorization_id == id).map(|d| d.password.as_str())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_valid_and_lookups_work() {
        let c = Config::demo();
        c.validate().unwrap();
        assert_eq!(c.extension_by_number("101").unwrap().0, 0);
        assert_eq!(c.extension_by_number("+16505550102").unwrap().0, 1);
        assert_eq!(c.extension_by_auth_id("800000000102").unwrap().1.number, "16505550102");
        assert!(c.extension_by_number("999").is_none());
    }

    #[test]
    fn duplicates_and_bad_files_are_reported() {
        let mut c = Config::demo();
        c.extensions[1].number = c.extensions[0].number.clone();
        assert!(matches!(c.validate(), Err(ConfigError::Invalid(_))));
        let dir = std::env::temp_dir().join(format!("rc-sim-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.json");
        std::fs::write(&path, "{\"extensions\": [ {\"number\": 1} ]}").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("bad.json") && err.contains("line 1"), "{err}");
        assert!(Config::load(&dir.join("missing.json")).unwrap_err().to_string().contains("cannot read"));
    }
}
