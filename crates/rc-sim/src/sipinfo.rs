//! The sipInfo JSON each configured extension gets, pointing at this server.

use crate::config::{Config, Extension};
use rc_dialect::SipInfo;
use std::net::SocketAddr;

/// The sipInfo of `ext` on a server listening at `primary` and `backup`.
pub fn for_extension(cfg: &Config, ext: &Extension, primary: SocketAddr, backup: SocketAddr) -> SipInfo {
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
