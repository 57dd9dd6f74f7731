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
    /// The password the REST sign-in page (`/restapi/oauth/authorize`) takes for this
    /// extension; without one it cannot sign in there.
    #[serde(default)]
    pub login_password: Option<String>,
    /// The JWT credential the `jwt-bearer` grant takes for this extension (an opaque string to
    /// rc-sim; RingCentral's look like `eyJ…`); without one it has no JWT sign-in.
    #[serde(default)]
    pub jwt: Option<String>,
    /// The numbers `GET …/extension/~/phone-number` lists. Empty: one `DirectNumber` with
    /// `CallerId` per entry of `callerIds`.
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumber>,
}

/// One phone number of an extension, as the REST API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumber {
    /// E.164, e.g. `+16505550100`.
    pub phone_number: String,
    /// `DirectNumber`, `CompanyNumber`, `MainCompanyNumber`, `CompanyFaxNumber`, …
    #[serde(default = "default_usage_type")]
    pub usage_type: String,
    /// `CallerId`, `SmsSender`, `FaxSender`, …: the number may be shown as caller ID only when
    /// this holds `CallerId`.
    #[serde(default)]
    pub features: Vec<String>,
    /// `VoiceFax` (default), `VoiceOnly` or `FaxOnly`.
    #[serde(default = "default_number_type", rename = "type")]
    pub kind: String,
}

fn default_usage_type() -> String {
    "DirectNumber".into()
}

fn default_number_type() -> String {
    "VoiceFax".into()
}

impl PhoneNumber {
    /// True when the number may be presented as caller ID.
    pub fn is_caller_id(&self) -> bool {
        self.features.iter().any(|f| f == "CallerId")
    }
}

impl Extension {
    /// The numbers the REST API lists for this extension (see [`Extension::phone_numbers`]).
    pub fn listed_numbers(&self) -> Vec<PhoneNumber> {
        if !self.phone_numbers.is_empty() {
            return self.phone_numbers.clone();
        }
        self.caller_ids
            .iter()
            .map(|n| PhoneNumber { phone_number: format!("+{}", n.trim_start_matches('+')), usage_type: default_usage_type(), features: vec!["CallerId".into()], kind: default_number_type() })
            .collect()
    }

    /// True when this extension may present `number` (with or without `+`) as its caller ID:
    /// one of `callerIds`, or a listed number with the `CallerId` feature.
    pub fn may_present(&self, number: &str) -> bool {
        let n = number.trim_start_matches('+');
        self.caller_ids.iter().any(|c| c.trim_start_matches('+') == n)
            || self.phone_numbers.iter().any(|p| p.is_caller_id() && p.phone_number.trim_start_matches('+') == n)
    }
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
    /// Distinct `+sip.instance`s one extension may have registered at a time; one more is
    /// refused `603 Too Many Contacts`, as RingCentral does (5 WebRTC devices per extension).
    #[serde(default = "default_max_instances")]
    pub max_instances_per_extension: usize,
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
    /// The REST API's OAuth apps and token lifetimes.
    #[serde(default)]
    pub oauth: OAuthSettings,
}

/// One OAuth app (client) the REST API knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthApp {
    /// The app's client id.
    pub client_id: String,
    /// Its client secret, sent with HTTP Basic; none for a public (PKCE) client, which sends
    /// `client_id` in the form and must use PKCE (S256) with the authorization code grant.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The redirect URIs the authorization code grant may send the browser back to: exact
    /// URIs, or with `*` as the port (`http://127.0.0.1:*` takes any loopback port and any path,
    /// `http://127.0.0.1:*/callback` only that path), as RFC 8252 wants for native apps.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
}

impl OAuthApp {
    /// True when `uri` is one of this app's redirect URIs.
    pub fn allows_redirect(&self, uri: &str) -> bool {
        !uri.contains('#') && self.redirect_uris.iter().any(|p| redirect_matches(p, uri))
    }
}

/// `pattern` is a redirect URI, or one with `*` as its port (any 1 to 5 digits there).
fn redirect_matches(pattern: &str, uri: &str) -> bool {
    let Some((head, tail)) = pattern.split_once('*') else { return pattern == uri };
    let Some(rest) = uri.strip_prefix(head) else { return false };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &rest[digits..];
    if !(1..=5).contains(&digits) || !rest.starts_with(tail) {
        return false;
    }
    // After the pattern: nothing, a path, or a query (no `@host` or other authority tricks).
    let after = &rest[tail.len()..];
    after.is_empty() || after.starts_with(['/', '?'])
}

/// The REST API's apps and token lifetimes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthSettings {
    /// The apps (default: [`OAuthSettings::demo_apps`]).
    #[serde(default = "OAuthSettings::demo_apps")]
    pub apps: Vec<OAuthApp>,
    /// Seconds an access token lives (default 3600).
    #[serde(default = "default_access_lifetime")]
    pub access_token_lifetime_secs: u64,
    /// Seconds a refresh token lives (default 604800, 7 days).
    #[serde(default = "default_refresh_lifetime")]
    pub refresh_token_lifetime_secs: u64,
}

fn default_access_lifetime() -> u64 {
    3600
}

fn default_refresh_lifetime() -> u64 {
    7 * 24 * 3600
}

impl Default for OAuthSettings {
    fn default() -> Self {
        OAuthSettings { apps: Self::demo_apps(), access_token_lifetime_secs: default_access_lifetime(), refresh_token_lifetime_secs: default_refresh_lifetime() }
    }
}

impl OAuthSettings {
    /// The public client id of the demo app (PKCE, loopback redirects).
    pub const DEMO_PUBLIC_CLIENT: &'static str = "rc-sim-desktop-app";
    /// The confidential demo app (client secret [`OAuthSettings::DEMO_SECRET`], JWT grant).
    pub const DEMO_CONFIDENTIAL_CLIENT: &'static str = "rc-sim-server-app";
    /// The confidential demo app's client secret.
    pub const DEMO_SECRET: &'static str = "rc-sim-server-app-secret";

    /// A public desktop app (PKCE, any loopback port) and a confidential one with a secret.
    pub fn demo_apps() -> Vec<OAuthApp> {
        let loopback = vec!["http://127.0.0.1:*".to_string(), "http://localhost:*".to_string(), "http://[::1]:*".to_string()];
        vec![
            OAuthApp { client_id: Self::DEMO_PUBLIC_CLIENT.into(), client_secret: None, redirect_uris: loopback.clone() },
            OAuthApp { client_id: Self::DEMO_CONFIDENTIAL_CLIENT.into(), client_secret: Some(Self::DEMO_SECRET.into()), redirect_uris: loopback },
        ]
    }

    /// The app with this client id.
    pub fn app(&self, client_id: &str) -> Option<&OAuthApp> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }
}

/// The demo JWT credential of extension `short`: JWT-shaped (`header.payload.signature`,
/// base64url), opaque to rc-sim, which only compares it.
pub fn demo_jwt(short: &str) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let header = b64(r#"{"alg":"HS256","typ":"JWT","kid":"rc-sim"}"#);
    let payload = b64(&format!(r#"{{"aud":"https://platform.ringcentral.com/restapi/oauth/token","sub":"{short}","iss":"rc-sim"}}"#));
    let signature = b64(&format!("rc-sim demo signature of extension {short}"));
    format!("{header}.{payload}.{signature}")
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
        // Bots are not microphones: their audio goes out as it is made (no echo cancellation,
        // noise suppression or gain control).
        let processing = media::processing::ProcessingSettings::OFF;
        media::PeerConfig { bind: vec!["0.0.0.0:0".into()], codecs, style, impairment, processing, ..media::PeerConfig::default() }
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

fn default_max_instances() -> usize {
    5
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

    /// Two demo extensions, 101 and 102, with fixed passwords: SIP `demo-101-password`, sign-in
    /// page `demo-101-login`, JWT [`demo_jwt`]`("101")`; each lists its direct number and the
    /// company number +16505550100 (both caller IDs) and a fax-only number (+1650555019x).
    pub fn demo() -> Config {
        let ext = |number: &str, auth: &str, name: &str, short: &str| Extension {
            number: number.into(),
            authorization_id: auth.into(),
            password: format!("demo-{short}-password"),
            name: name.into(),
            short_number: Some(short.into()),
            caller_ids: vec![format!("+{number}")],
            devices: Vec::new(),
            login_password: Some(format!("demo-{short}-login")),
            jwt: Some(demo_jwt(short)),
            phone_numbers: Config::demo_numbers(number, short),
        };
        Config {
            domain: default_domain(),
            extensions: vec![
                ext("16505550101", "800000000101", "Demo User 101", "101"),
                ext("16505550102", "800000000102", "Demo User 102", "102"),
            ],
            nonce_lifetime_secs: default_nonce_lifetime(),
            max_expires_secs: default_max_expires(),
            max_instances_per_extension: default_max_instances(),
            ring_timeout_secs: default_ring_timeout(),
            reconnect_grace_secs: default_reconnect_grace(),
            media: MediaSettings::default(),
            oauth: OAuthSettings::default(),
        }
    }

    /// The company's main number in the demo.
    pub const DEMO_COMPANY_NUMBER: &'static str = "+16505550100";

    /// The demo's numbers of extension `number` (short number `short`): its direct number and
    /// the company number, both caller IDs, and a fax-only number `+1650555019{last digit}`.
    pub fn demo_numbers(number: &str, short: &str) -> Vec<PhoneNumber> {
        let voice = |n: String, usage: &str| PhoneNumber { phone_number: n, usage_type: usage.into(), features: vec!["CallerId".into(), "SmsSender".into()], kind: "VoiceFax".into() };
        let last = short.chars().last().unwrap_or('0');
        vec![
            voice(format!("+{number}"), "DirectNumber"),
            voice(Self::DEMO_COMPANY_NUMBER.into(), "CompanyNumber"),
            PhoneNumber { phone_number: format!("+1650555019{last}"), usage_type: "DirectNumber".into(), features: Vec::new(), kind: "FaxOnly".into() },
        ]
    }

    /// The extension id the REST API gives extension number `index` (`owner_id`), RingCentral
    /// style.
    pub fn extension_id(&self, index: usize) -> String {
        format!("{}", 62_000_000_000u64 + 1000 + index as u64)
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
        self.validate_rest()
    }

    /// The REST side: apps, lifetimes, JWT credentials and phone numbers.
    fn validate_rest(&self) -> Result<(), ConfigError> {
        let o = &self.oauth;
        let mut ids = std::collections::HashSet::new();
        for app in &o.apps {
            if app.client_id.is_empty() || !ids.insert(app.client_id.as_str()) {
                return Err(ConfigError::Invalid(format!("oauth app client id {:?} is empty or used twice", app.client_id)));
            }
            if let Some(bad) = app.redirect_uris.iter().find(|u| u.matches('*').count() > 1 || u.is_empty()) {
                return Err(ConfigError::Invalid(format!("oauth app {}: redirect URI {bad:?} (use one `*`, as the port)", app.client_id)));
            }
        }
        if o.access_token_lifetime_secs == 0 || o.refresh_token_lifetime_secs == 0 {
            return Err(ConfigError::Invalid("oauth token lifetimes must be at least 1 s".into()));
        }
        let mut jwts = std::collections::HashSet::new();
        for e in &self.extensions {
            if let Some(jwt) = &e.jwt {
                if jwt.is_empty() || !jwts.insert(jwt.as_str()) {
                    return Err(ConfigError::Invalid(format!("extension {}: its jwt is empty or another extension's", e.number)));
                }
            }
            if let Some(p) = e.phone_numbers.iter().find(|p| !p.phone_number.starts_with('+') || p.phone_number.len() < 2) {
                return Err(ConfigError::Invalid(format!("extension {}: phone number {:?} is not E.164 (+…)", e.number, p.phone_number)));
            }
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
    fn demo_has_rest_accounts_and_old_files_still_load() {
        let c = Config::demo();
        let e = &c.extensions[0];
        assert_eq!(e.login_password.as_deref(), Some("demo-101-login"));
        assert!(e.jwt.as_ref().unwrap().starts_with("eyJ") && e.jwt != c.extensions[1].jwt);
        let caller_ids: Vec<_> = e.listed_numbers().into_iter().filter(PhoneNumber::is_caller_id).map(|p| p.phone_number).collect();
        assert_eq!(caller_ids, ["+16505550101", "+16505550100"]);
        assert!(e.may_present("16505550100") && !e.may_present("+16505550191"));
        // A file from before issue 9: no oauth, no numbers; the demo apps and callerIds serve.
        let old: Config = serde_json::from_str(r#"{"extensions":[{"number":"1650","authorizationId":"8","password":"p","callerIds":["+1650"]}]}"#).unwrap();
        old.validate().unwrap();
        assert_eq!(old.oauth, OAuthSettings::default());
        assert_eq!(old.extensions[0].listed_numbers()[0].phone_number, "+1650");
        assert!(old.extensions[0].login_password.is_none() && old.extensions[0].jwt.is_none());
        let mut dup = Config::demo();
        dup.extensions[1].jwt = dup.extensions[0].jwt.clone();
        assert!(dup.validate().is_err());
    }

    #[test]
    fn loopback_redirects_take_any_port_but_no_other_host() {
        let app = &OAuthSettings::demo_apps()[0];
        for ok in ["http://127.0.0.1:53682", "http://127.0.0.1:1/", "http://127.0.0.1:8080/callback?x=1", "http://localhost:9/cb"] {
            assert!(app.allows_redirect(ok), "{ok}");
        }
        for bad in ["http://127.0.0.1", "http://127.0.0.1:", "http://127.0.0.1:80@evil.example/", "http://127.0.0.1:123456/", "https://127.0.0.1:80/", "http://127.0.0.1.evil:80/", "http://127.0.0.1:80/#frag"] {
            assert!(!app.allows_redirect(bad), "{bad}");
        }
        let exact = OAuthApp { client_id: "x".into(), client_secret: None, redirect_uris: vec!["http://127.0.0.1:*/cb".into(), "myapp://done".into()] };
        assert!(exact.allows_redirect("http://127.0.0.1:5/cb") && exact.allows_redirect("myapp://done"));
        assert!(!exact.allows_redirect("http://127.0.0.1:5/cbx") && !exact.allows_redirect("myapp://done/x"));
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
