//! The sipInfo JSON a client needs, as RingCentral's sip-provision returns it.

use serde::{Deserialize, Serialize};

/// One element of sip-provision's `sipInfo` array.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SipInfo {
    /// Phone number, the SIP user.
    pub username: String,
    /// SIP password.
    pub password: String,
    /// Digest user name.
    pub authorization_id: String,
    /// SIP domain.
    pub domain: String,
    /// `host:port` of the WebSocket proxy.
    pub outbound_proxy: String,
    /// `host:port` of the backup proxy.
    #[serde(default)]
    pub outbound_proxy_backup: String,
    /// Always `WSS`.
    #[serde(default = "wss")]
    pub transport: String,
    /// STUN servers (`host:port`); none on loopback.
    #[serde(default)]
    pub stun_servers: Vec<String>,
    /// Seconds before switching back from the backup proxy.
    #[serde(default)]
    pub switch_back_interval: u32,
}

fn wss() -> String {
    "WSS".into()
}

impl std::fmt::Debug for SipInfo {
    /// Everything but the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipInfo")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("authorization_id", &self.authorization_id)
            .field("domain", &self.domain)
            .field("outbound_proxy", &self.outbound_proxy)
            .field("outbound_proxy_backup", &self.outbound_proxy_backup)
            .field("transport", &self.transport)
            .field("stun_servers", &self.stun_servers)
            .field("switch_back_interval", &self.switch_back_interval)
            .finish()
    }
}

/// What is wrong with a sipInfo.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipInfoError {
    /// The text is not JSON of the expected shape.
    #[error("sipInfo is not valid JSON: {0}")]
    Json(String),
    /// A required field is empty.
    #[error("sipInfo field `{0}` is missing or empty")]
    Missing(&'static str),
    /// A field has a value we cannot use.
    #[error("sipInfo field `{field}` is invalid: {why}")]
    Invalid {
        /// The JSON field name.
        field: &'static str,
        /// What is wrong.
        why: String,
    },
}

/// The fields a client must have, by their JSON names.
const REQUIRED: [&str; 5] = ["username", "password", "authorizationId", "domain", "outboundProxy"];

impl SipInfo {
    /// Reads a sipInfo from JSON: the object itself, or a whole sip-provision answer
    /// (`{"sipInfo":[{…}], …}`, the first element is used); then [`validate`](Self::validate)s it.
    pub fn from_json(text: &str) -> Result<SipInfo, SipInfoError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| SipInfoError::Json(e.to_string()))?;
        let object = match value.get("sipInfo") {
            Some(serde_json::Value::Array(items)) => items.first().cloned().ok_or(SipInfoError::Missing("sipInfo[0]"))?,
            _ => value,
        };
        if !object.is_object() {
            return Err(SipInfoError::Json("expected an object".into()));
        }
        for field in REQUIRED {
            if object.get(field).and_then(|v| v.as_str()).is_none_or(str::is_empty) {
                return Err(SipInfoError::Missing(field));
            }
        }
        let info: SipInfo = serde_json::from_value(object).map_err(|e| SipInfoError::Json(e.to_string()))?;
        info.validate()?;
        Ok(info)
    }

    /// Checks every field a client uses: non-empty credentials, `host:port` proxies, WSS.
    pub fn validate(&self) -> Result<(), SipInfoError> {
        let required = [&self.username, &self.password, &self.authorization_id, &self.domain, &self.outbound_proxy];
        for (field, value) in REQUIRED.iter().zip(required) {
            if value.trim().is_empty() {
                return Err(SipInfoError::Missing(field));
            }
        }
        check_host_port("outboundProxy", &self.outbound_proxy)?;
        if !self.outbound_proxy_backup.is_empty() {
            check_host_port("outboundProxyBackup", &self.outbound_proxy_backup)?;
        }
        for stun in &self.stun_servers {
            check_host_port("stunServers", stun)?;
        }
        if !self.transport.eq_ignore_ascii_case("WSS") {
            return Err(SipInfoError::Invalid { field: "transport", why: format!("\"{}\", only WSS is supported", self.transport) });
        }
        if self.domain.contains(|c: char| c.is_whitespace() || c == '@' || c == ':') {
            return Err(SipInfoError::Invalid { field: "domain", why: format!("\"{}\" is not a host name", self.domain) });
        }
        Ok(())
    }

    /// The secure WebSocket URL of the primary (`backup == false`) or backup proxy.
    pub fn proxy_url(&self, backup: bool) -> Option<String> {
        let proxy = if backup { &self.outbound_proxy_backup } else { &self.outbound_proxy };
        (!proxy.is_empty()).then(|| format!("wss://{proxy}"))
    }
}

fn check_host_port(field: &'static str, value: &str) -> Result<(), SipInfoError> {
    let invalid = |why: &str| SipInfoError::Invalid { field, why: format!("\"{value}\" {why}") };
    let (host, port) = value.rsplit_once(':').ok_or_else(|| invalid("is not host:port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
        return Err(invalid("has no valid host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(invalid("has no valid port")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"username":"16502223333","password":"pw","authorizationId":"802","domain":"sip.ringcentral.com",
        "outboundProxy":"sip10.ringcentral.com:8083","outboundProxyBackup":"sip71.ringcentral.com:8083",
        "transport":"WSS","stunServers":["stun1.ringcentral.com:19302"],"certificate":"x","switchBackInterval":2400}"#;

    #[test]
    fn reads_object_and_provision_answer() {
        let a = SipInfo::from_json(GOOD).unwrap();
        assert_eq!(a.authorization_id, "802");
        assert_eq!(a.proxy_url(true).as_deref(), Some("wss://sip71.ringcentral.com:8083"));
        let b = SipInfo::from_json(&format!(r#"{{"sipInfo":[{GOOD}],"sipFlags":{{}}}}"#)).unwrap();
        assert_eq!(a, b);
        assert!(!format!("{a:?}").contains("\"pw\""));
    }

    #[test]
    fn names_what_is_wrong() {
        let without = |field: &str| {
            let mut v: serde_json::Value = serde_json::from_str(GOOD).unwrap();
            v.as_object_mut().unwrap().remove(field);
            SipInfo::from_json(&v.to_string()).unwrap_err()
        };
        assert_eq!(without("password"), SipInfoError::Missing("password"));
        assert_eq!(without("outboundProxy"), SipInfoError::Missing("outboundProxy"));
        let bad = GOOD.replace("sip10.ringcentral.com:8083", "sip10.ringcentral.com");
        assert!(matches!(SipInfo::from_json(&bad), Err(SipInfoError::Invalid { field: "outboundProxy", .. })));
        let bad = GOOD.replace("\"WSS\"", "\"UDP\"");
        assert!(matches!(SipInfo::from_json(&bad), Err(SipInfoError::Invalid { field: "transport", .. })));
        assert!(matches!(SipInfo::from_json("{"), Err(SipInfoError::Json(_))));
        assert!(matches!(SipInfo::from_json("[1]"), Err(SipInfoError::Json(_))));
        assert_eq!(SipInfo::from_json(r#"{"sipInfo":[]}"#), Err(SipInfoError::Missing("sipInfo[0]")));
    }
}
