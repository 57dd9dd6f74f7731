//! The sipInfo JSON a client needs, as RingCentral's sip-provision returns it.

use crate::config::{Config, Extension};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// One element of sip-provision's `sipInfo` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    pub outbound_proxy_backup: String,
    /// Always `WSS`.
    pub transport: String,
    /// STUN servers (`host:port`); none on loopback.
    pub stun_servers: Vec<String>,
    /// Seconds before switching back from the backup proxy.
    pub switch_back_interval: u32,
}

impl SipInfo {
    /// The sipInfo of `ext` on a server listening at `primary` and `backup`.
    pub fn new(cfg: &Config, ext: &Extension, primary: SocketAddr, backup: SocketAddr) -> SipInfo {
        SipInfo {
            username: ext.number.clone(),
            password: ext.password.clone(),
            authorization_id: ext.authorization_id.clone(),
            domain: cfg.domain.clone(),
            outbound_proxy: primary.to_string(),
            outbound_proxy_backup: backup.to_string(),
            transport: "WSS".into(),
            stun_servers: Vec::new(),
            switch_back_interval: 120,
        }
    }
}
